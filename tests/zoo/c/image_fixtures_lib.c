/* A fixture library for tests/integration/test_image_fixtures.py: built with -DBSS=N (bytes of
 * .bss) and the linker options under test. */
#ifndef BSS
#define BSS 8
#endif
char fixture_bss[BSS];
int fixture_data = 42;

int fixture_func(int x)
{
	fixture_bss[x % BSS]++;
	return fixture_data + fixture_bss[0] + x;
}
