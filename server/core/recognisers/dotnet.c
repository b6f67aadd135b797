/* Recogniser "dotnet": .NET CoreCLR (7+, regions GC) by its documented layout. Reference: shared
 * runtime-heaps.md section 12; dotnet/runtime src/coreclr/gc/gc.cpp (GCHeap::Initialize,
 * regions_range), src/coreclr/gc/region_allocator.cpp, src/coreclr/minipal/Unix/doublemapping.cpp.
 * There is no .NET on the machines this was written on: it is tested on fixture text only.
 * - Presence: libcoreclr.so mapped (the version is in its path, .../Microsoft.NETCore.App/8.0.x/).
 * - GC regions range: the GC reserves one contiguous PROT_NONE range at startup (workstation
 *   min(256 GiB, 2 x RAM), server max(256 GiB, 2 x RAM), 5 x a hard limit) and commits it region
 *   by region: basic regions (4 MiB; 2 or 1 MiB for small ranges) from the low end, large-object
 *   regions (8 x basic = 32 MiB) from the high end. Recognised as the largest anonymous
 *   reservation (>= 256 MiB, starting PROT_NONE or with a committed region) whose committed
 *   islands all start on a region boundary counted from its start (basic) or from its end
 *   (large). One Managed Heap allocation; a part per region with committed memory.
 * - W^X double mapping: executable memory lives in a memfd named "doublemapper", mapped as
 *   PROT_NONE reservations with r-x views, and writers get rw- views of the same file offsets.
 *   Each run of adjacent views is one Private Data allocation (JIT code, like other runtimes'
 *   code caches) saying which view it is and, for a writable alias, which executable view it
 *   aliases; both views count the same pages, and no other process maps them. */
#include <stdint.h>
#include <string.h>

#include "../attribute.h"
#include "../region.h"

#define MIB (1ull << 20)
#define GIB (1ull << 30)
#define RANGE_MIN (256 * MIB)
#define LARGE_FACTOR 8

static int doublemapper(const struct vms_region *r)
{
	return r->path && !strcmp(r->path, "/memfd:doublemapper");
}

/* The region size (4, 2 or 1 MiB) that every committed island of [i, i + n) starts on, counted
 * from the range start (basic regions) or its end (large regions), or 0. */
static uint64_t region_size(const struct vms_region *R, size_t i, size_t n)
{
	uint64_t start = R[i].start, end = R[i + n - 1].end;
	for (uint64_t rs = 4 * MIB; rs >= MIB; rs /= 2) {
		if (start % rs)
			continue;
		size_t islands = 0, ok = 1;
		for (size_t k = i; k < i + n && ok; k++) {
			if (vms_region_no_access(&R[k]))
				continue;
			if (k > i && !vms_region_no_access(&R[k - 1]))
				continue; /* same island, a VMA split by flags */
			islands++;
			uint64_t off = R[k].start - start;
			ok = off % rs == 0 || (end - R[k].start) % (rs * LARGE_FACTOR) == 0;
		}
		if (ok && islands)
			return rs;
	}
	return 0;
}

static const char *version_of(struct vms_attr *a, const char *path)
{
	const char *p = strstr(path, "Microsoft.NETCore.App/");
	if (!p)
		return ".NET";
	p += strlen("Microsoft.NETCore.App/");
	const char *e = strchr(p, '/');
	return e ? vms_attr_fmt(a, ".NET %.*s", (int)(e - p), p) : ".NET";
}

static int claim_range(struct vms_attr *a, size_t i, size_t n, uint64_t rs, const char *net)
{
	const struct vms_region *R = vms_attr_snapshot(a)->regions;
	uint64_t start = R[i].start, end = R[i + n - 1].end, large = rs * LARGE_FACTOR;
	uint64_t committed = 0;
	size_t basic_n = 0, large_n = 0;
	for (size_t k = i; k < i + n; k++)
		if (!vms_region_no_access(&R[k]))
			committed += R[k].end - R[k].start;
	struct vms_claim c = {.type = VMS_TYPE_MANAGED_HEAP,
	                      .signal = "geometry: libcoreclr.so + region-aligned reservation"};
	/* pass 0 counts the regions with committed memory (for the details), pass 1 claims and adds
	 * a part per region: basic regions counted from the start, large ones from the end */
	for (int pass = 0; pass < 2; pass++) {
		long id = -1;
		if (pass == 1) {
			c.details = vms_attr_fmt(a,
			                         "%s GC heap (regions: SOH/LOH), %llu GiB reserved, %llu MiB "
			                         "committed in %zu basic "
			                         "(%llu MiB) and %zu large (%llu MiB) regions",
			                         net, (unsigned long long)((end - start) / GIB),
			                         (unsigned long long)(committed / MIB), basic_n,
			                         (unsigned long long)(rs / MIB), large_n,
			                         (unsigned long long)(large / MIB));
			id = vms_attr_claim(a, i, n, &c);
			if (id < 0)
				return 0;
			for (size_t k = i; k < i + n; k++)
				vms_attr_role(a, k, vms_region_no_access(&R[k]) ? "reserved" : "committed");
		}
		basic_n = large_n = 0;
		uint64_t last_part_end = start;
		for (size_t k = i; k < i + n; k++) {
			if (vms_region_no_access(&R[k]))
				continue;
			for (uint64_t x = R[k].start; x < R[k].end;) {
				uint64_t from_end = end - x;
				int is_large = (x - start) % rs != 0 ||
				               (from_end % large == 0 && from_end <= (end - start) / 2);
				uint64_t ps, pe;
				if (is_large) {
					uint64_t up = (from_end + large - 1) / large *
					              large; /* region containing x, from the end */
					ps = end - up;
					pe = ps + large;
				} else {
					ps = start + (x - start) / rs * rs;
					pe = ps + rs;
				}
				if (ps < last_part_end)
					ps = last_part_end;
				if (pe > end)
					pe = end;
				if (ps < pe) {
					if (is_large)
						large_n++;
					else
						basic_n++;
					if (id >= 0)
						vms_attr_part(a, id, ps, pe,
						              is_large ? "GC region (large objects)"
						                       : "GC region (basic)");
					last_part_end = pe;
				}
				x = pe > x ? pe : x + 1;
			}
		}
	}
	return 1;
}

static void claim_views(struct vms_attr *a, unsigned *views)
{
	const struct vms_snapshot *s = vms_attr_snapshot(a);
	const struct vms_region *R = s->regions;
	for (size_t i = 0; i < s->n_regions; i++) {
		if (!doublemapper(&R[i]) || vms_attr_claimed(a, i))
			continue;
		int writable = R[i].perms[1] == 'w';
		size_t j = i + 1;
		while (j < s->n_regions && doublemapper(&R[j]) && R[j].start == R[j - 1].end &&
		       !vms_attr_claimed(a, j) &&
		       R[j].offset == R[j - 1].offset + (R[j - 1].end - R[j - 1].start) &&
		       (R[j].perms[1] == 'w') == writable)
			j++;
		uint64_t off = R[i].offset, len = R[j - 1].end - R[i].start;
		const char *d;
		if (writable) {
			/* the executable view of the same file offset */
			uint64_t rx = 0;
			for (size_t k = 0; k < s->n_regions && !rx; k++)
				if (doublemapper(&R[k]) && R[k].perms[2] == 'x' && R[k].offset <= off &&
				    off < R[k].offset + (R[k].end - R[k].start))
					rx = R[k].start + (off - R[k].offset);
			d = rx ? vms_attr_fmt(a,
			                      ".NET JIT code, writable alias of the executable view at "
			                      "0x%llx (memfd:doublemapper "
			                      "offset 0x%llx; same pages mapped twice, not shared with other "
			                      "processes)",
			                      (unsigned long long)rx, (unsigned long long)off)
			       : vms_attr_fmt(
			             a, ".NET JIT code, writable view (memfd:doublemapper offset 0x%llx)",
			             (unsigned long long)off);
		} else {
			d = vms_attr_fmt(a,
			                 ".NET executable memory (memfd:doublemapper offset 0x%llx, %llu "
			                 "KiB: executable views and "
			                 "reserved space; W^X double mapping)",
			                 (unsigned long long)off, (unsigned long long)(len / 1024));
		}
		struct vms_claim c = {
		    .type = VMS_TYPE_PRIVATE_DATA, .details = d, .signal = "name: /memfd:doublemapper"};
		if (vms_attr_claim(a, i, j - i, &c) >= 0) {
			for (size_t k = i; k < j; k++)
				vms_attr_role(a, k,
				              vms_region_no_access(&R[k]) ? "reserved"
				              : R[k].perms[2] == 'x'      ? "code (RX view)"
				                                          : "RW alias");
			(*views)++;
		}
		i = j - 1;
	}
}

static const char *run(struct vms_attr *a)
{
	const struct vms_snapshot *s = vms_attr_snapshot(a);
	long img = vms_attr_find_image(a, "libcoreclr.so");
	if (img < 0)
		return NULL;
	const char *net = version_of(a, s->regions[img].path);
	const struct vms_region *R = s->regions;
	unsigned views = 0;
	claim_views(a, &views);
	/* the largest anonymous reservation whose islands sit on region boundaries */
	size_t best = 0, best_n = 0;
	uint64_t best_size = 0, best_rs = 0;
	for (size_t i = 0; i < s->n_regions;) {
		if (!vms_region_anon_private(&R[i]) || vms_attr_claimed(a, i)) {
			i++;
			continue;
		}
		size_t j = i + 1;
		while (j < s->n_regions && R[j].start == R[j - 1].end && vms_region_anon_private(&R[j]) &&
		       !vms_attr_claimed(a, j))
			j++;
		uint64_t size = R[j - 1].end - R[i].start;
		uint64_t reserved = 0;
		for (size_t k = i; k < j; k++)
			if (vms_region_no_access(&R[k]))
				reserved += R[k].end - R[k].start;
		uint64_t rs;
		if (size >= RANGE_MIN && reserved * 2 >= size && size > best_size &&
		    (rs = region_size(R, i, j - i)) != 0)
			best = i, best_n = j - i, best_size = size, best_rs = rs;
		i = j;
	}
	int heap = best_n && claim_range(a, best, best_n, best_rs, net);
	return vms_attr_fmt(a, "%s (libcoreclr.so): %s, %u doublemapper view allocation%s", net,
	                    heap ? "GC regions range found" : "no GC regions range found", views,
	                    views == 1 ? "" : "s");
}

const struct vms_recogniser vms_rec_dotnet = {
    .key = "dotnet",
    .what = ".NET CoreCLR (libcoreclr.so mapped): the GC's regions range (the largest reservation whose "
            "committed "
            "islands start on 4/2/1 MiB basic-region boundaries from its start or 32 MiB large-region "
            "boundaries from "
            "its end) as Managed Heap with a part per region; /memfd:doublemapper views as JIT code (RX view "
            "/ RW "
            "alias). From the documented layout; tested on fixture text only.",
    .run = run,
};
