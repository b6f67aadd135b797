/* The daemon in this process for the integration tests that drive the HTTP API from C
 * (test_routes.c, test_sampler.c): vms_http_start() on 127.0.0.1:0 with a store in a fresh
 * temporary directory and the token TEST_TOKEN, and plain HTTP/1.1 requests over a socket.
 * Header-only, included after test.h by one test program each. */
#ifndef VMSCOPE_TEST_DAEMON_H
#define VMSCOPE_TEST_DAEMON_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test.h"
#include "vmscope/http.h"
#include "vmscope/store.h"

#define TEST_TOKEN "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

struct test_daemon {
	char dir[64];
	struct vms_store *st;
	struct vms_http *h;
	int port;
};

/* Make /tmp/vms-NAME-XXXXXX, open a store in it and start the daemon with cfg (listen, store
 * and token are set here; the caller sets the rest). CHECKs each step; returns 0 when the
 * daemon runs, -1 when it does not (test_daemon_stop is still the way to clean up), or -2 when
 * even the directory could not be made (nothing to clean up). */
static inline int test_daemon_start(struct test_daemon *d, const char *name, struct vms_http_config cfg)
{
	char db[128], err[256] = "";
	memset(d, 0, sizeof *d);
	snprintf(d->dir, sizeof d->dir, "/tmp/vms-%s-XXXXXX", name);
	if (!mkdtemp(d->dir)) {
		perror("mkdtemp");
		d->dir[0] = '\0';
		return -2;
	}
	snprintf(db, sizeof db, "%s/db", d->dir);
	CHECK(vms_store_open(db, NULL, &d->st, err, sizeof err) == VMS_OK);
	cfg.listen = "127.0.0.1:0";
	cfg.store = d->st;
	cfg.api_token = TEST_TOKEN;
	CHECK(d->st && vms_http_start(&cfg, &d->h, err, sizeof err) == VMS_OK);
	if (!d->h) {
		fprintf(stderr, "cannot start the daemon: %s\n", err);
		return -1;
	}
	d->port = vms_http_port(d->h);
	return 0;
}

/* Stop the daemon, close the store and remove the directory with everything the store made. */
static inline void test_daemon_stop(struct test_daemon *d)
{
	vms_http_stop(d->h);
	vms_store_close(d->st);
	d->h = NULL;
	d->st = NULL;
	if (!d->dir[0])
		return;
	char p[128];
	static const char *const files[] = {"db", "db-wal", "db-shm", "db.lock", "db.token"};
	for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) {
		snprintf(p, sizeof p, "%s/%s", d->dir, files[k]);
		unlink(p);
	}
	if (rmdir(d->dir) != 0)
		fprintf(stderr, "left %s behind: %s\n", d->dir, strerror(errno));
}

/* Send one request to 127.0.0.1:port (headers: more header lines, each ending "\r\n"; json: the
 * body, sent as application/json); returns the status code, or -1, and the response body's
 * first body_len - 1 bytes in body. */
static inline int test_http(int port, const char *method, const char *path, const char *headers,
                            const char *json, char *body, size_t body_len)
{
	enum { RESP_MAX = 1 << 16 };
	char req[2048], *resp = malloc(RESP_MAX);
	size_t n = 0;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), status = -1;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	body[0] = '\0';
	if (!resp || fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
		goto out;
	int len = snprintf(req, sizeof req,
	                   "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n%s"
	                   "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
	                   method, path, port, headers, strlen(json), json);
	if (len < 0 || (size_t)len >= sizeof req || write(fd, req, (size_t)len) != len)
		goto out;
	for (ssize_t r; n < RESP_MAX - 1 && (r = read(fd, resp + n, RESP_MAX - 1 - n)) > 0;)
		n += (size_t)r;
	resp[n] = '\0';
	if (sscanf(resp, "HTTP/1.%*d %d", &status) != 1)
		status = -1;
	const char *b = strstr(resp, "\r\n\r\n");
	snprintf(body, body_len, "%s", b ? b + 4 : "");
out:
	if (fd >= 0)
		close(fd);
	free(resp);
	return status;
}

#endif
