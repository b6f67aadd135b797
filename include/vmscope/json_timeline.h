/* The timeline document: what `vmscope watch -o FILE` writes and the daemon imports
 * (POST /api/v1/watches/import). docs/timeline-format.md describes it; in short it is JSON
 * Lines, one JSON object per line:
 *   {"format":"vmscope-timeline","format_version":1,"process":{...},"interval_ms":...}   head
 *   {"sample":{SAMPLE,"full_snapshot":true|false}}                                        a tick
 *   {SNAPSHOT DOCUMENT}     right after a sample with "full_snapshot":true (snapshot-format.md)
 *   {"end":{"at_ms":...,"note":"...","samples":N,"snapshots":M}}                           last
 * SAMPLE is the object of GET /api/v1/watches/{id}/samples (t_ms, counters, total, types).
 * Unknown members are skipped; a file without its end line is refused as truncated.
 * Depends on core + cJSON; struct vms_sample is the store's plain struct (header only). */
#ifndef VMSCOPE_JSON_TIMELINE_H
#define VMSCOPE_JSON_TIMELINE_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vmscope/snapshot.h"
#include "vmscope/store_watch.h"

#define VMS_TIMELINE_FORMAT "vmscope-timeline"
#define VMS_TIMELINE_FORMAT_VERSION 1

/* The head line: which process, how it was sampled. */
struct vms_timeline_head {
	pid_t pid;
	uint64_t start_time;
	char name[256];
	char host[256];
	uint32_t interval_ms, snapshot_every_s;
	int64_t started_at_ms;
};

/* A sample as the API's JSON object (each element of vms_json_write_samples' "samples"):
 * t_ms, gap_before, restart, snapshot_by_threshold, snapshot_id (null when none), threads,
 * vm_rss, vm_swap, min_flt, maj_flt, total {columns}, types {type: {blocks, largest, regions,
 * columns}} with empty types left out. Only the columns in colmask (bit 1 << enum vms_col) in
 * "total" and each type; blocks, largest and regions only with every column
 * (VMS_SAMPLE_ALL_COLUMNS). */
#define VMS_SAMPLE_ALL_COLUMNS ((1u << VMS_COL_COUNT) - 1u)

/* The answer of GET /api/v1/watches/{id}/samples (docs/api.md, "Watches"). */
struct vms_samples_answer {
	int64_t watch_id;
	uint64_t count;                   /* samples in the range (before downsampling) */
	const char *watch_state;          /* "running", "stopped", ... */
	int waited;                       /* live.waited: the request waited for a new sample */
	const char *refused;              /* live.refused: why it did not wait, or NULL (null) */
	int64_t bucket_ms;                /* > 0: downsampled into buckets of that many ms; else 0 */
	const struct vms_sample *samples; /* n of them, oldest first */
	size_t n;
	uint32_t colmask; /* the columns of each sample, as above */
};
/* {"watch_id", "count", "watch_state", "live":{"waited","refused"}, "downsampled", "bucket_ms"
 * (null when not), "samples":[each sample as above, downsampled ones followed by
 * "samples" (n_merged), "committed_min", "committed_max"]}, written directly. *out is malloc'd.
 * VMS_OK or VMS_ERR_NOMEM. */
int vms_json_write_samples(const struct vms_samples_answer *a, char **out, size_t *len);
/* That object back into *out (zeroed first; unknown keys skipped). VMS_OK or VMS_ERR_INVALID
 * with a sentence in errbuf. */
int vms_json_sample_read(const cJSON *o, struct vms_sample *out, char *errbuf, size_t errlen);

/* The head, sample and end lines as text ending in '\n' (malloc'd; NULL on ENOMEM). */
char *vms_json_timeline_head(const struct vms_timeline_head *h);
char *vms_json_timeline_sample(const struct vms_sample *s, int full_snapshot);
char *vms_json_timeline_end(int64_t at_ms, const char *note, uint64_t n_samples, uint64_t n_snapshots);

/* Reading a document: head() once, sample() for each tick in order (snap: its full snapshot, or
 * NULL; the callee owns it and frees it with vms_snapshot_free), end() once. A callback
 * returning an error code (non-zero) stops the read with it. */
struct vms_timeline_sink {
	int (*head)(void *arg, const struct vms_timeline_head *h);
	int (*sample)(void *arg, const struct vms_sample *s, struct vms_snapshot *snap);
	int (*end)(void *arg, int64_t at_ms, const char *note);
	void *arg;
};
/* Returns VMS_OK, a callback's code, VMS_ERR_INVALID (not a timeline, a bad line, truncated:
 * errbuf says which line and why), VMS_ERR_UNSUPPORTED (a newer format_version) or
 * VMS_ERR_NOMEM. */
int vms_json_timeline_read(const char *text, size_t len, const struct vms_timeline_sink *sink, char *errbuf,
                           size_t errlen);

#endif
