/* The writers' checks shared by the harnesses that link the JSON layer (fuzz_smaps.c and
 * fuzz_import.c; fuzz_attribute.c links no JSON and does not include this). abort() on any
 * violation, through FUZZ_CHECK. */
#ifndef VMSCOPE_FUZZ_WRITERS_H
#define VMSCOPE_FUZZ_WRITERS_H

#include "fuzz_invariants.h"
#include "vmscope/export.h"
#include "vmscope/json.h"

/* s (which passed fuzz_check_snapshot) written as JSON must read back with the same regions,
 * allocations and summary; its text and CSV exports must be NUL-free strings of their length. */
static void fuzz_check_writers(const struct vms_snapshot *s)
{
	char *out = NULL;
	size_t len = 0;
	struct vms_json_opts opts = {0};
	FUZZ_CHECK(vms_json_write_snapshot(s, &opts, &out, &len) == VMS_OK);
	FUZZ_CHECK(out && strlen(out) == len);
	/* what we write, we must read back */
	struct vms_snapshot *back = NULL;
	char err[256];
	if (vms_json_parse_snapshot(out, len, &back, err, sizeof err) != VMS_OK) {
		fprintf(stderr, "re-import failed: %s\n", err);
		abort();
	}
	FUZZ_CHECK(back->n_regions == s->n_regions && back->n_allocations == s->n_allocations);
	for (int t = 0; t < VMS_TYPE_COUNT; t++)
		for (int c = 0; c < VMS_COL_COUNT; c++)
			FUZZ_CHECK(back->summary[t].cols[c] == s->summary[t].cols[c]);
	vms_snapshot_free(back);
	free(out);

	out = NULL;
	FUZZ_CHECK(vms_export_text(s, &out, &len) == VMS_OK);
	FUZZ_CHECK(out && strlen(out) == len);
	free(out);
	out = NULL;
	FUZZ_CHECK(vms_export_csv(s, &out, &len) == VMS_OK);
	FUZZ_CHECK(out && strlen(out) == len);
	free(out);
}

#endif
