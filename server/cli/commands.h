/* The vmscope subcommands. Each takes argv starting at the subcommand name and returns the
 * process exit code (see enum vms_exit). Output goes to stdout, errors to stderr. */
#ifndef VMSCOPE_CLI_COMMANDS_H
#define VMSCOPE_CLI_COMMANDS_H

#include <stdio.h>

enum vms_exit {
	VMS_EXIT_OK = 0,
	VMS_EXIT_ERROR = 1,            /* anything else (I/O, out of memory, bad file) */
	VMS_EXIT_USAGE = 2,            /* bad command line */
	VMS_EXIT_NO_PROCESS = 3,       /* no such process, or it exited during the scan */
	VMS_EXIT_PERMISSION = 4,       /* permission denied */
	VMS_EXIT_NO_ADDRESS_SPACE = 5, /* kernel thread or zombie */
	VMS_EXIT_AMBIGUOUS = 6,        /* a name matched several processes */
};

/* Map an enum vms_err to an exit code. */
int vms_exit_for_err(int err);

/* One switch of a subcommand: --name (and -short_name when that is not 0) sets *on to 1. */
struct vms_cli_switch {
	const char *name;
	char short_name;
	int *on;
};
/* Parse the options of a subcommand whose options are all switches (sw, ended by {NULL}, at
 * most 8), plus --help/-h. Returns -1 to go on, with optind at the first operand; else the exit
 * code to return: VMS_EXIT_OK after the usage on stdout for --help, VMS_EXIT_USAGE after the
 * usage on stderr for an unknown option (getopt_long has said which). (args.c) */
int vms_cli_switches(int argc, char **argv, const struct vms_cli_switch *sw, void (*usage)(FILE *f));
/* After the options: the one process a subcommand works on, *target from -p PID|NAME (or NULL)
 * else the next operand. Returns -1 to go on; VMS_EXIT_USAGE after saying what is wrong (no
 * process, or an operand too many) and the usage on stderr. (args.c) */
int vms_cli_target(const char *cmd, int argc, char **argv, const char **target, void (*usage)(FILE *f));

/* Read and parse snapshot file path. VMS_EXIT_OK and *out (vms_snapshot_free), or
 * VMS_EXIT_ERROR after "vmscope CMD: ..." on stderr. (snapshot_file.c) */
struct vms_snapshot;
int vms_cli_load_snapshot(const char *cmd, const char *path, struct vms_snapshot **out);

int vms_cmd_ps(int argc, char **argv);
int vms_cmd_snapshot(int argc, char **argv);
int vms_cmd_diff(int argc, char **argv);
int vms_cmd_watch(int argc, char **argv);
int vms_cmd_report(int argc, char **argv); /* cmd_report.c: the HTML report */
int vms_cmd_at(int argc, char **argv);
int vms_cmd_residency(int argc, char **argv); /* cmd_pages.c */
int vms_cmd_strings(int argc, char **argv);
int vms_cmd_trim(int argc, char **argv);
int vms_cmd_workingset(int argc, char **argv);
#ifdef VMSCOPE_HAVE_SERVER
int vms_cmd_serve(int argc, char **argv);
int vms_cmd_token(int argc, char **argv);
#endif

#endif
