/* Private to the core: snapshot operations the scanner and classifier need beyond
 * vmscope/snapshot.h. Implemented in snapshot.c. */
#ifndef VMSCOPE_CORE_SNAPSHOT_INTERNAL_H
#define VMSCOPE_CORE_SNAPSHOT_INTERNAL_H

#include "vmscope/snapshot.h"

/* Hand a malloc'd block to a snapshot (freed with it). 0, or -1 when the block was freed on
 * ENOMEM. */
int vms_snapshot_adopt(struct vms_snapshot *s, void *block);

/* vms_snapshot_summarize() for a caller that knows which allocations did not change: where
 * same_as[a] >= 0 (the attribution stage's "final allocation a is what was allocation
 * same_as[a]", same regions, type and roles), a's region columns and sums are kept as they are;
 * only the regions' type and allocation index are set. same_as NULL: every allocation. */
int vms_snapshot_summarize_changed(struct vms_snapshot *s, const long *same_as);

/* The second half of vms_snapshot_summarize(): Free gaps, per-type summary and totals, for a
 * caller whose region columns and allocation sums are already current (the classifier). */
int vms_snapshot_summarize_types(struct vms_snapshot *s);

#endif
