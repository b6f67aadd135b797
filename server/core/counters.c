/* vms_counters_read: stat + status of one process (see vmscope/counters.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procfs.h"
#include "vmscope/counters.h"
#include "vmscope/error.h"
#include "vmscope/parse.h"

/* stat's part of *out from the text in b. VMS_OK or VMS_ERR_EXITED (malformed: it went away). */
static int from_stat(const struct vms_buf *b, struct vms_counters *out)
{
	struct vms_stat st;
	if (vms_stat_parse(b->data, b->len, &st) < 0)
		return VMS_ERR_EXITED;
	out->start_time = st.start_time;
	out->min_flt = st.min_flt;
	out->maj_flt = st.maj_flt;
	out->threads = st.threads;
	out->state = st.state;
	return VMS_OK;
}

int vms_counters_read(pid_t pid, struct vms_counters *out)
{
	char path[32];
	struct vms_buf b = {0};
	struct vms_status status;
	int kthread = 0, rc, err = VMS_OK;
	char state = 0;

	memset(out, 0, sizeof *out);
	snprintf(path, sizeof path, "/proc/%d", (int)pid);
	int dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return vms_procfs_err(errno, 0);
	if ((rc = vms_procfs_read(dirfd, "stat", &b)) < 0) {
		err = vms_procfs_err(-rc, 1);
		goto out;
	}
	if ((err = from_stat(&b, out)) != VMS_OK)
		goto out;
	if ((rc = vms_procfs_read(dirfd, "status", &b)) < 0) {
		err = vms_procfs_err(-rc, 1);
		goto out;
	}
	vms_status_parse(b.data, b.len, &status, &kthread, &state);
	out->vm_rss = status.vm_rss;
	out->vm_swap = status.vm_swap;
	if (status.threads)
		out->threads = status.threads;
out:
	free(b.data);
	close(dirfd);
	return err;
}
