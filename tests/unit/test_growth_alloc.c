/* Following allocations across full snapshots: vms_churn (vmscope/churn.h: when the sampler
 * keeps a full snapshot by threshold) and vms_growth_allocations / vms_growth_spread
 * (vmscope/growth.h: per-allocation growth and "new allocations that kept growing"), on
 * snapshots built by hand. */
#include "handmade_snapshot.h"
#include "test.h"
#include "vmscope/churn.h"
#include "vmscope/growth.h"

#define MIB (1024ull * 1024ull)
#define BASE_ADDR 0x7f0000000000ull

/* A snapshot at t_ms with n anonymous read-write allocations: allocation i at
 * BASE_ADDR + starts[i] MiB, sizes[i] MiB (all of it committed and resident). */
static struct vms_snapshot *mk(int64_t t_ms, size_t n, const unsigned *starts, const unsigned *sizes)
{
	struct vms_snapshot *s = hs_new(77, "t");
	for (size_t i = 0; i < n; i++) {
		uint64_t a = BASE_ADDR + starts[i] * MIB;
		hs_region(s, a, a + sizes[i] * MIB, "rw-p", NULL, sizes[i] * MIB);
		hs_alloc(s, VMS_TYPE_PRIVATE_DATA, NULL, 0);
	}
	hs_finish(s);
	s->taken_at_ms = t_ms;
	return s;
}

int main(void)
{
	/* ---- churn ---- */
	unsigned st0[] = {0, 10, 20}, sz0[] = {1, 1, 1};
	unsigned st1[] = {0, 20, 30, 40}, sz1[] = {1, 1, 1, 200};
	struct vms_snapshot *s0 = mk(0, 3, st0, sz0), *s1 = mk(60000, 4, st1, sz1);
	struct vms_churn_base b = {0};
	struct vms_churn c;
	vms_churn_measure(&b, s1, &c);
	CHECK(c.added == 0 && c.removed == 0 && c.committed_moved == 0); /* nothing remembered */
	CHECK(vms_churn_remember(&b, s0) == VMS_OK);
	vms_churn_measure(&b, s0, &c);
	CHECK(c.added == 0 && c.removed == 0 && c.committed_moved == 0);
	CHECK(!vms_churn_past(&c, 1, 1));
	vms_churn_measure(&b, s1, &c);
	CHECK(c.added == 2 && c.removed == 1); /* 30 and 40 new, 10 gone */
	CHECK_MSG(c.committed_moved == 200 * MIB, "%llu",
	          (unsigned long long)c.committed_moved); /* Private Data 3 -> 203 MiB */
	CHECK(vms_churn_past(&c, 3, 0) && !vms_churn_past(&c, 4, 0));
	CHECK(vms_churn_past(&c, 0, 200 * MIB) && !vms_churn_past(&c, 0, 201 * MIB));
	CHECK(!vms_churn_past(&c, 0, 0)); /* both off */
	CHECK(vms_churn_remember(&b, s1) == VMS_OK);
	vms_churn_measure(&b, s1, &c);
	CHECK(c.added == 0 && c.removed == 0 && c.committed_moved == 0);
	vms_churn_clear(&b);
	CHECK(!b.set && !b.starts);
	vms_churn_clear(NULL);

	/* ---- per-allocation growth over a chain ----
	 * allocation at 0: grows 1 -> 4 MiB; at 10: constant; at 30: appears at t1 with 2 MiB and
	 * keeps growing to 8; at 50: appears at t1 with 5 MiB and stays; at 70: appears only in the
	 * last snapshot; at 90: appears at t1, grows, then falls back (not "kept growing"). */
	unsigned a0[] = {0, 10}, z0[] = {1, 3};
	unsigned a1[] = {0, 10, 30, 50, 90}, z1[] = {2, 3, 2, 5, 6};
	unsigned a2[] = {0, 10, 30, 50, 90}, z2[] = {3, 3, 5, 5, 8};
	unsigned a3[] = {0, 10, 30, 50, 70, 90}, z3[] = {4, 3, 8, 5, 1, 7};
	struct vms_snapshot *ch[4] = {mk(0, 2, a0, z0), mk(60000, 5, a1, z1), mk(120000, 5, a2, z2),
	                              mk(180000, 6, a3, z3)};
	const struct vms_snapshot *cc[4] = {ch[0], ch[1], ch[2], ch[3]};
	struct vms_alloc_growth *g = NULL;
	size_t n = 0;
	CHECK(vms_growth_allocations(cc, 1, &g, &n) == VMS_OK && n == 0 && !g);
	CHECK(vms_growth_allocations(cc, 4, &g, &n) == VMS_OK);
	/* grew (committed delta > 0): 30 (8), 90 (7), 50 (5), 0 (3), 70 (1); 10 did not */
	CHECK(n == 5);
	if (n == 5) {
		CHECK(g[0].a->start == BASE_ADDR + 30 * MIB);
		CHECK(g[0].delta[VMS_COL_COMMITTED] == (int64_t)(8 * MIB)); /* new: from nothing */
		CHECK(g[0].per_minute[VMS_COL_COMMITTED] == (int64_t)(8 * MIB / 3));
		CHECK(g[0].appeared_ms == 60000 && g[0].seen == 3 && g[0].rises == 2);
		CHECK(g[0].since_delta[VMS_COL_COMMITTED] == (int64_t)(6 * MIB));
		CHECK(g[0].since_per_minute[VMS_COL_COMMITTED] == (int64_t)(3 * MIB));
		CHECK(g[0].kept_growing);
		CHECK(g[1].a->start == BASE_ADDR + 90 * MIB && !g[1].kept_growing); /* fell 8 -> 7 */
		CHECK(g[2].a->start == BASE_ADDR + 50 * MIB && !g[2].kept_growing); /* never grew */
		CHECK(g[3].a->start == BASE_ADDR && g[3].appeared_ms == 0 && !g[3].kept_growing);
		CHECK(g[3].delta[VMS_COL_COMMITTED] == (int64_t)(3 * MIB) && g[3].rises == 3);
		CHECK(g[3].per_minute[VMS_COL_COMMITTED] == (int64_t)MIB);
		CHECK(g[4].a->start == BASE_ADDR + 70 * MIB && g[4].seen == 1 && !g[4].kept_growing);
	}
	free(g);

	/* ---- spread ---- */
	size_t idx[12];
	CHECK(vms_growth_spread(3, 12, idx) == 3 && idx[0] == 0 && idx[2] == 2);
	CHECK(vms_growth_spread(100, 12, idx) == 12 && idx[0] == 0 && idx[11] == 99);
	for (int i = 1; i < 12; i++)
		CHECK(idx[i] > idx[i - 1]);

	for (int i = 0; i < 4; i++)
		vms_snapshot_free(ch[i]);
	vms_snapshot_free(s0);
	vms_snapshot_free(s1);
	TEST_MAIN_END();
}
