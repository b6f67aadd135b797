#!/usr/bin/env bash
# The CLI's argument handling (issue 12, point 11): a pid that looks like an option is an error,
# not a process name; a second -p is an error where one process is taken (snapshot takes several); --json with an -o of another format is an error
# (it never silently writes CSV); -o - writes to standard output in the --format asked; the
# text report's Free row is in human units; it states Total WS = ps RSS + page tables (so does
# the CSV) and shows Dirty per row as pmap -x does; --units human; `vmscope token --db` of a
# database no daemon ever used fails and creates nothing. Each check runs against a process this script starts.
# Prints "N passed, N failed"; exits 1 on any failure.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
command -v jq >/dev/null || { echo "SKIP: jq missing"; exit 77; }
setup cli
sleep 600 &
TPID=$!
# two programs whose names share a prefix, for name and command-line matching; the names carry
# this run's tag (comm keeps 15 characters) so that copies of this test running at once do not
# find each other's processes
sl=vc$(printf %04x $((RANDOM)))-sleeper
cp "$(command -v sleep)" "$TMP/$sl"
cp "$(command -v sleep)" "$TMP/${sl}3"
"$TMP/$sl" 600 &
EXACT=$!
"$TMP/${sl}3" 601 &
PREFIXED=$!
# a process whose command line holds a newline and an escape sequence (a hostile name)
(exec -a $'vmscli-odd\n#\e[2J fake row' sleep 300) &
ODD=$!
PIDS+=("$TPID" "$EXACT" "$PREFIXED" "$ODD")

empty_out() { [ ! -s "$TMP/out" ]; }

run snapshot -p -5
ok "-p -5: usage error (exit 2)" is "$rc" 2
ok "-p -5: says it is not a process name" err_says "not '-5'"
ok "-p -5: nothing on stdout" empty_out

# a second -p: several processes for snapshot (test_snapshot_multi.sh), never a silent winner
# for the commands that take one
run watch -p "$TPID" -p 1 -n 1
ok "watch, a second -p: usage error" is "$rc" 2
ok "watch, a second -p: says so" err_says "a second -p"
ok "watch, a second -p: nothing watched" empty_out
run residency -p "$TPID" -p 1
ok "residency, a second -p: usage error" is "$rc" 2
ok "residency, a second -p: says so" err_says "a second -p"

# -p NAME: an exact name wins; else a name that starts with it (python finds python3)
run snapshot -p $sl -o - --format json
ok "-p NAME: the exact name wins over a longer one" bash -c "[ $rc = 0 ] && jq -e '.process.pid == $EXACT' '$TMP/out' >/dev/null"
run snapshot -f "$sl"
ok "-f matching several: exit 6" is "$rc" 6
ok "-f matching several: lists them" bash -c "grep -Eq '^ *$EXACT ' '$TMP/err' && grep -Eq '^ *$PREFIXED ' '$TMP/err'"
kill $EXACT 2>/dev/null
wait $EXACT 2>/dev/null
run snapshot -p $sl -o - --format json
ok "-p NAME: a name that starts with it when none equals it" bash -c "[ $rc = 0 ] && jq -e '.process.pid == $PREFIXED' '$TMP/out' >/dev/null"
run snapshot -p vc-nosuch-$$
ok "-p NAME of nothing: exit 3" is "$rc" 3
# -f TEXT: a substring of the command line; several matches are listed
run snapshot -f "$TMP/${sl}3 601" -o - --format json
ok "-f TEXT: the process whose command line contains it" bash -c "[ $rc = 0 ] && jq -e '.process.pid == $PREFIXED' '$TMP/out' >/dev/null"
run capture -f "$sl" -p 1 -o "$TMP/c.json.gz"
ok "capture -f and -p together: usage error" is "$rc" 2

run snapshot -p "$TPID" --json -o "$TMP/x.csv"
ok "--json -o x.csv: usage error" is "$rc" 2
ok "--json -o x.csv: says the formats conflict" err_says "conflicting formats"
ok "--json -o x.csv: no file written" test ! -e "$TMP/x.csv"
run snapshot -p "$TPID" --format csv --json
ok "--format csv --json: usage error" is "$rc" 2
run snapshot -p "$TPID" --format xml
ok "--format xml: usage error" is "$rc" 2

run snapshot -p "$TPID" -o - --format json
ok "-o - --format json: exit 0" is "$rc" 0
ok "-o - --format json: the snapshot as JSON on stdout" bash -c "jq -e --argjson p $TPID '.format_version == 1 and .process.pid == \$p' '$TMP/out' >/dev/null"
run snapshot -p "$TPID" -o - --format csv
ok "-o - --format csv: exit 0" is "$rc" 0
ok "-o - --format csv: CSV on stdout" bash -c "head -1 '$TMP/out' | grep -q '^\"Process:\",\"sleep\"' && grep -q '^\"Type\",\"Size\"' '$TMP/out'"
run snapshot -p "$TPID" -o - --format txt
ok "-o - --format txt: the text report" bash -c "[ $rc = 0 ] && grep -q '^Summary (' '$TMP/out'"
ok "-o -: no file named '-'" test ! -e ./-
run snapshot -p "$TPID" --format csv -o "$TMP/report.out"
ok "--format csv -o FILE without a known extension: CSV" bash -c "[ $rc = 0 ] && head -1 '$TMP/report.out' | grep -q '^\"Process:\"'"

# the text report's Free row: human units, and the same sizes as the JSON summary
run snapshot -p "$TPID" -o - --format json
cp "$TMP/out" "$TMP/s.json"
run snapshot -p "$TPID"
free=$(grep '^Free ' "$TMP/out")
ok "Free row in human units ($free)" bash -c "printf '%s' '$free' | grep -Eq '^Free +[0-9.]+ (GiB|TiB|PiB) +[0-9]+ +[0-9.]+ (MiB|GiB|TiB|PiB)\$'"
size_tib=$(printf '%s' "$free" | awk '{ v = $2; u = $3; m = (u == "GiB") ? 1/1024 : (u == "PiB") ? 1024 : 1; print v * m }')
want_tib=$(jq '.summary[] | select(.type == "free") | .columns.size / 1099511627776' "$TMP/s.json")
ok "Free size agrees with the JSON ($size_tib vs $want_tib TiB)" awk -v a="$size_tib" -v b="$want_tib" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= b * 0.01) }'

# the text report states how Total WS relates to ps RSS, with numbers that add up, the same
# Total WS as its own Total row; the rows show Dirty (as pmap -x) equal to the JSON's dirty
rel=$(grep '^Total WS ' "$TMP/out")
ok "text: a Total WS line after the summary ($rel)" bash -c "printf '%s' '$rel' | grep -Eq '^Total WS [0-9]+ KiB (= ps RSS [0-9]+ KiB \\(VmRSS\\) \\+ page tables|is resident memory \\+ page tables)'"
ok "text: the Total WS line adds up and matches the Total row" awk -v rel="$rel" '
	$1 == "Total" && $2 ~ /^[0-9]+$/ { tws = $5 }
	END { n = split(rel, w, " "); ws = w[3]; if (rel ~ / = ps RSS /) { rss = w[8]; pte = w[14]; if (ws != rss + pte) exit 1 } exit !(ws == tws) }' "$TMP/out"
ok "text: allocation rows have a Dirty column after Total WS" grep -Eq '^Address +Type +Size +Committed +Private +Total WS +Dirty +Protection +Details$' "$TMP/out"
first=$(jq -r '.allocations[0].start' "$TMP/s.json")
want_dirty=$(jq '.allocations[0].columns.dirty as $d | ($d / 1024 | floor) + (if $d % 1024 >= 512 then 1 else 0 end)' "$TMP/s.json")
got_dirty=$(awk -v a="$first" '$1 == a { for (i = 3; i <= NF; i++) if ($i ~ /^[-r][-w][-x][ps]/) { print $(i - 1); exit } }' "$TMP/out")
ok "text: Dirty of $first is the JSON's ($got_dirty vs $want_dirty KiB)" is "$got_dirty" "$want_dirty"
# the CSV says the same in a header row
run snapshot -p "$TPID" -o - --format csv
ok "csv: a Total WS: header row" grep -Eq '^"Total WS:","[0-9]+ KiB (=|is|includes) ' "$TMP/out"
# --units human: every size of the text report in human units; --units is refused elsewhere
run snapshot -p "$TPID" --units human
ok "--units human: exit 0" is "$rc" 0
ok "--units human: Total row in human units" bash -c "grep -Eq '^Total +[0-9.]+ (B|KiB|MiB|GiB) +[0-9.]+ (B|KiB|MiB|GiB)' '$TMP/out'"
ok "--units human: allocation rows in human units" bash -c "awk -v a='$first' '\$1 == a' '$TMP/out' | grep -Eq '^0x[0-9a-f]+ +Image +[0-9.]+ (KiB|MiB)'"
run snapshot -p "$TPID" --units human --format csv -o -
ok "--units with CSV: usage error" is "$rc" 2
ok "--units with CSV: says --units is for the text report" err_says "text report"
ok "--units with CSV: nothing on stdout" empty_out
run snapshot -p "$TPID" --units parsecs
ok "--units parsecs: usage error" is "$rc" 2

run token --db "$TMP/no/such.db"
ok "token --db of a missing database: exit 1" is "$rc" 1
ok "token --db: says there is no token" err_says "no token"
ok "token --db: prints no token" empty_out
ok "token --db: creates nothing" test ! -e "$TMP/no"
run token --db "$TMP/never.db"
ok "token --db in an existing directory: exit 1" is "$rc" 1
ok "token --db: no .token file created" test ! -e "$TMP/never.db.token"

# a service's daemon (DynamicUser=) owns its token: root may print it, only if no one else can read it
if [ "$(id -u)" = 0 ]; then
	svc_token=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
	printf '%s\n' "$svc_token" >"$TMP/svc.db.token"
	chown nobody "$TMP/svc.db.token"
	chmod 0600 "$TMP/svc.db.token"
	run token --db "$TMP/svc.db"
	ok "token --db as root: prints the token a service user owns" bash -c "[ '$rc' = 0 ] && grep -qx '$svc_token' '$TMP/out'"
	chmod 0644 "$TMP/svc.db.token"
	run token --db "$TMP/svc.db"
	ok "token --db as root: another owner's token that others can read is refused" bash -c "[ '$rc' = 1 ] && grep -q 'refusing' '$TMP/err'"
	ok "token --db as root: and left as it was (0644)" bash -c "[ \"\$(stat -c %a '$TMP/svc.db.token')\" = 644 ]"
else
	skip "token --db of a service user's token needs root"
fi

# ps: one row per process, whatever its command line holds (newline and ESC escaped)
run ps
ok "ps: the odd command line is one row, escaped" bash -c "grep -c '^ *$ODD ' '$TMP/out' | grep -qx 1 && grep '^ *$ODD ' '$TMP/out' | grep -qF 'vmscli-odd\\n#\\x1b[2J fake row 300'"
ok "ps: no raw control characters" bash -c "! LC_ALL=C grep -q \$'\\e' '$TMP/out'"

# ps --pss: processes whose smaps_rollup cannot be read show "-", not 0; ours show numbers
run ps --pss
ok "ps --pss: exit 0" is "$rc" 0
ok "ps --pss: unreadable processes show - for Pss and Uss" awk 'NR > 1 && $7 != "ok" { n++; if ($14 != "-" || $15 != "-") bad++ } END { exit !(n > 0 && bad == 0) }' "$TMP/out"
ok "ps --pss: our sleep has a Pss" awk -v p="$TPID" '$1 == p && $7 == "ok" && $14 ~ /^[0-9]+$/ && $14 > 0 { f = 1 } END { exit !f }' "$TMP/out"

# -o to something that is not a regular file writes into it and leaves it what it was (a rename
# over it once replaced root's /dev/null with a file): a FIFO read by cat
mkfifo "$TMP/fifo"
cat "$TMP/fifo" >"$TMP/fifo.out" &
CATPID=$!
run snapshot -p "$TPID" -o "$TMP/fifo" --format json
if [ -p "$TMP/fifo" ]; then wait "$CATPID"; else kill "$CATPID"; fi # replaced: cat would wait forever
ok "-o FIFO: exit 0" is "$rc" 0
ok "-o FIFO: still a FIFO" test -p "$TMP/fifo"
ok "-o FIFO: the snapshot went through it" bash -c "jq -e --argjson p $TPID '.process.pid == \$p' '$TMP/fifo.out' >/dev/null"

# root is never told to run as root (checked where some process is denied even to root)
denied=$(awk 'NR > 1 && $7 == "denied" { print $1; exit }' "$TMP/out")
if [ "$(id -u)" = 0 ] && [ -n "$denied" ]; then
	run snapshot -p "$denied"
	ok "denied as root: exit 4" is "$rc" 4
	ok "denied as root: says why, not 'run as root'" bash -c "grep -q 'even as root' '$TMP/err' && ! grep -qi 'or root' '$TMP/err'"
fi

finish
