/* Samples as JSON, written directly into one buffer (no cJSON tree): the sample object of
 * GET /api/v1/watches/{id}/samples and of a timeline file's sample lines, and the whole answer
 * of that route (vmscope/json_timeline.h; docs/api.md, "Watches"). A 24 h watch downsampled to
 * 1,000 points is 16,000 to 190,000 numbers: as a tree that cost ~100 ms of the daemon's CPU per
 * request (docs/benchmarks.md, "Timeline"). Keys and order are the documented ones
 * (tests/unit/test_json_samples.c). */
#include <stdlib.h>
#include <string.h>

#include "jsonout.h"
#include "strbuf.h"
#include "vmscope/error.h"
#include "vmscope/json_timeline.h"

/* ,"key":true|false (no comma when first) */
static void put_bool(struct vms_sb *sb, const char *key, int v, int first)
{
	vms_jo_key(sb, key, first);
	if (v)
		VMS_JO_LIT(sb, "true");
	else
		VMS_JO_LIT(sb, "false");
}

/* ,"key":v (no comma when first) */
static void put_num(struct vms_sb *sb, const char *key, uint64_t v, int first)
{
	vms_jo_key(sb, key, first);
	vms_jo_u64(sb, v);
}

/* The sample's members from "t_ms" to "types" (no braces); with_id: "snapshot_id" too. */
static void sample_members(struct vms_sb *sb, const struct vms_sample *s, uint32_t colmask, int with_id)
{
	vms_jo_key(sb, "t_ms", 1);
	vms_jo_i64(sb, s->t_ms);
	put_bool(sb, "gap_before", (s->flags & VMS_SAMPLE_GAP_BEFORE) != 0, 0);
	put_bool(sb, "restart", (s->flags & VMS_SAMPLE_RESTART) != 0, 0);
	put_bool(sb, "snapshot_by_threshold", (s->flags & VMS_SAMPLE_THRESHOLD) != 0, 0);
	if (with_id) {
		vms_jo_key(sb, "snapshot_id", 0);
		if (s->snapshot_id)
			vms_jo_i64(sb, s->snapshot_id);
		else
			VMS_JO_LIT(sb, "null");
	}
	put_num(sb, "threads", s->threads, 0);
	put_num(sb, "vm_rss", s->vm_rss, 0);
	put_num(sb, "vm_swap", s->vm_swap, 0);
	put_num(sb, "min_flt", s->min_flt, 0);
	put_num(sb, "maj_flt", s->maj_flt, 0);
	VMS_JO_LIT(sb, ",\"total\":{");
	vms_jo_col_members(sb, s->total, colmask, 1);
	VMS_JO_LIT(sb, "},\"types\":{");
	int first = 1;
	for (int t = 0; t < VMS_TYPE_COUNT; t++) {
		const struct vms_type_summary *ts = &s->summary[t];
		if (!ts->blocks && !ts->cols[VMS_COL_SIZE])
			continue; /* an empty type is left out */
		vms_jo_key(sb, vms_type_key((enum vms_type)t), first);
		first = 0;
		VMS_JO_LIT(sb, "{");
		int all = colmask == VMS_SAMPLE_ALL_COLUMNS;
		if (all) { /* the counts only with every column */
			put_num(sb, "blocks", ts->blocks, 1);
			put_num(sb, "largest", ts->largest, 0);
			put_num(sb, "regions", ts->regions, 0);
		}
		vms_jo_col_members(sb, ts->cols, colmask, !all);
		VMS_JO_LIT(sb, "}");
	}
	VMS_JO_LIT(sb, "}");
}

char *vms_json_timeline_sample(const struct vms_sample *s, int full_snapshot)
{
	struct vms_sb sb = {0};
	char *line = NULL;
	size_t len;
	/* no snapshot_id: ids are the store's, the file says which sample has one */
	VMS_JO_LIT(&sb, "{\"sample\":{");
	sample_members(&sb, s, VMS_SAMPLE_ALL_COLUMNS, 0);
	put_bool(&sb, "full_snapshot", full_snapshot, 0);
	VMS_JO_LIT(&sb, "}}\n");
	return vms_sb_finish(&sb, &line, &len) == VMS_OK ? line : NULL;
}

int vms_json_write_samples(const struct vms_samples_answer *a, char **out, size_t *len)
{
	struct vms_sb sb = {0};
	VMS_JO_LIT(&sb, "{");
	vms_jo_key(&sb, "watch_id", 1);
	vms_jo_i64(&sb, a->watch_id);
	put_num(&sb, "count", a->count, 0);
	vms_jo_key(&sb, "watch_state", 0);
	vms_jo_str(&sb, a->watch_state ? a->watch_state : "");
	VMS_JO_LIT(&sb, ",\"live\":{");
	put_bool(&sb, "waited", a->waited, 1);
	vms_jo_key(&sb, "refused", 0);
	vms_jo_str(&sb, a->refused); /* NULL prints null */
	VMS_JO_LIT(&sb, "}");
	put_bool(&sb, "downsampled", a->bucket_ms > 0, 0);
	vms_jo_key(&sb, "bucket_ms", 0);
	if (a->bucket_ms > 0)
		vms_jo_i64(&sb, a->bucket_ms);
	else
		VMS_JO_LIT(&sb, "null");
	VMS_JO_LIT(&sb, ",\"samples\":[");
	for (size_t i = 0; i < a->n; i++) {
		const struct vms_sample *s = &a->samples[i];
		if (i)
			VMS_JO_LIT(&sb, ",");
		VMS_JO_LIT(&sb, "{");
		sample_members(&sb, s, a->colmask, 1);
		if (a->bucket_ms > 0) { /* what the bucket stands for */
			put_num(&sb, "samples", s->n_merged, 0);
			put_num(&sb, "committed_min", s->committed_min, 0);
			put_num(&sb, "committed_max", s->committed_max, 0);
		}
		VMS_JO_LIT(&sb, "}");
	}
	VMS_JO_LIT(&sb, "]}");
	return vms_sb_finish(&sb, out, len);
}
