/* Private to the json layer: a growable NUL-terminated text buffer for the exporters.
 * Errors are sticky: after the first failed allocation every append is a no-op and
 * vms_sb_finish() reports VMS_ERR_NOMEM, so callers check once at the end. */
#ifndef VMSCOPE_JSON_STRBUF_H
#define VMSCOPE_JSON_STRBUF_H

#include <stddef.h>

struct vms_sb {
	char *buf; /* the text, buf[0..len); NOT necessarily NUL-terminated between appends (the
	            * JSON writer's vms_jo_* in jsonout.c write into it directly): take the text
	            * with vms_sb_finish(), which terminates it, or use (buf, len) */
	size_t len, cap;
	int oom;
};

void vms_sb_putc(struct vms_sb *sb, char c);
void vms_sb_putn(struct vms_sb *sb, const char *s, size_t n);
void vms_sb_puts(struct vms_sb *sb, const char *s); /* NULL appends nothing */
void vms_sb_printf(struct vms_sb *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void vms_sb_pad(struct vms_sb *sb, char c, size_t n); /* n copies of c */
/* Hand the text to the caller: on VMS_OK *out is malloc'd (free with free()) and *len its
 * length; the buffer is emptied either way. Returns VMS_OK or VMS_ERR_NOMEM. */
int vms_sb_finish(struct vms_sb *sb, char **out, size_t *len);
void vms_sb_free(struct vms_sb *sb); /* releases the buffer without handing it out */

#endif
