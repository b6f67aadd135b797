/* Recogniser "hotspot": the memory of a HotSpot JVM (OpenJDK 17; the layout notes are in
 * ../shared/docs/runtime-heaps.md section 8 and docs/memory-types.md, "Recognisers").
 *
 * Signals, cheapest first:
 *  1. presence: libjvm.so mapped, or the rw-s /tmp/hsperfdata_<user>/<pid> mapping;
 *  2. hsperfdata, read as a file through /proc/PID/root (or, for saved text, through the
 *     memory reader): collector, MaxHeapSize (generation max capacities), class space and
 *     metaspace sizes, version. Passive: the JVM publishes it; we never attach (jcmd sends
 *     SIGQUIT) and never read NMT;
 *  3. names: ZGC's /memfd:java_heap views;
 *  4. geometry: the reservation of MaxHeapSize (ends at 4 or 32 GiB with compressed oops),
 *     the 1 GiB class space above the CDS archive, 64 MiB metaspace nodes, the rwx/--- code
 *     cache, GC side tables of heap/64 and heap/512, HotSpot's 16 KiB stack guard zones.
 * Claims: the Java heap is ONE Managed Heap allocation (committed prefix + PROT_NONE tail + the
 * CDS archived-object regions inside it); ZGC's three views are one Managed Heap allocation
 * each, their memfd regions get the role "view" (Shared WS counts 0, see snapshot.c);
 * metaspace, class space, code cache and GC side tables are named Private Data (native memory
 * the JVM manages itself, not objects the collector moves: NMT files them under Class, Code
 * and GC, not Java Heap); the CDS archive stays Mapped File (a file mapping). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../attribute.h"
#include "../region.h"
#include "hsperfdata.h"

#define KIB (1ull << 10)
#define MIB (1ull << 20)
#define GIB (1ull << 30)
#define PERF_MAX (4u << 20)   /* PerfDataMemorySize is 32 KiB by default */
#define META_NODE (64 * MIB)  /* metaspace VirtualSpaceNode reservation (JDK 16+) */
#define META_ALIGN (4 * MIB)  /* metaspace root chunk size: nodes are aligned to it */
#define JAVA_GUARD (16 * KIB) /* red 1 + yellow 2 + reserved 1 page */
/* geometry steps per scan (the JVM fixtures take 10^3..10^4) */
#define HS_STEPS (64ul * VMS_ATTR_MAX_STEPS)

enum gc { GC_UNKNOWN, GC_G1, GC_PARALLEL, GC_SERIAL, GC_Z, GC_SHENANDOAH };

struct hs {
	struct vms_attr *a;
	const struct vms_snapshot *s;
	const struct vms_region *R;
	size_t n;
	int have_perf;
	struct vms_hsperf perf;
	enum gc gc;
	const char *gc_name;
	uint64_t heap_max; /* MaxHeapSize from hsperfdata, 0 when unknown */
	unsigned claims;
	const char *heap_text;  /* for the note */
	uint64_t zbase;         /* ZGC: address of the lowest heap view (= ZAddressOffsetMax), or 0 */
	unsigned long *steps;   /* geometry steps taken (span walks, block searches): a map of 65530
	                         * regions made to look like HotSpot's must not cost n^2 or n^3 */
	unsigned char *not_bss; /* per region: 1 when the classifier called it an image's .bss but it
	                         * lies past the image's last PT_LOAD (anonymous memory the kernel
	                         * merged after the image); NULL when none */
};

/* ---- small helpers ------------------------------------------------------------------------- */

static void size_text(char *buf, size_t cap, uint64_t b)
{
	if (b >= GIB && b % GIB == 0)
		snprintf(buf, cap, "%llu GiB", (unsigned long long)(b / GIB));
	else if (b >= MIB && b % MIB == 0)
		snprintf(buf, cap, "%llu MiB", (unsigned long long)(b / MIB));
	else if (b >= MIB)
		snprintf(buf, cap, "%.1f MiB", (double)b / (double)MIB);
	else
		snprintf(buf, cap, "%llu KiB", (unsigned long long)(b / KIB));
}

static int perms_are(const struct vms_region *r, const char *p)
{
	return !strncmp(r->perms, p, 4);
}

/* One more geometry step; 0 when the budget (HS_STEPS) is spent: then no more spans or blocks
 * are found. */
static int step(const struct hs *h)
{
	return ++*h->steps <= HS_STEPS;
}

static int contiguous(const struct hs *h, size_t j)
{
	return j > 0 && h->R[j].start == h->R[j - 1].end;
}

/* Anonymous private memory nobody has named: the classifier called it Private Data or Reserved
 * (not a stack, not a glibc heap) and no recogniser claimed it. */
static int avail(const struct hs *h, size_t i)
{
	const struct vms_region *r = &h->R[i];
	return !vms_attr_claimed(h->a, i) && !r->path && r->perms[3] == 'p' &&
	       (r->type == VMS_TYPE_PRIVATE_DATA || r->type == VMS_TYPE_RESERVED ||
	        (h->not_bss && h->not_bss[i]));
}

/* avail, and rw-p or ---p (what HotSpot's reservations are made of, code cache aside) */
static int plain(const struct hs *h, size_t i)
{
	return avail(h, i) && (perms_are(&h->R[i], "rw-p") || perms_are(&h->R[i], "---p"));
}

static int is_jsa(const struct vms_region *r)
{
	if (!r->path || r->path[0] != '/')
		return 0;
	const char *b = strrchr(r->path, '/') + 1;
	size_t l = strlen(b);
	return l > 4 && !strcmp(b + l - 4, ".jsa");
}

/* Java heap material: plain anonymous memory or a CDS archived-heap region (classes*.jsa, rw-p) */
static int heap_ok(const struct hs *h, size_t i)
{
	return plain(h, i) || (!vms_attr_claimed(h->a, i) && is_jsa(&h->R[i]) && h->R[i].perms[3] == 'p');
}

typedef int (*accept_fn)(const struct hs *h, size_t i);

/* Regions [i, end) that are contiguous, all accepted, and exactly cover size bytes from
 * R[i].start: returns end, or 0. */
static size_t span_to(const struct hs *h, size_t i, uint64_t size, accept_fn ok)
{
	uint64_t end = h->R[i].start + size;
	for (size_t j = i; j < h->n && step(h) && ok(h, j); j++) {
		if (j > i && !contiguous(h, j))
			return 0;
		if (h->R[j].end == end)
			return j + 1;
		if (h->R[j].end > end)
			return 0;
	}
	return 0;
}

static long claim(struct hs *h, size_t first, size_t end, enum vms_type type, const char *details,
                  const char *signal, int guess)
{
	struct vms_claim c = {.type = type, .details = details, .signal = signal, .guess = guess};
	long id = details ? vms_attr_claim(h->a, first, end - first, &c) : -1;
	if (id >= 0)
		h->claims++;
	return id;
}

/* Roles of a reservation: rw part "committed", PROT_NONE part "reserved". */
static void reservation_roles(struct hs *h, size_t first, size_t end)
{
	for (size_t k = first; k < end; k++)
		vms_attr_role(h->a, k, vms_region_no_access(&h->R[k]) ? "reserved" : "committed");
}

/* ---- images' .bss ---------------------------------------------------------------------------- */

/* End of the image's memory as its ELF program headers say (page-rounded end of the last
 * PT_LOAD), or 0 when unknown (not ELF64, unreadable, saved text). *absolute: 1 for ET_EXEC
 * (addresses as they are), 0 for ET_DYN (relative to the load base). */
static uint64_t elf_load_end(struct hs *h, const char *path, uint64_t page, int *absolute)
{
	unsigned char eh[64];
	if (vms_attr_read_file(h->a, path, 0, eh, sizeof eh) != (long)sizeof eh ||
	    memcmp(eh,
	           "\x7f"
	           "ELF",
	           4) ||
	    eh[4] != 2 || eh[5] != 1)
		return 0; /* ELF64 little-endian only */
	uint64_t phoff = 0;
	for (int k = 7; k >= 0; k--)
		phoff = phoff << 8 | eh[32 + k];
	unsigned phentsize = eh[54] | eh[55] << 8, phnum = eh[56] | eh[57] << 8;
	*absolute = (eh[16] | eh[17] << 8) == 2; /* ET_EXEC */
	if (phentsize != 56 || phnum == 0 || phnum > 64)
		return 0;
	unsigned char ph[64 * 56];
	if (vms_attr_read_file(h->a, path, phoff, ph, phnum * 56u) != (long)(phnum * 56u))
		return 0;
	uint64_t end = 0;
	for (unsigned k = 0; k < phnum; k++) {
		const unsigned char *p = ph + k * 56;
		uint32_t type =
		    (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
		uint64_t vaddr = 0, memsz = 0;
		for (int b = 7; b >= 0; b--) {
			vaddr = vaddr << 8 | p[16 + b];
			memsz = memsz << 8 | p[40 + b];
		}
		if (type == 1 && vaddr + memsz > end) /* PT_LOAD */
			end = vaddr + memsz;
	}
	return (end + page - 1) / page * page;
}

/* The classifier takes the anonymous rw-p VMA right after an image's data as its .bss; when the
 * kernel merged later anonymous mmaps into it (HotSpot's GC tables after libjsvml.so), or when
 * the image has no .bss beyond its last page at all, that VMA is not the image's. Mark the
 * regions that start at or past the image's PT_LOAD end. */
static void find_false_bss(struct hs *h)
{
	uint64_t page = h->s->page_size ? h->s->page_size : 4096;
	for (size_t i = 1; i < h->n; i++) {
		const struct vms_region *r = &h->R[i];
		if (!r->role || strcmp(r->role, "bss") || r->type != VMS_TYPE_IMAGE || r->path ||
		    !h->R[i - 1].path)
			continue;
		size_t f = i - 1; /* the image's first mapping: same file, offset 0 */
		while (f > 0 && h->R[f - 1].path && !strcmp(h->R[f - 1].path, h->R[i - 1].path) &&
		       h->R[f].offset != 0)
			f--;
		if (h->R[f].offset != 0)
			continue;
		int absolute = 0;
		uint64_t end = elf_load_end(h, h->R[i - 1].path, page, &absolute);
		if (!end || r->start < (absolute ? 0 : h->R[f].start) + end)
			continue;
		if (!h->not_bss && !(h->not_bss = calloc(h->n, 1)))
			return;
		h->not_bss[i] = 1;
	}
}

/* ---- hsperfdata ------------------------------------------------------------------------------ */

static long find_perf_region(const struct hs *h)
{
	for (size_t i = 0; i < h->n; i++) {
		const struct vms_region *r = &h->R[i];
		if (r->path && r->perms[3] == 's' && strstr(r->path, "/hsperfdata_"))
			return (long)i;
	}
	return -1;
}

/* Read the file the JVM maps (as the target sees it); without a live process (saved text),
 * read the mapped region through the memory reader instead. */
static void read_perf(struct hs *h, long pi)
{
	const struct vms_region *r = &h->R[pi];
	size_t len = r->end - r->start;
	if (len > PERF_MAX)
		len = PERF_MAX;
	unsigned char *buf = malloc(len);
	if (!buf)
		return;
	long got = r->deleted ? -1 : vms_attr_read_file(h->a, r->path, r->offset, buf, len);
	if (got < 32) {
		got = 0;
		while ((size_t)got < len) {
			size_t chunk = len - (size_t)got < 4096 ? len - (size_t)got : 4096;
			if (vms_attr_peek(h->a, r->start + (uint64_t)got, buf + got, chunk) != 0)
				break;
			got += (long)chunk;
		}
	}
	if (got >= 32 && vms_hsperf_parse(buf, (size_t)got, &h->perf) == 0)
		h->have_perf = 1;
	free(buf);
}

static void decide_gc(struct hs *h)
{
	const struct vms_hsperf *p = &h->perf;
	uint64_t ps = h->s->page_size ? h->s->page_size : 4096;
	h->gc_name = "unknown collector";
	if (!h->have_perf)
		return;
	if (!strcmp(p->policy, "GarbageFirst"))
		h->gc = GC_G1, h->gc_name = "G1";
	else if (!strncmp(p->policy, "ParScav", 7))
		h->gc = GC_PARALLEL, h->gc_name = "Parallel";
	else if (!strncmp(p->policy, "Copy:", 5))
		h->gc = GC_SERIAL, h->gc_name = "Serial";
	else if (!strncmp(p->collector, "Z ", 2))
		h->gc = GC_Z, h->gc_name = "ZGC";
	else if (!strncmp(p->collector, "Shenandoah", 10))
		h->gc = GC_SHENANDOAH, h->gc_name = "Shenandoah";
	/* MaxHeapSize: G1 pads every generation's maxCapacity by 8 bytes (and each of its
	 * generations covers the whole heap); the generational collectors split it. */
	if (h->gc == GC_G1 || h->gc == GC_Z || h->gc == GC_SHENANDOAH || p->n_gens == 1) {
		h->heap_max = p->gen_max[p->n_gens > 1 ? 1 : 0];
	} else {
		for (int g = 0; g < p->n_gens; g++)
			h->heap_max += p->gen_max[g];
	}
	h->heap_max -= h->heap_max % ps;
}

/* ---- the Java heap ------------------------------------------------------------------------- */

static int ends_like_oops(uint64_t end)
{
	return end == 4 * GIB || end == 32 * GIB; /* unscaled / zero-based compressed oops */
}

/* Parts of a Parallel or Serial heap: its generations, in address order. */
static void generation_parts(struct hs *h, long id, uint64_t start, uint64_t end)
{
	const struct vms_hsperf *p = &h->perf;
	if (p->n_gens != 2 || p->gen_max[0] + p->gen_max[1] != end - start)
		return;
	/* Parallel: old gen at the low end (ParallelScavengeHeap::initialize takes
	 * heap_rs.first_part(MaxOldSize)); Serial: young gen first (GenCollectedHeap). */
	int low = h->gc == GC_PARALLEL ? 1 : 0;
	uint64_t mid = start + p->gen_max[low];
	char a[32], b[32];
	size_text(a, sizeof a, p->gen_max[low]);
	size_text(b, sizeof b, p->gen_max[1 - low]);
	vms_attr_part(
	    h->a, id, start, mid,
	    vms_attr_fmt(h->a, "%s generation, %s reserved (hsperfdata)", low ? "old" : "young", a));
	vms_attr_part(
	    h->a, id, mid, end,
	    vms_attr_fmt(h->a, "%s generation, %s reserved (hsperfdata)", low ? "young" : "old", b));
}

static void claim_heap(struct hs *h)
{
	long best = -1;
	size_t best_end = 0;
	int best_score = -1, candidates = 0, guess = 0;
	const char *signal = "hsperfdata";
	if (h->heap_max) {
		for (size_t i = 0; i < h->n; i++) {
			if (!plain(h, i) || perms_are(&h->R[i], "---p"))
				continue; /* a Java heap starts with its committed part */
			size_t e = span_to(h, i, h->heap_max, heap_ok);
			if (!e)
				continue;
			int score = ends_like_oops(h->R[e - 1].end);
			candidates++;
			if (score > best_score)
				best = (long)i, best_end = e, best_score = score;
		}
		if (candidates > 1 && best_score == 0)
			guess = 1; /* several reservations of MaxHeapSize, none at an oops boundary */
	}
	if (best < 0) {
		/* No hsperfdata (-XX:-UsePerfData) or no match: the run of anonymous memory that ends
		 * at 4 or 32 GiB, where compressed oops put the heap. */
		for (size_t e = 0; e < h->n; e++) {
			if (!heap_ok(h, e) || !ends_like_oops(h->R[e].end))
				continue;
			size_t i = e;
			while (i > 0 && contiguous(h, i) && heap_ok(h, i - 1))
				i--;
			while (i < e && is_jsa(&h->R[i]))
				i++;
			if (plain(h, i))
				best = (long)i, best_end = e + 1, guess = 1, signal = "geometry";
		}
	}
	if (best < 0)
		return;
	size_t first = (size_t)best;
	uint64_t start = h->R[first].start, end = h->R[best_end - 1].end;
	int cds = 0;
	for (size_t k = first; k < best_end; k++) {
		if (is_jsa(&h->R[k]))
			cds = 1, vms_attr_role(h->a, k, "CDS archived objects");
		else
			vms_attr_role(h->a, k, vms_region_no_access(&h->R[k]) ? "reserved" : "committed");
	}
	char sz[32];
	size_text(sz, sizeof sz, end - start);
	const char *details;
	if (guess && !strcmp(signal, "geometry"))
		details = vms_attr_fmt(
		    h->a, "Java heap (%s), %s reserved, ends at %llu GiB like a compressed-oops heap (guess)",
		    h->gc_name, sz, (unsigned long long)(end / GIB));
	else
		details = vms_attr_fmt(h->a, "Java heap (%s), %s reserved%s (hsperfdata%s)", h->gc_name, sz,
		                       cds ? ", CDS archived objects at its top (classes.jsa)" : "",
		                       guess ? "; guess" : "");
	long id = claim(h, first, best_end, VMS_TYPE_MANAGED_HEAP, details, signal, guess);
	if (id < 0)
		return;
	h->heap_text = vms_attr_fmt(h->a, "heap %s", sz);
	if (h->gc == GC_PARALLEL || h->gc == GC_SERIAL)
		generation_parts(h, id, start, end);
	else if (cds)
		for (size_t k = first; k < best_end; k++)
			if (is_jsa(&h->R[k]))
				vms_attr_part(h->a, id, h->R[k].start, h->R[k].end,
				              "CDS archived heap region (classes.jsa)");
}

/* ZGC (JDK 17, non-generational): one memfd "java_heap" mapped at three views (marked0,
 * marked1, remapped at 4, 8 and 16 TiB for heaps up to 256 GiB), each view a reservation of
 * 16 x MaxHeapSize of which the memfd covers the committed granules. Generational ZGC (JDK 21+)
 * keeps a single view. */
static int is_zheap(const struct vms_region *r)
{
	return r->path && !strcmp(r->path, "/memfd:java_heap") && r->perms[3] == 's';
}

static int zview_ok(const struct hs *h, size_t i)
{
	return !vms_attr_claimed(h->a, i) &&
	       (is_zheap(&h->R[i]) || (plain(h, i) && vms_region_no_access(&h->R[i])));
}

static void claim_zgc(struct hs *h)
{
	size_t first[8], end[8];
	int nv = 0;
	for (size_t i = 0; i < h->n && nv < 8;) {
		if (!is_zheap(&h->R[i]) || vms_attr_claimed(h->a, i)) {
			i++;
			continue;
		}
		size_t b = i, e = i + 1;
		while (b > 0 && contiguous(h, b) && zview_ok(h, b - 1))
			b--;
		while (e < h->n && contiguous(h, e) && zview_ok(h, e))
			e++;
		first[nv] = b, end[nv] = e, nv++;
		i = e;
	}
	if (nv)
		h->zbase = h->R[first[0]].start;
	static const char *const names3[] = {"marked0", "marked1", "remapped"};
	const char *signal = h->have_perf ? "name, hsperfdata" : "name";
	for (int v = 0; v < nv; v++) {
		uint64_t size = h->R[end[v] - 1].end - h->R[first[v]].start;
		char sz[32], mx[48] = "";
		size_text(sz, sizeof sz, size);
		if (h->heap_max && size == 16 * h->heap_max) {
			char m[24];
			size_text(m, sizeof m, h->heap_max);
			snprintf(mx, sizeof mx, " = 16 x %s", m);
		}
		const char *details;
		if (nv == 1)
			details = vms_attr_fmt(h->a, "Java heap (ZGC, one view), %s reserved%s (%s)", sz, mx,
			                       signal);
		else
			details = vms_attr_fmt(
			    h->a,
			    "Java heap (ZGC), view %d of %d%s%s, %s reserved%s; the memfd java_heap is "
			    "mapped at all %d views: each view's Total WS counts the same pages, shared "
			    "with no other process (Shared WS 0) (%s)",
			    v + 1, nv, nv == 3 ? ": " : "", nv == 3 ? names3[v] : "", sz, mx, nv, signal);
		for (size_t k = first[v]; k < end[v]; k++)
			vms_attr_role(h->a, k,
			              is_zheap(&h->R[k]) ? (nv > 1 ? VMS_ROLE_VIEW : "committed")
			                                 : "reserved");
		claim(h, first[v], end[v], VMS_TYPE_MANAGED_HEAP, details, signal, 0);
	}
	if (nv) {
		char m[32];
		size_text(m, sizeof m, h->heap_max);
		h->heap_text = h->heap_max
		                   ? vms_attr_fmt(h->a, "heap %s in %d view%s", m, nv, nv > 1 ? "s" : "")
		                   : vms_attr_fmt(h->a, "heap in %d view%s", nv, nv > 1 ? "s" : "");
	}
}

/* ---- blocks of known size ----------------------------------------------------------------- */

/* A block of `total` bytes at x in plain anonymous memory that the regions [first, end) cover. */
struct block {
	long first, end;
	uint64_t x;
	int q; /* 3: on region boundaries; 2: starts a run, ends inside a merged region; 1: the mirror */
};

/* Committed memory HotSpot made: rw-p and charged (ac; os::commit_memory maps without
 * MAP_NORESERVE, unlike glibc's arena heaps, which show nr). */
static int rw_at(const struct hs *h, size_t i)
{
	return perms_are(&h->R[i], "rw-p") && (h->R[i].vm_flag_bits & VMS_VMF_AC);
}

/* Find a block of total bytes, aligned to align (0: page), whose first byte lies in committed
 * (rw-p) memory, in plain anonymous memory (all of it rw-p when all_rw). Objects HotSpot
 * reserves start committed; the kernel may have merged their first or last VMA with a
 * neighbour of the same flags, so besides exact spans (q 3) this accepts a block that starts a
 * run of anonymous memory and ends inside a later rw-p region (q 2) or ends a run and starts
 * inside an rw-p region (q 1). Best: highest q, then highest address (HotSpot maps its own
 * structures early, and mmap goes top-down). Returns 1 when found. */
static int find_block(const struct hs *h, uint64_t total, uint64_t align, int all_rw, struct block *best)
{
	best->first = -1, best->q = 0, best->x = 0;
	if (!total)
		return 0;
	for (size_t i = 0; i < h->n && step(h); i++) {
		if (!plain(h, i))
			continue;
		int run_start = !(contiguous(h, i) && plain(h, i - 1));
		int run_end = !(i + 1 < h->n && contiguous(h, i + 1) && plain(h, i + 1));
		struct block c = {.first = (long)i, .x = h->R[i].start};
		size_t e = span_to(h, i, total, plain), j = i;
		if (e) {
			c.q = 3, c.end = (long)e;
		} else if (run_start) {
			while (j + 1 < h->n && h->R[j].end < c.x + total && contiguous(h, j + 1) &&
			       plain(h, j + 1) && step(h))
				j++;
			if (j > i && h->R[j].end > c.x + total && rw_at(h, j))
				c.q = 2, c.end = (long)j + 1;
		}
		if (!c.q && run_end && h->R[i].end > total) {
			c.x = h->R[i].end - total;
			while (j > 0 && h->R[j].start > c.x && contiguous(h, j) && plain(h, j - 1) && step(h))
				j--;
			if (h->R[j].start < c.x && c.x < h->R[j].end)
				c.q = 1, c.first = (long)j, c.end = (long)i + 1;
		}
		if (!c.q || (align && c.x % align) || !rw_at(h, (size_t)c.first))
			continue;
		int ok = 1;
		for (long k = c.first; k < c.end; k++)
			ok &= vms_region_no_access(&h->R[k]) ? !all_rw : rw_at(h, (size_t)k);
		if (ok && (c.q > best->q || (c.q == best->q && c.x > best->x)))
			*best = c;
	}
	return best->first >= 0;
}

static const char *other_memory(struct hs *h, const struct block *b, uint64_t total)
{
	uint64_t rs = h->R[b->first].start, re = h->R[b->end - 1].end;
	if (re - rs <= total)
		return "";
	char o[32];
	size_text(o, sizeof o, re - rs - total);
	return vms_attr_fmt(h->a, "; its VMAs also hold %s of other memory", o);
}

/* ---- class space, CDS archive, metaspace --------------------------------------------------- */

/* The compressed class space: a reservation of CompressedClassSpaceSize (hsperfdata; 1 GiB by
 * default) directly above the CDS archive, or ending at 32 GiB (-Xshare:off). */
static void claim_class_space(struct hs *h)
{
	uint64_t size = h->perf.ccs_max ? h->perf.ccs_max : GIB;
	long best = -1;
	size_t best_end = 0;
	int best_score = -1, n = 0;
	for (size_t i = 0; i < h->n; i++) {
		if (!plain(h, i) || perms_are(&h->R[i], "---p"))
			continue;
		size_t e = span_to(h, i, size, plain);
		if (!e)
			continue;
		int score =
		    (i > 0 && contiguous(h, i) &&
		     (is_jsa(&h->R[i - 1]) || (h->R[i - 1].path == NULL && i > 1 && is_jsa(&h->R[i - 2])))) ||
		    h->R[e - 1].end == 32 * GIB;
		n++;
		if (score > best_score)
			best = (long)i, best_end = e, best_score = score;
	}
	if (best < 0 || (best_score == 0 && n > 1))
		return;
	char sz[32];
	size_text(sz, sizeof sz, size);
	int guess = !h->perf.ccs_max || best_score == 0;
	const char *sig = h->perf.ccs_max ? "hsperfdata" : "geometry";
	reservation_roles(h, (size_t)best, best_end);
	claim(h, (size_t)best, best_end, VMS_TYPE_PRIVATE_DATA,
	      vms_attr_fmt(h->a, "Java compressed class space, %s reserved (%s%s)", sz, sig,
	                   guess ? "; guess" : ""),
	      sig, guess);
}

/* The CDS archive outside the heap: the classes*.jsa mapping(s) and the PROT_NONE rest of their
 * reservation (16 MiB for the JDK's default archive). */
static void claim_cds(struct hs *h)
{
	for (size_t i = 0; i < h->n; i++) {
		if (!is_jsa(&h->R[i]) || vms_attr_claimed(h->a, i))
			continue;
		size_t e = i + 1;
		while (e < h->n && contiguous(h, e) && !vms_attr_claimed(h->a, e) &&
		       (is_jsa(&h->R[e]) || (plain(h, e) && vms_region_no_access(&h->R[e]))))
			e++;
		for (size_t k = i; k < e; k++)
			vms_attr_role(h->a, k, is_jsa(&h->R[k]) ? "archive" : "reserved");
		char sz[32];
		size_text(sz, sizeof sz, h->R[e - 1].end - h->R[i].start);
		const char *b = strrchr(h->R[i].path, '/') + 1;
		claim(h, i, e, VMS_TYPE_MAPPED_FILE,
		      vms_attr_fmt(h->a, "Java CDS archive (%s, class metadata), %s reserved (geometry): %s",
		                   b, sz, h->R[i].path),
		      "geometry", 0);
		i = e - 1;
	}
}

/* Metaspace (JDK 16+): 64 MiB node reservations, 4 MiB aligned, committed from the bottom in
 * 64 KiB granules (rw-p ac + ---p nr). hsperfdata's metaspace.maxCapacity is the class space
 * plus the nodes, which gives their number. */
static void claim_metaspace(struct hs *h)
{
	long want = -1;
	if (h->perf.meta_max && h->perf.ccs_max && h->perf.meta_max > h->perf.ccs_max)
		want = (long)((h->perf.meta_max - h->perf.ccs_max) / META_NODE);
	struct block b;
	for (long got = 0; (want < 0 || got < want) && find_block(h, META_NODE, META_ALIGN, 0, &b); got++) {
		reservation_roles(h, (size_t)b.first, (size_t)b.end);
		const char *other = other_memory(h, &b, META_NODE);
		const char *details =
		    want >= 0
		        ? vms_attr_fmt(
		              h->a,
		              "Java metaspace node, 64 MiB reserved (geometry; hsperfdata: %ld node%s%s)",
		              want, want == 1 ? "" : "s", other)
		        : vms_attr_fmt(h->a, "Java metaspace node, 64 MiB reserved (geometry%s; guess)",
		                       other);
		long id = claim(h, (size_t)b.first, (size_t)b.end, VMS_TYPE_PRIVATE_DATA, details, "geometry",
		                want < 0);
		if (id < 0)
			break;
		if (*other)
			vms_attr_part(h->a, id, b.x, b.x + META_NODE, "Java metaspace node");
	}
}

/* ---- code cache ---------------------------------------------------------------------------- */

/* ReservedCodeCacheSize (240 MiB with tiered compilation) in up to three code heaps, each a
 * rwxp committed start + ---p rest. Order seen on JDK 17: profiled, non-nmethods, non-profiled
 * (matching the sizes of the JVM's CodeHeap memory pools). */
static void claim_code_cache(struct hs *h)
{
	for (size_t i = 0; i < h->n; i++) {
		if (!avail(h, i) || !perms_are(&h->R[i], "rwxp") ||
		    (contiguous(h, i) && avail(h, i - 1) && perms_are(&h->R[i - 1], "---p")))
			continue;
		uint64_t seg[8];
		int ns = 0;
		size_t e = i;
		while (e < h->n && (e == i || contiguous(h, e)) && avail(h, e) &&
		       (perms_are(&h->R[e], "rwxp") || perms_are(&h->R[e], "---p"))) {
			if (perms_are(&h->R[e], "rwxp") && (e == i || !perms_are(&h->R[e - 1], "rwxp")) &&
			    ns < 8)
				seg[ns++] = h->R[e].start;
			e++;
		}
		uint64_t start = h->R[i].start, end = h->R[e - 1].end;
		if (end - start < 2 * MIB || e == i + 1)
			continue; /* a lone rwx page is someone else's JIT or trampoline */
		char sz[32];
		size_text(sz, sizeof sz, end - start);
		reservation_roles(h, i, e);
		long id =
		    claim(h, i, e, VMS_TYPE_PRIVATE_DATA,
		          vms_attr_fmt(h->a, "Java code cache, %s reserved in %d code heap%s (geometry)", sz,
		                       ns, ns == 1 ? "" : "s"),
		          "geometry", 0);
		if (id >= 0 && ns == 3) {
			uint64_t b[4] = {seg[0], seg[1], seg[2], end};
			int small = 0;
			for (int k = 1; k < 3; k++)
				if (b[k + 1] - b[k] < b[small + 1] - b[small])
					small = k;
			int big = 0;
			for (int k = 0; k < 3; k++) {
				const char *what = k == small   ? "non-nmethods"
				                   : big++ == 0 ? "profiled nmethods"
				                                : "non-profiled nmethods";
				size_text(sz, sizeof sz, b[k + 1] - b[k]);
				vms_attr_part(h->a, id, b[k], b[k + 1],
				              vms_attr_fmt(h->a, "code heap '%s', %s reserved", what, sz));
			}
		}
		i = e - 1;
	}
}

/* ---- GC side tables ------------------------------------------------------------------------ */

struct table {
	uint64_t size;
	const char *what;   /* as a part of a group */
	const char *single; /* claimed alone (tables of one size cannot be told apart), or NULL: what */
};

/* Claim one block of tables [t, t + nt) found by find_block, one part per table. */
static void claim_block(struct hs *h, const struct block *b, const char *what, const char *sizes,
                        const struct table *t, int nt)
{
	uint64_t total = 0;
	for (int k = 0; k < nt; k++)
		total += t[k].size;
	reservation_roles(h, (size_t)b->first, (size_t)b->end);
	long id = claim(h, (size_t)b->first, (size_t)b->end, VMS_TYPE_PRIVATE_DATA,
	                vms_attr_fmt(h->a, "%s (%s; place by geometry%s) (guess)", what, sizes,
	                             other_memory(h, b, total)),
	                "hsperfdata, geometry", 1);
	uint64_t x = b->x;
	for (int k = 0; id >= 0 && k < nt; k++) {
		char sz[32];
		size_text(sz, sizeof sz, t[k].size);
		vms_attr_part(h->a, id, x, x + t[k].size, vms_attr_fmt(h->a, "%s, %s", t[k].what, sz));
		x += t[k].size;
	}
}

/* GC side tables. HotSpot maps them one after the other, so they often lie back to back, and
 * when the kernel merged their VMAs across the tables' boundaries only the whole group can be
 * claimed; but not always (another thread's mmap can land between them). So: the group on exact
 * region boundaries; else each table on exact boundaries; else the group with a merged end;
 * else each table of 4 MiB or more with a merged end (a small table would match too much).
 * Always a guess: the JVM publishes the sizes (through MaxHeapSize), not the places. */
static void claim_tables(struct hs *h, const char *group, const char *sizes, const struct table *t, int nt,
                         int all_rw)
{
	uint64_t total = 0;
	int found[8] = {0}, any = 0;
	for (int k = 0; k < nt && k < 8; k++)
		total += t[k].size;
		/* HotSpot's reservations whose size is a multiple of 2 MiB start 2 MiB aligned (every such
		 * GC table, metaspace node, class space and code cache seen on JDK 17, THP "madvise");
		 * others (heap/64 of a 6028 MiB heap: 96448 KiB) are page aligned. */
#define ALIGN_FOR(sz) ((sz) % (2 * MIB) == 0 ? 2 * MIB : 0)
	struct block b;
	if (nt > 1 && find_block(h, total, ALIGN_FOR(t[0].size), all_rw, &b) && b.q == 3) {
		claim_block(h, &b, group, sizes, t, nt);
		return;
	}
	for (int k = 0; k < nt && k < 8; k++)
		if (find_block(h, t[k].size, ALIGN_FOR(t[k].size), all_rw, &b) && b.q == 3)
			claim_block(h, &b, t[k].single ? t[k].single : t[k].what, sizes, &t[k], 1),
			    found[k] = any = 1;
	if (!any && nt > 1 && find_block(h, total, ALIGN_FOR(t[0].size), all_rw, &b)) {
		claim_block(h, &b, group, sizes, t, nt);
		return;
	}
	for (int k = 0; k < nt && k < 8; k++)
		if (!found[k] && t[k].size >= 4 * MIB &&
		    find_block(h, t[k].size, ALIGN_FOR(t[k].size), all_rw, &b))
			claim_block(h, &b, t[k].single ? t[k].single : t[k].what, sizes, &t[k], 1);
}

/* Anonymous memory the classifier took for an image's .bss but that lies past the image's last
 * PT_LOAD (find_false_bss) and that no rule above claimed: at least its type can be right. */
static void claim_false_bss(struct hs *h)
{
	for (size_t i = 0; h->not_bss && i < h->n; i++) {
		if (!h->not_bss[i] || vms_attr_claimed(h->a, i))
			continue;
		const char *lib = strrchr(h->R[i - 1].path, '/') + 1;
		claim(h, i, i + 1, VMS_TYPE_PRIVATE_DATA,
		      vms_attr_fmt(h->a,
		                   "anonymous memory the kernel merged after %s's data: past its last "
		                   "PT_LOAD, so not its "
		                   ".bss (ELF program headers); owner unknown",
		                   lib),
		      "ELF program headers", 0);
	}
}

#define FROM_MAX "sizes from MaxHeapSize in hsperfdata"

static void claim_gc_tables(struct hs *h)
{
	uint64_t H = h->heap_max;
	if (!H)
		return;
	if (h->gc == GC_G1) {
		/* JDK 17: two mark bitmaps (prev, next) of heap/64; BOT, card table and card counts of
		 * heap/512 each (G1CollectedHeap::initialize); the concurrent mark stack, 32 MiB for
		 * MarkStackSize 4M entries. */
		const struct table bm[] = {{H / 64, "G1 mark bitmap (heap/64)", NULL},
		                           {H / 64, "G1 mark bitmap (heap/64)", NULL}};
#define G1_ONE_OF "G1 block offset table, card table or card counts (heap/512)"
		const struct table ct[] = {{H / 512, "G1 block offset table (heap/512)", G1_ONE_OF},
		                           {H / 512, "G1 card table (heap/512)", G1_ONE_OF},
		                           {H / 512, "G1 card counts (heap/512)", G1_ONE_OF}};
		const struct table ms[] = {{32 * MIB, "G1 concurrent mark stack", NULL}};
		claim_tables(h, "G1 concurrent mark stack", "32 MiB: JDK 17 default MarkStackSize", ms, 1, 1);
		claim_tables(h, "G1 mark bitmaps (2 x heap/64)", FROM_MAX, bm, 2, 0);
		claim_tables(h, "G1 block offset table, card table and card counts (3 x heap/512)", FROM_MAX,
		             ct, 3, 0);
	} else if (h->gc == GC_PARALLEL) {
		/* card table heap/512 just below the mark bitmap heap/32 (ParMarkBitMap: 2 bits per word) */
		const struct table t[] = {{H / 512, "Parallel GC card table", NULL},
		                          {H / 32, "Parallel GC mark bitmap", NULL}};
		claim_tables(h, "Parallel GC card table and mark bitmap (heap/512 + heap/32)", FROM_MAX, t, 2,
		             0);
	} else if (h->gc == GC_Z) {
		const struct table t[] = {{8 * GIB, "ZGC mark stack space", NULL}};
		claim_tables(h, "ZGC mark stack space", "8 GiB: default ZMarkStackSpaceLimit", t, 1, 0);
		/* ZPageTable and ZForwardingTable: ZGranuleMaps of one 8-byte entry per 2 MiB granule
		 * of the address offset space, which ends where the first view begins. */
		if (h->zbase && h->zbase % (2 * MIB) == 0) {
			uint64_t g = h->zbase / (2 * MIB) * 8;
			const struct table m[] = {
			    {g, "ZGC page table", "ZGC page table or forwarding table"},
			    {g, "ZGC forwarding table", "ZGC page table or forwarding table"}};
			claim_tables(h, "ZGC page table and forwarding table",
			             "granule maps: 8 bytes per 2 MiB below the first heap view", m, 2, 1);
		}
	}
}

/* ---- thread stacks ------------------------------------------------------------------------- */

/* Java threads: HotSpot's own 16 KiB guard zone (red + yellow + reserved pages, re-mmapped, so
 * without `nh`) directly below the rw-p stack. The classifier types them Stack when a thread's
 * stack pointer is inside or the rw part carries `nh` (MAP_STACK, Linux 6.8+); this catches the
 * rest (older kernels, threads that were running when scanned). */
static void claim_java_stacks(struct hs *h)
{
	for (size_t i = 0; i + 1 < h->n; i++) {
		const struct vms_region *g = &h->R[i], *r = &h->R[i + 1];
		if (!avail(h, i) || !avail(h, i + 1) || !vms_region_no_access(g) ||
		    g->end - g->start != JAVA_GUARD || !perms_are(r, "rw-p") || r->start != g->end ||
		    (r->end - g->start) % (64 * KIB) != 0)
			continue;
		vms_attr_role(h->a, i, "guard");
		vms_attr_role(h->a, i + 1, "stack");
		claim(h, i, i + 2, VMS_TYPE_STACK,
		      "Java thread stack: HotSpot's 16 KiB guard zone below it; thread not identified "
		      "(geometry; guess)",
		      "geometry", 1);
		i++;
	}
}

/* Threads without a stack row: say why in JVM terms. The classifier calls a thread stack with
 * no thread in it "unused or cached by glibc"; in a JVM with threads whose stack pointer could
 * not be read (they were running), such a stack is more likely one of theirs: say both. */
static void thread_notes(struct hs *h)
{
	const struct vms_snapshot *s = h->s;
	unsigned unmatched = 0, running = 0;
	for (size_t t = 0; t < s->n_threads; t++)
		running += s->threads[t].stack_allocation < 0 && !s->threads[t].sp;
	for (size_t k = 0; k < s->n_allocations; k++) {
		const struct vms_allocation *al = &s->allocations[k];
		if (al->type != VMS_TYPE_STACK || al->tid)
			continue;
		unmatched++;
		if (!running || vms_attr_claimed(h->a, al->first_region) ||
		    !s->regions[al->first_region].role || strcmp(s->regions[al->first_region].role, "guard"))
			continue;
		claim(h, al->first_region, al->first_region + al->n_regions, VMS_TYPE_STACK,
		      vms_attr_fmt(
		          h->a,
		          "Thread stack without a thread id: probably one of the %u thread%s whose stack "
		          "pointer "
		          "was unknown (running when scanned), else a stack glibc keeps cached (guess)",
		          running, running == 1 ? "" : "s"),
		      "geometry", 1);
	}
	for (size_t t = 0; t < s->n_threads; t++) {
		const struct vms_thread *th = &s->threads[t];
		if (th->stack_allocation >= 0 || th->sp)
			continue;
		vms_attr_thread_note(
		    h->a, t,
		    unmatched ? vms_attr_fmt(h->a,
		                             "stack pointer unknown (%s): its stack is one of the %u "
		                             "thread stacks without a thread id",
		                             s->thread_note ? s->thread_note : "it was running when scanned",
		                             unmatched)
		              : NULL);
	}
}

/* ---- the recogniser ------------------------------------------------------------------------ */

static const char *run(struct vms_attr *a)
{
	unsigned long steps = 0;
	struct hs h = {.a = a, .s = vms_attr_snapshot(a), .steps = &steps};
	h.R = h.s->regions;
	h.n = h.s->n_regions;
	long pi = find_perf_region(&h);
	if (vms_attr_find_image(a, "libjvm.so") < 0 && pi < 0)
		return NULL;
	if (pi >= 0)
		read_perf(&h, pi);
	decide_gc(&h);
	find_false_bss(&h);

	if (h.gc != GC_Z)
		claim_heap(&h);
	claim_zgc(&h); /* by the memfd name, with or without hsperfdata */
	claim_class_space(&h);
	claim_cds(&h);
	claim_metaspace(&h);
	claim_code_cache(&h);
	claim_gc_tables(&h);
	claim_java_stacks(&h);
	claim_false_bss(&h);
	if (pi >= 0 && !vms_attr_claimed(a, (size_t)pi))
		claim(&h, (size_t)pi, (size_t)pi + 1, h.R[pi].type,
		      vms_attr_fmt(a, "JVM performance counters (hsperfdata): %s", h.R[pi].path),
		      "hsperfdata", 0);
	thread_notes(&h);
	free(h.not_bss);

	if (h.have_perf)
		return vms_attr_fmt(a, "JVM %s, %s, %s (hsperfdata, %u counters)",
		                    h.perf.version[0] ? h.perf.version : "?", h.gc_name,
		                    h.heap_text ? h.heap_text : "heap not found", h.perf.entries);
	return vms_attr_fmt(a, "JVM (libjvm.so mapped; no hsperfdata: geometry only), %s",
	                    h.heap_text ? h.heap_text : "heap not found");
}

const struct vms_recogniser vms_rec_hotspot = {
    .key = "hotspot",
    .what = "HotSpot JVM (libjvm.so, /tmp/hsperfdata_*): the Java heap as one Managed Heap allocation "
            "(G1, Parallel, Serial by MaxHeapSize from hsperfdata; ZGC's memfd views), compressed class "
            "space, CDS archive, metaspace nodes, code cache, GC side tables (guessed by size), Java "
            "thread stacks; never attaches.",
    .run = run,
};
