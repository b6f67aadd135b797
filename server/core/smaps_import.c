/* vms_snapshot_from_smaps: a snapshot from a saved /proc/PID/smaps text (contract in
 * vmscope/snapshot.h). The same parser, classifier and recognisers as a scan, with what only a
 * live process can tell (threads, status, rollup, command line, files, memory) left unknown. */
#include <stdio.h>
#include <string.h>

#include "attribute.h"
#include "procfs.h"
#include "vmscope/parse.h"

/* The text checks before parsing: not empty, no NUL byte (a binary file). */
static int text_ok(const char *buf, size_t len, char *why, size_t why_len)
{
	if (!len)
		return vms_errorf(why, why_len, VMS_ERR_INVALID, "the file is empty");
	if (memchr(buf, '\0', len))
		return vms_errorf(why, why_len, VMS_ERR_INVALID,
		                  "not a smaps text file (it holds binary data: a NUL byte at offset %zu)",
		                  (size_t)((const char *)memchr(buf, '\0', len) - buf));
	return VMS_OK;
}

static size_t count_lines(const char *buf, size_t len)
{
	size_t n = 0;
	for (const char *p = buf, *end = buf + len; p < end; n++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		p = nl ? nl + 1 : end;
	}
	return n;
}

/* What the parsed regions must be to stand for a process: some regions, sorted and apart,
 * smaps fields present and plausible, not mostly unparseable lines. */
static int regions_ok(const struct vms_snapshot *s, size_t lines, char *why, size_t why_len)
{
	char rule[160];
	int field, any_size = 0;
	if (!s->n_regions)
		return vms_errorf(why, why_len, VMS_ERR_INVALID,
		                  "not a /proc/PID/smaps text: no region line (START-END PERMS OFFSET "
		                  "MAJ:MIN INODE [PATH]) in %zu line%s",
		                  lines, lines == 1 ? "" : "s");
	if ((uint64_t)s->malformed_lines * 4 > lines)
		return vms_errorf(why, why_len, VMS_ERR_INVALID,
		                  "not a /proc/PID/smaps text: %u of its %zu lines are neither region nor "
		                  "field lines",
		                  s->malformed_lines, lines);
	for (size_t i = 0; i < s->n_regions; i++) {
		const struct vms_region *r = &s->regions[i];
		if (i && r->start < s->regions[i - 1].end)
			return vms_errorf(why, why_len, VMS_ERR_INVALID,
			                  "region %zu (0x%llx) overlaps or precedes the one before it: not "
			                  "one process's smaps",
			                  i + 1, (unsigned long long)r->start);
		if (r->smaps[VMS_SF_SIZE] || r->smaps[VMS_SF_RSS])
			any_size = 1;
		if (!vms_smaps_plausible(r->smaps, &field, rule, sizeof rule))
			return vms_errorf(why, why_len, VMS_ERR_INVALID, "region %zu (0x%llx): %s", i + 1,
			                  (unsigned long long)r->start, rule);
	}
	if (!any_size)
		return vms_errorf(why, why_len, VMS_ERR_INVALID,
		                  "no Size:/Rss: lines: this looks like /proc/PID/maps, which has no "
		                  "sizes; save /proc/PID/smaps instead");
	return VMS_OK;
}

int vms_snapshot_from_smaps(const char *buf, size_t len, const char *name, struct vms_snapshot **out,
                            char *why, size_t why_len)
{
	struct vms_snapshot *s = NULL;
	int changed = 0;
	int err = text_ok(buf, len, why, why_len);
	*out = NULL;
	if (err)
		return err;
	if (!(s = vms_snapshot_new()))
		return VMS_ERR_NOMEM;
	if ((err = vms_smaps_parse(s, buf, len)) != VMS_OK ||
	    (err = regions_ok(s, count_lines(buf, len), why, why_len)) != VMS_OK)
		goto out;
	s->name = vms_snapshot_strdup(s, name && *name ? name : "smaps");
	s->cmdline = "";
	s->uid = (uid_t)-1;
	s->arch.machine = "unknown";
	vms_arch_from_regions(s);
	for (size_t i = 0; i < s->n_regions && s->arch.bits == 64; i++)
		if (s->regions[i].path && !strcmp(s->regions[i].path, "[vsyscall]"))
			s->arch.machine = "x86_64"; /* only x86-64 kernels map it */
	vms_user_top_from_regions(s);
	/* the base page size: the first region's KernelPageSize when it is one (4 KiB to 64 KiB) */
	uint64_t kps = s->regions[0].smaps[VMS_SF_KERNEL_PAGE_SIZE];
	s->page_size = kps >= 4096 && kps <= 65536 && !(kps & (kps - 1)) ? kps : 4096;
	/* vm.mmap_min_addr of that machine is unknown: Linux's default unless a region lies lower */
	s->mmap_min_addr = s->regions[0].start >= 65536 ? 65536 : s->page_size;
	s->thread_note = "imported from a bare smaps file: threads, /proc/PID/status (so the Page "
	                 "Table row) and smaps_rollup are unknown, not zero";
	if (!s->name) {
		err = VMS_ERR_NOMEM;
		goto out;
	}
	struct vms_classify_ctx ctx = {
	    /* the kernel's shmem device and the tmpfs mounts of the machine it came from are unknown:
	     * memfd and /dev/shm mappings are told by their names alone */
	    .shmem_major = ~0u,
	    .shmem_minor = ~0u,
	    .heap_max = s->arch.bits == 32 ? 1u << 20 : 64u << 20,
	};
	if ((err = vms_classify(s, &ctx)) != VMS_OK ||
	    (err = vms_attribute(s, -1, 0, 1, NULL, &changed, NULL)) != VMS_OK)
		goto out;
	s->peek_note = "imported from a bare smaps file: no memory or files were read; runtime "
	               "heaps are named from geometry alone";
out:
	if (err) {
		vms_snapshot_free(s);
		return err;
	}
	*out = s;
	return VMS_OK;
}
