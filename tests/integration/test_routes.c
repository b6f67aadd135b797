/* Every route of the API table (server/http/routes.c, the one place that says whether a route is
 * public) against the running daemon: the test walks the table itself, so a route added later is
 * checked without an edit here. For each route, with "{}" filled in:
 *  - without a token: a route not marked VMS_ROUTE_PUBLIC answers 401 unauthorized; a public one
 *    never does;
 *  - with the token but from another site (Sec-Fetch-Site: cross-site, or a foreign Origin): a
 *    route not marked public answers 403 cross_origin; a public one never does.
 * The daemon is vms_http_start() in this process on 127.0.0.1:0 with a temporary store; the
 * requests are plain HTTP/1.1 over a socket. Nothing is scanned or stored: every request is
 * refused before its handler runs, or is a public read of a share that does not exist. */
#include <stdio.h>
#include <string.h>

#include "../server/http/http_internal.h"
#include "daemon.h"
#include "test.h"

/* Send one request (extra: more header lines, each ending "\r\n") with no body. */
static int http(int port, const char *method, const char *path, const char *extra, char *body,
                size_t body_len)
{
	return test_http(port, method, path, extra, "", body, body_len);
}

/* The pattern with every "{}" replaced by "1" (a suffix such as ".csv" stays). */
static void fill(const char *pattern, char *out, size_t len)
{
	size_t o = 0;
	for (const char *p = pattern; *p && o + 2 < len; p++) {
		if (p[0] == '{' && p[1] == '}') {
			out[o++] = '1';
			p++;
		} else {
			out[o++] = *p;
		}
	}
	out[o] = '\0';
}

static void walk(int port)
{
	static const char *const foreign[] = {"Sec-Fetch-Site: cross-site\r\n",
	                                      "Origin: http://attacker.example\r\n", "Origin: null\r\n"};
	char path[512], body[512];
	size_t n_public = 0, n_private = 0;

	for (size_t i = 0; i < vms_n_routes; i++) {
		const struct vms_route *rt = &vms_routes[i];
		int pub = (rt->flags & VMS_ROUTE_PUBLIC) != 0;
		fill(rt->pattern, path, sizeof path);
		n_public += pub;
		n_private += !pub;

		int st = http(port, rt->method, path, "", body, sizeof body);
		int refused = st == 401 && strstr(body, "\"unauthorized\"") != NULL;
		if (pub ? (st < 0 || refused) : !refused) {
			t_failed++;
			fprintf(stderr, "%s %s (%s) without a token: %d %s\n", rt->method, path,
			        pub ? "public" : "token", st, body);
		} else {
			t_passed++;
		}
		for (size_t k = 0; k < sizeof foreign / sizeof foreign[0]; k++) {
			char extra[256];
			snprintf(extra, sizeof extra, "Authorization: Bearer %s\r\n%s", TEST_TOKEN,
			         foreign[k]);
			st = http(port, rt->method, path, extra, body, sizeof body);
			int cross = st == 403 && strstr(body, "\"cross_origin\"") != NULL;
			if (pub ? (st < 0 || cross) : !cross) {
				t_failed++;
				fprintf(stderr, "%s %s (%s) with the token from another site (%.*s): %d %s\n",
				        rt->method, path, pub ? "public" : "token",
				        (int)strlen(foreign[k]) - 2, foreign[k], st, body);
			} else {
				t_passed++;
			}
		}
	}
	/* A table without both kinds would make the walk prove nothing. */
	CHECK(n_public > 0 && n_private > 0);
	printf("walked %zu routes (%zu public, %zu need the token)\n", vms_n_routes, n_public, n_private);
}

int main(void)
{
	struct test_daemon d;
	int rc = test_daemon_start(&d, "routes", (struct vms_http_config){0});
	if (rc == -2)
		return 1;
	if (rc == 0) {
		/* the token is what the walk thinks it is */
		char body[512];
		CHECK(http(d.port, "GET", "/api/v1/health", "Authorization: Bearer " TEST_TOKEN "\r\n", body,
		           sizeof body) == 200);
		walk(d.port);
	}
	test_daemon_stop(&d);
	TEST_MAIN_END();
}
