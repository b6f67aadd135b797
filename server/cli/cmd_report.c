/* vmscope report: a self-contained HTML report (server/json/html.c) of a live process (-p, -f)
 * or of a snapshot file, written to -o FILE (through a temporary file and a rename) or to
 * standard output. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "vmscope/export.h"
#include "vmscope/proclist.h"
#include "vmscope/snapshot.h"

static void report_usage(FILE *f)
{
	fprintf(f, "usage: vmscope report -p PID|NAME | -f TEXT | FILE.json [-o FILE.html|-]\n"
	           "                       [--no-threads] [--no-peek]\n\n"
	           "Write one self-contained HTML page about a process to keep or mail: who, where and\n"
	           "when, the summary by type with every column, bars, an address-space map, the\n"
	           "biggest allocations, the images, every allocation with its regions, the threads.\n"
	           "It runs no script and loads nothing (its Content-Security-Policy forbids both), so\n"
	           "it opens from a mail attachment or file:// anywhere.\n"
	           "  -p, --pid PID|NAME  scan this process now (a name must match one process); a\n"
	           "                      snapshot file (FILE.json, or a path with a /) is read instead\n"
	           "  -f, --cmdline TEXT  scan the one process whose command line contains TEXT\n"
	           "  FILE.json           a snapshot file (`vmscope snapshot -o x.json`, a download)\n"
	           "  -o, --output FILE   where to write (default: standard output; - is standard output)\n"
	           "  --no-threads        do not read task/TID/syscall (no thread ids on stacks)\n"
	           "  --no-peek           never read the process's memory (runtime heaps from geometry)\n"
	           "Exit codes: 0 ok, 1 error (unreadable file, cannot write), 2 usage, 3 no such\n"
	           "            process, 4 permission denied, 5 no address space, 6 ambiguous name.\n");
}

/* Whether -p's argument names a snapshot file rather than a process. */
static int is_snapshot_file(const char *arg)
{
	size_t n = strlen(arg);
	struct stat sb;
	int looks = strchr(arg, '/') || (n > 5 && !strcmp(arg + n - 5, ".json"));
	return looks && stat(arg, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* Scan the process target names (its command line contains target when by_cmdline). Returns
 * the exit code; on VMS_EXIT_OK *out holds the snapshot. */
static int scan(const char *target, int by_cmdline, const struct vms_snapshot_opts *opts,
                struct vms_snapshot **out)
{
	pid_t pid = 0, *matches = NULL;
	size_t n = 0;
	int err = by_cmdline ? vms_proc_resolve_cmdline(target, &pid, &matches, &n)
	                     : vms_proc_resolve(target, &pid, &matches, &n);
	free(matches);
	if (err == VMS_ERR_AMBIGUOUS) {
		fprintf(stderr, "vmscope report: '%s' matches %zu processes; pick one with -p PID\n", target,
		        n);
		return VMS_EXIT_AMBIGUOUS;
	}
	if (!err)
		err = vms_snapshot_take(pid, opts, out);
	if (err) {
		fprintf(stderr, "vmscope report: %s: %s\n", target, vms_strerror(err));
		return err == VMS_ERR_INVALID ? VMS_EXIT_ERROR : vms_exit_for_err(err);
	}
	return VMS_EXIT_OK;
}

/* text[0..len) to path: a regular file (or a new one) through path.tmpXXXXXX and a rename, so a
 * failed run leaves no half report; anything else (/dev/null, a FIFO) in place. 0 or -1 (errno). */
static int write_out(const char *path, const char *text, size_t len)
{
	struct stat sb;
	int in_place = stat(path, &sb) == 0 && !S_ISREG(sb.st_mode);
	size_t n = strlen(path) + 16;
	char *tmp = malloc(n);
	if (!tmp)
		return -1;
	snprintf(tmp, n, "%s.tmpXXXXXX", path);
	int fd = in_place ? open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY) : mkstemp(tmp);
	int rc = fd < 0 ? -1 : 0;
	for (size_t off = 0; !rc && off < len;) {
		ssize_t w = write(fd, text + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			rc = -1;
		else
			off += (size_t)w;
	}
	mode_t mask = umask(0); /* mkstemp made it 0600: give it the mode a new file gets */
	umask(mask);
	if (fd >= 0 && !in_place && !rc && fchmod(fd, 0666 & ~mask) != 0)
		rc = -1;
	if (fd >= 0 && close(fd) != 0)
		rc = -1;
	if (fd >= 0 && !in_place && (rc || rename(tmp, path) != 0)) {
		int e = errno;
		unlink(tmp);
		errno = e;
		rc = -1;
	}
	free(tmp);
	return rc;
}

int vms_cmd_report(int argc, char **argv)
{
	const char *target = NULL, *output = NULL;
	int by_cmdline = 0, c;
	struct vms_snapshot_opts opts = {.read_rollup = 1, .thread_stacks = 1};
	static const struct option longopts[] = {{"pid", required_argument, NULL, 'p'},
	                                         {"cmdline", required_argument, NULL, 'f'},
	                                         {"output", required_argument, NULL, 'o'},
	                                         {"no-threads", no_argument, NULL, 'T'},
	                                         {"no-peek", no_argument, NULL, 'P'},
	                                         {"help", no_argument, NULL, 'h'},
	                                         {0}};
	optind = 1;
	while ((c = getopt_long(argc, argv, "p:f:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
		case 'f':
			if (target) {
				fprintf(stderr, "vmscope report: one process or file per report\n");
				return VMS_EXIT_USAGE;
			}
			target = optarg;
			by_cmdline = c == 'f';
			break;
		case 'o':
			output = optarg;
			break;
		case 'T':
			opts.thread_stacks = 0;
			break;
		case 'P':
			opts.no_peek = 1;
			break;
		case 'h':
			report_usage(stdout);
			return VMS_EXIT_OK;
		default:
			report_usage(stderr);
			return VMS_EXIT_USAGE;
		}
	}
	int from_file = !target && optind < argc;
	int done = vms_cli_target("report", argc, argv, &target, report_usage);
	if (done >= 0)
		return done;
	if (!by_cmdline && !from_file && (target[0] == '-' || !target[0])) {
		fprintf(stderr,
		        "vmscope report: -p takes a pid, a process name or a snapshot file, not '%s'\n",
		        target);
		return VMS_EXIT_USAGE;
	}
	if (output && !strcmp(output, "-"))
		output = NULL;

	struct vms_snapshot *s = NULL;
	char *html = NULL;
	size_t len = 0;
	int rc = from_file || (!by_cmdline && is_snapshot_file(target))
	             ? vms_cli_load_snapshot("report", target, &s)
	             : scan(target, by_cmdline, &opts, &s);
	if (rc != VMS_EXIT_OK)
		goto out;
	if (vms_export_html(s, &html, &len) != VMS_OK) {
		fprintf(stderr, "vmscope report: out of memory\n");
		rc = VMS_EXIT_ERROR;
		goto out;
	}
	if (output ? write_out(output, html, len) != 0
	           : fwrite(html, 1, len, stdout) != len || fflush(stdout) != 0) {
		fprintf(stderr, "vmscope report: cannot write %s: %s\n", output ? output : "standard output",
		        strerror(errno));
		rc = VMS_EXIT_ERROR;
	}
out:
	free(html);
	vms_snapshot_free(s);
	return rc;
}
