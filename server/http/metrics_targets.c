/* The processes named with `vmscope serve --metrics-process NAME|PID` (docs/api.md, "Metrics"):
 * each keeps its last scan's summary, and a scrape rescans it only when that is older than the
 * metrics interval, so however often and however many scrapers ask, a target costs at most one
 * scan per interval. A NAME is looked up again when its process is gone (a restarted service
 * keeps its metrics under its new pid). Scans go through the daemon's scan lock like an
 * interactive scan (the sampler gives way to them). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http_internal.h"
#include "vmscope/counters.h"
#include "vmscope/error.h"
#include "vmscope/proclist.h"
#include "vmscope/util.h"

#define SCAN_WAIT_S 5 /* a scrape does not wait longer than this for the scan lock */

struct target {
	char spec[64];         /* NAME or PID as given */
	pthread_mutex_t lock;  /* one refresh at a time; the cached copy below */
	int64_t tried_mono_ms; /* last refresh attempt (CLOCK_MONOTONIC), 0 never */
	int have;              /* proc holds a scan */
	int last_err;          /* of the last attempt (VMS_OK, or why it has no current data) */
	struct vms_metrics_proc proc;
};

struct vms_metrics_targets {
	size_t n;
	unsigned interval_ms;
	struct target *t;
};

int vms_metrics_targets_new(const char *const *specs, size_t n, unsigned interval_s,
                            struct vms_metrics_targets **out)
{
	*out = NULL;
	if (!n)
		return VMS_OK;
	struct vms_metrics_targets *m = calloc(1, sizeof *m);
	if (!m || !(m->t = calloc(n, sizeof *m->t))) {
		free(m);
		return VMS_ERR_NOMEM;
	}
	m->interval_ms = (interval_s ? interval_s : VMS_HTTP_DEFAULT_METRICS_INTERVAL_S) * 1000u;
	for (size_t i = 0; i < n; i++, m->n++) {
		snprintf(m->t[i].spec, sizeof m->t[i].spec, "%s", specs[i]);
		pthread_mutex_init(&m->t[i].lock, NULL);
	}
	*out = m;
	return VMS_OK;
}

void vms_metrics_targets_free(struct vms_metrics_targets *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		pthread_mutex_destroy(&m->t[i].lock);
	free(m->t);
	free(m);
}

size_t vms_metrics_targets_count(const struct vms_metrics_targets *m)
{
	return m ? m->n : 0;
}

/* The pid to scan for t: the cached one while that process instance lives, else the spec
 * resolved again. */
static int target_pid(struct target *t, pid_t *pid)
{
	struct vms_counters c;
	if (t->have && vms_counters_read(t->proc.pid, &c) == VMS_OK && c.start_time == t->proc.start_time &&
	    c.state != 'Z') {
		*pid = t->proc.pid;
		return VMS_OK;
	}
	pid_t *matches = NULL;
	size_t n = 0;
	int err = vms_proc_resolve(t->spec, pid, &matches, &n);
	free(matches);
	return err;
}

/* Scan t's process (the caller holds t->lock). */
static void refresh(struct vms_http *h, struct target *t)
{
	pid_t pid = 0;
	struct vms_snapshot *s = NULL;
	int err = target_pid(t, &pid);
	if (err != VMS_OK)
		goto out;
	if (vms_scan_lock(h, SCAN_WAIT_S) != 0) {
		/* Busy scanning something else: keep what we have and try again at the next scrape
		 * (this attempt scanned nothing). */
		t->tried_mono_ms = 0;
		return;
	}
	/* The sampler's options: the same numbers a watch of this process would store. */
	struct vms_snapshot_opts opts = {
	    .read_rollup = 0, .thread_stacks = 1, .no_peek = 0, .file_cache = h->file_cache};
	double t0 = vms_stats_now();
	err = vms_snapshot_take(pid, &opts, &s);
	pthread_mutex_unlock(&h->scan_lock);
	vms_stats_scan(&h->stats, VMS_SCAN_METRICS, err == VMS_OK, vms_stats_now() - t0);
	if (err != VMS_OK)
		goto out;
	struct vms_metrics_proc *p = &t->proc;
	memset(p, 0, sizeof *p);
	p->pid = pid;
	p->start_time = s->start_time;
	snprintf(p->comm, sizeof p->comm, "%s", s->name ? s->name : "");
	p->t_ms = s->taken_at_ms;
	memcpy(p->summary, s->summary, sizeof p->summary);
	memcpy(p->total, s->total, sizeof p->total);
	p->threads = (uint64_t)(s->status.threads > 0 ? s->status.threads : 0);
	p->vm_rss = s->status.vm_rss;
	p->vm_swap = s->status.vm_swap;
	p->source = "metrics_process";
	t->have = 1;
out:
	if (err != VMS_OK)
		t->have = 0; /* gone, unreadable or ambiguous: no stale numbers under its name */
	t->last_err = err;
	vms_snapshot_free(s);
}

int vms_metrics_target_get(struct vms_http *h, size_t i, struct vms_metrics_proc *out, const char **spec)
{
	struct vms_metrics_targets *m = h->mtargets;
	if (!m || i >= m->n)
		return VMS_ERR_INVALID;
	struct target *t = &m->t[i];
	*spec = t->spec;
	pthread_mutex_lock(&t->lock);
	int64_t now = vms_mono_ms();
	if (!t->tried_mono_ms || now - t->tried_mono_ms >= (int64_t)m->interval_ms) {
		t->tried_mono_ms = now;
		refresh(h, t);
	}
	int err = t->have ? VMS_OK : t->last_err;
	if (t->have)
		*out = t->proc;
	pthread_mutex_unlock(&t->lock);
	return err;
}
