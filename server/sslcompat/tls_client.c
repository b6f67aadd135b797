/* A minimal HTTPS client for `vmscope snapshot --upload`: one request per connection
 * (Connection: close), the certificate checked before a byte of the request (and so the API
 * token) is sent. OpenSSL verifies the chain and the name in every mode; with SSL_VERIFY_NONE the
 * handshake completes either way so that we can say which certificate was presented, and then
 * we refuse it ourselves. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "tls_module.h"

#define MAX_RESPONSE (16u << 20)

/* "https://HOST:PORT[/]" into host and port. 0 or -1. */
static int parse_url(const char *url, char *host, size_t hostlen, char *port, size_t portlen)
{
	if (strncasecmp(url, "https://", 8) != 0)
		return -1;
	const char *h = url + 8, *end = h + strcspn(h, "/");
	if (end[0] == '/' && end[1] != '\0')
		return -1; /* a base URL: the path is ours to choose */
	const char *colon = memchr(h, ':', (size_t)(end - h));
	const char *hend = colon ? colon : end;
	if (hend == h || (size_t)(hend - h) >= hostlen)
		return -1;
	memcpy(host, h, (size_t)(hend - h));
	host[hend - h] = '\0';
	size_t pl = colon ? (size_t)(end - colon - 1) : 3;
	if (pl == 0 || pl >= portlen)
		return -1;
	memcpy(port, colon ? colon + 1 : "443", pl);
	port[pl] = '\0';
	for (const char *c = port; *c; c++)
		if (*c < '0' || *c > '9')
			return -1;
	for (const char *c = host; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
		      *c == '.' || *c == '-'))
			return -1;
	return 0;
}

/* A connected TCP socket with send/receive timeouts (connect honours SO_SNDTIMEO), or -1. */
static int dial(const char *host, const char *port, unsigned timeout_ms, char *errbuf, size_t errlen)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
	struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
	int rc = getaddrinfo(host, port, &hints, &res), fd = -1;
	if (rc != 0) {
		snprintf(errbuf, errlen, "cannot resolve %s: %s", host, gai_strerror(rc));
		return -1;
	}
	int err = 0;
	for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		if (connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
			err = errno;
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (fd < 0)
		snprintf(errbuf, errlen, "cannot connect to %s:%s: %s", host, port,
		         strerror(err == EINPROGRESS ? ETIMEDOUT : err));
	return fd;
}

/* After the handshake: does the peer pass trust? 0, or -1 with a sentence. */
static int check_peer(SSL *ssl, const struct vms_tls_trust *trust, const char *host, char *errbuf,
                      size_t errlen)
{
	char got[VMS_TLS_FP_LEN + 1] = "?";
	X509 *peer = SSL_get1_peer_certificate(ssl);
	if (!peer) {
		snprintf(errbuf, errlen, "%s presented no certificate", host);
		return -1;
	}
	int have_fp = vms_tlsm_fingerprint_x509(peer, got) == 0;
	X509_free(peer);
	if (trust->fingerprint) {
		if (have_fp && !strcmp(got, trust->fingerprint))
			return 0;
		snprintf(errbuf, errlen,
		         "certificate fingerprint mismatch: %s presented SHA256 %s, but the pinned "
		         "fingerprint (--fingerprint) is %s. Nothing was sent. Check the fingerprint with "
		         "the daemon's owner (vmscope "
		         "serve prints it at start).",
		         host, got, trust->fingerprint);
		return -1;
	}
	long v = SSL_get_verify_result(ssl);
	if (v == X509_V_OK)
		return 0;
	snprintf(errbuf, errlen,
	         "the certificate of %s is not trusted: %s (its SHA256 fingerprint is %s). Nothing was "
	         "sent. Pass --ca FILE with the certificate that signed it, or --fingerprint with the "
	         "fingerprint its owner gives you.",
	         host, X509_verify_cert_error_string(v), got);
	return -1;
}

/* The TLS context for trust: TLS 1.2 at least; the CA file or the system store. NULL (said why). */
static SSL_CTX *client_ctx(const struct vms_tls_trust *trust, char *errbuf, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	int ok = ctx && SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) == 1 &&
	         SSL_CTX_set_cipher_list(ctx, VMS_TLS_CIPHERS_12) == 1;
	if (ok && trust->ca_file && SSL_CTX_load_verify_locations(ctx, trust->ca_file, NULL) != 1) {
		unsigned long e = ERR_get_error();
		snprintf(errbuf, errlen, "cannot load the CA certificates in %s: %s", trust->ca_file,
		         ERR_reason_error_string(e) ? ERR_reason_error_string(e) : "unreadable");
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (ok && !trust->ca_file && !trust->fingerprint)
		ok = SSL_CTX_set_default_verify_paths(ctx) == 1;
	if (!ok) {
		snprintf(errbuf, errlen, "cannot set up TLS");
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL); /* checked in check_peer, before any write */
	return ctx;
}

static int write_all(SSL *ssl, const char *p, size_t n)
{
	while (n) {
		int w = SSL_write(ssl, p, n > 1u << 30 ? 1 << 30 : (int)n);
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* After headers with Expect: 100-continue: 1 when the server said "100 Continue" (consumed),
 * 0 when its first bytes are the final answer (left unread: SSL_peek), -1 on a closed connection. */
static int interim_continue(SSL *ssl)
{
	char line[64];
	int fd = SSL_get_fd(ssl), fl = fcntl(fd, F_GETFL), r = -1;
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	/* Non-blocking while we wait: TLS 1.3 session tickets make the socket readable without any
	 * application data, and a blocking peek would then wait for the server's timeout. */
	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	for (int waited = 0; waited < 1000; waited += 50) {
		r = SSL_peek(ssl, line, sizeof line - 1);
		if (r > 0 || SSL_get_error(ssl, r) != SSL_ERROR_WANT_READ)
			break;
		poll(&pfd, 1, 50);
	}
	fcntl(fd, F_SETFL, fl);
	if (r <= 0) /* no answer within a second: send the body, as curl does; or closed */
		return SSL_get_error(ssl, r) == SSL_ERROR_WANT_READ ? 1 : -1;
	line[r] = '\0';
	if (r < 12 || strncmp(line, "HTTP/1.1 100", 12) != 0)
		return 0;
	/* consume up to the blank line, a byte at a time (a few dozen bytes) */
	unsigned match = 0;
	char c;
	while (match < 4 && SSL_read(ssl, &c, 1) == 1)
		match = (c == "\r\n\r\n"[match]) ? match + 1 : (c == '\r' ? 1 : 0);
	return match == 4 ? 1 : -1;
}

/* Read the whole response; split it into status and body. 0 or -1 (said why). */
static int read_response(SSL *ssl, int *status, char **resp, size_t *resp_len, char *errbuf, size_t errlen)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap + 1);
	int r;
	if (!buf)
		goto nomem;
	while ((r = SSL_read(ssl, buf + n, (int)(cap - n))) > 0) {
		n += (size_t)r;
		if (n == cap) {
			if (cap >= MAX_RESPONSE) {
				snprintf(errbuf, errlen, "the response is larger than %u MiB",
				         MAX_RESPONSE >> 20);
				free(buf);
				return -1;
			}
			char *g = realloc(buf, cap * 2 + 1);
			if (!g)
				goto nomem;
			buf = g;
			cap *= 2;
		}
	}
	buf[n] = '\0';
	char *hdr_end = strstr(buf, "\r\n\r\n");
	int code = 0;
	/* "HTTP/1.x NNN ": three digits at offset 9 */
	for (int i = 9; n >= 12 && i < 12 && buf[i] >= '0' && buf[i] <= '9'; i++)
		code = code * 10 + (buf[i] - '0');
	if (!hdr_end || strncmp(buf, "HTTP/1.", 7) != 0 || code < 100 || code > 999) {
		snprintf(errbuf, errlen, "the server's answer is not HTTP (%zu bytes)", n);
		free(buf);
		return -1;
	}
	size_t off = (size_t)(hdr_end + 4 - buf);
	memmove(buf, buf + off, n - off + 1);
	*status = code;
	*resp = buf;
	*resp_len = n - off;
	return 0;
nomem:
	free(buf);
	snprintf(errbuf, errlen, "out of memory");
	return -1;
}

int vms_tlsm_https_request(const char *url, const struct vms_tls_trust *trust, const char *method,
                           const char *path, const char *headers, const char *body, size_t body_len,
                           unsigned timeout_ms, int *status, char **resp, size_t *resp_len, char *errbuf,
                           size_t errlen)
{
	char host[256], port[8], head[2048];
	struct in_addr ip;
	SSL_CTX *ctx = NULL;
	SSL *ssl = NULL;
	int fd = -1, rc = -1;
	*resp = NULL;
	*resp_len = 0;
	if (parse_url(url, host, sizeof host, port, sizeof port) != 0) {
		snprintf(errbuf, errlen, "'%s' is not an https://HOST:PORT address", url);
		return -1;
	}
	if (!(ctx = client_ctx(trust, errbuf, errlen)) ||
	    (fd = dial(host, port, timeout_ms, errbuf, errlen)) < 0)
		goto out;
	int is_ip = inet_pton(AF_INET, host, &ip) == 1;
	X509_VERIFY_PARAM *vp = (ssl = SSL_new(ctx)) ? SSL_get0_param(ssl) : NULL;
	if (!vp || SSL_set_fd(ssl, fd) != 1 || (!is_ip && SSL_set_tlsext_host_name(ssl, host) != 1) ||
	    (is_ip ? X509_VERIFY_PARAM_set1_ip_asc(vp, host) : X509_VERIFY_PARAM_set1_host(vp, host, 0)) !=
	        1) {
		snprintf(errbuf, errlen, "cannot set up TLS for %s", host);
		goto out;
	}
	if (SSL_connect(ssl) != 1) {
		unsigned long e = ERR_get_error();
		snprintf(errbuf, errlen,
		         "TLS handshake with %s:%s failed: %s (is it a vmscope serve with TLS?)", host, port,
		         e       ? ERR_reason_error_string(e)
		         : errno ? strerror(errno)
		                 : "connection closed");
		goto out;
	}
	if (check_peer(ssl, trust, host, errbuf, errlen) != 0)
		goto out;
	int n =
	    snprintf(head, sizeof head,
	             "%s %s HTTP/1.1\r\nHost: %s:%s\r\nConnection: close\r\nContent-Length: %zu\r\n%s\r\n",
	             method, path, host, port, body_len, headers ? headers : "");
	if (n < 0 || (size_t)n >= sizeof head) {
		snprintf(errbuf, errlen, "request headers too long");
		goto out;
	}
	/* With a body: Expect: 100-continue. A server that refuses the request (401, 413) answers at
	 * once and closes; a body sent anyway would make its kernel reset the connection and lose
	 * that answer. vmscope's daemon sends no "100 Continue" (civetweb 1.15 offers no way to send
	 * an interim response before the final one), so the body follows after a second of silence. */
	int cont = 0;
	if (write_all(ssl, head, (size_t)n) != 0 || (body_len && (cont = interim_continue(ssl)) < 0)) {
		snprintf(errbuf, errlen, "sending to %s:%s failed (the connection was closed)", host, port);
		goto out;
	}
	if (cont && write_all(ssl, body, body_len) != 0) {
		snprintf(errbuf, errlen, "sending to %s:%s failed (the connection was closed)", host, port);
		goto out;
	}
	rc = read_response(ssl, status, resp, resp_len, errbuf, errlen);
out:
	if (ssl) {
		SSL_shutdown(ssl);
		SSL_free(ssl);
	}
	SSL_CTX_free(ctx);
	if (fd >= 0)
		close(fd);
	ERR_clear_error();
	return rc;
}
