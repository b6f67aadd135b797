/* vmscope diff A.json B.json: what changed between two snapshot files (the core's diff engine). */
#include <errno.h>
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

int vms_cmd_diff(int argc, char **argv)
{
	int json = 0;
	const struct vms_cli_switch sw[] = {{"json", 'j', &json}, {NULL, 0, NULL}};
	int done = vms_cli_switches(argc, argv, sw, diff_usage);
	if (done >= 0)
		return done;
	if (argc - optind != 2) {
		diff_usage(stderr);
		return VMS_EXIT_USAGE;
	}
	struct vms_snapshot *a = NULL, *b = NULL;
	struct vms_diff d;
	char *text = NULL;
	size_t len = 0;
	int rc = vms_cli_load_snapshot("diff", argv[optind], &a);
	if (rc == VMS_EXIT_OK)
		rc = vms_cli_load_snapshot("diff", argv[optind + 1], &b);
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
