#!/usr/bin/env bash
# GET /metrics scraped by the real Prometheus (Debian's `prometheus`, third_party/install-deps.sh
# --monitoring; exit 77 when it is not installed). The daemon on 127.0.0.1:0 with a temporary
# database shows two idle processes our test starts: one through a watch (interval 1 s), one
# through --metrics-process. Prometheus runs on 127.0.0.1 with a temporary scrape config that
# sends the API token from a file (authorization.credentials_file) and scrapes every second. After
# at least two scrapes the test asks Prometheus's own HTTP query API (PromQL) for the processes'
# series and checks them against the vmscope API:
#  - the watched process: every type x column and the totals equal the watch's stored sample whose
#    time is the scraped vmscope_process_sample_timestamp_seconds (the same numbers, to the byte);
#  - the --metrics-process target: size, committed, private and private_ws per type, and uss of
#    the types without file pages, equal a snapshot of it taken through the API. The two are
#    scans at different times: pss, the shared columns and the uss of file pages (Image, Mapped
#    File, Shareable) move when another process maps or unmaps the same file, such as
#    locale-archive, as parallel tests do;
#  - every query of the Grafana dashboard in contrib/ is valid PromQL with an answer;
#  - the scrape itself: up == 1, the daemon's scan counters and histogram are there, and /metrics
#    without the token is 401.
# Prints "N passed, N failed".
set -u

here=$(cd "$(dirname "$0")" && pwd)
BIN=${VMSCOPE_BIN:-$here/../../build/vmscope}

# shellcheck source=lib.sh
. "$here/lib.sh"
harness prom

PROMETHEUS=$(command -v prometheus || true)
if [ -z "$PROMETHEUS" ]; then
	echo "SKIP: prometheus is not installed (third_party/install-deps.sh --monitoring)" >&2
	exit 77
fi
for tool in curl jq python3; do
	command -v "$tool" >/dev/null || { echo "test_prometheus.sh: needs $tool" >&2; exit 1; }
done

# Two idle processes of our own (their memory does not change while we compare).
sleep 600 &
WATCHED=$!
PIDS+=("$WATCHED")
sleep 600 &
NAMED=$!
PIDS+=("$NAMED")
for p in "$WATCHED" "$NAMED"; do # past their exec (a scan that races an exec fails)
	for _ in $(seq 100); do [ "$(cat "/proc/$p/comm" 2>/dev/null)" = sleep ] && break; sleep 0.01; done
done

start daemon --db "$TMP/db" --metrics-process "$NAMED" --metrics-interval 1
DAEMON=$LAST_PID
[ -n "$LAST_PORT" ] || { echo "the daemon did not start: $(cat "$TMP/daemon.err")" >&2; exit 1; }
PORT=$LAST_PORT
BASE=http://127.0.0.1:$PORT/api/v1
TOKEN=$(tr -d '\n' <"$TMP/db.token")

req GET "http://127.0.0.1:$PORT/metrics"
ok "/metrics without the token is 401" err_is 401 unauthorized
api POST /watches -H 'Content-Type: application/json' \
	--data "{\"pid\":$WATCHED,\"interval_ms\":1000,\"snapshot_every_s\":0}"
ok "watch created" is "$code" 201
WID=$(jq -r .id "$TMP/b")

# A free port for Prometheus (bound and released: a race no other test of ours takes part in).
PPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$TMP/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: vmscope
    metrics_path: /metrics
    authorization:
      type: Bearer
      credentials_file: $TMP/db.token
    static_configs:
      - targets: ["127.0.0.1:$PORT"]
EOF
"$PROMETHEUS" --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/tsdb" \
	--web.listen-address="127.0.0.1:$PPORT" >"$TMP/prometheus.log" 2>&1 &
PIDS+=("$!")
PROM=http://127.0.0.1:$PPORT

# jqq [jq options] FILTER FILE: the filter's one output is true (jq 1.6's -e passes empty input)
jqq() { [ "$(jq "$@" 2>/dev/null)" = true ]; }
# promql QUERY: Prometheus's instant query into $TMP/q
promql() { curl -s --max-time 10 -o "$TMP/q" --data-urlencode "query=$1" "$PROM/api/v1/query"; }

scrapes=0
for _ in $(seq 300); do
	promql 'count_over_time(up{job="vmscope"}[5m])' &&
		scrapes=$(jq -r '.data.result[0].value[1] // 0' "$TMP/q" 2>/dev/null || echo 0)
	[ "${scrapes:-0}" -ge 2 ] 2>/dev/null && break
	sleep 0.1
done
ok "Prometheus scraped the daemon at least twice (got ${scrapes:-0})" test "${scrapes:-0}" -ge 2
if [ "${scrapes:-0}" -lt 2 ]; then
	tail -20 "$TMP/prometheus.log" >&2
	echo "$pass passed, $((fail)) failed"
	exit 1
fi
promql 'up{job="vmscope"}'
ok "up == 1 (the bearer token was accepted)" jqq '.data.result[0].value[1] == "1"' "$TMP/q"

# The watched process: wait until Prometheus has a scrape that carried its sample.
for _ in $(seq 100); do
	promql "vmscope_process_sample_timestamp_seconds{pid=\"$WATCHED\"}"
	jq -e '.data.result | length == 1' "$TMP/q" >/dev/null 2>&1 && break
	sleep 0.2
done
ok "the watched process is in Prometheus with source=watch" \
	jqq '.data.result[0].metric.source == "watch" and .data.result[0].metric.comm == "sleep"' "$TMP/q"
# One instant query for all its series: they come from one scrape, so from one sample.
promql "{__name__=~\"vmscope_process_(memory_bytes|memory_total_bytes|sample_timestamp_seconds)\",pid=\"$WATCHED\"}"
cp "$TMP/q" "$TMP/watched.json"
T_MS=$(jq -r '.data.result[] | select(.metric.__name__ == "vmscope_process_sample_timestamp_seconds")
	| .value[1] | tonumber * 1000 | round' "$TMP/watched.json")
api GET "/watches/$WID/samples"
ok "the scraped sample time $T_MS is one of the watch's samples" \
	jqq --argjson t "${T_MS:-0}" '[.samples[] | select(.t_ms == $t)] | length == 1' "$TMP/b"
# Every (type, column) Prometheus has against the stored sample (types it leaves out are 0).
jq -n --slurpfile p "$TMP/watched.json" --slurpfile a "$TMP/b" --argjson t "${T_MS:-0}" '
	($a[0].samples[] | select(.t_ms == $t)) as $s
	| [$p[0].data.result[] | select(.metric.__name__ != "vmscope_process_sample_timestamp_seconds")
	   | {m: .metric, v: (.value[1] | tonumber)}
	   | . + {want: (if .m.__name__ == "vmscope_process_memory_total_bytes"
	                 then $s.total[.m.column] else ($s.types[.m.type][.m.column] // 0) end)}]
	| {n: length, want_n: ((($s.types | keys | map(select(. != "free")) | length) + 1) * 13),
	   bad: [.[] | select(.v != .want)]}' >"$TMP/cmp1.json"
ok "watched process: one series per column of each type the sample has (not Free) and of the total" \
	jqq '.n == .want_n and .n >= 5 * 13' "$TMP/cmp1.json"
ok "watched process: every series equals the stored sample to the byte" jqq '.bad == []' "$TMP/cmp1.json"
[ "$(jq '.bad | length' "$TMP/cmp1.json")" = 0 ] || jq -c '.bad[:5]' "$TMP/cmp1.json" >&2
promql "vmscope_process_memory_bytes{pid=\"$WATCHED\",type=\"heap\",column=\"committed\"}"
ok "PromQL for its Heap committed returns a positive byte count" \
	jqq '.data.result[0].value[1] | tonumber > 0' "$TMP/q"

# The --metrics-process target against a snapshot taken through the API.
api POST "/processes/$NAMED/snapshots" -H 'Content-Type: application/json'
ok "snapshot of the named process" is "$code" 201
SID=$(jq -r .id "$TMP/b")
api GET "/snapshots/$SID"
cp "$TMP/b" "$TMP/snap.json"
for _ in $(seq 50); do
	promql "vmscope_process_memory_bytes{pid=\"$NAMED\"}"
	jq -e '.data.result | length > 0' "$TMP/q" >/dev/null 2>&1 && break
	sleep 0.2
done
jq -n --slurpfile p "$TMP/q" --slurpfile s "$TMP/snap.json" '
	["image", "mapped_file", "shareable"] as $file_types
	| ($s[0].summary | map(select(.blocks > 0 and .type != "free")) | map({key: .type, value: .columns})
	 | from_entries) as $cols
	| [$p[0].data.result[]
	   | select((.metric.column | IN("size", "committed", "private", "private_ws"))
	            or (.metric.column == "uss"
	                and (.metric.type | IN($file_types[]) | not)))
	   | {type: .metric.type, column: .metric.column, v: (.value[1] | tonumber),
	      want: $cols[.metric.type][.metric.column]}]
	| {n: length,
	   want_n: (($cols | length) * 5 - ($cols | keys | map(select(IN($file_types[]))) | length)),
	   bad: [.[] | select(.v != .want)]}' >"$TMP/cmp2.json"
ok "--metrics-process target: 4 or 5 columns of every type the snapshot has compared" \
	jqq '.n == .want_n and .n >= 20' "$TMP/cmp2.json"
ok "--metrics-process target: equal to the API's snapshot" jqq '.bad == []' "$TMP/cmp2.json"
[ "$(jq '.bad | length' "$TMP/cmp2.json")" = 0 ] || jq -c '.bad[:5]' "$TMP/cmp2.json" >&2
promql "vmscope_process_largest_free_block_bytes{pid=\"$NAMED\"}"
ok "largest free block equals the snapshot's Free largest" \
	jqq --slurpfile s "$TMP/snap.json" \
	'(.data.result[0].value[1] | tonumber) == ($s[0].summary[] | select(.type == "free") | .largest)' "$TMP/q"
promql "vmscope_metrics_process_up{target=\"$NAMED\"}"
ok "vmscope_metrics_process_up is 1" jqq '.data.result[0].value[1] == "1"' "$TMP/q"

# The daemon's health as Prometheus sees it.
promql 'sum(vmscope_scans_total{source="watch",result="ok"})'
ok "watch scans are counted" jqq '.data.result[0].value[1] | tonumber >= 1' "$TMP/q"
promql 'vmscope_scan_duration_seconds_count'
ok "the scan duration histogram has counts" jqq '.data.result[0].value[1] | tonumber >= 2' "$TMP/q"
promql 'vmscope_http_errors_total{code="unauthorized"}'
ok "the 401 above is counted by code" jqq '.data.result[0].value[1] | tonumber >= 1' "$TMP/q"
promql 'vmscope_store_bytes'
ok "store bytes are there" jqq '.data.result[0].value[1] | tonumber > 0' "$TMP/q"

# The optional Grafana dashboard (contrib/grafana/vmscope.json): every panel's PromQL, with its
# variables filled in, is valid and finds series.
DASH=${VMSCOPE_SOURCE_DIR:-$here/../..}/contrib/grafana/vmscope.json
nq=0
nbad=0
while IFS= read -r expr; do
	expr=${expr//\$__rate_interval/1m}
	expr=${expr//\$pid/.+}
	nq=$((nq + 1))
	promql "$expr"
	if ! jqq '.status == "success" and (.data.result | length > 0)' "$TMP/q"; then
		nbad=$((nbad + 1))
		echo "dashboard query without an answer: $expr: $(head -c 300 "$TMP/q")" >&2
	fi
done < <(jq -r '.panels[].targets[]?.expr' "$DASH")
ok "the Grafana dashboard's $nq queries all answer" test "$nq" -ge 10 -a "$nbad" -eq 0

# One scan per target per interval: 20 scrapes back to back scan the named process at most once
# per started second of --metrics-interval 1 they took, plus a boundary (not a timed assertion:
# a loaded machine only makes the allowance larger).
t0=$(date +%s%N)
before=$(curl -s -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/metrics" |
	sed -n 's/^vmscope_scans_total{source="metrics",result="ok"} //p')
for _ in $(seq 20); do curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/metrics"; done
after=$(curl -s -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/metrics" |
	sed -n 's/^vmscope_scans_total{source="metrics",result="ok"} //p')
secs=$((($(date +%s%N) - t0 + 999999999) / 1000000000))
ok "22 scrapes in ${secs} s scanned the named process at most $((secs + 1)) times ($before -> $after)" \
	test $((after - before)) -le $((secs + 1))
kill -0 "$DAEMON" 2>/dev/null
ok "the daemon is still running" is $? 0

harness_end
