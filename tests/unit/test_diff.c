/* Snapshot diff: every change class on allocations and regions, entry order and indices,
 * per-type / total deltas and their sums, and the degenerate cases (self, empty). */
#include <stdint.h>

#include "handmade_snapshot.h"
#include "test.h"
#include "vmscope/diff.h"

static struct vms_region *anon(struct vms_snapshot *s, uint64_t start, uint64_t end, const char *perms,
                               uint64_t rss)
{
	return hs_region(s, start, end, perms, NULL, rss);
}

/* Both sides share layout code; "to" applies the changes listed in test_classes(). */
static struct vms_snapshot *build(int to)
{
	struct vms_snapshot *s = hs_new(100, "target");
	struct vms_region *r;

	s->user_top = 0x200000;
	s->status.vm_pte = to ? 12288 : 8192;

	anon(s, 0x10000, 0x11000, "rw-p", 4096); /* unchanged */
	hs_alloc(s, VMS_TYPE_PRIVATE_DATA, NULL, 0);
	if (!to) {
		anon(s, 0x20000, 0x22000, "rw-p", 8192); /* removed */
		hs_alloc(s, VMS_TYPE_PRIVATE_DATA, NULL, 0);
	} else {
		anon(s, 0x25000, 0x26000, "rw-p", 4096); /* added */
		hs_alloc(s, VMS_TYPE_PRIVATE_DATA, NULL, 0);
	}
	anon(s, 0x30000, to ? 0x34000 : 0x32000, "rw-p", to ? 12288 : 4096); /* grown (and more resident) */
	hs_alloc(s, VMS_TYPE_PRIVATE_DATA, NULL, 0);
	anon(s, 0x40000, to ? 0x42000 : 0x44000, "rw-p", 0); /* shrunk */
	hs_alloc(s, VMS_TYPE_PRIVATE_DATA, NULL, 0);
	hs_region(s, 0x50000, 0x51000, to ? "rw-p" : "r--p", "/lib/x.so", 4096); /* protection */
	hs_alloc(s, VMS_TYPE_MAPPED_FILE, "/lib/x.so", 0);
	hs_region(s, 0x60000, 0x61000, "r--p", to ? "/data/b.bin" : "/data/a.bin", 0); /* path */
	hs_alloc(s, VMS_TYPE_MAPPED_FILE, to ? "/data/b.bin" : "/data/a.bin", 0);
	anon(s, 0x70000, 0x71000, "rw-p", to ? 4096 : 0); /* usage only */
	hs_alloc(s, VMS_TYPE_PRIVATE_DATA, NULL, 0);
	r = hs_region(s, 0x80000, 0x81000, "r--p", "/usr/lib/libz.so", 4096); /* deleted flag */
	r->deleted = to;
	hs_region(s, 0x81000, 0x82000, "rw-p", "/usr/lib/libz.so", 4096);
	hs_alloc(s, VMS_TYPE_IMAGE, "/usr/lib/libz.so", 0);
	/* arena heap: the rw-p head grows into the ---p tail; the allocation keeps its size */
	anon(s, 0x90000, to ? 0x92000 : 0x91000, "rw-p", 4096);
	anon(s, to ? 0x92000 : 0x91000, 0x94000, "---p", 0);
	hs_alloc(s, VMS_TYPE_HEAP, "arena", 0);
	anon(s, 0xa0000, 0xa1000, "rw-p", 0); /* type changed */
	hs_alloc(s, to ? VMS_TYPE_HEAP : VMS_TYPE_PRIVATE_DATA, NULL, 0);
	hs_finish(s);
	return s;
}

struct want {
	uint64_t start;
	unsigned changes;
};

static void check_entries(const struct vms_diff *d, const struct vms_diff_entry *e, size_t n, int regions,
                          const struct want *w, size_t nw)
{
	CHECK_EQ_U64(n, nw);
	for (size_t i = 0; i < n && i < nw; i++) {
		const struct vms_snapshot *side = e[i].to >= 0 ? d->to : d->from;
		long idx = e[i].to >= 0 ? e[i].to : e[i].from;
		uint64_t start = regions ? side->regions[idx].start : side->allocations[idx].start;
		CHECK_EQ_U64(start, w[i].start);
		if (e[i].changes != w[i].changes)
			fprintf(stderr, "%s entry %zu at 0x%llx: changes 0x%x, want 0x%x\n",
			        regions ? "region" : "alloc", i, (unsigned long long)start, e[i].changes,
			        w[i].changes);
		CHECK(e[i].changes == w[i].changes);
		CHECK(e[i].changes != 0);
		CHECK((e[i].from < 0) == ((e[i].changes & VMS_CHANGE_ADDED) != 0));
		CHECK((e[i].to < 0) == ((e[i].changes & VMS_CHANGE_REMOVED) != 0));
	}
}

static void test_classes(void)
{
	struct vms_snapshot *from = build(0), *to = build(1);
	struct vms_diff d;

	CHECK(vms_diff_compute(from, to, &d) == VMS_OK);
	CHECK(d.from == from && d.to == to);

	static const struct want wa[] = {
	    {0x20000, VMS_CHANGE_REMOVED}, {0x25000, VMS_CHANGE_ADDED},      {0x30000, VMS_CHANGE_GROWN},
	    {0x40000, VMS_CHANGE_SHRUNK},  {0x50000, VMS_CHANGE_PROTECTION}, {0x60000, VMS_CHANGE_PATH},
	    {0x70000, VMS_CHANGE_USAGE},   {0x80000, VMS_CHANGE_PATH},       {0x90000, VMS_CHANGE_PROTECTION},
	    {0xa0000, VMS_CHANGE_PATH},
	};
	check_entries(&d, d.allocations, d.n_allocations, 0, wa, sizeof wa / sizeof wa[0]);

	static const struct want wr[] = {
	    {0x20000, VMS_CHANGE_REMOVED}, {0x25000, VMS_CHANGE_ADDED},      {0x30000, VMS_CHANGE_GROWN},
	    {0x40000, VMS_CHANGE_SHRUNK},  {0x50000, VMS_CHANGE_PROTECTION}, {0x60000, VMS_CHANGE_PATH},
	    {0x70000, VMS_CHANGE_USAGE},   {0x80000, VMS_CHANGE_PATH},       {0x90000, VMS_CHANGE_GROWN},
	    {0x91000, VMS_CHANGE_REMOVED}, {0x92000, VMS_CHANGE_ADDED},      {0xa0000, VMS_CHANGE_PATH},
	};
	check_entries(&d, d.regions, d.n_regions, 1, wr, sizeof wr / sizeof wr[0]);

	if (d.n_allocations == 10) {
		/* indices point into the right arrays */
		CHECK(d.allocations[0].from == 1 && d.allocations[0].to == -1);
		CHECK(d.allocations[1].from == -1 && d.allocations[1].to == 1);
		CHECK(d.allocations[2].from == 2 && d.allocations[2].to == 2);
		/* each allocation's deltas that must be so, by column */
		static const struct {
			size_t i, n;
			struct {
				enum vms_col col;
				int64_t delta;
			} d[3];
		} want[] = {
		    /* removed = -from, added = +to, grown = +8 KiB size, +8 KiB resident */
		    {0, 2, {{VMS_COL_SIZE, -0x2000}, {VMS_COL_TOTAL_WS, -8192}}},
		    {1, 2, {{VMS_COL_SIZE, 0x1000}, {VMS_COL_PRIVATE, 0x1000}}},
		    {2, 3, {{VMS_COL_SIZE, 0x2000}, {VMS_COL_COMMITTED, 0x2000}, {VMS_COL_TOTAL_WS, 8192}}},
		    {3, 1, {{VMS_COL_SIZE, -0x2000}}},
		    /* r--p file -> rw-p file: now counted as private */
		    {4, 2, {{VMS_COL_PRIVATE, 0x1000}, {VMS_COL_SIZE, 0}}},
		    {6, 2, {{VMS_COL_TOTAL_WS, 4096}, {VMS_COL_USS, 4096}}},
		    /* arena: committed grew by one page, size did not */
		    {8, 2, {{VMS_COL_SIZE, 0}, {VMS_COL_COMMITTED, 0x1000}}},
		    {9, 1, {{VMS_COL_SIZE, 0}}},
		};
		for (size_t k = 0; k < sizeof want / sizeof want[0]; k++)
			for (size_t c = 0; c < want[k].n; c++) {
				int64_t got = d.allocations[want[k].i].delta[want[k].d[c].col];
				CHECK_MSG(got == want[k].d[c].delta,
				          "allocation %zu, %s: delta %" PRId64 ", want %" PRId64, want[k].i,
				          vms_col_name(want[k].d[c].col), got, want[k].d[c].delta);
			}
	}

	/* per-type deltas are to - from of the summaries; totals likewise */
	for (int t = 0; t < VMS_TYPE_COUNT; t++) {
		for (int c = 0; c < VMS_COL_COUNT; c++)
			CHECK(d.type_delta[t][c] ==
			      (int64_t)(to->summary[t].cols[c] - from->summary[t].cols[c]));
		CHECK(d.type_blocks_delta[t] == (int64_t)(to->summary[t].blocks - from->summary[t].blocks));
	}
	CHECK(d.type_blocks_delta[VMS_TYPE_HEAP] == 1);
	CHECK(d.type_blocks_delta[VMS_TYPE_PRIVATE_DATA] == -1);
	CHECK(d.type_blocks_delta[VMS_TYPE_MAPPED_FILE] == 0);
	CHECK(d.type_delta[VMS_TYPE_PAGE_TABLE][VMS_COL_SIZE] == 4096);
	CHECK(d.type_delta[VMS_TYPE_HEAP][VMS_COL_SIZE] == 0x1000); /* the re-typed region */

	/* entries account for every change: their deltas sum to the total change minus the
	 * synthetic page-table row; mapped + free space is constant below user_top */
	for (int c = 0; c < VMS_COL_COUNT; c++) {
		int64_t sa = 0, sr = 0, types = 0;
		for (size_t i = 0; i < d.n_allocations; i++)
			sa += d.allocations[i].delta[c];
		for (size_t i = 0; i < d.n_regions; i++)
			sr += d.regions[i].delta[c];
		for (int t = 0; t < VMS_TYPE_COUNT; t++)
			if (t != VMS_TYPE_FREE)
				types += d.type_delta[t][c];
		int64_t expect = d.total_delta[c] - d.type_delta[VMS_TYPE_PAGE_TABLE][c];
		CHECK(sa == expect);
		CHECK(sr == expect);
		CHECK(types == d.total_delta[c]);
		CHECK(d.total_delta[c] == (int64_t)(to->total[c] - from->total[c]));
	}
	CHECK(d.total_delta[VMS_COL_SIZE] - d.type_delta[VMS_TYPE_PAGE_TABLE][VMS_COL_SIZE] ==
	      -d.type_delta[VMS_TYPE_FREE][VMS_COL_SIZE]);
	CHECK(d.total_delta[VMS_COL_SIZE] == 4096 /* page table */ - 0x2000 + 0x1000 + 0x2000 - 0x2000);

	/* reversed: added <-> removed, grown <-> shrunk, deltas negated */
	struct vms_diff r;
	CHECK(vms_diff_compute(to, from, &r) == VMS_OK);
	CHECK_EQ_U64(r.n_allocations, d.n_allocations);
	CHECK_EQ_U64(r.n_regions, d.n_regions);
	if (r.n_allocations == 10 && d.n_allocations == 10) {
		CHECK(r.allocations[0].changes == VMS_CHANGE_ADDED && r.allocations[0].to == 1);
		CHECK(r.allocations[1].changes == VMS_CHANGE_REMOVED && r.allocations[1].from == 1);
		CHECK(r.allocations[2].changes == VMS_CHANGE_SHRUNK);
		CHECK(r.allocations[3].changes == VMS_CHANGE_GROWN);
		for (size_t i = 0; i < r.n_allocations; i++)
			for (int c = 0; c < VMS_COL_COUNT; c++)
				CHECK(r.allocations[i].delta[c] == -d.allocations[i].delta[c]);
	}
	vms_diff_free(&r);

	vms_diff_free(&d);
	CHECK(d.allocations == NULL && d.regions == NULL && d.n_allocations == 0);
	vms_diff_free(&d); /* twice is harmless */
	vms_diff_free(NULL);
	vms_snapshot_free(from);
	vms_snapshot_free(to);
}

static void test_degenerate(void)
{
	struct vms_snapshot *a = build(0), *e1 = hs_new(1, "e"), *e2 = hs_new(1, "e");
	struct vms_diff d;

	hs_finish(e1);
	hs_finish(e2);

	/* a snapshot against itself: nothing changed */
	CHECK(vms_diff_compute(a, a, &d) == VMS_OK);
	CHECK_EQ_U64(d.n_allocations, 0);
	CHECK_EQ_U64(d.n_regions, 0);
	int64_t any = 0;
	for (int c = 0; c < VMS_COL_COUNT; c++) {
		any |= d.total_delta[c];
		for (int t = 0; t < VMS_TYPE_COUNT; t++)
			any |= d.type_delta[t][c];
	}
	CHECK(any == 0);
	vms_diff_free(&d);

	/* empty -> empty, empty -> full, full -> empty */
	CHECK(vms_diff_compute(e1, e2, &d) == VMS_OK);
	CHECK_EQ_U64(d.n_allocations + d.n_regions, 0);
	vms_diff_free(&d);
	CHECK(vms_diff_compute(e1, a, &d) == VMS_OK);
	CHECK_EQ_U64(d.n_allocations, a->n_allocations);
	CHECK_EQ_U64(d.n_regions, a->n_regions);
	for (size_t i = 0; i < d.n_allocations; i++)
		CHECK(d.allocations[i].changes == VMS_CHANGE_ADDED && d.allocations[i].to == (long)i);
	vms_diff_free(&d);
	CHECK(vms_diff_compute(a, e1, &d) == VMS_OK);
	for (size_t i = 0; i < d.n_regions; i++)
		CHECK(d.regions[i].changes == VMS_CHANGE_REMOVED && d.regions[i].from == (long)i &&
		      d.regions[i].delta[VMS_COL_SIZE] ==
		          -(int64_t)(a->regions[i].end - a->regions[i].start));
	vms_diff_free(&d);

	vms_snapshot_free(a);
	vms_snapshot_free(e1);
	vms_snapshot_free(e2);
}

static void test_keys(void)
{
	CHECK_STR(vms_change_key(VMS_CHANGE_ADDED), "added");
	CHECK_STR(vms_change_key(VMS_CHANGE_REMOVED), "removed");
	CHECK_STR(vms_change_key(VMS_CHANGE_GROWN), "grown");
	CHECK_STR(vms_change_key(VMS_CHANGE_SHRUNK), "shrunk");
	CHECK_STR(vms_change_key(VMS_CHANGE_PROTECTION), "protection");
	CHECK_STR(vms_change_key(VMS_CHANGE_PATH), "path");
	CHECK_STR(vms_change_key(VMS_CHANGE_USAGE), "usage");
}

int main(void)
{
	test_classes();
	test_degenerate();
	test_keys();
	TEST_MAIN_END();
}
