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
