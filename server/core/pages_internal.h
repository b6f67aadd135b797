/* Private to the core's page views (residency.c, strings.c, trim.c). */
#ifndef VMSCOPE_CORE_PAGES_INTERNAL_H
#define VMSCOPE_CORE_PAGES_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* One VMA as /proc/PID/maps gives it (the fields the page views need). */
struct vms_vma {
	uint64_t start, end;
	char perms[5];
};

/* The VMAs of /proc/PID/maps (through dirfd) overlapping [start, end), in address order, into a
 * malloc'd *out (free with free()). [vsyscall] is left out. Returns VMS_OK, or an enum vms_err
 * (VMS_ERR_PERMISSION, VMS_ERR_EXITED, VMS_ERR_NOMEM, ...). */
int vms_pages_vmas(int dirfd, uint64_t start, uint64_t end, struct vms_vma **out, size_t *n);

#endif
