"""PartitionAlloc, V8 and Oilpan in a real Chromium (Debian's /usr/lib/chromium/chromium, headless,
about:blank). The browser runs in a session of its own (os.setsid) and the whole process group
we created is ended at the end, by its id.

There is no own-accounting figure a headless Chromium hands out without a DevTools client (the
memory-infra dumps of chrome://tracing need the DevTools protocol), so this test checks geometry
facts the allocator guarantees, on the browser process and on one renderer:
- the regular+BRP pool reservation is one Heap allocation, exactly 32 GiB, aligned to 32 GiB,
  and every committed region inside it starts after the guard page that opens its 2 MiB super
  page (a committed region never starts on a super-page boundary); the Heap row is non-zero;
- in the renderer: a V8 sandbox (Managed Heap, >= 1 TiB reserved) and the Managed Heap row
  non-zero in size;
- nameless Private Data is reported (committed / resident share), before/after figures come
  from running this test with VMSCOPE_BIN pointing at another build.
"""
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "heaps"))
import heapcheck as h  # noqa: E402

CHROMIUM = "/usr/lib/chromium/chromium"
h.need(CHROMIUM)
GIB = 1 << 30
SUPER = 2 << 20


def group_members(pgid):
    """(pid, --type) of every live process in process group pgid."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                st = f.read()
            fields = st[st.rindex(")") + 2:].split()
            if int(fields[2]) != pgid or fields[0] == "Z":
                continue
            with open(f"/proc/{d}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except (OSError, ValueError):
            continue
        # child processes rewrite their argv into one space-separated string (setproctitle)
        m = re.search(rb"--type=([a-z-]+)", b" ".join(argv))
        out.append((int(d), m.group(1).decode() if m else "browser"))
    return out


def check_process(label, pid, renderer):
    snap = h.snapshot(pid)
    pools = [a for a in snap["allocations"] if (a.get("details") or "").startswith("PartitionAlloc pools")]
    print(f"-- {label} (pid {pid}):")
    h.show(pools)
    ok = h.check(f"{label}: one PartitionAlloc pool reservation", len(pools) == 1, str(len(pools)))
    if ok:
        p = pools[0]
        start = int(p["start"], 16)
        h.check(f"{label}: the pools are Heap, 32 GiB, aligned to 32 GiB",
                p["type"] == "heap" and p["size"] == 32 * GIB and start % (32 * GIB) == 0, str(p["size"]))
        committed = [r for r in p["regions"] if r["perms"] != "---p"]
        h.check(f"{label}: the pools have committed super pages", committed and p["columns"]["committed"] > 0)
        on_boundary = [r["start"] for r in committed if (int(r["start"], 16) - start) % SUPER == 0]
        h.check(f"{label}: every committed region lies after its super page's guard page", not on_boundary,
                str(on_boundary[:5]))
    heap = h.type_total(snap, "heap")
    h.check(f"{label}: the Heap row is non-zero", heap > 0)
    if renderer:
        sb = [a for a in snap["allocations"] if (a.get("details") or "").startswith("V8 sandbox")]
        h.show(sb)
        h.check(f"{label}: a V8 sandbox, Managed Heap, >= 1 TiB reserved",
                len(sb) == 1 and sb[0]["type"] == "managed_heap" and sb[0]["size"] >= 1024 * GIB)
        h.check(f"{label}: the Managed Heap row is non-zero", h.type_total(snap, "managed_heap", "size") > 0)
    others = [a for a in snap["allocations"] if a["type"] in ("heap", "managed_heap") and a not in pools]
    h.show(others)
    com, res = h.nameless_share(snap)
    print(f"   {label}: Heap {heap / h.MIB:.1f} MiB, Managed Heap {h.type_total(snap, 'managed_heap') / h.MIB:.1f} MiB "
          f"committed; nameless Private Data {com:.1f} % committed / {res:.1f} % resident")
    h.show([a for a in h.biggest(snap, 40) if a["type"] == "private_data" and not a.get("details")][:3])


tmp = tempfile.mkdtemp(prefix="vmscope-chromium-")
argv = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp}", "about:blank"]
proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                        start_new_session=True)
pgid = proc.pid
try:
    renderer = None
    deadline = time.time() + 40
    while time.time() < deadline and renderer is None:
        time.sleep(0.5)
        if proc.poll() is not None:
            break
        r = [p for p, kind in group_members(pgid) if kind == "renderer"]
        renderer = r[0] if r else None
    if renderer is None:
        h.skip(f"chromium started no renderer (exit {proc.poll()})")
    time.sleep(2)  # let about:blank finish loading
    check_process("browser", proc.pid, False)
    check_process("renderer", renderer, True)
finally:
    try:
        os.killpg(pgid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        time.sleep(0.5)
        if group_members(pgid):
            os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    subprocess.run(["rm", "-rf", tmp])
h.done()
