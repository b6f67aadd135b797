/* residency_bench PID [RANGE]: in one process and one run, the median time of
 *   smaps       reading /proc/PID/smaps whole (read() until 0 into one buffer, as the scanner does)
 *   scan        vms_residency_read of RANGE (default: everything) with PAGEMAP_SCAN
 *   scan-noexcl the same without the exclusive bit (no pagemap reads)
 *   pagemap     the --pagemap fallback
 * interleaved, 15 rounds after 2 warm-ups, for bench/residency.sh. Prints one line per method:
 * "NAME median_ms min_ms runs present_pages". */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_time.h"
#include "vmscope/pages.h"
#include "vmscope/util.h"

#define ROUNDS 15

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
	static const char *names[] = {"smaps", "scan", "scan-noexcl", "pagemap"};
	double t[4][ROUNDS];
	uint64_t present[4] = {0};
	struct vms_buf b = {0};
	for (int round = -2; round < ROUNDS; round++)
		for (int m = 0; m < 4; m++) {
			double t0 = now_ms();
			if (m == 0) {
				if (vms_buf_read_file(AT_FDCWD, path, 0, &b) != 0) {
					fprintf(stderr, "residency_bench: cannot read %s\n", path);
					return 1;
				}
			} else {
				struct vms_residency r;
				struct vms_residency_opts o = {.no_exclusive = m == 2,
				                               .force_pagemap = m == 3};
				if (vms_residency_read(pid, start, end, &o, &r) != 0) {
					fprintf(stderr, "residency_bench: residency failed\n");
					return 1;
				}
				present[m] = r.pages[0];
				vms_residency_free(&r);
			}
			if (round >= 0)
				t[m][round] = now_ms() - t0;
		}
	free(b.data);
	for (int m = 0; m < 4; m++) {
		double med = median(t[m], ROUNDS); /* sorts: t[m][0] is the minimum */
		printf("%s %.3f %.3f %d %llu\n", names[m], med, t[m][0], ROUNDS,
		       (unsigned long long)present[m]);
	}
	return 0;
}
