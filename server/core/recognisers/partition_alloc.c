/* Recogniser "partition_alloc": Chromium's PartitionAlloc pools and the two garbage-collected
 * heaps a Chromium renderer reserves next to them (V8's sandbox, Oilpan's cage). Reference:
 * shared runtime-heaps.md section 11; PartitionAlloc partition_alloc_constants.h and
 * partition_address_space.cc, V8 include/cppgc/internal/api-constants.h and src/sandbox.
 * Geometry only (no memory reads), in a process with a Chromium-family image mapped:
 * - Pools: the regular and BRP pools (16 GiB each on 64-bit desktop) are reserved glued
 *   together, PROT_NONE, as one 32 GiB block aligned to 32 GiB: a run of anonymous regions
 *   starting and ending exactly there. Inside, 2 MiB super pages are committed piecemeal
 *   (guard and metadata/in-slot-metadata pages, slot spans, a 16 KiB guard tail). One Heap
 *   allocation per reservation; a part per super page with committed memory (a direct map
 *   crossing 2 MiB boundaries is one part).
 * - Super-page metadata kept outside the pools (newer PartitionAlloc): one pool-sized (16 GiB)
 *   anonymous reservation, not pool-aligned, whose committed 2 MiB units are exactly the pool
 *   super pages' offsets modulo the pool size. Claimed as Heap only when that cross-check holds.
 * - V8 sandbox: an anonymous reservation of 1 TiB or more (the sandbox plus its guard regions);
 *   its first accessible 4 GiB is the pointer-compression cage. Managed Heap.
 * - Oilpan (cppgc) caged heap: a 16 GiB reservation aligned to 16 GiB outside the above
 *   (CPPGC_ENABLE_LARGER_CAGE under pointer compression). Managed Heap, labelled a guess: the
 *   geometry alone does not rule out another 16 GiB cage.
 * - V8 code range: in a process with a V8 sandbox, a large (>= 64 MiB) anonymous rwxp region (V8
 *   11+ maps its code range RWX on x64 when code-space write protection is off). Managed Heap,
 *   as the v8 recogniser types node's code range. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../attribute.h"
#include "../region.h"

#define MIB (1ull << 20)
#define GIB (1ull << 30)
#define SUPER_PAGE (2 * MIB)
#define POOL_SIZE (16 * GIB)      /* kPoolMaxSize, desktop 64-bit */
#define POOL_PAIR (2 * POOL_SIZE) /* regular + BRP, reserved together */
#define CAGE_4G (4 * GIB)
#define OILPAN_CAGE (16 * GIB)
#define SANDBOX_MIN (1ull << 40)
#define CODE_RANGE_MIN (64 * MIB)

static const char *const images[] = {"chromium", "chrome", "electron",
                                     "msedge",   "libcef", "QtWebEngineProcess"};

/* Regions [i, i + n) form an unclaimed run of anonymous private regions, address-contiguous,
 * starting exactly at R[i].start with a PROT_NONE region and ending exactly at
 * R[i].start + size. Returns n, or 0. */
static size_t exact_run(const struct vms_attr *a, size_t i, uint64_t size)
{
	const struct vms_snapshot *s = vms_attr_snapshot(a);
	const struct vms_region *R = s->regions;
	if (!vms_region_anon_private(&R[i]) || !vms_region_no_access(&R[i]) || vms_attr_claimed(a, i))
		return 0;
	uint64_t end = R[i].start + size;
	size_t j = i + 1;
	while (j < s->n_regions && R[j].start == R[j - 1].end && R[j].end <= end &&
	       vms_region_anon_private(&R[j]) && !vms_attr_claimed(a, j))
		j++;
	return R[j - 1].end == end ? j - i : 0;
}

/* The maximal unclaimed run of contiguous anonymous private regions starting at i. */
static size_t max_run(const struct vms_attr *a, size_t i)
{
	const struct vms_snapshot *s = vms_attr_snapshot(a);
	const struct vms_region *R = s->regions;
	if (!vms_region_anon_private(&R[i]) || vms_attr_claimed(a, i))
		return 0;
	size_t j = i + 1;
	while (j < s->n_regions && R[j].start == R[j - 1].end && vms_region_anon_private(&R[j]) &&
	       !vms_attr_claimed(a, j))
		j++;
	return j - i;
}

/* Claim [i, i + n) as c, one reservation whose regions' roles say "reserved", "committed" or
 * "read-only". The allocation's id, or -1 when the claim is refused. */
static long claim_reservation(struct vms_attr *a, size_t i, size_t n, const struct vms_claim *c)
{
	long id = vms_attr_claim(a, i, n, c);
	if (id < 0)
		return -1;
	const struct vms_region *R = vms_attr_snapshot(a)->regions;
	for (size_t k = i; k < i + n; k++)
		vms_attr_role(a, k,
		              vms_region_no_access(&R[k]) ? "reserved"
		              : R[k].perms[1] == 'w'      ? "committed"
		                                          : "read-only");
	return id;
}

static uint64_t committed_bytes(const struct vms_region *R, size_t i, size_t n)
{
	uint64_t c = 0;
	for (size_t k = i; k < i + n; k++)
		if (!vms_region_no_access(&R[k]))
			c += R[k].end - R[k].start;
	return c;
}

/* Super-page units (offset / 2 MiB, modulo the pool size) of a pool pair with committed memory,
 * as a bitmap of POOL_SIZE / SUPER_PAGE bits. */
struct units {
	unsigned char bits[POOL_SIZE / SUPER_PAGE / 8];
	int any;
};

static void units_mark(struct units *u, uint64_t offset_in_pool)
{
	uint64_t k = (offset_in_pool % POOL_SIZE) / SUPER_PAGE;
	u->bits[k / 8] |= (unsigned char)(1u << (k % 8));
	u->any = 1;
}

static int units_has(const struct units *u, uint64_t offset)
{
	uint64_t k = (offset % POOL_SIZE) / SUPER_PAGE;
	return u->bits[k / 8] >> (k % 8) & 1;
}

/* The next run of super pages with committed memory among regions [*k, end): the super pages
 * [*s0, *s1] (counted from base) of one committed region, joined with the following ones while
 * a region reaches into the run's last super page (a direct map). Reserved regions in between
 * are passed over. Leaves *k at the first region after the run; 0 when no run is left. */
static int next_span(const struct vms_region *R, uint64_t base, size_t end, size_t *k, uint64_t *s0,
                     uint64_t *s1)
{
	while (*k < end && vms_region_no_access(&R[*k]))
		++*k;
	if (*k >= end)
		return 0;
	*s0 = (R[*k].start - base) / SUPER_PAGE;
	*s1 = (R[*k].end - 1 - base) / SUPER_PAGE;
	for (++*k; *k < end; ++*k) {
		if (vms_region_no_access(&R[*k]))
			continue;
		if ((R[*k].start - base) / SUPER_PAGE > *s1)
			break;
		uint64_t u1 = (R[*k].end - 1 - base) / SUPER_PAGE;
		if (u1 > *s1)
			*s1 = u1;
	}
	return 1;
}

/* One pool pair at regions [i, i + n): claim, and a part per committed super page (or run of
 * super pages joined by a region that crosses their boundary: a direct map). */
static int claim_pools(struct vms_attr *a, size_t i, size_t n, struct units *u)
{
	const struct vms_region *R = vms_attr_snapshot(a)->regions;
	uint64_t base = R[i].start, s0, s1;
	size_t spans[2] = {0, 0}; /* parts in the regular and BRP pool */
	for (size_t k = i; next_span(R, base, i + n, &k, &s0, &s1);)
		spans[s0 * SUPER_PAGE >= POOL_SIZE]++;
	struct vms_claim c = {
	    .type = VMS_TYPE_HEAP,
	    .details = vms_attr_fmt(
	        a,
	        "PartitionAlloc pools (regular + BRP), %llu GiB reserved: %zu super pages or direct maps "
	        "with committed memory (%zu regular, %zu BRP), %llu MiB committed",
	        (unsigned long long)(POOL_PAIR / GIB), spans[0] + spans[1], spans[0], spans[1],
	        (unsigned long long)(committed_bytes(R, i, n) / MIB)),
	    .signal = "geometry: 32 GiB-aligned pool reservation",
	};
	long id = claim_reservation(a, i, n, &c);
	if (id < 0)
		return 0;
	for (size_t k = i; next_span(R, base, i + n, &k, &s0, &s1);) {
		for (uint64_t x = s0; x <= s1; x++)
			units_mark(u, x * SUPER_PAGE);
		const char *pool = s0 * SUPER_PAGE >= POOL_SIZE ? "BRP pool" : "regular pool";
		const char *d =
		    s1 == s0 ? vms_attr_fmt(a, "PartitionAlloc super page (%s)", pool)
		             : vms_attr_fmt(a, "PartitionAlloc direct map (%llu MiB, %s)",
		                            (unsigned long long)((s1 - s0 + 1) * SUPER_PAGE / MIB), pool);
		vms_attr_part(a, id, base + s0 * SUPER_PAGE, base + (s1 + 1) * SUPER_PAGE, d);
	}
	return 1;
}

/* A pool-sized reservation whose committed 2 MiB units are all super pages of the pools. */
static int claim_metadata(struct vms_attr *a, size_t i, size_t n, const struct units *u)
{
	const struct vms_region *R = vms_attr_snapshot(a)->regions;
	uint64_t base = R[i].start;
	if (R[i + n - 1].end - base != POOL_SIZE || !vms_region_no_access(&R[i]))
		return 0;
	size_t committed = 0;
	for (size_t k = i; k < i + n; k++) {
		if (vms_region_no_access(&R[k]))
			continue;
		if (R[k].end - R[k].start > 64 * 1024 || !units_has(u, R[k].start - base))
			return 0; /* metadata pages are small and mirror a committed super page */
		committed++;
	}
	if (!committed)
		return 0;
	struct vms_claim c = {
	    .type = VMS_TYPE_HEAP,
	    .details =
	        vms_attr_fmt(a,
	                     "PartitionAlloc super-page metadata (kept outside the pools), 16 GiB reserved, "
	                     "%zu metadata pages committed",
	                     committed),
	    .signal = "geometry: pool-sized reservation mirroring the committed super pages",
	};
	return claim_reservation(a, i, n, &c) >= 0;
}

static int claim_sandbox(struct vms_attr *a, size_t i, size_t n)
{
	const struct vms_region *R = vms_attr_snapshot(a)->regions;
	uint64_t start = R[i].start, end = R[i + n - 1].end;
	uint64_t cage = 0;
	for (size_t k = i; k < i + n && !cage; k++)
		if (!vms_region_no_access(&R[k]))
			cage = R[k].start & ~(CAGE_4G - 1);
	if (cage < start)
		cage = 0;
	struct vms_claim c = {
	    .type = VMS_TYPE_MANAGED_HEAP,
	    .details = vms_attr_fmt(
	        a,
	        "V8 sandbox, %llu GiB reserved with its guard regions (pointer-compression cage, V8 heap "
	        "and ArrayBuffer memory inside), %llu MiB committed",
	        (unsigned long long)((end - start) / GIB),
	        (unsigned long long)(committed_bytes(R, i, n) / MIB)),
	    .signal = "geometry: reservation of 1 TiB or more in a Chromium process",
	};
	long id = claim_reservation(a, i, n, &c);
	if (id < 0)
		return 0;
	if (cage && cage + CAGE_4G <= end) {
		if (cage > start)
			vms_attr_part(a, id, start, cage, "V8 sandbox guard region");
		vms_attr_part(a, id, cage, cage + CAGE_4G, "V8 pointer-compression cage (4 GiB)");
		vms_attr_part(a, id, cage + CAGE_4G, end, "V8 sandbox (ArrayBuffer memory, guard regions)");
	}
	return 1;
}

static int claim_code_range(struct vms_attr *a, size_t i)
{
	const struct vms_region *r = &vms_attr_snapshot(a)->regions[i];
	struct vms_claim c = {
	    .type = VMS_TYPE_MANAGED_HEAP,
	    .details = vms_attr_fmt(a, "V8 code range (JIT code, RWX), %llu MiB",
	                            (unsigned long long)((r->end - r->start) / MIB)),
	    .signal = "geometry: large anonymous rwx region next to a V8 sandbox",
	};
	if (vms_attr_claim(a, i, 1, &c) < 0)
		return 0;
	vms_attr_role(a, i, "code");
	return 1;
}

static int claim_oilpan(struct vms_attr *a, size_t i, size_t n)
{
	const struct vms_region *R = vms_attr_snapshot(a)->regions;
	struct vms_claim c = {
	    .type = VMS_TYPE_MANAGED_HEAP,
	    .details =
	        vms_attr_fmt(a, "Oilpan (cppgc) caged heap, 16 GiB reserved, %llu KiB committed (guess)",
	                     (unsigned long long)(committed_bytes(R, i, n) / 1024)),
	    .signal = "geometry: 16 GiB reservation aligned to 16 GiB",
	    .guess = 1,
	};
	return claim_reservation(a, i, n, &c) >= 0;
}

static const char *run(struct vms_attr *a)
{
	const struct vms_snapshot *s = vms_attr_snapshot(a);
	long img = -1;
	for (size_t k = 0; k < sizeof images / sizeof images[0] && img < 0; k++)
		img = vms_attr_find_image(a, images[k]);
	if (img < 0)
		return NULL;
	struct units *u = calloc(1, sizeof *u);
	if (!u)
		return NULL;
	unsigned pools = 0, metadata = 0, sandboxes = 0, cages = 0, code = 0;
	size_t n;
	for (size_t i = 0; i < s->n_regions; i++)
		if (s->regions[i].start % POOL_PAIR == 0 && (n = exact_run(a, i, POOL_PAIR)) != 0)
			pools += (unsigned)claim_pools(a, i, n, u);
	for (size_t i = 0; u->any && i < s->n_regions; i++)
		if ((n = max_run(a, i)) != 0) {
			metadata += (unsigned)claim_metadata(a, i, n, u);
			i += n - 1;
		}
	for (size_t i = 0; i < s->n_regions; i++)
		if ((n = max_run(a, i)) != 0) {
			if (s->regions[i + n - 1].end - s->regions[i].start >= SANDBOX_MIN)
				sandboxes += (unsigned)claim_sandbox(a, i, n);
			i += n - 1;
		}
	for (size_t i = 0; sandboxes && i < s->n_regions; i++) {
		const struct vms_region *r = &s->regions[i];
		if (vms_region_anon_private(r) && !strcmp(r->perms, "rwxp") &&
		    r->end - r->start >= CODE_RANGE_MIN && !vms_attr_claimed(a, i))
			code += (unsigned)claim_code_range(a, i);
	}
	for (size_t i = 0; i < s->n_regions; i++)
		if (s->regions[i].start % OILPAN_CAGE == 0 && (n = exact_run(a, i, OILPAN_CAGE)) != 0)
			cages += (unsigned)claim_oilpan(a, i, n);
	free(u);
	const char *image = strrchr(s->regions[img].path, '/');
	return vms_attr_fmt(
	    a,
	    "%s: %u PartitionAlloc pool reservation%s, %u metadata region%s, %u V8 sandbox%s, %u V8 code "
	    "range%s, %u Oilpan cage%s",
	    image ? image + 1 : s->regions[img].path, pools, pools == 1 ? "" : "s", metadata,
	    metadata == 1 ? "" : "s", sandboxes, sandboxes == 1 ? "" : "es", code, code == 1 ? "" : "s",
	    cages, cages == 1 ? "" : "s");
}

const struct vms_recogniser vms_rec_partition_alloc = {
    .key = "partition_alloc",
    .what = "Chromium-family processes: PartitionAlloc's 32 GiB-aligned regular+BRP pool reservation (parts "
            "per 2 MiB "
            "super page) and its out-of-pool super-page metadata region as Heap; the V8 sandbox (>= 1 TiB "
            "reservation, "
            "pointer-compression cage inside), the 16 GiB Oilpan cage (a guess) and the RWX V8 code range as "
            "Managed Heap. Geometry only.",
    .run = run,
};
