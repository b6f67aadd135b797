#!/usr/bin/env bash
# Run every benchmark script in bench/ (all *.sh but this one) against a build directory.
# Usage: bench/run-all.sh BUILD_DIR
# Exits non-zero if any benchmark failed; runs them all regardless.
set -uo pipefail

build=${1:?usage: bench/run-all.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
status=0
for script in "$here"/*.sh; do
	[ "$(basename "$script")" = run-all.sh ] && continue
	echo "=== $(basename "$script")"
	if ! bash "$script" "$build"; then
		echo "=== $(basename "$script") FAILED" >&2
		status=1
	fi
done
exit $status
