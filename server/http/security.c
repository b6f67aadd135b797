/* Request checks: the Host allowlist (DNS rebinding), the Bearer token (constant time), and
 * cross-site detection for CSRF (Origin, Sec-Fetch-Site). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http_internal.h"

/* host = "NAME" or "NAME:PORT" (NAME may be "[v6]"). Accept it when NAME is one of ours and the
 * port is our port (a missing port means 80). */
int vms_host_allowed(const struct vms_http *h, const char *host)
{
	char name[256];
	int port = vms_http_port(h);
	int64_t hport = 80;
	if (!host || !*host || strlen(host) >= sizeof name)
		return 0;
	const char *colon = NULL;
	if (host[0] == '[') {
		const char *close = strchr(host, ']');
		if (!close)
			return 0;
		if (close[1] == ':')
			colon = close + 1;
		else if (close[1] != '\0')
			return 0;
	} else {
		colon = strchr(host, ':');
	}
	size_t nlen = colon ? (size_t)(colon - host) : strlen(host);
	if (nlen == 0)
		return 0;
	memcpy(name, host, nlen);
	name[nlen] = '\0';
	/* A port is written without leading zeros ("018080" is not our 18080). */
	if (colon && (colon[1] == '0' || vms_parse_i64(colon + 1, 1, 65535, &hport) != 0))
		return 0;
	if (hport != port)
		return 0;

	if (!strcasecmp(name, "localhost") || !strcmp(name, "127.0.0.1") || !strcmp(name, "[::1]") ||
	    !strcmp(name, h->listen_addr))
		return 1;
	for (size_t i = 0; i < h->n_allow_hosts; i++)
		if (!strcasecmp(name, h->allow_hosts[i]))
			return 1;
	return 0;
}

/* "Bearer TOKEN" with our token, compared without an early exit. */
int vms_token_ok(const struct vms_http *h, const char *authorization)
{
	if (h->api_token_len == 0)
		return 1; /* --no-auth */
	if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0)
		return 0;
	const char *t = authorization + 7;
	while (*t == ' ')
		t++;
	size_t n = strlen(t);
	while (n && (t[n - 1] == ' ' || t[n - 1] == '\t'))
		n--;
	/* The length is not secret (it is fixed); the content is compared in constant time. */
	unsigned char d = n != h->api_token_len;
	for (size_t i = 0; i < h->api_token_len; i++)
		d |= (unsigned char)(h->api_token[i] ^ (i < n ? t[i] : 0));
	return d == 0;
}

/* A browser tells us where a request comes from: Sec-Fetch-Site (all current browsers) and
 * Origin (on every POST/DELETE, and on cross-origin GETs). Anything other than our own origin
 * counts as cross-site; "same-site" too, since another port on localhost is same-site. */
int vms_cross_site(const struct mg_connection *conn)
{
	const char *sfs = mg_get_header(conn, "Sec-Fetch-Site");
	if (sfs && strcasecmp(sfs, "same-origin") != 0 && strcasecmp(sfs, "none") != 0)
		return 1;
	const char *origin = mg_get_header(conn, "Origin");
	if (!origin)
		return 0;
	const char *host = mg_get_header(conn, "Host");
	if (!host || strncasecmp(origin, "http://", 7) != 0)
		return 1; /* "null", https://..., anything else */
	return strcasecmp(origin + 7, host) != 0;
}

/* "application/json" with optional parameters ("; charset=utf-8"). */
int vms_is_json_type(const char *ct)
{
	if (!ct)
		return 0;
	while (*ct == ' ')
		ct++;
	if (strncasecmp(ct, "application/json", 16) != 0)
		return 0;
	ct += 16;
	while (*ct == ' ')
		ct++;
	return *ct == '\0' || *ct == ';';
}
