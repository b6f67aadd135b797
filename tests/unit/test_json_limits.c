/* Limits on what the JSON importer accepts (issue 11): nesting depth checked before cJSON parses
 * (a recursive parser: ~800 levels overflowed a daemon worker's stack). */
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

static void test_import_depth(void)
{
	struct vms_snapshot *s = hs_demo(), *back = NULL;
	char *json = NULL, err[256];
	size_t len;
	CHECK(vms_json_write_snapshot(s, NULL, &json, &len) == VMS_OK);
	vms_snapshot_free(s);

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

int main(void)
{
	test_depth_scan();
	test_import_depth();
	TEST_MAIN_END();
}
