/* Recogniser "pymalloc": the arenas of CPython's small-object allocator (Objects/obmalloc.c;
 * Include/internal/pycore_obmalloc.h from 3.12). Reference: shared runtime-heaps.md section 7.
 *
 * - Presence: a mapped image whose file name starts with "python" or "libpython" (Debian's
 *   /usr/bin/python3.11 has libpython linked in statically). The version in that name picks the
 *   geometry: 1 MiB arenas of 16 KiB pools from 3.10 on (64-bit, radix tree), 256 KiB arenas of
 *   4 KiB pools before and in 32-bit processes; an unreadable version is taken as 3.10+.
 * - Each arena is its own page-aligned mmap(ARENA_SIZE, rw, PRIVATE|ANONYMOUS): anonymous rw-p
 *   `ac` VMAs at least one arena long are the candidates. The kernel merges adjacent arenas
 *   with each other, with glibc's mmapped chunks (Python hands >512-byte requests to malloc) and
 *   with the zero-fill .bss of a library mapped just above a gap they filled.
 * - With memory reads (vms_attr_peek, resident pages only) each candidate is walked as a
 *   container from its low end: at each object start either a pymalloc arena (a 48-byte pool
 *   header at the first pool boundary: szidx < 32, maxnextoffset == POOL - (szidx+1)*16,
 *   nextoffset <= POOL, and the next pool, if it reads as a pool, has the same arenaindex) or a
 *   glibc mmapped chunk (prev_size 0, size with IS_MMAPPED, page multiple); where neither fits,
 *   arenas are also walked down from the high end. A candidate with at least one arena becomes
 *   one Heap allocation "pymalloc arenas (N arenas)" with a part per arena ("pymalloc arena
 *   #<arenaindex>") and per glibc chunk.
 * - Without reads (--no-peek, denied, or nothing resident) only strong geometry is taken, as a
 *   guess: a candidate whose length is an exact multiple of the arena size.
 * - A candidate the classifier called a library's .bss (the anonymous region right after its
 *   last data segment) keeps only the library's real zero-fill pages, computed from the ELF's
 *   last PT_LOAD (p_memsz - p_filesz); the details say the region also holds that .bss. Since
 *   the classifier reads the ELF itself (live scans), such a region is mostly left Private Data
 *   when the .bss is the smaller part: one that starts with a library's .bss is treated alike.
 *   The .bss handling stays for saved text, where the classifier cannot read the ELF. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../attribute.h"
#include "vmscope/util.h"

#define KIB 1024ull
#define MIB (1024ull * 1024ull)
#define POOL_HEADER 48

struct geom {
	uint64_t arena, pool;
	int major, minor; /* 0, 0 when unknown */
};

/* A sub-block found inside a candidate. */
enum piece_kind { PIECE_ARENA, PIECE_CHUNK, PIECE_BSS, PIECE_UNKNOWN };
struct piece {
	uint64_t start, end;
	enum piece_kind kind;
	unsigned arenaindex;
};

struct pieces {
	struct piece *v;
	size_t n, cap;
	int oom;
};

static void add_piece(struct pieces *p, uint64_t start, uint64_t end, enum piece_kind kind, unsigned idx)
{
	if (start >= end || p->oom)
		return;
	if (VMS_GROW(p->v, p->n, p->cap, 32)) {
		p->oom = 1;
		return;
	}
	p->v[p->n++] = (struct piece){.start = start, .end = end, .kind = kind, .arenaindex = idx};
}

static uint32_t le32(const unsigned char *b)
{
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static uint64_t le64(const unsigned char *b)
{
	return (uint64_t)le32(b) | (uint64_t)le32(b + 4) << 32;
}

/* "python3.11", "libpython3.9.so.1.0" -> 3, 11 / 3, 9; 0 when the name carries no version. */
static int parse_version(const char *base, int *major, int *minor)
{
	const char *p = strstr(base, "python");
	if (!p)
		return 0;
	p += 6;
	if (*p < '0' || *p > '9')
		return 0;
	int ma = 0, mi = 0;
	while (*p >= '0' && *p <= '9' && ma < 100)
		ma = ma * 10 + (*p++ - '0');
	if (*p++ != '.' || *p < '0' || *p > '9')
		return 0;
	while (*p >= '0' && *p <= '9' && mi < 1000)
		mi = mi * 10 + (*p++ - '0');
	*major = ma;
	*minor = mi;
	return 1;
}

/* Is h a pool header of a pool of size g->pool? */
static int pool_header_ok(const struct geom *g, const unsigned char *h, unsigned *arenaindex)
{
	uint32_t count = le32(h + 0x00), szidx = le32(h + 0x24), next = le32(h + 0x28),
	         maxnext = le32(h + 0x2c);
	if (szidx >= 32 || maxnext != g->pool - (szidx + 1) * 16 || next > g->pool || next < POOL_HEADER)
		return 0;
	if (count > g->pool / ((szidx + 1) * 16))
		return 0;
	*arenaindex = le32(h + 0x20);
	return 1;
}

/* Does a pymalloc arena start at c (and end by end)? *read is set when any header was read. */
static int arena_at(struct vms_attr *a, const struct geom *g, uint64_t c, uint64_t end, unsigned *idx,
                    int *read)
{
	if (c + g->arena > end || c + g->arena < c)
		return 0;
	uint64_t p0 = (c + g->pool - 1) & ~(g->pool - 1);
	unsigned char h[POOL_HEADER];
	if (vms_attr_peek(a, p0, h, sizeof h) != 0)
		return 0;
	*read = 1;
	if (!pool_header_ok(g, h, idx))
		return 0;
	uint64_t p1 = p0 + g->pool;
	unsigned idx1;
	if (p1 + g->pool <= c + g->arena && vms_attr_peek(a, p1, h, sizeof h) == 0 &&
	    pool_header_ok(g, h, &idx1) && idx1 != *idx)
		return 0; /* two pools of one arena always share its index */
	return 1;
}

/* Size of the glibc mmapped chunk starting at c (prev_size 0, IS_MMAPPED, not NON_MAIN_ARENA),
 * or 0. */
static uint64_t chunk_at(struct vms_attr *a, uint64_t c, uint64_t end, uint64_t page, int *read)
{
	unsigned char h[16];
	if (vms_attr_peek(a, c, h, sizeof h) != 0)
		return 0;
	*read = 1;
	uint64_t prev = le64(h), size = le64(h + 8);
	uint64_t bytes = size & ~7ull;
	if (prev != 0 || (size & 7) != 2 || bytes == 0 || bytes % page || bytes > end - c)
		return 0;
	return bytes;
}

/* Walk [c, end) of one candidate into pieces. Returns the number of arenas; *read says whether
 * any header could be read at all. */
static size_t walk(struct vms_attr *a, const struct geom *g, uint64_t c, uint64_t end, uint64_t page,
                   struct pieces *out, int *read)
{
	size_t arenas = 0;
	unsigned idx;
	uint64_t sz;
	while (c < end) {
		if (arena_at(a, g, c, end, &idx, read)) {
			add_piece(out, c, c + g->arena, PIECE_ARENA, idx);
			arenas++;
			c += g->arena;
		} else if ((sz = chunk_at(a, c, end, page, read)) != 0) {
			add_piece(out, c, c + sz, PIECE_CHUNK, 0);
			c += sz;
		} else {
			break;
		}
	}
	if (c >= end)
		return arenas;
	/* Something unknown at c: arenas may still sit at the high end. */
	size_t first_top = out->n;
	uint64_t t = end;
	while (t >= c + g->arena && arena_at(a, g, t - g->arena, end, &idx, read)) {
		add_piece(out, t - g->arena, t, PIECE_ARENA, idx);
		arenas++;
		t -= g->arena;
	}
	/* they were found top-down: reverse them, with the unknown middle before them */
	size_t n_top = out->n - first_top;
	add_piece(out, c, t, PIECE_UNKNOWN, 0);
	if (!out->oom && c < t) {
		struct piece mid = out->v[out->n - 1];
		memmove(&out->v[first_top + 1], &out->v[first_top], n_top * sizeof *out->v);
		out->v[first_top] = mid;
		first_top++;
	}
	for (size_t i = 0; i < n_top / 2; i++) {
		struct piece tmp = out->v[first_top + i];
		out->v[first_top + i] = out->v[first_top + n_top - 1 - i];
		out->v[first_top + n_top - 1 - i] = tmp;
	}
	return arenas;
}

/* The library whose .bss the classifier said region i is: its real zero-fill end, from the
 * ELF's last PT_LOAD. Returns 1 and sets *bss_end (address where the library's own anonymous
 * pages end; <= the region's start when it has none) and *bss_bytes (p_memsz - p_filesz), or 0
 * when the ELF could not be read. */
static int library_bss(struct vms_attr *a, const struct vms_region *data, uint64_t page, uint64_t *bss_end,
                       uint64_t *bss_bytes)
{
	unsigned char eh[64];
	if (!data->path || vms_attr_read_file(a, data->path, 0, eh, sizeof eh) != (long)sizeof eh)
		return 0;
	if (memcmp(eh, "\177ELF", 4) != 0 || eh[5] != 1 /* little-endian */)
		return 0;
	int is64 = eh[4] == 2;
	uint64_t phoff = is64 ? le64(eh + 0x20) : le32(eh + 0x1c);
	unsigned phentsize =
	    is64 ? (unsigned)(eh[0x36] | eh[0x37] << 8) : (unsigned)(eh[0x2a] | eh[0x2b] << 8);
	unsigned phnum = is64 ? (unsigned)(eh[0x38] | eh[0x39] << 8) : (unsigned)(eh[0x2c] | eh[0x2d] << 8);
	if (phentsize < (is64 ? 56u : 32u) || phnum == 0 || phnum > 128)
		return 0;
	unsigned char ph[128 * 64];
	size_t want = (size_t)phentsize * phnum;
	if (want > sizeof ph || vms_attr_read_file(a, data->path, phoff, ph, want) != (long)want)
		return 0;
	uint64_t best_end = 0, vaddr = 0, offset = 0, filesz = 0, memsz = 0;
	int found = 0;
	for (unsigned k = 0; k < phnum; k++) {
		const unsigned char *p = ph + (size_t)k * phentsize;
		if (le32(p) != 1 /* PT_LOAD */)
			continue;
		uint64_t v = is64 ? le64(p + 0x10) : le32(p + 0x08);
		uint64_t o = is64 ? le64(p + 0x08) : le32(p + 0x04);
		uint64_t fs = is64 ? le64(p + 0x20) : le32(p + 0x10);
		uint64_t ms = is64 ? le64(p + 0x28) : le32(p + 0x14);
		if (!found || v + ms > best_end) {
			best_end = v + ms;
			vaddr = v, offset = o, filesz = fs, memsz = ms;
			found = 1;
		}
	}
	/* the data region maps file offset data->offset at data->start; the segment maps offset at
	 * bias + vaddr (RELRO may have split the segment, so data->offset can lie inside it) */
	if (!found || memsz < filesz || data->offset < (offset & ~(page - 1)) ||
	    data->offset > offset + filesz)
		return 0; /* the data region is not this segment's mapping: do not guess a bias */
	uint64_t bias = data->start + offset - vaddr - data->offset;
	*bss_end = (bias + vaddr + memsz + page - 1) & ~(page - 1);
	*bss_bytes = memsz - filesz;
	return 1;
}

static const char *base_name(const char *path)
{
	const char *b = path ? strrchr(path, '/') : NULL;
	return b ? b + 1 : (path ? path : "?");
}

static const char *size_text(struct vms_attr *a, uint64_t bytes)
{
	if (bytes >= MIB && bytes % MIB == 0)
		return vms_attr_fmt(a, "%llu MiB", (unsigned long long)(bytes / MIB));
	if (bytes % KIB == 0)
		return vms_attr_fmt(a, "%llu KiB", (unsigned long long)(bytes / KIB));
	return vms_attr_fmt(a, "%llu bytes", (unsigned long long)bytes);
}

struct tally {
	size_t allocations, arenas, guessed;
};

/* Claim region i from its pieces. bss_of: the library whose .bss the classifier said it is, or
 * NULL; bss_known: its real .bss size was read from the ELF. */
static void claim_pieces(struct vms_attr *a, const struct geom *g, size_t i, const struct pieces *p,
                         size_t arenas, const char *bss_of, int bss_known, uint64_t bss_bytes,
                         struct tally *t)
{
	size_t chunks = 0;
	uint64_t chunk_bytes = 0, bss_pages = 0;
	for (size_t k = 0; k < p->n; k++) {
		if (p->v[k].kind == PIECE_CHUNK)
			chunks++, chunk_bytes += p->v[k].end - p->v[k].start;
		if (p->v[k].kind == PIECE_BSS)
			bss_pages += p->v[k].end - p->v[k].start;
	}
	/* a library's real .bss larger than the arenas stays the library's (the classifier's call) */
	if (bss_pages > arenas * g->arena)
		return;
	const char *what = vms_attr_fmt(a, "pymalloc arenas (%zu arena%s)", arenas, arenas == 1 ? "" : "s");
	if (chunks)
		what = vms_attr_fmt(a, "%s and %zu glibc mmapped chunk%s (%s)", what, chunks,
		                    chunks == 1 ? "" : "s", size_text(a, chunk_bytes));
	if (bss_of && bss_known && bss_pages == 0)
		what = vms_attr_fmt(a,
		                    "%s; region merged with the .bss of %s (its ELF asks for %s of .bss, "
		                    "which fit in its data page)",
		                    what, bss_of, size_text(a, bss_bytes));
	else if (bss_of && bss_known)
		what = vms_attr_fmt(
		    a,
		    "%s; region also holds the .bss of %s (its ELF asks for %s of .bss: the first %s here)",
		    what, bss_of, size_text(a, bss_bytes), size_text(a, bss_pages));
	else if (bss_of)
		what = vms_attr_fmt(a, "%s (region merged with the .bss of %s)", what, bss_of);
	struct vms_claim c = {.type = VMS_TYPE_HEAP, .details = what, .signal = "pool header read"};
	long id = vms_attr_claim(a, i, 1, &c);
	if (id < 0)
		return;
	vms_attr_role(a, i, "arenas");
	for (size_t k = 0; k < p->n; k++) {
		const struct piece *x = &p->v[k];
		const char *d = NULL;
		switch (x->kind) {
		case PIECE_ARENA:
			d = vms_attr_fmt(a, "pymalloc arena #%u", x->arenaindex);
			break;
		case PIECE_CHUNK:
			d = vms_attr_fmt(a, "glibc mmapped chunk (%s)", size_text(a, x->end - x->start));
			break;
		case PIECE_BSS:
			d = vms_attr_fmt(a, ".bss of %s", bss_of ? bss_of : "?");
			break;
		case PIECE_UNKNOWN:
			d = vms_attr_fmt(a, "not recognised (%s)", size_text(a, x->end - x->start));
			break;
		}
		vms_attr_part(a, id, x->start, x->end, d);
	}
	t->allocations++;
	t->arenas += arenas;
}

/* Without reads: an exact multiple of the arena size is taken, labelled a guess. */
static void claim_guess(struct vms_attr *a, const struct geom *g, size_t i, uint64_t from, const char *bss_of,
                        struct tally *t)
{
	const struct vms_region *r = &vms_attr_snapshot(a)->regions[i];
	uint64_t len = r->end - from;
	if (len < g->arena || len % g->arena)
		return;
	size_t n = (size_t)(len / g->arena);
	const char *what =
	    n == 1 ? "pymalloc arena (guess)"
	           : vms_attr_fmt(a, "pymalloc arenas (guess: %zu arenas, a multiple of the %s arena size)",
	                          n, size_text(a, g->arena));
	if (bss_of)
		what = vms_attr_fmt(a, "%s (region merged with the .bss of %s)", what, bss_of);
	struct vms_claim c = {.type = VMS_TYPE_HEAP, .details = what, .signal = "geometry", .guess = 1};
	long id = vms_attr_claim(a, i, 1, &c);
	if (id < 0)
		return;
	vms_attr_role(a, i, "arenas");
	if (from > r->start)
		vms_attr_part(a, id, r->start, from, vms_attr_fmt(a, ".bss of %s", bss_of ? bss_of : "?"));
	/* one part per arena, for a plausible count: the region's size is the target's to choose */
	for (uint64_t s = from; s < r->end && n <= VMS_ATTR_MAX_STEPS / 16; s += g->arena)
		vms_attr_part(a, id, s, s + g->arena, "pymalloc arena (guess)");
	t->allocations++;
	t->guessed++;
	t->arenas += n;
}

/* Anonymous rw-p `ac`, at least one arena long, and left by the classifier as Private Data or
 * as a library's .bss (thread stacks, MAP_STACK `nh` regions and glibc heaps are not arenas). */
static int candidate(const struct vms_region *r, const struct geom *g)
{
	if (r->path || strcmp(r->perms, "rw-p") || !(r->vm_flag_bits & VMS_VMF_AC) ||
	    (r->vm_flag_bits & VMS_VMF_NH) || r->end - r->start < g->arena)
		return 0;
	return r->type == VMS_TYPE_PRIVATE_DATA ||
	       (r->type == VMS_TYPE_IMAGE && r->role && !strcmp(r->role, "bss"));
}

static const char *run(struct vms_attr *a)
{
	const struct vms_snapshot *s = vms_attr_snapshot(a);
	long img = vms_attr_find_image(a, "python");
	if (img < 0)
		img = vms_attr_find_image(a, "libpython");
	if (img < 0)
		return NULL;
	const char *image = base_name(s->regions[img].path);
	struct geom g = {.arena = 1 * MIB, .pool = 16 * KIB};
	int old = parse_version(image, &g.major, &g.minor) && (g.major < 3 || (g.major == 3 && g.minor <= 9));
	if (old || s->arch.bits == 32) /* large arenas and pools need the 64-bit radix tree */
		g.arena = 256 * KIB, g.pool = 4 * KIB;
	uint64_t page = s->page_size ? s->page_size : 4096;
	struct tally t = {0};
	struct pieces p = {0};
	size_t unread = 0;
	for (size_t i = 0; i < s->n_regions; i++) {
		const struct vms_region *r = &s->regions[i];
		if (!candidate(r, &g) || vms_attr_claimed(a, i))
			continue;
		const char *bss_of = NULL;
		int bss_known = 0;
		uint64_t from = r->start, bss_end = 0, bss_bytes = 0;
		if (r->role && !strcmp(r->role, "bss") && i > 0 && s->regions[i - 1].path) {
			bss_of = base_name(s->regions[i - 1].path);
			bss_known = library_bss(a, &s->regions[i - 1], page, &bss_end, &bss_bytes);
			if (bss_known && bss_end > from)
				from = bss_end < r->end ? bss_end : r->end;
		} else if (r->type == VMS_TYPE_PRIVATE_DATA && i > 0 && s->regions[i - 1].path &&
		           s->regions[i - 1].type == VMS_TYPE_IMAGE && s->regions[i - 1].end == r->start &&
		           library_bss(a, &s->regions[i - 1], page, &bss_end, &bss_bytes) && bss_end > from) {
			/* the classifier left out of the library a region that has its .bss at the start
			 * (mostly memory merged after it: docs/memory-types.md, Image) */
			bss_of = base_name(s->regions[i - 1].path);
			bss_known = 1;
			from = bss_end < r->end ? bss_end : r->end;
		}
		p.n = 0;
		if (from > r->start)
			add_piece(&p, r->start, from, PIECE_BSS, 0);
		int read = 0;
		size_t arenas = walk(a, &g, from, r->end, page, &p, &read);
		if (p.oom)
			break;
		if (arenas)
			claim_pieces(a, &g, i, &p, arenas, bss_of, bss_known, bss_bytes, &t);
		else if (!read) {
			unread++;
			if (!bss_of || bss_known)
				claim_guess(a, &g, i, from, bss_of, &t);
		}
	}
	free(p.v);
	const char *ver = g.major ? vms_attr_fmt(a, "CPython %d.%d", g.major, g.minor)
	                          : "CPython (version not in the image name)";
	if (!t.allocations)
		return vms_attr_fmt(a, "%s (%s): no pymalloc arenas found%s", ver, image,
		                    unread ? " (candidates could not be read)" : "");
	return vms_attr_fmt(a, "%s (%s): %zu arenas of %s in %zu allocations (%s)", ver, image, t.arenas,
	                    size_text(a, g.arena), t.allocations,
	                    t.guessed == t.allocations ? "geometry only, guessed"
	                    : t.guessed                ? "pool headers read; some by geometry, guessed"
	                                               : "pool headers read");
}

const struct vms_recogniser vms_rec_pymalloc = {
    .key = "pymalloc",
    .what =
        "CPython's pymalloc arenas (1 MiB, or 256 KiB up to 3.9) in a process with a python image: anonymous "
        "rw-p "
        "VMAs walked by pool headers (szidx, nextoffset, maxnextoffset, arenaindex) and glibc mmapped-chunk "
        "headers; without memory reads an exact multiple of the arena size, as a guess. Fixes the .bss the "
        "classifier gives a library when arenas merged after it (real size from the ELF's last PT_LOAD).",
    .run = run,
};
