/* libFuzzer harness: untrusted snapshot JSON -> importer; accepted snapshots go through the
 * writer, the exporters, a self-diff and lookups, and must satisfy the snapshot invariants
 * (fuzz_invariants.h). Build: tests/fuzz/README.md. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_writers.h"
#include "vmscope/diff.h"
#include "vmscope/export.h"
#include "vmscope/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vms_snapshot *s = NULL;
	char err[256];
	int rc = vms_json_parse_snapshot((const char *)data, size, &s, err, sizeof err);
	if (rc != VMS_OK) {
		FUZZ_CHECK(s == NULL);
		return 0;
	}
	FUZZ_CHECK(s != NULL);
	fuzz_check_snapshot(s);

	fuzz_check_writers(s);

	char *out = NULL;
	size_t len = 0;
	struct vms_diff d;
	FUZZ_CHECK(vms_diff_compute(s, s, &d) == VMS_OK);
	FUZZ_CHECK(d.n_allocations == 0 && d.n_regions == 0); /* nothing changes against itself */
	out = NULL;
	FUZZ_CHECK(vms_export_diff_text(&d, &out, &len) == VMS_OK);
	free(out);
	out = NULL;
	FUZZ_CHECK(vms_json_write_diff(&d, NULL, &out, &len) == VMS_OK);
	free(out);
	vms_diff_free(&d);

	uint64_t addrs[8] = {0, 0x10000, 0x7ffffffff000ull, UINT64_MAX, 0, 0, 0, 0};
	if (s->n_regions) {
		addrs[4] = s->regions[0].start;
		addrs[5] = s->regions[s->n_regions - 1].end - 1;
		addrs[6] = s->regions[s->n_regions / 2].end;
		addrs[7] = s->regions[s->n_regions / 2].start - 1;
	}
	for (int i = 0; i < 8; i++) {
		struct vms_lookup l;
		vms_snapshot_lookup(s, addrs[i], &l);
		FUZZ_CHECK(l.kind >= 0 && l.kind <= 2);
		if (l.kind == 0) {
			FUZZ_CHECK(l.region >= 0 && (size_t)l.region < s->n_regions);
			FUZZ_CHECK(l.allocation >= 0 && (size_t)l.allocation < s->n_allocations);
			FUZZ_CHECK(s->regions[l.region].start <= addrs[i] &&
			           addrs[i] < s->regions[l.region].end);
		}
		cJSON *j = vms_json_lookup(s, addrs[i], &l, NULL);
		cJSON_Delete(j);
	}

	vms_snapshot_free(s);
	return 0;
}
