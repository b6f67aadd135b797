"""Issue 11: HTTP request fuzzing in CI (the attack found 0 of 20,008 fuzzed requests answered 5xx;
this keeps it so).

N requests (default 3,000; VMSCOPE_HTTP_FUZZ_N) built from a fixed seed (VMSCOPE_HTTP_FUZZ_SEED,
printed) by mutating valid requests of every route in server/http/routes.c: methods, paths
(captures replaced by hostile segments, %-encodings, dot segments, huge or empty ids), query
strings, header names/values/counts, Host, Authorization (with and without the token),
Content-Type, Content-Length (missing, wrong, negative, huge), chunked bodies, and JSON bodies
(deep nesting, invalid UTF-8, duplicate keys, huge numbers, random bytes). Each request goes on its
own connection; whatever the answer, it must not be a 5xx (503 busy, 505 for a bad version
and 507 disk full are answers, not failures), and the daemon must stay up, answer /health at the end, and print no
sanitizer report.
"""
import os
import random
import re
import socket
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "heaps"))
import golden_check as gc  # noqa: E402
import heapcheck as hc  # noqa: E402

SRC = hc.SOURCE


def route_patterns():
    """(method, pattern) from routes.c's table."""
    text = open(os.path.join(SRC, "server/http/routes.c")).read()
    return [(m, ("/api/v1" if v1 else "") + p)
            for m, v1, p in re.findall(r'\{\s*"(GET|POST|DELETE|PUT)"\s*,\s*(V1\s*)?"([^"]+)"', text)]


HOSTILE_SEGMENTS = ["1", "0", "-1", "99999999999999999999", "%00", "..", "%2e%2e", "a" * 300, "0x10",
                    "0xffffffffffffffffff", "%ff%fe", "1;rm", "{}", "", "%", "%zz", "1.json", "\u00e9".encode().decode("latin1")]
HOSTILE_JSON = [b"{}", b"[]", b"{" * 70, b"[" * 900, b'{"a":1,"a":2}', b'{"name":"\xff\xfe"}', b"1e999999",
                b'{"peek":' + b"9" * 400 + b"}", b'{"share":true,"x":' + b"[" * 63 + b"]" * 63 + b"}",
                b'{"format_version":1,"process":{"pid":1}}', b"\x00\x01\x02", b'"\\ud800"', b"nul", b""]


def mutate_request(rnd, routes, port, token, pid):
    method, pattern = rnd.choice(routes)
    if rnd.random() < 0.15:
        method = rnd.choice(["GET", "POST", "DELETE", "PUT", "HEAD", "OPTIONS", "PATCH", "TRACE", "G\x00ET", "get", "X" * 40])
    path = pattern
    while "{}" in path:
        seg = rnd.choice(HOSTILE_SEGMENTS) if rnd.random() < 0.6 else str(rnd.choice([pid, 1, 2, os.getpid()]))
        path = path.replace("{}", seg, 1)
    if rnd.random() < 0.2:
        path += "?" + "&".join(f"{rnd.choice(['peek', 'from', 'to', 'step', 'sort', 'share', 'addr', 'x'])}="
                               f"{rnd.choice(['0', '1', '-1', '1e99', '0x7f', '', '%00', 'a' * 50])}"
                               for _ in range(rnd.randint(1, 5)))
    if rnd.random() < 0.05:
        path = rnd.choice(["*", "http://evil/", "//evil.com/..%2f", "/" + "a/" * 400, "/%2e%2e/%2e%2e/etc/passwd", ""])
    version = rnd.choice(["HTTP/1.1"] * 8 + ["HTTP/1.0", "HTTP/2.0", "HTTP/1.1 x", ""])
    headers = []
    if rnd.random() < 0.9:
        headers.append("Host: " + rnd.choice([f"127.0.0.1:{port}"] * 6 + [f"localhost:{port}", "evil.com", "", f"127.0.0.1:0{port}", "[::1]:" + str(port)]))
    if rnd.random() < 0.7:
        headers.append("Authorization: Bearer " + (token if rnd.random() < 0.8 else rnd.choice(["", "x", token[:-1] + "0", "a" * 500])))
    body = b""
    if method in ("POST", "DELETE", "PUT") or rnd.random() < 0.1:
        body = rnd.choice(HOSTILE_JSON)
        if rnd.random() < 0.3:
            b = bytearray(body or b"{}")
            for _ in range(rnd.randint(1, 4)):
                b[rnd.randrange(len(b))] = rnd.randrange(256)
            body = bytes(b)
        headers.append("Content-Type: " + rnd.choice(["application/json"] * 4 + ["text/plain", "application/json; charset=x", ""]))
    chunked = body and rnd.random() < 0.1
    if chunked:
        headers.append("Transfer-Encoding: chunked")
        body = b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n"
    elif body or rnd.random() < 0.1:
        headers.append("Content-Length: " + rnd.choice([str(len(body))] * 6 + ["-1", "99999999999", "abc", "0"]))
    if rnd.random() < 0.1:
        headers += [f"X-{i}: {'v' * rnd.randint(0, 50)}" for i in range(rnd.randint(1, 80))]
    if rnd.random() < 0.1:
        headers.append(rnd.choice(["Origin: http://evil.com", "Sec-Fetch-Site: cross-site", "Connection: keep-alive",
                                   "Expect: 100-continue", "Range: bytes=0-10", ":broken", "Host: second"]))
    headers.append("Connection: close")
    head = f"{method} {path} {version}\r\n" + "\r\n".join(headers) + "\r\n\r\n"
    return head.encode("latin1", "replace") + body


def send(port, data):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    out = b""
    try:
        s.sendall(data)
        while len(out) < 1 << 20:
            b = s.recv(65536)
            if not b:
                break
            out += b
    except (socket.timeout, ConnectionError):
        pass
    finally:
        s.close()
    m = re.match(rb"HTTP/1\.[01] (\d{3})", out)
    return int(m.group(1)) if m else None, out


def main():
    n = int(os.environ.get("VMSCOPE_HTTP_FUZZ_N", "3000"))
    seed = int(os.environ.get("VMSCOPE_HTTP_FUZZ_SEED", "20261201"))
    print(f"seed {seed}, {n} requests")
    rnd = random.Random(seed)
    tmp = tempfile.mkdtemp(prefix="vmscope-httpfuzz-")
    os.chmod(tmp, 0o700)
    target = __import__("subprocess").Popen(["sleep", "600"])
    d = gc.Daemon(hc.BIN, os.path.join(tmp, "x.db"), tmp)
    try:
        port = int(re.search(r":(\d+)/api/v1$", d.base).group(1))
        routes = route_patterns()
        hc.check(f"routes.c lists the routes ({len(routes)})", len(routes) >= 20)
        statuses, five, recent = {}, [], []
        for i in range(n):
            req = mutate_request(rnd, routes, port, d.token, target.pid)
            recent = (recent + [req])[-5:]
            try:
                st, out = send(port, req)
            except ConnectionRefusedError:
                st, out = None, b""
            statuses[st] = statuses.get(st, 0) + 1
            if st is not None and st >= 500 and st not in (503, 505, 507):
                five.append((i, st, req[:200], out[:200]))
            if d.p.poll() is not None:
                print(f"the daemon ended after request {i} (exit {d.p.returncode}); the last requests:")
                for r in recent:
                    print("   ", repr(r[:400]))
                break
        print("statuses:", dict(sorted(statuses.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))))
        hc.check(f"{n} fuzzed requests: no 5xx answer but 503 busy, 505 bad version, 507 disk full", not five, repr(five[:3]))
        hc.check("the daemon is still running", d.p.poll() is None)
        st, _ = d.get("/health")
        hc.check("and answers /health", st == 200)
        hc.check("most requests got an answer", sum(v for k, v in statuses.items() if k) > n * 0.8,
                 str(statuses.get(None)))
    finally:
        d.stop()
        target.kill()  # the pid we started
        target.wait()
        err = open(os.path.join(tmp, "serve.err")).read()
        hc.check("no sanitizer report", "Sanitizer" not in err, err[-500:])
        __import__("shutil").rmtree(tmp, ignore_errors=True)
    hc.done()


if __name__ == "__main__":
    main()
