#!/usr/bin/env bash
# Integration test of full snapshots by threshold and of "new allocations that appeared and kept
# growing" (docs/api.md, "Watches"): the real daemon on 127.0.0.1:0 watches vms_stepper, which
# maps and unmaps memory in steps this script drives through a pipe.
#   watch A (snapshot_every_s 3600, thresholds 40 allocations / 100 MiB): besides its first
#     full snapshot it keeps exactly one by threshold after each of "60 new allocations",
#     "160 MiB mapped" and "160 MiB unmapped", marked snapshot_by_threshold, and none for the
#     small steps in between; those full snapshots hold (and no longer hold) the big mapping.
#   watch B (a full snapshot every second): /growth names the mapping that appeared mid-watch
#     and grew 4 MiB a step first among new_allocations (kept growing, the right delta and a
#     rate per minute), and not the 30 small mappings that appeared but never grew.
#   vmscope watch --json (the CLI samples by itself): its report names a second mapping that
#     appears during the run and grows first among new_allocations, and the first one (there
#     from the start, still growing) among allocations, not new, with its rate per minute.
# Prints "N passed, N failed".
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
setup watch-steps curl jq
[ -x "$HELPERS/vms_stepper" ] || { echo "test_watch_steps.sh: no vms_stepper in $HELPERS" >&2; exit 1; }

post() { api POST "$1" -H 'Content-Type: application/json' --data "$2"; }
MIB=1048576

mkfifo "$TMP/cmd"
"$HELPERS/vms_stepper" 110 <"$TMP/cmd" >"$TMP/stepper.out" &
SPID=$!
PIDS+=("$SPID")
exec 3>"$TMP/cmd"
# step COMMAND WORD: send a command, wait for its answer line (starting with WORD); echoes it
step() {
	local n
	n=$(grep -c . "$TMP/stepper.out")
	echo "$1" >&3
	for _ in $(seq 100); do
		[ "$(grep -c . "$TMP/stepper.out")" -gt "$n" ] && break
		sleep 0.05
	done
	tail -n 1 "$TMP/stepper.out" | grep "^$2" || { echo "stepper did not answer $1" >&2; return 1; }
}
# wait_threshold N: until watch A has N samples marked snapshot_by_threshold (5 s)
wait_threshold() { poll "/watches/$A/samples" "[.samples[] | select(.snapshot_by_threshold)] | length >= $1" 50; }

start_on_db "$TMP/db"
ok "daemon starts" test -n "$PORT"
[ -n "$PORT" ] || { cat "$TMP/serve.err"; echo "0 passed, 1 failed"; exit 1; }

post /watches "{\"pid\":$SPID,\"snapshot_on_allocations\":-1}"
ok "negative threshold: 400" err_is 400 bad_json
post /watches "{\"pid\":$SPID,\"interval_ms\":250,\"snapshot_every_s\":3600,\"snapshot_on_allocations\":40,\"snapshot_on_committed\":$((100 * MIB))}"
ok "watch A: 201" is "$code" 201
A=$(jq -r .id "$TMP/b")
ok "watch A: its thresholds are shown" jqt ".watch.sampler.snapshot_on_allocations == 40 and .watch.sampler.snapshot_on_committed == $((100 * MIB))"
post /watches "{\"pid\":$SPID,\"interval_ms\":250,\"snapshot_every_s\":1,\"snapshot_on_allocations\":0,\"snapshot_on_committed\":0}"
ok "watch B: 201" is "$code" 201
B=$(jq -r .id "$TMP/b")
ok "watch A samples" poll "/watches/$A" '.samples >= 4' 50

# ---- full snapshots by threshold ----------------------------------------------------------------
step "many 30" MANY >/dev/null
ok "60 new allocations: a full snapshot by threshold" wait_threshold 1
sleep 5.3 # VMS_WATCH_THRESHOLD_MIN_GAP_MS
BIG=$(step "big 160" BIG | sed 's/.*start=//')
ok "160 MiB mapped: a second one" wait_threshold 2
sleep 5.3
step unbig UNBIG >/dev/null
ok "160 MiB unmapped: a third one" wait_threshold 3

# ---- a new mapping that keeps growing -----------------------------------------------------------
# the range starts 1 s back and the mapping appears 1.5 s later, so that the full snapshot nearest
# the range's start (watch B keeps one a second) is one from before it appeared
T_GROW=$(($(date +%s%3N) - 1000))
sleep 1.5
GROW=$(step "grow 4" GROW | sed 's/.*start=\([^ ]*\).*/\1/')
for _ in 1 2 3 4 5; do
	sleep 1.2
	step "grow 4" GROW >/dev/null
done
sleep 1.5

api GET "/watches/$A/samples"
cp "$TMP/b" "$TMP/a_samples"
ok "watch A: exactly three by threshold (the small steps and idle ticks took none)" \
	jqt '[.samples[] | select(.snapshot_by_threshold)] | length == 3'
ok "watch A: each threshold sample carries its full snapshot" \
	jqt '[.samples[] | select(.snapshot_by_threshold) | .snapshot_id] | all(. != null)'
ok "watch A: the first full snapshot is by schedule, and no others" \
	jqt '(.samples[0].snapshot_id != null and (.samples[0].snapshot_by_threshold | not)) and ([.samples[] | select(.snapshot_id != null)] | length == 4)'
mapfile -t TS < <(jq -r '.samples[] | select(.snapshot_by_threshold) | .snapshot_id' "$TMP/a_samples")
api GET "/snapshots/${TS[0]}"
ok "threshold snapshot 1: the 30 small mappings, no big one" \
	jqt "([.allocations[] | select(.type == \"private_data\" and .size == 65536)] | length >= 30) and ([.allocations[] | select(.start == \"$BIG\")] | length == 0)"
api GET "/snapshots/${TS[1]}"
ok "threshold snapshot 2: the 160 MiB mapping at $BIG" \
	jqt "[.allocations[] | select(.start == \"$BIG\" and .size == $((160 * MIB)))] | length == 1"
api GET "/snapshots/${TS[2]}"
ok "threshold snapshot 3: it is gone" jqt "[.allocations[] | select(.start == \"$BIG\")] | length == 0"
api GET "/watches/$A"
ok "watch A: sampler counts 3 by threshold" jqt '.sampler.threshold_snapshots == 3'

# ---- what grew: the new mapping -----------------------------------------------------------------
api GET "/watches/$B/growth?from=$T_GROW"
cp "$TMP/b" "$TMP/growth"
ok "growth: 200, several full snapshots followed" jqt '.snapshots_compared >= 3'
ok "growth: the new mapping first among new_allocations, kept growing" \
	jqt ".new_allocations[0].start == \"$GROW\" and .new_allocations[0].type == \"private_data\" and .new_allocations[0].seen >= 3 and .new_allocations[0].rises >= 2"
# seen first at 4 MiB or more, 24 MiB at the end: it grew by 12..20 MiB since it appeared
ok "growth: its committed delta since it appeared (12..20 MiB) and a rate per minute" \
	jqt ".new_allocations[0].delta.committed >= $((12 * MIB)) and .new_allocations[0].delta.committed <= $((20 * MIB)) and .new_allocations[0].per_minute.committed > $((60 * MIB)) and .new_allocations[0].appeared_at_ms >= $T_GROW"
ok "growth: the top allocation is the new mapping, new, with its rate per minute" \
	jqt ".allocations[0].start == \"$GROW\" and .allocations[0].new == true and .allocations[0].delta.committed >= $((20 * MIB)) and .allocations[0].per_minute.committed > 0"
api GET "/watches/$B/growth"
ok "growth over the whole watch: the small mappings appeared but never grew, so they are not listed" \
	jqt "(.new_allocations | length) == 1 and .new_allocations[0].start == \"$GROW\""

# ---- the CLI's report ---------------------------------------------------------------------------
# it runs until Ctrl-C (SIGINT), sent once every step is answered: then it prints its report
"$BIN" watch -p "$SPID" -i 250ms -d 60s --json >"$TMP/cli.out" 2>"$TMP/cli.err" &
CPID=$!
PIDS+=("$CPID")
sleep 0.6
GROW2=$(step "grow 2 1" GROW | sed 's/.*start=\([^ ]*\).*/\1/')
for _ in 1 2 3 4; do
	sleep 0.5
	step "grow 2 1" GROW >/dev/null
	step "grow 1" GROW >/dev/null
done
sleep 0.8
kill -INT "$CPID"
wait "$CPID"
ok "CLI watch: exit 0" is "$?" 0
tail -n 1 "$TMP/cli.out" >"$TMP/b"
ok "CLI report: the new, growing mapping first among new_allocations" \
	jqt ".report.new_allocations[0].start == \"$GROW2\" and .report.new_allocations[0].new and .report.new_allocations[0].seen >= 3 and .report.new_allocations[0].delta.committed >= $((4 * MIB)) and .report.new_allocations[0].per_minute.committed > 0"
ok "CLI report: the older growing mapping among allocations, not new, with its rate" \
	jqt "[.report.allocations[] | select(.start == \"$GROW\" and (.new | not) and .delta.committed >= $((3 * MIB)) and .per_minute.committed > 0)] | length == 1"

exec 3>&-
finish
