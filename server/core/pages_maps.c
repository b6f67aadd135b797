/* The VMA list the page views walk (pages_internal.h): /proc/PID/maps headers only. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pages_internal.h"
#include "procfs.h"
#include "vmscope/error.h"
#include "vmscope/pages.h"
#include "vmscope/parse.h"
#include "vmscope/snapshot.h"
#include "vmscope/util.h"

int vms_pages_vmas(int dirfd, uint64_t start, uint64_t end, struct vms_vma **out, size_t *n)
{
	struct vms_buf b = {0};
	struct vms_vma *v = NULL;
	size_t nv = 0, cap = 0;
	int err = vms_procfs_read(dirfd, "maps", &b);
	*out = NULL;
	*n = 0;
	if (err) {
		free(b.data);
		return vms_procfs_err(err, 1);
	}
	for (const char *p = b.data, *lim = b.data + b.len; p < lim;) {
		const char *eol = memchr(p, '\n', (size_t)(lim - p));
		if (!eol)
			eol = lim;
		struct vms_maps_line m;
		if (vms_maps_line_parse(p, eol, &m) == 0 && m.end > start && m.start < end &&
		    m.start < (1ull << 63) &&
		    !(m.path && m.path_len == 10 && !memcmp(m.path, "[vsyscall]", 10))) {
			if (nv == cap) {
				size_t nc = cap ? cap * 2 : 64;
				struct vms_vma *g = realloc(v, nc * sizeof *g);
				if (!g) {
					free(v);
					free(b.data);
					return VMS_ERR_NOMEM;
				}
				v = g;
				cap = nc;
			}
			struct vms_vma *x = &v[nv++];
			x->start = m.start;
			x->end = m.end;
			memcpy(x->perms, m.perms, 4);
			x->perms[4] = '\0';
		}
		p = eol + 1;
	}
	free(b.data);
	*out = v;
	*n = nv;
	return VMS_OK;
}

int vms_parse_range(const char *text, uint64_t *start, uint64_t *end)
{
	char a[40];
	const char *dash = text ? strchr(text, '-') : NULL;
	*start = *end = 0;
	if (!text)
		return VMS_ERR_INVALID;
	if (!dash)
		return vms_parse_address(text, start);
	size_t n = (size_t)(dash - text);
	if (n == 0 || n >= sizeof a)
		return VMS_ERR_INVALID;
	memcpy(a, text, n);
	a[n] = '\0';
	if (vms_parse_address(a, start) != VMS_OK || vms_parse_address(dash + 1, end) != VMS_OK ||
	    *start >= *end)
		return VMS_ERR_INVALID;
	return VMS_OK;
}

int vms_pages_vma_at(pid_t pid, uint64_t addr, uint64_t *start, uint64_t *end)
{
	char path[32];
	struct vms_vma *v = NULL;
	size_t n = 0;
	snprintf(path, sizeof path, "/proc/%d", (int)pid);
	int dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return vms_procfs_err(errno, 0);
	int err = vms_pages_vmas(dirfd, addr, addr + 1, &v, &n);
	close(dirfd);
	if (!err && n == 0)
		err = VMS_ERR_NOT_FOUND;
	if (!err) {
		*start = v[0].start;
		*end = v[0].end;
	}
	free(v);
	return err;
}
