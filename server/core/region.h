/* Private to the core: what a region (one VMA) is, from its maps line alone. One set of
 * predicates for the classifier and the recognisers. */
#ifndef VMSCOPE_CORE_REGION_H
#define VMSCOPE_CORE_REGION_H

#include "vmscope/snapshot.h"

/* Anonymous memory: no path (not even a pseudo name such as [heap]) and no inode. */
static inline int vms_region_is_anon(const struct vms_region *r)
{
	return !r->path && r->inode == 0;
}

/* Anonymous and private (MAP_PRIVATE | MAP_ANONYMOUS), any protection. */
static inline int vms_region_anon_private(const struct vms_region *r)
{
	return vms_region_is_anon(r) && r->perms[3] == 'p';
}

/* No access at all (---p / ---s): a reservation or a guard. */
static inline int vms_region_no_access(const struct vms_region *r)
{
	return r->perms[0] == '-' && r->perms[1] == '-' && r->perms[2] == '-';
}

/* Readable, writable and private (rw-p or rwxp). */
static inline int vms_region_rw_private(const struct vms_region *r)
{
	return r->perms[0] == 'r' && r->perms[1] == 'w' && r->perms[3] == 'p';
}

#endif
