#!/usr/bin/env bash
# Golden fixtures (tests/fixtures/golden/*): every stored format this project ever wrote still
# opens, renders and diffs with the current build. The checks are in golden_check.py.
command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }
exec python3 "$(dirname "$0")/golden_check.py"
