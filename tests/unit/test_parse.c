/* Parser + classifier on saved smaps text (tests/fixtures, see make-fixtures.sh). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "test.h"
#include "vmscope/parse.h"
#include "vmscope/snapshot.h"

static const struct vms_region *find_region(const struct vms_snapshot *s, uint64_t start)
{
	for (size_t i = 0; i < s->n_regions; i++)
		if (s->regions[i].start == start)
			return &s->regions[i];
	return NULL;
}

/* The summary must equal the sum of the details for every type and column. */
static void check_summary_is_sum(const struct vms_snapshot *s)
{
	uint64_t sum[VMS_TYPE_COUNT][VMS_COL_COUNT];
	uint64_t blocks[VMS_TYPE_COUNT] = {0};
	memset(sum, 0, sizeof sum);
	for (size_t r = 0; r < s->n_regions; r++)
		for (int c = 0; c < VMS_COL_COUNT; c++)
			sum[s->regions[r].type][c] += s->regions[r].cols[c];
	for (size_t a = 0; a < s->n_allocations; a++)
		blocks[s->allocations[a].type]++;
	for (int t = 0; t < VMS_TYPE_COUNT; t++) {
		if (t == VMS_TYPE_PAGE_TABLE || t == VMS_TYPE_FREE)
			continue;
		for (int c = 0; c < VMS_COL_COUNT; c++)
			CHECK_EQ_U64(s->summary[t].cols[c], sum[t][c]);
		CHECK_EQ_U64(s->summary[t].blocks, blocks[t]);
	}
	uint64_t free_total = 0;
	for (size_t g = 0; g < s->n_gaps; g++)
		free_total += s->gaps[g].end - s->gaps[g].start;
	CHECK_EQ_U64(s->summary[VMS_TYPE_FREE].cols[VMS_COL_SIZE], free_total);
	CHECK_EQ_U64(s->summary[VMS_TYPE_FREE].blocks, s->n_gaps);
}

static struct vms_snapshot *parse_classify(const char *file, int bits, struct vms_thread *threads,
                                           size_t n_threads)
{
	size_t len;
	char *text = fixture_load(file, &len);
	struct vms_snapshot *s = vms_snapshot_new();
	CHECK(vms_smaps_parse(s, text, len) == VMS_OK);
	free(text);
	fixture_machine(s, bits, threads, n_threads);
	s->page_table_bytes = 12288;
	static const unsigned tmpfs[] = {0u << 20 | 0x1b};
	struct vms_classify_ctx ctx = fixture_ctx(bits, tmpfs, 1, 100);
	CHECK(vms_classify(s, &ctx) == VMS_OK);
	return s;
}

static void test_odd64(void)
{
	struct vms_thread threads[] = {
	    {.tid = 100, .name = "server", .sp = 0x7ffc00020000},
	    {.tid = 101, .name = "worker", .sp = 0x7f2000400000},
	};
	struct vms_snapshot *s = parse_classify("odd64.smaps", 64, threads, 2);
	const struct vms_region *r;
	const struct vms_allocation *a;

	CHECK_EQ_U64(s->n_regions, 28);
	CHECK_EQ_U64(s->malformed_lines, 3); /* garbage, zz-yy header, orphan Rss line */

	/* Image: 5 segments of a path with spaces + anonymous .bss */
	a = fixture_alloc_at(s, 0x555555554000);
	CHECK(a && a->type == VMS_TYPE_IMAGE && a->n_regions == 6);
	CHECK_STR(a ? a->details : NULL, "/opt/my app/bin/my server");
	const char *roles[] = {"header", "text", "rodata", "relro", "data", "bss"};
	for (int i = 0; a && i < 6; i++)
		CHECK_STR(s->regions[a->first_region + i].role, roles[i]);
	CHECK_EQ_U64(a ? a->end : 0, 0x555555560000);

	r = find_region(s, 0x555555554000);
	CHECK_EQ_U64(r->smaps[VMS_SF_SIZE], 8192);
	CHECK_EQ_U64(r->smaps[VMS_SF_KERNEL_PAGE_SIZE], 4096);
	CHECK(r->thp_eligible == 0 && r->protection_key == -1);
	CHECK_STR(r->vm_flags, "rd mr mw me");
	/* relro is r--p but charged (ac): Private = Size */
	r = find_region(s, 0x55555555c000);
	CHECK_EQ_U64(r->cols[VMS_COL_PRIVATE], 4096);

	a = fixture_alloc_at(s, 0x555555600000);
	CHECK(a && a->type == VMS_TYPE_HEAP);

	/* a glibc arena heap (head + tail = 64 MiB): the glibc recogniser names it
	 * (test_rec_libc.c); the classifier alone sees an anonymous rw-p region */
	a = fixture_alloc_at(s, 0x7f0000000000);
	CHECK(a && a->type == VMS_TYPE_PRIVATE_DATA && a->n_regions == 1);

	r = find_region(s, 0x7f1000000000);
	CHECK_STR(r->path, "/data/new\nline.bin");
	CHECK(r->type == VMS_TYPE_MAPPED_FILE && !r->deleted);
	r = find_region(s, 0x7f1000001000);
	CHECK_STR(r->path, "/data/deleted me.bin");
	CHECK(r->deleted && r->type == VMS_TYPE_MAPPED_FILE);
	CHECK_STR(s->allocations[r->allocation].details, "/data/deleted me.bin (deleted)");

	a = fixture_alloc_at(s, 0x7f1000003000);
	CHECK(a && a->type == VMS_TYPE_SHAREABLE);
	CHECK_STR(a ? a->details : NULL, "memfd: my memfd");
	r = find_region(s, 0x7f1000003000);
	CHECK_EQ_U64(r->cols[VMS_COL_PRIVATE], 0);
	CHECK_EQ_U64(r->cols[VMS_COL_SHAREABLE_WS], 65536);
	CHECK_EQ_U64(r->cols[VMS_COL_PRIVATE_WS], 0);
	a = fixture_alloc_at(s, 0x7f1000013000);
	CHECK(a && a->type == VMS_TYPE_SHAREABLE);
	CHECK_STR(a ? a->details : NULL, "Shared anonymous memory (/dev/zero)");
	a = fixture_alloc_at(s, 0x7f1000023000);
	CHECK_STR(a ? a->details : NULL, "SysV shm key 0x0000abcd, shmid 32768");
	a = fixture_alloc_at(s, 0x7f1000033000);
	CHECK(a && a->type == VMS_TYPE_SHAREABLE);
	CHECK_STR(a ? a->details : NULL, "POSIX shm: /my shm");

	/* thread stacks: guard + stack; the first has thread 101's SP, the second no thread */
	a = fixture_alloc_at(s, 0x7f2000000000);
	CHECK(a && a->type == VMS_TYPE_STACK && a->n_regions == 2 && a->tid == 101);
	CHECK_STR(a ? a->details : NULL, "Thread ID: 101 (worker)");
	CHECK_STR(s->regions[a->first_region].role, "guard");
	CHECK_EQ_U64(a->cols[VMS_COL_COMMITTED], 8192 * 1024);
	a = fixture_alloc_at(s, 0x7f2000801000);
	CHECK(a && a->type == VMS_TYPE_STACK && a->tid == 0 && a->guess == 1);
	CHECK_STR(a ? a->details : NULL, "Thread stack (no live thread: unused or cached by glibc) (guess)");
	CHECK(threads[1].stack_allocation >= 0 && s->allocations[threads[1].stack_allocation].tid == 101);

	a = fixture_alloc_at(s, 0x7f3000000000);
	CHECK(a && a->type == VMS_TYPE_PRIVATE_DATA);
	CHECK_STR(a ? a->details : NULL, "[anon:x]");

	/* hugetlb: resident only in Private_Hugetlb; missing keys read as 0 */
	r = find_region(s, 0x7f3000200000);
	CHECK(r->type == VMS_TYPE_PRIVATE_DATA && r->deleted);
	CHECK_EQ_U64(r->smaps[VMS_SF_KERNEL_PAGE_SIZE], 2048 * 1024);
	CHECK_EQ_U64(r->smaps[VMS_SF_PSS_DIRTY], 0);
	CHECK_EQ_U64(r->cols[VMS_COL_TOTAL_WS], 4096 * 1024);
	CHECK_EQ_U64(r->cols[VMS_COL_PRIVATE_WS], 4096 * 1024);

	a = fixture_alloc_at(s, 0x7f4000000000);
	CHECK(a && a->type == VMS_TYPE_RESERVED);
	CHECK_EQ_U64(a->cols[VMS_COL_COMMITTED], 0);
	r = find_region(s, 0x7f4001000000);
	CHECK(r->type == VMS_TYPE_PRIVATE_DATA);
	CHECK_EQ_U64(r->cols[VMS_COL_LOCKED_WS], 65536); /* unknown NewField was tolerated */
	CHECK_EQ_U64(r->smaps[VMS_SF_RSS], 65536);       /* the orphan Rss line did not overwrite it */

	a = fixture_alloc_at(s, 0x7ffc00000000);
	CHECK(a && a->type == VMS_TYPE_STACK && a->tid == 100);
	CHECK_STR(a ? a->details : NULL, "Thread ID: 100 (server)");
	CHECK(fixture_alloc_at(s, 0x7ffc00100000)->type == VMS_TYPE_KERNEL);
	CHECK(fixture_alloc_at(s, 0x7ffc00104000)->type == VMS_TYPE_KERNEL);
	CHECK(fixture_alloc_at(s, 0x7ffc00106000)->type == VMS_TYPE_IMAGE);
	a = fixture_alloc_at(s, 0xffffffffff600000);
	CHECK(a && a->type == VMS_TYPE_KERNEL);

	/* Free: from mmap_min_addr to the top of user space; [vsyscall] is not part of it */
	CHECK_EQ_U64(s->gaps[0].start, 0x10000);
	CHECK_EQ_U64(s->gaps[0].end, 0x555555554000);
	CHECK_EQ_U64(s->gaps[s->n_gaps - 1].end, 0x7ffffffff000);
	CHECK_EQ_U64(s->summary[VMS_TYPE_FREE].largest, 0x555555554000 - 0x10000);
	CHECK_EQ_U64(s->summary[VMS_TYPE_PAGE_TABLE].cols[VMS_COL_SIZE], 12288);
	CHECK_EQ_U64(s->summary[VMS_TYPE_IMAGE].blocks, 2); /* the program and [vdso] */
	check_summary_is_sum(s);

	/* lookup */
	struct vms_lookup l;
	vms_snapshot_lookup(s, 0x7f2000400000, &l);
	CHECK(l.kind == 0 && s->allocations[l.allocation].tid == 101);
	vms_snapshot_lookup(s, 0x20000, &l);
	CHECK(l.kind == 1 && l.gap_start == 0x10000 && l.next_region == 0);
	vms_snapshot_lookup(s, 0x1000, &l);
	CHECK(l.kind == 2);
	vms_snapshot_free(s);
}

static void test_truncated(void)
{
	struct vms_snapshot *s = parse_classify("truncated.smaps", 64, NULL, 0);
	CHECK_EQ_U64(s->n_regions, 28);
	CHECK_EQ_U64(s->malformed_lines, 4); /* plus the torn "Size:" line */
	CHECK_EQ_U64(s->regions[27].start, 0xffffffffff600000);
	CHECK_EQ_U64(s->regions[27].smaps[VMS_SF_SIZE], 0);
	/* without thread SPs the stacks are still stacks, and say why they have no id */
	const struct vms_allocation *a = fixture_alloc_at(s, 0x7f2000000000);
	CHECK(a && a->type == VMS_TYPE_STACK && a->tid == 0);
	check_summary_is_sum(s);
	vms_snapshot_free(s);
}

static void test_i386(void)
{
	struct vms_snapshot *s = parse_classify("i386.smaps", 32, NULL, 0);
	CHECK_EQ_U64(s->n_regions, 8);
	CHECK_EQ_U64(s->malformed_lines, 0);
	const struct vms_allocation *a = fixture_alloc_at(s, 0x08048000);
	CHECK(a && a->type == VMS_TYPE_IMAGE && a->n_regions == 3);
	/* a 1 MiB glibc arena heap on 32-bit: the glibc recogniser names it (test_rec_libc.c); the
	 * classifier alone sees an anonymous rw-p region and a PROT_NONE one */
	a = fixture_alloc_at(s, 0xf7a00000);
	CHECK(a && a->type == VMS_TYPE_PRIVATE_DATA && a->n_regions == 1);
	a = fixture_alloc_at(s, 0xffa10000);
	CHECK(a && a->type == VMS_TYPE_STACK);
	CHECK_EQ_U64(s->gaps[s->n_gaps - 1].end, 1ull << 32);
	check_summary_is_sum(s);
	vms_snapshot_free(s);
}

static void test_garbage_never_crashes(void)
{
	size_t len;
	char *text = fixture_load("odd64.smaps", &len);
	unsigned seed = 12345;
	for (int round = 0; round < 300; round++) {
		char *m = malloc(len);
		memcpy(m, text, len);
		for (int k = 0; k < 20; k++) {
			seed = seed * 1103515245 + 12345;
			m[(seed >> 8) % len] = (char)(seed >> 3);
		}
		size_t cut = (seed >> 4) % len;
		struct vms_snapshot *s = vms_snapshot_new();
		vms_smaps_parse(s, m, cut);
		for (size_t i = 1; i < s->n_regions; i++)
			if (s->regions[i].start < s->regions[i - 1].end)
				t_failed++;
		struct vms_classify_ctx ctx = {.heap_max = 64u << 20};
		s->user_top = 0x7ffffffff000ull;
		CHECK(vms_classify(s, &ctx) == VMS_OK);
		vms_snapshot_free(s);
		free(m);
	}
	free(text);
}

static void test_addresses_and_flags(void)
{
	uint64_t v;
	CHECK(vms_parse_address("0x7f15d8fd4000", &v) == VMS_OK && v == 0x7f15d8fd4000);
	CHECK(vms_parse_address("ffffffffffffffff", &v) == VMS_OK && v == UINT64_MAX);
	CHECK(vms_parse_address("0x10000000000000000", &v) == VMS_ERR_INVALID);
	CHECK(vms_parse_address("0x", &v) == VMS_ERR_INVALID);
	CHECK(vms_parse_address("12g", &v) == VMS_ERR_INVALID);
	unsigned f = vms_vmflags_parse("rd wr mr mw me lo ac ??", 23);
	CHECK(f == (VMS_VMF_RD | VMS_VMF_WR | VMS_VMF_LO | VMS_VMF_AC));
}

/* Regressions found by tests/fuzz/fuzz_smaps.c (minimised inputs). A snapshot parsed from smaps
 * must describe the same thing after a JSON export + import, which re-derives from the text. */
static void test_fuzz_regressions(void)
{
	/* THPeligible is a boolean: anything else is a malformed line (the importer accepts 0/1 only). */
	static const char thp[] = "5-55 r--p 0 e:0 1\nTHPeligible:5";
	struct vms_snapshot *s = vms_snapshot_new();
	CHECK(vms_smaps_parse(s, thp, sizeof thp - 1) == VMS_OK);
	CHECK(s->n_regions == 1 && s->regions[0].thp_eligible == -1);
	CHECK(s->malformed_lines == 1);
	vms_snapshot_free(s);

	/* A NUL inside VmFlags: the stored text stops at it, and the bits must match that text. */
	static const char nul[] = "5-55 r--p 0 f:0 0\nVmFlags:ac";
	s = vms_snapshot_new();
	CHECK(vms_smaps_parse(s, nul, sizeof nul) == VMS_OK); /* sizeof: includes the NUL */
	CHECK(s->n_regions == 1);
	if (s->n_regions == 1) {
		CHECK_STR(s->regions[0].vm_flags, "ac");
		CHECK(s->regions[0].vm_flag_bits == VMS_VMF_AC);
		CHECK(s->regions[0].vm_flag_bits ==
		      vms_vmflags_parse(s->regions[0].vm_flags, strlen(s->regions[0].vm_flags)));
	}
	vms_snapshot_free(s);
}

/* A PROT_NONE + rw "nh" pair without a thread is a stack only up to 1 GiB: ASan's shadow (a
 * 16 TiB rw region after a PROT_NONE gap, MADV_NOHUGEPAGE) was once named a cached stack. */
static void test_unmatched_stack_size(void)
{
	static const char text[] =
	    "10000000-10001000 ---p 00000000 00:00 0\nVmFlags: mr mw me nh\n"
	    "10001000-10801000 rw-p 00000000 00:00 0\nVmFlags: rd wr mr mw me ac nh\n"
	    "7fff8000-8fff7000 ---p 00000000 00:00 0\nVmFlags: mr mw me nh\n"
	    "8fff7000-10007fff8000 rw-p 00000000 00:00 0\nVmFlags: rd wr mr mw me ac nh\n";
	struct vms_snapshot *s = vms_snapshot_new();
	CHECK(vms_smaps_parse(s, text, sizeof text - 1) == VMS_OK);
	fixture_machine(s, 64, NULL, 0);
	struct vms_classify_ctx ctx = fixture_ctx(64, NULL, 0, 100);
	CHECK(vms_classify(s, &ctx) == VMS_OK);
	const struct vms_allocation *a = fixture_alloc_at(s, 0x10000000);
	CHECK(a && a->type == VMS_TYPE_STACK && a->n_regions == 2 && a->guess == 1);
	a = fixture_alloc_at(s, 0x7fff8000);
	CHECK(a && a->type == VMS_TYPE_RESERVED && a->n_regions == 1);
	a = fixture_alloc_at(s, 0x8fff7000);
	CHECK(a && a->type == VMS_TYPE_PRIVATE_DATA && !a->guess);
	check_summary_is_sum(s);
	vms_snapshot_free(s);
}

/* Every enum has a name and a key, and the key maps back to the enum. */
static void test_name_tables(void)
{
	for (int t = 0; t < VMS_TYPE_COUNT; t++)
		CHECK(vms_type_from_key(vms_type_key((enum vms_type)t)) == t &&
		      *vms_type_name((enum vms_type)t));
	for (int f = 0; f < VMS_SF_COUNT; f++)
		CHECK(vms_smaps_field_from_key(vms_smaps_field_key((enum vms_smaps_field)f)) == f &&
		      *vms_smaps_field_kernel_name((enum vms_smaps_field)f));
	for (int c = 0; c < VMS_COL_COUNT; c++)
		CHECK(vms_col_from_key(vms_col_key((enum vms_col)c)) == c && *vms_col_name((enum vms_col)c));
	CHECK(vms_type_from_key("nonsense") == -1 && vms_col_from_key(NULL) == -1);
	CHECK_STR(vms_smaps_field_kernel_name(VMS_SF_PRIVATE_DIRTY), "Private_Dirty");
	CHECK_STR(vms_col_key(VMS_COL_SHAREABLE_WS), "shareable_ws");
	for (int e = 0; e < VMS_ERR_COUNT; e++)
		CHECK(strcmp(vms_err_code(e), "unknown_error") != 0 &&
		      strcmp(vms_strerror(e), "unknown error") != 0);
}

/* vms_maps_line_parse: the one reader of maps lines (smaps headers, the scan's prefetch, the page
 * views' VMA list). */
static int maps_line(const char *text, struct vms_maps_line *m)
{
	return vms_maps_line_parse(text, text + strlen(text), m);
}

static int path_is(const struct vms_maps_line *m, const char *want)
{
	return m->path && m->path_len == strlen(want) && !memcmp(m->path, want, m->path_len);
}

static void test_maps_line(void)
{
	struct vms_maps_line m;
	CHECK(maps_line("7f1c2a000000-7f1c2a021000 r-xp 0001a000 fe:01 1835023                    "
	                "/usr/lib/x86_64-linux-gnu/libc.so.6",
	                &m) == 0);
	CHECK(m.start == 0x7f1c2a000000 && m.end == 0x7f1c2a021000 && !memcmp(m.perms, "r-xp", 4));
	CHECK(m.offset == 0x1a000 && m.dev_major == 0xfe && m.dev_minor == 1 && m.inode == 1835023);
	CHECK(path_is(&m, "/usr/lib/x86_64-linux-gnu/libc.so.6") && !m.deleted);
	/* no path: anonymous */
	CHECK(maps_line("559a1b200000-559a1b221000 rw-p 00000000 00:00 0 ", &m) == 0);
	CHECK(!m.path && m.path_len == 0 && m.inode == 0);
	CHECK(maps_line("559a1b200000-559a1b221000 ---s 00000000 00:00 0", &m) == 0 && !m.path);
	/* a deleted file: the path without the suffix, which a name may also hold inside */
	CHECK(maps_line("7f0000000000-7f0000001000 rw-s 00000000 00:01 42   /memfd:a (deleted) b (deleted)",
	                &m) == 0);
	CHECK(m.deleted && path_is(&m, "/memfd:a (deleted) b"));
	/* spaces and an escaped newline stay as the kernel wrote them */
	CHECK(maps_line("7f0000000000-7f0000001000 r--p 00000000 08:02 7 /tmp/a b\\012c", &m) == 0);
	CHECK(path_is(&m, "/tmp/a b\\012c"));
	CHECK(maps_line("ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0  [vsyscall]", &m) == 0);
	CHECK(path_is(&m, "[vsyscall]") && m.start == 0xffffffffff600000ull);
	/* not maps lines */
	const char *bad[] = {
	    "",
	    "Rss:                 4 kB",
	    "VmFlags: rd wr mr mw me ac sd",
	    "7f00-7f00 rw-p 00000000 00:00 0",                           /* start == end */
	    "8000-7000 rw-p 00000000 00:00 0",                           /* backwards */
	    "7000-8000 rwzp 00000000 00:00 0",                           /* perms */
	    "7000-8000 rw-p 00000000 1000:00 0",                         /* major out of range */
	    "7000-8000 rw-p 00000000 00:100000 0",                       /* minor out of range */
	    "7000-8000 rw-p 00000000 00:00 x",                           /* inode */
	    "7000-8000 rw-p 00000000 00:00 0x /a",                       /* junk after the inode */
	    "10000000000000000-10000000000001000 rw-p 00000000 00:00 0", /* 17 hex digits */
	    "7000-8000 rw-p",                                            /* cut short */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECK(maps_line(bad[i], &m) == -1);
}

int main(void)
{
	test_maps_line();
	test_name_tables();
	test_odd64();
	test_truncated();
	test_i386();
	test_unmatched_stack_size();
	test_garbage_never_crashes();
	test_addresses_and_flags();
	test_fuzz_regressions();
	TEST_MAIN_END();
}
