/* sparse_region: one private anonymous MAP_NORESERVE mapping of GIB GiB (default 10) with one
 * page written every STEP KiB (default 1024), for bench/residency.sh.
 *
 * Usage: sparse_region [GIB] [STEP_KIB] [TIMEOUT_SECONDS]
 * Prints "READY pid=N start=0x... end=0x... touched=M" and waits for SIGTERM/SIGINT or the
 * timeout (default 1800 s). THP is turned off for the mapping (MADV_NOHUGEPAGE) so that each
 * written page stays one 4 KiB page. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	unsigned long gib = argc > 1 ? strtoul(argv[1], NULL, 10) : 10;
	unsigned long step = (argc > 2 ? strtoul(argv[2], NULL, 10) : 1024) << 10;
	unsigned timeout = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 10) : 1800;
	size_t len = (size_t)gib << 30;
	sigset_t set;
	if (!gib || !step) {
		fprintf(stderr, "usage: sparse_region [GIB] [STEP_KIB] [TIMEOUT_SECONDS]\n");
		return 2;
	}
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED) {
		perror("sparse_region: mmap");
		return 1;
	}
	madvise(p, len, MADV_NOHUGEPAGE);
	unsigned long touched = 0;
	for (size_t off = 0; off < len; off += step, touched++)
		p[off] = 1;
	printf("READY pid=%d start=%p end=%p touched=%lu\n", (int)getpid(), (void *)p, (void *)(p + len),
	       touched);
	fflush(stdout);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	struct timespec ts = {.tv_sec = timeout};
	sigtimedwait(&set, NULL, &ts);
	return 0;
}
