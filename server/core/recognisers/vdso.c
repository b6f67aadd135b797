/* Recogniser "vdso": the kernel's [vdso] is an ELF shared object that lives only in memory, so
 * its sections (.hash, .dynsym, .text, .altinstructions ...) come from its bytes: the target's
 * own, read with vms_attr_peek (ptrace-attach rights, resident pages: the vdso always is), or,
 * when reads are off or denied and the scan is of a live process (never for saved text),
 * vmscope's own vdso (getauxval(AT_SYSINFO_EHDR)), which is the same image when the target runs
 * the same ABI on this kernel: same word size and machine, and a [vdso] of the same size. The
 * details say which.
 * Source: Linux arch/x86/entry/vdso/vdso2c.h (the image is mapped whole, section headers
 * included; it is linked at 0). */
#include <stdlib.h>
#include <string.h>

#include "../attribute.h"
#include "vmscope/imageinfo.h"

#define VDSO_MAX (64u << 10) /* x86_64: 8 KiB; arm64 up to a few pages */

struct sink {
	struct vms_attr *a;
	long claim;
};

static int count_part(void *cookie, uint64_t start, uint64_t end, const char *name)
{
	(void)start, (void)end, (void)name;
	++*(int *)cookie;
	return 0;
}

static int add_part(void *cookie, uint64_t start, uint64_t end, const char *name)
{
	struct sink *k = cookie;
	const char *d = vms_attr_fmt(k->a, "%s", name);
	return d && vms_attr_part(k->a, k->claim, start, end, d) == 0 ? 0 : -1;
}

static const char *run(struct vms_attr *a)
{
	const struct vms_snapshot *s = vms_attr_snapshot(a);
	size_t i = 0;
	while (i < s->n_regions && !(s->regions[i].path && !strcmp(s->regions[i].path, "[vdso]")))
		i++;
	if (i == s->n_regions || vms_attr_claimed(a, i))
		return NULL;
	const struct vms_region *r = &s->regions[i];
	size_t len = (size_t)(r->end - r->start);
	if (len == 0 || len > VDSO_MAX || len % 4096)
		return NULL;
	unsigned char *buf = malloc(len);
	const unsigned char *img = NULL;
	const char *from = NULL;
	if (!buf)
		return NULL;
	size_t got = 0;
	while (got < len && vms_attr_peek(a, r->start + got, buf + got, 4096) == 0)
		got += 4096;
	if (got == len) {
		img = buf;
		from = "sections read from its memory";
	} else if (vms_attr_live(a) && (img = vms_image_own_vdso(s, len)) != NULL) {
		from = "sections from vmscope's own vdso: same kernel and ABI";
	}
	const char *note = NULL;
	int n = 0;
	if (img && vms_image_mem_sections(img, len, r->start, r->end, count_part, &n) <= 0)
		img = NULL; /* no section headers: the classifier's Image stays as it is */
	struct vms_claim c = {.type = VMS_TYPE_IMAGE,
	                      .details =
	                          from ? vms_attr_fmt(a, "[vdso] (kernel-provided shared object, %s)", from)
	                               : "[vdso] (kernel-provided shared object)",
	                      .signal = "vdso"};
	struct sink k = {.a = a, .claim = img && c.details ? vms_attr_claim(a, i, 1, &c) : -1};
	if (k.claim >= 0) {
		if (vms_image_mem_sections(img, len, r->start, r->end, add_part, &k) > 0)
			note = vms_attr_fmt(a, "[vdso]: %d sections (%s)", n, from);
	}
	free(buf);
	return note;
}

const struct vms_recogniser vms_rec_vdso = {
    .key = "vdso",
    .what = "The kernel's [vdso] ELF image: its sections from its bytes (read from the process with "
            "ptrace rights, else vmscope's own vdso when the kernel and ABI are the same; the details say "
            "which).",
    .run = run,
};
