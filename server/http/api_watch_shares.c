/* Share links of a watch's timeline (issue 10): POST /watches/{id}/share and GET
 * /watches/{id}/shares (token), and the public read-only routes under
 * /api/v1/shared/{token}/watch: the watch, its samples, what grew, and the full snapshots its
 * samples point to (one at a time or the diff of two). A watch token opens that watch's
 * stored timeline and nothing else: no live process, no other watch or snapshot, no long poll;
 * it expires, counts views and is revoked like a snapshot's (DELETE /shares/{token}). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_internal.h"
#include "vmscope/error.h"
#include "vmscope/store_watch.h"
#include "vmscope/util.h"

int vms_h_watch_share_create(struct vms_req *r)
{
	struct vms_share_opts o = {.omit_cmdline = 0, .share = 1};
	struct vms_share sh;
	int64_t id;
	int st;
	if ((st = vms_watch_param(r, &id)) != 0 || (st = vms_share_options(r, &o, 1)) != 0)
		return st;
	struct vms_share_spec spec = vms_share_spec_of(&o);
	int err = vms_store_watch_share_create(r->h->store, id, &spec, &sh);
	if ((st = vms_answer_store(r, err, "no watch %lld", (long long)id)) != 0)
		return st;
	vms_log(r->h, VMS_LOG_INFO, "shared watch %lld", (long long)id);
	return vms_send_json(r, 201, vms_share_json(r, &sh));
}

int vms_h_watch_share_list(struct vms_req *r)
{
	struct vms_share *sh = NULL;
	size_t n = 0;
	int64_t id;
	int st;
	if ((st = vms_watch_param(r, &id)) != 0)
		return st;
	int err = vms_store_watch_share_list(r->h->store, id, &sh, &n);
	return vms_send_share_list(r, err, sh, n);
}

/* GET /shared/{token}/watch: the watch as its owner sees it, less what belongs to this daemon
 * (its id and url, the sampler's state), with the link's terms. Opening it is a view. */
int vms_h_shared_watch(struct vms_req *r)
{
	struct vms_share sh;
	struct vms_watch w;
	int st = vms_share_resolve(r, &sh, 1, 1);
	if (st)
		return st;
	int err = vms_store_watch_get(r->h->store, sh.watch_id, &w);
	if (err != VMS_OK)
		return vms_send_vms_err(r, err, 0);
	cJSON *wj = vms_watch_json(r->h, &w);
	vms_watch_clear(&w);
	static const char *const own[] = {"id", "url", "sampler", NULL};
	return vms_send_shared_about(r, &sh, "watch_id", "watch", wj, own);
}

int vms_h_shared_watch_samples(struct vms_req *r)
{
	struct vms_share sh;
	int st = vms_share_resolve(r, &sh, 0, 1);
	return st ? st : vms_send_watch_samples(r, sh.watch_id, 0);
}

int vms_h_shared_watch_growth(struct vms_req *r)
{
	struct vms_share sh;
	int st = vms_share_resolve(r, &sh, 0, 1);
	return st ? st : vms_send_watch_growth(r, sh.watch_id, r->param[0]);
}

/* A snapshot id of the request (text) that must be one of the shared watch's full snapshots:
 * anything else is 404 as if it did not exist. */
static int own_snapshot(struct vms_req *r, const struct vms_share *sh, const char *text, const char *what,
                        int64_t *id)
{
	if (vms_parse_i64(text, 1, INT64_MAX, id) != 0)
		return vms_send_error(r, 400, "bad_id", "%s must be a snapshot id", what);
	int err = vms_store_watch_has_snapshot(r->h->store, sh->watch_id, *id);
	return vms_answer_store(r, err, "no full snapshot %lld in this timeline", (long long)*id);
}

int vms_h_shared_watch_snapshot(struct vms_req *r)
{
	struct vms_share sh;
	int64_t id;
	int st = vms_share_resolve(r, &sh, 0, 1);
	if (!st)
		st = own_snapshot(r, &sh, r->param[1], "the path", &id);
	return st ? st : vms_send_snapshot_json(r, id, sh.omit_cmdline);
}

int vms_h_shared_watch_diff(struct vms_req *r)
{
	struct vms_share sh;
	char from[32], to[32];
	int64_t a, b;
	int st = vms_share_resolve(r, &sh, 0, 1);
	if (st)
		return st;
	if (vms_query(r, "from", from, sizeof from) <= 0 || vms_query(r, "to", to, sizeof to) <= 0)
		return vms_send_error(r, 400, "bad_query", "?from= and ?to= must be snapshot ids");
	if ((st = own_snapshot(r, &sh, from, "?from=", &a)) != 0 ||
	    (st = own_snapshot(r, &sh, to, "?to=", &b)) != 0)
		return st;
	return vms_send_diff(r, a, b);
}
