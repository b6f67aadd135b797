/* vms_mapfile: map one file and wait, for the dashboard's end-to-end tests.
 *
 * Usage: vms_mapfile PATH [TIMEOUT_SECONDS [NAME]]
 *   PATH     an existing, non-empty file; mapped whole, MAP_SHARED, read-only, every page read
 *   TIMEOUT  exit by itself after this many seconds (default 600) so a crashed test leaks nothing
 *   NAME     set the process name (comm, at most 15 bytes) with PR_SET_NAME
 *
 * The e2e test names the file like an HTML tag (`<img src=x onerror=alert(1)>`) to check that
 * the dashboard shows untrusted path names as text. When the mapping exists it prints ONE line to
 * stdout and flushes it:
 *   READY pid=N addr=0x.. size=BYTES
 * Each SIGUSR1 makes it map one more shared anonymous region of 2 MiB (shmem: never merged with a
 * neighbour, so it is always a new allocation), touch every page and print
 *   GREW addr=0x.. size=BYTES
 * so that a test can take two snapshots with a known difference between them.
 * SIGTERM/SIGINT/SIGHUP, the parent's death or the timeout make it exit 0. Exit 1 on failure
 * (the reason on stderr). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static volatile sig_atomic_t grow;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		grow = 1;
	else
		stop = 1;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: vms_mapfile PATH [TIMEOUT_SECONDS [NAME]]\n");
		return 1;
	}
	long timeout = argc >= 3 ? strtol(argv[2], NULL, 10) : 600;
	if (timeout <= 0)
		timeout = 600;

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (argc == 4)
		prctl(PR_SET_NAME, argv[3]);
	if (getppid() == 1) /* the parent died before prctl took effect */
		return 0;

	int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "vms_mapfile: open %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || st.st_size <= 0) {
		fprintf(stderr, "vms_mapfile: %s is empty or cannot be read\n", argv[1]);
		close(fd);
		return 1;
	}
	size_t size = (size_t)st.st_size;
	unsigned char *p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		fprintf(stderr, "vms_mapfile: mmap: %s\n", strerror(errno));
		return 1;
	}
	long page = sysconf(_SC_PAGESIZE);
	volatile unsigned sum = 0;
	for (size_t off = 0; off < size; off += (size_t)page)
		sum += p[off];
	(void)sum;

	printf("READY pid=%ld addr=%p size=%zu\n", (long)getpid(), (void *)p, size);
	fflush(stdout);

	/* Signals stay blocked except inside sigsuspend(), so none is lost between a check of the
	 * flags and the wait. */
	sigset_t block, waitmask;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGALRM);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	sigdelset(&waitmask, SIGUSR1);
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGINT);
	sigdelset(&waitmask, SIGHUP);
	sigdelset(&waitmask, SIGALRM);
	alarm((unsigned)timeout);
	while (!stop) {
		if (!grow) {
			sigsuspend(&waitmask);
			continue;
		}
		grow = 0;
		size_t gsize = (size_t)2 << 20;
		unsigned char *g =
		    mmap(NULL, gsize, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (g == MAP_FAILED) {
			fprintf(stderr, "vms_mapfile: mmap: %s\n", strerror(errno));
			return 1;
		}
		for (size_t off = 0; off < gsize; off += (size_t)page)
			g[off] = 1;
		printf("GREW addr=%p size=%zu\n", (void *)g, gsize);
		fflush(stdout);
	}
	munmap(p, size);
	return 0;
}
