/* The timeline sampler's manners (server/http/sampler.c), against vms_http_start() in this
 * process with a temporary store and a child with many one-page VMAs (so that a scan takes
 * longer than the shortest interval):
 *  - interactive scans first: while the scan lock is held (as an interactive scan holds it) the
 *    sampler stores nothing, counts skipped ticks and says so in the note; it samples again
 *    when the lock is free; interactive scans taken while a watch runs all succeed promptly;
 *  - a tick that takes longer than the interval backs the watch off and says so.
 * Prints "N passed, N failed". */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../server/http/http_internal.h"
#include "daemon.h"
#include "test.h"
#include "vmscope/store_watch.h"

#define N_VMAS 40000

/* One request with the token and a JSON body. */
static int http(int port, const char *method, const char *path, const char *json, char *body, size_t body_len)
{
	return test_http(port, method, path, "Authorization: Bearer " TEST_TOKEN "\r\n", json, body,
	                 body_len);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* A child with N_VMAS one-page VMAs (alternating protections cannot merge); waits for SIGTERM. */
static pid_t start_child(void)
{
	int p[2];
	if (pipe(p) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		long pg = sysconf(_SC_PAGESIZE);
		char *m = mmap(NULL, (size_t)N_VMAS * (size_t)pg, PROT_READ | PROT_WRITE,
		               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			_exit(1);
		for (long i = 0; i < N_VMAS; i++)
			m[i * pg] = 1;
		for (long i = 0; i < N_VMAS; i += 2)
			mprotect(m + i * pg, (size_t)pg, PROT_READ);
		if (write(p[1], "R", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(p[1]);
	char c;
	int ok = read(p[0], &c, 1) == 1;
	close(p[0]);
	return ok ? pid : -1;
}

static uint64_t n_samples(struct vms_store *st, int64_t id)
{
	struct vms_watch w;
	uint64_t n = 0;
	if (vms_store_watch_get(st, id, &w) == VMS_OK)
		n = w.n_samples;
	vms_watch_clear(&w);
	return n;
}

int main(void)
{
	char body[4096], json[128];
	struct test_daemon d;
	int rc = test_daemon_start(&d, "sampler", (struct vms_http_config){.scan_rate = 100});
	if (rc == -2)
		return 1;
	struct vms_store *st = d.st;
	struct vms_http *h = d.h;
	pid_t child = start_child();
	CHECK(child > 0);
	if (rc != 0 || child <= 0)
		goto out;
	int port = d.port;

	/* ---- interactive first --------------------------------------------------------------- */
	snprintf(json, sizeof json, "{\"pid\":%d,\"interval_ms\":1000,\"snapshot_every_s\":0}",
	         (int)getpid());
	CHECK(http(port, "POST", "/api/v1/watches", json, body, sizeof body) == 201);
	int64_t id = 1;
	for (int i = 0; i < 50 && n_samples(st, id) < 1; i++)
		sleep_ms(100);
	CHECK(n_samples(st, id) >= 1);
	/* hold the scan lock as an interactive scan does, for 2.5 ticks */
	pthread_mutex_lock(&h->scan_lock);
	uint64_t before = n_samples(st, id);
	sleep_ms(2500);
	uint64_t during = n_samples(st, id);
	pthread_mutex_unlock(&h->scan_lock);
	CHECK_EQ_U64(during, before);
	struct vms_sampler_info si;
	CHECK(vms_sampler_info(h, id, &si) == 1 && si.skipped_busy >= 2);
	CHECK(http(port, "GET", "/api/v1/watches/1", "", body, sizeof body) == 200);
	CHECK(strstr(body, "skipped because an interactive scan had the scanner") != NULL);
	sleep_ms(2200);
	CHECK(n_samples(st, id) >= during + 1); /* sampling again */
	/* an interactive scan that is waiting makes the sampler skip too */
	__atomic_add_fetch(&h->scan_waiting, 1, __ATOMIC_ACQ_REL);
	uint64_t skipped = si.skipped_busy;
	sleep_ms(2200);
	__atomic_sub_fetch(&h->scan_waiting, 1, __ATOMIC_ACQ_REL);
	CHECK(vms_sampler_info(h, id, &si) == 1 && si.skipped_busy >= skipped + 1);
	CHECK(http(port, "DELETE", "/api/v1/watches/1?purge=1", "", body, sizeof body) == 204);

	/* ---- back-off: a 100 ms watch on a process whose scan takes longer ------------------- */
	snprintf(json, sizeof json, "{\"pid\":%d,\"interval_ms\":100,\"snapshot_every_s\":0}", (int)child);
	CHECK(http(port, "POST", "/api/v1/watches", json, body, sizeof body) == 201);
	id = 2;
	int backed = 0;
	for (int i = 0; i < 100 && !backed; i++) {
		sleep_ms(100);
		backed = vms_sampler_info(h, id, &si) == 1 && si.effective_interval_ms > 100;
	}
	CHECK(backed);
	printf("a tick of %d VMAs took %lld ms: sampling every %u ms\n", N_VMAS, (long long)si.last_tick_ms,
	       si.effective_interval_ms);
	CHECK(http(port, "GET", "/api/v1/watches/2", "", body, sizeof body) == 200);
	CHECK(strstr(body, "\"backing_off\":true") != NULL);
	CHECK(strstr(body, "longer than the interval of 100 ms") != NULL);

	/* interactive scans of the same process while that watch runs: none refused, none waits
	 * for more than a tick or two */
	double worst = 0;
	int all_ok = 1;
	char path[64];
	snprintf(path, sizeof path, "/api/v1/processes/%d/snapshots", (int)child);
	for (int i = 0; i < 4; i++) {
		double t0 = now_s();
		int code = http(port, "POST", path, "{\"share\":false}", body, sizeof body);
		double dt = now_s() - t0;
		all_ok &= code == 201;
		worst = dt > worst ? dt : worst;
		sleep_ms(150);
	}
	CHECK(all_ok);
	printf("interactive scans while watching: slowest %.0f ms\n", worst * 1000);
	CHECK(worst < 5.0);
	/* and the watch samples again once they are done */
	uint64_t after_scans = n_samples(st, id);
	vms_sampler_info(h, id, &si);
	long wait_ms = 1000 + 3 * (long)si.effective_interval_ms; /* slow under ASan */
	for (long waited = 0; waited < wait_ms && n_samples(st, id) <= after_scans; waited += 100)
		sleep_ms(100);
	CHECK(n_samples(st, id) >= after_scans + 1);

out:
	test_daemon_stop(&d);
	if (child > 0) {
		kill(child, SIGTERM);
		waitpid(child, NULL, 0);
	}
	TEST_MAIN_END();
}
