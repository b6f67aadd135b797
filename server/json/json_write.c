/* Streaming snapshot writer: the same JSON as json.c's vms_json_snapshot() printed by
 * cJSON_PrintUnformatted(), built straight into one buffer. Both walk the record tables
 * (include/vmscope/record.h) for keys, order and kinds; number formatting and string escaping
 * follow cJSON 1.7.15 exactly, and tests/unit/test_json_write.c holds the two byte-for-byte
 * equal. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonout.h"
#include "strbuf.h"
#include "textutil.h"
#include "vmscope/json.h"

#ifndef VMSCOPE_VERSION
#define VMSCOPE_VERSION "0.0.0"
#endif

struct wctx;
struct vms_json_stream;
static void fields(struct vms_sb *sb, const struct vms_record *rec, const void *base, struct wctx *c,
                   size_t from, size_t to, int first);

/* Parts of allocation i as [first, first + n) of an index ordered by (allocation, start). */
struct parts_index {
	const struct vms_part *parts;
	size_t n;
	uint32_t *order; /* indices into parts */
};

struct wctx {
	const struct vms_snapshot *s;
	size_t index; /* the allocation (or summary row) being written */
	int omit_private;
	struct parts_index *pi;
	struct vms_json_stream *st;
};

static void one(struct vms_sb *sb, const struct vms_record *rec, const void *base, struct wctx *c)
{
	VMS_JO_LIT(sb, "{");
	fields(sb, rec, base, c, 0, rec->n_fields, 1);
	VMS_JO_LIT(sb, "}");
}

static const struct vms_part *part_at(const struct parts_index *pi, size_t k)
{
	return &pi->parts[pi->order ? pi->order[k] : k];
}

static void parts_of(struct vms_sb *sb, struct wctx *c)
{
	struct parts_index *pi = c->pi;
	VMS_JO_LIT(sb, "[");
	if (pi && pi->n) {
		/* lower bound of the allocation in the (allocation, start) order */
		size_t lo = 0, hi = pi->n;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (part_at(pi, mid)->allocation < c->index)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (size_t k = lo; k < pi->n && part_at(pi, k)->allocation == c->index; k++) {
			if (k > lo)
				VMS_JO_LIT(sb, ",");
			one(sb, &vms_rec_part, part_at(pi, k), c);
		}
	}
	VMS_JO_LIT(sb, "]");
}

/* The n records of rec at items (rec->size bytes apart) as a JSON array. */
static void array(struct vms_sb *sb, const struct vms_record *rec, const void *items, size_t n,
                  struct wctx *c)
{
	VMS_JO_LIT(sb, "[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			VMS_JO_LIT(sb, ",");
		one(sb, rec, (const char *)items + i * rec->size, c);
	}
	VMS_JO_LIT(sb, "]");
}

static void special(struct vms_sb *sb, const struct vms_field *f, const void *base, struct wctx *c)
{
	const struct vms_snapshot *s = c->s;
	switch ((enum vms_special)f->aux) {
	case VMS_SP_FORMAT_VERSION:
		vms_jo_i64(sb, VMS_FORMAT_VERSION);
		break;
	case VMS_SP_GENERATOR:
		vms_jo_str(sb, "vmscope " VMSCOPE_VERSION);
		break;
	case VMS_SP_ALLOCATIONS:
		VMS_JO_LIT(sb, "["); /* the stream writes them and the closing bracket */
		break;
	case VMS_SP_FREE:
		VMS_JO_LIT(sb, "[");
		for (size_t i = 0; i < s->n_gaps; i++) {
			if (i)
				VMS_JO_LIT(sb, ",");
			VMS_JO_LIT(sb, "{\"start\":");
			vms_jo_addr(sb, s->gaps[i].start);
			VMS_JO_LIT(sb, ",\"end\":");
			vms_jo_addr(sb, s->gaps[i].end);
			VMS_JO_LIT(sb, ",\"size\":");
			vms_jo_u64(sb, s->gaps[i].end - s->gaps[i].start);
			VMS_JO_LIT(sb, "}");
		}
		VMS_JO_LIT(sb, "]");
		break;
	case VMS_SP_THREADS:
		array(sb, &vms_rec_thread, s->threads, s->n_threads, c);
		break;
	case VMS_SP_SUMMARY:
		VMS_JO_LIT(sb, "[");
		for (int t = 0; t < VMS_TYPE_COUNT; t++) {
			if (t)
				VMS_JO_LIT(sb, ",");
			c->index = (size_t)t;
			one(sb, &vms_rec_summary, &s->summary[t], c);
		}
		VMS_JO_LIT(sb, "]");
		break;
	case VMS_SP_TOTAL:
		vms_jo_cols(sb, s->total);
		break;
	case VMS_SP_RECOGNISERS:
		array(sb, &vms_rec_recogniser, s->recognisers, s->n_recognisers, c);
		break;
	case VMS_SP_REGIONS: { /* the allocation's run of regions, cut at the end of the array */
		const struct vms_allocation *a = base;
		size_t first = a->first_region < s->n_regions ? a->first_region : s->n_regions;
		size_t n = s->n_regions - first < a->n_regions ? s->n_regions - first : a->n_regions;
		array(sb, &vms_rec_region, s->regions + first, n, c);
		break;
	}
	case VMS_SP_PARTS:
		parts_of(sb, c);
		break;
	case VMS_SP_TYPE_KEY:
		vms_jo_str(sb, vms_type_key((enum vms_type)c->index));
		break;
	case VMS_SP_TYPE_NAME:
		vms_jo_str(sb, vms_type_name((enum vms_type)c->index));
		break;
	default:
		VMS_JO_LIT(sb, "null");
		break;
	}
}

/* Fields [from, to) of rec at base; first: the first written one takes no comma. */
static void fields(struct vms_sb *sb, const struct vms_record *rec, const void *base, struct wctx *c,
                   size_t from, size_t to, int first)
{
	for (size_t i = from; i < to; i++) {
		const struct vms_field *f = &rec->fields[i];
		if (!f->key)
			continue;
		if (!vms_jo_field(sb, f, base, first, c->omit_private)) {
			first = 0;
			continue;
		}
		vms_jo_lit(sb, f->jkey + (first ? 1 : 0), f->jkey_len - (first ? 1 : 0));
		first = 0;
		if (f->kind == VMS_FK_OBJECT)
			one(sb, f->sub, base, c);
		else
			special(sb, f, base, c);
	}
}

static size_t allocations_field(void)
{
	const struct vms_record *rec = &vms_rec_snapshot;
	for (size_t i = 0; i < rec->n_fields; i++)
		if (rec->fields[i].kind == VMS_FK_SPECIAL && rec->fields[i].aux == VMS_SP_ALLOCATIONS)
			return i;
	return rec->n_fields; /* not reached: the table has it */
}

#define FLUSH_AT (1u << 20)

struct vms_json_stream {
	struct vms_sb sb;
	vms_json_sink_fn fn; /* NULL: keep everything in sb */
	void *cookie;
	int omit_cmdline;
	int failed;       /* fn reported an error */
	size_t n_written; /* allocations written so far */
	struct parts_index pi;
};

static int part_cmp(const void *x, const void *y, void *arg)
{
	const struct vms_part *p = arg, *a = &p[*(const uint32_t *)x], *b = &p[*(const uint32_t *)y];
	if (a->allocation != b->allocation)
		return a->allocation < b->allocation ? -1 : 1;
	return a->start < b->start ? -1 : a->start > b->start;
}

/* (Re)build the parts index when the snapshot's parts changed (they are final once an
 * allocation is streamed: the attribution stage restarts the stream, with a new stream, when it
 * adds any). A scan appends an image's sections as each image is classified (scan.c,
 * vms_snapshot_opts.on_allocation), and this stream sees every step of that: the same array,
 * grown (same pointer, more parts), has its first pi->n parts unchanged, so only the new ones
 * are looked at. */
static struct parts_index *parts_index(struct vms_json_stream *st, const struct vms_snapshot *s)
{
	struct parts_index *pi = &st->pi;
	if (pi->parts == s->parts && pi->n == s->n_parts)
		return pi;
	size_t from = 1;
	if (pi->parts == s->parts && pi->n && pi->n < s->n_parts && !pi->order)
		from = pi->n; /* parts [0, pi->n) are known to be in order */
	free(pi->order);
	pi->order = NULL;
	pi->parts = s->parts;
	pi->n = s->n_parts;
	int sorted = 1;
	for (size_t k = from; k < pi->n && sorted; k++)
		sorted =
		    part_cmp(&(uint32_t){(uint32_t)(k - 1)}, &(uint32_t){(uint32_t)k}, (void *)s->parts) <= 0;
	if (!sorted) {
		pi->order = malloc(pi->n * sizeof *pi->order);
		if (!pi->order) {
			st->sb.oom = 1;
			pi->n = 0;
			return pi;
		}
		for (size_t k = 0; k < pi->n; k++)
			pi->order[k] = (uint32_t)k;
		qsort_r(pi->order, pi->n, sizeof *pi->order, part_cmp, (void *)s->parts);
	}
	return pi;
}

static struct wctx ctx_of(struct vms_json_stream *st, const struct vms_snapshot *s)
{
	return (struct wctx){.s = s, .omit_private = st->omit_cmdline, .pi = parts_index(st, s), .st = st};
}

/* With a sink, hand over what is buffered once it passes FLUSH_AT (or always when force). */
static void flush(struct vms_json_stream *st, int force)
{
	struct vms_sb *sb = &st->sb;
	if (!st->fn || sb->oom || (!force && sb->len < FLUSH_AT))
		return;
	if (!st->failed && sb->len && st->fn(st->cookie, sb->buf, sb->len) != 0)
		st->failed = 1;
	sb->len = 0;
}

struct vms_json_stream *vms_json_stream_new(const struct vms_json_opts *opts, vms_json_sink_fn fn,
                                            void *cookie)
{
	struct vms_json_stream *st = calloc(1, sizeof *st);
	if (!st)
		return NULL;
	st->fn = fn;
	st->cookie = cookie;
	st->omit_cmdline = opts && opts->omit_cmdline;
	if (fn)
		vms_jo_reserve(&st->sb, FLUSH_AT + 64 * 1024);
	return st;
}

void vms_json_stream_begin(struct vms_json_stream *st, const struct vms_snapshot *s)
{
	struct vms_sb *sb = &st->sb;
	struct wctx c = ctx_of(st, s);

	if (!st->fn)
		vms_jo_reserve(sb, 2048 + s->n_regions * 1100 + s->n_allocations * 400);
	/* The header: every top-level field up to and including "allocations":[ */
	VMS_JO_LIT(sb, "{");
	fields(sb, &vms_rec_snapshot, s, &c, 0, allocations_field() + 1, 1);
}

void vms_json_stream_allocation(struct vms_json_stream *st, const struct vms_snapshot *s, size_t index)
{
	struct vms_sb *sb = &st->sb;
	struct wctx c = ctx_of(st, s);
	c.index = index;
	if (st->n_written++)
		VMS_JO_LIT(sb, ",");
	one(sb, &vms_rec_allocation, &s->allocations[index], &c);
	flush(st, 0);
}

/* Finish the document. With a sink everything has been handed over; without one, *out gets
 * the text. Frees st. */
static int stream_end(struct vms_json_stream *st, const struct vms_snapshot *s, char **out, size_t *len)
{
	struct vms_sb *sb = &st->sb;
	struct wctx c = ctx_of(st, s);
	VMS_JO_LIT(sb, "]");
	fields(sb, &vms_rec_snapshot, s, &c, allocations_field() + 1, vms_rec_snapshot.n_fields, 0);
	VMS_JO_LIT(sb, "}");
	flush(st, 1);
	int err = sb->oom ? VMS_ERR_NOMEM : st->failed ? VMS_ERR_IO : VMS_OK;
	if (!err && !st->fn)
		err = vms_sb_finish(sb, out, len);
	else
		vms_sb_free(sb);
	free(st->pi.order);
	free(st);
	return err;
}

void vms_json_stream_flush(struct vms_json_stream *st)
{
	flush(st, 1);
}

void vms_json_stream_external_allocation(struct vms_json_stream *st)
{
	if (st->n_written++)
		VMS_JO_LIT(&st->sb, ",");
	flush(st, 1);
}

int vms_json_stream_end(struct vms_json_stream *st, const struct vms_snapshot *s)
{
	return stream_end(st, s, NULL, NULL);
}

void vms_json_stream_free(struct vms_json_stream *st)
{
	if (!st)
		return;
	vms_sb_free(&st->sb);
	free(st->pi.order);
	free(st);
}

static int write_whole(const struct vms_snapshot *s, const struct vms_json_opts *opts, vms_json_sink_fn fn,
                       void *cookie, char **out, size_t *len)
{
	struct vms_json_stream *st = vms_json_stream_new(opts, fn, cookie);
	if (!st)
		return VMS_ERR_NOMEM;
	vms_json_stream_begin(st, s);
	for (size_t i = 0; i < s->n_allocations; i++)
		vms_json_stream_allocation(st, s, i);
	return stream_end(st, s, out, len);
}

int vms_json_write_snapshot(const struct vms_snapshot *s, const struct vms_json_opts *opts, char **out,
                            size_t *len)
{
	*out = NULL;
	return write_whole(s, opts, NULL, NULL, out, len);
}
