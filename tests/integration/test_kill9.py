"""Issue 11: the store survives `kill -9` during writes.

20 rounds: a daemon on one database, three clients writing as fast as they can (scan-and-store
of a process this test started, imports of a saved snapshot, deletes of what they stored
before), the daemon killed with SIGKILL after a random 0.2-1.2 s. After each kill a new daemon
opens the same database and every write that was acknowledged before the kill is checked: each
stored snapshot (a complete 201 answer) still opens, byte-identical JSON to what it served
when it was stored; each acknowledged delete (204) stays deleted (a delete cut off before its answer may have happened
or not: that snapshot is checked no further). At the end SQLite's own
`PRAGMA integrity_check` says ok and `quick_check` too.
"""
import http.client
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "heaps"))
import golden_check as gc  # noqa: E402
import heapcheck as hc  # noqa: E402

ROUNDS = 20


def writers(d, target_pid, saved, acked, deleted, stop):
    """Three writing clients until stop is set (the daemon dies under them: errors expected)."""
    lock = threading.Lock()

    def post_loop(path, body):
        while not stop.is_set():
            try:
                st, answer = d.req("POST", path, body)
                if st == 201:
                    with lock:
                        acked[json.loads(answer)["id"]] = None
            except (OSError, ValueError, http.client.HTTPException):
                time.sleep(0.01)

    def delete_loop():
        while not stop.is_set():
            with lock:
                victims = [i for i in acked if acked[i] is None]
            if len(victims) < 4:
                time.sleep(0.02)
                continue
            vid = random.choice(victims[:-2])
            with lock:  # from here on its fate is unknown until the 204 arrives
                acked.pop(vid, None)
            try:
                st, _ = d.req("DELETE", f"/snapshots/{vid}")
                if st == 204:
                    with lock:
                        deleted.add(vid)
            except (OSError, http.client.HTTPException):
                time.sleep(0.01)

    threads = [threading.Thread(target=post_loop, args=(f"/processes/{target_pid}/snapshots", b"{}")),
               threading.Thread(target=post_loop, args=("/snapshots", saved)),
               threading.Thread(target=delete_loop)]
    for t in threads:
        t.start()
    return threads


def main():
    tmp = tempfile.mkdtemp(prefix="vmscope-kill9-")
    os.chmod(tmp, 0o700)
    db = os.path.join(tmp, "v.db")
    target = subprocess.Popen(["sleep", "600"])
    try:
        out = subprocess.run([hc.BIN, "snapshot", "-p", str(target.pid), "--json"], capture_output=True, timeout=60)
        saved = out.stdout
        acked, deleted = {}, set()
        kills = 0
        for rnd in range(ROUNDS):
            d = gc.Daemon(hc.BIN, db, tmp)
            # everything acknowledged so far is there, and what was deleted stays deleted
            bad = []
            for sid in list(acked):
                st, body = d.req("GET", f"/snapshots/{sid}")
                if st != 200:
                    bad.append((sid, st))
                    continue
                json.loads(body)
                if acked[sid] is None:
                    acked[sid] = body
                elif acked[sid] != body:
                    bad.append((sid, "changed"))
            hc.check(f"round {rnd}: all {len(acked)} acknowledged snapshots open unchanged", not bad, str(bad[:5]))
            sample = random.sample(sorted(deleted), min(len(deleted), 300))
            gone = [sid for sid in sample if d.req("GET", f"/snapshots/{sid}")[0] != 404]
            hc.check(f"round {rnd}: {len(sample)} of {len(deleted)} acknowledged deletes checked: still deleted",
                     not gone, str(gone[:5]))
            stop = threading.Event()
            threads = writers(d, target.pid, saved, acked, deleted, stop)
            time.sleep(random.uniform(0.2, 1.2))
            os.kill(d.p.pid, signal.SIGKILL)  # the pid we started
            d.p.wait()
            kills += 1
            stop.set()
            for t in threads:
                t.join()
            d.out.close()
            d.err.close()
        hc.check(f"{kills} kills during writes", kills == ROUNDS)
        hc.check(f"writes were acknowledged between the kills ({len(acked)} kept, {len(deleted)} deleted)",
                 len(acked) + len(deleted) >= ROUNDS)
        con = sqlite3.connect(db)
        try:
            ic = con.execute("PRAGMA integrity_check").fetchall()
            qc = con.execute("PRAGMA quick_check").fetchall()
        finally:
            con.close()
        hc.check("PRAGMA integrity_check: ok", ic == [("ok",)], str(ic[:3]))
        hc.check("PRAGMA quick_check: ok", qc == [("ok",)], str(qc[:3]))
        # one last daemon: the store still opens, lists and accepts a write
        d = gc.Daemon(hc.BIN, db, tmp)
        try:
            st, body = d.req("GET", "/snapshots")
            hc.check("the store lists its snapshots after all kills", st == 200)
            st, _ = d.req("POST", f"/processes/{target.pid}/snapshots", b"{}")
            hc.check("and takes a new write", st == 201)
        finally:
            d.stop()
    finally:
        target.kill()  # the pid we started
        target.wait()
        subprocess.run(["rm", "-rf", tmp])
    hc.done()


if __name__ == "__main__":
    main()
