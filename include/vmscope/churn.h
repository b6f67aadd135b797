/* How much the set of allocations changed since the last full snapshot of a watch (issue 10):
 * the sampler keeps a full snapshot (the packed record) not only every snapshot_every_s but
 * also as soon as the process's allocations moved past a threshold, so that a burst of
 * mmap/munmap between two scheduled full snapshots is not lost. Core (libc only).
 *
 * The measure (docs/api.md, "Watches", full snapshots by threshold), against the last full
 * snapshot kept, Free left out:
 *   - allocations changed: allocations whose start address is new plus those whose start
 *     address is gone (an allocation that only grew or shrank in place is not counted here);
 *   - committed moved: the sum over types of |committed now - committed then|, so 100 MiB
 *     leaving Heap for Private Data counts 200 MiB, and a mapping that comes and goes between
 *     two full snapshots counts nothing (nothing is lost to diff then).
 * Either one at or past its limit (0: that measure is off) calls for a full snapshot. */
#ifndef VMSCOPE_CHURN_H
#define VMSCOPE_CHURN_H

#include <stddef.h>
#include <stdint.h>

#include "vmscope/snapshot.h"

/* The last full snapshot, as far as the measure needs it. Zero it before first use. */
struct vms_churn_base {
	uint64_t *starts; /* its allocations' start addresses (Free left out), ascending */
	size_t n, cap;
	uint64_t committed[VMS_TYPE_COUNT];
	int set; /* 0: nothing remembered yet */
};

struct vms_churn {
	size_t added, removed;    /* allocations whose start is new / gone */
	uint64_t committed_moved; /* bytes, summed over types */
};

/* Remember s as the last full snapshot (reuses b's buffer). VMS_OK or VMS_ERR_NOMEM (then b is
 * left unset, so the next call to vms_churn_measure reports nothing). */
int vms_churn_remember(struct vms_churn_base *b, const struct vms_snapshot *s);
/* Measure s against b (b unset: all zero). O(allocations). Never fails. */
void vms_churn_measure(const struct vms_churn_base *b, const struct vms_snapshot *s, struct vms_churn *out);
/* 1 when c reaches max_allocations (added + removed) or max_committed (bytes); a limit of 0 is
 * off. */
int vms_churn_past(const struct vms_churn *c, uint32_t max_allocations, uint64_t max_committed);
/* Free b's buffer (b stays usable, unset). Accepts NULL. */
void vms_churn_clear(struct vms_churn_base *b);

#endif
