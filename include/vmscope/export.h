/* Human and spreadsheet exports of a snapshot (same code for the CLI and the daemon).
 * Each returns malloc'd NUL-terminated text in *out (free with free()), with its length in *len.
 * Returns VMS_OK or VMS_ERR_NOMEM. */
#ifndef VMSCOPE_EXPORT_H
#define VMSCOPE_EXPORT_H

#include <stddef.h>

#include "vmscope/diff.h"
#include "vmscope/snapshot.h"

/* Text report: header, summary by type, then the allocation tree. */
int vms_export_text(const struct vms_snapshot *s, char **out, size_t *len);
/* How the text report writes sizes. */
struct vms_text_opts {
	int human; /* 1: "4 KiB", "12.5 MiB", "128 TiB"; 0: KiB as plain integers (the default) */
};
/* The text report with options o (NULL = the defaults, as vms_export_text). */
int vms_export_text_with(const struct vms_snapshot *s, const struct vms_text_opts *o, char **out,
                         size_t *len);
/* s made safe for one line of a report or a terminal, as the text report writes names and
 * paths (newline -> "\n", other controls, invalid UTF-8 and bidi overrides escaped). malloc'd;
 * NULL on ENOMEM or when s is NULL. */
char *vms_text_escape(const char *s);
/* CSV laid out like VMMap's: Process/PID header rows, summary block, blank line, details with
 * sub-blocks indented by two spaces. Sizes in KiB. */
int vms_export_csv(const struct vms_snapshot *s, char **out, size_t *len);
/* The details block of several processes' CSV (`vmscope snapshot -p A -p B`): each row starts
 * with "PID","Process", then the details columns of vms_export_csv; the header row first when
 * header is non-zero (the first process), so the processes' rows form one table. */
int vms_export_csv_rows(const struct vms_snapshot *s, int header, char **out, size_t *len);
/* Self-contained HTML report (server/json/html.c): identity, summary with every column, bars,
 * map, biggest allocations, images, details, threads; no script, nothing fetched, every name
 * escaped. */
int vms_export_html(const struct vms_snapshot *s, char **out, size_t *len);
/* Text report of a diff. */
int vms_export_diff_text(const struct vms_diff *d, char **out, size_t *len);

#endif
