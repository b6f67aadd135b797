#!/bin/bash
# docs/benchmarks.md, "Timeline": daemon CPU while watching 50 processes (bench/many_vmas NV, default 1000:
# ~1,024 VMAs each) at 0.2 Hz (interval 5 s) for 150 s, default schedule (a full snapshot every
# 60 s, so each watch stores its first one at once). Issue 10's goal: <= 2 % of one CPU above
# idle, from utime+stime in /proc/PID/stat. Run from an empty scratch directory.
B=${B:-$(cd "$(dirname "$0")/.." && pwd)/build}
. "$(dirname "$0")/lib.sh"
NV=${NV:-1000} # VMAs per process (many_vmas NV gives NV + ~24)
TPS=()
for i in $(seq 50); do
	$B/bench/many_vmas "$NV" 600 >"mv$i.out" &
	TPS+=($!)
done
for i in $(seq 50); do
	for _ in $(seq 600); do grep -q READY "mv$i.out" && break; sleep 0.05; done
done
bench_start_daemon timeline_cpu50.sh serve "$B/vmscope" --db "$PWD/db"
DP=$dpid PORT=$dport TOKEN=$(cat db.token)
A=(-H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json')
cpu() { awk '{print $14+$15}' /proc/$DP/stat; }
HZ=$(getconf CLK_TCK)
c0=$(cpu); sleep 20; c1=$(cpu); idle=$((c1-c0)); echo "idle 20 s: $idle ticks"
for p in "${TPS[@]}"; do
	curl -s "${A[@]}" -X POST http://127.0.0.1:$PORT/api/v1/watches -d "{\"pid\":$p,\"interval_ms\":5000}" >/dev/null
done
# The first minute holds every watch's first full snapshot at once; then each stores one a minute.
# Measured: that first minute (what the figures of earlier sessions are), and the steady state:
# from 30 s to 150 s after the watches began, which holds exactly two rounds of full snapshots
# (at 60 s and 120 s) and 24 ticks per watch.
c0=$(cpu); sleep 30; c30=$(cpu); sleep 30; c1=$(cpu); w=$((c1-c0))
echo "50 watches at 0.2 Hz, first 60 s: $w ticks = $((w * 1000 / HZ)) ms = $(awk -v t=$w -v hz=$HZ 'BEGIN{printf "%.2f", t/hz/60*100}') % of one CPU (idle: $(awk -v t=$idle -v hz=$HZ 'BEGIN{printf "%.2f", t/hz/20*100}') %)"
sleep 90; c150=$(cpu); w=$((c150-c30))
echo "50 watches at 0.2 Hz, steady state (30 s to 150 s): $w ticks = $((w * 1000 / HZ)) ms = $(awk -v t=$w -v hz=$HZ 'BEGIN{printf "%.2f", t/hz/120*100}') % of one CPU"
curl -s "${A[@]}" http://127.0.0.1:$PORT/api/v1/watches | jq -c '[.watches[].samples] | {watches: length, samples: add, min: min, max: max}'
curl -s "${A[@]}" http://127.0.0.1:$PORT/api/v1/watches | jq -c '[.watches[].sampler.effective_interval_ms] | unique'
kill $DP; wait $DP
for p in "${TPS[@]}"; do kill "$p"; done
wait 2>/dev/null
