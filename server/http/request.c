/* Reading requests: the body (bounded), query parameters and strict parsing of ids, pids and
 * addresses; plus small shared helpers (origin, times, logging). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "http_internal.h"
#include "vmscope/error.h"
#include "vmscope/json.h"
#include "vmscope/snapshot.h"

#define PID_MAX_LIMIT 4194304 /* the kernel's ceiling for /proc/sys/kernel/pid_max */

int vms_read_body(struct vms_req *r, char **body, size_t *len)
{
	long long cl = r->ri->content_length;
	const char *te = mg_get_header(r->conn, "Transfer-Encoding");
	size_t cap, n = 0;
	char *buf = NULL;

	*body = NULL;
	*len = 0;
	if (cl <= 0 && !(cl < 0 && te && strcasestr(te, "chunked"))) {
		r->body_read = 1;
		return 0;
	}
	if (cl > 0 && (uint64_t)cl > r->h->max_body) /* begin_request refuses these already */
		return vms_send_error(r, 413, "body_too_large", "request body too large");
	cap = cl > 0 ? (size_t)cl : 64 * 1024;
	if (!(buf = malloc(cap + 1)))
		return vms_send_error(r, 503, "out_of_memory", "out of memory");
	for (;;) {
		if (n == cap) {
			if (cl > 0)
				break;
			if (cap >= r->h->max_body) {
				free(buf);
				return vms_send_error(r, 413, "body_too_large",
				                      "request body larger than the %llu MiB limit",
				                      (unsigned long long)(r->h->max_body >> 20));
			}
			size_t ncap = cap * 2 > r->h->max_body ? (size_t)r->h->max_body : cap * 2;
			char *g = realloc(buf, ncap + 1);
			if (!g) {
				free(buf);
				return vms_send_error(r, 503, "out_of_memory", "out of memory");
			}
			buf = g;
			cap = ncap;
		}
		int got = mg_read(r->conn, buf + n, cap - n);
		if (got <= 0)
			break;
		n += (size_t)got;
	}
	if (cl > 0 && n != (size_t)cl) {
		free(buf);
		return vms_send_error(r, 400, "bad_request", "the request body ended early");
	}
	if (cl < 0 && n == cap && cap >= r->h->max_body) {
		/* Exactly at the limit with more possibly pending: peek one more byte. */
		char extra;
		if (mg_read(r->conn, &extra, 1) > 0) {
			free(buf);
			return vms_send_error(r, 413, "body_too_large", "request body too large");
		}
	}
	r->body_read = 1;
	buf[n] = '\0';
	*body = buf;
	*len = n;
	return 0;
}

/* ?NAME= as a decimal in [min, max] into *out (left alone when absent). 0 or the 400 sent. */
int vms_query_u64(struct vms_req *r, const char *name, uint64_t min, uint64_t max, uint64_t *out)
{
	char v[24];
	int64_t x;
	int n = vms_query(r, name, v, sizeof v);
	if (n == -1)
		return 0;
	if (n < 0 || vms_parse_i64(v, (int64_t)min, (int64_t)max, &x) != 0)
		return vms_send_error(r, 400, "bad_query", "?%s= takes a whole number from %llu to %llu",
		                      name, (unsigned long long)min, (unsigned long long)max);
	*out = (uint64_t)x;
	return 0;
}

int vms_query(const struct vms_req *r, const char *name, char *buf, size_t size)
{
	const char *qs = r->ri->query_string;
	if (!qs)
		return -1;
	int n = mg_get_var(qs, strlen(qs), name, buf, size);
	return n < -1 ? -2 : n;
}

int vms_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	int64_t v = 0;
	if (!s || !*s)
		return -1;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		if (v > (INT64_MAX - (*p - '0')) / 10)
			return -1;
		v = v * 10 + (*p - '0');
	}
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int vms_param_id(struct vms_req *r, const char *text, int64_t *id)
{
	if (vms_parse_i64(text, 1, INT64_MAX, id) != 0)
		return vms_send_error(r, 400, "bad_id", "snapshot ids are positive decimal integers");
	return 0;
}

int vms_param_pid(struct vms_req *r, const char *text, int *pid)
{
	int64_t v;
	if (vms_parse_i64(text, 0, INT64_MAX, &v) != 0)
		return vms_send_error(r, 400, "bad_pid", "a pid is a positive decimal integer");
	if (v < 1 || v > PID_MAX_LIMIT)
		return vms_send_error(r, 404, "no_such_process", "no process with pid %s", text);
	*pid = (int)v;
	return 0;
}

int vms_param_addr(struct vms_req *r, const char *text, uint64_t *addr)
{
	if (strlen(text) > 18 || vms_parse_address(text, addr) != VMS_OK)
		return vms_send_error(r, 400, "bad_address",
		                      "an address is hexadecimal, e.g. 0x7f15d8fd4000");
	return 0;
}

static int bool_opt(struct vms_req *r, cJSON *body, const char *name, int *out)
{
	char v[8];
	if (body) {
		cJSON *it = cJSON_GetObjectItemCaseSensitive(body, name);
		if (it) {
			if (!cJSON_IsBool(it))
				return vms_send_error(r, 400, "bad_json", "\"%s\" must be true or false",
				                      name);
			*out = cJSON_IsTrue(it);
		}
	}
	int n = vms_query(r, name, v, sizeof v);
	if (n == -1)
		return 0;
	if (!strcmp(v, "1") || !strcmp(v, "true"))
		*out = 1;
	else if (!strcmp(v, "0") || !strcmp(v, "false"))
		*out = 0;
	else
		return vms_send_error(r, 400, "bad_query", "?%s= takes 1/true or 0/false", name);
	return 0;
}

int vms_query_bool(struct vms_req *r, const char *name, int *out)
{
	return bool_opt(r, NULL, name, out);
}

int vms_json_depth_ok(struct vms_req *r, const char *text, size_t len)
{
	size_t at;
	if (!vms_json_too_deep(text, len, VMS_JSON_MAX_DEPTH, &at))
		return 0;
	return vms_send_error(r, 400, "too_deep", "the JSON body nests deeper than %d levels (at byte %zu)",
	                      VMS_JSON_MAX_DEPTH, at);
}

int vms_parse_lifetime(const char *s, int64_t *ms)
{
	static const struct {
		char unit;
		int64_t ms;
	} units[] = {{'s', 1000}, {'m', 60000}, {'h', 3600000}, {'d', 86400000}};
	int64_t v;
	char num[24];
	size_t n = s ? strlen(s) : 0;
	if (n && !strcmp(s, "never")) {
		*ms = 0;
		return 0;
	}
	if (n < 2 || n >= sizeof num)
		return -1;
	memcpy(num, s, n - 1);
	num[n - 1] = '\0';
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (s[n - 1] == units[i].unit &&
		    vms_parse_i64(num, 1, VMS_SHARE_MAX_LIFETIME_MS / units[i].ms, &v) == 0) {
			*ms = v * units[i].ms;
			return 0;
		}
	return -1;
}

/* "lifetime" ("never", "90s", "30m", "12h", "7d") and "max_views" (1 to 1000000) from the body
 * or the query into o. 0, or the status of the 400 sent. */
static int link_opts(struct vms_req *r, cJSON *body, struct vms_share_opts *o)
{
	char v[24];
	const char *text = NULL;
	cJSON *it = body ? cJSON_GetObjectItemCaseSensitive(body, "lifetime") : NULL;
	if (it && !(text = cJSON_GetStringValue(it)))
		return vms_send_error(r, 400, "bad_json",
		                      "\"lifetime\" is a string such as \"7d\" or \"never\"");
	int n = vms_query(r, "lifetime", v, sizeof v);
	if (n >= 0)
		text = v;
	int64_t ms = 0;
	if ((n == -2 || text) && vms_parse_lifetime(n == -2 ? "" : text, &ms) != 0)
		return vms_send_error(r, 400, it && n == -1 ? "bad_json" : "bad_query",
		                      "lifetime takes \"never\" or a number with s, m, h or d (\"30m\", "
		                      "\"7d\"), at most 365 days");
	if (text)
		o->lifetime_ms = ms ? ms : -1;
	it = body ? cJSON_GetObjectItemCaseSensitive(body, "max_views") : NULL;
	if (it && (!cJSON_IsNumber(it) || it->valuedouble < 1 || it->valuedouble > 1e6 ||
	           it->valuedouble != (double)(int64_t)it->valuedouble))
		return vms_send_error(r, 400, "bad_json", "\"max_views\" takes 1 to 1000000");
	if (it)
		o->max_views = (int64_t)it->valuedouble;
	if ((n = vms_query(r, "max_views", v, sizeof v)) != -1 &&
	    (n < 0 || vms_parse_i64(v, 1, 1000000, &o->max_views) != 0))
		return vms_send_error(r, 400, "bad_query", "?max_views= takes 1 to 1000000");
	return 0;
}

int vms_share_options(struct vms_req *r, struct vms_share_opts *o, int read_body)
{
	char *text = NULL;
	size_t len = 0;
	cJSON *body = NULL;
	int st;
	if (read_body && (st = vms_read_body(r, &text, &len)) != 0)
		return st;
	if (len && (st = vms_json_depth_ok(r, text, len)) != 0) {
		free(text);
		return st;
	}
	if (len) {
		const char *end = NULL;
		body = cJSON_ParseWithLengthOpts(text, len + 1, &end,
		                                 1); /* len + 1: cJSON wants to see the NUL */
		int dup_nomem = 0;
		const char *dup = body ? vms_json_dup_key(body, &dup_nomem) : NULL;
		if (dup || dup_nomem) {
			st = dup ? vms_send_error(r, 400, "bad_json", "the key \"%.64s\" appears twice", dup)
			         : vms_send_error(r, 503, "out_of_memory", "out of memory");
			cJSON_Delete(body);
			free(text);
			return st;
		}
		if (!body || !cJSON_IsObject(body)) {
			cJSON_Delete(body);
			free(text);
			return vms_send_error(
			    r, 400, "bad_json",
			    "the body must be a JSON object such as {\"omit_cmdline\":true}");
		}
	}
	free(text);
	if ((st = bool_opt(r, body, "omit_cmdline", &o->omit_cmdline)) == 0 &&
	    (st = bool_opt(r, body, "share", &o->share)) == 0 &&
	    (st = bool_opt(r, body, "peek", &o->peek)) == 0)
		st = link_opts(r, body, o);
	cJSON_Delete(body);
	return st;
}

void vms_origin(const struct vms_req *r, char *buf, size_t size)
{
	const char *host = mg_get_header(r->conn, "Host");
	if (r->h->public_url)
		snprintf(buf, size, "%s", r->h->public_url);
	else
		snprintf(buf, size, "%s://%s", r->h->tls ? "https" : "http", host ? host : "127.0.0.1");
}

struct vms_share_spec vms_share_spec_of(const struct vms_share_opts *o)
{
	struct vms_share_spec spec = {.omit_cmdline = o->omit_cmdline,
	                              .lifetime_ms = o->lifetime_ms == 0  ? VMS_SHARE_DEFAULT_LIFETIME_MS
	                                             : o->lifetime_ms < 0 ? 0
	                                                                  : o->lifetime_ms,
	                              .max_views = o->max_views};
	return spec;
}

void vms_log(struct vms_http *h, enum vms_log_level level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	if (!h || !h->log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	h->log(h->log_arg, level, msg);
}
