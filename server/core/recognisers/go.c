/* Recogniser "go": the Go runtime's heap arenas and off-heap metadata, in a Go program or in
 * a process that loaded a Go c-shared library (linux/amd64 layout; Go 1.11+).
 *
 * On arm64 the hints are i<<40 | 0x0040<<32 and the index has no bias; 32-bit layouts (4 MiB
 * arenas) are not handled.
 *
 * Signals, cheapest first (docs/memory-types.md, "go"; runtime-heaps.md section 9):
 * 1. A Go ELF among the mapped images: section .go.buildinfo starting with the magic
 *    "\xff Go buildinf:", its version string at +32 when flags bit 0x2 is set (Go 1.18+). Each
 *    image file is read once per scan (ELF header, section headers, .shstrtab, 64 bytes).
 * 2. Heap arenas by geometry: anonymous private rw-p/---p runs starting on a hint address
 *    (i<<40 | 0x00c0<<32, i = 0..0x7f) and ending on a 64 MiB boundary (heapArenaBytes,
 *    golang/go src/runtime/malloc.go). One contiguous reservation = one Managed Heap
 *    allocation (Committed = its rw part), one part per 64 MiB arena.
 * 3. Memory reads (when allowed): the arena index (the L2 map of 2^22 *heapArena, 32 MiB) is
 *    found by reading each hint arena's entry at L2 + ((arena + 2^47) >> 26) * 8. From then on
 *    the index decides which 64 MiB-aligned addresses are arenas (also away from the hints:
 *    sysReserveAligned once every hint failed), and its pointers locate the heapArena structs.
 * 4. Off-heap metadata by geometry: page-allocator summaries and the scavenger index (huge
 *    PROT_NONE reservations with small rw islands), 256 KiB persistentalloc chunks, and, in a
 *    program with no dynamic loader (a static Go binary, where the Go runtime is the only
 *    thing that maps anonymous memory), every other anonymous mapping.
 * Threads whose stack pointer lies inside a claimed arena run on goroutine or g0 stacks that
 * are spans of the heap (malg in proc.go); they get a note instead of a Stack row.
 * Without a readable ELF (saved text) a reservation at exactly a hint address is still named,
 * as a guess. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../attribute.h"
#include "../region.h"

#define MIB (1ull << 20)
#define ARENA_BYTES (64 * MIB) /* heapArenaBytes on linux/amd64 */
#define HINT_MASK ((1ull << 40) - 1)
#define HINT_LOW_AMD64 0xc000000000ull /* low 40 bits of every arena hint (malloc.go mallocinit) */
#define HINT_LOW_ARM64 0x4000000000ull /* arm64 (not ios): 0x0040 << 32 */
#define HINT_MAX_I 0x7full
#define L2_BYTES (32 * MIB)            /* (1 << arenaL2Bits) pointers, arenaL2Bits = 22 */
#define BIAS_AMD64 0x800000000000ull   /* -arenaBaseOffset on amd64; 0 on arm64 */
#define PERSISTENT_CHUNK (256 * 1024)  /* persistentChunkSize, malloc.go */
#define MAX_RUNS 256                   /* arena reservations we track per scan */
#define MAX_ARENAS 4096                /* arenas (256 GiB of heap) we track per scan */
#define MAX_ELF_FILES 4096             /* distinct image files we look at per scan */
#define MAX_L2_PEEKS 4096              /* memory reads spent looking for the arena index */
#define INDEX_STEPS VMS_ATTR_MAX_STEPS /* 64 MiB steps through the index: 4 TiB of address space */

/* ---- step 1: a Go ELF among the mapped images ------------------------------------------ */

static uint64_t le(const unsigned char *p, int n)
{
	uint64_t v = 0;
	for (int k = n - 1; k >= 0; k--)
		v = v << 8 | p[k];
	return v;
}

/* Does the ELF file at path carry .go.buildinfo? 1 with the version in ver (or "" when the
 * build info predates Go 1.18's inline strings), 0 when not Go, -1 when unreadable. */
static int go_buildinfo(struct vms_attr *a, const char *path, char *ver, size_t vlen)
{
	unsigned char eh[64];
	unsigned char *sh = NULL, *names = NULL;
	int ret = 0;
	ver[0] = 0;
	long got = vms_attr_read_file(a, path, 0, eh, sizeof eh);
	if (got < 0)
		return -1;
	if (got < 64 || memcmp(eh, "\177ELF", 4) != 0 || eh[4] != 2 /* ELFCLASS64 */ || eh[5] != 1 /* LE */)
		return 0;
	uint64_t shoff = le(eh + 0x28, 8);
	unsigned shentsize = (unsigned)le(eh + 0x3a, 2), shnum = (unsigned)le(eh + 0x3c, 2);
	unsigned shstrndx = (unsigned)le(eh + 0x3e, 2);
	if (shentsize != 64 || shnum == 0 || shnum > 1024 || shstrndx >= shnum)
		return 0;
	size_t shbytes = (size_t)shnum * 64;
	sh = malloc(shbytes);
	if (!sh || vms_attr_read_file(a, path, shoff, sh, shbytes) != (long)shbytes)
		goto out;
	const unsigned char *strh = sh + (size_t)shstrndx * 64;
	uint64_t stroff = le(strh + 0x18, 8), strsize = le(strh + 0x20, 8);
	if (strsize == 0 || strsize > 64 * 1024)
		goto out;
	names = malloc(strsize + 1);
	if (!names)
		goto out;
	long n = vms_attr_read_file(a, path, stroff, names, strsize);
	if (n <= 0)
		goto out;
	names[n] = 0;
	for (unsigned k = 0; k < shnum; k++) {
		const unsigned char *h = sh + (size_t)k * 64;
		uint64_t name = le(h, 4);
		if (name >= (uint64_t)n || strcmp((const char *)names + name, ".go.buildinfo") != 0)
			continue;
		unsigned char bi[32 + 1 + 64];
		long m = vms_attr_read_file(a, path, le(h + 0x18, 8), bi, sizeof bi);
		if (m < 32 || memcmp(bi, "\377 Go buildinf:", 14) != 0)
			break;
		ret = 1;
		if (bi[15] & 2) { /* Go 1.18+: varint-prefixed version string at +32 */
			size_t len = bi[32];
			if (len < 0x80 && 33 + len <= (size_t)m && len < vlen) {
				size_t o = 0;
				for (size_t c = 0; c < len; c++)
					if (bi[33 + c] > 0x20 && bi[33 + c] < 0x7f)
						ver[o++] = (char)bi[33 + c];
				ver[o] = 0;
			}
		}
		break;
	}
out:
	free(sh);
	free(names);
	return ret;
}

struct go_found {
	int n_go;         /* Go ELFs found */
	int n_readable;   /* image files we could read */
	int dynamic;      /* a dynamic loader is mapped (cgo, c-shared): others map memory too */
	char version[64]; /* "go1.19.8", "go1.19.8 + go1.21.0", or "" */
};

static void find_go(struct vms_attr *a, struct go_found *g)
{
	const struct vms_snapshot *s = vms_attr_snapshot(a);
	struct file_id {
		uint64_t inode;
		unsigned dev_major, dev_minor;
	} seen[64];
	size_t n_seen = 0, tried = 0;
	memset(g, 0, sizeof *g);
	g->dynamic = vms_attr_find_image(a, "ld-linux") >= 0 || vms_attr_find_image(a, "ld-musl") >= 0 ||
	             vms_attr_find_image(a, "ld-2.") >= 0 || vms_attr_find_image(a, "ld64.so") >= 0;
	for (size_t i = 0; i < s->n_regions && tried < MAX_ELF_FILES; i++) {
		const struct vms_region *r = &s->regions[i];
		if (r->type != VMS_TYPE_IMAGE || !r->path || r->path[0] != '/' || r->offset != 0 ||
		    r->inode == 0)
			continue;
		/* once per file: mappings of one file are adjacent; remember the last 64 files */
		int dup = 0;
		for (size_t k = 0; k < n_seen && !dup; k++)
			dup = seen[k].inode == r->inode && seen[k].dev_major == r->dev_major &&
			      seen[k].dev_minor == r->dev_minor;
		if (dup)
			continue;
		seen[tried % 64] = (struct file_id){r->inode, r->dev_major, r->dev_minor};
		if (n_seen < 64)
			n_seen++;
		tried++;
		char ver[32];
		int is_go = go_buildinfo(a, r->path, ver, sizeof ver);
		if (is_go >= 0)
			g->n_readable++;
		if (is_go != 1)
			continue;
		if (!ver[0])
			strcpy(ver, "Go <1.18");
		if (!strstr(g->version, ver)) {
			size_t used = strlen(g->version);
			if (used + strlen(ver) + 4 < sizeof g->version)
				strcat(strcat(g->version, used ? " + " : ""), ver);
		}
		g->n_go++;
	}
}

/* ---- step 2: arena reservations -------------------------------------------------------- */

/* The 64-bit layouts we know: amd64 (and unknown 64-bit machines) and arm64 (malloc.go). */
static int is_arm64(const struct vms_snapshot *s)
{
	return s->arch.machine && (!strcmp(s->arch.machine, "aarch64") || !strcmp(s->arch.machine, "arm64"));
}

static uint64_t hint_low(const struct vms_snapshot *s)
{
	return is_arm64(s) ? HINT_LOW_ARM64 : HINT_LOW_AMD64;
}

static uint64_t index_bias(const struct vms_snapshot *s)
{
	return is_arm64(s) ? 0 : BIAS_AMD64;
}

static int is_rw(const struct vms_region *r)
{
	return r->perms[0] == 'r' && r->perms[1] == 'w' && r->perms[2] == '-';
}

static uint64_t rw_bytes(const struct vms_snapshot *s, size_t first, size_t n)
{
	uint64_t b = 0;
	for (size_t k = first; k < first + n; k++)
		if (!vms_region_no_access(&s->regions[k]))
			b += s->regions[k].end - s->regions[k].start;
	return b;
}

/* Does a glibc arena heap start at region i: rw-p on a 64 MiB boundary, with its PROT_NONE
 * tail (if any) ending on the next one (glibc >= 2.37 maps heaps without MAP_NORESERVE, so
 * their flags look like Go's)? A Go arena starts on such a boundary too: callers use this only
 * to stop runs that already started, and to keep heaps out of summary runs. */
static int glibc_heap_at(const struct vms_snapshot *s, size_t i)
{
	const struct vms_region *R = s->regions;
	if (!is_rw(&R[i]) || !vms_region_anon_private(&R[i]) || R[i].start % ARENA_BYTES)
		return 0;
	if (R[i].end - R[i].start == ARENA_BYTES)
		return 1;
	return i + 1 < s->n_regions && R[i + 1].start == R[i].end && vms_region_no_access(&R[i + 1]) &&
	       vms_region_anon_private(&R[i + 1]) && R[i + 1].end - R[i].start == ARENA_BYTES;
}

/* May a Go structure take region i? Unclaimed, anonymous, and typed by the classifier only
 * from geometry we override (Private Data, Reserved; Stack when stacks is set, since the
 * classifier types a region Stack whenever a thread's SP lies in it). */
static int takeable(const struct vms_attr *a, size_t i, int stacks)
{
	const struct vms_region *r = &vms_attr_snapshot(a)->regions[i];
	if (vms_attr_claimed(a, i) || !vms_region_anon_private(r) || !(is_rw(r) || vms_region_no_access(r)))
		return 0;
	if (r->vm_flag_bits &
	    VMS_VMF_NR) /* Go never maps MAP_NORESERVE; glibc <= 2.36 heaps, jemalloc, ... do */
		return 0;
	return r->type == VMS_TYPE_PRIVATE_DATA || r->type == VMS_TYPE_RESERVED ||
	       (stacks && r->type == VMS_TYPE_STACK);
}

struct run {
	size_t first, n;     /* regions: exactly the arenas, or more when the kernel merged a neighbour in */
	uint64_t start, end; /* the arenas: 64 MiB-aligned, a multiple of 64 MiB long */
	int hint;            /* starts at a hint address */
	int confirmed;       /* its arena index entries were read */
	uint64_t committed;  /* rw bytes of its regions */
	long claim;
};

/* The arena reservation starting at region i, or 0: anonymous rw-p/---p regions from a 64 MiB
 * boundary, cut at the last 64 MiB boundary the run reaches. */
static int arena_run(const struct vms_attr *a, size_t i, struct run *out)
{
	const struct vms_snapshot *s = vms_attr_snapshot(a);
	const struct vms_region *R = s->regions;
	if (R[i].start % ARENA_BYTES || !takeable(a, i, 1))
		return 0;
	size_t j = i, cut = i;
	while (j < s->n_regions && takeable(a, j, 1) && (j == i || R[j].start == R[j - 1].end) &&
	       (j == i || !glibc_heap_at(s, j))) {
		j++;
		if (R[j - 1].end % ARENA_BYTES == 0)
			cut = j;
	}
	if (cut == i)
		return 0;
	*out =
	    (struct run){.first = i, .n = cut - i, .start = R[i].start, .end = R[cut - 1].end, .claim = -1};
	out->hint = (R[i].start & HINT_MASK) == hint_low(s) && (R[i].start >> 40) <= HINT_MAX_I;
	return 1;
}

/* ---- step 3: the arena index (memory reads) -------------------------------------------- */

static uint64_t l2_entry(const struct vms_attr *a, uint64_t l2, uint64_t arena)
{
	return l2 + ((arena + index_bias(vms_attr_snapshot(a))) >> 26) * 8;
}

/* A plausible *heapArena from the index: 8-aligned, in anonymous rw memory outside the index. */
static int heap_arena_ptr(const struct vms_attr *a, uint64_t l2, uint64_t v)
{
	const struct vms_snapshot *s = vms_attr_snapshot(a);
	long ri = vms_attr_region_at(a, v);
	return v && v % 8 == 0 && !(v >= l2 && v < l2 + L2_BYTES) && ri >= 0 &&
	       vms_region_anon_private(&s->regions[ri]) && is_rw(&s->regions[ri]);
}

/* Is l2 the arena index of these arenas (sorted, contiguous runs)? Reads each arena's entry
 * and fills ha[] with the heapArena pointers; the entry just below the first arena, when that
 * address is no arena of the set, must read 0 (arrays of pointers, such as a heapArena's span
 * map, would otherwise pass for the index at a wrong base). */
static int try_l2(struct vms_attr *a, uint64_t l2, const uint64_t *arenas, size_t n, uint64_t *ha,
                  unsigned *peeks)
{
	uint64_t below = arenas[0] - ARENA_BYTES, w;
	int below_is_arena = 0;
	for (size_t k = 0; k < n; k++)
		below_is_arena |= arenas[k] == below;
	if (arenas[0] >= ARENA_BYTES && !below_is_arena &&
	    (++*peeks > MAX_L2_PEEKS ||
	     (vms_attr_peek(a, l2_entry(a, l2, below), &w, sizeof w) == 0 && w != 0)))
		return 0;
	for (size_t k = 0; k < n; k++) {
		uint64_t v;
		if (++*peeks > MAX_L2_PEEKS ||
		    vms_attr_peek(a, l2_entry(a, l2, arenas[k]), &v, sizeof v) != 0)
			return 0;
		if (!heap_arena_ptr(a, l2, v))
			return 0;
		ha[k] = v;
	}
	return 1;
}

static int in_runs(const struct run *runs, size_t n_runs, size_t i)
{
	for (size_t k = 0; k < n_runs; k++)
		if (i >= runs[k].first && i < runs[k].first + runs[k].n)
			return 1;
	return 0;
}

/* Does region i hold one of the arenas, or belong to one of the runs? */
static int holds_arena(const struct vms_region *r, size_t i, const struct run *runs, size_t n_runs,
                       const uint64_t *arenas, size_t n)
{
	for (size_t k = 0; k < n; k++)
		if (arenas[k] >= r->start && arenas[k] < r->end)
			return 1;
	return in_runs(runs, n_runs, i);
}

/* Find the arena index of arenas[0..n) among anonymous rw regions of at least 32 MiB. The map
 * is one 32 MiB mmap (sysAllocOS) that the kernel may have merged with neighbours, also with an
 * arena's VMA. Four passes, cheapest first, within MAX_L2_PEEKS reads: both ends of each region
 * that holds no arena, both ends of those that do, then every page of each, in the same order.
 * Returns its address, or 0. */
static uint64_t find_l2(struct vms_attr *a, const struct run *runs, size_t n_runs, const uint64_t *arenas,
                        size_t n, uint64_t *ha)
{
	const struct vms_snapshot *s = vms_attr_snapshot(a);
	unsigned peeks = 0;
	if (n == 0 || s->peek != 1)
		return 0;
	uint64_t ps = s->page_size ? s->page_size : 4096;
	for (int pass = 0; pass < 4 && peeks <= MAX_L2_PEEKS; pass++) {
		for (size_t i = 0; i < s->n_regions && peeks <= MAX_L2_PEEKS; i++) {
			const struct vms_region *r = &s->regions[i];
			if (!vms_region_anon_private(r) || !is_rw(r) || r->end - r->start < L2_BYTES ||
			    vms_attr_claimed(a, i) || r->smaps[VMS_SF_RSS] == 0 ||
			    holds_arena(r, i, runs, n_runs, arenas, n) != (pass & 1))
				continue;
			uint64_t last = r->end - L2_BYTES;
			if (pass < 2 && try_l2(a, r->start, arenas, n, ha, &peeks))
				return r->start;
			if (pass < 2 && last != r->start && try_l2(a, last, arenas, n, ha, &peeks))
				return last;
			for (uint64_t b = r->start + ps; pass >= 2 && b < last && peeks <= MAX_L2_PEEKS;
			     b += ps)
				if (try_l2(a, b, arenas, n, ha, &peeks))
					return b;
		}
	}
	return 0;
}

/* The arena index found from single 64 MiB-aligned addresses inside resident anonymous rw
 * memory we may take, at most `tries` of them: away from the hints the kernel can merge an
 * arena with a neighbouring mapping, so that no region starts on an arena boundary and
 * arena_run finds nothing. Returns the index's address, or 0. */
static uint64_t find_l2_from_aligned(struct vms_attr *a, uint64_t *ha, unsigned tries)
{
	const struct vms_snapshot *s = vms_attr_snapshot(a);
	for (size_t i = 0; i < s->n_regions && tries; i++) {
		const struct vms_region *r = &s->regions[i];
		uint64_t p = (r->start + ARENA_BYTES - 1) & ~(ARENA_BYTES - 1);
		if (!takeable(a, i, 1) || !is_rw(r) || r->smaps[VMS_SF_RSS] == 0 || p < r->start ||
		    p >= r->end)
			continue;
		tries--;
		uint64_t l2 = find_l2(a, NULL, 0, &p, 1, ha);
		if (l2)
			return l2;
	}
	return 0;
}

/* With the arena index known: each 64 MiB-aligned address inside anonymous memory we may take
 * whose entry holds a heapArena pointer is an arena. One 4 KiB page of the index covers 512
 * arenas (32 GiB); a page that is not resident was never written, so holds no arena. Fills
 * arenas[] (ascending) and ha[]; returns how many. */
static size_t index_arenas(struct vms_attr *a, uint64_t l2, uint64_t *arenas, uint64_t *ha, size_t max)
{
	const struct vms_snapshot *s = vms_attr_snapshot(a);
	unsigned char page[4096];
	uint64_t page_at = 1; /* no page yet */
	int page_ok = 0;
	size_t n = 0;
	unsigned long steps = 0; /* the target chooses its regions' sizes: bound the 64 MiB steps */
	for (size_t i = 0; i < s->n_regions && n < max; i++) {
		const struct vms_region *r = &s->regions[i];
		if (!takeable(a, i, 1))
			continue;
		uint64_t p = (r->start + ARENA_BYTES - 1) & ~(ARENA_BYTES - 1);
		while (p >= r->start && p < r->end && n < max && steps++ < INDEX_STEPS) {
			uint64_t e = l2_entry(a, l2, p), pg = e & ~4095ull;
			if (pg != page_at) {
				page_at = pg;
				page_ok = vms_attr_peek(a, pg, page, sizeof page) == 0;
			}
			if (!page_ok) { /* skip to the first arena of the next index page */
				p += (4096 - (e - pg)) / 8 * ARENA_BYTES;
				continue;
			}
			uint64_t v;
			memcpy(&v, page + (e - pg), sizeof v);
			if (heap_arena_ptr(a, l2, v)) {
				arenas[n] = p;
				ha[n++] = v;
			}
			p += ARENA_BYTES;
		}
	}
	return n;
}

/* Runs of address-contiguous arenas, each over whole regions we may take (a region the kernel
 * merged from an arena and something else is taken whole). Returns how many. */
static size_t index_runs(const struct vms_attr *a, const uint64_t *arenas, size_t n, struct run *runs,
                         size_t max)
{
	const struct vms_snapshot *s = vms_attr_snapshot(a);
	size_t m = 0;
	for (size_t k = 0; k < n && m < max; k++) {
		uint64_t start = arenas[k], end = start + ARENA_BYTES;
		while (k + 1 < n && arenas[k + 1] == end)
			end += ARENA_BYTES, k++;
		long f = vms_attr_region_at(a, start), l = vms_attr_region_at(a, end - 1);
		int ok = f >= 0 && l >= f;
		for (long i = f; ok && i <= l; i++)
			ok = takeable(a, (size_t)i, 1) &&
			     (i == f || s->regions[i].start == s->regions[i - 1].end);
		if (!ok)
			continue;
		runs[m] = (struct run){.first = (size_t)f,
		                       .n = (size_t)(l - f + 1),
		                       .start = start,
		                       .end = end,
		                       .confirmed = 1,
		                       .claim = -1};
		runs[m].hint = (start & HINT_MASK) == hint_low(s) && (start >> 40) <= HINT_MAX_I;
		runs[m].committed = rw_bytes(s, runs[m].first, runs[m].n);
		m++;
	}
	return m;
}

/* ---- claims ---------------------------------------------------------------------------- */

static void claim_arenas(struct vms_attr *a, struct run *rn, const char *ver, int elf, uint64_t l2, int guess)
{
	const struct vms_snapshot *s = vms_attr_snapshot(a);
	const struct vms_region *R = s->regions;
	uint64_t n_arenas = (rn->end - rn->start) / ARENA_BYTES;
	uint64_t committed = rw_bytes(s, rn->first, rn->n);
	uint64_t lo = R[rn->first].start, hi = R[rn->first + rn->n - 1].end;
	uint64_t merged = (rn->start - lo) + (hi - rn->end);
	const char *sig = rn->confirmed ? "arena index read"
	                  : rn->hint    ? (elf ? ".go.buildinfo + hint address" : "hint address")
	                                : (elf ? ".go.buildinfo + geometry" : "geometry");
	const char *merged_note = "";
	if (merged)
		merged_note = vms_attr_fmt(a,
		                           "; the kernel merged %llu MiB of other runtime mappings%s into "
		                           "the same VMAs (counted here)",
		                           (unsigned long long)((merged + MIB - 1) / MIB),
		                           l2 >= lo && l2 < hi ? " (the arena index)" : "");
	struct vms_claim c = {
	    .type = VMS_TYPE_MANAGED_HEAP,
	    .details = vms_attr_fmt(a, "Go heap%s%s%s, %llu arena%s (64 MiB each), %llu MiB committed%s%s%s",
	                            ver[0] ? " (" : "", ver, ver[0] ? ")" : "", (unsigned long long)n_arenas,
	                            n_arenas == 1 ? "" : "s", (unsigned long long)(committed / MIB),
	                            rn->hint ? "" : ", away from the hint addresses",
	                            merged_note ? merged_note : "", guess ? " (guess)" : ""),
	    .signal = sig,
	    .guess = guess,
	};
	rn->claim = vms_attr_claim(a, rn->first, rn->n, &c);
	if (rn->claim < 0)
		return;
	for (size_t k = rn->first; k < rn->first + rn->n; k++)
		vms_attr_role(a, k, vms_region_no_access(&R[k]) ? "reserved" : "committed");
	int l2_inside = merged && l2 >= lo && l2 + L2_BYTES <= hi;
	const char *l2_what = "Go arena index (L2 map, 32 MiB), merged into this VMA by the kernel";
	if (l2_inside && l2 < rn->start)
		vms_attr_part(a, rn->claim, l2, l2 + L2_BYTES, l2_what);
	/* one part per arena, for as many arenas as we track (the reservation's size is the
	 * target's to choose: 128 TiB of PROT_NONE would be 2M parts) */
	for (uint64_t k = 0; k < n_arenas && n_arenas <= MAX_ARENAS; k++) {
		uint64_t st = rn->start + k * ARENA_BYTES;
		vms_attr_part(a, rn->claim, st, st + ARENA_BYTES,
		              vms_attr_fmt(a, "Go heap arena %llu of %llu", (unsigned long long)(k + 1),
		                           (unsigned long long)n_arenas));
	}
	if (l2_inside && l2 >= rn->end)
		vms_attr_part(a, rn->claim, l2, l2 + L2_BYTES, l2_what);
}

/* A known piece of metadata inside some region. */
struct thing {
	uint64_t start, end;
	const char *what;
};

static int by_start(const void *x, const void *y)
{
	const struct thing *p = x, *q = y;
	return p->start < q->start ? -1 : p->start > q->start;
}

/* Claim each region that holds things[] (sorted) as Private Data, one part per thing. */
static unsigned claim_things(struct vms_attr *a, struct thing *t, size_t n, const char *ver)
{
	const struct vms_snapshot *s = vms_attr_snapshot(a);
	unsigned claimed = 0;
	qsort(t, n, sizeof *t, by_start);
	for (size_t k = 0; k < n;) {
		long ri = vms_attr_region_at(a, t[k].start);
		if (ri < 0 || !takeable(a, (size_t)ri, 0)) {
			k++;
			continue;
		}
		const struct vms_region *r = &s->regions[ri];
		size_t e = k;
		int has_l2 = 0;
		unsigned n_ha = 0;
		while (e < n && t[e].start < r->end) {
			if (t[e].end - t[e].start == L2_BYTES)
				has_l2 = 1;
			else
				n_ha++;
			e++;
		}
		struct vms_claim c = {
		    .type = VMS_TYPE_PRIVATE_DATA,
		    .details =
		        has_l2 && n_ha
		            ? vms_attr_fmt(
		                  a,
		                  "Go runtime metadata (%s): arena index (L2 map, 32 MiB) and heapArena "
		                  "metadata of %u arena%s (arena index read)",
		                  ver, n_ha, n_ha == 1 ? "" : "s")
		        : has_l2
		            ? vms_attr_fmt(
		                  a,
		                  "Go runtime metadata (%s): arena index (L2 map, 32 MiB) (arena index read)",
		                  ver)
		            : vms_attr_fmt(a,
		                           "Go runtime metadata (%s): heapArena metadata (heap bitmap, span "
		                           "map) of %u "
		                           "arena%s (arena index read)",
		                           ver, n_ha, n_ha == 1 ? "" : "s"),
		    .signal = "arena index read",
		};
		long id = vms_attr_claim(a, (size_t)ri, 1, &c);
		if (id >= 0) {
			claimed++;
			for (size_t q = k; q < e; q++)
				vms_attr_part(a, id, t[q].start, t[q].end < r->end ? t[q].end : r->end,
				              t[q].what);
		}
		k = e;
	}
	return claimed;
}

/* The L2 map and the heapArena structs it points to, as parts of the regions holding them. A
 * heapArena is one persistentalloc/sysAlloc mapping of its own; its length is taken from the
 * distance to the next known structure (the kernel merged them), at most 4 MiB. */
static unsigned claim_index(struct vms_attr *a, uint64_t l2, const uint64_t *arenas, const uint64_t *ha,
                            size_t n, const char *ver)
{
	const struct vms_snapshot *s = vms_attr_snapshot(a);
	struct thing *t = calloc(n + 1, sizeof *t);
	unsigned claimed = 0;
	if (!t)
		return 0;
	t[0] = (struct thing){l2, l2 + L2_BYTES,
	                      "Go arena index (L2 map: one *heapArena per 64 MiB of address space)"};
	size_t m = 1;
	for (size_t k = 0; k < n; k++)
		t[m++] = (struct thing){ha[k], ha[k],
		                        vms_attr_fmt(a, "heapArena metadata of the arena at 0x%llx",
		                                     (unsigned long long)arenas[k])};
	qsort(t, m, sizeof *t, by_start);
	for (size_t k = 0; k < m; k++) {
		if (t[k].end != t[k].start)
			continue; /* the L2 map */
		long ri = vms_attr_region_at(a, t[k].start);
		uint64_t lim = ri >= 0 ? s->regions[ri].end : t[k].start;
		if (k + 1 < m && t[k + 1].start < lim)
			lim = t[k + 1].start;
		if (lim > t[k].start + 4 * MIB)
			lim = t[k].start + 4 * MIB;
		t[k].end = lim > t[k].start ? lim : t[k].start + 1;
	}
	claimed = claim_things(a, t, m, ver);
	free(t);
	return claimed;
}

/* Page-allocator summaries (5 levels) and the scavenger index: PROT_NONE reservations of
 * 128 KiB .. 512 MiB that sysGrow maps rw only where the heap is (mpagealloc_64bit.go); the
 * kernel merges neighbours into one run of ---p with small rw islands. */
static unsigned claim_summaries(struct vms_attr *a, const char *ver, uint64_t *bytes)
{
	const struct vms_snapshot *s = vms_attr_snapshot(a);
	const struct vms_region *R = s->regions;
	unsigned claimed = 0;
	for (size_t i = 0; i < s->n_regions;) {
		size_t j = i;
		uint64_t none = 0, rw = 0, biggest_none = 0;
		if (glibc_heap_at(s, i)) { /* a glibc heap and its tail are never Go summaries */
			i += i + 1 < s->n_regions && vms_region_no_access(&R[i + 1]) ? 2 : 1;
			continue;
		}
		while (j < s->n_regions && takeable(a, j, 0) && (j == i || R[j].start == R[j - 1].end) &&
		       (j == i || !glibc_heap_at(s, j))) {
			uint64_t len = R[j].end - R[j].start;
			if (vms_region_no_access(&R[j])) {
				none += len;
				if (len > biggest_none)
					biggest_none = len;
			} else {
				rw += len;
			}
			j++;
		}
		/* rw regions at the ends bigger than 1/16 of the reserved part (at most 8 MiB) are not
		 * islands but neighbours the kernel merged in (the arena index, persistentalloc chunks):
		 * leave them out. The scavenger index's rw head stays in: sysGrow maps it rw from its
		 * start and sysUsed marks its whole huge pages MADV_HUGEPAGE (hg), 4 MiB here. */
		uint64_t edge = none / 16 < 8 * MIB ? none / 16 : 8 * MIB;
		size_t lo = i, hi = j;
		while (lo < hi && !vms_region_no_access(&R[lo]) && R[lo].end - R[lo].start > edge &&
		       !((R[lo].vm_flag_bits & VMS_VMF_HG) && R[lo].end - R[lo].start <= 8 * MIB))
			rw -= R[lo].end - R[lo].start, lo++;
		while (hi > lo && !vms_region_no_access(&R[hi - 1]) && R[hi - 1].end - R[hi - 1].start > edge)
			rw -= R[hi - 1].end - R[hi - 1].start, hi--;
		/* a run of islands: mostly reserved (besides an hg head), at least one island, big enough */
		uint64_t head = lo < hi && (R[lo].vm_flag_bits & VMS_VMF_HG) ? R[lo].end - R[lo].start : 0;
		if (hi > lo + 1 && biggest_none >= 256 * 1024 && rw > 0 &&
		    (rw - head) * 8 <= none + rw - head) {
			struct vms_claim c = {
			    .type = VMS_TYPE_PRIVATE_DATA,
			    .details = vms_attr_fmt(
			        a,
			        "Go page-allocator summaries / scavenger index (%s): %llu %s reserved, %llu "
			        "KiB committed "
			        "in islands (guess)",
			        ver, (unsigned long long)(none >= 4 * MIB ? none / MIB : none / 1024),
			        none >= 4 * MIB ? "MiB" : "KiB", (unsigned long long)(rw / 1024)),
			    .signal = "geometry",
			    .guess = 1,
			};
			if (vms_attr_claim(a, lo, hi - lo, &c) >= 0) {
				claimed++;
				*bytes += none + rw;
				for (size_t k = lo; k < hi; k++)
					vms_attr_role(a, k,
					              vms_region_no_access(&R[k]) ? "reserved" : "committed");
			}
		}
		i = j > i ? j : i + 1;
	}
	return claimed;
}

/* Smaller off-heap pieces. static_go: the process has no dynamic loader, so the Go runtime is
 * the only thing that maps anonymous memory: name all of it. Otherwise 256 KiB persistentalloc
 * chunks (not when the first words read as a glibc mmapped chunk), and, when the arena index
 * could not be read, an rw region of 32 MiB plus at most 4 MiB per arena, as a guess. */
static unsigned claim_rest(struct vms_attr *a, const char *ver, int static_go, int index_found,
                           uint64_t n_arenas)
{
	const struct vms_snapshot *s = vms_attr_snapshot(a);
	const struct vms_region *R = s->regions;
	unsigned claimed = 0;
	for (size_t i = 0; i < s->n_regions; i++) {
		if (!takeable(a, i, 0))
			continue;
		uint64_t len = R[i].end - R[i].start;
		struct vms_claim c = {.type = VMS_TYPE_PRIVATE_DATA, .signal = "geometry", .guess = 1};
		if (static_go) {
			c.details =
			    is_rw(&R[i])
			        ? vms_attr_fmt(a,
			                       "Go runtime off-heap memory (%s): persistentalloc chunks, "
			                       "spans, GC bits, "
			                       "... (guess: static Go program, no other allocator)",
			                       ver)
			        : vms_attr_fmt(a, "Go runtime reservation (%s) (guess: static Go program)",
			                       ver);
		} else if (is_rw(&R[i]) && len == PERSISTENT_CHUNK && (R[i].vm_flag_bits & VMS_VMF_AC) &&
		           !(R[i].vm_flag_bits & VMS_VMF_NR)) {
			uint64_t hdr[2];
			if (vms_attr_peek(a, R[i].start, hdr, sizeof hdr) == 0 && (hdr[1] & 2) &&
			    (hdr[1] & ~7ull) <= len)
				continue; /* prev_size, size|IS_MMAPPED: a glibc chunk */
			c.details = vms_attr_fmt(a, "Go persistentalloc chunk (%s), 256 KiB (guess)", ver);
		} else if (!index_found && is_rw(&R[i]) && len >= L2_BYTES &&
		           len <= L2_BYTES + (n_arenas + 1) * 4 * MIB && !(R[i].vm_flag_bits & VMS_VMF_NR)) {
			c.details = vms_attr_fmt(a,
			                         "Go runtime metadata (%s): arena index (L2 map, 32 MiB) and "
			                         "heapArena metadata (guess)",
			                         ver);
		} else {
			continue;
		}
		if (vms_attr_claim(a, i, 1, &c) >= 0)
			claimed++;
	}
	return claimed;
}

/* ---- threads ---------------------------------------------------------------------------- */

static unsigned note_threads(struct vms_attr *a, const struct run *runs, size_t n_runs)
{
	const struct vms_snapshot *s = vms_attr_snapshot(a);
	unsigned noted = 0;
	for (size_t t = 0; t < s->n_threads; t++) {
		uint64_t sp = s->threads[t].sp;
		for (size_t k = 0; k < n_runs; k++) {
			if (runs[k].claim < 0 || sp < runs[k].start || sp >= runs[k].end)
				continue;
			uint64_t arena = runs[k].start + (sp - runs[k].start) / ARENA_BYTES * ARENA_BYTES;
			vms_attr_thread_note(
			    a, t,
			    vms_attr_fmt(a,
			                 "runs on a goroutine/g0 stack inside the Go heap (arena at 0x%llx)",
			                 (unsigned long long)arena));
			noted++;
			break;
		}
	}
	return noted;
}

/* ---- the recogniser -------------------------------------------------------------------- */

static const char *run(struct vms_attr *a)
{
	const struct vms_snapshot *s = vms_attr_snapshot(a);
	struct go_found g;
	struct run *runs = NULL;
	uint64_t *arenas = NULL, *ha = NULL;
	const char *note = NULL;
	size_t n_runs = 0;
	if (s->arch.bits == 32)
		return NULL;
	find_go(a, &g);
	/* no image readable at all (saved text): an arena reservation at a hint is still Go, as a guess */
	int geometry_only = g.n_go == 0 && g.n_readable == 0;
	if (g.n_go == 0 && !geometry_only)
		return NULL;
	const char *ver = g.version[0] ? g.version : "Go";
	runs = calloc(MAX_RUNS, sizeof *runs);
	arenas = calloc(MAX_ARENAS, sizeof *arenas);
	ha = calloc(MAX_ARENAS, sizeof *ha);
	if (!runs || !arenas || !ha)
		goto out;

	/* reservations by geometry: 64 MiB-aligned anonymous runs (away from the hints they are
	 * only candidates for the arena index search below) */
	size_t n_hint = 0;
	for (size_t i = 0; i < s->n_regions && n_runs < MAX_RUNS; i++) {
		struct run rn;
		if (!arena_run(a, i, &rn))
			continue;
		rn.committed = rw_bytes(s, rn.first, rn.n);
		runs[n_runs++] = rn;
		n_hint += rn.hint && rn.committed;
		i = rn.first + rn.n - 1;
	}
	if (n_runs == 0 && s->peek != 1)
		goto out;

	/* the arena index: from the hint arenas in use, or, when no hint is in use, from the first
	 * candidate reservation whose arenas all have entries (others may be glibc heaps) */
	size_t m = 0;
	uint64_t l2 = 0;
	for (size_t k = 0; k < n_runs; k++)
		for (uint64_t p = runs[k].start;
		     runs[k].hint && runs[k].committed && p < runs[k].end && m < MAX_ARENAS; p += ARENA_BYTES)
			arenas[m++] = p;
	if (m)
		l2 = find_l2(a, runs, n_runs, arenas, m, ha);
	for (size_t k = 0, tried = 0; !m && !l2 && k < n_runs && tried < 8; k++) {
		size_t c = 0;
		for (uint64_t p = runs[k].start; runs[k].committed && p < runs[k].end && c < MAX_ARENAS;
		     p += ARENA_BYTES)
			arenas[c++] = p;
		if (c) {
			tried++;
			l2 = find_l2(a, runs, n_runs, arenas, c, ha);
		}
	}
	if (!l2 && n_hint == 0)
		l2 = find_l2_from_aligned(a, ha, 8);
	/* an arena index read where Go keeps it is Go's own word, with or without the ELF */
	int known = g.n_go > 0 || l2 != 0;
	m = 0;
	if (l2) {
		/* the index names every arena: the reservations are its runs of arenas */
		m = index_arenas(a, l2, arenas, ha, MAX_ARENAS);
		n_runs = index_runs(a, arenas, m, runs, MAX_RUNS);
	} else {
		/* geometry: a hint reservation in use; away from the hints only when no hint is in use and
		 * memory cannot be read (glibc >= 2.37 heaps look alike), as a guess */
		size_t keep = 0;
		for (size_t k = 0; k < n_runs; k++) {
			int ok =
			    runs[k].committed && (runs[k].hint || (n_hint == 0 && s->peek != 1 && known));
			if (ok)
				runs[keep++] = runs[k];
		}
		n_runs = keep;
	}
	size_t n_claimed_runs = 0;
	uint64_t n_arenas = 0, committed = 0;
	for (size_t k = 0; k < n_runs; k++) {
		struct run *rn = &runs[k];
		claim_arenas(a, rn, g.version, g.n_go > 0, l2, !known || (!rn->hint && !rn->confirmed));
		if (rn->claim >= 0) {
			n_claimed_runs++;
			n_arenas += (rn->end - rn->start) / ARENA_BYTES;
			committed += rw_bytes(s, rn->first, rn->n);
		}
	}
	if (n_claimed_runs == 0)
		goto out;
	unsigned threads = note_threads(a, runs, n_runs);
	unsigned meta = 0;
	uint64_t summary_bytes = 0;
	if (known) {
		if (l2)
			meta += claim_index(a, l2, arenas, ha, m, ver);
		meta += claim_summaries(a, ver, &summary_bytes);
		meta += claim_rest(a, ver, !g.dynamic, l2 != 0, n_arenas);
	}
	note = vms_attr_fmt(
	    a,
	    "%s%s%s: %zu heap reservation%s, %llu arena%s, %llu MiB committed; %s; %u metadata allocation%s; "
	    "%u thread%s on Go stacks in the heap",
	    !known ? "Go heap at a hint address (no ELF readable, guess)" : ver,
	    !known      ? ""
	    : g.dynamic ? " (dynamically linked: cgo or c-shared)"
	                : " (static)",
	    g.n_go > 1 ? " (several Go images)" : "", n_claimed_runs, n_claimed_runs == 1 ? "" : "s",
	    (unsigned long long)n_arenas, n_arenas == 1 ? "" : "s", (unsigned long long)(committed / MIB),
	    l2             ? "arena index read"
	    : s->peek == 1 ? "arena index not found"
	                   : "arena index not read (no memory reads)",
	    meta, meta == 1 ? "" : "s", threads, threads == 1 ? "" : "s");
out:
	free(runs);
	free(arenas);
	free(ha);
	return note;
}

const struct vms_recogniser vms_rec_go = {
    .key = "go",
    .what =
        "Go runtime: a Go ELF by its .go.buildinfo section (version); heap arena reservations at the "
        "0x??c000000000 "
        "hints, or anywhere once the arena index (read from memory) names them, as Managed Heap with one "
        "part per "
        "64 MiB arena; the arena index and heapArena metadata, page-allocator summaries (PROT_NONE with rw "
        "islands), persistentalloc chunks and all anonymous memory of a static Go program as Private Data; "
        "threads running on goroutine/g0 stacks in the heap get a note.",
    .run = run,
};
