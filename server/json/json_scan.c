/* The pull tokenizer (contract in json_scan.h).
 *
 * The check mirrors cJSON 1.7.15's parse_value/parse_string/parse_number/parse_array/
 * parse_object step by step, so that an import accepts, refuses and locates errors exactly as
 * the cJSON-tree importer it replaced did (tests/unit/test_json_import.c checks the outcomes
 * pinned when the two agreed). cJSON quirks kept on purpose: every byte <= 32 is whitespace, a number is
 * what strtod reads from the run of [0-9+-.eE] (the Debian 1.7.15 has 1.7.18's
 * unbounded copy), an invalid \u hex digit reads as U+0000,
 * raw control characters in strings are accepted, a leading UTF-8 BOM is skipped. */
#include "json_scan.h"

#include <stdlib.h>
#include <string.h>

/* ---- string decoding (shared by the check and the readers) ------------------------------------ */

static unsigned hex4(const unsigned char *p)
{
	unsigned h = 0;
	for (int i = 0; i < 4; i++) {
		unsigned char ch = p[i];
		if (ch >= '0' && ch <= '9')
			h += (unsigned)(ch - '0');
		else if (ch >= 'A' && ch <= 'F')
			h += 10u + (unsigned)(ch - 'A');
		else if (ch >= 'a' && ch <= 'f')
			h += 10u + (unsigned)(ch - 'a');
		else
			return 0;
		if (i < 3)
			h <<= 4;
	}
	return h;
}

/* Length (6 or 12) of the \u escape at p (end: the closing quote), 0 when cJSON refuses it;
 * *cp = the code point. */
static size_t utf16_escape(const unsigned char *p, const unsigned char *end, unsigned long *cp)
{
	if (end - p < 6)
		return 0;
	unsigned first = hex4(p + 2);
	if (first >= 0xDC00 && first <= 0xDFFF)
		return 0;
	if (first >= 0xD800 && first <= 0xDBFF) {
		const unsigned char *s = p + 6;
		if (end - s < 6 || s[0] != '\\' || s[1] != 'u')
			return 0;
		unsigned second = hex4(s + 2);
		if (second < 0xDC00 || second > 0xDFFF)
			return 0;
		*cp = 0x10000ul + (((unsigned long)(first & 0x3FF) << 10) | (second & 0x3FF));
		return 12;
	}
	*cp = first;
	return 6;
}

/* UTF-8 bytes of cp into out; returns their number (1..4). */
static size_t put_utf8(unsigned long cp, unsigned char *out)
{
	if (cp < 0x80) {
		out[0] = (unsigned char)cp;
		return 1;
	}
	size_t n = cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
	static const unsigned char mark[5] = {0, 0, 0xC0, 0xE0, 0xF0};
	for (size_t k = n - 1; k > 0; k--) {
		out[k] = (unsigned char)((cp | 0x80) & 0xBF);
		cp >>= 6;
	}
	out[0] = (unsigned char)((cp | mark[n]) & 0xFF);
	return n;
}

/* The escape at p (a backslash; end: the closing quote): its length (2, 6 or 12; 0 when cJSON
 * refuses it) and *cp the code point it stands for. */
static size_t escape(const unsigned char *p, const unsigned char *end, unsigned long *cp)
{
	static const char from[] = "bfnrt\"\\/", to[] = "\b\f\n\r\t\"\\/";
	const char *k = p[1] ? strchr(from, p[1]) : NULL;
	if (k) {
		*cp = (unsigned char)to[k - from];
		return 2;
	}
	return p[1] == 'u' ? utf16_escape(p, end, cp) : 0;
}

/* Decode one character of a checked string at *p (< end) into out; returns the bytes written. */
static size_t decode_one(const unsigned char **p, const unsigned char *end, unsigned char *out)
{
	const unsigned char *q = *p;
	unsigned long cp = 0;
	if (*q != '\\') {
		*p = q + 1;
		out[0] = *q;
		return 1;
	}
	size_t n = escape(q, end, &cp);
	*p = q + (n ? n : 2);
	return put_utf8(cp, out);
}

size_t vms_jscan_decode(const char *t, size_t from, size_t to, char *out)
{
	const unsigned char *p = (const unsigned char *)t + from, *end = (const unsigned char *)t + to;
	size_t n = 0;
	while (p < end)
		n += decode_one(&p, end, (unsigned char *)out + n);
	out[n] = '\0';
	return n;
}

int vms_jscan_decode_key(const char *t, size_t from, size_t to, char *out, size_t cap)
{
	const unsigned char *p = (const unsigned char *)t + from, *end = (const unsigned char *)t + to;
	unsigned char tmp[4];
	size_t n = 0;
	while (p < end) {
		size_t k = decode_one(&p, end, tmp);
		for (size_t j = 0; j < k; j++) {
			if (!tmp[j]) {
				out[n] = '\0';
				return 1;
			}
			if (n + 1 >= cap)
				return 0;
			out[n++] = (char)tmp[j];
		}
	}
	out[n] = '\0';
	return 1;
}

/* ---- keys: compared as C strings of their decoded text (cJSON keeps keys as C strings) -------- */

/* A key of an open object, 8 bytes (a flat object of a million keys costs 8 MB, less than its
 * text): its raw characters are t[off .. off + (lp >> 1)); lp & 1 = plain (no backslash and no
 * NUL: the raw bytes are the decoded key). Texts of 2 GiB and more are refused. */
struct key {
	uint32_t off, lp;
};

#define VMS_JSCAN_MAX_LEN 0x7fffffffu

/* Streams the decoded bytes of a key, ending at its end or its first NUL. */
struct keyrd {
	const unsigned char *p, *end;
	unsigned char buf[4];
	size_t n, i;
};

static int keyrd_next(struct keyrd *r)
{
	if (r->i == r->n) {
		if (r->p >= r->end)
			return -1;
		r->n = decode_one(&r->p, r->end, r->buf);
		r->i = 0;
	}
	int ch = r->buf[r->i++];
	return ch ? ch : -1;
}

static int key_cmp(const unsigned char *t, const struct key *a, const struct key *b)
{
	const unsigned char *pa = t + a->off, *pb = t + b->off;
	size_t na = a->lp >> 1, nb = b->lp >> 1;
	if (a->lp & b->lp & 1) {
		int d = memcmp(pa, pb, na < nb ? na : nb);
		return d ? d : (na > nb) - (na < nb);
	}
	struct keyrd ra = {pa, pa + na, {0}, 0, 0}, rb = {pb, pb + nb, {0}, 0, 0};
	for (;;) {
		int x = keyrd_next(&ra), y = keyrd_next(&rb);
		if (x != y || x < 0)
			return x - y;
	}
}

static int key_qcmp(const void *a, const void *b, void *t)
{
	return key_cmp(t, a, b);
}

/* ---- the check ---------------------------------------------------------------------------------- */

struct chk {
	const unsigned char *t;
	size_t len, off;
	struct key *keys; /* keys of the objects open now, innermost last */
	size_t n_keys, cap_keys;
	int nomem;
	size_t dup_obj; /* the '{' of the first object (in document order) with a duplicate */
	struct key dup;
	int has_dup;
};

static int can_access(const struct chk *c, size_t i)
{
	return c->off + i < c->len;
}

static void skip_ws(struct chk *c)
{
	if (!can_access(c, 0))
		return;
	while (can_access(c, 0) && c->t[c->off] <= 32)
		c->off++;
	if (c->off == c->len)
		c->off--;
}

static int parse_value(struct chk *c);

static int parse_string(struct chk *c, struct key *k)
{
	size_t start = c->off, ie = start + 1;
	if (c->t[start] != '"')
		goto fail_start;
	while (ie < c->len && c->t[ie] != '"') {
		if (c->t[ie] == '\\') {
			if (ie + 1 >= c->len)
				goto fail_start;
			ie++;
		}
		ie++;
	}
	if (ie >= c->len)
		goto fail_start;
	int plain = 1;
	for (size_t ip = start + 1; ip < ie;) {
		unsigned long cp;
		if (c->t[ip] != '\\') {
			if (!c->t[ip])
				plain = 0;
			ip++;
			continue;
		}
		plain = 0;
		size_t n = escape(c->t + ip, c->t + ie, &cp);
		if (!n) {
			c->off = ip;
			return 0;
		}
		ip += n;
	}
	if (k)
		*k = (struct key){(uint32_t)(start + 1), (uint32_t)((ie - start - 1) << 1 | (size_t)plain)};
	c->off = ie + 1;
	return 1;
fail_start:
	c->off = start + 1;
	return 0;
}

static int number_char(unsigned char ch)
{
	return (ch >= '0' && ch <= '9') || ch == '+' || ch == '-' || ch == 'e' || ch == 'E' || ch == '.';
}

/* strtod over the number token t[0..n) (not NUL-terminated), as cJSON copies it; *used = the
 * bytes strtod read (0: not a number). Returns 0, or -1 on ENOMEM. */
static int token_strtod(const char *t, size_t n, double *v, size_t *used)
{
	char small[64], *buf = n < sizeof small ? small : malloc(n + 1), *after = NULL;
	if (!buf)
		return -1;
	memcpy(buf, t, n);
	buf[n] = '\0';
	*v = strtod(buf, &after);
	*used = (size_t)(after - buf);
	if (buf != small)
		free(buf);
	return 0;
}

int vms_jscan_number(const char *t, size_t len, size_t i, double *v)
{
	size_t used;
	return token_strtod(t + i, vms_jscan_number_len(t, len, i), v, &used);
}

static int parse_number(struct chk *c)
{
	size_t n = vms_jscan_number_len((const char *)c->t, c->len, c->off), used;
	double v;
	if (token_strtod((const char *)c->t + c->off, n, &v, &used) < 0) {
		c->nomem = 1;
		return 0;
	}
	if (!used)
		return 0;
	c->off += used;
	return 1;
}

/* The duplicate among keys[base..n_keys) that vms_json_dup_key names: with up to 16 members
 * the first (in member order) that appears again, else the smallest in sort order. */
static void check_dups(struct chk *c, size_t base, size_t open)
{
	struct key *k = c->keys + base;
	size_t n = c->n_keys - base;
	const struct key *d = NULL;
	if (n < 2 || (c->has_dup && c->dup_obj < open))
		return;
	if (n <= 16) {
		for (size_t i = 0; i < n && !d; i++)
			for (size_t j = i + 1; j < n && !d; j++)
				if (!key_cmp(c->t, &k[i], &k[j]))
					d = &k[i];
	} else {
		qsort_r(k, n, sizeof *k, key_qcmp, (void *)c->t); /* the slice is dropped after this */
		for (size_t i = 1; i < n && !d; i++)
			if (!key_cmp(c->t, &k[i - 1], &k[i]))
				d = &k[i];
	}
	if (d) {
		c->has_dup = 1;
		c->dup_obj = open;
		c->dup = *d;
	}
}

/* After the '[' or '{' at off: 1 when close follows (empty), -1 when the text ends there, else 0
 * with off one byte before the first member (cJSON steps back and then forward again). */
static int open_container(struct chk *c, unsigned char close)
{
	c->off++;
	skip_ws(c);
	if (can_access(c, 0) && c->t[c->off] == close)
		return 1;
	int more = can_access(c, 0);
	c->off--;
	return more ? 0 : -1;
}

/* After a member: 1 when a ',' follows, 0 at close, -1 otherwise. */
static int after_member(const struct chk *c, unsigned char close)
{
	if (can_access(c, 0) && c->t[c->off] == ',')
		return 1;
	return can_access(c, 0) && c->t[c->off] == close ? 0 : -1;
}

/* Past the separator at c->off ('[', ',' or ':'): whitespace, a value, whitespace. 0 when the
 * value is bad. */
static int parse_member_value(struct chk *c)
{
	c->off++;
	skip_ws(c);
	if (!parse_value(c))
		return 0;
	skip_ws(c);
	return 1;
}

static int parse_array(struct chk *c)
{
	int r = open_container(c, ']');
	if (r)
		goto done;
	do {
		if (!parse_member_value(c))
			return 0;
	} while ((r = after_member(c, ']')) == 1);
done:
	if (r < 0)
		return 0;
	c->off++;
	return 1;
}

static int parse_object(struct chk *c)
{
	size_t open = c->off, base = c->n_keys;
	int r = open_container(c, '}');
	if (r)
		goto done;
	do {
		struct key k;
		c->off++;
		skip_ws(c);
		if (!can_access(c, 0) || !parse_string(c, &k)) {
			if (!can_access(c, 0))
				c->off++; /* cJSON: input_pointer = the end + 1 */
			return 0;
		}
		if (c->n_keys == c->cap_keys) {
			size_t cap = c->cap_keys ? 2 * c->cap_keys : 64;
			struct key *nk = realloc(c->keys, cap * sizeof *nk);
			if (!nk) {
				c->nomem = 1;
				return 0;
			}
			c->keys = nk;
			c->cap_keys = cap;
		}
		c->keys[c->n_keys++] = k;
		skip_ws(c);
		if (!can_access(c, 0) || c->t[c->off] != ':' || !parse_member_value(c))
			return 0;
	} while ((r = after_member(c, '}')) == 1);
	if (r == 0)
		check_dups(c, base, open);
done:
	if (r < 0)
		return 0;
	c->n_keys = base;
	c->off++;
	return 1;
}

static int parse_value(struct chk *c)
{
	const unsigned char *p = c->t + c->off;
	size_t left = c->len - c->off;
	if (c->off >= c->len)
		return 0;
	if (left >= 4 && !memcmp(p, "null", 4)) {
		c->off += 4;
		return 1;
	}
	if (left >= 5 && !memcmp(p, "false", 5)) {
		c->off += 5;
		return 1;
	}
	if (left >= 4 && !memcmp(p, "true", 4)) {
		c->off += 4;
		return 1;
	}
	switch (*p) {
	case '"':
		return parse_string(c, NULL);
	case '[':
		return parse_array(c);
	case '{':
		return parse_object(c);
	default:
		return (*p == '-' || (*p >= '0' && *p <= '9')) && parse_number(c);
	}
}

int vms_jscan_check(const char *text, size_t len, struct vms_jscan_check_out *o)
{
	struct chk c = {.t = (const unsigned char *)text, .len = len};
	int ret;

	memset(o, 0, sizeof *o);
	if (len > VMS_JSCAN_MAX_LEN)
		return VMS_JSCAN_NOMEM;
	if (len > 4 && !memcmp(text, "\xEF\xBB\xBF", 3))
		c.off = 3;
	skip_ws(&c);
	o->value = c.off;
	if (!parse_value(&c)) {
		ret = c.nomem ? VMS_JSCAN_NOMEM : VMS_JSCAN_SYNTAX;
		o->err_at = c.off < len ? c.off : len - 1;
		goto out;
	}
	o->end = c.off;
	if (c.has_dup) {
		o->has_dup = 1;
		(void)vms_jscan_decode_key(text, c.dup.off, c.dup.off + (c.dup.lp >> 1), o->dup,
		                           sizeof o->dup);
	}
	ret = VMS_JSCAN_OK;
out:
	free(c.keys);
	return ret;
}

/* ---- readers --------------------------------------------------------------------------------- */

size_t vms_jscan_ws(const char *t, size_t len, size_t i)
{
	while (i < len && (unsigned char)t[i] <= 32)
		i++;
	return i;
}

size_t vms_jscan_number_len(const char *t, size_t len, size_t i)
{
	size_t n = 0;
	while (i + n < len && number_char((unsigned char)t[i + n]))
		n++;
	return n;
}

/* Offset of the closing quote of the string whose opening quote is at i. */
static size_t string_end(const char *t, size_t len, size_t i)
{
	for (i++; i < len && t[i] != '"'; i++)
		if (t[i] == '\\')
			i++;
	return i;
}

size_t vms_jscan_skip(const char *t, size_t len, size_t i)
{
	unsigned depth = 0;
	switch (t[i]) {
	case '"':
		return string_end(t, len, i) + 1;
	case 'n':
	case 't':
		return i + 4;
	case 'f':
		return i + 5;
	case '[':
	case '{':
		break;
	default:
		return i + vms_jscan_number_len(t, len, i);
	}
	for (; i < len; i++) {
		switch (t[i]) {
		case '"':
			i = string_end(t, len, i);
			break;
		case '[':
		case '{':
			depth++;
			break;
		case ']':
		case '}':
			if (--depth == 0)
				return i + 1;
			break;
		default:
			break;
		}
	}
	return len;
}

size_t vms_jscan_first(const char *t, size_t len, size_t i)
{
	i = vms_jscan_ws(t, len, i + 1);
	return i < len && (t[i] == ']' || t[i] == '}') ? VMS_JSCAN_NONE : i;
}

size_t vms_jscan_next_element(const char *t, size_t len, size_t i)
{
	i = vms_jscan_ws(t, len, vms_jscan_skip(t, len, i));
	return i < len && t[i] == ',' ? vms_jscan_ws(t, len, i + 1) : VMS_JSCAN_NONE;
}

size_t vms_jscan_member(const char *t, size_t len, size_t i, struct vms_jscan_member *m)
{
	size_t ke = string_end(t, len, i);
	m->key = i + 1;
	m->key_end = ke;
	i = vms_jscan_ws(t, len, ke + 1); /* at ':' */
	m->value = vms_jscan_ws(t, len, i + 1);
	return vms_jscan_next_element(t, len, m->value);
}
