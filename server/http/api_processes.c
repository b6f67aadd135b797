/* /api/v1/processes: the process list (filter, sort), a live scan of one process (not stored)
 * and what is at an address in a live process. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "http_internal.h"
#include "vmscope/error.h"
#include "vmscope/imageinfo.h"
#include "vmscope/json.h"
#include "vmscope/proclist.h"

/* ?q= matches the pid exactly (when all digits) or a substring of name / cmdline, any case. */
static int matches(const struct vms_proc *p, const char *q, const char *user)
{
	if (user && strcmp(p->user ? p->user : "", user) != 0)
		return 0;
	if (!q)
		return 1;
	int64_t v;
	if (vms_parse_i64(q, 0, INT64_MAX, &v) == 0 && v == p->pid)
		return 1;
	return (p->name && strcasestr(p->name, q)) || (p->cmdline && strcasestr(p->cmdline, q));
}

int vms_h_processes(struct vms_req *r)
{
	char q[256], user[64], sort[24] = "pid", rollup[8];
	struct vms_proclist_opts opts = {0};
	struct vms_proclist all = {0}, view = {0};
	int n, locked = 0;

	if ((n = vms_query(r, "q", q, sizeof q)) == -2)
		return vms_send_error(r, 400, "bad_query", "?q= is too long");
	const char *qp = n > 0 ? q : NULL;
	if ((n = vms_query(r, "user", user, sizeof user)) == -2)
		return vms_send_error(r, 400, "bad_query", "?user= is too long");
	const char *up = n > 0 ? user : NULL;
	if ((n = vms_query(r, "sort", sort, sizeof sort)) != -1) {
		struct vms_proc none;
		if (n < 0 || vms_proclist_sort(&none, 0, sort) != VMS_OK)
			return vms_send_error(r, 400, "bad_query",
			                      "unknown ?sort= key (" VMS_PROCLIST_SORT_KEYS
			                      "; prefix - for descending)");
	}
	if ((n = vms_query(r, "rollup", rollup, sizeof rollup)) != -1) {
		if (!strcmp(rollup, "1") || !strcmp(rollup, "true"))
			opts.with_rollup = 1;
		else if (strcmp(rollup, "0") && strcmp(rollup, "false"))
			return vms_send_error(r, 400, "bad_query", "?rollup= takes 1 or 0");
	}
	/* With rollup every process's page tables are walked: as costly as a scan. */
	if (opts.with_rollup) {
		int st = vms_scan_begin(r);
		if (st)
			return st;
		locked = 1;
	}
	int err = vms_proclist_read(&opts, &all);
	if (locked)
		vms_scan_end(r);
	if (err != VMS_OK)
		return vms_send_vms_err(r, err, 0);

	if (all.n && !(view.procs = malloc(all.n * sizeof *view.procs))) {
		vms_proclist_free(&all);
		return vms_send_error(r, 503, "out_of_memory", "out of memory");
	}
	for (size_t i = 0; i < all.n; i++)
		if (matches(&all.procs[i], qp, up))
			view.procs[view.n++] = all.procs[i]; /* shallow: strings stay owned by `all` */
	vms_proclist_sort(view.procs, view.n, sort);

	cJSON *root = vms_json_proclist(&view);
	if (root) {
		cJSON_AddNumberToObject(root, "total", (double)all.n);
		cJSON_AddNumberToObject(root, "daemon_uid", (double)geteuid());
	}
	free(view.procs);
	vms_proclist_free(&all);
	return vms_send_json(r, 200, root);
}

int vms_h_process(struct vms_req *r)
{
	struct vms_snapshot *s = NULL;
	int pid, st, peek = 1;
	if ((st = vms_param_pid(r, r->param[0], &pid)) != 0 || (st = vms_query_bool(r, "peek", &peek)) != 0 ||
	    (st = vms_scan(r, pid, peek, &s)) != 0)
		return st;
	st = vms_send_snapshot(r, s, NULL);
	vms_snapshot_free(s);
	return st;
}
