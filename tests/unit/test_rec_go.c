/* The "go" recogniser on saved text: smaps of a static and of a cgo Go 1.19.8 program
 * (tests/zoo/go, 150 MiB heap; tests/fixtures/go-static.smaps, go-cgo.smaps), the threads' stack
 * pointers from task/TID/syscall at the same moment, and the few words of their memory the
 * recogniser reads (the arena index entries, the first words of 256 KiB regions), saved from
 * /proc/PID/mem. No ELF is readable here, so the Go version is unknown: the arena index read
 * is what confirms Go; without memory reads the heap is still named, as a guess. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../server/core/attribute.h"
#include "fixture.h"
#include "test.h"
#include "vmscope/parse.h"
#include "vmscope/snapshot.h"

#define MIB (1ull << 20)

struct word {
	uint64_t addr, value;
};

struct memory {
	const uint64_t *pages; /* resident pages we saved */
	size_t n_pages;
	const struct word *words; /* their non-zero words */
	size_t n_words;
	unsigned reads;
};

static int reader(void *cookie, uint64_t addr, void *buf, size_t len)
{
	struct memory *m = cookie;
	int found = 0;
	for (size_t p = 0; p < m->n_pages; p++)
		found |= addr >= m->pages[p] && addr + len <= m->pages[p] + 4096;
	if (!found)
		return -1; /* not resident */
	m->reads++;
	memset(buf, 0, len);
	for (size_t w = 0; w < m->n_words; w++)
		if (m->words[w].addr >= addr && m->words[w].addr + 8 <= addr + len)
			memcpy((char *)buf + (m->words[w].addr - addr), &m->words[w].value, 8);
	return 0;
}

static struct vms_snapshot *scan(const char *file, struct vms_thread *threads, size_t n_threads,
                                 struct memory *mem, int expect_changed)
{
	size_t len;
	char *text = fixture_load(file, &len);
	for (size_t t = 0; t < n_threads; t++)
		threads[t].stack_allocation = -1, threads[t].stack_note = NULL;
	struct vms_snapshot *s = fixture_classified(text, len, 64, threads, n_threads, threads[0].tid);
	free(text);
	int changed = 0;
	CHECK(vms_attribute_with(s, mem ? reader : NULL, mem, &changed) == VMS_OK);
	if (expect_changed >= 0) /* -1: other recognisers may claim something */
		CHECK(changed == expect_changed);
	return s;
}

static int contains(const char *s, const char *sub)
{
	return s && strstr(s, sub);
}

static const struct vms_recogniser_run *go_run(const struct vms_snapshot *s)
{
	for (size_t k = 0; k < s->n_recognisers; k++)
		if (!strcmp(s->recognisers[k].key, "go"))
			return &s->recognisers[k];
	return NULL;
}

/* Committed and resident bytes of nameless Private Data. */
static void nameless(const struct vms_snapshot *s, uint64_t *committed, uint64_t *resident)
{
	*committed = *resident = 0;
	for (size_t i = 0; i < s->n_allocations; i++) {
		const struct vms_allocation *al = &s->allocations[i];
		if (al->type == VMS_TYPE_PRIVATE_DATA && !al->details) {
			*committed += al->cols[VMS_COL_COMMITTED];
			*resident += al->cols[VMS_COL_TOTAL_WS];
		}
	}
}

static size_t parts_of(const struct vms_snapshot *s, const struct vms_allocation *al,
                       const struct vms_part **first)
{
	size_t n = 0;
	*first = NULL;
	for (size_t p = 0; p < s->n_parts; p++)
		if (&s->allocations[s->parts[p].allocation] == al) {
			if (!n)
				*first = &s->parts[p];
			n++;
		}
	return n;
}

static void check_arena(const struct vms_snapshot *s, int guess)
{
	const struct vms_allocation *h = fixture_alloc_at(s, 0xc000000000ull);
	CHECK(h && h->type == VMS_TYPE_MANAGED_HEAP);
	if (!h)
		return;
	CHECK_EQ_U64(h->end - h->start, 192 * MIB);             /* one reservation: 3 arenas */
	CHECK_EQ_U64(h->cols[VMS_COL_COMMITTED], 0x9800000ull); /* its rw part: HeapSys + StackInuse */
	CHECK(h->n_regions == 2);
	CHECK_STR(s->regions[h->first_region].role, "committed");
	CHECK_STR(s->regions[h->first_region + 1].role, "reserved");
	CHECK_STR(h->owner, "go");
	CHECK(h->guess == guess);
	CHECK(contains(h->details, "3 arenas (64 MiB each)"));
	CHECK(guess ? contains(h->details, "(guess)") : !contains(h->details, "guess"));
	CHECK_STR(h->signal, guess ? "hint address" : "arena index read");
	const struct vms_part *p;
	CHECK(parts_of(s, h, &p) == 3);
	if (p) {
		CHECK(p[0].start == 0xc000000000ull && p[0].end == 0xc004000000ull);
		CHECK_STR(p[0].details, "Go heap arena 1 of 3");
		CHECK_STR(p[2].details, "Go heap arena 3 of 3");
	}
	for (size_t i = 0; i < s->n_allocations; i++) /* nothing in the heap is a Stack */
		CHECK(!(s->allocations[i].type == VMS_TYPE_STACK && s->allocations[i].start < h->end &&
		        s->allocations[i].end > h->start));
}

/* A thread as saved: its id and stack pointer. */
struct tid_sp {
	int tid;
	uint64_t sp;
};

/* threads[0..n) from a saved table, all named name. */
static void load_threads(struct vms_thread *threads, const struct tid_sp *saved, size_t n, const char *name)
{
	for (size_t t = 0; t < n; t++)
		threads[t] = (struct vms_thread){.tid = saved[t].tid, .name = name, .sp = saved[t].sp};
}

static void test_static(int peek)
{
	static const struct tid_sp saved[] = {
	    {24624, 0x7ffd153dc658}, {24632, 0xc000049e78}, {24633, 0xc00004be58},
	    {24634, 0xc000045e58},   {24638, 0xc00975def0}, {24639, 0xc000047e58},
	    {24640, 0xc009759da8},   {24641, 0xc0000e7b80}, {32059, 0xc00975bda8}};
	struct vms_thread threads[9];
	load_threads(threads, saved, 9, "static");
	static const uint64_t pages[] = {0x7f97ecc18000};
	static const struct word words[] = {{0x7f97ecc18000, 0x7f97eb9ef000},
	                                    {0x7f97ecc18008, 0x7f97eb7de000},
	                                    {0x7f97ecc18010, 0x7f97eb5cd000}};
	struct memory mem = {pages, 1, words, 3, 0};
	struct vms_snapshot *s = scan("go-static.smaps", threads, 9, peek ? &mem : NULL, 1);
	check_arena(s, !peek);

	/* threads: main on [stack]; the 8 Ms on g0/goroutine stacks in the heap, with a reason */
	CHECK(threads[0].stack_allocation >= 0);
	for (size_t t = 1; t < 9; t++) {
		CHECK(threads[t].stack_allocation == -1);
		CHECK(contains(threads[t].stack_note,
		               "runs on a goroutine/g0 stack inside the Go heap (arena at 0xc00"));
	}
	CHECK(contains(threads[4].stack_note, "(arena at 0xc008000000)"));

	const struct vms_recogniser_run *run = go_run(s);
	CHECK(run && run->note && run->read_memory == peek);
	if (peek) {
		/* the L2 map at the top of the merged metadata VMA, three heapArena structs below it */
		const struct vms_allocation *m = fixture_alloc_at(s, 0x7f97eb58d000ull);
		CHECK(m && m->type == VMS_TYPE_PRIVATE_DATA && m->guess == 0);
		CHECK(m && contains(m->details, "arena index (L2 map, 32 MiB) and heapArena metadata of 3 "
		                                "arenas (arena index read)"));
		const struct vms_part *p;
		CHECK(m && parts_of(s, m, &p) == 4);
		if (m && p) {
			CHECK(p[0].start == 0x7f97eb5cd000ull &&
			      p[0].end == 0x7f97eb7de000ull); /* 0x211000 each */
			CHECK(contains(p[0].details, "heapArena metadata of the arena at 0xc008000000"));
			CHECK(p[3].start == 0x7f97ebc00000ull && p[3].end == 0x7f97edc00000ull);
			CHECK(contains(p[3].details, "arena index"));
		}
		const struct vms_allocation *sum = fixture_alloc_at(s, 0x7f97edc00000ull);
		CHECK(sum && sum->type == VMS_TYPE_PRIVATE_DATA && sum->guess == 1 &&
		      contains(sum->details, "page-allocator summaries"));
		CHECK(sum && sum->end == 0x7f9812c00000ull);
		/* a static Go program: all anonymous memory is the runtime's, nothing nameless */
		uint64_t c, r;
		nameless(s, &c, &r);
		CHECK_EQ_U64(c, 0);
		CHECK_EQ_U64(r, 0);
		CHECK(mem.reads > 0 && mem.reads < 64);
	} else {
		CHECK(contains(run ? run->note : NULL, "guess"));
	}
	vms_snapshot_free(s);
}

static void test_cgo(void)
{
	static const struct tid_sp saved[] = {
	    {24627, 0x7ffe1744ac48}, {24628, 0x7fd7d04edd00}, {24629, 0x7fd7cfcecce0},
	    {24630, 0x7fd7cf4ebce0}, {24631, 0x7fd7cecaad78}, {24635, 0xc0000f7b80},
	    {24636, 0x7fd7cd783ce0}, {24637, 0x7fd7ccf41c30}, {32061, 0x7fd7afffec30}};
	struct vms_thread threads[9];
	load_threads(threads, saved, 9, "cgo");
	static const uint64_t pages[] = {0x7fd7cc702000, 0x7fd7cecac000, 0x7fd7d1818000, 0x7fd7f7815000};
	static const struct word words[] = {
	    {0x7fd7cc702000, 0x7fd7ce46b000}, {0x7fd7cecac000, 0x7fd7f7975000},
	    {0x7fd7d1818000, 0x7fd7d05ef000}, {0x7fd7d1818008, 0x7fd7ce25a000},
	    {0x7fd7d1818010, 0x7fd7ce049000}, {0x7fd7f7815000, 0x960},
	};
	struct memory mem = {pages, 4, words, 6, 0};
	struct vms_snapshot *s = scan("go-cgo.smaps", threads, 9, &mem, 1);
	check_arena(s, 0);
	/* Ms are pthreads on glibc stacks (the classifier's rows); one runs Go code on a goroutine stack */
	for (size_t t = 0; t < 9; t++) {
		if (t == 5) {
			CHECK(threads[t].stack_allocation == -1);
			CHECK(contains(threads[t].stack_note, "inside the Go heap (arena at 0xc000000000)"));
		} else {
			CHECK(threads[t].stack_allocation >= 0);
		}
	}
	/* glibc arena heaps stay glibc's */
	const struct vms_allocation *gh = fixture_alloc_at(s, 0x7fd7b0000000ull);
	CHECK(gh && gh->type == VMS_TYPE_HEAP && (gh->owner == NULL || strcmp(gh->owner, "go") != 0));
	/* the arena index VMA (L2 + the first heapArena) and the VMA with the other two */
	const struct vms_allocation *m = fixture_alloc_at(s, 0x7fd7d04ef000ull);
	CHECK(m && contains(m->details, "arena index (L2 map, 32 MiB) and heapArena metadata of 1 arena"));
	m = fixture_alloc_at(s, 0x7fd7cdfc7000ull);
	CHECK(m && contains(m->details, "heapArena metadata (heap bitmap, span map) of 2 arenas"));
	/* glibc's mmapped chunks (0x41000 long) are not Go's */
	m = fixture_alloc_at(s, 0x7fd7ccf43000ull);
	CHECK(m && m->type == VMS_TYPE_PRIVATE_DATA && m->owner == NULL);
	m = fixture_alloc_at(s, 0x7fd7cecac000ull);
	CHECK(m && contains(m->details, "persistentalloc chunk"));
	uint64_t c, r;
	nameless(s, &c, &r);
	CHECK(c * 20 <= s->total[VMS_COL_COMMITTED]);
	CHECK(r * 20 <= s->total[VMS_COL_TOTAL_WS]);
	vms_snapshot_free(s);
}

/* go-cgo-nohints.smaps's threads (tid, SP) and the words of its arena index page. */
static const struct tid_sp nohints_threads[] = {
    {31718, 0x7ffd2f542638}, {31719, 0x7fd153ffed00}, {31720, 0x7fd1537fdce0},
    {31721, 0x7fd152ffcce0}, {31722, 0x7fd1527fbd78}, {31732, 0x7fd1540f7b80},
    {31733, 0x7fd151396ce0}, {31734, 0x7fd150b54c30}, {31735, 0x7fd12bffecf8}};
static const uint64_t nohints_pages[] = {0x7fd15a3fa000};
static const struct word nohints_words[] = {
    {0x7fd15a3fa268, 0x7fd151deb000}, {0x7fd15a3fa270, 0x7fd151bda000}, {0x7fd15a3fa2a8, 0x7fd1581ef000}};

static struct vms_snapshot *scan_nohints(const char *file, struct vms_thread *threads, int peek)
{
	struct memory mem = {nohints_pages, 1, nohints_words, 3, 0};
	for (size_t t = 0; t < 9; t++)
		threads[t] = (struct vms_thread){
		    .tid = nohints_threads[t].tid, .name = "cgo", .sp = nohints_threads[t].sp};
	return scan(file, threads, 9, peek ? &mem : NULL, peek ? 1 : -1);
}

/* Every arena hint occupied (ZOO_GO_BLOCK_HINTS=1): 128 PROT_NONE blocks of 64 MiB at the hints,
 * and the runtime's arenas at 64 MiB-aligned addresses elsewhere, found through the index. */
static void test_cgo_nohints(int peek)
{
	struct vms_thread threads[9];
	struct vms_snapshot *s = scan_nohints("go-cgo-nohints.smaps", threads, peek);
	for (uint64_t i = 0; i <= 0x7f; i++) { /* the blocks at the hints are nobody's heap */
		const struct vms_allocation *b = fixture_alloc_at(s, i << 40 | 0xc000000000ull);
		if (b) /* (not Go's; another recogniser may still guess at them) */
			CHECK(b->type != VMS_TYPE_MANAGED_HEAP &&
			      (b->owner == NULL || strcmp(b->owner, "go") != 0));
	}
	const struct vms_allocation *h1 = fixture_alloc_at(s, 0x7fd134000000ull),
	                            *h2 = fixture_alloc_at(s, 0x7fd154000000ull);
	if (peek) {
		CHECK(h1 && h1->type == VMS_TYPE_MANAGED_HEAP && h1->end - h1->start == 128 * MIB &&
		      h1->cols[VMS_COL_COMMITTED] == 88 * MIB);
		CHECK(h2 && h2->type == VMS_TYPE_MANAGED_HEAP && h2->end - h2->start == 64 * MIB &&
		      h2->cols[VMS_COL_COMMITTED] == 64 * MIB);
		CHECK(h1 && contains(h1->details, "away from the hint addresses") &&
		      !strcmp(h1->signal, "arena index read") && !h1->guess);
		CHECK(threads[5].stack_allocation == -1 &&
		      contains(threads[5].stack_note, "(arena at 0x7fd154000000)"));
		const struct vms_allocation *m = fixture_alloc_at(s, 0x7fd15801d000ull);
		CHECK(m && contains(m->details, "arena index (L2 map, 32 MiB)"));
	} else { /* no ELF, no reads: arenas away from the hints stay unnamed */
		CHECK(h1 && h1->type != VMS_TYPE_MANAGED_HEAP);
		CHECK(go_run(s) && go_run(s)->claimed == 0);
	}
	vms_snapshot_free(s);
}

/* The same process as the kernel may lay it out (go-cgo-nohints-*.smaps, edited from it): each
 * arena merged with the mapping below it, so no region starts on a 64 MiB boundary; or the
 * arena index merged into the VMA of the arena below it. Both are found through the index. */
static void test_cgo_nohints_merged(void)
{
	struct vms_thread threads[9];
	struct vms_snapshot *s = scan_nohints("go-cgo-nohints-merged.smaps", threads, 1);
	const struct vms_allocation *h1 = fixture_alloc_at(s, 0x7fd133000000ull),
	                            *h2 = fixture_alloc_at(s, 0x7fd153800000ull);
	CHECK(h1 && h1->type == VMS_TYPE_MANAGED_HEAP && h1->start == 0x7fd133000000ull &&
	      h1->end == 0x7fd13c000000ull && h1->cols[VMS_COL_COMMITTED] == 104 * MIB);
	CHECK(h1 && contains(h1->details, "2 arenas") && contains(h1->details, "merged 16 MiB") &&
	      !strcmp(h1->signal, "arena index read"));
	CHECK(h2 && h2->type == VMS_TYPE_MANAGED_HEAP && h2->start == 0x7fd153800000ull &&
	      h2->end == 0x7fd158000000ull && contains(h2->details, "1 arena "));
	vms_snapshot_free(s);

	s = scan_nohints("go-cgo-nohints-index-merged.smaps", threads, 1);
	h1 = fixture_alloc_at(s, 0x7fd134000000ull);
	h2 = fixture_alloc_at(s, 0x7fd154000000ull);
	CHECK(h1 && h1->type == VMS_TYPE_MANAGED_HEAP && h1->end - h1->start == 128 * MIB);
	CHECK(h2 && h2->type == VMS_TYPE_MANAGED_HEAP && h2->start == 0x7fd154000000ull &&
	      h2->end == 0x7fd15a400000ull && contains(h2->details, "(the arena index)"));
	vms_snapshot_free(s);
}

int main(void)
{
	test_static(1);
	test_static(0);
	test_cgo();
	test_cgo_nohints(1);
	test_cgo_nohints(0);
	test_cgo_nohints_merged();
	TEST_MAIN_END();
}
