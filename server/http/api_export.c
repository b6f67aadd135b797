/* Sending a stored snapshot: its JSON (streamed from the store as stored), the CSV and text
 * exports, an address lookup; and the JSON of snapshot metadata and shares. Used by both the
 * authenticated snapshot routes and the share routes. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http_internal.h"
#include "vmscope/error.h"
#include "vmscope/export.h"
#include "vmscope/imageinfo.h"
#include "vmscope/json.h"
#include "vmscope/util.h"

/* A client that reads a large body slowly holds a worker and a store reader the whole time
 * (civetweb's timeout applies to each write, not to the response). The body is measured in
 * windows of STREAM_WINDOW_S: a client that took less than STREAM_MIN_RATE in a window is cut
 * off, so a slow reader holds a worker for at most about two windows. */
#define STREAM_WINDOW_S 10.0
#define STREAM_MIN_RATE (256.0 * 1024) /* bytes per second */

struct stream_ctx {
	struct vms_req *r;
	int started;
	int head;             /* a HEAD request: headers only */
	double window_t0;     /* monotonic seconds at the start of the current window */
	uint64_t window_sent; /* bytes written in it */
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int stream_size(void *arg, uint64_t total)
{
	struct stream_ctx *c = arg;
	c->started = 1;
	return vms_send_headers(c->r, 200, "application/json; charset=utf-8", total, NULL) == 0 ? 0 : -1;
}

static int stream_chunk(void *arg, const void *buf, size_t len)
{
	struct stream_ctx *c = arg;
	if (c->head)
		return 0; /* HEAD: the headers said everything */
	if (!c->window_t0)
		c->window_t0 = now_s();
	if (mg_write(c->r->conn, buf, len) != (int)len)
		return -1;
	c->window_sent += len;
	double elapsed = now_s() - c->window_t0;
	if (elapsed > STREAM_WINDOW_S) {
		if ((double)c->window_sent / elapsed < STREAM_MIN_RATE) {
			vms_log(c->r->h, VMS_LOG_WARN,
			        "closing a client reading at %.0f B/s (minimum %.0f B/s)",
			        (double)c->window_sent / elapsed, STREAM_MIN_RATE);
			return -1;
		}
		c->window_t0 += elapsed;
		c->window_sent = 0;
	}
	return 0;
}

/* Load snapshot id, sending 404/500 itself on failure (returns the status, or 0 and *out). */
static int load(struct vms_req *r, int64_t id, struct vms_snapshot **out)
{
	int err = vms_store_load(r->h->store, id, out);
	if (err != VMS_OK && err != VMS_ERR_NOT_FOUND)
		vms_log(r->h, VMS_LOG_ERROR, "loading snapshot %lld: %s", (long long)id, vms_strerror(err));
	return vms_answer_store(r, err, "no snapshot %lld", (long long)id);
}

int vms_send_snapshot(struct vms_req *r, const struct vms_snapshot *s, const struct vms_json_opts *opts)
{
	char *text = NULL;
	size_t len = 0;
	int err = vms_json_write_snapshot(s, opts, &text, &len);
	if (err != VMS_OK)
		return vms_send_vms_err(r, err, 0);
	vms_send(r, 200, "application/json; charset=utf-8", text, len, NULL);
	free(text);
	return 200;
}

/* The body of stored snapshot id: the kept rendering streamed from the store, or for a share
 * without the command line a new rendering. Either passes the download gate (stream_gate.c). */
static int send_snapshot_json(struct vms_req *r, int64_t id, int omit_cmdline)
{
	if (!omit_cmdline) {
		struct stream_ctx c = {.r = r, .head = !strcmp(r->ri->request_method, "HEAD")};
		struct vms_store_sink sink = {.size = stream_size, .chunk = stream_chunk, .arg = &c};
		int err = vms_http_snapshot_json(r->h->store, id, &sink);
		if (err == VMS_OK)
			return 200;
		if (c.started) { /* headers are out: all we can do is cut the connection */
			mg_disable_connection_keep_alive(r->conn);
			return 200;
		}
		return vms_answer_store(r, err, "no snapshot %lld", (long long)id);
	}
	/* A share without the command line: rebuild the JSON without it. */
	struct vms_snapshot *s = NULL;
	int st = load(r, id, &s);
	if (st)
		return st;
	struct vms_json_opts o = {.omit_cmdline = 1};
	st = vms_send_snapshot(r, s, &o);
	vms_snapshot_free(s);
	return st;
}

int vms_send_snapshot_json(struct vms_req *r, int64_t id, int omit_cmdline)
{
	int st = vms_stream_begin(r);
	if (st)
		return st;
	st = send_snapshot_json(r, id, omit_cmdline);
	vms_stream_end(r);
	return st;
}

static void safe_name(const char *in, char *out, size_t size)
{
	size_t n = 0;
	for (; in && *in && n + 1 < size && n < 32; in++)
		out[n++] =
		    (isalnum((unsigned char)*in) || *in == '.' || *in == '-' || *in == '_') ? *in : '_';
	out[n] = '\0';
	if (!n)
		snprintf(out, size, "process");
}

int vms_export_render(const struct vms_snapshot *s, int kind, char **text, size_t *len, const char **ctype,
                      const char **ext)
{
	static const struct {
		int (*render)(const struct vms_snapshot *s, char **out, size_t *len);
		const char *ctype, *ext;
	} kinds[] = {
	    [VMS_EXPORT_TXT] = {vms_export_text, "text/plain; charset=utf-8", "txt"},
	    [VMS_EXPORT_CSV] = {vms_export_csv, "text/csv; charset=utf-8", "csv"},
	    [VMS_EXPORT_HTML] = {vms_export_html, "text/html; charset=utf-8", "html"},
	};
	if (kind < 0 || kind > VMS_EXPORT_HTML)
		return VMS_ERR_INVALID;
	*ctype = kinds[kind].ctype;
	*ext = kinds[kind].ext;
	return kinds[kind].render(s, text, len);
}

int vms_send_snapshot_export(struct vms_req *r, int64_t id, int omit_cmdline, int kind)
{
	struct vms_snapshot *s = NULL;
	char *text = NULL, name[40], disp[128];
	const char *ctype, *ext;
	size_t len = 0;
	int st = load(r, id, &s);
	if (st)
		return st;
	if (omit_cmdline) /* the HTML report says "(left out)" for none */
		s->cmdline = kind == VMS_EXPORT_HTML ? NULL : "";
	int err = vms_export_render(s, kind, &text, &len, &ctype, &ext);
	if (err != VMS_OK) {
		vms_snapshot_free(s);
		return vms_send_vms_err(r, err, 0);
	}
	safe_name(s->name, name, sizeof name);
	snprintf(disp, sizeof disp, "attachment; filename=\"vmscope-%s-%d-%lld.%s\"", name, (int)s->pid,
	         (long long)id, ext);
	struct vms_header h[] = {{"Content-Disposition", disp}, {NULL, NULL}};
	st = vms_send(r, 200, ctype, text, len, h);
	free(text);
	vms_snapshot_free(s);
	return st;
}

/* ---- metadata JSON ----------------------------------------------------------------------- */

static void add_time(cJSON *o, const char *key, const char *key_ms, int64_t ms)
{
	char iso[32];
	/* 0: unknown (a snapshot imported from a bare smaps file), null rather than 1970 */
	cJSON_AddItemToObject(o, key, vms_json_string_repaired(vms_format_taken_ms(ms, iso, sizeof iso)));
	cJSON_AddNumberToObject(o, key_ms, (double)ms);
}

cJSON *vms_json_with_url(const char *collection, int64_t id, char *url, size_t size)
{
	char own[VMS_URL_MAX];
	if (!url) {
		url = own;
		size = sizeof own;
	}
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	snprintf(url, size, "/api/v1/%s/%lld", collection, (long long)id);
	cJSON_AddNumberToObject(o, "id", (double)id);
	cJSON_AddStringToObject(o, "url", url);
	return o;
}

cJSON *vms_meta_json(const struct vms_snapshot_meta *m)
{
	cJSON *o = vms_json_with_url("snapshots", m->id, NULL, 0);
	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "source",
	                        m->source == VMS_SOURCE_IMPORT  ? "import"
	                        : m->source == VMS_SOURCE_WATCH ? "watch"
	                                                        : "scan");
	cJSON_AddNumberToObject(o, "format_version", m->format_version);
	add_time(o, "created_at", "created_at_ms", m->created_at_ms);
	cJSON_AddItemToObject(o, "host", vms_json_string_repaired(m->host));
	cJSON_AddItemToObject(o, "kernel", vms_json_string_repaired(m->kernel));
	add_time(o, "taken_at", "taken_at_ms", m->taken_at_ms);
	cJSON *p = cJSON_AddObjectToObject(o, "process");
	if (p) {
		cJSON_AddNumberToObject(p, "pid", m->pid);
		cJSON_AddNumberToObject(p, "ppid", m->ppid);
		cJSON_AddItemToObject(p, "name", vms_json_string_repaired(m->name));
		cJSON_AddItemToObject(p, "cmdline", vms_json_string_repaired(m->cmdline));
		cJSON_AddItemToObject(p, "user", vms_json_string_repaired(m->user));
		cJSON_AddNumberToObject(p, "uid", m->uid);
		cJSON_AddNumberToObject(p, "start_time_ticks", (double)m->start_time);
		cJSON *a = cJSON_AddObjectToObject(p, "arch");
		if (a) {
			cJSON_AddNumberToObject(a, "bits", m->arch_bits);
			cJSON_AddItemToObject(a, "machine", vms_json_string_repaired(m->machine));
		}
	}
	cJSON_AddNumberToObject(o, "regions", (double)m->n_regions);
	cJSON_AddNumberToObject(o, "allocations", (double)m->n_allocations);
	cJSON_AddNumberToObject(o, "bytes", (double)m->body_bytes);
	cJSON_AddNumberToObject(o, "json_bytes", (double)m->json_bytes);
	/* Per-type totals, written by the json layer from the stored rows: "summary", "total". */
	cJSON *sum = vms_json_summary_of(m->summary, m->total);
	if (cJSON_IsObject(sum)) {
		cJSON *it = sum->child;
		while (it) {
			cJSON *next = it->next;
			cJSON_AddItemToObject(o, it->string, cJSON_DetachItemViaPointer(sum, it));
			it = next;
		}
	}
	cJSON_Delete(sum);
	return o;
}

cJSON *vms_share_json(const struct vms_req *r, const struct vms_share *s)
{
	char origin[300], url[400], path[96], api[128];
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	vms_origin(r, origin, sizeof origin);
	/* a watch's link opens the page's timeline (#/timeline) and its API under .../watch */
	snprintf(path, sizeof path, "/s/%s%s", s->token, s->watch_id ? "#/timeline" : "");
	snprintf(url, sizeof url, "%s%s", origin, path);
	snprintf(api, sizeof api, "/api/v1/shared/%s%s", s->token, s->watch_id ? "/watch" : "");
	cJSON_AddStringToObject(o, "token", s->token);
	if (s->watch_id)
		cJSON_AddNumberToObject(o, "watch_id", (double)s->watch_id);
	else
		cJSON_AddNumberToObject(o, "snapshot_id", (double)s->snapshot_id);
	cJSON_AddBoolToObject(o, "omit_cmdline", s->omit_cmdline);
	add_time(o, "created_at", "created_at_ms", s->created_at_ms);
	if (s->expires_at_ms > 0) {
		add_time(o, "expires_at", "expires_at_ms", s->expires_at_ms);
	} else {
		cJSON_AddNullToObject(o, "expires_at");
		cJSON_AddNullToObject(o, "expires_at_ms");
	}
	int gone = vms_share_gone(s, vms_wall_ms());
	cJSON_AddBoolToObject(o, "expired", gone != 0);
	cJSON_AddNumberToObject(o, "views", (double)s->views);
	if (s->max_views > 0)
		cJSON_AddNumberToObject(o, "max_views", (double)s->max_views);
	else
		cJSON_AddNullToObject(o, "max_views");
	cJSON_AddStringToObject(o, "url", url);
	cJSON_AddStringToObject(o, "path", path);
	cJSON_AddStringToObject(o, "api_url", api);
	return o;
}
