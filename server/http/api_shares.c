/* Share links: create / list / revoke (authenticated) and the public read-only routes under
 * /api/v1/shared/{token}. A share token grants its one snapshot and nothing else. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_internal.h"
#include "vmscope/error.h"

int vms_h_share_create(struct vms_req *r)
{
	struct vms_share_opts o = {.omit_cmdline = 0, .share = 1};
	struct vms_share sh;
	int64_t id;
	int st;
	if ((st = vms_param_id(r, r->param[0], &id)) != 0 || (st = vms_share_options(r, &o, 1)) != 0)
		return st;
	int err = vms_store_share_create(r->h->store, id, o.omit_cmdline, &sh);
	if (err == VMS_ERR_NOT_FOUND)
		return vms_send_error(r, 404, "not_found", "no snapshot %lld", (long long)id);
	if (err != VMS_OK)
		return vms_send_vms_err(r, err, 0);
	return vms_send_json(r, 201, vms_share_json(r, &sh));
}

int vms_h_share_list(struct vms_req *r)
{
	struct vms_snapshot_meta m;
	struct vms_share *sh = NULL;
	size_t n = 0;
	int64_t id;
	int st;
	if ((st = vms_param_id(r, r->param[0], &id)) != 0)
		return st;
	int err = vms_store_meta(r->h->store, id, &m);
	if (err == VMS_ERR_NOT_FOUND)
		return vms_send_error(r, 404, "not_found", "no snapshot %lld", (long long)id);
	if (err != VMS_OK)
		return vms_send_vms_err(r, err, 0);
	vms_snapshot_meta_clear(&m);
	if ((err = vms_store_share_list(r->h->store, id, &sh, &n)) != VMS_OK)
		return vms_send_vms_err(r, err, 0);
	cJSON *root = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(root, "shares");
	for (size_t i = 0; arr && i < n; i++)
		cJSON_AddItemToArray(arr, vms_share_json(r, &sh[i]));
	free(sh);
	return vms_send_json(r, 200, root);
}

int vms_h_share_revoke(struct vms_req *r)
{
	char *body = NULL;
	size_t len;
	int st = vms_read_body(r, &body, &len);
	if (st)
		return st;
	free(body);
	int err = vms_store_share_revoke(r->h->store, r->param[0]);
	if (err == VMS_ERR_NOT_FOUND)
		return vms_send_error(r, 404, "not_found", "no such share (unknown or already revoked)");
	if (err != VMS_OK)
		return vms_send_vms_err(r, err, 0);
	vms_log(r->h, VMS_LOG_INFO, "revoked a share");
	return vms_send(r, 204, NULL, NULL, 0, NULL);
}

/* Resolve the share token of a public route; 404 for anything not a live share. */
static int resolve(struct vms_req *r, struct vms_share *sh)
{
	int err = vms_store_share_get(r->h->store, r->param[0], sh);
	if (err == VMS_ERR_NOT_FOUND)
		return vms_send_error(r, 404, "not_found", "this share link does not exist or was revoked");
	if (err != VMS_OK)
		return vms_send_vms_err(r, err, 0);
	return 0;
}

int vms_h_shared_get(struct vms_req *r)
{
	struct vms_share sh;
	int st = resolve(r, &sh);
	return st ? st : vms_send_snapshot_json(r, sh.snapshot_id, sh.omit_cmdline);
}

int vms_h_shared_csv(struct vms_req *r)
{
	struct vms_share sh;
	int st = resolve(r, &sh);
	return st ? st : vms_send_snapshot_export(r, sh.snapshot_id, sh.omit_cmdline, 1);
}

int vms_h_shared_txt(struct vms_req *r)
{
	struct vms_share sh;
	int st = resolve(r, &sh);
	return st ? st : vms_send_snapshot_export(r, sh.snapshot_id, sh.omit_cmdline, 0);
}

int vms_h_shared_at(struct vms_req *r)
{
	struct vms_share sh;
	int st = resolve(r, &sh);
	return st ? st : vms_send_snapshot_at(r, sh.snapshot_id, r->param[1], 0);
}

int vms_h_shared_at_many(struct vms_req *r)
{
	struct vms_share sh;
	int st = resolve(r, &sh);
	return st ? st : vms_send_snapshot_at(r, sh.snapshot_id, NULL, 0);
}
