#!/usr/bin/env bash
# Integration test of `vmscope serve`: starts the real daemon on 127.0.0.1:0 with a temporary
# database and drives every endpoint over HTTP with curl (JSON checked with jq): the API,
# every error path, the Host/token/CORS/CSRF checks, body limits, rate limiting, retention,
# share-link scope and revocation, a restart that finds the stored snapshots again, and that
# bad input never changes stored data. Prints "N passed, N failed, N skipped"; exits 1 on any
# failure, else 77 (ctest: skipped) when a part could not run here, else 0.
#
# Needs: curl, jq, sha256sum; optional: setpriv (the permission test runs the daemon as nobody
# when we are root, from a copy of the binary in a directory nobody can reach, started through
# an unprivileged shell with every capability set empty), sqlite3 is not needed.
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
setup api curl jq sha256sum
chmod 755 "$TMP"

post_json() { api POST "$1" -H 'Content-Type: application/json' "${@:2}"; }

# stop PID: SIGTERM and wait; returns the exit status
stop() {
	kill -TERM "$1" 2>/dev/null
	local rc=0
	wait "$1" || rc=$?
	return $rc
}
# raw PORT TEXT: a hand-written request; the response on stdout
raw() {
	exec 3<>"/dev/tcp/127.0.0.1/$1"
	printf '%b' "$2" >&3
	timeout 5 cat <&3
	exec 3<&- 3>&-
}
snapshot_fingerprint() { # ids + sha256 of every stored snapshot body of the main daemon
	api GET "/snapshots?limit=1000"
	local ids
	ids=$(jq -r '.snapshots[].id' "$TMP/b")
	for i in $ids; do
		printf '%s ' "$i"
		curl -s -H "Authorization: Bearer $TOKEN" "$BASE/snapshots/$i" | sha256sum | cut -c1-16
	done
	curl -s -H "Authorization: Bearer $TOKEN" "$BASE/snapshots/$(echo "$ids" | head -1)/shares" | jq -c '[.shares[].token]'
}

# A target process with a known name.
cp "$(command -v sleep)" "$TMP/vmscope-target"
"$TMP/vmscope-target" 600 &
TPID=$!
PIDS+=("$TPID")

# ---- 1. start-up ------------------------------------------------------------------------------
DB=$TMP/db/vmscope.db
mkdir -m 700 "$TMP/db"
start main --db "$DB" --web "$WEB" --allow-host vmscope.test
MAIN_PID=$LAST_PID
PORT=$LAST_PORT
ok "daemon starts and prints its port" test -n "$PORT"
[ -n "$PORT" ] || { echo "cannot start the daemon:"; cat "$TMP/main.err"; echo "0 passed, 1 failed"; exit 1; }
ROOT=http://127.0.0.1:$PORT
BASE=$ROOT/api/v1
TOKEN=$(sed -n 's#^vmscope: open http://127\.0\.0\.1:[0-9]*/\#token=\([0-9a-f]*\)$#\1#p' "$TMP/main.out")
ok "printed URL carries a 64-hex token" test ${#TOKEN} -eq 64
ok "vmscope token prints the same token" is "$("$BIN" token --db "$DB")" "$TOKEN"
ok "database file mode 0600" is "$(stat -c %a "$DB")" 600
ok "token file mode 0600" is "$(stat -c %a "$DB.token")" 600
ok "token file beside the database" is "$(tr -d '\n' <"$DB.token")" "$TOKEN"

# ---- 2. authentication -------------------------------------------------------------------------
req GET "$BASE/health"
ok "no token: 401" err_is 401 unauthorized
ok "no token: WWW-Authenticate Bearer" test -n "$(hdr WWW-Authenticate)"
last=${TOKEN: -1}
req GET "$BASE/health" -H "Authorization: Bearer ${TOKEN%?}$([ "$last" = 0 ] && echo 1 || echo 0)"
ok "wrong token: 401" err_is 401 unauthorized
req GET "$BASE/health" -H "Authorization: Bearer ${TOKEN:0:32}"
ok "token prefix: 401" err_is 401 unauthorized
req GET "$BASE/health?token=$TOKEN"
ok "token in the query string is not accepted" err_is 401 unauthorized
req GET "$BASE/nonexistent"
ok "unknown path without token: 401, not 404" is "$code" 401
req GET "$BASE/health" -H "Authorization: bearer $TOKEN"
ok "scheme is case-insensitive" is "$code" 200
api GET /health
ok "health 200" is "$code" 200
ok "health body" jqt '.status == "ok" and .auth == true and .store.snapshots == 0'

# ---- 3. Host header (DNS rebinding) -------------------------------------------------------------
for h in "evil.example:$PORT" "evil.example" "127.0.0.1" "127.0.0.1:1" "localhost.evil.example:$PORT" "" ; do
	api GET /health -H "Host: $h"
	ok "Host '$h' refused on the API" err_is 403 host_not_allowed
done
req GET "$ROOT/" -H "Host: evil.example:$PORT"
ok "bad Host refused on static files" is "$code" 403
for h in "localhost:$PORT" "LOCALHOST:$PORT" "127.0.0.1:$PORT" "[::1]:$PORT" "vmscope.test:$PORT"; do
	api GET /health -H "Host: $h"
	ok "Host '$h' accepted" is "$code" 200
done

resp=$(raw "$PORT" "GET http://evil.example/api/v1/health HTTP/1.1\r\nHost: 127.0.0.1:$PORT\r\nAuthorization: Bearer $TOKEN\r\n\r\n")
ok "absolute-form request target: refused (civetweb closes, or 400)" bash -c "! printf '%s' \"\$1\" | grep -q '\"status\":\"ok\"'" _ "$resp"
resp=$(raw "$PORT" "GET /api/v1/health HTTP/1.0\r\nAuthorization: Bearer $TOKEN\r\n\r\n")
ok "no Host header at all: 403" bash -c "printf '%s' \"\$1\" | head -1 | grep -q ' 403 '" _ "$resp"
resp=$(raw "$PORT" "GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1:$PORT\r\nHost: evil.example:$PORT\r\nAuthorization: Bearer $TOKEN\r\nConnection: close\r\n\r\n")
ok "two Host headers (the second foreign): 403" bash -c "printf '%s' \"\$1\" | head -1 | grep -q ' 403 '" _ "$resp"
req GET "$ROOT/../../../../etc/passwd" --path-as-is
ok "no path traversal out of the web root" bash -c "! grep -q root: '$TMP/b'"
req GET "$ROOT/%2e%2e/%2e%2e/%2e%2e/etc/passwd" --path-as-is
ok "no encoded path traversal" bash -c "! grep -q root: '$TMP/b'"

# ---- 4. response headers, CORS ------------------------------------------------------------------
CSP="default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
api GET /version -H "Origin: http://evil.example"
ok "API GET with a foreign Origin: 403" err_is 403 cross_origin
ok "API: no CORS header on a GET with Origin" no_hdr "Access-Control-"
api GET /version
ok "version 200" is "$code" 200
ok "version body" jqt '.version and .api == "v1" and .format_version == 1 and .schema_version >= 2'
ok "version names the daemon's host" jqt --arg h "$(uname -n)" '.host == $h'
ok "API: CSP" is "$(hdr Content-Security-Policy)" "$CSP"
ok "API: nosniff" is "$(hdr X-Content-Type-Options)" nosniff
ok "API: Referrer-Policy" is "$(hdr Referrer-Policy)" no-referrer
ok "API: Cache-Control no-store" is "$(hdr Cache-Control)" no-store
ok "API: JSON content type" is "$(hdr Content-Type)" "application/json; charset=utf-8"
for path in /api/v1/snapshots /api/v1/processes/1/snapshots / /index.html; do
	req OPTIONS "$ROOT$path" -H "Origin: http://evil.example" -H "Access-Control-Request-Method: POST" \
		-H "Access-Control-Request-Headers: authorization, content-type"
	ok "preflight $path: no Access-Control-* header" no_hdr "Access-Control-"
	ok "preflight $path: 204" is "$code" 204
done
if [ -f "$WEB/index.html" ]; then
	req GET "$ROOT/" -H "Origin: http://evil.example"
	ok "static /: 200" is "$code" 200
	ok "static /: CSP" is "$(hdr Content-Security-Policy)" "$CSP"
	ok "static /: nosniff" is "$(hdr X-Content-Type-Options)" nosniff
	ok "static /: Referrer-Policy" is "$(hdr Referrer-Policy)" no-referrer
	ok "static /: no CORS header" no_hdr "Access-Control-"
fi
req GET "$ROOT/no-such-file.js"
ok "missing static file: 404 JSON" err_is 404 not_found
ok "404 page carries CSP" is "$(hdr Content-Security-Policy)" "$CSP"
req PUT "$ROOT/index.html" --data x
ok "PUT on static: 405" is "$code" 405
req DELETE "$ROOT/index.html"
ok "DELETE on static: 405" is "$code" 405
req PROPFIND "$ROOT/"
ok "PROPFIND: 405" is "$code" 405

# CGI, SSI, directory listing and hidden files on a web dir of our own.
mkdir -p "$TMP/web/sub"
echo '<!doctype html><title>t</title>' >"$TMP/web/index.html"
printf '#!/bin/sh\necho Content-Type: text/plain\necho\necho CGI-$((40+2))\n' >"$TMP/web/x.cgi"
chmod 755 "$TMP/web/x.cgi"
echo '<!--#exec cmd="echo SSI-$((40+2))" --><!--#include file="index.html" -->' >"$TMP/web/x.shtml"
echo sub >"$TMP/web/sub/a.txt"
echo secret >"$TMP/web/.hidden"
ln -s /etc/passwd "$TMP/web/passwd.txt"
ln -s /etc "$TMP/web/etc"
start web --db "$TMP/webdb" --web "$TMP/web" --no-auth
WPORT=$LAST_PORT
WEB_PID=$LAST_PID
req GET "http://127.0.0.1:$WPORT/x.cgi"
ok "CGI is never run" bash -c "! grep -q CGI-42 '$TMP/b'"
req GET "http://127.0.0.1:$WPORT/x.shtml"
ok "SSI is never run" bash -c "! grep -q -e SSI-42 -e '<title>' '$TMP/b'"
req GET "http://127.0.0.1:$WPORT/sub/"
ok "no directory listing" bash -c "! grep -q a.txt '$TMP/b'"
ok "directory: 403/404" test "$code" = 403 -o "$code" = 404
req GET "http://127.0.0.1:$WPORT/.hidden"
ok "dot files hidden" bash -c "! grep -q secret '$TMP/b'"
req GET "http://127.0.0.1:$WPORT/passwd.txt"
ok "symlink to a file outside the web root: 404" bash -c "[ '$code' = 404 ] && ! grep -q root: '$TMP/b'"
req GET "http://127.0.0.1:$WPORT/etc/passwd"
ok "symlinked directory outside the web root: 404" bash -c "[ '$code' = 404 ] && ! grep -q root: '$TMP/b'"
ok "no-auth daemon warns loudly" grep -q "NO TOKEN" "$TMP/web.err"
req GET "http://127.0.0.1:$WPORT/api/v1/health"
ok "--no-auth: API without token" is "$code" 200
req POST "http://127.0.0.1:$WPORT/api/v1/processes/$TPID/snapshots" -H 'Content-Type: application/json' \
	-H "Origin: http://evil.example"
ok "--no-auth: CSRF still refused" err_is 403 cross_origin
req POST "http://127.0.0.1:$WPORT/api/v1/processes/$TPID/snapshots" -H 'Content-Type: text/plain' --data '{}'
ok "--no-auth: simple-request POST refused" is "$code" 415
stop "$WEB_PID"
# A web root below a dot directory (~/.local/share/vmscope/web) still serves its files, but not
# its own dot files.
mkdir -p "$TMP/.dotdir/web/.git"
echo '<!doctype html><title>dot</title>' >"$TMP/.dotdir/web/index.html"
echo secret >"$TMP/.dotdir/web/.git/config"
start dotweb --db "$TMP/dotweb.db" --web "$TMP/.dotdir/web" --no-auth
DPORT=$LAST_PORT
req GET "http://127.0.0.1:$DPORT/"
ok "web root under a dot directory: / is served" bash -c "[ '$code' = 200 ] && grep -q '<title>dot' '$TMP/b'"
req GET "http://127.0.0.1:$DPORT/.git/config"
ok "dot directory inside the web root: 404" err_is 404 not_found
stop "$LAST_PID"
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	: >"$TMP/foreign.db"
	chown nobody "$TMP/foreign.db"
	chmod 666 "$TMP/foreign.db"
	timeout 10 "$BIN" serve --listen 127.0.0.1:0 --db "$TMP/foreign.db" >/dev/null 2>"$TMP/foreign.err"
	ok "a database file owned by another user is refused" is "$?" 1
	ok "...saying why" grep -q "owned by" "$TMP/foreign.err"
else
	skip "foreign database owner: needs root and a user nobody"
fi
"$BIN" serve --listen 0.0.0.0:0 --no-auth --db "$TMP/x.db" >/dev/null 2>"$TMP/noauth.err"
ok "--no-auth refused beyond loopback" is "$?" 2

# ---- 5. processes -------------------------------------------------------------------------------
api GET /processes
ok "process list 200" is "$code" 200
ok "process list has the target" jqt --argjson p "$TPID" '.processes | map(select(.pid == $p)) | length == 1'
ok "process list entries say whether maps are readable" jqt '.processes | all(has("maps_readable"))'
get_ok "/processes?q=$TPID" "?q=PID" --argjson p "$TPID" '.processes | map(.pid) | index($p) != null'
get_ok "/processes?q=VMSCOPE-TARGET" "?q=name, any case" --argjson p "$TPID" '.processes | any(.pid == $p)'
get_ok "/processes?user=nobody-such-user" "?user= filters" '.processes | length == 0'
get_ok "/processes?user=$(id -un)" "?user= own user" '.processes | length >= 1'
get_ok "/processes?sort=-rss" "?sort=-rss descending" '[.processes[].vm_rss] as $r | $r == ($r | sort | reverse)'
api GET "/processes?sort=name"
ok "?sort=name" is "$code" 200
api GET "/processes?sort=bogus"
ok "?sort=bogus: 400" err_is 400 bad_query
get_ok "/processes?q=$TPID&rollup=1" "?rollup=1 gives pss" '.processes[0].pss != null'
get_ok "/system/files?limit=0" "mapped files name the target among their processes" --argjson p "$TPID" '[.files[].processes[].pid] | index($p) != null'
get_ok "/system" "system: areas add up to MemTotal" '([.areas[].used] | add) == .meminfo.mem_total'
api GET "/system/files?limit=x"
ok "/system/files?limit=x: 400" err_is 400 bad_query

api GET "/processes/$TPID"
ok "live scan 200" is "$code" 200
ok "live scan is a snapshot" jqt --argjson p "$TPID" '.format_version == 1 and .process.pid == $p and (.allocations | length > 0)'
ADDR=$(jq -r '.allocations[0].regions[0].start' "$TMP/b")
api GET /processes/abc
ok "pid abc: 400" err_is 400 bad_pid
api GET /processes/-1
ok "pid -1: 400" err_is 400 bad_pid
api GET /processes/99999999999999999999999
ok "huge pid: 400/404, not 500" test "$code" = 400 -o "$code" = 404
sh -c 'exit 0' &
DEAD=$!
wait $DEAD
api GET "/processes/$DEAD"
ok "exited pid: 404 no_such_process" err_is 404 no_such_process
api GET /processes/4194304
ok "pid beyond pid_max: 404" err_is 404 no_such_process
if [ -r /proc/2/status ] && grep -q '^Kthread:[[:space:]]*1' /proc/2/status 2>/dev/null || [ "$(cat /proc/2/comm 2>/dev/null)" = kthreadd ]; then
	api GET /processes/2
	ok "kernel thread: 422 no_address_space" err_is 422 no_address_space
fi
api GET "/processes/$TPID/at/$ADDR"
ok "live lookup 200" is "$code" 200
ok "live lookup finds a region" jqt '.kind == "region" and .region != null'
ok "live lookup: offsets and the image's file" jqt '.offset_in_region == "0x0" and .image.path != null and .image.file_offset == "0x0"'
api GET "/processes/$TPID/at/zz"
ok "bad address: 400" err_is 400 bad_address
api GET "/processes/$TPID/at/0x12345678901234567890"
ok "overlong address: 400" err_is 400 bad_address

# ---- 6. snapshots -------------------------------------------------------------------------------
post_json "/processes/$TPID/snapshots"
ok "snapshot: 201" is "$code" 201
ok "snapshot: id, url, share_url" jqt '(.id | type == "number") and (.url | startswith("/api/v1/snapshots/")) and (.share_url | test("^http://127\\.0\\.0\\.1:[0-9]+/s/[0-9a-f]{64}$"))'
ok "snapshot: Location header" test "$(hdr Location)" = "$(jq -r .url "$TMP/b")"
S1=$(jq -r .id "$TMP/b")
SHARE1=$(jq -r .share.token "$TMP/b")
post_json "/processes/$TPID/snapshots" -d '{"omit_cmdline": true}'
ok "second snapshot with options: 201" is "$code" 201
S2=$(jq -r .id "$TMP/b")
SHARE2=$(jq -r .share.token "$TMP/b")
post_json "/processes/$TPID/snapshots?share=0" -d '{}'
ok "snapshot without share: share_url null" jqt '.share_url == null'
S3=$(jq -r .id "$TMP/b")
post_json "/processes/$TPID/snapshots" -d '{"omit_cmdline": "yes"}'
ok "bad option type: 400" err_is 400 bad_json
post_json "/processes/$TPID/snapshots" -d '[1,2'
ok "bad JSON options: 400" err_is 400 bad_json
post_json "/processes/abc/snapshots"
ok "snapshot of pid abc: 400" err_is 400 bad_pid
post_json "/processes/$DEAD/snapshots"
ok "snapshot of exited pid: 404" err_is 404 no_such_process

api GET /snapshots
ok "list 200" is "$code" 200
ok "list newest first" jqt --argjson a "$S3" --argjson b "$S1" '.snapshots[0].id == $a and .snapshots[-1].id == $b'
ok "list metadata and per-type totals" jqt --argjson p "$TPID" '.snapshots[0] | .process.pid == $p and .process.name == "vmscope-target" and .host and .kernel and .taken_at and (.summary | length == 11) and .total.size > 0 and .regions > 0'
get_ok "/snapshots?pid=$TPID&limit=2" "?pid&limit=2" '(.snapshots | length == 2) and .next_before != null'
NB=$(jq -r .next_before "$TMP/b")
get_ok "/snapshots?pid=$TPID&before=$NB" "?before= pages on" --argjson s "$S1" '(.snapshots | length == 1) and .snapshots[0].id == $s and .next_before == null'
get_ok "/snapshots?name=vmscope-target" "?name=" '.snapshots | length == 3'
get_ok "/snapshots?name=nothing-like-it" "?name= no match" '.snapshots | length == 0'
get_ok "/snapshots?q=SCOPE-TARG" "?q= a substring of the name, any case" '.snapshots | length == 3'
get_ok "/snapshots?q=target%20600" "?q= a substring of the command line" '(.snapshots | length == 3) and all(.snapshots[]; .process.cmdline | contains("target 600"))'
get_ok "/snapshots?q=nothing-like-it" "?q= no match" '.snapshots | length == 0'
for q in "limit=0" "limit=1001" "limit=x" "pid=x" "before=-3" "pid="; do
	api GET "/snapshots?$q"
	ok "?$q: 400" err_is 400 bad_query
done

api GET "/snapshots/$S1"
ok "get snapshot 200" is "$code" 200
ok "get snapshot: the JSON format" jqt --argjson p "$TPID" '.format_version == 1 and .process.pid == $p and .process.cmdline == "'"$TMP"'/vmscope-target 600"'
cp "$TMP/b" "$TMP/s1.json"
api GET "/snapshots/$S1.json"
ok ".json alias" cmp -s "$TMP/b" "$TMP/s1.json"
api GET "/snapshots/$S1.csv"
ok "csv 200" is "$code" 200
ok "csv type" is "$(hdr Content-Type)" "text/csv; charset=utf-8"
ok "csv attachment" bash -c "grep -qi '^Content-Disposition: attachment; filename=\"vmscope-vmscope-target-$TPID-$S1.csv\"' '$TMP/h'"
ok "csv body" grep -q vmscope-target "$TMP/b"
api GET "/snapshots/$S1.txt"
ok "txt 200" is "$code" 200
ok "txt type" is "$(hdr Content-Type)" "text/plain; charset=utf-8"
get_ok "/snapshots/$S1/at/$ADDR" "stored lookup 200" '.kind == "region"'
ok "stored lookup: the image's file" jqt '.image.path != null and has("offset_in_allocation")'
api GET "/snapshots/$S1/at/0x0"
ok "lookup below mmap_min_addr" is "$code" 200
api GET "/snapshots/$S1/at/nothex"
ok "stored lookup bad address: 400" err_is 400 bad_address
for bad in abc 0 -1 1.5 "1e3" 99999999999999999999; do
	api GET "/snapshots/$bad"
	ok "snapshot id '$bad': 400" err_is 400 bad_id
done
api GET /snapshots/424242
ok "unknown snapshot: 404" err_is 404 not_found
api GET /snapshots/424242.csv
ok "unknown snapshot csv: 404" err_is 404 not_found
api GET /snapshots/424242/at/0x1000
ok "unknown snapshot lookup: 404" err_is 404 not_found

# ---- 7. diffs -----------------------------------------------------------------------------------
api GET "/diff?from=$S1&to=$S2"
ok "diff 200" is "$code" 200
ok "diff body" jqt --argjson a "$S1" --argjson b "$S2" '.from_id == $a and .to_id == $b and .summary and .total and (.allocations | type == "array") and (.regions | type == "array")'
api GET "/processes/$TPID/changes"
ok "changes 200" is "$code" 200
ok "changes = two latest" jqt --argjson a "$S2" --argjson b "$S3" '.from_id == $a and .to_id == $b'
api GET "/processes/$DEAD/changes"
ok "changes with no snapshots: 404" err_is 404 not_enough_snapshots
get_ok "/processes/$TPID/changes?to=$S2" "changes?to=: from the snapshot before it" --argjson a "$S1" --argjson b "$S2" '.from_id == $a and .to_id == $b'
api GET "/processes/$TPID/changes?to=$S1"
ok "changes?to= the first snapshot: 404" err_is 404 not_enough_snapshots
api GET "/processes/$DEAD/changes?to=$S2"
ok "changes?to= a snapshot of another process: 400" err_is 400 bad_query
api GET "/processes/$TPID/changes?to=999999"
ok "changes?to= no such snapshot: 404" err_is 404 not_found
api GET "/processes/$TPID/changes?to=x"
ok "changes?to=x: 400" err_is 400 bad_query
api GET "/diff?from=$S1"
ok "diff without to: 400" err_is 400 bad_query
api GET "/diff?from=x&to=1"
ok "diff bad id: 400" err_is 400 bad_query
api GET "/diff?from=$S1&to=424242"
ok "diff unknown: 404" err_is 404 not_found

# ---- 8. import ----------------------------------------------------------------------------------
post_json /snapshots --data-binary "@$TMP/s1.json"
ok "import 201" is "$code" 201
ok "an import is private unless asked: no share link" jqt '.share_url == null and .share == null'
IMP=$(jq -r .id "$TMP/b")
get_ok "/snapshots/$IMP/shares" "an import has no live share links" '.shares == []'
get_ok "/snapshots/$IMP/meta" "meta of an import: source import, no body" --argjson id "$IMP" '.id == $id and .source == "import" and .process.pid > 0 and (.allocations | type == "number")'
get_ok "/snapshots/$S1/meta" "meta of a scan: source scan, this host" --arg h "$(uname -n)" '.source == "scan" and .host == $h'
api GET "/snapshots/424242/meta"
ok "meta of an unknown snapshot: 404" err_is 404 not_found
api GET "/snapshots/$S1.csv"
cp "$TMP/b" "$TMP/s1.csv"
NSNAP=$(curl -s -H "Authorization: Bearer $TOKEN" "$BASE/snapshots?limit=1000" | jq '.snapshots | length')
post_json /export.csv --data-binary "@$TMP/s1.json"
ok "export.csv of a posted document = the stored snapshot's CSV" bash -c "[ '$code' = 200 ] && cmp -s '$TMP/b' '$TMP/s1.csv'"
post_json /export.txt --data-binary "@$TMP/s1.json"
ok "export.txt of a posted document" bash -c "[ '$code' = 200 ] && grep -q 'vmscope-target' '$TMP/b'"
ok "export stores nothing" is "$(curl -s -H "Authorization: Bearer $TOKEN" "$BASE/snapshots?limit=1000" | jq '.snapshots | length')" "$NSNAP"
post_json /export.csv --data '{"format_version":1}'
ok "export of a non-snapshot: 400" err_is 400 bad_json
post_json "/snapshots?share=1" --data-binary "@$TMP/s1.json"
ok "an import asked to share gets a link" jqt '.share_url | test("/s/[0-9a-f]{64}$")'
api DELETE "/snapshots/$(jq -r .id "$TMP/b")"
ok "delete the shared import" is "$code" 204
ok "import gets a new id" test "$IMP" -gt "$S3"
get_ok "/snapshots/$IMP" "imported snapshot round-trips" --slurpfile a "$TMP/s1.json" '.process == $a[0].process and .summary == $a[0].summary and .allocations == $a[0].allocations'
get_ok "/snapshots?limit=1" "import is marked as such" '.snapshots[0].source == "import"'
jq '.summary[0].columns.size = 1 | .total.size = 7' "$TMP/s1.json" >"$TMP/edited.json"
post_json /snapshots --data-binary "@$TMP/edited.json"
ok "edited totals import" is "$code" 201
api GET "/snapshots/$(jq -r .id "$TMP/b")"
ok "edited totals are recomputed" jqt --slurpfile a "$TMP/s1.json" '.total == $a[0].total'
E_ID=$(jq -r .id "$TMP/b" 2>/dev/null)
api DELETE "/snapshots/$(jq -r '.snapshots[0].id' <(curl -s -H "Authorization: Bearer $TOKEN" "$BASE/snapshots?limit=1"))"
ok "delete the edited import" is "$code" 204

# ---- 9. shares ----------------------------------------------------------------------------------
req GET "$BASE/shared/$SHARE1"
ok "shared JSON without API token: 200" is "$code" 200
ok "shared JSON is the snapshot" jqt --slurpfile a "$TMP/s1.json" '. == $a[0]'
ok "shared: no-store" is "$(hdr Cache-Control)" no-store
req GET "$BASE/shared/$SHARE2"
ok "omit_cmdline share: cmdline null" jqt '.process.cmdline == null and .process.name == "vmscope-target"'
req GET "$BASE/shared/$SHARE2.csv"
ok "omit_cmdline share csv has no cmdline" bash -c "[ '$code' = 200 ] && ! grep -q 'vmscope-target 600' '$TMP/b'"
req GET "$BASE/shared/$SHARE2.txt"
ok "omit_cmdline share txt has no cmdline" bash -c "[ '$code' = 200 ] && ! grep -q 'vmscope-target 600' '$TMP/b'"
req GET "$BASE/shared/$SHARE1.csv"
ok "shared csv" is "$code" 200
req GET "$BASE/shared/$SHARE1/at/$ADDR"
ok "shared lookup" jqt '.kind == "region"'
ok "a share link's lookup reads no file on this host (no image section or symbol)" jqt '.image == null'
req GET "$BASE/shared/$SHARE1" -H "Sec-Fetch-Site: cross-site"
ok "a share link may be opened from another site" is "$code" 200
if [ -f "$WEB/index.html" ]; then
	req GET "$ROOT/s/$SHARE1"
	ok "/s/TOKEN serves the dashboard" is "$code" 200
	ok "/s/TOKEN is HTML" is "$(hdr Content-Type)" "text/html; charset=utf-8"
	ok "/s/TOKEN carries CSP" is "$(hdr Content-Security-Policy)" "$CSP"
	ok "/s/TOKEN is the dashboard's index.html" cmp -s "$TMP/b" "$WEB/index.html"
	req GET "$ROOT/s/$SHARE1/"
	ok "/s/TOKEN/ too" is "$code" 200
fi
# Scope: a share token opens its snapshot and nothing else.
req GET "$BASE/snapshots" -H "Authorization: Bearer $SHARE1"
ok "share token is no API token (list)" err_is 401 unauthorized
req GET "$BASE/snapshots/$S1" -H "Authorization: Bearer $SHARE1"
ok "share token is no API token (snapshot)" err_is 401 unauthorized
req GET "$BASE/processes" -H "Authorization: Bearer $SHARE1"
ok "share token is no API token (processes)" err_is 401 unauthorized
req GET "$BASE/shared/$SHARE1/../../snapshots/$S2" --path-as-is
ok "no path tricks out of /shared/" is "$code" 401
req GET "$BASE/shared/$SHARE1/../$SHARE2" --path-as-is
ok "dot-dot between shares resolves to that share only" test "$code" = 200 -o "$code" = 404
req GET "$BASE/shared/${SHARE1:0:16}"
ok "share selector alone: 404" err_is 404 not_found
req GET "$BASE/shared/${SHARE1:0:16}$(printf '0%.0s' $(seq 48))"
ok "right selector, wrong secret: 404" err_is 404 not_found
req GET "$BASE/shared/$(echo "$SHARE1" | tr a-f A-F)"
ok "upper-case token: 404" err_is 404 not_found
req GET "$BASE/shared/nonsense"
ok "malformed share token: 404" err_is 404 not_found
req DELETE "$BASE/shared/$SHARE1"
ok "shared routes are read-only: DELETE without the API token is no public route (401)" err_is 401 unauthorized
api DELETE "/shared/$SHARE1"
ok "shared routes are read-only: 405 with the API token" bash -c "[ '$code' = 405 ] && grep -qi '^Allow: GET' '$TMP/h'"
post_json "/snapshots/$S1/share" -d '{"omit_cmdline": true}'
ok "create share: 201" is "$code" 201
ok "create share: body" jqt --argjson s "$S1" '.snapshot_id == $s and .omit_cmdline == true and (.token | test("^[0-9a-f]{64}$")) and (.path as $p | .url | endswith($p)) and (.api_url | startswith("/api/v1/shared/"))'
SHARE3=$(jq -r .token "$TMP/b")
post_json /snapshots/424242/share
ok "share unknown snapshot: 404" err_is 404 not_found
get_ok "/snapshots/$S1/shares" "list shares" --arg a "$SHARE1" --arg b "$SHARE3" '[.shares[].token] == [$a, $b]'
api DELETE "/shares/$SHARE3"
ok "revoke: 204" is "$code" 204
req GET "$BASE/shared/$SHARE3"
ok "revoked share: 404" err_is 404 not_found
req GET "$BASE/shared/$SHARE3.csv"
ok "revoked share csv: 404" err_is 404 not_found
req GET "$ROOT/s/$SHARE3"
ok "revoked share page: 404" is "$code" 404
api DELETE "/shares/$SHARE3"
ok "revoke twice: 404" err_is 404 not_found
api DELETE "/shares/nonsense"
ok "revoke malformed: 404" err_is 404 not_found
get_ok "/snapshots/$S1/shares" "revoked share no longer listed" --arg a "$SHARE1" '[.shares[].token] == [$a]'

# ---- 10. CSRF and content types ----------------------------------------------------------------
post_json "/processes/$TPID/snapshots" -H "Origin: http://evil.example"
ok "POST from a foreign Origin: 403" err_is 403 cross_origin
post_json "/processes/$TPID/snapshots" -H "Origin: null"
ok "POST from Origin null: 403" err_is 403 cross_origin
post_json "/processes/$TPID/snapshots" -H "Origin: http://127.0.0.1:$((PORT == 1 ? 2 : PORT - 1))"
ok "POST from another port: 403" err_is 403 cross_origin
post_json "/processes/$TPID/snapshots" -H "Sec-Fetch-Site: cross-site"
ok "POST Sec-Fetch-Site cross-site: 403" err_is 403 cross_origin
post_json "/processes/$TPID/snapshots" -H "Sec-Fetch-Site: same-site"
ok "POST Sec-Fetch-Site same-site: 403" err_is 403 cross_origin
api GET /snapshots -H "Sec-Fetch-Site: cross-site"
ok "cross-site GET of the API: 403" err_is 403 cross_origin
api POST "/processes/$TPID/snapshots" -H 'Content-Type: text/plain' --data '{}'
ok "POST text/plain: 415" err_is 415 unsupported_media_type
api POST "/processes/$TPID/snapshots" -H 'Content-Type: application/x-www-form-urlencoded' --data 'a=b'
ok "POST form: 415" err_is 415 unsupported_media_type
api POST "/processes/$TPID/snapshots" -H 'Content-Type: multipart/form-data; boundary=x' --data 'x'
ok "POST multipart: 415" err_is 415 unsupported_media_type
api POST "/processes/$TPID/snapshots"
ok "POST without type: 415" err_is 415 unsupported_media_type
api POST "/processes/$TPID/snapshots" -H 'Content-Type: application/jsonx' --data '{}'
ok "POST application/jsonx: 415" err_is 415 unsupported_media_type
api DELETE "/snapshots/$S3" -H "Origin: http://evil.example"
ok "DELETE from a foreign Origin: 403" err_is 403 cross_origin
api DELETE "/snapshots/$S3" -H 'Content-Type: text/plain' --data 'x'
ok "DELETE with a non-JSON body: 415" err_is 415 unsupported_media_type
post_json "/processes/$TPID/snapshots" -H "Origin: http://127.0.0.1:$PORT" -H "Sec-Fetch-Site: same-origin" -d '{"share":false}'
ok "POST from our own page: 201" is "$code" 201
S4=$(jq -r .id "$TMP/b")
api PUT /snapshots --data x
ok "PUT on the API: 405" err_is 405 method_not_allowed
ok "405 lists what is allowed" is "$(hdr Allow)" "GET, HEAD, POST"
api GET /nonexistent
ok "unknown endpoint: 404" err_is 404 not_found
api GET "/snapshots/$S1/nope"
ok "unknown sub-resource: 404" err_is 404 not_found

# ---- 11. bad input changes nothing ----------------------------------------------------------------
before=$(snapshot_fingerprint)
post_json /snapshots -d '{"format_version": 1'
ok "truncated JSON import: 400" err_is 400 bad_json
post_json /snapshots -d '{"format_version": 99, "process": {"pid": 1}, "allocations": []}'
ok "newer format_version: 400" err_is 400 unsupported_version
post_json /snapshots -d '{"format_version": 1}'
ok "import without process: 400" err_is 400 bad_json
post_json /snapshots -d '[]'
ok "import of an array: 400" err_is 400 bad_json
post_json /snapshots -d ''
ok "empty import: 400" err_is 400 bad_json
post_json /snapshots -d '"\u0000"'
ok "import of a string: 400" err_is 400 bad_json
jq '.allocations[0].regions[0].start = "0xzz"' "$TMP/s1.json" >"$TMP/bad1.json"
post_json /snapshots --data-binary "@$TMP/bad1.json"
ok "import with a bad address: 400" err_is 400 bad_json
jq '.allocations[0].regions[0].smaps = "x"' "$TMP/s1.json" >"$TMP/bad2.json"
post_json /snapshots --data-binary "@$TMP/bad2.json"
ok "import with bad smaps: 400" err_is 400 bad_json
head -c 1000 /dev/urandom >"$TMP/garbage"
post_json /snapshots --data-binary "@$TMP/garbage"
ok "binary garbage import: 400" err_is 400 bad_json
api DELETE /snapshots/abc
ok "delete bad id: 400" err_is 400 bad_id
api DELETE /snapshots/424242
ok "delete unknown: 404" err_is 404 not_found
req DELETE "$BASE/snapshots/$S1"
ok "delete without token: 401" is "$code" 401
req DELETE "$BASE/snapshots/$S1" -H "Authorization: Bearer $SHARE1"
ok "delete with a share token: 401" is "$code" 401
req DELETE "$BASE/shares/$SHARE1"
ok "revoke without token: 401" is "$code" 401
api DELETE "/shares/$SHARE1" -H "Origin: http://evil.example"
ok "revoke from a foreign Origin: 403" is "$code" 403
api GET /snapshots/1 -H "Host: evil.example"
ok "bad Host: refused" is "$code" 403
after=$(snapshot_fingerprint)
ok "bad input did not change stored data" is "$before" "$after"

# ---- 12. body size ----------------------------------------------------------------------------
resp=$(raw "$PORT" "POST /api/v1/snapshots HTTP/1.1\r\nHost: 127.0.0.1:$PORT\r\nAuthorization: Bearer $TOKEN\r\nContent-Type: application/json\r\nContent-Length: 104857600\r\n\r\n")
ok "Content-Length 100 MiB: 413 before the body is read" bash -c "printf '%s' \"\$1\" | head -1 | grep -q ' 413 '" _ "$resp"
ok "413 in the JSON shape" bash -c "printf '%s' \"\$1\" | grep -q '\"code\":\"body_too_large\"'" _ "$resp"
resp=$(raw "$PORT" "POST /api/v1/snapshots HTTP/1.1\r\nHost: 127.0.0.1:$PORT\r\nContent-Length: 104857600\r\n\r\n")
ok "413 comes even before authentication" bash -c "printf '%s' \"\$1\" | head -1 | grep -q ' 413 '" _ "$resp"

start small --db "$TMP/small.db" --max-body 64K --max-snapshots 2 --scan-rate 0.05 --scan-burst 3
SPORT=$LAST_PORT
SPID=$LAST_PID
STOKEN=$("$BIN" token --db "$TMP/small.db")
sreq() {
	local m=$1 p=$2
	shift 2
	req "$m" "http://127.0.0.1:$SPORT/api/v1$p" -H "Authorization: Bearer $STOKEN" "$@"
}
head -c 100000 /dev/zero | tr '\0' ' ' >"$TMP/big"
sreq POST /snapshots -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' --data-binary "@$TMP/big"
ok "chunked body over --max-body: 413" err_is 413 body_too_large
sreq POST /snapshots -H 'Content-Type: application/json' --data-binary "@$TMP/big"
ok "body over --max-body: 413" err_is 413 body_too_large

# ---- 13. rate limit and retention -------------------------------------------------------------
sreq POST "/processes/$TPID/snapshots" -H 'Content-Type: application/json'
ok "small: first snapshot 201" is "$code" 201
SS1=$(jq -r .id "$TMP/b")
sreq POST "/processes/$TPID/snapshots" -H 'Content-Type: application/json'
ok "small: second snapshot 201" is "$code" 201
sreq POST "/processes/$TPID/snapshots" -H 'Content-Type: application/json'
ok "store full: 507" err_is 507 store_full
sreq GET "/snapshots/$SS1"
ok "store full: reads still work" is "$code" 200
cp "$TMP/b" "$TMP/ss1.json"
sreq GET /health
ok "health says full" jqt '.store.full == true and .store.snapshots == 2'
sreq POST /snapshots -H 'Content-Type: application/json' --data-binary "@$TMP/ss1.json"
ok "store full: import 507" is "$code" 507
sreq GET "/processes/$TPID"
ok "third scan within the burst: 200" is "$code" 200
sreq GET "/processes/$TPID"
ok "rate limit: next scan 429" err_is 429 rate_limited
ok "429 has Retry-After" test -n "$(hdr Retry-After)"
sreq DELETE "/snapshots/$SS1"
ok "delete frees room" is "$code" 204
sreq POST /snapshots -H 'Content-Type: application/json' --data-binary "@$TMP/ss1.json"
ok "import within --max-body after a delete: 201 (imports are not scans)" is "$code" 201
stop "$SPID"

# ---- 14. concurrency ----------------------------------------------------------------------------
for i in $(seq 12); do
	curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $TOKEN" "$BASE/snapshots/$S1" &
done >"$TMP/par1"
for i in $(seq 4); do
	curl -s -o /dev/null -w '%{http_code}\n' -X POST -H 'Content-Type: application/json' -H "Authorization: Bearer $TOKEN" "$BASE/processes/$TPID/snapshots?share=0" &
done >"$TMP/par2"
wait_curls() { for _ in $(seq 100); do [ "$(wc -l <"$1")" -ge "$2" ] && return 0; sleep 0.1; done; return 1; }
wait_curls "$TMP/par1" 12
wait_curls "$TMP/par2" 4
ok "12 parallel reads: all 200" is "$(sort -u "$TMP/par1")" 200
ok "4 parallel scans+stores: all 201" is "$(sort -u "$TMP/par2")" 201
get_ok "/snapshots?limit=1000" "every parallel store landed" '.snapshots | length == 9'

# ---- 15. permission (as nobody) ---------------------------------------------------------------
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
	# The daemon as an unprivileged user runs it: setpriv drops the groups and every capability
	# set (bounding set included) and starts a shell that has none left; that shell execs a copy
	# of the binary in $TMP (0755), so nothing here works only because root could reach the
	# build tree (which may sit below a 0700 directory such as /root).
	mkdir -m 700 "$TMP/nobody" && chown nobody "$TMP/nobody" # its own directory: a world-writable one is refused
	mkdir -m 755 "$TMP/nobody-bin"
	cp "$BIN" "$TMP/nobody-bin/vmscope"
	chmod 755 "$TMP/nobody-bin/vmscope"
	setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all --bounding-set=-all -- \
		/bin/sh -c 'exec "$@"' sh "$TMP/nobody-bin/vmscope" serve --listen 127.0.0.1:0 --db "$TMP/nobody/db" \
		--no-auth >"$TMP/nobody.out" 2>"$TMP/nobody.err" &
	NPID=$!
	PIDS+=("$NPID")
	for _ in $(seq 100); do grep -q 'listening on' "$TMP/nobody.out" 2>/dev/null && break; sleep 0.05; done
	NPORT=$(sed -n 's#^vmscope: listening on http://127\.0\.0\.1:\([0-9]*\)/$#\1#p' "$TMP/nobody.out")
	ok "the daemon as nobody starts" test -n "$NPORT"
	ok "...as uid 65534" is "$(awk '/^Uid:/ {print $2 $3 $4 $5}' "/proc/$NPID/status")" 65534655346553465534
	ok "...with every capability set empty" is "$(grep '^Cap' "/proc/$NPID/status" | awk '{print $2}' | sort -u)" 0000000000000000
	req GET "http://127.0.0.1:$NPORT/api/v1/processes/$TPID"
	ok "another user's process: 403 permission_denied" err_is 403 permission_denied
	ok "403 says what grants access" jqt '.error.message | test("root") and test("CAP_SYS_PTRACE")'
	req GET "http://127.0.0.1:$NPORT/api/v1/processes/$TPID/at/$ADDR"
	ok "another user's process lookup: 403" is "$code" 403
	req GET "http://127.0.0.1:$NPORT/api/v1/processes?q=$TPID"
	ok "list marks unreadable processes with the reason" jqt --argjson p "$TPID" '.processes[] | select(.pid == $p) | .maps_readable == false and .unreadable.code == "permission_denied"'
	req GET "http://127.0.0.1:$NPORT/api/v1/system/files"
	ok "across processes: none of root's processes named in the mapped files" jqt --argjson p "$TPID" '[.files[].processes[].pid] | index($p) == null'
	ok "...only counted as unreadable" jqt '.unreadable >= 1'
	req GET "http://127.0.0.1:$NPORT/api/v1/system"
	ok "across processes: no root row in the user totals" jqt '.users | all(.uid != 0)'
	req POST "http://127.0.0.1:$NPORT/api/v1/processes/$TPID/snapshots" -H 'Content-Type: application/json'
	ok "cannot store what it cannot read: 403" is "$code" 403
	req GET "http://127.0.0.1:$NPORT/api/v1/snapshots"
	ok "...and nothing was stored" jqt '.snapshots | length == 0'
	stop "$NPID"
else
	skip "permission as nobody: needs root, setpriv and a user nobody"
fi

# ---- 16. restart --------------------------------------------------------------------------------
before=$(snapshot_fingerprint)
api GET "/snapshots?limit=1000"
cp "$TMP/b" "$TMP/list-before"
stop "$MAIN_PID"
ok "SIGTERM: clean exit 0" is "$?" 0
ok "SIGTERM logged" grep -q "SIGTERM: stopping" "$TMP/main.err"
start main2 --db "$DB" --web "$WEB"
MAIN_PID=$LAST_PID
PORT=$LAST_PORT
ROOT=http://127.0.0.1:$PORT
BASE=$ROOT/api/v1
ok "restart: same token" is "$("$BIN" token --db "$DB")" "$TOKEN"
get_ok "/snapshots?limit=1000" "restart finds the stored snapshots" --slurpfile a "$TMP/list-before" '.snapshots == $a[0].snapshots'
after=$(snapshot_fingerprint)
ok "restart: same bodies and shares" is "$before" "$after"
req GET "$BASE/shared/$SHARE1"
ok "restart: share still works" is "$code" 200
req GET "$BASE/shared/$SHARE3"
ok "restart: revoked share stays revoked" is "$code" 404
"$BIN" serve --listen 127.0.0.1:0 --db "$DB" >/dev/null 2>"$TMP/second.err"
ok "a second daemon on the same database is refused" is "$?" 1
ok "...saying why" grep -q "in use" "$TMP/second.err"
kill -INT "$MAIN_PID"
rc=0
wait "$MAIN_PID" || rc=$?
ok "SIGINT: clean exit 0" is "$rc" 0

finish
