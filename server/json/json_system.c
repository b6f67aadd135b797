/* JSON of the views across processes (contract in include/vmscope/json_system.h). */
#include "vmscope/json_system.h"

#include <stdio.h>

/* Builders that note a failed allocation in *oom and go on as no-ops. */
static cJSON *obj(int *oom, cJSON *parent, const char *key)
{
	cJSON *o = cJSON_CreateObject();
	if (!o ||
	    (parent && (key ? !cJSON_AddItemToObject(parent, key, o) : !cJSON_AddItemToArray(parent, o)))) {
		cJSON_Delete(o);
		*oom = 1;
		return NULL;
	}
	return o;
}

static cJSON *arr(int *oom, cJSON *parent, const char *key)
{
	cJSON *a = parent ? cJSON_AddArrayToObject(parent, key) : NULL;
	if (!a)
		*oom = 1;
	return a;
}

static void num(int *oom, cJSON *o, const char *key, double v)
{
	if (o && !cJSON_AddNumberToObject(o, key, v))
		*oom = 1;
}

static void str(int *oom, cJSON *o, const char *key, const char *s)
{
	if (o && !cJSON_AddStringToObject(o, key, s ? s : ""))
		*oom = 1;
}

static cJSON *done(int oom, cJSON *root)
{
	if (oom) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

static void put_user(int *oom, cJSON *o, const struct vms_user_total *u)
{
	str(oom, o, "user", u->user ? u->user : "total");
	if (u->user)
		num(oom, o, "uid", u->uid);
	num(oom, o, "processes", (double)u->n_procs);
	num(oom, o, "rss", (double)u->rss);
	num(oom, o, "pss", (double)u->pss);
	num(oom, o, "uss", (double)u->uss);
	num(oom, o, "swap", (double)u->swap);
	num(oom, o, "swap_pss", (double)u->swap_pss);
}

cJSON *vms_json_system(const struct vms_meminfo *m, const struct vms_user_totals *users)
{
	int oom = 0;
	cJSON *root = obj(&oom, NULL, NULL);
	if (!root)
		return NULL;
	cJSON *mi = obj(&oom, root, "meminfo");
	num(&oom, mi, "mem_total", (double)m->mem_total);
	num(&oom, mi, "mem_free", (double)m->mem_free);
	num(&oom, mi, "mem_available", (double)m->mem_available);
	num(&oom, mi, "buffers", (double)m->buffers);
	num(&oom, mi, "cached", (double)m->cached);
	num(&oom, mi, "anon_pages", (double)m->anon_pages);
	num(&oom, mi, "mapped", (double)m->mapped);
	num(&oom, mi, "shmem", (double)m->shmem);
	num(&oom, mi, "slab_reclaimable", (double)m->slab_reclaimable);
	num(&oom, mi, "slab_unreclaimable", (double)m->slab_unreclaimable);
	num(&oom, mi, "kernel_stack", (double)m->kernel_stack);
	num(&oom, mi, "page_tables", (double)m->page_tables);
	num(&oom, mi, "swap_total", (double)m->swap_total);
	num(&oom, mi, "swap_free", (double)m->swap_free);
	struct vms_area_row rows[VMS_AREA_COUNT];
	vms_areas(m, rows);
	cJSON *a = arr(&oom, root, "areas");
	for (int i = 0; i < VMS_AREA_COUNT && !oom; i++) {
		cJSON *e = obj(&oom, a, NULL);
		str(&oom, e, "key", rows[i].key);
		str(&oom, e, "name", rows[i].name);
		num(&oom, e, "used", (double)rows[i].used);
		num(&oom, e, "cache", (double)rows[i].cache);
		num(&oom, e, "noncache", (double)(rows[i].used - rows[i].cache));
	}
	if (!users) {
		if (!cJSON_AddNullToObject(root, "users") || !cJSON_AddNullToObject(root, "total") ||
		    !cJSON_AddNullToObject(root, "unreadable"))
			oom = 1;
		return done(oom, root);
	}
	cJSON *u = arr(&oom, root, "users");
	for (size_t i = 0; i < users->n && !oom; i++)
		put_user(&oom, obj(&oom, u, NULL), &users->users[i]);
	put_user(&oom, obj(&oom, root, "total"), &users->all);
	num(&oom, root, "unreadable", (double)users->n_unreadable);
	return done(oom, root);
}

cJSON *vms_json_mapped_files(const struct vms_mapped_files *f, size_t limit, size_t per_file)
{
	int oom = 0;
	cJSON *root = obj(&oom, NULL, NULL);
	if (!root)
		return NULL;
	size_t shown = limit && limit < f->n ? limit : f->n;
	num(&oom, root, "count", (double)f->n);
	num(&oom, root, "shown", (double)shown);
	num(&oom, root, "pss", (double)f->pss);
	num(&oom, root, "rss", (double)f->rss);
	num(&oom, root, "processes_read", (double)f->n_procs_read);
	num(&oom, root, "unreadable", (double)f->n_unreadable);
	cJSON *files = arr(&oom, root, "files");
	for (size_t i = 0; i < shown && !oom; i++) {
		const struct vms_mapped_file *m = &f->files[i];
		cJSON *e = obj(&oom, files, NULL);
		char dev[24];
		snprintf(dev, sizeof dev, "%02x:%02x", m->dev_major, m->dev_minor);
		str(&oom, e, "path", m->path);
		str(&oom, e, "dev", dev);
		num(&oom, e, "inode", (double)m->inode);
		if (e && !cJSON_AddBoolToObject(e, "deleted", m->deleted))
			oom = 1;
		num(&oom, e, "n_procs", (double)m->n_procs);
		num(&oom, e, "rss", (double)m->rss);
		num(&oom, e, "pss", (double)m->pss);
		num(&oom, e, "uss", (double)m->uss);
		num(&oom, e, "swap", (double)m->swap);
		cJSON *ps = arr(&oom, e, "processes");
		size_t np = per_file && per_file < m->n_procs ? per_file : m->n_procs;
		for (size_t k = 0; k < np && !oom; k++) {
			const struct vms_file_user *u = &m->procs[k];
			cJSON *pe = obj(&oom, ps, NULL);
			num(&oom, pe, "pid", u->pid);
			str(&oom, pe, "name", u->name);
			str(&oom, pe, "user", u->user);
			num(&oom, pe, "n_maps", u->n_maps);
			num(&oom, pe, "size", (double)u->size);
			num(&oom, pe, "rss", (double)u->rss);
			num(&oom, pe, "pss", (double)u->pss);
			num(&oom, pe, "uss", (double)u->uss);
			num(&oom, pe, "swap", (double)u->swap);
		}
	}
	return done(oom, root);
}

/* Every column of a type row (vms_col_key names) and its allocation count. */
static void put_cols(int *oom, cJSON *o, const uint64_t cols[VMS_COL_COUNT], uint64_t blocks)
{
	for (int c = 0; c < VMS_COL_COUNT; c++)
		num(oom, o, vms_col_key((enum vms_col)c), (double)cols[c]);
	num(oom, o, "blocks", (double)blocks);
}

int vms_json_add_type_totals(cJSON *root, const struct vms_type_totals *t)
{
	int oom = 0;
	uint64_t blocks = 0;
	cJSON *bt = obj(&oom, root, "by_type");
	cJSON *types = arr(&oom, bt, "types");
	for (int ty = 0; ty < VMS_TYPE_COUNT && !oom; ty++) {
		if (ty == VMS_TYPE_FREE)
			continue;
		cJSON *e = obj(&oom, types, NULL);
		str(&oom, e, "type", vms_type_name((enum vms_type)ty));
		str(&oom, e, "key", vms_type_key((enum vms_type)ty));
		put_cols(&oom, e, t->cols[ty], t->blocks[ty]);
		blocks += t->blocks[ty];
	}
	put_cols(&oom, obj(&oom, bt, "total"), t->total, blocks);
	num(&oom, bt, "processes_read", (double)t->n_procs);
	num(&oom, bt, "unreadable", (double)t->n_unreadable);
	num(&oom, bt, "gone", (double)t->n_gone);
	cJSON *ps = arr(&oom, bt, "processes");
	for (size_t i = 0; i < t->n_procs && !oom; i++) {
		cJSON *e = obj(&oom, ps, NULL);
		num(&oom, e, "pid", t->procs[i].pid);
		str(&oom, e, "name", t->procs[i].name);
		num(&oom, e, "pss", (double)t->procs[i].pss);
	}
	return oom ? -1 : 0;
}
