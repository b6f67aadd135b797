/* The scan memo (vmscope/snapshot.h, server/core/scan_memo.c) on live processes:
 *  - scans of a process that holds still with a memo (the first reads everything, the next reuse
 *    the mount table and the user name; smaps of ~450 KiB read a chunk at a time in turn with
 *    parsing) give what a scan without one gives: every region's bounds, type, flags and counters, the
 * per-type summary, the user; the counters out of the scan match the snapshot's own stat and status;
 *  - a mount made after the memo was filled is seen: a child in a mount namespace of its own
 *    (private to it, so nothing reaches this system's mounts) mounts a tmpfs and maps a file from
 *    it; the next scan with the same memo calls that mapping Shareable, as a scan without a memo
 *    does. That part needs CLONE_NEWNS (root, or an unprivileged user namespace): else SKIP.
 *  - the /proc directory the memo keeps never reads another process: once its process exits a
 *    scan through it fails, even with the pid taken by a new process, and the next scan reads the
 *    new one (the reuse needs root: ns_last_pid).
 * Prints "N passed, N failed, N skipped". */
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"
#include "vmscope/counters.h"
#include "vmscope/error.h"
#include "vmscope/snapshot.h"

static struct vms_snapshot *scan(pid_t pid, struct vms_scan_memo *m, struct vms_counters *c)
{
	struct vms_snapshot_opts o = {.thread_stacks = 1, .memo = m, .counters = c};
	struct vms_snapshot *s = NULL;
	int err = vms_snapshot_take(pid, &o, &s);
	CHECK_MSG(err == VMS_OK, "scan of %d: %s", (int)pid, vms_strerror(err));
	return err == VMS_OK ? s : NULL;
}

/* The type of the region mapping path, or -1. */
static int type_of(const struct vms_snapshot *s, const char *path)
{
	for (size_t i = 0; s && i < s->n_regions; i++)
		if (s->regions[i].path && !strcmp(s->regions[i].path, path))
			return (int)s->regions[i].type;
	return -1;
}

/* Same regions with the same types, the same summary's block and region counts. */
static int same_shape(const struct vms_snapshot *a, const struct vms_snapshot *b)
{
	if (!a || !b || a->n_regions != b->n_regions)
		return 0;
	for (size_t i = 0; i < a->n_regions; i++) {
		const struct vms_region *x = &a->regions[i], *y = &b->regions[i];
		if (x->start != y->start || x->end != y->end || x->type != y->type ||
		    strcmp(x->vm_flags, y->vm_flags) != 0)
			return 0;
		/* what an idle process cannot change between two scans (Pss moves with others, and
		 * private/shared with the parent's writes to pages shared since the fork) */
		static const int fields[] = {VMS_SF_SIZE, VMS_SF_RSS, VMS_SF_ANONYMOUS, VMS_SF_SWAP,
		                             VMS_SF_KERNEL_PAGE_SIZE};
		for (size_t k = 0; k < sizeof fields / sizeof fields[0]; k++)
			if (x->smaps[fields[k]] != y->smaps[fields[k]]) {
				fprintf(stderr, "region %s at %#llx: field %d %llu vs %llu\n",
				        x->path ? x->path : "(anonymous)", (unsigned long long)x->start,
				        fields[k], (unsigned long long)x->smaps[fields[k]],
				        (unsigned long long)y->smaps[fields[k]]);
				return 0;
			}
	}
	for (int t = 0; t < VMS_TYPE_COUNT; t++)
		if (a->summary[t].blocks != b->summary[t].blocks ||
		    a->summary[t].regions != b->summary[t].regions ||
		    a->summary[t].cols[VMS_COL_SIZE] != b->summary[t].cols[VMS_COL_SIZE])
			return 0;
	return 1;
}

static void test_same_as_without(void)
{
	struct vms_scan_memo *m = vms_scan_memo_new();
	struct vms_counters c;
	CHECK(m != NULL);
	int ready[2];
	char b;
	CHECK(pipe(ready) == 0);
	/* a process that holds still while it is scanned, with 400 mappings more (about 450 KiB
	 * of smaps: a scan with a memo reads it a chunk at a time in turn with parsing, without
	 * the reader thread a scan without one uses) */
	pid_t pid = fork();
	if (pid == 0) {
		long page = sysconf(_SC_PAGESIZE);
		char *base = mmap(NULL, (size_t)page * 800, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		for (int i = 0; base != MAP_FAILED && i < 400; i++) {
			char *p = base + (size_t)page * 2 * (size_t)i; /* every other page: no merging */
			mprotect(p, (size_t)page, i % 2 ? PROT_READ : PROT_READ | PROT_WRITE);
			if (i % 2 == 0)
				p[0] = 1;
		}
		(void)!write(ready[1], "r", 1);
		pause();
		_exit(0);
	}
	close(ready[1]);
	CHECK(read(ready[0], &b, 1) == 1);
	close(ready[0]);
	struct vms_snapshot *plain = scan(pid, NULL, NULL);
	for (int k = 0; k < 3; k++) { /* the first fills the memo, the others reuse it */
		memset(&c, 0, sizeof c);
		struct vms_snapshot *s = scan(pid, m, &c);
		CHECK(same_shape(plain, s));
		CHECK_MSG(s && s->n_regions > 400, "%zu regions", s ? s->n_regions : 0);
		CHECK(s && plain && !strcmp(s->user, plain->user));
		CHECK(s && c.start_time == s->start_time && c.state == 'S' && c.min_flt > 0 &&
		      c.vm_rss == s->status.vm_rss && c.threads == 1);
		vms_snapshot_free(s);
	}
	vms_snapshot_free(plain);
	vms_scan_memo_free(m);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	vms_scan_memo_free(NULL);
	/* counters also when the scan fails after stat: a pid that is not there leaves them 0 */
	memset(&c, 0xff, sizeof c);
	struct vms_snapshot_opts o = {.counters = &c};
	struct vms_snapshot *s = NULL;
	CHECK(vms_snapshot_take(4194304 + 1, &o, &s) != VMS_OK && !s);
}

/* The child: a mount namespace of its own, then (when told) a tmpfs with a mapped file. */
static void child(int go_fd, int ready_fd, const char *dir)
{
	char b = 0, path[300];
	if (unshare(CLONE_NEWNS) != 0 && (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0 ||
	                                  mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0))
		_exit(77);
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) /* nothing propagates out */
		_exit(77);
	if (write(ready_fd, "1", 1) != 1 || read(go_fd, &b, 1) != 1)
		_exit(1);
	snprintf(path, sizeof path, "%s/f", dir);
	int fd = -1;
	void *p = MAP_FAILED;
	if (mount("vmscope-test", dir, "tmpfs", 0, "size=1m") != 0 ||
	    (fd = open(path, O_RDWR | O_CREAT, 0600)) < 0 || ftruncate(fd, 65536) != 0 ||
	    (p = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED)
		_exit(77);
	memset(p, 1, 65536);
	if (write(ready_fd, "2", 1) != 1)
		_exit(1);
	(void)read(go_fd, &b, 1); /* until the parent is done */
	_exit(0);
}

static void test_mount_seen(void)
{
	char dir[] = "/tmp/vms-memo-XXXXXX", path[300];
	int go[2], ready[2];
	if (!mkdtemp(dir) || pipe(go) != 0 || pipe(ready) != 0) {
		CHECK(0);
		return;
	}
	snprintf(path, sizeof path, "%s/f", dir);
	pid_t pid = fork();
	if (pid == 0) {
		close(go[1]);
		close(ready[0]);
		child(go[0], ready[1], dir);
	}
	close(go[0]);
	close(ready[1]);
	char b = 0;
	struct vms_scan_memo *m = vms_scan_memo_new();
	if (read(ready[0], &b, 1) != 1) { /* it could not make a mount namespace */
		int st = 0;
		waitpid(pid, &st, 0);
		SKIP("no mount namespace for a child here (exit %d)", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		goto out;
	}
	struct vms_snapshot *before = scan(pid, m, NULL); /* fills the memo: no tmpfs at dir yet */
	CHECK(before && type_of(before, path) == -1);
	vms_snapshot_free(before);
	if (write(go[1], "g", 1) != 1 || read(ready[0], &b, 1) != 1) {
		int st = 0;
		waitpid(pid, &st, 0);
		SKIP("the child could not mount a tmpfs (exit %d)", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		goto out;
	}
	struct vms_snapshot *with = scan(pid, m, NULL), *without = scan(pid, NULL, NULL);
	CHECK_MSG(type_of(without, path) == VMS_TYPE_SHAREABLE, "without a memo: type %d",
	          type_of(without, path));
	CHECK_MSG(type_of(with, path) == VMS_TYPE_SHAREABLE, "with the memo: type %d (the mount was missed)",
	          type_of(with, path));
	CHECK(same_shape(with, without));
	vms_snapshot_free(with);
	vms_snapshot_free(without);
	/* and once more from the memo, now unchanged */
	with = scan(pid, m, NULL);
	CHECK(type_of(with, path) == VMS_TYPE_SHAREABLE);
	vms_snapshot_free(with);
	(void)!write(go[1], "e", 1);
	waitpid(pid, NULL, 0);
out:
	vms_scan_memo_free(m);
	close(go[1]);
	close(ready[0]);
	rmdir(dir);
}

/* A child named name (its comm) that holds still until killed; the parent returns once the
 * name is set. */
static pid_t holder(const char *name)
{
	int p[2];
	char b;
	if (pipe(p) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		prctl(PR_SET_NAME, name);
		(void)!write(p[1], "r", 1);
		for (;;)
			pause();
	}
	close(p[1]);
	if (pid > 0 && read(p[0], &b, 1) != 1)
		pid = -1;
	close(p[0]);
	return pid;
}

/* The memo keeps /proc/PID open between scans: after the process exits, a scan through it fails
 * (never reads another process), even when a new process has taken the same pid, and the scan
 * after that opens /proc/PID again and reads the new one. The same pid is had by writing
 * ns_last_pid (root): else the reuse part is skipped. */
static void test_pid_reused(void)
{
	struct vms_scan_memo *m = vms_scan_memo_new();
	struct vms_counters c;
	CHECK(m != NULL);
	pid_t first = holder("memo-first");
	CHECK(first > 0);
	struct vms_snapshot *s = scan(first, m, &c);
	uint64_t first_start = c.start_time;
	vms_snapshot_free(s);
	s = scan(first, m, &c); /* through the kept directory */
	CHECK(s && c.start_time == first_start && !strcmp(s->name, "memo-first"));
	vms_snapshot_free(s);
	kill(first, SIGKILL);
	waitpid(first, NULL, 0);

	FILE *f = fopen("/proc/sys/kernel/ns_last_pid", "w");
	pid_t second = -1;
	if (f && fprintf(f, "%d", (int)first - 1) > 0 && fclose(f) == 0)
		second = holder("memo-second");
	else if (f)
		fclose(f);
	if (second != first) {
		if (second > 0) {
			kill(second, SIGKILL);
			waitpid(second, NULL, 0);
		}
		s = NULL;
		int err = vms_snapshot_take(first, &(struct vms_snapshot_opts){.memo = m}, &s);
		CHECK_MSG(err == VMS_ERR_EXITED || err == VMS_ERR_NO_SUCH_PROCESS,
		          "a scan of an exited process through the memo: %s", vms_strerror(err));
		vms_snapshot_free(s);
		SKIP("pid %d could not be taken again (ns_last_pid: not root?)", (int)first);
		vms_scan_memo_free(m);
		return;
	}
	s = NULL;
	memset(&c, 0, sizeof c);
	int err = vms_snapshot_take(first, &(struct vms_snapshot_opts){.memo = m, .counters = &c}, &s);
	CHECK_MSG(err == VMS_ERR_EXITED, "the kept directory of the exited process %d read: %s (start %llu)",
	          (int)first, vms_strerror(err), (unsigned long long)c.start_time);
	vms_snapshot_free(s);
	s = scan(second, m, &c); /* opened again: the new process */
	struct vms_counters direct;
	struct vms_snapshot *d = scan(second, NULL, &direct);
	CHECK_MSG(s && d && !strcmp(s->name, "memo-second") && c.start_time == direct.start_time,
	          "after the reuse: %s, start %llu (the new process's %llu)", s ? s->name : "no scan",
	          (unsigned long long)c.start_time, (unsigned long long)direct.start_time);
	vms_snapshot_free(s);
	vms_snapshot_free(d);
	kill(second, SIGKILL);
	waitpid(second, NULL, 0);
	vms_scan_memo_free(m);
}

int main(void)
{
	test_same_as_without();
	test_mount_seen();
	test_pid_reused();
	TEST_MAIN_END();
}
