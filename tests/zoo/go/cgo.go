// Compiled only with CGO_ENABLED=1 (a file that imports "C"): each locked OS thread then
// mallocs from C, so glibc thread arenas appear beside the Go heap, and Ms are pthreads.
package main

/*
#include <stdlib.h>
#include <string.h>

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
