/* Streaming snapshot writer: the same JSON as json.c's vms_json_snapshot() printed by
 * cJSON_PrintUnformatted(), built straight into one buffer. Key order, number formatting and
 * string escaping follow cJSON 1.7.15 exactly; tests/unit/test_json_write.c holds the two
 * byte-for-byte equal. */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "textutil.h"
#include "vmscope/json.h"

#ifndef VMSCOPE_VERSION
#define VMSCOPE_VERSION "0.0.0"
#endif

static void reserve(struct vms_sb *sb, size_t n)
{
	if (sb->oom || sb->cap - sb->len > n)
		return;
	size_t cap = sb->cap ? sb->cap : 4096;
	while (cap - sb->len <= n)
		cap *= 2;
	char *b = realloc(sb->buf, cap);
	if (!b) {
		sb->oom = 1;
		return;
	}
	sb->buf = b;
	sb->cap = cap;
}

static void lit(struct vms_sb *sb, const char *s, size_t n)
{
	reserve(sb, n);
	if (sb->oom)
		return;
	memcpy(sb->buf + sb->len, s, n);
	sb->len += n;
}
#define LIT(sb, s) lit(sb, s, sizeof(s) - 1)

static void u64(struct vms_sb *sb, uint64_t v)
{
	char tmp[24];
	int i = 24;
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	lit(sb, tmp + i, (size_t)(24 - i));
}

static void i64(struct vms_sb *sb, int64_t v)
{
	if (v < 0) {
		LIT(sb, "-");
		u64(sb, (uint64_t)0 - (uint64_t)v);
	} else {
		u64(sb, (uint64_t)v);
	}
}

static void addr(struct vms_sb *sb, uint64_t v)
{
	static const char hex[] = "0123456789abcdef";
	char tmp[20];
	int i = 20;
	tmp[--i] = '"';
	do {
		tmp[--i] = hex[v & 15];
		v >>= 4;
	} while (v);
	tmp[--i] = 'x';
	tmp[--i] = '0';
	tmp[--i] = '"';
	lit(sb, tmp + i, (size_t)(20 - i));
}

/* A JSON string the way cJSON prints it: \" \\ \b \f \n \r \t, other bytes < 0x20 as \u00xx,
 * everything else verbatim (after UTF-8 repair, as json.c does). NULL prints null. */
static void str(struct vms_sb *sb, const char *s)
{
	if (!s) {
		LIT(sb, "null");
		return;
	}
	char *fixed = NULL;
	if (!vms_utf8_valid(s)) {
		fixed = vms_utf8_repair(s);
		if (!fixed) {
			sb->oom = 1;
			return;
		}
		s = fixed;
	}
	size_t n = strlen(s);
	reserve(sb, n * 6 + 2);
	if (!sb->oom) {
		char *w = sb->buf + sb->len;
		*w++ = '"';
		for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
			unsigned char c = *p;
			if (c >= 0x20 && c != '"' && c != '\\') {
				*w++ = (char)c;
				continue;
			}
			*w++ = '\\';
			switch (c) {
			case '"': *w++ = '"'; break;
			case '\\': *w++ = '\\'; break;
			case '\b': *w++ = 'b'; break;
			case '\f': *w++ = 'f'; break;
			case '\n': *w++ = 'n'; break;
			case '\r': *w++ = 'r'; break;
			case '\t': *w++ = 't'; break;
			default:
				w += sprintf(w, "u%04x", c);
				break;
			}
		}
		*w++ = '"';
		sb->len = (size_t)(w - sb->buf);
	}
	free(fixed);
}

/* ,"key": */
static void key(struct vms_sb *sb, const char *k, int first)
{
	size_t n = strlen(k);
	reserve(sb, n + 4);
	if (sb->oom)
		return;
	char *w = sb->buf + sb->len;
	if (!first)
		*w++ = ',';
	*w++ = '"';
	memcpy(w, k, n);
	w += n;
	*w++ = '"';
	*w++ = ':';
	sb->len = (size_t)(w - sb->buf);
}

/* Quoted keys with their separators, built once per call site from the name tables. */
struct keyset {
	char text[VMS_SF_COUNT][32];
	unsigned char len[VMS_SF_COUNT];
};

static void keyset_init(struct keyset *ks, const char *(*name)(int), int n)
{
	for (int i = 0; i < n; i++) {
		int w = snprintf(ks->text[i], sizeof ks->text[i], "%s\"%s\":", i ? "," : "", name(i));
		ks->len[i] = (unsigned char)w;
	}
}

static const char *col_key_i(int i)
{
	return vms_col_key((enum vms_col)i);
}
static const char *sf_key_i(int i)
{
	return vms_smaps_field_key((enum vms_smaps_field)i);
}

/* Writes {"k":v,...} for n fixed keys; reserve() must have made room (n * 56 bytes). */
static char *put_fixed(char *w, const struct keyset *ks, const uint64_t *v, int n)
{
	*w++ = '{';
	for (int i = 0; i < n; i++) {
		memcpy(w, ks->text[i], ks->len[i]);
		w += ks->len[i];
		char tmp[24];
		int j = 24;
		uint64_t x = v[i];
		do {
			tmp[--j] = (char)('0' + x % 10);
			x /= 10;
		} while (x);
		memcpy(w, tmp + j, (size_t)(24 - j));
		w += 24 - j;
	}
	*w++ = '}';
	return w;
}

static struct keyset col_keys, sf_keys;
static pthread_once_t keys_once = PTHREAD_ONCE_INIT;
static void keys_init(void)
{
	keyset_init(&col_keys, col_key_i, VMS_COL_COUNT);
	keyset_init(&sf_keys, sf_key_i, VMS_SF_COUNT);
}

static void columns(struct vms_sb *sb, const char *k, const uint64_t cols[VMS_COL_COUNT])
{
	key(sb, k, 0);
	reserve(sb, VMS_COL_COUNT * 56 + 2);
	if (sb->oom)
		return;
	sb->len = (size_t)(put_fixed(sb->buf + sb->len, &col_keys, cols, VMS_COL_COUNT) - sb->buf);
}

static void region(struct vms_sb *sb, const struct vms_region *r)
{
	char dev[24];
	LIT(sb, "{\"start\":");
	addr(sb, r->start);
	LIT(sb, ",\"end\":");
	addr(sb, r->end);
	LIT(sb, ",\"size\":");
	u64(sb, r->end - r->start);
	LIT(sb, ",\"perms\":");
	str(sb, r->perms);
	LIT(sb, ",\"offset\":");
	addr(sb, r->offset);
	snprintf(dev, sizeof dev, "%02x:%02x", r->dev_major, r->dev_minor);
	LIT(sb, ",\"dev\":");
	str(sb, dev);
	LIT(sb, ",\"inode\":");
	u64(sb, r->inode);
	LIT(sb, ",\"path\":");
	str(sb, r->path);
	if (r->deleted)
		LIT(sb, ",\"deleted\":true,\"role\":");
	else
		LIT(sb, ",\"deleted\":false,\"role\":");
	str(sb, r->role);
	LIT(sb, ",\"smaps\":");
	reserve(sb, VMS_SF_COUNT * 56 + 2);
	if (sb->oom)
		return;
	sb->len = (size_t)(put_fixed(sb->buf + sb->len, &sf_keys, r->smaps, VMS_SF_COUNT) - sb->buf);
	LIT(sb, ",\"thp_eligible\":");
	if (r->thp_eligible < 0)
		LIT(sb, "null");
	else
		i64(sb, r->thp_eligible);
	LIT(sb, ",\"protection_key\":");
	if (r->protection_key < 0)
		LIT(sb, "null");
	else
		i64(sb, r->protection_key);
	LIT(sb, ",\"vm_flags\":");
	str(sb, r->vm_flags ? r->vm_flags : "");
	columns(sb, "columns", r->cols);
	LIT(sb, "}");
}

#define FLUSH_AT (1u << 20)

struct vms_json_stream {
	struct vms_sb sb;
	vms_json_sink_fn fn; /* NULL: keep everything in sb */
	void *cookie;
	int omit_cmdline;
	int failed;          /* fn reported an error */
	size_t n_written;    /* allocations written so far */
};

/* With a sink, hand over what is buffered once it passes FLUSH_AT (or always when force). */
static void flush(struct vms_json_stream *st, int force)
{
	struct vms_sb *sb = &st->sb;
	if (!st->fn || sb->oom || (!force && sb->len < FLUSH_AT))
		return;
	if (!st->failed && sb->len && st->fn(st->cookie, sb->buf, sb->len) != 0)
		st->failed = 1;
	sb->len = 0;
}

struct vms_json_stream *vms_json_stream_new(const struct vms_json_opts *opts, vms_json_sink_fn fn, void *cookie)
{
	struct vms_json_stream *st = calloc(1, sizeof *st);
	if (!st)
		return NULL;
	st->fn = fn;
	st->cookie = cookie;
	st->omit_cmdline = opts && opts->omit_cmdline;
	pthread_once(&keys_once, keys_init);
	if (fn)
		reserve(&st->sb, FLUSH_AT + 64 * 1024);
	return st;
}

void vms_json_stream_begin(struct vms_json_stream *st, const struct vms_snapshot *s)
{
	struct vms_sb *sb = &st->sb;
	char tbuf[40];
	const struct vms_status *stt = &s->status;

	if (!st->fn)
		reserve(sb, 2048 + s->n_regions * 1100 + s->n_allocations * 400);
	LIT(sb, "{\"format_version\":");
	i64(sb, VMS_FORMAT_VERSION);
	LIT(sb, ",\"generator\":");
	str(sb, "vmscope " VMSCOPE_VERSION);
	LIT(sb, ",\"host\":");
	str(sb, s->host);
	LIT(sb, ",\"kernel\":");
	str(sb, s->kernel);
	vms_format_time_ms(s->taken_at_ms, tbuf, sizeof tbuf);
	LIT(sb, ",\"taken_at\":");
	str(sb, tbuf);
	LIT(sb, ",\"taken_at_ms\":");
	i64(sb, s->taken_at_ms);

	LIT(sb, ",\"process\":{\"pid\":");
	i64(sb, s->pid);
	LIT(sb, ",\"ppid\":");
	i64(sb, s->ppid);
	LIT(sb, ",\"name\":");
	str(sb, s->name);
	LIT(sb, ",\"cmdline\":");
	str(sb, st->omit_cmdline ? NULL : s->cmdline);
	LIT(sb, ",\"user\":");
	str(sb, s->user);
	LIT(sb, ",\"uid\":");
	u64(sb, s->uid);
	LIT(sb, ",\"start_time_ticks\":");
	u64(sb, s->start_time);
	LIT(sb, ",\"arch\":{\"bits\":");
	i64(sb, s->arch.bits);
	LIT(sb, ",\"machine\":");
	str(sb, s->arch.machine ? s->arch.machine : "unknown");
	LIT(sb, "}}");

	LIT(sb, ",\"page_size\":");
	u64(sb, s->page_size);
	LIT(sb, ",\"mmap_min_addr\":");
	addr(sb, s->mmap_min_addr);

	const struct {
		const char *k;
		uint64_t v;
	} status[] = {
		{"vm_size", stt->vm_size}, {"vm_rss", stt->vm_rss}, {"rss_anon", stt->rss_anon},
		{"rss_file", stt->rss_file}, {"rss_shmem", stt->rss_shmem}, {"vm_swap", stt->vm_swap},
		{"vm_pte", stt->vm_pte}, {"vm_lck", stt->vm_lck}, {"vm_hwm", stt->vm_hwm},
		{"vm_data", stt->vm_data}, {"vm_stk", stt->vm_stk},
	};
	LIT(sb, ",\"status\":{");
	for (size_t i = 0; i < sizeof status / sizeof status[0]; i++) {
		key(sb, status[i].k, i == 0);
		u64(sb, status[i].v);
	}
	LIT(sb, ",\"threads\":");
	i64(sb, stt->threads);
	LIT(sb, "}");
	LIT(sb, ",\"allocations\":[");
}

void vms_json_stream_allocation(struct vms_json_stream *st, const struct vms_snapshot *s, size_t index)
{
	struct vms_sb *sb = &st->sb;
	const struct vms_allocation *a = &s->allocations[index];
	if (st->n_written++)
		LIT(sb, ",");
	LIT(sb, "{\"start\":");
	addr(sb, a->start);
	LIT(sb, ",\"end\":");
	addr(sb, a->end);
	LIT(sb, ",\"size\":");
	u64(sb, a->end - a->start);
	LIT(sb, ",\"type\":");
	str(sb, vms_type_key(a->type));
	LIT(sb, ",\"details\":");
	str(sb, a->details);
	LIT(sb, ",\"tid\":");
	i64(sb, a->tid);
	columns(sb, "columns", a->cols);
	LIT(sb, ",\"regions\":[");
	for (uint32_t j = 0; j < a->n_regions; j++) {
		size_t ri = (size_t)a->first_region + j;
		if (ri >= s->n_regions)
			break;
		if (j)
			LIT(sb, ",");
		region(sb, &s->regions[ri]);
	}
	LIT(sb, "]}");
	flush(st, 0);
}

/* Finish the document. With a sink everything has been handed over; without one, *out gets
 * the text. Frees st. */
static int stream_end(struct vms_json_stream *st, const struct vms_snapshot *s, char **out, size_t *len)
{
	struct vms_sb *sb = &st->sb;
	LIT(sb, "],\"user_top\":");
	addr(sb, s->user_top);
	LIT(sb, ",\"free\":[");
	for (size_t i = 0; i < s->n_gaps; i++) {
		if (i)
			LIT(sb, ",");
		LIT(sb, "{\"start\":");
		addr(sb, s->gaps[i].start);
		LIT(sb, ",\"end\":");
		addr(sb, s->gaps[i].end);
		LIT(sb, ",\"size\":");
		u64(sb, s->gaps[i].end - s->gaps[i].start);
		LIT(sb, "}");
	}
	LIT(sb, "],\"threads\":[");
	for (size_t i = 0; i < s->n_threads; i++) {
		const struct vms_thread *t = &s->threads[i];
		if (i)
			LIT(sb, ",");
		LIT(sb, "{\"tid\":");
		i64(sb, t->tid);
		LIT(sb, ",\"name\":");
		str(sb, t->name);
		LIT(sb, ",\"sp\":");
		addr(sb, t->sp);
		LIT(sb, ",\"stack_allocation\":");
		i64(sb, t->stack_allocation);
		LIT(sb, "}");
	}
	LIT(sb, "],\"thread_note\":");
	str(sb, s->thread_note);

	LIT(sb, ",\"summary\":[");
	for (int t = 0; t < VMS_TYPE_COUNT; t++) {
		const struct vms_type_summary *ts = &s->summary[t];
		if (t)
			LIT(sb, ",");
		LIT(sb, "{\"type\":");
		str(sb, vms_type_key((enum vms_type)t));
		LIT(sb, ",\"name\":");
		str(sb, vms_type_name((enum vms_type)t));
		LIT(sb, ",\"blocks\":");
		u64(sb, ts->blocks);
		LIT(sb, ",\"largest\":");
		u64(sb, ts->largest);
		LIT(sb, ",\"regions\":");
		u64(sb, ts->regions);
		columns(sb, "columns", ts->cols);
		LIT(sb, "}");
	}
	LIT(sb, "]");
	columns(sb, "total", s->total);

	if (!s->has_rollup) {
		LIT(sb, ",\"rollup\":null");
	} else {
		LIT(sb, ",\"rollup\":{");
		int first = 1;
		for (int f = 0; f < VMS_SF_COUNT; f++) {
			if (f == VMS_SF_SIZE || f == VMS_SF_KERNEL_PAGE_SIZE || f == VMS_SF_MMU_PAGE_SIZE)
				continue;
			key(sb, vms_smaps_field_key((enum vms_smaps_field)f), first);
			first = 0;
			u64(sb, s->rollup[f]);
		}
		LIT(sb, "}");
	}
	LIT(sb, ",\"malformed_lines\":");
	u64(sb, s->malformed_lines);
	LIT(sb, "}");
	flush(st, 1);
	int err = sb->oom ? VMS_ERR_NOMEM : st->failed ? VMS_ERR_IO : VMS_OK;
	if (!err && !st->fn)
		err = vms_sb_finish(sb, out, len);
	else
		vms_sb_free(sb);
	free(st);
	return err;
}

int vms_json_stream_end(struct vms_json_stream *st, const struct vms_snapshot *s)
{
	return stream_end(st, s, NULL, NULL);
}

void vms_json_stream_free(struct vms_json_stream *st)
{
	if (!st)
		return;
	vms_sb_free(&st->sb);
	free(st);
}

static int write_whole(const struct vms_snapshot *s, const struct vms_json_opts *opts, vms_json_sink_fn fn,
		       void *cookie, char **out, size_t *len)
{
	struct vms_json_stream *st = vms_json_stream_new(opts, fn, cookie);
	if (!st)
		return VMS_ERR_NOMEM;
	vms_json_stream_begin(st, s);
	for (size_t i = 0; i < s->n_allocations; i++)
		vms_json_stream_allocation(st, s, i);
	return stream_end(st, s, out, len);
}

int vms_json_write_snapshot(const struct vms_snapshot *s, const struct vms_json_opts *opts, char **out, size_t *len)
{
	*out = NULL;
	return write_whole(s, opts, NULL, NULL, out, len);
}

int vms_json_stream_snapshot(const struct vms_snapshot *s, const struct vms_json_opts *opts, vms_json_sink_fn fn,
			     void *cookie)
{
	return write_whole(s, opts, fn, cookie, NULL, NULL);
}
