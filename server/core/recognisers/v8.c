/* Recogniser "v8": the memory of V8 (Node.js, libnode, libv8) seen from outside.
 *
 * Signals, cheapest first (shared/docs/runtime-heaps.md §10; V8 11.3 = Node 20 sources):
 * 1. Presence: a mapped node / nodejs executable, libnode.so or libv8.so. Required: the other
 *    signals (MADV_DONTFORK, 256 KiB alignment) are not unique to V8 on their own.
 * 2. The code range (src/heap/code-range.cc): one MAP_NORESERVE reservation, madvised
 *    MADV_DONTFORK (VmFlags "dc nr"), 512 MiB on x64 without pointer compression
 *    (kMaximalCodeRangeSize, src/common/globals.h), code pages (rw header, guard, rwx area) from
 *    its low end, and the embedded builtins remapped from the executable (CodeRange::
 *    RemapEmbeddedBuiltins) at its high end: an r-xp file VMA of the image INSIDE the
 *    anonymous reservation, at top - RoundUp(blob size, 256 KiB). Seeds: that file VMA, or an
 *    anonymous rwxp "dc nr" VMA. One allocation, Managed Heap (code space lives there).
 * 3. Heap pages (src/heap/memory-allocator.cc): each page its own aligned reservation
 *    (MemoryChunk::kAlignment = 256 KiB) at a random hint, committed whole ("dc nr"):
 *    regular pages 256 KiB, large-object pages page-rounded, read-only space r--p. A VMA the
 *    kernel merged from adjacent pages is walked by the pages' own size fields.
 * 4. Header reads (0x60 bytes at the page start, only when allowed): V8 11.3
 *    BasicMemoryChunk (src/heap/basic-memory-chunk.h): +0 size, +8 flags, +0x10 Heap*,
 *    +0x18 area_start, +0x20 area_end, +0x40 owner Space*, whose +0x10 (BaseSpace::id_) is the
 *    AllocationSpace (src/common/globals.h). Read-only pages have Heap* = owner = 0. Without
 *    reads, or when the header is not recognised (other V8 versions), pages are still typed
 *    Managed Heap and say "space unknown".
 * 5. The cppgc GCInfo table (cppgc/internal/gc-info-table.cc): a 512 KiB "dc nr" reservation
 *    with a small rw prefix, reserved once per process by cppgc::InitializeProcess. A guess
 *    by geometry; it is runtime metadata (Private Data).
 * Pointer-compression cage / sandbox (4 GiB / ~1 TiB reservations) are not present in Node's
 * release builds (no pointer compression): not handled here. */
#include <string.h>

#include "../attribute.h"
#include "../region.h"

#define KIB 1024ull
#define MIB (1024ull * KIB)
#define V8_PAGE_ALIGN (256 * KIB)   /* MemoryChunk::kAlignment */
#define V8_CODE_RANGE (512 * MIB)   /* kMaximalCodeRangeSize, x64 without compression */
#define V8_GCINFO_TABLE (512 * KIB) /* GCInfoTable::MaxTableSize(): 1 << 14 entries of 32 B */
#define V8_HDR 0x60                 /* bytes of the BasicMemoryChunk header we read */
#define V8_N_SPACES 9
#define MAX_OWNERS 32 /* owner Space* -> id cache (≈ 8 spaces per isolate) */
#define MAX_HEAPS 16

/* V8 11.3 AllocationSpace, in order; also the order of v8.getHeapSpaceStatistics(). */
static const char *const space_name[V8_N_SPACES] = {
    "read-only space",
    "new space",
    "old space",
    "code space",
    "shared space",
    "new large-object space",
    "large-object space",
    "code large-object space",
    "shared large-object space",
};

struct v8_scan {
	struct vms_attr *a;
	const struct vms_snapshot *s;
	const struct vms_region *image; /* the V8 image (node, libnode, libv8) */
	struct {
		uint64_t owner;
		int id; /* AllocationSpace, or -1 when unreadable */
	} owners[MAX_OWNERS];
	size_t n_owners;
	uint64_t heaps[MAX_HEAPS]; /* distinct Heap* (one per isolate) */
	size_t n_heaps;
	unsigned pages[V8_N_SPACES + 1]; /* per space; [V8_N_SPACES] = unknown */
	unsigned code_ranges, gcinfo;
	int read_any, read_failed;
};

/* Does the VmFlags text contain the two-letter mnemonic f? */
static int has_flag(const struct vms_region *r, const char *f)
{
	const char *p = r->vm_flags;
	if (!p)
		return 0;
	while (*p) {
		while (*p == ' ')
			p++;
		if (p[0] == f[0] && p[1] == f[1] && (p[2] == ' ' || p[2] == '\0'))
			return 1;
		while (*p && *p != ' ')
			p++;
	}
	return 0;
}

/* Anonymous, MAP_NORESERVE and MADV_DONTFORK: how every V8 page-allocator mapping looks. */
static int v8_shaped(const struct vms_region *r)
{
	return vms_region_is_anon(r) && (r->vm_flag_bits & VMS_VMF_NR) && has_flag(r, "dc") &&
	       r->perms[3] == 'p';
}

/* Is this the path of a V8 image: the executable "node" / "nodejs" (exactly: addons "x.node"
 * and "nodemon" are not it), libnode.so* (Debian's nodejs), libv8.so*? */
static int v8_image_path(const char *p)
{
	if (!p || p[0] != '/')
		return 0;
	const char *b = strrchr(p, '/') + 1;
	return !strcmp(b, "node") || !strcmp(b, "nodejs") || !strncmp(b, "libnode.so", 10) ||
	       !strncmp(b, "libv8.so", 8);
}

/* The first mapping of a V8 image, or NULL. */
static const struct vms_region *find_v8_image(const struct vms_snapshot *s)
{
	for (size_t i = 0; i < s->n_regions; i++)
		if (v8_image_path(s->regions[i].path))
			return &s->regions[i];
	return NULL;
}

/* The embedded builtins V8 remapped from its image: an r-xp mapping of a V8 image file. (With
 * Debian's nodejs the builtins come from libnode.so, not from the executable.) */
static int builtins_shaped(const struct vms_region *r)
{
	return !strcmp(r->perms, "r-xp") && v8_image_path(r->path);
}

static uint64_t rd64(const unsigned char *b, size_t off)
{
	uint64_t v;
	memcpy(&v, b + off, sizeof v);
	return v;
}

/* AllocationSpace of the Space at owner (cached), or -1. */
static int owner_space(struct v8_scan *v, uint64_t owner)
{
	for (size_t k = 0; k < v->n_owners; k++)
		if (v->owners[k].owner == owner)
			return v->owners[k].id;
	int32_t id = -1;
	unsigned char b[4];
	if (vms_attr_peek(v->a, owner + 0x10, b, sizeof b) == 0) {
		memcpy(&id, b, sizeof id);
		if (id < 0 || id >= V8_N_SPACES)
			id = -1;
	}
	if (v->n_owners < MAX_OWNERS)
		v->owners[v->n_owners].owner = owner, v->owners[v->n_owners++].id = id;
	return id;
}

static void note_heap(struct v8_scan *v, uint64_t heap)
{
	for (size_t k = 0; k < v->n_heaps; k++)
		if (v->heaps[k] == heap)
			return;
	if (v->n_heaps < MAX_HEAPS)
		v->heaps[v->n_heaps++] = heap;
}

/* The page at addr (inside [addr, limit)): 1 with *size and *space (-1 unknown) when a V8 11.3
 * page header is there; 0 when it is not; -1 when it could not be read. */
static int read_page(struct v8_scan *v, uint64_t addr, uint64_t limit, uint64_t *size, int *space)
{
	unsigned char h[V8_HDR];
	if (vms_attr_peek(v->a, addr, h, sizeof h) != 0)
		return -1;
	v->read_any = 1;
	uint64_t sz = rd64(h, 0), heap = rd64(h, 0x10), area_start = rd64(h, 0x18), area_end = rd64(h, 0x20);
	uint64_t owner = rd64(h, 0x40);
	if (sz == 0 || sz % 4096 || sz > limit - addr || area_start <= addr || area_start > addr + 16 * KIB ||
	    area_end < area_start || area_end > addr + sz)
		return 0;
	*size = sz;
	if (heap == 0 && owner == 0) { /* read-only space: a bare BasicMemoryChunk */
		*space = 0;
		return 1;
	}
	if (heap == 0 || owner == 0)
		return 0;
	note_heap(v, heap);
	*space = owner_space(v, owner);
	return 1;
}

static const char *page_kind(int space)
{
	return space >= 5 && space <= 8 ? "V8 large-object page" : "V8 heap page";
}

/* ---- the code range ------------------------------------------------------------------------ */

/* Is region i part of a code range's reservation: anonymous "dc nr", or the remapped builtins? */
static int code_range_member(const struct v8_scan *v, size_t i)
{
	const struct vms_region *r = &v->s->regions[i];
	return v8_shaped(r) || builtins_shaped(r);
}

static const char *code_role(const struct vms_region *r)
{
	if (builtins_shaped(r))
		return "embedded builtins";
	if (r->perms[2] == 'x')
		return "code";
	if (r->perms[0] == 'r')
		return r->start % V8_PAGE_ALIGN == 0 ? "code page header" : "committed";
	return "reserved";
}

/* Claim the code range around seed region i; return the index after it. */
static size_t claim_code_range(struct v8_scan *v, size_t i, int builtins)
{
	const struct vms_region *R = v->s->regions;
	size_t n = v->s->n_regions;
	size_t lo = i, hi = i + 1;
	while (lo > 0 && R[lo - 1].end == R[lo].start && code_range_member(v, lo - 1) &&
	       !vms_attr_claimed(v->a, lo - 1))
		lo--;
	while (hi < n && R[hi].start == R[hi - 1].end && code_range_member(v, hi) &&
	       !vms_attr_claimed(v->a, hi))
		hi++;
	uint64_t top, bottom;
	if (builtins) { /* the blob sits at top - RoundUp(blob, 256 KiB) */
		uint64_t blob = R[i].end - R[i].start;
		top = R[i].start + (blob + V8_PAGE_ALIGN - 1) / V8_PAGE_ALIGN * V8_PAGE_ALIGN;
		bottom = top > V8_CODE_RANGE ? top - V8_CODE_RANGE : 0;
	} else { /* code pages are taken from the low end */
		bottom = R[lo].start;
		top = bottom + V8_CODE_RANGE;
	}
	while (lo < i && R[lo].end <= bottom)
		lo++;
	while (hi > i + 1 && R[hi - 1].start >= top)
		hi--;
	uint64_t size = R[hi - 1].end - R[lo].start;
	struct vms_claim c = {
	    .type = VMS_TYPE_MANAGED_HEAP,
	    .signal =
	        builtins ? "embedded builtins remapped into a dc nr reservation" : "rwx dc nr reservation",
	};
	c.details =
	    builtins
	        ? vms_attr_fmt(
	              v->a, "V8 code range (code space), %llu MiB reserved, with the embedded builtins of %s",
	              (unsigned long long)(size / MIB), strrchr(R[i].path, '/') + 1)
	        : vms_attr_fmt(v->a, "V8 code range (code space), %llu MiB reserved",
	                       (unsigned long long)(size / MIB));
	long id = vms_attr_claim(v->a, lo, hi - lo, &c);
	if (id < 0)
		return i + 1;
	v->code_ranges++;
	for (size_t k = lo; k < hi; k++)
		vms_attr_role(v->a, k, code_role(&R[k]));
	/* code pages: a part each, named by their header when it can be read */
	for (size_t k = lo; k < hi; k++) {
		uint64_t psz;
		int space;
		if (R[k].start % V8_PAGE_ALIGN || R[k].perms[0] != 'r' || R[k].path)
			continue;
		if (read_page(v, R[k].start, R[hi - 1].end, &psz, &space) == 1) {
			const char *what =
			    space >= 0 ? vms_attr_fmt(v->a, "%s (%s)",
			                              space == 7 ? "V8 large code page" : "V8 code page",
			                              space_name[space])
			               : "V8 code page (space unknown)";
			vms_attr_part(v->a, id, R[k].start, R[k].start + psz, what);
			v->pages[space >= 0 ? space : V8_N_SPACES]++;
		}
	}
	return hi;
}

/* ---- heap pages ---------------------------------------------------------------------------- */

static void count_page(struct v8_scan *v, int space)
{
	v->pages[space >= 0 ? space : V8_N_SPACES]++;
}

/* Region i is a heap page candidate: claim it, walking merged pages by their size fields. */
static void claim_pages(struct v8_scan *v, size_t i)
{
	const struct vms_region *r = &v->s->regions[i];
	struct {
		uint64_t start, end;
		int space;
	} pg[64];
	size_t np = 0, walked = 0; /* pages recorded, pages walked */
	int got = 1, first_space = -2, mixed = 0;
	uint64_t at = r->start;
	while (at < r->end) {
		uint64_t size;
		int space;
		got = read_page(v, at, r->end, &size, &space);
		if (got != 1)
			break;
		if (first_space == -2)
			first_space = space;
		else if (space != first_space)
			mixed = 1;
		if (np < sizeof pg / sizeof pg[0])
			pg[np].start = at, pg[np].end = at + size, pg[np].space = space, np++;
		count_page(v, space);
		walked++;
		at += size;
	}
	if (got == -1)
		v->read_failed = 1;
	if (at < r->end)
		count_page(v, -1);
	unsigned long long kib = (r->end - r->start) / KIB;
	struct vms_claim c = {.type = VMS_TYPE_MANAGED_HEAP,
	                      .signal = walked ? "page header read" : "geometry (256 KiB-aligned dc nr)"};
	if (at == r->end && walked == 1)
		c.details = first_space >= 0 ? vms_attr_fmt(v->a, "%s (%s)", page_kind(first_space),
		                                            space_name[first_space])
		                             : "V8 heap page (space unknown)";
	else if (at == r->end && !mixed)
		c.details =
		    first_space >= 0
		        ? vms_attr_fmt(v->a, "V8 heap pages x%zu (%s, merged by the kernel)", walked,
		                       space_name[first_space])
		        : vms_attr_fmt(v->a, "V8 heap pages x%zu (space unknown, merged by the kernel)",
		                       walked);
	else if (at == r->end)
		c.details = vms_attr_fmt(
		    v->a, "V8 heap pages x%zu (several spaces, merged by the kernel; see parts)", walked);
	else if (walked)
		c.details = vms_attr_fmt(
		    v->a, "V8 heap pages (%llu KiB; headers recognised for the first %zu)", kib, walked);
	else if (got == 0) /* read, and not a V8 11 header: another V8 version, or not V8 */
		c.details = "V8 heap page (space unknown: page header not recognised) (guess)", c.guess = 1;
	else if (kib > V8_PAGE_ALIGN / KIB && kib % (V8_PAGE_ALIGN / KIB) == 0)
		c.details = vms_attr_fmt(v->a, "V8 heap page(s) (space unknown, %llu KiB)", kib);
	else
		c.details = "V8 heap page (space unknown)";
	vms_attr_role(v->a, i, "page");
	long id = vms_attr_claim(v->a, i, 1, &c);
	if (id < 0 || walked < 2)
		return;
	for (size_t k = 0; k < np; k++)
		vms_attr_part(v->a, id, pg[k].start, pg[k].end,
		              pg[k].space >= 0 ? vms_attr_fmt(v->a, "%s (%s)", page_kind(pg[k].space),
		                                              space_name[pg[k].space])
		                               : "V8 heap page (space unknown)");
}

/* A heap page by geometry: anonymous "dc nr", 256 KiB-aligned, committed rw (r-- for the
 * read-only space), and not the committed prefix of a larger reservation (then the next VMA
 * is a PROT_NONE "dc nr" tail: the GCInfo table, a code range), unless its header says page. */
static int page_candidate(struct v8_scan *v, size_t i)
{
	const struct vms_region *R = v->s->regions;
	const struct vms_region *r = &R[i];
	if (!v8_shaped(r) || r->start % V8_PAGE_ALIGN || r->perms[0] != 'r' || r->perms[2] == 'x')
		return 0;
	if (i + 1 < v->s->n_regions && R[i + 1].start == r->end && v8_shaped(&R[i + 1]) &&
	    R[i + 1].perms[0] == '-') {
		uint64_t size;
		int space;
		return read_page(v, r->start, r->end, &size, &space) == 1;
	}
	return 1;
}

/* The cppgc GCInfo table: one 512 KiB "dc nr" reservation, rw prefix + PROT_NONE tail. */
static size_t gcinfo_table(struct v8_scan *v, size_t i)
{
	const struct vms_region *R = v->s->regions;
	if (i + 1 >= v->s->n_regions || !v8_shaped(&R[i]) || strcmp(R[i].perms, "rw-p") ||
	    !v8_shaped(&R[i + 1]) || R[i + 1].perms[0] != '-' || R[i + 1].start != R[i].end ||
	    R[i + 1].end - R[i].start != V8_GCINFO_TABLE || vms_attr_claimed(v->a, i) ||
	    vms_attr_claimed(v->a, i + 1))
		return 0;
	struct vms_claim c = {
	    .type = VMS_TYPE_PRIVATE_DATA,
	    .details = "cppgc GCInfo table (V8 type-info table, 512 KiB reserved) (guess)",
	    .signal = "geometry (512 KiB dc nr reservation)",
	    .guess = 1,
	};
	vms_attr_role(v->a, i, "committed");
	vms_attr_role(v->a, i + 1, "reserved");
	if (vms_attr_claim(v->a, i, 2, &c) < 0)
		return 0;
	v->gcinfo++;
	return 2;
}

static const char *run(struct vms_attr *a)
{
	struct v8_scan v = {.a = a, .s = vms_attr_snapshot(a)};
	const struct vms_snapshot *s = v.s;
	v.image = find_v8_image(s);
	if (!v.image)
		return NULL;
	const struct vms_region *R = s->regions;
	/* 1. code ranges: the builtins remapped inside a reservation, else an rwx "dc nr" VMA */
	for (size_t i = 0; i < s->n_regions; i++)
		if (!vms_attr_claimed(a, i) && builtins_shaped(&R[i]) && i > 0 &&
		    R[i - 1].end == R[i].start && v8_shaped(&R[i - 1]))
			claim_code_range(&v, i, 1);
	for (size_t i = 0; i < s->n_regions; i++)
		if (!vms_attr_claimed(a, i) && v8_shaped(&R[i]) && R[i].perms[2] == 'x')
			claim_code_range(&v, i, 0);
	/* 2. heap pages; 3. the GCInfo table */
	unsigned total = 0;
	for (size_t i = 0; i < s->n_regions; i++) {
		if (vms_attr_claimed(a, i))
			continue;
		if (page_candidate(&v, i)) {
			claim_pages(&v, i);
			continue;
		}
		size_t k = gcinfo_table(&v, i);
		if (k)
			i += k - 1;
	}
	for (size_t k = 0; k <= V8_N_SPACES; k++)
		total += v.pages[k];
	const char *b = strrchr(v.image->path, '/') + 1;
	if (!total && !v.code_ranges)
		return vms_attr_fmt(a, "%s mapped, but no V8 heap pages or code range found", b);
	const char *how = v.read_any     ? "page headers read"
	                  : s->peek == 1 ? "geometry (headers unreadable)"
	                                 : "geometry only";
	return vms_attr_fmt(
	    a,
	    "%s: %u heap pages (new %u, old %u, code %u, large %u, new large %u, read-only %u, unknown %u), "
	    "%u code range(s), %zu isolate(s) seen, %u cppgc GCInfo table(s); %s",
	    b, total, v.pages[1], v.pages[2], v.pages[3], v.pages[6] + v.pages[7] + v.pages[8], v.pages[5],
	    v.pages[0], v.pages[V8_N_SPACES], v.code_ranges, v.n_heaps, v.gcinfo, how);
}

const struct vms_recogniser vms_rec_v8 = {
    .key = "v8",
    .what = "V8 (node, libnode, libv8 mapped): heap pages (256 KiB-aligned anonymous \"dc nr\" VMAs; the "
            "space from "
            "the page header when memory may be read), the 512 MiB code range with the embedded builtins "
            "remapped "
            "from the executable, and the cppgc GCInfo table.",
    .run = run,
};
