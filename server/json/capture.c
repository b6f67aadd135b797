/* Captures and the any-file loader (contract in vmscope/capture.h). */
#include "vmscope/capture.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "json_scan.h"
#include "vmscope/error.h"
#include "vmscope/json.h"
#include "vmscope/parse.h"
#include "vmscope/util.h"

struct text {
	char *name; /* a /proc text's name, or a file range's path */
	struct vms_buf b;
	int is_range; /* a range of a mapped file (vms_capture_texts_add_range) */
	uint64_t inode, size, offset;
};

struct vms_capture_texts {
	struct text *t;
	size_t n, cap;
	int oom;
};

struct vms_capture_texts *vms_capture_texts_new(void)
{
	return calloc(1, sizeof(struct vms_capture_texts));
}

void vms_capture_texts_free(struct vms_capture_texts *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		free(t->t[i].name);
		free(t->t[i].b.data);
	}
	free(t->t);
	free(t);
}

int vms_capture_texts_add(struct vms_capture_texts *t, const char *name, const char *buf, size_t len)
{
	struct text *x = NULL;
	for (size_t i = 0; i < t->n && !x; i++)
		if (!t->t[i].is_range && !strcmp(t->t[i].name, name))
			x = &t->t[i];
	if (!x) {
		if (VMS_GROW(t->t, t->n, t->cap, 16) < 0)
			goto oom;
		x = &t->t[t->n];
		memset(x, 0, sizeof *x);
		if (!(x->name = strdup(name)))
			goto oom;
		t->n++;
	}
	if (x->b.len + len + 1 > x->b.cap) {
		size_t cap = x->b.cap ? x->b.cap : 4096;
		while (cap < x->b.len + len + 1)
			cap *= 2;
		char *g = realloc(x->b.data, cap);
		if (!g)
			goto oom;
		x->b.data = g;
		x->b.cap = cap;
	}
	memcpy(x->b.data + x->b.len, buf, len);
	x->b.len += len;
	x->b.data[x->b.len] = '\0';
	return VMS_OK;
oom:
	t->oom = 1;
	return VMS_ERR_NOMEM;
}

int vms_capture_texts_add_range(void *texts, const char *path, uint64_t inode, uint64_t size, uint64_t offset,
                                const void *buf, size_t len)
{
	struct vms_capture_texts *t = texts;
	struct text *x;
	if (VMS_GROW(t->t, t->n, t->cap, 16) < 0)
		goto oom;
	x = &t->t[t->n];
	memset(x, 0, sizeof *x);
	if (!(x->name = strdup(path)) || !(x->b.data = malloc(len + 1))) {
		free(x->name);
		goto oom;
	}
	memcpy(x->b.data, buf, len);
	x->b.data[len] = '\0';
	x->b.len = len;
	x->b.cap = len + 1;
	x->is_range = 1, x->inode = inode, x->size = size, x->offset = offset;
	t->n++;
	return 0;
oom:
	t->oom = 1;
	return -1;
}

void vms_capture_on_text(void *text_cookie, const char *file, const char *buf, size_t len)
{
	/* a failure is remembered in the set (oom) and reported by vms_capture_build */
	(void)vms_capture_texts_add(text_cookie, file, buf, len);
}

/* ---- base64 (RFC 4648, with padding) ------------------------------------------------------- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *b64_encode(const unsigned char *p, size_t len)
{
	char *o = malloc((len + 2) / 3 * 4 + 1), *q = o;
	if (!o)
		return NULL;
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (i + 1 < len ? (unsigned)p[i + 1] << 8 : 0) |
		             (i + 2 < len ? p[i + 2] : 0);
		*q++ = b64[v >> 18 & 63];
		*q++ = b64[v >> 12 & 63];
		*q++ = i + 1 < len ? b64[v >> 6 & 63] : '=';
		*q++ = i + 2 < len ? b64[v & 63] : '=';
	}
	*q = '\0';
	return o;
}

static int b64_value(char c)
{
	const char *p = c ? strchr(b64, c) : NULL;
	return p ? (int)(p - b64) : -1;
}

/* Decode s (length a multiple of 4, '=' only at the end) into a malloc'd, NUL-terminated *out.
 * 0 or -1 (malformed or ENOMEM: *out NULL). */
static int b64_decode(const char *s, char **out, size_t *len)
{
	size_t n = strlen(s), k = 0;
	*out = NULL;
	if (n % 4)
		return -1;
	char *o = malloc(n / 4 * 3 + 1);
	if (!o)
		return -1;
	for (size_t i = 0; i < n; i += 4) {
		int v[4];
		for (int j = 0; j < 4; j++) {
			v[j] = s[i + j] == '=' && i + 4 == n && j >= 2 ? 0 : b64_value(s[i + j]);
			if (v[j] < 0 || (j == 2 && s[i + 2] == '=' && s[i + 3] != '=')) {
				free(o);
				return -1;
			}
		}
		unsigned w = (unsigned)(v[0] << 18 | v[1] << 12 | v[2] << 6 | v[3]);
		o[k++] = (char)(w >> 16);
		if (s[i + 2] != '=')
			o[k++] = (char)(w >> 8 & 255);
		if (s[i + 3] != '=')
			o[k++] = (char)(w & 255);
	}
	o[k] = '\0';
	*out = o;
	*len = k;
	return 0;
}

/* ---- building ------------------------------------------------------------------------------- */

/* A file text as a JSON string when it is UTF-8 without NUL, else {"base64": "..."}. */
static cJSON *text_item(const struct vms_buf *b)
{
	size_t at;
	if (!memchr(b->data, '\0', b->len) && !vms_json_bad_utf8(b->data, b->len, &at))
		return cJSON_CreateString(b->data);
	char *e = b64_encode((const unsigned char *)b->data, b->len);
	cJSON *o = e ? cJSON_CreateObject() : NULL;
	if (o && !cJSON_AddStringToObject(o, "base64", e)) {
		cJSON_Delete(o);
		o = NULL;
	}
	free(e);
	return o;
}

/* A new object appended to arr, or NULL (ENOMEM). */
static cJSON *new_entry(cJSON *arr)
{
	cJSON *o = cJSON_CreateObject();
	if (o && !cJSON_AddItemToArray(arr, o)) {
		cJSON_Delete(o);
		o = NULL;
	}
	return o;
}

/* The images' build-ids, from the details vms_image_sections wrote ("..., build-id HEX)"). */
static int add_images(cJSON *cap, const struct vms_snapshot *s)
{
	cJSON *arr = cJSON_AddArrayToObject(cap, "images");
	if (!arr)
		return -1;
	for (size_t i = 0; i < s->n_allocations; i++) {
		const struct vms_allocation *al = &s->allocations[i];
		const char *path = al->n_regions ? s->regions[al->first_region].path : NULL;
		const char *bid = al->details ? strstr(al->details, "build-id ") : NULL;
		if (al->type != VMS_TYPE_IMAGE || !path)
			continue;
		char hex[130] = "";
		size_t n = 0;
		if (bid)
			for (bid += 9; n + 1 < sizeof hex && vms_hex_digit((unsigned char)bid[n]) >= 0; n++)
				hex[n] = bid[n];
		hex[n] = '\0';
		cJSON *o = new_entry(arr);
		if (!o || !cJSON_AddStringToObject(o, "path", path) ||
		    !(*hex ? cJSON_AddStringToObject(o, "build_id", hex)
		           : cJSON_AddNullToObject(o, "build_id")))
			return -1;
	}
	return 0;
}

/* The mapped files' ranges (vms_capture_file_ranges): [{"path", "inode", "size", "offset",
 * "base64"}], in the order read. */
static int add_ranges(cJSON *cap, const struct vms_capture_texts *texts)
{
	cJSON *arr = cJSON_AddArrayToObject(cap, "file_ranges");
	if (!arr)
		return -1;
	for (size_t i = 0; i < texts->n; i++) {
		const struct text *x = &texts->t[i];
		if (!x->is_range)
			continue;
		char *e = b64_encode((const unsigned char *)x->b.data, x->b.len);
		cJSON *o = e ? new_entry(arr) : NULL;
		int ok = o && cJSON_AddStringToObject(o, "path", x->name) &&
		         cJSON_AddNumberToObject(o, "inode", (double)x->inode) &&
		         cJSON_AddNumberToObject(o, "size", (double)x->size) &&
		         cJSON_AddNumberToObject(o, "offset", (double)x->offset) &&
		         cJSON_AddStringToObject(o, "base64", e);
		free(e);
		if (!ok)
			return -1;
	}
	return 0;
}

static cJSON *capture_member(const struct vms_snapshot *s, const struct vms_capture_texts *texts,
                             const struct vms_capture_meta *m)
{
	cJSON *cap = cJSON_CreateObject(), *files = NULL;
	if (!cap || !cJSON_AddStringToObject(cap, "format", VMS_CAPTURE_FORMAT) ||
	    !cJSON_AddNumberToObject(cap, "version", VMS_CAPTURE_VERSION) ||
	    !cJSON_AddStringToObject(cap, "vmscope_version", m->vmscope_version ? m->vmscope_version : "") ||
	    !cJSON_AddStringToObject(cap, "host", m->host ? m->host : "") ||
	    !cJSON_AddStringToObject(cap, "kernel", m->kernel ? m->kernel : "") ||
	    !cJSON_AddNumberToObject(cap, "captured_at_ms", (double)m->captured_at_ms) ||
	    !cJSON_AddNumberToObject(cap, "pid", s->pid) || !(files = cJSON_AddObjectToObject(cap, "files")))
		goto fail;
	for (size_t i = 0; i < texts->n; i++) {
		cJSON *it = texts->t[i].is_range ? NULL : text_item(&texts->t[i].b);
		if (texts->t[i].is_range)
			continue;
		if (!it || !cJSON_AddItemToObject(files, texts->t[i].name, it)) {
			cJSON_Delete(it);
			goto fail;
		}
	}
	if (add_images(cap, s) < 0 || add_ranges(cap, texts) < 0)
		goto fail;
	return cap;
fail:
	cJSON_Delete(cap);
	return NULL;
}

/* gzip (RFC 1952) of in[0..len) into a malloc'd *out. VMS_OK or VMS_ERR_NOMEM. */
static int gzip(const char *in, size_t len, char **out, size_t *out_len)
{
	z_stream z = {0};
	*out = NULL;
	if (deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return VMS_ERR_NOMEM;
	size_t cap = deflateBound(&z, (uLong)len) + 64;
	char *o = malloc(cap);
	int rc = Z_STREAM_ERROR;
	if (o) {
		z.next_in = (Bytef *)(uintptr_t)in;
		z.avail_in = (uInt)len;
		z.next_out = (Bytef *)o;
		z.avail_out = (uInt)cap;
		rc = deflate(&z, Z_FINISH);
	}
	*out_len = cap - z.avail_out;
	deflateEnd(&z);
	if (rc != Z_STREAM_END) {
		free(o);
		return VMS_ERR_NOMEM;
	}
	*out = o;
	return VMS_OK;
}

int vms_capture_build(const struct vms_snapshot *s, const char *snap_json, size_t snap_len,
                      const struct vms_capture_texts *texts, const struct vms_capture_meta *meta, char **out,
                      size_t *out_len)
{
	char *member = NULL, *doc = NULL;
	int err = VMS_ERR_NOMEM;
	*out = NULL;
	while (snap_len && (snap_json[snap_len - 1] == '\n' || snap_json[snap_len - 1] == ' '))
		snap_len--;
	if (!snap_len || snap_json[snap_len - 1] != '}')
		return VMS_ERR_INVALID;
	if (texts->oom || snap_len > (1ull << 32))
		return VMS_ERR_NOMEM;
	cJSON *cap = capture_member(s, texts, meta);
	if (!cap || !(member = cJSON_PrintUnformatted(cap)))
		goto out;
	static const char key[] = ",\"capture\":";
	size_t mlen = strlen(member), head = snap_len - 1, n = head + sizeof key - 1 + mlen + 2;
	if (!(doc = malloc(n + 1)))
		goto out;
	memcpy(doc, snap_json, head);
	memcpy(doc + head, key, sizeof key - 1);
	memcpy(doc + head + sizeof key - 1, member, mlen);
	memcpy(doc + n - 2, "}\n", 3);
	err = gzip(doc, n, out, out_len);
out:
	cJSON_Delete(cap);
	if (member)
		cJSON_free(member);
	free(doc);
	return err;
}

/* ---- loading -------------------------------------------------------------------------------- */

/* Inflate gzip data, at most max bytes of text (NUL-terminated, malloc'd). */
static int gunzip(const char *in, size_t len, size_t max, char **out, size_t *out_len, char *err,
                  size_t errlen)
{
	z_stream z = {0};
	size_t cap = len * 4 + 4096, have = 0;
	int rc = VMS_OK, zr = Z_OK;
	char *o = NULL;
	*out = NULL;
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return VMS_ERR_NOMEM;
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)(len > UINT32_MAX ? UINT32_MAX : len);
	while (zr != Z_STREAM_END) {
		if (have == cap || !o) {
			if (have >= max + 1) {
				rc = vms_errorf(err, errlen, VMS_ERR_INVALID,
				                "the file decompresses to more than %zu bytes (the limit)",
				                max);
				goto out;
			}
			cap = cap > max + 1 ? max + 1 : cap;
			if (o)
				cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			char *g = realloc(o, cap + 1);
			if (!g) {
				rc = VMS_ERR_NOMEM;
				goto out;
			}
			o = g;
		}
		z.next_out = (Bytef *)o + have;
		z.avail_out = (uInt)(cap - have);
		zr = inflate(&z, Z_NO_FLUSH);
		have = cap - z.avail_out;
		if (zr == Z_MEM_ERROR) {
			rc = VMS_ERR_NOMEM;
			goto out;
		}
		if (zr != Z_OK && zr != Z_STREAM_END) {
			rc = vms_errorf(
			    err, errlen, VMS_ERR_INVALID, "not valid gzip data (%s at compressed byte %lu)",
			    zr == Z_BUF_ERROR ? "it ends too early" : "corrupt", (unsigned long)z.total_in);
			goto out;
		}
	}
	if (have > max) {
		rc = vms_errorf(err, errlen, VMS_ERR_INVALID,
		                "the file decompresses to more than %zu bytes (the limit)", max);
		goto out;
	}
	o[have] = '\0';
	*out = o;
	*out_len = have;
	o = NULL;
out:
	inflateEnd(&z);
	free(o);
	return rc;
}

/* The text of capture.files.NAME into a malloc'd *out, or -1 (missing or malformed). */
static int file_text(const cJSON *files, const char *name, char **out, size_t *len)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(files, name);
	*out = NULL;
	if (cJSON_IsString(f)) {
		*len = strlen(f->valuestring);
		*out = strdup(f->valuestring);
		return *out ? 0 : -1;
	}
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(f, "base64");
	return cJSON_IsString(b) ? b64_decode(b->valuestring, out, len) : -1;
}

static int same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* 1 when the regions a and b are the same mapping with the same smaps fields. */
static int same_region(const struct vms_region *a, const struct vms_region *b)
{
	return a->start == b->start && a->end == b->end && !strcmp(a->perms, b->perms) &&
	       a->offset == b->offset && a->dev_major == b->dev_major && a->dev_minor == b->dev_minor &&
	       a->inode == b->inode && same_str(a->path, b->path) && a->deleted == b->deleted &&
	       !memcmp(a->smaps, b->smaps, sizeof a->smaps) && a->thp_eligible == b->thp_eligible &&
	       a->protection_key == b->protection_key && same_str(a->vm_flags, b->vm_flags);
}

/* The capture member of a parsed snapshot document: its format, and its raw smaps against the
 * snapshot's regions. */
static int check_capture(const cJSON *cap, const struct vms_snapshot *s, char *err, size_t errlen)
{
	const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(cap, "format");
	const cJSON *ver = cJSON_GetObjectItemCaseSensitive(cap, "version");
	const cJSON *files = cJSON_GetObjectItemCaseSensitive(cap, "files");
	char *smaps = NULL;
	size_t len = 0;
	struct vms_snapshot *raw = NULL;
	int rc;
	if (!cJSON_IsObject(cap) || !cJSON_IsString(fmt) || strcmp(fmt->valuestring, VMS_CAPTURE_FORMAT))
		return vms_errorf(err, errlen, VMS_ERR_INVALID, "capture.format: must be \"%s\"",
		                  VMS_CAPTURE_FORMAT);
	if (!cJSON_IsNumber(ver) || ver->valuedouble < 1 || ver->valuedouble != (int)ver->valuedouble)
		return vms_errorf(err, errlen, VMS_ERR_INVALID,
		                  "capture.version: must be a positive integer");
	if (ver->valuedouble > VMS_CAPTURE_VERSION)
		return vms_errorf(err, errlen, VMS_ERR_UNSUPPORTED,
		                  "capture.version %d is newer than this vmscope reads (%d): update vmscope",
		                  (int)ver->valuedouble, VMS_CAPTURE_VERSION);
	if (!cJSON_IsObject(files) || file_text(files, "smaps", &smaps, &len) < 0)
		return vms_errorf(err, errlen, VMS_ERR_INVALID,
		                  "capture.files.smaps: missing or not a string or {\"base64\": ...}");
	rc = VMS_ERR_NOMEM;
	if (!(raw = vms_snapshot_new()) || vms_smaps_parse(raw, smaps, len) != VMS_OK)
		goto out;
	rc = VMS_OK;
	for (size_t i = 0; i < raw->n_regions || i < s->n_regions; i++)
		if (i >= raw->n_regions || i >= s->n_regions ||
		    !same_region(&raw->regions[i], &s->regions[i])) {
			rc = vms_errorf(
			    err, errlen, VMS_ERR_INVALID,
			    "capture.files.smaps: region %zu (0x%llx) is not the snapshot's (%zu regions "
			    "in the text, %zu in the snapshot): the capture was altered",
			    i + 1,
			    (unsigned long long)(i < raw->n_regions ? raw->regions[i].start
			                                            : s->regions[i].start),
			    raw->n_regions, s->n_regions);
			break;
		}
out:
	vms_snapshot_free(raw);
	free(smaps);
	return rc;
}

/* The text of the top-level member "capture" of a document that passed vms_jscan_check:
 * [*from, *to), or 0 when there is none. -1 on ENOMEM. */
static int capture_span(const char *text, size_t len, size_t *from, size_t *to)
{
	struct vms_jscan_check_out o;
	if (vms_jscan_check(text, len, &o) != VMS_JSCAN_OK)
		return -1;
	if (text[o.value] != '{')
		return 0;
	struct vms_jscan_member m;
	for (size_t i = vms_jscan_first(text, len, o.value); i != VMS_JSCAN_NONE;) {
		i = vms_jscan_member(text, len, i, &m);
		if (m.key_end - m.key == 7 && !memcmp(text + m.key, "capture", 7)) {
			*from = m.value;
			*to = vms_jscan_skip(text, len, m.value);
			return 1;
		}
	}
	return 0;
}

static int load_json(const char *text, size_t len, struct vms_snapshot **out, enum vms_load_kind *kind,
                     char *err, size_t errlen)
{
	size_t from = 0, to = 0;
	int rc = vms_json_parse_snapshot(text, len, out, err, errlen);
	if (rc || !memmem(text, len, "\"capture\"", 9))
		return rc;
	/* Checked already (depth, UTF-8, syntax, duplicate keys): a tree of the capture member
	 * alone, not of the whole document. */
	int has = capture_span(text, len, &from, &to);
	cJSON *cap = has > 0 ? cJSON_ParseWithLength(text + from, to - from) : NULL;
	if (has < 0 || (has > 0 && !cap))
		rc = VMS_ERR_NOMEM;
	else if (cap && (rc = check_capture(cap, *out, err, errlen)) == VMS_OK)
		*kind = VMS_LOAD_CAPTURE;
	cJSON_Delete(cap);
	if (rc) {
		vms_snapshot_free(*out);
		*out = NULL;
	}
	return rc;
}

int vms_load_any(const char *buf, size_t len, size_t max_text, const char *name, struct vms_snapshot **out,
                 enum vms_load_kind *kind, char *err, size_t errlen)
{
	char *plain = NULL;
	size_t plain_len = 0;
	enum vms_load_kind k = VMS_LOAD_SNAPSHOT;
	int rc;
	*out = NULL;
	if (err && errlen)
		*err = '\0';
	if (len >= 2 && (unsigned char)buf[0] == 0x1f && (unsigned char)buf[1] == 0x8b) {
		if ((rc = gunzip(buf, len, max_text, &plain, &plain_len, err, errlen)) != VMS_OK)
			return rc;
		buf = plain;
		len = plain_len;
		if (len >= 2 && (unsigned char)buf[0] == 0x1f && (unsigned char)buf[1] == 0x8b) {
			rc = vms_errorf(err, errlen, VMS_ERR_INVALID,
			                "gzip inside gzip: decompress it once first");
			goto out;
		}
	}
	size_t i = 0;
	if (len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3))
		i = 3;
	while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\n' || buf[i] == '\r'))
		i++;
	if (i < len && (buf[i] == '{' || buf[i] == '[')) {
		rc = load_json(buf, len, out, &k, err, errlen);
	} else {
		k = VMS_LOAD_SMAPS;
		rc = vms_snapshot_from_smaps(buf, len, name, out, err, errlen);
		if (rc == VMS_ERR_INVALID && err && errlen) {
			char why[200];
			snprintf(why, sizeof why, "%s", err);
			snprintf(
			    err, errlen,
			    "neither a vmscope snapshot or capture (JSON) nor a /proc/PID/smaps text: %s",
			    why);
		}
	}
	if (!rc && kind)
		*kind = k;
out:
	free(plain);
	return rc;
}

const char *vms_load_kind_name(enum vms_load_kind kind)
{
	return kind == VMS_LOAD_CAPTURE ? "a capture"
	       : kind == VMS_LOAD_SMAPS ? "a bare smaps file"
	                                : "a snapshot";
}
