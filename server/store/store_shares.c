/* Share tokens: 256 random bits from getrandom(2), 64 hex characters. The first 16 are the
 * selector (the indexed lookup key), the other 48 (192 bits) the secret, compared in constant
 * time, so how long a lookup takes says nothing about the secret. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"
#include "vmscope/error.h"
#include "vmscope/store_watch.h"
#include "vmscope/util.h"

#define SELECTOR_LEN 16
#define SECRET_LEN (VMS_SHARE_TOKEN_LEN - SELECTOR_LEN)

/* A token is exactly VMS_SHARE_TOKEN_LEN lowercase hex digits. */
static int token_wellformed(const char *t)
{
	size_t i = 0;
	for (; i <= VMS_SHARE_TOKEN_LEN && t[i]; i++)
		if (!((t[i] >= '0' && t[i] <= '9') || (t[i] >= 'a' && t[i] <= 'f')))
			return 0;
	return i == VMS_SHARE_TOKEN_LEN;
}

static int const_eq(const char *a, const char *b, size_t n)
{
	unsigned char d = 0;
	for (size_t i = 0; i < n; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

/* The two kinds of share: of a snapshot (table shares) and of a watch's timeline (table
 * watch_shares, schema 8). The same columns and the same token model; a token of one kind is
 * unknown to the other's lookups. */
struct share_table {
	enum vms_stmt exists, insert, get, view, revoke, list;
	int watch; /* 1: the row's target is a watch (vms_share.watch_id) */
};
static const struct share_table snapshot_shares = {VMS_ST_EXISTS,
                                                   VMS_ST_SHARE_INSERT,
                                                   VMS_ST_SHARE_GET,
                                                   VMS_ST_SHARE_VIEW,
                                                   VMS_ST_SHARE_REVOKE,
                                                   VMS_ST_SHARE_LIST,
                                                   0};
static const struct share_table watch_shares = {VMS_ST_WATCH_EXISTS,
                                                VMS_ST_WSHARE_INSERT,
                                                VMS_ST_WSHARE_GET,
                                                VMS_ST_WSHARE_VIEW,
                                                VMS_ST_WSHARE_REVOKE,
                                                VMS_ST_WSHARE_LIST,
                                                1};

/* Columns 1..6 of a share row (SHARE_GET, SHARE_LIST): snapshot (or watch) id, omit_cmdline,
 * created, expires (0 = never), views, max_views (0 = none). */
static void fill_share_cols(sqlite3_stmt *q, const struct share_table *tb, struct vms_share *out)
{
	if (tb->watch)
		out->watch_id = sqlite3_column_int64(q, 1);
	else
		out->snapshot_id = sqlite3_column_int64(q, 1);
	out->omit_cmdline = sqlite3_column_int(q, 2);
	out->created_at_ms = sqlite3_column_int64(q, 3);
	out->expires_at_ms = sqlite3_column_int64(q, 4);
	out->views = sqlite3_column_int64(q, 5);
	out->max_views = sqlite3_column_int64(q, 6);
}

static void fill_share(sqlite3_stmt *q, const struct share_table *tb, struct vms_share *out)
{
	const unsigned char *t = sqlite3_column_text(q, 0);
	memset(out, 0, sizeof *out); /* a list's new slot: the other kind's id stays 0 */
	snprintf(out->token, sizeof out->token, "%s", t ? (const char *)t : "");
	fill_share_cols(q, tb, out);
}

int vms_share_gone(const struct vms_share *sh, int64_t now_ms)
{
	if (sh->expires_at_ms > 0 && now_ms >= sh->expires_at_ms)
		return 1;
	if (sh->max_views > 0 && sh->views >= sh->max_views)
		return 2;
	return 0;
}

int vms_store_share_create(struct vms_store *st, int64_t id, int omit_cmdline, struct vms_share *out)
{
	const struct vms_share_spec spec = {.omit_cmdline = omit_cmdline};
	return vms_store_share_create_spec(st, id, &spec, out);
}

/* Bind a positive value, or NULL for 0 ("never", "no limit"). */
static int bind_opt(sqlite3_stmt *q, int i, int64_t v)
{
	return v > 0 ? sqlite3_bind_int64(q, i, v) : sqlite3_bind_null(q, i);
}

static int share_create(struct vms_store *st, const struct share_table *tb, int64_t id,
                        const struct vms_share_spec *spec, struct vms_share *out)
{
	int err;
	sqlite3_stmt *q = NULL;
	memset(out, 0, sizeof *out);
	if (!st || id <= 0)
		return VMS_ERR_NOT_FOUND;
	if (spec->lifetime_ms < 0 || spec->max_views < 0 || spec->lifetime_ms > INT64_MAX / 2)
		return VMS_ERR_INVALID;
	if ((err = vms_random_hex(out->token, VMS_SHARE_TOKEN_LEN / 2)) != VMS_OK)
		return err;
	if (tb->watch)
		out->watch_id = id;
	else
		out->snapshot_id = id;
	out->omit_cmdline = spec->omit_cmdline ? 1 : 0;
	out->created_at_ms = vms_wall_ms();
	out->expires_at_ms = spec->lifetime_ms > 0 ? out->created_at_ms + spec->lifetime_ms : 0;
	out->max_views = spec->max_views;

	if ((err = vms_store_write_begin(st)) != VMS_OK)
		goto out;
	struct vms_conn *w = &st->writer;
	if (!(q = vms_conn_stmt(w, tb->exists)) || sqlite3_bind_int64(q, 1, id) != SQLITE_OK) {
		err = VMS_ERR_IO;
		goto end;
	}
	int rc = sqlite3_step(q);
	sqlite3_reset(q);
	if (rc != SQLITE_ROW) {
		err = rc == SQLITE_DONE ? VMS_ERR_NOT_FOUND : vms_store_err(rc);
		goto end;
	}
	if (!(q = vms_conn_stmt(w, tb->insert)) ||
	    sqlite3_bind_text(q, 1, out->token, SELECTOR_LEN, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(q, 2, out->token + SELECTOR_LEN, SECRET_LEN, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(q, 3, id) != SQLITE_OK ||
	    sqlite3_bind_int(q, 4, out->omit_cmdline) != SQLITE_OK ||
	    sqlite3_bind_int64(q, 5, out->created_at_ms) != SQLITE_OK ||
	    bind_opt(q, 6, out->expires_at_ms) != SQLITE_OK || bind_opt(q, 7, out->max_views) != SQLITE_OK) {
		err = VMS_ERR_IO;
		goto end;
	}
	err = vms_store_step_done(q);
end:
	err = vms_store_write_end(st, err);
out:
	if (err != VMS_OK)
		memset(out, 0, sizeof *out);
	return err;
}

int vms_store_share_create_spec(struct vms_store *st, int64_t id, const struct vms_share_spec *spec,
                                struct vms_share *out)
{
	return share_create(st, &snapshot_shares, id, spec, out);
}

int vms_store_watch_share_create(struct vms_store *st, int64_t watch_id, const struct vms_share_spec *spec,
                                 struct vms_share *out)
{
	return share_create(st, &watch_shares, watch_id, spec, out);
}

/* Look the selector up on connection c and check the secret. */
static int share_get(struct vms_conn *c, const struct share_table *tb, const char *token,
                     struct vms_share *out)
{
	int err;
	sqlite3_stmt *q = vms_conn_stmt(c, tb->get);
	if (!q || sqlite3_bind_text(q, 1, token, SELECTOR_LEN, SQLITE_STATIC) != SQLITE_OK)
		return VMS_ERR_IO;
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		const char *secret = (const char *)sqlite3_column_text(q, 0);
		if (secret && strlen(secret) == SECRET_LEN &&
		    const_eq(secret, token + SELECTOR_LEN, SECRET_LEN)) {
			memcpy(out->token, token, VMS_SHARE_TOKEN_LEN);
			out->token[VMS_SHARE_TOKEN_LEN] = '\0';
			fill_share_cols(q, tb, out);
			err = VMS_OK;
		} else {
			err = VMS_ERR_NOT_FOUND;
		}
	} else {
		err = rc == SQLITE_DONE ? VMS_ERR_NOT_FOUND : vms_store_err(rc);
	}
	sqlite3_reset(q);
	return err;
}

static int share_get_any(struct vms_store *st, const struct share_table *tb, const char *token,
                         struct vms_share *out)
{
	memset(out, 0, sizeof *out);
	if (!st || !token || !token_wellformed(token))
		return VMS_ERR_NOT_FOUND;
	struct vms_conn *c = vms_store_reader(st);
	int err = share_get(c, tb, token, out);
	vms_store_reader_put(st, c);
	return err;
}

int vms_store_share_get(struct vms_store *st, const char *token, struct vms_share *out)
{
	return share_get_any(st, &snapshot_shares, token, out);
}

int vms_store_watch_share_get(struct vms_store *st, const char *token, struct vms_share *out)
{
	return share_get_any(st, &watch_shares, token, out);
}

static int share_view(struct vms_store *st, const struct share_table *tb, const char *token, int64_t now_ms,
                      struct vms_share *out, int *counted)
{
	int err;
	memset(out, 0, sizeof *out);
	*counted = 0;
	if (!st || !token || !token_wellformed(token))
		return VMS_ERR_NOT_FOUND;
	if ((err = vms_store_write_begin(st)) != VMS_OK)
		return err;
	struct vms_conn *w = &st->writer;
	if ((err = share_get(w, tb, token, out)) != VMS_OK || vms_share_gone(out, now_ms))
		goto end;
	sqlite3_stmt *q = vms_conn_stmt(w, tb->view);
	if (!q || sqlite3_bind_text(q, 1, token, SELECTOR_LEN, SQLITE_STATIC) != SQLITE_OK) {
		err = VMS_ERR_IO;
		goto end;
	}
	if ((err = vms_store_step_done(q)) == VMS_OK) {
		out->views++;
		*counted = 1;
	}
end:
	return vms_store_write_end(st, err);
}

int vms_store_share_view(struct vms_store *st, const char *token, int64_t now_ms, struct vms_share *out,
                         int *counted)
{
	return share_view(st, &snapshot_shares, token, now_ms, out, counted);
}

int vms_store_watch_share_view(struct vms_store *st, const char *token, int64_t now_ms, struct vms_share *out,
                               int *counted)
{
	return share_view(st, &watch_shares, token, now_ms, out, counted);
}

/* Revoke a token of the table tb. */
static int share_revoke(struct vms_store *st, const struct share_table *tb, const char *token)
{
	struct vms_share sh;
	int err;
	if ((err = vms_store_write_begin(st)) != VMS_OK)
		return err;
	struct vms_conn *w = &st->writer;
	if ((err = share_get(w, tb, token, &sh)) != VMS_OK)
		goto end;
	sqlite3_stmt *q = vms_conn_stmt(w, tb->revoke);
	if (!q || sqlite3_bind_text(q, 1, token, SELECTOR_LEN, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(q, 2, vms_wall_ms()) != SQLITE_OK) {
		err = VMS_ERR_IO;
		goto end;
	}
	err = vms_store_step_done(q);
end:
	return vms_store_write_end(st, err);
}

/* A token is a snapshot's or a watch's: revoke whichever it is. */
int vms_store_share_revoke(struct vms_store *st, const char *token)
{
	if (!st || !token || !token_wellformed(token))
		return VMS_ERR_NOT_FOUND;
	int err = share_revoke(st, &snapshot_shares, token);
	return err == VMS_ERR_NOT_FOUND ? share_revoke(st, &watch_shares, token) : err;
}

static int share_list(struct vms_store *st, const struct share_table *tb, int64_t id, struct vms_share **out,
                      size_t *n)
{
	int err = VMS_OK, rc;
	size_t cap = 0;
	*out = NULL;
	*n = 0;
	struct vms_conn *c = vms_store_reader(st);
	sqlite3_stmt *q = vms_conn_stmt(c, tb->list);
	if (!q || sqlite3_bind_int64(q, 1, id) != SQLITE_OK) {
		err = VMS_ERR_IO;
		goto out;
	}
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (VMS_GROW(*out, *n, cap, 8)) {
			err = VMS_ERR_NOMEM;
			goto out;
		}
		fill_share(q, tb, &(*out)[(*n)++]);
	}
	if (rc != SQLITE_DONE)
		err = vms_store_err(rc);
out:
	if (q)
		sqlite3_reset(q);
	vms_store_reader_put(st, c);
	if (err != VMS_OK) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return err;
}

int vms_store_share_list(struct vms_store *st, int64_t id, struct vms_share **out, size_t *n)
{
	return share_list(st, &snapshot_shares, id, out, n);
}

int vms_store_watch_share_list(struct vms_store *st, int64_t watch_id, struct vms_share **out, size_t *n)
{
	return share_list(st, &watch_shares, watch_id, out, n);
}

int vms_store_watch_has_snapshot(struct vms_store *st, int64_t watch_id, int64_t snapshot_id)
{
	int err = VMS_OK;
	struct vms_conn *c = vms_store_reader(st);
	sqlite3_stmt *q = vms_conn_stmt(c, VMS_ST_WATCH_HAS_SNAPSHOT);
	if (!q || sqlite3_bind_int64(q, 1, watch_id) != SQLITE_OK ||
	    sqlite3_bind_int64(q, 2, snapshot_id) != SQLITE_OK) {
		err = VMS_ERR_IO;
		goto out;
	}
	int rc = sqlite3_step(q);
	err = rc == SQLITE_ROW ? VMS_OK : rc == SQLITE_DONE ? VMS_ERR_NOT_FOUND : vms_store_err(rc);
out:
	if (q)
		sqlite3_reset(q);
	vms_store_reader_put(st, c);
	return err;
}
