/* POST /api/v1/snapshots/{id}/send: the dashboard's "Send to…": this daemon sends a stored
 * snapshot to another vmscope daemon's import route over TLS, as `vmscope snapshot --upload`
 * does, and answers with the share link that daemon made. Authenticated like every write; the
 * other daemon's certificate is checked by a pinned fingerprint or the system's CAs (never
 * skipped); its API token passes through and is not kept or logged. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_internal.h"
#include "vmscope/error.h"
#include "vmscope/tls.h"

#define SEND_TIMEOUT_MS 15000u

struct grow {
	char *data;
	size_t len, cap;
};

static int grow_size(void *arg, uint64_t total)
{
	struct grow *g = arg;
	if (total > SIZE_MAX - 1 || !(g->data = malloc((size_t)total + 1)))
		return -1;
	g->cap = (size_t)total;
	return 0;
}

static int grow_chunk(void *arg, const void *buf, size_t len)
{
	struct grow *g = arg;
	if (len > g->cap - g->len)
		return -1;
	memcpy(g->data + g->len, buf, len);
	g->len += len;
	return 0;
}

/* A string member of the body, or NULL; *bad set when it is there but not a string. */
static const char *str_member(cJSON *body, const char *name, int *bad)
{
	cJSON *it = cJSON_GetObjectItemCaseSensitive(body, name);
	if (it && !cJSON_IsString(it))
		*bad = 1;
	return it ? cJSON_GetStringValue(it) : NULL;
}

/* The remote daemon's answer to ours: 201 {share_url, expires_at} or 502 with what it said. */
static int answer(struct vms_req *r, int status, const char *resp)
{
	cJSON *j = cJSON_Parse(resp);
	cJSON *share = cJSON_GetObjectItem(j, "share");
	const char *url = cJSON_GetStringValue(cJSON_GetObjectItem(share, "url"));
	int st;
	if (status == 201 && url) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "share_url", url);
		cJSON *exp = cJSON_GetObjectItem(share, "expires_at");
		if (cJSON_IsString(exp))
			cJSON_AddStringToObject(o, "expires_at", exp->valuestring);
		else
			cJSON_AddNullToObject(o, "expires_at");
		st = vms_send_json(r, 201, o);
	} else {
		const char *msg =
		    cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "error"), "message"));
		st = vms_send_error(r, 502, "remote_refused", "the other daemon answered %d: %.300s", status,
		                    msg ? msg : "no explanation");
	}
	cJSON_Delete(j);
	return st;
}

int vms_h_snapshot_send(struct vms_req *r)
{
	char *text = NULL, fp[VMS_TLS_FP_LEN + 1], headers[256], path[96], errbuf[1024] = "";
	size_t len = 0, resp_len = 0;
	struct grow g = {0};
	char *resp = NULL;
	int64_t id, ms;
	int st, bad = 0, status = 0;
	if ((st = vms_param_id(r, r->param[0], &id)) != 0 || (st = vms_read_body(r, &text, &len)) != 0)
		return st;
	if (len && (st = vms_json_depth_ok(r, text, len)) != 0) {
		free(text);
		return st;
	}
	cJSON *body = len ? cJSON_ParseWithLength(text, len) : NULL;
	free(text);
	const char *url = str_member(body, "url", &bad), *token = str_member(body, "token", &bad);
	const char *fpt = str_member(body, "fingerprint", &bad), *life = str_member(body, "lifetime", &bad);
	struct vms_tls_trust trust = {.fingerprint = NULL};
	if (!cJSON_IsObject(body) || bad || !url || strncmp(url, "https://", 8) != 0 ||
	    (token && strlen(token) > VMS_API_TOKEN_LEN) ||
	    (fpt && vms_tls_fingerprint_parse(fpt, fp) != 0) ||
	    (life && (strlen(life) > 16 || vms_parse_lifetime(life, &ms) != 0))) {
		cJSON_Delete(body);
		return vms_send_error(
		    r, 400, "bad_json",
		    "send {\"url\":\"https://HOST:PORT\",\"token\":\"...\",\"fingerprint\":"
		    "\"AB:CD:...\",\"lifetime\":\"7d\"}: url https only; fingerprint optional "
		    "(else the system's CAs); lifetime as for share links");
	}
	if (fpt)
		trust.fingerprint = fp;
	snprintf(headers, sizeof headers, "Content-Type: application/json\r\n%s%s%s",
	         token && *token ? "Authorization: Bearer " : "", token ? token : "",
	         token && *token ? "\r\n" : "");
	snprintf(path, sizeof path, "/api/v1/snapshots?share=1&lifetime=%s", life ? life : "7d");
	struct vms_store_sink sink = {.size = grow_size, .chunk = grow_chunk, .arg = &g};
	int err = vms_http_snapshot_json(r->h->store, id, &sink);
	if ((st = vms_answer_store(r, err, "no snapshot %lld", (long long)id)) != 0)
		goto out;
	if (vms_https_request(url, &trust, "POST", path, headers, g.data, g.len, SEND_TIMEOUT_MS, &status,
	                      &resp, &resp_len, errbuf, sizeof errbuf) != 0) {
		st = vms_send_error(r, 502, "send_failed", "%s", errbuf);
		goto out;
	}
	vms_log(r->h, VMS_LOG_INFO, "sent snapshot %lld to another daemon (HTTP %d)", (long long)id, status);
	st = answer(r, status, resp);
out:
	explicit_bzero(headers, sizeof headers);
	cJSON_Delete(body);
	free(g.data);
	free(resp);
	return st;
}
