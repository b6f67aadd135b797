/* Direct diff writer: the JSON of json.c's vms_json_diff() as cJSON_PrintUnformatted() prints
 * it, without the tree (a diff of 60,000 changed regions: 0.7 s and hundreds of MB as a tree).
 * tests/unit/test_json_write.c compares the two byte for byte. */
#include <stdio.h>
#include <string.h>

#include "jsonout.h"
#include "textutil.h"
#include "vmscope/json.h"

#define LIT VMS_JO_LIT

static void side_info(struct vms_sb *sb, const char *k, const struct vms_snapshot *s, int first)
{
	char tbuf[40];
	vms_jo_key(sb, k, first);
	LIT(sb, "{\"pid\":");
	vms_jo_i64(sb, s->pid);
	LIT(sb, ",\"name\":");
	vms_jo_str(sb, s->name);
	LIT(sb, ",\"start_time_ticks\":");
	vms_jo_u64(sb, s->start_time);
	LIT(sb, ",\"taken_at\":");
	vms_jo_str(sb, vms_format_taken_ms(s->taken_at_ms, tbuf, sizeof tbuf));
	LIT(sb, ",\"taken_at_ms\":");
	vms_jo_i64(sb, s->taken_at_ms);
	LIT(sb, "}");
}

static void changes(struct vms_sb *sb, unsigned ch)
{
	LIT(sb, "{\"changes\":[");
	int first = 1;
	for (unsigned bit = 1; bit <= VMS_CHANGE_USAGE; bit <<= 1) {
		if (!(ch & bit))
			continue;
		if (!first)
			LIT(sb, ",");
		first = 0;
		vms_jo_str(sb, vms_change_key((enum vms_change)bit));
	}
	LIT(sb, "]");
}

/* One side of a changed item: the key k, then null when idx is not an index below n (the item
 * is not on that side), else {"index":idx — left open for the caller's members. Returns 1 when
 * the object was opened. */
static int side_open(struct vms_sb *sb, const char *k, long idx, size_t n)
{
	vms_jo_key(sb, k, 0);
	if (idx < 0 || (size_t)idx >= n) {
		LIT(sb, "null");
		return 0;
	}
	LIT(sb, "{\"index\":");
	vms_jo_i64(sb, idx);
	return 1;
}

static void alloc_side(struct vms_sb *sb, const char *k, const struct vms_snapshot *s, long idx)
{
	if (!side_open(sb, k, idx, s->n_allocations))
		return;
	const struct vms_allocation *a = &s->allocations[idx];
	LIT(sb, ",");
	vms_jo_allocation_head(sb, a);
	LIT(sb, ",\"regions\":");
	vms_jo_u64(sb, a->n_regions);
	vms_jo_columns(sb, "columns", a->cols);
	LIT(sb, "}");
}

static void region_side(struct vms_sb *sb, const char *k, const struct vms_snapshot *s, long idx)
{
	if (!side_open(sb, k, idx, s->n_regions))
		return;
	const struct vms_region *r = &s->regions[idx];
	LIT(sb, ",\"start\":");
	vms_jo_addr(sb, r->start);
	LIT(sb, ",\"end\":");
	vms_jo_addr(sb, r->end);
	LIT(sb, ",\"size\":");
	vms_jo_u64(sb, r->end - r->start);
	LIT(sb, ",\"perms\":");
	vms_jo_str(sb, r->perms);
	LIT(sb, ",\"type\":");
	vms_jo_str(sb, vms_type_key(r->type));
	LIT(sb, ",\"path\":");
	vms_jo_str(sb, r->path);
	if (r->deleted)
		LIT(sb, ",\"deleted\":true,\"role\":");
	else
		LIT(sb, ",\"deleted\":false,\"role\":");
	vms_jo_str(sb, r->role);
	LIT(sb, ",\"allocation\":");
	vms_jo_i64(sb, r->allocation);
	vms_jo_columns(sb, "columns", r->cols);
	LIT(sb, "}");
}

/* The n changed items e of d as array members {"changes":[...],"from":...,"to":...,"delta":{...}},
 * each side written by side (alloc_side or region_side). */
static void entries(struct vms_sb *sb, const struct vms_diff *d, const struct vms_diff_entry *e, size_t n,
                    void (*side)(struct vms_sb *, const char *, const struct vms_snapshot *, long))
{
	for (size_t i = 0; i < n && !sb->oom; i++) {
		if (i)
			LIT(sb, ",");
		changes(sb, e[i].changes);
		side(sb, "from", d->from, e[i].from);
		side(sb, "to", d->to, e[i].to);
		vms_jo_deltas(sb, "delta", e[i].delta);
		LIT(sb, "}");
	}
}

int vms_json_write_diff(const struct vms_diff *d, const char *extra_members, char **out, size_t *len)
{
	struct vms_sb sb = {0};
	*out = NULL;
	vms_jo_reserve(&sb, 4096 + (d->n_allocations + d->n_regions) * 900);
	LIT(&sb, "{");
	side_info(&sb, "from", d->from, 1);
	side_info(&sb, "to", d->to, 0);
	if (d->from->pid == d->to->pid && d->from->start_time == d->to->start_time)
		LIT(&sb, ",\"same_process\":true,\"summary\":[");
	else
		LIT(&sb, ",\"same_process\":false,\"summary\":[");
	for (int t = 0; t < VMS_TYPE_COUNT; t++) {
		if (t)
			LIT(&sb, ",");
		LIT(&sb, "{\"type\":");
		vms_jo_str(&sb, vms_type_key((enum vms_type)t));
		LIT(&sb, ",\"name\":");
		vms_jo_str(&sb, vms_type_name((enum vms_type)t));
		LIT(&sb, ",\"blocks\":");
		vms_jo_i64(&sb, d->type_blocks_delta[t]);
		vms_jo_deltas(&sb, "columns", d->type_delta[t]);
		LIT(&sb, "}");
	}
	LIT(&sb, "]");
	vms_jo_deltas(&sb, "total", d->total_delta);
	LIT(&sb, ",\"allocations\":[");
	entries(&sb, d, d->allocations, d->n_allocations, alloc_side);
	LIT(&sb, "],\"regions\":[");
	entries(&sb, d, d->regions, d->n_regions, region_side);
	LIT(&sb, "]");
	if (extra_members && *extra_members) {
		LIT(&sb, ",");
		vms_jo_lit(&sb, extra_members, strlen(extra_members));
	}
	LIT(&sb, "}");
	return vms_sb_finish(&sb, out, len);
}
