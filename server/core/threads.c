/* Threads of a process and their stack pointers (kernel: fs/proc/base.c proc_pid_syscall; glibc:
 * nptl/allocatestack.c). task/TID/syscall needs PTRACE_MODE_ATTACH: when it cannot be read, threads keep sp =
 * 0 and the snapshot's thread_note says why. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pool.h"
#include "procfs.h"
#include "snapshot_internal.h"
#include "threads.h"

/* Parse a hex address token ending at a space/newline. 0 or -1. */
static int parse_address_token(const char *p, uint64_t *out)
{
	char tmp[24];
	size_t n = 0;
	while (p[n] && p[n] != ' ' && p[n] != '\n' && n < sizeof tmp - 1) {
		tmp[n] = p[n];
		n++;
	}
	tmp[n] = '\0';
	return vms_parse_address(tmp, out) == VMS_OK ? 0 : -1;
}

/* "NR a1 a2 a3 a4 a5 a6 SP PC" or "-1 SP PC" or "running": SP is the second-to-last field. */
static int parse_syscall_sp(const char *buf, size_t len, uint64_t *sp)
{
	const char *tok[10];
	size_t n = 0;
	const char *p = buf, *end = buf + len;
	while (p < end && n < 10) {
		while (p < end && (*p == ' ' || *p == '\n'))
			p++;
		if (p >= end)
			break;
		tok[n++] = p;
		while (p < end && *p != ' ' && *p != '\n')
			p++;
	}
	if (n < 3 || !strncmp(buf, "running", 7))
		return -1;
	return parse_address_token(tok[n - 2], sp);
}

int vms_threads_read(struct vms_snapshot *s, int dirfd, int want_sp)
{
	int err = VMS_OK;
	int tfd = openat(dirfd, "task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (tfd < 0)
		return vms_procfs_err(errno, 1);
	DIR *d = fdopendir(tfd);
	if (!d) {
		close(tfd);
		return VMS_ERR_NOMEM;
	}
	size_t cap = 16, n = 0;
	struct vms_thread *th = malloc(cap * sizeof *th);
	struct vms_buf b = {0};
	const char *note = NULL;
	int denied = 0;
	if (!th) {
		err = VMS_ERR_NOMEM;
		goto out;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		if (n == cap) {
			cap *= 2;
			struct vms_thread *nt = realloc(th, cap * sizeof *nt);
			if (!nt) {
				err = VMS_ERR_NOMEM;
				goto out;
			}
			th = nt;
		}
		struct vms_thread *t = &th[n];
		memset(t, 0, sizeof *t);
		t->tid = atoi(de->d_name);
		t->stack_allocation = -1;
		char path[sizeof de->d_name + 16];
		snprintf(path, sizeof path, "%s/comm", de->d_name);
		if (vms_procfs_read(tfd, path, &b) < 0)
			continue; /* the thread exited meanwhile */
		while (b.len && b.data[b.len - 1] == '\n')
			b.len--;
		t->name = vms_snapshot_strndup(s, b.data, b.len);
		if (want_sp && !denied) {
			snprintf(path, sizeof path, "%s/syscall", de->d_name);
			/* "running": the thread is on a CPU and its SP is not published; it usually
			 * blocks again within microseconds, so retry with short pauses (<= ~10 ms). */
			int running = 0;
			for (int tries = 0; tries < 10; tries++) {
				int rc = vms_procfs_read(tfd, path, &b);
				if (rc == -EACCES || rc == -EPERM) {
					/* the same check for every thread: do not ask again */
					note = "reading task/TID/syscall needs ptrace-attach rights (root or "
					       "CAP_SYS_PTRACE)";
					denied = 1;
					break;
				}
				if (rc < 0)
					break; /* the thread exited meanwhile */
				running = 0;
				if (parse_syscall_sp(b.data, b.len, &t->sp) == 0)
					break;
				running = 1;
				struct timespec pause = {0, 1000000};
				nanosleep(&pause, NULL);
			}
			if (running && !note)
				note = "some threads were running on a CPU during the scan, so their stack "
				       "pointers could "
				       "not be read";
		}
		n++;
	}
	if (!want_sp)
		note = "thread stack attribution was not requested";
	if (n && vms_snapshot_adopt(s, th) < 0) {
		th = NULL;
		err = VMS_ERR_NOMEM;
		goto out;
	}
	s->threads = n ? th : NULL;
	s->n_threads = n;
	if (!n)
		free(th);
	th = NULL;
	s->thread_note = note;
out:
	free(th);
	free(b.data);
	closedir(d);
	return err;
}
