"""Inside the pages (issue 14): residency, strings and trim on a program with known page states.

tests/helpers/vms_pages.c sets up its pages and prints where they are and what it did. Checks:
  * residency (PAGEMAP_SCAN and the --pagemap fallback): written anonymous pages present and
    exclusive, untouched ones absent, a read-only page is the zero page, written MAP_SHARED file
    pages present+file, an evicted file mapping shows exactly the page the program read (and
    the program's own mincore says that page is in the page cache), a THP is 512 thp pages
    (when the kernel gave one), soft-dirty only on the page written after clear_refs (when
    the kernel has soft-dirty), a swapped page (when swap exists), a 2 MiB private file
    mapping whose read pages are file pages and whose written page is not (a live read walks
    anonymous VMAs without the file bit: this one must keep it); and, page by page, every
    bit equals what the test reads from /proc/PID/pagemap itself;
  * strings: exactly the strings the program wrote of >= 8 characters (-n 4 adds the short
    ones), including one across a page boundary and UTF-16LE ones; --search filters;
  * trim: MADV_PAGEOUT of a populated clean file mapping drops its Rss to what smaps says
    afterwards, the whole process's Rss (smaps_rollup) falls by the same amount, and the
    program's own mincore finds none of those pages in the page cache any more; with swap,
    trimming 64 written anonymous pages moves exactly what smaps then counts as Swap out of
    Rss (smaps_rollup falls by that), residency shows them swapped, the program reads its
    bytes back;
  * swap: where none is on and this is root, the test turns on a private 64 MiB swap file
    for its run (always swapoff'd and removed after, also by a watchdog if the test is
    killed); where swapon is refused the swapped parts say they are skipped;
  * soft-dirty: where the kernel does not track it (pagemap bit 55 never set, not even on a
    page just written), residency must say soft_dirty is unknown (not in `known`, count null,
    the CLI says so) and the test says it skipped the soft-dirty part; THP: asserted when
    smaps shows AnonHugePages for the program's MADV_HUGEPAGE region, else said skipped;
  * working set: after clear_refs, the 4 pages the program writes during the interval are all
    smaps calls referenced in that region, an untouched file mapping has none;
  * stored residency: `vmscope snapshot --residency` and POST .../snapshots?residency=1 keep the
    page states of the whole process; what GET /snapshots/{id}/residency serves back equals,
    page by page, a live read of the same regions (exclusive from smaps where the region had no
    shared page, from pagemap elsewhere); a tight ?residency_max_bytes= says truncated (never
    silently short); no share route serves it; deleting the snapshot deletes it;
  * working set over an interval through the API: 403 without --allow-memory-read; with it the
    4 pages the program writes during the interval are what smaps calls referenced, logged;
  * the daemon: residency works; strings and trim are 403 memory_read_disabled without
    --allow-memory-read; with it they answer the same as the CLI and every call is logged
    (pid, range, requester); a share link's token never opens them (401), and no public
    route under /shared/{token} reaches them; the rate limit answers 429; as nobody without capabilities they are
    refused (403 permission_denied), and the CLI as nobody exits 4.
"""
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "heaps"))
import heapcheck as hc  # noqa: E402

HELPERS = os.environ.get("VMSCOPE_HELPERS") or os.path.join(os.path.dirname(hc.BIN), "tests")
PAGES = os.path.join(HELPERS, "vms_pages")
BITS = {"present": 63, "swapped": 62, "file": 61, "guard": 58, "exclusive": 56, "soft_dirty": 55}


def cli(*args, user=None):
    argv = [hc.BIN, *args]
    if user:
        argv = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--inh-caps=-all",
                "--bounding-set=-all", "--", *user, *args]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    return r.returncode, r.stdout, r.stderr


def cli_json(*args):
    rc, out, err = cli(*args, "--json")
    if rc != 0:
        raise RuntimeError(f"vmscope {' '.join(args)}: exit {rc}: {err}")
    return json.loads(out)


def page_flags(res):
    """{page address: set of flags} from a residency answer."""
    ps = res["page_size"]
    out = {}
    for r in res["runs"]:
        for a in range(int(r["start"], 16), int(r["end"], 16), ps):
            out[a] = set(r["flags"])
    return out


def raw_pagemap(pid, start, end, ps):
    with open(f"/proc/{pid}/pagemap", "rb") as f:
        f.seek(start // ps * 8)
        data = f.read((end - start) // ps * 8)
    return [struct.unpack_from("<Q", data, i * 8)[0] for i in range((end - start) // ps)]


def smaps_rss(pid, start=None):
    """Rss (bytes) of the VMA starting at start, or of the whole process (smaps_rollup)."""
    path = f"/proc/{pid}/smaps" if start is not None else f"/proc/{pid}/smaps_rollup"
    cur = start is None
    with open(path) as f:
        for line in f:
            m = re.match(r"^([0-9a-f]+)-([0-9a-f]+) ", line)
            if m:
                cur = start is None or int(m.group(1), 16) == start
                continue
            if cur and line.startswith("Rss:"):
                return int(line.split()[1]) * 1024
    return None


def smaps_field(pid, addr, field):
    """Field (bytes) of the smaps block of the VMA holding addr; None when no VMA holds it."""
    cur = False
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            m = re.match(r"^([0-9a-f]+)-([0-9a-f]+) ", line)
            if m:
                cur = int(m.group(1), 16) <= addr < int(m.group(2), 16)
                continue
            if cur and line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return None


class TempSwap:
    """A private swap file for the swapped-page and anonymous-trim parts, made only when no swap
    is on and this is root: 64 MiB in the test's temp dir, on for the test, and always off and
    removed after: close() on every way out of main(), and a watchdog in its own session that
    does it should this process die without running close() (SIGKILL at a ctest timeout)."""

    def __init__(self, tmp):
        self.path, self.watch, self.why = None, None, None
        if swaps_on():
            self.why = "swap is already on here: used as it is"
            return
        if os.geteuid() != 0:
            self.why = "not root: no temporary swap file"
            return
        if os.environ.get("VMSCOPE_TEST_NO_SWAPFILE"):
            self.why = "VMSCOPE_TEST_NO_SWAPFILE is set: no temporary swap file"
            return
        missing = [t for t in ("fallocate", "mkswap", "swapon", "swapoff") if not shutil.which(t)]
        if missing:
            self.why = f"no {', '.join(missing)}"
            return
        path = os.path.join(tmp, "swapfile")
        for argv in (["fallocate", "-l", "64M", path], ["chmod", "600", path], ["mkswap", path]):
            r = subprocess.run(argv, capture_output=True, text=True)
            if r.returncode:
                self.why = f"{argv[0]} failed: {r.stderr.strip()}"
                self._remove(path)
                return
        self.watch = subprocess.Popen(
            ["sh", "-c", 'while kill -0 "$1" 2>/dev/null; do sleep 0.5; done; swapoff "$2" 2>/dev/null; rm -f "$2"',
             "vms-swap-watch", str(os.getpid()), path],
            start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        r = subprocess.run(["swapon", path], capture_output=True, text=True)
        if r.returncode:
            self.why = f"swapon refused ({r.stderr.strip() or r.returncode}: a container, or a file system without swap files)"
            self._remove(path)
            self._stop_watch()
            return
        self.path = path
        print(f"note: a temporary 64 MiB swap file is on for this test: {path}")

    @staticmethod
    def _remove(path):
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass

    def _stop_watch(self):
        if self.watch and self.watch.poll() is None:
            self.watch.kill()  # by its pid; it holds nothing
            self.watch.wait()
        self.watch = None

    def close(self):
        """swapoff and remove the file (the vms_pages child may still have a page in it: swapoff
        brings it back in). Idempotent."""
        if self.path:
            r = subprocess.run(["swapoff", self.path], capture_output=True, text=True)
            if r.returncode:
                print(f"FAIL: swapoff {self.path}: {r.stderr.strip()}", file=sys.stderr)
            else:
                self._remove(self.path)
                self.path = None
        if not self.path:
            self._stop_watch()  # else the watchdog retries when this process is gone


def swaps_on():
    """The active swap areas (/proc/swaps, header left out)."""
    with open("/proc/swaps") as f:
        return [line.split()[0] for line in f.readlines()[1:] if line.strip()]


def check_residency(pid, info, method):
    ps = info["page_size"]
    extra = ["--pagemap"] if method == "pagemap" else []
    scan = method == "pagemap_scan"

    anon = int(info["anon"], 16)
    res = cli_json("residency", *extra, "-p", str(pid), f"{anon:x}")
    if scan and res["method"] != method:
        print("note: this kernel has no PAGEMAP_SCAN (Linux < 6.7): only the fallback is checked")
        return
    hc.check(f"[{method}] residency used {method}", res["method"] == method, res["method"])
    hc.check(f"[{method}] the fallback says it is slower", res["slower"] == (not scan))
    pf = page_flags(res)
    want = {}
    for i in list(range(10)) + [20]:
        want[anon + i * ps] = {"present", "exclusive"}
    want[anon + 30 * ps] = {"present", "zero"} if scan else {"present"}
    if info["swapped"]:
        want[anon + 40 * ps] = {"swapped"}
    if info["soft_dirty"]:
        want[anon + 5 * ps] |= {"soft_dirty"}
    got = {a: f for a, f in pf.items() if anon <= a < anon + 64 * ps}
    hc.check(f"[{method}] anonymous region: written, untouched, zero page exactly", got == want,
             f"got {sorted((hex(a), sorted(f)) for a, f in got.items())}")
    check_swapped(pid, info, method, res)
    check_soft_dirty(pid, info, method, res)

    shared = int(info["shared"], 16)
    res = cli_json("residency", *extra, "-p", str(pid), f"{shared:x}")
    got = page_flags(res)
    want = {shared + i * ps: {"present", "file", "exclusive"} for i in (0, 1, 2, 17)}
    hc.check(f"[{method}] MAP_SHARED file: the 4 written pages, file-backed", got == want,
             f"got {sorted((hex(a), sorted(f)) for a, f in got.items())}")

    ro = int(info["ro"], 16)
    res = cli_json("residency", *extra, "-p", str(pid), f"{ro:x}")
    got = page_flags(res)
    want = {ro + 8 * ps: {"present", "file", "exclusive"}}
    hc.check(f"[{method}] evicted file mapping: only the page read is mapped", got == want,
             f"got {sorted((hex(a), sorted(f)) for a, f in got.items())}")

    thp = int(info["thp"], 16)
    res = cli_json("residency", *extra, "-p", str(pid), f"{thp:x}")
    got = page_flags(res)
    if check_thp(pid, info):
        in_thp = {a: f for a, f in got.items() if thp <= a < thp + (2 << 20)}
        if scan:
            hc.check("[pagemap_scan] THP: 512 pages present, exclusive, thp",
                     len(in_thp) == 512 and all(f == {"present", "exclusive", "thp"} for f in in_thp.values()),
                     f"{len(in_thp)} pages, {set(map(frozenset, in_thp.values()))}")
            hc.check("[pagemap_scan] THP counted", res["pages"]["thp"] == 512, res["pages"])
        else:
            hc.check("[pagemap] THP: 512 pages present (THP itself unknown to the fallback)",
                     len(in_thp) == 512 and "thp" not in res["known"])

    isl = int(info["islands"], 16)
    res = cli_json("residency", *extra, "-p", str(pid), f"{isl:x}")
    got = page_flags(res)
    want = {isl + i * ps: {"present", "exclusive"} for i in range(0, 10000, 2)}
    hc.check(f"[{method}] 5,000 islands of one page (several PAGEMAP_SCAN calls): exactly those",
             got == want and len(res["runs"]) == 5000, f"{len(got)} pages in {len(res['runs'])} runs")

    big = int(info["bigfile"], 16)
    got = page_flags(cli_json("residency", *extra, "-p", str(pid), f"{big:x}"))
    want = {big + i * ps: {"present", "file", "exclusive"} for i in range(0, 512, 16)}
    want[big + 3 * ps] = {"present", "exclusive"}  # the private copy written: anonymous
    hc.check(f"[{method}] a 2 MiB private file mapping: the pages read are file pages, the one written is not",
             got == want, f"got {sorted((hex(a), sorted(f)) for a, f in got.items())}")

    # Every page of every region, bit by bit, against /proc/PID/pagemap read here.
    for key in ("anon", "shared", "ro", "thp", "strings", "trim", "islands", "trim_anon", "bigfile"):
        a = int(info[key], 16)
        res = cli_json("residency", *extra, "-p", str(pid), f"{a:x}")
        s, e = int(res["start"], 16), int(res["end"], 16)
        pf = page_flags(res)
        raw = raw_pagemap(pid, s, e, ps)
        bad = []
        for i, ent in enumerate(raw):
            addr = s + i * ps
            mine = pf.get(addr, set())
            for name, bit in BITS.items():
                if name == "exclusive" and not (ent >> 63 & 1):
                    continue
                if name in ("present", "swapped", "file", "soft_dirty") and ent >> 58 & 1:
                    continue  # a guard marker: its other bits are not page states
                if (name in mine) != bool(ent >> bit & 1):
                    bad.append((hex(addr), name, sorted(mine), hex(ent)))
        hc.check(f"[{method}] {key}: every page's bits equal /proc/PID/pagemap", not bad, bad[:5])


def check_swapped(pid, info, method, res):
    """The page the program paged out (MADV_PAGEOUT) is swapped, exactly it; smaps agrees."""
    ps, anon = info["page_size"], int(info["anon"], 16)
    if not info["swapped"]:
        why = "swap is on but MADV_PAGEOUT failed" if info["have_swap"] else "no swap (see the note above)"
        print(f"note: [{method}] the swapped-page part is skipped: {why}")
        return
    hc.check(f"[{method}] swapped: exactly one page of the anonymous region, and smaps Swap says one page",
             res["pages"]["swapped"] == 1 and smaps_field(pid, anon, "Swap") == ps,
             (res["pages"]["swapped"], smaps_field(pid, anon, "Swap")))
    if method == "pagemap_scan" and os.geteuid() == 0:
        sw = cli_json("residency", "--swap-offsets", "-p", str(pid), f"{anon:x}")
        runs = [r for r in sw["runs"] if "swapped" in r["flags"]]
        hc.check("[pagemap_scan] --swap-offsets as root: the swapped page has its place in swap",
                 len(runs) == 1 and runs[0]["start"] == hex(anon + 40 * ps) and runs[0].get("swap_offset", 0) > 0, runs)


def check_soft_dirty(pid, info, method, res):
    """Soft-dirty where the kernel tracks it (the page written after clear_refs 4); where it does
    not (CONFIG_MEM_SOFT_DIRTY unset: pagemap bit 55 never set, even on a page just written),
    residency says it does not know, rather than showing every page clean."""
    probe = info["soft_dirty_probe"]
    tracked = bool(probe["before_clear"] or probe["after_write"])
    if tracked:
        hc.check(f"[{method}] soft-dirty tracked by this kernel: known, and counted",
                 "soft_dirty" in res["known"] and isinstance(res["pages"]["soft_dirty"], int), res["known"])
        if not info["soft_dirty"]:
            print(f"note: [{method}] soft-dirty is tracked but clear_refs 4 did not clear it ({probe}): "
                  "the page-level soft-dirty part is skipped")
        return
    ps, anon = info["page_size"], int(info["anon"], 16)
    raw = raw_pagemap(pid, anon, anon + 64 * ps, ps)
    hc.check(f"[{method}] no soft-dirty tracking here: pagemap bit 55 is set on no page, not even on the "
             "page written after clear_refs 4", not any(e >> 55 & 1 for e in raw) and probe["cleared"], probe)
    hc.check(f"[{method}] ... so residency says soft-dirty is unknown (not in known, count null)",
             "soft_dirty" not in res["known"] and res["pages"]["soft_dirty"] is None and
             not any("soft_dirty" in r["flags"] for r in res["runs"]), (res["known"], res["pages"]))
    rc, out, err = cli("residency", *(["--pagemap"] if method == "pagemap" else []), "-p", str(pid), f"{anon:x}")
    hc.check(f"[{method}] ... and the CLI says so", rc == 0 and "soft-dirty unknown" in out.splitlines()[0], out[:200])
    print(f"note: [{method}] this kernel does not track soft-dirty (CONFIG_MEM_SOFT_DIRTY unset): "
          "the soft-dirty part is skipped (only its absence was checked)")


def check_thp(pid, info):
    """The program's MADV_HUGEPAGE region: a THP when the kernel gave one (smaps AnonHugePages)."""
    thp = int(info["thp"], 16)
    enabled = open("/sys/kernel/mm/transparent_hugepage/enabled").read().strip() \
        if os.path.exists("/sys/kernel/mm/transparent_hugepage/enabled") else "absent"
    kb = smaps_field(pid, thp, "AnonHugePages") or 0
    if kb == 0:
        print(f"note: the kernel gave no THP (AnonHugePages 0; transparent_hugepage/enabled: {enabled}): "
              "the THP part is skipped")
        return False
    hc.check("THP: smaps AnonHugePages of the region = what the program saw (2 MiB)",
             kb == info["thp_kb"] * 1024 and kb >= 2 << 20, (kb, info["thp_kb"]))
    return True


def check_whole(pid):
    """The whole address space: both methods agree on every page (but the states only
    PAGEMAP_SCAN knows), and no run overlaps another."""
    runs = {}
    for extra in ([], ["--pagemap"]):
        res = cli_json("residency", *extra, "-p", str(pid))
        ends = [(int(r["start"], 16), int(r["end"], 16)) for r in res["runs"]]
        hc.check(f"whole process {extra or 'PAGEMAP_SCAN'}: runs in order, never overlapping",
                 all(a[1] <= b[0] for a, b in zip(ends, ends[1:])) and all(s < e for s, e in ends))
        runs[res["method"]] = {a: f - {"thp", "zero", "hugetlb"} for a, f in page_flags(res).items()}
    if len(runs) == 2:
        a, b = runs["pagemap_scan"], runs["pagemap"]
        diff = [hex(k) for k in set(a) ^ set(b)] + [hex(k) for k in set(a) & set(b) if a[k] != b[k]]
        # the stack and the test's own reads may move a few pages between the two reads
        hc.check("whole process: PAGEMAP_SCAN and pagemap agree page by page (all but a few)",
                 len(diff) <= 16 and len(a) > 5000, f"{len(diff)} differ: {diff[:8]}")


def check_strings(pid, info):
    st = int(info["strings"], 16)
    written = {(w["addr"], w["encoding"], w["text"]) for w in info["strings_written"]}
    res = cli_json("strings", "-p", str(pid), f"{st:x}")
    got = {(s["addr"], s["encoding"], s["text"]) for s in res["strings"]}
    want = {w for w in written if len(w[2]) >= 8}
    hc.check("strings: exactly the strings of >= 8 characters the program wrote", got == want,
             f"got {sorted(got)} want {sorted(want)}")
    res = cli_json("strings", "-n", "4", "-p", str(pid), f"{st:x}")
    got = {(s["addr"], s["encoding"], s["text"]) for s in res["strings"]}
    hc.check("strings -n 4: the short ones too", got == written, f"got {sorted(got)}")
    res = cli_json("strings", "--search", "MARKER", "-p", str(pid), f"{st:x}")
    hc.check("strings --search: case-insensitive filter",
             sorted(s["text"] for s in res["strings"]) == ["vmscope-ascii-marker-one", "wide-marker-utf16"],
             res["strings"])
    res = cli_json("strings", "--offset", "1", "--limit", "2", "-p", str(pid), f"{st:x}")
    hc.check("strings --offset/--limit: one page of the matches", len(res["strings"]) == 2 and res["total"] == len(want))
    return want


def check_trim(p, pid, info):
    ps = info["page_size"]
    t = int(info["trim"], 16)
    before = smaps_rss(pid, t)
    rollup_before = smaps_rss(pid)
    res = cli_json("trim", "--wait", "1", "-p", str(pid), f"{t:x}")
    after = smaps_rss(pid, t)
    rollup_after = smaps_rss(pid)
    hc.check("trim: Rss before = smaps before (64 populated pages)", res["before"]["rss"] == before == 64 * ps,
             f"{res['before']['rss']} vs {before}")
    hc.check("trim: Rss after = smaps after, and lower", res["after"]["rss"] == after < before,
             f"{res['after']['rss']} vs {after}")
    hc.check("trim: the process's Rss fell by what trim freed",
             rollup_before - rollup_after == res["before"]["rss"] - res["after"]["rss"],
             f"rollup {rollup_before} -> {rollup_after}, trim {res['before']['rss']} -> {res['after']['rss']}")
    hc.check("trim: the figure after waiting is there", "after_wait" in res and res["wait_s"] == 1)
    p.stdin.write("mincore\n")
    p.stdin.flush()
    mc = json.loads(p.stdout.readline())
    hc.check("trim: the program's mincore finds the paged-out file pages gone from the page cache",
             mc["trim_cached"] * ps == after, mc)
    hc.check("the evicted file is partly in the page cache (mincore), and the page read is among it",
             8 in mc["ro_cached"] and len(mc["ro_cached"]) < 32, mc)
    return mc


def check_trim_anon(p, pid, info, swap):
    """Anonymous pages (needs swap): trim pages them out; the process's Rss falls by what smaps
    says went to swap, residency shows them swapped, and the program reads its bytes back."""
    ps = info["page_size"]
    t = int(info["trim_anon"], 16)
    if not info["have_swap"]:
        print(f"note: no swap ({swap.why}): the anonymous-trim part is skipped")
        return
    before, swap_before, rollup_before = smaps_field(pid, t, "Rss"), smaps_field(pid, t, "Swap"), smaps_rss(pid)
    res = cli_json("trim", "--wait", "0", "-p", str(pid), f"{t:x}")
    after, swap_after, rollup_after = smaps_field(pid, t, "Rss"), smaps_field(pid, t, "Swap"), smaps_rss(pid)
    freed = res["before"]["rss"] - res["after"]["rss"]
    hc.check("trim anonymous: Rss before = smaps before (64 written pages), nothing in swap",
             res["before"]["rss"] == before == 64 * ps and swap_before == 0, (res["before"], before, swap_before))
    hc.check("trim anonymous: Rss after = smaps after, and lower", res["after"]["rss"] == after < before,
             (res["after"], after))
    hc.check("trim anonymous: what left RAM is what smaps now counts in swap",
             swap_after - swap_before == freed == res["after"]["swap"] - res["before"]["swap"],
             f"freed {freed}, smaps Swap {swap_before} -> {swap_after}, trim swap {res['before']['swap']} -> {res['after']['swap']}")
    hc.check("trim anonymous: the process's Rss (smaps_rollup) fell by exactly that",
             rollup_before - rollup_after == freed, f"rollup {rollup_before} -> {rollup_after}, freed {freed}")
    r = cli_json("residency", "-p", str(pid), f"{t:x}")
    hc.check("trim anonymous: residency says swapped for those pages, present for the rest",
             r["pages"]["swapped"] * ps == swap_after and r["pages"]["present"] * ps == after, r["pages"])
    p.stdin.write("verify\n")
    p.stdin.flush()
    v = json.loads(p.stdout.readline())
    hc.check("trim anonymous: the program reads every byte back from swap", v.get("trim_anon_ok") == 64, v)
    hc.check("trim anonymous: and its Rss is back (64 pages)", smaps_field(pid, t, "Rss") == 64 * ps,
             smaps_field(pid, t, "Rss"))


def check_working_set(p, pid, info):
    """clear_refs, then the program writes 4 anonymous pages during the interval: those are
    all smaps calls referenced afterwards in that region; an untouched file mapping has none."""
    ps = info["page_size"]
    ws = subprocess.Popen([hc.BIN, "workingset", "--json", "--seconds", "2", "-p", str(pid)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.7)
    p.stdin.write("touch\n")
    p.stdin.flush()
    hc.check("working set: the program touched its pages", json.loads(p.stdout.readline()).get("touched") == 4)
    out, err = ws.communicate(timeout=60)
    if ws.returncode != 0:
        hc.check("vmscope workingset ran", False, err)
        return
    res = json.loads(out)
    by = {int(v["start"], 16): v for v in res["vmas"]}
    anon, shared = int(info["anon"], 16), int(info["shared"], 16)
    hc.check("working set: exactly the 4 pages written in the interval are referenced in that region",
             by[anon]["referenced"] == 4 * ps, by.get(anon))
    hc.check("working set: the untouched shared file mapping has none", by[shared]["referenced"] == 0, by.get(shared))
    hc.check("working set: sums", res["referenced"] == sum(v["referenced"] for v in res["vmas"]))


def same_pages(a, b):
    """(equal, first differences) of two {page: flags} maps."""
    diff = [(hex(k), sorted(a.get(k, ())), sorted(b.get(k, ()))) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
    return not diff, diff[:5]


REGIONS = ("anon", "shared", "ro", "thp", "strings", "islands")


def regions_pages(res, info, ps):
    """{page: flags} of res restricted to the test program's regions (their live range)."""
    out = {}
    pf = page_flags(res)
    for key in REGIONS:
        live = cli_json("residency", "-p", str(res["pid"]), info[key])
        s, e = int(live["start"], 16), int(live["end"], 16)
        out.update({a: f for a, f in pf.items() if s <= a < e})
    return out


def live_regions_pages(pid, info):
    out = {}
    for key in REGIONS:
        out.update(page_flags(cli_json("residency", "-p", str(pid), info[key])))
    return out


def check_cli_stored(pid, info):
    """vmscope snapshot --residency: the document carries the residency of the whole process,
    equal on the program's regions to live reads; the byte bound truncates and says so."""
    ps = info["page_size"]
    rc, out, err = cli("snapshot", "--residency", "--json", "-p", str(pid))
    hc.check("snapshot --residency --json: exit 0", rc == 0, err)
    if rc:
        return
    doc = json.loads(out)
    res = doc.get("residency", {})
    hc.check("snapshot --residency: whole address space, not truncated, within 1 MiB",
             res.get("start") == "0x0" and not res.get("truncated") and 0 < res.get("stored_bytes", 0) <= 1 << 20, res.keys())
    ok, diff = same_pages(regions_pages(res, info, ps), live_regions_pages(pid, info))
    hc.check("snapshot --residency: equal page by page to live reads of the program's regions", ok, diff)
    hc.check("snapshot --residency: exclusive bits from smaps on private regions",
             res.get("exclusive_from_smaps", 0) >= 11, res.get("exclusive_from_smaps"))
    # the whole process, shared library pages included (present, not exclusive: smaps vouches
    # for nothing there, so pagemap answers): all but a few pages (stack, the CLI's own reads)
    live = page_flags(cli_json("residency", "-p", str(pid)))
    stored = page_flags(res)
    diff = [hex(k) for k in set(live) ^ set(stored)] + [hex(k) for k in set(live) & set(stored) if live[k] != stored[k]]
    shared_pages = sum(1 for f in live.values() if "present" in f and "exclusive" not in f and "zero" not in f)
    hc.check("snapshot --residency: the whole process equals a live read (all but a few pages), "
             "shared pages included", len(diff) <= 16 and shared_pages > 50, f"{len(diff)} differ: {diff[:8]}; "
             f"{shared_pages} shared pages")
    rc, out, err = cli("snapshot", "--residency", "--residency-max-bytes", "256", "--json", "-p", str(pid))
    small = json.loads(out).get("residency", {}) if rc == 0 else {}
    hc.check("snapshot --residency-max-bytes 256: truncated, flagged, within the bound",
             small.get("truncated") is True and small.get("stored_bytes", 1 << 30) <= 256 and
             int(small["walk_end"], 16) < int(small["end"], 16), small)
    rc, out, err = cli("snapshot", "--residency", "--format", "csv", "-p", str(pid))
    hc.check("snapshot --residency with CSV: a usage error (exit 2)", rc == 2, (rc, err))


def check_daemon_stored(d, pid, info):
    """POST ?residency=1, GET /snapshots/{id}/residency, the bound, share links, delete."""
    ps = info["page_size"]
    anon = int(info["anon"], 16)
    code, body = d.req("POST", f"/processes/{pid}/snapshots?residency=1&share=1")
    hc.check("daemon: scan and store with ?residency=1 (201 with what was kept)",
             code == 201 and body.get("residency", {}).get("bytes", 0) > 0 and
             body["residency"]["truncated"] is False and body["residency"]["present_pages"] > 11, (code, body))
    if code != 201:
        return
    sid, stoken = body["id"], (body.get("share") or {}).get("token")
    code, res = d.req("GET", f"/snapshots/{sid}/residency")
    hc.check("daemon: the stored residency is served back", code == 200 and res.get("snapshot_id") == sid, (code, res))
    ok, diff = same_pages(regions_pages(res, info, ps), live_regions_pages(pid, info))
    hc.check("daemon: stored residency equals live reads page by page on the program's regions", ok, diff)
    code, part = d.req("GET", f"/snapshots/{sid}/residency?start=0x{anon:x}&end=0x{anon + 64 * ps:x}")
    want = {anon + i * ps: {"present", "exclusive"} for i in list(range(10)) + [20]}
    want[anon + 30 * ps] = {"present", "zero"}
    if info["swapped"]:
        want[anon + 40 * ps] = {"swapped"}
    if info["soft_dirty"]:
        want[anon + 5 * ps] |= {"soft_dirty"}
    hc.check("daemon: ?start=&end= of the stored residency: the anonymous region's known states",
             code == 200 and page_flags(part) == want and part["start"] == f"0x{anon:x}", (code, part))
    code, body = d.req("POST", f"/processes/{pid}/snapshots?residency=1&residency_max_bytes=256")
    hc.check("daemon: ?residency_max_bytes=256 stores a truncated residency and says so",
             code == 201 and body["residency"]["truncated"] is True and body["residency"]["bytes"] <= 256, (code, body))
    if code == 201:
        code, small = d.req("GET", f"/snapshots/{body['id']}/residency")
        hc.check("daemon: the truncated one says truncated when served", code == 200 and small["truncated"] is True and
                 int(small["walk_end"], 16) < int(small["end"], 16), small)
    code, body = d.req("POST", f"/processes/{pid}/snapshots?residency=1&residency_max_bytes=12")
    hc.check("daemon: a residency bound below 256 bytes is a 400", code == 400 and err_code(body) == "bad_query", (code, body))
    code, body = d.req("POST", f"/processes/{pid}/snapshots")
    if code == 201:
        code, nb = d.req("GET", f"/snapshots/{body['id']}/residency")
        hc.check("daemon: a snapshot stored without residency: 404 no_residency", code == 404 and err_code(nb) == "no_residency", (code, nb))
    if stoken:
        for path in (f"/shared/{stoken}/residency", f"/snapshots/{sid}/residency"):
            code, body = d.req("GET", path, token=stoken if path.startswith("/snapshots") else None)
            hc.check(f"daemon: a share link never serves the residency ({path.split('/')[1]}: 401/404)",
                     code in (401, 404) and not (isinstance(body, dict) and "runs" in body), (code, body))
    code, _ = d.req("DELETE", f"/snapshots/{sid}")
    code2, body = d.req("GET", f"/snapshots/{sid}/residency")
    hc.check("daemon: deleting the snapshot deletes its residency", code == 204 and code2 == 404 and
             err_code(body) == "not_found", (code, code2, body))


def check_daemon_working_set(off, on, p, pid, info):
    ps = info["page_size"]
    code, body = off.req("POST", f"/processes/{pid}/workingset?seconds=1")
    hc.check("daemon: working set refused without --allow-memory-read", code == 403 and
             err_code(body) == "memory_read_disabled", (code, body))
    result = {}

    def run():
        result["r"] = on.req("POST", f"/processes/{pid}/workingset?seconds=2")
    import threading
    t = threading.Thread(target=run)
    t.start()
    time.sleep(0.7)
    p.stdin.write("touch\n")
    p.stdin.flush()
    touched = json.loads(p.stdout.readline()).get("touched")
    t.join(60)
    code, body = result.get("r", (None, None))
    hc.check("daemon: working set answers (200)", code == 200 and touched == 4, (code, body))
    if code != 200:
        return
    by = {int(v["start"], 16): v for v in body["vmas"]}
    anon, shared = int(info["anon"], 16), int(info["shared"], 16)
    hc.check("daemon: working set: the 4 pages written in the interval are referenced in that region",
             by[anon]["referenced"] == 4 * ps, by.get(anon))
    hc.check("daemon: working set: the untouched shared file mapping has none", by[shared]["referenced"] == 0)
    hc.check("daemon: working set says it perturbs the target", "reclaim" in body.get("perturbs", ""), body.get("perturbs"))
    time.sleep(0.2)
    hc.check("daemon: the working set is logged with pid and requester",
             re.search(rf"working set: clear_refs pid {pid} .*requester 127\.0\.0\.1:\d+: ok", on.log()), on.log()[-400:])


class Daemon:
    def __init__(self, tmp, name, *args, user=None):
        self.out = os.path.join(tmp, name + ".out")
        self.err = os.path.join(tmp, name + ".err")
        argv = [user[0] if user else hc.BIN, "serve", "--listen", "127.0.0.1:0", "--db",
                os.path.join(tmp, name, "db"), *args]
        if user:
            argv = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--inh-caps=-all",
                    "--bounding-set=-all", "--", *argv]
        os.makedirs(os.path.join(tmp, name), mode=0o700)
        if user:
            shutil.chown(os.path.join(tmp, name), "nobody")
        self.p = subprocess.Popen(argv, stdout=open(self.out, "w"), stderr=open(self.err, "w"))
        hc._children.append(self.p)  # ended by hc.done() / hc.skip(), by this pid
        self.port, self.token = None, None
        for _ in range(200):
            text = open(self.out).read()
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)/", text)
            if m:
                self.port = int(m.group(1))
                t = re.search(r"#token=([0-9a-f]+)", text)
                self.token = t.group(1) if t else None
                break
            time.sleep(0.05)
        if not self.port:
            raise RuntimeError(f"daemon {name} did not start: {open(self.err).read()}")

    def req(self, method, path, token="default", body=None):
        h = {"Host": f"127.0.0.1:{self.port}"}
        tok = self.token if token == "default" else token
        if tok:
            h["Authorization"] = f"Bearer {tok}"
        data = None
        if method == "POST":
            h["Content-Type"] = "application/json"
            data = (body or "{}").encode()
        rq = urllib.request.Request(f"http://127.0.0.1:{self.port}/api/v1{path}", data=data, headers=h, method=method)
        try:
            with urllib.request.urlopen(rq, timeout=60) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                return e.code, json.loads(raw)
            except ValueError:
                return e.code, raw

    def log(self):
        return open(self.err).read()


def err_code(body):
    return body.get("error", {}).get("code") if isinstance(body, dict) else None


def check_daemon(tmp, p, pid, info, want_strings):
    st = int(info["strings"], 16)
    q = f"/processes/{pid}/strings?addr=0x{st:x}"
    off = Daemon(tmp, "off")
    code, body = off.req("GET", f"/processes/{pid}/residency?addr={info['anon']}")
    hc.check("daemon: residency answers without the flag", code == 200 and body["pages"]["present"] >= 11, (code, body))
    code, body = off.req("GET", "/version")
    hc.check("daemon: /version says memory_read false", code == 200 and body.get("memory_read") is False, body)
    code, body = off.req("GET", q)
    hc.check("daemon: strings refused without --allow-memory-read", code == 403 and err_code(body) == "memory_read_disabled",
             (code, body))
    code, body = off.req("POST", f"/processes/{pid}/trim?addr={info['trim']}")
    hc.check("daemon: trim refused without --allow-memory-read", code == 403 and err_code(body) == "memory_read_disabled",
             (code, body))

    on = Daemon(tmp, "on", "--allow-memory-read", "--memory-reads-per-min", "5")
    code, body = on.req("GET", "/version")
    hc.check("daemon: /version says memory_read true", body.get("memory_read") is True, body)
    code, body = on.req("GET", q)
    got = {(s["addr"], s["encoding"], s["text"]) for s in body.get("strings", [])} if code == 200 else None
    hc.check("daemon: strings equal what the program wrote", got == want_strings, (code, body))
    time.sleep(0.2)
    hc.check("daemon: the read is logged with pid, range and requester",
             re.search(rf"memory read: strings pid {pid} range 0x{st:x}-0x[0-9a-f]+ requester 127\.0\.0\.1:\d+", on.log()),
             on.log()[-500:])
    code, body = on.req("GET", q + "&q=wide")
    hc.check("daemon: ?q= searches", code == 200 and [s["text"] for s in body["strings"]] == ["wide-marker-utf16"], body)
    code, body = on.req("POST", f"/processes/{pid}/trim?addr={info['trim']}")
    hc.check("daemon: trim answers before/after", code == 200 and "before" in body and "after" in body, (code, body))
    hc.check("daemon: the trim is logged", re.search(rf"memory trim: MADV_PAGEOUT pid {pid} .*requester 127\.0\.0\.1", on.log()))
    check_daemon_working_set(off, on, p, pid, info)
    check_daemon_stored(off, pid, info)
    # a share link is never a way in
    code, body = on.req("POST", f"/processes/{pid}/snapshots", body='{"share":true}')
    share = body.get("share", {}) if isinstance(body, dict) else {}
    stoken = share.get("token") if isinstance(share, dict) else None
    if code == 201 and stoken:
        code, body = on.req("GET", q, token=stoken)
        hc.check("daemon: a share token does not open strings (401)", code == 401, (code, body))
        code, body = on.req("GET", f"/shared/{stoken}/strings?addr=0x{st:x}", token=None)
        hc.check("daemon: no public route under the share link reaches strings (401: not a share route)",
                 code in (401, 404), (code, body))
        code, body = on.req("GET", f"/processes/{pid}/residency?addr={info['anon']}", token=stoken)
        hc.check("daemon: a share token does not open residency (401)", code == 401, (code, body))
    else:
        hc.check("daemon: a snapshot with a share link was created", False, (code, body))
    codes = [on.req("GET", q)[0] for _ in range(4)]
    hc.check("daemon: strings/trim are rate limited (429 after 5 per minute)", 429 in codes, codes)

    if os.geteuid() == 0 and shutil.which("setpriv"):
        bindir = os.path.join(tmp, "bin")
        os.makedirs(bindir, mode=0o755)
        shutil.copy(hc.BIN, os.path.join(bindir, "vmscope"))
        os.chmod(os.path.join(bindir, "vmscope"), 0o755)
        os.chmod(tmp, 0o755)
        nb = os.path.join(bindir, "vmscope")
        nobody = Daemon(tmp, "nobody", "--allow-memory-read", "--no-auth", user=[nb])
        code, body = nobody.req("GET", q, token=None)
        hc.check("daemon as nobody: strings of root's process refused (403 permission_denied)",
                 code == 403 and err_code(body) == "permission_denied", (code, body))
        code, body = nobody.req("POST", f"/processes/{pid}/trim", token=None)
        hc.check("daemon as nobody: trim refused (403)", code == 403, (code, body))
        code, body = nobody.req("POST", f"/processes/{pid}/workingset?seconds=1", token=None)
        hc.check("daemon as nobody: working set refused (403 permission_denied)",
                 code == 403 and err_code(body) == "permission_denied", (code, body))
        code, body = nobody.req("POST", f"/processes/{pid}/snapshots?residency=1", token=None)
        hc.check("daemon as nobody: a snapshot with residency of root's process refused (403)", code == 403, (code, body))
        code, body = nobody.req("GET", f"/processes/{pid}/residency?addr={info['anon']}", token=None)
        hc.check("daemon as nobody: residency refused (403)", code == 403, (code, body))
        for cmd in (["strings", "-p", str(pid), f"{st:x}"], ["trim", "--wait", "0", "-p", str(pid)],
                    ["residency", "-p", str(pid)], ["workingset", "--seconds", "0", "-p", str(pid)]):
            rc, out, err = cli(*cmd, user=[nb])
            hc.check(f"CLI as nobody: {cmd[0]} refused with exit 4", rc == 4 and not out.strip(), (rc, out, err))
    else:
        print("note: not root or no setpriv: the as-nobody refusals are skipped")


def main():
    if not os.path.exists(PAGES):
        hc.skip(f"{PAGES} was not built")
    tmp = tempfile.mkdtemp(prefix="vmscope-pages-", dir=os.environ.get("TMPDIR", "/tmp"))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally below: swapoff
    swap = None
    try:
        swap = TempSwap(tmp)  # before the program starts: it pages a page out when swap exists
        if swap.why:
            print(f"note: {swap.why}")
        p, info = hc.start([PAGES, tmp])
        pid = p.pid
        check_residency(pid, info, "pagemap_scan")
        check_residency(pid, info, "pagemap")
        check_whole(pid)
        want = check_strings(pid, info)
        check_trim(p, pid, info)
        check_trim_anon(p, pid, info, swap)
        check_working_set(p, pid, info)
        check_cli_stored(pid, info)
        check_daemon(tmp, p, pid, info, want)
        if swap.path:
            swap.close()
            hc.check("the temporary swap file is off and removed", swap.path is None and
                     not any(a.startswith(tmp) for a in swaps_on()) and not os.path.exists(os.path.join(tmp, "swapfile")))
        hc.done()
    finally:
        hc._cleanup()
        if swap:
            swap.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
