#!/usr/bin/env bash
# Install whatever vmscope needs that is missing, from Debian 12 packages.
#   third_party/install-deps.sh          build + test dependencies (C libraries, tools)
#   third_party/install-deps.sh --e2e    also the browser test stack (chromium, playwright-core)
#   third_party/install-deps.sh --bench  also the benchmark peers (nginx, wrk, hyperfine)
# As root it runs apt-get; otherwise it prints the exact command to run and exits 1.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
want=(build-essential cmake pkg-config libcivetweb-dev libcjson-dev libsqlite3-dev procps python3 curl jq)
for arg in "$@"; do
  case "$arg" in
    --e2e) want+=(chromium nodejs npm) ;;
    --bench) want+=(nginx-light wrk hyperfine time) ;;
    *) echo "install-deps.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${want[@]}"; do
  if [ "$p" = nodejs ] || [ "$p" = npm ]; then
    command -v "${p/nodejs/node}" >/dev/null 2>&1 && continue
  fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "vmscope needs these Debian packages: ${missing[*]}" >&2
    echo "Run as root:  apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

for arg in "$@"; do
  if [ "$arg" = --e2e ] && [ ! -d "$here/../tests/e2e/node_modules/playwright-core" ]; then
    echo "installing playwright-core into tests/e2e/node_modules"
    (cd "$here/../tests/e2e" && npm install --no-audit --no-fund --silent)
  fi
done
exit 0
