/* The tree-less importer (vms_json_parse_snapshot) against its oracle, the cJSON-tree importer
 * (vms_json_parse_snapshot_tree): on every JSON fixture (golden snapshots of every format, and
 * the golden documents that are not snapshots), on hand-made tricky texts (cJSON's quirks, keys
 * duplicated through escapes, surrogates, numbers), and on thousands of random edits of a real
 * document, both must return the same code and the same sentence, and accepted texts must give
 * the same snapshot: the same JSON from the writer and the same packed bytes. */
#include <dirent.h>
#include <stdint.h>
#include <sys/stat.h>

#include "../server/store/store_internal.h"
#include "handmade_snapshot.h"
#include "test.h"
#include "vmscope/json.h"

static int n_same_ok, n_same_refused;

/* Both importers on text[0..len): same code, same message, same snapshot. */
static void compare(const char *what, const char *text, size_t len)
{
	struct vms_snapshot *a = NULL, *b = NULL;
	char ea[512], eb[512];
	int ra = vms_json_parse_snapshot(text, len, &a, ea, sizeof ea);
	int rb = vms_json_parse_snapshot_tree(text, len, &b, eb, sizeof eb);
	CHECK_MSG(ra == rb, "%s: stream %d (%s), tree %d (%s)", what, ra, ea, rb, eb);
	if (ra != rb)
		goto out;
	if (ra != VMS_OK) {
		CHECK(a == NULL);
		CHECK_MSG(strcmp(ea, eb) == 0, "%s: stream \"%s\", tree \"%s\"", what, ea, eb);
		n_same_refused += strcmp(ea, eb) == 0;
		goto out;
	}
	char *ja = NULL, *jb = NULL;
	size_t la = 0, lb = 0;
	unsigned char *pa = NULL, *pb = NULL;
	struct vms_json_opts o = {0};
	CHECK(vms_json_write_snapshot(a, &o, &ja, &la) == VMS_OK);
	CHECK(vms_json_write_snapshot(b, &o, &jb, &lb) == VMS_OK);
	CHECK(vms_store_pack(a, &pa, &la) == VMS_OK);
	CHECK(vms_store_pack(b, &pb, &lb) == VMS_OK);
	int same = ja && jb && strcmp(ja, jb) == 0 && pa && pb && la == lb && memcmp(pa, pb, la) == 0;
	CHECK_MSG(same, "%s: accepted by both, but the snapshots differ", what);
	n_same_ok += same;
	free(ja);
	free(jb);
	free(pa);
	free(pb);
out:
	vms_snapshot_free(a);
	vms_snapshot_free(b);
}

static void compare_str(const char *text)
{
	compare(text, text, strlen(text));
}

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

/* Every .json under dir (one level of subdirectories). Returns how many. */
static int compare_dir(const char *dir, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	if (!d)
		return 0;
	while ((e = readdir(d)) != NULL) {
		char path[4096];
		size_t len = 0, nl = strlen(e->d_name);
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if (nl > 5 && !strcmp(e->d_name + nl - 5, ".json")) {
			char *t = slurp(path, &len);
			if (t) {
				compare(path, t, len);
				free(t);
				n++;
			}
		} else if (depth > 0) {
			n += compare_dir(path, depth - 1);
		}
	}
	closedir(d);
	return n;
}

static void test_fixtures(void)
{
	const char *fx = getenv("VMSCOPE_FIXTURES");
	char dir[4096];
	if (!fx) {
		SKIP("VMSCOPE_FIXTURES is not set");
		return;
	}
	int before = n_same_ok;
	snprintf(dir, sizeof dir, "%s/golden", fx);
	int n = compare_dir(dir, 1) + compare_dir(fx, 0);
	CHECK_MSG(n >= 18, "only %d JSON fixtures found", n);
	CHECK_MSG(n_same_ok - before >= 8, "only %d fixtures imported", n_same_ok - before);
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
		compare_str(texts[i]);
	/* an embedded NUL byte is whitespace to cJSON outside strings, a character inside */
	static const char nul_ws[] = "{\"format_version\":1,\0\"process\":{\"pid\":7},\"allocations\":[]}";
	compare("NUL as whitespace", nul_ws, sizeof nul_ws - 1);
	static const char nul_str[] = "{\"format_version\":1,\"process\":{\"pid\":7,\"name\":\"a\0b\"},"
	                              "\"allocations\":[]}";
	compare("NUL in a string", nul_str, sizeof nul_str - 1);
}

/* Random edits of a real document (the demo snapshot): deletions, duplications and structural
 * characters, 1-3 per document. */
static void test_mutations(void)
{
	struct vms_snapshot *demo = hs_demo();
	struct vms_json_opts o = {0};
	char *base = NULL;
	size_t len = 0;
	CHECK(vms_json_write_snapshot(demo, &o, &base, &len) == VMS_OK);
	if (!base)
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
		char what[64];
		snprintf(what, sizeof what, "mutation %d", round);
		compare(what, buf, n);
	}
	free(buf);
	free(base);
	vms_snapshot_free(demo);
}

int main(void)
{
	test_fixtures();
	test_tricky();
	test_mutations();
	printf("identical snapshots: %d, identical refusals: %d\n", n_same_ok, n_same_refused);
	CHECK(n_same_ok > 20 && n_same_refused > 1000);
	TEST_MAIN_END();
}
