/* Packed body version 1 (schema 2, released in c19a91c): FROZEN. This is the decoder for every
 * version-1 body in users' databases, kept as long as such bodies may exist (house style 17;
 * tests/fixtures/golden/v1-pack1-schema2 holds some). Do not change what it reads. The writer is
 * kept for tests only (vms_store_pack_v1); the store writes version 2 (pack.c).
 *
 * Version 1 was the store's own compact encoding of a snapshot: what vms_snapshot_take
 * measured, nothing derived. Columns, allocation bounds, Free gaps, the per-type summary and
 * totals are recomputed by vms_snapshot_summarize() on the way back, as an import would.
 *
 * Layout (all integers LEB128 varints, signed ones zigzag-encoded):
 *   "VMSP" version(=1)
 *   header: format_version pid ppid uid start_time arch.bits taken_at_ms page_size mmap_min_addr
 *           user_top status(11 values + threads) has_rollup rollup[VMS_SF_COUNT]
 *           page_table_bytes malformed_lines; strings name cmdline user machine host kernel
 *           thread_note
 *   regions: n, then per region: start as a delta from the previous region's end, size, perms (4
 *           bytes), offset, dev major, dev minor, inode, deleted, thp_eligible, protection_key,
 *           smaps[VMS_SF_COUNT], strings path vm_flags role
 *   allocations: n, then type n_regions tid, string details
 *   threads: n, then tid sp stack_allocation, string name
 * A string is a varint tag: 0 = NULL, 1 = the same as this field's previous value (image
 * segments share a path, most regions share a VmFlags text), n + 2 = n bytes follow.
 * For a 60,000-VMA process this is about 20x smaller than the JSON and 10x faster to write
 * and read back (docs/benchmarks.md). */
#include <stdlib.h>
#include <string.h>

#include "pack_io.h"
#include "store_internal.h"
#include "vmscope/error.h"

#define PACK_MAGIC "VMSP"
#define PACK_VERSION 1

/* The memory type numbers version 1 wrote: enum vms_type as it was in c19a91c. Mapped through
 * the stable keys so that a type added to the enum anywhere never re-types an old body. */
static const char *const v1_type_keys[] = {"image",        "mapped_file", "shareable",    "heap",
                                           "managed_heap", "stack",       "private_data", "page_table",
                                           "kernel",       "reserved",    "free"};

int vms_store_pack_v1(const struct vms_snapshot *s, unsigned char **out, size_t *len)
{
	struct wbuf w = {0};
	const char *prev_path = NULL, *prev_flags = NULL, *prev_role = NULL, *prev_details = NULL;
	const struct vms_status *st = &s->status;

	w_bytes(&w, PACK_MAGIC, 4);
	w_u64(&w, PACK_VERSION);
	w_i64(&w, s->format_version);
	w_i64(&w, s->pid);
	w_i64(&w, s->ppid);
	w_u64(&w, s->uid);
	w_u64(&w, s->start_time);
	w_i64(&w, s->arch.bits);
	w_i64(&w, s->taken_at_ms);
	w_u64(&w, s->page_size);
	w_u64(&w, s->mmap_min_addr);
	w_u64(&w, s->user_top);
	const uint64_t status[] = {st->vm_size,   st->vm_rss,  st->rss_anon, st->rss_file,
	                           st->rss_shmem, st->vm_swap, st->vm_pte,   st->vm_lck,
	                           st->vm_hwm,    st->vm_data, st->vm_stk};
	for (size_t i = 0; i < sizeof status / sizeof status[0]; i++)
		w_u64(&w, status[i]);
	w_i64(&w, st->threads);
	w_i64(&w, s->has_rollup);
	for (int f = 0; f < VMS_SF_COUNT; f++)
		w_u64(&w, s->rollup[f]);
	w_u64(&w, s->page_table_bytes);
	w_u64(&w, s->malformed_lines);
	w_str(&w, s->name, NULL);
	w_str(&w, s->cmdline, NULL);
	w_str(&w, s->user, NULL);
	w_str(&w, s->arch.machine, NULL);
	w_str(&w, s->host, NULL);
	w_str(&w, s->kernel, NULL);
	w_str(&w, s->thread_note, NULL);

	w_u64(&w, s->n_regions);
	uint64_t prev_end = 0;
	for (size_t i = 0; i < s->n_regions; i++) {
		const struct vms_region *r = &s->regions[i];
		w_i64(&w, (int64_t)(r->start - prev_end));
		w_u64(&w, r->end - r->start);
		prev_end = r->end;
		w_bytes(&w, r->perms, 4);
		w_u64(&w, r->offset);
		w_u64(&w, r->dev_major);
		w_u64(&w, r->dev_minor);
		w_u64(&w, r->inode);
		w_i64(&w, r->deleted);
		w_i64(&w, r->thp_eligible);
		w_i64(&w, r->protection_key);
		for (int f = 0; f < VMS_SF_COUNT; f++)
			w_u64(&w, r->smaps[f]);
		w_str(&w, r->path, &prev_path);
		w_str(&w, r->vm_flags, &prev_flags);
		w_str(&w, r->role, &prev_role);
	}
	w_u64(&w, s->n_allocations);
	for (size_t i = 0; i < s->n_allocations; i++) {
		const struct vms_allocation *a = &s->allocations[i];
		int v1 = -1;
		for (size_t k = 0; k < sizeof v1_type_keys / sizeof v1_type_keys[0]; k++)
			if (strcmp(v1_type_keys[k], vms_type_key(a->type)) == 0)
				v1 = (int)k;
		if (v1 < 0) {
			free(w.p);
			return VMS_ERR_INVALID; /* a type version 1 cannot say */
		}
		w_u64(&w, (uint64_t)v1);
		w_u64(&w, a->n_regions);
		w_i64(&w, a->tid);
		w_str(&w, a->details, &prev_details);
	}
	w_u64(&w, s->n_threads);
	for (size_t i = 0; i < s->n_threads; i++) {
		const struct vms_thread *t = &s->threads[i];
		w_i64(&w, t->tid);
		w_u64(&w, t->sp);
		w_i64(&w, t->stack_allocation);
		w_str(&w, t->name, NULL);
	}
	if (w.oom) {
		free(w.p);
		return VMS_ERR_NOMEM;
	}
	*out = w.p;
	*len = w.len;
	return VMS_OK;
}

int vms_store_unpack_v1(const unsigned char *buf, size_t len, struct vms_snapshot **out)
{
	*out = NULL;
	if (len < 5 || memcmp(buf, PACK_MAGIC, 4) != 0)
		return VMS_ERR_IO;
	struct vms_snapshot *s = vms_snapshot_new();
	if (!s)
		return VMS_ERR_NOMEM;
	struct rbuf r = {.p = buf + 4, .end = buf + len, .s = s};
	const char *prev_path = NULL, *prev_flags = NULL, *prev_role = NULL, *prev_details = NULL;
	struct vms_status *st = &s->status;

	if (r_u64(&r) != PACK_VERSION)
		goto bad;
	s->format_version = (int)r_i64(&r);
	s->pid = (pid_t)r_i64(&r);
	s->ppid = (pid_t)r_i64(&r);
	s->uid = (uid_t)r_u64(&r);
	s->start_time = r_u64(&r);
	s->arch.bits = (int)r_i64(&r);
	s->taken_at_ms = r_i64(&r);
	s->page_size = r_u64(&r);
	s->mmap_min_addr = r_u64(&r);
	s->user_top = r_u64(&r);
	uint64_t *status[] = {&st->vm_size,   &st->vm_rss,  &st->rss_anon, &st->rss_file,
	                      &st->rss_shmem, &st->vm_swap, &st->vm_pte,   &st->vm_lck,
	                      &st->vm_hwm,    &st->vm_data, &st->vm_stk};
	for (size_t i = 0; i < sizeof status / sizeof status[0]; i++)
		*status[i] = r_u64(&r);
	st->threads = (int)r_i64(&r);
	s->has_rollup = (int)r_i64(&r);
	for (int f = 0; f < VMS_SF_COUNT; f++)
		s->rollup[f] = r_u64(&r);
	s->page_table_bytes = r_u64(&r);
	s->malformed_lines = (unsigned)r_u64(&r);
	const char *str;
	if ((str = r_str(&r, NULL)))
		s->name = str;
	if ((str = r_str(&r, NULL)))
		s->cmdline = str;
	if ((str = r_str(&r, NULL)))
		s->user = str;
	if ((str = r_str(&r, NULL)))
		s->arch.machine = str;
	if ((str = r_str(&r, NULL)))
		s->host = str;
	if ((str = r_str(&r, NULL)))
		s->kernel = str;
	s->thread_note = r_str(&r, NULL);

	size_t n = r_count(&r, 4 + 2 + VMS_SF_COUNT);
	s->regions = r_array(&r, n, sizeof *s->regions);
	uint64_t prev_end = 0;
	for (size_t i = 0; i < n && !r.bad; i++) {
		struct vms_region *g = &s->regions[i];
		g->start = prev_end + (uint64_t)r_i64(&r);
		g->end = g->start + r_u64(&r);
		prev_end = g->end;
		if (r.end - r.p < 4) {
			r.bad = 1;
			break;
		}
		memcpy(g->perms, r.p, 4);
		g->perms[4] = '\0';
		r.p += 4;
		g->offset = r_u64(&r);
		g->dev_major = (unsigned)r_u64(&r);
		g->dev_minor = (unsigned)r_u64(&r);
		g->inode = r_u64(&r);
		g->deleted = (int)r_i64(&r);
		g->thp_eligible = (int)r_i64(&r);
		g->protection_key = (int)r_i64(&r);
		for (int f = 0; f < VMS_SF_COUNT; f++)
			g->smaps[f] = r_u64(&r);
		g->path = r_str(&r, &prev_path);
		g->vm_flags = r_str(&r, &prev_flags);
		g->role = r_str(&r, &prev_role);
		if (!g->vm_flags)
			g->vm_flags = "";
		g->vm_flag_bits = vms_vmflags_parse(g->vm_flags, strlen(g->vm_flags));
	}
	s->n_regions = r.bad ? 0 : n;

	n = r_count(&r, 4);
	s->allocations = r_array(&r, n, sizeof *s->allocations);
	uint32_t first = 0;
	for (size_t i = 0; i < n && !r.bad; i++) {
		struct vms_allocation *a = &s->allocations[i];
		uint64_t type = r_u64(&r), nr = r_u64(&r);
		int t = type < sizeof v1_type_keys / sizeof v1_type_keys[0]
		            ? vms_type_from_key(v1_type_keys[type])
		            : -1;
		if (t < 0 || nr > s->n_regions - first) {
			r.bad = 1;
			break;
		}
		a->type = (enum vms_type)t;
		a->first_region = first;
		a->n_regions = (uint32_t)nr;
		first += (uint32_t)nr;
		a->tid = (int)r_i64(&r);
		a->details = r_str(&r, &prev_details);
	}
	s->n_allocations = r.bad ? 0 : n;

	n = r_count(&r, 4);
	s->threads = r_array(&r, n, sizeof *s->threads);
	for (size_t i = 0; i < n && !r.bad; i++) {
		struct vms_thread *t = &s->threads[i];
		t->tid = (int)r_i64(&r);
		t->sp = r_u64(&r);
		t->stack_allocation = (int)r_i64(&r);
		t->name = r_str(&r, NULL);
		if (t->stack_allocation < -1 || t->stack_allocation >= (int64_t)s->n_allocations)
			r.bad = 1;
	}
	s->n_threads = r.bad ? 0 : n;
	if (r.bad || r.p != r.end || vms_snapshot_summarize(s) != VMS_OK)
		goto bad;
	*out = s;
	return VMS_OK;
bad:
	vms_snapshot_free(s);
	return VMS_ERR_IO;
}
