/* vms_snapshot_take: read one process through a directory fd on /proc/PID (so a reused pid can
 * never mix two processes), parse, classify, summarize. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "pool.h"
#include "procfs.h"
#include "threads.h"
#include "vmscope/parse.h"

#define SMAPS_CHUNK (256 * 1024)

/* Stream /proc/PID/smaps through the parser with one fixed buffer. */
static int read_smaps(struct vms_snapshot *s, int dirfd)
{
	int err = VMS_OK;
	char *buf = NULL;
	struct vms_smaps_parser *p = NULL;
	int fd = openat(dirfd, "smaps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return vms_procfs_err(errno, 1);
	buf = malloc(SMAPS_CHUNK);
	p = vms_smaps_parser_new(s);
	if (!buf || !p) {
		err = VMS_ERR_NOMEM;
		goto out;
	}
	size_t have = 0;
	for (;;) {
		ssize_t r = read(fd, buf + have, SMAPS_CHUNK - have);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			err = vms_procfs_err(errno, 1);
			goto out;
		}
		have += (size_t)r;
		int eof = r == 0 || have == SMAPS_CHUNK; /* a full buffer with no newline is garbage */
		size_t used = vms_smaps_parser_feed(p, buf, have, r == 0);
		if (used == 0 && eof && r != 0) {
			s->malformed_lines++;
			have = 0; /* an absurdly long line: drop it */
			continue;
		}
		memmove(buf, buf + used, have - used);
		have -= used;
		if (r == 0)
			break;
	}
	err = vms_smaps_parser_finish(p);
	p = NULL;
out:
	vms_smaps_parser_abort(p);
	free(buf);
	close(fd);
	return err;
}

/* tmpfs mounts from the target's mountinfo ("... MAJ:MIN ... - tmpfs ..."). */
static unsigned *tmpfs_devs(const char *buf, size_t len, size_t *n_out)
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

struct elf_probe {
	int dirfd;
};

/* Open the file as the target sees it (its root, its mount namespace) and check the magic. */
static int probe_is_elf(void *cookie, const char *path)
{
	const struct elf_probe *e = cookie;
	char rel[4096 + 8];
	if (path[0] != '/' || snprintf(rel, sizeof rel, "root%s", path) >= (int)sizeof rel)
		return -1;
	int fd = openat(e->dirfd, rel, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return -1;
	unsigned char m[4];
	ssize_t n = pread(fd, m, 4, 0);
	close(fd);
	return n == 4 && !memcmp(m, "\x7f" "ELF", 4);
}

static int fill_identity(struct vms_snapshot *s, int dirfd, struct vms_buf *b, struct vms_stat *st,
			 int *kthread, char *state)
{
	int rc = vms_procfs_read(dirfd, "stat", b);
	if (rc < 0)
		return vms_procfs_err(rc, 1);
	if (vms_stat_parse(b->data, b->len, st) < 0)
		return VMS_ERR_EXITED;
	rc = vms_procfs_read(dirfd, "status", b);
	if (rc < 0)
		return vms_procfs_err(rc, 1);
	vms_status_parse(b->data, b->len, &s->status, kthread, state);
	long uid = vms_status_uid(b->data, b->len);
	s->uid = uid < 0 ? (uid_t)-1 : (uid_t)uid;
	char user[64];
	vms_user_name(s->uid, user, sizeof user);
	s->user = vms_snapshot_strdup(s, user);
	s->name = vms_snapshot_strdup(s, st->comm);
	s->ppid = st->ppid;
	s->start_time = st->start_time;
	s->page_table_bytes = s->status.vm_pte;

	rc = vms_procfs_read(dirfd, "cmdline", b);
	char *cmd = rc < 0 ? NULL : vms_cmdline_join(b->data, b->len);
	s->cmdline = vms_snapshot_strdup(s, cmd ? cmd : "");
	free(cmd);
	if (!s->user || !s->name || !s->cmdline)
		return VMS_ERR_NOMEM;
	return VMS_OK;
}

int vms_snapshot_take(pid_t pid, const struct vms_snapshot_opts *opts, struct vms_snapshot **out)
{
	struct vms_snapshot_opts defaults = {.read_rollup = 1, .thread_stacks = 1};
	struct vms_snapshot *s = NULL;
	struct vms_buf b = {0};
	unsigned *tdevs = NULL;
	size_t n_tdevs = 0;
	int err, kthread = 0;
	char state = 0;
	struct vms_stat st;
	char dir[32];

	if (!opts)
		opts = &defaults;
	*out = NULL;
	if (pid <= 0)
		return VMS_ERR_NO_SUCH_PROCESS;
	snprintf(dir, sizeof dir, "/proc/%d", (int)pid);
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return vms_procfs_err(errno, 0);
	s = vms_snapshot_new();
	if (!s) {
		err = VMS_ERR_NOMEM;
		goto out;
	}
	s->pid = pid;
	err = fill_identity(s, dirfd, &b, &st, &kthread, &state);
	if (err)
		goto out;
	if (kthread || state == 'Z' || state == 'X') {
		err = VMS_ERR_NO_ADDRESS_SPACE;
		goto out;
	}

	err = read_smaps(s, dirfd);
	if (err)
		goto out;
	if (s->n_regions == 0) {
		/* zombie, kernel thread or exited: tell which */
		int rc = vms_procfs_read(dirfd, "stat", &b);
		if (rc < 0)
			err = vms_procfs_err(rc, 1);
		else if (vms_stat_parse(b.data, b.len, &st) == 0 && (st.state == 'Z' || st.state == 'X'))
			err = VMS_ERR_NO_ADDRESS_SPACE;
		else
			err = VMS_ERR_NO_ADDRESS_SPACE;
		goto out;
	}
	if (opts->read_rollup && vms_procfs_read(dirfd, "smaps_rollup", &b) == 0)
		vms_rollup_parse(s, b.data, b.len);

	err = vms_threads_read(s, dirfd, opts->thread_stacks);
	if (err)
		goto out;

	vms_exe_arch(dirfd, &s->arch);
	if (s->arch.bits == 0) { /* exe unreadable: all below 4 GiB and no [vsyscall] means 32-bit */
		int low = 1;
		for (size_t i = 0; i < s->n_regions; i++)
			if (s->regions[i].end > (1ull << 32))
				low = 0;
		s->arch.bits = low ? 32 : 64;
	}
	if (vms_procfs_read(dirfd, "mountinfo", &b) == 0)
		tdevs = tmpfs_devs(b.data, b.len, &n_tdevs);

	uint64_t highest = 0;
	for (size_t i = 0; i < s->n_regions; i++)
		if (!(s->regions[i].path && !strcmp(s->regions[i].path, "[vsyscall]")))
			highest = s->regions[i].end;
	s->page_size = (uint64_t)sysconf(_SC_PAGESIZE);
	s->mmap_min_addr = vms_mmap_min_addr();
	s->user_top = vms_user_top(&s->arch, highest);

	struct utsname u;
	if (uname(&u) == 0) {
		s->host = vms_snapshot_strdup(s, u.nodename);
		s->kernel = vms_snapshot_strdup(s, u.release);
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	s->taken_at_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;

	struct elf_probe probe = {.dirfd = dirfd};
	struct vms_classify_ctx ctx = {
		.tmpfs_devs = tdevs,
		.n_tmpfs_devs = n_tdevs,
		.heap_max = s->arch.bits == 32 ? 1u << 20 : 64u << 20,
		.main_tid = pid,
		.is_elf = probe_is_elf,
		.cookie = &probe,
	};
	vms_shmem_dev(&ctx.shmem_major, &ctx.shmem_minor);
	err = vms_classify(s, &ctx);
	if (err)
		goto out;

	/* Still the same process? The dirfd pins the pid: ESRCH once it has exited. */
	int rc = vms_procfs_read(dirfd, "stat", &b);
	if (rc < 0 || vms_stat_parse(b.data, b.len, &st) < 0 || st.start_time != s->start_time)
		err = rc < 0 ? vms_procfs_err(rc, 1) : VMS_ERR_EXITED;
	if (err == VMS_ERR_NO_SUCH_PROCESS)
		err = VMS_ERR_EXITED;
out:
	free(tdevs);
	free(b.data);
	close(dirfd);
	if (err) {
		vms_snapshot_free(s);
		return err;
	}
	*out = s;
	return VMS_OK;
}
