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

int vms_elf_phdrs_at(const unsigned char *eh, size_t len, uint64_t *phoff, size_t *size)
{
	int be, cls = elf_class(eh, len, &be);
	if (!cls)
		return 0;
	uint64_t off = cls == 2 ? get(eh + 0x20, 8, be) : get(eh + 0x1c, 4, be);
	unsigned entsize = (unsigned)get(eh + (cls == 2 ? 0x36 : 0x2a), 2, be);
	unsigned num = (unsigned)get(eh + (cls == 2 ? 0x38 : 0x2c), 2, be);
	if (entsize != (cls == 2 ? 56u : 32u) || num == 0 || (size_t)entsize * num > VMS_ELF_PHDRS_MAX ||
	    off == 0)
		return 0;
	*phoff = off;
	*size = (size_t)entsize * num;
	return 1;
}

int vms_elf_loads(const unsigned char *eh, size_t eh_len, const unsigned char *ph, size_t len,
                  struct vms_elf_load *out)
{
	int be, cls = elf_class(eh, eh_len, &be);
	if (!cls)
		return 0;
	size_t ent = cls == 2 ? 56 : 32;
	int found = 0;
	uint64_t top = 0;
	memset(out, 0, sizeof *out);
	for (size_t k = 0; k + ent <= len; k += ent) {
		const unsigned char *p = ph + k;
		if (get(p, 4, be) != 1 /* PT_LOAD */)
			continue;
		uint64_t off, va, fs, ms;
		if (cls == 2)
			off = get(p + 0x08, 8, be), va = get(p + 0x10, 8, be), fs = get(p + 0x20, 8, be),
			ms = get(p + 0x28, 8, be);
		else
			off = get(p + 0x04, 4, be), va = get(p + 0x08, 4, be), fs = get(p + 0x10, 4, be),
			ms = get(p + 0x14, 4, be);
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
	if (cls == 2) {
		out->phoff = get(eh + 0x20, 8, be);
		out->shoff = get(eh + 0x28, 8, be);
		out->phentsize = (unsigned)get(eh + 0x36, 2, be);
		out->phnum = (unsigned)get(eh + 0x38, 2, be);
		out->shentsize = (unsigned)get(eh + 0x3a, 2, be);
		out->shnum = (unsigned)get(eh + 0x3c, 2, be);
		out->shstrndx = (unsigned)get(eh + 0x3e, 2, be);
	} else {
		out->phoff = get(eh + 0x1c, 4, be);
		out->shoff = get(eh + 0x20, 4, be);
		out->phentsize = (unsigned)get(eh + 0x2a, 2, be);
		out->phnum = (unsigned)get(eh + 0x2c, 2, be);
		out->shentsize = (unsigned)get(eh + 0x2e, 2, be);
		out->shnum = (unsigned)get(eh + 0x30, 2, be);
		out->shstrndx = (unsigned)get(eh + 0x32, 2, be);
	}
	return 1;
}

int vms_elf_shdrs_at(const struct vms_elf_hdr *h, uint64_t *off, size_t *size)
{
	if (h->shoff == 0 || h->shnum == 0 || h->shentsize != (h->cls == 2 ? 64u : 40u) ||
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
	size_t ent = h->cls == 2 ? 64 : 40;
	if (idx >= h->shnum || (size_t)idx * ent + ent > len)
		return 0;
	const unsigned char *p = tab + (size_t)idx * ent;
	int be = h->be;
	memset(out, 0, sizeof *out);
	out->name = (uint32_t)get(p, 4, be);
	out->type = (uint32_t)get(p + 4, 4, be);
	if (h->cls == 2) {
		out->flags = get(p + 0x08, 8, be), out->addr = get(p + 0x10, 8, be);
		out->offset = get(p + 0x18, 8, be), out->size = get(p + 0x20, 8, be);
		out->link = (uint32_t)get(p + 0x28, 4, be), out->entsize = get(p + 0x38, 8, be);
	} else {
		out->flags = get(p + 0x08, 4, be), out->addr = get(p + 0x0c, 4, be);
		out->offset = get(p + 0x10, 4, be), out->size = get(p + 0x14, 4, be);
		out->link = (uint32_t)get(p + 0x18, 4, be), out->entsize = get(p + 0x24, 4, be);
	}
	return 1;
}

int vms_elf_phdr(const struct vms_elf_hdr *h, const unsigned char *tab, size_t len, unsigned idx,
                 struct vms_elf_phdr *out)
{
	size_t ent = h->cls == 2 ? 56 : 32;
	if (idx >= h->phnum || (size_t)idx * ent + ent > len)
		return 0;
	const unsigned char *p = tab + (size_t)idx * ent;
	int be = h->be;
	out->type = (uint32_t)get(p, 4, be);
	if (h->cls == 2)
		out->offset = get(p + 0x08, 8, be), out->vaddr = get(p + 0x10, 8, be),
		out->filesz = get(p + 0x20, 8, be), out->memsz = get(p + 0x28, 8, be);
	else
		out->offset = get(p + 0x04, 4, be), out->vaddr = get(p + 0x08, 4, be),
		out->filesz = get(p + 0x10, 4, be), out->memsz = get(p + 0x14, 4, be);
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
	return h->cls == 2 ? 24 : 16;
}

void vms_elf_sym(const struct vms_elf_hdr *h, const unsigned char *p, struct vms_elf_sym *out)
{
	int be = h->be;
	out->name = (uint32_t)get(p, 4, be);
	if (h->cls == 2) {
		out->info = p[4];
		out->shndx = (uint16_t)get(p + 6, 2, be);
		out->value = get(p + 8, 8, be);
		out->size = get(p + 16, 8, be);
	} else {
		out->value = get(p + 4, 4, be);
		out->size = get(p + 8, 4, be);
		out->info = p[12];
		out->shndx = (uint16_t)get(p + 14, 2, be);
	}
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
