/* Private to server/store: the store handle, its connections and the statement table. */
#ifndef VMSCOPE_STORE_INTERNAL_H
#define VMSCOPE_STORE_INTERNAL_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>

#include "vmscope/store.h"

/* Every SQL statement the store runs, by slot. The text lives in store_sql.c. */
enum vms_stmt {
	VMS_ST_BEGIN_IMMEDIATE,
	VMS_ST_BEGIN_DEFERRED,
	VMS_ST_END,
	VMS_ST_COMMIT,
	VMS_ST_ROLLBACK,
	VMS_ST_USAGE,
	VMS_ST_INSERT_META,
	VMS_ST_INSERT_BODY,
	VMS_ST_INSERT_PACKED,
	VMS_ST_INSERT_SUMMARY,
	VMS_ST_SUMMARY,
	VMS_ST_DELETE_SUMMARY,
	VMS_ST_SET_JSON_BYTES,
	VMS_ST_EVICT_PICK,
	VMS_ST_EXISTS,
	VMS_ST_DELETE_SHARES,
	VMS_ST_DELETE_BODY,
	VMS_ST_DELETE_PACKED,
	VMS_ST_DELETE_META,
	VMS_ST_DELETE_RESIDENCY,
	VMS_ST_INSERT_RESIDENCY,
	VMS_ST_RESIDENCY,
	VMS_ST_META,
	VMS_ST_LIST,
	VMS_ST_BODY,
	VMS_ST_PACKED,
	VMS_ST_SHARE_INSERT,
	VMS_ST_SHARE_GET,
	VMS_ST_SHARE_VIEW,
	VMS_ST_SHARE_REVOKE,
	VMS_ST_SHARE_LIST,
	VMS_ST_WSHARE_INSERT,
	VMS_ST_WSHARE_GET,
	VMS_ST_WSHARE_VIEW,
	VMS_ST_WSHARE_REVOKE,
	VMS_ST_WSHARE_LIST,
	VMS_ST_WATCH_EXISTS,
	VMS_ST_WATCH_HAS_SNAPSHOT,
	VMS_ST_WATCH_INSERT,
	VMS_ST_WATCH_GET,
	VMS_ST_WATCH_LIST,
	VMS_ST_WATCH_RUNNING,
	VMS_ST_WATCH_UPDATE,
	VMS_ST_WATCH_DELETE,
	VMS_ST_WATCH_ADD_BYTES,
	VMS_ST_WATCH_RETENTION,
	VMS_ST_WATCH_RETARGET,
	VMS_ST_RESTART_INSERT,
	VMS_ST_RESTARTS,
	VMS_ST_SAMPLES_OLD_SNAPSHOTS,
	VMS_ST_SAMPLES_OLD_BYTES,
	VMS_ST_SAMPLES_DELETE_OLD,
	VMS_ST_SAMPLE_NTH_T,
	VMS_ST_SAMPLE_COUNT,
	VMS_ST_SAMPLE_SAME_T,
	VMS_ST_SAMPLE_INSERT,
	VMS_ST_SAMPLES_RANGE,
	VMS_ST_SAMPLE_LATEST,
	VMS_ST_SAMPLES_SCAN,
	VMS_ST_SAMPLE_AT,
	VMS_ST_SAMPLES_STATS,
	VMS_ST_SAMPLE_FIRST_T,
	VMS_ST_SAMPLE_LAST_T,
	VMS_ST_SAMPLE_NEAREST_SNAPSHOT,
	VMS_ST_LAYOUT_FIND,
	VMS_ST_LAYOUT_INSERT,
	VMS_ST_LAYOUT_ALL,
	VMS_ST_COUNT
};
extern const char *const vms_store_sql[VMS_ST_COUNT];

/* Forward migrations: vms_store_migrations[i] takes user_version i to i + 1. */
extern const char *const vms_store_migrations[VMS_STORE_SCHEMA_VERSION];

/* One SQLite connection with its lazily prepared statements. Used by one thread at a time. */
struct vms_conn {
	sqlite3 *db;
	sqlite3_stmt *stmt[VMS_ST_COUNT];
};

struct vms_store {
	struct vms_conn writer;   /* the only connection that writes */
	pthread_mutex_t wlock;    /* guards writer */
	struct vms_conn *readers; /* read-only pool */
	unsigned n_readers;
	unsigned *free_readers; /* stack of free indices */
	unsigned n_free;
	pthread_mutex_t rlock; /* guards the pool */
	pthread_cond_t rcond;
	uint64_t max_snapshots, max_bytes;
	int lock_fd;           /* flock'd: one daemon per database */
	int64_t sample_layout; /* this build's sample layout id (store_watches.c); 0 until the first
	                        * sample; guarded by wlock */
	uint64_t room_left;    /* after the last vms_store_make_room that fit: bytes still under
	                        * max_bytes; guarded by wlock */
	uint64_t sample_slack; /* bytes samples may still take without asking vms_store_make_room
	                        * (which sums every snapshot row): at most VMS_SAMPLE_SLACK, taken from
	                        * room_left, zeroed by every make_room; guarded by wlock */
	int (*legacy_json)(const char *text, size_t len, struct vms_snapshot **out); /* opts */
	char *path;                                                                  /* as opened */
	int reserve_fd;  /* PATH-reserve: VMS_STORE_RESERVE bytes given back when a delete finds the
	                  * disk full (a delete needs a little space too), or -1 */
	int reserve_dir; /* the directory holding it, to unlink it at close, or -1 */
	int disk_full;   /* __atomic: the last failed write found the disk full */
};
/* After a write on the writer failed (before its ROLLBACK, which resets SQLite's error): 1 when
 * it failed for lack of disk space, and then records it (vms_store_disk_full). */
int vms_store_note_disk_full(struct vms_store *st);
/* The reserve: release it (free its space for a delete on a full disk) and take it again (after
 * a write succeeded). Call with the writer lock held. */
#define VMS_STORE_RESERVE (1u << 20)
void vms_store_reserve_release(struct vms_store *st);
void vms_store_reserve_take(struct vms_store *st);

/* The packed body (pack.c). pack: malloc'd *out; VMS_OK or VMS_ERR_NOMEM. unpack: a new
 * snapshot (summarised); VMS_ERR_IO when the bytes are not a valid packed body. */
int vms_store_pack(const struct vms_snapshot *s, unsigned char **out, size_t *len);
int vms_store_unpack(const unsigned char *buf, size_t len, struct vms_snapshot **out);
/* The frozen version 1 (pack_v1.c): its decoder, which vms_store_unpack calls for version-1
 * bodies, and its writer, for tests that need a version-1 body. */
int vms_store_unpack_v1(const unsigned char *buf, size_t len, struct vms_snapshot **out);
int vms_store_pack_v1(const struct vms_snapshot *s, unsigned char **out, size_t *len);

/* Delete snapshot id (shares, renderings, body, summary, metadata) inside the writer's open
 * transaction; *changes = 1 when it existed. */
int vms_store_delete_in_tx(struct vms_conn *w, int64_t id, int *changes);
/* Inside a write transaction: VMS_OK when `need` more bytes fit under max_bytes (dropping kept
 * renderings, oldest first, to make room), else VMS_ERR_FULL. */
int vms_store_make_room(struct vms_store *st, struct vms_conn *w, uint64_t need);

/* A reset statement for slot, prepared on first use; NULL on error (message in conn->db). */
sqlite3_stmt *vms_conn_stmt(struct vms_conn *c, enum vms_stmt slot);
/* Take a reader from the pool (waits while all are busy) and give it back. */
struct vms_conn *vms_store_reader(struct vms_store *st);
void vms_store_reader_put(struct vms_store *st, struct vms_conn *c);
/* Run a no-result statement slot on the writer (BEGIN, COMMIT, ROLLBACK). */
int vms_conn_exec(struct vms_conn *c, enum vms_stmt slot);
/* Map a SQLite result code to enum vms_err. */
int vms_store_err(int rc);
/* Run a statement that returns no rows (INSERT/UPDATE/DELETE) and reset it: VMS_OK when it
 * completed, else vms_store_err() of its result. */
int vms_store_step_done(sqlite3_stmt *q);
/* Look one row up by id: bind id to ?1 of statement slot on c, step once and, on a row, call
 * read(q, out) to fill out from it. Returns read's result, VMS_ERR_NOT_FOUND when there is no
 * row, VMS_ERR_IO when the statement cannot be prepared or bound, else vms_store_err() of the
 * step. The statement is reset either way. */
int vms_store_row_by_id(struct vms_conn *c, enum vms_stmt slot, int64_t id,
                        int (*read)(sqlite3_stmt *q, void *out), void *out);
/* A malloc'd copy of text column col of the current row of q ("" for NULL); NULL on ENOMEM,
 * and then *oom is set (callers read a whole row, then check *oom once). */
char *vms_store_col_text(sqlite3_stmt *q, int col, int *oom);
/* Take the writer lock and BEGIN IMMEDIATE on st->writer. VMS_OK: the lock is held and a
 * transaction is open (end it with vms_store_write_end); otherwise the lock is released. */
int vms_store_write_begin(struct vms_store *st);
/* End the transaction vms_store_write_begin opened: COMMIT when err is VMS_OK, ROLLBACK when it
 * is not or the commit failed; then release the writer lock. Returns err, or the commit's error. */
int vms_store_write_end(struct vms_store *st, int err);

/* store_util.c. Make room for element n of the array *arr (a T **, elements of elem bytes, *cap of them):
 * doubles *cap when n reaches it. VMS_OK or VMS_ERR_NOMEM (then *arr is unchanged). */
int vms_store_grow(void *arr, size_t *cap, size_t n, size_t elem);
/* Bind ?1 = a, ?2 = b: VMS_OK, or VMS_ERR_IO (also when q is NULL). */
int vms_store_bind2(sqlite3_stmt *q, int64_t a, int64_t b);
/* Bind ?1..?n = v[0..n-1]: VMS_OK, or VMS_ERR_IO (also when q is NULL). */
int vms_store_bind_i64s(sqlite3_stmt *q, size_t n, const int64_t *v);
/* Run statement slot on c with ?1..?n = v[] and put its first row's first column into *out:
 * VMS_OK, VMS_ERR_NOT_FOUND (no row) or the error. */
int vms_store_query_i64(struct vms_conn *c, enum vms_stmt slot, size_t n, const int64_t *v, int64_t *out);
/* Step the bound statement q to its end, appending one element of elem bytes per row to the
 * array *arr (a T **, *n elements so far, grown as needed) filled by read(q, item, ctx); resets q.
 * VMS_OK, or the first error (read's, VMS_ERR_NOMEM or SQLite's); *n counts what was read. */
int vms_store_rows(sqlite3_stmt *q, void *arr, size_t *n, size_t elem,
                   int (*read)(sqlite3_stmt *q, void *item, void *ctx), void *ctx);

#endif
