/* Private to the core: the files one scan reads (mapped ELF images, files a runtime publishes),
 * each opened once per scan and read in few, large enough preads.
 *
 * The classifier (an image's PT_LOAD layout), the recognisers (vms_attr_read_file) and the
 * image-sections pass (imageinfo.c) read the same few ranges of the same files: the ELF header,
 * the program headers, the section headers, .shstrtab, a note. Opening a file inside the
 * target's root costs two opens, a stat and a close (vms_attr_open_regular), a read a system
 * call each. So a scan keeps one entry per path: the fd, opened on first use (resolved inside
 * the target's root, regular files only: vms_attr_open_regular), its fstat, and the windows of
 * bytes read so far, from which later reads of the same bytes are served.
 *
 * A read no window covers is read as a new window: the file's first VMS_SCAN_FILE_HEAD bytes
 * when it lies there (the ELF header, the program headers and the notes that follow them),
 * else the range asked for with the VMS_SCAN_FILE_BEFORE bytes before it (the section header
 * table is read together with .shstrtab, which GNU ld and lld put shortly before it); never past
 * the end of the file as fstat saw it. Windows are read through the caller's vms_file_cache when there is
 * one, so a daemon reads an unchanged file's windows once across scans.
 *
 * The target chooses its files and their contents, so everything is bounded: at most
 * VMS_SCAN_FILES_MAX paths per scan (vm.max_map_count's default: every path a process maps
 * gets an entry; further paths are not read: vms_scan_files_get answers NULL), at most VMS_SCAN_FILES_OPEN
 * fds open at once (beyond, the longest-open one is closed; a later read that misses its windows opens the
 * path again and reads only when it is still the same file: device, inode, size, mtime), at most
 * VMS_SCAN_FILE_WINDOWS windows per file (the oldest replaced) and VMS_SCAN_FILES_BYTES of windows per scan
 * (beyond, reads are served but not kept).
 *
 * Not thread-safe: one table per scan, used by one thread at a time. */
#ifndef VMSCOPE_CORE_SCANFILES_H
#define VMSCOPE_CORE_SCANFILES_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#define VMS_SCAN_FILE_HEAD 4096u
#define VMS_SCAN_FILE_BEFORE 4096u
#define VMS_SCAN_FILE_WINDOWS 4
#define VMS_SCAN_FILES_MAX 65536
#define VMS_SCAN_FILES_OPEN 256
#define VMS_SCAN_FILES_BYTES (64u << 20)

struct vms_file_cache;
struct vms_scan_files;
struct vms_scan_file;

/* A table for files under root_fd (a directory fd, usually /proc/PID/root opened O_PATH; the
 * caller keeps it open until the table is freed; -1: every open fails). cache may be NULL.
 * NULL on ENOMEM. */
struct vms_scan_files *vms_scan_files_new(int root_fd, struct vms_file_cache *cache);
void vms_scan_files_free(struct vms_scan_files *t); /* accepts NULL; closes every fd */

/* The file at the absolute path, as the target sees it, opened on the first call for the path
 * and remembered (also when it could not be opened). Returns it with *st its fstat (valid as
 * long as the table), or NULL: not an absolute path, not a regular file, gone, no permission,
 * ENOMEM. */
struct vms_scan_file *vms_scan_files_get(struct vms_scan_files *t, const char *path, const struct stat **st);

/* Read up to max bytes at offset of f (from vms_scan_files_get on t). Returns the bytes read
 * (fewer only at the end of the file) or -1 (read error, or the file was closed for the fd
 * limit and the path now names another file). */
long vms_scan_file_read(struct vms_scan_files *t, struct vms_scan_file *f, uint64_t offset, void *buf,
                        size_t max);

/* Read [offset, offset + len) of f into its windows now, as vms_scan_file_read would (nothing
 * when a window holds it already, or when it would not be kept): for a range the caller knows a
 * later pass of the scan will read, read while the thread would otherwise wait. */
void vms_scan_file_prefetch(struct vms_scan_files *t, struct vms_scan_file *f, uint64_t offset, size_t len);

/* Close f's fd now, keeping what was read: a later read its windows do not hold opens the path
 * again, as after the fd limit (and reads only when it is still the same file). For a file whose
 * reads are known to be done, so that its close is not paid when the table is freed. */
void vms_scan_file_close(struct vms_scan_files *t, struct vms_scan_file *f);

/* Opens (vms_attr_open_regular calls) and reads (windows read from files or the cache) so far:
 * for tests and benchmarks. */
void vms_scan_files_counts(const struct vms_scan_files *t, unsigned long *opens, unsigned long *reads);

#endif
