#!/usr/bin/env bash
# Dashboard benchmark: a 60,000-VMA snapshot in headless chromium: time to first
# complete paint of the snapshot view (goal <= 1.5 s) and whether scrolling the details table
# keeps up. Runs the real daemon on 127.0.0.1:0 with a temporary database.
#
# Usage: bench/dashboard.sh BUILD_DIR [N_VMAS]
# Needs: BUILD_DIR/vmscope, BUILD_DIR/bench/many_vmas, node, /usr/bin/chromium and
#        tests/e2e/node_modules/playwright-core (installed here with npm when missing).
# Set VMSCOPE_BENCH_STRICT=1 to exit 1 when a goal is missed; VMSCOPE_BENCH_RUNS=N paint runs.
set -euo pipefail
build=${1:?usage: bench/dashboard.sh BUILD_DIR [N_VMAS]}
build=$(cd "$build" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
# chromium, node and playwright-core: the same stack as the e2e tests (installs what is missing
# when run as root, else says what to install).
if ! command -v node >/dev/null || [ ! -x /usr/bin/chromium ] || [ ! -d "$here/../tests/e2e/node_modules/playwright-core" ]; then
	"$here/../third_party/install-deps.sh" --e2e || { echo "dashboard.sh: chromium, node or playwright-core missing" >&2; exit 2; }
fi
exec node "$here/dashboard.mjs" "$build" "${2:-60000}"
