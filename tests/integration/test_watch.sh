#!/usr/bin/env bash
# Integration test of the timeline (docs/api.md, "Watches"): the real daemon on 127.0.0.1:0 with
# a temporary database watches vms_grower, whose brk heap grows by a known step (512 KiB every
# 100 ms = 5 MiB/s). Checks: the API's validation and token, that the samples show the growth in
# Heap (or Private Data when malloc is not glibc's, e.g. under ASan) at about the known rate,
# that /growth names that type first and the growing allocation first (from two full snapshots,
# through the diff engine), downsampling, stop, a daemon restart (the watch resumes with a gap),
# the process's exit (the watch ends with a note), and purge. Prints "N passed, N failed".
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
setup watch curl jq
[ -x "$HELPERS/vms_grower" ] || { echo "test_watch.sh: no vms_grower in $HELPERS" >&2; exit 1; }

jqf() { jq -e "$@" >/dev/null 2>&1; } # jqf FILTER FILE
post() { api POST "$1" -H 'Content-Type: application/json' --data "$2"; }

start_daemon() {
	start serve --db "$TMP/db"
	DPID=$LAST_PID
	PORT=$LAST_PORT
	BASE=http://127.0.0.1:$PORT/api/v1
	TOKEN=$(tr -d '\n' <"$TMP/db.token")
	[ -n "$PORT" ] || { echo "the daemon did not start:"; cat "$TMP/serve.out" "$TMP/serve.err"; } >&2
}
# wait_for FILTER [tries]: poll GET /watches/$WID until the jq filter holds (0.1 s apart)
wait_for() { poll "/watches/$WID" "$1" "${2:-100}"; }

"$HELPERS/vms_grower" 512 100 120 >"$TMP/grower.out" &
GPID=$!
PIDS+=("$GPID")
for _ in $(seq 100); do grep -q READY "$TMP/grower.out" && break; sleep 0.05; done

start_daemon
ok "daemon starts" test -n "$PORT"
[ -n "$PORT" ] || { cat "$TMP/serve.err"; echo "0 passed, 1 failed"; exit 1; }

# ---- validation and token -----------------------------------------------------------------------
code=$(curl -s -o "$TMP/b" -w '%{http_code}' "$BASE/watches")
ok "no token: 401" is "$code" 401
post /watches '{"interval_ms":1000}'
ok "pid missing: 400" is "$code" 400
post /watches "{\"pid\":$GPID,\"interval_ms\":50}"
ok "interval below 100 ms: 400" is "$code" 400
post /watches "{\"pid\":$GPID,\"interval_ms\":3600001}"
ok "interval above 1 h: 400" is "$code" 400
post /watches '[1]'
ok "not an object: 400" is "$code" 400
post /watches '{"pid":4194303}'
ok "no such process: 404" is "$code" 404
api POST /watches --data "{\"pid\":$GPID}" -H 'Content-Type: text/plain'
ok "not JSON content type: 415" is "$code" 415
api GET /watches/999
ok "unknown watch: 404" is "$code" 404
api GET /watches/abc
ok "bad id: 400" is "$code" 400

# ---- a watch on the growing process -------------------------------------------------------------
# thresholds other than the defaults (and large enough to take no full snapshot of their own):
# stored, they must survive the daemon restart below
post /watches "{\"pid\":$GPID,\"interval_ms\":200,\"snapshot_every_s\":1,\"snapshot_on_allocations\":1000,\"snapshot_on_committed\":1073741824}"
ok "create: 201" is "$code" 201
WID=$(jq -r .id "$TMP/b")
ok "create: the thresholds are the watch's and the sampler's" jqt '.watch.snapshot_on_allocations == 1000 and .watch.snapshot_on_committed == 1073741824 and .watch.sampler.snapshot_on_allocations == 1000 and .watch.sampler.snapshot_on_committed == 1073741824'
ok "create: state running, bound to the start time" jqt ".watch.state == \"running\" and .watch.pid == $GPID and .watch.start_time > 0 and .watch.name == \"vms_grower\""
ok "at least 12 samples arrive" wait_for '.samples >= 12' 100
ok "sampler info: interval kept, no back-off" jqt '.sampler.effective_interval_ms == 200 and .sampler.backing_off == false'
get_ok /watches "list names it" "[.watches[].id] | index($WID) != null"

api GET "/watches/$WID/samples"
ok "samples: 200" is "$code" 200
ok "samples: not downsampled, counters present" jqt '.downsampled == false and (.samples | length) >= 12 and (.samples[0].vm_rss > 0) and (.samples[0].threads >= 1) and (.samples[0].min_flt > 0)'
# the growing type: heap under glibc, private_data when another malloc serves it (ASan)
HEAP_D=$(jq '(.samples[-1].types.heap.committed // 0) - (.samples[0].types.heap.committed // 0)' "$TMP/b")
PRIV_D=$(jq '(.samples[-1].types.private_data.committed // 0) - (.samples[0].types.private_data.committed // 0)' "$TMP/b")
GT=heap
[ "$PRIV_D" -gt "$HEAP_D" ] && GT=private_data
ok "samples: committed of $GT rises monotonically" jqt --arg t "$GT" '[.samples[].types[$t].committed] | . as $c | all(range(1; length); $c[.] >= $c[. - 1]) and ($c[-1] > $c[0])'
# the growth is what the program says it allocated (its GROWN lines), not a rate over time:
# no more than it had allocated by then, and at least a few of its 512 KiB steps
GROWN_KIB=$(sed -n 's/^GROWN total_kib=//p' "$TMP/grower.out" | tail -1)
ok "samples: $GT grew by at most what the program allocated ($GROWN_KIB KiB) and by several steps" jqt --arg t "$GT" --argjson k "$GROWN_KIB" '(.samples[-1].types[$t].committed - .samples[0].types[$t].committed) as $d | $d <= ($k + 1024) * 1024 and $d >= 3 * 524288'
ok "samples: total committed follows" jqt '.samples[-1].total.committed > .samples[0].total.committed'
ok "samples: full snapshots linked (snapshot_every_s 1)" jqt '[.samples[].snapshot_id | select(. != null)] | length >= 2'

get_ok "/watches/$WID/samples?max_points=4" "downsampled to at most 4 points with min/max" '.downsampled == true and (.samples | length) <= 4 and (.samples | length) >= 2 and all(.samples[]; .committed_min <= .committed_max and .samples >= 1)'
api GET "/watches/$WID/samples?max_points=1"
ok "max_points=1: 400" is "$code" 400
api GET "/watches/$WID/samples?from=abc"
ok "bad from: 400" is "$code" 400

api GET "/watches/$WID/growth"
ok "growth: 200" is "$code" 200
ok "growth: the growing type first" jqt --arg t "$GT" '.types[0].type == $t and .types[0].delta.committed > 1048576 and .types[0].per_minute.committed > 0'
ok "growth: two nearest full snapshots" jqt '.snapshots.from.id != .snapshots.to.id and (.snapshots.from.note | startswith("nearest full snapshot: #"))'
ok "growth: the growing allocation first" jqt --arg t "$GT" '.allocations[0].type == $t and .allocations[0].delta.committed > 1048576'
if [ "$GT" = heap ]; then
	ok "growth: it is the brk heap" jqt '.allocations[0].details | test("heap")'
fi
ok "growth: the growing type is leak-like (steady)" jqt '.types[0].leak_like == true and .types[0].growth.kind == "steady" and .types[0].growth.rises >= 5'
ok "growth: no other type is leak-like" jqt '[.types[1:][] | select(.leak_like)] | length == 0'
ok "growth: Free's largest block over the range" jqt '.free_largest.from > 0 and .free_largest.min <= .free_largest.from and .free_largest.min <= .free_largest.to'
FROMSNAP=$(jq -r .snapshots.from.id "$TMP/b")

# ---- live updates: long polling -------------------------------------------------------------
api GET "/watches/$WID/samples"
LAST=$(jq '.samples[-1].t_ms' "$TMP/b")
api GET "/watches/$WID/samples?after=$LAST&wait_s=20"
ok "long poll: answers with only newer samples" jqt --argjson l "$LAST" '(.samples | length) >= 1 and all(.samples[]; .t_ms > $l) and .watch_state == "running" and .live.refused == null'
api GET "/watches/$WID/samples?wait_s=5"
ok "long poll: wait_s without after: 400" is "$code" 400
api GET "/watches/$WID/samples?after=$LAST&wait_s=31"
ok "long poll: wait_s above 30: 400" is "$code" 400
code=$(curl -s -o "$TMP/b" -w '%{http_code}' "$BASE/watches/$WID/samples?after=$LAST&wait_s=20")
ok "long poll without a token: 401 at once" is "$code" 401
get_ok "/snapshots" "watch snapshots stay out of the snapshot list" "[.snapshots[].id] | index($FROMSNAP) == null"
api GET "/snapshots/$FROMSNAP"
ok "a watch snapshot opens like any other" is "$code" 200

# ---- restart: the watch resumes with a gap -------------------------------------------------------
# A second watch stands for one a vmscope before store schema 9 wrote: while the daemon is down
# its thresholds are set NULL, as the migration leaves an older watch (python's sqlite3, test-only
# SQL). Resumed, it says they are not known and samples with the defaults.
post /watches "{\"pid\":$GPID,\"interval_ms\":1000,\"snapshot_every_s\":0,\"snapshot_on_allocations\":7}"
WOLD=$(jq -r .id "$TMP/b")
api GET "/watches/$WID"
BEFORE=$(jq -r .samples "$TMP/b")
kill -TERM "$DPID"
wait "$DPID" 2>/dev/null
python3 -c 'import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE watches SET snapshot_on_allocations = NULL, snapshot_on_committed = NULL WHERE id = ?", (int(sys.argv[2]),))
db.commit()' "$TMP/db" "$WOLD"
sleep 1
start_daemon
ok "daemon restarts" test -n "$PORT"
# The note says "resumed at ..." until a later event replaces it: on a loaded machine (ASan)
# the sampler may back off and come back, and its note then says that instead. The gap mark in
# the samples (below) is what stays.
ok "resumed: running again, the note says so (or a later back-off)" \
	wait_for '.state == "running" and (.note | test("resumed|interval")) and .samples > '"$BEFORE" 50
# A stopping daemon writes the samples it had queued (they are written in groups), so the count
# can pass BEFORE with those alone: wait for the first sample of the new daemon.
poll "/watches/$WID/samples" '[.samples[] | select(.gap_before)] | length >= 1' 100
get_ok "/watches/$WID/samples" "resumed: the first sample after the restart marks a gap" '[.samples[] | select(.gap_before)] | length == 1'
get_ok "/watches/$WID" "resumed: with the thresholds it was created with (stored), not the defaults" '.snapshot_on_allocations == 1000 and .snapshot_on_committed == 1073741824 and .sampler.snapshot_on_allocations == 1000 and .sampler.snapshot_on_committed == 1073741824'
get_ok "/watches/$WOLD" "resumed without stored thresholds: null (not known), the sampler uses the defaults" '.state == "running" and .snapshot_on_allocations == null and .snapshot_on_committed == null and .sampler.snapshot_on_allocations == 64 and .sampler.snapshot_on_committed == 134217728'
api DELETE "/watches/$WOLD"
ok "the second watch stops" is "$code" 200

# ---- stop ---------------------------------------------------------------------------------------
post /watches "{\"pid\":$GPID,\"interval_ms\":100,\"snapshot_every_s\":0}"
W2=$(jq -r .id "$TMP/b")
sleep 0.5
api DELETE "/watches/$W2"
ok "stop: 200, state stopped with a note" jqt '.state == "stopped" and (.note | test("stopped by the user")) and .ended_at_ms > 0'
N2=$(jq -r .samples "$TMP/b")
sleep 0.5
get_ok "/watches/$W2" "stopped: no more samples" ".samples == $N2 and .sampler == null"

# ---- the long-poll cap: a watch that samples once an hour keeps requests waiting --------------
post /watches "{\"pid\":$GPID,\"interval_ms\":3600000,\"snapshot_every_s\":0}"
SAVE=$WID
WID=$(jq -r .id "$TMP/b")
wait_for '.samples == 1' 100
api GET "/watches/$WID/samples"
LAST=$(jq '.samples[-1].t_ms' "$TMP/b")
LP=()
for i in 1 2 3 4 5 6 7 8; do
	curl -s --max-time 60 -o "$TMP/lp$i" -H "Authorization: Bearer $TOKEN" "$BASE/watches/$WID/samples?after=$LAST&wait_s=30" &
	LP+=($!)
done
ok "cap: 8 long polls wait" wait_for '.sampler.long_polls == 8' 100
api GET "/watches/$WID/samples?after=$LAST&wait_s=30"
ok "cap: the 9th is answered at once, refused" jqt '.live.waited == false and (.live.refused | test("too many")) and (.samples | length) == 0'
api GET /health
ok "cap: the daemon still answers" is "$code" 200
api DELETE "/watches/$WID"
for p in "${LP[@]}"; do wait "$p"; done
ok "cap: stopping the watch releases the waiting polls" is "$(cat "$TMP"/lp? | jq -s '[.[] | select(.live.waited == true and .live.refused == null)] | length')" 8
WID=$SAVE

# ---- a one-time jump is not leak-like -------------------------------------------------------------
"$HELPERS/vms_grower" 32768 0 120 >"$TMP/jumper.out" &
JPID=$!
PIDS+=("$JPID")
for _ in $(seq 100); do grep -q READY "$TMP/jumper.out" && break; sleep 0.05; done
post /watches "{\"pid\":$JPID,\"interval_ms\":100,\"snapshot_every_s\":0}"
SAVE=$WID
WID=$(jq -r .id "$TMP/b")
wait_for '.samples >= 5' 100
kill -USR1 "$JPID"
for _ in $(seq 100); do grep -q GROWN "$TMP/jumper.out" && break; sleep 0.05; done
api GET "/watches/$WID"
N=$(jq .samples "$TMP/b")
wait_for ".samples >= $N + 5" 100
api DELETE "/watches/$WID"
api GET "/watches/$WID/growth"
ok "jump: the type that jumped grew by the 32 MiB" jqt --arg t "$GT" '[.types[] | select(.type == $t)][0].delta.committed >= 33554432'
ok "jump: it is a one-time jump, not leak-like" jqt --arg t "$GT" '[.types[] | select(.type == $t)][0] | .growth.kind == "jump" and .leak_like == false'
ok "jump: nothing is leak-like" jqt '[.types[] | select(.leak_like)] | length == 0'
WID=$SAVE

# ---- a watch on a name follows the process across restarts ---------------------------------------
FNAME=tlf$$
FNAME=${FNAME:0:15}
cp "$HELPERS/vms_grower" "$TMP/$FNAME"
"$TMP/$FNAME" 256 100 120 >"$TMP/f1.out" &
F1=$!
PIDS+=("$F1")
for _ in $(seq 100); do grep -q READY "$TMP/f1.out" && break; sleep 0.05; done
post /watches "{\"name\":\"$FNAME\",\"pid\":$F1}"
ok "name and pid together: 400" is "$code" 400
post /watches '{"name":"no-such-process-name-x"}'
ok "no process of that name: 404" is "$code" 404
post /watches "{\"name\":\"$FNAME\",\"interval_ms\":100,\"snapshot_every_s\":1}"
ok "by name: 201, follows, bound to the pid it found" jqt ".watch.follow == true and .watch.pid == $F1 and .watch.name == \"$FNAME\" and .watch.restarts == []"
SAVE=$WID
WID=$(jq -r .id "$TMP/b")
wait_for '.samples >= 3' 100
kill -TERM "$F1"
wait "$F1" 2>/dev/null
ok "by name: the process exits, the watch waits for it" wait_for '.state == "running" and (.note | test("waiting for a new process named"))' 100
"$TMP/$FNAME" 256 100 120 >"$TMP/f2.out" &
F2=$!
PIDS+=("$F2")
ok "by name: it follows the new process and says where" wait_for ".pid == $F2 and (.restarts | length) == 1 and .restarts[0].pid == $F2 and .restarts[0].old_pid == $F1 and .restarts[0].at_ms > 0 and (.note | test(\"followed\"))" 100
api GET "/watches/$WID"
N=$(jq .samples "$TMP/b")
wait_for ".samples >= $N + 3" 100
api GET "/watches/$WID/samples"
ok "by name: one sample marks the restart, after the restart time" jqt '[.samples[] | select(.restart)] | length == 1'
kill -TERM "$DPID"
wait "$DPID" 2>/dev/null
kill -TERM "$F2"
wait "$F2" 2>/dev/null
start_daemon
ok "by name: across a daemon restart while the process is gone, it still waits" wait_for '.state == "running" and (.note | test("waiting for a new process named"))' 100
api DELETE "/watches/$WID"
ok "by name: stop" jqt '.state == "stopped" and (.restarts | length) == 1'
WID=$SAVE

# ---- duration: the watch ends by itself -----------------------------------------------------------
post /watches "{\"pid\":$GPID,\"interval_ms\":200,\"snapshot_every_s\":0,\"duration_s\":1}"
ok "duration: 201 with ends_at" jqt '.watch.ends_at_ms - .watch.created_at_ms == 1000'
SAVE=$WID
WID=$(jq -r .id "$TMP/b")
ok "duration: state done with a note" wait_for '.state == "done" and (.note | test("duration ran out")) and .samples >= 3 and .samples <= 8' 50
WID=$SAVE

# ---- the CLI, without the daemon ----------------------------------------------------------------
"$BIN" watch -p "$GPID" -i 200ms -n 6 --json >"$TMP/cli.json" 2>"$TMP/cli.err"
ok "cli: exit 0" is "$?" 0
ok "cli: 6 tick lines and a report" is "$(jq -s '[.[] | select(.t_ms)] | length' "$TMP/cli.json")-$(jq -s '[.[] | select(.report)] | length' "$TMP/cli.json")" 6-1
ok "cli: ticks show $GT growing" jqf -s --arg t "$GT" '[.[] | select(.t_ms)] | (.[-1].types[$t].committed - .[0].types[$t].committed) > 1048576 and (.[-1].top_growing.type == $t)' "$TMP/cli.json"
ok "cli: the report names $GT first" jqf -s --arg t "$GT" '.[-1].report | (.types | max_by(.committed_delta) | .type == $t) and .end == "6 ticks"' "$TMP/cli.json"
ok "cli: the report says $GT grows leak-like" jqf -s --arg t "$GT" '.[-1].report.types[] | select(.type == $t) | .growth == "steady" and .leak_like == true' "$TMP/cli.json"
"$BIN" watch -p "$GPID" -i 200ms -n 6 >"$TMP/cli.txt" 2>&1
ok "cli: text lines with a header and the report" grep -q "what grew from the first tick to the last" "$TMP/cli.txt"
ok "cli: the text report flags the leak" grep -q "leak-like" "$TMP/cli.txt"
# a one-time jump through the CLI: the jumper grows once when told, after the third tick
# (then three more ticks, and Ctrl-C: the CLI prints its report on SIGINT)
"$BIN" watch -p "$JPID" -i 200ms --json >"$TMP/clij.json" 2>"$TMP/clij.err" &
CLIJ=$!
ticks() { grep -c t_ms "$TMP/clij.json"; }
for _ in $(seq 200); do [ "$(ticks)" -ge 3 ] && break; sleep 0.05; done
kill -USR1 "$JPID"
for _ in $(seq 200); do [ "$(grep -c GROWN "$TMP/jumper.out")" -ge 2 ] && break; sleep 0.05; done
T0=$(ticks)
for _ in $(seq 200); do [ "$(ticks)" -ge $((T0 + 3)) ] && break; sleep 0.05; done
kill -INT "$CLIJ"
wait "$CLIJ"
ok "cli: a one-time jump is not leak-like" jqf -s --arg t "$GT" '.[-1].report.types[] | select(.type == $t) | .growth == "jump" and .leak_like == false and .committed_delta >= 33554432' "$TMP/clij.json"
"$BIN" watch -p "$GPID" -i 10ms >/dev/null 2>&1
ok "cli: interval below 100ms is a usage error" is "$?" 2
"$BIN" watch -p 4194303 -n 1 >/dev/null 2>&1
ok "cli: no such process: exit 3" is "$?" 3

# ---- exit: the watch ends with a note -----------------------------------------------------------
kill -TERM "$GPID"
wait "$GPID" 2>/dev/null
ok "exit: the watch ends" wait_for '.state == "exited" and (.note | test("exited")) and .ended_at_ms > 0' 50

# ---- purge --------------------------------------------------------------------------------------
api DELETE "/watches/$WID?purge=1"
ok "purge: 204" is "$code" 204
api GET "/watches/$WID"
ok "purged: 404" is "$code" 404
api GET "/snapshots/$FROMSNAP"
ok "purged: its full snapshots are gone" is "$code" 404

kill -TERM "$DPID"
wait "$DPID" 2>/dev/null
finish
