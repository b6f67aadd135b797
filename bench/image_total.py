#!/usr/bin/env python3
"""Bytes typed Image in one process, as two vmscope binaries see it (before/after a change).

Usage: bench/image_total.py OLD_VMSCOPE NEW_VMSCOPE [--no-peek] -- PROGRAM [ARGS...]
Starts PROGRAM (stdin a pipe), waits for its first stdout line, scans it with both binaries
and prints the Image row's Size and Committed, the Image allocations' regions with role "bss"
that reach past what the ELF's last PT_LOAD asks for, and the allocations whose details
mention a .bss. Ends the program by closing its stdin, then by its pid.
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration", "heaps"))
from elfbss import elf_bss_end  # noqa: E402


def main():
    old, new = sys.argv[1], sys.argv[2]
    rest = sys.argv[3:]
    extra = [a for a in rest[:rest.index("--")] if a.startswith("--")]
    cmd = rest[rest.index("--") + 1:]
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        p.stdout.readline()
        for tag, b in (("before", old), ("after", new)):
            out = subprocess.run([b, "snapshot", "-p", str(p.pid), "--json", *extra], capture_output=True,
                                 text=True, check=True).stdout
            s = json.loads(out)
            row = next((r for r in s["summary"] if r["type"] == "image"), None)
            print(f"{tag:6} Image: size {row['columns']['size']} bytes, committed {row['columns']['committed']} bytes")
            for a in s["allocations"]:
                regs = a["regions"]
                for k, r in enumerate(regs):
                    if a["type"] == "image" and r.get("role") == "bss" and k > 0:
                        end = elf_bss_end(regs[k - 1]["path"], regs[k - 1])
                        if end is not None and int(r["end"], 16) > end:
                            print(f"       .bss of {a['details']}: {r['size']} bytes, "
                                  f"{int(r['end'], 16) - max(end, int(r['start'], 16))} past the ELF's .bss")
            for a in s["allocations"]:
                d = a.get("details") or ""
                if ".bss" in d or "bss size" in d:
                    print(f"       {a['type']:12} {a['size']:>10} {d[:160]}")
    finally:
        p.stdin.close()
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


if __name__ == "__main__":
    main()
