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
    [VMS_ST_USAGE] =
        "SELECT count(*), coalesce(sum(body_bytes), 0), coalesce(sum(json_bytes), 0) FROM snapshots",
    [VMS_ST_INSERT_META] =
        "INSERT INTO snapshots (created_at_ms, source, format_version, pid, ppid, uid, "
        "name, cmdline, user, host, kernel, machine, arch_bits, start_time, taken_at_ms, "
        "n_regions, n_allocations, total_size, total_committed, total_private, total_ws, "
        "total_private_ws, total_shareable_ws, total_shared_ws, total_locked_ws, total_pss, "
        "total_uss, total_swap, total_swap_pss, total_dirty, body_bytes) VALUES "
        "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, "
        "?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31)",
    [VMS_ST_INSERT_SUMMARY] = "INSERT INTO snapshot_summary (snapshot_id, type, field, value) VALUES (?1, ?2, ?3, ?4)",
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
    [VMS_ST_META] = "SELECT " META_COLS " FROM snapshots WHERE id = ?1",
    [VMS_ST_LIST] =
        "SELECT " META_COLS " FROM snapshots WHERE (?1 <= 0 OR pid = ?1) AND (?2 IS NULL OR name = ?2)"
        " AND (?3 <= 0 OR id < ?3) AND (?4 IS NULL OR start_time = ?4) AND (?5 < 0 OR source = ?5)"
        " AND (?7 IS NULL OR instr(lower(name), lower(?7)) > 0 OR instr(lower(cmdline), lower(?7)) > 0)"
        " ORDER BY id DESC LIMIT ?6",
    [VMS_ST_BODY] = "SELECT body FROM snapshot_bodies WHERE id = ?1",
    [VMS_ST_PACKED] = "SELECT body FROM snapshot_packed WHERE id = ?1",
    [VMS_ST_SHARE_INSERT] = "INSERT INTO shares (selector, secret, snapshot_id, omit_cmdline, created_at_ms) "
                            "VALUES (?1, ?2, ?3, ?4, ?5)",
    [VMS_ST_SHARE_GET] = "SELECT secret, snapshot_id, omit_cmdline, created_at_ms FROM shares "
                         "WHERE selector = ?1 AND revoked_at_ms IS NULL",
    [VMS_ST_SHARE_REVOKE] =
        "UPDATE shares SET revoked_at_ms = ?2 WHERE selector = ?1 AND revoked_at_ms IS NULL",
    [VMS_ST_SHARE_LIST] = "SELECT selector || secret, snapshot_id, omit_cmdline, created_at_ms FROM shares "
                          "WHERE snapshot_id = ?1 AND revoked_at_ms IS NULL ORDER BY created_at_ms, selector",
};
