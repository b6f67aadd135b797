/* Private to the core: thread list + stack pointers. */
#ifndef VMSCOPE_CORE_THREADS_H
#define VMSCOPE_CORE_THREADS_H

#include <stdint.h>

#include "vmscope/snapshot.h"

/* Fill s->threads from dirfd/task. want_sp: read task/TID/syscall for stack pointers.
 * Returns VMS_OK, VMS_ERR_NOMEM or a process-gone error. */
int vms_threads_read(struct vms_snapshot *s, int dirfd, int want_sp);

#endif
