/* Per-allocation growth over a chain of full snapshots (vmscope/growth.h). */
#include <stdlib.h>
#include <string.h>

#include "vmscope/error.h"
#include "vmscope/growth.h"

/* The allocation of s starting at start (not Free), or NULL: binary search (allocations are in
 * address order). */
static const struct vms_allocation *find_alloc(const struct vms_snapshot *s, uint64_t start)
{
	size_t lo = 0, hi = s->n_allocations;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->allocations[mid].start < start)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < s->n_allocations && s->allocations[lo].start == start &&
	    s->allocations[lo].type != VMS_TYPE_FREE)
		return &s->allocations[lo];
	return NULL;
}

static int64_t per_min(int64_t d, int64_t span_ms)
{
	return span_ms > 0 ? (int64_t)((double)d * 60000.0 / (double)span_ms) : 0;
}

static int cmp_growth(const void *x, const void *y)
{
	const struct vms_alloc_growth *a = x, *b = y;
	int64_t da = a->delta[VMS_COL_COMMITTED], db = b->delta[VMS_COL_COMMITTED];
	if (da != db)
		return da < db ? 1 : -1;
	return a->a->start < b->a->start ? -1 : a->a->start > b->a->start;
}

/* Follow a (of the last snapshot) back through the chain into g. */
static void follow_alloc(const struct vms_snapshot *const *snaps, size_t n, const struct vms_allocation *a,
                         struct vms_alloc_growth *g)
{
	const struct vms_snapshot *last = snaps[n - 1];
	const struct vms_allocation *first = NULL, *prev = NULL;
	size_t first_i = 0;
	int fell = 0;
	memset(g, 0, sizeof *g);
	g->a = a;
	for (size_t i = 0; i < n; i++) {
		const struct vms_allocation *x = i == n - 1 ? a : find_alloc(snaps[i], a->start);
		if (!x) {
			prev = NULL; /* gone meanwhile: a gap starts its history again */
			continue;
		}
		if (!first) {
			first = x;
			first_i = i;
		}
		g->seen++;
		if (prev && x->cols[VMS_COL_COMMITTED] > prev->cols[VMS_COL_COMMITTED])
			g->rises++;
		if (prev && x->cols[VMS_COL_COMMITTED] < prev->cols[VMS_COL_COMMITTED])
			fell = 1;
		prev = x;
	}
	int is_new = first_i > 0;
	int64_t span = last->taken_at_ms - snaps[0]->taken_at_ms;
	for (int c = 0; c < VMS_COL_COUNT; c++) {
		g->delta[c] = (int64_t)(a->cols[c] - (is_new ? 0 : first->cols[c]));
		g->per_minute[c] = per_min(g->delta[c], span);
	}
	if (!is_new)
		return;
	g->appeared_ms = snaps[first_i]->taken_at_ms;
	int64_t since = last->taken_at_ms - g->appeared_ms;
	for (int c = 0; c < VMS_COL_COUNT; c++) {
		g->since_delta[c] = (int64_t)(a->cols[c] - first->cols[c]);
		g->since_per_minute[c] = per_min(g->since_delta[c], since);
	}
	g->kept_growing = g->seen >= VMS_GROWTH_MIN_SEEN && !fell && g->since_delta[VMS_COL_COMMITTED] > 0;
}

int vms_growth_allocations(const struct vms_snapshot *const *snaps, size_t n, struct vms_alloc_growth **out,
                           size_t *n_out)
{
	*out = NULL;
	*n_out = 0;
	if (n < 2)
		return VMS_OK;
	const struct vms_snapshot *last = snaps[n - 1];
	struct vms_alloc_growth *g = NULL;
	size_t k = 0;
	if (last->n_allocations && !(g = malloc(last->n_allocations * sizeof *g)))
		return VMS_ERR_NOMEM;
	for (size_t j = 0; j < last->n_allocations; j++) {
		const struct vms_allocation *a = &last->allocations[j];
		if (a->type == VMS_TYPE_FREE)
			continue;
		follow_alloc(snaps, n, a, &g[k]);
		if (g[k].delta[VMS_COL_COMMITTED] > 0 || g[k].kept_growing)
			k++;
	}
	if (!k) {
		free(g);
		return VMS_OK;
	}
	qsort(g, k, sizeof *g, cmp_growth);
	*out = g;
	*n_out = k;
	return VMS_OK;
}

size_t vms_growth_spread(size_t n, size_t max, size_t *idx)
{
	if (max < 2)
		max = 2;
	if (n <= max) {
		for (size_t i = 0; i < n; i++)
			idx[i] = i;
		return n;
	}
	for (size_t i = 0; i < max; i++)
		idx[i] = i * (n - 1) / (max - 1);
	return max;
}
