"""Zoo program: CPython with many small objects in pymalloc arenas (tests/zoo/README.md).

Usage: python3 main.py [plain|threaded] [N]
  plain:    the main thread allocates N small objects (default 2,000,000);
  threaded: 4 threads allocate N/4 each and stay alive (their glibc arenas too).
Prints ONE JSON line with the interpreter's own accounting, parsed from sys._debugmallocstats()
(which writes to C stderr: captured by pointing fd 2 at a temporary file for the call):
  arenas_allocated_total, arenas_reclaimed, arenas_highwater, arenas_current, arena_size,
  arena_bytes (= arenas_current * arena_size), bytes_in_allocated_blocks, ... ,
  plus pid, python version, mode. Answers "stats" on stdin with a fresh line; exits on EOF.
"""
import json
import os
import re
import sys
import tempfile
import threading

KEEP = []


def make_objects(n, out):
    # tuples of an int and a short str: 3 pymalloc blocks each (tuple 56 B, int 28-32 B, str ~50 B)
    out.append([(i, "s%d" % i) for i in range(n)])


def mallocstats():
    sys.stdout.flush()
    sys.stderr.flush()
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        saved = os.dup(2)
        try:
            os.dup2(tmp.fileno(), 2)
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        tmp.seek(0)
        text = tmp.read().decode("utf-8", "replace")
    stats = {}
    for line in text.splitlines():
        m = re.match(r"#\s*(.+?)\s*=\s*([\d,]+)\s*$", line)
        if m:
            key = re.sub(r"[^a-z0-9]+", "_", m.group(1).lower()).strip("_")
            stats[key] = int(m.group(2).replace(",", ""))
            continue
        m = re.match(r"(\d+) arenas \* (\d+) bytes/arena\s*=\s*([\d,]+)", line)
        if m:
            stats["arena_size"] = int(m.group(2))
            stats["arena_bytes"] = int(m.group(3).replace(",", ""))
    return {
        "pid": os.getpid(),
        "python": "%d.%d.%d" % sys.version_info[:3],
        "mode": MODE,
        "arenas_allocated_total": stats.get("arenas_allocated_total"),
        "arenas_reclaimed": stats.get("arenas_reclaimed"),
        "arenas_highwater": stats.get("arenas_highwater_mark"),
        "arenas_current": stats.get("arenas_allocated_current"),
        "arena_size": stats.get("arena_size"),
        "arena_bytes": stats.get("arena_bytes"),
        "bytes_in_allocated_blocks": stats.get("bytes_in_allocated_blocks"),
        "bytes_in_available_blocks": stats.get("bytes_in_available_blocks"),
        "bytes_lost_to_pool_headers": stats.get("bytes_lost_to_pool_headers"),
        "bytes_lost_to_quantization": stats.get("bytes_lost_to_quantization"),
        "bytes_lost_to_arena_alignment": stats.get("bytes_lost_to_arena_alignment"),
        "threads": threading.active_count(),
    }


MODE = sys.argv[1] if len(sys.argv) > 1 else "plain"
N = int(sys.argv[2]) if len(sys.argv) > 2 else 2_000_000

if MODE == "threaded":
    stop = threading.Event()
    ready = []

    def worker(n):
        make_objects(n, KEEP)
        # a few large glibc blocks from this thread (its own glibc arena / mmapped chunks)
        KEEP.append(bytearray(200 * 1024))
        ready.append(1)
        stop.wait()

    threads = [threading.Thread(target=worker, args=(N // 4,), daemon=True) for _ in range(4)]
    for t in threads:
        t.start()
    while len(ready) < len(threads):
        threading.Event().wait(0.01)
else:
    make_objects(N, KEEP)

print(json.dumps(mallocstats()), flush=True)
for line in sys.stdin:
    if line.strip() == "stats":
        print(json.dumps(mallocstats()), flush=True)
