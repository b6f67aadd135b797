#!/usr/bin/env python3
"""V8 / node: vmscope's V8 heap pages against V8's own accounting (v8.getHeapSpaceStatistics()).

Which V8 figure is the mapped pages: `space_size` = Space::CommittedMemory(), the sum of the
page sizes of the space's pages (V8 11.3 api.cc Isolate::GetHeapSpaceStatistics); every page is
its own mmap committed whole, so it equals the committed size of the page VMAs. total_heap_size is
the sum of space_size over the spaces. physical_space_size counts only touched memory (lazy
commit), so it is compared with nothing here. Two exceptions, both documented in V8's source:
- read_only_space reports 0 when the read-only heap is shared (ReadOnlyHeap::IsReadOnlySpaceShared,
  the default in Node 20): its one page is mapped (52 KiB r--p) but counted "elsewhere"; vmscope
  names it "(read-only space)" and the comparison leaves it out.
- code_space and code_large_object_space pages live inside the code range, one allocation with
  its reservation and the embedded builtins: compared separately (the rw header + rwx area of a
  256 KiB code page are committed, its two 4 KiB guard pages are not).
GC can run between V8's report and the scan; the program is asked before and after the scan and
the test retries until both answers agree.
"""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "heaps"))
import heapcheck as h  # noqa: E402

h.need("node")

SPACES = {  # V8's space_name -> vmscope's details
    "new_space": "new space",
    "old_space": "old space",
    "shared_space": "shared space",
    "new_large_object_space": "new large-object space",
    "large_object_space": "large-object space",
    "shared_large_object_space": "shared large-object space",
}
CODE_SPACES = ("code_space", "code_large_object_space")
PAGE = re.compile(r"^V8 (heap|large-object) pages?\b")
SPACE_OF = re.compile(r"\(([a-z -]+space)[,)]")

p, stats = h.start(["node", os.path.join(h.ZOO, "node", "main.js"), "100"])
mb = stats["heap"]["total_heap_size"] / h.MIB
print(f"node {stats['node']} (V8 {stats['v8']}): total_heap_size {mb:.1f} MiB")
h.check("V8 heap holds the zoo's ~100 MiB of objects", mb >= 100, f"({mb:.1f} MiB)")

snap = None
for attempt in range(5):
    before = h.ask(p)
    s = h.snapshot(p.pid)
    after = h.ask(p)
    if all(before["spaces"][k]["space_size"] == after["spaces"][k]["space_size"] for k in before["spaces"]):
        snap, stats = s, after
        break
h.check("V8 spaces stable across a scan (no GC in between)", snap is not None)
if snap is None:
    h.done()

spaces = stats["spaces"]
pages = [a for a in snap["allocations"] if a["type"] == "managed_heap" and PAGE.match(a.get("details") or "")]
ranges = [a for a in snap["allocations"] if (a.get("details") or "").startswith("V8 code range")]

# 1. Heap pages, all spaces together: Managed Heap committed minus the code range.
mh = h.type_total(snap, "managed_heap")
cr = sum(a["columns"]["committed"] for a in ranges)
ro = sum(a["columns"]["committed"] for a in pages if "(read-only space)" in a["details"])
v8_pages = sum(spaces[k]["space_size"] for k in SPACES if k in spaces)
ours = mh - cr - ro
print(f"Managed Heap {mh / h.MIB:.1f} MiB = code range {cr / h.MIB:.2f} + read-only {ro / 1024:.0f} KiB + pages "
      f"{ours / h.MIB:.1f} MiB; V8 space_size (no code, no RO) {v8_pages / h.MIB:.1f} MiB")
h.check("V8 heap pages (Managed Heap - code range - RO) within 5 % of V8's space_size sum", h.within(ours, v8_pages, 5),
        f"({ours} vs {v8_pages})")
h.check("every Managed Heap byte outside the code range is a V8 page",
        sum(a["columns"]["committed"] for a in pages) == mh - cr)

# 2. Per space (memory reads allowed: the page header names the space).
for k, name in SPACES.items():
    want = spaces.get(k, {}).get("space_size", 0)
    got = sum(a["columns"]["committed"] for a in pages if (SPACE_OF.search(a["details"]) or [None, None])[1] == name)
    if want == 0 and got == 0:
        continue
    print(f"   {k:<26} V8 {want / h.MIB:8.2f} MiB   vmscope {got / h.MIB:8.2f} MiB")
    h.check(f"{k}: vmscope within 5 % of V8's space_size", h.within(got, want, 5), f"({got} vs {want})")
h.check("no page left with space unknown while memory reads are allowed",
        not [a for a in pages if "space unknown" in a["details"]])
h.check("the read-only page is named", ro > 0)

# 3. The code range: one allocation, 512 MiB, code pages + embedded builtins remapped from node.
h.check("one V8 code range", len(ranges) == 1, f"({len(ranges)})")
if ranges:
    r = ranges[0]
    h.check("code range is 512 MiB reserved", r["size"] == 512 * h.MIB, f"({r['size']})")
    h.check("code range is Managed Heap", r["type"] == "managed_heap")
    blt = [g for g in r["regions"] if g.get("role") == "embedded builtins"]
    h.check("embedded builtins (r-xp node VMA) inside the code range",
            len(blt) == 1 and blt[0]["path"] and blt[0]["path"].endswith("node") and blt[0]["perms"] == "r-xp")
    code = sum(g["columns"]["committed"] for g in r["regions"] if g.get("role") in ("code", "code page header"))
    want = sum(spaces.get(k, {}).get("space_size", 0) for k in CODE_SPACES)
    print(f"   code pages: vmscope {code / 1024:.0f} KiB committed, V8 code spaces {want / 1024:.0f} KiB")
    h.check("code pages within 5 % of V8's code space_size (guard pages not committed)", h.within(code, want, 5),
            f"({code} vs {want})")

# 4. node is one loaded image: one Image block across the page gaps between its segments
#    (details: the path, then "(main executable, build-id ...)"), within the span a single load
#    of the file can take, and none lies in the code range.
exe = os.path.realpath(h.shutil.which("node"))
imgs = [a for a in snap["allocations"] if a["type"] == "image"
        and (a.get("details") == exe or (a.get("details") or "").startswith(exe + " ("))]
lo_img = min(int(a["start"], 16) for a in imgs) if imgs else 0
hi_img = max(int(a["end"], 16) for a in imgs) if imgs else 0
h.check("node is one loaded image (one Image block spanning no more than the file)",
        len(imgs) == 1 and hi_img - lo_img <= os.path.getsize(exe) + 16 * h.MIB, f"({len(imgs)} blocks over {(hi_img - lo_img) / h.MIB:.0f} MiB)")
if ranges:
    lo, hi = int(ranges[0]["start"], 16), int(ranges[0]["end"], 16)
    h.check("no Image block inside the code range", not [a for a in snap["allocations"]
                                                         if a["type"] == "image" and lo <= int(a["start"], 16) < hi])

# 5. Nothing big left nameless.
com, res = h.nameless_share(snap)
print(f"nameless Private Data: {com:.2f} % of committed, {res:.2f} % of resident")
h.check("nameless Private Data <= 5 % of committed and of resident", com <= 5 and res <= 5)
h.show(h.biggest(snap, 8))

# 6. Without memory reads the pages are still Managed Heap, "space unknown".
nop = h.snapshot(p.pid, "--no-peek")
npages = [a for a in nop["allocations"] if a["type"] == "managed_heap" and PAGE.match(a.get("details") or "")]
h.check("--no-peek: pages still Managed Heap, space unknown",
        npages and all("space unknown" in a["details"] for a in npages), f"({len(npages)} pages)")
nmh = h.type_total(nop, "managed_heap")
ncr = sum(a["columns"]["committed"] for a in nop["allocations"] if (a.get("details") or "").startswith("V8 code range"))
h.check("--no-peek: same Managed Heap total within 5 %", h.within(nmh, mh, 5), f"({nmh} vs {mh})")
h.check("--no-peek: V8 pages within 5 % of V8's space_size sum", h.within(nmh - ncr - ro, v8_pages, 5),
        f"({nmh - ncr - ro} vs {v8_pages})")
com, res = h.nameless_share(nop)
h.check("--no-peek: nameless Private Data <= 5 %", com <= 5 and res <= 5, f"({com:.2f} %, {res:.2f} %)")

h.done()
