#!/usr/bin/env bash
# Several processes in one `vmscope snapshot` run (issue 12, point 11: "only one pid per run"),
# on two processes this script starts (copies of sleep: static, so two scans of one of them
# give the same allocations):
#   * text: one report per process, each after a "======== process PID (NAME) ========" line, in order;
#   * --json: JSON Lines, one snapshot per line, each with the allocations a run of that process
#     alone gives (addresses and types);
#   * CSV: one header row, then the details rows of each process with its PID first, as many
#     rows per process as a run of that process alone has;
#   * -o FILE is written once with every process; nothing when no process could be read;
#   * a process that is gone: its error, the others still written, exit 3; the same process
#     twice is written once; "-p -5" among several is a usage error before any scan;
#   * --upload with two processes is a usage error; `watch` and `residency` refuse a second -p
#     (test_cli.sh);
#   * as nobody (when we are root and setpriv exists): root's process is refused (exit 4) and
#     nobody's own process is still written.
# Prints "N passed, N failed, N skipped"; exits 1 on any failure.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
command -v jq >/dev/null || { echo "SKIP: jq missing"; exit 77; }
setup multi
chmod 755 "$TMP"
cp "$(command -v sleep)" "$TMP/vmsmulti-a"
cp "$(command -v sleep)" "$TMP/vmsmulti-b"
"$TMP/vmsmulti-a" 600 &
A=$!
"$TMP/vmsmulti-b" 600 &
B=$!
sleep 0.3 &
GONE=$!
wait $GONE # a pid that was ours and is gone
PIDS+=("$A" "$B")


# text
run snapshot -p "$A" -p vmsmulti-b
ok "text, two -p: exit 0" is "$rc" 0
ok "text: a header line per process, in order" \
	bash -c "[ \"\$(grep '^======== process ' '$TMP/out')\" = \"\$(printf '======== process %s (vmsmulti-a) ========\n======== process %s (vmsmulti-b) ========' $A $B)\" ]"
ok "text: each header followed by that process's report" \
	bash -c "[ \"\$(grep -c 'memory map of process' '$TMP/out')\" = 2 ] && grep -A2 '^======== process $B ' '$TMP/out' | grep -q 'memory map of process $B (vmsmulti-b)'"

# JSON Lines, each as a run of that process alone
allocs() { jq -c '[.allocations[] | [.address, .type]]'; }
run snapshot -p "$A" -f "vmsmulti-b 600" --json
ok "--json, -p and -f: exit 0" is "$rc" 0
cp "$TMP/out" "$TMP/multi.jsonl"
ok "--json: two lines" is "$(wc -l <"$TMP/multi.jsonl")" 2
ok "--json: each line a snapshot, pids in order" \
	is "$(jq -r '.process.pid' "$TMP/multi.jsonl" | tr '\n' ' ')" "$A $B "
for p in "$A" "$B"; do
	"$BIN" snapshot -p "$p" --json | allocs >"$TMP/alone-$p"
	jq -c "select(.process.pid == $p)" "$TMP/multi.jsonl" | allocs >"$TMP/multi-$p"
	ok "--json: process $p's allocations equal a run of it alone" \
		bash -c "[ -s '$TMP/alone-$p' ] && [ \"\$(jq length '$TMP/alone-$p')\" -gt 5 ] && cmp -s '$TMP/alone-$p' '$TMP/multi-$p'"
done

# CSV: one table
run snapshot -p "$A" -p "$B" --format csv
ok "CSV: exit 0" is "$rc" 0
tr -d '\r' <"$TMP/out" >"$TMP/multi.csv"
ok "CSV: one header row, first, with PID and Process first" \
	bash -c "head -1 '$TMP/multi.csv' | grep -q '^\"PID\",\"Process\",\"Address\",\"Type\",\"Size\"' && [ \"\$(grep -c '\"Address\"' '$TMP/multi.csv')\" = 1 ]"
ok "CSV: every other row starts with one of our pids" \
	bash -c "[ \"\$(tail -n +2 '$TMP/multi.csv' | grep -vc '^\"\\($A\\|$B\\)\",\"vmsmulti-[ab]\",\"')\" = 0 ]"
for p in "$A" "$B"; do
	alone=$("$BIN" snapshot -p "$p" --format csv | tr -d '\r' | sed -n '/^"Address"/,$p' | tail -n +2 | wc -l)
	multi=$(grep -c "^\"$p\"," "$TMP/multi.csv")
	ok "CSV: process $p has the rows of a run of it alone ($multi vs $alone)" bash -c "[ $alone -gt 5 ] && [ $multi = $alone ]"
done

# -o FILE, opened once
run snapshot -p "$A" -p "$B" -o "$TMP/both.json"
ok "-o FILE.json: exit 0, nothing on stdout" bash -c "[ $rc = 0 ] && [ ! -s '$TMP/out' ]"
ok "-o FILE.json: both processes in the file" is "$(jq -r '.process.pid' "$TMP/both.json" | tr '\n' ' ')" "$A $B "
run snapshot -p "$A" -p "$B" -o "$TMP/both.txt"
ok "-o FILE.txt: both reports" is "$(grep -c '^======== process ' "$TMP/both.txt")" 2

# a process that is gone; the same process twice; -p -5
run snapshot -p "$A" -p "$GONE" -p "$B" --json
ok "a gone process among three: exit 3" is "$rc" 3
ok "... its error names it" err_says "no such process: $GONE"
ok "... the two others still written" is "$(jq -r '.process.pid' "$TMP/out" | tr '\n' ' ')" "$A $B "
run snapshot -p "$GONE" -p "$A" -o "$TMP/part.csv"
ok "-o FILE, the first gone: exit 3, the file has the other" \
	bash -c "[ $rc = 3 ] && grep -q '^\"PID\"' '$TMP/part.csv' && grep -q '^\"$A\",' '$TMP/part.csv'"
run snapshot -p "$GONE" -p 999999999 -o "$TMP/none.json"
ok "-o FILE, none readable: exit 3, no file, no temporary left" \
	bash -c "[ $rc = 3 ] && ! ls '$TMP'/none.json* >/dev/null 2>&1"
run snapshot -p "$A" -p "$A" -p vmsmulti-a --json
ok "the same process three times: written once" bash -c "[ $rc = 0 ] && [ \"\$(wc -l <'$TMP/out')\" = 1 ]"
run snapshot -p "$A" -p -5
ok "-p -5 among several: usage error, nothing written" bash -c "[ $rc = 2 ] && [ ! -s '$TMP/out' ] && grep -q \"not '-5'\" '$TMP/err'"
run snapshot -p "$A" -p "$B" --upload https://127.0.0.1:1
ok "--upload with two: usage error naming it" bash -c "[ $rc = 2 ] && grep -q 'upload sends one snapshot' '$TMP/err'"

# as nobody: root's process refused, nobody's written
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
	nb=(setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all --bounding-set=-all --)
	mkdir -m 755 "$TMP/bin"
	cp "$BIN" "$TMP/bin/vmscope"
	chmod 755 "$TMP/bin/vmscope"
	"${nb[@]}" "$TMP/vmsmulti-b" 601 &
	NB=$!
	PIDS+=("$NB")
	sleep 0.2
	"${nb[@]}" "$TMP/bin/vmscope" snapshot -p "$A" -p "$NB" --json >"$TMP/out" 2>"$TMP/err"
	rc=$?
	ok "as nobody, root's process and nobody's: exit 4 (permission)" is "$rc" 4
	ok "... root's process named in the error" err_says "$A"
	ok "... only nobody's process written" is "$(jq -r '.process.pid' "$TMP/out" | tr '\n' ' ')" "$NB "
else
	skip "the nobody part needs root, setpriv and a user nobody"
fi

finish
