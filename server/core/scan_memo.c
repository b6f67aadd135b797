/* A scan memo (vmscope/snapshot.h, scan_memo.h): the process's /proc directory, the mount
 * table's tmpfs devices and the user name, kept between scans of one process. Measured: reading mountinfo was
 * ~4 % of the daemon's CPU watching 50 processes (docs/benchmarks.md, "Timeline"), the NSS lookup ~1 %. */
#include "scan_memo.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "procfs.h"
#include "vmscope/util.h"

struct vms_scan_memo {
	int proc_fd; /* /proc/proc_pid, kept open (vms_scan_memo_procdir); -1: none */
	pid_t proc_pid;
	int mnt_fd;   /* mountinfo, open since tdevs were read from it; -1: none kept */
	dev_t ns_dev; /* the mount namespace it shows (stat of /proc/PID/ns/mnt) */
	ino_t ns_ino;
	unsigned *tdevs; /* what it held then */
	size_t n_tdevs;
	int have_user; /* user holds uid's name */
	uid_t uid;
	char user[64];
};

struct vms_scan_memo *vms_scan_memo_new(void)
{
	struct vms_scan_memo *m = calloc(1, sizeof *m);
	if (m)
		m->mnt_fd = m->proc_fd = -1;
	return m;
}

int vms_scan_memo_procdir(struct vms_scan_memo *m, pid_t pid)
{
	if (m->proc_fd >= 0 && m->proc_pid == pid)
		return m->proc_fd;
	vms_scan_memo_forget_procdir(m);
	int fd = vms_procfs_open_dir(pid);
	if (fd < 0)
		return fd;
	m->proc_fd = fd;
	m->proc_pid = pid;
	return fd;
}

void vms_scan_memo_forget_procdir(struct vms_scan_memo *m)
{
	if (m->proc_fd >= 0)
		close(m->proc_fd);
	m->proc_fd = -1;
}

static void forget_mounts(struct vms_scan_memo *m)
{
	if (m->mnt_fd >= 0)
		close(m->mnt_fd);
	m->mnt_fd = -1;
	free(m->tdevs);
	m->tdevs = NULL;
	m->n_tdevs = 0;
}

void vms_scan_memo_free(struct vms_scan_memo *m)
{
	if (!m)
		return;
	forget_mounts(m);
	vms_scan_memo_forget_procdir(m);
	free(m);
}

unsigned *vms_tmpfs_devs(const char *buf, size_t len, size_t *n_out)
{
	size_t cap = 8, n = 0;
	unsigned *devs = malloc(cap * sizeof *devs);
	const char *p = buf, *end = buf + len;
	while (devs && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		const char *sep = memmem(p, (size_t)(eol - p), " - tmpfs ", 9);
		unsigned maj, min;
		if (sep && sscanf(p, "%*u %*u %u:%u", &maj, &min) == 2) {
			if (n == cap) {
				unsigned *nd = realloc(devs, (cap *= 2) * sizeof *nd);
				if (!nd)
					break;
				devs = nd;
			}
			devs[n++] = maj << 20 | min;
		}
		p = nl ? nl + 1 : end;
	}
	*n_out = n;
	return devs;
}

/* Are the kept devices still the namespace's? The kernel marks a mountinfo fd when a mount or
 * unmount happens in its namespace after the open (or the last poll): poll() then reports
 * POLLPRI | POLLERR, once. */
static int mounts_fresh(const struct vms_scan_memo *m, const struct stat *ns)
{
	if (m->mnt_fd < 0 || ns->st_dev != m->ns_dev || ns->st_ino != m->ns_ino)
		return 0;
	struct pollfd p = {.fd = m->mnt_fd, .events = POLLPRI};
	return poll(&p, 1, 0) >= 0 && !(p.revents & (POLLPRI | POLLERR | POLLNVAL));
}

int vms_scan_memo_tmpfs(struct vms_scan_memo *m, int dirfd, unsigned **devs, size_t *n)
{
	struct stat ns;
	struct vms_buf b = {0};
	int rc = 0, have_ns = fstatat(dirfd, "ns/mnt", &ns, 0) == 0;
	*devs = NULL;
	*n = 0;
	if (!have_ns || !mounts_fresh(m, &ns)) {
		/* Open first, then read: a change after the open marks the fd, so the next scan
		 * reads again; a change before it is in what we read. */
		forget_mounts(m);
		int fd = openat(dirfd, "mountinfo", O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		if ((rc = vms_buf_read_fd(fd, 0, &b)) == 0 &&
		    !(m->tdevs = vms_tmpfs_devs(b.data, b.len, &m->n_tdevs)))
			rc = -ENOMEM;
		free(b.data);
		if (rc == 0 && have_ns) { /* kept only when the namespace can be checked */
			m->mnt_fd = fd;
			m->ns_dev = ns.st_dev;
			m->ns_ino = ns.st_ino;
		} else {
			close(fd);
		}
		if (rc != 0)
			return rc;
	}
	if (!(*devs = malloc((m->n_tdevs ? m->n_tdevs : 1) * sizeof **devs)))
		rc = -ENOMEM;
	else if (m->n_tdevs)
		memcpy(*devs, m->tdevs, m->n_tdevs * sizeof **devs);
	*n = *devs ? m->n_tdevs : 0;
	if (m->mnt_fd < 0) { /* not kept: nothing to reuse next time */
		free(m->tdevs);
		m->tdevs = NULL;
		m->n_tdevs = 0;
	}
	return rc;
}

void vms_scan_memo_user(struct vms_scan_memo *m, uid_t uid, char *buf, size_t len)
{
	if (!m) {
		vms_user_name(uid, buf, len);
		return;
	}
	if (!m->have_user || m->uid != uid) {
		vms_user_name(uid, m->user, sizeof m->user);
		m->uid = uid;
		m->have_user = 1;
	}
	snprintf(buf, len, "%s", m->user);
}
