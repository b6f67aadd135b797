#!/usr/bin/env bash
# `vmscope --version`, GET /api/v1/version and /metrics' vmscope_build_info say the same version,
# commit and build date; the commit is the source tree's HEAD when the tree is a git checkout
# (the build reads it at every build: cmake/version.cmake), the version the project's.
# Prints "N passed, N failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
BIN=${VMSCOPE_BIN:-$here/../../build/vmscope}
SRC=${VMSCOPE_SOURCE_DIR:-$here/../..}
# shellcheck source=lib.sh
. "$here/lib.sh"
harness version

line=$("$BIN" --version)
ok "vmscope --version exits 0" is $? 0
re='^vmscope ([0-9]+\.[0-9]+\.[0-9]+) \(commit ([0-9a-f]{12}(-dirty)?|unknown), built ([0-9]{4}-[0-9]{2}-[0-9]{2})\)$'
if [[ $line =~ $re ]]; then
	version=${BASH_REMATCH[1]} commit=${BASH_REMATCH[2]} built=${BASH_REMATCH[4]}
	pass=$((pass + 1))
else
	fail=$((fail + 1))
	echo "FAIL: --version says '$line'" >&2
fi
want=$(sed -n 's/^project(vmscope VERSION \([0-9.]*\).*/\1/p' "$SRC/CMakeLists.txt")
ok "the version is CMakeLists.txt's ($want)" is "${version:-}" "$want"
if head=$(git -C "$SRC" rev-parse --short=12 HEAD 2>/dev/null); then
	if [ "$(stat -c %Y "$BIN")" -lt "$(git -C "$SRC" log -1 --format=%ct HEAD)" ]; then
		skip "the binary is older than HEAD $head (built at ${commit:-?}): rebuild to check the commit"
	else
		ok "the commit is the checkout's HEAD $head (got ${commit:-})" is "${commit%-dirty}" "$head"
	fi
fi
real_day() { [ "$(date -u -d "$1" +%F 2>/dev/null)" = "$1" ]; }
ok "the build date is a real day" real_day "${built:-x}"

start daemon --db "$TMP/db"
BASE=http://127.0.0.1:$LAST_PORT/api/v1
TOKEN=$(tr -d '\n' <"$TMP/db.token")
api GET /version
ok "GET /version is 200" is "$code" 200
same() { [ "$(jq --arg v "${version:-}" --arg c "${commit:-}" --arg d "${built:-}" \
	'.version == $v and .commit == $c and .build_date == $d' "$TMP/b")" = true ]; }
ok "GET /version says the same version, commit and build date" same
req GET "http://127.0.0.1:$LAST_PORT/metrics" -H "Authorization: Bearer $TOKEN"
ok "vmscope_build_info carries them too" grep -qx "vmscope_build_info{version=\"${version:-}\",commit=\"${commit:-}\",build_date=\"${built:-}\"} 1" "$TMP/b"

harness_end
