/* libFuzzer harness: untrusted smaps text -> parser -> classifier -> JSON/text/CSV writers,
 * then the snapshot invariants (fuzz_invariants.h). Build: tests/fuzz/README.md. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_writers.h"
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
	struct vms_classify_ctx ctx = {
	    .shmem_major = 0, .shmem_minor = 1, .heap_max = 64u << 20, .main_tid = 1};
	int rc = vms_classify(s, &ctx);
	FUZZ_CHECK(rc == VMS_OK);
	fuzz_check_snapshot(s);

	fuzz_check_writers(s);

	vms_snapshot_free(s);
	return 0;
}
