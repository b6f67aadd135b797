/* vmscope snapshot: VMMap's -p. Text report on stdout, --json, or -o FILE (.json/.csv/.txt). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "vmscope/export.h"
#include "vmscope/json.h"
#include "vmscope/proclist.h"
#include "vmscope/snapshot.h"

static void snapshot_usage(FILE *f)
{
	fprintf(f, "usage: vmscope snapshot -p PID|NAME [--json] [-o FILE] [--no-threads] [--no-rollup]\n\n"
		   "Scan one process's address space and classify it the way VMMap does.\n"
		   "  -p, --pid PID|NAME  the process (a name must match exactly one process)\n"
		   "  --json              JSON on stdout instead of the text report\n"
		   "  -o, --output FILE   write to FILE; the format follows the extension:\n"
		   "                      .json, .csv (VMMap's CSV layout) or .txt\n"
		   "  --no-threads        do not read task/TID/syscall (no thread ids on stacks)\n"
		   "  --no-rollup         do not read smaps_rollup\n"
		   "Exit codes: 0 ok, 2 usage, 3 no such process or it exited, 4 permission denied,\n"
		   "            5 no address space (kernel thread, zombie), 6 ambiguous name.\n");
}

enum fmt { FMT_TEXT, FMT_JSON, FMT_CSV };

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && !strcasecmp(s + n - m, suffix);
}

static int render(const struct vms_snapshot *s, enum fmt f, char **out, size_t *len)
{
	if (f == FMT_TEXT)
		return vms_export_text(s, out, len);
	if (f == FMT_CSV)
		return vms_export_csv(s, out, len);
	cJSON *j = vms_json_snapshot(s, NULL);
	*out = j ? vms_json_print(j, 1) : NULL;
	cJSON_Delete(j);
	if (!*out)
		return VMS_ERR_NOMEM;
	*len = strlen(*out);
	return VMS_OK;
}

/* Write text to path via a temporary file + rename, so a failed run never leaves half a file. */
static int write_file(const char *path, const char *text, size_t len)
{
	size_t n = strlen(path) + 16;
	char *tmp = malloc(n);
	if (!tmp)
		return -1;
	snprintf(tmp, n, "%s.tmpXXXXXX", path);
	int rc = -1;
	int fd = mkstemp(tmp);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (f) {
		int ok = fwrite(text, 1, len, f) == len && fputc('\n', f) != EOF;
		if (fclose(f) == 0 && ok)
			rc = rename(tmp, path);
	} else if (fd >= 0) {
		close(fd);
	}
	if (rc != 0 && fd >= 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

int vms_cmd_snapshot(int argc, char **argv)
{
	const char *target = NULL, *output = NULL;
	enum fmt f = FMT_TEXT;
	struct vms_snapshot_opts opts = {.read_rollup = 1, .thread_stacks = 1};
	static const struct option longopts[] = {
		{"pid", required_argument, NULL, 'p'},     {"output", required_argument, NULL, 'o'},
		{"json", no_argument, NULL, 'j'},          {"no-threads", no_argument, NULL, 'T'},
		{"no-rollup", no_argument, NULL, 'R'},     {"help", no_argument, NULL, 'h'},
		{0}};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "p:o:jh", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': target = optarg; break;
		case 'o': output = optarg; break;
		case 'j': f = FMT_JSON; break;
		case 'T': opts.thread_stacks = 0; break;
		case 'R': opts.read_rollup = 0; break;
		case 'h': snapshot_usage(stdout); return VMS_EXIT_OK;
		default: snapshot_usage(stderr); return VMS_EXIT_USAGE;
		}
	}
	if (!target && optind < argc)
		target = argv[optind++];
	if (!target || optind < argc) {
		fprintf(stderr, "vmscope snapshot: %s\n", target ? "unexpected argument" : "which process? use -p PID|NAME");
		snapshot_usage(stderr);
		return VMS_EXIT_USAGE;
	}
	if (output) {
		if (ends_with(output, ".json"))
			f = FMT_JSON;
		else if (ends_with(output, ".csv"))
			f = FMT_CSV;
		else if (ends_with(output, ".txt"))
			f = FMT_TEXT;
		else {
			fprintf(stderr, "vmscope snapshot: cannot tell the format of '%s': use .json, .csv or .txt\n", output);
			return VMS_EXIT_USAGE;
		}
	}

	pid_t pid = 0, *matches = NULL;
	size_t n_matches = 0;
	int err = vms_proc_resolve(target, &pid, &matches, &n_matches);
	if (err == VMS_ERR_AMBIGUOUS) {
		fprintf(stderr, "vmscope snapshot: '%s' matches %zu processes; pick one with -p PID:\n", target, n_matches);
		for (size_t i = 0; i < n_matches; i++) {
			struct vms_proc p;
			if (vms_proc_read(matches[i], NULL, &p) == VMS_OK) {
				fprintf(stderr, "  %7d  %-10s %s\n", p.pid, p.user, p.cmdline);
				vms_proc_clear(&p);
			}
		}
		free(matches);
		return VMS_EXIT_AMBIGUOUS;
	}
	if (err) {
		if (err == VMS_ERR_NO_SUCH_PROCESS)
			fprintf(stderr, "vmscope snapshot: no such process: %s\n", target);
		else
			fprintf(stderr, "vmscope snapshot: %s\n", vms_strerror(err));
		return vms_exit_for_err(err);
	}

	struct vms_snapshot *s = NULL;
	err = vms_snapshot_take(pid, &opts, &s);
	if (err) {
		if (err == VMS_ERR_NO_SUCH_PROCESS)
			fprintf(stderr, "vmscope snapshot: no such process: %d\n", (int)pid);
		else
			fprintf(stderr, "vmscope snapshot: process %d: %s\n", (int)pid, vms_strerror(err));
		return vms_exit_for_err(err);
	}
	char *text = NULL;
	size_t len = 0;
	int rc = VMS_EXIT_OK;
	err = render(s, f, &text, &len);
	if (err) {
		fprintf(stderr, "vmscope snapshot: %s\n", vms_strerror(err));
		rc = VMS_EXIT_ERROR;
	} else if (output) {
		if (write_file(output, text, len) != 0) {
			fprintf(stderr, "vmscope snapshot: cannot write %s: %s\n", output, strerror(errno));
			rc = VMS_EXIT_ERROR;
		}
	} else {
		fwrite(text, 1, len, stdout);
		if (len && text[len - 1] != '\n')
			putchar('\n');
	}
	free(text);
	vms_snapshot_free(s);
	return rc;
}
