"""Totals by VMMap type across processes (`vmscope system --types`, issue 12), checked against the
kernel's own accounting on processes this test starts and then stops (SIGSTOP: they touch no
more memory while we look):
  * three copies of a static C program (compiled here: it maps no shared library, so no page of
    it is shared with any process but the other two copies, and its Pss cannot move while they
    are stopped, not even because the vmscope run itself maps libc) each write every page of a
    24 MiB anonymous mapping. Their snapshot puts it under one type T (whichever the recognisers
    name it); the system's T row has Pss >= 3 x 24 MiB;
  * each column of the Total row is the sum of the type rows; the types' Pss adds up to the
    processes' Pss (the JSON's per-process list);
  * each of our stopped processes: its Pss is exactly the sum of the Pss lines of its
    /proc/PID/smaps, read by this test before and after the run (the two reads must agree: frozen);
  * the whole system: Total Pss against the sum of smaps_rollup Pss of the same processes (the
    JSON lists them) read by this test just before and just after the run. The tolerance is
    stated and justified: (a) smaps prints each VMA's Pss rounded down to a KiB while
    smaps_rollup rounds the sum once, so our sum is lower by less than 1 KiB per VMA: we allow
    the processes' VMA count in KiB below; (b) other processes (builds, other tests on this
    2-CPU host, and the vmscope run itself, which maps libc) start and exit during the run and
    change the Pss of shared pages: the before and after sums bracket that drift, and 2 % of the
    total is allowed beyond the bracket for drift that went and came back between the reads;
  * --areas with --types is a usage error; the text report has the By type table; without
    --types the cheap view has no by_type;
  * as nobody (when we are root and setpriv exists): our (root's) processes are not in the
    list and are counted as unreadable.
"""
import json
import os
import shutil
import signal
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "heaps"))
import heapcheck as hc  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_system import run  # noqa: E402  (vmscope, as nobody when asked)

MIB = 1024 * 1024
FILL = 24 * MIB
CHILD = r"""
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
int main(void)
{
	char *p = mmap(NULL, %d, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 1;
	memset(p, 1, %d);
	printf("{\"pid\": %%d}\n", (int)getpid());
	fflush(stdout);
	char c;
	return (int)read(0, &c, 1) < 0;
}
""" % (FILL, FILL)


def build_child(tmp):
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        hc.skip("no C compiler for the static test program")
    src, exe = os.path.join(tmp, "fill.c"), os.path.join(tmp, "vmstypes-fill")
    with open(src, "w") as f:
        f.write(CHILD)
    r = subprocess.run([cc, "-static", "-O2", "-o", exe, src], capture_output=True, text=True)
    if r.returncode != 0:
        hc.skip(f"cannot link a static program here: {r.stderr[-200:]}")
    return exe


def smaps_pss(pid):
    """(sum of the Pss lines of /proc/PID/smaps in bytes, number of VMAs), or None when gone."""
    try:
        pss = vmas = 0
        with open(f"/proc/{pid}/smaps") as f:
            for line in f:
                if line.startswith("Pss:"):
                    pss += int(line.split()[1]) * 1024
                    vmas += 1
        return pss, vmas
    except OSError:
        return None


def rollup_pss(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return 0


def main():
    with hc.tempdir("systypes-cc") as tmp:
        exe = build_child(tmp)
        kids = [hc.start([exe])[0] for _ in range(3)]
        ours = [k.pid for k in kids]
        for p in ours:
            os.kill(p, signal.SIGSTOP)
        try:
            check(ours)
        finally:
            for k in kids:
                os.kill(k.pid, signal.SIGCONT)
                k.stdin.close()
    hc.done()


def check(ours):
    # the type our 24 MiB lands in, from a snapshot of one of them
    r = run("snapshot", "-p", str(ours[0]), "--json")
    snap = json.loads(r.stdout) if r.returncode == 0 else {"summary": []}
    big = [t for t in snap.get("summary", []) if t["columns"]["pss"] >= FILL]
    hc.check("a snapshot of one of ours has a type holding the 24 MiB", len(big) >= 1, str(snap.get("summary"))[:300])
    fill_type = big[0]["type"] if big else None  # its key

    before_ours = {p: smaps_pss(p) for p in ours}
    lst = subprocess.run([hc.BIN, "ps", "--json"], capture_output=True, text=True, timeout=60)
    before_all = {p["pid"]: rollup_pss(p["pid"]) for p in json.loads(lst.stdout)["processes"]} if lst.returncode == 0 else {}
    r = run("system", "--types", "--json")
    after_ours = {p: smaps_pss(p) for p in ours}
    s = json.loads(r.stdout) if r.returncode == 0 else None
    hc.check("system --types --json runs", s is not None and "by_type" in s, r.stderr)
    if not s:
        return
    bt = s["by_type"]
    after_all = {p["pid"]: rollup_pss(p["pid"]) for p in bt["processes"]}

    keys = [k for k in bt["total"] if k != "blocks"] + ["blocks"]
    hc.check("every type but Free, in order", [t["key"] for t in bt["types"]] ==
             ["image", "mapped_file", "shareable", "heap", "managed_heap", "stack", "private_data",
              "page_table", "kernel", "reserved"], str([t["key"] for t in bt["types"]]))
    hc.check("the Total row is the sum of the type rows, every column",
             all(bt["total"][k] == sum(t[k] for t in bt["types"]) for k in keys))
    hc.check("the types' Pss adds up to the processes' Pss",
             bt["total"]["pss"] == sum(p["pss"] for p in bt["processes"]), f'{bt["total"]["pss"]}')
    hc.check("processes_read is the list's length", bt["processes_read"] == len(bt["processes"]))
    for t in bt["types"]:
        if not (t["uss"] <= t["pss"] <= t["total_ws"] and t["private_ws"] <= t["private"] <= t["committed"] <= t["size"]):
            hc.check(f"{t['type']}: Uss <= Pss <= Total WS, Private WS <= Private <= Committed <= Size", False, str(t))
    row = {t["key"]: t for t in bt["types"]}
    if fill_type:
        hc.check(f"{fill_type}: Pss >= our three 24 MiB fills", row[fill_type]["pss"] >= 3 * FILL,
                 f'{row[fill_type]["pss"]} < {3 * FILL}')
    hc.check("Page Table: Size = Total WS (VmPTE), Pss 0",
             row["page_table"]["size"] == row["page_table"]["total_ws"] > 0 and row["page_table"]["pss"] == 0)

    by_pid = {p["pid"]: p for p in bt["processes"]}
    for p in ours:
        got = by_pid.get(p)
        b, a = before_ours[p], after_ours[p]
        hc.check(f"stopped pid {p} is counted, and frozen (smaps before = after)", got is not None and b and a and b[0] == a[0],
                 f"{b} {a}")
        if got and b:
            hc.check(f"stopped pid {p}: Pss {got['pss']} = its smaps' Pss sum {b[0]}", got["pss"] == b[0])

    common = [p for p in by_pid if before_all.get(p) is not None and after_all.get(p) is not None]
    vmas = sum((smaps_pss(p) or (0, 0))[1] for p in common)
    got = sum(by_pid[p]["pss"] for p in common)
    b = sum(before_all[p] for p in common)
    a = sum(after_all[p] for p in common)
    slack = b // 50
    lo, hi = min(a, b) - vmas * 1024 - slack, max(a, b) + slack
    hc.check(f"{len(common)} processes: Pss {got >> 10} KiB within the kernel's rollup "
             f"[{min(a, b) >> 10}, {max(a, b) >> 10}] KiB - {vmas} KiB rounding -/+ 2 % ({slack >> 10} KiB)",
             lo <= got <= hi and len(common) >= len(bt["processes"]) // 2)

    r = run("system", "--areas", "--types")
    hc.check("--areas --types: usage error (2)", r.returncode == 2, str(r.returncode))
    r = run("system", "--types")
    hc.check("text: the By type table with a Heap and a Total row", r.returncode == 0 and "By type" in r.stdout and
             "\nHeap " in r.stdout and "\nTotal " in r.stdout, r.stdout[-400:])
    r = run("system", "--json")
    hc.check("without --types: no by_type (the cheap view stays cheap)", r.returncode == 0 and "by_type" not in json.loads(r.stdout))

    if os.getuid() == 0 and shutil.which("setpriv") and subprocess.run(["id", "nobody"], capture_output=True).returncode == 0:
        with hc.tempdir("systypes") as tmp:
            os.chmod(tmp, 0o755)
            nb = os.path.join(tmp, "vmscope")
            shutil.copy(hc.BIN, nb)
            os.chmod(nb, 0o755)
            r = run("system", "--types", "--json", as_nobody=nb)
            j = json.loads(r.stdout)["by_type"] if r.returncode == 0 else {"processes": [{"pid": ours[0]}], "unreadable": 0}
            pids = {p["pid"] for p in j["processes"]}
            hc.check("nobody: none of root's processes listed", not pids & set(ours) and 1 not in pids, str(sorted(pids))[:200])
            hc.check("... they are counted as unreadable", j["unreadable"] >= 3, str(j["unreadable"]))
    else:
        print("note: the nobody part needs root, setpriv and a user nobody")


if __name__ == "__main__":
    main()
