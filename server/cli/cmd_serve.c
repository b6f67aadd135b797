/* vmscope serve: open the store, load (or create) the API token, start the HTTP server, print
 * the URL to open and run until SIGINT/SIGTERM. The daemon's logger lives here: a level and a
 * timestamp on stderr. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "serve_paths.h"
#include "serve_socket.h"
#include "vmscope/error.h"
#include "vmscope/http.h"
#include "vmscope/json.h"
#include "vmscope/store.h"
#include "vmscope/tls.h"
#include "vmscope/util.h"

#define MAX_ALLOW_HOSTS 16
#define MAX_METRICS_PROCESSES 64

struct logger {
	enum vms_log_level min;
	pthread_mutex_t lock;
};

static void log_line(void *arg, enum vms_log_level level, const char *msg)
{
	static const char *const names[] = {"DEBUG", "INFO", "WARN", "ERROR"};
	struct logger *lg = arg;
	struct timespec ts;
	char when[32];
	if (level < lg->min)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	vms_format_time_ms((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, when, sizeof when);
	pthread_mutex_lock(&lg->lock);
	fprintf(stderr, "%s %-5s %s\n", when, names[level], msg);
	pthread_mutex_unlock(&lg->lock);
}

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: vmscope serve [--listen ADDR:PORT] [--db PATH] [--web DIR] [--allow-host NAME]...\n"
	    "                     [--no-auth] [--max-snapshots N] [--max-bytes SIZE] [--max-body SIZE]\n"
	    "                     [--scan-rate N] [--scan-burst N] [--threads N] [--verbose]\n"
	    "                     [--tls-cert FILE --tls-key FILE | --tls-self-signed] [--insecure-http]\n"
	    "                     [--public-url URL]\n"
	    "                     [--metrics-process NAME|PID]... [--metrics-interval SECONDS]\n"
	    "                     [--allow-memory-read [--memory-reads-per-min N]]\n\n"
	    "Run the daemon: the REST API under /api/v1 and the browser dashboard.\n\n"
	    "  --listen ADDR:PORT   where to listen (default %s; port 0 picks a free one).\n"
	    "                       Only 127.0.0.1 unless you name another address; any address\n"
	    "                       outside 127.0.0.0/8 needs TLS (or --insecure-http). Started by\n"
	    "                       systemd's vmscope.socket (LISTEN_FDS), it serves on that socket\n"
	    "                       and its address replaces --listen.\n"
	    "  --tls-cert FILE      serve https only with this certificate (PEM, chain leaf first)\n"
	    "  --tls-key FILE       ... and its private key (PEM). TLS 1.2 and 1.3 only.\n"
	    "  --tls-self-signed    serve https only with a certificate made for this host and kept\n"
	    "                       beside the database (PATH.tls-cert.pem, PATH.tls-key.pem, 0600);\n"
	    "                       prints its SHA-256 fingerprint for teammates to check\n"
	    "  --insecure-http      allow plain HTTP on a non-loopback address: the token, share links\n"
	    "                       and every snapshot cross the network readable (warned at start)\n"
	    "  --public-url URL     scheme, host and port of share links, e.g. https://team-host:8443\n"
	    "                       (default: from the request's Host); its host is also allowed\n"
	    "  --db PATH            snapshot database (default $XDG_DATA_HOME/vmscope/vmscope.db or\n"
	    "                       ~/.local/share/vmscope/vmscope.db). The API token is kept in "
	    "PATH.token.\n"
	    "  --web DIR            dashboard files (default: PREFIX/share/vmscope/web for an installed\n"
	    "                       vmscope, else the source tree's web/)\n"
	    "  --allow-host NAME    also accept this name in the Host header (repeatable), e.g. the\n"
	    "                       machine's name when listening on a team-reachable address\n"
	    "  --no-auth            no API token: every local user can read every scan. Loopback only.\n"
	    "  --max-snapshots N    retention: at most N stored snapshots (default %u)\n"
	    "  --max-bytes SIZE     retention: at most SIZE bytes of snapshots (K/M/G suffix; default 4G)\n"
	    "  --max-body SIZE      largest request body, e.g. an imported snapshot (default 64M)\n"
	    "  --scan-rate N        full scans per second before 429 (default %.0f)\n"
	    "  --scan-burst N       full scans allowed back to back (default %u)\n"
	    "  --threads N          worker threads (default %u)\n"
	    "  --verbose            log every request\n"
	    "  --metrics-process NAME|PID  GET /metrics also shows this process (repeatable; every\n"
	    "                       watched process is shown anyway)\n"
	    "  --metrics-interval SECONDS  scan a --metrics-process target at most this often\n"
	    "                       (default %u)\n"
	    "  --allow-memory-read  allow the strings and trim routes: they read (or page out) the\n"
	    "                       memory of processes vmscope may ptrace-attach to; each call is\n"
	    "                       logged. Never over a share link. Off by default.\n"
	    "  --memory-reads-per-min N  strings/trim requests allowed per minute (default %u)\n",
	    VMS_HTTP_DEFAULT_LISTEN, VMS_STORE_DEFAULT_MAX_SNAPSHOTS, VMS_HTTP_DEFAULT_SCAN_RATE,
	    VMS_HTTP_DEFAULT_SCAN_BURST, VMS_HTTP_DEFAULT_THREADS, VMS_HTTP_DEFAULT_METRICS_INTERVAL_S,
	    VMS_HTTP_DEFAULT_MEMORY_READS_PER_MIN);
}

/* "123", "64K", "512M", "4G" -> bytes. */
static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (end == s || *s == '-')
		return -1;
	unsigned shift = 0;
	if (*end == 'K' || *end == 'k')
		shift = 10;
	else if (*end == 'M' || *end == 'm')
		shift = 20;
	else if (*end == 'G' || *end == 'g')
		shift = 30;
	else if (*end)
		return -1;
	if (shift && end[1])
		return -1;
	if (v == 0 || v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

static int is_loopback(const char *listen)
{
	return !strncmp(listen, "127.", 4);
}

/* What the command line asked for. */
struct serve_args {
	struct vms_http_config cfg;
	struct vms_store_opts sopts;
	const char *allow[MAX_ALLOW_HOSTS];
	const char *metrics[MAX_METRICS_PROCESSES];
	const char *db, *web;
	int no_auth, verbose, self_signed, insecure_http;
	char socket_listen[64]; /* the address of the socket systemd passed (serve_socket.c) */
};

/* optarg as an unsigned number in [min, max] into *out; 0, or -1 after saying what opt takes. */
static int uint_opt(const char *opt, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v = strtoul(optarg, &end, 10);
	if (*end || end == optarg || v < min || v > max || *optarg == '-') {
		fprintf(stderr, "vmscope serve: %s takes %lu to %lu\n", opt, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

/* optarg as a size into *out: -1 to go on, or VMS_EXIT_USAGE after saying what opt takes. */
static int size_opt(const char *opt, const char *example, uint64_t *out)
{
	if (parse_size(optarg, out) == 0)
		return -1;
	fprintf(stderr, "vmscope serve: %s takes a size such as %s\n", opt, example);
	return VMS_EXIT_USAGE;
}

/* One option into a (the cookie). Returns -1 to go on, else the exit code (after saying why). */
static int parse_option(int c, void *cookie)
{
	struct serve_args *a = cookie;
	unsigned long v;
	char *end;
	/* Options that only name something, or only switch something on. */
	const struct {
		int c;
		const char **to;
	} texts[] = {{'l', &a->cfg.listen},   {'d', &a->db},          {'w', &a->web},
	             {'C', &a->cfg.tls_cert}, {'K', &a->cfg.tls_key}, {'P', &a->cfg.public_url}};
	const struct {
		int c;
		int *to;
	} flags[] = {{'n', &a->no_auth},
	             {'v', &a->verbose},
	             {'X', &a->self_signed},
	             {'I', &a->insecure_http},
	             {'R', &a->cfg.allow_memory_read}};
	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
		if (texts[i].c == c) {
			*texts[i].to = optarg;
			return -1;
		}
	for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
		if (flags[i].c == c) {
			*flags[i].to = 1;
			return -1;
		}
	/* Whole numbers within bounds. */
	const struct {
		int c;
		const char *opt;
		unsigned long min, max;
		unsigned *to;
	} counts[] = {{'u', "--scan-burst", 1, 10000, &a->cfg.scan_burst},
	              {'t', "--threads", 2, 1024, &a->cfg.threads},
	              {'i', "--metrics-interval", 1, 86400, &a->cfg.metrics_interval_s},
	              {'m', "--memory-reads-per-min", 1, 6000, &a->cfg.memory_reads_per_min}};
	for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
		if (counts[i].c == c) {
			if (uint_opt(counts[i].opt, counts[i].min, counts[i].max, &v) != 0)
				return VMS_EXIT_USAGE;
			*counts[i].to = (unsigned)v;
			return -1;
		}
	switch (c) {
	case 'a':
		if (a->cfg.n_allow_hosts == MAX_ALLOW_HOSTS || !*optarg || strchr(optarg, ':')) {
			fprintf(stderr,
			        "vmscope serve: --allow-host takes a host name without port (at most %d)\n",
			        MAX_ALLOW_HOSTS);
			return VMS_EXIT_USAGE;
		}
		a->allow[a->cfg.n_allow_hosts++] = optarg;
		return -1;
	case 'S':
		if (uint_opt("--max-snapshots", 1, ULONG_MAX, &v) != 0)
			return VMS_EXIT_USAGE;
		a->sopts.max_snapshots = v;
		return -1;
	case 'B':
		return size_opt("--max-bytes", "512M or 4G", &a->sopts.max_bytes);
	case 'r':
		a->cfg.scan_rate = strtod(optarg, &end);
		if (*end || !(a->cfg.scan_rate > 0)) {
			fprintf(stderr, "vmscope serve: --scan-rate takes a positive number\n");
			return VMS_EXIT_USAGE;
		}
		return -1;
	case 'M':
		return size_opt("--max-body", "64M", &a->cfg.max_body);
	case 'e':
		if (a->cfg.n_metrics_processes == MAX_METRICS_PROCESSES || !*optarg || strlen(optarg) > 63) {
			fprintf(stderr,
			        "vmscope serve: --metrics-process takes a process name or pid of at most 63 "
			        "characters (at most %d of them)\n",
			        MAX_METRICS_PROCESSES);
			return VMS_EXIT_USAGE;
		}
		a->metrics[a->cfg.n_metrics_processes++] = optarg;
		return -1;
	default:
		usage(stderr);
		return VMS_EXIT_USAGE;
	}
}

/* The combinations: TLS from files or self-signed, and where plain HTTP may listen. Returns -1
 * when they are fine, else the exit code (after saying why). */
static int check_args(struct serve_args *a)
{
	if (a->no_auth && !is_loopback(a->cfg.listen)) {
		fprintf(stderr,
		        "vmscope serve: refusing --no-auth on %s: without a token anyone who can reach it "
		        "could read every process's memory layout. Keep the token, or listen on 127.0.0.1.\n",
		        a->cfg.listen);
		return VMS_EXIT_USAGE;
	}
	if (!a->cfg.tls_cert != !a->cfg.tls_key) {
		fprintf(stderr, "vmscope serve: --tls-cert and --tls-key go together\n");
		return VMS_EXIT_USAGE;
	}
	if (a->self_signed && a->cfg.tls_cert) {
		fprintf(stderr, "vmscope serve: --tls-self-signed or --tls-cert/--tls-key, not both\n");
		return VMS_EXIT_USAGE;
	}
	if (!a->cfg.tls_cert && !a->self_signed && !a->insecure_http && !is_loopback(a->cfg.listen)) {
		fprintf(stderr,
		        "vmscope serve: refusing plain HTTP on %s: the API token, share links and every "
		        "snapshot would cross the network readable by anyone on the way. Add "
		        "--tls-self-signed (or --tls-cert FILE --tls-key FILE); --insecure-http if you "
		        "really mean it.\n",
		        a->cfg.listen);
		return VMS_EXIT_USAGE;
	}
	return -1;
}

/* The command line into a. Returns -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, struct serve_args *a)
{
	static const struct option longopts[] = {
	    {"listen", required_argument, NULL, 'l'},
	    {"db", required_argument, NULL, 'd'},
	    {"web", required_argument, NULL, 'w'},
	    {"allow-host", required_argument, NULL, 'a'},
	    {"no-auth", no_argument, NULL, 'n'},
	    {"max-snapshots", required_argument, NULL, 'S'},
	    {"max-bytes", required_argument, NULL, 'B'},
	    {"scan-rate", required_argument, NULL, 'r'},
	    {"scan-burst", required_argument, NULL, 'u'},
	    {"max-body", required_argument, NULL, 'M'},
	    {"threads", required_argument, NULL, 't'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"tls-cert", required_argument, NULL, 'C'},
	    {"tls-key", required_argument, NULL, 'K'},
	    {"tls-self-signed", no_argument, NULL, 'X'},
	    {"insecure-http", no_argument, NULL, 'I'},
	    {"public-url", required_argument, NULL, 'P'},
	    {"metrics-process", required_argument, NULL, 'e'},
	    {"metrics-interval", required_argument, NULL, 'i'},
	    {"allow-memory-read", no_argument, NULL, 'R'},
	    {"memory-reads-per-min", required_argument, NULL, 'm'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	a->cfg.listen = VMS_HTTP_DEFAULT_LISTEN;
	a->cfg.allow_hosts = a->allow;
	a->cfg.metrics_processes = a->metrics;
	int rc = vms_cli_options(argc, argv, longopts, parse_option, a, usage);
	if (rc != -1)
		return rc;
	/* Socket activation: the socket's address replaces --listen, and every check below (TLS
	 * beyond loopback, --no-auth) applies to it as to a --listen. */
	char err[256];
	int got = vms_serve_inherited_socket(&a->cfg.listen_fd, a->socket_listen, sizeof a->socket_listen,
	                                     err, sizeof err);
	if (got < 0) {
		fprintf(stderr, "vmscope serve: %s\n", err);
		return VMS_EXIT_ERROR;
	}
	if (got)
		a->cfg.listen = a->socket_listen;
	return check_args(a);
}

/* The TLS side of the files: the self-signed pair beside the database (made on first use) or
 * the given pair; its fingerprint for announce(). */
struct tls_files {
	char cert[PATH_MAX + 32], key[PATH_MAX + 32];
	char fp[VMS_TLS_FP_LEN + 1];
	int created;
};

/* The names a self-signed certificate is for: this host's name, localhost, 127.0.0.1, the listen
 * address, every --allow-host name and the --public-url host. */
static size_t cert_names(const struct serve_args *a, const char **names, size_t max, char *hostbuf,
                         size_t hostlen, char *listenbuf, size_t listenlen, char *pubbuf, size_t publen)
{
	size_t n = 0;
	if (gethostname(hostbuf, hostlen) == 0 && *hostbuf && n < max)
		names[n++] = hostbuf;
	names[n++] = "localhost";
	names[n++] = "127.0.0.1";
	snprintf(listenbuf, listenlen, "%.*s", (int)(strrchr(a->cfg.listen, ':') - a->cfg.listen),
	         a->cfg.listen);
	if (strcmp(listenbuf, "0.0.0.0") && strcmp(listenbuf, "127.0.0.1"))
		names[n++] = listenbuf;
	for (size_t i = 0; i < a->cfg.n_allow_hosts && n < max; i++)
		names[n++] = a->allow[i];
	if (a->cfg.public_url && n < max) {
		const char *h = strstr(a->cfg.public_url, "://");
		snprintf(pubbuf, publen, "%s", h ? h + 3 : "");
		pubbuf[strcspn(pubbuf, ":/")] = '\0';
		if (*pubbuf)
			names[n++] = pubbuf;
	}
	return n;
}

/* --tls-self-signed: load or make the pair beside the database; --tls-cert: its fingerprint.
 * Returns 0, or -1 after saying why. */
static int setup_tls(struct serve_args *a, struct tls_files *t)
{
	char errbuf[512] = "";
	if (a->self_signed) {
		const char *names[MAX_ALLOW_HOSTS + 5];
		char host[256] = "", listen[64], pub[256];
		size_t n = cert_names(a, names, sizeof names / sizeof names[0], host, sizeof host, listen,
		                      sizeof listen, pub, sizeof pub);
		if (vms_tls_paths(a->db, t->cert, t->key, sizeof t->cert) != 0 ||
		    vms_tls_self_signed(t->cert, t->key, names, n, t->fp, &t->created, errbuf,
		                        sizeof errbuf) != 0) {
			fprintf(stderr, "vmscope serve: TLS: %s\n",
			        *errbuf ? errbuf : "database path too long");
			return -1;
		}
		a->cfg.tls_cert = t->cert;
		a->cfg.tls_key = t->key;
	} else if (a->cfg.tls_cert &&
	           vms_tls_fingerprint_file(a->cfg.tls_cert, t->fp, errbuf, sizeof errbuf) != 0) {
		fprintf(stderr, "vmscope serve: TLS: %s\n", errbuf);
		return -1;
	}
	return 0;
}

/* The files: database (default path unless --db), dashboard (default unless --web), the store
 * opened and, unless --no-auth, the API token loaded into token. Returns 0, or -1 after saying
 * why on stderr. */
static int open_files(struct serve_args *a, struct logger *lg, char *dbbuf, size_t dblen, char *webbuf,
                      size_t weblen, struct vms_store **store, char token[VMS_API_TOKEN_LEN + 1],
                      struct tls_files *tls)
{
	char errbuf[512] = "";
	if (!(a->db = vms_db_path_or_default(a->db, dbbuf, dblen, errbuf, sizeof errbuf))) {
		fprintf(stderr, "vmscope serve: %s\n", errbuf);
		return -1;
	}
	if (!a->web && !(a->web = vms_default_web_dir(webbuf, weblen)))
		log_line(lg, VMS_LOG_WARN, "no dashboard files found (pass --web DIR): serving the API only");
	a->cfg.web_dir = a->web;

	a->sopts.legacy_json = vms_json_decode_stored; /* the store's schema-1 snapshots: JSON only */
	int err = vms_store_open(a->db, &a->sopts, store, errbuf, sizeof errbuf);
	if (err != VMS_OK) {
		fprintf(stderr, "vmscope serve: %s\n", *errbuf ? errbuf : vms_strerror(err));
		return -1;
	}
	a->cfg.store = *store;
	if (setup_tls(a, tls) != 0)
		return -1;
	if (a->no_auth)
		return 0;
	if (vms_load_token_beside(a->db, token, errbuf, sizeof errbuf) != 0) {
		fprintf(stderr, "vmscope serve: %s\n", errbuf);
		return -1;
	}
	a->cfg.api_token = token;
	return 0;
}

/* Where we listen, the URL to open (with the token) and the warnings that go with it. */
/* May the token go to stdout? A terminal or a pipe: yes (only its reader sees it). A regular
 * file: only once nobody else can read it; a file of ours wider than 0600 is narrowed to 0600
 * first (`vmscope serve > log` used to leave the token in a 0644 file). Anything else: no. */
/* Whether the stream sb is systemd's journal: JOURNAL_STREAM is "DEV:INO" of the stream systemd
 * connected stdout/stderr to (systemd.exec(5)). The journal keeps what we print on disk, readable
 * by the adm and systemd-journal groups: a token there is not private. */
static int is_journal(const struct stat *sb)
{
	const char *js = getenv("JOURNAL_STREAM");
	char *end;
	if (!js)
		return 0;
	errno = 0;
	unsigned long long dev = strtoull(js, &end, 10);
	if (errno || end == js || *end != ':')
		return 0;
	const char *p = end + 1;
	unsigned long long ino = strtoull(p, &end, 10);
	return !errno && end != p && !*end && dev == (unsigned long long)sb->st_dev &&
	       ino == (unsigned long long)sb->st_ino;
}

static int stdout_private(void)
{
	struct stat sb;
	if (isatty(STDOUT_FILENO))
		return 1;
	if (fstat(STDOUT_FILENO, &sb) != 0 || is_journal(&sb))
		return 0;
	if (S_ISFIFO(sb.st_mode) || S_ISSOCK(sb.st_mode))
		return 1;
	if (!S_ISREG(sb.st_mode) || sb.st_uid != geteuid())
		return 0;
	if ((sb.st_mode & 077) && fchmod(STDOUT_FILENO, sb.st_mode & 0700) != 0)
		return 0;
	return 1;
}

static void announce(const struct serve_args *a, struct logger *lg, int port, const char *token,
                     const struct tls_files *tls)
{
	const char *scheme = a->cfg.tls_cert ? "https" : "http";
	const char *shown = !strncmp(a->cfg.listen, "0.0.0.0:", 8) ? "127.0.0.1" : NULL;
	char host[64];
	snprintf(host, sizeof host, "%.*s", (int)(strrchr(a->cfg.listen, ':') - a->cfg.listen),
	         a->cfg.listen);
	if (!shown)
		shown = host;

	if (a->no_auth)
		fprintf(stderr,
		        "\n"
		        "vmscope: ******************************************************************\n"
		        "vmscope: WARNING: --no-auth: the API has NO TOKEN. Every local user and every\n"
		        "vmscope: program on this machine can list processes and read the memory layout\n"
		        "vmscope: (including ASLR addresses) of every process this daemon can read.\n"
		        "vmscope: ******************************************************************\n\n");
	if (a->cfg.allow_memory_read)
		log_line(lg, VMS_LOG_WARN,
		         "--allow-memory-read: the strings and trim routes read and page out the memory of "
		         "processes this daemon may ptrace-attach to; every call is logged");
	if (!is_loopback(a->cfg.listen) && !a->cfg.tls_cert)
		log_line(lg, VMS_LOG_WARN,
		         "--insecure-http: plain HTTP beyond loopback: the API token, share links and "
		         "every snapshot cross the network readable by anyone on the way. Use "
		         "--tls-self-signed or --tls-cert/--tls-key instead.");
	printf("vmscope: database %s\n", a->db);
	if (a->cfg.tls_cert)
		printf("vmscope: TLS certificate %s%s\n"
		       "vmscope: TLS certificate SHA-256 fingerprint %s\n",
		       a->cfg.tls_cert, tls->created ? " (made now)" : "", tls->fp);
	printf("vmscope: listening on %s://%s:%d/\n", scheme, shown, port);
	if (a->cfg.public_url)
		printf("vmscope: share links point at %s\n", a->cfg.public_url);
	if (a->no_auth)
		printf("vmscope: open %s://%s:%d/\n", scheme, shown, port);
	else if (stdout_private())
		printf("vmscope: open %s://%s:%d/#token=%s\n", scheme, shown, port, token);
	else
		printf("vmscope: open %s://%s:%d/ with the token that `vmscope token --db %s` prints "
		       "(it is not written here: others could read this output)\n",
		       scheme, shown, port, a->db);
	fflush(stdout);
}

/* The steps: parse the command line, open the files, start the server with the stop signals
 * blocked, say where it listens, wait for SIGINT/SIGTERM, stop. */
int vms_cmd_serve(int argc, char **argv)
{
	struct serve_args a = {0};
	char dbbuf[PATH_MAX], webbuf[PATH_MAX], token[VMS_API_TOKEN_LEN + 1] = "", errbuf[512] = "";
	struct vms_store *store = NULL;
	struct vms_http *http = NULL;
	struct logger lg = {.min = VMS_LOG_INFO};
	struct tls_files tls = {.created = 0};
	int rc = parse_args(argc, argv, &a);
	if (rc != -1)
		return rc;
	rc = VMS_EXIT_ERROR;
	/* glibc gives each new thread its own malloc arena (up to 8 per CPU) and keeps what an arena
	 * once held: with 256 workers, 10 imports of a 66 MB snapshot left 5.2 GB resident (issue
	 * 11). Two arenas are plenty for a daemon that mostly waits on sockets and SQLite; the
	 * server trims the heap after each large request (server/http/server.c, end_request). */
	mallopt(M_ARENA_MAX, 2);
	/* Fixed thresholds (setting them turns glibc's sliding ones off): freeing one large block
	 * (an import's body) raised the mmap threshold to its size and the trim threshold to twice
	 * that, so the next imports' blocks came from a worker arena whose top malloc_trim does
	 * not release: 5 imports of a 22 MB body kept 36 MB resident. Blocks of 256 KiB and more
	 * are now mmap'd and unmapped on free. */
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	mallopt(M_TRIM_THRESHOLD, 1024 * 1024);
	if (a.verbose)
		lg.min = VMS_LOG_DEBUG;
	pthread_mutex_init(&lg.lock, NULL);
	a.cfg.log = log_line;
	a.cfg.log_arg = &lg;
	if (open_files(&a, &lg, dbbuf, sizeof dbbuf, webbuf, sizeof webbuf, &store, token, &tls) != 0)
		goto out;

	/* Block the stop signals before civetweb starts its threads so that they inherit the mask
	 * and only sigwait() below sees them. */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	int err = vms_http_start(&a.cfg, &http, errbuf, sizeof errbuf);
	if (err != VMS_OK) {
		fprintf(stderr, "vmscope serve: %s\n", *errbuf ? errbuf : vms_strerror(err));
		rc = err == VMS_ERR_INVALID ? VMS_EXIT_USAGE : VMS_EXIT_ERROR;
		goto out;
	}
	announce(&a, &lg, vms_http_port(http), token, &tls);

	int sig = 0;
	sigwait(&stop, &sig);
	log_line(&lg, VMS_LOG_INFO, sig == SIGINT ? "SIGINT: stopping" : "SIGTERM: stopping");
	rc = VMS_EXIT_OK;
out:
	vms_http_stop(http);
	vms_store_close(store);
	pthread_mutex_destroy(&lg.lock);
	explicit_bzero(token, sizeof token);
	return rc;
}
