#!/usr/bin/env bash
# Across-processes benchmark: vmscope's smem-like views against Debian's smem, measured in the
# same run on the same host (every process of it):
#   vmscope system --areas   vs  smem -w   (memory by area: /proc/meminfo)
#   vmscope system           vs  smem -u   (by user: vmscope reads smaps_rollup, smem every smaps)
#   vmscope files            vs  smem -m   (by mapped file: both read every smaps)
# A sanity check first: libc's Pss summed over processes agrees with smem -m's within 5 %.
#
# Usage: bench/system.sh BUILD_DIR
# Needs: BUILD_DIR/vmscope, smem (third_party/install-deps.sh --bench), hyperfine, python3.
# Goal: vmscope system --areas <= 0.2 x smem -w and vmscope files <= 0.2 x smem -m (medians). VMSCOPE_BENCH_STRICT=1: exit 1
# when a goal is missed.
set -euo pipefail

. "$(dirname "$0")/lib.sh"
bench_init system.sh "${1:-}"
runs=${VMSCOPE_BENCH_RUNS:-5}
goal=0.2
for t in smem hyperfine python3; do
	command -v "$t" >/dev/null || { echo "system.sh: $t missing (third_party/install-deps.sh --bench)" >&2; exit 2; }
done
bench_workdir system
load=$(cut -d' ' -f1-3 /proc/loadavg)
procs=(/proc/[0-9]*)
nprocs=${#procs[@]}

# Sanity (a broken reader would look fast): two processes of ours map one 256 KiB file and
# read every page; vmscope files and smem -m must give it the same Pss (both sum smaps' Pss).
# Not libc: on a busy host processes come and go during smem's seconds-long read.
f=$work/s.dat # short: smem cuts map names at 40 characters
head -c 262144 /dev/zero >"$f"
for _ in 1 2; do
	python3 -c 'import mmap, sys, time
f = open(sys.argv[1], "rb")
m = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
s = sum(m[i] for i in range(0, len(m), 4096)); print("READY", flush=True); time.sleep(900)' "$f" >"$work/ready.$_" &
	pids+=($!)
done
for _ in $(seq 100); do [ "$(cat "$work"/ready.* | grep -c READY)" = 2 ] && break; sleep 0.1; done
ours=$("$vmscope" files --path "$f" --json | python3 -c 'import json, sys; print(sum(x["pss"] for x in json.load(sys.stdin)["files"]) // 1024)')
theirs=$(smem -m -c "map pss" | awk -v f="$f" '$1 == substr(f, 1, 40) { print $NF }')
if [ "$ours" != 256 ] || [ "$theirs" != 256 ]; then
	echo "system.sh: Pss of a file two processes map whole: vmscope $ours KiB, smem -m ${theirs:-none} KiB (want 256)" >&2
	exit 1
fi

# the floor of any smaps reader: the kernel generating every process's smaps text
printf '#!/bin/sh\ncat /proc/[0-9]*/smaps >/dev/null 2>&1\nexit 0\n' >"$work/cat-smaps"
chmod +x "$work/cat-smaps"
hyperfine -N --warmup 1 --runs "$runs" --style basic --export-json "$work/hf.json" \
	-n "vmscope system --areas" "$vmscope system --areas" -n "smem -w" "smem -w" \
	-n "vmscope system" "$vmscope system" -n "smem -u" "smem -u" \
	-n "vmscope files" "$vmscope files" -n "smem -m" "smem -m" -n "cat /proc/*/smaps" "$work/cat-smaps" >&2
declare -A med best cpu
while IFS=$'\t' read -r name m lo c; do
	med[$name]=$m
	best[$name]=$lo
	cpu[$name]=$c
done < <(python3 -c '
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    print(r["command"], r["median"] * 1000, r["min"] * 1000, (r["user"] + r["system"]) * 1000, sep="\t")' "$work/hf.json")

verdict=met
for pair in "vmscope system --areas:smem -w" "vmscope files:smem -m"; do
	awk -v a="${med[${pair%%:*}]}" -v b="${med[${pair#*:}]}" -v g="$goal" 'BEGIN { exit !(a / b > g) }' && verdict=MISSED
done
row() { # ours theirs
	printf '| `%s` | %.1f | %.1f | %.0f | `%s` | %.1f | %.1f | %.0f | %sx | %sx |\n' "$1" "${med[$1]}" "${best[$1]}" "${cpu[$1]}" \
		"$2" "${med[$2]}" "${best[$2]}" "${cpu[$2]}" \
		"$(awk -v a="${med[$1]}" -v b="${med[$2]}" 'BEGIN { printf "%.3f", a / b }')" \
		"$(awk -v a="${cpu[$1]}" -v b="${cpu[$2]}" 'BEGIN { printf "%.3f", a / b }')"
}
cat <<EOT

## Across processes vs smem ($(date -u +%Y-%m-%d), $(uname -r), $(nproc) CPUs, $nprocs processes, load average before the run: $load)
timing: hyperfine $(hyperfine --version | awk '{print $2}') -N --warmup 1 --runs $runs (output to /dev/null); smem $(dpkg-query -W -f='${Version}' smem 2>/dev/null || echo '?')
sanity: Pss of a 256 KiB file two processes map whole: vmscope $ours KiB, smem -m $theirs KiB
| vmscope | median ms | min ms | CPU ms | peer | median ms | min ms | CPU ms | ratio (medians) | ratio (CPU) |
|---|---|---|---|---|---|---|---|---|---|
$(row "vmscope system --areas" "smem -w")
$(row "vmscope system" "smem -u")
$(row "vmscope files" "smem -m")
$(row "vmscope files" "cat /proc/*/smaps")
(CPU = user + sys, mean. The last row is the floor of every smaps reader, smem -m included: the
kernel generating the text; vmscope files spends that plus its own parse.)
goal <= ${goal}x smem -w and smem -m (medians; smem -u is shown, not a goal): $verdict
EOT
if [ "$verdict" != met ] && [ "${VMSCOPE_BENCH_STRICT:-0}" = 1 ]; then
	exit 1
fi
