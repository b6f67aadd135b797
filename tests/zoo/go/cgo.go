// Compiled only with CGO_ENABLED=1 (a file that imports "C"): each locked OS thread then
// mallocs from C, so glibc thread arenas appear beside the Go heap, and Ms are pthreads.
package main

/*
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

// With ZOO_GO_BLOCK_HINTS=1, before the Go runtime starts, occupy the first 64 MiB at every
// arena hint (i<<40 | 0xc0<<32) so that the runtime falls back to 64 MiB-aligned arenas
// anywhere (sysReserveAligned in malloc.go): the recogniser must then find them through the
// arena index, and must not take these PROT_NONE blocks for a Go heap.
__attribute__((constructor)) static void block_hints(void)
{
	const char *e = getenv("ZOO_GO_BLOCK_HINTS");
	if (!e || strcmp(e, "1") != 0)
		return;
	for (unsigned long i = 0; i <= 0x7f; i++) {
		void *p = (void *)(i << 40 | 0xc000000000ul);
		mmap(p, 64ul << 20, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	}
}

static void *c_work(void)
{
	void *p = malloc(256 * 1024);
	if (p)
		memset(p, 1, 256 * 1024);
	return p;
}
*/
import "C"

func init() {
	cgoEnabled = true
	cgoWork = func() {
		p := C.c_work()
		_ = p // kept: never freed while the program runs
	}
}
