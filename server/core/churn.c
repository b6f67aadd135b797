/* How much the allocations changed since the last full snapshot (vmscope/churn.h). */
#include <stdlib.h>

#include "vmscope/churn.h"
#include "vmscope/error.h"

int vms_churn_remember(struct vms_churn_base *b, const struct vms_snapshot *s)
{
	b->set = 0;
	b->n = 0;
	if (s->n_allocations > b->cap) {
		uint64_t *p = realloc(b->starts, s->n_allocations * sizeof *p);
		if (!p)
			return VMS_ERR_NOMEM;
		b->starts = p;
		b->cap = s->n_allocations;
	}
	for (size_t i = 0; i < s->n_allocations; i++)
		if (s->allocations[i].type != VMS_TYPE_FREE)
			b->starts[b->n++] = s->allocations[i].start;
	for (int t = 0; t < VMS_TYPE_COUNT; t++)
		b->committed[t] = s->summary[t].cols[VMS_COL_COMMITTED];
	b->set = 1;
	return VMS_OK;
}

void vms_churn_measure(const struct vms_churn_base *b, const struct vms_snapshot *s, struct vms_churn *out)
{
	*out = (struct vms_churn){0};
	if (!b->set)
		return;
	/* both lists ascend by start (a snapshot's allocations are in address order) */
	size_t i = 0, j = 0;
	while (i < b->n || j < s->n_allocations) {
		if (j < s->n_allocations && s->allocations[j].type == VMS_TYPE_FREE) {
			j++;
			continue;
		}
		if (j == s->n_allocations || (i < b->n && b->starts[i] < s->allocations[j].start)) {
			out->removed++;
			i++;
		} else if (i == b->n || s->allocations[j].start < b->starts[i]) {
			out->added++;
			j++;
		} else {
			i++;
			j++;
		}
	}
	for (int t = 0; t < VMS_TYPE_COUNT; t++) {
		if (t == VMS_TYPE_FREE)
			continue;
		uint64_t now = s->summary[t].cols[VMS_COL_COMMITTED], then = b->committed[t];
		out->committed_moved += now > then ? now - then : then - now;
	}
}

int vms_churn_past(const struct vms_churn *c, uint32_t max_allocations, uint64_t max_committed)
{
	return (max_allocations && c->added + c->removed >= max_allocations) ||
	       (max_committed && c->committed_moved >= max_committed);
}

void vms_churn_clear(struct vms_churn_base *b)
{
	if (!b)
		return;
	free(b->starts);
	*b = (struct vms_churn_base){0};
}
