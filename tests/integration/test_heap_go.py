"""The Go recogniser on real Go programs (tests/zoo/go, built here with `go build`): a static
binary (CGO_ENABLED=0), a cgo binary (CGO_ENABLED=1, glibc threads and arenas beside the Go
heap), the same with every arena hint occupied, and a C program that links the workload as a
Go c-shared library. Compared with the program's own runtime.MemStats.

What vmscope's Managed Heap "committed" must equal, from the Go 1.19 source
(/usr/lib/go-1.19/src/runtime/mstats.go readmemstats_m, mheap.go grow):
  every byte of an arena reservation that the runtime made rw (sysMap) is counted once in
  heapInUse + heapFree + heapReleased (= MemStats.HeapSys) or in the arena spans used for
  stacks (MemStats.StackInuse), GC work buffers or GC-program bitmaps (both inside GCSys).
  Released pages stay mapped rw (MADV_DONTNEED/FREE), so they are committed for vmscope too.
  So   committed(Managed Heap) = HeapSys + StackInuse + workbufs + ptr/scalar bits
       and  HeapSys + StackSys <= committed <= HeapSys + StackSys + GCSys,
  where StackSys = StackInuse + os-stacks and os-stacks (stacks_sys) is 0 on Linux.
We compare committed with HeapSys + StackSys within 5 % (work buffers are freed after the GC the
program runs before reporting) and check the GCSys upper bound.

Usage: test_heap_go.py           the test (exit 0 pass, 1 fail, 77 skip)
       test_heap_go.py --report  only print the misattribution figures (for any VMSCOPE_BIN)
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "heaps"))
import heapcheck as hc  # noqa: E402

REPORT = "--report" in sys.argv[1:]
HINT_MASK = (1 << 40) - 1
MIB = hc.MIB


def in_hint_band(start):
    """Inside the address band of one of the first Go arena hints (i<<40 | 0xc0<<32, i < 0x40, and
    the next 64 GiB): the kernel's mmap area (0x7f...) is left out, where hints i >= 0x7f would
    only be used after every lower hint failed, and where ordinary mappings share the low bits."""
    return (start >> 40) < 0x40 and 0xC000000000 <= (start & HINT_MASK) < 0xD000000000


def col(a, name):
    return a["columns"][name]


def misattribution(snap):
    """(committed %, resident %) typed against the Go runtime's own accounting or nameless: Go
    arena memory (the hint band) not typed Managed Heap, plus nameless Private Data."""
    bad_c = bad_r = 0
    for a in snap["allocations"]:
        start = int(a["start"], 16)
        wrong = in_hint_band(start) and a["type"] != "managed_heap"
        nameless = a["type"] == "private_data" and not a.get("details")
        if wrong or nameless:
            bad_c += col(a, "committed")
            bad_r += col(a, "total_ws")
    tc = snap["total"]["committed"] or 1
    tr = snap["total"]["total_ws"] or 1
    return 100.0 * bad_c / tc, 100.0 * bad_r / tr


def build(tmp, name, cgo, extra=()):
    env = dict(os.environ, GOCACHE=os.path.join(tmp, "gocache"), GOPATH=os.path.join(tmp, "gopath"),
               GOPROXY="off", GOFLAGS="", CGO_ENABLED="1" if cgo else "0")
    out = os.path.join(tmp, name)
    r = subprocess.run(["go", "build", *extra, "-o", out, "."], cwd=os.path.join(hc.ZOO, "go"), env=env,
                       capture_output=True, text=True, timeout=240)
    if r.returncode != 0:
        raise RuntimeError(f"go build ({name}) failed: {r.stderr}")
    return out


def build_cshared(tmp, cc):
    """The zoo as a Go c-shared library (libzoo.so) and the C program that links it."""
    build(tmp, "libzoo.so", True, ("-tags", "cshared", "-buildmode=c-shared"))
    host = os.path.join(tmp, "cshost")
    r = subprocess.run([cc, "-o", host, os.path.join(hc.ZOO, "go", "cshost", "host.c"), "-I", tmp,
                        os.path.join(tmp, "libzoo.so"), "-Wl,-rpath," + tmp], capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError(f"cc (cshost) failed: {r.stderr}")
    return host


def check_variant(name, binary, env=None):
    """name: static, cgo, cgo-nohints (every arena hint occupied before the runtime starts:
    the runtime then reserves 64 MiB-aligned arenas anywhere, found through the arena index), or
    cshared (a C program with the Go runtime in a c-shared library)."""
    nohints = name == "cgo-nohints"
    argv = [binary] if name == "cshared" else [binary, "-mib", "150", "-goroutines", "200", "-threads", "4"]
    p, st = hc.start(argv, env=env)
    snap = hc.snapshot(p.pid)
    st2 = hc.ask(p)
    mc, mr = misattribution(snap)
    print(f"{name}: misattributed {mc:.1f} % committed / {mr:.1f} % resident "
          f"(HeapSys {st['HeapSys'] / MIB:.1f} MiB, StackSys {st['StackSys'] / MIB:.1f} MiB, Sys {st['Sys'] / MIB:.1f} MiB)")
    if REPORT:
        hc.show(hc.biggest(snap, 8))
        print("   nameless Private Data:")
        hc.show([a for a in snap["allocations"] if a["type"] == "private_data" and not a.get("details")])
        p.stdin.close()
        return
    heaps = list(hc.allocations(snap, "managed_heap"))
    committed = hc.total(heaps, "committed")
    hc.show(heaps)
    hc.check(f"{name}: cgo is {st['cgo']}", st["cgo"] == (name != "static"))
    expect = [s["HeapSys"] + s["StackSys"] for s in (st, st2)]
    # away from the hints the kernel may merge the 32 MiB arena index into an arena's VMA; the
    # allocation then says so and counts it (a VMA cannot be split without inventing numbers)
    merged = 32 * MIB if any("merged" in (a.get("details") or "") for a in heaps) else 0
    hc.check(f"{name}: Managed Heap committed {committed / MIB:.1f} MiB = HeapSys + StackSys "
             f"({expect[0] / MIB:.1f} MiB{' + a merged arena index' if merged else ''}) within 5 %",
             any(hc.within(committed - merged, e, 5) for e in expect))
    hc.check(f"{name}: Managed Heap committed <= HeapSys + StackSys + GCSys",
             committed - merged <= max(s["HeapSys"] + s["StackSys"] + s["GCSys"] for s in (st, st2)))
    if nohints:
        blocks = [a for a in snap["allocations"] if in_hint_band(int(a["start"], 16))]
        others = sorted({f"{a['type']} ({a.get('details')})" for a in blocks if a["type"] != "reserved"})
        if others:
            print(f"   note: other recognisers name some of the blocks at the hints: {others[:3]}")
        hc.check(f"{name}: the {len(blocks)} PROT_NONE blocks at the hints are not taken for the Go heap",
                 len(blocks) >= 64 and all(a["type"] != "managed_heap" and a["columns"]["committed"] == 0 for a in blocks)
                 and not any("Go " in (a.get("details") or "") for a in blocks))
        hc.check(f"{name}: the arenas away from the hints are found (through the arena index)",
                 heaps and all("away from the hint addresses" in (a.get("details") or "") for a in heaps))
    hc.check(f"{name}: os-stacks are 0 on Linux (StackSys = StackInuse)", st["os_stacks"] == 0)
    hc.check(f"{name}: every Managed Heap allocation names the Go version {st['go_version']} from .go.buildinfo",
             heaps and all(st["go_version"] in (a.get("details") or "") for a in heaps))
    hc.check(f"{name}: one allocation per reservation with its 64 MiB arenas counted",
             all(re.search(r"\d+ arenas? \(64 MiB each\)", a.get("details") or "") for a in heaps)
             and all((int(a["start"], 16) % (64 * MIB) == 0 and a["size"] % (64 * MIB) == 0) or "merged" in a["details"]
                     for a in heaps))
    if not nohints:
        hc.check(f"{name}: the reserved tail is inside the heap allocation (Size > Committed)",
                 sum(a["size"] for a in heaps) > committed)
    if "owner" in heaps[0]:
        hc.check(f"{name}: owner go", all(a["owner"] == "go" for a in heaps))
    ranges = [(int(a["start"], 16), int(a["end"], 16)) for a in heaps]
    stacks_in_go = [a for a in hc.allocations(snap, "stack")
                    if in_hint_band(int(a["start"], 16)) or any(s < int(a["end"], 16) and int(a["start"], 16) < e for s, e in ranges)]
    hc.check(f"{name}: no Go arena typed Stack", not stacks_in_go, str([a["start"] for a in stacks_in_go]))

    # threads: a stack row, or a reason
    has_note_field = hc.check(f"{name}: every thread carries stack_note in the JSON",
                              bool(snap["threads"]) and all("stack_note" in t for t in snap["threads"]))
    on_heap = 0
    unexplained = []
    for t in snap["threads"]:
        sp = int(t["sp"], 16) if t.get("sp") else 0
        in_heap = any(s <= sp < e for s, e in ranges)
        on_heap += in_heap
        if t["stack_allocation"] >= 0:
            # [stack] belongs to the main thread by its tid (it is m0's g0 stack), wherever the
            # thread happens to run when its SP is read (a goroutine stack in the heap, often)
            if in_heap and t["tid"] != snap["process"]["pid"]:
                unexplained.append(f"{t['tid']}: stack row although SP is in the Go heap")
            continue
        if has_note_field:
            note = t.get("stack_note") or ""
            if not note or (in_heap and "inside the Go heap" not in note):
                unexplained.append(f"{t['tid']}: note {note!r}")
        elif not in_heap and sp != 0:
            unexplained.append(f"{t['tid']}: no stack row, SP {t.get('sp')} outside the Go heap")
    hc.check(f"{name}: every thread has a stack row or a reason ({on_heap} on Go stacks in the heap)",
             not unexplained, "; ".join(unexplained))
    if name == "static":
        hc.check(f"{name}: the Ms of a static Go program run on stacks in the Go heap", on_heap >= 3, str(on_heap))

    # claims name and group regions, never change a number: allocations still add up to the regions
    # and to smaps_rollup (read a moment later: within 1 %)
    regions = [r for a in snap["allocations"] for r in a["regions"]]
    hc.check(f"{name}: allocations sum to their regions",
             all(a["columns"]["total_ws"] == sum(r["columns"]["total_ws"] for r in a["regions"]) for a in snap["allocations"])
             and sum(a["size"] for a in snap["allocations"]) == sum(r["size"] for r in regions))
    if snap.get("rollup"):
        rss = sum(a["columns"]["total_ws"] for a in snap["allocations"])
        hc.check(f"{name}: Total WS of the allocations = smaps_rollup Rss within 1 %", hc.within(rss, snap["rollup"]["rss"], 1))
    nc, nr = hc.nameless_share(snap)
    hc.check(f"{name}: nameless Private Data {nc:.1f} % committed, {nr:.1f} % resident (<= 5 %)", nc <= 5 and nr <= 5)
    hc.check(f"{name}: misattributed {mc:.1f} % committed, {mr:.1f} % resident (<= 5 %)", mc <= 5 and mr <= 5)
    meta = list(hc.allocations(snap, "private_data", contains="Go "))
    hc.check(f"{name}: Go runtime metadata named ({len(meta)} allocations)",
             any("arena index" in (a.get("details") or "") for a in meta + heaps)
             and any("page-allocator summaries" in (a.get("details") or "") for a in meta))

    # geometry alone (--no-peek): the heap is still the heap
    snap_np = hc.snapshot(p.pid, "--no-peek")
    c_np = hc.total(hc.allocations(snap_np, "managed_heap"), "committed")
    if nohints:
        # geometry alone cannot see an arena the kernel merged with the arena index into one VMA
        # that starts off a 64 MiB boundary: at most what the index found, never the hint blocks
        np_blocks = [a for a in snap_np["allocations"]
                     if in_hint_band(int(a["start"], 16)) and (a["type"] == "managed_heap" or "Go " in (a.get("details") or ""))]
        hc.check(f"{name}: --no-peek: Managed Heap committed {c_np / MIB:.1f} MiB <= {committed / MIB:.1f} MiB, hint blocks "
                 "not taken", c_np <= committed and not np_blocks)
    else:
        hc.check(f"{name}: --no-peek: the same Managed Heap committed ({c_np / MIB:.1f} MiB)", c_np == committed)
    p.stdin.close()


def main():
    hc.need("go")
    tmp = tempfile.mkdtemp(prefix="vmscope-go-")
    try:
        variants = [("static", build(tmp, "static", False), None)]
        cc = shutil.which("gcc") or shutil.which("cc")
        if cc:
            cgo = build(tmp, "cgo", True)
            variants += [("cgo", cgo, None), ("cgo-nohints", cgo, {"ZOO_GO_BLOCK_HINTS": "1"}),
                         ("cshared", build_cshared(tmp, cc), None)]
        else:
            print("note: no C compiler: the cgo variant is not built")
        # cgo-nohints: away from the hints the kernel may merge an arena with a neighbouring
        # mapping (about 1 layout in 25); the recogniser then finds the arenas from 64 MiB-aligned
        # addresses inside merged regions (tests/unit/test_rec_go.c covers that layout exactly).
        for name, binary, env in variants:
            check_variant(name, binary, env)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if REPORT:
        hc._cleanup()
        sys.exit(0)
    hc.done()


if __name__ == "__main__":
    main()
