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

#endif
