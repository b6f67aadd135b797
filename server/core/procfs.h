/* Private to the core: reading /proc files through a directory fd. */
#ifndef VMSCOPE_CORE_PROCFS_H
#define VMSCOPE_CORE_PROCFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vmscope/snapshot.h"
#include "vmscope/util.h"

/* Read the whole file name (relative to dirfd) into b (replacing its content, NUL-terminated):
 * vms_buf_read_file without a size limit. Returns 0 or -errno (open or read failure). */
int vms_procfs_read(int dirfd, const char *name, struct vms_buf *b);

/* A directory fd on /proc/pid (O_CLOEXEC), or -errno. */
int vms_procfs_open_dir(pid_t pid);

/* Map an errno from /proc/PID/... to an enum vms_err. dir_opened tells whether /proc/PID itself
 * was already open (then ENOENT means the process went away during the scan). */
int vms_procfs_err(int err, int dir_opened);

/* Parsed /proc/PID/stat. comm is copied into the caller's buffer. */
struct vms_stat {
	char comm[64];
	char state;
	pid_t ppid;
	uint64_t start_time;
	uint64_t start_code, start_stack; /* fields 26/28: change on execve (new image, new stack) */
	uint64_t min_flt, maj_flt;        /* fields 10/12: page faults without / with I/O */
	int threads;
};
int vms_stat_parse(const char *buf, size_t len, struct vms_stat *st); /* 0 or -1 malformed */

/* argv joined by spaces into a malloc'd string ("" when empty); NULL on ENOMEM. */
char *vms_cmdline_join(const char *buf, size_t len);

/* First uid from the "Uid:" line of status; -1 when missing. */
long vms_status_uid(const char *buf, size_t len);

/* User name for uid into buf (numeric when unknown). */
void vms_user_name(uid_t uid, char *buf, size_t len);

/* Architecture from an ELF header read through dirfd/"exe"; bits 0 when unreadable. */
void vms_exe_arch(int dirfd, struct vms_arch *out);

/* Device of the kernel's internal shmem mount (memfd/SysV/shared anon), probed once. */
void vms_shmem_dev(unsigned *major, unsigned *minor);

/* vm.mmap_min_addr (read once; 65536 when unreadable). */
uint64_t vms_mmap_min_addr(void);

/* End of the user address space for a process with this arch and highest mapping below the
 * gate area. */
uint64_t vms_user_top(const struct vms_arch *arch, uint64_t highest_end);

/* Word size from the regions alone, when the executable could not tell (saved smaps, an
 * unreadable exe): all below 4 GiB means 32-bit, else 64. Sets s->arch.bits. */
void vms_arch_from_regions(struct vms_snapshot *s);
/* s->user_top from s->arch and the highest region below the gate area ([vsyscall]). */
void vms_user_top_from_regions(struct vms_snapshot *s);

/* Boot time (btime from /proc/stat, seconds since the epoch) and clock ticks per second. */
int64_t vms_boot_time(void);
long vms_clock_ticks(void);

#endif
