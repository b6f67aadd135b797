#!/usr/bin/env bash
# Integration test: a watch by pid never follows a new process that got the same pid
# (docs/api.md, "Watches": a watch is bound to the pid AND its start time). pid_max may be
# 32768, so reuse happens in real life; here it is forced: the test runs itself inside a new
# user + pid namespace (unshare -Urpf --mount-proc), where writing /proc/sys/kernel/ns_last_pid
# chooses the next pid. The daemon watches process P at 200 ms; P is killed and, within a few
# milliseconds, a new process (the same program, so even the name matches) is started as pid P
# again. The watch must end "exited" with a note naming P, store no sample of the newcomer,
# and a second watch on the newcomer must bind to its own start time. Also a watch on a name
# ("follow") must record the newcomer as a restart, not continue as if nothing happened.
# Skips (77) where unprivileged user namespaces are off. Prints "N passed, N failed".
set -u

here=$(cd "$(dirname "$0")" && pwd)
if [ "${1:-}" != "--inside" ]; then
	command -v unshare >/dev/null || { echo "test_watch_pidreuse.sh: no unshare: skipped"; exit 77; }
	unshare -Urpf --mount-proc true 2>/dev/null ||
		{ echo "test_watch_pidreuse.sh: unprivileged user/pid namespaces are off here: skipped"; exit 77; }
	exec unshare -Urpf --mount-proc bash "$0" --inside
fi

# shellcheck source=lib.sh
. "$here/lib.sh"
setup watch-pidreuse curl jq
[ -x "$HELPERS/vms_stepper" ] || { echo "test_watch_pidreuse.sh: no vms_stepper in $HELPERS" >&2; exit 1; }
[ -w /proc/sys/kernel/ns_last_pid ] || { echo "test_watch_pidreuse.sh: ns_last_pid not writable: skipped"; exit 77; }

post() { api POST "$1" -H 'Content-Type: application/json' --data "$2"; }
start_time_of() { local st; st=$(cat "/proc/$1/stat") && st=${st##*) } && set -- $st && echo "${20}"; }
# spawn_at PID: start vms_stepper (stdin from a pipe that stays open) as exactly PID; sets NEW
spawn_at() {
	echo $(($1 - 1)) >/proc/sys/kernel/ns_last_pid
	"$HELPERS/vms_stepper" 100 < <(sleep 100) >"$TMP/stepper.$1.out" &
	NEW=$!
	PIDS+=("$NEW")
}
wait_watch() { poll "/watches/$1" "$2"; } # wait_watch ID FILTER (10 s)

start_on_db "$TMP/db"
ok "daemon starts (inside the namespace)" test -n "$PORT"
[ -n "$PORT" ] || { cat "$TMP/serve.err"; echo "0 passed, 1 failed"; exit 1; }

# ---- a watch by pid --------------------------------------------------------------------------
P=5000
spawn_at $P
OLD=$NEW
ok "the victim got pid $P" is "$OLD" "$P"
sleep 0.2
OLD_START=$(start_time_of $P)
post /watches "{\"pid\":$P,\"interval_ms\":200,\"snapshot_every_s\":0}"
ok "watch by pid: 201" is "$code" 201
W=$(jq -r .id "$TMP/b")
ok "bound to the victim's start time" jqt ".watch.start_time == $OLD_START"
wait_watch "$W" '.samples >= 3'
ok "samples of the victim" jqt '.samples >= 3'
# start times are in clock ticks (100 Hz): make sure the newcomer's differs
sleep 0.05
kill "$OLD"
wait "$OLD" 2>/dev/null
KILLED_MS=$(date +%s%3N)
spawn_at $P
ok "the newcomer got the same pid $P" is "$NEW" "$P"
sleep 0.05
NEW_START=$(start_time_of $P)
ok "the newcomer has another start time" test "$NEW_START" != "$OLD_START"
ok "the watch ends as exited, its note names pid $P" \
	wait_watch "$W" ".state == \"exited\" and (.note | test(\"process $P exited\")) and .pid == $P and .start_time == $OLD_START"
api GET "/watches/$W/samples"
ok "no sample after the victim was killed (none of the newcomer)" jqt "[.samples[] | select(.t_ms > $KILLED_MS)] | length == 0"
ok "the newcomer is still running as $P" test "$(start_time_of $P)" = "$NEW_START"

post /watches "{\"pid\":$P,\"interval_ms\":200,\"snapshot_every_s\":0}"
ok "a new watch on pid $P binds to the newcomer" jqt ".watch.start_time == $NEW_START"
W2=$(jq -r .id "$TMP/b")
api DELETE "/watches/$W2"

# ---- a watch on a name (follow) --------------------------------------------------------------
post /watches '{"name":"vms_stepper","interval_ms":200,"snapshot_every_s":0}'
ok "watch by name: 201" is "$code" 201
F=$(jq -r .id "$TMP/b")
wait_watch "$F" '.samples >= 2'
sleep 0.05
kill "$NEW"
wait "$NEW" 2>/dev/null
spawn_at $P
ok "the next newcomer got pid $P too" is "$NEW" "$P"
sleep 0.05
THIRD_START=$(start_time_of $P)
ok "follow: the reuse is recorded as a restart to the new start time, not taken for the same process" \
	wait_watch "$F" ".state == \"running\" and (.restarts | length) == 1 and .restarts[0].pid == $P and .restarts[0].old_pid == $P and .restarts[0].start_time == $THIRD_START and .start_time == $THIRD_START"

finish
