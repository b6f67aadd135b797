#!/usr/bin/env bash
# Integration test of the timeline file and of share links for a watch (issue 10; docs/api.md,
# "Watches", docs/timeline-format.md). vms_grower grows its heap by 512 KiB every 100 ms; the
# CLI watches it with -o FILE (no daemon); checks: the file is written whole and only at the end
# (no partial file left), --read FILE prints the same report, a truncated file is refused by the
# CLI and by the daemon without leaving anything behind, the daemon's import gives a watch
# "imported" whose samples, what-grew and full snapshots work; then a share link of that watch:
# public (no token) for that watch's samples, growth, full snapshots and their diff only, not a
# snapshot route, not another snapshot, no long poll; revoke and delete end it; a lifetime
# makes it answer 410. Prints "N passed, N failed".
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
setup watchfile curl jq
[ -x "$HELPERS/vms_grower" ] || { echo "test_watch_file.sh: no vms_grower in $HELPERS" >&2; exit 1; }

post() { api POST "$1" -H 'Content-Type: application/json' --data "$2"; }
pub() { req GET "http://127.0.0.1:$PORT$1"; } # no token

"$HELPERS/vms_grower" 512 100 120 >"$TMP/grower.out" &
GPID=$!
PIDS+=("$GPID")
for _ in $(seq 100); do grep -qs READY "$TMP/grower.out" && break; sleep 0.05; done

# ---- the CLI writes the file ---------------------------------------------------------------------
F=$TMP/grow.timeline
"$BIN" watch -p "$GPID" -i 200ms -n 12 --snapshot-every 1s -o "$F" --json >"$TMP/live.json" 2>"$TMP/live.err"
rc=$?
ok "watch -o exits 0" is "$rc" 0
ok "the file is there, no partial file left" test -s "$F" -a -z "$(ls "$TMP" | grep partial)"
ok "mode 0600 (full snapshots hold command lines)" is "$(stat -c %a "$F")" 600
head -1 "$F" >"$TMP/b"
ok "head line names the format and the process" jqt --argjson p "$GPID" '.format == "vmscope-timeline" and .format_version == 1 and .process.pid == $p and .interval_ms == 200'
tail -1 "$F" >"$TMP/b"
ok "end line counts 12 samples and their full snapshots" jqt '.end.samples == 12 and .end.snapshots >= 3 and (.end.note | test("12 ticks"))'
nsamp=$(grep -c '^{"sample"' "$F")
nfull=$(grep -c '"full_snapshot":true' "$F")
ok "12 sample lines" is "$nsamp" 12
ok "the first and the last sample carry a full snapshot" sh -c "grep '^{\"sample\"' '$F' | head -1 | grep -q '\"full_snapshot\":true' && grep '^{\"sample\"' '$F' | tail -1 | grep -q '\"full_snapshot\":true'"
ok "a snapshot document after each full_snapshot sample" is "$(grep -c '^{"format_version"' "$F")" "$nfull"
grep '"report"' "$TMP/live.json" >"$TMP/live.report"
# the type that grew (Heap with glibc, Private Data under ASan's allocator) first
live_top=$(jq -r '.report.types | max_by(.committed_delta) | .type' "$TMP/live.report")
grew() { jq -e '.report.types | max_by(.committed_delta) | .committed_delta > 2097152' "$TMP/live.report" >/dev/null; }
ok "the live report saw growth" grew

# ---- --read prints the same report ----------------------------------------------------------------
"$BIN" watch --read "$F" --json >"$TMP/read.json" 2>"$TMP/read.err"
ok "watch --read exits 0" is "$?" 0
grep '"report"' "$TMP/read.json" >"$TMP/read.report"
ok "--read gives the live report (same types, deltas, shapes)" \
	is "$(jq -c '.report.types' "$TMP/read.report")" "$(jq -c '.report.types' "$TMP/live.report")"
ok "--read prints 12 ticks" is "$(grep -c '"t_ms"' "$TMP/read.json")" 12

# a truncated file: refused, says so
head -n 5 "$F" >"$TMP/cut.timeline"
"$BIN" watch --read "$TMP/cut.timeline" >/dev/null 2>"$TMP/cut.err"
ok "--read of a truncated file exits 1" is "$?" 1
ok "... and says it is truncated" grep -q truncated "$TMP/cut.err"
"$BIN" watch -p "$GPID" -n 1 -o "$TMP" >/dev/null 2>"$TMP/dir.err"
ok "-o over a directory (or a device) is refused before watching: exit 2" is "$?" 2
ok "... and says why" grep -q "not a regular file" "$TMP/dir.err"
"$BIN" watch --read /nonexistent/x >/dev/null 2>&1
ok "--read of a missing file exits 1" is "$?" 1
"$BIN" watch -p "$GPID" --read "$F" >/dev/null 2>&1
ok "--read with -p is a usage error" is "$?" 2

# ---- the daemon imports it ------------------------------------------------------------------------
start serve --db "$TMP/db"
DPID=$LAST_PID
PORT=$LAST_PORT
BASE=http://127.0.0.1:$PORT/api/v1
TOKEN=$(tr -d '\n' <"$TMP/db.token")
ok "daemon starts" test -n "$PORT"

req POST "$BASE/watches/import" -H 'Content-Type: application/json' --data-binary @"$F"
ok "import without the token: 401" is "$code" 401
api POST /watches/import -H 'Content-Type: application/json' --data-binary @"$TMP/cut.timeline"
ok "a truncated file: 400 bad_timeline" err_is 400 bad_timeline
api POST /watches/import -H 'Content-Type: application/json' --data '{"format_version":1,"process":{}}'
ok "a snapshot-like document: 400 bad_timeline" err_is 400 bad_timeline
api GET /watches
ok "a refused import leaves no watch" jqt '.watches | length == 0'
api POST /watches/import -H 'Content-Type: application/json' --data-binary @"$F"
ok "import: 201" is "$code" 201
WID=$(jq -r .id "$TMP/b")
ok "imported: 12 samples, every full snapshot" jqt --argjson n "$nfull" '.samples == 12 and .snapshots == $n and .watch.state == "imported" and (.watch.note | test("imported from a timeline"))'
ok "an imported watch is not sampled" jqt '.watch.sampler == null'
api GET "/watches/$WID/samples"
ok "its samples: the file's 12" jqt '.count == 12 and (.samples | length == 12) and ([.samples[] | select(.snapshot_id != null)] | length) >= 3'
cp "$TMP/b" "$TMP/samples.json"
api GET "/watches/$WID/samples?columns=committed,total_ws"
ok "?columns= leaves the other columns out" jqt '.samples[0].total | keys == ["committed", "total_ws"]'
ok "... in every type too" jqt '[.samples[0].types[] | keys] | all(. == ["committed", "total_ws"])'
api GET "/watches/$WID/samples?columns=committed,bogus"
ok "?columns= with an unknown column: 400" err_is 400 bad_query
api GET "/watches/$WID/growth"
ok "what grew: the same type first, with allocations from two full snapshots" \
	jqt --arg t "$live_top" '.types[0].type == $t and (.allocations | length) >= 1 and .snapshots.from.id != .snapshots.to.id'
SNAP_A=$(jq -r .snapshots.from.id "$TMP/b")
SNAP_B=$(jq -r .snapshots.to.id "$TMP/b")

# ---- a share link of the watch --------------------------------------------------------------------
post "/watches/$WID/share" '{}'
ok "share a watch: 201" is "$code" 201
ok "... a watch link: /s/TOKEN#/timeline, no snapshot_id" jqt --argjson w "$WID" '.watch_id == $w and (.snapshot_id == null) and (.path | test("^/s/[0-9a-f]{64}#/timeline$")) and (.api_url | endswith("/watch"))'
T=$(jq -r .token "$TMP/b")
post /watches/999999/share '{}'
ok "share a watch that does not exist: 404" is "$code" 404
api GET "/watches/$WID/shares"
ok "its links are listed" jqt --arg t "$T" '.shares | length == 1 and .[0].token == $t'
pub "/api/v1/shared/$T/watch"
ok "public: the watch, read-only, no daemon ids" jqt '.read_only == true and .watch.state == "imported" and (.watch | has("id") | not) and (.watch | has("sampler") | not) and .views == 1'
pub "/api/v1/shared/$T/watch/samples?max_points=5"
ok "public: its samples (downsampled on request)" jqt '.count == 12 and .downsampled == true and (.samples | length) <= 6'
pub "/api/v1/shared/$T/watch/samples?after=1&wait_s=5"
ok "public: no long poll (400)" err_is 400 bad_query
pub "/api/v1/shared/$T/watch/growth"
ok "public: what grew, with the link's own snapshot and diff urls" \
	jqt --arg t "$T" '.snapshots.from.url == "/api/v1/shared/\($t)/watch/snapshots/\(.snapshots.from.id)" and (.snapshots.diff_url | startswith("/api/v1/shared/\($t)/watch/diff?"))'
pub "/api/v1/shared/$T/watch/snapshots/$SNAP_A"
ok "public: a full snapshot of the watch" jqt --argjson p "$GPID" '.process.pid == $p'
pub "/api/v1/shared/$T/watch/diff?from=$SNAP_A&to=$SNAP_B"
ok "public: the diff of two of its full snapshots" jqt --argjson a "$SNAP_A" '.from_id == $a'
# a snapshot that is not the watch's
api POST "/processes/$GPID/snapshots" -H 'Content-Type: application/json' --data '{"share":false}'
OTHER=$(jq -r .id "$TMP/b")
pub "/api/v1/shared/$T/watch/snapshots/$OTHER"
ok "public: another snapshot: 404" is "$code" 404
pub "/api/v1/shared/$T/watch/diff?from=$SNAP_A&to=$OTHER"
ok "public: a diff with another snapshot: 404" is "$code" 404
pub "/api/v1/shared/$T"
ok "a watch token does not open the snapshot routes" is "$code" 404
pub "/api/v1/shared/$T/about"
ok "... nor the snapshot share's about" is "$code" 404
post "/snapshots/$OTHER/share" '{}'
ST=$(jq -r .token "$TMP/b")
pub "/api/v1/shared/$ST/watch"
ok "a snapshot token does not open a watch" is "$code" 404
pub "/api/v1/watches/$WID"
ok "the watch's own route still needs the token" is "$code" 401
pub "/s/$T"
ok "the share page opens for a watch token" is "$code" 200
pub "/api/v1/shared/0000000000000000000000000000000000000000000000000000000000000000/watch/samples"
ok "an unknown token: 404" is "$code" 404
api DELETE "/shares/$T"
ok "revoke the watch link: 204" is "$code" 204
pub "/api/v1/shared/$T/watch/samples"
ok "revoked: 404" is "$code" 404
pub "/s/$T"
ok "revoked: the page says so (404)" is "$code" 404
# a lifetime: 410 once it is over
post "/watches/$WID/share" '{"lifetime":"1s"}'
T2=$(jq -r .token "$TMP/b")
pub "/api/v1/shared/$T2/watch/growth"
ok "a link with a lifetime works at first" is "$code" 200
sleep 1.2
pub "/api/v1/shared/$T2/watch/growth"
ok "... and answers 410 expired after it" err_is 410 expired
# a view limit
post "/watches/$WID/share" '{"max_views":1}'
T3=$(jq -r .token "$TMP/b")
pub "/api/v1/shared/$T3/watch"
ok "a one-view link opens once" is "$code" 200
pub "/api/v1/shared/$T3/watch"
ok "... then 410" err_is 410 gone
# deleting the watch ends its links
post "/watches/$WID/share" '{}'
T4=$(jq -r .token "$TMP/b")
api DELETE "/watches/$WID?purge=1"
ok "purge the watch: 204" is "$code" 204
pub "/api/v1/shared/$T4/watch"
ok "the deleted watch's link: 404" is "$code" 404

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
