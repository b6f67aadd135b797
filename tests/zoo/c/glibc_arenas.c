/* Zoo program for the glibc malloc recogniser (tests/integration/test_heap_c.py).
 *
 * N worker threads, started one after the other so that thread i creates glibc's thread arena
 * number i + 1 (creation order), each malloc's blocks below the mmap threshold until its arena
 * holds `mib` MiB; worker 0 grows its arena past one heap (HEAP_MAX: 64 MiB on 64-bit, 1 MiB on
 * 32-bit), so that arena has several heaps (chained through heap_info.prev, merged into one VMA
 * when the kernel can). The main thread fills the main arena ([heap]) and malloc's a few
 * >= 1 MiB blocks, which glibc mmaps (one chunk each; adjacent ones may merge into one VMA).
 * Then it prints ONE JSON line with glibc's own accounting (mallinfo2(), malloc_info()) and the
 * addresses the test needs, answers `stats` on stdin with a fresh line, exits on EOF.
 *
 * Build: cc -O1 -pthread glibc_arenas.c   (or -m32). Args: [threads] [big_mib] [mib]. */
#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zoo.h"

#define MAX_THREADS 16
#define MAX_ARENAS 64

struct worker {
	int index;
	size_t bytes; /* to allocate in the arena */
	size_t
	    block; /* block size, a page with its header: heaps fill up to HEAP_MAX exactly, so they merge */
	void *first; /* one of its blocks: the test finds its arena heap by it */
	void *last;
	int tid;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	w->tid = (int)syscall(SYS_gettid);
	for (size_t done = 0; done < w->bytes; done += w->block) {
		char *p = malloc(w->block);
		if (!p)
			abort();
		memset(p, 0x5a, w->block);
		if (!w->first)
			w->first = p;
		w->last = p;
	}
	zoo_ready_and_park();
	return NULL;
}

struct arena_info {
	long nr;
	unsigned long long current, max, aspace_total, aspace_mprotect, subheaps;
};

/* The value of attribute `attr` in the XML element starting at p (up to '>'), or 0. */
static unsigned long long attr(const char *p, const char *name)
{
	const char *end = strchr(p, '>');
	char key[32];
	snprintf(key, sizeof key, "%s=\"", name);
	const char *q = strstr(p, key);
	if (!q || (end && q > end))
		return 0;
	return strtoull(q + strlen(key), NULL, 10);
}

static void print_stats(struct worker *ws, int n, void **chunks, size_t *chunk_sizes, int n_chunks)
{
	char *xml = NULL;
	size_t xml_len = 0;
	FILE *m = open_memstream(&xml, &xml_len);
	malloc_info(0, m);
	fclose(m);

	struct arena_info ar[MAX_ARENAS];
	int n_ar = 0;
	unsigned long long mmap_count = 0, mmap_size = 0, total_current = 0;
	const char *p = xml;
	struct arena_info *cur = NULL;
	while ((p = strchr(p, '<'))) {
		if (!strncmp(p, "<heap nr=", 9) && n_ar < MAX_ARENAS) {
			cur = &ar[n_ar++];
			memset(cur, 0, sizeof *cur);
			cur->nr = (long)attr(p, "nr");
		} else if (!strncmp(p, "</heap>", 7)) {
			cur = NULL;
		} else if (!strncmp(p, "<system type=\"current\"", 22)) {
			if (cur)
				cur->current = attr(p, "size");
			else
				total_current = attr(p, "size");
		} else if (!strncmp(p, "<system type=\"max\"", 18) && cur) {
			cur->max = attr(p, "size");
		} else if (!strncmp(p, "<aspace type=\"total\"", 20) && cur) {
			cur->aspace_total = attr(p, "size");
		} else if (!strncmp(p, "<aspace type=\"mprotect\"", 23) && cur) {
			cur->aspace_mprotect = attr(p, "size");
		} else if (!strncmp(p, "<aspace type=\"subheaps\"", 23) && cur) {
			cur->subheaps = attr(p, "size");
		} else if (!strncmp(p, "<total type=\"mmap\"", 18) && !cur) {
			mmap_count = attr(p, "count");
			mmap_size = attr(p, "size");
		}
		p++;
	}
	free(xml);

	struct mallinfo2 mi = mallinfo2();
	printf("{\"pid\":%d,\"bits\":%d,\"heap_max\":%lu,", (int)getpid(), (int)(8 * sizeof(void *)),
	       (unsigned long)(sizeof(void *) == 8 ? 64ul << 20 : 1ul << 20));
	printf("\"mallinfo2\":{\"arena\":%zu,\"ordblks\":%zu,\"hblks\":%zu,\"hblkhd\":%zu,\"uordblks\":%zu,"
	       "\"fordblks\":%zu,\"keepcost\":%zu},",
	       mi.arena, mi.ordblks, mi.hblks, mi.hblkhd, mi.uordblks, mi.fordblks, mi.keepcost);
	printf("\"malloc_info\":{\"current\":%llu,\"mmap_count\":%llu,\"mmap_size\":%llu,\"arenas\":[",
	       total_current, mmap_count, mmap_size);
	for (int k = 0; k < n_ar; k++)
		printf("%s{\"nr\":%ld,\"current\":%llu,\"max\":%llu,\"aspace_total\":%llu,\"aspace_"
		       "mprotect\":%llu,"
		       "\"subheaps\":%llu}",
		       k ? "," : "", ar[k].nr, ar[k].current, ar[k].max, ar[k].aspace_total,
		       ar[k].aspace_mprotect, ar[k].subheaps);
	printf("]},\"workers\":[");
	for (int k = 0; k < n; k++)
		printf("%s{\"index\":%d,\"tid\":%d,\"bytes\":%zu,\"first\":\"%p\",\"last\":\"%p\"}",
		       k ? "," : "", ws[k].index, ws[k].tid, ws[k].bytes, ws[k].first, ws[k].last);
	printf("],\"chunks\":[");
	for (int k = 0; k < n_chunks; k++)
		printf("%s{\"addr\":\"%p\",\"size\":%zu}", k ? "," : "", chunks[k], chunk_sizes[k]);
	printf("]}\n");
	fflush(stdout);
}

int main(int argc, char **argv)
{
	int is64 = sizeof(void *) == 8;
	int n = argc > 1 ? atoi(argv[1]) : 4;
	size_t big = (size_t)(argc > 2 ? atoi(argv[2]) : (is64 ? 150 : 3)) << 20;
	size_t each = (size_t)(argc > 3 ? atoi(argv[3]) : (is64 ? 8 : 0)) << 20;
	if (!each)
		each = 512u << 10;
	if (n < 1 || n > MAX_THREADS)
		n = 4;
	setvbuf(stdout, NULL, _IOLBF, 0);

	/* the main arena ([heap]): small blocks */
	for (int k = 0; k < 2000; k++)
		memset(malloc(1000), 1, 1000);

	/* workers, one at a time: worker i's first malloc creates arena i + 1 */
	static struct worker ws[MAX_THREADS];
	pthread_t th[MAX_THREADS];
	for (int k = 0; k < n; k++) {
		ws[k] = (struct worker){
		    .index = k, .bytes = k == 0 ? big : each, .block = 4096 - 2 * sizeof(size_t)};
		if (pthread_create(&th[k], NULL, work, &ws[k]))
			return 1;
		zoo_wait_ready(k + 1);
	}

	/* mmapped chunks (>= 1 MiB, above the mmap threshold): touched */
	static const size_t mib[] = {1, 2, 3, 5};
	void *chunks[4];
	size_t sizes[4];
	for (int k = 0; k < 4; k++) {
		sizes[k] = mib[k] << 20;
		chunks[k] = malloc(sizes[k]);
		if (!chunks[k])
			return 1;
		memset(chunks[k], 0x33, sizes[k]);
	}

	print_stats(ws, n, chunks, sizes, 4);
	char line[64];
	while (fgets(line, sizeof line, stdin))
		if (!strncmp(line, "stats", 5))
			print_stats(ws, n, chunks, sizes, 4);
	return 0;
}
