#!/bin/bash
# docs/benchmarks.md, "Timeline": daemon CPU while watching bench/many_vmas 1000 at 1 Hz for 60 s
# (default schedule: a full snapshot every 60 s). Run from an empty scratch directory.
B=${B:-$(cd "$(dirname "$0")/.." && pwd)/build}
. "$(dirname "$0")/lib.sh"
$B/bench/many_vmas 1000 300 > mv.out & TP=$!
sleep 1
bench_start_daemon timeline_cpu.sh serve "$B/vmscope" --db "$PWD/db"
DP=$dpid PORT=$dport TOKEN=$(cat db.token)
A=(-H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json')
cpu() { awk '{print $14+$15}' /proc/$DP/stat; }
cat mv.out
c0=$(cpu); sleep 20; c1=$(cpu); echo "idle 20 s: $((c1-c0)) ticks"
curl -s "${A[@]}" -X POST http://127.0.0.1:$PORT/api/v1/watches -d "{\"pid\":$TP,\"interval_ms\":1000}" >/dev/null
c0=$(cpu); sleep 60; c1=$(cpu); echo "watch at 1 s (full snapshot every 60 s), 60 s: $((c1-c0)) ticks"
curl -s "${A[@]}" http://127.0.0.1:$PORT/api/v1/watches/1 | jq -c '{samples, sample_bytes, sampler}'
kill $DP; wait $DP; kill $TP
sqlite3 db "SELECT avg(length(summary)) FROM samples; SELECT body_bytes FROM snapshots;"
