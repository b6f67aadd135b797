/* The attribution stage (contract in attribute.h): run the recognisers, then rebuild the
 * snapshot's allocations from their claims, and give every thread without a stack row a reason. */
#include "attribute.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "pool.h"
#include "scanfiles.h"
#include "snapshot_internal.h"
#include "vmscope/util.h"

#define PEEK_MAX 4096
#define PAGEMAP_BATCH 64

struct claim_rec {
	size_t first, n;
	struct vms_claim c;
	size_t first_part; /* parts of this claim: [first_part, first_part + n_parts) in a->parts */
	size_t n_parts;
};

struct vms_attr {
	struct vms_snapshot *s;
	long *claim_of; /* per region: claim id or -1 */
	/* regions with an absolute path, the first of each run of one file (built on first use) */
	struct file_region {
		size_t i;
		const char *base; /* its file name */
	} * files;
	size_t n_files;
	int files_built;
	unsigned char *role_set; /* per region: a recogniser set its role */
	long *same_as;           /* per final allocation: its index before attribution, or -1 */
	struct claim_rec *claims;
	size_t n_claims, cap_claims;
	struct vms_part *parts; /* allocation = claim id until the rebuild */
	size_t n_parts, cap_parts;
	const char **thread_notes; /* per thread */
	/* memory reads */
	int dirfd;
	pid_t pid;
	int pagemap_fd; /* -1 until first needed, -2 when unavailable */
	/* pagemap entries of PAGEMAP_BATCH pages from page pm_first (pm_n of them read): peeks
	 * walk memory page by page, one pread per page was most of a scan's system calls */
	uint64_t pm_first, pm[PAGEMAP_BATCH];
	size_t pm_n;
	vms_attr_reader reader; /* injected (tests) */
	void *reader_cookie;
	vms_attr_file_reader file_reader; /* injected (tests) */
	void *file_cookie;
	int read_now;        /* the running recogniser read memory */
	unsigned reads_left; /* the running recogniser's budgets (attribute.h) */
	unsigned file_reads_left;
	int budget_spent; /* ... and it ran out of one */
	/* the scan's files (scanfiles.h), shared with the classifier and the image-sections pass:
	 * several recognisers read the same image, and each file is opened once per scan */
	struct vms_scan_files *scan_files;
	int oom;
};

const struct vms_snapshot *vms_attr_snapshot(const struct vms_attr *a)
{
	return a->s;
}

int vms_attr_live(const struct vms_attr *a)
{
	return a->dirfd >= 0 && !a->reader && !a->file_reader;
}

const char *vms_attr_fmt(struct vms_attr *a, const char *format, ...)
{
	va_list ap;
	va_start(ap, format);
	const char *r = vms_snapshot_vfmt(a->s, format, ap);
	va_end(ap);
	if (!r)
		a->oom = 1;
	return r;
}

/* The regions with an absolute path, once per attribution: recognisers look for their images
 * many times, and a process may have 60,000 anonymous regions and a few hundred file ones. */
static void index_files(struct vms_attr *a)
{
	a->files_built = 1;
	a->files = malloc((a->s->n_regions ? a->s->n_regions : 1) * sizeof *a->files);
	if (!a->files)
		return; /* vms_attr_find_image walks every region instead */
	const char *prev = NULL;
	for (size_t i = 0; i < a->s->n_regions; i++) {
		const char *p = a->s->regions[i].path;
		if (!p || p[0] != '/' || (prev && (p == prev || !strcmp(p, prev))))
			continue; /* the next region of the same file: the first one answers */
		a->files[a->n_files++] = (struct file_region){.i = i, .base = strrchr(p, '/') + 1};
		prev = p;
	}
}

long vms_attr_find_image(const struct vms_attr *a, const char *prefix)
{
	struct vms_attr *m = (struct vms_attr *)a; /* the index is a cache, not a change */
	if (!m->files_built)
		index_files(m);
	size_t plen = strlen(prefix);
	if (a->files) {
		for (size_t k = 0; k < a->n_files; k++)
			if ((!plen || a->files[k].base[0] == prefix[0]) &&
			    !strncmp(a->files[k].base, prefix, plen))
				return (long)a->files[k].i;
		return -1;
	}
	for (size_t i = 0; i < a->s->n_regions; i++) {
		const char *p = a->s->regions[i].path;
		if (p && p[0] == '/' && !strncmp(strrchr(p, '/') + 1, prefix, plen))
			return (long)i;
	}
	return -1;
}

long vms_attr_region_at(const struct vms_attr *a, uint64_t addr)
{
	size_t lo = 0, hi = a->s->n_regions;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct vms_region *r = &a->s->regions[mid];
		if (addr < r->start)
			hi = mid;
		else if (addr >= r->end)
			lo = mid + 1;
		else
			return (long)mid;
	}
	return -1;
}

int vms_attr_claimed(const struct vms_attr *a, size_t i)
{
	return i < a->s->n_regions && a->claim_of[i] >= 0;
}

long vms_attr_claim(struct vms_attr *a, size_t first, size_t n, const struct vms_claim *c)
{
	const struct vms_region *R = a->s->regions;
	if (n == 0 || first >= a->s->n_regions || n > a->s->n_regions - first)
		return -1;
	for (size_t k = first; k < first + n; k++) {
		if (a->claim_of[k] >= 0)
			return -1;
		if (k > first && R[k].start != R[k - 1].end)
			return -1;
	}
	if (VMS_GROW(a->claims, a->n_claims, a->cap_claims, 64)) {
		a->oom = 1;
		return -1;
	}
	long id = (long)a->n_claims++;
	a->claims[id] = (struct claim_rec){.first = first, .n = n, .c = *c, .first_part = a->n_parts};
	for (size_t k = first; k < first + n; k++)
		a->claim_of[k] = id;
	return id;
}

unsigned vms_attr_claim_each(struct vms_attr *a, int (*wanted)(const struct vms_region *r, const void *arg),
                             const void *arg, const struct vms_claim *c)
{
	unsigned n = 0;
	for (size_t i = 0; i < a->s->n_regions; i++)
		if (a->claim_of[i] < 0 && wanted(&a->s->regions[i], arg) && vms_attr_claim(a, i, 1, c) >= 0)
			n++;
	return n;
}

void vms_attr_role(struct vms_attr *a, size_t i, const char *role)
{
	if (i < a->s->n_regions) {
		a->s->regions[i].role = role;
		a->role_set[i] = 1;
	}
}

int vms_attr_part(struct vms_attr *a, long claim, uint64_t start, uint64_t end, const char *details)
{
	if (claim < 0 || (size_t)claim >= a->n_claims || start >= end || a->n_parts >= VMS_ATTR_MAX_PARTS)
		return -1;
	struct claim_rec *cr = &a->claims[claim];
	const struct vms_region *R = a->s->regions;
	if (start < R[cr->first].start || end > R[cr->first + cr->n - 1].end)
		return -1;
	/* parts of a claim must be consecutive in the array and sorted */
	if (cr->n_parts &&
	    (cr->first_part + cr->n_parts != a->n_parts || a->parts[a->n_parts - 1].end > start))
		return -1;
	if (!cr->n_parts)
		cr->first_part = a->n_parts;
	if (VMS_GROW(a->parts, a->n_parts, a->cap_parts, 64)) {
		a->oom = 1;
		return -1;
	}
	a->parts[a->n_parts++] =
	    (struct vms_part){.start = start, .end = end, .allocation = (uint32_t)claim, .details = details};
	cr->n_parts++;
	return 0;
}

void vms_attr_thread_note(struct vms_attr *a, size_t t, const char *note)
{
	if (t < a->s->n_threads)
		a->thread_notes[t] = note;
}

/* ---- memory reads ------------------------------------------------------------------------- */

/* Every page of [addr, addr + len) present in RAM (not swapped, not untouched)? */
static int resident(struct vms_attr *a, uint64_t addr, size_t len)
{
	if (a->pagemap_fd == -1) {
		a->pagemap_fd = a->dirfd >= 0 ? openat(a->dirfd, "pagemap", O_RDONLY | O_CLOEXEC) : -1;
		if (a->pagemap_fd < 0)
			a->pagemap_fd = -2;
	}
	if (a->pagemap_fd < 0)
		return 0;
	uint64_t ps = a->s->page_size ? a->s->page_size : 4096;
	for (uint64_t pg = addr / ps; pg <= (addr + len - 1) / ps; pg++) {
		if (pg < a->pm_first || pg - a->pm_first >= a->pm_n) {
			/* the batch starting at pg (the kernel answers the pages of a scan's time) */
			ssize_t got = pread(a->pagemap_fd, a->pm, sizeof a->pm, (off_t)(pg * 8));
			a->pm_first = pg;
			a->pm_n = got > 0 ? (size_t)got / 8 : 0;
			if (!a->pm_n)
				return 0;
		}
		uint64_t e = a->pm[pg - a->pm_first];
		if (!(e >> 63 & 1)) /* bit 63: present; a swapped page (bit 62) would be swapped in */
			return 0;
	}
	return 1;
}

int vms_attr_peek(struct vms_attr *a, uint64_t addr, void *buf, size_t len)
{
	struct vms_snapshot *s = a->s;
	if (s->peek != 1)
		return -1;
	if (!a->reads_left) {
		a->budget_spent = 1;
		return -1;
	}
	a->reads_left--;
	if (len == 0 || len > PEEK_MAX || addr + len < addr)
		return -1;
	long i = vms_attr_region_at(a, addr);
	if (i < 0)
		return -1;
	const struct vms_region *r = &s->regions[i];
	if (r->perms[0] != 'r' || addr + len > r->end || r->smaps[VMS_SF_RSS] == 0)
		return -1;
	if (a->reader) {
		if (a->reader(a->reader_cookie, addr, buf, len) != 0)
			return -1;
		a->read_now = 1;
		return 0;
	}
	if (!resident(a, addr, len))
		return -1;
	struct iovec local = {.iov_base = buf, .iov_len = len};
	struct iovec remote = {.iov_base = (void *)(uintptr_t)addr, .iov_len = len};
	ssize_t got = process_vm_readv(a->pid, &local, 1, &remote, 1, 0);
	if (got < 0 && (errno == EPERM || errno == EACCES)) {
		s->peek = -1;
		s->peek_note = "memory reads denied (no ptrace-attach rights on the process): geometry only";
		return -1;
	}
	if (got != (ssize_t)len)
		return -1;
	a->read_now = 1;
	return 0;
}

int vms_attr_open_regular(int root_fd, const char *path, struct stat *st)
{
	return vms_attr_open_regular_via(root_fd, -1, path, st);
}

int vms_attr_open_regular_via(int root_fd, int fd_dir, const char *path, struct stat *st)
{
	if (root_fd < 0 || !path || path[0] != '/')
		return -1;
	/* Resolved as if root_fd were "/": absolute symlinks and ".." stay inside the target's tree
	 * (without RESOLVE_IN_ROOT an absolute symlink there would lead into the reader's own tree).
	 * O_PATH first: nothing is opened for reading before it is known to be a regular file. */
	struct open_how how = {.flags = O_PATH | O_CLOEXEC,
	                       .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
	int pfd = (int)syscall(SYS_openat2, root_fd, path, &how, sizeof how), fd = -1;
	if (pfd < 0) /* ENOSYS before Linux 5.6: no safe way to stay inside the root, no read */
		return -1;
	char self[40];
	snprintf(self, sizeof self, fd_dir >= 0 ? "%d" : "/proc/self/fd/%d", pfd);
	/* The magic link reopens the very dentry the O_PATH fd holds, so the fstat of pfd is the
	 * opened file's: no second fstat. */
	if (fstat(pfd, st) == 0 && S_ISREG(st->st_mode))
		fd = openat(fd_dir >= 0 ? fd_dir : AT_FDCWD, self,
		            O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	close(pfd);
	return fd;
}

long vms_attr_read_file(struct vms_attr *a, const char *path, uint64_t offset, void *buf, size_t max)
{
	if (!path || path[0] != '/')
		return -1;
	if (!a->file_reads_left) {
		a->budget_spent = 1;
		return -1;
	}
	a->file_reads_left--;
	if (a->file_reader) {
		long got = a->file_reader(a->file_cookie, path, offset, buf, max);
		return got >= 0 && (size_t)got <= max ? got : -1;
	}
	const struct stat *st;
	struct vms_scan_file *f = vms_scan_files_get(a->scan_files, path, &st);
	return f ? vms_scan_file_read(a->scan_files, f, offset, buf, max) : -1;
}

/* ---- rebuilding the allocations ------------------------------------------------------------ */

static const char *default_thread_note(struct vms_attr *a, const struct vms_thread *t)
{
	const struct vms_snapshot *s = a->s;
	if (t->sp == 0)
		return s->thread_note ? vms_attr_fmt(a, "stack pointer unknown: %s", s->thread_note)
		                      : "stack pointer unknown (the thread was running when scanned)";
	long i = vms_attr_region_at(a, t->sp);
	if (i < 0)
		return vms_attr_fmt(a, "stack pointer 0x%llx lies in no mapped region",
		                    (unsigned long long)t->sp);
	const struct vms_allocation *al = &s->allocations[s->regions[i].allocation];
	return vms_attr_fmt(a, "runs on memory of a %s allocation at 0x%llx (%s), not on a stack of its own",
	                    vms_type_name(al->type), (unsigned long long)al->start,
	                    al->details ? al->details : "no details");
}

/* Is every claim exactly one old allocation, whole? The usual case (glibc's [heap], the vdso,
 * a JVM's reservations, thread stacks glibc named): the allocations then keep their places. */
static int claims_whole(const struct vms_attr *a)
{
	const struct vms_snapshot *s = a->s;
	for (size_t c = 0; c < a->n_claims; c++) {
		const struct claim_rec *cr = &a->claims[c];
		const struct vms_allocation *o = &s->allocations[s->regions[cr->first].allocation];
		if (o->first_region != cr->first || o->n_regions != cr->n)
			return 0;
	}
	return 1;
}

/* The allocation claim cr makes (its owner is set after the rebuild). */
static struct vms_allocation from_claim(const struct claim_rec *cr)
{
	return (struct vms_allocation){.type = cr->c.type,
	                               .details = cr->c.details,
	                               .signal = cr->c.signal,
	                               .guess = cr->c.guess,
	                               .first_region = (uint32_t)cr->first,
	                               .n_regions = (uint32_t)cr->n};
}

/* Did no recogniser give a role to regions [first, first + n)? (An unclaimed allocation that
 * keeps its regions is then exactly what was streamed: same_as.) */
static int no_roles_set(const struct vms_attr *a, size_t first, size_t n)
{
	for (size_t k = first; k < first + n; k++)
		if (a->role_set[k])
			return 0;
	return 1;
}

/* rebuild() when claims_whole(): each claimed allocation is renamed where it is, as rebuild()
 * would have made it, and the others are left alone (a 60,000-VMA process: 9.9 -> 1.7 ms,
 * against copying every allocation into a new array). */
static int rename_in_place(struct vms_attr *a)
{
	struct vms_snapshot *s = a->s;
	size_t n = s->n_allocations;
	if (!(a->same_as = malloc((n ? n : 1) * sizeof *a->same_as)))
		return VMS_ERR_NOMEM;
	for (size_t m = 0; m < n; m++) {
		const struct vms_allocation *al = &s->allocations[m];
		a->same_as[m] = no_roles_set(a, al->first_region, al->n_regions) ? (long)m : -1;
	}
	for (size_t c = 0; c < a->n_claims; c++) {
		uint32_t m = s->regions[a->claims[c].first].allocation;
		s->allocations[m] = from_claim(&a->claims[c]);
		a->same_as[m] = -1;
	}
	for (size_t t = 0; t < s->n_threads; t++) { /* as rebuild(): a claimed stack is not its stack */
		struct vms_thread *th = &s->threads[t];
		if (th->stack_allocation >= 0 && (size_t)th->stack_allocation < n &&
		    a->claim_of[s->allocations[th->stack_allocation].first_region] >= 0)
			th->stack_allocation = -1;
	}
	for (size_t p = 0; p < a->n_parts; p++)
		a->parts[p].allocation = s->regions[a->claims[a->parts[p].allocation].first].allocation;
	return VMS_OK;
}

/* New allocations: each claim is one; unclaimed regions keep their old allocation, split where
 * a claim cut through it. Threads and parts follow. */
static int rebuild(struct vms_attr *a)
{
	if (claims_whole(a))
		return rename_in_place(a);
	struct vms_snapshot *s = a->s;
	size_t n = s->n_regions;
	struct vms_allocation *old = s->allocations;
	size_t n_old = s->n_allocations;
	struct vms_allocation *na = vms_snapshot_alloc(s, (n ? n : 1) * sizeof *na);
	long *new_of_claim = calloc(a->n_claims ? a->n_claims : 1, sizeof *new_of_claim);
	long *new_of_old = malloc((n_old ? n_old : 1) * sizeof *new_of_old);
	a->same_as = malloc((n ? n : 1) * sizeof *a->same_as);
	if (!na || !new_of_claim || !new_of_old || !a->same_as) {
		free(new_of_claim);
		free(new_of_old);
		return VMS_ERR_NOMEM;
	}
	for (size_t k = 0; k < n_old; k++)
		new_of_old[k] = -1;
	size_t m = 0;
	for (size_t i = 0; i < n;) {
		long c = a->claim_of[i];
		struct vms_allocation *al = &na[m];
		size_t j = i + 1;
		if (c >= 0) {
			const struct claim_rec *cr = &a->claims[c];
			j = cr->first + cr->n;
			*al = from_claim(cr);
			new_of_claim[c] = (long)m;
		} else {
			uint32_t o = s->regions[i].allocation;
			while (j < n && a->claim_of[j] < 0 && s->regions[j].allocation == o)
				j++;
			*al = old[o]; /* columns kept: summarize_changed() redoes them unless whole */
			if (new_of_old[o] < 0)
				new_of_old[o] = (long)m;
			else
				al->tid = 0; /* the second piece of a split stack is not the thread's stack */
		}
		al->first_region = (uint32_t)i;
		al->n_regions = (uint32_t)(j - i);
		a->same_as[m] = -1;
		if (c < 0) {
			uint32_t o = s->regions[i].allocation;
			if (old[o].first_region == i && old[o].n_regions == j - i &&
			    no_roles_set(a, i, j - i))
				a->same_as[m] = (long)o;
		}
		m++;
		i = j;
	}
	for (size_t t = 0; t < s->n_threads; t++) {
		struct vms_thread *th = &s->threads[t];
		if (th->stack_allocation >= 0 && (size_t)th->stack_allocation < n_old) {
			long nw = new_of_old[th->stack_allocation];
			const struct vms_allocation *o = &old[th->stack_allocation];
			/* still a stack allocation of the same regions? */
			th->stack_allocation =
			    (nw >= 0 && na[nw].type == VMS_TYPE_STACK && a->claim_of[o->first_region] < 0)
			        ? (int)nw
			        : -1;
		}
	}
	for (size_t p = 0; p < a->n_parts; p++)
		a->parts[p].allocation = (uint32_t)new_of_claim[a->parts[p].allocation];
	free(new_of_claim);
	free(new_of_old);
	s->allocations = na;
	s->n_allocations = m;
	return VMS_OK;
}

static int run_all(struct vms_attr *a, int *changed)
{
	struct vms_snapshot *s = a->s;
	*changed = 0;
	s->recognisers =
	    vms_snapshot_alloc(s, (vms_n_recognisers ? vms_n_recognisers : 1) * sizeof *s->recognisers);
	const char **owner_of_claim = NULL;
	size_t cap_owner = 0;
	if (!s->recognisers)
		return VMS_ERR_NOMEM;
	for (size_t k = 0; k < vms_n_recognisers; k++) {
		const struct vms_recogniser *rec = vms_recognisers[k];
		size_t before = a->n_claims;
		a->read_now = 0;
		a->reads_left = VMS_ATTR_MAX_READS;
		a->file_reads_left = VMS_ATTR_MAX_FILE_READS;
		a->budget_spent = 0;
		const char *note = rec->run(a);
		if (!a->oom && a->budget_spent)
			note = vms_attr_fmt(a, "%s (read budget spent)", note ? note : "nothing found");
		if (a->oom)
			break;
		struct vms_recogniser_run *run = &s->recognisers[s->n_recognisers++];
		run->key = rec->key;
		run->claimed = (uint32_t)(a->n_claims - before);
		run->read_memory = a->read_now;
		run->note = note;
		if (a->n_claims > cap_owner) {
			size_t cap = a->cap_claims;
			const char **g = realloc(owner_of_claim, cap * sizeof *g);
			if (!g) {
				a->oom = 1;
				break;
			}
			owner_of_claim = g;
			cap_owner = cap;
		}
		for (size_t c = before; c < a->n_claims; c++)
			owner_of_claim[c] = rec->key;
	}
	int err = a->oom ? VMS_ERR_NOMEM : VMS_OK;
	if (!err && a->n_claims) {
		err = rebuild(a);
		if (!err) {
			for (size_t m = 0; m < s->n_allocations; m++) {
				long c = a->claim_of[s->allocations[m].first_region];
				if (c >= 0)
					s->allocations[m].owner = owner_of_claim[c];
			}
			*changed = 1;
		}
	}
	free(owner_of_claim);
	if (!err && a->n_parts) {
		s->parts = vms_snapshot_alloc(s, a->n_parts * sizeof *s->parts);
		if (!s->parts)
			err = VMS_ERR_NOMEM;
		else {
			memcpy(s->parts, a->parts, a->n_parts * sizeof *s->parts);
			s->n_parts = a->n_parts;
		}
	}
	if (!err && *changed)
		err = vms_snapshot_summarize_changed(s, a->same_as); /* types, columns, sums, gaps, summary */
	/* A Stack a recogniser claimed (glibc 2.39+ names thread stacks) is the stack of the thread
	 * whose stack pointer lies in it: the thread points at it and it carries the thread id. */
	for (size_t t = 0; !err && *changed && t < s->n_threads; t++) {
		struct vms_thread *th = &s->threads[t];
		long i = th->stack_allocation < 0 && th->sp ? vms_attr_region_at(a, th->sp) : -1;
		if (i < 0)
			continue;
		uint32_t m = s->regions[i].allocation;
		struct vms_allocation *al = &s->allocations[m];
		if (al->type == VMS_TYPE_STACK && !al->tid && a->claim_of[al->first_region] >= 0) {
			al->tid = th->tid;
			th->stack_allocation = (int)m;
		}
	}
	for (size_t t = 0; !err && t < s->n_threads; t++) {
		struct vms_thread *th = &s->threads[t];
		if (a->thread_notes[t] && th->stack_allocation < 0)
			th->stack_note = a->thread_notes[t];
		else if (th->stack_allocation < 0)
			th->stack_note = default_thread_note(a, th);
		else
			th->stack_note = NULL;
	}
	if (!err && a->oom)
		err = VMS_ERR_NOMEM;
	return err;
}

static int attribute(struct vms_snapshot *s, struct vms_attr *a, int *changed, long **streamed_as)
{
	int err = VMS_ERR_NOMEM;
	a->s = s;
	a->claim_of = malloc((s->n_regions ? s->n_regions : 1) * sizeof *a->claim_of);
	a->role_set = calloc(s->n_regions ? s->n_regions : 1, 1);
	a->thread_notes = calloc(s->n_threads ? s->n_threads : 1, sizeof *a->thread_notes);
	if (a->claim_of && a->role_set && a->thread_notes) {
		for (size_t i = 0; i < s->n_regions; i++)
			a->claim_of[i] = -1;
		err = run_all(a, changed);
	}
	if (streamed_as && !err && *changed) {
		*streamed_as = a->same_as;
		a->same_as = NULL;
	} else if (streamed_as) {
		*streamed_as = NULL;
	}
	void *const owned[] = {a->same_as, a->files, a->role_set,    a->claim_of,
	                       a->claims,  a->parts, a->thread_notes};
	for (size_t k = 0; k < sizeof owned / sizeof owned[0]; k++)
		free(owned[k]);
	if (a->pagemap_fd >= 0)
		close(a->pagemap_fd);
	return err;
}

int vms_attribute(struct vms_snapshot *s, int dirfd, pid_t pid, int no_peek, struct vms_scan_files *files,
                  int *changed, long **streamed_as)
{
	struct vms_attr a = {.dirfd = dirfd, .pid = pid, .pagemap_fd = -1, .scan_files = files};
	s->peek = no_peek ? 0 : 1;
	s->peek_note = no_peek ? "memory reads disabled (--no-peek / \"peek\": false): geometry only" : NULL;
	if (dirfd < 0 && !no_peek) {
		s->peek = 0;
		s->peek_note = "no live process: geometry only";
	}
	return attribute(s, &a, changed, streamed_as);
}

int vms_attribute_with(struct vms_snapshot *s, vms_attr_reader read, void *cookie, int *changed)
{
	return vms_attribute_with_files(s, read, cookie, NULL, NULL, changed);
}

int vms_attribute_with_files(struct vms_snapshot *s, vms_attr_reader read, void *cookie,
                             vms_attr_file_reader read_file, void *file_cookie, int *changed)
{
	struct vms_attr a = {.dirfd = -1,
	                     .pagemap_fd = -2,
	                     .reader = read,
	                     .reader_cookie = cookie,
	                     .file_reader = read_file,
	                     .file_cookie = file_cookie};
	s->peek = read ? 1 : 0;
	s->peek_note = read ? NULL : "no live process: geometry only";
	return attribute(s, &a, changed, NULL);
}
