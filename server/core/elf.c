/* ELF program header parsing (contract in elf.h). ELF32 and ELF64, either byte order. */
#include "elf.h"

#include <string.h>

static uint64_t get(const unsigned char *p, int n, int be)
{
	uint64_t v = 0;
	for (int k = 0; k < n; k++)
		v |= (uint64_t)p[be ? n - 1 - k : k] << (8 * k);
	return v;
}

/* ---- the two layouts ------------------------------------------------------------------------- */

/* Every field we read, in the file header (EH_), a program header (PH_), a section header
 * (SH_) and a symbol (ST_). */
// clang-format off
enum elf_field {
	EH_PHOFF, EH_SHOFF, EH_PHENTSIZE, EH_PHNUM, EH_SHENTSIZE, EH_SHNUM, EH_SHSTRNDX,
	PH_OFFSET, PH_VADDR, PH_FILESZ, PH_MEMSZ,
	SH_FLAGS, SH_ADDR, SH_OFFSET, SH_SIZE, SH_LINK, SH_ENTSIZE,
	ST_VALUE, ST_SIZE, ST_INFO, ST_SHNDX,
	ELF_FIELD_COUNT
};

/* Where each field stands: {byte offset, width} in ELF32 and in ELF64, from the System V gABI
 * (<elf.h> Elf32_* and Elf64_*). Every reader below is written once against this table, so the
 * 32- and 64-bit paths cannot drift apart. */
static const struct at {
	unsigned char off, w;
} at[ELF_FIELD_COUNT][2] = {
	/*                 ELF32       ELF64 */
	[EH_PHOFF]     = {{0x1c, 4}, {0x20, 8}},
	[EH_SHOFF]     = {{0x20, 4}, {0x28, 8}},
	[EH_PHENTSIZE] = {{0x2a, 2}, {0x36, 2}},
	[EH_PHNUM]     = {{0x2c, 2}, {0x38, 2}},
	[EH_SHENTSIZE] = {{0x2e, 2}, {0x3a, 2}},
	[EH_SHNUM]     = {{0x30, 2}, {0x3c, 2}},
	[EH_SHSTRNDX]  = {{0x32, 2}, {0x3e, 2}},
	[PH_OFFSET]    = {{0x04, 4}, {0x08, 8}},
	[PH_VADDR]     = {{0x08, 4}, {0x10, 8}},
	[PH_FILESZ]    = {{0x10, 4}, {0x20, 8}},
	[PH_MEMSZ]     = {{0x14, 4}, {0x28, 8}},
	[SH_FLAGS]     = {{0x08, 4}, {0x08, 8}},
	[SH_ADDR]      = {{0x0c, 4}, {0x10, 8}},
	[SH_OFFSET]    = {{0x10, 4}, {0x18, 8}},
	[SH_SIZE]      = {{0x14, 4}, {0x20, 8}},
	[SH_LINK]      = {{0x18, 4}, {0x28, 4}},
	[SH_ENTSIZE]   = {{0x24, 4}, {0x38, 8}},
	[ST_VALUE]     = {{0x04, 4}, {0x08, 8}},
	[ST_SIZE]      = {{0x08, 4}, {0x10, 8}},
	[ST_INFO]      = {{0x0c, 1}, {0x04, 1}},
	[ST_SHNDX]     = {{0x0e, 2}, {0x06, 2}},
};
// clang-format on

/* Entry sizes, ELF32 and ELF64: sizeof(Phdr), sizeof(Shdr), sizeof(Sym). */
static const unsigned phent[2] = {32, 56}, shent[2] = {40, 64}, syment[2] = {16, 24};

/* Field f of the structure at p, for class cls (1 = ELF32, 2 = ELF64) and byte order be. */
static uint64_t rd(const unsigned char *p, enum elf_field f, int cls, int be)
{
	const struct at *a = &at[f][cls == 2];
	return get(p + a->off, a->w, be);
}

/* Class (1 = ELF32, 2 = ELF64) and byte order of a header we understand, or 0. */
static int elf_class(const unsigned char *eh, size_t len, int *be)
{
	if (len < 52 || memcmp(eh, "\177ELF", 4) != 0 || (eh[4] != 1 && eh[4] != 2) ||
	    (eh[5] != 1 && eh[5] != 2))
		return 0;
	if (eh[4] == 2 && len < 64)
		return 0;
	*be = eh[5] == 2;
	return eh[4];
}

/* The program header at p (phent[cls == 2] bytes). */
static void read_phdr(const unsigned char *p, int cls, int be, struct vms_elf_phdr *out)
{
	out->type = (uint32_t)get(p, 4, be);
	out->offset = rd(p, PH_OFFSET, cls, be), out->vaddr = rd(p, PH_VADDR, cls, be);
	out->filesz = rd(p, PH_FILESZ, cls, be), out->memsz = rd(p, PH_MEMSZ, cls, be);
}

int vms_elf_phdrs_at(const unsigned char *eh, size_t len, uint64_t *phoff, size_t *size)
{
	struct vms_elf_hdr h;
	if (!vms_elf_hdr(eh, len, &h))
		return 0;
	if (h.phentsize != phent[h.cls == 2] || h.phnum == 0 ||
	    (size_t)h.phentsize * h.phnum > VMS_ELF_PHDRS_MAX || h.phoff == 0)
		return 0;
	*phoff = h.phoff;
	*size = (size_t)h.phentsize * h.phnum;
	return 1;
}

int vms_elf_loads(const unsigned char *eh, size_t eh_len, const unsigned char *ph, size_t len,
                  struct vms_elf_load *out)
{
	int be, cls = elf_class(eh, eh_len, &be);
	if (!cls)
		return 0;
	size_t ent = phent[cls == 2];
	int found = 0;
	uint64_t top = 0;
	memset(out, 0, sizeof *out);
	for (size_t k = 0; k + ent <= len; k += ent) {
		struct vms_elf_phdr p;
		read_phdr(ph + k, cls, be, &p);
		if (p.type != 1 /* PT_LOAD */)
			continue;
		uint64_t off = p.offset, va = p.vaddr, fs = p.filesz, ms = p.memsz;
		if (ms < fs || va + ms < va)
			return 0;
		if (!found || va < out->first_vaddr)
			out->first_vaddr = va, out->first_offset = off;
		if (!found || va + ms > top) {
			top = va + ms;
			out->vaddr = va, out->offset = off, out->filesz = fs, out->memsz = ms;
		}
		found = 1;
	}
	return found;
}

/* ---- section headers, strings, symbols, notes ------------------------------------------------ */

int vms_elf_hdr(const unsigned char *eh, size_t len, struct vms_elf_hdr *out)
{
	int be, cls = elf_class(eh, len, &be);
	if (!cls)
		return 0;
	memset(out, 0, sizeof *out);
	out->cls = cls;
	out->be = be;
	out->type = (unsigned)get(eh + 0x10, 2, be);
	out->phoff = rd(eh, EH_PHOFF, cls, be);
	out->shoff = rd(eh, EH_SHOFF, cls, be);
	out->phentsize = (unsigned)rd(eh, EH_PHENTSIZE, cls, be);
	out->phnum = (unsigned)rd(eh, EH_PHNUM, cls, be);
	out->shentsize = (unsigned)rd(eh, EH_SHENTSIZE, cls, be);
	out->shnum = (unsigned)rd(eh, EH_SHNUM, cls, be);
	out->shstrndx = (unsigned)rd(eh, EH_SHSTRNDX, cls, be);
	return 1;
}

int vms_elf_shdrs_at(const struct vms_elf_hdr *h, uint64_t *off, size_t *size)
{
	if (h->shoff == 0 || h->shnum == 0 || h->shentsize != shent[h->cls == 2] ||
	    (size_t)h->shentsize * h->shnum > VMS_ELF_SHDRS_MAX ||
	    h->shoff + (uint64_t)h->shentsize * h->shnum < h->shoff)
		return 0;
	*off = h->shoff;
	*size = (size_t)h->shentsize * h->shnum;
	return 1;
}

int vms_elf_shdr(const struct vms_elf_hdr *h, const unsigned char *tab, size_t len, unsigned idx,
                 struct vms_elf_shdr *out)
{
	size_t ent = shent[h->cls == 2];
	int cls = h->cls;
	if (idx >= h->shnum || (size_t)idx * ent + ent > len)
		return 0;
	const unsigned char *p = tab + (size_t)idx * ent;
	int be = h->be;
	memset(out, 0, sizeof *out);
	out->name = (uint32_t)get(p, 4, be);
	out->type = (uint32_t)get(p + 4, 4, be);
	out->flags = rd(p, SH_FLAGS, cls, be), out->addr = rd(p, SH_ADDR, cls, be);
	out->offset = rd(p, SH_OFFSET, cls, be), out->size = rd(p, SH_SIZE, cls, be);
	out->link = (uint32_t)rd(p, SH_LINK, cls, be), out->entsize = rd(p, SH_ENTSIZE, cls, be);
	return 1;
}

int vms_elf_phdr(const struct vms_elf_hdr *h, const unsigned char *tab, size_t len, unsigned idx,
                 struct vms_elf_phdr *out)
{
	size_t ent = phent[h->cls == 2];
	if (idx >= h->phnum || (size_t)idx * ent + ent > len)
		return 0;
	read_phdr(tab + (size_t)idx * ent, h->cls, h->be, out);
	return 1;
}

const char *vms_elf_str(const unsigned char *tab, size_t len, uint64_t off)
{
	if (off >= len || !memchr(tab + off, 0, len - (size_t)off))
		return NULL;
	return (const char *)tab + off;
}

size_t vms_elf_sym_size(const struct vms_elf_hdr *h)
{
	return syment[h->cls == 2];
}

void vms_elf_sym(const struct vms_elf_hdr *h, const unsigned char *p, struct vms_elf_sym *out)
{
	int cls = h->cls, be = h->be;
	out->name = (uint32_t)get(p, 4, be);
	out->info = (unsigned char)rd(p, ST_INFO, cls, be);
	out->shndx = (uint16_t)rd(p, ST_SHNDX, cls, be);
	out->value = rd(p, ST_VALUE, cls, be);
	out->size = rd(p, ST_SIZE, cls, be);
}

int vms_elf_build_id(const struct vms_elf_hdr *h, const unsigned char *p, size_t len, char *out, size_t cap)
{
	size_t k = 0;
	while (k + 12 <= len) {
		uint64_t namesz = get(p + k, 4, h->be), descsz = get(p + k + 4, 4, h->be);
		uint64_t type = get(p + k + 8, 4, h->be);
		uint64_t name_at = k + 12, desc_at = name_at + ((namesz + 3) & ~3ull);
		uint64_t next = desc_at + ((descsz + 3) & ~3ull);
		if (namesz > len || descsz > len || next > len)
			return 0;
		if (type == 3 && namesz == 4 && !memcmp(p + name_at, "GNU", 4) && descsz > 0 &&
		    descsz * 2 < cap) {
			static const char hex[] = "0123456789abcdef";
			for (uint64_t b = 0; b < descsz; b++) {
				out[2 * b] = hex[p[desc_at + b] >> 4];
				out[2 * b + 1] = hex[p[desc_at + b] & 15];
			}
			out[2 * descsz] = 0;
			return 1;
		}
		k = (size_t)next;
	}
	return 0;
}
