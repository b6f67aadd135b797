/* smaps / maps / smaps_rollup / status parsers: hand-written bounded scanners, no sscanf.
 * Format facts (fs/proc/task_mmu.c show_map_vma and __show_smap; proc_pid_smaps(5)): header
 * fields by position, the pathname is the rest of the line, only '\n' is escaped (as \012),
 * values in kB. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "pool.h"
#include "vmscope/parse.h"
#include "vmscope/util.h"

struct vms_smaps_parser {
	struct vms_snapshot *s;
	struct vms_region *regions;
	size_t n, cap;
	int have_current; /* key lines belong to regions[n-1] */
	int next_field;   /* the field the kernel's order predicts next */
	uint64_t mapped;  /* the sizes of the regions so far (at most VMS_MAX_MAPPED) */
};

static inline uint64_t load64(const char *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof v);
	return v;
}

/* Each field's kernel name, and "Name:" as two 8-byte words with their masks (bytes past the
 * colon 0: compared with a line's first 16 bytes in two loads by fast_key_line; mask[0] 0 for a
 * name too long for them). Built once. */
static struct key_name {
	const char *name;
	size_t len;
	uint64_t word[2], mask[2];
} key_names[VMS_SF_COUNT];
static pthread_once_t key_names_once = PTHREAD_ONCE_INIT;

static void build_key_names(void)
{
	for (int f = 0; f < VMS_SF_COUNT; f++) {
		struct key_name *k = &key_names[f];
		char word[16] = {0}, mask[16] = {0};
		k->name = vms_smaps_field_kernel_name((enum vms_smaps_field)f);
		k->len = vms_smaps_field_kernel_name_len((enum vms_smaps_field)f);
		if (k->len + 1 <= sizeof word) {
			memcpy(word, k->name, k->len);
			word[k->len] = ':';
			memset(mask, 0xff, k->len + 1);
		}
		k->word[0] = load64(word);
		k->word[1] = load64(word + 8);
		k->mask[0] = load64(mask);
		k->mask[1] = load64(mask + 8);
	}
}

struct vms_smaps_parser *vms_smaps_parser_new(struct vms_snapshot *s)
{
	struct vms_smaps_parser *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->s = s;
	pthread_once(&key_names_once, build_key_names);
	return p;
}

void vms_smaps_parser_abort(struct vms_smaps_parser *p)
{
	if (p)
		free(p->regions);
	free(p);
}

void vms_smaps_parser_expose(struct vms_smaps_parser *p)
{
	p->s->regions = p->regions;
	p->s->n_regions = p->n;
}

#define MAX_PAGE_SIZE (16ull << 30)

int vms_smaps_plausible(const uint64_t *v, int *field, char *why, size_t why_len)
{
	uint64_t size = v[VMS_SF_SIZE], rss = v[VMS_SF_RSS];
	static const int page_sizes[] = {VMS_SF_KERNEL_PAGE_SIZE, VMS_SF_MMU_PAGE_SIZE};
	for (size_t i = 0; i < sizeof page_sizes / sizeof page_sizes[0]; i++)
		if (v[page_sizes[i]] > MAX_PAGE_SIZE) {
			*field = page_sizes[i];
			snprintf(why, why_len, "%llu is not a page size (at most 16 GiB)",
			         (unsigned long long)v[page_sizes[i]]);
			return 0;
		}
	/* Every byte count from Rss on lies within the region, except the counters no column uses
	 * (kept exact as given, over the whole u64 range). */
	const uint64_t unchecked = 1ull << VMS_SF_REFERENCED | 1ull << VMS_SF_KSM | 1ull << VMS_SF_LAZY_FREE |
	                           1ull << VMS_SF_ANON_HUGE_PAGES | 1ull << VMS_SF_SHMEM_PMD_MAPPED |
	                           1ull << VMS_SF_FILE_PMD_MAPPED;
	for (int f = VMS_SF_RSS; f < VMS_SF_COUNT; f++)
		if (!(unchecked >> f & 1) && v[f] > size) {
			*field = f;
			snprintf(why, why_len, "%llu bytes in a region of %llu bytes",
			         (unsigned long long)v[f], (unsigned long long)size);
			return 0;
		}
	/* each term <= size here; a sum of four cannot wrap unless size >= 2^62 */
	uint64_t parts = v[VMS_SF_SHARED_CLEAN] + v[VMS_SF_SHARED_DIRTY] + v[VMS_SF_PRIVATE_CLEAN] +
	                 v[VMS_SF_PRIVATE_DIRTY];
	if (parts > rss || parts < v[VMS_SF_SHARED_CLEAN]) {
		*field = VMS_SF_RSS;
		snprintf(
		    why, why_len,
		    "%llu is less than shared_clean + shared_dirty + private_clean + private_dirty (%llu)",
		    (unsigned long long)rss, (unsigned long long)parts);
		return 0;
	}
	static const int within_rss[] = {VMS_SF_PSS, VMS_SF_ANONYMOUS};
	for (size_t i = 0; i < sizeof within_rss / sizeof within_rss[0]; i++)
		if (v[within_rss[i]] > rss) {
			*field = within_rss[i];
			snprintf(why, why_len, "%llu is more than rss (%llu)",
			         (unsigned long long)v[within_rss[i]], (unsigned long long)rss);
			return 0;
		}
	if (v[VMS_SF_SWAP_PSS] > v[VMS_SF_SWAP]) {
		*field = VMS_SF_SWAP_PSS;
		snprintf(why, why_len, "%llu is more than swap (%llu)",
		         (unsigned long long)v[VMS_SF_SWAP_PSS], (unsigned long long)v[VMS_SF_SWAP]);
		return 0;
	}
	return 1;
}

/* The region just read completely: counters no kernel would report (hostile or corrupt text:
 * a Size other than the header's range, or what vms_smaps_plausible refuses) are not believed. They are
 * zeroed, which every rule accepts, and the region counts as one malformed line, so that columns never wrap
 * and what vmscope writes it can read back. */
static void region_done(struct vms_smaps_parser *ps)
{
	if (!ps->n)
		return;
	struct vms_region *r = &ps->regions[ps->n - 1];
	int field;
	char why[8];
	uint64_t span = r->end - r->start; /* the kernel's Size is exactly this */
	if ((r->smaps[VMS_SF_SIZE] == 0 || r->smaps[VMS_SF_SIZE] == span) &&
	    vms_smaps_plausible(r->smaps, &field, why, sizeof why))
		return;
	uint64_t size = r->smaps[VMS_SF_SIZE] ? span : 0, kps = r->smaps[VMS_SF_KERNEL_PAGE_SIZE],
	         mps = r->smaps[VMS_SF_MMU_PAGE_SIZE];
	memset(r->smaps, 0, sizeof r->smaps);
	r->smaps[VMS_SF_SIZE] = size;
	r->smaps[VMS_SF_KERNEL_PAGE_SIZE] = kps <= MAX_PAGE_SIZE ? kps : 0;
	r->smaps[VMS_SF_MMU_PAGE_SIZE] = mps <= MAX_PAGE_SIZE ? mps : 0;
	ps->s->malformed_lines++;
}

int vms_smaps_parser_finish(struct vms_smaps_parser *p)
{
	region_done(p);
	struct vms_snapshot *s = p->s;
	int err = VMS_OK;
	if (p->regions && vms_pool_adopt(s->pool, p->regions) < 0) {
		err = VMS_ERR_NOMEM;
		p->regions = NULL;
		p->n = 0;
	}
	s->regions = p->regions;
	s->n_regions = p->n;
	free(p);
	return err;
}

/* Parse hex digits at *pp up to end; at least one digit, at most 16. */
static int scan_hex(const char **pp, const char *end, uint64_t *out)
{
	/* each byte's value + 1 as a hex digit (0: not one): one load a digit */
	static const unsigned char digit1[256] = {
	    ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,  ['6'] = 7,  ['7'] = 8,
	    ['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
	    ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
	};
	const char *p = *pp;
	uint64_t v = 0;
	int n = 0;
	unsigned d;
	while (p < end && (d = digit1[(unsigned char)*p]) != 0) {
		if (++n > 16)
			return -1;
		v = v << 4 | (d - 1);
		p++;
	}
	if (!n)
		return -1;
	*pp = p;
	*out = v;
	return 0;
}

static int scan_dec(const char **pp, const char *end, uint64_t *out)
{
	const char *p = *pp;
	uint64_t v = 0;
	int n = 0;
	while (p < end && *p >= '0' && *p <= '9') {
		unsigned d = (unsigned)(*p - '0');
		if (n >= 19 && v > (UINT64_MAX - d) / 10) /* 19 digits always fit */
			return -1;
		v = v * 10 + d;
		p++;
		n++;
	}
	if (!n)
		return -1;
	*pp = p;
	*out = v;
	return 0;
}

static int expect(const char **pp, const char *end, char c)
{
	if (*pp < end && **pp == c) {
		(*pp)++;
		return 0;
	}
	return -1;
}

/* Unescape \012 into '\n' (mangle_path escapes only the newline in maps). */
static const char *copy_path(struct vms_snapshot *s, const char *p, size_t n)
{
	if (!memmem(p, n, "\\012", 4))
		return vms_pool_strndup(s->pool, p, n);
	char *out = vms_pool_strndup(s->pool, p, n);
	if (!out)
		return NULL;
	size_t w = 0;
	for (size_t r = 0; r < n; r++) {
		if (p[r] == '\\' && r + 3 < n && p[r + 1] == '0' && p[r + 2] == '1' && p[r + 3] == '2') {
			out[w++] = '\n';
			r += 3;
		} else {
			out[w++] = p[r];
		}
	}
	out[w] = '\0';
	return out;
}

/* vms_maps_line_parse's body, inlined into the smaps parser's header (one call per region). */
static inline __attribute__((always_inline)) int maps_line(const char *p, const char *end,
                                                           struct vms_maps_line *out)
{
	uint64_t maj, min;
	memset(out, 0, sizeof *out);
	if (scan_hex(&p, end, &out->start) || expect(&p, end, '-') || scan_hex(&p, end, &out->end) ||
	    expect(&p, end, ' ') || end - p < 5)
		return -1;
	for (int i = 0; i < 4; i++) {
		static const char allowed[4][3] = {
		    {'r', '-', 0}, {'w', '-', 0}, {'x', '-', 0}, {'s', 'p', 0}};
		if (p[i] != allowed[i][0] && p[i] != allowed[i][1])
			return -1;
		out->perms[i] = p[i];
	}
	p += 4;
	if (expect(&p, end, ' ') || scan_hex(&p, end, &out->offset) || expect(&p, end, ' ') ||
	    scan_hex(&p, end, &maj) || expect(&p, end, ':') || scan_hex(&p, end, &min) ||
	    expect(&p, end, ' ') || scan_dec(&p, end, &out->inode))
		return -1;
	if (out->start >= out->end || maj > 0xfff || min > 0xfffff)
		return -1;
	out->dev_major = (unsigned)maj;
	out->dev_minor = (unsigned)min;
	if (p < end && *p != ' ')
		return -1;
	while (p < end && *p == ' ')
		p++;
	if (p < end) {
		size_t n = (size_t)(end - p);
		static const char del[] = " (deleted)";
		if (n > sizeof del - 1 && !memcmp(end - (sizeof del - 1), del, sizeof del - 1)) {
			out->deleted = 1;
			n -= sizeof del - 1;
		}
		out->path = p;
		out->path_len = n;
	}
	return 0;
}

int vms_maps_line_parse(const char *p, const char *end, struct vms_maps_line *out)
{
	return maps_line(p, end, out);
}

/* A maps header line. Returns 0, -1 malformed, -2 ENOMEM. */
static int parse_header(struct vms_smaps_parser *ps, const char *p, const char *end)
{
	struct vms_maps_line line;
	struct vms_region r;
	if (maps_line(p, end, &line))
		return -1;
	memset(&r, 0, sizeof r);
	r.thp_eligible = -1;
	r.protection_key = -1;
	r.vm_flags = "";
	r.start = line.start;
	r.end = line.end;
	memcpy(r.perms, line.perms, sizeof line.perms);
	r.offset = line.offset;
	r.dev_major = line.dev_major;
	r.dev_minor = line.dev_minor;
	r.inode = line.inode;
	r.deleted = line.deleted;
	if (line.path) {
		r.path = copy_path(ps->s, line.path, line.path_len);
		if (!r.path)
			return -2;
	}
	if (ps->n && r.start < ps->regions[ps->n - 1].end)
		return -1; /* addresses never go backwards in one read of smaps */
	if (r.end - r.start > VMS_MAX_MAPPED - ps->mapped)
		return -1; /* no kernel maps that much; an import would refuse it (found by fuzz_smaps) */
	ps->mapped += r.end - r.start;
	region_done(ps);
	if (VMS_GROW(ps->regions, ps->n, ps->cap, 256))
		return -2;
	ps->regions[ps->n++] = r;
	return 0;
}

/* "Key:   123 kB" -> field index and bytes. Returns field index, VMS_SF_COUNT+0 for THPeligible,
 * +1 ProtectionKey, +2 VmFlags, -1 unknown key (tolerated), -2 malformed. */
enum { KEY_THP = VMS_SF_COUNT, KEY_PKEY, KEY_VMFLAGS };

static int match_key(struct vms_smaps_parser *ps, const char *k, size_t n)
{
	int guess = ps->next_field;
	if (guess < VMS_SF_COUNT && key_names[guess].len == n && !memcmp(key_names[guess].name, k, n))
		return guess;
	/* the three lines that follow the counters in every region (the search below would read
	 * the whole table for each of them) */
	if (n == 11 && !memcmp(k, "THPeligible", 11))
		return KEY_THP;
	if (n == 13 && !memcmp(k, "ProtectionKey", 13))
		return KEY_PKEY;
	if (n == 7 && !memcmp(k, "VmFlags", 7))
		return KEY_VMFLAGS;
	for (int f = 0; f < VMS_SF_COUNT; f++)
		if (key_names[f].len == n && !memcmp(key_names[f].name, k, n))
			return f;
	return -1;
}

/* A "Key: value" line for the current region (or the rollup when r == NULL and into != NULL). */
static int parse_key_line(struct vms_smaps_parser *ps, struct vms_region *r, const char *p, const char *end)
{
	/* The kernel's order predicts the key (22 lines a region): checked in place, no search for
	 * the colon; then the spaces that pad values to a column, eight at a time. */
	const char *colon;
	int key = ps->next_field;
	size_t gl = key < VMS_SF_COUNT ? key_names[key].len : 0;
	if (gl && gl < (size_t)(end - p) && p[gl] == ':' && !memcmp(key_names[key].name, p, gl)) {
		colon = p + gl;
	} else {
		if (!(colon = memchr(p, ':', (size_t)(end - p))))
			return -2;
		key = match_key(ps, p, (size_t)(colon - p));
	}
	const char *v = colon + 1;
	while (end - v >= 8 && !memcmp(v, "        ", 8))
		v += 8;
	while (v < end && *v == ' ')
		v++;
	if (key == -1)
		return 0; /* unknown key: newer kernel */
	if (key == KEY_VMFLAGS) {
		const char *e = end;
		while (e > v && e[-1] == ' ')
			e--;
		r->vm_flags = vms_pool_strndup(ps->s->pool, v, (size_t)(e - v));
		if (!r->vm_flags)
			return -3;
		/* from the stored text (cut at a NUL), so that text and bits agree, as on import */
		r->vm_flag_bits = vms_vmflags_parse(r->vm_flags, strlen(r->vm_flags));
		return 0;
	}
	uint64_t num;
	if (scan_dec(&v, end, &num))
		return -2;
	if (key == KEY_THP || key == KEY_PKEY) {
		if (num > 0x7fffffff || (key == KEY_THP && num > 1))
			return -2; /* THPeligible is a boolean (and the importer accepts only 0/1) */
		if (key == KEY_THP)
			r->thp_eligible = (int)num;
		else
			r->protection_key = (int)num;
		return 0;
	}
	if (v + 3 <= end && !memcmp(v, " kB", 3)) {
		if (num > UINT64_MAX / 1024)
			return -2;
		num *= 1024;
	}
	r->smaps[key] = num;
	ps->next_field = key + 1;
	return 0;
}

/* The kernel's own form of the line the order predicts, "Name:", spaces, up to 18 digits and
 * " kB\n" (nearly every line of smaps), read in one pass without first searching for the
 * line's end. Returns the byte after the line, or NULL for any other line: parse_key_line then
 * reads it, with the same result for a line of this form. */
static const char *fast_key_line(struct vms_smaps_parser *ps, const char *p, const char *end)
{
	int f = ps->next_field;
	const struct key_name *k = &key_names[f < VMS_SF_COUNT ? f : 0];
	if (f >= VMS_SF_COUNT || end - p < 16 || !k->mask[0] || (load64(p) & k->mask[0]) != k->word[0] ||
	    (load64(p + 8) & k->mask[1]) != k->word[1])
		return NULL;
	const char *v = p + k->len + 1;
	/* the padding to the value's column, eight bytes at a time */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	while (end - v >= 8) {
		uint64_t x = load64(v) ^ 0x2020202020202020ull; /* 0 bytes: spaces */
		if (x) {
			v += __builtin_ctzll(x) / 8;
			break;
		}
		v += 8;
	}
#endif
	while (v < end && *v == ' ')
		v++;
	uint64_t num = 0;
	int digits = 0;
	while (v < end && *v >= '0' && *v <= '9') {
		if (++digits > 18)
			return NULL; /* the general path checks the overflow */
		num = num * 10 + (uint64_t)(*v++ - '0');
	}
	if (!digits || end - v < 4 || memcmp(v, " kB\n", 4) != 0 || num > UINT64_MAX / 1024)
		return NULL;
	ps->regions[ps->n - 1].smaps[f] = num * 1024;
	ps->next_field = f + 1;
	return v + 4;
}

size_t vms_smaps_parser_feed(struct vms_smaps_parser *ps, const char *buf, size_t len, int at_eof)
{
	const char *p = buf, *end = buf + len;
	while (p < end) {
		if (ps->have_current && *p >= 'A' && *p <= 'Z') {
			const char *next = fast_key_line(ps, p, end);
			if (next) {
				p = next;
				continue;
			}
		}
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		if (!nl && !at_eof)
			break;
		if (eol > p) {
			char c = *p;
			int rc;
			if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) {
				rc = parse_header(ps, p, eol);
				ps->have_current = rc == 0;
				ps->next_field = 0;
			} else if (c >= 'A' && c <= 'Z' && ps->have_current) {
				rc = parse_key_line(ps, &ps->regions[ps->n - 1], p, eol);
			} else {
				rc = -1;
				ps->have_current = 0; /* what follows garbage cannot be trusted to a region */
			}
			if (rc < 0)
				ps->s->malformed_lines++;
		}
		p = nl ? nl + 1 : end;
	}
	return (size_t)(p - buf);
}

int vms_smaps_parse(struct vms_snapshot *s, const char *buf, size_t len)
{
	struct vms_smaps_parser *p = vms_smaps_parser_new(s);
	if (!p)
		return VMS_ERR_NOMEM;
	vms_smaps_parser_feed(p, buf, len, 1);
	return vms_smaps_parser_finish(p);
}

void vms_rollup_parse(struct vms_snapshot *s, const char *buf, size_t len)
{
	struct vms_smaps_parser ps = {.s = s};
	pthread_once(&key_names_once, build_key_names);
	struct vms_region r;
	memset(&r, 0, sizeof r);
	const char *p = buf, *end = buf + len;
	int seen = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		if (eol > p && *p >= 'A' && *p <= 'Z') {
			if (parse_key_line(&ps, &r, p, eol) < 0)
				s->malformed_lines++;
			else
				seen = 1;
		}
		p = nl ? nl + 1 : end;
	}
	memcpy(s->rollup, r.smaps, sizeof s->rollup);
	s->has_rollup = seen;
}

struct status_parse {
	struct vms_status *st;
	int *kthread;
	char *state;
};

static void status_line(void *cookie, const char *p, size_t kn, const char *v, const char *eol)
{
	struct status_parse *sp = cookie;
	uint64_t num = 0;
	if (kn == 5 && !memcmp(p, "State", 5)) {
		if (sp->state && v < eol)
			*sp->state = *v;
	} else if (kn == 7 && !memcmp(p, "Threads", 7)) {
		if (!scan_dec(&v, eol, &num))
			sp->st->threads = (int)num;
	} else if (kn == 7 && !memcmp(p, "Kthread", 7)) {
		if (sp->kthread && !scan_dec(&v, eol, &num))
			*sp->kthread = num != 0;
	} else {
		for (size_t i = 0; i < VMS_STATUS_NFIELDS; i++) {
			const struct vms_status_field *sf = &vms_status_fields[i];
			if (strlen(sf->kernel) == kn && !memcmp(p, sf->kernel, kn)) {
				if (!scan_dec(&v, eol, &num) && num <= UINT64_MAX / 1024)
					*(uint64_t *)((char *)sp->st + sf->offset) = num * 1024;
				break;
			}
		}
	}
}

void vms_status_parse(const char *buf, size_t len, struct vms_status *st, int *kthread, char *state)
{
	struct status_parse sp = {st, kthread, state};
	memset(st, 0, sizeof *st);
	if (kthread)
		*kthread = 0;
	vms_each_key_line(buf, len, status_line, &sp);
}
