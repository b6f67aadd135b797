/* Memory types, VMMap-style columns and smaps fields, as enums with name tables so that every
 * exporter, the diff and the tests can loop over them instead of naming each one. */
#ifndef VMSCOPE_TYPES_H
#define VMSCOPE_TYPES_H

#include <stdint.h>

/* VMMap's memory types, Linux edition (see docs/memory-types.md). Order = display order. */
enum vms_type {
	VMS_TYPE_IMAGE = 0,    /* loaded ELF: segments, alignment holes, zero-fill .bss; [vdso] */
	VMS_TYPE_MAPPED_FILE,  /* any other file-backed mapping */
	VMS_TYPE_SHAREABLE,    /* shmem: memfd, SysV, /dev/zero shared, /dev/shm (tmpfs) */
	VMS_TYPE_HEAP,         /* [heap] (brk) and glibc arena heaps */
	VMS_TYPE_MANAGED_HEAP, /* JVM/Go/.NET heaps: not detected yet, always empty */
	VMS_TYPE_STACK,        /* [stack] and thread stacks with their guards */
	VMS_TYPE_PRIVATE_DATA, /* other anonymous private memory, [anon:NAME] */
	VMS_TYPE_PAGE_TABLE,   /* synthetic: VmPTE */
	VMS_TYPE_KERNEL,       /* [vvar], [vvar_vclock], [vsyscall]: kernel-provided pages */
	VMS_TYPE_RESERVED,     /* stand-alone PROT_NONE reservations no allocation owns */
	VMS_TYPE_FREE,         /* gaps in the user address space (not regions) */
	VMS_TYPE_COUNT
};

/* Display name ("Mapped File") and snake_case key ("mapped_file"). Static storage. */
const char *vms_type_name(enum vms_type t);
const char *vms_type_key(enum vms_type t);
/* Inverse of vms_type_key; returns -1 when unknown. */
int vms_type_from_key(const char *key);

/* smaps "NAME: N kB" fields, stored in BYTES. Order = kernel 6.18 order. */
enum vms_smaps_field {
	VMS_SF_SIZE = 0,
	VMS_SF_KERNEL_PAGE_SIZE,
	VMS_SF_MMU_PAGE_SIZE,
	VMS_SF_RSS,
	VMS_SF_PSS,
	VMS_SF_PSS_DIRTY,
	VMS_SF_SHARED_CLEAN,
	VMS_SF_SHARED_DIRTY,
	VMS_SF_PRIVATE_CLEAN,
	VMS_SF_PRIVATE_DIRTY,
	VMS_SF_REFERENCED,
	VMS_SF_ANONYMOUS,
	VMS_SF_KSM,
	VMS_SF_LAZY_FREE,
	VMS_SF_ANON_HUGE_PAGES,
	VMS_SF_SHMEM_PMD_MAPPED,
	VMS_SF_FILE_PMD_MAPPED,
	VMS_SF_SHARED_HUGETLB,
	VMS_SF_PRIVATE_HUGETLB,
	VMS_SF_SWAP,
	VMS_SF_SWAP_PSS,
	VMS_SF_LOCKED,
	VMS_SF_COUNT
};
/* Kernel spelling ("Private_Dirty") and snake_case JSON key ("private_dirty"). */
const char *vms_smaps_field_kernel_name(enum vms_smaps_field f);
const char *vms_smaps_field_key(enum vms_smaps_field f);
int vms_smaps_field_from_key(const char *key); /* -1 when unknown */

/* VMMap columns plus Linux's own, all in bytes. Definitions: docs/memory-types.md. */
enum vms_col {
	VMS_COL_SIZE = 0,
	VMS_COL_COMMITTED,
	VMS_COL_PRIVATE,
	VMS_COL_TOTAL_WS,
	VMS_COL_PRIVATE_WS,
	VMS_COL_SHAREABLE_WS,
	VMS_COL_SHARED_WS,
	VMS_COL_LOCKED_WS,
	VMS_COL_PSS,
	VMS_COL_USS,
	VMS_COL_SWAP,
	VMS_COL_SWAP_PSS,
	VMS_COL_DIRTY,
	VMS_COL_COUNT
};
const char *vms_col_name(enum vms_col c); /* "Total WS" */
const char *vms_col_key(enum vms_col c);  /* "total_ws" */
int vms_col_from_key(const char *key);    /* -1 when unknown */

#endif
