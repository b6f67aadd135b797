/* vmscope diff A.json B.json: what changed between two snapshot files (the core's diff engine). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "vmscope/diff.h"
#include "vmscope/export.h"
#include "vmscope/json.h"
#include "vmscope/util.h"

static void diff_usage(FILE *f)
{
	fprintf(f, "usage: vmscope diff [--json] FROM.json TO.json\n\n"
	           "Compare two snapshot files written by `vmscope snapshot -o x.json` (or downloaded from\n"
	           "the daemon): allocations and regions added, removed, grown, shrunk, protection or\n"
	           "path changed, and per-type deltas for every column.\n");
}

static int load(const char *path, struct vms_snapshot **out)
{
	size_t len = 0;
	char err[256] = "";
	char *text = NULL;
	int rerr = vms_read_file(AT_FDCWD, path, 0, &text, &len);
	if (rerr) {
		fprintf(stderr, "vmscope diff: cannot read %s: %s\n", path, strerror(-rerr));
		return VMS_EXIT_ERROR;
	}
	int rc = vms_json_parse_snapshot(text, len, out, err, sizeof err);
	free(text);
	if (rc) {
		fprintf(stderr, "vmscope diff: %s: %s\n", path, *err ? err : vms_strerror(rc));
		return VMS_EXIT_ERROR;
	}
	return VMS_EXIT_OK;
}

int vms_cmd_diff(int argc, char **argv)
{
	int json = 0;
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {0}};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "jh", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'h':
			diff_usage(stdout);
			return VMS_EXIT_OK;
		default:
			diff_usage(stderr);
			return VMS_EXIT_USAGE;
		}
	}
	if (argc - optind != 2) {
		diff_usage(stderr);
		return VMS_EXIT_USAGE;
	}
	struct vms_snapshot *a = NULL, *b = NULL;
	struct vms_diff d;
	char *text = NULL;
	size_t len = 0;
	int rc = load(argv[optind], &a);
	if (rc == VMS_EXIT_OK)
		rc = load(argv[optind + 1], &b);
	if (rc != VMS_EXIT_OK)
		goto out;
	if (vms_diff_compute(a, b, &d) != VMS_OK) {
		fprintf(stderr, "vmscope diff: out of memory\n");
		rc = VMS_EXIT_ERROR;
		goto out;
	}
	if (json) {
		if (vms_json_write_diff(&d, NULL, &text, &len) != VMS_OK)
			text = NULL;
	} else if (vms_export_diff_text(&d, &text, &len) != VMS_OK) {
		text = NULL;
	}
	vms_diff_free(&d);
	if (!text) {
		fprintf(stderr, "vmscope diff: out of memory\n");
		rc = VMS_EXIT_ERROR;
		goto out;
	}
	fwrite(text, 1, len, stdout);
	if (len && text[len - 1] != '\n')
		putchar('\n');
out:
	free(text);
	vms_snapshot_free(a);
	vms_snapshot_free(b);
	return rc;
}
