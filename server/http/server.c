/* civetweb embedding: options that undo civetweb 1.15's unsafe defaults, and the begin_request
 * callback that sees every request first (Host check, OPTIONS, body size) and then routes it to
 * the API, the share page or the static dashboard. */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http_internal.h"
#include "vmscope/error.h"
#include "vmscope/filecache.h"
#include "vmscope/tls.h"

/* Headers civetweb adds to the static files it serves (the API adds its own in respond.c). */
static const char static_headers[] = "Content-Security-Policy: " VMS_CSP "\r\n"
                                     "X-Content-Type-Options: nosniff\r\n"
                                     "Referrer-Policy: no-referrer\r\n"
                                     "X-Frame-Options: DENY";

/* How many Host headers the request has. RFC 9112 section 3.2 wants 400 for more than one; we
 * answer 403 host_not_allowed like any other Host we do not accept, so that a second one is never
 * what some other layer (a proxy, the share URL) looks at. */
static int host_header_count(const struct mg_request_info *ri)
{
	int n = 0;
	for (int i = 0; i < ri->num_headers && i < MG_MAX_HEADERS; i++)
		if (ri->http_headers[i].name && !strcasecmp(ri->http_headers[i].name, "Host"))
			n++;
	return n;
}

/* A static path we are willing to hand to civetweb: no dot file or dot directory anywhere
 * below the web root, and nothing that resolves (through a symlink) outside it. This replaces
 * civetweb's hide_files_patterns, which is matched against the absolute file path and so would
 * hide every file of a web root that itself lies under a dot directory
 * (~/.local/share/vmscope/web). */
static int static_path_ok(const struct vms_http *h, const char *uri)
{
	char full[PATH_MAX], real[PATH_MAX];
	if (strstr(uri, "/."))
		return 0;
	int n = snprintf(full, sizeof full, "%s%s", h->web_dir, uri);
	if (n < 0 || (size_t)n >= sizeof full)
		return 0;
	if (!realpath(full, real))
		return 1; /* missing: civetweb answers 404 */
	size_t wl = strlen(h->web_dir);
	if (wl == 1) /* web root "/" */
		return 1;
	return !strncmp(real, h->web_dir, wl) && (real[wl] == '\0' || real[wl] == '/');
}

static int is_directory(const struct vms_http *h, const char *uri)
{
	char full[PATH_MAX];
	struct stat sb;
	int n = snprintf(full, sizeof full, "%s%s", h->web_dir, uri);
	return n > 0 && (size_t)n < sizeof full && stat(full, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* A directory asked for without its trailing slash. civetweb would answer 301 with a Location
 * built from the raw request target ("GET //evil.com/..%2fsub" -> "Location: //evil.com/../sub/",
 * an open redirect, and without our security headers). We send the redirect ourselves, built
 * from the normalised path: one leading slash, every byte outside [A-Za-z0-9-._~/] escaped, so
 * it can only point at this server. */
static int redirect_to_directory(struct mg_connection *conn, const char *path)
{
	static const char hex[] = "0123456789ABCDEF";
	char loc[PATH_MAX * 3 + 4];
	size_t k = 0;
	while (path[0] == '/' && path[1] == '/')
		path++;
	for (const unsigned char *p = (const unsigned char *)path; *p && k + 4 < sizeof loc; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    *p == '-' || *p == '.' || *p == '_' || *p == '~' || *p == '/') {
			loc[k++] = (char)*p;
		} else {
			loc[k++] = '%';
			loc[k++] = hex[*p >> 4];
			loc[k++] = hex[*p & 15];
		}
	}
	loc[k++] = '/';
	loc[k] = '\0';
	const struct vms_header extra[] = {{"Location", loc}, {NULL, NULL}};
	return vms_send_error_conn(conn, 301, "moved", "this is a directory: see Location", extra);
}

static int begin_request(struct mg_connection *conn)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	struct vms_http *h = mg_get_user_data(mg_get_context(conn));
	const char *path = ri->local_uri;
	const char *method = ri->request_method ? ri->request_method : "";

	/* civetweb 1.15 keeps MG_MAX_HEADERS (64) header lines and drops the rest without a word, so
	 * a second Host or Origin after the 64th would go unseen: refuse a request that fills them. */
	if (ri->num_headers >= MG_MAX_HEADERS) {
		mg_disable_connection_keep_alive(conn);
		return vms_send_error_conn(conn, 431, "too_many_headers",
		                           "too many header lines (vmscope reads at most 63)", NULL);
	}
	/* 1. DNS rebinding: nothing happens for a Host we do not answer to. */
	if (host_header_count(ri) > 1 || !vms_host_allowed(h, mg_get_header(conn, "Host"))) {
		mg_disable_connection_keep_alive(conn);
		return vms_send_error_conn(
		    conn, 403, "host_not_allowed",
		    "this Host header is not allowed (start vmscope serve with --allow-host NAME "
		    "to accept another name)",
		    NULL);
	}
	/* Absolute-form targets ("GET http://other/..."), CONNECT and the like: not for us. */
	if (!ri->local_uri || ri->local_uri[0] != '/') {
		mg_disable_connection_keep_alive(conn);
		return vms_send_error_conn(conn, 400, "bad_request", "request target must be a path", NULL);
	}
	/* 2. No CORS: answer every OPTIONS ourselves, without any Access-Control-* header, so a
	 * preflight can never succeed (civetweb would answer it with "Allow-Origin: *"). */
	if (!strcmp(method, "OPTIONS")) {
		static const struct vms_header allow[] = {{"Allow", "GET, HEAD, POST, DELETE"}, {NULL, NULL}};
		return vms_send_error_conn(conn, 204, NULL, NULL, allow);
	}
	/* 3. Oversized bodies are refused before a byte of them is read. */
	if (ri->content_length > 0 && (uint64_t)ri->content_length > h->max_body) {
		mg_disable_connection_keep_alive(conn);
		char msg[96];
		snprintf(msg, sizeof msg, "request body larger than the %llu MiB limit",
		         (unsigned long long)(h->max_body >> 20));
		return vms_send_error_conn(conn, 413, "body_too_large", msg, NULL);
	}

	struct vms_req r = {.conn = conn, .ri = ri, .h = h, .path = path};
	if (!strcmp(path, "/api") || !strncmp(path, "/api/", 5) || !strcmp(path, "/metrics"))
		return vms_api_dispatch(&r);
	if (!strncmp(path, "/s/", 3)) {
		if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
			static const struct vms_header allow[] = {{"Allow", "GET, HEAD"}, {NULL, NULL}};
			return vms_send_error_conn(conn, 405, "method_not_allowed",
			                           "share pages are read-only", allow);
		}
		return vms_share_page(&r, path + 3);
	}
	/* 4. Static dashboard files: read-only methods only (civetweb would otherwise offer PUT,
	 * DELETE, PROPFIND and MKCOL on the document root). */
	if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		static const struct vms_header allow[] = {{"Allow", "GET, HEAD"}, {NULL, NULL}};
		return vms_send_error_conn(conn, 405, "method_not_allowed", "static files are read-only",
		                           allow);
	}
	if (!h->web_dir)
		return vms_send_error_conn(conn, 404, "not_found",
		                           "no dashboard files: start vmscope serve with --web DIR", NULL);
	if (!static_path_ok(h, path))
		return vms_send_error_conn(conn, 404, "not_found", "no such file", NULL);
	if (path[strlen(path) - 1] != '/' && is_directory(h, path))
		return redirect_to_directory(conn, path);
	return 0; /* civetweb serves the file, with static_headers */
}

/* civetweb's own error pages (404 for a missing static file ...) in our JSON shape. */
static int http_error(struct mg_connection *conn, int status, const char *errmsg)
{
	(void)errmsg;
	const char *code = status == 404 ? "not_found" : status == 405 ? "method_not_allowed" : "http_error";
	char msg[64];
	snprintf(msg, sizeof msg, "HTTP %d", status);
	vms_send_error_conn(conn, status, code, status == 404 ? "no such file" : msg, NULL);
	return 0;
}

static int log_message(const struct mg_connection *conn, const char *message)
{
	struct vms_http *h = conn ? mg_get_user_data(mg_get_context(conn)) : NULL;
	if (h)
		vms_log(h, VMS_LOG_WARN, "civetweb: %s", message);
	return 1;
}

/* Access log at debug level; share tokens are capabilities, so they never reach the log. */
static void end_request(const struct mg_connection *conn, int status)
{
	struct vms_http *h = mg_get_user_data(mg_get_context(conn));
	const struct mg_request_info *ri = mg_get_request_info(conn);
	char path[160];
	const char *u = ri->local_uri ? ri->local_uri : "";
	snprintf(path, sizeof path, "%s", u);
	static const char *const secret_prefixes[] = {"/s/", "/api/v1/shared/", "/api/v1/shares/"};
	for (size_t i = 0; i < sizeof secret_prefixes / sizeof secret_prefixes[0]; i++) {
		size_t n = strlen(secret_prefixes[i]);
		if (!strncmp(path, secret_prefixes[i], n) && strlen(path) > n)
			snprintf(path + n, sizeof path - n, "<token>");
	}
	vms_log(h, VMS_LOG_DEBUG, "%s %s %s -> %d", ri->remote_addr, ri->request_method, path, status);
	/* An import's body, snapshot and packed form (~2x the body at its peak) are freed by now,
	 * but glibc keeps freed heap: hand it back to the kernel after every large body. */
	if (ri->content_length > (long long)VMS_HTTP_TRIM_AFTER_BODY ||
	    (ri->content_length < 0 && mg_get_header(conn, "Transfer-Encoding")))
		malloc_trim(0);
}

/* Make civetweb's TLS work with OpenSSL 3 before it loads libssl (server/sslcompat/ssl_compat.c
 * says why): load the shim, then check that "libssl.so" now names it and has the function.
 * Returns VMS_OK or VMS_ERR_IO (errbuf says why; TLS must not start: it would crash). */
static int load_ssl_compat(char *errbuf, size_t errlen)
{
	const char *path;
	void *shim = vms_http_tls_library(&path);
	void *as_civetweb_sees_it = shim ? dlopen("libssl.so", RTLD_LAZY | RTLD_NOLOAD) : NULL;
	int ok =
	    as_civetweb_sees_it == shim && dlsym(shim, "SSL_get_peer_certificate") && dlsym(shim, "SSL_new");
	if (as_civetweb_sees_it)
		dlclose(as_civetweb_sees_it);
	/* shim stays loaded for the life of the process: civetweb keeps its function pointers */
	if (!ok)
		snprintf(errbuf, errlen,
		         "cannot serve TLS: civetweb 1.15 needs libvmscope-sslcompat.so (%s) to work with "
		         "OpenSSL 3, and it %s",
		         path, shim ? "did not take the name libssl.so" : "could not be loaded");
	return ok ? VMS_OK : VMS_ERR_IO;
}

/* civetweb's SSL_CTX for the https port: our certificate pair, floor and ciphers. */
static int init_ssl(void *ssl_ctx, void *user_data)
{
	struct vms_http *h = user_data;
	char err[512] = "";
	if (!h->tls)
		return 0;
	if (vms_tls_server_ctx(ssl_ctx, h->tls_cert, h->tls_key, err, sizeof err) != 0) {
		vms_log(h, VMS_LOG_ERROR, "TLS: %s", err);
		return -1;
	}
	return 1; /* the certificate is set up: civetweb must not load ssl_certificate */
}

static int parse_listen(const char *listen, char *addr, size_t addrlen, int *port)
{
	const char *colon = strrchr(listen, ':');
	int64_t p;
	if (!colon || colon == listen || (size_t)(colon - listen) >= addrlen)
		return -1;
	if (vms_parse_i64(colon + 1, 0, 65535, &p) != 0)
		return -1;
	memcpy(addr, listen, (size_t)(colon - listen));
	addr[colon - listen] = '\0';
	*port = (int)p;
	/* civetweb 1.15 as built by Debian has no IPv6: accept dotted IPv4 only. */
	for (const char *c = addr; *c; c++)
		if (!((*c >= '0' && *c <= '9') || *c == '.'))
			return -1;
	return 0;
}

static void free_server(struct vms_http *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->n_allow_hosts; i++)
		free(h->allow_hosts[i]);
	free(h->allow_hosts);
	free(h->web_dir);
	free(h->index_path);
	free(h->public_url);
	free(h->tls_cert);
	free(h->tls_key);
	pthread_mutex_destroy(&h->scan_lock);
	sem_destroy(&h->stream_slots);
	vms_ratelimit_destroy(&h->scan_rate);
	vms_ratelimit_destroy(&h->memory_rate);
	vms_ratelimit_destroy(&h->residency_rate);
	vms_file_cache_free(h->file_cache);
	vms_metrics_targets_free(h->mtargets);
	vms_stats_destroy(&h->stats);
	free(h);
}

/* Listen address, token and extra host names from cfg into h. Returns VMS_OK, VMS_ERR_INVALID
 * (errbuf says why) or VMS_ERR_NOMEM. */
static int copy_config(struct vms_http *h, const struct vms_http_config *cfg, int *port, char *errbuf,
                       size_t errlen)
{
	const char *listen = cfg->listen ? cfg->listen : VMS_HTTP_DEFAULT_LISTEN;
	h->store = cfg->store;
	h->log = cfg->log;
	h->log_arg = cfg->log_arg;
	h->max_body = cfg->max_body ? cfg->max_body : VMS_HTTP_DEFAULT_MAX_BODY;
	if (parse_listen(listen, h->listen_addr, sizeof h->listen_addr, port) != 0) {
		snprintf(errbuf, errlen, "bad listen address '%s' (want IPv4ADDR:PORT, e.g. 127.0.0.1:8080)",
		         listen);
		return VMS_ERR_INVALID;
	}
	if (cfg->api_token && *cfg->api_token) {
		size_t n = strlen(cfg->api_token);
		if (n < 32 || n > VMS_API_TOKEN_LEN) {
			snprintf(errbuf, errlen, "the API token must have 32 to %d characters",
			         VMS_API_TOKEN_LEN);
			return VMS_ERR_INVALID;
		}
		memcpy(h->api_token, cfg->api_token, n + 1);
		h->api_token_len = n;
	}
	if (!cfg->tls_cert != !cfg->tls_key) {
		snprintf(errbuf, errlen, "TLS needs both a certificate and its key");
		return VMS_ERR_INVALID;
	}
	if (cfg->tls_cert) {
		if (vms_tls_check_pair(cfg->tls_cert, cfg->tls_key, errbuf, errlen) != 0)
			return VMS_ERR_INVALID;
		if (!(h->tls_cert = strdup(cfg->tls_cert)) || !(h->tls_key = strdup(cfg->tls_key)))
			return VMS_ERR_NOMEM;
		h->tls = 1;
	}
	char pub_host[256] = "";
	if (cfg->public_url) {
		if (vms_public_url_host(cfg->public_url, pub_host, sizeof pub_host) != 0) {
			snprintf(errbuf, errlen,
			         "bad public URL '%s' (want http(s)://HOST[:PORT], no path, e.g. "
			         "https://team-host:8443)",
			         cfg->public_url);
			return VMS_ERR_INVALID;
		}
		size_t n = strlen(cfg->public_url);
		while (n && cfg->public_url[n - 1] == '/')
			n--;
		if (!(h->public_url = strndup(cfg->public_url, n)))
			return VMS_ERR_NOMEM;
	}
	size_t n_allow = cfg->n_allow_hosts + (*pub_host != '\0');
	if (n_allow) {
		if (!(h->allow_hosts = calloc(n_allow, sizeof *h->allow_hosts)))
			return VMS_ERR_NOMEM;
		for (size_t i = 0; i < n_allow; i++, h->n_allow_hosts++)
			if (!(h->allow_hosts[i] =
			          strdup(i < cfg->n_allow_hosts ? cfg->allow_hosts[i] : pub_host)))
				return VMS_ERR_NOMEM;
	}
	return VMS_OK;
}

/* The dashboard's directory (resolved, with an index.html) into h->web_dir / h->index_path.
 * Returns VMS_OK, VMS_ERR_INVALID (errbuf says why) or VMS_ERR_NOMEM. */
static int set_web_dir(struct vms_http *h, const char *web_dir, char *errbuf, size_t errlen)
{
	char real[PATH_MAX], index[PATH_MAX + 16];
	struct stat sb;
	errno = 0;
	if (!realpath(web_dir, real) || stat(real, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		snprintf(errbuf, errlen, "web directory %s: %s", web_dir,
		         errno ? strerror(errno) : "not a directory");
		return VMS_ERR_INVALID;
	}
	snprintf(index, sizeof index, "%s/index.html", real);
	if (stat(index, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		snprintf(errbuf, errlen, "web directory %s has no index.html", real);
		return VMS_ERR_INVALID;
	}
	if (!(h->web_dir = strdup(real)) || !(h->index_path = strdup(index)))
		return VMS_ERR_NOMEM;
	return VMS_OK;
}

/* civetweb's init_context callback: it runs after civetweb bound its own listener and before
 * its accept loop starts, so the inherited socket (systemd's, LISTEN_FDS) takes that listener's
 * descriptor before anything polls it (listen_fd.c). The outcome goes to h->adopt_err. */
static void adopt_before_accepting(const struct mg_context *ctx)
{
	struct vms_http *h = mg_get_user_data(ctx);
	struct mg_server_port sp[4];
	int n = mg_get_server_ports(ctx, 4, sp);
	if (n <= 0) {
		snprintf(h->adopt_msg, sizeof h->adopt_msg, "civetweb reports no listening port");
		return;
	}
	h->adopt_err = vms_http_adopt_listener(h, h->adopt_fd, sp[0].port, h->adopt_msg, sizeof h->adopt_msg);
}

/* Start civetweb on h->listen_addr:port with our options and callbacks and record the port it
 * got. Returns VMS_OK or VMS_ERR_IO (errbuf says why). */
static int start_civetweb(struct vms_http *h, const struct vms_http_config *cfg, int port, char *errbuf,
                          size_t errlen)
{
	char ports[96], threads[16], timeout[16], keep_alive[16];
	/* "s": this port speaks TLS only; a plain HTTP request on it fails the handshake. */
	/* An inherited socket replaces a listener bound on a free loopback port (listen_fd.c). */
	snprintf(ports, sizeof ports, "%s:%d%s", cfg->listen_fd > 0 ? "127.0.0.1" : h->listen_addr,
	         cfg->listen_fd > 0 ? 0 : port, h->tls ? "s" : "");
	snprintf(threads, sizeof threads, "%u", cfg->threads ? cfg->threads : VMS_HTTP_DEFAULT_THREADS);
	snprintf(timeout, sizeof timeout, "%u",
	         cfg->request_timeout_ms ? cfg->request_timeout_ms : VMS_HTTP_DEFAULT_REQUEST_TIMEOUT_MS);
	snprintf(keep_alive, sizeof keep_alive, "%u", VMS_HTTP_KEEP_ALIVE_TIMEOUT_MS);
	/* clang-format off */
	const char *options[] = {
		"listening_ports", ports,
		"num_threads", threads,
		"request_timeout_ms", timeout,
		"enable_keep_alive", "yes",
		"tcp_nodelay", "1", /* no Nagle + delayed-ACK stall on kept-alive connections */
		"keep_alive_timeout_ms", keep_alive,
		"index_files", "index.html",
		"enable_directory_listing", "no",
		/* CGI and SSI are compiled into Debian's civetweb: patterns that match no path. */
		"cgi_pattern", "/.vmscope-no-cgi-$",
		"cgi2_pattern", "/.vmscope-no-cgi-$",
		"ssi_pattern", "/.vmscope-no-ssi-$",
		"access_control_allow_origin", "",
		"access_control_allow_methods", "",
		"access_control_allow_headers", "",
		/* Dot files and symlinks out of the web root: begin_request (static_path_ok). */
		"static_file_cache_control", "no-cache",
		"additional_header", static_headers,
		"decode_url", "yes",
		NULL, NULL, /* document_root */
		NULL, NULL, /* ssl_protocol_version */
		NULL, NULL, /* ssl_cipher_list */
		NULL,
	};
	/* clang-format on */
	/* The optional pairs, in the NULL slots above. Without a web directory civetweb serves no
	 * files at all (begin_request answers 404). TLS: civetweb applies the floor (4 = TLS 1.2
	 * and later) before init_ssl, which loads our pair and sets the same floor and our ciphers
	 * (tls.c). */
	size_t opt = sizeof options / sizeof options[0] - 7;
	if (h->web_dir) {
		options[opt++] = "document_root";
		options[opt++] = h->web_dir;
	}
	if (h->tls) {
		options[opt++] = "ssl_protocol_version";
		options[opt++] = "4";
		options[opt++] = "ssl_cipher_list";
		options[opt++] = VMS_TLS_CIPHERS_12;
	}
	struct mg_callbacks cb;
	memset(&cb, 0, sizeof cb);
	h->adopt_fd = cfg->listen_fd > 0 ? cfg->listen_fd : -1;
	h->adopt_err = VMS_ERR_IO;
	snprintf(h->adopt_msg, sizeof h->adopt_msg, "civetweb did not run its init_context callback");
	if (h->adopt_fd > 0)
		cb.init_context = adopt_before_accepting;
	cb.begin_request = begin_request;
	cb.end_request = end_request;
	cb.http_error = http_error;
	cb.log_message = log_message;
	cb.init_ssl = init_ssl;

	char mgerr[256] = "";
	unsigned code = 0;
	struct mg_error_data ed = {.code = &code, .text = mgerr, .text_buffer_size = sizeof mgerr};
	struct mg_init_data init = {.callbacks = &cb, .user_data = h, .configuration_options = options};
	h->mg = mg_start2(&init, &ed);
	if (!h->mg) {
		snprintf(errbuf, errlen, "cannot listen on %s: %s", ports,
		         *mgerr ? mgerr : "civetweb failed to start");
		return VMS_ERR_IO;
	}
	if (h->adopt_fd > 0) {
		if (h->adopt_err != VMS_OK) {
			snprintf(errbuf, errlen, "%s", h->adopt_msg);
			mg_stop(h->mg);
			h->mg = NULL;
			return h->adopt_err;
		}
		return VMS_OK; /* h->port: the inherited socket's, set by the takeover */
	}
	struct mg_server_port sp[4];
	int n = mg_get_server_ports(h->mg, 4, sp);
	__atomic_store_n(&h->port, n > 0 ? sp[0].port : port, __ATOMIC_RELEASE);
	return VMS_OK;
}

/* The steps: the state (scan lock, rate limit, the cache of files recognisers read, shared by
 * every scan), the configuration copied and checked, the web directory, then civetweb. */
int vms_http_start(const struct vms_http_config *cfg, struct vms_http **out, char *errbuf, size_t errlen)
{
	int port = 0, err;
	*out = NULL;
	struct vms_http *h = calloc(1, sizeof *h);
	if (!h)
		return VMS_ERR_NOMEM;
	pthread_mutex_init(&h->scan_lock, NULL);
	sem_init(&h->stream_slots, 0, VMS_HTTP_MAX_STREAMS);
	vms_stats_init(&h->stats);
	vms_ratelimit_init(&h->scan_rate, cfg->scan_rate > 0 ? cfg->scan_rate : VMS_HTTP_DEFAULT_SCAN_RATE,
	                   cfg->scan_burst ? cfg->scan_burst : VMS_HTTP_DEFAULT_SCAN_BURST);
	unsigned per_min =
	    cfg->memory_reads_per_min ? cfg->memory_reads_per_min : VMS_HTTP_DEFAULT_MEMORY_READS_PER_MIN;
	vms_ratelimit_init(&h->memory_rate, per_min / 60.0, per_min);
	vms_ratelimit_init(&h->residency_rate, 20.0, 40.0);
	h->allow_memory_read = cfg->allow_memory_read;
	h->file_cache = vms_file_cache_new(0);
	err = h->file_cache ? copy_config(h, cfg, &port, errbuf, errlen) : VMS_ERR_NOMEM;
	if (!err)
		err = vms_metrics_targets_new(cfg->metrics_processes, cfg->n_metrics_processes,
		                              cfg->metrics_interval_s, &h->mtargets);
	if (!err && cfg->web_dir)
		err = set_web_dir(h, cfg->web_dir, errbuf, errlen);
	if (!err && h->tls)
		err = load_ssl_compat(errbuf, errlen);
	if (!err)
		err = start_civetweb(h, cfg, port, errbuf, errlen);
	if (!err && (err = vms_sampler_start(h)) != VMS_OK) {
		snprintf(errbuf, errlen, "cannot start the timeline sampler");
		mg_stop(h->mg);
	}
	if (err) {
		free_server(h);
		return err;
	}
	*out = h;
	return VMS_OK;
}

int vms_http_port(const struct vms_http *h)
{
	return h ? __atomic_load_n(&h->port, __ATOMIC_ACQUIRE) : 0;
}

void vms_http_stop(struct vms_http *h)
{
	if (!h)
		return;
	vms_sampler_stop(h); /* first: a tick may be storing */
	if (h->mg)
		mg_stop(h->mg);
	free_server(h);
}
