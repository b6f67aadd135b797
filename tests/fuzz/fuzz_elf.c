/* libFuzzer harness for the ELF readers: an image's file is untrusted (any local user can map a
 * file of their making, and the daemon may run as root). Input: the bytes of one ELF file (any
 * bytes). What runs on it:
 *   1. the classifier's PT_LOAD probe (vms_elf_phdrs_at + vms_elf_loads, as scan.c's
 *      probe_elf_load) through vms_classify of a map that maps the file r--p/r-xp/rw-p with an
 *      anonymous rw-p region right after it (the .bss merge rule);
 *   2. vms_image_sections (sections as parts, details: build-id, prelinked/relocated) on that
 *      snapshot, reading the file from disk (a temporary file, same inode); and the scan's way
 *      (server/core/imageinfo_internal.h) on a second classification of the same map: each
 *      image done as it is classified, then done again as if the attribution stage had copied
 *      every allocation (same_as -1);
 *   3. vms_image_lookup at one address in each region of the image (section, symbol from .symtab/.dynsym,
 *      the debug-file path from the build-id) and vms_image_symbol_text;
 *   4. vms_image_mem_sections on the bytes as a vdso image.
 * Aborts when: a part lies outside its allocation or parts are unsorted/overlapping, an
 * image done again has other details or another number of parts than when it was classified
 * (its notes added twice, say), the
 * snapshot's structural invariants break (fuzz_invariants.h), a memory image's sections are not
 * sorted, disjoint and inside [lo, hi), or more than 64 come back, a lookup's strings are not
 * terminated. ASan/UBSan catch the rest. Build and run: tests/fuzz/README.md. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../server/core/elf.h"
#include "../../server/core/imageinfo_internal.h"
#include "../../server/core/scanfiles.h"
#include "fuzz_invariants.h"
#include "vmscope/imageinfo.h"
#include "vmscope/parse.h"

#define FUZZ_ELF_MAX (256u << 10)
#define BASE 0x7f0000000000ull

struct fuzz_elf {
	int fd;         /* the temporary file that holds the input */
	char path[64];  /* its absolute path */
	uint64_t inode; /* its inode */
	const unsigned char *data;
	size_t len;
};

/* One temporary file per process, rewritten for each input (harness state, not a library's). */
static struct fuzz_elf fe = {.fd = -1};

static int fe_open(void)
{
	if (fe.fd >= 0)
		return 0;
	snprintf(fe.path, sizeof fe.path, "/tmp/vmscope-fuzz-elf-%d", (int)getpid());
	fe.fd = open(fe.path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	struct stat st;
	if (fe.fd < 0 || fstat(fe.fd, &st) != 0)
		return -1;
	fe.inode = (uint64_t)st.st_ino;
	return 0;
}

/* vms_classify_ctx.elf_load from the input bytes, as scan.c's probe_elf_load does from a file. */
static int probe(void *cookie, const char *path, struct vms_elf_load *out)
{
	const struct fuzz_elf *f = cookie;
	uint64_t phoff;
	size_t size;
	(void)path;
	size_t got = f->len < VMS_ELF_EHDR_READ ? f->len : VMS_ELF_EHDR_READ;
	if (!vms_elf_phdrs_at(f->data, got, &phoff, &size))
		return 0;
	if (phoff > f->len || size > f->len - phoff)
		return -1;
	return vms_elf_loads(f->data, got, f->data + phoff, size, out);
}

struct mem_check {
	uint64_t lo, hi, prev_end;
	int n;
};

static int mem_part(void *cookie, uint64_t start, uint64_t end, const char *name)
{
	struct mem_check *m = cookie;
	FUZZ_CHECK(name && strlen(name) < 1u << 20);
	FUZZ_CHECK(start < end && start >= m->lo && end <= m->hi && start >= m->prev_end);
	m->prev_end = end;
	m->n++;
	FUZZ_CHECK(m->n <= 64);
	return 0;
}

static void check_parts(const struct vms_snapshot *s)
{
	for (size_t k = 0; k < s->n_parts; k++) {
		const struct vms_part *p = &s->parts[k];
		FUZZ_CHECK(p->allocation < s->n_allocations && p->details);
		const struct vms_allocation *a = &s->allocations[p->allocation];
		FUZZ_CHECK(p->start < p->end && p->start >= a->start && p->end <= a->end);
		if (k && s->parts[k - 1].allocation == p->allocation)
			FUZZ_CHECK(p->start >= s->parts[k - 1].end);
	}
}

static size_t parts_of(const struct vms_snapshot *s, size_t a)
{
	size_t n = 0;
	for (size_t k = 0; k < s->n_parts; k++)
		n += s->parts[k].allocation == a;
	return n;
}

#define PASS_MAX_ALLOCS 16

/* Step 2, the scan's way, on the map text: details and parts of each allocation as found when
 * classified, and again when done over from scratch, must be the same. */
static void scan_way(const char *text, size_t n)
{
	struct vms_snapshot *s = vms_snapshot_new();
	struct vms_classify_ctx ctx = {.main_tid = 1, .elf_load = probe, .cookie = &fe};
	int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct vms_scan_files *files = rootfd >= 0 ? vms_scan_files_new(rootfd, NULL) : NULL;
	struct vms_image_pass *ip = files ? vms_image_pass_new(files, fe.path) : NULL;
	if (!s || !ip || vms_smaps_parse(s, text, n) != VMS_OK)
		goto out;
	s->page_size = 4096;
	s->arch.bits = 64;
	s->arch.machine = "x86_64";
	if (vms_classify(s, &ctx) != VMS_OK || s->n_allocations > PASS_MAX_ALLOCS)
		goto out;
	for (size_t a = 0; a < s->n_allocations; a++)
		(void)vms_image_pass_allocation(ip, s, a); /* -1 only on ENOMEM: done by the finish */
	if (vms_image_pass_finish(ip, s, NULL, NULL) != VMS_OK)
		goto out;
	check_parts(s);
	const char *details[PASS_MAX_ALLOCS];
	size_t parts[PASS_MAX_ALLOCS];
	long same_as[PASS_MAX_ALLOCS];
	for (size_t a = 0; a < s->n_allocations; a++) {
		details[a] = s->allocations[a].details;
		parts[a] = parts_of(s, a);
		same_as[a] = -1;
	}
	s->parts = NULL;
	s->n_parts = 0;
	if (vms_image_pass_finish(ip, s, same_as, NULL) != VMS_OK)
		goto out;
	check_parts(s);
	for (size_t a = 0; a < s->n_allocations; a++) {
		const char *now = s->allocations[a].details;
		FUZZ_CHECK((!now && !details[a]) || (now && details[a] && !strcmp(now, details[a])));
		FUZZ_CHECK(parts_of(s, a) == parts[a]);
	}
out:
	vms_image_pass_free(ip);
	vms_scan_files_free(files);
	if (rootfd >= 0)
		close(rootfd);
	vms_snapshot_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > FUZZ_ELF_MAX || fe_open() != 0)
		return 0;
	fe.data = data;
	fe.len = size;
	if (ftruncate(fe.fd, 0) != 0 || (size && pwrite(fe.fd, data, size, 0) != (ssize_t)size))
		return 0;

	/* 4. as an image in memory (a vdso) */
	struct mem_check m = {.lo = BASE, .hi = BASE + 0x4000, .prev_end = BASE};
	vms_image_mem_sections(data, size, m.lo, m.hi, mem_part, &m);

	/* 1. the classifier: the file mapped as a loader maps an image, anonymous memory after it */
	char text[1024];
	int n = snprintf(text, sizeof text,
	                 "%llx-%llx r--p 00000000 08:01 %llu %s\n%llx-%llx r-xp 00001000 08:01 %llu %s\n"
	                 "%llx-%llx rw-p 00002000 08:01 %llu %s\n%llx-%llx rw-p 00000000 00:00 0 \n",
	                 BASE, BASE + 0x1000, (unsigned long long)fe.inode, fe.path, BASE + 0x1000,
	                 BASE + 0x2000, (unsigned long long)fe.inode, fe.path, BASE + 0x2000, BASE + 0x3000,
	                 (unsigned long long)fe.inode, fe.path, BASE + 0x3000, BASE + 0x9000);
	struct vms_snapshot *s = vms_snapshot_new();
	struct vms_classify_ctx ctx = {.main_tid = 1, .elf_load = probe, .cookie = &fe};
	if (!s || n <= 0 || (size_t)n >= sizeof text || vms_smaps_parse(s, text, (size_t)n) != VMS_OK)
		goto out;
	s->page_size = 4096;
	s->arch.bits = 64;
	s->arch.machine = "x86_64";
	if (vms_classify(s, &ctx) != VMS_OK)
		goto out;
	fuzz_check_snapshot(s);

	/* 2. sections as parts, from the file on disk */
	int rootfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	unsigned char touched[16] = {0};
	if (rootfd >= 0 && s->n_allocations <= sizeof touched) {
		int rc = vms_image_sections(s, rootfd, fe.path, NULL, touched);
		FUZZ_CHECK(rc == VMS_OK || rc == VMS_ERR_NOMEM);
		check_parts(s);
		for (size_t a = 0; a < s->n_allocations; a++)
			FUZZ_CHECK(!s->allocations[a].details || strlen(s->allocations[a].details) < 4096);
	}
	if (rootfd >= 0)
		close(rootfd);
	scan_way(text, (size_t)n);

	/* 3. what is at each address */
	static const uint64_t ats[] = {BASE + 0x40, BASE + 0x1234, BASE + 0x2ff8, BASE + 0x5000};
	for (size_t k = 0; k < sizeof ats / sizeof ats[0]; k++) {
		uint64_t at = ats[k];
		struct vms_image_info info;
		char sym[600];
		FUZZ_CHECK(vms_image_lookup(s, at, "/", VMS_IMAGE_CHECK_INODE, NULL, &info) == VMS_OK);
		FUZZ_CHECK(memchr(info.section, 0, sizeof info.section) &&
		           memchr(info.symbol, 0, sizeof info.symbol) &&
		           memchr(info.build_id, 0, sizeof info.build_id));
		vms_image_symbol_text(&info, sym, sizeof sym);
		FUZZ_CHECK(memchr(sym, 0, sizeof sym));
	}
out:
	vms_snapshot_free(s);
	return 0;
}
