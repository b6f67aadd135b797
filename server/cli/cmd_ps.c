/* vmscope ps: the process list, like ps aux with memory columns. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "vmscope/export.h"
#include "vmscope/json.h"
#include "vmscope/proclist.h"

static void ps_usage(FILE *f)
{
	fprintf(f, "usage: vmscope ps [--json] [--pss]\n\n"
	           "List processes: pid, ppid, user, state, threads, arch, VmSize, RSS (anon/file/shmem),\n"
	           "swap and whether their memory map is readable by you (MAPS: ok; denied = you lack\n"
	           "ptrace-read rights, run as its user or root; none = kernel thread or zombie).\n"
	           "  --json   JSON on stdout (sizes in bytes)\n"
	           "  --pss    also read smaps_rollup for Pss/Uss (walks page tables: slower); - where it\n"
	           "           cannot be read\n");
}

static void kib(char *buf, size_t n, uint64_t bytes)
{
	snprintf(buf, n, "%llu", (unsigned long long)(bytes / 1024));
}

int vms_cmd_ps(int argc, char **argv)
{
	int json = 0;
	struct vms_proclist_opts opts = {0};
	const struct vms_cli_switch sw[] = {
	    {"json", 'j', &json}, {"pss", 0, &opts.with_rollup}, {NULL, 0, NULL}};
	int done = vms_cli_switches(argc, argv, sw, ps_usage);
	if (done >= 0)
		return done;
	if (optind < argc) {
		fprintf(stderr, "vmscope ps: unexpected argument '%s'\n", argv[optind]);
		ps_usage(stderr);
		return VMS_EXIT_USAGE;
	}
	struct vms_proclist l;
	int err = vms_proclist_read(&opts, &l);
	if (err) {
		fprintf(stderr, "vmscope ps: %s\n", vms_strerror(err));
		return vms_exit_for_err(err);
	}
	int rc = VMS_EXIT_OK;
	if (json) {
		cJSON *j = vms_json_proclist(&l);
		char *text = j ? vms_json_print(j, 1) : NULL;
		if (!text) {
			fprintf(stderr, "vmscope ps: out of memory\n");
			rc = VMS_EXIT_ERROR;
		} else {
			puts(text);
		}
		free(text);
		cJSON_Delete(j);
	} else {
		printf("%7s %7s %-10s %1s %4s %-7s %-6s %10s %10s %9s %9s %9s %8s%s  %s\n", "PID", "PPID",
		       "USER", "S", "THR", "ARCH", "MAPS", "VSZ(KiB)", "RSS(KiB)", "ANON", "FILE", "SHMEM",
		       "SWAP", opts.with_rollup ? "   PSS(KiB)   USS(KiB)" : "", "COMMAND");
		for (size_t i = 0; i < l.n; i++) {
			const struct vms_proc *p = &l.procs[i];
			char v[6][24], pss[48] = "";
			kib(v[0], 24, p->vm_size), kib(v[1], 24, p->vm_rss), kib(v[2], 24, p->rss_anon);
			kib(v[3], 24, p->rss_file), kib(v[4], 24, p->rss_shmem), kib(v[5], 24, p->vm_swap);
			/* "-" where smaps_rollup could not be read (denied, kernel thread): not 0 */
			if (opts.with_rollup && p->has_rollup)
				snprintf(pss, sizeof pss, " %10llu %10llu",
				         (unsigned long long)(p->pss / 1024),
				         (unsigned long long)(p->uss / 1024));
			else if (opts.with_rollup)
				snprintf(pss, sizeof pss, " %10s %10s", "-", "-");
			char arch[16];
			if (p->arch.bits)
				snprintf(arch, sizeof arch, "%s", p->arch.machine);
			else
				snprintf(arch, sizeof arch, "%s", p->kernel_thread ? "kthread" : "-");
			/* MAPS: can we read its memory map? ok, denied (ptrace-read refused), none (kernel
			 * thread or zombie), gone (exited while listed) */
			const char *maps = p->maps_readable                                ? "ok"
			                   : p->unreadable_err == VMS_ERR_PERMISSION       ? "denied"
			                   : p->unreadable_err == VMS_ERR_NO_ADDRESS_SPACE ? "none"
			                                                                   : "gone";
			/* a command line may hold newlines or terminal controls: one row per process */
			char *cmd = vms_text_escape(*p->cmdline ? p->cmdline : p->name);
			printf("%7d %7d %-10.10s %c %4d %-7s %-6s %10s %10s %9s %9s %9s %8s%s  %s%s%s\n",
			       p->pid, p->ppid, p->user, p->state, p->threads, arch, maps, v[0], v[1], v[2],
			       v[3], v[4], v[5], pss, *p->cmdline ? "" : "[", cmd ? cmd : "?",
			       *p->cmdline ? "" : "]");
			free(cmd);
		}
	}
	vms_proclist_free(&l);
	return rc;
}
