"""Shared harness for the runtime-heap tests (tests/integration/test_heap_*.py).

Each test starts a real program of one runtime (a program of tests/zoo/), waits for the
program to print its own accounting (JVM NMT, Go MemStats, V8 heap statistics, malloc stats ...)
as one JSON line on stdout, scans it with `vmscope snapshot --json`, and compares.

Exit codes follow ctest: 0 pass, 1 fail, 77 skip (runtime not installed: SKIP_RETURN_CODE).
Processes are ended by the pid we started, never by name.
"""
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

BIN = os.environ.get("VMSCOPE_BIN") or os.path.join(os.path.dirname(__file__), "../../../build/vmscope")
SOURCE = os.environ.get("VMSCOPE_SOURCE_DIR") or os.path.abspath(os.path.join(os.path.dirname(__file__), "../../.."))
ZOO = os.path.join(SOURCE, "tests", "zoo")
MIB = 1 << 20

_passed = 0
_failed = 0
_children = []


def skip(reason):
    print(f"SKIP: {reason}")
    _cleanup()
    sys.exit(77)


def need(*tools):
    """Skip unless every tool is on PATH (or an existing absolute path)."""
    for t in tools:
        if not (os.path.isabs(t) and os.access(t, os.X_OK)) and shutil.which(t) is None:
            skip(f"{t} is not installed (third_party/install-deps.sh --heaps installs it)")


def check(desc, cond, detail=""):
    global _passed, _failed
    if cond:
        _passed += 1
        print(f"ok: {desc}")
    else:
        _failed += 1
        print(f"FAIL: {desc} {detail}", file=sys.stderr)
    return cond


def cc(args):
    """Run cc ARGS (a zoo program built into a temp dir); skip the test when it fails."""
    r = subprocess.run(["cc", *args], capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        skip(f"cc failed: {r.stderr.strip()[:300]}")


@contextlib.contextmanager
def tempdir(name):
    """A new directory /tmp/vmscope-NAME-*, removed with everything in it on the way out."""
    tmp = tempfile.mkdtemp(prefix=f"vmscope-{name}-")
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def alloc_at(snap, addr):
    """The allocation of a snapshot that holds addr, or None."""
    for a in snap["allocations"]:
        if int(a["start"], 16) <= addr < int(a["end"], 16):
            return a
    return None


def region_at(snap, addr):
    """(allocation, region) of a snapshot whose region holds addr, or (None, None)."""
    for a in snap["allocations"]:
        for r in a["regions"]:
            if int(r["start"], 16) <= addr < int(r["end"], 16):
                return a, r
    return None, None


def within(a, b, pct):
    """|a - b| <= pct % of b (b > 0)."""
    return b > 0 and abs(a - b) <= b * pct / 100.0


def start(argv, env=None, ready_timeout=60, cwd=None):
    """Start a zoo program; wait for its first stdout line that is a JSON object (its own
    accounting) and return (Popen, dict)."""
    e = dict(os.environ)
    if env:
        e.update(env)
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stdin=subprocess.PIPE, env=e, text=True, cwd=cwd)
    _children.append(p)
    deadline = time.time() + ready_timeout
    while time.time() < deadline:
        line = p.stdout.readline()
        if not line:
            break
        line = line.strip()
        if line.startswith("{"):
            return p, json.loads(line)
    raise RuntimeError(f"{argv[0]} did not print its accounting (exit {p.poll()})")


def ask(p):
    """Ask a running zoo program for its accounting again (it answers on stdin 'stats\\n')."""
    p.stdin.write("stats\n")
    p.stdin.flush()
    while True:
        line = p.stdout.readline()
        if not line:
            raise RuntimeError("program exited")
        if line.strip().startswith("{"):
            return json.loads(line)


def snapshot(pid, *extra):
    out = subprocess.run([BIN, "snapshot", "-p", str(pid), "--json", *extra], capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise RuntimeError(f"vmscope snapshot failed ({out.returncode}): {out.stderr}")
    return json.loads(out.stdout)


def allocations(snap, type_key=None, owner=None, contains=None):
    for a in snap["allocations"]:
        if type_key and a["type"] != type_key:
            continue
        if owner and a.get("owner") != owner:
            continue
        if contains and contains not in (a.get("details") or ""):
            continue
        yield a


def total(allocs, col="size"):
    return sum(a["columns"][col] if col in a["columns"] else a[col] for a in allocs)


def type_total(snap, type_key, col="committed"):
    for row in snap["summary"]:
        if row["type"] == type_key:
            return row["columns"][col]
    return 0


def nameless_share(snap):
    """(committed %, resident %) of the process left nameless in Private Data: allocations of
    type private_data that no rule or recogniser named (no details)."""
    nameless = [a for a in snap["allocations"] if a["type"] == "private_data" and not a.get("details")]
    com = sum(a["columns"]["committed"] for a in nameless)
    res = sum(a["columns"]["total_ws"] for a in nameless)
    tc = snap["total"]["committed"] or 1
    tr = snap["total"]["total_ws"] or 1
    return 100.0 * com / tc, 100.0 * res / tr


def biggest(snap, n=5, col="committed"):
    return sorted(snap["allocations"], key=lambda a: a["columns"][col], reverse=True)[:n]


def show(allocs):
    for a in allocs:
        print(f"   {a['start']:>16} {a['type']:<13} {a['columns']['committed'] / MIB:9.1f} MiB  {a.get('details')}")


def serve(tmp, *args):
    """Start `vmscope serve --listen 127.0.0.1:0 --db TMP/db ARGS` (stopped by done()); return
    (base URL, API token). Skips the test when it does not start."""
    p = subprocess.Popen([BIN, "serve", "--listen", "127.0.0.1:0", "--db", os.path.join(tmp, "db"), *args],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    _children.append(p)
    deadline = time.time() + 20
    while time.time() < deadline:
        line = p.stdout.readline()
        m = re.search(r"(http://127\.0\.0\.1:\d+)/#token=([0-9A-Za-z_-]+)", line or "")
        if m:
            return m.group(1), m.group(2)
        if not line and p.poll() is not None:
            break
    skip("vmscope serve did not start")


def api(base, token, method, path, body=None, raw=None, host=None):
    """METHOD base/api/v1PATH with the token (None: without), JSON body or raw bytes, and an
    optional Host header: (status, body bytes, headers), for error statuses too."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if host:
        headers["Host"] = host
    req = urllib.request.Request(base + "/api/v1" + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read(), r.headers
    except urllib.error.HTTPError as e:
        return e.code, e.read(), e.headers


def _cleanup():
    for p in _children:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def done():
    global _failed
    _cleanup()
    if _passed + _failed == 0:  # nothing was compared: never a pass
        _failed += 1
        print("FAIL: no check ran", file=sys.stderr)
    print(f"{_passed} passed, {_failed} failed")
    sys.exit(1 if _failed else 0)
