/* Primitives of the direct JSON writers; contracts in jsonout.h. Formatting follows cJSON
 * 1.7.15's printer exactly (tests/unit/test_json_write.c compares the two byte for byte). */
#include "jsonout.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "textutil.h"

void vms_jo_reserve(struct vms_sb *sb, size_t n)
{
	if (sb->oom || sb->cap - sb->len > n)
		return;
	size_t cap = sb->cap ? sb->cap : 4096;
	while (cap - sb->len <= n)
		cap *= 2;
	char *b = realloc(sb->buf, cap);
	if (!b) {
		sb->oom = 1;
		return;
	}
	sb->buf = b;
	sb->cap = cap;
}

void vms_jo_lit(struct vms_sb *sb, const char *s, size_t n)
{
	vms_jo_reserve(sb, n);
	if (sb->oom)
		return;
	memcpy(sb->buf + sb->len, s, n);
	sb->len += n;
}

/* The writers below put numbers straight into room reserved beforehand: PUT_ROOM bytes hold
 * any one of them (a signed or unsigned 64-bit decimal, a quoted "0x..." address, a quoted
 * "maj:min" device, true/false/null). A 60,000-VMA scan prints 3 million numbers, so these avoid
 * a reserve() and a memcpy of unknown length for each. */
#define PUT_ROOM 24

static const char digit_pairs[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

/* v in decimal at w; returns the end. */
static char *put_u64(char *w, uint64_t v)
{
	if (v < 10) {
		*w = (char)('0' + v);
		return w + 1;
	}
	int n = 2;
	for (uint64_t t = v / 100; t; t /= 10)
		n++;
	char *e = w + n, *q = e;
	while (v >= 100) {
		unsigned d = (unsigned)(v % 100) * 2;
		v /= 100;
		*--q = digit_pairs[d + 1];
		*--q = digit_pairs[d];
	}
	if (v >= 10) {
		*--q = digit_pairs[v * 2 + 1];
		*--q = digit_pairs[v * 2];
	} else {
		*--q = (char)('0' + v);
	}
	return e;
}

static char *put_i64(char *w, int64_t v)
{
	if (v >= 0)
		return put_u64(w, (uint64_t)v);
	*w++ = '-';
	return put_u64(w, (uint64_t)0 - (uint64_t)v);
}

/* v as lowercase hex with at least min digits; returns the end. */
static char *put_hex(char *w, uint64_t v, int min)
{
	static const char hex[] = "0123456789abcdef";
	int n = 1;
	for (uint64_t t = v >> 4; t; t >>= 4)
		n++;
	if (n < min)
		n = min;
	for (int i = n - 1; i >= 0; i--, v >>= 4)
		w[i] = hex[v & 15];
	return w + n;
}

/* "0x..." lowercase hex, quoted */
static char *put_addr(char *w, uint64_t v)
{
	memcpy(w, "\"0x", 3);
	w = put_hex(w + 3, v, 1);
	*w = '"';
	return w + 1;
}

void vms_jo_u64(struct vms_sb *sb, uint64_t v)
{
	vms_jo_reserve(sb, PUT_ROOM);
	if (!sb->oom)
		sb->len = (size_t)(put_u64(sb->buf + sb->len, v) - sb->buf);
}

void vms_jo_i64(struct vms_sb *sb, int64_t v)
{
	vms_jo_reserve(sb, PUT_ROOM);
	if (!sb->oom)
		sb->len = (size_t)(put_i64(sb->buf + sb->len, v) - sb->buf);
}

void vms_jo_addr(struct vms_sb *sb, uint64_t v)
{
	vms_jo_reserve(sb, PUT_ROOM);
	if (!sb->oom)
		sb->len = (size_t)(put_addr(sb->buf + sb->len, v) - sb->buf);
}

/* A JSON string the way cJSON prints it: \" \\ \b \f \n \r \t, other bytes < 0x20 as \u00xx,
 * everything else verbatim (after UTF-8 repair, as json.c does). NULL prints null. */
static void str_escaped(struct vms_sb *sb, const char *s);

void vms_jo_str(struct vms_sb *sb, const char *s)
{
	if (!s) {
		VMS_JO_LIT(sb, "null");
		return;
	}
	/* Printable ASCII without quote or backslash (perms, vm_flags, most paths) is copied as is;
	 * anything else takes the general path below. */
	size_t n = strlen(s);
	vms_jo_reserve(sb, n + 2);
	if (sb->oom)
		return;
	char *w = sb->buf + sb->len;
	size_t k = 0;
	for (; k < n; k++) {
		unsigned char c = (unsigned char)s[k];
		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
			break;
		w[k + 1] = (char)c;
	}
	if (k < n) {
		str_escaped(sb, s);
		return;
	}
	w[0] = '"';
	w[n + 1] = '"';
	sb->len += n + 2;
}

static void str_escaped(struct vms_sb *sb, const char *s)
{
	char *fixed = NULL;
	if (!vms_utf8_valid(s)) {
		fixed = vms_utf8_repair(s);
		if (!fixed) {
			sb->oom = 1;
			return;
		}
		s = fixed;
	}
	size_t n = strlen(s);
	vms_jo_reserve(sb, n * 6 + 2);
	if (!sb->oom) {
		char *w = sb->buf + sb->len;
		*w++ = '"';
		for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
			unsigned char c = *p;
			if (c >= 0x20 && c != '"' && c != '\\') {
				*w++ = (char)c;
				continue;
			}
			*w++ = '\\';
			switch (c) {
			case '"':
				*w++ = '"';
				break;
			case '\\':
				*w++ = '\\';
				break;
			case '\b':
				*w++ = 'b';
				break;
			case '\f':
				*w++ = 'f';
				break;
			case '\n':
				*w++ = 'n';
				break;
			case '\r':
				*w++ = 'r';
				break;
			case '\t':
				*w++ = 't';
				break;
			default:
				w += sprintf(w, "u%04x", c);
				break;
			}
		}
		*w++ = '"';
		sb->len = (size_t)(w - sb->buf);
	}
	free(fixed);
}

/* ,"key": */
void vms_jo_key(struct vms_sb *sb, const char *k, int first)
{
	size_t n = strlen(k);
	vms_jo_reserve(sb, n + 4);
	if (sb->oom)
		return;
	char *w = sb->buf + sb->len;
	if (!first)
		*w++ = ',';
	*w++ = '"';
	memcpy(w, k, n);
	w += n;
	*w++ = '"';
	*w++ = ':';
	sb->len = (size_t)(w - sb->buf);
}

/* Quoted keys with their separators, built once per call site from the name tables. */
#define KS_MAX ((int)VMS_SF_COUNT > (int)VMS_COL_COUNT ? (int)VMS_SF_COUNT : (int)VMS_COL_COUNT)
struct keyset {
	char text[KS_MAX][32];
	unsigned char len[KS_MAX];
};

static void keyset_init(struct keyset *ks, const char *(*name)(int), int n)
{
	for (int i = 0; i < n; i++) {
		int w = snprintf(ks->text[i], sizeof ks->text[i], "%s\"%s\":", i ? "," : "", name(i));
		ks->len[i] = (unsigned char)w;
	}
}

static const char *col_key_i(int i)
{
	return vms_col_key((enum vms_col)i);
}
static const char *sf_key_i(int i)
{
	return vms_smaps_field_key((enum vms_smaps_field)i);
}

/* Writes {"k":v,...} for n fixed keys; reserve() must have made room (n * 56 bytes: a key's
 * 32-byte slot, of which at most 31 count, and 20 digits). */
static char *put_fixed(char *w, const struct keyset *ks, const uint64_t *v, int n)
{
	*w++ = '{';
	for (int i = 0; i < n; i++) {
		memcpy(w, ks->text[i], sizeof ks->text[i]); /* a fixed size: two moves, no call */
		w = put_u64(w + ks->len[i], v[i]);
	}
	*w++ = '}';
	return w;
}

static struct keyset col_keys, sf_keys;
static pthread_once_t keys_once = PTHREAD_ONCE_INIT;
static void keys_init(void)
{
	keyset_init(&col_keys, col_key_i, VMS_COL_COUNT);
	keyset_init(&sf_keys, sf_key_i, VMS_SF_COUNT);
}

/* {"k":v,...} for the n keys of ks (col_keys or sf_keys) and the values v. */
static void put_keyed(struct vms_sb *sb, const struct keyset *ks, const uint64_t *v, int n)
{
	pthread_once(&keys_once, keys_init);
	vms_jo_reserve(sb, (size_t)n * 56 + 2);
	if (sb->oom)
		return;
	sb->len = (size_t)(put_fixed(sb->buf + sb->len, ks, v, n) - sb->buf);
}

void vms_jo_columns(struct vms_sb *sb, const char *k, const uint64_t cols[VMS_COL_COUNT])
{
	vms_jo_key(sb, k, 0);
	put_keyed(sb, &col_keys, cols, VMS_COL_COUNT);
}

void vms_jo_smaps(struct vms_sb *sb, const uint64_t v[VMS_SF_COUNT])
{
	put_keyed(sb, &sf_keys, v, VMS_SF_COUNT);
}

void vms_jo_deltas(struct vms_sb *sb, const char *k, const int64_t d[VMS_COL_COUNT])
{
	vms_jo_key(sb, k, 0);
	VMS_JO_LIT(sb, "{");
	for (int i = 0; i < VMS_COL_COUNT; i++) {
		vms_jo_key(sb, vms_col_key((enum vms_col)i), i == 0);
		vms_jo_i64(sb, d[i]);
	}
	VMS_JO_LIT(sb, "}");
}

void vms_jo_cols(struct vms_sb *sb, const uint64_t cols[VMS_COL_COUNT])
{
	put_keyed(sb, &col_keys, cols, VMS_COL_COUNT);
}

void vms_jo_col_members(struct vms_sb *sb, const uint64_t cols[VMS_COL_COUNT], uint32_t mask, int first)
{
	pthread_once(&keys_once, keys_init);
	vms_jo_reserve(sb, (size_t)VMS_COL_COUNT * 56);
	if (sb->oom)
		return;
	char *w = sb->buf + sb->len;
	for (int i = 0; i < VMS_COL_COUNT; i++) {
		if (!(mask & (1u << i)))
			continue;
		/* col_keys' text starts with a comma from the second key on */
		int skip = i && first ? 1 : 0, comma = !i && !first;
		if (comma)
			*w++ = ',';
		memcpy(w, col_keys.text[i] + skip, sizeof col_keys.text[i] - (size_t)skip);
		w = put_u64(w + col_keys.len[i] - skip, cols[i]);
		first = 0;
	}
	sb->len = (size_t)(w - sb->buf);
}

static void rollup(struct vms_sb *sb, const uint64_t v[VMS_SF_COUNT])
{
	VMS_JO_LIT(sb, "{");
	int first = 1;
	for (int f = 0; f < VMS_SF_COUNT; f++) {
		if (f == VMS_SF_SIZE || f == VMS_SF_KERNEL_PAGE_SIZE || f == VMS_SF_MMU_PAGE_SIZE)
			continue;
		vms_jo_key(sb, vms_smaps_field_key((enum vms_smaps_field)f), first);
		first = 0;
		vms_jo_u64(sb, v[f]);
	}
	VMS_JO_LIT(sb, "}");
}

/* The value of a field whose kinds vms_jo_field does not write in place. */
static void field_value(struct vms_sb *sb, const struct vms_field *f, const void *base, const void *p,
                        int omit_private)
{
	int64_t v;
	switch (f->kind) {
	case VMS_FK_ENUM:
		v = vms_field_get_int(base, f);
		vms_jo_str(sb, v >= f->min && v <= f->max ? f->names[v - f->min] : NULL);
		break;
	case VMS_FK_STR: {
		const char *s = *(const char *const *)p;
		vms_jo_str(sb, omit_private && (f->flags & VMS_FF_PRIVATE) ? NULL : s ? s : f->dflt_str);
		break;
	}
	case VMS_FK_TYPE:
		vms_jo_str(sb, vms_type_key(*(const enum vms_type *)p));
		break;
	case VMS_FK_PERMS:
		vms_jo_str(sb, (const char *)p);
		break;
	case VMS_FK_SMAPS:
		vms_jo_smaps(sb, (const uint64_t *)p);
		break;
	case VMS_FK_ROLLUP:
		if (*(const int *)((const char *)base + f->aux))
			rollup(sb, (const uint64_t *)p);
		else
			VMS_JO_LIT(sb, "null");
		break;
	case VMS_FK_TIME: {
		char tbuf[40];
		vms_jo_str(sb, vms_format_taken_ms(*(const int64_t *)p, tbuf, sizeof tbuf));
		break;
	}
	case VMS_FK_COLS:
		vms_jo_cols(sb, (const uint64_t *)p);
		break;
	default:
		VMS_JO_LIT(sb, "null");
		break;
	}
}

int vms_jo_field(struct vms_sb *sb, const struct vms_field *f, const void *base, int first, int omit_private)
{
	const void *p = VMS_FIELD_CPTR(base, f);
	int64_t v;
	if (f->kind == VMS_FK_SPECIAL || f->kind == VMS_FK_OBJECT || !f->key)
		return 1;
	/* One reservation for the key and any scalar value, written in place. */
	size_t kl = f->jkey_len - (first ? 1 : 0);
	vms_jo_reserve(sb, kl + PUT_ROOM);
	if (sb->oom)
		return 0;
	char *w = sb->buf + sb->len;
	memcpy(w, f->jkey + (first ? 1 : 0), kl);
	w += kl;
	switch (f->kind) {
	case VMS_FK_U64:
		w = put_u64(w, *(const uint64_t *)p);
		break;
	case VMS_FK_ADDR:
		w = put_addr(w, *(const uint64_t *)p);
		break;
	case VMS_FK_U32:
	case VMS_FK_INT:
	case VMS_FK_I64:
		w = put_i64(w, vms_field_get_int(base, f));
		break;
	case VMS_FK_INT_NULL:
		v = vms_field_get_int(base, f);
		if (v < f->min) {
			memcpy(w, "null", 4);
			w += 4;
		} else {
			w = put_i64(w, v);
		}
		break;
	case VMS_FK_BOOL:
		if (*(const int *)p) {
			memcpy(w, "true", 4);
			w += 4;
		} else {
			memcpy(w, "false", 5);
			w += 5;
		}
		break;
	case VMS_FK_SIZE:
		w = put_u64(w, *(const uint64_t *)((const char *)base + f->aux) - *(const uint64_t *)p);
		break;
	case VMS_FK_DEV: /* "%02x:%02x" of major and minor */
		*w++ = '"';
		w = put_hex(w, *(const unsigned *)p, 2);
		*w++ = ':';
		w = put_hex(w, *(const unsigned *)((const char *)base + f->aux), 2);
		*w++ = '"';
		break;
	default:
		sb->len = (size_t)(w - sb->buf);
		field_value(sb, f, base, p, omit_private);
		return 0;
	}
	sb->len = (size_t)(w - sb->buf);
	return 0;
}

void vms_jo_allocation_head(struct vms_sb *sb, const struct vms_allocation *a)
{
	/* The allocation's fields up to and including "owner" (what a diff's D_ALLOC repeats). */
	const struct vms_record *rec = &vms_rec_allocation;
	for (size_t i = 0; i < rec->n_fields; i++) {
		vms_jo_field(sb, &rec->fields[i], a, i == 0, 0);
		if (strcmp(rec->fields[i].key, "owner") == 0)
			break;
	}
}
