/* Share links: create / list / revoke (authenticated) and the public read-only routes under
 * /api/v1/shared/{token}. A share token grants its one snapshot and nothing else. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_internal.h"
#include "vmscope/error.h"
#include "vmscope/store_watch.h"
#include "vmscope/util.h"

int vms_h_share_create(struct vms_req *r)
{
	struct vms_share_opts o = {.omit_cmdline = 0, .share = 1};
	struct vms_share sh;
	int64_t id;
	int st;
	if ((st = vms_param_id(r, r->param[0], &id)) != 0 || (st = vms_share_options(r, &o, 1)) != 0)
		return st;
	struct vms_share_spec spec = vms_share_spec_of(&o);
	int err = vms_store_share_create_spec(r->h->store, id, &spec, &sh);
	if ((st = vms_answer_store(r, err, "no snapshot %lld", (long long)id)) != 0)
		return st;
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
	if ((st = vms_answer_store(r, err, "no snapshot %lld", (long long)id)) != 0)
		return st;
	vms_snapshot_meta_clear(&m);
	err = vms_store_share_list(r->h->store, id, &sh, &n);
	return vms_send_share_list(r, err, sh, n);
}

int vms_send_share_list(struct vms_req *r, int err, struct vms_share *sh, size_t n)
{
	if (err != VMS_OK)
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
	if ((st = vms_answer_store(r, err, "no such share (unknown or already revoked)")) != 0)
		return st;
	vms_log(r->h, VMS_LOG_INFO, "revoked a share");
	return vms_send(r, 204, NULL, NULL, 0, NULL);
}

/* 410 for a link that expired or was used up: the holder learns that it existed, not what it
 * showed. */
int vms_send_share_gone(struct vms_req *r, const struct vms_share *sh, int gone)
{
	char when[32];
	if (gone == 2)
		return vms_send_error(r, 410, "gone",
		                      "this share link was opened the %lld times it allowed; ask whoever "
		                      "sent it for a new one",
		                      (long long)sh->max_views);
	vms_format_time_ms(sh->expires_at_ms, when, sizeof when);
	return vms_send_error(r, 410, "expired",
	                      "this share link expired at %s; ask whoever sent it for a new one", when);
}

/* Resolve the share token of a public route; 404 for anything not a share, 410 for one that
 * expired or was used up. count: this read of the snapshot counts as a view. */
static int resolve(struct vms_req *r, struct vms_share *sh, int count)
{
	return vms_share_resolve(r, sh, count, 0);
}

int vms_share_resolve(struct vms_req *r, struct vms_share *sh, int count, int watch)
{
	int64_t now = vms_wall_ms();
	int counted = 0;
	struct vms_store *store = r->h->store;
	const char *tok = r->param[0];
	int err = watch   ? count ? vms_store_watch_share_view(store, tok, now, sh, &counted)
	                          : vms_store_watch_share_get(store, tok, sh)
	            : count ? vms_store_share_view(store, tok, now, sh, &counted)
	                  : vms_store_share_get(store, tok, sh);
	int st = vms_answer_store(r, err, "this share link does not exist or was revoked");
	if (st)
		return st;
	int gone = counted ? 0 : vms_share_gone(sh, now); /* the view that used the last one is served */
	return gone ? vms_send_share_gone(r, sh, gone) : 0;
}

int vms_h_shared_get(struct vms_req *r)
{
	struct vms_share sh;
	int st = resolve(r, &sh, 1);
	return st ? st : vms_send_snapshot_json(r, sh.snapshot_id, sh.omit_cmdline);
}

int vms_h_shared_csv(struct vms_req *r)
{
	struct vms_share sh;
	int st = resolve(r, &sh, 1);
	return st ? st : vms_send_snapshot_export(r, sh.snapshot_id, sh.omit_cmdline, 1);
}

int vms_h_shared_txt(struct vms_req *r)
{
	struct vms_share sh;
	int st = resolve(r, &sh, 1);
	return st ? st : vms_send_snapshot_export(r, sh.snapshot_id, sh.omit_cmdline, 0);
}

int vms_h_shared_html(struct vms_req *r)
{
	struct vms_share sh;
	int st = resolve(r, &sh, 1);
	return st ? st : vms_send_snapshot_export(r, sh.snapshot_id, sh.omit_cmdline, VMS_EXPORT_HTML);
}

/* An address lookup is part of looking at the snapshot already opened: not a view. */
int vms_h_shared_at(struct vms_req *r)
{
	struct vms_share sh;
	int st = resolve(r, &sh, 0);
	return st ? st : vms_send_snapshot_at(r, sh.snapshot_id, r->param[1], 0);
}

/* GET /api/v1/shared/{token}/about: what the share page says above the snapshot: who shared it
 * (host, process, when it was taken and shared), that it is read-only, and until when. Not a
 * view of the snapshot. */
int vms_h_shared_about(struct vms_req *r)
{
	struct vms_share sh;
	struct vms_snapshot_meta m;
	int st = resolve(r, &sh, 0);
	if (st)
		return st;
	int err = vms_store_meta(r->h->store, sh.snapshot_id, &m);
	if (err != VMS_OK)
		return vms_send_vms_err(r, err, 0);
	cJSON *snap = vms_meta_json(&m);
	vms_snapshot_meta_clear(&m);
	static const char *const heavy[] = {"id", "url", "summary", "total", "bytes", "json_bytes", NULL};
	cJSON *p = sh.omit_cmdline ? cJSON_GetObjectItem(snap, "process") : NULL;
	if (p)
		cJSON_ReplaceItemInObject(p, "cmdline", cJSON_CreateNull());
	return vms_send_shared_about(r, &sh, "snapshot_id", "snapshot", snap, heavy);
}

int vms_send_shared_about(struct vms_req *r, const struct vms_share *s, const char *id_key, const char *key,
                          cJSON *item, const char *const *drop)
{
	cJSON *root = vms_share_json(r, s);
	if (!root || !item) {
		cJSON_Delete(root);
		cJSON_Delete(item);
		return vms_send_json(r, 200, NULL);
	}
	cJSON_DeleteItemFromObject(root, id_key);
	for (size_t i = 0; drop[i]; i++)
		cJSON_DeleteItemFromObject(item, drop[i]);
	cJSON_AddBoolToObject(root, "read_only", 1);
	cJSON_AddItemToObject(root, key, item);
	return vms_send_json(r, 200, root);
}

int vms_h_shared_at_many(struct vms_req *r)
{
	struct vms_share sh;
	int st = resolve(r, &sh, 0); /* a lookup is not a view */
	return st ? st : vms_send_snapshot_at(r, sh.snapshot_id, NULL, 0);
}
