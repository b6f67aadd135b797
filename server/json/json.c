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
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "textutil.h"
#include "vmscope/imageinfo.h"
#include "vmscope/json.h"
#include "vmscope/record.h"

#ifndef VMSCOPE_VERSION
#define VMSCOPE_VERSION "0.0.0"
#endif

struct jb {
	int oom;
};

/* The public builders' end: root, or NULL (root deleted) after any failure. */
static cJSON *finish(const struct jb *b, cJSON *root)
{
	if (b->oom) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

/* The object a public builder fills (NULL after recording the failure: the builders then run
 * as no-ops and finish() returns NULL). */
static cJSON *new_root(struct jb *b)
{
	cJSON *root = cJSON_CreateObject();
	if (!root)
		b->oom = 1;
	return root;
}

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

static void put_str(struct jb *b, cJSON *o, const char *key, const char *s)
{
	put(b, o, key, vms_json_string_repaired(s));
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
	put_str(b, o, key, vms_format_taken_ms(ms, buf, sizeof buf)); /* null: unknown */
	put_i64(b, o, key_ms, ms);
}

/* {"start","end","size"} of [start, end); returns the object (NULL after a failure). */
static cJSON *put_range(struct jb *b, cJSON *o, const char *key, uint64_t start, uint64_t end)
{
	cJSON *e = put_obj(b, o, key);
	put_addr(b, e, "start", start);
	put_addr(b, e, "end", end);
	put_u64(b, e, "size", end - start);
	return e;
}

/* ---- snapshot: a walk of the record tables (include/vmscope/record.h) ---------------- */

struct cctx {
	const struct vms_snapshot *s;
	size_t index; /* the allocation (or summary row) being built */
	int omit_private;
};

static void put_fields(struct jb *b, cJSON *o, const struct vms_record *rec, const void *base, struct cctx *c,
                       size_t from, size_t to);

static void put_record(struct jb *b, cJSON *arr, const struct vms_record *rec, const void *base,
                       struct cctx *c)
{
	put_fields(b, put_obj(b, arr, NULL), rec, base, c, 0, rec->n_fields);
}

/* The array of the n records of rec at first (rec->size bytes apart), each built with c->index
 * set to its index (the allocation or summary row being built). */
static void put_records(struct jb *b, cJSON *o, const char *key, const struct vms_record *rec,
                        const void *first, size_t n, struct cctx *c)
{
	cJSON *arr = put_arr(b, o, key);
	for (size_t i = 0; i < n && !b->oom; i++) {
		c->index = i;
		put_record(b, arr, rec, (const char *)first + i * rec->size, c);
	}
}

static void put_smaps(struct jb *b, cJSON *o, const char *key, const uint64_t *v, int rollup)
{
	cJSON *e = put_obj(b, o, key);
	for (int f = 0; f < VMS_SF_COUNT; f++) {
		if (rollup && (f == VMS_SF_SIZE || f == VMS_SF_KERNEL_PAGE_SIZE || f == VMS_SF_MMU_PAGE_SIZE))
			continue;
		put_u64(b, e, vms_smaps_field_key((enum vms_smaps_field)f), v[f]);
	}
}

static void put_special(struct jb *b, cJSON *o, const struct vms_field *f, const void *base, struct cctx *c)
{
	const struct vms_snapshot *s = c->s;
	cJSON *arr;
	switch ((enum vms_special)f->aux) {
	case VMS_SP_FORMAT_VERSION:
		put_i64(b, o, f->key, VMS_FORMAT_VERSION);
		break;
	case VMS_SP_GENERATOR:
		put_str(b, o, f->key, "vmscope " VMSCOPE_VERSION);
		break;
	case VMS_SP_ALLOCATIONS:
		put_records(b, o, f->key, &vms_rec_allocation, s->allocations, s->n_allocations, c);
		break;
	case VMS_SP_FREE:
		arr = put_arr(b, o, f->key);
		for (size_t i = 0; i < s->n_gaps && !b->oom; i++)
			put_range(b, arr, NULL, s->gaps[i].start, s->gaps[i].end);
		break;
	case VMS_SP_THREADS:
		put_records(b, o, f->key, &vms_rec_thread, s->threads, s->n_threads, c);
		break;
	case VMS_SP_SUMMARY:
		put_records(b, o, f->key, &vms_rec_summary, s->summary, VMS_TYPE_COUNT, c);
		break;
	case VMS_SP_TOTAL:
		put_columns(b, o, f->key, s->total);
		break;
	case VMS_SP_RECOGNISERS:
		put_records(b, o, f->key, &vms_rec_recogniser, s->recognisers, s->n_recognisers, c);
		break;
	case VMS_SP_REGIONS: {
		const struct vms_allocation *a = base;
		arr = put_arr(b, o, f->key);
		for (uint32_t k = 0; k < a->n_regions && !b->oom; k++) {
			size_t ri = (size_t)a->first_region + k;
			if (ri >= s->n_regions)
				break; /* malformed snapshot: never read past the array */
			put_record(b, arr, &vms_rec_region, &s->regions[ri], c);
		}
		break;
	}
	case VMS_SP_PARTS: {
		/* the oracle's way: every part whose allocation is this one, sorted by start */
		arr = put_arr(b, o, f->key);
		uint64_t after = 0;
		int any = 0;
		for (;;) {
			const struct vms_part *next = NULL;
			for (size_t i = 0; i < s->n_parts; i++) {
				const struct vms_part *p = &s->parts[i];
				if (p->allocation == c->index && (!any || p->start > after) &&
				    (!next || p->start < next->start))
					next = p;
			}
			if (!next)
				break;
			put_record(b, arr, &vms_rec_part, next, c);
			after = next->start;
			any = 1;
		}
		break;
	}
	case VMS_SP_TYPE_KEY:
		put_str(b, o, f->key, vms_type_key((enum vms_type)c->index));
		break;
	case VMS_SP_TYPE_NAME:
		put_str(b, o, f->key, vms_type_name((enum vms_type)c->index));
		break;
	default:
		put_null(b, o, f->key);
		break;
	}
}

static void put_field(struct jb *b, cJSON *o, const struct vms_field *f, const void *base, struct cctx *c)
{
	const void *p = VMS_FIELD_CPTR(base, f);
	int64_t v;
	char dev[24];
	switch (f->kind) {
	case VMS_FK_U64:
		put_u64(b, o, f->key, *(const uint64_t *)p);
		break;
	case VMS_FK_ADDR:
		put_addr(b, o, f->key, *(const uint64_t *)p);
		break;
	case VMS_FK_U32:
	case VMS_FK_INT:
	case VMS_FK_I64:
		put_i64(b, o, f->key, vms_field_get_int(base, f));
		break;
	case VMS_FK_INT_NULL:
		v = vms_field_get_int(base, f);
		if (v < f->min)
			put_null(b, o, f->key);
		else
			put_i64(b, o, f->key, v);
		break;
	case VMS_FK_BOOL:
		put_bool(b, o, f->key, *(const int *)p);
		break;
	case VMS_FK_ENUM:
		v = vms_field_get_int(base, f);
		put_str(b, o, f->key, v >= f->min && v <= f->max ? f->names[v - f->min] : NULL);
		break;
	case VMS_FK_STR: {
		const char *str = *(const char *const *)p;
		put_str(b, o, f->key,
		        c->omit_private && (f->flags & VMS_FF_PRIVATE) ? NULL
		        : str                                          ? str
		                                                       : f->dflt_str);
		break;
	}
	case VMS_FK_TYPE:
		put_str(b, o, f->key, vms_type_key(*(const enum vms_type *)p));
		break;
	case VMS_FK_PERMS:
		put_str(b, o, f->key, (const char *)p);
		break;
	case VMS_FK_DEV:
		snprintf(dev, sizeof dev, "%02x:%02x", *(const unsigned *)p,
		         *(const unsigned *)((const char *)base + f->aux));
		put_str(b, o, f->key, dev);
		break;
	case VMS_FK_SMAPS:
		put_smaps(b, o, f->key, (const uint64_t *)p, 0);
		break;
	case VMS_FK_ROLLUP:
		if (*(const int *)((const char *)base + f->aux))
			put_smaps(b, o, f->key, (const uint64_t *)p, 1);
		else
			put_null(b, o, f->key);
		break;
	case VMS_FK_SIZE:
		put_u64(b, o, f->key,
		        *(const uint64_t *)((const char *)base + f->aux) - *(const uint64_t *)p);
		break;
	case VMS_FK_TIME: {
		char buf[40];
		put_str(b, o, f->key, vms_format_taken_ms(*(const int64_t *)p, buf, sizeof buf));
		break;
	}
	case VMS_FK_COLS:
		put_columns(b, o, f->key, (const uint64_t *)p);
		break;
	case VMS_FK_OBJECT:
		put_fields(b, put_obj(b, o, f->key), f->sub, base, c, 0, f->sub->n_fields);
		break;
	case VMS_FK_SPECIAL:
		put_special(b, o, f, base, c);
		break;
	}
}

static void put_fields(struct jb *b, cJSON *o, const struct vms_record *rec, const void *base, struct cctx *c,
                       size_t from, size_t to)
{
	for (size_t i = from; i < to && !b->oom; i++)
		if (rec->fields[i].key)
			put_field(b, o, &rec->fields[i], base, c);
}

/* A region's own fields (no specials), for the address lookup. */
static void put_region_body(struct jb *b, cJSON *e, const struct vms_region *r)
{
	struct cctx c = {0};
	put_fields(b, e, &vms_rec_region, r, &c, 0, vms_rec_region.n_fields);
}

/* An allocation's fields up to and including "owner" (what the diff and the lookup repeat). */
static void put_allocation_head(struct jb *b, cJSON *e, const struct vms_allocation *a)
{
	struct cctx c = {0};
	for (size_t i = 0; i < vms_rec_allocation.n_fields; i++) {
		put_field(b, e, &vms_rec_allocation.fields[i], a, &c);
		if (strcmp(vms_rec_allocation.fields[i].key, "owner") == 0)
			break;
	}
}

cJSON *vms_json_snapshot(const struct vms_snapshot *s, const struct vms_json_opts *opts)
{
	struct jb b = {0};
	struct cctx c = {.s = s, .omit_private = opts && opts->omit_cmdline};
	cJSON *root = new_root(&b);
	/* Key order (the table's): what is known before the scan, the allocations, then what is
	 * final only after it — so json_write.c can stream allocations while smaps is still read. */
	put_fields(&b, root, &vms_rec_snapshot, s, &c, 0, vms_rec_snapshot.n_fields);
	return finish(&b, root);
}

cJSON *vms_json_summary_of(const struct vms_type_summary summary[VMS_TYPE_COUNT],
                           const uint64_t total[VMS_COL_COUNT])
{
	struct vms_snapshot *s = calloc(1, sizeof *s); /* only its summary and totals are read */
	if (!s)
		return NULL;
	memcpy(s->summary, summary, sizeof s->summary);
	memcpy(s->total, total, sizeof s->total);
	cJSON *j = vms_json_summary(s);
	free(s);
	return j;
}

cJSON *vms_json_summary(const struct vms_snapshot *s)
{
	struct jb b = {0};
	struct cctx c = {.s = s};
	cJSON *root = new_root(&b);
	for (size_t i = 0; i < vms_rec_snapshot.n_fields; i++) {
		const struct vms_field *f = &vms_rec_snapshot.fields[i];
		if (f->kind == VMS_FK_SPECIAL && (f->aux == VMS_SP_SUMMARY || f->aux == VMS_SP_TOTAL))
			put_special(&b, root, f, s, &c);
	}
	return finish(&b, root);
}

/* ---- process list ------------------------------------------------------------------ */

/* The byte counts of a process, in key order: from /proc/PID/status, and from smaps_rollup. */
struct proc_bytes {
	const char *key;
	size_t off; /* of a uint64_t in struct vms_proc */
};
static const struct proc_bytes proc_status_bytes[] = {
    {"vm_size", offsetof(struct vms_proc, vm_size)},     {"vm_rss", offsetof(struct vms_proc, vm_rss)},
    {"rss_anon", offsetof(struct vms_proc, rss_anon)},   {"rss_file", offsetof(struct vms_proc, rss_file)},
    {"rss_shmem", offsetof(struct vms_proc, rss_shmem)}, {"vm_swap", offsetof(struct vms_proc, vm_swap)},
};
static const struct proc_bytes proc_rollup_bytes[] = {
    {"pss", offsetof(struct vms_proc, pss)},
    {"uss", offsetof(struct vms_proc, uss)},
    {"swap_pss", offsetof(struct vms_proc, swap_pss)},
};

/* Put the n byte counts of table t read from p into e; all null when p is NULL (not known). */
static void put_proc_bytes(struct jb *b, cJSON *e, const struct vms_proc *p, const struct proc_bytes *t,
                           size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!p) {
			put_null(b, e, t[i].key);
			continue;
		}
		uint64_t v;
		memcpy(&v, (const char *)p + t[i].off, sizeof v);
		put_u64(b, e, t[i].key, v);
	}
}

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
	put_proc_bytes(b, e, p, proc_status_bytes, sizeof proc_status_bytes / sizeof *proc_status_bytes);
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
	put_proc_bytes(b, e, p->has_rollup ? p : NULL, proc_rollup_bytes,
	               sizeof proc_rollup_bytes / sizeof *proc_rollup_bytes);
}

cJSON *vms_json_proc(const struct vms_proc *p)
{
	struct jb b = {0};
	cJSON *root = new_root(&b);
	put_proc_fields(&b, root, p);
	return finish(&b, root);
}

cJSON *vms_json_proclist(const struct vms_proclist *l)
{
	struct jb b = {0};
	cJSON *root = new_root(&b);
	put_u64(&b, root, "count", l->n);
	cJSON *arr = put_arr(&b, root, "processes");
	for (size_t i = 0; i < l->n && !b.oom; i++)
		put_proc_fields(&b, put_obj(&b, arr, NULL), &l->procs[i]);
	return finish(&b, root);
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
/* An entry that names a record by its index: an object starting with "index", or null (and
 * NULL returned) when idx is not below n. */
static cJSON *put_indexed(struct jb *b, cJSON *o, const char *key, long idx, size_t n)
{
	if (idx < 0 || (size_t)idx >= n) {
		put_null(b, o, key);
		return NULL;
	}
	cJSON *e = put_obj(b, o, key);
	put_i64(b, e, "index", idx);
	return e;
}

static void put_alloc_side(struct jb *b, cJSON *o, const char *key, const struct vms_snapshot *s, long idx)
{
	cJSON *e = put_indexed(b, o, key, idx, s->n_allocations);
	if (!e)
		return;
	const struct vms_allocation *a = &s->allocations[idx];
	put_allocation_head(b, e, a);
	put_u64(b, e, "regions", a->n_regions);
	put_columns(b, e, "columns", a->cols);
}

static void put_region_side(struct jb *b, cJSON *o, const char *key, const struct vms_snapshot *s, long idx)
{
	cJSON *e = put_indexed(b, o, key, idx, s->n_regions);
	if (!e)
		return;
	const struct vms_region *r = &s->regions[idx];
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

typedef void put_side_fn(struct jb *b, cJSON *o, const char *key, const struct vms_snapshot *s, long idx);

/* The diff's entries of one kind: changes, both sides (written by side) and the deltas. */
static void put_entries(struct jb *b, cJSON *o, const char *key, const struct vms_diff *d,
                        const struct vms_diff_entry *entries, size_t n, put_side_fn *side)
{
	cJSON *arr = put_arr(b, o, key);
	for (size_t i = 0; i < n && !b->oom; i++) {
		const struct vms_diff_entry *de = &entries[i];
		cJSON *e = put_obj(b, arr, NULL);
		put_changes(b, e, de->changes);
		side(b, e, "from", d->from, de->from);
		side(b, e, "to", d->to, de->to);
		put_deltas(b, e, "delta", de->delta);
	}
}

cJSON *vms_json_diff(const struct vms_diff *d)
{
	struct jb b = {0};
	cJSON *root = new_root(&b);

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

	put_entries(&b, root, "allocations", d, d->allocations, d->n_allocations, put_alloc_side);
	put_entries(&b, root, "regions", d, d->regions, d->n_regions, put_region_side);
	return finish(&b, root);
}

/* ---- address lookup ---------------------------------------------------------------- */

static void put_lookup_region(struct jb *b, cJSON *o, const char *key, const struct vms_snapshot *s, long idx)
{
	cJSON *e = put_indexed(b, o, key, idx, s->n_regions);
	if (!e)
		return;
	const struct vms_region *r = &s->regions[idx];
	put_str(b, e, "type", vms_type_key(r->type));
	put_i64(b, e, "allocation", r->allocation);
	put_region_body(b, e, r);
}

static void put_image_info(struct jb *b, cJSON *root, const struct vms_image_info *img)
{
	if (!img || !img->found) {
		put_null(b, root, "image");
		return;
	}
	char text[512];
	cJSON *e = put_obj(b, root, "image");
	put_str(b, e, "path", img->path);
	if (img->has_file_offset)
		put_addr(b, e, "file_offset", img->file_offset);
	else
		put_null(b, e, "file_offset");
	if (img->has_vaddr)
		put_addr(b, e, "vaddr", img->vaddr);
	else
		put_null(b, e, "vaddr");
	if (img->section[0])
		put_str(b, e, "section", img->section);
	else
		put_null(b, e, "section");
	if (img->symbol[0]) {
		put_str(b, e, "symbol", img->symbol);
		put_addr(b, e, "symbol_offset", img->symbol_offset);
		put_u64(b, e, "symbol_size", img->symbol_size);
		put_bool(b, e, "symbol_inside", img->symbol_inside);
		put_str(b, e, "symbol_source", img->symbol_source);
	} else {
		put_null(b, e, "symbol");
	}
	vms_image_symbol_text(img, text, sizeof text);
	put_str(b, e, "text", text);
	if (img->build_id[0])
		put_str(b, e, "build_id", img->build_id);
	else
		put_null(b, e, "build_id");
	if (img->debug_file[0])
		put_str(b, e, "debug_file", img->debug_file);
	if (img->vdso_note)
		put_str(b, e, "vdso", img->vdso_note);
	if (img->note)
		put_str(b, e, "note", img->note);
	else
		put_null(b, e, "note");
}

cJSON *vms_json_lookup(const struct vms_snapshot *s, uint64_t addr, const struct vms_lookup *l,
                       const struct vms_image_info *img)
{
	static const char *const kinds[] = {"region", "free", "outside"};
	struct jb b = {0};
	cJSON *root = new_root(&b);

	put_str(&b, root, "kind", l->kind >= 0 && l->kind <= 2 ? kinds[l->kind] : "unknown");
	put_addr(&b, root, "address", addr);
	put_lookup_region(&b, root, "region", s, l->region);
	if (l->region >= 0 && (size_t)l->region < s->n_regions)
		put_addr(&b, root, "offset_in_region", addr - s->regions[l->region].start);
	else
		put_null(&b, root, "offset_in_region");
	cJSON *e = put_indexed(&b, root, "allocation", l->allocation, s->n_allocations);
	if (e) {
		const struct vms_allocation *a = &s->allocations[l->allocation];
		put_allocation_head(&b, e, a);
		put_u64(&b, e, "first_region", a->first_region);
		put_u64(&b, e, "regions", a->n_regions);
		put_columns(&b, e, "columns", a->cols);
		put_addr(&b, root, "offset_in_allocation", addr - a->start);
	} else {
		put_null(&b, root, "offset_in_allocation");
	}
	put_image_info(&b, root, img);
	if (l->kind == 1) {
		cJSON *g = put_range(&b, root, "gap", l->gap_start, l->gap_end);
		put_u64(&b, g, "largest_mapping", l->gap_fit);
		put_bool(&b, g, "stack_guard", l->gap_guard);
		/* a gap between two regions of one allocation: an image's loader left it */
		long pr = l->prev_region, nr = l->next_region;
		if (pr >= 0 && nr >= 0 && (size_t)pr < s->n_regions && (size_t)nr < s->n_regions &&
		    s->regions[pr].allocation == s->regions[nr].allocation)
			put_i64(&b, g, "inside_allocation", s->regions[pr].allocation);
		else
			put_null(&b, g, "inside_allocation");
	} else {
		put_null(&b, root, "gap");
	}
	put_lookup_region(&b, root, "prev", s, l->prev_region);
	put_lookup_region(&b, root, "next", s, l->next_region);
	return finish(&b, root);
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
