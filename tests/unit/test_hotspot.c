/* The hotspot recogniser (server/core/recognisers/hotspot.c) and the hsperfdata parser on saved
 * text: smaps and hsperfdata files of three live JDK 17 JVMs (G1, Parallel, ZGC; -Xmx512m,
 * tests/zoo/java/Zoo.java), saved with `cat /proc/PID/smaps` and `cp /tmp/hsperfdata_USER/PID`
 * while the JVM was stopped. The hsperfdata bytes reach the recogniser through the injected
 * memory reader, as a live scan would read them through /proc/PID/root. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../server/core/attribute.h"
#include "../server/core/recognisers/hsperfdata.h"
#include "fixture.h"
#include "test.h"
#include "vmscope/parse.h"
#include "vmscope/snapshot.h"

#define MIB (1ull << 20)
#define GIB (1ull << 30)

/* The saved hsperfdata file, served at the address where the JVM mapped it. */
struct perf_mem {
	uint64_t start;
	const char *bytes;
	size_t len;
};

static int read_perf(void *cookie, uint64_t addr, void *buf, size_t len)
{
	const struct perf_mem *m = cookie;
	if (addr < m->start || addr + len > m->start + m->len)
		return -1;
	memcpy(buf, m->bytes + (addr - m->start), len);
	return 0;
}

static struct vms_snapshot *parse_classify(const char *file, struct vms_thread *threads, size_t n_threads,
                                           pid_t main_tid)
{
	size_t len;
	char *text = fixture_load(file, &len);
	struct vms_snapshot *s = fixture_classified(text, len, 64, threads, n_threads, main_tid);
	free(text);
	return s;
}

/* Attribute s, serving hsperfdata from fixture `perf` (NULL: geometry only, no reader). */
static void attribute(struct vms_snapshot *s, const char *perf)
{
	struct perf_mem m = {0};
	char *bytes = NULL;
	if (perf) {
		bytes = fixture_load(perf, &m.len);
		m.bytes = bytes;
		for (size_t i = 0; i < s->n_regions; i++)
			if (s->regions[i].path && strstr(s->regions[i].path, "/hsperfdata_"))
				m.start = s->regions[i].start;
		CHECK(m.start != 0);
	}
	int changed = 0;
	CHECK(vms_attribute_with(s, perf ? read_perf : NULL, &m, &changed) == VMS_OK);
	CHECK(changed == 1);
	free(bytes);
}

static int has(const char *text, const char *part)
{
	return text && strstr(text, part);
}

static void test_hsperf_parse(void)
{
	size_t len;
	char *b = fixture_load("hotspot-g1.hsperfdata", &len);
	struct vms_hsperf p;
	CHECK(vms_hsperf_parse(b, len, &p) == 0);
	CHECK_STR(p.policy, "GarbageFirst");
	CHECK_EQ_U64(p.gen_max[1], 512 * MIB + 8); /* G1 pads maxCapacity by 8 */
	CHECK_EQ_U64(p.ccs_max, GIB);
	CHECK_EQ_U64(p.meta_max, GIB + 64 * MIB);
	CHECK(!strncmp(p.version, "17.", 3));
	CHECK(p.entries > 100);
	CHECK(vms_hsperf_parse(b, 31, &p) == -1);
	b[0] = 0;
	CHECK(vms_hsperf_parse(b, len, &p) == -1);
	free(b);
	b = fixture_load("hotspot-zgc.hsperfdata", &len);
	CHECK(vms_hsperf_parse(b, len, &p) == 0);
	CHECK_STR(p.policy, "");
	CHECK(!strncmp(p.collector, "Z ", 2));
	CHECK_EQ_U64(p.gen_max[1], 512 * MIB);
	/* a truncated file ends the walk without failing */
	CHECK(vms_hsperf_parse(b, 2000, &p) == 0);
	CHECK(p.entries < 133);
	free(b);
}

static struct vms_thread g1_threads[] = {
    {.tid = 2612, .name = "java", .sp = 0x7ffcb5dfd860, .stack_allocation = -1},
    {.tid = 2617, .name = "java", .sp = 0x7f864871c250, .stack_allocation = -1},
    {.tid = 2629, .name = "GC Thread#0", .sp = 0x7f862c1fed30, .stack_allocation = -1},
    {.tid = 2630, .name = "G1 Main Marker", .sp = 0x7f862c0fdbc0, .stack_allocation = -1},
    {.tid = 2631, .name = "G1 Conc#0", .sp = 0x7f862bffcd30, .stack_allocation = -1},
    {.tid = 2632, .name = "G1 Refine#0", .sp = 0x7f8629bfcc80, .stack_allocation = -1},
    {.tid = 2639, .name = "G1 Service", .sp = 0x7f8629afbc50, .stack_allocation = -1},
    {.tid = 2653, .name = "VM Thread", .sp = 0x7f86298a8bf0, .stack_allocation = -1},
    {.tid = 2661, .name = "Reference Handl", .sp = 0x7f86297a7730, .stack_allocation = -1},
    {.tid = 2669, .name = "Finalizer", .sp = 0x7f86296a75a0, .stack_allocation = -1},
    {.tid = 2675, .name = "Signal Dispatch", .sp = 0x7f86295a7a40, .stack_allocation = -1},
    {.tid = 2676, .name = "Service Thread", .sp = 0x7f86294a7b20, .stack_allocation = -1},
    {.tid = 2677, .name = "Monitor Deflati", .sp = 0x7f86293a7b90, .stack_allocation = -1},
    {.tid = 2678, .name = "C2 CompilerThre", .sp = 0x7f86292a7990, .stack_allocation = -1},
    {.tid = 2683, .name = "C1 CompilerThre", .sp = 0x7f86291a7990, .stack_allocation = -1},
    {.tid = 2684, .name = "Sweeper thread", .sp = 0x7f86290a7ba0, .stack_allocation = -1},
    {.tid = 2690, .name = "Notification Th", .sp = 0x7f8628fa7b80, .stack_allocation = -1},
    {.tid = 2691, .name = "VM Periodic Tas", .sp = 0x7f8628ea7bf0, .stack_allocation = -1},
    {.tid = 2692, .name = "Common-Cleaner", .sp = 0x7f8628da6500, .stack_allocation = -1},
    {.tid = 2720, .name = "GC Thread#1", .sp = 0x7f8628ca6d30, .stack_allocation = -1},
    {.tid = 2741, .name = "zoo-worker-0", .sp = 0x7f8628ba5480, .stack_allocation = -1},
    {.tid = 2743, .name = "zoo-worker-1", .sp = 0x7f8628aa5480, .stack_allocation = -1},
    {.tid = 2744, .name = "zoo-worker-2", .sp = 0x7f86289a5480, .stack_allocation = -1},
};

static void test_g1(void)
{
	size_t nt = sizeof g1_threads / sizeof g1_threads[0];
	/* two threads were running when scanned: no stack pointer */
	g1_threads[14].sp = 0; /* C1 CompilerThre */
	g1_threads[21].sp = 0; /* zoo-worker-1 */
	struct vms_snapshot *s = parse_classify("hotspot-g1.smaps", g1_threads, nt, 2612);
	attribute(s, "hotspot-g1.hsperfdata");

	/* the Java heap: one Managed Heap allocation, committed prefix + PROT_NONE + CDS objects */
	const struct vms_allocation *h = fixture_alloc_at(s, 0xe0000000);
	CHECK(h && h->type == VMS_TYPE_MANAGED_HEAP && h->end == 0x100000000ull);
	if (h) {
		CHECK_EQ_U64(h->cols[VMS_COL_SIZE], 512 * MIB);
		CHECK_EQ_U64(h->cols[VMS_COL_COMMITTED], 512 * MIB - 135168 * 1024ull);
		CHECK(has(h->details, "Java heap (G1), 512 MiB reserved") && has(h->details, "(hsperfdata"));
		CHECK_STR(h->owner, "hotspot");
		CHECK_STR(h->signal, "hsperfdata");
		CHECK(h->guess == 0);
		CHECK_STR(s->regions[h->first_region].role, "committed");
		CHECK_STR(s->regions[h->first_region + 1].role, "reserved");
		CHECK_STR(s->regions[h->first_region + 2].role, "CDS archived objects");
		CHECK(s->regions[h->first_region + 2].type == VMS_TYPE_MANAGED_HEAP);
	}
	const struct vms_allocation *a = fixture_alloc_at(s, 0x7f85d0000000);
	CHECK(a && a->type == VMS_TYPE_PRIVATE_DATA && a->cols[VMS_COL_SIZE] == GIB &&
	      has(a->details, "compressed class space"));
	a = fixture_alloc_at(s, 0x7f85cf000000);
	CHECK(a && a->type == VMS_TYPE_MAPPED_FILE && a->cols[VMS_COL_SIZE] == 16 * MIB &&
	      has(a->details, "CDS archive"));
	a = fixture_alloc_at(s, 0x7f85cb000000);
	CHECK(a && a->cols[VMS_COL_SIZE] == 64 * MIB && has(a->details, "metaspace node"));
	a = fixture_alloc_at(s, 0x7f862d400000);
	CHECK(a && a->cols[VMS_COL_SIZE] == 240 * MIB && has(a->details, "code cache") && a->guess == 0);
	if (a) {
		size_t np = 0;
		for (size_t p = 0; p < s->n_parts; p++)
			if (&s->allocations[s->parts[p].allocation] == a) {
				np++;
				CHECK(has(s->parts[p].details, "code heap '"));
			}
		CHECK_EQ_U64(np, 3);
	}
	/* G1 side tables: guesses, and said so */
	/* G1 side tables: guesses, and said so. The two bitmaps (2 MiB aligned, heap/64 each) lie
	 * back to back at 0x7f862c200000; their last VMA also holds the start of the block offset
	 * table (the top 2 MiB of the heap, CDS objects, is committed, so the tables' VMAs are cut
	 * 32 KiB and 4 KiB off the tables' own boundaries). */
	a = fixture_alloc_at(s, 0x7f862c200000);
	CHECK(a && has(a->details, "G1 mark bitmaps") && a->guess == 1 && has(a->details, "(guess)") &&
	      has(a->details, "756 KiB of other memory"));
	a = fixture_alloc_at(s, 0x7f8629bfe000);
	CHECK(a && has(a->details, "G1 concurrent mark stack"));
	const struct vms_recogniser_run *r = fixture_run_of(s, "hotspot");
	CHECK(r && r->claimed >= 8 && has(r->note, "G1") && has(r->note, "heap 512 MiB") &&
	      r->read_memory == 1);

	/* threads: a stack row with the thread id, or a reason */
	for (size_t t = 0; t < nt; t++) {
		const struct vms_thread *th = &s->threads[t];
		CHECK(th->stack_allocation >= 0 || (th->stack_note && th->stack_note[0]));
		if (th->stack_allocation >= 0)
			CHECK(s->allocations[th->stack_allocation].tid == th->tid);
	}
	CHECK(g1_threads[21].stack_allocation < 0 && has(g1_threads[21].stack_note, "stack pointer unknown"));
	/* zoo-worker-1's stack, without its thread id, says what it probably is */
	a = fixture_alloc_at(s, 0x7f86289a7000);
	CHECK(a && a->type == VMS_TYPE_STACK && a->guess == 1 &&
	      has(a->details, "probably one of the 2 threads"));
	vms_snapshot_free(s);
	for (size_t t = 0; t < nt; t++)
		g1_threads[t].stack_allocation = -1, g1_threads[t].stack_note = NULL;

	/* geometry alone (no hsperfdata bytes): the heap ends at 4 GiB, named as a guess */
	s = parse_classify("hotspot-g1.smaps", g1_threads, nt, 2612);
	attribute(s, NULL);
	h = fixture_alloc_at(s, 0xe0000000);
	CHECK(h && h->type == VMS_TYPE_MANAGED_HEAP && h->guess == 1 && has(h->details, "(guess)"));
	CHECK(h && h->signal && !strcmp(h->signal, "geometry"));
	vms_snapshot_free(s);
}

static void test_parallel(void)
{
	struct vms_snapshot *s = parse_classify("hotspot-parallel.smaps", NULL, 0, 2615);
	attribute(s, "hotspot-parallel.hsperfdata");
	const struct vms_allocation *h = fixture_alloc_at(s, 0xe0000000);
	CHECK(h && h->type == VMS_TYPE_MANAGED_HEAP && h->cols[VMS_COL_SIZE] == 512 * MIB &&
	      has(h->details, "(Parallel)"));
	size_t np = 0;
	for (size_t p = 0; h && p < s->n_parts; p++) {
		if (&s->allocations[s->parts[p].allocation] != h)
			continue;
		/* old generation at the low end: 358088704 bytes, young above it */
		if (np == 0)
			CHECK(s->parts[p].start == 0xe0000000 &&
			      s->parts[p].end == 0xe0000000 + 358088704ull &&
			      has(s->parts[p].details, "old generation"));
		else
			CHECK(has(s->parts[p].details, "young generation") &&
			      s->parts[p].end == 0x100000000ull);
		np++;
	}
	CHECK_EQ_U64(np, 2);
	vms_snapshot_free(s);
}

static void test_zgc(void)
{
	struct vms_snapshot *s = parse_classify("hotspot-zgc.smaps", NULL, 0, 2619);
	/* the kernel counts the memfd's pages as shared: this process maps them three times */
	uint64_t shared = 0;
	uint64_t *before = calloc(s->n_regions, sizeof(uint64_t) * VMS_SF_COUNT);
	for (size_t i = 0; i < s->n_regions; i++) {
		memcpy(before + i * VMS_SF_COUNT, s->regions[i].smaps, sizeof s->regions[i].smaps);
		if (s->regions[i].path && !strcmp(s->regions[i].path, "/memfd:java_heap"))
			shared += s->regions[i].cols[VMS_COL_SHARED_WS];
	}
	CHECK(shared > 0);
	attribute(s, "hotspot-zgc.hsperfdata");
	static const uint64_t views[] = {0x40000000000ull, 0x80000000000ull, 0x100000000000ull};
	static const char *const names[] = {"view 1 of 3: marked0", "view 2 of 3: marked1",
	                                    "view 3 of 3: remapped"};
	for (int v = 0; v < 3; v++) {
		const struct vms_allocation *h = fixture_alloc_at(s, views[v]);
		CHECK(h && h->type == VMS_TYPE_MANAGED_HEAP && h->cols[VMS_COL_SIZE] == 8 * GIB);
		CHECK(h && has(h->details, names[v]) && has(h->details, "Java heap (ZGC)"));
		CHECK(h && h->cols[VMS_COL_SHARED_WS] == 0);
		CHECK(h && h->cols[VMS_COL_TOTAL_WS] > 0);
		if (h)
			CHECK_STR(s->regions[h->first_region].role, VMS_ROLE_VIEW);
	}
	CHECK_EQ_U64(s->summary[VMS_TYPE_MANAGED_HEAP].cols[VMS_COL_SHARED_WS], 0);
	CHECK_EQ_U64(s->summary[VMS_TYPE_SHAREABLE].cols[VMS_COL_SIZE], 0);
	/* per region, smaps numbers never change; Total WS stays Rss */
	int same = 1;
	for (size_t i = 0; i < s->n_regions; i++) {
		same &= !memcmp(before + i * VMS_SF_COUNT, s->regions[i].smaps, sizeof s->regions[i].smaps);
		same &= s->regions[i].cols[VMS_COL_TOTAL_WS] == s->regions[i].smaps[VMS_SF_RSS];
	}
	CHECK(same);
	free(before);
	const struct vms_allocation *a = fixture_alloc_at(s, 0x7f0c6b000000);
	CHECK(a && has(a->details, "ZGC mark stack space") && a->cols[VMS_COL_SIZE] == 8 * GIB);
	vms_snapshot_free(s);
}

int main(void)
{
	test_hsperf_parse();
	test_g1();
	test_parallel();
	test_zgc();
	TEST_MAIN_END();
}
