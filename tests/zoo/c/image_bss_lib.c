/* A tiny shared library for tests/zoo/c/image_bss.c: BSS_BYTES (a -D at build time) of
 * zero-filled .bss and nothing else worth the name. */
static char zero[BSS_BYTES];

char *image_bss_touch(void);
char *image_bss_touch(void)
{
	for (unsigned long k = 0; k < sizeof zero; k += 4096)
		zero[k] = 1; /* every .bss page resident, as a used one is */
	return zero;
}
