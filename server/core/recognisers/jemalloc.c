/* Recogniser "jemalloc": the memory of jemalloc 5.x (Debian 12 libjemalloc2, 5.3.0).
 *
 * Signals, cheapest first:
 * 1. Presence: libjemalloc.so mapped (a preloaded library shows as a mapped image too).
 * 2. Geometry and flags: jemalloc 5 maps extents (and keeps "retained" address space,
 *    opt.retain) with MAP_NORESERVE whenever the kernel overcommits (jemalloc src/pages.c,
 *    os_overcommits), so its mappings are anonymous rw-p VMAs with `nr`, page-aligned and of
 *    irregular size. In a process whose malloc is jemalloc, glibc's malloc makes no arenas, so an
 *    anonymous rw-p nr VMA nobody earlier claimed is jemalloc's. A 64 MiB-aligned 64 MiB one the
 *    classifier took for a glibc arena heap is taken only when its heap_info header reads wrong,
 *    and a 64 MiB-aligned one whose heap_info reads right is left to glibc (merged heaps);
 *    one it took for an image's .bss (it follows the image's data) is taken: ld.so maps a real
 *    .bss without MAP_NORESERVE.
 * 3. Header reads: metadata ("base") blocks start HUGEPAGE (2 MiB)-aligned with
 *    {size_t size; base_block_t *next; edata_t edata} (src/base.c): size a non-zero multiple of
 *    2 MiB, next NULL or 2 MiB-aligned, and the edata tracking the block's unused tail
 *    (e_addr at +24, e_bsize at +32) ends exactly at block + size. Blocks sit anywhere inside
 *    merged VMAs, so every 2 MiB-aligned address of a candidate is tried (resident pages only).
 * 4. [heap]: jemalloc uses sbrk only with opt.dss; glibc's main arena is unused when jemalloc
 *    is the malloc, so a [heap] there is taken as jemalloc dss extents, labelled a guess.
 * One allocation per VMA (per run of VMAs when a base block crosses a VMA boundary), with a part
 * per base block when the VMA also holds extents. Arena numbers are not invented: the extent ->
 * arena map lives in the rtree, which is not cheap to walk. */
#include <string.h>

#include "../attribute.h"

#define HUGEPAGE ((uint64_t)2 << 20)
#define HEAP_MAX ((uint64_t)64 << 20)  /* glibc HEAP_MAX_SIZE, 64-bit */
#define MAX_BLOCK ((uint64_t)16 << 30) /* sanity bound for one base block */
#define MAX_PEEKS 8192                 /* base-block probes per scan */
#define MAX_BLOCKS 64                  /* recorded per claim (for parts) */

struct je_state {
	struct vms_attr *a;
	const struct vms_snapshot *s;
	unsigned peeks;
	unsigned extents, bases, blocks, heaps;
};

static int anon_rw_nr(const struct vms_region *r)
{
	return !r->path && r->inode == 0 && !strcmp(r->perms, "rw-p") && (r->vm_flag_bits & VMS_VMF_NR);
}

/* Does a glibc heap_info head the 64 MiB-aligned region r? glibc's arena heaps (arena.c) start
 * with {ar_ptr, prev, size, mprotect_size}: ar_ptr is the arena that follows the first heap's
 * heap_info (at +0x20, or +0x30 from glibc 2.35), prev NULL or heap-aligned, the sizes page
 * multiples within HEAP_MAX. 1 yes, 0 no, -1 unreadable. */
static int glibc_heap_info(struct je_state *m, const struct vms_region *r)
{
	uint64_t h[4];
	if (vms_attr_peek(m->a, r->start, h, sizeof h) != 0)
		return -1;
	uint64_t ar_off = h[0] & (HEAP_MAX - 1);
	return (ar_off == 0x20 || ar_off == 0x30) && (h[1] == 0 || h[1] % HEAP_MAX == 0) && h[2] >= 4096 &&
	       h[2] <= HEAP_MAX && h[2] % 4096 == 0 && h[3] >= h[2] && h[3] <= HEAP_MAX && h[3] % 4096 == 0;
}

/* May region i be jemalloc's extents? */
static int candidate(struct je_state *m, size_t i)
{
	const struct vms_region *r = &m->s->regions[i];
	if (vms_attr_claimed(m->a, i) || !anon_rw_nr(r))
		return 0;
	const struct vms_allocation *al = &m->s->allocations[r->allocation];
	int heap_aligned = r->start % HEAP_MAX == 0;
	if (r->type == VMS_TYPE_PRIVATE_DATA)
		return !heap_aligned ||
		       glibc_heap_info(m, r) != 1; /* glibc heaps merged past 64 MiB stay glibc's */
	/* The classifier takes the anonymous VMA right after an image's data as its .bss; ld.so
	 * maps a real .bss without MAP_NORESERVE, so an nr one is an mmap that landed there. */
	if (r->type == VMS_TYPE_IMAGE && r->role && !strcmp(r->role, "bss"))
		return 1;
	if (r->type == VMS_TYPE_HEAP && al->n_regions == 1 && r->end - r->start == HEAP_MAX && heap_aligned)
		return glibc_heap_info(m, r) ==
		       0; /* the classifier's glibc arena-heap geometry: only when read and wrong */
	return 0;
}

/* Is there a base block header at addr (2 MiB-aligned)? Its size, or 0. */
static uint64_t base_block(struct je_state *m, uint64_t addr)
{
	uint64_t h[5];
	if (m->peeks >= MAX_PEEKS)
		return 0;
	m->peeks++;
	if (vms_attr_peek(m->a, addr, h, sizeof h) != 0)
		return 0;
	uint64_t size = h[0], next = h[1], e_addr = h[3], e_bsize = h[4];
	if (size == 0 || size % HUGEPAGE || size > MAX_BLOCK || addr + size < addr)
		return 0;
	if (next == addr || (next && next % HUGEPAGE))
		return 0;
	if (e_addr < addr + sizeof h || e_addr > addr + size || e_addr + e_bsize != addr + size)
		return 0;
	return size;
}

/* End of the run of contiguous candidate regions starting at i (an address). */
static uint64_t run_limit(struct je_state *m, size_t i)
{
	const struct vms_region *R = m->s->regions;
	size_t j = i + 1;
	while (j < m->s->n_regions && R[j].start == R[j - 1].end && candidate(m, j))
		j++;
	return R[j - 1].end;
}

static void claim_vma(struct je_state *m, size_t *pi)
{
	const struct vms_snapshot *s = m->s;
	struct vms_attr *a = m->a;
	const struct vms_region *R = s->regions;
	size_t i = *pi, j = i + 1;
	uint64_t limit = 0, claim_end = R[i].end;
	uint64_t bs[MAX_BLOCKS], be[MAX_BLOCKS];
	size_t nb = 0;
	uint64_t base_bytes = 0;
	unsigned long steps = 0; /* the target chose the region's size: bound the 2 MiB steps */
	for (uint64_t p = (R[i].start + HUGEPAGE - 1) & ~(HUGEPAGE - 1);
	     s->peek == 1 && p < claim_end && steps++ < VMS_ATTR_MAX_STEPS;) {
		uint64_t size = base_block(m, p);
		if (size && p + size > claim_end && !limit)
			limit = run_limit(m, i); /* only when a block runs past the VMA: walking on costs */
		if (!size || (p + size > claim_end && p + size > limit)) {
			p += HUGEPAGE;
			continue;
		}
		if (nb < MAX_BLOCKS)
			bs[nb] = p, be[nb] = p + size;
		nb++;
		base_bytes += size;
		while (p + size > claim_end) /* the block runs into the next VMA: take it along */
			claim_end = R[j++].end;
		p += size;
	}
	int guess = s->peek != 1;
	const char *details;
	if (!nb)
		details = guess ? "jemalloc extents (guess: MAP_NORESERVE mapping, libjemalloc mapped; "
		                  "headers not read)"
		                : "jemalloc extents (active, dirty or retained; MAP_NORESERVE mapping, "
		                  "libjemalloc mapped)";
	else if (base_bytes == claim_end - R[i].start)
		details = vms_attr_fmt(a, "jemalloc base (metadata), %zu block%s (base block header read)",
		                       nb, nb > 1 ? "s" : "");
	else
		details = vms_attr_fmt(a,
		                       "jemalloc extents and base (metadata): %zu base block%s, %llu MiB "
		                       "(base block header read)",
		                       nb, nb > 1 ? "s" : "", (unsigned long long)(base_bytes >> 20));
	struct vms_claim c = {
	    .type = VMS_TYPE_HEAP,
	    .details = details,
	    .signal = nb ? "base block header read" : "image + nr geometry",
	    .guess = guess,
	};
	long id = vms_attr_claim(a, i, j - i, &c);
	*pi = j;
	if (id < 0)
		return;
	if (!nb)
		m->extents++;
	else if (base_bytes == claim_end - R[i].start)
		m->bases++;
	else
		m->extents++;
	m->blocks += (unsigned)nb;
	if (nb && base_bytes != claim_end - R[i].start && nb <= MAX_BLOCKS) {
		uint64_t at = R[i].start;
		for (size_t k = 0; k < nb; k++) {
			if (bs[k] > at)
				vms_attr_part(a, id, at, bs[k], "jemalloc extents");
			vms_attr_part(a, id, bs[k], be[k], "jemalloc base (metadata) block");
			at = be[k];
		}
		if (at < claim_end)
			vms_attr_part(a, id, at, claim_end, "jemalloc extents");
	}
}

/* The brk heap, where jemalloc puts extents with opt.dss. */
static int is_brk_heap(const struct vms_region *r, const void *unused)
{
	(void)unused;
	return r->path && !strcmp(r->path, "[heap]");
}
static const struct vms_claim dss_heap = {
    VMS_TYPE_HEAP,
    "jemalloc extents in the brk heap (opt.dss) (guess: jemalloc is "
    "the process's malloc, and the only one that grows the brk heap then)",
    "image + [heap]", 1};

static const char *run(struct vms_attr *a)
{
	const struct vms_snapshot *s = vms_attr_snapshot(a);
	if (vms_attr_find_image(a, "libjemalloc.so") < 0)
		return NULL;
	struct je_state m = {.a = a, .s = s};
	for (size_t i = 0; i < s->n_regions;) {
		if (!candidate(&m, i)) {
			i++;
			continue;
		}
		claim_vma(&m, &i);
	}
	m.heaps = vms_attr_claim_each(a, is_brk_heap, NULL, &dss_heap);
	return vms_attr_fmt(a, "libjemalloc mapped: %u extent VMAs, %u base-only VMAs, %u base blocks%s%s",
	                    m.extents, m.bases, m.blocks, m.heaps ? ", [heap] as dss (guess)" : "",
	                    s->peek == 1 ? "" : "; headers not read (geometry only)");
}

const struct vms_recogniser vms_rec_jemalloc = {
    .key = "jemalloc",
    .what = "jemalloc 5 (libjemalloc mapped): anonymous rw-p MAP_NORESERVE mappings as extents, metadata "
            "(base) blocks "
            "found by their 2 MiB-aligned header {size, next, edata}; a [heap] as dss extents (guess).",
    .run = run,
};
