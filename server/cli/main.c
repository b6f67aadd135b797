/* vmscope: one binary, one subcommand per file (cmd_*.c). */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "vmscope/error.h"
#include "vmscope_build.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
    {"ps", vms_cmd_ps, "list processes with their memory totals"},
    {"snapshot", vms_cmd_snapshot, "scan one process: summary by type and allocation tree"},
    {"report", vms_cmd_report, "a self-contained HTML report of a process or snapshot file"},
    {"diff", vms_cmd_diff, "what changed between two snapshot files"},
    {"watch", vms_cmd_watch, "sample one process at an interval: what grows (no daemon)"},
    {"at", vms_cmd_at, "what is at an address: allocation, region, section, symbol"},
    {"residency", vms_cmd_residency, "which pages of a range are in RAM, swapped, shared, dirty, huge"},
    {"strings", vms_cmd_strings, "ASCII and UTF-16 strings in a region (ptrace-attach rights)"},
    {"trim", vms_cmd_trim, "page out a process's working set (MADV_PAGEOUT), Rss before/after"},
    {"workingset", vms_cmd_workingset, "what a process touches in N seconds (clear_refs; perturbs it)"},
#ifdef VMSCOPE_HAVE_SERVER
    {"serve", vms_cmd_serve, "run the daemon: REST API and browser dashboard"},
    {"token", vms_cmd_token, "print the daemon's API token"},
#endif
};

static void usage(FILE *f)
{
	fprintf(f,
	        "vmscope %s: VMMap's view of any Linux process\n\n"
	        "usage: vmscope COMMAND [OPTIONS]   (vmscope COMMAND --help for details)\n"
	        "       vmscope --version\n\n"
	        "commands:\n",
	        VMSCOPE_VERSION);
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nexit codes: 0 ok, 1 error, 2 usage, 3 no such process (or it exited),\n"
	           "            4 permission denied, 5 no address space (kernel thread, zombie),\n"
	           "            6 name matches several processes\n");
}

int vms_exit_for_err(int err)
{
	switch (err) {
	case VMS_OK:
		return VMS_EXIT_OK;
	case VMS_ERR_NO_SUCH_PROCESS:
	case VMS_ERR_EXITED:
		return VMS_EXIT_NO_PROCESS;
	case VMS_ERR_PERMISSION:
		return VMS_EXIT_PERMISSION;
	case VMS_ERR_NO_ADDRESS_SPACE:
		return VMS_EXIT_NO_ADDRESS_SPACE;
	case VMS_ERR_AMBIGUOUS:
		return VMS_EXIT_AMBIGUOUS;
	case VMS_ERR_INVALID:
		return VMS_EXIT_USAGE;
	default:
		return VMS_EXIT_ERROR;
	}
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return VMS_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return VMS_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("vmscope %s (commit %s, built %s)\n", VMSCOPE_VERSION, VMSCOPE_COMMIT,
		       VMSCOPE_BUILD_DATE);
		return VMS_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "vmscope: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return VMS_EXIT_USAGE;
}
