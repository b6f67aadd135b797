/* Human-readable reports (like VMMap's summary + details views, or pmap -x): a snapshot report
 * and a diff report. Sizes are KiB. Every string that comes from the target process or an
 * imported file (names, command line, paths, details, host, kernel) goes through
 * vms_sb_put_escaped(), so a file named "a\nFAKE LINE" or one holding terminal escapes cannot
 * forge report lines or drive the terminal the report is printed on.
 *
 * Tables are built in memory first so that every column can be sized to its widest cell; only
 * the last column (Details) is left unpadded, and it is the only one that may hold non-ASCII. */
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "textutil.h"
#include "vmscope/export.h"
#include "vmscope/util.h"

#ifndef VMSCOPE_VERSION
#define VMSCOPE_VERSION "0.0.0"
#endif

/* ---- a small aligned table ---------------------------------------------------------- */

struct tcol {
	const char *head;
	int right; /* right-aligned (numbers) */
};

struct table {
	const struct tcol *cols;
	size_t ncols;
	char **cells; /* nrows * ncols, malloc'd strings, NULL = empty */
	size_t nrows, cap;
	int oom;
	int human; /* t_kib writes human units (vms_text_opts.human) */
};

static void t_row(struct table *t)
{
	if (t->oom)
		return;
	if (vms_grow(&t->cells, t->nrows, &t->cap, t->ncols * sizeof(char *), 32)) { /* an item a row */
		t->oom = 1;
		return;
	}
	memset(&t->cells[t->nrows * t->ncols], 0, t->ncols * sizeof(char *));
	t->nrows++;
}

/* Set a cell of the last row, taking ownership of the malloc'd string s (NULL = ENOMEM). */
static void t_take(struct table *t, size_t col, char *s)
{
	if (t->oom || !t->nrows || col >= t->ncols) {
		free(s);
		return;
	}
	if (!s) {
		t->oom = 1;
		return;
	}
	char **cell = &t->cells[(t->nrows - 1) * t->ncols + col];
	free(*cell);
	*cell = s;
}

static void t_set(struct table *t, size_t col, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void t_set(struct table *t, size_t col, const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	t_take(t, col, s);
}

/* Escaped copy of text (NULL = empty) followed by the plain suffix (may be NULL). */
static void t_set_escaped(struct table *t, size_t col, const char *text, const char *suffix)
{
	struct vms_sb sb = {0};
	char *s;
	vms_sb_put_escaped(&sb, text);
	vms_sb_puts(&sb, suffix);
	if (vms_sb_finish(&sb, &s, NULL) != VMS_OK)
		s = NULL;
	t_take(t, col, s);
}

static void t_render(const struct table *t, struct vms_sb *sb)
{
	size_t width[16] = {0};
	if (t->ncols > 16)
		return;
	for (size_t c = 0; c < t->ncols; c++) {
		width[c] = strlen(t->cols[c].head);
		for (size_t r = 0; r < t->nrows; r++) {
			const char *s = t->cells[r * t->ncols + c];
			if (s && strlen(s) > width[c])
				width[c] = strlen(s);
		}
	}
	for (size_t r = 0; r <= t->nrows; r++) {
		/* r == 0 is the header line */
		size_t last = 0;
		for (size_t c = 0; c < t->ncols; c++) {
			const char *s = r ? t->cells[(r - 1) * t->ncols + c] : t->cols[c].head;
			if (s && *s)
				last = c + 1;
		}
		for (size_t c = 0; c < last; c++) {
			const char *s = r ? t->cells[(r - 1) * t->ncols + c] : t->cols[c].head;
			size_t n = s ? strlen(s) : 0;
			if (c)
				vms_sb_puts(sb, "  ");
			if (t->cols[c].right)
				vms_sb_pad(sb, ' ', width[c] - n);
			vms_sb_putn(sb, s ? s : "", n);
			if (!t->cols[c].right && c + 1 < last)
				vms_sb_pad(sb, ' ', width[c] - n);
		}
		vms_sb_putc(sb, '\n');
	}
}

static void t_free(struct table *t)
{
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->nrows = t->cap = 0;
}

/* ---- number formatting -------------------------------------------------------------- */

static uint64_t kib(uint64_t bytes)
{
	return bytes / 1024 + (bytes % 1024 >= 512);
}

/* Bytes in human units, as the dashboard writes them: "4 KiB", "12.5 MiB", "128 TiB". */
static void t_human(struct table *t, size_t col, uint64_t bytes)
{
	char buf[32];
	vms_fmt_human(bytes, buf, sizeof buf);
	t_set(t, col, "%s", buf);
}

/* A size cell: KiB, or human units when the table asks for them. */
static void t_kib(struct table *t, size_t col, uint64_t bytes)
{
	if (t->human)
		t_human(t, col, bytes);
	else
		t_set(t, col, "%" PRIu64, kib(bytes));
}

/* Signed KiB with an explicit sign; 0 stays "0". */
static void t_delta_kib(struct table *t, size_t col, int64_t bytes)
{
	uint64_t mag = bytes < 0 ? (uint64_t)0 - (uint64_t)bytes : (uint64_t)bytes;
	uint64_t k = kib(mag);
	if (!k)
		t_set(t, col, "0");
	else
		t_set(t, col, "%c%" PRIu64, bytes < 0 ? '-' : '+', k);
}

static void t_delta_count(struct table *t, size_t col, int64_t n)
{
	if (!n)
		t_set(t, col, "0");
	else
		t_set(t, col, "%+" PRId64, n);
}

/* Same rule as the CSV: one perms string, or the distinct ones joined by '/'. */

/* ---- snapshot report ---------------------------------------------------------------- */

static void kv(struct vms_sb *sb, const char *label, const char *value)
{
	vms_sb_printf(sb, "%-14s", label);
	vms_sb_put_escaped(sb, value && *value ? value : "-");
	vms_sb_putc(sb, '\n');
}

/* When s was taken, ISO 8601; "unknown" for 0 (a snapshot made from a bare smaps file). */
static void taken_text(const struct vms_snapshot *s, char *buf, size_t len)
{
	if (!vms_format_taken_ms(s->taken_at_ms, buf, len))
		snprintf(buf, len, "unknown");
}
static void put_header(struct vms_sb *sb, const struct vms_snapshot *s)
{
	char buf[64];

	vms_sb_printf(sb, "vmscope " VMSCOPE_VERSION " memory map of process %d (", (int)s->pid);
	vms_sb_put_escaped(sb, s->name);
	vms_sb_puts(sb, ")\n\n");
	snprintf(buf, sizeof buf, "%d", (int)s->pid);
	kv(sb, "Process:", s->name);
	kv(sb, "PID:", buf);
	snprintf(buf, sizeof buf, "%d", (int)s->ppid);
	kv(sb, "Parent PID:", buf);
	kv(sb, "Command line:", s->cmdline);
	vms_sb_printf(sb, "%-14s", "User:");
	vms_sb_put_escaped(sb, s->user && *s->user ? s->user : "-");
	if (s->uid == (uid_t)-1) /* unknown: a snapshot made from a bare smaps file */
		vms_sb_printf(sb, "\n");
	else
		vms_sb_printf(sb, " (uid %u)\n", (unsigned)s->uid);
	vms_sb_printf(sb, "%-14s", "Architecture:");
	vms_sb_put_escaped(sb, s->arch.machine ? s->arch.machine : "unknown");
	if (s->arch.bits)
		vms_sb_printf(sb, " (%d-bit)", s->arch.bits);
	vms_sb_putc(sb, '\n');
	kv(sb, "Host:", s->host);
	kv(sb, "Kernel:", s->kernel);
	taken_text(s, buf, sizeof buf);
	kv(sb, "Taken at:", buf);
	vms_sb_printf(sb, "%-14s%d\n", "Threads:", s->status.threads ? s->status.threads : (int)s->n_threads);
	if (s->thread_note)
		kv(sb, "Thread note:", s->thread_note);
	if (s->malformed_lines)
		vms_sb_printf(sb, "%-14s%u /proc lines could not be parsed and were skipped\n",
		              "Warning:", s->malformed_lines);
	vms_sb_putc(sb, '\n');
}

static const struct tcol summary_cols[] = {
    {"Type", 0},       {"Size", 1},         {"Committed", 1}, {"Private", 1},   {"Total WS", 1},
    {"Private WS", 1}, {"Shareable WS", 1}, {"Shared WS", 1}, {"Locked WS", 1}, {"Pss", 1},
    {"Uss", 1},        {"Swap", 1},         {"Blocks", 1},    {"Largest", 1},
};
static const enum vms_col summary_col_ids[] = {
    VMS_COL_SIZE,       VMS_COL_COMMITTED,    VMS_COL_PRIVATE,   VMS_COL_TOTAL_WS,
    VMS_COL_PRIVATE_WS, VMS_COL_SHAREABLE_WS, VMS_COL_SHARED_WS, VMS_COL_LOCKED_WS,
    VMS_COL_PSS,        VMS_COL_USS,          VMS_COL_SWAP,
};
#define N_SUM_COLS (sizeof summary_col_ids / sizeof summary_col_ids[0])

static int put_summary(struct vms_sb *sb, const struct vms_snapshot *s, int human)
{
	struct table t = {summary_cols, sizeof summary_cols / sizeof summary_cols[0], NULL, 0, 0, 0, human};
	char relation[320];
	uint64_t blocks = 0, largest = 0;

	for (int ty = 0; ty < VMS_TYPE_COUNT; ty++) {
		const struct vms_type_summary *ts = &s->summary[ty];
		t_row(&t);
		t_set(&t, 0, "%s", vms_type_name((enum vms_type)ty));
		if (ty == VMS_TYPE_FREE) {
			/* Free: total free bytes, number of gaps and the largest one; nothing else applies.
			 * Address space runs to 128 TiB: human units, not a 12-digit KiB number. */
			t_human(&t, 1, ts->cols[VMS_COL_SIZE]);
		} else {
			for (size_t c = 0; c < N_SUM_COLS; c++)
				t_kib(&t, 1 + c, ts->cols[summary_col_ids[c]]);
			blocks += ts->blocks;
			if (ts->largest > largest)
				largest = ts->largest;
		}
		t_set(&t, 1 + N_SUM_COLS, "%" PRIu64, ts->blocks);
		if (ty == VMS_TYPE_FREE)
			t_human(&t, 2 + N_SUM_COLS, ts->largest);
		else
			t_kib(&t, 2 + N_SUM_COLS, ts->largest);
	}
	t_row(&t);
	t_set(&t, 0, "Total");
	for (size_t c = 0; c < N_SUM_COLS; c++)
		t_kib(&t, 1 + c, s->total[summary_col_ids[c]]);
	t_set(&t, 1 + N_SUM_COLS, "%" PRIu64, blocks);
	t_kib(&t, 2 + N_SUM_COLS, largest);

	vms_sb_puts(sb, human ? "Summary (Blocks = free gaps, Largest = largest free block)\n"
	                      : "Summary (KiB; Free in human units: Blocks = free gaps, Largest = "
	                        "largest free block)\n");
	t_render(&t, sb);
	/* Total WS counts the page tables, ps RSS does not: say so where the number is shown */
	vms_ws_relation(s, human, relation, sizeof relation);
	vms_sb_printf(sb, "%s.\n\n", relation);
	int oom = t.oom;
	t_free(&t);
	return oom ? -1 : 0;
}

/* Dirty beside Total WS, as pmap -x shows it beside RSS. */
static const struct tcol detail_cols[] = {
    {"Address", 0},  {"Type", 0},  {"Size", 1},       {"Committed", 1}, {"Private", 1},
    {"Total WS", 1}, {"Dirty", 1}, {"Protection", 0}, {"Details", 0},
};
#define DCOL_PROT 7
#define DCOL_DETAILS 8

static void detail_numbers(struct table *t, const uint64_t *cols)
{
	t_kib(t, 2, cols[VMS_COL_SIZE]);
	t_kib(t, 3, cols[VMS_COL_COMMITTED]);
	t_kib(t, 4, cols[VMS_COL_PRIVATE]);
	t_kib(t, 5, cols[VMS_COL_TOTAL_WS]);
	t_kib(t, 6, cols[VMS_COL_DIRTY]);
}

/* Details of a region row: role, then its path when it differs from the allocation's. */
static void region_details(struct table *t, const struct vms_region *r, const struct vms_allocation *a)
{
	int own_path = r->path && (!a->details || strcmp(r->path, a->details) != 0);
	if (r->role && own_path) {
		struct vms_sb sb = {0};
		char *s;
		vms_sb_put_escaped(&sb, r->role); /* it may come from an imported file */
		vms_sb_puts(&sb, ": ");
		vms_sb_put_escaped(&sb, r->path);
		if (r->deleted)
			vms_sb_puts(&sb, " (deleted)");
		if (vms_sb_finish(&sb, &s, NULL) != VMS_OK)
			s = NULL;
		t_take(t, DCOL_DETAILS, s);
		return;
	}
	if (r->role)
		t_set_escaped(t, DCOL_DETAILS, r->role, NULL);
	else if (own_path)
		t_set_escaped(t, DCOL_DETAILS, r->path, r->deleted ? " (deleted)" : NULL);
}

static int put_allocations(struct vms_sb *sb, const struct vms_snapshot *s, int human)
{
	struct table t = {detail_cols, sizeof detail_cols / sizeof detail_cols[0], NULL, 0, 0, 0, human};
	char prot[64];

	for (size_t i = 0; i < s->n_allocations && !t.oom; i++) {
		const struct vms_allocation *a = &s->allocations[i];
		t_row(&t);
		t_set(&t, 0, "0x%" PRIx64, a->start);
		t_set(&t, 1, "%s", vms_type_name(a->type));
		detail_numbers(&t, a->cols);
		vms_alloc_protection(s, a, prot, sizeof prot);
		t_set(&t, DCOL_PROT, "%s", prot);
		t_set_escaped(&t, DCOL_DETAILS, a->details, NULL);
		if (a->n_regions < 2)
			continue;
		for (uint32_t k = 0; k < a->n_regions && (size_t)a->first_region + k < s->n_regions; k++) {
			const struct vms_region *r = &s->regions[a->first_region + k];
			t_row(&t);
			t_set(&t, 0, "  0x%" PRIx64, r->start);
			t_set(&t, 1, "%s", vms_type_name(r->type));
			detail_numbers(&t, r->cols);
			t_set(&t, DCOL_PROT, "%.4s", r->perms);
			region_details(&t, r, a);
		}
	}
	vms_sb_printf(sb, "Allocations (%zu, %zu regions; %sregions of an allocation indented)\n",
	              s->n_allocations, s->n_regions, human ? "" : "KiB; ");
	t_render(&t, sb);
	int oom = t.oom;
	t_free(&t);
	return oom ? -1 : 0;
}

static const struct tcol thread_cols[] = {
    {"TID", 1},
    {"Stack pointer", 0},
    {"Stack", 0},
    {"Name", 0},
};

static int put_threads(struct vms_sb *sb, const struct vms_snapshot *s)
{
	struct table t = {thread_cols, sizeof thread_cols / sizeof thread_cols[0], NULL, 0, 0, 0, 0};
	if (!s->n_threads)
		return 0;
	for (size_t i = 0; i < s->n_threads; i++) {
		const struct vms_thread *th = &s->threads[i];
		t_row(&t);
		t_set(&t, 0, "%d", th->tid);
		if (th->sp)
			t_set(&t, 1, "0x%" PRIx64, th->sp);
		else
			t_set(&t, 1, "unknown");
		if (th->stack_allocation >= 0 && (size_t)th->stack_allocation < s->n_allocations)
			t_set(&t, 2, "0x%" PRIx64, s->allocations[th->stack_allocation].start);
		else
			t_set(&t, 2, "-");
		t_set_escaped(&t, 3, th->name, NULL);
	}
	vms_sb_puts(sb, "\nThreads\n");
	t_render(&t, sb);
	int oom = t.oom;
	t_free(&t);
	/* why a thread has no stack (the attribution stage's note): one line each, after the table */
	for (size_t i = 0; i < s->n_threads; i++) {
		const struct vms_thread *th = &s->threads[i];
		if (th->stack_allocation < 0 && th->stack_note) {
			vms_sb_printf(sb, "Thread %d: ", th->tid);
			vms_sb_put_escaped(sb, th->stack_note);
			vms_sb_putc(sb, '\n');
		}
	}
	return oom || sb->oom ? -1 : 0;
}

int vms_export_text_with(const struct vms_snapshot *s, const struct vms_text_opts *o, char **out, size_t *len)
{
	struct vms_sb sb = {0};
	int human = o && o->human;

	put_header(&sb, s);
	if (put_summary(&sb, s, human) < 0 || put_allocations(&sb, s, human) < 0 || put_threads(&sb, s) < 0)
		sb.oom = 1;
	return vms_sb_finish(&sb, out, len);
}

int vms_export_text(const struct vms_snapshot *s, char **out, size_t *len)
{
	return vms_export_text_with(s, NULL, out, len);
}

/* ---- diff report -------------------------------------------------------------------- */

static void side_line(struct vms_sb *sb, const char *label, const struct vms_snapshot *s)
{
	char when[40];
	taken_text(s, when, sizeof when);
	vms_sb_printf(sb, "%-6s%s  process %d (", label, when, (int)s->pid);
	vms_sb_put_escaped(sb, s->name);
	vms_sb_puts(sb, ")\n");
}

static const struct tcol dsum_cols[] = {
    {"Type", 0},       {"Size", 1},         {"Committed", 1}, {"Private", 1},   {"Total WS", 1},
    {"Private WS", 1}, {"Shareable WS", 1}, {"Shared WS", 1}, {"Locked WS", 1}, {"Pss", 1},
    {"Uss", 1},        {"Swap", 1},         {"Blocks", 1},
};

static int row_has_change(const int64_t *d, int64_t blocks)
{
	if (blocks)
		return 1;
	for (int c = 0; c < VMS_COL_COUNT; c++)
		if (d[c])
			return 1;
	return 0;
}

static int put_diff_summary(struct vms_sb *sb, const struct vms_diff *d)
{
	struct table t = {dsum_cols, sizeof dsum_cols / sizeof dsum_cols[0], NULL, 0, 0, 0, 0};
	int64_t blocks = 0;

	for (int ty = 0; ty < VMS_TYPE_COUNT; ty++) {
		if (ty != VMS_TYPE_FREE)
			blocks += d->type_blocks_delta[ty];
		if (!row_has_change(d->type_delta[ty], d->type_blocks_delta[ty]))
			continue;
		t_row(&t);
		t_set(&t, 0, "%s", vms_type_name((enum vms_type)ty));
		for (size_t c = 0; c < N_SUM_COLS; c++)
			t_delta_kib(&t, 1 + c, d->type_delta[ty][summary_col_ids[c]]);
		t_delta_count(&t, 1 + N_SUM_COLS, d->type_blocks_delta[ty]);
	}
	t_row(&t);
	t_set(&t, 0, "Total");
	for (size_t c = 0; c < N_SUM_COLS; c++)
		t_delta_kib(&t, 1 + c, d->total_delta[summary_col_ids[c]]);
	t_delta_count(&t, 1 + N_SUM_COLS, blocks);

	vms_sb_puts(sb, "Change by type (KiB; types without change left out)\n");
	t_render(&t, sb);
	int oom = t.oom;
	t_free(&t);
	return oom ? -1 : 0;
}

static void t_changes(struct table *t, size_t col, unsigned changes)
{
	struct vms_sb sb = {0};
	char *s;
	for (unsigned bit = 1; bit <= VMS_CHANGE_USAGE; bit <<= 1) {
		if (!(changes & bit))
			continue;
		if (sb.len)
			vms_sb_putc(&sb, ',');
		vms_sb_puts(&sb, vms_change_key((enum vms_change)bit));
	}
	if (vms_sb_finish(&sb, &s, NULL) != VMS_OK)
		s = NULL;
	t_take(t, col, s);
}

static const struct tcol dalloc_cols[] = {
    {"Change", 0},     {"Address", 0},  {"Type", 0},      {"Size", 1},    {"dSize", 1},
    {"dCommitted", 1}, {"dPrivate", 1}, {"dTotal WS", 1}, {"Details", 0},
};

static void delta_numbers(struct table *t, size_t first, const int64_t *delta)
{
	t_delta_kib(t, first, delta[VMS_COL_SIZE]);
	t_delta_kib(t, first + 1, delta[VMS_COL_COMMITTED]);
	t_delta_kib(t, first + 2, delta[VMS_COL_PRIVATE]);
	t_delta_kib(t, first + 3, delta[VMS_COL_TOTAL_WS]);
}

/* Cells 2 and 8 of a changed allocation's row: its type and details, "a -> b" where they
 * changed. f and to are the two sides (either may be NULL), cur the newer one present. */
static void alloc_cells(struct table *t, const void *fv, const void *tov, const void *curv)
{
	const struct vms_allocation *f = fv, *to = tov, *cur = curv;
	if (f && to && f->type != to->type)
		t_set(t, 2, "%s -> %s", vms_type_name(f->type), vms_type_name(to->type));
	else
		t_set(t, 2, "%s", vms_type_name(cur->type));
	if (f && to && (f->details || to->details) &&
	    (!f->details || !to->details || strcmp(f->details, to->details) != 0)) {
		struct vms_sb s2 = {0};
		char *s;
		vms_sb_put_escaped(&s2, f->details ? f->details : "-");
		vms_sb_puts(&s2, " -> ");
		vms_sb_put_escaped(&s2, to->details ? to->details : "-");
		if (vms_sb_finish(&s2, &s, NULL) != VMS_OK)
			s = NULL;
		t_take(t, 8, s);
	} else {
		t_set_escaped(t, 8, cur->details, NULL);
	}
}

/* Cells 2 and 8 of a changed region's row: its protection ("a -> b" where it changed) and path. */
static void region_cells(struct table *t, const void *fv, const void *tov, const void *curv)
{
	const struct vms_region *f = fv, *to = tov, *cur = curv;
	if (f && to && memcmp(f->perms, to->perms, 4) != 0)
		t_set(t, 2, "%.4s -> %.4s", f->perms, to->perms);
	else
		t_set(t, 2, "%.4s", cur->perms);
	t_set_escaped(t, 8, cur->path, cur->deleted ? " (deleted)" : NULL);
}

static const struct tcol dreg_cols[] = {
    {"Change", 0},     {"Address", 0},  {"Protection", 0}, {"Size", 1}, {"dSize", 1},
    {"dCommitted", 1}, {"dPrivate", 1}, {"dTotal WS", 1},  {"Path", 0},
};

/* What the allocation and region tables of a diff differ in. Both item structs hold
 * uint64_t start, end at the same offsets (asserted below). */
struct diff_table {
	const char *title, *note; /* "\nTITLE: N changedNOTE\n" */
	const struct tcol *cols;
	size_t ncols, item_size;
	void (*cells)(struct table *t, const void *f, const void *to, const void *cur);
};
_Static_assert(offsetof(struct vms_allocation, start) == offsetof(struct vms_region, start) &&
                   offsetof(struct vms_allocation, end) == offsetof(struct vms_region, end),
               "put_diff_table reads start and end at the same offsets in both");
static const struct diff_table dalloc = {"Allocations",
                                         " (Size of the newer one; d = change, KiB)",
                                         dalloc_cols,
                                         sizeof dalloc_cols / sizeof dalloc_cols[0],
                                         sizeof(struct vms_allocation),
                                         alloc_cells};
static const struct diff_table dreg = {
    "Regions",   "", dreg_cols, sizeof dreg_cols / sizeof dreg_cols[0], sizeof(struct vms_region),
    region_cells};

/* Item idx of an array of n items of size bytes, or NULL when idx is not an index below n (the
 * side of a diff entry that does not exist). */
static const void *item_at(const void *arr, size_t n, size_t size, long idx)
{
	return idx >= 0 && (size_t)idx < n ? (const char *)arr + (size_t)idx * size : NULL;
}

/* The table of the n entries e, whose sides index from (n_from items) and to (n_to items):
 * per row the columns both kinds share (0 change, 1 address of the newer side, 3 its size,
 * 4-7 deltas) and dt->cells for 2 and 8. Returns 0, or -1 on ENOMEM. */
static int put_diff_table(struct vms_sb *sb, const struct diff_table *dt, const struct vms_diff_entry *e,
                          size_t n, const void *from, size_t n_from, const void *to, size_t n_to)
{
	struct table t = {dt->cols, dt->ncols, NULL, 0, 0, 0, 0};

	for (size_t i = 0; i < n && !t.oom; i++) {
		const void *f = item_at(from, n_from, dt->item_size, e[i].from);
		const void *tt = item_at(to, n_to, dt->item_size, e[i].to);
		const void *cur = tt ? tt : f;
		if (!cur)
			continue;
		uint64_t start, end; /* at the same place in both item structs (asserted above) */
		memcpy(&start, (const char *)cur + offsetof(struct vms_region, start), sizeof start);
		memcpy(&end, (const char *)cur + offsetof(struct vms_region, end), sizeof end);
		t_row(&t);
		t_changes(&t, 0, e[i].changes);
		t_set(&t, 1, "0x%" PRIx64, start);
		t_kib(&t, 3, end - start);
		delta_numbers(&t, 4, e[i].delta);
		dt->cells(&t, f, tt, cur);
	}
	vms_sb_printf(sb, "\n%s: %zu changed%s\n", dt->title, n, dt->note);
	if (n)
		t_render(&t, sb);
	int oom = t.oom;
	t_free(&t);
	return oom ? -1 : 0;
}

int vms_export_diff_text(const struct vms_diff *d, char **out, size_t *len)
{
	struct vms_sb sb = {0};

	vms_sb_puts(&sb, "vmscope " VMSCOPE_VERSION " changes between two snapshots\n\n");
	side_line(&sb, "From:", d->from);
	side_line(&sb, "To:", d->to);
	if (d->from->pid != d->to->pid || d->from->start_time != d->to->start_time)
		vms_sb_puts(&sb,
		            "Note: the snapshots are of different processes (pid or start time differ)\n");
	vms_sb_putc(&sb, '\n');
	if (put_diff_summary(&sb, d) < 0 ||
	    put_diff_table(&sb, &dalloc, d->allocations, d->n_allocations, d->from->allocations,
	                   d->from->n_allocations, d->to->allocations, d->to->n_allocations) < 0 ||
	    put_diff_table(&sb, &dreg, d->regions, d->n_regions, d->from->regions, d->from->n_regions,
	                   d->to->regions, d->to->n_regions) < 0)
		sb.oom = 1;
	return vms_sb_finish(&sb, out, len);
}
