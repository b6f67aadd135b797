#!/usr/bin/env python3
"""Starve-the-workers attack on a running `vmscope serve` (issue 11, item 2), and what an honest,
authenticated client sees meanwhile.

While it runs:
  --slow N   connections that send a request line and then one header byte every --drip seconds,
             never finishing the header block (reopened when the daemon closes them);
  --flood N  keep-alive connections repeating an unauthenticated request (401), reopened when
             the daemon closes them;
  a probe    a new connection every --every seconds: GET /api/v1/health with the token; its
             latency is measured (gives up after --give-up seconds).
Prints one JSON line: probes, answered, within_1s, max_s, median_s, flood_requests,
slow_reconnects. Every socket it opens it closes itself. Exits 0.

With --readers N --write-pid PID instead: N keep-alive clients with the token reading
GET /api/v1/snapshots/--read-id as fast as they can, and one writer storing a scan of PID
(POST /api/v1/processes/PID/snapshots) every 0.5 s; prints the writes' latencies.

usage: attack.py --port PORT --token TOKEN [--slow 200] [--flood 64] [--seconds 20]
       attack.py --port PORT --token TOKEN --readers 64 --read-id ID --write-pid PID [--seconds 20]
"""
import argparse
import json
import selectors
import socket
import statistics
import threading
import time


def recv_response(s, deadline):
    """Read one HTTP response (headers + Content-Length body); returns the status or None."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = s.recv(65536)
        if not chunk:
            return None, False
        buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length, close = 0, False
    for ln in lines[1:]:
        k, _, v = ln.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v.strip())
        if k.strip().lower() == b"connection" and v.strip().lower() == b"close":
            close = True
    while len(body) < length:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = s.recv(65536)
        if not chunk:
            break
        body += chunk
    return status, close


def one_request(addr, req, give_up):
    """Send req on a new connection and read the answer, giving up after give_up seconds from now;
    closes the connection. Returns the status, or None when it failed."""
    deadline = time.monotonic() + give_up
    s = None
    try:
        s = socket.create_connection(addr, timeout=give_up)
        s.sendall(req)
        return recv_response(s, deadline)[0]
    except OSError:
        return None
    finally:
        if s is not None:
            s.close()


def keep_alive_loop(addr, req, timeout, stop, answered):
    """Send req again and again on one keep-alive connection until stop is set, calling answered()
    after each response; reconnects whenever the daemon closes the connection or a request fails
    (after a failure, 10 ms later). Closes every socket it opens."""
    s = None
    while not stop.is_set():
        try:
            if s is None:
                s = socket.create_connection(addr, timeout=timeout)
            s.sendall(req)
            status, close = recv_response(s, time.monotonic() + timeout)
            if status is None:
                raise OSError("closed")
            answered()
            if close:
                s.close()
                s = None
        except OSError:
            if s is not None:
                s.close()
            s = None
            time.sleep(0.01)
    if s is not None:
        s.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--slow", type=int, default=200)
    ap.add_argument("--flood", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--drip", type=float, default=1.0)
    ap.add_argument("--every", type=float, default=0.5)
    ap.add_argument("--give-up", type=float, default=10.0)
    ap.add_argument("--readers", type=int, default=0)
    ap.add_argument("--read-id", type=int, default=1)
    ap.add_argument("--write-pid", type=int, default=0)
    a = ap.parse_args()
    addr = ("127.0.0.1", a.port)
    if a.readers:
        return readers_and_writer(a, addr)
    stop = threading.Event()
    counts = {"flood": 0, "slow_reconnects": 0}
    lock = threading.Lock()
    host = "Host: 127.0.0.1:%d\r\n" % a.port

    def slow_loop():
        sel = selectors.DefaultSelector()
        socks = []

        def open_one():
            try:
                s = socket.create_connection(addr, timeout=2)
                s.setblocking(False)
                s.send(("GET /api/v1/health HTTP/1.1\r\n" + host).encode())
                socks.append(s)
                sel.register(s, selectors.EVENT_READ)
            except OSError:
                pass

        for _ in range(a.slow):
            open_one()
        next_drip = time.monotonic() + a.drip
        while not stop.is_set():
            for key, _ in sel.select(timeout=0.05):
                s = key.fileobj
                try:
                    data = s.recv(4096)
                except OSError:
                    data = b""
                if not data:  # closed (or answered): reopen
                    sel.unregister(s)
                    socks.remove(s)
                    s.close()
                    counts["slow_reconnects"] += 1
                    open_one()
            if time.monotonic() >= next_drip:
                next_drip += a.drip
                for s in list(socks):
                    try:
                        s.send(b"X")
                    except OSError:
                        pass
            while len(socks) < a.slow and not stop.is_set():
                open_one()
                if len(socks) < a.slow:
                    break
        for s in socks:
            s.close()
        sel.close()

    def flooded():
        with lock:
            counts["flood"] += 1

    def flood_loop():
        req = ("GET /api/v1/snapshots HTTP/1.1\r\n" + host + "\r\n").encode()
        keep_alive_loop(addr, req, 5, stop, flooded)

    threads = [threading.Thread(target=slow_loop)]
    threads += [threading.Thread(target=flood_loop) for _ in range(a.flood)]
    for t in threads:
        t.start()
    time.sleep(min(2.0, a.seconds / 4))  # let the attack settle
    lat = []
    probes = 0
    end = time.monotonic() + a.seconds
    req = ("GET /api/v1/health HTTP/1.1\r\n" + host + "Authorization: Bearer " + a.token +
           "\r\nConnection: close\r\n\r\n").encode()
    while time.monotonic() < end:
        probes += 1
        t0 = time.monotonic()
        if one_request(addr, req, a.give_up) == 200:
            lat.append(time.monotonic() - t0)
        time.sleep(max(0.0, a.every - (time.monotonic() - t0)))
    stop.set()
    for t in threads:
        t.join()
    print(json.dumps({
        "slow": a.slow, "flood": a.flood, "seconds": a.seconds,
        "probes": probes, "answered": len(lat),
        "within_1s": sum(1 for x in lat if x <= 1.0),
        "max_s": round(max(lat), 3) if lat else None,
        "median_s": round(statistics.median(lat), 3) if lat else None,
        "flood_requests": counts["flood"], "slow_reconnects": counts["slow_reconnects"],
    }))


def readers_and_writer(a, addr):
    stop = threading.Event()
    host = "Host: 127.0.0.1:%d\r\nAuthorization: Bearer %s\r\n" % (a.port, a.token)
    reads = [0]
    lock = threading.Lock()

    def read():
        with lock:
            reads[0] += 1

    def reader():
        req = ("GET /api/v1/snapshots/%d HTTP/1.1\r\n" % a.read_id + host + "\r\n").encode()
        keep_alive_loop(addr, req, 10, stop, read)

    threads = [threading.Thread(target=reader) for _ in range(a.readers)]
    for t in threads:
        t.start()
    time.sleep(1.0)
    body = b'{"share":false}'
    req = ("POST /api/v1/processes/%d/snapshots HTTP/1.1\r\n" % a.write_pid + host +
           "Content-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
           % len(body)).encode() + body
    lat, codes = [], {}
    end = time.monotonic() + a.seconds
    while time.monotonic() < end:
        t0 = time.monotonic()
        status = one_request(addr, req, 30)
        lat.append(time.monotonic() - t0)
        codes[str(status)] = codes.get(str(status), 0) + 1
        time.sleep(max(0.0, 0.5 - (time.monotonic() - t0)))
    stop.set()
    for t in threads:
        t.join()
    print(json.dumps({
        "readers": a.readers, "seconds": a.seconds, "writes": len(lat), "codes": codes,
        "within_1s": sum(1 for x in lat if x <= 1.0), "max_s": round(max(lat), 3),
        "median_s": round(statistics.median(lat), 3), "reads": reads[0],
    }))


if __name__ == "__main__":
    main()
