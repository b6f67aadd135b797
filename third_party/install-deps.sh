#!/usr/bin/env bash
# Install whatever vmscope needs that is missing, from Debian 12 packages.
#   third_party/install-deps.sh          build + test dependencies (C libraries, tools)
#   third_party/install-deps.sh --e2e    also the browser test stack (chromium, playwright-core)
#   third_party/install-deps.sh --bench  also the benchmark peers (nginx, wrk, hyperfine, smem)
#   third_party/install-deps.sh --lint   also clang-format (CI's `make format-check`)
#   third_party/install-deps.sh --fuzz   also clang with libFuzzer (`make fuzz`, tests/fuzz/run.sh)
#   third_party/install-deps.sh --heaps  also the runtimes of the heap zoo (tests/zoo): a JDK,
#                                        Go, musl, 32-bit gcc, jemalloc, tcmalloc, mimalloc
#   third_party/install-deps.sh --monitoring  also Prometheus (tests/integration/test_prometheus.sh
#                                        scrapes the daemon with the real one)
# As root it runs apt-get; otherwise it prints the exact command to run and exits 1.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
want=(build-essential cmake pkg-config libcivetweb-dev libcjson-dev zlib1g-dev libsqlite3-dev libssl-dev openssl procps python3 curl jq)
for arg in "$@"; do
  case "$arg" in
    --e2e) want+=(chromium nodejs npm) ;;
    --bench) want+=(nginx-light wrk hyperfine time smem) ;;
    --lint) want+=(clang-format) ;;
    --fuzz) want+=(clang libclang-rt-14-dev) ;;
    --monitoring) want+=(prometheus) ;;
    --heaps) want+=(openjdk-17-jdk-headless golang-go musl-tools gcc-multilib lld libjemalloc2 libgoogle-perftools4
                    libtcmalloc-minimal4 libmimalloc2.0 chromium) ;;
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
  if [ "$arg" = --e2e ]; then
    # playwright-core new enough for Debian 12's chromium (156) needs Node.js >= 20; Debian 12's
    # own nodejs package is 18, so the machine must bring a newer node (this project's machines do).
    node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
    if [ "$node_major" -lt 20 ]; then
      echo "vmscope's browser tests need Node.js >= 20 (found: $(node --version 2>/dev/null || echo none))." >&2
      echo "Install Node.js 20 or newer and run this again." >&2
      exit 1
    fi
  fi
  # every dependency of tests/e2e/package.json (playwright-core; the OpenAPI validator and ajv
  # for openapi.test.mjs), installed when one of them is missing
  e2e_missing=$(cd "$here/../tests/e2e" && node -e 'const fs=require("fs");
    const d=Object.keys(require("./package.json").dependencies||{});
    console.log(d.filter((m)=>!fs.existsSync("node_modules/"+m)).join(" "))' 2>/dev/null || echo all)
  if [ "$arg" = --e2e ] && [ -n "$e2e_missing" ]; then
    echo "installing into tests/e2e/node_modules: $e2e_missing"
    (cd "$here/../tests/e2e" && npm install --no-audit --no-fund --silent)
  fi
done
exit 0
