"""Captures and bare smaps imports (issue 13, "captures that travel"), on a real process.

A static C program (no shared library: no page of it is mapped by another process, so its Pss
stays put while it idles) allocates and touches memory, then waits. The test:
- `vmscope capture -p PID` writes one gzip file with the snapshot and the raw /proc texts;
  `vmscope snapshot --from FILE --json` gives the same JSON as a live `vmscope snapshot --json`
  of the idle process, except taken_at: every region, smaps field, allocation, summary row;
- the capture's raw smaps parses to exactly those regions, its host/kernel are uname's, the
  executable's build-id is there; a capture edited by hand (one Rss) is refused, exit 1;
- a bare `cat /proc/PID/smaps` file imports with every region's smaps fields equal to the live
  scan's, no threads, no rollup, pid 0, and says what it cannot know; a maps file, an empty file
  and random bytes are refused with exit 1 and a sentence;
- the daemon's import (POST /api/v1/snapshots, the dashboard's Open file) takes the capture
  and the smaps file (201, source "import"), refuses garbage and a gzip bomb with 400.
"""
import gzip
import json
import os
import platform
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "heaps"))
import heapcheck as hc  # noqa: E402

import golden_check  # noqa: E402  (first_difference)

PROG = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
int main(void)
{
	char *a = malloc(8 << 20), *b = malloc(100000);
	char *m = mmap(NULL, 3 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(a, 1, 8 << 20);
	memset(b, 2, 100000);
	memset(m, 3, 1 << 20);
	printf("{\"ready\": 1}\n");
	fflush(stdout);
	char line[64];
	while (fgets(line, sizeof line, stdin))
		;
	return a[5] + b[7] + m[9];
}
"""

VOLATILE = ("taken_at", "taken_at_ms")


def run(*args, input_bytes=None):
    return subprocess.run([hc.BIN, *args], capture_output=True, input=input_bytes, timeout=120)


def strip(snap):
    return {k: v for k, v in snap.items() if k not in VOLATILE}


def first_diff(a, b):
    """Where two JSON values differ first ("" when equal)."""
    return golden_check.first_difference(a, b) or ""


def regions(snap):
    return [r for a in snap["allocations"] for r in a["regions"]]


def post(base, token, path, data):
    return hc.api(base, token, "POST", path, raw=data)[:2]


def get(base, token, path):
    st, body = hc.api(base, token, "GET", path)[:2]
    return json.loads(body) if st == 200 else {}


def capture_and_live(tmp, pid):
    """A capture, its import, and a live scan right after; again (up to 3 times) while they
    differ, in case something else touched the process between the two."""
    for attempt in range(3):
        cap = os.path.join(tmp, f"c{attempt}.json.gz")
        r = run("capture", "-p", str(pid), "-o", cap)
        hc.check("vmscope capture exits 0", r.returncode == 0, r.stderr.decode()[:300])
        live = json.loads(run("snapshot", "-p", str(pid), "--json").stdout)
        r = run("snapshot", "--from", cap, "--json")
        hc.check("vmscope snapshot --from CAPTURE exits 0", r.returncode == 0, r.stderr.decode()[:300])
        imported = json.loads(r.stdout)
        diff = first_diff(strip(live), strip(imported))
        if not diff:
            break
        print(f"attempt {attempt + 1}: {diff}")
    return cap, live, imported, diff


def main():
    hc.need("cc")
    with hc.tempdir("capture") as tmp:
        src, exe = os.path.join(tmp, "idle.c"), os.path.join(tmp, "idle")
        with open(src, "w") as f:
            f.write(PROG)
        hc.cc(["-O1", "-static", "-o", exe, src])
        p, _ = hc.start([exe])

        # 1. capture -> import == live
        cap, live, imported, diff = capture_and_live(tmp, p.pid)
        hc.check("the imported capture is the live snapshot (all but taken_at)", not diff, diff)
        hc.check("... and it has regions and a heap", len(regions(imported)) >= 5
                 and any(a["type"] in ("heap", "private_data") for a in imported["allocations"]))

        # 2. the archive: gzip, raw texts, host, build-id
        with open(cap, "rb") as f:
            raw = f.read()
        hc.check("the capture is gzip", raw[:2] == b"\x1f\x8b")
        doc = json.loads(gzip.decompress(raw))
        c = doc["capture"]
        files = c["files"]
        for name in ("smaps", "smaps_rollup", "status", "stat", "cmdline", "maps", "comm", "mountinfo",
                     f"task/{p.pid}/stat", f"task/{p.pid}/comm"):
            hc.check(f"the capture holds {name}", name in files)
        hc.check("its host and kernel are uname's", c["host"] == platform.node() and c["kernel"] == platform.release(),
                 f"{c['host']} {c['kernel']}")
        hc.check("it says the vmscope version", c["vmscope_version"].startswith("0.") or c["vmscope_version"][0].isdigit())
        hc.check("its smaps text has the snapshot's region count",
                 files["smaps"].count("\nVmFlags:") == len(regions(doc)), str(len(regions(doc))))
        exe_img = [i for i in c["images"] if i["path"] == exe]
        elf_id = subprocess.run(["readelf", "-n", exe], capture_output=True, text=True).stdout
        m = re.search(r"Build ID: ([0-9a-f]+)", elf_id)
        if m:
            hc.check("the executable's build-id is readelf's", exe_img and exe_img[0]["build_id"] == m.group(1),
                     f"{exe_img} vs {m.group(1)}")

        # 3. an edited capture is refused
        r0 = [r for r in regions(doc) if r["smaps"]["rss"]][0]  # one counter no rule ties to others
        r0["smaps"]["referenced"] = 0 if r0["smaps"]["referenced"] else r0["smaps"]["rss"]
        bad = os.path.join(tmp, "edited.json.gz")
        with open(bad, "wb") as f:
            f.write(gzip.compress(json.dumps(doc).encode()))
        r = run("snapshot", "--from", bad, "--json")
        hc.check("an edited capture: exit 1, 'altered'", r.returncode == 1 and b"altered" in r.stderr, r.stderr.decode())

        # 4. bare smaps
        bare = os.path.join(tmp, "smaps")
        for attempt in range(3):
            with open(f"/proc/{p.pid}/smaps", "rb") as f, open(bare, "wb") as o:
                o.write(f.read())
            live = json.loads(run("snapshot", "-p", str(p.pid), "--json").stdout)
            r = run("snapshot", "--from", bare, "--json")
            hc.check("a bare smaps file imports (exit 0)", r.returncode == 0, r.stderr.decode()[:300])
            b = json.loads(r.stdout)
            lr, br = regions(live), regions(b)
            diff = "" if len(lr) == len(br) else f"{len(lr)} regions live, {len(br)} bare"
            for x, y in zip(lr, br):
                for k in ("start", "end", "perms", "offset", "dev", "inode", "path", "smaps", "vm_flags"):
                    if not diff and x.get(k) != y.get(k):
                        diff = f"region {x['start']} {k}: {x.get(k)} != {y.get(k)}"
            if not diff:
                break
        hc.check("bare smaps: every region and smaps field equals the live scan's", not diff, diff)
        pte = {k: 0 for k in live["total"]}
        for row in live["summary"]:
            if row["type"] == "page_table":  # VmPTE, from status: unknown to a smaps file
                pte = row["columns"]
        hc.check("bare smaps: the totals equal the live scan's but the Page Table row",
                 all(b["total"][k] == live["total"][k] - pte[k] for k in live["total"]),
                 f"{b['total']} vs {live['total']} - {pte}")
        hc.check("bare smaps: no threads, no rollup, pid 0, it says what it cannot know",
                 b["threads"] == [] and b.get("rollup") is None and b["process"]["pid"] == 0
                 and "bare smaps" in (b.get("thread_note") or ""), str({k: b.get(k) for k in ("thread_note", "rollup")}))
        free = lambda snap: [row["columns"]["size"] for row in snap["summary"] if row["type"] == "free"]
        # vm.mmap_min_addr of the machine is not in smaps: the import assumes 64 KiB (Debian's)
        low = int(b["mmap_min_addr"], 16) - int(live["mmap_min_addr"], 16)
        hc.check("bare smaps: x86_64 told by [vsyscall], so Free is the live scan's (but mmap_min_addr)",
                 platform.machine() != "x86_64" or (b["process"]["arch"]["machine"] == "x86_64"
                                                    and free(b) == [free(live)[0] - low]),
                 f"{b['process']['arch']} {free(b)} vs {free(live)} - {low}")
        hc.check("bare smaps: its time is unknown: taken_at null, taken_at_ms 0 (not 1970)",
                 b["taken_at"] is None and b["taken_at_ms"] == 0, f"{b['taken_at']!r} {b['taken_at_ms']!r}")
        r = run("snapshot", "--from", bare)
        hc.check("bare smaps: the text report says the time is unknown",
                 b"1970" not in r.stdout and re.search(rb"\bunknown\b", r.stdout) is not None, r.stdout[:400])
        hc.check("bare smaps: the heap is classified", any(a["type"] in ("heap", "private_data") and a["size"] >= 8 << 20
                                                           for a in b["allocations"]))
        r = run("snapshot", "--from", bare, "-o", os.path.join(tmp, "bare.json"))
        r2 = run("snapshot", "--from", os.path.join(tmp, "bare.json"), "--json")
        hc.check("bare smaps -> JSON -> import again: the same", r.returncode == 0 and r2.returncode == 0
                 and not first_diff(strip(b), strip(json.loads(r2.stdout))), r2.stderr.decode()[:300])

        # 5. garbage
        cases = {"maps": open(f"/proc/{p.pid}/maps", "rb").read(), "empty": b"", "random": os.urandom(4096),
                 "text": b"hello world\nthis is not smaps\n", "gzip-garbage": b"\x1f\x8b" + os.urandom(100),
                 "truncated-capture": raw[:len(raw) // 2]}
        for name, data in cases.items():
            path = os.path.join(tmp, name)
            with open(path, "wb") as f:
                f.write(data)
            r = run("snapshot", "--from", path)
            hc.check(f"{name}: refused with exit 1 and a sentence", r.returncode == 1 and len(r.stderr) > 20
                     and not r.stdout, r.stderr.decode()[:200])
        r = run("capture", "-p", "999999999", "-o", os.path.join(tmp, "x.gz"))
        hc.check("capture of no process: exit 3", r.returncode == 3, r.stderr.decode())
        r = run("capture", "-p", str(p.pid), "-o", "-")
        hc.check("capture -o -: gzip on stdout", r.returncode == 0 and r.stdout[:2] == b"\x1f\x8b")

        # every command that takes a snapshot file takes these too
        r = run("diff", cap, bare)
        hc.check("vmscope diff CAPTURE SMAPS: exit 0, the smaps side's time unknown",
                 r.returncode == 0 and b"To:   unknown  process 0 (smaps)" in r.stdout, r.stdout[:300] + r.stderr[:300])
        r = run("at", "--json", cap, regions(imported)[0]["start"])
        hc.check("vmscope at CAPTURE ADDR: the first region", r.returncode == 0
                 and json.loads(r.stdout)[0]["region"]["start"] == regions(imported)[0]["start"], r.stderr.decode()[:300])

        # A capture of format 1 kept in the tree still opens (captures travel, and stay).
        fixture = os.path.join(hc.SOURCE, "tests", "fixtures", "capture", "idle-v1.json.gz")
        r = run("snapshot", "--from", fixture, "--json")
        hc.check("the format-1 fixture capture opens", r.returncode == 0 and len(regions(json.loads(r.stdout))) == 13,
                 r.stderr.decode()[:300])

        # 6. the daemon's import
        base, token = hc.serve(tmp, "--max-body", "1M")
        st, body = post(base, token, "/snapshots?share=0", raw)
        hc.check("daemon: POST a capture -> 201", st == 201, body[:300])
        if st == 201:
            sid = json.loads(body)["id"]
            meta = get(base, token, f"/snapshots/{sid}/meta")
            hc.check("daemon: the capture is stored as an import", meta.get("source") == "import", str(meta))
            stored = get(base, token, f"/snapshots/{sid}.json")
            d = first_diff([(r["start"], r["smaps"]) for r in regions(stored)],
                           [(r["start"], r["smaps"]) for r in regions(imported)])
            hc.check("daemon: its regions are the capture's", not d, d)
        with open(bare, "rb") as f:
            st, body = post(base, token, "/snapshots?share=0", f.read())
        hc.check("daemon: POST a bare smaps -> 201", st == 201, body[:300])
        if st == 201:
            sid = json.loads(body)["id"]
            listed = [e for e in get(base, token, "/snapshots").get("snapshots", []) if e.get("id") == sid]
            hc.check("daemon: the snapshots list gives the bare smaps import taken_at null, taken_at_ms 0",
                     len(listed) == 1 and listed[0]["taken_at"] is None and listed[0]["taken_at_ms"] == 0,
                     str(listed)[:300])
            meta = get(base, token, f"/snapshots/{sid}/meta")
            hc.check("daemon: its meta too", meta.get("taken_at", "") is None and meta.get("taken_at_ms") == 0,
                     str(meta)[:300])
            hc.check("daemon: its snapshot JSON too", get(base, token, f"/snapshots/{sid}.json").get("taken_at", "") is None)
            for ext, want in (("csv", b"\"Taken at:\",\"unknown\""), ("html", b'<time id="taken">unknown</time>'),
                              ("txt", b"unknown")):
                st2, text = hc.api(base, token, "GET", f"/snapshots/{sid}.{ext}")[:2]
                hc.check(f"daemon: its .{ext} says the time is unknown, never 1970",
                         st2 == 200 and want in text and b"1970" not in text, f"{st2} {text[:300]}")
        for name in ("random", "text", "maps", "gzip-garbage"):
            st, body = post(base, token, "/snapshots?share=0", cases[name])
            hc.check(f"daemon: {name} -> 400 bad_json", st == 400 and b"bad_json" in body, f"{st} {body[:200]}")
        bomb = gzip.compress(b" " * (8 << 20))
        st, body = post(base, token, "/snapshots?share=0", bomb)
        hc.check("daemon: a gzip that inflates past --max-body -> 400", st == 400 and b"decompresses" in body,
                 f"{st} {body[:200]}")
        st, body = post(base, token, "/snapshots?share=0", b'{"format_version": 1}')
        hc.check("daemon: still answers after all that", st == 400, f"{st}")
    hc.done()


if __name__ == "__main__":
    main()
