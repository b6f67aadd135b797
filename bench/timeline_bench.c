/* timeline_bench: a 24 h x 1 Hz watch in the store. Stores 86,400 samples (a realistic summary)
 * into a temporary database, then times reading them back (vms_store_samples over the whole
 * range: what GET /api/v1/watches/{id}/samples does before downsampling), and prints the file's
 * size. Then downsampling to 1,000 points: the store's one pass (vms_store_samples_points, what
 * the route calls) against the two passes it made before (vms_store_samples_stats, then
 * vms_store_samples_downsampled) and against the query before schema 5 (one SQL GROUP BY over
 * the rows); and serving: the one pass plus the answer's JSON (vms_json_write_samples) with
 * every column and with the dashboard's three. CPU and wall time, median of 9 runs each.
 * Usage: timeline_bench [N_SAMPLES [keep]] (default 86400), or timeline_bench --db PATH to
 * measure a database kept before (watch 1). Figures: docs/benchmarks.md. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench_time.h"
#include "vmscope/json_timeline.h"
#include "vmscope/store.h"
#include "vmscope/store_watch.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The pre-schema-5 downsampling query, stepped to the end (every column read). */
static size_t old_downsample(sqlite3 *db, int64_t first, int64_t last, int64_t bucket)
{
	static const char sql[] =
	    "SELECT s.t_ms, s.flags, s.threads, s.vm_rss, s.vm_swap, s.min_flt, s.maj_flt, s.snapshot_id, "
	    "s.layout, s.bytes, s.summary, b.n, b.cmin, b.cmax, b.flags, b.snap FROM (SELECT max(t_ms) AS "
	    "last, count(*) AS n, min(committed) AS cmin, max(committed) AS cmax, max(flags) AS flags, "
	    "max(snapshot_id) AS snap FROM samples NOT INDEXED WHERE watch_id = 1 AND t_ms >= ?1 AND t_ms "
	    "<= ?2 GROUP BY (t_ms - ?1) / ?3) b JOIN samples s ON s.watch_id = 1 AND s.t_ms = b.last ORDER "
	    "BY s.t_ms";
	sqlite3_stmt *q = NULL;
	size_t n = 0;
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_int64(q, 1, first);
	sqlite3_bind_int64(q, 2, last);
	sqlite3_bind_int64(q, 3, bucket);
	while (sqlite3_step(q) == SQLITE_ROW) {
		for (int c = 0; c < 16; c++)
			(void)(c == 10 ? sqlite3_column_bytes(q, c) : sqlite3_column_int64(q, c));
		n++;
	}
	sqlite3_finalize(q);
	return n;
}

#define RUNS 9

/* One downsampling of watch id to 1,000 points by way what (0: the one pass; 1: the two passes
 * before; 2: the query before schema 5; 3 and 4: the one pass and the JSON with every column,
 * with the dashboard's three); *points and *bytes (JSON) what it gave. */
static void one_run(struct vms_store *st, sqlite3 *raw, int64_t id, int what, size_t *points, size_t *bytes)
{
	struct vms_sample *out = NULL;
	uint64_t cnt = 0;
	int64_t first = 0, last = 0, bucket = 0;
	*points = *bytes = 0;
	if (what == 1) {
		vms_store_samples_stats(st, id, 0, 0, &cnt, &first, &last);
		vms_store_samples_downsampled(st, id, first, last, (last - first) / 1000 + 1, &out, points);
	} else if (what == 2) {
		sqlite3_stmt *q = NULL;
		sqlite3_prepare_v2(raw,
		                   "SELECT count(*), min(t_ms), max(t_ms) FROM samples NOT INDEXED WHERE "
		                   "watch_id = 1 AND t_ms >= 0 AND t_ms <= 9223372036854775807",
		                   -1, &q, NULL);
		if (sqlite3_step(q) == SQLITE_ROW) {
			first = sqlite3_column_int64(q, 1);
			last = sqlite3_column_int64(q, 2);
		}
		sqlite3_finalize(q);
		*points = old_downsample(raw, first, last, (last - first) / 1000 + 1);
	} else {
		vms_store_samples_points(st, id, 0, 0, 1000, &out, points, &cnt, &bucket);
	}
	if (what >= 3) {
		struct vms_samples_answer a = {.watch_id = id,
		                               .count = cnt,
		                               .watch_state = "running",
		                               .bucket_ms = bucket,
		                               .samples = out,
		                               .n = *points,
		                               .colmask = what == 3 ? VMS_SAMPLE_ALL_COLUMNS
		                                                    : 1u << VMS_COL_COMMITTED |
		                                                          1u << VMS_COL_PRIVATE |
		                                                          1u << VMS_COL_TOTAL_WS};
		char *text = NULL;
		if (vms_json_write_samples(&a, &text, bytes) != 0)
			*bytes = 0;
		free(text);
	}
	free(out);
}

static void measure(struct vms_store *st, const char *db, int64_t id)
{
	static const char *const names[] = {
	    "downsample, one pass (vms_store_samples_points: what the route calls)",
	    "downsample, two passes before (stats + vms_store_samples_downsampled)",
	    "downsample, the query before schema 5 (GROUP BY)",
	    "served: one pass + JSON, every column",
	    "served: one pass + JSON, ?columns=committed,private,total_ws",
	};
	sqlite3 *raw = NULL;
	sqlite3_open_v2(db, &raw, SQLITE_OPEN_READONLY, NULL);
	for (int what = 0; what < 5; what++) {
		double wall[RUNS], cpu[RUNS];
		size_t points = 0, bytes = 0;
		for (int k = 0; k < RUNS; k++) {
			double a = now_s(), ac = cpu_s();
			one_run(st, raw, id, what, &points, &bytes);
			wall[k] = (now_s() - a) * 1000;
			cpu[k] = (cpu_s() - ac) * 1000;
		}
		printf("%s: %zu points", names[what], points);
		if (bytes)
			printf(", %zu bytes of JSON", bytes);
		double mc = median(cpu, RUNS), mw = median(wall, RUNS); /* sorted: [0] is the best */
		printf(": CPU %.1f ms median (best %.1f), wall %.1f ms median (best %.1f), %d runs\n", mc,
		       cpu[0], mw, wall[0], RUNS);
	}
	sqlite3_close(raw);
}

int main(int argc, char **argv)
{
	if (argc > 2 && !strcmp(argv[1], "--db")) { /* a database kept before */
		struct vms_store *st = NULL;
		char err[256] = "";
		if (vms_store_open(argv[2], NULL, &st, err, sizeof err) != VMS_OK) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		measure(st, argv[2], 1);
		vms_store_close(st);
		return 0;
	}
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
	measure(st, db, id);
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
