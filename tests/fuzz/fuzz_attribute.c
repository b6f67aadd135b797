/* libFuzzer harness for the attribution stage (server/core/attribute.c + recognisers/): the
 * target process is untrusted, so every byte a recogniser reads from its memory or its files
 * may be hostile. Input (any part may be missing):
 *
 *   <smaps text>
 *   @@MEM\n  HEXADDR HEXBYTES\n ...        records: exact bytes at exact addresses (node20.peek format)
 *   @@TILE\n <4 control bytes><tile bytes>  every other byte read at addr is tile[addr % len]
 *   @@FILE\n <file bytes>                   the content of every file the recognisers read
 *
 * Control bytes: [0] low nibble: 1 read in 16 (by page) fails per unit, bit 4: files are
 * endless (bytes past the end repeat the file); [1] % 9 threads; [2] seed for their stack
 * pointers; [3] bit 0: a 32-bit process (i686, 4-byte words for glibc and musl). An aligned tile word whose
 * top byte is 0xA5 becomes a pointer into region (byte 6 % n) at offset (low 32 bits % size); 0xA6: region
 * start + (low 16 bits), so hostile pointers into the map (rings, self-references) are one mutation away.
 *
 * After attribution: the snapshot invariants (fuzz_invariants.h), totals unchanged, parts inside
 * their allocations and sorted, every thread without a stack row has a note, every string
 * readable, a guess says "(guess)", and the number of reads within the documented caps
 * (VMS_ATTR_MAX_READS, attribute.h). Build and run: tests/fuzz/README.md. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../server/core/attribute.h"
#include "fuzz_invariants.h"
#include "vmscope/parse.h"

#define MAX_RECORDS 512
#define RECORD_MAX 4096

struct record {
	uint64_t addr;
	size_t len;
	unsigned char bytes[RECORD_MAX];
};

struct world {
	const struct vms_snapshot *s;
	struct record *rec;
	size_t n_rec;
	uint64_t rec_lo, rec_hi; /* the records' span: reads outside it skip them (65536 reads x 512) */
	const unsigned char *tile;
	size_t tile_len;
	unsigned char ctrl[4];
	const unsigned char *file;
	size_t file_len;
	unsigned long reads, file_reads;
};

static int hexval(int c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
	                              : -1;
}

static uint64_t le64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static int read_mem(void *cookie, uint64_t addr, void *buf, size_t len)
{
	struct world *w = cookie;
	w->reads++;
	FUZZ_CHECK(len > 0 && len <= 4096);
	if (w->ctrl[0] & 15) {
		uint64_t h = (addr >> 12) * 0x9E3779B97F4A7C15ull;
		if ((h >> 60) < (w->ctrl[0] & 15u))
			return -1;
	}
	unsigned char *b = buf;
	int covered = 0;
	size_t n_rec = addr < w->rec_hi && addr + len > w->rec_lo ? w->n_rec : 0;
	for (size_t k = 0; k < n_rec; k++)
		if (addr >= w->rec[k].addr && addr - w->rec[k].addr <= w->rec[k].len &&
		    len <= w->rec[k].addr + w->rec[k].len - addr)
			covered = 1;
	if (!covered && !w->tile_len)
		return -1;
	if (w->tile_len) {
		for (size_t i = 0; i < len; i++)
			b[i] = w->tile[(addr + i) % w->tile_len];
		/* pointer synthesis on aligned words */
		const struct vms_snapshot *s = w->s;
		for (size_t i = (8 - addr % 8) % 8; s->n_regions && i + 8 <= len; i += 8) {
			uint64_t v = le64(b + i);
			unsigned top = (unsigned)(v >> 56);
			if (top != 0xA5 && top != 0xA6)
				continue;
			const struct vms_region *r = &s->regions[((v >> 48) & 0xff) % s->n_regions];
			uint64_t size = r->end - r->start;
			uint64_t p =
			    top == 0xA5 ? r->start + (v & 0xffffffffu) % size : r->start + (v & 0xffff);
			memcpy(b + i, &p, 8);
		}
	}
	for (size_t k = 0; k < n_rec; k++) {
		const struct record *r = &w->rec[k];
		uint64_t lo = addr > r->addr ? addr : r->addr;
		uint64_t hi_a = addr + len, hi_r = r->addr + r->len;
		uint64_t hi = hi_a < hi_r ? hi_a : hi_r;
		if (lo < hi)
			memcpy(b + (lo - addr), r->bytes + (lo - r->addr), hi - lo);
	}
	return 0;
}

static long read_file(void *cookie, const char *path, uint64_t offset, void *buf, size_t max)
{
	struct world *w = cookie;
	w->file_reads++;
	FUZZ_CHECK(path && path[0] == '/');
	if (!w->file_len)
		return -1;
	if (w->ctrl[0] & 16) { /* endless file */
		for (size_t i = 0; i < max; i++)
			((unsigned char *)buf)[i] = w->file[(offset + i) % w->file_len];
		return (long)max;
	}
	if (offset >= w->file_len)
		return 0;
	size_t n = w->file_len - offset < max ? w->file_len - offset : max;
	memcpy(buf, w->file + offset, n);
	return (long)n;
}

static const unsigned char *find(const unsigned char *d, size_t n, const char *marker)
{
	return memmem(d, n, marker, strlen(marker));
}

static void parse_records(struct world *w, const unsigned char *p, const unsigned char *end)
{
	while (p < end && w->n_rec < MAX_RECORDS) {
		const unsigned char *nl = memchr(p, '\n', (size_t)(end - p));
		const unsigned char *le = nl ? nl : end;
		struct record *r = &w->rec[w->n_rec];
		uint64_t addr = 0;
		const unsigned char *q = p;
		while (q < le && hexval(*q) >= 0)
			addr = addr << 4 | (uint64_t)hexval(*q++);
		if (q < le && *q == ' ' && q > p) {
			r->addr = addr;
			r->len = 0;
			for (q++; q + 1 < le && r->len < RECORD_MAX && hexval(q[0]) >= 0 && hexval(q[1]) >= 0;
			     q += 2)
				r->bytes[r->len++] = (unsigned char)(hexval(q[0]) << 4 | hexval(q[1]));
			if (r->len && r->addr + r->len > r->addr) {
				if (!w->n_rec || r->addr < w->rec_lo)
					w->rec_lo = r->addr;
				if (!w->n_rec || r->addr + r->len > w->rec_hi)
					w->rec_hi = r->addr + r->len;
				w->n_rec++;
			}
		}
		p = nl ? nl + 1 : end;
	}
}

/* A section runs to the next marker after it, or to the end. */
static const unsigned char *section_end(const unsigned char *m, const unsigned char *end,
                                        const unsigned char *m1, const unsigned char *m2,
                                        const unsigned char *m3)
{
	const unsigned char *e = end;
	if (m1 && m1 > m && m1 < e)
		e = m1;
	if (m2 && m2 > m && m2 < e)
		e = m2;
	if (m3 && m3 > m && m3 < e)
		e = m3;
	return e;
}

static int has(const char *s, const char *sub)
{
	return s && strstr(s, sub);
}

static size_t str_ok(const char *p)
{
	return p ? strlen(p) : 0; /* ASan: a dangling or unterminated string aborts here */
}

static struct record recs[MAX_RECORDS];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const unsigned char *end = data + size;
	const unsigned char *m_mem = find(data, size, "@@MEM\n");
	const unsigned char *m_tile = find(data, size, "@@TILE\n");
	const unsigned char *m_file = find(data, size, "@@FILE\n");
	const unsigned char *smaps_end = end;
	if (m_mem && m_mem < smaps_end)
		smaps_end = m_mem;
	if (m_tile && m_tile < smaps_end)
		smaps_end = m_tile;
	if (m_file && m_file < smaps_end)
		smaps_end = m_file;
#define SECTION_END(m) section_end(m, end, m_mem, m_tile, m_file)

	struct world w = {.rec = recs};
	if (m_mem)
		parse_records(&w, m_mem + 6, SECTION_END(m_mem));
	if (m_tile) {
		const unsigned char *t = m_tile + 7, *te = SECTION_END(m_tile);
		for (int i = 0; i < 4 && t < te; i++)
			w.ctrl[i] = *t++;
		w.tile = t;
		w.tile_len = (size_t)(te - t);
	}
	if (m_file) {
		w.file = m_file + 7;
		w.file_len = (size_t)(SECTION_END(m_file) - w.file);
	}

	struct vms_snapshot *s = vms_snapshot_new();
	if (!s)
		return 0;
	if (vms_smaps_parse(s, (const char *)data, (size_t)(smaps_end - data)) != VMS_OK) {
		vms_snapshot_free(s);
		return 0;
	}
	/* the kernel reports no user address past 2^56 (5-level paging), only [vsyscall] up there */
	for (size_t i = 0; i < s->n_regions; i++)
		if (s->regions[i].end > (1ull << 56) && s->regions[i].start < 0xffff800000000000ull) {
			vms_snapshot_free(s);
			return 0;
		}
	w.s = s;
	s->user_top = 0x7ffffffff000ull;
	s->mmap_min_addr = 0x10000;
	s->arch.bits = w.ctrl[3] & 1 ? 32 : 64;
	s->arch.machine = w.ctrl[3] & 1 ? "i686" : "x86_64";
	s->page_size = 4096;
	s->pid = 1;
	s->name = "fuzz";

	/* threads: the main thread on [stack] when there is one, the others anywhere */
	struct vms_thread threads[9];
	size_t nt = m_tile ? w.ctrl[1] % 9u : 3;
	uint64_t seed = w.ctrl[2];
	for (size_t t = 0; t < nt; t++) {
		threads[t] = (struct vms_thread){
		    .tid = (int)t + 1, .name = t ? "worker" : "main", .stack_allocation = -1};
		if (!s->n_regions)
			continue;
		uint64_t h = (seed + t * 0x9E37u) * 0x2545F4914F6CDD1Dull;
		switch (h >> 62) {
		case 0:
			threads[t].sp = 0;
			break;
		case 1:
			threads[t].sp = 0x10; /* in no region */
			break;
		default: {
			const struct vms_region *r = &s->regions[(h >> 16) % s->n_regions];
			threads[t].sp = r->end - 16 - ((h >> 8) & 0xff) * 16 % (r->end - r->start);
		}
		}
	}
	s->threads = threads;
	s->n_threads = nt;
	struct vms_classify_ctx ctx = {
	    .shmem_major = 0, .shmem_minor = 1, .heap_max = 64u << 20, .main_tid = 1};
	int rc = vms_classify(s, &ctx);
	FUZZ_CHECK(rc == VMS_OK);
	fuzz_check_snapshot(s);
	uint64_t total_before[VMS_COL_COUNT];
	memcpy(total_before, s->total, sizeof total_before);
	uint64_t *shared_ws = malloc((s->n_regions ? s->n_regions : 1) * sizeof *shared_ws);
	FUZZ_CHECK(shared_ws);
	for (size_t i = 0; i < s->n_regions; i++)
		shared_ws[i] = s->regions[i].cols[VMS_COL_SHARED_WS];

	int changed = -1;
	rc = vms_attribute_with_files(s, m_mem || m_tile ? read_mem : NULL, &w, m_file ? read_file : NULL, &w,
	                              &changed);
	FUZZ_CHECK(rc == VMS_OK);
	FUZZ_CHECK(changed == 0 || changed == 1);
	fuzz_check_snapshot(s);
	/* ... except Shared WS of a self-aliased view (VMS_ROLE_VIEW: the ZGC heap's views) */
	for (size_t i = 0; i < s->n_regions; i++)
		if (s->regions[i].role && !strcmp(s->regions[i].role, VMS_ROLE_VIEW))
			total_before[VMS_COL_SHARED_WS] -= shared_ws[i];
	free(shared_ws);
	for (int c = 0; c < VMS_COL_COUNT; c++) {
		if (s->total[c] != total_before[c])
			fprintf(stderr, "column %d: total %llu before, %llu after\n", c,
			        (unsigned long long)total_before[c], (unsigned long long)s->total[c]);
		FUZZ_CHECK(s->total[c] == total_before[c]);
	}

	/* bounded work: the caps of attribute.h */
	FUZZ_CHECK(w.reads <= (unsigned long)VMS_ATTR_MAX_READS * vms_n_recognisers);
	FUZZ_CHECK(w.file_reads <= (unsigned long)VMS_ATTR_MAX_FILE_READS * vms_n_recognisers);

	/* recogniser runs */
	FUZZ_CHECK(s->n_recognisers == vms_n_recognisers);
	for (size_t k = 0; k < s->n_recognisers; k++) {
		FUZZ_CHECK(s->recognisers[k].key && !strcmp(s->recognisers[k].key, vms_recognisers[k]->key));
		str_ok(s->recognisers[k].note);
	}
	/* allocations: strings, owners, guesses */
	for (size_t i = 0; i < s->n_allocations; i++) {
		const struct vms_allocation *al = &s->allocations[i];
		str_ok(al->details);
		str_ok(al->signal);
		str_ok(al->owner);
		if (al->guess && !has(al->details, "guess"))
			fprintf(stderr, "guess without (guess): %s: %s\n", al->owner, al->details);
		if (al->guess)
			FUZZ_CHECK(has(al->details, "guess"));
		if (al->owner)
			FUZZ_CHECK(al->type != VMS_TYPE_FREE && al->type != VMS_TYPE_PAGE_TABLE);
	}
	for (size_t i = 0; i < s->n_regions; i++)
		str_ok(s->regions[i].role);
	/* parts: inside their allocation, sorted and disjoint per allocation */
	for (size_t p = 0; p < s->n_parts; p++) {
		const struct vms_part *pt = &s->parts[p];
		FUZZ_CHECK(pt->allocation < s->n_allocations);
		const struct vms_allocation *al = &s->allocations[pt->allocation];
		FUZZ_CHECK(pt->start < pt->end && pt->start >= al->start && pt->end <= al->end);
		str_ok(pt->details);
		for (size_t q = p + 1; q < s->n_parts; q++)
			if (s->parts[q].allocation == pt->allocation) {
				FUZZ_CHECK(s->parts[q].start >= pt->end);
				break;
			}
	}
	/* threads: a stack row is a Stack allocation holding the stack pointer's region, else a note */
	for (size_t t = 0; t < s->n_threads; t++) {
		const struct vms_thread *th = &s->threads[t];
		if (th->stack_allocation < 0) {
			FUZZ_CHECK(th->stack_allocation == -1);
			FUZZ_CHECK(th->stack_note && str_ok(th->stack_note) > 0);
		} else {
			FUZZ_CHECK((size_t)th->stack_allocation < s->n_allocations);
			FUZZ_CHECK(s->allocations[th->stack_allocation].type == VMS_TYPE_STACK);
			FUZZ_CHECK(th->stack_note == NULL);
		}
	}
	FUZZ_CHECK(s->peek == (m_mem || m_tile ? 1 : 0));
	vms_snapshot_free(s);
	return 0;
}
