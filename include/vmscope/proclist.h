/* The process list: cheap by default (stat/status only), Pss/Uss/Swap from smaps_rollup on request.
 * Ownership: the list owns its array and strings; vms_proclist_free() releases them. */
#ifndef VMSCOPE_PROCLIST_H
#define VMSCOPE_PROCLIST_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vmscope/snapshot.h"

struct vms_proc {
	pid_t pid, ppid;
	char *name;    /* comm */
	char *cmdline; /* argv joined by spaces; "" when empty (kernel threads) */
	char *user;    /* user name or numeric uid */
	uid_t uid;
	char state; /* 'R', 'S', 'Z', ... */
	int threads;
	uint64_t start_time;   /* clock ticks after boot (stat field 22) */
	int64_t start_time_ms; /* Unix time in ms derived from btime + start_time */
	uint64_t vm_size, vm_rss, rss_anon, rss_file, rss_shmem, vm_swap; /* bytes */
	int kernel_thread;
	struct vms_arch arch; /* machine points to static storage */
	int maps_readable;    /* 1 if /proc/PID/maps can be read by us */
	int unreadable_err;   /* enum vms_err when !maps_readable */
	int has_rollup;       /* pss/uss/swap below are valid */
	uint64_t pss, uss, swap_pss;
};

struct vms_proclist {
	struct vms_proc *procs;
	size_t n;
};

struct vms_proclist_opts {
	int with_rollup; /* read smaps_rollup for Pss/Uss (costly: walks page tables) */
};

/* Read every process in /proc. Processes that vanish while being read are skipped.
 * Returns VMS_OK, VMS_ERR_NOMEM or VMS_ERR_IO (cannot open /proc). */
int vms_proclist_read(const struct vms_proclist_opts *opts, struct vms_proclist *out);
void vms_proclist_free(struct vms_proclist *l); /* accepts NULL; leaves *l empty */

/* Find processes whose pid (when text is all digits) or comm / argv[0] basename equals text;
 * when none equals it, those whose comm or argv[0] basename starts with it ("python" finds
 * python3, as pgrep would).
 * On VMS_OK *pid is set; an all-digit text is taken as the pid without checking that such a
 * process exists (the scan that follows reports VMS_ERR_NO_SUCH_PROCESS). VMS_ERR_NO_SUCH_PROCESS when none
 * matches, VMS_ERR_AMBIGUOUS when several do (then *matches lists them, caller frees with free()). */
int vms_proc_resolve(const char *text, pid_t *pid, pid_t **matches, size_t *n_matches);

/* The same, matching `text` as a substring of the command line instead (pgrep -f); never
 * matches the calling process. */
int vms_proc_resolve_cmdline(const char *text, pid_t *pid, pid_t **matches, size_t *n_matches);

/* Read one process's list entry (same fields as the list). */
int vms_proc_read(pid_t pid, const struct vms_proclist_opts *opts, struct vms_proc *out);
void vms_proc_clear(struct vms_proc *p); /* frees the strings of one entry */

/* Sort procs by key: "pid", "name" (any case), "user", "rss", "size", "swap", "pss", "uss",
 * "start" or "threads", a leading '-' for descending; ties by pid. Returns VMS_OK, or
 * VMS_ERR_INVALID for an unknown key (VMS_PROCLIST_SORT_KEYS lists them). */
int vms_proclist_sort(struct vms_proc *procs, size_t n, const char *key);
#define VMS_PROCLIST_SORT_KEYS "pid, name, user, rss, size, swap, pss, uss, start, threads"

#endif
