/* Private to the json layer: the primitives of the direct JSON writers (json_write.c for
 * snapshots, json_write_diff.c for diffs), which print exactly what cJSON_PrintUnformatted
 * prints for the trees json.c builds. All append to a struct vms_sb; allocation failures are
 * sticky in sb->oom (see strbuf.h). */
#ifndef VMSCOPE_JSON_JSONOUT_H
#define VMSCOPE_JSON_JSONOUT_H

#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"
#include "vmscope/record.h"
#include "vmscope/snapshot.h"
#include "vmscope/types.h"

/* Make room for n more bytes (plus the NUL). */
void vms_jo_reserve(struct vms_sb *sb, size_t n);
void vms_jo_lit(struct vms_sb *sb, const char *s, size_t n);
#define VMS_JO_LIT(sb, s) vms_jo_lit(sb, s, sizeof(s) - 1)
void vms_jo_u64(struct vms_sb *sb, uint64_t v);
void vms_jo_i64(struct vms_sb *sb, int64_t v);
/* "0x..." lowercase hex, quoted */
void vms_jo_addr(struct vms_sb *sb, uint64_t v);
/* A JSON string as cJSON prints it (UTF-8 repaired first); NULL prints null. */
void vms_jo_str(struct vms_sb *sb, const char *s);
/* ,"key": (no comma when first) */
void vms_jo_key(struct vms_sb *sb, const char *k, int first);
/* ,"key":{every column key: unsigned value} */
void vms_jo_columns(struct vms_sb *sb, const char *k, const uint64_t cols[VMS_COL_COUNT]);
/* ,"key":{every column key: signed value} */
void vms_jo_deltas(struct vms_sb *sb, const char *k, const int64_t d[VMS_COL_COUNT]);
/* {every smaps key: value} (no leading key) */
void vms_jo_smaps(struct vms_sb *sb, const uint64_t v[VMS_SF_COUNT]);

/* {every column key: value} (no leading key) */
void vms_jo_cols(struct vms_sb *sb, const uint64_t cols[VMS_COL_COUNT]);
/* ,"key":value for each column in mask (bit 1 << enum vms_col), in column order, no braces; the
 * first one without its comma when first. */
void vms_jo_col_members(struct vms_sb *sb, const uint64_t cols[VMS_COL_COUNT], uint32_t mask, int first);

/* One field of a record table (include/vmscope/record.h) at base: ,"key":value (no comma when
 * first). Returns 0 when written, 1 (nothing written) for OBJECT and SPECIAL fields and fields
 * without a JSON key, which the caller writes. omit_private: PRIVATE fields print null. */
int vms_jo_field(struct vms_sb *sb, const struct vms_field *f, const void *base, int first, int omit_private);

/* "start":…,"end":…,"size":…,"type":…,"details":…,"tid":…,"owner":… of an allocation (no braces, no
 * leading comma): what json.c's put_allocation_head() builds, shared by both writers. */
void vms_jo_allocation_head(struct vms_sb *sb, const struct vms_allocation *a);

#endif
