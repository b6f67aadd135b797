/* JSON layer: snapshot -> JSON -> snapshot round trip (identical text), exact 64-bit values,
 * importer validation messages, a mutation/truncation fuzz of the importer, and the shapes of
 * the process, process list, summary, lookup and diff documents. */
#include <stdint.h>

#include "fixture.h"
#include "handmade_snapshot.h"
#include "test.h"
#include "vmscope/diff.h"
#include "vmscope/export.h"
#include "vmscope/json.h"

static char *to_json(const struct vms_snapshot *s, int pretty, int omit_cmdline)
{
	struct vms_json_opts o = {omit_cmdline};
	cJSON *j = vms_json_snapshot(s, &o);
	char *t = vms_json_print(j, pretty);
	cJSON_Delete(j);
	if (!t)
		hs_die("cannot print JSON");
	return t;
}

static int import(const char *text, struct vms_snapshot **out, char *err, size_t errlen)
{
	return vms_json_parse_snapshot(text, strlen(text), out, err, errlen);
}

static void test_round_trip(void)
{
	struct vms_snapshot *s = hs_demo(), *back = NULL;
	char err[256];

	for (int pretty = 0; pretty < 2; pretty++) {
		char *a = to_json(s, pretty, 0);
		int rc = import(a, &back, err, sizeof err);
		CHECK(rc == VMS_OK);
		if (rc != VMS_OK) {
			fprintf(stderr, "import failed: %s\n", err);
			free(a);
			continue;
		}
		char *b = to_json(back, pretty, 0);
		CHECK_STR(b, a); /* byte-identical after a full import */
		CHECK_EQ_U64(back->n_regions, s->n_regions);
		CHECK_EQ_U64(back->n_allocations, s->n_allocations);
		CHECK_EQ_U64(back->n_gaps, s->n_gaps);
		CHECK_EQ_U64(back->total[VMS_COL_PRIVATE], s->total[VMS_COL_PRIVATE]);
		CHECK_STR(back->regions[4].path, HS_HOSTILE_PATH);
		CHECK(back->regions[4].deleted == 1);
		CHECK_STR(back->threads[1].name, "worker\x1b]0;pwned\x07");
		CHECK(back->threads[0].stack_allocation == -1);
		CHECK(back->regions[0].protection_key == -1);
		CHECK(back->regions[7].thp_eligible == 1);
		CHECK_EQ_U64(back->regions[1].offset, 0x2000);
		CHECK(back->regions[0].dev_major == 0xfe && back->regions[0].dev_minor == 1);
		CHECK_STR(back->allocations[3].details, "Thread ID: 4243 (worker)");
		CHECK(back->allocations[3].tid == 4243);
		CHECK(back->allocations[3].type == VMS_TYPE_STACK);
		CHECK_STR(back->regions[5].role, "guard");
		CHECK(back->allocations[6].details == NULL);
		vms_snapshot_free(back);
		back = NULL;
		free(a);
		free(b);
	}
	vms_snapshot_free(s);
}

static void test_exact_u64(void)
{
	struct vms_snapshot *s = hs_demo(), *back = NULL;
	char err[256], want[96];
	char *a = to_json(s, 0, 0);

	/* written exactly (a double would print 1152921504606846976) */
	CHECK(strstr(a, "\"referenced\":1152921504606846977") != NULL);
	CHECK(strstr(a, "\"start_time_ticks\":18446744073709551614") != NULL);
	uint64_t last_gap = (1ULL << 56) - 0x7ffffc000000ULL;
	CHECK(last_gap > (1ULL << 53));
	snprintf(want, sizeof want,
	         "{\"start\":\"0x7ffffc000000\",\"end\":\"0x100000000000000\",\"size\":%" PRIu64 "}",
	         last_gap);
	CHECK(strstr(a, want) != NULL);
	CHECK(strstr(a, "\"user_top\":\"0x100000000000000\"") != NULL);

	/* and read back exactly */
	CHECK(import(a, &back, err, sizeof err) == VMS_OK);
	if (back) {
		CHECK_EQ_U64(back->rollup[VMS_SF_REFERENCED], HS_BIG_U64);
		CHECK_EQ_U64(back->regions[7].smaps[VMS_SF_REFERENCED], HS_BIG_U64);
		CHECK_EQ_U64(back->start_time, UINT64_MAX - 1);
		CHECK_EQ_U64(back->summary[VMS_TYPE_FREE].largest, last_gap);
		CHECK_EQ_U64(back->taken_at_ms, 1795327800123ULL);
	}
	vms_snapshot_free(back);
	back = NULL;

	/* UINT64_MAX is accepted, 2^64 is not; other integral spellings are read via the double */
	char *t = hs_replace(a, "\"referenced\":1152921504606846977", "\"referenced\":18446744073709551615");
	CHECK(t && import(t, &back, err, sizeof err) == VMS_OK);
	if (back) /* the first "referenced" in the document is region 7's (allocations come first) */
		CHECK_EQ_U64(back->regions[7].smaps[VMS_SF_REFERENCED], UINT64_MAX);
	vms_snapshot_free(back);
	back = NULL;
	free(t);
	t = hs_replace(a, "\"referenced\":1152921504606846977", "\"referenced\":18446744073709551616");
	CHECK(t && import(t, &back, err, sizeof err) == VMS_ERR_INVALID);
	CHECK_STR(
	    err,
	    "allocations[4].regions[0].smaps.referenced: not a non-negative integer that fits in 64 bits");
	free(t);
	t = hs_replace(a, "\"inode\":4242", "\"inode\":4.242e3");
	CHECK(t && import(t, &back, err, sizeof err) == VMS_OK);
	if (back)
		CHECK_EQ_U64(back->regions[0].inode, 4242);
	vms_snapshot_free(back);
	back = NULL;
	free(t);
	t = hs_replace(a, "\"inode\":4242", "\"inode\":4242.5");
	CHECK(t && import(t, &back, err, sizeof err) == VMS_ERR_INVALID);
	CHECK_STR(err, "allocations[0].regions[0].inode: not a non-negative integer that fits in 64 bits");
	free(t);
	t = hs_replace(a, "\"inode\":4242", "\"inode\":-1");
	CHECK(t && import(t, &back, err, sizeof err) == VMS_ERR_INVALID);
	free(t);

	free(a);
	vms_snapshot_free(s);
}

static void test_omit_cmdline(void)
{
	struct vms_snapshot *s = hs_demo();
	char *a = to_json(s, 0, 1), *b = to_json(s, 0, 0);
	CHECK(strstr(a, "\"cmdline\":null") != NULL);
	CHECK(strstr(b, "\"cmdline\":\"demo --flag value\"") != NULL);
	CHECK(strstr(a, "--flag") == NULL);
	free(a);
	free(b);
	vms_snapshot_free(s);
}

#define MIN_DOC                                                                                              \
	"{\"format_version\":1,\"process\":{\"pid\":7},\"allocations\":["                                    \
	"{\"type\":\"heap\",\"regions\":[{\"start\":\"0x1000\",\"end\":\"0x3000\",\"perms\":\"rw-p\","       \
	"\"smaps\":{\"rss\":4096,\"anonymous\":4096,\"private_dirty\":4096}}]},"                             \
	"{\"type\":\"private_data\",\"regions\":[{\"start\":\"0x5000\",\"end\":\"0x6000\",\"perms\":\"r--"   \
	"p\","                                                                                               \
	"\"smaps\":{\"swap\":4096}}]}],"                                                                     \
	"\"summary\":[],\"total\":{\"size\":1,\"private\":99999999}}"

static void test_minimal_import(void)
{
	struct vms_snapshot *s = NULL;
	char err[256];

	CHECK(import(MIN_DOC, &s, err, sizeof err) == VMS_OK);
	if (!s) {
		fprintf(stderr, "minimal import: %s\n", err);
		return;
	}
	CHECK(s->pid == 7);
	CHECK_EQ_U64(s->n_allocations, 2);
	CHECK_EQ_U64(s->n_regions, 2);
	/* totals recomputed from smaps; the file's "total" is ignored */
	CHECK_EQ_U64(s->total[VMS_COL_SIZE], 0x3000);
	CHECK_EQ_U64(s->total[VMS_COL_PRIVATE], 0x2000 + 4096); /* rw-p: size; r--p: anon + swap */
	CHECK_EQ_U64(s->total[VMS_COL_TOTAL_WS], 4096);
	CHECK_EQ_U64(s->total[VMS_COL_SWAP], 4096);
	CHECK_EQ_U64(s->summary[VMS_TYPE_HEAP].blocks, 1);
	CHECK_EQ_U64(s->regions[0].smaps[VMS_SF_SIZE], 0x2000); /* from the address range */
	/* defaults: page 4096, mmap_min_addr = page size, user_top unknown (0) */
	CHECK_EQ_U64(s->page_size, 4096);
	CHECK_EQ_U64(s->n_gaps, 1);
	CHECK_EQ_U64(s->gaps[0].start, 0x3000);
	CHECK_EQ_U64(s->gaps[0].end, 0x5000);
	CHECK(s->regions[0].thp_eligible == -1 && s->regions[0].protection_key == -1);
	CHECK_STR(s->regions[0].vm_flags, "");
	CHECK(s->regions[1].allocation == 1 && s->regions[1].type == VMS_TYPE_PRIVATE_DATA);
	CHECK(!s->has_rollup);
	CHECK_STR(s->cmdline, "");
	vms_snapshot_free(s);

	/* whitespace and a trailing newline are fine; text need not be NUL-terminated */
	char buf[2048];
	int n = snprintf(buf, sizeof buf, "  \n%s\n\n", MIN_DOC);
	memcpy(buf + n, "GARBAGE", 8);
	CHECK(vms_json_parse_snapshot(buf, (size_t)n, &s, err, sizeof err) == VMS_OK);
	vms_snapshot_free(s);
}

struct bad_case {
	const char *from, *to; /* edit of MIN_DOC */
	int rc;
	const char *err; /* exact message */
};

/* The cases of tests/fixtures/json-import/bad-edits.tsv: FROM, TO, code, sentence per line. */
static int load_bad_cases(struct bad_case *out, size_t cap, char **text)
{
	size_t n = 0, len = 0;
	*text = fixture_load("json-import/bad-edits.tsv", &len);
	for (char *line = *text, *nl; line && n < cap && (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
		char *f[4];
		*nl = '\0';
		if (line[0] == '#')
			continue;
		f[0] = line;
		for (int k = 1; k < 4; k++) {
			char *tab = f[k - 1] ? strchr(f[k - 1], '\t') : NULL;
			f[k] = tab ? tab + 1 : NULL;
			if (tab)
				*tab = '\0';
		}
		if (!f[3])
			return -1;
		out[n++] = (struct bad_case){
		    f[0], f[1], !strcmp(f[2], "VMS_ERR_UNSUPPORTED") ? VMS_ERR_UNSUPPORTED : VMS_ERR_INVALID,
		    f[3]};
	}
	return (int)n;
}

static void test_import_errors(void)
{
	char err[512];
	struct vms_snapshot *s = (struct vms_snapshot *)&s; /* must be reset to NULL on failure */
	struct bad_case bad_cases[64];
	char *cases_text = NULL;
	int n_cases = load_bad_cases(bad_cases, 64, &cases_text);
	CHECK_MSG(n_cases >= 30, "bad-edits.tsv: %d cases read", n_cases);

	for (size_t i = 0; n_cases > 0 && i < (size_t)n_cases; i++) {
		const struct bad_case *bc = &bad_cases[i];
		char *doc = hs_replace(MIN_DOC, bc->from, bc->to);
		CHECK(doc != NULL);
		if (!doc) {
			fprintf(stderr, "case %zu: edit not applicable\n", i);
			continue;
		}
		int rc = import(doc, &s, err, sizeof err);
		CHECK(rc == bc->rc);
		CHECK(s == NULL);
		CHECK_STR(err, bc->err);
		vms_snapshot_free(s);
		s = NULL;
		free(doc);
	}
	free(cases_text);

	/* not JSON at all, truncated, trailing text, wrong top-level type, empty */
	CHECK(import("hello", &s, err, sizeof err) == VMS_ERR_INVALID);
	CHECK_STR(err, "not valid JSON (line 1, column 1)");
	CHECK(import("{\"format_version\":1,\n\"process\":{\"pid\":7},\n  \"allocations\":[}]}", &s, err,
	             sizeof err) == VMS_ERR_INVALID);
	CHECK_STR(err, "not valid JSON (line 3, column 18)");
	char half[128];
	memcpy(half, MIN_DOC, 100);
	half[100] = '\0';
	CHECK(import(half, &s, err, sizeof err) == VMS_ERR_INVALID);
	CHECK(strncmp(err, "not valid JSON", 14) == 0 && strstr(err, "truncated?") != NULL);
	CHECK(import(MIN_DOC " {}", &s, err, sizeof err) == VMS_ERR_INVALID);
	CHECK(strstr(err, "unexpected text after the top-level value") != NULL);
	CHECK(import("[1,2]", &s, err, sizeof err) == VMS_ERR_INVALID);
	CHECK_STR(err, "expected a JSON object at the top level");
	CHECK(vms_json_parse_snapshot("", 0, &s, err, sizeof err) == VMS_ERR_INVALID);
	CHECK_STR(err, "empty input");
	CHECK(vms_json_parse_snapshot(NULL, 5, &s, err, sizeof err) == VMS_ERR_INVALID);

	/* errbuf is optional and never overrun */
	CHECK(import("{\"format_version\":3}", &s, NULL, 0) == VMS_ERR_UNSUPPORTED);
	char tiny[12];
	memset(tiny, 'Z', sizeof tiny);
	CHECK(import("{\"format_version\":3}", &s, tiny, 8) == VMS_ERR_UNSUPPORTED);
	CHECK(tiny[7] == '\0' && tiny[8] == 'Z');
	CHECK(s == NULL);
}

static uint32_t rng_state = 0x12345678u;
static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

/* Whatever the importer accepts must also go through every exporter. */
static void exercise(struct vms_snapshot *s)
{
	char *t;
	size_t n;
	cJSON *j = vms_json_snapshot(s, NULL);
	CHECK(j != NULL);
	cJSON_Delete(j);
	if (vms_export_text(s, &t, &n) == VMS_OK)
		free(t);
	if (vms_export_csv(s, &t, &n) == VMS_OK)
		free(t);
	struct vms_diff d;
	if (vms_diff_compute(s, s, &d) == VMS_OK) {
		CHECK_EQ_U64(d.n_allocations, 0);
		vms_diff_free(&d);
	}
}

/* Mutate base (edits, insertions, deletions) iterations times; every outcome must be either a
 * snapshot that all exporters accept or an error with a message. */
static void fuzz_doc(const char *base, int iterations, int *accepted, int *rejected,
                     int *rejected_with_message)
{
	static const char interesting[] = "\"{}[],:0-9x\\e.Ea \n\x01\xff";
	size_t len = strlen(base);
	char err[256];
	char *buf = malloc(len + 16);
	for (int iter = 0; iter < iterations; iter++) {
		memcpy(buf, base, len + 1);
		size_t n = len;
		int edits = 1 + (int)(rng() % 4);
		for (int e = 0; e < edits && n > 1; e++) {
			size_t pos = rng() % n;
			char ch = (rng() & 1) ? interesting[rng() % (sizeof interesting - 1)]
			                      : (char)(rng() & 0xff);
			switch (rng() % 3) {
			case 0:
				buf[pos] = ch;
				break;
			case 1:
				if (n < len + 15) {
					memmove(buf + pos + 1, buf + pos, n - pos + 1);
					buf[pos] = ch;
					n++;
				}
				break;
			default:
				memmove(buf + pos, buf + pos + 1, n - pos);
				n--;
				break;
			}
		}
		struct vms_snapshot *s = NULL;
		err[0] = 'Q';
		int rc = vms_json_parse_snapshot(buf, n, &s, err, sizeof err);
		if (rc == VMS_OK) {
			(*accepted)++;
			exercise(s);
			vms_snapshot_free(s);
		} else {
			(*rejected)++;
			if (err[0] != 'Q' && err[0] != '\0' && strlen(err) < sizeof err)
				(*rejected_with_message)++;
		}
	}
	free(buf);
}

static void test_fuzz(void)
{
	struct vms_snapshot *demo = hs_demo();
	char *base = to_json(demo, 0, 0), err[256];
	size_t len = strlen(base);
	int accepted = 0, rejected_with_message = 0, rejected = 0;

	/* every truncation: never valid (the closing brace is missing), never a crash */
	for (size_t cut = 0; cut < len; cut++) {
		struct vms_snapshot *s = NULL;
		int rc = vms_json_parse_snapshot(base, cut, &s, err, sizeof err);
		if (rc == VMS_OK) {
			vms_snapshot_free(s);
			CHECK(rc != VMS_OK);
		}
	}
	/* random edits of the full document and of the minimal one (where more edits survive
	 * the JSON syntax and reach the field checks) */
	fuzz_doc(base, 4000, &accepted, &rejected, &rejected_with_message);
	fuzz_doc(MIN_DOC, 4000, &accepted, &rejected, &rejected_with_message);
	CHECK(rejected > 0 && accepted > 0);
	CHECK(rejected_with_message == rejected);
	free(base);
	vms_snapshot_free(demo);
}

static void test_proc_json(void)
{
	struct vms_proc p = {0};
	p.pid = 12;
	p.ppid = 1;
	p.name = "bash";
	p.cmdline = "bash -l";
	p.user = "root";
	p.state = 'S';
	p.threads = 1;
	p.vm_rss = (1ULL << 53) + 1;
	p.arch.bits = 64;
	p.arch.machine = "x86_64";
	p.maps_readable = 0;
	p.unreadable_err = VMS_ERR_PERMISSION;

	cJSON *j = vms_json_proc(&p);
	char *t = vms_json_print(j, 0);
	CHECK(t && strstr(t, "\"pid\":12,\"ppid\":1,\"name\":\"bash\"") != NULL);
	CHECK(t && strstr(t, "\"vm_rss\":9007199254740993") != NULL);
	CHECK(t && strstr(t, "\"state\":\"S\"") != NULL);
	CHECK(t && strstr(t, "\"pss\":null") != NULL);
	CHECK(t && strstr(t, "\"unreadable\":{\"code\":\"permission_denied\"") != NULL);
	free(t);
	cJSON_Delete(j);

	struct vms_proc two[2] = {p, p};
	two[1].pid = 13;
	two[1].has_rollup = 1;
	two[1].pss = 4096;
	two[1].maps_readable = 1;
	struct vms_proclist l = {two, 2};
	j = vms_json_proclist(&l);
	CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(j, "processes")) == 2);
	t = vms_json_print(j, 0);
	CHECK(t && strncmp(t, "{\"count\":2,\"processes\":[{", 25) == 0);
	CHECK(t && strstr(t, "\"pss\":4096,\"uss\":0") != NULL);
	CHECK(t && strstr(t, "\"maps_readable\":true,\"unreadable\":null") != NULL);
	free(t);
	cJSON_Delete(j);
}

static const char *jstr(const cJSON *o, const char *path1, const char *path2)
{
	const cJSON *it = cJSON_GetObjectItem(o, path1);
	if (path2)
		it = cJSON_GetObjectItem(it, path2);
	return cJSON_IsString(it) ? it->valuestring : NULL;
}

static void test_lookup_summary_diff(void)
{
	struct vms_snapshot *s = hs_demo();
	struct vms_lookup l;

	vms_snapshot_lookup(s, 0x555555557000ULL, &l);
	cJSON *j = vms_json_lookup(s, 0x555555557000ULL, &l, NULL);
	CHECK_STR(jstr(j, "kind", NULL), "region");
	CHECK_STR(jstr(j, "offset_in_region", NULL), "0x1000");
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(j, "image")));
	CHECK_STR(jstr(j, "region", "start"), "0x555555556000");
	CHECK_STR(jstr(j, "region", "role"), "text");
	CHECK_STR(jstr(j, "allocation", "details"), "/usr/bin/demo");
	CHECK_STR(jstr(j, "prev", "perms"), "r--p");
	CHECK_STR(jstr(j, "next", "perms"), "rw-p");
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(j, "gap")));
	cJSON_Delete(j);

	vms_snapshot_lookup(s, 0x600000000000ULL, &l);
	j = vms_json_lookup(s, 0x600000000000ULL, &l, NULL);
	CHECK_STR(jstr(j, "kind", NULL), "free");
	CHECK_STR(jstr(j, "gap", "start"), "0x55555557d000");
	CHECK_STR(jstr(j, "gap", "end"), "0x7f0000000000");
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(j, "region")));
	CHECK_STR(jstr(j, "prev", "path"), "[heap]");
	cJSON_Delete(j);

	vms_snapshot_lookup(s, 0x100, &l);
	j = vms_json_lookup(s, 0x100, &l, NULL);
	CHECK_STR(jstr(j, "kind", NULL), "outside");
	cJSON_Delete(j);

	j = vms_json_summary(s);
	CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(j, "summary")) == VMS_TYPE_COUNT);
	CHECK_STR(
	    jstr(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "summary"), VMS_TYPE_COUNT - 1), "type", NULL),
	    "free");
	char *t = vms_json_print(j, 0);
	char want[64];
	snprintf(want, sizeof want, "\"total\":{\"size\":%" PRIu64 ",", s->total[VMS_COL_SIZE]);
	CHECK(t && strstr(t, want) != NULL);
	free(t);
	cJSON_Delete(j);

	/* diff: the heap's resident set grows by 8 KiB and one region appears */
	char *a = to_json(s, 0, 0), err[256];
	struct vms_snapshot *s2 = NULL;
	char *edited =
	    hs_replace(a,
	               "\"path\":\"[heap]\",\"deleted\":false,\"role\":null,\"smaps\":{\"size\":135168,"
	               "\"kernel_page_size\":4096,\"mmu_page_size\":4096,\"rss\":65536",
	               "\"path\":\"[heap]\",\"deleted\":false,\"role\":null,\"smaps\":{\"size\":135168,"
	               "\"kernel_page_size\":4096,\"mmu_page_size\":4096,\"rss\":73728");
	CHECK(edited != NULL);
	if (edited && import(edited, &s2, err, sizeof err) == VMS_OK) {
		struct vms_diff d;
		CHECK(vms_diff_compute(s, s2, &d) == VMS_OK);
		j = vms_json_diff(&d);
		t = vms_json_print(j, 0);
		CHECK(t &&
		      strstr(t, "\"allocations\":[{\"changes\":[\"usage\"],\"from\":{\"index\":1,") != NULL);
		CHECK(t &&
		      strstr(t, "\"delta\":{\"size\":0,\"committed\":0,\"private\":0,\"total_ws\":8192,") !=
		          NULL);
		CHECK(t && strstr(t, "\"same_process\":true") != NULL);
		CHECK(
		    t &&
		    strstr(t, "{\"type\":\"heap\",\"name\":\"Heap\",\"blocks\":0,\"columns\":{\"size\":0,") !=
		        NULL);
		free(t);
		cJSON_Delete(j);
		vms_diff_free(&d);
	}
	vms_snapshot_free(s2);
	free(edited);
	free(a);
	vms_snapshot_free(s);
}

static void test_invalid_utf8(void)
{
	struct vms_snapshot *s = hs_new(9, "bad\xff\xfename");
	hs_region(s, 0x10000, 0x11000, "r--p", "/tmp/\xc3\x28latin\xe9.bin", 0);
	hs_alloc(s, VMS_TYPE_MAPPED_FILE, "/tmp/\xc3\x28latin\xe9.bin", 0);
	hs_finish(s);
	char *t = to_json(s, 0, 0);
	/* each bad byte becomes U+FFFD, so the document stays valid UTF-8 */
	CHECK(strstr(t, "\"name\":\"bad\xef\xbf\xbd\xef\xbf\xbdname\"") != NULL);
	CHECK(strstr(t, "\"path\":\"/tmp/\xef\xbf\xbd(latin\xef\xbf\xbd.bin\"") != NULL);
	free(t);
	vms_snapshot_free(s);
}

int main(void)
{
	test_round_trip();
	test_exact_u64();
	test_omit_cmdline();
	test_minimal_import();
	test_import_errors();
	test_fuzz();
	test_proc_json();
	test_lookup_summary_diff();
	test_invalid_utf8();
	TEST_MAIN_END();
}
