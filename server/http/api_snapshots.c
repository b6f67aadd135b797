/* /api/v1/snapshots: list, get (+ .csv/.txt), delete, import, address lookup; and
 * POST /api/v1/processes/{pid}/snapshots (scan and store). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_internal.h"
#include "vmscope/capture.h"
#include "vmscope/error.h"
#include "vmscope/export.h"
#include "vmscope/json.h"

/* 201 {"id","url","share_url","share","snapshot"(,"residency")} after a snapshot was stored;
 * residency (taken) is the stored residency's facts, or NULL. */
static int created(struct vms_req *r, int64_t id, const struct vms_share_opts *o, cJSON *residency)
{
	struct vms_snapshot_meta m;
	struct vms_share sh;
	char url[VMS_URL_MAX];
	int have_share = 0;

	if (__atomic_exchange_n(&r->h->disk_full_logged, 0, __ATOMIC_RELAXED))
		vms_log(r->h, VMS_LOG_INFO, "the disk holding the database has room again");
	if (o->share) {
		struct vms_share_spec spec = vms_share_spec_of(o);
		int err = vms_store_share_create_spec(r->h->store, id, &spec, &sh);
		if (err != VMS_OK)
			vms_log(r->h, VMS_LOG_ERROR, "sharing snapshot %lld: %s", (long long)id,
			        vms_strerror(err));
		else
			have_share = 1;
	}
	cJSON *root = vms_json_with_url("snapshots", id, url, sizeof url);
	if (!root) {
		cJSON_Delete(residency);
		return vms_send_json(r, 201, NULL);
	}
	if (residency)
		cJSON_AddItemToObject(root, "residency", residency);
	if (have_share) {
		cJSON *s = vms_share_json(r, &sh);
		cJSON_AddStringToObject(root, "share_url",
		                        cJSON_GetStringValue(cJSON_GetObjectItem(s, "url")));
		cJSON_AddItemToObject(root, "share", s);
	} else {
		cJSON_AddNullToObject(root, "share_url");
		cJSON_AddNullToObject(root, "share");
	}
	if (vms_store_meta(r->h->store, id, &m) == VMS_OK) {
		cJSON_AddItemToObject(root, "snapshot", vms_meta_json(&m));
		vms_snapshot_meta_clear(&m);
	}
	struct vms_header h[] = {{"Location", url}, {NULL, NULL}};
	return vms_send_json_x(r, 201, root, h);
}

/* Refuse early (before an expensive scan) when the count limit is already reached. */
static int full_already(struct vms_req *r)
{
	struct vms_store_usage u;
	if (vms_store_usage(r->h->store, &u) == VMS_OK &&
	    (u.snapshots >= u.max_snapshots || u.bytes >= u.max_bytes))
		return vms_send_vms_err(r, VMS_ERR_FULL, 0);
	return 0;
}

int vms_h_process_snapshot(struct vms_req *r)
{
	struct vms_share_opts o = {.omit_cmdline = 0, .share = 1, .peek = 1};
	struct vms_snapshot *s = NULL;
	int pid, st;
	int64_t id;
	unsigned char *res = NULL;
	size_t res_len = 0;
	cJSON *res_info = NULL;
	if ((st = vms_param_pid(r, r->param[0], &pid)) != 0 || (st = vms_share_options(r, &o, 1)) != 0 ||
	    (st = full_already(r)) != 0 || (st = vms_scan(r, pid, o.peek, &s)) != 0)
		return st;
	/* ?residency=1: the page residency too, read right after the scan (api_residency.c) */
	if ((st = vms_residency_for_snapshot(r, pid, s, &res, &res_len, &res_info)) != 0) {
		vms_snapshot_free(s);
		return st;
	}
	int err = res ? vms_store_put_with_residency(r->h->store, s, VMS_SOURCE_SCAN, res, res_len, &id)
	              : vms_store_put(r->h->store, s, VMS_SOURCE_SCAN, NULL, 0, &id);
	vms_snapshot_free(s);
	free(res);
	if (err != VMS_OK) {
		cJSON_Delete(res_info);
		return vms_send_vms_err(r, err, pid);
	}
	vms_log(r->h, VMS_LOG_INFO, "stored snapshot %lld of pid %d%s", (long long)id, pid,
	        res_info ? " with its page residency" : "");
	return created(r, id, &o, res_info);
}

/* Read and parse a posted snapshot document, capture (gzip or not) or bare smaps text
 * (vms_load_any; decompressed text up to the body limit). 0 with *out set, or the status
 * already sent. */
static int parse_posted(struct vms_req *r, struct vms_snapshot **out)
{
	char *body = NULL, errbuf[256] = "";
	size_t len = 0;
	int st;
	if ((st = vms_read_body(r, &body, &len)) != 0)
		return st;
	if (!len) {
		free(body);
		return vms_send_error(r, 400, "bad_json",
		                      "the body must be a snapshot JSON document, a capture or a smaps text");
	}
	size_t at = 0; /* JSON (not gzip, not smaps text): its depth first, as for every JSON body */
	while (at < len && (body[at] == ' ' || body[at] == '\t' || body[at] == '\n' || body[at] == '\r'))
		at++;
	if (at < len && (body[at] == '{' || body[at] == '[') && (st = vms_json_depth_ok(r, body, len)) != 0) {
		free(body);
		return st;
	}
	enum vms_load_kind kind = VMS_LOAD_SNAPSHOT;
	int err = vms_load_any(body, len, (size_t)r->h->max_body, NULL, out, &kind, errbuf, sizeof errbuf);
	free(body);
	if (err == VMS_ERR_INVALID)
		return vms_send_error(r, 400, "bad_json", "not a vmscope snapshot: %s",
		                      *errbuf ? errbuf : "invalid JSON");
	if (err == VMS_ERR_UNSUPPORTED)
		return vms_send_error(r, 400, "unsupported_version", "%s",
		                      *errbuf ? errbuf : "unsupported format_version");
	if (err != VMS_OK)
		return vms_send_vms_err(r, err, 0);
	return 0;
}

/* An import is private unless asked (?share=1): a file someone opened must not get a public
 * link as a side effect. */
int vms_h_snapshot_import(struct vms_req *r)
{
	struct vms_share_opts o = {.omit_cmdline = 0, .share = 0};
	struct vms_snapshot *s = NULL;
	int64_t id;
	int st;
	if ((st = vms_share_options(r, &o, 0)) != 0 || (st = parse_posted(r, &s)) != 0)
		return st;
	int err = vms_store_put(r->h->store, s, VMS_SOURCE_IMPORT, NULL, 0, &id);
	vms_snapshot_free(s);
	if (err != VMS_OK)
		return vms_send_vms_err(r, err, 0);
	vms_log(r->h, VMS_LOG_INFO, "imported snapshot %lld", (long long)id);
	return created(r, id, &o, NULL);
}

/* POST /export.csv, /export.txt, /export.html: the export of the posted document, stored nowhere
 * (the dashboard's Export of a live scan: what is on screen, not a later scan). */
static int export_posted(struct vms_req *r, int kind)
{
	struct vms_snapshot *s = NULL;
	char *text = NULL;
	const char *ctype, *ext;
	size_t len = 0;
	int st = parse_posted(r, &s);
	if (st)
		return st;
	int err = vms_export_render(s, kind, &text, &len, &ctype, &ext);
	vms_snapshot_free(s);
	if (err != VMS_OK)
		return vms_send_vms_err(r, err, 0);
	st = vms_send(r, 200, ctype, text, len, NULL);
	free(text);
	return st;
}

int vms_h_export_csv(struct vms_req *r)
{
	return export_posted(r, VMS_EXPORT_CSV);
}

int vms_h_export_txt(struct vms_req *r)
{
	return export_posted(r, VMS_EXPORT_TXT);
}

int vms_h_export_html(struct vms_req *r)
{
	return export_posted(r, VMS_EXPORT_HTML);
}

int vms_h_snapshots(struct vms_req *r)
{
	struct vms_store_query q = {.source = -1};
	struct vms_snapshot_list l;
	char buf[128];
	int64_t v;
	int n;

	if ((n = vms_query(r, "pid", buf, sizeof buf)) != -1) {
		if (n < 0 || vms_parse_i64(buf, 1, 4194304, &v) != 0)
			return vms_send_error(r, 400, "bad_query", "?pid= takes a pid");
		q.pid = (pid_t)v;
	}
	char name[128];
	if ((n = vms_query(r, "name", name, sizeof name)) != -1) {
		if (n <= 0)
			return vms_send_error(r, 400, "bad_query", "?name= takes a process name");
		q.name = name;
	}
	char match[128];
	if ((n = vms_query(r, "q", match, sizeof match)) != -1) {
		if (n < 0)
			return vms_send_error(r, 400, "bad_query", "?q= takes at most 127 bytes of text");
		if (n > 0)
			q.match = match;
	}
	if ((n = vms_query(r, "limit", buf, sizeof buf)) != -1) {
		if (n < 0 || vms_parse_i64(buf, 1, 1000, &v) != 0)
			return vms_send_error(r, 400, "bad_query", "?limit= takes 1 to 1000");
		q.limit = (size_t)v;
	}
	if ((n = vms_query(r, "before", buf, sizeof buf)) != -1) {
		if (n < 0 || vms_parse_i64(buf, 1, INT64_MAX, &v) != 0)
			return vms_send_error(r, 400, "bad_query", "?before= takes a snapshot id");
		q.before = v;
	}
	size_t limit = q.limit ? q.limit : 100;
	int err = vms_store_list(r->h->store, &q, &l);
	if (err != VMS_OK)
		return vms_send_vms_err(r, err, 0);
	cJSON *root = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(root, "snapshots");
	for (size_t i = 0; arr && i < l.n; i++)
		cJSON_AddItemToArray(arr, vms_meta_json(&l.items[i]));
	if (l.n == limit)
		cJSON_AddNumberToObject(root, "next_before", (double)l.items[l.n - 1].id);
	else
		cJSON_AddNullToObject(root, "next_before");
	vms_snapshot_list_free(&l);
	return vms_send_json(r, 200, root);
}

int vms_h_snapshot_get(struct vms_req *r)
{
	int64_t id;
	int st = vms_param_id(r, r->param[0], &id);
	return st ? st : vms_send_snapshot_json(r, id, 0);
}

/* GET /snapshots/{id}/meta: the list entry of one snapshot (source scan|import, host, process,
 * totals) without its body, so the dashboard can tell an imported or foreign snapshot. */
int vms_h_snapshot_meta(struct vms_req *r)
{
	struct vms_snapshot_meta m;
	int64_t id;
	int st = vms_param_id(r, r->param[0], &id);
	if (st)
		return st;
	if ((st = vms_answer_store(r, vms_store_meta(r->h->store, id, &m), "no snapshot %lld",
	                           (long long)id)) != 0)
		return st;
	cJSON *o = vms_meta_json(&m);
	vms_snapshot_meta_clear(&m);
	return vms_send_json(r, 200, o);
}

int vms_h_snapshot_csv(struct vms_req *r)
{
	int64_t id;
	int st = vms_param_id(r, r->param[0], &id);
	return st ? st : vms_send_snapshot_export(r, id, 0, 1);
}

int vms_h_snapshot_txt(struct vms_req *r)
{
	int64_t id;
	int st = vms_param_id(r, r->param[0], &id);
	return st ? st : vms_send_snapshot_export(r, id, 0, 0);
}

int vms_h_snapshot_html(struct vms_req *r)
{
	int64_t id;
	int st = vms_param_id(r, r->param[0], &id);
	return st ? st : vms_send_snapshot_export(r, id, 0, VMS_EXPORT_HTML);
}

int vms_h_snapshot_at(struct vms_req *r)
{
	int64_t id;
	int st = vms_param_id(r, r->param[0], &id);
	return st ? st : vms_send_snapshot_at(r, id, r->param[1], 1);
}

int vms_h_snapshot_delete(struct vms_req *r)
{
	int64_t id;
	char *body = NULL;
	size_t len;
	int st = vms_param_id(r, r->param[0], &id);
	if (st || (st = vms_read_body(r, &body, &len)) != 0) /* a DELETE body is read and ignored */
		return st;
	free(body);
	if ((st = vms_answer_store(r, vms_store_delete(r->h->store, id), "no snapshot %lld",
	                           (long long)id)) != 0)
		return st;
	vms_log(r->h, VMS_LOG_INFO, "deleted snapshot %lld", (long long)id);
	return vms_send(r, 204, NULL, NULL, 0, NULL);
}
