/* Private to server/http: the daemon context (civetweb's user data), one request, the route
 * table and the helpers every handler uses. */
#ifndef VMSCOPE_HTTP_INTERNAL_H
#define VMSCOPE_HTTP_INTERNAL_H

#include <civetweb.h>
#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdint.h>

#include "vmscope/http.h"
#include "vmscope/snapshot.h"

/* Token bucket: `rate` tokens per second up to `burst`. */
struct vms_ratelimit {
	pthread_mutex_t lock;
	double rate, burst, tokens;
	double last; /* CLOCK_MONOTONIC seconds */
};
void vms_ratelimit_init(struct vms_ratelimit *rl, double rate, double burst);
void vms_ratelimit_destroy(struct vms_ratelimit *rl);
/* Take one token. Returns 0 when allowed, else the seconds to wait before retrying (>= 1). */
unsigned vms_ratelimit_take(struct vms_ratelimit *rl);

/* The whole daemon state; the only "global" there is, passed to civetweb as user data. */
struct vms_http {
	struct mg_context *mg;
	struct vms_store *store;
	char api_token[VMS_API_TOKEN_LEN + 1];
	size_t api_token_len; /* 0 = --no-auth */
	char listen_addr[64]; /* "127.0.0.1" */
	int port;             /* set once after mg_start, read with __atomic_load_n */
	char **allow_hosts;
	size_t n_allow_hosts;
	char *web_dir;    /* absolute, or NULL */
	char *index_path; /* web_dir/index.html, or NULL */
	uint64_t max_body;
	pthread_mutex_t scan_lock;         /* one full scan at a time */
	int scan_waiting;                  /* interactive scans waiting for scan_lock (atomic): the sampler
	                                    * skips its tick while any does */
	struct vms_sampler *sampler;       /* the timeline sampler (sampler.c), NULL without a store */
	struct vms_file_cache *file_cache; /* files recognisers read, across scans (NULL: per scan) */
	struct vms_ratelimit scan_rate;
	int disk_full_logged; /* __atomic: "disk full" was logged and the disk has not recovered */
	void (*log)(void *arg, enum vms_log_level level, const char *msg);
	void *log_arg;
};

#define VMS_MAX_PARAMS 3
#define VMS_PARAM_MAX 128

/* One API request. */
struct vms_req {
	struct mg_connection *conn;
	const struct mg_request_info *ri;
	struct vms_http *h;
	const char *path;                          /* decoded local URI */
	char param[VMS_MAX_PARAMS][VMS_PARAM_MAX]; /* captured {..} segments in pattern order */
	int body_read;                             /* the request body has been consumed */
};

/* Route flags. */
enum {
	VMS_ROUTE_PUBLIC = 1u << 0, /* share routes: no API token, the share token is the capability */
};

struct vms_route {
	const char *method;
	const char *pattern; /* "/api/v1/snapshots/{}.csv": {} captures one non-empty segment */
	unsigned flags;
	int (*handler)(struct vms_req *r); /* sends the response, returns the HTTP status */
};
extern const struct vms_route vms_routes[];
extern const size_t vms_n_routes;

/* Match path against pattern; fills r->param. Returns 1 on a match. */
int vms_route_match(const char *pattern, const char *path, struct vms_req *r);

/* Dispatch an /api request (after the Host, OPTIONS and size checks). Returns the status. */
int vms_api_dispatch(struct vms_req *r);

/* ---- responses (respond.c) ----------------------------------------------------------- */
/* Security headers on every response we write ourselves; `api` adds Cache-Control: no-store.
 * The static-file equivalents go through civetweb's additional_header option. */
#define VMS_CSP                                                                                              \
	"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src "        \
	"'self'; "                                                                                           \
	"frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

struct vms_header {
	const char *name, *value;
};
/* The directory holding the database (for "the disk holding DIR is full"). */
void vms_db_dir(const struct vms_http *h, char *buf, size_t size);
/* Send a complete response. extra: NULL-terminated by a {NULL, NULL} entry, or NULL. */
int vms_send(struct vms_req *r, int status, const char *content_type, const void *body, size_t len,
             const struct vms_header *extra);
/* Send a cJSON tree (compact) and delete it. NULL tree (or no memory to print it) = out of
 * memory -> 503 out_of_memory (vms_send_vms_err). */
int vms_send_json(struct vms_req *r, int status, cJSON *j);
/* {"error":{"code":code,"message":...}} */
int vms_send_error(struct vms_req *r, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int vms_send_error_x(struct vms_req *r, int status, const char *code, const struct vms_header *extra,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Error response for an enum vms_err from the core/store (pid for the messages, or 0). */
int vms_send_vms_err(struct vms_req *r, int err, int pid);
/* Start a response whose body follows with mg_write (Content-Length given). */
int vms_send_headers(struct vms_req *r, int status, const char *content_type, uint64_t len,
                     const struct vms_header *extra);
/* For the begin_request checks that run before a struct vms_req exists. */
int vms_send_error_conn(struct mg_connection *conn, int status, const char *code, const char *message,
                        const struct vms_header *extra);

/* ---- request helpers (request.c) --------------------------------------------------------- */
/* Read the whole body (at most h->max_body). Returns 0 and a malloc'd NUL-terminated *body, or
 * sends the error itself (413 / 400) and returns its status. Empty body: *body = NULL, len 0. */
int vms_read_body(struct vms_req *r, char **body, size_t *len);
/* 0 when a JSON body nests at most VMS_JSON_MAX_DEPTH levels; else sends 400 too_deep and
 * returns its status. Every JSON body passes it before it is parsed. */
int vms_json_depth_ok(struct vms_req *r, const char *text, size_t len);
/* Query parameter into buf. Returns its length, -1 when absent, -2 when too long. */
int vms_query(const struct vms_req *r, const char *name, char *buf, size_t size);
/* Strict decimal parsers: only digits, no sign, no overflow. Return 0 on success. */
int vms_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);
/* Parse the {id}/{pid}/{addr} parameters, sending 400 on error (return value = status or 0). */
int vms_param_id(struct vms_req *r, const char *text, int64_t *id);
int vms_param_pid(struct vms_req *r, const char *text, int *pid);
int vms_param_addr(struct vms_req *r, const char *text, uint64_t *addr);
/* Optional JSON options body / query: {"omit_cmdline":bool,"share":bool}. Sends 400 on error. */
struct vms_share_opts {
	int omit_cmdline, share;
	int peek; /* scans: may recognisers read the target's memory ("peek": false says no) */
};
int vms_share_options(struct vms_req *r, struct vms_share_opts *o, int read_body);
/* "http://HOST" from the (already validated) Host header, for absolute share URLs. */
void vms_origin(const struct vms_req *r, char *buf, size_t size);
void vms_log(struct vms_http *h, enum vms_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- security (security.c) ----------------------------------------------------------- */
int vms_host_allowed(const struct vms_http *h, const char *host);
int vms_token_ok(const struct vms_http *h, const char *authorization);
/* 1 when the request comes from a foreign page (Origin not ours, Sec-Fetch-Site cross/same-site). */
int vms_cross_site(const struct mg_connection *conn);
int vms_is_json_type(const char *content_type);

/* ---- scans (scan_gate.c) -------------------------------------------------------------- */
/* Pass the gate every full scan passes: the rate limit, then the scan lock (one at a time,
 * waiting at most 30 s). Returns 0 holding the lock (release it with vms_scan_end), or the
 * status of the 429 response it sent (rate_limited, or busy). */
int vms_scan_begin(struct vms_req *r);
void vms_scan_end(struct vms_req *r);
/* Take a full scan of pid through that gate. peek: 0 forbids reading the target's memory
 * (recognisers use geometry alone). On failure the error response has been sent and its status
 * is returned; 0 and *out on success. */
int vms_scan(struct vms_req *r, int pid, int peek, struct vms_snapshot **out);
/* A boolean query parameter ?NAME=1|0|true|false into *out (left as it is when absent); 0, or
 * the status of the 400 sent. */
int vms_query_bool(struct vms_req *r, const char *name, int *out);

/* ---- the timeline sampler (sampler.c) ---------------------------------------------------- */
struct vms_watch;
/* Start the sampler thread after resuming the store's running watches (VMS_OK without a
 * store); stop joins it. */
int vms_sampler_start(struct vms_http *h);
void vms_sampler_stop(struct vms_http *h);
/* Sample a new running watch (its first tick right away). */
int vms_sampler_add(struct vms_http *h, const struct vms_watch *w);
/* Stop sampling watch id; 1 when it was being sampled. Waits for a tick of it that is running,
 * so nothing of the watch is written after it returns. */
int vms_sampler_remove(struct vms_http *h, int64_t id);
/* What the sampler knows of a running watch that the store does not keep. 1 when active. */
struct vms_sampler_info {
	int active;
	uint32_t effective_interval_ms; /* > the interval while backing off */
	uint64_t skipped_busy, ticks;   /* since the daemon started */
	int64_t last_tick_ms;           /* how long the last tick took */
};
int vms_sampler_info(struct vms_http *h, int64_t id, struct vms_sampler_info *out);

/* ---- handlers -------------------------------------------------------------------------- */
int vms_h_health(struct vms_req *r);
int vms_h_version(struct vms_req *r);
int vms_h_processes(struct vms_req *r);
int vms_h_process(struct vms_req *r);
int vms_h_process_snapshot(struct vms_req *r);
int vms_h_process_changes(struct vms_req *r);
int vms_h_process_at(struct vms_req *r);
int vms_h_process_at_many(struct vms_req *r);
int vms_h_snapshots(struct vms_req *r);
int vms_h_snapshot_import(struct vms_req *r);
int vms_h_snapshot_get(struct vms_req *r);
int vms_h_snapshot_csv(struct vms_req *r);
int vms_h_snapshot_txt(struct vms_req *r);
int vms_h_snapshot_delete(struct vms_req *r);
int vms_h_snapshot_at(struct vms_req *r);
int vms_h_snapshot_at_many(struct vms_req *r);
int vms_h_snapshot_meta(struct vms_req *r);
int vms_h_export_csv(struct vms_req *r);
int vms_h_export_txt(struct vms_req *r);
int vms_h_diff(struct vms_req *r);
int vms_h_share_create(struct vms_req *r);
int vms_h_share_list(struct vms_req *r);
int vms_h_share_revoke(struct vms_req *r);
int vms_h_shared_get(struct vms_req *r);
int vms_h_shared_csv(struct vms_req *r);
int vms_h_shared_txt(struct vms_req *r);
int vms_h_shared_at(struct vms_req *r);
int vms_h_shared_at_many(struct vms_req *r);
int vms_h_watch_create(struct vms_req *r);
int vms_h_watches(struct vms_req *r);
int vms_h_watch_get(struct vms_req *r);
int vms_h_watch_delete(struct vms_req *r);
int vms_h_watch_samples(struct vms_req *r);
int vms_h_watch_growth(struct vms_req *r);

/* Shared by snapshot and share handlers (api_export.c). omit_cmdline blanks the command line. */
struct vms_json_opts;
/* A snapshot's JSON, written without a cJSON tree (vms_json_write_snapshot). */
int vms_send_snapshot(struct vms_req *r, const struct vms_snapshot *s, const struct vms_json_opts *opts);
int vms_send_snapshot_json(struct vms_req *r, int64_t id, int omit_cmdline);
int vms_send_snapshot_export(struct vms_req *r, int64_t id, int omit_cmdline, int csv);
/* What is at addr_text in stored snapshot id (api_at.c); addr_text NULL: at each address of the
 * POST body {"addresses": [...]}, answered as {"results": [...]}. read_files: also read the
 * image's file on this host for its section and symbol when the snapshot was taken here (never
 * for a share link: an unauthenticated holder must not make the daemon read files). */
int vms_send_snapshot_at(struct vms_req *r, int64_t id, const char *addr_text, int read_files);
/* A stored snapshot's metadata as the list/creation JSON. */
cJSON *vms_meta_json(const struct vms_snapshot_meta *m);
cJSON *vms_share_json(const struct vms_req *r, const struct vms_share *s);

/* ---- the share page (static.c) --------------------------------------------------------- */
int vms_share_page(struct vms_req *r, const char *token);

#endif
