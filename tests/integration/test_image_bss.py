"""An image's .bss is only what its ELF asks for (docs/memory-types.md, Image).

tests/zoo/c/image_bss.c dlopens tiny libraries (tests/zoo/c/image_bss_lib.c, built here with cc
into a temp dir with 8 bytes, 16 KiB and 1 MiB of .bss) and maps anonymous memory right at each
library's end (MAP_FIXED_NOREPLACE), touched; the kernel merges it with the library's .bss VMA
when there is one. The program reports from its own program headers (dl_iterate_phdr) where
each library's file-backed data and its .bss end. Checks:
  * 8 bytes of .bss (it fits in the data page): the 8 MiB mapped after the library is not the
    library's: not typed Image, no region role "bss"; the image ends with its data;
  * 16 KiB of .bss with 8 MiB merged after it: the region is left out of the image (the .bss is
    less than half of it) and says it holds the library's .bss at its start;
  * 1 MiB of .bss with 64 KiB merged after it: the region holds more than the ELF's .bss, so it
    is left out too (a VMA cannot be split; the image's details say its .bss is the start of the
    next region, merged with 64 KiB), and the region says it holds the .bss at its start;
  * numbers stay true: each region's size equals smaps (the allocation is made of whole VMAs).
No cc: exit 77.
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "heaps"))
import heapcheck as hc  # noqa: E402

SRC = os.path.join(hc.ZOO, "c")
KIB = 1024
MIB = 1024 * 1024


def main():
    hc.need("cc")
    with hc.tempdir("image-bss") as tmp:
        libs = {}
        for name, bss in (("tiny", 8), ("small", 16 * KIB), ("big", MIB)):
            out = os.path.join(tmp, f"libbss_{name}.so")
            hc.cc(["-O1", "-shared", "-fPIC", f"-DBSS_BYTES={bss}", "-o", out, os.path.join(SRC, "image_bss_lib.c")])
            libs[name] = out
        exe = os.path.join(tmp, "image_bss")
        hc.cc(["-O1", "-o", exe, os.path.join(SRC, "image_bss.c"), "-ldl"])
        after = {"tiny": 8 * MIB, "small": 8 * MIB, "big": 64 * KIB}
        p, acc = hc.start([exe] + [f"{libs[n]}:{after[n]}" for n in ("tiny", "small", "big")])
        got = {os.path.basename(l["path"]): l for l in acc["libs"]}
        if not all(l["placed"] for l in acc["libs"]):
            hc.skip("could not map memory right after every library: " + json.dumps(acc["libs"]))
        snap = hc.snapshot(p.pid)

        # 8 bytes of .bss: no page of it outside the data segment
        t = got["libbss_tiny.so"]
        hc.check("tiny: its .bss fits in the data page (the ELF)", t["data_end"] == t["bss_end"], str(t))
        img = hc.alloc_at(snap, t["base"])
        hc.check("tiny: image ends with its data", img and img["type"] == "image" and int(img["end"], 16) == t["data_end"],
                 str(img and (img["type"], img["end"], t["data_end"])))
        a = hc.alloc_at(snap, t["after"])
        _, r = hc.region_at(snap, t["after"])
        hc.check("tiny: the 8 MiB mapped after it is not typed Image", a and a["type"] != "image",
                 str(a and (a["type"], a.get("details"))))
        hc.check("tiny: ... and has no role bss", r and r.get("role") != "bss", str(r and r.get("role")))

        # 16 KiB of .bss + 8 MiB merged after it
        s = got["libbss_small.so"]
        _, r = hc.region_at(snap, s["data_end"])
        merged = r and int(r["end"], 16) > s["bss_end"]
        img = hc.alloc_at(snap, s["base"])
        a = hc.alloc_at(snap, s["after"])
        if merged:
            hc.check("small: image ends with its data (the merged region is mostly not its .bss)",
                     img and int(img["end"], 16) == s["data_end"], str(img and img["end"]))
            hc.check("small: the merged region is not typed Image and says it holds the .bss at its start",
                     a and a["type"] != "image" and ("holds the .bss of libbss_small.so (16 KiB) at its start"
                                                     in (a.get("details") or "") or a.get("owner")),
                     str(a and (a["type"], a.get("details"))))
        else:
            print("note: the kernel did not merge the 8 MiB with libbss_small.so's .bss")
            hc.check("small: image ends with its .bss", img and int(img["end"], 16) == s["bss_end"])
            hc.check("small: the 8 MiB after it is not typed Image", a and a["type"] != "image")

        # 1 MiB of .bss + 64 KiB merged after it: the region holds more than the ELF's .bss, so
        # it is not the image's either (a VMA cannot be split); both say where the .bss is
        b = got["libbss_big.so"]
        _, r = hc.region_at(snap, b["data_end"])
        img = hc.alloc_at(snap, b["base"])
        a = hc.alloc_at(snap, b["data_end"])
        if r and int(r["end"], 16) > b["bss_end"]:
            hc.check("big: image ends with its data", img and img["type"] == "image"
                     and int(img["end"], 16) == b["data_end"] and r.get("role") != "bss",
                     str(img and (img["end"], r.get("role"))))
            hc.check("big: the image says its .bss is the start of the next region, merged with 64 KiB",
                     "is the start of the next region, which the kernel merged with 64 KiB mapped after it"
                     in (img.get("details") or ""), str(img.get("details")))
            hc.check("big: the merged region is not typed Image and says it holds the .bss at its start",
                     a and a["type"] != "image" and ("holds the .bss of libbss_big.so (1 MiB) at its start"
                                                     in (a.get("details") or "") or a.get("owner")),
                     str(a and (a["type"], a.get("details"))))
        else:
            print("note: the kernel did not merge the 64 KiB with libbss_big.so's .bss")
            hc.check("big: image ends with its .bss", img and int(img["end"], 16) == b["bss_end"])

        # numbers per region are smaps's
        ok = all(r["columns"]["size"] == r["smaps"]["size"] == int(r["end"], 16) - int(r["start"], 16)
                 for a in snap["allocations"] for r in a["regions"])
        hc.check("every region's size is its smaps Size", ok)
    hc.done()


if __name__ == "__main__":
    main()
