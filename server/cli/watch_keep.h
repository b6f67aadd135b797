/* The full snapshots `vmscope watch` keeps for its what-grew report per allocation (issue 10):
 * the first tick, the newest, and at most WATCH_KEEP - 1 evenly spread ticks between (when the
 * array fills, every other one goes and only every 2nd, 4th ... tick is kept from then on), so
 * a watch of any length holds a bounded number of snapshots and the report can follow an
 * allocation through the run (vms_growth_allocations, vmscope/growth.h). */
#ifndef VMSCOPE_CLI_WATCH_KEEP_H
#define VMSCOPE_CLI_WATCH_KEEP_H

#include <stddef.h>

#include "vmscope/snapshot.h"

#define WATCH_KEEP 16

struct watch_keep {
	struct vms_snapshot *kept[WATCH_KEEP]; /* oldest first; kept[0] is the first tick */
	size_t n;
	struct vms_snapshot *last; /* the newest tick (not in kept) */
	size_t stride, ticks;      /* keep every stride-th tick; ticks added */
};

/* Add the newest tick s; the keeper owns it from now on (it frees what it drops). */
void watch_keep_add(struct watch_keep *k, struct vms_snapshot *s);
/* The first and the newest tick (NULL before the first add); borrowed. */
const struct vms_snapshot *watch_keep_first(const struct watch_keep *k);
const struct vms_snapshot *watch_keep_last(const struct watch_keep *k);
/* Print the allocations that grew most and the new ones that kept growing: text lines, or with
 * json the members ,"allocations":[...],"new_allocations":[...] of the report object. */
void watch_keep_report(const struct watch_keep *k, int json);
/* Free every snapshot held; k is empty after. */
void watch_keep_free(struct watch_keep *k);

#endif
