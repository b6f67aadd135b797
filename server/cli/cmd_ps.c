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
	fprintf(f, "usage: vmscope ps [--json] [--pss] [--sort [-]COL] [--user USER] [--totals]\n\n"
	           "List processes: pid, ppid, user, state, threads, arch, VmSize, RSS (anon/file/shmem),\n"
	           "swap and whether their memory map is readable by you (MAPS: ok; denied = you lack\n"
	           "ptrace-read rights, run as its user or root; none = kernel thread or zombie).\n"
	           "  --json   JSON on stdout (sizes in bytes)\n"
	           "  --pss    also read smaps_rollup for Pss/Uss (walks page tables: slower); - where it\n"
	           "           cannot be read\n"
	           "  --sort COL  order by pid, name, user, rss, size, swap, pss, uss, start or threads\n"
	           "           (-COL descending; pss and uss imply --pss)\n"
	           "  --user U    only processes of user U (name or numeric uid)\n"
	           "  --totals    a last row with the sums (RSS counts shared pages once per process;\n"
	           "           Pss and Uss add up; --pss sums only the processes you can read)\n"
	           "Across processes: vmscope system (by area and user), vmscope files (by mapped file).\n");
}

static void kib(char *buf, size_t n, uint64_t bytes)
{
	snprintf(buf, n, "%llu", (unsigned long long)(bytes / 1024));
}

/* Keep only user's processes (by name, or by uid when user is all digits). */
static void ps_keep_user(struct vms_proclist *l, const char *user)
{
	size_t k = 0;
	if (!user)
		return;
	int numeric = *user && strspn(user, "0123456789") == strlen(user);
	for (size_t i = 0; i < l->n; i++) {
		struct vms_proc *p = &l->procs[i];
		if (numeric ? strtoul(user, NULL, 10) == (unsigned long)p->uid : !strcmp(p->user, user))
			l->procs[k++] = *p;
		else
			vms_proc_clear(p);
	}
	l->n = k;
}

/* Sums over the list: the status byte counts of every process, Pss/Uss of those with rollup. */
struct ps_sums {
	uint64_t v[6], pss, uss;
	size_t n, n_rollup;
};
static void ps_sum(const struct vms_proclist *l, struct ps_sums *t)
{
	memset(t, 0, sizeof *t);
	for (size_t i = 0; i < l->n; i++) {
		const struct vms_proc *p = &l->procs[i];
		t->v[0] += p->vm_size, t->v[1] += p->vm_rss, t->v[2] += p->rss_anon;
		t->v[3] += p->rss_file, t->v[4] += p->rss_shmem, t->v[5] += p->vm_swap;
		t->n++;
		if (p->has_rollup)
			t->pss += p->pss, t->uss += p->uss, t->n_rollup++;
	}
}

static void ps_print_totals(const struct vms_proclist *l, int with_rollup)
{
	struct ps_sums t;
	char v[6][24], pss[48] = "";
	ps_sum(l, &t);
	for (int i = 0; i < 6; i++)
		kib(v[i], 24, t.v[i]);
	if (with_rollup)
		snprintf(pss, sizeof pss, " %10llu %10llu", (unsigned long long)(t.pss / 1024),
		         (unsigned long long)(t.uss / 1024));
	printf("%7s %7s %-10s %1s %4s %-7s %-6s %10s %10s %9s %9s %9s %8s%s  %zu processes", "TOTAL", "", "",
	       "", "", "", "", v[0], v[1], v[2], v[3], v[4], v[5], pss, t.n);
	if (with_rollup)
		printf(" (Pss/Uss of the %zu you can read)", t.n_rollup);
	printf("\n");
}

/* "totals": {processes, vm_size, vm_rss, ..., pss, uss, rollup_processes}; 0 when out of memory. */
static int ps_json_totals(cJSON *root, const struct vms_proclist *l)
{
	static const char *const keys[6] = {"vm_size",  "vm_rss",    "rss_anon",
	                                    "rss_file", "rss_shmem", "vm_swap"};
	struct ps_sums t;
	ps_sum(l, &t);
	cJSON *o = cJSON_AddObjectToObject(root, "totals");
	int ok = o && cJSON_AddNumberToObject(o, "processes", (double)t.n);
	for (int i = 0; i < 6 && ok; i++)
		ok = cJSON_AddNumberToObject(o, keys[i], (double)t.v[i]) != NULL;
	return ok && cJSON_AddNumberToObject(o, "rollup_processes", (double)t.n_rollup) &&
	       cJSON_AddNumberToObject(o, "pss", (double)t.pss) &&
	       cJSON_AddNumberToObject(o, "uss", (double)t.uss);
}

int vms_cmd_ps(int argc, char **argv)
{
	int json = 0, totals = 0;
	const char *sort = NULL, *user = NULL;
	struct vms_proclist_opts opts = {0};
	const struct vms_cli_opt opt[] = {{"json", 'j', &json, NULL},   {"pss", 0, &opts.with_rollup, NULL},
	                                  {"sort", 0, NULL, &sort},     {"user", 0, NULL, &user},
	                                  {"totals", 0, &totals, NULL}, {NULL, 0, NULL, NULL}};
	int done = vms_cli_parse(argc, argv, opt, ps_usage);
	if (done >= 0)
		return done;
	struct vms_proc none;
	if (sort && vms_proclist_sort(&none, 0, sort) != VMS_OK) {
		fprintf(stderr, "vmscope ps: unknown --sort column '%s' (" VMS_PROCLIST_SORT_KEYS ")\n",
		        sort);
		return VMS_EXIT_USAGE;
	}
	if (sort && (!strcmp(sort + (*sort == '-'), "pss") || !strcmp(sort + (*sort == '-'), "uss")))
		opts.with_rollup = 1;
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
	ps_keep_user(&l, user);
	if (sort)
		vms_proclist_sort(l.procs, l.n, sort);
	int rc = VMS_EXIT_OK;
	if (json) {
		cJSON *j = vms_json_proclist(&l);
		if (j && totals && !ps_json_totals(j, &l))
			cJSON_Delete(j), j = NULL;
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
		if (totals)
			ps_print_totals(&l, opts.with_rollup);
	}
	vms_proclist_free(&l);
	return rc;
}
