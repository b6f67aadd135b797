/* Private to the core: the image-sections pass on the scan's files (scanfiles.h). */
#ifndef VMSCOPE_CORE_IMAGEINFO_INTERNAL_H
#define VMSCOPE_CORE_IMAGEINFO_INTERNAL_H

#include "vmscope/imageinfo.h"

struct vms_scan_files;

/* vms_image_sections (vmscope/imageinfo.h), reading the images through files: a file the
 * classifier or a recogniser already opened in this scan is not opened again, and bytes
 * already read are not read again. */
int vms_image_sections_with(struct vms_snapshot *s, struct vms_scan_files *files, const char *exe,
                            unsigned char *touched);

#endif
