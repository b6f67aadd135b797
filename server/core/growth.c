/* Steady growth or a one-time jump (vmscope/growth.h). */
#include "vmscope/growth.h"

void vms_growth_fit(const int64_t *t_ms, const uint64_t *v, size_t n, struct vms_growth_fit *out)
{
	*out = (struct vms_growth_fit){.kind = VMS_GROWTH_NONE};
	if (n < 2)
		return;
	out->delta = (int64_t)(v[n - 1] - v[0]);
	/* the least-squares line through (t - t0, v - v0): doubles centred on the first point */
	double sx = 0, sy = 0, sxx = 0, sxy = 0, syy = 0;
	for (size_t i = 0; i < n; i++) {
		double x = (double)(t_ms[i] - t_ms[0]) / 60000.0, y = (double)(int64_t)(v[i] - v[0]);
		sx += x;
		sy += y;
		sxx += x * x;
		sxy += x * y;
		syy += y * y;
		if (i == 0)
			continue;
		int64_t step = (int64_t)(v[i] - v[i - 1]);
		if (step > 0)
			out->rises++;
		if (step > out->largest_step)
			out->largest_step = step;
		if (-step > out->largest_drop)
			out->largest_drop = -step;
	}
	double dn = (double)n, vx = sxx - sx * sx / dn, vy = syy - sy * sy / dn, cxy = sxy - sx * sy / dn;
	if (vx > 0)
		out->slope_per_min = cxy / vx;
	if (vx > 0 && vy > 0)
		out->r2 = cxy * cxy / (vx * vy);
	if (out->delta < (int64_t)VMS_GROWTH_MIN_BYTES)
		return;
	if (out->largest_step * 2 > out->delta)
		out->kind = VMS_GROWTH_JUMP;
	else if (out->rises >= VMS_GROWTH_MIN_RISES && out->largest_drop * 10 <= out->delta && out->r2 >= 0.8)
		out->kind = VMS_GROWTH_STEADY;
	else
		out->kind = VMS_GROWTH_IRREGULAR;
}

const char *vms_growth_kind_key(enum vms_growth_kind k)
{
	static const char *const keys[] = {"none", "steady", "jump", "irregular"};
	return (unsigned)k < sizeof keys / sizeof *keys ? keys[k] : "none";
}
