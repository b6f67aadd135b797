/* /api/v1/watches: create, list, get, stop/purge, samples (downsampled) and growth ("what
 * grew": per type between two times, and the top allocations between the nearest full
 * snapshots, through the diff engine). docs/api.md, "Watches". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_internal.h"
#include "vmscope/diff.h"
#include "vmscope/error.h"
#include "vmscope/growth.h"
#include "vmscope/json.h"
#include "vmscope/json_timeline.h"
#include "vmscope/proclist.h"
#include "vmscope/store_watch.h"
#include "vmscope/util.h"

#define DEFAULT_MAX_POINTS 1000
#define MAX_MAX_POINTS 20000
#define TOP_ALLOCATIONS 10
#define GROWTH_CHAIN 8 /* full snapshots followed for new_allocations, at most (each is loaded whole) */
#define MAX_WAIT_S 30

static void add_time(cJSON *o, const char *key, const char *key_ms, int64_t ms)
{
	char iso[40];
	if (!ms) {
		cJSON_AddNullToObject(o, key);
		cJSON_AddNullToObject(o, key_ms);
		return;
	}
	vms_format_time_ms(ms, iso, sizeof iso);
	cJSON_AddStringToObject(o, key, iso);
	cJSON_AddNumberToObject(o, key_ms, (double)ms);
}

cJSON *vms_watch_json(struct vms_http *h, const struct vms_watch *w)
{
	struct vms_sampler_info si;
	cJSON *o = vms_json_with_url("watches", w->id, NULL, 0);
	if (!o)
		return NULL;
	cJSON_AddNumberToObject(o, "pid", w->pid);
	cJSON_AddNumberToObject(o, "start_time", (double)w->start_time);
	cJSON_AddStringToObject(o, "name", w->name);
	cJSON_AddStringToObject(o, "state", w->state);
	cJSON_AddStringToObject(o, "note", w->note);
	cJSON_AddNumberToObject(o, "interval_ms", w->interval_ms);
	cJSON_AddNumberToObject(o, "snapshot_every_s", w->snapshot_every_s);
	cJSON_AddNumberToObject(o, "retention_s", w->retention_s);
	if (w->has_thresholds) {
		cJSON_AddNumberToObject(o, "snapshot_on_allocations", w->snapshot_on_allocations);
		cJSON_AddNumberToObject(o, "snapshot_on_committed", (double)w->snapshot_on_committed);
	} else { /* stored by a vmscope before schema 9, or imported: not known */
		cJSON_AddNullToObject(o, "snapshot_on_allocations");
		cJSON_AddNullToObject(o, "snapshot_on_committed");
	}
	add_time(o, "created_at", "created_at_ms", w->created_at_ms);
	add_time(o, "ends_at", "ends_at_ms", w->ends_at_ms);
	add_time(o, "ended_at", "ended_at_ms", w->ended_at_ms);
	cJSON_AddNumberToObject(o, "samples", (double)w->n_samples);
	cJSON_AddNumberToObject(o, "sample_bytes", (double)w->sample_bytes);
	add_time(o, "first_sample_at", "first_sample_at_ms", w->first_ms);
	add_time(o, "last_sample_at", "last_sample_at_ms", w->last_ms);
	cJSON_AddBoolToObject(o, "follow", w->follow != 0);
	cJSON *rs = cJSON_AddArrayToObject(o, "restarts");
	struct vms_watch_restart *re = NULL;
	size_t n_re = 0;
	if (w->n_restarts && vms_store_watch_restarts(h->store, w->id, &re, &n_re) == VMS_OK) {
		for (size_t i = 0; rs && i < n_re; i++) {
			cJSON *x = cJSON_CreateObject();
			add_time(x, "at", "at_ms", re[i].t_ms);
			cJSON_AddNumberToObject(x, "pid", re[i].pid);
			cJSON_AddNumberToObject(x, "start_time", (double)re[i].start_time);
			cJSON_AddNumberToObject(x, "old_pid", re[i].old_pid);
			cJSON_AddItemToArray(rs, x);
		}
		free(re);
	}
	if (vms_sampler_info(h, w->id, &si)) {
		cJSON *s = cJSON_AddObjectToObject(o, "sampler");
		cJSON_AddNumberToObject(s, "effective_interval_ms", si.effective_interval_ms);
		cJSON_AddBoolToObject(s, "backing_off", si.effective_interval_ms > w->interval_ms);
		cJSON_AddNumberToObject(s, "ticks", (double)si.ticks);
		cJSON_AddNumberToObject(s, "skipped_busy", (double)si.skipped_busy);
		cJSON_AddNumberToObject(s, "last_tick_ms", (double)si.last_tick_ms);
		cJSON_AddNumberToObject(s, "long_polls", si.long_polls);
		cJSON_AddNumberToObject(s, "snapshot_on_allocations", si.snapshot_on_allocations);
		cJSON_AddNumberToObject(s, "snapshot_on_committed", (double)si.snapshot_on_committed);
		cJSON_AddNumberToObject(s, "threshold_snapshots", (double)si.threshold_snapshots);
		cJSON_AddBoolToObject(s, "paused", si.paused_since_ms != 0);
		if (si.unsaved_note[0]) /* the store is full: its note is not written yet */
			cJSON_ReplaceItemInObjectCaseSensitive(o, "note",
			                                       cJSON_CreateString(si.unsaved_note));
	} else {
		cJSON_AddNullToObject(o, "sampler");
	}
	return o;
}

/* An optional non-negative integer member of body into *out (left alone when absent). */
static int int_member(struct vms_req *r, cJSON *body, const char *key, int64_t min, int64_t max, int64_t *out)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(body, key);
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsNumber(v) || v->valuedouble < (double)min || v->valuedouble > (double)max ||
	    v->valuedouble != (double)(int64_t)v->valuedouble)
		return vms_send_error(r, 400, "bad_json", "\"%s\" must be an integer from %lld to %lld", key,
		                      (long long)min, (long long)max);
	*out = (int64_t)v->valuedouble;
	return 0;
}

int vms_h_watch_create(struct vms_req *r)
{
	char *text = NULL;
	size_t len = 0;
	int st;
	int64_t pid = 0, interval = VMS_WATCH_DEFAULT_INTERVAL_MS, duration = 0,
	        snap_every = VMS_WATCH_DEFAULT_SNAPSHOT_EVERY_S, retention = VMS_WATCH_DEFAULT_RETENTION_S,
	        on_allocs = VMS_WATCH_DEFAULT_SNAPSHOT_ON_ALLOCATIONS,
	        on_committed = (int64_t)VMS_WATCH_DEFAULT_SNAPSHOT_ON_COMMITTED;
	if ((st = vms_read_body(r, &text, &len)) != 0)
		return st;
	if (len && (st = vms_json_depth_ok(r, text, len)) != 0) { /* cJSON recurses per level */
		free(text);
		return st;
	}
	const char *end = NULL;
	cJSON *body = len ? cJSON_ParseWithLengthOpts(text, len + 1, &end, 1) : NULL;
	free(text);
	if (!body || !cJSON_IsObject(body)) {
		cJSON_Delete(body);
		return vms_send_error(
		    r, 400, "bad_json",
		    "the body must be a JSON object such as {\"pid\":1234,\"interval_ms\":1000}");
	}
	/* the target: "pid", or "name" (follows the process across restarts; "follow": true does
	 * the same for a pid) */
	cJSON *name = cJSON_GetObjectItemCaseSensitive(body, "name");
	cJSON *fol = cJSON_GetObjectItemCaseSensitive(body, "follow");
	int follow = name != NULL;
	if (fol && !cJSON_IsBool(fol))
		st = vms_send_error(r, 400, "bad_json", "\"follow\" must be true or false");
	else if (fol)
		follow = cJSON_IsTrue(fol);
	if (!st && !name == !cJSON_GetObjectItemCaseSensitive(body, "pid"))
		st = vms_send_error(r, 400, "bad_json",
		                    "give either \"pid\" or \"name\" (a process name to follow)");
	if (!st && name && (!cJSON_IsString(name) || !*name->valuestring || strlen(name->valuestring) > 255))
		st = vms_send_error(r, 400, "bad_json", "\"name\" must be a process name");
	if (!st && name) {
		pid_t found = 0, *matches = NULL;
		size_t n_matches = 0;
		int rerr = vms_proc_resolve(name->valuestring, &found, &matches, &n_matches);
		free(matches);
		if (rerr == VMS_ERR_AMBIGUOUS)
			st = vms_send_error(
			    r, 409, "ambiguous",
			    "%zu processes match that name: watch one by pid with \"follow\": true",
			    n_matches);
		else if (rerr != VMS_OK)
			st = vms_send_error(r, 404, "no_such_process", "no process named %s",
			                    name->valuestring);
		pid = found;
	}
	if (!st && !name)
		st = int_member(r, body, "pid", 1, 4194304, &pid);
	if (!st)
		st = int_member(r, body, "interval_ms", VMS_WATCH_MIN_INTERVAL_MS, VMS_WATCH_MAX_INTERVAL_MS,
		                &interval);
	if (!st)
		st = int_member(r, body, "duration_s", 1, 366LL * 86400, &duration);
	if (!st)
		st = int_member(r, body, "snapshot_every_s", 0, 86400, &snap_every);
	if (!st)
		st = int_member(r, body, "retention_s", 60, 366LL * 86400, &retention);
	if (!st)
		st = int_member(r, body, "snapshot_on_allocations", 0, 1000000, &on_allocs);
	if (!st)
		st = int_member(r, body, "snapshot_on_committed", 0, 1LL << 50, &on_committed);
	cJSON_Delete(body);
	if (st)
		return st;

	struct vms_proc p;
	int err = vms_proc_read((pid_t)pid, NULL, &p);
	if (err != VMS_OK)
		return vms_send_vms_err(r, err, (int)pid);
	if (!p.maps_readable) {
		err = p.unreadable_err ? p.unreadable_err : VMS_ERR_PERMISSION;
		vms_proc_clear(&p);
		return vms_send_vms_err(r, err, (int)pid);
	}
	struct vms_watch w = {.pid = (pid_t)pid,
	                      .start_time = p.start_time,
	                      .name = p.name,
	                      .interval_ms = (uint32_t)interval,
	                      .snapshot_every_s = (uint32_t)snap_every,
	                      .retention_s = (uint32_t)retention,
	                      .follow = follow,
	                      .has_thresholds = 1,
	                      .snapshot_on_allocations = (uint32_t)on_allocs,
	                      .snapshot_on_committed = (uint64_t)on_committed};
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	w.created_at_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	w.ends_at_ms = duration ? w.created_at_ms + duration * 1000 : 0;
	int64_t id = 0;
	err = vms_store_watch_create(r->h->store, &w, &id);
	if (err != VMS_OK) {
		vms_proc_clear(&p);
		return vms_send_vms_err(r, err, (int)pid);
	}
	w.id = id;
	vms_sampler_add(r->h, &w);
	vms_proc_clear(&p); /* w.name was p's */
	vms_log(r->h, VMS_LOG_INFO, "watch %lld of pid %lld every %lld ms", (long long)id, (long long)pid,
	        (long long)interval);

	struct vms_watch back;
	if ((err = vms_store_watch_get(r->h->store, id, &back)) != VMS_OK)
		return vms_send_vms_err(r, err, 0);
	char url[VMS_URL_MAX];
	cJSON *root = vms_json_with_url("watches", id, url, sizeof url);
	cJSON_AddItemToObject(root, "watch", vms_watch_json(r->h, &back));
	vms_watch_clear(&back);
	struct vms_header hd[] = {{"Location", url}, {NULL, NULL}};
	return vms_send_json_x(r, 201, root, hd);
}

int vms_h_watches(struct vms_req *r)
{
	struct vms_watch *all = NULL;
	size_t n = 0;
	int err = vms_store_watch_list(r->h->store, &all, &n);
	if (err != VMS_OK)
		return vms_send_vms_err(r, err, 0);
	cJSON *root = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(root, "watches");
	for (size_t i = 0; arr && i < n; i++)
		cJSON_AddItemToArray(arr, vms_watch_json(r->h, &all[i]));
	vms_watch_array_free(all, n);
	return vms_send_json(r, 200, root);
}

static int load_watch_id(struct vms_req *r, int64_t id, struct vms_watch *w)
{
	return vms_answer_store(r, vms_store_watch_get(r->h->store, id, w), "no watch %lld", (long long)id);
}

static int load_watch(struct vms_req *r, struct vms_watch *w)
{
	int64_t id;
	if (vms_parse_i64(r->param[0], 1, INT64_MAX, &id) != 0)
		return vms_send_error(r, 400, "bad_id", "watch ids are positive decimal integers");
	return load_watch_id(r, id, w);
}

int vms_h_watch_get(struct vms_req *r)
{
	struct vms_watch w;
	int st = load_watch(r, &w);
	if (st)
		return st;
	cJSON *j = vms_watch_json(r->h, &w);
	vms_watch_clear(&w);
	return vms_send_json(r, 200, j);
}

int vms_h_watch_delete(struct vms_req *r)
{
	struct vms_watch w;
	char *body = NULL, note[160], when[40];
	size_t len;
	int purge = 0, st;
	if ((st = load_watch(r, &w)) != 0)
		return st;
	if ((st = vms_query_bool(r, "purge", &purge)) != 0 || (st = vms_read_body(r, &body, &len)) != 0) {
		vms_watch_clear(&w);
		return st;
	}
	free(body);
	int64_t id = w.id;
	vms_sampler_remove(r->h, id);
	/* the state as the last tick left it (it may have ended the watch meanwhile) */
	vms_watch_clear(&w);
	int err = vms_store_watch_get(r->h->store, id, &w);
	if (err != VMS_OK)
		return err == VMS_ERR_NOT_FOUND
		           ? vms_send_error(r, 404, "not_found", "no watch %lld", (long long)id)
		           : vms_send_vms_err(r, err, 0);
	if (purge) {
		vms_watch_clear(&w);
		err = vms_store_watch_delete(r->h->store, id);
		if (err != VMS_OK && err != VMS_ERR_NOT_FOUND)
			return vms_send_vms_err(r, err, 0);
		vms_log(r->h, VMS_LOG_INFO, "watch %lld deleted with its samples", (long long)id);
		return vms_send(r, 204, NULL, NULL, 0, NULL);
	}
	if (!strcmp(w.state, VMS_WATCH_RUNNING)) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
		vms_format_time_ms(now, when, sizeof when);
		snprintf(note, sizeof note, "stopped by the user at %s", when);
		err = vms_store_watch_update(r->h->store, id, "stopped", note, now);
		if (err != VMS_OK) {
			vms_watch_clear(&w);
			return vms_send_vms_err(r, err, 0);
		}
		vms_log(r->h, VMS_LOG_INFO, "watch %lld stopped", (long long)id);
	}
	vms_watch_clear(&w);
	if ((err = vms_store_watch_get(r->h->store, id, &w)) != VMS_OK)
		return vms_send_vms_err(r, err, 0);
	cJSON *j = vms_watch_json(r->h, &w);
	vms_watch_clear(&w);
	return vms_send_json(r, 200, j);
}

/* ?NAME= as Unix ms (0 when absent). */
static int time_query(struct vms_req *r, const char *name, int64_t *out)
{
	char buf[32];
	*out = 0;
	int n = vms_query(r, name, buf, sizeof buf);
	if (n == -1)
		return 0;
	if (n <= 0 || vms_parse_i64(buf, 0, INT64_MAX, out) != 0)
		return vms_send_error(r, 400, "bad_query", "?%s= takes a time in Unix milliseconds", name);
	return 0;
}

int vms_watch_param(struct vms_req *r, int64_t *id)
{
	struct vms_watch w;
	int st = load_watch(r, &w);
	if (!st) {
		*id = w.id;
		vms_watch_clear(&w);
	}
	return st;
}

int vms_h_watch_samples(struct vms_req *r)
{
	int64_t id;
	int st = vms_watch_param(r, &id);
	return st ? st : vms_send_watch_samples(r, id, 1);
}

int vms_send_watch_samples(struct vms_req *r, int64_t id, int live_ok)
{
	struct vms_watch w;
	struct vms_sample *s = NULL;
	size_t n = 0;
	int64_t from, to, after, wait_s = 0, maxp = DEFAULT_MAX_POINTS;
	char buf[32];
	int st;
	if ((st = time_query(r, "from", &from)) != 0 || (st = time_query(r, "to", &to)) != 0 ||
	    (st = time_query(r, "after", &after)) != 0)
		return st;
	int qw = vms_query(r, "wait_s", buf, sizeof buf);
	if (qw != -1 && !live_ok) /* a share link's holder may not hold a waiting slot */
		return vms_send_error(r, 400, "bad_query", "?wait_s= (live updates) needs the API token");
	if (qw != -1 && (qw <= 0 || vms_parse_i64(buf, 0, MAX_WAIT_S, &wait_s) != 0))
		return vms_send_error(r, 400, "bad_query", "?wait_s= takes 0 to %d seconds", MAX_WAIT_S);
	if (wait_s && !after)
		return vms_send_error(r, 400, "bad_query",
		                      "?wait_s= needs ?after= (the newest sample's t_ms)");
	if (after && after >= from)
		from = after + 1;
	/* Long polling: live updates without a request per second from each open dashboard. */
	int waited = wait_s ? vms_sampler_wait(r->h, id, after, wait_s * 1000) : 0;
	if ((st = load_watch_id(r, id, &w)) != 0)
		return st;
	char state[16];
	snprintf(state, sizeof state, "%s", w.state);
	vms_watch_clear(&w);
	/* ?columns=committed,private: only those columns per type (a chart needs a few of the 16;
	 * 24 h at 1,000 points is 4 MB of JSON with all of them) */
	uint32_t colmask = VMS_SAMPLE_ALL_COLUMNS;
	char cols[256];
	int qc = vms_query(r, "columns", cols, sizeof cols);
	if (qc == -2 || qc == 0)
		return vms_send_error(r, 400, "bad_query",
		                      "?columns= takes column keys such as committed,private");
	if (qc > 0) {
		colmask = 0;
		for (char *save = NULL, *k = strtok_r(cols, ",", &save); k; k = strtok_r(NULL, ",", &save)) {
			int c = vms_col_from_key(k);
			if (c < 0)
				return vms_send_error(r, 400, "bad_query", "?columns=: no column \"%s\"", k);
			colmask |= 1u << c;
		}
	}
	int qn = vms_query(r, "max_points", buf, sizeof buf);
	if (qn != -1 && (qn <= 0 || vms_parse_i64(buf, 2, MAX_MAX_POINTS, &maxp) != 0))
		return vms_send_error(r, 400, "bad_query", "?max_points= takes 2 to %d", MAX_MAX_POINTS);
	/* More samples in the range than points wanted: equal time buckets, downsampled by the
	 * store; each gives its last sample (its counters are the bucket's end state), with how
	 * many it stands for, the bucket's minimum and maximum total committed (so that a spike
	 * inside a bucket stays visible), any gap, and its newest full snapshot. */
	uint64_t count = 0;
	int64_t bucket = 0;
	int err =
	    vms_store_samples_points(r->h->store, id, from, to, (uint64_t)maxp, &s, &n, &count, &bucket);
	if (err != VMS_OK)
		return vms_send_vms_err(r, err, 0);

	/* written directly, no cJSON tree (24 h at 1,000 points: docs/benchmarks.md, "Timeline") */
	struct vms_samples_answer ans = {
	    .watch_id = id,
	    .count = count,
	    .watch_state = state,
	    .waited = waited == 1,
	    .refused = waited < 0 ? "too many requests are waiting for samples: poll again in a while" : NULL,
	    .bucket_ms = bucket,
	    .samples = s,
	    .n = n,
	    .colmask = colmask};
	char *text = NULL;
	size_t len = 0;
	err = vms_json_write_samples(&ans, &text, &len);
	free(s);
	st = err != VMS_OK ? vms_send_vms_err(r, err, 0)
	                   : vms_send(r, 200, "application/json; charset=utf-8", text, len, NULL);
	free(text);
	return st;
}

/* ---- growth ------------------------------------------------------------------------------ */

static int cmp_committed_delta(const void *a, const void *b)
{
	const struct vms_diff_entry *x = *(const struct vms_diff_entry *const *)a;
	const struct vms_diff_entry *y = *(const struct vms_diff_entry *const *)b;
	int64_t dx = x->delta[VMS_COL_COMMITTED], dy = y->delta[VMS_COL_COMMITTED];
	return dx < dy ? 1 : dx > dy ? -1 : 0;
}

/* A full snapshot the growth names; through a watch's share link (share_token) its url is the
 * link's own route to it. */
static cJSON *snapshot_ref(int64_t id, int64_t at_ms, int64_t wanted_ms, const char *share_token)
{
	cJSON *o = vms_json_with_url("snapshots", id, NULL, 0);
	if (o && share_token) {
		char url[160];
		snprintf(url, sizeof url, "/api/v1/shared/%s/watch/snapshots/%lld", share_token,
		         (long long)id);
		cJSON_ReplaceItemInObject(o, "url", cJSON_CreateString(url));
	}
	char iso[40];
	add_time(o, "at", "at_ms", at_ms);
	cJSON_AddNumberToObject(o, "off_by_ms", (double)(at_ms - wanted_ms));
	vms_format_time_ms(at_ms, iso, sizeof iso);
	char note[96];
	snprintf(note, sizeof note, "nearest full snapshot: #%lld at %s", (long long)id, iso);
	cJSON_AddStringToObject(o, "note", note);
	return o;
}

/* An allocation's identity for what-grew: start, size, type, details, owner. */
static cJSON *alloc_json(const struct vms_allocation *al)
{
	cJSON *o = cJSON_CreateObject();
	char addr[24];
	snprintf(addr, sizeof addr, "0x%llx", (unsigned long long)al->start);
	cJSON_AddStringToObject(o, "start", addr);
	cJSON_AddNumberToObject(o, "size", (double)(al->end - al->start));
	cJSON_AddStringToObject(o, "type", vms_type_key(al->type));
	cJSON_AddStringToObject(o, "type_name", vms_type_name(al->type));
	if (al->details)
		cJSON_AddStringToObject(o, "details", al->details);
	else
		cJSON_AddNullToObject(o, "details");
	if (al->owner)
		cJSON_AddStringToObject(o, "owner", al->owner);
	return o;
}

/* {column: value} for signed per-column values. */
static cJSON *deltas_json(const int64_t v[VMS_COL_COUNT])
{
	cJSON *o = cJSON_CreateObject();
	for (int c = 0; o && c < VMS_COL_COUNT; c++)
		cJSON_AddNumberToObject(o, vms_col_key((enum vms_col)c), (double)v[c]);
	return o;
}

/* The top allocations whose committed grew between two full snapshots (taken span_ms apart),
 * into arr, with their growth per minute. */
static int top_allocations(struct vms_req *r, int64_t a_id, int64_t b_id, int64_t span_ms, cJSON *arr)
{
	struct vms_snapshot *a = NULL, *b = NULL;
	struct vms_diff d;
	memset(&d, 0, sizeof d);
	int err = vms_store_load(r->h->store, a_id, &a);
	if (err == VMS_OK)
		err = vms_store_load(r->h->store, b_id, &b);
	if (err == VMS_OK)
		err = vms_diff_compute(a, b, &d);
	const struct vms_diff_entry **grew = NULL;
	size_t n = 0;
	if (err == VMS_OK && d.n_allocations && !(grew = calloc(d.n_allocations, sizeof *grew)))
		err = VMS_ERR_NOMEM;
	for (size_t i = 0; err == VMS_OK && i < d.n_allocations; i++)
		if (d.allocations[i].to >= 0 && d.allocations[i].delta[VMS_COL_COMMITTED] > 0)
			grew[n++] = &d.allocations[i];
	if (n)
		qsort(grew, n, sizeof *grew, cmp_committed_delta);
	for (size_t i = 0; i < n && i < TOP_ALLOCATIONS; i++) {
		const struct vms_diff_entry *e = grew[i];
		cJSON *o = alloc_json(&b->allocations[e->to]);
		cJSON_AddBoolToObject(o, "new", e->from < 0);
		cJSON *ch = cJSON_AddArrayToObject(o, "changes");
		for (unsigned bit = 1; bit <= VMS_CHANGE_USAGE; bit <<= 1)
			if (e->changes & bit)
				cJSON_AddItemToArray(
				    ch, cJSON_CreateString(vms_change_key((enum vms_change)bit)));
		int64_t pm[VMS_COL_COUNT];
		for (int c = 0; c < VMS_COL_COUNT; c++)
			pm[c] = span_ms > 0 ? (int64_t)((double)e->delta[c] * 60000.0 / (double)span_ms) : 0;
		cJSON_AddItemToObject(o, "delta", deltas_json(e->delta));
		cJSON_AddItemToObject(o, "per_minute", deltas_json(pm));
		cJSON_AddItemToArray(arr, o);
	}
	free(grew);
	vms_diff_free(&d);
	vms_snapshot_free(a);
	vms_snapshot_free(b);
	return err;
}

/* "new_allocations": allocations absent from the range's first full snapshot that appeared and
 * kept growing (vms_growth_allocations), followed through at most GROWTH_CHAIN of the watch's
 * full snapshots: the nearest to each end (sa, sb) and those of the samples s[0..n-1] between. */
static int new_allocations(struct vms_req *r, const struct vms_sample *s, size_t n, int64_t sa, int64_t sa_at,
                           int64_t sb, int64_t sb_at, cJSON *root)
{
	int64_t *ids = malloc((n + 2) * sizeof *ids);
	size_t *pick = malloc(GROWTH_CHAIN * sizeof *pick), n_ids = 0, n_pick = 0, n_loaded = 0;
	const struct vms_snapshot *chain[GROWTH_CHAIN];
	struct vms_snapshot *loaded[GROWTH_CHAIN];
	struct vms_alloc_growth *g = NULL;
	size_t n_g = 0;
	int err = ids && pick ? VMS_OK : VMS_ERR_NOMEM;
	if (err == VMS_OK) {
		ids[n_ids++] = sa;
		for (size_t i = 0; i < n; i++)
			if (s[i].snapshot_id && s[i].t_ms > sa_at && s[i].t_ms < sb_at &&
			    s[i].snapshot_id != sb)
				ids[n_ids++] = s[i].snapshot_id;
		ids[n_ids++] = sb;
		n_pick = vms_growth_spread(n_ids, GROWTH_CHAIN, pick);
	}
	for (size_t i = 0; err == VMS_OK && i < n_pick; i++) {
		err = vms_store_load(r->h->store, ids[pick[i]], &loaded[n_loaded]);
		if (err == VMS_OK) {
			chain[n_loaded] = loaded[n_loaded];
			n_loaded++;
		} else if (err == VMS_ERR_NOT_FOUND)
			err = VMS_OK; /* deleted meanwhile: follow the others */
	}
	if (err == VMS_OK)
		err = vms_growth_allocations(chain, n_loaded, &g, &n_g);
	cJSON *arr = cJSON_AddArrayToObject(root, "new_allocations");
	cJSON_AddNumberToObject(root, "snapshots_compared", (double)n_loaded);
	for (size_t i = 0, shown = 0; err == VMS_OK && i < n_g && shown < TOP_ALLOCATIONS; i++) {
		if (!g[i].kept_growing)
			continue;
		cJSON *o = alloc_json(g[i].a);
		add_time(o, "appeared_at", "appeared_at_ms", g[i].appeared_ms);
		cJSON_AddNumberToObject(o, "seen", g[i].seen);
		cJSON_AddNumberToObject(o, "rises", g[i].rises);
		cJSON_AddItemToObject(o, "delta", deltas_json(g[i].since_delta));
		cJSON_AddItemToObject(o, "per_minute", deltas_json(g[i].since_per_minute));
		cJSON_AddItemToArray(arr, o);
		shown++;
	}
	free(g);
	for (size_t i = 0; i < n_loaded; i++)
		vms_snapshot_free(loaded[i]);
	free(ids);
	free(pick);
	return err;
}

/* The shape of type t's committed over the samples (vmscope/growth.h): "growth" with its kind
 * and "leak_like" (steady growth, not a one-time jump). t_ms and v are scratch arrays of n
 * (t_ms NULL: out of memory). */
static int add_growth(cJSON *o, const struct vms_sample *s, size_t n, int t, const int64_t *t_ms, uint64_t *v)
{
	struct vms_growth_fit f;
	if (!t_ms || !v)
		return VMS_ERR_NOMEM;
	for (size_t i = 0; i < n; i++)
		v[i] = s[i].summary[t].cols[VMS_COL_COMMITTED];
	vms_growth_fit(t_ms, v, n, &f);
	cJSON *g = cJSON_AddObjectToObject(o, "growth");
	cJSON_AddStringToObject(g, "kind", vms_growth_kind_key(f.kind));
	cJSON_AddNumberToObject(g, "rises", (double)f.rises);
	cJSON_AddNumberToObject(g, "largest_step", (double)f.largest_step);
	cJSON_AddNumberToObject(g, "largest_drop", (double)f.largest_drop);
	cJSON_AddNumberToObject(g, "slope_per_minute", (double)(int64_t)f.slope_per_min);
	cJSON_AddNumberToObject(g, "r2", (double)(int64_t)(f.r2 * 1000.0) / 1000.0);
	cJSON_AddBoolToObject(o, "leak_like", f.kind == VMS_GROWTH_STEADY);
	return VMS_OK;
}

/* Fragmentation over the range: Free's largest block at each end and its smallest. */
static void add_free_largest(cJSON *root, const struct vms_sample *s, size_t n)
{
	uint64_t lo = UINT64_MAX;
	for (size_t i = 0; i < n; i++)
		if (s[i].summary[VMS_TYPE_FREE].largest < lo)
			lo = s[i].summary[VMS_TYPE_FREE].largest;
	cJSON *f = cJSON_AddObjectToObject(root, "free_largest");
	cJSON_AddNumberToObject(f, "from", (double)s[0].summary[VMS_TYPE_FREE].largest);
	cJSON_AddNumberToObject(f, "to", (double)s[n - 1].summary[VMS_TYPE_FREE].largest);
	cJSON_AddNumberToObject(f, "min", (double)lo);
}

int vms_h_watch_growth(struct vms_req *r)
{
	int64_t id;
	int st = vms_watch_param(r, &id);
	return st ? st : vms_send_watch_growth(r, id, NULL);
}

int vms_send_watch_growth(struct vms_req *r, int64_t id, const char *share_token)
{
	struct vms_sample *s = NULL;
	size_t n = 0;
	int64_t from, to;
	int st;
	if ((st = time_query(r, "from", &from)) != 0 || (st = time_query(r, "to", &to)) != 0)
		return st;
	int err = vms_store_samples(r->h->store, id, from, to, &s, &n);
	if (err != VMS_OK)
		return vms_send_vms_err(r, err, 0);
	if (n < 2) {
		free(s);
		return vms_send_error(r, 404, "not_enough_samples",
		                      "watch %lld has fewer than two samples in that range", (long long)id);
	}
	const struct vms_sample *a = &s[0], *b = &s[n - 1];
	int64_t span_ms = b->t_ms - a->t_ms;
	cJSON *root = cJSON_CreateObject();
	cJSON_AddNumberToObject(root, "watch_id", (double)id);
	add_time(root, "from", "from_ms", a->t_ms);
	add_time(root, "to", "to_ms", b->t_ms);
	cJSON_AddNumberToObject(root, "samples", (double)n);

	/* Per type, sorted by committed growth (largest first). */
	int order[VMS_TYPE_COUNT], nt = 0;
	for (int t = 0; t < VMS_TYPE_COUNT; t++)
		if (t != VMS_TYPE_FREE)
			order[nt++] = t;
	for (int i = 1; i < nt; i++)
		for (int j = i; j > 0; j--) {
			int64_t dj = (int64_t)(b->summary[order[j]].cols[VMS_COL_COMMITTED] -
			                       a->summary[order[j]].cols[VMS_COL_COMMITTED]);
			int64_t dk = (int64_t)(b->summary[order[j - 1]].cols[VMS_COL_COMMITTED] -
			                       a->summary[order[j - 1]].cols[VMS_COL_COMMITTED]);
			if (dj <= dk)
				break;
			int tmp = order[j];
			order[j] = order[j - 1];
			order[j - 1] = tmp;
		}
	cJSON *types = cJSON_AddArrayToObject(root, "types");
	int64_t *t_ms = malloc(n * sizeof *t_ms);
	uint64_t *v = malloc(n * sizeof *v);
	if (!t_ms || !v) {
		free(t_ms);
		t_ms = NULL;
	} else {
		for (size_t i = 0; i < n; i++)
			t_ms[i] = s[i].t_ms;
	}
	for (int i = 0; i < nt; i++) {
		int t = order[i];
		cJSON *o = cJSON_CreateObject(), *d = cJSON_CreateObject(), *pm = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "type", vms_type_key((enum vms_type)t));
		cJSON_AddStringToObject(o, "name", vms_type_name((enum vms_type)t));
		for (int c = 0; c < VMS_COL_COUNT; c++) {
			int64_t dv = (int64_t)(b->summary[t].cols[c] - a->summary[t].cols[c]);
			cJSON_AddNumberToObject(d, vms_col_key((enum vms_col)c), (double)dv);
			cJSON_AddNumberToObject(pm, vms_col_key((enum vms_col)c),
			                        span_ms > 0 ? (double)(dv * 60000 / span_ms) : 0);
		}
		cJSON_AddNumberToObject(o, "blocks_delta",
		                        (double)((int64_t)(b->summary[t].blocks - a->summary[t].blocks)));
		cJSON_AddItemToObject(o, "delta", d);
		cJSON_AddItemToObject(o, "per_minute", pm);
		if (add_growth(o, s, n, t, t_ms, v) != VMS_OK) {
			cJSON_Delete(root);
			free(t_ms);
			free(v);
			free(s);
			return vms_send_error(r, 503, "out_of_memory", "out of memory");
		}
		cJSON_AddItemToArray(types, o);
	}
	free(t_ms);
	free(v);
	add_free_largest(root, s, n);
	cJSON *tot = cJSON_AddObjectToObject(root, "total_delta");
	for (int c = 0; c < VMS_COL_COUNT; c++)
		cJSON_AddNumberToObject(tot, vms_col_key((enum vms_col)c),
		                        (double)(int64_t)(b->total[c] - a->total[c]));

	/* The allocations, through the nearest full snapshots of each end. */
	int64_t sa = 0, sa_at = 0, sb = 0, sb_at = 0;
	int e1 = vms_store_sample_nearest_snapshot(r->h->store, id, a->t_ms, &sa, &sa_at);
	int e2 = vms_store_sample_nearest_snapshot(r->h->store, id, b->t_ms, &sb, &sb_at);
	cJSON *allocs = cJSON_CreateArray();
	if (e1 == VMS_OK && e2 == VMS_OK && sa != sb) {
		cJSON *sn = cJSON_AddObjectToObject(root, "snapshots");
		cJSON_AddItemToObject(sn, "from", snapshot_ref(sa, sa_at, a->t_ms, share_token));
		cJSON_AddItemToObject(sn, "to", snapshot_ref(sb, sb_at, b->t_ms, share_token));
		char diff_url[200];
		if (share_token)
			snprintf(diff_url, sizeof diff_url, "/api/v1/shared/%s/watch/diff?from=%lld&to=%lld",
			         share_token, (long long)sa, (long long)sb);
		else
			snprintf(diff_url, sizeof diff_url, "/api/v1/diff?from=%lld&to=%lld", (long long)sa,
			         (long long)sb);
		cJSON_AddStringToObject(sn, "diff_url", diff_url);
		err = top_allocations(r, sa, sb, sb_at - sa_at, allocs);
		if (err == VMS_OK)
			err = new_allocations(r, s, n, sa, sa_at, sb, sb_at, root);
		cJSON_AddNullToObject(root, "allocations_note");
	} else {
		cJSON_AddNullToObject(root, "snapshots");
		cJSON_AddStringToObject(root, "allocations_note",
		                        "fewer than two full snapshots near this range: no allocation "
		                        "comparison (full snapshots are kept every snapshot_every_s)");
		cJSON_AddArrayToObject(root, "new_allocations");
		cJSON_AddNumberToObject(root, "snapshots_compared", 0);
	}
	cJSON_AddItemToObject(root, "allocations", allocs);
	free(s);
	if (err != VMS_OK) {
		cJSON_Delete(root);
		return vms_send_vms_err(r, err, 0);
	}
	return vms_send_json(r, 200, root);
}
