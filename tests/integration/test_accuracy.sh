#!/usr/bin/env bash
# Accuracy: `vmscope snapshot -p PID --json` against `pmap -XX PID` (procps) and
# /proc/PID/smaps_rollup, all three read while the process is stopped with SIGSTOP.
# Targets: vms_testee (every kind of mapping), `sleep`, and a python3 interpreter.
# The comparison itself is tests/integration/accuracy_compare.py (see its docstring).
# Needs: VMSCOPE_BIN, VMSCOPE_HELPERS (set by ctest), pmap (procps), python3.
# Prints "N passed, N failed"; exits non-zero on any failure.
set -u

here=$(cd "$(dirname "$0")" && pwd)
bin=${VMSCOPE_BIN:?VMSCOPE_BIN not set (run through ctest)}
helpers=${VMSCOPE_HELPERS:?VMSCOPE_HELPERS not set (run through ctest)}
passed=0
failed=0
pids=()
work=$(mktemp -d /tmp/vms-accuracy-XXXXXX)

cleanup() {
	for p in "${pids[@]}"; do
		kill -CONT "$p" 2>/dev/null
		kill -TERM "$p" 2>/dev/null
	done
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

ok() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL $*" >&2; }

for tool in pmap python3; do
	if ! command -v "$tool" >/dev/null; then
		fail "$tool is not installed (third_party/install-deps.sh)"
		echo "$passed passed, $failed failed"
		exit 1
	fi
done

# Wait until /proc/PID/stat says state T (stopped); SIGSTOP is delivered asynchronously.
wait_stopped() {
	local pid=$1 st
	for _ in $(seq 1 500); do
		st=$(sed -n 's/^.*) \(.\).*$/\1/p' "/proc/$pid/stat" 2>/dev/null)
		[ "$st" = T ] && return 0
		sleep 0.01
	done
	return 1
}

# Wait until PID has exec'd a program whose name starts with PREFIX. Before execve() the child
# shares copy-on-write pages with this shell, whose writes change the target's Shared/Private
# split between two reads.
wait_exec() {
	local pid=$1 prefix=$2 exe
	for _ in $(seq 1 500); do
		exe=$(readlink "/proc/$pid/exe" 2>/dev/null)
		case "${exe##*/}" in "$prefix"*) return 0 ;; esac
		sleep 0.01
	done
	return 1
}

# compare LABEL PID [PRIVATE_DIR]
compare() {
	local label=$1 pid=$2 private=${3:-} out=$work/$1
	kill -STOP "$pid"
	if ! wait_stopped "$pid"; then
		fail "$label: pid $pid did not stop"
		kill -CONT "$pid"
		return
	fi
	"$bin" snapshot -p "$pid" --json >"$out.json" 2>"$out.err"
	local rc=$?
	pmap -XX "$pid" >"$out.pmap" 2>&1
	cat "/proc/$pid/smaps_rollup" >"$out.rollup"
	# A second snapshot while still stopped must give the same regions and smaps (determinism).
	"$bin" snapshot -p "$pid" --json >"$out.2.json" 2>/dev/null
	kill -CONT "$pid"

	if [ $rc -ne 0 ]; then
		fail "$label: vmscope snapshot -p $pid --json exited $rc: $(head -c 300 "$out.err")"
		return
	fi
	ok
	local res
	res=$(python3 "$here/accuracy_compare.py" "$label" "$out.json" "$out.pmap" "$out.rollup" ${private:+"$private"})
	echo "$res" | grep -v '^[0-9]* passed, [0-9]* failed$'
	local p f
	read -r p f < <(echo "$res" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p')
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-1}))
	if python3 - "$out.json" "$out.2.json" <<'EOF'; then ok; else fail "$label: two snapshots of the stopped process differ"; fi
import json, sys
def key(path):
    s = json.load(open(path))
    return [(r["start"], r["end"], r["perms"], r["path"], r["vm_flags"],
             {k: v for k, v in r["smaps"].items() if k not in ("pss", "pss_dirty", "shared_clean", "private_clean", "referenced")})
            for a in s["allocations"] for r in a["regions"]], [(a["start"], a["type"], a["details"]) for a in s["allocations"]]
a, b = key(sys.argv[1]), key(sys.argv[2])
if a != b:
    for x, y in zip(a[0], b[0]):
        if x != y:
            print("first difference:", x, y)
            break
    sys.exit(1)
EOF
}

# 1. vms_testee
mkdir "$work/files"
"$helpers/vms_testee" "$work/files" 600 >"$work/testee.out" 2>"$work/testee.err" &
tpid=$!
pids+=("$tpid")
for _ in $(seq 1 500); do
	grep -q '^READY' "$work/testee.out" 2>/dev/null && break
	sleep 0.01
done
if grep -q '^READY' "$work/testee.out"; then
	ok
	compare testee "$tpid" "$work/files"
else
	fail "vms_testee did not report READY: $(cat "$work/testee.err")"
fi

# 2. sleep
sleep 1000 &
spid=$!
pids+=("$spid")
if wait_exec "$spid" sleep; then compare sleep "$spid"; else fail "sleep did not start"; fi

# 3. python3 (more libraries, a brk heap and a busy allocator)
python3 -c 'import json, time; x = [str(i) * 10 for i in range(100000)]; time.sleep(1000)' &
ppid=$!
pids+=("$ppid")
sleep 1
if wait_exec "$ppid" python3; then compare python3 "$ppid"; else fail "python3 did not start"; fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
