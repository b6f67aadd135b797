/* vms_testee: a process with known mappings, started by the integration tests and benchmarks.
 *
 * Usage: vms_testee DIR [TIMEOUT_SECONDS]
 *   DIR      an existing directory for the files it maps (the caller creates and removes it)
 *   TIMEOUT  exit by itself after this many seconds (default 900) so a crashed test leaks nothing
 *
 * It creates, in this order: a data file, a deleted file and a file whose name holds a space and
 * a newline (all mapped MAP_PRIVATE read-only and read), a memfd "vms-memfd", a SysV segment
 * (IPC_RMID'd after shmat), a POSIX shm object "/vms-test-<pid>", a MAP_SHARED|MAP_ANONYMOUS
 * region (/dev/zero (deleted)), then 4 threads "worker-0".."worker-3" that each malloc(100 KiB)
 * (glibc gives each new thread its own arena) and block in pause(), then a 16 MiB
 * PROT_NONE|MAP_NORESERVE reservation, a 64 KiB mlocked region and a plain private anonymous
 * region. Those three are placed between one-page holes, after the thread stacks, so that no
 * neighbour touches them (an 8 MiB stack would otherwise fill the gap right below).
 * Every mapping is touched so it has resident pages.
 *
 * When everything exists it prints ONE line to stdout and flushes it:
 *   READY pid=N main_tid=N main_stack=0x.. exe_fn=0x.. libc_fn=0x.. page_size=N
 *         KEY=0xADDR KEY_size=BYTES ...   for KEY in memfd sysv posix devzero datafile deleted
 *                                         weird reserve mlock anon
 *         shmid=N posix_name=/vms-test-N mlock_ok=0|1 mlock_errno=N
 *         workers=4 wI_tid=N wI_stack=0x.. wI_heap=0x..  (I = 0..3)
 *         arenas=N (distinct 64 MiB-aligned arena heaps holding the workers' blocks)
 *         asan=0|1 (built with AddressSanitizer: malloc is not glibc's, so no arenas)
 * File names inside DIR: "data.bin", "deleted.bin" (unlinked), "name with space\nand newline.bin".
 * Diagnostics go to stderr. SIGTERM/SIGINT/SIGHUP (or the parent's death, or the timeout) make it
 * shm_unlink the POSIX object, unlink its files and exit 0. Exit 1 on setup failure. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define N_WORKERS 4
#define ARENA_ALIGN ((uintptr_t)64 << 20) /* HEAP_MAX_SIZE on 64-bit glibc */

struct worker {
	int index;
	pid_t tid;
	uintptr_t stack_addr;
	void *heap;
};

static pthread_barrier_t g_ready;

static void die(const char *what)
{
	fprintf(stderr, "vms_testee: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Touch every page so the mapping has resident pages: read (for read-only) or write. */
static void touch(void *p, size_t size, size_t ps, int write)
{
	volatile unsigned char *c = p;
	unsigned sum = 0;
	for (size_t off = 0; off < size; off += ps) {
		if (write)
			c[off] = (unsigned char)(off / ps + 1);
		else
			sum += c[off];
	}
	(void)sum;
}

/* Map size bytes with one unmapped page on each side, so the new VMA cannot merge with a
 * neighbour that happens to have the same flags (arena tails are ---p nr like our reservation). */
static void *map_isolated(size_t size, int prot, int flags, int fd, size_t ps)
{
	char *res = mmap(NULL, size + 2 * ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (res == MAP_FAILED)
		die("mmap reserve");
	void *p = mmap(res + ps, size, prot, flags | MAP_FIXED, fd, 0);
	if (p == MAP_FAILED)
		die("mmap fixed");
	if (munmap(res, ps) != 0 || munmap(res + ps + size, ps) != 0)
		die("munmap edge");
	return p;
}

static void write_file(const char *path, size_t size, unsigned char fill)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		die(path);
	unsigned char buf[4096];
	memset(buf, fill, sizeof buf);
	memcpy(buf, "vms_testee data, not ELF\n", 25);
	for (size_t done = 0; done < size;) {
		size_t n = size - done < sizeof buf ? size - done : sizeof buf;
		ssize_t w = write(fd, buf, n);
		if (w <= 0)
			die("write");
		done += (size_t)w;
	}
	if (close(fd) != 0)
		die("close");
}

/* Size the file behind fd, map it shared read-write, close fd and touch every page. */
static void *map_shared_fd(int fd, size_t size, size_t ps)
{
	if (ftruncate(fd, (off_t)size) != 0)
		die("ftruncate shared");
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		die("mmap shared");
	close(fd);
	touch(p, size, ps, 1);
	return p;
}

static void *map_file_ro(const char *path, size_t size, size_t ps)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die(path);
	void *p = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		die("mmap file");
	close(fd);
	touch(p, size, ps, 0);
	return p;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	volatile char on_stack[64];
	char name[16];

	on_stack[0] = 1;
	snprintf(name, sizeof name, "worker-%d", w->index);
	pthread_setname_np(pthread_self(), name);
	w->tid = gettid();
	w->stack_addr = (uintptr_t)&on_stack[0];
	w->heap = malloc(100 * 1024);
	if (w->heap)
		memset(w->heap, 0x40 + w->index, 100 * 1024);
	pthread_barrier_wait(&g_ready);
	for (;;)
		pause();
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: vms_testee DIR [TIMEOUT_SECONDS]\n");
		return 2;
	}
	const char *dir = argv[1];
	long timeout = argc > 2 ? strtol(argv[2], NULL, 10) : 900;
	size_t ps = (size_t)sysconf(_SC_PAGESIZE);
	pid_t pid = getpid();
	volatile char main_local = 1;
	char path_data[4096], path_deleted[4096], path_weird[4096], posix_name[64];

	/* Signals are consumed with sigtimedwait by the main thread; workers inherit the mask. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
		die("sigmask");
	prctl(PR_SET_PDEATHSIG, SIGTERM);

	/* Files. */
	const size_t data_size = 10 * ps, deleted_size = 6 * ps, weird_size = 3 * ps;
	snprintf(path_data, sizeof path_data, "%s/data.bin", dir);
	snprintf(path_deleted, sizeof path_deleted, "%s/deleted.bin", dir);
	snprintf(path_weird, sizeof path_weird, "%s/name with space\nand newline.bin", dir);
	write_file(path_data, data_size, 'D');
	write_file(path_deleted, deleted_size, 'X');
	write_file(path_weird, weird_size, 'W');
	void *datafile = map_file_ro(path_data, data_size, ps);
	void *deleted = map_file_ro(path_deleted, deleted_size, ps);
	if (unlink(path_deleted) != 0)
		die("unlink deleted.bin");
	void *weird = map_file_ro(path_weird, weird_size, ps);

	/* memfd. */
	const size_t memfd_size = 64 * ps;
	int mfd = memfd_create("vms-memfd", MFD_CLOEXEC);
	if (mfd < 0)
		die("memfd_create");
	void *memfd = map_shared_fd(mfd, memfd_size, ps);

	/* SysV shm, removed right away: stays attached as "/SYSV00000000 (deleted)". */
	const size_t sysv_size = 80 * ps;
	int shmid = shmget(IPC_PRIVATE, sysv_size, IPC_CREAT | 0600);
	if (shmid < 0)
		die("shmget");
	void *sysv = shmat(shmid, NULL, 0);
	if (sysv == (void *)-1)
		die("shmat");
	if (shmctl(shmid, IPC_RMID, NULL) != 0)
		die("shmctl IPC_RMID");
	touch(sysv, sysv_size, ps, 1);

	/* POSIX shm. */
	const size_t posix_size = 96 * ps;
	snprintf(posix_name, sizeof posix_name, "/vms-test-%d", (int)pid);
	int pfd = shm_open(posix_name, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (pfd < 0)
		die("shm_open");
	void *posix = map_shared_fd(pfd, posix_size, ps);

	/* Shared anonymous: "/dev/zero (deleted)". */
	const size_t devzero_size = 112 * ps;
	void *devzero = mmap(NULL, devzero_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (devzero == MAP_FAILED)
		die("mmap shared anon");
	touch(devzero, devzero_size, ps, 1);

	/* Threads. */
	struct worker workers[N_WORKERS];
	pthread_t threads[N_WORKERS];
	if (pthread_barrier_init(&g_ready, NULL, N_WORKERS + 1) != 0)
		die("barrier");
	for (int i = 0; i < N_WORKERS; i++) {
		workers[i] = (struct worker){.index = i};
		int e = pthread_create(&threads[i], NULL, worker_main, &workers[i]);
		if (e != 0) {
			errno = e;
			die("pthread_create");
		}
	}
	pthread_barrier_wait(&g_ready);

	/* Private anonymous kinds, each between holes. */
	const size_t reserve_size = 16u << 20;
	void *reserve =
	    map_isolated(reserve_size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, ps);
	const size_t mlock_size = 64 * 1024;
	void *locked = map_isolated(mlock_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, ps);
	touch(locked, mlock_size, ps, 1);
	int mlock_ok = 1, mlock_errno = 0;
	/* The raw syscall: ASan's mlock interceptor does nothing and returns 0. */
	if (syscall(SYS_mlock, locked, mlock_size) != 0) {
		mlock_ok = 0;
		mlock_errno = errno;
		fprintf(
		    stderr,
		    "vms_testee: mlock(64 KiB) failed: %s (RLIMIT_MEMLOCK too low and no CAP_IPC_LOCK?)\n",
		    strerror(errno));
	}
	const size_t anon_size = 48 * ps;
	void *anon = map_isolated(anon_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, ps);
	touch(anon, anon_size, ps, 1);

	uintptr_t bases[N_WORKERS] = {0};
	int n_arenas = 0;
	for (int i = 0; i < N_WORKERS; i++) {
		if (!workers[i].heap) {
			errno = ENOMEM;
			die("worker malloc");
		}
		uintptr_t b = (uintptr_t)workers[i].heap & ~(ARENA_ALIGN - 1);
		int seen = 0;
		for (int j = 0; j < n_arenas; j++)
			seen |= bases[j] == b;
		if (!seen)
			bases[n_arenas++] = b;
	}
	/* Under AddressSanitizer malloc is ASan's, not glibc's: there are no arenas to find. */
#if defined(__SANITIZE_ADDRESS__)
	const int sanitized = 1;
#else
	const int sanitized = 0;
#endif
	if (n_arenas < 2 && !sanitized)
		fprintf(stderr, "vms_testee: only %d glibc arena(s) for %d workers\n", n_arenas, N_WORKERS);

	/* An address inside libc's text. Look it up in libc itself: under ASan, RTLD_DEFAULT would
	 * find the sanitizer's interceptor. */
	void *libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
	void *libc_fn = libc ? dlsym(libc, "fopen") : NULL;
	if (!libc_fn) {
		fprintf(stderr, "vms_testee: cannot find fopen in libc.so.6\n");
		return 1;
	}
	int (*exe_fn)(int, char **) = main;

	printf("READY pid=%d main_tid=%d main_stack=0x%" PRIxPTR " exe_fn=0x%" PRIxPTR " libc_fn=0x%" PRIxPTR
	       " page_size=%zu",
	       (int)pid, (int)gettid(), (uintptr_t)&main_local, (uintptr_t)exe_fn, (uintptr_t)libc_fn, ps);
	const struct {
		const char *key;
		void *addr;
		size_t size;
	} maps[] = {
	    {"memfd", memfd, memfd_size},      {"sysv", sysv, sysv_size},
	    {"posix", posix, posix_size},      {"devzero", devzero, devzero_size},
	    {"datafile", datafile, data_size}, {"deleted", deleted, deleted_size},
	    {"weird", weird, weird_size},      {"reserve", reserve, reserve_size},
	    {"mlock", locked, mlock_size},     {"anon", anon, anon_size},
	};
	for (size_t i = 0; i < sizeof maps / sizeof maps[0]; i++)
		printf(" %s=0x%" PRIxPTR " %s_size=%zu", maps[i].key, (uintptr_t)maps[i].addr, maps[i].key,
		       maps[i].size);
	printf(" shmid=%d posix_name=%s mlock_ok=%d mlock_errno=%d workers=%d", shmid, posix_name, mlock_ok,
	       mlock_errno, N_WORKERS);
	for (int i = 0; i < N_WORKERS; i++)
		printf(" w%d_tid=%d w%d_stack=0x%" PRIxPTR " w%d_heap=0x%" PRIxPTR, i, (int)workers[i].tid, i,
		       workers[i].stack_addr, i, (uintptr_t)workers[i].heap);
	printf(" arenas=%d asan=%d\n", n_arenas, sanitized);
	if (fflush(stdout) != 0)
		die("flush stdout");

	struct timespec ts = {.tv_sec = timeout > 0 ? timeout : 900};
	int sig = sigtimedwait(&set, NULL, &ts);
	if (sig < 0 && errno == EAGAIN)
		fprintf(stderr, "vms_testee: timeout after %ld s, exiting\n", (long)ts.tv_sec);

	shm_unlink(posix_name);
	unlink(path_data);
	unlink(path_weird);
	(void)main_local;
	return 0;
}
