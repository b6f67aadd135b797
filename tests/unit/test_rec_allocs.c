/* The jemalloc, tcmalloc and mimalloc recognisers on saved text and saved bytes: smaps of the
 * zoo program tests/zoo/c/alloc_stats.c under each allocator (LD_PRELOAD), and the bytes the
 * recognisers read, captured from the live process by tests/fixtures/allocs/capture.py. The
 * expected figures are the allocator's own statistics printed by the program at capture time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../server/core/attribute.h"
#include "fixture.h"
#include "test.h"
#include "vmscope/parse.h"
#include "vmscope/snapshot.h"

#define MIB (1ull << 20)

/* ---- saved bytes: "ADDR HEX" lines, "# threads TID ..." first ---------------------------- */

struct chunk {
	uint64_t addr;
	size_t len;
	unsigned char *data;
};

struct saved {
	struct chunk *c;
	size_t n;
	int tids[64];
	size_t n_tids;
	uint64_t corrupt_at; /* when non-zero: flip the cookie of the segment header at this address */
};

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

static void load_bytes(const char *name, struct saved *sv)
{
	size_t len;
	char *text = fixture_load(name, &len);
	memset(sv, 0, sizeof *sv);
	size_t cap = 0;
	for (char *line = text; line && *line;) {
		char *eol = strchr(line, '\n');
		if (eol)
			*eol = 0;
		if (!strncmp(line, "# threads", 9)) {
			char *p = line + 9;
			while (*p && sv->n_tids < 64) {
				char *end;
				long t = strtol(p, &end, 10);
				if (end == p)
					break;
				sv->tids[sv->n_tids++] = (int)t;
				p = end;
			}
		} else if (*line) {
			char *sp = strchr(line, ' ');
			if (sp) {
				if (sv->n == cap) {
					cap = cap ? cap * 2 : 256;
					sv->c = realloc(sv->c, cap * sizeof *sv->c);
					if (!sv->c)
						exit(2);
				}
				struct chunk *c = &sv->c[sv->n++];
				c->addr = strtoull(line, NULL, 16);
				c->len = strlen(sp + 1) / 2;
				c->data = malloc(c->len ? c->len : 1);
				for (size_t k = 0; k < c->len; k++)
					c->data[k] = (unsigned char)(hexval(sp[1 + 2 * k]) << 4 |
					                             hexval(sp[2 + 2 * k]));
			}
		}
		line = eol ? eol + 1 : NULL;
	}
	free(text);
}

static void free_bytes(struct saved *sv)
{
	for (size_t k = 0; k < sv->n; k++)
		free(sv->c[k].data);
	free(sv->c);
}

static int reader(void *cookie, uint64_t addr, void *buf, size_t len)
{
	struct saved *sv = cookie;
	for (size_t k = 0; k < sv->n; k++) {
		const struct chunk *c = &sv->c[k];
		if (addr >= c->addr && addr + len <= c->addr + c->len) {
			memcpy(buf, c->data + (addr - c->addr), len);
			if (sv->corrupt_at && sv->corrupt_at >= addr && sv->corrupt_at + 0xe0 <= addr + len)
				((unsigned char *)buf)[sv->corrupt_at - addr + 0xd8] ^= 0x40; /* the cookie */
			return 0;
		}
	}
	return -1;
}

/* ---- the snapshot --------------------------------------------------------------------------- */

static struct vms_snapshot *parse_attribute(const char *smaps, struct saved *sv, int peek)
{
	size_t len;
	char *text = fixture_load(smaps, &len);
	struct vms_snapshot *s = vms_snapshot_new();
	CHECK(vms_smaps_parse(s, text, len) == VMS_OK);
	free(text);
	s->arch.bits = 64;
	s->arch.machine = "x86_64";
	s->mmap_min_addr = 0x10000;
	s->user_top = 0x7ffffffff000ull;
	s->threads = vms_snapshot_alloc(s, sv->n_tids * sizeof *s->threads);
	for (size_t t = 0; t < sv->n_tids; t++)
		s->threads[t] =
		    (struct vms_thread){.tid = sv->tids[t], .name = "alloc_stats", .stack_allocation = -1};
	s->n_threads = sv->n_tids;
	struct vms_classify_ctx ctx = {.shmem_minor = 1, .heap_max = 64u << 20, .main_tid = sv->tids[0]};
	CHECK(vms_classify(s, &ctx) == VMS_OK);
	int changed = 0;
	CHECK(vms_attribute_with(s, peek ? reader : NULL, sv, &changed) == VMS_OK);
	CHECK(changed == 1);
	return s;
}

struct owned {
	uint64_t committed, size, ws;
	unsigned n, guesses, base;
};

static struct owned owned_by(const struct vms_snapshot *s, const char *key)
{
	struct owned o = {0};
	for (size_t a = 0; a < s->n_allocations; a++) {
		const struct vms_allocation *al = &s->allocations[a];
		if (!al->owner || strcmp(al->owner, key))
			continue;
		CHECK(al->type == VMS_TYPE_HEAP);
		CHECK(al->details && al->signal);
		CHECK(!al->guess == !strstr(al->details, "guess"));
		o.committed += al->cols[VMS_COL_COMMITTED];
		o.size += al->cols[VMS_COL_SIZE];
		o.ws += al->cols[VMS_COL_TOTAL_WS];
		o.n++;
		o.guesses += al->guess != 0;
		o.base += strstr(al->details, "base (metadata)") != NULL;
	}
	return o;
}

/* Anonymous rw-p MAP_NORESERVE VMAs no recogniser took (the allocators' fingerprint). */
static uint64_t nr_left(const struct vms_snapshot *s)
{
	uint64_t n = 0;
	for (size_t i = 0; i < s->n_regions; i++) {
		const struct vms_region *r = &s->regions[i];
		if (!r->path && !strcmp(r->perms, "rw-p") && (r->vm_flag_bits & VMS_VMF_NR) &&
		    !s->allocations[r->allocation].owner)
			n += r->end - r->start;
	}
	return n;
}

static const char *run_note(const struct vms_snapshot *s, const char *key)
{
	for (size_t k = 0; k < s->n_recognisers; k++)
		if (!strcmp(s->recognisers[k].key, key))
			return s->recognisers[k].note;
	return NULL;
}

/* jemalloc: stats.mapped 170360832 + stats.retained 41451520 at capture. */
static void test_jemalloc(struct saved *sv)
{
	struct vms_snapshot *s = parse_attribute("allocs/je.smaps", sv, 1);
	struct owned o = owned_by(s, "jemalloc");
	CHECK_EQ_U64(o.committed, 170360832ull + 41451520ull);
	CHECK_EQ_U64(o.guesses, 0);
	CHECK(o.base >= 1);
	CHECK_EQ_U64(nr_left(s), 0);
	CHECK(s->n_parts > 0); /* base blocks inside VMAs that also hold extents */
	for (size_t p = 0; p < s->n_parts; p++)
		CHECK(!strcmp(s->allocations[s->parts[p].allocation].owner, "jemalloc"));
	CHECK(run_note(s, "jemalloc") != NULL);
	CHECK(run_note(s, "tcmalloc") == NULL && run_note(s, "mimalloc") == NULL);
	vms_snapshot_free(s);

	/* Without memory reads: the same memory, by geometry, every piece a guess. */
	s = parse_attribute("allocs/je.smaps", sv, 0);
	o = owned_by(s, "jemalloc");
	CHECK_EQ_U64(o.committed, 170360832ull + 41451520ull);
	CHECK_EQ_U64(o.guesses, o.n);
	CHECK_EQ_U64(o.base, 0);
	vms_snapshot_free(s);
}

/* tcmalloc: generic.heap_size 145752064, metadata 3014656 (one 8 MiB MetaDataAlloc chunk). */
static void test_tcmalloc(struct saved *sv)
{
	struct vms_snapshot *s = parse_attribute("allocs/tc.smaps", sv, 1);
	struct owned o = owned_by(s, "tcmalloc");
	CHECK_EQ_U64(o.n, 1);
	uint64_t want = 145752064ull + 8 * MIB;
	CHECK(o.committed > want - want / 20 && o.committed < want + want / 20);
	int heap_seen = 0;
	for (size_t i = 0; i < s->n_regions; i++) {
		const struct vms_region *r = &s->regions[i];
		if (!r->path || strcmp(r->path, "[heap]"))
			continue;
		const struct vms_allocation *al = &s->allocations[r->allocation];
		heap_seen = 1;
		CHECK_STR(al->owner, "tcmalloc");
		CHECK(al->details && strstr(al->details, "tcmalloc page heap") &&
		      !strstr(al->details, "glibc"));
		CHECK(!al->guess);
	}
	CHECK(heap_seen);
	vms_snapshot_free(s);
}

/* mimalloc: stats committed 192937984 + 32 KiB of thread data = current_commit 192970752;
 * reserved 234881024 (7 segments). */
static void test_mimalloc(struct saved *sv)
{
	struct vms_snapshot *s = parse_attribute("allocs/mi.smaps", sv, 1);
	struct owned o = owned_by(s, "mimalloc");
	CHECK_EQ_U64(o.committed, 192970752ull);
	CHECK_EQ_U64(o.size, 234881024ull + 32768);
	CHECK_EQ_U64(nr_left(s), 0);
	CHECK_EQ_U64(s->summary[VMS_TYPE_RESERVED].blocks, 0); /* the segments' tails are in their segments */
	/* owners: the TCB each segment names is a live thread's */
	int seen[64] = {0};
	unsigned distinct = 0;
	for (size_t a = 0; a < s->n_allocations; a++) {
		const struct vms_allocation *al = &s->allocations[a];
		const char *p = al->details ? strstr(al->details, "owner thread ") : NULL;
		if (!p)
			continue;
		int tid = atoi(p + 13);
		for (size_t t = 0; t < sv->n_tids; t++)
			if (sv->tids[t] == tid && !seen[t])
				seen[t] = 1, distinct++;
	}
	CHECK(distinct >= 3);
	/* every segment, merged or not, is one allocation or one part of one */
	uint64_t seg_bytes = 0;
	for (size_t a = 0; a < s->n_allocations; a++) {
		const struct vms_allocation *al = &s->allocations[a];
		if (al->owner && !strcmp(al->owner, "mimalloc") && al->signal &&
		    !strcmp(al->signal, "segment header read"))
			seg_bytes += al->end - al->start;
		if (al->owner && !strcmp(al->owner, "mimalloc") && al->details &&
		    strstr(al->details, "segments x"))
			CHECK(s->n_parts >= 2);
	}
	CHECK_EQ_U64(seg_bytes, 234881024ull);
	vms_snapshot_free(s);

	/* A segment whose cookie disagrees with the others is not claimed by header, and (its header
	 * being readable) not by geometry either. */
	sv->corrupt_at = 0;
	for (size_t k = 0; k < sv->n && !sv->corrupt_at; k++)
		if (sv->c[k].len == 0x108 && sv->c[k].addr % (32 * MIB) == 0 &&
		    sv->c[k].addr != sv->c[0].addr)
			sv->corrupt_at = sv->c[k].addr;
	CHECK(sv->corrupt_at != 0);
	s = parse_attribute("allocs/mi.smaps", sv, 1);
	for (size_t a = 0; a < s->n_allocations; a++) {
		const struct vms_allocation *al = &s->allocations[a];
		CHECK(!(al->owner && !strcmp(al->owner, "mimalloc") && al->start <= sv->corrupt_at &&
		        sv->corrupt_at < al->end));
	}
	vms_snapshot_free(s);
	sv->corrupt_at = 0;

	/* Without memory reads: segments by geometry (2-30 TiB, 32 MiB-aligned nr), guesses. */
	s = parse_attribute("allocs/mi.smaps", sv, 0);
	o = owned_by(s, "mimalloc");
	CHECK_EQ_U64(o.committed, 192970752ull);
	CHECK_EQ_U64(o.guesses, o.n);
	vms_snapshot_free(s);
}

/* No allocator library mapped: none of the three claims anything (the glibc run of the fixture
 * set is the jemalloc one with the library removed from the map). */
static void test_absent(struct saved *sv)
{
	size_t len;
	char *text = fixture_load("allocs/je.smaps", &len);
	/* rename the library so that it is no longer recognised */
	for (char *p = text; (p = strstr(p, "libjemalloc.so")); p += 3)
		memcpy(p, "libXemalloc", 11);
	struct vms_snapshot *s = vms_snapshot_new();
	CHECK(vms_smaps_parse(s, text, len) == VMS_OK);
	free(text);
	s->user_top = 0x7ffffffff000ull;
	struct vms_classify_ctx ctx = {.shmem_minor = 1, .heap_max = 64u << 20, .main_tid = sv->tids[0]};
	CHECK(vms_classify(s, &ctx) == VMS_OK);
	int changed = 0;
	CHECK(vms_attribute_with(s, reader, sv, &changed) == VMS_OK);
	CHECK_EQ_U64(owned_by(s, "jemalloc").n, 0);
	CHECK_EQ_U64(owned_by(s, "tcmalloc").n, 0);
	CHECK_EQ_U64(owned_by(s, "mimalloc").n, 0);
	vms_snapshot_free(s);
}

/* Run test on the saved memory of tests/fixtures/allocs/NAME.bytes. */
static void with_capture(const char *name, void (*test)(struct saved *sv))
{
	char path[64];
	struct saved sv;
	snprintf(path, sizeof path, "allocs/%s.bytes", name);
	load_bytes(path, &sv);
	test(&sv);
	free_bytes(&sv);
}

int main(void)
{
	with_capture("je", test_jemalloc);
	with_capture("tc", test_tcmalloc);
	with_capture("mi", test_mimalloc);
	with_capture("je", test_absent);
	TEST_MAIN_END();
}
