/* Zoo program: load fixture ELF libraries that the test built (tests/zoo/README.md).
 *
 * Usage: image_fixtures [-b ADDR] LIB...
 * -b ADDR: first map one page PROT_NONE at ADDR (hex), so that a library linked to load there
 * (a "prelinked" one) must be relocated. Then dlopen each LIB and print ONE JSON line:
 *   {"pid":..., "blocked":ADDR or 0, "libs":[{"path", "func", "base", "bss"}]}
 * where func is dlsym(LIB, "fixture_func"), base the library's load address (dladdr) and bss
 * the address of its "fixture_bss" array (0 when absent). Exits on EOF. Built 64-bit and 32-bit
 * (-m32) by the test. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	unsigned long blocked = 0;
	int k = 1;
	if (argc > 2 && !strcmp(argv[1], "-b")) {
		unsigned long want = strtoul(argv[2], NULL, 16);
		void *p = mmap((void *)want, 4096, PROT_NONE,
		               MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		blocked = p == (void *)want ? want : 0;
		k = 3;
	}
	printf("{\"pid\":%d,\"blocked\":%lu,\"libs\":[", (int)getpid(), blocked);
	for (int first = 1; k < argc; k++, first = 0) {
		void *h = dlopen(argv[k], RTLD_NOW | RTLD_LOCAL);
		void *f = h ? dlsym(h, "fixture_func") : NULL, *b = h ? dlsym(h, "fixture_bss") : NULL;
		Dl_info info;
		unsigned long base = f && dladdr(f, &info) ? (unsigned long)info.dli_fbase : 0;
		if (!h)
			fprintf(stderr, "dlopen %s: %s\n", argv[k], dlerror());
		printf("%s{\"path\":\"%s\",\"func\":%lu,\"base\":%lu,\"bss\":%lu}", first ? "" : ",", argv[k],
		       (unsigned long)f, base, (unsigned long)b);
	}
	printf("]}\n");
	fflush(stdout);
	char buf[64];
	while (fread(buf, 1, sizeof buf, stdin) > 0)
		;
	return 0;
}
