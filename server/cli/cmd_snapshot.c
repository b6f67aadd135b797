/* vmscope snapshot: VMMap's -p. Text report on stdout, --json, or -o FILE (.json/.csv/.txt). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "upload.h"
#include "vmscope/export.h"
#include "vmscope/json.h"
#include "vmscope/json_capture.h"
#include "vmscope/json_pages.h"
#include "vmscope/pages.h"
#include "vmscope/proclist.h"
#include "vmscope/snapshot.h"
#include "vmscope/util.h"

static void snapshot_usage(FILE *f)
{
	fprintf(
	    f, "usage: vmscope snapshot -p PID|NAME... | -f TEXT... | --from FILE [--json | --format "
	       "json|csv|txt]\n"
	       "                         [-o FILE|-] [--units kib|human] [--no-threads] [--no-rollup] "
	       "[--no-peek]\n"
	       "                         [--residency [--residency-max-bytes N]]\n"
	       "       vmscope snapshot -p PID|NAME --upload https://HOST:PORT [--token-file F]\n"
	       "                         [--ca FILE | --fingerprint SHA256] [--lifetime 7d|never|...]\n\n"
	       "Scan one process's address space and classify it the way VMMap does.\n"
	       "  -p, --pid PID|NAME  the process; a name matches the process name or argv[0], else\n"
	       "                      their start (python finds python3); it must match one process\n"
	       "  -f, --cmdline TEXT  the one process whose command line contains TEXT (pgrep -f)\n"
	       "  several -p/-f (or PID operands): one run, each process in turn: text, one report per\n"
	       "                      process after a \"==== process PID (NAME) ====\" line; JSON, one\n"
	       "                      snapshot per line (JSON Lines); CSV, one details table whose rows\n"
	       "                      start with PID and Process. A process that cannot be read gets its\n"
	       "                      error, the others are still written, and the exit code is the\n"
	       "                      first failure's. Not with --upload or --from\n"
	       "  --from FILE         no scan: open FILE, a capture (`vmscope capture`, its snapshot\n"
	       "                      checked against its raw smaps), a snapshot JSON (.gz too), or a\n"
	       "                      bare /proc/PID/smaps text (classified here; threads, status and\n"
	       "                      rollup unknown). --from-capture is the same\n"
	       "  --format FMT        json, csv (VMMap's CSV layout) or txt (the text report, default)\n"
	       "  --json              the same as --format json\n"
	       "  -o, --output FILE   write to FILE; without --format the format follows the\n"
	       "                      extension (.json, .csv or .txt); -o - is standard output\n"
	       "  --units UNITS       the text report's sizes: kib (default, plain KiB integers) or\n"
	       "                      human (4 KiB, 12.5 MiB, 128 TiB); CSV and JSON keep KiB/bytes\n"
	       "  --no-threads        do not read task/TID/syscall (no thread ids on stacks)\n"
	       "  --no-rollup         do not read smaps_rollup\n"
	       "  --no-peek           never read the process's memory: runtime heaps are named from\n"
	       "                      their geometry alone (reads need ptrace-attach rights anyway)\n"
	       "  --residency         also the page residency of the whole address space, read right\n"
	       "                      after the scan (vmscope residency), run-length encoded within\n"
	       "                      --residency-max-bytes (default 1 MiB, 256 B to 16 MiB): past it\n"
	       "                      the runs stop and it says truncated. JSON: a \"residency\" key;\n"
	       "                      text: the page counts. Not with CSV or --upload\n"
	       "  --upload URL        send the snapshot to the vmscope daemon at URL (https only) and\n"
	       "                      print the share link it makes (read-only, --lifetime, default 7d)\n"
	       "  --token-file F      that daemon's API token (its `vmscope token` output)\n"
	       "  --ca FILE           trust its certificate when FILE (PEM) signed it, for the URL's name\n"
	       "  --fingerprint FP    trust exactly the certificate with this SHA-256 fingerprint (what its\n"
	       "                      vmscope serve --tls-self-signed printed); default: the system's CAs\n"
	       "Columns (docs/memory-types.md): Private is commit-style, VMMap's Private Bytes,\n"
	       "counted whether touched or not (an untouched thread stack counts whole); its\n"
	       "resident part is Private WS. Total WS includes the Page Table row: it is ps's RSS\n"
	       "(VmRSS) + VmPTE. `vmscope ps` shows RssAnon (ANON), another measure.\n"
	       "Exit codes: 0 ok, 2 usage, 3 no such process or it exited, 4 permission denied,\n"
	       "            5 no address space (kernel thread, zombie), 6 ambiguous name.\n");
}

enum fmt { FMT_NONE = -1, FMT_TEXT, FMT_JSON, FMT_CSV };

static const char *const fmt_name[] = {"txt", "json", "csv"};

static enum fmt parse_fmt(const char *s)
{
	if (!strcasecmp(s, "json"))
		return FMT_JSON;
	if (!strcasecmp(s, "csv"))
		return FMT_CSV;
	if (!strcasecmp(s, "txt") || !strcasecmp(s, "text"))
		return FMT_TEXT;
	return FMT_NONE;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && !strcasecmp(s + n - m, suffix);
}

/* The residency kept with the snapshot (--residency), rendered after it. */
struct kept_residency {
	struct vms_residency r;
	size_t bytes, max_bytes;
};

/* What to write: the format, the JSON captured during the scan (FMT_JSON; NULL for a snapshot
 * opened from a file, whose JSON is written now), the text options, the residency kept with it
 * (NULL: none). */
struct out_spec {
	enum fmt f;
	struct vms_json_capture *jc;
	struct vms_text_opts text;
	const struct kept_residency *k;
};

/* The JSON document with "residency" as its last key: the captured document is written to
 * memory and its closing brace replaced. */
static int render_json_residency(const struct vms_snapshot *s, struct vms_json_capture *jc,
                                 const struct kept_residency *k, FILE *out)
{
	char *doc = NULL, *res = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&doc, &len);
	int err = mem ? vms_json_capture_write(jc, s, mem) : VMS_ERR_NOMEM;
	if (mem && fclose(mem) != 0 && !err)
		err = VMS_ERR_NOMEM;
	cJSON *j = err ? NULL : vms_json_residency(s->pid, &k->r);
	if (j) {
		cJSON_AddNumberToObject(j, "stored_bytes", (double)k->bytes);
		cJSON_AddNumberToObject(j, "max_bytes", (double)k->max_bytes);
		res = cJSON_PrintUnformatted(j);
		cJSON_Delete(j);
	}
	if (!err && !res)
		err = VMS_ERR_NOMEM;
	while (!err && len && (doc[len - 1] == '\n' || doc[len - 1] == ' '))
		len--;
	if (!err && (!len || doc[len - 1] != '}'))
		err = VMS_ERR_IO;
	if (!err &&
	    (fwrite(doc, 1, len - 1, out) != len - 1 || fprintf(out, ",\"residency\":%s}\n", res) < 0))
		err = VMS_ERR_IO;
	free(doc);
	cJSON_free(res);
	return err;
}

/* Write the snapshot as o says to out. */
static int render(const struct vms_snapshot *s, const struct out_spec *o, FILE *out)
{
	enum fmt f = o->f;
	const struct kept_residency *k = o->k;
	if (f == FMT_JSON && k)
		return render_json_residency(s, o->jc, k, out);
	if (f == FMT_JSON && o->jc)
		return vms_json_capture_write(o->jc, s, out);
	char *text = NULL;
	size_t len = 0;
	int err = f == FMT_JSON   ? vms_json_write_snapshot(s, NULL, &text, &len)
	          : f == FMT_TEXT ? vms_export_text_with(s, &o->text, &text, &len)
	                          : vms_export_csv(s, &text, &len);
	if (!err && fwrite(text, 1, len, out) != len)
		err = VMS_ERR_IO;
	if (!err && f != FMT_CSV && len && text[len - 1] != '\n' && fputc('\n', out) == EOF)
		err = VMS_ERR_IO;
	free(text);
	if (!err && k) {
		fprintf(out, "\nPage residency (%s, %zu of at most %zu bytes%s):",
		        k->r.method == VMS_RES_PAGEMAP_SCAN ? "PAGEMAP_SCAN" : "pagemap", k->bytes,
		        k->max_bytes, k->r.truncated ? "; TRUNCATED at that bound" : "");
		for (unsigned i = 0; vms_page_flag_name(i); i++)
			if (k->r.known & (1u << i))
				fprintf(out, " %s %llu", vms_page_flag_name(i),
				        (unsigned long long)k->r.pages[i]);
		if (fprintf(out, " pages in %zu runs\n", k->r.n_runs) < 0)
			err = VMS_ERR_IO;
	}
	return err;
}

/* Where the output goes: standard output (path NULL), or path written through a temporary file +
 * rename, so a failed run never leaves half a file. A path that exists and is not a regular file
 * (/dev/null, a FIFO, a terminal) is written in place: a rename over it would replace the device
 * with a file (as root, `-o /dev/null` once did). */
struct sink {
	const char *path;
	char *tmp;
	FILE *out;
};

/* Open k for path (NULL: standard output). VMS_OK, or an error with nothing left behind. */
static int sink_open(struct sink *k, const char *path)
{
	*k = (struct sink){.path = path, .out = path ? NULL : stdout};
	if (!path)
		return VMS_OK;
	struct stat sb;
	int in_place = stat(path, &sb) == 0 && !S_ISREG(sb.st_mode), fd = -1;
	size_t n = strlen(path) + 16;
	if (in_place) {
		fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
	} else {
		if (!(k->tmp = malloc(n)))
			return VMS_ERR_NOMEM;
		snprintf(k->tmp, n, "%s.tmpXXXXXX", path);
		fd = mkstemp(k->tmp);
	}
	if (fd >= 0 && (k->out = fdopen(fd, "w")) != NULL)
		return VMS_OK;
	if (fd >= 0) {
		close(fd);
		unlink(k->tmp);
	}
	free(k->tmp);
	k->tmp = NULL;
	return VMS_ERR_IO;
}

/* Close k after writing (err: how that went). The file takes its name only when err is VMS_OK
 * and keep is non-zero (something was written); else the temporary file is removed. Returns
 * err, or VMS_ERR_IO when closing or renaming failed. */
static int sink_close(struct sink *k, int err, int keep)
{
	if (!k->path) {
		if (fflush(stdout) != 0 && !err)
			err = VMS_ERR_IO;
		return err;
	}
	if (fclose(k->out) != 0 && !err)
		err = VMS_ERR_IO;
	if (k->tmp && !err && keep && rename(k->tmp, k->path) != 0)
		err = VMS_ERR_IO;
	if (k->tmp && (err || !keep))
		unlink(k->tmp);
	free(k->tmp);
	return err;
}

/* Say why writing to k's destination failed (err), if it did; the exit code. */
static int sink_report(const struct sink *k, int err)
{
	if (err == VMS_ERR_IO && k->path)
		fprintf(stderr, "vmscope snapshot: cannot write %s: %s\n", k->path, strerror(errno));
	else if (err == VMS_ERR_IO)
		fprintf(stderr, "vmscope snapshot: cannot write to standard output: %s\n", strerror(errno));
	else if (err)
		fprintf(stderr, "vmscope snapshot: %s\n", vms_strerror(err));
	return err ? VMS_EXIT_ERROR : VMS_EXIT_OK;
}

/* The format from --json / --format and -o's extension; conflicts are usage errors (a --json
 * run must never write CSV because of a file name). Returns the format or FMT_NONE (said why). */
static enum fmt choose_format(enum fmt asked, const char *how, const char *output)
{
	enum fmt ext = FMT_NONE;
	if (output && strcmp(output, "-") != 0) {
		if (ends_with(output, ".json"))
			ext = FMT_JSON;
		else if (ends_with(output, ".csv"))
			ext = FMT_CSV;
		else if (ends_with(output, ".txt"))
			ext = FMT_TEXT;
		else if (asked == FMT_NONE) {
			fprintf(stderr,
			        "vmscope snapshot: cannot tell the format of '%s': use .json, .csv or .txt, "
			        "or --format\n",
			        output);
			return FMT_NONE;
		}
	}
	if (asked != FMT_NONE && ext != FMT_NONE && asked != ext) {
		fprintf(stderr, "vmscope snapshot: conflicting formats: %s, but '%s' is %s\n", how, output,
		        fmt_name[ext]);
		return FMT_NONE;
	}
	return asked != FMT_NONE ? asked : ext != FMT_NONE ? ext : FMT_TEXT;
}

/* --upload and its options (U, k, c, x, L) into up: 1 when c was one of them. */
static int upload_option(int c, struct vms_upload_opts *up)
{
	const struct {
		int c;
		const char **to;
	} texts[] = {{'U', &up->url},
	             {'k', &up->token_file},
	             {'c', &up->ca_file},
	             {'x', &up->fingerprint},
	             {'L', &up->lifetime}};
	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
		if (texts[i].c == c) {
			*texts[i].to = optarg;
			return 1;
		}
	return 0;
}

/* --upload's options: the trust options need --upload, one trust at a time, and the snapshot goes
 * as JSON to the daemon, not to a file. 0, or -1 after saying why. */
static int check_upload(const struct vms_upload_opts *up, enum fmt asked, const char *output)
{
	const char *stray = up->token_file    ? "--token-file"
	                    : up->ca_file     ? "--ca"
	                    : up->fingerprint ? "--fingerprint"
	                    : up->lifetime    ? "--lifetime"
	                                      : NULL;
	if (!up->url && stray) {
		fprintf(stderr, "vmscope snapshot: %s goes with --upload\n", stray);
		return -1;
	}
	if (up->url && up->ca_file && up->fingerprint) {
		fprintf(stderr, "vmscope snapshot: --ca or --fingerprint, not both\n");
		return -1;
	}
	if (up->url && (output || (asked != FMT_NONE && asked != FMT_JSON))) {
		fprintf(stderr,
		        "vmscope snapshot: --upload sends the JSON to the daemon: no -o or --format\n");
		return -1;
	}
	return 0;
}

/* The snapshot's JSON into memory, then vms_upload. Returns the exit code. */
static int upload(const struct vms_snapshot *s, struct vms_json_capture *jc, const struct vms_upload_opts *up)
{
#ifdef VMSCOPE_HAVE_SERVER
	char *json = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&json, &len);
	struct out_spec o = {.f = FMT_JSON, .jc = jc};
	int err = mem ? render(s, &o, mem) : VMS_ERR_NOMEM;
	if (mem && fclose(mem) != 0 && !err)
		err = VMS_ERR_NOMEM;
	int rc = err ? VMS_EXIT_ERROR : vms_upload(json, len, up);
	if (err)
		fprintf(stderr, "vmscope snapshot: %s\n", vms_strerror(err));
	free(json);
	return rc;
#else
	(void)s;
	(void)jc;
	(void)up;
	fprintf(stderr,
	        "vmscope snapshot: --upload needs a vmscope built with the server (civetweb, OpenSSL)\n");
	return VMS_EXIT_ERROR;
#endif
}

/* *slot = optarg, for an option given at most once. 0, or -1 after saying it came twice. */
static int set_once(const char **slot, const char *option)
{
	if (*slot) {
		fprintf(stderr, "vmscope snapshot: %s given twice\n", option);
		return -1;
	}
	*slot = optarg;
	return 0;
}

/* Write s as o says to output, or standard output when output is NULL. The exit code. */
static int emit(const struct vms_snapshot *s, const struct out_spec *o, const char *output)
{
	struct sink k;
	int err = sink_open(&k, output);
	if (!err)
		err = sink_close(&k, render(s, o, k.out), 1);
	return sink_report(&k, err);
}

/* --from FILE: open a capture, snapshot or bare smaps file and write it as asked. */
static int from_file(const char *path, enum fmt asked, const char *how, const char *output,
                     const struct vms_upload_opts *up, const struct vms_text_opts *text)
{
	struct vms_snapshot *s = NULL;
	struct out_spec o = {.text = *text};
	if (up->url) {
		fprintf(stderr, "vmscope snapshot: --from and --upload do not go together (the daemon's "
		                "import takes the file itself: POST /api/v1/snapshots)\n");
		return VMS_EXIT_USAGE;
	}
	if ((o.f = choose_format(asked, how, output)) == FMT_NONE)
		return VMS_EXIT_USAGE;
	int rc = vms_cli_load_snapshot("snapshot", path, &s);
	if (rc)
		return rc;
	rc = emit(s, &o, output && strcmp(output, "-") ? output : NULL);
	vms_snapshot_free(s);
	return rc;
}

/* The processes named on the command line (-p, -f, operands), in order. */
struct target {
	const char *text;
	int by_cmdline;
};
struct target_list {
	struct target *v;
	size_t n, cap;
};

static int add_target(struct target_list *tl, const char *text, int by_cmdline)
{
	if (VMS_GROW(tl->v, tl->n, tl->cap, 4))
		return -1;
	tl->v[tl->n++] = (struct target){text, by_cmdline};
	return 0;
}

/* How to scan: the options (copied per process, a JSON capture hooks into them), the format
 * (JSON: captured during the scan), the residency (--residency). */
struct scan_spec {
	struct vms_snapshot_opts opts;
	enum fmt f;
	int want_res;
	size_t res_max;
};
/* One process scanned: its snapshot, the JSON captured (NULL unless JSON), its residency. */
struct scanned {
	struct vms_snapshot *s;
	struct vms_json_capture *jc;
	struct kept_residency kept;
};

static void scanned_free(struct scanned *sc)
{
	vms_residency_free(&sc->kept.r);
	vms_json_capture_free(sc->jc);
	vms_snapshot_free(sc->s);
}

/* Scan pid (named target by the user) as sp says into *sc. Returns -1 with *sc to free
 * (scanned_free), else the exit code after saying why (nothing to free). */
static int scan_pid(const char *target, pid_t pid, const struct scan_spec *sp, struct scanned *sc)
{
	struct vms_snapshot_opts opts = sp->opts;
	*sc = (struct scanned){.kept.max_bytes = sp->res_max};
	if (sp->f == FMT_JSON) {
		sc->jc = vms_json_capture_new();
		if (!sc->jc) {
			fprintf(stderr, "vmscope snapshot: out of memory\n");
			return VMS_EXIT_ERROR;
		}
		vms_json_capture_hook(sc->jc, &opts);
	}
	int err = vms_snapshot_take(pid, &opts, &sc->s);
	if (err) {
		scanned_free(sc);
		return vms_cli_scan_failed("snapshot", target, pid, err);
	}
	if (sp->want_res) {
		unsigned char *blob = NULL;
		err = vms_residency_snapshot(pid, sc->s, sp->res_max, &blob, &sc->kept.bytes, &sc->kept.r);
		free(blob);
		if (err) {
			fprintf(stderr, "vmscope snapshot: residency of process %d: %s\n", (int)pid,
			        vms_strerror(err));
			scanned_free(sc);
			return vms_exit_for_err(err);
		}
	}
	return -1;
}

/* One of several processes (the nth written, from 0) to out: text after a header line naming
 * it, JSON as one line (JSON Lines), CSV as rows of one table with a PID column. */
static int write_nth(const struct scanned *sc, const struct out_spec *base, int want_res, size_t nth,
                     FILE *out)
{
	struct out_spec o = *base;
	o.jc = sc->jc;
	o.k = want_res ? &sc->kept : NULL;
	if (o.f == FMT_CSV) {
		char *csv = NULL;
		size_t len = 0;
		int err = vms_export_csv_rows(sc->s, nth == 0, &csv, &len);
		if (!err && fwrite(csv, 1, len, out) != len)
			err = VMS_ERR_IO;
		free(csv);
		return err;
	}
	if (o.f == FMT_TEXT) {
		char *name = vms_text_escape(sc->s->name ? sc->s->name : "");
		if (!name)
			return VMS_ERR_NOMEM;
		int n = fprintf(out, "%s======== process %d (%s) ========\n\n", nth ? "\n" : "",
		                (int)sc->s->pid, name);
		free(name);
		if (n < 0)
			return VMS_ERR_IO;
	}
	return render(sc->s, &o, out);
}

/* Several processes in one run: each resolved and scanned in turn and written to output (NULL:
 * standard output; a file is opened once). A process that cannot be found or scanned gets its
 * error on stderr and the others are still written; the same process named twice is written
 * once. Returns 0 when every target was written, else the exit code of the first that failed
 * (or VMS_EXIT_ERROR when writing failed). */
static int write_several(const struct target_list *tl, const struct scan_spec *sp, const struct out_spec *o,
                         const char *output)
{
	struct sink k = {.path = output};
	pid_t *done = calloc(tl->n, sizeof *done);
	int err = done ? sink_open(&k, output) : VMS_ERR_NOMEM, rc = VMS_EXIT_OK;
	size_t written = 0;
	if (err) {
		free(done);
		return sink_report(&k, err);
	}
	for (size_t i = 0; i < tl->n && !err; i++) {
		const struct target *t = &tl->v[i];
		struct scanned sc;
		pid_t pid = 0;
		size_t j = 0;
		int r = vms_cli_resolve("snapshot", t->text, t->by_cmdline, &pid);
		while (r < 0 && j < written && done[j] != pid)
			j++;
		if (r < 0 && j < written) {
			fprintf(stderr, "vmscope snapshot: %s is process %d again: written once\n", t->text,
			        (int)pid);
			continue;
		}
		if (r < 0)
			r = scan_pid(t->text, pid, sp, &sc);
		if (r >= 0) {
			rc = rc ? rc : r;
			continue;
		}
		err = write_nth(&sc, o, sp->want_res, written, k.out);
		done[written++] = pid;
		scanned_free(&sc);
	}
	free(done);
	err = sink_report(&k, sink_close(&k, err, written > 0));
	return err ? err : rc;
}

int vms_cmd_snapshot(int argc, char **argv)
{
	const char *output = NULL, *how = NULL, *from = NULL;
	struct target_list tl = {0};
	int rc = VMS_EXIT_USAGE;
	enum fmt asked = FMT_NONE, f;
	struct vms_snapshot_opts opts = {.read_rollup = 1, .thread_stacks = 1};
	/* clang-format off */
	static const struct option longopts[] = {
	    {"pid", required_argument, NULL, 'p'},     {"output", required_argument, NULL, 'o'},
	    {"json", no_argument, NULL, 'j'},          {"no-threads", no_argument, NULL, 'T'},
	    {"no-rollup", no_argument, NULL, 'R'},     {"help", no_argument, NULL, 'h'},
	    {"no-peek", no_argument, NULL, 'P'},       {"format", required_argument, NULL, 'F'},
	    {"cmdline", required_argument, NULL, 'f'}, {"upload", required_argument, NULL, 'U'},
	    {"token-file", required_argument, NULL, 'k'}, {"ca", required_argument, NULL, 'c'},
	    {"fingerprint", required_argument, NULL, 'x'}, {"lifetime", required_argument, NULL, 'L'},
	    {"units", required_argument, NULL, 'u'},
	    {"from", required_argument, NULL, 'I'},    {"from-capture", required_argument, NULL, 'I'},
	    {"residency", no_argument, NULL, 'r'}, {"residency-max-bytes", required_argument, NULL, 'B'},
	    {0}};
	/* clang-format on */
	struct vms_upload_opts up = {0};
	struct vms_text_opts text = {0};
	const char *units = NULL;
	char howbuf[64];
	int c;
	optind = 1;
	int want_res = 0;
	size_t res_max = VMS_RESIDENCY_DEFAULT_BYTES;
	while ((c = getopt_long(argc, argv, "p:f:o:jh", longopts, NULL)) != -1) {
		enum fmt g;
		if (upload_option(c, &up))
			continue;
		switch (c) {
		case 'I': /* --from FILE, -o FILE: once each */
		case 'o':
			if (set_once(c == 'I' ? &from : &output, c == 'I' ? "--from" : "-o") < 0)
				goto out;
			break;
		case 'p':
		case 'f':
			if (add_target(&tl, optarg, c == 'f') != 0) {
				fprintf(stderr, "vmscope snapshot: out of memory\n");
				rc = VMS_EXIT_ERROR;
				goto out;
			}
			break;
		case 'j':
		case 'F':
			g = c == 'j' ? FMT_JSON : parse_fmt(optarg);
			if (g == FMT_NONE) {
				fprintf(stderr,
				        "vmscope snapshot: --format takes json, csv or txt, not '%s'\n",
				        optarg);
				goto out;
			}
			if (asked != FMT_NONE && asked != g) {
				fprintf(stderr, "vmscope snapshot: conflicting formats: %s and %s\n", how,
				        c == 'j' ? "--json" : optarg);
				goto out;
			}
			asked = g;
			snprintf(howbuf, sizeof howbuf, "%s%s", c == 'j' ? "--json" : "--format ",
			         c == 'j' ? "" : fmt_name[g]);
			how = howbuf;
			break;
		case 'u':
			if (strcasecmp(optarg, "kib") != 0 && strcasecmp(optarg, "human") != 0) {
				fprintf(stderr, "vmscope snapshot: --units takes kib or human, not '%s'\n",
				        optarg);
				goto out;
			}
			units = optarg;
			text.human = !strcasecmp(optarg, "human");
			break;
		case 'T':
			opts.thread_stacks = 0;
			break;
		case 'R':
			opts.read_rollup = 0;
			break;
		case 'P':
			opts.no_peek = 1;
			break;
		case 'r':
			want_res = 1;
			break;
		case 'B': {
			char *e = NULL;
			unsigned long long v = strtoull(optarg, &e, 10);
			if (!*optarg || *e || v < VMS_RESIDENCY_MIN_BYTES || v > VMS_RESIDENCY_MAX_BYTES) {
				fprintf(stderr,
				        "vmscope snapshot: --residency-max-bytes takes %u to %u, not '%s'\n",
				        VMS_RESIDENCY_MIN_BYTES, VMS_RESIDENCY_MAX_BYTES, optarg);
				goto out;
			}
			res_max = (size_t)v;
			break;
		}
		case 'h':
			snapshot_usage(stdout);
			rc = VMS_EXIT_OK;
			goto out;
		default:
			snapshot_usage(stderr);
			goto out;
		}
	}
	for (; optind < argc; optind++) /* operands are processes too: `vmscope snapshot 1234` */
		if (add_target(&tl, argv[optind], 0) != 0) {
			fprintf(stderr, "vmscope snapshot: out of memory\n");
			rc = VMS_EXIT_ERROR;
			goto out;
		}
	if (from && tl.n) {
		fprintf(stderr, "vmscope snapshot: --from FILE or a process, not both\n");
		goto out;
	}
	if (from && want_res) {
		fprintf(stderr, "vmscope snapshot: --residency reads a live process, not --from FILE\n");
		goto out;
	}
	if (from) {
		rc = from_file(from, asked, how, output, &up, &text);
		goto out;
	}
	if (!tl.n) {
		fprintf(stderr, "vmscope snapshot: which process? use -p PID|NAME\n");
		snapshot_usage(stderr);
		goto out;
	}
	if (tl.n > 1 && up.url) {
		fprintf(stderr,
		        "vmscope snapshot: --upload sends one snapshot: one -p or -f with it, "
		        "not %zu\n",
		        tl.n);
		goto out;
	}
	if (check_upload(&up, asked, output) != 0)
		goto out;
	if (up.url)
		asked = FMT_JSON;
	if ((f = choose_format(asked, how, output)) == FMT_NONE)
		goto out;
	if (units && f != FMT_TEXT) {
		fprintf(stderr,
		        "vmscope snapshot: --units is for the text report; %s keeps its own units (%s)\n",
		        fmt_name[f], f == FMT_CSV ? "KiB" : "bytes");
		goto out;
	}
	if (output && !strcmp(output, "-"))
		output = NULL; /* standard output */
	if (want_res && (up.url || f == FMT_CSV)) {
		fprintf(stderr, "vmscope snapshot: --residency goes with JSON or text output, not %s\n",
		        up.url ? "--upload (the daemon takes its own: ?residency=1)" : "CSV");
		goto out;
	}
	if (res_max != VMS_RESIDENCY_DEFAULT_BYTES && !want_res) {
		fprintf(stderr, "vmscope snapshot: --residency-max-bytes goes with --residency\n");
		goto out;
	}
	/* "-p -5" is a usage error before anything is scanned, whichever target it is */
	for (size_t i = 0; i < tl.n; i++)
		if (!tl.v[i].by_cmdline && (tl.v[i].text[0] == '-' || !tl.v[i].text[0])) {
			pid_t ignored;
			rc = vms_cli_resolve("snapshot", tl.v[i].text, 0, &ignored);
			goto out;
		}

	struct scan_spec sp = {.opts = opts, .f = f, .want_res = want_res, .res_max = res_max};
	struct out_spec o = {.f = f, .text = text};
	if (tl.n > 1) {
		rc = write_several(&tl, &sp, &o, output);
		goto out;
	}
	struct scanned sc;
	pid_t pid = 0;
	rc = vms_cli_resolve("snapshot", tl.v[0].text, tl.v[0].by_cmdline, &pid);
	if (rc >= 0)
		goto out;
	rc = scan_pid(tl.v[0].text, pid, &sp, &sc);
	if (rc >= 0)
		goto out;
	o.jc = sc.jc;
	o.k = want_res ? &sc.kept : NULL;
	rc = up.url ? upload(sc.s, sc.jc, &up) : emit(sc.s, &o, output);
	scanned_free(&sc);
out:
	free(tl.v);
	return rc;
}
