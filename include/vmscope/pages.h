/* Inside the pages of a live process (issue 14): which pages of a range are in RAM (residency
 * runs), the strings in a range, and asking the kernel to page a range out (trim).
 *
 * Permissions are the kernel's, checked as the calling process:
 * - residency opens /proc/PID/pagemap, which needs PTRACE_MODE_READ (the same right as smaps).
 *   It never reports page frame numbers; swap locations only when asked and when the kernel
 *   gives them (it zeroes them without CAP_SYS_ADMIN, as it does PFNs, since Linux 5.14).
 * - strings reads memory with process_vm_readv, only after vms_pages_may_attach() said the
 *   caller has ptrace-attach rights (PTRACE_MODE_ATTACH, Yama included); only pages resident
 *   in RAM are read (never faulting anything in), unreadable ranges are skipped.
 * - trim uses process_madvise(MADV_PAGEOUT) on a pidfd, behind the same attach check.
 * Core (libc only): nothing here prints, logs or stores; the daemon logs and rate-limits. */
#ifndef VMSCOPE_PAGES_H
#define VMSCOPE_PAGES_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* An address range [start, end). */
struct vms_addr_range {
	uint64_t start, end;
};

/* Page states, as bits of a run (several may be set). */
enum vms_page_flag {
	VMS_PG_PRESENT = 1u << 0,    /* in RAM and mapped by the process */
	VMS_PG_SWAPPED = 1u << 1,    /* in swap (anonymous or shmem page) */
	VMS_PG_FILE = 1u << 2,       /* page-cache page of a file, or shared anonymous (shmem) */
	VMS_PG_EXCLUSIVE = 1u << 3,  /* present and mapped by this process only (pagemap bit 56) */
	VMS_PG_SOFT_DIRTY = 1u << 4, /* written since the last clear_refs "4" (bit 55) */
	VMS_PG_THP = 1u << 5,        /* part of a PMD-mapped transparent huge page */
	VMS_PG_HUGETLB = 1u << 6,    /* a hugetlbfs page */
	VMS_PG_ZERO = 1u << 7,       /* the shared zero page (read but never written; not in Rss) */
	VMS_PG_GUARD = 1u << 8,      /* a MADV_GUARD_INSTALL guard page (6.15+) */
};
#define VMS_PG_ALL 0x1ffu

/* One run of pages with the same flags. Pages between runs have no state: never touched,
 * dropped, or not mapped at all. */
struct vms_page_run {
	uint64_t start, end;  /* [start, end), page aligned */
	uint32_t flags;       /* enum vms_page_flag */
	uint32_t swap_type;   /* swapped runs with swap locations only: swap area index */
	uint64_t swap_offset; /* of the run's first page, in pages; 0 = not known. A run's pages are
	                       * consecutive in swap (runs are split where they are not). */
};

enum vms_residency_method {
	VMS_RES_PAGEMAP_SCAN = 1, /* the PAGEMAP_SCAN ioctl (Linux 6.7+): ranges at once */
	VMS_RES_PAGEMAP = 2,      /* reading pagemap entries, 8 bytes per page: slower, and cannot
	                           * tell THP, hugetlb or the zero page */
};

struct vms_residency_opts {
	int force_pagemap; /* use the pagemap fallback even where PAGEMAP_SCAN works */
	int swap_offsets;  /* report where swapped pages are (needs CAP_SYS_ADMIN; else 0) */
	size_t max_runs;   /* stop after this many runs (truncated = 1); 0 = no limit */
	/* PAGEMAP_SCAN only: leave out VMS_PG_EXCLUSIVE, the one state the ioctl lacks, and with it
	 * the pagemap reads of the present ranges (one pread per island of resident pages: a
	 * sparse region costs several times the ioctl; docs/benchmarks.md, Residency) */
	int no_exclusive;
	/* PAGEMAP_SCAN only: ranges (sorted, non-overlapping) where smaps, read just before, found
	 * no page mapped by anyone else (Shared_Clean + Shared_Dirty 0): their present pages are
	 * exclusive without reading pagemap (zero pages stay not exclusive). From a snapshot's
	 * regions: vms_residency_private_ranges. NULL: read the bit for every present page. */
	const struct vms_addr_range *private_ranges;
	size_t n_private_ranges;
	/* PAGEMAP_SCAN only: ranges (sorted, non-overlapping) of anonymous private regions where
	 * smaps, read just before, found every resident page anonymous (Anonymous == Rss): no page
	 * there is a file page, so the ioctl walks them without asking PAGE_IS_FILE, which costs the
	 * kernel a struct page read per present page (docs/benchmarks.md, Residency). From a
	 * snapshot's regions: vms_residency_anon_ranges. NULL: ask the kernel everywhere. */
	const struct vms_addr_range *anon_ranges;
	size_t n_anon_ranges;
};

struct vms_residency {
	uint64_t start, end; /* the range asked for, page aligned outward */
	uint64_t page_size;
	int method;     /* enum vms_residency_method */
	uint32_t known; /* flags this method can report (the fallback lacks THP/HUGETLB/ZERO; both lack
	                 * SOFT_DIRTY where the kernel does not track it: CONFIG_MEM_SOFT_DIRTY) */
	int truncated;  /* max_runs reached: runs cover [start, walk_end) only */
	uint64_t walk_end;
	struct vms_page_run *runs; /* in address order, non-overlapping; free with vms_residency_free */
	size_t n_runs;
	uint64_t pages[9];             /* pages per flag bit (bit i of enum vms_page_flag) within the runs */
	uint64_t exclusive_from_smaps; /* pages marked exclusive from private_ranges, not pagemap */
};

/* Page states of [start, end) in process pid (end 0 = the whole user address space).
 * Returns VMS_OK, VMS_ERR_NO_SUCH_PROCESS, VMS_ERR_EXITED (or a zombie / kernel thread:
 * VMS_ERR_NO_ADDRESS_SPACE), VMS_ERR_PERMISSION (no ptrace-read right), VMS_ERR_INVALID
 * (start >= end), VMS_ERR_NOMEM, VMS_ERR_IO. On failure *out is cleared. */
int vms_residency_read(pid_t pid, uint64_t start, uint64_t end, const struct vms_residency_opts *opts,
                       struct vms_residency *out);
void vms_residency_free(struct vms_residency *r);
/* ---- residency kept with a snapshot (residency_pack.c) --------------------------------------- */

struct vms_snapshot;

/* Run-length encoded residency, the form a stored snapshot keeps (format below, versioned by its
 * first bytes "RS" + version; a decoder for every version ever written stays):
 *   "RS" 1, varints: page_size, method, known, flags (1 truncated), start, end, walk_end,
 *   n_runs, exclusive_from_smaps, then per run: gap in pages from the previous run's end (the first: from
 * start), length in pages, page flags. Swap locations are never kept. At most max_bytes (>=
 * VMS_RESIDENCY_MIN_BYTES): past it the runs stop, the result says truncated and walk_end is the end of the
 * last run kept; nothing is dropped silently. *out is malloc'd. VMS_OK, VMS_ERR_INVALID (max_bytes too
 * small), VMS_ERR_NOMEM. */
#define VMS_RESIDENCY_MIN_BYTES 256u
int vms_residency_encode(const struct vms_residency *r, size_t max_bytes, unsigned char **out, size_t *len);
#define VMS_RESIDENCY_DEFAULT_BYTES (1u << 20) /* per snapshot, unless asked otherwise */
#define VMS_RESIDENCY_MAX_BYTES (16u << 20)

/* The residency of the whole address space of process pid, read right after it was scanned into
 * s (s's smaps give the private ranges), encoded within max_bytes (vms_residency_encode). *info,
 * when given, gets what was kept, decoded (free it with vms_residency_free).
 * Errors as vms_residency_read / vms_residency_encode. */
int vms_residency_snapshot(pid_t pid, const struct vms_snapshot *s, size_t max_bytes, unsigned char **out,
                           size_t *len, struct vms_residency *info);

/* Decode into *out (runs malloc'd; pages[] counted again). VMS_OK, VMS_ERR_IO when buf is not a
 * residency this or an older vmscope wrote, VMS_ERR_NOMEM. */
int vms_residency_decode(const unsigned char *buf, size_t len, struct vms_residency *out);
/* Keep only [start, end) of r: runs outside dropped, runs across the edges cut, pages[] counted
 * again, r->start/end/walk_end narrowed (a range outside r leaves no runs). */
void vms_residency_clip(struct vms_residency *r, uint64_t start, uint64_t end);

/* The regions of snapshot s where smaps found no page shared with anyone (Shared_Clean and
 * Shared_Dirty 0) and that are no PFN/IO mapping, merged where adjacent: the private_ranges of
 * vms_residency_opts for a residency read right after the scan. *out malloc'd (NULL when none).
 * VMS_OK or VMS_ERR_NOMEM. */
int vms_residency_private_ranges(const struct vms_snapshot *s, struct vms_addr_range **out, size_t *n);

/* The regions of snapshot s with no file behind them (inode 0), private, no PFN/IO mapping,
 * whose smaps counts every resident page anonymous (Anonymous == Rss > 0), merged where adjacent;
 * merged ranges holding less than min_rss bytes resident are left out (walking them apart costs
 * more than it saves): the anon_ranges of vms_residency_opts. *out malloc'd (NULL when none).
 * VMS_OK or VMS_ERR_NOMEM. */
int vms_residency_anon_ranges(const struct vms_snapshot *s, uint64_t min_rss, struct vms_addr_range **out,
                              size_t *n);
#define VMS_RESIDENCY_ANON_MIN_RSS (256u << 10) /* ~64 pages: ~100 ns saved each, ~5 us a split */

/* "present,file,exclusive" for flags into buf (truncated to size); "none" for 0. */
void vms_page_flags_str(uint32_t flags, char *buf, size_t size);
/* Short stable name of flag bit i ("present", "swapped", ...), NULL past the last. */
const char *vms_page_flag_name(unsigned bit);

/* 0 when the caller may attach to pid (opening /proc/PID/mem: PTRACE_MODE_ATTACH, Yama
 * included); else VMS_ERR_PERMISSION / VMS_ERR_NO_SUCH_PROCESS / VMS_ERR_NO_ADDRESS_SPACE. */
int vms_pages_may_attach(pid_t pid);

/* "START-END" (hex, 0x optional; END exclusive) or "ADDR" (then *end = 0). VMS_OK or
 * VMS_ERR_INVALID (also for START >= END). */
int vms_parse_range(const char *text, uint64_t *start, uint64_t *end);

/* The VMA of pid holding addr: [*start, *end). VMS_ERR_NOT_FOUND when no VMA holds it. */
int vms_pages_vma_at(pid_t pid, uint64_t addr, uint64_t *start, uint64_t *end);

/* ---- strings -------------------------------------------------------------------------------- */

enum vms_string_enc { VMS_STR_ASCII = 1, VMS_STR_UTF16LE = 2 };

struct vms_string {
	uint64_t addr;  /* of its first byte in the target */
	uint32_t chars; /* length in characters (UTF-16: code units) */
	uint8_t enc;    /* enum vms_string_enc */
	char *text;     /* NUL-terminated; UTF-16 strings are printable ASCII code units only */
};

struct vms_strings_opts {
	unsigned min_chars;   /* 0 = 8 */
	unsigned max_chars;   /* longer strings are cut (and continue as a new one); 0 = 1024 */
	unsigned encodings;   /* VMS_STR_ASCII | VMS_STR_UTF16LE; 0 = both */
	uint64_t max_bytes;   /* read at most this many resident bytes; 0 = 16 MiB */
	const char *contains; /* keep only strings containing this (ASCII case-insensitive) */
	size_t offset, limit; /* page of the matches: skip offset, keep limit (0 = all) */
};

struct vms_strings {
	struct vms_string *v; /* the requested page of matches, in address order (ASCII first at
	                       * equal addresses) */
	size_t n;
	size_t total;           /* all matches in what was read */
	uint64_t bytes_read;    /* resident bytes read */
	uint64_t bytes_skipped; /* bytes of the range not read: not resident, unreadable, or
	                         * past max_bytes */
	int truncated;          /* max_bytes stopped the read before end */
	uint64_t read_end;      /* the read covered [start, read_end) */
};

/* Strings in [start, end) of pid. The caller must have checked vms_pages_may_attach (the kernel
 * refuses process_vm_readv without attach rights anyway: VMS_ERR_PERMISSION). Reads only pages
 * present in RAM (residency), at most max_bytes, a page at a time where a read fails. */
int vms_strings_read(pid_t pid, uint64_t start, uint64_t end, const struct vms_strings_opts *opts,
                     struct vms_strings *out);
/* The same scanner on a buffer that sits at address base (tests, saved memory). Matches are
 * appended to out (all of them: offset/limit/contains are applied by vms_strings_read). A
 * string running to the end of buf is cut there. 0 or VMS_ERR_NOMEM. */
int vms_strings_scan(const unsigned char *buf, size_t len, uint64_t base, const struct vms_strings_opts *opts,
                     struct vms_strings *out);
void vms_strings_free(struct vms_strings *s);

/* ---- trim ----------------------------------------------------------------------------------- */

/* Memory totals of the VMAs overlapping a range, from smaps (bytes). */
struct vms_mem_figure {
	uint64_t rss, anonymous, file, swap, pss;
};

struct vms_trim {
	struct vms_mem_figure before, after;
	uint64_t advised;     /* bytes the kernel accepted advice for (process_madvise's result) */
	size_t vmas, skipped; /* VMAs advised; VMAs skipped (locked, hugetlb, PFN maps, no access) */
};

/* Rss etc. of the VMAs overlapping [start, end) of pid (end 0 = all), summed from smaps. */
int vms_mem_figure_read(pid_t pid, uint64_t start, uint64_t end, struct vms_mem_figure *out);

/* Ask the kernel to page out [start, end) of pid (end 0 = every VMA): process_madvise(pidfd,
 * MADV_PAGEOUT) over each VMA it may advise, with smaps figures before and after. Anonymous
 * pages go to swap only when swap exists; clean file pages are dropped; dirty, locked and
 * shared-with-others pages stay. The caller checks vms_pages_may_attach first; the kernel also
 * wants CAP_SYS_NICE for another process (VMS_ERR_PERMISSION otherwise). VMS_ERR_UNSUPPORTED
 * before Linux 5.10. */
int vms_trim(pid_t pid, uint64_t start, uint64_t end, struct vms_trim *out);

/* ---- working set over an interval ---------------------------------------------------------- */

/* One VMA's pages touched in the interval. */
struct vms_ws_vma {
	uint64_t start, end;
	uint64_t rss, referenced; /* bytes, smaps after the interval */
};

struct vms_working_set {
	struct vms_ws_vma *v; /* the VMAs overlapping the range, in address order; free with
	                       * vms_working_set_free */
	size_t n;
	uint64_t rss, referenced; /* sums */
	unsigned seconds;
};

/* Which pages the process touches in `seconds`: write "1" to /proc/PID/clear_refs (the kernel
 * clears the referenced/young bit of every page of the process: this PERTURBS its reclaim, the
 * pages look idle to the kernel for a moment), wait, then read Referenced from smaps for the VMAs
 * overlapping [start, end) (end 0 = all). Writing clear_refs needs the process's owner (or
 * CAP_DAC_OVERRIDE ...): VMS_ERR_PERMISSION otherwise. Callers check vms_pages_may_attach first:
 * this changes the target like trim does. */
int vms_working_set(pid_t pid, uint64_t start, uint64_t end, unsigned seconds, struct vms_working_set *out);
void vms_working_set_free(struct vms_working_set *w);

#endif
