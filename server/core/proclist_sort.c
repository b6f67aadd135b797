/* Sorting the process list by one of its fields (the API's ?sort= and `vmscope ps --sort`). */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vmscope/error.h"
#include "vmscope/proclist.h"

/* The sort keys: each names one field of struct vms_proc and how it compares. */
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

int vms_proclist_sort(struct vms_proc *procs, size_t n, const char *key)
{
	struct sort_spec spec = {NULL, 0};
	if (!key)
		return VMS_ERR_INVALID;
	if (*key == '-') {
		spec.desc = 1;
		key++;
	}
	for (size_t i = 0; i < sizeof sort_keys / sizeof *sort_keys; i++)
		if (!strcmp(key, sort_keys[i].name))
			spec.key = &sort_keys[i];
	if (!spec.key)
		return VMS_ERR_INVALID;
	if (n)
		qsort_r(procs, n, sizeof *procs, cmp_proc, &spec);
	return VMS_OK;
}
