/* C host of the zoo's Go c-shared library (tests/zoo/go, built with -tags cshared
 * -buildmode=c-shared as libzoo.so): starts the Go workload, prints its accounting as one line
 * of JSON, answers "stats" on stdin, exits on EOF. Built by tests/integration/test_heap_go.py:
 * cc -o host host.c -I DIR DIR/libzoo.so -Wl,-rpath,DIR */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libzoo.h"

static void stats(void)
{
	char *s = ZooStats();
	printf("%s\n", s);
	fflush(stdout);
	free(s);
}

int main(void)
{
	char line[64];
	ZooStart(150, 200, 4);
	stats();
	while (fgets(line, sizeof line, stdin))
		if (!strcmp(line, "stats\n"))
			stats();
	return 0;
}
