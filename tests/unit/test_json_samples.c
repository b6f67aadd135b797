/* The samples JSON written directly (server/json/json_write_samples.c) against the shape
 * docs/api.md documents ("Watches": a sample, downsampling, live updates, fewer columns): the
 * exact text of a small answer, the key order of every object, and every value read back. */
#include <cjson/cJSON.h>

#include "test.h"
#include "vmscope/error.h"
#include "vmscope/json_timeline.h"

#define MASK3 (1u << VMS_COL_COMMITTED | 1u << VMS_COL_PRIVATE | 1u << VMS_COL_TOTAL_WS)

/* A sample with heap and stack non-empty, every other type empty (so left out), values that
 * differ from field to field; i varies them from sample to sample. */
static void fill(struct vms_sample *s, int i)
{
	memset(s, 0, sizeof *s);
	s->t_ms = 1796116006800 + i * 1000;
	s->threads = 3;
	s->vm_rss = 30412800 + (uint64_t)i * 4096;
	s->vm_swap = 8192;
	s->min_flt = 7741 + (uint64_t)i;
	s->maj_flt = 2;
	const int types[] = {VMS_TYPE_HEAP, VMS_TYPE_STACK};
	for (int k = 0; k < 2; k++) {
		struct vms_type_summary *ts = &s->summary[types[k]];
		ts->blocks = (uint64_t)(k + 1);
		ts->largest = (uint64_t)(k + 1) << 20;
		ts->regions = (uint64_t)(k + 2);
		for (int c = 0; c < VMS_COL_COUNT; c++) {
			ts->cols[c] = ((uint64_t)(c + 1) << 12) * (uint64_t)(k + 1) + (uint64_t)i * 4096;
			s->total[c] += ts->cols[c];
		}
	}
	/* a value above 2^32 (cJSON's int range) printed in full */
	s->summary[VMS_TYPE_HEAP].cols[VMS_COL_SIZE] += 1ull << 40;
	s->total[VMS_COL_SIZE] += 1ull << 40;
}

/* The keys of object o, comma-separated, into buf. */
static const char *keys_of(const cJSON *o, char *buf, size_t len)
{
	size_t n = 0;
	buf[0] = '\0';
	const cJSON *m;
	cJSON_ArrayForEach(m, o)
	{
		n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? "," : "", m->string);
		if (n >= len)
			break;
	}
	return buf;
}

/* The column keys in mask, comma-separated, after prefix. */
static const char *col_keys(const char *prefix, uint32_t mask, char *buf, size_t len)
{
	size_t n = (size_t)snprintf(buf, len, "%s", prefix);
	for (int c = 0; c < VMS_COL_COUNT; c++)
		if (mask & (1u << c))
			n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? "," : "",
			                      vms_col_key((enum vms_col)c));
	return buf;
}

/* Sample o as documented: the members in order, and every value equal to s's. */
static void check_sample(const cJSON *o, const struct vms_sample *s, uint32_t mask, int bucket)
{
	char got[1024], want[1024];
	const char *head = "t_ms,gap_before,restart,snapshot_by_threshold,snapshot_id,threads,vm_rss,"
	                   "vm_swap,min_flt,maj_flt,total,types";
	snprintf(want, sizeof want, "%s%s", head, bucket ? ",samples,committed_min,committed_max" : "");
	CHECK_MSG(!strcmp(keys_of(o, got, sizeof got), want), "%s", got);
	CHECK(!strcmp(keys_of(cJSON_GetObjectItem(o, "total"), got, sizeof got),
	              col_keys("", mask, want, sizeof want)));
	CHECK(!strcmp(keys_of(cJSON_GetObjectItem(o, "types"), got, sizeof got), "heap,stack"));
	const cJSON *heap = cJSON_GetObjectItem(cJSON_GetObjectItem(o, "types"), "heap");
	CHECK_MSG(!strcmp(keys_of(heap, got, sizeof got),
	                  col_keys(mask == VMS_SAMPLE_ALL_COLUMNS ? "blocks,largest,regions" : "", mask, want,
	                           sizeof want)),
	          "%s", got);
	/* the values: through the reader of timeline files */
	struct vms_sample back;
	char why[200];
	CHECK(vms_json_sample_read(o, &back, why, sizeof why) == VMS_OK);
	CHECK(back.t_ms == s->t_ms && back.threads == s->threads && back.vm_rss == s->vm_rss &&
	      back.vm_swap == s->vm_swap && back.min_flt == s->min_flt && back.maj_flt == s->maj_flt &&
	      back.flags == (s->flags & (VMS_SAMPLE_GAP_BEFORE | VMS_SAMPLE_RESTART | VMS_SAMPLE_THRESHOLD)));
	int same = 1;
	for (int c = 0; c < VMS_COL_COUNT; c++) {
		uint64_t want_total = mask & (1u << c) ? s->total[c] : 0;
		same &= back.total[c] == want_total;
		for (int t = 0; t < VMS_TYPE_COUNT; t++)
			same &= back.summary[t].cols[c] == (mask & (1u << c) ? s->summary[t].cols[c] : 0);
	}
	for (int t = 0; t < VMS_TYPE_COUNT && mask == VMS_SAMPLE_ALL_COLUMNS; t++)
		same &= back.summary[t].blocks == s->summary[t].blocks &&
		        back.summary[t].largest == s->summary[t].largest &&
		        back.summary[t].regions == s->summary[t].regions;
	CHECK(same);
	const cJSON *sid = cJSON_GetObjectItem(o, "snapshot_id");
	CHECK(s->snapshot_id ? cJSON_IsNumber(sid) && sid->valuedouble == (double)s->snapshot_id
	                     : cJSON_IsNull(sid));
	if (bucket)
		CHECK(cJSON_GetObjectItem(o, "samples")->valuedouble == (double)s->n_merged &&
		      cJSON_GetObjectItem(o, "committed_min")->valuedouble == (double)s->committed_min &&
		      cJSON_GetObjectItem(o, "committed_max")->valuedouble == (double)s->committed_max);
}

/* One small answer, byte for byte: the documented shape at a glance. */
static void test_exact(void)
{
	struct vms_sample s;
	memset(&s, 0, sizeof s);
	s.t_ms = 1796116006800;
	s.flags = VMS_SAMPLE_GAP_BEFORE;
	s.snapshot_id = 4;
	s.threads = 1;
	s.vm_rss = 30412800;
	s.min_flt = 7741;
	s.summary[VMS_TYPE_HEAP].blocks = 1;
	s.summary[VMS_TYPE_HEAP].cols[VMS_COL_SIZE] = 135168;
	s.summary[VMS_TYPE_HEAP].cols[VMS_COL_COMMITTED] = 135168;
	s.total[VMS_COL_COMMITTED] = 135168;
	s.n_merged = 87;
	s.committed_min = 131072;
	s.committed_max = 135168;
	struct vms_samples_answer a = {.watch_id = 2,
	                               .count = 86400,
	                               .watch_state = "running",
	                               .refused = "too many requests are waiting",
	                               .bucket_ms = 86401,
	                               .samples = &s,
	                               .n = 1,
	                               .colmask = 1u << VMS_COL_COMMITTED};
	char *text = NULL;
	size_t len = 0;
	CHECK(vms_json_write_samples(&a, &text, &len) == VMS_OK);
	const char *want =
	    "{\"watch_id\":2,\"count\":86400,\"watch_state\":\"running\",\"live\":{\"waited\":false,"
	    "\"refused\":\"too many requests are waiting\"},\"downsampled\":true,\"bucket_ms\":86401,"
	    "\"samples\":[{\"t_ms\":1796116006800,\"gap_before\":true,\"restart\":false,"
	    "\"snapshot_by_threshold\":false,\"snapshot_id\":4,\"threads\":1,\"vm_rss\":30412800,"
	    "\"vm_swap\":0,\"min_flt\":7741,\"maj_flt\":0,\"total\":{\"committed\":135168},"
	    "\"types\":{\"heap\":{\"committed\":135168}},\"samples\":87,\"committed_min\":131072,"
	    "\"committed_max\":135168}]}";
	CHECK_MSG(text && len == strlen(want) && !strcmp(text, want), "\n got  %s\n want %s", text, want);
	free(text);
	/* not downsampled, nothing refused, no samples */
	struct vms_samples_answer e = {.watch_id = 3, .watch_state = "stopped", .waited = 1};
	CHECK(vms_json_write_samples(&e, &text, &len) == VMS_OK);
	CHECK_MSG(text && !strcmp(text, "{\"watch_id\":3,\"count\":0,\"watch_state\":\"stopped\",\"live\":"
	                                "{\"waited\":true,\"refused\":null},\"downsampled\":false,"
	                                "\"bucket_ms\":null,\"samples\":[]}"),
	          "%s", text);
	free(text);
}

/* Many samples, every column and three, downsampled and not: parsed back, key order and values. */
static void test_shape(void)
{
	enum { N = 40 };
	struct vms_sample s[N];
	for (int i = 0; i < N; i++) {
		fill(&s[i], i);
		s[i].flags = (unsigned)(i % 8);
		s[i].snapshot_id = i % 5 ? 0 : 100 + i;
		s[i].n_merged = (uint64_t)i + 1;
		s[i].committed_min = s[i].total[VMS_COL_COMMITTED] - 4096;
		s[i].committed_max = s[i].total[VMS_COL_COMMITTED] + 8192;
	}
	const uint32_t masks[] = {VMS_SAMPLE_ALL_COLUMNS, MASK3, 1u << VMS_COL_DIRTY};
	for (size_t m = 0; m < sizeof masks / sizeof masks[0]; m++)
		for (int bucket = 0; bucket < 2; bucket++) {
			struct vms_samples_answer a = {.watch_id = 9,
			                               .count = bucket ? 1000 : N,
			                               .watch_state = "running",
			                               .bucket_ms = bucket ? 25000 : 0,
			                               .samples = s,
			                               .n = N,
			                               .colmask = masks[m]};
			char *text = NULL, keys[512];
			size_t len = 0;
			CHECK(vms_json_write_samples(&a, &text, &len) == VMS_OK && text &&
			      strlen(text) == len);
			cJSON *j = text ? cJSON_ParseWithLength(text, len) : NULL;
			CHECK(j != NULL);
			if (!j) {
				free(text);
				continue;
			}
			CHECK(!strcmp(keys_of(j, keys, sizeof keys),
			              "watch_id,count,watch_state,live,downsampled,bucket_ms,samples"));
			CHECK(!strcmp(keys_of(cJSON_GetObjectItem(j, "live"), keys, sizeof keys),
			              "waited,refused"));
			CHECK(cJSON_GetObjectItem(j, "count")->valuedouble == (double)a.count);
			CHECK(cJSON_IsBool(cJSON_GetObjectItem(j, "downsampled")) &&
			      cJSON_IsTrue(cJSON_GetObjectItem(j, "downsampled")) == bucket);
			CHECK(bucket ? cJSON_GetObjectItem(j, "bucket_ms")->valuedouble == 25000
			             : cJSON_IsNull(cJSON_GetObjectItem(j, "bucket_ms")));
			const cJSON *arr = cJSON_GetObjectItem(j, "samples");
			CHECK(cJSON_GetArraySize(arr) == N);
			for (int i = 0; i < N && i < cJSON_GetArraySize(arr); i++)
				check_sample(cJSON_GetArrayItem(arr, i), &s[i], masks[m], bucket);
			cJSON_Delete(j);
			free(text);
		}
}

/* A timeline file's sample line: the same object without snapshot_id, with full_snapshot, and
 * a newline; it reads back. */
static void test_timeline_line(void)
{
	struct vms_sample s, back;
	char why[200], keys[512];
	fill(&s, 7);
	s.snapshot_id = 12;
	for (int full = 0; full < 2; full++) {
		char *line = vms_json_timeline_sample(&s, full);
		CHECK(line && line[strlen(line) - 1] == '\n');
		cJSON *j = line ? cJSON_Parse(line) : NULL;
		const cJSON *o = cJSON_GetObjectItem(j, "sample");
		CHECK(!strcmp(keys_of(o, keys, sizeof keys),
		              "t_ms,gap_before,restart,snapshot_by_threshold,threads,vm_rss,vm_swap,min_flt,"
		              "maj_flt,total,types,full_snapshot"));
		CHECK(cJSON_IsTrue(cJSON_GetObjectItem(o, "full_snapshot")) == full);
		CHECK(vms_json_sample_read(o, &back, why, sizeof why) == VMS_OK && back.t_ms == s.t_ms &&
		      !memcmp(back.summary, s.summary, sizeof s.summary) &&
		      !memcmp(back.total, s.total, sizeof s.total));
		cJSON_Delete(j);
		free(line);
	}
}

int main(void)
{
	test_exact();
	test_shape();
	test_timeline_line();
	TEST_MAIN_END();
}
