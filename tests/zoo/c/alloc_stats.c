/* Zoo program for the native-allocator tests (tests/integration/test_heap_allocs.py).
 *
 * Allocates a known pattern (many small blocks, some medium, a few large, from the main thread
 * and from several threads that then stay alive), then prints the allocator's OWN statistics as
 * one JSON line. One binary serves every allocator: it finds the allocator's statistics call
 * with dlsym(RTLD_DEFAULT, ...), so running it with LD_PRELOAD=libjemalloc.so.2,
 * libtcmalloc*.so.4 or libmimalloc.so.2 reports that allocator's figures:
 *   jemalloc  mallctl("epoch"), then stats.mapped/retained/resident/active/allocated/metadata
 *   tcmalloc  MallocExtension_GetNumericProperty("generic.heap_size", ...)
 *   mimalloc  mi_process_info (current_commit) and mi_stats_print_out ("reserved" row)
 *   glibc     mallinfo2
 * Answers "stats" on stdin with a fresh line; exits on EOF or SIGTERM.
 * Build: cc -O1 -pthread alloc_stats.c -o alloc_stats */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define THREADS 4
#define SMALL_PER_THREAD 40000 /* 16..1024 bytes each: ~20 MiB per thread */
#define MEDIUM_PER_THREAD 64   /* 64 KiB each */
#define LARGE 3                /* 12 MiB each, main thread */

static size_t live_bytes[THREADS + 1];

struct worker {
	int idx;
	pthread_mutex_t *mu;
	pthread_cond_t *cv;
	int *ready;
	int *quit;
};

static void allocate_pattern(int idx, unsigned seed)
{
	size_t live = 0;
	void **small = malloc(SMALL_PER_THREAD * sizeof *small);
	if (!small)
		abort();
	for (int i = 0; i < SMALL_PER_THREAD; i++) {
		seed = seed * 1103515245u + 12345u;
		size_t n = 16 + (seed >> 8) % 1009;
		small[i] = malloc(n);
		if (!small[i])
			abort();
		memset(small[i], idx + 1, n);
		live += n;
		if (i % 3 == 2) { /* free a third: fragmentation the allocator keeps */
			seed = seed * 1103515245u + 12345u;
			int k = (int)((seed >> 8) % (unsigned)i);
			if (small[k]) {
				free(small[k]);
				small[k] = NULL;
			}
		}
	}
	for (int i = 0; i < MEDIUM_PER_THREAD; i++) {
		void *p = malloc(64 << 10);
		if (!p)
			abort();
		memset(p, 7, 64 << 10);
		live += 64 << 10;
	}
	live_bytes[idx] = live; /* approximate: freed small blocks are not subtracted */
	                        /* small[] itself and the blocks stay allocated for the life of the process */
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	allocate_pattern(w->idx, 1234u + (unsigned)w->idx * 77u);
	pthread_mutex_lock(w->mu);
	(*w->ready)++;
	pthread_cond_broadcast(w->cv);
	while (!*w->quit)
		pthread_cond_wait(w->cv, w->mu); /* blocked in a syscall: vmscope sees its stack pointer */
	pthread_mutex_unlock(w->mu);
	return NULL;
}

/* ---- the allocators' own statistics --------------------------------------------------------- */

typedef int (*mallctl_fn)(const char *, void *, size_t *, void *, size_t);
typedef int (*tc_prop_fn)(const char *, size_t *);
typedef void (*mi_info_fn)(size_t *, size_t *, size_t *, size_t *, size_t *, size_t *, size_t *, size_t *);
typedef void (*mi_out_fn)(const char *, void *);
typedef void (*mi_print_fn)(mi_out_fn, void *);

static size_t je_get(mallctl_fn f, const char *name)
{
	size_t v = 0, len = sizeof v;
	if (f(name, &v, &len, NULL, 0) != 0)
		return 0;
	return v;
}

/* mi_stats_print_out writes a table; its "reserved:" row is "reserved: PEAK TOTAL FREED CURRENT"
 * with units (e.g. "64.0 MiB"). We want the current (last) amount. */
struct mi_scan {
	char buf[16384];
	size_t len;
};

static void mi_collect(const char *msg, void *arg)
{
	struct mi_scan *m = arg;
	size_t n = strlen(msg);
	if (m->len + n < sizeof m->buf) {
		memcpy(m->buf + m->len, msg, n);
		m->len += n;
		m->buf[m->len] = 0;
	}
}

static double unit_scale(const char *u)
{
	if (!strncmp(u, "KiB", 3))
		return 1024.0;
	if (!strncmp(u, "MiB", 3))
		return 1024.0 * 1024;
	if (!strncmp(u, "GiB", 3))
		return 1024.0 * 1024 * 1024;
	if (!strncmp(u, "B", 1) || !strncmp(u, "b", 1))
		return 1.0;
	return 0.0;
}

/* The last "<number> <unit>" amount on the row that starts with `row`, in bytes; -1 if absent. */
static double mi_row_current(const char *text, const char *row)
{
	const char *p = strstr(text, row);
	if (!p)
		return -1;
	const char *eol = strchr(p, '\n');
	if (!eol)
		eol = p + strlen(p);
	double last = -1;
	for (const char *q = p + strlen(row); q < eol;) {
		char *end;
		double v = strtod(q, &end);
		if (end == q) {
			q++;
			continue;
		}
		while (*end == ' ')
			end++;
		double sc = unit_scale(end);
		if (sc > 0)
			last = v * sc;
		q = end;
	}
	return last;
}

static void print_stats(void)
{
	size_t live = 0;
	for (int i = 0; i <= THREADS; i++)
		live += live_bytes[i];
	mallctl_fn je = (mallctl_fn)dlsym(RTLD_DEFAULT, "mallctl");
	tc_prop_fn tc = (tc_prop_fn)dlsym(RTLD_DEFAULT, "MallocExtension_GetNumericProperty");
	mi_info_fn mi = (mi_info_fn)dlsym(RTLD_DEFAULT, "mi_process_info");
	if (je) {
		uint64_t epoch = 1;
		size_t len = sizeof epoch;
		je("epoch", &epoch, &len, &epoch, len);
		printf("{\"allocator\":\"jemalloc\",\"pid\":%d,\"threads\":%d,\"requested\":%zu,\"mapped\":%"
		       "zu,\"retained\":%zu,"
		       "\"resident\":%zu,\"active\":%zu,\"allocated\":%zu,\"metadata\":%zu}\n",
		       (int)getpid(), THREADS, live, je_get(je, "stats.mapped"), je_get(je, "stats.retained"),
		       je_get(je, "stats.resident"), je_get(je, "stats.active"),
		       je_get(je, "stats.allocated"), je_get(je, "stats.metadata"));
	} else if (tc) {
		size_t heap = 0, alloc = 0, pfree = 0, unmapped = 0, phys = 0;
		tc("generic.heap_size", &heap);
		tc("generic.current_allocated_bytes", &alloc);
		tc("tcmalloc.pageheap_free_bytes", &pfree);
		tc("tcmalloc.pageheap_unmapped_bytes", &unmapped);
		tc("generic.total_physical_bytes", &phys);
		/* total_physical = heap_size - unmapped + metadata (gperftools src/tcmalloc.cc) */
		size_t meta = phys + unmapped > heap ? phys + unmapped - heap : 0;
		printf("{\"allocator\":\"tcmalloc\",\"pid\":%d,\"threads\":%d,\"requested\":%zu,\"heap_"
		       "size\":%zu,"
		       "\"current_allocated_bytes\":%zu,\"pageheap_free_bytes\":%zu,\"pageheap_unmapped_"
		       "bytes\":%zu,"
		       "\"total_physical_bytes\":%zu,\"metadata\":%zu}\n",
		       (int)getpid(), THREADS, live, heap, alloc, pfree, unmapped, phys, meta);
	} else if (mi) {
		size_t el, ut, st, rss, prss, commit, pcommit, faults;
		mi(&el, &ut, &st, &rss, &prss, &commit, &pcommit, &faults);
		static struct mi_scan scan;
		scan.len = 0;
		scan.buf[0] = 0;
		mi_print_fn pr = (mi_print_fn)dlsym(RTLD_DEFAULT, "mi_stats_print_out");
		if (pr)
			pr(mi_collect, &scan);
		double reserved = mi_row_current(scan.buf, "reserved:");
		double committed = mi_row_current(scan.buf, "committed:");
		printf("{\"allocator\":\"mimalloc\",\"pid\":%d,\"threads\":%d,\"requested\":%zu,\"current_"
		       "commit\":%zu,"
		       "\"stats_reserved\":%.0f,\"stats_committed\":%.0f,\"current_rss\":%zu}\n",
		       (int)getpid(), THREADS, live, commit, reserved, committed, rss);
	} else {
		struct mallinfo2 m = mallinfo2();
		printf("{\"allocator\":\"glibc\",\"pid\":%d,\"threads\":%d,\"requested\":%zu,\"arena\":%zu,"
		       "\"hblkhd\":%zu,"
		       "\"uordblks\":%zu}\n",
		       (int)getpid(), THREADS, live, m.arena, m.hblkhd, m.uordblks);
	}
	fflush(stdout);
}

int main(void)
{
	pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
	int ready = 0, quit = 0;
	pthread_t th[THREADS];
	struct worker w[THREADS];
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){.idx = i + 1, .mu = &mu, .cv = &cv, .ready = &ready, .quit = &quit};
		if (pthread_create(&th[i], NULL, worker_main, &w[i]) != 0)
			return 1;
	}
	allocate_pattern(0, 42u);
	for (int i = 0; i < LARGE; i++) {
		void *p = malloc(12u << 20);
		if (!p)
			return 1;
		memset(p, 9, 12u << 20);
		live_bytes[0] += 12u << 20;
	}
	pthread_mutex_lock(&mu);
	while (ready < THREADS)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);

	print_stats();
	char line[64];
	while (fgets(line, sizeof line, stdin))
		if (!strncmp(line, "stats", 5))
			print_stats();

	pthread_mutex_lock(&mu);
	quit = 1;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	return 0;
}
