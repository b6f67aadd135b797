"""systemd socket activation without systemd (issue 13, packages and a service): this script does
what systemd does for packaging/vmscope.socket — it binds and listens on 127.0.0.1:0, forks, puts
the socket at descriptor 3, sets LISTEN_FDS=1 and LISTEN_PID to the child's pid, and execs
`vmscope serve` with a different --listen. The daemon must serve the API on the inherited socket
(its announced port is the socket's), bind nothing else, refuse what it cannot serve (two
sockets, a UDP socket) with exit 1, ignore LISTEN_FDS meant for another pid, and stop on SIGTERM.
systemd-analyze verify of the socket unit is in test_package.sh."""
import json
import os
import re
import select
import signal
import socket
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "heaps"))
import heapcheck as hc  # noqa: E402


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def launch(tmp, socks, listen, pid_offset=0, extra_env=None, args=()):
    """Fork and exec vmscope serve with socks at descriptors 3.. and systemd's variables.
    Returns (pid, read end of its stdout+stderr)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.dup2(w, 1)
            os.dup2(w, 2)
            high = [os.dup(s.fileno()) for s in socks]  # out of the way of 3, 4 ... first
            for i, fd in enumerate(high):
                os.dup2(fd, 3 + i)
                os.set_inheritable(3 + i, True)  # dup2 onto itself would keep close-on-exec
            env = dict(os.environ, LISTEN_FDS=str(len(socks)), LISTEN_PID=str(os.getpid() + pid_offset),
                       LISTEN_FDNAMES="vmscope.socket", **(extra_env or {}))
            os.execve(hc.BIN, [hc.BIN, "serve", "--listen", listen, "--db", os.path.join(tmp, "db"), *args], env)
        finally:
            os._exit(127)
    os.close(w)
    return pid, r


def read_until(fd, pattern, timeout=20):
    """Output of the daemon until pattern matches (returns the match) or it ends (None)."""
    buf = b""
    deadline = time.time() + timeout
    while time.time() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            buf += chunk
            m = re.search(pattern, buf.decode(errors="replace"))
            if m:
                return m, buf.decode(errors="replace")
    return None, buf.decode(errors="replace")


def wait_exit(pid, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return None


def listening_ports(pid):
    """The TCP ports process pid listens on (its socket inodes in /proc/net/tcp, state 0A)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            m = re.match(r"socket:\[(\d+)\]", os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:
            continue
        if m:
            inodes.add(m.group(1))
    ports = set()
    for table in ("tcp", "tcp6"):
        with open(f"/proc/{pid}/net/{table}") as f:
            for line in f.readlines()[1:]:
                p = line.split()
                if p[3] == "0A" and p[9] in inodes:
                    ports.add(int(p[1].split(":")[1], 16))
    return ports


def get(port, path, token, host=None):
    return hc.api(f"http://127.0.0.1:{port}", token, "GET", path[len("/api/v1"):], host=host)[:2]


def main():
    tmp = tempfile.mkdtemp(prefix="vmscope-socket-")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    port = sock.getsockname()[1]
    other = free_port()

    pid, out = launch(tmp, [sock], f"127.0.0.1:{other}")
    sock.close()  # the daemon holds the only copy now: whatever answers, answers through it
    m, text = read_until(out, r"http://127\.0\.0\.1:(\d+)/#token=([0-9A-Za-z_-]+)")
    hc.check("vmscope serve starts on the socket it was given", m is not None, text[-500:])
    if not m:
        os.kill(pid, signal.SIGKILL)
        hc.done()
    hc.check(f"it announces the socket's port {port}, not --listen's {other}", int(m.group(1)) == port, m.group(0))
    token = m.group(2)
    t0 = time.time()
    st, body = get(port, "/api/v1/version", token)
    hc.check("the API answers on the inherited socket", st == 200 and "version" in json.loads(body), f"{st} {body[:200]}")
    first = time.time() - t0
    hc.check(f"the first answer comes at once ({first:.2f} s), not after civetweb's 2 s poll", first < 1.5)
    st, body = get(port, "/api/v1/processes?q=vmscope", token)
    hc.check("a scan-backed route answers too", st == 200, str(st))
    st, _ = get(port, "/api/v1/version", token, host="evil.example:80")
    hc.check("the Host check still holds (a foreign Host is refused)", st in (400, 403, 421), str(st))
    st, _ = get(port, "/api/v1/version", token, host=f"localhost:{port}")
    hc.check("and accepts localhost with the socket's port", st == 200, str(st))
    ports = listening_ports(pid)
    hc.check("it listens on that socket only (no ephemeral civetweb port left, nothing on --listen)",
             ports == {port}, str(ports))
    os.kill(pid, signal.SIGTERM)
    hc.check("SIGTERM stops it with exit 0", wait_exit(pid) == 0)
    with socket.socket() as c:
        hc.check("after it stopped nothing answers on the port", c.connect_ex(("127.0.0.1", port)) != 0)
    os.close(out)

    # two sockets: refused
    a, b = socket.socket(), socket.socket()
    for s in (a, b):
        s.bind(("127.0.0.1", 0))
        s.listen(1)
    pid, out = launch(tmp, [a, b], f"127.0.0.1:{free_port()}")
    _, text = read_until(out, r"$^", timeout=10)
    rc = wait_exit(pid)
    hc.check("two sockets (LISTEN_FDS=2): exit 1, said why", rc == 1 and "exactly one" in text, f"{rc} {text}")
    os.close(out)
    # a UDP socket: refused
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", 0))
    pid, out = launch(tmp, [u], f"127.0.0.1:{free_port()}")
    _, text = read_until(out, r"$^", timeout=10)
    rc = wait_exit(pid)
    hc.check("a UDP socket: exit 1, said why", rc == 1 and "not a listening IPv4 TCP socket" in text, f"{rc} {text}")
    os.close(out)
    # LISTEN_PID of another process: not ours, --listen is bound as usual
    own = free_port()
    pid, out = launch(tmp, [a], f"127.0.0.1:{own}", pid_offset=1)
    m, text = read_until(out, r"http://127\.0\.0\.1:(\d+)/#token=")
    hc.check("LISTEN_PID of another process: ignored, it binds --listen",
             m is not None and int(m.group(1)) == own and own in listening_ports(pid), text[-300:])
    os.kill(pid, signal.SIGTERM)
    wait_exit(pid)
    os.close(out)
    # TLS on the inherited socket (https only, like a bound --tls port)
    t = socket.socket()
    t.bind(("127.0.0.1", 0))
    t.listen(8)
    tport = t.getsockname()[1]
    pid, out = launch(tmp, [t], f"127.0.0.1:{free_port()}", args=("--tls-self-signed",))
    t.close()
    m, text = read_until(out, r"https://127\.0\.0\.1:(\d+)/#token=([0-9A-Za-z_-]+)")
    ok = False
    if m and int(m.group(1)) == tport:
        import ssl
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        req = urllib.request.Request(f"https://127.0.0.1:{tport}/api/v1/version",
                                     headers={"Authorization": f"Bearer {m.group(2)}"})
        with urllib.request.urlopen(req, timeout=15, context=ctx) as r:
            ok = r.status == 200
    hc.check("--tls-self-signed on the inherited socket: https answers there", ok, text[-300:])
    os.kill(pid, signal.SIGTERM)
    wait_exit(pid)
    os.close(out)
    for s in (a, b, u):
        s.close()
    hc.done()


if __name__ == "__main__":
    main()
