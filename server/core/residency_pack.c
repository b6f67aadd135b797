/* Residency kept with a snapshot (vmscope/pages.h): run-length encoding with a byte bound, its
 * decoder, clipping to a range, and the private ranges a snapshot's smaps vouch for. */
#include <stdlib.h>
#include <string.h>

#include "vmscope/error.h"
#include "vmscope/pages.h"
#include "vmscope/snapshot.h"
#include "vmscope/util.h"

#define PACK_VERSION 1
#define VARINT_MAX 10
#define HEADER_MAX (3 + 9 * VARINT_MAX)

static void count_pages(struct vms_residency *r)
{
	memset(r->pages, 0, sizeof r->pages);
	for (size_t i = 0; i < r->n_runs; i++)
		for (unsigned b = 0; b < 9; b++)
			if (r->runs[i].flags & (1u << b))
				r->pages[b] += (r->runs[i].end - r->runs[i].start) / r->page_size;
}

int vms_residency_encode(const struct vms_residency *r, size_t max_bytes, unsigned char **out, size_t *len)
{
	*out = NULL;
	*len = 0;
	if (max_bytes < VMS_RESIDENCY_MIN_BYTES || !r->page_size)
		return VMS_ERR_INVALID;
	/* the runs first (their count goes in the header), within what the header leaves */
	size_t room = max_bytes - HEADER_MAX, n = 0, kept = 0;
	size_t cap = r->n_runs * 3 * VARINT_MAX < room ? r->n_runs * 3 * VARINT_MAX : room;
	unsigned char *body = malloc(cap ? cap : 1), *o = NULL;
	if (!body)
		return VMS_ERR_NOMEM;
	uint64_t ps = r->page_size, prev = r->start, walk_end = r->walk_end;
	int truncated = r->truncated;
	for (size_t i = 0; i < r->n_runs; i++) {
		const struct vms_page_run *p = &r->runs[i];
		unsigned char tmp[3 * VARINT_MAX];
		size_t k = vms_leb128_put(tmp, (p->start - prev) / ps);
		k += vms_leb128_put(tmp + k, (p->end - p->start) / ps);
		k += vms_leb128_put(tmp + k, p->flags);
		if (n + k > cap) { /* the byte bound: stop here and say so */
			truncated = 1;
			walk_end = prev;
			break;
		}
		memcpy(body + n, tmp, k);
		n += k;
		prev = p->end;
		kept++;
	}
	if (!(o = malloc(HEADER_MAX + n))) {
		free(body);
		return VMS_ERR_NOMEM;
	}
	size_t h = 0;
	o[h++] = 'R';
	o[h++] = 'S';
	o[h++] = PACK_VERSION;
	const uint64_t head[] = {
	    ps,   (uint64_t)r->method,    r->known, (uint64_t)(truncated ? 1 : 0), r->start, r->end, walk_end,
	    kept, r->exclusive_from_smaps};
	for (size_t i = 0; i < sizeof head / sizeof head[0]; i++)
		h += vms_leb128_put(o + h, head[i]);
	memcpy(o + h, body, n);
	free(body);
	*out = o;
	*len = h + n;
	return VMS_OK;
}

int vms_residency_decode(const unsigned char *buf, size_t len, struct vms_residency *out)
{
	uint64_t head[9], v[3];
	size_t pos = 3;
	memset(out, 0, sizeof *out);
	if (len < 3 || buf[0] != 'R' || buf[1] != 'S' || buf[2] != PACK_VERSION)
		return VMS_ERR_IO;
	for (size_t i = 0; i < 9; i++)
		if (vms_leb128_get(buf, len, &pos, &head[i]))
			return VMS_ERR_IO;
	uint64_t ps = head[0];
	/* a page size is a power of two; every run takes at least 3 bytes */
	if (!ps || (ps & (ps - 1)) || head[4] > head[5] || head[6] > head[5] || head[7] > (len - pos) / 3 ||
	    head[4] % ps || head[5] % ps)
		return VMS_ERR_IO;
	out->page_size = ps;
	out->method = (int)head[1];
	out->known = (uint32_t)head[2] & VMS_PG_ALL;
	out->truncated = (int)(head[3] & 1);
	out->start = head[4];
	out->end = head[5];
	out->walk_end = head[6];
	out->exclusive_from_smaps = head[8];
	if (head[7] && !(out->runs = malloc(head[7] * sizeof *out->runs)))
		return VMS_ERR_NOMEM;
	uint64_t prev = out->start;
	for (uint64_t i = 0; i < head[7]; i++) {
		for (int k = 0; k < 3; k++)
			if (vms_leb128_get(buf, len, &pos, &v[k]))
				goto bad;
		/* in range, in order, no overflow */
		if (v[0] > (out->end - prev) / ps || !v[1] || v[1] > (out->end - prev) / ps - v[0] ||
		    v[2] > VMS_PG_ALL)
			goto bad;
		struct vms_page_run *p = &out->runs[out->n_runs++];
		memset(p, 0, sizeof *p);
		p->start = prev + v[0] * ps;
		p->end = p->start + v[1] * ps;
		p->flags = (uint32_t)v[2];
		prev = p->end;
	}
	if (pos != len)
		goto bad;
	count_pages(out);
	return VMS_OK;
bad:
	free(out->runs);
	memset(out, 0, sizeof *out);
	return VMS_ERR_IO;
}

void vms_residency_clip(struct vms_residency *r, uint64_t start, uint64_t end)
{
	size_t n = 0;
	start &= ~(r->page_size - 1);
	if (start < r->start)
		start = r->start;
	if (end > r->end)
		end = r->end;
	if (end < start)
		end = start;
	for (size_t i = 0; i < r->n_runs; i++) {
		struct vms_page_run p = r->runs[i];
		if (p.end <= start || p.start >= end)
			continue;
		if (p.start < start)
			p.start = start;
		if (p.end > end)
			p.end = end;
		r->runs[n++] = p;
	}
	r->n_runs = n;
	r->start = start;
	r->end = end;
	if (r->walk_end < start)
		r->walk_end = start;
	if (r->walk_end > end)
		r->walk_end = end;
	count_pages(r);
	if (r->exclusive_from_smaps > r->pages[3]) /* a count of the whole: at most what is left */
		r->exclusive_from_smaps = r->pages[3];
}

static int vouched_private(const struct vms_region *g)
{
	/* PFN and I/O mappings: pagemap never says exclusive there (no struct page) */
	if (g->vm_flag_bits & (VMS_VMF_PF | VMS_VMF_IO))
		return 0;
	return !g->smaps[VMS_SF_SHARED_CLEAN] && !g->smaps[VMS_SF_SHARED_DIRTY] && g->smaps[VMS_SF_RSS];
}

int vms_residency_private_ranges(const struct vms_snapshot *s, struct vms_addr_range **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	struct vms_addr_range *v = NULL;
	size_t k = 0;
	for (size_t i = 0; i < s->n_regions; i++) {
		const struct vms_region *g = &s->regions[i];
		if (!vouched_private(g))
			continue;
		if (k && v[k - 1].end == g->start) {
			v[k - 1].end = g->end;
			continue;
		}
		if (!v && !(v = malloc(s->n_regions * sizeof *v)))
			return VMS_ERR_NOMEM;
		v[k++] = (struct vms_addr_range){g->start, g->end};
	}
	*out = v;
	*n = k;
	return VMS_OK;
}

static int vouched_anon(const struct vms_region *g)
{
	if (g->inode || g->perms[3] != 'p' || (g->vm_flag_bits & (VMS_VMF_PF | VMS_VMF_IO | VMS_VMF_SH)))
		return 0;
	return g->smaps[VMS_SF_RSS] && g->smaps[VMS_SF_ANONYMOUS] == g->smaps[VMS_SF_RSS];
}

int vms_residency_anon_ranges(const struct vms_snapshot *s, uint64_t min_rss, struct vms_addr_range **out,
                              size_t *n)
{
	*out = NULL;
	*n = 0;
	struct vms_addr_range *v = NULL;
	size_t k = 0;
	uint64_t rss = 0; /* of v[k - 1] while it may still grow */
	int open = 0;
	for (size_t i = 0; i <= s->n_regions; i++) {
		const struct vms_region *g = i < s->n_regions ? &s->regions[i] : NULL;
		int ok = g && vouched_anon(g);
		if (ok && open && v[k - 1].end == g->start) {
			v[k - 1].end = g->end;
			rss += g->smaps[VMS_SF_RSS];
			continue;
		}
		if (open && rss < min_rss) /* too small to be worth a walk of its own */
			k--;
		open = 0;
		if (!ok)
			continue;
		if (!v && !(v = malloc(s->n_regions * sizeof *v)))
			return VMS_ERR_NOMEM;
		v[k++] = (struct vms_addr_range){g->start, g->end};
		rss = g->smaps[VMS_SF_RSS];
		open = 1;
	}
	if (!k) {
		free(v);
		v = NULL;
	}
	*out = v;
	*n = k;
	return VMS_OK;
}

int vms_residency_snapshot(pid_t pid, const struct vms_snapshot *s, size_t max_bytes, unsigned char **out,
                           size_t *len, struct vms_residency *info)
{
	struct vms_residency r;
	struct vms_addr_range *pr = NULL;
	size_t npr = 0;
	*out = NULL;
	*len = 0;
	if (max_bytes < VMS_RESIDENCY_MIN_BYTES)
		return VMS_ERR_INVALID;
	struct vms_addr_range *ar = NULL;
	size_t nar = 0;
	int err = vms_residency_private_ranges(s, &pr, &npr);
	if (!err)
		err = vms_residency_anon_ranges(s, VMS_RESIDENCY_ANON_MIN_RSS, &ar, &nar);
	if (err) {
		free(pr);
		return err;
	}
	/* every run takes at least 3 bytes: more runs than that could never be kept */
	struct vms_residency_opts o = {.max_runs = max_bytes / 3 + 1,
	                               .private_ranges = pr,
	                               .n_private_ranges = npr,
	                               .anon_ranges = ar,
	                               .n_anon_ranges = nar};
	err = vms_residency_read(pid, 0, 0, &o, &r);
	free(pr);
	free(ar);
	if (err)
		return err;
	err = vms_residency_encode(&r, max_bytes, out, len);
	vms_residency_free(&r);
	if (!err && info) {
		err = vms_residency_decode(*out, *len, info);
		if (err) {
			free(*out);
			*out = NULL;
			*len = 0;
		}
	}
	return err;
}
