/* vmscope residency | strings | trim | workingset: inside the pages of a live process
 * (vmscope/pages.h).
 *   residency -p PID [RANGE]      which pages are in RAM, swapped, file, exclusive, dirty, huge
 *   strings -p PID ADDR|RANGE     ASCII and UTF-16LE strings (needs ptrace-attach rights)
 *   trim -p PID [RANGE] [--wait N] MADV_PAGEOUT, with Rss before, after, after N seconds
 *   workingset -p PID [RANGE] [--seconds N]  what it touches in N seconds (clear_refs) */
#include <getopt.h>
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

/* Common options: -p TARGET, --json, [RANGE]. Returns -1 to go on, else an exit code. */
struct common {
	const char *target;
	int json;
	pid_t pid;
	uint64_t start, end;
	int have_range;
};

static int parse_range(const char *cmd, const char *text, struct common *c)
{
	if (vms_parse_range(text, &c->start, &c->end) != VMS_OK) {
		fprintf(stderr, "vmscope %s: bad range '%s' (START-END or ADDR, hex)\n", cmd, text);
		return VMS_EXIT_USAGE;
	}
	c->have_range = 1;
	return -1;
}

/* The options every page command has (-p, --json, --help). -1: handled, go on; -2: not one of
 * them; else the exit code. */
static int common_option(int ch, struct common *c, void (*usage)(FILE *))
{
	switch (ch) {
	case 'j':
		c->json = 1;
		return -1;
	case 'p':
		c->target = optarg;
		return -1;
	case 'h':
		usage(stdout);
		return VMS_EXIT_OK;
	case '?':
		usage(stderr);
		return VMS_EXIT_USAGE;
	default:
		return -2;
	}
}

/* After the options: the target (-p) and at most one RANGE (exactly one when range_needed),
 * parsed, and the process resolved. -1 to go on, else the exit code. */
static int common_args(const char *cmd, int argc, char **argv, int range_needed, struct common *c,
                       void (*usage)(FILE *))
{
	int rc;
	if (!c->target || argc - optind > 1 || (range_needed && argc - optind != 1)) {
		usage(stderr);
		return VMS_EXIT_USAGE;
	}
	if (optind < argc && (rc = parse_range(cmd, argv[optind], c)) >= 0)
		return rc;
	if ((rc = resolve(cmd, c->target, &c->pid)) != VMS_EXIT_OK)
		return rc;
	return -1;
}

/* ---- residency ------------------------------------------------------------------------------ */

static void residency_usage(FILE *f)
{
	fprintf(
	    f,
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
	    "resident pages): faster on sparse regions.\n"
	    "%s",
	    exit_codes);
}

int vms_cmd_residency(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"json", no_argument, NULL, 'j'},           {"pagemap", no_argument, NULL, 'P'},
	    {"swap-offsets", no_argument, NULL, 'S'},   {"no-exclusive", no_argument, NULL, 'X'},
	    {"max-runs", required_argument, NULL, 'm'}, {"pid", required_argument, NULL, 'p'},
	    {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0}};
	struct common c = {0};
	struct vms_residency_opts o = {0};
	struct vms_residency r;
	int ch, rc;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "jp:h", lo, NULL)) != -1) {
		switch (ch) {
		case 'P':
			o.force_pagemap = 1;
			break;
		case 'S':
			o.swap_offsets = 1;
			break;
		case 'X':
			o.no_exclusive = 1;
			break;
		case 'm':
			o.max_runs = strtoul(optarg, NULL, 10);
			break;
		default:
			if ((rc = common_option(ch, &c, residency_usage)) != -1)
				return rc == -2 ? VMS_EXIT_USAGE : rc;
		}
	}
	if ((rc = common_args("residency", argc, argv, 0, &c, residency_usage)) != -1)
		return rc;
	if (c.have_range && !c.end) {
		int err = vms_pages_vma_at(c.pid, c.start, &c.start, &c.end);
		if (err)
			return fail("residency", c.pid, err);
	}
	int err = vms_residency_read(c.pid, c.start, c.end, &o, &r);
	if (err)
		return fail("residency", c.pid, err);
	if (c.json) {
		rc = print_json(vms_json_residency(c.pid, &r));
		vms_residency_free(&r);
		return rc;
	}
	printf("process %d, 0x%llx-0x%llx, %s%s\n", (int)c.pid, (unsigned long long)r.start,
	       (unsigned long long)r.end, r.method == VMS_RES_PAGEMAP_SCAN ? "PAGEMAP_SCAN" : "pagemap",
	       r.method == VMS_RES_PAGEMAP_SCAN
	           ? ""
	           : " (fallback: slower; THP, hugetlb and the zero page unknown)");
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

static void strings_usage(FILE *f)
{
	fprintf(f,
	        "usage: vmscope strings [--json] [-n MIN] [--search TEXT] [--encoding ascii|utf16le|both]\n"
	        "                       [--offset N] [--limit N] [--max-bytes N] -p PID|NAME ADDR|RANGE\n\n"
	        "Printable ASCII and UTF-16LE strings of at least MIN characters (default 8) in the\n"
	        "mapping holding ADDR, or in START-END (hex), with their addresses. Reads only pages in\n"
	        "RAM (nothing is faulted or swapped in), at most --max-bytes (default 16 MiB); pages\n"
	        "that cannot be read are skipped. Needs ptrace-attach rights on the process: reading its\n"
	        "memory can show secrets. --search keeps strings containing TEXT (any case).\n"
	        "%s",
	        exit_codes);
}

int vms_cmd_strings(int argc, char **argv)
{
	static const struct option lo[] = {{"json", no_argument, NULL, 'j'},
	                                   {"search", required_argument, NULL, 's'},
	                                   {"encoding", required_argument, NULL, 'e'},
	                                   {"offset", required_argument, NULL, 'o'},
	                                   {"limit", required_argument, NULL, 'l'},
	                                   {"max-bytes", required_argument, NULL, 'b'},
	                                   {"pid", required_argument, NULL, 'p'},
	                                   {"help", no_argument, NULL, 'h'},
	                                   {NULL, 0, NULL, 0}};
	struct common c = {0};
	struct vms_strings_opts o = {0};
	struct vms_strings s;
	int ch, rc;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "jn:p:h", lo, NULL)) != -1) {
		switch (ch) {
		case 'n':
			o.min_chars = (unsigned)strtoul(optarg, NULL, 10);
			if (o.min_chars < 2 || o.min_chars > 1024) {
				fprintf(stderr, "vmscope strings: -n takes 2..1024\n");
				return VMS_EXIT_USAGE;
			}
			break;
		case 's':
			o.contains = optarg;
			break;
		case 'e':
			if (!strcmp(optarg, "ascii"))
				o.encodings = VMS_STR_ASCII;
			else if (!strcmp(optarg, "utf16le"))
				o.encodings = VMS_STR_UTF16LE;
			else if (!strcmp(optarg, "both"))
				o.encodings = VMS_STR_ASCII | VMS_STR_UTF16LE;
			else {
				fprintf(stderr, "vmscope strings: --encoding takes ascii, utf16le or both\n");
				return VMS_EXIT_USAGE;
			}
			break;
		case 'o':
			o.offset = strtoul(optarg, NULL, 10);
			break;
		case 'l':
			o.limit = strtoul(optarg, NULL, 10);
			break;
		case 'b':
			o.max_bytes = strtoull(optarg, NULL, 10);
			break;
		default:
			if ((rc = common_option(ch, &c, strings_usage)) != -1)
				return rc == -2 ? VMS_EXIT_USAGE : rc;
		}
	}
	if ((rc = common_args("strings", argc, argv, 1, &c, strings_usage)) != -1)
		return rc;
	int err = vms_pages_may_attach(c.pid);
	if (!err && !c.end)
		err = vms_pages_vma_at(c.pid, c.start, &c.start, &c.end);
	if (!err)
		err = vms_strings_read(c.pid, c.start, c.end, &o, &s);
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

static void trim_usage(FILE *f)
{
	fprintf(f,
	        "usage: vmscope trim [--json] [--wait N] -p PID|NAME [RANGE]\n\n"
	        "Empty the working set of the process (or of RANGE: START-END, or the mapping holding\n"
	        "ADDR): the kernel pages it out (process_madvise MADV_PAGEOUT, Linux 5.10+). Clean file\n"
	        "pages are dropped, anonymous pages go to swap when there is swap; the process faults\n"
	        "back what it touches again. Prints Rss before, right after, and after --wait N seconds\n"
	        "(default 5; 0 skips it). Needs ptrace-attach rights and CAP_SYS_NICE for another\n"
	        "process.\n"
	        "%s",
	        exit_codes);
}

static void print_figure(const char *label, const struct vms_mem_figure *f)
{
	printf("%-14s rss %10llu KiB  anonymous %10llu KiB  file %10llu KiB  swap %10llu KiB\n", label,
	       (unsigned long long)f->rss >> 10, (unsigned long long)f->anonymous >> 10,
	       (unsigned long long)f->file >> 10, (unsigned long long)f->swap >> 10);
}

int vms_cmd_trim(int argc, char **argv)
{
	static const struct option lo[] = {{"json", no_argument, NULL, 'j'},
	                                   {"wait", required_argument, NULL, 'w'},
	                                   {"pid", required_argument, NULL, 'p'},
	                                   {"help", no_argument, NULL, 'h'},
	                                   {NULL, 0, NULL, 0}};
	struct common c = {0};
	struct vms_trim t;
	struct vms_mem_figure later = {0};
	unsigned wait = 5;
	int ch, rc;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "jp:h", lo, NULL)) != -1) {
		switch (ch) {
		case 'w':
			wait = (unsigned)strtoul(optarg, NULL, 10);
			if (wait > 3600) {
				fprintf(stderr, "vmscope trim: --wait takes 0..3600 seconds\n");
				return VMS_EXIT_USAGE;
			}
			break;
		default:
			if ((rc = common_option(ch, &c, trim_usage)) != -1)
				return rc == -2 ? VMS_EXIT_USAGE : rc;
		}
	}
	if ((rc = common_args("trim", argc, argv, 0, &c, trim_usage)) != -1)
		return rc;
	int err = vms_pages_may_attach(c.pid);
	if (!err && c.have_range && !c.end)
		err = vms_pages_vma_at(c.pid, c.start, &c.start, &c.end);
	if (!err)
		err = vms_trim(c.pid, c.start, c.end, &t);
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

static void ws_usage(FILE *f)
{
	fprintf(f,
	        "usage: vmscope workingset [--json] [--seconds N] -p PID|NAME [RANGE]\n\n"
	        "Which memory the process touches in N seconds (default 5): clears the referenced bit of\n"
	        "every page of the process (/proc/PID/clear_refs), waits, then reads Referenced from\n"
	        "smaps for each mapping of RANGE (default: all). This PERTURBS the process: for a moment\n"
	        "all its pages look idle to the kernel's reclaim. Needs ptrace-attach rights and the\n"
	        "right to write its clear_refs (its owner, or root).\n"
	        "%s",
	        exit_codes);
}

int vms_cmd_workingset(int argc, char **argv)
{
	static const struct option lo[] = {{"json", no_argument, NULL, 'j'},
	                                   {"seconds", required_argument, NULL, 's'},
	                                   {"pid", required_argument, NULL, 'p'},
	                                   {"help", no_argument, NULL, 'h'},
	                                   {NULL, 0, NULL, 0}};
	struct common c = {0};
	struct vms_working_set w;
	unsigned seconds = 5;
	int ch, rc;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "jp:h", lo, NULL)) != -1) {
		if (ch == 's') {
			seconds = (unsigned)strtoul(optarg, NULL, 10);
			if (seconds > 3600) {
				fprintf(stderr, "vmscope workingset: --seconds takes 0..3600\n");
				return VMS_EXIT_USAGE;
			}
		} else if ((rc = common_option(ch, &c, ws_usage)) != -1)
			return rc == -2 ? VMS_EXIT_USAGE : rc;
	}
	if ((rc = common_args("workingset", argc, argv, 0, &c, ws_usage)) != -1)
		return rc;
	int err = vms_pages_may_attach(c.pid);
	if (!err && c.have_range && !c.end)
		err = vms_pages_vma_at(c.pid, c.start, &c.start, &c.end);
	if (!err)
		err = vms_working_set(c.pid, c.start, c.end, seconds, &w);
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
