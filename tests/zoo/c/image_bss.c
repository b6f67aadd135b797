/* Zoo program: anonymous memory the kernel merges with a library's .bss (tests/zoo/README.md).
 *
 * Usage: image_bss LIB:AFTER_BYTES...
 * For each library: make room so that the library lands right below a reservation of ours
 * (reserve 64 MiB PROT_NONE and give back its lower half; ld.so maps a library at the top of
 * the highest hole that fits, top-down), dlopen it, and when it landed elsewhere (a smaller
 * hole higher up), dlclose it, fill that hole with PROT_NONE and try again. Then give back the
 * rest of the reservation and map AFTER_BYTES of anonymous rw-p memory at the library's end
 * (MAP_FIXED_NOREPLACE), touched. Prints ONE JSON line:
 *   {"pid":..., "page":..., "libs":[{"path", "base", "data_end", "bss_end", "bss_bytes",
 *    "after", "after_bytes", "placed"}]}
 * where data_end is the page-rounded end of the last PT_LOAD's file part, bss_end of its
 * memory (what ld.so maps anonymous: [data_end, bss_end)), bss_bytes = p_memsz - p_filesz, and
 * placed is 1 when the memory could be mapped right at bss_end. Exits on EOF or SIGTERM. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

struct lib {
	const char *path;
	uintptr_t base, data_end, bss_end, bss_bytes, after;
	size_t after_bytes;
	int placed;
};

static int find(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	struct lib *l = arg;
	if (!info->dlpi_name || strcmp(info->dlpi_name, l->path) != 0)
		return 0;
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE), top = 0;
	for (int k = 0; k < info->dlpi_phnum; k++) {
		const ElfW(Phdr) *p = &info->dlpi_phdr[k];
		if (p->p_type == PT_LOAD && p->p_vaddr + p->p_memsz > top) {
			top = p->p_vaddr + p->p_memsz;
			l->data_end = (info->dlpi_addr + p->p_vaddr + p->p_filesz + page - 1) & ~(page - 1);
			l->bss_end = (info->dlpi_addr + top + page - 1) & ~(page - 1);
			l->bss_bytes = p->p_memsz - p->p_filesz;
		}
	}
	l->base = info->dlpi_addr;
	return 1;
}

/* From /proc/self/maps: *below = the highest end <= lo, *above = the lowest start >= hi of
 * another mapping (0 and UINTPTR_MAX when none). */
static void neighbours(uintptr_t lo, uintptr_t hi, uintptr_t *below, uintptr_t *above)
{
	*below = 0, *above = UINTPTR_MAX;
	FILE *f = fopen("/proc/self/maps", "r");
	char line[4096];
	while (f && fgets(line, sizeof line, f)) {
		unsigned long s, e;
		if (sscanf(line, "%lx-%lx", &s, &e) != 2)
			continue;
		if (e <= lo && e > *below)
			*below = e;
		if (s >= hi && s < *above)
			*above = s;
	}
	if (f)
		fclose(f);
}

/* dlopen l->path so that the library ends right below keep; fills l. Returns the handle or NULL. */
static void *open_below(struct lib *l, uintptr_t keep)
{
	for (int attempt = 0; attempt < 64; attempt++) {
		void *h = dlopen(l->path, RTLD_NOW | RTLD_LOCAL);
		if (!h) {
			fprintf(stderr, "%s\n", dlerror());
			return NULL;
		}
		dl_iterate_phdr(find, l);
		uintptr_t below, above;
		neighbours(l->base, l->bss_end, &below, &above);
		if (above == keep)
			return h;
		dlclose(h);
		if (above == UINTPTR_MAX ||
		    mmap((void *)below, above - below, PROT_NONE,
		         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1,
		         0) != (void *)below)
			return NULL;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), n = (size_t)argc - 1;
	struct lib *libs = calloc(n ? n : 1, sizeof *libs);
	if (!libs)
		return 1;
	for (size_t i = 0; i < n; i++) {
		struct lib *l = &libs[i];
		char *colon = strrchr(argv[i + 1], ':');
		if (!colon)
			return 2;
		*colon = 0;
		l->path = argv[i + 1];
		l->after_bytes = strtoul(colon + 1, NULL, 0);
		size_t res = 64u << 20;
		char *r = mmap(NULL, res, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (r == MAP_FAILED)
			return 3;
		munmap(r, res / 2);
		void *h = open_below(l, (uintptr_t)r + res / 2);
		munmap(r + res / 2, res / 2);
		if (!h)
			continue; /* not placed */
		char *(*touch)(void) = (char *(*)(void))dlsym(h, "image_bss_touch");
		if (touch)
			touch();
		char *m = mmap((void *)l->bss_end, l->after_bytes, PROT_READ | PROT_WRITE,
		               MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		if (m != MAP_FAILED && (uintptr_t)m == l->bss_end) {
			l->placed = 1;
			l->after = (uintptr_t)m;
			for (size_t k = 0; k < l->after_bytes; k += page)
				m[k] = 1;
		} else if (m != MAP_FAILED) {
			munmap(m, l->after_bytes); /* an old kernel took it as a hint elsewhere */
		}
	}
	printf("{\"pid\":%d,\"page\":%zu,\"libs\":[", (int)getpid(), page);
	for (size_t i = 0; i < n; i++) {
		const struct lib *l = &libs[i];
		printf("%s{\"path\":\"%s\",\"base\":%lu,\"data_end\":%lu,\"bss_end\":%lu,\"bss_bytes\":%lu,"
		       "\"after\":%lu,\"after_bytes\":%zu,\"placed\":%d}",
		       i ? "," : "", l->path, (unsigned long)l->base, (unsigned long)l->data_end,
		       (unsigned long)l->bss_end, (unsigned long)l->bss_bytes, (unsigned long)l->after,
		       l->after_bytes, l->placed);
	}
	printf("]}\n");
	fflush(stdout);
	char buf[64];
	while (fgets(buf, sizeof buf, stdin))
		;
	return 0;
}
