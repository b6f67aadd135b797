/* Private to the core: a bump allocator for strings and small objects, plus a list of adopted
 * malloc'd blocks, all released together by vms_pool_free(). Not thread-safe (one snapshot is
 * built by one thread). */
#ifndef VMSCOPE_CORE_POOL_H
#define VMSCOPE_CORE_POOL_H

#include <stddef.h>

struct vms_pool;

struct vms_pool *vms_pool_new(void);    /* NULL on ENOMEM */
void vms_pool_free(struct vms_pool *p); /* accepts NULL */
/* Zeroed memory, aligned for any type; NULL on ENOMEM. */
void *vms_pool_alloc(struct vms_pool *p, size_t size);
/* Copy of s[0..n) plus a NUL; NULL on ENOMEM. */
char *vms_pool_strndup(struct vms_pool *p, const char *s, size_t n);
/* Take ownership of a malloc'd block (freed with the pool). Returns 0, or -1 on ENOMEM (then
 * the block is freed immediately and must not be used). */
int vms_pool_adopt(struct vms_pool *p, void *block);

#endif
