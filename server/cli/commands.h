/* The vmscope subcommands. Each takes argv starting at the subcommand name and returns the
 * process exit code (see enum vms_exit). Output goes to stdout, errors to stderr. */
#ifndef VMSCOPE_CLI_COMMANDS_H
#define VMSCOPE_CLI_COMMANDS_H

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

int vms_cmd_ps(int argc, char **argv);
int vms_cmd_snapshot(int argc, char **argv);
int vms_cmd_diff(int argc, char **argv);
int vms_cmd_watch(int argc, char **argv);
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
