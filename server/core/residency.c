/* Page residency of a range of a live process (vmscope/pages.h): the PAGEMAP_SCAN ioctl where
 * the kernel has it (6.7+), whose answers are already ranges, plus pagemap entries for the
 * present pages only (the one bit the ioctl lacks: exclusively mapped); else pagemap entries
 * for every page of every accessible VMA of the range (8 bytes per page, slower). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "pages_internal.h"
#include "procfs.h"
#include "vmscope/error.h"
#include "vmscope/pages.h"

/* The PAGEMAP_SCAN ABI, from include/uapi/linux/fs.h of Linux 6.7+ (commit 52526ca7fdb9,
 * "fs/proc/task_mmu: implement IOCTL to get and optionally clear info about PTEs"); PAGE_IS_GUARD
 * from 6.15. Debian 12's headers predate it, so it is spelled out here. */
#ifndef PAGEMAP_SCAN
struct page_region {
	uint64_t start, end, categories;
};
struct pm_scan_arg {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages, category_inverted, category_mask,
	    category_anyof_mask, return_mask;
};
#define PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg)
#define PAGE_IS_WPALLOWED (1 << 0)
#define PAGE_IS_WRITTEN (1 << 1)
#define PAGE_IS_FILE (1 << 2)
#define PAGE_IS_PRESENT (1 << 3)
#define PAGE_IS_SWAPPED (1 << 4)
#define PAGE_IS_PFNZERO (1 << 5)
#define PAGE_IS_HUGE (1 << 6)
#define PAGE_IS_SOFT_DIRTY (1 << 7)
#endif
#ifndef PAGE_IS_GUARD
#define PAGE_IS_GUARD (1 << 8)
#endif

/* PROCMAP_QUERY (Linux 6.11+, include/uapi/linux/fs.h, commit ed5d583a88a9): which VMA holds an
 * address and its page size, to tell a hugetlb page from a THP (both are PAGE_IS_HUGE). */
struct vms_procmap_query {
	uint64_t size, query_flags, query_addr, vma_start, vma_end, vma_flags, vma_page_size, vma_offset,
	    inode;
	uint32_t dev_major, dev_minor, vma_name_size, build_id_size;
	uint64_t vma_name_addr, build_id_addr;
};
#define VMS_PROCMAP_QUERY _IOWR('f', 17, struct vms_procmap_query)
#define VMS_PROCMAP_COVERING_OR_NEXT 0x10 /* query_flags: the VMA at or after query_addr */
#define VMS_PROCMAP_VMA_SHARED 0x08       /* vma_flags */

/* pagemap entry bits (Documentation/admin-guide/mm/pagemap.rst) */
#define PM_PRESENT (1ull << 63)
#define PM_SWAP (1ull << 62)
#define PM_FILE (1ull << 61)
#define PM_GUARD (1ull << 58)
#define PM_EXCLUSIVE (1ull << 56)
#define PM_SOFT_DIRTY (1ull << 55)

#define SCAN_VEC 4096     /* ranges per ioctl */
#define ENTRY_CHUNK 65536 /* pagemap entries per pread (512 KiB) */
/* A live read of a range of at most LIVE_ANON_MAX_VMAS VMAs asks PROCMAP_QUERY which of them are
 * anonymous memory, and walks those of at least LIVE_ANON_MIN_BYTES without PAGE_IS_FILE. */
#define LIVE_ANON_MAX_VMAS 16
#define LIVE_ANON_MIN_BYTES (1ull << 20)
/* Present ranges closer than this share one pagemap read: a pread costs ~4 us, a page of
 * pagemap ~25 ns (docs/benchmarks.md, Residency). */
#define WINDOW_GAP_PAGES 128

static const char *const flag_names[] = {"present", "swapped", "file", "exclusive", "soft_dirty",
                                         "thp",     "hugetlb", "zero", "guard"};

const char *vms_page_flag_name(unsigned bit)
{
	return bit < sizeof flag_names / sizeof flag_names[0] ? flag_names[bit] : NULL;
}

void vms_page_flags_str(uint32_t flags, char *buf, size_t size)
{
	size_t n = 0;
	if (!size)
		return;
	buf[0] = '\0';
	for (unsigned i = 0; vms_page_flag_name(i); i++)
		if (flags & (1u << i)) {
			int w = snprintf(buf + n, size - n, "%s%s", n ? "," : "", flag_names[i]);
			if (w < 0 || (size_t)w >= size - n)
				return;
			n += (size_t)w;
		}
	if (!n)
		snprintf(buf, size, "none");
}

struct builder {
	struct vms_residency *r;
	size_t cap;
	int full; /* max_runs reached */
	size_t max_runs;
};

/* Append [start, end) with flags (and swap location), merging with the previous run when it
 * continues it. 0, -1 on ENOMEM, 1 when max_runs is reached (nothing appended). */
static int emit(struct builder *b, uint64_t start, uint64_t end, uint32_t flags, uint32_t swap_type,
                uint64_t swap_offset)
{
	struct vms_residency *r = b->r;
	if (r->n_runs && start < r->runs[r->n_runs - 1].end) /* never overlap a run already out */
		start = r->runs[r->n_runs - 1].end;
	if (start >= end || !flags)
		return 0;
	uint64_t pages = (end - start) / r->page_size;
	if (r->n_runs) {
		struct vms_page_run *p = &r->runs[r->n_runs - 1];
		int swap_ok =
		    !swap_offset || (p->swap_type == swap_type && p->swap_offset &&
		                     p->swap_offset + (p->end - p->start) / r->page_size == swap_offset);
		if (p->end == start && p->flags == flags && swap_ok &&
		    (p->swap_offset != 0) == (swap_offset != 0)) {
			p->end = end;
			goto count;
		}
	}
	if (b->max_runs && r->n_runs >= b->max_runs) {
		b->full = 1;
		return 1;
	}
	if (r->n_runs == b->cap) {
		size_t ncap = b->cap ? b->cap * 2 : 256;
		struct vms_page_run *g = realloc(r->runs, ncap * sizeof *g);
		if (!g)
			return -1;
		r->runs = g;
		b->cap = ncap;
	}
	r->runs[r->n_runs++] = (struct vms_page_run){
	    .start = start, .end = end, .flags = flags, .swap_type = swap_type, .swap_offset = swap_offset};
count:
	for (unsigned i = 0; i < 9; i++)
		if (flags & (1u << i))
			r->pages[i] += pages;
	return 0;
}

static uint32_t entry_flags(uint64_t e)
{
	uint32_t f = 0;
	if (e & PM_GUARD) /* a guard marker also sets the swap bit: test it first */
		return VMS_PG_GUARD;
	if (e & PM_PRESENT)
		f |= VMS_PG_PRESENT | (e & PM_EXCLUSIVE ? VMS_PG_EXCLUSIVE : 0);
	else if (e & PM_SWAP)
		f |= VMS_PG_SWAPPED;
	else
		return 0;
	if (e & PM_FILE)
		f |= VMS_PG_FILE;
	if (e & PM_SOFT_DIRTY)
		f |= VMS_PG_SOFT_DIRTY;
	return f;
}

/* Emit [start, end) page by page, all flags from pagemap entries (swap locations when wanted).
 * 0, -1 ENOMEM, 1 full, or -(errno + 2) for a failed read. */
static int emit_entries(struct builder *b, int fd, uint64_t start, uint64_t end, int swap_loc, uint64_t *ebuf)
{
	uint64_t ps = b->r->page_size;
	for (uint64_t a = start; a < end;) {
		uint64_t n = (end - a) / ps;
		if (n > ENTRY_CHUNK)
			n = ENTRY_CHUNK;
		ssize_t got = pread(fd, ebuf, n * 8, (off_t)(a / ps * 8));
		if (got < 0)
			return -(errno + 2);
		if (got == 0) /* the process exited: its mm is gone */
			return -(ESRCH + 2);
		n = (uint64_t)got / 8;
		for (uint64_t i = 0; i < n;) {
			uint64_t e = ebuf[i];
			if (!(e & (PM_PRESENT | PM_SWAP | PM_GUARD))) { /* no state: next */
				i++;
				continue;
			}
			uint32_t f = entry_flags(e);
			uint32_t st = 0;
			uint64_t so = 0;
			uint64_t j = i + 1;
			if (swap_loc && (f & VMS_PG_SWAPPED)) {
				st = (uint32_t)(e & 0x1f);
				so = (e >> 5) & ((1ull << 50) - 1);
			} else /* a run of pages with the same flags: one emit (swap locations go page by
			          page) */
				while (j < n && entry_flags(ebuf[j]) == f)
					j++;
			int rc = emit(b, a + i * ps, a + j * ps, f, st, so);
			if (rc)
				return rc;
			i = j;
		}
		a += n * ps;
	}
	return 0;
}

/* hugetlb or THP for a huge range at addr (PROCMAP_QUERY's page size of its VMA). */
static uint32_t huge_kind(int maps_fd, uint64_t addr, uint64_t ps, uint64_t *vma_start, uint64_t *vma_end,
                          uint32_t *kind)
{
	if (addr >= *vma_start && addr < *vma_end)
		return *kind;
	struct vms_procmap_query q;
	memset(&q, 0, sizeof q);
	q.size = sizeof q;
	q.query_addr = addr;
	*kind = VMS_PG_THP; /* without PROCMAP_QUERY (before 6.11): hugetlb is the rarer one */
	if (maps_fd >= 0 && ioctl(maps_fd, VMS_PROCMAP_QUERY, &q) == 0) {
		*vma_start = q.vma_start;
		*vma_end = q.vma_end;
		if (q.vma_page_size > ps)
			*kind = VMS_PG_HUGETLB;
	}
	return *kind;
}

static uint32_t scan_flags(uint64_t c)
{
	uint32_t f = 0;
	if (c & PAGE_IS_GUARD)
		return VMS_PG_GUARD;
	if (c & PAGE_IS_PRESENT)
		f |= VMS_PG_PRESENT;
	if (c & PAGE_IS_SWAPPED)
		f |= VMS_PG_SWAPPED;
	if (c & PAGE_IS_FILE)
		f |= VMS_PG_FILE;
	if (c & PAGE_IS_SOFT_DIRTY)
		f |= VMS_PG_SOFT_DIRTY;
	if (c & PAGE_IS_PFNZERO)
		f |= VMS_PG_ZERO;
	if (c & PAGE_IS_HUGE)
		f |= VMS_PG_THP; /* refined by huge_kind */
	return f;
}

/* 1 when [start, end) lies inside o's private ranges (smaps found no shared page there).
 * Queries come in address order: *cursor moves forward only. */
static int private_cover(const struct vms_residency_opts *o, size_t *cursor, uint64_t start, uint64_t end)
{
	const struct vms_addr_range *pr = o->private_ranges;
	size_t i = *cursor;
	while (i < o->n_private_ranges && pr[i].end <= start)
		i++;
	*cursor = i;
	return i < o->n_private_ranges && pr[i].start <= start && end <= pr[i].end;
}

/* The PAGEMAP_SCAN path. 0, -1 ENOMEM, 1 full, -(errno + 2); -(EINVAL + 2) before any range
 * means the ioctl is missing (older kernel). */
static int scan_ranges(struct builder *b, int fd, int maps_fd, const struct vms_residency_opts *o)
{
	struct vms_residency *r = b->r;
	uint64_t ps = r->page_size;
	struct page_region *vec = malloc(SCAN_VEC * sizeof *vec);
	uint64_t *ebuf = malloc(ENTRY_CHUNK * 8);
	uint64_t hs = 0, he = 0;
	uint32_t hk = 0;
	size_t pc = 0; /* private_cover's cursor */
	uint64_t guard = PAGE_IS_GUARD;
	int rc = 0;
	if (!vec || !ebuf) {
		rc = -1;
		goto out;
	}
	size_t ac = 0; /* the first of o->anon_ranges that may still matter */
	for (uint64_t at = r->start; at < r->end;) {
		/* The walk goes in segments: inside an anon range (smaps: every resident page anonymous)
		 * without PAGE_IS_FILE, which costs the kernel a struct page read per present page;
		 * elsewhere with it. */
		uint64_t seg_end = r->end, file = PAGE_IS_FILE;
		while (ac < o->n_anon_ranges && o->anon_ranges[ac].end <= at)
			ac++;
		if (ac < o->n_anon_ranges && o->anon_ranges[ac].start <= at) {
			file = 0;
			if (o->anon_ranges[ac].end < seg_end)
				seg_end = o->anon_ranges[ac].end;
		} else if (ac < o->n_anon_ranges && o->anon_ranges[ac].start < seg_end)
			seg_end = o->anon_ranges[ac].start;
		struct pm_scan_arg arg = {
		    .size = sizeof arg,
		    .start = at,
		    .end = seg_end,
		    .vec = (uint64_t)(uintptr_t)vec,
		    .vec_len = SCAN_VEC,
		    .category_anyof_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED | guard,
		    .return_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED | file | PAGE_IS_PFNZERO | PAGE_IS_HUGE |
		                   PAGE_IS_SOFT_DIRTY | guard,
		};
		long n = ioctl(fd, PAGEMAP_SCAN, &arg);
		if (n < 0 && errno == EINVAL && guard) { /* before 6.15: no PAGE_IS_GUARD */
			guard = 0;
			continue;
		}
		if (n < 0) {
			rc = -(errno + 2);
			goto out;
		}
		/* Emit this batch: present ranges get their exclusive bit from pagemap entries, read
		 * in windows that span nearby ranges. */
		for (long i = 0; i < n;) {
			uint32_t f = scan_flags(vec[i].categories);
			if (f & VMS_PG_THP)
				f = (f & ~(uint32_t)VMS_PG_THP) |
				    huge_kind(maps_fd, vec[i].start, ps, &hs, &he, &hk);
			int swap_loc = o->swap_offsets && (f & VMS_PG_SWAPPED);
			if ((!(f & VMS_PG_PRESENT) || o->no_exclusive) && !swap_loc) {
				if ((rc = emit(b, vec[i].start, vec[i].end, f, 0, 0)) != 0)
					goto out;
				i++;
				continue;
			}
			if (f & VMS_PG_ZERO) { /* the zero page is never exclusive */
				if ((rc = emit(b, vec[i].start, vec[i].end, f, 0, 0)) != 0)
					goto out;
				i++;
				continue;
			}
			if (!swap_loc && private_cover(o, &pc, vec[i].start, vec[i].end)) {
				/* smaps just found no shared page here: exclusive without a pagemap read */
				if ((rc = emit(b, vec[i].start, vec[i].end, f | VMS_PG_EXCLUSIVE, 0, 0)) != 0)
					goto out;
				r->exclusive_from_smaps += (vec[i].end - vec[i].start) / ps;
				i++;
				continue;
			}
			/* window: this range and the following present ones within WINDOW_GAP_PAGES */
			long j = i + 1;
			while (j < n && vec[j].start - vec[j - 1].end <= WINDOW_GAP_PAGES * ps &&
			       (vec[j].end - vec[i].start) / ps <= ENTRY_CHUNK &&
			       (vec[j].categories & (PAGE_IS_PRESENT | PAGE_IS_SWAPPED)) &&
			       !(vec[j].categories & (PAGE_IS_PFNZERO | PAGE_IS_GUARD)) &&
			       !(o->n_private_ranges && !o->swap_offsets &&
			         private_cover(o, &pc, vec[j].start, vec[j].end)))
				j++;
			uint64_t ws = vec[i].start, we = vec[j - 1].end;
			uint64_t cnt = (we - ws) / ps;
			ssize_t got = pread(fd, ebuf, cnt * 8, (off_t)(ws / ps * 8));
			if (got < 0) {
				rc = -(errno + 2);
				goto out;
			}
			if ((uint64_t)got != cnt * 8) {
				rc = -(ESRCH + 2);
				goto out;
			}
			for (long k = i; k < j; k++) {
				uint32_t fk = scan_flags(vec[k].categories);
				if (fk & VMS_PG_THP)
					fk = (fk & ~(uint32_t)VMS_PG_THP) |
					     huge_kind(maps_fd, vec[k].start, ps, &hs, &he, &hk);
				int sl = o->swap_offsets && (fk & VMS_PG_SWAPPED);
				for (uint64_t a = vec[k].start; a < vec[k].end; a += ps) {
					uint64_t e = ebuf[(a - ws) / ps];
					uint32_t ff = fk;
					if ((ff & VMS_PG_PRESENT) && (e & PM_EXCLUSIVE))
						ff |= VMS_PG_EXCLUSIVE;
					uint32_t st = 0;
					uint64_t so = 0;
					if (sl) {
						st = (uint32_t)(e & 0x1f);
						so = (e >> 5) & ((1ull << 50) - 1);
					}
					if ((rc = emit(b, a, a + ps, ff, st, so)) != 0)
						goto out;
				}
			}
			i = j;
		}
		/* Seen on 6.18: a call that returned ranges up to the end of the range still set
		 * walk_end below the last of them (and the next call returned them again). Go on from
		 * whichever is further. */
		uint64_t next = arg.walk_end;
		if (n > 0 && vec[n - 1].end > next)
			next = vec[n - 1].end;
		if (next <= at) { /* no progress: should not happen; do not spin */
			rc = -(EIO + 2);
			goto out;
		}
		at = next;
	}
out:
	free(vec);
	free(ebuf);
	return rc;
}

/* The fallback: pagemap entries of each VMA of the range that has any access (never of PROT_NONE
 * reservations, whose entries are all zero and may be huge). */
static int read_entries(struct builder *b, int dirfd, int fd, int swap_loc)
{
	struct vms_residency *r = b->r;
	struct vms_vma *v = NULL;
	size_t nv = 0;
	uint64_t *ebuf = malloc(ENTRY_CHUNK * 8);
	int rc = ebuf ? vms_pages_vmas(dirfd, r->start, r->end, &v, &nv) : VMS_ERR_NOMEM;
	if (rc) {
		rc = rc == VMS_ERR_NOMEM ? -1 : -(EIO + 2);
		goto out;
	}
	for (size_t i = 0; i < nv && !rc; i++) {
		if (!strncmp(v[i].perms, "---", 3))
			continue;
		uint64_t s = v[i].start > r->start ? v[i].start : r->start;
		uint64_t e = v[i].end < r->end ? v[i].end : r->end;
		rc = emit_entries(b, fd, s, e, swap_loc, ebuf);
	}
out:
	free(v);
	free(ebuf);
	return rc;
}

/* 1 for the name of an anonymous VMA (NUL-terminated): [heap], [stack], [anon:...]. The
 * kernel's special mappings ([vdso], [vvar], [uprobes], ...) have names too, and pages that
 * are no anonymous memory. */
static int anon_name(const char *name)
{
	return !strcmp(name, "[heap]") || !strncmp(name, "[stack", 6) || !strncmp(name, "[anon:", 6);
}

/* The anonymous memory among the VMAs of [start, end), for a live read (no smaps to prove it):
 * from PROCMAP_QUERY (6.11+), the private VMAs with no file behind them (device 0:0, inode 0)
 * and no name but anon_name's, clipped to the range and merged where adjacent, those of at
 * least LIVE_ANON_MIN_BYTES into out (room for LIVE_ANON_MAX_VMAS). Such a VMA has no vm_file
 * and no vm_ops: every page the kernel maps there is an anonymous page (or the zero page), so
 * the walk may leave PAGE_IS_FILE out (a struct page read per present page). Returns how many;
 * 0 when the range holds more than LIVE_ANON_MAX_VMAS VMAs (the queries would cost more than
 * they save) or the kernel lacks the query. Where a query fails the rest is left out. */
static size_t live_anon_ranges(int maps_fd, uint64_t start, uint64_t end, struct vms_addr_range *out)
{
	size_t k = 0;
	char name[128];
	for (unsigned n = 0; start < end && maps_fd >= 0; n++) {
		if (n == LIVE_ANON_MAX_VMAS)
			return 0;
		struct vms_procmap_query q;
		memset(&q, 0, sizeof q);
		q.size = sizeof q;
		q.query_flags = VMS_PROCMAP_COVERING_OR_NEXT;
		q.query_addr = start;
		q.vma_name_size = sizeof name;
		q.vma_name_addr = (uint64_t)(uintptr_t)name;
		if (ioctl(maps_fd, VMS_PROCMAP_QUERY, &q) != 0 || q.vma_start >= end || q.vma_end <= start)
			break; /* ENOENT past the last VMA; ENAMETOOLONG, or no PROCMAP_QUERY (< 6.11) */
		uint64_t s = q.vma_start > start ? q.vma_start : start;
		uint64_t e = q.vma_end < end ? q.vma_end : end;
		if (!q.inode && !q.dev_major && !q.dev_minor && !(q.vma_flags & VMS_PROCMAP_VMA_SHARED) &&
		    (!q.vma_name_size || (name[sizeof name - 1] = '\0', anon_name(name)))) {
			if (k && out[k - 1].end == s)
				out[k - 1].end = e;
			else
				out[k++] = (struct vms_addr_range){s, e};
		}
		start = q.vma_end;
	}
	size_t kept = 0;
	for (size_t i = 0; i < k; i++)
		if (out[i].end - out[i].start >= LIVE_ANON_MIN_BYTES)
			out[kept++] = out[i];
	return kept;
}

/* 1 when this kernel tracks soft-dirty bits (CONFIG_MEM_SOFT_DIRTY and an architecture that
 * has the PTE bit): a page of our own stack just written shows pagemap bit 55. Without it the
 * bit is never set, and a residency that claimed to know it would show every page clean. */
static pthread_once_t soft_dirty_once = PTHREAD_ONCE_INIT;
static int soft_dirty_on;

static void probe_soft_dirty(void)
{
	volatile unsigned char probe[1];
	probe[0] = 1;
	uint64_t e = 0;
	long psz = sysconf(_SC_PAGESIZE);
	uint64_t ps = psz > 0 ? (uint64_t)psz : 4096;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t got = pread(fd, &e, sizeof e, (off_t)((uintptr_t)probe / ps * 8));
	close(fd);
	soft_dirty_on = got == (ssize_t)sizeof e && (e & PM_PRESENT) && (e & PM_SOFT_DIRTY);
}

/* The kernel's answer does not change while we run: probed once. */
static int soft_dirty_tracked(void)
{
	pthread_once(&soft_dirty_once, probe_soft_dirty);
	return soft_dirty_on;
}

static uint64_t user_top(uint64_t ps)
{
#if defined(__x86_64__)
	return (1ull << 47) - ps; /* 4-level paging; LA57 mappings above are not looked at */
#elif defined(__aarch64__) || defined(__riscv)
	return (1ull << 48) - ps;
#else
	return ((uint64_t)(uintptr_t)-1 & ~(ps - 1)) - ps;
#endif
}

int vms_residency_read(pid_t pid, uint64_t start, uint64_t end, const struct vms_residency_opts *opts,
                       struct vms_residency *out)
{
	static const struct vms_residency_opts none;
	const struct vms_residency_opts *o = opts ? opts : &none;
	char path[32];
	int dirfd = -1, fd = -1, maps_fd = -1, err = VMS_OK;
	long psz = sysconf(_SC_PAGESIZE);
	uint64_t ps = psz > 0 ? (uint64_t)psz : 4096;

	memset(out, 0, sizeof *out);
	out->page_size = ps;
	out->start = start & ~(ps - 1);
	out->end = end ? (end + ps - 1) & ~(ps - 1) : user_top(ps);
	if (out->start >= out->end || pid <= 0)
		return VMS_ERR_INVALID;
	snprintf(path, sizeof path, "/proc/%d", (int)pid);
	if ((dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return vms_procfs_err(errno, 0);
	if ((fd = openat(dirfd, "pagemap", O_RDONLY | O_CLOEXEC)) < 0) {
		err = errno == ESRCH ? VMS_ERR_NO_ADDRESS_SPACE : vms_procfs_err(errno, 1);
		goto out;
	}
	struct builder b = {.r = out, .max_runs = o->max_runs};
	int rc = -(EINVAL + 2);
	uint32_t no_sd = soft_dirty_tracked() ? 0 : VMS_PG_SOFT_DIRTY;
	if (!o->force_pagemap) {
		maps_fd = openat(dirfd, "maps", O_RDONLY | O_CLOEXEC);
		out->method = VMS_RES_PAGEMAP_SCAN;
		out->known = VMS_PG_ALL & ~(uint32_t)(o->no_exclusive ? VMS_PG_EXCLUSIVE : 0) & ~no_sd;
		struct vms_residency_opts live;
		struct vms_addr_range anon[LIVE_ANON_MAX_VMAS];
		if (!o->anon_ranges) { /* no smaps to prove it: ask the VMAs */
			live = *o;
			live.anon_ranges = anon;
			live.n_anon_ranges = live_anon_ranges(maps_fd, out->start, out->end, anon);
			o = &live;
		}
		rc = scan_ranges(&b, fd, maps_fd, o);
		if (rc == -(EINVAL + 2) || rc == -(ENOTTY + 2)) {
			if (out->n_runs) { /* EINVAL mid-walk is a real error, not a missing ioctl */
				err = VMS_ERR_IO;
				goto out;
			}
		} else
			goto done;
	}
	/* No PAGEMAP_SCAN (Linux < 6.7: ENOTTY) or asked for the fallback. */
	memset(out->pages, 0, sizeof out->pages);
	out->exclusive_from_smaps = 0;
	out->method = VMS_RES_PAGEMAP;
	out->known = VMS_PG_ALL & ~(uint32_t)(VMS_PG_THP | VMS_PG_HUGETLB | VMS_PG_ZERO) & ~no_sd;
	rc = read_entries(&b, dirfd, fd, o->swap_offsets);
done:
	if (rc == 1 || b.full) {
		out->truncated = 1;
		out->walk_end = out->n_runs ? out->runs[out->n_runs - 1].end : out->start;
		rc = 0;
	} else if (rc == 0)
		out->walk_end = out->end;
	if (rc == -1)
		err = VMS_ERR_NOMEM;
	else if (rc < 0)
		err = vms_procfs_err(-rc - 2, 1);
out:
	if (maps_fd >= 0)
		close(maps_fd);
	if (fd >= 0)
		close(fd);
	close(dirfd);
	if (err) {
		free(out->runs);
		memset(out, 0, sizeof *out);
	}
	return err;
}

void vms_residency_free(struct vms_residency *r)
{
	if (!r)
		return;
	free(r->runs);
	memset(r, 0, sizeof *r);
}

int vms_pages_may_attach(pid_t pid)
{
	char path[40];
	snprintf(path, sizeof path, "/proc/%d/mem", (int)pid);
	/* mem_open() checks PTRACE_MODE_ATTACH (and Yama) at open; nothing is read here. */
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ESRCH ? VMS_ERR_NO_ADDRESS_SPACE : vms_procfs_err(errno, 0);
	close(fd);
	return VMS_OK;
}
