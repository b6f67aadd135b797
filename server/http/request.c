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
	    (st = bool_opt(r, body, "share", &o->share)) == 0)
		st = bool_opt(r, body, "peek", &o->peek);
	cJSON_Delete(body);
	return st;
}

void vms_origin(const struct vms_req *r, char *buf, size_t size)
{
	const char *host = mg_get_header(r->conn, "Host");
	snprintf(buf, size, "http://%s", host ? host : "127.0.0.1");
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
