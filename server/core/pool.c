#include "pool.h"
#include "vmscope/util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_SIZE (64 * 1024)
#define BIG_BLOCK (CHUNK_SIZE / 4)

struct chunk {
	struct chunk *next;
	size_t used, cap;
	max_align_t data[];
};

struct vms_pool {
	struct chunk *chunks;
	void **adopted;
	size_t n_adopted, cap_adopted;
};

struct vms_pool *vms_pool_new(void)
{
	return calloc(1, sizeof(struct vms_pool));
}

void vms_pool_free(struct vms_pool *p)
{
	if (!p)
		return;
	for (struct chunk *c = p->chunks, *next; c; c = next) {
		next = c->next;
		free(c);
	}
	for (size_t i = 0; i < p->n_adopted; i++)
		free(p->adopted[i]);
	free(p->adopted);
	free(p);
}

int vms_pool_adopt(struct vms_pool *p, void *block)
{
	if (!block)
		return 0;
	if (VMS_GROW(p->adopted, p->n_adopted, p->cap_adopted, 16)) {
		free(block);
		return -1;
	}
	p->adopted[p->n_adopted++] = block;
	return 0;
}

void *vms_pool_alloc(struct vms_pool *p, size_t size)
{
	const size_t align = sizeof(max_align_t);
	if (size > SIZE_MAX - align)
		return NULL; /* would wrap to a tiny block */
	size = (size + align - 1) / align * align;
	if (size == 0)
		size = align;
	if (size >= BIG_BLOCK) {
		void *b = calloc(1, size);
		if (!b || vms_pool_adopt(p, b) < 0)
			return NULL;
		return b;
	}
	struct chunk *c = p->chunks;
	size_t off = c ? (c->used + align - 1) / align * align : 0;
	if (!c || off > c->cap || c->cap - off < size) {
		c = malloc(sizeof *c + CHUNK_SIZE);
		if (!c)
			return NULL;
		c->used = 0;
		c->cap = CHUNK_SIZE;
		c->next = p->chunks;
		p->chunks = c;
		off = 0;
	}
	void *r = (char *)c->data + off;
	c->used = off + size;
	memset(r, 0, size);
	return r;
}

char *vms_pool_strndup(struct vms_pool *p, const char *s, size_t n)
{
	/* Strings need no alignment: pack them byte-wise at the chunk's end of use. */
	struct chunk *c = p->chunks;
	if (n + 1 >= BIG_BLOCK || !c || c->cap - c->used < n + 1) {
		char *r = vms_pool_alloc(p, n + 1);
		if (r)
			memcpy(r, s, n);
		return r;
	}
	char *r = (char *)c->data + c->used;
	c->used += n + 1;
	memcpy(r, s, n);
	r[n] = '\0';
	return r;
}
