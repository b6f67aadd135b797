"""`vmscope at PID|FILE.json ADDR...` names what is at an address (README, docs/api.md /at).

tests/zoo/c/image_gaps.c (built here with cc) prints &malloc and &main. Checks:
  * `vmscope at PID MALLOC+0x2a` says libc.so.6!malloc+0x2a: the symbol from libc's own tables
    (.symtab, a debug file, or .dynsym), section .text, the file offset, Image;
  * &main + 3 is image_gaps!main+0x3 (its own .symtab);
  * an address in a gap of the executable is free, with the gap's size; 0x10 is outside;
  * --json: one object per address with the API's fields (kind, region, allocation,
    offset_in_region, offset_in_allocation, image{path, file_offset, section, symbol, text});
  * a saved snapshot (FILE.json) answers the same while the file is unchanged, and says the
    file on disk is not the mapped one once it was replaced (new inode) instead of naming a
    wrong symbol.
No cc: exit 77.
"""
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "heaps"))
import heapcheck as hc  # noqa: E402


def at(*args):
    r = subprocess.run([hc.BIN, "at", *args], capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout, r.stderr


def main():
    hc.need("cc")
    with hc.tempdir("at") as tmp:
        exe = os.path.join(tmp, "image_gaps")
        hc.cc(["-O1", "-g", "-fPIE", "-pie", "-Wl,-z,separate-code", "-Wl,-z,max-page-size=0x200000", "-o", exe,
               os.path.join(hc.ZOO, "c", "image_gaps.c")])
        p, me = hc.start([exe])
        pid = str(p.pid)
        m = me["malloc"] + 0x2a
        gap = me["segments"][1][0] - 0x100  # just below the text segment: unmapped
        rc, out, err = at(pid, hex(m), hex(me["main"] + 3), hex(gap), "0x10")
        hc.check("vmscope at exits 0", rc == 0, err)
        hc.check("text names libc.so.6!malloc+0x2a", "libc.so.6!malloc+0x2a" in out, out[:600])
        hc.check("text names image_gaps!main+0x3", "image_gaps!main+0x3" in out, out)
        hc.check("text says the gap is free, inside the image", "free: gap" in out and "(a gap its loader left)" in out, out)
        hc.check("text says 0x10 is outside", "outside the user address space" in out, out)

        rc, out, err = at("--json", pid, hex(m), hex(gap), "0x10")
        hc.check("--json exits 0", rc == 0, err)
        res = json.loads(out) if rc == 0 else []
        hc.check("one object per address", len(res) == 3, str(len(res)))
        if len(res) == 3:
            o = res[0]
            img = o.get("image") or {}
            hc.check("malloc: kind region, Image", o["kind"] == "region" and o["allocation"]["type"] == "image",
                     str((o["kind"], o["allocation"] and o["allocation"]["type"])))
            hc.check("malloc: symbol malloc in libc.so.6, offset 0x2a",
                     img.get("symbol") == "malloc" and img.get("symbol_offset") == "0x2a"
                     and (img.get("path") or "").endswith("libc.so.6"), json.dumps(img))
            hc.check("malloc: section .text, text libc.so.6!malloc+0x2a",
                     img.get("section") == ".text" and img.get("text") == "libc.so.6!malloc+0x2a", json.dumps(img))
            r = o["region"]
            off = m - int(r["start"], 16)
            hc.check("offsets into region and allocation",
                     int(o["offset_in_region"], 16) == off
                     and int(o["offset_in_allocation"], 16) == m - int(o["allocation"]["start"], 16), json.dumps(o)[:300])
            hc.check("file offset = region offset + offset in region",
                     int(img.get("file_offset") or "-0x1", 16) == int(r["offset"], 16) + off if isinstance(r["offset"], str)
                     else int(img.get("file_offset") or "-0x1", 16) == r["offset"] + off, json.dumps(img))
            hc.check("neighbours", o["prev"] is not None and o["next"] is not None)
            g = res[1]
            hc.check("gap: kind free with its size",
                     g["kind"] == "free" and g["gap"]["size"] == int(g["gap"]["end"], 16) - int(g["gap"]["start"], 16)
                     and g["image"] is None, json.dumps(g)[:300])
            hc.check("gap: inside the executable's image allocation",
                     g["gap"].get("inside_allocation") is not None
                     and g["prev"]["allocation"] == g["gap"]["inside_allocation"], json.dumps(g["gap"]))
            hc.check("0x10: outside", res[2]["kind"] == "outside")

        # a saved snapshot: same answer while the file is the one mapped
        saved = os.path.join(tmp, "snap.json")
        subprocess.run([hc.BIN, "snapshot", "-p", pid, "-o", saved], check=True, timeout=60)
        rc, out, err = at("--json", saved, hex(me["main"] + 3))
        img = (json.loads(out)[0].get("image") or {}) if rc == 0 else {}
        hc.check("saved snapshot: main named while the file is unchanged", img.get("symbol") == "main", out[:400] + err)
        # replace the executable (a new inode, as a package upgrade does): no symbol, and says why
        p.stdin.close()
        p.wait(timeout=10)
        shutil.copy(exe, exe + ".new")
        os.rename(exe + ".new", exe)
        rc, out, err = at("--json", saved, hex(me["main"] + 3))
        img = (json.loads(out)[0].get("image") or {}) if rc == 0 else {}
        hc.check("saved snapshot, file replaced: no symbol, says the inode differs",
                 img.get("symbol") is None and "inode differs" in (img.get("note") or ""), out[:400] + err)
    hc.done()


if __name__ == "__main__":
    main()
