/* Snapshots in the store: put (retention-checked, one transaction), delete, metadata, list,
 * load, and the kept renderings (opaque bytes the caller made; the store keeps them as a cache
 * inside its byte limit and streams them back). */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"
#include "vmscope/error.h"
#include "vmscope/util.h"

#define STREAM_CHUNK (256u * 1024u)
#define LIST_DEFAULT 100u
#define LIST_MAX 1000u

/* The snapshots table's total_* columns (schema 1), by column key: written for SQL queries; the
 * totals are read back from snapshot_summary (type ''), which holds every column by name, so a
 * column added later needs no migration (it just has no total_* column). */
static const char *const total_columns[13] = {
    "size",      "committed", "private", "total_ws", "private_ws", "shareable_ws", "shared_ws",
    "locked_ws", "pss",       "uss",     "swap",     "swap_pss",   "dirty"};

static uint64_t total_of(const struct vms_snapshot *s, const char *key)
{
	int c = vms_col_from_key(key);
	return c >= 0 ? s->total[c] : 0;
}

static int finish(sqlite3_stmt *st, int rc)
{
	if (st)
		sqlite3_reset(st);
	return rc;
}

/* The text columns of a snapshot's metadata (name ... machine: consecutive in META_COLS and in
 * the INSERT), each read from a struct vms_snapshot member (stored as dflt when NULL) and kept in
 * a malloc'd struct vms_snapshot_meta member. bind_meta, read_meta and vms_snapshot_meta_clear
 * all walk this one list. */
#define TEXT(snap_m, meta_m, d)                                                                              \
	{                                                                                                    \
		offsetof(struct vms_snapshot, snap_m), offsetof(struct vms_snapshot_meta, meta_m), d         \
	}
static const struct meta_text {
	size_t snap, meta;
	const char *dflt;
} meta_text[] = {
    TEXT(name, name, ""), TEXT(cmdline, cmdline, ""), TEXT(user, user, ""),
    TEXT(host, host, ""), TEXT(kernel, kernel, ""),   TEXT(arch.machine, machine, "unknown"),
};
#undef TEXT
#define N_META_TEXT (sizeof meta_text / sizeof meta_text[0])

/* The char * member t of m. */
static char **meta_text_of(struct vms_snapshot_meta *m, const struct meta_text *t)
{
	return (char **)((char *)m + t->meta);
}

/* ---- put ------------------------------------------------------------------------------ */

static int bind_meta(sqlite3_stmt *q, const struct vms_snapshot *s, enum vms_store_source source,
                     size_t body_bytes)
{
	int i = 1, rc = SQLITE_OK;
#define B_I64(v) (rc |= sqlite3_bind_int64(q, i++, (sqlite3_int64)(v)))
	B_I64(vms_wall_ms());
	B_I64(source);
	B_I64(s->format_version ? s->format_version : VMS_FORMAT_VERSION);
	B_I64(s->pid);
	B_I64(s->ppid);
	B_I64(s->uid);
	for (size_t t = 0; t < N_META_TEXT; t++) {
		const char *v = *(const char *const *)((const char *)s + meta_text[t].snap);
		rc |= sqlite3_bind_text(q, i++, v ? v : meta_text[t].dflt, -1, SQLITE_STATIC);
	}
	B_I64(s->arch.bits);
	B_I64(s->start_time);
	B_I64(s->taken_at_ms);
	B_I64(s->n_regions);
	B_I64(s->n_allocations);
	for (size_t c = 0; c < sizeof total_columns / sizeof total_columns[0]; c++)
		B_I64(total_of(s, total_columns[c]));
	B_I64(body_bytes);
#undef B_I64
	return rc;
}

/* Inside a write transaction on w: make room for `need` more bytes under max_bytes by dropping
 * kept JSON renderings, oldest first. Bodies are never dropped: when they alone leave no room
 * the answer is VMS_ERR_FULL. */
int vms_store_make_room(struct vms_store *st, struct vms_conn *w, uint64_t need)
{
	sqlite3_stmt *q = vms_conn_stmt(w, VMS_ST_USAGE);
	st->sample_slack = 0; /* any write that asks: samples ask again too */
	if (!q || sqlite3_step(q) != SQLITE_ROW)
		return VMS_ERR_IO;
	uint64_t bodies = (uint64_t)sqlite3_column_int64(q, 1),
	         renders = (uint64_t)sqlite3_column_int64(q, 2);
	sqlite3_reset(q);
	if (bodies + need > st->max_bytes)
		return VMS_ERR_FULL;
	while (bodies + renders + need > st->max_bytes && renders > 0) {
		if (!(q = vms_conn_stmt(w, VMS_ST_EVICT_PICK)) || sqlite3_step(q) != SQLITE_ROW)
			return VMS_ERR_IO;
		int64_t victim = sqlite3_column_int64(q, 0);
		uint64_t n = (uint64_t)sqlite3_column_int64(q, 1);
		sqlite3_reset(q);
		if ((q = vms_conn_stmt(w, VMS_ST_DELETE_BODY)) == NULL ||
		    sqlite3_bind_int64(q, 1, victim) != SQLITE_OK || sqlite3_step(q) != SQLITE_DONE)
			return VMS_ERR_IO;
		sqlite3_reset(q);
		if ((q = vms_conn_stmt(w, VMS_ST_SET_JSON_BYTES)) == NULL ||
		    sqlite3_bind_int64(q, 1, victim) != SQLITE_OK ||
		    sqlite3_bind_int64(q, 2, 0) != SQLITE_OK || sqlite3_step(q) != SQLITE_DONE)
			return VMS_ERR_IO;
		sqlite3_reset(q);
		renders = n > renders ? 0 : renders - n;
	}
	st->room_left =
	    bodies + renders + need < st->max_bytes ? st->max_bytes - (bodies + renders + need) : 0;
	return VMS_OK;
}

/* One summary row: (id, type key, field key, value). */
static int put_summary_row(struct vms_conn *w, int64_t id, const char *type, const char *field, uint64_t v)
{
	sqlite3_stmt *q = vms_conn_stmt(w, VMS_ST_INSERT_SUMMARY);
	if (!q || sqlite3_bind_int64(q, 1, id) != SQLITE_OK ||
	    sqlite3_bind_text(q, 2, type, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(q, 3, field, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(q, 4, (sqlite3_int64)v) != SQLITE_OK)
		return VMS_ERR_IO;
	return vms_store_step_done(q);
}

/* The per-type summary and the totals (type '') as rows keyed by name. */
static int put_summary(struct vms_conn *w, int64_t id, const struct vms_snapshot *s)
{
	int err = VMS_OK;
	for (int t = 0; t < VMS_TYPE_COUNT && !err; t++) {
		const struct vms_type_summary *ts = &s->summary[t];
		const char *type = vms_type_key((enum vms_type)t);
		if ((err = put_summary_row(w, id, type, "blocks", ts->blocks)) ||
		    (err = put_summary_row(w, id, type, "largest", ts->largest)) ||
		    (err = put_summary_row(w, id, type, "regions", ts->regions)))
			break;
		for (int c = 0; c < VMS_COL_COUNT && !err; c++)
			err = put_summary_row(w, id, type, vms_col_key((enum vms_col)c), ts->cols[c]);
	}
	for (int c = 0; c < VMS_COL_COUNT && !err; c++)
		err = put_summary_row(w, id, "", vms_col_key((enum vms_col)c), s->total[c]);
	return err;
}

static int set_json_bytes(struct vms_conn *w, int64_t id, uint64_t n)
{
	sqlite3_stmt *q = vms_conn_stmt(w, VMS_ST_SET_JSON_BYTES);
	if (!q || sqlite3_bind_int64(q, 1, id) != SQLITE_OK ||
	    sqlite3_bind_int64(q, 2, (sqlite3_int64)n) != SQLITE_OK)
		return VMS_ERR_IO;
	return vms_store_step_done(q);
}

/* Run slot's INSERT of (id, blob): the packed body, or a residency. */
static int insert_blob(struct vms_conn *w, enum vms_stmt slot, int64_t id, const void *blob, size_t len)
{
	sqlite3_stmt *q = vms_conn_stmt(w, slot);
	if (!q || sqlite3_bind_int64(q, 1, id) != SQLITE_OK ||
	    sqlite3_bind_blob64(q, 2, blob, len, SQLITE_STATIC) != SQLITE_OK) {
		if (q)
			sqlite3_reset(q);
		return VMS_ERR_IO;
	}
	return vms_store_step_done(q);
}

/* vms_store_put with an optional residency blob (res, res_len; NULL for none). */
static int put_snapshot(struct vms_store *st, const struct vms_snapshot *s, enum vms_store_source source,
                        const char *json_text, size_t json_len, const void *res, size_t res_len, int64_t *id)
{
	unsigned char *packed = NULL;
	size_t packed_len = 0;
	int err = VMS_OK, in_tx = 0, retention = 0;
	sqlite3_stmt *q = NULL;

	if (!st || !s || !id)
		return VMS_ERR_INVALID;
	/* Encode before taking the writer lock: it needs no database. */
	if ((err = vms_store_pack(s, &packed, &packed_len)) != VMS_OK)
		goto out;

	pthread_mutex_lock(&st->wlock);
	struct vms_conn *w = &st->writer;
	if ((err = vms_conn_exec(w, VMS_ST_BEGIN_IMMEDIATE)) != VMS_OK)
		goto unlock;
	in_tx = 1;

	/* Retention: checked inside the write transaction so concurrent puts cannot both pass. */
	if (!(q = vms_conn_stmt(w, VMS_ST_USAGE)) || sqlite3_step(q) != SQLITE_ROW) {
		err = VMS_ERR_IO;
		goto unlock;
	}
	uint64_t count = (uint64_t)sqlite3_column_int64(q, 0);
	sqlite3_reset(q);
	q = NULL;
	if (source != VMS_SOURCE_WATCH && count + 1 > st->max_snapshots) {
		err = VMS_ERR_FULL;
		retention = 1;
		goto unlock;
	}
	if ((err = vms_store_make_room(
	         st, w, packed_len + (json_text ? json_len : 0) + (res ? res_len : 0))) != VMS_OK) {
		retention = err == VMS_ERR_FULL;
		goto unlock;
	}

	if (!(q = vms_conn_stmt(w, VMS_ST_INSERT_META)) || bind_meta(q, s, source, packed_len) != SQLITE_OK ||
	    sqlite3_step(q) != SQLITE_DONE) {
		err = VMS_ERR_IO;
		goto unlock;
	}
	sqlite3_reset(q);
	int64_t new_id = sqlite3_last_insert_rowid(w->db);
	q = NULL;
	if ((err = insert_blob(w, VMS_ST_INSERT_PACKED, new_id, packed, packed_len)) != VMS_OK ||
	    (err = put_summary(w, new_id, s)) != VMS_OK ||
	    (res && (err = insert_blob(w, VMS_ST_INSERT_RESIDENCY, new_id, res, res_len)) != VMS_OK))
		goto unlock;
	if (json_text) {
		if (!(q = vms_conn_stmt(w, VMS_ST_INSERT_BODY)) ||
		    sqlite3_bind_int64(q, 1, new_id) != SQLITE_OK ||
		    sqlite3_bind_text64(q, 2, json_text, json_len, SQLITE_STATIC, SQLITE_UTF8) != SQLITE_OK) {
			err = VMS_ERR_IO;
			goto unlock;
		}
		if ((err = vms_store_step_done(q)) != VMS_OK)
			goto unlock;
		if ((err = set_json_bytes(w, new_id, json_len)) != VMS_OK)
			goto unlock;
	}
	if ((err = vms_conn_exec(w, VMS_ST_COMMIT)) != VMS_OK)
		goto unlock;
	in_tx = 0;
	*id = new_id;
	if (__atomic_exchange_n(&st->disk_full, 0, __ATOMIC_RELAXED))
		vms_store_reserve_take(st);

unlock:
	/* Out of disk space: whatever step noticed it (most often the COMMIT that writes the WAL),
	 * the answer is VMS_ERR_FULL and the store remembers why (vms_store_disk_full). */
	if (err != VMS_OK && !retention && vms_store_note_disk_full(st))
		err = VMS_ERR_FULL;
	if (q)
		sqlite3_reset(q);
	if (in_tx)
		vms_conn_exec(w, VMS_ST_ROLLBACK);
	pthread_mutex_unlock(&st->wlock);
out:
	free(packed);
	return err;
}

int vms_store_put(struct vms_store *st, const struct vms_snapshot *s, enum vms_store_source source,
                  const char *json_text, size_t json_len, int64_t *id)
{
	return put_snapshot(st, s, source, json_text, json_len, NULL, 0, id);
}

int vms_store_put_with_residency(struct vms_store *st, const struct vms_snapshot *s,
                                 enum vms_store_source source, const void *residency, size_t residency_len,
                                 int64_t *id)
{
	if (!residency)
		return VMS_ERR_INVALID;
	return put_snapshot(st, s, source, NULL, 0, residency, residency_len, id);
}

int vms_store_residency(struct vms_store *st, int64_t id, unsigned char **out, size_t *len)
{
	int err = VMS_OK;
	*out = NULL;
	*len = 0;
	if (!st || id <= 0)
		return VMS_ERR_NOT_FOUND;
	struct vms_conn *c = vms_store_reader(st);
	sqlite3_stmt *q = vms_conn_stmt(c, VMS_ST_RESIDENCY);
	if (!q || sqlite3_bind_int64(q, 1, id) != SQLITE_OK) {
		err = VMS_ERR_IO;
		goto out;
	}
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		const void *blob = sqlite3_column_blob(q, 0);
		size_t n = (size_t)sqlite3_column_bytes(q, 0);
		if (!blob || !(*out = malloc(n))) {
			err = blob ? VMS_ERR_NOMEM : VMS_ERR_IO;
		} else {
			memcpy(*out, blob, n);
			*len = n;
		}
	} else {
		err = rc == SQLITE_DONE ? VMS_ERR_NOT_FOUND : vms_store_err(rc);
	}
out:
	finish(q, 0);
	vms_store_reader_put(st, c);
	return err;
}

/* ---- delete ---------------------------------------------------------------------------- */

static int exec_id(struct vms_conn *c, enum vms_stmt slot, int64_t id, int *changes)
{
	sqlite3_stmt *q = vms_conn_stmt(c, slot);
	if (!q || sqlite3_bind_int64(q, 1, id) != SQLITE_OK)
		return VMS_ERR_IO;
	int rc = sqlite3_step(q);
	sqlite3_reset(q);
	if (changes)
		*changes = sqlite3_changes(c->db);
	return rc == SQLITE_DONE ? VMS_OK : vms_store_err(rc);
}

int vms_store_delete_in_tx(struct vms_conn *w, int64_t id, int *changes)
{
	int err;
	if ((err = exec_id(w, VMS_ST_DELETE_SHARES, id, NULL)) != VMS_OK ||
	    (err = exec_id(w, VMS_ST_DELETE_BODY, id, NULL)) != VMS_OK ||
	    (err = exec_id(w, VMS_ST_DELETE_PACKED, id, NULL)) != VMS_OK ||
	    (err = exec_id(w, VMS_ST_DELETE_SUMMARY, id, NULL)) != VMS_OK ||
	    (err = exec_id(w, VMS_ST_DELETE_RESIDENCY, id, NULL)) != VMS_OK ||
	    (err = exec_id(w, VMS_ST_DELETE_META, id, changes)) != VMS_OK)
		return err;
	return VMS_OK;
}

/* One delete transaction on w. */
static int delete_tx(struct vms_store *st, struct vms_conn *w, int64_t id)
{
	int err, changes = 0;
	if ((err = vms_conn_exec(w, VMS_ST_BEGIN_IMMEDIATE)) != VMS_OK)
		goto fail;
	if ((err = vms_store_delete_in_tx(w, id, &changes)) != VMS_OK)
		goto fail;
	if (changes == 0) {
		vms_conn_exec(w, VMS_ST_ROLLBACK);
		return VMS_ERR_NOT_FOUND;
	}
	if ((err = vms_conn_exec(w, VMS_ST_COMMIT)) != VMS_OK)
		goto fail;
	return VMS_OK;
fail:
	if (vms_store_note_disk_full(st))
		err = VMS_ERR_FULL;
	vms_conn_exec(w, VMS_ST_ROLLBACK);
	return err;
}

/* A delete must work on a full disk: it is how space is made. It needs a few pages of WAL; when
 * even those do not fit, the reserve kept beside the database gives its space back and the
 * delete is tried once more (the reserve is taken again after the next snapshot is stored). */
int vms_store_delete(struct vms_store *st, int64_t id)
{
	int err;
	if (!st || id <= 0)
		return VMS_ERR_NOT_FOUND;
	pthread_mutex_lock(&st->wlock);
	struct vms_conn *w = &st->writer;
	err = delete_tx(st, w, id);
	if (err == VMS_ERR_FULL) {
		vms_store_reserve_release(st);
		err = delete_tx(st, w, id);
	}
	pthread_mutex_unlock(&st->wlock);
	return err;
}

/* ---- metadata -------------------------------------------------------------------------- */

void vms_snapshot_meta_clear(struct vms_snapshot_meta *m)
{
	if (!m)
		return;
	for (size_t t = 0; t < N_META_TEXT; t++)
		free(*meta_text_of(m, &meta_text[t]));
	memset(m, 0, sizeof *m);
}

void vms_snapshot_list_free(struct vms_snapshot_list *l)
{
	for (size_t i = 0; l && i < l->n; i++)
		vms_snapshot_meta_clear(&l->items[i]);
	if (l) {
		free(l->items);
		*l = (struct vms_snapshot_list){0};
	}
}

/* Fill m from a row of META_COLS (store_sql.c). */
static int read_meta(sqlite3_stmt *q, void *out)
{
	struct vms_snapshot_meta *m = out;
	int i = 0, oom = 0;
	memset(m, 0, sizeof *m);
	m->id = sqlite3_column_int64(q, i++);
	m->created_at_ms = sqlite3_column_int64(q, i++);
	m->source = (enum vms_store_source)sqlite3_column_int(q, i++);
	m->format_version = sqlite3_column_int(q, i++);
	m->pid = (pid_t)sqlite3_column_int64(q, i++);
	m->ppid = (pid_t)sqlite3_column_int64(q, i++);
	m->uid = (uid_t)sqlite3_column_int64(q, i++);
	for (size_t t = 0; t < N_META_TEXT; t++)
		*meta_text_of(m, &meta_text[t]) = vms_store_col_text(q, i++, &oom);
	m->arch_bits = sqlite3_column_int(q, i++);
	m->start_time = (uint64_t)sqlite3_column_int64(q, i++);
	m->taken_at_ms = sqlite3_column_int64(q, i++);
	m->n_regions = (uint64_t)sqlite3_column_int64(q, i++);
	m->n_allocations = (uint64_t)sqlite3_column_int64(q, i++);
	i += (int)(sizeof total_columns / sizeof total_columns[0]); /* totals: from snapshot_summary */
	m->body_bytes = (uint64_t)sqlite3_column_int64(q, i++);
	m->json_bytes = (uint64_t)sqlite3_column_int64(q, i++);
	if (oom) {
		vms_snapshot_meta_clear(m);
		return VMS_ERR_NOMEM;
	}
	return VMS_OK;
}

/* The summary rows of m->id into m->summary and m->total (fields this build does not know are
 * skipped; fields a row lacks stay 0). */
static int read_summary(struct vms_conn *c, struct vms_snapshot_meta *m)
{
	sqlite3_stmt *q = vms_conn_stmt(c, VMS_ST_SUMMARY);
	int rc;
	if (!q || sqlite3_bind_int64(q, 1, m->id) != SQLITE_OK)
		return VMS_ERR_IO;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *type = (const char *)sqlite3_column_text(q, 0);
		const char *field = (const char *)sqlite3_column_text(q, 1);
		uint64_t v = (uint64_t)sqlite3_column_int64(q, 2);
		if (!type || !field)
			continue;
		int col = vms_col_from_key(field);
		if (!*type) {
			if (col >= 0)
				m->total[col] = v;
			continue;
		}
		int t = vms_type_from_key(type);
		if (t < 0)
			continue;
		struct vms_type_summary *ts = &m->summary[t];
		if (col >= 0)
			ts->cols[col] = v;
		else if (!strcmp(field, "blocks"))
			ts->blocks = v;
		else if (!strcmp(field, "largest"))
			ts->largest = v;
		else if (!strcmp(field, "regions"))
			ts->regions = v;
	}
	sqlite3_reset(q);
	return rc == SQLITE_DONE ? VMS_OK : vms_store_err(rc);
}

int vms_store_meta(struct vms_store *st, int64_t id, struct vms_snapshot_meta *out)
{
	int err;
	memset(out, 0, sizeof *out);
	if (!st || id <= 0)
		return VMS_ERR_NOT_FOUND;
	struct vms_conn *c = vms_store_reader(st);
	err = vms_store_row_by_id(c, VMS_ST_META, id, read_meta, out);
	if (err == VMS_OK && (err = read_summary(c, out)) != VMS_OK)
		vms_snapshot_meta_clear(out);
	vms_store_reader_put(st, c);
	return err;
}

int vms_store_list(struct vms_store *st, const struct vms_store_query *qry, struct vms_snapshot_list *out)
{
	int err = VMS_OK, rc;
	size_t limit = qry && qry->limit ? qry->limit : LIST_DEFAULT;
	out->items = NULL;
	out->n = 0;
	if (limit > LIST_MAX)
		limit = LIST_MAX;
	if (!(out->items = calloc(limit, sizeof *out->items)))
		return VMS_ERR_NOMEM;

	struct vms_conn *c = vms_store_reader(st);
	sqlite3_stmt *q = vms_conn_stmt(c, VMS_ST_LIST);
	if (!q) {
		err = VMS_ERR_IO;
		goto out;
	}
	rc = sqlite3_bind_int64(q, 1, qry ? qry->pid : 0);
	if (qry && qry->name)
		rc |= sqlite3_bind_text(q, 2, qry->name, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_int64(q, 3, qry ? qry->before : 0);
	if (qry && qry->has_start_time)
		rc |= sqlite3_bind_int64(q, 4, (sqlite3_int64)qry->start_time);
	rc |= sqlite3_bind_int(q, 5, qry ? qry->source : -1);
	rc |= sqlite3_bind_int64(q, 6, (sqlite3_int64)limit);
	rc |= sqlite3_bind_int(q, 7, qry ? qry->with_watch : 0);
	if (qry && qry->match)
		rc |= sqlite3_bind_text(q, 8, qry->match, -1, SQLITE_STATIC);
	if (rc != SQLITE_OK) {
		err = VMS_ERR_IO;
		goto out;
	}
	while (out->n < limit && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		if ((err = read_meta(q, &out->items[out->n])) != VMS_OK)
			goto out;
		out->n++;
	}
	if (out->n < limit && rc != SQLITE_DONE)
		err = vms_store_err(rc);
	finish(q, 0);
	for (size_t i = 0; i < out->n && err == VMS_OK; i++)
		err = read_summary(c, &out->items[i]);
out:
	finish(q, 0);
	vms_store_reader_put(st, c);
	if (err != VMS_OK)
		vms_snapshot_list_free(out);
	return err;
}

int vms_store_usage(struct vms_store *st, struct vms_store_usage *out)
{
	int err = VMS_OK;
	memset(out, 0, sizeof *out);
	out->max_snapshots = st->max_snapshots;
	out->max_bytes = st->max_bytes;
	struct vms_conn *c = vms_store_reader(st);
	sqlite3_stmt *q = vms_conn_stmt(c, VMS_ST_USAGE);
	if (q && sqlite3_step(q) == SQLITE_ROW) {
		out->snapshots = (uint64_t)sqlite3_column_int64(q, 0);
		out->bytes = (uint64_t)sqlite3_column_int64(q, 1);
		out->json_bytes = (uint64_t)sqlite3_column_int64(q, 2);
	} else {
		err = VMS_ERR_IO;
	}
	finish(q, 0);
	vms_store_reader_put(st, c);
	return err;
}

/* ---- body ------------------------------------------------------------------------------ */

int vms_store_load(struct vms_store *st, int64_t id, struct vms_snapshot **out)
{
	int err, rc;
	*out = NULL;
	if (!st || id <= 0)
		return VMS_ERR_NOT_FOUND;
	struct vms_conn *c = vms_store_reader(st);
	/* One read transaction for both lookups. */
	if ((err = vms_conn_exec(c, VMS_ST_BEGIN_DEFERRED)) != VMS_OK)
		goto out;
	sqlite3_stmt *q = vms_conn_stmt(c, VMS_ST_PACKED);
	if (!q || sqlite3_bind_int64(q, 1, id) != SQLITE_OK) {
		err = VMS_ERR_IO;
		goto end;
	}
	if ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const void *blob = sqlite3_column_blob(q, 0);
		size_t len = (size_t)sqlite3_column_bytes(q, 0);
		err = blob ? vms_store_unpack(blob, len, out) : VMS_ERR_IO;
		sqlite3_reset(q);
		goto end;
	}
	sqlite3_reset(q);
	if (rc != SQLITE_DONE) {
		err = vms_store_err(rc);
		goto end;
	}
	/* A schema-1 snapshot: only its JSON exists. */
	if (!(q = vms_conn_stmt(c, VMS_ST_BODY)) || sqlite3_bind_int64(q, 1, id) != SQLITE_OK) {
		err = VMS_ERR_IO;
		goto end;
	}
	if ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *text = (const char *)sqlite3_column_text(q, 0);
		size_t len = (size_t)sqlite3_column_bytes(q, 0);
		if (!text)
			err = VMS_ERR_NOMEM;
		else if (!st->legacy_json)
			err = VMS_ERR_UNSUPPORTED;
		else
			err = st->legacy_json(text, len, out);
		/* What we stored ourselves must decode: anything else is a damaged database. */
		if (err == VMS_ERR_INVALID)
			err = VMS_ERR_IO;
	} else {
		err = rc == SQLITE_DONE ? VMS_ERR_NOT_FOUND : vms_store_err(rc);
	}
	sqlite3_reset(q);
end:
	vms_conn_exec(c, VMS_ST_END);
out:
	vms_store_reader_put(st, c);
	return err;
}

/* Keep a rendering (INSERT OR IGNORE: two first requests may race), dropping older renderings
 * to make room. */
int vms_store_rendering_keep(struct vms_store *st, int64_t id, const void *bytes, size_t len)
{
	struct vms_conn *w = &st->writer;
	sqlite3_stmt *q;
	int err;
	if (!st || id <= 0 || !bytes)
		return VMS_ERR_INVALID;
	if ((err = vms_store_write_begin(st)) != VMS_OK)
		return err;
	if ((err = vms_store_make_room(st, w, len)) != VMS_OK)
		goto end;
	if (!(q = vms_conn_stmt(w, VMS_ST_INSERT_BODY)) || sqlite3_bind_int64(q, 1, id) != SQLITE_OK ||
	    sqlite3_bind_text64(q, 2, bytes, len, SQLITE_STATIC, SQLITE_UTF8) != SQLITE_OK) {
		err = VMS_ERR_IO;
		goto end;
	}
	int rc = sqlite3_step(q);
	sqlite3_reset(q);
	if (rc != SQLITE_DONE) { /* e.g. the snapshot was deleted meanwhile (foreign key) */
		err = (rc & 0xff) == SQLITE_CONSTRAINT ? VMS_ERR_NOT_FOUND : vms_store_err(rc);
		goto end;
	}
	if (sqlite3_changes(w->db) == 1)
		err = set_json_bytes(w, id, len);
end:
	return vms_store_write_end(st, err);
}

int vms_store_rendering_stream(struct vms_store *st, int64_t id, const struct vms_store_sink *sink)
{
	sqlite3_blob *blob = NULL;
	char *buf = NULL;
	int err = VMS_OK;
	if (!st || id <= 0)
		return VMS_ERR_NOT_FOUND;
	struct vms_conn *c = vms_store_reader(st);
	/* The open blob handle keeps one read transaction for the whole stream (WAL: a consistent
	 * view even if the snapshot is deleted meanwhile; writers are not blocked). */
	int rc = sqlite3_blob_open(c->db, "main", "snapshot_bodies", "body", id, 0, &blob);
	if (rc != SQLITE_OK) {
		vms_store_reader_put(st, c);
		/* SQLITE_ERROR here means "no such row": no rendering kept (or no such snapshot). */
		return (rc & 0xff) == SQLITE_ERROR ? VMS_ERR_NOT_FOUND : vms_store_err(rc);
	}
	int total = sqlite3_blob_bytes(blob);
	if (sink->size && sink->size(sink->arg, (uint64_t)total) != 0) {
		err = VMS_ERR_IO;
		goto out;
	}
	if (!(buf = malloc(STREAM_CHUNK))) {
		err = VMS_ERR_NOMEM;
		goto out;
	}
	for (int off = 0; off < total;) {
		int n = total - off < (int)STREAM_CHUNK ? total - off : (int)STREAM_CHUNK;
		if ((rc = sqlite3_blob_read(blob, buf, n, off)) != SQLITE_OK) {
			err = vms_store_err(rc);
			goto out;
		}
		if (sink->chunk(sink->arg, buf, (size_t)n) != 0) {
			err = VMS_ERR_IO;
			goto out;
		}
		off += n;
	}
out:
	free(buf);
	sqlite3_blob_close(blob);
	vms_store_reader_put(st, c);
	return err;
}
