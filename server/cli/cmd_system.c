/* vmscope system and vmscope files: views across processes, like smem -w / -u and smem -m.
 * Only processes you may read are counted or named; the others are a count at the end. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "vmscope/error.h"
#include "vmscope/export.h"
#include "vmscope/json.h"
#include "vmscope/json_system.h"
#include "vmscope/systemwide.h"

static unsigned long long kib(uint64_t bytes)
{
	return (unsigned long long)(bytes / 1024);
}

/* Print j (consumed) on stdout; the exit code. */
static int print_json(const char *cmd, cJSON *j)
{
	char *text = j ? vms_json_print(j, 1) : NULL;
	cJSON_Delete(j);
	if (!text) {
		fprintf(stderr, "vmscope %s: out of memory\n", cmd);
		return VMS_EXIT_ERROR;
	}
	puts(text);
	free(text);
	return VMS_EXIT_OK;
}

static void system_usage(FILE *f)
{
	fprintf(f, "usage: vmscope system [--json] [--areas | --types] [--user USER]\n\n"
	           "Memory of the whole system by area (from /proc/meminfo, as smem -w) and by user (the\n"
	           "processes you can read, from smaps_rollup, as smem -u). Sizes in KiB.\n"
	           "  --areas      areas only (reads /proc/meminfo alone: no page-table walks)\n"
	           "  --types      also totals by VMMap type (Image, Heap, Stack ...) summed over the\n"
	           "               processes you can read: each one's full smaps is read and\n"
	           "               classified as `vmscope snapshot` does (costly: walks\n"
	           "               every page table); their Pss adds up to those processes' Pss\n"
	           "  --user USER  only USER's processes in the user (and type) table\n"
	           "  --json       JSON on stdout (sizes in bytes)\n"
	           "Columns: RSS counts a shared page once per process; Pss divides it among the\n"
	           "processes mapping it (Pss adds up); Uss = Private_Clean + Private_Dirty (what\n"
	           "exiting would free); Swap is VmSwap.\n");
}

/* The text table of totals by type. */
static void print_type_totals(const struct vms_type_totals *tt)
{
	static const enum vms_col cols[] = {VMS_COL_SIZE,    VMS_COL_COMMITTED,  VMS_COL_TOTAL_WS,
	                                    VMS_COL_PRIVATE, VMS_COL_PRIVATE_WS, VMS_COL_PSS,
	                                    VMS_COL_USS,     VMS_COL_SWAP};
	const size_t nc = sizeof cols / sizeof cols[0];
	printf("\nBy type, over the %zu processes read (KiB; full smaps of each):\n%-14s", tt->n_procs,
	       "TYPE");
	for (size_t c = 0; c < nc; c++)
		printf(" %12s", vms_col_name(cols[c]));
	printf(" %9s\n", "Blocks");
	uint64_t blocks = 0;
	for (int ty = 0; ty <= VMS_TYPE_COUNT; ty++) {
		if (ty == VMS_TYPE_FREE)
			continue;
		const uint64_t *v = ty < VMS_TYPE_COUNT ? tt->cols[ty] : tt->total;
		printf("%-14s", ty < VMS_TYPE_COUNT ? vms_type_name((enum vms_type)ty) : "Total");
		for (size_t c = 0; c < nc; c++)
			printf(" %12llu", kib(v[cols[c]]));
		blocks += ty < VMS_TYPE_COUNT ? tt->blocks[ty] : 0;
		printf(" %9llu\n", (unsigned long long)(ty < VMS_TYPE_COUNT ? tt->blocks[ty] : blocks));
	}
	printf("Private counts commit (VMMap's Private Bytes), Private WS its resident part; Pss "
	       "adds up over processes.\n");
	if (tt->n_unreadable || tt->n_gone)
		printf("(%zu process%s you cannot read, %zu gone during the scan: not counted)\n",
		       tt->n_unreadable, tt->n_unreadable == 1 ? "" : "es", tt->n_gone);
}

int vms_cmd_system(int argc, char **argv)
{
	int json = 0, areas_only = 0, types = 0, rc;
	const char *user = NULL;
	const struct vms_cli_opt opt[] = {{"json", 'j', &json, NULL},
	                                  {"areas", 0, &areas_only, NULL},
	                                  {"types", 0, &types, NULL},
	                                  {"user", 0, NULL, &user},
	                                  {NULL, 0, NULL, NULL}};
	int done = vms_cli_parse(argc, argv, opt, system_usage);
	if (done >= 0)
		return done;
	if (optind < argc) {
		fprintf(stderr, "vmscope system: unexpected argument '%s'\n", argv[optind]);
		system_usage(stderr);
		return VMS_EXIT_USAGE;
	}
	if (areas_only && types) {
		fprintf(stderr, "vmscope system: --areas reads /proc/meminfo alone; --types reads every "
		                "process: one or the other\n");
		return VMS_EXIT_USAGE;
	}
	struct vms_meminfo m;
	struct vms_user_totals t = {0};
	struct vms_type_totals tt = {0};
	if (vms_meminfo_read(&m) != VMS_OK) {
		fprintf(stderr, "vmscope system: cannot read /proc/meminfo\n");
		return VMS_EXIT_ERROR;
	}
	if (!areas_only) {
		struct vms_proclist l;
		struct vms_proclist_opts opts = {.with_rollup = 1};
		int err = vms_proclist_read(&opts, &l);
		if (!err)
			err = vms_user_totals(&l, user, &t);
		if (!err && types)
			err = vms_type_totals_read(&l, user, &tt);
		vms_proclist_free(&l);
		if (err) {
			fprintf(stderr, "vmscope system: %s\n", vms_strerror(err));
			return vms_exit_for_err(err);
		}
	}
	if (json) {
		cJSON *j = vms_json_system(&m, areas_only ? NULL : &t);
		if (j && types && vms_json_add_type_totals(j, &tt) != 0) {
			cJSON_Delete(j);
			j = NULL;
		}
		rc = print_json("system", j);
		vms_user_totals_free(&t);
		vms_type_totals_free(&tt);
		return rc;
	}
	struct vms_area_row rows[VMS_AREA_COUNT];
	vms_areas(&m, rows);
	printf("%-24s %12s %12s %12s\n", "AREA", "USED(KiB)", "CACHE(KiB)", "NONCACHE(KiB)");
	for (int i = 0; i < VMS_AREA_COUNT; i++)
		printf("%-24s %12llu %12llu %12llu\n", rows[i].name, kib(rows[i].used), kib(rows[i].cache),
		       kib(rows[i].used - rows[i].cache));
	printf("%-24s %12llu\n", "total (MemTotal)", kib(m.mem_total));
	if (!areas_only) {
		printf("\n%-16s %6s %12s %12s %12s %12s\n", "USER", "PROCS", "RSS(KiB)", "PSS(KiB)",
		       "USS(KiB)", "SWAP(KiB)");
		for (size_t i = 0; i <= t.n; i++) {
			const struct vms_user_total *u = i < t.n ? &t.users[i] : &t.all;
			char *name = vms_text_escape(u->user ? u->user : "total");
			printf("%-16s %6zu %12llu %12llu %12llu %12llu\n", name ? name : "?", u->n_procs,
			       kib(u->rss), kib(u->pss), kib(u->uss), kib(u->swap));
			free(name);
		}
		if (t.n_unreadable)
			printf("(%zu process%s you cannot read %s not counted)\n", t.n_unreadable,
			       t.n_unreadable == 1 ? "" : "es", t.n_unreadable == 1 ? "is" : "are");
	}
	vms_user_totals_free(&t);
	if (types)
		print_type_totals(&tt);
	vms_type_totals_free(&tt);
	return VMS_EXIT_OK;
}

static void files_usage(FILE *f)
{
	fprintf(
	    f, "usage: vmscope files [PATTERN] [--path PATH] [--user USER] [--procs] [--limit N] [--json]\n\n"
	       "Mapped files (libraries, executables, data files, memfd) over every process you can\n"
	       "read, largest Pss first, as smem -m: Pss (adds up: the RAM the file's pages take),\n"
	       "Rss (counted once per process), Uss (pages one process alone maps), swap, and how\n"
	       "many processes map it. Sizes in KiB.\n"
	       "  PATTERN      only files whose path contains it (e.g. libssl); the processes\n"
	       "               that map each are listed under it (who uses libssl, how much)\n"
	       "  --path PATH  only the file with exactly this path, with its processes\n"
	       "  --user USER  only USER's processes\n"
	       "  --procs      list the processes under every file\n"
	       "  --limit N    at most N files (default: all)\n"
	       "  --json       JSON on stdout (sizes in bytes)\n"
	       "Cost: reads /proc/PID/smaps (walks page tables); with PATTERN or --path only of the\n"
	       "processes whose /proc/PID/maps mentions it.\n");
}

int vms_cmd_files(int argc, char **argv)
{
	int json = 0, procs = 0, rc = VMS_EXIT_OK;
	long limit = 0;
	struct vms_mapped_files_opts o = {0};
	const char *limit_text = NULL;
	const struct vms_cli_opt opt[] = {{"json", 'j', &json, NULL},      {"procs", 0, &procs, NULL},
	                                  {"path", 0, NULL, &o.path},      {"user", 0, NULL, &o.user},
	                                  {"limit", 0, NULL, &limit_text}, {NULL, 0, NULL, NULL}};
	int done = vms_cli_parse(argc, argv, opt, files_usage);
	if (done >= 0)
		return done;
	if (limit_text) {
		char *end;
		limit = strtol(limit_text, &end, 10);
		if (*end || end == limit_text || limit <= 0) {
			fprintf(stderr, "vmscope files: --limit takes a count above 0\n");
			return VMS_EXIT_USAGE;
		}
	}
	if (optind < argc)
		o.match = argv[optind++];
	if (optind < argc || (o.match && !*o.match) || (o.path && !*o.path)) {
		fprintf(stderr, "vmscope files: %s\n",
		        optind < argc ? "one PATTERN at most"
		                      : "an empty pattern matches everything: leave it out");
		files_usage(stderr);
		return VMS_EXIT_USAGE;
	}
	if (o.match || o.path)
		procs = 1;
	struct vms_mapped_files f;
	int err = vms_mapped_files_read(&o, &f);
	if (err) {
		fprintf(stderr, "vmscope files: %s\n", vms_strerror(err));
		return vms_exit_for_err(err);
	}
	size_t shown = limit && (size_t)limit < f.n ? (size_t)limit : f.n;
	if (json) {
		rc = print_json("files", vms_json_mapped_files(&f, shown, 0));
		vms_mapped_files_free(&f);
		return rc;
	}
	printf("%12s %12s %12s %10s %6s  %s\n", "PSS(KiB)", "RSS(KiB)", "USS(KiB)", "SWAP(KiB)", "PROCS",
	       "FILE");
	for (size_t i = 0; i < shown; i++) {
		const struct vms_mapped_file *m = &f.files[i];
		char *path = vms_text_escape(m->path);
		printf("%12llu %12llu %12llu %10llu %6zu  %s%s\n", kib(m->pss), kib(m->rss), kib(m->uss),
		       kib(m->swap), m->n_procs, path ? path : "?", m->deleted ? " (deleted)" : "");
		free(path);
		for (size_t k = 0; procs && k < m->n_procs; k++) {
			const struct vms_file_user *u = &m->procs[k];
			char *name = vms_text_escape(u->name), *user = vms_text_escape(u->user);
			printf("%12llu %12llu %12llu %10llu %6s    pid %d %s (%s)\n", kib(u->pss),
			       kib(u->rss), kib(u->uss), kib(u->swap), "", (int)u->pid, name ? name : "?",
			       user ? user : "?");
			free(name);
			free(user);
		}
	}
	printf("%12llu %12llu %12s %10s %6s  total: %zu files over %zu processes", kib(f.pss), kib(f.rss), "",
	       "", "", f.n, f.n_procs_read);
	if (f.n_unreadable)
		printf(" (%zu process%s you cannot read %s not counted)", f.n_unreadable,
		       f.n_unreadable == 1 ? "" : "es", f.n_unreadable == 1 ? "is" : "are");
	printf("\n");
	vms_mapped_files_free(&f);
	return rc;
}
