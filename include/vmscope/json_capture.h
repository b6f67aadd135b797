/* The JSON of a scan, written while the scan runs (vms_snapshot_opts hooks) into memory and
 * handed out only once the scan succeeded, so a process that exits mid-scan leaves no half
 * document. When the attribution stage renames allocations after they were streamed, the
 * capture starts again and copies the text of every allocation that stayed as it was (and the
 * regions of those whose parts or details alone changed: the images that gained sections). */
#ifndef VMSCOPE_JSON_CAPTURE_H
#define VMSCOPE_JSON_CAPTURE_H

#include <stdio.h>

#include "vmscope/snapshot.h"

struct vms_json_capture;

struct vms_json_capture *vms_json_capture_new(void); /* NULL on ENOMEM */
/* Point opts' streaming hooks (on_begin, on_allocation, on_restart, cookie) at c. */
void vms_json_capture_hook(struct vms_json_capture *c, struct vms_snapshot_opts *opts);
/* Finish the document for the scanned s and write it with a trailing newline. VMS_OK,
 * VMS_ERR_NOMEM or VMS_ERR_IO. Call it once. */
int vms_json_capture_write(struct vms_json_capture *c, const struct vms_snapshot *s, FILE *out);
void vms_json_capture_free(struct vms_json_capture *c); /* accepts NULL */
/* How many times the capture started again, and how many allocations it copied (tests). */
void vms_json_capture_stats(const struct vms_json_capture *c, unsigned *restarts, size_t *copied);

#endif
