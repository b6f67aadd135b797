/* Strings in a range of a live process (vmscope/pages.h), VMMap's View -> Strings: printable
 * ASCII and UTF-16LE runs of at least min_chars, read with process_vm_readv from the pages
 * residency says are in RAM (nothing is faulted in or swapped in), a page at a time where a
 * read fails (guard pages, protections changed meanwhile), at most max_bytes per call. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/uio.h>
#include <unistd.h>

#include "vmscope/error.h"
#include "vmscope/pages.h"

#define DEF_MIN 8
#define DEF_MAX 1024
#define DEF_BYTES (16ull << 20)
#define CHUNK (64u << 10)

/* Where matches go: counted, filtered and paged (the reader) or all kept (the buffer scan). */
struct sink {
	struct vms_strings *out;
	size_t cap;
	const char *contains;
	size_t offset, limit;
	int err;
};

/* One encoding's run in progress. */
struct run {
	uint64_t addr; /* of its first byte; valid when n > 0 */
	unsigned n;
	char *text; /* max_chars + 1 */
};

struct scanner {
	const struct vms_strings_opts *o;
	unsigned min, max;
	struct run a, u;
	uint64_t next;    /* the address the next byte must have to continue a run */
	int have_prev;    /* a byte was fed before: next is meaningful */
	unsigned char lo; /* UTF-16: the low byte waiting for its high byte */
	int lo_pending;
	uint64_t lo_addr;
	struct sink *sink;
};

static int printable(unsigned char c)
{
	return (c >= 0x20 && c < 0x7f) || c == '\t';
}

static void put(struct sink *k, const struct run *r, enum vms_string_enc enc)
{
	if (k->err)
		return;
	if (k->contains && *k->contains) {
		size_t m = strlen(k->contains);
		int hit = 0;
		for (unsigned i = 0; i + m <= r->n && !hit; i++)
			hit = !strncasecmp(r->text + i, k->contains, m);
		if (!hit)
			return;
	}
	size_t idx = k->out->total++;
	if (idx < k->offset || (k->limit && idx - k->offset >= k->limit))
		return;
	if (k->out->n == k->cap) {
		size_t nc = k->cap ? k->cap * 2 : 64;
		struct vms_string *g = realloc(k->out->v, nc * sizeof *g);
		if (!g) {
			k->err = VMS_ERR_NOMEM;
			return;
		}
		k->out->v = g;
		k->cap = nc;
	}
	char *t = malloc(r->n + 1);
	if (!t) {
		k->err = VMS_ERR_NOMEM;
		return;
	}
	memcpy(t, r->text, r->n);
	t[r->n] = '\0';
	k->out->v[k->out->n++] =
	    (struct vms_string){.addr = r->addr, .chars = r->n, .enc = (uint8_t)enc, .text = t};
}

static void end_run(struct scanner *s, struct run *r, enum vms_string_enc enc)
{
	if (r->n >= s->min)
		put(s->sink, r, enc);
	r->n = 0;
}

static void add(struct scanner *s, struct run *r, enum vms_string_enc enc, uint64_t addr, char c)
{
	if (r->n == s->max) /* cut: the rest continues as a new string */
		end_run(s, r, enc);
	if (!r->n)
		r->addr = addr;
	r->text[r->n++] = c;
}

static void flush(struct scanner *s)
{
	end_run(s, &s->a, VMS_STR_ASCII);
	end_run(s, &s->u, VMS_STR_UTF16LE);
	s->lo_pending = 0;
	s->have_prev = 0;
}

static void feed(struct scanner *s, const unsigned char *buf, size_t len, uint64_t base)
{
	if (s->have_prev && base != s->next)
		flush(s);
	int ascii = s->o->encodings & VMS_STR_ASCII, utf16 = s->o->encodings & VMS_STR_UTF16LE;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = buf[i];
		uint64_t addr = base + i;
		if (ascii) {
			if (printable(c))
				add(s, &s->a, VMS_STR_ASCII, addr, (char)c);
			else
				end_run(s, &s->a, VMS_STR_ASCII);
		}
		if (utf16) { /* code units at even addresses */
			if (!(addr & 1)) {
				s->lo = c;
				s->lo_addr = addr;
				s->lo_pending = 1;
			} else if (s->lo_pending) {
				s->lo_pending = 0;
				if (c == 0 && printable(s->lo))
					add(s, &s->u, VMS_STR_UTF16LE, s->lo_addr, (char)s->lo);
				else
					end_run(s, &s->u, VMS_STR_UTF16LE);
			}
		}
	}
	s->next = base + len;
	s->have_prev = 1;
}

static int scanner_init(struct scanner *s, const struct vms_strings_opts *o, struct vms_strings_opts *copy,
                        struct sink *k)
{
	memset(s, 0, sizeof *s);
	*copy = o ? *o : (struct vms_strings_opts){0};
	if (!copy->encodings)
		copy->encodings = VMS_STR_ASCII | VMS_STR_UTF16LE;
	s->o = copy;
	s->min = copy->min_chars ? copy->min_chars : DEF_MIN;
	s->max = copy->max_chars ? copy->max_chars : DEF_MAX;
	if (s->max < s->min)
		s->max = s->min;
	s->sink = k;
	s->a.text = malloc(s->max + 1);
	s->u.text = malloc(s->max + 1);
	return s->a.text && s->u.text ? 0 : VMS_ERR_NOMEM;
}

static void scanner_done(struct scanner *s)
{
	free(s->a.text);
	free(s->u.text);
}

int vms_strings_scan(const unsigned char *buf, size_t len, uint64_t base, const struct vms_strings_opts *opts,
                     struct vms_strings *out)
{
	struct scanner s;
	struct vms_strings_opts o;
	struct sink k = {.out = out, .cap = out->n};
	int err = scanner_init(&s, opts, &o, &k);
	if (!err) {
		feed(&s, buf, len, base);
		flush(&s);
		err = k.err;
	}
	scanner_done(&s);
	return err;
}

/* Read [addr, addr + len) of pid into buf: a page at a time when the whole read fails, feeding
 * what was read. 0, or VMS_ERR_PERMISSION / VMS_ERR_EXITED (reading must stop). */
static int read_feed(struct scanner *s, pid_t pid, uint64_t addr, size_t len, unsigned char *buf, uint64_t ps,
                     struct vms_strings *out)
{
	struct iovec l = {buf, len}, r = {(void *)(uintptr_t)addr, len};
	ssize_t got = process_vm_readv(pid, &l, 1, &r, 1, 0);
	if (got < 0 && (errno == EPERM || errno == EACCES))
		return VMS_ERR_PERMISSION;
	if (got < 0 && errno == ESRCH)
		return VMS_ERR_EXITED;
	if (got == (ssize_t)len) {
		feed(s, buf, len, addr);
		out->bytes_read += len;
		return 0;
	}
	for (uint64_t a = addr; a < addr + len; a += ps) { /* skip what cannot be read */
		struct iovec l1 = {buf, ps}, r1 = {(void *)(uintptr_t)a, ps};
		if (process_vm_readv(pid, &l1, 1, &r1, 1, 0) == (ssize_t)ps) {
			feed(s, buf, ps, a);
			out->bytes_read += ps;
		}
	}
	return 0;
}

int vms_strings_read(pid_t pid, uint64_t start, uint64_t end, const struct vms_strings_opts *opts,
                     struct vms_strings *out)
{
	struct scanner s;
	struct vms_strings_opts o;
	struct vms_residency res;
	struct sink k = {.out = out};
	unsigned char *buf = NULL;
	memset(out, 0, sizeof *out);
	int err = scanner_init(&s, opts, &o, &k);
	if (err)
		goto out;
	k.contains = o.contains;
	k.offset = o.offset;
	k.limit = o.limit;
	uint64_t budget = o.max_bytes ? o.max_bytes : DEF_BYTES, tried = 0;
	long psz = sysconf(_SC_PAGESIZE);
	uint64_t ps = psz > 0 ? (uint64_t)psz : 4096;
	budget = budget < ps ? ps : budget & ~(ps - 1); /* whole pages */
	/* At most budget / ps resident runs can be read, with other runs between them: the map of
	 * a huge range stops there instead of growing with the range. */
	struct vms_residency_opts ro = {.no_exclusive = 1, .max_runs = (size_t)(2 * (budget / ps) + 16)};
	if ((err = vms_residency_read(pid, start, end, &ro, &res)) != VMS_OK)
		goto out;
	if (!(buf = malloc(CHUNK))) {
		err = VMS_ERR_NOMEM;
		goto out_res;
	}
	out->read_end = res.truncated ? res.walk_end : res.end;
	out->truncated = res.truncated;
	for (size_t i = 0; i < res.n_runs && !err && !k.err; i++) {
		const struct vms_page_run *run = &res.runs[i];
		if (!(run->flags & VMS_PG_PRESENT) || (run->flags & VMS_PG_GUARD))
			continue;
		for (uint64_t a = run->start; a < run->end && !err; a += CHUNK) {
			uint64_t n = run->end - a < CHUNK ? run->end - a : CHUNK;
			if (tried >= budget) {
				out->truncated = 1;
				out->read_end = a;
				goto stop;
			}
			if (n > budget - tried)
				n = budget - tried; /* a page multiple when budget is */
			err = read_feed(&s, pid, a, (size_t)n, buf, ps, out);
			tried += n;
		}
	}
stop:
	flush(&s);
	/* everything of [start, read_end) that was not read: untouched, swapped, unreadable */
	out->bytes_skipped = out->read_end - res.start - out->bytes_read;
	if (!err)
		err = k.err;
out_res:
	vms_residency_free(&res);
out:
	free(buf);
	scanner_done(&s);
	if (err)
		vms_strings_free(out);
	return err;
}

void vms_strings_free(struct vms_strings *s)
{
	for (size_t i = 0; s && i < s->n; i++)
		free(s->v[i].text);
	if (s) {
		free(s->v);
		*s = (struct vms_strings){0};
	}
}
