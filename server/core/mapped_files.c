/* Per mapped file, the processes that map it with their Pss and Rss (smem -m, and "who maps
 * this library"): smaps of every readable process, grouped by (path, device, inode). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procfs.h"
#include "vmscope/error.h"
#include "vmscope/parse.h"
#include "vmscope/systemwide.h"
#include "vmscope/util.h"

/* One process's mappings of one file, before grouping. */
struct rec {
	char *path;
	unsigned maj, min;
	uint64_t inode;
	int deleted;
	size_t proc; /* index into the builder's procs */
	unsigned n_maps;
	uint64_t size, rss, pss, uss, swap;
};

struct proc_id {
	pid_t pid;
	char *name, *user;
};

/* A process's comm and user name, owned by a struct proc_id or a struct vms_file_user. */
static void free_names(char *name, char *user)
{
	free(name);
	free(user);
}

struct vms_files_builder {
	char *match, *path;
	struct vms_buf kept; /* the file-backed blocks of the smaps text being added */
	struct rec *recs;
	size_t n, cap;
	struct proc_id *procs;
	size_t n_procs, procs_cap;
};

void vms_files_builder_free(struct vms_files_builder *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n; i++)
		free(b->recs[i].path);
	for (size_t i = 0; i < b->n_procs; i++)
		free_names(b->procs[i].name, b->procs[i].user);
	free(b->recs);
	free(b->procs);
	free(b->match);
	free(b->path);
	free(b->kept.data);
	free(b);
}

struct vms_files_builder *vms_files_builder_new(const struct vms_mapped_files_opts *o)
{
	struct vms_files_builder *b = calloc(1, sizeof *b);
	if (!b)
		return NULL;
	if ((o && o->match && !(b->match = strdup(o->match))) ||
	    (o && o->path && !(b->path = strdup(o->path)))) {
		vms_files_builder_free(b);
		return NULL;
	}
	return b;
}

/* A mapping of a file: an inode and an absolute path (memfd and SysV shm included). */
static int wanted(const struct vms_files_builder *b, const struct vms_region *r)
{
	if (!r->inode || !r->path || r->path[0] != '/')
		return 0;
	if (b->path && strcmp(r->path, b->path))
		return 0;
	return !b->match || strstr(r->path, b->match);
}

static int same_file(const struct rec *c, const struct vms_region *r)
{
	return c->inode == r->inode && c->maj == r->dev_major && c->min == r->dev_minor &&
	       !strcmp(c->path, r->path);
}

/* Copy into out only the blocks of smaps text (a header line and its "Key: value" lines) whose
 * header names a path ('/' appears only there: addresses, perms, device and inode have none) and
 * contains needle when given. A 60,000-VMA process maps a few files: the parse that follows then
 * sees a few dozen regions instead of every anonymous one. Returns 0 or -1 (ENOMEM). */
static int keep_file_blocks(const char *in, size_t len, const char *needle, struct vms_buf *out)
{
	const char *p = in, *end = in + len, *block = NULL;
	size_t nlen = needle ? strlen(needle) : 0;
	out->len = 0;
	while (p <= end) {
		const char *nl = p < end ? memchr(p, '\n', (size_t)(end - p)) : NULL;
		const char *eol = nl ? nl : end;
		int header = p < end && ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'));
		if (header || p == end) {
			if (block) { /* the block before this header ends here */
				size_t n = (size_t)(p - block);
				if (out->len + n + 1 > out->cap) {
					size_t cap = (out->len + n + 1) * 2;
					char *d = realloc(out->data, cap);
					if (!d)
						return -1;
					out->data = d;
					out->cap = cap;
				}
				memcpy(out->data + out->len, block, n);
				out->len += n;
				out->data[out->len] = '\0';
			}
			block = header && memchr(p, '/', (size_t)(eol - p)) &&
			                (!needle || memmem(p, (size_t)(eol - p), needle, nlen))
			            ? p
			            : NULL;
		}
		if (p == end)
			break;
		p = nl ? nl + 1 : end;
	}
	return 0;
}

int vms_files_builder_add(struct vms_files_builder *b, pid_t pid, const char *name, const char *user,
                          const char *smaps, size_t len)
{
	int err = VMS_ERR_NOMEM;
	size_t first = b->n, proc = b->n_procs;
	struct vms_snapshot *s = vms_snapshot_new();
	if (!s || keep_file_blocks(smaps, len, b->path ? b->path : b->match, &b->kept) ||
	    vms_smaps_parse(s, b->kept.data ? b->kept.data : "", b->kept.len) != VMS_OK)
		goto out;
	for (size_t i = 0; i < s->n_regions; i++) {
		const struct vms_region *r = &s->regions[i];
		if (!wanted(b, r))
			continue;
		size_t k = b->n;
		if (k > first && same_file(&b->recs[k - 1], r))
			k--; /* the common case: a library's segments lie side by side */
		else
			for (k = first; k < b->n && !same_file(&b->recs[k], r); k++)
				;
		if (k == b->n) {
			if (VMS_GROW(b->recs, b->n, b->cap, 256))
				goto out;
			struct rec *c = &b->recs[k];
			memset(c, 0, sizeof *c);
			if (!(c->path = strdup(r->path)))
				goto out;
			c->maj = r->dev_major, c->min = r->dev_minor, c->inode = r->inode;
			c->deleted = r->deleted;
			c->proc = proc;
			b->n++;
		}
		struct rec *c = &b->recs[k];
		c->n_maps++;
		c->size += r->smaps[VMS_SF_SIZE];
		c->rss += r->smaps[VMS_SF_RSS];
		c->pss += r->smaps[VMS_SF_PSS];
		c->uss += r->smaps[VMS_SF_PRIVATE_CLEAN] + r->smaps[VMS_SF_PRIVATE_DIRTY];
		c->swap += r->smaps[VMS_SF_SWAP];
	}
	if (b->n > first) {
		if (VMS_GROW(b->procs, b->n_procs, b->procs_cap, 64))
			goto out;
		struct proc_id *p = &b->procs[b->n_procs];
		p->pid = pid;
		p->name = strdup(name ? name : "");
		p->user = strdup(user ? user : "");
		b->n_procs++;
		if (!p->name || !p->user)
			goto out;
	}
	err = VMS_OK;
out:
	vms_snapshot_free(s);
	return err;
}

static int cmp_u64_desc(uint64_t a, uint64_t b)
{
	return a < b ? 1 : a > b ? -1 : 0;
}

/* By file identity: path, inode, device. */
static int cmp_rec_identity(const struct rec *a, const struct rec *b)
{
	int c = strcmp(a->path, b->path);
	if (c)
		return c;
	if (a->inode != b->inode)
		return a->inode < b->inode ? -1 : 1;
	unsigned da = a->maj << 20 | a->min, db = b->maj << 20 | b->min;
	return (da > db) - (da < db);
}

/* By file identity, then Pss (largest first), then order of reading. */
static int cmp_rec(const void *va, const void *vb)
{
	const struct rec *a = va, *b = vb;
	int c = cmp_rec_identity(a, b);
	return c ? c : (c = cmp_u64_desc(a->pss, b->pss)) ? c : (a->proc > b->proc) - (a->proc < b->proc);
}

static int cmp_file(const void *va, const void *vb)
{
	const struct vms_mapped_file *a = va, *b = vb;
	int c = cmp_u64_desc(a->pss, b->pss);
	return c ? c : strcmp(a->path, b->path);
}

void vms_mapped_files_free(struct vms_mapped_files *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++) {
		struct vms_mapped_file *m = &f->files[i];
		for (size_t k = 0; k < m->n_procs; k++)
			free_names(m->procs[k].name, m->procs[k].user);
		free(m->procs);
		free(m->path);
	}
	free(f->files);
	memset(f, 0, sizeof *f);
}

int vms_files_builder_finish(struct vms_files_builder *b, struct vms_mapped_files *out)
{
	size_t cap = 0;
	memset(out, 0, sizeof *out);
	if (b->n)
		qsort(b->recs, b->n, sizeof *b->recs, cmp_rec);
	for (size_t i = 0; i < b->n;) {
		size_t j = i + 1;
		while (j < b->n && !cmp_rec_identity(&b->recs[i], &b->recs[j]))
			j++;
		if (VMS_GROW(out->files, out->n, cap, 64))
			goto oom;
		struct vms_mapped_file *m = &out->files[out->n];
		memset(m, 0, sizeof *m);
		out->n++;
		m->path = b->recs[i].path;
		b->recs[i].path = NULL; /* moved */
		m->dev_major = b->recs[i].maj, m->dev_minor = b->recs[i].min, m->inode = b->recs[i].inode;
		m->deleted = b->recs[i].deleted;
		if (!(m->procs = calloc(j - i, sizeof *m->procs)))
			goto oom;
		for (size_t k = i; k < j; k++) {
			const struct rec *c = &b->recs[k];
			const struct proc_id *p = &b->procs[c->proc];
			struct vms_file_user *u = &m->procs[m->n_procs++];
			u->pid = p->pid;
			u->name = strdup(p->name);
			u->user = strdup(p->user);
			if (!u->name || !u->user)
				goto oom;
			u->n_maps = c->n_maps;
			u->size = c->size, u->rss = c->rss, u->pss = c->pss, u->uss = c->uss,
			u->swap = c->swap;
			m->rss += c->rss, m->pss += c->pss, m->uss += c->uss, m->swap += c->swap;
		}
		out->pss += m->pss;
		out->rss += m->rss;
		i = j;
	}
	if (out->n)
		qsort(out->files, out->n, sizeof *out->files, cmp_file);
	vms_files_builder_free(b);
	return VMS_OK;
oom:
	vms_files_builder_free(b);
	vms_mapped_files_free(out);
	return VMS_ERR_NOMEM;
}

/* Does a maps text mention needle (a cheap superset test before reading smaps)? 1/0 or -errno. */
static int maps_mention(int dirfd, const char *needle, struct vms_buf *buf)
{
	int rc = vms_procfs_read(dirfd, "maps", buf);
	if (rc < 0)
		return rc;
	return memmem(buf->data, buf->len, needle, strlen(needle)) != NULL;
}

/* Move from's records and processes to the end of into's; from is left empty. */
static int builder_merge(struct vms_files_builder *into, struct vms_files_builder *from)
{
	for (size_t i = 0; i < from->n_procs; i++) {
		if (VMS_GROW(into->procs, into->n_procs, into->procs_cap, 64))
			return VMS_ERR_NOMEM;
		into->procs[into->n_procs++] = from->procs[i];
	}
	size_t base = into->n_procs - from->n_procs;
	from->n_procs = 0;
	for (size_t i = 0; i < from->n; i++) {
		if (VMS_GROW(into->recs, into->n, into->cap, 256))
			return VMS_ERR_NOMEM;
		into->recs[into->n] = from->recs[i];
		into->recs[into->n++].proc += base;
	}
	from->n = 0;
	return VMS_OK;
}

/* One reader: every step-th process of the list from first on, into its own builder. */
struct reader {
	const struct vms_proclist *l;
	const struct vms_mapped_files_opts *o;
	size_t first, step;
	struct vms_files_builder *b;
	size_t n_read, n_unreadable;
	int err;
};

static void *read_some(void *arg)
{
	struct reader *w = arg;
	struct vms_buf buf = {0};
	const struct vms_mapped_files_opts *o = w->o;
	const char *needle = o && o->path ? o->path : o ? o->match : NULL;
	for (size_t i = w->first; i < w->l->n && !w->err; i += w->step) {
		const struct vms_proc *p = &w->l->procs[i];
		if (p->kernel_thread || (o && o->user && strcmp(p->user, o->user)))
			continue;
		if (!p->maps_readable) {
			if (p->unreadable_err == VMS_ERR_PERMISSION)
				w->n_unreadable++;
			continue;
		}
		char dir[32];
		snprintf(dir, sizeof dir, "/proc/%d", (int)p->pid);
		int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dirfd < 0)
			continue; /* gone */
		int rc = needle ? maps_mention(dirfd, needle, &buf) : 1;
		if (rc == 1)
			rc = (rc = vms_procfs_read(dirfd, "smaps", &buf)) < 0 ? rc : 2;
		close(dirfd);
		if (rc < 0) {
			/* the kernel checks again on every open: a process that changed credentials since */
			if (rc == -EACCES || rc == -EPERM)
				w->n_unreadable++;
			continue;
		}
		if (rc == 2) {
			w->n_read++;
			w->err = vms_files_builder_add(w->b, p->pid, p->name, p->user, buf.data, buf.len);
		}
	}
	free(buf.data);
	return NULL;
}

/* Readers in parallel: generating smaps is the kernel's work, one process at a time per reader. */
#define MAX_READERS 4

int vms_mapped_files_read(const struct vms_mapped_files_opts *o, struct vms_mapped_files *out)
{
	struct vms_proclist l;
	struct reader w[MAX_READERS];
	pthread_t tid[MAX_READERS];
	int started[MAX_READERS] = {0};
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t n_w = cpus < 1 ? 1 : cpus > MAX_READERS ? MAX_READERS : (size_t)cpus;
	memset(out, 0, sizeof *out);
	memset(w, 0, sizeof w);
	int err = vms_proclist_read(NULL, &l);
	if (err)
		return err;
	for (size_t k = 0; k < n_w; k++) {
		w[k] =
		    (struct reader){.l = &l, .o = o, .first = k, .step = n_w, .b = vms_files_builder_new(o)};
		if (!w[k].b) {
			err = VMS_ERR_NOMEM;
			goto out;
		}
	}
	for (size_t k = 1; k < n_w; k++)
		started[k] = pthread_create(&tid[k], NULL, read_some, &w[k]) == 0;
	read_some(&w[0]);
	for (size_t k = 1; k < n_w; k++) {
		if (started[k])
			pthread_join(tid[k], NULL);
		else
			read_some(&w[k]); /* no thread: read its share here */
	}
	for (size_t k = 0; k < n_w && !err; k++) {
		err = w[k].err;
		if (!err && k)
			err = builder_merge(w[0].b, w[k].b);
	}
	if (err)
		goto out;
	err = vms_files_builder_finish(w[0].b, out);
	w[0].b = NULL;
	for (size_t k = 0; k < n_w; k++) {
		out->n_procs_read += w[k].n_read;
		out->n_unreadable += w[k].n_unreadable;
	}
out:
	for (size_t k = 0; k < n_w; k++)
		vms_files_builder_free(w[k].b);
	vms_proclist_free(&l);
	return err;
}
