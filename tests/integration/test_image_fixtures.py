"""Images from fixture ELF files this test builds (issue 9, "Tests and cost"), loaded by
tests/zoo/c/image_fixtures.c into a live process and scanned with `vmscope snapshot` / `vmscope at`:
  * sep:   -Wl,-z,separate-code, 8 bytes of .bss: one Image allocation, its sections as parts
           (.text, .data, .bss), the .bss part within the ELF's zero-fill, `at` names fixture_func;
  * big:   4 MiB of .bss: the .bss part is that size (within the ELF's zero-fill), region role bss;
  * nosh:  --strip-all and then cut like sstrip (no section headers, the file ends with its last
           PT_LOAD): still one Image, no parts, `at` says there are no section headers;
  * pre:   linked to load at 0x20000000 (-Ttext-segment) with that address taken first: the
           details say "prelinked at 0x20000000, relocated to ...";
  * del:   a copy unlinked after loading: the details say deleted, `at` says so;
  * rep:   a copy replaced after loading (a new file renamed over it, as a package upgrade does;
           the kernel shows the old one as deleted): the details say replaced (inode differs),
           `at` names no symbol from the new file and says it was replaced;
  * dbg:   a library stripped of .symtab whose debug file (objcopy --only-keep-debug) lies under
           /usr/lib/debug/.build-id/xx/rest.debug in the process's own mount namespace (unshare -m
           and a tmpfs there: this host's /usr/lib/debug is untouched): `at` names the hidden
           function fixture_hidden from that debug file;
  * m32:   a 32-bit process (gcc -m32) with a 32-bit library: sections and `at` with a symbol.
No cc: exit 77; no 32-bit toolchain: that part is noted and skipped.
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "heaps"))
import heapcheck as hc  # noqa: E402
from elfbss import elf_bss_end  # noqa: E402

SRC = os.path.join(hc.ZOO, "c")
MIB = 1 << 20


def cc(args, optional=False):
    r = subprocess.run(["cc", *args], capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        if optional:
            return False
        hc.skip(f"cc failed: {r.stderr.strip()[:300]}")
    return True


def lib(tmp, name, bss, *ldflags, m32=False):
    out = os.path.join(tmp, name + ".so")
    ok = cc([*(["-m32"] if m32 else []), "-O1", "-shared", "-fPIC", f"-DBSS={bss}", "-o", out,
             os.path.join(SRC, "image_fixtures_lib.c"), *ldflags], optional=m32)
    return out if ok else None


def sstrip(path):
    """Drop the section headers and cut the file after its last PT_LOAD's bytes (ELF64)."""
    with open(path, "r+b") as f:
        b = bytearray(f.read())
        phoff, = struct.unpack_from("<Q", b, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", b, 0x36)
        end = 0
        for k in range(phnum):
            t, _fl, off, _va, _pa, filesz = struct.unpack_from("<IIQQQQ", b, phoff + k * phentsize)
            if t == 1:
                end = max(end, off + filesz)
        struct.pack_into("<QHHH", b, 0x28, 0, 64, 0, 0)  # e_shoff, (e_flags skipped) shentsize..
        struct.pack_into("<Q", b, 0x28, 0)
        struct.pack_into("<HHH", b, 0x3a, 0, 0, 0)
        f.seek(0)
        f.truncate()
        f.write(bytes(b[:end]))


def alloc_of(snap, addr):
    for a in snap["allocations"]:
        if int(a["start"], 16) <= addr < int(a["end"], 16):
            return a
    return None


def at(pid, *addrs):
    r = subprocess.run([hc.BIN, "at", "--json", str(pid), *[hex(x) for x in addrs]], capture_output=True,
                       text=True, timeout=120)
    return (json.loads(r.stdout) if r.returncode == 0 else []), r.stderr


def parts(a):
    return {q["details"]: (int(q["start"], 16), int(q["end"], 16)) for q in (a or {}).get("parts") or []}


def last_file_region(a, path):
    regs = [r for r in a["regions"] if r.get("path") == path]
    return regs[-1] if regs else None


def build_id(path):
    r = subprocess.run(["readelf", "-n", path], capture_output=True, text=True)
    for line in r.stdout.splitlines():
        if "Build ID:" in line:
            return line.split("Build ID:")[1].strip()
    return None


def debug_file_part(tmp, prog):
    if os.geteuid() != 0 or not all(shutil.which(t) for t in ("unshare", "objcopy", "readelf", "nm")) \
            or not os.path.isdir("/usr/lib/debug"):
        print("note: the debug-file part needs root, unshare, binutils and /usr/lib/debug: skipped")
        return
    dbg_lib = lib(tmp, "dbg", 8, "-g")
    debug = dbg_lib + ".debug"
    subprocess.run(["objcopy", "--only-keep-debug", dbg_lib, debug], check=True)
    subprocess.run(["objcopy", "--strip-all", dbg_lib], check=True)
    bid = build_id(dbg_lib)
    nm = subprocess.run(["nm", debug], capture_output=True, text=True).stdout
    hidden = [int(l.split()[0], 16) for l in nm.splitlines() if l.endswith(" fixture_hidden")]
    if not bid or not hidden:
        hc.check("dbg: the fixture has a build-id and fixture_hidden in its debug file", False, f"{bid} {hidden}")
        return
    d = f"/usr/lib/debug/.build-id/{bid[:2]}"
    script = (f"mount -t tmpfs vmscope-test /usr/lib/debug && mkdir -p {d} && cp {debug} {d}/{bid[2:]}.debug "
              f"&& exec {prog} {dbg_lib}")
    try:
        p, me = hc.start(["unshare", "-m", "--propagation", "private", "sh", "-c", script], ready_timeout=20)
    except RuntimeError as e:
        print(f"note: could not start in a private mount namespace ({e}): skipped")
        return
    base = me["libs"][0]["base"]
    res, err = at(me["pid"], base + hidden[0] + 4)
    img = res[0].get("image") or {} if res else {}
    hc.check("dbg: at names fixture_hidden+0x4 from the debug file under /usr/lib/debug/.build-id/",
             img.get("symbol") == "fixture_hidden" and int(img.get("symbol_offset", "0"), 16) == 4
             and img.get("symbol_source") == "debug file" and bid[2:] in (img.get("debug_file") or ""),
             str(img) + err)
    p.stdin.close()
    p.wait(timeout=10)


def main():
    hc.need("cc")
    tmp = tempfile.mkdtemp(prefix="vmscope-image-fixtures-")
    try:
        prog = os.path.join(tmp, "image_fixtures")
        cc(["-O1", "-o", prog, os.path.join(SRC, "image_fixtures.c"), "-ldl"])
        sep = lib(tmp, "sep", 8, "-Wl,-z,separate-code")
        big = lib(tmp, "big", 4 * MIB)
        nosh = lib(tmp, "nosh", 64, "-Wl,--strip-all")
        sstrip(nosh)
        pre = lib(tmp, "pre", 8, "-Wl,-Ttext-segment=0x20000000")
        dele = os.path.join(tmp, "del.so")
        rep = os.path.join(tmp, "rep.so")
        shutil.copy(sep, dele)
        shutil.copy(sep, rep)
        p, me = hc.start([prog, "-b", "20000000", sep, big, nosh, pre, dele, rep])
        libs = {os.path.basename(x["path"])[:-3]: x for x in me["libs"]}
        hc.check("every fixture loaded", all(libs[k]["func"] for k in ("sep", "big", "nosh", "pre", "del", "rep")),
                 str(me))
        os.unlink(dele)
        new = rep + ".new"
        shutil.copy(big, new)
        os.rename(new, rep)
        snap = hc.snapshot(p.pid)

        a = alloc_of(snap, libs["sep"]["func"])
        ps = parts(a)
        hc.check("sep: one Image allocation holds the library (separate-code)",
                 a and a["type"] == "image" and len([x for x in snap["allocations"] if any(
                     r.get("path") == sep for r in x["regions"])]) == 1, str(a and a["details"]))
        hc.check("sep: its sections are parts (.text, .data, .bss)", {".text", ".data", ".bss"} <= set(ps), str(sorted(ps)))
        end = elf_bss_end(sep, last_file_region(a, sep)) if a else None
        hc.check("sep: the 8-byte .bss part is within the ELF's zero-fill",
                 ".bss" in ps and end and ps[".bss"][1] <= end and ps[".bss"][1] - ps[".bss"][0] <= 64, str(ps.get(".bss")))
        res, err = at(p.pid, libs["sep"]["func"] + 2)
        img = res[0].get("image") or {} if res else {}
        hc.check("sep: at names fixture_func+0x2 in .text", img.get("symbol") == "fixture_func"
                 and img.get("section") == ".text" and img.get("text", "").endswith("sep.so!fixture_func+0x2"),
                 str(img) + err)

        a = alloc_of(snap, libs["big"]["func"])
        ps = parts(a)
        end = elf_bss_end(big, last_file_region(a, big)) if a else None
        b = ps.get(".bss")
        hc.check("big: the 4 MiB .bss part is that size and within the ELF's zero-fill",
                 b and 4 * MIB <= b[1] - b[0] < 4 * MIB + 4096 and end and b[1] <= end, str(b) + str(end))
        hc.check("big: its .bss region is the image's (role bss)",
                 a and any(r.get("role") == "bss" and int(r["start"], 16) <= libs["big"]["bss"] + 2 * MIB < int(r["end"], 16)
                           for r in a["regions"]), str(a and [r.get("role") for r in a["regions"]]))

        a = alloc_of(snap, libs["nosh"]["func"])
        hc.check("nosh: still one Image allocation, with no sections",
                 a and a["type"] == "image" and not a.get("parts"), str(a and (a["type"], a.get("parts"))))
        res, err = at(p.pid, libs["nosh"]["func"])
        img = res[0].get("image") or {} if res else {}
        hc.check("nosh: at says there are no section headers",
                 img.get("symbol") is None and "no section headers" in (img.get("note") or ""), str(img) + err)

        a = alloc_of(snap, libs["pre"]["func"])
        moved = me["blocked"] and libs["pre"]["base"] != 0x20000000
        hc.check("pre: the loader had to move it", moved, str(me["blocked"]) + " " + hex(libs["pre"]["base"]))
        hc.check("pre: the details say prelinked at 0x20000000, relocated to its base",
                 a and f"prelinked at 0x20000000, relocated to {libs['pre']['base']:#x}" in (a.get("details") or ""),
                 str(a and a.get("details")))

        a = alloc_of(snap, libs["del"]["func"])
        hc.check("del: the details say the file was deleted", a and "deleted" in (a.get("details") or ""),
                 str(a and a.get("details")))
        a = alloc_of(snap, libs["rep"]["func"])
        hc.check("rep: the details say the file was replaced (inode differs)",
                 a and "replaced" in (a.get("details") or "") and not a.get("parts"), str(a and a.get("details")))
        res, err = at(p.pid, libs["del"]["func"], libs["rep"]["func"])
        imgs = [r.get("image") or {} for r in res]
        hc.check("del/rep: at names no symbol and says why",
                 len(imgs) == 2 and not imgs[0].get("symbol") and "deleted" in (imgs[0].get("note") or "")
                 and not imgs[1].get("symbol") and "replaced" in (imgs[1].get("note") or ""), str(imgs) + err)
        p.stdin.close()
        p.wait(timeout=10)

        debug_file_part(tmp, prog)

        # 32-bit
        prog32 = os.path.join(tmp, "image_fixtures32")
        lib32 = lib(tmp, "m32", 65536, m32=True)
        if lib32 and cc(["-m32", "-O1", "-o", prog32, os.path.join(SRC, "image_fixtures.c"), "-ldl"], optional=True):
            q, me32 = hc.start([prog32, lib32])
            f32 = me32["libs"][0]["func"]
            snap = hc.snapshot(q.pid)
            hc.check("m32: the process is 32-bit", snap["process"].get("arch", {}).get("bits") == 32,
                     str(snap["process"].get("arch")))
            a = alloc_of(snap, f32)
            ps = parts(a)
            hc.check("m32: its library lists .text and a 64 KiB .bss", {".text", ".bss"} <= set(ps)
                     and 65536 <= ps[".bss"][1] - ps[".bss"][0] < 65536 + 4096, str(ps))
            res, err = at(q.pid, f32 + 1)
            img = res[0].get("image") or {} if res else {}
            hc.check("m32: at names fixture_func+0x1", img.get("symbol") == "fixture_func"
                     and int(img.get("symbol_offset", "0"), 16) == 1, str(img) + err)
            q.stdin.close()
            q.wait(timeout=10)
        else:
            print("note: no 32-bit toolchain (gcc-multilib): the 32-bit part is skipped")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    hc.done()


if __name__ == "__main__":  # test_image_lld.py imports the helpers above
    main()
