/* Build snapshots by hand for the json/export/diff unit tests, through the public core API
 * (vms_snapshot_new + vms_snapshot_alloc/strdup + vms_snapshot_summarize). Header-only, static.
 *
 *   struct vms_snapshot *s = hs_new(1234, "demo");
 *   hs_region(s, 0x1000, 0x3000, "r-xp", "/bin/x", 8192);   add regions in address order...
 *   hs_alloc(s, VMS_TYPE_IMAGE, "/bin/x", 0);                ...then close them into an allocation
 *   hs_finish(s);                                            columns, gaps, summary
 *
 * Capacity is fixed (HS_MAX regions/allocations/threads); exceeding it aborts the test. */
#ifndef VMSCOPE_TEST_HANDMADE_SNAPSHOT_H
#define VMSCOPE_TEST_HANDMADE_SNAPSHOT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmscope/snapshot.h"

#define HS_MAX 64

static inline void hs_die(const char *what)
{
	fprintf(stderr, "handmade snapshot: %s\n", what);
	exit(2);
}

/* malloc'd copy of text with the first occurrence of from replaced by to (NULL if absent). */
static inline char *hs_replace(const char *text, const char *from, const char *to)
{
	const char *p = strstr(text, from);
	if (!p)
		return NULL;
	size_t a = (size_t)(p - text), fl = strlen(from), tl = strlen(to), n = strlen(text);
	char *r = malloc(n - fl + tl + 1);
	if (!r)
		hs_die("out of memory");
	memcpy(r, text, a);
	memcpy(r + a, to, tl);
	memcpy(r + a + tl, p + fl, n - a - fl + 1);
	return r;
}

static inline struct vms_snapshot *hs_new(int pid, const char *name)
{
	struct vms_snapshot *s = vms_snapshot_new();
	if (!s)
		hs_die("out of memory");
	s->regions = vms_snapshot_alloc(s, HS_MAX * sizeof *s->regions);
	s->allocations = vms_snapshot_alloc(s, HS_MAX * sizeof *s->allocations);
	s->threads = vms_snapshot_alloc(s, HS_MAX * sizeof *s->threads);
	if (!s->regions || !s->allocations || !s->threads)
		hs_die("out of memory");
	s->pid = pid;
	s->ppid = 1;
	s->name = vms_snapshot_strdup(s, name);
	s->cmdline = vms_snapshot_strdup(s, "demo --flag value");
	s->user = "tester";
	s->uid = 1000;
	s->start_time = 987654;
	s->arch.bits = 64;
	s->arch.machine = "x86_64";
	s->host = "build-7";
	s->kernel = "6.18.44";
	s->taken_at_ms = 1795327800123LL;
	s->page_size = 4096;
	s->mmap_min_addr = 0x10000;
	s->user_top = 0x7ffffffff000ULL;
	s->status.vm_pte = 8192;
	s->status.threads = 2;
	return s;
}

/* Append a region (in address order). rss bytes are resident; anonymous regions count them as
 * Anonymous + Private_Dirty, file-backed ones as Shared_Clean. Returns it for further edits. */
static inline struct vms_region *hs_region(struct vms_snapshot *s, uint64_t start, uint64_t end,
                                           const char *perms, const char *path, uint64_t rss)
{
	if (s->n_regions >= HS_MAX)
		hs_die("too many regions");
	struct vms_region *r = &s->regions[s->n_regions++];
	r->start = start;
	r->end = end;
	memcpy(r->perms, perms, 4);
	r->perms[4] = '\0';
	r->path = path ? vms_snapshot_strdup(s, path) : NULL;
	r->smaps[VMS_SF_SIZE] = end - start;
	r->smaps[VMS_SF_KERNEL_PAGE_SIZE] = r->smaps[VMS_SF_MMU_PAGE_SIZE] = 4096;
	r->smaps[VMS_SF_RSS] = rss;
	r->smaps[VMS_SF_PSS] = rss;
	if (path && path[0] == '/') {
		r->smaps[VMS_SF_SHARED_CLEAN] = rss;
		r->inode = 4242;
		r->dev_major = 0xfe;
		r->dev_minor = 0x01;
	} else {
		r->smaps[VMS_SF_ANONYMOUS] = rss;
		r->smaps[VMS_SF_PRIVATE_DIRTY] = rss;
	}
	r->thp_eligible = 0;
	r->protection_key = -1;
	r->vm_flags = perms[1] == 'w' ? "rd wr mr mw me ac" : "rd mr mw me";
	r->vm_flag_bits = vms_vmflags_parse(r->vm_flags, strlen(r->vm_flags));
	return r;
}

/* Close the regions added since the previous allocation into one allocation. */
static inline struct vms_allocation *hs_alloc(struct vms_snapshot *s, enum vms_type type, const char *details,
                                              int tid)
{
	uint32_t first = 0;
	if (s->n_allocations) {
		const struct vms_allocation *p = &s->allocations[s->n_allocations - 1];
		first = p->first_region + p->n_regions;
	}
	if (s->n_allocations >= HS_MAX || first >= s->n_regions)
		hs_die("bad allocation");
	struct vms_allocation *a = &s->allocations[s->n_allocations++];
	a->type = type;
	a->first_region = first;
	a->n_regions = (uint32_t)(s->n_regions - first);
	a->details = details ? vms_snapshot_strdup(s, details) : NULL;
	a->tid = tid;
	return a;
}

static inline void hs_thread(struct vms_snapshot *s, int tid, const char *name, uint64_t sp,
                             int stack_allocation)
{
	if (s->n_threads >= HS_MAX)
		hs_die("too many threads");
	struct vms_thread *t = &s->threads[s->n_threads++];
	t->tid = tid;
	t->name = vms_snapshot_strdup(s, name);
	t->sp = sp;
	t->stack_allocation = stack_allocation;
}

static inline void hs_finish(struct vms_snapshot *s)
{
	s->page_table_bytes = s->status.vm_pte;
	if (vms_snapshot_summarize(s) != VMS_OK)
		hs_die("vms_snapshot_summarize failed");
}

#define HS_HOSTILE_PATH "/tmp/we,ird \"name\"\nFAKE LINE\x1b[31m.bin"
#define HS_BIG_U64 1152921504606846977ULL /* 2^60 + 1: not exact as a double */

/* hs_demo's image: /usr/bin/demo as header, text and data (one anonymous page) segments. */
static inline void hs_demo_image(struct vms_snapshot *s)
{
	struct vms_region *r;
	r = hs_region(s, 0x555555554000, 0x555555556000, "r--p", "/usr/bin/demo", 8192);
	r->role = "header";
	r = hs_region(s, 0x555555556000, 0x55555555a000, "r-xp", "/usr/bin/demo", 16384);
	r->role = "text";
	r->offset = 0x2000;
	r = hs_region(s, 0x55555555a000, 0x55555555c000, "rw-p", "/usr/bin/demo", 4096);
	r->role = "data";
	r->offset = 0x6000;
	r->smaps[VMS_SF_ANONYMOUS] = 4096;
	hs_alloc(s, VMS_TYPE_IMAGE, "/usr/bin/demo", 0);
}

/* A small but complete process: an image of three segments, [heap], a mapped file with a
 * hostile name, a thread stack with its guard, a private region with values above 2^53,
 * [vvar] and a stand-alone reservation; two threads; an LA57-sized user_top so the last free
 * gap is larger than 2^53. */
static inline struct vms_snapshot *hs_demo(void)
{
	struct vms_snapshot *s = hs_new(4242, "demo");
	struct vms_region *r;

	s->user_top = 1ULL << 56;
	s->has_rollup = 1;
	s->rollup[VMS_SF_RSS] = 3 * 1024 * 1024;
	s->rollup[VMS_SF_REFERENCED] = HS_BIG_U64;
	s->start_time = UINT64_MAX - 1;
	s->status.vm_size = 123456789;
	s->thread_note = "task/4243/syscall: permission denied";
	s->malformed_lines = 2;

	hs_demo_image(s);

	hs_region(s, 0x55555555c000, 0x55555557d000, "rw-p", "[heap]", 65536);
	hs_alloc(s, VMS_TYPE_HEAP, "[heap]", 0);

	r = hs_region(s, 0x7f0000000000, 0x7f0000001000, "r--s", HS_HOSTILE_PATH, 4096);
	r->deleted = 1;
	hs_alloc(s, VMS_TYPE_MAPPED_FILE, HS_HOSTILE_PATH, 0);

	r = hs_region(s, 0x7f0000100000, 0x7f0000101000, "---p", NULL, 0);
	r->role = "guard";
	r->vm_flags = "mr mw me nh";
	r->vm_flag_bits = vms_vmflags_parse(r->vm_flags, strlen(r->vm_flags));
	r = hs_region(s, 0x7f0000101000, 0x7f0000901000, "rw-p", NULL, 12288);
	r->role = "stack";
	hs_alloc(s, VMS_TYPE_STACK, "Thread ID: 4243 (worker)", 4243);

	r = hs_region(s, 0x7f1000000000, 0x7f1000010000, "r--p", NULL, 0);
	r->smaps[VMS_SF_REFERENCED] = HS_BIG_U64;
	r->smaps[VMS_SF_SWAP] = 32768;
	r->thp_eligible = 1;
	r->protection_key = 0;
	hs_alloc(s, VMS_TYPE_PRIVATE_DATA, NULL, 0);

	r = hs_region(s, 0x7ffff7fc1000, 0x7ffff7fc5000, "r--p", "[vvar]", 0);
	r->vm_flags = "rd mr pf io de dd";
	r->vm_flag_bits = vms_vmflags_parse(r->vm_flags, strlen(r->vm_flags));
	hs_alloc(s, VMS_TYPE_KERNEL, "[vvar]", 0);

	hs_region(s, 0x7ffff8000000, 0x7ffffc000000, "---p", NULL, 0);
	hs_alloc(s, VMS_TYPE_RESERVED, NULL, 0);

	hs_thread(s, 4242, "demo", 0x7ffffffde000, -1);
	hs_thread(s, 4243, "worker\x1b]0;pwned\x07", 0x7f0000900f00, 3);
	hs_finish(s);
	return s;
}

/* The attribution fields a recogniser would set, on hs_demo(). */
static inline void hs_attribute(struct vms_snapshot *s)
{
	s->allocations[1].owner = "glibc";
	s->allocations[1].signal = "heap_info read";
	s->allocations[3].owner = "names";
	s->allocations[3].signal = "geometry";
	s->allocations[3].guess = 1;
	s->parts = vms_snapshot_alloc(s, 3 * sizeof *s->parts);
	s->parts[0] = (struct vms_part){0x55555555c000, 0x55555556c000, 1, "arena #1"};
	s->parts[1] = (struct vms_part){0x7f0000101000, 0x7f0000201000, 3, NULL};
	s->parts[2] = (struct vms_part){0x55555556c000, 0x55555557d000, 1, "arena #1"};
	s->n_parts = 3;
	s->recognisers = vms_snapshot_alloc(s, 2 * sizeof *s->recognisers);
	s->recognisers[0] = (struct vms_recogniser_run){"names", 1, 0, NULL};
	s->recognisers[1] = (struct vms_recogniser_run){"glibc", 1, 1, "main arena, 1 heap"};
	s->n_recognisers = 2;
	s->peek = -1;
	s->peek_note = "ptrace: permission denied";
	s->threads[0].stack_note = "runs on a goroutine stack in the Go heap";
}

#endif
