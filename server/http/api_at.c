/* What is at an address: GET .../at/{addr} answers one address, POST .../at with
 * {"addresses": ["0x7f...", ...]} (at most VMS_AT_MAX, e.g. a stack trace pasted from a log)
 * answers {"results": [...]} in the same order, for a live process, a stored snapshot and a
 * share link (docs/api.md). Image files are read only where they are the mapped ones: a live
 * process's through its root; a stored snapshot's on this host only when it was taken here
 * (not imported, same host name) and the inode still matches; never for a share link. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_internal.h"
#include "vmscope/imageinfo.h"
#include "vmscope/json.h"

#define VMS_AT_MAX 256

/* The addresses of the POST body into *addrs (malloc'd), or the status of the 400/413 sent. */
static int body_addresses(struct vms_req *r, uint64_t **addrs, size_t *n)
{
	char *body = NULL;
	size_t len = 0;
	int st = vms_read_body(r, &body, &len);
	*addrs = NULL;
	*n = 0;
	if (st)
		return st;
	if (!body) {
		st = vms_send_error(r, 400, "bad_json",
		                    "the body is {\"addresses\": [\"0x7f15d8fd4000\", ...]}");
		goto out;
	}
	if ((st = vms_json_depth_ok(r, body, len)) != 0)
		goto out;
	cJSON *j = cJSON_ParseWithOpts(body, NULL, 0);
	cJSON *arr = cJSON_GetObjectItemCaseSensitive(j, "addresses");
	int count = cJSON_IsArray(arr) ? cJSON_GetArraySize(arr) : -1;
	if (count < 1 || count > VMS_AT_MAX) {
		st = vms_send_error(r, 400, count < 0 ? "bad_json" : "bad_address",
		                    count < 0 ? "the body is {\"addresses\": [\"0x7f15d8fd4000\", ...]}"
		                              : "between 1 and %d addresses",
		                    VMS_AT_MAX);
		cJSON_Delete(j);
		goto out;
	}
	if (!(*addrs = calloc((size_t)count, sizeof **addrs))) {
		cJSON_Delete(j);
		st = vms_send_vms_err(r, VMS_ERR_NOMEM, 0);
		goto out;
	}
	const cJSON *it;
	cJSON_ArrayForEach(it, arr)
	{
		const char *t = cJSON_GetStringValue(it);
		if (!t || (st = vms_param_addr(r, t, &(*addrs)[*n])) != 0) {
			if (!t)
				st =
				    vms_send_error(r, 400, "bad_address",
				                   "address %zu is not a string like \"0x7f15d8fd4000\"", *n);
			free(*addrs);
			*addrs = NULL;
			*n = 0;
			break;
		}
		++*n;
	}
	cJSON_Delete(j);
out:
	free(body);
	return st;
}

/* The addresses: GET's one, or the POST body's list. */
static int addresses(struct vms_req *r, const char *addr_text, uint64_t **addrs, size_t *n)
{
	if (!addr_text)
		return body_addresses(r, addrs, n);
	if (!(*addrs = malloc(sizeof **addrs)))
		return vms_send_vms_err(r, VMS_ERR_NOMEM, 0);
	*n = 1;
	int st = vms_param_addr(r, addr_text, *addrs);
	if (st) {
		free(*addrs);
		*addrs = NULL;
	}
	return st;
}

/* Answer addrs of s: the object for a GET (one == 1), else {"results": [...]}. root == NULL:
 * no file is read. */
static int send_lookups(struct vms_req *r, const struct vms_snapshot *s, const char *root, unsigned flags,
                        const uint64_t *addrs, size_t n, int one)
{
	cJSON *out = one ? NULL : cJSON_CreateObject();
	cJSON *arr = out ? cJSON_AddArrayToObject(out, "results") : NULL;
	if (!one && !arr) {
		cJSON_Delete(out);
		return vms_send_vms_err(r, VMS_ERR_NOMEM, 0);
	}
	for (size_t k = 0; k < n; k++) {
		struct vms_lookup l;
		struct vms_image_info img;
		vms_snapshot_lookup(s, addrs[k], &l);
		if (root && vms_image_lookup(s, addrs[k], root, flags, r->h->file_cache, &img) != VMS_OK) {
			cJSON_Delete(out);
			return vms_send_vms_err(r, VMS_ERR_NOMEM, 0);
		}
		cJSON *o = vms_json_lookup(s, addrs[k], &l, root ? &img : NULL);
		if (one)
			return vms_send_json(r, 200, o);
		if (!o || !cJSON_AddItemToArray(arr, o)) {
			cJSON_Delete(o);
			cJSON_Delete(out);
			return vms_send_vms_err(r, VMS_ERR_NOMEM, 0);
		}
	}
	return vms_send_json(r, 200, out);
}

static int send_process_at(struct vms_req *r, const char *addr_text)
{
	struct vms_snapshot *s = NULL;
	uint64_t *addrs = NULL;
	size_t n = 0;
	int pid, st, peek = 1;
	if ((st = vms_param_pid(r, r->param[0], &pid)) != 0 ||
	    (st = addresses(r, addr_text, &addrs, &n)) != 0 || (st = vms_query_bool(r, "peek", &peek)) != 0 ||
	    (st = vms_scan(r, pid, peek, &s)) != 0)
		goto out;
	/* the image's file as the process sees it (its root, its mount namespace) */
	char root[48];
	snprintf(root, sizeof root, "/proc/%d/root", pid);
	st = send_lookups(r, s, root, VMS_IMAGE_CHECK_INODE | VMS_IMAGE_LIVE, addrs, n, addr_text != NULL);
out:
	vms_snapshot_free(s);
	free(addrs);
	return st;
}

int vms_send_snapshot_at(struct vms_req *r, int64_t id, const char *addr_text, int read_files)
{
	struct vms_snapshot *s = NULL;
	struct vms_snapshot_meta m;
	uint64_t *addrs = NULL;
	size_t n = 0;
	int st, imported = 0;
	if ((st = addresses(r, addr_text, &addrs, &n)) != 0)
		return st;
	int err = vms_store_meta(r->h->store, id, &m);
	if (err == VMS_OK) {
		imported = m.source == VMS_SOURCE_IMPORT;
		vms_snapshot_meta_clear(&m);
		err = vms_store_load(r->h->store, id, &s);
	}
	if (err == VMS_ERR_NOT_FOUND)
		st = vms_send_error(r, 404, "not_found", "no snapshot %lld", (long long)id);
	else if (err != VMS_OK)
		st = vms_send_vms_err(r, err, 0);
	else /* an imported snapshot names another machine's files: a matching inode is chance */
		st = send_lookups(r, s, read_files ? "/" : NULL, vms_image_stored_flags(s, imported), addrs,
		                  n, addr_text != NULL);
	vms_snapshot_free(s);
	free(addrs);
	return st;
}

int vms_h_process_at(struct vms_req *r)
{
	return send_process_at(r, r->param[1]);
}

int vms_h_process_at_many(struct vms_req *r)
{
	return send_process_at(r, NULL);
}

int vms_h_snapshot_at_many(struct vms_req *r)
{
	int64_t id;
	int st = vms_param_id(r, r->param[0], &id);
	return st ? st : vms_send_snapshot_at(r, id, NULL, 1);
}
