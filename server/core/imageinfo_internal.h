/* Private to the core: the image-sections pass of one scan, on the scan's files (scanfiles.h). */
#ifndef VMSCOPE_CORE_IMAGEINFO_INTERNAL_H
#define VMSCOPE_CORE_IMAGEINFO_INTERNAL_H

#include "vmscope/imageinfo.h"

struct vms_scan_files;

/* vms_image_sections (vmscope/imageinfo.h) in two steps, so that an image's sections can be
 * found, and streamed with it, as soon as its allocation is classified (while the kernel is
 * still generating smaps), and the attribution stage's changes taken in afterwards. Files are
 * read through files: one the classifier or a recogniser already opened in this scan is not
 * opened again, and bytes already read are not read again. exe: the target's executable path
 * (/proc/PID/exe) or NULL; copied. NULL on ENOMEM. */
struct vms_image_pass;
struct vms_image_pass *vms_image_pass_new(struct vms_scan_files *files, const char *exe);
void vms_image_pass_free(struct vms_image_pass *ip); /* NULL is fine */

/* Allocation ai of s, just classified: when it is an Image, its details gain their notes and
 * its sections are kept in the pass (vms_image_pass_parts). Returns 0, or -1 on ENOMEM (the
 * allocation is then done again by vms_image_pass_finish). */
int vms_image_pass_allocation(struct vms_image_pass *ip, struct vms_snapshot *s, size_t ai);

/* The parts found so far, in allocation order (n of them; NULL when none): for a writer that
 * streams allocations as they are classified, to read only. Valid until the next call on ip. */
struct vms_part *vms_image_pass_parts(const struct vms_image_pass *ip, size_t *n);

/* After the attribution stage: s->parts (the recognisers' parts only) gains the sections of
 * every Image allocation no recogniser gave parts. Final allocation i that is what was
 * classified as allocation same_as[i] (same_as NULL: i itself; -1: none) takes that one's
 * sections as they were found; any other is done now, and touched[i] (s->n_allocations
 * bytes, may be NULL) says whether its details or parts changed. Returns VMS_OK or
 * VMS_ERR_NOMEM. */
int vms_image_pass_finish(struct vms_image_pass *ip, struct vms_snapshot *s, const long *same_as,
                          unsigned char *touched);

#endif
