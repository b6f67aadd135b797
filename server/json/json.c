/* Snapshot, process list, diff and lookup -> cJSON trees (docs/snapshot-format.md).
 *
 * Numbers: every 64-bit quantity is written as a raw cJSON item holding its exact decimal
 * text, because cJSON keeps numbers as doubles (exact only below 2^53). Addresses are "0x..."
 * strings. Strings that are not well-formed UTF-8 (file names are bytes) get U+FFFD for each
 * bad byte so that the output is valid JSON. Object keys are static strings added with
 * cJSON_AddItemToObjectCS (no copy).
 *
 * Allocation failures are sticky in struct jb: builders keep going as no-ops and the public
 * function deletes the partial tree and returns NULL at the end. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "textutil.h"
#include "vmscope/json.h"

#ifndef VMSCOPE_VERSION
#define VMSCOPE_VERSION "0.0.0"
#endif

struct jb {
	int oom;
};

/* Attach item to parent (object when key != NULL, else array). Takes ownership of item in
 * every case. Returns item, or NULL after recording the failure. */
static cJSON *put(struct jb *b, cJSON *parent, const char *key, cJSON *item)
{
	if (!item) {
		b->oom = 1;
		return NULL;
	}
	if (!parent) {
		cJSON_Delete(item);
		b->oom = 1;
		return NULL;
	}
	cJSON_bool ok = key ? cJSON_AddItemToObjectCS(parent, key, item) : cJSON_AddItemToArray(parent, item);
	if (!ok) {
		cJSON_Delete(item);
		b->oom = 1;
		return NULL;
	}
	return item;
}

static void put_u64(struct jb *b, cJSON *o, const char *key, uint64_t v)
{
	char buf[24];
	snprintf(buf, sizeof buf, "%" PRIu64, v);
	put(b, o, key, cJSON_CreateRaw(buf));
}

static void put_i64(struct jb *b, cJSON *o, const char *key, int64_t v)
{
	char buf[24];
	snprintf(buf, sizeof buf, "%" PRId64, v);
	put(b, o, key, cJSON_CreateRaw(buf));
}

static void put_addr(struct jb *b, cJSON *o, const char *key, uint64_t v)
{
	char buf[24];
	snprintf(buf, sizeof buf, "0x%" PRIx64, v);
	put(b, o, key, cJSON_CreateString(buf));
}

static void put_bool(struct jb *b, cJSON *o, const char *key, int v)
{
	put(b, o, key, cJSON_CreateBool(v != 0));
}

static void put_null(struct jb *b, cJSON *o, const char *key)
{
	put(b, o, key, cJSON_CreateNull());
}

/* String or null (s == NULL), repaired to valid UTF-8 when needed. */
static cJSON *make_string(const char *s)
{
	if (!s)
		return cJSON_CreateNull();
	if (vms_utf8_valid(s))
		return cJSON_CreateString(s);
	char *fixed = vms_utf8_repair(s);
	if (!fixed)
		return NULL;
	cJSON *j = cJSON_CreateString(fixed);
	free(fixed);
	return j;
}

static void put_str(struct jb *b, cJSON *o, const char *key, const char *s)
{
	put(b, o, key, make_string(s));
}

static cJSON *put_obj(struct jb *b, cJSON *o, const char *key)
{
	return put(b, o, key, cJSON_CreateObject());
}

static cJSON *put_arr(struct jb *b, cJSON *o, const char *key)
{
	return put(b, o, key, cJSON_CreateArray());
}

static void put_columns(struct jb *b, cJSON *o, const char *key, const uint64_t cols[VMS_COL_COUNT])
{
	cJSON *c = put_obj(b, o, key);
	for (int i = 0; i < VMS_COL_COUNT; i++)
		put_u64(b, c, vms_col_key((enum vms_col)i), cols[i]);
}

static void put_deltas(struct jb *b, cJSON *o, const char *key, const int64_t d[VMS_COL_COUNT])
{
	cJSON *c = put_obj(b, o, key);
	for (int i = 0; i < VMS_COL_COUNT; i++)
		put_i64(b, c, vms_col_key((enum vms_col)i), d[i]);
}

static void put_time(struct jb *b, cJSON *o, const char *key, const char *key_ms, int64_t ms)
{
	char buf[40];
	vms_format_time_ms(ms, buf, sizeof buf);
	put_str(b, o, key, buf);
	put_i64(b, o, key_ms, ms);
}

/* ---- snapshot pieces ---------------------------------------------------------------- */

static void put_summary(struct jb *b, cJSON *o, const struct vms_snapshot *s)
{
	cJSON *arr = put_arr(b, o, "summary");
	for (int t = 0; t < VMS_TYPE_COUNT; t++) {
		const struct vms_type_summary *ts = &s->summary[t];
		cJSON *e = put_obj(b, arr, NULL);
		put_str(b, e, "type", vms_type_key((enum vms_type)t));
		put_str(b, e, "name", vms_type_name((enum vms_type)t));
		put_u64(b, e, "blocks", ts->blocks);
		put_u64(b, e, "largest", ts->largest);
		put_u64(b, e, "regions", ts->regions);
		put_columns(b, e, "columns", ts->cols);
	}
	put_columns(b, o, "total", s->total);
}

static void put_region_body(struct jb *b, cJSON *e, const struct vms_region *r)
{
	char dev[24];

	put_addr(b, e, "start", r->start);
	put_addr(b, e, "end", r->end);
	put_u64(b, e, "size", r->end - r->start);
	put_str(b, e, "perms", r->perms);
	put_addr(b, e, "offset", r->offset);
	snprintf(dev, sizeof dev, "%02x:%02x", r->dev_major, r->dev_minor);
	put_str(b, e, "dev", dev);
	put_u64(b, e, "inode", r->inode);
	put_str(b, e, "path", r->path);
	put_bool(b, e, "deleted", r->deleted);
	put_str(b, e, "role", r->role);
	cJSON *sm = put_obj(b, e, "smaps");
	for (int f = 0; f < VMS_SF_COUNT; f++)
		put_u64(b, sm, vms_smaps_field_key((enum vms_smaps_field)f), r->smaps[f]);
	if (r->thp_eligible < 0)
		put_null(b, e, "thp_eligible");
	else
		put_i64(b, e, "thp_eligible", r->thp_eligible);
	if (r->protection_key < 0)
		put_null(b, e, "protection_key");
	else
		put_i64(b, e, "protection_key", r->protection_key);
	put_str(b, e, "vm_flags", r->vm_flags ? r->vm_flags : "");
	put_columns(b, e, "columns", r->cols);
}

static void put_allocation_head(struct jb *b, cJSON *e, const struct vms_allocation *a)
{
	put_addr(b, e, "start", a->start);
	put_addr(b, e, "end", a->end);
	put_u64(b, e, "size", a->end - a->start);
	put_str(b, e, "type", vms_type_key(a->type));
	put_str(b, e, "details", a->details);
	put_i64(b, e, "tid", a->tid);
}

static void put_allocations(struct jb *b, cJSON *o, const struct vms_snapshot *s)
{
	cJSON *arr = put_arr(b, o, "allocations");
	for (size_t i = 0; i < s->n_allocations && !b->oom; i++) {
		const struct vms_allocation *a = &s->allocations[i];
		cJSON *e = put_obj(b, arr, NULL);
		put_allocation_head(b, e, a);
		put_columns(b, e, "columns", a->cols);
		cJSON *regs = put_arr(b, e, "regions");
		for (uint32_t k = 0; k < a->n_regions; k++) {
			size_t ri = (size_t)a->first_region + k;
			if (ri >= s->n_regions)
				break; /* malformed snapshot: never read past the array */
			put_region_body(b, put_obj(b, regs, NULL), &s->regions[ri]);
		}
	}
}

static void put_status(struct jb *b, cJSON *o, const struct vms_status *st)
{
	cJSON *e = put_obj(b, o, "status");
	for (size_t i = 0; i < VMS_STATUS_NFIELDS; i++)
		put_u64(b, e, vms_status_fields[i].key, VMS_STATUS_FIELD(st, i));
	put_i64(b, e, "threads", st->threads);
}

static void put_rollup(struct jb *b, cJSON *o, const struct vms_snapshot *s)
{
	if (!s->has_rollup) {
		put_null(b, o, "rollup");
		return;
	}
	cJSON *e = put_obj(b, o, "rollup");
	for (int f = 0; f < VMS_SF_COUNT; f++) {
		if (f == VMS_SF_SIZE || f == VMS_SF_KERNEL_PAGE_SIZE || f == VMS_SF_MMU_PAGE_SIZE)
			continue;
		put_u64(b, e, vms_smaps_field_key((enum vms_smaps_field)f), s->rollup[f]);
	}
}

static void put_threads(struct jb *b, cJSON *o, const struct vms_snapshot *s)
{
	cJSON *arr = put_arr(b, o, "threads");
	for (size_t i = 0; i < s->n_threads && !b->oom; i++) {
		const struct vms_thread *t = &s->threads[i];
		cJSON *e = put_obj(b, arr, NULL);
		put_i64(b, e, "tid", t->tid);
		put_str(b, e, "name", t->name);
		put_addr(b, e, "sp", t->sp);
		put_i64(b, e, "stack_allocation", t->stack_allocation);
	}
}

static void put_gaps(struct jb *b, cJSON *o, const struct vms_snapshot *s)
{
	cJSON *arr = put_arr(b, o, "free");
	for (size_t i = 0; i < s->n_gaps && !b->oom; i++) {
		cJSON *e = put_obj(b, arr, NULL);
		put_addr(b, e, "start", s->gaps[i].start);
		put_addr(b, e, "end", s->gaps[i].end);
		put_u64(b, e, "size", s->gaps[i].end - s->gaps[i].start);
	}
}

static void put_process(struct jb *b, cJSON *o, const struct vms_snapshot *s, int omit_cmdline)
{
	cJSON *p = put_obj(b, o, "process");
	put_i64(b, p, "pid", s->pid);
	put_i64(b, p, "ppid", s->ppid);
	put_str(b, p, "name", s->name);
	put_str(b, p, "cmdline", omit_cmdline ? NULL : s->cmdline);
	put_str(b, p, "user", s->user);
	put_u64(b, p, "uid", s->uid);
	put_u64(b, p, "start_time_ticks", s->start_time);
	cJSON *a = put_obj(b, p, "arch");
	put_i64(b, a, "bits", s->arch.bits);
	put_str(b, a, "machine", s->arch.machine ? s->arch.machine : "unknown");
}

cJSON *vms_json_snapshot(const struct vms_snapshot *s, const struct vms_json_opts *opts)
{
	struct jb b = {0};
	cJSON *root = cJSON_CreateObject();
	if (!root)
		return NULL;

	put_i64(&b, root, "format_version", VMS_FORMAT_VERSION);
	put_str(&b, root, "generator", "vmscope " VMSCOPE_VERSION);
	put_str(&b, root, "host", s->host);
	put_str(&b, root, "kernel", s->kernel);
	put_time(&b, root, "taken_at", "taken_at_ms", s->taken_at_ms);
	put_process(&b, root, s, opts && opts->omit_cmdline);
	put_u64(&b, root, "page_size", s->page_size);
	put_addr(&b, root, "mmap_min_addr", s->mmap_min_addr);
	put_status(&b, root, &s->status);
	/* Key order: what is known before the scan, the allocations, then what is final only after
	 * it — so json_write.c can stream allocations while smaps is still being read. */
	put_allocations(&b, root, s);
	put_addr(&b, root, "user_top", s->user_top);
	put_gaps(&b, root, s);
	put_threads(&b, root, s);
	put_str(&b, root, "thread_note", s->thread_note);
	put_summary(&b, root, s);
	put_rollup(&b, root, s);
	put_u64(&b, root, "malformed_lines", s->malformed_lines);

	if (b.oom) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

cJSON *vms_json_summary(const struct vms_snapshot *s)
{
	struct jb b = {0};
	cJSON *root = cJSON_CreateObject();
	if (!root)
		return NULL;
	put_summary(&b, root, s);
	if (b.oom) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

/* ---- process list ------------------------------------------------------------------ */

static void put_proc_fields(struct jb *b, cJSON *e, const struct vms_proc *p)
{
	char state[2] = {p->state ? p->state : '?', '\0'};

	put_i64(b, e, "pid", p->pid);
	put_i64(b, e, "ppid", p->ppid);
	put_str(b, e, "name", p->name);
	put_str(b, e, "cmdline", p->cmdline);
	put_str(b, e, "user", p->user);
	put_u64(b, e, "uid", p->uid);
	put_str(b, e, "state", state);
	put_i64(b, e, "threads", p->threads);
	put_u64(b, e, "start_time_ticks", p->start_time);
	put_i64(b, e, "start_time_ms", p->start_time_ms);
	put_u64(b, e, "vm_size", p->vm_size);
	put_u64(b, e, "vm_rss", p->vm_rss);
	put_u64(b, e, "rss_anon", p->rss_anon);
	put_u64(b, e, "rss_file", p->rss_file);
	put_u64(b, e, "rss_shmem", p->rss_shmem);
	put_u64(b, e, "vm_swap", p->vm_swap);
	put_bool(b, e, "kernel_thread", p->kernel_thread);
	cJSON *a = put_obj(b, e, "arch");
	put_i64(b, a, "bits", p->arch.bits);
	put_str(b, a, "machine", p->arch.machine ? p->arch.machine : "unknown");
	put_bool(b, e, "maps_readable", p->maps_readable);
	if (p->maps_readable) {
		put_null(b, e, "unreadable");
	} else {
		cJSON *u = put_obj(b, e, "unreadable");
		put_str(b, u, "code", vms_err_code(p->unreadable_err));
		put_str(b, u, "message", vms_strerror(p->unreadable_err));
	}
	if (p->has_rollup) {
		put_u64(b, e, "pss", p->pss);
		put_u64(b, e, "uss", p->uss);
		put_u64(b, e, "swap_pss", p->swap_pss);
	} else {
		put_null(b, e, "pss");
		put_null(b, e, "uss");
		put_null(b, e, "swap_pss");
	}
}

cJSON *vms_json_proc(const struct vms_proc *p)
{
	struct jb b = {0};
	cJSON *root = cJSON_CreateObject();
	if (!root)
		return NULL;
	put_proc_fields(&b, root, p);
	if (b.oom) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

cJSON *vms_json_proclist(const struct vms_proclist *l)
{
	struct jb b = {0};
	cJSON *root = cJSON_CreateObject();
	if (!root)
		return NULL;
	put_u64(&b, root, "count", l->n);
	cJSON *arr = put_arr(&b, root, "processes");
	for (size_t i = 0; i < l->n && !b.oom; i++)
		put_proc_fields(&b, put_obj(&b, arr, NULL), &l->procs[i]);
	if (b.oom) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

/* ---- diff -------------------------------------------------------------------------- */

static void put_changes(struct jb *b, cJSON *o, unsigned changes)
{
	cJSON *arr = put_arr(b, o, "changes");
	for (unsigned bit = 1; bit <= VMS_CHANGE_USAGE; bit <<= 1)
		if (changes & bit)
			put(b, arr, NULL, cJSON_CreateString(vms_change_key((enum vms_change)bit)));
}

static void put_side_info(struct jb *b, cJSON *o, const struct vms_diff *d)
{
	const struct vms_snapshot *side[2] = {d->from, d->to};
	const char *key[2] = {"from", "to"};
	for (int i = 0; i < 2; i++) {
		cJSON *e = put_obj(b, o, key[i]);
		put_i64(b, e, "pid", side[i]->pid);
		put_str(b, e, "name", side[i]->name);
		put_u64(b, e, "start_time_ticks", side[i]->start_time);
		put_time(b, e, "taken_at", "taken_at_ms", side[i]->taken_at_ms);
	}
}

/* One side of an allocation entry: its index and identity, or null when absent. */
static void put_alloc_side(struct jb *b, cJSON *o, const char *key, const struct vms_snapshot *s, long idx)
{
	if (idx < 0 || (size_t)idx >= s->n_allocations) {
		put_null(b, o, key);
		return;
	}
	const struct vms_allocation *a = &s->allocations[idx];
	cJSON *e = put_obj(b, o, key);
	put_i64(b, e, "index", idx);
	put_allocation_head(b, e, a);
	put_u64(b, e, "regions", a->n_regions);
	put_columns(b, e, "columns", a->cols);
}

static void put_region_side(struct jb *b, cJSON *o, const char *key, const struct vms_snapshot *s, long idx)
{
	if (idx < 0 || (size_t)idx >= s->n_regions) {
		put_null(b, o, key);
		return;
	}
	const struct vms_region *r = &s->regions[idx];
	cJSON *e = put_obj(b, o, key);
	put_i64(b, e, "index", idx);
	put_addr(b, e, "start", r->start);
	put_addr(b, e, "end", r->end);
	put_u64(b, e, "size", r->end - r->start);
	put_str(b, e, "perms", r->perms);
	put_str(b, e, "type", vms_type_key(r->type));
	put_str(b, e, "path", r->path);
	put_bool(b, e, "deleted", r->deleted);
	put_str(b, e, "role", r->role);
	put_i64(b, e, "allocation", r->allocation);
	put_columns(b, e, "columns", r->cols);
}

cJSON *vms_json_diff(const struct vms_diff *d)
{
	struct jb b = {0};
	cJSON *root = cJSON_CreateObject();
	if (!root)
		return NULL;

	put_side_info(&b, root, d);
	put_bool(&b, root, "same_process",
	         d->from->pid == d->to->pid && d->from->start_time == d->to->start_time);
	cJSON *sum = put_arr(&b, root, "summary");
	for (int t = 0; t < VMS_TYPE_COUNT; t++) {
		cJSON *e = put_obj(&b, sum, NULL);
		put_str(&b, e, "type", vms_type_key((enum vms_type)t));
		put_str(&b, e, "name", vms_type_name((enum vms_type)t));
		put_i64(&b, e, "blocks", d->type_blocks_delta[t]);
		put_deltas(&b, e, "columns", d->type_delta[t]);
	}
	put_deltas(&b, root, "total", d->total_delta);

	cJSON *arr = put_arr(&b, root, "allocations");
	for (size_t i = 0; i < d->n_allocations && !b.oom; i++) {
		const struct vms_diff_entry *de = &d->allocations[i];
		cJSON *e = put_obj(&b, arr, NULL);
		put_changes(&b, e, de->changes);
		put_alloc_side(&b, e, "from", d->from, de->from);
		put_alloc_side(&b, e, "to", d->to, de->to);
		put_deltas(&b, e, "delta", de->delta);
	}
	arr = put_arr(&b, root, "regions");
	for (size_t i = 0; i < d->n_regions && !b.oom; i++) {
		const struct vms_diff_entry *de = &d->regions[i];
		cJSON *e = put_obj(&b, arr, NULL);
		put_changes(&b, e, de->changes);
		put_region_side(&b, e, "from", d->from, de->from);
		put_region_side(&b, e, "to", d->to, de->to);
		put_deltas(&b, e, "delta", de->delta);
	}
	if (b.oom) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

/* ---- address lookup ---------------------------------------------------------------- */

static void put_lookup_region(struct jb *b, cJSON *o, const char *key, const struct vms_snapshot *s, long idx)
{
	if (idx < 0 || (size_t)idx >= s->n_regions) {
		put_null(b, o, key);
		return;
	}
	const struct vms_region *r = &s->regions[idx];
	cJSON *e = put_obj(b, o, key);
	put_i64(b, e, "index", idx);
	put_str(b, e, "type", vms_type_key(r->type));
	put_i64(b, e, "allocation", r->allocation);
	put_region_body(b, e, r);
}

cJSON *vms_json_lookup(const struct vms_snapshot *s, const struct vms_lookup *l)
{
	static const char *const kinds[] = {"region", "free", "outside"};
	struct jb b = {0};
	cJSON *root = cJSON_CreateObject();
	if (!root)
		return NULL;

	put_str(&b, root, "kind", l->kind >= 0 && l->kind <= 2 ? kinds[l->kind] : "unknown");
	put_lookup_region(&b, root, "region", s, l->region);
	if (l->allocation >= 0 && (size_t)l->allocation < s->n_allocations) {
		const struct vms_allocation *a = &s->allocations[l->allocation];
		cJSON *e = put_obj(&b, root, "allocation");
		put_i64(&b, e, "index", l->allocation);
		put_allocation_head(&b, e, a);
		put_u64(&b, e, "first_region", a->first_region);
		put_u64(&b, e, "regions", a->n_regions);
		put_columns(&b, e, "columns", a->cols);
	} else {
		put_null(&b, root, "allocation");
	}
	if (l->kind == 1) {
		cJSON *g = put_obj(&b, root, "gap");
		put_addr(&b, g, "start", l->gap_start);
		put_addr(&b, g, "end", l->gap_end);
		put_u64(&b, g, "size", l->gap_end - l->gap_start);
	} else {
		put_null(&b, root, "gap");
	}
	put_lookup_region(&b, root, "prev", s, l->prev_region);
	put_lookup_region(&b, root, "next", s, l->next_region);
	if (b.oom) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

/* ---- printing ---------------------------------------------------------------------- */

char *vms_json_print(const cJSON *j, int pretty)
{
	if (!j)
		return NULL;
	char *p = pretty ? cJSON_Print(j) : cJSON_PrintUnformatted(j);
	if (!p)
		return NULL;
	/* cJSON's allocator may be hooked: hand out a plain malloc'd copy. */
	size_t n = strlen(p);
	char *out = malloc(n + 1);
	if (out)
		memcpy(out, p, n + 1);
	cJSON_free(p);
	return out;
}
