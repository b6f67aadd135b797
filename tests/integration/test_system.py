"""Views across processes (vmscope files / system / ps --sort --user --totals), checked on
processes this test starts and against the kernel's own accounting:
  * two processes map the same 256 KiB file (MAP_SHARED) and touch every page: `vmscope files
    --path FILE` names exactly those two, each with Rss = the file and Pss = half of it, the same
    as each one's /proc/PID/smaps says; their Pss sum is the file's size (nobody else maps it);
  * a third mapper: each Pss becomes what smaps says (a third), the sum still the file;
  * `vmscope files PATTERN` and the full list (smem -m) carry the same numbers;
  * `vmscope system`: the areas add up to MemTotal, the user table's total is the sum of its rows;
  * `vmscope ps --sort -pss`: ordered; --user filters; --totals sums; a bad column is a usage error;
  * as nobody (when we are root and setpriv exists): no process of root's is named or counted in
    files, system or ps --pss (the kernel refuses smaps), only counted as unreadable.
"""
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "heaps"))
import heapcheck as hc  # noqa: E402

SIZE = 64 * 4096
CHILD = r"""
import json, mmap, os, sys
f = open(sys.argv[1], 'rb')
m = mmap.mmap(f.fileno(), 0, mmap.MAP_SHARED, mmap.PROT_READ)
s = sum(m[i] for i in range(0, len(m), 4096))
print(json.dumps({"pid": os.getpid(), "touched": s}), flush=True)
sys.stdin.readline()
"""


def run(*args, as_nobody=None):
    argv = [as_nobody or hc.BIN, *args]
    if as_nobody:
        argv = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--inh-caps=-all",
                "--bounding-set=-all", "--", *argv]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120)


def files_json(*args, as_nobody=None):
    r = run("files", "--json", *args, as_nobody=as_nobody)
    if r.returncode != 0:
        raise RuntimeError(f"vmscope files failed ({r.returncode}): {r.stderr}")
    return json.loads(r.stdout)


def kernel_says(pid, path):
    """(Rss, Pss) in bytes of pid's mappings of path, summed from /proc/PID/smaps."""
    rss = pss = 0
    cur = False
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            head = line.split(None, 5)
            if head and "-" in head[0] and ":" not in head[0]:
                cur = len(head) == 6 and head[5].rstrip("\n") == path
            elif cur and line.startswith("Rss:"):
                rss += int(line.split()[1]) * 1024
            elif cur and line.startswith("Pss:"):
                pss += int(line.split()[1]) * 1024
    return rss, pss


def main():
    with hc.tempdir("system") as tmp:
        os.chmod(tmp, 0o755)
        path = os.path.join(tmp, "shared-by-test.dat")
        with open(path, "wb") as f:
            f.write(bytes(range(256)) * (SIZE // 256))
        mappers = [hc.start([sys.executable, "-c", CHILD, path])[0] for _ in range(2)]
        pids = sorted(p.pid for p in mappers)

        j = files_json("--path", path)
        hc.check("--path: exactly one file", j["count"] == 1 and len(j["files"]) == 1, str(j["count"]))
        f = j["files"][0] if j["files"] else {"processes": [], "pss": 0, "rss": 0, "n_procs": 0}
        got = sorted(p["pid"] for p in f["processes"])
        hc.check("... mapped by exactly our two processes", got == pids, f"{got} != {pids}")
        for p in f["processes"]:
            k_rss, k_pss = kernel_says(p["pid"], path)
            hc.check(f"pid {p['pid']}: Rss is the whole file, as smaps says", p["rss"] == SIZE == k_rss,
                     f"{p['rss']} vs kernel {k_rss}")
            hc.check(f"pid {p['pid']}: Pss is half the file, as smaps says", p["pss"] == SIZE // 2 == k_pss,
                     f"{p['pss']} vs kernel {k_pss}")
        hc.check("their Pss adds up to the file's size", f["pss"] == SIZE, str(f["pss"]))
        hc.check("Rss counts the pages once per process", f["rss"] == 2 * SIZE, str(f["rss"]))
        hc.check("n_procs says two", f["n_procs"] == 2, str(f["n_procs"]))

        third = hc.start([sys.executable, "-c", CHILD, path])[0]
        pids3 = sorted(pids + [third.pid])
        j = files_json("shared-by-test")
        mine = [x for x in j["files"] if x["path"] == path]
        hc.check("PATTERN finds the file", len(mine) == 1, str([x["path"] for x in j["files"]]))
        f = mine[0] if mine else {"processes": [], "pss": 0}
        hc.check("... with its three processes", sorted(p["pid"] for p in f["processes"]) == pids3)
        for p in f["processes"]:
            k_rss, k_pss = kernel_says(p["pid"], path)
            hc.check(f"pid {p['pid']} of three: Pss as smaps says (a third)", p["pss"] == k_pss and p["rss"] == k_rss,
                     f"{p['pss']} vs kernel {k_pss}")
        # smaps prints each Pss rounded down to a KiB: three thirds lose at most 3 KiB
        hc.check("three Pss still add up to the file", SIZE - 3 * 1024 <= f["pss"] <= SIZE, str(f["pss"]))

        full = files_json()
        same = [x for x in full["files"] if x["path"] == path]
        hc.check("the full list (smem -m) has the file with the same numbers",
                 len(same) == 1 and same[0]["pss"] == f["pss"] and same[0]["n_procs"] == 3,
                 str(same and same[0]["pss"]))
        hc.check("the full list is sorted by Pss", [x["pss"] for x in full["files"]] ==
                 sorted((x["pss"] for x in full["files"]), reverse=True))
        hc.check("the full list's Pss is the sum of its files", full["pss"] == sum(x["pss"] for x in full["files"]))
        r = run("files", "shared-by-test")
        hc.check("text: the file and its processes listed", r.returncode == 0 and path in r.stdout and
                 all(f"pid {p} " in r.stdout for p in pids3), r.stdout[-500:])
        r = run("files", "a", "b")
        hc.check("two patterns: usage error (2)", r.returncode == 2, str(r.returncode))

        # system: areas and users
        r = run("system", "--json")
        s = json.loads(r.stdout) if r.returncode == 0 else None
        hc.check("system --json runs", s is not None, r.stderr)
        if s:
            used = sum(a["used"] for a in s["areas"])
            hc.check("areas add up to MemTotal", used == s["meminfo"]["mem_total"], f"{used} vs {s['meminfo']}")
            hc.check("users' total is the sum of the users",
                     s["total"]["pss"] == sum(u["pss"] for u in s["users"]) and
                     s["total"]["processes"] == sum(u["processes"] for u in s["users"]))
            me = [u for u in s["users"] if u["uid"] == os.getuid()]
            hc.check("our user is there with at least our three processes", me and me[0]["processes"] >= 3)
            hc.check("Uss <= Pss <= Rss for each user",
                     all(u["uss"] <= u["pss"] <= u["rss"] for u in s["users"]), str(s["users"]))
        r = run("system", "--areas", "--json")
        a = json.loads(r.stdout) if r.returncode == 0 else {}
        hc.check("system --areas: no user part", a.get("users", 0) is None and len(a.get("areas", [])) == 3)

        # ps --sort --user --totals
        r = run("ps", "--json", "--sort", "-pss", "--totals")
        ps = json.loads(r.stdout) if r.returncode == 0 else {"processes": [], "totals": {}}
        v = [p["pss"] or 0 for p in ps["processes"]]
        hc.check("ps --sort -pss: largest Pss first (and reads Pss)", v == sorted(v, reverse=True) and any(v))
        hc.check("ps --totals: Pss and Uss are the sums", ps["totals"].get("pss") == sum(v) and
                 ps["totals"].get("uss") == sum(p["uss"] or 0 for p in ps["processes"]) and
                 ps["totals"].get("processes") == len(ps["processes"]), str(ps["totals"]))
        mine3 = [p for p in ps["processes"] if p["pid"] in pids3]
        hc.check("ps: each of our processes has Uss <= Pss", len(mine3) == 3 and
                 all(p["uss"] <= p["pss"] for p in mine3))
        r = run("ps", "--json", "--user", "no-such-user-here")
        hc.check("ps --user filters", r.returncode == 0 and json.loads(r.stdout)["count"] == 0)
        r = run("ps", "--sort", "bogus")
        hc.check("ps --sort bogus: usage error (2) naming the columns", r.returncode == 2 and "pss" in r.stderr)
        r = run("ps", "--sort", "name", "--totals")
        hc.check("ps text --totals: a TOTAL row", r.returncode == 0 and "\n  TOTAL" in r.stdout)

        # as nobody: root's processes are neither named nor counted
        if os.getuid() == 0 and shutil.which("setpriv") and subprocess.run(["id", "nobody"], capture_output=True).returncode == 0:
            bindir = os.path.join(tmp, "bin")
            os.mkdir(bindir, 0o755)
            nb = os.path.join(bindir, "vmscope")
            shutil.copy(hc.BIN, nb)
            os.chmod(nb, 0o755)
            j = files_json("--path", path, as_nobody=nb)
            hc.check("nobody: root's mappers of the file are not shown", j["count"] == 0 and j["files"] == [], str(j)[:300])
            hc.check("... only counted as unreadable", j["unreadable"] >= 3, str(j["unreadable"]))
            j = files_json(as_nobody=nb)
            names = {p["pid"] for x in j["files"] for p in x["processes"]}
            hc.check("nobody: no pid of ours in the full file list", not names & set(pids3))
            r = run("system", "--json", as_nobody=nb)
            s = json.loads(r.stdout) if r.returncode == 0 else {"users": [{"uid": 0}], "unreadable": 0}
            hc.check("nobody: no root row in the users", all(u["uid"] != 0 for u in s["users"]), str(s["users"]))
            hc.check("... root's processes counted as unreadable", s["unreadable"] >= 3)
            r = run("ps", "--json", "--pss", as_nobody=nb)
            ps = json.loads(r.stdout) if r.returncode == 0 else {"processes": []}
            ours = [p for p in ps["processes"] if p["pid"] in pids3]
            hc.check("nobody: ps --pss has no Pss for root's processes", len(ours) == 3 and
                     all(p["pss"] is None and p["maps_readable"] is False for p in ours), str(ours)[:300])
        else:
            print("note: the nobody part needs root, setpriv and a user nobody")
        for p in mappers + [third]:
            p.stdin.close()
    hc.done()


if __name__ == "__main__":
    main()
