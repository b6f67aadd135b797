#!/usr/bin/env python3
"""Compare one `vmscope snapshot --json` against `pmap -XX` and smaps_rollup of the same stopped
process. Used by test_accuracy.sh; stdlib only.

Usage: accuracy_compare.py LABEL SNAPSHOT.json PMAP.txt ROLLUP.txt [PRIVATE_DIR]
Prints one line per failed check and a last line "N passed, N failed"; exit status 1 on failure.

What is compared (all smaps values in bytes; pmap prints KiB):
  * the region lists are identical: start, end, perms, offset, dev, inode, name (pmap prints the
    basename, with the kernel's escaping of newline as \\012 and the " (deleted)" suffix), VmFlags;
  * every smaps field of every region. Fields that depend on how many processes map a page
    (Pss, Pss_Dirty, Shared_*, Private_*, SwapPss, Locked) are compared exactly for anonymous
    regions, shmem (dev 00:01 and /dev/shm) and files under PRIVATE_DIR, which no other process
    maps. Other files (the program, libraries, locales) are mapped by other processes too,
    including the two readers (vmscope, pmap) themselves and tests running in parallel, at
    different moments, so a page can be shared during one read and private during the other:
    there only the sums that do not depend on sharing must match (Shared_Clean+Private_Clean,
    Shared_Dirty+Private_Dirty) and Pss <= Rss;
  * per type: summary columns == sum of the allocations' columns, blocks, largest, regions;
    allocation columns == sum of its regions' columns; total == sum of the summary rows but Free;
  * totals against smaps_rollup read while the process was stopped: sum of region Rss, Anonymous,
    Swap, AnonHugePages, hugetlb == rollup; total.total_ws minus the page-table row == rollup Rss;
    total.swap == rollup Swap; vmscope's own rollup == the rollup read here (sharing-free fields);
    the sum of per-VMA Pss (each truncated to whole KiB by the kernel) is within one KiB per region
    below rollup Pss (plus the Rss of the shared-file regions, as above).
"""
import json
import re
import sys

SF_KEYS = ["size", "kernel_page_size", "mmu_page_size", "rss", "pss", "pss_dirty", "shared_clean",
           "shared_dirty", "private_clean", "private_dirty", "referenced", "anonymous", "ksm",
           "lazy_free", "anon_huge_pages", "shmem_pmd_mapped", "file_pmd_mapped", "shared_hugetlb",
           "private_hugetlb", "swap", "swap_pss", "locked"]
KERNEL_NAME = {k: "_".join(w.capitalize() for w in k.split("_")) for k in SF_KEYS}
KERNEL_NAME.update(kernel_page_size="KernelPageSize", mmu_page_size="MMUPageSize", pss_dirty="Pss_Dirty",
                   lazy_free="LazyFree", anon_huge_pages="AnonHugePages", shmem_pmd_mapped="ShmemPmdMapped",
                   file_pmd_mapped="FilePmdMapped", shared_hugetlb="Shared_Hugetlb",
                   private_hugetlb="Private_Hugetlb", swap_pss="SwapPss", ksm="KSM", rss="Rss", pss="Pss",
                   size="Size", referenced="Referenced", anonymous="Anonymous", swap="Swap", locked="Locked")
SHARING = {"pss", "pss_dirty", "shared_clean", "shared_dirty", "private_clean", "private_dirty",
           "swap_pss", "locked"}
COLS = ["size", "committed", "private", "total_ws", "private_ws", "shareable_ws", "shared_ws",
        "locked_ws", "pss", "uss", "swap", "swap_pss", "dirty"]
VMFLAGS = set("rd wr ex sh mr mw me ms gd pf dw lo io sr rr dc de ac nr ht sf nl ar wf dd bt sd mm hg "
              "nh mg um uw ui mt ss dp sl gu lf ??".split())

passed = 0
failed = 0
label = ""


def check(cond, msg):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print(f"FAIL [{label}] {msg}")
    return cond


def parse_pmap(text):
    """Returns (regions, header). Each region: dict with start,end,perms,offset,dev,inode,
    kernel-named numeric fields (bytes), vm_flags (list), mapping (str)."""
    lines = text.split("\n")
    header = None
    out = []
    for line in lines[1:]:
        if header is None:
            header = line.split()
            assert header[:5] == ["Address", "Perm", "Offset", "Device", "Inode"], header
            assert header[-2:] == ["VmFlags", "Mapping"], header
            numeric = header[5:-2]
            continue
        if not line.strip() or line.lstrip().startswith("="):
            break
        parts = line.split(None, 5 + len(numeric))
        r = {"start": int(parts[0], 16), "perms": parts[1], "offset": int(parts[2], 16), "dev": parts[3],
             "inode": int(parts[4])}
        for name, val in zip(numeric, parts[5:5 + len(numeric)]):
            r[name] = int(val)
        rest = parts[5 + len(numeric)] if len(parts) > 5 + len(numeric) else ""
        rest = rest.lstrip(" ")
        flags = []
        while True:
            m = re.match(r"([a-z?]{2})(?: |$)", rest)
            if not m or m.group(1) not in VMFLAGS:
                break
            flags.append(m.group(1))
            rest = rest[m.end():]
        r["vm_flags"] = flags
        r["mapping"] = rest
        r["end"] = r["start"] + r["Size"] * 1024
        out.append(r)
    return out, header


def parse_rollup(text):
    vals = {}
    for line in text.splitlines()[1:]:
        m = re.match(r"^(\w+):\s+(\d+) kB$", line)
        if m:
            vals[m.group(1)] = int(m.group(2)) * 1024
    return vals


def pmap_name(reg):
    """What pmap -XX prints in the Mapping column for a vmscope region."""
    path = reg.get("path")
    if path is None:
        return ""
    base = path.rsplit("/", 1)[-1] if not path.startswith("[") else path
    base = base.replace("\n", "\\012")
    return base + (" (deleted)" if reg.get("deleted") else "")


def main():
    global label
    label, snap_path, pmap_path, rollup_path = sys.argv[1:5]
    private_dir = sys.argv[5].rstrip("/") + "/" if len(sys.argv) > 5 else None
    with open(snap_path, encoding="utf-8") as f:
        snap = json.load(f)
    with open(pmap_path, encoding="utf-8", errors="surrogateescape") as f:
        pm, header = parse_pmap(f.read())
    with open(rollup_path, encoding="utf-8") as f:
        rollup = parse_rollup(f.read())

    regions = [r for a in snap["allocations"] for r in a["regions"]]
    check(len(regions) == len(pm), f"region count: vmscope {len(regions)}, pmap {len(pm)}")
    check(len(regions) > 10, f"only {len(regions)} regions")
    by_start = {r["start"]: r for r in pm}

    lib_rss = 0
    n_exact = n_lib = 0
    for reg in regions:
        start = int(reg["start"], 16)
        end = int(reg["end"], 16)
        p = by_start.get(start)
        if not check(p is not None, f"region {start:x} not in pmap"):
            continue
        where = f"{start:x}-{end:x} {reg['perms']} {pmap_name(reg)!r}"
        check(p["end"] == end, f"{where}: pmap end {p['end']:x}")
        check(p["perms"] == reg["perms"], f"{where}: pmap perms {p['perms']}")
        check(p["offset"] == int(reg["offset"], 16), f"{where}: offset {reg['offset']} vs pmap {p['offset']:x}")
        check(p["dev"] == reg["dev"], f"{where}: dev {reg['dev']} vs pmap {p['dev']}")
        check(p["inode"] == reg["inode"], f"{where}: inode {reg['inode']} vs pmap {p['inode']}")
        check(p["mapping"] == pmap_name(reg), f"{where}: pmap mapping {p['mapping']!r}")
        check(p["vm_flags"] == reg["vm_flags"].split(), f"{where}: vm_flags {reg['vm_flags']!r} vs pmap {p['vm_flags']}")
        check(reg["size"] == end - start, f"{where}: size {reg['size']}")
        if "THPeligible" in p:
            check(reg["thp_eligible"] == p["THPeligible"], f"{where}: thp_eligible {reg['thp_eligible']} vs {p['THPeligible']}")
        if "ProtectionKey" in p:
            check(reg["protection_key"] == p["ProtectionKey"], f"{where}: protection_key")

        path = reg.get("path") or ""
        unique = (reg["inode"] == 0 or reg["dev"] == "00:01" or path.startswith("/dev/shm/")
                  or (private_dir is not None and path.startswith(private_dir)))
        lib = not unique
        if lib:
            n_lib += 1
            lib_rss += reg["smaps"]["rss"]
        else:
            n_exact += 1
        sm = reg["smaps"]
        for key in SF_KEYS:
            kname = KERNEL_NAME[key]
            if not check(kname in p, f"pmap lacks column {kname} (header {header})"):
                continue
            got, want = sm[key], p[kname] * 1024
            if lib and key in SHARING:
                continue
            check(got == want, f"{where}: {key} vmscope {got} pmap {want}")
        if lib:
            check(sm["shared_clean"] + sm["private_clean"] == (p["Shared_Clean"] + p["Private_Clean"]) * 1024,
                  f"{where}: clean vmscope {sm['shared_clean']}+{sm['private_clean']} pmap "
                  f"{p['Shared_Clean']}+{p['Private_Clean']} KiB")
            check(sm["shared_dirty"] + sm["private_dirty"] == (p["Shared_Dirty"] + p["Private_Dirty"]) * 1024,
                  f"{where}: dirty vmscope {sm['shared_dirty']}+{sm['private_dirty']} pmap "
                  f"{p['Shared_Dirty']}+{p['Private_Dirty']} KiB")
            check(sm["pss"] <= sm["rss"] and sm["pss_dirty"] <= sm["pss"], f"{where}: pss {sm['pss']} rss {sm['rss']}")
        # Region columns that follow from smaps alone.
        c = reg["columns"]
        total = sm["rss"] + sm["shared_hugetlb"] + sm["private_hugetlb"]
        check(c["size"] == end - start and c["total_ws"] == total and c["private_ws"] + c["shareable_ws"] == total
              and c["pss"] == sm["pss"] and c["swap"] == sm["swap"] and c["uss"] == sm["private_clean"] + sm["private_dirty"]
              and c["locked_ws"] == (sm["rss"] if "lo" in reg["vm_flags"].split() else 0),
              f"{where}: columns {c} inconsistent with smaps")

    # Allocations: columns == sum of regions; summary == sum of allocations; total == sum of summary.
    types = {}
    for a in snap["allocations"]:
        s = {k: 0 for k in COLS}
        for r in a["regions"]:
            for k in COLS:
                s[k] += r["columns"][k]
        check(s == {k: a["columns"][k] for k in COLS}, f"allocation {a['start']}: columns != sum of regions")
        t = types.setdefault(a["type"], {"cols": {k: 0 for k in COLS}, "blocks": 0, "largest": 0, "regions": 0})
        for k in COLS:
            t["cols"][k] += a["columns"][k]
        t["blocks"] += 1
        t["largest"] = max(t["largest"], a["size"])
        t["regions"] += len(a["regions"])
    summary = {s["type"]: s for s in snap["summary"]}
    total = {k: 0 for k in COLS}
    for key, s in summary.items():
        if key != "free":
            for k in COLS:
                total[k] += s["columns"][k]
        if key in ("free", "page_table"):
            continue
        t = types.get(key, {"cols": {k: 0 for k in COLS}, "blocks": 0, "largest": 0, "regions": 0})
        for k in COLS:
            check(s["columns"][k] == t["cols"][k], f"summary {key}.{k} {s['columns'][k]} != sum of allocations {t['cols'][k]}")
        check(s["blocks"] == t["blocks"], f"summary {key}.blocks {s['blocks']} != {t['blocks']}")
        check(s["largest"] == t["largest"], f"summary {key}.largest {s['largest']} != {t['largest']}")
        check(s["regions"] == t["regions"], f"summary {key}.regions {s['regions']} != {t['regions']}")
    check(set(types) <= set(summary), f"allocation types {set(types) - set(summary)} missing from summary")
    for k in COLS:
        check(snap["total"][k] == total[k], f"total.{k} {snap['total'][k]} != sum of summary rows {total[k]}")
    free = summary.get("free", {"blocks": -1, "columns": {"size": -1}, "largest": -1})
    check(free["blocks"] == len(snap["free"]), f"free blocks {free['blocks']} != {len(snap['free'])} gaps")
    check(free["columns"]["size"] == sum(g["size"] for g in snap["free"]), "free size != sum of gaps")
    check(free["largest"] == max([g["size"] for g in snap["free"]] or [0]), "free largest != largest gap")
    pt = summary.get("page_table", {"columns": {k: 0 for k in COLS}})
    check(pt["columns"]["size"] == snap["status"]["vm_pte"], f"page_table size {pt['columns']['size']} != VmPTE {snap['status']['vm_pte']}")

    # Totals against smaps_rollup read while the process was stopped.
    for key in ["rss", "anonymous", "swap", "anon_huge_pages", "shared_hugetlb", "private_hugetlb"]:
        kname = KERNEL_NAME[key]
        got = sum(r["smaps"][key] for r in regions)
        check(got == rollup.get(kname), f"sum of regions' {kname} {got} != smaps_rollup {rollup.get(kname)}")
    check(snap["total"]["total_ws"] - pt["columns"]["total_ws"] == rollup["Rss"],
          f"total.total_ws {snap['total']['total_ws']} - page table {pt['columns']['total_ws']} != rollup Rss {rollup['Rss']}")
    check(snap["total"]["swap"] == rollup["Swap"], f"total.swap {snap['total']['swap']} != rollup Swap {rollup['Swap']}")
    pss_sum = sum(r["smaps"]["pss"] for r in regions)
    slack = 1024 * len(regions) + lib_rss
    check(rollup["Pss"] - slack <= pss_sum <= rollup["Pss"] + lib_rss,
          f"sum of region Pss {pss_sum} vs rollup Pss {rollup['Pss']} (allowed slack {slack})")
    jr = snap.get("rollup")
    if check(isinstance(jr, dict), "snapshot has no rollup"):
        for key in ["rss", "anonymous", "swap", "anon_huge_pages", "referenced"]:
            check(jr.get(key) == rollup.get(KERNEL_NAME[key]),
                  f"vmscope rollup.{key} {jr.get(key)} != smaps_rollup {rollup.get(KERNEL_NAME[key])}")
    print(f"[{label}] {len(regions)} regions ({n_exact} compared on every field, {n_lib} regions of "
          f"files other processes map too on sharing-independent fields)")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
