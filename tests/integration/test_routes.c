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
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../server/http/http_internal.h"
#include "test.h"
#include "vmscope/http.h"
#include "vmscope/store.h"

#define TOKEN "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* Send one request (extra: more header lines, each ending "\r\n"); returns the status code, or
 * -1, and the body's first bytes in body. */
static int http(int port, const char *method, const char *path, const char *extra, char *body,
                size_t body_len)
{
	char req[2048], resp[8192];
	size_t n = 0;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), status = -1;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	body[0] = '\0';
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
		goto out;
	int len = snprintf(req, sizeof req,
	                   "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n%s"
	                   "Content-Type: application/json\r\nContent-Length: 0\r\n\r\n",
	                   method, path, port, extra);
	if (write(fd, req, (size_t)len) != len)
		goto out;
	for (ssize_t r; n < sizeof resp - 1 && (r = read(fd, resp + n, sizeof resp - 1 - n)) > 0;)
		n += (size_t)r;
	resp[n] = '\0';
	if (sscanf(resp, "HTTP/1.%*d %d", &status) != 1)
		status = -1;
	const char *b = strstr(resp, "\r\n\r\n");
	snprintf(body, body_len, "%s", b ? b + 4 : "");
out:
	if (fd >= 0)
		close(fd);
	return status;
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
			snprintf(extra, sizeof extra, "Authorization: Bearer %s\r\n%s", TOKEN, foreign[k]);
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
	char dir[] = "/tmp/vms-routes-XXXXXX", db[64], err[256] = "";
	struct vms_store *st = NULL;
	struct vms_http *h = NULL;

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(db, sizeof db, "%s/db", dir);
	CHECK(vms_store_open(db, NULL, &st, err, sizeof err) == VMS_OK);
	struct vms_http_config cfg = {.listen = "127.0.0.1:0", .store = st, .api_token = TOKEN};
	CHECK(st && vms_http_start(&cfg, &h, err, sizeof err) == VMS_OK);
	if (h) {
		int port = vms_http_port(h);
		/* the token is what the walk thinks it is */
		char body[512];
		CHECK(http(port, "GET", "/api/v1/health", "Authorization: Bearer " TOKEN "\r\n", body,
		           sizeof body) == 200);
		walk(port);
	} else {
		fprintf(stderr, "cannot start the daemon: %s\n", err);
	}
	vms_http_stop(h);
	vms_store_close(st);
	char p[128];
	static const char *const files[] = {"db", "db-wal", "db-shm", "db.lock"};
	for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) {
		snprintf(p, sizeof p, "%s/%s", dir, files[k]);
		unlink(p);
	}
	if (rmdir(dir) != 0)
		fprintf(stderr, "left %s behind: %s\n", dir, strerror(errno));
	TEST_MAIN_END();
}
