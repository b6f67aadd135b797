/* The glibc and musl recognisers on saved smaps text (tests/fixtures/glibc64.smaps, musl64.smaps,
 * i386.smaps; laid out in make-fixtures.sh) and hand-made target bytes: heap_info headers, the
 * malloc_state.next ring, chunk headers, musl meta areas and struct meta. The same text also runs
 * without a reader (geometry only), and with bytes that must NOT be recognised. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../server/core/attribute.h"
#include "fixture.h"
#include "test.h"
#include "vmscope/parse.h"
#include "vmscope/snapshot.h"

static struct vms_snapshot *classified(const char *file, int bits, struct vms_thread *threads,
                                       size_t n_threads)
{
	return fixture_file_classified(file, bits, threads, n_threads, 100);
}

/* classified, without threads, then attributed with no memory to read */
static struct vms_snapshot *attributed(const char *file, int bits)
{
	struct vms_snapshot *s = classified(file, bits, NULL, 0);
	int changed = 0;
	CHECK(vms_attribute_with(s, NULL, NULL, &changed) == VMS_OK);
	return s;
}

#define A1 0x7f0014000030ull /* arena 1 (older): malloc_state after heap_info */
#define A2 0x7f0008000030ull /* arena 2 (newer) */
#define MAIN 0x7f0030001000ull

static const struct fixture_word glibc_words[] = {
    {0x555555600000, 0},
    {0x555555600008, 0x291}, /* [heap]: the main thread's tcache chunk */
    /* arena 2: one heap */
    {0x7f0008000000, A2},
    {0x7f0008000008, 0},
    {0x7f0008000010, 0x800000},
    {0x7f0008000018, 0x800000},
    {0x7f0008000020, 0x1000},
    {A2 + 0x870, A1},
    /* arena 1, heap 2 (full) and heap 3, merged */
    {0x7f000c000000, A1},
    {0x7f000c000008, 0x7f0014000000},
    {0x7f000c000010, 0x4000000},
    {0x7f000c000018, 0x4000000},
    {0x7f000c000020, 0x1000},
    {0x7f0010000000, A1},
    {0x7f0010000008, 0x7f000c000000},
    {0x7f0010000010, 0x1000000},
    {0x7f0010000018, 0x1000000},
    {0x7f0010000020, 0x1000},
    /* arena 1, heap 1 (full, no tail) */
    {0x7f0014000000, A1},
    {0x7f0014000008, 0},
    {0x7f0014000010, 0x4000000},
    {0x7f0014000018, 0x4000000},
    {0x7f0014000020, 0x1000},
    {A1 + 0x870, MAIN},
    /* main_arena in libc's .data: next = the newest arena, top inside [heap] */
    {MAIN + 0x870, A2},
    {MAIN + 0x60, 0x5555557f0000},
    /* two mmapped chunks merged: 1 MiB + 2 MiB requests */
    {0x7f0020000000, 0},
    {0x7f0020000008, 0x101002},
    {0x7f0020101000, 0},
    {0x7f0020101008, 0x202002},
};

static void test_glibc_reads(void)
{
	struct vms_thread threads[] = {{.tid = 100, .name = "arenas", .sp = 0x7ffc00020000},
	                               {.tid = 101, .name = "worker", .sp = 0x7f0020c00000}};
	struct vms_snapshot *s = classified("glibc64.smaps", 64, threads, 2);
	CHECK_STR(fixture_details_at(s, 0x555555600000),
	          "[heap] (brk heap)"); /* the classifier stays neutral */
	struct fixture_memory mem = {glibc_words, sizeof glibc_words / sizeof glibc_words[0], 8, 0};
	int changed = 0;
	CHECK(vms_attribute_with(s, fixture_memory_read, &mem, &changed) == VMS_OK && changed);

	CHECK_STR(fixture_details_at(s, 0x555555600000), "glibc main arena ([heap], brk)");
	CHECK_STR(fixture_alloc_at(s, 0x555555600000)->signal, "tcache chunk read");
	const struct vms_allocation *a = fixture_alloc_at(s, 0x7f0008000000);
	CHECK_STR(fixture_details_at(s, 0x7f0008000000), "glibc arena 2, heap 1");
	CHECK(a && a->type == VMS_TYPE_HEAP && a->n_regions == 2 && a->end == 0x7f000c000000 && !a->guess);
	CHECK_STR(a ? s->regions[a->first_region].role : NULL, "head");
	CHECK_STR(a ? s->regions[a->first_region + 1].role : NULL, "tail");
	CHECK_STR(a ? a->owner : NULL, "glibc");
	a = fixture_alloc_at(s, 0x7f000c000000);
	CHECK_STR(fixture_details_at(s, 0x7f000c000000),
	          "glibc arena 1, heaps 2, 3 (2 heaps merged into one VMA)");
	CHECK(a && a->n_regions == 2 && a->end == 0x7f0014000000);
	CHECK_EQ_U64(fixture_parts_of(s, fixture_alloc_at(s, 0x7f000c000000)), 2);
	CHECK_STR(fixture_details_at(s, 0x7f0014000000), "glibc arena 1, heap 1");
	CHECK_STR(fixture_details_at(s, 0x7f0020000000),
	          "glibc mmapped chunks: 2 (3 MiB, merged into one VMA)");
	CHECK_EQ_U64(fixture_parts_of(s, fixture_alloc_at(s, 0x7f0020000000)), 2);
	for (size_t p = 0; p < s->n_parts; p++)
		if (s->parts[p].start == 0x7f0020101000)
			CHECK(s->parts[p].end == 0x7f0020303000 &&
			      !strcmp(s->parts[p].details, "glibc mmapped chunk (2 MiB)"));
	/* the thread stack is untouched */
	a = fixture_alloc_at(s, 0x7f0020400000);
	CHECK(a && a->type == VMS_TYPE_STACK && a->tid == 101);
	CHECK(s->summary[VMS_TYPE_RESERVED].cols[VMS_COL_SIZE] == 0);
	/* the recogniser run is recorded */
	int seen = 0;
	for (size_t r = 0; r < s->n_recognisers; r++)
		if (!strcmp(s->recognisers[r].key, "glibc")) {
			seen = 1;
			CHECK(s->recognisers[r].read_memory == 1 && s->recognisers[r].claimed == 5);
		}
	CHECK(seen);
	vms_snapshot_free(s);
}

static void test_glibc_geometry(void)
{
	struct vms_snapshot *s = attributed("glibc64.smaps", 64);
	CHECK_STR(fixture_details_at(s, 0x555555600000),
	          "glibc main arena ([heap], brk) (guess: libc.so.6 mapped)");
	CHECK_STR(fixture_details_at(s, 0x7f0008000000), "glibc arena heap (guess: HEAP_MAX geometry)");
	CHECK_STR(fixture_details_at(s, 0x7f000c000000),
	          "glibc arena heaps (guess: HEAP_MAX geometry, 2 heaps merged)");
	CHECK_STR(fixture_details_at(s, 0x7f0014000000), "glibc arena heap (guess: HEAP_MAX geometry)");
	const struct vms_allocation *a = fixture_alloc_at(s, 0x7f000c000000);
	CHECK(a && a->guess && a->type == VMS_TYPE_HEAP && a->n_regions == 2);
	CHECK_STR(a ? a->signal : NULL, "geometry");
	/* no reads, no chunk headers: the chunks stay nameless Private Data */
	a = fixture_alloc_at(s, 0x7f0020000000);
	CHECK(a && a->type == VMS_TYPE_PRIVATE_DATA && !a->details);
	vms_snapshot_free(s);
}

/* Bytes that only look allocator-shaped by accident must not be claimed. */
static void test_glibc_rejects(void)
{
	static const struct fixture_word junk[] = {
	    {0x555555600000, 0x1234},         {0x555555600008, 0x5678},   /* not a tcache */
	    {0x7f0008000000, 0x7f0008000030}, {0x7f0008000010, 0x900000}, /* size > the rw part */
	    {0x7f0008000018, 0x900000},       {0x7f0014000000, 0x7f0014000031},
	    {0x7f0014000010, 0x4000000}, /* ar_ptr misplaced */
	    {0x7f0014000018, 0x4000000},      {0x7f0020000000, 0},
	    {0x7f0020000008, 0x101001}, /* not IS_MMAPPED */
	};
	struct fixture_memory mem = {junk, sizeof junk / sizeof junk[0], 8, 0};
	struct vms_snapshot *s = classified("glibc64.smaps", 64, NULL, 0);
	int changed = 0;
	CHECK(vms_attribute_with(s, fixture_memory_read, &mem, &changed) == VMS_OK);
	CHECK(strstr(fixture_details_at(s, 0x555555600000), "guess") !=
	      NULL); /* libc.so.6 mapped: still a guess */
	CHECK(fixture_alloc_at(s, 0x7f0008000000)->type == VMS_TYPE_PRIVATE_DATA);
	CHECK(fixture_alloc_at(s, 0x7f0014000000)->type == VMS_TYPE_PRIVATE_DATA);
	CHECK(fixture_alloc_at(s, 0x7f0020000000)->type == VMS_TYPE_PRIVATE_DATA);
	vms_snapshot_free(s);
}

/* i386: HEAP_MAX is 1 MiB; geometry alone names the heap (glibc's old classifier rule). */
static void test_glibc_i386(void)
{
	struct vms_snapshot *s = attributed("i386.smaps", 32);
	const struct vms_allocation *a = fixture_alloc_at(s, 0xf7a00000);
	CHECK(a && a->type == VMS_TYPE_HEAP && a->n_regions == 2 && a->guess);
	/* with a heap_info (i386: 4-byte fields, sizeof 0x18) it is read */
	static const struct fixture_word w[] = {{0xf7a00000, 0xf7a00018},
	                                        {0xf7a00004, 0},
	                                        {0xf7a00008, 0x21000},
	                                        {0xf7a0000c, 0x21000},
	                                        {0xf7a00010, 0x1000}};
	struct fixture_memory mem = {w, 5, 4, 0};
	vms_snapshot_free(s);
	s = classified("i386.smaps", 32, NULL, 0);
	int changed = 0;
	CHECK(vms_attribute_with(s, fixture_memory_read, &mem, &changed) == VMS_OK);
	/* no ring to number it (no main_arena in the fixture): named by its arena's address */
	CHECK_STR(fixture_details_at(s, 0xf7a00000), "glibc arena at 0xf7a00018, heap 1");
	vms_snapshot_free(s);
}

/* odd64.smaps: no libc.so.6, but the MAP_NORESERVE head + tail on a 64 MiB boundary */
static void test_glibc_odd64(void)
{
	struct vms_snapshot *s = attributed("odd64.smaps", 64);
	const struct vms_allocation *a = fixture_alloc_at(s, 0x7f0000000000);
	CHECK(a && a->type == VMS_TYPE_HEAP && a->n_regions == 2 && a->guess);
	CHECK_EQ_U64(a ? a->cols[VMS_COL_SIZE] : 0, 64u << 20);
	CHECK_EQ_U64(a ? a->cols[VMS_COL_COMMITTED] : 0, 132 * 1024);
	/* no libc mapped and nothing read: [heap] keeps the classifier's neutral name */
	CHECK_STR(fixture_details_at(s, 0x555555600000), "[heap] (brk heap)");
	vms_snapshot_free(s);
}

#define SECRET 0x2fecfdb7db8dee00ull
static const struct fixture_word musl_words[] = {
    {0x0cf5d000, SECRET},
    {0x0cf5d008, 0},
    {0x0cf5d010, 101}, /* meta area: check, next, nslots */
    /* the 5 MiB single allocation: group header -> meta -> mem back */
    {0x7f4692268000, 0x0cf5df18},
    {0x0cf5df18 + 16, 0x7f4692268000},
    {0x0cf5df18 + 32, 0x501ull << 12 | 63u << 6},
    /* one small group (sizeclass 10, one page) */
    {0x7f4692769000, 0x0cf5d5e0},
    {0x0cf5d5e0 + 16, 0x7f4692769000},
    {0x0cf5d5e0 + 32, 1ull << 12 | 10u << 6},
};

static void test_musl(void)
{
	struct vms_thread threads[] = {{.tid = 100, .name = "muslprog", .sp = 0x7fff1fb20000},
	                               {.tid = 200, .name = "muslprog", .sp = 0x7f4692267e98},
	                               {.tid = 201, .name = "muslprog", .sp = 0x7f4693022e98}};
	struct vms_snapshot *s = classified("musl64.smaps", 64, threads, 3);
	/* the classifier types the merged VMA a stack (thread 200's SP is in it) */
	CHECK(fixture_alloc_at(s, 0x7f4692245000)->type == VMS_TYPE_STACK);
	struct fixture_memory mem = {musl_words, sizeof musl_words / sizeof musl_words[0], 8, 0};
	int changed = 0;
	CHECK(vms_attribute_with(s, fixture_memory_read, &mem, &changed) == VMS_OK);
	const struct vms_allocation *a = fixture_alloc_at(s, 0x0cf5c000);
	CHECK_STR(fixture_details_at(s, 0x0cf5c000), "musl mallocng meta area ([heap], brk; 4 KiB guard)");
	CHECK(a && a->n_regions == 2 && a->type == VMS_TYPE_HEAP);
	CHECK_STR(a ? s->regions[a->first_region].role : NULL, "guard");
	a = fixture_alloc_at(s, 0x7f4692245000);
	CHECK(a && a->type == VMS_TYPE_HEAP && a->n_regions == 2);
	CHECK_STR(fixture_details_at(s, 0x7f4692245000),
	          "musl mallocng: 1 group (4 KiB), 1 single allocation (5 MiB) + the "
	          "stack of thread 200, 132 KiB not musl's (merged into one VMA)");
	CHECK_EQ_U64(fixture_parts_of(s, fixture_alloc_at(s, 0x7f4692245000)), 2);
	CHECK(s->threads[1].stack_allocation < 0 && s->threads[1].stack_note &&
	      strstr(s->threads[1].stack_note, "merged"));
	/* the standalone stack keeps its thread id */
	a = fixture_alloc_at(s, 0x7f4693000000);
	CHECK(a && a->type == VMS_TYPE_STACK && a->tid == 201);
	vms_snapshot_free(s);

	/* geometry only: the guard page at the start of [heap] says musl mallocng, as a guess; the
	 * stack VMA far bigger than musl's 128 KiB stacks is one merged with groups, a guess too */
	struct vms_thread threads2[] = {{.tid = 100, .name = "muslprog", .sp = 0x7fff1fb20000},
	                                {.tid = 200, .name = "muslprog", .sp = 0x7f4692267e98},
	                                {.tid = 201, .name = "muslprog", .sp = 0x7f4693022e98}};
	s = classified("musl64.smaps", 64, threads2, 3);
	CHECK(vms_attribute_with(s, NULL, NULL, &changed) == VMS_OK);
	a = fixture_alloc_at(s, 0x0cf5c000);
	CHECK(a && a->type == VMS_TYPE_HEAP && a->guess && a->n_regions == 2);
	CHECK_STR(fixture_details_at(s, 0x0cf5c000),
	          "musl mallocng meta area ([heap], brk; 4 KiB guard) (guess: guard page geometry)");
	a = fixture_alloc_at(s, 0x7f4692245000);
	CHECK(a && a->type == VMS_TYPE_HEAP && a->guess && strstr(a->details, "stack of thread 200"));
	CHECK(s->threads[1].stack_allocation < 0 && s->threads[1].stack_note);
	a = fixture_alloc_at(s, 0x7f4693000000);
	CHECK(a && a->type == VMS_TYPE_STACK && a->tid == 201);
	vms_snapshot_free(s);
}

int main(void)
{
	test_glibc_reads();
	test_glibc_geometry();
	test_glibc_rejects();
	test_glibc_i386();
	test_glibc_odd64();
	test_musl();
	TEST_MAIN_END();
}
