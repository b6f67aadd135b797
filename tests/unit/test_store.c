/* The snapshot store on a temporary database file: schema and file mode, put/list/load/stream
 * round trips, retention limits, deletes, share tokens, reopening, a newer schema refused, the
 * one-daemon lock, and concurrent writers and readers. */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "handmade_snapshot.h"
#include "test.h"
#include "vmscope/error.h"
#include "vmscope/http.h"
#include "vmscope/json.h"
#include "vmscope/pages.h"
#include "vmscope/store.h"

static char dir[] = "/tmp/vmscope-store-XXXXXX";
static char path[256];

/* Test-only SQL (the store itself is the only SQL in the product): one integer that sql answers
 * in the database at db_path (-1 when it cannot), and read/set user_version. */
static int64_t query_i64(const char *db_path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int64_t v = -1;
	if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static int64_t user_version(void)
{
	return query_i64(path, "PRAGMA user_version");
}

static void set_user_version(int v)
{
	sqlite3 *db = NULL;
	char sql[64];
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v);
	if (sqlite3_open(path, &db) == SQLITE_OK)
		sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
}

static void exec_sql(const char *sql)
{
	sqlite3 *db = NULL;
	if (sqlite3_open(path, &db) == SQLITE_OK && sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		fprintf(stderr, "exec_sql: %s\n", sqlite3_errmsg(db));
	sqlite3_close(db);
}

static char *json_of(const struct vms_snapshot *s)
{
	cJSON *j = vms_json_snapshot(s, NULL);
	char *t = vms_json_print(j, 0);
	cJSON_Delete(j);
	return t;
}

struct buf {
	char *p;
	size_t n, total;
	int calls, stop_after;
};

static int sink_size(void *arg, uint64_t total)
{
	struct buf *b = arg;
	b->total = total;
	b->p = malloc(total + 1);
	return b->p ? 0 : 1;
}

static int sink_chunk(void *arg, const void *data, size_t len)
{
	struct buf *b = arg;
	if (b->stop_after && ++b->calls >= b->stop_after)
		return 1;
	memcpy(b->p + b->n, data, len);
	b->n += len;
	return 0;
}

static void test_basics(void)
{
	struct vms_store *st = NULL;
	struct vms_store_opts o = {.max_snapshots = 3};
	char err[256] = "";
	CHECK(vms_store_open(path, &o, &st, err, sizeof err) == VMS_OK);
	if (!st) {
		fprintf(stderr, "open: %s\n", err);
		return;
	}
	struct stat sb;
	CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600);
	CHECK_EQ_U64(user_version(), VMS_STORE_SCHEMA_VERSION);

	/* A second store on the same file is refused while the first is open. */
	struct vms_store *st2 = NULL;
	CHECK(vms_store_open(path, NULL, &st2, err, sizeof err) == VMS_ERR_IO && st2 == NULL);
	CHECK(strstr(err, "in use") != NULL);

	struct vms_snapshot *s = hs_demo();
	char *expect = json_of(s);
	int64_t id1 = 0, id2 = 0, id3 = 0, id4 = 0;
	CHECK(vms_store_put(st, s, VMS_SOURCE_SCAN, NULL, 0, &id1) == VMS_OK && id1 > 0);
	s->pid = 777;
	CHECK(vms_store_put(st, s, VMS_SOURCE_IMPORT, NULL, 0, &id2) == VMS_OK && id2 > id1);
	s->pid = 4242;

	/* Metadata. */
	struct vms_snapshot_meta m;
	CHECK(vms_store_meta(st, id1, &m) == VMS_OK);
	CHECK_EQ_U64(m.pid, 4242);
	CHECK_STR(m.name, "demo");
	CHECK_STR(m.cmdline, "demo --flag value");
	CHECK_STR(m.user, "tester");
	CHECK_STR(m.host, "build-7");
	CHECK_STR(m.kernel, "6.18.44");
	CHECK_STR(m.machine, "x86_64");
	CHECK_EQ_U64(m.start_time, UINT64_MAX - 1);
	CHECK_EQ_U64(m.taken_at_ms, 1795327800123LL);
	CHECK_EQ_U64(m.n_regions, s->n_regions);
	CHECK_EQ_U64(m.n_allocations, s->n_allocations);
	CHECK(m.source == VMS_SOURCE_SCAN);
	CHECK(m.body_bytes > 0 && m.body_bytes < strlen(expect)); /* packed only, smaller than JSON */
	uint64_t packed_bytes = m.body_bytes;
	for (int c = 0; c < VMS_COL_COUNT; c++)
		CHECK_EQ_U64(m.total[c], s->total[c]);
	for (int t = 0; t < VMS_TYPE_COUNT; t++) {
		CHECK_EQ_U64(m.summary[t].blocks, s->summary[t].blocks);
		CHECK_EQ_U64(m.summary[t].largest, s->summary[t].largest);
		CHECK_EQ_U64(m.summary[t].regions, s->summary[t].regions);
		for (int c = 0; c < VMS_COL_COUNT; c++)
			CHECK_EQ_U64(m.summary[t].cols[c], s->summary[t].cols[c]);
	}
	vms_snapshot_meta_clear(&m);
	CHECK(vms_store_meta(st, 999, &m) == VMS_ERR_NOT_FOUND);

	/* List: newest first, filters. */
	struct vms_snapshot_list l;
	struct vms_store_query q = {.source = -1};
	CHECK(vms_store_list(st, &q, &l) == VMS_OK && l.n == 2 && l.items[0].id == id2 &&
	      l.items[1].id == id1);
	vms_snapshot_list_free(&l);
	q.pid = 777;
	CHECK(vms_store_list(st, &q, &l) == VMS_OK && l.n == 1 && l.items[0].id == id2 &&
	      l.items[0].source == VMS_SOURCE_IMPORT);
	vms_snapshot_list_free(&l);
	q.pid = 0;
	q.name = "nope";
	CHECK(vms_store_list(st, &q, &l) == VMS_OK && l.n == 0);
	vms_snapshot_list_free(&l);
	q.name = "demo";
	q.before = id2;
	CHECK(vms_store_list(st, &q, &l) == VMS_OK && l.n == 1 && l.items[0].id == id1);
	vms_snapshot_list_free(&l);
	struct vms_store_query q2 = {
	    .source = VMS_SOURCE_SCAN, .has_start_time = 1, .start_time = UINT64_MAX - 1};
	CHECK(vms_store_list(st, &q2, &l) == VMS_OK && l.n == 1 && l.items[0].id == id1);
	vms_snapshot_list_free(&l);
	struct vms_store_query q3 = {.source = -1, .limit = 1};
	CHECK(vms_store_list(st, &q3, &l) == VMS_OK && l.n == 1);
	vms_snapshot_list_free(&l);

	/* Load round trip: the JSON of what comes back equals what went in. */
	struct vms_snapshot *back = NULL;
	CHECK(vms_store_load(st, id1, &back) == VMS_OK && back);
	if (back) {
		char *got = json_of(back);
		CHECK(got && strcmp(got, expect) == 0);
		free(got);
		CHECK_STR(back->regions[4].path, HS_HOSTILE_PATH);
		CHECK_EQ_U64(back->regions[7].smaps[VMS_SF_REFERENCED], HS_BIG_U64);
		vms_snapshot_free(back);
	}
	CHECK(vms_store_load(st, 12345, &back) == VMS_ERR_NOT_FOUND && back == NULL);

	/* Stream: the JSON byte for byte, rendered on the first call and kept (counted once). */
	for (int round = 0; round < 2; round++) {
		struct buf b = {0};
		struct vms_store_sink sink = {sink_size, sink_chunk, &b};
		CHECK(vms_http_snapshot_json(st, id1, &sink) == VMS_OK);
		CHECK(b.total == strlen(expect) && b.n == b.total && b.p && memcmp(b.p, expect, b.n) == 0);
		free(b.p);
		CHECK(vms_store_meta(st, id1, &m) == VMS_OK && m.body_bytes == packed_bytes &&
		      m.json_bytes == strlen(expect));
		vms_snapshot_meta_clear(&m);
	}
	struct buf b2 = {.stop_after = 1};
	struct vms_store_sink sink2 = {sink_size, sink_chunk, &b2};
	CHECK(vms_http_snapshot_json(st, id1, &sink2) == VMS_ERR_IO);
	free(b2.p);
	struct buf b3 = {0};
	struct vms_store_sink sink3 = {sink_size, sink_chunk, &b3};
	CHECK(vms_http_snapshot_json(st, 4444, &sink3) == VMS_ERR_NOT_FOUND && b3.p == NULL);

	/* A caller-supplied body is stored as given. */
	CHECK(vms_store_put(st, s, VMS_SOURCE_SCAN, expect, strlen(expect), &id3) == VMS_OK);

	/* Retention: the count limit (3) refuses the 4th and writes nothing. */
	CHECK(vms_store_put(st, s, VMS_SOURCE_SCAN, NULL, 0, &id4) == VMS_ERR_FULL);
	struct vms_store_usage u;
	uint64_t sum = 0;
	CHECK(vms_store_list(st, NULL, &l) == VMS_OK && l.n == 3);
	for (size_t i = 0; i < l.n; i++)
		sum += l.items[i].body_bytes;
	vms_snapshot_list_free(&l);
	CHECK(vms_store_usage(st, &u) == VMS_OK && u.snapshots == 3 && u.bytes == sum &&
	      u.max_snapshots == 3);

	/* Shares. */
	struct vms_share sh, got;
	CHECK(vms_store_share_create(st, id1, 1, &sh) == VMS_OK);
	CHECK(strlen(sh.token) == VMS_SHARE_TOKEN_LEN && sh.snapshot_id == id1 && sh.omit_cmdline == 1);
	CHECK(vms_store_share_get(st, sh.token, &got) == VMS_OK && got.snapshot_id == id1 &&
	      got.omit_cmdline == 1 && strcmp(got.token, sh.token) == 0);
	struct vms_share sh2;
	CHECK(vms_store_share_create(st, id1, 0, &sh2) == VMS_OK && strcmp(sh.token, sh2.token) != 0);
	CHECK(vms_store_share_create(st, 31337, 0, &got) == VMS_ERR_NOT_FOUND);
	char bad[VMS_SHARE_TOKEN_LEN + 2];
	memcpy(bad, sh.token, sizeof sh.token);
	bad[VMS_SHARE_TOKEN_LEN - 1] = bad[VMS_SHARE_TOKEN_LEN - 1] == '0' ? '1' : '0';
	CHECK(vms_store_share_get(st, bad, &got) == VMS_ERR_NOT_FOUND); /* right selector, wrong secret */
	CHECK(vms_store_share_revoke(st, bad) == VMS_ERR_NOT_FOUND);
	memcpy(bad, sh.token, sizeof sh.token);
	bad[VMS_SHARE_TOKEN_LEN] = 'a';
	bad[VMS_SHARE_TOKEN_LEN + 1] = '\0';
	CHECK(vms_store_share_get(st, bad, &got) == VMS_ERR_NOT_FOUND); /* too long */
	CHECK(vms_store_share_get(st, "", &got) == VMS_ERR_NOT_FOUND);
	CHECK(vms_store_share_get(st, "x' OR 1=1 --", &got) == VMS_ERR_NOT_FOUND);
	/* Lifetimes and view limits (schema 5): the store keeps them; vms_share_gone decides. */
	struct vms_share lim, seen;
	const struct vms_share_spec spec = {.lifetime_ms = 60000, .max_views = 2};
	int counted = 0;
	CHECK(vms_store_share_create_spec(st, id1, &spec, &lim) == VMS_OK &&
	      lim.expires_at_ms == lim.created_at_ms + 60000 && lim.max_views == 2 && lim.views == 0);
	CHECK(sh.expires_at_ms == 0 && vms_share_gone(&sh, INT64_MAX) == 0); /* the old call: never */
	int64_t t0 = lim.created_at_ms;
	CHECK(vms_share_gone(&lim, t0 + 59999) == 0 && vms_share_gone(&lim, t0 + 60000) == 1);
	CHECK(vms_store_share_view(st, lim.token, t0, &seen, &counted) == VMS_OK && counted &&
	      seen.views == 1);
	CHECK(vms_store_share_view(st, lim.token, t0, &seen, &counted) == VMS_OK && counted &&
	      seen.views == 2 && vms_share_gone(&seen, t0) == 2);
	CHECK(vms_store_share_view(st, lim.token, t0, &seen, &counted) == VMS_OK && !counted &&
	      seen.views == 2);
	CHECK(vms_store_share_create_spec(st, id1, &spec, &lim) == VMS_OK);
	CHECK(vms_store_share_view(st, lim.token, lim.created_at_ms + 60000, &seen, &counted) == VMS_OK &&
	      !counted && seen.views == 0); /* expired: not counted */
	const struct vms_share_spec negative = {.lifetime_ms = -1};
	CHECK(vms_store_share_create_spec(st, id1, &negative, &got) == VMS_ERR_INVALID);
	struct vms_share *list = NULL;
	size_t n = 0;
	CHECK(vms_store_share_list(st, id1, &list, &n) == VMS_OK && n == 4);
	int used_up = 0;
	for (size_t i = 0; i < n; i++)
		used_up += list[i].max_views == 2 && list[i].views == 2;
	CHECK(used_up == 1);
	free(list);
	CHECK(vms_store_share_revoke(st, sh.token) == VMS_OK);
	CHECK(vms_store_share_get(st, sh.token, &got) == VMS_ERR_NOT_FOUND);
	CHECK(vms_store_share_revoke(st, sh.token) == VMS_ERR_NOT_FOUND);
	CHECK(vms_store_share_list(st, id1, &list, &n) == VMS_OK && n == 3);
	for (size_t i = 0; i < n; i++)
		CHECK(strcmp(list[i].token, sh.token) != 0);
	free(list);

	/* Delete: gone with its shares; twice is NOT_FOUND; then there is room again. */
	CHECK(vms_store_delete(st, id1) == VMS_OK);
	CHECK(vms_store_delete(st, id1) == VMS_ERR_NOT_FOUND);
	CHECK(vms_store_load(st, id1, &back) == VMS_ERR_NOT_FOUND);
	CHECK(vms_store_share_get(st, sh2.token, &got) == VMS_ERR_NOT_FOUND);
	CHECK(vms_store_put(st, s, VMS_SOURCE_SCAN, NULL, 0, &id4) == VMS_OK && id4 > id3);
	/* Ids are never reused, even for the highest one deleted. */
	CHECK(vms_store_delete(st, id4) == VMS_OK);
	int64_t id5 = 0;
	CHECK(vms_store_put(st, s, VMS_SOURCE_SCAN, NULL, 0, &id5) == VMS_OK && id5 > id4);
	CHECK(vms_store_share_create(st, id5, 0, &sh) == VMS_OK);
	vms_store_close(st);

	/* A schema-1 snapshot (JSON only, no packed body) still loads. Test-only SQL. */
	char sql[128];
	snprintf(sql, sizeof sql, "DELETE FROM snapshot_packed WHERE id = %lld", (long long)id2);
	CHECK(vms_store_open(path, NULL, &st, err, sizeof err) == VMS_OK);
	struct buf b4 = {0};
	struct vms_store_sink sink4 = {sink_size, sink_chunk, &b4};
	CHECK(vms_http_snapshot_json(st, id2, &sink4) == VMS_OK); /* keeps the JSON of id2 */
	free(b4.p);
	CHECK(vms_store_usage(st, &u) == VMS_OK);
	uint64_t used_now = u.bytes;
	vms_store_close(st);
	exec_sql(sql);

	/* Reopen: everything is still there; the byte limit refuses a write too big. */
	struct vms_store_opts small = {.max_bytes = used_now + 10, .legacy_json = vms_json_decode_stored};
	CHECK(vms_store_open(path, &small, &st, err, sizeof err) == VMS_OK);
	CHECK(vms_store_list(st, NULL, &l) == VMS_OK && l.n == 3 && l.items[0].id == id5);
	vms_snapshot_list_free(&l);
	CHECK(vms_store_share_get(st, sh.token, &got) == VMS_OK && got.snapshot_id == id5);
	CHECK(vms_store_load(st, id2, &back) == VMS_OK && back && back->pid == 777 &&
	      back->n_regions == s->n_regions);
	vms_snapshot_free(back);
	back = NULL;
	CHECK(vms_store_put(st, s, VMS_SOURCE_SCAN, NULL, 0, &id4) == VMS_ERR_FULL);
	vms_store_close(st);

	/* The file mode is narrowed again if someone widened it. */
	chmod(path, 0644);
	CHECK(vms_store_open(path, NULL, &st, err, sizeof err) == VMS_OK);
	CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600);
	/* without a decoder for schema-1 JSON bodies, such a snapshot is refused, not misread */
	CHECK(vms_store_load(st, id2, &back) == VMS_ERR_UNSUPPORTED && back == NULL);
	vms_store_close(st);

	/* Forward migration: a schema-1 database (summaries as JSON text) gains the packed table
	 * and its summaries become rows. */
	/* A share made by schema 5 with a lifetime; going back to schema 4 below drops its expiry,
	 * so after the migration it is an old share: it never expires (issue 15). */
	struct vms_share old_sh, old_got;
	const struct vms_share_spec old_spec = {.lifetime_ms = 1000, .max_views = 3};
	CHECK(vms_store_open(path, NULL, &st, err, sizeof err) == VMS_OK);
	CHECK(vms_store_share_create_spec(st, id2, &old_spec, &old_sh) == VMS_OK && old_sh.expires_at_ms > 0);
	vms_store_close(st);
	exec_sql(
	    "DROP TABLE watch_shares; "       /* schema 8 */
	    "DROP TABLE snapshot_residency; " /* schema 7 */
	    "DROP TABLE watch_restarts; "     /* schema 6 */
	    "ALTER TABLE shares DROP COLUMN expires_at_ms; ALTER TABLE shares DROP COLUMN views; "
	    "ALTER TABLE shares DROP COLUMN max_views; "                          /* schema 5 */
	    "DROP TABLE samples; DROP TABLE sample_layouts; DROP TABLE watches; " /* schema 4 */
	    "DROP TABLE snapshot_packed; ALTER TABLE snapshots DROP COLUMN json_bytes; "
	    "DROP TABLE snapshot_summary; ALTER TABLE snapshots ADD COLUMN summary TEXT NOT NULL DEFAULT "
	    "'{}';"
	    "UPDATE snapshots SET summary = "
	    "'{\"summary\":[{\"type\":\"image\",\"name\":\"Image\",\"blocks\":7,"
	    "\"largest\":8,\"regions\":9,\"columns\":{\"size\":10,\"pss\":11}},{\"type\":\"heap\",\"name\":"
	    "\"Heap\",\"blocks\":1,\"largest\":2,\"regions\":3,\"columns\":{\"size\":4}}],\"total\":{"
	    "\"size\":5,"
	    "\"uss\":6}}'; PRAGMA user_version = 1;");
	CHECK_EQ_U64(user_version(), 1);
	struct vms_store_opts legacy = {.legacy_json = vms_json_decode_stored};
	CHECK(vms_store_open(path, &legacy, &st, err, sizeof err) == VMS_OK);
	CHECK_EQ_U64(user_version(), VMS_STORE_SCHEMA_VERSION);
	CHECK(vms_store_share_get(st, old_sh.token, &old_got) == VMS_OK && old_got.snapshot_id == id2 &&
	      old_got.expires_at_ms == 0 && old_got.views == 0 && old_got.max_views == 0 &&
	      !vms_share_gone(&old_got, INT64_MAX));
	CHECK(vms_store_meta(st, id2, &m) == VMS_OK);
	CHECK(m.summary[VMS_TYPE_IMAGE].blocks == 7 && m.summary[VMS_TYPE_IMAGE].largest == 8 &&
	      m.summary[VMS_TYPE_IMAGE].regions == 9 && m.summary[VMS_TYPE_IMAGE].cols[VMS_COL_SIZE] == 10 &&
	      m.summary[VMS_TYPE_IMAGE].cols[VMS_COL_PSS] == 11);
	CHECK(m.summary[VMS_TYPE_HEAP].blocks == 1 && m.summary[VMS_TYPE_HEAP].cols[VMS_COL_SIZE] == 4);
	CHECK(m.summary[VMS_TYPE_STACK].blocks == 0 && m.total[VMS_COL_SIZE] == 5 &&
	      m.total[VMS_COL_USS] == 6);
	vms_snapshot_meta_clear(&m);
	CHECK(vms_store_load(st, id2, &back) == VMS_OK && back && back->pid == 777); /* from its JSON */
	vms_snapshot_free(back);
	CHECK(vms_store_load(st, id5, &back) == VMS_ERR_NOT_FOUND); /* packed body gone, never rendered */
	int64_t id6 = 0;
	CHECK(vms_store_put(st, s, VMS_SOURCE_SCAN, NULL, 0, &id6) == VMS_OK);
	CHECK(vms_store_load(st, id6, &back) == VMS_OK);
	vms_snapshot_free(back);
	vms_store_close(st);

	/* A database from a newer vmscope is refused and left alone. */
	set_user_version(VMS_STORE_SCHEMA_VERSION + 1);
	st = NULL;
	CHECK(vms_store_open(path, NULL, &st, err, sizeof err) == VMS_ERR_UNSUPPORTED && st == NULL);
	CHECK(strstr(err, "newer") != NULL);
	CHECK_EQ_U64(user_version(), VMS_STORE_SCHEMA_VERSION + 1);
	set_user_version(VMS_STORE_SCHEMA_VERSION);

	CHECK(vms_store_open(":memory:", NULL, &st, err, sizeof err) == VMS_ERR_INVALID);
	CHECK(vms_store_open("/nonexistent-dir/x.db", NULL, &st, err, sizeof err) == VMS_ERR_IO);

	free(expect);
	vms_snapshot_free(s);
}

static uint64_t json_bytes_of(struct vms_store *st, int64_t id)
{
	struct vms_snapshot_meta m;
	uint64_t n = UINT64_MAX;
	if (vms_store_meta(st, id, &m) == VMS_OK)
		n = m.json_bytes;
	vms_snapshot_meta_clear(&m);
	return n;
}

static int stream_ok(struct vms_store *st, int64_t id)
{
	struct buf b = {0};
	struct vms_store_sink sink = {sink_size, sink_chunk, &b};
	int err = vms_http_snapshot_json(st, id, &sink);
	free(b.p);
	return err == VMS_OK && b.n == b.total;
}

/* Renderings are a cache inside the byte limit: the oldest makes room; only bodies fill it. */
static void test_renderings(void)
{
	char p2[300], err[256];
	struct vms_store *st = NULL;
	struct vms_snapshot *s = hs_demo();
	char *json = json_of(s);
	unsigned char *packed = NULL;
	size_t plen = 0;
	snprintf(p2, sizeof p2, "%s/renderings.db", dir);
	/* Room for three bodies and one rendering, not two. */
	struct vms_store_opts o = {.max_bytes = 0};
	CHECK(vms_store_open(p2, &o, &st, err, sizeof err) == VMS_OK);
	int64_t a = 0, b = 0, c = 0, d = 0;
	CHECK(vms_store_put(st, s, VMS_SOURCE_SCAN, NULL, 0, &a) == VMS_OK);
	struct vms_snapshot_meta m;
	CHECK(vms_store_meta(st, a, &m) == VMS_OK);
	plen = m.body_bytes;
	vms_snapshot_meta_clear(&m);
	vms_store_close(st);
	o.max_bytes = 2 * plen + strlen(json) + plen / 2; /* two bodies and one rendering */
	CHECK(vms_store_open(p2, &o, &st, err, sizeof err) == VMS_OK);
	CHECK(vms_store_put(st, s, VMS_SOURCE_SCAN, NULL, 0, &b) == VMS_OK);
	CHECK(stream_ok(st, a) && json_bytes_of(st, a) == strlen(json));
	CHECK(stream_ok(st, b) && json_bytes_of(st, b) == strlen(json) && json_bytes_of(st, a) == 0);
	CHECK(stream_ok(st, a)); /* still served, from a fresh rendering */
	CHECK(json_bytes_of(st, a) == strlen(json) && json_bytes_of(st, b) == 0);
	/* A new body evicts the rendering instead of failing... */
	CHECK(vms_store_put(st, s, VMS_SOURCE_SCAN, NULL, 0, &c) == VMS_OK);
	CHECK(json_bytes_of(st, a) == 0);
	CHECK(stream_ok(st, c)); /* no room to keep it now, but it is served */
	CHECK(json_bytes_of(st, c) == 0);
	struct vms_store_usage u;
	CHECK(vms_store_usage(st, &u) == VMS_OK && u.bytes + u.json_bytes <= o.max_bytes);
	/* ...but bodies alone fill the store. */
	int64_t e = 0;
	int full = 0;
	for (int i = 0; i < 100 && !full; i++)
		full = vms_store_put(st, s, VMS_SOURCE_SCAN, NULL, 0, &e) == VMS_ERR_FULL;
	CHECK(full);
	(void)d;
	CHECK(vms_store_usage(st, &u) == VMS_OK && u.bytes <= o.max_bytes && u.json_bytes == 0);
	vms_store_close(st);
	free(packed);
	free(json);
	vms_snapshot_free(s);
}

/* Writers and readers at once: every put lands, every read sees whole snapshots. */
struct worker {
	struct vms_store *st;
	int errors;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct vms_snapshot *s = hs_demo();
	for (int i = 0; i < 15; i++) {
		int64_t id;
		struct vms_snapshot *back = NULL;
		struct vms_snapshot_list l;
		if (vms_store_put(w->st, s, VMS_SOURCE_SCAN, NULL, 0, &id) != VMS_OK)
			w->errors++;
		else if (vms_store_load(w->st, id, &back) != VMS_OK || back->n_regions != s->n_regions)
			w->errors++;
		vms_snapshot_free(back);
		if (vms_store_list(w->st, NULL, &l) != VMS_OK || l.n == 0)
			w->errors++;
		vms_snapshot_list_free(&l);
	}
	vms_snapshot_free(s);
	return NULL;
}

static void test_concurrency(void)
{
	char p2[300], err[256];
	struct vms_store *st = NULL;
	snprintf(p2, sizeof p2, "%s/concurrent.db", dir);
	struct vms_store_opts o = {.readers = 3};
	CHECK(vms_store_open(p2, &o, &st, err, sizeof err) == VMS_OK);
	if (!st)
		return;
	pthread_t t[8];
	struct worker w[8];
	for (int i = 0; i < 8; i++) {
		w[i] = (struct worker){st, 0};
		pthread_create(&t[i], NULL, worker_main, &w[i]);
	}
	int errors = 0;
	for (int i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		errors += w[i].errors;
	}
	CHECK_EQ_U64(errors, 0);
	struct vms_store_usage u;
	CHECK(vms_store_usage(st, &u) == VMS_OK && u.snapshots == 8 * 15);
	vms_store_close(st);
}

/* Rows of snapshot_residency. */
static int64_t residency_rows(const char *db_path)
{
	return query_i64(db_path, "SELECT count(*) FROM snapshot_residency");
}

/* Residency kept with a snapshot (schema 7): the codec's round trip and its byte bound, stored in
 * the snapshot's transaction, counted in the byte limit, deleted with the snapshot. */
static void test_residency(void)
{
	char p3[300], err[256];
	struct vms_page_run runs[2000];
	struct vms_residency r = {.start = 0x10000000,
	                          .end = 0x20000000,
	                          .page_size = 4096,
	                          .method = VMS_RES_PAGEMAP_SCAN,
	                          .known = VMS_PG_ALL,
	                          .walk_end = 0x20000000,
	                          .runs = runs,
	                          .n_runs = 2000};
	for (size_t i = 0; i < 2000; i++)
		runs[i] =
		    (struct vms_page_run){.start = 0x10000000 + i * 0x10000,
		                          .end = 0x10000000 + i * 0x10000 + (i % 7 + 1) * 4096,
		                          .flags = VMS_PG_PRESENT | (i % 3 ? VMS_PG_EXCLUSIVE : VMS_PG_FILE)};
	unsigned char *blob = NULL;
	size_t len = 0;
	struct vms_residency back;
	CHECK(vms_residency_encode(&r, 100, &blob, &len) == VMS_ERR_INVALID);
	CHECK(vms_residency_encode(&r, VMS_RESIDENCY_DEFAULT_BYTES, &blob, &len) == VMS_OK && len < 8000);
	CHECK(vms_residency_decode(blob, len, &back) == VMS_OK && back.n_runs == 2000 && !back.truncated &&
	      back.walk_end == r.end && back.start == r.start && back.end == r.end);
	int same = 1;
	uint64_t present = 0;
	for (size_t i = 0; i < 2000 && same; i++) {
		same = back.runs[i].start == runs[i].start && back.runs[i].end == runs[i].end &&
		       back.runs[i].flags == runs[i].flags;
		present += (runs[i].end - runs[i].start) / 4096;
	}
	CHECK(same && back.pages[0] == present);
	/* clipped to one run's middle */
	vms_residency_clip(&back, runs[10].start + 4096, runs[12].start + 4096);
	CHECK(back.n_runs == 3 && back.runs[0].start == runs[10].start + 4096 &&
	      back.runs[2].end == runs[12].start + 4096);
	vms_residency_free(&back);
	/* damaged bytes are refused, never misread */
	CHECK(vms_residency_decode(blob, len - 1, &back) == VMS_ERR_IO && back.runs == NULL);
	blob[2] = 99;
	CHECK(vms_residency_decode(blob, len, &back) == VMS_ERR_IO);
	free(blob);
	/* past the bound: fewer runs, flagged truncated, walk_end where they stop */
	CHECK(vms_residency_encode(&r, 1000, &blob, &len) == VMS_OK && len <= 1000);
	CHECK(vms_residency_decode(blob, len, &back) == VMS_OK && back.truncated && back.n_runs > 100 &&
	      back.n_runs < 2000 && back.walk_end == back.runs[back.n_runs - 1].end);
	vms_residency_free(&back);

	/* the store: kept in the snapshot's transaction and counted as bytes */
	struct vms_store *st = NULL;
	struct vms_snapshot *s = hs_demo();
	struct vms_store_usage u0, u1;
	int64_t a = 0, b = 0;
	unsigned char *got = NULL;
	size_t got_len = 0;
	snprintf(p3, sizeof p3, "%s/residency.db", dir);
	CHECK(vms_store_open(p3, NULL, &st, err, sizeof err) == VMS_OK);
	CHECK(vms_store_put(st, s, VMS_SOURCE_SCAN, NULL, 0, &a) == VMS_OK);
	CHECK(vms_store_residency(st, a, &got, &got_len) == VMS_ERR_NOT_FOUND && !got);
	CHECK(vms_store_usage(st, &u0) == VMS_OK);
	CHECK(vms_store_put_with_residency(st, s, VMS_SOURCE_SCAN, blob, len, &b) == VMS_OK && b > a);
	CHECK(vms_store_usage(st, &u1) == VMS_OK && u1.bytes - u0.bytes > len);
	CHECK(vms_store_residency(st, b, &got, &got_len) == VMS_OK && got_len == len &&
	      !memcmp(got, blob, len));
	free(got);
	CHECK(residency_rows(p3) == 1);
	CHECK(vms_store_delete(st, b) == VMS_OK);
	CHECK(vms_store_residency(st, b, &got, &got_len) == VMS_ERR_NOT_FOUND && residency_rows(p3) == 0);
	struct vms_store_usage u2;
	CHECK(vms_store_usage(st, &u2) == VMS_OK && u2.bytes == u0.bytes);
	vms_store_close(st);
	/* a limit that holds the snapshot but not its residency: neither is stored */
	struct vms_store_opts o = {.max_bytes = u0.bytes * 2 + len / 2};
	CHECK(vms_store_open(p3, &o, &st, err, sizeof err) == VMS_OK);
	int64_t c = 0;
	CHECK(vms_store_put_with_residency(st, s, VMS_SOURCE_SCAN, blob, len, &c) == VMS_ERR_FULL);
	struct vms_snapshot_list l;
	CHECK(vms_store_list(st, NULL, &l) == VMS_OK && l.n == 1);
	vms_snapshot_list_free(&l);
	CHECK(residency_rows(p3) == 0);
	vms_store_close(st);
	free(blob);
	vms_snapshot_free(s);
}

int main(void)
{
	test_mkdtemp(dir);
	snprintf(path, sizeof path, "%s/store.db", dir);
	test_basics();
	test_renderings();
	test_residency();
	test_concurrency();
	test_rmtree(dir);
	TEST_MAIN_END();
}
