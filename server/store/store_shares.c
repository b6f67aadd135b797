/* Share tokens: 256 random bits from getrandom(2), 64 hex characters. The first 16 are the
 * selector (the indexed lookup key), the other 48 (192 bits) the secret, compared in constant
 * time, so how long a lookup takes says nothing about the secret. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"
#include "vmscope/error.h"
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

static void fill_share(sqlite3_stmt *q, struct vms_share *out)
{
	const unsigned char *t = sqlite3_column_text(q, 0);
	snprintf(out->token, sizeof out->token, "%s", t ? (const char *)t : "");
	out->snapshot_id = sqlite3_column_int64(q, 1);
	out->omit_cmdline = sqlite3_column_int(q, 2);
	out->created_at_ms = sqlite3_column_int64(q, 3);
}

int vms_store_share_create(struct vms_store *st, int64_t id, int omit_cmdline, struct vms_share *out)
{
	int err;
	sqlite3_stmt *q = NULL;
	memset(out, 0, sizeof *out);
	if (!st || id <= 0)
		return VMS_ERR_NOT_FOUND;
	if ((err = vms_random_hex(out->token, VMS_SHARE_TOKEN_LEN / 2)) != VMS_OK)
		return err;
	out->snapshot_id = id;
	out->omit_cmdline = omit_cmdline ? 1 : 0;
	out->created_at_ms = vms_store_now_ms();

	if ((err = vms_store_write_begin(st)) != VMS_OK)
		goto out;
	struct vms_conn *w = &st->writer;
	if (!(q = vms_conn_stmt(w, VMS_ST_EXISTS)) || sqlite3_bind_int64(q, 1, id) != SQLITE_OK) {
		err = VMS_ERR_IO;
		goto end;
	}
	int rc = sqlite3_step(q);
	sqlite3_reset(q);
	if (rc != SQLITE_ROW) {
		err = rc == SQLITE_DONE ? VMS_ERR_NOT_FOUND : vms_store_err(rc);
		goto end;
	}
	if (!(q = vms_conn_stmt(w, VMS_ST_SHARE_INSERT)) ||
	    sqlite3_bind_text(q, 1, out->token, SELECTOR_LEN, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(q, 2, out->token + SELECTOR_LEN, SECRET_LEN, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(q, 3, id) != SQLITE_OK ||
	    sqlite3_bind_int(q, 4, out->omit_cmdline) != SQLITE_OK ||
	    sqlite3_bind_int64(q, 5, out->created_at_ms) != SQLITE_OK) {
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

/* Look the selector up on connection c and check the secret. */
static int share_get(struct vms_conn *c, const char *token, struct vms_share *out)
{
	int err;
	sqlite3_stmt *q = vms_conn_stmt(c, VMS_ST_SHARE_GET);
	if (!q || sqlite3_bind_text(q, 1, token, SELECTOR_LEN, SQLITE_STATIC) != SQLITE_OK)
		return VMS_ERR_IO;
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		const char *secret = (const char *)sqlite3_column_text(q, 0);
		if (secret && strlen(secret) == SECRET_LEN &&
		    const_eq(secret, token + SELECTOR_LEN, SECRET_LEN)) {
			memcpy(out->token, token, VMS_SHARE_TOKEN_LEN);
			out->token[VMS_SHARE_TOKEN_LEN] = '\0';
			out->snapshot_id = sqlite3_column_int64(q, 1);
			out->omit_cmdline = sqlite3_column_int(q, 2);
			out->created_at_ms = sqlite3_column_int64(q, 3);
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

int vms_store_share_get(struct vms_store *st, const char *token, struct vms_share *out)
{
	memset(out, 0, sizeof *out);
	if (!st || !token || !token_wellformed(token))
		return VMS_ERR_NOT_FOUND;
	struct vms_conn *c = vms_store_reader(st);
	int err = share_get(c, token, out);
	vms_store_reader_put(st, c);
	return err;
}

int vms_store_share_revoke(struct vms_store *st, const char *token)
{
	struct vms_share sh;
	int err;
	if (!st || !token || !token_wellformed(token))
		return VMS_ERR_NOT_FOUND;
	if ((err = vms_store_write_begin(st)) != VMS_OK)
		return err;
	struct vms_conn *w = &st->writer;
	if ((err = share_get(w, token, &sh)) != VMS_OK)
		goto end;
	sqlite3_stmt *q = vms_conn_stmt(w, VMS_ST_SHARE_REVOKE);
	if (!q || sqlite3_bind_text(q, 1, token, SELECTOR_LEN, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(q, 2, vms_store_now_ms()) != SQLITE_OK) {
		err = VMS_ERR_IO;
		goto end;
	}
	err = vms_store_step_done(q);
end:
	return vms_store_write_end(st, err);
}

int vms_store_share_list(struct vms_store *st, int64_t id, struct vms_share **out, size_t *n)
{
	int err = VMS_OK, rc;
	size_t cap = 0;
	*out = NULL;
	*n = 0;
	struct vms_conn *c = vms_store_reader(st);
	sqlite3_stmt *q = vms_conn_stmt(c, VMS_ST_SHARE_LIST);
	if (!q || sqlite3_bind_int64(q, 1, id) != SQLITE_OK) {
		err = VMS_ERR_IO;
		goto out;
	}
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (VMS_GROW(*out, *n, cap, 8)) {
			err = VMS_ERR_NOMEM;
			goto out;
		}
		fill_share(q, &(*out)[(*n)++]);
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
