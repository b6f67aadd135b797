/* All of vmscope's SQL: the schema migrations and every statement, by slot. Statements take
 * their values as bound parameters only; nothing is ever formatted into SQL text. */
#include "store_internal.h"

/* Schema 1.
 * - snapshots: queryable metadata. The 13 total_* columns are the columns of that time, by key
 *   (store_snapshots.c, total_columns; since schema 3 the totals are read from snapshot_summary);
 *   summary holds the per-type totals as JSON ({"summary":[...],"total":{...}}), which SQLite's
 *   json_extract() can query.
 * - snapshot_bodies: the compact snapshot JSON, apart from the metadata so list queries never
 *   touch the large rows; TEXT so a read gets a NUL-terminated string.
 * - shares: token = selector (first 16 hex chars, indexed) + secret (the remaining 48, compared
 *   in constant time by the store so a lookup's timing reveals nothing about the secret).
 * AUTOINCREMENT so a deleted snapshot's id (and links to it) never name a later one. */
const char *const vms_store_migrations[VMS_STORE_SCHEMA_VERSION] = {
    "CREATE TABLE snapshots ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " created_at_ms INTEGER NOT NULL,"
    " source INTEGER NOT NULL,"
    " format_version INTEGER NOT NULL,"
    " pid INTEGER NOT NULL, ppid INTEGER NOT NULL, uid INTEGER NOT NULL,"
    " name TEXT NOT NULL, cmdline TEXT NOT NULL, user TEXT NOT NULL,"
    " host TEXT NOT NULL, kernel TEXT NOT NULL, machine TEXT NOT NULL, arch_bits INTEGER NOT NULL,"
    " start_time INTEGER NOT NULL, taken_at_ms INTEGER NOT NULL,"
    " n_regions INTEGER NOT NULL, n_allocations INTEGER NOT NULL,"
    " total_size INTEGER NOT NULL, total_committed INTEGER NOT NULL, total_private INTEGER NOT NULL,"
    " total_ws INTEGER NOT NULL, total_private_ws INTEGER NOT NULL, total_shareable_ws INTEGER NOT NULL,"
    " total_shared_ws INTEGER NOT NULL, total_locked_ws INTEGER NOT NULL, total_pss INTEGER NOT NULL,"
    " total_uss INTEGER NOT NULL, total_swap INTEGER NOT NULL, total_swap_pss INTEGER NOT NULL,"
    " total_dirty INTEGER NOT NULL,"
    " summary TEXT NOT NULL,"
    " body_bytes INTEGER NOT NULL);"
    "CREATE INDEX snapshots_by_pid ON snapshots(pid, id);"
    "CREATE INDEX snapshots_by_name ON snapshots(name, id);"
    "CREATE TABLE snapshot_bodies ("
    " id INTEGER PRIMARY KEY REFERENCES snapshots(id) ON DELETE CASCADE,"
    " body TEXT NOT NULL);"
    "CREATE TABLE shares ("
    " selector TEXT PRIMARY KEY,"
    " secret TEXT NOT NULL,"
    " snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,"
    " omit_cmdline INTEGER NOT NULL,"
    " created_at_ms INTEGER NOT NULL,"
    " revoked_at_ms INTEGER);"
    "CREATE INDEX shares_by_snapshot ON shares(snapshot_id);",

    /* Schema 2: the packed body becomes the source of truth (10x faster to store and load than
     * the JSON, docs/benchmarks.md); snapshot_bodies turns into the JSON rendering, kept once
     * made. Schema-1 rows keep their JSON and are loaded from it. */
    "CREATE TABLE snapshot_packed ("
    " id INTEGER PRIMARY KEY REFERENCES snapshots(id) ON DELETE CASCADE,"
    " body BLOB NOT NULL);"
    /* body_bytes: the source of truth (packed, or a schema-1 JSON); json_bytes: a kept
     * rendering, which the store may drop again to make room. */
    "ALTER TABLE snapshots ADD COLUMN json_bytes INTEGER NOT NULL DEFAULT 0;",

    /* Schema 3: the store keeps records, not JSON. The per-type summary moves from JSON text
     * (which every list row re-parsed) to rows keyed by type and field name, converted here by
     * SQLite's own JSON functions; type '' holds the totals. A new column or memory type is a
     * new row, not a new SQL column. */
    "CREATE TABLE snapshot_summary ("
    " snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,"
    " type TEXT NOT NULL, field TEXT NOT NULL, value INTEGER NOT NULL,"
    " PRIMARY KEY (snapshot_id, type, field)) WITHOUT ROWID;"
    "INSERT INTO snapshot_summary SELECT s.id, json_extract(e.value, '$.type'), f.key, f.value"
    " FROM snapshots s, json_each(s.summary, '$.summary') e, json_each(e.value) f"
    " WHERE f.key IN ('blocks', 'largest', 'regions');"
    "INSERT INTO snapshot_summary SELECT s.id, json_extract(e.value, '$.type'), c.key, c.value"
    " FROM snapshots s, json_each(s.summary, '$.summary') e, json_each(e.value, '$.columns') c;"
    "INSERT INTO snapshot_summary SELECT s.id, '', c.key, c.value"
    " FROM snapshots s, json_each(s.summary, '$.total') c;"
    "ALTER TABLE snapshots DROP COLUMN summary;",

    /* Schema 4: the timeline (vmscope/store_watch.h). A sample's summary is one blob written in
     * a layout (its type keys and field keys, by name, in sample_layouts); its counters are
     * columns. Its full snapshot is an ordinary snapshot (source 2, "watch"); deleting that
     * snapshot leaves the sample without one. */
    "CREATE TABLE watches ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " pid INTEGER NOT NULL, start_time INTEGER NOT NULL, name TEXT NOT NULL,"
    " created_at_ms INTEGER NOT NULL, ends_at_ms INTEGER NOT NULL, ended_at_ms INTEGER NOT NULL,"
    " interval_ms INTEGER NOT NULL, snapshot_every_s INTEGER NOT NULL, retention_s INTEGER NOT NULL,"
    " state TEXT NOT NULL, note TEXT NOT NULL,"
    " sample_bytes INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE sample_layouts ("
    " id INTEGER PRIMARY KEY, types TEXT NOT NULL, fields TEXT NOT NULL, UNIQUE (types, fields));"
    "CREATE TABLE samples ("
    " watch_id INTEGER NOT NULL REFERENCES watches(id) ON DELETE CASCADE,"
    " t_ms INTEGER NOT NULL, flags INTEGER NOT NULL,"
    " threads INTEGER NOT NULL, vm_rss INTEGER NOT NULL, vm_swap INTEGER NOT NULL,"
    " min_flt INTEGER NOT NULL, maj_flt INTEGER NOT NULL,"
    " snapshot_id INTEGER REFERENCES snapshots(id) ON DELETE SET NULL,"
    " layout INTEGER NOT NULL REFERENCES sample_layouts(id),"
    " committed INTEGER NOT NULL," /* the total committed again: downsampling in SQL */
    " bytes INTEGER NOT NULL, summary BLOB NOT NULL,"
    " PRIMARY KEY (watch_id, t_ms)) WITHOUT ROWID;"
    "CREATE INDEX samples_by_snapshot ON samples(snapshot_id);",

    /* Schema 5: links that expire (issue 15). expires_at_ms NULL: never, which every share
     * stored before keeps; views counts reads of the shared snapshot; max_views NULL: no limit. */
    "ALTER TABLE shares ADD COLUMN expires_at_ms INTEGER;"
    "ALTER TABLE shares ADD COLUMN views INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE shares ADD COLUMN max_views INTEGER;",

    /* Schema 6: a watch on a name follows the process across restarts (follow = 1); each
     * restart it followed is a row of watch_restarts (when, the new pid and start time). */
    "ALTER TABLE watches ADD COLUMN follow INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE watch_restarts ("
    " watch_id INTEGER NOT NULL REFERENCES watches(id) ON DELETE CASCADE,"
    " t_ms INTEGER NOT NULL, pid INTEGER NOT NULL, start_time INTEGER NOT NULL,"
    " old_pid INTEGER NOT NULL,"
    " PRIMARY KEY (watch_id, t_ms, pid)) WITHOUT ROWID;"
    /* Downsampling reads these columns of every sample in a range: from this index they come
     * without reading the rows' summary blobs (docs/benchmarks.md, "Timeline"). */
    "CREATE INDEX samples_by_time ON samples(watch_id, t_ms, committed, flags, snapshot_id);",

    /* Schema 7: page residency kept with a snapshot on request (issue 14), apart from the packed
     * record (which stays as it was): one run-length encoded blob (vmscope/pages.h) per
     * snapshot; bytes counts towards the byte limit like a body. */
    "CREATE TABLE snapshot_residency ("
    " snapshot_id INTEGER PRIMARY KEY REFERENCES snapshots(id) ON DELETE CASCADE,"
    " bytes INTEGER NOT NULL, body BLOB NOT NULL);",

    /* Schema 8: share links for a watch's timeline (issue 10). The same token model as
     * shares (selector + constant-time-compared secret, expiry, views, revocation), in a table
     * of its own so a watch token can never open a snapshot route nor the other way round;
     * deleting the watch deletes its links. One self-contained step. */
    "CREATE TABLE watch_shares ("
    " selector TEXT PRIMARY KEY,"
    " secret TEXT NOT NULL,"
    " watch_id INTEGER NOT NULL REFERENCES watches(id) ON DELETE CASCADE,"
    " omit_cmdline INTEGER NOT NULL,"
    " created_at_ms INTEGER NOT NULL,"
    " revoked_at_ms INTEGER,"
    " expires_at_ms INTEGER,"
    " views INTEGER NOT NULL DEFAULT 0,"
    " max_views INTEGER);"
    "CREATE INDEX watch_shares_by_watch ON watch_shares(watch_id);",

    /* Schema 9: a watch's thresholds for full snapshots (vmscope/churn.h), so a watch resumed
     * after a daemon restart keeps them. NULL: not known (a watch stored before, or imported
     * from a timeline file); such a watch, resumed, uses the defaults, as it did before. */
    "ALTER TABLE watches ADD COLUMN snapshot_on_allocations INTEGER;"
    "ALTER TABLE watches ADD COLUMN snapshot_on_committed INTEGER;",
};

#define META_COLS                                                                                            \
	"id, created_at_ms, source, format_version, pid, ppid, uid, name, cmdline, user, host, kernel, "     \
	"machine, arch_bits, start_time, taken_at_ms, n_regions, n_allocations, total_size, "                \
	"total_committed, total_private, total_ws, total_private_ws, total_shareable_ws, total_shared_ws, "  \
	"total_locked_ws, total_pss, total_uss, total_swap, total_swap_pss, total_dirty, "                   \
	"body_bytes, "                                                                                       \
	"json_bytes"

const char *const vms_store_sql[VMS_ST_COUNT] = {
    [VMS_ST_BEGIN_IMMEDIATE] = "BEGIN IMMEDIATE",
    [VMS_ST_BEGIN_DEFERRED] = "BEGIN",
    [VMS_ST_END] = "END",
    [VMS_ST_COMMIT] = "COMMIT",
    [VMS_ST_ROLLBACK] = "ROLLBACK",
    /* count: the snapshots people took or imported (a watch's full snapshots go with its
     * retention instead); bytes: every snapshot body and the timeline samples, what makes the
     * store full */
    [VMS_ST_USAGE] = "SELECT coalesce(sum(source != 2), 0), coalesce(sum(body_bytes), 0) + (SELECT "
                     "coalesce(sum(sample_bytes), 0) FROM watches) + (SELECT coalesce(sum(bytes), 0) FROM "
                     "snapshot_residency), coalesce(sum(json_bytes), 0) FROM snapshots",
    [VMS_ST_INSERT_META] =
        "INSERT INTO snapshots (created_at_ms, source, format_version, pid, ppid, uid, "
        "name, cmdline, user, host, kernel, machine, arch_bits, start_time, taken_at_ms, "
        "n_regions, n_allocations, total_size, total_committed, total_private, total_ws, "
        "total_private_ws, total_shareable_ws, total_shared_ws, total_locked_ws, total_pss, "
        "total_uss, total_swap, total_swap_pss, total_dirty, body_bytes) VALUES "
        "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, "
        "?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31)",
    [VMS_ST_INSERT_SUMMARY] =
        "INSERT INTO snapshot_summary (snapshot_id, type, field, value) VALUES (?1, ?2, ?3, ?4)",
    [VMS_ST_SUMMARY] = "SELECT type, field, value FROM snapshot_summary WHERE snapshot_id = ?1",
    [VMS_ST_DELETE_SUMMARY] = "DELETE FROM snapshot_summary WHERE snapshot_id = ?1",
    [VMS_ST_INSERT_BODY] = "INSERT OR IGNORE INTO snapshot_bodies (id, body) VALUES (?1, ?2)",
    [VMS_ST_INSERT_PACKED] = "INSERT INTO snapshot_packed (id, body) VALUES (?1, ?2)",
    [VMS_ST_SET_JSON_BYTES] = "UPDATE snapshots SET json_bytes = ?2 WHERE id = ?1",
    [VMS_ST_EVICT_PICK] = "SELECT id, json_bytes FROM snapshots WHERE json_bytes > 0 ORDER BY id LIMIT 1",
    [VMS_ST_EXISTS] = "SELECT 1 FROM snapshots WHERE id = ?1",
    [VMS_ST_DELETE_SHARES] = "DELETE FROM shares WHERE snapshot_id = ?1",
    [VMS_ST_DELETE_BODY] = "DELETE FROM snapshot_bodies WHERE id = ?1",
    [VMS_ST_DELETE_PACKED] = "DELETE FROM snapshot_packed WHERE id = ?1",
    [VMS_ST_DELETE_META] = "DELETE FROM snapshots WHERE id = ?1",
    [VMS_ST_DELETE_RESIDENCY] = "DELETE FROM snapshot_residency WHERE snapshot_id = ?1",
    [VMS_ST_INSERT_RESIDENCY] =
        "INSERT INTO snapshot_residency (snapshot_id, body, bytes) VALUES (?1, ?2, length(?2))",
    [VMS_ST_RESIDENCY] = "SELECT body FROM snapshot_residency WHERE snapshot_id = ?1",
    [VMS_ST_META] = "SELECT " META_COLS " FROM snapshots WHERE id = ?1",
    [VMS_ST_LIST] =
        "SELECT " META_COLS " FROM snapshots WHERE (?1 <= 0 OR pid = ?1) AND (?2 IS NULL OR name = ?2)"
        " AND (?3 <= 0 OR id < ?3) AND (?4 IS NULL OR start_time = ?4) AND (?5 < 0 OR source = ?5)"
        " AND (?7 != 0 OR ?5 = 2 OR source != 2)"
        " AND (?8 IS NULL OR instr(lower(name), lower(?8)) > 0 OR instr(lower(cmdline), lower(?8)) > 0)"
        " ORDER BY id DESC LIMIT ?6",
    [VMS_ST_BODY] = "SELECT body FROM snapshot_bodies WHERE id = ?1",
    [VMS_ST_PACKED] = "SELECT body FROM snapshot_packed WHERE id = ?1",
    [VMS_ST_SHARE_INSERT] = "INSERT INTO shares (selector, secret, snapshot_id, omit_cmdline, created_at_ms, "
                            "expires_at_ms, max_views) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [VMS_ST_SHARE_GET] =
        "SELECT secret, snapshot_id, omit_cmdline, created_at_ms, coalesce(expires_at_ms, 0), "
        "views, coalesce(max_views, 0) FROM shares "
        "WHERE selector = ?1 AND revoked_at_ms IS NULL",
    [VMS_ST_SHARE_VIEW] = "UPDATE shares SET views = views + 1 WHERE selector = ?1",
    [VMS_ST_SHARE_REVOKE] =
        "UPDATE shares SET revoked_at_ms = ?2 WHERE selector = ?1 AND revoked_at_ms IS NULL",
    [VMS_ST_SHARE_LIST] = "SELECT selector || secret, snapshot_id, omit_cmdline, created_at_ms, "
                          "coalesce(expires_at_ms, 0), views, coalesce(max_views, 0) FROM shares "
                          "WHERE snapshot_id = ?1 AND revoked_at_ms IS NULL ORDER BY created_at_ms, selector",
    /* watch shares (schema 8): the same columns as shares, watch_id in snapshot_id's place */
    [VMS_ST_WSHARE_INSERT] = "INSERT INTO watch_shares (selector, secret, watch_id, omit_cmdline, "
                             "created_at_ms, expires_at_ms, max_views) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [VMS_ST_WSHARE_GET] = "SELECT secret, watch_id, omit_cmdline, created_at_ms, coalesce(expires_at_ms, 0), "
                          "views, coalesce(max_views, 0) FROM watch_shares "
                          "WHERE selector = ?1 AND revoked_at_ms IS NULL",
    [VMS_ST_WSHARE_VIEW] = "UPDATE watch_shares SET views = views + 1 WHERE selector = ?1",
    [VMS_ST_WSHARE_REVOKE] =
        "UPDATE watch_shares SET revoked_at_ms = ?2 WHERE selector = ?1 AND revoked_at_ms IS NULL",
    [VMS_ST_WSHARE_LIST] = "SELECT selector || secret, watch_id, omit_cmdline, created_at_ms, "
                           "coalesce(expires_at_ms, 0), views, coalesce(max_views, 0) FROM watch_shares "
                           "WHERE watch_id = ?1 AND revoked_at_ms IS NULL ORDER BY created_at_ms, selector",
    [VMS_ST_WATCH_EXISTS] = "SELECT 1 FROM watches WHERE id = ?1",
    [VMS_ST_WATCH_HAS_SNAPSHOT] = "SELECT 1 FROM samples WHERE watch_id = ?1 AND snapshot_id = ?2 LIMIT 1",
#define WATCH_BASE_COLS                                                                                      \
	"w.id, w.pid, w.start_time, w.name, w.created_at_ms, w.ends_at_ms, w.ended_at_ms, w.interval_ms, "   \
	"w.snapshot_every_s, w.retention_s, w.state, w.note, w.sample_bytes, "
#define WATCH_COLS                                                                                           \
	WATCH_BASE_COLS "(SELECT count(*) FROM samples WHERE watch_id = w.id), "                             \
	                "(SELECT min(t_ms) FROM samples WHERE watch_id = w.id), "                            \
	                "(SELECT max(t_ms) FROM samples WHERE watch_id = w.id), w.follow, "                  \
	                "(SELECT count(*) FROM watch_restarts WHERE watch_id = w.id), "                      \
	                "w.snapshot_on_allocations, w.snapshot_on_committed"
    [VMS_ST_WATCH_INSERT] =
        "INSERT INTO watches (pid, start_time, name, created_at_ms, ends_at_ms, ended_at_ms, "
        "interval_ms, snapshot_every_s, retention_s, state, note, follow, snapshot_on_allocations, "
        "snapshot_on_committed) VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, ?7, ?8, 'running', '', ?9, ?10, ?11)",
    [VMS_ST_WATCH_RETARGET] = "UPDATE watches SET pid = ?2, start_time = ?3 WHERE id = ?1",
    [VMS_ST_RESTART_INSERT] =
        "INSERT OR REPLACE INTO watch_restarts (watch_id, t_ms, pid, start_time, old_pid) "
        "VALUES (?1, ?2, ?3, ?4, ?5)",
    [VMS_ST_RESTARTS] = "SELECT t_ms, pid, start_time, old_pid FROM watch_restarts WHERE watch_id = ?1 "
                        "ORDER BY t_ms LIMIT 1000",
    [VMS_ST_WATCH_GET] = "SELECT " WATCH_COLS " FROM watches w WHERE w.id = ?1",
    [VMS_ST_WATCH_LIST] = "SELECT " WATCH_COLS " FROM watches w ORDER BY w.id DESC LIMIT 1000",
    /* what /metrics needs, without counting samples (count(*) reads all of a watch's rows) */
    [VMS_ST_WATCH_RUNNING] = "SELECT " WATCH_BASE_COLS "0, 0, (SELECT max(t_ms) FROM samples WHERE "
                             "watch_id = w.id), w.follow, 0, w.snapshot_on_allocations, "
                             "w.snapshot_on_committed FROM watches w WHERE w.state = 'running' "
                             "ORDER BY w.id DESC LIMIT 1000",
    [VMS_ST_WATCH_UPDATE] = "UPDATE watches SET state = coalesce(?2, state), note = coalesce(?3, note), "
                            "ended_at_ms = CASE WHEN ?4 < 0 THEN ended_at_ms ELSE ?4 END WHERE id = ?1",
    [VMS_ST_WATCH_DELETE] = "DELETE FROM watches WHERE id = ?1",
    [VMS_ST_WATCH_ADD_BYTES] = "UPDATE watches SET sample_bytes = max(0, sample_bytes + ?2) WHERE id = ?1",
    [VMS_ST_WATCH_RETENTION] = "SELECT retention_s FROM watches WHERE id = ?1",
    [VMS_ST_SAMPLES_OLD_SNAPSHOTS] =
        "SELECT snapshot_id FROM samples WHERE watch_id = ?1 AND t_ms < ?2 AND snapshot_id IS NOT NULL",
    [VMS_ST_SAMPLES_OLD_BYTES] =
        "SELECT coalesce(sum(bytes), 0) FROM samples WHERE watch_id = ?1 AND t_ms < ?2",
    [VMS_ST_SAMPLES_DELETE_OLD] = "DELETE FROM samples WHERE watch_id = ?1 AND t_ms < ?2",
    [VMS_ST_SAMPLE_NTH_T] = "SELECT t_ms FROM samples WHERE watch_id = ?1 ORDER BY t_ms LIMIT 1 OFFSET ?2",
    [VMS_ST_SAMPLE_COUNT] = "SELECT count(*) FROM samples WHERE watch_id = ?1",
    [VMS_ST_SAMPLE_SAME_T] = "SELECT bytes, snapshot_id FROM samples WHERE watch_id = ?1 AND t_ms = ?2",
    [VMS_ST_SAMPLE_INSERT] =
        "INSERT OR REPLACE INTO samples (watch_id, t_ms, flags, threads, vm_rss, vm_swap, "
        "min_flt, maj_flt, snapshot_id, layout, bytes, summary, committed) VALUES "
        "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
#define SAMPLE_COLS                                                                                          \
	"s.t_ms, s.flags, s.threads, s.vm_rss, s.vm_swap, s.min_flt, s.maj_flt, s.snapshot_id, s.layout, "   \
	"s.bytes, s.summary"
    [VMS_ST_SAMPLES_RANGE] =
        "SELECT " SAMPLE_COLS ", 1, s.committed, s.committed, s.flags, s.snapshot_id FROM samples s "
        "WHERE s.watch_id = ?1 AND s.t_ms >= ?2 AND s.t_ms <= ?3 ORDER BY s.t_ms",
    /* one row per bucket of ?4 ms from ?2: its last sample, with the bucket's count, committed
     * range, any gap flag and newest full snapshot */
    [VMS_ST_SAMPLE_LATEST] =
        "SELECT " SAMPLE_COLS ", 1, s.committed, s.committed, s.flags, s.snapshot_id FROM samples s "
        "WHERE s.watch_id = ?1 AND s.t_ms = (SELECT max(t_ms) FROM samples WHERE watch_id = ?1 AND "
        "t_ms >= ?2 AND t_ms <= ?3)",
    /* downsampling: the range's (time, committed, flags, snapshot) in time order from the
     * covering index, bucketed in C (store_watches.c); then each bucket's last sample by key */
    [VMS_ST_SAMPLES_SCAN] =
        "SELECT t_ms, committed, flags, snapshot_id FROM samples INDEXED BY samples_by_time "
        "WHERE watch_id = ?1 AND t_ms >= ?2 AND t_ms <= ?3 ORDER BY t_ms",
    [VMS_ST_SAMPLE_AT] =
        "SELECT " SAMPLE_COLS ", 1, s.committed, s.committed, s.flags, s.snapshot_id FROM samples s "
        "WHERE s.watch_id = ?1 AND s.t_ms = ?2",
    [VMS_ST_SAMPLES_STATS] = "SELECT count(*), coalesce(min(t_ms), 0), coalesce(max(t_ms), 0) FROM samples "
                             "INDEXED BY samples_by_time "
                             "WHERE watch_id = ?1 AND t_ms >= ?2 AND t_ms <= ?3",
    /* the first and last time of a range: one descent of the primary key each, no scan */
    [VMS_ST_SAMPLE_FIRST_T] = "SELECT t_ms FROM samples WHERE watch_id = ?1 AND t_ms >= ?2 AND t_ms <= ?3 "
                              "ORDER BY t_ms LIMIT 1",
    [VMS_ST_SAMPLE_LAST_T] = "SELECT t_ms FROM samples WHERE watch_id = ?1 AND t_ms >= ?2 AND t_ms <= ?3 "
                             "ORDER BY t_ms DESC LIMIT 1",
    [VMS_ST_SAMPLE_NEAREST_SNAPSHOT] =
        "SELECT snapshot_id, t_ms FROM samples WHERE watch_id = ?1 AND snapshot_id IS NOT NULL "
        "ORDER BY abs(t_ms - ?2), t_ms LIMIT 1",
    [VMS_ST_LAYOUT_FIND] = "SELECT id FROM sample_layouts WHERE types = ?1 AND fields = ?2",
    [VMS_ST_LAYOUT_INSERT] = "INSERT INTO sample_layouts (types, fields) VALUES (?1, ?2)",
    [VMS_ST_LAYOUT_ALL] = "SELECT id, types, fields FROM sample_layouts",
};
