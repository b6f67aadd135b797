/* Process list from stat/status (cheap) and, on request, smaps_rollup. */
#include "vmscope/proclist.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procfs.h"
#include "vmscope/parse.h"

void vms_proc_clear(struct vms_proc *p)
{
	if (!p)
		return;
	free(p->name);
	free(p->cmdline);
	free(p->user);
	memset(p, 0, sizeof *p);
}

void vms_proclist_free(struct vms_proclist *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		vms_proc_clear(&l->procs[i]);
	free(l->procs);
	l->procs = NULL;
	l->n = 0;
}

/* Fill one entry through an open /proc/PID fd. */
static int read_proc(int dirfd, pid_t pid, const struct vms_proclist_opts *opts, int64_t btime, long hz,
                     struct vms_buf *b, struct vms_proc *p)
{
	struct vms_stat st;
	struct vms_status status;
	char state = 0;
	int kthread = 0, rc;
	char user[64];

	memset(p, 0, sizeof *p);
	p->pid = pid;
	if ((rc = vms_procfs_read(dirfd, "stat", b)) < 0)
		return vms_procfs_err(rc, 1);
	if (vms_stat_parse(b->data, b->len, &st) < 0)
		return VMS_ERR_EXITED;
	if ((rc = vms_procfs_read(dirfd, "status", b)) < 0)
		return vms_procfs_err(rc, 1);
	vms_status_parse(b->data, b->len, &status, &kthread, &state);
	long uid = vms_status_uid(b->data, b->len);
	p->uid = uid < 0 ? (uid_t)-1 : (uid_t)uid;
	vms_user_name(p->uid, user, sizeof user);
	p->ppid = st.ppid;
	p->state = st.state;
	p->threads = status.threads ? status.threads : st.threads;
	p->start_time = st.start_time;
	p->start_time_ms = btime * 1000 + (int64_t)(st.start_time * 1000 / (uint64_t)hz);
	p->vm_size = status.vm_size;
	p->vm_rss = status.vm_rss;
	p->rss_anon = status.rss_anon;
	p->rss_file = status.rss_file;
	p->rss_shmem = status.rss_shmem;
	p->vm_swap = status.vm_swap;
	p->kernel_thread = kthread;
	p->name = strdup(st.comm);
	p->user = strdup(user);
	rc = vms_procfs_read(dirfd, "cmdline", b);
	p->cmdline = rc < 0 ? strdup("") : vms_cmdline_join(b->data, b->len);
	if (!p->name || !p->user || !p->cmdline)
		return VMS_ERR_NOMEM;

	p->arch.machine = "unknown";
	if (kthread) {
		p->unreadable_err = VMS_ERR_NO_ADDRESS_SPACE;
		return VMS_OK;
	}
	/* Can we read the memory map? Opening maps performs the ptrace-read check. */
	int fd = openat(dirfd, "maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		p->unreadable_err = vms_procfs_err(errno, 1);
		return p->unreadable_err == VMS_ERR_EXITED ? VMS_ERR_EXITED : VMS_OK;
	}
	close(fd);
	if (st.state == 'Z') {
		p->unreadable_err = VMS_ERR_NO_ADDRESS_SPACE;
		return VMS_OK;
	}
	p->maps_readable = 1;
	vms_exe_arch(dirfd, &p->arch);
	if (opts && opts->with_rollup && vms_procfs_read(dirfd, "smaps_rollup", b) == 0) {
		struct vms_snapshot tmp;
		memset(&tmp, 0, sizeof tmp);
		vms_rollup_parse(&tmp, b->data, b->len);
		if (tmp.has_rollup) {
			p->has_rollup = 1;
			p->pss = tmp.rollup[VMS_SF_PSS];
			p->uss = tmp.rollup[VMS_SF_PRIVATE_CLEAN] + tmp.rollup[VMS_SF_PRIVATE_DIRTY];
			p->swap_pss = tmp.rollup[VMS_SF_SWAP_PSS];
		}
	}
	return VMS_OK;
}

int vms_proc_read(pid_t pid, const struct vms_proclist_opts *opts, struct vms_proc *out)
{
	char dir[32];
	struct vms_buf b = {0};
	snprintf(dir, sizeof dir, "/proc/%d", (int)pid);
	memset(out, 0, sizeof *out);
	if (pid <= 0)
		return VMS_ERR_NO_SUCH_PROCESS;
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return vms_procfs_err(errno, 0);
	int err = read_proc(dirfd, pid, opts, vms_boot_time(), vms_clock_ticks(), &b, out);
	close(dirfd);
	free(b.data);
	if (err)
		vms_proc_clear(out);
	return err;
}

int vms_proclist_read(const struct vms_proclist_opts *opts, struct vms_proclist *out)
{
	int err = VMS_OK;
	struct vms_buf b = {0};
	size_t cap = 256;
	out->n = 0;
	out->procs = malloc(cap * sizeof *out->procs);
	int procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = procfd >= 0 ? fdopendir(procfd) : NULL;
	if (!d) {
		if (procfd >= 0)
			close(procfd);
		free(out->procs);
		out->procs = NULL;
		return VMS_ERR_IO;
	}
	if (!out->procs) {
		err = VMS_ERR_NOMEM;
		goto out;
	}
	int64_t btime = vms_boot_time();
	long hz = vms_clock_ticks();
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		int dirfd = openat(procfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dirfd < 0)
			continue; /* gone */
		if (out->n == cap) {
			struct vms_proc *np = realloc(out->procs, (cap *= 2) * sizeof *np);
			if (!np) {
				close(dirfd);
				err = VMS_ERR_NOMEM;
				goto out;
			}
			out->procs = np;
		}
		int rc = read_proc(dirfd, (pid_t)atoi(de->d_name), opts, btime, hz, &b, &out->procs[out->n]);
		close(dirfd);
		if (rc == VMS_OK)
			out->n++;
		else {
			vms_proc_clear(&out->procs[out->n]);
			if (rc == VMS_ERR_NOMEM) {
				err = rc;
				goto out;
			}
		}
	}
out:
	closedir(d);
	free(b.data);
	if (err)
		vms_proclist_free(out);
	return err;
}

static const char *base_name(const char *s)
{
	const char *slash = strrchr(s, '/');
	return slash ? slash + 1 : s;
}

/* by: 0 name (exact, else prefix), 1 command-line substring */
static int resolve(const char *text, int by, pid_t *pid, pid_t **matches, size_t *n_matches)
{
	*matches = NULL;
	*n_matches = 0;
	if (!text || !*text)
		return VMS_ERR_INVALID;
	if (by == 0 && strspn(text, "0123456789") == strlen(text)) {
		long v = strtol(text, NULL, 10);
		if (v <= 0 || v > 0x3fffffff)
			return VMS_ERR_NO_SUCH_PROCESS;
		*pid = (pid_t)v;
		return VMS_OK;
	}
	struct vms_proclist l;
	int err = vms_proclist_read(NULL, &l);
	if (err)
		return err;
	size_t n = 0, np = 0, tl = strlen(text);
	pid_t *m = malloc((l.n ? l.n : 1) * sizeof *m);
	pid_t *pre = malloc((l.n ? l.n : 1) * sizeof *pre);
	if (!m || !pre) {
		free(m);
		free(pre);
		vms_proclist_free(&l);
		return VMS_ERR_NOMEM;
	}
	pid_t self = getpid();
	for (size_t i = 0; i < l.n; i++) {
		const struct vms_proc *p = &l.procs[i];
		if (p->pid == self || p->kernel_thread)
			continue;
		if (by == 1) {
			if (strstr(p->cmdline, text))
				m[n++] = p->pid;
			continue;
		}
		char argv0[256];
		size_t k = strcspn(p->cmdline, " ");
		snprintf(argv0, sizeof argv0, "%.*s", (int)(k < 255 ? k : 255), p->cmdline);
		const char *b = base_name(argv0);
		if (!strcmp(p->name, text) || !strcmp(b, text))
			m[n++] = p->pid;
		else if (!strncmp(p->name, text, tl) || !strncmp(b, text, tl))
			pre[np++] = p->pid;
	}
	vms_proclist_free(&l);
	if (n == 0 && np) { /* no exact name: the prefix matches */
		pid_t *t = m;
		m = pre;
		pre = t;
		n = np;
	}
	free(pre);
	if (n == 1) {
		*pid = m[0];
		free(m);
		return VMS_OK;
	}
	if (n == 0) {
		free(m);
		return VMS_ERR_NO_SUCH_PROCESS;
	}
	*matches = m;
	*n_matches = n;
	return VMS_ERR_AMBIGUOUS;
}

int vms_proc_resolve(const char *text, pid_t *pid, pid_t **matches, size_t *n_matches)
{
	return resolve(text, 0, pid, matches, n_matches);
}

int vms_proc_resolve_cmdline(const char *text, pid_t *pid, pid_t **matches, size_t *n_matches)
{
	return resolve(text, 1, pid, matches, n_matches);
}
