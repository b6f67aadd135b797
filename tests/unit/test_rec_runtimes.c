/* The pymalloc, partition_alloc and dotnet recognisers on saved text (tests/fixtures/
 * python311.smaps, chromium.smaps, dotnet8.smaps; make-fixtures-runtimes.sh documents them),
 * with an injected reader of hand-made pool and chunk headers for pymalloc. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../server/core/attribute.h"
#include "fixture.h"
#include "test.h"
#include "vmscope/parse.h"
#include "vmscope/snapshot.h"

#define MIB (1ull << 20)
#define GIB (1ull << 30)

static struct vms_snapshot *parse_classify(const char *file)
{
	return fixture_file_classified(file, 64, NULL, 0, 100);
}

/* parse_classify, then attributed with no memory to read */
static struct vms_snapshot *attributed(const char *file)
{
	struct vms_snapshot *s = parse_classify(file);
	int changed = 0;
	CHECK(vms_attribute_with(s, NULL, NULL, &changed) == VMS_OK);
	return s;
}

static const char *details_at(const struct vms_snapshot *s, uint64_t start)
{
	const struct vms_allocation *a = fixture_alloc_at(s, start);
	return a && a->details ? a->details : "";
}

/* Parts of allocation a, as "start-end details;" lines, for compact checks. */
static size_t parts_of(const struct vms_snapshot *s, const struct vms_allocation *a,
                       const struct vms_part **first)
{
	size_t n = 0;
	*first = NULL;
	for (size_t p = 0; p < s->n_parts; p++)
		if (&s->allocations[s->parts[p].allocation] == a) {
			if (!*first)
				*first = &s->parts[p];
			n++;
		}
	return n;
}

/* CHECK what a part must be: its start unless 0, its end unless 0, its details unless NULL. */
static void check_part(const struct vms_part *p, uint64_t start, uint64_t end, const char *details)
{
	if (start)
		CHECK_EQ_U64(p->start, start);
	if (end)
		CHECK_EQ_U64(p->end, end);
	if (details)
		CHECK_STR(p->details, details);
}

/* Every allocation's columns are the sum of its regions', and the regions tile the map. */
static void check_numbers(const struct vms_snapshot *s)
{
	size_t next = 0;
	for (size_t i = 0; i < s->n_allocations; i++) {
		const struct vms_allocation *a = &s->allocations[i];
		CHECK(a->first_region == next);
		next += a->n_regions;
		uint64_t size = 0;
		for (uint32_t k = 0; k < a->n_regions; k++)
			size += s->regions[a->first_region + k].cols[VMS_COL_SIZE];
		CHECK_EQ_U64(a->cols[VMS_COL_SIZE], size);
	}
	CHECK_EQ_U64(next, s->n_regions);
}

/* ---- pymalloc -------------------------------------------------------------------------------- */

struct arena {
	uint64_t start;
	unsigned index;
};
static const struct arena arenas[] = {
    {0x7f0000101000, 2}, {0x7f0000201000, 1},       {0x7f0000301000, 0}, /* A */
    {0x7f0000500000, 3},                                                 /* B */
    {0x7f000200d000, 5}, {0x7f000220d000 - MIB, 4},                      /* the _json ".bss" */
};
static const struct {
	uint64_t start, size;
} chunks[] = {{0x7f0000600000, 0x21000}, {0x7f0000700000, 0x200000}};

static void put32(unsigned char *b, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		b[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *b, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (8 * i));
}

/* The fixture's memory: pool headers in the arenas above (a different size class per pool),
 * glibc chunk headers, zeros elsewhere; region E (0x7f0000c00000) cannot be read. */
static int py_reader(void *cookie, uint64_t addr, void *buf, size_t len)
{
	(void)cookie;
	if (addr >= 0x7f0000c00000 && addr < 0x7f0000e00000)
		return -1;
	unsigned char *b = buf;
	memset(b, 0, len);
	for (size_t k = 0; k < sizeof arenas / sizeof arenas[0]; k++) {
		uint64_t first = (arenas[k].start + 0x3fff) & ~0x3fffull;
		if (len == 48 && addr >= first && addr + 0x4000 <= arenas[k].start + MIB &&
		    (addr - first) % 0x4000 == 0) {
			uint32_t szidx = (uint32_t)((addr - first) / 0x4000 % 32);
			put32(b + 0x00, 3);
			put64(b + 0x10, 0x959d40);
			put64(b + 0x18, 0x959d40);
			put32(b + 0x20, arenas[k].index);
			put32(b + 0x24, szidx);
			put32(b + 0x28, 0x3ff0 - szidx * 16);
			put32(b + 0x2c, 0x4000 - (szidx + 1) * 16);
			return 0;
		}
	}
	for (size_t k = 0; k < sizeof chunks / sizeof chunks[0]; k++)
		if (len == 16 && addr == chunks[k].start)
			put64(b + 8, chunks[k].size | 2);
	return 0;
}

static void test_pymalloc(void)
{
	struct vms_snapshot *s = parse_classify("python311.smaps");
	/* before: the classifier calls the arenas after _json its .bss */
	const struct vms_allocation *json = fixture_alloc_at(s, 0x7f0002000000);
	CHECK(json && json->type == VMS_TYPE_IMAGE && json->end == 0x7f000220d000);
	int changed = 0;
	CHECK(vms_attribute_with(s, py_reader, NULL, &changed) == VMS_OK);
	CHECK(changed == 1);
	check_numbers(s);
	const struct vms_allocation *a = fixture_alloc_at(s, 0x7f0000101000);
	CHECK(a && a->type == VMS_TYPE_HEAP && !a->guess);
	CHECK_STR(details_at(s, 0x7f0000101000), "pymalloc arenas (3 arenas)");
	CHECK(a && a->owner && !strcmp(a->owner, "pymalloc"));
	CHECK(a && a->signal && !strcmp(a->signal, "pool header read"));
	const struct vms_part *p;
	CHECK(a && parts_of(s, a, &p) == 3);
	if (p) {
		check_part(&p[0], 0x7f0000101000, 0x7f0000201000, "pymalloc arena #2");
		check_part(&p[2], 0, 0, "pymalloc arena #0");
	}
	/* B: an arena and a glibc chunk merged */
	a = fixture_alloc_at(s, 0x7f0000500000);
	CHECK(a && a->type == VMS_TYPE_HEAP);
	CHECK_STR(details_at(s, 0x7f0000500000),
	          "pymalloc arenas (1 arena) and 1 glibc mmapped chunk (132 KiB)");
	CHECK(a && parts_of(s, a, &p) == 2);
	if (p)
		CHECK_STR(p[1].details, "glibc mmapped chunk (132 KiB)");
	/* C: only a glibc chunk, D: zeros: not pymalloc's, left to others */
	CHECK(fixture_alloc_at(s, 0x7f0000700000) &&
	      fixture_alloc_at(s, 0x7f0000700000)->type == VMS_TYPE_PRIVATE_DATA);
	CHECK(fixture_alloc_at(s, 0x7f0000700000) && fixture_alloc_at(s, 0x7f0000700000)->owner == NULL);
	CHECK(fixture_alloc_at(s, 0x7f0000a00000) &&
	      fixture_alloc_at(s, 0x7f0000a00000)->type == VMS_TYPE_PRIVATE_DATA);
	/* E: unreadable, an exact multiple of 1 MiB: a guess */
	a = fixture_alloc_at(s, 0x7f0000c00000);
	CHECK(a && a->type == VMS_TYPE_HEAP && a->guess == 1);
	CHECK(strstr(details_at(s, 0x7f0000c00000), "(guess") != NULL);
	/* the thread stack stays a stack */
	CHECK(fixture_alloc_at(s, 0x7f0001000000) &&
	      fixture_alloc_at(s, 0x7f0001000000)->type == VMS_TYPE_STACK);
	/* the _json image lost its false .bss; the arenas say where they are */
	json = fixture_alloc_at(s, 0x7f0002000000);
	CHECK(json && json->type == VMS_TYPE_IMAGE && json->end == 0x7f000200d000);
	a = fixture_alloc_at(s, 0x7f000200d000);
	CHECK(a && a->type == VMS_TYPE_HEAP);
	CHECK_STR(details_at(s, 0x7f000200d000), "pymalloc arenas (2 arenas) (region merged with the .bss of "
	                                         "_json.cpython-311-x86_64-linux-gnu.so)");
	CHECK_STR(s->regions[a ? a->first_region : 0].role, "arenas");
	/* python's own .bss stays python's */
	CHECK(fixture_alloc_at(s, 0x400000) && fixture_alloc_at(s, 0x400000)->end == 0xacb000);
	const struct vms_recogniser_run *r = fixture_run_of(s, "pymalloc");
	CHECK(r && r->claimed == 4 && r->read_memory == 1);
	CHECK(r && r->note && strstr(r->note, "CPython 3.11") && strstr(r->note, "8 arenas") &&
	      strstr(r->note, "some by geometry"));
	vms_snapshot_free(s);

	/* without reads: exact multiples of 1 MiB only, all guesses; the _json region is left alone
	 * (its real .bss size is unknown without the ELF) */
	s = parse_classify("python311.smaps");
	CHECK(vms_attribute_with(s, NULL, NULL, &changed) == VMS_OK);
	check_numbers(s);
	size_t heaps = 0;
	for (size_t i = 0; i < s->n_allocations; i++)
		if (s->allocations[i].owner && !strcmp(s->allocations[i].owner, "pymalloc")) {
			heaps++;
			CHECK(s->allocations[i].guess == 1 && strstr(s->allocations[i].details, "guess"));
		}
	CHECK_EQ_U64(heaps, 4); /* A, C (a 2 MiB glibc chunk: the price of geometry), D, E */
	CHECK(fixture_alloc_at(s, 0x7f0000500000) &&
	      fixture_alloc_at(s, 0x7f0000500000)->type == VMS_TYPE_PRIVATE_DATA);
	CHECK(fixture_alloc_at(s, 0x7f0002000000) &&
	      fixture_alloc_at(s, 0x7f0002000000)->end == 0x7f000220d000);
	vms_snapshot_free(s);
}

/* ---- partition_alloc ---------------------------------------------------------------------------- */

static void test_partition_alloc(void)
{
	struct vms_snapshot *s = attributed("chromium.smaps");
	check_numbers(s);
	const struct vms_allocation *a = fixture_alloc_at(s, 0x320800000000);
	const struct vms_part *p;
	CHECK(a && parts_of(s, a, &p) == 4);
	if (p && a) {
		check_part(&p[0], 0x320800000000, 0x320800200000, "PartitionAlloc super page (regular pool)");
		check_part(&p[2], 0, 0, "PartitionAlloc super page (BRP pool)");
		check_part(&p[3], 0x320c00200000, 0x320c00600000,
		           "PartitionAlloc direct map (4 MiB, BRP pool)");
		CHECK_STR(s->regions[a->first_region].role, "reserved");
		CHECK_STR(s->regions[a->first_region + 1].role, "committed");
	}
	a = fixture_alloc_at(s, 0x3182ac519000);
	CHECK(a && a->type == VMS_TYPE_HEAP && a->end - a->start == 16 * GIB);
	CHECK(strstr(details_at(s, 0x3182ac519000), "super-page metadata") != NULL);
	/* the decoy 16 GiB run whose committed unit mirrors no super page stays unnamed */
	a = fixture_alloc_at(s, 0x400000001000);
	CHECK(a && a->type == VMS_TYPE_RESERVED && a->owner == NULL);
	a = fixture_alloc_at(s, 0x22a600000000);
	CHECK(a && a->type == VMS_TYPE_MANAGED_HEAP && a->end == 0x23fe00000000);
	CHECK(strstr(details_at(s, 0x22a600000000), "V8 sandbox, 1376 GiB reserved") != NULL);
	CHECK(a && parts_of(s, a, &p) == 3);
	if (p)
		check_part(&p[1], 0x22b600000000, 0, "V8 pointer-compression cage (4 GiB)");
	a = fixture_alloc_at(s, 0x37ac00000000);
	CHECK(a && a->type == VMS_TYPE_MANAGED_HEAP && a->guess == 1 && strstr(a->details, "Oilpan") &&
	      strstr(a->details, "(guess)"));
	a = fixture_alloc_at(s, 0x563bc8fc0000);
	CHECK(a && a->type == VMS_TYPE_MANAGED_HEAP);
	CHECK_STR(details_at(s, 0x563bc8fc0000), "V8 code range (JIT code, RWX), 512 MiB");
	a = fixture_alloc_at(s, 0x10000);
	CHECK(a && a->type == VMS_TYPE_RESERVED && a->owner == NULL);
	CHECK(s->summary[VMS_TYPE_HEAP].cols[VMS_COL_COMMITTED] > 0);
	CHECK(s->summary[VMS_TYPE_MANAGED_HEAP].cols[VMS_COL_SIZE] > 1024 * GIB);
	const struct vms_recogniser_run *r = fixture_run_of(s, "partition_alloc");
	CHECK(r && r->claimed == 5 && r->read_memory == 0);
	/* not a Chromium process: nothing */
	CHECK(fixture_run_of(s, "pymalloc") && fixture_run_of(s, "pymalloc")->claimed == 0 &&
	      fixture_run_of(s, "pymalloc")->note == NULL);
	vms_snapshot_free(s);
}

/* ---- dotnet ------------------------------------------------------------------------------------ */

static void test_dotnet(void)
{
	struct vms_snapshot *s = attributed("dotnet8.smaps");
	check_numbers(s);
	const struct vms_allocation *a = fixture_alloc_at(s, 0x7a0000000000);
	CHECK(a && a->type == VMS_TYPE_MANAGED_HEAP && a->end == 0x7a4000000000);
	CHECK_STR(details_at(s, 0x7a0000000000),
	          ".NET 8.0.11 GC heap (regions: SOH/LOH), 256 GiB reserved, 13 MiB committed in "
	          "3 basic (4 MiB) and 1 large (32 MiB) regions");
	CHECK(a && a->cols[VMS_COL_COMMITTED] == 13 * MIB + 256 * 1024);
	const struct vms_part *p;
	CHECK(a && parts_of(s, a, &p) == 4);
	if (p) {
		check_part(&p[0], 0x7a0000000000, 0, NULL);
		check_part(&p[1], 0x7a0000400000, 0, NULL);
		check_part(&p[2], 0x7a0000800000, 0, "GC region (basic)");
		check_part(&p[3], 0x7a3ffe000000, 0x7a4000000000, "GC region (large objects)");
	}
	/* the bookkeeping reservation is not region-aligned: not the heap */
	a = fixture_alloc_at(s, 0x7b0000000000);
	CHECK(a && a->owner == NULL);
	/* W^X double mapping: the RX view with its reserved tail, and the RW alias that points at it */
	a = fixture_alloc_at(s, 0x7c0000000000);
	CHECK(a && a->type == VMS_TYPE_PRIVATE_DATA && a->end == 0x7c0000100000);
	CHECK(strstr(details_at(s, 0x7c0000000000),
	             ".NET executable memory (memfd:doublemapper offset 0x0") != NULL);
	a = fixture_alloc_at(s, 0x7c1000000000);
	CHECK(a && a->type == VMS_TYPE_PRIVATE_DATA);
	CHECK(strstr(details_at(s, 0x7c1000000000),
	             "writable alias of the executable view at 0x7c0000004000") != NULL);
	const struct vms_recogniser_run *r = fixture_run_of(s, "dotnet");
	CHECK(r && r->claimed == 3 && r->note && strstr(r->note, ".NET 8.0.11"));
	vms_snapshot_free(s);

	/* no libcoreclr: the same layout is not claimed */
	s = attributed("chromium.smaps");
	CHECK(fixture_run_of(s, "dotnet") && fixture_run_of(s, "dotnet")->claimed == 0);
	vms_snapshot_free(s);
}

int main(void)
{
	test_pymalloc();
	test_partition_alloc();
	test_dotnet();
	TEST_MAIN_END();
}
