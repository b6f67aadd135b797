/* Incremental classification (vms_classifier_new/feed/finish, as vms_snapshot_take runs it while
 * smaps is still being read) must give exactly what vms_classify gives on the same regions in one
 * batch: the same allocations (bounds, type, regions, details, tid, columns), the same region
 * types, roles and columns, the same thread stacks, summary and totals. Fed in pieces of many
 * sizes (one byte, odd sizes, a page, pseudo-random), on every fixture in tests/fixtures/ and on
 * a saved copy of this process's own smaps. Each allocation handed to on_allocation must already
 * be final (the contract in parse.h), be handed over once, in address order, and some must be
 * handed over before the last piece arrives (else the test would not test the incremental path). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"
#include "test.h"
#include "vmscope/parse.h"
#include "vmscope/snapshot.h"
#include "vmscope/util.h"

#define MAX_SEEN 65536

/* What on_allocation saw, to compare with the final allocation. */
struct seen {
	size_t n, before_eof;
	int eof, out_of_order;
	struct vms_allocation a[MAX_SEEN];
};

static char *load_file(const char *path, size_t *len)
{
	char *buf = NULL;
	return vms_read_file(AT_FDCWD, path, 0, &buf, len) == 0 ? buf : NULL;
}

/* A deterministic stand-in for the ELF probe: shared objects are ELF, other files are not. */
static int fake_is_elf(void *cookie, const char *path)
{
	(void)cookie;
	return strstr(path, ".so") != NULL;
}

/* A deterministic stand-in for ELF program headers (cookie: the snapshot being classified): the
 * file's first rw-p mapping followed by an anonymous rw-p region is its last PT_LOAD, with a .bss
 * of 0 to 31 pages past it (by a hash of the path), or the file cannot be read. So the region after
 * an image is taken whole, taken with more than its .bss, left out with a note, left out bare, or
 * kept as unknown, depending on the file. */
static int fake_elf_load(void *cookie, const char *path, struct vms_elf_load *out)
{
	const struct vms_snapshot *s = cookie;
	unsigned h = 2166136261u;
	for (const char *p = path; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	if (h % 7 == 0)
		return -1;
	for (size_t i = 0; i + 1 < s->n_regions; i++) {
		const struct vms_region *d = &s->regions[i], *b = &s->regions[i + 1];
		if (d->path && !strcmp(d->path, path) && !strcmp(d->perms, "rw-p") && !b->path &&
		    b->inode == 0 && b->start == d->end) {
			memset(out, 0, sizeof *out);
			out->vaddr = out->offset = d->offset;
			out->filesz = d->end - d->start;
			out->memsz = out->filesz + (uint64_t)(h / 7 % 32) * 0x1000;
			return 1;
		}
	}
	return -1;
}

static void on_allocation(void *cookie, const struct vms_snapshot *s, size_t index)
{
	struct seen *sn = cookie;
	if (index != sn->n)
		sn->out_of_order = 1;
	if (sn->n < MAX_SEEN)
		sn->a[sn->n] = s->allocations[index];
	sn->n++;
	if (!sn->eof)
		sn->before_eof++;
}

/* A snapshot with the regions of text and what the classifier needs besides them. */
static struct vms_snapshot *fresh(int bits, struct vms_thread *threads, size_t n_threads)
{
	struct vms_snapshot *s = vms_snapshot_new();
	if (!s)
		return NULL;
	fixture_machine(s, bits, threads, n_threads);
	s->page_table_bytes = 12288;
	return s;
}

static struct vms_classify_ctx make_ctx(int bits, struct seen *sn)
{
	static const unsigned tmpfs[] = {0u << 20 | 0x1b, 0u << 20 | 0x16};
	struct vms_classify_ctx ctx = fixture_ctx(bits, tmpfs, 2, 100);
	ctx.is_elf = fake_is_elf;
	ctx.elf_load = fake_elf_load;
	ctx.on_allocation = sn ? on_allocation : NULL;
	ctx.alloc_cookie = sn;
	return ctx;
}

/* Next piece size: chunk > 0 is fixed; 0 means pseudo-random in [1, 3000]. */
static size_t piece(size_t chunk, unsigned *seed)
{
	if (chunk)
		return chunk;
	*seed = *seed * 1103515245u + 12345u;
	return 1 + (*seed >> 8) % 3000;
}

/* Parse and classify text the way scan.c does: pieces arrive, the parser takes complete lines,
 * the classifier is fed what the parser exposed. */
static int classify_in_pieces(struct vms_snapshot *s, const char *text, size_t len, size_t chunk,
                              const struct vms_classify_ctx *ctx, struct seen *sn)
{
	struct vms_smaps_parser *p = vms_smaps_parser_new(s);
	struct vms_classifier *cl = p ? vms_classifier_new(s, ctx) : NULL;
	size_t pos = 0, avail = 0;
	unsigned seed = (unsigned)chunk * 7919u + 1;
	int err = VMS_OK;

	if (!p || !cl) {
		vms_smaps_parser_abort(p);
		return VMS_ERR_NOMEM;
	}
	while (avail < len) {
		size_t step = piece(chunk, &seed);
		avail = step > len - avail ? len : avail + step;
		int at_eof = avail == len;
		pos += vms_smaps_parser_feed(p, text + pos, avail - pos, at_eof);
		if (!at_eof) {
			vms_smaps_parser_expose(p);
			err = vms_classifier_feed(cl, 0);
			if (err)
				break;
		}
	}
	sn->eof = 1;
	if (!err) {
		err = vms_smaps_parser_finish(p);
		p = NULL;
	}
	if (err) {
		vms_classifier_abort(cl);
		if (p) {
			s->regions = NULL;
			s->n_regions = 0;
		}
		vms_smaps_parser_abort(p);
		return err;
	}
	return vms_classifier_finish(cl);
}

static int str_same(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static int alloc_same(const struct vms_allocation *x, const struct vms_allocation *y)
{
	return x->start == y->start && x->end == y->end && x->type == y->type &&
	       x->first_region == y->first_region && x->n_regions == y->n_regions && x->tid == y->tid &&
	       str_same(x->details, y->details) && memcmp(x->cols, y->cols, sizeof x->cols) == 0;
}

/* One CHECK for a count of differences (or an error), with the case named when it fails. */
static void check_none(int bad, const char *what)
{
	if (bad)
		fprintf(stderr, "%s: %d difference(s) between incremental and batch\n", what, bad);
	CHECK(bad == 0);
}

/* Compare the incremental result b with the batch result a; what names the case. */
static void compare(const struct vms_snapshot *a, const struct vms_snapshot *b, const struct seen *sn,
                    const char *what)
{
	int bad = 0;
	CHECK_EQ_U64(b->n_regions, a->n_regions);
	CHECK_EQ_U64(b->n_allocations, a->n_allocations);
	if (a->n_regions != b->n_regions || a->n_allocations != b->n_allocations) {
		fprintf(stderr, "%s: counts differ\n", what);
		return;
	}
	for (size_t i = 0; i < a->n_allocations; i++)
		if (!alloc_same(&a->allocations[i], &b->allocations[i]) && bad++ < 3)
			fprintf(
			    stderr,
			    "%s: allocation %zu (0x%llx) differs: type %d/%d regions %u/%u details %s/%s\n",
			    what, i, (unsigned long long)a->allocations[i].start, a->allocations[i].type,
			    b->allocations[i].type, a->allocations[i].n_regions, b->allocations[i].n_regions,
			    a->allocations[i].details ? a->allocations[i].details : "-",
			    b->allocations[i].details ? b->allocations[i].details : "-");
	for (size_t i = 0; i < a->n_regions; i++) {
		const struct vms_region *x = &a->regions[i], *y = &b->regions[i];
		if ((x->start != y->start || x->type != y->type || x->allocation != y->allocation ||
		     !str_same(x->role, y->role) || memcmp(x->cols, y->cols, sizeof x->cols) != 0) &&
		    bad++ < 6)
			fprintf(stderr, "%s: region %zu (0x%llx) differs\n", what, i,
			        (unsigned long long)x->start);
	}
	for (size_t t = 0; t < a->n_threads; t++)
		if (a->threads[t].stack_allocation != b->threads[t].stack_allocation && bad++ < 9)
			fprintf(stderr, "%s: thread %d stack %d/%d\n", what, a->threads[t].tid,
			        a->threads[t].stack_allocation, b->threads[t].stack_allocation);
	if (memcmp(a->summary, b->summary, sizeof a->summary) != 0 && bad++ < 10)
		fprintf(stderr, "%s: summary differs\n", what);
	if (memcmp(a->total, b->total, sizeof a->total) != 0 && bad++ < 11)
		fprintf(stderr, "%s: total differs\n", what);
	check_none(bad, what);

	/* on_allocation: each allocation once, in order, already final when handed over. */
	CHECK_EQ_U64(sn->n, b->n_allocations);
	CHECK(!sn->out_of_order);
	int stale = 0;
	for (size_t i = 0; i < sn->n && i < MAX_SEEN && i < b->n_allocations; i++)
		if (!alloc_same(&sn->a[i], &b->allocations[i]) && stale++ < 3)
			fprintf(stderr, "%s: allocation %zu changed after on_allocation\n", what, i);
	CHECK(stale == 0);
}

static void run_case(const char *name, const char *text, size_t len, int bits, int with_threads)
{
	static const size_t chunks[] = {1, 7, 61, 333, 4096, 0, 0};
	struct vms_thread threads_a[2] = {
	    {.tid = 100, .name = "server", .sp = 0x7ffc00020000},
	    {.tid = 101, .name = "worker", .sp = 0x7f2000400000},
	};
	size_t n_threads = with_threads ? 2 : 0;

	struct vms_snapshot *a = fresh(bits, threads_a, n_threads);
	struct vms_classify_ctx ctx = make_ctx(bits, NULL);
	ctx.cookie = a;
	CHECK(a && vms_smaps_parse(a, text, len) == VMS_OK);
	CHECK(a && a->n_regions > 0);
	CHECK(a && vms_classify(a, &ctx) == VMS_OK);

	size_t total_before_eof = 0;
	for (size_t k = 0; k < sizeof chunks / sizeof chunks[0]; k++) {
		struct vms_thread threads_b[2];
		memcpy(threads_b, threads_a, sizeof threads_b);
		struct seen *sn = calloc(1, sizeof *sn);
		struct vms_snapshot *b = fresh(bits, threads_b, n_threads);
		size_t chunk = chunks[k] ? chunks[k] : k; /* two different random sequences */
		struct vms_classify_ctx ictx = make_ctx(bits, sn);
		ictx.cookie = b;
		char what[128];
		snprintf(what, sizeof what, "%s, pieces of %s%zu", name, chunks[k] ? "" : "random seed ",
		         chunk);
		if (!sn || !b) {
			CHECK(0);
		} else {
			int err = classify_in_pieces(b, text, len, chunks[k], &ictx, sn);
			check_none(err != VMS_OK, what);
			if (!err && a)
				compare(a, b, sn, what);
			total_before_eof += sn->before_eof;
		}
		vms_snapshot_free(b);
		free(sn);
	}
	/* With one-byte pieces nearly every allocation is ready long before the end. */
	CHECK(total_before_eof > 0);
	vms_snapshot_free(a);
}

int main(void)
{
	const char *dir = getenv("VMSCOPE_FIXTURES") ? getenv("VMSCOPE_FIXTURES") : "tests/fixtures";
	static const struct {
		const char *file;
		int bits, threads;
	} fixtures[] = {{"odd64.smaps", 64, 1}, {"i386.smaps", 32, 0}, {"truncated.smaps", 64, 0}};

	for (size_t i = 0; i < sizeof fixtures / sizeof fixtures[0]; i++) {
		char path[1024];
		size_t len = 0;
		snprintf(path, sizeof path, "%s/%s", dir, fixtures[i].file);
		char *text = load_file(path, &len);
		CHECK(text != NULL);
		if (!text) {
			fprintf(stderr, "cannot open %s\n", path);
			continue;
		}
		run_case(fixtures[i].file, text, len, fixtures[i].bits, fixtures[i].threads);
		free(text);
	}

	/* Many images, each with an anonymous region of 1 to 40 pages after its data: with
	 * fake_elf_load every way of deciding on that region occurs, streamed as in one batch. */
	size_t cap = 40 * 512, n = 0;
	char *many = malloc(cap);
	CHECK(many != NULL);
	for (unsigned k = 0; many && k < 40; k++) {
		unsigned long long b = 0x7f0000000000ull + (unsigned long long)k * 0x1000000ull;
		n += (size_t)snprintf(many + n, cap - n,
		                      "%llx-%llx r--p 00000000 08:01 %u /lib/lib%u.so\n"
		                      "%llx-%llx r-xp 00001000 08:01 %u /lib/lib%u.so\n"
		                      "%llx-%llx rw-p 00002000 08:01 %u /lib/lib%u.so\n"
		                      "%llx-%llx rw-p 00000000 00:00 0 \n",
		                      b, b + 0x1000, 100 + k, k, b + 0x1000, b + 0x2000, 100 + k, k,
		                      b + 0x2000, b + 0x3000, 100 + k, k, b + 0x3000,
		                      b + 0x3000 + (k + 1) * 0x1000ull);
	}
	if (many)
		run_case("images with a region after their data", many, n, 64, 0);
	free(many);

	/* A real address space, saved once: both runs see the same bytes. */
	size_t len = 0;
	char *self = load_file("/proc/self/smaps", &len);
	CHECK(self && len > 0);
	if (self)
		run_case("this process's smaps", self, len, 64, 0);
	free(self);
	TEST_MAIN_END();
}
