/* Exporters: the VMMap-style CSV (layout, RFC 4180 quoting of hostile names, formula guard)
 * and the text reports (escaping of control characters, aligned summary, tree layout, diff). */
#include <stdint.h>

#include "handmade_snapshot.h"
#include "test.h"
#include "vmscope/diff.h"
#include "vmscope/export.h"

/* ---- a strict RFC 4180 reader for the tests: every field quoted, CRLF records ---------- */

#define MAX_RECS 128
#define MAX_FIELDS 20

struct rec {
	int nf;
	char *f[MAX_FIELDS];
};

/* Returns the number of records, or -1 if the text is not strict quoted CSV. Fields are
 * malloc'd; free with recs_free. */
static int csv_read(const char *t, struct rec *recs)
{
	int n = 0;
	while (*t) {
		if (n == MAX_RECS)
			return -1;
		struct rec *r = &recs[n++];
		r->nf = 0;
		if (t[0] == '\r' && t[1] == '\n') { /* blank line */
			t += 2;
			continue;
		}
		for (;;) {
			if (*t != '"' || r->nf == MAX_FIELDS)
				return -1;
			t++;
			size_t cap = strlen(t) + 1, len = 0;
			char *f = malloc(cap);
			for (;;) {
				if (!*t) {
					free(f);
					return -1;
				}
				if (*t == '"') {
					if (t[1] == '"') {
						f[len++] = '"';
						t += 2;
						continue;
					}
					t++;
					break;
				}
				f[len++] = *t++;
			}
			f[len] = '\0';
			r->f[r->nf++] = f;
			if (*t == ',') {
				t++;
				continue;
			}
			if (t[0] == '\r' && t[1] == '\n') {
				t += 2;
				break;
			}
			return -1;
		}
	}
	return n;
}

static void recs_free(struct rec *recs, int n)
{
	for (int i = 0; i < n; i++)
		for (int k = 0; k < recs[i].nf; k++)
			free(recs[i].f[k]);
}

static uint64_t kib(uint64_t b)
{
	return (b + 512) / 1024;
}

static const char *u64s(uint64_t v)
{
	static char buf[4][32];
	static int k;
	k = (k + 1) % 4;
	snprintf(buf[k], sizeof buf[k], "%" PRIu64, v);
	return buf[k];
}

static void test_csv(void)
{
	struct vms_snapshot *s = hs_demo();
	struct rec recs[MAX_RECS];
	char *t;
	size_t len;

	CHECK(vms_export_csv(s, &t, &len) == VMS_OK);
	CHECK_EQ_U64(len, strlen(t));
	CHECK(strncmp(t, "\"Process:\",\"demo\"\r\n\"PID:\",\"4242\"\r\n", 33) == 0);
	/* the hostile path: comma kept, quotes doubled, newline kept inside the quotes */
	CHECK(strstr(t, "\"/tmp/we,ird \"\"name\"\"\nFAKE LINE\x1b[31m.bin\"\r\n") != NULL);

	int n = csv_read(t, recs);
	CHECK(n > 0);
	if (n <= 0) {
		free(t);
		vms_snapshot_free(s);
		return;
	}
	/* 7 header rows, blank, summary header + Total + 11 types, blank, details header,
	 * 7 allocations + 3 image regions + 2 stack regions */
	CHECK(n == 7 + 1 + 2 + VMS_TYPE_COUNT + 1 + 1 + 7 + 3 + 2);
	CHECK_STR(recs[2].f[0], "Host:");
	CHECK_STR(recs[4].f[0], "Taken at:");
	CHECK_STR(recs[4].f[1], "2026-11-22T06:10:00.123Z");
	CHECK_STR(recs[5].f[1], "x86_64 (64-bit)");
	/* the 7th header row: Total WS and how it relates to ps RSS */
	CHECK_STR(recs[6].f[0], "Total WS:");
	char ws[64];
	snprintf(ws, sizeof ws, "%s KiB ", u64s(kib(s->total[VMS_COL_TOTAL_WS])));
	CHECK(strncmp(recs[6].f[1], ws, strlen(ws)) == 0 && strstr(recs[6].f[1], "page tables"));
	CHECK(recs[7].nf == 0);
	CHECK(recs[8].nf == 14);
	CHECK_STR(recs[8].f[0], "Type");
	CHECK_STR(recs[8].f[8], "Locked WS");
	CHECK_STR(recs[8].f[13], "Largest");
	CHECK_STR(recs[9].f[0], "Total");
	CHECK_STR(recs[9].f[1], u64s(kib(s->total[VMS_COL_SIZE])));
	CHECK_STR(recs[9].f[4], u64s(kib(s->total[VMS_COL_TOTAL_WS])));
	CHECK_STR(recs[9].f[12], "8"); /* 7 allocations + the page-table row */
	for (int ty = 0; ty < VMS_TYPE_COUNT; ty++) {
		struct rec *r = &recs[10 + ty];
		CHECK(r->nf == 14);
		CHECK_STR(r->f[0], vms_type_name((enum vms_type)ty));
		CHECK_STR(r->f[3], u64s(kib(s->summary[ty].cols[VMS_COL_PRIVATE])));
		CHECK_STR(r->f[12], u64s(s->summary[ty].blocks));
		CHECK_STR(r->f[13], u64s(kib(s->summary[ty].largest)));
	}
	CHECK_STR(recs[10 + VMS_TYPE_FREE].f[12], "7");
	CHECK_STR(recs[10 + VMS_TYPE_FREE].f[13], u64s(kib((1ULL << 56) - 0x7ffffc000000ULL)));
	int d = 10 + VMS_TYPE_COUNT;
	CHECK(recs[d].nf == 0);
	d++;
	CHECK(recs[d].nf == 16);
	CHECK_STR(recs[d].f[0], "Address");
	CHECK_STR(recs[d].f[14], "Protection");
	CHECK_STR(recs[d].f[15], "Details");
	/* image with its three sub-blocks */
	CHECK_STR(recs[d + 1].f[0], "0x555555554000");
	CHECK_STR(recs[d + 1].f[1], "Image");
	CHECK_STR(recs[d + 1].f[2], "32");
	CHECK_STR(recs[d + 1].f[13], "3");
	CHECK_STR(recs[d + 1].f[14], "r--p/r-xp/rw-p");
	CHECK_STR(recs[d + 1].f[15], "/usr/bin/demo");
	CHECK_STR(recs[d + 2].f[0], "  0x555555554000");
	CHECK_STR(recs[d + 3].f[0], "  0x555555556000");
	CHECK_STR(recs[d + 3].f[14], "r-xp");
	CHECK_STR(recs[d + 3].f[15], "text");
	CHECK_STR(recs[d + 3].f[13], "");
	/* single-region allocations have no sub-block row */
	CHECK_STR(recs[d + 5].f[0], "0x55555555c000");
	CHECK_STR(recs[d + 5].f[15], "[heap]");
	CHECK_STR(recs[d + 6].f[0], "0x7f0000000000");
	CHECK_STR(recs[d + 6].f[15], HS_HOSTILE_PATH); /* exact after unquoting */
	CHECK_STR(recs[d + 7].f[0], "0x7f0000100000");
	CHECK_STR(recs[d + 7].f[14], "---p/rw-p"); /* perms are ours: no formula guard */
	CHECK_STR(recs[d + 8].f[14], "---p");
	CHECK_STR(recs[d + 8].f[15], "guard");
	CHECK_STR(recs[d + 9].f[2], "8192");
	CHECK_STR(recs[n - 1].f[1], "Reserved");
	CHECK_STR(recs[n - 1].f[15], "");
	recs_free(recs, n);
	free(t);
	vms_snapshot_free(s);

	/* formula guard on names and details */
	s = hs_new(77, "=HYPERLINK(\"http://x\")");
	hs_region(s, 0x10000, 0x11000, "rw-p", NULL, 0);
	hs_alloc(s, VMS_TYPE_PRIVATE_DATA, "+SUM(A1)", 0);
	hs_region(s, 0x20000, 0x21000, "r--p", "/data/-rf", 0);
	hs_region(s, 0x21000, 0x22000, "r--p", "@import", 0);
	hs_alloc(s, VMS_TYPE_MAPPED_FILE, "/data/-rf", 0);
	hs_finish(s);
	CHECK(vms_export_csv(s, &t, &len) == VMS_OK);
	n = csv_read(t, recs);
	CHECK(n == 7 + 1 + 2 + VMS_TYPE_COUNT + 1 + 1 + 2 + 2);
	if (n > 0) {
		CHECK_STR(recs[0].f[1], "'=HYPERLINK(\"http://x\")");
		CHECK_STR(recs[n - 4].f[15], "'+SUM(A1)");
		CHECK_STR(recs[n - 3].f[15], "/data/-rf");
		CHECK_STR(recs[n - 2].f[15], "");         /* same path as the allocation */
		CHECK_STR(recs[n - 1].f[15], "'@import"); /* its own path */
		recs_free(recs, n);
	}
	free(t);
	vms_snapshot_free(s);
}

/* ---- text report ------------------------------------------------------------------- */

/* Copy of line number k (0-based) of t, without the newline. */
static char *line_at(const char *t, int k)
{
	for (; k > 0 && t; k--) {
		t = strchr(t, '\n');
		if (t)
			t++;
	}
	if (!t)
		return NULL;
	size_t n = strcspn(t, "\n");
	char *l = malloc(n + 1);
	memcpy(l, t, n);
	l[n] = '\0';
	return l;
}

static int find_line(const char *t, const char *prefix)
{
	int k = 0;
	for (const char *p = t; p; k++) {
		if (strncmp(p, prefix, strlen(prefix)) == 0)
			return k;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -1;
}

static void test_text(void)
{
	struct vms_snapshot *s = hs_demo();
	char *t;
	size_t len;

	CHECK(vms_export_text(s, &t, &len) == VMS_OK);
	CHECK_EQ_U64(len, strlen(t));
	/* hostile names are escaped: no raw control bytes at all, no forged line */
	CHECK(strstr(t, "/tmp/we,ird \"name\"\\nFAKE LINE\\x1b[31m.bin") != NULL);
	CHECK(strstr(t, "worker\\x1b]0;pwned\\x07") != NULL);
	int ctl = 0;
	for (const char *p = t; *p; p++)
		if (((unsigned char)*p < 0x20 && *p != '\n') || *p == 0x7f)
			ctl++;
	CHECK(ctl == 0);
	CHECK(find_line(t, "FAKE") < 0);

	CHECK(strstr(t, "Process:      demo\n") != NULL);
	CHECK(strstr(t, "Command line: demo --flag value\n") != NULL);
	CHECK(strstr(t, "Architecture: x86_64 (64-bit)\n") != NULL);
	CHECK(strstr(t, "Taken at:     2026-11-22T06:10:00.123Z\n") != NULL);

	/* summary: header, one row per type, Total; right-aligned, so every line has one length */
	int h = find_line(t, "Type ");
	CHECK(h > 0);
	char *head = line_at(t, h);
	CHECK(head && strstr(head, "Blocks") && strstr(head, "Largest"));
	for (int k = 1; k <= VMS_TYPE_COUNT + 1 && head; k++) {
		char *l = line_at(t, h + k);
		CHECK(l && strlen(l) == strlen(head));
		if (k == VMS_TYPE_COUNT + 1)
			CHECK(l && strncmp(l, "Total ", 6) == 0);
		free(l);
	}
	free(head);
	/* Free row: size, gap count and largest gap, in human units (not a 12-digit KiB number),
	 * and nothing else */
	char *fl = line_at(t, find_line(t, "Free "));
	if (fl) {
		char name[16], su[8], lu[8], extra[8];
		double size, largest;
		unsigned long long blocks;
		CHECK(sscanf(fl, "%15s %lf %7s %llu %lf %7s %7s", name, &size, su, &blocks, &largest, lu,
		             extra) == 6);
		CHECK(!strcmp(su, "PiB") && !strcmp(lu, "PiB"));
		double want = (double)s->summary[VMS_TYPE_FREE].cols[VMS_COL_SIZE] / (double)(1ULL << 50);
		CHECK(size > want * 0.995 && size < want * 1.005);
		CHECK_EQ_U64(blocks, 7);
		want = (double)((1ULL << 56) - 0x7ffffc000000ULL) / (double)(1ULL << 50);
		CHECK(largest > want * 0.995 && largest < want * 1.005);
		CHECK(strlen(fl) < 200);
	}
	CHECK(fl != NULL);
	free(fl);
	/* Heap row values */
	char *hl = line_at(t, find_line(t, "Heap "));
	if (hl) {
		unsigned long long v[13];
		CHECK(sscanf(hl, "Heap %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
		             &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9], &v[10],
		             &v[11], &v[12]) == 13);
		CHECK_EQ_U64(v[0], 132);
		CHECK_EQ_U64(v[3], 64);
		CHECK_EQ_U64(v[11], 1);
	}
	free(hl);

	/* allocation tree: regions indented under their allocation */
	int a = find_line(t, "0x555555554000  ");
	CHECK(a > 0);
	char *l1 = line_at(t, a + 1), *l2 = line_at(t, a + 2);
	CHECK(l1 && strncmp(l1, "  0x555555554000  Image", 23) == 0 && strstr(l1, "header"));
	CHECK(l2 && strncmp(l2, "  0x555555556000  Image", 23) == 0 && strstr(l2, "r-xp") &&
	      strstr(l2, "text"));
	free(l1);
	free(l2);
	CHECK(find_line(t, "0x55555555c000    Heap") > 0);
	free(t);
	vms_snapshot_free(s);
}

/* Issue 12: the allocation rows carry Dirty (as pmap -x), a line after the summary states how
 * Total WS relates to ps RSS (equality when VmRSS + VmPTE add up, else says they were read apart),
 * and --units human writes every size in human units. */
static void test_text_dirty_relation_units(void)
{
	struct vms_snapshot *s = hs_demo();
	char *t = NULL, want[256];
	size_t len;

	CHECK(vms_export_text(s, &t, &len) == VMS_OK);
	int h = t ? find_line(t, "Address ") : -1;
	char *head = h >= 0 ? line_at(t, h) : NULL;
	CHECK(head && strstr(head, "Total WS  Dirty  Protection"));
	/* the heap allocation's Dirty cell is its own dirty KiB, right under the header's "Dirty" */
	int hl = find_line(t, "0x55555555c000    Heap");
	char *row = hl > 0 ? line_at(t, hl) : NULL;
	const struct vms_allocation *heap = NULL;
	for (size_t i = 0; i < s->n_allocations; i++)
		if (s->allocations[i].start == 0x55555555c000ULL)
			heap = &s->allocations[i];
	if (head && row && heap) {
		size_t end = (size_t)(strstr(head, "  Dirty") - head) + strlen("  Dirty");
		snprintf(want, sizeof want, " %s", u64s(kib(heap->cols[VMS_COL_DIRTY])));
		CHECK(strlen(row) > end && strncmp(row + end - strlen(want), want, strlen(want)) == 0);
		CHECK(heap->cols[VMS_COL_DIRTY] > 0);
	}
	CHECK(row != NULL && heap != NULL);
	free(row);
	free(head);
	/* no VmRSS in the handmade snapshot: the sentence says only that Total WS has page tables */
	snprintf(want, sizeof want, "\nTotal WS %s KiB includes the page tables (%s KiB, the Page Table row)",
	         u64s(kib(s->total[VMS_COL_TOTAL_WS])),
	         u64s(kib(s->summary[VMS_TYPE_PAGE_TABLE].cols[VMS_COL_TOTAL_WS])));
	CHECK_MSG(t && strstr(t, want), "lacks \"%s\"", want + 1);
	free(t);
	/* with VmRSS that adds up: an equality; off by a page: "read a moment apart" */
	s->status.vm_rss =
	    s->total[VMS_COL_TOTAL_WS] - s->summary[VMS_TYPE_PAGE_TABLE].cols[VMS_COL_TOTAL_WS];
	CHECK(vms_export_text(s, &t, &len) == VMS_OK);
	snprintf(
	    want, sizeof want,
	    "Total WS %s KiB = ps RSS %s KiB (VmRSS) + page tables %s KiB (VmPTE, the Page Table row).\n",
	    u64s(kib(s->total[VMS_COL_TOTAL_WS])), u64s(kib(s->status.vm_rss)),
	    u64s(kib(s->summary[VMS_TYPE_PAGE_TABLE].cols[VMS_COL_TOTAL_WS])));
	CHECK_MSG(t && strstr(t, want), "lacks \"%s\"", want);
	free(t);
	s->status.vm_rss += 4096;
	CHECK(vms_export_text(s, &t, &len) == VMS_OK);
	CHECK(t && strstr(t, "read a moment apart"));
	free(t);
	/* human units: no bare KiB integers in the Heap summary row, the header says no "KiB;" */
	struct vms_text_opts o = {.human = 1};
	CHECK(vms_export_text_with(s, &o, &t, &len) == VMS_OK);
	char *hr = t ? line_at(t, find_line(t, "Heap ")) : NULL;
	CHECK(hr && strstr(hr, "132 KiB") && strstr(hr, "64 KiB"));
	CHECK(t && strstr(t, "Summary (Blocks = free gaps") && !strstr(t, "Summary (KiB"));
	CHECK(t && strstr(t, "regions; regions of an allocation indented"));
	free(hr);
	free(t);
	vms_snapshot_free(s);
}

typedef int (*export_fn)(const struct vms_snapshot *s, char **out, size_t *len);

/* Export s with fn: CHECK that it succeeds and that the output holds want. */
static void check_export_has(export_fn fn, const struct vms_snapshot *s, const char *want)
{
	char *t = NULL;
	size_t len;
	CHECK(fn(s, &t, &len) == VMS_OK);
	CHECK_MSG(t && strstr(t, want) != NULL, "the export lacks \"%s\"", want);
	free(t);
}

static void test_text_escapes(void)
{
	/* backslash, tab, CR, DEL, a stray byte, C1 CSI, a bidi override; UTF-8 letters stay */
	struct vms_snapshot *s = hs_new(5, "esc");
	hs_region(s, 0x10000, 0x11000, "rw-p", NULL, 0);
	hs_alloc(s, VMS_TYPE_PRIVATE_DATA,
	         "a\\b\tc\rd\x7f"
	         "e\xff"
	         "f\xc2\x9bg\xe2\x80\xaeh caf\xc3\xa9",
	         0);
	hs_finish(s);
	check_export_has(vms_export_text, s, "a\\\\b\\tc\\rd\\x7fe\\xfff\\u009bg\\u202eh caf\xc3\xa9\n");
	vms_snapshot_free(s);
}

static void test_diff_text(void)
{
	struct vms_snapshot *a = hs_demo(), *b = hs_new(4242, "demo");

	b->user_top = a->user_top;
	b->start_time = a->start_time;
	/* image unchanged, heap grown by 8 KiB resident, mapped file gone, new anonymous mapping */
	hs_demo_image(b);
	hs_region(b, 0x55555555c000, 0x55555557d000, "rw-p", "[heap]", 73728);
	hs_alloc(b, VMS_TYPE_HEAP, "[heap]", 0);
	hs_region(b, 0x7e0000000000, 0x7e0000100000, "rw-p", NULL, 1 << 20);
	hs_alloc(b, VMS_TYPE_PRIVATE_DATA, "evil\nname", 0);
	hs_finish(b);

	struct vms_diff d;
	CHECK(vms_diff_compute(a, b, &d) == VMS_OK);
	char *t;
	size_t len;
	CHECK(vms_export_diff_text(&d, &t, &len) == VMS_OK);
	CHECK(strstr(t, "From: 2026-11-22T06:10:00.123Z  process 4242 (demo)\n") != NULL);
	CHECK(strstr(t, "different processes") == NULL);
	int h = find_line(t, "Type ");
	CHECK(h > 0);
	char *heap = line_at(t, find_line(t, "Heap "));
	CHECK(heap && strstr(heap, "+8"));
	free(heap);
	CHECK(find_line(t, "Shareable ") < 0); /* unchanged types are left out */
	CHECK(find_line(t, "Total ") > h);
	/* heap (usage), +anon, -file, -stack, -private, -kernel, -reserved */
	CHECK(strstr(t, "Allocations: 7 changed") != NULL);
	int k = find_line(t, "added ");
	CHECK(k > 0);
	char *l = line_at(t, k);
	CHECK(l && strstr(l, "0x7e0000000000") && strstr(l, "+1024") && strstr(l, "evil\\nname"));
	free(l);
	l = line_at(t, find_line(t, "usage "));
	CHECK(l && strstr(l, "0x55555555c000") && strstr(l, "Heap"));
	free(l);
	CHECK(find_line(t, "name") < 0);
	free(t);
	vms_diff_free(&d);

	/* different process: said so */
	b->start_time = 1;
	CHECK(vms_diff_compute(a, b, &d) == VMS_OK);
	CHECK(vms_export_diff_text(&d, &t, &len) == VMS_OK);
	CHECK(strstr(t, "Note: the snapshots are of different processes") != NULL);
	free(t);
	vms_diff_free(&d);
	vms_snapshot_free(a);
	vms_snapshot_free(b);
}

static void test_empty(void)
{
	/* nothing mapped at all: every exporter still produces its frame */
	struct vms_snapshot *s = hs_new(1, "");
	hs_finish(s);
	check_export_has(vms_export_text, s, "Allocations (0, 0 regions;");
	check_export_has(vms_export_csv, s, "\"Free\",\"");
	vms_snapshot_free(s);
}

int main(void)
{
	test_csv();
	test_text();
	test_text_escapes();
	test_text_dirty_relation_units();
	test_diff_text();
	test_empty();
	TEST_MAIN_END();
}
