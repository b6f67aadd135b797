/* Saved text and bytes for the unit tests (tests/fixtures/), and the look-ups every recogniser
 * test needs. Header-only, included after test.h by one test program each. */
#ifndef VMSCOPE_TEST_FIXTURE_H
#define VMSCOPE_TEST_FIXTURE_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmscope/parse.h"
#include "vmscope/snapshot.h"
#include "vmscope/util.h"

/* The whole file tests/fixtures/REL (or $VMSCOPE_FIXTURES/REL), NUL-terminated, malloc'd;
 * exits 2 when it cannot be read (a missing fixture is a broken checkout, not a failure). */
static inline char *fixture_load(const char *rel, size_t *len)
{
	char path[1024];
	const char *dir = getenv("VMSCOPE_FIXTURES") ? getenv("VMSCOPE_FIXTURES") : "tests/fixtures";
	snprintf(path, sizeof path, "%s/%s", dir, rel);
	char *buf = NULL;
	if (vms_read_file(AT_FDCWD, path, 64u << 20, &buf, len) != 0) {
		fprintf(stderr, "cannot read fixture %s\n", path);
		exit(2);
	}
	return buf;
}

/* What the classifier needs of the process besides its regions: x86 with `bits` bits, the usual
 * mmap_min_addr and top of user space, and the given threads (owned by the caller, may be NULL). */
static inline void fixture_machine(struct vms_snapshot *s, int bits, struct vms_thread *threads,
                                   size_t n_threads)
{
	s->arch.bits = bits;
	s->arch.machine = bits == 32 ? "i386" : "x86_64";
	s->mmap_min_addr = 0x10000;
	s->user_top = bits == 32 ? 1ull << 32 : 0x7ffffffff000ull;
	s->threads = threads;
	s->n_threads = n_threads;
}

/* The classifier's context for a `bits`-bit process: shmem on device 00:01 (the usual internal
 * mount), the given tmpfs devices (may be NULL), the usual heap_max, main thread main_tid. */
static inline struct vms_classify_ctx fixture_ctx(int bits, const unsigned *tmpfs, size_t n_tmpfs,
                                                  pid_t main_tid)
{
	return (struct vms_classify_ctx){.shmem_major = 0,
	                                 .shmem_minor = 1,
	                                 .tmpfs_devs = tmpfs,
	                                 .n_tmpfs_devs = n_tmpfs,
	                                 .heap_max = bits == 32 ? 1u << 20 : 64u << 20,
	                                 .main_tid = main_tid};
}

/* Parse and classify saved smaps text as a process of `bits` bits with 4 KiB pages, shmem on
 * device 00:01 (the usual internal mount) and the
 * given threads (owned by the caller, may be NULL); main thread main_tid. */
static inline struct vms_snapshot *fixture_classified(const char *text, size_t len, int bits,
                                                      struct vms_thread *threads, size_t n_threads,
                                                      pid_t main_tid)
{
	struct vms_snapshot *s = vms_snapshot_new();
	if (!s || vms_smaps_parse(s, text, len) != VMS_OK) {
		fprintf(stderr, "fixture: cannot parse smaps text\n");
		exit(2);
	}
	fixture_machine(s, bits, threads, n_threads);
	s->page_size = 4096;
	struct vms_classify_ctx ctx = fixture_ctx(bits, NULL, 0, main_tid);
	if (vms_classify(s, &ctx) != VMS_OK) {
		fprintf(stderr, "fixture: cannot classify\n");
		exit(2);
	}
	return s;
}

/* fixture_classified on the saved smaps file tests/fixtures/REL (see fixture_load). */
static inline struct vms_snapshot *fixture_file_classified(const char *rel, int bits,
                                                           struct vms_thread *threads, size_t n_threads,
                                                           pid_t main_tid)
{
	size_t len;
	char *text = fixture_load(rel, &len);
	struct vms_snapshot *s = fixture_classified(text, len, bits, threads, n_threads, main_tid);
	free(text);
	return s;
}

static inline const struct vms_allocation *fixture_alloc_at(const struct vms_snapshot *s, uint64_t start)
{
	for (size_t i = 0; i < s->n_allocations; i++)
		if (s->allocations[i].start == start)
			return &s->allocations[i];
	return NULL;
}

/* Details of the allocation starting at start, "(none)" when there is none or no details. */
static inline const char *fixture_details_at(const struct vms_snapshot *s, uint64_t start)
{
	const struct vms_allocation *a = fixture_alloc_at(s, start);
	return a && a->details ? a->details : "(none)";
}

/* Number of parts of allocation a (NULL: 0). */
static inline size_t fixture_parts_of(const struct vms_snapshot *s, const struct vms_allocation *a)
{
	size_t n = 0;
	for (size_t p = 0; a && p < s->n_parts; p++)
		n += s->parts[p].allocation == (uint32_t)(a - s->allocations);
	return n;
}

/* The run of recogniser key, or NULL when it did not run. */
static inline const struct vms_recogniser_run *fixture_run_of(const struct vms_snapshot *s, const char *key)
{
	for (size_t i = 0; i < s->n_recognisers; i++)
		if (!strcmp(s->recognisers[i].key, key))
			return &s->recognisers[i];
	return NULL;
}

/* Sparse target memory for vms_attribute_with: words of ws bytes at addresses; everything else
 * reads as zeros (resident, but nothing an allocator wrote). */
struct fixture_word {
	uint64_t addr, value;
};
struct fixture_memory {
	const struct fixture_word *w;
	size_t n;
	unsigned ws;
	unsigned reads;
};

static inline int fixture_memory_read(void *cookie, uint64_t addr, void *buf, size_t len)
{
	struct fixture_memory *m = cookie;
	unsigned char *out = buf;
	memset(out, 0, len);
	m->reads++;
	for (size_t k = 0; k < m->n; k++)
		for (unsigned b = 0; b < m->ws; b++) {
			uint64_t at = m->w[k].addr + b;
			if (at >= addr && at < addr + len)
				out[at - addr] = (unsigned char)(m->w[k].value >> (8 * b));
		}
	return 0;
}

#endif
