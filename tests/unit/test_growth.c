/* vms_growth_fit (vmscope/growth.h): a steady rise is leak-like, a one-time jump is not, nor a
 * sawtooth, a flat series or a fall; the fitted slope is in bytes per minute. */
#include "test.h"
#include "vmscope/growth.h"

#define MIB (1024u * 1024u)

int main(void)
{
	int64_t t[40];
	uint64_t v[40];
	struct vms_growth_fit f;
	for (int i = 0; i < 40; i++)
		t[i] = 1700000000000 + i * 1000;

	/* 1 MiB a second, with jitter: steady, 60 MiB/min */
	for (int i = 0; i < 40; i++)
		v[i] = 100u * MIB + (uint64_t)i * MIB + (i % 3) * 4096u;
	vms_growth_fit(t, v, 40, &f);
	CHECK(f.kind == VMS_GROWTH_STEADY);
	CHECK(f.rises >= 30);
	CHECK(f.r2 > 0.99);
	CHECK(f.slope_per_min > 59.0 * MIB && f.slope_per_min < 61.0 * MIB);
	CHECK(f.delta == (int64_t)(39u * MIB));

	/* flat, one 32 MiB jump in the middle, flat again: a jump */
	for (int i = 0; i < 40; i++)
		v[i] = 100u * MIB + (i >= 20 ? 32u * MIB : 0) + (i % 2) * 4096u;
	vms_growth_fit(t, v, 40, &f);
	CHECK(f.kind == VMS_GROWTH_JUMP);
	CHECK(f.largest_step >= (int64_t)(32u * MIB - 8192u));

	/* a jump on top of a small steady rise is still a jump */
	for (int i = 0; i < 40; i++)
		v[i] = 100u * MIB + (uint64_t)i * 65536u + (i >= 20 ? 32u * MIB : 0);
	vms_growth_fit(t, v, 40, &f);
	CHECK(f.kind == VMS_GROWTH_JUMP);

	/* sawtooth: rises 4 MiB over 10 samples then frees 3 MiB: not steady */
	for (int i = 0; i < 40; i++)
		v[i] = 100u * MIB + (uint64_t)(i % 10) * 4u * MIB / 10u + (uint64_t)(i / 10) * MIB;
	vms_growth_fit(t, v, 40, &f);
	CHECK(f.kind == VMS_GROWTH_IRREGULAR);
	CHECK(f.largest_drop > 0);

	/* flat, falling, tiny rise, too few points */
	for (int i = 0; i < 40; i++)
		v[i] = 100u * MIB;
	vms_growth_fit(t, v, 40, &f);
	CHECK(f.kind == VMS_GROWTH_NONE && f.delta == 0 && f.r2 == 0);
	for (int i = 0; i < 40; i++)
		v[i] = 100u * MIB - (uint64_t)i * MIB;
	vms_growth_fit(t, v, 40, &f);
	CHECK(f.kind == VMS_GROWTH_NONE && f.delta < 0);
	for (int i = 0; i < 40; i++)
		v[i] = 100u * MIB + (uint64_t)i * 4096u;
	vms_growth_fit(t, v, 40, &f);
	CHECK(f.kind == VMS_GROWTH_NONE);
	vms_growth_fit(t, v, 1, &f);
	CHECK(f.kind == VMS_GROWTH_NONE && f.delta == 0);
	CHECK(!strcmp(vms_growth_kind_key(VMS_GROWTH_STEADY), "steady"));
	CHECK(!strcmp(vms_growth_kind_key(VMS_GROWTH_JUMP), "jump"));
	TEST_MAIN_END();
}
