/* The shared helpers of include/vmscope/util.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "vmscope/error.h"
#include "vmscope/util.h"

int vms_grow(void *arrp, size_t n, size_t *cap, size_t elem, size_t first)
{
	if (n < *cap)
		return 0;
	size_t ncap = *cap ? *cap * 2 : first;
	if (ncap <= n || (elem && ncap > SIZE_MAX / elem))
		return -1;
	void *p; /* the caller's T *, copied bytewise: a T * and a void * are not the same type */
	memcpy(&p, arrp, sizeof p);
	p = realloc(p, ncap * elem);
	if (!p)
		return -1;
	memcpy(arrp, &p, sizeof p);
	*cap = ncap;
	return 0;
}

int vms_buf_read_fd(int fd, size_t max, struct vms_buf *b)
{
	int err = 0;
	b->len = 0;
	for (;;) {
		if (b->cap - b->len < 4097) {
			size_t cap = b->cap ? b->cap * 2 : 16384;
			char *n = realloc(b->data, cap);
			if (!n) {
				err = -ENOMEM;
				break;
			}
			b->data = n;
			b->cap = cap;
		}
		ssize_t r = read(fd, b->data + b->len, b->cap - b->len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = -errno;
			break;
		}
		if (r == 0)
			break;
		b->len += (size_t)r;
		if (max && b->len > max) {
			err = -EFBIG;
			break;
		}
	}
	if (err)
		b->len = 0;
	if (b->data)
		b->data[b->len] = '\0';
	return err;
}

int vms_buf_read_file(int dirfd, const char *path, size_t max, struct vms_buf *b)
{
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	b->len = 0;
	if (fd < 0)
		return -errno;
	int err = vms_buf_read_fd(fd, max, b);
	close(fd);
	return err;
}

int vms_read_file(int dirfd, const char *path, size_t max, char **out, size_t *len)
{
	struct vms_buf b = {0};
	int err = vms_buf_read_file(dirfd, path, max, &b);
	if (err) {
		free(b.data);
		*out = NULL;
		*len = 0;
		return err;
	}
	*out = b.data;
	*len = b.len;
	return 0;
}

int vms_random_hex(char *out, size_t nbytes)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[64];
	size_t got = 0;
	if (nbytes > sizeof raw)
		return VMS_ERR_INVALID;
	while (got < nbytes) {
		ssize_t n = getrandom(raw + got, nbytes - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return VMS_ERR_IO;
		got += (size_t)n;
	}
	for (size_t i = 0; i < nbytes; i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[2 * nbytes] = '\0';
	return VMS_OK;
}

void vms_format_time_ms(int64_t ms, char *buf, size_t size)
{
	int64_t sec = ms / 1000, rem = ms % 1000;
	struct tm tm;

	if (rem < 0) { /* C division truncates towards zero: -1500 ms is -2 s + 500 ms */
		rem += 1000;
		sec -= 1;
	}
	time_t t = (time_t)sec;
	if (!gmtime_r(&t, &tm)) {
		snprintf(buf, size, "1970-01-01T00:00:00.000Z");
		return;
	}
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
	         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)rem);
}

const char *vms_format_taken_ms(int64_t ms, char *buf, size_t size)
{
	if (!ms)
		return NULL;
	vms_format_time_ms(ms, buf, size);
	return buf;
}

static int64_t clock_ms(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void vms_each_key_line(const char *buf, size_t len,
                       void (*fn)(void *cookie, const char *key, size_t klen, const char *val,
                                  const char *eol),
                       void *cookie)
{
	const char *p = buf, *end = buf + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		const char *colon = memchr(p, ':', (size_t)(eol - p));
		if (colon) {
			const char *v = colon + 1;
			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			fn(cookie, p, (size_t)(colon - p), v, eol);
		}
		p = nl ? nl + 1 : end;
	}
}

int64_t vms_wall_ms(void)
{
	return clock_ms(CLOCK_REALTIME);
}

int64_t vms_mono_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

int vms_errorf(char *buf, size_t len, int code, const char *fmt, ...)
{
	if (buf && len) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(buf, len, fmt, ap);
		va_end(ap);
	}
	return code;
}
