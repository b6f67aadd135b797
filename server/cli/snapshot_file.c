/* Reading a snapshot file (`vmscope snapshot -o x.json`, one downloaded from the daemon, a capture
 * or a bare smaps text: vms_load_any) for the subcommands that take one. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "vmscope/capture.h"
#include "vmscope/json.h"
#include "vmscope/util.h"

/* The most text a file may decompress to. */
#define VMS_LOAD_MAX_TEXT ((size_t)4 << 30)

int vms_cli_load_snapshot(const char *cmd, const char *path, struct vms_snapshot **out)
{
	size_t len = 0;
	char err[256] = "";
	char *text = NULL;
	int rerr = vms_read_file(AT_FDCWD, path, 0, &text, &len);
	if (rerr) {
		fprintf(stderr, "vmscope %s: cannot read %s: %s\n", cmd, path, strerror(-rerr));
		return VMS_EXIT_ERROR;
	}
	const char *base = strrchr(path, '/');
	int rc =
	    vms_load_any(text, len, VMS_LOAD_MAX_TEXT, base ? base + 1 : path, out, NULL, err, sizeof err);
	free(text);
	if (rc) {
		fprintf(stderr, "vmscope %s: %s: %s\n", cmd, path, *err ? err : vms_strerror(rc));
		return VMS_EXIT_ERROR;
	}
	return VMS_EXIT_OK;
}
