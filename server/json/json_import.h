/* Private to the json layer: what the snapshot importer (json_parse.c) is built from: the error sentence, the
 * checks of the whole text before it is parsed, the value scanners and the checks of a record once it is
 * read. Every function that can fail writes "path.key: what is wrong" into err[errlen] (err may be NULL) and
 * returns -1; 0 means fine. */
#ifndef VMSCOPE_JSON_IMPORT_H
#define VMSCOPE_JSON_IMPORT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "vmscope/record.h"
#include "vmscope/snapshot.h"

#define VMS_IMP_PATH_MAX 96 /* the longest path an error names, before the record's key */

/* Record "path.key: message" (path and key may be empty or NULL). Returns -1. */
int vms_imp_vfail(char *err, size_t errlen, const char *path, const char *key, const char *fmt, va_list ap);

/* 1-based line and column of byte offset off. */
void vms_imp_line_col(const char *text, size_t off, size_t *line, size_t *col);

/* Depth (VMS_JSON_MAX_DEPTH) and UTF-8, the first checks of any import. */
int vms_imp_text_ok(const char *text, size_t len, char *err, size_t errlen);
/* The sentence for a syntax error at off (cJSON's position); returns -1. */
int vms_imp_syntax_error(const char *text, size_t len, size_t off, char *err, size_t errlen);
/* Only whitespace after the top-level value, which ends at end. */
int vms_imp_trailing_ok(const char *text, size_t len, size_t end, char *err, size_t errlen);

/* An exact integer from a number token tok[0..n) whose strtod value is dv: plain digit tokens
 * exactly (u64: up to UINT64_MAX), other spellings (4096.0, 1e3) when dv is integral and
 * below 2^53. 0 or -1 (no message). */
int vms_imp_u64(const char *tok, size_t n, double dv, uint64_t *out);
int vms_imp_i64(const char *tok, size_t n, double dv, int64_t *out);

/* "MAJ:MIN" in hex, each at most 8 digits: 0 or -1 (no message). */
int vms_imp_dev(const char *t, unsigned *maj, unsigned *min);
/* 1 when p is 4 characters like "rw-p". */
int vms_imp_perms_ok(const char *p);
/* 1 when rec (or an object inside it) has a required field. */
int vms_imp_has_required(const struct vms_record *rec);

/* After a region's fields are read: start < end, not before the previous region (has_prev,
 * prev_end), *mapped (the sizes so far) under 2^60, smaps plausible (vms_smaps_plausible);
 * sets its size and vm_flag_bits. */
int vms_imp_region_done(struct vms_region *r, const char *path, int has_prev, uint64_t prev_end,
                        uint64_t *mapped, char *err, size_t errlen);
/* After the header fields are read: arch bits, page size; sets the derived header fields
 * (has_mmap_min: "mmap_min_addr" was given). */
int vms_imp_header_done(struct vms_snapshot *s, int has_mmap_min, char *err, size_t errlen);
/* After threads and allocations are read: every stack_allocation names an allocation. */
int vms_imp_threads_done(const struct vms_snapshot *s, char *err, size_t errlen);
/* A part (the next of allocation ai, after prev_end): inside it, sorted, not overlapping. */
int vms_imp_part_done(struct vms_part *pt, const struct vms_allocation *al, size_t ai, uint64_t *prev_end,
                      const char *path, char *err, size_t errlen);

#endif
