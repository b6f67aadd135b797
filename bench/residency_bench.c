/* residency_bench PID [RANGE]: in one process and one run, the median time of
 *   smaps       reading /proc/PID/smaps whole (read() until 0 into one buffer, as the scanner does)
 *   scan        vms_residency_read of RANGE (default: everything) with PAGEMAP_SCAN
 *   scan-noexcl the same without the exclusive bit (no pagemap reads)
 *   pagemap     the --pagemap fallback
 *   scan-vouched PAGEMAP_SCAN with the private ranges a scan's smaps vouch for (what a snapshot
 *               with ?residency=1 / --residency costs on top of its scan: no pagemap reads
 *               where smaps found no shared page); smaps parsed once, outside the timing
 *   smaps+vouched the same with its own smaps read and parse inside the timing (a residency
 *               read that has no scan beside it)
 * interleaved, 15 rounds after 2 warm-ups, for bench/residency.sh. Prints one line per method:
 * "NAME median_ms min_ms runs present_pages". */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_time.h"
#include "vmscope/pages.h"
#include "vmscope/parse.h"
#include "vmscope/snapshot.h"
#include "vmscope/util.h"

#define ROUNDS 15

/* Read and parse path (smaps) into a snapshot, and take the private ranges its smaps vouch for,
 * as a scan would (vms_residency_private_ranges). 0 or -1. */
static int private_ranges(const char *path, struct vms_buf *b, struct vms_addr_range **out, size_t *n)
{
	struct vms_snapshot *s = vms_snapshot_new();
	int rc = -1;
	if (s && vms_buf_read_file(AT_FDCWD, path, 0, b) == 0 && vms_smaps_parse(s, b->data, b->len) == 0 &&
	    vms_residency_private_ranges(s, out, n) == 0)
		rc = 0;
	vms_snapshot_free(s);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: residency_bench PID [START-END]\n");
		return 2;
	}
	pid_t pid = (pid_t)atoi(argv[1]);
	uint64_t start = 0, end = 0;
	if (argc > 2 && vms_parse_range(argv[2], &start, &end) != 0) {
		fprintf(stderr, "residency_bench: bad range\n");
		return 2;
	}
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/smaps", (int)pid);
	static const char *names[] = {"smaps",   "scan",         "scan-noexcl",
	                              "pagemap", "scan-vouched", "smaps+vouched"};
	enum { N_METHODS = 6 };
	double t[N_METHODS][ROUNDS];
	uint64_t present[N_METHODS] = {0};
	struct vms_buf b = {0};
	struct vms_addr_range *pr = NULL;
	size_t npr = 0;
	if (private_ranges(path, &b, &pr, &npr) != 0) {
		fprintf(stderr, "residency_bench: cannot read %s\n", path);
		return 1;
	}
	for (int round = -2; round < ROUNDS; round++)
		for (int m = 0; m < N_METHODS; m++) {
			double t0 = now_ms();
			struct vms_addr_range *own = NULL;
			size_t nown = 0;
			if (m == 0) {
				if (vms_buf_read_file(AT_FDCWD, path, 0, &b) != 0) {
					fprintf(stderr, "residency_bench: cannot read %s\n", path);
					return 1;
				}
			} else {
				if (m == 5 && private_ranges(path, &b, &own, &nown) != 0)
					return 1;
				struct vms_residency r;
				struct vms_residency_opts o = {.no_exclusive = m == 2,
				                               .force_pagemap = m == 3,
				                               .private_ranges = m == 4 ? pr : own,
				                               .n_private_ranges = m == 4 ? npr : nown};
				if (vms_residency_read(pid, start, end, &o, &r) != 0) {
					fprintf(stderr, "residency_bench: residency failed\n");
					return 1;
				}
				present[m] = r.pages[0];
				vms_residency_free(&r);
				free(own);
			}
			if (round >= 0)
				t[m][round] = now_ms() - t0;
		}
	free(b.data);
	free(pr);
	for (int m = 0; m < N_METHODS; m++) {
		double med = median(t[m], ROUNDS); /* sorts: t[m][0] is the minimum */
		printf("%s %.3f %.3f %d %llu\n", names[m], med, t[m][0], ROUNDS,
		       (unsigned long long)present[m]);
	}
	return 0;
}
