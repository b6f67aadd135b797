#!/usr/bin/env bash
# Residency benchmark (issue 14): `vmscope residency` (PAGEMAP_SCAN, and the --pagemap fallback)
# against reading the same process's smaps (`cat /proc/PID/smaps`), in one run, on
#   1. a 10 GiB sparse region (one 4 KiB page written per MiB: 10,240 resident pages), and
#   2. a process with 60,000 VMAs of one resident page each (bench/many_vmas).
# The residency is of the whole address space in both cases (the 60k-VMA process), or of the
# 10 GiB region (its process has ~30 other VMAs); smaps is always the whole process.
#
# Two measurements, both in this one run: in-process (bench/residency_bench: the reader against
# reading smaps into a buffer, interleaved, medians of 15) and end to end (hyperfine: the CLI with
# its JSON against `cat /proc/PID/smaps`).
#
# Usage: bench/residency.sh BUILD_DIR
# Needs: BUILD_DIR/vmscope, BUILD_DIR/bench/{many_vmas,sparse_region,residency_bench}, hyperfine,
#        python3.
# Goal: residency (PAGEMAP_SCAN) <= 1x the smaps read of the whole process.
set -euo pipefail

build=${1:?usage: bench/residency.sh BUILD_DIR}
build=$(cd "$build" && pwd)
runs=${VMSCOPE_BENCH_RUNS:-10}
vmscope=$build/vmscope
many=$build/bench/many_vmas
sparse=$build/bench/sparse_region
inproc=$build/bench/residency_bench
. "$(dirname "$0")/lib.sh"
bench_need_built residency.sh "$build" "$vmscope" "$many" "$sparse" "$inproc"
command -v hyperfine >/dev/null || { echo "residency.sh: needs hyperfine" >&2; exit 2; }

load=$(cut -d' ' -f1-3 /proc/loadavg)
work=$(mktemp -d /tmp/vms-bench-res-XXXXXX)
mpid=
spid=
cleanup() {
	[ -n "$mpid" ] && kill "$mpid" 2>/dev/null && wait "$mpid" 2>/dev/null
	[ -n "$spid" ] && kill "$spid" 2>/dev/null && wait "$spid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

"$sparse" 10 1024 1800 >"$work/sparse" &
spid=$!
for _ in $(seq 1 600); do grep -q '^READY' "$work/sparse" 2>/dev/null && break; sleep 0.05; done
grep -q '^READY' "$work/sparse" || { echo "residency.sh: sparse_region did not start" >&2; exit 1; }
range=$(sed -n 's/^READY .* start=0x\([0-9a-f]*\) end=0x\([0-9a-f]*\) .*/\1-\2/p' "$work/sparse")
touched=$(sed -n 's/.*touched=\([0-9]*\).*/\1/p' "$work/sparse")
bench_start_many_vmas residency.sh "$many" 60000 "$work"
vmas=$(wc -l <"/proc/$mpid/maps")

# Sanity: the answers must hold every resident page, or a broken reader would look fast.
check() { # check LABEL WANT ARGS...
	local label=$1 want=$2 got
	shift 2
	got=$("$vmscope" residency --json "$@" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pages"]["present"])')
	if [ "$got" -lt "$want" ]; then
		echo "residency.sh: $label: $got present pages, expected at least $want" >&2
		exit 1
	fi
}
check "sparse, PAGEMAP_SCAN" "$touched" -p "$spid" "$range"
check "sparse, pagemap" "$touched" --pagemap -p "$spid" "$range"
check "60k VMAs, PAGEMAP_SCAN" 60000 -p "$mpid"
check "60k VMAs, pagemap" 60000 --pagemap -p "$mpid"

# In process, several runs (the machine is shared): each run's ratios, then the median ratio.
inruns=${VMSCOPE_BENCH_INPROC_RUNS:-5}
for i in $(seq 1 "$inruns"); do
	"$inproc" "$spid" "$range" >"$work/in.sparse.$i"
	"$inproc" "$mpid" >"$work/in.many.$i"
done
cp "$work/in.sparse.1" "$work/in.sparse"
cp "$work/in.many.1" "$work/in.many"

hyperfine -N --warmup 2 --runs "$runs" --style basic --export-json "$work/hf.json" \
	-n sparse-scan "$vmscope residency --json -p $spid $range" \
	-n sparse-pagemap "$vmscope residency --json --pagemap -p $spid $range" \
	-n sparse-smaps "cat /proc/$spid/smaps" \
	-n many-scan "$vmscope residency --json -p $mpid" \
	-n many-pagemap "$vmscope residency --json --pagemap -p $mpid" \
	-n many-smaps "cat /proc/$mpid/smaps" >&2

python3 - "$work/hf.json" "$load" "$vmas" "$touched" "$runs" "$work" "$inruns" <<'PY'
import json, statistics, subprocess, sys
res = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
load, vmas, touched, runs, work, inruns = sys.argv[2:8]
# per workload and reader: (median ms, min ms, ratio to that run's smaps read) of every run
inp = {}
for key in ("sparse", "many"):
    for i in range(1, int(inruns) + 1):
        rows = {}
        for line in open(f"{work}/in.{key}.{i}"):
            name, medv, minv, n, present, cmed, cmin = line.split()
            rows[name] = (float(medv), float(minv), float(cmed))
        for name, (m, lo, c) in rows.items():
            inp.setdefault((key, name), []).append((m, lo, m / rows["smaps"][0], c, c / rows["smaps"][2]))
def irow(key, name, what):
    runs_ = inp[key, name]
    m = statistics.median(r[0] for r in runs_)
    lo = min(r[1] for r in runs_)
    ratios = sorted(r[2] for r in runs_)
    c = statistics.median(r[3] for r in runs_)
    cr = sorted(r[4] for r in runs_)
    return (f"| {what} | {m:.2f} | {lo:.2f} | {statistics.median(ratios):.2f}x ({', '.join(f'{x:.2f}' for x in ratios)}) "
            f"| {c:.2f} | {statistics.median(cr):.2f}x ({', '.join(f'{x:.2f}' for x in cr)}) |")
def met(key, name, col=2):
    return statistics.median(r[col] for r in inp[key, name]) <= 1.0
def both(key, name):
    return f'{"met" if met(key, name) else "MISSED"} (CPU {"met" if met(key, name, 4) else "MISSED"})'

med = {k: v["median"] * 1000 for k, v in res.items()}
def row(name, what, base):
    return f"| {what} | {med[name]:.2f} | {res[name]['min'] * 1000:.2f} | {med[name] / med[base]:.2f}x |"
uname = subprocess.run(["uname", "-r"], capture_output=True, text=True).stdout.strip()
date = subprocess.run(["date", "-u", "+%Y-%m-%d"], capture_output=True, text=True).stdout.strip()
print(f"""
## Residency ({date}, {uname}, load average before the run: {load})
command: `bench/residency.sh build`
In process (`bench/residency_bench PID [RANGE]`: vms_residency_read against reading the whole
smaps into one buffer, interleaved, medians of 15 rounds after 2 warm-ups; {inruns} runs: median
of the runs' medians, lowest minimum, and the median of the runs' ratios with every run's ratio;
CPU = user + system time of the reading process, the kernel's page-table walk included):
| workload / reader | median ms | min ms | vs smaps read: median (each run) | CPU ms | CPU vs smaps: median (each run) |
|---|---|---|---|---|---|
{irow("sparse", "scan", f"10 GiB sparse region ({touched} resident pages, one per MiB): PAGEMAP_SCAN + exclusive bit from pagemap")}
{irow("sparse", "scan-vouched", "same, what the scan's smaps prove: exclusive where it found no shared page, no PAGE_IS_FILE where every resident page is anonymous (a snapshot with residency)")}
{irow("sparse", "smaps+vouched", "same, reading and parsing smaps itself first")}
{irow("sparse", "scan-noexcl", "same, PAGEMAP_SCAN only (`--no-exclusive`)")}
{irow("sparse", "pagemap", "same, pagemap fallback (8 bytes per page of the 10 GiB)")}
{irow("sparse", "smaps", "same process: read /proc/PID/smaps")}
{irow("many", "scan", f"{vmas} VMAs, one resident page each, whole address space: PAGEMAP_SCAN + exclusive bit")}
{irow("many", "scan-vouched", "same, what the scan's smaps prove")}
{irow("many", "scan-noexcl", "same, PAGEMAP_SCAN only")}
{irow("many", "pagemap", "same, pagemap fallback")}
{irow("many", "smaps", "same process: read /proc/PID/smaps")}
goal (in process, median ratio, wall and CPU): PAGEMAP_SCAN residency <= 1x the smaps read: sparse, live with the exclusive bit {both("sparse", "scan")}; a snapshot's, from its smaps {both("sparse", "scan-vouched")}; without the exclusive bit {both("sparse", "scan-noexcl")}; 60k VMAs {both("many", "scan")}

End to end (hyperfine -N, {runs} runs after 2 warm-ups, JSON to /dev/null):
| workload / command | median ms | min ms | median vs cat smaps |
|---|---|---|---|
{row("sparse-scan", f"10 GiB sparse region ({touched} resident pages): `vmscope residency -p PID RANGE` (PAGEMAP_SCAN)", "sparse-smaps")}
{row("sparse-pagemap", "same, `--pagemap` fallback (8 bytes per page read)", "sparse-smaps")}
{row("sparse-smaps", "same process: `cat /proc/PID/smaps`", "sparse-smaps")}
{row("many-scan", f"{vmas} VMAs, one resident page each: `vmscope residency -p PID` (whole address space, PAGEMAP_SCAN)", "many-smaps")}
{row("many-pagemap", "same, `--pagemap` fallback", "many-smaps")}
{row("many-smaps", "same process: `cat /proc/PID/smaps`", "many-smaps")}
""")
PY
