/* The streaming writer must print exactly what cJSON prints for the same snapshot. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "handmade_snapshot.h"
#include "test.h"
#include "vmscope/diff.h"
#include "vmscope/json.h"
#include "vmscope/parse.h"

static void compare(const struct vms_snapshot *s, const struct vms_json_opts *opts, const char *what)
{
	cJSON *tree = vms_json_snapshot(s, opts);
	char *want = tree ? cJSON_PrintUnformatted(tree) : NULL;
	char *got = NULL;
	size_t len = 0;
	CHECK(vms_json_write_snapshot(s, opts, &got, &len) == VMS_OK);
	CHECK(want && got);
	if (want && got) {
		CHECK_EQ_U64(len, strlen(got));
		if (strcmp(want, got)) {
			size_t i = 0;
			while (want[i] && want[i] == got[i])
				i++;
			fprintf(stderr, "%s: differs at byte %zu:\n cJSON: %.80s\n ours:  %.80s\n", what, i,
				want + (i > 20 ? i - 20 : 0), got + (i > 20 ? i - 20 : 0));
			t_failed++;
		} else {
			t_passed++;
		}
		/* and it parses back into the same snapshot */
		struct vms_snapshot *back = NULL;
		char err[256] = "";
		CHECK(vms_json_parse_snapshot(got, len, &back, err, sizeof err) == VMS_OK);
		if (back) {
			CHECK_EQ_U64(back->n_regions, s->n_regions);
			CHECK_EQ_U64(back->n_allocations, s->n_allocations);
			for (int c = 0; c < VMS_COL_COUNT; c++)
				CHECK_EQ_U64(back->total[c], s->total[c]);
			/* every field survives the import: written again, the same text */
			char *again = NULL;
			size_t alen = 0;
			CHECK(vms_json_write_snapshot(back, opts, &again, &alen) == VMS_OK);
			if (again && (alen != len || memcmp(again, got, len))) {
				size_t i = 0;
				while (i < len && again[i] == got[i])
					i++;
				fprintf(stderr, "%s: import changes byte %zu:\n before: %.80s\n after:  %.80s\n", what, i,
				        got + (i > 20 ? i - 20 : 0), again + (i > 20 ? i - 20 : 0));
				t_failed++;
			}
			free(again);
		} else {
			fprintf(stderr, "%s: parse back failed: %s\n", what, err);
		}
		vms_snapshot_free(back);
	}
	cJSON_free(want);
	cJSON_Delete(tree);
	free(got);
}

static void compare_diff(const struct vms_snapshot *a, const struct vms_snapshot *b, const char *what)
{
	struct vms_diff d;
	CHECK(vms_diff_compute(a, b, &d) == VMS_OK);
	cJSON *tree = vms_json_diff(&d);
	char *want = tree ? cJSON_PrintUnformatted(tree) : NULL;
	char *got = NULL;
	size_t len = 0;
	CHECK(vms_json_write_diff(&d, NULL, &got, &len) == VMS_OK);
	CHECK(want && got && len == strlen(got));
	if (want && got && strcmp(want, got)) {
		size_t i = 0;
		while (want[i] && want[i] == got[i])
			i++;
		fprintf(stderr, "%s: differs at byte %zu:\n cJSON: %.80s\n ours:  %.80s\n", what, i,
			want + (i > 20 ? i - 20 : 0), got + (i > 20 ? i - 20 : 0));
		t_failed++;
	} else if (want && got) {
		t_passed++;
	}
	free(got);
	/* extra members land inside the object and keep it valid JSON */
	CHECK(vms_json_write_diff(&d, "\"from_id\":1,\"to_id\":2", &got, &len) == VMS_OK);
	cJSON *back = got ? cJSON_Parse(got) : NULL;
	CHECK(back && cJSON_GetNumberValue(cJSON_GetObjectItem(back, "to_id")) == 2.0);
	CHECK(back && cJSON_GetArraySize(cJSON_GetObjectItem(back, "regions")) == (int)d.n_regions);
	cJSON_Delete(back);
	free(got);
	cJSON_free(want);
	cJSON_Delete(tree);
	vms_diff_free(&d);
}

/* The streaming path (allocations written while smaps is still being read) must produce the
 * same document as writing the finished snapshot. */
struct collected {
	char *buf;
	size_t len;
	struct vms_json_stream *st;
};

static int collect(void *cookie, const char *buf, size_t len)
{
	struct collected *c = cookie;
	char *n = realloc(c->buf, c->len + len + 1);
	if (!n)
		return -1;
	memcpy(n + c->len, buf, len);
	c->buf = n;
	c->len += len;
	c->buf[c->len] = '\0';
	return 0;
}

static void on_begin(void *cookie, const struct vms_snapshot *s)
{
	vms_json_stream_begin(((struct collected *)cookie)->st, s);
}

static void on_allocation(void *cookie, const struct vms_snapshot *s, size_t i)
{
	vms_json_stream_allocation(((struct collected *)cookie)->st, s, i);
}

static void check_streamed_scan(void)
{
	struct collected c = {0};
	c.st = vms_json_stream_new(NULL, collect, &c);
	struct vms_snapshot_opts opts = {.read_rollup = 1, .thread_stacks = 1, .on_begin = on_begin,
					 .on_allocation = on_allocation, .cookie = &c};
	struct vms_snapshot *s = NULL;
	CHECK(c.st && vms_snapshot_take(getpid(), &opts, &s) == VMS_OK);
	if (s) {
		CHECK(vms_json_stream_end(c.st, s) == VMS_OK);
		char *whole = NULL;
		size_t len = 0;
		CHECK(vms_json_write_snapshot(s, NULL, &whole, &len) == VMS_OK);
		CHECK(whole && c.buf && len == c.len && !memcmp(whole, c.buf, len));
		free(whole);
	} else {
		vms_json_stream_free(c.st);
	}
	vms_snapshot_free(s);
	free(c.buf);
}

int main(void)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/odd64.smaps", getenv("VMSCOPE_FIXTURES") ? getenv("VMSCOPE_FIXTURES") : "tests/fixtures");
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		return 2;
	}
	static char text[1 << 20];
	size_t n = fread(text, 1, sizeof text, f);
	fclose(f);

	struct vms_snapshot *s = vms_snapshot_new();
	CHECK(vms_smaps_parse(s, text, n) == VMS_OK);
	s->user_top = 0x7ffffffff000ull;
	s->mmap_min_addr = 0x10000;
	s->pid = 4242;
	s->page_size = 4096;
	s->cmdline = "server \"quoted\" \\ tab\there \x01 caf\xc3\xa9 bad\xff";
	struct vms_classify_ctx ctx = {.shmem_minor = 1, .heap_max = 64u << 20, .main_tid = 1};
	CHECK(vms_classify(s, &ctx) == VMS_OK);
	compare(s, NULL, "fixture");
	struct vms_json_opts omit = {.omit_cmdline = 1};
	compare(s, &omit, "fixture without cmdline");

	struct vms_snapshot *live = NULL, *live2 = NULL;
	CHECK(vms_snapshot_take(getpid(), NULL, &live) == VMS_OK);
	if (live)
		compare(live, NULL, "live self");
	/* a change between two scans of this process: a new mapping, touched */
	char *m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(m != MAP_FAILED);
	if (m != MAP_FAILED)
		memset(m, 1, 1 << 20);
	CHECK(vms_snapshot_take(getpid(), NULL, &live2) == VMS_OK);
	if (live && live2) {
		compare_diff(live, live2, "diff live -> live");
		compare_diff(s, live, "diff fixture -> live (nothing in common)");
	}
	if (m != MAP_FAILED)
		munmap(m, 1 << 20);
	vms_snapshot_free(live);
	vms_snapshot_free(live2);
	vms_snapshot_free(s);
	check_streamed_scan();

	/* the attribution stage's fields: owner, signal, guess, parts, stack_note, attribution */
	struct vms_snapshot *demo = hs_demo();
	hs_attribute(demo);
	compare(demo, NULL, "attributed");
	char *t = NULL;
	size_t tl = 0;
	CHECK(vms_json_write_snapshot(demo, NULL, &t, &tl) == VMS_OK);
	CHECK(t && strstr(t, "\"tid\":0,\"owner\":\"glibc\",\"signal\":\"heap_info read\",\"guess\":false,"
	                     "\"parts\":[{\"start\":\"0x55555555c000\",\"end\":\"0x55555556c000\",\"size\":65536,"
	                     "\"details\":\"arena #1\"},{\"start\":\"0x55555556c000\"") != NULL);
	CHECK(t && strstr(t, "\"stack_allocation\":-1,\"stack_note\":\"runs on a goroutine stack in the Go heap\"}") != NULL);
	CHECK(t && strstr(t, "\"malformed_lines\":2,\"attribution\":{\"peek\":\"denied\",\"peek_note\":"
	                     "\"ptrace: permission denied\",\"recognisers\":[{\"key\":\"names\",\"claimed\":1,"
	                     "\"read_memory\":false,\"note\":null},{\"key\":\"glibc\"") != NULL);
	CHECK(t && strstr(t, "\"guess\":true,\"parts\":[{\"start\":\"0x7f0000101000\"") != NULL);
	free(t);
	vms_snapshot_free(demo);
	TEST_MAIN_END();
}
