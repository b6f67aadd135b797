/* Watches and samples (vmscope/store_watch.h): the rows, the sample blob codec and retention. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"
#include "vmscope/error.h"
#include "vmscope/store_watch.h"
#include "vmscope/util.h"

#define BLOB_VERSION 1
/* Field keys besides the column keys, in the layout's order before them. */
static const char *const extra_fields[3] = {"blocks", "largest", "regions"};
#define N_EXTRA 3
#define N_FIELDS (N_EXTRA + VMS_COL_COUNT)
#define N_ROWS (VMS_TYPE_COUNT + 1) /* every type, then '' = totals */

/* ---- the layout ---------------------------------------------------------------------- */

/* This build's layout as text: type keys joined by ',' (the totals' key '' last), and the
 * field keys. */
static void layout_text(char *types, size_t tlen, char *fields, size_t flen)
{
	size_t n = 0;
	types[0] = fields[0] = '\0';
	for (int t = 0; t < VMS_TYPE_COUNT; t++)
		n += (size_t)snprintf(types + n, n < tlen ? tlen - n : 0, "%s,",
		                      vms_type_key((enum vms_type)t));
	n = 0;
	for (int f = 0; f < N_FIELDS; f++)
		n += (size_t)snprintf(fields + n, n < flen ? flen - n : 0, "%s%s", f ? "," : "",
		                      f < N_EXTRA ? extra_fields[f]
		                                  : vms_col_key((enum vms_col)(f - N_EXTRA)));
}

/* The id of this build's layout, inserted on first use (the writer lock is held). */
static int layout_id(struct vms_store *st, struct vms_conn *w, int64_t *out)
{
	char types[512], fields[512];
	sqlite3_stmt *q;
	if (st->sample_layout) {
		*out = st->sample_layout;
		return VMS_OK;
	}
	layout_text(types, sizeof types, fields, sizeof fields);
	if (!(q = vms_conn_stmt(w, VMS_ST_LAYOUT_FIND)) ||
	    sqlite3_bind_text(q, 1, types, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(q, 2, fields, -1, SQLITE_STATIC) != SQLITE_OK)
		return VMS_ERR_IO;
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		st->sample_layout = sqlite3_column_int64(q, 0);
		sqlite3_reset(q);
		*out = st->sample_layout;
		return VMS_OK;
	}
	sqlite3_reset(q);
	if (rc != SQLITE_DONE)
		return vms_store_err(rc);
	if (!(q = vms_conn_stmt(w, VMS_ST_LAYOUT_INSERT)) ||
	    sqlite3_bind_text(q, 1, types, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(q, 2, fields, -1, SQLITE_STATIC) != SQLITE_OK)
		return VMS_ERR_IO;
	int err = vms_store_step_done(q);
	if (err != VMS_OK)
		return err;
	/* Not cached yet: the insert is only final when the caller's transaction commits. */
	*out = sqlite3_last_insert_rowid(w->db);
	return VMS_OK;
}

/* A stored layout mapped onto this build: for each of its rows the type (-1 unknown, VMS_TYPE_COUNT
 * = totals), for each of its fields -1 unknown, 0..2 an extra field, 3.. a column. */
struct layout_map {
	int64_t id;
	int *rows, *fields;
	size_t n_rows, n_fields;
};

static size_t split_count(const char *s)
{
	size_t n = 1;
	for (; *s; s++)
		n += *s == ',';
	return n;
}

/* Split s on ',' calling map on each piece; out[i] gets its result. */
static int split_map(const char *s, int **out, size_t *n, int (*map)(const char *k, size_t len))
{
	*n = split_count(s);
	if (!(*out = calloc(*n, sizeof **out)))
		return VMS_ERR_NOMEM;
	size_t i = 0;
	for (const char *p = s;; i++) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		(*out)[i] = map(p, len);
		if (!e)
			break;
		p = e + 1;
	}
	return VMS_OK;
}

static int map_type(const char *k, size_t len)
{
	char key[64];
	if (len == 0)
		return VMS_TYPE_COUNT;
	if (len >= sizeof key)
		return -1;
	memcpy(key, k, len);
	key[len] = '\0';
	return vms_type_from_key(key);
}

static int map_field(const char *k, size_t len)
{
	char key[64];
	if (len == 0 || len >= sizeof key)
		return -1;
	memcpy(key, k, len);
	key[len] = '\0';
	for (int i = 0; i < N_EXTRA; i++)
		if (!strcmp(key, extra_fields[i]))
			return i;
	int c = vms_col_from_key(key);
	return c >= 0 ? N_EXTRA + c : -1;
}

static void layouts_free(struct layout_map *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(m[i].rows);
		free(m[i].fields);
	}
	free(m);
}

static int layouts_load(struct vms_conn *c, struct layout_map **out, size_t *n)
{
	size_t cap = 0;
	int rc, err = VMS_OK;
	*out = NULL;
	*n = 0;
	sqlite3_stmt *q = vms_conn_stmt(c, VMS_ST_LAYOUT_ALL);
	if (!q)
		return VMS_ERR_IO;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if ((err = vms_store_grow(out, &cap, *n, sizeof **out)) != VMS_OK)
			break;
		struct layout_map *m = &(*out)[*n];
		memset(m, 0, sizeof *m);
		(*n)++;
		m->id = sqlite3_column_int64(q, 0);
		const char *types = (const char *)sqlite3_column_text(q, 1);
		const char *fields = (const char *)sqlite3_column_text(q, 2);
		if ((err = split_map(types ? types : "", &m->rows, &m->n_rows, map_type)) != VMS_OK ||
		    (err = split_map(fields ? fields : "", &m->fields, &m->n_fields, map_field)) != VMS_OK)
			break;
		/* types ends with ",": its last piece is the totals row (""). */
	}
	sqlite3_reset(q);
	if (err == VMS_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
		err = vms_store_err(rc);
	if (err != VMS_OK) {
		layouts_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return err;
}

/* ---- the blob -------------------------------------------------------------------------- */

static uint64_t field_value(const struct vms_sample *s, int row, int f)
{
	if (row == VMS_TYPE_COUNT)
		return f >= N_EXTRA ? s->total[f - N_EXTRA] : 0;
	const struct vms_type_summary *ts = &s->summary[row];
	switch (f) {
	case 0:
		return ts->blocks;
	case 1:
		return ts->largest;
	case 2:
		return ts->regions;
	default:
		return ts->cols[f - N_EXTRA];
	}
}

static void field_set(struct vms_sample *s, int row, int f, uint64_t v)
{
	if (row == VMS_TYPE_COUNT) {
		if (f >= N_EXTRA)
			s->total[f - N_EXTRA] = v;
		return;
	}
	struct vms_type_summary *ts = &s->summary[row];
	if (f == 0)
		ts->blocks = v;
	else if (f == 1)
		ts->largest = v;
	else if (f == 2)
		ts->regions = v;
	else
		ts->cols[f - N_EXTRA] = v;
}

/* Encode into buf (at least 2 + N_ROWS * N_FIELDS * 10 bytes); returns the length. Byte-valued
 * fields are multiples of 1 KiB (smaps is in kB), blocks and regions are small counts: the
 * shift is chosen per field kind so both stay short. */
static size_t blob_encode(const struct vms_sample *s, unsigned char *buf)
{
	size_t n = 0;
	int shift = 10;
	/* one shift for the byte fields: 10 when every one of them is a multiple of 1 KiB */
	for (int r = 0; r < N_ROWS && shift; r++)
		for (int f = 1; f < N_FIELDS; f++)
			if (f != 2 && (field_value(s, r, f) & 1023u)) {
				shift = 0;
				break;
			}
	buf[n++] = BLOB_VERSION;
	buf[n++] = (unsigned char)shift;
	for (int r = 0; r < N_ROWS; r++)
		for (int f = 0; f < N_FIELDS; f++) {
			uint64_t v = field_value(s, r, f);
			if (f != 0 && f != 2) /* blocks and regions are counts, never shifted */
				v >>= shift;
			do {
				unsigned char b = v & 0x7f;
				v >>= 7;
				buf[n++] = (unsigned char)(b | (v ? 0x80 : 0));
			} while (v);
		}
	return n;
}

static int blob_decode(const unsigned char *buf, size_t len, const struct layout_map *m, struct vms_sample *s)
{
	size_t n = 0;
	if (len < 2 || buf[0] != BLOB_VERSION || buf[1] > 32)
		return VMS_ERR_IO;
	int shift = buf[1];
	n = 2;
	for (size_t r = 0; r < m->n_rows; r++)
		for (size_t f = 0; f < m->n_fields; f++) {
			uint64_t v = 0;
			int sh = 0;
			for (;;) {
				if (n >= len || sh > 63)
					return VMS_ERR_IO;
				unsigned char b = buf[n++];
				v |= (uint64_t)(b & 0x7f) << sh;
				sh += 7;
				if (!(b & 0x80))
					break;
			}
			int row = m->rows[r], field = m->fields[f];
			if (row < 0 || field < 0)
				continue; /* a type or field this build does not know */
			if (field != 0 && field != 2)
				v <<= shift;
			field_set(s, row, field, v);
		}
	return VMS_OK;
}

/* ---- watches --------------------------------------------------------------------------- */

void vms_watch_clear(struct vms_watch *w)
{
	if (w) {
		free(w->name);
		free(w->state);
		free(w->note);
		*w = (struct vms_watch){0};
	}
}

void vms_watch_array_free(struct vms_watch *w, size_t n)
{
	for (size_t i = 0; w && i < n; i++)
		vms_watch_clear(&w[i]);
	free(w);
}

/* A row of WATCH_COLS (store_sql.c): the integers by column number, the three texts copied;
 * the thresholds (18, 19) NULL when not known. */
static int read_watch(sqlite3_stmt *q, void *out)
{
	struct vms_watch *w = out;
	int64_t v[20];
	int oom = 0;
	/* asked before the values are read: after a conversion a column's type is undefined */
	int thresholds_known =
	    sqlite3_column_type(q, 18) != SQLITE_NULL && sqlite3_column_type(q, 19) != SQLITE_NULL;
	for (int k = 0; k < 20; k++)
		v[k] = sqlite3_column_int64(q, k);
	*w = (struct vms_watch){.id = v[0],
	                        .pid = (pid_t)v[1],
	                        .start_time = (uint64_t)v[2],
	                        .name = vms_store_col_text(q, 3, &oom),
	                        .created_at_ms = v[4],
	                        .ends_at_ms = v[5],
	                        .ended_at_ms = v[6],
	                        .interval_ms = (uint32_t)v[7],
	                        .snapshot_every_s = (uint32_t)v[8],
	                        .retention_s = (uint32_t)v[9],
	                        .state = vms_store_col_text(q, 10, &oom),
	                        .note = vms_store_col_text(q, 11, &oom),
	                        .sample_bytes = (uint64_t)v[12],
	                        .n_samples = (uint64_t)v[13],
	                        .first_ms = v[14],
	                        .last_ms = v[15],
	                        .follow = (int)v[16],
	                        .n_restarts = (uint64_t)v[17]};
	if (thresholds_known && v[18] >= 0 && v[18] <= UINT32_MAX && v[19] >= 0) {
		w->has_thresholds = 1;
		w->snapshot_on_allocations = (uint32_t)v[18];
		w->snapshot_on_committed = (uint64_t)v[19];
	}
	if (oom)
		vms_watch_clear(w);
	return oom ? VMS_ERR_NOMEM : VMS_OK;
}

static int read_watch_row(sqlite3_stmt *q, void *item, void *ctx)
{
	(void)ctx;
	return read_watch(q, item);
}

int vms_store_watch_create(struct vms_store *st, const struct vms_watch *w, int64_t *id)
{
	int err;
	if (!st || !w || !id || w->pid <= 0 || w->interval_ms < VMS_WATCH_MIN_INTERVAL_MS ||
	    w->interval_ms > VMS_WATCH_MAX_INTERVAL_MS)
		return VMS_ERR_INVALID;
	pthread_mutex_lock(&st->wlock);
	sqlite3_stmt *q = vms_conn_stmt(&st->writer, VMS_ST_WATCH_INSERT);
	if (!q || sqlite3_bind_int64(q, 1, w->pid) != SQLITE_OK ||
	    sqlite3_bind_int64(q, 2, (sqlite3_int64)w->start_time) != SQLITE_OK ||
	    sqlite3_bind_text(q, 3, w->name ? w->name : "", -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(q, 4, w->created_at_ms ? w->created_at_ms : vms_wall_ms()) != SQLITE_OK ||
	    sqlite3_bind_int64(q, 5, w->ends_at_ms) != SQLITE_OK ||
	    sqlite3_bind_int64(q, 6, w->interval_ms) != SQLITE_OK ||
	    sqlite3_bind_int64(q, 7, w->snapshot_every_s) != SQLITE_OK ||
	    sqlite3_bind_int64(q, 8, w->retention_s ? w->retention_s : VMS_WATCH_DEFAULT_RETENTION_S) !=
	        SQLITE_OK ||
	    sqlite3_bind_int64(q, 9, w->follow != 0) != SQLITE_OK ||
	    (w->has_thresholds ? sqlite3_bind_int64(q, 10, w->snapshot_on_allocations)
	                       : sqlite3_bind_null(q, 10)) != SQLITE_OK ||
	    (w->has_thresholds ? sqlite3_bind_int64(q, 11, (sqlite3_int64)w->snapshot_on_committed)
	                       : sqlite3_bind_null(q, 11)) != SQLITE_OK) {
		err = VMS_ERR_IO;
		goto out;
	}
	if ((err = vms_store_step_done(q)) == VMS_OK)
		*id = sqlite3_last_insert_rowid(st->writer.db);
out:
	pthread_mutex_unlock(&st->wlock);
	return err;
}

int vms_store_watch_get(struct vms_store *st, int64_t id, struct vms_watch *out)
{
	memset(out, 0, sizeof *out);
	if (!st || id <= 0)
		return VMS_ERR_NOT_FOUND;
	struct vms_conn *c = vms_store_reader(st);
	int err = vms_store_row_by_id(c, VMS_ST_WATCH_GET, id, read_watch, out);
	vms_store_reader_put(st, c);
	return err;
}

/* The watches statement slot gives (WATCH_COLS rows) into *out. */
static int list_watches(struct vms_store *st, enum vms_stmt slot, struct vms_watch **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	struct vms_conn *c = vms_store_reader(st);
	sqlite3_stmt *q = vms_conn_stmt(c, slot);
	int err = q ? vms_store_rows(q, out, n, sizeof **out, read_watch_row, NULL) : VMS_ERR_IO;
	vms_store_reader_put(st, c);
	if (err != VMS_OK) {
		vms_watch_array_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return err;
}

int vms_store_watch_list(struct vms_store *st, struct vms_watch **out, size_t *n)
{
	return list_watches(st, VMS_ST_WATCH_LIST, out, n);
}

int vms_store_watch_list_running(struct vms_store *st, struct vms_watch **out, size_t *n)
{
	return list_watches(st, VMS_ST_WATCH_RUNNING, out, n);
}

int vms_store_watch_update(struct vms_store *st, int64_t id, const char *state, const char *note,
                           int64_t ended_at_ms)
{
	int err;
	pthread_mutex_lock(&st->wlock);
	sqlite3_stmt *q = vms_conn_stmt(&st->writer, VMS_ST_WATCH_UPDATE);
	int rc = SQLITE_ERROR;
	if (q) {
		rc = sqlite3_bind_int64(q, 1, id);
		rc |= state ? sqlite3_bind_text(q, 2, state, -1, SQLITE_STATIC) : SQLITE_OK;
		rc |= note ? sqlite3_bind_text(q, 3, note, -1, SQLITE_STATIC) : SQLITE_OK;
		rc |= sqlite3_bind_int64(q, 4, ended_at_ms);
	}
	if (rc != SQLITE_OK) {
		err = VMS_ERR_IO;
		goto out;
	}
	if ((err = vms_store_step_done(q)) == VMS_OK && sqlite3_changes(st->writer.db) == 0)
		err = VMS_ERR_NOT_FOUND;
out:
	pthread_mutex_unlock(&st->wlock);
	return err;
}

int vms_store_watch_retarget(struct vms_store *st, int64_t id, pid_t pid, uint64_t start_time, pid_t old_pid,
                             int64_t t_ms)
{
	int err;
	if (!st || id <= 0 || pid <= 0)
		return VMS_ERR_INVALID;
	if ((err = vms_store_write_begin(st)) != VMS_OK)
		return err;
	const int64_t target[] = {id, pid, (int64_t)start_time},
	              restart[] = {id, t_ms, pid, (int64_t)start_time, old_pid};
	sqlite3_stmt *q = vms_conn_stmt(&st->writer, VMS_ST_WATCH_RETARGET);
	if ((err = vms_store_bind_i64s(q, 3, target)) == VMS_OK && (err = vms_store_step_done(q)) == VMS_OK &&
	    sqlite3_changes(st->writer.db) == 0)
		err = VMS_ERR_NOT_FOUND;
	q = vms_conn_stmt(&st->writer, VMS_ST_RESTART_INSERT);
	if (err == VMS_OK && (err = vms_store_bind_i64s(q, 5, restart)) == VMS_OK)
		err = vms_store_step_done(q);
	return vms_store_write_end(st, err);
}

static int read_restart(sqlite3_stmt *q, void *item, void *ctx)
{
	struct vms_watch_restart *x = item;
	(void)ctx;
	x->t_ms = sqlite3_column_int64(q, 0);
	x->pid = (pid_t)sqlite3_column_int64(q, 1);
	x->start_time = (uint64_t)sqlite3_column_int64(q, 2);
	x->old_pid = (pid_t)sqlite3_column_int64(q, 3);
	return VMS_OK;
}

int vms_store_watch_restarts(struct vms_store *st, int64_t id, struct vms_watch_restart **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	struct vms_conn *c = vms_store_reader(st);
	sqlite3_stmt *q = vms_conn_stmt(c, VMS_ST_RESTARTS);
	int err = vms_store_bind_i64s(q, 1, &id);
	if (err == VMS_OK)
		err = vms_store_rows(q, out, n, sizeof **out, read_restart, NULL);
	vms_store_reader_put(st, c);
	if (err != VMS_OK) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return err;
}

/* Inside the writer's transaction: delete the samples of watch id older than before_ms with
 * their full snapshots, and take their bytes off the watch. */
static int drop_samples_before(struct vms_conn *w, int64_t id, int64_t before_ms)
{
	int64_t *snaps = NULL;
	size_t n = 0, cap = 0;
	int rc, err = VMS_OK;
	sqlite3_stmt *q = vms_conn_stmt(w, VMS_ST_SAMPLES_OLD_SNAPSHOTS);
	if (vms_store_bind2(q, id, before_ms))
		return VMS_ERR_IO;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if ((err = vms_store_grow(&snaps, &cap, n, sizeof *snaps)) != VMS_OK)
			break;
		snaps[n++] = sqlite3_column_int64(q, 0);
	}
	sqlite3_reset(q);
	if (err == VMS_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
		err = vms_store_err(rc);
	for (size_t i = 0; i < n && err == VMS_OK; i++)
		err = vms_store_delete_in_tx(w, snaps[i], NULL);
	free(snaps);
	if (err != VMS_OK)
		return err;
	const int64_t range[] = {id, before_ms};
	int64_t bytes = 0;
	if ((err = vms_store_query_i64(w, VMS_ST_SAMPLES_OLD_BYTES, 2, range, &bytes)) != VMS_OK ||
	    bytes == 0)
		return err;
	q = vms_conn_stmt(w, VMS_ST_SAMPLES_DELETE_OLD);
	if (vms_store_bind2(q, id, before_ms) || (err = vms_store_step_done(q)) != VMS_OK)
		return err ? err : VMS_ERR_IO;
	q = vms_conn_stmt(w, VMS_ST_WATCH_ADD_BYTES);
	if (vms_store_bind2(q, id, -bytes))
		return VMS_ERR_IO;
	return vms_store_step_done(q);
}

int vms_store_watch_delete(struct vms_store *st, int64_t id)
{
	int err;
	if (!st || id <= 0)
		return VMS_ERR_NOT_FOUND;
	if ((err = vms_store_write_begin(st)) != VMS_OK)
		return err;
	struct vms_conn *w = &st->writer;
	if ((err = drop_samples_before(w, id, INT64_MAX)) != VMS_OK)
		goto out;
	sqlite3_stmt *q = vms_conn_stmt(w, VMS_ST_WATCH_DELETE);
	if (!q || sqlite3_bind_int64(q, 1, id) != SQLITE_OK) {
		err = VMS_ERR_IO;
		goto out;
	}
	if ((err = vms_store_step_done(q)) == VMS_OK && sqlite3_changes(w->db) == 0)
		err = VMS_ERR_NOT_FOUND;
out:
	return vms_store_write_end(st, err);
}

/* ---- samples --------------------------------------------------------------------------- */

/* Fixed cost of a sample row besides its blob, counted towards the byte limit: the key and
 * the counter columns as SQLite stores them (measured: docs/benchmarks.md, "Timeline"). */
#define ROW_OVERHEAD 40u

#define VMS_SAMPLE_SLACK (64u * 1024u) /* at most ~200 samples between two full checks */

/* Inside the transaction: room for need bytes, dropping this watch's oldest samples (a tenth
 * of them at a time) while there is none. */
static int room_for_sample(struct vms_store *st, struct vms_conn *w, int64_t id, uint64_t need)
{
	/* The room a full check found is spent by the next samples without checking again (the
	 * check sums every snapshot row: a watch stores one sample per tick); any other write's
	 * check zeroes it, so the limit is never passed. */
	if (need <= st->sample_slack) {
		st->sample_slack -= need;
		return VMS_OK;
	}
	for (;;) {
		int err = vms_store_make_room(st, w, need);
		if (err == VMS_OK)
			st->sample_slack =
			    st->room_left < VMS_SAMPLE_SLACK ? st->room_left : VMS_SAMPLE_SLACK;
		if (err != VMS_ERR_FULL)
			return err;
		int64_t count = 0, cut = INT64_MAX;
		if ((err = vms_store_query_i64(w, VMS_ST_SAMPLE_COUNT, 1, &id, &count)) != VMS_OK)
			return err;
		if (count == 0)
			return VMS_ERR_FULL;
		const int64_t nth[] = {id, count / 10 + 1}; /* a tenth of them, at least one */
		if (nth[1] < count &&
		    (err = vms_store_query_i64(w, VMS_ST_SAMPLE_NTH_T, 2, nth, &cut)) != VMS_OK)
			return err;
		if ((err = drop_samples_before(w, id, cut)) != VMS_OK)
			return err;
	}
}

/* Inside the writer's transaction, before s is inserted: a sample the watch has at s's time
 * already (an imported timeline may repeat a time) is replaced by it, so its bytes are taken
 * off the watch's count and its full snapshot is deleted (else counted twice, and kept by
 * nothing). */
static int forget_replaced(struct vms_conn *w, int64_t id, const struct vms_sample *s)
{
	sqlite3_stmt *q = vms_conn_stmt(w, VMS_ST_SAMPLE_SAME_T);
	if (!q || vms_store_bind2(q, id, s->t_ms))
		return VMS_ERR_IO;
	int rc = sqlite3_step(q);
	int64_t bytes = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
	int64_t snap = rc == SQLITE_ROW ? sqlite3_column_int64(q, 1) : 0; /* NULL: 0 */
	sqlite3_reset(q);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? VMS_OK : vms_store_err(rc);
	int err = VMS_OK;
	if (snap > 0 && snap != s->snapshot_id && (err = vms_store_delete_in_tx(w, snap, NULL)) != VMS_OK)
		return err;
	q = vms_conn_stmt(w, VMS_ST_WATCH_ADD_BYTES);
	if (vms_store_bind2(q, id, -bytes))
		return VMS_ERR_IO;
	return vms_store_step_done(q);
}

/* Inside the writer's transaction: sample s of watch id (vms_store_sample_put's contract).
 * *layout: the layout id used (cached in st->sample_layout by the caller once committed). */
static int put_sample_in_tx(struct vms_store *st, int64_t id, const struct vms_sample *s, int64_t *layout)
{
	unsigned char blob[2 + N_ROWS * N_FIELDS * 10];
	size_t len = blob_encode(s, blob);
	uint64_t bytes = len + ROW_OVERHEAD;
	struct vms_conn *w = &st->writer;
	sqlite3_stmt *q;
	int64_t retention_s = 0;
	int err;
	if ((err = vms_store_query_i64(w, VMS_ST_WATCH_RETENTION, 1, &id, &retention_s)) != VMS_OK)
		return err;
	if (retention_s > 0 && (err = drop_samples_before(w, id, s->t_ms - retention_s * 1000)) != VMS_OK)
		return err;
	if ((err = room_for_sample(st, w, id, bytes)) != VMS_OK)
		return err;
	if ((err = layout_id(st, w, layout)) != VMS_OK || (err = forget_replaced(w, id, s)) != VMS_OK)
		return err;
	q = vms_conn_stmt(w, VMS_ST_SAMPLE_INSERT);
	/* ?1..?8 counters, ?9 the full snapshot (NULL: none), ?10 layout, ?11 bytes, ?12 the blob,
	 * ?13 total committed */
	const int64_t cols[] = {id,
	                        s->t_ms,
	                        s->flags,
	                        (int64_t)s->threads,
	                        (int64_t)s->vm_rss,
	                        (int64_t)s->vm_swap,
	                        (int64_t)s->min_flt,
	                        (int64_t)s->maj_flt};
	if ((err = vms_store_bind_i64s(q, 8, cols)) != VMS_OK ||
	    (s->snapshot_id > 0 ? sqlite3_bind_int64(q, 9, s->snapshot_id) : sqlite3_bind_null(q, 9)) !=
	        SQLITE_OK ||
	    sqlite3_bind_int64(q, 10, *layout) != SQLITE_OK ||
	    sqlite3_bind_int64(q, 11, (int64_t)bytes) != SQLITE_OK ||
	    sqlite3_bind_blob(q, 12, blob, (int)len, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(q, 13, (int64_t)s->total[VMS_COL_COMMITTED]) != SQLITE_OK)
		return VMS_ERR_IO;
	if ((err = vms_store_step_done(q)) != VMS_OK)
		return err;
	q = vms_conn_stmt(w, VMS_ST_WATCH_ADD_BYTES);
	if (vms_store_bind2(q, id, (int64_t)bytes))
		return VMS_ERR_IO;
	return vms_store_step_done(q);
}

/* End the transaction of a sample put; the layout it used is cached once committed. */
static int end_sample_tx(struct vms_store *st, int err, int64_t layout)
{
	if (err == VMS_OK && layout)
		st->sample_layout = layout; /* cached before the commit (under the lock); taken back below */
	if ((err = vms_store_write_end(st, err)) != VMS_OK && layout) {
		pthread_mutex_lock(&st->wlock);
		if (st->sample_layout == layout)
			st->sample_layout = 0;
		pthread_mutex_unlock(&st->wlock);
	}
	return err;
}

int vms_store_sample_put(struct vms_store *st, int64_t id, const struct vms_sample *s)
{
	int64_t layout = 0;
	int err;
	if (!st || !s || id <= 0)
		return VMS_ERR_INVALID;
	if ((err = vms_store_write_begin(st)) != VMS_OK)
		return err;
	return end_sample_tx(st, put_sample_in_tx(st, id, s, &layout), layout);
}

void vms_store_samples_put(struct vms_store *st, struct vms_sample_put *items, size_t n)
{
	int64_t layout = 0;
	int err = VMS_OK;
	size_t i;
	if (!n)
		return;
	if (!st)
		err = VMS_ERR_INVALID;
	for (i = 0; i < n && err == VMS_OK; i++)
		if (items[i].watch_id <= 0)
			err = VMS_ERR_INVALID;
	if (err == VMS_OK && n > 1 && (err = vms_store_write_begin(st)) == VMS_OK) {
		for (i = 0; i < n && err == VMS_OK; i++)
			err = put_sample_in_tx(st, items[i].watch_id, &items[i].sample, &layout);
		if ((err = end_sample_tx(st, err, layout)) == VMS_OK) {
			for (i = 0; i < n; i++)
				items[i].err = VMS_OK;
			return;
		}
	}
	/* One of them cannot be stored (or the batch could not be written): each on its own, so
	 * that each gets its own answer and the others are stored. */
	for (i = 0; i < n; i++)
		items[i].err = vms_store_sample_put(st, items[i].watch_id, &items[i].sample);
}

/* One row of VMS_ST_SAMPLES_RANGE or VMS_ST_SAMPLE_AT into *s, its blob decoded with the
 * layout it names. VMS_ERR_IO when it does not decode (a damaged database). */
static int read_row(sqlite3_stmt *q, const struct layout_map *maps, size_t n_maps, struct vms_sample *s)
{
	memset(s, 0, sizeof *s);
	int i = 0;
	s->t_ms = sqlite3_column_int64(q, i++);
	s->flags = (unsigned)sqlite3_column_int64(q, i++);
	s->threads = (uint64_t)sqlite3_column_int64(q, i++);
	s->vm_rss = (uint64_t)sqlite3_column_int64(q, i++);
	s->vm_swap = (uint64_t)sqlite3_column_int64(q, i++);
	s->min_flt = (uint64_t)sqlite3_column_int64(q, i++);
	s->maj_flt = (uint64_t)sqlite3_column_int64(q, i++);
	s->snapshot_id = sqlite3_column_int64(q, i++);
	int64_t layout = sqlite3_column_int64(q, i++);
	s->bytes = (uint64_t)sqlite3_column_int64(q, i++);
	const unsigned char *blob = sqlite3_column_blob(q, i);
	size_t len = (size_t)sqlite3_column_bytes(q, i++);
	s->n_merged = (uint64_t)sqlite3_column_int64(q, i++);
	s->committed_min = (uint64_t)sqlite3_column_int64(q, i++);
	s->committed_max = (uint64_t)sqlite3_column_int64(q, i++);
	s->flags = (unsigned)sqlite3_column_int64(q, i++);
	s->snapshot_id = sqlite3_column_int64(q, i++);
	for (size_t k = 0; k < n_maps; k++)
		if (maps[k].id == layout)
			return blob ? blob_decode(blob, len, &maps[k], s) : VMS_ERR_IO;
	return VMS_ERR_IO;
}

/* The layouts a read knows (vms_store_rows' ctx for read_sample_row). */
struct layouts {
	const struct layout_map *maps;
	size_t n;
};

static int read_sample_row(sqlite3_stmt *q, void *item, void *ctx)
{
	const struct layouts *ls = ctx;
	return read_row(q, ls->maps, ls->n, item); /* what we stored must decode: else damaged */
}

/* One bucket of a downsampled range: its last sample's time and what it stands for. */
struct bucket {
	int64_t last_ms, snapshot_id;
	uint64_t n, cmin, cmax;
	unsigned flags;
};

/* Pass 1 of downsampling: the buckets of bucket_ms from from_ms, in time order, from the
 * covering index (no blob is read). */
static int scan_buckets(struct vms_conn *c, int64_t id, int64_t from_ms, int64_t to_ms, int64_t bucket_ms,
                        struct bucket **out, size_t *n)
{
	size_t cap = 0;
	int rc, err = VMS_OK;
	int64_t cur = -1;
	sqlite3_stmt *q = vms_conn_stmt(c, VMS_ST_SAMPLES_SCAN);
	if (!q || sqlite3_bind_int64(q, 1, id) != SQLITE_OK ||
	    sqlite3_bind_int64(q, 2, from_ms) != SQLITE_OK || sqlite3_bind_int64(q, 3, to_ms) != SQLITE_OK)
		return VMS_ERR_IO;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		int64_t t = sqlite3_column_int64(q, 0);
		uint64_t committed = (uint64_t)sqlite3_column_int64(q, 1);
		int64_t b = (t - from_ms) / bucket_ms;
		if (b != cur || !*n) {
			if ((err = vms_store_grow(out, &cap, *n, sizeof **out)) != VMS_OK)
				break;
			(*out)[(*n)++] = (struct bucket){.cmin = committed, .cmax = committed};
			cur = b;
		}
		struct bucket *k = &(*out)[*n - 1];
		k->last_ms = t;
		k->n++;
		k->cmin = committed < k->cmin ? committed : k->cmin;
		k->cmax = committed > k->cmax ? committed : k->cmax;
		k->flags |= (unsigned)sqlite3_column_int64(q, 2);
		if (sqlite3_column_int64(q, 3) > k->snapshot_id)
			k->snapshot_id = sqlite3_column_int64(q, 3);
	}
	if (err == VMS_OK && rc != SQLITE_DONE)
		err = vms_store_err(rc);
	sqlite3_reset(q);
	return err;
}

/* One time of the range from slot (VMS_ST_SAMPLE_FIRST_T or _LAST_T) into *t;
 * VMS_ERR_NOT_FOUND when the range is empty. */
static int range_end(struct vms_conn *c, enum vms_stmt slot, int64_t id, int64_t from_ms, int64_t to_ms,
                     int64_t *t)
{
	const int64_t args[] = {id, from_ms, to_ms};
	sqlite3_stmt *q = vms_conn_stmt(c, slot);
	int err = vms_store_bind_i64s(q, 3, args), rc;
	*t = 0;
	if (err != VMS_OK)
		return err;
	if ((rc = sqlite3_step(q)) == SQLITE_ROW)
		*t = sqlite3_column_int64(q, 0);
	else
		err = rc == SQLITE_DONE ? VMS_ERR_NOT_FOUND : vms_store_err(rc);
	sqlite3_reset(q);
	return err;
}

/* Pass 2 of downsampling: each bucket's last sample by key, with what the bucket stands for. */
static int fetch_buckets(struct vms_conn *c, const struct layout_map *maps, size_t n_maps, int64_t id,
                         const struct bucket *bk, size_t n_bk, struct vms_sample **out, size_t *n)
{
	int err = VMS_OK;
	if (n_bk && !(*out = calloc(n_bk, sizeof **out)))
		return VMS_ERR_NOMEM;
	sqlite3_stmt *q = vms_conn_stmt(c, VMS_ST_SAMPLE_AT);
	for (size_t i = 0; i < n_bk && err == VMS_OK; i++) {
		if (!q || vms_store_bind2(q, id, bk[i].last_ms))
			return VMS_ERR_IO;
		int rc = sqlite3_step(q);
		if (rc == SQLITE_ROW && (err = read_row(q, maps, n_maps, &(*out)[*n])) == VMS_OK) {
			struct vms_sample *s = &(*out)[(*n)++];
			s->n_merged = bk[i].n;
			s->committed_min = bk[i].cmin;
			s->committed_max = bk[i].cmax;
			s->flags = bk[i].flags;
			s->snapshot_id = bk[i].snapshot_id;
		} else if (rc != SQLITE_ROW) {
			err = vms_store_err(rc == SQLITE_DONE ? SQLITE_CORRUPT : rc);
		}
		sqlite3_reset(q);
	}
	return err;
}

/* What a read of samples wants (read_samples). */
struct sample_read {
	enum vms_stmt slot; /* VMS_ST_SAMPLES_RANGE: every row; VMS_ST_SAMPLE_LATEST: the newest */
	int64_t id, from_ms, to_ms;
	int64_t bucket_ms;   /* > 0: buckets of that many ms from from_ms */
	uint64_t max_points; /* > 0: at most that many points, buckets as needed (and bucket_ms set) */
	uint64_t count;      /* with max_points: the samples in the range */
};

/* The samples of a range into *out: the rows of r->slot when no bucket is asked for, else per
 * bucket its last sample with the bucket's count, committed min/max, flags and newest full
 * snapshot. With r->max_points: the range's ends by key, then one pass over its index rows
 * that counts them and cuts the buckets; when they are no more than max_points, the rows
 * themselves instead (r->bucket_ms back to 0). One read transaction. */
static int read_samples(struct vms_store *st, struct sample_read *r, struct vms_sample **out, size_t *n)
{
	struct layout_map *maps = NULL;
	struct bucket *bk = NULL;
	size_t n_maps = 0, n_bk = 0;
	int err;
	*out = NULL;
	*n = 0;
	if (!st || r->id <= 0)
		return VMS_ERR_NOT_FOUND;
	if (r->to_ms <= 0)
		r->to_ms = INT64_MAX;
	struct vms_conn *c = vms_store_reader(st);
	if ((err = vms_conn_exec(c, VMS_ST_BEGIN_DEFERRED)) != VMS_OK)
		goto out;
	if ((err = layouts_load(c, &maps, &n_maps)) != VMS_OK)
		goto end;
	if (r->max_points) {
		int64_t first = 0, last = 0;
		r->bucket_ms = 0;
		if ((err = range_end(c, VMS_ST_SAMPLE_FIRST_T, r->id, r->from_ms, r->to_ms, &first)) ==
		    VMS_OK)
			err = range_end(c, VMS_ST_SAMPLE_LAST_T, r->id, r->from_ms, r->to_ms, &last);
		if (err == VMS_ERR_NOT_FOUND) {
			err = VMS_OK; /* an empty range: no points */
			goto end;
		}
		if (err != VMS_OK)
			goto end;
		int64_t bucket_ms = (last - first) / (int64_t)r->max_points + 1;
		if ((err = scan_buckets(c, r->id, first, last, bucket_ms, &bk, &n_bk)) != VMS_OK)
			goto end;
		for (size_t i = 0; i < n_bk; i++)
			r->count += bk[i].n;
		if (r->count > r->max_points) {
			r->bucket_ms = bucket_ms;
			err = fetch_buckets(c, maps, n_maps, r->id, bk, n_bk, out, n);
			goto end;
		}
		r->from_ms = first; /* few enough: every row of the range */
		r->to_ms = last;
	} else if (r->bucket_ms > 0) {
		if ((err = scan_buckets(c, r->id, r->from_ms, r->to_ms, r->bucket_ms, &bk, &n_bk)) == VMS_OK)
			err = fetch_buckets(c, maps, n_maps, r->id, bk, n_bk, out, n);
		goto end;
	}
	const int64_t args[] = {r->id, r->from_ms, r->to_ms};
	sqlite3_stmt *q = vms_conn_stmt(c, r->slot);
	struct layouts ls = {maps, n_maps};
	if ((err = vms_store_bind_i64s(q, 3, args)) == VMS_OK)
		err = vms_store_rows(q, out, n, sizeof **out, read_sample_row, &ls);
end:
	vms_conn_exec(c, VMS_ST_END);
out:
	vms_store_reader_put(st, c);
	layouts_free(maps, n_maps);
	free(bk);
	if (err != VMS_OK) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return err;
}

int vms_store_samples(struct vms_store *st, int64_t id, int64_t from_ms, int64_t to_ms,
                      struct vms_sample **out, size_t *n)
{
	struct sample_read r = {.slot = VMS_ST_SAMPLES_RANGE, .id = id, .from_ms = from_ms, .to_ms = to_ms};
	return read_samples(st, &r, out, n);
}

int vms_store_samples_points(struct vms_store *st, int64_t id, int64_t from_ms, int64_t to_ms,
                             uint64_t max_points, struct vms_sample **out, size_t *n, uint64_t *count,
                             int64_t *bucket_ms)
{
	struct sample_read r = {.slot = VMS_ST_SAMPLES_RANGE,
	                        .id = id,
	                        .from_ms = from_ms,
	                        .to_ms = to_ms,
	                        .max_points = max_points ? max_points : 1};
	int err = read_samples(st, &r, out, n);
	*count = err == VMS_OK ? r.count : 0;
	*bucket_ms = err == VMS_OK ? r.bucket_ms : 0;
	return err;
}

int vms_store_sample_latest(struct vms_store *st, int64_t id, struct vms_sample *out)
{
	struct vms_sample *all = NULL;
	size_t n = 0;
	struct sample_read r = {.slot = VMS_ST_SAMPLE_LATEST, .id = id};
	int err = read_samples(st, &r, &all, &n);
	if (err == VMS_OK && !n)
		err = VMS_ERR_NOT_FOUND;
	if (err == VMS_OK)
		*out = all[0];
	free(all);
	return err;
}

int vms_store_samples_downsampled(struct vms_store *st, int64_t id, int64_t from_ms, int64_t to_ms,
                                  int64_t bucket_ms, struct vms_sample **out, size_t *n)
{
	if (bucket_ms <= 0) {
		*out = NULL;
		*n = 0;
		return VMS_ERR_INVALID;
	}
	struct sample_read r = {.slot = VMS_ST_SAMPLES_RANGE,
	                        .id = id,
	                        .from_ms = from_ms,
	                        .to_ms = to_ms,
	                        .bucket_ms = bucket_ms};
	return read_samples(st, &r, out, n);
}

int vms_store_samples_stats(struct vms_store *st, int64_t id, int64_t from_ms, int64_t to_ms, uint64_t *count,
                            int64_t *first_ms, int64_t *last_ms)
{
	int err = VMS_OK;
	*count = 0;
	*first_ms = *last_ms = 0;
	struct vms_conn *c = vms_store_reader(st);
	sqlite3_stmt *q = vms_conn_stmt(c, VMS_ST_SAMPLES_STATS);
	if (!q || sqlite3_bind_int64(q, 1, id) != SQLITE_OK ||
	    sqlite3_bind_int64(q, 2, from_ms) != SQLITE_OK ||
	    sqlite3_bind_int64(q, 3, to_ms > 0 ? to_ms : INT64_MAX) != SQLITE_OK) {
		err = VMS_ERR_IO;
		goto out;
	}
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		*count = (uint64_t)sqlite3_column_int64(q, 0);
		*first_ms = sqlite3_column_int64(q, 1);
		*last_ms = sqlite3_column_int64(q, 2);
	} else {
		err = vms_store_err(rc);
	}
	sqlite3_reset(q);
out:
	vms_store_reader_put(st, c);
	return err;
}

/* (snapshot id, t_ms) of a VMS_ST_SAMPLE_NEAREST_SNAPSHOT row. */
static int read_pair(sqlite3_stmt *q, void *item, void *ctx)
{
	int64_t *pair = item;
	(void)ctx;
	pair[0] = sqlite3_column_int64(q, 0);
	pair[1] = sqlite3_column_int64(q, 1);
	return VMS_OK;
}

int vms_store_sample_nearest_snapshot(struct vms_store *st, int64_t id, int64_t t_ms, int64_t *snapshot_id,
                                      int64_t *at_ms)
{
	int64_t(*rows)[2] = NULL;
	size_t n = 0;
	const int64_t args[] = {id, t_ms};
	struct vms_conn *c = vms_store_reader(st);
	sqlite3_stmt *q = vms_conn_stmt(c, VMS_ST_SAMPLE_NEAREST_SNAPSHOT);
	int err = vms_store_bind_i64s(q, 2, args);
	if (err == VMS_OK)
		err = vms_store_rows(q, &rows, &n, sizeof *rows, read_pair, NULL);
	vms_store_reader_put(st, c);
	*snapshot_id = err == VMS_OK && n ? rows[0][0] : 0;
	*at_ms = err == VMS_OK && n ? rows[0][1] : 0;
	free(rows);
	return err == VMS_OK && !n ? VMS_ERR_NOT_FOUND : err;
}
