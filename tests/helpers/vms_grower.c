/* vms_grower: a process whose native heap grows at a known, steady rate, for the timeline tests.
 *
 * Usage: vms_grower KIB_PER_STEP STEP_MS [TIMEOUT_SECONDS]
 *   Every STEP_MS it malloc()s KIB_PER_STEP KiB and writes every page of it, forever (until
 *   the timeout, default 300 s, or SIGTERM). STEP_MS 0: it grows only when told, by
 *   KIB_PER_STEP KiB once per SIGUSR1 (a one-time jump the test controls). mallopt(M_MMAP_THRESHOLD) is
 * raised so that glibc serves the blocks from the brk heap: the one allocation "[heap]" grows at the same
 * start. Prints one line when set up: "READY pid=N heap=0x... step_kib=N step_ms=N" (the first block's
 * address) and then one line per step: "GROWN total_kib=N". */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t g_jumps; /* SIGUSR1s not yet served */

static void on_usr1(int sig)
{
	(void)sig;
	g_jumps++;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: vms_grower KIB_PER_STEP STEP_MS [TIMEOUT_SECONDS]\n");
		return 2;
	}
	long kib = atol(argv[1]), step_ms = atol(argv[2]), timeout = argc > 3 ? atol(argv[3]) : 300;
	if (kib <= 0 || step_ms < 0)
		return 2;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	sigset_t usr1, unblocked;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, &unblocked); /* delivered only inside sigsuspend: none lost */
	sigdelset(&unblocked, SIGUSR1);
	mallopt(M_MMAP_THRESHOLD, 256 << 20);
	mallopt(M_TRIM_THRESHOLD, 512 << 20);
	alarm((unsigned)timeout);
	size_t n = (size_t)kib << 10;
	char *first = malloc(n);
	if (!first)
		return 1;
	memset(first, 1, n);
	printf("READY pid=%d heap=%p step_kib=%ld step_ms=%ld\n", (int)getpid(), (void *)first, kib, step_ms);
	fflush(stdout);
	long total = kib;
	for (;;) {
		if (step_ms == 0) {
			while (!g_jumps)
				sigsuspend(&unblocked);
			g_jumps--;
		} else {
			struct timespec ts = {step_ms / 1000, (step_ms % 1000) * 1000000L};
			nanosleep(&ts, NULL);
		}
		char *p = malloc(n);
		if (!p)
			return 1;
		memset(p, 1, n);
		total += kib;
		printf("GROWN total_kib=%ld\n", total);
		fflush(stdout);
	}
}
