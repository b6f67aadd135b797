/* Private to the core: lookups the parsers need beyond vmscope/types.h. */
#ifndef VMSCOPE_CORE_NAMES_H
#define VMSCOPE_CORE_NAMES_H

#include <stddef.h>

#include "vmscope/types.h"

/* strlen(vms_smaps_field_kernel_name(f)), from a constant table. */
size_t vms_smaps_field_kernel_name_len(enum vms_smaps_field f);

#endif
