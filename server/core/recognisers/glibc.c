/* Recogniser "glibc": glibc malloc (ptmalloc2). Runs last: runtimes and other allocators
 * (jemalloc, tcmalloc, mimalloc, musl) have claimed theirs by then.
 *
 * What it names, cheapest signal first (facts and sources: docs/memory-types.md, "glibc", and
 * shared runtime-heaps.md section 2; offsets verified on Debian 12, glibc 2.36, x86_64 and i386):
 * - Thread-arena heaps. A heap is HEAP_MAX long (64 MiB on 64-bit, 1 MiB on 32-bit) and aligned
 *   to it: an rw-p prefix (mprotect_size) plus a ---p tail. A heap that grew to HEAP_MAX merges
 *   with the heap above it into one VMA, so every HEAP_MAX boundary inside an anonymous rw-p VMA
 *   is probed for a heap_info {ar_ptr, prev, size, mprotect_size, pagesize} (sizeof 0x30 on
 *   2.35+, 0x20 before; 0x18 on i386). An arena's first heap has ar_ptr == heap +
 *   sizeof(heap_info) and prev == NULL; later heaps chain through prev. Arenas are numbered by
 *   creation order: malloc_state.next (+0x870 on x86_64, +0x448 on i386) rings main_arena ->
 *   newest -> ... -> oldest -> main_arena. "glibc arena 2, heap 3" = the second thread arena,
 *   third heap in its prev chain. Without reads: geometry alone, "glibc arena heap (guess)".
 * - The main arena: [heap] when glibc malloc owns it: its first chunk is the main thread's
 *   tcache (size word 0x291 on 64-bit 2.30+, 0x191 on i386), or main_arena.top (found through
 *   the ring) lies in it; a guess when only libc.so.6 being mapped says so.
 * - mmapped chunks: an anonymous rw-p VMA (>= 128 KiB, the smallest mmap threshold) whose start
 *   holds a chunk header {prev_size, size | IS_MMAPPED} with a page-multiple length. The kernel
 *   merges adjacent chunks (newest lowest), so the VMA is walked by the size fields and each
 *   chunk becomes a part. A VMA that does not start with a chunk (a newer mapping merged below
 *   the chunks: pymalloc arenas, TLS blocks) is searched page by page, within a budget. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../attribute.h"
#include "../region.h"

#define MAX_HEAPS 4096
#define MAX_RING 1024
#define CHUNK_MIN (128u << 10) /* DEFAULT_MMAP_THRESHOLD_MIN: no mmapped chunk is smaller */
#define CHUNK_MISSES 16        /* pages probed past a non-chunk once a VMA held a chunk */
#define CHUNK_SEARCH                                                                                         \
	512                      /* pages probed for a first chunk in a VMA that starts with none            \
	                          * (a newer non-chunk mapping merged below the chunks) ... */
#define CHUNK_SEARCH_BUDGET 8192 /* ... and in all VMAs of a snapshot together */
#define CHUNK_WALK 256           /* chunks walked per VMA at most */

enum probe { P_UNREAD, P_NONE, P_HEAP };

struct heap {
	uint64_t base, ar_ptr, prev, size, mprotect;
	long region; /* the rw-p region holding heap_info */
	int arena;   /* creation number (1 = first thread arena), 0 unknown */
	int depth;   /* 1 = first heap of its arena, 0 unknown */
};

struct g {
	struct vms_attr *a;
	const struct vms_snapshot *s;
	unsigned ws;       /* word size: 8 or 4 */
	uint64_t heap_max; /* HEAP_MAX_SIZE */
	uint64_t page;
	uint64_t next_off; /* offsetof(struct malloc_state, next) */
	uint64_t top_off;  /* offsetof(struct malloc_state, top), 0 when unverified */
	struct heap *heaps;
	size_t n_heaps;
	uint64_t main_arena;  /* found through the ring, or 0 */
	unsigned search_left; /* CHUNK_SEARCH_BUDGET, spent */
	unsigned n_arenas;    /* thread arenas in the ring */
	int ring_ok;
};

/* Read n target words at addr (little-endian, g->ws bytes each). 0 or -1. */
static int peek_words(struct g *g, uint64_t addr, uint64_t *out, unsigned n)
{
	unsigned char buf[64];
	if (n * g->ws > sizeof buf || vms_attr_peek(g->a, addr, buf, n * g->ws) != 0)
		return -1;
	for (unsigned k = 0; k < n; k++) {
		uint64_t v = 0;
		for (unsigned b = 0; b < g->ws; b++)
			v |= (uint64_t)buf[k * g->ws + b] << (8 * b);
		out[k] = v;
	}
	return 0;
}

/* Offset of the malloc_state after heap_info in an arena's first heap: sizeof(heap_info). */
static int plausible_hsz(const struct g *g, uint64_t off)
{
	return g->ws == 8 ? (off == 0x30 || off == 0x20) : (off == 0x18 || off == 0x10);
}

/* Does ar look like a thread arena, i.e. right after the heap_info of a HEAP_MAX-aligned heap? */
static int arena_shaped(const struct g *g, uint64_t ar)
{
	return plausible_hsz(g, ar & (g->heap_max - 1));
}

static const char *size_text(struct g *g, uint64_t bytes)
{
	if (bytes >= (1u << 20)) {
		double mib = (double)bytes / (1u << 20);
		uint64_t whole = (bytes + (1u << 19)) >> 20;
		if (mib - (double)whole < 0.05 && (double)whole - mib < 0.05)
			return vms_attr_fmt(g->a, "%llu MiB", (unsigned long long)whole);
		return vms_attr_fmt(g->a, "%.1f MiB", mib);
	}
	return vms_attr_fmt(g->a, "%llu KiB", (unsigned long long)(bytes >> 10));
}

/* ---- thread-arena heaps --------------------------------------------------------------------- */

/* Is there a heap_info at b (inside region ri)? Fills *h when so. */
static enum probe probe_heap(struct g *g, uint64_t b, long ri, struct heap *h)
{
	uint64_t w[5];
	if (peek_words(g, b, w, 5) != 0)
		return P_UNREAD;
	uint64_t ar = w[0], prev = w[1], size = w[2], mprot = w[3];
	uint64_t m = g->heap_max - 1;
	if (size == 0 || size > g->heap_max || size % g->page || mprot < size || mprot > g->heap_max ||
	    mprot % g->page)
		return P_NONE;
	if (prev == 0) {
		if (ar < b || !plausible_hsz(g, ar - b))
			return P_NONE;
	} else {
		if ((prev & m) || prev == b || !arena_shaped(g, ar) || (ar & ~m) == b)
			return P_NONE;
	}
	/* The rw part is mprotect_size long: the VMA must reach at least that far (it may go on
	 * when a full heap merged with the next). */
	const struct vms_region *r = &g->s->regions[ri];
	if (r->end < b + mprot)
		return P_NONE;
	if (r->end > b + mprot && mprot != g->heap_max)
		return P_NONE;
	*h = (struct heap){
	    .base = b, .ar_ptr = ar, .prev = prev, .size = size, .mprotect = mprot, .region = ri};
	return P_HEAP;
}

/* heaps[] is sorted by base: find_heaps probes regions and boundaries in address order. */
static struct heap *heap_at(struct g *g, uint64_t base)
{
	size_t lo = 0, hi = g->n_heaps;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (g->heaps[mid].base < base)
			lo = mid + 1;
		else if (g->heaps[mid].base > base)
			hi = mid;
		else
			return &g->heaps[mid];
	}
	return NULL;
}

/* Number the arenas by creation order through the malloc_state.next ring. */
static void number_arenas(struct g *g)
{
	uint64_t start = 0;
	for (size_t k = 0; k < g->n_heaps && !start; k++)
		if (g->heaps[k].prev == 0)
			start = g->heaps[k].ar_ptr;
	if (!start)
		return;
	uint64_t *ring = malloc(MAX_RING * sizeof *ring);
	if (!ring)
		return;
	size_t n = 0, main_at = SIZE_MAX;
	uint64_t cur = start;
	int closed = 0;
	while (n < MAX_RING) {
		ring[n] = cur;
		if (!arena_shaped(g, cur)) {
			if (main_at != SIZE_MAX)
				break; /* two arenas outside heaps: not a ring we understand */
			main_at = n;
		}
		n++;
		uint64_t next;
		if (peek_words(g, cur + g->next_off, &next, 1) != 0 || next == 0)
			break;
		if (next == start) {
			closed = 1;
			break;
		}
		cur = next;
	}
	if (closed && main_at != SIZE_MAX) {
		/* ring from main_arena: main, newest, ..., oldest */
		g->main_arena = ring[main_at];
		g->n_arenas = (unsigned)(n - 1);
		g->ring_ok = 1;
		for (size_t k = 1; k < n; k++) {
			uint64_t ar = ring[(main_at + k) % n];
			int number = (int)(n - k); /* newest = n - 1 ... oldest = 1 */
			for (size_t h = 0; h < g->n_heaps; h++)
				if (g->heaps[h].ar_ptr == ar)
					g->heaps[h].arena = number;
		}
	}
	free(ring);
}

/* Depth of each heap in its prev chain. The chains are the target's words: a hostile prev ring
 * would cost n_heaps x MAX_HEAPS steps, so all chains together get VMS_ATTR_MAX_STEPS steps
 * (then depths are unknown, 0). */
static void chain_depths(struct g *g)
{
	unsigned long steps = 0;
	for (size_t k = 0; k < g->n_heaps; k++) {
		struct heap *h = &g->heaps[k];
		int d = 1;
		uint64_t p = h->prev;
		while (p && d <= MAX_HEAPS) {
			if (++steps > VMS_ATTR_MAX_STEPS) {
				d = 0;
				break;
			}
			const struct heap *q = heap_at(g, p);
			if (!q) {
				d = 0;
				break;
			}
			p = q->prev;
			d++;
		}
		h->depth = d > MAX_HEAPS ? 0 : d;
	}
}

static const char *heap_name(struct g *g, const struct heap *h)
{
	char depth[32] = "heap ?";
	if (h->depth)
		snprintf(depth, sizeof depth, "heap %d", h->depth);
	if (h->arena)
		return vms_attr_fmt(g->a, "glibc arena %d, %s", h->arena, depth);
	return vms_attr_fmt(g->a, "glibc arena at 0x%llx, %s", (unsigned long long)h->ar_ptr, depth);
}

/* Probe every HEAP_MAX boundary of every anonymous rw-p region. Marks in state[] (per region)
 * whether its start boundary was unreadable (for the geometry fallback). */
static void find_heaps(struct g *g, enum probe *state)
{
	const struct vms_snapshot *s = g->s;
	unsigned long steps = 0; /* boundaries probed: a huge VMA must not cost 2^30 iterations */
	for (size_t i = 0; i < s->n_regions; i++) {
		const struct vms_region *r = &s->regions[i];
		state[i] = P_NONE;
		if (!vms_region_is_anon(r) || !vms_region_rw_private(r) || vms_attr_claimed(g->a, i) ||
		    r->type == VMS_TYPE_STACK)
			continue;
		uint64_t b = (r->start + g->heap_max - 1) & ~(g->heap_max - 1);
		if (b == r->start)
			state[i] = P_UNREAD;
		for (; b < r->end && b >= r->start && steps < VMS_ATTR_MAX_STEPS; b += g->heap_max, steps++) {
			struct heap h;
			enum probe p = s->peek == 1 ? probe_heap(g, b, (long)i, &h) : P_UNREAD;
			if (b == r->start)
				state[i] = p;
			if (p == P_HEAP && g->n_heaps < MAX_HEAPS)
				g->heaps[g->n_heaps++] = h;
		}
	}
}

/* Claim each region holding heaps (with the ---p tail of its last heap). */
static unsigned claim_heaps(struct g *g)
{
	const struct vms_snapshot *s = g->s;
	unsigned claimed = 0;
	for (size_t k = 0; k < g->n_heaps;) {
		long ri = g->heaps[k].region;
		size_t e = k;
		while (e < g->n_heaps && g->heaps[e].region == ri)
			e++;
		const struct vms_region *r = &s->regions[ri];
		const struct heap *last = &g->heaps[e - 1];
		size_t n = 1;
		uint64_t reserve_end = last->base + g->heap_max;
		if (r->end < reserve_end && (size_t)ri + 1 < s->n_regions) {
			const struct vms_region *t = &s->regions[ri + 1];
			if (t->start == r->end && vms_region_is_anon(t) && vms_region_no_access(t) &&
			    t->end == reserve_end && !vms_attr_claimed(g->a, (size_t)ri + 1))
				n = 2;
		}
		const char *details;
		if (e - k == 1 && r->start == g->heaps[k].base) {
			details = heap_name(g, &g->heaps[k]);
		} else {
			/* merged: "glibc arena 1, heaps 2, 3" when one arena, else every heap */
			int one_arena = 1;
			for (size_t q = k + 1; q < e; q++)
				one_arena &= g->heaps[q].ar_ptr == g->heaps[k].ar_ptr;
			char list[256] = "";
			size_t len = 0;
			for (size_t q = k; q < e && len < sizeof list - 40; q++) {
				const struct heap *h = &g->heaps[q];
				if (one_arena)
					len += (size_t)snprintf(list + len, sizeof list - len, "%s%d",
					                        q > k ? ", " : "", h->depth);
				else
					len += (size_t)snprintf(list + len, sizeof list - len, "%s%s",
					                        q > k ? "; " : "", heap_name(g, h));
			}
			const struct heap *h0 = &g->heaps[k];
			if (one_arena && h0->arena)
				details = vms_attr_fmt(
				    g->a, "glibc arena %d, heaps %s (%zu heaps merged into one VMA)",
				    h0->arena, list, e - k);
			else if (one_arena)
				details = vms_attr_fmt(
				    g->a, "glibc arena at 0x%llx, heaps %s (%zu heaps merged into one VMA)",
				    (unsigned long long)h0->ar_ptr, list, e - k);
			else
				details =
				    vms_attr_fmt(g->a, "glibc arena heaps: %s (merged into one VMA)", list);
			if (r->start != h0->base)
				details = vms_attr_fmt(g->a, "%s, + %s below the first heap", details,
				                       size_text(g, h0->base - r->start));
		}
		struct vms_claim c = {.type = VMS_TYPE_HEAP, .details = details, .signal = "heap_info read"};
		long id = vms_attr_claim(g->a, (size_t)ri, n, &c);
		if (id >= 0) {
			claimed++;
			vms_attr_role(g->a, (size_t)ri, "head");
			if (n == 2)
				vms_attr_role(g->a, (size_t)ri + 1, "tail");
			if (e - k > 1 || r->start != g->heaps[k].base) {
				uint64_t end = n == 2 ? s->regions[ri + 1].end : r->end;
				for (size_t q = k; q < e; q++) {
					uint64_t pe = g->heaps[q].base + g->heap_max;
					vms_attr_part(g->a, id, g->heaps[q].base, pe < end ? pe : end,
					              heap_name(g, &g->heaps[q]));
				}
			}
		}
		k = e;
	}
	return claimed;
}

/* Without reads: an rw-p region on a HEAP_MAX boundary followed by a ---p tail up to the next
 * boundary, or (with MAP_NORESERVE, glibc <= 2.36) whole HEAP_MAX multiples. */
static unsigned claim_heaps_by_geometry(struct g *g, const enum probe *state, int glibc)
{
	const struct vms_snapshot *s = g->s;
	unsigned claimed = 0;
	for (size_t i = 0; i < s->n_regions; i++) {
		const struct vms_region *r = &s->regions[i];
		if (state[i] != P_UNREAD || vms_attr_claimed(g->a, i) || r->start % g->heap_max)
			continue;
		int nr = (r->vm_flag_bits & VMS_VMF_NR) != 0;
		if (!glibc && !nr)
			continue;
		size_t n = 0;
		uint64_t end = r->end;
		if (i + 1 < s->n_regions && s->regions[i + 1].start == r->end &&
		    vms_region_is_anon(&s->regions[i + 1]) && vms_region_no_access(&s->regions[i + 1]) &&
		    s->regions[i + 1].end % g->heap_max == 0 &&
		    s->regions[i + 1].end - r->end < g->heap_max && !vms_attr_claimed(g->a, i + 1)) {
			n = 2;
			end = s->regions[i + 1].end;
		} else if (nr && (r->end - r->start) % g->heap_max == 0) {
			n = 1;
		}
		if (!n)
			continue;
		uint64_t heaps = (end - r->start) / g->heap_max;
		struct vms_claim c = {
		    .type = VMS_TYPE_HEAP,
		    .details =
		        heaps == 1
		            ? "glibc arena heap (guess: HEAP_MAX geometry)"
		            : vms_attr_fmt(g->a,
		                           "glibc arena heaps (guess: HEAP_MAX geometry, %llu heaps merged)",
		                           (unsigned long long)heaps),
		    .signal = "geometry",
		    .guess = 1,
		};
		if (vms_attr_claim(g->a, i, n, &c) >= 0) {
			claimed++;
			vms_attr_role(g->a, i, "head");
			if (n == 2)
				vms_attr_role(g->a, i + 1, "tail");
		}
	}
	return claimed;
}

/* ---- the main arena -------------------------------------------------------------------------- */

static const char *claim_main_arena(struct g *g, int glibc, int other_allocator)
{
	const struct vms_snapshot *s = g->s;
	size_t i = 0;
	while (i < s->n_regions && !(s->regions[i].path && !strcmp(s->regions[i].path, "[heap]")))
		i++;
	if (i == s->n_regions || vms_attr_claimed(g->a, i))
		return NULL;
	size_t j = i + 1;
	while (j < s->n_regions && s->regions[j].path && !strcmp(s->regions[j].path, "[heap]") &&
	       s->regions[j].start == s->regions[j - 1].end && !vms_attr_claimed(g->a, j))
		j++;
	const struct vms_region *r = &s->regions[i];
	const char *signal = NULL;
	int guess = 0;
	/* the main thread's tcache_perthread_struct is the first chunk: size 0x290|PREV_INUSE
	 * (0x250 before 2.30); i386: 0x190|1 (0x150), at +0 or +8 (16-byte alignment) */
	uint64_t w[4];
	int read = s->peek == 1 && vms_region_rw_private(r) && peek_words(g, r->start, w, 4) == 0;
	if (read) {
		if (g->ws == 8 && w[0] == 0 && (w[1] == 0x291 || w[1] == 0x251))
			signal = "tcache chunk read";
		else if (g->ws == 4 && ((w[0] == 0 && (w[1] == 0x191 || w[1] == 0x151)) ||
		                        (w[2] == 0 && (w[3] == 0x191 || w[3] == 0x151))))
			signal = "tcache chunk read";
	}
	if (!signal && g->main_arena && g->top_off) {
		uint64_t top;
		if (peek_words(g, g->main_arena + g->top_off, &top, 1) == 0 && top >= r->start &&
		    top < s->regions[j - 1].end)
			signal = "main_arena.top read";
	}
	if (!signal) {
		if (!glibc || other_allocator)
			return NULL;
		signal = "libc.so.6 mapped";
		guess = 1;
	}
	struct vms_claim c = {
	    .type = VMS_TYPE_HEAP,
	    .details = guess ? (read ? "glibc main arena ([heap], brk) (guess: libc.so.6 mapped, first chunk "
	                               "not the tcache)"
	                             : "glibc main arena ([heap], brk) (guess: libc.so.6 mapped)")
	                     : "glibc main arena ([heap], brk)",
	    .signal = signal,
	    .guess = guess,
	};
	if (vms_attr_claim(g->a, i, j - i, &c) < 0)
		return NULL;
	return signal;
}

/* ---- mmapped chunks -------------------------------------------------------------------------- */

/* A chunk header at pos: its length (prev_size + size, the whole mapping) or 0. i386 puts the
 * chunk 8 bytes in (16-byte alignment, prev_size = 8). */
static uint64_t chunk_at(struct g *g, uint64_t pos, uint64_t limit)
{
	uint64_t w[4];
	if (peek_words(g, pos, w, 4) != 0)
		return 0;
	for (int k = 0; k < 2; k++) {
		uint64_t prev = w[2 * k], size = w[2 * k + 1];
		if (k == 1 && (w[0] || w[1] || prev != 2u * g->ws))
			break;
		if (!(size & 2) || (size & 4) || prev >= g->page)
			continue;
		uint64_t len = (size & ~(uint64_t)7) + prev;
		if (len >= g->page && len % g->page == 0 && len <= limit - pos)
			return len;
	}
	return 0;
}

struct span {
	uint64_t start, end;
};

static unsigned claim_chunks(struct g *g, uint64_t *total)
{
	const struct vms_snapshot *s = g->s;
	unsigned claimed = 0;
	struct span spans[CHUNK_WALK];
	for (size_t i = 0; i < s->n_regions; i++) {
		const struct vms_region *r = &s->regions[i];
		if (!vms_region_is_anon(r) || !vms_region_rw_private(r) || vms_attr_claimed(g->a, i) ||
		    r->type == VMS_TYPE_STACK || r->end - r->start < CHUNK_MIN || r->smaps[VMS_SF_RSS] == 0)
			continue;
		size_t n = 0;
		unsigned misses = 0;
		uint64_t bytes = 0;
		for (uint64_t pos = r->start; pos < r->end && n < CHUNK_WALK;) {
			if (n ? misses >= CHUNK_MISSES : (misses >= CHUNK_SEARCH || !g->search_left))
				break;
			uint64_t len = chunk_at(g, pos, r->end);
			if (!len) {
				if (!n)
					g->search_left--;
				misses++;
				pos += g->page;
				continue;
			}
			spans[n++] = (struct span){pos, pos + len};
			misses = 0;
			bytes += len;
			pos += len;
		}
		if (!n || bytes * 2 < r->end - r->start)
			continue; /* mostly not malloc's: leave it */
		const char *details;
		uint64_t other = (r->end - r->start) - bytes;
		if (n == 1 && !other)
			details = vms_attr_fmt(g->a, "glibc mmapped chunk (%s)", size_text(g, bytes));
		else if (!other)
			details = vms_attr_fmt(g->a, "glibc mmapped chunks: %zu (%s, merged into one VMA)", n,
			                       size_text(g, bytes));
		else
			details = vms_attr_fmt(
			    g->a, "glibc mmapped chunks: %zu (%s) + %s not malloc's (merged into one VMA)", n,
			    size_text(g, bytes), size_text(g, other));
		struct vms_claim c = {
		    .type = VMS_TYPE_HEAP, .details = details, .signal = "chunk header read"};
		long id = vms_attr_claim(g->a, i, 1, &c);
		if (id < 0)
			continue;
		claimed++;
		*total += bytes;
		if (n > 1 || other)
			for (size_t k = 0; k < n; k++)
				vms_attr_part(g->a, id, spans[k].start, spans[k].end,
				              vms_attr_fmt(g->a, "glibc mmapped chunk (%s)",
				                           size_text(g, spans[k].end - spans[k].start)));
	}
	return claimed;
}

/* ---- the recogniser -------------------------------------------------------------------------- */

static const char *run(struct vms_attr *a)
{
	const struct vms_snapshot *s = vms_attr_snapshot(a);
	if (s->arch.bits != 32 && s->arch.bits != 64)
		return NULL;
	struct g g = {
	    .a = a,
	    .s = s,
	    .ws = s->arch.bits == 32 ? 4 : 8,
	    .heap_max = s->arch.bits == 32 ? 1u << 20 : 64u << 20,
	    .page = s->page_size ? s->page_size : 4096,
	    .next_off = s->arch.bits == 32 ? 0x448 : 0x870,
	    .top_off = s->arch.bits == 32 ? 0 : 0x60,
	    .search_left = CHUNK_SEARCH_BUDGET,
	};
	int glibc = vms_attr_find_image(a, "libc.so.6") >= 0 || vms_attr_find_image(a, "libc-2.") >= 0;
	int musl = vms_attr_find_image(a, "ld-musl-") >= 0 || vms_attr_find_image(a, "libc.musl-") >= 0;
	int other = vms_attr_find_image(a, "libjemalloc") >= 0 ||
	            vms_attr_find_image(a, "libtcmalloc") >= 0 || vms_attr_find_image(a, "libmimalloc") >= 0;
	if (musl && !glibc)
		return NULL;
	g.heaps = malloc(MAX_HEAPS * sizeof *g.heaps);
	enum probe *state = malloc((s->n_regions ? s->n_regions : 1) * sizeof *state);
	const char *note = NULL;
	if (!g.heaps || !state)
		goto out;

	find_heaps(&g, state);
	number_arenas(&g);
	chain_depths(&g);
	unsigned heaps = claim_heaps(&g);
	unsigned guessed = claim_heaps_by_geometry(&g, state, glibc);
	const char *main_signal = claim_main_arena(&g, glibc || heaps, other);
	uint64_t chunk_bytes = 0;
	/* with another allocator preloaded, glibc's malloc maps no chunks: don't look for them */
	unsigned chunks = (glibc || heaps || (main_signal && strcmp(main_signal, "libc.so.6 mapped"))) &&
	                          !other && s->peek == 1
	                      ? claim_chunks(&g, &chunk_bytes)
	                      : 0;
	if (!heaps && !guessed && !main_signal && !chunks)
		goto out;
	char arenas[96] = "";
	if (g.ring_ok)
		snprintf(arenas, sizeof arenas,
		         "%u thread arena(s) numbered through the malloc_state.next ring, ", g.n_arenas);
	note = vms_attr_fmt(a,
	                    "%s%zu heap(s) read (%u allocation(s)), %u by geometry; main arena: %s; "
	                    "%u mmapped-chunk allocation(s), %s",
	                    arenas, g.n_heaps, heaps, guessed, main_signal ? main_signal : "not claimed",
	                    chunks, size_text(&g, chunk_bytes));
out:
	free(g.heaps);
	free(state);
	return note;
}

const struct vms_recogniser vms_rec_glibc = {
    .key = "glibc",
    .what =
        "glibc malloc: thread-arena heaps (HEAP_MAX-aligned; heap_info read at every boundary, merged and "
        "chained heaps, arenas numbered by creation through malloc_state.next; geometry alone as a guess), "
        "the main arena in [heap] (tcache chunk or main_arena.top), and mmapped chunks (IS_MMAPPED headers, "
        "merged VMAs walked by the size fields).",
    .run = run,
};
