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

void vms_jo_u64(struct vms_sb *sb, uint64_t v)
{
	char tmp[24];
	int i = 24;
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	vms_jo_lit(sb, tmp + i, (size_t)(24 - i));
}

void vms_jo_i64(struct vms_sb *sb, int64_t v)
{
	if (v < 0) {
		VMS_JO_LIT(sb, "-");
		vms_jo_u64(sb, (uint64_t)0 - (uint64_t)v);
	} else {
		vms_jo_u64(sb, (uint64_t)v);
	}
}

void vms_jo_addr(struct vms_sb *sb, uint64_t v)
{
	static const char hex[] = "0123456789abcdef";
	char tmp[20];
	int i = 20;
	tmp[--i] = '"';
	do {
		tmp[--i] = hex[v & 15];
		v >>= 4;
	} while (v);
	tmp[--i] = 'x';
	tmp[--i] = '0';
	tmp[--i] = '"';
	vms_jo_lit(sb, tmp + i, (size_t)(20 - i));
}

/* A JSON string the way cJSON prints it: \" \\ \b \f \n \r \t, other bytes < 0x20 as \u00xx,
 * everything else verbatim (after UTF-8 repair, as json.c does). NULL prints null. */
void vms_jo_str(struct vms_sb *sb, const char *s)
{
	if (!s) {
		VMS_JO_LIT(sb, "null");
		return;
	}
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

/* Writes {"k":v,...} for n fixed keys; reserve() must have made room (n * 56 bytes). */
static char *put_fixed(char *w, const struct keyset *ks, const uint64_t *v, int n)
{
	*w++ = '{';
	for (int i = 0; i < n; i++) {
		memcpy(w, ks->text[i], ks->len[i]);
		w += ks->len[i];
		char tmp[24];
		int j = 24;
		uint64_t x = v[i];
		do {
			tmp[--j] = (char)('0' + x % 10);
			x /= 10;
		} while (x);
		memcpy(w, tmp + j, (size_t)(24 - j));
		w += 24 - j;
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

int vms_jo_field(struct vms_sb *sb, const struct vms_field *f, const void *base, int first, int omit_private)
{
	const void *p = VMS_FIELD_CPTR(base, f);
	int64_t v;
	if (f->kind == VMS_FK_SPECIAL || f->kind == VMS_FK_OBJECT || !f->key)
		return 1;
	vms_jo_lit(sb, f->jkey + (first ? 1 : 0), f->jkey_len - (first ? 1 : 0));
	switch (f->kind) {
	case VMS_FK_U64:
		vms_jo_u64(sb, *(const uint64_t *)p);
		break;
	case VMS_FK_ADDR:
		vms_jo_addr(sb, *(const uint64_t *)p);
		break;
	case VMS_FK_U32:
	case VMS_FK_INT:
	case VMS_FK_I64:
		vms_jo_i64(sb, vms_field_get_int(base, f));
		break;
	case VMS_FK_INT_NULL:
		v = vms_field_get_int(base, f);
		if (v < f->min)
			VMS_JO_LIT(sb, "null");
		else
			vms_jo_i64(sb, v);
		break;
	case VMS_FK_BOOL:
		if (*(const int *)p)
			VMS_JO_LIT(sb, "true");
		else
			VMS_JO_LIT(sb, "false");
		break;
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
	case VMS_FK_DEV: {
		char dev[24];
		snprintf(dev, sizeof dev, "%02x:%02x", *(const unsigned *)p,
		         *(const unsigned *)((const char *)base + f->aux));
		vms_jo_str(sb, dev);
		break;
	}
	case VMS_FK_SMAPS:
		vms_jo_smaps(sb, (const uint64_t *)p);
		break;
	case VMS_FK_ROLLUP:
		if (*(const int *)((const char *)base + f->aux))
			rollup(sb, (const uint64_t *)p);
		else
			VMS_JO_LIT(sb, "null");
		break;
	case VMS_FK_SIZE:
		vms_jo_u64(sb, *(const uint64_t *)((const char *)base + f->aux) - *(const uint64_t *)p);
		break;
	case VMS_FK_TIME: {
		char tbuf[40];
		vms_format_time_ms(*(const int64_t *)p, tbuf, sizeof tbuf);
		vms_jo_str(sb, tbuf);
		break;
	}
	case VMS_FK_COLS:
		vms_jo_cols(sb, (const uint64_t *)p);
		break;
	default:
		VMS_JO_LIT(sb, "null");
		break;
	}
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
