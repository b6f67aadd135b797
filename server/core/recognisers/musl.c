/* Recogniser "musl": musl libc's allocators (mallocng, the default since musl 1.2.1; the bump
 * allocator of static binaries that never free). Runs just before glibc, after every runtime.
 *
 * Presence: ld-musl-*.so.1 mapped; or a static binary (no shared object mapped) whose [heap]
 * has mallocng's shape, confirmed by a read of its meta area.
 * - mallocng keeps only metadata in brk: the first brk page is made a PROT_NONE guard, so
 *   [heap] = a 4 KiB ---p guard + an rw-p meta area whose pages begin {check (the secret, the
 *   same on every meta area), next, nslots} (musl src/malloc/mallocng/malloc.c, alloc_meta).
 * - Groups (slot arrays) and large allocations are mmapped. A group begins with a pointer to its
 *   struct meta {prev, next, mem, avail_mask, freed_mask, last_idx:5 freeable:1 sizeclass:6
 *   maplen}, whose mem points back at the group (meta.h); the meta's page must carry the secret.
 *   sizeclass 63 = one large allocation (>= MMAP_THRESHOLD, 131052 bytes). The kernel merges
 *   adjacent groups (and a thread stack mprotect'ed below them) into one VMA, which is walked
 *   by maplen (pages).
 * - The bump allocator (__simple_malloc, lite_malloc.c): a static binary that never calls free
 *   gets contiguous allocations in [heap] without headers and without the guard page: a guess.
 * - Thread stacks: 128 KiB + an 8 KiB guard, mapped PROT_NONE then mprotect'ed, so no `nh`
 *   flag: the classifier finds them by the threads' stack pointers; one the kernel merged into
 *   a group VMA is said so in the thread's note. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../attribute.h"
#include "../region.h"

#define GROUP_MISSES 64 /* pages probed past a non-group (e.g. a merged thread stack) */
#define MAX_GROUP_READS 200000

struct m {
	struct vms_attr *a;
	const struct vms_snapshot *s;
	unsigned ws;
	uint64_t page;
	uint64_t secret;    /* meta_area.check */
	uint64_t area_page; /* last meta area page verified */
	unsigned long reads;
};

static uint64_t word(const unsigned char *p, unsigned ws)
{
	uint64_t v = 0;
	for (unsigned b = 0; b < ws; b++)
		v |= (uint64_t)p[b] << (8 * b);
	return v;
}

static const char *size_text(struct m *m, uint64_t bytes)
{
	if (bytes >= (1u << 20)) {
		uint64_t whole = (bytes + (1u << 19)) >> 20;
		double mib = (double)bytes / (1u << 20);
		if (mib - (double)whole < 0.05 && (double)whole - mib < 0.05)
			return vms_attr_fmt(m->a, "%llu MiB", (unsigned long long)whole);
		return vms_attr_fmt(m->a, "%.1f MiB", mib);
	}
	return vms_attr_fmt(m->a, "%llu KiB", (unsigned long long)(bytes >> 10));
}

/* A mallocng group at pos: its length (maplen pages) and sizeclass, or 0. */
static uint64_t group_at(struct m *m, uint64_t pos, uint64_t limit, int *sizeclass)
{
	unsigned char buf[40];
	if (m->reads++ > MAX_GROUP_READS || vms_attr_peek(m->a, pos, buf, m->ws) != 0)
		return 0;
	uint64_t meta = word(buf, m->ws);
	if (!meta || meta % m->ws)
		return 0;
	size_t msize = m->ws == 8 ? 40 : 24; /* struct meta */
	if (vms_attr_peek(m->a, meta, buf, msize) != 0)
		return 0;
	uint64_t mem = word(buf + 2 * m->ws, m->ws);
	uint64_t bits = word(buf + (m->ws == 8 ? 32 : 20), m->ws);
	if (mem != pos)
		return 0;
	uint64_t maplen = bits >> 12;
	*sizeclass = (int)(bits >> 6 & 63);
	if (!maplen || maplen > (limit - pos) / m->page)
		return 0;
	uint64_t area = meta & ~(m->page - 1);
	if (area != m->area_page) { /* the meta's page is a meta area page: it carries the secret */
		unsigned char chk[8];
		if (vms_attr_peek(m->a, area, chk, 8) != 0 || word(chk, 8) != m->secret)
			return 0;
		m->area_page = area;
	}
	return maplen * m->page;
}

struct unit {
	uint64_t start, end;
	int single; /* sizeclass 63 */
	unsigned n; /* groups coalesced into this unit (small groups only) */
};

/* Claim [first, first + count) as c; with count 2 the first region is a thread stack's guard
 * (the kernel merged the stack with the mappings after the guard). The id, or -1. */
static long claim_guarded(struct m *m, size_t first, size_t count, const struct vms_claim *c)
{
	long id = vms_attr_claim(m->a, first, count, c);
	if (id >= 0 && count == 2)
		vms_attr_role(m->a, first, "guard");
	return id;
}

/* Note on thread t that its stack is merged with what (into the VMA at start). */
static void note_merged_stack(struct m *m, size_t t, const char *stack, const char *what, uint64_t start)
{
	vms_attr_thread_note(
	    m->a, t,
	    vms_attr_fmt(m->a,
	                 "runs on its musl stack%s, which the kernel merged with %s into one VMA at 0x%llx",
	                 stack, what, (unsigned long long)start));
}

#define MAX_UNITS 512

/* Walk one anonymous rw-p region; claim it when mallocng's groups fill at least half of it. */
static int claim_groups(struct m *m, size_t i, uint64_t *group_bytes, uint64_t *single_bytes)
{
	const struct vms_snapshot *s = m->s;
	const struct vms_region *r = &s->regions[i];
	struct unit units[MAX_UNITS];
	size_t n = 0;
	unsigned misses = 0, groups = 0, singles = 0;
	uint64_t gb = 0, sb = 0;
	int first_sc = -1;
	for (uint64_t pos = r->start; pos < r->end && misses < GROUP_MISSES;) {
		int sc = 0;
		uint64_t len = group_at(m, pos, r->end, &sc);
		if (!len) {
			misses++;
			pos += m->page;
			continue;
		}
		misses = 0;
		if (first_sc < 0)
			first_sc = sc;
		int single = sc == 63;
		if (single)
			singles++, sb += len;
		else
			groups++, gb += len;
		if (n && !single && !units[n - 1].single && units[n - 1].end == pos) {
			units[n - 1].end = pos + len;
			units[n - 1].n++;
		} else if (n < MAX_UNITS) {
			units[n++] = (struct unit){pos, pos + len, single, 1};
		}
		pos += len;
	}
	uint64_t size = r->end - r->start;
	if (!(groups + singles) || (gb + sb) * 2 < size)
		return 0;
	/* a thread stack the kernel merged into the VMA (its guard sits right below) */
	long stack_thread = -1;
	for (size_t t = 0; t < s->n_threads; t++)
		if (s->threads[t].sp >= r->start && s->threads[t].sp < r->end)
			stack_thread = (long)t;
	size_t first = i, count = 1;
	if (i > 0 && vms_region_no_access(&s->regions[i - 1]) && vms_region_is_anon(&s->regions[i - 1]) &&
	    s->regions[i - 1].end == r->start && !vms_attr_claimed(m->a, i - 1) &&
	    s->regions[i - 1].allocation == r->allocation && r->type == VMS_TYPE_STACK)
		first = i - 1, count = 2;
	const char *details;
	uint64_t other = size - gb - sb;
	if (groups + singles == 1 && !other)
		details = singles
		              ? vms_attr_fmt(m->a, "musl mallocng single allocation (%s)", size_text(m, sb))
		              : vms_attr_fmt(m->a, "musl mallocng group (sizeclass %d, %s)", first_sc,
		                             size_text(m, gb));
	else {
		char what[320];
		size_t len = 0;
		if (groups)
			len += (size_t)snprintf(what + len, sizeof what - len, "%u group%s (%s)", groups,
			                        groups == 1 ? "" : "s", size_text(m, gb));
		if (singles && len < sizeof what)
			len += (size_t)snprintf(what + len, sizeof what - len,
			                        "%s%u single allocation%s (%s)", len ? ", " : "", singles,
			                        singles == 1 ? "" : "s", size_text(m, sb));
		if (stack_thread >= 0 && len < sizeof what)
			len += (size_t)snprintf(what + len, sizeof what - len, " + the stack of thread %d",
			                        s->threads[stack_thread].tid);
		if (other && len < sizeof what)
			snprintf(what + len, sizeof what - len, ", %s not musl's", size_text(m, other));
		details = vms_attr_fmt(m->a, "musl mallocng: %s (merged into one VMA)", what);
	}
	struct vms_claim c = {.type = VMS_TYPE_HEAP, .details = details, .signal = "struct meta read"};
	long id = claim_guarded(m, first, count, &c);
	if (id < 0)
		return 0;
	*group_bytes += gb;
	*single_bytes += sb;
	if (n > 1 || other)
		for (size_t k = 0; k < n; k++)
			vms_attr_part(m->a, id, units[k].start, units[k].end,
			              units[k].single
			                  ? vms_attr_fmt(m->a, "musl mallocng single allocation (%s)",
			                                 size_text(m, units[k].end - units[k].start))
			                  : vms_attr_fmt(m->a, "musl mallocng groups: %u (%s)", units[k].n,
			                                 size_text(m, units[k].end - units[k].start)));
	if (stack_thread >= 0)
		note_merged_stack(m, (size_t)stack_thread, " (128 KiB, 8 KiB guard)", "musl mallocng groups",
		                  r->start);
	return 1;
}

/* Without reads: a thread stack (8 KiB guard + rw-p holding a thread's stack pointer, typed
 * Stack by the classifier) far bigger than musl's 128 KiB stacks is a stack the kernel merged
 * with the mappings made before it, mallocng's groups: a guess. */
static unsigned claim_merged_stacks_by_geometry(struct m *m)
{
	const struct vms_snapshot *s = m->s;
	unsigned claimed = 0;
	for (size_t i = 1; i < s->n_regions; i++) {
		const struct vms_region *g = &s->regions[i - 1], *r = &s->regions[i];
		if (r->type != VMS_TYPE_STACK || !vms_region_is_anon(r) || !vms_region_rw_private(r) ||
		    !vms_region_no_access(g) || !vms_region_is_anon(g) || g->end != r->start ||
		    g->end - g->start != 2 * m->page || r->allocation != g->allocation ||
		    r->end - r->start < (1u << 20) || vms_attr_claimed(m->a, i - 1) ||
		    vms_attr_claimed(m->a, i))
			continue;
		long t = -1;
		for (size_t k = 0; k < s->n_threads; k++)
			if (s->threads[k].sp >= r->start && s->threads[k].sp < r->end)
				t = (long)k;
		if (t < 0)
			continue;
		struct vms_claim c = {
		    .type = VMS_TYPE_HEAP,
		    .details = vms_attr_fmt(
		        m->a,
		        "musl mallocng groups + the stack of thread %d (guess: a %s VMA above an "
		        "8 KiB guard, far bigger than musl's 128 KiB stacks)",
		        s->threads[t].tid, size_text(m, r->end - r->start)),
		    .signal = "geometry",
		    .guess = 1,
		};
		if (claim_guarded(m, i - 1, 2, &c) < 0)
			continue;
		note_merged_stack(m, (size_t)t, "", "older mappings (mallocng groups, a guess)", r->start);
		claimed++;
	}
	return claimed;
}

/* Is any shared object mapped (a dynamic executable)? */
static int any_shared_object(const struct vms_snapshot *s)
{
	for (size_t i = 0; i < s->n_regions; i++) {
		const char *p = s->regions[i].path;
		if (p && p[0] == '/' && strstr(strrchr(p, '/'), ".so"))
			return 1;
	}
	return 0;
}

static const char *run(struct vms_attr *a)
{
	const struct vms_snapshot *s = vms_attr_snapshot(a);
	if (s->arch.bits != 32 && s->arch.bits != 64)
		return NULL;
	struct m m = {
	    .a = a, .s = s, .ws = s->arch.bits == 32 ? 4 : 8, .page = s->page_size ? s->page_size : 4096};
	int dyn = vms_attr_find_image(a, "ld-musl-") >= 0;
	if (!dyn && (vms_attr_find_image(a, "libc.so.6") >= 0 || any_shared_object(s)))
		return NULL;
	size_t h = 0;
	while (h < s->n_regions && !(s->regions[h].path && !strcmp(s->regions[h].path, "[heap]")))
		h++;
	size_t he = h;
	while (he < s->n_regions && s->regions[he].path && !strcmp(s->regions[he].path, "[heap]") &&
	       (he == h || s->regions[he].start == s->regions[he - 1].end))
		he++;
	if (h == s->n_regions && !dyn)
		return NULL;
	int guarded = he - h >= 2 && vms_region_no_access(&s->regions[h]) &&
	              s->regions[h].end - s->regions[h].start == m.page &&
	              vms_region_rw_private(&s->regions[h + 1]);
	/* the meta area: {check, next, nslots} */
	int confirmed = 0, read_heap = 0, guard_unread = guarded;
	unsigned char buf[24];
	if (guarded && s->peek == 1 && vms_attr_peek(a, s->regions[h + 1].start, buf, 8 + 2 * m.ws) == 0) {
		guard_unread = 0;
		uint64_t check = word(buf, 8), nslots = word(buf + 8 + m.ws, 4);
		if (check && nslots >= 1 && nslots <= m.page / (m.ws == 8 ? 40 : 24)) {
			m.secret = check;
			confirmed = 1;
		}
	}
	uint64_t w[2] = {0, 0};
	if (!guarded && h < he && s->peek == 1 && vms_region_rw_private(&s->regions[h]) &&
	    vms_attr_peek(a, s->regions[h].start, buf, 2 * m.ws) == 0) {
		w[0] = word(buf, m.ws), w[1] = word(buf + m.ws, m.ws);
		read_heap = 1;
	}
	/* a glibc first chunk: prev_size 0, PREV_INUSE, a size inside the heap */
	int glibc_like =
	    read_heap && w[0] == 0 && (w[1] & 1) && w[1] < s->regions[h].end - s->regions[h].start;
	/* a static binary we cannot tell (or whose meta area read says no): leave it to glibc */
	if (!dyn && !confirmed && !guard_unread && !(read_heap && !glibc_like))
		return NULL;

	unsigned claims = 0;
	const char *heap_what = NULL;
	if (h < he && !vms_attr_claimed(a, h)) {
		struct vms_claim c = {.type = VMS_TYPE_HEAP};
		if (guarded) {
			c.details = confirmed ? "musl mallocng meta area ([heap], brk; 4 KiB guard)"
			                      : "musl mallocng meta area ([heap], brk; 4 KiB guard) (guess: "
			                        "guard page geometry)";
			c.signal = confirmed ? "meta area read" : "geometry";
			c.guess = !confirmed;
		} else if (read_heap && !glibc_like && !dyn) {
			c.details =
			    "musl bump allocator ([heap], brk) (guess: static binary, no malloc headers)";
			c.signal = "heap read";
			c.guess = 1;
		} else {
			c.details = "musl brk heap ([heap]) (guess: ld-musl mapped)";
			c.signal = "ld-musl mapped";
			c.guess = 1;
		}
		if (vms_attr_claim(a, h, he - h, &c) >= 0) {
			claims++;
			heap_what = c.details;
			if (guarded) {
				vms_attr_role(a, h, "guard");
				vms_attr_role(a, h + 1, "meta");
			}
		}
	}
	uint64_t gb = 0, sb = 0;
	unsigned vmas = 0;
	if (confirmed) {
		for (size_t i = 0; i < s->n_regions; i++) {
			const struct vms_region *r = &s->regions[i];
			if (!vms_region_is_anon(r) || !vms_region_rw_private(r) || vms_attr_claimed(a, i) ||
			    r->smaps[VMS_SF_RSS] == 0)
				continue;
			vmas += (unsigned)claim_groups(&m, i, &gb, &sb);
		}
	}
	unsigned merged = confirmed ? 0 : claim_merged_stacks_by_geometry(&m);
	claims += vmas + merged;
	if (!claims)
		return NULL;
	return vms_attr_fmt(
	    a, "musl (%s); [heap]: %s; %u VMA(s) of mallocng groups (%s) and single allocations (%s)",
	    dyn ? "ld-musl mapped" : "static", heap_what ? heap_what : "not claimed", vmas, size_text(&m, gb),
	    size_text(&m, sb));
}

const struct vms_recogniser vms_rec_musl = {
    .key = "musl",
    .what = "musl mallocng: the [heap] meta area (4 KiB guard + meta pages carrying the secret), mmapped "
            "groups and "
            "single allocations (struct meta back-pointer, sizeclass, maplen; merged VMAs walked), the bump "
            "allocator "
            "of static binaries as a guess; ld-musl mapped or a static binary confirmed by reads (else "
            "guard-page and "
            "merged-stack geometry, as guesses).",
    .run = run,
};
