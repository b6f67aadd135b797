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
# Goal: each vmscope command <= 0.2 x its smem peer (medians). VMSCOPE_BENCH_STRICT=1: exit 1
# when a goal is missed.
set -euo pipefail

build=${1:?usage: bench/system.sh BUILD_DIR}
build=$(cd "$build" && pwd)
runs=${VMSCOPE_BENCH_RUNS:-5}
goal=0.2
vmscope=$build/vmscope
. "$(dirname "$0")/lib.sh"
bench_need_built system.sh "$build" "$vmscope"
for t in smem hyperfine python3; do
	command -v "$t" >/dev/null || { echo "system.sh: $t missing (third_party/install-deps.sh --bench)" >&2; exit 2; }
done
bench_workdir system
load=$(cut -d' ' -f1-3 /proc/loadavg)
nprocs=$(ls -d /proc/[0-9]* | wc -l)

# Sanity: the same answer for libc (a broken reader would look fast). Processes that start or
# exit between the two reads move libc's Pss, so up to three tries, back to back.
libc=$(awk '$6 ~ /\/libc\.so\.6$/ { print $6; exit }' /proc/self/maps)
sane=
for _ in 1 2 3; do
	"$vmscope" files --path "$libc" --json >"$work/v.json"
	smem -m -c "map pss" >"$work/smem-m.txt"
	read -r ours theirs < <(python3 - "$work/v.json" "$work/smem-m.txt" "$libc" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
ours = sum(f["pss"] for f in j["files"]) // 1024
theirs = 0
for line in open(sys.argv[2]):
    parts = line.split()
    if parts and parts[0] == sys.argv[3]:
        theirs = int(parts[-1])
print(ours, theirs)
PY
)
	if awk -v a="$ours" -v b="$theirs" 'BEGIN { exit !(b > 0 && (a - b) ^ 2 <= (0.05 * b) ^ 2) }'; then
		sane=1
		break
	fi
done
if [ -z "$sane" ]; then
	echo "system.sh: libc Pss: vmscope $ours KiB, smem -m $theirs KiB (more than 5 % apart, 3 tries)" >&2
	exit 1
fi

# the floor of any smaps reader: the kernel generating every process's smaps text
printf '#!/bin/sh\nexec cat /proc/[0-9]*/smaps >/dev/null 2>&1 || true\n' >"$work/cat-smaps"
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
for pair in "vmscope system --areas:smem -w" "vmscope system:smem -u" "vmscope files:smem -m"; do
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
sanity: libc's Pss over all processes: vmscope $ours KiB, smem -m $theirs KiB
| vmscope | median ms | min ms | CPU ms | peer | median ms | min ms | CPU ms | ratio (medians) | ratio (CPU) |
|---|---|---|---|---|---|---|---|---|---|
$(row "vmscope system --areas" "smem -w")
$(row "vmscope system" "smem -u")
$(row "vmscope files" "smem -m")
$(row "vmscope files" "cat /proc/*/smaps")
(CPU = user + sys, mean. The last row is the floor of every smaps reader, smem -m included: the
kernel generating the text; vmscope files spends that plus its own parse.)
goal each <= ${goal}x smem (medians): $verdict
EOT
if [ "$verdict" != met ] && [ "${VMSCOPE_BENCH_STRICT:-0}" = 1 ]; then
	exit 1
fi
