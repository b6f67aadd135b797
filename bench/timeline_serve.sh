#!/bin/bash
# docs/benchmarks.md, "Timeline": serving a 24 h x 1 Hz watch downsampled to 1,000 points
# (issue 10's goal: <= 50 ms). Stores the watch with `timeline_bench 86400 keep` (or takes
# DB=PATH, a database kept before), starts the daemon on it, and asks GET
# /api/v1/watches/1/samples N times (default 20) with every column and with the dashboard's
# ?columns=committed,private,total_ws; prints the daemon's CPU per request (utime+stime from
# /proc/PID/stat, so 10 ms / N resolution), the wall time curl saw (median) and the bytes.
# Usage: bench/timeline_serve.sh BUILD_DIR
set -eu
. "$(dirname "$0")/lib.sh"
bench_init timeline_serve.sh "${1:-}"
bench_workdir timeline_serve
N=${N:-20}
db=${DB:-}
if [ -z "$db" ]; then
	bench_need_built timeline_serve.sh "$build" "$build/bench/timeline_bench"
	db=$("$build/bench/timeline_bench" 86400 keep | sed -n 's/^kept //p')
	[ -n "$db" ] || { echo "timeline_serve.sh: timeline_bench kept no database" >&2; exit 1; }
	keep_dir=$(dirname "$db")
	trap 'bench_cleanup; rm -rf "$keep_dir"' EXIT
fi
bench_start_daemon timeline_serve.sh "$work/daemon" "$vmscope" --db "$db"
pids+=("$dpid")
token=$(cat "$db.token")
cpu() { awk '{print $14+$15}' "/proc/$dpid/stat"; }
hz=$(getconf CLK_TCK)
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for q in "" "?columns=committed,private,total_ws"; do
	url="http://127.0.0.1:$dport/api/v1/watches/1/samples$q"
	curl -sf -H "Authorization: Bearer $token" "$url" -o "$work/body" # warm the page cache
	c0=$(cpu)
	for _ in $(seq "$N"); do
		curl -sf -H "Authorization: Bearer $token" "$url" -o "$work/body" -w '%{time_total}\n'
	done >"$work/times"
	c1=$(cpu)
	wall=$(sort -n "$work/times" | awk '{v[NR]=$1} END {printf "%.1f", v[int((NR+1)/2)]*1000}')
	echo "samples${q:- (every column)}: $(jq '.samples | length' "$work/body") points, $(stat -c %s "$work/body") bytes;" \
		"daemon CPU $(awk -v t=$((c1 - c0)) -v hz="$hz" -v n="$N" 'BEGIN{printf "%.1f", t / hz / n * 1000}') ms per request" \
		"($((c1 - c0)) ticks over $N), curl wall median $wall ms"
done
