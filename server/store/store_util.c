/* Small helpers every store file uses (store_internal.h): a text column copied, a growing array,
 * two ids bound. */
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"
#include "vmscope/error.h"

char *vms_store_col_dup(sqlite3_stmt *q, int col, int *oom)
{
	const unsigned char *t = sqlite3_column_text(q, col);
	char *d = strdup(t ? (const char *)t : "");
	if (!d)
		*oom = 1;
	return d;
}

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
