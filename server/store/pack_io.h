/* Private to server/store: the primitives of the packed body codecs (pack.c writes and reads
 * version 2, pack_v1.c reads the frozen version 1). LEB128 varints, zigzag for signed values,
 * strings as a varint tag: 0 = NULL, 1 = the same as this field's previous value, n + 2 = n
 * bytes follow. Writers record allocation failure in w->oom; readers record damage in r->bad
 * (bounds-checked: a damaged body gives an error, never a crash). */
#ifndef VMSCOPE_STORE_PACK_IO_H
#define VMSCOPE_STORE_PACK_IO_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmscope/snapshot.h"

/* ---- writing ---- */

struct wbuf {
	unsigned char *p;
	size_t len, cap;
	int oom;
};

static inline void w_reserve(struct wbuf *w, size_t n)
{
	if (w->oom || w->len + n <= w->cap)
		return;
	size_t cap = w->cap ? w->cap : 4096;
	while (cap < w->len + n)
		cap *= 2;
	unsigned char *g = realloc(w->p, cap);
	if (!g) {
		w->oom = 1;
		return;
	}
	w->p = g;
	w->cap = cap;
}

static inline void w_bytes(struct wbuf *w, const void *b, size_t n)
{
	w_reserve(w, n);
	if (w->oom)
		return;
	memcpy(w->p + w->len, b, n);
	w->len += n;
}

static inline void w_u64(struct wbuf *w, uint64_t v)
{
	w_reserve(w, 10);
	if (w->oom)
		return;
	while (v >= 0x80) {
		w->p[w->len++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	w->p[w->len++] = (unsigned char)v;
}

static inline void w_i64(struct wbuf *w, int64_t v)
{
	w_u64(w, ((uint64_t)v << 1) ^ (v < 0 ? UINT64_MAX : 0)); /* zigzag */
}

static inline void w_str(struct wbuf *w, const char *s, const char **prev)
{
	if (!s) {
		w_u64(w, 0);
	} else if (prev && *prev && (*prev == s || strcmp(*prev, s) == 0)) {
		w_u64(w, 1);
	} else {
		size_t n = strlen(s);
		w_u64(w, n + 2);
		w_bytes(w, s, n);
	}
	if (prev)
		*prev = s;
}

/* ---- reading (bounds-checked: a damaged body gives VMS_ERR_IO, never a crash) ----------------- */

struct rbuf {
	const unsigned char *p, *end;
	int bad;
	struct vms_snapshot *s;
};

static inline uint64_t r_u64(struct rbuf *r)
{
	uint64_t v = 0;
	for (unsigned shift = 0; shift < 64; shift += 7) {
		if (r->p >= r->end) {
			r->bad = 1;
			return 0;
		}
		unsigned char b = *r->p++;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return v;
	}
	r->bad = 1;
	return 0;
}

static inline int64_t r_i64(struct rbuf *r)
{
	uint64_t v = r_u64(r);
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

static inline const char *r_str(struct rbuf *r, const char **prev)
{
	uint64_t tag = r_u64(r);
	const char *s = NULL;
	if (r->bad || tag == 0) {
		s = NULL;
	} else if (tag == 1) {
		if (!prev || !*prev)
			r->bad = 1;
		else
			s = *prev;
	} else {
		uint64_t n = tag - 2;
		if (n > (uint64_t)(r->end - r->p)) {
			r->bad = 1;
		} else {
			s = vms_snapshot_strndup(r->s, (const char *)r->p, (size_t)n);
			r->p += n;
			if (!s)
				r->bad = 1;
		}
	}
	if (prev)
		*prev = s;
	return s;
}

/* A count that must fit in what is left (each element takes at least min_bytes). */
static inline size_t r_count(struct rbuf *r, size_t min_bytes)
{
	uint64_t n = r_u64(r);
	if (r->bad || n > (uint64_t)(r->end - r->p) / min_bytes) {
		r->bad = 1;
		return 0;
	}
	return (size_t)n;
}

static inline void *r_array(struct rbuf *r, size_t n, size_t size)
{
	if (r->bad)
		return NULL;
	void *a = vms_snapshot_alloc(r->s, (n ? n : 1) * size);
	if (!a)
		r->bad = 1;
	return a;
}

#endif
