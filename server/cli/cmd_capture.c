/* vmscope capture: everything a snapshot of one process needs, in one gzip file to look at
 * elsewhere (docs/capture.md). The scan is `vmscope snapshot`'s, with its permission checks;
 * the capture adds the /proc texts it was computed from (include/vmscope/capture.h). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "vmscope/capture.h"
#include "vmscope/capture_files.h"
#include "vmscope/json_capture.h"
#include "vmscope/util.h"
#include "vmscope_build.h"

static void capture_usage(FILE *f)
{
	fprintf(f, "usage: vmscope capture -p PID|NAME | -f TEXT [-o FILE|-] [--no-peek]\n\n"
	           "Capture one process for a look elsewhere, without the daemon: its snapshot (the scan\n"
	           "of `vmscope snapshot`, with the same permission checks) and the /proc texts it was\n"
	           "computed from (smaps, smaps_rollup, status, stat, cmdline, mountinfo, maps, comm,\n"
	           "task/TID/comm and stat), the host, kernel, time, vmscope version, the mapped\n"
	           "images' build-ids and the evidence they came from (each mapped ELF file's headers,\n"
	           "section headers and notes, runtime files such as hsperfdata; bounded, never code\n"
	           "or data), as one gzip-compressed JSON file. Open it with\n"
	           "`vmscope snapshot --from FILE` or the dashboard's Open file (docs/capture.md).\n"
	           "  -p, --pid PID|NAME  the process (as for vmscope snapshot)\n"
	           "  -f, --cmdline TEXT  the one process whose command line contains TEXT\n"
	           "  -o, --output FILE   where to write (default NAME-PID.vmscope.json.gz here); - is\n"
	           "                      standard output\n"
	           "  --no-peek           never read the process's memory (runtime heaps from geometry)\n"
	           "The command line is in the capture: it may hold secrets.\n"
	           "Exit codes: as vmscope snapshot (0 ok, 1 error, 2 usage, 3 no such process,\n"
	           "            4 permission denied, 5 no address space, 6 ambiguous name).\n");
}

/* The texts the scan did not read that a reader of the capture wants: maps, comm, and each
 * thread's comm and stat (threads come and go: a missing one is skipped). */
static void add_extra_texts(pid_t pid, struct vms_capture_texts *t)
{
	char path[64];
	const char *files[] = {"maps", "comm"};
	struct vms_buf b = {0};
	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, files[i]);
		if (vms_buf_read_file(AT_FDCWD, path, 0, &b) == 0)
			vms_capture_texts_add(t, files[i], b.data, b.len);
	}
	snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		for (int k = 0; k < 2; k++) {
			const char *what = k ? "stat" : "comm";
			char name[64];
			snprintf(path, sizeof path, "/proc/%d/task/%.16s/%s", (int)pid, e->d_name, what);
			snprintf(name, sizeof name, "task/%.16s/%s", e->d_name, what);
			if (vms_buf_read_file(AT_FDCWD, path, 0, &b) == 0)
				vms_capture_texts_add(t, name, b.data, b.len);
		}
	}
	if (d)
		closedir(d);
	free(b.data);
}

/* Write len bytes to path through a temporary file + rename (never half a file), or to
 * standard output when path is NULL. 0 or -1 (errno set). */
static int write_out(const char *path, const char *buf, size_t len)
{
	if (!path)
		return fwrite(buf, 1, len, stdout) == len && fflush(stdout) == 0 ? 0 : -1;
	size_t n = strlen(path) + 16;
	char *tmp = malloc(n);
	if (!tmp)
		return -1;
	snprintf(tmp, n, "%s.tmpXXXXXX", path);
	int fd = mkstemp(tmp), rc = -1;
	if (fd >= 0) {
		size_t done = 0;
		while (done < len) {
			ssize_t w = write(fd, buf + done, len - done);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				break;
			done += (size_t)w;
		}
		int saved = errno;
		if (close(fd) == 0 && done == len && fchmodat(AT_FDCWD, tmp, 0644, 0) == 0 &&
		    rename(tmp, path) == 0)
			rc = 0;
		else
			errno = done == len ? errno : saved;
		if (rc)
			unlink(tmp);
	}
	free(tmp);
	return rc;
}

/* Scan pid into the capture file. The exit code. */
static int capture(pid_t pid, const char *target, int no_peek, const char *output)
{
	struct vms_snapshot_opts opts = {.read_rollup = 1, .thread_stacks = 1, .no_peek = no_peek};
	struct vms_json_capture *jc = vms_json_capture_new();
	struct vms_capture_texts *texts = vms_capture_texts_new();
	struct vms_snapshot *s = NULL;
	char *json = NULL, *gz = NULL, defname[128];
	size_t json_len = 0, gz_len = 0;
	int rc = VMS_EXIT_ERROR, err = VMS_ERR_NOMEM;
	FILE *mem = NULL;
	if (!jc || !texts)
		goto out;
	vms_json_capture_hook(jc, &opts);
	opts.on_text = vms_capture_on_text;
	opts.text_cookie = texts;
	if ((err = vms_snapshot_take(pid, &opts, &s)) != VMS_OK) {
		rc = vms_cli_scan_failed("capture", target, pid, err);
		err = VMS_OK;
		goto out;
	}
	add_extra_texts(pid, texts);
	size_t skipped = 0;
	if ((err = vms_capture_file_ranges(s, pid, 0, vms_capture_texts_add_range, texts, &skipped)) !=
	    VMS_OK)
		goto out;
	if (skipped)
		fprintf(stderr, "vmscope capture: %zu mapped file(s) left out (over the size bounds)\n",
		        skipped);
	if (!(mem = open_memstream(&json, &json_len)))
		goto out;
	err = vms_json_capture_write(jc, s, mem);
	if (fclose(mem) != 0 && !err)
		err = VMS_ERR_NOMEM;
	if (err)
		goto out;
	struct utsname u;
	struct timespec ts;
	int have_uname = uname(&u) == 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct vms_capture_meta meta = {
	    .vmscope_version = VMSCOPE_VERSION " (" VMSCOPE_COMMIT ")",
	    .host = have_uname ? u.nodename : NULL,
	    .kernel = have_uname ? u.release : NULL,
	    .captured_at_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000,
	};
	if ((err = vms_capture_build(s, json, json_len, texts, &meta, &gz, &gz_len)) != VMS_OK)
		goto out;
	if (!output) {
		snprintf(defname, sizeof defname, "%.64s-%d.vmscope.json.gz",
		         s->name && *s->name ? s->name : "process", (int)pid);
		for (char *p = defname; *p; p++) /* the name is the process's to choose: keep it tame */
			if (!(isalnum((unsigned char)*p) || *p == '.' || *p == '-' || *p == '_') ||
			    (p == defname && *p == '.'))
				*p = '_';
		output = defname;
	}
	int to_stdout = !strcmp(output, "-");
	if (write_out(to_stdout ? NULL : output, gz, gz_len) != 0) {
		fprintf(stderr, "vmscope capture: cannot write %s: %s\n",
		        to_stdout ? "standard output" : output, strerror(errno));
		goto out;
	}
	if (!to_stdout)
		fprintf(stderr, "vmscope capture: %s (%zu bytes; pid %d, %zu regions)\n", output, gz_len,
		        (int)pid, s->n_regions);
	rc = VMS_EXIT_OK;
out:
	if (err)
		fprintf(stderr, "vmscope capture: %s\n", vms_strerror(err));
	free(gz);
	free(json);
	vms_snapshot_free(s);
	vms_capture_texts_free(texts);
	vms_json_capture_free(jc);
	return rc;
}

int vms_cmd_capture(int argc, char **argv)
{
	const char *target = NULL, *pid_arg = NULL, *cmdline_arg = NULL, *output = NULL;
	int by_cmdline = 0, no_peek = 0;
	const struct vms_cli_opt options[] = {{"pid", 'p', NULL, &pid_arg},
	                                      {"cmdline", 'f', NULL, &cmdline_arg},
	                                      {"output", 'o', NULL, &output},
	                                      {"no-peek", 0, &no_peek, NULL},
	                                      {NULL, 0, NULL, NULL}};
	int done = vms_cli_parse(argc, argv, options, capture_usage);
	if (done >= 0 ||
	    (done = vms_cli_one_target("capture", pid_arg, cmdline_arg, &target, &by_cmdline)) >= 0)
		return done;
	done = vms_cli_target("capture", argc, argv, &target, capture_usage);
	if (done >= 0)
		return done;
	pid_t pid = 0;
	if ((done = vms_cli_resolve("capture", target, by_cmdline, &pid)) >= 0)
		return done;
	return capture(pid, target, no_peek, output);
}
