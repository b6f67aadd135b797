/* Subcommand arguments: the options of a subcommand that has only switches (--json, --no-peek,
 * --pss ...) and --help, as one table instead of a getopt_long loop in every such command; and
 * the one process operand of snapshot and watch. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "vmscope/error.h"
#include "vmscope/proclist.h"

#define MAX_SWITCHES 8
#define HELP_VAL 'h'
#define LONG_ONLY 256 /* getopt_long's val for switch i without a short form: LONG_ONLY + i */

int vms_cli_parse(int argc, char **argv, const struct vms_cli_opt *opt, void (*usage)(FILE *f))
{
	struct option longopts[MAX_SWITCHES + 2];
	char shortopts[2 * MAX_SWITCHES + 2] = "";
	size_t n = 0, ns = 0;
	for (; opt[n].name; n++) {
		if (n == MAX_SWITCHES) /* a programmer error: raise MAX_SWITCHES */
			return VMS_EXIT_ERROR;
		longopts[n] =
		    (struct option){opt[n].name, opt[n].value ? required_argument : no_argument, NULL,
		                    opt[n].short_name ? opt[n].short_name : LONG_ONLY + (int)n};
		if (opt[n].short_name) {
			shortopts[ns++] = opt[n].short_name;
			if (opt[n].value)
				shortopts[ns++] = ':';
		}
	}
	longopts[n] = (struct option){"help", no_argument, NULL, HELP_VAL};
	longopts[n + 1] = (struct option){NULL, 0, NULL, 0};
	shortopts[ns] = HELP_VAL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		size_t i = 0;
		while (i < n && longopts[i].val != c)
			i++;
		if (i < n && opt[i].value && *opt[i].value) {
			int proc = !strcmp(opt[i].name, "pid") || !strcmp(opt[i].name, "cmdline");
			fprintf(stderr, "vmscope: --%s given twice ('%s' after '%s')%s\n", opt[i].name,
			        optarg, *opt[i].value,
			        proc ? ": one process per run (only `vmscope snapshot` takes several)" : "");
			usage(stderr);
			return VMS_EXIT_USAGE;
		} else if (i < n && opt[i].value) {
			*opt[i].value = optarg;
		} else if (i < n) {
			*opt[i].on = 1;
		} else if (c == HELP_VAL) {
			usage(stdout);
			return VMS_EXIT_OK;
		} else {
			usage(stderr);
			return VMS_EXIT_USAGE;
		}
	}
	return -1;
}

int vms_cli_one_target(const char *cmd, const char *pid_arg, const char *cmdline_arg, const char **target,
                       int *by_cmdline)
{
	if (pid_arg && cmdline_arg) {
		fprintf(stderr, "vmscope %s: -p '%s' or -f '%s', not both: one process per run\n", cmd,
		        pid_arg, cmdline_arg);
		return VMS_EXIT_USAGE;
	}
	*target = pid_arg ? pid_arg : cmdline_arg;
	*by_cmdline = cmdline_arg != NULL;
	return -1;
}

int vms_cli_switches(int argc, char **argv, const struct vms_cli_switch *sw, void (*usage)(FILE *f))
{
	struct vms_cli_opt opt[MAX_SWITCHES + 1];
	size_t n = 0;
	for (; sw[n].name; n++) {
		if (n == MAX_SWITCHES)
			return VMS_EXIT_ERROR;
		opt[n] = (struct vms_cli_opt){sw[n].name, sw[n].short_name, sw[n].on, NULL};
	}
	opt[n] = (struct vms_cli_opt){NULL, 0, NULL, NULL};
	return vms_cli_parse(argc, argv, opt, usage);
}

int vms_cli_target(const char *cmd, int argc, char **argv, const char **target, void (*usage)(FILE *f))
{
	if (!*target && optind < argc)
		*target = argv[optind++];
	if (*target && optind == argc)
		return -1;
	fprintf(stderr, "vmscope %s: %s\n", cmd,
	        *target ? "unexpected argument (one process per run)" : "which process? use -p PID|NAME");
	usage(stderr);
	return VMS_EXIT_USAGE;
}

int vms_cli_set_target(const char *cmd, const char **target, const char *value)
{
	if (*target) {
		fprintf(stderr,
		        "vmscope %s: a second -p ('%s' after '%s'): one process per run (only `vmscope "
		        "snapshot` takes several)\n",
		        cmd, value, *target);
		return VMS_EXIT_USAGE;
	}
	*target = value;
	return -1;
}

/* Permission denied, in words that fit who we are: root is not told to run as root. */
static void permission_message(const char *cmd, const char *target)
{
	if (geteuid() == 0)
		fprintf(stderr,
		        "vmscope %s: %s: permission denied even as root: the process is not "
		        "dumpable, has capabilities vmscope lacks, or is in another user or PID "
		        "namespace (CAP_SYS_PTRACE there would grant access)\n",
		        cmd, target);
	else
		fprintf(stderr, "vmscope %s: %s: %s\n", cmd, target, vms_strerror(VMS_ERR_PERMISSION));
}

int vms_cli_resolve(const char *cmd, const char *target, int by_cmdline, pid_t *pid)
{
	pid_t *matches = NULL;
	size_t n_matches = 0;
	/* "-p -5" is a mistyped pid, not a process named "-5" */
	if (!by_cmdline && (target[0] == '-' || !target[0])) {
		fprintf(stderr, "vmscope %s: -p takes a pid or a process name, not '%s'\n", cmd, target);
		return VMS_EXIT_USAGE;
	}
	int err = by_cmdline ? vms_proc_resolve_cmdline(target, pid, &matches, &n_matches)
	                     : vms_proc_resolve(target, pid, &matches, &n_matches);
	if (err == VMS_ERR_AMBIGUOUS) {
		fprintf(stderr, "vmscope %s: '%s' matches %zu processes; pick one with -p PID:\n", cmd,
		        target, n_matches);
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
	if (!err)
		return -1;
	if (err == VMS_ERR_NO_SUCH_PROCESS)
		fprintf(stderr, "vmscope %s: no such process: %s%s\n", cmd, target,
		        by_cmdline ? " (in any command line)" : "");
	else if (err == VMS_ERR_PERMISSION)
		permission_message(cmd, target);
	else
		fprintf(stderr, "vmscope %s: %s\n", cmd, vms_strerror(err));
	return vms_exit_for_err(err);
}

int vms_cli_scan_failed(const char *cmd, const char *target, pid_t pid, int err)
{
	if (err == VMS_ERR_NO_SUCH_PROCESS)
		fprintf(stderr, "vmscope %s: no such process: %d\n", cmd, (int)pid);
	else if (err == VMS_ERR_PERMISSION)
		permission_message(cmd, target);
	else
		fprintf(stderr, "vmscope %s: process %d: %s\n", cmd, (int)pid, vms_strerror(err));
	return err == VMS_ERR_INVALID ? VMS_EXIT_ERROR : vms_exit_for_err(err);
}
