# Shared harness of the shell tests that drive the daemon over HTTP (test_api.sh, test_watch.sh,
# test_reliability.sh). Sourced, not run. The caller sets BIN, TMP, pass=0, fail=0, skipped=0,
# PIDS=() and, for api(), BASE and TOKEN. Every response: status in $code, body in $TMP/b,
# headers in $TMP/h.

# ok DESCRIPTION COMMAND...: count a pass, or a failure with the last response's start
ok() {
	local d=$1
	shift
	if "$@"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL: $d   (last status ${code:-?}: $(head -c 400 "$TMP/b" 2>/dev/null | tr '\n' ' '))" >&2
	fi
}
skip() { skipped=$((skipped + 1)); echo "SKIP: $*" >&2; }
is() { [ "$1" = "$2" ]; }
jqt() { jq -e "$@" "$TMP/b" >/dev/null 2>&1; } # jqt [jq options] FILTER: on the last body
hdr() { grep -i "^$1:" "$TMP/h" | head -1 | cut -d' ' -f2- | tr -d '\r'; }
no_hdr() { ! grep -qi "^$1" "$TMP/h"; }
err_is() { is "$code" "$1" && jq -e --arg c "$2" '.error.code == $c and (.error.message | length > 0)' "$TMP/b" >/dev/null; }
# req METHOD URL [curl args]
req() {
	local m=$1 u=$2
	shift 2
	code=$(curl -s --max-time 60 -o "$TMP/b" -D "$TMP/h" -w '%{http_code}' -X "$m" "$@" "$u")
}
# api METHOD PATH [curl args]: an authenticated request to $BASE
api() {
	local m=$1 p=$2
	shift 2
	req "$m" "$BASE$p" -H "Authorization: Bearer $TOKEN" "$@"
}
# start NAME [serve args]: LAST_PID, LAST_PORT; output in $TMP/NAME.out, $TMP/NAME.err
start() {
	local name=$1
	shift
	"$BIN" serve --listen 127.0.0.1:0 "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
	LAST_PID=$!
	PIDS+=("$LAST_PID")
	for _ in $(seq 200); do
		grep -q 'listening on' "$TMP/$name.out" 2>/dev/null && break
		kill -0 "$LAST_PID" 2>/dev/null || break
		sleep 0.05
	done
	LAST_PORT=$(sed -n 's#^vmscope: listening on https\{0,1\}://127\.0\.0\.1:\([0-9]*\)/$#\1#p' "$TMP/$name.out")
}

# harness NAME TOOL...: the start every test script needs once BIN and TMP are set: the counters,
# PIDS, a cleanup at exit (every pid in PIDS killed, TMP removed); exits 1 when a tool or the
# vmscope binary is missing.
harness() {
	local name=$1 tool
	shift
	pass=0 fail=0 skipped=0
	PIDS=()
	for tool in "$@"; do
		command -v "$tool" >/dev/null || { echo "$name: needs $tool (third_party/install-deps.sh)" >&2; exit 1; }
	done
	[ -x "$BIN" ] || { echo "$name: no vmscope binary at $BIN (set VMSCOPE_BIN)" >&2; exit 1; }
	trap harness_cleanup EXIT
}
harness_cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$TMP"
}
