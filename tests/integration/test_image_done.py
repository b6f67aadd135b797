"""Issue 9's "done when", on real processes: the details of every image in a python3, a node and
a chromium (browser) process list its sections, no image's .bss is larger than its ELF says, and
`vmscope at` answers with a symbol.

For each process: `vmscope snapshot --json`; every Image allocation mapped from a file that is
readable here, still the mapped inode and an ELF with section headers must have parts (its
sections: .text among them when the file has one); every region with role "bss" and every
".bss" part must end at or below the end of the zero-fill of the ELF's highest PT_LOAD
(heaps/elfbss.py, from the file's own program headers); a region into which the kernel merged
memory mapped after the .bss (a VMA cannot be split) is not the image's and says it holds the
.bss at its start (chromium's libdav1d: 8 KiB past its .bss); the [vdso] lists sections too. Then
`vmscope at PID ADDR` on the address of a function the process itself reports (python3: ctypes'
address of libc's malloc and of Py_Initialize; node: none, as it cannot say its own addresses)
answers with that symbol.
Missing runtimes are noted; with none of the three installed: exit 77.
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "heaps"))
import heapcheck as hc  # noqa: E402
from elfbss import elf_bss_end  # noqa: E402

CHROMIUM = "/usr/lib/chromium/chromium"


def elf_sections(path, inode):
    """Names of the file's SHF_ALLOC sections when it is the mapped inode and a 64-bit ELF with
    section headers; None otherwise (the test then asks nothing of that image)."""
    try:
        if os.stat(path).st_ino != inode:
            return None
        with open(path, "rb") as f:
            eh = f.read(64)
            if eh[:4] != b"\x7fELF" or eh[4] != 2:
                return None
            shoff, = struct.unpack_from("<Q", eh, 0x28)
            shentsize, shnum, shstrndx = struct.unpack_from("<HHH", eh, 0x3a)
            if not shoff or not shnum or shentsize != 64:
                return None
            f.seek(shoff)
            tab = f.read(64 * shnum)
            names_off = struct.unpack_from("<Q", tab, shstrndx * 64 + 0x18)[0]
            names_len = struct.unpack_from("<Q", tab, shstrndx * 64 + 0x20)[0]
            f.seek(names_off)
            names = f.read(names_len)
    except (OSError, struct.error):
        return None
    out = set()
    for k in range(1, shnum):
        name, typ, flags = struct.unpack_from("<IIQ", tab, k * 64)
        if typ and flags & 2 and not flags & 0x400:
            out.add(names[name:names.index(b"\0", name)].decode(errors="replace"))
    return out


def check_images(label, snap):
    listed = lacking = merged = 0
    after = {x["start"]: x for x in snap["allocations"]}
    for a in snap["allocations"]:
        if a["type"] != "image":
            continue
        files = [r for r in a["regions"] if (r.get("path") or "").startswith("/")]
        if any(r.get("path") == "[vdso]" for r in a["regions"]):
            hc.check(f"{label}: the [vdso] lists its sections", ".text" in {q["details"] for q in a.get("parts") or []},
                     str(a.get("details")))
            continue
        if not files or files[0].get("deleted"):
            continue
        path = files[0]["path"]
        secs = elf_sections(path, int(files[0]["inode"]))
        if not secs:
            continue
        parts = {q["details"] for q in a.get("parts") or []}
        if parts and (".text" in parts or ".text" not in secs):
            listed += 1
        else:
            lacking += 1
            print(f"   {label}: {path}: parts {sorted(parts)[:8]}, sections {sorted(secs)[:8]}", file=sys.stderr)
        # .bss: never beyond the ELF's own zero-fill
        data = files[-1]
        end = elf_bss_end(path, data)
        if end is None:
            continue
        for r in a["regions"]:
            if r.get("role") == "bss" and int(r["end"], 16) > end:
                hc.check(f"{label}: {os.path.basename(path)}'s .bss region ends within its ELF's zero-fill",
                         False, f"{r['start']}-{r['end']} > {end:#x}: {a.get('details')}")
                lacking += 1
        # the kernel merged memory mapped after the .bss into its VMA (a VMA cannot be split):
        # the region goes to the other rules and says what is at its start
        nxt = after.get(a["end"])
        if nxt and nxt["regions"][0]["path"] is None and int(nxt["start"], 16) < end < int(nxt["regions"][0]["end"], 16):
            merged += 1
            ok = nxt["type"] != "image" and (f"holds the .bss of {os.path.basename(path)}" in (nxt.get("details") or "")
                                             or nxt.get("owner"))
            hc.check(f"{label}: {os.path.basename(path)}'s .bss region, merged with later memory, is left to "
                     "the other rules and says so", ok, f"{nxt['type']}: {nxt.get('details')}")
            lacking += 0 if ok else 1
        for q in a.get("parts") or []:
            if q["details"] == ".bss" and int(q["end"], 16) > end:
                hc.check(f"{label}: {os.path.basename(path)}'s .bss part ends within its ELF's zero-fill", False,
                         f"{q['start']}-{q['end']} > {end:#x}")
                lacking += 1
    if merged:
        print(f"   {label}: {merged} .bss region(s) merged with later memory, left to the other rules")
    hc.check(f"{label}: every readable image lists its sections and no .bss exceeds its ELF ({listed} images)",
             listed > 0 and lacking == 0, f"{lacking} without")


def at(pid, *addrs):
    r = subprocess.run([hc.BIN, "at", "--json", str(pid), *[hex(a) for a in addrs]], capture_output=True,
                       text=True, timeout=120)
    if r.returncode != 0:
        return None, r.stderr
    return json.loads(r.stdout), r.stderr


def main():
    ran = 0
    py = shutil.which("python3")
    if py:
        ran += 1
        code = ("import ctypes, json, sys\n"
                "libc = ctypes.CDLL(None)\n"
                "m = ctypes.cast(libc.malloc, ctypes.c_void_p).value\n"
                "p = ctypes.cast(ctypes.pythonapi.Py_Initialize, ctypes.c_void_p).value\n"
                "print(json.dumps({'malloc': m, 'py_init': p}), flush=True)\n"
                "sys.stdin.read()\n")
        p, me = hc.start([py, "-c", code])
        check_images("python3", hc.snapshot(p.pid))
        res, err = at(p.pid, me["malloc"], me["py_init"] + 3)
        img = [r.get("image") or {} for r in res or []]
        hc.check("python3: `vmscope at` names malloc at ctypes' address of malloc",
                 len(img) == 2 and img[0].get("symbol") == "malloc" and int(img[0].get("symbol_offset") or "1", 16) == 0,
                 str(img[:1]) + err)
        hc.check("python3: ... and Py_Initialize+0x3",
                 len(img) == 2 and img[1].get("symbol") == "Py_Initialize" and img[1].get("text", "").endswith("!Py_Initialize+0x3"),
                 str(img[1:]) + err)
        text = subprocess.run([hc.BIN, "at", str(p.pid), hex(me["malloc"])], capture_output=True, text=True, timeout=120)
        hc.check("python3: the text answer says libc.so.6!malloc+0x0", "!malloc+0x0" in text.stdout, text.stdout[:300])
    else:
        print("note: python3 is not installed")
    node = shutil.which("node")
    if node:
        ran += 1
        q, _ = hc.start([node, "-e", "console.log(JSON.stringify({pid: process.pid})); setInterval(() => {}, 1000)"])
        check_images("node", hc.snapshot(q.pid))
    else:
        print("note: node is not installed")
    if os.access(CHROMIUM, os.X_OK):
        ran += 1
        tmp = tempfile.mkdtemp(prefix="vmscope-done-chromium-")
        c = subprocess.Popen([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                              "--disable-background-networking", "--disable-component-update", "--disable-sync",
                              f"--user-data-dir={tmp}", "about:blank"],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        hc._children.append(c)
        try:
            deadline = time.time() + 30
            while time.time() < deadline and c.poll() is None:
                time.sleep(0.5)
                with open(f"/proc/{c.pid}/maps") as f:
                    if sum(1 for _ in f) > 300:
                        break
            time.sleep(1)
            if c.poll() is not None:
                print(f"note: chromium exited ({c.returncode})")
            else:
                check_images("chromium", hc.snapshot(c.pid))
        finally:
            hc._cleanup()
            shutil.rmtree(tmp, ignore_errors=True)
    else:
        print("note: chromium is not installed")
    if not ran:
        hc.skip("none of python3, node, chromium is installed")
    hc.done()


main()
