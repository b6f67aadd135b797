/* Zoo program for the musl recogniser (tests/integration/test_heap_c.py), built with
 * `musl-gcc -static` (mallocng, musl 1.2.3 on Debian 12).
 *
 * It malloc's and frees small blocks (mallocng groups: struct meta in the brk meta area, groups
 * mmapped or nested in larger slots), keeps a set of them, malloc's a few large blocks (>=
 * MMAP_THRESHOLD, one mmap each: sizeclass 63) and starts worker threads (musl stacks: 128 KiB
 * + 8 KiB guard, no `nh` flag) that block in pause(). musl has no mallinfo, so the program
 * prints its own books as ONE JSON line: every large block (address, size), the bytes it holds
 * in small blocks, the threads' ids. Answers `stats` on stdin, exits on EOF. Args: [threads]. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zoo.h"

#define MAX_THREADS 8
#define N_SMALL 20000

static int tids[MAX_THREADS];

static void *work(void *arg)
{
	int k = (int)(intptr_t)arg;
	void *p = malloc(100 + k); /* a thread touches the allocator too */
	memset(p, 1, 100);
	tids[k] = (int)syscall(SYS_gettid); /* read by main after zoo_wait_ready */
	zoo_ready_and_park();
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 3;
	if (n < 0 || n > MAX_THREADS)
		n = 3;
	static void *small[N_SMALL];
	size_t small_bytes = 0;
	/* small blocks of mixed sizes, half of them freed again */
	for (int k = 0; k < N_SMALL; k++) {
		size_t sz = 16 + (size_t)(k * 37 % 2000);
		small[k] = malloc(sz);
		memset(small[k], 7, sz);
		small_bytes += sz;
	}
	for (int k = 0; k < N_SMALL; k += 2) {
		small_bytes -= 16 + (size_t)(k * 37 % 2000);
		free(small[k]);
		small[k] = NULL;
	}
	/* large blocks: one mmap each; one freed again */
	static const size_t mib[] = {1, 2, 3, 5, 4};
	void *large[5];
	for (int k = 0; k < 5; k++) {
		large[k] = malloc(mib[k] << 20);
		memset(large[k], 9, mib[k] << 20);
	}
	free(large[4]);
	pthread_t th[MAX_THREADS];
	for (int k = 0; k < n; k++) {
		if (pthread_create(&th[k], NULL, work, (void *)(intptr_t)k))
			return 1;
	}
	zoo_wait_ready(n);

	char line[64];
	int first = 1;
	while (first || fgets(line, sizeof line, stdin)) {
		if (!first && strncmp(line, "stats", 5))
			continue;
		first = 0;
		printf("{\"pid\":%d,\"bits\":%d,\"small_bytes\":%zu,\"large\":[", (int)getpid(),
		       (int)(8 * sizeof(void *)), small_bytes);
		for (int k = 0; k < 4; k++)
			printf("%s{\"addr\":\"%p\",\"size\":%zu}", k ? "," : "", large[k], mib[k] << 20);
		printf("],\"threads\":[");
		for (int k = 0; k < n; k++)
			printf("%s%d", k ? "," : "", tids[k]);
		printf("]}\n");
		fflush(stdout);
	}
	return 0;
}
