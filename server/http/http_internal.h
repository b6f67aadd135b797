/* Private to server/http: the daemon context (civetweb's user data), one request, the route
 * table and the helpers every handler uses. */
#ifndef VMSCOPE_HTTP_INTERNAL_H
#define VMSCOPE_HTTP_INTERNAL_H

#include <civetweb.h>
#include <cjson/cJSON.h>
#include <pthread.h>
#include <semaphore.h>
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

/* The daemon's counters for /metrics (stats.c). Thread-safe through lock. */
enum vms_scan_source { VMS_SCAN_API = 0, VMS_SCAN_WATCH, VMS_SCAN_METRICS, VMS_SCAN_SOURCE_COUNT };
#define VMS_STATS_SCAN_BUCKETS 12
#define VMS_STATS_MAX_CODES 48 /* distinct error codes counted by name; more go to errors_other */
extern const double vms_stats_scan_buckets[VMS_STATS_SCAN_BUCKETS];
struct vms_stats {
	pthread_mutex_t lock;                     /* first member: vms_stats_copy copies what follows it */
	uint64_t scans[VMS_SCAN_SOURCE_COUNT][2]; /* [source][0 ok, 1 failed] */
	uint64_t scan_bucket[VMS_STATS_SCAN_BUCKETS + 1]; /* successful scans per bucket (not
	                                                   * cumulative); the last is +Inf only */
	double scan_seconds_sum;
	uint64_t scan_count;
	struct {
		char code[32];
		uint64_t count;
	} errors[VMS_STATS_MAX_CODES];
	size_t n_errors;
	uint64_t errors_other;
};
void vms_stats_init(struct vms_stats *st);
void vms_stats_destroy(struct vms_stats *st);
/* One full scan from src: ok or not, and how long it took (seconds; only successful scans go
 * into the histogram). */
void vms_stats_scan(struct vms_stats *st, enum vms_scan_source src, int ok, double seconds);
/* One error response with this code ("not_found"). */
void vms_stats_error(struct vms_stats *st, const char *code);
/* A consistent copy of the counters (out's lock is left untouched). */
void vms_stats_copy(struct vms_stats *st, struct vms_stats *out);
const char *vms_stats_source_name(enum vms_scan_source s);
double vms_stats_now(void); /* CLOCK_MONOTONIC in seconds, for durations */

/* The whole daemon state; the only "global" there is, passed to civetweb as user data. */
struct vms_http {
	struct mg_context *mg;
	struct vms_store *store;
	char api_token[VMS_API_TOKEN_LEN + 1];
	size_t api_token_len; /* 0 = --no-auth */
	char listen_addr[64]; /* "127.0.0.1" */
	int port;             /* set once after mg_start, read with __atomic_load_n */
	/* socket activation: the inherited listening socket, taken over in civetweb's init_context
	 * (before its accept loop starts); adopt_err/adopt_msg say how that went */
	int adopt_fd, adopt_err;
	char adopt_msg[192];
	char **allow_hosts;
	size_t n_allow_hosts;
	char *web_dir;    /* absolute, or NULL */
	char *index_path; /* web_dir/index.html, or NULL */
	uint64_t max_body;
	int tls;          /* https only (the listening port has civetweb's "s") */
	char *public_url; /* --public-url without a trailing slash, or NULL */
	char *tls_cert, *tls_key;
	pthread_mutex_t scan_lock;         /* one full scan at a time */
	int scan_waiting;                  /* interactive scans waiting for scan_lock (atomic): the sampler
	                                    * skips its tick while any does */
	struct vms_sampler *sampler;       /* the timeline sampler (sampler.c), NULL without a store */
	struct vms_file_cache *file_cache; /* files recognisers read, across scans (NULL: per scan) */
	struct vms_ratelimit scan_rate;
	sem_t stream_slots;    /* snapshot bodies being sent: VMS_HTTP_MAX_STREAMS at most (stream_gate.c) */
	int allow_memory_read; /* --allow-memory-read: strings and trim routes (api_pages.c) */
	struct vms_ratelimit memory_rate;    /* their requests per minute */
	struct vms_ratelimit residency_rate; /* residency of a range (the whole space: scan_rate) */
	int disk_full_logged; /* __atomic: "disk full" was logged and the disk has not recovered */
	void (*log)(void *arg, enum vms_log_level level, const char *msg);
	void *log_arg;
	struct vms_stats stats;               /* for /metrics */
	struct vms_metrics_targets *mtargets; /* --metrics-process (metrics_targets.c), or NULL */
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

/* Serve on listening socket fd (systemd socket activation) instead of the one civetweb bound on
 * 127.0.0.1:civetweb_port: fd takes that listener's descriptor number, h->port becomes fd's
 * port, fd is closed. VMS_OK, VMS_ERR_INVALID (fd is not a listening IPv4 TCP socket) or
 * VMS_ERR_IO; errbuf says why. (listen_fd.c) */
int vms_http_adopt_listener(struct vms_http *h, int fd, int civetweb_port, char *errbuf, size_t errlen);

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
/* The same with extra headers (as for vms_send), e.g. the Location of a 201. */
int vms_send_json_x(struct vms_req *r, int status, cJSON *j, const struct vms_header *extra);
/* {"error":{"code":code,"message":...}} */
int vms_send_error(struct vms_req *r, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int vms_send_error_x(struct vms_req *r, int status, const char *code, const struct vms_header *extra,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Error response for an enum vms_err from the core/store (pid for the messages, or 0). */
int vms_send_vms_err(struct vms_req *r, int err, int pid);
/* Answer the result err of a store call that looks up one thing (a snapshot, a share): 0 for
 * VMS_OK (nothing sent); for VMS_ERR_NOT_FOUND 404 not_found whose message is fmt; any other
 * error through vms_send_vms_err. Returns the status sent, or 0. */
int vms_answer_store(struct vms_req *r, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
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
/* ?NAME= as a decimal in [min, max] into *out (left alone when absent). 0, or the status of the
 * 400 sent ("?NAME= takes a whole number from MIN to MAX"). */
int vms_query_u64(struct vms_req *r, const char *name, uint64_t min, uint64_t max, uint64_t *out);
/* Strict decimal parsers: only digits, no sign, no overflow. Return 0 on success. */
int vms_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);
/* Parse the {id}/{pid}/{addr} parameters, sending 400 on error (return value = status or 0). */
int vms_param_id(struct vms_req *r, const char *text, int64_t *id);
int vms_param_pid(struct vms_req *r, const char *text, int *pid);
int vms_param_addr(struct vms_req *r, const char *text, uint64_t *addr);
/* Optional JSON options body / query: {"omit_cmdline":bool,"share":bool}. Sends 400 on error. */
struct vms_share_opts {
	int omit_cmdline, share;
	int peek;            /* scans: may recognisers read the target's memory ("peek": false says no) */
	int64_t lifetime_ms; /* a new link's "lifetime": 0 = not said (the default, 7 days), -1 = never */
	int64_t max_views;   /* "max_views": 0 = no limit */
};
/* Also reads "lifetime" and "max_views" (body or query). */
int vms_share_options(struct vms_req *r, struct vms_share_opts *o, int read_body);
/* The store's spec of a new link from the options (the default lifetime filled in). */
struct vms_share_spec vms_share_spec_of(const struct vms_share_opts *o);
/* "never" -> 0, "90s" / "30m" / "12h" / "7d" -> milliseconds (at most 365 days). 0 or -1. */
#define VMS_SHARE_MAX_LIFETIME_MS (365ll * 86400000)
int vms_parse_lifetime(const char *s, int64_t *ms);
/* The --public-url when the daemon has one, else "http(s)://HOST" from the (already validated)
 * Host header, for absolute share URLs. */
void vms_origin(const struct vms_req *r, char *buf, size_t size);
void vms_log(struct vms_http *h, enum vms_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- security (security.c) ----------------------------------------------------------- */
int vms_host_allowed(const struct vms_http *h, const char *host);
/* The host of a public URL "http(s)://HOST[:PORT][/]" into buf. 0, or -1 when it is not one. */
int vms_public_url_host(const char *url, char *buf, size_t size);
int vms_token_ok(const struct vms_http *h, const char *authorization);
/* 1 when the request comes from a foreign page (Origin not ours, Sec-Fetch-Site cross/same-site). */
int vms_cross_site(const struct vms_http *h, const struct mg_connection *conn);
int vms_is_json_type(const char *content_type);

/* ---- snapshot downloads (stream_gate.c) ------------------------------------------------ */
#define VMS_HTTP_MAX_STREAMS 4
/* Take one of the VMS_HTTP_MAX_STREAMS slots for sending a snapshot body, waiting for one up to
 * 30 s. Returns 0 (then call vms_stream_end when sent), or the status already sent (503 busy). */
int vms_stream_begin(struct vms_req *r);
void vms_stream_end(struct vms_req *r);

/* ---- scans (scan_gate.c) -------------------------------------------------------------- */
/* Pass the gate every full scan passes: the rate limit, then the scan lock (one at a time,
 * waiting at most 30 s). Returns 0 holding the lock (release it with vms_scan_end), or the
 * status of the 429 response it sent (rate_limited, or busy). */
int vms_scan_begin(struct vms_req *r);
void vms_scan_end(struct vms_req *r);
/* Take one token of rl for a request. 0 when allowed; else sends 429 rate_limited with
 * Retry-After and "too many WHAT; retry in N s", and returns that status. */
int vms_rate_gate(struct vms_req *r, struct vms_ratelimit *rl, const char *what);
/* Take the scan lock as an interactive scan does (counted in scan_waiting, so the sampler gives
 * way), waiting at most wait_s. 0 when held, else the pthread error (ETIMEDOUT). */
int vms_scan_lock(struct vms_http *h, int wait_s);
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
	uint32_t effective_interval_ms;   /* > the interval while backing off */
	uint64_t skipped_busy, ticks;     /* since the daemon started */
	int64_t last_tick_ms;             /* how long the last tick took */
	unsigned long_polls;              /* requests waiting for samples, all watches (the cap's count) */
	uint32_t snapshot_on_allocations; /* the watch's thresholds (vmscope/churn.h) */
	uint64_t snapshot_on_committed;
	uint64_t threshold_snapshots; /* full snapshots kept by threshold since the daemon started */
	int64_t paused_since_ms;      /* the store is full: no samples stored since then (0: not paused) */
	char unsaved_note[768];       /* the watch's note when writing it to a full store failed, else "" */
};
int vms_sampler_info(struct vms_http *h, int64_t id, struct vms_sampler_info *out);
/* Long polling (GET /watches/ID/samples?after=T&wait_s=N): wait at most timeout_ms until
 * watch id stores a sample newer than after_ms, stops being sampled, or the daemon stops.
 * Returns 1 when it waited, 0 when it did not have to (already newer, or not sampled), -1 when
 * VMS_SAMPLER_MAX_WAITERS requests are waiting already: the caller answers at once. Only
 * authenticated requests get here (the route is not public), and the cap keeps them from
 * holding more than that many of civetweb's workers. */
#define VMS_SAMPLER_MAX_WAITERS 8
int vms_sampler_wait(struct vms_http *h, int64_t id, int64_t after_ms, int64_t timeout_ms);

/* ---- metrics (api_metrics.c, metrics_targets.c) ----------------------------------------- */
/* One process's numbers as /metrics shows them: a watch's latest stored sample, or the cached
 * scan of a --metrics-process target. */
struct vms_metrics_proc {
	pid_t pid;
	uint64_t start_time;
	char comm[64];
	int64_t t_ms; /* when the numbers were taken (Unix ms) */
	struct vms_type_summary summary[VMS_TYPE_COUNT];
	uint64_t total[VMS_COL_COUNT];
	uint64_t threads, vm_rss, vm_swap;
	const char *source; /* "watch" or "metrics_process" (static) */
};
struct vms_metrics_targets;
/* The targets named by specs (NAME or PID, copied), rescanned at most every interval_s (0: the
 * default). n == 0 gives *out = NULL. VMS_OK or VMS_ERR_NOMEM. */
int vms_metrics_targets_new(const char *const *specs, size_t n, unsigned interval_s,
                            struct vms_metrics_targets **out);
void vms_metrics_targets_free(struct vms_metrics_targets *m); /* accepts NULL */
size_t vms_metrics_targets_count(const struct vms_metrics_targets *m);
/* Target i's numbers into *out (scanning it first when its last attempt is older than the
 * interval); *spec = its NAME|PID. VMS_OK, or why there are none (VMS_ERR_NO_SUCH_PROCESS,
 * VMS_ERR_AMBIGUOUS, VMS_ERR_PERMISSION ...). Thread-safe. */
int vms_metrics_target_get(struct vms_http *h, size_t i, struct vms_metrics_proc *out, const char **spec);

/* ---- handlers -------------------------------------------------------------------------- */
int vms_h_health(struct vms_req *r);
int vms_h_version(struct vms_req *r);
int vms_h_processes(struct vms_req *r);
int vms_h_system(struct vms_req *r); /* api_system.c */
int vms_h_system_files(struct vms_req *r);
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
int vms_h_export_html(struct vms_req *r); /* the HTML report (server/json/html.c) */
int vms_h_snapshot_html(struct vms_req *r);
int vms_h_shared_html(struct vms_req *r);
int vms_h_diff(struct vms_req *r);
int vms_h_share_create(struct vms_req *r);
int vms_h_share_list(struct vms_req *r);
int vms_h_share_revoke(struct vms_req *r);
int vms_h_shared_get(struct vms_req *r);
int vms_h_shared_csv(struct vms_req *r);
int vms_h_shared_txt(struct vms_req *r);
int vms_h_shared_at(struct vms_req *r);
int vms_h_shared_about(struct vms_req *r);
int vms_h_snapshot_send(struct vms_req *r);
/* 410 "expired" / "gone" for a share vms_share_gone says is gone (gone = its return value). */
int vms_send_share_gone(struct vms_req *r, const struct vms_share *sh, int gone);
/* Resolve the share token in r->param[0], a snapshot's (watch 0) or a watch's (watch 1): 0 with
 * *sh, or the status sent (404 unknown or revoked, 410 expired or used up). count: this read
 * counts as a view. */
int vms_share_resolve(struct vms_req *r, struct vms_share *sh, int count, int watch);
/* {"shares":[...]} of a store's share list (err: its result; sh is freed). */
int vms_send_share_list(struct vms_req *r, int err, struct vms_share *sh, size_t n);
/* The watch id of r->param[0], checked to exist: 0, or the status sent (400, 404). */
int vms_watch_param(struct vms_req *r, int64_t *id);
int vms_h_shared_at_many(struct vms_req *r);
int vms_h_watch_create(struct vms_req *r);
int vms_h_watches(struct vms_req *r);
int vms_h_watch_get(struct vms_req *r);
int vms_h_watch_delete(struct vms_req *r);
int vms_h_watch_samples(struct vms_req *r);
int vms_h_watch_growth(struct vms_req *r);
/* The samples and what-grew of watch id (api_watches.c), for its own routes and for a watch's
 * share link: live_ok 0 refuses ?wait_s= (long polls hold one of the few waiting slots);
 * share_token makes the growth's snapshot and diff urls the link's own routes. */
int vms_send_watch_samples(struct vms_req *r, int64_t id, int live_ok);
int vms_send_watch_growth(struct vms_req *r, int64_t id, const char *share_token);
struct vms_watch;
cJSON *vms_watch_json(struct vms_http *h, const struct vms_watch *w);
/* The diff of two stored snapshots (api_diff.c). */
int vms_send_diff(struct vms_req *r, int64_t from_id, int64_t to_id);
/* A watch's share links (api_watch_shares.c): create / list (token), and the public read-only
 * routes under /api/v1/shared/{token}/watch. */
int vms_h_watch_share_create(struct vms_req *r);
int vms_h_watch_share_list(struct vms_req *r);
int vms_h_shared_watch(struct vms_req *r);
int vms_h_shared_watch_samples(struct vms_req *r);
int vms_h_shared_watch_growth(struct vms_req *r);
int vms_h_shared_watch_snapshot(struct vms_req *r);
int vms_h_shared_watch_diff(struct vms_req *r);
/* Import a timeline document (vmscope watch -o FILE; api_watch_import.c). */
int vms_h_watch_import(struct vms_req *r);
int vms_h_metrics(struct vms_req *r);
int vms_h_openapi(struct vms_req *r);
int vms_h_process_residency(struct vms_req *r); /* api_pages.c */
int vms_h_process_strings(struct vms_req *r);
int vms_h_process_trim(struct vms_req *r);
int vms_h_process_workingset(struct vms_req *r);
int vms_h_snapshot_residency(struct vms_req *r); /* api_residency.c */
/* ?residency=1 (&residency_max_bytes=) of a snapshot being taken: the page residency of process
 * pid read right after the scan s, encoded (*blob, *len) with *info (the API's "residency"
 * object). 0 (*blob NULL when not asked), or the status sent. */
int vms_residency_for_snapshot(struct vms_req *r, int pid, const struct vms_snapshot *s, unsigned char **blob,
                               size_t *len, cJSON **info);

/* Shared by snapshot and share handlers (api_export.c). omit_cmdline blanks the command line. */
struct vms_json_opts;
/* A snapshot's JSON, written without a cJSON tree (vms_json_write_snapshot). */
int vms_send_snapshot(struct vms_req *r, const struct vms_snapshot *s, const struct vms_json_opts *opts);
int vms_send_snapshot_json(struct vms_req *r, int64_t id, int omit_cmdline);
/* What a snapshot is exported as (0 and 1 as the csv flag these calls once had). */
enum vms_export_kind { VMS_EXPORT_TXT = 0, VMS_EXPORT_CSV = 1, VMS_EXPORT_HTML = 2 };
/* Render s as kind (vmscope/export.h): *text (free()) and its length, with the content type
 * and the file extension (static). VMS_OK, VMS_ERR_NOMEM, or VMS_ERR_INVALID for no such kind. */
int vms_export_render(const struct vms_snapshot *s, int kind, char **text, size_t *len, const char **ctype,
                      const char **ext);
int vms_send_snapshot_export(struct vms_req *r, int64_t id, int omit_cmdline, int kind);
/* What is at addr_text in stored snapshot id (api_at.c); addr_text NULL: at each address of the
 * POST body {"addresses": [...]}, answered as {"results": [...]}. read_files: also read the
 * image's file on this host for its section and symbol when the snapshot was taken here (never
 * for a share link: an unauthenticated holder must not make the daemon read files). */
int vms_send_snapshot_at(struct vms_req *r, int64_t id, const char *addr_text, int read_files);
/* A new object {"id":id,"url":"/api/v1/COLLECTION/ID"} (collection "snapshots", "watches"), the
 * start of every stored thing's JSON; NULL without memory. url: when not NULL, receives the url
 * too (size >= VMS_URL_MAX holds any). */
#define VMS_URL_MAX 64
cJSON *vms_json_with_url(const char *collection, int64_t id, char *url, size_t size);
/* A stored snapshot's metadata as the list/creation JSON. */
cJSON *vms_meta_json(const struct vms_snapshot_meta *m);
cJSON *vms_share_json(const struct vms_req *r, const struct vms_share *s);
/* The answer to a link holder about what a link shows: the link (vms_share_json, without
 * id_key: this daemon's ids are not the holder's), "read_only": true and item under key, with
 * item's own members named in drop (NULL-ended) removed. Sends it (200), or the error when out
 * of memory; item is consumed. */
int vms_send_shared_about(struct vms_req *r, const struct vms_share *s, const char *id_key, const char *key,
                          cJSON *item, const char *const *drop);

/* ---- the share page (static.c) --------------------------------------------------------- */
int vms_share_page(struct vms_req *r, const char *token);

/* ---- libvmscope-sslcompat.so (tls_load.c) ------------------------------------------------ */
/* The library that holds the OpenSSL side of TLS and civetweb's libssl shim, loaded (RTLD_GLOBAL)
 * on the first call and kept: its handle, or NULL when it could not be loaded or is of another
 * build. *path: the path tried first (for messages). Thread-safe. */
void *vms_http_tls_library(const char **path);

#endif
