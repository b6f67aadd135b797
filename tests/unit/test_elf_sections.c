/* The ELF section / string table / symbol / note readers (server/core/elf.c) and the address
 * lookup that reads image files (server/core/imageinfo.c) on malformed input: truncated files,
 * huge counts, offsets out of range, string tables without NUL, a note with huge sizes, and
 * a thousand byte flips of a valid file. None may crash (the suite also runs under ASan); a
 * valid hand-made ELF64 is the control: its symbol and section are named. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../server/core/elf.h"
#include "test.h"
#include "vmscope/imageinfo.h"
#include "vmscope/parse.h"
#include "vmscope/snapshot.h"

#define FILE_SIZE 0x1000
#define BASE 0x7f0000000000ull

static void put(unsigned char *p, int n, uint64_t v)
{
	for (int k = 0; k < n; k++)
		p[k] = (unsigned char)(v >> (8 * k));
}

static void shdr(unsigned char *f, int idx, uint32_t name, uint32_t type, uint64_t flags, uint64_t addr,
                 uint64_t off, uint64_t size, uint32_t link, uint64_t entsize)
{
	unsigned char *p = f + 0x400 + idx * 64;
	put(p, 4, name), put(p + 4, 4, type), put(p + 8, 8, flags), put(p + 0x10, 8, addr),
	    put(p + 0x18, 8, off);
	put(p + 0x20, 8, size), put(p + 0x28, 4, link), put(p + 0x38, 8, entsize);
}

static void sym(unsigned char *f, int idx, uint32_t name, unsigned char info, uint16_t shndx, uint64_t value,
                uint64_t size)
{
	unsigned char *p = f + 0x200 + idx * 24;
	put(p, 4, name), p[4] = info, put(p + 6, 2, shndx), put(p + 8, 8, value), put(p + 16, 8, size);
}

/* A valid ELF64 LE shared object: one PT_LOAD over the whole file, .text at 0x100, a .symtab
 * with foo (FUNC GLOBAL, 0x100..0x140) and bar (OBJECT LOCAL, 0x180..0x190), a build-id note. */
static void make_elf(unsigned char *f)
{
	memset(f, 0, FILE_SIZE);
	memcpy(f, "\177ELF\2\1\1", 7);
	put(f + 0x10, 2, 3), put(f + 0x12, 2, 62), put(f + 0x14, 4, 1);
	put(f + 0x20, 8, 64), put(f + 0x28, 8, 0x400), put(f + 0x34, 2, 64), put(f + 0x36, 2, 56);
	put(f + 0x38, 2, 2), put(f + 0x3a, 2, 64), put(f + 0x3c, 2, 6), put(f + 0x3e, 2, 4);
	unsigned char *ph = f + 64;
	put(ph, 4, 1), put(ph + 4, 4, 5), put(ph + 8, 8, 0), put(ph + 0x10, 8, 0),
	    put(ph + 0x20, 8, FILE_SIZE), put(ph + 0x28, 8, FILE_SIZE);
	ph += 56; /* PT_NOTE at 0x380 */
	put(ph, 4, 4), put(ph + 8, 8, 0x380), put(ph + 0x10, 8, 0x380), put(ph + 0x20, 8, 0x18),
	    put(ph + 0x28, 8, 0x18);
	sym(f, 1, 1, 0x12, 1, 0x100, 0x40);
	sym(f, 2, 5, 0x01, 1, 0x180, 0x10);
	memcpy(f + 0x300, "\0foo\0bar\0", 9);
	memcpy(f + 0x320, "\0.text\0.symtab\0.strtab\0.shstrtab\0.note.gnu.build-id", 52);
	put(f + 0x380, 4, 4), put(f + 0x384, 4, 4), put(f + 0x388, 4, 3);
	memcpy(f + 0x38c, "GNU\0\xde\xad\xbe\xef", 8);
	shdr(f, 1, 1, 1, 0x6, 0x100, 0x100, 0x100, 0, 0);
	shdr(f, 2, 7, 2, 0, 0, 0x200, 72, 3, 24);
	shdr(f, 3, 15, 3, 0, 0, 0x300, 9, 0, 0);
	shdr(f, 4, 23, 3, 0, 0, 0x320, 52, 0, 0);
	shdr(f, 5, 33, 7, 0x2, 0x380, 0x380, 0x10, 0, 0);
}

static char dir[64];

static void write_file(const char *name, const unsigned char *f, size_t len)
{
	char path[128];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *o = fopen(path, "wb");
	CHECK(o != NULL);
	if (!o)
		return;
	CHECK(fwrite(f, 1, len, o) == len);
	fclose(o);
}

static char last_text[256]; /* vms_image_symbol_text() of the last lookup (info->path dies with
                             * the snapshot) */

/* Look addr up in a snapshot that maps dir/name r-xp at BASE (one page, offset 0). */
static int lookup(const char *name, uint64_t addr, struct vms_image_info *info)
{
	char text[512];
	snprintf(text, sizeof text,
	         "%llx-%llx r-xp 00000000 08:01 12 %s/%s\n%llx-%llx rw-p 00000000 00:00 0 \n",
	         (unsigned long long)BASE, (unsigned long long)BASE + 0x1000, dir, name,
	         (unsigned long long)BASE + 0x10000, (unsigned long long)BASE + 0x11000);
	struct vms_snapshot *s = vms_snapshot_new();
	struct vms_classify_ctx ctx = {.main_tid = 1};
	int rc = -1;
	if (s && vms_smaps_parse(s, text, strlen(text)) == VMS_OK && vms_classify(s, &ctx) == VMS_OK) {
		s->page_size = 4096;
		rc = vms_image_lookup(s, addr, "/", 0, NULL, info);
		vms_image_symbol_text(info, last_text, sizeof last_text);
		info->path = NULL;
	}
	vms_snapshot_free(s);
	return rc;
}

static void test_control(const unsigned char *f)
{
	struct vms_image_info info;
	write_file("good.so", f, FILE_SIZE);
	CHECK(lookup("good.so", BASE + 0x110, &info) == VMS_OK);
	CHECK(info.found && info.has_vaddr && info.vaddr == 0x110);
	CHECK_STR(info.symbol, "foo");
	CHECK_EQ_U64(info.symbol_offset, 0x10);
	CHECK_STR(info.section, ".text");
	CHECK_STR(info.symbol_source, ".symtab");
	CHECK_STR(info.build_id, "deadbeef");
	CHECK_STR(last_text, "good.so!foo+0x10");
	CHECK(lookup("good.so", BASE + 0x185, &info) == VMS_OK);
	CHECK_STR(info.symbol, "bar");
	/* past foo's end, before bar: the nearest below, said */
	CHECK(lookup("good.so", BASE + 0x150, &info) == VMS_OK);
	CHECK(!strcmp(info.symbol, "foo") && !info.symbol_inside);
}

/* Each mutation of the valid file, looked up at a few addresses: no crash, found stays 1. */
static void check_survives(const char *what, const unsigned char *f, size_t len)
{
	struct vms_image_info info;
	write_file("bad.so", f, len);
	int ok = 1;
	for (uint64_t a = 0; a < 0x1000; a += 0x170)
		ok &= lookup("bad.so", BASE + a, &info) == VMS_OK && info.found;
	if (!ok)
		fprintf(stderr, "%s: lookup failed\n", what);
	CHECK(ok);
}

static void test_malformed(const unsigned char *good)
{
	unsigned char f[FILE_SIZE];
	struct vms_image_info info;
	/* truncated at every length */
	for (size_t len = 0; len < FILE_SIZE; len += 13)
		check_survives("truncated", good, len);
	write_file("short.so", good, 0x300); /* section headers beyond the end */
	CHECK(lookup("short.so", BASE + 0x110, &info) == VMS_OK && info.found && !info.symbol[0] &&
	      info.note);
	/* huge counts */
	memcpy(f, good, FILE_SIZE), put(f + 0x3c, 2, 0xffff);
	check_survives("shnum 65535", f, FILE_SIZE);
	memcpy(f, good, FILE_SIZE), put(f + 0x38, 2, 0xffff);
	check_survives("phnum 65535", f, FILE_SIZE);
	memcpy(f, good, FILE_SIZE), put(f + 0x400 + 2 * 64 + 0x20, 8, ~0ull);
	check_survives("symtab size 2^64-1", f, FILE_SIZE);
	memcpy(f, good, FILE_SIZE), put(f + 0x400 + 2 * 64 + 0x38, 8, 7);
	check_survives("symtab entsize 7", f, FILE_SIZE);
	/* offsets out of range */
	memcpy(f, good, FILE_SIZE), put(f + 0x28, 8, ~0ull - 100);
	check_survives("shoff wraps", f, FILE_SIZE);
	memcpy(f, good, FILE_SIZE), put(f + 0x400 + 2 * 64 + 0x18, 8, 1ull << 63);
	check_survives("symtab offset 2^63", f, FILE_SIZE);
	memcpy(f, good, FILE_SIZE), put(f + 0x400 + 3 * 64 + 0x18, 8, ~0ull - 3);
	check_survives("strtab offset wraps", f, FILE_SIZE);
	memcpy(f, good, FILE_SIZE), put(f + 0x3e, 2, 60000);
	check_survives("shstrndx out of range", f, FILE_SIZE);
	memcpy(f, good, FILE_SIZE), put(f + 0x400 + 2 * 64 + 0x28, 4, 2);
	check_survives("symtab links to itself", f, FILE_SIZE);
	memcpy(f, good, FILE_SIZE), put(f + 0x200 + 24 + 0, 4, 0xfffffff0);
	check_survives("symbol name offset out of range", f, FILE_SIZE);
	/* a string table without NUL: foo's name runs to the table's end */
	memcpy(f, good, FILE_SIZE), memcpy(f + 0x300, "\0foobar!!", 9);
	write_file("nonul.so", f, FILE_SIZE);
	CHECK(lookup("nonul.so", BASE + 0x110, &info) == VMS_OK && strcmp(info.symbol, "foo") != 0);
	memcpy(f, good, FILE_SIZE), memset(f + 0x320, 'x', 52);
	write_file("nonul2.so", f, FILE_SIZE);
	CHECK(lookup("nonul2.so", BASE + 0x110, &info) == VMS_OK && !info.section[0]);
	/* notes with huge sizes */
	memcpy(f, good, FILE_SIZE), put(f + 0x380, 4, 0xffffffff);
	write_file("note.so", f, FILE_SIZE);
	CHECK(lookup("note.so", BASE + 0x110, &info) == VMS_OK && !info.build_id[0]);
	/* byte flips: a deterministic PRNG over the first 0x600 bytes (headers, tables, strings) */
	uint64_t x = 0x9e3779b97f4a7c15ull;
	for (int round = 0; round < 1000; round++) {
		memcpy(f, good, FILE_SIZE);
		for (int k = 0; k < 4; k++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			f[(x >> 8) % 0x600] = (unsigned char)x;
		}
		check_survives("byte flips", f, FILE_SIZE);
	}
}

static void test_parsers(const unsigned char *good)
{
	struct vms_elf_hdr h;
	CHECK(vms_elf_hdr(good, 51, &h) == 0); /* truncated header */
	CHECK(vms_elf_hdr(good, 64, &h) == 1 && h.shnum == 6);
	uint64_t off;
	size_t size;
	CHECK(vms_elf_shdrs_at(&h, &off, &size) == 1 && off == 0x400 && size == 6 * 64);
	struct vms_elf_hdr bad = h;
	bad.shentsize = 63;
	CHECK(vms_elf_shdrs_at(&bad, &off, &size) == 0);
	bad = h, bad.shoff = ~0ull - 10;
	CHECK(vms_elf_shdrs_at(&bad, &off, &size) == 0);
	struct vms_elf_shdr s;
	CHECK(vms_elf_shdr(&h, good + 0x400, 3 * 64, 2, &s) == 1 && s.type == 2);
	CHECK(vms_elf_shdr(&h, good + 0x400, 3 * 64, 3, &s) == 0); /* beyond what was read */
	CHECK(vms_elf_shdr(&h, good + 0x400, 6 * 64, 6, &s) == 0); /* beyond shnum */
	const unsigned char tab[] = {0, 'a', 'b', 0, 'c', 'd'};
	CHECK(vms_elf_str(tab, sizeof tab, 1) && !strcmp(vms_elf_str(tab, sizeof tab, 1), "ab"));
	CHECK(vms_elf_str(tab, sizeof tab, 4) == NULL); /* no NUL before the end */
	CHECK(vms_elf_str(tab, sizeof tab, 6) == NULL);
	CHECK(vms_elf_str(tab, sizeof tab, ~0ull) == NULL);
	char id[16];
	CHECK(vms_elf_build_id(&h, good + 0x380, 0x18, id, sizeof id) == 1 && !strcmp(id, "deadbeef"));
	CHECK(vms_elf_build_id(&h, good + 0x380, 0x13, id, sizeof id) == 0); /* truncated desc */
	CHECK(vms_elf_build_id(&h, good + 0x380, 0x18, id, 8) == 0);         /* no room */
}

int main(void)
{
	static unsigned char good[FILE_SIZE];
	snprintf(dir, sizeof dir, "/tmp/vmscope-elf-XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	make_elf(good);
	/* a failed open (no debug file) must not close a descriptor it never opened: fd 0 was the
	 * daemon's accepted socket once */
	int fd0_open = fcntl(0, F_GETFD) != -1;
	if (!fd0_open)
		fd0_open = open("/dev/null", O_RDONLY) == 0;
	test_parsers(good);
	test_control(good);
	test_malformed(good);
	CHECK(!fd0_open || fcntl(0, F_GETFD) != -1);
	const char *names[] = {"good.so", "bad.so", "short.so", "nonul.so", "nonul2.so", "note.so"};
	for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
		char p[128];
		snprintf(p, sizeof p, "%s/%s", dir, names[k]);
		unlink(p);
	}
	rmdir(dir);
	TEST_MAIN_END();
}
