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

/* The merge walks: i and j advance through from/to; the side with the lower start address is
 * unmatched (removed/added), equal starts are compared. */
static size_t walk_allocations(const struct vms_snapshot *fs, const struct vms_snapshot *ts,
                               struct vms_diff_entry *out)
{
	size_t i = 0, j = 0, n = 0;
	while (i < fs->n_allocations && j < ts->n_allocations) {
		const struct vms_allocation *f = &fs->allocations[i], *t = &ts->allocations[j];
		if (f->start < t->start) {
			set_entry(&out[n++], VMS_CHANGE_REMOVED, (long)i, -1, f->cols, NULL);
			i++;
		} else if (t->start < f->start) {
			set_entry(&out[n++], VMS_CHANGE_ADDED, -1, (long)j, NULL, t->cols);
			j++;
		} else {
			unsigned ch = allocation_changes(fs, f, ts, t);
			if (ch)
				set_entry(&out[n++], ch, (long)i, (long)j, f->cols, t->cols);
			i++;
			j++;
		}
	}
	for (; i < fs->n_allocations; i++)
		set_entry(&out[n++], VMS_CHANGE_REMOVED, (long)i, -1, fs->allocations[i].cols, NULL);
	for (; j < ts->n_allocations; j++)
		set_entry(&out[n++], VMS_CHANGE_ADDED, -1, (long)j, NULL, ts->allocations[j].cols);
	return n;
}

static size_t walk_regions(const struct vms_snapshot *fs, const struct vms_snapshot *ts,
                           struct vms_diff_entry *out)
{
	size_t i = 0, j = 0, n = 0;
	while (i < fs->n_regions && j < ts->n_regions) {
		const struct vms_region *f = &fs->regions[i], *t = &ts->regions[j];
		if (f->start < t->start) {
			set_entry(&out[n++], VMS_CHANGE_REMOVED, (long)i, -1, f->cols, NULL);
			i++;
		} else if (t->start < f->start) {
			set_entry(&out[n++], VMS_CHANGE_ADDED, -1, (long)j, NULL, t->cols);
			j++;
		} else {
			unsigned ch = region_changes(f, t);
			if (ch)
				set_entry(&out[n++], ch, (long)i, (long)j, f->cols, t->cols);
			i++;
			j++;
		}
	}
	for (; i < fs->n_regions; i++)
		set_entry(&out[n++], VMS_CHANGE_REMOVED, (long)i, -1, fs->regions[i].cols, NULL);
	for (; j < ts->n_regions; j++)
		set_entry(&out[n++], VMS_CHANGE_ADDED, -1, (long)j, NULL, ts->regions[j].cols);
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
	d.n_allocations = walk_allocations(from, to, d.allocations);
	d.n_regions = walk_regions(from, to, d.regions);

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
