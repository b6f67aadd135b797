/* The captured JSON of a scan (contract in json_capture.h). The first pass grows one buffer and
 * keeps the end offset of the header and of every allocation. After a restart the new stream
 * writes into a second buffer, and the document becomes a list of segments: new text, and the
 * first pass's text of every allocation the attribution stage left alone (referenced, not
 * copied: on a 60,000-VMA process that is most of 64 MiB). */
#include "vmscope/json_capture.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "vmscope/error.h"
#include "vmscope/json.h"
#include "vmscope/util.h"

struct text {
	char *buf; /* mmap'd (text_grow), not malloc'd */
	size_t len, cap;
	size_t populated;  /* bytes from buf on prefaulted (text_grow) */
	size_t header_end; /* offset after the header */
	size_t *end;       /* offset after allocation i */
	size_t n_end, cap_end;
};

struct segment {
	int before; /* 1: in the first pass's text, 0: in the current text */
	size_t off, len;
};

struct vms_json_capture {
	struct vms_json_stream *st;
	struct text now;         /* what the current stream has written */
	struct text before;      /* the first pass, kept after a restart */
	const long *streamed_as; /* during a restart: final allocation -> first-pass index or -1 */
	struct segment *seg;     /* after a restart: the document in order */
	size_t n_seg, cap_seg;
	size_t seg_start; /* start of the current text not yet in a segment */
	int oom;
	unsigned restarts;
	size_t copied;
};

static void text_free(struct text *t)
{
	if (t->buf)
		munmap(t->buf, t->cap);
	free(t->end);
	memset(t, 0, sizeof *t);
}

#define PREFAULT_STEP (256u << 10)

/* Make [populated, upto) (rounded up to PREFAULT_STEP, within cap) writable pages now: one
 * system call instead of a page fault per 4 KiB as the text is written (a chromium browser's
 * ~1 MiB of JSON took ~330 faults). Best effort: where MADV_POPULATE_WRITE is unknown (before
 * Linux 5.14) the pages fault in as before. */
static void prefault(struct text *t, size_t upto)
{
	size_t to = (upto + PREFAULT_STEP - 1) / PREFAULT_STEP * PREFAULT_STEP;
	if (to > t->cap)
		to = t->cap;
	if (to > t->populated && madvise(t->buf + t->populated, to - t->populated, MADV_POPULATE_WRITE) != 0)
		to = t->cap; /* not supported: do not ask again */
	t->populated = to;
}

/* Room for len more bytes. The text of a 60,000-VMA scan is 64 MiB written once: an anonymous
 * mapping grown by mremap (no copy) with transparent huge pages asked for takes one page fault
 * per 2 MiB instead of 16,000 at 4 KiB (measured: 29,000 -> 12,700 faults a scan, about 40 ms of
 * a 270 ms scan; docs/benchmarks.md). The first pass starts at 2 MiB, a huge page: a browser's
 * ~1 MiB of JSON is written while the kernel still generates smaps, and one 2 MiB page costs
 * less than 256 pages of 4 KiB (Linux 6.7 and later place a 2 MiB anonymous mapping on a 2 MiB
 * boundary; earlier kernels, Debian 12's 6.1 among them, may not, and it then has small pages,
 * as before). The text after a restart (only what the attribution stage changed, written after
 * smaps ended) starts at 256 KiB of small pages: it is mostly references to the first pass, and
 * populating a second huge page for it would clear 2 MiB on the scan's tail (the two passes'
 * MADV_POPULATE_WRITE was ~3 % of a browser scan's perf samples with both on huge pages). */
#define FIRST_PASS_CAP (2u << 20)
#define RESTART_CAP (256u << 10)
static int text_grow(struct text *t, size_t len, size_t first_cap)
{
	if (t->len + len <= t->cap) {
		if (t->len + len > t->populated)
			prefault(t, t->len + len);
		return 0;
	}
	size_t cap = t->cap ? t->cap : first_cap;
	while (cap < t->len + len)
		cap *= 2;
	char *g = t->buf ? mremap(t->buf, t->cap, cap, MREMAP_MAYMOVE)
	                 : mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g == MAP_FAILED)
		return -1;
	if (cap >= FIRST_PASS_CAP) /* a hint: where THP is off nothing changes */
		(void)madvise(g, cap, MADV_HUGEPAGE);
	t->buf = g;
	t->cap = cap;
	prefault(t, t->len + len);
	return 0;
}

static int sink(void *cookie, const char *buf, size_t len)
{
	struct vms_json_capture *c = cookie;
	struct text *t = &c->now;
	if (text_grow(t, len, c->restarts ? RESTART_CAP : FIRST_PASS_CAP) != 0) {
		c->oom = 1;
		return -1;
	}
	memcpy(t->buf + t->len, buf, len);
	t->len += len;
	return 0;
}

static void push_segment(struct vms_json_capture *c, int before, size_t off, size_t len)
{
	if (!len)
		return;
	if (VMS_GROW(c->seg, c->n_seg, c->cap_seg, 1024)) {
		c->oom = 1;
		return;
	}
	c->seg[c->n_seg++] = (struct segment){.before = before, .off = off, .len = len};
}

static void mark_allocation_end(struct vms_json_capture *c)
{
	struct text *t = &c->now;
	vms_json_stream_flush(c->st);
	if (VMS_GROW(t->end, t->n_end, t->cap_end, 1024)) {
		c->oom = 1;
		return;
	}
	t->end[t->n_end++] = t->len;
}

/* Place bytes [from, from + len) of the first pass's text after what the current stream wrote. */
static void copy_before(struct vms_json_capture *c, size_t from, size_t len)
{
	push_segment(c, 0, c->seg_start, c->now.len - c->seg_start);
	push_segment(c, 1, from, len);
	c->seg_start = c->now.len;
}

static void on_begin(void *cookie, const struct vms_snapshot *s)
{
	struct vms_json_capture *c = cookie;
	if (!c->st)
		return;
	vms_json_stream_begin(c->st, s);
	vms_json_stream_flush(c->st);
	c->now.header_end = c->now.len;
}

static void on_allocation(void *cookie, const struct vms_snapshot *s, size_t index)
{
	struct vms_json_capture *c = cookie;
	if (!c->st)
		return;
	long was = c->streamed_as ? c->streamed_as[index] : -1;
	if (was >= 0 && (size_t)was < c->before.n_end) {
		const struct text *b = &c->before;
		size_t from = was ? b->end[was - 1] : b->header_end;
		if (from < b->end[was] && b->buf[from] == ',')
			from++; /* the stream writes the separator it needs */
		vms_json_stream_external_allocation(c->st);
		struct segment *last = c->n_seg ? &c->seg[c->n_seg - 1] : NULL;
		if (last && last->before && from > 0 && last->off + last->len == from - 1 &&
		    c->now.len == c->seg_start + 1 && c->now.buf[c->seg_start] == ',' &&
		    b->buf[from - 1] == ',') {
			/* the previous allocation was copied too and nothing came between: one longer
			 * run of the first pass's text, its own comma included (one write, not two) */
			c->now.len = c->seg_start;
			last->len = b->end[was] - last->off;
			c->seg_start = c->now.len;
		} else {
			copy_before(c, from, b->end[was] - from);
		}
		c->copied++;
	} else {
		vms_json_stream_allocation(c->st, s, index);
	}
	if (!c->streamed_as)
		mark_allocation_end(c); /* the first pass: remember where each allocation ends */
}

static void on_restart(void *cookie, const long *streamed_as, size_t n)
{
	struct vms_json_capture *c = cookie;
	(void)n;
	if (c->restarts++) { /* a second restart: the first pass's text is what `now` holds */
		c->oom = 1;
		return;
	}
	vms_json_stream_flush(c->st);
	c->before = c->now;
	memset(&c->now, 0, sizeof c->now);
	c->streamed_as = streamed_as; /* valid until vms_snapshot_take returns: only used before */
	vms_json_stream_free(c->st);
	c->st = vms_json_stream_new(NULL, sink, c);
}

struct vms_json_capture *vms_json_capture_new(void)
{
	struct vms_json_capture *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->st = vms_json_stream_new(NULL, sink, c);
	if (!c->st) {
		free(c);
		return NULL;
	}
	return c;
}

void vms_json_capture_hook(struct vms_json_capture *c, struct vms_snapshot_opts *opts)
{
	opts->on_begin = on_begin;
	opts->on_allocation = on_allocation;
	opts->on_restart = on_restart;
	opts->cookie = c;
}

int vms_json_capture_write(struct vms_json_capture *c, const struct vms_snapshot *s, FILE *out)
{
	c->streamed_as = NULL;
	if (!c->st)
		return VMS_ERR_NOMEM; /* a restarted stream could not be set up again */
	int err = vms_json_stream_end(c->st, s);
	c->st = NULL;
	push_segment(c, 0, c->seg_start, c->now.len - c->seg_start);
	c->seg_start = c->now.len;
	if (!err && c->oom)
		err = VMS_ERR_NOMEM;
	for (size_t i = 0; !err && i < c->n_seg; i++) {
		const struct segment *g = &c->seg[i];
		const char *base = g->before ? c->before.buf : c->now.buf;
		if (fwrite(base + g->off, 1, g->len, out) != g->len)
			err = VMS_ERR_IO;
	}
	if (!err && fputc('\n', out) == EOF)
		err = VMS_ERR_IO;
	return err;
}

void vms_json_capture_free(struct vms_json_capture *c)
{
	if (!c)
		return;
	vms_json_stream_free(c->st);
	text_free(&c->now);
	text_free(&c->before);
	free(c->seg);
	free(c);
}

void vms_json_capture_stats(const struct vms_json_capture *c, unsigned *restarts, size_t *copied)
{
	*restarts = c->restarts;
	*copied = c->copied;
}
