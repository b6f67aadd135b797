/* Snapshot lifetime, derived columns, summaries and address lookup. No /proc access here. */
#include "vmscope/snapshot.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pool.h"
#include "snapshot_internal.h"
#include "vmscope/util.h"

struct vms_snapshot *vms_snapshot_new(void)
{
	struct vms_snapshot *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->pool = vms_pool_new();
	if (!s->pool) {
		free(s);
		return NULL;
	}
	s->format_version = VMS_FORMAT_VERSION;
	s->name = s->cmdline = s->user = s->host = s->kernel = "";
	s->arch.machine = "unknown";
	return s;
}

void vms_snapshot_free(struct vms_snapshot *s)
{
	if (!s)
		return;
	vms_pool_free(s->pool);
	free(s);
}

const char *vms_snapshot_strndup(struct vms_snapshot *snap, const char *s, size_t n)
{
	if (!s)
		return NULL;
	return vms_pool_strndup(snap->pool, s, n);
}

const char *vms_snapshot_vfmt(struct vms_snapshot *snap, const char *format, va_list ap)
{
	char buf[512];
	int n = vsnprintf(buf, sizeof buf, format, ap);
	if (n < 0)
		return NULL;
	return vms_pool_strndup(snap->pool, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

const char *vms_snapshot_fmt(struct vms_snapshot *snap, const char *format, ...)
{
	va_list ap;
	va_start(ap, format);
	const char *r = vms_snapshot_vfmt(snap, format, ap);
	va_end(ap);
	return r;
}

const char *vms_snapshot_strdup(struct vms_snapshot *snap, const char *s)
{
	return s ? vms_pool_strndup(snap->pool, s, strlen(s)) : NULL;
}

void *vms_snapshot_alloc(struct vms_snapshot *snap, size_t size)
{
	return vms_pool_alloc(snap->pool, size);
}

int vms_snapshot_adopt(struct vms_snapshot *s, void *block)
{
	return vms_pool_adopt(s->pool, block);
}

/* A mnemonic's two letters as one number (a switch's case). */
#define VMF2(a, b) ((unsigned)(a) << 8 | (unsigned)(b))

unsigned vms_vmflags_parse(const char *text, size_t len)
{
	unsigned bits = 0;
	for (size_t i = 0; i + 1 < len; i++) {
		if (text[i] == ' ')
			continue;
		/* a mnemonic is two letters followed by a space or the end */
		if (i + 2 == len || text[i + 2] == ' ') {
			switch (VMF2((unsigned char)text[i], (unsigned char)text[i + 1])) {
			case VMF2('r', 'd'):
				bits |= VMS_VMF_RD;
				break;
			case VMF2('w', 'r'):
				bits |= VMS_VMF_WR;
				break;
			case VMF2('e', 'x'):
				bits |= VMS_VMF_EX;
				break;
			case VMF2('s', 'h'):
				bits |= VMS_VMF_SH;
				break;
			case VMF2('g', 'd'):
				bits |= VMS_VMF_GD;
				break;
			case VMF2('l', 'o'):
				bits |= VMS_VMF_LO;
				break;
			case VMF2('a', 'c'):
				bits |= VMS_VMF_AC;
				break;
			case VMF2('n', 'r'):
				bits |= VMS_VMF_NR;
				break;
			case VMF2('h', 't'):
				bits |= VMS_VMF_HT;
				break;
			case VMF2('n', 'h'):
				bits |= VMS_VMF_NH;
				break;
			case VMF2('h', 'g'):
				bits |= VMS_VMF_HG;
				break;
			case VMF2('g', 'u'):
				bits |= VMS_VMF_GU;
				break;
			case VMF2('p', 'f'):
				bits |= VMS_VMF_PF;
				break;
			case VMF2('i', 'o'):
				bits |= VMS_VMF_IO;
				break;
			case VMF2('d', 'd'):
				bits |= VMS_VMF_DD;
				break;
			default:
				break;
			}
		}
		while (i < len && text[i] != ' ')
			i++;
	}
	return bits;
}

void vms_region_columns(const struct vms_region *r, uint64_t cols[VMS_COL_COUNT])
{
	const uint64_t *f = r->smaps;
	uint64_t size = r->end - r->start;
	int no_access = r->perms[0] == '-' && r->perms[1] == '-' && r->perms[2] == '-';
	int shared = r->perms[3] == 's';

	memset(cols, 0, sizeof(uint64_t) * VMS_COL_COUNT);
	cols[VMS_COL_SIZE] = size;
	cols[VMS_COL_COMMITTED] = no_access ? 0 : size;
	if (no_access || shared)
		cols[VMS_COL_PRIVATE] = 0;
	else if (r->perms[1] == 'w' || (r->vm_flag_bits & VMS_VMF_AC))
		cols[VMS_COL_PRIVATE] = size;
	else
		cols[VMS_COL_PRIVATE] = f[VMS_SF_ANONYMOUS] + f[VMS_SF_SWAP];

	uint64_t rss = f[VMS_SF_RSS];
	uint64_t total = rss + f[VMS_SF_SHARED_HUGETLB] + f[VMS_SF_PRIVATE_HUGETLB];
	uint64_t shared_ws = f[VMS_SF_SHARED_CLEAN] + f[VMS_SF_SHARED_DIRTY] + f[VMS_SF_SHARED_HUGETLB];
	uint64_t anon = f[VMS_SF_ANONYMOUS] < rss ? f[VMS_SF_ANONYMOUS] : rss;
	uint64_t shareable = rss - anon + f[VMS_SF_SHARED_HUGETLB];
	if (shared) /* a MAP_SHARED hugetlb page mapped once is counted in Private_Hugetlb */
		shareable += f[VMS_SF_PRIVATE_HUGETLB];
	if (shared_ws > shareable)
		shareable = shared_ws;
	if (shareable > total) /* only with inconsistent (torn) input */
		shareable = total;
	cols[VMS_COL_TOTAL_WS] = total;
	/* A self-aliased view (VMS_ROLE_VIEW): its Shared_* pages are shared only with the process's
	 * own other views of the object, so nothing counts as shared with other processes. */
	cols[VMS_COL_SHARED_WS] = r->role && !strcmp(r->role, VMS_ROLE_VIEW) ? 0 : shared_ws;
	cols[VMS_COL_SHAREABLE_WS] = shareable;
	cols[VMS_COL_PRIVATE_WS] = total - shareable;
	cols[VMS_COL_LOCKED_WS] = (r->vm_flag_bits & VMS_VMF_LO) ? total : 0;
	cols[VMS_COL_PSS] = f[VMS_SF_PSS];
	cols[VMS_COL_USS] = f[VMS_SF_PRIVATE_CLEAN] + f[VMS_SF_PRIVATE_DIRTY];
	cols[VMS_COL_SWAP] = f[VMS_SF_SWAP];
	cols[VMS_COL_SWAP_PSS] = f[VMS_SF_SWAP_PSS];
	cols[VMS_COL_DIRTY] = f[VMS_SF_SHARED_DIRTY] + f[VMS_SF_PRIVATE_DIRTY];
}

static int compute_gaps(struct vms_snapshot *s)
{
	size_t cap = s->n_regions + 1, n = 0;
	struct vms_gap *gaps = vms_snapshot_alloc(s, cap * sizeof *gaps);
	if (!gaps)
		return VMS_ERR_NOMEM;
	uint64_t cursor = s->mmap_min_addr;
	for (size_t i = 0; i < s->n_regions; i++) {
		const struct vms_region *r = &s->regions[i];
		if (s->user_top && r->start >= s->user_top)
			break; /* [vsyscall] and anything else above the user address space */
		if (r->start > cursor)
			gaps[n++] = (struct vms_gap){cursor, r->start};
		if (r->end > cursor)
			cursor = r->end;
	}
	if (s->user_top > cursor)
		gaps[n++] = (struct vms_gap){cursor, s->user_top};
	s->gaps = gaps;
	s->n_gaps = n;
	return VMS_OK;
}

int vms_snapshot_summarize(struct vms_snapshot *s)
{
	return vms_snapshot_summarize_changed(s, NULL);
}

int vms_snapshot_summarize_changed(struct vms_snapshot *s, const long *same_as)
{
	size_t next = 0;
	for (size_t a = 0; a < s->n_allocations; a++) {
		struct vms_allocation *al = &s->allocations[a];
		if (al->n_regions == 0 || al->first_region != next || next + al->n_regions > s->n_regions ||
		    (unsigned)al->type >= VMS_TYPE_COUNT || al->type == VMS_TYPE_FREE ||
		    al->type == VMS_TYPE_PAGE_TABLE)
			return VMS_ERR_INVALID;
		int kept = same_as && same_as[a] >= 0; /* its columns and sums are current */
		if (!kept)
			memset(al->cols, 0, sizeof al->cols);
		for (uint32_t k = 0; k < al->n_regions; k++) {
			struct vms_region *r = &s->regions[next + k];
			r->type = al->type;
			r->allocation = (uint32_t)a;
			if (kept)
				continue;
			vms_region_columns(r, r->cols);
			for (int c = 0; c < VMS_COL_COUNT; c++)
				al->cols[c] += r->cols[c];
		}
		al->start = s->regions[next].start;
		al->end = s->regions[next + al->n_regions - 1].end;
		next += al->n_regions;
	}
	if (next != s->n_regions)
		return VMS_ERR_INVALID;
	return vms_snapshot_summarize_types(s);
}

int vms_snapshot_summarize_types(struct vms_snapshot *s)
{
	for (size_t i = 1; i < s->n_regions; i++)
		if (s->regions[i].start < s->regions[i - 1].end)
			return VMS_ERR_INVALID;

	int err = compute_gaps(s);
	if (err)
		return err;

	memset(s->summary, 0, sizeof s->summary);
	memset(s->total, 0, sizeof s->total);
	for (size_t a = 0; a < s->n_allocations; a++) {
		const struct vms_allocation *al = &s->allocations[a];
		struct vms_type_summary *t = &s->summary[al->type];
		for (int c = 0; c < VMS_COL_COUNT; c++)
			t->cols[c] += al->cols[c];
		t->blocks++;
		t->regions += al->n_regions;
		if (al->cols[VMS_COL_SIZE] > t->largest)
			t->largest = al->cols[VMS_COL_SIZE];
	}
	struct vms_type_summary *pt = &s->summary[VMS_TYPE_PAGE_TABLE];
	pt->cols[VMS_COL_SIZE] = pt->cols[VMS_COL_COMMITTED] = pt->cols[VMS_COL_PRIVATE] =
	    pt->cols[VMS_COL_TOTAL_WS] = pt->cols[VMS_COL_PRIVATE_WS] = s->page_table_bytes;
	/* Pss/Uss stay 0 so that total Pss/Uss equal smaps_rollup's, which knows no page tables. */
	pt->blocks = s->page_table_bytes ? 1 : 0;
	pt->largest = s->page_table_bytes;

	struct vms_type_summary *fr = &s->summary[VMS_TYPE_FREE];
	for (size_t g = 0; g < s->n_gaps; g++) {
		uint64_t sz = s->gaps[g].end - s->gaps[g].start;
		fr->cols[VMS_COL_SIZE] += sz;
		if (sz > fr->largest)
			fr->largest = sz;
	}
	fr->blocks = s->n_gaps;

	for (int t = 0; t < VMS_TYPE_COUNT; t++) {
		if (t == VMS_TYPE_FREE)
			continue;
		for (int c = 0; c < VMS_COL_COUNT; c++)
			s->total[c] += s->summary[t].cols[c];
	}
	return VMS_OK;
}

void vms_snapshot_lookup(const struct vms_snapshot *s, uint64_t addr, struct vms_lookup *out)
{
	memset(out, 0, sizeof *out);
	out->region = out->allocation = out->prev_region = out->next_region = -1;
	/* binary search: first region with end > addr */
	size_t lo = 0, hi = s->n_regions;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->regions[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < s->n_regions && s->regions[lo].start <= addr) {
		out->kind = 0;
		out->region = (long)lo;
		out->allocation = (long)s->regions[lo].allocation;
		out->prev_region = lo > 0 ? (long)lo - 1 : -1;
		out->next_region = lo + 1 < s->n_regions ? (long)lo + 1 : -1;
		return;
	}
	out->prev_region = lo > 0 ? (long)lo - 1 : -1;
	out->next_region = lo < s->n_regions ? (long)lo : -1;
	for (size_t g = 0; g < s->n_gaps; g++) {
		if (s->gaps[g].start <= addr && addr < s->gaps[g].end) {
			out->kind = 1;
			out->gap_start = s->gaps[g].start;
			out->gap_end = s->gaps[g].end;
			uint64_t size = out->gap_end - out->gap_start,
			         page = s->page_size ? s->page_size : 4096;
			if (lo < s->n_regions && s->regions[lo].start == out->gap_end &&
			    (s->regions[lo].vm_flag_bits & VMS_VMF_GD)) {
				out->gap_guard = 1;
				size = size > VMS_STACK_GUARD_GAP ? size - VMS_STACK_GUARD_GAP : 0;
			}
			out->gap_fit = size & ~(page - 1);
			return;
		}
	}
	out->kind = 2;
}

int vms_parse_address(const char *text, uint64_t *out)
{
	if (!text)
		return VMS_ERR_INVALID;
	if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X'))
		text += 2;
	if (!*text)
		return VMS_ERR_INVALID;
	uint64_t v = 0;
	size_t n = 0;
	for (; *text; text++, n++) {
		int d = vms_hex_digit((unsigned char)*text);
		if (d < 0)
			return VMS_ERR_INVALID;
		if (v >> 60)
			return VMS_ERR_INVALID; /* would overflow 64 bits */
		v = v << 4 | (unsigned)d;
	}
	*out = v;
	return VMS_OK;
}
