/* Streaming snapshot writer: the same JSON as json.c's vms_json_snapshot() printed by
 * cJSON_PrintUnformatted(), built straight into one buffer. Key order, number formatting and
 * string escaping follow cJSON 1.7.15 exactly; tests/unit/test_json_write.c holds the two
 * byte-for-byte equal. */
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

static void region(struct vms_sb *sb, const struct vms_region *r)
{
	char dev[24];
	VMS_JO_LIT(sb, "{\"start\":");
	vms_jo_addr(sb, r->start);
	VMS_JO_LIT(sb, ",\"end\":");
	vms_jo_addr(sb, r->end);
	VMS_JO_LIT(sb, ",\"size\":");
	vms_jo_u64(sb, r->end - r->start);
	VMS_JO_LIT(sb, ",\"perms\":");
	vms_jo_str(sb, r->perms);
	VMS_JO_LIT(sb, ",\"offset\":");
	vms_jo_addr(sb, r->offset);
	snprintf(dev, sizeof dev, "%02x:%02x", r->dev_major, r->dev_minor);
	VMS_JO_LIT(sb, ",\"dev\":");
	vms_jo_str(sb, dev);
	VMS_JO_LIT(sb, ",\"inode\":");
	vms_jo_u64(sb, r->inode);
	VMS_JO_LIT(sb, ",\"path\":");
	vms_jo_str(sb, r->path);
	if (r->deleted)
		VMS_JO_LIT(sb, ",\"deleted\":true,\"role\":");
	else
		VMS_JO_LIT(sb, ",\"deleted\":false,\"role\":");
	vms_jo_str(sb, r->role);
	VMS_JO_LIT(sb, ",\"smaps\":");
	vms_jo_smaps(sb, r->smaps);
	VMS_JO_LIT(sb, ",\"thp_eligible\":");
	if (r->thp_eligible < 0)
		VMS_JO_LIT(sb, "null");
	else
		vms_jo_i64(sb, r->thp_eligible);
	VMS_JO_LIT(sb, ",\"protection_key\":");
	if (r->protection_key < 0)
		VMS_JO_LIT(sb, "null");
	else
		vms_jo_i64(sb, r->protection_key);
	VMS_JO_LIT(sb, ",\"vm_flags\":");
	vms_jo_str(sb, r->vm_flags ? r->vm_flags : "");
	vms_jo_columns(sb, "columns", r->cols);
	VMS_JO_LIT(sb, "}");
}

#define FLUSH_AT (1u << 20)

struct vms_json_stream {
	struct vms_sb sb;
	vms_json_sink_fn fn; /* NULL: keep everything in sb */
	void *cookie;
	int omit_cmdline;
	int failed;          /* fn reported an error */
	size_t n_written;    /* allocations written so far */
};

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

struct vms_json_stream *vms_json_stream_new(const struct vms_json_opts *opts, vms_json_sink_fn fn, void *cookie)
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
	char tbuf[40];
	const struct vms_status *stt = &s->status;

	if (!st->fn)
		vms_jo_reserve(sb, 2048 + s->n_regions * 1100 + s->n_allocations * 400);
	VMS_JO_LIT(sb, "{\"format_version\":");
	vms_jo_i64(sb, VMS_FORMAT_VERSION);
	VMS_JO_LIT(sb, ",\"generator\":");
	vms_jo_str(sb, "vmscope " VMSCOPE_VERSION);
	VMS_JO_LIT(sb, ",\"host\":");
	vms_jo_str(sb, s->host);
	VMS_JO_LIT(sb, ",\"kernel\":");
	vms_jo_str(sb, s->kernel);
	vms_format_time_ms(s->taken_at_ms, tbuf, sizeof tbuf);
	VMS_JO_LIT(sb, ",\"taken_at\":");
	vms_jo_str(sb, tbuf);
	VMS_JO_LIT(sb, ",\"taken_at_ms\":");
	vms_jo_i64(sb, s->taken_at_ms);

	VMS_JO_LIT(sb, ",\"process\":{\"pid\":");
	vms_jo_i64(sb, s->pid);
	VMS_JO_LIT(sb, ",\"ppid\":");
	vms_jo_i64(sb, s->ppid);
	VMS_JO_LIT(sb, ",\"name\":");
	vms_jo_str(sb, s->name);
	VMS_JO_LIT(sb, ",\"cmdline\":");
	vms_jo_str(sb, st->omit_cmdline ? NULL : s->cmdline);
	VMS_JO_LIT(sb, ",\"user\":");
	vms_jo_str(sb, s->user);
	VMS_JO_LIT(sb, ",\"uid\":");
	vms_jo_u64(sb, s->uid);
	VMS_JO_LIT(sb, ",\"start_time_ticks\":");
	vms_jo_u64(sb, s->start_time);
	VMS_JO_LIT(sb, ",\"arch\":{\"bits\":");
	vms_jo_i64(sb, s->arch.bits);
	VMS_JO_LIT(sb, ",\"machine\":");
	vms_jo_str(sb, s->arch.machine ? s->arch.machine : "unknown");
	VMS_JO_LIT(sb, "}}");

	VMS_JO_LIT(sb, ",\"page_size\":");
	vms_jo_u64(sb, s->page_size);
	VMS_JO_LIT(sb, ",\"mmap_min_addr\":");
	vms_jo_addr(sb, s->mmap_min_addr);

	VMS_JO_LIT(sb, ",\"status\":{");
	for (size_t i = 0; i < VMS_STATUS_NFIELDS; i++) {
		vms_jo_key(sb, vms_status_fields[i].key, i == 0);
		vms_jo_u64(sb, VMS_STATUS_FIELD(stt, i));
	}
	VMS_JO_LIT(sb, ",\"threads\":");
	vms_jo_i64(sb, stt->threads);
	VMS_JO_LIT(sb, "}");
	VMS_JO_LIT(sb, ",\"allocations\":[");
}

void vms_json_stream_allocation(struct vms_json_stream *st, const struct vms_snapshot *s, size_t index)
{
	struct vms_sb *sb = &st->sb;
	const struct vms_allocation *a = &s->allocations[index];
	if (st->n_written++)
		VMS_JO_LIT(sb, ",");
	VMS_JO_LIT(sb, "{");
	vms_jo_allocation_head(sb, a);
	vms_jo_columns(sb, "columns", a->cols);
	VMS_JO_LIT(sb, ",\"regions\":[");
	for (uint32_t j = 0; j < a->n_regions; j++) {
		size_t ri = (size_t)a->first_region + j;
		if (ri >= s->n_regions)
			break;
		if (j)
			VMS_JO_LIT(sb, ",");
		region(sb, &s->regions[ri]);
	}
	VMS_JO_LIT(sb, "]}");
	flush(st, 0);
}

/* Finish the document. With a sink everything has been handed over; without one, *out gets
 * the text. Frees st. */
static int stream_end(struct vms_json_stream *st, const struct vms_snapshot *s, char **out, size_t *len)
{
	struct vms_sb *sb = &st->sb;
	VMS_JO_LIT(sb, "],\"user_top\":");
	vms_jo_addr(sb, s->user_top);
	VMS_JO_LIT(sb, ",\"free\":[");
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
	VMS_JO_LIT(sb, "],\"threads\":[");
	for (size_t i = 0; i < s->n_threads; i++) {
		const struct vms_thread *t = &s->threads[i];
		if (i)
			VMS_JO_LIT(sb, ",");
		VMS_JO_LIT(sb, "{\"tid\":");
		vms_jo_i64(sb, t->tid);
		VMS_JO_LIT(sb, ",\"name\":");
		vms_jo_str(sb, t->name);
		VMS_JO_LIT(sb, ",\"sp\":");
		vms_jo_addr(sb, t->sp);
		VMS_JO_LIT(sb, ",\"stack_allocation\":");
		vms_jo_i64(sb, t->stack_allocation);
		VMS_JO_LIT(sb, "}");
	}
	VMS_JO_LIT(sb, "],\"thread_note\":");
	vms_jo_str(sb, s->thread_note);

	VMS_JO_LIT(sb, ",\"summary\":[");
	for (int t = 0; t < VMS_TYPE_COUNT; t++) {
		const struct vms_type_summary *ts = &s->summary[t];
		if (t)
			VMS_JO_LIT(sb, ",");
		VMS_JO_LIT(sb, "{\"type\":");
		vms_jo_str(sb, vms_type_key((enum vms_type)t));
		VMS_JO_LIT(sb, ",\"name\":");
		vms_jo_str(sb, vms_type_name((enum vms_type)t));
		VMS_JO_LIT(sb, ",\"blocks\":");
		vms_jo_u64(sb, ts->blocks);
		VMS_JO_LIT(sb, ",\"largest\":");
		vms_jo_u64(sb, ts->largest);
		VMS_JO_LIT(sb, ",\"regions\":");
		vms_jo_u64(sb, ts->regions);
		vms_jo_columns(sb, "columns", ts->cols);
		VMS_JO_LIT(sb, "}");
	}
	VMS_JO_LIT(sb, "]");
	vms_jo_columns(sb, "total", s->total);

	if (!s->has_rollup) {
		VMS_JO_LIT(sb, ",\"rollup\":null");
	} else {
		VMS_JO_LIT(sb, ",\"rollup\":{");
		int first = 1;
		for (int f = 0; f < VMS_SF_COUNT; f++) {
			if (f == VMS_SF_SIZE || f == VMS_SF_KERNEL_PAGE_SIZE || f == VMS_SF_MMU_PAGE_SIZE)
				continue;
			vms_jo_key(sb, vms_smaps_field_key((enum vms_smaps_field)f), first);
			first = 0;
			vms_jo_u64(sb, s->rollup[f]);
		}
		VMS_JO_LIT(sb, "}");
	}
	VMS_JO_LIT(sb, ",\"malformed_lines\":");
	vms_jo_u64(sb, s->malformed_lines);
	VMS_JO_LIT(sb, "}");
	flush(st, 1);
	int err = sb->oom ? VMS_ERR_NOMEM : st->failed ? VMS_ERR_IO : VMS_OK;
	if (!err && !st->fn)
		err = vms_sb_finish(sb, out, len);
	else
		vms_sb_free(sb);
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

int vms_json_write_snapshot(const struct vms_snapshot *s, const struct vms_json_opts *opts, char **out, size_t *len)
{
	*out = NULL;
	return write_whole(s, opts, NULL, NULL, out, len);
}
