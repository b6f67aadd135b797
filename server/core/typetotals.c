/* Totals by VMMap type over processes (contract in include/vmscope/systemwide.h). Each process
 * is a full scan (smaps walks its page tables), so this is the costly view across processes:
 * asked for, never part of the cheap ones. */
#include <stdlib.h>
#include <string.h>

#include "vmscope/error.h"
#include "vmscope/filecache.h"
#include "vmscope/systemwide.h"
#include "vmscope/util.h"

void vms_type_totals_free(struct vms_type_totals *t)
{
	for (size_t i = 0; t && i < t->n_procs; i++)
		free(t->procs[i].name);
	if (t) {
		free(t->procs);
		*t = (struct vms_type_totals){0};
	}
}

/* Add one process's snapshot to t. VMS_OK or VMS_ERR_NOMEM. */
static int add_snapshot(struct vms_type_totals *t, size_t *cap, const struct vms_snapshot *s)
{
	if (VMS_GROW(t->procs, t->n_procs, *cap, 64))
		return VMS_ERR_NOMEM;
	struct vms_type_proc *p = &t->procs[t->n_procs];
	*p = (struct vms_type_proc){.pid = s->pid, .name = strdup(s->name ? s->name : "")};
	if (!p->name)
		return VMS_ERR_NOMEM;
	t->n_procs++;
	for (int ty = 0; ty < VMS_TYPE_COUNT; ty++) {
		if (ty == VMS_TYPE_FREE)
			continue;
		for (int c = 0; c < VMS_COL_COUNT; c++) {
			t->cols[ty][c] += s->summary[ty].cols[c];
			t->total[c] += s->summary[ty].cols[c];
		}
		t->blocks[ty] += s->summary[ty].blocks;
		p->pss += s->summary[ty].cols[VMS_COL_PSS];
	}
	return VMS_OK;
}

int vms_type_totals_read(const struct vms_proclist *l, const char *user, struct vms_type_totals *out)
{
	size_t cap = 0;
	int err = VMS_OK;
	memset(out, 0, sizeof *out);
	/* the options of `vmscope snapshot` (so a process's types are those of its snapshot) but
	 * no smaps_rollup; the ELF headers of libraries every process maps are read once */
	struct vms_snapshot_opts opts = {.thread_stacks = 1, .file_cache = vms_file_cache_new(0)};
	if (!opts.file_cache)
		return VMS_ERR_NOMEM;
	for (size_t i = 0; i < l->n && !err; i++) {
		const struct vms_proc *p = &l->procs[i];
		if (p->kernel_thread || (user && strcmp(p->user ? p->user : "", user)))
			continue;
		if (!p->maps_readable) {
			out->n_unreadable++;
			continue;
		}
		struct vms_snapshot *s = NULL;
		int e = vms_snapshot_take(p->pid, &opts, &s);
		if (e == VMS_ERR_NOMEM)
			err = e;
		else if (e == VMS_ERR_PERMISSION)
			out->n_unreadable++;
		else if (e)
			out->n_gone++; /* exited, a zombie now, or its smaps vanished mid-read */
		else
			err = add_snapshot(out, &cap, s);
		vms_snapshot_free(s);
	}
	vms_file_cache_free(opts.file_cache);
	if (err)
		vms_type_totals_free(out);
	return err;
}
