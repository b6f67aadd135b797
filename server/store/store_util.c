/* Small helpers for the store's row loops (store_internal.h): a growing array, int64 lists
 * bound, one value queried, every row read. */
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"
#include "vmscope/error.h"

int vms_store_grow(void *arr, size_t *cap, size_t n, size_t elem)
{
	void **p = arr;
	if (n < *cap)
		return VMS_OK;
	size_t ncap = *cap ? *cap * 2 : 16;
	void *q = realloc(*p, ncap * elem);
	if (!q)
		return VMS_ERR_NOMEM;
	*p = q;
	*cap = ncap;
	return VMS_OK;
}

int vms_store_bind2(sqlite3_stmt *q, int64_t a, int64_t b)
{
	return q && sqlite3_bind_int64(q, 1, a) == SQLITE_OK && sqlite3_bind_int64(q, 2, b) == SQLITE_OK
	           ? VMS_OK
	           : VMS_ERR_IO;
}

int vms_store_bind_i64s(sqlite3_stmt *q, size_t n, const int64_t *v)
{
	if (!q)
		return VMS_ERR_IO;
	for (size_t i = 0; i < n; i++)
		if (sqlite3_bind_int64(q, (int)i + 1, v[i]) != SQLITE_OK)
			return VMS_ERR_IO;
	return VMS_OK;
}

int vms_store_query_i64(struct vms_conn *c, enum vms_stmt slot, size_t n, const int64_t *v, int64_t *out)
{
	sqlite3_stmt *q = vms_conn_stmt(c, slot);
	int err = vms_store_bind_i64s(q, n, v);
	if (err != VMS_OK)
		return err;
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(q, 0);
	sqlite3_reset(q);
	return rc == SQLITE_ROW ? VMS_OK : rc == SQLITE_DONE ? VMS_ERR_NOT_FOUND : vms_store_err(rc);
}

int vms_store_rows(sqlite3_stmt *q, void *arr, size_t *n, size_t elem,
                   int (*read)(sqlite3_stmt *q, void *item, void *ctx), void *ctx)
{
	size_t cap = *n;
	int rc, err = VMS_OK;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if ((err = vms_store_grow(arr, &cap, *n, elem)) != VMS_OK)
			break;
		if ((err = read(q, (char *)*(void **)arr + *n * elem, ctx)) != VMS_OK)
			break;
		(*n)++;
	}
	if (err == VMS_OK && rc != SQLITE_DONE)
		err = vms_store_err(rc);
	sqlite3_reset(q);
	return err;
}
