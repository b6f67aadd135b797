/* Private to the core: what scan.c asks of a scan memo (vmscope/snapshot.h, vms_scan_memo_new). */
#ifndef VMSCOPE_CORE_SCAN_MEMO_H
#define VMSCOPE_CORE_SCAN_MEMO_H

#include <stddef.h>
#include <sys/types.h>

#include "vmscope/snapshot.h"

/* The tmpfs mounts of a mountinfo text ("... MAJ:MIN ... - tmpfs ..."), as major << 20 | minor:
 * a malloc'd array (*n entries), NULL on ENOMEM. */
unsigned *vms_tmpfs_devs(const char *buf, size_t len, size_t *n);

/* The tmpfs devices of the mount namespace of the process whose /proc directory is dirfd, into
 * *devs (malloc'd, the caller frees) and *n: the memo's when its mount table did not change since
 * it was read, else read now (and kept). Returns 0 or -errno (mountinfo unreadable: *devs NULL). */
int vms_scan_memo_tmpfs(struct vms_scan_memo *m, int dirfd, unsigned **devs, size_t *n);

/* A directory fd on /proc/pid that the memo keeps open between scans (it names that process
 * alone: once the process is gone, every read through it fails, even when the pid is reused),
 * opened now when it keeps none for pid; -errno when it cannot be opened. The memo owns it: the
 * caller does not close it, and calls vms_scan_memo_forget_procdir after a scan that failed
 * (the process may have exited: the next scan opens /proc/pid again). */
int vms_scan_memo_procdir(struct vms_scan_memo *m, pid_t pid);
void vms_scan_memo_forget_procdir(struct vms_scan_memo *m);

/* The user name of uid into buf (vms_user_name: the number when it has none), the memo's when
 * it holds that uid's. m may be NULL. */
void vms_scan_memo_user(struct vms_scan_memo *m, uid_t uid, char *buf, size_t len);

#endif
