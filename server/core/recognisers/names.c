/* Recogniser "names": VMA names that runtimes set with prctl(PR_SET_VMA_ANON_NAME) (Linux 5.17+,
 * CONFIG_ANON_VMA_NAME) and the kernel shows as [anon:NAME]. When present they are
 * authoritative, so this runs first. Sources: glibc 2.39 malloc/arena.c and nptl/allocatestack.c
 * (" glibc: ..." with glibc.mem.decorate_maps=1), Go 1.25 runtime/set_vma_name_linux.go
 * (" Go: ..."), mimalloc src/prim/unix/prim.c ("mimalloc"), google/tcmalloc
 * internal/system_allocator.h ("tcmalloc_region_*"), jemalloc --enable-pageid ("jemalloc_pg"),
 * PartitionAlloc page_allocator_internals_posix.cc ("partition_alloc", "v8", "blink_gc").
 * Adjacent regions with the same name form one allocation. */
#include <string.h>

#include "../attribute.h"

struct known_name {
	const char *prefix; /* of NAME in [anon:NAME] */
	enum vms_type type;
	const char *what;
};

static const struct known_name known[] = {
    {" glibc: malloc arena", VMS_TYPE_HEAP, "glibc arena heap"},
    {" glibc: malloc", VMS_TYPE_HEAP, "glibc mmapped chunk"},
    {" glibc: loader malloc", VMS_TYPE_HEAP, "ld.so loader heap"},
    {" glibc: pthread stack", VMS_TYPE_STACK, "glibc thread stack"},
    {" glibc: pthread user stack", VMS_TYPE_STACK, "thread stack (user-supplied)"},
    {" glibc: unused stack", VMS_TYPE_STACK, "glibc cached thread stack (no thread)"},
    {" Go: heap reservation", VMS_TYPE_MANAGED_HEAP, "Go heap reservation"},
    {" Go: heap index", VMS_TYPE_PRIVATE_DATA, "Go heap index (runtime metadata)"},
    {" Go: heap metadata", VMS_TYPE_PRIVATE_DATA, "Go heap metadata"},
    {" Go: heap", VMS_TYPE_MANAGED_HEAP, "Go heap"},
    {" Go: ", VMS_TYPE_PRIVATE_DATA, "Go runtime metadata"},
    {"mimalloc", VMS_TYPE_HEAP, "mimalloc segment"},
    {"tcmalloc_region_", VMS_TYPE_HEAP, "tcmalloc region"},
    {"tcmalloc_cpu_slab", VMS_TYPE_HEAP, "tcmalloc per-CPU cache"},
    {"jemalloc_pg", VMS_TYPE_HEAP, "jemalloc extent"},
    {"partition_alloc", VMS_TYPE_HEAP, "PartitionAlloc pages"},
    {"v8", VMS_TYPE_MANAGED_HEAP, "V8 heap pages"},
    {"blink_gc", VMS_TYPE_MANAGED_HEAP, "Oilpan (blink_gc) heap pages"},
};

/* The known entry for region r's [anon:NAME], or NULL. */
static const struct known_name *lookup(const struct vms_region *r)
{
	if (!r->path || strncmp(r->path, "[anon:", 6) != 0)
		return NULL;
	const char *name = r->path + 6;
	for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
		if (!strncmp(name, known[k].prefix, strlen(known[k].prefix)))
			return &known[k];
	return NULL;
}

static const char *run(struct vms_attr *a)
{
	const struct vms_snapshot *s = vms_attr_snapshot(a);
	unsigned named = 0;
	for (size_t i = 0; i < s->n_regions;) {
		const struct known_name *k = lookup(&s->regions[i]);
		if (!k || vms_attr_claimed(a, i)) {
			i++;
			continue;
		}
		size_t j = i + 1;
		while (j < s->n_regions && s->regions[j].start == s->regions[j - 1].end &&
		       !vms_attr_claimed(a, j) &&
		       !strcmp(s->regions[j].path ? s->regions[j].path : "", s->regions[i].path))
			j++;
		struct vms_claim c = {
		    .type = k->type,
		    .details = vms_attr_fmt(a, "%s (named %s by the runtime)", k->what, s->regions[i].path),
		    .signal = "name",
		};
		if (vms_attr_claim(a, i, j - i, &c) >= 0)
			named++;
		i = j;
	}
	return named ? vms_attr_fmt(a, "%u allocations named by the runtime ([anon:NAME])", named) : NULL;
}

const struct vms_recogniser vms_rec_names = {
    .key = "names",
    .what = "VMA names runtimes set with PR_SET_VMA_ANON_NAME ([anon: glibc: ...], [anon: Go: ...], "
            "[anon:mimalloc], [anon:tcmalloc_region_*], [anon:partition_alloc], ...): authoritative.",
    .run = run,
};
