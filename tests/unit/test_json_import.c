/* The JSON importer (vms_json_parse_snapshot) on every JSON fixture (golden snapshots of every
 * format and the golden documents that are not snapshots), on hand-made tricky texts (cJSON's
 * quirks, keys duplicated through escapes, surrogates, numbers) and on 4,000 random edits of a
 * fixed document (tests/fixtures/json-import/demo.json). Each outcome, accepted or refused with
 * its code and sentence, must equal the line pinned for that case in
 * tests/fixtures/json-import/expected.tsv. Those lines were written when two independent
 * importers, this one and the cJSON-tree importer it replaced, gave the same outcome on every
 * case; the tree importer was then deleted (one codec per format). Every accepted text must also
 * be a fixed point: parse, write, parse, write gives the same JSON and the same packed bytes.
 *
 * VMSCOPE_JSON_EXPECT_WRITE=FILE writes the outcomes to FILE instead of checking them: only to
 * add cases. A changed sentence changes what users and the API see and is reviewed as such. */
#include <dirent.h>
#include <stdint.h>
#include <sys/stat.h>

#include "../server/store/store_internal.h"
#include "test.h"
#include "vmscope/json.h"

struct expectations {
	char *text;   /* the file, lines split in place */
	char **lines; /* "case\tcode\tsentence" */
	size_t n, next;
};

static struct expectations expect;
static FILE *expect_out; /* writing mode */
static int n_pinned, n_unpinned, n_accepted, n_refused;

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	if (!f)
		return NULL;
	struct stat st;
	if (fstat(fileno(f), &st) == 0 && (buf = malloc((size_t)st.st_size + 1)) != NULL) {
		*len = fread(buf, 1, (size_t)st.st_size, f);
		buf[*len] = '\0';
	}
	fclose(f);
	return buf;
}

static int load_expectations(const char *path)
{
	size_t len = 0;
	expect.text = slurp(path, &len);
	if (!expect.text)
		return -1;
	for (size_t i = 0; i < len; i++)
		expect.n += expect.text[i] == '\n';
	expect.lines = calloc(expect.n + 1, sizeof *expect.lines);
	if (!expect.lines)
		return -1;
	size_t k = 0;
	for (char *p = expect.text, *nl; k < expect.n && (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		*nl = '\0';
		expect.lines[k++] = p;
	}
	expect.n = k;
	return 0;
}

/* The pinned line whose case is `key`, or NULL. Cases are looked up in file order first. */
static const char *expected_for(const char *key)
{
	size_t kl = strlen(key);
	for (size_t i = 0; i < expect.n; i++) {
		size_t j = (expect.next + i) % expect.n;
		if (!strncmp(expect.lines[j], key, kl) && expect.lines[j][kl] == '\t') {
			expect.next = j + 1;
			return expect.lines[j] + kl + 1;
		}
	}
	return NULL;
}

/* "code\tsentence" with the sentence's control bytes, backslashes and non-ASCII as \xHH. */
static void outcome_text(int code, const char *sentence, char *out, size_t cap)
{
	size_t o = (size_t)snprintf(out, cap, "%d\t", code);
	for (const unsigned char *p = (const unsigned char *)sentence; *p && o + 5 < cap; p++) {
		if (*p < 0x20 || *p >= 0x7f || *p == '\\')
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", *p);
		else
			out[o++] = (char)*p;
	}
	out[o < cap ? o : cap - 1] = '\0';
}

/* An accepted snapshot written, read back and written again: the same JSON, the same packed bytes. */
static void check_fixed_point(const char *what, const struct vms_snapshot *a)
{
	struct vms_json_opts o = {0};
	struct vms_snapshot *b = NULL;
	char *ja = NULL, *jb = NULL, err[512];
	size_t la = 0, lb = 0, pla = 0, plb = 0;
	unsigned char *pa = NULL, *pb = NULL;
	CHECK(vms_json_write_snapshot(a, &o, &ja, &la) == VMS_OK);
	int rc = ja ? vms_json_parse_snapshot(ja, la, &b, err, sizeof err) : VMS_ERR_NOMEM;
	CHECK_MSG(rc == VMS_OK, "%s: its own written JSON is refused: %s", what, err);
	if (rc == VMS_OK) {
		CHECK(vms_json_write_snapshot(b, &o, &jb, &lb) == VMS_OK);
		CHECK(vms_store_pack(a, &pa, &pla) == VMS_OK);
		CHECK(vms_store_pack(b, &pb, &plb) == VMS_OK);
		int same = jb && la == lb && memcmp(ja, jb, la) == 0 && pa && pb && pla == plb &&
		           memcmp(pa, pb, pla) == 0;
		CHECK_MSG(same, "%s: written, read back and written again, the snapshot changed", what);
	}
	free(ja);
	free(jb);
	free(pa);
	free(pb);
	vms_snapshot_free(b);
}

/* The importer on text[0..len): the pinned outcome, and a fixed point if accepted. */
static void check_case(const char *key, const char *text, size_t len)
{
	struct vms_snapshot *s = NULL;
	char err[512], got[1200];
	err[0] = '\0';
	int rc = vms_json_parse_snapshot(text, len, &s, err, sizeof err);
	outcome_text(rc, rc == VMS_OK ? "ok" : err, got, sizeof got);
	if (rc == VMS_OK)
		n_accepted++;
	else
		n_refused++;
	if (expect_out) {
		fprintf(expect_out, "%s\t%s\n", key, got);
	} else {
		const char *want = expected_for(key);
		if (want) {
			n_pinned++;
			CHECK_MSG(!strcmp(want, got), "%s: pinned \"%s\", now \"%s\"", key, want, got);
		} else {
			n_unpinned++; /* a fixture added after the pins: the fixed point still holds */
		}
	}
	if (rc == VMS_OK)
		check_fixed_point(key, s);
	else
		CHECK_MSG(s == NULL && err[0], "%s: refused without a sentence, or with a snapshot", key);
	vms_snapshot_free(s);
}

static void check_str(int i, const char *text)
{
	char key[32];
	snprintf(key, sizeof key, "tricky:%d", i);
	check_case(key, text, strlen(text));
}

/* Every .json under dir (depth levels of subdirectories); keys are paths below root. */
static int check_dir(const char *root, const char *rel, int depth)
{
	char dir[4096];
	snprintf(dir, sizeof dir, "%s%s%s", root, rel[0] ? "/" : "", rel);
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	if (!d)
		return 0;
	while ((e = readdir(d)) != NULL) {
		char path[4096], sub[4096], key[4200];
		size_t len = 0, nl = strlen(e->d_name);
		if (e->d_name[0] == '.')
			continue;
		int lp = snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		int ls = snprintf(sub, sizeof sub, "%s%s%s", rel, rel[0] ? "/" : "", e->d_name);
		if (lp < 0 || (size_t)lp >= sizeof path || ls < 0 || (size_t)ls >= sizeof sub)
			continue;
		if (nl > 5 && !strcmp(e->d_name + nl - 5, ".json")) {
			char *t = slurp(path, &len);
			if (t) {
				snprintf(key, sizeof key, "fixture:%s", sub);
				check_case(key, t, len);
				free(t);
				n++;
			}
		} else if (depth > 0) {
			n += check_dir(root, sub, depth - 1);
		}
	}
	closedir(d);
	return n;
}

static void test_fixtures(const char *fx)
{
	int accepted = n_accepted;
	int n = check_dir(fx, "golden", 1) + check_dir(fx, "", 0);
	CHECK_MSG(n >= 18, "only %d JSON fixtures found", n);
	CHECK_MSG(n_accepted - accepted >= 8, "only %d fixtures imported", n_accepted - accepted);
}

#define DOC                                                                                                  \
	"{\"format_version\":1,\"process\":{\"pid\":7},\"allocations\":[{\"type\":\"heap\",\"regions\":"     \
	"[{\"start\":\"0x1000\",\"end\":\"0x3000\",\"perms\":\"rw-p\",\"smaps\":{\"rss\":4096}}]}]}"

static void test_tricky(void)
{
	static const char *const texts[] = {
	    DOC,
	    "\xEF\xBB\xBF" DOC, /* a BOM: cJSON skips it */
	    "\x01\x02 " DOC " \n",
	    DOC "\x01",
	    "{\"format_version\":01,\"process\":{\"pid\":7},\"allocations\":[]}",
	    "{\"format_version\":1.0,\"process\":{\"pid\":7e0},\"allocations\":[]}",
	    "{\"format_version\":1,\"process\":{\"pid\":7},\"allocations\":[],\"x\":1-2}",
	    "{\"format_version\":1,\"process\":{\"pid\":7},\"allocations\":[],\"x\":"
	    "1234567890123456789012345678901234567890123456789012345678901234567890}",
	    "{\"format_version\":1,\"process\":{\"pid\":7},\"allocations\":[],\"x\":1e400}",
	    "{\"format_version\":1,\"process\":{\"pid\":18446744073709551616},\"allocations\":[]}",
	    "{\"format_version\":1,\"process\":{\"pid\":-0},\"allocations\":[]}",
	    "{\"format_version\":1,\"process\":{\"pid\":7},\"allocations\":[],\"x\":[1,]}",
	    "{\"format_version\":1,\"process\":{\"pid\":7},\"allocations\":[],\"x\":{,}}",
	    "{\"format_version\":1,\"process\":{\"pid\":7},\"allocations\":[],\"x\":{1:2}}",
	    "{\"format_version\":1,\"process\":{\"pid\":7},\"allocations\":[],\"x\":\"\\q\"}",
	    "{\"format_version\":1,\"process\":{\"pid\":7},\"allocations\":[],\"x\":\"\\uZZZZ\"}",
	    "{\"format_version\":1,\"process\":{\"pid\":7},\"allocations\":[],\"x\":\"\\ud800\"}",
	    "{\"format_version\":1,\"process\":{\"pid\":7},\"allocations\":[],\"x\":\"\\udc00\"}",
	    "{\"format_version\":1,\"process\":{\"pid\":7},\"allocations\":[],\"x\":\"\\ud83d\\ude00\"}",
	    "{\"format_version\":1,\"process\":{\"pid\":7},\"allocations\":[],\"x\":\"\\u12\"}",
	    "{\"format_version\":1,\"process\":{\"pid\":7},\"allocations\":[],\"x\":nul}",
	    "{\"format_version\":1,\"process\":{\"pid\":7},\"allocations\":[],\"x\":nullx}",
	    "{\"format_version\":1,\"process\":{\"pid\":7,\"pid\":8},\"allocations\":[]}",
	    "{\"format_version\":1,\"process\":{\"pid\":7,\"p\\u0069d\":8},\"allocations\":[]}",
	    "{\"format_version\":1,\"process\":{\"pid\":7,\"pid\\u0000x\":8},\"allocations\":[]}",
	    "{\"format_version\":1,\"process\":{\"p\\u0069d\":7},\"allocations\":[]}",
	    "{\"format_version\":1,\"process\":{\"pid\\u0000junk\":7},\"allocations\":[]}",
	    "{\"format_version\":1,\"process\":{\"pid\":7,\"name\":\"a\\u0000b\",\"user\":\"\\t\\/\"},"
	    "\"allocations\":[]}",
	    "{\"b\":1,\"a\":{\"z\":1,\"z\":2},\"a\":2}",
	    "{\"k1\":1,\"k2\":1,\"k3\":1,\"k4\":1,\"k5\":1,\"k6\":1,\"k7\":1,\"k8\":1,\"k9\":1,\"kA\":1,"
	    "\"kB\":1,\"kC\":1,\"kD\":1,\"kE\":1,\"kF\":1,\"kG\":1,\"kH\":1,\"kG\":2,\"kA\":3}",
	    "[{\"x\":{\"y\":1,\"y\":2}}, {\"a\":1,\"a\":1}]",
	    "{\"format_version\":1,\"allocations\":[],\"process\":{\"pid\":7},\"threads\":[{\"tid\":5,"
	    "\"stack_allocation\":null,\"sp\":null}],\"attribution\":{\"peek\":\"denied\",\"recognisers\":"
	    "[{\"key\":\"glibc\",\"claimed\":2}]},\"rollup\":null}",
	    "{\"format_version\":1,\"process\":{\"pid\":7},\"allocations\":[],\"attribution\":{\"peek\":"
	    "\"no\"}}",
	    "{\"format_version\":1,\"process\":{\"pid\":7},\"allocations\":[],\"mmap_min_addr\":"
	    "\"0x0000000000000000"
	    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000010000\""
	    "}",
	    "{",
	    "[",
	    "[ ",
	    "{\"a\"",
	    "{\"a\":",
	    "{\"a\":1,",
	    "{\"a\":1 ",
	    "\"abc",
	    "\"ab\\",
	    "   ",
	    "7",
	    "{} x",
	    "{}\t\r\n ",
	    "{}\x01",
	};
	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
		check_str((int)i, texts[i]);
	/* an embedded NUL byte is whitespace to cJSON outside strings, a character inside */
	static const char nul_ws[] = "{\"format_version\":1,\0\"process\":{\"pid\":7},\"allocations\":[]}";
	check_case("tricky:nul-as-whitespace", nul_ws, sizeof nul_ws - 1);
	static const char nul_str[] = "{\"format_version\":1,\"process\":{\"pid\":7,\"name\":\"a\0b\"},"
	                              "\"allocations\":[]}";
	check_case("tricky:nul-in-a-string", nul_str, sizeof nul_str - 1);
}

/* Random edits of a fixed document: deletions, duplications and structural characters, 1-3 per
 * document, from a fixed seed (the cases are the same in every run). */
static void test_mutations(const char *fx)
{
	char path[4096];
	size_t len = 0;
	snprintf(path, sizeof path, "%s/json-import/demo.json", fx);
	char *base = slurp(path, &len);
	CHECK_MSG(base != NULL && len > 100, "cannot read %s", path);
	if (!base || len <= 100)
		return;
	char *buf = malloc(len + 16);
	static const char ins[] = "{}[],:\"\\0-e.tnu \x01";
	unsigned seed = 12345;
	for (int round = 0; round < 4000 && buf; round++) {
		size_t n = len;
		memcpy(buf, base, len);
		int edits = 1 + round % 3;
		for (int e = 0; e < edits; e++) {
			seed = seed * 1103515245u + 12345u;
			size_t pos = (seed >> 8) % n;
			switch ((seed >> 4) % 3) {
			case 0:
				memmove(buf + pos, buf + pos + 1, n - pos - 1);
				n--;
				break;
			case 1:
				memmove(buf + pos + 1, buf + pos, n - pos);
				buf[pos] = ins[(seed >> 16) % (sizeof ins - 1)];
				n++;
				break;
			default:
				buf[pos] = ins[(seed >> 16) % (sizeof ins - 1)];
				break;
			}
		}
		char key[32];
		snprintf(key, sizeof key, "mutation:%d", round);
		check_case(key, buf, n);
	}
	free(buf);
	free(base);
}

int main(void)
{
	const char *fx = getenv("VMSCOPE_FIXTURES");
	const char *write_to = getenv("VMSCOPE_JSON_EXPECT_WRITE");
	char path[4096];
	if (!fx) {
		SKIP("VMSCOPE_FIXTURES is not set");
		TEST_MAIN_END();
	}
	if (write_to && write_to[0]) {
		expect_out = fopen(write_to, "w");
		CHECK_MSG(expect_out != NULL, "cannot write %s", write_to);
	} else {
		snprintf(path, sizeof path, "%s/json-import/expected.tsv", fx);
		CHECK_MSG(load_expectations(path) == 0, "cannot read %s", path);
	}
	test_fixtures(fx);
	test_tricky();
	test_mutations(fx);
	if (expect_out)
		fclose(expect_out);
	printf("pinned outcomes checked: %d (fixtures added since: %d); accepted %d, refused %d\n", n_pinned,
	       n_unpinned, n_accepted, n_refused);
	CHECK(expect_out || n_pinned >= 4000);
	CHECK(n_accepted > 20 && n_refused > 1000);
	free(expect.lines);
	free(expect.text);
	TEST_MAIN_END();
}
