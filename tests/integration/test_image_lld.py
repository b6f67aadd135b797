"""Images linked with LLVM's lld (issue 9, "Tests and cost": lld-style gaps), from fixture ELF
files this test builds (tests/zoo/c/image_fixtures_lib.c with `cc -fuse-ld=lld`), loaded by
tests/zoo/c/image_fixtures.c and scanned with `vmscope snapshot` / `vmscope at`:
  * lld:    lld's default layout: four PT_LOADs packed in the file but each a page further on in
            memory than in the file (p_vaddr = p_offset + a page per segment), 8 bytes of .bss:
            one Image allocation, its sections as parts, the .bss part within the ELF's zero-fill,
            `at` names fixture_func in .text;
  * lldsep: -z separate-code -z max-page-size=0x200000, 1 MiB of .bss: the segments 2 MiB apart,
            the loader's ---p holes between them, the last data segment mapping the relro's file
            page again: still one Image allocation from the first page to the end of the .bss, the
            holes with role "hole", the .bss region with role "bss" ending within the ELF's
            zero-fill, `at` names fixture_func.
The layout each check relies on is first checked in the file's own program headers (readelf), so
a linker that lays files out otherwise fails here rather than passing vacuously.
No cc or no ld.lld (Debian package lld: third_party/install-deps.sh --heaps): exit 77.
"""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "heaps"))
import heapcheck as hc  # noqa: E402
from elfbss import elf_bss_end  # noqa: E402
from test_image_fixtures import SRC, alloc_of, at, cc, last_file_region, lib, parts  # noqa: E402

MIB = 1 << 20


def loads(path):
    """(offset, vaddr, filesz, memsz) of each PT_LOAD, from readelf."""
    r = subprocess.run(["readelf", "-lW", path], capture_output=True, text=True, timeout=60)
    out = []
    for line in r.stdout.splitlines():
        f = line.split()
        if f and f[0] == "LOAD":
            out.append(tuple(int(x, 16) for x in (f[1], f[2], f[4], f[5])))
    return out


def check_image(label, snap, pid, path, func, want_bss):
    a = alloc_of(snap, func)
    ps = parts(a)
    hc.check(f"{label}: one Image allocation holds the library",
             a and a["type"] == "image" and len([x for x in snap["allocations"] if any(
                 r.get("path") == path for r in x["regions"])]) == 1, str(a and a["details"]))
    hc.check(f"{label}: its sections are parts (.text, .data, .bss)", {".text", ".data", ".bss"} <= set(ps),
             str(sorted(ps)))
    end = elf_bss_end(path, last_file_region(a, path)) if a else None
    b = ps.get(".bss")
    hc.check(f"{label}: the .bss part is {want_bss} bytes and within the ELF's zero-fill",
             b and end and want_bss <= b[1] - b[0] < want_bss + 64 and b[1] <= end, f"{b} {end and hex(end)}")
    res, err = at(pid, func + 2)
    img = res[0].get("image") or {} if res else {}
    hc.check(f"{label}: at names fixture_func+0x2 in .text", img.get("symbol") == "fixture_func"
             and img.get("section") == ".text" and int(img.get("symbol_offset", "0"), 16) == 2, str(img) + err)
    return a, end


def main():
    hc.need("cc", "readelf")
    tmp = tempfile.mkdtemp(prefix="vmscope-image-lld-")
    try:
        probe = os.path.join(tmp, "probe.so")
        if subprocess.run(["cc", "-shared", "-fPIC", "-fuse-ld=lld", "-o", probe, os.path.join(SRC, "image_fixtures_lib.c")],
                          capture_output=True, timeout=120).returncode != 0:
            hc.skip("cc -fuse-ld=lld cannot link: ld.lld missing (apt-get install lld)")
        prog = os.path.join(tmp, "image_fixtures")
        cc(["-O1", "-o", prog, os.path.join(SRC, "image_fixtures.c"), "-ldl"])
        plain = lib(tmp, "lld", 8, "-fuse-ld=lld")
        sep = lib(tmp, "lldsep", MIB, "-fuse-ld=lld", "-Wl,-z,separate-code", "-Wl,-z,max-page-size=0x200000")

        lp, ls = loads(plain), loads(sep)
        hc.check("lld: the file has lld's layout (4 PT_LOADs, each further on in memory than in the file)",
                 len(lp) == 4 and all(v > o for o, v, _f, _m in lp[1:]), str(lp))
        hc.check("lldsep: the file's segments are 2 MiB apart, the last at the relro's file page",
                 len(ls) == 4 and all(ls[k + 1][1] - ls[k][1] >= 2 * MIB - 4096 for k in range(3))
                 and ls[3][0] // 4096 == ls[2][0] // 4096, str(ls))

        p, me = hc.start([prog, plain, sep])
        libs = {os.path.basename(x["path"])[:-3]: x for x in me["libs"]}
        hc.check("both fixtures loaded", all(libs[k]["func"] for k in ("lld", "lldsep")), str(me))
        snap = hc.snapshot(p.pid)

        check_image("lld", snap, p.pid, plain, libs["lld"]["func"], 8)

        a, end = check_image("lldsep", snap, p.pid, sep, libs["lldsep"]["func"], MIB)
        roles = [r.get("role") for r in (a or {}).get("regions") or []]
        hc.check("lldsep: the image runs from its first page to the end of its .bss, holes included",
                 a and int(a["start"], 16) == libs["lldsep"]["base"] and end and int(a["end"], 16) == end
                 and roles.count("hole") >= 3 and roles[-1] == "bss", f"{a and (a['start'], a['end'])} {roles}")
        hc.check("lldsep: every region's size is its smaps Size (whole VMAs)",
                 a and all(r["columns"]["size"] == r["smaps"]["size"] == int(r["end"], 16) - int(r["start"], 16)
                           for r in a["regions"]))
        p.stdin.close()
        p.wait(timeout=10)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    hc.done()


if __name__ == "__main__":
    main()
