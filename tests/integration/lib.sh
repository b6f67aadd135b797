# Shared harness of the shell tests (test_api.sh, test_watch.sh, test_reliability.sh, test_cli.sh).
# Sourced, not run; the caller then calls setup, and sets BASE and TOKEN for api(). Every
# response: status in $code, body in $TMP/b, headers in $TMP/h.

# setup NAME TOOL...: exits 1 unless every TOOL and the vmscope binary are there; sets BIN, WEB,
# HELPERS (from $VMSCOPE_*, else the build tree), TMP (a new /tmp/vmscope-NAME.XXXXXX),
# pass=0, fail=0, skipped=0 and PIDS=(); on exit, kills every pid in PIDS, runs the caller's
# cleanup_more if it defines one, and removes $TMP.
setup() {
	local name=$1 tool me
	shift
	me=$(basename "$0")
	local root
	root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	BIN=${VMSCOPE_BIN:-$root/build/vmscope}
	WEB=${VMSCOPE_WEB:-$root/web}
	HELPERS=${VMSCOPE_HELPERS:-$root/build/tests}
	for tool in "$@"; do
		command -v "$tool" >/dev/null || { echo "$me: needs $tool (third_party/install-deps.sh)" >&2; exit 1; }
	done
	[ -x "$BIN" ] || { echo "$me: no vmscope binary at $BIN (set VMSCOPE_BIN)" >&2; exit 1; }
	harness "$name"
}
# our_child PID: whether PID is still a child of this shell. pid_max may be 32768: a pid that
# exited long ago can belong to another program by now, and must not be killed.
our_child() {
	local st
	st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	st=${st##*) }
	set -- $st
	[ "$2" = "$$" ]
}
# At exit: ends every pid in PIDS that is still our child, runs the caller's cleanup_more if it
# defines one, and removes $TMP.
harness_cleanup() {
	for p in "${PIDS[@]}"; do our_child "$p" && kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	if declare -F cleanup_more >/dev/null; then cleanup_more; fi
	rm -rf "$TMP"
}
# finish: print "N passed, N failed, N skipped" and exit 1 on any failure, else 77 (ctest:
# skipped) when a part could not run here, else 0.
finish() {
	echo "$pass passed, $fail failed, $skipped skipped"
	[ "$fail" -eq 0 ] || exit 1
	[ "$skipped" -eq 0 ] || exit 77
	exit 0
}

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
# run ARGS...: the CLI; exit code in $rc, stdout in $TMP/out, stderr in $TMP/err
run() {
	"$BIN" "$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
}
err_says() { grep -q -- "$1" "$TMP/err"; }
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
# get_ok PATH DESCRIPTION [jq options] FILTER: GET PATH (api), then ok DESCRIPTION on its body
get_ok() {
	api GET "$1"
	ok "$2" jqt "${@:3}"
}
# poll PATH FILTER [TRIES]: GET PATH until the jq filter holds on its body (0.1 s apart, default
# 100 tries); 1 when it never did
poll() {
	local _
	for _ in $(seq "${3:-100}"); do
		api GET "$1"
		jqt "$2" && return 0
		sleep 0.1
	done
	return 1
}
# start_on_db DB: start the daemon on database DB; sets PORT, BASE, TOKEN (PORT empty when it
# did not start; its output in $TMP/serve.out, $TMP/serve.err)
start_on_db() {
	start serve --db "$1"
	PORT=$LAST_PORT
	BASE=http://127.0.0.1:$PORT/api/v1
	TOKEN=$(tr -d '\n' <"$1.token" 2>/dev/null)
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

# harness NAME [TOOL...]: the state a test script keeps: TMP (a fresh /tmp/vmscope-NAME.XXXXXX,
# removed at exit), the counters pass/fail/skipped, and PIDS (ended at exit, see harness_cleanup);
# exits 1 when a TOOL is missing. setup calls it; tests that find their own binary call it
# directly. Source lib.sh first.
harness() {
	local name=$1 tool
	shift
	for tool in "$@"; do
		command -v "$tool" >/dev/null || { echo "$name: needs $tool (third_party/install-deps.sh)" >&2; exit 1; }
	done
	TMP=$(mktemp -d "/tmp/vmscope-$name.XXXXXX")
	pass=0
	fail=0
	skipped=0
	PIDS=()
	trap harness_cleanup EXIT
}
# harness_end: print "N passed, N failed" and exit with the verdict
harness_end() {
	local s=""
	[ "${skipped:-0}" -gt 0 ] && s=", $skipped skipped"
	echo "$pass passed, $fail failed$s"
	[ "$fail" -eq 0 ]
	exit
}
