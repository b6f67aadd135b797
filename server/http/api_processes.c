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

/* The ?sort= keys: each names one field of struct vms_proc and how it compares. */
enum sort_kind { K_INT, K_U64, K_TEXT, K_TEXT_ANYCASE };
static const struct sort_key {
	const char *name;
	enum sort_kind kind;
	size_t off; /* offsetof the field: an int (K_INT), uint64_t (K_U64) or char * (K_TEXT*) */
} sort_keys[] = {
    {"pid", K_INT, offsetof(struct vms_proc, pid)},
    {"name", K_TEXT_ANYCASE, offsetof(struct vms_proc, name)},
    {"user", K_TEXT, offsetof(struct vms_proc, user)},
    {"rss", K_U64, offsetof(struct vms_proc, vm_rss)},
    {"size", K_U64, offsetof(struct vms_proc, vm_size)},
    {"swap", K_U64, offsetof(struct vms_proc, vm_swap)},
    {"pss", K_U64, offsetof(struct vms_proc, pss)},
    {"uss", K_U64, offsetof(struct vms_proc, uss)},
    {"start", K_U64, offsetof(struct vms_proc, start_time)},
    {"threads", K_INT, offsetof(struct vms_proc, threads)},
};
_Static_assert(sizeof(pid_t) == sizeof(int), "pid is read as an int");

struct sort_spec {
	const struct sort_key *key;
	int desc;
};

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

/* Compare a's and b's field k (a NULL text sorts as ""). */
static int cmp_field(const struct vms_proc *a, const struct vms_proc *b, const struct sort_key *k)
{
	const char *fa = (const char *)a + k->off, *fb = (const char *)b + k->off;
	int ia, ib;
	uint64_t ua, ub;
	const char *ta, *tb;
	switch (k->kind) {
	case K_INT:
		memcpy(&ia, fa, sizeof ia);
		memcpy(&ib, fb, sizeof ib);
		return ia < ib ? -1 : ia > ib;
	case K_U64:
		memcpy(&ua, fa, sizeof ua);
		memcpy(&ub, fb, sizeof ub);
		return cmp_u64(ua, ub);
	case K_TEXT:
	case K_TEXT_ANYCASE:
		memcpy(&ta, fa, sizeof ta);
		memcpy(&tb, fb, sizeof tb);
		ta = ta ? ta : "";
		tb = tb ? tb : "";
		return k->kind == K_TEXT ? strcmp(ta, tb) : strcasecmp(ta, tb);
	}
	return 0;
}

/* By the spec's key, then by pid. */
static int cmp_proc(const void *va, const void *vb, void *arg)
{
	const struct vms_proc *a = va, *b = vb;
	const struct sort_spec *s = arg;
	int c = cmp_field(a, b, s->key);
	if (c == 0)
		c = cmp_u64((uint64_t)a->pid, (uint64_t)b->pid);
	return s->desc ? -c : c;
}

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
	char q[256], user[64], sort[24], rollup[8];
	struct sort_spec spec = {&sort_keys[0], 0};
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
		const char *k = sort;
		if (n < 0)
			return vms_send_error(r, 400, "bad_query", "unknown ?sort= key");
		if (*k == '-') {
			spec.desc = 1;
			k++;
		}
		size_t i = 0, n_keys = sizeof sort_keys / sizeof sort_keys[0];
		while (i < n_keys && strcmp(k, sort_keys[i].name))
			i++;
		if (i == n_keys)
			return vms_send_error(
			    r, 400, "bad_query",
			    "unknown ?sort= key (pid, name, user, rss, size, swap, pss, uss, start, "
			    "threads; prefix - for descending)");
		spec.key = &sort_keys[i];
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
	if (view.n)
		qsort_r(view.procs, view.n, sizeof *view.procs, cmp_proc, &spec);

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
