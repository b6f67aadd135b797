/* ELF program headers, parsed from bytes the caller read (no I/O here): what the classifier
 * needs to tell an image's own zero-fill .bss from anonymous memory the kernel merged after it. */
#ifndef VMSCOPE_CORE_ELF_H
#define VMSCOPE_CORE_ELF_H

#include <stddef.h>
#include <stdint.h>

#include "vmscope/parse.h" /* struct vms_elf_load */

/* The ELF header's first bytes the parser needs (ELF64's header is 64 bytes, ELF32's 52). */
#define VMS_ELF_EHDR_READ 64

/* Where the program header table is. eh: the file's first len bytes (VMS_ELF_EHDR_READ).
 * Returns 1 and sets *phoff and *size (bytes to read there: phentsize * phnum, at most
 * VMS_ELF_PHDRS_MAX), 0 when it is no ELF file we understand (bad magic, class or data
 * encoding, odd entry size, no or too many entries). */
#define VMS_ELF_PHDRS_MAX (256u * 64u)
int vms_elf_phdrs_at(const unsigned char *eh, size_t len, uint64_t *phoff, size_t *size);

/* The PT_LOAD segments of the table (ph, len bytes) read from where vms_elf_phdrs_at() said
 * for the same header eh: fills *out (the lowest and the highest PT_LOAD). Returns 1, or 0 when
 * the table has no PT_LOAD or a segment is malformed (p_memsz < p_filesz, or it wraps). */
int vms_elf_loads(const unsigned char *eh, size_t eh_len, const unsigned char *ph, size_t len,
                  struct vms_elf_load *out);

/* ---- section headers, string tables, symbols, notes (for "what is at this address") ------- */

/* The ELF header's fields the readers below need. */
struct vms_elf_hdr {
	int cls;       /* 1 = ELF32, 2 = ELF64 */
	int be;        /* big-endian */
	unsigned type; /* e_type: 2 EXEC, 3 DYN */
	uint64_t phoff, shoff;
	unsigned phentsize, phnum, shentsize, shnum, shstrndx;
};

/* Parse the header (eh, len bytes from offset 0). 1 when it is an ELF file we understand, else
 * 0. Counts and entry sizes are as written; the readers below check them. */
int vms_elf_hdr(const unsigned char *eh, size_t len, struct vms_elf_hdr *out);

/* Where the section header table is: 1 and *off, *size (shentsize * shnum, at most
 * VMS_ELF_SHDRS_MAX), or 0 when there is none we can read (no table, extended numbering,
 * odd entry size, too many sections). */
#define VMS_ELF_SHDRS_MAX (65535u * 64u)
int vms_elf_shdrs_at(const struct vms_elf_hdr *h, uint64_t *off, size_t *size);

struct vms_elf_shdr {
	uint32_t name;  /* offset into the section name string table */
	uint32_t type;  /* SHT_*: 2 SYMTAB, 3 STRTAB, 7 NOTE, 8 NOBITS, 11 DYNSYM */
	uint64_t flags; /* SHF_ALLOC 0x2, SHF_TLS 0x400 */
	uint64_t addr, offset, size;
	uint32_t link; /* for a symbol table: its string table's index */
	uint64_t entsize;
};
/* Section idx of the table (tab, len bytes read where vms_elf_shdrs_at() said). 1, or 0 when
 * idx lies outside the table. */
int vms_elf_shdr(const struct vms_elf_hdr *h, const unsigned char *tab, size_t len, unsigned idx,
                 struct vms_elf_shdr *out);

/* Program header idx of the table (tab, len bytes at h->phoff). 1 and the fields, or 0. */
struct vms_elf_phdr {
	uint32_t type;
	uint64_t offset, vaddr, filesz, memsz;
};
int vms_elf_phdr(const struct vms_elf_hdr *h, const unsigned char *tab, size_t len, unsigned idx,
                 struct vms_elf_phdr *out);

/* The NUL-terminated string at off of a string table (tab, len bytes), or NULL when off lies
 * outside it or no NUL follows before its end. */
const char *vms_elf_str(const unsigned char *tab, size_t len, uint64_t off);

/* Size of one symbol table entry: 24 (ELF64) or 16 (ELF32). */
size_t vms_elf_sym_size(const struct vms_elf_hdr *h);
struct vms_elf_sym {
	uint32_t name;
	unsigned char info; /* type in the low 4 bits (1 OBJECT, 2 FUNC), binding in the high 4 */
	uint16_t shndx;     /* 0: undefined */
	uint64_t value, size;
};
/* The symbol entry at p (vms_elf_sym_size() bytes). */
void vms_elf_sym(const struct vms_elf_hdr *h, const unsigned char *p, struct vms_elf_sym *out);

/* The GNU build-id in a note section or segment (p, len bytes), as lower-case hex into out
 * (cap bytes, NUL-terminated). 1 when found, else 0 (malformed notes end the walk). */
int vms_elf_build_id(const struct vms_elf_hdr *h, const unsigned char *p, size_t len, char *out, size_t cap);

#endif
