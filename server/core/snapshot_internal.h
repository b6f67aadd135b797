/* Private to the core: snapshot operations the scanner and classifier need beyond
 * vmscope/snapshot.h. Implemented in snapshot.c. */
#ifndef VMSCOPE_CORE_SNAPSHOT_INTERNAL_H
#define VMSCOPE_CORE_SNAPSHOT_INTERNAL_H

#include "vmscope/snapshot.h"

/* Hand a malloc'd block to a snapshot (freed with it). 0, or -1 when the block was freed on
 * ENOMEM. */
int vms_snapshot_adopt(struct vms_snapshot *s, void *block);

/* The second half of vms_snapshot_summarize(): Free gaps, per-type summary and totals, for a
 * caller whose region columns and allocation sums are already current (the classifier). */
int vms_snapshot_summarize_types(struct vms_snapshot *s);

#endif
