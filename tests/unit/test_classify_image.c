/* One image = one allocation, whatever gaps its loader left between segments
 * (docs/memory-types.md, Image): regions written as maps text, the ELF program headers given by
 * a fake vms_classify_ctx.elf_load. Gaps with no mapping (the kernel's loader, lld's RELRO page),
 * anonymous PROT_NONE or rw-p regions someone mapped into a gap, a foreign file inside the
 * span, an unreadable ELF, a span beyond the look-ahead, and a remapped copy far away; each
 * classified in one batch and streamed line by line (the same allocations either way). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "test.h"
#include "vmscope/parse.h"
#include "vmscope/snapshot.h"

#define B(k) (0x550000000000ull + (uint64_t)(k)*0x100000000ull)

/* The fake ELF files: by path, the PT_LOAD layout (first_vaddr, first_offset, then the PT_LOAD
 * that ends highest: vaddr, offset, filesz, memsz) and elf_load's answer. */
static const struct fake {
	const char *path;
	int rc;
	struct vms_elf_load load;
} fakes[] = {
    /* lld-style PIE (chromium): header [0, 2000), text at 3000, RELRO at 5000, data at 7000
     * (file 5000) with .bss to 9800: one-page gaps after the header and after RELRO */
    {"/usr/lib/chromium/chromium", 1, {0, 0, 0x7000, 0x5000, 0x800, 0x2800}},
    /* non-PIE linked at 0x400000 (node): gaps of one and two pages between text segments */
    {"/usr/bin/node", 1, {0x400000, 0, 0x409000, 0x7000, 0x100, 0x3000}},
    /* -z separate-code with 2 MiB alignment, a 16 KiB .bss */
    {"/opt/sep", 1, {0, 0, 0x600000, 0x3000, 0x100, 0x4000}},
    /* a span that reaches far: only IMAGE_LOOKAHEAD regions past the run are looked at */
    {"/opt/far", 1, {0, 0, 0x100000000ull, 0x2000, 0x100, 0x1000}},
    {"/opt/unreadable", -1, {0}},
};

static int fake_elf_load(void *cookie, const char *path, struct vms_elf_load *out)
{
	int *calls = cookie;
	++*calls;
	for (size_t k = 0; k < sizeof fakes / sizeof fakes[0]; k++)
		if (!strcmp(fakes[k].path, path)) {
			*out = fakes[k].load;
			return fakes[k].rc;
		}
	return -1;
}

static int fake_is_elf(void *cookie, const char *path)
{
	(void)cookie;
	return strncmp(path, "/data/", 6) != 0;
}

static struct vms_classify_ctx ctx_for(int *calls)
{
	return (struct vms_classify_ctx){.heap_max = 64u << 20,
	                                 .main_tid = 1,
	                                 .is_elf = fake_is_elf,
	                                 .elf_load = fake_elf_load,
	                                 .cookie = calls};
}

/* Feed text to the parser one line at a time, classifying after each line; 1 when all went well. */
static int feed_lines(struct vms_snapshot *s, const char *text, const struct vms_classify_ctx *ctx)
{
	struct vms_smaps_parser *p = vms_smaps_parser_new(s);
	struct vms_classifier *cl = vms_classifier_new(s, ctx);
	size_t used = 0, n = strlen(text);
	int ok = p && cl;
	for (size_t k = 0; ok && k < n; k++)
		if (text[k] == '\n') {
			used += vms_smaps_parser_feed(p, text + used, k + 1 - used, 0);
			vms_smaps_parser_expose(p);
			ok = vms_classifier_feed(cl, 0) == VMS_OK;
		}
	if (ok) {
		vms_smaps_parser_feed(p, text + used, n - used, 1);
		ok = vms_smaps_parser_finish(p) == VMS_OK;
		p = NULL;
		ok = ok && vms_classifier_finish(cl) == VMS_OK;
		cl = NULL;
	}
	vms_classifier_abort(cl);
	vms_smaps_parser_abort(p);
	return ok;
}

/* text as a 64-bit process, parsed and classified in one go, or (one_line_at_a_time) the same
 * text fed one line at a time, classifying after each line. NULL on any error. */
static struct vms_snapshot *classified(const char *text, int *calls, int one_line_at_a_time)
{
	struct vms_snapshot *s = vms_snapshot_new();
	if (!s)
		return NULL;
	s->arch.bits = 64;
	s->page_size = 4096;
	struct vms_classify_ctx ctx = ctx_for(calls);
	int ok = one_line_at_a_time
	             ? feed_lines(s, text, &ctx)
	             : vms_smaps_parse(s, text, strlen(text)) == VMS_OK && vms_classify(s, &ctx) == VMS_OK;
	if (!ok) {
		vms_snapshot_free(s);
		return NULL;
	}
	return s;
}

static char text[64 * 1024];
static size_t len;

static void line(uint64_t start, uint64_t end, const char *perms, uint64_t off, unsigned inode,
                 const char *path)
{
	len += (size_t)snprintf(text + len, sizeof text - len, "%llx-%llx %s %08llx %s %u %s\n",
	                        (unsigned long long)start, (unsigned long long)end, perms,
	                        (unsigned long long)off, inode ? "08:01" : "00:00", inode, path ? path : "");
}

static const char *role_at(const struct vms_snapshot *s, uint64_t addr)
{
	for (size_t i = 0; i < s->n_regions; i++)
		if (s->regions[i].start <= addr && addr < s->regions[i].end)
			return s->regions[i].role ? s->regions[i].role : "(none)";
	return "(no region)";
}

static void check_alloc(const struct vms_snapshot *s, uint64_t start, uint64_t end, enum vms_type type,
                        uint32_t n_regions, const char *what)
{
	const struct vms_allocation *a = fixture_alloc_at(s, start);
	if (!a || a->end != end || a->type != type || a->n_regions != n_regions)
		fprintf(stderr,
		        "%s: allocation at %llx: %s end %llx type %d regions %u; want end %llx type %d "
		        "regions %u\n",
		        what, (unsigned long long)start, a ? "" : "(none)",
		        a ? (unsigned long long)a->end : 0ull, a ? (int)a->type : -1, a ? a->n_regions : 0u,
		        (unsigned long long)end, (int)type, n_regions);
	CHECK(a && a->end == end && a->type == type && a->n_regions == n_regions);
}

static void build_text(void)
{
	len = 0;
	/* node-like at 0x400000: an anonymous PROT_NONE page mapped into the first gap, an
	 * anonymous rw-p page into the second; its .bss; [heap] (a remapped copy of its text comes last) */
	const char *nd = "/usr/bin/node";
	line(0x400000, 0x402000, "r--p", 0, 44, nd);
	line(0x402000, 0x403000, "r-xp", 0x2000, 44, nd);
	line(0x403000, 0x404000, "---p", 0, 0, NULL);
	line(0x404000, 0x406000, "r-xp", 0x4000, 44, nd);
	line(0x407000, 0x408000, "rw-p", 0, 0, NULL);
	line(0x408000, 0x409000, "r--p", 0x6000, 44, nd);
	line(0x409000, 0x40a000, "rw-p", 0x7000, 44, nd);
	line(0x40a000, 0x40c000, "rw-p", 0, 0, NULL);
	line(0x500000, 0x520000, "rw-p", 0, 0, "[heap]");

	/* chromium-like: header, gap, text, RELRO, gap, data, .bss (anonymous) */
	const char *c = "/usr/lib/chromium/chromium";
	line(B(0), B(0) + 0x2000, "r--p", 0, 33, c);
	line(B(0) + 0x3000, B(0) + 0x5000, "r-xp", 0x2000, 33, c);
	line(B(0) + 0x5000, B(0) + 0x6000, "r--p", 0x4000, 33, c);
	line(B(0) + 0x7000, B(0) + 0x8000, "rw-p", 0x5000, 33, c);
	line(B(0) + 0x8000, B(0) + 0xa000, "rw-p", 0, 0, NULL);
	line(B(0) + 0xa000, B(0) + 0x10000, "rw-p", 0, 0, NULL); /* someone else's, after the span */

	/* -z separate-code, 2 MiB alignment: every segment 2 MiB apart, nothing in the gaps */
	const char *sp = "/opt/sep";
	line(B(1), B(1) + 0x1000, "r--p", 0, 55, sp);
	line(B(1) + 0x200000, B(1) + 0x201000, "r-xp", 0x1000, 55, sp);
	line(B(1) + 0x400000, B(1) + 0x401000, "r--p", 0x2000, 55, sp);
	line(B(1) + 0x600000, B(1) + 0x601000, "rw-p", 0x3000, 55, sp);
	line(B(1) + 0x601000, B(1) + 0x604000, "rw-p", 0, 0, NULL);

	/* the same layout, but another file mapped inside the span: the image stops before it */
	line(B(2), B(2) + 0x1000, "r--p", 0, 56, sp);
	line(B(2) + 0x200000, B(2) + 0x201000, "r-xp", 0x1000, 56, sp);
	line(B(2) + 0x300000, B(2) + 0x301000, "r--p", 0, 99, "/data/other");
	line(B(2) + 0x400000, B(2) + 0x401000, "r--p", 0x2000, 56, sp);

	/* unreadable ELF: today's rule, each contiguous run on its own */
	const char *u = "/opt/unreadable";
	line(B(3), B(3) + 0x1000, "r--p", 0, 57, u);
	line(B(3) + 0x2000, B(3) + 0x3000, "r-xp", 0x1000, 57, u);

	/* a span far beyond: 70 anonymous regions before the next segment of the file */
	const char *f = "/opt/far";
	line(B(4), B(4) + 0x1000, "r--p", 0, 58, f);
	line(B(4) + 0x1000, B(4) + 0x2000, "r-xp", 0x1000, 58, f);
	for (int k = 0; k < 70; k++)
		line(B(4) + 0x10000 + (uint64_t)k * 0x2000, B(4) + 0x11000 + (uint64_t)k * 0x2000, "rw-p", 0,
		     0, NULL);
	line(B(4) + 0x100000, B(4) + 0x101000, "rw-p", 0x2000, 58, f);

	/* node's remapped text copy far away, and a trailing region so the stream has an end */
	line(B(6), B(6) + 0x1000, "r-xp", 0x4000, 44, nd);
	line(B(7), B(7) + 0x1000, "rw-p", 0, 0, NULL);
}

static void check_snapshot(const struct vms_snapshot *s, const char *what)
{
	/* chromium: one image of 5 regions over [0, a000), the gaps are Free, data and .bss are Image */
	check_alloc(s, B(0), B(0) + 0xa000, VMS_TYPE_IMAGE, 5, what);
	CHECK_STR(role_at(s, B(0) + 0x7000), "data");
	CHECK_STR(role_at(s, B(0) + 0x8000), "bss");
	check_alloc(s, B(0) + 0xa000, B(0) + 0x10000, VMS_TYPE_PRIVATE_DATA, 1, what);
	/* node: 7 regions, the anonymous ones in its gaps are its hole and gap */
	check_alloc(s, 0x400000, 0x40c000, VMS_TYPE_IMAGE, 8, what);
	CHECK_STR(role_at(s, 0x403000), "hole");
	CHECK_STR(role_at(s, 0x407000), "gap");
	CHECK_STR(role_at(s, 0x40a000), "bss");
	check_alloc(s, 0x500000, 0x520000, VMS_TYPE_HEAP, 1, what);
	/* separate-code: one image over 6 MiB + 16 KiB, 5 regions */
	check_alloc(s, B(1), B(1) + 0x604000, VMS_TYPE_IMAGE, 5, what);
	/* a foreign file inside the span ends the image; what follows it is an image on its own */
	check_alloc(s, B(2), B(2) + 0x201000, VMS_TYPE_IMAGE, 2, what);
	check_alloc(s, B(2) + 0x300000, B(2) + 0x301000, VMS_TYPE_MAPPED_FILE, 1, what);
	check_alloc(s, B(2) + 0x400000, B(2) + 0x401000, VMS_TYPE_MAPPED_FILE, 1, what);
	/* unreadable: split as before */
	check_alloc(s, B(3), B(3) + 0x1000, VMS_TYPE_IMAGE, 1, what);
	check_alloc(s, B(3) + 0x2000, B(3) + 0x3000, VMS_TYPE_IMAGE, 1, what);
	/* far: the look-ahead gives up after IMAGE_LOOKAHEAD regions */
	check_alloc(s, B(4), B(4) + 0x2000, VMS_TYPE_IMAGE, 2, what);
	check_alloc(s, B(4) + 0x10000, B(4) + 0x11000, VMS_TYPE_PRIVATE_DATA, 1, what);
	/* the remapped copy is not part of the image at 0x400000 */
	check_alloc(s, B(6), B(6) + 0x1000, VMS_TYPE_IMAGE, 1, what);
	/* the allocations tile the regions */
	size_t regs = 0;
	for (size_t i = 0; i < s->n_allocations; i++) {
		CHECK(s->allocations[i].first_region == regs);
		regs += s->allocations[i].n_regions;
	}
	CHECK_EQ_U64(regs, s->n_regions);
}

int main(void)
{
	build_text();
	int calls = 0;
	struct vms_snapshot *a = classified(text, &calls, 0);
	CHECK(a != NULL);
	if (a)
		check_snapshot(a, "batch");
	/* one elf_load per image that starts at offset 0 or has a .bss candidate, never twice */
	int batch_calls = calls;
	calls = 0;
	struct vms_snapshot *b = classified(text, &calls, 1);
	CHECK(b != NULL);
	if (b)
		check_snapshot(b, "streamed");
	CHECK_EQ_U64(calls, batch_calls);
	CHECK(a && b && a->n_allocations == b->n_allocations);
	for (size_t i = 0; a && b && i < a->n_allocations && i < b->n_allocations; i++)
		CHECK(a->allocations[i].start == b->allocations[i].start &&
		      a->allocations[i].end == b->allocations[i].end &&
		      a->allocations[i].type == b->allocations[i].type);

	/* without the callback (saved text): each contiguous run on its own, as before */
	struct vms_snapshot *c = vms_snapshot_new();
	CHECK(c != NULL);
	if (c) {
		c->page_size = 4096;
		struct vms_classify_ctx ctx = {.main_tid = 1, .is_elf = fake_is_elf};
		CHECK(vms_smaps_parse(c, text, strlen(text)) == VMS_OK && vms_classify(c, &ctx) == VMS_OK);
		check_alloc(c, B(0), B(0) + 0x2000, VMS_TYPE_IMAGE, 1, "no callback");
	}
	vms_snapshot_free(a);
	vms_snapshot_free(b);
	vms_snapshot_free(c);
	TEST_MAIN_END();
}
