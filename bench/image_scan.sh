#!/usr/bin/env bash
# Image-heavy scan benchmark (issue 9): `vmscope snapshot --json` of a chromium browser process
# (~800 VMAs, ~200 distinct files: every image's ELF headers, section headers and build-id are
# read, the vdso's sections too) against `cat /proc/PID/smaps` of the same process, in the same
# hyperfine run. Also the first scan with a cold file cache is what a one-shot CLI pays: every
# run here is a new `vmscope` process (no daemon cache).
#
# `cat smaps` of one fresh browser takes 7 to 12 ms, of the next another, and vmscope's own
# share varies much less: one browser's ratio says as much about that browser as about
# vmscope. So several browsers are measured, one after the other, each a new process with a new
# profile, and the goal is judged on the median of their ratios.
#
# Usage: bench/image_scan.sh BUILD_DIR
# Needs: BUILD_DIR/vmscope, /usr/lib/chromium/chromium, hyperfine, python3.
# VMSCOPE_BENCH_RUNS: hyperfine runs per browser (15). VMSCOPE_BENCH_BROWSERS: browsers (3).
# Goal: vmscope <= 2 x cat smaps (median of the browsers' median ratios).
# VMSCOPE_BENCH_STRICT=1: exit 1 when missed.
set -euo pipefail

. "$(dirname "$0")/lib.sh"
bench_init image_scan.sh "${1:-}"
runs=${VMSCOPE_BENCH_RUNS:-15}
browsers=${VMSCOPE_BENCH_BROWSERS:-3}
goal=2
chromium=${VMSCOPE_CHROMIUM_BIN:-/usr/lib/chromium/chromium}
[ -x "$chromium" ] || { echo "image_scan.sh: $chromium missing (apt-get install chromium)" >&2; exit 2; }
command -v hyperfine >/dev/null || { echo "image_scan.sh: hyperfine missing" >&2; exit 2; }
case $browsers in '' | *[!0-9]* | 0) echo "image_scan.sh: VMSCOPE_BENCH_BROWSERS must be a positive number" >&2; exit 2 ;; esac

# each browser runs in a process group of its own (setsid: its pid is the group's id), which is
# ended by that id with its zygote, renderer and crashpad processes, so that none of them loads
# the CPUs while the next browser is measured; its profile is a temporary directory
work=$(mktemp -d /tmp/vms-bench-image-XXXXXX) cpid=
end_browser() {
	[ -n "$cpid" ] || return 0
	kill -- -"$cpid" 2>/dev/null || true
	wait "$cpid" 2>/dev/null || true
	for _ in $(seq 1 50); do # at most 5 s for the rest of the group, then SIGKILL
		pgrep -g "$cpid" >/dev/null || break
		sleep 0.1
	done
	kill -KILL -- -"$cpid" 2>/dev/null || true
	cpid=
}
trap 'end_browser; rm -rf "$work"' EXIT
load=$(cut -d' ' -f1-3 /proc/loadavg)

rows=
for b in $(seq 1 "$browsers"); do
	setsid "$chromium" --headless --no-sandbox --disable-gpu --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$work/profile$b" about:blank </dev/null >/dev/null 2>&1 &
	cpid=$!
	for _ in $(seq 1 100); do
		[ "$(wc -l <"/proc/$cpid/maps" 2>/dev/null || echo 0)" -gt 300 ] && break
		sleep 0.2
	done
	sleep 2
	vmas=$(wc -l <"/proc/$cpid/maps" 2>/dev/null || echo 0)
	if ! kill -0 "$cpid" 2>/dev/null || [ "$vmas" -le 300 ]; then
		echo "image_scan.sh: chromium ($chromium) did not come up: pid $cpid, $vmas VMAs after 22 s" >&2
		exit 1
	fi
	files=$(awk '$6 ~ /^\// { print $6 }' "/proc/$cpid/maps" | sort -u | wc -l)
	"$vmscope" snapshot -p "$cpid" --json >"$work/snap.json"
	nsec=$(python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
im = [a for a in s["allocations"] if a["type"] == "image"]
print("%d/%d" % (sum(1 for a in im if a.get("parts")), len(im)))' "$work/snap.json")
	hyperfine -N --warmup 2 --runs "$runs" --style basic --export-json "$work/hf$b.json" \
		-n vmscope "$vmscope snapshot -p $cpid --json" -n cat-smaps "cat /proc/$cpid/smaps" >&2
	row=$(python3 -c '
import json, sys
res = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
v, c = res["vmscope"], res["cat-smaps"]
cpu = lambda x: (x["user"] + x["system"]) * 1000
print("%.1f %.1f %.2f %.1f %.1f %.2f" % (v["median"] * 1000, c["median"] * 1000, v["median"] / c["median"],
                                         cpu(v), cpu(c), cpu(v) / cpu(c)))' "$work/hf$b.json")
	rows+="$b $vmas $files $nsec $row"$'\n'
	end_browser
done

read -r median cmedian < <(printf '%s' "$rows" | python3 -c '
import statistics, sys
rows = [l.split() for l in sys.stdin if l.strip()]
print("%.2f %.2f" % (statistics.median(float(r[6]) for r in rows), statistics.median(float(r[9]) for r in rows)))')
verdict=$(awk -v r="$median" -v g="$goal" 'BEGIN { print (r <= g) ? "met" : "MISSED" }')
cat <<EOT

## Image scan ($(date -u +%Y-%m-%d), $(uname -r), $(nproc) CPUs, load average before the run: $load)
timing: hyperfine -N --warmup 2 --runs $runs (medians), $browsers chromium browsers, each a new process
| browser | VMAs | files | images with sections | \`vmscope snapshot -p PID --json\` ms | \`cat /proc/PID/smaps\` ms | ratio | CPU ms (user+sys, mean) vmscope / cat | CPU ratio |
|---|---|---|---|---|---|---|---|---|
EOT
printf '%s' "$rows" | while read -r b vmas files nsec vms cat ratio vcpu ccpu cratio; do
	echo "| $b | $vmas | $files | $nsec | $vms | $cat | ${ratio}x | $vcpu / $ccpu | ${cratio}x |"
done
cat <<EOT
median ratio: ${median}x (CPU: ${cmedian}x)
goal vmscope <= ${goal}x cat smaps (median of the browsers): $verdict
EOT
if [ "$verdict" != met ] && [ "${VMSCOPE_BENCH_STRICT:-0}" = 1 ]; then
	exit 1
fi
