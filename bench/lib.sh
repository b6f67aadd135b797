# Sourced by the bench scripts (scan.sh, api.sh, timeline_*.sh): what each of them does the same way.
# Every function takes the calling script's name first, for its messages.

# bench_need_built NAME BUILD_DIR FILE...: exit 2 unless every FILE is an executable.
bench_need_built() {
	local name=$1 build=$2 f
	shift 2
	for f in "$@"; do
		[ -x "$f" ] || { echo "$name: $f not built (cmake --build $build)" >&2; exit 2; }
	done
}

# bench_init NAME BUILD_DIR: build = BUILD_DIR made absolute and vmscope = its binary; exits 2
# with the usage when BUILD_DIR is missing, or when vmscope is not built.
bench_init() {
	[ -n "${2:-}" ] || { echo "usage: bench/$1 BUILD_DIR" >&2; exit 2; }
	build=$(cd "$2" && pwd)
	vmscope=$build/vmscope
	bench_need_built "$1" "$build" "$vmscope"
}

# bench_start_many_vmas NAME MANY_VMAS N_VMAS WORK: start MANY_VMAS with N_VMAS mappings (it
# stays up for 1800 s), wait until it prints READY (into WORK/ready), and set mpid to its pid.
# Exits 1 (having ended it) when it does not get ready in 30 s; otherwise the caller ends it.
bench_start_many_vmas() {
	local name=$1 many=$2 nvmas=$3 work=$4
	"$many" "$nvmas" 1800 >"$work/ready" &
	mpid=$!
	for _ in $(seq 1 600); do
		grep -q '^READY' "$work/ready" 2>/dev/null && break
		sleep 0.05
	done
	if ! grep -q '^READY' "$work/ready"; then
		echo "$name: many_vmas did not start" >&2
		kill "$mpid" 2>/dev/null || true
		exit 1
	fi
}

# bench_start_daemon NAME OUT VMSCOPE SERVE_ARGS...: start `VMSCOPE serve --listen 127.0.0.1:0
# SERVE_ARGS...` (stdout in OUT.out, stderr in OUT.err), wait until it says where it listens, and
# set dpid and dport. Exits 1 (having ended it) when it does not say so in 10 s.
bench_start_daemon() {
	local name=$1 out=$2 vmscope=$3
	shift 3
	"$vmscope" serve --listen 127.0.0.1:0 "$@" >"$out.out" 2>"$out.err" &
	dpid=$!
	for _ in $(seq 200); do grep -q 'listening on' "$out.out" 2>/dev/null && break; sleep 0.05; done
	dport=$(sed -n 's#^vmscope: listening on http://127\.0\.0\.1:\([0-9]*\)/$#\1#p' "$out.out")
	if [ -z "$dport" ]; then
		echo "$name: the daemon did not start" >&2
		cat "$out.err" >&2
		kill "$dpid" 2>/dev/null || true
		exit 1
	fi
}

# bench_workdir NAME: work (a fresh directory, removed at exit) and pids (each ended by its pid at
# exit); the caller appends to pids.
bench_workdir() {
	work=$(mktemp -d "/tmp/vms-bench-$1-XXXXXX")
	pids=()
	trap bench_cleanup EXIT
}
bench_cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
