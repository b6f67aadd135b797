/* vms_pages DIR: a process with known page states for the residency, strings and trim tests
 * (tests/integration/test_pages.py). It prints one JSON line saying where everything is and
 * what it did, then answers commands on stdin, one per line:
 *   mincore  -> {"trim_cached":N,"ro_cached":[...]}: pages of its mappings in the page cache
 *   touch    -> writes anon pages 0-3, answers {"touched":4}
 *   verify   -> reads trim_anon back (swapped back in after a trim), answers
 *               {"trim_anon_ok":N}: pages whose bytes are still the pattern written
 *   quit -> exit; EOF (stdin closed or /dev/null) -> wait up to 600 s for a signal, then exit
 * Layout (4 KiB pages assumed only in the counts below; the real page size is printed):
 *   anon     64 pages: pages 0-9 and 20 written, 30 read only (zero page), the rest untouched;
 *            then clear_refs 4 (soft-dirty cleared) and page 5 written again; page 40 written
 *            and paged out when swap exists
 *   shared   32-page file, MAP_SHARED: pages 0, 1, 2, 17 written
 *   ro       32-page file evicted from the page cache, MAP_PRIVATE read-only, MADV_RANDOM:
 *            page 8 read
 *   thp      2 MiB aligned, MADV_HUGEPAGE, one byte written (a THP when the kernel gives one)
 *   strings  4 pages: the strings printed in "strings"
 *   trim     64-page file, MAP_PRIVATE read-only, populated (all clean page-cache pages)
 *   islands  10,000 pages, every other one written: 5,000 runs (more than one PAGEMAP_SCAN
 *            call returns)
 *   trim_anon 64 anonymous pages, each filled with its own byte pattern (anonymous pages a
 *            trim can page out where swap exists)
 *   bigfile  512-page (2 MiB) file evicted from the page cache, MAP_PRIVATE read-write,
 *            MADV_RANDOM: every 16th page read, page 3 written (a private anonymous copy): a
 *            file mapping big enough that a reader skipping the file bit there would show */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

static long ps;

static void die(const char *what)
{
	fprintf(stderr, "vms_pages: %s: %s\n", what, strerror(errno));
	exit(1);
}

static char *map_file(const char *dir, const char *name, size_t pages, int shared, int evict)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		die(path);
	char *page = malloc((size_t)ps);
	for (size_t i = 0; i < pages; i++) {
		memset(page, (int)('a' + i % 26), (size_t)ps);
		if (write(fd, page, (size_t)ps) != ps)
			die("write");
	}
	free(page);
	if (fsync(fd))
		die("fsync");
	if (evict)
		posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	char *m = mmap(NULL, pages * (size_t)ps, shared ? PROT_READ | PROT_WRITE : PROT_READ,
	               (shared ? MAP_SHARED : MAP_PRIVATE) | (!shared && !evict ? MAP_POPULATE : 0), fd, 0);
	if (m == MAP_FAILED)
		die("mmap file");
	close(fd);
	return m;
}

static int soft_dirty_bit(void *addr)
{
	int fd = open("/proc/self/pagemap", O_RDONLY);
	uint64_t e = 0;
	if (fd < 0 || pread(fd, &e, 8, (off_t)((uintptr_t)addr / (uintptr_t)ps * 8)) != 8)
		e = 0;
	if (fd >= 0)
		close(fd);
	return (int)(e >> 55 & 1);
}

static long anon_huge_kb(void *addr)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	int in = 0;
	long kb = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof line, f)) {
		unsigned long s, e;
		if (sscanf(line, "%lx-%lx ", &s, &e) == 2 && strchr(line, '-') < strchr(line, ' ')) {
			in = (uintptr_t)addr >= s && (uintptr_t)addr < e;
			continue;
		}
		if (in && sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
			break;
	}
	fclose(f);
	return kb;
}

static int have_swap(void)
{
	FILE *f = fopen("/proc/swaps", "r");
	char line[256];
	int n = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof line, f))
		n++;
	fclose(f);
	return n > 1;
}

static void put_utf16(char *dst, const char *s)
{
	for (; *s; s++, dst += 2) {
		dst[0] = *s;
		dst[1] = 0;
	}
}

static const struct {
	unsigned off;
	int utf16;
	const char *text;
} strs[] = {
    {0x100, 0, "vmscope-ascii-marker-one"},
    {0x180, 0, "eightchr"},
    {0x1c0, 0, "sevench"},                 /* 7 characters: below the default minimum */
    {0x1f0, 0, "crosses a page boundary"}, /* 4 KiB pages: from 0xff0 ... */
    {0x2000, 1, "wide-marker-utf16"},
    {0x2100, 1, "short16"}, /* 7 code units */
    {0x2ff8, 0, "tail string at the end of the region"},
};

/* Where string i goes: its offset, but the page-boundary one straddles the end of the first
 * page and the tail one ends right before the region's last byte, whatever the page size. */
static unsigned str_off(size_t i)
{
	if (strs[i].off == 0x1f0)
		return (unsigned)ps - 0x10;
	if (strs[i].off == 0x2ff8)
		return 4 * (unsigned)ps - (unsigned)strlen(strs[i].text) - 1;
	return strs[i].off;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: vms_pages DIR\n");
		return 2;
	}
	ps = sysconf(_SC_PAGESIZE);
	const char *dir = argv[1];

	char *anon = mmap(NULL, 64 * (size_t)ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (anon == MAP_FAILED)
		die("mmap anon");
	madvise(anon, 64 * (size_t)ps, MADV_NOHUGEPAGE); /* exact 4 KiB pages, no mTHP */
	for (int i = 0; i < 10; i++)
		anon[(size_t)i * (size_t)ps] = 1;
	anon[20 * (size_t)ps] = 1;
	volatile char sink = anon[30 * (size_t)ps]; /* a read: the zero page */
	(void)sink;
	int swapped = 0;
	if (have_swap()) {
		anon[40 * (size_t)ps] = 1;
		swapped = madvise(anon + 40 * (size_t)ps, (size_t)ps, MADV_PAGEOUT) == 0;
	}

	char *shared = map_file(dir, "shared.bin", 32, 1, 0);
	shared[0] = 'x';
	shared[1 * (size_t)ps] = 'x';
	shared[2 * (size_t)ps] = 'x';
	shared[17 * (size_t)ps] = 'x';

	char *ro = map_file(dir, "ro.bin", 32, 0, 1);
	madvise(ro, 32 * (size_t)ps, MADV_RANDOM);
	sink = ro[8 * (size_t)ps];

	size_t two = 2u << 20;
	char *raw = mmap(NULL, 2 * two, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED)
		die("mmap thp");
	char *thp = (char *)(((uintptr_t)raw + two - 1) & ~(uintptr_t)(two - 1));
	madvise(thp, two, MADV_HUGEPAGE);
	thp[0] = 1;
	long thp_kb = anon_huge_kb(thp);

	char *str = mmap(NULL, 4 * (size_t)ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (str == MAP_FAILED)
		die("mmap strings");
	madvise(str, 4 * (size_t)ps, MADV_NOHUGEPAGE);
	memset(str, 0, 4 * (size_t)ps);
	for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
		unsigned off = str_off(i);
		if (strs[i].utf16)
			put_utf16(str + off, strs[i].text);
		else
			memcpy(str + off, strs[i].text, strlen(strs[i].text));
	}

	char *trim = map_file(dir, "trim.bin", 64, 0, 0);

	char *isl =
	    mmap(NULL, 10000 * (size_t)ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (isl == MAP_FAILED)
		die("mmap islands");
	madvise(isl, 10000 * (size_t)ps, MADV_NOHUGEPAGE);
	for (size_t i = 0; i < 10000; i += 2)
		isl[i * (size_t)ps] = 1;

	/* between two PROT_NONE pages: a VMA of its own, never merged with a neighbour's */
	char *tra = mmap(NULL, 66 * (size_t)ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (tra == MAP_FAILED)
		die("mmap trim_anon");
	mprotect(tra, (size_t)ps, PROT_NONE);
	mprotect(tra + 65 * (size_t)ps, (size_t)ps, PROT_NONE);
	tra += ps;
	madvise(tra, 64 * (size_t)ps, MADV_NOHUGEPAGE);
	for (size_t i = 0; i < 64; i++)
		memset(tra + i * (size_t)ps, (int)(0x40 + i), (size_t)ps);

	char *big = map_file(dir, "big.bin", 512, 0, 1);
	if (mprotect(big, 512 * (size_t)ps, PROT_READ | PROT_WRITE))
		die("mprotect bigfile");
	madvise(big, 512 * (size_t)ps, MADV_RANDOM);
	for (size_t i = 0; i < 512; i += 16)
		sink = big[i * (size_t)ps];
	big[3 * (size_t)ps] = 'w';

	/* soft-dirty: clear every page's bit, then write anon page 5 again */
	int sd_before = soft_dirty_bit(anon);
	int fd = open("/proc/self/clear_refs", O_WRONLY);
	int cleared = fd >= 0 && write(fd, "4", 1) == 1;
	if (fd >= 0)
		close(fd);
	anon[5 * (size_t)ps] = 2;
	int sd_after = soft_dirty_bit(anon + 5 * (size_t)ps);
	int sd_works = sd_before && cleared && sd_after && !soft_dirty_bit(anon);

	printf("{\"page_size\":%ld,\"anon\":\"%p\",\"shared\":\"%p\",\"ro\":\"%p\",\"thp\":\"%p\","
	       "\"thp_kb\":%ld,\"strings\":\"%p\",\"trim\":\"%p\",\"islands\":\"%p\",\"soft_dirty\":%s,"
	       "\"soft_dirty_probe\":{\"before_clear\":%d,\"cleared\":%d,\"after_write\":%d},"
	       "\"swapped\":%s,\"have_swap\":%s,\"trim_anon\":\"%p\",\"bigfile\":\"%p\","
	       "\"strings_written\":[",
	       ps, (void *)anon, (void *)shared, (void *)ro, (void *)thp, thp_kb, (void *)str, (void *)trim,
	       (void *)isl, sd_works ? "true" : "false", sd_before, cleared, sd_after,
	       swapped ? "true" : "false", have_swap() ? "true" : "false", (void *)tra, (void *)big);
	for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
		unsigned off = str_off(i);
		printf("%s{\"addr\":\"%p\",\"encoding\":\"%s\",\"text\":\"%s\"}", i ? "," : "",
		       (void *)(str + off), strs[i].utf16 ? "utf16le" : "ascii", strs[i].text);
	}
	printf("]}\n");
	fflush(stdout);

	char cmd[64];
	while (fgets(cmd, sizeof cmd, stdin)) {
		if (!strncmp(cmd, "mincore", 7)) {
			unsigned char vec[64];
			int n = 0;
			if (mincore(trim, 64 * (size_t)ps, vec) == 0)
				for (int i = 0; i < 64; i++)
					n += vec[i] & 1;
			printf("{\"trim_cached\":%d,\"ro_cached\":[", n);
			int first = 1;
			if (mincore(ro, 32 * (size_t)ps, vec) == 0)
				for (int i = 0; i < 32; i++)
					if (vec[i] & 1) {
						printf("%s%d", first ? "" : ",", i);
						first = 0;
					}
			printf("]}\n");
			fflush(stdout);
		} else if (!strncmp(cmd, "touch", 5)) {
			for (int i = 0; i < 4; i++)
				anon[(size_t)i * (size_t)ps] = 3;
			printf("{\"touched\":4}\n");
			fflush(stdout);
		} else if (!strncmp(cmd, "verify", 6)) {
			int ok = 0;
			for (size_t i = 0; i < 64; i++) {
				const char *pg = tra + i * (size_t)ps;
				size_t j = 0;
				while (j < (size_t)ps && pg[j] == (char)(0x40 + i))
					j++;
				ok += j == (size_t)ps;
			}
			printf("{\"trim_anon_ok\":%d}\n", ok);
			fflush(stdout);
		} else if (!strncmp(cmd, "quit", 4))
			return 0;
	}
	sleep(600); /* started without a stdin to talk on (the browser tests): stay to be looked at */
	return 0;
}
