/* The file-range cache (contract in include/vmscope/filecache.h): set-associative, WAYS entries
 * a set chosen by a hash of the file and range, the least recently used of the set replaced. A
 * scan of chromium asks for about 1,100 ranges of 110 files: a linear search of every entry cost
 * a compare per entry per read, and one LRU list over 256 entries let the first half of the scan
 * evict what the second half read again (39 hits in 1,090; sized 2,048: 545). Since a scan
 * reads through its own table of files (server/core/scanfiles.h), it asks for one or two windows
 * per file (~330 for chromium), and only a caller that keeps the cache across scans has one. */
#include "vmscope/filecache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct entry {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	uint64_t offset;
	size_t want; /* bytes asked for */
	size_t len;  /* bytes the file had there */
	unsigned char *data;
	uint64_t used; /* clock of the last use; 0 = empty slot */
};

#define WAYS 8

struct vms_file_cache {
	pthread_mutex_t lock;
	struct entry *e;
	size_t n, n_sets, ways; /* n = n_sets * ways; ways = WAYS, or fewer in a smaller cache */
	uint64_t clock, hits, misses, opens;
};

struct vms_file_cache *vms_file_cache_new(size_t max_entries)
{
	struct vms_file_cache *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	size_t want = max_entries ? max_entries : 1024;
	c->ways = want < WAYS ? want : WAYS;
	c->n_sets = (want + c->ways - 1) / c->ways;
	c->n = c->n_sets * c->ways;
	c->e = calloc(c->n, sizeof *c->e);
	if (!c->e) {
		free(c);
		return NULL;
	}
	pthread_mutex_init(&c->lock, NULL);
	return c;
}

void vms_file_cache_free(struct vms_file_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		free(c->e[i].data);
	free(c->e);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static int same(const struct entry *e, const struct stat *st, uint64_t offset, size_t want)
{
	return e->used && e->dev == st->st_dev && e->ino == st->st_ino && e->size == st->st_size &&
	       e->mtime.tv_sec == st->st_mtim.tv_sec && e->mtime.tv_nsec == st->st_mtim.tv_nsec &&
	       e->offset == offset && e->want == want;
}

static long plain_pread(int fd, uint64_t offset, void *buf, size_t max)
{
	size_t have = 0;
	while (have < max) {
		ssize_t r = pread(fd, (char *)buf + have, max - have, (off_t)(offset + have));
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		have += (size_t)r;
	}
	return (long)have;
}

long vms_file_cache_pread(struct vms_file_cache *c, int fd, const struct stat *st, uint64_t offset, void *buf,
                          size_t max)
{
	if (!c || max > VMS_FILE_CACHE_MAX_RANGE)
		return plain_pread(fd, offset, buf, max);
	uint64_t h = ((uint64_t)st->st_dev * 0x9e3779b97f4a7c15ull) ^
	             ((uint64_t)st->st_ino * 0xc2b2ae3d27d4eb4full) ^ (offset * 0x165667b19e3779f9ull) ^ max;
	h ^= h >> 29;
	size_t first = (size_t)(h % c->n_sets) * c->ways, victim = first;
	pthread_mutex_lock(&c->lock);
	c->clock++;
	for (size_t i = first; i < first + c->ways; i++) {
		struct entry *e = &c->e[i];
		if (same(e, st, offset, max)) {
			e->used = c->clock;
			c->hits++;
			memcpy(buf, e->data, e->len);
			long len = (long)e->len;
			pthread_mutex_unlock(&c->lock);
			return len;
		}
		if (e->used < c->e[victim].used)
			victim = i;
	}
	c->misses++;
	pthread_mutex_unlock(&c->lock);

	long got = plain_pread(fd, offset, buf, max);
	if (got < 0)
		return got;
	unsigned char *copy = malloc(got ? (size_t)got : 1);
	if (!copy)
		return got; /* not cached, still answered */
	memcpy(copy, buf, (size_t)got);
	pthread_mutex_lock(&c->lock);
	struct entry *e = &c->e[victim];
	free(e->data);
	*e = (struct entry){.dev = st->st_dev,
	                    .ino = st->st_ino,
	                    .size = st->st_size,
	                    .mtime = st->st_mtim,
	                    .offset = offset,
	                    .want = max,
	                    .len = (size_t)got,
	                    .data = copy,
	                    .used = ++c->clock};
	pthread_mutex_unlock(&c->lock);
	return got;
}

void vms_file_cache_stats(struct vms_file_cache *c, uint64_t *hits, uint64_t *misses)
{
	pthread_mutex_lock(&c->lock);
	*hits = c->hits;
	*misses = c->misses;
	pthread_mutex_unlock(&c->lock);
}

void vms_file_cache_count_open(struct vms_file_cache *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	c->opens++;
	pthread_mutex_unlock(&c->lock);
}

uint64_t vms_file_cache_opens(struct vms_file_cache *c)
{
	pthread_mutex_lock(&c->lock);
	uint64_t n = c->opens;
	pthread_mutex_unlock(&c->lock);
	return n;
}
