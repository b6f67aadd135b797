#!/usr/bin/env bash
# `make package`: CPack builds the .deb from this build directory (into a temporary directory),
# and the test checks it the way a fresh Debian 12 would use it, without touching this machine's
# /usr: its control data (Depends from dpkg-shlibdeps, the maintainer scripts), its file list,
# then `dpkg -x` into a temporary root, and from there: the installed binary runs (--version as
# the build's), the daemon it starts serves the dashboard from the installed
# ../share/vmscope/web (a marker written into the installed index.html comes back over HTTP,
# although the source tree's web/ is on this machine too), the man pages render and carry the
# options of --help, the bash completion completes commands and options, and the systemd unit
# passes `systemd-analyze verify` (when systemd-analyze exists) with its sandboxing.
# Exit 77 when cpack or dpkg-deb is missing. Prints "N passed, N failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
BIN=${VMSCOPE_BIN:-$here/../../build/vmscope}
BUILD=$(cd "$(dirname "$BIN")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
harness package

for tool in cpack dpkg-deb curl; do
	command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed" >&2; exit 77; }
done
[ -f "$BUILD/CPackConfig.cmake" ] || { echo "test_package.sh: no CPackConfig.cmake in $BUILD" >&2; exit 1; }

if ! cpack -G DEB -B "$TMP/pkg" --config "$BUILD/CPackConfig.cmake" >"$TMP/cpack.log" 2>&1; then
	cat "$TMP/cpack.log" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
DEB=$(ls "$TMP"/pkg/vmscope_*.deb 2>/dev/null | head -1)
ok "cpack made a .deb" test -f "$DEB"
[ -f "$DEB" ] || { echo "$pass passed, $fail failed"; exit 1; }

deps=$(dpkg-deb -f "$DEB" Depends)
for lib in libcivetweb1 libcjson1 libsqlite3-0 libc6; do
	ok "Depends names $lib ($deps)" grep -q "$lib" <<<"$deps"
done
dpkg-deb -c "$DEB" | awk '{print $6}' >"$TMP/files"
for f in ./usr/bin/vmscope ./usr/share/vmscope/web/index.html ./usr/share/vmscope/web/app.js \
	./usr/share/man/man1/vmscope.1.gz ./usr/share/man/man1/vmscope-serve.1.gz \
	./usr/share/man/man1/vmscope-snapshot.1.gz ./usr/lib/systemd/system/vmscope.service \
	./usr/lib/systemd/system/vmscope.socket ./usr/share/man/man1/vmscope-report.1.gz \
	./usr/share/bash-completion/completions/vmscope ./usr/share/doc/vmscope/api.md \
	./usr/share/doc/vmscope/openapi.json ./usr/share/doc/vmscope/contrib/grafana/vmscope.json; do
	ok "the package holds $f" grep -qx -- "$f" "$TMP/files"
done
ok "nothing outside /usr" test "$(grep -vc '^\./usr' "$TMP/files")" -le 1 # "./"
# The TLS library (SONAME "libssl.so", ssl_compat.c) in a directory of its own: in one ldconfig
# scans, ldconfig would link /usr/lib/libssl.so to it for every program on the machine.
ok "the package holds the TLS library in /usr/lib/vmscope" grep -qx ./usr/lib/vmscope/libvmscope-sslcompat.so "$TMP/files"
ok "no library where ldconfig looks (/usr/lib, /usr/lib/<triplet>)" \
	bash -c "! grep -E '^\./usr/lib/([^/]*-linux-gnu[^/]*/)?[^/]*\.so' '$TMP/files'"

ROOT=$TMP/root
dpkg -x "$DEB" "$ROOT"
IBIN=$ROOT/usr/bin/vmscope
ok "installed binary runs: --version as the build's" is "$("$IBIN" --version)" "$("$BIN" --version)"
# A marker in the installed dashboard: the daemon must serve that copy, not the source tree's.
marker="<!-- installed copy $$ -->"
echo "$marker" >>"$ROOT/usr/share/vmscope/web/index.html"
BIN=$IBIN start installed --db "$TMP/db"
ok "the installed daemon starts" test -n "$LAST_PORT"
req GET "http://127.0.0.1:$LAST_PORT/"
ok "it serves the dashboard from /usr/share/vmscope/web of its root" grep -qF "$marker" "$TMP/b"
req GET "http://127.0.0.1:$LAST_PORT/app.js"
ok "and its modules (app.js is the installed one)" cmp -s "$TMP/b" "$ROOT/usr/share/vmscope/web/app.js"
TOKEN=$(tr -d '\n' <"$TMP/db.token")
req GET "http://127.0.0.1:$LAST_PORT/api/v1/health" -H "Authorization: Bearer $TOKEN"
ok "its API answers" is "$code" 200
# TLS from the installed tree: the binary finds its library in ../lib/vmscope (only there: no
# path of the build tree).
BIN=$IBIN start installed-tls --db "$TMP/dbtls" --tls-self-signed
ok "the installed daemon serves https (its TLS library found in ../lib/vmscope)" test -n "$LAST_PORT"
TOKEN2=$(tr -d '\n' <"$TMP/dbtls.token" 2>/dev/null)
code=$(curl -sk -o "$TMP/b" -w '%{http_code}' -H "Authorization: Bearer $TOKEN2" "https://127.0.0.1:$LAST_PORT/api/v1/health")
ok "and its API answers over https" is "$code" 200

# Man pages: generated from --help, so each carries every option its --help names.
if command -v man >/dev/null; then
	render() { MANWIDTH=200 man -l "$1" 2>/dev/null; }
else
	render() { zcat "$1"; }
fi
for c in serve snapshot watch; do
	render "$ROOT/usr/share/man/man1/vmscope-$c.1.gz" >"$TMP/man.txt"
	missing=$("$IBIN" "$c" --help | grep -o -- '--[a-z][a-z-]*' | sort -u | while read -r o; do
		grep -qF -- "$o" "$TMP/man.txt" || echo "$o"; done)
	ok "vmscope-$c(1) renders with every option of its --help${missing:+ (missing: $missing)}" \
		test -s "$TMP/man.txt" -a -z "$missing"
done
render "$ROOT/usr/share/man/man1/vmscope.1.gz" >"$TMP/man.txt"
ok "vmscope(1) lists the commands and points to their pages" grep -q "vmscope-serve(1)" "$TMP/man.txt"

# Bash completion, as bash would call it, with the installed binary first on PATH.
comp() {
	PATH=$ROOT/usr/bin:$PATH bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _vmscope;
		echo "${COMPREPLY[*]}"' _ "$ROOT/usr/share/bash-completion/completions/vmscope" "$@"
}
ok "completion: vmscope sn<TAB> -> snapshot" is "$(comp vmscope sn)" snapshot
ok "completion: vmscope serve --metrics-p<TAB> -> --metrics-process" is "$(comp vmscope serve --metrics-p)" --metrics-process

# The systemd unit: least privilege and sandboxing as documented, and systemd's own verdict.
UNIT=$ROOT/usr/lib/systemd/system/vmscope.service
ok "unit: exactly CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH" \
	grep -qx 'CapabilityBoundingSet=CAP_SYS_PTRACE CAP_DAC_READ_SEARCH' "$UNIT"
for d in StateDirectory=vmscope DynamicUser=yes NoNewPrivileges=yes ProtectSystem=strict PrivateTmp=yes \
	'RestrictAddressFamilies=AF_INET AF_UNIX'; do
	ok "unit: $d" grep -qx "$d" "$UNIT"
done
ok "unit: a SystemCallFilter" grep -q '^SystemCallFilter=@system-service' "$UNIT"
if command -v systemd-analyze >/dev/null; then
	# ExecStart pointed at the extracted binary (verify wants it to exist); --man=no: the pages
	# are not installed on this machine. verify exits 0 even after a parse warning, so any
	# output at all fails.
	mkdir -p "$TMP/unit"
	sed "s#/usr/bin/vmscope#$IBIN#" "$UNIT" >"$TMP/unit/vmscope.service"
	systemd-analyze verify --man=no "$TMP/unit/vmscope.service" >"$TMP/verify.txt" 2>&1
	rc=$?
	ok "systemd-analyze verify passes silently (rc $rc: $(head -c 300 "$TMP/verify.txt"))" \
		test "$rc" -eq 0 -a ! -s "$TMP/verify.txt"
	# the socket unit beside its service (socket activation: test_socket_activation.py)
	cp "$ROOT/usr/lib/systemd/system/vmscope.socket" "$TMP/unit/"
	systemd-analyze verify --man=no "$TMP/unit/vmscope.socket" >"$TMP/verify-socket.txt" 2>&1
	rc=$?
	ok "systemd-analyze verify vmscope.socket passes silently (rc $rc: $(head -c 300 "$TMP/verify-socket.txt"))" \
		test "$rc" -eq 0 -a ! -s "$TMP/verify-socket.txt"
	if systemd-analyze security --offline=true "$TMP/unit/vmscope.service" >"$TMP/sec.txt" 2>/dev/null; then
		score=$(sed -n 's/.*Overall exposure level for vmscope.service: \([0-9.]*\).*/\1/p' "$TMP/sec.txt")
		ok "systemd-analyze security: exposure ${score:-?} <= 3.0" awk -v s="${score:-99}" 'BEGIN { exit !(s <= 3.0) }'
	fi
else
	skip "systemd-analyze is not installed"
fi

harness_end
