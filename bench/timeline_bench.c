/* timeline_bench: a 24 h x 1 Hz watch in the store. Stores 86,400 samples (a realistic summary)
 * into a temporary database, then times reading them back (vms_store_samples over the whole
 * range: what GET /api/v1/watches/{id}/samples does before downsampling), and prints the file's
 * size. Usage: timeline_bench [N_SAMPLES] (default 86400). Figures: docs/benchmarks.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vmscope/store.h"
#include "vmscope/store_watch.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 86400;
	char dir[] = "/tmp/vms-tlbench-XXXXXX", db[64], err[256] = "";
	if (!mkdtemp(dir))
		return 1;
	snprintf(db, sizeof db, "%s/db", dir);
	struct vms_store *st = NULL;
	if (vms_store_open(db, NULL, &st, err, sizeof err) != VMS_OK) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	struct vms_watch w = {
	    .pid = 1, .start_time = 1, .name = "bench", .interval_ms = 1000, .retention_s = 0};
	int64_t id = 0;
	vms_store_watch_create(st, &w, &id);
	struct vms_sample s;
	memset(&s, 0, sizeof s);
	double t0 = now_s();
	for (long i = 0; i < n; i++) {
		s.t_ms = 1700000000000 + i * 1000;
		for (int t = 0; t < VMS_TYPE_COUNT; t++) {
			s.summary[t].blocks = (uint64_t)(t * 7 + 3);
			s.summary[t].regions = (uint64_t)(t * 11 + 5);
			s.summary[t].largest = (uint64_t)(t + 1) << 21;
			for (int c = 0; c < VMS_COL_COUNT; c++)
				s.summary[t].cols[c] =
				    ((uint64_t)(t * 13 + c + 1) * 4096u * 331u + (uint64_t)i * 4096u) %
				    (1u << 30);
		}
		for (int c = 0; c < VMS_COL_COUNT; c++)
			s.total[c] = s.summary[VMS_TYPE_HEAP].cols[c] * 3;
		s.threads = 12;
		s.vm_rss = 300u << 20;
		s.min_flt = 100000 + (uint64_t)i;
		if (vms_store_sample_put(st, id, &s) != VMS_OK) {
			fprintf(stderr, "put %ld failed\n", i);
			return 1;
		}
	}
	double t1 = now_s();
	struct vms_sample *out = NULL;
	size_t got = 0;
	double best = 1e9;
	for (int k = 0; k < 5; k++) {
		double a = now_s();
		vms_store_samples(st, id, 0, 0, &out, &got);
		double b = now_s() - a;
		best = b < best ? b : best;
		free(out);
	}
	double best_ds = 1e9;
	size_t got_ds = 0;
	for (int k = 0; k < 5; k++) {
		double a = now_s();
		uint64_t cnt;
		int64_t first, last;
		vms_store_samples_stats(st, id, 0, 0, &cnt, &first, &last);
		vms_store_samples_downsampled(st, id, first, last, (last - first) / 1000 + 1, &out, &got_ds);
		double b = now_s() - a;
		best_ds = b < best_ds ? b : best_ds;
		free(out);
	}
	printf("downsampled to %zu points in SQL (what the API serves): %.0f ms (best of 5)\n", got_ds,
	       best_ds * 1000);
	vms_store_close(st);
	struct stat sb;
	stat(db, &sb);
	printf("%ld samples: stored in %.1f s (%.0f us each); read back all %zu in %.0f ms (best of 5); "
	       "database %lld bytes (%.0f bytes per sample)\n",
	       n, t1 - t0, (t1 - t0) / (double)n * 1e6, got, best * 1000, (long long)sb.st_size,
	       (double)sb.st_size / (double)n);
	if (argc > 2) { /* keep it for a look */
		printf("kept %s\n", db);
		return 0;
	}
	unlink(db);
	char p[96];
	snprintf(p, sizeof p, "%s/db-wal", dir);
	unlink(p);
	snprintf(p, sizeof p, "%s/db-shm", dir);
	unlink(p);
	snprintf(p, sizeof p, "%s/db.token", dir);
	unlink(p);
	rmdir(dir);
	return 0;
}
