"""A capture of a stopped JVM carries its file evidence (issue 13, "captures that travel").

A Java program (compiled here; no JDK: skip) allocates and waits; the test stops it (SIGSTOP) and:
- `vmscope capture -p PID`, then a live `vmscope snapshot -p PID --json`: the capture opened
  with `--from` is the live scan's JSON but taken_at: every allocation's type, details (the JVM's
  "Java heap (G1) ..." and each image's "(build-id ...)"), parts (the images' ELF sections),
  regions, roles and threads, and every counter but those that move when ANOTHER process maps
  or unmaps a shared library page (PSS, shared/private split: not the capture's doing; tried 5
  times for all of them, the result printed; test_capture.py checks every number on a static
  program that shares no page);
- capture.file_ranges holds, for each mapped ELF image, what its sections and build-id came
  from: rebuilt from those ranges alone (parsed here in Python, not by vmscope), the image's
  NT_GNU_BUILD_ID note is the build-id in the snapshot's details, and every section the snapshot
  shows as a part of the image is an SHF_ALLOC section of the file's section headers;
- the JVM's hsperfdata file is there whole, byte for byte as on disk (the JVM is stopped);
- it stays small: no range above 1 MiB, no code or data of any image (each image's ranges are
  < 5 % of its size for files over 1 MiB), all ranges under 1 MiB for this JVM.
"""
import base64
import gzip
import json
import os
import shutil
import signal
import struct
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "heaps"))
import heapcheck as hc  # noqa: E402

import golden_check  # noqa: E402  (first_difference)

JAVA = r"""
public class Idle {
    public static void main(String[] a) throws Exception {
        byte[][] keep = new byte[48][];
        for (int i = 0; i < keep.length; i++) keep[i] = new byte[1 << 20];
        System.out.println("{\"ready\": 1}");
        System.out.flush();
        while (System.in.read() >= 0) { }
        System.out.println(keep.length);
    }
}
"""

NUMBERS = ("smaps", "columns", "total", "summary", "rollup", "status")
# Counters that move when ANOTHER process maps or unmaps one of our pages (a library page shared
# or not any more), or when the kernel cleans a page: not the capture's doing.
SHARING = {"pss", "pss_anon", "pss_file", "pss_shmem", "pss_dirty", "swap_pss", "shared_clean",
           "shared_dirty", "private_clean", "private_dirty", "private", "private_ws", "shareable_ws",
           "shared_ws", "uss", "dirty"}


def strip(doc, numbers):
    """The snapshot without capture metadata and taken_at; numbers: "all" keeps every counter,
    "own" drops SHARING, "none" drops every counter."""
    doc = json.loads(json.dumps(doc))
    for k in ("capture", "taken_at", "taken_at_ms"):
        doc.pop(k, None)

    def walk(x, in_numbers):
        if isinstance(x, dict):
            for k in list(x):
                if k in NUMBERS and numbers == "none":
                    del x[k]
                elif in_numbers and k in SHARING and numbers == "own":
                    del x[k]
                else:
                    walk(x[k], in_numbers or k in NUMBERS)
        elif isinstance(x, list):
            for v in x:
                walk(v, in_numbers)
    walk(doc, False)
    return doc


class Sparse:
    """A file rebuilt from the capture's ranges: reading outside them is an error."""

    def __init__(self, ranges):
        self.ranges = [(r["offset"], base64.b64decode(r["base64"])) for r in ranges]

    def read(self, off, n):
        for o, data in self.ranges:
            if o <= off and off + n <= o + len(data):
                return data[off - o:off - o + n]
        raise KeyError(f"bytes {off}+{n} are not in the capture")


def elf_evidence(f):
    """(build-id hex or None, set of SHF_ALLOC section names) from a rebuilt 64-bit LE ELF."""
    eh = f.read(0, 64)
    assert eh[:4] == b"\x7fELF" and eh[4] == 2 and eh[5] == 1, "not ELF64 LE"
    phoff, shoff = struct.unpack_from("<QQ", eh, 0x20)
    phentsize, phnum, shentsize, shnum, shstrndx = struct.unpack_from("<HHHHH", eh, 0x36)
    bid = None
    ph = f.read(phoff, phentsize * phnum)
    for i in range(phnum):
        p_type, _, p_off, _, _, p_filesz = struct.unpack_from("<IIQQQQ", ph, i * phentsize)
        if p_type == 4:  # PT_NOTE
            note, k = f.read(p_off, p_filesz), 0
            while k + 12 <= len(note):
                namesz, descsz, ntype = struct.unpack_from("<III", note, k)
                name_end = k + 12 + ((namesz + 3) & ~3)
                if ntype == 3 and note[k + 12:k + 12 + namesz].rstrip(b"\0") == b"GNU":
                    bid = note[name_end:name_end + descsz].hex()
                k = name_end + ((descsz + 3) & ~3)
    sh = f.read(shoff, shentsize * shnum)
    sec = [struct.unpack_from("<IIQQQQ", sh, i * shentsize) for i in range(shnum)]
    s_name, _, _, _, str_off, str_size = sec[shstrndx]
    names = f.read(str_off, str_size)
    alloc = {names[n:names.index(b"\0", n)].decode() for n, _, flags, _, _, _ in sec if flags & 2}
    return bid, alloc


def main():
    hc.need("java", "javac")
    with hc.tempdir("capfiles") as tmp:
        run(tmp)
    hc.done()


def run(tmp):
    java, javac = shutil.which("java"), shutil.which("javac")
    with open(os.path.join(tmp, "Idle.java"), "w") as f:
        f.write(JAVA)
    subprocess.run([javac, "-d", tmp, os.path.join(tmp, "Idle.java")], check=True, timeout=120)
    p, _ = hc.start([java, "-Xmx128m", "-XX:+UseG1GC", "-cp", tmp, "Idle"])
    os.kill(p.pid, signal.SIGSTOP)
    try:
        cap = os.path.join(tmp, "cap.json.gz")
        for attempt in range(5):
            r = subprocess.run([hc.BIN, "capture", "-p", str(p.pid), "-o", cap], capture_output=True, timeout=120)
            hc.check("vmscope capture of the stopped JVM: exit 0", r.returncode == 0, r.stderr.decode()[:300])
            live = json.loads(subprocess.run([hc.BIN, "snapshot", "-p", str(p.pid), "--json"],
                                             capture_output=True, check=True, timeout=120).stdout)
            opened = json.loads(subprocess.run([hc.BIN, "snapshot", "--from", cap, "--json"],
                                               capture_output=True, check=True, timeout=120).stdout)
            numbers = golden_check.first_difference(strip(opened, "all"), strip(live, "all"))
            if not numbers:
                break
        d = golden_check.first_difference(strip(opened, "none"), strip(live, "none"))
        hc.check("the capture opened is the live scan: types, details, parts, regions, roles, threads", not d, d)
        d = golden_check.first_difference(strip(opened, "own"), strip(live, "own"))
        hc.check("...and its size, rss, anonymous, swap, locked... numbers", not d, d)
        print(f"every number, sharing counters included: {'identical' if not numbers else 'moved: ' + numbers}"
              f" (try {attempt + 1} of 5; other processes map the same library pages)")
        heap = [a for a in live["allocations"] if a["type"] == "managed_heap" and "Java heap" in (a["details"] or "")]
        hc.check("the JVM is attributed (a Java heap allocation)", len(heap) == 1, str([a["details"] for a in heap]))

        doc = json.load(gzip.open(cap))
        ranges = doc["capture"].get("file_ranges", [])
        by_path = {}
        for rg in ranges:
            by_path.setdefault(rg["path"], []).append(rg)
        images = [a for a in live["allocations"] if a["type"] == "image" and a["regions"][0].get("path", "").startswith("/")]
        checked = 0
        for a in images:
            path = a["regions"][0]["path"]
            want_bid = a["details"].split("build-id ")[1].rstrip(")") if "build-id " in a["details"] else None
            parts = {pt["details"] for pt in a.get("parts") or []}
            if not want_bid and not parts:
                continue
            try:
                bid, alloc = elf_evidence(Sparse(by_path.get(path, [])))
            except (KeyError, AssertionError, ValueError, struct.error) as e:
                hc.check(f"{path}: its ELF skeleton is in the capture", False, str(e))
                continue
            hc.check(f"{os.path.basename(path)}: build-id from the captured note = the snapshot's",
                     bid == want_bid, f"{bid} vs {want_bid}")
            hc.check(f"{os.path.basename(path)}: its {len(parts)} sections are SHF_ALLOC sections of the captured headers",
                     parts <= alloc, str(sorted(parts - alloc)[:5]))
            checked += 1
        hc.check("images checked against their captured skeletons", checked >= 5, str(checked))
        hs = [pth for pth in by_path if "/hsperfdata_" in pth]
        hc.check("the hsperfdata file is captured", len(hs) == 1, str(hs))
        if hs:
            with open(f"/proc/{p.pid}/root{hs[0]}", "rb") as f:
                disk = f.read()
            got = Sparse(by_path[hs[0]]).read(0, len(disk)) if len(by_path[hs[0]]) == 1 else b""
            hc.check("...whole, byte for byte as on disk", got == disk and disk[:4] == b"\xca\xfe\xc0\xc0",
                     f"{len(got)} vs {len(disk)} bytes")
        total = sum(len(base64.b64decode(rg["base64"])) for rg in ranges)
        hc.check("bounded: no range above 1 MiB, all ranges under 1 MiB for this JVM",
                 all(len(base64.b64decode(rg["base64"])) <= 1 << 20 for rg in ranges) and total < 1 << 20, str(total))
        big = [pth for pth, rgs in by_path.items() if rgs[0]["size"] > 1 << 20 and "/hsperfdata_" not in pth
               and sum(len(base64.b64decode(x["base64"])) for x in rgs) > rgs[0]["size"] // 20]
        hc.check("no image's code or data: headers and notes only (< 5 % of each file over 1 MiB)", not big, str(big))
        print(f"capture: {os.path.getsize(cap)} bytes gzip, file_ranges {total} bytes over {len(by_path)} files")
    finally:
        os.kill(p.pid, signal.SIGCONT)


if __name__ == "__main__":
    main()
