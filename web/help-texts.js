// Hover help for memory types and columns: plain-text versions of docs/memory-types.md
// (keep the two in step). Keys are the snake_case keys of docs/snapshot-format.md.
// Values are plain strings, suitable for a title attribute.

export const TYPE_HELP = {
  image:
    'Programs and shared libraries loaded to run: code, read-only data, relocated data, writable data and ' +
    'the zero-filled .bss after it, plus [vdso]. Recognised as a run of regions of one file that contains ' +
    'executable code or starts with the ELF magic; the run includes its ---p alignment holes.',
  mapped_file:
    'Any other file mapped into memory: data files, databases, fonts, the locale archive, memory-mapped ' +
    'model weights, device files. Resident pages are page cache: shareable, and the kernel may drop ' +
    'clean ones at any time.',
  shareable:
    'Shared memory: memfd_create(), System V shared memory (/SYSV...), shared anonymous mappings ' +
    '(/dev/zero), POSIX shm_open() under /dev/shm, and shared hugetlb mappings.',
  heap:
    'Memory malloc() hands out: the brk heap ([heap]), the 64 MiB-aligned heaps of glibc\'s thread arenas ' +
    '("glibc arena 2, heap 1"), the large blocks glibc maps one by one ("glibc mmapped chunk", found by ' +
    'reading their headers), musl\'s mallocng groups and other allocators\' memory.',
  managed_heap:
    'Heaps of garbage-collected runtimes: the Java heap, Go arenas, V8 heap pages, .NET GC regions. Named ' +
    "by a recogniser from the runtime's own signals (hsperfdata, ELF notes, geometry, page headers); the " +
    'details say which signal, and "(guess)" when geometry alone named it.',
  stack:
    "The main thread's [stack] and each thread's stack with its guard page. Details name the thread when " +
    'its stack pointer could be read; stacks glibc keeps cached for reuse have no thread.',
  private_data:
    'Other memory private to the process: large malloc() blocks, anonymous mmap() from any library, JIT ' +
    'code, [anon:NAME] regions, private hugetlb mappings.',
  page_table:
    "The kernel's page tables for this process (VmPTE in /proc/PID/status): memory the kernel spends to " +
    'map the process. One synthetic row without an address; Pss and Uss left at 0.',
  kernel:
    'Pages the kernel provides to every process: [vvar] and [vvar_vclock] (data for fast clock_gettime) ' +
    'and the legacy [vsyscall] page.',
  reserved:
    'Address space set aside with no access (PROT_NONE, ---p) that no other allocation owns, e.g. ' +
    'reservations by the JVM, V8, Go or sanitizers. Costs no memory, only address space.',
  free:
    'Unused address space between mappings, from mmap_min_addr to the top of the user address space. ' +
    'Blocks = number of gaps; Largest = the biggest mapping that could still be made.',
};

export const COLUMN_HELP = {
  size:
    'The address range, used or not (end - start). Reserving address space is free: this is not memory use.',
  committed:
    'Address space the process may touch without another mmap/mprotect: Size unless the permissions are ' +
    '---. Linux commits lazily, so this is an upper bound, not a charge.',
  private:
    'Commit-style private memory (VMMap\'s Private Bytes): what belongs to this process alone, counted ' +
    'whether it was touched or not, so an untouched 8 MiB thread stack counts 8 MiB. Private writable or ' +
    'accounted (ac) regions: Size; other private regions: Anonymous + Swap; shared and ---: 0. Its ' +
    'resident part is Private WS; the process list\'s RssAnon is another measure.',
  total_ws:
    'Working set: resident in RAM now (Rss + hugetlb pages). Pages shared with other processes count in ' +
    'full; use Pss to add processes up. The total includes the Page Table row, so it is ps RSS (VmRSS) + ' +
    'VmPTE.',
  private_ws:
    'Resident pages only this process can use (its own anonymous pages): Total WS - Shareable WS. The ' +
    'resident part of Private.',
  shareable_ws:
    'Resident pages that could be shared: file pages and shared memory, even if no one else maps them ' +
    'now. max(Shared WS, Rss - Anonymous + Shared_Hugetlb).',
  shared_ws:
    'Resident pages another process maps right now: Shared_Clean + Shared_Dirty + Shared_Hugetlb. After ' +
    'fork() this includes anonymous pages not yet copied. 0 for a region with the role "view" (one of ' +
    'several mappings of one object by this process, such as ZGC\'s heap views).',
  locked_ws:
    'Resident memory locked in RAM with mlock/mlockall/MAP_LOCKED (VmFlags lo): it cannot be swapped out.',
  pss:
    'Proportional set size: resident memory with each shared page divided by the number of processes ' +
    'mapping it. Sums over processes without double counting.',
  uss:
    'Unique set size: resident pages mapped by this process only (Private_Clean + Private_Dirty). About ' +
    'what exiting would free.',
  swap:
    'Memory of this region currently in swap. For shared memory it includes swapped pages of the whole ' +
    'shared object range.',
  swap_pss: 'Swap divided among the processes sharing it, like Pss (smaps SwapPss).',
  dirty:
    'Resident pages modified since they were read or created (Shared_Dirty + Private_Dirty): they must ' +
    'be written to their file or to swap before the RAM can be reused.',
  blocks:
    'Number of allocations of this type. Free: number of gaps. Page Table: 1.',
  largest:
    "Size of the type's largest allocation. Free: the largest gap, the biggest mapping that can still succeed.",
  regions: 'Number of kernel VMAs (lines of /proc/PID/maps) of this type.',
  protection:
    'Permissions: r read, w write, x execute, then p private (copy-on-write) or s shared. An allocation ' +
    'with several lists them joined by /.',
  details:
    'What the allocation is: file path ("(deleted)" if the file was removed), thread ID and name, ' +
    'the heap or runtime object a recogniser found (Java heap, Go arena, V8 page, glibc arena N heap M, ' +
    'pymalloc arena ...) and the signal that named it. "(guess)" marks a name from geometry alone.',
};

// The hover text of key in one of these maps (or EXTRA_HELP in columns.js), or null when it has
// none. A value is a plain string; an object's text/help/long/short is taken too.
export function helpText(map, key) {
  const h = map && map[key];
  if (!h) return null;
  if (typeof h === 'string') return h;
  return h.text || h.help || h.long || h.short || null;
}
