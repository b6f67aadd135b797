/* A cache of byte ranges read from files (ELF headers, runtime data files), keyed by the file's
 * identity (device, inode, size, mtime) and the range, so that recognisers read each file once
 * per scan and a daemon that scans often reads an unchanged file once. A file that changed
 * (new mtime or size) misses and its old ranges age out.
 *
 * Thread-safe: one cache may serve scans on several threads. Bounded: at most max_entries
 * (rounded up to a multiple of 8 above 8) ranges of at most VMS_FILE_CACHE_MAX_RANGE bytes each;
 * a range replaces the least recently used of the (up to) 8 entries its hash selects. */
#ifndef VMSCOPE_FILECACHE_H
#define VMSCOPE_FILECACHE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#define VMS_FILE_CACHE_MAX_RANGE (64u * 1024)

struct vms_file_cache;

/* NULL on ENOMEM. max_entries 0 = 1024: a scan reads one or two ranges per mapped file
 * (scanfiles.h), and chromium maps ~160 files, a desktop's processes share many more. */
struct vms_file_cache *vms_file_cache_new(size_t max_entries);
void vms_file_cache_free(struct vms_file_cache *c); /* accepts NULL */

/* Read up to max bytes at offset of the open regular file fd (whose fstat the caller passes),
 * through the cache. Returns the bytes read (0 at end of file) or -1 on a read error. Ranges
 * larger than VMS_FILE_CACHE_MAX_RANGE are read without caching. c may be NULL (plain pread). */
long vms_file_cache_pread(struct vms_file_cache *c, int fd, const struct stat *st, uint64_t offset, void *buf,
                          size_t max);

/* Hits and misses so far (for tests and the daemon's health). */
void vms_file_cache_stats(struct vms_file_cache *c, uint64_t *hits, uint64_t *misses);

/* A scan that reads through c tells it each file it opens (c may be NULL: nothing), and
 * vms_file_cache_opens says how many so far: for tests that a scan opens each file once. */
void vms_file_cache_count_open(struct vms_file_cache *c);
uint64_t vms_file_cache_opens(struct vms_file_cache *c);

#endif
