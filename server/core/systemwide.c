/* System memory by area (/proc/meminfo, smem -w) and process totals by user (smem -u). */
#include "vmscope/systemwide.h"

#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "vmscope/error.h"
#include "vmscope/util.h"

static const struct meminfo_key {
	const char *key;
	size_t off;
} meminfo_keys[] = {
    {"MemTotal", offsetof(struct vms_meminfo, mem_total)},
    {"MemFree", offsetof(struct vms_meminfo, mem_free)},
    {"MemAvailable", offsetof(struct vms_meminfo, mem_available)},
    {"Buffers", offsetof(struct vms_meminfo, buffers)},
    {"Cached", offsetof(struct vms_meminfo, cached)},
    {"SwapCached", offsetof(struct vms_meminfo, swap_cached)},
    {"AnonPages", offsetof(struct vms_meminfo, anon_pages)},
    {"Mapped", offsetof(struct vms_meminfo, mapped)},
    {"Shmem", offsetof(struct vms_meminfo, shmem)},
    {"SReclaimable", offsetof(struct vms_meminfo, slab_reclaimable)},
    {"SUnreclaim", offsetof(struct vms_meminfo, slab_unreclaimable)},
    {"KernelStack", offsetof(struct vms_meminfo, kernel_stack)},
    {"PageTables", offsetof(struct vms_meminfo, page_tables)},
    {"SwapTotal", offsetof(struct vms_meminfo, swap_total)},
    {"SwapFree", offsetof(struct vms_meminfo, swap_free)},
};

static void meminfo_line(void *cookie, const char *key, size_t klen, const char *q, const char *eol)
{
	for (size_t i = 0; i < sizeof meminfo_keys / sizeof *meminfo_keys; i++) {
		if (strlen(meminfo_keys[i].key) != klen || memcmp(meminfo_keys[i].key, key, klen))
			continue;
		uint64_t v = 0;
		while (q < eol && *q >= '0' && *q <= '9' && v < UINT64_MAX / 10240)
			v = v * 10 + (uint64_t)(*q++ - '0');
		uint64_t bytes = v * 1024; /* every key we read is in kB */
		memcpy((char *)cookie + meminfo_keys[i].off, &bytes, sizeof bytes);
		return;
	}
}

void vms_meminfo_parse(const char *buf, size_t len, struct vms_meminfo *m)
{
	memset(m, 0, sizeof *m);
	vms_each_key_line(buf, len, meminfo_line, m);
}

int vms_meminfo_read(struct vms_meminfo *m)
{
	struct vms_buf b = {0};
	int rc = vms_buf_read_file(AT_FDCWD, "/proc/meminfo", 1 << 20, &b);
	if (rc == 0)
		vms_meminfo_parse(b.data, b.len, m);
	free(b.data);
	return rc == 0 ? VMS_OK : VMS_ERR_IO;
}

static uint64_t sub0(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

void vms_areas(const struct vms_meminfo *m, struct vms_area_row out[VMS_AREA_COUNT])
{
	uint64_t user = m->anon_pages + m->mapped;
	out[VMS_AREA_KERNEL] = (struct vms_area_row){
	    "kernel", "kernel dynamic memory", sub0(sub0(m->mem_total, m->mem_free), user),
	    m->buffers + m->slab_reclaimable + sub0(m->cached, m->mapped)};
	out[VMS_AREA_USER] = (struct vms_area_row){"userspace", "userspace memory", user, m->mapped};
	out[VMS_AREA_FREE] = (struct vms_area_row){"free", "free memory", m->mem_free, m->mem_free};
	/* cache can pass used when meminfo's lines were read at different instants */
	for (int i = 0; i < VMS_AREA_COUNT; i++)
		if (out[i].cache > out[i].used)
			out[i].cache = out[i].used;
}

void vms_user_totals_free(struct vms_user_totals *t)
{
	for (size_t i = 0; t && i < t->n; i++)
		free(t->users[i].user);
	if (t) {
		free(t->users);
		*t = (struct vms_user_totals){0};
	}
}

static void add_proc(struct vms_user_total *u, const struct vms_proc *p)
{
	u->n_procs++;
	u->rss += p->vm_rss;
	u->pss += p->pss;
	u->uss += p->uss;
	u->swap += p->vm_swap;
	u->swap_pss += p->swap_pss;
}

static int by_pss_desc(const void *va, const void *vb)
{
	const struct vms_user_total *a = va, *b = vb;
	if (a->pss != b->pss)
		return a->pss < b->pss ? 1 : -1;
	return a->uid < b->uid ? -1 : a->uid > b->uid;
}

int vms_user_totals(const struct vms_proclist *l, const char *user, struct vms_user_totals *out)
{
	size_t cap = 0;
	memset(out, 0, sizeof *out);
	out->all.uid = (uid_t)-1;
	for (size_t i = 0; i < l->n; i++) {
		const struct vms_proc *p = &l->procs[i];
		if (user && strcmp(p->user ? p->user : "", user))
			continue;
		if (!p->has_rollup) {
			out->n_unreadable += !p->kernel_thread; /* a kernel thread has no memory of its own */
			continue;
		}
		size_t k = 0;
		while (k < out->n && out->users[k].uid != p->uid)
			k++;
		if (k == out->n) {
			if (VMS_GROW(out->users, out->n, cap, 16))
				goto oom;
			memset(&out->users[k], 0, sizeof out->users[k]);
			out->users[k].uid = p->uid;
			if (!(out->users[k].user = strdup(p->user ? p->user : "?")))
				goto oom;
			out->n++;
		}
		add_proc(&out->users[k], p);
		add_proc(&out->all, p);
	}
	if (out->n)
		qsort(out->users, out->n, sizeof *out->users, by_pss_desc);
	return VMS_OK;
oom:
	vms_user_totals_free(out);
	return VMS_ERR_NOMEM;
}
