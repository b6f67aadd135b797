/* The snapshots `vmscope watch` keeps, and its report per allocation (watch_keep.h). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmscope/growth.h"
#include "vmscope/util.h"
#include "watch_keep.h"

#define REPORT_TOP 5

void watch_keep_add(struct watch_keep *k, struct vms_snapshot *s)
{
	struct vms_snapshot *prev = k->last;
	k->last = s;
	if (!k->stride)
		k->stride = 1;
	if (!prev)
		return;
	/* prev was tick number k->ticks (0-based): keep it when on the stride */
	size_t tick = k->ticks++;
	if (tick % k->stride != 0) {
		vms_snapshot_free(prev);
		return;
	}
	if (k->n == WATCH_KEEP) { /* full: keep every other one (kept[0] stays) */
		size_t j = 1;
		for (size_t i = 1; i < k->n; i++) {
			if (i % 2 == 0)
				k->kept[j++] = k->kept[i];
			else
				vms_snapshot_free(k->kept[i]);
		}
		k->n = j;
		k->stride *= 2;
		if (tick % k->stride != 0) {
			vms_snapshot_free(prev);
			return;
		}
	}
	k->kept[k->n++] = prev;
}

const struct vms_snapshot *watch_keep_first(const struct watch_keep *k)
{
	return k->n ? k->kept[0] : k->last;
}

const struct vms_snapshot *watch_keep_last(const struct watch_keep *k)
{
	return k->last;
}

static double mib(int64_t v)
{
	return (double)v / (1024.0 * 1024.0);
}

static cJSON *cols_json(const int64_t v[VMS_COL_COUNT])
{
	cJSON *o = cJSON_CreateObject();
	for (int c = 0; o && c < VMS_COL_COUNT; c++)
		cJSON_AddNumberToObject(o, vms_col_key((enum vms_col)c), (double)v[c]);
	return o;
}

static cJSON *growth_json(const struct vms_alloc_growth *g, int since)
{
	cJSON *o = cJSON_CreateObject();
	char addr[24];
	snprintf(addr, sizeof addr, "0x%llx", (unsigned long long)g->a->start);
	cJSON_AddStringToObject(o, "start", addr);
	cJSON_AddNumberToObject(o, "size", (double)(g->a->end - g->a->start));
	cJSON_AddStringToObject(o, "type", vms_type_key(g->a->type));
	if (g->a->details)
		cJSON_AddStringToObject(o, "details", g->a->details);
	else
		cJSON_AddNullToObject(o, "details");
	cJSON_AddBoolToObject(o, "new", g->appeared_ms != 0);
	if (since) {
		cJSON_AddNumberToObject(o, "appeared_at_ms", (double)g->appeared_ms);
		cJSON_AddNumberToObject(o, "seen", g->seen);
	}
	cJSON_AddItemToObject(o, "delta", cols_json(since ? g->since_delta : g->delta));
	cJSON_AddItemToObject(o, "per_minute", cols_json(since ? g->since_per_minute : g->per_minute));
	return o;
}

static void print_text(const struct vms_alloc_growth *g, size_t n, size_t n_chain)
{
	size_t shown = 0;
	printf("\nallocations whose committed grew most (followed through %zu kept ticks):\n", n_chain);
	printf("  %-18s %-14s %12s %14s  %s\n", "start", "type", "committed", "per minute", "details");
	for (size_t i = 0; i < n && shown < REPORT_TOP; i++, shown++)
		printf("  0x%-16llx %-14s %+9.1f MiB %+10.1f MiB  %s%s\n", (unsigned long long)g[i].a->start,
		       vms_type_name(g[i].a->type), mib(g[i].delta[VMS_COL_COMMITTED]),
		       mib(g[i].per_minute[VMS_COL_COMMITTED]), g[i].appeared_ms ? "[new] " : "",
		       g[i].a->details ? g[i].a->details : "");
	if (!shown)
		printf("  none\n");
	printf("new allocations that appeared and kept growing:\n");
	shown = 0;
	for (size_t i = 0; i < n && shown < REPORT_TOP; i++) {
		if (!g[i].kept_growing)
			continue;
		char when[40];
		vms_format_time_ms(g[i].appeared_ms, when, sizeof when);
		printf("  0x%-16llx %-14s appeared %s, %+.1f MiB since (%+.1f MiB per minute)  %s\n",
		       (unsigned long long)g[i].a->start, vms_type_name(g[i].a->type), when,
		       mib(g[i].since_delta[VMS_COL_COMMITTED]),
		       mib(g[i].since_per_minute[VMS_COL_COMMITTED]), g[i].a->details ? g[i].a->details : "");
		shown++;
	}
	if (!shown)
		printf("  none\n");
}

static void print_json(const struct vms_alloc_growth *g, size_t n)
{
	cJSON *a = cJSON_CreateArray(), *b = cJSON_CreateArray();
	for (size_t i = 0, shown = 0; i < n && shown < REPORT_TOP; i++, shown++)
		cJSON_AddItemToArray(a, growth_json(&g[i], 0));
	for (size_t i = 0, shown = 0; i < n && shown < REPORT_TOP; i++)
		if (g[i].kept_growing) {
			cJSON_AddItemToArray(b, growth_json(&g[i], 1));
			shown++;
		}
	char *ta = cJSON_PrintUnformatted(a), *tb = cJSON_PrintUnformatted(b);
	printf(",\"allocations\":%s,\"new_allocations\":%s", ta ? ta : "[]", tb ? tb : "[]");
	cJSON_free(ta);
	cJSON_free(tb);
	cJSON_Delete(a);
	cJSON_Delete(b);
}

void watch_keep_report(const struct watch_keep *k, int json)
{
	const struct vms_snapshot *chain[WATCH_KEEP + 1];
	struct vms_alloc_growth *g = NULL;
	size_t n = 0, n_chain = 0;
	for (size_t i = 0; i < k->n; i++)
		chain[n_chain++] = k->kept[i];
	if (k->last)
		chain[n_chain++] = k->last;
	if (vms_growth_allocations(chain, n_chain, &g, &n) != VMS_OK)
		n = 0; /* out of memory: an empty report */
	if (json)
		print_json(g, n);
	else
		print_text(g, n, n_chain);
	free(g);
}

void watch_keep_free(struct watch_keep *k)
{
	for (size_t i = 0; i < k->n; i++)
		vms_snapshot_free(k->kept[i]);
	vms_snapshot_free(k->last);
	memset(k, 0, sizeof *k);
}
