/* Captures (`vmscope capture`) and the one loader of every file a user may open: a snapshot JSON
 * document, a capture, or a bare /proc/PID/smaps text (docs/capture.md).
 *
 * A capture is a snapshot JSON document (docs/snapshot-format.md) exactly as `vmscope snapshot
 * --json` writes it, with one more top-level member, "capture", holding the raw /proc texts the
 * scan parsed (smaps, smaps_rollup, status, stat, cmdline, mountinfo) and a few it did not
 * (maps, comm, task/TID/comm and stat), the capturing host, kernel, time and vmscope version, and
 * the build-ids of the mapped images; the whole is gzip-compressed. Any vmscope that reads
 * snapshots reads the snapshot part; the loader also checks that the raw smaps text parses to
 * exactly the snapshot's regions, so a capture edited by hand is refused.
 *
 * File texts are JSON strings when they are UTF-8 without NUL bytes, else {"base64": "..."}. */
#ifndef VMSCOPE_CAPTURE_H
#define VMSCOPE_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "vmscope/snapshot.h"

#define VMS_CAPTURE_FORMAT "vmscope-capture"
#define VMS_CAPTURE_VERSION 1

/* A growing set of named texts: what opts->on_text handed over during a scan (a file named
 * twice is appended to: smaps arrives in pieces), plus what the capture adds. */
struct vms_capture_texts;
struct vms_capture_texts *vms_capture_texts_new(void); /* NULL on ENOMEM */
void vms_capture_texts_free(struct vms_capture_texts *t);
/* Append buf to the text named name ("smaps", "task/123/stat"). VMS_OK or VMS_ERR_NOMEM (then
 * the set remembers the failure and vms_capture_build fails too). */
int vms_capture_texts_add(struct vms_capture_texts *t, const char *name, const char *buf, size_t len);
/* Add len bytes at offset of the mapped file path (inode, size bytes long) to the set: the
 * vms_capture_range_fn for vms_capture_file_ranges (texts: the set). They go into the capture's
 * "file_ranges". 0, or -1 on ENOMEM (remembered as above). */
int vms_capture_texts_add_range(void *texts, const char *path, uint64_t inode, uint64_t size, uint64_t offset,
                                const void *buf, size_t len);
/* The hook for vms_snapshot_opts.on_text (text_cookie: the set). */
void vms_capture_on_text(void *text_cookie, const char *file, const char *buf, size_t len);

/* What the capture says about where it was taken. */
struct vms_capture_meta {
	const char *vmscope_version; /* "0.1.0 (abc1234)" */
	const char *host, *kernel;   /* uname */
	int64_t captured_at_ms;
};

/* The capture of s: snap_json[0..snap_len) (its snapshot document) with the "capture" member
 * added, gzip-compressed into *out (malloc'd, *out_len bytes). Image build-ids come from s.
 * VMS_OK, VMS_ERR_NOMEM, or VMS_ERR_INVALID when snap_json does not end with '}'. */
int vms_capture_build(const struct vms_snapshot *s, const char *snap_json, size_t snap_len,
                      const struct vms_capture_texts *texts, const struct vms_capture_meta *meta, char **out,
                      size_t *out_len);

/* What vms_load_any found. */
enum vms_load_kind { VMS_LOAD_SNAPSHOT = 1, VMS_LOAD_CAPTURE, VMS_LOAD_SMAPS };

/* Open any file a user may hand us: gzip-compressed or not, a snapshot JSON document, a capture
 * (checked as said above), or a bare smaps text (vms_snapshot_from_smaps; name becomes its name).
 * Decompressed text beyond max_text bytes is refused. *kind (may be NULL) says which it was.
 * VMS_OK with *out; else *out NULL and VMS_ERR_INVALID or VMS_ERR_UNSUPPORTED (err[] says why,
 * in words fit for a user), or VMS_ERR_NOMEM. */
int vms_load_any(const char *buf, size_t len, size_t max_text, const char *name, struct vms_snapshot **out,
                 enum vms_load_kind *kind, char *err, size_t errlen);

/* "a snapshot", "a capture", "a bare smaps file". */
const char *vms_load_kind_name(enum vms_load_kind kind);

#endif
