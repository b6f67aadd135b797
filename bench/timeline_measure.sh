#!/bin/bash
# Used for docs/benchmarks.md, "Timeline": run from an empty scratch directory; set B to the build dir.
# bytes per sample and daemon CPU: watch vms_testee at 1 s (and at 100 ms for the byte count)
B=${B:-$(cd "$(dirname "$0")/.." && pwd)/build}
. "$(dirname "$0")/lib.sh"
mkdir -p d; $B/tests/vms_testee $PWD/d 200 > testee.out & TP=$!
sleep 1
bench_start_daemon timeline_measure.sh serve "$B/vmscope" --db "$PWD/db"
DP=$dpid PORT=$dport TOKEN=$(cat db.token)
A=(-H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json')
cpu() { awk '{print $14+$15}' /proc/$DP/stat; }
c0=$(cpu); sleep 10; c1=$(cpu); echo "idle 10 s: $((c1-c0)) ticks"
curl -s "${A[@]}" -X POST http://127.0.0.1:$PORT/api/v1/watches -d "{\"pid\":$TP,\"interval_ms\":1000,\"snapshot_every_s\":0}" >/dev/null
c0=$(cpu); sleep 60; c1=$(cpu); echo "watch at 1 s, 60 s: $((c1-c0)) ticks (hz $(getconf CLK_TCK))"
curl -s "${A[@]}" -X POST http://127.0.0.1:$PORT/api/v1/watches -d "{\"pid\":$TP,\"interval_ms\":100,\"snapshot_every_s\":0}" >/dev/null
sleep 30
curl -s "${A[@]}" http://127.0.0.1:$PORT/api/v1/watches | jq -c '.watches[] | {id, samples, sample_bytes, per: (.sample_bytes / .samples)}'
grep -c . /proc/$TP/maps
kill $DP; wait $DP; kill $TP
sqlite3 db "SELECT watch_id, count(*), avg(length(summary)), avg(bytes) FROM samples GROUP BY watch_id; SELECT name, sum(pgsize), count(*) FROM dbstat WHERE name IN ('samples','samples_by_snapshot') GROUP BY name;" 2>&1
ls -la db
