/* CSV export laid out like Sysinternals VMMap's own CSV export:
 *
 *   "Process:","bash"            header rows (also PID, Host, Kernel, Taken at, Architecture,
 *                                and Total WS: its relation to ps RSS, vms_ws_relation)
 *   (blank line)
 *   "Type","Size",...,"Largest"  summary: Total first (as VMMap does), then each type, Free last
 *   (blank line)
 *   "Address","Type",...         details: one row per allocation, then its regions as sub-block
 *                                rows whose Address cell is indented by two spaces (only when the
 *                                allocation has more than one region)
 *
 * Every field is quoted and embedded quotes are doubled (RFC 4180); records end with CRLF;
 * names keep their newlines inside the quotes. Numbers are KiB as plain integers (no thousands
 * separators, 0 written as 0). A name, path or details cell that starts with = + - @ TAB or CR
 * gets a leading apostrophe so that a spreadsheet shows it instead of evaluating it as a
 * formula (a process may name itself "=HYPERLINK(...)"). Addresses are "0x..." so spreadsheets
 * keep them as text. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "strbuf.h"
#include "textutil.h"
#include "vmscope/export.h"

/* Columns of the summary and details blocks (the details block has no Largest). */
static const enum vms_col csv_cols[] = {
    VMS_COL_SIZE,       VMS_COL_COMMITTED,    VMS_COL_PRIVATE,   VMS_COL_TOTAL_WS,
    VMS_COL_PRIVATE_WS, VMS_COL_SHAREABLE_WS, VMS_COL_SHARED_WS, VMS_COL_LOCKED_WS,
    VMS_COL_PSS,        VMS_COL_USS,          VMS_COL_SWAP,
};
#define N_CSV_COLS (sizeof csv_cols / sizeof csv_cols[0])

#define CRLF "\r\n"

static void quoted_body(struct vms_sb *sb, const char *s)
{
	for (const char *p = s; *p; p++) {
		if (*p == '"')
			vms_sb_putc(sb, '"');
		vms_sb_putc(sb, *p);
	}
}

/* One quoted cell holding s (NULL = empty) followed by suffix (may be NULL); sep: write a
 * comma first. guard: s is untrusted text (a name, path or details), so prefix an apostrophe
 * when it starts like a spreadsheet formula. Our own cells (labels, perms such as "---p",
 * addresses, numbers) are written as they are. */
static void cell_any(struct vms_sb *sb, int sep, const char *s, const char *suffix, int guard)
{
	if (sep)
		vms_sb_putc(sb, ',');
	vms_sb_putc(sb, '"');
	if (s) {
		if (guard && (*s == '=' || *s == '+' || *s == '-' || *s == '@' || *s == '\t' || *s == '\r'))
			vms_sb_putc(sb, '\'');
		quoted_body(sb, s);
	}
	if (suffix)
		quoted_body(sb, suffix);
	vms_sb_putc(sb, '"');
}

static void cell(struct vms_sb *sb, int sep, const char *s)
{
	cell_any(sb, sep, s, NULL, 0);
}

static void cell_text(struct vms_sb *sb, int sep, const char *s)
{
	cell_any(sb, sep, s, NULL, 1);
}

/* A numeric cell: never needs escaping or formula protection. */
static void cell_kib(struct vms_sb *sb, uint64_t bytes)
{
	vms_sb_printf(sb, ",\"%" PRIu64 "\"", (bytes + 512) / 1024);
}

static void cell_u64(struct vms_sb *sb, uint64_t v)
{
	vms_sb_printf(sb, ",\"%" PRIu64 "\"", v);
}

static void header_row(struct vms_sb *sb, const char *label, const char *value)
{
	cell(sb, 0, label);
	cell_text(sb, 1, value);
	vms_sb_puts(sb, CRLF);
}

static void put_header(struct vms_sb *sb, const struct vms_snapshot *s)
{
	char buf[64];

	header_row(sb, "Process:", s->name);
	snprintf(buf, sizeof buf, "%d", (int)s->pid);
	header_row(sb, "PID:", buf);
	header_row(sb, "Host:", s->host);
	header_row(sb, "Kernel:", s->kernel);
	const char *taken = vms_format_taken_ms(s->taken_at_ms, buf, sizeof buf);
	header_row(sb, "Taken at:", taken ? taken : "unknown");
	if (s->arch.bits)
		snprintf(buf, sizeof buf, "%s (%d-bit)", s->arch.machine ? s->arch.machine : "unknown",
		         s->arch.bits);
	else
		snprintf(buf, sizeof buf, "%s", s->arch.machine ? s->arch.machine : "unknown");
	header_row(sb, "Architecture:", buf);
	/* Total WS counts the page tables, ps RSS does not: the sentence without its "Total WS " */
	char relation[320];
	vms_ws_relation(s, 0, relation, sizeof relation);
	header_row(sb, "Total WS:", relation + strlen("Total WS "));
	vms_sb_puts(sb, CRLF);
}

static void put_summary(struct vms_sb *sb, const struct vms_snapshot *s)
{
	cell(sb, 0, "Type");
	for (size_t i = 0; i < N_CSV_COLS; i++)
		cell(sb, 1, vms_col_name(csv_cols[i]));
	cell(sb, 1, "Blocks");
	cell(sb, 1, "Largest");
	vms_sb_puts(sb, CRLF);

	/* Total: all types except Free; Blocks = all blocks, Largest = largest non-free block. */
	uint64_t blocks = 0, largest = 0;
	for (int t = 0; t < VMS_TYPE_COUNT; t++) {
		if (t == VMS_TYPE_FREE)
			continue;
		blocks += s->summary[t].blocks;
		if (s->summary[t].largest > largest)
			largest = s->summary[t].largest;
	}
	cell(sb, 0, "Total");
	for (size_t i = 0; i < N_CSV_COLS; i++)
		cell_kib(sb, s->total[csv_cols[i]]);
	cell_u64(sb, blocks);
	cell_kib(sb, largest);
	vms_sb_puts(sb, CRLF);

	for (int t = 0; t < VMS_TYPE_COUNT; t++) {
		const struct vms_type_summary *ts = &s->summary[t];
		cell(sb, 0, vms_type_name((enum vms_type)t));
		for (size_t i = 0; i < N_CSV_COLS; i++)
			cell_kib(sb, ts->cols[csv_cols[i]]);
		cell_u64(sb, ts->blocks);
		cell_kib(sb, ts->largest);
		vms_sb_puts(sb, CRLF);
	}
	vms_sb_puts(sb, CRLF);
}

/* "r--p" when every region of the allocation has the same perms, else the distinct perms in
 * address order joined by '/' ("r--p/r-xp/rw-p"). buf holds at least 64 bytes. */

/* A row's first cells: with pid (not NULL: the rows of several processes), "PID","Process" first. */
static void put_row_start(struct vms_sb *sb, const struct vms_snapshot *pid, int sub, uint64_t start,
                          enum vms_type type)
{
	char addr[32];
	if (pid) {
		vms_sb_printf(sb, "\"%d\"", (int)pid->pid);
		cell_text(sb, 1, pid->name);
	}
	snprintf(addr, sizeof addr, "%s0x%" PRIx64, sub ? "  " : "", start);
	cell(sb, pid != NULL, addr);
	cell(sb, 1, vms_type_name(type));
}

/* Details cell of a sub-block row: its role ("text", "guard"), else its own path when that
 * differs from the allocation's details, else empty. */
static void region_details(struct vms_sb *sb, const struct vms_region *r, const struct vms_allocation *a)
{
	if (r->role)
		cell_text(sb, 1, r->role);
	else if (r->path && (!a->details || strcmp(r->path, a->details) != 0))
		cell_any(sb, 1, r->path, r->deleted ? " (deleted)" : NULL, 1);
	else
		cell(sb, 1, "");
}

/* The details block: its header row when header, then the rows; with_pid: each row starts with
 * the process's PID and name (vms_export_csv_rows). */
static void put_details(struct vms_sb *sb, const struct vms_snapshot *s, int header, int with_pid)
{
	char prot[64];
	const struct vms_snapshot *pid = with_pid ? s : NULL;

	if (with_pid && header) {
		cell(sb, 0, "PID");
		cell(sb, 1, "Process");
	}
	if (header) {
		cell(sb, with_pid, "Address");
		cell(sb, 1, "Type");
		for (size_t i = 0; i < N_CSV_COLS; i++)
			cell(sb, 1, vms_col_name(csv_cols[i]));
		cell(sb, 1, "Blocks");
		cell(sb, 1, "Protection");
		cell(sb, 1, "Details");
		vms_sb_puts(sb, CRLF);
	}

	for (size_t i = 0; i < s->n_allocations && !sb->oom; i++) {
		const struct vms_allocation *a = &s->allocations[i];
		put_row_start(sb, pid, 0, a->start, a->type);
		for (size_t c = 0; c < N_CSV_COLS; c++)
			cell_kib(sb, a->cols[csv_cols[c]]);
		cell_u64(sb, a->n_regions);
		vms_alloc_protection(s, a, prot, sizeof prot);
		cell(sb, 1, prot);
		cell_text(sb, 1, a->details);
		vms_sb_puts(sb, CRLF);
		if (a->n_regions < 2)
			continue;
		for (uint32_t k = 0; k < a->n_regions && (size_t)a->first_region + k < s->n_regions; k++) {
			const struct vms_region *r = &s->regions[a->first_region + k];
			put_row_start(sb, pid, 1, r->start, r->type);
			for (size_t c = 0; c < N_CSV_COLS; c++)
				cell_kib(sb, r->cols[csv_cols[c]]);
			cell(sb, 1, "");
			cell(sb, 1, r->perms);
			region_details(sb, r, a);
			vms_sb_puts(sb, CRLF);
		}
	}
}

int vms_export_csv(const struct vms_snapshot *s, char **out, size_t *len)
{
	struct vms_sb sb = {0};
	put_header(&sb, s);
	put_summary(&sb, s);
	put_details(&sb, s, 1, 0);
	return vms_sb_finish(&sb, out, len);
}

int vms_export_csv_rows(const struct vms_snapshot *s, int header, char **out, size_t *len)
{
	struct vms_sb sb = {0};
	put_details(&sb, s, header, 1);
	return vms_sb_finish(&sb, out, len);
}
