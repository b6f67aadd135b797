/* The timeline in the store (vmscope/store_watch.h): watches, samples round-trip with every
 * field, a layout written by another build (a type and a field this build does not know, one it
 * has that the layout lacks), retention by age (with the full snapshots of dropped samples),
 * the byte limit (oldest samples make room; FULL when even that does not), purge, and that
 * watch snapshots stay out of the plain snapshot list. Prints the bytes per sample of a
 * realistic summary (docs/benchmarks.md, "Timeline"). */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test.h"
#include "unit/handmade_snapshot.h"
#include "vmscope/store.h"
#include "vmscope/store_watch.h"

static char dir[] = "/tmp/vmscope-watch-XXXXXX";
static char path[256];

static void exec_sql(const char *sql)
{
	sqlite3 *db = NULL;
	if (sqlite3_open(path, &db) == SQLITE_OK)
		CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
}

/* A sample whose values look like a real process's: byte columns in KiB multiples. */
static void fill_sample(struct vms_sample *s, int64_t t, uint64_t heap_committed)
{
	memset(s, 0, sizeof *s);
	s->t_ms = t;
	for (int ty = 0; ty < VMS_TYPE_COUNT; ty++) {
		s->summary[ty].blocks = (uint64_t)ty + 1;
		s->summary[ty].regions = (uint64_t)ty * 3;
		s->summary[ty].largest = ((uint64_t)ty + 1) << 20;
		for (int c = 0; c < VMS_COL_COUNT; c++)
			s->summary[ty].cols[c] = ((uint64_t)(ty * 13 + c) * 4096u * 37u) % (512u << 20);
	}
	s->summary[VMS_TYPE_HEAP].cols[VMS_COL_COMMITTED] = heap_committed;
	for (int c = 0; c < VMS_COL_COUNT; c++)
		for (int ty = 0; ty < VMS_TYPE_COUNT; ty++)
			if (ty != VMS_TYPE_FREE)
				s->total[c] += s->summary[ty].cols[c];
	s->threads = 5;
	s->vm_rss = 123456789ull & ~1023ull;
	s->vm_swap = 4096;
	s->min_flt = 99999;
	s->maj_flt = 7;
}

/* Open a store at dir/NAME (its path in p) with opts (NULL: the defaults), CHECKed; NULL when it
 * did not open. */
static struct vms_store *open_db(const char *name, const struct vms_store_opts *opts, char *p, size_t p_len)
{
	struct vms_store *st = NULL;
	char err[256] = "";
	snprintf(p, p_len, "%s/%s", dir, name);
	CHECK(vms_store_open(p, opts, &st, err, sizeof err) == VMS_OK);
	return st;
}

/* open_db, then create the watch w in it (its id in *id), CHECKed. */
static struct vms_store *open_with_watch(const char *name, const struct vms_store_opts *opts, char *p,
                                         size_t p_len, const struct vms_watch *w, int64_t *id)
{
	struct vms_store *st = open_db(name, opts, p, p_len);
	*id = 0;
	if (st)
		CHECK(vms_store_watch_create(st, w, id) == VMS_OK);
	return st;
}

static void test_roundtrip(void)
{
	struct vms_store *st = NULL;
	char err[256] = "";
	CHECK(vms_store_open(path, NULL, &st, err, sizeof err) == VMS_OK);
	if (!st)
		return;
	struct vms_watch w = {.pid = 4242,
	                      .start_time = 777,
	                      .name = "grower",
	                      .interval_ms = 1000,
	                      .snapshot_every_s = 60,
	                      .retention_s = 10};
	int64_t id = 0;
	CHECK(vms_store_watch_create(st, &w, &id) == VMS_OK && id > 0);
	struct vms_watch bad = w;
	bad.interval_ms = 50;
	int64_t id_bad = 0;
	CHECK(vms_store_watch_create(st, &bad, &id_bad) == VMS_ERR_INVALID);

	/* A full snapshot the watch took, pointed to by the first sample. */
	struct vms_snapshot *snap = hs_demo();
	int64_t snap_id = 0;
	CHECK(vms_store_put(st, snap, VMS_SOURCE_WATCH, NULL, 0, &snap_id) == VMS_OK);
	struct vms_snapshot_list l = {0};
	struct vms_store_query q = {.source = -1};
	CHECK(vms_store_list(st, &q, &l) == VMS_OK && l.n == 0); /* not in the plain list */
	vms_snapshot_list_free(&l);
	q.with_watch = 1;
	CHECK(vms_store_list(st, &q, &l) == VMS_OK && l.n == 1 && l.items[0].source == VMS_SOURCE_WATCH);
	vms_snapshot_list_free(&l);

	struct vms_sample s, odd;
	int64_t t0 = 1700000000000;
	for (int i = 0; i < 20; i++) {
		fill_sample(&s, t0 + i * 1000, (uint64_t)(i + 1) << 20);
		s.snapshot_id = i == 0 ? snap_id : 0;
		s.flags = i == 3 ? VMS_SAMPLE_GAP_BEFORE : 0;
		if (i == 5)
			s.summary[VMS_TYPE_STACK].cols[VMS_COL_DIRTY] =
			    12345; /* not a KiB multiple: shift 0 */
		if (i == 5)
			odd = s;
		CHECK(vms_store_sample_put(st, id, &s) == VMS_OK);
	}
	struct vms_sample *got = NULL;
	size_t n = 0;
	/* retention 10 s: at t0 + 19 s the samples before t0 + 9 s are gone, the first one's
	 * snapshot with them */
	CHECK(vms_store_samples(st, id, 0, 0, &got, &n) == VMS_OK);
	CHECK_EQ_U64(n, 11);
	CHECK(n == 11 && got[0].t_ms == t0 + 9000 && got[10].t_ms == t0 + 19000);
	struct vms_snapshot_meta m;
	CHECK(vms_store_meta(st, snap_id, &m) == VMS_ERR_NOT_FOUND);
	free(got);

	/* Every field back exactly (also with a value that is not a KiB multiple). */
	struct vms_watch w2 = {
	    .pid = 1, .start_time = 1, .name = "two", .interval_ms = 100, .retention_s = 0};
	int64_t id2 = 0;
	CHECK(vms_store_watch_create(st, &w2, &id2) == VMS_OK);
	fill_sample(&s, t0, 5u << 20);
	CHECK(vms_store_sample_put(st, id2, &s) == VMS_OK);
	odd.t_ms = t0 + 1;
	odd.flags = VMS_SAMPLE_GAP_BEFORE;
	CHECK(vms_store_sample_put(st, id2, &odd) == VMS_OK);
	CHECK(vms_store_samples(st, id2, 0, 0, &got, &n) == VMS_OK && n == 2);
	if (n == 2) {
		CHECK(memcmp(got[0].summary, s.summary, sizeof s.summary) == 0);
		CHECK(memcmp(got[0].total, s.total, sizeof s.total) == 0);
		CHECK(got[0].threads == 5 && got[0].vm_rss == s.vm_rss && got[0].vm_swap == 4096 &&
		      got[0].min_flt == 99999 && got[0].maj_flt == 7 && got[0].snapshot_id == 0);
		CHECK(memcmp(got[1].summary, odd.summary, sizeof odd.summary) == 0);
		CHECK(got[1].flags == VMS_SAMPLE_GAP_BEFORE);
		printf("bytes per sample (stored, incl. %u row overhead): %llu (KiB-shifted), %llu "
		       "(unshifted)\n",
		       40u, (unsigned long long)got[0].bytes, (unsigned long long)got[1].bytes);
		CHECK(got[0].bytes < got[1].bytes);
	}
	free(got);

	/* Watch metadata, state changes, list. */
	struct vms_watch back;
	CHECK(vms_store_watch_get(st, id, &back) == VMS_OK);
	CHECK(back.pid == 4242 && back.start_time == 777 && !strcmp(back.name, "grower") &&
	      !strcmp(back.state, "running") && back.n_samples == 11 && back.first_ms == t0 + 9000 &&
	      back.last_ms == t0 + 19000 && back.sample_bytes > 0 && back.retention_s == 10);
	vms_watch_clear(&back);
	CHECK(vms_store_watch_update(st, id, "exited", "process 4242 exited", t0 + 20000) == VMS_OK);
	CHECK(vms_store_watch_get(st, id, &back) == VMS_OK && !strcmp(back.state, "exited") &&
	      !strcmp(back.note, "process 4242 exited") && back.ended_at_ms == t0 + 20000);
	vms_watch_clear(&back);
	CHECK(vms_store_watch_update(st, id, NULL, "note only", -1) == VMS_OK);
	CHECK(vms_store_watch_get(st, id, &back) == VMS_OK && !strcmp(back.state, "exited") &&
	      !strcmp(back.note, "note only") && back.ended_at_ms == t0 + 20000);
	vms_watch_clear(&back);
	CHECK(vms_store_watch_update(st, 999, "x", NULL, -1) == VMS_ERR_NOT_FOUND);
	struct vms_watch *all = NULL;
	size_t n_all = 0;
	CHECK(vms_store_watch_list(st, &all, &n_all) == VMS_OK && n_all == 2 && all[0].id == id2);
	vms_watch_array_free(all, n_all);

	/* Nearest full snapshot. */
	int64_t sid = 0, at = 0, snap2 = 0;
	CHECK(vms_store_sample_nearest_snapshot(st, id2, t0, &sid, &at) == VMS_ERR_NOT_FOUND);
	CHECK(vms_store_put(st, snap, VMS_SOURCE_WATCH, NULL, 0, &snap2) == VMS_OK);
	fill_sample(&s, t0 + 5000, 6u << 20);
	s.snapshot_id = snap2;
	CHECK(vms_store_sample_put(st, id2, &s) == VMS_OK);
	CHECK(vms_store_sample_nearest_snapshot(st, id2, t0, &sid, &at) == VMS_OK && sid == snap2 &&
	      at == t0 + 5000);

	/* Purge: samples and their snapshots go. */
	struct vms_store_usage u0, u1;
	CHECK(vms_store_usage(st, &u0) == VMS_OK);
	CHECK(vms_store_watch_delete(st, id2) == VMS_OK);
	CHECK(vms_store_watch_get(st, id2, &back) == VMS_ERR_NOT_FOUND);
	CHECK(vms_store_meta(st, snap2, &m) == VMS_ERR_NOT_FOUND);
	CHECK(vms_store_usage(st, &u1) == VMS_OK && u1.bytes < u0.bytes && u1.snapshots == u0.snapshots);
	CHECK(vms_store_watch_delete(st, id2) == VMS_ERR_NOT_FOUND);
	vms_store_close(st);
	vms_snapshot_free(snap);

	/* A layout from another build: an unknown type 'martian', an unknown field 'zorch', and
	 * this build's 'dirty' missing. Its blob is written by hand. */
	exec_sql(
	    "INSERT INTO sample_layouts (id, types, fields) VALUES (900, 'heap,martian,', 'zorch,committed');"
	    "INSERT INTO samples VALUES (1, 5, 0, 1, 2, 3, 4, 5, NULL, 900, 4096, 50,"
	    " x'010a' || x'07' || x'8001' || x'09' || x'02' || x'03' || x'04');");
	CHECK(vms_store_open(path, NULL, &st, err, sizeof err) == VMS_OK);
	if (!st)
		return;
	CHECK(vms_store_samples(st, id, 5, 5, &got, &n) == VMS_OK && n == 1);
	if (n == 1) {
		CHECK_EQ_U64(got[0].summary[VMS_TYPE_HEAP].cols[VMS_COL_COMMITTED], 128u << 10);
		CHECK_EQ_U64(got[0].total[VMS_COL_COMMITTED], 4u << 10);
		CHECK_EQ_U64(got[0].summary[VMS_TYPE_HEAP].cols[VMS_COL_DIRTY], 0);
	}
	free(got);
	vms_store_close(st);
}

/* The blob as written, byte for byte (the format in vmscope/store_watch.h, frozen): a sample
 * with a 3 MiB Heap of 1 block in 2 regions and the same totals. The expected bytes are laid out
 * by hand here, not by the encoder. */
static void test_blob_bytes(void)
{
	char p5[300];
	struct vms_watch w = {.pid = 3, .start_time = 3, .name = "b", .interval_ms = 1000};
	int64_t id;
	struct vms_store *st = open_with_watch("blob.db", NULL, p5, sizeof p5, &w, &id);
	if (!st)
		return;
	struct vms_sample s;
	memset(&s, 0, sizeof s);
	s.t_ms = 42;
	s.summary[VMS_TYPE_HEAP].blocks = 1;
	s.summary[VMS_TYPE_HEAP].largest = 3u << 20;
	s.summary[VMS_TYPE_HEAP].regions = 2;
	s.summary[VMS_TYPE_HEAP].cols[VMS_COL_SIZE] = s.summary[VMS_TYPE_HEAP].cols[VMS_COL_COMMITTED] =
	    3u << 20;
	s.total[VMS_COL_SIZE] = s.total[VMS_COL_COMMITTED] = 3u << 20;
	CHECK(vms_store_sample_put(st, id, &s) == VMS_OK);
	vms_store_close(st);

	unsigned char want[199];
	memset(want, 0, sizeof want);
	want[0] = 1;              /* version */
	want[1] = 10;             /* byte values in KiB */
	size_t heap = 2 + 3 * 16; /* image, mapped_file, shareable: 16 zero fields each */
	const unsigned char heap_row[] = {0x01, 0x80, 0x18, 0x02, 0x80, 0x18, 0x80, 0x18}; /* 3072 KiB */
	memcpy(want + heap, heap_row, sizeof heap_row);
	size_t totals = heap + sizeof heap_row + 11 + 7 * 16; /* heap's other 11 columns, 7 more types */
	const unsigned char total_row[] = {0x00, 0x00, 0x00, 0x80, 0x18, 0x80, 0x18};
	memcpy(want + totals, total_row, sizeof total_row);
	CHECK_EQ_U64(totals + sizeof total_row + 11, sizeof want);

	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	CHECK(sqlite3_open(p5, &db) == SQLITE_OK);
	CHECK(sqlite3_prepare_v2(db,
	                         "SELECT summary, l.types, l.fields FROM samples s JOIN sample_layouts l ON "
	                         "l.id = s.layout",
	                         -1, &q, NULL) == SQLITE_OK);
	if (q && sqlite3_step(q) == SQLITE_ROW) {
		CHECK_EQ_U64(sqlite3_column_bytes(q, 0), sizeof want);
		CHECK(sqlite3_column_bytes(q, 0) == (int)sizeof want &&
		      memcmp(sqlite3_column_blob(q, 0), want, sizeof want) == 0);
		CHECK_STR(
		    (const char *)sqlite3_column_text(q, 1),
		    "image,mapped_file,shareable,heap,managed_heap,stack,private_data,page_table,kernel,"
		    "reserved,free,");
		CHECK_STR((const char *)sqlite3_column_text(q, 2),
		          "blocks,largest,regions,size,committed,private,total_ws,private_ws,shareable_ws,"
		          "shared_ws,"
		          "locked_ws,pss,uss,swap,swap_pss,dirty");
	} else {
		CHECK(0);
	}
	sqlite3_finalize(q);
	sqlite3_close(db);
	unlink(p5);
}

/* Downsampling (covering index + buckets in C): buckets' last sample, count, committed range, gap flag,
 * newest snapshot. */
static void test_downsampled(void)
{
	char p6[300];
	struct vms_watch w = {.pid = 6, .start_time = 6, .name = "d", .interval_ms = 1000, .retention_s = 0};
	int64_t id, snap = 0;
	struct vms_store *st = open_with_watch("ds.db", NULL, p6, sizeof p6, &w, &id);
	if (!st)
		return;
	struct vms_snapshot *hs = hs_demo();
	CHECK(vms_store_put(st, hs, VMS_SOURCE_WATCH, NULL, 0, &snap) == VMS_OK);
	vms_snapshot_free(hs);
	struct vms_sample s;
	for (int i = 0; i < 10; i++) {
		fill_sample(&s, 10000 + i * 1000, 1u << 20);
		s.total[VMS_COL_COMMITTED] = (uint64_t)(i == 1 ? 50 : i) << 10; /* a spike at 1 */
		s.flags = i == 3 ? VMS_SAMPLE_GAP_BEFORE : 0;
		s.snapshot_id = i == 2 ? snap : 0;
		CHECK(vms_store_sample_put(st, id, &s) == VMS_OK);
	}
	uint64_t count = 0;
	int64_t first = 0, last = 0;
	CHECK(vms_store_samples_stats(st, id, 0, 0, &count, &first, &last) == VMS_OK && count == 10 &&
	      first == 10000 && last == 19000);
	CHECK(vms_store_samples_stats(st, id, 12000, 13000, &count, &first, &last) == VMS_OK && count == 2);
	struct vms_sample *got = NULL;
	size_t n = 0;
	CHECK(vms_store_samples_downsampled(st, id, 10000, 19000, 5000, &got, &n) == VMS_OK && n == 2);
	if (n == 2) {
		CHECK(got[0].t_ms == 14000 && got[0].n_merged == 5 && got[0].committed_min == 0 &&
		      got[0].committed_max == 50u << 10 && got[0].flags == VMS_SAMPLE_GAP_BEFORE &&
		      got[0].snapshot_id == snap && got[0].total[VMS_COL_COMMITTED] == 4u << 10);
		CHECK(got[1].t_ms == 19000 && got[1].n_merged == 5 && got[1].committed_min == 5u << 10 &&
		      got[1].committed_max == 9u << 10 && got[1].flags == 0 && got[1].snapshot_id == 0);
		CHECK(got[0].summary[VMS_TYPE_HEAP].cols[VMS_COL_COMMITTED] == 1u << 20); /* decoded */
	}
	free(got);
	CHECK(vms_store_samples_downsampled(st, id, 0, 0, 0, &got, &n) == VMS_ERR_INVALID);
	/* a bucket with one sample, and a range past the end */
	CHECK(vms_store_samples_downsampled(st, id, 19000, 99000, 1000, &got, &n) == VMS_OK && n == 1 &&
	      got[0].n_merged == 1 && got[0].t_ms == 19000);
	free(got);
	CHECK(vms_store_samples_downsampled(st, id, 30000, 99000, 1000, &got, &n) == VMS_OK && n == 0);
	free(got);
	/* what the samples route calls: one pass, the same buckets as the two calls above give */
	int64_t bucket = -1;
	CHECK(vms_store_samples_points(st, id, 0, 0, 4, &got, &n, &count, &bucket) == VMS_OK && count == 10 &&
	      bucket == 9000 / 4 + 1 && n == 4);
	struct vms_sample *two = NULL;
	size_t n2 = 0;
	CHECK(vms_store_samples_downsampled(st, id, 10000, 19000, 9000 / 4 + 1, &two, &n2) == VMS_OK &&
	      n2 == n);
	for (size_t i = 0; i < n && i < n2; i++)
		CHECK(got[i].t_ms == two[i].t_ms && got[i].n_merged == two[i].n_merged &&
		      got[i].committed_min == two[i].committed_min &&
		      got[i].committed_max == two[i].committed_max && got[i].flags == two[i].flags &&
		      got[i].snapshot_id == two[i].snapshot_id &&
		      !memcmp(got[i].summary, two[i].summary, sizeof got[i].summary));
	CHECK(n == 4 && got[0].n_merged == 3 && got[0].committed_max == 50u << 10 &&
	      got[1].snapshot_id == 0 && got[1].flags == VMS_SAMPLE_GAP_BEFORE && got[3].t_ms == 19000);
	free(got);
	free(two);
	/* few enough samples: every one, not downsampled; a part of the range; an empty range */
	CHECK(vms_store_samples_points(st, id, 0, 0, 10, &got, &n, &count, &bucket) == VMS_OK &&
	      count == 10 && bucket == 0 && n == 10 && got[1].total[VMS_COL_COMMITTED] == 50u << 10 &&
	      got[2].snapshot_id == snap);
	free(got);
	CHECK(vms_store_samples_points(st, id, 12000, 15500, 2, &got, &n, &count, &bucket) == VMS_OK &&
	      count == 4 && bucket == 3000 / 2 + 1 && n == 2 && got[0].t_ms == 13000 &&
	      got[0].n_merged == 2 && got[1].t_ms == 15000 && got[1].n_merged == 2);
	free(got);
	CHECK(vms_store_samples_points(st, id, 30000, 99000, 1000, &got, &n, &count, &bucket) == VMS_OK &&
	      n == 0 && count == 0 && bucket == 0);
	free(got);

	/* schema 5: a watch on a name follows restarts */
	struct vms_watch f = {.pid = 7, .start_time = 70, .name = "srv", .interval_ms = 1000, .follow = 1};
	int64_t fid = 0;
	CHECK(vms_store_watch_create(st, &f, &fid) == VMS_OK);
	CHECK(vms_store_watch_retarget(st, fid, 8, 80, 7, 5000) == VMS_OK);
	CHECK(vms_store_watch_retarget(st, fid, 9, 90, 8, 6000) == VMS_OK);
	CHECK(vms_store_watch_retarget(st, 999999, 9, 90, 8, 6000) == VMS_ERR_NOT_FOUND);
	struct vms_watch back;
	CHECK(vms_store_watch_get(st, fid, &back) == VMS_OK && back.follow == 1 && back.pid == 9 &&
	      back.start_time == 90 && back.n_restarts == 2);
	vms_watch_clear(&back);
	struct vms_watch_restart *re = NULL;
	size_t nre = 0;
	CHECK(vms_store_watch_restarts(st, fid, &re, &nre) == VMS_OK && nre == 2);
	if (nre == 2)
		CHECK(re[0].t_ms == 5000 && re[0].pid == 8 && re[0].old_pid == 7 && re[0].start_time == 80 &&
		      re[1].pid == 9 && re[1].old_pid == 8);
	free(re);
	CHECK(vms_store_watch_get(st, id, &back) == VMS_OK && back.follow == 0 && back.n_restarts == 0);
	vms_watch_clear(&back);
	CHECK(vms_store_watch_delete(st, fid) == VMS_OK);
	CHECK(vms_store_watch_restarts(st, fid, &re, &nre) == VMS_OK && nre == 0);
	free(re);

	/* schema 9: the thresholds for full snapshots are stored (0 is a value: that measure off),
	 * and a watch created without them (imported) reads back as not known */
	struct vms_watch t1 = {.pid = 11,
	                       .start_time = 110,
	                       .name = "t1",
	                       .interval_ms = 1000,
	                       .has_thresholds = 1,
	                       .snapshot_on_allocations = 4000000000u,
	                       .snapshot_on_committed = 1ull << 50};
	struct vms_watch t0w = {
	    .pid = 12, .start_time = 120, .name = "t0", .interval_ms = 1000, .has_thresholds = 1};
	struct vms_watch tu = {.pid = 13,
	                       .start_time = 130,
	                       .name = "tu",
	                       .interval_ms = 1000,
	                       .snapshot_on_allocations = 5,
	                       .snapshot_on_committed = 6};
	int64_t tid1 = 0, tid0 = 0, tidu = 0;
	CHECK(vms_store_watch_create(st, &t1, &tid1) == VMS_OK &&
	      vms_store_watch_create(st, &t0w, &tid0) == VMS_OK &&
	      vms_store_watch_create(st, &tu, &tidu) == VMS_OK);
	CHECK(vms_store_watch_get(st, tid1, &back) == VMS_OK && back.has_thresholds == 1 &&
	      back.snapshot_on_allocations == 4000000000u && back.snapshot_on_committed == 1ull << 50);
	vms_watch_clear(&back);
	CHECK(vms_store_watch_get(st, tid0, &back) == VMS_OK && back.has_thresholds == 1 &&
	      back.snapshot_on_allocations == 0 && back.snapshot_on_committed == 0);
	vms_watch_clear(&back);
	CHECK(vms_store_watch_get(st, tidu, &back) == VMS_OK && back.has_thresholds == 0 &&
	      back.snapshot_on_allocations == 0 && back.snapshot_on_committed == 0);
	vms_watch_clear(&back);
	/* the lists the sampler resumes from and /metrics reads carry them too */
	struct vms_watch *all = NULL;
	size_t n_all = 0, seen = 0;
	for (int running = 0; running < 2; running++) {
		CHECK((running ? vms_store_watch_list_running(st, &all, &n_all)
		               : vms_store_watch_list(st, &all, &n_all)) == VMS_OK);
		for (size_t i = 0; i < n_all; i++)
			if (all[i].id == tid1) {
				seen++;
				CHECK(all[i].has_thresholds == 1 &&
				      all[i].snapshot_on_allocations == 4000000000u &&
				      all[i].snapshot_on_committed == 1ull << 50);
			} else if (all[i].id == tidu) {
				CHECK(all[i].has_thresholds == 0);
			}
		vms_watch_array_free(all, n_all);
	}
	CHECK_EQ_U64(seen, 2);
	vms_store_close(st);
	unlink(p6);
}

static void test_byte_limit(void)
{
	char p2[300];
	struct vms_store_opts o = {.max_bytes = 20000};
	struct vms_watch w = {.pid = 9, .start_time = 9, .name = "n", .interval_ms = 100};
	int64_t id;
	struct vms_store *st = open_with_watch("small.db", &o, p2, sizeof p2, &w, &id);
	if (!st)
		return;
	struct vms_sample s;
	int ok = 1;
	for (int i = 0; i < 200; i++) {
		fill_sample(&s, 1000 + i, (uint64_t)i << 12);
		ok &= vms_store_sample_put(st, id, &s) == VMS_OK;
	}
	CHECK(ok);
	struct vms_store_usage u;
	CHECK(vms_store_usage(st, &u) == VMS_OK && u.bytes <= 20000 && u.bytes > 10000);
	struct vms_sample *got = NULL;
	size_t n = 0;
	CHECK(vms_store_samples(st, id, 0, 0, &got, &n) == VMS_OK && n > 10 && n < 200);
	CHECK(n > 0 && got[n - 1].t_ms == 1199); /* the newest are kept */
	free(got);
	vms_store_close(st);
	/* max_snapshots limits the snapshots people take, not a watch's full snapshots */
	char p4[300];
	struct vms_store_opts one = {.max_snapshots = 1};
	st = open_db("count.db", &one, p4, sizeof p4);
	if (!st)
		return;
	struct vms_snapshot *snap = hs_demo();
	int64_t sid = 0;
	CHECK(vms_store_put(st, snap, VMS_SOURCE_SCAN, NULL, 0, &sid) == VMS_OK);
	CHECK(vms_store_put(st, snap, VMS_SOURCE_SCAN, NULL, 0, &sid) == VMS_ERR_FULL);
	CHECK(vms_store_put(st, snap, VMS_SOURCE_WATCH, NULL, 0, &sid) == VMS_OK);
	CHECK(vms_store_put(st, snap, VMS_SOURCE_WATCH, NULL, 0, &sid) == VMS_OK);
	CHECK(vms_store_usage(st, &u) == VMS_OK && u.snapshots == 1);
	vms_snapshot_free(snap);
	vms_store_close(st);
	unlink(p4);

	/* no room at all for one sample */
	struct vms_store_opts tiny = {.max_bytes = 10};
	char p3[300];
	st = open_db("tiny.db", &tiny, p3, sizeof p3);
	if (!st)
		return;
	CHECK(vms_store_watch_create(st, &w, &id) == VMS_OK);
	CHECK(vms_store_sample_put(st, id, &s) == VMS_ERR_FULL);
	vms_store_close(st);
	unlink(p2);
	unlink(p3);
}

/* What /metrics reads: the running watches with their newest sample's time (no counting), and
 * that newest sample. */
static void test_latest(void)
{
	struct vms_store *st = NULL;
	char err[256] = "";
	char p2[300];
	snprintf(p2, sizeof p2, "%s/latest.db", dir);
	CHECK(vms_store_open(p2, NULL, &st, err, sizeof err) == VMS_OK);
	if (!st)
		return;
	struct vms_watch a = {.pid = 10, .start_time = 1, .name = "a", .interval_ms = 1000};
	struct vms_watch b = {.pid = 11, .start_time = 1, .name = "b", .interval_ms = 1000};
	struct vms_watch c = {.pid = 12, .start_time = 1, .name = "c", .interval_ms = 1000};
	int64_t ida = 0, idb = 0, idc = 0;
	CHECK(vms_store_watch_create(st, &a, &ida) == VMS_OK &&
	      vms_store_watch_create(st, &b, &idb) == VMS_OK &&
	      vms_store_watch_create(st, &c, &idc) == VMS_OK);
	struct vms_sample s, got;
	int64_t t0 = 1700000000000;
	for (int i = 0; i < 5; i++) {
		fill_sample(&s, t0 + i * 1000, (uint64_t)(i + 1) << 20);
		CHECK(vms_store_sample_put(st, ida, &s) == VMS_OK);
	}
	CHECK(vms_store_watch_update(st, idc, "stopped", "", t0) == VMS_OK);
	CHECK(vms_store_sample_latest(st, ida, &got) == VMS_OK);
	CHECK(got.t_ms == t0 + 4000 && memcmp(got.summary, s.summary, sizeof s.summary) == 0 &&
	      memcmp(got.total, s.total, sizeof s.total) == 0);
	CHECK(vms_store_sample_latest(st, idb, &got) == VMS_ERR_NOT_FOUND);
	struct vms_watch *w = NULL;
	size_t n = 0;
	CHECK(vms_store_watch_list_running(st, &w, &n) == VMS_OK);
	CHECK_EQ_U64(n, 2); /* c is stopped */
	if (n == 2) {
		CHECK(w[0].id == idb && w[0].last_ms == 0 && !strcmp(w[0].name, "b"));
		CHECK(w[1].id == ida && w[1].last_ms == t0 + 4000 && w[1].pid == 10);
	}
	vms_watch_array_free(w, n);
	vms_store_close(st);
}

/* vms_store_samples_put: several watches' samples in one call are stored as one at a time would
 * be (same rows read back, same sample bytes counted); one for a watch that does not exist gets
 * VMS_ERR_NOT_FOUND and the others are stored all the same. */
static void test_samples_put(void)
{
	char p[300];
	struct vms_watch a = {.pid = 10, .start_time = 1, .name = "a", .interval_ms = 1000};
	struct vms_watch b = {.pid = 11, .start_time = 1, .name = "b", .interval_ms = 1000};
	int64_t ida = 0, idb = 0;
	struct vms_store *st = open_with_watch("batch.db", NULL, p, sizeof p, &a, &ida);
	if (!st)
		return;
	CHECK(vms_store_watch_create(st, &b, &idb) == VMS_OK);
	int64_t t0 = 1700000000000;
	struct vms_sample_put put[5];
	memset(put, 0, sizeof put);
	for (int i = 0; i < 4; i++) {
		put[i].watch_id = i % 2 ? idb : ida;
		put[i].err = -12345;
		fill_sample(&put[i].sample, t0 + i * 500, (uint64_t)(i + 1) << 20);
	}
	vms_store_samples_put(st, put, 4);
	for (int i = 0; i < 4; i++)
		CHECK_MSG(put[i].err == VMS_OK, "sample %d: %s", i, vms_strerror(put[i].err));
	/* a batch with a deleted watch in the middle */
	put[4] = put[3];
	put[4].sample.t_ms += 3000;
	put[2].watch_id = ida + idb + 100; /* no such watch */
	put[2].sample.t_ms += 2000;
	put[3].sample.t_ms += 2000;
	put[1].sample.t_ms += 2000;
	vms_store_samples_put(st, put + 1, 4);
	CHECK(put[1].err == VMS_OK && put[2].err == VMS_ERR_NOT_FOUND && put[3].err == VMS_OK &&
	      put[4].err == VMS_OK);
	struct vms_sample *got = NULL;
	size_t n = 0;
	CHECK(vms_store_samples(st, idb, 0, 0, &got, &n) == VMS_OK);
	CHECK_EQ_U64(n, 5); /* two from the first call, three from the second */
	for (size_t i = 1; i < n && got; i++)
		CHECK(got[i].t_ms > got[i - 1].t_ms);
	uint64_t bytes = 0;
	for (size_t i = 0; i < n && got; i++)
		bytes += got[i].bytes;
	if (n == 5 && got)
		CHECK(got[0].t_ms == t0 + 500 && got[4].t_ms == put[4].sample.t_ms &&
		      memcmp(got[0].summary, put[1].sample.summary, sizeof got[0].summary) == 0 &&
		      memcmp(got[4].total, put[4].sample.total, sizeof got[4].total) == 0);
	free(got);
	/* the watch counts the bytes of the rows it has */
	struct vms_watch wa, wb;
	CHECK(vms_store_watch_get(st, ida, &wa) == VMS_OK && vms_store_watch_get(st, idb, &wb) == VMS_OK);
	CHECK_MSG(wa.n_samples == 2 && wb.n_samples == 5 && bytes > 0 && wb.sample_bytes == bytes,
	          "samples %llu/%llu, bytes %llu (rows: %llu)", (unsigned long long)wa.n_samples,
	          (unsigned long long)wb.n_samples, (unsigned long long)wb.sample_bytes,
	          (unsigned long long)bytes);
	vms_watch_clear(&wa);
	vms_watch_clear(&wb);
	/* a sample at a time the watch has one for already replaces it, and is counted once */
	struct vms_sample again = put[4].sample;
	again.summary[VMS_TYPE_HEAP].cols[VMS_COL_COMMITTED] += 4096;
	CHECK(vms_store_sample_put(st, idb, &again) == VMS_OK);
	got = NULL;
	CHECK(vms_store_samples(st, idb, 0, 0, &got, &n) == VMS_OK);
	bytes = 0;
	for (size_t i = 0; i < n && got; i++)
		bytes += got[i].bytes;
	CHECK(n == 5 && got &&
	      got[4].summary[VMS_TYPE_HEAP].cols[VMS_COL_COMMITTED] ==
	          again.summary[VMS_TYPE_HEAP].cols[VMS_COL_COMMITTED]);
	free(got);
	CHECK(vms_store_watch_get(st, idb, &wb) == VMS_OK);
	CHECK_MSG(wb.n_samples == 5 && wb.sample_bytes == bytes,
	          "replaced: %llu samples, %llu bytes (rows: %llu)", (unsigned long long)wb.n_samples,
	          (unsigned long long)wb.sample_bytes, (unsigned long long)bytes);
	vms_watch_clear(&wb);
	vms_store_close(st);
}

int main(void)
{
	test_mkdtemp(dir);
	snprintf(path, sizeof path, "%s/watch.db", dir);
	test_roundtrip();
	test_byte_limit();
	test_blob_bytes();
	test_downsampled();
	test_latest();
	test_samples_put();
	test_rmtree(dir);
	TEST_MAIN_END();
}
