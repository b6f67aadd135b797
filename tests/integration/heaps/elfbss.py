"""Where an ELF library's zero-fill (.bss) ends in a process, from the file's program headers.

Shared by tests/integration/test_heap_python.py and bench/image_total.py.
"""
import os
import struct

PAGE = os.sysconf("SC_PAGE_SIZE")


def elf_bss_end(path, data_region):
    """End address (page-rounded) of the zero-fill of the ELF's highest PT_LOAD, at the load
    bias of data_region (a snapshot region: the library's last file-backed one, "start" and
    "offset" in hex). None when the file is unreadable, not a 64-bit ELF, or data_region does not
    map that PT_LOAD's file part."""
    try:
        with open(path, "rb") as f:
            eh = f.read(64)
            if eh[:4] != b"\x7fELF" or eh[4] != 2:
                return None
            phoff, = struct.unpack_from("<Q", eh, 0x20)
            phentsize, phnum = struct.unpack_from("<HH", eh, 0x36)
            f.seek(phoff)
            ph = f.read(phentsize * phnum)
    except (OSError, struct.error):
        return None
    best = None
    for k in range(phnum):
        if len(ph) < (k + 1) * phentsize:
            break
        p_type, _flags, off, vaddr, _pa, filesz, memsz = struct.unpack_from("<IIQQQQQ", ph, k * phentsize)
        if p_type == 1 and (best is None or vaddr + memsz > best[1] + best[3]):
            best = (off, vaddr, filesz, memsz)
    if best is None:
        return None
    off, vaddr, filesz, memsz = best
    d_off, d_start = int(data_region["offset"], 16), int(data_region["start"], 16)
    if not (off & ~(PAGE - 1)) <= d_off < off + filesz:
        return None
    bias = d_start + off - vaddr - d_off
    return (bias + vaddr + memsz + PAGE - 1) // PAGE * PAGE
