/* The file-range cache: a second read of an unchanged file is a hit with the same bytes, a
 * changed file misses and answers its new bytes, the size bound holds, big ranges bypass it. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "test.h"
#include "vmscope/filecache.h"

static long cached_read(struct vms_file_cache *c, const char *path, uint64_t off, void *buf, size_t n)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	long got = -1;
	if (fd >= 0 && fstat(fd, &st) == 0)
		got = vms_file_cache_pread(c, fd, &st, off, buf, n);
	if (fd >= 0)
		close(fd);
	return got;
}

int main(void)
{
	char path[] = "/tmp/vmscope-filecache.XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	CHECK(write(fd, "hello, world", 12) == 12);
	close(fd);
	struct vms_file_cache *c = vms_file_cache_new(2);
	CHECK(c != NULL);
	char buf[64];
	uint64_t hits, misses;

	CHECK(cached_read(c, path, 7, buf, 5) == 5 && !memcmp(buf, "world", 5));
	memset(buf, 0, sizeof buf);
	CHECK(cached_read(c, path, 7, buf, 5) == 5 && !memcmp(buf, "world", 5));
	vms_file_cache_stats(c, &hits, &misses);
	CHECK_EQ_U64(hits, 1);
	CHECK_EQ_U64(misses, 1);
	CHECK(cached_read(c, path, 10, buf, 20) == 2); /* short at end of file, cached as such */
	CHECK(cached_read(c, path, 10, buf, 20) == 2 && !memcmp(buf, "ld", 2));

	/* the file changes (size and mtime): a miss, and the new bytes */
	fd = open(path, O_WRONLY | O_TRUNC);
	CHECK(write(fd, "HELLO, WORLD!", 13) == 13);
	close(fd);
	struct timespec later[2] = {{0, UTIME_OMIT}, {time(NULL) + 5, 0}};
	CHECK(utimensat(AT_FDCWD, path, later, 0) == 0);
	CHECK(cached_read(c, path, 7, buf, 5) == 5 && !memcmp(buf, "WORLD", 5));

	/* bounded: three ranges in a cache of two evict the least recently used */
	CHECK(cached_read(c, path, 0, buf, 1) == 1);
	CHECK(cached_read(c, path, 1, buf, 1) == 1);
	vms_file_cache_stats(c, &hits, &misses);
	uint64_t m0 = misses;
	CHECK(cached_read(c, path, 7, buf, 5) == 5); /* was evicted */
	vms_file_cache_stats(c, &hits, &misses);
	CHECK_EQ_U64(misses, m0 + 1);

	/* larger than VMS_FILE_CACHE_MAX_RANGE: read, not cached; NULL cache: plain read */
	static char big[VMS_FILE_CACHE_MAX_RANGE + 1];
	CHECK(cached_read(c, path, 0, big, sizeof big) == 13);
	CHECK(cached_read(NULL, path, 0, buf, 5) == 5 && !memcmp(buf, "HELLO", 5));
	vms_file_cache_free(c);
	vms_file_cache_free(NULL);
	unlink(path);
	TEST_MAIN_END();
}
