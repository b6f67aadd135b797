#!/usr/bin/env bash
# Scrape cost of GET /metrics (docs/benchmarks.md, "Metrics"): the daemon watches N idle
# processes (default 50, interval 5 s, no full snapshots); once every watch has a sample, time
# R scrapes (default 50) with curl and report the median and the slowest, next to GET
# /api/v1/health in the same run (the HTTP round trip without the work). Goal: <= 50 ms for 50.
# A scrape reads each watch's latest stored sample; it scans nothing.
#
# Usage: bench/metrics.sh BUILD_DIR [N_PROCESSES] [SCRAPES]
# Needs: BUILD_DIR/vmscope, curl, jq.
set -euo pipefail

build=${1:?usage: bench/metrics.sh BUILD_DIR [N_PROCESSES] [SCRAPES]}
build=$(cd "$build" && pwd)
nproc=${2:-50}
rounds=${3:-50}
vmscope=$build/vmscope
. "$(dirname "$0")/lib.sh"
bench_need_built metrics.sh "$build" "$vmscope"
for t in curl jq; do
	command -v "$t" >/dev/null || { echo "metrics.sh: needs $t" >&2; exit 2; }
done

bench_workdir metrics

bench_start_daemon metrics.sh "$work/d" "$vmscope" --db "$work/db"
pids+=("$dpid")
token=$(tr -d '\n' <"$work/db.token")
base=http://127.0.0.1:$dport
auth="Authorization: Bearer $token"
for _ in $(seq "$nproc"); do
	sleep 3600 &
	pids+=("$!")
	# after its exec: a watch whose first tick races the exec ends as "exited" (the scan
	# reports VMS_ERR_EXITED for an exec mid-read)
	for _ in $(seq 100); do [ "$(cat "/proc/$!/comm" 2>/dev/null)" = sleep ] && break; sleep 0.01; done
	c=$(curl -s -o "$work/w" -w '%{http_code}' -H "$auth" -H 'Content-Type: application/json' \
		-X POST "$base/api/v1/watches" --data "{\"pid\":$!,\"interval_ms\":5000,\"snapshot_every_s\":0}")
	[ "$c" = 201 ] || { echo "metrics.sh: POST /watches: $c $(cat "$work/w")" >&2; exit 1; }
done
for _ in $(seq 600); do
	n=$(curl -s -H "$auth" "$base/metrics" | sed -n 's/^vmscope_watched_processes //p')
	[ "${n:-0}" -ge "$nproc" ] && break
	sleep 0.1
done
if [ "${n:-0}" -lt "$nproc" ]; then
	echo "metrics.sh: only ${n:-0} of $nproc watches have a sample" >&2
	curl -s -H "$auth" "$base/api/v1/watches" | jq -c '.watches[] | select(.samples == 0 or .state != "running")
		| {id, pid, state, note, samples}' >&2
	exit 1
fi

# time_ms PATH: R timings (ms) of GET PATH, sorted
time_ms() {
	for _ in $(seq "$rounds"); do
		curl -s -o /dev/null -w '%{time_total}\n' -H "$auth" "$base$1"
	done | awk '{ printf "%.2f\n", $1 * 1000 }' | sort -n
}
cpu() { awk '{ print $14 + $15 }' "/proc/$dpid/stat"; } # utime + stime, clock ticks
c0=$(cpu)
time_ms /metrics >"$work/m"
c1=$(cpu)
cpu_ms=$(awk -v a="$c0" -v b="$c1" -v t="$(getconf CLK_TCK)" -v n="$rounds" 'BEGIN { printf "%.1f", (b - a) * 1000 / t / n }')
time_ms /api/v1/health >"$work/h"
med() { awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }' "$1"; }
bytes=$(curl -s -H "$auth" "$base/metrics" | wc -c)
lines=$(curl -s -H "$auth" "$base/metrics" | grep -vc '^#')
printf 'metrics.sh: %d watched processes, %d scrapes: /metrics median %s ms, slowest %s ms, daemon CPU %s ms per scrape (%d bytes, %d series); /api/v1/health median %s ms; load %s\n' \
	"$nproc" "$rounds" "$(med "$work/m")" "$(tail -1 "$work/m")" "$cpu_ms" "$bytes" "$lines" "$(med "$work/h")" "$(cut -d' ' -f1 /proc/loadavg)"
awk -v m="$(med "$work/m")" 'BEGIN { exit !(m <= 50) }' || { echo "metrics.sh: goal missed (median > 50 ms)" >&2; exit 1; }
