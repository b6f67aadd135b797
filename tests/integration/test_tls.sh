#!/usr/bin/env bash
# Sharing with teammates (issue 15): `vmscope serve --tls-self-signed` on 127.0.0.1 serves https
# only (the API and a share link fetched with the printed certificate pinned; plain HTTP and TLS
# 1.1 refused); share links expire (410), run out of views (410) and are revoked at once (404);
# --public-url names the links; plain HTTP off loopback is refused unless --insecure-http (in a
# network namespace of our own when we may make one: no traffic leaves this machine);
# `vmscope snapshot --upload` sends a snapshot to a second daemon whose certificate is checked
# by fingerprint or CA, and a wrong fingerprint is refused with nothing sent.
# Prints "N passed, N failed, N skipped"; exits 1 on any failure, 77 when a part was skipped.
#
# Needs: curl, jq, openssl (the CLI, to compute what curl --pinnedpubkey wants); optional: unshare
# and ip (as root) for the off-loopback part.
set -u

here=$(cd "$(dirname "$0")" && pwd)
BIN=${VMSCOPE_BIN:-$here/../../build/vmscope}
# shellcheck source=lib.sh
. "$here/lib.sh"
harness tls curl jq openssl

# start_tls NAME [serve args]: a daemon with --tls-self-signed on 127.0.0.1:0 and database
# $TMP/NAME.db; sets LAST_PID, LAST_PORT (empty when it did not start).
start_tls() {
	local name=$1
	shift
	start "$name" --db "$TMP/$name.db" --tls-self-signed "$@"
}
stop() {
	kill -TERM "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}
printed_fp() { sed -n 's/^vmscope: TLS certificate SHA-256 fingerprint \(.*\)$/\1/p' "$TMP/$1.out"; }
# curl's --pinnedpubkey form: sha256// + base64 of the SHA-256 of the certificate's public key
pin_of() {
	openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform der |
		openssl dgst -sha256 -binary | base64
}
# tls METHOD URL [curl args]: a request trusting exactly the pinned key ($PIN), no CA check
# (the certificate is self-signed; the pin is the check)
tls() {
	local m=$1 u=$2
	shift 2
	code=$(curl -s --max-time 30 -k --pinnedpubkey "sha256//$PIN" -o "$TMP/b" -D "$TMP/h" \
		-w '%{http_code}' -X "$m" "$@" "$u")
}
tapi() {
	local m=$1 p=$2
	shift 2
	tls "$m" "$BASE$p" -H "Authorization: Bearer $TOKEN" "$@"
}
post() { tapi POST "$1" -H 'Content-Type: application/json' "${@:2}"; }

sleep 300 &
TARGET=$!
PIDS+=("$TARGET")

# --- 1. the daemon with --tls-self-signed -------------------------------------------------
start_tls a
A_PID=$LAST_PID
PORT=$LAST_PORT
ok "tls daemon starts" [ -n "$PORT" ]
[ -n "$PORT" ] || { cat "$TMP/a.err" >&2; echo "$pass passed, $fail failed, $skipped skipped"; exit 1; }
BASE="https://127.0.0.1:$PORT/api/v1"
TOKEN=$(cat "$TMP/a.db.token")
CERT=$TMP/a.db.tls-cert.pem
FP=$(printed_fp a)
ok "the cert and key are kept beside the database, 0600" \
	is "$(stat -c %a "$CERT") $(stat -c %a "$TMP/a.db.tls-key.pem")" "600 600"
ok "the printed fingerprint is the certificate's SHA-256" \
	is "$FP" "$(openssl x509 -in "$CERT" -noout -fingerprint -sha256 | cut -d= -f2)"
ok "first start says it made the certificate" grep -q 'tls-cert.pem (made now)' "$TMP/a.out"
ok "the certificate names 127.0.0.1 and localhost" \
	bash -c "openssl x509 -in '$CERT' -noout -ext subjectAltName | grep -q 'IP Address:127.0.0.1' &&
	         openssl x509 -in '$CERT' -noout -ext subjectAltName | grep -q 'DNS:localhost'"
ok "the open URL is https" grep -q "^vmscope: open https://127.0.0.1:$PORT/#token=" "$TMP/a.out"
PIN=$(pin_of "$CERT")

tapi GET /health
ok "API over https with the key pinned" bash -c "[ '$code' = 200 ] && jq -e '.status == \"ok\"' '$TMP/b' >/dev/null"
code=$(curl -s --max-time 10 -k --pinnedpubkey "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" \
	-o /dev/null -w '%{http_code}' "$BASE/health")
ok "a wrong pin is refused by the client (no answer read)" is "$code" 000
code=$(curl -s --max-time 10 --cacert "$CERT" -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$BASE/health")
ok "the certificate verifies as its own CA for 127.0.0.1" is "$code" 200
code=$(curl -s --max-time 10 -o "$TMP/b" -w '%{http_code}' "http://127.0.0.1:$PORT/api/v1/health")
ok "plain http on the TLS port gets no HTTP answer" is "$code" 000
code=$(curl -s --max-time 10 -k --tls-max 1.1 -o /dev/null -w '%{http_code}' "$BASE/health")
ok "TLS 1.1 is refused" is "$code" 000
tls GET "https://localhost:$PORT/api/v1/health" -H "Authorization: Bearer $TOKEN"
ok "Host localhost:PORT accepted over TLS" is "$code" 200
tapi GET /health -H "Origin: http://127.0.0.1:$PORT" -H 'Sec-Fetch-Site: same-origin'
ok "an http:// Origin is foreign to an https daemon" err_is 403 cross_origin

# --- 2. share links: https URLs, who shared it, expiry, views, revocation ------------------
post "/processes/$TARGET/snapshots" -d '{"share":true,"lifetime":"1h"}'
ok "snapshot with a 1 h link" is "$code" 201
ID=$(jq -r .id "$TMP/b")
SHARE_URL=$(jq -r .share_url "$TMP/b")
T0=$(jq -r .share.token "$TMP/b")
ok "the share URL is https on the port we serve" is "$SHARE_URL" "https://127.0.0.1:$PORT/s/$T0"
ok "its expiry is 1 h after creation" jqt '.share.expires_at_ms - .share.created_at_ms == 3600000 and .share.expired == false'
tls GET "$SHARE_URL"
ok "the share page opens over https (no API token)" bash -c "[ '$code' = 200 ] && grep -qi '<html' '$TMP/b'"
tls GET "$BASE/shared/$T0"
ok "the shared snapshot over https" bash -c "[ '$code' = 200 ] && jq -e '.process.pid == $TARGET' '$TMP/b' >/dev/null"
tls GET "$BASE/shared/$T0/about"
ok "about: host, process, times, read-only, one view" \
	jqt --arg h "$(hostname)" '.read_only == true and .snapshot.host == $h and .snapshot.process.pid != null
	     and (.snapshot.taken_at | length > 0) and (.created_at | length > 0) and .views == 1
	     and (has("snapshot_id") | not)'
post "/snapshots/$ID/share" -d '{"lifetime":"1s"}'
T1=$(jq -r .token "$TMP/b")
SHARE_URL=$(jq -r .url "$TMP/b")
ok "a 1 s link expires 1 s after creation" jqt '.expires_at_ms - .created_at_ms == 1000'
sleep 1.1
tls GET "$BASE/shared/$T1"
ok "after its lifetime the link answers 410 expired" err_is 410 expired
tls GET "$SHARE_URL"
ok "the share page says 410 in plain words" bash -c "[ '$code' = 410 ] && grep -q 'This share link expired' '$TMP/b'"
tls GET "$BASE/shared/$T1/at/0x1000"
ok "an expired link's address lookup is 410 too" err_is 410 expired

post "/snapshots/$ID/share" -d '{}'
ok "a link without a lifetime lasts 7 days" jqt '.expires_at_ms - .created_at_ms == 604800000'
post "/snapshots/$ID/share" -d '{"lifetime":"never"}'
ok "\"never\" said explicitly: no expiry" jqt '.expires_at == null and .expires_at_ms == null'
post "/snapshots/$ID/share" -d '{"lifetime":"forever"}'
ok "a lifetime we cannot read is 400" err_is 400 bad_json
post "/snapshots/$ID/share?lifetime=366d" -d '{}'
ok "more than 365 days is 400" err_is 400 bad_query
post "/snapshots/$ID/share" -d '{"max_views":1,"lifetime":"1h"}'
T2=$(jq -r .token "$TMP/b")
tls GET "$BASE/shared/$T2.txt"
ok "a one-view link opens once" is "$code" 200
tls GET "$BASE/shared/$T2"
ok "... and then answers 410 gone" err_is 410 gone
tapi GET "/snapshots/$ID/shares"
ok "the list shows expiry, views and the expired ones" \
	jqt '(.shares | length) == 5 and ([.shares[] | select(.expired)] | length) == 2
	     and ([.shares[] | select(.max_views == 1 and .views == 1)] | length) == 1'
tapi DELETE "/shares/$T2"
tls GET "$BASE/shared/$T2"
ok "revocation is instant (404)" err_is 404 not_found

# --- 3. restart: the certificate is kept; --public-url names the links ----------------------
stop "$A_PID"
start_tls a --public-url "https://vmscope-team.invalid:8443/"
A_PID=$LAST_PID
PORT=$LAST_PORT
BASE="https://127.0.0.1:$PORT/api/v1"
ok "a restart keeps the certificate" bash -c "[ '$(printed_fp a)' = '$FP' ] && ! grep -q 'made now' '$TMP/a.out'"
post "/snapshots/$ID/share" -d '{}'
ok "--public-url makes the share URL" bash -c "[ \"\$(jq -r .url '$TMP/b')\" = https://vmscope-team.invalid:8443/s/\$(jq -r .token '$TMP/b') ]"
tls GET "$BASE/health" -H "Host: vmscope-team.invalid:$PORT" -H "Authorization: Bearer $TOKEN"
ok "the public URL's host is accepted in Host" is "$code" 200
tls GET "$BASE/health" -H "Host: other.invalid:$PORT" -H "Authorization: Bearer $TOKEN"
ok "another host is still refused" err_is 403 host_not_allowed

# --- 4. plain HTTP off loopback ------------------------------------------------------------
"$BIN" serve --listen 0.0.0.0:0 --db "$TMP/x.db" >"$TMP/x.out" 2>"$TMP/x.err"
rc=$?
ok "plain HTTP on 0.0.0.0 is refused (exit 2, says why)" \
	bash -c "[ $rc = 2 ] && grep -q 'refusing plain HTTP' '$TMP/x.err' && grep -q -- '--tls-self-signed' '$TMP/x.err'"
"$BIN" serve --listen 127.0.0.1:0 --db "$TMP/x.db" --tls-cert "$CERT" >/dev/null 2>"$TMP/x.err"
ok "--tls-cert without --tls-key is a usage error" is "$?" 2
"$BIN" serve --listen 127.0.0.1:0 --db "$TMP/x.db" --tls-cert "$CERT" --tls-key "$CERT" >/dev/null 2>"$TMP/x.err"
ok "a certificate that is not its own key is refused" \
	bash -c "[ $? != 0 ] && grep -q 'private key' '$TMP/x.err'"
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null && command -v ip >/dev/null &&
	unshare -n true 2>/dev/null; then
	# A namespace with only its own loopback, given 10.77.0.1: a real non-loopback address that
	# reaches nothing outside it.
	cat >"$TMP/ns.sh" <<EOF
set -u
ip link set lo up && ip addr add 10.77.0.1/32 dev lo || exit 90
"$BIN" serve --listen 10.77.0.1:0 --db "$TMP/ns1.db" >"$TMP/ns1.out" 2>"$TMP/ns1.err"
echo "plain=\$?"
"$BIN" serve --listen 10.77.0.1:0 --db "$TMP/ns2.db" --insecure-http >"$TMP/ns2.out" 2>"$TMP/ns2.err" &
p=\$!
for _ in \$(seq 100); do grep -q listening "$TMP/ns2.out" 2>/dev/null && break; sleep 0.05; done
port=\$(sed -n 's#^vmscope: listening on http://10\.77\.0\.1:\([0-9]*\)/\$#\1#p' "$TMP/ns2.out")
echo "insecure_port=\$port"
echo "insecure_code=\$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer \$(cat $TMP/ns2.db.token)" http://10.77.0.1:\$port/api/v1/health)"
kill \$p; wait \$p
"$BIN" serve --listen 10.77.0.1:0 --db "$TMP/ns3.db" --tls-self-signed >"$TMP/ns3.out" 2>"$TMP/ns3.err" &
p=\$!
for _ in \$(seq 100); do grep -q listening "$TMP/ns3.out" 2>/dev/null && break; sleep 0.05; done
port=\$(sed -n 's#^vmscope: listening on https://10\.77\.0\.1:\([0-9]*\)/\$#\1#p' "$TMP/ns3.out")
echo "tls_code=\$(curl -s -o /dev/null -w '%{http_code}' --cacert $TMP/ns3.db.tls-cert.pem -H "Authorization: Bearer \$(cat $TMP/ns3.db.token)" https://10.77.0.1:\$port/api/v1/health)"
kill \$p; wait \$p
EOF
	unshare -n bash "$TMP/ns.sh" >"$TMP/ns.log" 2>&1
	ok "in a namespace: plain HTTP on 10.77.0.1 refused" grep -q '^plain=2$' "$TMP/ns.log"
	ok "in a namespace: --insecure-http serves, and warns" \
		bash -c "grep -q '^insecure_code=200$' '$TMP/ns.log' && grep -q 'WARN.*--insecure-http' '$TMP/ns2.err'"
	ok "in a namespace: TLS on 10.77.0.1 serves, certificate names the address" \
		grep -q '^tls_code=200$' "$TMP/ns.log"
else
	skip "off-loopback listening (needs root, unshare -n and ip for a private network namespace; only the argument check above ran)"
fi

# --- 5. upload to a second daemon over TLS -------------------------------------------------
start_tls b
B_PORT=$LAST_PORT
B_FP=$(printed_fp b)
ok "second daemon starts" [ -n "$B_PORT" ]
"$BIN" snapshot -p "$TARGET" --upload "https://127.0.0.1:$B_PORT" --token-file "$TMP/b.db.token" \
	--fingerprint "$B_FP" --lifetime 1h >"$TMP/up.out" 2>"$TMP/up.err"
rc=$?
LINK=$(head -1 "$TMP/up.out")
ok "upload with the fingerprint pinned prints a share link" \
	bash -c "[ $rc = 0 ] && [[ '$LINK' == https://127.0.0.1:$B_PORT/s/* ]]"
PIN=$(pin_of "$TMP/b.db.tls-cert.pem")
tls GET "https://127.0.0.1:$B_PORT/api/v1/shared/${LINK##*/s/}"
ok "the returned link opens: the snapshot of our process" \
	bash -c "[ '$code' = 200 ] && jq -e '.process.pid == $TARGET' '$TMP/b' >/dev/null"
tls GET "$LINK"
ok "the returned link's page opens" is "$code" 200
code=$(curl -s -o "$TMP/b" -w '%{http_code}' --cacert "$TMP/b.db.tls-cert.pem" \
	-H "Authorization: Bearer $(cat "$TMP/b.db.token")" "https://127.0.0.1:$B_PORT/api/v1/snapshots")
COUNT=$(jq '.snapshots | length' "$TMP/b")
WRONG=$(echo "$B_FP" | sed 's/^../00/')
[ "$WRONG" = "$B_FP" ] && WRONG=$(echo "$B_FP" | sed 's/^../11/')
"$BIN" snapshot -p "$TARGET" --upload "https://127.0.0.1:$B_PORT" --token-file "$TMP/b.db.token" \
	--fingerprint "$WRONG" >"$TMP/up.out" 2>"$TMP/up.err"
rc=$?
ok "a wrong fingerprint: non-zero exit, a clear message, nothing printed" \
	bash -c "[ $rc != 0 ] && grep -q 'fingerprint mismatch' '$TMP/up.err' && grep -q 'Nothing was sent' '$TMP/up.err' && [ ! -s '$TMP/up.out' ]"
"$BIN" snapshot -p "$TARGET" --upload "https://127.0.0.1:$B_PORT" --token-file "$TMP/b.db.token" \
	>"$TMP/up.out" 2>"$TMP/up.err"
rc=$?
ok "no trust given: the system CAs do not know a self-signed certificate: refused" \
	bash -c "[ $rc != 0 ] && grep -q 'not trusted' '$TMP/up.err'"
"$BIN" snapshot -p "$TARGET" --upload "https://127.0.0.1:$B_PORT" --token-file "$TMP/a.db.token" \
	--ca "$CERT" >"$TMP/up.out" 2>"$TMP/up.err"
ok "another daemon's certificate as CA: refused" bash -c "[ $? != 0 ] && grep -q 'not trusted' '$TMP/up.err'"
code=$(curl -s -o "$TMP/b" -w '%{http_code}' --cacert "$TMP/b.db.tls-cert.pem" \
	-H "Authorization: Bearer $(cat "$TMP/b.db.token")" "https://127.0.0.1:$B_PORT/api/v1/snapshots")
ok "the refused uploads stored nothing" is "$(jq '.snapshots | length' "$TMP/b")" "$COUNT"
"$BIN" snapshot -p "$TARGET" --upload "https://127.0.0.1:$B_PORT" --ca "$TMP/b.db.tls-cert.pem" \
	--token-file "$TMP/a.db.token" >"$TMP/up.out" 2>"$TMP/up.err"
ok "a wrong token: the daemon's 401 is reported" bash -c "[ $? != 0 ] && grep -q 'HTTP 401' '$TMP/up.err'"
"$BIN" snapshot -p "$TARGET" --upload "https://localhost:$B_PORT" --ca "$TMP/b.db.tls-cert.pem" \
	--token-file "$TMP/b.db.token" --lifetime never >"$TMP/up.out" 2>"$TMP/up.err"
ok "upload by name with --ca, a link that never expires" \
	bash -c "[ $? = 0 ] && grep -q '^https://localhost:$B_PORT/s/' '$TMP/up.out' && grep -q 'until it is revoked' '$TMP/up.err'"
"$BIN" snapshot -p "$TARGET" --upload "http://127.0.0.1:$B_PORT" --fingerprint "$B_FP" >/dev/null 2>"$TMP/up.err"
ok "an http:// upload URL is refused" bash -c "[ $? != 0 ] && grep -q 'not an https' '$TMP/up.err'"
"$BIN" snapshot -p "$TARGET" --upload "https://127.0.0.1:$B_PORT" --ca x --fingerprint "$B_FP" >/dev/null 2>&1
ok "--ca and --fingerprint together: usage error" is "$?" 2

# --- 6. OpenSSL only when TLS is used -----------------------------------------------------
# vmscope does not link libssl/libcrypto (they cost every start ~1.5 ms): the TLS code lives in
# libvmscope-sslcompat.so, loaded on first use; a copy of the binary that cannot find it still
# scans, and refuses TLS with a sentence naming the library.
ok "the binary does not link OpenSSL" bash -c "! readelf -d '$BIN' | grep -qE 'NEEDED.*lib(ssl|crypto)'"
mkdir -p "$TMP/alone"
cp "$BIN" "$TMP/alone/vmscope"
VMSCOPE_SSL_COMPAT=$TMP/absent.so "$TMP/alone/vmscope" snapshot -p "$TARGET" --json >"$TMP/alone.json" 2>"$TMP/alone.err"
ok "without the library a snapshot still works" jq -e ".process.pid == $TARGET" "$TMP/alone.json"
VMSCOPE_SSL_COMPAT=$TMP/absent.so "$TMP/alone/vmscope" snapshot -p "$TARGET" --upload "https://127.0.0.1:$B_PORT" \
	--token-file "$TMP/b.db.token" --fingerprint "$B_FP" >"$TMP/up.out" 2>"$TMP/up.err"
ok "without the library an upload fails, naming it, nothing printed" \
	bash -c "[ $? != 0 ] && grep -q 'libvmscope-sslcompat.so ($TMP/absent.so), which could not be loaded' '$TMP/up.err' && [ ! -s '$TMP/up.out' ]"
libz=$(ldd "$BIN" | awk '/libz\.so/ { print $3 }')
VMSCOPE_SSL_COMPAT=$libz "$TMP/alone/vmscope" snapshot -p "$TARGET" --upload "https://127.0.0.1:$B_PORT" \
	--token-file "$TMP/b.db.token" --fingerprint "$B_FP" >"$TMP/up.out" 2>"$TMP/up.err"
ok "another library under that name: refused, not called" \
	bash -c "[ $? != 0 ] && grep -q 'of this build, and the one loaded is not it' '$TMP/up.err'"
# The library is looked for beside the binary and in ../lib/vmscope from it, never at a path compiled in:
# a package's build directory may exist on the machine that runs it, writable by anyone. Here
# the build's copy is left where it is and only the copy of the binary moves: it must not find it.
ok "the binary names no build directory's copy of the library" \
	bash -c "! grep -qaF '$(dirname "$BIN")/libvmscope-sslcompat.so' '$BIN'"
env -u VMSCOPE_SSL_COMPAT "$TMP/alone/vmscope" snapshot -p "$TARGET" --upload "https://127.0.0.1:$B_PORT" \
	--token-file "$TMP/b.db.token" --fingerprint "$B_FP" >"$TMP/up.out" 2>"$TMP/up.err"
ok "a copy of the binary away from the library does not load the build's copy" \
	bash -c "[ $? != 0 ] && grep -q 'libvmscope-sslcompat.so ($TMP/alone/libvmscope-sslcompat.so), which could not be loaded' '$TMP/up.err'"
cp "$(dirname "$BIN")/libvmscope-sslcompat.so" "$TMP/alone/"
env -u VMSCOPE_SSL_COMPAT "$TMP/alone/vmscope" snapshot -p "$TARGET" --upload "https://127.0.0.1:$B_PORT" \
	--token-file "$TMP/b.db.token" --fingerprint "$B_FP" >"$TMP/up.out" 2>"$TMP/up.err"
ok "with the library beside it, the copy uploads" bash -c "[ $? = 0 ] && grep -q '/s/' '$TMP/up.out'"
code=$(curl -s -o "$TMP/b" -w '%{http_code}' --cacert "$TMP/b.db.tls-cert.pem" \
	-H "Authorization: Bearer $(cat "$TMP/b.db.token")" "https://127.0.0.1:$B_PORT/api/v1/snapshots")
ok "the failed uploads stored nothing" is "$(jq '.snapshots | length' "$TMP/b")" "$((COUNT + 2))"

# --- 6. the dashboard's "Send to…": daemon a sends a stored snapshot to daemon b ------------
PIN=$(pin_of "$CERT")
post "/snapshots/$ID/send" -d "{\"url\":\"https://127.0.0.1:$B_PORT\",\"token\":\"$(cat "$TMP/b.db.token")\",\"fingerprint\":\"$B_FP\",\"lifetime\":\"1d\"}"
ok "send: 201 with b's share link" bash -c "[ '$code' = 201 ] && jq -e '.share_url | startswith(\"https://127.0.0.1:$B_PORT/s/\")' '$TMP/b' >/dev/null"
post "/snapshots/$ID/send" -d "{\"url\":\"https://127.0.0.1:$B_PORT\",\"token\":\"$(cat "$TMP/b.db.token")\",\"fingerprint\":\"$WRONG\"}"
ok "send with a wrong fingerprint: 502 send_failed, says so" \
	bash -c "[ '$code' = 502 ] && jq -e '.error.code == \"send_failed\" and (.error.message | test(\"fingerprint mismatch\"))' '$TMP/b' >/dev/null"
post "/snapshots/$ID/send" -d "{\"url\":\"https://127.0.0.1:$B_PORT\",\"token\":\"0000000000000000000000000000000000000000000000000000000000000000\",\"fingerprint\":\"$B_FP\"}"
ok "send with a wrong token: 502 remote_refused with b's 401" \
	bash -c "[ '$code' = 502 ] && jq -e '.error.code == \"remote_refused\" and (.error.message | test(\"401\"))' '$TMP/b' >/dev/null"
post "/snapshots/$ID/send" -d "{\"url\":\"http://127.0.0.1:$B_PORT\"}"
ok "send to an http:// URL: 400" err_is 400 bad_json
tapi POST "/snapshots/$ID/send" -d '{}'
ok "send without the JSON type: 415" err_is 415 unsupported_media_type

ok "no sanitizer report in any daemon's log" bash -c "! grep -l 'Sanitizer' '$TMP'/*.err"

echo "$pass passed, $fail failed, $skipped skipped"
[ "$fail" -eq 0 ] || exit 1
[ "$skipped" -eq 0 ] || exit 77
exit 0
