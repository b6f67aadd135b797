/* What an address inside a mapped ELF image is, from the image's file: the file offset, the
 * link-time address, the section, the symbol and its offset, the build-id. For `vmscope at` and
 * the API's /at/{addr}.
 *
 * Files are read through bounded reads (the file-range cache when given): the ELF header, the
 * program and section header tables, the section name table, the build-id note and the symbol
 * tables (.symtab, else the separate debug file /usr/lib/debug/.build-id/xx/rest.debug when it
 * is installed, else .dynsym), in chunks, at most VMS_IMAGE_SYMTAB_MAX bytes each. Malformed
 * files (truncated, huge counts, offsets out of range, strings without NUL) give fewer answers,
 * never a crash. */
#ifndef VMSCOPE_IMAGEINFO_H
#define VMSCOPE_IMAGEINFO_H

#include <stddef.h>
#include <stdint.h>

#include "vmscope/snapshot.h"

struct vms_file_cache;

#define VMS_IMAGE_SYMTAB_MAX (256u << 20)

struct vms_image_info {
	int found;           /* 1: addr lies in a file-backed region or in an Image allocation
	                      * that has one; the fields below are then filled as far as known */
	const char *path;    /* the image's file (the snapshot's string) */
	int has_file_offset; /* addr lies in a file-backed region */
	uint64_t file_offset;
	int has_vaddr;          /* the load bias is known (the file's program headers) */
	uint64_t vaddr;         /* link-time address: what the ELF's sections and symbols use */
	char section[64];       /* ".text", "" when unknown */
	char symbol[256];       /* "malloc", "" when none */
	uint64_t symbol_offset; /* addr - the symbol's address */
	uint64_t symbol_size;
	int symbol_inside;         /* 1: addr < symbol + size; 0: the nearest symbol below it */
	const char *symbol_source; /* ".symtab", ".dynsym", "debug file" or NULL */
	char build_id[130];        /* lower-case hex, "" when none */
	char debug_file[200];      /* the separate debug file whose .symtab answered, or "" */
	const char *vdso_note;     /* for the [vdso]: where its bytes came from, or NULL */
	const char *note;          /* why something is missing ("the file on disk is not the mapped
	                            * one (inode differs)"), or NULL; static storage */
};

/* Flags of vms_image_lookup. */
#define VMS_IMAGE_CHECK_INODE                                                                                \
	1u /* answer only when the file on disk has the mapped inode (always                                 \
	    * for a live scan; a stored snapshot's file may have been                                        \
	    * replaced since) */
#define VMS_IMAGE_LIVE                                                                                       \
	2u /* s is a scan of a process running on this kernel now: its                                       \
	    * [vdso] is read from vmscope's own when the ABI is the same */
#define VMS_IMAGE_NO_FILES                                                                                   \
	4u /* s was not taken on this host (imported, another host name):                                    \
	    * no file is opened (a matching inode would be chance) */

/* Fill *out for addr of snapshot s. root: the directory the snapshot's paths are resolved in
 * ("/proc/PID/root" for a live process, "/" for a stored one; paths stay inside it). flags:
 * VMS_IMAGE_*. For the [vdso] the section comes from its bytes (VMS_IMAGE_LIVE) or the
 * snapshot's parts. cache may be NULL. Returns VMS_OK (out->found 0 when addr is not in an
 * image) or VMS_ERR_NOMEM. */
int vms_image_lookup(const struct vms_snapshot *s, uint64_t addr, const char *root, unsigned flags,
                     struct vms_file_cache *cache, struct vms_image_info *out);

/* The flags for looking up a stored snapshot s on this host: VMS_IMAGE_CHECK_INODE, plus
 * VMS_IMAGE_NO_FILES when it was imported (imported = 1) or taken on a host of another name. */
unsigned vms_image_stored_flags(const struct vms_snapshot *s, int imported);

/* vmscope's own vdso (getauxval(AT_SYSINFO_EHDR)) when it is the image the target's [vdso] of
 * len bytes maps: same word size and machine (s->arch) on this kernel, and its section header
 * table ends in the last page of len. NULL otherwise. */
const unsigned char *vms_image_own_vdso(const struct vms_snapshot *s, size_t len);

/* "libc.so.6!malloc+0x2a" into buf; without a symbol "libc.so.6+0x98930" (the link-time address),
 * or "libc.so.6@0x1000" (the file offset) when even that is unknown; "" when !info->found. */
void vms_image_symbol_text(const struct vms_image_info *info, char *buf, size_t cap);

/* The allocated ELF sections (.text, .rodata, .eh_frame, .data.rel.ro, .got, .data, .bss ...)
 * of each Image allocation of s, added to s->parts (struct vms_part: an annotation, no columns:
 * a page's working set stays with its region), sorted and clipped to the allocation, at most 64
 * per image; and the image's details gain "(main executable|loader, build-id HEX)". Files are
 * read under rootfd (the process's /proc/PID/root) and only when they still have the mapped
 * inode; an image a recogniser gave parts keeps those. exe: the target's executable path
 * (/proc/PID/exe) or NULL. touched (s->n_allocations bytes, may be NULL): 1 for each allocation
 * changed. Returns VMS_OK or VMS_ERR_NOMEM. */
int vms_image_sections(struct vms_snapshot *s, int rootfd, const char *exe, struct vms_file_cache *cache,
                       unsigned char *touched);

/* The allocated ELF sections of an image held in memory (len bytes at p: the vdso, read from
 * the target or from vmscope's own when the kernel and ABI are the same), whose lowest PT_LOAD
 * page is mapped at lo, clipped to [lo, hi), sorted and disjoint, at most 64: fn(cookie, start,
 * end, name) for each (name lives only during the call; fn returns 0, or -1 to stop). Returns
 * how many, -1 on ENOMEM or when fn failed, -2 when p holds no ELF image with section headers. */
typedef int (*vms_image_section_fn)(void *cookie, uint64_t start, uint64_t end, const char *name);
int vms_image_mem_sections(const unsigned char *p, size_t len, uint64_t lo, uint64_t hi,
                           vms_image_section_fn fn, void *cookie);

#endif
