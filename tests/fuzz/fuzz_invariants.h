/* Shared structural checks for the fuzz harnesses: abort() on any violation so libFuzzer
 * records the input. Not a test of its own (tests/fuzz is outside the ctest globs). */
#ifndef VMSCOPE_FUZZ_INVARIANTS_H
#define VMSCOPE_FUZZ_INVARIANTS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmscope/snapshot.h"

#define FUZZ_CHECK(cond)                                                                                     \
	do {                                                                                                 \
		if (!(cond)) {                                                                               \
			fprintf(stderr, "invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__);        \
			abort();                                                                             \
		}                                                                                            \
	} while (0)

static void fuzz_check_snapshot(const struct vms_snapshot *s)
{
	/* regions sorted, non-empty, non-overlapping */
	for (size_t i = 0; i < s->n_regions; i++) {
		FUZZ_CHECK(s->regions[i].start < s->regions[i].end);
		if (i)
			FUZZ_CHECK(s->regions[i].start >= s->regions[i - 1].end);
	}
	/* allocations tile the regions, in order; their columns are the sum of their regions' */
	size_t next = 0;
	uint64_t sum[VMS_TYPE_COUNT][VMS_COL_COUNT];
	uint64_t blocks[VMS_TYPE_COUNT] = {0}, nreg[VMS_TYPE_COUNT] = {0}, largest[VMS_TYPE_COUNT] = {0};
	memset(sum, 0, sizeof sum);
	for (size_t a = 0; a < s->n_allocations; a++) {
		const struct vms_allocation *al = &s->allocations[a];
		FUZZ_CHECK(al->n_regions > 0);
		FUZZ_CHECK(al->first_region == next);
		FUZZ_CHECK(next + al->n_regions <= s->n_regions);
		FUZZ_CHECK((unsigned)al->type < VMS_TYPE_COUNT && al->type != VMS_TYPE_FREE &&
		           al->type != VMS_TYPE_PAGE_TABLE);
		FUZZ_CHECK(al->start == s->regions[next].start);
		FUZZ_CHECK(al->end == s->regions[next + al->n_regions - 1].end);
		uint64_t cols[VMS_COL_COUNT] = {0};
		for (uint32_t k = 0; k < al->n_regions; k++) {
			const struct vms_region *r = &s->regions[next + k];
			FUZZ_CHECK(r->allocation == a);
			FUZZ_CHECK(r->type == al->type);
			uint64_t rc[VMS_COL_COUNT];
			vms_region_columns(r, rc);
			for (int c = 0; c < VMS_COL_COUNT; c++) {
				FUZZ_CHECK(rc[c] == r->cols[c]);
				cols[c] += r->cols[c];
			}
		}
		for (int c = 0; c < VMS_COL_COUNT; c++) {
			FUZZ_CHECK(cols[c] == al->cols[c]);
			sum[al->type][c] += al->cols[c];
		}
		blocks[al->type]++;
		nreg[al->type] += al->n_regions;
		if (al->cols[VMS_COL_SIZE] > largest[al->type])
			largest[al->type] = al->cols[VMS_COL_SIZE];
		next += al->n_regions;
	}
	FUZZ_CHECK(next == s->n_regions);
	/* summary = sum of allocation columns per type; total = sum over types but Free */
	uint64_t total[VMS_COL_COUNT] = {0};
	for (int t = 0; t < VMS_TYPE_COUNT; t++) {
		if (t != VMS_TYPE_PAGE_TABLE && t != VMS_TYPE_FREE) {
			for (int c = 0; c < VMS_COL_COUNT; c++)
				FUZZ_CHECK(s->summary[t].cols[c] == sum[t][c]);
			FUZZ_CHECK(s->summary[t].blocks == blocks[t]);
			FUZZ_CHECK(s->summary[t].regions == nreg[t]);
			FUZZ_CHECK(s->summary[t].largest == largest[t]);
		}
		if (t != VMS_TYPE_FREE)
			for (int c = 0; c < VMS_COL_COUNT; c++)
				total[c] += s->summary[t].cols[c];
	}
	for (int c = 0; c < VMS_COL_COUNT; c++)
		FUZZ_CHECK(s->total[c] == total[c]);
	/* Free gaps: sorted, non-empty, disjoint from the regions, summed into the Free row */
	uint64_t free_total = 0;
	for (size_t g = 0; g < s->n_gaps; g++) {
		FUZZ_CHECK(s->gaps[g].start < s->gaps[g].end);
		if (g)
			FUZZ_CHECK(s->gaps[g].start >= s->gaps[g - 1].end);
		free_total += s->gaps[g].end - s->gaps[g].start;
	}
	FUZZ_CHECK(s->summary[VMS_TYPE_FREE].cols[VMS_COL_SIZE] == free_total);
	FUZZ_CHECK(s->summary[VMS_TYPE_FREE].blocks == s->n_gaps);
	for (size_t g = 0, i = 0; g < s->n_gaps; g++) {
		while (i < s->n_regions && s->regions[i].end <= s->gaps[g].start)
			i++;
		if (i < s->n_regions)
			FUZZ_CHECK(s->regions[i].start >= s->gaps[g].end);
	}
}

#endif
