/* Recogniser "mimalloc": the segments of mimalloc 2.0 (Debian 12 libmimalloc2.0, 2.0.9).
 *
 * Signals, cheapest first:
 * 1. Presence: libmimalloc.so mapped (a preloaded library shows as a mapped image too).
 * 2. Geometry: mimalloc 2.0 reserves each segment as one 32 MiB, 32 MiB-aligned MAP_NORESERVE
 *    mapping (rw-p nr committed slices, ---p nr decommitted ones), at aligned hints from 2 TiB,
 *    wrapping at 30 TiB (microsoft/mimalloc v2.0.9 include/mimalloc-types.h MI_SEGMENT_SHIFT,
 *    src/os.c MI_HINT_BASE). Adjacent segments merge into one VMA.
 * 3. Header read at the segment start (2.0.9 layout, verified on Debian 12): +0x10 mem_alignment
 *    (32 MiB), +0x70..+0xaf commit_mask (one bit per 64 KiB slice), +0xd8 cookie,
 *    +0xe0 segment_slices (512 for a normal segment), +0xe8 segment_info_slices, +0xf0 kind
 *    (0 normal, 1 huge), +0xf8 slice_entries, +0x100 thread_id (the owning thread's TCB, glibc's
 *    struct pthread). cookie XOR segment address is one constant per process (_mi_ptr_cookie),
 *    which removes anything else that happens to be 32 MiB-aligned.
 *    The owner: at thread_id, glibc's TCB has itself at +0 and +0x10 and the kernel tid at
 *    +0x2d0 (glibc 2.36 x86_64); the tid must be one of the process's threads.
 *    The commit mask gives mimalloc's own committed count, which details report: mimalloc 2.0
 *    decommits with MADV_DONTNEED on Linux (src/os.c mi_os_commitx), so decommitted slices stay
 *    rw-p and Committed (the kernel's view) can exceed it.
 * One allocation per segment (Size = 32 MiB reservation, Committed = its rw slices); a VMA that
 * merged several segments becomes one allocation with a part per segment. Without memory reads,
 * 32 MiB-aligned nr runs in 2-30 TiB are claimed by geometry as a guess. Small nr mappings
 * outside segments (mimalloc's per-thread data, _mi_os_alloc) are claimed as a guess. */
#include <string.h>

#include "../attribute.h"

#define MI_SEG ((uint64_t)32 << 20)
#define MI_SLICE ((uint64_t)64 << 10)
#define MI_HINT_LO ((uint64_t)2 << 40)
#define MI_HINT_HI ((uint64_t)30 << 40)
#define HDR_LEN 0x108
#define TCB_TID 0x2d0 /* offsetof(struct pthread, tid), glibc 2.36 x86_64 */
#define MAX_OWNERS 64

struct seg_hdr {
	uint64_t cookie, slices, info_slices, kind, entries, thread_id;
	uint64_t committed; /* bytes, by the commit mask */
};

struct owner_cache {
	uint64_t tcb[MAX_OWNERS];
	int tid[MAX_OWNERS]; /* 0: not a TCB we could match */
	size_t n;
};

struct mi_state {
	struct vms_attr *a;
	const struct vms_snapshot *s;
	int have_cookie;
	uint64_t cookie_xor;
	struct owner_cache owners;
	unsigned segments, guessed, others;
	int read_any;
};

static int anon_nr(const struct vms_region *r)
{
	return !r->path && r->inode == 0 && r->perms[3] == 'p' && (r->vm_flag_bits & VMS_VMF_NR);
}

static uint64_t rd64(const unsigned char *b, size_t off)
{
	uint64_t v;
	memcpy(&v, b + off, sizeof v);
	return v;
}

/* Read and check a segment header at addr. 1 when it is a mimalloc 2.0 segment header whose
 * cookie agrees with the others, 0 when it is not, -1 when it could not be read. */
static int read_header(struct mi_state *m, uint64_t addr, struct seg_hdr *h)
{
	unsigned char b[HDR_LEN];
	if (vms_attr_peek(m->a, addr, b, sizeof b) != 0)
		return -1;
	m->read_any = 1;
	/* six consecutive words from 0xd8: cookie, slices, info_slices, kind, entries, thread_id */
	uint64_t *const words[] = {&h->cookie, &h->slices,  &h->info_slices,
	                           &h->kind,   &h->entries, &h->thread_id};
	for (size_t k = 0; k < sizeof words / sizeof words[0]; k++)
		*words[k] = rd64(b, 0xd8 + 8 * k);
	h->committed = 0;
	for (size_t off = 0x70; off < 0xb0; off += 8)
		h->committed += (uint64_t)__builtin_popcountll(rd64(b, off)) * MI_SLICE;
	if (rd64(b, 0x10) != MI_SEG) /* mem_alignment */
		return 0;
	if (h->kind == 0 && h->slices != MI_SEG / MI_SLICE)
		return 0;
	if (h->kind == 1 && (h->slices == 0 || h->slices > (MI_HINT_HI / MI_SLICE)))
		return 0;
	if (h->kind > 1 || h->info_slices == 0 || h->info_slices > h->slices ||
	    h->entries > MI_SEG / MI_SLICE)
		return 0;
	uint64_t x = h->cookie ^ addr;
	if (m->have_cookie && x != m->cookie_xor)
		return 0;
	m->have_cookie = 1;
	m->cookie_xor = x;
	return 1;
}

/* The kernel tid of the thread whose glibc TCB is at tcb, or 0. */
static int owner_tid(struct mi_state *m, uint64_t tcb)
{
	struct owner_cache *c = &m->owners;
	for (size_t k = 0; k < c->n; k++)
		if (c->tcb[k] == tcb)
			return c->tid[k];
	int tid = 0;
	uint64_t self[3];
	int32_t t;
	if (tcb && vms_attr_peek(m->a, tcb, self, sizeof self) == 0 && self[0] == tcb && self[2] == tcb &&
	    vms_attr_peek(m->a, tcb + TCB_TID, &t, sizeof t) == 0) {
		for (size_t k = 0; k < m->s->n_threads; k++)
			if (m->s->threads[k].tid == t)
				tid = t;
	}
	if (!tid && tcb) { /* the TCB lies at the top of the owner's stack mapping */
		long r = vms_attr_region_at(m->a, tcb);
		if (r >= 0) {
			const struct vms_allocation *al = &m->s->allocations[m->s->regions[r].allocation];
			if (al->type == VMS_TYPE_STACK && al->tid)
				tid = al->tid;
		}
	}
	if (c->n < MAX_OWNERS) {
		c->tcb[c->n] = tcb;
		c->tid[c->n] = tid;
		c->n++;
	}
	return tid;
}

static const char *owner_text(struct mi_state *m, uint64_t thread_id)
{
	if (!thread_id)
		return "abandoned: no owner thread";
	int tid = owner_tid(m, thread_id);
	if (tid)
		return vms_attr_fmt(m->a, "owner thread %d", tid);
	return vms_attr_fmt(m->a, "owner TCB 0x%llx, thread not matched", (unsigned long long)thread_id);
}

/* Regions [i, j): the smallest run of contiguous anonymous nr regions from i that ends exactly
 * at end, or 0 when the run breaks first. */
static size_t run_to(const struct vms_snapshot *s, const struct vms_attr *a, size_t i, uint64_t end)
{
	size_t j = i;
	while (j < s->n_regions && anon_nr(&s->regions[j]) && !vms_attr_claimed(a, j) &&
	       (j == i || s->regions[j].start == s->regions[j - 1].end)) {
		if (s->regions[j].end == end)
			return j + 1;
		if (s->regions[j].end > end)
			return 0;
		j++;
	}
	return 0;
}

static void set_roles(struct vms_attr *a, const struct vms_snapshot *s, size_t i, size_t j)
{
	for (size_t k = i; k < j; k++)
		vms_attr_role(a, k, s->regions[k].perms[0] == 'r' ? "committed" : "reserved");
}

/* Segments starting at region i (32 MiB-aligned start, header readable). Claims them and returns
 * the index after, or i when no segment header was found (*unreadable: because it could not be
 * read, as opposed to read and rejected). */
static size_t claim_segments(struct mi_state *m, size_t i, int *unreadable)
{
	const struct vms_snapshot *s = m->s;
	struct vms_attr *a = m->a;
	uint64_t seg = s->regions[i].start;
	struct seg_hdr h;
	int ok = read_header(m, seg, &h);
	*unreadable = ok < 0;
	if (ok != 1)
		return i;
	/* Follow segments until one ends on a region boundary (merged VMAs hold several). */
	uint64_t starts[64], ends[64], tids[64], comm[64];
	size_t n = 0, j = 0;
	for (;;) {
		uint64_t end = seg + h.slices * MI_SLICE;
		starts[n] = seg, ends[n] = end, tids[n] = h.thread_id, comm[n] = h.committed, n++;
		j = run_to(s, a, i, end);
		if (j || n == 64)
			break;
		seg = end;
		if (vms_attr_region_at(a, seg) < 0 || read_header(m, seg, &h) != 1)
			break;
	}
	if (!j) { /* the last segment does not end on a VMA boundary we can claim up to */
		n--;
		while (n && !(j = run_to(s, a, i, ends[n - 1])))
			n--;
		if (!n)
			return i;
	}
	const char *owner = owner_text(m, tids[0]);
	const char *kind = h.kind == 1 && n == 1 ? "mimalloc huge segment" : "mimalloc segment";
	uint64_t committed = 0;
	for (size_t k = 0; k < n; k++)
		committed += comm[k];
	struct vms_claim c = {
	    .type = VMS_TYPE_HEAP,
	    .details =
	        n == 1
	            ? vms_attr_fmt(
	                  a, "%s (%s), %llu MiB, %.1f MiB committed by its commit mask (segment header read)",
	                  kind, owner, (unsigned long long)((ends[0] - starts[0]) >> 20),
	                  (double)committed / (1 << 20))
	            : vms_attr_fmt(a,
	                           "mimalloc segments x%zu, merged by the kernel (first: %s), %.1f MiB "
	                           "committed by their commit masks "
	                           "(segment headers read)",
	                           n, owner, (double)committed / (1 << 20)),
	    .signal = "segment header read",
	};
	long id = vms_attr_claim(a, i, j - i, &c);
	if (id < 0)
		return i;
	set_roles(a, s, i, j);
	if (n > 1)
		for (size_t k = 0; k < n; k++)
			vms_attr_part(
			    a, id, starts[k], ends[k],
			    vms_attr_fmt(a, "mimalloc segment (%s), %.1f MiB committed by its commit mask",
			                 owner_text(m, tids[k]), (double)comm[k] / (1 << 20)));
	m->segments += (unsigned)n;
	return j;
}

/* Without a readable header: a run of nr regions from a 32 MiB-aligned start in the hint range
 * that ends on a 32 MiB boundary is a segment (or several) by geometry alone. */
static size_t claim_by_geometry(struct mi_state *m, size_t i)
{
	const struct vms_snapshot *s = m->s;
	uint64_t st = s->regions[i].start;
	if (st < MI_HINT_LO || st >= MI_HINT_HI)
		return i;
	size_t j = i;
	while (j < s->n_regions && anon_nr(&s->regions[j]) && !vms_attr_claimed(m->a, j) &&
	       (j == i || s->regions[j].start == s->regions[j - 1].end) && s->regions[j].end % MI_SEG != 0)
		j++;
	if (j >= s->n_regions || !anon_nr(&s->regions[j]) || vms_attr_claimed(m->a, j) ||
	    (j > i && s->regions[j].start != s->regions[j - 1].end))
		return i;
	j++;
	uint64_t len = s->regions[j - 1].end - st;
	struct vms_claim c = {
	    .type = VMS_TYPE_HEAP,
	    .details = vms_attr_fmt(m->a,
	                            "mimalloc segment%s, %llu MiB (guess: 32 MiB-aligned MAP_NORESERVE in "
	                            "mimalloc's hint range, header not read)",
	                            len > MI_SEG ? "s" : "", (unsigned long long)(len >> 20)),
	    .signal = "geometry",
	    .guess = 1,
	};
	if (vms_attr_claim(m->a, i, j - i, &c) < 0)
		return i;
	set_roles(m->a, s, i, j);
	m->guessed++;
	return j;
}

/* What is left with nr after the segments: one of mimalloc's own small OS allocations. */
static int is_small_os_allocation(const struct vms_region *r, const void *unused)
{
	(void)unused;
	int bss = r->type == VMS_TYPE_IMAGE && r->role && !strcmp(r->role, "bss"); /* a real .bss has no nr */
	return anon_nr(r) && r->perms[0] == 'r' && (r->type == VMS_TYPE_PRIVATE_DATA || bss) &&
	       r->end - r->start < MI_SEG;
}
static const struct vms_claim os_allocation = {VMS_TYPE_HEAP,
                                               "mimalloc OS allocation (per-thread heap data) (guess: "
                                               "MAP_NORESERVE outside segments, libmimalloc mapped)",
                                               "image + nr geometry", 1};

static const char *run(struct vms_attr *a)
{
	const struct vms_snapshot *s = vms_attr_snapshot(a);
	long lib = vms_attr_find_image(a, "libmimalloc.so");
	if (lib < 0)
		return NULL;
	struct mi_state m = {.a = a, .s = s};
	for (size_t i = 0; i < s->n_regions;) {
		const struct vms_region *r = &s->regions[i];
		if (!anon_nr(r) || vms_attr_claimed(a, i) || r->start % MI_SEG != 0) {
			i++;
			continue;
		}
		int unreadable = 1;
		size_t j = r->perms[0] == 'r' ? claim_segments(&m, i, &unreadable) : i;
		if (j == i && unreadable)
			j = claim_by_geometry(&m, i);
		i = j == i ? i + 1 : j;
	}
	/* What is left with nr: mimalloc's own small OS allocations (per-thread heap data). */
	m.others = vms_attr_claim_each(a, is_small_os_allocation, NULL, &os_allocation);
	const char *how = m.read_any ? "segment headers read" : "geometry only";
	return vms_attr_fmt(a,
	                    "libmimalloc mapped: %u segments by header, %u by geometry (guess), %u small OS "
	                    "allocations (guess); %s",
	                    m.segments, m.guessed, m.others, how);
}

const struct vms_recogniser vms_rec_mimalloc = {
    .key = "mimalloc",
    .what = "mimalloc 2.0 (libmimalloc mapped): 32 MiB-aligned MAP_NORESERVE segments in 2-30 TiB, confirmed "
            "by the "
            "segment header (512 slices, cookie XOR address constant) and named by owner thread (TCB); "
            "without memory reads by geometry (guess).",
    .run = run,
};
