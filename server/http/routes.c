/* The API as a table (method, pattern, flags, handler) and the dispatcher that applies the
 * per-request checks in order: token, cross-site refusal, content type, then the handler. */
#include <stdio.h>
#include <string.h>

#include "http_internal.h"

#define V1 "/api/v1"

/* Order matters where patterns overlap: "{}.csv" before "{}". */
const struct vms_route vms_routes[] = {
    {"GET", V1 "/health", 0, vms_h_health},
    {"GET", V1 "/version", 0, vms_h_version},
    /* across processes (api_system.c): memory by area and user; mapped files and who maps them */
    {"GET", V1 "/system", 0, vms_h_system},
    {"GET", V1 "/system/files", 0, vms_h_system_files},
    {"GET", V1 "/processes", 0, vms_h_processes},
    {"GET", V1 "/processes/{}", 0, vms_h_process},
    {"POST", V1 "/processes/{}/snapshots", 0, vms_h_process_snapshot},
    {"GET", V1 "/processes/{}/changes", 0, vms_h_process_changes},
    {"GET", V1 "/processes/{}/at/{}", 0, vms_h_process_at},
    /* Inside the pages (api_pages.c): never public; strings and trim need --allow-memory-read. */
    {"GET", V1 "/processes/{}/residency", 0, vms_h_process_residency},
    {"GET", V1 "/processes/{}/strings", 0, vms_h_process_strings},
    {"POST", V1 "/processes/{}/trim", 0, vms_h_process_trim},
    {"POST", V1 "/processes/{}/workingset", 0, vms_h_process_workingset},
    {"GET", V1 "/snapshots", 0, vms_h_snapshots},
    {"POST", V1 "/snapshots", 0, vms_h_snapshot_import},
    {"GET", V1 "/snapshots/{}.csv", 0, vms_h_snapshot_csv},
    {"GET", V1 "/snapshots/{}.txt", 0, vms_h_snapshot_txt},
    {"GET", V1 "/snapshots/{}.html", 0, vms_h_snapshot_html}, /* the HTML report (json/html.c) */
    {"GET", V1 "/snapshots/{}.json", 0, vms_h_snapshot_get},
    {"GET", V1 "/snapshots/{}", 0, vms_h_snapshot_get},
    {"DELETE", V1 "/snapshots/{}", 0, vms_h_snapshot_delete},
    {"GET", V1 "/snapshots/{}/at/{}", 0, vms_h_snapshot_at},
    {"GET", V1 "/snapshots/{}/meta", 0, vms_h_snapshot_meta},
    /* residency stored with the snapshot (api_residency.c): never on a share route */
    {"GET", V1 "/snapshots/{}/residency", 0, vms_h_snapshot_residency},
    {"POST", V1 "/snapshots/{}/share", 0, vms_h_share_create},
    {"GET", V1 "/snapshots/{}/shares", 0, vms_h_share_list},
    {"POST", V1 "/snapshots/{}/send", 0, vms_h_snapshot_send},
    {"DELETE", V1 "/shares/{}", 0, vms_h_share_revoke},
    {"GET", V1 "/diff", 0, vms_h_diff},
    {"POST", V1 "/watches", 0, vms_h_watch_create},
    {"GET", V1 "/watches", 0, vms_h_watches},
    {"GET", V1 "/watches/{}", 0, vms_h_watch_get},
    {"DELETE", V1 "/watches/{}", 0, vms_h_watch_delete},
    {"GET", V1 "/watches/{}/samples", 0, vms_h_watch_samples},
    {"GET", V1 "/watches/{}/growth", 0, vms_h_watch_growth},
    {"POST", V1 "/export.csv", 0, vms_h_export_csv},
    {"POST", V1 "/export.txt", 0, vms_h_export_txt},
    {"GET", V1 "/shared/{}.csv", VMS_ROUTE_PUBLIC, vms_h_shared_csv},
    {"GET", V1 "/shared/{}.txt", VMS_ROUTE_PUBLIC, vms_h_shared_txt},
    {"GET", V1 "/shared/{}.html", VMS_ROUTE_PUBLIC, vms_h_shared_html},
    {"GET", V1 "/shared/{}.json", VMS_ROUTE_PUBLIC, vms_h_shared_get},
    {"GET", V1 "/shared/{}", VMS_ROUTE_PUBLIC, vms_h_shared_get},
    {"GET", V1 "/shared/{}/at/{}", VMS_ROUTE_PUBLIC, vms_h_shared_at},
    /* Prometheus's scrape path (outside /api/v1 by its convention); the API token as for
     * every other route (a scrape config's bearer_token_file). */
    {"GET", "/metrics", 0, vms_h_metrics},
    /* docs/openapi.json (every route above has its path there: tests/e2e/openapi.test.mjs) */
    {"GET", V1 "/openapi.json", 0, vms_h_openapi},
    {"GET", V1 "/shared/{}/about", VMS_ROUTE_PUBLIC, vms_h_shared_about},
    /* several addresses at once (a pasted stack trace): {"addresses": [...]} (api_at.c) */
    {"POST", V1 "/processes/{}/at", 0, vms_h_process_at_many},
    {"POST", V1 "/snapshots/{}/at", 0, vms_h_snapshot_at_many},
    {"POST", V1 "/shared/{}/at", VMS_ROUTE_PUBLIC, vms_h_shared_at_many},
    {"POST", V1 "/export.html", 0, vms_h_export_html},
    /* a watch's timeline: import a `vmscope watch -o` file; share links (api_watch_shares.c),
     * public only for that watch's stored timeline */
    {"POST", V1 "/watches/import", 0, vms_h_watch_import},
    {"POST", V1 "/watches/{}/share", 0, vms_h_watch_share_create},
    {"GET", V1 "/watches/{}/shares", 0, vms_h_watch_share_list},
    {"GET", V1 "/shared/{}/watch", VMS_ROUTE_PUBLIC, vms_h_shared_watch},
    {"GET", V1 "/shared/{}/watch/samples", VMS_ROUTE_PUBLIC, vms_h_shared_watch_samples},
    {"GET", V1 "/shared/{}/watch/growth", VMS_ROUTE_PUBLIC, vms_h_shared_watch_growth},
    {"GET", V1 "/shared/{}/watch/diff", VMS_ROUTE_PUBLIC, vms_h_shared_watch_diff},
    {"GET", V1 "/shared/{}/watch/snapshots/{}", VMS_ROUTE_PUBLIC, vms_h_shared_watch_snapshot},
};
const size_t vms_n_routes = sizeof vms_routes / sizeof vms_routes[0];

/* Segment by segment: a literal must be equal; "{}" followed by a literal suffix (".csv")
 * captures a non-empty segment ending with that suffix; "{}" alone captures a non-empty one. */
int vms_route_match(const char *pattern, const char *path, struct vms_req *r)
{
	int np = 0;
	const char *p = pattern, *s = path;
	while (*p) {
		if (p[0] == '{' && p[1] == '}') {
			p += 2;
			const char *pend = strchr(p, '/');
			size_t suffix = pend ? (size_t)(pend - p) : strlen(p);
			const char *send = strchr(s, '/');
			size_t seg = send ? (size_t)(send - s) : strlen(s);
			if (seg <= suffix || strncmp(s + seg - suffix, p, suffix) != 0)
				return 0;
			size_t cap = seg - suffix;
			if (np >= VMS_MAX_PARAMS || cap >= VMS_PARAM_MAX)
				return 0;
			memcpy(r->param[np], s, cap);
			r->param[np][cap] = '\0';
			np++;
			p += suffix;
			s += seg;
		} else {
			if (*p != *s)
				return 0;
			p++;
			s++;
		}
	}
	return *s == '\0';
}

/* Whether a request with this method is served by a route declared for route_method: HEAD is
 * every GET route without its body (the responders leave the body out for HEAD). */
static int method_serves(const char *route_method, const char *method)
{
	return !strcmp(route_method, method) || (!strcmp(method, "HEAD") && !strcmp(route_method, "GET"));
}

static void allow_add(char *allow, size_t allow_len, const char *method)
{
	if (strstr(allow, method))
		return;
	size_t n = strlen(allow);
	snprintf(allow + n, allow_len - n, "%s%s", n ? ", " : "", method);
}

/* The route for r's path and method (its captures copied into r->param), or NULL; allow gets the
 * methods the path has, for a 405. */
static const struct vms_route *route_find(struct vms_req *r, const char *method, char *allow,
                                          size_t allow_len)
{
	for (size_t i = 0; i < vms_n_routes; i++) {
		struct vms_req probe = *r;
		if (!vms_route_match(vms_routes[i].pattern, r->path, &probe))
			continue;
		if (method_serves(vms_routes[i].method, method)) {
			memcpy(r->param, probe.param, sizeof r->param);
			return &vms_routes[i];
		}
		allow_add(allow, allow_len, vms_routes[i].method);
		if (!strcmp(vms_routes[i].method, "GET"))
			allow_add(allow, allow_len, "HEAD");
	}
	return NULL;
}

int vms_api_dispatch(struct vms_req *r)
{
	const char *method = r->ri->request_method;
	char allow[64] = "";
	const struct vms_route *found = route_find(r, method, allow, sizeof allow);
	/* The route's flag is the only thing that makes a request public (no token, any site). */
	int public_route = found && (found->flags & VMS_ROUTE_PUBLIC);

	/* Authentication before anything else is told: an unauthenticated client learns nothing,
	 * not even which paths exist, except through a public route, whose own capability (the
	 * share token) the handler checks. */
	if (!public_route && !vms_token_ok(r->h, mg_get_header(r->conn, "Authorization"))) {
		static const struct vms_header h[] = {{"WWW-Authenticate", "Bearer realm=\"vmscope\""},
		                                      {NULL, NULL}};
		/* No keep-alive for a client without the token: 8 connections repeating 401 requests
		 * held all 8 workers. Closed, each one has to queue behind everybody else again. */
		mg_disable_connection_keep_alive(r->conn);
		return vms_send_error_x(r, 401, "unauthorized", h,
		                        "missing or wrong API token: send \"Authorization: Bearer TOKEN\" "
		                        "(vmscope token prints it)");
	}
	if (!found) {
		if (*allow) {
			struct vms_header h[] = {{"Allow", allow}, {NULL, NULL}};
			return vms_send_error_x(r, 405, "method_not_allowed", h,
			                        "%s is not allowed here (allowed: %s)", method, allow);
		}
		return vms_send_error(r, 404, "not_found", "no such API endpoint");
	}

	int writes = strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
	/* CSRF and cross-site reads: a foreign page may not drive the API. A share link may be
	 * opened from anywhere (it is a read-only capability). */
	if (!public_route && vms_cross_site(r->h, r->conn)) {
		mg_disable_connection_keep_alive(r->conn);
		return vms_send_error(r, 403, "cross_origin", "requests from other sites are refused");
	}
	if (writes) {
		const char *ct = mg_get_header(r->conn, "Content-Type");
		long long cl = r->ri->content_length;
		int has_body = cl > 0 || (cl < 0 && mg_get_header(r->conn, "Transfer-Encoding"));
		/* POST always needs the JSON type (a form or text/plain post never has it);
		 * DELETE only when it carries a body. */
		if ((!strcmp(method, "POST") || has_body) && !vms_is_json_type(ct))
			return vms_send_error(r, 415, "unsupported_media_type",
			                      "send Content-Type: application/json with %s", method);
	}
	return found->handler(r);
}
