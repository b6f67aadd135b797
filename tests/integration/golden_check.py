#!/usr/bin/env python3
"""Golden fixtures, kept forever (house style 17): every set under tests/fixtures/golden/ is a
database and its renderings written by a released build (tests/fixtures/golden/make-golden.sh).
This opens each with the current build and checks that nothing a user stored was lost:

  for each set, twice -- once as stored, once with the kept JSON renderings deleted (table
  snapshot_bodies), so that the packed bodies are decoded and rendered again by this build:
    - the daemon opens (and migrates) a copy of the database;
    - every snapshot id loads: its JSON equals the golden JSON, after removing the keys added
      since (KEYS_ADDED below) and the generator string; CSV and TXT are byte-identical
      (the text report's only addition, a "Thread N: note" line per thread without a stack,
      exists only for snapshots that carry a stack_note, which no set before v2 does), except
      the text report's summary table, whose Free row is now in human units ("128 TiB", not a
      12-digit KiB number) and so is re-aligned: it is compared cell by cell with the golden
      Free row's KiB converted (txt_same below); and two additions of presentation, not of
      data (issue 12): the text report's allocation rows carry a Dirty column (as pmap -x does),
      and the text report (a line after the summary) and the CSV (a "Total WS:" header row) state
      how Total WS relates to ps RSS. Both are removed before the byte comparison, and both are
      checked against the stored snapshot's own numbers (ws_relation, dirty column) first;
    - an address lookup in each snapshot answers;
    - the snapshot list equals list.json (modulo the new keys);
    - the share token still serves shared.json;
    - the diff between the two python snapshots equals diff.json (modulo the new keys);
    - the CLI export imports (POST /api/v1/snapshots), renders as the imported golden snapshot
      did, diffs against it with no change, and diffs against the python snapshot.

Run by tests/integration/test_golden.sh (ctest). Exit 0 pass, 1 fail, 77 skip.
"""
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

# Keys added to the JSON documents since format_version 1 was first written, with the golden
# set version ("vN-...") that first has them. Comparisons with a set older than that delete the
# key wherever it occurs in the new output (allocations, threads, diff entries, the top level)
# before comparing. A key added later goes here with the next set version, and that release
# writes the next golden set.
KEYS_ADDED = {
    "owner": 2,        # allocation (and a diff's D_ALLOC): recogniser that named it
    "signal": 2,       # allocation: which evidence it used
    "guess": 2,        # allocation: named from weak evidence
    "parts": 2,        # allocation: sub-blocks its owner delimits
    "stack_note": 2,   # thread: why it has no stack of its own
    "attribution": 2,  # top level: peek state and recogniser runs
    # the timeline (schema 5): a watch on a name, long polling, what-grew's shape
    "follow": 4,       # watch: follows the process name across restarts
    "restarts": 4,     # watch: the restarts it followed
    "long_polls": 4,   # watch.sampler: requests waiting for samples
    "restart": 4,      # sample: the first of a new process
    "watch_state": 4,  # samples response: the watch's state (long polling)
    "live": 4,         # samples response: whether it waited
    "growth": 4,       # what-grew type: steady / jump / irregular
    "leak_like": 4,    # what-grew type: steady growth
    "free_largest": 4, # what-grew: Free's largest block over the range
    # full snapshots by threshold, per-allocation growth (issue 10, third session)
    "snapshot_by_threshold": 5,  # sample: its full snapshot was kept by threshold
    "new_allocations": 5,        # what-grew: new allocations that kept growing
    "snapshots_compared": 5,     # what-grew: full snapshots followed for them
    "new": 5,                    # what-grew allocation: absent from the first full snapshot
    # a watch's thresholds for full snapshots, stored (store schema 9); null when not known
    "snapshot_on_allocations": 6,  # watch
    "snapshot_on_committed": 6,    # watch
}
# Keys that may differ by build, not by format: the generator names the writing version.
BUILD_KEYS = {"generator"}

FAILS = []
PASSES = [0]


def check(cond, what):
    if cond:
        PASSES[0] += 1
    else:
        FAILS.append(what)
        print("FAIL:", what, file=sys.stderr)


def strip(x, keys):
    if isinstance(x, dict):
        return {k: strip(v, keys) for k, v in x.items() if k not in keys}
    if isinstance(x, list):
        return [strip(v, keys) for v in x]
    return x


def first_difference(a, b, path=""):
    if type(a) is not type(b):
        return f"{path}: {a!r:.80} != {b!r:.80}"
    if isinstance(a, dict):
        for k in list(a) + [k for k in b if k not in a]:
            if k not in a or k not in b:
                return f"{path}.{k}: only in {'new' if k not in a else 'golden'}"
            d = first_difference(a[k], b[k], f"{path}.{k}")
            if d:
                return d
        if list(a) != list(b):
            return f"{path}: key order {list(a)} != {list(b)}"
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} items != {len(b)}"
        for i, (u, v) in enumerate(zip(a, b)):
            d = first_difference(u, v, f"{path}[{i}]")
            if d:
                return d
        return None
    return None if a == b else f"{path}: {a!r:.80} != {b!r:.80}"


def human(nbytes):
    """The text report's human units (server/json/text.c t_human)."""
    if nbytes < 1024:
        return f"{nbytes} B"
    v = nbytes / 1024.0
    units = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
    u = 0
    while v >= 1024.0 and u + 1 < len(units):
        v /= 1024.0
        u += 1
    tenths = int(v * 10.0 + 0.5)
    if v >= 99.95:
        return f"{v:.0f} {units[u]}"
    if tenths % 10 == 0:
        return f"{tenths // 10} {units[u]}"
    return f"{tenths // 10}.{tenths % 10} {units[u]}"


def ws_relation(snap):
    """The sentence server/json/textutil.c vms_ws_relation writes (KiB), from a snapshot's JSON."""
    k = lambda b: f"{b // 1024 + (b % 1024 >= 512)} KiB"
    ws = snap["total"]["total_ws"]
    pt = next((x["columns"]["total_ws"] for x in snap["summary"] if x["type"] == "page_table"), 0)
    rss = (snap.get("status") or {}).get("vm_rss", 0)
    if not rss:
        return f"Total WS {k(ws)} includes the page tables ({k(pt)}, the Page Table row), which ps RSS (VmRSS) leaves out"
    if ws == rss + pt:
        return f"Total WS {k(ws)} = ps RSS {k(rss)} (VmRSS) + page tables {k(pt)} (VmPTE, the Page Table row)"
    return (f"Total WS {k(ws)} is resident memory + page tables {k(pt)} (VmPTE, the Page Table row); "
            f"ps RSS (VmRSS, read a moment apart from smaps while the process changed) was {k(rss)}")


def csv_same(golden_bytes, new_bytes, snap):
    """A CSV equals its golden one once the "Total WS:" header row added since is taken out;
    that row must state the stored snapshot's relation (ws_relation)."""
    want = ('"Total WS:","' + ws_relation(snap)[len("Total WS "):] + '"\r\n').encode()
    if golden_bytes == new_bytes:
        return True
    if want not in new_bytes:
        print("CSV lacks", want, file=sys.stderr)
        return False
    return new_bytes.replace(want, b"", 1) == golden_bytes


def strip_additions(new_text, snap):
    """The text report without what was added since the golden sets were written: the Total WS
    line after the summary (checked against the stored numbers) and the Dirty column of the
    allocation rows (checked against each allocation's stored dirty bytes). None when an
    addition is missing or says something else than the stored data."""
    lines = new_text.split("\n")
    want = ws_relation(snap) + "."
    if want not in lines:
        print("text lacks", repr(want), file=sys.stderr)
        return None
    lines.remove(want)
    out = []
    cut = None
    allocs = iter(snap["allocations"])
    for line in lines:
        if cut is None and line.startswith("Address ") and "  Dirty  " in line:
            cut = (line.index("Total WS") + len("Total WS"), line.index("  Dirty") + len("  Dirty"))
        elif cut and (not line.strip() or line.startswith("Threads")):
            cut = False
        if cut:
            if not line.startswith("Address") and not line.startswith("  "):
                a = next(allocs, None)
                cell = line[cut[0]:cut[1]].strip()
                dirty = a["columns"]["dirty"] if a else 0
                if a is None or cell != str(dirty // 1024 + (dirty % 1024 >= 512)):
                    print("Dirty cell", repr(cell), "for", a and a.get("start"), file=sys.stderr)
                    return None
            line = line[:cut[0]] + line[cut[1]:]
        out.append(line)
    return "\n".join(out)


def txt_same(golden_bytes, new_bytes, snap=None):
    """A text report equals its golden one: byte-identical outside the summary table; inside
    it, cell by cell, with the golden Free row (size and largest in KiB) in human units; after
    the additions of presentation are taken out (strip_additions) when snap is given."""
    if golden_bytes == new_bytes:
        return True
    g = golden_bytes.decode("utf-8", "replace").split("\n")
    new_text = new_bytes.decode("utf-8", "replace")
    if snap is not None:
        new_text = strip_additions(new_text, snap)
        if new_text is None:
            return False
    n = new_text.split("\n")
    if len(g) != len(n):
        return False
    in_summary = False
    for a, b in zip(g, n):
        if a.startswith("Summary ("):
            in_summary = True
            continue  # the header's wording changed with the Free row
        if in_summary and not a.strip():
            in_summary = False
        if not in_summary:
            if a != b:
                return False
            continue
        ta = a.split()
        if ta and ta[0] == "Free" and len(ta) == 4:
            ta = ["Free"] + human(int(ta[1]) * 1024).split() + [ta[2]] + human(int(ta[3]) * 1024).split()
        if ta != b.split():
            return False
    return True


def same_json(golden_text, new_text, what, new_keys):
    golden = json.loads(golden_text)
    new = json.loads(new_text)
    drop = new_keys | BUILD_KEYS
    d = first_difference(strip(golden, drop), strip(new, drop))
    check(d is None, f"{what}: {d}")


class Daemon:
    def __init__(self, binary, db, workdir):
        self.out = open(os.path.join(workdir, "serve.out"), "w+")
        self.err = open(os.path.join(workdir, "serve.err"), "w+")
        self.p = subprocess.Popen([binary, "serve", "--listen", "127.0.0.1:0", "--db", db],
                                  stdout=self.out, stderr=self.err)
        port = None
        for _ in range(400):
            self.out.seek(0)
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)/", self.out.read())
            if m:
                port = m.group(1)
                break
            if self.p.poll() is not None:
                break
            time.sleep(0.05)
        if not port:
            self.err.seek(0)
            raise RuntimeError("daemon did not start: " + self.err.read())
        self.base = f"http://127.0.0.1:{port}/api/v1"
        with open(db + ".token") as f:
            self.token = f.read().strip()

    def req(self, method, path, body=None, auth=True):
        r = urllib.request.Request(self.base + path, data=body, method=method)
        if auth:
            r.add_header("Authorization", "Bearer " + self.token)
        if body is not None:
            r.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(r, timeout=60) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def get(self, path, auth=True):
        return self.req("GET", path, auth=auth)

    def stop(self):
        self.p.terminate()  # the pid we started
        try:
            self.p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        self.out.close()
        self.err.close()


def keys_new_since(set_name):
    """The keys a golden set cannot have: everything added after the release that wrote it."""
    m = re.match(r"v(\d+)-", set_name)
    version = int(m.group(1)) if m else 0
    return {k for k, v in KEYS_ADDED.items() if v > version}


def check_watch(d, w, golden, tag, new_keys):
    """A stored watch (sets from schema 4 on): the watch, its samples (all and downsampled), what
    grew over it and its first full snapshot answer as the release that wrote them did, and the
    stopped watch is not resumed."""
    wid = w["id"]
    for path, f in ((f"/watches/{wid}", "watch.json"),
                    (f"/watches/{wid}/samples", "watch-samples.json"),
                    (f"/watches/{wid}/samples?max_points=4", "watch-samples-4.json"),
                    (f"/watches/{wid}/growth", "watch-growth.json"),
                    (f"/snapshots/{w['snapshot']}", f"watch-snapshot-{w['snapshot']}.json")):
        st, body = d.get(path)
        check(st == 200, f"{tag}: {path} (HTTP {st}: {body[:200]!r})")
        if st == 200:
            same_json(golden(f), body, f"{tag}: {path}", new_keys)
    st, body = d.get(f"/watches/{wid}")
    check(st == 200 and json.loads(body)["state"] == "stopped" and json.loads(body)["sampler"] is None,
          f"{tag}: the stopped watch stays stopped")
    if st == 200 and "snapshot_on_allocations" in new_keys:  # stored before schema 9: not known
        wj = json.loads(body)
        check(wj.get("snapshot_on_allocations", 0) is None and wj.get("snapshot_on_committed", 0) is None,
              f"{tag}: a watch stored before its thresholds were says they are not known (null): "
              f"{wj.get('snapshot_on_allocations', 'absent')}, {wj.get('snapshot_on_committed', 'absent')}")
    if "share_token" in w:  # sets from schema 8 on: the watch's read-only link (views counts up;
        # url names the daemon's port)
        for path, f in ((f"/shared/{w['share_token']}/watch", "shared-watch.json"),
                        (f"/shared/{w['share_token']}/watch/samples", "shared-watch-samples.json")):
            st, body = d.get(path, auth=False)
            check(st == 200, f"{tag}: {path} without the token (HTTP {st}: {body[:200]!r})")
            if st == 200:
                same_json(golden(f), body, f"{tag}: {path}", new_keys | {"views", "url"})


def check_residency(d, sid, golden, tag):
    """Sets from schema 7 on: a snapshot's stored page residency answers as it was written."""
    st, body = d.get(f"/snapshots/{sid}/residency")
    check(st == 200, f"{tag}: /snapshots/{sid}/residency (HTTP {st}: {body[:200]!r})")
    if st == 200:
        same_json(golden(f"residency-{sid}.json"), body, f"{tag}: stored residency of {sid}", set())


def check_set(binary, set_dir, drop_renderings):
    name = os.path.basename(set_dir.rstrip("/"))
    mode = "renderings dropped" if drop_renderings else "as stored"
    tag = f"{name} ({mode})"
    new_keys = keys_new_since(name)
    with open(os.path.join(set_dir, "manifest.json")) as f:
        man = json.load(f)
    work = tempfile.mkdtemp(prefix="vmscope-golden-")
    try:
        db = os.path.join(work, "store.db")
        shutil.copyfile(os.path.join(set_dir, "store.db"), db)
        os.chmod(db, 0o600)
        if drop_renderings:
            c = sqlite3.connect(db)
            c.execute("DELETE FROM snapshot_bodies")
            c.execute("UPDATE snapshots SET json_bytes = 0")
            c.commit()
            c.close()
        d = Daemon(binary, db, work)
        try:
            golden = lambda f: open(os.path.join(set_dir, f), "rb").read()
            for sid in man["ids_all"]:
                st, body = d.get(f"/snapshots/{sid}")
                check(st == 200, f"{tag}: snapshot {sid} loads (HTTP {st}: {body[:200]!r})")
                if st == 200:
                    same_json(golden(f"snapshot-{sid}.json"), body, f"{tag}: snapshot {sid} JSON", new_keys)
                    first = json.loads(body)["allocations"][0]["start"]
                    st2, at = d.get(f"/snapshots/{sid}/at/{first}")
                    check(st2 == 200 and json.loads(at).get("kind") == "region",
                          f"{tag}: snapshot {sid} address lookup (HTTP {st2})")
                stored = json.loads(golden(f"snapshot-{sid}.json"))
                for ext in ("csv", "txt"):
                    st, body = d.get(f"/snapshots/{sid}.{ext}")
                    check(st == 200 and (csv_same(golden(f"snapshot-{sid}.{ext}"), body, stored) if ext == "csv" else txt_same(golden(f"snapshot-{sid}.{ext}"), body, stored)),
                          f"{tag}: snapshot {sid} {ext.upper()} byte-identical (HTTP {st})")
            st, body = d.get("/snapshots")
            check(st == 200, f"{tag}: list (HTTP {st})")
            if st == 200:
                # json_bytes: the size of the kept JSON rendering, a cache figure; a rendering
                # made by this build includes the new keys, so it differs with them.
                same_json(golden("list.json"), body, f"{tag}: list",
                          new_keys | ({"json_bytes"} if new_keys else set()))
            st, body = d.get(f"/shared/{man['share_token']}", auth=False)
            check(st == 200, f"{tag}: share token serves (HTTP {st})")
            if st == 200:
                same_json(golden("shared.json"), body, f"{tag}: shared JSON", new_keys)
            st, body = d.get(f"/diff?from={man['diff']['from']}&to={man['diff']['to']}")
            check(st == 200, f"{tag}: diff (HTTP {st})")
            if st == 200:
                same_json(golden("diff.json"), body, f"{tag}: diff", new_keys)
            # The CLI export, as users keep them, imports and diffs.
            st, body = d.req("POST", "/snapshots", golden("export.json"))
            check(st in (200, 201), f"{tag}: export imports (HTTP {st}: {body[:200]!r})")
            if st in (200, 201):
                new_id = json.loads(body)["id"]
                imported = man["ids"]["imported"]
                st, body = d.get(f"/snapshots/{new_id}")
                check(st == 200, f"{tag}: re-imported export loads")
                if st == 200:
                    same_json(golden(f"snapshot-{imported}.json"), body,
                              f"{tag}: re-imported export renders as the imported golden snapshot", new_keys)
                st, body = d.get(f"/diff?from={imported}&to={new_id}")
                dj = json.loads(body) if st == 200 else {}
                check(st == 200 and dj.get("allocations") == [] and dj.get("regions") == [],
                      f"{tag}: export diffs against its earlier import with no change (HTTP {st})")
                st, body = d.get(f"/diff?from={man['ids']['python_1']}&to={new_id}")
                check(st == 200 and "summary" in json.loads(body), f"{tag}: export diffs (HTTP {st})")
            if "watch" in man:
                check_watch(d, man["watch"], golden, tag, new_keys)
            if "residency_snapshot" in man:
                check_residency(d, man["residency_snapshot"], golden, tag)
        finally:
            d.stop()
        # The database this build left behind opens again (a migration ran at most once).
        d = Daemon(binary, db, work)
        try:
            for sid in man["ids_all"]:
                st, _ = d.get(f"/snapshots/{sid}.csv")
                check(st == 200, f"{tag}: snapshot {sid} loads after a restart")
        finally:
            d.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    binary = os.environ.get("VMSCOPE_BIN")
    fixtures = os.environ.get("VMSCOPE_FIXTURES") or os.path.join(os.path.dirname(__file__), "..", "fixtures")
    if not binary or not os.access(binary, os.X_OK):
        print("SKIP: VMSCOPE_BIN not set")
        return 77
    root = os.path.join(fixtures, "golden")
    sets = sorted(os.path.join(root, n) for n in os.listdir(root)
                  if os.path.isfile(os.path.join(root, n, "manifest.json")))
    check(any(os.path.basename(s).startswith("v1-") for s in sets), "the v1 golden set is present")
    for s in sets:
        for drop in (False, True):
            check_set(binary, s, drop)
    print(f"{PASSES[0]} passed, {len(FAILS)} failed ({len(sets)} golden sets)")
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
