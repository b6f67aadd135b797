/* many_vmas: a process with N single-page VMAs (default 60,000), for bench/scan.sh.
 *
 * Usage: many_vmas [N] [TIMEOUT_SECONDS]
 * One private anonymous mapping of N pages is written page by page (so every VMA has one
 * resident, dirty page and smaps has work), then every other page is mprotect'ed PROT_READ:
 * consecutive pages alternate r--p / rw-p and cannot merge, giving N VMAs. vm.max_map_count
 * (65530 by default) is not raised: N + the ~30 VMAs of a small process must stay below it.
 * Prints "READY pid=N vmas=M" (M = lines of /proc/self/maps) and waits for SIGTERM/SIGINT or
 * the timeout (default 1800 s). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static long count_maps_lines(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	if (!f)
		return -1;
	long n = 0;
	int c;
	while ((c = getc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 60000;
	long timeout = argc > 2 ? strtol(argv[2], NULL, 10) : 1800;
	size_t ps = (size_t)sysconf(_SC_PAGESIZE);
	sigset_t set;

	if (n < 1) {
		fprintf(stderr, "usage: many_vmas [N] [TIMEOUT_SECONDS]\n");
		return 2;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);

	size_t len = (size_t)n * ps;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		fprintf(stderr, "many_vmas: mmap %zu bytes: %s\n", len, strerror(errno));
		return 1;
	}
	for (long i = 0; i < n; i++)
		p[(size_t)i * ps] = (char)i;
	for (long i = 1; i < n; i += 2) {
		if (mprotect(p + (size_t)i * ps, ps, PROT_READ) != 0) {
			fprintf(stderr, "many_vmas: mprotect page %ld: %s (vm.max_map_count too low?)\n", i,
			        strerror(errno));
			return 1;
		}
	}
	printf("READY pid=%d vmas=%ld\n", (int)getpid(), count_maps_lines());
	fflush(stdout);

	struct timespec ts = {.tv_sec = timeout};
	sigtimedwait(&set, NULL, &ts);
	return 0;
}
