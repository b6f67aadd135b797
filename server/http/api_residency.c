/* Residency kept with a snapshot (issue 14; docs/api.md, "Inside the pages"):
 *   POST /api/v1/processes/{pid}/snapshots?residency=1[&residency_max_bytes=N]  (api_snapshots.c
 *        calls vms_residency_for_snapshot): the page residency of the whole address space, read
 *        right after the scan, run-length encoded within N bytes, stored with the snapshot
 *   GET  /api/v1/snapshots/{id}/residency[?start=&end=]  what was stored, as the live route's JSON
 * Not on share routes: a share link serves the snapshot, never its residency. */
#include <stdlib.h>

#include "http_internal.h"
#include "vmscope/error.h"
#include "vmscope/json_pages.h"
#include "vmscope/pages.h"

int vms_residency_for_snapshot(struct vms_req *r, int pid, const struct vms_snapshot *s, unsigned char **blob,
                               size_t *len, cJSON **info)
{
	int on = 0, st;
	char v[24];
	int64_t max = VMS_RESIDENCY_DEFAULT_BYTES;
	struct vms_residency kept;
	*blob = NULL;
	*len = 0;
	*info = NULL;
	if ((st = vms_query_bool(r, "residency", &on)) != 0)
		return st;
	int n = vms_query(r, "residency_max_bytes", v, sizeof v);
	if (n != -1 &&
	    (n < 0 || vms_parse_i64(v, VMS_RESIDENCY_MIN_BYTES, VMS_RESIDENCY_MAX_BYTES, &max) != 0))
		return vms_send_error(r, 400, "bad_query", "?residency_max_bytes= takes %u to %u",
		                      VMS_RESIDENCY_MIN_BYTES, VMS_RESIDENCY_MAX_BYTES);
	if (!on)
		return n == -1 ? 0
		               : vms_send_error(r, 400, "bad_query",
		                                "?residency_max_bytes= goes with ?residency=1");
	/* every page table of the process, like a scan: the scan lock (the scan just taken paid the
	 * rate token: no second one, which could refuse after the scan succeeded) */
	if (vms_scan_lock(r->h, 30) != 0)
		return vms_send_error(r, 429, "busy", "another scan has been running for 30 s; retry later");
	int err = vms_residency_snapshot(pid, s, (size_t)max, blob, len, &kept);
	vms_scan_end(r);
	if (err)
		return vms_send_vms_err(r, err, pid);
	cJSON *o = cJSON_CreateObject();
	if (o) {
		cJSON_AddNumberToObject(o, "bytes", (double)*len);
		cJSON_AddNumberToObject(o, "max_bytes", (double)max);
		cJSON_AddBoolToObject(o, "truncated", kept.truncated);
		cJSON_AddNumberToObject(o, "runs", (double)kept.n_runs);
		cJSON_AddNumberToObject(o, "present_pages", (double)kept.pages[0]);
	}
	vms_residency_free(&kept);
	*info = o;
	return 0;
}

int vms_h_snapshot_residency(struct vms_req *r)
{
	int64_t id;
	uint64_t start = 0, end = 0;
	char s[24], e[24];
	unsigned char *blob = NULL;
	size_t len = 0;
	struct vms_snapshot_meta m;
	struct vms_residency res;
	int st = vms_param_id(r, r->param[0], &id);
	if (st)
		return st;
	int ns = vms_query(r, "start", s, sizeof s), ne = vms_query(r, "end", e, sizeof e);
	if (ns < -1 || ne < -1 || (ns >= 0) != (ne >= 0))
		return vms_send_error(r, 400, "bad_query", "?start= and ?end= go together (hexadecimal)");
	if (ns >= 0 && ((st = vms_param_addr(r, s, &start)) != 0 || (st = vms_param_addr(r, e, &end)) != 0))
		return st;
	if (ns >= 0 && start >= end)
		return vms_send_error(r, 400, "bad_range", "?start= must be below ?end=");
	if ((st = vms_answer_store(r, vms_store_meta(r->h->store, id, &m), "no snapshot %lld",
	                           (long long)id)) != 0)
		return st;
	int pid = m.pid;
	vms_snapshot_meta_clear(&m);
	int err = vms_store_residency(r->h->store, id, &blob, &len);
	if (err == VMS_ERR_NOT_FOUND)
		return vms_send_error(r, 404, "no_residency",
		                      "snapshot %lld was stored without its page residency (take one with "
		                      "POST /api/v1/processes/{pid}/snapshots?residency=1)",
		                      (long long)id);
	if (!err)
		err = vms_residency_decode(blob, len, &res);
	free(blob);
	if (err)
		return vms_send_vms_err(r, err, 0);
	if (ns >= 0)
		vms_residency_clip(&res, start, end);
	cJSON *o = vms_json_residency(pid, &res);
	if (o) {
		cJSON_AddNumberToObject(o, "snapshot_id", (double)id);
		cJSON_AddNumberToObject(o, "stored_bytes", (double)len);
	}
	vms_residency_free(&res);
	return vms_send_json(r, 200, o);
}
