"""One image = one allocation, whatever gaps its loader left between segments
(docs/memory-types.md, Image).

tests/zoo/c/image_gaps.c is built here with cc, -Wl,-z,separate-code and
-Wl,-z,max-page-size=0x200000: its four PT_LOADs lie 2 MiB apart and the kernel maps each on its
own, leaving unmapped gaps; it maps one anonymous PROT_NONE page into the first gap and reports
from its own program headers (dl_iterate_phdr) where each segment lies. Checks:
  * every mapping of the executable, the page in the gap and its .bss are ONE Image allocation
    spanning exactly the PT_LOAD span the program reports;
  * the page in the gap has role "hole"; the data has role "data", the .bss "bss", both Image;
  * the rest of each gap stays Free (no region there: numbers stay smaps's);
  * its ELF sections are parts of the image (.text holds main, .bss the .bss array), sorted and
    inside it; the details say "main executable" and the build-id; libc's too;
  * node, when installed: /usr/bin/node (a non-PIE executable whose text segments have page
    gaps) is one Image allocation too, with its sections.
No cc: exit 77.
"""
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "heaps"))
import heapcheck as hc  # noqa: E402


def allocs_of(snap, path):
    return [a for a in snap["allocations"] if any(r.get("path") == path for r in a["regions"])]


def main():
    hc.need("cc")
    with hc.tempdir("image-gaps") as tmp:
        exe = os.path.join(tmp, "image_gaps")
        hc.cc(["-O1", "-fPIE", "-pie", "-Wl,-z,separate-code", "-Wl,-z,max-page-size=0x200000", "-o", exe,
               os.path.join(hc.ZOO, "c", "image_gaps.c")])
        p, me = hc.start([exe])
        snap = hc.snapshot(p.pid)
        segs = me["segments"]
        hc.check("the linker left gaps between the segments",
                 len(segs) >= 3 and all(segs[k + 1][0] > segs[k][1] for k in range(len(segs) - 1)), str(segs))
        mine = allocs_of(snap, exe)
        hc.check("the executable is one allocation", len(mine) == 1,
                 str([(a["type"], a["start"], a["end"]) for a in mine]))
        img = mine[0] if mine else None
        hc.check("... of type Image spanning its PT_LOADs",
                 img and img["type"] == "image" and int(img["start"], 16) == me["span_start"]
                 and int(img["end"], 16) == me["span_end"],
                 str(img and (img["type"], img["start"], img["end"], hex(me["span_start"]), hex(me["span_end"]))))
        if me["hole"]:
            a, r = hc.region_at(snap, me["hole"])
            hc.check("the page mapped into a gap is the image's hole", a is img and r and r.get("role") == "hole",
                     str(r and (r.get("role"), r.get("path"))))
        else:
            print("note: could not map a page into the first gap")
        a, r = hc.region_at(snap, me["data"])
        hc.check("its data is Image (role data)", a is img and r and r.get("role") == "data", str(r and r.get("role")))
        a, r = hc.region_at(snap, me["bss"])
        hc.check("its .bss is Image (role bss)", a is img and r and r.get("role") == "bss", str(r and r.get("role")))
        # the gaps stay Free: no region, and the snapshot's free list has them
        free = [(int(g["start"], 16), int(g["end"], 16)) for g in snap.get("free", [])]
        for k in range(len(segs) - 1):
            lo = segs[k][1] + (me["page"] if me["hole"] == segs[k][1] else 0)
            hi = segs[k + 1][0]
            if lo >= hi:
                continue
            _, r = hc.region_at(snap, lo)
            hc.check(f"gap {k} has no region", r is None, str(r and r["start"]))
            hc.check(f"gap {k} is Free", any(s <= lo and hi <= e for s, e in free), f"{lo:#x}-{hi:#x}")
        size = sum(int(r["end"], 16) - int(r["start"], 16) for r in img["regions"]) if img else -1
        hc.check("the image's Size is the sum of its regions (gaps are not counted)",
                 img and img["columns"]["size"] == size, str(img and (img["columns"]["size"], size)))
        # sections as parts (an annotation: no columns), the details say main executable + build-id
        parts = img["parts"] if img else []
        names = [q["details"] for q in parts]
        hc.check("the image lists its sections as parts", all(n in names for n in (".text", ".rodata", ".data", ".bss")),
                 str(names))
        spans = [(int(q["start"], 16), int(q["end"], 16), q["details"]) for q in parts]
        hc.check("parts are sorted, disjoint and inside the image",
                 img and all(a < b for a, b, _ in spans) and all(spans[k][1] <= spans[k + 1][0] for k in range(len(spans) - 1))
                 and all(int(img["start"], 16) <= a and b <= int(img["end"], 16) for a, b, _ in spans), str(spans[:5]))
        def part_at(addr):
            return next((n for a, b, n in spans if a <= addr < b), None)
        hc.check("main lies in the .text part", part_at(me["main"]) == ".text", str(part_at(me["main"])))
        hc.check("the .bss array lies in the .bss part", part_at(me["bss"]) == ".bss", str(part_at(me["bss"])))
        hc.check("the details say main executable and the build-id",
                 img and "(main executable, build-id " in (img.get("details") or ""), str(img and img.get("details")))
        libc = [a for a in snap["allocations"] if a["type"] == "image" and "/libc.so.6" in (a.get("details") or "")]
        hc.check("libc's image lists .text and .bss and says its build-id",
                 libc and {".text", ".bss"} <= {q["details"] for q in libc[0]["parts"]}
                 and "build-id" in libc[0]["details"], str(libc and libc[0]["details"]))
        p.stdin.close()
        p.wait(timeout=10)

        node = shutil.which("node")
        if node:
            real = os.path.realpath(node)
            q, _ = hc.start([node, "-e", "console.log(JSON.stringify({pid: process.pid})); setInterval(() => {}, 1000)"])
            snap = hc.snapshot(q.pid)
            mine = [a for a in allocs_of(snap, real) if any(r.get("offset") in ("0x0", 0)
                                                           for r in a["regions"] if r.get("path") == real)]
            first = [a for a in allocs_of(snap, real) if a["type"] == "image"]
            hc.check("node: its image lists .text, .rodata, .data and .bss",
                     len(mine) == 1 and {".text", ".rodata", ".data", ".bss"} <= {q["details"] for q in mine[0]["parts"]},
                     str(mine and [q["details"] for q in mine[0]["parts"]]))
            hc.check("node: its executable's segments are one Image allocation (the remapped builtins aside)",
                     len(mine) == 1 and mine[0]["type"] == "image"
                     and all(a is mine[0] or a.get("owner") for a in first),
                     str([(a["type"], a["start"], a["end"], a.get("owner")) for a in allocs_of(snap, real)]))
        else:
            print("note: node is not installed")
    hc.done()


if __name__ == "__main__":
    main()
