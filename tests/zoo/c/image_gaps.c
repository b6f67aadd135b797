/* Zoo program: an executable whose loader leaves gaps between its segments
 * (tests/integration/test_image_gaps.py builds it with -Wl,-z,separate-code and
 * -Wl,-z,max-page-size=0x200000, so its PT_LOADs lie 2 MiB apart and the kernel maps each on its
 * own, leaving unmapped gaps), with 1 MiB of .bss, touched.
 *
 * Usage: image_gaps. Reads its own program headers (dl_iterate_phdr, the main program), maps one
 * anonymous PROT_NONE page at the start of the first gap between two PT_LOADs
 * (MAP_FIXED_NOREPLACE: "someone mapped memory into the gap"), and prints ONE JSON line:
 *   {"pid":..., "page":..., "span_start":..., "span_end":..., "segments":[[start,end],...],
 *    "data":..., "bss":..., "hole":..., "malloc":..., "main":...}
 * segments: each PT_LOAD page-rounded at the load bias; span_*: the lowest start and the highest
 * end; data: the address of an initialised global (in the last PT_LOAD's file part); bss: the
 * middle of the .bss array (past the data page); hole: the page mapped into the gap (0 when it could not be
 * placed); malloc and main: &malloc and &main, for address look-ups. Exits on EOF or SIGTERM. */
#define _GNU_SOURCE
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

static char bss_array[1 << 20];
int data_word = 42;

struct seg {
	uintptr_t start, end;
};

struct self {
	struct seg seg[16];
	int n;
};

static int find(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	struct self *me = arg;
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	for (int k = 0; k < info->dlpi_phnum && me->n < 16; k++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[k];
		if (ph->p_type != PT_LOAD)
			continue;
		uintptr_t s = info->dlpi_addr + ph->p_vaddr, e = s + ph->p_memsz;
		me->seg[me->n++] = (struct seg){s & ~(page - 1), (e + page - 1) & ~(page - 1)};
	}
	return 1; /* the first entry is the main program */
}

int main(void)
{
	struct self me = {0};
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	memset(bss_array, 1, sizeof bss_array);
	dl_iterate_phdr(find, &me);
	if (me.n == 0)
		return 1;
	uintptr_t hole = 0;
	for (int k = 0; k + 1 < me.n && !hole; k++)
		if (me.seg[k + 1].start >= me.seg[k].end + page) {
			void *p = mmap((void *)me.seg[k].end, page, PROT_NONE,
			               MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
			if (p == (void *)me.seg[k].end)
				hole = (uintptr_t)p;
			else if (p != MAP_FAILED)
				munmap(p, page);
		}
	printf("{\"pid\":%d,\"page\":%lu,\"span_start\":%lu,\"span_end\":%lu,\"segments\":[", (int)getpid(),
	       (unsigned long)page, (unsigned long)me.seg[0].start, (unsigned long)me.seg[me.n - 1].end);
	for (int k = 0; k < me.n; k++)
		printf("%s[%lu,%lu]", k ? "," : "", (unsigned long)me.seg[k].start,
		       (unsigned long)me.seg[k].end);
	void *(*m)(size_t) = malloc;
	printf("],\"data\":%lu,\"bss\":%lu,\"hole\":%lu,\"malloc\":%lu,\"main\":%lu}\n",
	       (unsigned long)&data_word, (unsigned long)(bss_array + sizeof bss_array / 2),
	       (unsigned long)hole, (unsigned long)(uintptr_t)m, (unsigned long)(uintptr_t)main);
	fflush(stdout);
	char buf[64];
	while (fgets(buf, sizeof buf, stdin))
		;
	return 0;
}
