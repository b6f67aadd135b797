/* A process's own cheap counters, read from /proc/PID/stat and /proc/PID/status without walking
 * its page tables: what a timeline sample records beside the per-type summary (core, libc only). */
#ifndef VMSCOPE_COUNTERS_H
#define VMSCOPE_COUNTERS_H

#include <stdint.h>
#include <sys/types.h>

struct vms_counters {
	uint64_t start_time;      /* stat field 22, clock ticks after boot: pid + start_time = one process */
	uint64_t min_flt;         /* stat field 10: minor faults since the process started */
	uint64_t maj_flt;         /* stat field 12: major faults (needed I/O) */
	uint64_t vm_rss, vm_swap; /* status VmRSS / VmSwap, bytes */
	int threads;              /* status Threads */
	char state;               /* stat field 3 ('R', 'S', 'Z', ...) */
};

/* Read them. Returns VMS_OK, VMS_ERR_NO_SUCH_PROCESS (no such pid, or it is gone), VMS_ERR_EXITED
 * (it went away between the two reads), VMS_ERR_PERMISSION, VMS_ERR_NOMEM or VMS_ERR_IO. */
int vms_counters_read(pid_t pid, struct vms_counters *out);

#endif
