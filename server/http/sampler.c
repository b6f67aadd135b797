/* The timeline sampler: one thread that runs every running watch at its interval (docs/api.md,
 * "Watches"). Each tick reads the process's counters, takes a scan through the same scan lock
 * as interactive scans, and stores a sample (and, every snapshot_every_s, the full snapshot).
 *
 * Interactive first: the sampler never waits for the scan lock. When an interactive scan holds
 * it or waits for it (h->scan_waiting), the tick is skipped and the watch's note says so. It
 * does not use the interactive rate limit either: its own pace is the watches' intervals.
 * A tick that takes longer than the interval backs the watch off (twice the tick's duration,
 * at most VMS_WATCH_MAX_INTERVAL_MS) and says so; it returns to its interval once ticks are fast
 * again. A watch ends when its process exits (or its pid now names another process: the start
 * time differs), when its duration runs out, or when it is stopped; the note says which and when.
 *
 * Samples are written in groups: a tick queues its sample, and the queue is written in one
 * transaction (vms_store_samples_put) when the sampler has nothing due before the oldest queued
 * sample is FLUSH_WINDOW_MS old, when that age is reached, when PENDING_MAX are queued, and
 * before a watch is removed or the sampler stops. A lone watch at 1 Hz is written at once
 * after each tick; many watches, or short intervals, share one commit (one WAL write of the
 * same few pages instead of one per sample). A sample is visible (GET, long polls) once
 * written: at most FLUSH_WINDOW_MS after its tick. A paused watch (full store) writes its
 * samples at once, as before. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http_internal.h"
#include "vmscope/churn.h"
#include "vmscope/counters.h"
#include "vmscope/error.h"
#include "vmscope/proclist.h"
#include "vmscope/store_watch.h"
#include "vmscope/util.h"

#define NOTE_MAX 768        /* room for the database directory's path in a paused note */
#define FLUSH_WINDOW_MS 500 /* the longest a queued sample waits to be written */
#define PENDING_MAX 64      /* queued samples written at once, at most */

struct active {
	int64_t id;
	pid_t pid;
	uint64_t start_time;
	uint32_t interval_ms, eff_interval_ms, snapshot_every_s;
	int64_t ends_at_ms;
	int64_t next_mono_ms;     /* when the next tick is due (CLOCK_MONOTONIC) */
	int64_t last_snapshot_ms; /* wall clock of the last full snapshot, 0 none yet */
	int gap_next;             /* the next sample follows a gap (daemon restart) */
	int follow;               /* a watch on a name: follow the process across restarts */
	int restart_next;         /* the next sample is the first of a new process */
	int64_t gone_at_ms;       /* follow: when the process was found gone (0 while it runs) */
	int64_t next_search_mono; /* follow: when to look for a new process next */
	char name[64];            /* the process's name (comm) */
	int busy;                 /* a tick is running (outside the lock) */
	int removed;              /* stopped while a tick ran: drop after it */
	uint64_t skipped_busy, ticks;
	int64_t last_tick_ms;    /* duration of the last tick */
	int64_t last_sample_ms;  /* t_ms of the last sample stored, 0 none since the daemon started */
	char note[NOTE_MAX];     /* the note last written to the store (or that failed: note_unsaved) */
	int note_unsaved;        /* writing the note failed on a full store: retried */
	int64_t paused_since_ms; /* the store is full: samples are not stored since then (0: not) */
	uint64_t unstored;       /* ticks not stored while paused */
	int backoff_note;        /* that note is the back-off's: cleared when ticks are fast again */
	/* full snapshots by threshold (vmscope/churn.h) */
	uint32_t on_allocations;
	uint64_t on_committed;
	int64_t last_threshold_ms; /* wall clock of the last one kept by threshold */
	uint64_t threshold_snapshots;
	struct vms_churn_base base; /* the last full snapshot kept (owned: drop_active frees it) */
	struct vms_scan_memo *memo; /* what its scans keep between ticks (owned: drop_active frees it) */
};

struct vms_sampler {
	struct vms_http *h;
	pthread_t thread;
	int started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_cond_t
	    tick_done;       /* broadcast after every tick (vms_sampler_remove and long polls wait on it) */
	pthread_cond_t idle; /* broadcast when the last long poll leaves (vms_sampler_stop waits) */
	unsigned waiters;    /* long polls waiting (at most VMS_SAMPLER_MAX_WAITERS) */
	int stop;
	struct active *w;
	size_t n, cap;
	/* The queue of samples not written yet (under lock; see the top of this file), and the
	 * batch being written (the sampler thread's, while flushing is set). */
	struct vms_sample_put *pending, *batch;
	size_t n_pending;
	int64_t oldest_pending_mono; /* when the oldest queued sample was queued */
	int flushing;                /* a batch is being written (the lock is not held meanwhile) */
	int flush_now;               /* vms_sampler_remove wants the queue written */
};

/* Write a note when it differs from the last one (the store is not written every tick). */
static void set_note(struct vms_sampler *sp, struct active *a, const char *note)
{
	if (!strcmp(a->note, note) && !a->note_unsaved)
		return;
	snprintf(a->note, sizeof a->note, "%s", note);
	/* on a full disk this fails: kept in memory (GET shows it) and written once there is room */
	a->note_unsaved = vms_store_watch_update(sp->h->store, a->id, NULL, a->note, -1) == VMS_ERR_FULL;
}

/* A sample could not be stored because the store or its disk is full (err VMS_ERR_FULL): the
 * watch pauses (nothing stored is touched; it scans at most every VMS_WATCH_PAUSE_RETRY_MS and
 * tries again, without full snapshots, until a sample is stored). */
static void pause_full(struct vms_sampler *sp, struct active *a, int64_t now)
{
	if (!a->paused_since_ms) {
		a->paused_since_ms = now;
		a->unstored = 0;
		vms_log(sp->h, VMS_LOG_ERROR, "watch %lld paused: the store cannot take its samples",
		        (long long)a->id);
	}
	a->unstored++;
}

/* The note of a paused watch. */
static void pause_note(struct vms_sampler *sp, const struct active *a, char *note, size_t size)
{
	char since[40], dir[512];
	vms_format_time_ms(a->paused_since_ms, since, sizeof since);
	if (vms_store_disk_full(sp->h->store)) {
		vms_db_dir(sp->h, dir, sizeof dir);
		snprintf(note, size,
		         "paused since %s: the disk holding %s is full (%llu tick(s) not stored; what is "
		         "stored is intact); it resumes by itself when there is room",
		         since, dir, (unsigned long long)a->unstored);
	} else {
		snprintf(note, size,
		         "paused since %s: the store is full (--max-bytes; %llu tick(s) not stored); it "
		         "resumes by itself when there is room",
		         since, (unsigned long long)a->unstored);
	}
}

static void end_watch(struct vms_sampler *sp, struct active *a, const char *state, const char *note)
{
	vms_store_watch_update(sp->h->store, a->id, state, note, vms_wall_ms());
	vms_log(sp->h, VMS_LOG_INFO, "watch %lld %s: %s", (long long)a->id, state, note);
	a->removed = 1;
}

/* The newest readable, live process named name other than the instance (pid, start_time).
 * 1 found, 0 none; *several: how many others match. */
static int find_successor(const char *name, pid_t pid, uint64_t start_time, pid_t *out_pid,
                          uint64_t *out_start, size_t *several)
{
	struct vms_proclist l;
	int found = 0;
	*several = 0;
	if (vms_proclist_read(NULL, &l) != VMS_OK)
		return 0;
	for (size_t i = 0; i < l.n; i++) {
		const struct vms_proc *p = &l.procs[i];
		if (!p->name || strcmp(p->name, name) != 0 || p->state == 'Z' || !p->maps_readable ||
		    p->kernel_thread || (p->pid == pid && p->start_time == start_time))
			continue;
		if (found)
			(*several)++;
		if (!found || p->start_time > *out_start) {
			*out_pid = p->pid;
			*out_start = p->start_time;
		}
		found = 1;
	}
	vms_proclist_free(&l);
	return found;
}

/* A watch on a name whose process is gone: retarget it to the newest process of that name, or
 * say that it waits for one (the watch keeps running). */
static void follow(struct vms_sampler *sp, struct active *a, int64_t now)
{
	char note[NOTE_MAX], when[40], gone[40];
	pid_t pid = 0;
	uint64_t start = 0;
	size_t several = 0;
	if (!a->gone_at_ms)
		a->gone_at_ms = now;
	a->next_search_mono = vms_mono_ms() + 1000; /* a process list at most once a second */
	vms_format_time_ms(a->gone_at_ms, gone, sizeof gone);
	if (!find_successor(a->name, a->pid, a->start_time, &pid, &start, &several)) {
		snprintf(note, sizeof note,
		         "process %d (%s) exited (seen at %s); waiting for a new process named %s",
		         (int)a->pid, a->name, gone, a->name);
		set_note(sp, a, note);
		return;
	}
	vms_format_time_ms(now, when, sizeof when);
	int err = vms_store_watch_retarget(sp->h->store, a->id, pid, start, a->pid, now);
	if (err != VMS_OK) {
		snprintf(note, sizeof note, "cannot follow %s to pid %d: %s", a->name, (int)pid,
		         vms_strerror(err));
		set_note(sp, a, note);
		return;
	}
	snprintf(note, sizeof note,
	         "followed %s across a restart: pid %d exited (seen at %s), pid %d found at %s%s", a->name,
	         (int)a->pid, gone, (int)pid, when, several ? " (the newest of several with that name)" : "");
	vms_log(sp->h, VMS_LOG_INFO, "watch %lld: %s", (long long)a->id, note);
	set_note(sp, a, note);
	a->pid = pid;
	a->start_time = start;
	a->restart_next = 1;
	a->gone_at_ms = 0;
	a->last_snapshot_ms = 0; /* a full snapshot of the new process at once */
	a->base.set = 0;
}

/* Is a full snapshot due with s: by the schedule (every snapshot_every_s, and the first), or
 * because the allocations changed past the watch's threshold since the last one kept
 * (*by_threshold = 1; at most one per VMS_WATCH_THRESHOLD_MIN_GAP_MS)? Thresholds apply even
 * with snapshot_every_s 0 (then only the first is by schedule). */
static int full_snapshot_due(const struct active *a, const struct vms_snapshot *s, int64_t now,
                             int *by_threshold)
{
	struct vms_churn c;
	*by_threshold = 0;
	if (!a->last_snapshot_ms && a->snapshot_every_s)
		return 1;
	if (a->snapshot_every_s && now - a->last_snapshot_ms >= (int64_t)a->snapshot_every_s * 1000)
		return 1;
	if (a->last_threshold_ms && now - a->last_threshold_ms < VMS_WATCH_THRESHOLD_MIN_GAP_MS)
		return 0;
	vms_churn_measure(&a->base, s, &c);
	*by_threshold = vms_churn_past(&c, a->on_allocations, a->on_committed);
	return *by_threshold;
}

/* Take the i-th active watch out of the array (the caller holds the lock). */
static void drop_active(struct vms_sampler *sp, size_t i)
{
	vms_churn_clear(&sp->w[i].base);
	vms_scan_memo_free(sp->w[i].memo);
	sp->w[i] = sp->w[--sp->n];
}

static struct active *find_active(struct vms_sampler *sp, int64_t id)
{
	for (size_t i = 0; i < sp->n; i++)
		if (sp->w[i].id == id)
			return &sp->w[i];
	return NULL;
}

/* Write the queued samples in one transaction (the caller holds the lock: it is released while
 * writing, and flushing keeps a second flush and vms_sampler_remove waiting). Each one's outcome
 * goes to its watch as tick() does for a sample written at once. Called by the sampler thread
 * between ticks only (no watch is busy then). */
static void flush(struct vms_sampler *sp)
{
	char note[NOTE_MAX], when[40];
	struct vms_sample_put *b = sp->pending;
	size_t n = sp->n_pending;
	if (!n || sp->flushing)
		return;
	sp->pending = sp->batch;
	sp->batch = b;
	sp->n_pending = 0;
	sp->flush_now = 0;
	sp->flushing = 1;
	pthread_mutex_unlock(&sp->lock);
	vms_store_samples_put(sp->h->store, b, n);
	pthread_mutex_lock(&sp->lock);
	int64_t now = vms_wall_ms();
	for (size_t k = 0; k < n; k++) {
		struct active *a = find_active(sp, b[k].watch_id);
		if (!a) /* ended or removed since its tick */
			continue;
		if (b[k].err == VMS_OK) {
			if (b[k].sample.t_ms > a->last_sample_ms)
				a->last_sample_ms = b[k].sample.t_ms;
		} else if (b[k].err == VMS_ERR_NOT_FOUND) { /* deleted meanwhile */
			a->removed = 1;
		} else if (b[k].err == VMS_ERR_FULL) { /* its next tick says so and retries slowly */
			pause_full(sp, a, now);
		} else {
			vms_format_time_ms(b[k].sample.t_ms, when, sizeof when);
			snprintf(note, sizeof note, "sample at %s not stored: %s", when,
			         vms_strerror(b[k].err));
			set_note(sp, a, note);
		}
	}
	for (size_t i = sp->n; i-- > 0;)
		if (sp->w[i].removed)
			drop_active(sp, i);
	sp->flushing = 0;
	pthread_cond_broadcast(&sp->tick_done); /* long polls, and vms_sampler_remove */
}

/* Is a sample of watch id queued or being written? */
static int has_unwritten(const struct vms_sampler *sp, int64_t id)
{
	if (sp->flushing)
		return 1;
	for (size_t k = 0; k < sp->n_pending; k++)
		if (sp->pending[k].watch_id == id)
			return 1;
	return 0;
}

/* One tick of watch a (the sampler's lock is not held; a->busy keeps a alive). Its sample is
 * put in *queued (queued->watch_id set) to be written with others, or, while the watch is
 * paused, written here. */
static void tick(struct vms_sampler *sp, struct active *a, struct vms_sample_put *queued)
{
	struct vms_http *h = sp->h;
	char note[NOTE_MAX], when[40];
	int64_t t0 = vms_mono_ms(), now = vms_wall_ms();
	struct vms_counters c;
	struct vms_snapshot *s = NULL;

	if (a->ends_at_ms && now >= a->ends_at_ms) {
		vms_format_time_ms(now, when, sizeof when);
		snprintf(note, sizeof note, "its duration ran out at %s", when);
		end_watch(sp, a, "done", note);
		return;
	}
	if (a->gone_at_ms) { /* a watch on a name waiting for its process to come back */
		if (vms_mono_ms() >= a->next_search_mono)
			follow(sp, a, now);
		return;
	}
	/* Interactive scans first: never wait for the lock, never take it from a waiter. */
	if (__atomic_load_n(&h->scan_waiting, __ATOMIC_ACQUIRE) > 0 ||
	    pthread_mutex_trylock(&h->scan_lock) != 0) {
		a->skipped_busy++;
		snprintf(note, sizeof note,
		         "%llu tick(s) skipped because an interactive scan had the scanner (interactive "
		         "scans go first)",
		         (unsigned long long)a->skipped_busy);
		set_note(sp, a, note);
		return;
	}
	/* The counters come from the scan's own stat and status (one read of each per tick). */
	struct vms_snapshot_opts opts = {.read_rollup = 0,
	                                 .thread_stacks = 1,
	                                 .no_peek = 0,
	                                 .file_cache = h->file_cache,
	                                 .memo = a->memo,
	                                 .counters = &c};
	double s0 = vms_stats_now();
	memset(&c, 0, sizeof c);
	int err = vms_snapshot_take(a->pid, &opts, &s);
	vms_stats_scan(&h->stats, VMS_SCAN_WATCH, err == VMS_OK, vms_stats_now() - s0);
	if (c.start_time && c.start_time != a->start_time)
		err = VMS_ERR_NO_SUCH_PROCESS; /* the pid names another process now */
	else if (err == VMS_OK && s->start_time != a->start_time)
		err = VMS_ERR_NO_SUCH_PROCESS;
	else if (c.state == 'Z')
		err = VMS_ERR_EXITED; /* a zombie (even one whose threads live on) has exited */
	pthread_mutex_unlock(&h->scan_lock);
	now = vms_wall_ms();
	vms_format_time_ms(now, when, sizeof when);
	if ((err == VMS_ERR_NO_SUCH_PROCESS || err == VMS_ERR_EXITED || err == VMS_ERR_NO_ADDRESS_SPACE) &&
	    a->follow) {
		follow(sp, a, now);
		goto out;
	}
	if (err == VMS_ERR_NO_SUCH_PROCESS || err == VMS_ERR_EXITED || err == VMS_ERR_NO_ADDRESS_SPACE) {
		snprintf(note, sizeof note, "process %d exited (seen at %s)", (int)a->pid, when);
		end_watch(sp, a, "exited", note);
		goto out;
	}
	if (err != VMS_OK) {
		snprintf(note, sizeof note, "scan of process %d failed at %s: %s", (int)a->pid, when,
		         vms_strerror(err));
		end_watch(sp, a, "failed", note);
		goto out;
	}

	struct vms_sample smp;
	memset(&smp, 0, sizeof smp);
	smp.t_ms = s->taken_at_ms ? s->taken_at_ms : now;
	smp.flags = (a->gap_next ? VMS_SAMPLE_GAP_BEFORE : 0) | (a->restart_next ? VMS_SAMPLE_RESTART : 0);
	memcpy(smp.summary, s->summary, sizeof smp.summary);
	memcpy(smp.total, s->total, sizeof smp.total);
	smp.threads = (uint64_t)(s->status.threads > 0 ? s->status.threads : c.threads);
	smp.vm_rss = s->status.vm_rss;
	smp.vm_swap = s->status.vm_swap;
	smp.min_flt = c.min_flt;
	smp.maj_flt = c.maj_flt;
	note[0] = '\0';
	int by_threshold = 0;
	if (a->paused_since_ms)
		smp.flags |= VMS_SAMPLE_GAP_BEFORE; /* ticks were not stored: a gap before this one */
	if (!a->paused_since_ms && full_snapshot_due(a, s, now, &by_threshold)) {
		int64_t sid = 0;
		int perr = vms_store_put(h->store, s, VMS_SOURCE_WATCH, NULL, 0, &sid);
		if (perr == VMS_OK) {
			smp.snapshot_id = sid;
			a->last_snapshot_ms = now;
			if (by_threshold) {
				smp.flags |= VMS_SAMPLE_THRESHOLD;
				a->last_threshold_ms = now;
				a->threshold_snapshots++;
			}
			if (vms_churn_remember(&a->base, s) != VMS_OK)
				vms_churn_clear(&a->base); /* out of memory: measured from the next scan */
		} else {
			snprintf(note, sizeof note, "full snapshot not stored at %s: %s", when,
			         vms_strerror(perr));
		}
	}
	if (!a->base.set && (a->on_allocations || a->on_committed) &&
	    vms_churn_remember(&a->base, s) != VMS_OK)
		vms_churn_clear(&a->base); /* no full snapshot yet (snapshot_every_s 0): measure from here */
	if (!a->paused_since_ms) {         /* written with others: flush() */
		queued->watch_id = a->id;
		queued->sample = smp;
		a->gap_next = 0;
		a->restart_next = 0;
		err = VMS_OK;
		goto stored;
	}
	err = vms_store_sample_put(h->store, a->id, &smp);
	if (err == VMS_ERR_NOT_FOUND) { /* deleted meanwhile */
		a->removed = 1;
		goto out;
	}
	if (err == VMS_ERR_FULL) {
		pause_full(sp, a, now);
	} else if (err != VMS_OK) {
		snprintf(note, sizeof note, "sample at %s not stored: %s", when, vms_strerror(err));
	} else {
		a->gap_next = 0;
		a->restart_next = 0;
		a->last_sample_ms = smp.t_ms;
		if (a->paused_since_ms) {
			char since[40];
			vms_format_time_ms(a->paused_since_ms, since, sizeof since);
			snprintf(note, sizeof note,
			         "resumed at %s: the store was full from %s (%llu tick(s) not stored)", when,
			         since, (unsigned long long)a->unstored);
			a->paused_since_ms = 0;
			a->eff_interval_ms = a->interval_ms;
		}
	}
stored:
	a->ticks++;

	/* Back off when a tick takes longer than the interval. */
	a->last_tick_ms = vms_mono_ms() - t0;
	if (a->last_tick_ms > (int64_t)a->eff_interval_ms) {
		int64_t want = a->last_tick_ms * 2;
		a->eff_interval_ms =
		    want > VMS_WATCH_MAX_INTERVAL_MS ? VMS_WATCH_MAX_INTERVAL_MS : (uint32_t)want;
		snprintf(note, sizeof note,
		         "a tick takes %lld ms, longer than the interval of %u ms: sampling every %u ms "
		         "instead",
		         (long long)a->last_tick_ms, a->interval_ms, a->eff_interval_ms);
	} else if (a->eff_interval_ms > a->interval_ms && a->last_tick_ms * 2 <= (int64_t)a->interval_ms) {
		a->eff_interval_ms = a->interval_ms;
	} else if (a->eff_interval_ms > a->interval_ms && !note[0]) {
		snprintf(note, sizeof note,
		         "a tick takes %lld ms, longer than the interval of %u ms: sampling every %u ms "
		         "instead",
		         (long long)a->last_tick_ms, a->interval_ms, a->eff_interval_ms);
	}
	if (a->paused_since_ms) { /* paused: scan at most every VMS_WATCH_PAUSE_RETRY_MS */
		if (a->eff_interval_ms < VMS_WATCH_PAUSE_RETRY_MS)
			a->eff_interval_ms = VMS_WATCH_PAUSE_RETRY_MS;
		pause_note(sp, a, note, sizeof note);
		set_note(sp, a, note);
	} else if (note[0]) {
		set_note(sp, a, note);
		a->backoff_note = a->eff_interval_ms > a->interval_ms;
	} else if (a->backoff_note && a->eff_interval_ms == a->interval_ms) {
		snprintf(note, sizeof note, "back to the interval of %u ms at %s", a->interval_ms, when);
		set_note(sp, a, note);
		a->backoff_note = 0;
	}
out:
	vms_snapshot_free(s);
}

static void *sampler_main(void *arg)
{
	struct vms_sampler *sp = arg;
	pthread_mutex_lock(&sp->lock);
	while (!sp->stop) {
		int64_t now = vms_mono_ms(), soonest = now + 1000;
		struct active *due = NULL;
		for (size_t i = 0; i < sp->n; i++) {
			struct active *a = &sp->w[i];
			if (a->next_mono_ms <= now && (!due || a->next_mono_ms < due->next_mono_ms))
				due = a;
			if (a->next_mono_ms < soonest)
				soonest = a->next_mono_ms;
		}
		if (sp->n_pending) {
			int64_t deadline = sp->oldest_pending_mono + FLUSH_WINDOW_MS;
			/* now, or (nothing due) when no tick comes before the deadline */
			if (sp->flush_now || sp->n_pending >= PENDING_MAX || now >= deadline ||
			    (!due && soonest >= deadline)) {
				flush(sp);
				continue;
			}
			if (soonest > deadline)
				soonest = deadline;
		}
		if (!due) {
			struct timespec until;
			clock_gettime(CLOCK_MONOTONIC, &until);
			int64_t wait = soonest - now;
			until.tv_sec += wait / 1000;
			until.tv_nsec += (wait % 1000) * 1000000;
			if (until.tv_nsec >= 1000000000) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&sp->cond, &sp->lock, &until);
			continue;
		}
		/* Schedule from the tick's start: a slow tick backs off in tick(). */
		due->busy = 1;
		struct active copy = *due;
		int64_t id = due->id;
		struct vms_sample_put *queued = &sp->pending[sp->n_pending]; /* room: flushed above */
		queued->watch_id = 0;
		pthread_mutex_unlock(&sp->lock);
		tick(sp, &copy, queued);
		pthread_mutex_lock(&sp->lock);
		if (queued->watch_id && !sp->n_pending++)
			sp->oldest_pending_mono = vms_mono_ms();
		for (size_t i = 0; i < sp->n; i++) {
			struct active *a = &sp->w[i];
			if (a->id != id)
				continue;
			int removed = a->removed || copy.removed;
			copy.removed = removed;
			copy.busy = 0;
			copy.next_mono_ms = now + copy.eff_interval_ms;
			if (copy.next_mono_ms <= vms_mono_ms()) /* never run back to back */
				copy.next_mono_ms = vms_mono_ms() + copy.eff_interval_ms / 2 + 1;
			*a = copy;
			if (removed)
				drop_active(sp, i);
			break;
		}
		pthread_cond_broadcast(&sp->tick_done);
	}
	flush(sp); /* what the last ticks queued */
	pthread_mutex_unlock(&sp->lock);
	return NULL;
}

/* Add a running watch (first tick right away). gap: it resumes after a restart. */
static int add_active(struct vms_sampler *sp, const struct vms_watch *w, int gap, const char *note)
{
	pthread_mutex_lock(&sp->lock);
	if (sp->n == sp->cap) {
		size_t cap = sp->cap ? sp->cap * 2 : 8;
		struct active *p = realloc(sp->w, cap * sizeof *p);
		if (!p) {
			pthread_mutex_unlock(&sp->lock);
			return VMS_ERR_NOMEM;
		}
		sp->w = p;
		sp->cap = cap;
	}
	struct active *a = &sp->w[sp->n++];
	memset(a, 0, sizeof *a);
	a->id = w->id;
	a->pid = w->pid;
	a->start_time = w->start_time;
	a->interval_ms = a->eff_interval_ms = w->interval_ms;
	a->snapshot_every_s = w->snapshot_every_s;
	a->ends_at_ms = w->ends_at_ms;
	a->next_mono_ms = vms_mono_ms();
	a->gap_next = gap;
	a->follow = w->follow;
	a->on_allocations = w->snapshot_on_allocations;
	a->on_committed = w->snapshot_on_committed;
	a->memo = vms_scan_memo_new(); /* NULL on ENOMEM: its scans read everything */
	snprintf(a->name, sizeof a->name, "%s", w->name ? w->name : "");
	snprintf(a->note, sizeof a->note, "%s", note ? note : "");
	pthread_cond_signal(&sp->cond);
	pthread_mutex_unlock(&sp->lock);
	return VMS_OK;
}

int vms_sampler_add(struct vms_http *h, const struct vms_watch *w)
{
	return h->sampler ? add_active(h->sampler, w, 0, NULL) : VMS_ERR_INVALID;
}

int vms_sampler_remove(struct vms_http *h, int64_t id)
{
	struct vms_sampler *sp = h->sampler;
	int found = 0;
	if (!sp)
		return 0;
	pthread_mutex_lock(&sp->lock);
	for (;;) {
		size_t i = 0;
		while (i < sp->n && sp->w[i].id != id)
			i++;
		if (i == sp->n)
			break;
		found = 1;
		if (!sp->w[i].busy) {
			drop_active(sp, i);
			pthread_cond_broadcast(&sp->tick_done); /* long polls on it return */
			break;
		}
		/* A tick is running: let it finish (and store what it measured), so that nothing
		 * of this watch is written after we return. */
		sp->w[i].removed = 1;
		pthread_cond_wait(&sp->tick_done, &sp->lock);
	}
	/* Its queued samples are written first (the sampler thread writes them at once; when it
	 * stops it writes the queue before it ends). */
	while (sp->started && has_unwritten(sp, id)) {
		sp->flush_now = 1;
		pthread_cond_signal(&sp->cond);
		pthread_cond_wait(&sp->tick_done, &sp->lock);
	}
	pthread_mutex_unlock(&sp->lock);
	return found;
}

int vms_sampler_wait(struct vms_http *h, int64_t id, int64_t after_ms, int64_t timeout_ms)
{
	struct vms_sampler *sp = h->sampler;
	struct active *a;
	int waited = 0;
	if (!sp || timeout_ms <= 0)
		return 0;
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (timeout_ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&sp->lock);
	if (sp->stop || !(a = find_active(sp, id)) || a->last_sample_ms > after_ms)
		goto out;
	if (sp->waiters >= VMS_SAMPLER_MAX_WAITERS) {
		waited = -1;
		goto out;
	}
	sp->waiters++;
	waited = 1;
	while (!sp->stop && (a = find_active(sp, id)) && a->last_sample_ms <= after_ms && !a->removed)
		if (pthread_cond_timedwait(&sp->tick_done, &sp->lock, &until) == ETIMEDOUT)
			break;
	if (--sp->waiters == 0)
		pthread_cond_broadcast(&sp->idle);
out:
	pthread_mutex_unlock(&sp->lock);
	return waited;
}

int vms_sampler_info(struct vms_http *h, int64_t id, struct vms_sampler_info *out)
{
	struct vms_sampler *sp = h->sampler;
	memset(out, 0, sizeof *out);
	if (!sp)
		return 0;
	pthread_mutex_lock(&sp->lock);
	for (size_t i = 0; i < sp->n; i++)
		if (sp->w[i].id == id) {
			out->active = 1;
			out->effective_interval_ms = sp->w[i].eff_interval_ms;
			out->skipped_busy = sp->w[i].skipped_busy;
			out->ticks = sp->w[i].ticks;
			out->last_tick_ms = sp->w[i].last_tick_ms;
			out->snapshot_on_allocations = sp->w[i].on_allocations;
			out->snapshot_on_committed = sp->w[i].on_committed;
			out->threshold_snapshots = sp->w[i].threshold_snapshots;
			out->paused_since_ms = sp->w[i].paused_since_ms;
			if (sp->w[i].note_unsaved)
				snprintf(out->unsaved_note, sizeof out->unsaved_note, "%s", sp->w[i].note);
		}
	out->long_polls = sp->waiters;
	pthread_mutex_unlock(&sp->lock);
	return out->active;
}

/* Resume the running watches of the store: one whose process is gone ends with a note; the
 * others go on, their next sample marked as following a gap. */
static void resume(struct vms_sampler *sp)
{
	struct vms_watch *all = NULL;
	size_t n = 0;
	char note[NOTE_MAX], when[40], last[40];
	if (vms_store_watch_list(sp->h->store, &all, &n) != VMS_OK)
		return;
	int64_t now = vms_wall_ms();
	vms_format_time_ms(now, when, sizeof when);
	for (size_t i = 0; i < n; i++) {
		struct vms_watch *w = &all[i];
		struct vms_counters c;
		if (strcmp(w->state, VMS_WATCH_RUNNING) != 0)
			continue;
		vms_format_time_ms(w->last_ms ? w->last_ms : w->created_at_ms, last, sizeof last);
		int err = vms_counters_read(w->pid, &c);
		if ((err != VMS_OK || c.start_time != w->start_time || c.state == 'Z') && !w->follow) {
			snprintf(note, sizeof note,
			         "process %d exited while the daemon was not running (last sample at %s; "
			         "found gone at %s)",
			         (int)w->pid, last, when);
			vms_store_watch_update(sp->h->store, w->id, "exited", note, now);
			continue;
		}
		if (w->ends_at_ms && now >= w->ends_at_ms) {
			snprintf(note, sizeof note, "its duration ran out while the daemon was not running");
			vms_store_watch_update(sp->h->store, w->id, "done", note, w->ends_at_ms);
			continue;
		}
		if (!w->has_thresholds) { /* stored before schema 9: what it had is not known */
			w->snapshot_on_allocations = VMS_WATCH_DEFAULT_SNAPSHOT_ON_ALLOCATIONS;
			w->snapshot_on_committed = VMS_WATCH_DEFAULT_SNAPSHOT_ON_COMMITTED;
		}
		snprintf(note, sizeof note,
		         "resumed at %s after a daemon restart: no samples from %s to then", when, last);
		vms_store_watch_update(sp->h->store, w->id, NULL, note, -1);
		add_active(sp, w, 1, note);
		vms_log(sp->h, VMS_LOG_INFO, "watch %lld of pid %d resumed", (long long)w->id, (int)w->pid);
	}
	vms_watch_array_free(all, n);
}

int vms_sampler_start(struct vms_http *h)
{
	if (!h->store)
		return VMS_OK;
	struct vms_sampler *sp = calloc(1, sizeof *sp);
	if (!sp)
		return VMS_ERR_NOMEM;
	sp->h = h;
	sp->pending = calloc(PENDING_MAX, sizeof *sp->pending);
	sp->batch = calloc(PENDING_MAX, sizeof *sp->batch);
	if (!sp->pending || !sp->batch) {
		free(sp->pending);
		free(sp->batch);
		free(sp);
		return VMS_ERR_NOMEM;
	}
	pthread_mutex_init(&sp->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&sp->cond, &ca);
	pthread_cond_init(&sp->tick_done, NULL);
	pthread_cond_init(&sp->idle, NULL);
	pthread_condattr_destroy(&ca);
	h->sampler = sp;
	resume(sp);
	if (pthread_create(&sp->thread, NULL, sampler_main, sp) != 0) {
		vms_sampler_stop(h);
		return VMS_ERR_NOMEM;
	}
	sp->started = 1;
	return VMS_OK;
}

void vms_sampler_stop(struct vms_http *h)
{
	struct vms_sampler *sp = h ? h->sampler : NULL;
	if (!sp)
		return;
	pthread_mutex_lock(&sp->lock);
	sp->stop = 1;
	pthread_cond_signal(&sp->cond);
	pthread_cond_broadcast(&sp->tick_done); /* long polls return now */
	while (sp->waiters)
		pthread_cond_wait(&sp->idle, &sp->lock);
	pthread_mutex_unlock(&sp->lock);
	if (sp->started)
		pthread_join(sp->thread, NULL);
	pthread_mutex_destroy(&sp->lock);
	pthread_cond_destroy(&sp->cond);
	pthread_cond_destroy(&sp->tick_done);
	pthread_cond_destroy(&sp->idle);
	while (sp->n)
		drop_active(sp, sp->n - 1);
	free(sp->w);
	free(sp->pending);
	free(sp->batch);
	free(sp);
	h->sampler = NULL;
}
