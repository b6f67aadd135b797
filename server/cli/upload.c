/* vmscope snapshot --upload: send a snapshot's JSON to another vmscope daemon's import route over
 * TLS and print the share link it answers with. The certificate is checked by a CA file, a
 * pinned fingerprint or the system's CAs (vmscope/tls.h); the API token goes only to a daemon
 * that passed that check. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "commands.h"
#include "upload.h"
#include "vmscope/http.h"
#include "vmscope/tls.h"
#include "vmscope/util.h"

/* The first line of a token file (64 hex characters) into token. 0, or -1 after saying why. */
static int read_token(const char *path, char token[VMS_API_TOKEN_LEN + 1])
{
	char *text = NULL;
	size_t len = 0, n = 0;
	if (vms_read_file(AT_FDCWD, path, 4096, &text, &len) != 0) {
		fprintf(stderr, "vmscope snapshot: cannot read the token file %s: %s\n", path,
		        strerror(errno));
		return -1;
	}
	while (n < len && n <= VMS_API_TOKEN_LEN && vms_hex_digit((unsigned char)text[n]) >= 0)
		n++;
	int ok = n >= 32 && n <= VMS_API_TOKEN_LEN && (n == len || text[n] == '\n' || text[n] == '\r');
	if (ok) {
		memcpy(token, text, n);
		token[n] = '\0';
	} else {
		fprintf(stderr,
		        "vmscope snapshot: %s does not hold an API token (`vmscope token` on the other "
		        "machine prints it)\n",
		        path);
	}
	explicit_bzero(text, len);
	free(text);
	return ok ? 0 : -1;
}

/* What the daemon said, as a sentence: its error message, or the status. */
static void say_refused(int status, const char *body)
{
	cJSON *j = cJSON_Parse(body);
	const char *msg =
	    cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "error"), "message"));
	fprintf(stderr, "vmscope snapshot: the daemon refused the upload (HTTP %d): %s\n", status,
	        msg ? msg : "no explanation");
	cJSON_Delete(j);
}

int vms_upload(const char *json, size_t len, const struct vms_upload_opts *o)
{
	char token[VMS_API_TOKEN_LEN + 1] = "", headers[256], path[128], errbuf[1024] = "";
	char fp[VMS_TLS_FP_LEN + 1];
	struct vms_tls_trust trust = {.ca_file = o->ca_file};
	char *resp = NULL;
	size_t resp_len = 0;
	int status = 0, rc = VMS_EXIT_ERROR;
	if (o->fingerprint) {
		if (vms_tls_fingerprint_parse(o->fingerprint, fp) != 0) {
			fprintf(stderr, "vmscope snapshot: --fingerprint takes a SHA-256 fingerprint: 32 hex "
			                "bytes, with or without ':' (vmscope serve prints it)\n");
			return VMS_EXIT_USAGE;
		}
		trust.fingerprint = fp;
	}
	signal(SIGPIPE, SIG_IGN); /* a daemon that closes early is an error to report, not a reason to die */
	if (o->token_file && read_token(o->token_file, token) != 0)
		return VMS_EXIT_ERROR;
	snprintf(headers, sizeof headers, "Content-Type: application/json\r\n%s%s%s",
	         *token ? "Authorization: Bearer " : "", token, *token ? "\r\n" : "");
	snprintf(path, sizeof path, "/api/v1/snapshots?share=1&lifetime=%s",
	         o->lifetime ? o->lifetime : "7d");
	if (vms_https_request(o->url, &trust, "POST", path, headers, json, len, 30000, &status, &resp,
	                      &resp_len, errbuf, sizeof errbuf) != 0) {
		fprintf(stderr, "vmscope snapshot: upload to %s: %s\n", o->url, errbuf);
		goto out;
	}
	if (status != 201) {
		say_refused(status, resp);
		goto out;
	}
	cJSON *j = cJSON_Parse(resp);
	cJSON *share = cJSON_GetObjectItem(j, "share");
	const char *url = cJSON_GetStringValue(cJSON_GetObjectItem(share, "url"));
	const char *until = cJSON_GetStringValue(cJSON_GetObjectItem(share, "expires_at"));
	if (url) {
		printf("%s\n", url);
		fprintf(stderr, "vmscope snapshot: uploaded to %s; the link above works %s%s\n", o->url,
		        until ? "until " : "until it is revoked", until ? until : "");
		rc = VMS_EXIT_OK;
	} else {
		fprintf(stderr,
		        "vmscope snapshot: the daemon stored the snapshot but returned no share link\n");
	}
	cJSON_Delete(j);
out:
	explicit_bzero(token, sizeof token);
	explicit_bzero(headers, sizeof headers);
	free(resp);
	return rc;
}
