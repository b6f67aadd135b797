/* Classification of regions into VMMap types and allocations (rules and their reasons: docs/memory-types.md).
 * Each step of the walk takes the regions at the cursor that belong together (an ELF image's
 * segments + holes + .bss, a thread stack and its guard) and emits one allocation for them.
 * Allocator heaps (glibc arena heaps, musl groups, ...) are named by the recognisers of the
 * attribution stage (server/core/recognisers/), which know which allocator is present. Rules are applied in a
 * fixed order; see docs/memory-types.md. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pool.h"
#include "snapshot_internal.h"

#include "vmscope/parse.h"
#include "vmscope/util.h"

struct walk {
	struct vms_snapshot *s;
	const struct vms_classify_ctx *ctx;
	size_t n_alloc, cap_alloc; /* allocations: malloc'd, handed to the snapshot at finish */
	struct vms_allocation *allocs;
	size_t next; /* first region not classified yet */
	int oom;
	/* A note for the region at note_at when it becomes Private Data: the image before it left
	 * it out although its .bss lies at its start (image_bss()). note_at is SIZE_MAX when none. */
	size_t note_at;
	const char *note;
	/* What was learnt about the file-backed run that starts at region probe_at (SIZE_MAX: none
	 * yet): ready() and step() both need it, and the callbacks are asked once per image. */
	size_t probe_at;
	int image;     /* the run is an ELF image (exec segment, or is_elf() said so) */
	int layout_rc; /* elf_load()'s answer, 2 = not asked yet */
	struct vms_elf_load layout;
};

/* How many regions past an image's contiguous run the classifier looks for the rest of the
 * image (segments beyond a gap, the .bss): an ELF's gaps hold no mapping or a few anonymous
 * ones, so 64 is plenty; a malformed ELF whose PT_LOAD span covers half the address space costs
 * at most this. */
#define IMAGE_LOOKAHEAD 64

static int is_anon(const struct vms_region *r)
{
	return !r->path && r->inode == 0;
}

static int no_access(const struct vms_region *r)
{
	return r->perms[0] == '-' && r->perms[1] == '-' && r->perms[2] == '-';
}

static int is_rw_private(const struct vms_region *r)
{
	return r->perms[0] == 'r' && r->perms[1] == 'w' && r->perms[3] == 'p';
}

static int same_file(const struct vms_region *a, const struct vms_region *b)
{
	return a->inode == b->inode && a->dev_major == b->dev_major && a->dev_minor == b->dev_minor &&
	       a->path && b->path && !strcmp(a->path, b->path);
}

static int is_shmem_dev(const struct vms_classify_ctx *c, const struct vms_region *r)
{
	return r->dev_major == c->shmem_major && r->dev_minor == c->shmem_minor && r->path;
}

static int is_tmpfs_dev(const struct vms_classify_ctx *c, const struct vms_region *r)
{
	unsigned dev = r->dev_major << 20 | r->dev_minor;
	for (size_t i = 0; i < c->n_tmpfs_devs; i++)
		if (c->tmpfs_devs[i] == dev)
			return 1;
	return 0;
}

/* The thread whose stack pointer lies in [start, end), or -1. */
static long thread_in(const struct vms_snapshot *s, uint64_t start, uint64_t end)
{
	for (size_t t = 0; t < s->n_threads; t++)
		if (s->threads[t].sp >= start && s->threads[t].sp < end)
			return (long)t;
	return -1;
}

/* Room for one more allocation; the array stays where it is until the next call. */
static int grow(struct walk *w)
{
	if (VMS_GROW(w->allocs, w->n_alloc, w->cap_alloc, 256))
		return -1;
	w->s->allocations = w->allocs;
	return 0;
}

/* The caller has ensured room (grow()). */
static struct vms_allocation *emit(struct walk *w, size_t first, size_t n, enum vms_type type,
                                   const char *details)
{
	struct vms_allocation *a = &w->allocs[w->n_alloc++];
	memset(a, 0, sizeof *a);
	a->first_region = (uint32_t)first;
	a->n_regions = (uint32_t)n;
	a->type = type;
	a->details = details;
	w->s->n_allocations = w->n_alloc;
	return a;
}

static const char *thread_details(struct walk *w, long t)
{
	const struct vms_thread *th = &w->s->threads[t];
	return vms_snapshot_fmt(w->s, "Thread ID: %d (%s)", th->tid, th->name ? th->name : "");
}

static void attach_thread(struct walk *w, struct vms_allocation *a, long t)
{
	a->tid = w->s->threads[t].tid;
	w->s->threads[t].stack_allocation = (int)(a - w->s->allocations);
}

/* A guard + stack pair that no thread's stack pointer lies in is named from its shape alone
 * (a guess). Only up to this size: a thread stack is the thread's stack size (8 MiB by
 * default, RLIMIT_STACK); a larger PROT_NONE + rw "nh" pair is something else (ASan's 16 TiB
 * shadow looks just like one). */
#define UNMATCHED_STACK_MAX (1ull << 30)

static const char *unmatched_stack_details(struct walk *w)
{
	if (w->s->thread_note)
		return vms_snapshot_fmt(w->s, "Thread stack (thread id unknown: %s) (guess)",
		                        w->s->thread_note);
	return "Thread stack (no live thread: unused or cached by glibc) (guess)";
}

static const char *base_name(const char *path)
{
	const char *b = strrchr(path, '/');
	return b ? b + 1 : path;
}

/* "12 MiB", "48 KiB", "8 bytes": the largest unit that divides the size. */
static const char *size_text(struct vms_snapshot *s, uint64_t b)
{
	if (b >= (1u << 20) && b % (1u << 20) == 0)
		return vms_snapshot_fmt(s, "%llu MiB", (unsigned long long)(b >> 20));
	if (b >= 1024 && b % 1024 == 0)
		return vms_snapshot_fmt(s, "%llu KiB", (unsigned long long)(b >> 10));
	return vms_snapshot_fmt(s, "%llu bytes", (unsigned long long)b);
}

/* Is the same-file run [i, j) an ELF image: it has an executable segment, or it starts at
 * offset 0 of a file is_elf() calls ELF (an image whose text is elsewhere, a data-only ELF).
 * Cached for the run at i. */
static int is_image(struct walk *w, size_t i, size_t j)
{
	const struct vms_classify_ctx *c = w->ctx;
	const struct vms_region *R = w->s->regions, *r = &R[i];
	if (w->probe_at == i)
		return w->image;
	w->probe_at = i;
	w->layout_rc = 2;
	w->image = 0;
	for (size_t k = i; k < j; k++)
		w->image |= R[k].perms[2] == 'x';
	if (!w->image && r->offset == 0 && r->inode != 0 && c->is_elf)
		w->image = c->is_elf(c->cookie, r->path) == 1;
	return w->image;
}

/* The PT_LOAD layout of the image whose run starts at region i (is_image() was asked first):
 * elf_load()'s answer, asked once. Deleted files are never read (the path may name another
 * file now). */
static int layout(struct walk *w, size_t i, struct vms_elf_load *L)
{
	const struct vms_classify_ctx *c = w->ctx;
	const struct vms_region *r = &w->s->regions[i];
	if (w->probe_at != i)
		return -1; /* programmer error: is_image() first */
	if (w->layout_rc == 2) {
		w->layout_rc = -1;
		if (c->elf_load && !r->deleted && r->path && r->path[0] == '/')
			w->layout_rc = c->elf_load(c->cookie, r->path, &w->layout);
	}
	*L = w->layout;
	return w->layout_rc;
}

/* Where the image whose first mapping is R[i] ends: the end of its ELF's PT_LOAD span at the
 * load bias, page-rounded, when R[i] maps the lowest PT_LOAD's first page (so the bias is
 * known); 0 when unknown or when the span ends inside R[i]. */
static uint64_t span_end(struct walk *w, size_t i)
{
	const struct vms_region *r = &w->s->regions[i];
	uint64_t page = w->s->page_size ? w->s->page_size : 4096;
	struct vms_elf_load L;
	if (r->offset != 0 || layout(w, i, &L) != 1 || (L.first_offset & ~(page - 1)) != 0)
		return 0;
	uint64_t bias = r->start - (L.first_vaddr & ~(page - 1)); /* modulo 2^64, as the loader's */
	uint64_t end = bias + L.vaddr + L.memsz;
	if (end < r->start || end + page - 1 < end)
		return 0; /* wraps: not how this file is mapped */
	end = (end + page - 1) & ~(page - 1);
	return end > r->end ? end : 0;
}

/* The rest of the image whose contiguous same-file run is [i, j): the loader leaves gaps
 * between segments (a page where lld aligns RELRO, 2 MiB with -z separate-code and a large
 * max-page-size) that hold no mapping, the file's own PROT_NONE mappings (glibc's ld.so), or
 * anonymous regions (someone mapped memory there). Later regions belong to the image while
 * they lie inside its PT_LOAD span (span_end()) and are the same file or anonymous; the image
 * ends after the last same-file region (*last). Anonymous regions after it are left to the .bss
 * rule (image_bss()). Returns where the look-ahead stopped: the first region not examined or
 * not groupable (n when it ran out of regions, so a streaming caller must wait). At most
 * IMAGE_LOOKAHEAD regions past j are examined. */
static size_t image_extent(struct walk *w, size_t i, size_t j, size_t *last)
{
	const struct vms_region *R = w->s->regions;
	size_t n = w->s->n_regions, k = j;
	*last = j;
	uint64_t end = span_end(w, i);
	if (!end)
		return j;
	while (k < n && k - j < IMAGE_LOOKAHEAD && R[k].start < end && R[k].end <= end) {
		if (same_file(&R[k], &R[i]))
			*last = k + 1;
		else if (!is_anon(&R[k]))
			break;
		k++;
	}
	return k;
}

/* How many bytes at the start of the anonymous region R[j] are the .bss of the image whose run
 * [i, j) ends with the data segment R[j-1]: its ELF's highest PT_LOAD ends (page-rounded, at
 * the load bias) there. The bias comes from the data segment when it maps that PT_LOAD's file
 * range (a RELRO split leaves its writable tail), else from the run's first mapping when it maps
 * the lowest PT_LOAD's first page. Returns 1 and sets *covered (0 when the .bss fits in the
 * data segment's last page, so no page of R[j] is the image's), or 0 when unknown: no callback
 * (*asked = 0), or a deleted or unreadable file or one whose program headers do not match how
 * it is mapped (*asked = 1). */
static int bss_cover(struct walk *w, size_t i, size_t j, uint64_t *covered, int *asked)
{
	const struct vms_classify_ctx *c = w->ctx;
	const struct vms_region *R = w->s->regions, *d = &R[j - 1];
	uint64_t page = w->s->page_size ? w->s->page_size : 4096;
	struct vms_elf_load L;
	*asked = c->elf_load != NULL;
	if (!c->elf_load || d->deleted || !d->path || d->path[0] != '/' || layout(w, i, &L) != 1)
		return 0;
	uint64_t bias; /* unsigned arithmetic: modulo 2^64, as the loader's */
	if (L.filesz && d->offset >= (L.offset & ~(page - 1)) && d->offset < L.offset + L.filesz)
		bias = d->start - (L.vaddr - L.offset + d->offset);
	else if (R[i].offset == (L.first_offset & ~(page - 1)))
		bias = R[i].start - (L.first_vaddr & ~(page - 1));
	else
		return 0;
	uint64_t end = bias + L.vaddr + L.memsz;
	end = (end + page - 1) & ~(page - 1);
	if (end < d->end)
		return 0; /* the file on disk is not what is mapped (replaced in place?) */
	const struct vms_region *b = &R[j];
	*covered = end <= b->start ? 0 : (end < b->end ? end : b->end) - b->start;
	return 1;
}

/* The anonymous rw-p region R[j] right after the image's last data segment: is it the image's
 * .bss? Only when the ELF's .bss (the zero-fill of its highest PT_LOAD, p_memsz beyond p_filesz,
 * page-rounded at the load bias) covers all of it. When it covers less, the kernel merged memory
 * mapped after the image into the same VMA; a region is one VMA with one smaps row and is never
 * split, so the region goes to the rules after (Private Data, then the recognisers) with a note
 * saying how much of its start is the .bss, and the image's *details say where its .bss went.
 * Unknown .bss size: taken, as the loader's layout makes likely, and *details says
 * "(bss size unknown)" when the ELF could not be read. */
static int image_bss(struct walk *w, size_t i, size_t j, const char **details)
{
	struct vms_snapshot *s = w->s;
	const struct vms_region *b = &s->regions[j];
	uint64_t covered = 0, size = b->end - b->start;
	int asked = 0;
	if (!bss_cover(w, i, j, &covered, &asked)) {
		if (asked && *details)
			*details = vms_snapshot_fmt(s, "%s (bss size unknown)", *details);
		return 1;
	}
	if (covered == size)
		return 1;
	const char *lib = base_name(s->regions[j - 1].path);
	if (covered) {
		w->note_at = j;
		w->note = vms_snapshot_fmt(
		    s, "holds the .bss of %s (%s) at its start; the rest (%s) was mapped after it", lib,
		    size_text(s, covered), size_text(s, size - covered));
		if (*details)
			*details =
			    vms_snapshot_fmt(s,
			                     "%s (its .bss, %s, is the start of the next region, which "
			                     "the kernel merged with %s mapped after it)",
			                     *details, size_text(s, covered), size_text(s, size - covered));
	}
	return 0;
}

/* An ELF image: same-file contiguous run [i, j), plus the anonymous .bss right after it.
 * *details may gain a note about that .bss (image_bss()). */
static size_t image_roles(struct walk *w, size_t i, size_t j, const char **details)
{
	struct vms_region *R = w->s->regions;
	int seen_text = 0;
	for (size_t k = i; k < j; k++) {
		struct vms_region *r = &R[k];
		if (no_access(r))
			r->role = "hole";
		else if (is_anon(r))
			r->role = "gap"; /* anonymous memory mapped into a gap of the image */
		else if (r->perms[2] == 'x')
			r->role = "text", seen_text = 1;
		else if (r->perms[1] == 'w')
			r->role = "data";
		else if (!seen_text && r->offset == 0)
			r->role = "header";
		else if (r->vm_flag_bits & VMS_VMF_AC)
			r->role = "relro";
		else
			r->role = "rodata";
	}
	if (j < w->s->n_regions && is_rw_private(&R[j - 1]) && is_anon(&R[j]) && is_rw_private(&R[j]) &&
	    R[j].start == R[j - 1].end && image_bss(w, i, j, details)) {
		R[j].role = "bss";
		j++;
	}
	return j;
}

static const char *shareable_details(struct walk *w, const struct vms_region *r)
{
	const char *p = r->path;
	unsigned key;
	if (!strncmp(p, "/SYSV", 5) && sscanf(p + 5, "%8x", &key) == 1)
		return vms_snapshot_fmt(w->s, "SysV shm key 0x%08x, shmid %llu", key,
		                        (unsigned long long)r->inode);
	if (!strncmp(p, "/memfd:", 7))
		return vms_snapshot_fmt(w->s, "memfd: %s", p + 7);
	if (!strcmp(p, "/dev/zero"))
		return "Shared anonymous memory (/dev/zero)";
	if (!strncmp(p, "/dev/shm/", 9))
		return vms_snapshot_fmt(w->s, "POSIX shm: /%s", p + 9);
	if (!strncmp(p, "[anon_shmem:", 12))
		return p;
	return r->deleted ? vms_snapshot_fmt(w->s, "%s (deleted)", p) : p;
}

/* One step: classify the regions at i, return the index after them. */
static size_t step(struct walk *w, size_t i)
{
	struct vms_snapshot *s = w->s;
	const struct vms_classify_ctx *c = w->ctx;
	struct vms_region *R = s->regions;
	struct vms_region *r = &R[i];
	size_t n = s->n_regions;
	struct vms_allocation *a;
	long t;

	if (r->path && r->path[0] == '[') {
		const char *p = r->path;
		if (!strcmp(p, "[heap]")) {
			emit(w, i, 1, VMS_TYPE_HEAP,
			     "[heap] (brk heap)"); /* whose: the recognisers say (glibc, musl, tcmalloc) */
		} else if (!strcmp(p, "[stack]")) {
			r->role = "stack";
			a = emit(w, i, 1, VMS_TYPE_STACK, NULL);
			for (size_t k = 0; k < s->n_threads; k++)
				if (s->threads[k].tid == c->main_tid)
					t = (long)k, attach_thread(w, a, t),
					a->details = thread_details(w, t);
			if (!a->details)
				a->details = vms_snapshot_fmt(s, "Thread ID: %d (main thread)", c->main_tid),
				a->tid = c->main_tid;
		} else if (!strcmp(p, "[vdso]")) {
			r->role = "text";
			emit(w, i, 1, VMS_TYPE_IMAGE, "[vdso] (kernel-provided shared object)");
		} else if (!strncmp(p, "[vvar", 5) || !strcmp(p, "[vsyscall]")) {
			emit(w, i, 1, VMS_TYPE_KERNEL, p);
		} else if (!strncmp(p, "[anon_shmem:", 12)) {
			emit(w, i, 1, VMS_TYPE_SHAREABLE, p);
		} else {
			emit(w, i, 1, VMS_TYPE_PRIVATE_DATA, p); /* [anon:NAME] and future pseudo names */
		}
		return i + 1;
	}
	if (r->vm_flag_bits & VMS_VMF_HT) {
		int sh = r->perms[3] == 's';
		emit(w, i, 1, sh ? VMS_TYPE_SHAREABLE : VMS_TYPE_PRIVATE_DATA,
		     vms_snapshot_fmt(s, "hugetlb %s: %s", sh ? "shared" : "private",
		                      r->path ? r->path : "anonymous"));
		return i + 1;
	}
	if (r->path && (is_shmem_dev(c, r) || is_tmpfs_dev(c, r))) {
		emit(w, i, 1, VMS_TYPE_SHAREABLE, shareable_details(w, r));
		return i + 1;
	}
	if (r->path) {
		size_t j = i + 1;
		while (j < n && R[j].start == R[j - 1].end && same_file(&R[j], r))
			j++;
		const char *details = r->deleted ? vms_snapshot_fmt(s, "%s (deleted)", r->path) : r->path;
		if (is_image(w, i, j)) {
			size_t last;
			image_extent(w, i, j, &last);
			size_t end = image_roles(w, i, last, &details);
			emit(w, i, end - i, VMS_TYPE_IMAGE, details);
			return end;
		}
		emit(w, i, j - i, VMS_TYPE_MAPPED_FILE, details);
		return j;
	}

	/* Anonymous. A thread stack: PROT_NONE guard directly below a rw-p stack. */
	if (no_access(r) && i + 1 < n && is_anon(&R[i + 1]) && is_rw_private(&R[i + 1]) &&
	    R[i + 1].start == r->end) {
		t = thread_in(s, R[i + 1].start, R[i + 1].end);
		if (t >= 0 || ((R[i + 1].vm_flag_bits & VMS_VMF_NH) &&
		               R[i + 1].end - R[i + 1].start <= UNMATCHED_STACK_MAX)) {
			r->role = "guard";
			R[i + 1].role = "stack";
			a = emit(w, i, 2, VMS_TYPE_STACK, NULL);
			if (t >= 0)
				attach_thread(w, a, t), a->details = thread_details(w, t);
			else
				a->details = unmatched_stack_details(w), a->guess = 1;
			return i + 2;
		}
	}
	if (no_access(r)) {
		emit(w, i, 1, VMS_TYPE_RESERVED, "Reserved (PROT_NONE)");
		return i + 1;
	}
	t = thread_in(s, r->start, r->end);
	if (t >= 0) { /* a stack without a guard VMA (MADV_GUARD_INSTALL, or user-provided) */
		r->role = "stack";
		a = emit(w, i, 1, VMS_TYPE_STACK, thread_details(w, t));
		attach_thread(w, a, t);
		return i + 1;
	}
	emit(w, i, 1, VMS_TYPE_PRIVATE_DATA, w->note_at == i ? w->note : NULL);
	return i + 1;
}

/* Can step() run at region i without including a region that may still be incomplete (the
 * last one parsed: its header is known, its smaps fields may still be arriving) or deciding
 * without one that is still absent? A region is decided by the regions after it: a stack by the
 * next; a file-backed run by its contiguous same-file run plus the region after it (the .bss
 * candidate) plus the one after that; an image by its look-ahead too (image_extent(): up to the
 * first region past its PT_LOAD span, at most IMAGE_LOOKAHEAD regions), and the region after
 * its last same-file region must be complete. The callbacks (is_elf, elf_load) are asked here,
 * once the contiguous run and the region after it are present, and their answers kept for
 * step(). */
static int ready(struct walk *w, size_t i)
{
	const struct vms_region *R = w->s->regions;
	size_t n = w->s->n_regions;
	if (i + 2 >= n)
		return 0;
	if (R[i].path && R[i].path[0] != '[' && !(R[i].vm_flag_bits & VMS_VMF_HT) &&
	    !is_shmem_dev(w->ctx, &R[i]) && !is_tmpfs_dev(w->ctx, &R[i])) {
		size_t j = i + 1, last;
		while (j < n && R[j].start == R[j - 1].end && same_file(&R[j], &R[i]))
			j++;
		if (j + 1 >= n)
			return 0;
		if (!is_image(w, i, j))
			return 1;
		size_t k = image_extent(w, i, j, &last);
		return k < n && last + 1 < n;
	}
	return 1;
}

/* Columns of the allocation's regions and their sum, and its bounds. */
static void finish_allocation(struct walk *w, struct vms_allocation *a)
{
	struct vms_region *R = w->s->regions;
	size_t idx = (size_t)(a - w->allocs);
	for (uint32_t k = 0; k < a->n_regions; k++) {
		struct vms_region *r = &R[a->first_region + k];
		r->type = a->type;
		r->allocation = (uint32_t)idx;
		vms_region_columns(r, r->cols);
		for (int c = 0; c < VMS_COL_COUNT; c++)
			a->cols[c] += r->cols[c];
	}
	a->start = R[a->first_region].start;
	a->end = R[a->first_region + a->n_regions - 1].end;
}

struct vms_classifier *vms_classifier_new(struct vms_snapshot *s, const struct vms_classify_ctx *ctx)
{
	struct walk *w = calloc(1, sizeof *w);
	if (!w)
		return NULL;
	w->s = s;
	w->ctx = ctx;
	w->note_at = SIZE_MAX;
	w->probe_at = SIZE_MAX;
	s->allocations = NULL;
	s->n_allocations = 0;
	for (size_t t = 0; t < s->n_threads; t++)
		s->threads[t].stack_allocation = -1;
	return (struct vms_classifier *)w;
}

int vms_classifier_feed(struct vms_classifier *c, int final)
{
	struct walk *w = (struct walk *)c;
	while (w->next < w->s->n_regions && (final || ready(w, w->next))) {
		if (grow(w) < 0)
			return VMS_ERR_NOMEM;
		size_t first = w->n_alloc;
		w->next = step(w, w->next);
		if (w->n_alloc != first + 1)
			return VMS_ERR_INVALID; /* step() emits exactly one allocation */
		finish_allocation(w, &w->allocs[first]);
		if (w->ctx->on_allocation)
			w->ctx->on_allocation(w->ctx->alloc_cookie, w->s, first);
	}
	return VMS_OK;
}

void vms_classifier_abort(struct vms_classifier *c)
{
	struct walk *w = (struct walk *)c;
	if (!w)
		return;
	if (w->s->allocations == w->allocs) {
		w->s->allocations = NULL;
		w->s->n_allocations = 0;
	}
	free(w->allocs);
	free(w);
}

int vms_classifier_finish(struct vms_classifier *c)
{
	struct walk *w = (struct walk *)c;
	struct vms_snapshot *s = w->s;
	int err = vms_classifier_feed(c, 1);
	if (err) {
		vms_classifier_abort(c);
		return err;
	}
	if (!w->allocs && grow(w) < 0) { /* no regions: still hand over an (empty) array */
		vms_classifier_abort(c);
		return VMS_ERR_NOMEM;
	}
	s->allocations = w->allocs;
	s->n_allocations = w->n_alloc;
	if (vms_snapshot_adopt(s, w->allocs) < 0) {
		s->allocations = NULL;
		s->n_allocations = 0;
		free(w);
		return VMS_ERR_NOMEM;
	}
	free(w);
	return vms_snapshot_summarize_types(s); /* columns and sums were done per allocation */
}

int vms_classify(struct vms_snapshot *s, const struct vms_classify_ctx *ctx)
{
	struct vms_classifier *c = vms_classifier_new(s, ctx);
	if (!c)
		return VMS_ERR_NOMEM;
	return vms_classifier_finish(c);
}
