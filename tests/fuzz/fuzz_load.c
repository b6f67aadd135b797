/* libFuzzer harness: any file a user may open (vms_load_any: gzip or not; a snapshot JSON, a
 * capture whose raw smaps must match its snapshot, or a bare smaps text classified without
 * memory or files); accepted snapshots must satisfy the snapshot invariants
 * (fuzz_invariants.h) and go through the writers (fuzz_writers.h). Decompressed text is capped
 * at 1 MiB, so a gzip bomb must be refused, never inflated. Build: tests/fuzz/README.md. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_writers.h"
#include "vmscope/capture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vms_snapshot *s = NULL;
	enum vms_load_kind kind = 0;
	char err[256] = "";
	int rc = vms_load_any((const char *)data, size, 1u << 20, "fuzz", &s, &kind, err, sizeof err);
	if (rc != VMS_OK) {
		FUZZ_CHECK(s == NULL);
		FUZZ_CHECK(rc == VMS_ERR_NOMEM || *err); /* every refusal says why */
		return 0;
	}
	FUZZ_CHECK(s != NULL);
	FUZZ_CHECK(kind == VMS_LOAD_SNAPSHOT || kind == VMS_LOAD_CAPTURE || kind == VMS_LOAD_SMAPS);
	fuzz_check_snapshot(s);
	fuzz_check_writers(s);
	vms_snapshot_free(s);
	return 0;
}
