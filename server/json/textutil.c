/* UTF-8, escaping and time helpers for the exporters (see textutil.h). */
#include "textutil.h"
#include "vmscope/export.h"
#include "vmscope/snapshot.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

size_t vms_utf8_seq_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	unsigned min;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	unsigned cp = c & (0x7fu >> len);
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3fu);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* Code point of a well-formed sequence of length len. */
static unsigned utf8_decode(const unsigned char *s, size_t len)
{
	if (len == 1)
		return s[0];
	unsigned cp = s[0] & (0x7fu >> len);
	for (size_t i = 1; i < len; i++)
		cp = (cp << 6) | (s[i] & 0x3fu);
	return cp;
}

int vms_utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	while (n) {
		size_t l = vms_utf8_seq_len(p, n);
		if (!l)
			return 0;
		p += l;
		n -= l;
	}
	return 1;
}

char *vms_utf8_repair(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	/* Each bad byte becomes 3 bytes (EF BF BD). */
	if (n > (SIZE_MAX - 1) / 3)
		return NULL;
	char *out = malloc(n * 3 + 1), *o = out;
	if (!out)
		return NULL;
	while (n) {
		size_t l = vms_utf8_seq_len(p, n);
		if (l) {
			memcpy(o, p, l);
			o += l;
		} else {
			l = 1;
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
		}
		p += l;
		n -= l;
	}
	*o = '\0';
	return out;
}

static int is_invisible_control(unsigned cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || cp == 0x61c || cp == 0x200e || cp == 0x200f ||
	       (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

void vms_sb_put_escaped(struct vms_sb *sb, const char *s)
{
	if (!s)
		return;
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	while (n) {
		/* Copy the longest run that needs no escaping in one go. */
		size_t run = 0;
		while (run < n) {
			unsigned c = p[run];
			if (c >= 0x20 && c < 0x7f && c != '\\') {
				run++;
				continue;
			}
			if (c < 0x80)
				break;
			size_t l = vms_utf8_seq_len(p + run, n - run);
			if (!l || is_invisible_control(utf8_decode(p + run, l)))
				break;
			run += l;
		}
		vms_sb_putn(sb, (const char *)p, run);
		p += run;
		n -= run;
		if (!n)
			break;
		unsigned c = p[0];
		size_t l = 1;
		if (c == '\\')
			vms_sb_puts(sb, "\\\\");
		else if (c == '\n')
			vms_sb_puts(sb, "\\n");
		else if (c == '\t')
			vms_sb_puts(sb, "\\t");
		else if (c == '\r')
			vms_sb_puts(sb, "\\r");
		else if (c < 0x80)
			vms_sb_printf(sb, "\\x%02x", c);
		else if ((l = vms_utf8_seq_len(p, n)) != 0)
			vms_sb_printf(sb, "\\u%04x", utf8_decode(p, l));
		else {
			l = 1;
			vms_sb_printf(sb, "\\x%02x", c);
		}
		p += l;
		n -= l;
	}
}

void vms_alloc_protection(const struct vms_snapshot *s, const struct vms_allocation *a, char *buf,
                          size_t size)
{
	char seen[12][5];
	size_t n = 0, used = 0;

	buf[0] = '\0';
	for (uint32_t k = 0; k < a->n_regions && (size_t)a->first_region + k < s->n_regions; k++) {
		const char *p = s->regions[a->first_region + k].perms;
		size_t j = 0;
		while (j < n && memcmp(seen[j], p, 4) != 0)
			j++;
		if (j < n)
			continue;
		if (n == sizeof seen / sizeof seen[0] || used + 6 > size)
			break;
		memcpy(seen[n++], p, 5);
		used += (size_t)snprintf(buf + used, size - used, "%s%.4s", used ? "/" : "", p);
	}
}

char *vms_text_escape(const char *s)
{
	struct vms_sb sb = {0};
	char *out = NULL;
	size_t len;
	if (!s)
		return NULL;
	vms_sb_put_escaped(&sb, s);
	if (vms_sb_finish(&sb, &out, &len) != 0)
		return NULL;
	return out;
}

void vms_fmt_human(uint64_t bytes, char *buf, size_t size)
{
	static const char *const unit[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	if (bytes < 1024) {
		snprintf(buf, size, "%" PRIu64 " B", bytes);
		return;
	}
	double v = (double)bytes / 1024.0;
	size_t u = 0;
	while (v >= 1024.0 && u + 1 < sizeof unit / sizeof unit[0]) {
		v /= 1024.0;
		u++;
	}
	uint64_t tenths = (uint64_t)(v * 10.0 + 0.5);
	if (v >= 99.95)
		snprintf(buf, size, "%.0f %s", v, unit[u]);
	else if (tenths % 10 == 0)
		snprintf(buf, size, "%" PRIu64 " %s", tenths / 10, unit[u]);
	else
		snprintf(buf, size, "%" PRIu64 ".%" PRIu64 " %s", tenths / 10, tenths % 10, unit[u]);
}

static void fmt_size(uint64_t bytes, int human, char *buf, size_t size)
{
	if (human)
		vms_fmt_human(bytes, buf, size);
	else
		snprintf(buf, size, "%" PRIu64 " KiB", bytes / 1024 + (bytes % 1024 >= 512));
}

void vms_ws_relation(const struct vms_snapshot *s, int human, char *buf, size_t size)
{
	char ws[32], rss[32], pte[32];
	uint64_t pt = s->summary[VMS_TYPE_PAGE_TABLE].cols[VMS_COL_TOTAL_WS];
	fmt_size(s->total[VMS_COL_TOTAL_WS], human, ws, sizeof ws);
	fmt_size(s->status.vm_rss, human, rss, sizeof rss);
	fmt_size(pt, human, pte, sizeof pte);
	if (!s->status.vm_rss)
		snprintf(buf, size,
		         "Total WS %s includes the page tables (%s, the Page Table row), which ps RSS "
		         "(VmRSS) leaves out",
		         ws, pte);
	else if (s->total[VMS_COL_TOTAL_WS] == s->status.vm_rss + pt)
		snprintf(buf, size,
		         "Total WS %s = ps RSS %s (VmRSS) + page tables %s (VmPTE, the Page Table row)", ws,
		         rss, pte);
	else
		snprintf(buf, size,
		         "Total WS %s is resident memory + page tables %s (VmPTE, the Page Table row); ps "
		         "RSS (VmRSS, read a moment apart from smaps while the process changed) was %s",
		         ws, pte, rss);
}
