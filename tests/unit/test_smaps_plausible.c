/* Counters no kernel would report (found by fuzz_smaps: Rss below the sum of its Clean/Dirty
 * split) are not believed by the smaps parser, and what vmscope writes it can read back: the
 * parser and the importer hold smaps to the same rules (vms_smaps_plausible). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "test.h"
#include "vmscope/json.h"
#include "vmscope/parse.h"
#include "vmscope/snapshot.h"

/* fuzz_smaps's second finding: a corrupt header line read as a key of the region before, so
 * the next region's Size and Rss (8 MiB) landed in a 4 KiB region. */
static const char spill[] = "7f0000000000-7f0000001000 rw-p 00000000 00:00 0 \n"
                            "Size:                  4 kB\n"
                            "Rss:                   4 kB\n"
                            "Private_Dirty:         4 kB\n"
                            "Shared_Huget00-7f0000800000 rw-p 00000000 00:00 0 \n"
                            "Size:               8192 kB\n"
                            "Rss:                8192 kB\n"
                            "Private_Dirty:      8192 kB\n";

static const char text[] = "7f0000000000-7f0000200000 rw-p 00000000 00:00 0 \n"
                           "Size:               2048 kB\n"
                           "KernelPageSize:        4 kB\n"
                           "MMUPageSize:           4 kB\n"
                           "Rss:                2048 kB\n"
                           "Pss:                2048 kB\n"
                           "Private_Dirty:      2049 kB\n"
                           "Anonymous:          2048 kB\n"
                           "7f0000200000-7f0000201000 rw-p 00000000 00:00 0 \n"
                           "Size:                  4 kB\n"
                           "KernelPageSize:        4 kB\n"
                           "MMUPageSize:           4 kB\n"
                           "Rss:                   4 kB\n"
                           "Pss:                   4 kB\n"
                           "Private_Dirty:          4 kB\n"
                           "Anonymous:             4 kB\n";

int main(void)
{
	uint64_t v[VMS_SF_COUNT] = {0};
	int field = -1;
	char why[160];
	v[VMS_SF_SIZE] = 8192;
	v[VMS_SF_RSS] = 4096;
	v[VMS_SF_PRIVATE_DIRTY] = 4096;
	CHECK(vms_smaps_plausible(v, &field, why, sizeof why) == 1);
	v[VMS_SF_SHARED_CLEAN] = 4096;
	CHECK(vms_smaps_plausible(v, &field, why, sizeof why) == 0);
	CHECK(field == VMS_SF_RSS && strstr(why, "less than"));
	v[VMS_SF_SHARED_CLEAN] = 0;
	v[VMS_SF_SWAP] = 1ull << 63; /* more than the region */
	CHECK(vms_smaps_plausible(v, &field, why, sizeof why) == 0 && field == VMS_SF_SWAP);

	struct vms_snapshot *s = fixture_classified(text, sizeof text - 1, 64, NULL, 0, 1);
	CHECK(s->n_regions == 2);
	CHECK(s->malformed_lines == 1);
	CHECK_EQ_U64(s->regions[0].smaps[VMS_SF_RSS], 0);
	CHECK_EQ_U64(s->regions[0].smaps[VMS_SF_PRIVATE_DIRTY], 0);
	CHECK_EQ_U64(s->regions[0].smaps[VMS_SF_SIZE], 2048 << 10);
	CHECK_EQ_U64(s->regions[1].smaps[VMS_SF_RSS], 4096); /* the next region is believed */
	CHECK(vms_smaps_plausible(s->regions[0].smaps, &field, why, sizeof why));

	struct vms_snapshot *t = fixture_classified(spill, sizeof spill - 1, 64, NULL, 0, 1);
	CHECK(t->n_regions == 1 && t->malformed_lines == 1); /* the region (an unknown key is tolerated) */
	CHECK_EQ_U64(t->regions[0].smaps[VMS_SF_SIZE], 4096);
	CHECK_EQ_U64(t->regions[0].smaps[VMS_SF_RSS], 0);
	vms_snapshot_free(t);

	/* Regions that together map more than VMS_MAX_MAPPED: the header that passes it is a
	 * malformed line (fuzz_smaps: the importer refused the written snapshot). */
	static const char huge[] = "1000-800000000000000 rw-p 00000000 00:00 0\n"
	                           "Size: 4 kB\n"
	                           "900000000000000-fffffffffffff000 rw-p 00000000 00:00 0\n"
	                           "Size: 4 kB\n";
	struct vms_snapshot *u = fixture_classified(huge, sizeof huge - 1, 64, NULL, 0, 1);
	CHECK(u->n_regions == 1 && u->malformed_lines >= 1);
	char *uj = NULL, uerr[256] = "";
	size_t ul = 0;
	struct vms_snapshot *uback = NULL;
	u->pid = 1;
	CHECK(vms_json_write_snapshot(u, NULL, &uj, &ul) == VMS_OK);
	CHECK_MSG(uj && vms_json_parse_snapshot(uj, ul, &uback, uerr, sizeof uerr) == VMS_OK, "%s", uerr);
	vms_snapshot_free(uback);
	free(uj);
	vms_snapshot_free(u);

	/* written and read back */
	s->pid = 1;
	char *json = NULL, err[256] = "";
	size_t len = 0;
	struct vms_snapshot *back = NULL;
	CHECK(vms_json_write_snapshot(s, NULL, &json, &len) == VMS_OK);
	CHECK_MSG(json && vms_json_parse_snapshot(json, len, &back, err, sizeof err) == VMS_OK, "%s", err);
	vms_snapshot_free(back);
	free(json);
	vms_snapshot_free(s);
	TEST_MAIN_END();
}
