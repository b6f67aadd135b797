/* The classifier takes into an image only the anonymous region after its data that the ELF's
 * .bss covers (docs/memory-types.md, Image): regions written as maps text, the ELF program
 * headers given by a fake vms_classify_ctx.elf_load; and the ELF program header parser
 * (server/core/elf.c) on hand-made headers, ELF64 little-endian and ELF32 big-endian. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../server/core/elf.h"
#include "fixture.h"
#include "test.h"
#include "vmscope/parse.h"
#include "vmscope/snapshot.h"

#define BASE 0x7f0000000000ull

/* The fake ELF files: by path, the PT_LOAD layout elf_load reports (rc 1), or rc 0 / -1. */
static const struct fake {
	const char *path;
	int rc;
	struct vms_elf_load load;
} fakes[] = {
    /* exact: 2 pages of .bss after a one-page data segment at offset 0x3000 */
    {"/lib/libexact.so", 1, {0, 0, 0x3000, 0x3000, 0x800, 0x2000 + 0x10}},
    /* 16 bytes of .bss that fit in the data page; 12 MiB of arenas merged after it */
    {"/lib/libtiny.so", 1, {0, 0, 0x3000, 0x3000, 0x800, 0x810}},
    /* one page of .bss; a 64 KiB region */
    {"/lib/libsmall.so", 1, {0, 0, 0x3000, 0x3000, 0x800, 0x1800}},
    /* three pages of .bss; a four-page region */
    {"/lib/libbig.so", 1, {0, 0, 0x3000, 0x3000, 0x800, 0x3800}},
    /* glibc 2.36's libc.so.6: RELRO splits the last PT_LOAD; 13 pages of .bss */
    {"/lib/libc.so.6", 1, {0, 0, 0x1cf8d0, 0x1cf8d0, 0x4f98, 0x12680}},
    /* a .bss-only last PT_LOAD (filesz 0): the bias comes from the first mapping */
    {"/lib/libonly.so", 1, {0, 0, 0x5000, 0x5000, 0, 0x2000}},
    /* two pages of .bss: half of a four-page region (taken), less than half of five (not) */
    {"/lib/libhalf.so", 1, {0, 0, 0x3000, 0x3000, 0x800, 0x2800}},
    {"/lib/libless.so", 1, {0, 0, 0x3000, 0x3000, 0x800, 0x2800}},
    {"/lib/libunread.so", -1, {0}},
    {"/lib/libnoelf.so", 0, {0}},
    /* Debian's libdav1d.so.6.6.0 (readelf -l): the last PT_LOAD at 0x18a1b0, 0x36b0 bytes of file
     * and 0x46d50 in memory; tests/fixtures/chromium-libdav1d-bss.smaps has its mappings in a
     * chromium browser, whose .bss region the kernel merged with 8 KiB mapped after it */
    {"/usr/lib/x86_64-linux-gnu/libdav1d.so.6.6.0", 1, {0, 0, 0x18a1b0, 0x18a1b0, 0x36b0, 0x46d50}},
    /* the file on disk ends before what is mapped (replaced in place): not believed */
    {"/lib/libshort.so", 1, {0, 0, 0x1000, 0x1000, 0x100, 0x200}},
};

struct calls {
	int n;
	char last[64];
};

static int fake_elf_load(void *cookie, const char *path, struct vms_elf_load *out)
{
	struct calls *c = cookie;
	c->n++;
	snprintf(c->last, sizeof c->last, "%s", path);
	for (size_t k = 0; k < sizeof fakes / sizeof fakes[0]; k++)
		if (!strcmp(fakes[k].path, path)) {
			*out = fakes[k].load;
			return fakes[k].rc;
		}
	return -1;
}

static int fake_is_elf(void *cookie, const char *path)
{
	(void)cookie, (void)path;
	return 1;
}

/* An image of four pages (header, text, rodata, data) at base and the anonymous region after it. */
/* One mapping of a run: size bytes with perms, of the run's file at offset, or anonymous. */
struct seg {
	uint64_t size;
	const char *perms;
	uint64_t offset;
	int anon;
};

/* Maps lines for the mappings segs[0..n) laid end to end from base; the file ones name path
 * (inode inode on 08:01). Returns the length written. */
static size_t run(char *buf, size_t cap, uint64_t base, const char *path, unsigned inode,
                  const struct seg *segs, size_t n)
{
	size_t len = 0;
	for (size_t i = 0; i < n && len < cap; i++) {
		const struct seg *g = &segs[i];
		if (g->anon)
			len += (size_t)snprintf(buf + len, cap - len, "%llx-%llx %s 00000000 00:00 0 \n",
			                        (unsigned long long)base,
			                        (unsigned long long)(base + g->size), g->perms);
		else
			len +=
			    (size_t)snprintf(buf + len, cap - len, "%llx-%llx %s %08llx 08:01 %u %s\n",
			                     (unsigned long long)base, (unsigned long long)(base + g->size),
			                     g->perms, (unsigned long long)g->offset, inode, path);
		base += g->size;
	}
	return len;
}

/* A four-segment image (r--p, r-xp, r--p, rw-p, a page each) and anon_pages of anonymous
 * memory right after it. */
static size_t image(char *buf, size_t cap, uint64_t base, const char *path, unsigned inode,
                    uint64_t anon_pages)
{
	const struct seg segs[] = {
	    {0x1000, "r--p", 0, 0},      {0x1000, "r-xp", 0x1000, 0},         {0x1000, "r--p", 0x2000, 0},
	    {0x1000, "rw-p", 0x3000, 0}, {anon_pages * 0x1000, "rw-p", 0, 1},
	};
	return run(buf, cap, base, path, inode, segs, sizeof segs / sizeof *segs);
}

static struct vms_snapshot *classify(const char *text, int with_callback, struct calls *calls)
{
	struct vms_snapshot *s = vms_snapshot_new();
	if (!s)
		return NULL;
	s->arch.bits = 64;
	s->page_size = 4096;
	struct vms_classify_ctx ctx = {
	    .heap_max = 64u << 20,
	    .main_tid = 1,
	    .is_elf = fake_is_elf,
	    .elf_load = with_callback ? fake_elf_load : NULL,
	    .cookie = calls,
	};
	if (vms_smaps_parse(s, text, strlen(text)) != VMS_OK || vms_classify(s, &ctx) != VMS_OK) {
		vms_snapshot_free(s);
		return NULL;
	}
	return s;
}

static const struct vms_region *region_at(const struct vms_snapshot *s, uint64_t addr)
{
	for (size_t i = 0; i < s->n_regions; i++)
		if (s->regions[i].start <= addr && addr < s->regions[i].end)
			return &s->regions[i];
	return NULL;
}

/* The image at base ends at end; region at anon (when not taken) has type and details. */
static void check_image(const struct vms_snapshot *s, uint64_t base, uint64_t end, const char *details)
{
	const struct vms_allocation *a = fixture_alloc_at(s, base);
	CHECK(a && a->type == VMS_TYPE_IMAGE);
	CHECK(a && a->start == base);
	if (a && a->end != end)
		fprintf(stderr, "image at %llx ends at %llx, want %llx\n", (unsigned long long)base,
		        (unsigned long long)a->end, (unsigned long long)end);
	CHECK(a && a->end == end);
	CHECK_STR(a ? a->details : NULL, details);
}

static void test_layouts(void)
{
	static char text[8192];
	size_t n = 0;
	uint64_t b[11];
	for (int k = 0; k < 11; k++)
		b[k] = BASE + (uint64_t)k * 0x10000000ull;
	n += image(text + n, sizeof text - n, b[0], "/lib/libexact.so", 10, 2);
	n += image(text + n, sizeof text - n, b[1], "/lib/libtiny.so", 11, 3072); /* 12 MiB */
	n += image(text + n, sizeof text - n, b[2], "/lib/libsmall.so", 12, 16);
	n += image(text + n, sizeof text - n, b[3], "/lib/libbig.so", 13, 4);
	n += image(text + n, sizeof text - n, b[4], "/lib/libunread.so", 14, 8);
	n += image(text + n, sizeof text - n, b[5], "/lib/libnoelf.so", 15, 8);
	n += image(text + n, sizeof text - n, b[6], "/lib/libshort.so", 16, 8);
	n += image(text + n, sizeof text - n, b[7], "/lib/libgone.so (deleted)", 17, 8);
	/* libc: header/text/rodata, RELRO (r--p) and data (rw-p) of the last PT_LOAD, .bss, and one
	 * page more merged after it */
	uint64_t c = b[8];
	static const struct seg libc[] = {
	    {0x26000, "r--p", 0, 0},       {0x156000, "r-xp", 0x26000, 0}, {0x53000, "r--p", 0x17c000, 0},
	    {0x4000, "r--p", 0x1cf000, 0}, {0x2000, "rw-p", 0x1d3000, 0},  {0xe000, "rw-p", 0, 1},
	};
	n += run(text + n, sizeof text - n, c, "/lib/libc.so.6", 18, libc, sizeof libc / sizeof *libc);
	n += image(text + n, sizeof text - n, b[9], "/lib/libhalf.so", 20, 4);
	n += image(text + n, sizeof text - n, b[10], "/lib/libless.so", 21, 5);
	/* libonly: a .bss-only last PT_LOAD at 0x5000 (the data segment is an earlier one) */
	uint64_t o = BASE + 0x100000000ull;
	static const struct seg libonly[] = {
	    {0x1000, "r--p", 0, 0}, {0x1000, "r-xp", 0x1000, 0}, {0x1000, "rw-p", 0x2000, 0},
	    {0x5000, "rw-p", 0, 1}, {0x1000, "---p", 0, 1},
	};
	n += run(text + n, sizeof text - n, o, "/lib/libonly.so", 19, libonly,
	         sizeof libonly / sizeof *libonly);

	struct calls calls = {0};
	struct vms_snapshot *s = classify(text, 1, &calls);
	CHECK(s != NULL);
	if (!s)
		return;
	/* the .bss covers the region: the image's, as before */
	check_image(s, b[0], b[0] + 0x6000, "/lib/libexact.so");
	CHECK(region_at(s, b[0] + 0x4000) && !strcmp(region_at(s, b[0] + 0x4000)->role, "bss"));
	/* no .bss page at all: 12 MiB of someone's memory is not the image's */
	check_image(s, b[1], b[1] + 0x4000, "/lib/libtiny.so");
	const struct vms_allocation *a = fixture_alloc_at(s, b[1] + 0x4000);
	CHECK(a && a->type == VMS_TYPE_PRIVATE_DATA && a->details == NULL &&
	      a->end == b[1] + 0x4000 + (12u << 20));
	CHECK(region_at(s, b[1] + 0x4000) && region_at(s, b[1] + 0x4000)->role == NULL);
	/* one page of .bss in 16: left out, and the details say what is at its start */
	check_image(s, b[2], b[2] + 0x4000,
	            "/lib/libsmall.so (its .bss, 4 KiB, is the start of the next region, which the kernel "
	            "merged with 60 KiB mapped after it)");
	a = fixture_alloc_at(s, b[2] + 0x4000);
	CHECK(a && a->type == VMS_TYPE_PRIVATE_DATA);
	CHECK_STR(
	    a ? a->details : NULL,
	    "holds the .bss of libsmall.so (4 KiB) at its start; the rest (60 KiB) was mapped after it");
	/* three pages of .bss in four: the region is still not the image's (a VMA is not split), and
	 * both say where the .bss is */
	check_image(s, b[3], b[3] + 0x4000,
	            "/lib/libbig.so (its .bss, 12 KiB, is the start of the next region, which the kernel "
	            "merged with 4 KiB mapped after it)");
	a = fixture_alloc_at(s, b[3] + 0x4000);
	CHECK(a && a->type == VMS_TYPE_PRIVATE_DATA);
	CHECK_STR(a ? a->details : NULL,
	          "holds the .bss of libbig.so (12 KiB) at its start; the rest (4 KiB) was mapped after it");
	CHECK(region_at(s, b[3] + 0x4000) && region_at(s, b[3] + 0x4000)->role == NULL);
	check_image(s, b[9], b[9] + 0x4000,
	            "/lib/libhalf.so (its .bss, 8 KiB, is the start of the next region, which the kernel "
	            "merged with 8 KiB mapped after it)");
	check_image(s, b[10], b[10] + 0x4000,
	            "/lib/libless.so (its .bss, 8 KiB, is the start of the next region, which the kernel "
	            "merged with 12 KiB mapped after it)");
	a = fixture_alloc_at(s, b[10] + 0x4000);
	CHECK_STR(a ? a->details : NULL,
	          "holds the .bss of libless.so (8 KiB) at its start; the rest (12 KiB) was mapped after it");
	/* unreadable, not ELF after all, or not matching the mapping: today's rule, said */
	check_image(s, b[4], b[4] + 0xc000, "/lib/libunread.so (bss size unknown)");
	check_image(s, b[5], b[5] + 0xc000, "/lib/libnoelf.so (bss size unknown)");
	check_image(s, b[6], b[6] + 0xc000, "/lib/libshort.so (bss size unknown)");
	/* a deleted file is never read (the path may name another file now) */
	check_image(s, b[7], b[7] + 0xc000, "/lib/libgone.so (deleted) (bss size unknown)");
	/* libc: the bias from the data segment inside the split last PT_LOAD; 13 pages of .bss in 14 */
	check_image(s, c, c + 0x1d5000,
	            "/lib/libc.so.6 (its .bss, 52 KiB, is the start of the next region, which the kernel "
	            "merged with 4 KiB mapped after it)");
	CHECK(region_at(s, c + 0x1d5000) && region_at(s, c + 0x1d5000)->role == NULL);
	/* .bss-only PT_LOAD: bias from the first mapping; 0x5000 + 0x2000 = 0x7000: 4 of 5 pages */
	check_image(s, o, o + 0x3000,
	            "/lib/libonly.so (its .bss, 16 KiB, is the start of the next region, which the kernel "
	            "merged with 4 KiB mapped after it)");
	a = fixture_alloc_at(s, o + 0x8000);
	CHECK(a && a->type == VMS_TYPE_RESERVED);
	/* asked once per image with a candidate region, never for the deleted one */
	CHECK_EQ_U64(calls.n, 11);
	/* numbers per region stay the region's: the allocations tile the regions */
	uint64_t sum = 0;
	for (size_t i = 0; i < s->n_allocations; i++)
		sum += s->allocations[i].end - s->allocations[i].start;
	uint64_t regs = 0;
	for (size_t i = 0; i < s->n_regions; i++)
		regs += s->regions[i].end - s->regions[i].start;
	CHECK_EQ_U64(sum, regs);
	vms_snapshot_free(s);

	/* without the callback (saved text): every such region is the image's, silently */
	calls.n = 0;
	s = classify(text, 0, &calls);
	CHECK(s != NULL);
	if (!s)
		return;
	check_image(s, b[1], b[1] + 0x4000 + (12u << 20), "/lib/libtiny.so");
	check_image(s, b[2], b[2] + 0x14000, "/lib/libsmall.so");
	check_image(s, b[4], b[4] + 0xc000, "/lib/libunread.so");
	CHECK_EQ_U64(calls.n, 0);
	vms_snapshot_free(s);
}

/* A region that is left out may stream after its image in a later feed(): its note must still
 * be there (the classifier keeps it across calls). */
static void test_incremental(void)
{
	char text[2048];
	size_t n = image(text, sizeof text, BASE, "/lib/libsmall.so", 12, 16);
	n += (size_t)snprintf(text + n, sizeof text - n, "%llx-%llx rw-p 00000000 00:00 0 \n",
	                      (unsigned long long)BASE + 0x100000, (unsigned long long)BASE + 0x101000);
	struct calls calls = {0};
	struct vms_snapshot *s = vms_snapshot_new();
	CHECK(s != NULL);
	if (!s)
		return;
	s->arch.bits = 64;
	s->page_size = 4096;
	struct vms_classify_ctx ctx = {.heap_max = 64u << 20,
	                               .main_tid = 1,
	                               .is_elf = fake_is_elf,
	                               .elf_load = fake_elf_load,
	                               .cookie = &calls};
	struct vms_smaps_parser *p = vms_smaps_parser_new(s);
	struct vms_classifier *cl = vms_classifier_new(s, &ctx);
	size_t used = 0;
	/* feed line by line, classifying after each */
	for (size_t k = 0; k < n; k++)
		if (text[k] == '\n') {
			used += vms_smaps_parser_feed(p, text + used, k + 1 - used, 0);
			vms_smaps_parser_expose(p);
			CHECK(vms_classifier_feed(cl, 0) == VMS_OK);
		}
	vms_smaps_parser_feed(p, text + used, n - used, 1);
	CHECK(vms_smaps_parser_finish(p) == VMS_OK);
	CHECK(vms_classifier_finish(cl) == VMS_OK);
	const struct vms_allocation *a = fixture_alloc_at(s, BASE + 0x4000);
	CHECK(a && a->type == VMS_TYPE_PRIVATE_DATA && a->details &&
	      strstr(a->details, "holds the .bss of libsmall.so"));
	a = fixture_alloc_at(s, BASE + 0x100000);
	CHECK(a && a->type == VMS_TYPE_PRIVATE_DATA && a->details == NULL);
	CHECK_EQ_U64(calls.n, 1);
	vms_snapshot_free(s);
}

static void put(unsigned char *p, int n, uint64_t v, int be)
{
	for (int k = 0; k < n; k++)
		p[be ? n - 1 - k : k] = (unsigned char)(v >> (8 * k));
}

static void test_elf_parser(void)
{
	/* ELF64 LE: three PT_LOADs and a PT_DYNAMIC between them, at phoff 64 */
	unsigned char f[64 + 4 * 56];
	memset(f, 0, sizeof f);
	memcpy(f, "\177ELF\2\1\1", 7);
	put(f + 0x20, 8, 64, 0);
	put(f + 0x36, 2, 56, 0);
	put(f + 0x38, 2, 4, 0);
	const uint64_t seg[4][5] = {/* type, offset, vaddr, filesz, memsz */
	                            {1, 0, 0, 0x1000, 0x1000},
	                            {1, 0x1000, 0x1000, 0x2000, 0x2000},
	                            {2, 0x3e00, 0x4e00, 0x100, 0x100},
	                            {1, 0x3df0, 0x4df0, 0x300, 0x5000}};
	for (int k = 0; k < 4; k++) {
		unsigned char *p = f + 64 + k * 56;
		put(p, 4, seg[k][0], 0);
		put(p + 0x08, 8, seg[k][1], 0);
		put(p + 0x10, 8, seg[k][2], 0);
		put(p + 0x20, 8, seg[k][3], 0);
		put(p + 0x28, 8, seg[k][4], 0);
	}
	uint64_t phoff = 0;
	size_t size = 0;
	struct vms_elf_load L;
	CHECK(vms_elf_phdrs_at(f, 64, &phoff, &size) == 1);
	CHECK_EQ_U64(phoff, 64);
	CHECK_EQ_U64(size, 4 * 56);
	CHECK(vms_elf_loads(f, 64, f + 64, size, &L) == 1);
	CHECK_EQ_U64(L.vaddr, 0x4df0);
	CHECK_EQ_U64(L.offset, 0x3df0);
	CHECK_EQ_U64(L.filesz, 0x300);
	CHECK_EQ_U64(L.memsz, 0x5000);
	CHECK_EQ_U64(L.first_vaddr, 0);
	/* memsz < filesz is malformed; short or foreign headers are not ours */
	put(f + 64 + 3 * 56 + 0x28, 8, 0x10, 0);
	CHECK(vms_elf_loads(f, 64, f + 64, size, &L) == 0);
	CHECK(vms_elf_phdrs_at(f, 40, &phoff, &size) == 0);
	f[1] = 'X';
	CHECK(vms_elf_phdrs_at(f, 64, &phoff, &size) == 0);

	/* ELF32 big-endian: one PT_LOAD with .bss */
	unsigned char g[52 + 32];
	memset(g, 0, sizeof g);
	memcpy(g, "\177ELF\1\2\1", 7);
	put(g + 0x1c, 4, 52, 1);
	put(g + 0x2a, 2, 32, 1);
	put(g + 0x2c, 2, 1, 1);
	put(g + 52, 4, 1, 1);
	put(g + 52 + 0x04, 4, 0x100, 1);
	put(g + 52 + 0x08, 4, 0x10100, 1);
	put(g + 52 + 0x10, 4, 0x200, 1);
	put(g + 52 + 0x14, 4, 0x900, 1);
	CHECK(vms_elf_phdrs_at(g, 52, &phoff, &size) == 1);
	CHECK_EQ_U64(phoff, 52);
	CHECK(vms_elf_loads(g, 52, g + 52, size, &L) == 1);
	CHECK_EQ_U64(L.vaddr, 0x10100);
	CHECK_EQ_U64(L.memsz, 0x900);
	/* no PT_LOAD */
	put(g + 52, 4, 2, 1);
	CHECK(vms_elf_loads(g, 52, g + 52, size, &L) == 0);
}

/* Saved from a chromium browser (issue 9): libdav1d's .bss ends at 0x7f6771624000, its .bss
 * region at 0x7f6771626000. The 8 KiB past the ELF's .bss are not the image's: the image ends
 * with its data, the region is Private Data that says what is at its start, and its numbers are
 * smaps's. */
static void test_chromium_libdav1d(void)
{
	size_t len = 0;
	char *text = fixture_load("chromium-libdav1d-bss.smaps", &len);
	struct calls calls = {0};
	struct vms_snapshot *s = classify(text, 1, &calls);
	free(text);
	CHECK(s != NULL);
	if (!s)
		return;
	check_image(s, 0x7f6771453000ull, 0x7f67715e1000ull,
	            "/usr/lib/x86_64-linux-gnu/libdav1d.so.6.6.0 (its .bss, 268 KiB, is the start of the "
	            "next region, which the kernel merged with 8 KiB mapped after it)");
	const struct vms_allocation *a = fixture_alloc_at(s, 0x7f67715e1000ull);
	CHECK(a && a->type == VMS_TYPE_PRIVATE_DATA && a->end == 0x7f6771626000ull);
	CHECK_STR(a ? a->details : NULL, "holds the .bss of libdav1d.so.6.6.0 (268 KiB) at its start; "
	                                 "the rest (8 KiB) was mapped after it");
	const struct vms_region *r = region_at(s, 0x7f67715e1000ull);
	CHECK(r && r->role == NULL && r->smaps[VMS_SF_SIZE] == 0x45000 && r->smaps[VMS_SF_RSS] == 8192);
	CHECK_EQ_U64(calls.n, 1);
	vms_snapshot_free(s);
}

int main(void)
{
	test_layouts();
	test_incremental();
	test_chromium_libdav1d();
	test_elf_parser();
	TEST_MAIN_END();
}
