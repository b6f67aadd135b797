/* vms_stepper: a process that maps and unmaps memory in steps a test drives, for the timeline's
 * full snapshots by threshold and "new allocations that kept growing" (test_watch_steps.sh).
 *
 * Usage: vms_stepper [TIMEOUT_SECONDS]   (default 120)
 * Reads one command per line on stdin and answers one line on stdout when it is done:
 *   many N      map N separate 64 KiB read-write mappings, each with a PROT_NONE page above
 *               it so the kernel merges none of them      -> "MANY first=0x..."
 *   big MIB     map MIB MiB read-write and write every page -> "BIG start=0x..."
 *   unbig       unmap that                                  -> "UNBIG"
 *   grow MIB [SLOT]
 *               the first time (for SLOT 0 or 1, default 0): reserve 256 MiB PROT_NONE, then
 *               every time make MIB more of it read-write from its start and write those
 *               pages (one allocation that appears and keeps growing at the same start)
 *                                                           -> "GROW start=0x... rw_mib=N"
 * Prints "READY pid=N" first. Exits at EOF, on the timeout or on SIGTERM. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define KIB 1024ul
#define MIB (1024ul * 1024ul)
#define RESERVE (256ul * MIB)

int main(int argc, char **argv)
{
	char line[128];
	char *big = NULL, *grows[2] = {NULL, NULL};
	size_t big_len = 0, grows_rw[2] = {0, 0};
	alarm((unsigned)(argc > 1 ? atoi(argv[1]) : 120));
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("READY pid=%d\n", (int)getpid());
	while (fgets(line, sizeof line, stdin)) {
		long n = 0;
		if (sscanf(line, "many %ld", &n) == 1 && n > 0 && n <= 4096) {
			char *first = NULL;
			for (long i = 0; i < n; i++) {
				char *p = mmap(NULL, 64 * KIB + 4 * KIB, PROT_READ | PROT_WRITE,
				               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
				if (p == MAP_FAILED)
					return 1;
				mprotect(p + 64 * KIB, 4 * KIB, PROT_NONE);
				memset(p, 1, 64 * KIB);
				if (!first)
					first = p;
			}
			printf("MANY first=%p\n", (void *)first);
		} else if (sscanf(line, "big %ld", &n) == 1 && n > 0 && !big) {
			big_len = (size_t)n * MIB;
			big = mmap(NULL, big_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (big == MAP_FAILED)
				return 1;
			memset(big, 1, big_len);
			printf("BIG start=%p\n", (void *)big);
		} else if (!strncmp(line, "unbig", 5) && big) {
			munmap(big, big_len);
			big = NULL;
			printf("UNBIG\n");
		} else if (sscanf(line, "grow %ld", &n) == 1 && n > 0) {
			long slot = 0;
			if (sscanf(line, "grow %ld %ld", &n, &slot) == 2 && (slot < 0 || slot > 1))
				return 1;
			char *grow = grows[slot];
			size_t grow_rw = grows_rw[slot];
			if (!grow) {
				grow = mmap(NULL, RESERVE, PROT_NONE,
				            MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
				if (grow == MAP_FAILED)
					return 1;
			}
			size_t more = (size_t)n * MIB;
			if (grow_rw + more > RESERVE)
				return 1;
			mprotect(grow, grow_rw + more, PROT_READ | PROT_WRITE);
			memset(grow + grow_rw, 1, more);
			grow_rw += more;
			grows[slot] = grow;
			grows_rw[slot] = grow_rw;
			printf("GROW start=%p rw_mib=%zu\n", (void *)grow, grow_rw / MIB);
		} else {
			printf("ERROR %s", line);
		}
	}
	return 0;
}
