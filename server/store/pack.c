/* The store's own compact encoding of a snapshot (the "packed body"), version 2: what
 * vms_snapshot_take measured and the attribution stage named, nothing derived. Columns,
 * allocation bounds, Free gaps, the per-type summary and totals are recomputed by
 * vms_snapshot_summarize() on the way back, as an import would.
 *
 * Version 2 walks the record tables (include/vmscope/record.h), so a field added there is
 * stored, and one this build does not know is skipped (house style 16, 17):
 *
 *   body     = "VMSP" varint(2) section* varint(0)         -- the 0 marks the end: a body cut
 *                                                            short anywhere is refused
 *   section  = varint(id >= 1) varint(byte length) payload -- an unknown id is skipped whole
 *     1 header       varint(record version) record(vms_rec_snapshot, nested objects flattened)
 *     2 types        varint(n) string*n: memory type keys ("image", ...); a TYPE field holds an
 *                    index into this list, so types are stored by their stable key, never by
 *                    enum position
 *     3 regions      varint(record version) varint(n) record(vms_rec_region)*n
 *     4 allocations  ... vms_rec_allocation (its region count is a stored-only field)
 *     5 parts        ... vms_rec_part (with its allocation index)
 *     6 threads      ... vms_rec_thread
 *     7 recognisers  ... vms_rec_recogniser
 *   record   = field* varint(0)
 *   field    = varint(tag << 2 | wire) value
 *     wire 0 varint: unsigned kinds as is, signed kinds zigzag, TYPE an index into "types",
 *            DEV major << 32 | minor; a DELTA field (start) as the signed distance from the
 *            previous record's end, a LENGTH field (end) as end - start
 *     wire 1 string: varint 0 = NULL, 1 = the same as this field's previous value (BACKREF
 *            fields only), n + 2 = n bytes follow
 *            PERMS as bits r 1, w 2, x 4, s 8
 *     wire 2 bytes: varint(n) then n bytes: SMAPS/ROLLUP: varint(bitmap, bit t-1 for each smaps
 *            tag t (vms_smaps_tags, t <= 64) whose value is non-zero) then those values as
 *            varints in tag order
 * A field equal to its default (record.c: dflt, dflt_str) is not written; a missing field
 * takes its default. An unknown tag is skipped by its wire type. A record version above the
 * one this build knows is refused (VMS_ERR_UNSUPPORTED): it is bumped only when a field
 * changes meaning.
 *
 * Version 1 bodies (c19a91c and before) are read by pack_v1.c, kept forever. */
#include <stddef.h>
#include <string.h>

#include "pack_io.h"
#include "store_internal.h"
#include "vmscope/error.h"
#include "vmscope/record.h"
#include "vmscope/util.h"

#define PACK_MAGIC "VMSP"
#define PACK_VERSION 2
#define MAX_TAG 64

enum section {
	SEC_END = 0,
	SEC_HEADER = 1,
	SEC_TYPES,
	SEC_REGIONS,
	SEC_ALLOCATIONS,
	SEC_PARTS,
	SEC_THREADS,
	SEC_RECOGNISERS
};
enum wire { W_VARINT = 0, W_STRING = 1, W_BYTES = 2 };

/* The array sections, in the order they are written: the section id, the record of one item,
 * where the array and its count live in struct vms_snapshot, and whether an empty array is left
 * out (parts and recognisers came later; a body without them must stay what it was). */
#define SNAP_ARRAY(name) offsetof(struct vms_snapshot, name), offsetof(struct vms_snapshot, n_##name)
static const struct array_section {
	enum section id;
	const struct vms_record *rec;
	size_t arr_off, n_off;
	int skip_empty;
} array_sections[] = {
    {SEC_REGIONS, &vms_rec_region, SNAP_ARRAY(regions), 0},
    {SEC_ALLOCATIONS, &vms_rec_allocation, SNAP_ARRAY(allocations), 0},
    {SEC_PARTS, &vms_rec_part, SNAP_ARRAY(parts), 1},
    {SEC_THREADS, &vms_rec_thread, SNAP_ARRAY(threads), 0},
    {SEC_RECOGNISERS, &vms_rec_recogniser, SNAP_ARRAY(recognisers), 1},
};
#undef SNAP_ARRAY
#define N_ARRAY_SECTIONS (sizeof array_sections / sizeof *array_sections)

static enum wire wire_of(enum vms_fkind kind)
{
	switch (kind) {
	case VMS_FK_STR:
		return W_STRING;
	case VMS_FK_SMAPS:
	case VMS_FK_ROLLUP:
		return W_BYTES;
	default:
		return W_VARINT;
	}
}

static int is_signed(enum vms_fkind kind)
{
	return kind == VMS_FK_INT || kind == VMS_FK_INT_NULL || kind == VMS_FK_I64 || kind == VMS_FK_BOOL ||
	       kind == VMS_FK_ENUM;
}

/* PERMS as 4 bits: r 1, w 2, x 4, s (shared) 8. */
static uint64_t perms_bits(const char *p)
{
	return (uint64_t)((p[0] == 'r') | (p[1] == 'w') << 1 | (p[2] == 'x') << 2 | (p[3] == 's') << 3);
}

static void perms_text(uint64_t b, char *p)
{
	p[0] = (b & 1) ? 'r' : '-';
	p[1] = (b & 2) ? 'w' : '-';
	p[2] = (b & 4) ? 'x' : '-';
	p[3] = (b & 8) ? 's' : 'p';
	p[4] = '\0';
}

/* ---- writing ------------------------------------------------------------------------------- */

struct wstate {
	const char *prev[MAX_TAG]; /* BACKREF strings, by tag */
	uint64_t prev_end;         /* DELTA: the previous record's LENGTH field */
	uint64_t start;            /* this record's DELTA field */
};

static void w_head(struct wbuf *w, unsigned tag, enum wire wire)
{
	w_u64(w, (uint64_t)tag << 2 | wire);
}

/* SMAPS/ROLLUP: varint(bitmap: bit t-1 set for each smaps tag t with a non-zero value) then
 * those values as varints in tag order. */
static void w_smaps(struct wbuf *w, unsigned tag, const uint64_t *v)
{
	unsigned char tmp[10 + VMS_SF_COUNT * 10];
	uint64_t by_tag[MAX_TAG] = {0}, bits = 0;
	size_t n = 0;
	for (int f = 0; f < VMS_SF_COUNT; f++) {
		if (v[f] && vms_smaps_tags[f] <= MAX_TAG) {
			bits |= 1ull << (vms_smaps_tags[f] - 1);
			by_tag[vms_smaps_tags[f] - 1] = v[f];
		}
	}
	n = vms_leb128_put(tmp, bits);
	for (uint64_t b = bits; b; b &= b - 1)
		n += vms_leb128_put(tmp + n, by_tag[__builtin_ctzll(b)]);
	w_head(w, tag, W_BYTES);
	w_u64(w, n);
	w_bytes(w, tmp, n);
}

static void put_fields(struct wbuf *w, const struct vms_record *rec, const void *base, struct wstate *ws)
{
	for (size_t i = 0; i < rec->n_fields; i++) {
		const struct vms_field *f = &rec->fields[i];
		const void *p = VMS_FIELD_CPTR(base, f);
		if (f->kind == VMS_FK_OBJECT) {
			put_fields(w, f->sub, base, ws);
			continue;
		}
		if (!f->tag)
			continue;
		switch (f->kind) {
		case VMS_FK_STR: {
			const char *s = *(const char *const *)p;
			if (s == f->dflt_str || (s && f->dflt_str && strcmp(s, f->dflt_str) == 0))
				break;
			w_head(w, f->tag, W_STRING);
			w_str(w, s, (f->flags & VMS_FF_BACKREF) ? &ws->prev[f->tag] : NULL);
			break;
		}
		case VMS_FK_PERMS:
			w_head(w, f->tag, W_VARINT);
			w_u64(w, perms_bits(p));
			break;
		case VMS_FK_SMAPS:
			w_smaps(w, f->tag, p);
			break;
		case VMS_FK_ROLLUP:
			if (*(const int *)((const char *)base + f->aux))
				w_smaps(w, f->tag, p);
			break;
		case VMS_FK_DEV: {
			uint64_t v = (uint64_t) * (const unsigned *)p << 32 |
			             *(const unsigned *)((const char *)base + f->aux);
			if (v) {
				w_head(w, f->tag, W_VARINT);
				w_u64(w, v);
			}
			break;
		}
		default: {
			int64_t v = vms_field_get_int(base, f);
			if (f->flags & VMS_FF_DELTA) {
				ws->start = (uint64_t)v;
				v = (int64_t)((uint64_t)v - ws->prev_end);
			} else if (f->flags & VMS_FF_LENGTH) {
				ws->prev_end = (uint64_t)v;
				v = (int64_t)((uint64_t)v - ws->start);
				w_head(w, f->tag, W_VARINT);
				w_u64(w, (uint64_t)v);
				break;
			}
			/* a default is left out; a required field is written even then, except a DELTA
			 * (its default 0, "right after the previous record", is the common case) */
			if (v == f->dflt && (!(f->flags & VMS_FF_REQUIRED) || (f->flags & VMS_FF_DELTA)))
				break;
			w_head(w, f->tag, W_VARINT);
			if (f->kind == VMS_FK_TYPE || is_signed(f->kind) || (f->flags & VMS_FF_DELTA))
				w_i64(w, v);
			else
				w_u64(w, (uint64_t)v);
			break;
		}
		}
	}
}

static void put_array(struct wbuf *w, const struct vms_record *rec, const void *arr, size_t n)
{
	struct wstate ws = {0};
	w_u64(w, rec->version);
	w_u64(w, n);
	for (size_t i = 0; i < n; i++) {
		put_fields(w, rec, (const char *)arr + i * rec->size, &ws);
		w_u64(w, 0);
	}
}

/* Append section id with the bytes of tmp, and empty tmp. */
static void put_section(struct wbuf *w, enum section id, struct wbuf *tmp)
{
	if (tmp->oom)
		w->oom = 1;
	w_u64(w, id);
	w_u64(w, tmp->len);
	w_bytes(w, tmp->p, tmp->len);
	tmp->len = 0;
}

int vms_store_pack(const struct vms_snapshot *s, unsigned char **out, size_t *len)
{
	struct wbuf w = {0}, t = {0};
	struct wstate ws = {0};

	w_reserve(&w, 64 + s->n_regions * 48 + s->n_allocations * 8);
	w_bytes(&w, PACK_MAGIC, 4);
	w_u64(&w, PACK_VERSION);

	w_u64(&t, vms_rec_snapshot.version);
	put_fields(&t, &vms_rec_snapshot, s, &ws);
	w_u64(&t, 0);
	put_section(&w, SEC_HEADER, &t);

	w_u64(&t, VMS_TYPE_COUNT);
	for (int k = 0; k < VMS_TYPE_COUNT; k++)
		w_str(&t, vms_type_key((enum vms_type)k), NULL);
	put_section(&w, SEC_TYPES, &t);

	for (size_t k = 0; k < N_ARRAY_SECTIONS; k++) {
		const struct array_section *as = &array_sections[k];
		const void *arr;
		size_t n;
		memcpy(&arr, (const char *)s + as->arr_off, sizeof arr);
		memcpy(&n, (const char *)s + as->n_off, sizeof n);
		if (n || !as->skip_empty) {
			put_array(&t, as->rec, arr, n);
			put_section(&w, as->id, &t);
		}
	}
	w_u64(&w, SEC_END);
	free(t.p);
	if (w.oom) {
		free(w.p);
		return VMS_ERR_NOMEM;
	}
	*out = w.p;
	*len = w.len;
	return VMS_OK;
}

/* ---- reading ------------------------------------------------------------------------------- */

/* A record's stored fields by tag. */
struct index {
	const struct vms_field *by_tag[MAX_TAG];
	const struct vms_field *delta, *length;
};

static void index_fields(struct index *ix, const struct vms_record *rec)
{
	for (size_t i = 0; i < rec->n_fields; i++) {
		const struct vms_field *f = &rec->fields[i];
		if (f->kind == VMS_FK_OBJECT)
			index_fields(ix, f->sub);
		else if (f->tag && f->tag < MAX_TAG)
			ix->by_tag[f->tag] = f;
		if (f->flags & VMS_FF_DELTA)
			ix->delta = f;
		if (f->flags & VMS_FF_LENGTH)
			ix->length = f;
	}
}

struct rstate {
	struct index ix;
	const char *prev[MAX_TAG];
	uint64_t prev_end;
	const int *types; /* section 2: index -> enum vms_type (-1: unknown to this build) */
	size_t n_types;
};

static void skip(struct rbuf *r, uint64_t wire)
{
	uint64_t n;
	switch (wire) {
	case W_VARINT:
		r_u64(r);
		break;
	case W_STRING:
		n = r_u64(r);
		if (n >= 2) {
			if (n - 2 > (uint64_t)(r->end - r->p))
				r->bad = 1;
			else
				r->p += n - 2;
		}
		break;
	case W_BYTES:
		n = r_u64(r);
		if (n > (uint64_t)(r->end - r->p))
			r->bad = 1;
		else
			r->p += n;
		break;
	default:
		r->bad = 1;
	}
}

static void get_smaps(struct rbuf *r, uint64_t *v)
{
	uint64_t n = r_u64(r);
	if (r->bad || n > (uint64_t)(r->end - r->p)) {
		r->bad = 1;
		return;
	}
	struct rbuf sub = {.p = r->p, .end = r->p + n, .s = r->s};
	uint64_t bits = r_u64(&sub);
	for (uint64_t b = bits; b && !sub.bad; b &= b - 1) {
		uint64_t x = r_u64(&sub);
		int f = vms_smaps_field_from_tag((unsigned)__builtin_ctzll(b) + 1);
		if (f >= 0)
			v[f] = x; /* a field this build does not know is skipped */
	}
	if (sub.bad || sub.p != sub.end)
		r->bad = 1;
	r->p += n;
}

static void get_record(struct rbuf *r, void *base, struct rstate *rs)
{
	for (;;) {
		uint64_t h = r_u64(r);
		if (r->bad || h == 0)
			break;
		uint64_t tag = h >> 2, wire = h & 3;
		const struct vms_field *f = tag < MAX_TAG ? rs->ix.by_tag[tag] : NULL;
		if (!f) {
			skip(r, wire); /* written by a later version */
			continue;
		}
		if (wire != wire_of(f->kind)) {
			r->bad = 1;
			break;
		}
		void *p = VMS_FIELD_PTR(base, f);
		switch (f->kind) {
		case VMS_FK_STR:
			*(const char **)p = r_str(r, (f->flags & VMS_FF_BACKREF) ? &rs->prev[tag] : NULL);
			break;
		case VMS_FK_PERMS: {
			uint64_t b = r_u64(r);
			if (b > 15)
				r->bad = 1;
			perms_text(b, p);
			break;
		}
		case VMS_FK_SMAPS:
			get_smaps(r, p);
			break;
		case VMS_FK_ROLLUP:
			get_smaps(r, p);
			*(int *)((char *)base + f->aux) = 1;
			break;
		case VMS_FK_DEV: {
			uint64_t v = r_u64(r);
			*(unsigned *)p = (unsigned)(v >> 32);
			*(unsigned *)((char *)base + f->aux) = (unsigned)v;
			break;
		}
		case VMS_FK_TYPE: {
			int64_t v = r_i64(r);
			if (v < 0 || (uint64_t)v >= rs->n_types || rs->types[v] < 0) {
				r->bad = 1; /* a type this build does not know */
				break;
			}
			vms_field_set_int(base, f, rs->types[v]);
			break;
		}
		default: {
			int64_t v;
			if (f->flags & (VMS_FF_DELTA | VMS_FF_LENGTH)) {
				v = (f->flags & VMS_FF_DELTA) ? r_i64(r)
				                              : (int64_t)r_u64(r); /* fixed up below */
			} else if (is_signed(f->kind)) {
				v = r_i64(r);
				if (v < f->min || v > f->max)
					r->bad = 1;
			} else {
				v = (int64_t)r_u64(r);
				if (f->min < f->max &&
				    ((uint64_t)v < (uint64_t)f->min || (uint64_t)v > (uint64_t)f->max))
					r->bad = 1;
			}
			vms_field_set_int(base, f, v);
			break;
		}
		}
	}
	if (rs->ix.delta && rs->ix.length && !r->bad) {
		uint64_t *start = VMS_FIELD_PTR(base, rs->ix.delta),
		         *end = VMS_FIELD_PTR(base, rs->ix.length);
		*start += rs->prev_end; /* the default delta 0 means "right after the previous one" */
		*end += *start;
		if (*end <= *start)
			r->bad = 1;
		rs->prev_end = *end;
	}
}

/* One array section into a new array owned by the snapshot. */
static int get_array(struct rbuf *r, const struct vms_record *rec, struct rstate *rs, void **arr, size_t *n)
{
	uint64_t version = r_u64(r);
	if (!r->bad && version > rec->version)
		return VMS_ERR_UNSUPPORTED;
	size_t count = r_count(r, 1);
	char *a = r_array(r, count, rec->size);
	index_fields(&rs->ix, rec);
	/* The array is zeroed: set only the defaults that are not zero (array records have no
	 * nested objects). */
	const struct vms_field *nz[MAX_TAG];
	size_t n_nz = 0;
	for (size_t k = 0; k < rec->n_fields && n_nz < MAX_TAG; k++) {
		const struct vms_field *f = &rec->fields[k];
		if (f->tag &&
		    ((f->kind == VMS_FK_STR && f->dflt_str) || (vms_field_is_int(f->kind) && f->dflt)))
			nz[n_nz++] = f;
	}
	for (size_t i = 0; i < count && !r->bad; i++) {
		char *base = a + i * rec->size;
		for (size_t k = 0; k < n_nz; k++) {
			if (nz[k]->kind == VMS_FK_STR)
				*(const char **)VMS_FIELD_PTR(base, nz[k]) = nz[k]->dflt_str;
			else
				vms_field_set_int(base, nz[k], nz[k]->dflt);
		}
		get_record(r, base, rs);
	}
	if (r->bad)
		return VMS_ERR_IO;
	*arr = a;
	*n = count;
	return VMS_OK;
}

/* After every section: tie regions, allocations, threads and parts together and check them. */
static int link(struct vms_snapshot *s)
{
	uint64_t first = 0;
	for (size_t i = 0; i < s->n_allocations; i++) {
		struct vms_allocation *a = &s->allocations[i];
		if (a->n_regions == 0 || a->n_regions > s->n_regions - first)
			return VMS_ERR_IO;
		a->first_region = (uint32_t)first;
		for (uint32_t k = 0; k < a->n_regions; k++) {
			struct vms_region *g = &s->regions[first + k];
			g->type = a->type;
			g->allocation = (uint32_t)i;
		}
		first += a->n_regions;
	}
	if (first != s->n_regions)
		return VMS_ERR_IO;
	for (size_t i = 0; i < s->n_regions; i++) {
		struct vms_region *g = &s->regions[i];
		if (i && g->start < s->regions[i - 1].end)
			return VMS_ERR_IO;
		if (!g->vm_flags)
			g->vm_flags = "";
		if (i && g->vm_flags == s->regions[i - 1].vm_flags) /* a back-reference: same text */
			g->vm_flag_bits = s->regions[i - 1].vm_flag_bits;
		else
			g->vm_flag_bits = vms_vmflags_parse(g->vm_flags, strlen(g->vm_flags));
	}
	for (size_t i = 0; i < s->n_threads; i++)
		if (s->threads[i].stack_allocation >= (int64_t)s->n_allocations)
			return VMS_ERR_IO;
	for (size_t i = 0; i < s->n_parts; i++)
		if (s->parts[i].allocation >= s->n_allocations)
			return VMS_ERR_IO;
	return VMS_OK;
}

/* Section 2: the type keys, mapped to this build's enum (-1 for a key it does not know). */
static int get_types(struct rbuf *r, const int **types, size_t *n_types)
{
	size_t n = r_count(r, 1);
	int *map = r_array(r, n, sizeof *map);
	for (size_t i = 0; i < n && !r->bad; i++) {
		const char *key = r_str(r, NULL);
		map[i] = key ? vms_type_from_key(key) : -1;
	}
	if (r->bad)
		return VMS_ERR_IO;
	*types = map;
	*n_types = n;
	return VMS_OK;
}

static int unpack_v2(struct rbuf *r, struct vms_snapshot *s)
{
	int err = VMS_OK, have_header = 0, ended = 0;
	const int *types = NULL;
	size_t n_types = 0;

	while (r->p < r->end && !err && !ended) {
		uint64_t id = r_u64(r);
		if (id == SEC_END) {
			ended = 1;
			break;
		}
		uint64_t n = r_u64(r);
		if (r->bad || n > (uint64_t)(r->end - r->p))
			return VMS_ERR_IO;
		struct rbuf sec = {.p = r->p, .end = r->p + n, .s = s};
		struct rstate rs = {.types = types, .n_types = n_types};
		r->p += n;
		switch (id) {
		case SEC_HEADER: {
			uint64_t version = r_u64(&sec);
			if (!sec.bad && version > vms_rec_snapshot.version)
				return VMS_ERR_UNSUPPORTED;
			index_fields(&rs.ix, &vms_rec_snapshot);
			vms_record_defaults(&vms_rec_snapshot, s);
			get_record(&sec, s, &rs);
			have_header = 1;
			break;
		}
		case SEC_TYPES:
			err = get_types(&sec, &types, &n_types);
			break;
		default:
			for (size_t k = 0; k < N_ARRAY_SECTIONS; k++) {
				const struct array_section *as = &array_sections[k];
				if (as->id != id)
					continue;
				void *arr = NULL;
				err = get_array(&sec, as->rec, &rs, &arr, (size_t *)((char *)s + as->n_off));
				if (!err)
					memcpy((char *)s + as->arr_off, &arr, sizeof arr);
			}
			break; /* a section of a later version matches none: skipped */
		}
		if (!err && (sec.bad || (id <= SEC_RECOGNISERS && sec.p != sec.end)))
			err = VMS_ERR_IO;
	}
	if (!err && (!have_header || !ended || r->bad || r->p != r->end))
		err = VMS_ERR_IO; /* a body ends with its end mark: anything cut short is refused */
	return err ? err : link(s);
}

int vms_store_unpack(const unsigned char *buf, size_t len, struct vms_snapshot **out)
{
	*out = NULL;
	if (len < 5 || memcmp(buf, PACK_MAGIC, 4) != 0)
		return VMS_ERR_IO;
	struct rbuf r = {.p = buf + 4, .end = buf + len};
	uint64_t version = r_u64(&r);
	if (r.bad)
		return VMS_ERR_IO;
	if (version == 1)
		return vms_store_unpack_v1(buf, len, out);
	if (version != PACK_VERSION)
		return VMS_ERR_UNSUPPORTED;
	struct vms_snapshot *s = vms_snapshot_new();
	if (!s)
		return VMS_ERR_NOMEM;
	r.s = s;
	int err = unpack_v2(&r, s);
	if (!err)
		err = vms_snapshot_summarize(s) == VMS_OK ? VMS_OK : VMS_ERR_IO;
	if (err) {
		vms_snapshot_free(s);
		return err;
	}
	*out = s;
	return VMS_OK;
}
