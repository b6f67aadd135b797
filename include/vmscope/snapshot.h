/* The snapshot: one process's address space, classified the VMMap way.
 *
 * Ownership: a struct vms_snapshot owns every array and string reachable from it (they live in
 * its pool); vms_snapshot_free() releases all of it. Regions are sorted by start address and do
 * not overlap. Every region belongs to exactly one allocation; an allocation is a contiguous
 * run of regions [first_region, first_region + n_regions). Free gaps are not regions. */
#ifndef VMSCOPE_SNAPSHOT_H
#define VMSCOPE_SNAPSHOT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vmscope/error.h"
#include "vmscope/types.h"

#define VMS_FORMAT_VERSION 1

/* Known VmFlags mnemonics we act on, as bits of vms_region.vm_flag_bits. */
enum vms_vmflag {
	VMS_VMF_RD = 1u << 0,
	VMS_VMF_WR = 1u << 1,
	VMS_VMF_EX = 1u << 2,
	VMS_VMF_SH = 1u << 3,
	VMS_VMF_GD = 1u << 4,  /* grows down (main stack) */
	VMS_VMF_LO = 1u << 5,  /* mlocked */
	VMS_VMF_AC = 1u << 6,  /* VM_ACCOUNT: charged to commit */
	VMS_VMF_NR = 1u << 7,  /* MAP_NORESERVE */
	VMS_VMF_HT = 1u << 8,  /* hugetlb */
	VMS_VMF_NH = 1u << 9,  /* no THP (MAP_STACK implies it since 6.8) */
	VMS_VMF_HG = 1u << 10, /* MADV_HUGEPAGE */
	VMS_VMF_GU = 1u << 11, /* may contain MADV_GUARD_INSTALL guards (6.15+) */
	VMS_VMF_PF = 1u << 12,
	VMS_VMF_IO = 1u << 13,
	VMS_VMF_DD = 1u << 14,
};
/* Parse a VmFlags value ("rd wr mr ..."); unknown mnemonics are ignored. */
unsigned vms_vmflags_parse(const char *text, size_t len);

/* One VMA: the maps header plus every smaps field. */
struct vms_region {
	uint64_t start, end; /* [start, end) */
	char perms[5];       /* "rw-p", NUL-terminated */
	uint64_t offset;     /* file offset in bytes */
	unsigned dev_major, dev_minor;
	uint64_t inode;
	const char
	    *path; /* unescaped pathname or pseudo name ("[heap]"), without " (deleted)"; NULL if anonymous */
	int deleted;                  /* the kernel appended " (deleted)" */
	uint64_t smaps[VMS_SF_COUNT]; /* bytes; 0 when the key was missing */
	int thp_eligible;             /* 0/1, -1 when the key was missing */
	int protection_key;           /* -1 when the key was missing */
	const char *vm_flags;         /* VmFlags text as printed ("rd wr mr mw me ac"), "" when missing */
	unsigned vm_flag_bits;        /* enum vms_vmflag */

	/* Filled by classification. */
	enum vms_type type;  /* the type of the allocation that owns it */
	uint32_t allocation; /* index into vms_snapshot.allocations */
	const char
	    *role; /* sub-block role: "text", "data", "relro", "bss", "hole", "guard", "tail", "header", ...
	            * or NULL; VMS_ROLE_VIEW changes one column, see vms_region_columns() */
	uint64_t cols[VMS_COL_COUNT]; /* derived from smaps, see vms_region_columns() */
};

struct vms_allocation {
	uint64_t start, end;
	enum vms_type type;
	uint32_t first_region, n_regions;
	const char *
	    details; /* "/usr/lib/.../libc.so.6", "Thread ID: 123 (worker)", "[heap]", "arena", ... or NULL */
	int tid;     /* thread id for a matched thread stack, else 0 */
	uint64_t cols[VMS_COL_COUNT]; /* sum over its regions */
	/* Filled by the attribution stage (recognisers, server/core/recognisers/): */
	const char *owner; /* key of the recogniser that named it ("hotspot", "go", "glibc", ...);
	                    * NULL when the classifier's own rules named it */
	const char
	    *signal; /* which signal said so ("hsperfdata", "heap_info read", "geometry", ...) or NULL */
	int guess;   /* 1: named from weak evidence (geometry alone); details say "(guess)" too */
};

/* A sub-block of an allocation that its owner's own size fields or geometry delimit (a chunk
 * or arena inside a VMA the kernel merged from several objects). An annotation only: it has no
 * columns, because a page's working set belongs to its region, not to a guessed sub-range.
 * Parts of one allocation are sorted by start, do not overlap and lie inside it. */
struct vms_part {
	uint64_t start, end;
	uint32_t allocation; /* index into vms_snapshot.allocations */
	const char *details; /* "glibc mmapped chunk", "pymalloc arena #14", ... */
};

/* One recogniser of the attribution stage, as it ran on this snapshot. */
struct vms_recogniser_run {
	const char *key;  /* "hotspot" */
	uint32_t claimed; /* allocations it named */
	int read_memory;  /* 1 when it read the target's memory (process_vm_readv) */
	const char *note; /* what it found or why it stopped ("JVM 17, G1, hsperfdata"), or NULL */
};

struct vms_gap {
	uint64_t start, end;
};

struct vms_thread {
	int tid;
	const char *name;       /* comm */
	uint64_t sp;            /* stack pointer from task/TID/syscall, 0 when unknown */
	int stack_allocation;   /* index into allocations, -1 when not matched */
	const char *stack_note; /* when stack_allocation is -1: why, and where the thread runs
	                         * ("runs on a goroutine stack in the Go heap"); else NULL */
};

struct vms_type_summary {
	uint64_t cols[VMS_COL_COUNT];
	uint64_t blocks;  /* allocations of this type (Free: number of gaps) */
	uint64_t largest; /* size of the largest allocation (Free: largest gap) */
	uint64_t regions; /* VMAs of this type */
};

/* /proc/PID/status values (bytes), and smaps_rollup when read. */
struct vms_status {
	uint64_t vm_size, vm_rss, rss_anon, rss_file, rss_shmem, vm_swap, vm_pte, vm_lck, vm_hwm, vm_data,
	    vm_stk;
	int threads;
};

/* The byte-valued fields of struct vms_status with their /proc/PID/status name and JSON key, in
 * output order: one table for the parser, the exporters and the importer. */
struct vms_status_field {
	const char *kernel; /* "VmSize" */
	const char *key;    /* "vm_size" */
	size_t offset;      /* of the uint64_t in struct vms_status */
};
#define VMS_STATUS_NFIELDS 11
extern const struct vms_status_field vms_status_fields[VMS_STATUS_NFIELDS];
#define VMS_STATUS_FIELD(st, i) (*(const uint64_t *)((const char *)(st) + vms_status_fields[i].offset))

struct vms_arch {
	int bits;            /* 32 or 64; 0 unknown */
	const char *machine; /* "x86_64", "i386", "aarch64", ... or "unknown" */
};

struct vms_pool; /* string/array arena, private to the core */
struct vms_file_cache;

struct vms_snapshot {
	int format_version;
	pid_t pid, ppid;
	const char *name;    /* comm */
	const char *cmdline; /* argv joined with spaces; "" for none */
	const char *user;    /* user name (or numeric uid as text) */
	uid_t uid;
	uint64_t
	    start_time; /* field 22 of stat, clock ticks after boot: identifies the process with the pid */
	struct vms_arch arch;
	const char *host;    /* uname nodename */
	const char *kernel;  /* uname release */
	int64_t taken_at_ms; /* Unix time in milliseconds */
	uint64_t page_size;
	uint64_t mmap_min_addr;
	uint64_t user_top; /* end of the user address space used for Free */
	struct vms_status status;
	int has_rollup;
	uint64_t rollup[VMS_SF_COUNT]; /* smaps_rollup (bytes), when has_rollup */

	struct vms_region *regions;
	size_t n_regions;
	struct vms_allocation *allocations;
	size_t n_allocations;
	struct vms_gap *gaps;
	size_t n_gaps;
	struct vms_thread *threads;
	size_t n_threads;
	const char *thread_note;   /* why stacks lack thread ids (e.g. "task/TID/syscall: permission denied"),
	                              or NULL */
	uint64_t page_table_bytes; /* VmPTE */

	struct vms_type_summary summary[VMS_TYPE_COUNT];
	uint64_t total[VMS_COL_COUNT]; /* sum over all types except Free */
	unsigned malformed_lines;      /* /proc lines skipped as unparseable */

	/* The attribution stage: which recognisers ran and whether the target's memory was read. */
	struct vms_part *parts;
	size_t n_parts;
	struct vms_recogniser_run *recognisers;
	size_t n_recognisers;
	int peek;              /* memory reads: 1 allowed (and used when needed), 0 not
	                        * requested (--no-peek), -1 denied by the kernel */
	const char *peek_note; /* why reads were off or denied, or NULL */

	struct vms_pool *pool; /* owns all of the above */
};

struct vms_counters; /* vmscope/counters.h */

struct vms_snapshot_opts {
	int read_rollup;   /* also read smaps_rollup (default in CLI: yes) */
	int thread_stacks; /* read task/TID/syscall to attribute thread stacks (default yes) */
	int no_peek;       /* never read the target's memory: recognisers use geometry alone */
	struct vms_file_cache *file_cache; /* optional (vmscope/filecache.h): files recognisers read
	                                    * (ELF headers, hsperfdata) are cached across scans */
	/* Optional streaming hooks, for writers that work while smaps is still being read.
	 * on_begin: the header fields are set (identity, status, arch, host, taken_at, threads
	 * without stack_allocation); no regions yet. on_allocation: allocation index is complete
	 * (its regions, roles, columns; an Image's details carry their notes, and during the call
	 * s->parts holds the sections of the images so far, in allocation order, appended to
	 * from one call to the next; outside the calls a scan's s->parts is NULL until the
	 * attribution stage). user_top, gaps, summary, totals, rollup and thread
	 * attribution are final only when vms_snapshot_take returns. If the scan then fails, the
	 * hooks' output must be discarded. */
	void (*on_begin)(void *cookie, const struct vms_snapshot *s);
	void (*on_allocation)(void *cookie, const struct vms_snapshot *s, size_t index);
	/* When the attribution stage (after the last region) regroups or renames allocations,
	 * on_restart is called: what was streamed is stale, except that final allocation i is
	 * exactly what was streamed as allocation streamed_as[i] when that is >= 0 (same regions,
	 * type, details, tid, roles, parts), so a writer may reuse its text
	 * (vms_json_stream_external_allocation); -1: nothing can be reused.
	 * on_begin and on_allocation are then called again for the final allocations (n of them).
	 * streamed_as is valid until vms_snapshot_take returns. Required when on_allocation is set. */
	void (*on_restart)(void *cookie, const long *streamed_as, size_t n);
	void *cookie;
	/* Optional (vmscope capture): the text of each /proc file the scan parsed, exactly as it
	 * was read, so a capture holds what the snapshot was computed from. file is "stat",
	 * "status", "cmdline", "mountinfo", "smaps_rollup" or "smaps"; smaps comes in pieces, in
	 * order (concatenated they are the file). Called on the scanning threads, one at a time;
	 * text_cookie is passed. If the scan fails, the texts must be discarded. */
	void (*on_text)(void *text_cookie, const char *file, const char *buf, size_t len);
	void *text_cookie;
	/* Optional, for a caller that scans one process again and again (the daemon's sampler keeps
	 * one per watch): what rarely changes, kept between scans (vms_scan_memo_new below). Not
	 * used when on_text is set (that caller wants every file read). A scan with a memo spends
	 * the least CPU rather than finishing soonest: one thread reads smaps and parses it in
	 * turn (no reader thread and its wake-ups), and the files are not opened ahead while smaps
	 * is generated (that reads /proc/PID/maps too). */
	struct vms_scan_memo *memo;
	/* Optional out: the process's counters as this scan read them (vmscope/counters.h: stat's
	 * start_time, min_flt, maj_flt, state and threads, status' VmRSS and VmSwap), filled as soon
	 * as stat is read, so also when the scan fails later (start_time 0: stat was not read). For
	 * a caller that would read stat again for them. */
	struct vms_counters *counters;
};

/* What a scan of one process reads that rarely changes, kept between scans of it and read again
 * only when it changed (server/core/scan_memo.c):
 *  - the mount table's tmpfs devices (what makes a file mapping Shareable): read again when
 *    poll() on the /proc/PID/mountinfo kept open says a mount or unmount happened in its mount
 *    namespace (the kernel's mounts_poll), or when the process is in another mount namespace
 *    than the one kept (/proc/PID/ns/mnt), or when that cannot be told;
 *  - the user name of the process's uid (an NSS lookup), looked up again when the uid differs;
 *  - a directory fd on /proc/PID (forgotten after a scan that failed: a reused pid is opened anew).
 * Holds two open fds. Used by one scan at a time; free with vms_scan_memo_free (accepts NULL).
 * NULL on ENOMEM. */
struct vms_scan_memo;
struct vms_scan_memo *vms_scan_memo_new(void);
void vms_scan_memo_free(struct vms_scan_memo *m);

/* Scan a live process. On success *out is a new snapshot (free with vms_snapshot_free); on
 * failure *out is NULL.
 * Errors: VMS_ERR_NO_SUCH_PROCESS, VMS_ERR_EXITED, VMS_ERR_PERMISSION, VMS_ERR_NO_ADDRESS_SPACE,
 * VMS_ERR_NOMEM, VMS_ERR_IO. opts may be NULL (defaults: both on). */
int vms_snapshot_take(pid_t pid, const struct vms_snapshot_opts *opts, struct vms_snapshot **out);

/* A snapshot from a saved /proc/PID/smaps text (`cat /proc/PID/smaps > f`, what bug reports
 * carry): its regions parsed, classified by the same classifier and recognisers as a scan,
 * but with no memory reads and no files (dirfd -1). What smaps cannot tell is left unknown and
 * said so, never invented: no threads (thread_note says why), no status (all 0, thread_note),
 * no smaps_rollup, no command line, pid 0, uid -1, taken_at_ms 0, host and kernel NULL, arch
 * from the addresses (machine x86_64 when [vsyscall] is mapped, else "unknown"), peek 0 with
 * peek_note. name (may be NULL) becomes the snapshot's name.
 * Returns VMS_OK with *out, VMS_ERR_NOMEM, or VMS_ERR_INVALID with why[] saying what is wrong
 * (not text, no region line, a /proc/PID/maps without smaps fields, mostly malformed lines). */
int vms_snapshot_from_smaps(const char *buf, size_t len, const char *name, struct vms_snapshot **out,
                            char *why, size_t why_len);

/* An empty snapshot with a pool, for importers and tests that fill it by hand. NULL on ENOMEM. */
struct vms_snapshot *vms_snapshot_new(void);
void vms_snapshot_free(struct vms_snapshot *s); /* accepts NULL */

/* Copy a string into the snapshot's pool; NULL on ENOMEM (or when s is NULL). */
const char *vms_snapshot_strdup(struct vms_snapshot *snap, const char *s);
const char *vms_snapshot_strndup(struct vms_snapshot *snap, const char *s, size_t n);
/* printf into the snapshot's pool: the text lives as long as the snapshot. A result longer
 * than 511 bytes is cut there. NULL on ENOMEM or an encoding error. */
const char *vms_snapshot_fmt(struct vms_snapshot *snap, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
const char *vms_snapshot_vfmt(struct vms_snapshot *snap, const char *format, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Allocate zeroed memory owned by the snapshot; NULL on ENOMEM. */
void *vms_snapshot_alloc(struct vms_snapshot *snap, size_t size);

/* Role of a region that is one of several mappings of the SAME object by this process (ZGC's
 * memfd java_heap at three views). The kernel counts a page mapped twice by one process in
 * Shared_Clean/Shared_Dirty although no other process maps it, so such a region's Shared WS
 * column is 0; every other column, and the region's smaps fields, are unchanged. */
#define VMS_ROLE_VIEW "view"

/* VMMap columns of one region from its smaps fields, perms, VmFlags and role (formulas in
 * docs/memory-types.md, "Columns"). */
void vms_region_columns(const struct vms_region *r, uint64_t cols[VMS_COL_COUNT]);

/* Recompute region columns, allocation sums, Free gaps (from mmap_min_addr/user_top),
 * the Page Table row and the per-type summary and totals from regions + allocations.
 * Used by importers (JSON, the store's packed blobs); the scanner's classifier computes columns
 * per allocation as it goes and only runs the second half (summary and totals). Returns VMS_OK or
 * VMS_ERR_INVALID when allocations do not tile the regions. */
int vms_snapshot_summarize(struct vms_snapshot *s);

/* What is at address addr. */
struct vms_lookup {
	int kind;         /* 0 = in a region, 1 = in a free gap, 2 = outside the user address space */
	long region;      /* index or -1 */
	long allocation;  /* index or -1 */
	long prev_region; /* neighbour below or -1 */
	long next_region; /* neighbour above or -1 */
	uint64_t gap_start, gap_end; /* when kind == 1 */
	uint64_t gap_fit;            /* when kind == 1: the largest mapping an mmap without MAP_FIXED
	                              * could place there: the gap less the kernel's stack guard gap
	                              * (VMS_STACK_GUARD_GAP) below a grows-down region above it */
	int gap_guard;               /* 1 when that guard was taken off */
};
/* Linux's default stack_guard_gap (mm/mmap.c: 256 pages, since 4.12; the stack_guard_gap= boot
 * parameter changes it): vm_unmapped_area() keeps this much free below a VM_GROWSDOWN VMA. */
#define VMS_STACK_GUARD_GAP (256u * 4096u)
void vms_snapshot_lookup(const struct vms_snapshot *s, uint64_t addr, struct vms_lookup *out);

/* Parse "0x7f00..." or "7f00..." (hex); returns VMS_OK or VMS_ERR_INVALID. */
int vms_parse_address(const char *text, uint64_t *out);

#endif
