/* The attribution stage against a hostile target (attribute.h: "The target is untrusted").
 * 1. Replays the inputs tests/fuzz/fuzz_attribute.c found (tests/fixtures/hostile/ (*.in files): smaps
 *    text + memory/file bytes) through the harness itself, with all its invariants.
 * 2. Hand-made hostile bytes per recogniser family: glibc arena rings and prev chains that loop,
 *    V8 pages of minimal size over 1 GiB, a chain of 65 mimalloc segments, hsperfdata with 2^31
 *    entries, a pymalloc candidate of 1 TiB, a Go arena index that names nothing across 64 TiB
 *    of reservation, and a 65000-region map shaped for HotSpot's geometry searches (n^2 before).
 * Each must finish, stay within the read budgets and keep the snapshot's invariants. */
#include "../fuzz/fuzz_attribute.c" /* LLVMFuzzerTestOneInput, fuzz_check_snapshot */

#include <dirent.h>
#include <stdarg.h>
#include <time.h>

#include "../../server/core/recognisers/hsperfdata.h"
#include "test.h"

#define MIB (1ull << 20)
#define GIB (1ull << 30)

/* ---- smaps text by hand ------------------------------------------------------------------ */

struct text {
	char *p;
	size_t len, cap;
	unsigned inode;
};

static void put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	for (;;) {
		va_start(ap, fmt);
		int n = vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		}
		t->cap = t->cap ? t->cap * 2 : 1 << 16;
		t->p = realloc(t->p, t->cap);
		if (!t->p)
			abort();
	}
}

static void region(struct text *t, uint64_t start, uint64_t end, const char *perms, const char *path,
                   const char *flags, unsigned rss_kb)
{
	int file = path && path[0] == '/';
	put(t, "%llx-%llx %s 00000000 %s %u%s%s\n", (unsigned long long)start, (unsigned long long)end, perms,
	    file ? "fe:00" : "00:00", file ? t->inode : 0, path ? "                    " : "",
	    path ? path : "");
	put(t, "Size: %llu kB\nRss: %u kB\nPrivate_Dirty: %u kB\nVmFlags: %s\n",
	    (unsigned long long)((end - start) >> 10), rss_kb, rss_kb, flags);
}

/* An ELF image: r--p, r-xp, rw-p pages at *at. */
static void image(struct text *t, uint64_t *at, const char *path)
{
	t->inode++;
	region(t, *at, *at + 0x1000, "r--p", path, "rd mr mw me", 4);
	region(t, *at + 0x1000, *at + 0x2000, "r-xp", path, "rd ex mr mw me", 4);
	region(t, *at + 0x2000, *at + 0x3000, "rw-p", path, "rd wr mr mw me ac", 4);
	*at += 0x3000;
}

static struct vms_snapshot *build(struct text *t)
{
	struct vms_snapshot *s = vms_snapshot_new();
	CHECK(s && vms_smaps_parse(s, t->p, t->len) == VMS_OK);
	free(t->p);
	memset(t, 0, sizeof *t);
	s->arch.bits = 64;
	s->arch.machine = "x86_64";
	s->mmap_min_addr = 0x10000;
	s->user_top = 0x7ffffffff000ull;
	s->page_size = 4096;
	struct vms_classify_ctx ctx = {.heap_max = 64u << 20, .main_tid = 1};
	CHECK(vms_classify(s, &ctx) == VMS_OK);
	return s;
}

/* ---- memory by hand: a function of the address ------------------------------------------- */

struct mem {
	void (*fill)(struct mem *m, uint64_t addr, unsigned char *buf, size_t len); /* buf zeroed */
	uint64_t p[8];
	unsigned long reads;
};

static int mem_read(void *cookie, uint64_t addr, void *buf, size_t len)
{
	struct mem *m = cookie;
	m->reads++;
	memset(buf, 0, len);
	m->fill(m, addr, buf, len);
	return 0;
}

/* Put the 8-byte word v at address at, if [addr, addr + len) holds it. */
static void word_at(uint64_t addr, unsigned char *buf, size_t len, uint64_t at, uint64_t v)
{
	if (at >= addr && at + 8 <= addr + len)
		memcpy(buf + (at - addr), &v, 8);
}

static double attribute_timed(struct vms_snapshot *s, struct mem *m)
{
	struct timespec t0, t1;
	int changed = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK(vms_attribute_with(s, m ? mem_read : NULL, m, &changed) == VMS_OK);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fuzz_check_snapshot(s);
	for (size_t i = 0; getenv("HOSTILE_DUMP") && i < s->n_allocations; i++)
		fprintf(stderr, "  %llx-%llx %s %s: %s\n", (unsigned long long)s->allocations[i].start,
		        (unsigned long long)s->allocations[i].end, vms_type_name(s->allocations[i].type),
		        s->allocations[i].owner ? s->allocations[i].owner : "-",
		        s->allocations[i].details ? s->allocations[i].details : "");
	if (m)
		CHECK(m->reads <= (unsigned long)VMS_ATTR_MAX_READS * vms_n_recognisers);
	return (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
}

static const char *note_of(const struct vms_snapshot *s, const char *key)
{
	for (size_t k = 0; k < s->n_recognisers; k++)
		if (!strcmp(s->recognisers[k].key, key))
			return s->recognisers[k].note;
	return NULL;
}

static const struct vms_allocation *alloc_at(const struct vms_snapshot *s, uint64_t start)
{
	for (size_t i = 0; i < s->n_allocations; i++)
		if (s->allocations[i].start == start)
			return &s->allocations[i];
	return NULL;
}

static int contains(const char *s, const char *sub)
{
	return s && strstr(s, sub);
}

/* ---- 1. replay the fuzzer's findings ----------------------------------------------------- */

static void test_replay(void)
{
	char dir[1024];
	snprintf(dir, sizeof dir, "%s/hostile",
	         getenv("VMSCOPE_FIXTURES") ? getenv("VMSCOPE_FIXTURES") : "tests/fixtures");
	DIR *d = opendir(dir);
	CHECK(d != NULL);
	if (!d)
		return;
	unsigned n = 0;
	for (struct dirent *e; (e = readdir(d));) {
		size_t l = strlen(e->d_name);
		if (l < 4 || strcmp(e->d_name + l - 3, ".in"))
			continue;
		char path[2048];
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		FILE *f = fopen(path, "rb");
		CHECK(f != NULL);
		if (!f)
			continue;
		fseek(f, 0, SEEK_END);
		long len = ftell(f);
		fseek(f, 0, SEEK_SET);
		unsigned char *b = malloc(len > 0 ? (size_t)len : 1);
		CHECK(b && fread(b, 1, (size_t)len, f) == (size_t)len);
		fclose(f);
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		LLVMFuzzerTestOneInput(b, (size_t)len); /* aborts on a broken invariant */
		clock_gettime(CLOCK_MONOTONIC, &t1);
		double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		fprintf(stderr, "replayed %s: %.3f s\n", e->d_name, secs);
		CHECK(secs < 10); /* the fuzzer's limit was 2 s under ASan; generous for loaded machines */
		free(b);
		n++;
	}
	closedir(d);
	CHECK(n > 0);
}

/* ---- 2. glibc: arena rings and prev chains that loop -------------------------------------- */

#define HEAP_MAX (64 * MIB)
#define G_BASE 0x7f0000000000ull

/* p[0..2]: heap bases; p[3]: mode (0 ring A->B->C->B, 1 prev cycle X<->Y) */
static void glibc_fill(struct mem *m, uint64_t addr, unsigned char *buf, size_t len)
{
	for (int h = 0; h < 3; h++) {
		uint64_t b = m->p[h], ar = b + 0x30;
		uint64_t prev = 0;
		if (m->p[3] == 1 && h > 0) { /* X.prev = Y, Y.prev = X, both in the arena of heap 0 */
			prev = m->p[h == 1 ? 2 : 1];
			ar = m->p[0] + 0x30;
		}
		word_at(addr, buf, len, b, ar);
		word_at(addr, buf, len, b + 8, prev);
		word_at(addr, buf, len, b + 16, 0x21000);
		word_at(addr, buf, len, b + 24, 0x21000);
		/* malloc_state.next: A -> B -> C -> B (never back to A) */
		uint64_t next = m->p[3] == 0 ? m->p[h == 2 ? 1 : h + 1] + 0x30 : 0;
		word_at(addr, buf, len, b + 0x30 + 0x870, next);
	}
}

static void test_glibc(int mode)
{
	struct text t = {0};
	uint64_t at = 0x400000;
	image(&t, &at, "/usr/bin/prog");
	at = 0x7e0000000000ull;
	image(&t, &at, "/usr/lib/x86_64-linux-gnu/libc.so.6");
	struct mem m = {.fill = glibc_fill,
	                .p = {G_BASE, G_BASE + HEAP_MAX, G_BASE + 2 * HEAP_MAX, (uint64_t)mode}};
	for (int h = 0; h < 3; h++) {
		region(&t, m.p[h], m.p[h] + 0x21000, "rw-p", NULL, "rd wr mr mw me nr", 132);
		region(&t, m.p[h] + 0x21000, m.p[h] + HEAP_MAX, "---p", NULL, "mr mw me nr", 0);
	}
	struct vms_snapshot *s = build(&t);
	double secs = attribute_timed(s, &m);
	fprintf(stderr, "glibc %s: %.3f s, %lu reads\n", mode ? "prev cycle" : "rho ring", secs, m.reads);
	for (int h = 0; h < 3; h++) {
		const struct vms_allocation *al = alloc_at(s, m.p[h]);
		CHECK(al && al->owner && !strcmp(al->owner, "glibc"));
		if (!al)
			continue;
		/* the ring never closes: no arena numbers; a prev cycle has no depth */
		CHECK(contains(al->details, "glibc arena at 0x"));
		if (mode == 1 && h > 0)
			CHECK(contains(al->details, "heap ?"));
		if (mode == 1 && h == 0)
			CHECK(contains(al->details, "heap 1"));
	}
	CHECK(!contains(note_of(s, "glibc"), "numbered"));
	CHECK(m.reads < 2000);
	vms_snapshot_free(s);
}

/* ---- V8: 1 GiB of minimal (4 KiB) read-only-space pages ------------------------------------ */

static void v8_fill(struct mem *m, uint64_t addr, unsigned char *buf, size_t len)
{
	(void)m;
	if (addr % 4096 || len < 0x28)
		return;
	word_at(addr, buf, len, addr, 4096);                 /* size */
	word_at(addr, buf, len, addr + 0x18, addr + 0x100);  /* area_start */
	word_at(addr, buf, len, addr + 0x20, addr + 0x1000); /* area_end; Heap* = owner = 0 */
}

static void test_v8(void)
{
	struct text t = {0};
	uint64_t at = 0x400000;
	image(&t, &at, "/usr/bin/node");
	uint64_t base = 0x200000000000ull;
	region(&t, base, base + GIB, "rw-p", NULL, "rd wr mr mw me ac nr dc", 1 << 20);
	struct mem m = {.fill = v8_fill};
	struct vms_snapshot *s = build(&t);
	double secs = attribute_timed(s, &m);
	fprintf(stderr, "v8 1 GiB of 4 KiB pages: %.3f s, %lu reads\n", secs, m.reads);
	const struct vms_allocation *al = alloc_at(s, base);
	CHECK(al && al->owner && !strcmp(al->owner, "v8"));
	CHECK(al && contains(al->details, "headers recognised for the first"));
	CHECK(contains(note_of(s, "v8"), "read budget spent"));
	vms_snapshot_free(s);
}

/* ---- mimalloc: 65 segment headers in a row, the last running past the VMA ----------------- */

#define MI_SEG (32 * MIB)

static void mi_fill(struct mem *m, uint64_t addr, unsigned char *buf, size_t len)
{
	(void)m;
	if (addr % MI_SEG || len < 0x108)
		return;
	word_at(addr, buf, len, addr + 0x10, MI_SEG);                   /* mem_alignment */
	word_at(addr, buf, len, addr + 0xd8, addr ^ 0x5a5a5a5a5a5aull); /* cookie */
	word_at(addr, buf, len, addr + 0xe0, 512);                      /* slices */
	word_at(addr, buf, len, addr + 0xe8, 1);                        /* info slices */
}

static void test_mimalloc(void)
{
	struct text t = {0};
	uint64_t at = 0x400000;
	image(&t, &at, "/usr/lib/x86_64-linux-gnu/libmimalloc.so.2.0");
	uint64_t base = 2ull << 40;
	region(&t, base, base + 65 * MI_SEG + MI_SEG / 2, "rw-p", NULL, "rd wr mr mw me ac nr", 4096);
	struct mem m = {.fill = mi_fill};
	struct vms_snapshot *s = build(&t);
	double secs = attribute_timed(s, &m);
	fprintf(stderr, "mimalloc 65 chained segments: %.3f s, %lu reads\n", secs, m.reads);
	CHECK(m.reads < 1000);
	vms_snapshot_free(s);
}

/* ---- hsperfdata: 2^31 - 1 entries announced, minimal entries ------------------------------ */

static void test_hsperfdata(void)
{
	static unsigned char b[32768];
	memset(b, 0, sizeof b);
	const unsigned char head[] = {0xCA, 0xFE, 0xC0, 0xC0, 1, 2, 0, 1};
	memcpy(b, head, sizeof head);
	int32_t used = (int32_t)sizeof b, off = 32, n = 0x7fffffff;
	memcpy(b + 8, &used, 4);
	memcpy(b + 24, &off, 4);
	memcpy(b + 28, &n, 4);
	for (size_t e = 32; e + 24 <= sizeof b; e += 24) {
		int32_t elen = 24, noff = 20, vlen = 0x7fffffff, doff = 20;
		memcpy(b + e, &elen, 4);
		memcpy(b + e + 4, &noff, 4);
		memcpy(b + e + 8, &vlen, 4);
		b[e + 12] = 'B';
		memcpy(b + e + 16, &doff, 4);
	}
	struct vms_hsperf p;
	CHECK(vms_hsperf_parse(b, sizeof b, &p) == 0);
	CHECK(p.entries <= (sizeof b - 32) / 24);
	/* an entry whose length points past the end, and one of negative length */
	int32_t bad = 0x7ffffff0;
	memcpy(b + 32, &bad, 4);
	CHECK(vms_hsperf_parse(b, sizeof b, &p) == 0 && p.entries == 0);
	bad = -24;
	memcpy(b + 32, &bad, 4);
	CHECK(vms_hsperf_parse(b, sizeof b, &p) == 0 && p.entries == 0);
}

/* ---- pymalloc: a 1 TiB candidate, geometry only ------------------------------------------- */

static void test_pymalloc(void)
{
	struct text t = {0};
	uint64_t at = 0x400000;
	image(&t, &at, "/usr/bin/python3.11");
	uint64_t base = 0x100000000000ull;
	region(&t, base, base + (1ull << 40), "rw-p", NULL, "rd wr mr mw me ac", 4);
	struct vms_snapshot *s = build(&t);
	double secs = attribute_timed(s, NULL);
	fprintf(stderr, "pymalloc 1 TiB candidate: %.3f s, %zu parts\n", secs, s->n_parts);
	const struct vms_allocation *al = alloc_at(s, base);
	CHECK(al && al->owner && !strcmp(al->owner, "pymalloc") && contains(al->details, "1048576 arenas"));
	CHECK(s->n_parts <= VMS_ATTR_MAX_STEPS / 16 + 1);
	vms_snapshot_free(s);
}

/* ---- Go: an arena index that names nothing, over 64 TiB of hint reservation ---------------- */

#define GO_L2 0x7f0000000000ull

static void go_fill(struct mem *m, uint64_t addr, unsigned char *buf, size_t len)
{
	/* the index entry of the hint arena points at a heapArena in the rw region at p[0]; every
	 * other entry is 0 (the entry below the first arena must be, for find_l2) */
	uint64_t e = GO_L2 + ((0xc000000000ull + 0x800000000000ull) >> 26) * 8;
	word_at(addr, buf, len, e, m->p[0]);
}

static void test_go(void)
{
	struct text t = {0};
	uint64_t at = 0x400000;
	image(&t, &at, "/usr/bin/goprog");
	uint64_t hint = 0xc000000000ull;
	region(&t, hint, hint + 64 * MIB, "rw-p", NULL, "rd wr mr mw me ac", 4096);
	/* a reservation of 1M arenas away from the hint, which the index must be asked about */
	region(&t, hint + 128 * MIB, hint + (64ull << 40), "---p", NULL, "mr mw me", 0);
	region(&t, 0x7e0000000000ull, 0x7e0000400000ull, "rw-p", NULL, "rd wr mr mw me ac", 4096);
	region(&t, GO_L2, GO_L2 + 32 * MIB, "rw-p", NULL, "rd wr mr mw me ac", 4096);
	struct mem m = {.fill = go_fill, .p = {0x7e0000001000ull}};
	struct vms_snapshot *s = build(&t);
	double secs = attribute_timed(s, &m);
	fprintf(stderr, "go 64 TiB reservation, index of one arena: %.3f s, %lu reads\n", secs, m.reads);
	const struct vms_allocation *al = alloc_at(s, hint);
	CHECK(al && al->owner && !strcmp(al->owner, "go") && contains(al->details, "1 arena "));
	CHECK(contains(note_of(s, "go"), "arena index read"));
	vms_snapshot_free(s);
}

/* ---- HotSpot: 65000 regions shaped like its reservations ---------------------------------- */

static void test_hotspot_big_map(void)
{
	struct text t = {0};
	uint64_t at = 0x400000;
	image(&t, &at, "/usr/lib/jvm/java-17-openjdk-amd64/lib/server/libjvm.so");
	uint64_t a = 0x100000000000ull;
	for (int i = 0; i < 65000; i++, a += 0x1000)
		region(&t, a, a + 0x1000, i % 2 ? "---p" : "rw-p", NULL,
		       i % 2 ? "mr mw me" : "rd wr mr mw me ac", i % 2 ? 0 : 4);
	struct vms_snapshot *s = build(&t);
	double secs = attribute_timed(s, NULL);
	fprintf(stderr, "hotspot 65000-region map: %.3f s\n", secs);
	CHECK(secs < 20); /* minutes before the step budget (n^2 span walks, n^3 metaspace search) */
	vms_snapshot_free(s);
}

int main(void)
{
	test_replay();
	test_glibc(0);
	test_glibc(1);
	test_v8();
	test_mimalloc();
	test_hsperfdata();
	test_pymalloc();
	test_go();
	test_hotspot_big_map();
	TEST_MAIN_END();
}
