#!/usr/bin/env bash
# Build every libFuzzer harness (tests/fuzz/fuzz_*.c) with clang, seed it from the fixtures, and
# run each for SECONDS (default 60). Exits 1 on the first finding, naming the artifact; prints
# one line per harness with the inputs it ran. Used by `make fuzz` and CI (.ci/run).
#   tests/fuzz/run.sh [SECONDS] [WORKDIR]
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-60}
work=${2:-$(mktemp -d /tmp/vmscope-fuzz.XXXXXX)}
mkdir -p "$work"
command -v clang >/dev/null || { echo "fuzz: clang is missing (third_party/install-deps.sh --fuzz)" >&2; exit 1; }

cd "$src"
common=(-g -O1 -fno-sanitize-recover=undefined -D_GNU_SOURCE -Iinclude -Iserver/core)
# The code under test is compiled once (instrumented, no libFuzzer main), then linked into each
# harness.
objs=$work/obj
mkdir -p "$objs"
ls server/core/*.c server/core/recognisers/*.c server/json/*.c |
	xargs -P "$(nproc)" -I{} sh -c 'clang "$@" -c "{}" -o "$0/$(echo "{}" | tr / _).o"' "$objs" \
		"${common[@]}" -fsanitize=fuzzer-no-link,address,undefined

# Seeds per harness: smaps text for the parsers, a real snapshot for the importer, the hostile
# regression inputs for attribution, every fixture ELF the tree has for ELF harnesses.
seed() {
	local h=$1 dir=$work/$1/seed
	mkdir -p "$dir" "$work/$h/corpus"
	case "$h" in
	import)
		find tests/fixtures/golden -name '*.json' -size -2M -exec cp {} "$dir/" \; ;;
	attribute)
		cp tests/fixtures/*.smaps "$dir/"
		[ -d tests/fixtures/hostile ] && find tests/fixtures/hostile -type f -exec cp {} "$dir/" \; ;;
	load)
		cp tests/fixtures/*.smaps "$dir/"
		find tests/fixtures/capture -type f -exec cp {} "$dir/" \; ;;
	elf*)
		for f in /bin/true /usr/lib/x86_64-linux-gnu/libc.so.6 tests/fixtures/elf/*; do
			[ -f "$f" ] && cp "$f" "$dir/$(basename "$f")" || true
		done ;;
	*)
		cp tests/fixtures/*.smaps "$dir/" ;;
	esac
	[ -n "$(ls -A "$dir")" ] || echo >"$dir/empty"
}

fail=0
for c in tests/fuzz/fuzz_*.c; do
	h=$(basename "$c" .c)
	h=${h#fuzz_}
	bin=$work/fuzz_$h
	clang "${common[@]}" -fsanitize=fuzzer,address,undefined "$c" "$objs"/*.o -lcjson -lz -lpthread -o "$bin"
	seed "$h"
	log=$work/$h.log
	if (cd "$work/$h" && "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=300000 \
		-artifact_prefix="$work/$h/artifact-" -print_final_stats=1 corpus seed) >"$log" 2>&1; then
		runs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log")
		echo "fuzz_$h: ${runs:-?} inputs in ${secs} s, no finding"
	else
		echo "fuzz_$h: FINDING (log $log):" >&2
		grep -E 'ERROR|SUMMARY|artifact' "$log" | head -8 >&2
		fail=1
	fi
done
exit "$fail"
