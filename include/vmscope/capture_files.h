/* The file evidence a capture keeps (`vmscope capture`, docs/capture.md): the parts of the
 * mapped files a scan reads, so that a capture carries what its image sections, build-ids and
 * runtime attribution were computed from, not only the result. */
#ifndef VMSCOPE_CAPTURE_FILES_H
#define VMSCOPE_CAPTURE_FILES_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vmscope/snapshot.h"

/* Per file, at most: a section name table of 1 MiB, a note of 4 KiB, a runtime file of 1 MiB. */
#define VMS_CAPTURE_FILE_MAX (1u << 20)

/* One range of a file: len bytes at offset of the file at path (inside the target's root), which
 * is size bytes long and the region's inode. Return 0, or -1 (out of memory) to stop. */
typedef int (*vms_capture_range_fn)(void *cookie, const char *path, uint64_t inode, uint64_t size,
                                    uint64_t offset, const void *buf, size_t len);

/* For each distinct file mapped by s (a path and an inode), opened under /proc/PID/root as the
 * scan opens it (vms_attr_open_regular: symlinks cannot leave the target's root, regular files
 * only) and only when it still has the mapped inode:
 * - an ELF file: its ELF header, program header table, section header table, section name
 *   table and every note (PT_NOTE segments and SHT_NOTE sections: the build-id), not its code
 *   or data;
 * - a HotSpot performance data file (hsperfdata: starts with 0xcafec0c0), whole;
 * - anything else: nothing.
 * Each range is bounded (VMS_CAPTURE_FILE_MAX) and all of them together by max_total bytes (0:
 * 64 MiB); beyond, files are skipped and *skipped counts them. Files that cannot be opened or
 * have another inode are skipped silently (the snapshot's details already say so).
 * Returns VMS_OK, or VMS_ERR_NOMEM (also when fn stopped: it may only fail for want of memory). */
int vms_capture_file_ranges(const struct vms_snapshot *s, pid_t pid, size_t max_total,
                            vms_capture_range_fn fn, void *cookie, size_t *skipped);

#endif
