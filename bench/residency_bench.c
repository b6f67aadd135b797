/* residency_bench PID [RANGE]: in one process and one run, the median time of
 *   smaps       reading /proc/PID/smaps whole (read() until 0 into one buffer, as the scanner does)
 *   scan        vms_residency_read of RANGE (default: everything) with PAGEMAP_SCAN
 *   scan-noexcl the same without the exclusive bit (no pagemap reads)
 *   pagemap     the --pagemap fallback
 *   scan-vouched PAGEMAP_SCAN with the ranges a scan's smaps vouch for (what a snapshot
 *               with ?residency=1 / --residency costs on top of its scan: no pagemap reads
 *               where smaps found no shared page, no PAGE_IS_FILE where it found every resident
 *               page anonymous); smaps parsed once, outside the timing
 *   smaps+vouched the same with its own smaps read and parse inside the timing (a residency
 *               read that has no scan beside it)
 * interleaved, 15 rounds after 2 warm-ups, for bench/residency.sh. Prints one line per method:
 * "NAME median_ms min_ms runs present_pages median_cpu_ms min_cpu_ms" (CPU: user + system time
 * of this process, CLOCK_PROCESS_CPUTIME_ID, the kernel's walk included: on a loaded machine it
 * moves far less than the wall time).
 * --only NAME runs that method alone (and the smaps read), for perf record / valgrind. */
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

/* What a scan's smaps vouch for: the private ranges (exclusive without pagemap) and the anon
 * ranges (walked without PAGE_IS_FILE). */
struct vouched {
	struct vms_addr_range *pr, *ar;
	size_t npr, nar;
};

/* Read and parse path (smaps) into a snapshot, and take the ranges its smaps vouch for, as a
 * snapshot with residency does (vms_residency_snapshot). 0 or -1. */
static int vouched_ranges(const char *path, struct vms_buf *b, struct vouched *v)
{
	struct vms_snapshot *s = vms_snapshot_new();
	int rc = -1;
	if (s && vms_buf_read_file(AT_FDCWD, path, 0, b) == 0 && vms_smaps_parse(s, b->data, b->len) == 0 &&
	    vms_residency_private_ranges(s, &v->pr, &v->npr) == 0 &&
	    vms_residency_anon_ranges(s, VMS_RESIDENCY_ANON_MIN_RSS, &v->ar, &v->nar) == 0)
		rc = 0;
	vms_snapshot_free(s);
	return rc;
}

/* This process's CPU time (user + system), in milliseconds. */
static double cpu_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	const char *only = NULL;
	if (argc > 3 && !strcmp(argv[argc - 2], "--only")) {
		only = argv[argc - 1];
		argc -= 2;
	}
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: residency_bench PID [START-END] [--only METHOD]\n");
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
	double t[N_METHODS][ROUNDS], tc[N_METHODS][ROUNDS];
	uint64_t present[N_METHODS] = {0};
	struct vms_buf b = {0};
	struct vouched pre = {0};
	if (vouched_ranges(path, &b, &pre) != 0) {
		fprintf(stderr, "residency_bench: cannot read %s\n", path);
		return 1;
	}
	for (int round = -2; round < ROUNDS; round++)
		for (int m = 0; m < N_METHODS; m++) {
			if (only && m && strcmp(names[m], only))
				continue;
			double t0 = now_ms(), c0 = cpu_ms();
			struct vouched own = {0};
			if (m == 0) {
				if (vms_buf_read_file(AT_FDCWD, path, 0, &b) != 0) {
					fprintf(stderr, "residency_bench: cannot read %s\n", path);
					return 1;
				}
			} else {
				if (m == 5 && vouched_ranges(path, &b, &own) != 0)
					return 1;
				const struct vouched *v = m == 4 ? &pre : &own;
				struct vms_residency r;
				struct vms_residency_opts o = {.no_exclusive = m == 2,
				                               .force_pagemap = m == 3,
				                               .private_ranges = v->pr,
				                               .n_private_ranges = v->npr,
				                               .anon_ranges = v->ar,
				                               .n_anon_ranges = v->nar};
				if (vms_residency_read(pid, start, end, &o, &r) != 0) {
					fprintf(stderr, "residency_bench: residency failed\n");
					return 1;
				}
				present[m] = r.pages[0];
				vms_residency_free(&r);
				free(own.pr);
				free(own.ar);
			}
			if (round >= 0) {
				t[m][round] = now_ms() - t0;
				tc[m][round] = cpu_ms() - c0;
			}
		}
	free(b.data);
	free(pre.pr);
	free(pre.ar);
	for (int m = 0; m < N_METHODS; m++) {
		if (only && m && strcmp(names[m], only))
			continue;
		double med = median(t[m], ROUNDS); /* sorts: t[m][0] is the minimum */
		double cmed = median(tc[m], ROUNDS);
		printf("%s %.3f %.3f %d %llu %.3f %.3f\n", names[m], med, t[m][0], ROUNDS,
		       (unsigned long long)present[m], cmed, tc[m][0]);
	}
	return 0;
}
