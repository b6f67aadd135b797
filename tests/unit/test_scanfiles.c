/* The scan's files (server/core/scanfiles.h): a path is opened once per scan whatever asks for
 * it, reads are served from one or two windows per file, the fd bound closes and reopens only
 * the same file, and a live scan of a child opens each mapped file at most once (counted by the
 * file cache the scan reads through) and reads each at most a few times; a second scan through
 * the same cache opens the files again (to check they are the same) but reads nothing. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../server/core/scanfiles.h"
#include "test.h"
#include "vmscope/filecache.h"
#include "vmscope/snapshot.h"

#define BIG 8192 /* twice the head window */

static unsigned char pattern(size_t i, unsigned salt)
{
	return (unsigned char)(i * 7 + i / 251 + salt);
}

static int write_file(const char *dir, const char *name, size_t len, unsigned salt)
{
	char path[512], tmp[520];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	snprintf(tmp, sizeof tmp, "%s.new", path);
	unsigned char *b = malloc(len ? len : 1);
	for (size_t i = 0; i < len; i++)
		b[i] = pattern(i, salt);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	int ok = fd >= 0 && write(fd, b, len) == (ssize_t)len;
	if (fd >= 0)
		close(fd);
	free(b);
	return ok && rename(tmp, path) == 0 ? 0 : -1; /* a rename: a new inode at the path */
}

static int same_bytes(const unsigned char *b, size_t off, size_t n, unsigned salt)
{
	for (size_t i = 0; i < n; i++)
		if (b[i] != pattern(off + i, salt))
			return 0;
	return 1;
}

static void test_table(void)
{
	char dir[] = "/tmp/vmscope-scanfiles.XXXXXX";
	if (!mkdtemp(dir)) {
		SKIP("mkdtemp");
		return;
	}
	CHECK(write_file(dir, "a", BIG, 1) == 0);
	CHECK(write_file(dir, "b", 100, 2) == 0);
	char fifo[600];
	snprintf(fifo, sizeof fifo, "%s/f", dir);
	CHECK(mkfifo(fifo, 0600) == 0);
	int root = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	CHECK(root >= 0);
	struct vms_scan_files *t = vms_scan_files_new(root, NULL);
	unsigned long opens, reads;
	const struct stat *st;
	unsigned char buf[BIG];

	/* one open per path, however often it is asked for */
	struct vms_scan_file *a = vms_scan_files_get(t, "/a", &st), *a2 = vms_scan_files_get(t, "/a", &st);
	CHECK(a && a == a2 && st->st_size == BIG);
	vms_scan_files_counts(t, &opens, &reads);
	CHECK(opens == 1 && reads == 0);

	/* the ELF header and the program headers: one read of the head */
	CHECK(vms_scan_file_read(t, a, 0, buf, 64) == 64 && same_bytes(buf, 0, 64, 1));
	CHECK(vms_scan_file_read(t, a, 64, buf, 728) == 728 && same_bytes(buf, 64, 728, 1));
	vms_scan_files_counts(t, &opens, &reads);
	CHECK(reads == 1);
	/* past the head: one read with the 4 KiB before it (where .shstrtab is) */
	CHECK(vms_scan_file_read(t, a, 7000, buf, 1192) == 1192 && same_bytes(buf, 7000, 1192, 1));
	CHECK(vms_scan_file_read(t, a, 5000, buf, 300) == 300 && same_bytes(buf, 5000, 300, 1));
	vms_scan_files_counts(t, &opens, &reads);
	CHECK_MSG(reads == 2, "reads %lu", reads);
	/* asking past the end answers what there is, from the window */
	CHECK(vms_scan_file_read(t, a, 8000, buf, 1000) == 192 && same_bytes(buf, 8000, 192, 1));
	vms_scan_files_counts(t, &opens, &reads);
	CHECK(reads == 2);

	/* a short file: one read of what it has */
	struct vms_scan_file *b = vms_scan_files_get(t, "/b", &st);
	CHECK(b != NULL);
	CHECK(vms_scan_file_read(t, b, 0, buf, 64) == 64 && same_bytes(buf, 0, 64, 2));
	CHECK(vms_scan_file_read(t, b, 50, buf, 4000) == 50 && same_bytes(buf, 50, 50, 2));
	vms_scan_files_counts(t, &opens, &reads);
	CHECK(opens == 2 && reads == 3);

	/* not a regular file, not absolute, escaping the root: refused, the refusal remembered */
	CHECK(vms_scan_files_get(t, "/f", &st) == NULL);
	CHECK(vms_scan_files_get(t, "/f", &st) == NULL);
	CHECK(vms_scan_files_get(t, "b", &st) == NULL);
	CHECK(vms_scan_files_get(t, "/../../etc/passwd", &st) == NULL); /* resolved inside the root */
	vms_scan_files_counts(t, &opens, &reads);
	CHECK_MSG(opens == 4, "opens %lu", opens);

	/* a prefetch reads the window a later read would (the scan reads section headers while the
	 * kernel generates smaps): that read, and one of the bytes before it, read nothing more */
	CHECK(write_file(dir, "c", BIG, 3) == 0);
	struct vms_scan_file *c = vms_scan_files_get(t, "/c", &st);
	CHECK(c != NULL);
	unsigned long before_reads;
	vms_scan_files_counts(t, &opens, &before_reads);
	vms_scan_file_prefetch(t, c, 7000, 1000);
	vms_scan_files_counts(t, &opens, &reads);
	CHECK_MSG(reads == before_reads + 1, "prefetch reads %lu", reads - before_reads);
	vms_scan_file_prefetch(t, c, 7000, 1000); /* held already: nothing read */
	CHECK(vms_scan_file_read(t, c, 7000, buf, 1000) == 1000 && same_bytes(buf, 7000, 1000, 3));
	CHECK(vms_scan_file_read(t, c, 3000, buf, 100) == 100 && same_bytes(buf, 3000, 100, 3));
	vms_scan_files_counts(t, &opens, &reads);
	CHECK_MSG(reads == before_reads + 1, "reads after the prefetch %lu", reads - before_reads);
	CHECK_MSG(opens == 5, "opens %lu", opens);
	/* closed once its reads are done: what its windows hold needs no fd, a miss opens it again */
	vms_scan_file_close(t, c);
	CHECK(vms_scan_file_read(t, c, 7100, buf, 200) == 200 && same_bytes(buf, 7100, 200, 3));
	vms_scan_files_counts(t, &opens, &reads);
	CHECK_MSG(opens == 5 && reads == before_reads + 1, "opens %lu, reads %lu", opens,
	          reads - before_reads);
	CHECK(vms_scan_file_read(t, c, 100, buf, 50) == 50 && same_bytes(buf, 100, 50, 3));
	vms_scan_files_counts(t, &opens, &reads);
	CHECK_MSG(opens == 6 && reads == before_reads + 2, "after a miss: opens %lu, reads %lu", opens,
	          reads - before_reads);

	/* the fd bound: more files than VMS_SCAN_FILES_OPEN stay readable, the first ones through a
	 * reopen that only reads the same file */
	enum { N = VMS_SCAN_FILES_OPEN + 8 };
	static struct vms_scan_file *f[N];
	char name[32], path[40];
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof name, "n%d", i);
		snprintf(path, sizeof path, "/n%d", i);
		CHECK(write_file(dir, name, BIG, (unsigned)i) == 0);
		f[i] = vms_scan_files_get(t, path, &st);
		CHECK(f[i] && vms_scan_file_read(t, f[i], 0, buf, 16) == 16);
	}
	CHECK(write_file(dir, "n1", BIG, 99) == 0); /* replaced while its fd is closed */
	unsigned long before;
	vms_scan_files_counts(t, &before, &reads);
	CHECK(vms_scan_file_read(t, f[0], 6000, buf, 100) == 100 && same_bytes(buf, 6000, 100, 0));
	CHECK(vms_scan_file_read(t, f[1], 6000, buf, 100) == -1);
	CHECK(vms_scan_file_read(t, f[1], 10, buf, 6) == 6 && same_bytes(buf, 10, 6, 1)); /* its head */
	CHECK(vms_scan_file_read(t, f[N - 1], 6000, buf, 100) == 100 &&
	      same_bytes(buf, 6000, 100, (unsigned)(N - 1)));
	vms_scan_files_counts(t, &opens, &reads);
	CHECK_MSG(opens == before + 2, "reopens %lu", opens - before); /* n0 and n1, not the open one */

	vms_scan_files_free(t);
	vms_scan_files_free(NULL);
	close(root);
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	CHECK(system(cmd) == 0);
}

/* A scan of a child (this program, paused): each mapped file opened at most once. */
static void test_live(void)
{
	pid_t child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	CHECK(child > 0);
	struct vms_file_cache *c = vms_file_cache_new(0);
	struct vms_snapshot_opts o = {.read_rollup = 1, .thread_stacks = 1, .file_cache = c};
	struct vms_snapshot *s = NULL;
	int err = vms_snapshot_take(child, &o, &s);
	CHECK_MSG(err == VMS_OK, "vms_snapshot_take: %d", err);
	if (!s)
		goto out;
	/* distinct paths that can be opened */
	size_t distinct = 0, images = 0, with_parts = 0;
	for (size_t i = 0; i < s->n_regions; i++) {
		const char *p = s->regions[i].path;
		int seen = 0;
		if (!p || p[0] != '/' || s->regions[i].deleted)
			continue;
		for (size_t j = 0; j < i && !seen; j++)
			seen = s->regions[j].path && !strcmp(s->regions[j].path, p);
		distinct += !seen;
	}
	for (size_t a = 0; a < s->n_allocations; a++) {
		const struct vms_region *r = &s->regions[s->allocations[a].first_region];
		if (s->allocations[a].type != VMS_TYPE_IMAGE || !r->path || r->path[0] != '/')
			continue; /* not the [vdso]: it has no file */
		images++;
		for (size_t k = 0; k < s->n_parts; k++)
			if (s->parts[k].allocation == a) {
				with_parts++;
				break;
			}
	}
	uint64_t opens = vms_file_cache_opens(c), hits, misses;
	vms_file_cache_stats(c, &hits, &misses);
	fprintf(stderr,
	        "first scan: %zu distinct files, %zu images (%zu with sections), %llu opens, %llu reads\n",
	        distinct, images, with_parts, (unsigned long long)opens, (unsigned long long)misses);
	CHECK(images >= 2 && with_parts >= 2); /* the files were really read */
	CHECK_MSG(opens >= with_parts && opens <= distinct, "%llu opens for %zu files",
	          (unsigned long long)opens, distinct);
	CHECK_MSG(misses <= 3 * opens, "%llu reads for %llu files", (unsigned long long)misses,
	          (unsigned long long)opens);
	vms_snapshot_free(s);

	/* again through the same cache: opened again (is it still the same file?), nothing read */
	err = vms_snapshot_take(child, &o, &s);
	CHECK(err == VMS_OK);
	uint64_t hits2, misses2, opens2 = vms_file_cache_opens(c);
	vms_file_cache_stats(c, &hits2, &misses2);
	CHECK_MSG(opens2 - opens == opens, "second scan: %llu opens", (unsigned long long)(opens2 - opens));
	CHECK_MSG(misses2 == misses && hits2 > hits, "second scan: %llu reads, %llu hits",
	          (unsigned long long)(misses2 - misses), (unsigned long long)(hits2 - hits));
	vms_snapshot_free(s);
out:
	vms_file_cache_free(c);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
}

int main(void)
{
	test_table();
	test_live();
	TEST_MAIN_END();
}
