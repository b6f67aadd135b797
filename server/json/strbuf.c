/* Growable text buffer (see strbuf.h). */
#include "strbuf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmscope/error.h"

/* Make room for n more bytes plus the NUL. Returns 0, or -1 (and sets oom). */
static int reserve(struct vms_sb *sb, size_t n)
{
	if (sb->oom)
		return -1;
	if (n > SIZE_MAX - sb->len - 1)
		goto fail;
	size_t need = sb->len + n + 1;
	if (need <= sb->cap)
		return 0;
	size_t cap = sb->cap ? sb->cap : 256;
	while (cap < need) {
		if (cap > SIZE_MAX / 2) {
			cap = need;
			break;
		}
		cap *= 2;
	}
	char *b = realloc(sb->buf, cap);
	if (!b)
		goto fail;
	sb->buf = b;
	sb->cap = cap;
	return 0;
fail:
	sb->oom = 1;
	return -1;
}

void vms_sb_putn(struct vms_sb *sb, const char *s, size_t n)
{
	if (reserve(sb, n) < 0)
		return;
	if (n)
		memcpy(sb->buf + sb->len, s, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
}

void vms_sb_putc(struct vms_sb *sb, char c)
{
	vms_sb_putn(sb, &c, 1);
}

void vms_sb_puts(struct vms_sb *sb, const char *s)
{
	if (s)
		vms_sb_putn(sb, s, strlen(s));
}

void vms_sb_pad(struct vms_sb *sb, char c, size_t n)
{
	if (reserve(sb, n) < 0)
		return;
	memset(sb->buf + sb->len, c, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
}

void vms_sb_printf(struct vms_sb *sb, const char *fmt, ...)
{
	va_list ap;
	char small[256];

	if (sb->oom)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0) {
		sb->oom = 1; /* only on an encoding error: treat as failure */
		return;
	}
	if ((size_t)n < sizeof small) {
		vms_sb_putn(sb, small, (size_t)n);
		return;
	}
	if (reserve(sb, (size_t)n) < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
}

int vms_sb_finish(struct vms_sb *sb, char **out, size_t *len)
{
	if (!sb->oom && !sb->buf)
		reserve(sb, 0);
	if (sb->oom) {
		vms_sb_free(sb);
		*out = NULL;
		if (len)
			*len = 0;
		return VMS_ERR_NOMEM;
	}
	sb->buf[sb->len] = '\0';
	*out = sb->buf;
	if (len)
		*len = sb->len;
	sb->buf = NULL;
	sb->len = sb->cap = 0;
	return VMS_OK;
}

void vms_sb_free(struct vms_sb *sb)
{
	free(sb->buf);
	sb->buf = NULL;
	sb->len = sb->cap = 0;
	sb->oom = 0;
}
