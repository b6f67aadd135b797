/* The vmscope daemon's HTTP side: civetweb embedding, the REST API under /api/v1, share pages
 * (/s/{token}) and the dashboard's static files. Depends on everything below it.
 *
 * Security model (docs/api.md, "Security model"): every request's Host header is checked first
 * (DNS rebinding); every /api/ call except /api/v1/shared/{token}... needs the API token as
 * "Authorization: Bearer TOKEN"; no CORS headers are ever sent; every authenticated API call is
 * refused from foreign origins (Origin / Sec-Fetch-Site); bodies are capped; full scans are
 * serialised and rate limited. */
#ifndef VMSCOPE_HTTP_H
#define VMSCOPE_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "vmscope/store.h"

#define VMS_HTTP_DEFAULT_LISTEN "127.0.0.1:8080"
/* Workers: civetweb 1.15 gives each connection a worker from its accept on, while it reads the
 * request headers too, so a client that trickles its headers holds one for the whole header
 * timeout. With 8, 8 such clients stopped the daemon; with more workers than an attacker's open
 * connections (200 in issue 11's test) the others still get one at once. An idle worker costs
 * ~15 KB of RSS (256: 8.3 MB for the daemon against 4.5 MB with 8). */
#define VMS_HTTP_DEFAULT_THREADS 256u
/* Header timeout (the whole request head must arrive within it) and the idle limit of a body
 * being read or a response being written (civetweb's request_timeout_ms). */
#define VMS_HTTP_DEFAULT_REQUEST_TIMEOUT_MS 3000u
/* After a request whose body is larger than this the server returns freed heap to the kernel. */
#define VMS_HTTP_TRIM_AFTER_BODY (1u << 20)
/* How long a kept-alive connection may wait for its next request. */
#define VMS_HTTP_KEEP_ALIVE_TIMEOUT_MS 500u
#define VMS_HTTP_DEFAULT_MAX_BODY (64ull << 20) /* 64 MiB */
#define VMS_HTTP_DEFAULT_SCAN_RATE 5.0          /* full scans per second, sustained */
#define VMS_HTTP_DEFAULT_SCAN_BURST 20u
#define VMS_HTTP_DEFAULT_METRICS_INTERVAL_S 10u   /* --metrics-process: at most one scan per */
#define VMS_HTTP_DEFAULT_MEMORY_READS_PER_MIN 60u /* strings and trim requests */

/* API token: 32 random bytes from getrandom(2) as 64 lowercase hex characters. */
#define VMS_API_TOKEN_LEN 64

enum vms_log_level { VMS_LOG_DEBUG = 0, VMS_LOG_INFO, VMS_LOG_WARN, VMS_LOG_ERROR };

struct vms_http_config {
	const char *listen; /* "ADDR:PORT" (IPv4); port 0 picks a free port */
	/* > 0: serve on this inherited listening socket (systemd's LISTEN_FDS), whose address
	 * listen must then name; it is closed when the server stops. 0: bind listen. */
	int listen_fd;
	struct vms_store *store;        /* borrowed; must outlive the server */
	const char *web_dir;            /* the dashboard's files; NULL serves the API only */
	const char *api_token;          /* NULL or "" turns authentication off (--no-auth) */
	const char *const *allow_hosts; /* extra names accepted in the Host header (with our port) */
	size_t n_allow_hosts;
	unsigned threads;            /* worker threads; 0 = VMS_HTTP_DEFAULT_THREADS */
	uint64_t max_body;           /* request body limit; 0 = VMS_HTTP_DEFAULT_MAX_BODY */
	double scan_rate;            /* full scans per second; 0 = default */
	unsigned scan_burst;         /* scans allowed back to back; 0 = default */
	unsigned request_timeout_ms; /* 0 = VMS_HTTP_DEFAULT_REQUEST_TIMEOUT_MS */
	/* GET /metrics also shows these processes (NAME or PID, as `-p` takes them), scanned at
	 * most every metrics_interval_s (0 = VMS_HTTP_DEFAULT_METRICS_INTERVAL_S). */
	const char *const *metrics_processes;
	size_t n_metrics_processes;
	unsigned metrics_interval_s;
	/* --allow-memory-read: the strings and trim routes read / page out process memory (with
	 * ptrace-attach rights, logged, at most memory_reads_per_min of them). Off by default. */
	int allow_memory_read;
	unsigned memory_reads_per_min; /* 0 = VMS_HTTP_DEFAULT_MEMORY_READS_PER_MIN */
	/* TLS: both set = https only on the listening port (TLS 1.2+, vmscope/tls.h); the cert file
	 * is a PEM chain, leaf first. Checked at start: a bad pair is VMS_ERR_INVALID. */
	const char *tls_cert, *tls_key;
	/* "https://team-host:8443": the scheme, host and port of share URLs instead of the request's
	 * Host; its host is accepted in the Host header like an --allow-host name. NULL: none. */
	const char *public_url;
	/* Log sink (the daemon's logger); may be NULL. Called from any thread. */
	void (*log)(void *arg, enum vms_log_level level, const char *msg);
	void *log_arg;
};

struct vms_http;

/* The API's JSON of stored snapshot id (docs/snapshot-format.md) to sink: the rendering the store
 * keeps when it has one; else the snapshot is loaded, rendered and handed to the store to keep
 * (no room to keep it is not an error), then sent. Returns VMS_OK, VMS_ERR_NOT_FOUND, VMS_ERR_IO
 * (a sink callback stopped it, or the database failed), VMS_ERR_NOMEM. */
int vms_http_snapshot_json(struct vms_store *st, int64_t id, const struct vms_store_sink *sink);

/* Start listening and serving. On error returns VMS_ERR_INVALID (bad config, e.g. a web_dir
 * without index.html), VMS_ERR_IO (cannot listen: errbuf says why) or VMS_ERR_NOMEM.
 * The config's strings are copied. */
int vms_http_start(const struct vms_http_config *cfg, struct vms_http **out, char *errbuf, size_t errlen);
/* The port actually listened on (the real one when the config asked for port 0). */
int vms_http_port(const struct vms_http *h);
/* Stop: waits for running requests to finish. Accepts NULL. */
void vms_http_stop(struct vms_http *h);

/* The API token kept in path (mode 0600, owned by us): read it, or create it with a fresh random
 * token when the file does not exist. A file with group/other access is narrowed to 0600; one
 * owned by another user or not holding at least 32 hex characters is refused (VMS_ERR_INVALID).
 * out receives the NUL-terminated token. */
int vms_api_token_load(const char *path, char out[VMS_API_TOKEN_LEN + 1], char *errbuf, size_t errlen);

/* The token of an existing file, for printing (vmscope token): never created or changed. The
 * file must be ours, or, with any_owner (root reading a service's token: a DynamicUser= daemon
 * owns its state directory), anyone's that only its owner can read. VMS_ERR_NOT_FOUND when
 * there is no file. */
int vms_api_token_read(const char *path, int any_owner, char out[VMS_API_TOKEN_LEN + 1], char *errbuf,
                       size_t errlen);

#endif
