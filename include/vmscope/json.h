/* JSON for snapshots, process lists and diffs (docs/snapshot-format.md). Depends on core + cJSON.
 * Every function returning cJSON* returns a new tree the caller owns (cJSON_Delete), or NULL on
 * ENOMEM. */
#ifndef VMSCOPE_JSON_H
#define VMSCOPE_JSON_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "vmscope/diff.h"
#include "vmscope/proclist.h"
#include "vmscope/snapshot.h"

struct vms_json_opts {
	int omit_cmdline; /* share links may leave the command line out */
};

cJSON *vms_json_snapshot(const struct vms_snapshot *s, const struct vms_json_opts *opts);
/* {"summary":[TYPE_SUMMARY...],"total":{COLUMNS}}: per-type totals only (for lists). */
cJSON *vms_json_summary(const struct vms_snapshot *s);
cJSON *vms_json_summary_of(const struct vms_type_summary summary[VMS_TYPE_COUNT],
                           const uint64_t total[VMS_COL_COUNT]);
cJSON *vms_json_proc(const struct vms_proc *p);
cJSON *vms_json_proclist(const struct vms_proclist *l);
cJSON *vms_json_diff(const struct vms_diff *d);
/* What is at addr (l from vms_snapshot_lookup): kind, region and its allocation with the offsets
 * of addr into them, free gap, neighbours; img (may be NULL: "image" is null) says what the
 * image's file has there (vmscope/imageinfo.h). The same object for `vmscope at --json` and the
 * API's /at/{addr} (docs/api.md). */
struct vms_image_info;
cJSON *vms_json_lookup(const struct vms_snapshot *s, uint64_t addr, const struct vms_lookup *l,
                       const struct vms_image_info *img);

/* The deepest nesting any JSON input may have: our documents nest 6 levels (snapshot, allocation
 * list, allocation, region list, region, part list ...); 64 leaves room for growth. Deeper text is
 * refused before it is parsed (cJSON recurses once per level). */
#define VMS_JSON_MAX_DEPTH 64

/* 1 when text nests arrays/objects deeper than limit (counted outside strings, by a linear scan
 * with no recursion and no allocation), *where (if not NULL) = byte offset of the bracket that
 * went one level too deep; 0 otherwise. Validates nothing else. */
int vms_json_too_deep(const char *text, size_t len, unsigned limit, size_t *where);

/* 1 when text is not well-formed UTF-8 (stray or truncated sequences, overlong forms, UTF-16
 * surrogates, beyond U+10FFFF), *where (if not NULL) = offset of the first bad byte; else 0. */
int vms_json_bad_utf8(const char *text, size_t len, size_t *where);

/* A JSON string of s (null for NULL) with every byte that is not well-formed UTF-8 replaced by
 * U+FFFD, as every writer in this layer does (file and process names are bytes on Linux);
 * NULL on ENOMEM. */
cJSON *vms_json_string_repaired(const char *s);

/* The first key that appears twice in one object anywhere in j (cJSON keeps both; readers
 * disagree about which counts: cJSON takes the first, JavaScript and Python the last), or NULL.
 * *nomem (set to 0 by the caller) becomes 1 when memory ran out. Every JSON input is refused
 * when it has one. j must have passed vms_json_too_deep (this recurses once per level). */
const char *vms_json_dup_key(const cJSON *j, int *nomem);

/* Rebuild a snapshot from JSON text written by vms_json_snapshot (any whitespace), reading the
 * text in place: no tree, memory = the snapshot plus a stack of the keys of the open objects.
 * Validates format_version and structure; recomputes columns and summary from the smaps fields.
 * Text nested deeper than VMS_JSON_MAX_DEPTH or that is not well-formed UTF-8 is refused
 * (VMS_ERR_INVALID) before it is parsed; so is an object with a duplicate key.
 * On error returns VMS_ERR_INVALID, VMS_ERR_UNSUPPORTED or VMS_ERR_NOMEM and, when errbuf is
 * given, a sentence naming what is wrong. */
int vms_json_parse_snapshot(const char *text, size_t len, struct vms_snapshot **out, char *errbuf,
                            size_t errlen);

/* vms_json_parse_snapshot for text vmscope stored itself (the store's schema-1 bodies, as
 * vms_store_opts.legacy_json): anything that does not import is a damaged database, VMS_ERR_IO. */
int vms_json_decode_stored(const char *text, size_t len, struct vms_snapshot **out);

/* The snapshot as compact JSON text, written directly (no cJSON tree): byte-for-byte what
 * cJSON_PrintUnformatted(vms_json_snapshot(s, opts)) prints, at a fraction of the time and memory
 * (60,000 regions: a tree costs ~10x the text). *out is malloc'd (free with free()).
 * Returns VMS_OK or VMS_ERR_NOMEM. */
int vms_json_write_snapshot(const struct vms_snapshot *s, const struct vms_json_opts *opts, char **out,
                            size_t *len);
/* Receives the JSON in pieces of about 1 MiB; returns 0, or non-zero to report a write error
 * (the rest is then discarded). */
typedef int (*vms_json_sink_fn)(void *cookie, const char *buf, size_t len);

/* The same writer in steps, for a scan that streams (vms_snapshot_opts.on_begin/on_allocation):
 * begin() after the header fields are set, allocation(i) for each allocation in order, end()
 * once the snapshot is complete. fn must not be NULL. end() and free() release the stream;
 * end() returns VMS_OK, VMS_ERR_NOMEM or VMS_ERR_IO. */
struct vms_json_stream;
struct vms_json_stream *vms_json_stream_new(const struct vms_json_opts *opts, vms_json_sink_fn fn,
                                            void *cookie);
void vms_json_stream_begin(struct vms_json_stream *st, const struct vms_snapshot *s);
void vms_json_stream_allocation(struct vms_json_stream *st, const struct vms_snapshot *s, size_t index);
int vms_json_stream_end(struct vms_json_stream *st, const struct vms_snapshot *s);
/* Hand everything buffered so far to the sink now (a writer that wants to know where each
 * allocation's text ends calls it after begin() and after each allocation()). */
void vms_json_stream_flush(struct vms_json_stream *st);
/* The caller places the next allocation's text itself (the text an earlier stream wrote for
 * it, without a leading comma) right after what the sink has received so far: the stream
 * writes the separator it needs, hands everything over and counts the allocation. For a scan
 * whose attribution stage left that allocation as it was streamed. */
void vms_json_stream_external_allocation(struct vms_json_stream *st);
void vms_json_stream_free(struct vms_json_stream *st); /* accepts NULL */

/* The diff as compact JSON text, written directly: byte-for-byte
 * cJSON_PrintUnformatted(vms_json_diff(d)), with extra_members (raw JSON members such as
 * "\"from_id\":1,\"to_id\":2", or NULL) appended inside the top-level object. *out is malloc'd.
 * Returns VMS_OK or VMS_ERR_NOMEM. */
int vms_json_write_diff(const struct vms_diff *d, const char *extra_members, char **out, size_t *len);

/* Print helpers: return malloc'd text (free with free()), NULL on ENOMEM. */
char *vms_json_print(const cJSON *j, int pretty);

#endif
