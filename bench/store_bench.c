/* store_bench: in-process timings behind bench/api.sh's store and diff figures, and the
 * measurement that chose how the store keeps a snapshot's regions (docs/benchmarks.md, "Daemon").
 *
 * Usage: store_bench PID WORKDIR [RUNS]
 * Scans PID (twice, for the diff), then times, each as the median of RUNS (default 5):
 *   scan         vms_snapshot_take
 *   json         vms_json_write_snapshot (compact, no tree): the API's JSON
 *   json_tree    vms_json_snapshot + vms_json_print: the same text through a cJSON tree
 *   packed_put   vms_store_put: packed blob + metadata, one transaction   <- the chosen layout
 *   packed_load  vms_store_load (read + unpack + vms_snapshot_summarize)
 *   render       first vms_http_snapshot_json of a snapshot: load, render the JSON, keep it
 *   stream       later vms_http_snapshot_json calls: the kept JSON to a null sink (GET /snapshots/{id})
 *   json_put     alternative 1 (schema 1): the JSON text as the blob (write + insert)
 *   json_load    ...read back with vms_json_parse_snapshot
 *   rows_put     alternative 2: one row per region and per allocation, prepared statements,
 *                one transaction
 *   rows_load    SELECT them back into a struct vms_snapshot + vms_snapshot_summarize
 *   diff         vms_diff_compute of the two scans; diff_json adds vms_json_write_diff (the API's writer);
 *                diff_all_json: the worst case, against a small process (every region removed)
 * and prints one "key value" line per figure (milliseconds, bytes).
 *
 * The two alternatives exist only here, as the experiment; their SQL is the one exception to
 * "all SQL in server/store", since the product does not use it. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench_time.h"
#include "vmscope/diff.h"
#include "vmscope/error.h"
#include "vmscope/http.h"
#include "vmscope/json.h"
#include "vmscope/store.h"

#define MAX_RUNS 21

static int null_size(void *arg, uint64_t total);
static int null_chunk(void *arg, const void *buf, size_t len);

static void die(const char *what, int err)
{
	fprintf(stderr, "store_bench: %s: %s\n", what, vms_strerror(err));
	exit(1);
}

static long long file_size(const char *p)
{
	struct stat sb;
	return stat(p, &sb) == 0 ? (long long)sb.st_size : -1;
}

/* ---- the rows layout (experiment) --------------------------------------------------------- */

static const char rows_schema[] =
    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
    "CREATE TABLE IF NOT EXISTS regions (snap INTEGER, idx INTEGER, start INTEGER, end_ INTEGER, perms TEXT,"
    " off INTEGER, maj INTEGER, min INTEGER, inode INTEGER, path TEXT, deleted INTEGER, role TEXT, thp "
    "INTEGER,"
    " pkey INTEGER, vm_flags TEXT, s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12, s13, s14, s15, s16,"
    " s17, s18, s19, s20, s21, PRIMARY KEY (snap, idx)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS allocations (snap INTEGER, idx INTEGER, type INTEGER, first INTEGER, n "
    "INTEGER,"
    " details TEXT, tid INTEGER, PRIMARY KEY (snap, idx)) WITHOUT ROWID;";

_Static_assert(VMS_SF_COUNT == 22, "rows layout has one column per smaps field");

static void rows_put(sqlite3 *db, int64_t snap, const struct vms_snapshot *s)
{
	sqlite3_stmt *r = NULL, *a = NULL;
	sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	sqlite3_prepare_v2(
	    db,
	    "INSERT INTO regions VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15,"
	    " ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33, ?34,"
	    " ?35, ?36, ?37)",
	    -1, &r, NULL);
	for (size_t i = 0; i < s->n_regions; i++) {
		const struct vms_region *g = &s->regions[i];
		int k = 1;
		sqlite3_bind_int64(r, k++, snap);
		sqlite3_bind_int64(r, k++, (sqlite3_int64)i);
		sqlite3_bind_int64(r, k++, (sqlite3_int64)g->start);
		sqlite3_bind_int64(r, k++, (sqlite3_int64)g->end);
		sqlite3_bind_text(r, k++, g->perms, -1, SQLITE_STATIC);
		sqlite3_bind_int64(r, k++, (sqlite3_int64)g->offset);
		sqlite3_bind_int(r, k++, (int)g->dev_major);
		sqlite3_bind_int(r, k++, (int)g->dev_minor);
		sqlite3_bind_int64(r, k++, (sqlite3_int64)g->inode);
		if (g->path)
			sqlite3_bind_text(r, k++, g->path, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(r, k++);
		sqlite3_bind_int(r, k++, g->deleted);
		if (g->role)
			sqlite3_bind_text(r, k++, g->role, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(r, k++);
		sqlite3_bind_int(r, k++, g->thp_eligible);
		sqlite3_bind_int(r, k++, g->protection_key);
		sqlite3_bind_text(r, k++, g->vm_flags ? g->vm_flags : "", -1, SQLITE_STATIC);
		for (int f = 0; f < VMS_SF_COUNT; f++)
			sqlite3_bind_int64(r, k++, (sqlite3_int64)g->smaps[f]);
		if (sqlite3_step(r) != SQLITE_DONE)
			fprintf(stderr, "rows_put: %s\n", sqlite3_errmsg(db));
		sqlite3_reset(r);
	}
	sqlite3_prepare_v2(db, "INSERT INTO allocations VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", -1, &a, NULL);
	for (size_t i = 0; i < s->n_allocations; i++) {
		const struct vms_allocation *al = &s->allocations[i];
		sqlite3_bind_int64(a, 1, snap);
		sqlite3_bind_int64(a, 2, (sqlite3_int64)i);
		sqlite3_bind_int(a, 3, al->type);
		sqlite3_bind_int64(a, 4, al->first_region);
		sqlite3_bind_int64(a, 5, al->n_regions);
		if (al->details)
			sqlite3_bind_text(a, 6, al->details, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(a, 6);
		sqlite3_bind_int(a, 7, al->tid);
		sqlite3_step(a);
		sqlite3_reset(a);
	}
	sqlite3_finalize(r);
	sqlite3_finalize(a);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
}

static const char *col_str(struct vms_snapshot *s, sqlite3_stmt *q, int c)
{
	const unsigned char *t = sqlite3_column_text(q, c);
	return t ? vms_snapshot_strdup(s, (const char *)t) : NULL;
}

static struct vms_snapshot *rows_load(sqlite3 *db, int64_t snap, const struct vms_snapshot *like)
{
	struct vms_snapshot *s = vms_snapshot_new();
	sqlite3_stmt *q = NULL;
	size_t cap = like->n_regions, acap = like->n_allocations;
	/* Top-level fields are a handful of columns either way; copy them to isolate the regions. */
	s->pid = like->pid;
	s->page_size = like->page_size;
	s->mmap_min_addr = like->mmap_min_addr;
	s->user_top = like->user_top;
	s->page_table_bytes = like->page_table_bytes;
	s->regions = vms_snapshot_alloc(s, cap * sizeof *s->regions);
	s->allocations = vms_snapshot_alloc(s, acap * sizeof *s->allocations);
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	sqlite3_prepare_v2(db, "SELECT * FROM regions WHERE snap = ?1 ORDER BY idx", -1, &q, NULL);
	sqlite3_bind_int64(q, 1, snap);
	while (sqlite3_step(q) == SQLITE_ROW && s->n_regions < cap) {
		struct vms_region *g = &s->regions[s->n_regions++];
		int k = 2;
		g->start = (uint64_t)sqlite3_column_int64(q, k++);
		g->end = (uint64_t)sqlite3_column_int64(q, k++);
		snprintf(g->perms, sizeof g->perms, "%s", (const char *)sqlite3_column_text(q, k++));
		g->offset = (uint64_t)sqlite3_column_int64(q, k++);
		g->dev_major = (unsigned)sqlite3_column_int(q, k++);
		g->dev_minor = (unsigned)sqlite3_column_int(q, k++);
		g->inode = (uint64_t)sqlite3_column_int64(q, k++);
		g->path = col_str(s, q, k++);
		g->deleted = sqlite3_column_int(q, k++);
		g->role = col_str(s, q, k++);
		g->thp_eligible = sqlite3_column_int(q, k++);
		g->protection_key = sqlite3_column_int(q, k++);
		g->vm_flags = col_str(s, q, k++);
		g->vm_flag_bits = vms_vmflags_parse(g->vm_flags, strlen(g->vm_flags));
		for (int f = 0; f < VMS_SF_COUNT; f++)
			g->smaps[f] = (uint64_t)sqlite3_column_int64(q, k++);
	}
	sqlite3_finalize(q);
	sqlite3_prepare_v2(
	    db, "SELECT type, first, n, details, tid FROM allocations WHERE snap = ?1 ORDER BY idx", -1, &q,
	    NULL);
	sqlite3_bind_int64(q, 1, snap);
	while (sqlite3_step(q) == SQLITE_ROW && s->n_allocations < acap) {
		struct vms_allocation *al = &s->allocations[s->n_allocations++];
		al->type = (enum vms_type)sqlite3_column_int(q, 0);
		al->first_region = (uint32_t)sqlite3_column_int64(q, 1);
		al->n_regions = (uint32_t)sqlite3_column_int64(q, 2);
		al->details = col_str(s, q, 3);
		al->tid = sqlite3_column_int(q, 4);
	}
	sqlite3_finalize(q);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	if (vms_snapshot_summarize(s) != VMS_OK)
		fprintf(stderr, "rows_load: summarize failed\n");
	return s;
}

/* ---- main ---------------------------------------------------------------------------------- */

static int null_size(void *arg, uint64_t total)
{
	*(uint64_t *)arg = total;
	return 0;
}

static int null_chunk(void *arg, const void *buf, size_t len)
{
	(void)arg;
	(void)buf;
	(void)len;
	return 0;
}

/* Median over runs (t: room for runs times) of diffing from against to, and with json also
 * writing the diff's JSON as the API sends it. */
static double diff_median_ms(const struct vms_snapshot *from, const struct vms_snapshot *to, int json,
                             double *t, int runs)
{
	for (int i = 0; i < runs; i++) {
		struct vms_diff d;
		double t0 = now_ms();
		int err = vms_diff_compute(from, to, &d);
		if (err != VMS_OK)
			die("diff", err);
		if (json) {
			char *text = NULL;
			size_t len = 0;
			vms_json_write_diff(&d, NULL, &text, &len);
			t[i] = now_ms() - t0;
			free(text);
		} else {
			t[i] = now_ms() - t0;
		}
		vms_diff_free(&d);
	}
	return median(t, runs);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: store_bench PID WORKDIR [RUNS]\n");
		return 2;
	}
	pid_t pid = (pid_t)atoi(argv[1]);
	const char *work = argv[2];
	int runs = argc > 3 ? atoi(argv[3]) : 5;
	if (runs < 1 || runs > MAX_RUNS)
		runs = 5;
	double t[MAX_RUNS];
	struct vms_snapshot *a = NULL, *b = NULL;
	int err;

	for (int i = 0; i < runs; i++) {
		struct vms_snapshot *s = NULL;
		double t0 = now_ms();
		if ((err = vms_snapshot_take(pid, NULL, &s)) != VMS_OK)
			die("scan", err);
		t[i] = now_ms() - t0;
		if (!a)
			a = s;
		else if (!b)
			b = s;
		else
			vms_snapshot_free(s);
	}
	if (!b && (err = vms_snapshot_take(pid, NULL, &b)) != VMS_OK)
		die("scan", err);
	printf("regions %zu\n", a->n_regions);
	printf("allocations %zu\n", a->n_allocations);
	printf("scan_ms %.1f\n", median(t, runs));

	size_t json_len = 0;
	for (int i = 0; i < runs; i++) {
		double t0 = now_ms();
		char *text = NULL;
		if ((err = vms_json_write_snapshot(a, NULL, &text, &json_len)) != VMS_OK)
			die("json", err);
		t[i] = now_ms() - t0;
		free(text);
	}
	printf("json_bytes %zu\n", json_len);
	printf("json_ms %.1f\n", median(t, runs));
	for (int i = 0; i < runs; i++) {
		double t0 = now_ms();
		cJSON *j = vms_json_snapshot(a, NULL);
		char *text = vms_json_print(j, 0);
		t[i] = now_ms() - t0;
		cJSON_Delete(j);
		free(text);
	}
	printf("json_tree_ms %.1f\n", median(t, runs));

	/* The chosen layout: the store itself. */
	char dbp[512], errbuf[256];
	snprintf(dbp, sizeof dbp, "%s/packed.db", work);
	struct vms_store *st = NULL;
	struct vms_store_opts so = {.max_bytes = 1ull << 40, .max_snapshots = 1000};
	if ((err = vms_store_open(dbp, &so, &st, errbuf, sizeof errbuf)) != VMS_OK) {
		fprintf(stderr, "store_bench: %s\n", errbuf);
		return 1;
	}
	int64_t ids[MAX_RUNS];
	for (int i = 0; i < runs; i++) {
		double t0 = now_ms();
		if ((err = vms_store_put(st, a, VMS_SOURCE_SCAN, NULL, 0, &ids[i])) != VMS_OK)
			die("store put", err);
		t[i] = now_ms() - t0;
	}
	printf("packed_put_ms %.1f\n", median(t, runs));
	struct vms_snapshot_meta m;
	if (vms_store_meta(st, ids[0], &m) == VMS_OK) {
		printf("packed_bytes %llu\n", (unsigned long long)m.body_bytes);
		vms_snapshot_meta_clear(&m);
	}
	for (int i = 0; i < runs; i++) {
		struct vms_snapshot *s = NULL;
		double t0 = now_ms();
		if ((err = vms_store_load(st, ids[0], &s)) != VMS_OK)
			die("store load", err);
		t[i] = now_ms() - t0;
		if (s->n_regions != a->n_regions)
			die("store load: wrong region count", VMS_ERR_INVALID);
		vms_snapshot_free(s);
	}
	printf("packed_load_ms %.1f\n", median(t, runs));
	for (int i = 0; i < runs; i++) {
		uint64_t total = 0;
		struct vms_store_sink sink = {null_size, null_chunk, &total};
		double t0 = now_ms();
		if ((err = vms_http_snapshot_json(st, ids[i], &sink)) != VMS_OK) /* each id's first time */
			die("store render", err);
		t[i] = now_ms() - t0;
	}
	printf("render_ms %.1f\n", median(t, runs));
	for (int i = 0; i < runs; i++) {
		uint64_t total = 0;
		struct vms_store_sink sink = {null_size, null_chunk, &total};
		double t0 = now_ms();
		if ((err = vms_http_snapshot_json(st, ids[0], &sink)) != VMS_OK)
			die("store stream", err);
		t[i] = now_ms() - t0;
	}
	printf("stream_ms %.1f\n", median(t, runs));
	vms_store_close(st);
	printf("packed_db_bytes_per_snapshot_with_json %lld\n", file_size(dbp) / runs);

	/* Alternative 1 (schema 1): the JSON text is the blob. */
	snprintf(dbp, sizeof dbp, "%s/json.db", work);
	sqlite3 *db = NULL;
	if (sqlite3_open(dbp, &db) != SQLITE_OK ||
	    sqlite3_exec(db,
	                 "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
	                 "CREATE TABLE bodies (id INTEGER PRIMARY KEY, body TEXT NOT NULL);",
	                 NULL, NULL, NULL) != SQLITE_OK) {
		fprintf(stderr, "store_bench: json db: %s\n", sqlite3_errmsg(db));
		return 1;
	}
	for (int i = 0; i < runs; i++) {
		sqlite3_stmt *q = NULL;
		double t0 = now_ms();
		char *text = NULL;
		size_t tlen = 0;
		if (vms_json_write_snapshot(a, NULL, &text, &tlen) != VMS_OK)
			die("json", VMS_ERR_NOMEM);
		sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
		sqlite3_prepare_v2(db, "INSERT INTO bodies (id, body) VALUES (?1, ?2)", -1, &q, NULL);
		sqlite3_bind_int(q, 1, i + 1);
		sqlite3_bind_text64(q, 2, text, tlen, SQLITE_STATIC, SQLITE_UTF8);
		sqlite3_step(q);
		sqlite3_finalize(q);
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
		t[i] = now_ms() - t0;
		free(text);
	}
	printf("json_put_ms %.1f\n", median(t, runs));
	for (int i = 0; i < runs; i++) {
		sqlite3_stmt *q = NULL;
		struct vms_snapshot *s = NULL;
		double t0 = now_ms();
		sqlite3_prepare_v2(db, "SELECT body FROM bodies WHERE id = 1", -1, &q, NULL);
		if (sqlite3_step(q) != SQLITE_ROW ||
		    vms_json_parse_snapshot((const char *)sqlite3_column_text(q, 0),
		                            (size_t)sqlite3_column_bytes(q, 0), &s, NULL, 0) != VMS_OK)
			die("json load", VMS_ERR_IO);
		sqlite3_finalize(q);
		t[i] = now_ms() - t0;
		vms_snapshot_free(s);
	}
	printf("json_load_ms %.1f\n", median(t, runs));
	sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	sqlite3_close(db);
	printf("json_db_bytes_per_snapshot %lld\n", file_size(dbp) / runs);

	/* Alternative 2: rows. */
	snprintf(dbp, sizeof dbp, "%s/rows.db", work);
	db = NULL;
	if (sqlite3_open(dbp, &db) != SQLITE_OK ||
	    sqlite3_exec(db, rows_schema, NULL, NULL, NULL) != SQLITE_OK) {
		fprintf(stderr, "store_bench: rows db: %s\n", sqlite3_errmsg(db));
		return 1;
	}
	for (int i = 0; i < runs; i++) {
		double t0 = now_ms();
		rows_put(db, i + 1, a);
		t[i] = now_ms() - t0;
	}
	printf("rows_put_ms %.1f\n", median(t, runs));
	for (int i = 0; i < runs; i++) {
		double t0 = now_ms();
		struct vms_snapshot *s = rows_load(db, 1, a);
		t[i] = now_ms() - t0;
		if (s->n_regions != a->n_regions)
			die("rows load: wrong region count", VMS_ERR_INVALID);
		vms_snapshot_free(s);
	}
	printf("rows_load_ms %.1f\n", median(t, runs));
	sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	sqlite3_close(db);
	printf("rows_db_bytes_per_snapshot %lld\n", file_size(dbp) / runs);

	/* Diff of two scans of the same process. */
	printf("diff_ms %.1f\n", diff_median_ms(a, b, 0, t, runs));
	printf("diff_json_ms %.1f\n", diff_median_ms(a, b, 1, t, runs));
	/* Worst case: every region changes (diff against a small process: 60,000 "removed"). */
	struct vms_snapshot *self = NULL;
	if ((err = vms_snapshot_take(getpid(), NULL, &self)) != VMS_OK)
		die("scan self", err);
	printf("diff_all_json_ms %.1f\n", diff_median_ms(a, self, 1, t, runs));
	printf("diff_all_ms %.1f\n", diff_median_ms(a, self, 0, t, runs));
	vms_snapshot_free(self);
	vms_snapshot_free(a);
	vms_snapshot_free(b);
	return 0;
}
