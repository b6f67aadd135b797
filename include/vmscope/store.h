/* The snapshot store: SQLite, the only SQL in vmscope (depends on core + sqlite3). It deals in
 * records and bytes: snapshots in its packed form, metadata and summaries as rows, and
 * renderings as opaque bytes the caller made (it never makes or reads JSON).
 *
 * Layout (docs/benchmarks.md, "Daemon", has the measurements behind it):
 *   snapshots        one row of queryable metadata per snapshot (pid, name, cmdline, user, host,
 *                    kernel, taken_at_ms, start_time, totals, sizes)
 *   snapshot_summary its per-type summary as rows (snapshot, type key, field key, value): the
 *                    fields are blocks, largest, regions and every column key; type '' holds the
 *                    totals. Keyed by name, so a new column or memory type needs no migration.
 *   snapshot_packed  the snapshot itself as one compact binary blob (pack.c): what was measured,
 *                    nothing derived; the source of truth, fast to write and to load
 *   snapshot_bodies  a rendering of it the caller asked to keep (the http layer keeps the API's
 *                    JSON there after the first request); streamed with incremental blob I/O so
 *                    serving never holds it whole. Schema 1 stored only this JSON; such
 *                    snapshots load through vms_store_opts.legacy_json.
 *   shares           revocable share tokens (a selector + a constant-time-compared secret), each
 *                    with an optional expiry time, a view count and an optional view limit
 *                    (schema 5; a share stored before has no expiry: it never expires)
 *   snapshot_residency page residency kept with a snapshot on request (schema 7): one
 *                    run-length encoded blob per snapshot (vmscope/pages.h, bounded by its
 *                    writer), counted in the byte limit like a body, deleted with the snapshot
 *
 * Concurrency: one writer connection guarded by a mutex (Debian 12's SQLite 3.40 still has the
 * WAL-reset bug that two concurrently writing connections can trigger) and a pool of read-only
 * connections, so readers never wait for a writer in WAL mode and a slow client streaming a body
 * never blocks a scan being stored. Every function is safe to call from any thread.
 *
 * Errors: VMS_OK, VMS_ERR_NOT_FOUND (no such snapshot/share), VMS_ERR_FULL (retention limit),
 * VMS_ERR_INVALID (bad argument), VMS_ERR_UNSUPPORTED (database written by a newer vmscope),
 * VMS_ERR_NOMEM, VMS_ERR_IO (any other SQLite or file error). */
#ifndef VMSCOPE_STORE_H
#define VMSCOPE_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vmscope/snapshot.h"

#define VMS_STORE_SCHEMA_VERSION 9
#define VMS_STORE_DEFAULT_MAX_SNAPSHOTS 1000u
#define VMS_STORE_DEFAULT_MAX_BYTES (4ull << 30) /* 4 GiB of snapshot bodies */
#define VMS_STORE_DEFAULT_READERS 8u

/* Share tokens: 32 random bytes from getrandom(2) as 64 lowercase hex characters. */
#define VMS_SHARE_TOKEN_LEN 64

struct vms_store;

struct vms_store_opts {
	uint64_t max_snapshots; /* 0 = VMS_STORE_DEFAULT_MAX_SNAPSHOTS */
	uint64_t max_bytes;     /* sum of stored body sizes; 0 = VMS_STORE_DEFAULT_MAX_BYTES */
	unsigned readers;       /* read connections in the pool; 0 = VMS_STORE_DEFAULT_READERS */
	/* Decodes the JSON body of a schema-1 snapshot (stored before the packed form existed):
	 * the json layer's importer. Returns VMS_OK or an enum vms_err. NULL: such snapshots give
	 * VMS_ERR_UNSUPPORTED. */
	int (*legacy_json)(const char *text, size_t len, struct vms_snapshot **out);
};

/* Open (creating if needed) the database at path with file mode 0600 (an existing file with a
 * wider mode is narrowed to 0600). Runs forward migrations up to VMS_STORE_SCHEMA_VERSION; a
 * database whose PRAGMA user_version is newer gives VMS_ERR_UNSUPPORTED and is left untouched.
 * opts may be NULL. On error errbuf (when given) holds a sentence naming the problem. */
int vms_store_open(const char *path, const struct vms_store_opts *opts, struct vms_store **out, char *errbuf,
                   size_t errlen);
void vms_store_close(struct vms_store *st); /* accepts NULL; waits for no one: call it last */

/* Where a stored snapshot came from. */
/* WATCH: a full snapshot a watch took (vmscope/store_watch.h); lists leave those out unless
 * asked (vms_store_query.with_watch or source = VMS_SOURCE_WATCH). */
enum vms_store_source { VMS_SOURCE_SCAN = 0, VMS_SOURCE_IMPORT = 1, VMS_SOURCE_WATCH = 2 };

/* Metadata of one stored snapshot. Strings are malloc'd and owned by the struct. */
struct vms_snapshot_meta {
	int64_t id;
	int64_t created_at_ms; /* when it was stored */
	enum vms_store_source source;
	int format_version;
	pid_t pid, ppid;
	uid_t uid;
	char *name, *cmdline, *user, *host, *kernel, *machine;
	int arch_bits;
	uint64_t start_time; /* clock ticks after boot */
	int64_t taken_at_ms;
	uint64_t n_regions, n_allocations;
	uint64_t total[VMS_COL_COUNT];                   /* the snapshot's totals (all types except Free) */
	struct vms_type_summary summary[VMS_TYPE_COUNT]; /* per type, as stored (fields a row lacks: 0) */
	uint64_t body_bytes; /* its stored body (packed; for schema-1 snapshots the JSON) */
	uint64_t json_bytes; /* its kept JSON rendering, 0 when none is kept */
};
void vms_snapshot_meta_clear(struct vms_snapshot_meta *m); /* frees the strings; accepts NULL */

struct vms_snapshot_list {
	struct vms_snapshot_meta *items;
	size_t n;
};
void vms_snapshot_list_free(struct vms_snapshot_list *l); /* accepts NULL; leaves *l empty */

/* Filters for vms_store_list; zero/NULL fields do not filter. Results are newest stored first
 * (descending id). */
struct vms_store_query {
	pid_t pid;          /* > 0: only this pid */
	const char *name;   /* exact comm */
	const char *match;  /* substring (any case, ASCII) of the comm or the command line */
	int64_t before;     /* > 0: only ids < before (paging) */
	int has_start_time; /* only this start_time (same process instance as another snapshot) */
	uint64_t start_time;
	int source;     /* -1 any, else enum vms_store_source */
	int with_watch; /* 1: also snapshots that watches took (source -1 leaves them out otherwise) */
	size_t limit;   /* 0 = 100; capped at 1000 */
};

/* Store s (packed) as one transaction. Checks the retention limits first (VMS_ERR_FULL, nothing
 * written; a VMS_SOURCE_WATCH snapshot is held to the byte limit only). json_text/json_len: optionally a
 * rendering to keep with it right away (opaque bytes to the store: the http layer passes the API's JSON);
 * NULL keeps none. On VMS_OK *id is the new id (never reused). */
int vms_store_put(struct vms_store *st, const struct vms_snapshot *s, enum vms_store_source source,
                  const char *json_text, size_t json_len, int64_t *id);
/* vms_store_put plus the snapshot's page residency as encoded by vms_residency_encode (opaque
 * bytes to the store), in the same transaction: both are stored or neither. The residency counts
 * towards max_bytes like a body (VMS_ERR_FULL when they do not fit together). */
int vms_store_put_with_residency(struct vms_store *st, const struct vms_snapshot *s,
                                 enum vms_store_source source, const void *residency, size_t residency_len,
                                 int64_t *id);
/* The residency kept with snapshot id: *out malloc'd (*len bytes). VMS_ERR_NOT_FOUND when the
 * snapshot has none (or does not exist). */
int vms_store_residency(struct vms_store *st, int64_t id, unsigned char **out, size_t *len);

/* Delete a snapshot and its shares. VMS_ERR_NOT_FOUND when there is none. */
int vms_store_delete(struct vms_store *st, int64_t id);

int vms_store_meta(struct vms_store *st, int64_t id, struct vms_snapshot_meta *out);
int vms_store_list(struct vms_store *st, const struct vms_store_query *q, struct vms_snapshot_list *out);

/* Rebuild the snapshot from its packed body (or, for a schema-1 snapshot, from its JSON). Caller
 * frees *out. */
int vms_store_load(struct vms_store *st, int64_t id, struct vms_snapshot **out);

/* Renderings: bytes the caller made from a snapshot and asks the store to keep beside it (the
 * http layer keeps the API's JSON, docs/benchmarks.md "Daemon"). They are a cache inside the
 * byte limit: to keep a new one, or to store a new snapshot, the store drops the oldest
 * renderings first; only bodies make the store full.
 *
 * keep: VMS_OK (also when one is kept already: the first stays), VMS_ERR_FULL (no room even
 * after dropping every other rendering), VMS_ERR_NOT_FOUND (no such snapshot).
 * stream: the kept bytes in chunks of at most 256 KiB: size() once with the total, then chunk()
 * as often as needed, from one read transaction without holding them in memory. A callback
 * returning non-zero stops it (VMS_ERR_IO). VMS_ERR_NOT_FOUND when none is kept (or there is
 * no such snapshot). */
struct vms_store_sink {
	int (*size)(void *arg, uint64_t total);
	int (*chunk)(void *arg, const void *buf, size_t len);
	void *arg;
};
int vms_store_rendering_keep(struct vms_store *st, int64_t id, const void *bytes, size_t len);
int vms_store_rendering_stream(struct vms_store *st, int64_t id, const struct vms_store_sink *sink);

/* Retention state: the count of stored snapshots that max_snapshots limits (those people took
 * or imported: a watch's full snapshots are not counted, they go with the watch's retention),
 * bytes that count towards "full" (every snapshot body and the timeline samples), bytes of kept
 * JSON renderings, and the limits in force. */
struct vms_store_usage {
	uint64_t snapshots, bytes, json_bytes, max_snapshots, max_bytes;
};
int vms_store_usage(struct vms_store *st, struct vms_store_usage *out);

/* 1 while the disk holding the database is full: set when a write failed for lack of space
 * (SQLite's SQLITE_FULL / ENOSPC), cleared by the next snapshot stored. While it is set, the
 * VMS_ERR_FULL a write returned means the disk, not the retention limit. Thread-safe. */
int vms_store_disk_full(struct vms_store *st);
/* The database path the store was opened with (for messages); never NULL for an open store. */
const char *vms_store_path(const struct vms_store *st);

/* The SQLite library version in use ("3.40.1"). */
const char *vms_store_sqlite_version(void);

/* Share links. */
struct vms_share {
	char token[VMS_SHARE_TOKEN_LEN + 1];
	int64_t snapshot_id; /* a snapshot's share; 0 for a watch's */
	int64_t watch_id;    /* a watch's share (vmscope/store_watch.h); 0 for a snapshot's */
	int omit_cmdline;
	int64_t created_at_ms;
	int64_t expires_at_ms; /* 0: never expires (every share stored before schema 5) */
	int64_t views;         /* successful reads of the shared snapshot so far */
	int64_t max_views;     /* 0: no limit */
};
/* What a link's creator asks for. */
struct vms_share_spec {
	int omit_cmdline;
	int64_t lifetime_ms; /* > 0: expires that long after creation; 0: never */
	int64_t max_views;   /* > 0: gone after that many reads; 0: no limit */
};
/* The default lifetime of a new link made through the API (7 days). */
#define VMS_SHARE_DEFAULT_LIFETIME_MS (7ll * 24 * 3600 * 1000)

/* Is the share still usable at now_ms? 0 yes, 1 expired (its time is up), 2 used up (max_views
 * reached). */
int vms_share_gone(const struct vms_share *sh, int64_t now_ms);

/* Create a share of snapshot id (VMS_ERR_NOT_FOUND when it does not exist) that never expires. */
int vms_store_share_create(struct vms_store *st, int64_t id, int omit_cmdline, struct vms_share *out);
/* The same with a lifetime and a view limit (VMS_ERR_INVALID for a negative one). */
int vms_store_share_create_spec(struct vms_store *st, int64_t id, const struct vms_share_spec *spec,
                                struct vms_share *out);
/* Resolve a token to its share. Any malformed, unknown or revoked token gives VMS_ERR_NOT_FOUND;
 * the secret part is compared in constant time. An expired or used-up share is returned as it is
 * (vms_share_gone tells). */
int vms_store_share_get(struct vms_store *st, const char *token, struct vms_share *out);
/* A read of the shared snapshot: resolve the token like vms_store_share_get and, when the share
 * is not gone at now_ms, count the view (*counted = 1, out->views includes it; this view may be
 * the one that reaches max_views). VMS_OK with the share (*counted = 0: it was gone),
 * VMS_ERR_NOT_FOUND, VMS_ERR_IO. */
int vms_store_share_view(struct vms_store *st, const char *token, int64_t now_ms, struct vms_share *out,
                         int *counted);
/* Revoke a token, a snapshot's or a watch's (VMS_ERR_NOT_FOUND when unknown or already
 * revoked). */
int vms_store_share_revoke(struct vms_store *st, const char *token);
/* Unrevoked shares of one snapshot (expired ones included), oldest first; caller frees *out with
 * free(). */
int vms_store_share_list(struct vms_store *st, int64_t id, struct vms_share **out, size_t *n);

#endif
