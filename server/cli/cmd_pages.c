/* vmscope residency | strings | trim | workingset: inside the pages of a live process
 * (vmscope/pages.h).
 *   residency -p PID [RANGE]      which pages are in RAM, swapped, file, exclusive, dirty, huge
 *   strings -p PID ADDR|RANGE     ASCII and UTF-16LE strings (needs ptrace-attach rights)
 *   trim -p PID [RANGE] [--wait N] MADV_PAGEOUT, with Rss before, after, after N seconds
 *   workingset -p PID [RANGE] [--seconds N]  what it touches in N seconds (clear_refs) */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "vmscope/json_pages.h"
#include "vmscope/pages.h"
#include "vmscope/proclist.h"
#include "vmscope/snapshot.h"

static const char exit_codes[] =
    "Exit codes: 0 ok, 1 error, 2 usage, 3 no such process, 4 permission denied,\n"
    "            5 no address space, 6 ambiguous name.\n";

static int resolve(const char *cmd, const char *target, pid_t *pid)
{
	pid_t *matches = NULL;
	size_t n = 0;
	int err = vms_proc_resolve(target, pid, &matches, &n);
	free(matches);
	if (err == VMS_ERR_AMBIGUOUS) {
		fprintf(stderr, "vmscope %s: '%s' matches %zu processes; give a PID\n", cmd, target, n);
		return VMS_EXIT_AMBIGUOUS;
	}
	if (err) {
		fprintf(stderr, "vmscope %s: %s: %s\n", cmd, target, vms_strerror(err));
		return vms_exit_for_err(err);
	}
	return VMS_EXIT_OK;
}

static int fail(const char *cmd, pid_t pid, int err)
{
	fprintf(stderr, "vmscope %s: process %d: %s\n", cmd, (int)pid, vms_strerror(err));
	if (err == VMS_ERR_PERMISSION)
		fprintf(stderr, "vmscope %s: %s\n", cmd,
		        !strcmp(cmd, "residency")
		            ? "reading pagemap needs the right to read the process (its user, "
		              "or root / CAP_SYS_PTRACE)"
		            : "this needs ptrace-attach rights on the process (its user with "
		              "kernel.yama.ptrace_scope 0, or root / CAP_SYS_PTRACE)");
	return err == VMS_ERR_NOT_FOUND ? VMS_EXIT_ERROR : vms_exit_for_err(err);
}

static int print_json(cJSON *j)
{
	char *t = j ? cJSON_PrintUnformatted(j) : NULL;
	cJSON_Delete(j);
	if (!t) {
		fprintf(stderr, "vmscope: out of memory\n");
		return VMS_EXIT_ERROR;
	}
	puts(t);
	cJSON_free(t);
	return VMS_EXIT_OK;
}

/* The command line of a page command, once parsed: -p TARGET, --json and [RANGE], and the
 * process resolved. */
struct common {
	const char *target;
	int json;
	pid_t pid;
	uint64_t start, end; /* the range; [0, 0) = the whole address space */
	int have_range;
};

/* One option of a page command besides -p, --json and --help, with where its value goes: a flag
 * sets the int *dest to 1; a number must be a decimal in [min, max] and is stored in the unsigned
 * field *dest of size bytes (4 or 8: unsigned, size_t, uint64_t); a text stores optarg in the
 * const char * *dest. name NULL: -short_name only; short_name 0: --name only. */
enum opt_kind { OPT_FLAG, OPT_NUMBER, OPT_TEXT };
struct page_opt {
	const char *name;
	char short_name;
	enum opt_kind kind;
	void *dest;
	size_t size;
	unsigned long long min, max;
};
#define FLAG(name, field)                                                                                    \
	{                                                                                                    \
		name, 0, OPT_FLAG, &(field), sizeof(field), 0, 0                                             \
	}
#define NUMBER(name, short_name, field, min, max)                                                            \
	{                                                                                                    \
		name, short_name, OPT_NUMBER, &(field), sizeof(field), min, max                              \
	}
#define TEXT(name, field)                                                                                    \
	{                                                                                                    \
		name, 0, OPT_TEXT, &(field), sizeof(field), 0, 0                                             \
	}
#define END_OPTS                                                                                             \
	{                                                                                                    \
		NULL, 0, OPT_FLAG, NULL, 0, 0, 0                                                             \
	}
#define MAX_OPTS 8
#define LONG_ONLY 256 /* getopt_long's val for option i without a short form: LONG_ONLY + i */

/* What a page command is on the command line. */
struct page_cmd {
	const char *name;
	const char *usage;           /* the usage text; exit_codes follows it */
	const struct page_opt *opts; /* ended by END_OPTS; at most MAX_OPTS */
	int range_needed;            /* the ADDR|RANGE operand is required, not optional */
	int attach;                  /* check ptrace-attach rights before anything is read */
};

static void print_usage(const struct page_cmd *pc, FILE *f)
{
	fputs(pc->usage, f);
	fputs(exit_codes, f);
}

/* Store arg as option o. -1 on success; VMS_EXIT_USAGE after saying what o takes. */
static int set_option(const char *cmd, const struct page_opt *o, const char *arg)
{
	if (o->kind == OPT_FLAG) {
		*(int *)o->dest = 1;
		return -1;
	}
	if (o->kind == OPT_TEXT) {
		*(const char **)o->dest = arg;
		return -1;
	}
	char *end;
	errno = 0;
	unsigned long long v = strtoull(arg, &end, 10);
	if (*arg < '0' || *arg > '9' || *end || errno || v < o->min || v > o->max) {
		char opt[32];
		if (o->name)
			snprintf(opt, sizeof opt, "--%s", o->name);
		else
			snprintf(opt, sizeof opt, "-%c", o->short_name);
		if (o->max >= UINT32_MAX)
			fprintf(stderr, "vmscope %s: %s takes a number\n", cmd, opt);
		else
			fprintf(stderr, "vmscope %s: %s takes %llu..%llu\n", cmd, opt, o->min, o->max);
		return VMS_EXIT_USAGE;
	}
	if (o->size == sizeof(uint32_t)) {
		uint32_t v32 = (uint32_t)v;
		memcpy(o->dest, &v32, sizeof v32);
	} else {
		uint64_t v64 = v;
		memcpy(o->dest, &v64, sizeof v64);
	}
	return -1;
}

/* The options of pc: its own (pc->opts) and -p/--pid, -j/--json, -h/--help. Returns -1 to go on,
 * with optind at the first operand; else the exit code: VMS_EXIT_OK after the usage on stdout
 * for --help, VMS_EXIT_USAGE after the usage on stderr (or what a value takes) for a bad one. */
static int page_options(const struct page_cmd *pc, int argc, char **argv, struct common *c)
{
	struct option lo[MAX_OPTS + 4];
	char so[2 * MAX_OPTS + 6] = "jp:h";
	size_t n = 0, nl = 0, ns = strlen(so);
	for (; pc->opts[n].name || pc->opts[n].short_name; n++) {
		const struct page_opt *o = &pc->opts[n];
		int has_arg = o->kind == OPT_FLAG ? no_argument : required_argument;
		if (n == MAX_OPTS) /* a programmer error: raise MAX_OPTS */
			return VMS_EXIT_ERROR;
		if (o->name)
			lo[nl++] = (struct option){o->name, has_arg, NULL,
			                           o->short_name ? o->short_name : LONG_ONLY + (int)n};
		if (o->short_name) {
			so[ns++] = o->short_name;
			if (has_arg)
				so[ns++] = ':';
		}
	}
	so[ns] = '\0';
	lo[nl++] = (struct option){"json", no_argument, NULL, 'j'};
	lo[nl++] = (struct option){"pid", required_argument, NULL, 'p'};
	lo[nl++] = (struct option){"help", no_argument, NULL, 'h'};
	lo[nl] = (struct option){NULL, 0, NULL, 0};
	int ch, rc;
	optind = 1;
	while ((ch = getopt_long(argc, argv, so, lo, NULL)) != -1) {
		size_t i = 0;
		while (i < n && ch != (pc->opts[i].short_name ? pc->opts[i].short_name : LONG_ONLY + (int)i))
			i++;
		if (i < n) {
			if ((rc = set_option(pc->name, &pc->opts[i], optarg)) != -1)
				return rc;
		} else if (ch == 'j') {
			c->json = 1;
		} else if (ch == 'p') {
			if ((rc = vms_cli_set_target(pc->name, &c->target, optarg)) >= 0)
				return rc;
		} else if (ch == 'h') {
			print_usage(pc, stdout);
			return VMS_EXIT_OK;
		} else {
			print_usage(pc, stderr);
			return VMS_EXIT_USAGE;
		}
	}
	return -1;
}

/* After the options: the target (-p) and at most one RANGE (exactly one when pc->range_needed),
 * parsed; the process resolved; its attach rights checked when pc->attach; an ADDR widened to
 * the mapping holding it. Returns -1 to go on, else the exit code after saying why. */
static int page_target(const struct page_cmd *pc, int argc, char **argv, struct common *c)
{
	int rc;
	if (!c->target || argc - optind > 1 || (pc->range_needed && argc - optind != 1)) {
		print_usage(pc, stderr);
		return VMS_EXIT_USAGE;
	}
	if (optind < argc) {
		if (vms_parse_range(argv[optind], &c->start, &c->end) != VMS_OK) {
			fprintf(stderr, "vmscope %s: bad range '%s' (START-END or ADDR, hex)\n", pc->name,
			        argv[optind]);
			return VMS_EXIT_USAGE;
		}
		c->have_range = 1;
	}
	if ((rc = resolve(pc->name, c->target, &c->pid)) != VMS_EXIT_OK)
		return rc;
	int err = pc->attach ? vms_pages_may_attach(c->pid) : 0;
	if (!err && c->have_range && !c->end)
		err = vms_pages_vma_at(c->pid, c->start, &c->start, &c->end);
	return err ? fail(pc->name, c->pid, err) : -1;
}

/* Both of the above, for the commands that need nothing checked in between. */
static int page_args(const struct page_cmd *pc, int argc, char **argv, struct common *c)
{
	int rc = page_options(pc, argc, argv, c);
	return rc != -1 ? rc : page_target(pc, argc, argv, c);
}

/* ---- residency ------------------------------------------------------------------------------ */

static const char residency_usage[] =
    "usage: vmscope residency [--json] [--pagemap] [--no-exclusive] [--swap-offsets] [--max-runs N]\n"
    "                         -p PID|NAME [RANGE]\n\n"
    "Which pages of RANGE (START-END or an ADDR inside one mapping, hex; default: the whole\n"
    "address space) are present in RAM, swapped, page-cache/shmem pages (file), mapped by\n"
    "this process only (exclusive), soft-dirty, in a THP or hugetlb page, the zero page or\n"
    "a guard page; as runs of pages with the same states. Pages in no run were never\n"
    "touched or are not mapped. Uses the PAGEMAP_SCAN ioctl (Linux 6.7+); else, or with\n"
    "--pagemap, reads 8 bytes of /proc/PID/pagemap per page (slower; no THP/hugetlb/zero).\n"
    "Needs the right to read the process (as for smaps). No physical addresses are shown;\n"
    "--swap-offsets adds where swapped pages are (the kernel gives it to CAP_SYS_ADMIN only).\n"
    "--no-exclusive skips the one state PAGEMAP_SCAN lacks (read from pagemap per island of\n"
    "resident pages): faster on sparse regions.\n";

int vms_cmd_residency(int argc, char **argv)
{
	struct common c = {0};
	struct vms_residency_opts o = {0};
	const struct page_opt opts[] = {
	    FLAG("pagemap", o.force_pagemap), FLAG("swap-offsets", o.swap_offsets),
	    FLAG("no-exclusive", o.no_exclusive), NUMBER("max-runs", 0, o.max_runs, 0, SIZE_MAX), END_OPTS};
	const struct page_cmd pc = {"residency", residency_usage, opts, 0, 0};
	struct vms_residency r;
	int rc;
	if ((rc = page_args(&pc, argc, argv, &c)) != -1)
		return rc;
	int err = vms_residency_read(c.pid, c.start, c.end, &o, &r);
	if (err)
		return fail("residency", c.pid, err);
	if (c.json) {
		rc = print_json(vms_json_residency(c.pid, &r));
		vms_residency_free(&r);
		return rc;
	}
	printf("process %d, 0x%llx-0x%llx, %s%s%s\n", (int)c.pid, (unsigned long long)r.start,
	       (unsigned long long)r.end, r.method == VMS_RES_PAGEMAP_SCAN ? "PAGEMAP_SCAN" : "pagemap",
	       r.method == VMS_RES_PAGEMAP_SCAN
	           ? ""
	           : " (fallback: slower; THP, hugetlb and the zero page unknown)",
	       r.known & VMS_PG_SOFT_DIRTY ? "" : "; soft-dirty unknown: this kernel does not track it");
	printf("%-18s %-18s %10s  %s\n", "START", "END", "PAGES", "STATE");
	for (size_t i = 0; i < r.n_runs; i++) {
		char f[128];
		vms_page_flags_str(r.runs[i].flags, f, sizeof f);
		printf("0x%-16llx 0x%-16llx %10llu  %s", (unsigned long long)r.runs[i].start,
		       (unsigned long long)r.runs[i].end,
		       (unsigned long long)((r.runs[i].end - r.runs[i].start) / r.page_size), f);
		if (r.runs[i].swap_offset)
			printf(" (swap %u:0x%llx)", r.runs[i].swap_type,
			       (unsigned long long)r.runs[i].swap_offset);
		putchar('\n');
	}
	printf("pages:");
	for (unsigned i = 0; vms_page_flag_name(i); i++)
		if (r.known & (1u << i))
			printf(" %s %llu", vms_page_flag_name(i), (unsigned long long)r.pages[i]);
	printf("%s\n", r.truncated ? " (truncated: --max-runs reached)" : "");
	vms_residency_free(&r);
	return VMS_EXIT_OK;
}

/* ---- strings -------------------------------------------------------------------------------- */

static const char strings_usage[] =
    "usage: vmscope strings [--json] [-n MIN] [--search TEXT] [--encoding ascii|utf16le|both]\n"
    "                       [--offset N] [--limit N] [--max-bytes N] -p PID|NAME ADDR|RANGE\n\n"
    "Printable ASCII and UTF-16LE strings of at least MIN characters (default 8) in the\n"
    "mapping holding ADDR, or in START-END (hex), with their addresses. Reads only pages in\n"
    "RAM (nothing is faulted or swapped in), at most --max-bytes (default 16 MiB); pages\n"
    "that cannot be read are skipped. Needs ptrace-attach rights on the process: reading its\n"
    "memory can show secrets. --search keeps strings containing TEXT (any case).\n";

/* --encoding ascii|utf16le|both as VMS_STR_* bits; 0 for anything else. */
static unsigned parse_encoding(const char *text)
{
	if (!strcmp(text, "ascii"))
		return VMS_STR_ASCII;
	if (!strcmp(text, "utf16le"))
		return VMS_STR_UTF16LE;
	if (!strcmp(text, "both"))
		return VMS_STR_ASCII | VMS_STR_UTF16LE;
	return 0;
}

int vms_cmd_strings(int argc, char **argv)
{
	struct common c = {0};
	struct vms_strings_opts o = {0};
	const char *encoding = NULL;
	const struct page_opt opts[] = {NUMBER(NULL, 'n', o.min_chars, 2, 1024),
	                                TEXT("search", o.contains),
	                                TEXT("encoding", encoding),
	                                NUMBER("offset", 0, o.offset, 0, SIZE_MAX),
	                                NUMBER("limit", 0, o.limit, 0, SIZE_MAX),
	                                NUMBER("max-bytes", 0, o.max_bytes, 0, UINT64_MAX),
	                                END_OPTS};
	const struct page_cmd pc = {"strings", strings_usage, opts, 1, 1};
	struct vms_strings s;
	int rc;
	if ((rc = page_options(&pc, argc, argv, &c)) != -1)
		return rc;
	if (encoding && !(o.encodings = parse_encoding(encoding))) {
		fprintf(stderr, "vmscope strings: --encoding takes ascii, utf16le or both\n");
		return VMS_EXIT_USAGE;
	}
	if ((rc = page_target(&pc, argc, argv, &c)) != -1)
		return rc;
	int err = vms_strings_read(c.pid, c.start, c.end, &o, &s);
	if (err)
		return fail("strings", c.pid, err);
	if (c.json) {
		rc = print_json(vms_json_strings(c.pid, c.start, c.end, &o, &s));
		vms_strings_free(&s);
		return rc;
	}
	for (size_t i = 0; i < s.n; i++)
		printf("0x%llx %s %s\n", (unsigned long long)s.v[i].addr,
		       s.v[i].enc == VMS_STR_ASCII ? "A" : "U", s.v[i].text);
	fprintf(stderr, "%zu strings (%zu shown); %llu bytes read, %llu not resident or unreadable%s\n",
	        s.total, s.n, (unsigned long long)s.bytes_read, (unsigned long long)s.bytes_skipped,
	        s.truncated ? "; stopped at --max-bytes" : "");
	vms_strings_free(&s);
	return VMS_EXIT_OK;
}

/* ---- trim ----------------------------------------------------------------------------------- */

static const char trim_usage[] =
    "usage: vmscope trim [--json] [--wait N] -p PID|NAME [RANGE]\n\n"
    "Empty the working set of the process (or of RANGE: START-END, or the mapping holding\n"
    "ADDR): the kernel pages it out (process_madvise MADV_PAGEOUT, Linux 5.10+). Clean file\n"
    "pages are dropped, anonymous pages go to swap when there is swap; the process faults\n"
    "back what it touches again. Prints Rss before, right after, and after --wait N seconds\n"
    "(default 5; 0 skips it). Needs ptrace-attach rights and CAP_SYS_NICE for another\n"
    "process.\n";

static void print_figure(const char *label, const struct vms_mem_figure *f)
{
	printf("%-14s rss %10llu KiB  anonymous %10llu KiB  file %10llu KiB  swap %10llu KiB\n", label,
	       (unsigned long long)f->rss >> 10, (unsigned long long)f->anonymous >> 10,
	       (unsigned long long)f->file >> 10, (unsigned long long)f->swap >> 10);
}

int vms_cmd_trim(int argc, char **argv)
{
	struct common c = {0};
	struct vms_trim t;
	struct vms_mem_figure later = {0};
	unsigned wait = 5;
	const struct page_opt opts[] = {NUMBER("wait", 0, wait, 0, 3600), END_OPTS};
	const struct page_cmd pc = {"trim", trim_usage, opts, 0, 1};
	int rc;
	if ((rc = page_args(&pc, argc, argv, &c)) != -1)
		return rc;
	int err = vms_trim(c.pid, c.start, c.end, &t);
	if (!err && wait) {
		sleep(wait);
		err = vms_mem_figure_read(c.pid, c.start, c.end, &later);
	}
	if (err)
		return fail("trim", c.pid, err);
	if (c.json) {
		cJSON *j = vms_json_trim(c.pid, c.start, c.end, &t);
		if (j && wait) {
			cJSON_AddNumberToObject(j, "wait_s", wait);
			cJSON_AddItemToObject(j, "after_wait", vms_json_mem_figure(&later));
		}
		return print_json(j);
	}
	printf("process %d: MADV_PAGEOUT on %zu mappings (%zu skipped: locked, hugetlb, no access), %llu KiB "
	       "advised\n",
	       (int)c.pid, t.vmas, t.skipped, (unsigned long long)t.advised >> 10);
	print_figure("before", &t.before);
	print_figure("after", &t.after);
	if (wait) {
		char label[32];
		snprintf(label, sizeof label, "after %us", wait);
		print_figure(label, &later);
	}
	return VMS_EXIT_OK;
}

/* ---- working set over an interval ----------------------------------------------------------- */

static const char ws_usage[] =
    "usage: vmscope workingset [--json] [--seconds N] -p PID|NAME [RANGE]\n\n"
    "Which memory the process touches in N seconds (default 5): clears the referenced bit of\n"
    "every page of the process (/proc/PID/clear_refs), waits, then reads Referenced from\n"
    "smaps for each mapping of RANGE (default: all). This PERTURBS the process: for a moment\n"
    "all its pages look idle to the kernel's reclaim. Needs ptrace-attach rights and the\n"
    "right to write its clear_refs (its owner, or root).\n";

int vms_cmd_workingset(int argc, char **argv)
{
	struct common c = {0};
	struct vms_working_set w;
	unsigned seconds = 5;
	const struct page_opt opts[] = {NUMBER("seconds", 0, seconds, 0, 3600), END_OPTS};
	const struct page_cmd pc = {"workingset", ws_usage, opts, 0, 1};
	int rc;
	if ((rc = page_args(&pc, argc, argv, &c)) != -1)
		return rc;
	int err = vms_working_set(c.pid, c.start, c.end, seconds, &w);
	if (err)
		return fail("workingset", c.pid, err);
	if (c.json) {
		rc = print_json(vms_json_working_set(c.pid, &w));
		vms_working_set_free(&w);
		return rc;
	}
	printf("process %d touched %llu KiB of its %llu KiB resident in %u s\n", (int)c.pid,
	       (unsigned long long)w.referenced >> 10, (unsigned long long)w.rss >> 10, seconds);
	printf("%-18s %-18s %12s %12s\n", "START", "END", "RSS KiB", "TOUCHED KiB");
	for (size_t i = 0; i < w.n; i++)
		if (w.v[i].rss)
			printf("0x%-16llx 0x%-16llx %12llu %12llu\n", (unsigned long long)w.v[i].start,
			       (unsigned long long)w.v[i].end, (unsigned long long)w.v[i].rss >> 10,
			       (unsigned long long)w.v[i].referenced >> 10);
	vms_working_set_free(&w);
	return VMS_EXIT_OK;
}
