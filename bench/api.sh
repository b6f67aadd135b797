#!/usr/bin/env bash
# Daemon benchmark, all in one run on one 60,000-VMA process:
#   - store a snapshot and load it back, against the scan time   (goal: store <= 1x, load <= 0.5x)
#   - diff two such snapshots, against the scan time              (goal: <= 0.5x)
#   - wrk on GET /api/v1/snapshots/{id} against nginx serving the same JSON file from disk, both
#     on loopback                                                  (goal: >= 0.5x nginx's req/s)
#   - the daemon's peak RSS while serving it, against the JSON size (goal: <= 3x)
# plus the layout experiment behind the store (packed blob vs JSON blob vs rows).
#
# Usage: bench/api.sh BUILD_DIR [N_VMAS]
# Needs: BUILD_DIR/vmscope, BUILD_DIR/bench/many_vmas, BUILD_DIR/bench/store_bench, curl, jq,
#        wrk, nginx (nginx-light). third_party/install-deps.sh --bench installs them.
# Environment: VMSCOPE_BENCH_SECONDS (wrk duration, default 10), VMSCOPE_BENCH_CONNS (default 4).
set -euo pipefail

build=${1:?usage: bench/api.sh BUILD_DIR [N_VMAS]}
build=$(cd "$build" && pwd)
nvmas=${2:-60000}
secs=${VMSCOPE_BENCH_SECONDS:-10}
conns=${VMSCOPE_BENCH_CONNS:-4}
vmscope=$build/vmscope
many=$build/bench/many_vmas
sbench=$build/bench/store_bench
. "$(dirname "$0")/lib.sh"
bench_need_built api.sh "$build" "$vmscope" "$many" "$sbench"
for t in curl jq wrk nginx; do
	command -v "$t" >/dev/null || { echo "api.sh: needs $t (third_party/install-deps.sh --bench)" >&2; exit 2; }
done

work=$(mktemp -d /tmp/vms-bench-api-XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

bench_start_many_vmas api.sh "$many" "$nvmas" "$work"
pids+=("$mpid")
vmas=$(wc -l <"/proc/$mpid/maps")

# ---- in-process figures: scan, store, load, diff, and the layout experiment ----------------
mkdir "$work/sb"
"$sbench" "$mpid" "$work/sb" 5 >"$work/sb.txt"
fig() { awk -v k="$1" '$1 == k { print $2 }' "$work/sb.txt"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
scan=$(fig scan_ms)

# ---- the daemon over HTTP ----------------------------------------------------------------------
start_daemon() { # start_daemon NAME -> dpid, dport
	bench_start_daemon api.sh "$work/$1" "$vmscope" --db "$work/api.db" --scan-rate 100
	pids+=("$dpid")
}
hwm_kb() { awk '/^VmHWM/ { print $2 }' "/proc/$1/status"; }
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }

start_daemon d1
token=$(tr -d '\n' <"$work/api.db.token")
auth="Authorization: Bearer $token"
post_s=$(curl -s -o "$work/post.json" -w '%{time_total}' -X POST -H "$auth" -H 'Content-Type: application/json' \
	"http://127.0.0.1:$dport/api/v1/processes/$mpid/snapshots?share=0")
id=$(jq -r .id "$work/post.json")
[ "$id" != null ] || { echo "api.sh: POST failed: $(cat "$work/post.json")" >&2; exit 1; }
first_get_s=$(curl -s -o "$work/snap.json" -w '%{time_total}' -H "$auth" "http://127.0.0.1:$dport/api/v1/snapshots/$id")
second_get_s=$(curl -s -o /dev/null -w '%{time_total}' -H "$auth" "http://127.0.0.1:$dport/api/v1/snapshots/$id")
json_bytes=$(stat -c %s "$work/snap.json")
nreg=$(jq '[.allocations[].regions | length] | add' "$work/snap.json")
[ "$nreg" -eq "$vmas" ] || { echo "api.sh: served snapshot has $nreg regions, maps has $vmas" >&2; exit 1; }
hwm_first=$(hwm_kb "$dpid")
kill -TERM "$dpid"
wait "$dpid" || true

# A fresh daemon serves the kept JSON: peak RSS while serving is measured from here.
start_daemon d2
curl -s -o /dev/null -H "$auth" "http://127.0.0.1:$dport/api/v1/snapshots/$id"
rss_idle=$(rss_kb "$dpid")
echo 5 >"/proc/$dpid/clear_refs" 2>/dev/null || true # reset VmHWM to the current RSS
wrk -t2 -c"$conns" -d"${secs}s" --timeout 30s -H "$auth" "http://127.0.0.1:$dport/api/v1/snapshots/$id" >"$work/wrk-vms.txt"
hwm_serve=$(hwm_kb "$dpid")
vms_rps=$(awk '/^Requests\/sec/ { print $2 }' "$work/wrk-vms.txt")

# ---- nginx on the same JSON file ---------------------------------------------------------------
mkdir -p "$work/www" "$work/nginx"
cp "$work/snap.json" "$work/www/snap.json"
chmod 755 "$work/www"
chmod 644 "$work/www/snap.json"
nport=
for p in $(shuf -i 20000-60000 -n 20); do
	if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then nport=$p; break; fi
done
cat >"$work/nginx/nginx.conf" <<EOF
worker_processes 2;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 256; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    default_type application/json;
    client_body_temp_path $work/nginx/body;
    proxy_temp_path $work/nginx/proxy;
    fastcgi_temp_path $work/nginx/fastcgi;
    uwsgi_temp_path $work/nginx/uwsgi;
    scgi_temp_path $work/nginx/scgi;
    server {
        listen 127.0.0.1:$nport;
        root $work/www;
    }
}
EOF
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" 2>"$work/nginx/start.err" &
npid=$!
pids+=("$npid")
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$nport/snap.json" && break; sleep 0.05; done
curl -s -o "$work/nginx.json" "http://127.0.0.1:$nport/snap.json"
cmp -s "$work/nginx.json" "$work/snap.json" || { echo "api.sh: nginx does not serve the file" >&2; cat "$work/nginx/start.err" >&2; exit 1; }
wrk -t2 -c"$conns" -d"${secs}s" --timeout 30s "http://127.0.0.1:$nport/snap.json" >"$work/wrk-nginx.txt"
nginx_rps=$(awk '/^Requests\/sec/ { print $2 }' "$work/wrk-nginx.txt")

# ---- report --------------------------------------------------------------------------------------
mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1e6 }'; }
kbmb() { awk -v k="$1" 'BEGIN { printf "%.1f MB", k * 1024 / 1e6 }'; }
ms() { awk -v s="$1" 'BEGIN { printf "%.0f", s * 1000 }'; }
pass() { awk -v v="$1" -v g="$2" -v d="$3" 'BEGIN { ok = d == "le" ? v <= g : v >= g; print ok ? "ok" : "MISSED" }'; }

store=$(fig packed_put_ms)
load=$(fig packed_load_ms)
diff=$(fig diff_ms)
r_store=$(ratio "$store" "$scan")
r_load=$(ratio "$load" "$scan")
r_diff=$(ratio "$diff" "$scan")
r_rps=$(ratio "$vms_rps" "$nginx_rps")
r_rss=$(awk -v h="$hwm_serve" -v j="$json_bytes" 'BEGIN { printf "%.2f", h * 1024 / j }')
r_rss_first=$(awk -v h="$hwm_first" -v j="$json_bytes" 'BEGIN { printf "%.2f", h * 1024 / j }')

cat <<EOF
vmscope daemon benchmark: $vmas VMAs (many_vmas $nvmas), $(nproc) CPUs, $(uname -r)
JSON of the snapshot: $(mb "$json_bytes"); packed body: $(mb "$(fig packed_bytes)")

in-process (median of 5)                  ms      x scan   goal
  scan (vms_snapshot_take)          $(printf '%8.1f' "$scan")
  store (vms_store_put, packed)     $(printf '%8.1f' "$store")   $(printf '%6s' "$r_store")   <= 1.00  $(pass "$r_store" 1 le)
  load (vms_store_load)             $(printf '%8.1f' "$load")   $(printf '%6s' "$r_load")   <= 0.50  $(pass "$r_load" 0.5 le)
  diff (vms_diff_compute)           $(printf '%8.1f' "$diff")   $(printf '%6s' "$r_diff")   <= 0.50  $(pass "$r_diff" 0.5 le)
  diff + JSON (GET /diff body)      $(printf '%8.1f' "$(fig diff_json_ms)")   $(printf '%6s' "$(ratio "$(fig diff_json_ms)" "$scan")")
  diff, all 60k regions changed     $(printf '%8.1f' "$(fig diff_all_ms)")   $(printf '%6s' "$(ratio "$(fig diff_all_ms)" "$scan")")   <= 0.50  $(pass "$(ratio "$(fig diff_all_ms)" "$scan")" 0.5 le)
  ...+ JSON (cJSON tree)            $(printf '%8.1f' "$(fig diff_all_json_ms)")   $(printf '%6s' "$(ratio "$(fig diff_all_json_ms)" "$scan")")
  JSON rendering (first GET)        $(printf '%8.1f' "$(fig render_ms)")   $(printf '%6s' "$(ratio "$(fig render_ms)" "$scan")")
  kept JSON streamed (later GETs)   $(printf '%8.1f' "$(fig stream_ms)")   $(printf '%6s' "$(ratio "$(fig stream_ms)" "$scan")")

layout experiment                   store ms   load ms   DB bytes/snapshot
  packed blob (chosen)              $(printf '%8.1f  %8.1f' "$(fig packed_put_ms)" "$(fig packed_load_ms)")   $(mb "$(fig packed_bytes)") (+ $(mb "$json_bytes") JSON once served)
  JSON text blob (schema 1)         $(printf '%8.1f  %8.1f' "$(fig json_put_ms)" "$(fig json_load_ms)")   $(mb "$(fig json_db_bytes_per_snapshot)")
  rows (region + allocation rows)   $(printf '%8.1f  %8.1f' "$(fig rows_put_ms)" "$(fig rows_load_ms)")   $(mb "$(fig rows_db_bytes_per_snapshot)")

over HTTP (curl, one request)       ms
  POST /processes/PID/snapshots     $(printf '%8s' "$(ms "$post_s")")   (scan + store + metadata)
  first GET /snapshots/ID           $(printf '%8s' "$(ms "$first_get_s")")   (renders and keeps the JSON)
  later GET /snapshots/ID           $(printf '%8s' "$(ms "$second_get_s")")

wrk -t2 -c$conns -d${secs}s            req/s
  vmscope GET /snapshots/ID         $(printf '%8s' "$vms_rps")
  nginx, same file from disk        $(printf '%8s' "$nginx_rps")
  ratio                             $(printf '%8s' "$r_rps")   goal >= 0.50  $(pass "$r_rps" 0.5 ge)

daemon peak RSS
  while serving (VmHWM during wrk)  $(kbmb "$hwm_serve") = ${r_rss} x JSON   goal <= 3  $(pass "$r_rss" 3 le)
  idle after one GET                $(kbmb "$rss_idle")
  incl. the first rendering         $(kbmb "$hwm_first") = ${r_rss_first} x JSON (the first rendering, once per snapshot)
EOF
