/* Address -> file offset, section, symbol, build-id of a mapped ELF image (contract in
 * include/vmscope/imageinfo.h). The parsing is elf.c's; this file does the bounded reads. */
#include "vmscope/imageinfo.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "elf.h"
#include "imageinfo_internal.h"
#include "scanfiles.h"
#include "vmscope/util.h"

#define SHSTR_MAX (1u << 20) /* section name table */
#define NOTE_MAX 4096u
#define NAME_MAX_READ 256u
#define SYM_CHUNK 65520u /* a multiple of 24 and 16, under VMS_FILE_CACHE_MAX_RANGE */

struct elf {
	struct vms_scan_files *files; /* the file: f of files */
	struct vms_scan_file *f;
	const unsigned char *mem; /* an image in memory (the vdso) instead of a file, or NULL */
	struct stat st;           /* for mem: st_size = its length */
	struct vms_elf_hdr h;
	unsigned char *sh; /* section header table, or NULL */
	size_t sh_len;
	unsigned char *shstr; /* section name table, or NULL */
	size_t shstr_len;
};

static int rd(struct elf *e, uint64_t off, void *buf, size_t n)
{
	if (e->mem) {
		if (off > (uint64_t)e->st.st_size || n > (uint64_t)e->st.st_size - off)
			return -1;
		memcpy(buf, e->mem + off, n);
		return 0;
	}
	return vms_scan_file_read(e->files, e->f, off, buf, n) == (long)n ? 0 : -1;
}

/* Read [off, off + n) into a new buffer; NULL when it is not all there (or ENOMEM: *oom). */
static unsigned char *rd_new(struct elf *e, uint64_t off, size_t n, int *oom)
{
	unsigned char *p = malloc(n ? n : 1);
	if (!p) {
		*oom = 1;
		return NULL;
	}
	if (off + n < off || off + n > (uint64_t)e->st.st_size || rd(e, off, p, n) < 0) {
		free(p);
		return NULL;
	}
	return p;
}

/* Frees what e read; the file stays open in its table for the rest of the scan. */
static void elf_close(struct elf *e)
{
	free(e->sh);
	free(e->shstr);
	memset(e, 0, sizeof *e);
}

/* The headers of e (its fd or mem set): 0, or -2 (not an ELF file we understand). Section
 * headers are optional. */
static int elf_headers(struct elf *e, int *oom)
{
	unsigned char eh[VMS_ELF_EHDR_READ];
	size_t want = sizeof eh;
	if (e->mem && (uint64_t)e->st.st_size < want)
		want = (size_t)e->st.st_size;
	long got = e->mem ? (rd(e, 0, eh, want) == 0 ? (long)want : -1)
	                  : vms_scan_file_read(e->files, e->f, 0, eh, sizeof eh);
	if (got < 0 || !vms_elf_hdr(eh, (size_t)got, &e->h))
		return -2;
	uint64_t off;
	size_t size;
	struct vms_elf_shdr ss;
	if (vms_elf_shdrs_at(&e->h, &off, &size) && (e->sh = rd_new(e, off, size, oom))) {
		e->sh_len = size;
		if (vms_elf_shdr(&e->h, e->sh, e->sh_len, e->h.shstrndx, &ss) && ss.type == 3 &&
		    ss.size <= SHSTR_MAX && (e->shstr = rd_new(e, ss.offset, (size_t)ss.size, oom)))
			e->shstr_len = (size_t)ss.size;
	}
	return 0;
}

/* Open path among files (resolved inside the target's root, regular files only, once per
 * scan: scanfiles.h) and read its headers. 0, -1 (cannot open: not a regular file, no
 * permission, gone) or -2 (not an ELF file we understand; e->st is then the file's). */
static int elf_open(struct vms_scan_files *files, const char *path, struct elf *e, int *oom)
{
	const struct stat *st;
	memset(e, 0, sizeof *e);
	e->files = files;
	if (!(e->f = vms_scan_files_get(files, path, &st)))
		return -1;
	e->st = *st;
	return elf_headers(e, oom);
}

/* An ELF image in memory (len bytes at p, which outlive e). 0 or -2. */
static int elf_open_mem(const unsigned char *p, size_t len, struct elf *e, int *oom)
{
	memset(e, 0, sizeof *e);
	e->mem = p;
	e->st.st_size = (off_t)len;
	return elf_headers(e, oom);
}

static const char *sec_name(const struct elf *e, const struct vms_elf_shdr *s)
{
	return e->shstr ? vms_elf_str(e->shstr, e->shstr_len, s->name) : NULL;
}

/* The allocated section holding vaddr (not TLS: .tbss overlaps what follows it). */
static int section_at(const struct elf *e, uint64_t vaddr, struct vms_elf_shdr *out)
{
	for (unsigned k = 1; k < e->h.shnum; k++) {
		struct vms_elf_shdr s;
		if (!vms_elf_shdr(&e->h, e->sh, e->sh_len, k, &s))
			break;
		if (s.type != 0 && (s.flags & 0x2) && !(s.flags & 0x400) && s.addr <= vaddr &&
		    vaddr - s.addr < s.size) {
			*out = s;
			return 1;
		}
	}
	return 0;
}

/* The first section of a type (2 SYMTAB, 11 DYNSYM, 7 NOTE named .note.gnu.build-id). */
static int section_of_type(const struct elf *e, uint32_t type, const char *name, struct vms_elf_shdr *out)
{
	for (unsigned k = 1; k < e->h.shnum; k++) {
		struct vms_elf_shdr s;
		if (!vms_elf_shdr(&e->h, e->sh, e->sh_len, k, &s))
			break;
		const char *n = sec_name(e, &s);
		if (s.type == type && (!name || (n && !strcmp(n, name)))) {
			*out = s;
			return 1;
		}
	}
	return 0;
}

static void build_id(struct elf *e, char *out, size_t cap, int *oom)
{
	struct vms_elf_shdr s;
	out[0] = 0;
	if (e->sh && section_of_type(e, 7, ".note.gnu.build-id", &s) && s.size <= NOTE_MAX) {
		unsigned char *p = rd_new(e, s.offset, (size_t)s.size, oom);
		if (p)
			vms_elf_build_id(&e->h, p, (size_t)s.size, out, cap);
		free(p);
		if (out[0])
			return;
	}
	/* no section headers (stripped hard): the PT_NOTE segments */
	size_t ent = e->h.cls == 2 ? 56 : 32;
	if (e->h.phentsize != ent || e->h.phnum == 0 || e->h.phnum > VMS_ELF_PHDRS_MAX / ent)
		return;
	unsigned char *ph = rd_new(e, e->h.phoff, ent * e->h.phnum, oom);
	for (unsigned k = 0; ph && k < e->h.phnum && !out[0]; k++) {
		struct vms_elf_phdr p;
		if (!vms_elf_phdr(&e->h, ph, ent * e->h.phnum, k, &p) || p.type != 4 || p.filesz > NOTE_MAX)
			continue;
		unsigned char *n = rd_new(e, p.offset, (size_t)p.filesz, oom);
		if (n)
			vms_elf_build_id(&e->h, n, (size_t)p.filesz, out, cap);
		free(n);
	}
	free(ph);
}

/* The name at off of the string table section str, into buf; 0, or -1 (out of range, no NUL
 * within NAME_MAX_READ bytes). */
static int read_name(struct elf *e, const struct vms_elf_shdr *str, uint64_t off, char *buf, size_t cap)
{
	if (off >= str->size)
		return -1;
	size_t n = str->size - off < NAME_MAX_READ ? (size_t)(str->size - off) : NAME_MAX_READ;
	unsigned char tmp[NAME_MAX_READ];
	if (str->offset + off < str->offset || rd(e, str->offset + off, tmp, n) < 0)
		return -1;
	const char *s = vms_elf_str(tmp, n, 0);
	if (!s || strlen(s) >= cap)
		return -1;
	memcpy(buf, s, strlen(s) + 1);
	return 0;
}

struct cand {
	int have, inside, bind;
	uint64_t value, size;
	char name[256];
};

static int bind_rank(int bind)
{
	return bind == 1 ? 2 : bind == 2 ? 1 : 0; /* GLOBAL > WEAK > LOCAL */
}

/* Is the name a better spelling for the same address: no leading underscore, then shorter. */
static int better_name(const char *a, const char *b)
{
	if ((a[0] == '_') != (b[0] == '_'))
		return b[0] == '_';
	if (strlen(a) != strlen(b))
		return strlen(a) < strlen(b);
	return strcmp(a, b) < 0;
}

/* Scan the symbol table of type (2 .symtab, 11 .dynsym) for the symbol at vaddr: one whose
 * [value, value + size) holds it, else the nearest below it not before lo (its section's
 * start). 1 when found, 0 when none or no such table, -1 on ENOMEM. */
static int find_symbol(struct elf *e, uint32_t type, uint64_t vaddr, uint64_t lo, struct cand *best)
{
	struct vms_elf_shdr tab, str;
	size_t es = vms_elf_sym_size(&e->h);
	if (!e->sh || !section_of_type(e, type, NULL, &tab) || (tab.entsize && tab.entsize != es) ||
	    tab.size > VMS_IMAGE_SYMTAB_MAX || !vms_elf_shdr(&e->h, e->sh, e->sh_len, tab.link, &str) ||
	    str.type != 3 || tab.offset + tab.size < tab.offset ||
	    tab.offset + tab.size > (uint64_t)e->st.st_size)
		return 0;
	unsigned char *buf = malloc(SYM_CHUNK);
	if (!buf)
		return -1;
	memset(best, 0, sizeof *best);
	uint64_t n = tab.size / es;
	for (uint64_t done = 0; done < n;) {
		size_t take = (size_t)((n - done) * es < SYM_CHUNK ? (n - done) * es : SYM_CHUNK);
		if (rd(e, tab.offset + done * es, buf, take) < 0)
			break;
		for (size_t k = 0; k + es <= take; k += es) {
			struct vms_elf_sym y;
			vms_elf_sym(&e->h, buf + k, &y);
			int t = y.info & 15;
			if (y.shndx == 0 || y.shndx >= 0xff00 || y.value > vaddr ||
			    (t != 0 && t != 1 && t != 2 && t != 10) || (t == 0 && y.size == 0 && y.name == 0))
				continue;
			int inside = vaddr - y.value < y.size;
			if (!inside && y.value < lo)
				continue;
			struct cand c = {.have = 1,
			                 .inside = inside,
			                 .bind = bind_rank(y.info >> 4),
			                 .value = y.value,
			                 .size = y.size};
			int cmp = 0;
			if (!best->have)
				cmp = 1;
			else if (c.inside != best->inside)
				cmp = c.inside > best->inside ? 1 : -1;
			else if (c.value != best->value)
				cmp = c.value > best->value ? 1 : -1;
			else if (c.bind != best->bind)
				cmp = c.bind > best->bind ? 1 : -1;
			if (cmp < 0)
				continue;
			if (read_name(e, &str, y.name, c.name, sizeof c.name) < 0 || !c.name[0])
				continue;
			if (cmp > 0 || better_name(c.name, best->name))
				*best = c;
		}
		done += take / es;
	}
	free(buf);
	return best->have;
}

/* The load bias from the file-backed region fr: the PT_LOAD whose file range fr maps. *pref
 * (may be NULL): the lowest PT_LOAD's page, the address the image was linked to load at. */
static int load_bias(struct elf *e, const struct vms_region *fr, uint64_t page, uint64_t *bias,
                     uint64_t *pref, int *oom)
{
	size_t ent = e->h.cls == 2 ? 56 : 32;
	if (e->h.phentsize != ent || e->h.phnum == 0 || e->h.phnum > VMS_ELF_PHDRS_MAX / ent)
		return 0;
	size_t len = ent * e->h.phnum;
	unsigned char *ph = rd_new(e, e->h.phoff, len, oom);
	int found = 0;
	uint64_t low = UINT64_MAX;
	for (unsigned k = 0; ph && k < e->h.phnum; k++) {
		struct vms_elf_phdr p;
		if (!vms_elf_phdr(&e->h, ph, len, k, &p) || p.type != 1)
			continue;
		if (p.vaddr < low)
			low = p.vaddr;
		if (!found && p.filesz && fr->offset >= (p.offset & ~(page - 1)) &&
		    fr->offset < p.offset + p.filesz) {
			*bias = fr->start - (p.vaddr - p.offset + fr->offset);
			found = 1;
		}
	}
	if (pref)
		*pref = low & ~(page - 1);
	free(ph);
	return found;
}

/* The first region of allocation a with an absolute path, or NULL. */
static const struct vms_region *first_file(const struct vms_snapshot *s, const struct vms_allocation *a)
{
	for (uint32_t k = 0; k < a->n_regions; k++) {
		const struct vms_region *f = &s->regions[a->first_region + k];
		if (f->path && f->path[0] == '/')
			return f;
	}
	return NULL;
}

/* The file-backed region that names the image at region ri: the region itself, or (for its
 * .bss and holes) the first file-backed region of its Image allocation. */
static const struct vms_region *file_region(const struct vms_snapshot *s, size_t ri)
{
	const struct vms_region *r = &s->regions[ri];
	if (r->path && r->path[0] == '/')
		return r;
	if (r->allocation >= s->n_allocations || s->allocations[r->allocation].type != VMS_TYPE_IMAGE)
		return NULL;
	return first_file(s, &s->allocations[r->allocation]);
}

/* The region that fixes the load bias of fr's image: the first file-backed region of the Image
 * allocation holding region ri when it maps fr's file (it maps the lowest PT_LOAD's first page,
 * and load_bias() takes the lowest PT_LOAD that holds its offset), else fr itself. fr's own file
 * offset can lie in several PT_LOADs: lld packs all four segments of a small library into the
 * file's first page, each mapped a page further on in memory, so the r-xp region maps offset 0
 * too. */
static const struct vms_region *bias_anchor(const struct vms_snapshot *s, size_t ri,
                                            const struct vms_region *fr)
{
	uint32_t ai = s->regions[ri].allocation;
	if (ai >= s->n_allocations || s->allocations[ai].type != VMS_TYPE_IMAGE)
		return fr;
	const struct vms_region *f = first_file(s, &s->allocations[ai]);
	return f && f->inode == fr->inode && f->dev_major == fr->dev_major && f->dev_minor == fr->dev_minor &&
	               !strcmp(f->path, fr->path)
	           ? f
	           : fr;
}

/* Is there a file at fr's path (among files) other than the mapped one? The kernel shows a
 * file replaced by rename (a package upgrade) as "(deleted)": the old inode lost its name. */
static int replaced_on_disk(struct vms_scan_files *files, const struct vms_region *fr)
{
	const struct stat *st;
	return vms_scan_files_get(files, fr->path, &st) && (uint64_t)st->st_ino != fr->inode;
}

unsigned vms_image_stored_flags(const struct vms_snapshot *s, int imported)
{
	struct utsname u;
	int here = !imported && s->host && uname(&u) == 0 && !strcmp(s->host, u.nodename);
	return VMS_IMAGE_CHECK_INODE | (here ? 0 : VMS_IMAGE_NO_FILES);
}

const unsigned char *vms_image_own_vdso(const struct vms_snapshot *s, size_t len)
{
	struct utsname u;
	const unsigned char *p = (const unsigned char *)getauxval(AT_SYSINFO_EHDR);
	struct vms_elf_hdr h;
	uint64_t off;
	size_t size;
	if (!p || s->arch.bits != (int)(8 * sizeof(void *)) || !s->arch.machine || uname(&u) != 0 ||
	    strcmp(s->arch.machine, u.machine) != 0 || !vms_elf_hdr(p, VMS_ELF_EHDR_READ, &h) ||
	    !vms_elf_shdrs_at(&h, &off, &size) || off + size > len || ((off + size + 4095) & ~4095ull) != len)
		return NULL;
	return p;
}

/* The section named by the snapshot's parts of the Image allocation holding region ri (a
 * stored snapshot's [vdso]: no bytes to read), into out. */
static void section_from_parts(const struct vms_snapshot *s, size_t ri, uint64_t addr, char *out, size_t cap)
{
	uint32_t ai = s->regions[ri].allocation;
	for (size_t k = 0; k < s->n_parts; k++) {
		const struct vms_part *p = &s->parts[k];
		if (p->allocation == ai && p->start <= addr && addr < p->end && p->details &&
		    strlen(p->details) < cap) {
			memcpy(out, p->details, strlen(p->details) + 1);
			return;
		}
	}
}

/* The lowest PT_LOAD's page of e (the vdso is mapped from it), or UINT64_MAX. */
static uint64_t lowest_load(struct elf *e, int *oom)
{
	uint64_t low = UINT64_MAX;
	size_t ent = e->h.cls == 2 ? 56 : 32, plen = ent * e->h.phnum;
	unsigned char *ph = e->h.phentsize == ent && e->h.phnum ? rd_new(e, e->h.phoff, plen, oom) : NULL;
	for (unsigned k = 0; ph && k < e->h.phnum; k++) {
		struct vms_elf_phdr q;
		if (vms_elf_phdr(&e->h, ph, plen, k, &q) && q.type == 1 && q.vaddr < low)
			low = q.vaddr & ~4095ull;
	}
	free(ph);
	return low;
}

int vms_image_lookup(const struct vms_snapshot *s, uint64_t addr, const char *root, unsigned flags,
                     struct vms_file_cache *cache, struct vms_image_info *out)
{
	struct vms_lookup l;
	struct elf e = {0}, d = {0};
	struct vms_scan_files *files = NULL;
	int oom = 0, rootfd = -1;
	uint64_t page = s->page_size ? s->page_size : 4096;
	memset(out, 0, sizeof *out);
	vms_snapshot_lookup(s, addr, &l);
	if (l.kind != 0 || l.region < 0)
		return VMS_OK;
	const struct vms_region *r = &s->regions[l.region], *fr = file_region(s, (size_t)l.region);
	uint64_t bias;
	if (!fr && r->path && !strcmp(r->path, "[vdso]")) {
		/* the kernel's image: no file; vmscope's own vdso when it is the same one */
		const unsigned char *own =
		    flags & VMS_IMAGE_LIVE ? vms_image_own_vdso(s, r->end - r->start) : NULL;
		uint64_t low;
		out->found = 1;
		out->path = r->path;
		if (!own || elf_open_mem(own, r->end - r->start, &e, &oom) != 0 ||
		    (low = lowest_load(&e, &oom)) == UINT64_MAX) {
			section_from_parts(s, (size_t)l.region, addr, out->section, sizeof out->section);
			out->note = flags & VMS_IMAGE_LIVE
			                ? "the vdso's bytes are not vmscope's own (another ABI): no symbol"
			                : "a stored snapshot's vdso: its bytes are not kept, no symbol";
			goto out;
		}
		out->has_vaddr = 1;
		out->vaddr = addr - r->start + low;
		out->vdso_note = "from vmscope's own vdso: same kernel and ABI";
		goto symbols;
	}
	if (!fr)
		return VMS_OK;
	out->found = 1;
	out->path = fr->path;
	if (r == fr) {
		out->has_file_offset = 1;
		out->file_offset = addr - r->start + r->offset;
	}
	if (flags & VMS_IMAGE_NO_FILES) {
		out->note = "the snapshot was not taken on this host: its files are not read here";
		goto out;
	}
	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd >= 0 && !(files = vms_scan_files_new(rootfd, cache))) {
		oom = 1;
		goto out;
	}
	if (fr->deleted) {
		out->note = replaced_on_disk(files, fr)
		                ? "the mapped file was replaced (the file at its path has another inode) and "
		                  "deleted: no section or symbol"
		                : "the mapped file was deleted: no section or symbol";
		goto out;
	}
	int rc = elf_open(files, fr->path, &e, &oom);
	if (rc == -1) {
		out->note = "the file cannot be read: no section or symbol";
		goto out;
	}
	if ((flags & VMS_IMAGE_CHECK_INODE) && (uint64_t)e.st.st_ino != fr->inode) {
		out->note = "the file on disk is not the one mapped (inode differs): no section or symbol";
		goto out;
	}
	if (rc == -2) {
		out->note = "not an ELF file";
		goto out;
	}
	if (load_bias(&e, bias_anchor(s, (size_t)l.region, fr), page, &bias, NULL, &oom)) {
		out->has_vaddr = 1;
		out->vaddr = addr - bias;
	}
	build_id(&e, out->build_id, sizeof out->build_id, &oom);
	if (!out->has_vaddr) {
		out->note = "its program headers do not match the mapping: no section or symbol";
		goto out;
	}
symbols:;
	struct vms_elf_shdr sec;
	uint64_t lo = UINT64_MAX; /* no section: only a symbol that holds the address */
	if (e.sh && section_at(&e, out->vaddr, &sec)) {
		const char *n = sec_name(&e, &sec);
		if (n && strlen(n) < sizeof out->section)
			memcpy(out->section, n, strlen(n) + 1);
		lo = sec.addr;
	}
	struct cand best;
	int got = find_symbol(&e, 2, out->vaddr, lo, &best);
	if (got > 0)
		out->symbol_source = ".symtab";
	if (got == 0 && files && out->build_id[0] && strlen(out->build_id) > 2) {
		snprintf(out->debug_file, sizeof out->debug_file, "/usr/lib/debug/.build-id/%.2s/%s.debug",
		         out->build_id, out->build_id + 2);
		if (elf_open(files, out->debug_file, &d, &oom) == 0 &&
		    (got = find_symbol(&d, 2, out->vaddr, lo, &best)) > 0)
			out->symbol_source = "debug file";
		else
			out->debug_file[0] = 0;
	}
	if (got == 0 && (got = find_symbol(&e, 11, out->vaddr, lo, &best)) > 0)
		out->symbol_source = ".dynsym";
	if (got < 0)
		oom = 1;
	if (got > 0) {
		memcpy(out->symbol, best.name, sizeof out->symbol);
		out->symbol_offset = out->vaddr - best.value;
		out->symbol_size = best.size;
		out->symbol_inside = best.inside;
	} else if (!e.sh) {
		out->note = "no section headers (stripped): no section or symbol";
	} else {
		out->note = "no symbol at this address (.symtab and .dynsym have none, no debug file)";
	}
out:
	elf_close(&e);
	elf_close(&d);
	vms_scan_files_free(files);
	if (rootfd >= 0)
		close(rootfd);
	return oom ? VMS_ERR_NOMEM : VMS_OK;
}

void vms_image_symbol_text(const struct vms_image_info *info, char *buf, size_t cap)
{
	if (!cap)
		return;
	buf[0] = 0;
	if (!info->found || !info->path)
		return;
	const char *b = strrchr(info->path, '/');
	b = b ? b + 1 : info->path;
	if (info->symbol[0])
		snprintf(buf, cap, "%s!%s+0x%llx", b, info->symbol, (unsigned long long)info->symbol_offset);
	else if (info->has_vaddr)
		snprintf(buf, cap, "%s+0x%llx", b, (unsigned long long)info->vaddr);
	else if (info->has_file_offset)
		snprintf(buf, cap, "%s@0x%llx", b, (unsigned long long)info->file_offset);
}

/* ---- sections as parts of image allocations --------------------------------------------- */

#define PARTS_PER_IMAGE 64

struct part_buf {
	struct vms_part *p;
	size_t n, cap;
};

static int push_part(struct part_buf *b, struct vms_part part)
{
	if (VMS_GROW(b->p, b->n, b->cap, 256))
		return -1;
	b->p[b->n++] = part;
	return 0;
}

static int is_loader(const char *path)
{
	const char *b = strrchr(path, '/');
	b = b ? b + 1 : path;
	return !strncmp(b, "ld-linux", 8) || !strncmp(b, "ld-musl-", 8) || !strncmp(b, "ld.so", 5);
}

/* The allocated sections of e loaded with bias, clipped to [lo, hi), sorted and disjoint (an
 * overlapping or out-of-order section starts where the previous one ended; TLS sections are
 * left out: .tbss overlaps what follows it), at most PARTS_PER_IMAGE, each handed to fn.
 * Returns how many, or -1 when fn failed. */
static int walk_sections(const struct elf *e, uint64_t bias, uint64_t lo, uint64_t hi,
                         vms_image_section_fn fn, void *cookie)
{
	uint64_t prev_end = lo;
	int added = 0;
	for (unsigned k = 1; e->sh && k < e->h.shnum && added < PARTS_PER_IMAGE; k++) {
		struct vms_elf_shdr sh;
		if (!vms_elf_shdr(&e->h, e->sh, e->sh_len, k, &sh))
			break;
		if (sh.type == 0 || !(sh.flags & 0x2) || (sh.flags & 0x400) || sh.size == 0)
			continue;
		uint64_t start = bias + sh.addr, end = start + sh.size;
		if (end < start)
			continue;
		if (start < prev_end)
			start = prev_end;
		if (end > hi)
			end = hi;
		if (start >= end)
			continue;
		const char *name = sec_name(e, &sh);
		if (fn(cookie, start, end, name && name[0] ? name : "(unnamed section)") < 0)
			return -1;
		prev_end = end;
		added++;
	}
	return added;
}

struct part_sink {
	struct vms_snapshot *s;
	struct part_buf *b;
	uint32_t allocation;
};

static int sink_part(void *cookie, uint64_t start, uint64_t end, const char *name)
{
	struct part_sink *k = cookie;
	const char *d = vms_snapshot_strdup(k->s, name);
	if (!d)
		return -1;
	return push_part(
	    k->b, (struct vms_part){.start = start, .end = end, .allocation = k->allocation, .details = d});
}

int vms_image_mem_sections(const unsigned char *p, size_t len, uint64_t lo, uint64_t hi,
                           vms_image_section_fn fn, void *cookie)
{
	struct elf e;
	int oom = 0, n = -2;
	if (elf_open_mem(p, len, &e, &oom) == 0 && e.sh) {
		/* the image's lowest PT_LOAD is at lo (a vdso is linked at 0 and mapped whole) */
		uint64_t low = lowest_load(&e, &oom);
		if (low != UINT64_MAX)
			n = walk_sections(&e, lo - low, lo, hi, fn, cookie);
	}
	elf_close(&e);
	return oom ? -1 : n;
}

#define REPLACED_NOTE "replaced: the file at this path is not the mapped one (inode differs)"

/* What the details say about an image whose file is missing or not the mapped one. */
static const char *why_no_sections(struct vms_scan_files *files, const struct vms_region *fr, int open_rc,
                                   const struct elf *e)
{
	if (fr->deleted)
		return replaced_on_disk(files, fr) ? REPLACED_NOTE ", the mapped one was deleted: no sections"
		                                   : "deleted: the mapped file is gone, no sections";
	if (open_rc == -1)
		return "file not readable: sections unknown";
	if ((uint64_t)e->st.st_ino != fr->inode)
		return REPLACED_NOTE ", no sections";
	if (open_rc == -2)
		return "not an ELF file";
	return NULL;
}

/* One Image allocation: its sections as parts, its details: "(main executable|loader,
 * build-id HEX, prelinked at 0x..., relocated to 0x...)", or why there are no sections. */
static int image_sections(struct vms_snapshot *s, size_t ai, struct vms_scan_files *files, const char *exe,
                          struct part_buf *b, int *touched)
{
	struct vms_allocation *a = &s->allocations[ai];
	const struct vms_region *fr = first_file(s, a);
	uint64_t page = s->page_size ? s->page_size : 4096;
	struct elf e = {0};
	int oom = 0;
	char d[1024], notes[512] = "";
	size_t nl = 0;
	*touched = 0;
	if (!fr)
		goto out;
	int rc = fr->deleted ? -1 : elf_open(files, fr->path, &e, &oom);
	const char *why = why_no_sections(files, fr, rc, &e);
	char id[130] = "";
	uint64_t bias = 0, pref = 0;
	int have_bias = 0;
	if (!why) {
		build_id(&e, id, sizeof id, &oom);
		have_bias = load_bias(&e, fr, page, &bias, &pref, &oom);
	}
	size_t xl = exe ? strlen(exe) : 0;
	if (xl > 10 && !strcmp(exe + xl - 10, " (deleted)"))
		xl -= 10;
	int main_exe = exe && strlen(fr->path) == xl && !strncmp(exe, fr->path, xl);
	int loader = !main_exe && is_loader(fr->path);
#define NOTE(...) (nl < sizeof notes ? nl += (size_t)snprintf(notes + nl, sizeof notes - nl, __VA_ARGS__) : 0)
	if (main_exe || loader)
		NOTE("%s", main_exe ? "main executable" : "loader");
	if (id[0])
		NOTE("%sbuild-id %s", nl ? ", " : "", id);
	/* a shared object linked for a fixed address (prelink(8), -Ttext-segment) */
	if (have_bias && e.h.type == 3 && pref)
		NOTE("%sprelinked at 0x%llx%s", nl ? ", " : "", (unsigned long long)pref,
		     bias ? "" : " and loaded there");
	if (have_bias && e.h.type == 3 && pref && bias)
		NOTE(", relocated to 0x%llx", (unsigned long long)(pref + bias));
	if (why)
		NOTE("%s%s", nl ? ", " : "", why);
#undef NOTE
	if (nl && nl < sizeof notes) {
		int n = snprintf(d, sizeof d, "%s (%s)", a->details ? a->details : fr->path, notes);
		const char *nd = n > 0 && (size_t)n < sizeof d ? vms_snapshot_strdup(s, d) : NULL;
		if (nd) {
			a->details = nd;
			*touched = 1;
		}
	}
	if (why || !e.sh || !have_bias)
		goto out;
	struct part_sink sink = {.s = s, .b = b, .allocation = (uint32_t)ai};
	int n = walk_sections(&e, bias, a->start, a->end, sink_part, &sink);
	if (n < 0)
		oom = 1;
	else if (n > 0)
		*touched = 1;
out:
	elf_close(&e);
	return oom ? -1 : 0;
}

/* ---- the pass of one scan (imageinfo_internal.h) --------------------------------------------- */

struct vms_image_pass {
	struct vms_scan_files *files;
	char *exe;             /* the main executable's path, or NULL */
	struct part_buf parts; /* of the allocations done as classified, in allocation order */
	struct done {
		size_t first, n; /* their parts: parts.p[first, first + n) */
		int done;
		/* its details before and after the notes were added: an allocation that carries
		 * the latter (the attribution stage copied or split it) gets the former back
		 * before its sections are found again, so its notes are not added twice */
		const char *plain, *noted;
	} * at; /* by allocation index as classified */
	size_t n_at, cap_at;
};

struct vms_image_pass *vms_image_pass_new(struct vms_scan_files *files, const char *exe)
{
	struct vms_image_pass *ip = calloc(1, sizeof *ip);
	if (!ip)
		return NULL;
	ip->files = files;
	if (exe && !(ip->exe = strdup(exe))) {
		free(ip);
		return NULL;
	}
	return ip;
}

void vms_image_pass_free(struct vms_image_pass *ip)
{
	if (!ip)
		return;
	free(ip->exe);
	free(ip->parts.p);
	free(ip->at);
	free(ip);
}

int vms_image_pass_allocation(struct vms_image_pass *ip, struct vms_snapshot *s, size_t ai)
{
	if (s->allocations[ai].type != VMS_TYPE_IMAGE)
		return 0;
	while (ip->n_at <= ai) {
		if (VMS_GROW(ip->at, ip->n_at, ip->cap_at, 64))
			return -1;
		ip->at[ip->n_at++] = (struct done){0};
	}
	size_t first = ip->parts.n;
	const char *plain = s->allocations[ai].details;
	int touched;
	if (image_sections(s, ai, ip->files, ip->exe, &ip->parts, &touched) < 0) {
		ip->parts.n = first;
		s->allocations[ai].details = plain; /* done again, from the start, by the finish */
		return -1;
	}
	ip->at[ai] = (struct done){.first = first,
	                           .n = ip->parts.n - first,
	                           .done = 1,
	                           .plain = plain,
	                           .noted = s->allocations[ai].details};
	return 0;
}

/* The details allocation a had before the pass added its notes, when it carries the notes of
 * an allocation done as classified (pointer identity: the noted text is that allocation's own). */
static const char *plain_details(const struct vms_image_pass *ip, const struct vms_allocation *a)
{
	for (size_t k = 0; a->details && k < ip->n_at; k++)
		if (ip->at[k].done && ip->at[k].noted == a->details)
			return ip->at[k].plain;
	return a->details;
}

struct vms_part *vms_image_pass_parts(const struct vms_image_pass *ip, size_t *n)
{
	*n = ip ? ip->parts.n : 0;
	return ip && ip->parts.n ? ip->parts.p : NULL;
}

int vms_image_pass_finish(struct vms_image_pass *ip, struct vms_snapshot *s, const long *same_as,
                          unsigned char *touched)
{
	struct part_buf b = {0};
	int err = VMS_OK;
	for (size_t i = 0; i < s->n_parts; i++)
		if (push_part(&b, s->parts[i]) < 0)
			err = VMS_ERR_NOMEM;
	size_t before = b.n;
	for (size_t ai = 0; ai < s->n_allocations && !err; ai++) {
		int t = 0;
		if (s->allocations[ai].type != VMS_TYPE_IMAGE)
			continue;
		/* an allocation a recogniser gave parts keeps only those */
		int has = 0;
		for (size_t i = 0; i < s->n_parts && !has; i++)
			has = s->parts[i].allocation == ai;
		if (has)
			continue;
		long was = same_as ? same_as[ai] : (long)ai;
		if (was >= 0 && (size_t)was < ip->n_at && ip->at[was].done) {
			/* done as classified, and the attribution stage left it as it was: its details
			 * are in it already, its parts are those */
			const struct done *d = &ip->at[was];
			for (size_t k = 0; k < d->n && !err; k++) {
				struct vms_part part = ip->parts.p[d->first + k];
				part.allocation = (uint32_t)ai;
				if (push_part(&b, part) < 0)
					err = VMS_ERR_NOMEM;
			}
		} else {
			struct vms_allocation *a = &s->allocations[ai];
			const char *had = a->details;
			a->details = plain_details(ip, a);
			if (image_sections(s, ai, ip->files, ip->exe, &b, &t) < 0)
				err = VMS_ERR_NOMEM;
			t |= a->details != had;
		}
		if (touched)
			touched[ai] = (unsigned char)t;
	}
	if (!err && b.n > before) {
		struct vms_part *p = vms_snapshot_alloc(s, b.n * sizeof *p);
		if (!p)
			err = VMS_ERR_NOMEM;
		else {
			memcpy(p, b.p, b.n * sizeof *p);
			s->parts = p;
			s->n_parts = b.n;
		}
	}
	free(b.p);
	return err;
}

int vms_image_sections(struct vms_snapshot *s, int rootfd, const char *exe, struct vms_file_cache *cache,
                       unsigned char *touched)
{
	struct vms_scan_files *files = vms_scan_files_new(rootfd, cache);
	struct vms_image_pass *ip = files ? vms_image_pass_new(files, exe) : NULL;
	int err = ip ? vms_image_pass_finish(ip, s, NULL, touched) : VMS_ERR_NOMEM;
	vms_image_pass_free(ip);
	vms_scan_files_free(files);
	return err;
}
