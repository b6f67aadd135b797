/* The strings scanner of vmscope/pages.h on buffers: ASCII and UTF-16LE runs, the minimum
 * length, the cut at max_chars, strings at the buffer's edges, odd-address UTF-16 bytes, and
 * range parsing for the CLI and API. */
#include <string.h>

#include "test.h"
#include "vmscope/error.h"
#include "vmscope/pages.h"

static size_t find(const struct vms_strings *s, const char *text, int enc, uint64_t addr)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i].text, text) && s->v[i].enc == enc && s->v[i].addr == addr)
			return i + 1;
	return 0;
}

static void put16(unsigned char *d, const char *s)
{
	for (; *s; s++, d += 2) {
		d[0] = (unsigned char)*s;
		d[1] = 0;
	}
}

int main(void)
{
	unsigned char buf[512];
	struct vms_strings s;
	const uint64_t base = 0x7f0000001000;

	memset(buf, 0, sizeof buf);
	memcpy(buf, "at the start", 12);              /* begins at the buffer's first byte */
	memcpy(buf + 20, "seven77", 7);               /* too short for the default 8 */
	memcpy(buf + 40, "tab\tinside it", 13);       /* a tab is printable */
	memcpy(buf + 60, "bad\x01split here", 14);    /* a control byte ends a string */
	put16(buf + 100, "wide string");              /* UTF-16LE at an even address */
	put16(buf + 141, "odd address!");             /* at an odd address: not a UTF-16 string */
	memcpy(buf + sizeof buf - 9, "at theend", 9); /* runs to the end of the buffer */

	memset(&s, 0, sizeof s);
	CHECK(vms_strings_scan(buf, sizeof buf, base, NULL, &s) == VMS_OK);
	CHECK(find(&s, "at the start", VMS_STR_ASCII, base));
	CHECK(!find(&s, "seven77", VMS_STR_ASCII, base + 20));
	CHECK(find(&s, "tab\tinside it", VMS_STR_ASCII, base + 40));
	CHECK(!find(&s, "bad", VMS_STR_ASCII, base + 60));
	CHECK(find(&s, "split here", VMS_STR_ASCII, base + 64));
	CHECK(find(&s, "wide string", VMS_STR_UTF16LE, base + 100));
	CHECK(!find(&s, "odd address!", VMS_STR_UTF16LE, base + 141));
	CHECK(find(&s, "at theend", VMS_STR_ASCII, base + sizeof buf - 9));
	CHECK_EQ_U64(s.n, 5);
	CHECK_EQ_U64(s.total, 5);
	vms_strings_free(&s);

	/* -n 4 finds the short one; one encoding only */
	struct vms_strings_opts o = {.min_chars = 4, .encodings = VMS_STR_ASCII};
	memset(&s, 0, sizeof s);
	CHECK(vms_strings_scan(buf, sizeof buf, base, &o, &s) == VMS_OK);
	CHECK(find(&s, "seven77", VMS_STR_ASCII, base + 20));
	CHECK(find(&s, "bad", VMS_STR_ASCII, base + 60) == 0); /* 3 < 4 */
	CHECK(!find(&s, "wide string", VMS_STR_UTF16LE, base + 100));
	vms_strings_free(&s);

	/* a long run is cut at max_chars and goes on as a new string */
	unsigned char longbuf[40];
	memset(longbuf, 'x', sizeof longbuf);
	struct vms_strings_opts cut = {.max_chars = 16, .encodings = VMS_STR_ASCII};
	memset(&s, 0, sizeof s);
	CHECK(vms_strings_scan(longbuf, sizeof longbuf, 0x1000, &cut, &s) == VMS_OK);
	CHECK_EQ_U64(s.n, 3); /* 16 + 16 + 8 characters (8: still a string) */
	if (s.n == 3) {
		CHECK_EQ_U64(s.v[0].chars, 16);
		CHECK_EQ_U64(s.v[1].addr, 0x1010);
	}
	vms_strings_free(&s);

	/* ranges */
	uint64_t a, b;
	CHECK(vms_parse_range("0x1000-0x2000", &a, &b) == VMS_OK && a == 0x1000 && b == 0x2000);
	CHECK(vms_parse_range("7f00", &a, &b) == VMS_OK && a == 0x7f00 && b == 0);
	CHECK(vms_parse_range("2000-1000", &a, &b) == VMS_ERR_INVALID);
	CHECK(vms_parse_range("-1000", &a, &b) == VMS_ERR_INVALID);
	CHECK(vms_parse_range("1000-", &a, &b) == VMS_ERR_INVALID);
	CHECK(vms_parse_range("10g0", &a, &b) == VMS_ERR_INVALID);

	/* flag names */
	char f[64];
	vms_page_flags_str(VMS_PG_PRESENT | VMS_PG_FILE, f, sizeof f);
	CHECK_STR(f, "present,file");
	vms_page_flags_str(0, f, sizeof f);
	CHECK_STR(f, "none");
	TEST_MAIN_END();
}
