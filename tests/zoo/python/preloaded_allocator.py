"""Zoo program: python3 with a native allocator LD_PRELOADed (jemalloc, tcmalloc or mimalloc).

Builds a known pattern (many small objects through pymalloc, large buffers through malloc, from
several threads), then prints the preloaded allocator's OWN statistics as one JSON line, read
with a tiny ctypes call into the process's own allocator (the symbol is looked up in the global
namespace, so it is the preloaded library's):
  jemalloc  mallctl("epoch"), then stats.mapped / stats.retained / stats.resident / stats.metadata
  tcmalloc  MallocExtension_GetNumericProperty("generic.heap_size", ...)
  mimalloc  mi_process_info (current_commit) and mi_stats_print_out ("reserved" row)
Answers "stats" on stdin with a fresh line; exits on EOF.
"""
import ctypes
import json
import os
import re
import sys
import threading

keep = []


def work(k):
    objs = []
    for i in range(150000):
        objs.append(("x" * (i % 300), i, [i, k]))
    bufs = [bytearray(1 << 20) for _ in range(8)]  # malloc'd directly (larger than pymalloc's 512 B)
    keep.append((objs, bufs))


def stats():
    libc = ctypes.CDLL(None)
    out = {"pid": os.getpid()}
    if hasattr(libc, "mallctl"):
        f = libc.mallctl
        f.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.POINTER(ctypes.c_size_t), ctypes.c_void_p, ctypes.c_size_t]
        epoch = ctypes.c_uint64(1)
        n = ctypes.c_size_t(8)
        f(b"epoch", ctypes.byref(epoch), ctypes.byref(n), ctypes.byref(epoch), 8)
        out["allocator"] = "jemalloc"
        for name in ("mapped", "retained", "resident", "active", "allocated", "metadata"):
            v = ctypes.c_size_t(0)
            n = ctypes.c_size_t(ctypes.sizeof(v))
            f(b"stats." + name.encode(), ctypes.byref(v), ctypes.byref(n), None, 0)
            out[name] = v.value
    elif hasattr(libc, "MallocExtension_GetNumericProperty"):
        f = libc.MallocExtension_GetNumericProperty
        f.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_size_t)]
        out["allocator"] = "tcmalloc"
        for prop, key in (("generic.heap_size", "heap_size"), ("generic.current_allocated_bytes", "current_allocated_bytes"),
                          ("tcmalloc.pageheap_free_bytes", "pageheap_free_bytes"),
                          ("tcmalloc.pageheap_unmapped_bytes", "pageheap_unmapped_bytes"),
                          ("generic.total_physical_bytes", "total_physical_bytes")):
            v = ctypes.c_size_t(0)
            f(prop.encode(), ctypes.byref(v))
            out[key] = v.value
        # total_physical = heap_size - unmapped + metadata (gperftools src/tcmalloc.cc)
        out["metadata"] = max(0, out["total_physical_bytes"] + out["pageheap_unmapped_bytes"] - out["heap_size"])
    elif hasattr(libc, "mi_process_info"):
        out["allocator"] = "mimalloc"
        v = [ctypes.c_size_t(0) for _ in range(8)]
        libc.mi_process_info(*[ctypes.byref(x) for x in v])
        out["current_commit"] = v[5].value
        out["current_rss"] = v[3].value
        text = []
        cb_t = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_void_p)
        cb = cb_t(lambda msg, arg: text.append(msg.decode(errors="replace")))
        libc.mi_stats_print_out(cb, None)
        out["stats_reserved"] = mi_current("".join(text), "reserved:")
    else:
        out["allocator"] = "glibc"
    return out


def mi_current(text, row):
    """The last amount on mimalloc's stats row (e.g. 'reserved:  96.0 MiB ... 96.0 MiB'), in bytes."""
    for line in text.splitlines():
        if line.strip().startswith(row):
            amounts = re.findall(r"([0-9.]+)\s*(KiB|MiB|GiB|B)\b", line)
            if amounts:
                v, u = amounts[-1]
                return int(float(v) * {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}[u])
    return -1


def main():
    ts = [threading.Thread(target=work, args=(k,)) for k in range(3)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    keep.append([bytearray(8 << 20) for _ in range(4)])
    print(json.dumps(stats()), flush=True)
    for line in sys.stdin:
        if line.startswith("stats"):
            print(json.dumps(stats()), flush=True)


main()
