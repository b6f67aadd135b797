/* The file evidence of a capture (contract in vmscope/capture_files.h): bounded reads of the
 * mapped files' ELF skeletons and runtime data files; the parsing is elf.c's. */
#include "vmscope/capture_files.h"
#include "vmscope/util.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attribute.h" /* vms_attr_open_regular */
#include "elf.h"
#include "vmscope/error.h"

#define NOTE_MAX 4096u
#define TOTAL_DEFAULT (64u << 20)
#define SHT_NOTE_TYPE 7u
#define PT_NOTE_TYPE 4u
#define HSPERF_MAGIC "\xca\xfe\xc0\xc0"

struct gather {
	const char *path;
	uint64_t inode, size;
	int fd;
	size_t budget; /* bytes left over all files */
	vms_capture_range_fn fn;
	void *cookie;
	int stopped;
	unsigned char *buf;   /* VMS_CAPTURE_FILE_MAX bytes */
	uint64_t done[64][2]; /* this file's ranges so far (a PT_NOTE is also a SHT_NOTE) */
	unsigned n_done;
};

/* Read len bytes at off (clipped to the file) into g->buf and hand them to fn. The bytes read
 * (1 to VMS_CAPTURE_FILE_MAX, in g->buf), or -1 when the range is empty, larger than
 * VMS_CAPTURE_FILE_MAX or the budget, unreadable, or fn stopped (g->stopped). */
static long range(struct gather *g, uint64_t off, uint64_t len)
{
	if (off >= g->size || len == 0)
		return -1;
	if (len > g->size - off)
		len = g->size - off;
	if (len > VMS_CAPTURE_FILE_MAX || len > g->budget)
		return -1;
	size_t done = 0;
	while (done < len) {
		ssize_t n = pread(g->fd, g->buf + done, (size_t)len - done, (off_t)(off + done));
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	for (unsigned i = 0; i < g->n_done; i++)
		if (g->done[i][0] == off && g->done[i][1] == len)
			return (
			    long)done; /* already handed over (read again all the same: callers use g->buf) */
	if (g->n_done < sizeof g->done / sizeof *g->done)
		g->done[g->n_done][0] = off, g->done[g->n_done++][1] = len;
	g->budget -= done;
	if (g->fn(g->cookie, g->path, g->inode, g->size, off, g->buf, done) != 0) {
		g->stopped = 1;
		return -1;
	}
	return (long)done;
}

/* A table of *size bytes at off (program or section headers), handed over and copied: the copy
 * (malloc'd, *size set to the bytes read), or NULL. */
static unsigned char *table(struct gather *g, uint64_t off, size_t *size)
{
	long got = range(g, off, *size);
	unsigned char *t = got > 0 ? malloc((size_t)got) : NULL;
	if (t) {
		memcpy(t, g->buf, (size_t)got);
		*size = (size_t)got;
	}
	return t;
}

/* The ELF skeleton: header, program headers, notes, section headers, section names. eh: the
 * first bytes, already handed over. */
static void elf_skeleton(struct gather *g, const unsigned char *eh, size_t eh_len)
{
	struct vms_elf_hdr h;
	uint64_t off;
	size_t size;
	if (!vms_elf_hdr(eh, eh_len, &h))
		return;
	unsigned char *ph = vms_elf_phdrs_at(eh, eh_len, &off, &size) ? table(g, off, &size) : NULL;
	if (ph) {
		struct vms_elf_phdr p;
		for (unsigned i = 0; !g->stopped && vms_elf_phdr(&h, ph, size, i, &p); i++)
			if (p.type == PT_NOTE_TYPE && p.filesz <= NOTE_MAX)
				(void)range(g, p.offset, p.filesz);
		free(ph);
	}
	unsigned char *sh = !g->stopped && vms_elf_shdrs_at(&h, &off, &size) ? table(g, off, &size) : NULL;
	if (!sh)
		return;
	struct vms_elf_shdr s;
	if (vms_elf_shdr(&h, sh, size, h.shstrndx, &s) && s.type != 8 /* NOBITS */)
		(void)range(g, s.offset, s.size);
	for (unsigned i = 0; !g->stopped && vms_elf_shdr(&h, sh, size, i, &s); i++)
		if (s.type == SHT_NOTE_TYPE && s.size <= NOTE_MAX)
			(void)range(g, s.offset, s.size);
	free(sh);
}

/* Whether one of the regions firsts[0..n) (the first region of each file taken so far) maps the
 * same file as region i (path and inode): each file once, at a cost of the distinct files, not
 * of every earlier region. */
static int seen_before(const struct vms_snapshot *s, size_t i, const size_t *firsts, size_t n)
{
	const struct vms_region *r = &s->regions[i];
	for (size_t k = 0; k < n; k++) {
		const struct vms_region *q = &s->regions[firsts[k]];
		if (q->inode == r->inode && !strcmp(q->path, r->path))
			return 1;
	}
	return 0;
}

int vms_capture_file_ranges(const struct vms_snapshot *s, pid_t pid, size_t max_total,
                            vms_capture_range_fn fn, void *cookie, size_t *skipped)
{
	char root[64];
	struct gather g = {.budget = max_total ? max_total : TOTAL_DEFAULT, .fn = fn, .cookie = cookie};
	*skipped = 0;
	snprintf(root, sizeof root, "/proc/%d/root", (int)pid);
	int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return VMS_OK; /* no files: the capture keeps its /proc texts */
	if (!(g.buf = malloc(VMS_CAPTURE_FILE_MAX))) {
		close(rootfd);
		return VMS_ERR_NOMEM;
	}
	size_t *firsts = NULL, n_firsts = 0, cap_firsts = 0;
	for (size_t i = 0; i < s->n_regions && !g.stopped; i++) {
		const struct vms_region *r = &s->regions[i];
		struct stat st;
		if (!r->path || r->path[0] != '/' || !r->inode || r->deleted ||
		    seen_before(s, i, firsts, n_firsts))
			continue;
		if (VMS_GROW(firsts, n_firsts, cap_firsts, 64)) {
			g.stopped = 1;
			break;
		}
		firsts[n_firsts++] = i;
		if ((g.fd = vms_attr_open_regular(rootfd, r->path, &st)) < 0)
			continue;
		if ((uint64_t)st.st_ino == r->inode && st.st_size > 0) {
			unsigned char eh[VMS_ELF_EHDR_READ];
			g.path = r->path, g.inode = r->inode, g.size = (uint64_t)st.st_size, g.n_done = 0;
			ssize_t n = pread(g.fd, eh, sizeof eh, 0);
			int hsperf = n >= 4 && !memcmp(eh, HSPERF_MAGIC, 4);
			if (n >= 4 && (hsperf || !memcmp(eh, "\177ELF", 4))) {
				if (range(&g, 0, hsperf ? g.size : (uint64_t)n) < 0) {
					if (!g.stopped)
						++*skipped; /* too big, over the budget, or unreadable */
				} else if (!hsperf) {
					elf_skeleton(&g, eh, (size_t)n);
				}
			}
		}
		close(g.fd);
	}
	free(firsts);
	free(g.buf);
	close(rootfd);
	return g.stopped ? VMS_ERR_NOMEM : VMS_OK;
}
