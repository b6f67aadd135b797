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

#endif
