/* The HTML report (server/json/html.c) on hand-made snapshots: hostile strings in every place
 * the target controls (name, command line, user, host, kernel, details, region paths and roles,
 * thread names and notes, recogniser notes) come out as text: no tag, no attribute break, no
 * raw control or bidi override, always valid UTF-8; the page forbids scripts and fetches; the
 * summary's data-bytes are the snapshot's; a biggest-allocations list in Committed order. */
#include <stdint.h>

#include "handmade_snapshot.h"
#include "test.h"
#include "vmscope/export.h"

#define EVIL "<script>alert(\"x\")</script>&amp;'\"><img src=x onerror=y>"

static char *render(const struct vms_snapshot *s, size_t *len)
{
	char *t = NULL;
	CHECK(vms_export_html(s, &t, len) == VMS_OK);
	CHECK(t && strlen(t) == *len);
	return t;
}

/* Every tag in t, lowercased name, must be one of the report's own. */
static int only_own_tags(const char *t)
{
	static const char *const own[] = {
	    "!doctype", "html",  "head",  "meta", "title", "style", "body", "header",  "h1",      "h2",
	    "h3",       "small", "dl",    "dt",   "dd",    "span",  "time", "p",       "section", "div",
	    "table",    "thead", "tbody", "tr",   "th",    "td",    "i",    "details", "summary", "footer"};
	for (const char *p = strchr(t, '<'); p; p = strchr(p + 1, '<')) {
		const char *n = p + 1 + (p[1] == '/');
		size_t len = strcspn(n, " >");
		int ok = 0;
		for (size_t i = 0; i < sizeof own / sizeof own[0] && !ok; i++)
			ok = strlen(own[i]) == len && !strncasecmp(n, own[i], len);
		if (!ok) {
			fprintf(stderr, "foreign tag: %.40s\n", p);
			return 0;
		}
	}
	return 1;
}

/* No '"' inside an attribute value that the report did not put there: each attribute value
 * holds no '<' or '>' (they are escaped there too). */
static int attrs_clean(const char *t)
{
	for (const char *p = strstr(t, "=\""); p; p = strstr(p + 2, "=\"")) {
		const char *end = strchr(p + 2, '"');
		if (!end)
			return 0;
		for (const char *q = p + 2; q < end; q++)
			if (*q == '<' || *q == '>')
				return 0;
		p = end - 1;
	}
	return 1;
}

static void test_hostile(void)
{
	struct vms_snapshot *s = hs_new(77, EVIL);
	s->cmdline = EVIL " --x";
	s->user = EVIL;
	s->host = EVIL;
	s->kernel = EVIL;
	s->thread_note = EVIL;
	s->peek_note = "bidi \xe2\x80\xae reversed, bad byte \xff, newline\nFAKE";
	struct vms_region *r = hs_region(s, 0x10000, 0x11000, "r--p", "/tmp/" EVIL, 4096);
	r->role = EVIL;
	hs_region(s, 0x11000, 0x12000, "rw-p", "/tmp/other" EVIL, 4096);
	hs_alloc(s, VMS_TYPE_MAPPED_FILE, EVIL "\n\x1b[31m", 0);
	hs_thread(s, 77, EVIL, 0x10fff, 0);
	s->threads[0].stack_note = EVIL;
	s->recognisers = vms_snapshot_alloc(s, sizeof *s->recognisers);
	s->n_recognisers = 1;
	s->recognisers[0] = (struct vms_recogniser_run){.key = EVIL, .claimed = 1, .note = EVIL};
	hs_finish(s);

	size_t len = 0;
	char *t = render(s, &len);
	if (t) {
		CHECK(only_own_tags(t));
		CHECK(attrs_clean(t));
		CHECK(!strstr(t, "<script") && !strstr(t, "<img"));
		CHECK(
		    strstr(t, "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;amp;&#39;&quot;&gt;") !=
		    NULL);
		CHECK(!strstr(t, "\xe2\x80\xae") && strstr(t, "\\u202e") != NULL);
		CHECK(strstr(t, "bad byte \\xff") != NULL && strstr(t, "newline\\nFAKE") != NULL);
		CHECK(strstr(t, "\x1b") == NULL && strstr(t, "\\x1b[31m") != NULL);
		CHECK(!strchr(t, (char)0xff)); /* the stray byte was made visible, not copied */
		CHECK(strstr(t, "script-src 'none'") && strstr(t, "default-src 'none'"));
		CHECK(!strstr(t, "http://") && !strstr(t, "https://") && !strstr(t, "src=\"") &&
		      !strstr(t, "href="));
	}
	free(t);
	vms_snapshot_free(s);
}

static void test_numbers(void)
{
	struct vms_snapshot *s = hs_demo();
	size_t len = 0;
	char *t = render(s, &len);
	char want[96];
	for (int ty = 0; t && ty < VMS_TYPE_COUNT; ty++) {
		/* the row of the type, then its Size cell's exact bytes */
		snprintf(want, sizeof want, "<tr data-type=\"%s\">", vms_type_key((enum vms_type)ty));
		const char *row = strstr(t, want);
		CHECK_MSG(row != NULL, "no row for %s", want);
		snprintf(want, sizeof want, "data-bytes=\"%" PRIu64 "\"", s->summary[ty].cols[VMS_COL_SIZE]);
		CHECK_MSG(row && strstr(row, want) && strstr(row, want) < strstr(row, "</tr>"), "%s Size %s",
		          vms_type_key((enum vms_type)ty), want);
	}
	/* the biggest list starts with the allocation of the largest Committed */
	size_t best = 0;
	for (size_t i = 1; i < s->n_allocations; i++)
		if (s->allocations[i].cols[VMS_COL_COMMITTED] > s->allocations[best].cols[VMS_COL_COMMITTED])
			best = i;
	snprintf(want, sizeof want, "data-start=\"0x%" PRIx64 "\"", s->allocations[best].start);
	const char *big = t ? strstr(t, "id=\"biggest-table\"") : NULL;
	CHECK(big && strstr(big, "<tr class=\"a\" ") && strstr(big, want) == strstr(big, "data-start="));
	/* a deleted file says so; a NULL command line (a share without it) says it was left out */
	CHECK(t && strstr(t, "(deleted)"));
	free(t);
	s->cmdline = NULL;
	t = render(s, &len);
	CHECK(t && strstr(t, "id=\"cmdline\">(left out)<"));
	free(t);
	vms_snapshot_free(s);
}

static void test_empty(void)
{
	struct vms_snapshot *s = hs_new(1, "");
	s->host = NULL;
	hs_finish(s);
	size_t len = 0;
	char *t = render(s, &len);
	CHECK(t && strstr(t, "(no name)") && strstr(t, "</html>"));
	free(t);
	vms_snapshot_free(s);
}

int main(void)
{
	test_hostile();
	test_numbers();
	test_empty();
	TEST_MAIN_END();
}
