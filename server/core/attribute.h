/* Private to the core: the attribution stage and the services it offers recognisers.
 *
 * After the classifier has grouped the regions (VMAs) into allocations by the kernel's own
 * signals (paths, permissions, guard pages, glibc heap geometry), the attribution stage runs
 * every recogniser of server/core/recognisers/ in the order of their table. A recogniser
 * looks at the regions (and, when allowed, reads a few bytes of the target's memory) and
 * *claims* runs of regions that belong to one object of its runtime or allocator: a Java heap
 * reservation, a Go arena, a V8 page, a glibc arena heap. Each claim becomes one allocation
 * with the claim's type, details and signal; unclaimed regions keep the classifier's grouping.
 *
 * Contract for recognisers:
 * - Cheapest signals first: names and mapped images (vms_attr_find_image), then geometry and
 *   VmFlags, then files the runtime publishes, then memory reads (vms_attr_peek) last.
 * - A claim covers address-contiguous regions [first, first + n) none of which is claimed yet
 *   (earlier recognisers in the table win). Claims never change smaps numbers: columns are
 *   recomputed from the regions afterwards.
 * - Details say what the thing is and which signal said so; a guess says "(guess)" and sets
 *   guess = 1.
 * - Never print, never exit, never write to the target. Strings passed to the services must
 *   live as long as the snapshot (literals, or vms_attr_fmt()).
 *
 * Adding a recogniser: one file in server/core/recognisers/ defining a
 * `const struct vms_recogniser vms_rec_NAME`, plus one line in recognisers.def. */
#ifndef VMSCOPE_CORE_ATTRIBUTE_H
#define VMSCOPE_CORE_ATTRIBUTE_H

#include <stddef.h>
#include <stdint.h>

#include "vmscope/snapshot.h"

struct vms_attr;

struct vms_recogniser {
	const char *key;  /* stable, snake_case: stored in snapshots ("hotspot") */
	const char *what; /* one sentence for docs and help: what it recognises and how */
	/* Look at a->snapshot and claim what is yours. Return a short note for the snapshot
	 * ("JVM 17, G1, heap 512 MiB from hsperfdata"), or NULL when the runtime is absent. */
	const char *(*run)(struct vms_attr *a);
};

/* The table, in evaluation order (recognisers.def, built by recognisers.c). */
extern const struct vms_recogniser *const vms_recognisers[];
extern const size_t vms_n_recognisers;

/* Run every recogniser on a classified snapshot and rebuild its allocations from the claims.
 * streamed_as (may be NULL): when *changed, a malloc'd array (caller frees) giving for each
 * final allocation the index it had before attribution when it is exactly that allocation
 * (same regions, type, details, tid, region roles), else -1; NULL when nothing changed.
 * dirfd: /proc/PID (or -1 for saved text: no files, no memory reads). no_peek: never read
 * memory. files: the scan's files (scanfiles.h: each opened once per scan, shared with the
 * classifier and the image-sections pass), or NULL: vms_attr_read_file reads nothing. *changed is set to 1
 * when any allocation was regrouped or renamed (streamed output is then stale). Returns VMS_OK or
 * VMS_ERR_NOMEM. */
struct vms_scan_files;
int vms_attribute(struct vms_snapshot *s, int dirfd, pid_t pid, int no_peek, struct vms_scan_files *files,
                  int *changed, long **streamed_as);

/* Same, with an injected memory reader, for tests that feed saved text and saved bytes.
 * read(cookie, addr, buf, len) returns 0 when all len bytes were read, -1 otherwise. */
typedef int (*vms_attr_reader)(void *cookie, uint64_t addr, void *buf, size_t len);
int vms_attribute_with(struct vms_snapshot *s, vms_attr_reader read, void *cookie, int *changed);

/* Same, also answering vms_attr_read_file from read_file(cookie, path, offset, buf, max)
 * (bytes read, or -1), for tests and the fuzz harness that feed saved or hostile file bytes
 * (hsperfdata, ELF headers). read_file NULL: no files, as with vms_attribute_with. */
typedef long (*vms_attr_file_reader)(void *cookie, const char *path, uint64_t offset, void *buf, size_t max);
int vms_attribute_with_files(struct vms_snapshot *s, vms_attr_reader read, void *cookie,
                             vms_attr_file_reader read_file, void *file_cookie, int *changed);

/* ---- services for recognisers ---------------------------------------------------------- */

/* The snapshot being attributed. Regions, threads and the classifier's allocations are
 * final; do not modify them except through the functions below. */
const struct vms_snapshot *vms_attr_snapshot(const struct vms_attr *a);

/* Index of the first region whose path's file name starts with prefix ("libjvm.so",
 * "python3", "ld-musl-"), or -1. */
long vms_attr_find_image(const struct vms_attr *a, const char *prefix);

/* Has region i been claimed already? */
int vms_attr_claimed(const struct vms_attr *a, size_t i);

/* Claim regions [first, first + n) as one allocation. Returns the claim id (>= 0), or -1 when
 * a region is already claimed, the run is empty, out of range or not address-contiguous. */
struct vms_claim {
	enum vms_type type;
	const char *details; /* "Java heap (G1), 512 MiB reserved (hsperfdata)" */
	const char *signal;  /* "hsperfdata" */
	int guess;
};
long vms_attr_claim(struct vms_attr *a, size_t first, size_t n, const struct vms_claim *c);

/* Claim, each as an allocation of its own with claim c, every region i not claimed yet for
 * which wanted(region, arg) is true. Returns how many were claimed. */
unsigned vms_attr_claim_each(struct vms_attr *a, int (*wanted)(const struct vms_region *r, const void *arg),
                             const void *arg, const struct vms_claim *c);

/* Set the sub-block role of a region ("committed", "reserved", "view", "page", ...). */
void vms_attr_role(struct vms_attr *a, size_t i, const char *role);

/* Annotate [start, end) inside claim `claim` as a part (struct vms_part). Parts of one claim
 * must be added in address order and one after the other: once a part of another claim was
 * added, the claim takes no more parts. 0, or -1 on ENOMEM / bad range / out of order. */
int vms_attr_part(struct vms_attr *a, long claim, uint64_t start, uint64_t end, const char *details);

/* Say why thread t (index into s->threads) has no stack row, or where it runs. Its stack
 * allocation, if the claim took it, is dropped. */
void vms_attr_thread_note(struct vms_attr *a, size_t t, const char *note);

/* Read len bytes at addr from the target, only when allowed (ptrace-attach rights, no
 * --no-peek), only inside one readable region, only from resident pages (pagemap), never
 * more than 4096 bytes per call. 0 when all bytes were read, -1 otherwise (denied, not
 * resident, unreadable, or this recogniser's read budget is spent): the recogniser then falls
 * back to geometry.
 *
 * The target is untrusted: any local user's process may be scanned, and it can craft every
 * byte a recogniser reads (heap headers, rings of next pointers, sizes, counts). So the work
 * per scan is bounded whatever the bytes say:
 * - each recogniser may call vms_attr_peek at most VMS_ATTR_MAX_READS times per scan (calls
 *   refused before reaching the reader, e.g. outside a readable region, count too) and
 *   vms_attr_read_file at most VMS_ATTR_MAX_FILE_READS times; further calls return -1, and
 *   the recogniser's run note says "read budget spent";
 * - every walk that follows bytes of the target (chunk walks, arena and page rings, prev
 *   chains, free lists, tables whose length a header gives) or steps through a region whose
 *   size the target chose stops after at most VMS_ATTR_MAX_STEPS steps (or a limit of its own,
 *   documented where it is defined: hotspot's HS_STEPS for its geometry searches), and never
 *   allocates by a size the target wrote;
 * - vms_attr_part fails once a scan has VMS_ATTR_MAX_PARTS parts;
 * - a recogniser never recurses on target data. */
/* About 0.1 s of process_vm_readv + pagemap per recogniser at worst; a legitimate scan needs a
 * few thousand reads (musl's group walk of a huge heap may stop early: its groups stay unnamed). */
#define VMS_ATTR_MAX_READS 65536
/* Files are cached per scan; Go reads up to 4 per mapped image file. */
#define VMS_ATTR_MAX_FILE_READS 16384
#define VMS_ATTR_MAX_STEPS 65536
/* Parts per scan (vms_attr_part fails beyond): 8 MiB of parts at most. */
#define VMS_ATTR_MAX_PARTS 262144
int vms_attr_peek(struct vms_attr *a, uint64_t addr, void *buf, size_t len);

/* 1 when the snapshot is a live process on this kernel now (vms_attribute with a /proc/PID
 * directory), 0 for saved text and injected readers (tests, the fuzz harness): only then may a
 * recogniser use what vmscope itself has from the same kernel (its own vdso). */
int vms_attr_live(const struct vms_attr *a);

/* Region index containing addr, or -1. */
long vms_attr_region_at(const struct vms_attr *a, uint64_t addr);

/* Read up to max bytes of a file as the target sees it (/proc/PID/root/PATH): for files a
 * runtime publishes (hsperfdata) and mapped ELF headers. The path is resolved inside the
 * target's root and only a regular file is read (vms_attr_open_regular); each file is opened
 * once per scan and its bytes read once (scanfiles.h). Returns bytes read, or -1. */
long vms_attr_read_file(struct vms_attr *a, const char *path, uint64_t offset, void *buf, size_t max);

/* Open the absolute path, resolved inside the directory root_fd as its "/" (symlinks and ".."
 * cannot leave it: the target controls that tree, and the daemon may run as root), read-only,
 * and only when it is a regular file (device nodes and FIFOs are never opened for reading).
 * *st is the opened file's fstat (one fstat, of the O_PATH fd the read-only fd is reopened
 * from: the same file). Returns the fd (caller closes) or -1 (also before Linux 5.6,
 * which lacks openat2's RESOLVE_IN_ROOT). */
struct stat;
int vms_attr_open_regular(int root_fd, const char *path, struct stat *st);
/* Same, reopening through fd_dir, an O_PATH fd of /proc/self/fd the caller keeps for many opens
 * (-1: the path /proc/self/fd/N, looked up from "/" each time). */
int vms_attr_open_regular_via(int root_fd, int fd_dir, const char *path, struct stat *st);

/* printf into the snapshot's pool; NULL on ENOMEM. */
const char *vms_attr_fmt(struct vms_attr *a, const char *format, ...) __attribute__((format(printf, 2, 3)));

#endif
