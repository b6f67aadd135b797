/* Small libc-only helpers that every layer shares (server/core/util.c): reading a whole file,
 * random hex tokens, hex digits and ISO 8601 time. One of each, so that they cannot drift. */
#ifndef VMSCOPE_UTIL_H
#define VMSCOPE_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* A growable byte buffer; free data with free(). */
struct vms_buf {
	char *data;
	size_t len, cap;
};

/* Read the whole file at path (relative to dirfd; AT_FDCWD for an ordinary path) into b,
 * replacing its content and keeping its memory for the next call: read() until it returns 0
 * (/proc files come a page at a time), retried on EINTR, NUL-terminated (b->len excludes the
 * NUL). max > 0 caps the size: a longer file fails with -EFBIG. Returns 0 or -errno (-ENOENT,
 * -EACCES, -ENOMEM, ...); on failure b->len is 0 and b keeps its memory. */
int vms_buf_read_file(int dirfd, const char *path, size_t max, struct vms_buf *b);
/* The same from an open fd, from where it stands to its end (the fd stays open). */
int vms_buf_read_fd(int fd, size_t max, struct vms_buf *b);

/* The same into a fresh malloc'd buffer: *out (NUL-terminated, free with free()) and *len.
 * Returns 0 or -errno; *out is NULL on failure. */
int vms_read_file(int dirfd, const char *path, size_t max, char **out, size_t *len);

/* Room for item n of a growable array of elem-byte items. arrp is the address of the caller's
 * array pointer (a T **). When n has reached *cap the array is reallocated to twice *cap items
 * (first when *cap is 0) and *arrp and *cap updated; otherwise nothing happens. Returns 0, or
 * -1 when memory runs out or the size would overflow: then *arrp (still the caller's to free)
 * and *cap are untouched. VMS_GROW passes the element size of arr itself and calls only when
 * the array is full (the common case stays inline). */
int vms_grow(void *arrp, size_t n, size_t *cap, size_t elem, size_t first);
#define VMS_GROW(arr, n, cap, first) ((n) < (cap) ? 0 : vms_grow(&(arr), (n), &(cap), sizeof *(arr), (first)))

/* nbytes (at most 64) random bytes from getrandom(2) as 2 * nbytes lowercase hex digits and a
 * NUL in out. Returns 0 (VMS_OK), VMS_ERR_INVALID (nbytes > 64) or VMS_ERR_IO (errno kept). */
int vms_random_hex(char *out, size_t nbytes);

/* The value of the hex digit c (0-9, a-f, A-F), or -1. */
static inline int vms_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* LEB128 (7 bits a byte, low first): v into p, at most 10 bytes; returns the bytes written. */
static inline size_t vms_leb128_put(unsigned char *p, uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		p[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (unsigned char)v;
	return n;
}

/* LEB128 at buf[*pos] (buf has len bytes) into *v, *pos past it: 0, or -1 when it runs past len
 * or beyond 64 bits. */
static inline int vms_leb128_get(const unsigned char *buf, size_t len, size_t *pos, uint64_t *v)
{
	uint64_t x = 0;
	for (unsigned shift = 0; shift < 64; shift += 7) {
		if (*pos >= len)
			return -1;
		unsigned char c = buf[(*pos)++];
		x |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			*v = x;
			return 0;
		}
	}
	return -1;
}

/* Unix time in milliseconds as "2026-11-22T06:10:00.123Z" (ISO 8601, UTC, milliseconds) into buf
 * (truncated to size; 32 bytes always suffice). Times before 1970 count back correctly: -1500 ms
 * is "1969-12-31T23:59:58.500Z". */
void vms_format_time_ms(int64_t ms, char *buf, size_t size);
/* When a snapshot was taken (taken_at_ms), as vms_format_time_ms into buf, which is returned; or
 * NULL when ms is 0: the time is unknown (a snapshot made from a bare smaps file), and writers say
 * so (JSON null, "unknown" in text) instead of printing 1970. */
const char *vms_format_taken_ms(int64_t ms, char *buf, size_t size);

/* Now in milliseconds: Unix time (CLOCK_REALTIME), and a clock that never jumps
 * (CLOCK_MONOTONIC) for intervals and deadlines. */
int64_t vms_wall_ms(void);

/* For each "Key: value" line of buf[0..len) (/proc status, meminfo): fn(cookie, key, key length,
 * the value after the colon and blanks, the line's end). Lines without a colon are skipped. */
void vms_each_key_line(const char *buf, size_t len,
                       void (*fn)(void *cookie, const char *key, size_t klen, const char *val,
                                  const char *eol),
                       void *cookie);
int64_t vms_mono_ms(void);

/* printf the sentence saying why into buf[len] (buf may be NULL) and return code: for functions
 * that return an enum vms_err with a message. */
int vms_errorf(char *buf, size_t len, int code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
