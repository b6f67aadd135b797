/* Views across processes (smem's -w, -u and -m): system memory by area, totals by user, and
 * per mapped file the processes that map it with their Pss and Rss.
 *
 * Cost: areas read /proc/meminfo only; users need the process list with smaps_rollup; files read
 * /proc/PID/smaps (with a pattern, only of processes whose /proc/PID/maps names a match).
 *
 * Security: a process is counted only when the caller may read its memory map (the kernel's
 * ptrace-read check on opening maps, smaps and smaps_rollup); the others are only counted as
 * unreadable, never named. */
#ifndef VMSCOPE_SYSTEMWIDE_H
#define VMSCOPE_SYSTEMWIDE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vmscope/proclist.h"

/* The /proc/meminfo lines the areas are computed from (bytes; 0 when a line is missing). */
struct vms_meminfo {
	uint64_t mem_total, mem_free, mem_available, buffers, cached, swap_cached, anon_pages, mapped, shmem,
	    slab_reclaimable, slab_unreclaimable, kernel_stack, page_tables, swap_total, swap_free;
};

/* Parse /proc/meminfo text (unknown lines skipped). Never fails. */
void vms_meminfo_parse(const char *buf, size_t len, struct vms_meminfo *m);
/* Read /proc/meminfo. Returns VMS_OK or VMS_ERR_IO. */
int vms_meminfo_read(struct vms_meminfo *m);

/* smem -w's areas, from meminfo alone (firmware and kernel image are not in meminfo and are left
 * out, as smem does without -K/-R): used, and of it what the kernel can reclaim (cache). */
enum vms_area { VMS_AREA_KERNEL, VMS_AREA_USER, VMS_AREA_FREE, VMS_AREA_COUNT };
struct vms_area_row {
	const char *key, *name; /* "kernel", "kernel dynamic memory"; static strings */
	uint64_t used, cache;   /* bytes; noncache = used - cache */
};
/* kernel: MemTotal - MemFree - userspace, cache Buffers + SReclaimable + Cached - Mapped;
 * userspace: AnonPages + Mapped, cache Mapped; free: MemFree, all of it cache. */
void vms_areas(const struct vms_meminfo *m, struct vms_area_row out[VMS_AREA_COUNT]);

/* Totals of the readable processes of one user (bytes). rss and swap are status' VmRSS and
 * VmSwap; pss, uss and swap_pss come from smaps_rollup (Uss = Private_Clean + Private_Dirty). */
struct vms_user_total {
	uid_t uid;
	char *user; /* name or numeric uid; owned */
	size_t n_procs;
	uint64_t rss, pss, uss, swap, swap_pss;
};
struct vms_user_totals {
	struct vms_user_total *users; /* sorted by pss, largest first */
	size_t n;
	struct vms_user_total all; /* the sum over users (user "total", uid -1) */
	size_t n_unreadable;       /* processes left out: not readable by the caller (kernel
	                            * threads are left out without a count) */
};
/* Group the processes of l that have smaps_rollup (read with with_rollup) by uid; when user is
 * non-NULL only that user's. Returns VMS_OK or VMS_ERR_NOMEM (then out is empty). */
int vms_user_totals(const struct vms_proclist *l, const char *user, struct vms_user_totals *out);
void vms_user_totals_free(struct vms_user_totals *t); /* accepts NULL; leaves *t empty */

/* One process's mappings of one file (bytes, summed over its mappings of it). */
struct vms_file_user {
	pid_t pid;
	char *name, *user; /* comm, user name; owned */
	unsigned n_maps;   /* how many mappings (VMAs) of the file it has */
	uint64_t size, rss, pss, uss, swap;
};
/* One mapped file: identity (path, device, inode) and its processes, largest Pss first. */
struct vms_mapped_file {
	char *path; /* as the kernel names it, without " (deleted)"; owned */
	unsigned dev_major, dev_minor;
	uint64_t inode;
	int deleted;
	uint64_t rss, pss, uss, swap; /* sums over its processes: Pss adds up, Rss counts shared pages
	                               * once per process */
	struct vms_file_user *procs;
	size_t n_procs;
};
struct vms_mapped_files {
	struct vms_mapped_file *files; /* sorted by pss, largest first */
	size_t n;
	size_t n_procs_read; /* processes whose smaps were read */
	size_t n_unreadable; /* processes skipped: not readable by the caller (or gone) */
	uint64_t pss, rss;   /* sums over files */
};
struct vms_mapped_files_opts {
	const char *match; /* keep files whose path contains this (NULL: all) */
	const char *path;  /* keep only the file with exactly this path (NULL: any) */
	const char *user;  /* keep only this user's processes (NULL: all) */
};

/* Start an empty set; add processes' smaps text one at a time; finish groups and sorts them. */
struct vms_files_builder;
struct vms_files_builder *vms_files_builder_new(const struct vms_mapped_files_opts *o); /* NULL: ENOMEM */
/* Add the file-backed mappings of one process's smaps text. Returns VMS_OK or VMS_ERR_NOMEM. */
int vms_files_builder_add(struct vms_files_builder *b, pid_t pid, const char *name, const char *user,
                          const char *smaps, size_t len);
/* Hand the grouped files to out and free the builder. VMS_OK or VMS_ERR_NOMEM (out empty). */
int vms_files_builder_finish(struct vms_files_builder *b, struct vms_mapped_files *out);
void vms_files_builder_free(struct vms_files_builder *b); /* accepts NULL */

/* Read every readable process's smaps (with opts->match or opts->path, only of processes whose
 * maps mention it) and group by file. Returns VMS_OK, VMS_ERR_NOMEM or VMS_ERR_IO. */
int vms_mapped_files_read(const struct vms_mapped_files_opts *o, struct vms_mapped_files *out);
void vms_mapped_files_free(struct vms_mapped_files *f); /* accepts NULL; leaves *f empty */

/* Totals by VMMap type over processes (`vmscope system --types`, GET /system?types=1): each
 * readable process scanned as `vmscope snapshot` does (its full smaps, thread stacks, the
 * recognisers' resident-page peeks where ptrace-read is allowed; no smaps_rollup), so each
 * process counts under the types its own snapshot shows, and the per-type summaries added up. Free is left
 * out (a process's unused address space is not memory). Pss adds up: over the types it is the processes' Pss.
 */
struct vms_type_proc {
	pid_t pid;
	char *name;   /* comm; owned */
	uint64_t pss; /* its Pss over every type (the sum of its smaps Pss lines) */
};
struct vms_type_totals {
	uint64_t cols[VMS_TYPE_COUNT][VMS_COL_COUNT]; /* bytes, summed; [VMS_TYPE_FREE] stays 0 */
	uint64_t blocks[VMS_TYPE_COUNT];              /* allocations of each type */
	uint64_t total[VMS_COL_COUNT];                /* over every type but Free */
	struct vms_type_proc *procs;                  /* the processes counted, by pid */
	size_t n_procs;
	size_t n_unreadable; /* not readable by the caller: not counted, not named */
	size_t n_gone;       /* exited (or became zombies) between the list and their scan */
};
/* Scan each process of l (read without rollup is enough) that the caller may read, only user's
 * when user is non-NULL, and add up its types. Kernel threads are left out without a count.
 * Returns VMS_OK or VMS_ERR_NOMEM (then out is empty). */
int vms_type_totals_read(const struct vms_proclist *l, const char *user, struct vms_type_totals *out);
void vms_type_totals_free(struct vms_type_totals *t); /* accepts NULL; leaves *t empty */

#endif
