#!/usr/bin/env python3
"""HotSpot JVM (OpenJDK 17): vmscope's hotspot recogniser against the JVM's own accounting.

Compiles tests/zoo/java/Zoo.java with javac into a temp dir, runs it with G1, Parallel and ZGC
(-Xmx512m, -XX:NativeMemoryTracking=detail), and asks Native Memory Tracking itself through
`jcmd PID VM.native_memory detail` (this test owns the JVM, so it may attach; vmscope never does).
Checks, per collector:
  * the Java heap allocation(s) are Managed Heap and cover exactly NMT's Java Heap reservations
    (address and size); Committed within 5 % of NMT's committed (ZGC: per view);
  * code cache, compressed class space, CDS archive and metaspace match NMT's reservations;
  * at most 5 % of committed and of resident memory is nameless Private Data, and at most 5 % is
    misattributed (nameless Private Data, or typed against NMT: Java Heap not Managed Heap,
    Thread Stack not Stack), printed as a table;
  * every thread has a stack row or a reason (stack_note, once the JSON carries it);
  * ZGC: the heap views' Shared WS is 0 (the memfd is mapped three times by this process only).
Exit 77 when java, javac or jcmd is missing.
"""
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "heaps"))
import heapcheck as hc  # noqa: E402

KB = 1024
XMX = 512 * hc.MIB
COLLECTORS = [("G1", "-XX:+UseG1GC"), ("Parallel", "-XX:+UseParallelGC"), ("ZGC", "-XX:+UseZGC")]


def nmt(pid):
    """Parse `jcmd PID VM.native_memory detail`: (summary, ranges).
    summary: {category: (reserved, committed)} in bytes, plus "Metadata" and "Class space" from
    the Class category's sub-lines. ranges: [(start, end, category)] of the virtual memory map."""
    out = subprocess.run(["jcmd", str(pid), "VM.native_memory", "detail"], capture_output=True, text=True,
                         timeout=60).stdout
    summary, ranges = {}, []
    sub = None
    for line in out.splitlines():
        m = re.match(r"^-\s+(.+?) \(reserved=(\d+)KB, committed=(\d+)KB\)", line)
        if m:
            summary[m[1]] = (int(m[2]) * KB, int(m[3]) * KB)
            continue
        m = re.match(r"^\s+\(\s+(Metadata|Class space):\s*\)", line)
        if m:
            sub = m[1]
            continue
        m = re.match(r"^\s+\(\s+reserved=(\d+)KB, committed=(\d+)KB\)", line)
        if m and sub:
            summary[sub] = (int(m[1]) * KB, int(m[2]) * KB)
            sub = None
            continue
        m = re.match(r"^\[0x([0-9a-f]+) - 0x([0-9a-f]+)\] reserved (?:and committed )?\d+KB for (.+?) from", line)
        if m:
            ranges.append((int(m[1], 16), int(m[2], 16), m[3]))
    return summary, ranges


def category_at(ranges, start, end):
    """NMT category holding most of [start, end), or None."""
    best, cat = 0, None
    for s, e, c in ranges:
        ov = min(e, end) - max(s, start)
        if ov > best:
            best, cat = ov, c
    return cat


def misattribution(snap, ranges):
    """(committed %, resident %, rows) of memory nameless in Private Data or typed against NMT."""
    wrong_c = wrong_r = 0
    rows = {}
    for a in snap["allocations"]:
        for r in a["regions"]:
            s, e = int(r["start"], 16), int(r["end"], 16)
            cat = category_at(ranges, s, e)
            why = None
            if a["type"] == "private_data" and (not a.get("details") or "owner unknown" in a["details"]):
                why = f"nameless Private Data (NMT: {cat or 'not in NMT map'})"
            elif cat == "Java Heap" and a["type"] != "managed_heap":
                why = f"Java Heap typed {a['type']}"
            elif cat == "Thread Stack" and a["type"] != "stack" and r["perms"] != "---p":
                why = f"Thread Stack typed {a['type']}"
            elif cat and cat != "Shared class space" and not r.get("path") and a["type"] in ("image", "mapped_file"):
                why = f"anonymous NMT {cat} memory typed {a['type']}"
            if why:
                wrong_c += r["columns"]["committed"]
                wrong_r += r["columns"]["total_ws"]
                k = rows.setdefault(why, [0, 0])
                k[0] += r["columns"]["committed"]
                k[1] += r["columns"]["total_ws"]
    tc = snap["total"]["committed"] or 1
    tr = snap["total"]["total_ws"] or 1
    return 100.0 * wrong_c / tc, 100.0 * wrong_r / tr, rows


def explain(snap, ranges, cat):
    """Print vmscope's regions inside NMT's reservations of category cat (for a failed check)."""
    for s, e in nmt_ranges(ranges, cat):
        print(f"   NMT {cat} [{s:#x} - {e:#x}]:")
        for a in snap["allocations"]:
            for r in a["regions"]:
                rs, re_ = int(r["start"], 16), int(r["end"], 16)
                if rs < e and re_ > s:
                    print(f"     {r['start']}-{r['end']} {r['perms']} {r['vm_flags']:<24} {a['type']:<13} "
                          f"{(a.get('details') or '')[:60]}")


def named(snap, prefix):
    return [a for a in snap["allocations"] if (a.get("details") or "").startswith(prefix)]


def nmt_ranges(ranges, cat):
    return sorted((s, e) for s, e, c in ranges if c == cat)


def check_one(gc, flag, classdir, table):
    p, own = hc.start(["java", "-XX:NativeMemoryTracking=detail", f"-Xmx{XMX // hc.MIB}m", flag, "-cp", classdir,
                       "Zoo", "200"])
    pid = own["pid"]
    summary, ranges = nmt(pid)
    snap = hc.snapshot(pid)
    summary2, _ = nmt(pid)
    print(f"== {gc}: pid {pid}, JVM's own heap view: total {own['total_memory'] / hc.MIB:.0f} MiB, "
          f"max {own['max_memory'] / hc.MIB:.0f} MiB")
    hc.show(hc.biggest(snap, 8))

    # Java heap: one Managed Heap allocation per NMT Java Heap reservation (ZGC: one per view).
    heap = named(snap, "Java heap")
    want = nmt_ranges(ranges, "Java Heap")
    got = sorted((int(a["start"], 16), int(a["end"], 16)) for a in heap)
    hc.check(f"{gc}: Java heap allocations == NMT Java Heap reservations {[(hex(s), hex(e)) for s, e in want]}",
             got == want, f"got {[(hex(s), hex(e)) for s, e in got]}")
    hc.check(f"{gc}: Java heap is Managed Heap", heap and all(a["type"] == "managed_heap" for a in heap),
             str([a["type"] for a in heap]))
    hc.check(f"{gc}: Java heap Size == NMT Java Heap reserved ({summary['Java Heap'][0]})",
             hc.total(heap) == summary["Java Heap"][0], f"got {hc.total(heap)}")
    ncom = [summary["Java Heap"][1], summary2["Java Heap"][1]]
    for a in heap:
        c = a["columns"]["committed"]
        hc.check(f"{gc}: heap allocation {a['start']} Committed {c >> 20} MiB within 5 % of NMT committed "
                 f"{[x >> 20 for x in ncom]} MiB", any(hc.within(c, n, 5) for n in ncom))
    if gc == "ZGC":
        hc.check("ZGC: the heap views' Shared WS is 0 (one process maps the memfd three times)",
                 all(a["columns"]["shared_ws"] == 0 for a in heap), str([a["columns"]["shared_ws"] for a in heap]))
        hc.check("ZGC: three views, said so in details",
                 len(heap) == 3 and all("view" in a["details"] for a in heap), str([a["details"] for a in heap]))

    # Code cache, class space, CDS archive, metaspace against NMT's reservations.
    code = named(snap, "Java code cache")
    big_code = max((e - s for s, e in nmt_ranges(ranges, "Code")), default=0)
    if not hc.check(f"{gc}: code cache Size == NMT's code cache reservation ({big_code >> 20} MiB)",
                    len(code) == 1 and code[0]["size"] == big_code, str([a["size"] for a in code])):
        explain(snap, ranges, "Code")
    ccs = named(snap, "Java compressed class space")
    hc.check(f"{gc}: class space Size == NMT Class space reserved ({summary['Class space'][0] >> 20} MiB)",
             len(ccs) == 1 and ccs[0]["size"] == summary["Class space"][0], str([a["size"] for a in ccs]))
    cls = nmt_ranges(ranges, "Class")
    hc.check(f"{gc}: class space address == NMT's Class reservation",
             len(ccs) == 1 and (int(ccs[0]["start"], 16), int(ccs[0]["end"], 16)) in cls)
    cds = named(snap, "Java CDS archive")
    hc.check(f"{gc}: CDS archive Size == NMT Shared class space reserved",
             hc.total(cds) == summary.get("Shared class space", (0, 0))[0], str([a["size"] for a in cds]))
    meta = named(snap, "Java metaspace")
    # A node whose first VMA the kernel merged with a neighbour is claimed whole; its details then
    # say how much other memory the claim holds (the exact node is a part).
    # The other memory can only be in the claim's first or last VMA.
    nodes = nmt_ranges(ranges, "Metaspace")
    covered = all(any(int(a["start"], 16) <= s and e <= int(a["end"], 16) for a in meta) for s, e in nodes)
    extra_ok = all(a["size"] == 64 * hc.MIB or
                   ("other memory" in a["details"] and a["size"] - 64 * hc.MIB <
                    max(a["regions"][0]["size"], a["regions"][-1]["size"])) for a in meta)
    if not hc.check(f"{gc}: metaspace nodes cover NMT's Metaspace reservations ({summary['Metadata'][0] >> 20} MiB), "
                    "exactly unless the details say the first or last VMA holds other memory",
                    covered and len(meta) == len(nodes) and extra_ok, str([(a["start"], a["size"]) for a in meta])):
        explain(snap, ranges, "Metaspace")

    # GC side tables are placed by geometry (a guess): each must lie on NMT's GC memory.
    tables = [a for a in snap["allocations"]
              if re.match(r"(G1 |Parallel GC |ZGC mark|ZGC page|ZGC forwarding)", a.get("details") or "")]
    hc.check(f"{gc}: GC side tables found", len(tables) > 0)
    for a in tables:
        cat = category_at(ranges, int(a["start"], 16), int(a["end"], 16))
        hc.check(f"{gc}: {a['details'][:40]}... at {a['start']} lies on NMT GC memory", cat == "GC", f"NMT says {cat}")

    # Nothing big left nameless or typed against NMT.
    nc, nr = hc.nameless_share(snap)
    hc.check(f"{gc}: nameless Private Data {nc:.1f} % committed <= 5 %", nc <= 5)
    hc.check(f"{gc}: nameless Private Data {nr:.1f} % resident <= 5 %", nr <= 5)
    mc, mr, rows = misattribution(snap, ranges)
    table.append((gc, mc, mr, rows))
    if not hc.check(f"{gc}: misattributed {mc:.1f} % committed / {mr:.1f} % resident <= 5 %", mc <= 5 and mr <= 5,
                    str({k: (v[0] >> 10, v[1] >> 10) for k, v in rows.items()})):
        explain(snap, ranges, "GC")

    # Threads: a stack row or a reason each.
    lacking = [t for t in snap["threads"] if t.get("stack_allocation", -1) < 0]
    hc.check(f"{gc}: every thread carries stack_note in the JSON", all("stack_note" in t for t in snap["threads"]))
    hc.check(f"{gc}: every thread has a stack row or a reason",
             all(t.get("stack_note") for t in lacking), str([t["tid"] for t in lacking if not t.get("stack_note")]))
    named_java = [t for t in snap["threads"] if t["name"].startswith("zoo-worker-")]
    hc.check(f"{gc}: the zoo's 3 named threads are listed", len(named_java) == 3, str([t["name"] for t in named_java]))
    p.stdin.close()
    p.wait(timeout=30)


def main():
    hc.need("java", "javac", "jcmd")
    t0 = time.time()
    with tempfile.TemporaryDirectory(prefix="vms-java-") as tmp:
        src = os.path.join(hc.ZOO, "java", "Zoo.java")
        out = subprocess.run(["javac", "-d", tmp, src], capture_output=True, text=True)
        if out.returncode != 0:
            hc.check("javac Zoo.java", False, out.stderr)
            hc.done()
        table = []
        for gc, flag in COLLECTORS:
            check_one(gc, flag, tmp, table)
        print("misattribution against NMT (committed % / resident %):")
        for gc, mc, mr, rows in table:
            print(f"  {gc:<9} {mc:5.1f} % / {mr:5.1f} %   "
                  + "; ".join(f"{k}: {v[0] >> 10} KiB / {v[1] >> 10} KiB" for k, v in rows.items()))
    print(f"took {time.time() - t0:.1f} s")
    hc.done()


if __name__ == "__main__":
    main()
