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
/* The same for options that may take a value: an entry with value non-NULL is --name VALUE
 * (and -short VALUE), which sets *value to the argument (on is unused); else a switch. */
struct vms_cli_opt {
	const char *name;
	char short_name;
	int *on;
	const char **value;
};
int vms_cli_parse(int argc, char **argv, const struct vms_cli_opt *opt, void (*usage)(FILE *f));
/* (vms_cli_parse: the value pointers must start NULL; an option with a value given twice is a
 * usage error.) -p PID|NAME and -f TEXT as parsed into pid_arg and cmdline_arg: at most one.
 * Sets *target (NULL when neither) and *by_cmdline. Returns -1 to go on, else VMS_EXIT_USAGE
 * after saying why. (args.c) */
int vms_cli_one_target(const char *cmd, const char *pid_arg, const char *cmdline_arg, const char **target,
                       int *by_cmdline);
/* After the options: the one process a subcommand works on, *target from -p PID|NAME (or NULL)
 * else the next operand. Returns -1 to go on; VMS_EXIT_USAGE after saying what is wrong (no
 * process, or an operand too many) and the usage on stderr. (args.c) */
int vms_cli_target(const char *cmd, int argc, char **argv, const char **target, void (*usage)(FILE *f));
/* -p VALUE of a command that works on one process: *target = value, or, when *target is already
 * set, VMS_EXIT_USAGE after saying a second -p is not taken (only `snapshot` takes several).
 * Returns -1 to go on. (args.c) */
int vms_cli_set_target(const char *cmd, const char **target, const char *value);

/* Resolve target (-p PID|NAME, or -f TEXT when by_cmdline) to one process. Returns -1 to go on
 * with *pid; else the exit code after saying why on stderr ("vmscope CMD: ..."; an ambiguous
 * name lists its matches; "-p -5" is a usage error). (args.c) */
#include <sys/types.h>
int vms_cli_resolve(const char *cmd, const char *target, int by_cmdline, pid_t *pid);
/* Say on stderr why the scan of pid (named target by the user) failed with err, and return the
 * exit code. (args.c) */
int vms_cli_scan_failed(const char *cmd, const char *target, pid_t pid, int err);
/* Read and parse snapshot file path. VMS_EXIT_OK and *out (vms_snapshot_free), or
 * VMS_EXIT_ERROR after "vmscope CMD: ..." on stderr. (snapshot_file.c) */
struct vms_snapshot;
int vms_cli_load_snapshot(const char *cmd, const char *path, struct vms_snapshot **out);

int vms_cmd_ps(int argc, char **argv);
int vms_cmd_snapshot(int argc, char **argv);
int vms_cmd_capture(int argc, char **argv);
int vms_cmd_diff(int argc, char **argv);
int vms_cmd_watch(int argc, char **argv);
int vms_cmd_report(int argc, char **argv); /* cmd_report.c: the HTML report */
int vms_cmd_at(int argc, char **argv);
int vms_cmd_residency(int argc, char **argv); /* cmd_pages.c */
int vms_cmd_strings(int argc, char **argv);
int vms_cmd_trim(int argc, char **argv);
int vms_cmd_workingset(int argc, char **argv);
int vms_cmd_system(int argc, char **argv); /* cmd_system.c */
int vms_cmd_files(int argc, char **argv);
#ifdef VMSCOPE_HAVE_SERVER
int vms_cmd_serve(int argc, char **argv);
int vms_cmd_token(int argc, char **argv);
#endif

#endif
