/* libFuzzer harness: untrusted smaps text -> parser -> classifier -> JSON/text/CSV writers,
 * then the snapshot invariants (fuzz_invariants.h). Build: tests/fuzz/README.md. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_invariants.h"
#include "vmscope/export.h"
#include "vmscope/json.h"
#include "vmscope/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vms_snapshot *s = vms_snapshot_new();
	if (!s)
		return 0;
	if (vms_smaps_parse(s, (const char *)data, size) != VMS_OK) {
		vms_snapshot_free(s);
		return 0;
	}
	s->user_top = 0x7ffffffff000ull;
	s->mmap_min_addr = 0x10000;
	s->arch.bits = 64;
	s->arch.machine = "x86_64";
	s->page_size = 4096;
	s->pid = 1; /* the importer requires what a live scan always has */
	s->name = "fuzz";
	struct vms_classify_ctx ctx = {.shmem_major = 0, .shmem_minor = 1, .heap_max = 64u << 20, .main_tid = 1};
	int rc = vms_classify(s, &ctx);
	FUZZ_CHECK(rc == VMS_OK);
	fuzz_check_snapshot(s);

	char *out = NULL;
	size_t len = 0;
	struct vms_json_opts opts = {0};
	FUZZ_CHECK(vms_json_write_snapshot(s, &opts, &out, &len) == VMS_OK);
	FUZZ_CHECK(out && strlen(out) == len);
	/* what we write, we must read back */
	struct vms_snapshot *back = NULL;
	char err[256];
	int prc = vms_json_parse_snapshot(out, len, &back, err, sizeof err);
	if (prc != VMS_OK) {
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

	vms_snapshot_free(s);
	return 0;
}
