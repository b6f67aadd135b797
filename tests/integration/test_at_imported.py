"""What is at an address in a stored snapshot reads this host's image files only when the
snapshot was taken here (issue 9): a snapshot this daemon scanned names libc's section and
symbol; the same snapshot exported and imported again (source "import") names neither — its
files are another machine's, whatever inode happens to match here — and says why; a saved file
whose host is another makes `vmscope at FILE.json` say the same; and POST .../at answers a list.
Starts `vmscope serve` on 127.0.0.1:0 with a temporary store, and a sleeping python3."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "heaps"))
import heapcheck as hc  # noqa: E402


def call(base, token, method, path, body=None, raw=None):
    return hc.api(base, token, method, path, body, raw)[:2]


def main():
    tmp = tempfile.mkdtemp(prefix="vmscope-at-imported-")
    base, token = hc.serve(tmp)
    q, me = hc.start([sys.executable, "-c", "import ctypes, json, sys\n"
                      "print(json.dumps({'malloc': ctypes.cast(ctypes.CDLL(None).malloc, ctypes.c_void_p).value}),"
                      " flush=True)\nsys.stdin.read()\n"])
    addr = hex(me["malloc"])
    st, b = call(base, token, "POST", f"/processes/{q.pid}/snapshots", {"share": False})
    sid = json.loads(b)["id"] if st in (200, 201) else None
    hc.check("a scan is stored", sid is not None, f"{st} {b[:200]}")
    st, b = call(base, token, "GET", f"/snapshots/{sid}/at/{addr}")
    img = (json.loads(b).get("image") or {}) if st == 200 else {}
    hc.check("taken here: the stored snapshot's lookup names malloc", img.get("symbol") == "malloc", str(img))
    st, raw = call(base, token, "GET", f"/snapshots/{sid}.json")
    st2, b = call(base, token, "POST", "/snapshots?share=0", raw=raw)
    iid = json.loads(b)["id"] if st2 in (200, 201) else None
    hc.check("the same snapshot imports", iid is not None, f"{st2} {b[:200]}")
    st, b = call(base, token, "GET", f"/snapshots/{iid}/at/{addr}")
    img = (json.loads(b).get("image") or {}) if st == 200 else {}
    hc.check("imported: no section, no symbol, and the note says its files are not read here",
             st == 200 and img.get("symbol") is None and img.get("section") is None
             and "not taken on this host" in (img.get("note") or ""), f"{st} {img}")
    st, b = call(base, token, "POST", f"/snapshots/{sid}/at", {"addresses": [addr, "0x1000", addr]})
    res = json.loads(b).get("results", []) if st == 200 else []
    hc.check("POST .../at answers each address in order",
             len(res) == 3 and (res[0].get("image") or {}).get("symbol") == "malloc" and res[1]["kind"] != "region"
             and res[2]["address"] == addr, f"{st} {b[:300]}")
    st, b = call(base, token, "POST", f"/snapshots/{sid}/at", {"addresses": []})
    hc.check("POST .../at with no address is a 400", st == 400, f"{st} {b[:200]}")
    # a saved file from another host: the CLI reads none of this host's files either
    snap = json.loads(raw)
    snap["host"] = "elsewhere.example"
    path = os.path.join(tmp, "other.json")
    with open(path, "w") as f:
        json.dump(snap, f)
    r = subprocess.run([hc.BIN, "at", "--json", path, addr], capture_output=True, text=True, timeout=60)
    img = (json.loads(r.stdout)[0].get("image") or {}) if r.returncode == 0 else {}
    hc.check("vmscope at FILE.json of another host: no symbol, says why",
             img.get("symbol") is None and "not taken on this host" in (img.get("note") or ""), r.stdout[:300] + r.stderr)
    snap["host"] = os.uname().nodename
    with open(path, "w") as f:
        json.dump(snap, f)
    r = subprocess.run([hc.BIN, "at", "--json", path, addr], capture_output=True, text=True, timeout=60)
    img = (json.loads(r.stdout)[0].get("image") or {}) if r.returncode == 0 else {}
    hc.check("vmscope at FILE.json of this host: names malloc", img.get("symbol") == "malloc", r.stdout[:300] + r.stderr)
    hc._cleanup()
    shutil.rmtree(tmp, ignore_errors=True)
    hc.done()


main()
