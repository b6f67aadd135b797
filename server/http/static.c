/* GET /s/{token}: the dashboard's index.html for someone who has only a share link. The page's
 * script reads the token from location.pathname and calls /api/v1/shared/{token}; so the page
 * must load its assets by absolute path (/app.js, not app.js). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_internal.h"
#include "vmscope/error.h"
#include "vmscope/store_watch.h"
#include "vmscope/util.h"

static const char gone_page[] = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                                "<title>vmscope: link not found</title></head><body>"
                                "<h1>This share link does not exist or was revoked.</h1>"
                                "<p>Ask whoever sent it for a new one.</p></body></html>\n";

int vms_share_page(struct vms_req *r, const char *token)
{
	struct vms_share sh;
	char tok[VMS_SHARE_TOKEN_LEN + 2];
	size_t n = strlen(token);
	if (n && token[n - 1] == '/') /* "/s/TOKEN/" is the same page */
		n--;
	if (n >= sizeof tok)
		n = sizeof tok - 1;
	memcpy(tok, token, n);
	tok[n] = '\0';
	int err = vms_store_share_get(r->h->store, tok, &sh);
	if (err == VMS_ERR_NOT_FOUND) /* a watch's timeline (vmscope/store_watch.h) */
		err = vms_store_watch_share_get(r->h->store, tok, &sh);
	if (err == VMS_ERR_NOT_FOUND)
		return vms_send(r, 404, "text/html; charset=utf-8", gone_page, sizeof gone_page - 1, NULL);
	if (err != VMS_OK)
		return vms_send_vms_err(r, err, 0);
	int gone = vms_share_gone(&sh, vms_wall_ms());
	if (gone) {
		/* A plain page that says so, with nothing of the snapshot. */
		char page[512], when[32] = "";
		vms_format_time_ms(sh.expires_at_ms, when, sizeof when);
		int w = snprintf(page, sizeof page,
		                 "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		                 "<title>vmscope: link expired</title></head><body>"
		                 "<h1>This share link %s%s.</h1>"
		                 "<p>Ask whoever sent it for a new one.</p></body></html>\n",
		                 gone == 2 ? "has been opened as often as it allowed" : "expired at ",
		                 gone == 2 ? "" : when);
		return vms_send(r, 410, "text/html; charset=utf-8", page, (size_t)w, NULL);
	}
	if (!r->h->index_path)
		return vms_send_error(r, 404, "not_found",
		                      "no dashboard files: start vmscope serve with --web DIR");
	size_t len = 0;
	char *html = NULL;
	if (vms_read_file(AT_FDCWD, r->h->index_path, 16u << 20, &html, &len) != 0)
		return vms_send_error(r, 500, "io_error", "cannot read the dashboard's index.html");
	int st = vms_send(r, 200, "text/html; charset=utf-8", html, len, NULL);
	free(html);
	return st;
}
