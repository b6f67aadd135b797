/* vmscope watch: sample one process at an interval without the daemon (core only, nothing
 * stored): one line per tick like vmstat, or one JSON object per line, and at the end what grew
 * from the first tick to the last, per type. For persistent watches use the daemon's
 * /api/v1/watches (docs/api.md, "Watches"). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "vmscope/counters.h"
#include "vmscope/growth.h"
#include "vmscope/json.h"
#include "vmscope/json_timeline.h"
#include "vmscope/proclist.h"
#include "vmscope/snapshot.h"
#include "vmscope/util.h"
#include "watch_keep.h"

static volatile sig_atomic_t g_stop; /* the CLI's only global: set by SIGINT/SIGTERM */

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

static void watch_usage(FILE *f)
{
	fprintf(f,
	        "usage: vmscope watch -p PID|NAME [-i INTERVAL] [-d DURATION | -n COUNT] [--json] [-o FILE]\n"
	        "       vmscope watch --read FILE [--json]\n\n"
	        "Sample one process at an interval (no daemon, nothing stored): one line per tick with\n"
	        "the time, total Committed, Private and Working Set, and the type whose Committed grew\n"
	        "most since the previous tick; at the end (DURATION, COUNT, Ctrl-C or the process's\n"
	        "exit) what grew per type from the first tick to the last, and its shape: leak-like\n"
	        "(steady growth) or a one-time jump; then the allocations whose Committed grew most\n"
	        "(with the rate per minute) and the new ones that appeared and kept growing.\n"
	        "  -p, --pid PID|NAME      the process (a name must match exactly one process)\n"
	        "  -i, --interval TIME     between ticks: 100ms .. 1h (default 1s); 500ms, 2s, 1m, 1h\n"
	        "  -d, --duration TIME     stop after this long\n"
	        "  -n, --count N           stop after N ticks\n"
	        "  --json                  one JSON object per tick and one for the report\n"
	        "  -o, --output FILE       also write the timeline (every sample and the full\n"
	        "                          snapshots) to FILE, complete when the watch ends; the\n"
	        "                          daemon imports it (POST /api/v1/watches/import, the\n"
	        "                          dashboard's Open file…): docs/timeline-format.md\n"
	        "  --snapshot-every TIME   with -o: a full snapshot this often (default 1m; also\n"
	        "                          the first and the last tick)\n"
	        "  -r, --read FILE         print a timeline file's ticks and report\n"
	        "For a watch that is stored, survives restarts and shows in the dashboard, use the\n"
	        "daemon: POST /api/v1/watches (docs/api.md).\n");
}

/* "500ms", "2s", "1.5s", "1m", "1h", or plain milliseconds. -1 when malformed. */
static int64_t parse_duration_ms(const char *s)
{
	char *end = NULL;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return -1;
	double mult = 1;
	if (!strcmp(end, "ms") || !*end)
		mult = 1;
	else if (!strcmp(end, "s"))
		mult = 1000;
	else if (!strcmp(end, "m") || !strcmp(end, "min"))
		mult = 60000;
	else if (!strcmp(end, "h"))
		mult = 3600000;
	else
		return -1;
	double ms = v * mult;
	return ms > 366.0 * 86400000 ? -1 : (int64_t)ms;
}

/* Bytes as "12.3M" style text (binary units), signed when sign is set. */
static void human(int64_t v, int sign, char *buf, size_t len)
{
	const char *units = "KMGT";
	double d = (double)(v < 0 ? -v : v) / 1024.0;
	int u = 0;
	while (d >= 1024.0 && u < 3) {
		d /= 1024.0;
		u++;
	}
	snprintf(buf, len, "%s%.*f%c", v < 0 ? "-" : sign ? "+" : "", d < 10 && u ? 1 : 0, d, units[u]);
}

static int top_growing(const struct vms_sample *prev, const struct vms_sample *s, int64_t *delta)
{
	int best = -1;
	*delta = 0;
	for (int t = 0; prev && t < VMS_TYPE_COUNT; t++) {
		if (t == VMS_TYPE_FREE)
			continue;
		int64_t d = (int64_t)(s->summary[t].cols[VMS_COL_COMMITTED] -
		                      prev->summary[t].cols[VMS_COL_COMMITTED]);
		if (d > *delta) {
			*delta = d;
			best = t;
		}
	}
	return best;
}

static void print_tick(const struct vms_sample *prev, const struct vms_sample *s, int json)
{
	char when[40], a[16], b[16], w[16], d[16];
	int64_t delta;
	int top = top_growing(prev, s, &delta);
	vms_format_time_ms(s->t_ms, when, sizeof when);
	if (json) {
		printf("{\"t_ms\":%lld,\"time\":\"%s\",\"committed\":%llu,\"private\":%llu,\"total_ws\":%llu,"
		       "\"threads\":%d,\"vm_rss\":%llu,\"vm_swap\":%llu,\"min_flt\":%llu,\"maj_flt\":%llu,"
		       "\"types\":{",
		       (long long)s->t_ms, when, (unsigned long long)s->total[VMS_COL_COMMITTED],
		       (unsigned long long)s->total[VMS_COL_PRIVATE],
		       (unsigned long long)s->total[VMS_COL_TOTAL_WS], (int)s->threads,
		       (unsigned long long)s->vm_rss, (unsigned long long)s->vm_swap,
		       (unsigned long long)s->min_flt, (unsigned long long)s->maj_flt);
		int first = 1;
		for (int t = 0; t < VMS_TYPE_COUNT; t++) {
			if (t == VMS_TYPE_FREE || !s->summary[t].blocks)
				continue;
			printf("%s\"%s\":{\"committed\":%llu,\"private\":%llu,\"total_ws\":%llu}",
			       first ? "" : ",", vms_type_key((enum vms_type)t),
			       (unsigned long long)s->summary[t].cols[VMS_COL_COMMITTED],
			       (unsigned long long)s->summary[t].cols[VMS_COL_PRIVATE],
			       (unsigned long long)s->summary[t].cols[VMS_COL_TOTAL_WS]);
			first = 0;
		}
		if (top >= 0)
			printf("},\"top_growing\":{\"type\":\"%s\",\"committed_delta\":%lld}}\n",
			       vms_type_key((enum vms_type)top), (long long)delta);
		else
			printf("},\"top_growing\":null}\n");
	} else {
		human((int64_t)s->total[VMS_COL_COMMITTED], 0, a, sizeof a);
		human((int64_t)s->total[VMS_COL_PRIVATE], 0, b, sizeof b);
		human((int64_t)s->total[VMS_COL_TOTAL_WS], 0, w, sizeof w);
		if (top >= 0)
			human(delta, 1, d, sizeof d);
		printf("%-12.12s %10s %10s %10s  %s%s%s\n", when + 11, a, b, w,
		       top >= 0 ? vms_type_name((enum vms_type)top) : "-", top >= 0 ? " " : "",
		       top >= 0 ? d : "");
	}
	fflush(stdout);
}

/* Every tick's time and committed per type, for the report's growth shape (vmscope/growth.h). */
struct history {
	int64_t *t_ms;
	uint64_t *committed[VMS_TYPE_COUNT];
	size_t n, cap;
};

static int history_add(struct history *h, const struct vms_sample *s)
{
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 64;
		int64_t *t = realloc(h->t_ms, cap * sizeof *t);
		if (!t)
			return -1;
		h->t_ms = t;
		for (int k = 0; k < VMS_TYPE_COUNT; k++) {
			uint64_t *c = realloc(h->committed[k], cap * sizeof *c);
			if (!c)
				return -1;
			h->committed[k] = c;
		}
		h->cap = cap;
	}
	h->t_ms[h->n] = s->t_ms;
	for (int k = 0; k < VMS_TYPE_COUNT; k++)
		h->committed[k][h->n] = s->summary[k].cols[VMS_COL_COMMITTED];
	h->n++;
	return 0;
}

static void history_free(struct history *h)
{
	free(h->t_ms);
	for (int k = 0; k < VMS_TYPE_COUNT; k++)
		free(h->committed[k]);
}

/* The shape of type t's committed over the ticks: "leak-like", "one-time jump", ... */
static enum vms_growth_kind shape_of(const struct history *h, int t)
{
	struct vms_growth_fit f;
	vms_growth_fit(h->t_ms, h->committed[t], h->n, &f);
	return f.kind;
}

static const char *shape_text(enum vms_growth_kind k)
{
	return k == VMS_GROWTH_STEADY      ? "leak-like"
	       : k == VMS_GROWTH_JUMP      ? "one-time jump"
	       : k == VMS_GROWTH_IRREGULAR ? "irregular"
	                                   : "";
}

/* The report at the end: per type from the samples first..last, then per allocation from the
 * snapshots k kept (NULL: none, e.g. a timeline file read back). */
static void print_report(const struct vms_sample *first, const struct vms_sample *last, int json,
                         const char *end_note, const struct history *h, const struct watch_keep *k)
{
	char d[16], r[16];
	int64_t span = last->t_ms - first->t_ms;
	if (json) {
		cJSON *note = vms_json_string_repaired(end_note);
		char *nt = note ? cJSON_PrintUnformatted(note) : NULL;
		cJSON_Delete(note);
		printf("{\"report\":{\"from_ms\":%lld,\"to_ms\":%lld,\"end\":%s,\"types\":[",
		       (long long)first->t_ms, (long long)last->t_ms, nt ? nt : "\"\"");
		cJSON_free(nt);
	} else {
		printf("\nwhat grew from the first tick to the last (%.1f s; %s):\n", (double)span / 1000.0,
		       end_note);
		printf("  %-14s %12s %12s %12s  %s\n", "type", "committed", "private", "per minute", "shape");
	}
	int n = 0;
	for (int t = 0; t < VMS_TYPE_COUNT; t++) {
		if (t == VMS_TYPE_FREE)
			continue;
		int64_t dc = (int64_t)(last->summary[t].cols[VMS_COL_COMMITTED] -
		                       first->summary[t].cols[VMS_COL_COMMITTED]);
		int64_t dp = (int64_t)(last->summary[t].cols[VMS_COL_PRIVATE] -
		                       first->summary[t].cols[VMS_COL_PRIVATE]);
		if (!dc && !dp)
			continue;
		int64_t rate = span > 0 ? dc * 60000 / span : 0;
		enum vms_growth_kind kind = shape_of(h, t);
		if (json) {
			printf("%s{\"type\":\"%s\",\"committed_delta\":%lld,\"private_delta\":%lld,"
			       "\"committed_per_minute\":%lld,\"growth\":\"%s\",\"leak_like\":%s}",
			       n ? "," : "", vms_type_key((enum vms_type)t), (long long)dc, (long long)dp,
			       (long long)rate, vms_growth_kind_key(kind),
			       kind == VMS_GROWTH_STEADY ? "true" : "false");
		} else {
			human(dc, 1, d, sizeof d);
			human(rate, 1, r, sizeof r);
			char p[16];
			human(dp, 1, p, sizeof p);
			printf("  %-14s %12s %12s %12s  %s\n", vms_type_name((enum vms_type)t), d, p, r,
			       shape_text(kind));
		}
		n++;
	}
	if (json)
		printf("]");
	else if (!n)
		printf("  nothing changed\n");
	if (k)
		watch_keep_report(k, json); /* per allocation */
	if (json)
		printf("}}\n");
	fflush(stdout);
}

/* What the command line asked for. */
struct watch_args {
	const char *target, *output, *read;
	int json;
	int64_t interval, duration, count, snapshot_every; /* ms, ms (0: none), ticks (0: none), ms */
};

static const struct option watch_longopts[] = {{"pid", required_argument, NULL, 'p'},
                                               {"interval", required_argument, NULL, 'i'},
                                               {"duration", required_argument, NULL, 'd'},
                                               {"count", required_argument, NULL, 'n'},
                                               {"json", no_argument, NULL, 'j'},
                                               {"output", required_argument, NULL, 'o'},
                                               {"snapshot-every", required_argument, NULL, 'S'},
                                               {"read", required_argument, NULL, 'r'},
                                               {"help", no_argument, NULL, 'h'},
                                               {0}};

/* One numeric option: a time ("500ms", "2s"; is_time) or a count, from min to max, else the
 * error text. */
static int option_value(const char *arg, int is_time, int64_t min, int64_t max, const char *error,
                        int64_t *out)
{
	char *end = NULL;
	int64_t v = is_time ? parse_duration_ms(arg) : (int64_t)strtoll(arg, &end, 10);
	if ((!is_time && (!end || *end)) || v < min || v > max) {
		fprintf(stderr, "vmscope watch: %s\n", error);
		return -1;
	}
	*out = v;
	return 0;
}

/* Parse argv into a: -1 done (exit with *rc), 0 go on. */
static int watch_parse(int argc, char **argv, struct watch_args *a, int *rc)
{
	int c, bad = 0;
	*a = (struct watch_args){.interval = 1000, .snapshot_every = 60000};
	*rc = VMS_EXIT_USAGE;
	optind = 1;
	while (!bad && (c = getopt_long(argc, argv, "p:i:d:n:jo:r:h", watch_longopts, NULL)) != -1) {
		if (c == 'p')
			bad = vms_cli_set_target("watch", &a->target, optarg) >= 0;
		else if (c == 'i')
			bad = option_value(optarg, 1, 100, 3600000,
			                   "--interval takes 100ms to 1h (e.g. 500ms, 2s)", &a->interval);
		else if (c == 'd')
			bad = option_value(optarg, 1, 1, INT64_MAX,
			                   "--duration takes a time such as 60s or 10m", &a->duration);
		else if (c == 'n')
			bad = option_value(optarg, 0, 1, INT64_MAX, "--count takes a positive number",
			                   &a->count);
		else if (c == 'S')
			bad = option_value(optarg, 1, 100, 86400000,
			                   "--snapshot-every takes 100ms to 24h (e.g. 10s, 1m)",
			                   &a->snapshot_every);
		else if (c == 'j')
			a->json = 1;
		else if (c == 'o')
			a->output = optarg;
		else if (c == 'r')
			a->read = optarg;
		else {
			watch_usage(c == 'h' ? stdout : stderr);
			*rc = c == 'h' ? VMS_EXIT_OK : VMS_EXIT_USAGE;
			return -1;
		}
	}
	if (bad)
		return -1;
	if (!a->target && !a->read && optind < argc)
		a->target = argv[optind++];
	if (a->read && (a->target || a->output)) {
		fprintf(stderr, "vmscope watch: --read FILE takes no process and no -o\n");
		return -1;
	}
	struct stat sb;
	if (a->output && stat(a->output, &sb) == 0 && !S_ISREG(sb.st_mode)) {
		/* the file is renamed into place: never over a device, a pipe or a directory */
		fprintf(stderr,
		        "vmscope watch: -o %s: not a regular file (-o writes a new file in its place)\n",
		        a->output);
		return -1;
	}
	if ((!a->target && !a->read) || optind < argc) {
		fprintf(stderr, "vmscope watch: %s\n",
		        a->target || a->read ? "unexpected argument" : "which process? use -p PID|NAME");
		watch_usage(stderr);
		return -1;
	}
	return 0;
}

/* The ticks seen so far: the first and the previous one (for the per-tick line and the
 * report) and the history (for the growth shape). */
struct ticks {
	struct vms_sample first, prev;
	size_t n;
	struct history hist;
	int json;
};

/* One tick: print its line and remember it. -1 when out of memory. */
static int tick(struct ticks *t, const struct vms_sample *s)
{
	print_tick(t->n ? &t->prev : NULL, s, t->json);
	if (history_add(&t->hist, s) != 0)
		return -1;
	if (!t->n++)
		t->first = *s;
	t->prev = *s;
	return 0;
}

/* ---- -o FILE: the timeline document, written to FILE.partial and renamed when complete ---- */

struct timeline_out {
	const char *path;
	char *tmp;
	FILE *f;
	uint64_t samples, snapshots;
	int failed; /* a write failed: errno in err */
	int err;
	/* a tick is written when the next one comes (or at the end), so the last tick always
	 * carries a full snapshot */
	struct vms_sample held;
	const struct vms_snapshot *held_snap; /* its snapshot (borrowed: the keeper owns it) */
	int have_held, held_due;
};

static int out_write(struct timeline_out *o, const char *text, size_t len)
{
	if (!o->failed && (!text || fwrite(text, 1, len, o->f) != len)) {
		o->failed = 1;
		o->err = text ? errno : ENOMEM;
	}
	return o->failed ? -1 : 0;
}

static int out_open(struct timeline_out *o, const char *path, const struct vms_timeline_head *h)
{
	size_t n = strlen(path) + 32;
	memset(o, 0, sizeof *o);
	o->path = path;
	if (!(o->tmp = malloc(n)))
		return -1;
	snprintf(o->tmp, n, "%s.partial-%d", path, (int)getpid());
	int fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600); /* cmdlines inside */
	if (fd < 0 || !(o->f = fdopen(fd, "w"))) {
		fprintf(stderr, "vmscope watch: cannot write %s: %s\n", o->tmp, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(o->tmp);
		}
		free(o->tmp);
		return -1;
	}
	char *line = vms_json_timeline_head(h);
	out_write(o, line, line ? strlen(line) : 0);
	free(line);
	if (o->failed) {
		fprintf(stderr, "vmscope watch: cannot write %s: %s\n", o->tmp, strerror(o->err));
		fclose(o->f);
		unlink(o->tmp);
		free(o->tmp);
		return -1;
	}
	return 0;
}

/* Write the held tick (with its snapshot when it has one). */
static void out_flush_held(struct timeline_out *o, int last)
{
	if (!o->have_held)
		return;
	int full = o->held_snap && (o->held_due || last);
	char *line = vms_json_timeline_sample(&o->held, full);
	out_write(o, line, line ? strlen(line) : 0);
	free(line);
	o->samples++;
	if (full) {
		char *text = NULL;
		size_t len = 0;
		struct vms_json_opts jo = {0};
		if (vms_json_write_snapshot(o->held_snap, &jo, &text, &len) != VMS_OK)
			text = NULL;
		out_write(o, text, len);
		out_write(o, "\n", 1);
		free(text);
		o->snapshots++;
	}
	o->held_snap = NULL;
	o->have_held = 0;
}

/* A new tick: write the one before, hold this one (taking snap). */
static void out_tick(struct timeline_out *o, const struct vms_sample *s, const struct vms_snapshot *snap,
                     int due)
{
	out_flush_held(o, 0);
	o->held = *s;
	o->held_snap = snap;
	o->held_due = due;
	o->have_held = 1;
}

/* The end: the last tick with its snapshot, the end line, then fsync and rename over path. 0 ok. */
static int out_close(struct timeline_out *o, const char *note)
{
	int rc = 0;
	out_flush_held(o, 1);
	char *line = vms_json_timeline_end(vms_wall_ms(), note, o->samples, o->snapshots);
	out_write(o, line, line ? strlen(line) : 0);
	free(line);
	if (!o->failed && (fflush(o->f) != 0 || fsync(fileno(o->f)) != 0)) {
		o->failed = 1;
		o->err = errno;
	}
	if (fclose(o->f) != 0 && !o->failed) {
		o->failed = 1;
		o->err = errno;
	}
	if (!o->failed && rename(o->tmp, o->path) != 0) {
		o->failed = 1;
		o->err = errno;
	}
	if (o->failed) {
		fprintf(stderr, "vmscope watch: writing %s failed: %s (nothing written there)\n", o->path,
		        strerror(o->err));
		unlink(o->tmp);
		rc = -1;
	} else {
		fprintf(stderr, "vmscope watch: wrote %s (%llu samples, %llu full snapshots)\n", o->path,
		        (unsigned long long)o->samples, (unsigned long long)o->snapshots);
	}
	free(o->tmp);
	return rc;
}

/* ---- --read FILE: a timeline document printed as if watched now ----------------------------- */

static int read_sample(void *arg, const struct vms_sample *s, struct vms_snapshot *snap)
{
	vms_snapshot_free(snap);
	return tick(arg, s) ? VMS_ERR_NOMEM : VMS_OK;
}

static int read_end(void *arg, int64_t at_ms, const char *note)
{
	struct ticks *t = arg;
	(void)at_ms;
	if (t->n)
		print_report(&t->first, &t->prev, t->json, note, &t->hist, NULL);
	return VMS_OK;
}

static int watch_read(const struct watch_args *a)
{
	char *text = NULL, errbuf[300] = "";
	size_t len = 0;
	struct ticks t = {.json = a->json};
	if (vms_read_file(AT_FDCWD, a->read, 1ull << 32, &text, &len) != 0) {
		fprintf(stderr, "vmscope watch: cannot read %s: %s\n", a->read, strerror(errno));
		return VMS_EXIT_ERROR;
	}
	if (!a->json)
		printf("%-12s %10s %10s %10s  %s\n", "time (UTC)", "committed", "private", "WS",
		       "top growing type since the last tick");
	const struct vms_timeline_sink sink = {NULL, read_sample, read_end, &t};
	int err = vms_json_timeline_read(text, len, &sink, errbuf, sizeof errbuf);
	free(text);
	history_free(&t.hist);
	if (err != VMS_OK) {
		fprintf(stderr, "vmscope watch: %s: %s\n", a->read, *errbuf ? errbuf : vms_strerror(err));
		return VMS_EXIT_ERROR;
	}
	return VMS_EXIT_OK;
}

int vms_cmd_watch(int argc, char **argv)
{
	struct watch_args args;
	int rc;
	if (watch_parse(argc, argv, &args, &rc) != 0)
		return rc;
	if (args.read)
		return watch_read(&args);
	const char *target = args.target;
	int json = args.json;
	int64_t interval = args.interval, duration = args.duration, count = args.count;
	pid_t pid = 0, *matches = NULL;
	size_t n_matches = 0;
	int err = vms_proc_resolve(target, &pid, &matches, &n_matches);
	free(matches);
	if (err) {
		fprintf(stderr, "vmscope watch: %s: %s\n", target,
		        err == VMS_ERR_AMBIGUOUS ? "matches several processes; pick one with -p PID"
		                                 : vms_strerror(err));
		return vms_exit_for_err(err);
	}
	struct vms_counters ctr;
	if ((err = vms_counters_read(pid, &ctr)) != VMS_OK) {
		fprintf(stderr, "vmscope watch: process %d: %s\n", (int)pid, vms_strerror(err));
		return vms_exit_for_err(err);
	}
	uint64_t start_time = ctr.start_time;
	struct timeline_out out;
	int writing = 0;

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	struct vms_snapshot_opts opts = {.read_rollup = 0, .thread_stacks = 1};
	struct vms_snapshot *s = NULL;
	struct watch_keep keep = {0}; /* owns every snapshot kept (watch_keep.h) */
	int64_t t_start = vms_mono_ms(), next = t_start, last_full = 0;
	char end_note[160] = "stopped";
	struct ticks t = {.json = json};
	rc = VMS_EXIT_OK;
	if (!json)
		printf("%-12s %10s %10s %10s  %s\n", "time (UTC)", "committed", "private", "WS",
		       "top growing type since the last tick");
	while (!g_stop) {
		if ((err = vms_counters_read(pid, &ctr)) == VMS_OK && ctr.start_time != start_time)
			err = VMS_ERR_EXITED;
		if (err == VMS_OK)
			err = vms_snapshot_take(pid, &opts, &s);
		if (err == VMS_OK && s->start_time != start_time)
			err = VMS_ERR_EXITED;
		if (err) {
			char when[40];
			vms_format_time_ms(vms_wall_ms(), when, sizeof when);
			if (err == VMS_ERR_NO_SUCH_PROCESS || err == VMS_ERR_EXITED ||
			    err == VMS_ERR_NO_ADDRESS_SPACE)
				snprintf(end_note, sizeof end_note, "process %d exited (seen at %s)",
				         (int)pid, when);
			else {
				snprintf(end_note, sizeof end_note, "scan failed at %s: %s", when,
				         vms_strerror(err));
				rc = vms_exit_for_err(err);
			}
			vms_snapshot_free(s);
			s = NULL;
			if (!json)
				fprintf(stderr, "vmscope watch: %s\n", end_note);
			break;
		}
		struct vms_sample smp;
		memset(&smp, 0, sizeof smp);
		smp.t_ms = s->taken_at_ms;
		memcpy(smp.summary, s->summary, sizeof smp.summary);
		memcpy(smp.total, s->total, sizeof smp.total);
		smp.threads = (uint64_t)(ctr.threads > 0 ? ctr.threads : 0);
		smp.vm_rss = ctr.vm_rss;
		smp.vm_swap = ctr.vm_swap;
		smp.min_flt = ctr.min_flt;
		smp.maj_flt = ctr.maj_flt;
		if (!t.n && args.output) { /* the file starts with the first tick */
			struct vms_timeline_head h = {.pid = pid,
			                              .start_time = start_time,
			                              .interval_ms = (uint32_t)interval,
			                              .snapshot_every_s =
			                                  (uint32_t)(args.snapshot_every / 1000),
			                              .started_at_ms = s->taken_at_ms};
			snprintf(h.name, sizeof h.name, "%s", s->name ? s->name : "");
			snprintf(h.host, sizeof h.host, "%s", s->host ? s->host : "");
			if (out_open(&out, args.output, &h) != 0) {
				rc = VMS_EXIT_ERROR;
				vms_snapshot_free(s);
				s = NULL;
				break;
			}
			writing = 1;
		}
		if (tick(&t, &smp) != 0) {
			snprintf(end_note, sizeof end_note, "out of memory");
			rc = VMS_EXIT_ERROR;
			vms_snapshot_free(s);
			s = NULL;
			break;
		}
		if (writing) { /* a full snapshot with the first tick, every --snapshot-every, the last */
			int64_t now = vms_mono_ms();
			int due = t.n == 1 || now - last_full >= args.snapshot_every;
			if (due)
				last_full = now;
			out_tick(&out, &smp, s,
			         due); /* borrowed: keep holds s at least until the next tick */
		}
		watch_keep_add(&keep, s);
		s = NULL;
		if (count && (int64_t)t.n >= count) {
			snprintf(end_note, sizeof end_note, "%lld ticks", (long long)t.n);
			break;
		}
		int64_t now = vms_mono_ms();
		if (duration && now - t_start >= duration) {
			snprintf(end_note, sizeof end_note, "duration reached");
			break;
		}
		next += interval;
		if (next <= now) {
			if (!json)
				fprintf(stderr, "vmscope watch: a tick took longer than the interval; the "
				                "next one starts now\n");
			next = now;
		}
		struct timespec until = {(time_t)(next / 1000), (long)(next % 1000) * 1000000L};
		while (!g_stop && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) == EINTR)
			;
	}
	if (t.n)
		print_report(&t.first, &t.prev, json, end_note, &t.hist, &keep);
	else if (rc == VMS_EXIT_OK)
		rc = VMS_EXIT_NO_PROCESS;
	if (writing && out_close(&out, end_note) != 0 && rc == VMS_EXIT_OK)
		rc = VMS_EXIT_ERROR;
	watch_keep_free(&keep);
	history_free(&t.hist);
	return rc;
}
