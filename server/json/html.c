/* The HTML report of a snapshot: one self-contained page to keep or mail (vmscope report, the
 * dashboard's Export -> HTML report, GET /api/v1/snapshots/ID.html).
 *
 * Self-contained: styles inline, no script, no image, font or link to fetch; a
 * Content-Security-Policy meta element forbids any script and any fetch, so a report opened from
 * a mail attachment (file://) neither runs nor loads anything. Sections: who/where/when, the
 * summary by type with every column (and Blocks, Largest), bars of Committed and Total WS by
 * type, an address-order map, the biggest allocations, the images, every allocation with its
 * regions, the threads and what the attribution stage said.
 *
 * Every string from the target or an imported file (name, command line, user, host, kernel,
 * paths, details, notes) is first escaped as the text report does (controls, invalid UTF-8 and
 * bidi overrides made visible, vms_sb_put_escaped), then HTML-escaped (& < > " '), so it is text
 * in element content and in quoted attributes alike. Numbers: each byte cell carries its exact
 * value in data-bytes; the cell shows KiB ("1,234 K", VMMap's way), Free in human units. */
#include <inttypes.h>
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

/* The biggest allocations listed (by Committed, then Size). */
#define HTML_BIGGEST 20

/* The report's own policy: nothing may run or be fetched; inline styles only. */
#define HTML_CSP                                                                                             \
	"default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; script-src 'none'; "                 \
	"connect-src 'none'; base-uri 'none'; form-action 'none'"

/* The dashboard's fixed type colours (web/palette.js, docs/dashboard.md): change all together. */
static const char *const type_color[VMS_TYPE_COUNT] = {
    "#7b52c7", "#4f9fe6", "#1fa38a", "#f28e2b", "#a8743a", "#e0557a",
    "#e6c01e", "#5f9a3a", "#4d5d73", "#a3abb6", "#f3f4f6",
};

static const char style[] =
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:#1f2937;margin:0 "
    "auto;max-width:1400px;padding:16px 20px}"
    "h1{font-size:22px;margin:0 0 4px}h1 small{font-weight:normal;color:#6b7280}"
    "h2{font-size:17px;margin:26px 0 8px;border-bottom:2px solid #e5e7eb;padding-bottom:3px}"
    "dl.id{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:10px 0}"
    "dl.id dt{color:#6b7280}dl.id dd{margin:0;overflow-wrap:anywhere}"
    ".scroll{overflow-x:auto}"
    "table{border-collapse:collapse;font-variant-numeric:tabular-nums;font-size:13px}"
    "th,td{padding:2px 7px;border-bottom:1px solid #e5e7eb;text-align:right;white-space:nowrap}"
    "th{background:#f9fafb;position:sticky;top:0}"
    ".l{text-align:left}td.d{white-space:normal;overflow-wrap:anywhere}.dv{display:block;min-width:20em}"
    ".mono{font-family:ui-monospace,'DejaVu Sans Mono',monospace;font-size:12px}"
    "tr.total td{font-weight:600;border-top:2px solid #9ca3af}"
    "tr.r td{color:#4b5563;font-size:12px;border-bottom-color:#f3f4f6}tr.r td.a{padding-left:22px}"
    ".sw{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px;"
    "vertical-align:-1px;border:1px solid rgba(0,0,0,.15)}"
    ".bar{display:flex;height:20px;border:1px solid #d1d5db;border-radius:3px;overflow:hidden;"
    "margin:3px 0 10px}"
    ".bar i,.map i{display:block;min-width:1px}"
    ".map{display:flex;height:34px;border:1px solid #d1d5db;overflow:hidden;margin:3px 0}"
    ".map i.gap{flex:0 0 3px;background:repeating-linear-gradient(45deg,#fff 0 2px,#d1d5db 2px 3px)}"
    ".legend span{margin-right:14px;white-space:nowrap;font-size:13px}"
    ".muted{color:#6b7280}.note{background:#fffbeb;border-left:3px solid #f59e0b;padding:4px 8px}"
    "footer{margin-top:28px;color:#6b7280;font-size:12px}"
    "@media print{th{position:static}.scroll{overflow:visible}}";

/* ---- escaping and numbers ----------------------------------------------------------- */

/* s (NULL: nothing) made visible as the text report does, then HTML-escaped. */
static void put_text(struct vms_sb *sb, const char *s)
{
	char *vis = s ? vms_text_escape(s) : NULL;
	if (s && !vis) {
		sb->oom = 1;
		return;
	}
	static const char *const entity[128] = {
	    ['&'] = "&amp;", ['<'] = "&lt;", ['>'] = "&gt;", ['"'] = "&quot;", ['\''] = "&#39;"};
	for (const unsigned char *p = (const unsigned char *)vis; p && *p; p++) {
		const char *e = *p < 128 ? entity[*p] : NULL;
		if (e)
			vms_sb_puts(sb, e);
		else
			vms_sb_putc(sb, (char)*p);
	}
	free(vis);
}

/* s, or dash when s is NULL or empty. */
static void put_text_or(struct vms_sb *sb, const char *s, const char *dash)
{
	if (s && *s)
		put_text(sb, s);
	else
		vms_sb_puts(sb, dash);
}

/* n with a comma every three digits. */
static void put_grouped(struct vms_sb *sb, uint64_t n)
{
	char digits[24];
	int len = snprintf(digits, sizeof digits, "%" PRIu64, n);
	for (int i = 0; i < len; i++) {
		if (i && (len - i) % 3 == 0)
			vms_sb_putc(sb, ',');
		vms_sb_putc(sb, digits[i]);
	}
}

/* Bytes in human units ("4 KiB", "12.5 MiB", "128 TiB"), as the dashboard writes them. */
static void put_human(struct vms_sb *sb, uint64_t bytes)
{
	static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	double v = (double)bytes;
	size_t u = 0;
	while (v >= 1024.0 && u + 1 < sizeof unit / sizeof unit[0]) {
		v /= 1024.0;
		u++;
	}
	vms_sb_printf(sb, v >= 99.95 || !u ? "%.0f %s" : "%.1f %s", v, unit[u]);
}

/* A byte cell: exact bytes in data-bytes and the title, KiB (human units when human) shown. */
static void td_bytes(struct vms_sb *sb, uint64_t bytes, int human)
{
	vms_sb_printf(sb, "<td data-bytes=\"%" PRIu64 "\" title=\"%" PRIu64 " bytes\">", bytes, bytes);
	if (human) {
		put_human(sb, bytes);
	} else {
		put_grouped(sb, bytes / 1024 + (bytes % 1024 >= 512));
		vms_sb_puts(sb, " K");
	}
	vms_sb_puts(sb, "</td>");
}

static void swatch(struct vms_sb *sb, enum vms_type t)
{
	vms_sb_printf(sb, "<span class=\"sw\" style=\"background:%s\"></span>", type_color[t]);
}

/* ---- header ------------------------------------------------------------------------- */

static void dt(struct vms_sb *sb, const char *label)
{
	vms_sb_printf(sb, "<dt>%s</dt><dd>", label);
}

static void put_identity(struct vms_sb *sb, const struct vms_snapshot *s)
{
	char buf[40];
	const char *when = vms_format_taken_ms(s->taken_at_ms, buf, sizeof buf);
	vms_sb_puts(sb, "<header><h1 id=\"process\">");
	put_text_or(sb, s->name, "(no name)");
	vms_sb_printf(sb, " <small>pid %d on ", (int)s->pid);
	put_text_or(sb, s->host, "(unknown host)");
	vms_sb_puts(sb, "</small></h1><dl class=\"id\">");
	dt(sb, "Command line");
	vms_sb_puts(sb, "<span class=\"mono\" id=\"cmdline\">");
	put_text_or(sb, s->cmdline, s->cmdline ? "(none)" : "(left out)");
	vms_sb_printf(sb, "</span></dd>");
	dt(sb, "PID / parent");
	vms_sb_printf(sb, "<span id=\"pid\">%d</span> / %d</dd>", (int)s->pid, (int)s->ppid);
	dt(sb, "User");
	put_text_or(sb, s->user, "-");
	vms_sb_printf(sb, " (uid %u)</dd>", (unsigned)s->uid);
	dt(sb, "Architecture");
	put_text_or(sb, s->arch.machine, "unknown");
	if (s->arch.bits)
		vms_sb_printf(sb, " (%d-bit)", s->arch.bits);
	vms_sb_puts(sb, "</dd>");
	dt(sb, "Host, kernel");
	put_text_or(sb, s->host, "-");
	vms_sb_puts(sb, ", Linux ");
	put_text_or(sb, s->kernel, "-");
	vms_sb_puts(sb, "</dd>");
	dt(sb, "Taken at");
	vms_sb_printf(sb, "<time id=\"taken\">%s</time></dd>", when ? when : "unknown");
	dt(sb, "Threads");
	vms_sb_printf(sb, "%d</dd>", s->status.threads ? s->status.threads : (int)s->n_threads);
	dt(sb, "Allocations");
	vms_sb_printf(sb, "%zu in %zu regions</dd>", s->n_allocations, s->n_regions);
	dt(sb, "RSS / swap");
	put_human(sb, s->status.vm_rss);
	vms_sb_puts(sb, " / ");
	put_human(sb, s->status.vm_swap);
	vms_sb_puts(sb, " (/proc/PID/status)</dd></dl>");
	const char *notes[] = {s->thread_note, s->peek_note};
	for (size_t i = 0; i < sizeof notes / sizeof notes[0]; i++)
		if (notes[i]) {
			vms_sb_puts(sb, "<p class=\"note\">");
			put_text(sb, notes[i]);
			vms_sb_puts(sb, "</p>");
		}
	if (s->malformed_lines)
		vms_sb_printf(sb, "<p class=\"note\">%u /proc lines could not be parsed and were skipped</p>",
		              s->malformed_lines);
	vms_sb_puts(sb, "</header>\n");
}

/* ---- summary and bars --------------------------------------------------------------- */

static void put_summary(struct vms_sb *sb, const struct vms_snapshot *s)
{
	uint64_t blocks = 0, largest = 0;
	vms_sb_puts(sb, "<section id=\"summary\"><h2>Summary by type</h2><div class=\"scroll\">"
	                "<table><thead><tr><th class=\"l\">Type</th>");
	for (int c = 0; c < VMS_COL_COUNT; c++)
		vms_sb_printf(sb, "<th>%s</th>", vms_col_name((enum vms_col)c));
	vms_sb_puts(sb, "<th>Blocks</th><th>Largest</th></tr></thead><tbody>");
	for (int ty = 0; ty < VMS_TYPE_COUNT; ty++) {
		const struct vms_type_summary *ts = &s->summary[ty];
		int free_row = ty == VMS_TYPE_FREE;
		vms_sb_printf(sb, "<tr data-type=\"%s\"><td class=\"l\">", vms_type_key((enum vms_type)ty));
		swatch(sb, (enum vms_type)ty);
		vms_sb_printf(sb, "%s</td>", vms_type_name((enum vms_type)ty));
		for (int c = 0; c < VMS_COL_COUNT; c++) {
			if (free_row && c != VMS_COL_SIZE)
				vms_sb_puts(sb, "<td></td>");
			else
				td_bytes(sb, ts->cols[c], free_row);
		}
		vms_sb_printf(sb, "<td data-count=\"%" PRIu64 "\">", ts->blocks);
		put_grouped(sb, ts->blocks);
		vms_sb_puts(sb, "</td>");
		td_bytes(sb, ts->largest, free_row);
		vms_sb_puts(sb, "</tr>");
		if (!free_row) {
			blocks += ts->blocks;
			if (ts->largest > largest)
				largest = ts->largest;
		}
	}
	vms_sb_puts(sb, "<tr class=\"total\" data-type=\"total\"><td class=\"l\">Total</td>");
	for (int c = 0; c < VMS_COL_COUNT; c++)
		td_bytes(sb, s->total[c], 0);
	vms_sb_printf(sb, "<td data-count=\"%" PRIu64 "\">", blocks);
	put_grouped(sb, blocks);
	vms_sb_puts(sb, "</td>");
	td_bytes(sb, largest, 0);
	vms_sb_puts(sb, "</tr></tbody></table></div><p class=\"muted\">K = KiB. Private counts "
	                "commit-style (touched or not); Total WS includes the Page Table row (ps RSS + "
	                "VmPTE); Free: Blocks are gaps, Largest the largest gap.</p>");
}

/* A bar of column col by type (Free left out), with its legend. */
static void put_bar(struct vms_sb *sb, const struct vms_snapshot *s, enum vms_col col)
{
	uint64_t total = s->total[col];
	vms_sb_printf(sb, "<h3>%s by type: ", vms_col_name(col));
	put_human(sb, total);
	vms_sb_printf(sb, "</h3><div class=\"bar\" id=\"bar-%s\">", vms_col_key(col));
	for (int ty = 0; ty < VMS_TYPE_COUNT && total; ty++) {
		uint64_t v = s->summary[ty].cols[col];
		if (ty == VMS_TYPE_FREE || !v)
			continue;
		vms_sb_printf(sb, "<i style=\"flex:%.6f 0 0;background:%s\" title=\"%s: ",
		              (double)v / (double)total, type_color[ty], vms_type_name((enum vms_type)ty));
		put_human(sb, v);
		vms_sb_printf(sb, " (%.1f %%)\"></i>", 100.0 * (double)v / (double)total);
	}
	vms_sb_puts(sb, "</div><div class=\"legend\">");
	for (int ty = 0; ty < VMS_TYPE_COUNT; ty++) {
		uint64_t v = s->summary[ty].cols[col];
		if (ty == VMS_TYPE_FREE || !v)
			continue;
		vms_sb_puts(sb, "<span>");
		swatch(sb, (enum vms_type)ty);
		vms_sb_printf(sb, "%s ", vms_type_name((enum vms_type)ty));
		put_human(sb, v);
		vms_sb_puts(sb, "</span>");
	}
	vms_sb_puts(sb, "</div>");
}

/* ---- map ---------------------------------------------------------------------------- */

/* Address order, each allocation as wide as its Size (at least a pixel), a hatched mark for
 * each free gap (not to scale: the gaps of a 64-bit space would swallow the rest). */
static void put_map(struct vms_sb *sb, const struct vms_snapshot *s)
{
	char prot[64];
	vms_sb_printf(sb,
	              "<section id=\"map\"><h2>Address space</h2><p class=\"muted\">%zu "
	              "allocations in address order, widths by Size; hatched marks are free gaps "
	              "(not to scale). Hover for details.</p><div class=\"map\">",
	              s->n_allocations);
	for (size_t i = 0; i < s->n_allocations; i++) {
		const struct vms_allocation *a = &s->allocations[i];
		if (i && a->start > s->allocations[i - 1].end)
			vms_sb_puts(sb, "<i class=\"gap\"></i>");
		vms_alloc_protection(s, a, prot, sizeof prot);
		vms_sb_printf(sb, "<i style=\"flex:%" PRIu64 " 0 0;background:%s\" title=\"0x%" PRIx64 " %s ",
		              (a->end - a->start) / 4096 + 1, type_color[a->type], a->start,
		              vms_type_name(a->type));
		put_human(sb, a->end - a->start);
		vms_sb_printf(sb, " %s ", prot);
		put_text(sb, a->details);
		vms_sb_puts(sb, "\"></i>");
	}
	vms_sb_puts(sb, "</div></section>\n");
}

/* ---- allocation tables -------------------------------------------------------------- */

/* The columns of the allocation tables: VMMap's details view less Shared WS and Locked WS (the
 * summary has every column), so that Details keeps room beside them. */
static const enum vms_col alloc_cols[] = {
    VMS_COL_SIZE,       VMS_COL_COMMITTED,    VMS_COL_PRIVATE, VMS_COL_TOTAL_WS,
    VMS_COL_PRIVATE_WS, VMS_COL_SHAREABLE_WS, VMS_COL_PSS,     VMS_COL_SWAP,
};
#define N_ALLOC_COLS (sizeof alloc_cols / sizeof alloc_cols[0])

static void alloc_head(struct vms_sb *sb, const char *id)
{
	vms_sb_printf(sb,
	              "<div class=\"scroll\"><table id=\"%s\"><thead><tr><th class=\"l\">Address</th>"
	              "<th class=\"l\">Type</th>",
	              id);
	for (size_t c = 0; c < N_ALLOC_COLS; c++)
		vms_sb_printf(sb, "<th>%s</th>", vms_col_name(alloc_cols[c]));
	vms_sb_puts(sb, "<th class=\"l\">Protection</th><th class=\"l\">Details</th></tr></thead><tbody>");
}

static void alloc_row(struct vms_sb *sb, const struct vms_snapshot *s, size_t i)
{
	const struct vms_allocation *a = &s->allocations[i];
	char prot[64];
	vms_alloc_protection(s, a, prot, sizeof prot);
	vms_sb_printf(sb,
	              "<tr class=\"a\" data-start=\"0x%" PRIx64 "\"><td class=\"l mono\">0x%" PRIx64
	              "</td><td class=\"l\">",
	              a->start, a->start);
	swatch(sb, a->type);
	vms_sb_printf(sb, "%s</td>", vms_type_name(a->type));
	for (size_t c = 0; c < N_ALLOC_COLS; c++)
		td_bytes(sb, a->cols[alloc_cols[c]], 0);
	/* the span holds Details' column at least .dv wide (a cell's own min-width is ignored) */
	vms_sb_printf(sb, "<td class=\"l mono\">%s</td><td class=\"l d\"><span class=\"dv\">", prot);
	put_text(sb, a->details);
	const struct vms_region *r0 = a->first_region < s->n_regions ? &s->regions[a->first_region] : NULL;
	if (r0 && r0->deleted && r0->path && a->details && !strcmp(r0->path, a->details))
		vms_sb_puts(sb, " (deleted)");
	vms_sb_puts(sb, "</span></td></tr>");
}

/* The regions of allocation i as indented rows, when it has more than one. */
static void region_rows(struct vms_sb *sb, const struct vms_snapshot *s, size_t i)
{
	const struct vms_allocation *a = &s->allocations[i];
	if (a->n_regions < 2)
		return;
	for (uint32_t k = 0; k < a->n_regions && (size_t)a->first_region + k < s->n_regions; k++) {
		const struct vms_region *r = &s->regions[a->first_region + k];
		vms_sb_printf(
		    sb, "<tr class=\"r\"><td class=\"l mono a\">0x%" PRIx64 "</td><td class=\"l\">%s</td>",
		    r->start, vms_type_name(r->type));
		for (size_t c = 0; c < N_ALLOC_COLS; c++)
			td_bytes(sb, r->cols[alloc_cols[c]], 0);
		vms_sb_printf(sb, "<td class=\"l mono\">%.4s</td><td class=\"l d\">", r->perms);
		if (r->role) {
			put_text(sb, r->role);
			if (r->path && (!a->details || strcmp(r->path, a->details) != 0))
				vms_sb_puts(sb, ": ");
		}
		if (r->path && (!a->details || strcmp(r->path, a->details) != 0)) {
			put_text(sb, r->path);
			if (r->deleted)
				vms_sb_puts(sb, " (deleted)");
		}
		vms_sb_puts(sb, "</td></tr>");
	}
}

static int by_committed(const void *x, const void *y, void *arg)
{
	const struct vms_snapshot *s = arg;
	const struct vms_allocation *a = &s->allocations[*(const size_t *)x];
	const struct vms_allocation *b = &s->allocations[*(const size_t *)y];
	uint64_t ka = a->cols[VMS_COL_COMMITTED], kb = b->cols[VMS_COL_COMMITTED];
	if (ka != kb)
		return ka < kb ? 1 : -1;
	ka = a->cols[VMS_COL_SIZE];
	kb = b->cols[VMS_COL_SIZE];
	if (ka != kb)
		return ka < kb ? 1 : -1;
	return a->start < b->start ? -1 : a->start > b->start;
}

static void put_biggest(struct vms_sb *sb, const struct vms_snapshot *s)
{
	size_t *idx = malloc((s->n_allocations ? s->n_allocations : 1) * sizeof *idx);
	if (!idx) {
		sb->oom = 1;
		return;
	}
	for (size_t i = 0; i < s->n_allocations; i++)
		idx[i] = i;
	qsort_r(idx, s->n_allocations, sizeof *idx, by_committed, (void *)s);
	size_t n = s->n_allocations < HTML_BIGGEST ? s->n_allocations : HTML_BIGGEST;
	vms_sb_printf(sb,
	              "<section id=\"biggest\"><h2>The %zu biggest allocations</h2>"
	              "<p class=\"muted\">By Committed, then Size.</p>",
	              n);
	alloc_head(sb, "biggest-table");
	for (size_t i = 0; i < n; i++)
		alloc_row(sb, s, idx[i]);
	vms_sb_puts(sb, "</tbody></table></div></section>\n");
	free(idx);
}

static void put_images(struct vms_sb *sb, const struct vms_snapshot *s)
{
	size_t n = 0;
	for (size_t i = 0; i < s->n_allocations; i++)
		n += s->allocations[i].type == VMS_TYPE_IMAGE;
	vms_sb_printf(sb, "<section id=\"images\"><h2>Images (%zu)</h2>", n);
	alloc_head(sb, "images-table");
	for (size_t i = 0; i < s->n_allocations; i++)
		if (s->allocations[i].type == VMS_TYPE_IMAGE)
			alloc_row(sb, s, i);
	vms_sb_puts(sb, "</tbody></table></div></section>\n");
}

static void put_details(struct vms_sb *sb, const struct vms_snapshot *s)
{
	vms_sb_printf(sb,
	              "<section id=\"details\"><h2>Details</h2><details open><summary>All %zu "
	              "allocations and their %zu regions (regions of an allocation indented)"
	              "</summary>",
	              s->n_allocations, s->n_regions);
	alloc_head(sb, "details-table");
	for (size_t i = 0; i < s->n_allocations && !sb->oom; i++) {
		alloc_row(sb, s, i);
		region_rows(sb, s, i);
	}
	vms_sb_puts(sb, "</tbody></table></div></details></section>\n");
}

/* ---- threads, recognisers ----------------------------------------------------------- */

static void put_threads(struct vms_sb *sb, const struct vms_snapshot *s)
{
	vms_sb_printf(sb,
	              "<section id=\"threads\"><h2>Threads (%zu)</h2><div class=\"scroll\"><table>"
	              "<thead><tr><th>TID</th><th class=\"l\">Name</th><th class=\"l\">Stack</th>"
	              "<th class=\"l\">Note</th></tr></thead><tbody>",
	              s->n_threads);
	for (size_t i = 0; i < s->n_threads; i++) {
		const struct vms_thread *th = &s->threads[i];
		vms_sb_printf(sb, "<tr><td>%d</td><td class=\"l\">", th->tid);
		put_text(sb, th->name);
		vms_sb_puts(sb, "</td><td class=\"l mono\">");
		if (th->stack_allocation >= 0 && (size_t)th->stack_allocation < s->n_allocations)
			vms_sb_printf(sb, "0x%" PRIx64, s->allocations[th->stack_allocation].start);
		vms_sb_puts(sb, "</td><td class=\"l d\">");
		put_text(sb, th->stack_note);
		vms_sb_puts(sb, "</td></tr>");
	}
	vms_sb_puts(sb, "</tbody></table></div></section>\n");
}

static void put_recognisers(struct vms_sb *sb, const struct vms_snapshot *s)
{
	if (!s->n_recognisers)
		return;
	vms_sb_puts(sb, "<section id=\"recognisers\"><h2>Runtimes and allocators</h2><div class=\"scroll\">"
	                "<table><thead><tr><th class=\"l\">Recogniser</th><th>Named</th><th "
	                "class=\"l\">Read memory</th><th class=\"l\">Note</th></tr></thead><tbody>");
	for (size_t i = 0; i < s->n_recognisers; i++) {
		const struct vms_recogniser_run *rr = &s->recognisers[i];
		vms_sb_puts(sb, "<tr><td class=\"l\">");
		put_text(sb, rr->key);
		vms_sb_printf(sb, "</td><td>%u</td><td class=\"l\">%s</td><td class=\"l d\">", rr->claimed,
		              rr->read_memory ? "yes" : "no");
		put_text(sb, rr->note);
		vms_sb_puts(sb, "</td></tr>");
	}
	vms_sb_puts(sb, "</tbody></table></div></section>\n");
}

int vms_export_html(const struct vms_snapshot *s, char **out, size_t *len)
{
	struct vms_sb sb = {0};

	vms_sb_puts(&sb, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	                 "<meta http-equiv=\"Content-Security-Policy\" content=\"" HTML_CSP "\">"
	                 "<meta name=\"referrer\" content=\"no-referrer\">"
	                 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
	                 "<meta name=\"generator\" content=\"vmscope " VMSCOPE_VERSION "\"><title>");
	put_text_or(&sb, s->name, "process");
	vms_sb_printf(&sb, " (%d) on ", (int)s->pid);
	put_text_or(&sb, s->host, "?");
	vms_sb_printf(&sb, ": vmscope report</title><style>%s</style></head><body>\n", style);
	put_identity(&sb, s);
	put_summary(&sb, s);
	put_bar(&sb, s, VMS_COL_COMMITTED);
	put_bar(&sb, s, VMS_COL_TOTAL_WS);
	vms_sb_puts(&sb, "</section>\n");
	put_map(&sb, s);
	put_biggest(&sb, s);
	put_images(&sb, s);
	put_details(&sb, s);
	put_threads(&sb, s);
	put_recognisers(&sb, s);
	vms_sb_puts(&sb, "<footer>Written by vmscope " VMSCOPE_VERSION ". Columns are explained in "
	                 "vmscope's docs/memory-types.md. This page runs no script and loads "
	                 "nothing.</footer>\n</body></html>\n");
	return vms_sb_finish(&sb, out, len);
}
