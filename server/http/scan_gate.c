/* The gate for full scans (a snapshot, and a process list with ?rollup=1, which walks every
 * process's page tables): rate limited (429) and one at a time, waiting at most SCAN_WAIT_S
 * (walking smaps takes the target's mmap lock and costs real CPU; two at once would only slow
 * both). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "http_internal.h"
#include "vmscope/error.h"
#include "vmscope/proclist.h"

#define SCAN_WAIT_S 30

static int permission_error(struct vms_req *r, int pid)
{
	struct vms_proc p;
	memset(&p, 0, sizeof p);
	if (vms_proc_read(pid, NULL, &p) == VMS_OK) {
		int st;
		if (geteuid() == 0 || p.uid == geteuid())
			/* Same user or root and still refused: the target is not dumpable, holds
			 * capabilities we lack, or lives in a user namespace we do not own. */
			st = vms_send_error(
			    r, 403, "permission_denied",
			    "permission denied reading the memory map of process %d (%s, user %s, uid %u) "
			    "even "
			    "though vmscope runs as uid %u: the process is not dumpable, has capabilities "
			    "vmscope lacks, or is in another user namespace; CAP_SYS_PTRACE in that "
			    "namespace "
			    "would grant access",
			    pid, p.name ? p.name : "?", p.user ? p.user : "?", (unsigned)p.uid,
			    (unsigned)geteuid());
		else
			st = vms_send_error(
			    r, 403, "permission_denied",
			    "permission denied reading the memory map of process %d (%s, user %s, uid %u): "
			    "vmscope runs as uid %u; run it as user %s or as root (or give it "
			    "CAP_SYS_PTRACE)",
			    pid, p.name ? p.name : "?", p.user ? p.user : "?", (unsigned)p.uid,
			    (unsigned)geteuid(), p.user ? p.user : "?");
		vms_proc_clear(&p);
		return st;
	}
	return vms_send_vms_err(r, VMS_ERR_PERMISSION, pid);
}

int vms_scan_lock(struct vms_http *h, int wait_s)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += wait_s;
	__atomic_add_fetch(&h->scan_waiting, 1, __ATOMIC_ACQ_REL);
	int locked = pthread_mutex_timedlock(&h->scan_lock, &until);
	__atomic_sub_fetch(&h->scan_waiting, 1, __ATOMIC_ACQ_REL);
	return locked;
}

int vms_rate_gate(struct vms_req *r, struct vms_ratelimit *rl, const char *what)
{
	unsigned wait = vms_ratelimit_take(rl);
	if (!wait)
		return 0;
	char ra[16];
	snprintf(ra, sizeof ra, "%u", wait);
	struct vms_header h[] = {{"Retry-After", ra}, {NULL, NULL}};
	return vms_send_error_x(r, 429, "rate_limited", h, "too many %s; retry in %u s", what, wait);
}

int vms_scan_begin(struct vms_req *r)
{
	int st = vms_rate_gate(r, &r->h->scan_rate, "scans");
	if (st)
		return st;
	if (vms_scan_lock(r->h, SCAN_WAIT_S) != 0) {
		static const struct vms_header h[] = {{"Retry-After", "5"}, {NULL, NULL}};
		return vms_send_error_x(r, 429, "busy", h,
		                        "another scan has been running for %d s; retry later", SCAN_WAIT_S);
	}
	return 0;
}

void vms_scan_end(struct vms_req *r)
{
	pthread_mutex_unlock(&r->h->scan_lock);
}

int vms_scan(struct vms_req *r, int pid, int peek, struct vms_snapshot **out)
{
	*out = NULL;
	int st = vms_scan_begin(r);
	if (st)
		return st;
	struct vms_snapshot_opts opts = {
	    .read_rollup = 1, .thread_stacks = 1, .no_peek = !peek, .file_cache = r->h->file_cache};
	double t0 = vms_stats_now();
	int err = vms_snapshot_take(pid, &opts, out);
	vms_scan_end(r);
	vms_stats_scan(&r->h->stats, VMS_SCAN_API, err == VMS_OK, vms_stats_now() - t0);
	if (err == VMS_OK)
		return 0;
	vms_log(r->h, VMS_LOG_DEBUG, "scan of pid %d: %s", pid, vms_strerror(err));
	if (err == VMS_ERR_PERMISSION)
		return permission_error(r, pid);
	return vms_send_vms_err(r, err, pid);
}
