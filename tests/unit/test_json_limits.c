/* Limits on what the JSON importer accepts (issue 11): nesting depth checked before cJSON parses
 * (a recursive parser: ~800 levels overflowed a daemon worker's stack); well-formed UTF-8;
 * smaps values within what a kernel can report, so that no total wraps. */
#include <stdint.h>

#include "handmade_snapshot.h"
#include "test.h"
#include "vmscope/json.h"

/* malloc'd: a copy of json (an object) with "zz_extra": <depth levels of [ ... ]> as its last
 * member, so the whole text nests depth + 1 levels (the top-level object is one). */
static char *with_nesting(const char *json, size_t depth)
{
	size_t n = strlen(json);
	char *t = malloc(n + 2 * depth + 32);
	if (!t)
		hs_die("out of memory");
	size_t k = n - 1; /* drop the closing brace */
	while (k && json[k] != '}')
		k--;
	memcpy(t, json, k);
	k += (size_t)sprintf(t + k, ",\"zz_extra\":");
	for (size_t i = 0; i < depth; i++)
		t[k++] = '[';
	for (size_t i = 0; i < depth; i++)
		t[k++] = ']';
	t[k++] = '}';
	t[k] = '\0';
	return t;
}

static void test_depth_scan(void)
{
	size_t at = 99;
	CHECK(vms_json_too_deep("[[[]]]", 6, 3, &at) == 0);
	CHECK(vms_json_too_deep("[[[[]]]]", 8, 3, &at) == 1);
	CHECK_EQ_U64(at, 3);
	/* brackets inside strings, escaped quotes and escaped backslashes do not count */
	const char *s = "{\"a\":\"[[[[\\\"[[[[\",\"b\\\\\":[1]}";
	CHECK(vms_json_too_deep(s, strlen(s), 2, NULL) == 0);
	const char *t = "{\"a\\\\\":[[1]]}";
	CHECK(vms_json_too_deep(t, strlen(t), 2, &at) == 1);
	/* closing brackets first never make the depth negative */
	CHECK(vms_json_too_deep("]]]][[", 6, 2, NULL) == 0);
	CHECK(vms_json_too_deep(NULL, 5, 2, NULL) == 0);
	/* a megabyte of '[' : no recursion, no allocation, stops at the limit */
	size_t big = 1u << 20;
	char *b = malloc(big);
	memset(b, '[', big);
	CHECK(vms_json_too_deep(b, big, VMS_JSON_MAX_DEPTH, &at) == 1);
	CHECK_EQ_U64(at, VMS_JSON_MAX_DEPTH);
	free(b);
}

/* The demo snapshot (hs_demo) written as JSON, malloc'd, its length in *len (when not NULL); quoted (when not
 * NULL) gets the process name as it stands in the JSON, in double quotes. */
static char *demo_json(size_t *len, char *quoted, size_t quoted_len)
{
	struct vms_snapshot *s = hs_demo();
	char *json = NULL;
	size_t n = 0;
	CHECK(vms_json_write_snapshot(s, NULL, &json, &n) == VMS_OK);
	if (len)
		*len = n;
	if (quoted)
		snprintf(quoted, quoted_len, "\"%s\"", s->name);
	vms_snapshot_free(s);
	return json;
}

static void test_import_depth(void)
{
	struct vms_snapshot *back = NULL;
	char err[256];
	char *json = demo_json(NULL, NULL, 0);

	/* exactly at the limit: imports (unknown members are skipped) */
	char *ok = with_nesting(json, VMS_JSON_MAX_DEPTH - 1);
	int rc = vms_json_parse_snapshot(ok, strlen(ok), &back, err, sizeof err);
	CHECK(rc == VMS_OK);
	if (rc != VMS_OK)
		fprintf(stderr, "  at the limit: %s\n", err);
	vms_snapshot_free(back);
	back = NULL;
	free(ok);

	/* one level deeper: refused, saying why */
	char *deep = with_nesting(json, VMS_JSON_MAX_DEPTH);
	rc = vms_json_parse_snapshot(deep, strlen(deep), &back, err, sizeof err);
	CHECK(rc == VMS_ERR_INVALID && back == NULL);
	CHECK(strstr(err, "nested deeper than 64 levels") != NULL);
	free(deep);

	/* the attack's document: 850 '[' and nothing else */
	char attack[851];
	memset(attack, '[', 850);
	attack[850] = '\0';
	rc = vms_json_parse_snapshot(attack, 850, &back, err, sizeof err);
	CHECK(rc == VMS_ERR_INVALID && strstr(err, "nested deeper") != NULL);
	free(json);
}

/* json with the first occurrence of from replaced by to (malloc'd); the text must be there. */
static char *swap(const char *json, const char *from, const char *to)
{
	char *r = hs_replace(json, from, to);
	if (!r)
		hs_die("fixture text not found");
	return r;
}

static void test_import_utf8(void)
{
	struct vms_snapshot *back = NULL;
	char err[256], quoted[256];
	char *json = demo_json(NULL, quoted, sizeof quoted);

	/* well-formed multi-byte text imports */
	char *good = swap(json, quoted, "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
	int rc = vms_json_parse_snapshot(good, strlen(good), &back, err, sizeof err);
	CHECK(rc == VMS_OK);
	if (rc == VMS_OK)
		CHECK_STR(back->name, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	vms_snapshot_free(back);
	back = NULL;
	free(good);
	CHECK(vms_json_bad_utf8("caf\xc3\xa9", 5, NULL) == 0);

	/* raw 0xff, a stray continuation byte, an overlong '/', an encoded surrogate, a truncated
	 * sequence, beyond U+10FFFF: each refused, saying where */
	static const char *const bad[] = {"\"x\xffy\"",
	                                  "\"x\x80y\"",
	                                  "\"x\xc0\xafy\"",
	                                  "\"x\xed\xa0\x80y\"",
	                                  "\"x\xe2\x82\"",
	                                  "\"x\xf4\x90\x80\x80"
	                                  "\""};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char *t = swap(json, quoted, bad[i]);
		size_t at = 0;
		CHECK(vms_json_bad_utf8(t, strlen(t), &at) == 1);
		CHECK((unsigned char)t[at] >= 0x80 && (size_t)(strstr(t, bad[i]) - t) + 2 == at);
		rc = vms_json_parse_snapshot(t, strlen(t), &back, err, sizeof err);
		CHECK(rc == VMS_ERR_INVALID && back == NULL);
		CHECK(strstr(err, "not valid UTF-8") != NULL);
		free(t);
	}
	free(json);

	/* the repaired string helper: U+FFFD for each bad byte, NULL -> null */
	cJSON *j = vms_json_string_repaired("a\xff"
	                                    "b");
	CHECK(j && cJSON_IsString(j) &&
	      !strcmp(j->valuestring, "a\xef\xbf\xbd"
	                              "b"));
	cJSON_Delete(j);
	j = vms_json_string_repaired(NULL);
	CHECK(j && cJSON_IsNull(j));
	cJSON_Delete(j);
}

/* malloc'd: json with the value of "key" in its first smaps object replaced by value. */
static char *edit_first_smaps(const char *json, const char *key, const char *value)
{
	const char *sm = strstr(json, "\"smaps\":{");
	char pat[64];
	snprintf(pat, sizeof pat, "\"%s\":", key);
	const char *k = sm ? strstr(sm, pat) : NULL;
	if (!k)
		hs_die("smaps key not found");
	const char *v = k + strlen(pat), *e = v;
	while (*e >= '0' && *e <= '9')
		e++;
	size_t n = strlen(json), a = (size_t)(v - json), vl = strlen(value);
	char *r = malloc(n + vl + 1);
	memcpy(r, json, a);
	memcpy(r + a, value, vl);
	memcpy(r + a + vl, e, n - (size_t)(e - json) + 1);
	return r;
}

static void test_import_ranges(void)
{
	struct vms_snapshot *back = NULL;
	char err[256];
	size_t len;
	char *json = demo_json(&len, NULL, 0);
	static const struct {
		const char *key, *value, *says;
	} bad[] = {
	    {"rss", "18446744073709551615", "bytes in a region of"},
	    {"private_dirty", "18446744073709551615", "bytes in a region of"},
	    {"swap", "18446744073709551615", "bytes in a region of"},
	    {"locked", "18446744073709551615", "bytes in a region of"},
	    {"kernel_page_size", "18446744073709551615", "not a page size"},
	    {"rss", "0", "is less than shared_clean + shared_dirty"},
	    {"swap_pss", "4096", "more than swap"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char *t = edit_first_smaps(json, bad[i].key, bad[i].value);
		int rc = vms_json_parse_snapshot(t, strlen(t), &back, err, sizeof err);
		CHECK(rc == VMS_ERR_INVALID && back == NULL);
		if (!strstr(err, bad[i].says))
			fprintf(stderr, "  %s=%s: %s\n", bad[i].key, bad[i].value, err);
		CHECK(strstr(err, bad[i].says) != NULL);
		vms_snapshot_free(back);
		back = NULL;
		free(t);
	}
	/* the largest values a region allows still import, and the totals stay ordered */
	int rc = vms_json_parse_snapshot(json, len, &back, err, sizeof err);
	CHECK(rc == VMS_OK);
	if (rc == VMS_OK)
		CHECK(back->total[VMS_COL_TOTAL_WS] >= back->total[VMS_COL_PRIVATE_WS]);
	vms_snapshot_free(back);
	free(json);
}

static void test_duplicate_keys(void)
{
	struct vms_snapshot *back = NULL;
	char err[256];
	size_t len;
	char *json = demo_json(&len, NULL, 0);
	/* a second "rss" in the first smaps object: cJSON would take the first, JS the last */
	const char *sm = strstr(json, "\"smaps\":{");
	size_t at = (size_t)(sm - json) + strlen("\"smaps\":{");
	char *t = malloc(len + 32);
	memcpy(t, json, at);
	strcpy(t + at, "\"rss\":0,");
	strcat(t, json + at);
	int rc = vms_json_parse_snapshot(t, strlen(t), &back, err, sizeof err);
	CHECK(rc == VMS_ERR_INVALID && back == NULL);
	CHECK(strstr(err, "\"rss\" appears twice") != NULL);
	free(t);
	free(json);

	/* a large object (sorted path) and a small one (pairwise path), at any depth */
	int nomem = 0;
	char big[64 * 1024];
	size_t k = (size_t)sprintf(big, "[{");
	for (int i = 0; i < 2000; i++)
		k += (size_t)sprintf(big + k, "\"k%d\":1,", i);
	sprintf(big + k, "\"k1999\":2}]");
	cJSON *j = cJSON_Parse(big);
	CHECK(j && vms_json_dup_key(j, &nomem) && !strcmp(vms_json_dup_key(j, &nomem), "k1999") && !nomem);
	cJSON_Delete(j);
	j = cJSON_Parse("{\"a\":{\"b\":[{\"c\":1,\"d\":2,\"c\":3}]}}");
	CHECK(j && vms_json_dup_key(j, &nomem) && !strcmp(vms_json_dup_key(j, &nomem), "c"));
	cJSON_Delete(j);
	j = cJSON_Parse("{\"a\":{\"a\":1},\"b\":[{\"a\":1},{\"a\":2}]}");
	CHECK(j && vms_json_dup_key(j, &nomem) == NULL); /* same key in different objects is fine */
	cJSON_Delete(j);
}

int main(void)
{
	test_duplicate_keys();
	test_import_ranges();
	test_depth_scan();
	test_import_depth();
	test_import_utf8();
	TEST_MAIN_END();
}
