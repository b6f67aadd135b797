"""The HTML report (issue 13, "reports that travel"): `vmscope report` of a live process and of a
snapshot file, and the daemon's GET /snapshots/ID.html, /shared/TOKEN.html and POST /export.html.
The process has a hostile name and maps a file with a hostile path (markup, quotes, &): the report
must hold them as text only (no element made from them, in content or attributes), hold no script
and forbid any fetch, and its numbers (data-bytes of every summary cell) must equal the snapshot
JSON's. The daemon's report of a stored snapshot is byte-identical to `vmscope report` of that
snapshot's JSON. Starts tests/helpers/vms_mapfile and `vmscope serve` on 127.0.0.1:0."""
import html.parser
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "heaps"))
import heapcheck as hc  # noqa: E402

HELPERS = os.environ.get("VMSCOPE_HELPERS") or os.path.join(hc.SOURCE, "build", "tests")
COMM = "<script>&\"'x"  # 12 bytes: fits comm's 15
FILE = "\"><img src=x onerror=alert(1)> & 'q' <script>.bin"
ALLOWED = {"html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "h3", "small", "dl", "dt",
           "dd", "span", "time", "p", "section", "div", "table", "thead", "tbody", "tr", "th", "td", "i",
           "details", "summary", "footer"}


class Report(html.parser.HTMLParser):
    """Every element, the CSP, the h1 text, the cells of each table row (text, attributes)."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.tags, self.csp, self.h1, self.rows = set(), None, "", []
        self.attr_values = []
        self._in, self._row, self._cell = [], None, None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.add(tag)
        self.attr_values += [v for _, v in attrs if v]
        if tag == "meta" and a.get("http-equiv") == "Content-Security-Policy":
            self.csp = a.get("content")
        if tag == "tr":
            self._row = {"attrs": a, "cells": [], "table": self._table}
            self.rows.append(self._row)
        if tag == "table":
            self._table = a.get("id")
        if tag in ("td", "th") and self._row is not None:
            self._cell = {"attrs": a, "text": ""}
            self._row["cells"].append(self._cell)
        self._in.append(tag)

    _table = None

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self._cell = None
        while self._in and self._in.pop() != tag:
            pass

    def handle_data(self, data):
        if "h1" in self._in and "small" not in self._in:
            self.h1 += data
        if self._cell is not None:
            self._cell["text"] += data


def kib_text(b):
    return f"{b // 1024 + (b % 1024 >= 512):,} K"


def check_report(label, text, snap, moving=()):
    """moving: columns another process can change between two scans (Pss: who else maps libc)."""
    rep = Report(text)
    hc.check(f"{label}: only the report's own elements (none made from a name)", rep.tags <= ALLOWED,
             str(rep.tags - ALLOWED))
    hc.check(f"{label}: no script anywhere", "<script" not in text.lower().replace("&lt;script", ""))
    hc.check(f"{label}: its CSP forbids scripts and every fetch",
             rep.csp and "default-src 'none'" in rep.csp and "script-src 'none'" in rep.csp, str(rep.csp))
    hc.check(f"{label}: the process name is the h1's text", rep.h1.strip() == COMM, repr(rep.h1))
    cells = [c["text"] for r in rep.rows for c in r["cells"]]
    hc.check(f"{label}: the hostile path is one Details cell's text, intact",
             any(c.endswith(FILE) for c in cells), str([c for c in cells if "onerror" in c][:2]))
    hc.check(f"{label}: the map's tooltip names the path as text",
             any(v.endswith(FILE) for v in rep.attr_values if v.startswith("0x")))
    by_type = {r["attrs"].get("data-type"): r for r in rep.rows if r["attrs"].get("data-type")}
    cols = list(snap["total"].keys())
    bad = []
    for s in snap["summary"]:
        row = by_type.get(s["type"])
        if not row:
            bad.append(f"no row for {s['type']}")
            continue
        cells = row["cells"][1:]
        for i, c in enumerate(cols):
            if (s["type"] == "free" and c != "size") or c in moving:
                continue
            cell = cells[i]
            if int(cell["attrs"].get("data-bytes", -1)) != s["columns"][c]:
                bad.append(f"{s['type']}.{c}: {cell['attrs'].get('data-bytes')} != {s['columns'][c]}")
            elif s["type"] != "free" and cell["text"] != kib_text(s["columns"][c]):
                bad.append(f"{s['type']}.{c} shows {cell['text']!r}, not {kib_text(s['columns'][c])!r}")
        if int(cells[len(cols)]["attrs"].get("data-count", -1)) != s["blocks"]:
            bad.append(f"{s['type']} blocks")
        if int(cells[len(cols) + 1]["attrs"].get("data-bytes", -1)) != s["largest"]:
            bad.append(f"{s['type']} largest")
    tot = by_type.get("total")
    for i, c in enumerate(cols):
        if c in moving:
            continue
        if not tot or int(tot["cells"][1 + i]["attrs"].get("data-bytes", -1)) != snap["total"][c]:
            bad.append(f"total.{c}")
    hc.check(f"{label}: every summary cell (every column, Blocks, Largest, Total) equals the JSON", not bad,
             "; ".join(bad[:6]))
    n_alloc = sum(1 for r in rep.rows if r["table"] == "details-table" and r["attrs"].get("class") == "a")
    hc.check(f"{label}: the details list every allocation", n_alloc == len(snap["allocations"]),
             f"{n_alloc} != {len(snap['allocations'])}")
    return rep


def run(*args):
    return subprocess.run([hc.BIN, "report", *args], capture_output=True, text=True, timeout=120)


def main():
    with hc.tempdir("report") as tmp:
        path = os.path.join(tmp, FILE)
        with open(path, "wb") as f:
            f.write(b"A" * 3 * 4096)
        mf = subprocess.Popen([os.path.join(HELPERS, "vms_mapfile"), path, "600", COMM], stdout=subprocess.PIPE,
                              text=True)
        hc._children.append(mf)
        m = re.match(r"READY pid=(\d+)", mf.stdout.readline())
        pid = int(m.group(1))

        live = os.path.join(tmp, "live.html")
        r = run("-p", str(pid), "-o", live)
        hc.check("vmscope report -p PID writes the report", r.returncode == 0 and os.path.getsize(live) > 0, r.stderr)
        snap_file = os.path.join(tmp, "snap.json")
        subprocess.run([hc.BIN, "snapshot", "-p", str(pid), "-o", snap_file], check=True, timeout=120)
        snap = json.load(open(snap_file))
        with open(live, encoding="utf-8") as f:
            # a sleeping helper: the scan a moment later has the same numbers
            check_report("live", f.read(), snap, moving=("pss", "swap_pss"))

        r = run(snap_file)
        hc.check("vmscope report FILE.json writes to standard output", r.returncode == 0, r.stderr)
        check_report("from a file", r.stdout, snap)
        r2 = run("-p", snap_file, "-o", "-")
        hc.check("-p FILE.json reads the file; the report is the same each time", r2.stdout == r.stdout)
        from_file = r.stdout

        hc.check("no such process: exit 3", run("-p", "999999999").returncode == 3)
        hc.check("no process or file: exit 2 (usage)", run().returncode == 2)
        bad = os.path.join(tmp, "bad.json")
        open(bad, "w").write("{not json")
        rb = run(bad)
        hc.check("a file that is not a snapshot: exit 1, said why", rb.returncode == 1 and "bad.json" in rb.stderr,
                 rb.stderr)
        rw = run(snap_file, "-o", os.path.join(tmp, "no", "such", "dir.html"))
        hc.check("an output it cannot write: exit 1, said why", rw.returncode == 1 and "cannot write" in rw.stderr)
        hc.check("a failed write leaves no temporary file", not [n for n in os.listdir(tmp) if ".tmp" in n])

        # the daemon: same generator, same bytes
        base, token = hc.serve(tmp)
        st, body, _ = hc.api(base, token, "POST", "/snapshots?share=0", raw=open(snap_file, "rb").read())
        sid = json.loads(body)["id"]
        st, page, hdr = hc.api(base, token, "GET", f"/snapshots/{sid}.html")
        hc.check("GET /snapshots/ID.html: 200 text/html, an attachment",
                 st == 200 and hdr.get("Content-Type", "").startswith("text/html")
                 and "attachment" in hdr.get("Content-Disposition", ""), f"{st} {dict(hdr)}")
        hc.check("the daemon's report is byte-identical to vmscope report of the same snapshot",
                 page.decode() == from_file)
        st, _, _ = hc.api(base, None, "GET", f"/snapshots/{sid}.html")
        hc.check("without the token: 401", st == 401, str(st))
        st, page2, _ = hc.api(base, token, "POST", "/export.html", raw=open(snap_file, "rb").read())
        hc.check("POST /export.html of the document on screen: the same report", st == 200 and page2 == page)
        st, body, _ = hc.api(base, token, "POST", f"/snapshots/{sid}/share", {"omit_cmdline": True})
        share = json.loads(body)["token"]
        st, spage, _ = hc.api(base, None, "GET", f"/shared/{share}.html")
        cmd = re.search(r'id="cmdline">([^<]*)<', spage.decode())
        hc.check("a share's report (no token) leaves its command line out when the share does",
                 st == 200 and cmd and cmd.group(1) == "(left out)", f"{st} {cmd and cmd.group(1)}")
        mf.terminate()
        mf.wait()
    hc.done()


if __name__ == "__main__":
    main()
