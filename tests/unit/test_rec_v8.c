/* The "v8" recogniser on a saved node 20 (V8 11.3) process: tests/fixtures/node20.smaps and the
 * bytes it would read, tests/fixtures/node20.peek (both made by tests/fixtures/make-node20.py).
 * With reads: the pages are named by space, a merged VMA of two pages is walked into parts, the
 * code range is one allocation with the embedded builtins; without reads: "space unknown"; without
 * a V8 image: nothing is claimed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../server/core/attribute.h"
#include "fixture.h"
#include "test.h"
#include "vmscope/parse.h"
#include "vmscope/snapshot.h"

#define MIB (1024ull * 1024)

/* The saved bytes: "ADDR HEX" lines. */
struct saved {
	uint64_t addr;
	unsigned char bytes[0x60];
	size_t len;
};
struct peek_file {
	struct saved *v;
	size_t n;
	unsigned reads;
};

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static void load_peek(struct peek_file *pf)
{
	size_t len;
	char *text = fixture_load("node20.peek", &len);
	pf->v = calloc(256, sizeof *pf->v);
	pf->n = 0;
	for (char *line = strtok(text, "\n"); line && pf->n < 256; line = strtok(NULL, "\n")) {
		struct saved *sv = &pf->v[pf->n];
		char *sp = strchr(line, ' ');
		if (!sp)
			continue;
		sv->addr = strtoull(line, NULL, 16);
		for (char *h = sp + 1; h[0] && h[1] && sv->len < sizeof sv->bytes; h += 2)
			sv->bytes[sv->len++] = (unsigned char)(hexval(h[0]) << 4 | hexval(h[1]));
		pf->n++;
	}
	free(text);
}

static int reader(void *cookie, uint64_t addr, void *buf, size_t len)
{
	struct peek_file *pf = cookie;
	for (size_t k = 0; k < pf->n; k++)
		if (addr >= pf->v[k].addr && addr + len <= pf->v[k].addr + pf->v[k].len) {
			memcpy(buf, pf->v[k].bytes + (addr - pf->v[k].addr), len);
			pf->reads++;
			return 0;
		}
	return -1;
}

static struct vms_snapshot *parse_classify(const char *rename_node)
{
	size_t len;
	char *text = fixture_load("node20.smaps", &len);
	struct vms_snapshot *s = vms_snapshot_new();
	CHECK(vms_smaps_parse(s, text, len) == VMS_OK);
	free(text);
	if (rename_node)
		for (size_t i = 0; i < s->n_regions; i++)
			if (s->regions[i].path && !strcmp(s->regions[i].path, "/usr/bin/node"))
				s->regions[i].path = rename_node;
	s->arch.bits = 64;
	s->arch.machine = "x86_64";
	s->mmap_min_addr = 0x10000;
	s->user_top = 0x7ffffffff000ull;
	struct vms_classify_ctx ctx = {.heap_max = 64u << 20, .main_tid = 100};
	CHECK(vms_classify(s, &ctx) == VMS_OK);
	return s;
}

static unsigned count(const struct vms_snapshot *s, const char *details, uint64_t *committed)
{
	unsigned n = 0;
	for (size_t a = 0; a < s->n_allocations; a++)
		if (s->allocations[a].details && !strcmp(s->allocations[a].details, details)) {
			n++;
			if (committed)
				*committed += s->allocations[a].cols[VMS_COL_COMMITTED];
		}
	return n;
}

static const struct vms_allocation *code_range(const struct vms_snapshot *s, unsigned *n)
{
	const struct vms_allocation *r = NULL;
	*n = 0;
	for (size_t a = 0; a < s->n_allocations; a++)
		if (s->allocations[a].details && !strncmp(s->allocations[a].details, "V8 code range", 13))
			r = &s->allocations[a], ++*n;
	return r;
}

static const struct vms_recogniser_run *v8_run(const struct vms_snapshot *s)
{
	for (size_t k = 0; k < s->n_recognisers; k++)
		if (!strcmp(s->recognisers[k].key, "v8"))
			return &s->recognisers[k];
	return NULL;
}

/* The code range: one Managed Heap allocation of 512 MiB holding the remapped builtins. */
static void check_code_range(const struct vms_snapshot *s)
{
	unsigned n;
	const struct vms_allocation *cr = code_range(s, &n);
	CHECK(n == 1);
	if (!cr)
		return;
	CHECK(cr->type == VMS_TYPE_MANAGED_HEAP);
	CHECK_EQ_U64(cr->end - cr->start, 512 * MIB);
	CHECK_STR(cr->owner, "v8");
	unsigned builtins = 0;
	for (uint32_t k = 0; k < cr->n_regions; k++) {
		const struct vms_region *r = &s->regions[cr->first_region + k];
		CHECK(r->type == VMS_TYPE_MANAGED_HEAP);
		if (r->path && !strcmp(r->path, "/usr/bin/node")) {
			builtins++;
			CHECK_STR(r->role, "embedded builtins");
			CHECK_STR(r->perms, "r-xp");
		}
	}
	CHECK(builtins == 1);
	/* no Image allocation anywhere in it, and the executable's own image untouched */
	for (size_t a = 0; a < s->n_allocations; a++)
		if (s->allocations[a].type == VMS_TYPE_IMAGE)
			CHECK(s->allocations[a].start >= cr->end || s->allocations[a].end <= cr->start);
	CHECK(count(s, "/usr/bin/node", NULL) >= 1);
}

static void test_with_reads(void)
{
	struct peek_file pf;
	load_peek(&pf);
	struct vms_snapshot *s = parse_classify(NULL);
	int changed = 0;
	CHECK(vms_attribute_with(s, reader, &pf, &changed) == VMS_OK);
	CHECK(changed == 1);
	CHECK(pf.reads > 0);
	check_code_range(s);

	uint64_t old = 0, lo = 0;
	CHECK(count(s, "V8 heap page (new space)", NULL) == 3);
	CHECK(count(s, "V8 heap page (old space)", &old) == 4); /* 3 x 256 KiB + one shrunk to 224 KiB */
	CHECK_EQ_U64(old, 3 * 256 * 1024 + 224 * 1024);
	CHECK(count(s, "V8 large-object page (large-object space)", &lo) == 4);
	CHECK_EQ_U64(lo, 3 * 2352 * 1024 + 264 * 1024);
	CHECK(count(s, "V8 heap page (read-only space)", NULL) == 1);
	CHECK(count(s, "V8 heap page (space unknown)", NULL) == 0);

	/* the VMA the kernel merged from two old-space pages: one allocation, a part per page */
	const struct vms_allocation *m = NULL;
	for (size_t a = 0; a < s->n_allocations; a++)
		if (s->allocations[a].start == 0x100000000000ull)
			m = &s->allocations[a];
	CHECK(m != NULL);
	if (m) {
		CHECK_STR(m->details, "V8 heap pages x2 (old space, merged by the kernel)");
		CHECK(m->type == VMS_TYPE_MANAGED_HEAP);
		CHECK_STR(m->signal, "page header read");
		CHECK(!m->guess);
		unsigned parts = 0;
		for (size_t p = 0; p < s->n_parts; p++)
			if (s->parts[p].allocation == (uint32_t)(m - s->allocations)) {
				CHECK_EQ_U64(s->parts[p].end - s->parts[p].start, 256 * 1024);
				CHECK_STR(s->parts[p].details, "V8 heap page (old space)");
				parts++;
			}
		CHECK(parts == 2);
	}
	/* the cppgc GCInfo table: runtime metadata, named as a guess */
	uint64_t gc = 0;
	CHECK(count(s, "cppgc GCInfo table (V8 type-info table, 512 KiB reserved) (guess)", &gc) == 1);
	CHECK_EQ_U64(gc, 16 * 1024);
	for (size_t a = 0; a < s->n_allocations; a++)
		if (s->allocations[a].details && strstr(s->allocations[a].details, "GCInfo"))
			CHECK(s->allocations[a].guess == 1 &&
			      s->allocations[a].type == VMS_TYPE_PRIVATE_DATA);

	/* every Managed Heap byte is V8's, and the summary row says so */
	uint64_t mh = 0;
	for (size_t a = 0; a < s->n_allocations; a++)
		if (s->allocations[a].type == VMS_TYPE_MANAGED_HEAP) {
			CHECK_STR(s->allocations[a].owner, "v8");
			mh += s->allocations[a].cols[VMS_COL_COMMITTED];
		}
	CHECK_EQ_U64(s->summary[VMS_TYPE_MANAGED_HEAP].cols[VMS_COL_COMMITTED], mh);
	const struct vms_recogniser_run *run = v8_run(s);
	CHECK(run && run->read_memory == 1 && run->note && strstr(run->note, "page headers read"));
	vms_snapshot_free(s);
	free(pf.v);
}

static void test_without_reads(void)
{
	struct vms_snapshot *s = parse_classify(NULL);
	int changed = 0;
	CHECK(vms_attribute_with(s, NULL, NULL, &changed) == VMS_OK);
	check_code_range(s);
	/* 3 new + 4 old + 4 large + 1 read-only, each its own VMA; the merged VMA says its size */
	CHECK(count(s, "V8 heap page (space unknown)", NULL) == 12);
	CHECK(count(s, "V8 heap page(s) (space unknown, 512 KiB)", NULL) == 1);
	CHECK(count(s, "V8 heap page (old space)", NULL) == 0);
	for (size_t a = 0; a < s->n_allocations; a++)
		if (s->allocations[a].details && strstr(s->allocations[a].details, "space unknown"))
			CHECK(s->allocations[a].type == VMS_TYPE_MANAGED_HEAP && s->allocations[a].signal &&
			      !strncmp(s->allocations[a].signal, "geometry", 8));
	const struct vms_recogniser_run *run = v8_run(s);
	CHECK(run && run->read_memory == 0 && run->note && strstr(run->note, "geometry only"));
	vms_snapshot_free(s);
}

/* The same memory without a V8 image: "dc nr" 256 KiB pages alone are not enough. */
static void test_no_image(void)
{
	struct vms_snapshot *s = parse_classify("/usr/bin/other");
	int changed = 0;
	CHECK(vms_attribute_with(s, NULL, NULL, &changed) == VMS_OK);
	for (size_t a = 0; a < s->n_allocations; a++)
		CHECK(s->allocations[a].type != VMS_TYPE_MANAGED_HEAP);
	const struct vms_recogniser_run *run = v8_run(s);
	CHECK(run && run->claimed == 0 && run->note == NULL);
	vms_snapshot_free(s);
}

int main(void)
{
	test_with_reads();
	test_without_reads();
	test_no_image();
	TEST_MAIN_END();
}
