/* Trimming a process's working set (vmscope/pages.h), VMMap's Tools -> Empty Working Set:
 * process_madvise(pidfd, MADV_PAGEOUT) over the VMAs of a range (Linux 5.10+), with the smaps
 * figures of those VMAs before and after; and the working set over an interval (clear_refs,
 * then smaps Referenced). Both change the target's page state; both read smaps. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "procfs.h"
#include "vmscope/error.h"
#include "vmscope/pages.h"
#include "vmscope/parse.h"
#include "vmscope/snapshot.h"

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_process_madvise
#define SYS_process_madvise 440
#endif
#define MAX_IOV 1024 /* UIO_MAXIOV */

/* The smaps of pid parsed into a fresh snapshot (regions only). */
static int read_smaps(pid_t pid, struct vms_snapshot **out)
{
	char path[40];
	struct vms_buf b = {0};
	struct vms_snapshot *s = vms_snapshot_new();
	int err;
	*out = NULL;
	if (!s)
		return VMS_ERR_NOMEM;
	snprintf(path, sizeof path, "/proc/%d/smaps", (int)pid);
	if ((err = vms_procfs_read(AT_FDCWD, path, &b)) != 0)
		err = vms_procfs_err(err, 0);
	else if (b.len == 0)
		err = VMS_ERR_NO_ADDRESS_SPACE;
	else
		err = vms_smaps_parse(s, b.data, b.len);
	free(b.data);
	if (err)
		vms_snapshot_free(s);
	else
		*out = s;
	return err;
}

static int overlaps(const struct vms_region *r, uint64_t start, uint64_t end)
{
	return r->end > start && (!end || r->start < end);
}

static void figure(const struct vms_snapshot *s, uint64_t start, uint64_t end, struct vms_mem_figure *f)
{
	memset(f, 0, sizeof *f);
	for (size_t i = 0; i < s->n_regions; i++) {
		const struct vms_region *r = &s->regions[i];
		if (!overlaps(r, start, end))
			continue;
		f->rss += r->smaps[VMS_SF_RSS];
		f->anonymous += r->smaps[VMS_SF_ANONYMOUS];
		f->swap += r->smaps[VMS_SF_SWAP];
		f->pss += r->smaps[VMS_SF_PSS];
	}
	f->file = f->rss > f->anonymous ? f->rss - f->anonymous : 0;
}

int vms_mem_figure_read(pid_t pid, uint64_t start, uint64_t end, struct vms_mem_figure *out)
{
	struct vms_snapshot *s;
	int err = read_smaps(pid, &s);
	memset(out, 0, sizeof *out);
	if (err)
		return err;
	figure(s, start, end, out);
	vms_snapshot_free(s);
	return VMS_OK;
}

/* MADV_PAGEOUT refuses (EINVAL) locked, hugetlb and PFN-mapped VMAs (mm/madvise.c
 * can_madv_lru_vma), and an inaccessible one has no pages. */
static int advisable(const struct vms_region *r)
{
	return !(r->vm_flag_bits & (VMS_VMF_LO | VMS_VMF_HT | VMS_VMF_PF | VMS_VMF_IO)) &&
	       strncmp(r->perms, "---", 3) != 0 && r->start < (1ull << 63); /* not [vsyscall] */
}

static int pageout(int pidfd, const struct iovec *iov, size_t n, uint64_t *advised)
{
	long got = syscall(SYS_process_madvise, pidfd, iov, n, MADV_PAGEOUT, 0u);
	if (got >= 0) {
		*advised += (uint64_t)got;
		return 0;
	}
	return errno;
}

int vms_trim(pid_t pid, uint64_t start, uint64_t end, struct vms_trim *out)
{
	struct vms_snapshot *s = NULL;
	struct iovec iov[MAX_IOV];
	size_t n = 0;
	int pidfd = -1;
	memset(out, 0, sizeof *out);
	if (end && start >= end)
		return VMS_ERR_INVALID;
	int err = read_smaps(pid, &s);
	if (err)
		return err;
	figure(s, start, end, &out->before);
	if ((pidfd = (int)syscall(SYS_pidfd_open, pid, 0u)) < 0) {
		err = errno == ENOSYS ? VMS_ERR_UNSUPPORTED
		                      : vms_procfs_err(errno == ESRCH ? ENOENT : errno, 0);
		goto out;
	}
	for (size_t i = 0; i <= s->n_regions; i++) {
		if (i < s->n_regions) {
			const struct vms_region *r = &s->regions[i];
			if (!overlaps(r, start, end))
				continue;
			if (!advisable(r)) {
				out->skipped++;
				continue;
			}
			uint64_t a = r->start > start ? r->start : start;
			uint64_t e = end && r->end > end ? end : r->end;
			iov[n++] = (struct iovec){(void *)(uintptr_t)a, (size_t)(e - a)};
			out->vmas++;
		}
		if (n && (n == MAX_IOV || i == s->n_regions)) {
			int e = pageout(pidfd, iov, n, &out->advised);
			/* A VMA changed since smaps was read (EINVAL/ENOMEM/EFAULT): advise one by one,
			 * skipping the ones refused. */
			for (size_t k = 0; (e == EINVAL || e == ENOMEM || e == EFAULT) && k < n; k++)
				if (pageout(pidfd, &iov[k], 1, &out->advised)) {
					out->vmas--;
					out->skipped++;
				}
			if (e == ENOSYS) {
				err = VMS_ERR_UNSUPPORTED;
				goto out;
			}
			if (e == EPERM || e == EACCES) {
				err = VMS_ERR_PERMISSION;
				goto out;
			}
			if (e == ESRCH) {
				err = VMS_ERR_EXITED;
				goto out;
			}
			n = 0;
		}
	}
	vms_snapshot_free(s);
	s = NULL;
	if ((err = read_smaps(pid, &s)) == VMS_OK)
		figure(s, start, end, &out->after);
out:
	if (pidfd >= 0)
		close(pidfd);
	vms_snapshot_free(s);
	return err;
}

int vms_working_set(pid_t pid, uint64_t start, uint64_t end, unsigned seconds, struct vms_working_set *out)
{
	char path[40];
	struct vms_snapshot *s = NULL;
	int err = VMS_OK;
	memset(out, 0, sizeof *out);
	out->seconds = seconds;
	if (end && start >= end)
		return VMS_ERR_INVALID;
	snprintf(path, sizeof path, "/proc/%d/clear_refs", (int)pid);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return vms_procfs_err(errno, 0);
	/* "1": clear the referenced bits of all pages (fs/proc/task_mmu.c, CLEAR_REFS_ALL) */
	ssize_t w = write(fd, "1", 1);
	int werr = errno;
	close(fd);
	if (w != 1)
		return vms_procfs_err(werr, 1);
	if (seconds)
		sleep(seconds);
	if ((err = read_smaps(pid, &s)) != VMS_OK)
		return err;
	for (size_t i = 0; i < s->n_regions; i++)
		if (overlaps(&s->regions[i], start, end))
			out->n++;
	if (out->n && !(out->v = calloc(out->n, sizeof *out->v))) {
		vms_snapshot_free(s);
		return VMS_ERR_NOMEM;
	}
	size_t k = 0;
	for (size_t i = 0; i < s->n_regions; i++) {
		const struct vms_region *r = &s->regions[i];
		if (!overlaps(r, start, end))
			continue;
		out->v[k++] = (struct vms_ws_vma){.start = r->start,
		                                  .end = r->end,
		                                  .rss = r->smaps[VMS_SF_RSS],
		                                  .referenced = r->smaps[VMS_SF_REFERENCED]};
		out->rss += r->smaps[VMS_SF_RSS];
		out->referenced += r->smaps[VMS_SF_REFERENCED];
	}
	vms_snapshot_free(s);
	return VMS_OK;
}

void vms_working_set_free(struct vms_working_set *w)
{
	if (w) {
		free(w->v);
		*w = (struct vms_working_set){0};
	}
}
