/* A CI-sized run of the ELF fuzz harness (tests/fuzz/fuzz_elf.c) without libFuzzer: its
 * LLVMFuzzerTestOneInput with all its invariants, on
 *   - every file in tests/fixtures/hostile-elf/ (inputs the fuzzer found, kept as found);
 *   - this process's own vdso (a real ELF image with sections and .dynsym, 8 KiB on x86_64) and
 *     the first 64 KiB of this test's executable;
 *   - 4000 deterministic mutations of those: byte flips in the headers and tables, 8-byte
 *     words set to 0, ~0 and 2^31 at header and section-table offsets, truncations at random
 *     lengths.
 * Each must return without tripping an invariant (abort) or a sanitizer (the suite also runs
 * under ASan+UBSan). The long run (>= 1 M inputs with libFuzzer) is in docs/benchmarks.md. */
#include "../fuzz/fuzz_elf.c" /* LLVMFuzzerTestOneInput */

#include <dirent.h>
#include <sys/auxv.h>
#include <time.h>

#include "test.h"

#define MUTATIONS 4000
#define SEED_MAX (64u << 10)

static uint64_t rnd(uint64_t *x)
{
	*x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17;
	return *x;
}

static void put_word(unsigned char *p, size_t len, size_t off, uint64_t v)
{
	for (int k = 0; k < 8 && off + (size_t)k < len; k++)
		p[off + (size_t)k] = (unsigned char)(v >> (8 * k));
}

/* One mutation of seed (len bytes) into buf; returns its length. */
static size_t mutate(const unsigned char *seed, size_t len, unsigned char *buf, uint64_t *x)
{
	memcpy(buf, seed, len);
	switch (rnd(x) % 4) {
	case 0: /* byte flips, mostly in the first KiB (headers, program header table) */
		for (int k = 0; k < 6; k++) {
			size_t at = rnd(x) % 2 ? rnd(x) % (len < 1024 ? len : 1024) : rnd(x) % len;
			buf[at] = (unsigned char)rnd(x);
		}
		break;
	case 1: { /* a header field or a section header word set to a hostile value */
		static const uint64_t hostile[] = {0, ~0ull, 1ull << 31, 0xffff, 0x7fffffffffffffffull, 64};
		size_t at = rnd(x) % 2 ? rnd(x) % 64 : rnd(x) % len;
		put_word(buf, len, at & ~(size_t)1, hostile[rnd(x) % 6]);
		break;
	}
	case 2: /* truncated */
		return rnd(x) % len;
	default: { /* the tail: section headers and string tables live there */
		size_t from = len > 4096 ? len - 4096 : 0;
		for (int k = 0; k < 8; k++)
			buf[from + rnd(x) % (len - from)] = (unsigned char)rnd(x);
	}
	}
	return len;
}

static size_t load(const char *path, unsigned char *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}

int main(void)
{
	static unsigned char seeds[2][SEED_MAX], buf[SEED_MAX];
	size_t seed_len[2] = {0, 0};
	unsigned replayed = 0;
	const char *fx = getenv("VMSCOPE_FIXTURES");
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/hostile-elf", fx ? fx : "tests/fixtures");
	DIR *d = opendir(dir);
	for (struct dirent *e; d && (e = readdir(d));) {
		char p[8192];
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		size_t n = load(p, buf, sizeof buf);
		LLVMFuzzerTestOneInput(buf, n);
		replayed++;
	}
	if (d)
		closedir(d);
	const unsigned char *vdso = (const unsigned char *)getauxval(AT_SYSINFO_EHDR);
	if (vdso) {
		memcpy(seeds[0], vdso, 8192);
		seed_len[0] = 8192;
	}
	seed_len[1] = load("/proc/self/exe", seeds[1], sizeof seeds[1]);
	CHECK(seed_len[1] >= 64);
	for (int k = 0; k < 2; k++)
		if (seed_len[k])
			LLVMFuzzerTestOneInput(seeds[k], seed_len[k]);
	uint64_t x = 0x9e3779b97f4a7c15ull;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	unsigned runs = 0;
	for (int k = 0; k < MUTATIONS; k++) {
		int s = seed_len[0] ? k % 2 : 1;
		if (!seed_len[s])
			continue;
		size_t n = mutate(seeds[s], seed_len[s], buf, &x);
		LLVMFuzzerTestOneInput(buf, n);
		runs++;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%u hostile-elf inputs replayed, %u mutations in %.1f s\n", replayed, runs,
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	CHECK(runs == MUTATIONS);
	if (fe.fd >= 0) {
		close(fe.fd);
		unlink(fe.path);
	}
	TEST_MAIN_END();
}
