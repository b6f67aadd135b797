/* Share links of a watch in the store (schema 8, vmscope/store_watch.h): create for a watch
 * that exists only, resolve, a watch token unknown to the snapshot share calls and a snapshot
 * token unknown to the watch's, views and limits, revoke through the one revoke call, the
 * watch's own full snapshots told apart from others, and deleting the watch deleting its links.
 * Also the timeline file reader on text (vmscope/json_timeline.h): a sample round trip and the
 * refusals (not a timeline, truncated, out of order, newer format). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "unit/handmade_snapshot.h"
#include "vmscope/error.h"
#include "vmscope/json.h"
#include "vmscope/json_timeline.h"
#include "vmscope/store.h"
#include "vmscope/store_watch.h"

static char dir[] = "/tmp/vmscope-wshare-XXXXXX";

static void test_watch_shares(void)
{
	char path[300], err[256] = "";
	struct vms_store *st = NULL;
	snprintf(path, sizeof path, "%s/shares.db", dir);
	CHECK(vms_store_open(path, NULL, &st, err, sizeof err) == VMS_OK);
	if (!st)
		return;
	struct vms_watch w = {
	    .pid = 4242, .start_time = 7, .name = "grower", .interval_ms = 1000, .retention_s = 3600};
	int64_t wid = 0, sid = 0, other = 0;
	CHECK(vms_store_watch_create(st, &w, &wid) == VMS_OK);
	struct vms_snapshot *s = hs_demo();
	CHECK(vms_store_put(st, s, VMS_SOURCE_WATCH, NULL, 0, &sid) == VMS_OK);
	CHECK(vms_store_put(st, s, VMS_SOURCE_SCAN, NULL, 0, &other) == VMS_OK);
	struct vms_sample smp;
	memset(&smp, 0, sizeof smp);
	smp.t_ms = 1700000000000;
	smp.snapshot_id = sid;
	CHECK(vms_store_sample_put(st, wid, &smp) == VMS_OK);
	CHECK(vms_store_watch_has_snapshot(st, wid, sid) == VMS_OK);
	CHECK(vms_store_watch_has_snapshot(st, wid, other) == VMS_ERR_NOT_FOUND);
	CHECK(vms_store_watch_has_snapshot(st, wid + 1, sid) == VMS_ERR_NOT_FOUND);

	struct vms_share sh, got, snap_sh;
	const struct vms_share_spec spec = {.max_views = 2};
	CHECK(vms_store_watch_share_create(st, 31337, &spec, &sh) == VMS_ERR_NOT_FOUND);
	CHECK(vms_store_watch_share_create(st, wid, &spec, &sh) == VMS_OK && sh.watch_id == wid &&
	      sh.snapshot_id == 0 && strlen(sh.token) == VMS_SHARE_TOKEN_LEN);
	CHECK(vms_store_watch_share_get(st, sh.token, &got) == VMS_OK && got.watch_id == wid &&
	      got.max_views == 2);
	CHECK(vms_store_share_get(st, sh.token, &got) == VMS_ERR_NOT_FOUND); /* not a snapshot's */
	CHECK(vms_store_share_create(st, other, 0, &snap_sh) == VMS_OK);
	CHECK(vms_store_watch_share_get(st, snap_sh.token, &got) == VMS_ERR_NOT_FOUND); /* not a watch's */
	char bad[VMS_SHARE_TOKEN_LEN + 1];
	memcpy(bad, sh.token, sizeof bad);
	bad[VMS_SHARE_TOKEN_LEN - 1] = bad[VMS_SHARE_TOKEN_LEN - 1] == 'a' ? 'b' : 'a';
	CHECK(vms_store_watch_share_get(st, bad, &got) == VMS_ERR_NOT_FOUND); /* wrong secret */
	int counted = 0;
	CHECK(vms_store_watch_share_view(st, sh.token, 1, &got, &counted) == VMS_OK && counted &&
	      got.views == 1);
	CHECK(vms_store_watch_share_view(st, sh.token, 1, &got, &counted) == VMS_OK && counted &&
	      vms_share_gone(&got, 1) == 2);
	CHECK(vms_store_watch_share_view(st, sh.token, 1, &got, &counted) == VMS_OK && !counted);
	struct vms_share *list = NULL;
	size_t n = 0;
	struct vms_share two;
	CHECK(vms_store_watch_share_create(st, wid, &(struct vms_share_spec){0}, &two) == VMS_OK);
	CHECK(vms_store_watch_share_list(st, wid, &list, &n) == VMS_OK && n == 2 && list[0].watch_id == wid);
	free(list);
	/* a list's entries name their own kind only (an uninitialised watch_id once made a snapshot
	 * link's JSON a watch's) */
	for (int k = 0; k < 3; k++)
		CHECK(vms_store_share_create(st, other, 0, &got) == VMS_OK);
	CHECK(vms_store_share_list(st, other, &list, &n) == VMS_OK && n == 4);
	for (size_t i = 0; list && i < n; i++)
		CHECK(list[i].watch_id == 0 && list[i].snapshot_id == other);
	free(list);
	CHECK(vms_store_share_revoke(st, sh.token) == VMS_OK); /* the one revoke finds a watch's */
	CHECK(vms_store_watch_share_get(st, sh.token, &got) == VMS_ERR_NOT_FOUND);
	CHECK(vms_store_share_revoke(st, sh.token) == VMS_ERR_NOT_FOUND);
	CHECK(vms_store_share_get(st, snap_sh.token, &got) == VMS_OK); /* the snapshot's stays */
	CHECK(vms_store_watch_delete(st, wid) == VMS_OK);
	CHECK(vms_store_watch_share_get(st, two.token, &got) == VMS_ERR_NOT_FOUND); /* gone with the watch */
	vms_snapshot_free(s);
	vms_store_close(st);
}

struct collected {
	int heads, samples, snaps, ends;
	struct vms_sample last;
};

static int c_head(void *arg, const struct vms_timeline_head *h)
{
	struct collected *c = arg;
	c->heads++;
	CHECK(h->pid == 77 && !strcmp(h->name, "x y") && h->interval_ms == 500);
	return VMS_OK;
}

static int c_sample(void *arg, const struct vms_sample *s, struct vms_snapshot *snap)
{
	struct collected *c = arg;
	c->samples++;
	c->snaps += snap != NULL;
	c->last = *s;
	vms_snapshot_free(snap);
	return VMS_OK;
}

static int c_end(void *arg, int64_t at_ms, const char *note)
{
	struct collected *c = arg;
	(void)at_ms;
	c->ends++;
	CHECK(!strcmp(note, "2 ticks"));
	return VMS_OK;
}

/* Read text; the error sentence into err. */
static int read_text(const char *text, struct collected *c, char *err, size_t errlen)
{
	const struct vms_timeline_sink sink = {c_head, c_sample, c_end, c};
	memset(c, 0, sizeof *c);
	*err = '\0';
	return vms_json_timeline_read(text, strlen(text), &sink, err, errlen);
}

static void test_file_reader(void)
{
	struct vms_timeline_head h = {.pid = 77, .interval_ms = 500, .started_at_ms = 1};
	snprintf(h.name, sizeof h.name, "x y");
	struct vms_sample a, b;
	memset(&a, 0, sizeof a);
	a.t_ms = 1000;
	a.summary[VMS_TYPE_HEAP].cols[VMS_COL_COMMITTED] = 4096;
	a.summary[VMS_TYPE_HEAP].blocks = 1;
	a.total[VMS_COL_COMMITTED] = 8192;
	a.vm_rss = 12345;
	a.flags = VMS_SAMPLE_GAP_BEFORE;
	b = a;
	b.t_ms = 2000;
	b.flags = 0;
	b.summary[VMS_TYPE_HEAP].cols[VMS_COL_COMMITTED] = 1u << 20;
	struct vms_snapshot *s = hs_demo();
	char *snap_text = NULL;
	size_t snap_len = 0;
	struct vms_json_opts jo = {0};
	CHECK(vms_json_write_snapshot(s, &jo, &snap_text, &snap_len) == VMS_OK);
	char *l0 = vms_json_timeline_head(&h), *l1 = vms_json_timeline_sample(&a, 0),
	     *l2 = vms_json_timeline_sample(&b, 1), *l3 = vms_json_timeline_end(3000, "2 ticks", 2, 1);
	size_t cap = strlen(l0) + strlen(l1) + strlen(l2) + snap_len + strlen(l3) + 64;
	char *doc = malloc(cap), err[300];
	snprintf(doc, cap, "%s%s{\"future_kind\":1}\n%s%s\n%s", l0, l1, l2, snap_text, l3);
	struct collected c;
	CHECK(read_text(doc, &c, err, sizeof err) == VMS_OK);
	CHECK(c.heads == 1 && c.samples == 2 && c.snaps == 1 && c.ends == 1);
	CHECK(c.last.t_ms == 2000 && c.last.summary[VMS_TYPE_HEAP].cols[VMS_COL_COMMITTED] == 1u << 20 &&
	      c.last.vm_rss == 12345 && c.last.total[VMS_COL_COMMITTED] == 8192 && c.last.flags == 0);
	/* truncated: without the end line */
	snprintf(doc, cap, "%s%s", l0, l1);
	CHECK(read_text(doc, &c, err, sizeof err) == VMS_ERR_INVALID && strstr(err, "truncated"));
	/* a full snapshot promised, none there */
	snprintf(doc, cap, "%s%s", l0, l2);
	CHECK(read_text(doc, &c, err, sizeof err) == VMS_ERR_INVALID &&
	      strstr(err, "inside a full snapshot"));
	/* out of time order */
	snprintf(doc, cap, "%s%s%s\n%s%s", l0, l2, snap_text, l1, l3);
	CHECK(read_text(doc, &c, err, sizeof err) == VMS_ERR_INVALID && strstr(err, "time order"));
	/* not a timeline: a snapshot document alone */
	CHECK(read_text(snap_text, &c, err, sizeof err) == VMS_ERR_INVALID &&
	      strstr(err, "not a vmscope timeline"));
	CHECK(read_text("", &c, err, sizeof err) == VMS_ERR_INVALID);
	CHECK(read_text("{\"format\":\"vmscope-timeline\",\"format_version\":2}\n", &c, err, sizeof err) ==
	      VMS_ERR_UNSUPPORTED);
	CHECK(read_text("{\"format\":\"vmscope-timeline\",\"format_version\":1,\"process\":{\"pid\":1,"
	                "\"name\":\"a\"},"
	                "\"interval_ms\":5}\n",
	                &c, err, sizeof err) == VMS_ERR_INVALID &&
	      strstr(err, "interval_ms"));
	snprintf(doc, cap, "%s{\"sample\":{\"t_ms\":-1,\"total\":{},\"types\":{}}}\n%s", l0, l3);
	CHECK(read_text(doc, &c, err, sizeof err) == VMS_ERR_INVALID && strstr(err, "line 2"));
	free(doc);
	free(l0);
	free(l1);
	free(l2);
	free(l3);
	free(snap_text);
	vms_snapshot_free(s);
}

int main(void)
{
	test_mkdtemp(dir);
	test_watch_shares();
	test_file_reader();
	test_rmtree(dir);
	TEST_MAIN_END();
}
