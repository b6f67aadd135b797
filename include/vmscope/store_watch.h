/* Watches and their samples in the store (the timeline, issue 10). A watch follows one process
 * instance (pid + start_time) at an interval; every tick stores a sample (the per-type summary
 * with every field, the totals and the process's own counters), and every snapshot_every_s (or
 * sooner, when the allocations changed past the watch's threshold: vmscope/churn.h) a
 * full snapshot (an ordinary stored snapshot, source "watch") that the sample points to, so
 * any two points can be diffed through their nearest full snapshots.
 *
 * Layout (store_sql.c, schema 4):
 *   watches         one row per watch: target, interval, schedule, state and note, and the
 *                   byte count of its samples (what counts towards the store's byte limit)
 *   sample_layouts  the type keys and field keys a sample blob is written in, by id: a sample
 *                   names its layout, so a build with more columns or types writes a new
 *                   layout and old samples still read by name (nothing positional on disk
 *                   without its key list beside it)
 *   samples         (watch, t_ms) -> counters as columns + the summary as one compact blob:
 *                   version byte 1, a unit shift (10 when every value is a multiple of 1 KiB,
 *                   else 0), then for each type key of the layout (type '' = totals) and each
 *                   field key a LEB128 varint of value >> shift. Measured size:
 *                   docs/benchmarks.md, "Timeline".
 *   watch_restarts  (schema 5) the restarts a watch on a name followed: when, the new pid and
 *                   start time, the pid before
 *   watch_shares    (schema 8) share links of a watch's timeline, as the snapshot shares
 *                   (vmscope/store.h) with watch_id; deleted with the watch
 * (schema 9 adds to watches the thresholds for full snapshots, NULL when not known)
 * Deleting a watch (purge) deletes its samples and the full snapshots they point to; samples
 * older than the watch's retention are deleted as new ones arrive, with their snapshots.
 *
 * Thread safety and errors as in vmscope/store.h. */
#ifndef VMSCOPE_STORE_WATCH_H
#define VMSCOPE_STORE_WATCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vmscope/snapshot.h"
#include "vmscope/store.h"

#define VMS_WATCH_DEFAULT_INTERVAL_MS 1000u
#define VMS_WATCH_MIN_INTERVAL_MS 100u
#define VMS_WATCH_MAX_INTERVAL_MS 3600000u
#define VMS_WATCH_DEFAULT_SNAPSHOT_EVERY_S 60u
#define VMS_WATCH_DEFAULT_RETENTION_S 86400u
/* Full snapshots by threshold (vmscope/churn.h): also keep one when, since the last one kept,
 * this many allocations appeared or went, or this much committed memory moved between types;
 * but never two by threshold closer than VMS_WATCH_THRESHOLD_MIN_GAP_MS. */
#define VMS_WATCH_DEFAULT_SNAPSHOT_ON_ALLOCATIONS 64u
#define VMS_WATCH_DEFAULT_SNAPSHOT_ON_COMMITTED (128ull * 1024 * 1024)
#define VMS_WATCH_THRESHOLD_MIN_GAP_MS 5000
/* A watch whose samples the store cannot take (disk or --max-bytes full) pauses: it tries again
 * at most this often. */
#define VMS_WATCH_PAUSE_RETRY_MS 5000u

/* Watch states, stored as these words: "running" (sampling), "stopped" (by the user),
 * "exited" (the process ended), "done" (its duration ran out), "failed" (the sampler could not
 * go on: the note says why). Only "running" watches are sampled and resumed. */
#define VMS_WATCH_RUNNING "running"

struct vms_watch {
	int64_t id;
	pid_t pid;
	uint64_t start_time; /* the process instance (stat field 22) */
	char *name;          /* comm when the watch started (malloc'd) */
	int64_t created_at_ms;
	int64_t ends_at_ms;  /* 0: until stopped or the process exits */
	int64_t ended_at_ms; /* 0 while running */
	uint32_t interval_ms, snapshot_every_s, retention_s;
	char *state; /* malloc'd, one of the words above */
	char *note;  /* malloc'd, "" when none: why it ended, backing off, skipped ticks ... */
	int follow;  /* 1: a watch on the name: when the process exits, the sampler follows the
	              * newest process of that name (comm); pid and start_time are the current one */
	/* Full snapshots by threshold (0: that measure off), stored since schema 9. has_thresholds
	 * 0: not known (a watch stored by an older vmscope, or imported from a timeline file; create
	 * stores NULL): the two are then 0, and a resumed watch uses the defaults. */
	int has_thresholds;
	uint32_t snapshot_on_allocations;
	uint64_t snapshot_on_committed;
	/* Read only (derived): */
	uint64_t n_samples, sample_bytes;
	int64_t first_ms, last_ms; /* of its samples; 0 when none */
	uint64_t n_restarts;       /* restarts followed (follow = 1) */
};

/* A restart a watch on a name followed. */
struct vms_watch_restart {
	int64_t t_ms; /* when the sampler found the new process */
	pid_t pid, old_pid;
	uint64_t start_time;
};
void vms_watch_clear(struct vms_watch *w); /* frees the strings; accepts NULL */
void vms_watch_array_free(struct vms_watch *w, size_t n);

/* Sample flags. */
#define VMS_SAMPLE_GAP_BEFORE 1u /* the sampler did not run before this sample (daemon restart) */
#define VMS_SAMPLE_RESTART 2u    /* the first sample of a new process (a watch on a name) */
#define VMS_SAMPLE_THRESHOLD                                                                                 \
	4u /* its full snapshot was kept because the allocations changed past                                \
	    * the watch's threshold, not by the schedule (vmscope/churn.h) */

struct vms_sample {
	int64_t t_ms; /* Unix ms of the scan */
	unsigned flags;
	struct vms_type_summary summary[VMS_TYPE_COUNT];
	uint64_t total[VMS_COL_COUNT];
	uint64_t threads, vm_rss, vm_swap, min_flt, maj_flt;
	int64_t snapshot_id; /* the full snapshot taken with it, or 0 */
	/* Read only: */
	uint64_t bytes;                        /* stored size of the row's data */
	uint64_t n_merged;                     /* samples it stands for (1, or a bucket's count) */
	uint64_t committed_min, committed_max; /* total committed over those samples */
};

/* Create a watch from w's target and schedule (state "running", note ""); *id = its id. */
int vms_store_watch_create(struct vms_store *st, const struct vms_watch *w, int64_t *id);
/* One watch (VMS_ERR_NOT_FOUND), or all of them, newest first (caller frees with
 * vms_watch_array_free). */
int vms_store_watch_get(struct vms_store *st, int64_t id, struct vms_watch *out);
int vms_store_watch_list(struct vms_store *st, struct vms_watch **out, size_t *n);
/* The running watches, newest first, cheaply (for every /metrics scrape): n_samples and
 * first_ms are left 0; last_ms is the time of the newest sample (0 when none). */
int vms_store_watch_list_running(struct vms_store *st, struct vms_watch **out, size_t *n);
/* Set the state (NULL: unchanged), note (NULL: unchanged) and ended_at_ms (< 0: unchanged). */
int vms_store_watch_update(struct vms_store *st, int64_t id, const char *state, const char *note,
                           int64_t ended_at_ms);
/* A watch on a name found its process again: make (pid, start_time) its target and record the
 * restart at t_ms (old_pid: the pid before). VMS_ERR_NOT_FOUND when there is no such watch. */
int vms_store_watch_retarget(struct vms_store *st, int64_t id, pid_t pid, uint64_t start_time, pid_t old_pid,
                             int64_t t_ms);
/* The restarts watch id followed, oldest first (at most 1,000); caller frees *out with free(). */
int vms_store_watch_restarts(struct vms_store *st, int64_t id, struct vms_watch_restart **out, size_t *n);
/* Delete a watch with its samples and the full snapshots they point to. */
int vms_store_watch_delete(struct vms_store *st, int64_t id);

/* Store one sample of watch id. Before inserting, samples older than t_ms - retention are
 * deleted (with their snapshots); when the store's byte limit (snapshot bodies + samples) has
 * no room, this watch's oldest samples make room. VMS_ERR_FULL when even that leaves none.
 * VMS_ERR_NOT_FOUND when there is no such watch. */
int vms_store_sample_put(struct vms_store *st, int64_t id, const struct vms_sample *s);
/* A sample to store with vms_store_samples_put, and what became of it. */
struct vms_sample_put {
	int64_t watch_id;
	struct vms_sample sample;
	int err; /* out: vms_store_sample_put's answer for this one */
};
/* Store n samples (of one watch or several) as vms_store_sample_put does each, in one
 * transaction (one commit: what a sampler with many watches saves). When any one of them
 * cannot be stored, none is stored that way: each is then stored on its own, so each gets its
 * own answer in items[i].err and one watch's failure (deleted, full) costs the others nothing. */
void vms_store_samples_put(struct vms_store *st, struct vms_sample_put *items, size_t n);
/* The samples of watch id with from_ms <= t_ms <= to_ms (0/0: all), oldest first; caller frees
 * *out with free(). */
int vms_store_samples(struct vms_store *st, int64_t id, int64_t from_ms, int64_t to_ms,
                      struct vms_sample **out, size_t *n);
/* How many samples watch id has in [from_ms, to_ms] (to_ms 0: no end) and the first and last
 * one's time (0 when none). */
int vms_store_samples_stats(struct vms_store *st, int64_t id, int64_t from_ms, int64_t to_ms, uint64_t *count,
                            int64_t *first_ms, int64_t *last_ms);
/* The newest sample of watch id into *out; VMS_ERR_NOT_FOUND when it has none. */
int vms_store_sample_latest(struct vms_store *st, int64_t id, struct vms_sample *out);
/* Downsampled in SQL: buckets of bucket_ms (> 0) from from_ms; for each bucket with samples its
 * last sample, with n_merged, committed_min/_max over the bucket, flags OR'd over it and the
 * bucket's newest snapshot_id. Oldest first; caller frees *out. */
int vms_store_samples_downsampled(struct vms_store *st, int64_t id, int64_t from_ms, int64_t to_ms,
                                  int64_t bucket_ms, struct vms_sample **out, size_t *n);
/* What GET /api/v1/watches/{id}/samples serves: the samples of watch id in [from_ms, to_ms]
 * (to_ms 0: no end) as at most max_points points. *count = how many samples the range holds.
 * When that is at most max_points: every one of them, *bucket_ms = 0; else downsampled as
 * vms_store_samples_downsampled does, in buckets of *bucket_ms = (last - first) / max_points + 1
 * from the range's first sample. One pass over the range's index rows (counting and bucketing
 * together), the range's ends found by key. Oldest first; caller frees *out. */
int vms_store_samples_points(struct vms_store *st, int64_t id, int64_t from_ms, int64_t to_ms,
                             uint64_t max_points, struct vms_sample **out, size_t *n, uint64_t *count,
                             int64_t *bucket_ms);
/* The sample with a full snapshot nearest to t_ms (*snapshot_id, *at_ms); VMS_ERR_NOT_FOUND
 * when the watch has none. */
int vms_store_sample_nearest_snapshot(struct vms_store *st, int64_t id, int64_t t_ms, int64_t *snapshot_id,
                                      int64_t *at_ms);

/* Share links of a watch's timeline (schema 8, table watch_shares): the model and the calls of
 * the snapshot shares in vmscope/store.h (expiry, view limit, constant-time secret; revoke with
 * vms_store_share_revoke), with watch_id set instead of snapshot_id. A watch token is unknown
 * to the snapshot share calls and a snapshot token to these. Deleting the watch deletes its
 * links. create: VMS_ERR_NOT_FOUND when there is no such watch. */
int vms_store_watch_share_create(struct vms_store *st, int64_t watch_id, const struct vms_share_spec *spec,
                                 struct vms_share *out);
int vms_store_watch_share_get(struct vms_store *st, const char *token, struct vms_share *out);
int vms_store_watch_share_view(struct vms_store *st, const char *token, int64_t now_ms, struct vms_share *out,
                               int *counted);
int vms_store_watch_share_list(struct vms_store *st, int64_t watch_id, struct vms_share **out, size_t *n);
/* VMS_OK when snapshot_id is a full snapshot one of watch_id's samples points to, else
 * VMS_ERR_NOT_FOUND: what a watch's share link may open. */
int vms_store_watch_has_snapshot(struct vms_store *st, int64_t watch_id, int64_t snapshot_id);

#endif
