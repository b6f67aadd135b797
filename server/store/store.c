/* Opening and closing the store: file mode, the single-daemon lock, WAL, migrations and the
 * connection pool (one writer behind a mutex, N read-only readers). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store_internal.h"
#include "vmscope/error.h"

#define BUSY_TIMEOUT_MS 5000

static void seterr(char *errbuf, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void seterr(char *errbuf, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	if (!errbuf || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
}

int vms_store_err(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return VMS_OK;
	case SQLITE_NOMEM:
		return VMS_ERR_NOMEM;
	case SQLITE_FULL:
		return VMS_ERR_FULL;
	default:
		return VMS_ERR_IO;
	}
}

int vms_store_step_done(sqlite3_stmt *q)
{
	int rc = sqlite3_step(q);
	sqlite3_reset(q);
	return rc == SQLITE_DONE ? VMS_OK : vms_store_err(rc);
}

int vms_store_row_by_id(struct vms_conn *c, enum vms_stmt slot, int64_t id,
                        int (*read)(sqlite3_stmt *q, void *out), void *out)
{
	sqlite3_stmt *q = vms_conn_stmt(c, slot);
	if (!q)
		return VMS_ERR_IO;
	int err, rc = sqlite3_bind_int64(q, 1, id);
	if (rc != SQLITE_OK)
		err = VMS_ERR_IO;
	else if ((rc = sqlite3_step(q)) == SQLITE_ROW)
		err = read(q, out);
	else
		err = rc == SQLITE_DONE ? VMS_ERR_NOT_FOUND : vms_store_err(rc);
	sqlite3_reset(q);
	return err;
}

char *vms_store_col_text(sqlite3_stmt *q, int col, int *oom)
{
	const unsigned char *t = sqlite3_column_text(q, col);
	char *d = strdup(t ? (const char *)t : "");
	if (!d)
		*oom = 1;
	return d;
}

const char *vms_store_sqlite_version(void)
{
	return sqlite3_libversion();
}

sqlite3_stmt *vms_conn_stmt(struct vms_conn *c, enum vms_stmt slot)
{
	if (!c->stmt[slot]) {
		if (sqlite3_prepare_v3(c->db, vms_store_sql[slot], -1, SQLITE_PREPARE_PERSISTENT,
		                       &c->stmt[slot], NULL) != SQLITE_OK)
			return NULL;
	} else {
		sqlite3_reset(c->stmt[slot]);
		sqlite3_clear_bindings(c->stmt[slot]);
	}
	return c->stmt[slot];
}

int vms_conn_exec(struct vms_conn *c, enum vms_stmt slot)
{
	sqlite3_stmt *st = vms_conn_stmt(c, slot);
	if (!st)
		return VMS_ERR_IO;
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? VMS_OK : vms_store_err(rc);
}

static void conn_close(struct vms_conn *c)
{
	for (int i = 0; i < VMS_ST_COUNT; i++)
		sqlite3_finalize(c->stmt[i]);
	memset(c->stmt, 0, sizeof c->stmt);
	sqlite3_close(c->db);
	c->db = NULL;
}

/* The directory holding the database must be one nobody else can write to: in a shared
 * directory (/tmp with fs.protected_regular off) another user could pre-create the -wal/-shm
 * files and read or write every snapshot through them, or plant a symlink. Refused: a
 * world-writable directory (sticky or not) and one owned by another user (root is trusted).
 * *dirfd receives the directory opened; *base points at the file name inside path. */
static int check_dir(const char *path, int *dirfd, const char **base, char *errbuf, size_t errlen)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	struct stat sb;
	*base = slash ? slash + 1 : path;
	if (!slash)
		snprintf(dir, sizeof dir, ".");
	else if (slash == path)
		snprintf(dir, sizeof dir, "/");
	else if ((size_t)(slash - path) < sizeof dir)
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
	else {
		seterr(errbuf, errlen, "database path %s is too long", path);
		return VMS_ERR_INVALID;
	}
	if (!**base) {
		seterr(errbuf, errlen, "database path %s names a directory, not a file", path);
		return VMS_ERR_INVALID;
	}
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		seterr(errbuf, errlen, "cannot open database %s: directory %s: %s", path, dir,
		       strerror(errno));
		return VMS_ERR_IO;
	}
	if (fstat(fd, &sb) != 0) {
		seterr(errbuf, errlen, "cannot open database %s: directory %s: %s", path, dir,
		       strerror(errno));
		close(fd);
		return VMS_ERR_IO;
	}
	if (sb.st_mode & S_IWOTH) {
		seterr(errbuf, errlen,
		       "refusing database %s: its directory %s is writable by every user (mode %04o), so "
		       "another user could plant its -wal/-shm files or a symlink; use a directory only you "
		       "can write (mkdir -m 700 DIR)",
		       path, dir, (unsigned)(sb.st_mode & 07777));
		close(fd);
		return VMS_ERR_PERMISSION;
	}
	if (sb.st_uid != geteuid() && sb.st_uid != 0) {
		seterr(errbuf, errlen,
		       "refusing database %s: its directory %s belongs to uid %u, not to us (uid %u), and "
		       "its owner could replace our files; use a directory of your own",
		       path, dir, (unsigned)sb.st_uid, (unsigned)geteuid());
		close(fd);
		return VMS_ERR_PERMISSION;
	}
	*dirfd = fd;
	return VMS_OK;
}

/* A file SQLite keeps beside the database (NAME-wal, NAME-shm), if it exists already, must be a
 * regular file of ours with one link: someone else's would be adopted by SQLite as it is. */
static int check_side_file(int dirfd, const char *path, const char *base, const char *suffix, char *errbuf,
                           size_t errlen)
{
	char name[1024];
	struct stat sb;
	if ((size_t)snprintf(name, sizeof name, "%s%s", base, suffix) >= sizeof name) {
		seterr(errbuf, errlen, "database path %s is too long", path);
		return VMS_ERR_INVALID;
	}
	if (fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? VMS_OK : VMS_ERR_IO;
	if (!S_ISREG(sb.st_mode) || sb.st_uid != geteuid() || sb.st_nlink != 1) {
		seterr(errbuf, errlen,
		       "refusing database %s: %s%s exists and is %s; remove it if it is not yours", path,
		       path, suffix,
		       S_ISLNK(sb.st_mode)      ? "a symbolic link"
		       : !S_ISREG(sb.st_mode)   ? "not a regular file"
		       : sb.st_uid != geteuid() ? "owned by another user"
		                                : "a hard link to another file");
		return VMS_ERR_PERMISSION;
	}
	return VMS_OK;
}

/* Create the file 0600 (or narrow an existing one we own) and take the one-daemon lock on it.
 * The lock is flock(2) on our own descriptor; SQLite's POSIX record locks are independent.
 * The directory is checked first (check_dir), the file is opened without following a symlink
 * (root would otherwise chmod a symlink's target, or turn an empty file of root's into a
 * database), and pre-existing -wal/-shm files must be ours. */
static int prepare_file(struct vms_store *st, const char *path, char *errbuf, size_t errlen)
{
	int dirfd = -1, fd = -1, err;
	const char *base;
	struct stat sb;
	if ((err = check_dir(path, &dirfd, &base, errbuf, errlen)) != VMS_OK)
		return err;
	fd = openat(dirfd, base, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (errno == ELOOP)
			seterr(errbuf, errlen,
			       "refusing database %s: it is a symbolic link (give the real path)", path);
		else
			seterr(errbuf, errlen, "cannot open database %s: %s", path, strerror(errno));
		err = errno == ELOOP ? VMS_ERR_PERMISSION : VMS_ERR_IO;
		goto out;
	}
	/* Someone else's file (say pre-created in /tmp, mode 0666) would receive every snapshot
	 * where its owner can read them: refuse it, as the token file is refused. */
	err = VMS_ERR_IO;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_uid != geteuid()) {
		seterr(errbuf, errlen, "database %s is not a regular file owned by uid %u: refusing it", path,
		       (unsigned)geteuid());
		goto out;
	}
	if (sb.st_nlink != 1) {
		seterr(errbuf, errlen,
		       "refusing database %s: it has %u hard links (another name for another file?)", path,
		       (unsigned)sb.st_nlink);
		goto out;
	}
	if ((err = check_side_file(dirfd, path, base, "-wal", errbuf, errlen)) != VMS_OK ||
	    (err = check_side_file(dirfd, path, base, "-shm", errbuf, errlen)) != VMS_OK ||
	    (err = check_side_file(dirfd, path, base, "-journal", errbuf, errlen)) != VMS_OK ||
	    (err = check_side_file(dirfd, path, base, "-reserve", errbuf, errlen)) != VMS_OK)
		goto out;
	err = VMS_ERR_IO;
	if (sb.st_mode & 077)
		(void)fchmod(fd, 0600);
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		seterr(errbuf, errlen, "database %s is in use by another vmscope serve", path);
		goto out;
	}
	st->lock_fd = fd;
	fd = -1;
	err = VMS_OK;
	/* The reserve (best effort: without it a delete on a full disk may fail, and says so). */
	char name[1024];
	if ((size_t)snprintf(name, sizeof name, "%s-reserve", base) < sizeof name &&
	    (st->reserve_fd = openat(dirfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600)) >= 0) {
		st->reserve_dir = dirfd;
		dirfd = -1;
		vms_store_reserve_take(st);
	}
out:
	if (fd >= 0)
		close(fd);
	if (dirfd >= 0)
		close(dirfd);
	return err;
}

static int conn_open(struct vms_conn *c, const char *path, int readonly, char *errbuf, size_t errlen)
{
	int flags = (readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
	            SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_PRIVATECACHE | SQLITE_OPEN_NOFOLLOW;
	int rc = sqlite3_open_v2(path, &c->db, flags, NULL);
	if (rc != SQLITE_OK) {
		seterr(errbuf, errlen, "cannot open database %s: %s", path,
		       c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
		sqlite3_close(c->db);
		c->db = NULL;
		return vms_store_err(rc);
	}
	sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(c->db, 1);
	/* Settings below hold per connection; they take no user input. */
	if (sqlite3_exec(c->db, readonly ? "PRAGMA query_only = 1" : "PRAGMA foreign_keys = ON", NULL, NULL,
	                 NULL) != SQLITE_OK) {
		seterr(errbuf, errlen, "database %s: %s", path, sqlite3_errmsg(c->db));
		return VMS_ERR_IO;
	}
	return VMS_OK;
}

static int pragma_int(sqlite3 *db, const char *sql, int64_t *out)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		*out = sqlite3_column_int64(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

/* WAL + migrations on the writer. user_version is re-read inside BEGIN IMMEDIATE so two
 * processes opening one fresh database cannot both migrate it. */
static int setup_writer(struct vms_store *st, const char *path, char *errbuf, size_t errlen)
{
	sqlite3 *db = st->writer.db;
	sqlite3_stmt *jm = NULL;
	int err = VMS_ERR_IO;

	if (sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &jm, NULL) != SQLITE_OK ||
	    sqlite3_step(jm) != SQLITE_ROW || strcmp((const char *)sqlite3_column_text(jm, 0), "wal") != 0) {
		seterr(errbuf, errlen, "database %s: cannot switch to WAL mode: %s", path,
		       sqlite3_errmsg(db));
		sqlite3_finalize(jm);
		return VMS_ERR_IO;
	}
	sqlite3_finalize(jm);
	/* NORMAL is durable across application crashes in WAL mode; only a power loss may lose the
	 * last transactions, never corrupt the database. */
	if (sqlite3_exec(db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL) != SQLITE_OK)
		goto sqlerr;
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		goto sqlerr;
	int64_t version = 0;
	if (pragma_int(db, "PRAGMA user_version", &version) != SQLITE_OK)
		goto rollback;
	if (version > VMS_STORE_SCHEMA_VERSION || version < 0) {
		seterr(errbuf, errlen,
		       "database %s has schema version %lld; this vmscope knows up to %d (a newer vmscope "
		       "wrote it)",
		       path, (long long)version, VMS_STORE_SCHEMA_VERSION);
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return VMS_ERR_UNSUPPORTED;
	}
	for (int64_t v = version; v < VMS_STORE_SCHEMA_VERSION; v++) {
		char pragma[64];
		if (sqlite3_exec(db, vms_store_migrations[v], NULL, NULL, NULL) != SQLITE_OK)
			goto rollback;
		/* PRAGMA takes no bound parameters; the value is our own integer. */
		snprintf(pragma, sizeof pragma, "PRAGMA user_version = %lld", (long long)(v + 1));
		if (sqlite3_exec(db, pragma, NULL, NULL, NULL) != SQLITE_OK)
			goto rollback;
	}
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		goto rollback;
	return VMS_OK;

rollback:
	seterr(errbuf, errlen, "database %s: schema setup failed: %s", path, sqlite3_errmsg(db));
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return err;
sqlerr:
	seterr(errbuf, errlen, "database %s: %s", path, sqlite3_errmsg(db));
	return err;
}

/* path with its directory part resolved (realpath: symbolic links and ".." gone), malloc'd; the
 * file name itself is kept, so a database file that is a symlink is still refused. SQLite's
 * SQLITE_OPEN_NOFOLLOW refuses a symlink ANYWHERE in the path ("unable to open database file"),
 * and systemd's DynamicUser= makes the unit's state directory /var/lib/vmscope a symlink to
 * /var/lib/private/vmscope. A directory that cannot be resolved is left as given: check_dir says
 * why it cannot be opened. NULL on ENOMEM. */
static char *resolve_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
	char *real = dir ? realpath(dir, NULL) : NULL, *out = NULL;
	if (!dir)
		return NULL;
	if (!real) {
		out = strdup(path);
	} else {
		const char *base = slash ? slash + 1 : path;
		size_t n = strlen(real) + strlen(base) + 2;
		if ((out = malloc(n)))
			snprintf(out, n, "%s%s%s", real, strcmp(real, "/") ? "/" : "", base);
	}
	free(real);
	free(dir);
	return out;
}

int vms_store_open(const char *path, const struct vms_store_opts *opts, struct vms_store **out, char *errbuf,
                   size_t errlen)
{
	int err;
	*out = NULL;
	if (!path || !*path || !strcmp(path, ":memory:")) {
		seterr(errbuf, errlen, "the store needs a database file path");
		return VMS_ERR_INVALID;
	}
	struct vms_store *st = calloc(1, sizeof *st);
	if (!st)
		return VMS_ERR_NOMEM;
	st->lock_fd = -1;
	st->reserve_fd = -1;
	st->reserve_dir = -1;
	if (!(st->path = resolve_dir(path))) {
		free(st);
		return VMS_ERR_NOMEM;
	}
	path = st->path;
	st->legacy_json = opts ? opts->legacy_json : NULL;
	st->max_snapshots =
	    opts && opts->max_snapshots ? opts->max_snapshots : VMS_STORE_DEFAULT_MAX_SNAPSHOTS;
	st->max_bytes = opts && opts->max_bytes ? opts->max_bytes : VMS_STORE_DEFAULT_MAX_BYTES;
	st->n_readers = opts && opts->readers ? opts->readers : VMS_STORE_DEFAULT_READERS;
	pthread_mutex_init(&st->wlock, NULL);
	pthread_mutex_init(&st->rlock, NULL);
	pthread_cond_init(&st->rcond, NULL);

	if ((err = prepare_file(st, path, errbuf, errlen)) != VMS_OK)
		goto fail;
	if ((err = conn_open(&st->writer, path, 0, errbuf, errlen)) != VMS_OK)
		goto fail;
	if ((err = setup_writer(st, path, errbuf, errlen)) != VMS_OK)
		goto fail;

	st->readers = calloc(st->n_readers, sizeof *st->readers);
	st->free_readers = calloc(st->n_readers, sizeof *st->free_readers);
	if (!st->readers || !st->free_readers) {
		err = VMS_ERR_NOMEM;
		goto fail;
	}
	for (unsigned i = 0; i < st->n_readers; i++) {
		if ((err = conn_open(&st->readers[i], path, 1, errbuf, errlen)) != VMS_OK)
			goto fail;
		st->free_readers[st->n_free++] = i;
	}
	*out = st;
	return VMS_OK;
fail:
	vms_store_close(st);
	return err;
}

void vms_store_close(struct vms_store *st)
{
	if (!st)
		return;
	for (unsigned i = 0; st->readers && i < st->n_readers; i++)
		conn_close(&st->readers[i]);
	if (st->writer.db) {
		/* Fold the WAL back so the database is one file again at rest. */
		sqlite3_wal_checkpoint_v2(st->writer.db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
		conn_close(&st->writer);
	}
	free(st->readers);
	free(st->free_readers);
	if (st->reserve_fd >= 0) {
		const char *slash = strrchr(st->path, '/');
		char name[1024];
		if ((size_t)snprintf(name, sizeof name, "%s-reserve", slash ? slash + 1 : st->path) <
		    sizeof name)
			unlinkat(st->reserve_dir, name, 0);
		close(st->reserve_fd);
	}
	if (st->reserve_dir >= 0)
		close(st->reserve_dir);
	if (st->lock_fd >= 0)
		close(st->lock_fd);
	pthread_mutex_destroy(&st->wlock);
	pthread_mutex_destroy(&st->rlock);
	pthread_cond_destroy(&st->rcond);
	free(st->path);
	free(st);
}

int vms_store_note_disk_full(struct vms_store *st)
{
	int ext = sqlite3_extended_errcode(st->writer.db);
	int full = (ext & 0xff) == SQLITE_FULL || ext == SQLITE_IOERR_SHMSIZE ||
	           ((ext & 0xff) == SQLITE_IOERR && sqlite3_system_errno(st->writer.db) == ENOSPC);
	if (full)
		__atomic_store_n(&st->disk_full, 1, __ATOMIC_RELAXED);
	return full;
}

void vms_store_reserve_release(struct vms_store *st)
{
	if (st->reserve_fd >= 0)
		(void)ftruncate(st->reserve_fd, 0);
}

void vms_store_reserve_take(struct vms_store *st)
{
	if (st->reserve_fd >= 0 && posix_fallocate(st->reserve_fd, 0, VMS_STORE_RESERVE) != 0)
		(void)ftruncate(st->reserve_fd, 0); /* no space for it now: the next write tries again */
}

int vms_store_disk_full(struct vms_store *st)
{
	return st ? __atomic_load_n(&st->disk_full, __ATOMIC_RELAXED) : 0;
}

const char *vms_store_path(const struct vms_store *st)
{
	return st && st->path ? st->path : "";
}

struct vms_conn *vms_store_reader(struct vms_store *st)
{
	pthread_mutex_lock(&st->rlock);
	while (st->n_free == 0)
		pthread_cond_wait(&st->rcond, &st->rlock);
	struct vms_conn *c = &st->readers[st->free_readers[--st->n_free]];
	pthread_mutex_unlock(&st->rlock);
	return c;
}

void vms_store_reader_put(struct vms_store *st, struct vms_conn *c)
{
	pthread_mutex_lock(&st->rlock);
	st->free_readers[st->n_free++] = (unsigned)(c - st->readers);
	pthread_cond_signal(&st->rcond);
	pthread_mutex_unlock(&st->rlock);
}
