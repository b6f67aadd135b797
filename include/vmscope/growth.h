/* Growth of one series over time, for "what grew" (issue 10): is it a steady, leak-like rise or
 * a one-time jump? Core (libc only); the daemon's /growth and the CLI's report use it.
 *
 * A series is leak-like when all of these hold (docs/api.md, "Watches", what-grew):
 *   - it rose: last - first >= VMS_GROWTH_MIN_BYTES;
 *   - it rose in many steps: at least VMS_GROWTH_MIN_RISES samples are higher than the one
 *     before, and no single step carries more than half of the total rise;
 *   - it never fell back much: no drop larger than a tenth of the total rise;
 *   - a straight line fits: r^2 of the least-squares line through (t, value) >= 0.8.
 * A rise that fails the step test because one step carries most of it is a "jump". */
#ifndef VMSCOPE_GROWTH_H
#define VMSCOPE_GROWTH_H

#include <stddef.h>
#include <stdint.h>

#include "vmscope/snapshot.h"

#define VMS_GROWTH_MIN_BYTES (256u * 1024u)
#define VMS_GROWTH_MIN_RISES 3u

enum vms_growth_kind {
	VMS_GROWTH_NONE = 0, /* no rise worth naming (flat, fell, or below VMS_GROWTH_MIN_BYTES) */
	VMS_GROWTH_STEADY,   /* leak-like: many rises, a good linear fit, no large drop */
	VMS_GROWTH_JUMP,     /* one step carries more than half of the rise */
	VMS_GROWTH_IRREGULAR /* rose, but neither steady nor one jump (sawtooth, bursts) */
};

struct vms_growth_fit {
	enum vms_growth_kind kind;
	int64_t delta;        /* last - first */
	int64_t largest_step; /* the largest rise between two neighbouring samples */
	int64_t largest_drop; /* the largest fall between two neighbouring samples (>= 0) */
	size_t rises;         /* samples higher than the one before */
	double slope_per_min; /* of the fitted line, bytes per minute */
	double r2;            /* of the fitted line, 0..1 (0 when the series is constant) */
};

/* Fit the n values v[i] taken at t_ms[i] (ascending). n < 2 gives kind NONE. Never fails. */
void vms_growth_fit(const int64_t *t_ms, const uint64_t *v, size_t n, struct vms_growth_fit *out);

/* "steady", "jump", "irregular" or "none". */
const char *vms_growth_kind_key(enum vms_growth_kind k);

/* ---- Per allocation, over a chain of full snapshots (what grew, issue 10) ------------------
 * snaps[0..n-1]: full snapshots of one process, oldest first (a watch's full snapshots in a
 * range, or the CLI's checkpoints). An allocation is followed by its start address (as the
 * diff engine matches them); Free is left out. For each allocation of the last snapshot:
 *   delta[c]       last - first for every column; a new one (absent from snaps[0]) counts from
 *                  nothing, so its delta is its whole value;
 *   per_minute[c]  delta over the time from snaps[0] to the last snapshot;
 *   appeared_ms    a new one: when the first snapshot it is in was taken (0: not new);
 *   since_delta[c], since_per_minute[c]
 *                  a new one: last - its value when it appeared, and that per minute;
 *   seen, rises    snapshots it is in, and of those the ones where its committed is higher
 *                  than in the snapshot before;
 *   kept_growing   a new allocation that "appeared and kept growing": seen in at least
 *                  VMS_GROWTH_MIN_SEEN snapshots, its committed never fell from one to the
 *                  next and rose overall. */
#define VMS_GROWTH_MIN_SEEN 3u

struct vms_alloc_growth {
	const struct vms_allocation *a; /* in the last snapshot (borrowed) */
	int64_t delta[VMS_COL_COUNT], per_minute[VMS_COL_COUNT];
	int64_t appeared_ms;
	int64_t since_delta[VMS_COL_COUNT], since_per_minute[VMS_COL_COUNT];
	uint32_t seen, rises;
	int kept_growing;
};

/* The allocations of snaps[n-1] whose committed grew since snaps[0] (new ones included), plus
 * the new ones that kept growing, largest committed delta first; *out is malloc'd (caller
 * frees; NULL with *n_out 0 when none) and borrows from snaps[n-1]. n < 2: none.
 * VMS_OK or VMS_ERR_NOMEM. */
int vms_growth_allocations(const struct vms_snapshot *const *snaps, size_t n, struct vms_alloc_growth **out,
                           size_t *n_out);

/* Of n items in time order keep at most max (>= 2), evenly spread, always the first and the
 * last: writes the kept indices to idx (room for max) and returns how many. */
size_t vms_growth_spread(size_t n, size_t max, size_t *idx);

#endif
