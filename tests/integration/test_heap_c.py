"""C allocators against their own accounting: glibc malloc (64-bit and -m32) and musl mallocng.

Zoo programs (tests/zoo/c/) are compiled here into a temp dir: glibc_arenas.c with cc and with
cc -m32 (thread arenas, one grown past one heap so its heaps chain and merge, mmapped chunks;
it prints mallinfo2() and malloc_info()), musl_mallocng.c with musl-gcc -static (frees, large
allocations, threads; it prints its own books). Checks, within 5 %:
  * Heap allocations of glibc mmapped chunks vs mallinfo2.hblkhd;
  * each thread arena's heaps (committed) vs malloc_info's <system type="current"> for it, its
    heap count vs <aspace type="subheaps">, every thread arena numbered 1..N by creation;
  * the main arena ([heap]) claimed and named, vs malloc_info's arena 0;
  * musl: every large block in a "musl mallocng" Heap allocation, their sizes; [heap] = meta area;
    thread stacks typed Stack with their thread ids (or a note saying where the thread runs);
  * nameless Private Data <= 5 % of committed and of resident memory;
  * numbers stay true: the total columns still equal smaps_rollup;
  * --no-peek: geometry alone still types the arena heaps Heap, labelled as guesses.
A missing compiler (cc, the 32-bit multilib, musl-gcc) skips that part; all missing = exit 77.
"""
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "heaps"))
import heapcheck as hc  # noqa: E402

SRC = os.path.join(hc.ZOO, "c")
ARENA_RE = re.compile(r"glibc arena (\d+), heaps? ([\d, ]+)")


def build(tmp, compiler, src, out, *flags):
    """Compile a zoo program; None when the toolchain cannot (missing compiler or multilib)."""
    exe = os.path.join(tmp, out)
    try:
        r = subprocess.run([compiler, "-O1", "-o", exe, os.path.join(SRC, src), *flags], capture_output=True,
                           text=True, timeout=120)
    except FileNotFoundError:
        print(f"SKIP (variant): {compiler} is not installed")
        return None
    if r.returncode != 0:
        if compiler == "cc" and "-m32" not in flags:
            # the toolchain is there: a program of ours that does not build is a failure, not a skip
            hc.check(f"{src} compiles with {compiler}", False, r.stderr.strip()[:600])
        else:
            print(f"SKIP (variant): {compiler} {' '.join(flags)} failed (toolchain missing?): {r.stderr.strip()[:300]}")
        return None
    return exe


def parts_or_size(a):
    """Bytes of glibc mmapped chunks in an allocation: its parts when the JSON carries them,
    else the whole allocation (a VMA made only of chunks)."""
    parts = a.get("parts")
    if parts:
        return sum(int(p["end"], 16) - int(p["start"], 16) for p in parts if "mmapped chunk" in (p.get("details") or ""))
    return a["size"]


def check_accuracy(snap, label):
    """Recognisers only name and group: columns still sum to the kernel's rollup."""
    roll = snap.get("rollup")
    if not hc.check(f"{label}: snapshot carries smaps_rollup", roll is not None):
        return
    rss = sum(r["smaps"]["rss"] for a in snap["allocations"] for r in a["regions"])
    hc.check(f"{label}: sum of region Rss == rollup Rss", rss == roll["rss"], f"{rss} vs {roll['rss']}")
    pt = hc.type_total(snap, "page_table", "total_ws")
    hc.check(f"{label}: total Total WS - page tables == rollup Rss", snap["total"]["total_ws"] - pt == roll["rss"],
             f"{snap['total']['total_ws'] - pt} vs {roll['rss']}")
    for col in ("committed", "total_ws", "private_ws"):
        s = sum(a["columns"][col] for a in snap["allocations"]) + hc.type_total(snap, "page_table", col)
        hc.check(f"{label}: allocations' {col} (+ page tables) sum to the total", s == snap["total"][col],
                 f"{s} vs {snap['total'][col]}")


def misattributed(snap, heap_addrs):
    """(committed %, resident %) typed against the program's own books or nameless: allocations
    holding an address the program says is malloc's but not typed Heap, plus nameless Private Data."""
    bad = []
    for a in snap["allocations"]:
        lo, hi = int(a["start"], 16), int(a["end"], 16)
        if a["type"] == "private_data" and not a.get("details"):
            bad.append(a)
        elif a["type"] != "heap" and any(lo <= x < hi for x in heap_addrs):
            bad.append(a)
    com = sum(a["columns"]["committed"] for a in bad)
    res = sum(a["columns"]["total_ws"] for a in bad)
    return 100.0 * com / (snap["total"]["committed"] or 1), 100.0 * res / (snap["total"]["total_ws"] or 1)


def glibc_case(exe, label):
    p, books = hc.start([exe])
    snap = hc.snapshot(p.pid)
    bits = books["bits"]
    print(f"--- {label}: {bits}-bit, HEAP_MAX {books['heap_max'] >> 10} KiB")
    hc.show(hc.biggest(snap, 8))

    # mmapped chunks vs mallinfo2.hblkhd
    chunk_allocs = list(hc.allocations(snap, "heap", contains="glibc mmapped chunk"))
    chunk_bytes = sum(parts_or_size(a) for a in chunk_allocs)
    hblkhd = books["mallinfo2"]["hblkhd"]
    hc.check(f"{label}: mmapped chunks {chunk_bytes >> 10} KiB within 5 % of mallinfo2.hblkhd {hblkhd >> 10} KiB",
             hc.within(chunk_bytes, hblkhd, 5))
    for c in books["chunks"]:
        a = hc.alloc_at(snap, int(c["addr"], 16))
        hc.check(f"{label}: chunk {c['addr']} ({c['size'] >> 20} MiB) in a glibc mmapped chunk allocation",
                 a is not None and a["type"] == "heap" and "glibc mmapped chunk" in (a.get("details") or ""),
                 a and a.get("details"))

    # thread arenas: committed per creation number vs malloc_info
    per_arena, heaps_of = {}, {}
    for a in hc.allocations(snap, "heap", contains="glibc arena"):
        m = ARENA_RE.search(a.get("details") or "")
        if not m:
            hc.check(f"{label}: arena heap numbered", False, a.get("details"))
            continue
        n = int(m.group(1))
        per_arena[n] = per_arena.get(n, 0) + a["columns"]["committed"]
        heaps_of.setdefault(n, set()).update(int(x) for x in m.group(2).split(",") if x.strip())
    arenas = [x for x in books["malloc_info"]["arenas"] if x["nr"] > 0]
    n_thread = len(arenas)
    hc.check(f"{label}: every thread arena numbered 1..{n_thread}", set(per_arena) == set(range(1, n_thread + 1)),
             sorted(per_arena))
    for x in arenas:
        number = n_thread - x["nr"] + 1  # malloc_info lists newest first; creation order reverses it
        got = per_arena.get(number, 0)
        hc.check(f"{label}: arena {number} committed {got >> 10} KiB within 5 % of malloc_info current "
                 f"{x['current'] >> 10} KiB", hc.within(got, x["current"], 5))
        hc.check(f"{label}: arena {number} has heaps 1..{x['subheaps']}",
                 heaps_of.get(number) == set(range(1, x["subheaps"] + 1)), sorted(heaps_of.get(number, [])))
    big = max(arenas, key=lambda x: x["subheaps"])
    hc.check(f"{label}: one arena grew past one heap ({big['subheaps']} heaps)", big["subheaps"] >= 2)
    merged = list(hc.allocations(snap, "heap", contains="merged into one VMA"))
    hc.check(f"{label}: merged heaps recognised as such", any("glibc arena" in a["details"] for a in merged),
             [a["details"] for a in merged])
    for w in books["workers"]:
        if w["index"] < n_thread:
            a = hc.alloc_at(snap, int(w["first"], 16))
            m = ARENA_RE.search((a or {}).get("details") or "")
            hc.check(f"{label}: worker {w['index']}'s block in arena {w['index'] + 1}",
                     m is not None and int(m.group(1)) == w["index"] + 1, a and a.get("details"))

    # the main arena
    main = [a for a in hc.allocations(snap, "heap", contains="glibc main arena")]
    hc.check(f"{label}: [heap] named glibc main arena, not a guess",
             len(main) == 1 and "guess" not in main[0]["details"], [a["details"] for a in main])
    m0 = [x for x in books["malloc_info"]["arenas"] if x["nr"] == 0][0]
    if main:
        hc.check(f"{label}: main arena {main[0]['size'] >> 10} KiB within 5 % of malloc_info arena 0 "
                 f"{m0['current'] >> 10} KiB", hc.within(main[0]["size"], m0["current"], 5))

    com, res = hc.nameless_share(snap)
    hc.check(f"{label}: nameless Private Data {com:.1f} % committed, {res:.1f} % resident (<= 5 %)", com <= 5 and res <= 5)
    check_accuracy(snap, label)
    heap_addrs = [int(c["addr"], 16) for c in books["chunks"]] + \
                 [int(w[k], 16) for w in books["workers"] for k in ("first", "last")]
    print(f"{label}: misattributed %.1f %% committed / %.1f %% resident" % misattributed(snap, heap_addrs))

    # geometry alone
    snap2 = hc.snapshot(p.pid, "--no-peek")
    guessed = list(hc.allocations(snap2, "heap", contains="glibc arena heap"))
    hc.check(f"{label}: --no-peek: arena heaps typed Heap by geometry, labelled guesses",
             len(guessed) >= n_thread and all("guess" in a["details"] for a in guessed), len(guessed))
    check_accuracy(snap2, label + " --no-peek")
    p.stdin.close()
    p.wait(timeout=10)


def musl_case(exe):
    label = "musl static"
    p, books = hc.start([exe])
    snap = hc.snapshot(p.pid)
    print(f"--- {label}")
    hc.show(hc.biggest(snap, 6))
    heap = [a for a in snap["allocations"] if any(r.get("path") == "[heap]" for r in a["regions"])]
    hc.check(f"{label}: [heap] is the mallocng meta area", len(heap) == 1 and heap[0]["type"] == "heap" and
             "musl mallocng meta area" in heap[0]["details"] and "guess" not in heap[0]["details"],
             [a.get("details") for a in heap])
    for blk in books["large"]:
        a = hc.alloc_at(snap, int(blk["addr"], 16))
        hc.check(f"{label}: large block {blk['addr']} ({blk['size'] >> 20} MiB) in a musl mallocng Heap allocation",
                 a is not None and a["type"] == "heap" and "musl mallocng" in (a.get("details") or ""), a and a.get("details"))
    # the large blocks' own size: single allocations in the details, or whole allocations
    want = sum(b["size"] for b in books["large"])
    got = 0
    for a in hc.allocations(snap, "heap", contains="musl mallocng"):
        for part in a.get("parts") or []:
            if "single allocation" in (part.get("details") or ""):
                got += int(part["end"], 16) - int(part["start"], 16)
        if not a.get("parts"):
            m = re.search(r"(\d+) single allocations? \(([\d.]+) (MiB|KiB)\)", a["details"])
            if m:
                got += float(m.group(2)) * (1 << (20 if m.group(3) == "MiB" else 10))
            elif "musl mallocng single allocation" in a["details"]:
                got += a["size"]
    hc.check(f"{label}: single allocations {got / hc.MIB:.1f} MiB within 5 % of the large blocks {want / hc.MIB:.1f} MiB",
             hc.within(got, want, 5))
    grouped = sum(a["columns"]["committed"] for a in hc.allocations(snap, "heap", contains="musl mallocng"))
    hc.check(f"{label}: mallocng Heap {grouped / hc.MIB:.1f} MiB holds the program's small blocks "
             f"({books['small_bytes'] / hc.MIB:.1f} MiB) and large ones", grouped >= books["small_bytes"] + want)
    # threads: a Stack with the thread id, or a note saying where the thread runs
    for tid in books["threads"]:
        th = [t for t in snap["threads"] if t["tid"] == tid]
        st = [a for a in snap["allocations"] if a["type"] == "stack" and a.get("tid") == tid]
        note = th[0].get("stack_note") if th else None
        merged = any(f"stack of thread {tid}" in (a.get("details") or "") for a in snap["allocations"])
        hc.check(f"{label}: thread {tid} has a Stack with its id (or its stack is named inside a merged VMA)",
                 len(st) == 1 or merged or bool(note), note)
    com, res = hc.nameless_share(snap)
    hc.check(f"{label}: nameless Private Data {com:.1f} % committed, {res:.1f} % resident (<= 5 %)", com <= 5 and res <= 5)
    check_accuracy(snap, label)
    heap_addrs = [int(b["addr"], 16) for b in books["large"]]
    print(f"{label}: misattributed %.1f %% committed / %.1f %% resident" % misattributed(snap, heap_addrs))
    p.stdin.close()
    p.wait(timeout=10)


def main():
    ran = 0
    with tempfile.TemporaryDirectory() as tmp:
        exe = build(tmp, "cc", "glibc_arenas.c", "glibc64", "-pthread")
        if exe:
            glibc_case(exe, "glibc 64-bit")
            ran += 1
        exe = build(tmp, "cc", "glibc_arenas.c", "glibc32", "-m32", "-pthread")
        if exe:
            glibc_case(exe, "glibc -m32")
            ran += 1
        exe = build(tmp, "musl-gcc", "musl_mallocng.c", "musl", "-static", "-pthread")
        if exe:
            musl_case(exe)
            ran += 1
    if not ran and not hc._failed:
        hc.skip("no C compiler (cc, cc -m32, musl-gcc) could build the zoo programs")
    hc.done()


if __name__ == "__main__":
    main()
