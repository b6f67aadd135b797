/* The files of one scan, each opened once (contract in scanfiles.h). Entries are found by a
 * hash of the path (open addressing over a power-of-two index); each is allocated on its own,
 * so the pointers handed out stay valid while the table grows. */
#include "scanfiles.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attribute.h" /* vms_attr_open_regular */
#include "vmscope/filecache.h"

struct window {
	uint64_t off;
	size_t len; /* bytes the file had there */
	int eof;    /* len is short: the file ends at off + len */
	unsigned char *data;
};

struct vms_scan_file {
	int fd; /* -1: closed for the fd limit (reopen on a miss), -2: could not be opened */
	struct stat st;
	struct window w[VMS_SCAN_FILE_WINDOWS];
	unsigned next_w; /* the window replaced next once all are used */
	uint64_t hash;
	char path[]; /* NUL-terminated */
};

struct vms_scan_files {
	int root_fd;
	int fd_dir; /* /proc/self/fd (O_PATH) for the reopens: -1 until the first open, -2 none */
	struct vms_file_cache *cache;
	struct vms_scan_file **e; /* entries, in the order they were first asked for */
	size_t n, cap;
	uint32_t *index; /* entry number + 1, or 0 for empty; n_index a power of two */
	size_t n_index;
	size_t n_open, oldest_open; /* fds open; entries before oldest_open have none */
	size_t kept;                /* window bytes kept */
	unsigned long opens, reads;
};

struct vms_scan_files *vms_scan_files_new(int root_fd, struct vms_file_cache *cache)
{
	struct vms_scan_files *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->root_fd = root_fd;
	t->fd_dir = -1;
	t->cache = cache;
	return t;
}

static void drop_windows(struct vms_scan_files *t, struct vms_scan_file *f)
{
	for (unsigned k = 0; k < VMS_SCAN_FILE_WINDOWS; k++) {
		t->kept -= f->w[k].data ? f->w[k].len : 0;
		free(f->w[k].data);
		f->w[k].data = NULL;
	}
}

void vms_scan_files_free(struct vms_scan_files *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		if (t->e[i]->fd >= 0)
			close(t->e[i]->fd);
		drop_windows(t, t->e[i]);
		free(t->e[i]);
	}
	if (t->fd_dir >= 0)
		close(t->fd_dir);
	free(t->e);
	free(t->index);
	free(t);
}

static uint64_t hash_path(const char *p)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
	for (; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
	return h;
}

/* Open f's path; counts the open. The fd, or -1. */
static int open_path(struct vms_scan_files *t, const char *path, struct stat *st)
{
	t->opens++;
	vms_file_cache_count_open(t->cache);
	if (t->fd_dir == -1 && t->root_fd >= 0 &&
	    (t->fd_dir = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		t->fd_dir = -2;
	return vms_attr_open_regular_via(t->root_fd, t->fd_dir, path, st);
}

/* Keep at most VMS_SCAN_FILES_OPEN fds: close the longest-open one. */
static void limit_open(struct vms_scan_files *t)
{
	while (t->n_open > VMS_SCAN_FILES_OPEN && t->oldest_open < t->n) {
		struct vms_scan_file *o = t->e[t->oldest_open++];
		if (o->fd >= 0) {
			close(o->fd);
			o->fd = -1;
			t->n_open--;
		}
	}
}

static int grow_index(struct vms_scan_files *t)
{
	size_t n = t->n_index ? t->n_index * 2 : 256;
	uint32_t *ix = calloc(n, sizeof *ix);
	if (!ix)
		return -1;
	for (size_t i = 0; i < t->n; i++) {
		size_t j = (size_t)t->e[i]->hash & (n - 1);
		while (ix[j])
			j = (j + 1) & (n - 1);
		ix[j] = (uint32_t)(i + 1);
	}
	free(t->index);
	t->index = ix;
	t->n_index = n;
	return 0;
}

struct vms_scan_file *vms_scan_files_get(struct vms_scan_files *t, const char *path, const struct stat **st)
{
	if (!t || !path || path[0] != '/')
		return NULL;
	uint64_t h = hash_path(path);
	size_t j = 0;
	if (t->n_index) {
		for (j = (size_t)h & (t->n_index - 1); t->index[j]; j = (j + 1) & (t->n_index - 1)) {
			struct vms_scan_file *f = t->e[t->index[j] - 1];
			if (f->hash == h && !strcmp(f->path, path)) {
				*st = &f->st;
				return f->fd == -2 ? NULL : f;
			}
		}
	}
	if (t->n >= VMS_SCAN_FILES_MAX)
		return NULL; /* bounded: the caller reads nothing more of new files */
	if ((t->n + 1) * 2 > t->n_index) {
		if (grow_index(t) < 0)
			return NULL;
		for (j = (size_t)h & (t->n_index - 1); t->index[j]; j = (j + 1) & (t->n_index - 1))
			;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct vms_scan_file **e = realloc(t->e, cap * sizeof *e);
		if (!e)
			return NULL;
		t->e = e;
		t->cap = cap;
	}
	size_t len = strlen(path);
	struct vms_scan_file *f = calloc(1, sizeof *f + len + 1);
	if (!f)
		return NULL;
	memcpy(f->path, path, len + 1);
	f->hash = h;
	f->fd = open_path(t, path, &f->st);
	if (f->fd < 0)
		f->fd = -2;
	else
		t->n_open++;
	t->index[j] = (uint32_t)(t->n + 1);
	t->e[t->n++] = f;
	limit_open(t);
	*st = &f->st;
	return f->fd == -2 ? NULL : f;
}

/* The window of f holding [off, off + max) (or from off to the end of the file), or NULL. */
static const struct window *covering(const struct vms_scan_file *f, uint64_t off, size_t max)
{
	for (unsigned k = 0; k < VMS_SCAN_FILE_WINDOWS; k++) {
		const struct window *w = &f->w[k];
		if (w->data && off >= w->off && off - w->off <= w->len &&
		    (max <= w->len - (off - w->off) || w->eof))
			return w;
	}
	return NULL;
}

/* Read [off, off + len) of f into buf (the fd reopened when the fd limit closed it). */
static long read_range(struct vms_scan_files *t, struct vms_scan_file *f, uint64_t off, void *buf, size_t len)
{
	if (f->fd == -1) {
		struct stat now;
		int fd = open_path(t, f->path, &now);
		if (fd < 0)
			return -1;
		if (now.st_dev != f->st.st_dev || now.st_ino != f->st.st_ino ||
		    now.st_size != f->st.st_size || now.st_mtim.tv_sec != f->st.st_mtim.tv_sec ||
		    now.st_mtim.tv_nsec != f->st.st_mtim.tv_nsec) {
			close(fd);
			return -1;
		}
		long got = (t->reads++, vms_file_cache_pread(t->cache, fd, &f->st, off, buf, len));
		close(fd);
		return got;
	}
	t->reads++;
	return vms_file_cache_pread(t->cache, f->fd, &f->st, off, buf, len);
}

/* The window of f holding [offset, offset + max), read as a new window when none does: the head
 * when the range lies in it, else the range with the bytes before it; no further than the end of
 * the file (one pread, no second one to find the end). NULL with *failed = 0 when it is not kept
 * (it would wrap, the scan's window bytes are used up, ENOMEM: the caller reads the range
 * itself), NULL with *failed = 1 when the read failed. */
static const struct window *window_for(struct vms_scan_files *t, struct vms_scan_file *f, uint64_t offset,
                                       size_t max, int *failed)
{
	*failed = 0;
	const struct window *w = covering(f, offset, max);
	if (w)
		return w;
	if (max > UINT64_MAX - offset)
		return NULL;
	uint64_t off = 0, end = offset + max, size = (uint64_t)f->st.st_size;
	if (end <= VMS_SCAN_FILE_HEAD)
		end = VMS_SCAN_FILE_HEAD;
	else
		off = offset > VMS_SCAN_FILE_BEFORE ? offset - VMS_SCAN_FILE_BEFORE : 0;
	if (size > offset && end > size)
		end = size;
	size_t len = (size_t)(end - off);
	if (t->kept + len > VMS_SCAN_FILES_BYTES)
		return NULL;
	unsigned char *data = malloc(len ? len : 1);
	if (!data)
		return NULL;
	long got = read_range(t, f, off, data, len);
	if (got < 0) {
		free(data);
		*failed = 1;
		return NULL;
	}
	struct window *nw = &f->w[f->next_w];
	f->next_w = (f->next_w + 1) % VMS_SCAN_FILE_WINDOWS;
	t->kept -= nw->data ? nw->len : 0;
	free(nw->data);
	*nw = (struct window){.off = off,
	                      .len = (size_t)got,
	                      .eof = (size_t)got < len || (size && off + (uint64_t)got >= size),
	                      .data = data};
	t->kept += (size_t)got;
	return nw;
}

long vms_scan_file_read(struct vms_scan_files *t, struct vms_scan_file *f, uint64_t offset, void *buf,
                        size_t max)
{
	int failed;
	const struct window *w = window_for(t, f, offset, max, &failed);
	if (!w)
		return failed ? -1 : read_range(t, f, offset, buf, max); /* served, not kept */
	size_t at = (size_t)(offset - w->off), n = w->len - at < max ? w->len - at : max;
	memcpy(buf, w->data + at, n);
	return (long)n;
}

void vms_scan_file_prefetch(struct vms_scan_files *t, struct vms_scan_file *f, uint64_t offset, size_t len)
{
	int failed;
	(void)window_for(t, f, offset, len, &failed);
}

void vms_scan_file_close(struct vms_scan_files *t, struct vms_scan_file *f)
{
	if (f->fd >= 0) {
		close(f->fd);
		f->fd = -1;
		t->n_open--;
	}
}

void vms_scan_files_counts(const struct vms_scan_files *t, unsigned long *opens, unsigned long *reads)
{
	*opens = t->opens;
	*reads = t->reads;
}
