/* Differences between two snapshots of (usually) one process: VMMap's "Show Changes".
 * Allocations and regions are matched by start address. The diff borrows both snapshots: they
 * must outlive it. vms_diff_free() releases only the diff's own arrays. */
#ifndef VMSCOPE_DIFF_H
#define VMSCOPE_DIFF_H

#include <stddef.h>
#include <stdint.h>

#include "vmscope/snapshot.h"

enum vms_change {
	VMS_CHANGE_ADDED = 1u << 0,
	VMS_CHANGE_REMOVED = 1u << 1,
	VMS_CHANGE_GROWN = 1u << 2, /* same start, larger size */
	VMS_CHANGE_SHRUNK = 1u << 3,
	VMS_CHANGE_PROTECTION = 1u << 4,
	VMS_CHANGE_PATH = 1u << 5,  /* path, deleted flag or type changed */
	VMS_CHANGE_USAGE = 1u << 6, /* only the numbers (WS, Pss, Swap ...) changed */
};

struct vms_diff_entry {
	unsigned changes;             /* enum vms_change bits, never 0 */
	long from, to;                /* indices into from/to arrays, -1 when absent */
	int64_t delta[VMS_COL_COUNT]; /* to - from */
};

struct vms_diff {
	const struct vms_snapshot *from, *to;
	struct vms_diff_entry *allocations;
	size_t n_allocations;
	struct vms_diff_entry *regions;
	size_t n_regions;
	int64_t type_delta[VMS_TYPE_COUNT][VMS_COL_COUNT];
	int64_t type_blocks_delta[VMS_TYPE_COUNT];
	int64_t total_delta[VMS_COL_COUNT];
};

/* Compute the diff. Returns VMS_OK or VMS_ERR_NOMEM. */
int vms_diff_compute(const struct vms_snapshot *from, const struct vms_snapshot *to, struct vms_diff *out);
void vms_diff_free(struct vms_diff *d); /* accepts NULL */
/* "added", "removed", "grown", "shrunk", "protection", "path", "usage" */
const char *vms_change_key(enum vms_change c);

#endif
