/* A fixture library for tests/integration/test_image_fixtures.py: built with -DBSS=N (bytes of
 * .bss) and the linker options under test. */
#ifndef BSS
#define BSS 8
#endif
char fixture_bss[BSS];
int fixture_data = 42;

/* not exported (.symtab only): found through a separate debug file once stripped */
__attribute__((visibility("hidden"), noinline)) int fixture_hidden(int x)
{
	return x * 3 + fixture_data;
}

int fixture_func(int x)
{
	fixture_bss[x % BSS]++;
	return fixture_hidden(fixture_data + fixture_bss[0] + x);
}
