/* Snapshot diff (VMMap's "Show Changes"): a merge walk over allocations and over regions, both
 * sorted by start address, so the cost is O(n_from + n_to). libc only.
 *
 * Classification of a pair with the same start address:
 *   GROWN / SHRUNK   end differs (size larger / smaller)
 *   PROTECTION       perms differ (region); for an allocation: its region layout (the list of
 *                    region starts and perms) differs, e.g. an arena heap that mprotect'ed more
 *                    of its reservation read-write
 *   PATH             path, deleted flag or type differs (region); type, details, or a paired
 *                    region's path/deleted flag (allocation)
 *   USAGE            none of the above, but at least one column differs
 * Pairs with no change at all get no entry. Entries are in address order. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "vmscope/diff.h"

const char *vms_change_key(enum vms_change c)
{
	switch (c) {
	case VMS_CHANGE_ADDED:
		return "added";
	case VMS_CHANGE_REMOVED:
		return "removed";
	case VMS_CHANGE_GROWN:
		return "grown";
	case VMS_CHANGE_SHRUNK:
		return "shrunk";
	case VMS_CHANGE_PROTECTION:
		return "protection";
	case VMS_CHANGE_PATH:
		return "path";
	case VMS_CHANGE_USAGE:
		return "usage";
	}
	return "unknown";
}

static int str_differs(const char *a, const char *b)
{
	if (!a || !b)
		return a != b;
	return strcmp(a, b) != 0;
}

/* delta = to - from (either side may be NULL for added/removed). Two's complement wrap keeps
 * the result exact for any difference below 2^63. */
static void col_delta(const uint64_t *from, const uint64_t *to, int64_t delta[VMS_COL_COUNT])
{
	for (int c = 0; c < VMS_COL_COUNT; c++) {
		uint64_t f = from ? from[c] : 0, t = to ? to[c] : 0;
		delta[c] = (int64_t)(t - f);
	}
}

static int cols_differ(const uint64_t *a, const uint64_t *b)
{
	return memcmp(a, b, sizeof(uint64_t) * VMS_COL_COUNT) != 0;
}

static unsigned size_change(uint64_t from_end, uint64_t to_end)
{
	if (to_end > from_end)
		return VMS_CHANGE_GROWN;
	if (to_end < from_end)
		return VMS_CHANGE_SHRUNK;
	return 0;
}

static unsigned region_changes(const struct vms_region *f, const struct vms_region *t)
{
	unsigned ch = size_change(f->end, t->end);
	if (memcmp(f->perms, t->perms, 4) != 0)
		ch |= VMS_CHANGE_PROTECTION;
	if (str_differs(f->path, t->path) || !f->deleted != !t->deleted || f->type != t->type)
		ch |= VMS_CHANGE_PATH;
	if (!ch && cols_differ(f->cols, t->cols))
		ch = VMS_CHANGE_USAGE;
	return ch;
}

/* Compare the regions of two allocations pairwise. *layout: not the same number of regions
 * with the same starts and perms (the last region's end is covered by GROWN/SHRUNK).
 * *path: a paired region's path or deleted flag differs. Out-of-range indices (a malformed
 * snapshot) count as a layout change rather than being read. */
static void compare_regions(const struct vms_snapshot *fs, const struct vms_allocation *f,
                            const struct vms_snapshot *ts, const struct vms_allocation *t, int *layout,
                            int *path)
{
	*layout = 0;
	*path = 0;
	if ((size_t)f->first_region + f->n_regions > fs->n_regions ||
	    (size_t)t->first_region + t->n_regions > ts->n_regions) {
		*layout = 1;
		return;
	}
	if (f->n_regions != t->n_regions)
		*layout = 1;
	uint32_t n = f->n_regions < t->n_regions ? f->n_regions : t->n_regions;
	for (uint32_t i = 0; i < n; i++) {
		const struct vms_region *a = &fs->regions[f->first_region + i];
		const struct vms_region *b = &ts->regions[t->first_region + i];
		if (a->start != b->start || memcmp(a->perms, b->perms, 4) != 0 ||
		    (i + 1 < n && a->end != b->end))
			*layout = 1;
		if (str_differs(a->path, b->path) || !a->deleted != !b->deleted)
			*path = 1;
	}
}

static unsigned allocation_changes(const struct vms_snapshot *fs, const struct vms_allocation *f,
                                   const struct vms_snapshot *ts, const struct vms_allocation *t)
{
	int layout, path;
	unsigned ch = size_change(f->end, t->end);
	compare_regions(fs, f, ts, t, &layout, &path);
	if (layout)
		ch |= VMS_CHANGE_PROTECTION;
	if (path || f->type != t->type || str_differs(f->details, t->details))
		ch |= VMS_CHANGE_PATH;
	if (!ch && cols_differ(f->cols, t->cols))
		ch = VMS_CHANGE_USAGE;
	return ch;
}

static void set_entry(struct vms_diff_entry *e, unsigned changes, long from, long to, const uint64_t *fc,
                      const uint64_t *tc)
{
	e->changes = changes;
	e->from = from;
	e->to = to;
	col_delta(fc, tc, e->delta);
}

/* Allocate room for the worst case (nothing matched): n_from + n_to entries. */
static struct vms_diff_entry *entries_alloc(size_t nf, size_t nt)
{
	size_t n = nf + nt;
	if (n < nf || n > SIZE_MAX / sizeof(struct vms_diff_entry))
		return NULL;
	return calloc(n ? n : 1, sizeof(struct vms_diff_entry));
}

/* One kind of record (allocations or regions) as the merge walk sees it: an array of
 * elements of `size` bytes, each with a uint64_t start and a uint64_t[VMS_COL_COUNT] cols at
 * those offsets; changes compares two elements with equal starts (0: unchanged). */
struct walk_kind {
	size_t size, start_off, cols_off;
	unsigned (*changes)(const struct vms_snapshot *fs, const void *f, const struct vms_snapshot *ts,
	                    const void *t);
};

static unsigned allocation_changes_of(const struct vms_snapshot *fs, const void *f,
                                      const struct vms_snapshot *ts, const void *t)
{
	return allocation_changes(fs, f, ts, t);
}

static unsigned region_changes_of(const struct vms_snapshot *fs, const void *f, const struct vms_snapshot *ts,
                                  const void *t)
{
	(void)fs;
	(void)ts;
	return region_changes(f, t);
}

static const struct walk_kind allocation_kind = {
    sizeof(struct vms_allocation), offsetof(struct vms_allocation, start),
    offsetof(struct vms_allocation, cols), allocation_changes_of};
static const struct walk_kind region_kind = {sizeof(struct vms_region), offsetof(struct vms_region, start),
                                             offsetof(struct vms_region, cols), region_changes_of};

static const char *elem(const void *arr, const struct walk_kind *k, size_t i)
{
	return (const char *)arr + i * k->size;
}

static uint64_t elem_start(const void *arr, const struct walk_kind *k, size_t i)
{
	return *(const uint64_t *)(elem(arr, k, i) + k->start_off);
}

static const uint64_t *elem_cols(const void *arr, const struct walk_kind *k, size_t i)
{
	return (const uint64_t *)(elem(arr, k, i) + k->cols_off);
}

/* The merge walk: i and j advance through from (fa[0..nf)) and to (ta[0..nt)); the side with
 * the lower start address is unmatched (removed/added), equal starts are compared. */
static size_t walk(const struct walk_kind *k, const struct vms_snapshot *fs, const void *fa, size_t nf,
                   const struct vms_snapshot *ts, const void *ta, size_t nt, struct vms_diff_entry *out)
{
	size_t i = 0, j = 0, n = 0;
	while (i < nf && j < nt) {
		uint64_t fstart = elem_start(fa, k, i), tstart = elem_start(ta, k, j);
		if (fstart < tstart) {
			set_entry(&out[n++], VMS_CHANGE_REMOVED, (long)i, -1, elem_cols(fa, k, i), NULL);
			i++;
		} else if (tstart < fstart) {
			set_entry(&out[n++], VMS_CHANGE_ADDED, -1, (long)j, NULL, elem_cols(ta, k, j));
			j++;
		} else {
			unsigned ch = k->changes(fs, elem(fa, k, i), ts, elem(ta, k, j));
			if (ch)
				set_entry(&out[n++], ch, (long)i, (long)j, elem_cols(fa, k, i),
				          elem_cols(ta, k, j));
			i++;
			j++;
		}
	}
	for (; i < nf; i++)
		set_entry(&out[n++], VMS_CHANGE_REMOVED, (long)i, -1, elem_cols(fa, k, i), NULL);
	for (; j < nt; j++)
		set_entry(&out[n++], VMS_CHANGE_ADDED, -1, (long)j, NULL, elem_cols(ta, k, j));
	return n;
}

int vms_diff_compute(const struct vms_snapshot *from, const struct vms_snapshot *to, struct vms_diff *out)
{
	int ret = VMS_ERR_NOMEM;
	struct vms_diff d;

	memset(&d, 0, sizeof d);
	d.from = from;
	d.to = to;
	d.allocations = entries_alloc(from->n_allocations, to->n_allocations);
	d.regions = entries_alloc(from->n_regions, to->n_regions);
	if (!d.allocations || !d.regions)
		goto out;
	d.n_allocations = walk(&allocation_kind, from, from->allocations, from->n_allocations, to,
	                       to->allocations, to->n_allocations, d.allocations);
	d.n_regions = walk(&region_kind, from, from->regions, from->n_regions, to, to->regions, to->n_regions,
	                   d.regions);

	for (int t = 0; t < VMS_TYPE_COUNT; t++) {
		col_delta(from->summary[t].cols, to->summary[t].cols, d.type_delta[t]);
		d.type_blocks_delta[t] = (int64_t)(to->summary[t].blocks - from->summary[t].blocks);
	}
	col_delta(from->total, to->total, d.total_delta);
	ret = VMS_OK;
out:
	if (ret != VMS_OK) {
		free(d.allocations);
		free(d.regions);
		memset(&d, 0, sizeof d);
	}
	*out = d;
	return ret;
}

void vms_diff_free(struct vms_diff *d)
{
	if (!d)
		return;
	free(d->allocations);
	free(d->regions);
	d->allocations = NULL;
	d->regions = NULL;
	d->n_allocations = 0;
	d->n_regions = 0;
}
