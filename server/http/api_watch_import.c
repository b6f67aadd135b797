/* POST /api/v1/watches/import: a timeline document (`vmscope watch -o FILE`,
 * docs/timeline-format.md) becomes a stored watch in the state "imported": its samples, and its
 * full snapshots as the watch's snapshots, so the timeline view, what-grew and the diff work on
 * it as on a watch this daemon ran. All or nothing: a document that fails part way leaves
 * nothing behind. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_internal.h"
#include "vmscope/error.h"
#include "vmscope/json_timeline.h"
#include "vmscope/store_watch.h"
#include "vmscope/util.h"

#define IMPORTED "imported"

struct import_ctx {
	struct vms_store *store;
	int64_t id; /* the watch, once the head is read */
	int64_t first_ms, last_ms;
	uint64_t samples, snapshots;
	char note[400];
};

static int on_head(void *arg, const struct vms_timeline_head *h)
{
	struct import_ctx *x = arg;
	struct vms_watch w = {.pid = h->pid,
	                      .start_time = h->start_time,
	                      .name = (char *)h->name,
	                      .created_at_ms = h->started_at_ms ? h->started_at_ms : vms_wall_ms(),
	                      .interval_ms = h->interval_ms,
	                      .snapshot_every_s = h->snapshot_every_s,
	                      /* the samples' own age must never delete them: retention as long as
	                       * the store allows (366 days, the API's maximum) */
	                      .retention_s = 366u * 86400u};
	char when[40];
	vms_format_time_ms(w.created_at_ms, when, sizeof when);
	snprintf(x->note, sizeof x->note,
	         "imported from a timeline file written by vmscope watch%s%s (started %s)",
	         *h->host ? " on " : "", h->host, when);
	return vms_store_watch_create(x->store, &w, &x->id);
}

static int on_sample(void *arg, const struct vms_sample *s, struct vms_snapshot *snap)
{
	struct import_ctx *x = arg;
	struct vms_sample sm = *s;
	int err = VMS_OK;
	if (snap) {
		err = vms_store_put(x->store, snap, VMS_SOURCE_WATCH, NULL, 0, &sm.snapshot_id);
		vms_snapshot_free(snap);
		x->snapshots += err == VMS_OK;
	}
	if (err == VMS_OK)
		err = vms_store_sample_put(x->store, x->id, &sm);
	if (err == VMS_OK) {
		x->samples++;
		if (!x->first_ms)
			x->first_ms = s->t_ms;
		x->last_ms = s->t_ms;
	}
	return err;
}

static int on_end(void *arg, int64_t at_ms, const char *note)
{
	struct import_ctx *x = arg;
	size_t n = strlen(x->note);
	if (*note)
		snprintf(x->note + n, sizeof x->note - n, "; it ended: %s", note);
	return vms_store_watch_update(x->store, x->id, IMPORTED, x->note, at_ms ? at_ms : x->last_ms);
}

int vms_h_watch_import(struct vms_req *r)
{
	char *body = NULL, errbuf[300] = "";
	size_t len = 0;
	int st;
	if ((st = vms_read_body(r, &body, &len)) != 0)
		return st;
	struct import_ctx x = {.store = r->h->store};
	const struct vms_timeline_sink sink = {on_head, on_sample, on_end, &x};
	int err = len ? vms_json_timeline_read(body, len, &sink, errbuf, sizeof errbuf) : VMS_ERR_INVALID;
	free(body);
	if (err != VMS_OK) {
		if (x.id) /* all or nothing: the samples and snapshots stored so far go */
			vms_store_watch_delete(r->h->store, x.id);
		if (err == VMS_ERR_INVALID)
			return vms_send_error(r, 400, "bad_timeline",
			                      "not a timeline this vmscope can import: %s",
			                      *errbuf ? errbuf : "the body is empty");
		if (err == VMS_ERR_UNSUPPORTED)
			return vms_send_error(r, 400, "unsupported_version", "%s", errbuf);
		return vms_send_vms_err(r, err, 0);
	}
	vms_log(r->h, VMS_LOG_INFO, "imported a timeline as watch %lld (%llu samples, %llu full snapshots)",
	        (long long)x.id, (unsigned long long)x.samples, (unsigned long long)x.snapshots);
	struct vms_watch back;
	if ((err = vms_store_watch_get(r->h->store, x.id, &back)) != VMS_OK)
		return vms_send_vms_err(r, err, 0);
	char url[VMS_URL_MAX];
	cJSON *root = vms_json_with_url("watches", x.id, url, sizeof url);
	cJSON_AddNumberToObject(root, "samples", (double)x.samples);
	cJSON_AddNumberToObject(root, "snapshots", (double)x.snapshots);
	cJSON_AddItemToObject(root, "watch", vms_watch_json(r->h, &back));
	vms_watch_clear(&back);
	struct vms_header hd[] = {{"Location", url}, {NULL, NULL}};
	return vms_send_json_x(r, 201, root, hd);
}
