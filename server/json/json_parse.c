/* Snapshot JSON (docs/snapshot-format.md) -> struct vms_snapshot, for imports and
 * `vmscope diff a.json b.json`, read in place with the pull tokenizer (json_scan.h): no tree,
 * so an import costs the body, the snapshot and a few hundred bytes per open object (a cJSON
 * tree cost ~10x the body; that importer was retired once its outcomes were pinned in
 * tests/fixtures/json-import/expected.tsv, which tests/unit/test_json_import.c checks).
 *
 * The input is untrusted (an HTTP upload): every value is type- and range-checked, nothing is
 * trusted for sizes, and the first problem is reported as "<path>: <what is wrong>" (e.g.
 * "allocations[3].regions[0].start: not a 0x… address"), with the same sentences and in the
 * same order as the tree importer did: first the whole text is checked (depth, UTF-8, syntax,
 * duplicate keys, by vms_jscan_check), then each object is indexed by its record's field table
 * (the offset of each known key's value; unknown keys skipped) and its fields are read in
 * table order, so a document's key order does not change which error is reported.
 *
 * Exact integers: numbers are read from their token text, so any u64 survives an import; other
 * spellings (4096.0, 1e3) go through strtod, as cJSON did.
 *
 * Columns, allocation bounds, summary, totals and free gaps are not read: they are recomputed
 * by vms_snapshot_summarize() from the regions' smaps fields. */
#include <assert.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_import.h"
#include "json_scan.h"
#include "vmscope/json.h"
#include "vmscope/parse.h"
#include "vmscope/record.h"
#include "vmscope/util.h"

#define NONE VMS_JSCAN_NONE
#define MAX_FIELDS 32 /* the most fields a record table has (asserted) */
#define PATH_MAX_LEN VMS_IMP_PATH_MAX

struct pctx {
	const char *t; /* the whole text */
	size_t len;
	char *err;
	size_t errlen;
	struct vms_snapshot *s;
	int nomem;
	uint64_t mapped; /* the sizes of the regions read so far */
};

/* An object indexed by a record table: at[i] = offset of the value of rec->fields[i], or NONE. */
struct jobj {
	size_t pos; /* its '{' */
	const struct vms_record *rec;
	size_t at[MAX_FIELDS];
};

static int fail(struct pctx *c, const char *path, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Record "path.key: message" (path and key may be empty or NULL). Returns -1. */
static int fail(struct pctx *c, const char *path, const char *key, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vms_imp_vfail(c->err, c->errlen, path, key, fmt, ap);
	va_end(ap);
	return -1;
}

static int nomem(struct pctx *c, const char *path, const char *key)
{
	c->nomem = 1;
	return fail(c, path, key, "out of memory");
}

/* ---- values at an offset (NONE: absent) ------------------------------------------------------ */

static char first(const struct pctx *c, size_t it)
{
	return it == NONE ? 0 : c->t[it];
}
static int is_number(const struct pctx *c, size_t it)
{
	char ch = first(c, it);
	return ch == '-' || (ch >= '0' && ch <= '9');
}
static int is_string(const struct pctx *c, size_t it)
{
	return first(c, it) == '"';
}
static int is_null(const struct pctx *c, size_t it)
{
	return first(c, it) == 'n';
}
static int is_bool(const struct pctx *c, size_t it)
{
	return first(c, it) == 't' || first(c, it) == 'f';
}
static int is_object(const struct pctx *c, size_t it)
{
	return first(c, it) == '{';
}
static int is_array(const struct pctx *c, size_t it)
{
	return first(c, it) == '[';
}

/* The decoded string at it (a string value) in buf[cap] when it fits, else malloc'd (the caller
 * frees a result != buf); NULL on ENOMEM. */
static char *str_at(const struct pctx *c, size_t it, char *buf, size_t cap)
{
	size_t end = vms_jscan_skip(c->t, c->len, it) - 1, n = end - (it + 1);
	char *out = n < cap ? buf : malloc(n + 1);
	if (out)
		vms_jscan_decode(c->t, it + 1, end, out);
	return out;
}

static void str_done(char *s, const char *buf)
{
	if (s != buf)
		free(s);
}

/* Number of elements of the array at it. */
static size_t array_size(const struct pctx *c, size_t it)
{
	size_t n = 0;
	for (size_t e = vms_jscan_first(c->t, c->len, it); e != NONE;
	     e = vms_jscan_next_element(c->t, c->len, e))
		n++;
	return n;
}

/* The number token at it (*tok, *n) and the double strtod reads from it (as cJSON's
 * valuedouble; NaN when memory ran out, which no check accepts). */
static double number_double(const struct pctx *c, size_t it, const char **tok, size_t *n)
{
	double v;
	*tok = c->t + it;
	*n = vms_jscan_number_len(c->t, c->len, it);
	return vms_jscan_number(c->t, c->len, it, &v) < 0 ? NAN : v;
}

static int number_u64(const struct pctx *c, size_t it, uint64_t *out)
{
	const char *p;
	size_t n;
	double dv = number_double(c, it, &p, &n);
	return vms_imp_u64(p, n, dv, out);
}

static int number_i64(const struct pctx *c, size_t it, int64_t *out)
{
	const char *p;
	size_t n;
	double dv = number_double(c, it, &p, &n);
	return vms_imp_i64(p, n, dv, out);
}

/* ---- objects indexed by their record table ---------------------------------------------------- */

static size_t field_index(const struct vms_record *rec, const char *key)
{
	for (size_t i = 0; i < rec->n_fields; i++)
		if (rec->fields[i].key && !strcmp(rec->fields[i].key, key))
			return i;
	assert(!"no such key in the record table");
	return 0;
}

/* Index the object at pos by rec: one walk over its members; keys rec does not know are
 * skipped (a key is compared decoded, as cJSON compared them). */
static void index_object(const struct pctx *c, size_t pos, const struct vms_record *rec, struct jobj *o)
{
	char key[48];
	assert(rec->n_fields <= MAX_FIELDS);
	o->pos = pos;
	o->rec = rec;
	for (size_t i = 0; i < rec->n_fields; i++)
		o->at[i] = NONE;
	for (size_t m = vms_jscan_first(c->t, c->len, pos); m != NONE;) {
		struct vms_jscan_member mb;
		m = vms_jscan_member(c->t, c->len, m, &mb);
		if (!vms_jscan_decode_key(c->t, mb.key, mb.key_end, key, sizeof key))
			continue;
		for (size_t i = 0; i < rec->n_fields; i++)
			if (rec->fields[i].key && !strcmp(rec->fields[i].key, key)) {
				o->at[i] = mb.value;
				break;
			}
	}
}

static size_t field(const struct jobj *o, const char *key)
{
	return o->at[field_index(o->rec, key)];
}

/* ---- typed getters: 0 = ok (absent optional values leave *out alone), -1 = error set -------- */

static int get_u64(struct pctx *c, size_t it, const char *path, const char *key, int required, uint64_t *out)
{
	if (it == NONE)
		return required ? fail(c, path, key, "missing") : 0;
	if (!is_number(c, it))
		return fail(c, path, key, "expected a number");
	if (number_u64(c, it, out) < 0)
		return fail(c, path, key, "not a non-negative integer that fits in 64 bits");
	return 0;
}

static int get_int(struct pctx *c, size_t it, const char *path, const char *key, int required, int64_t min,
                   int64_t max, int64_t *out)
{
	if (it == NONE)
		return required ? fail(c, path, key, "missing") : 0;
	if (!is_number(c, it))
		return fail(c, path, key, "expected a number");
	int64_t v;
	if (number_i64(c, it, &v) < 0 || v < min || v > max)
		return fail(c, path, key, "not an integer in [%lld, %lld]", (long long)min, (long long)max);
	*out = v;
	return 0;
}

/* String (copied into the snapshot's pool) or null (-> NULL). Absent leaves *out alone. */
static int get_str(struct pctx *c, size_t it, const char *path, const char *key, const char **out)
{
	if (it == NONE)
		return 0;
	if (is_null(c, it)) {
		*out = NULL;
		return 0;
	}
	if (!is_string(c, it))
		return fail(c, path, key, "expected a string or null");
	size_t from = it + 1, to = vms_jscan_skip(c->t, c->len, it) - 1;
	char *d;
	if (!memchr(c->t + from, '\\', to - from)) {
		d = (char *)vms_snapshot_strndup(c->s, c->t + from, to - from);
	} else {
		d = vms_snapshot_alloc(c->s, to - from + 1);
		if (d)
			vms_jscan_decode(c->t, from, to, d);
	}
	if (!d)
		return nomem(c, path, key);
	*out = d;
	return 0;
}

static int get_addr(struct pctx *c, size_t it, const char *path, const char *key, uint64_t *out)
{
	char buf[80], *s;
	int ok;
	if (it == NONE)
		return 0;
	if (!is_string(c, it))
		return fail(c, path, key, "not a 0x… address");
	if (!(s = str_at(c, it, buf, sizeof buf)))
		return nomem(c, path, key);
	ok = strncmp(s, "0x", 2) == 0 && vms_parse_address(s, out) == VMS_OK;
	str_done(s, buf);
	return ok ? 0 : fail(c, path, key, "not a 0x… address");
}

static int get_arr(struct pctx *c, size_t it, const char *path, const char *key, int required, size_t *out)
{
	*out = NONE;
	if (it == NONE)
		return required ? fail(c, path, key, "missing") : 0;
	if (!is_array(c, it))
		return fail(c, path, key, "expected an array");
	*out = it;
	return 0;
}

/* ---- fields, by the record tables (include/vmscope/record.h) --------------------------------- */

/* An smaps object (every key optional) into v. */
static int get_smaps(struct pctx *c, size_t pos, const char *path, uint64_t *v)
{
	size_t at[VMS_SF_COUNT];
	char key[48];
	for (int f = 0; f < VMS_SF_COUNT; f++)
		at[f] = NONE;
	for (size_t m = vms_jscan_first(c->t, c->len, pos); m != NONE;) {
		struct vms_jscan_member mb;
		m = vms_jscan_member(c->t, c->len, m, &mb);
		if (!vms_jscan_decode_key(c->t, mb.key, mb.key_end, key, sizeof key))
			continue;
		for (int f = 0; f < VMS_SF_COUNT; f++)
			if (!strcmp(vms_smaps_field_key((enum vms_smaps_field)f), key)) {
				at[f] = mb.value;
				break;
			}
	}
	for (int f = 0; f < VMS_SF_COUNT; f++)
		if (get_u64(c, at[f], path, vms_smaps_field_key((enum vms_smaps_field)f), 0, &v[f]) < 0)
			return -1;
	return 0;
}

static int get_fields(struct pctx *c, const struct jobj *o, const char *path, void *base);

/* An ENUM value: 1 and *v = min + its index in names when it is one of them, else 0
 * (*oom set on ENOMEM). */
static int string_choice(struct pctx *c, size_t it, const struct vms_field *f, int64_t *v, int *oom)
{
	char buf[64], *s;
	int found = 0;
	if (!is_string(c, it))
		return 0;
	if (!(s = str_at(c, it, buf, sizeof buf))) {
		*oom = 1;
		return 0;
	}
	for (int64_t k = f->min; k <= f->max && !found; k++)
		if (strcmp(f->names[k - f->min], s) == 0) {
			*v = k;
			found = 1;
		}
	str_done(s, buf);
	return found;
}

/* One field (index i of o's table) into base. An absent optional field keeps what base holds
 * (its default: the caller ran vms_record_defaults). Derived and special fields are the
 * caller's. */
static int get_field(struct pctx *c, const struct jobj *o, const char *path, size_t i, void *base)
{
	const struct vms_field *f = &o->rec->fields[i];
	void *p = VMS_FIELD_PTR(base, f);
	size_t it = o->at[i];
	char sub[2 * PATH_MAX_LEN + 8], buf[64], *s;
	int64_t v;
	int oom = 0, bad;

	if (it == NONE && (f->flags & VMS_FF_REQUIRED) && f->kind != VMS_FK_OBJECT)
		return fail(c, path, f->key, "missing");
	if (is_null(c, it) && (f->flags & VMS_FF_NULL_OK))
		return 0; /* null: the default */
	switch (f->kind) {
	case VMS_FK_U64:
		return get_u64(c, it, path, f->key, 0, (uint64_t *)p);
	case VMS_FK_U32:
	case VMS_FK_INT:
	case VMS_FK_I64:
		v = vms_field_get_int(base, f);
		if (get_int(c, it, path, f->key, 0, f->min, f->max, &v) < 0)
			return -1;
		vms_field_set_int(base, f, v);
		return 0;
	case VMS_FK_INT_NULL:
		v = vms_field_get_int(base, f);
		if (is_null(c, it))
			v = f->dflt;
		else if (get_int(c, it, path, f->key, 0, f->min, f->max, &v) < 0)
			return -1;
		vms_field_set_int(base, f, v);
		return 0;
	case VMS_FK_BOOL:
		if (it == NONE)
			return 0;
		if (!is_bool(c, it))
			return fail(c, path, f->key, "expected true or false");
		*(int *)p = first(c, it) == 't';
		return 0;
	case VMS_FK_ADDR:
		return get_addr(c, it, path, f->key, (uint64_t *)p);
	case VMS_FK_STR:
		if (it == NONE)
			return 0;
		if (get_str(c, it, path, f->key, (const char **)p) < 0)
			return -1;
		if (!*(const char **)p)
			*(const char **)p = (f->flags & VMS_FF_PRIVATE)
			                        ? ""
			                        : f->dflt_str; /* a share that left it out: "" for none */
		return 0;
	case VMS_FK_ENUM:
		if (it == NONE)
			return 0;
		if (string_choice(c, it, f, &v, &oom)) {
			vms_field_set_int(base, f, v);
			return 0;
		}
		if (oom)
			return nomem(c, path, f->key);
		return fail(c, path, f->key, "expected one of \"%s\" ... \"%s\"", f->names[0],
		            f->names[f->max - f->min]);
	case VMS_FK_TYPE: {
		s = is_string(c, it) ? str_at(c, it, buf, sizeof buf) : NULL;
		if (is_string(c, it) && !s)
			return nomem(c, path, f->key);
		int t = vms_type_from_key(s);
		if (t < 0)
			bad = fail(c, path, f->key, "not a memory type key (\"image\", \"heap\", ...)");
		else if (t == VMS_TYPE_FREE || t == VMS_TYPE_PAGE_TABLE)
			bad = fail(c, path, f->key, "\"%s\" is not a type an allocation can have", s);
		else
			bad = 0, *(enum vms_type *)p = (enum vms_type)t;
		str_done(s, buf);
		return bad;
	}
	case VMS_FK_PERMS:
		s = is_string(c, it) ? str_at(c, it, buf, sizeof buf) : NULL;
		if (is_string(c, it) && !s)
			return nomem(c, path, f->key);
		bad = !s || !vms_imp_perms_ok(s);
		if (!bad)
			memcpy(p, s, 5);
		str_done(s, buf);
		return bad ? fail(c, path, f->key, "expected 4 characters like \"rw-p\"") : 0;
	case VMS_FK_DEV:
		if (it == NONE)
			return 0;
		s = is_string(c, it) ? str_at(c, it, buf, sizeof buf) : NULL;
		if (is_string(c, it) && !s)
			return nomem(c, path, f->key);
		bad = !s || vms_imp_dev(s, (unsigned *)p, (unsigned *)((char *)base + f->aux)) < 0;
		str_done(s, buf);
		return bad ? fail(c, path, f->key, "expected \"MAJ:MIN\" in hex") : 0;
	case VMS_FK_SMAPS:
		if (!is_object(c, it))
			return fail(c, path, f->key, "expected an object");
		snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", f->key);
		return get_smaps(c, it, sub, (uint64_t *)p);
	case VMS_FK_ROLLUP:
		if (it == NONE || is_null(c, it))
			return 0;
		if (!is_object(c, it))
			return fail(c, path, f->key, "expected an object or null");
		*(int *)((char *)base + f->aux) = 1;
		snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", f->key);
		return get_smaps(c, it, sub, (uint64_t *)p);
	case VMS_FK_OBJECT: {
		struct jobj so;
		if (it == NONE)
			return vms_imp_has_required(f->sub) ? fail(c, path, f->key, "missing") : 0;
		if (!is_object(c, it))
			return fail(c, path, f->key, "expected an object");
		snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", f->key);
		index_object(c, it, f->sub, &so);
		return get_fields(c, &so, sub, base);
	}
	default:
		return 0; /* derived (SIZE, TIME, COLS) or the caller's (SPECIAL) */
	}
}

/* Every non-derived field of o's table in table order. */
static int get_fields(struct pctx *c, const struct jobj *o, const char *path, void *base)
{
	for (size_t i = 0; i < o->rec->n_fields; i++) {
		const struct vms_field *f = &o->rec->fields[i];
		if (f->key && !(f->flags & VMS_FF_CHECK) && get_field(c, o, path, i, base) < 0)
			return -1;
	}
	return 0;
}

/* A record from the value at it (defaults first); *o is its index. */
static int get_record(struct pctx *c, size_t it, const char *path, const struct vms_record *rec, void *base,
                      struct jobj *o)
{
	if (!is_object(c, it))
		return fail(c, path, NULL, "expected an object");
	index_object(c, it, rec, o);
	vms_record_defaults(rec, base);
	return get_fields(c, o, path, base);
}

/* ---- sections -------------------------------------------------------------------------------- */

/* One region into *r; has_prev/prev_end: the end of the previous region in address order
 * (across allocations), which this one must not precede. The caller sets type/allocation. */
static int parse_region(struct pctx *c, size_t it, const char *path, struct vms_region *r, int has_prev,
                        uint64_t prev_end)
{
	struct jobj o;
	if (get_record(c, it, path, &vms_rec_region, r, &o) < 0)
		return -1;
	return vms_imp_region_done(r, path, has_prev, prev_end, &c->mapped, c->err, c->errlen);
}

/* First pass: count regions and parts (and check the array shapes) so arrays are allocated once. */
static int count_regions(struct pctx *c, size_t allocs, size_t *n_allocs, size_t *n_regions, size_t *n_parts)
{
	char path[PATH_MAX_LEN];
	size_t na = 0, nr = 0, np = 0;

	for (size_t a = vms_jscan_first(c->t, c->len, allocs); a != NONE;
	     a = vms_jscan_next_element(c->t, c->len, a)) {
		size_t regs, parts;
		struct jobj o;
		snprintf(path, sizeof path, "allocations[%zu]", na);
		if (!is_object(c, a))
			return fail(c, path, NULL, "expected an object");
		index_object(c, a, &vms_rec_allocation, &o);
		if (get_arr(c, field(&o, "regions"), path, "regions", 1, &regs) < 0 ||
		    get_arr(c, field(&o, "parts"), path, "parts", 0, &parts) < 0)
			return -1;
		size_t k = array_size(c, regs);
		if (k == 0)
			return fail(c, path, "regions", "empty (an allocation has at least one region)");
		if (k > UINT32_MAX || nr + k < nr)
			return fail(c, path, "regions", "too many regions");
		nr += k;
		np += parts != NONE ? array_size(c, parts) : 0;
		na++;
	}
	if (na > UINT32_MAX)
		return fail(c, "", "allocations", "too many allocations");
	*n_allocs = na;
	*n_regions = nr;
	*n_parts = np;
	return 0;
}

/* An allocation's "start"/"end" are derived from its regions; when given they must agree. */
static int check_bound(struct pctx *c, const struct jobj *a, const char *path, const char *key, uint64_t have,
                       const char *what)
{
	uint64_t want;
	size_t it = field(a, key);
	if (it == NONE)
		return 0;
	if (get_addr(c, it, path, key, &want) < 0)
		return -1;
	if (want != have)
		return fail(c, path, key, "0x%llx is not the %s (0x%llx)", (unsigned long long)want, what,
		            (unsigned long long)have);
	return 0;
}

/* The allocation's parts: inside it, sorted, not overlapping. */
static int parse_parts(struct pctx *c, const struct jobj *a, const char *path, size_t ai)
{
	struct vms_snapshot *s = c->s;
	size_t arr = field(a, "parts");
	const struct vms_allocation *al = &s->allocations[ai];
	char ppath[2 * PATH_MAX_LEN];
	uint32_t k = 0;
	uint64_t prev_end = al->start;

	if (arr == NONE)
		return 0;
	for (size_t p = vms_jscan_first(c->t, c->len, arr); p != NONE;
	     p = vms_jscan_next_element(c->t, c->len, p)) {
		struct vms_part *pt = &s->parts[s->n_parts];
		struct jobj o;
		snprintf(ppath, sizeof ppath, "%s.parts[%u]", path, k++);
		if (get_record(c, p, ppath, &vms_rec_part, pt, &o) < 0)
			return -1;
		if (vms_imp_part_done(pt, al, ai, &prev_end, ppath, c->err, c->errlen) < 0)
			return -1;
		s->n_parts++;
	}
	return 0;
}

static int parse_allocations(struct pctx *c, const struct jobj *root)
{
	struct vms_snapshot *s = c->s;
	size_t allocs, na = 0, nr = 0, np = 0, ai = 0, ri = 0;
	char path[PATH_MAX_LEN], rpath[2 * PATH_MAX_LEN];

	if (get_arr(c, field(root, "allocations"), "", "allocations", 1, &allocs) < 0 ||
	    count_regions(c, allocs, &na, &nr, &np) < 0)
		return -1;
	if (na > SIZE_MAX / sizeof(struct vms_allocation) || nr > SIZE_MAX / sizeof(struct vms_region) ||
	    np > SIZE_MAX / sizeof(struct vms_part))
		return fail(c, "", "allocations", "too large");
	s->allocations = vms_snapshot_alloc(s, (na ? na : 1) * sizeof(struct vms_allocation));
	s->regions = vms_snapshot_alloc(s, (nr ? nr : 1) * sizeof(struct vms_region));
	s->parts = np ? vms_snapshot_alloc(s, np * sizeof(struct vms_part)) : NULL;
	if (!s->allocations || !s->regions || (np && !s->parts))
		return nomem(c, "", "allocations");

	for (size_t a = vms_jscan_first(c->t, c->len, allocs); a != NONE;
	     a = vms_jscan_next_element(c->t, c->len, a)) {
		struct vms_allocation *al = &s->allocations[ai];
		struct jobj o;

		snprintf(path, sizeof path, "allocations[%zu]", ai);
		if (get_record(c, a, path, &vms_rec_allocation, al, &o) < 0)
			return -1;
		al->first_region = (uint32_t)ri;

		uint32_t k = 0;
		size_t regs = field(&o, "regions");
		for (size_t r = vms_jscan_first(c->t, c->len, regs); r != NONE;
		     r = vms_jscan_next_element(c->t, c->len, r)) {
			struct vms_region *reg = &s->regions[ri];
			snprintf(rpath, sizeof rpath, "%s.regions[%u]", path, k);
			if (parse_region(c, r, rpath, reg, ri > 0, ri > 0 ? s->regions[ri - 1].end : 0) < 0)
				return -1;
			reg->type = al->type;
			reg->allocation = (uint32_t)ai;
			ri++;
			k++;
		}
		al->n_regions = k;
		al->start = s->regions[al->first_region].start;
		al->end = s->regions[ri - 1].end;
		if (check_bound(c, &o, path, "start", al->start, "start of its first region") < 0 ||
		    check_bound(c, &o, path, "end", al->end, "end of its last region") < 0 ||
		    parse_parts(c, &o, path, ai) < 0)
			return -1;
		ai++;
	}
	s->n_allocations = na;
	s->n_regions = nr;
	return 0;
}

/* An array of records at o[key] (optional) into a new array owned by the snapshot. */
static int parse_array(struct pctx *c, const struct jobj *o, const char *ppath, const char *key,
                       const struct vms_record *rec, void **out, size_t *n_out)
{
	char path[PATH_MAX_LEN];
	size_t arr, i = 0;

	if (get_arr(c, field(o, key), ppath, key, 0, &arr) < 0)
		return -1;
	size_t n = arr != NONE ? array_size(c, arr) : 0;
	if (!n)
		return 0;
	char *a = vms_snapshot_alloc(c->s, n * rec->size);
	if (!a)
		return nomem(c, ppath, key);
	for (size_t e = vms_jscan_first(c->t, c->len, arr); e != NONE;
	     e = vms_jscan_next_element(c->t, c->len, e)) {
		struct jobj eo;
		snprintf(path, sizeof path, "%s%s%s[%zu]", ppath, *ppath ? "." : "", key, i);
		if (get_record(c, e, path, rec, a + i * rec->size, &eo) < 0)
			return -1;
		i++;
	}
	*out = a;
	*n_out = n;
	return 0;
}

static int parse_threads(struct pctx *c, const struct jobj *root)
{
	struct vms_snapshot *s = c->s;
	void *arr = NULL;
	if (parse_array(c, root, "", "threads", &vms_rec_thread, &arr, &s->n_threads) < 0)
		return -1;
	s->threads = arr;
	return vms_imp_threads_done(s, c->err, c->errlen);
}

static int parse_top(struct pctx *c, const struct jobj *root)
{
	struct vms_snapshot *s = c->s;
	void *arr = NULL;

	vms_record_defaults(&vms_rec_snapshot, s);
	if (get_fields(c, root, "", s) < 0)
		return -1;
	if (vms_imp_header_done(s, field(root, "mmap_min_addr") != NONE, c->err, c->errlen) < 0)
		return -1;
	if (parse_allocations(c, root) < 0 || parse_threads(c, root) < 0)
		return -1;
	size_t attr = field(root, "attribution");
	if (is_object(c, attr)) {
		struct jobj ao;
		index_object(c, attr,
		             vms_rec_snapshot.fields[field_index(&vms_rec_snapshot, "attribution")].sub, &ao);
		if (parse_array(c, &ao, "attribution", "recognisers", &vms_rec_recogniser, &arr,
		                &s->n_recognisers) < 0)
			return -1;
	}
	s->recognisers = arr;
	return 0;
}

/* The checks of the whole text before any field is read, in the order the tree importer used: depth,
 * UTF-8, syntax, trailing text, an object at the top, duplicate keys. Returns VMS_OK (*value =
 * the top-level object's '{') or an error (message set). */
static int check_text(struct pctx *c, size_t *value)
{
	struct vms_jscan_check_out o;

	if (vms_imp_text_ok(c->t, c->len, c->err, c->errlen) < 0)
		return VMS_ERR_INVALID;
	int r = vms_jscan_check(c->t, c->len, &o);
	if (r == VMS_JSCAN_NOMEM)
		return nomem(c, "", NULL), VMS_ERR_NOMEM;
	if (r != VMS_JSCAN_OK)
		return vms_imp_syntax_error(c->t, c->len, o.err_at, c->err, c->errlen), VMS_ERR_INVALID;
	if (vms_imp_trailing_ok(c->t, c->len, o.end, c->err, c->errlen) < 0)
		return VMS_ERR_INVALID;
	if (!is_object(c, o.value))
		return fail(c, "", NULL, "expected a JSON object at the top level"), VMS_ERR_INVALID;
	if (o.has_dup)
		return fail(
		           c, "", NULL,
		           "the key \"%.64s\" appears twice in one object (JSON readers disagree about which "
		           "one counts)",
		           o.dup),
		       VMS_ERR_INVALID;
	*value = o.value;
	return VMS_OK;
}

int vms_json_parse_snapshot(const char *text, size_t len, struct vms_snapshot **out, char *errbuf,
                            size_t errlen)
{
	int ret = VMS_ERR_INVALID;
	struct pctx c = {.t = text, .len = len, .err = errbuf, .errlen = errlen};
	struct jobj root;
	size_t top = 0;
	int64_t version;

	if (out)
		*out = NULL;
	if (errbuf && errlen)
		errbuf[0] = '\0';
	if (!text || !out) {
		fail(&c, "", NULL, "no input");
		goto out;
	}
	if (len == 0) {
		fail(&c, "", NULL, "empty input");
		goto out;
	}
	if ((ret = check_text(&c, &top)) != VMS_OK)
		goto out;
	ret = VMS_ERR_INVALID;
	index_object(&c, top, &vms_rec_snapshot, &root);
	if (get_int(&c, field(&root, "format_version"), "", "format_version", 1, INT64_MIN, INT64_MAX,
	            &version) < 0)
		goto out;
	if (version != VMS_FORMAT_VERSION) {
		ret = VMS_ERR_UNSUPPORTED;
		fail(&c, "", "format_version", "version %lld is not supported (this build reads version %d)",
		     (long long)version, VMS_FORMAT_VERSION);
		goto out;
	}

	c.s = vms_snapshot_new();
	if (!c.s) {
		ret = VMS_ERR_NOMEM;
		fail(&c, "", NULL, "out of memory");
		goto out;
	}
	if (parse_top(&c, &root) < 0) {
		if (c.nomem)
			ret = VMS_ERR_NOMEM;
		goto out;
	}
	int err = vms_snapshot_summarize(c.s);
	if (err != VMS_OK) {
		ret = err;
		fail(&c, "", "allocations", "%s",
		     err == VMS_ERR_NOMEM ? "out of memory" : "regions are inconsistent");
		goto out;
	}
	*out = c.s;
	c.s = NULL;
	ret = VMS_OK;
out:
	vms_snapshot_free(c.s);
	return ret;
}

int vms_json_decode_stored(const char *text, size_t len, struct vms_snapshot **out)
{
	int err = vms_json_parse_snapshot(text, len, out, NULL, 0);
	return err == VMS_ERR_INVALID || err == VMS_ERR_UNSUPPORTED ? VMS_ERR_IO : err;
}
