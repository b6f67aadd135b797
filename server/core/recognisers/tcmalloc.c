/* Recogniser "tcmalloc": gperftools tcmalloc (Debian 12 libgoogle-perftools4 /
 * libtcmalloc-minimal4, 2.10) and, by address tag, Google's tcmalloc.
 *
 * gperftools, signals cheapest first:
 * 1. Presence: libtcmalloc*.so mapped (minimal, full, debug, and_profiler; a preloaded library
 *    shows as a mapped image too).
 * 2. [heap]: TCMalloc_SystemAlloc tries sbrk first and mmap only when sbrk fails (gperftools
 *    src/system-alloc.cc, InitSystemAllocators, tag gperftools-2.10); the page heap and the
 *    metadata (MetaDataAlloc) both come from there. So in a tcmalloc process [heap] is
 *    tcmalloc's page heap, not glibc's main arena.
 * 3. Only when sbrk evidently does not carry the page heap ([heap] absent or under 16 MiB: sbrk
 *    failed, or TCMALLOC_SKIP_SBRK): nameless anonymous rw-p VMAs of at least 1 MiB
 *    (kMinSystemAlloc) whose start and end are 8 KiB-aligned (kPageSize; MmapSysAllocator
 *    aligns both) are tcmalloc's mmapped spans or metadata, labelled a guess: nothing inside is
 *    cheaply parseable, and other mmap users (pymalloc arenas) look alike.
 * Google tcmalloc (github.com/google/tcmalloc, usually linked statically): it reserves hinted
 * mappings whose address carries a tag in bits 42-44 (tcmalloc/internal/memory_tag.h):
 * normal 0x1000_0000_0000-0x13ff_ffff_ffff, normal P1 0x1800..., metadata 0x0c00..., cold
 * 0x0800... Anonymous VMAs there without MAP_NORESERVE (mimalloc's segments, which can live at
 * the same addresses, carry nr) are claimed per 1 GiB reservation unit, as a guess.
 * (Named [anon:tcmalloc_region_*] mappings are the names recogniser's, which runs first.) */
#include <string.h>

#include "../attribute.h"
#include "../region.h"

#define MIN_SYSTEM_ALLOC ((uint64_t)1 << 20) /* gperftools kMinSystemAlloc = 128 pages of 8 KiB */
#define TC_PAGE ((uint64_t)8 << 10)          /* gperftools kPageSize */
#define SMALL_BRK ((uint64_t)16 << 20)       /* a [heap] this small does not hold the page heap */
#define GIB ((uint64_t)1 << 30)
#define TAG_SHIFT 42

/* Google tcmalloc's tag for an address, or NULL when it is not in a tagged range we name. Only
 * the "normal" tags (16 TiB and up) are named: the cold (8 TiB) and metadata (12 TiB) ranges
 * overlap where mimalloc (2-30 TiB) and Go (its 0x??c000000000 arena hints, also used for
 * reservations Go does not own) place memory, and the address is all this rule has. */
static const char *google_tag(uint64_t addr)
{
	if (addr >> 47)
		return NULL;
	if ((addr & ((1ull << 40) - 1)) == 0xc000000000ull) /* a Go arena hint address */
		return NULL;
	switch (addr >> TAG_SHIFT) {
	case 4:
		return "NORMAL";
	case 6:
		return "NORMAL_P1";
	default:
		return NULL;
	}
}

/* Google tcmalloc regions: runs of anonymous non-nr regions in one tagged range, cut at 1 GiB
 * (kMinMmapAlloc) boundaries. */
static unsigned claim_google(struct vms_attr *a, const struct vms_snapshot *s)
{
	unsigned n = 0;
	if (vms_attr_find_image(a, "libmimalloc.so") >= 0)
		return 0;
	for (size_t i = 0; i < s->n_regions;) {
		const struct vms_region *r = &s->regions[i];
		const char *tag = google_tag(r->start);
		if (!tag || !vms_region_anon_private(r) || (r->vm_flag_bits & VMS_VMF_NR) ||
		    vms_attr_claimed(a, i)) {
			i++;
			continue;
		}
		uint64_t unit_end = (r->start & ~(GIB - 1)) + GIB;
		size_t j = i + 1;
		while (j < s->n_regions && s->regions[j].start == s->regions[j - 1].end &&
		       s->regions[j - 1].end < unit_end && s->regions[j].end <= unit_end &&
		       vms_region_anon_private(&s->regions[j]) &&
		       !(s->regions[j].vm_flag_bits & VMS_VMF_NR) && !vms_attr_claimed(a, j) &&
		       google_tag(s->regions[j].start) == tag)
			j++;
		struct vms_claim c = {
		    .type = VMS_TYPE_HEAP,
		    .details =
		        vms_attr_fmt(a, "Google tcmalloc region %s (guess: address tag 0x%llx in bits 42-44)",
		                     tag, (unsigned long long)(r->start >> TAG_SHIFT)),
		    .signal = "tagged address",
		    .guess = 1,
		};
		if (vms_attr_claim(a, i, j - i, &c) >= 0) {
			n++;
			for (size_t k = i; k < j; k++)
				vms_attr_role(a, k, s->regions[k].perms[0] == '-' ? "reserved" : "committed");
		}
		i = j;
	}
	return n;
}

static const char *run(struct vms_attr *a)
{
	const struct vms_snapshot *s = vms_attr_snapshot(a);
	unsigned google = claim_google(a, s);
	long lib = vms_attr_find_image(a, "libtcmalloc");
	if (lib < 0)
		return google ? vms_attr_fmt(a, "%u Google tcmalloc regions by address tag (guess)", google)
		              : NULL;
	unsigned heaps = 0, spans = 0;
	long brk = -1;
	for (size_t i = 0; i < s->n_regions && brk < 0; i++)
		if (s->regions[i].path && !strcmp(s->regions[i].path, "[heap]"))
			brk = (long)i;
	int mmapped = brk < 0 || s->regions[brk].end - s->regions[brk].start < SMALL_BRK;
	for (size_t i = 0; i < s->n_regions; i++) {
		const struct vms_region *r = &s->regions[i];
		if (vms_attr_claimed(a, i))
			continue;
		struct vms_claim c = {.type = VMS_TYPE_HEAP};
		if (r->path && !strcmp(r->path, "[heap]")) {
			c.details =
			    "tcmalloc page heap and metadata (sbrk: gperftools allocates with sbrk first)";
			c.signal = "image + [heap]";
			if (vms_attr_claim(a, i, 1, &c) >= 0)
				heaps++;
		} else if (mmapped && vms_region_anon_private(r) && !strcmp(r->perms, "rw-p") &&
		           r->type == VMS_TYPE_PRIVATE_DATA &&
		           s->allocations[r->allocation].details == NULL &&
		           r->end - r->start >= MIN_SYSTEM_ALLOC && r->start % TC_PAGE == 0 &&
		           r->end % TC_PAGE == 0) {
			c.details = "tcmalloc spans or metadata, mmapped (guess: nameless 8 KiB-aligned "
			            "anonymous memory of 1 MiB or more, "
			            "libtcmalloc mapped, no large [heap])";
			c.signal = "image + geometry";
			c.guess = 1;
			if (vms_attr_claim(a, i, 1, &c) >= 0)
				spans++;
		}
	}
	return vms_attr_fmt(a, "%s mapped: [heap] %s, %u mmapped span VMAs (guess)%s",
	                    strrchr(s->regions[lib].path, '/') + 1,
	                    heaps ? "is the page heap (sbrk)" : "absent", spans,
	                    google ? vms_attr_fmt(a, ", %u Google tcmalloc regions (guess)", google) : "");
}

const struct vms_recogniser vms_rec_tcmalloc = {
    .key = "tcmalloc",
    .what = "gperftools tcmalloc (libtcmalloc mapped): [heap] is its sbrk page heap and metadata, nameless "
            "anonymous "
            "8 KiB-aligned VMAs of 1 MiB or more its mmapped spans when sbrk is not in use (guess); Google "
            "tcmalloc by the address tag in bits 42-44 (guess).",
    .run = run,
};
