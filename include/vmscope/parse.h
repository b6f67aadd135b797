/* Parsers for /proc text, separated from I/O so tests feed them saved text.
 * Every parser skips and counts (in vms_snapshot.malformed_lines) lines it cannot parse; none
 * fails on malformed input. */
#ifndef VMSCOPE_PARSE_H
#define VMSCOPE_PARSE_H

#include <stddef.h>

#include "vmscope/snapshot.h"

/* Streaming smaps/maps parser appending regions to a snapshot.
 * feed() consumes only complete lines (up to the last '\n') unless at_eof, and returns the
 * number of bytes consumed; the caller keeps the rest and feeds it again with more data.
 * finish() hands the regions to the snapshot (s->regions/n_regions) and frees the parser;
 * returns VMS_OK or VMS_ERR_NOMEM. abort() frees the parser and whatever it parsed. */
struct vms_smaps_parser;
struct vms_smaps_parser *vms_smaps_parser_new(struct vms_snapshot *s); /* NULL on ENOMEM */
size_t vms_smaps_parser_feed(struct vms_smaps_parser *p, const char *buf, size_t len, int at_eof);
int vms_smaps_parser_finish(struct vms_smaps_parser *p);
void vms_smaps_parser_abort(struct vms_smaps_parser *p);

/* Whole-buffer convenience: parse and finish. */
int vms_smaps_parse(struct vms_snapshot *s, const char *buf, size_t len);
/* The most bytes the regions of one snapshot may map together: more than any kernel maps, and
 * under it no column summed over the regions can wrap. The smaps parser counts a region header
 * that would pass it as a malformed line; an import that passes it is refused. */
#define VMS_MAX_MAPPED (1ull << 60)

/* Whether one region's smaps counters v (VMS_SF_COUNT of them, bytes) are what a kernel can
 * report (fs/proc/task_mmu.c): the byte counts the columns are computed from lie within Size;
 * Shared/Private Clean/Dirty split Rss; Pss and Anonymous lie within Rss, SwapPss within Swap;
 * page sizes are at most 16 GiB. Returns 1, or 0 with *field the first counter that breaks a
 * rule and why[] a sentence saying how. Counters no column uses are not checked. With every
 * region plausible no column summed over a snapshot can wrap. */
int vms_smaps_plausible(const uint64_t *v, int *field, char *why, size_t why_len);

/* One line of /proc/PID/maps, which is also the header of each region in smaps:
 * "start-end perms offset major:minor inode   path". Parsed in place: path points into the line
 * (NULL and 0 when there is none), without a trailing " (deleted)", which sets deleted instead,
 * and still escaped as the kernel wrote it (a newline in a name is "\012"). */
struct vms_maps_line {
	uint64_t start, end, offset, inode;
	unsigned dev_major, dev_minor;
	char perms[4]; /* "rw-p", not NUL-terminated */
	int deleted;
	const char *path;
	size_t path_len;
};

/* Parse the line [p, end), without its newline. 0, or -1 when it is not such a line (the same
 * rules as the smaps parser's: perms from "rwxsp-", start < end, device numbers in range). */
int vms_maps_line_parse(const char *p, const char *end, struct vms_maps_line *out);

/* smaps_rollup text into s->rollup (bytes); sets s->has_rollup. */
void vms_rollup_parse(struct vms_snapshot *s, const char *buf, size_t len);

/* /proc/PID/status text into *st (bytes; threads as a count). Also reports Kthread (1/0) and the
 * State letter when the pointers are non-NULL. */
void vms_status_parse(const char *buf, size_t len, struct vms_status *st, int *kthread, char *state);

/* What an ELF file's program headers say about where its PT_LOAD segments go (file offsets and
 * link-time addresses; the load bias is the classifier's business, from where the file is mapped). */
struct vms_elf_load {
	uint64_t first_vaddr, first_offset;    /* the lowest PT_LOAD (by p_vaddr) */
	uint64_t vaddr, offset, filesz, memsz; /* the PT_LOAD that ends highest (p_vaddr + p_memsz):
	                                        * its zero-fill tail (memsz - filesz) is the .bss */
};

/* Everything the classifier needs besides the regions. */
struct vms_classify_ctx {
	unsigned shmem_major, shmem_minor; /* device of the kernel's internal shmem mount (memfd) */
	const unsigned *tmpfs_devs;        /* (major << 20 | minor) of tmpfs mounts, for /dev/shm */
	size_t n_tmpfs_devs;
	uint64_t heap_max; /* glibc HEAP_MAX_SIZE: 64 MiB (64-bit), 1 MiB (32-bit); unused
	                    * since the glibc recogniser names arena heaps (kept for callers) */
	pid_t main_tid;    /* owner of [stack] */
	/* Optional: is the file at path (in the target's mount namespace) an ELF file? 1/0/-1 unknown.
	 * Asked only for file-backed runs that have no executable segment. */
	int (*is_elf)(void *cookie, const char *path);
	/* Optional: the PT_LOAD layout of the ELF file at path (in the target's mount namespace).
	 * Returns 1 (filled), 0 (not an ELF file with PT_LOAD segments) or -1 (unknown: unreadable).
	 * Asked at most once per image: for an image whose first mapping is at file offset 0, to
	 * group into one allocation its segments and the anonymous/PROT_NONE regions between them
	 * that lie inside its PT_LOAD span (the loader's gaps), and for one with an anonymous rw-p
	 * region right after its last data segment, to take into the image only the part of that
	 * region its .bss covers (docs/memory-types.md, Image). Without it each contiguous same-file
	 * run is an image and that region is its .bss as it stands. */
	int (*elf_load)(void *cookie, const char *path, struct vms_elf_load *out);
	void *cookie; /* for is_elf and elf_load */
	/* Optional: called once for each allocation as soon as it is classified (in address order),
	 * with the allocation's columns filled. */
	void (*on_allocation)(void *cookie, const struct vms_snapshot *s, size_t index);
	void *alloc_cookie;
};

/* Classify s->regions into allocations and types, attribute thread stacks from s->threads
 * (their sp), fill s->allocations, then vms_snapshot_summarize(). Returns VMS_OK or
 * VMS_ERR_NOMEM. */
int vms_classify(struct vms_snapshot *s, const struct vms_classify_ctx *ctx);

/* Incremental classification, for a scan that classifies while smaps is still being read.
 * feed() classifies what is safe among s->regions[0..n_regions): a region is classified only
 * once the regions it may group with (and the one after them, whose smaps fields may still be
 * arriving) are present (an image looks ahead through its PT_LOAD span, at most 64 regions
 * past its contiguous run: classify.c, ready()); with final set it classifies everything. Each allocation it
 * emits is complete (regions, types, roles, columns) and stays valid; s->allocations/n_allocations are kept
 * current (the array may move between calls). finish() summarizes, frees the classifier and returns VMS_OK /
 * VMS_ERR_NOMEM / VMS_ERR_INVALID; abort() frees it after a failure. s->regions may move between feed() calls
 * (the parser grows it). */
struct vms_classifier;
struct vms_classifier *vms_classifier_new(struct vms_snapshot *s, const struct vms_classify_ctx *ctx);
int vms_classifier_feed(struct vms_classifier *c, int final);
int vms_classifier_finish(struct vms_classifier *c);
void vms_classifier_abort(struct vms_classifier *c);

/* Point s->regions/n_regions at what the parser has so far (still owned by the parser until
 * vms_smaps_parser_finish()). */
void vms_smaps_parser_expose(struct vms_smaps_parser *p);

#endif
