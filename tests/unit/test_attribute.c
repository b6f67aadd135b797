/* The attribution stage on saved text: claims regroup allocations without changing a number,
 * the summary stays the sum of the details, threads follow their stacks, and every thread
 * without a stack row gets a reason. Recognisers of the table run on text built here. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../server/core/attribute.h"
#include "fixture.h"
#include "test.h"
#include "vmscope/parse.h"
#include "vmscope/snapshot.h"

static char text[1 << 16];
static size_t text_len;

/* Append one smaps record: header, size/rss in KiB, VmFlags. */
static void rec(const char *range, const char *perms, const char *path, unsigned size_kb, unsigned rss_kb,
                const char *flags)
{
	text_len += (size_t)snprintf(
	    text + text_len, sizeof text - text_len,
	    "%s %s 00000000 00:00 0 %s\n"
	    "Size: %u kB\nKernelPageSize: 4 kB\nMMUPageSize: 4 kB\nRss: %u kB\nPss: %u kB\n"
	    "Pss_Dirty: %u kB\nShared_Clean: 0 kB\nShared_Dirty: 0 kB\nPrivate_Clean: 0 kB\n"
	    "Private_Dirty: %u kB\nReferenced: %u kB\nAnonymous: %u kB\nKSM: 0 kB\n"
	    "LazyFree: 0 kB\nAnonHugePages: 0 kB\nShmemPmdMapped: 0 kB\nFilePmdMapped: 0 kB\n"
	    "Shared_Hugetlb: 0 kB\nPrivate_Hugetlb: 0 kB\nSwap: 0 kB\nSwapPss: 0 kB\n"
	    "Locked: 0 kB\nTHPeligible: 0\nVmFlags: %s \n",
	    range, perms, path, size_kb, rss_kb, rss_kb, rss_kb, rss_kb, rss_kb, rss_kb, flags);
}

/* Allocations tile the regions; each region's type/allocation agree; the summary is the sum. */
static void check_invariants(const struct vms_snapshot *s)
{
	uint32_t next = 0;
	uint64_t sum[VMS_TYPE_COUNT][VMS_COL_COUNT];
	memset(sum, 0, sizeof sum);
	for (size_t a = 0; a < s->n_allocations; a++) {
		const struct vms_allocation *al = &s->allocations[a];
		CHECK_EQ_U64(al->first_region, next);
		next = al->first_region + al->n_regions;
		for (uint32_t k = 0; k < al->n_regions; k++) {
			const struct vms_region *r = &s->regions[al->first_region + k];
			CHECK_EQ_U64(r->allocation, a);
			CHECK(r->type == al->type);
		}
	}
	CHECK_EQ_U64(next, s->n_regions);
	for (size_t r = 0; r < s->n_regions; r++)
		for (int c = 0; c < VMS_COL_COUNT; c++)
			sum[s->regions[r].type][c] += s->regions[r].cols[c];
	for (int t = 0; t < VMS_TYPE_COUNT; t++)
		if (t != VMS_TYPE_PAGE_TABLE && t != VMS_TYPE_FREE)
			for (int c = 0; c < VMS_COL_COUNT; c++)
				CHECK_EQ_U64(s->summary[t].cols[c], sum[t][c]);
	for (size_t p = 0; p < s->n_parts; p++) {
		const struct vms_part *pt = &s->parts[p];
		CHECK(pt->allocation < s->n_allocations);
		if (pt->allocation < s->n_allocations) {
			CHECK(pt->start >= s->allocations[pt->allocation].start);
			CHECK(pt->end <= s->allocations[pt->allocation].end);
		}
	}
	for (size_t t = 0; t < s->n_threads; t++) {
		const struct vms_thread *th = &s->threads[t];
		if (th->stack_allocation >= 0)
			CHECK(s->allocations[th->stack_allocation].type == VMS_TYPE_STACK);
		else
			CHECK(th->stack_note != NULL && th->stack_note[0] != '\0');
	}
}

static int no_reads(void *cookie, uint64_t addr, void *buf, size_t len)
{
	(void)cookie, (void)addr, (void)buf, (void)len;
	return -1;
}

/* Read what vms_attr_open_regular opens at path inside root_fd ("" when it refuses). */
static void read_in_root(int root_fd, const char *path, char *out, size_t cap)
{
	struct stat st;
	out[0] = '\0';
	int fd = vms_attr_open_regular(root_fd, path, &st);
	if (fd < 0)
		return;
	ssize_t n = read(fd, out, cap - 1);
	out[n > 0 ? n : 0] = '\0';
	close(fd);
}

/* Files a recogniser reads are opened inside the target's root: a symlink the target planted
 * (absolute, or climbing with "..") cannot make the scanner (perhaps root) read its own files,
 * and a FIFO or device node is never opened for reading. */
static void test_open_in_root(void)
{
	char dir[] = "/tmp/vmscope-attr-root.XXXXXX", p[256], q[256], got[64];
	CHECK(mkdtemp(dir) != NULL);
	snprintf(p, sizeof p, "%s/secret", dir);
	FILE *f = fopen(p, "w");
	CHECK(f && fputs("SECRET", f) >= 0);
	if (f)
		fclose(f);
	snprintf(p, sizeof p, "%s/root", dir);
	CHECK(mkdir(p, 0755) == 0);
	snprintf(p, sizeof p, "%s/root/ok", dir);
	f = fopen(p, "w");
	CHECK(f && fputs("OK", f) >= 0);
	if (f)
		fclose(f);
	snprintf(p, sizeof p, "%s/root/escape", dir);
	snprintf(q, sizeof q, "%s/secret", dir); /* absolute: the scanner's view of the file */
	CHECK(symlink(q, p) == 0);
	snprintf(p, sizeof p, "%s/root/climb", dir);
	CHECK(symlink("../secret", p) == 0);
	snprintf(p, sizeof p, "%s/root/inside", dir);
	CHECK(symlink("/ok", p) == 0);
	snprintf(p, sizeof p, "%s/root/fifo", dir);
	CHECK(mkfifo(p, 0600) == 0);
	snprintf(p, sizeof p, "%s/root", dir);
	int root = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
	CHECK(root >= 0);

	read_in_root(root, "/ok", got, sizeof got);
	CHECK_STR(got, "OK");
	read_in_root(root, "/inside", got, sizeof got); /* "/ok" of the root, not of the scanner */
	CHECK_STR(got, "OK");
	read_in_root(root, "/escape", got, sizeof got);
	CHECK_STR(got, "");
	read_in_root(root, "/climb", got, sizeof got);
	CHECK_STR(got, "");
	struct stat st;
	CHECK(vms_attr_open_regular(root, "/fifo", &st) == -1);
	CHECK(vms_attr_open_regular(root, "ok", &st) == -1); /* relative: refused */
	close(root);

	const char *names[] = {"root/ok",   "root/escape", "root/climb", "root/inside",
	                       "root/fifo", "root",        "secret"};
	for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
		snprintf(p, sizeof p, "%s/%s", dir, names[k]);
		CHECK(k == 5 ? rmdir(p) == 0 : unlink(p) == 0);
	}
	CHECK(rmdir(dir) == 0);
}

int main(void)
{
	test_open_in_root();

	/* A named glibc arena (rw + reserved tail, same name: one allocation), a Go heap, an
	 * unnamed anonymous block, a thread stack with its guard, and a region named by nobody we
	 * know (stays the classifier's Private Data with its name as details). */
	rec("7f0000000000-7f0000100000", "rw-p", "[anon: glibc: malloc arena]", 1024, 256,
	    "rd wr mr mw me nr");
	rec("7f0000100000-7f0004000000", "---p", "[anon: glibc: malloc arena]", 64512, 0, "mr mw me nr");
	rec("7f0010000000-7f0010400000", "rw-p", "[anon: Go: heap]", 4096, 1024, "rd wr mr mw me ac");
	rec("7f0020000000-7f0020010000", "rw-p", "", 64, 64, "rd wr mr mw me ac");
	rec("7f0030000000-7f0030001000", "---p", "", 4, 0, "mr mw me nh");
	rec("7f0030001000-7f0030801000", "rw-p", "", 8192, 16, "rd wr mr mw me ac nh");
	rec("7f0040000000-7f0040001000", "rw-p", "[anon:something else]", 4, 4, "rd wr mr mw me ac");

	struct vms_snapshot *s = vms_snapshot_new();
	CHECK(s != NULL);
	s->pid = 42;
	s->arch.bits = 64;
	s->page_size = 4096;
	s->mmap_min_addr = 0x10000;
	s->user_top = 0x7ffffffff000;
	/* two threads: one on the stack, one whose sp lies in the Go heap, and one unknown */
	s->n_threads = 3;
	s->threads = vms_snapshot_alloc(s, 3 * sizeof *s->threads);
	s->threads[0] = (struct vms_thread){.tid = 42, .name = "main", .sp = 0x7f0030700000};
	s->threads[1] = (struct vms_thread){.tid = 43, .name = "go", .sp = 0x7f0010200000};
	s->threads[2] = (struct vms_thread){.tid = 44, .name = "busy", .sp = 0};
	CHECK(vms_smaps_parse(s, text, text_len) == VMS_OK);
	struct vms_classify_ctx ctx = {.heap_max = 64u << 20, .main_tid = 1};
	CHECK(vms_classify(s, &ctx) == VMS_OK);

	uint64_t before[VMS_COL_COUNT];
	memcpy(before, s->total, sizeof before);
	size_t regions_before = s->n_regions;
	/* the classifier alone: a named region it does not know is Private Data under its name */
	CHECK(fixture_alloc_at(s, 0x7f0010000000) &&
	      fixture_alloc_at(s, 0x7f0010000000)->type == VMS_TYPE_PRIVATE_DATA);

	int changed = 0;
	CHECK(vms_attribute_with(s, no_reads, NULL, &changed) == VMS_OK);
	CHECK(changed == 1);
	check_invariants(s);
	CHECK_EQ_U64(s->n_regions, regions_before);
	for (int c = 0; c < VMS_COL_COUNT; c++)
		CHECK_EQ_U64(s->total[c], before[c]); /* names never change numbers */

	const struct vms_allocation *a = fixture_alloc_at(s, 0x7f0000000000);
	CHECK(a && a->type == VMS_TYPE_HEAP && a->n_regions == 2 && a->end == 0x7f0004000000);
	CHECK(a && a->owner && !strcmp(a->owner, "names"));
	CHECK(a && a->signal && !strcmp(a->signal, "name"));
	CHECK(a && a->details && strstr(a->details, "glibc arena heap"));
	CHECK(a && a->cols[VMS_COL_SIZE] == 64ull << 20 && a->cols[VMS_COL_COMMITTED] == 1ull << 20);

	a = fixture_alloc_at(s, 0x7f0010000000);
	CHECK(a && a->type == VMS_TYPE_MANAGED_HEAP && a->tid == 0);
	CHECK(s->summary[VMS_TYPE_MANAGED_HEAP].cols[VMS_COL_SIZE] == 4ull << 20);

	a = fixture_alloc_at(s, 0x7f0030000000);
	CHECK(a && a->type == VMS_TYPE_STACK && a->tid == 42 && a->owner == NULL);
	CHECK(s->threads[0].stack_allocation >= 0 && &s->allocations[s->threads[0].stack_allocation] == a);
	CHECK(s->threads[0].stack_note == NULL);

	/* thread 43 lost its "stack" (it was the Go heap): it gets a reason naming the heap */
	CHECK(s->threads[1].stack_allocation == -1);
	CHECK(s->threads[1].stack_note && strstr(s->threads[1].stack_note, "Managed Heap"));
	CHECK(s->threads[2].stack_allocation == -1);
	CHECK(s->threads[2].stack_note && strstr(s->threads[2].stack_note, "stack pointer unknown"));

	a = fixture_alloc_at(s, 0x7f0040000000);
	CHECK(a && a->type == VMS_TYPE_PRIVATE_DATA && a->owner == NULL);

	/* what ran is recorded; names ran first */
	CHECK(s->n_recognisers >= 1 && !strcmp(s->recognisers[0].key, "names"));
	CHECK(s->recognisers[0].claimed == 2);
	CHECK(s->recognisers[0].read_memory == 0);
	CHECK(s->peek == 1);
	vms_snapshot_free(s);

	/* No claims: nothing changes, and --no-peek is recorded. */
	text_len = 0;
	rec("7f0020000000-7f0020010000", "rw-p", "", 64, 64, "rd wr mr mw me ac");
	s = vms_snapshot_new();
	s->page_size = 4096;
	s->user_top = 0x7ffffffff000;
	CHECK(vms_smaps_parse(s, text, text_len) == VMS_OK);
	CHECK(vms_classify(s, &ctx) == VMS_OK);
	changed = 1;
	CHECK(vms_attribute_with(s, NULL, NULL, &changed) == VMS_OK);
	CHECK(changed == 0);
	CHECK(s->peek == 0 && s->peek_note && strstr(s->peek_note, "no live process"));
	check_invariants(s);
	/* --no-peek says so (not "no live process") */
	long *streamed_as = (long *)1;
	CHECK(vms_attribute(s, -1, 0, 1, NULL, &changed, &streamed_as) == VMS_OK);
	CHECK(changed == 0 && streamed_as == NULL);
	CHECK(s->peek == 0 && s->peek_note && strstr(s->peek_note, "--no-peek"));
	vms_snapshot_free(s);

	/* A thread stack a recogniser claims (glibc 2.39+ names them: [anon: glibc: pthread stack],
	 * guard included) is still that thread's stack: the thread points at it and it carries the
	 * thread id, instead of "runs on memory of a Stack allocation, not on a stack of its own". */
	text_len = 0;
	rec("7f0050000000-7f0050001000", "---p", "[anon: glibc: pthread stack]", 4, 0, "mr mw me");
	rec("7f0050001000-7f0050801000", "rw-p", "[anon: glibc: pthread stack]", 8192, 16,
	    "rd wr mr mw me ac");
	s = vms_snapshot_new();
	s->page_size = 4096;
	s->user_top = 0x7ffffffff000;
	s->n_threads = 1;
	s->threads = vms_snapshot_alloc(s, sizeof *s->threads);
	s->threads[0] =
	    (struct vms_thread){.tid = 50, .name = "worker", .sp = 0x7f0050700000, .stack_allocation = -1};
	CHECK(vms_smaps_parse(s, text, text_len) == VMS_OK);
	CHECK(vms_classify(s, &ctx) == VMS_OK);
	CHECK(vms_attribute_with(s, no_reads, NULL, &changed) == VMS_OK && changed == 1);
	check_invariants(s);
	a = fixture_alloc_at(s, 0x7f0050000000);
	CHECK(a && a->type == VMS_TYPE_STACK && a->n_regions == 2 && a->owner && !strcmp(a->owner, "names"));
	CHECK(a && a->tid == 50);
	CHECK(s->threads[0].stack_allocation >= 0 && &s->allocations[s->threads[0].stack_allocation] == a);
	CHECK(s->threads[0].stack_note == NULL);
	vms_snapshot_free(s);
	TEST_MAIN_END();
}
