/* The cJSON-tree importer, kept as the test oracle of the tree-less one (json_parse.c):
 * tests/unit/test_json_stream.c checks that both give identical snapshots and refuse the same
 * inputs with the same sentence. Nothing in the daemon or the CLI calls it (a tree costs ~10x
 * the text). Snapshot JSON (docs/snapshot-format.md) -> struct vms_snapshot. The input is untrusted (an HTTP
 * upload): every value is type- and range-checked, nothing is trusted for sizes, and the first problem is
 * reported as
 * "<path>: <what is wrong>" (e.g. "allocations[3].regions[0].start: not a 0x… address").
 *
 * Exact integers: cJSON stores numbers as doubles, exact only below 2^53. Before parsing, a
 * small lexer records the text of every number token in document order; after cJSON has
 * accepted the whole text, a walk of the tree in document order pairs each number item with
 * its token (the token index is kept in the item's valueint, which nothing else here reads).
 * Integer fields are then read from the token text, so any u64 survives an import.
 *
 * Columns, allocation bounds, summary, totals and free gaps are not read: they are recomputed
 * by vms_snapshot_summarize() from the regions' smaps fields. */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_import.h"
#include "vmscope/json.h"
#include "vmscope/parse.h"
#include "vmscope/record.h"
#include "vmscope/util.h"

struct numtok {
	const char *p;
	size_t n;
};

struct pctx {
	char *err;
	size_t errlen;
	struct numtok *nums;
	size_t n_nums, cap_nums;
	struct vms_snapshot *s;
	int nomem;
	uint64_t mapped; /* the sizes of the regions read so far */
};

#define PATH_MAX_LEN VMS_IMP_PATH_MAX

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

/* ---- number tokens ----------------------------------------------------------------- */

static int push_tok(struct pctx *c, const char *p, size_t n)
{
	if (VMS_GROW(c->nums, c->n_nums, c->cap_nums, 256))
		return -1;
	c->nums[c->n_nums++] = (struct numtok){p, n};
	return 0;
}

/* Record every number token outside strings. Mirrors how cJSON finds values: a number starts
 * with '-' or a digit; strings end at the first '"' not escaped by a backslash. Only used
 * after cJSON accepted the same text, so the two agree (checked by counting). */
static int lex_numbers(struct pctx *c, const char *t, size_t len)
{
	size_t i = 0;
	while (i < len) {
		char ch = t[i];
		if (ch == '"') {
			for (i++; i < len && t[i] != '"'; i++)
				if (t[i] == '\\')
					i++;
			i++;
		} else if (ch == '-' || (ch >= '0' && ch <= '9')) {
			size_t start = i;
			while (i < len && ((t[i] >= '0' && t[i] <= '9') || t[i] == '-' || t[i] == '+' ||
			                   t[i] == '.' || t[i] == 'e' || t[i] == 'E'))
				i++;
			if (push_tok(c, t + start, i - start) < 0)
				return -1;
		} else {
			i++;
		}
	}
	return 0;
}

/* Pair number items with tokens in document order. Depth is bounded by cJSON's nesting limit. */
static int assign_tokens(struct pctx *c, cJSON *item, size_t *k)
{
	for (; item; item = item->next) {
		if (cJSON_IsNumber(item)) {
			if (*k >= c->n_nums)
				return -1;
			item->valueint = (int)(*k)++;
		}
		if (item->child && assign_tokens(c, item->child, k) < 0)
			return -1;
	}
	return 0;
}

static const struct numtok *tok_of(const struct pctx *c, const cJSON *it)
{
	if (it->valueint < 0 || (size_t)it->valueint >= c->n_nums)
		return NULL;
	return &c->nums[it->valueint];
}

/* Exact integers from the item's token text (vms_imp_u64/i64). */
static int number_u64(const struct pctx *c, const cJSON *it, uint64_t *out)
{
	const struct numtok *t = tok_of(c, it);
	return t ? vms_imp_u64(t->p, t->n, it->valuedouble, out) : -1;
}

static int number_i64(const struct pctx *c, const cJSON *it, int64_t *out)
{
	const struct numtok *t = tok_of(c, it);
	return t ? vms_imp_i64(t->p, t->n, it->valuedouble, out) : -1;
}

/* ---- typed getters: 0 = ok (absent optional keys leave *out alone), -1 = error set ---- */

static const cJSON *field(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

static int get_u64(struct pctx *c, const cJSON *o, const char *path, const char *key, int required,
                   uint64_t *out)
{
	const cJSON *it = field(o, key);
	if (!it)
		return required ? fail(c, path, key, "missing") : 0;
	if (!cJSON_IsNumber(it))
		return fail(c, path, key, "expected a number");
	if (number_u64(c, it, out) < 0)
		return fail(c, path, key, "not a non-negative integer that fits in 64 bits");
	return 0;
}

static int get_int(struct pctx *c, const cJSON *o, const char *path, const char *key, int required,
                   int64_t min, int64_t max, int64_t *out)
{
	const cJSON *it = field(o, key);
	if (!it)
		return required ? fail(c, path, key, "missing") : 0;
	if (!cJSON_IsNumber(it))
		return fail(c, path, key, "expected a number");
	int64_t v;
	if (number_i64(c, it, &v) < 0 || v < min || v > max)
		return fail(c, path, key, "not an integer in [%lld, %lld]", (long long)min, (long long)max);
	*out = v;
	return 0;
}

/* Like get_int, but null also means "absent" and gives null_value. */
static int get_int_or_null(struct pctx *c, const cJSON *o, const char *path, const char *key, int64_t min,
                           int64_t max, int64_t null_value, int64_t *out)
{
	const cJSON *it = field(o, key);
	if (it && cJSON_IsNull(it)) {
		*out = null_value;
		return 0;
	}
	return get_int(c, o, path, key, 0, min, max, out);
}

/* String (copied into the snapshot's pool) or null (-> NULL). Absent leaves *out alone. */
static int get_str(struct pctx *c, const cJSON *o, const char *path, const char *key, int required,
                   const char **out)
{
	const cJSON *it = field(o, key);
	if (!it)
		return required ? fail(c, path, key, "missing") : 0;
	if (cJSON_IsNull(it)) {
		*out = NULL;
		return 0;
	}
	if (!cJSON_IsString(it) || !it->valuestring)
		return fail(c, path, key, "expected a string or null");
	const char *d = vms_snapshot_strdup(c->s, it->valuestring);
	if (!d) {
		c->nomem = 1;
		return fail(c, path, key, "out of memory");
	}
	*out = d;
	return 0;
}

static int get_bool(struct pctx *c, const cJSON *o, const char *path, const char *key, int *out)
{
	const cJSON *it = field(o, key);
	if (!it)
		return 0;
	if (!cJSON_IsBool(it))
		return fail(c, path, key, "expected true or false");
	*out = cJSON_IsTrue(it) ? 1 : 0;
	return 0;
}

static int get_addr(struct pctx *c, const cJSON *o, const char *path, const char *key, int required,
                    uint64_t *out)
{
	const cJSON *it = field(o, key);
	if (!it)
		return required ? fail(c, path, key, "missing") : 0;
	if (!cJSON_IsString(it) || !it->valuestring || strncmp(it->valuestring, "0x", 2) != 0 ||
	    vms_parse_address(it->valuestring, out) != VMS_OK)
		return fail(c, path, key, "not a 0x… address");
	return 0;
}

static int get_arr(struct pctx *c, const cJSON *o, const char *path, const char *key, int required,
                   const cJSON **out)
{
	const cJSON *it = field(o, key);
	*out = NULL;
	if (!it)
		return required ? fail(c, path, key, "missing") : 0;
	if (!cJSON_IsArray(it))
		return fail(c, path, key, "expected an array");
	*out = it;
	return 0;
}

/* ---- fields, by the record tables (include/vmscope/record.h) ----------------------------- */

/* An smaps object (every key optional) into v. */
static int get_smaps(struct pctx *c, const cJSON *o, const char *path, uint64_t *v)
{
	for (int f = 0; f < VMS_SF_COUNT; f++)
		if (get_u64(c, o, path, vms_smaps_field_key((enum vms_smaps_field)f), 0, &v[f]) < 0)
			return -1;
	return 0;
}

static int get_fields(struct pctx *c, const cJSON *o, const char *path, const struct vms_record *rec,
                      void *base);

/* One field of a table into base. An absent optional field keeps what base holds (its default:
 * the caller ran vms_record_defaults). Derived and special fields are the caller's. */
static int get_field(struct pctx *c, const cJSON *o, const char *path, const struct vms_field *f, void *base)
{
	void *p = VMS_FIELD_PTR(base, f);
	const cJSON *it = field(o, f->key);
	char sub[2 * PATH_MAX_LEN + 8];
	int64_t v;

	if (!it && (f->flags & VMS_FF_REQUIRED) && f->kind != VMS_FK_OBJECT)
		return fail(c, path, f->key, "missing");
	if (it && cJSON_IsNull(it) && (f->flags & VMS_FF_NULL_OK))
		return 0; /* null: the default */
	switch (f->kind) {
	case VMS_FK_U64:
		return get_u64(c, o, path, f->key, 0, (uint64_t *)p);
	case VMS_FK_U32:
	case VMS_FK_INT:
	case VMS_FK_I64:
		v = vms_field_get_int(base, f);
		if (get_int(c, o, path, f->key, 0, f->min, f->max, &v) < 0)
			return -1;
		vms_field_set_int(base, f, v);
		return 0;
	case VMS_FK_INT_NULL:
		v = vms_field_get_int(base, f);
		if (get_int_or_null(c, o, path, f->key, f->min, f->max, f->dflt, &v) < 0)
			return -1;
		vms_field_set_int(base, f, v);
		return 0;
	case VMS_FK_BOOL:
		return get_bool(c, o, path, f->key, (int *)p);
	case VMS_FK_ADDR:
		return get_addr(c, o, path, f->key, 0, (uint64_t *)p);
	case VMS_FK_STR:
		if (!it)
			return 0;
		if (get_str(c, o, path, f->key, 0, (const char **)p) < 0)
			return -1;
		if (!*(const char **)p)
			*(const char **)p = (f->flags & VMS_FF_PRIVATE)
			                        ? ""
			                        : f->dflt_str; /* a share that left it out: "" for none */
		return 0;
	case VMS_FK_ENUM:
		if (!it)
			return 0;
		for (int64_t k = f->min; k <= f->max && cJSON_IsString(it); k++)
			if (strcmp(f->names[k - f->min], it->valuestring) == 0) {
				vms_field_set_int(base, f, k);
				return 0;
			}
		return fail(c, path, f->key, "expected one of \"%s\" ... \"%s\"", f->names[0],
		            f->names[f->max - f->min]);
	case VMS_FK_TYPE: {
		const char *type_key = cJSON_IsString(it) ? it->valuestring : NULL;
		int t = vms_type_from_key(type_key);
		if (t < 0)
			return fail(c, path, f->key, "not a memory type key (\"image\", \"heap\", ...)");
		if (t == VMS_TYPE_FREE || t == VMS_TYPE_PAGE_TABLE)
			return fail(c, path, f->key, "\"%s\" is not a type an allocation can have", type_key);
		*(enum vms_type *)p = (enum vms_type)t;
		return 0;
	}
	case VMS_FK_PERMS:
		if (!cJSON_IsString(it) || !it->valuestring || !vms_imp_perms_ok(it->valuestring))
			return fail(c, path, f->key, "expected 4 characters like \"rw-p\"");
		memcpy(p, it->valuestring, 5);
		return 0;
	case VMS_FK_DEV:
		if (it &&
		    (!cJSON_IsString(it) || !it->valuestring ||
		     vms_imp_dev(it->valuestring, (unsigned *)p, (unsigned *)((char *)base + f->aux)) < 0))
			return fail(c, path, f->key, "expected \"MAJ:MIN\" in hex");
		return 0;
	case VMS_FK_SMAPS:
		if (!cJSON_IsObject(it))
			return fail(c, path, f->key, "expected an object");
		snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", f->key);
		return get_smaps(c, it, sub, (uint64_t *)p);
	case VMS_FK_ROLLUP:
		if (!it || cJSON_IsNull(it))
			return 0;
		if (!cJSON_IsObject(it))
			return fail(c, path, f->key, "expected an object or null");
		*(int *)((char *)base + f->aux) = 1;
		snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", f->key);
		return get_smaps(c, it, sub, (uint64_t *)p);
	case VMS_FK_OBJECT:
		if (!it)
			return vms_imp_has_required(f->sub) ? fail(c, path, f->key, "missing") : 0;
		if (!cJSON_IsObject(it))
			return fail(c, path, f->key, "expected an object");
		snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", f->key);
		return get_fields(c, it, sub, f->sub, base);
	default:
		return 0; /* derived (SIZE, TIME, COLS) or the caller's (SPECIAL) */
	}
}

/* Every non-derived field of rec in table order. */
static int get_fields(struct pctx *c, const cJSON *o, const char *path, const struct vms_record *rec,
                      void *base)
{
	for (size_t i = 0; i < rec->n_fields; i++) {
		const struct vms_field *f = &rec->fields[i];
		if (f->key && !(f->flags & VMS_FF_CHECK) && get_field(c, o, path, f, base) < 0)
			return -1;
	}
	return 0;
}

/* A record from object o (defaults first). */
static int get_record(struct pctx *c, const cJSON *o, const char *path, const struct vms_record *rec,
                      void *base)
{
	if (!cJSON_IsObject(o))
		return fail(c, path, NULL, "expected an object");
	vms_record_defaults(rec, base);
	return get_fields(c, o, path, rec, base);
}

/* ---- sections ---------------------------------------------------------------------- */

/* One region into *r; has_prev/prev_end: the end of the previous region in address order
 * (across allocations), which this one must not precede. The caller sets type/allocation. */
static int parse_region(struct pctx *c, const cJSON *o, const char *path, struct vms_region *r, int has_prev,
                        uint64_t prev_end)
{
	if (get_record(c, o, path, &vms_rec_region, r) < 0)
		return -1;
	return vms_imp_region_done(r, path, has_prev, prev_end, &c->mapped, c->err, c->errlen);
}

/* First pass: count regions and parts (and check the array shapes) so arrays are allocated once. */
static int count_regions(struct pctx *c, const cJSON *allocs, size_t *n_allocs, size_t *n_regions,
                         size_t *n_parts)
{
	char path[PATH_MAX_LEN];
	size_t na = 0, nr = 0, np = 0;
	const cJSON *a;

	cJSON_ArrayForEach(a, allocs)
	{
		const cJSON *regs, *parts;
		snprintf(path, sizeof path, "allocations[%zu]", na);
		if (!cJSON_IsObject(a))
			return fail(c, path, NULL, "expected an object");
		if (get_arr(c, a, path, "regions", 1, &regs) < 0 ||
		    get_arr(c, a, path, "parts", 0, &parts) < 0)
			return -1;
		size_t k = (size_t)cJSON_GetArraySize(regs);
		if (k == 0)
			return fail(c, path, "regions", "empty (an allocation has at least one region)");
		if (k > UINT32_MAX || nr + k < nr)
			return fail(c, path, "regions", "too many regions");
		nr += k;
		np += parts ? (size_t)cJSON_GetArraySize(parts) : 0;
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
static int check_bound(struct pctx *c, const cJSON *a, const char *path, const char *key, uint64_t have,
                       const char *what)
{
	uint64_t want;
	if (!field(a, key))
		return 0;
	if (get_addr(c, a, path, key, 0, &want) < 0)
		return -1;
	if (want != have)
		return fail(c, path, key, "0x%llx is not the %s (0x%llx)", (unsigned long long)want, what,
		            (unsigned long long)have);
	return 0;
}

/* The allocation's parts: inside it, sorted, not overlapping. */
static int parse_parts(struct pctx *c, const cJSON *a, const char *path, size_t ai)
{
	struct vms_snapshot *s = c->s;
	const cJSON *arr = field(a, "parts"), *p;
	const struct vms_allocation *al = &s->allocations[ai];
	char ppath[2 * PATH_MAX_LEN];
	uint32_t k = 0;
	uint64_t prev_end = al->start;

	cJSON_ArrayForEach(p, arr)
	{
		struct vms_part *pt = &s->parts[s->n_parts];
		snprintf(ppath, sizeof ppath, "%s.parts[%u]", path, k++);
		if (get_record(c, p, ppath, &vms_rec_part, pt) < 0)
			return -1;
		if (vms_imp_part_done(pt, al, ai, &prev_end, ppath, c->err, c->errlen) < 0)
			return -1;
		s->n_parts++;
	}
	return 0;
}

static int parse_allocations(struct pctx *c, const cJSON *root)
{
	struct vms_snapshot *s = c->s;
	const cJSON *allocs, *a;
	size_t na = 0, nr = 0, np = 0, ai = 0, ri = 0;
	char path[PATH_MAX_LEN], rpath[2 * PATH_MAX_LEN];

	if (get_arr(c, root, "", "allocations", 1, &allocs) < 0 ||
	    count_regions(c, allocs, &na, &nr, &np) < 0)
		return -1;
	if (na > SIZE_MAX / sizeof(struct vms_allocation) || nr > SIZE_MAX / sizeof(struct vms_region) ||
	    np > SIZE_MAX / sizeof(struct vms_part))
		return fail(c, "", "allocations", "too large");
	s->allocations = vms_snapshot_alloc(s, (na ? na : 1) * sizeof(struct vms_allocation));
	s->regions = vms_snapshot_alloc(s, (nr ? nr : 1) * sizeof(struct vms_region));
	s->parts = np ? vms_snapshot_alloc(s, np * sizeof(struct vms_part)) : NULL;
	if (!s->allocations || !s->regions || (np && !s->parts)) {
		c->nomem = 1;
		return fail(c, "", "allocations", "out of memory");
	}

	cJSON_ArrayForEach(a, allocs)
	{
		struct vms_allocation *al = &s->allocations[ai];
		const cJSON *regs = field(a, "regions"), *r;

		snprintf(path, sizeof path, "allocations[%zu]", ai);
		if (get_record(c, a, path, &vms_rec_allocation, al) < 0)
			return -1;
		al->first_region = (uint32_t)ri;

		uint32_t k = 0;
		cJSON_ArrayForEach(r, regs)
		{
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
		if (check_bound(c, a, path, "start", al->start, "start of its first region") < 0 ||
		    check_bound(c, a, path, "end", al->end, "end of its last region") < 0 ||
		    parse_parts(c, a, path, ai) < 0)
			return -1;
		ai++;
	}
	s->n_allocations = na;
	s->n_regions = nr;
	return 0;
}

/* An array of records at root[key] (optional) into a new array owned by the snapshot. */
static int parse_array(struct pctx *c, const cJSON *root, const char *ppath, const char *key,
                       const struct vms_record *rec, void **out, size_t *n_out)
{
	const cJSON *arr, *e;
	char path[PATH_MAX_LEN];
	size_t i = 0;

	if (get_arr(c, root, ppath, key, 0, &arr) < 0)
		return -1;
	size_t n = arr ? (size_t)cJSON_GetArraySize(arr) : 0;
	if (!n)
		return 0;
	char *a = vms_snapshot_alloc(c->s, n * rec->size);
	if (!a) {
		c->nomem = 1;
		return fail(c, ppath, key, "out of memory");
	}
	cJSON_ArrayForEach(e, arr)
	{
		snprintf(path, sizeof path, "%s%s%s[%zu]", ppath, *ppath ? "." : "", key, i);
		if (get_record(c, e, path, rec, a + i * rec->size) < 0)
			return -1;
		i++;
	}
	*out = a;
	*n_out = n;
	return 0;
}

static int parse_threads(struct pctx *c, const cJSON *root)
{
	struct vms_snapshot *s = c->s;
	void *arr = NULL;
	if (parse_array(c, root, "", "threads", &vms_rec_thread, &arr, &s->n_threads) < 0)
		return -1;
	s->threads = arr;
	return vms_imp_threads_done(s, c->err, c->errlen);
}

static int parse_top(struct pctx *c, const cJSON *root)
{
	struct vms_snapshot *s = c->s;
	const cJSON *attr;
	void *arr = NULL;

	vms_record_defaults(&vms_rec_snapshot, s);
	if (get_fields(c, root, "", &vms_rec_snapshot, s) < 0)
		return -1;
	if (vms_imp_header_done(s, field(root, "mmap_min_addr") != NULL, c->err, c->errlen) < 0)
		return -1;
	if (parse_allocations(c, root) < 0 || parse_threads(c, root) < 0)
		return -1;
	attr = field(root, "attribution");
	if (attr && cJSON_IsObject(attr) &&
	    parse_array(c, attr, "attribution", "recognisers", &vms_rec_recogniser, &arr, &s->n_recognisers) <
	        0)
		return -1;
	s->recognisers = arr;
	return 0;
}

int vms_json_parse_snapshot_tree(const char *text, size_t len, struct vms_snapshot **out, char *errbuf,
                                 size_t errlen)
{
	int ret = VMS_ERR_INVALID;
	struct pctx c = {.err = errbuf, .errlen = errlen};
	cJSON *root = NULL;
	const char *end = NULL;
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

	if (vms_imp_text_ok(text, len, errbuf, errlen) < 0)
		goto out;
	root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (!root) {
		size_t off = end && end >= text && end <= text + len ? (size_t)(end - text) : 0;
		vms_imp_syntax_error(text, len, off, errbuf, errlen);
		goto out;
	}
	if (vms_imp_trailing_ok(text, len, (size_t)(end - text), errbuf, errlen) < 0)
		goto out;
	if (!cJSON_IsObject(root)) {
		fail(&c, "", NULL, "expected a JSON object at the top level");
		goto out;
	}
	int dup_nomem = 0;
	const char *dup = vms_json_dup_key(root, &dup_nomem);
	if (dup_nomem) {
		ret = VMS_ERR_NOMEM;
		fail(&c, "", NULL, "out of memory");
		goto out;
	}
	if (dup) {
		fail(&c, "", NULL,
		     "the key \"%.64s\" appears twice in one object (JSON readers disagree about which one "
		     "counts)",
		     dup);
		goto out;
	}

	if (lex_numbers(&c, text, (size_t)(end - text)) < 0) {
		ret = VMS_ERR_NOMEM;
		fail(&c, "", NULL, "out of memory");
		goto out;
	}
	size_t k = 0;
	if (c.n_nums > INT_MAX || assign_tokens(&c, root, &k) < 0 || k != c.n_nums) {
		fail(&c, "", NULL, "cannot read the numbers in this JSON text");
		goto out;
	}

	if (get_int(&c, root, "", "format_version", 1, INT64_MIN, INT64_MAX, &version) < 0)
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
	if (parse_top(&c, root) < 0) {
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
	cJSON_Delete(root);
	free(c.nums);
	return ret;
}
