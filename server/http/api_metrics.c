/* GET /metrics: the Prometheus text exposition format (version 0.0.4) for monitoring systems
 * (docs/api.md, "Metrics"). Per process: every watched process's latest stored sample (the
 * scrape scans nothing for them) and each --metrics-process target's cached scan (rescanned at
 * most once per metrics interval); then the daemon's own health. Names follow Prometheus's
 * conventions: base units (bytes, seconds), _total on counters, one metric per quantity with
 * labels for its breakdown, no total mixed into a breakdown. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../json/strbuf.h"
#include "http_internal.h"
#include "vmscope/error.h"
#include "vmscope/store.h"
#include "vmscope/store_watch.h"
#include "vmscope_build.h"

#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct procs {
	struct vms_metrics_proc *p;
	size_t n, cap;
};

static int have_pid(const struct procs *ps, pid_t pid)
{
	for (size_t i = 0; i < ps->n; i++)
		if (ps->p[i].pid == pid)
			return 1;
	return 0;
}

static struct vms_metrics_proc *add_proc(struct procs *ps)
{
	if (ps->n == ps->cap) {
		size_t cap = ps->cap ? ps->cap * 2 : 16;
		struct vms_metrics_proc *p = realloc(ps->p, cap * sizeof *p);
		if (!p)
			return NULL;
		ps->p = p;
		ps->cap = cap;
	}
	return &ps->p[ps->n++];
}

/* Every running watch's latest sample (the newest watch of a pid wins: the list is newest
 * first). Returns VMS_OK or the store's error. */
static int watched(struct vms_http *h, struct procs *ps)
{
	struct vms_watch *w = NULL;
	size_t nw = 0;
	int err = vms_store_watch_list_running(h->store, &w, &nw);
	for (size_t i = 0; err == VMS_OK && i < nw; i++) {
		struct vms_sample smp;
		if (!w[i].last_ms || have_pid(ps, w[i].pid))
			continue;
		if (vms_store_sample_latest(h->store, w[i].id, &smp) != VMS_OK)
			continue; /* deleted meanwhile */
		struct vms_metrics_proc *p = add_proc(ps);
		if (p) {
			const struct vms_sample *s = &smp;
			memset(p, 0, sizeof *p);
			p->pid = w[i].pid;
			p->start_time = w[i].start_time;
			snprintf(p->comm, sizeof p->comm, "%s", w[i].name ? w[i].name : "");
			p->t_ms = s->t_ms;
			memcpy(p->summary, s->summary, sizeof p->summary);
			memcpy(p->total, s->total, sizeof p->total);
			p->threads = s->threads;
			p->vm_rss = s->vm_rss;
			p->vm_swap = s->vm_swap;
			p->source = "watch";
		} else {
			err = VMS_ERR_NOMEM;
		}
	}
	vms_watch_array_free(w, nw);
	return err;
}

/* A label value: backslash, double quote and newline escaped as the format wants; any byte that
 * is not printable ASCII becomes '?' (comm is raw bytes, the format wants UTF-8). */
static void label_value(struct vms_sb *sb, const char *v)
{
	for (const unsigned char *c = (const unsigned char *)v; *c; c++) {
		if (*c == '\\' || *c == '"') {
			vms_sb_putc(sb, '\\');
			vms_sb_putc(sb, (char)*c);
		} else if (*c == '\n')
			vms_sb_puts(sb, "\\n");
		else
			vms_sb_putc(sb, *c >= 0x20 && *c < 0x7f ? (char)*c : '?');
	}
}

static void family(struct vms_sb *sb, const char *name, const char *type, const char *help)
{
	vms_sb_printf(sb, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* "NAME{pid="..",comm=".."" — the caller adds its own labels and the closing brace. */
static void proc_series(struct vms_sb *sb, const char *name, const struct vms_metrics_proc *p)
{
	vms_sb_printf(sb, "%s{pid=\"%d\",comm=\"", name, (int)p->pid);
	label_value(sb, p->comm);
	vms_sb_putc(sb, '"');
}

static void process_metrics(struct vms_sb *sb, const struct procs *ps)
{
	family(sb, "vmscope_process_memory_bytes", "gauge",
	       "Memory of a process by VMMap type and column (docs/memory-types.md), bytes; types "
	       "without an allocation and Free are left out.");
	for (size_t i = 0; i < ps->n; i++)
		for (int t = 0; t < VMS_TYPE_COUNT; t++) {
			if (t == VMS_TYPE_FREE || !ps->p[i].summary[t].blocks)
				continue;
			for (int c = 0; c < VMS_COL_COUNT; c++) {
				proc_series(sb, "vmscope_process_memory_bytes", &ps->p[i]);
				vms_sb_printf(sb, ",type=\"%s\",column=\"%s\"} %" PRIu64 "\n",
				              vms_type_key(t), vms_col_key(c), ps->p[i].summary[t].cols[c]);
			}
		}
	family(sb, "vmscope_process_memory_total_bytes", "gauge",
	       "Memory of a process over every type but Free, by column, bytes.");
	for (size_t i = 0; i < ps->n; i++)
		for (int c = 0; c < VMS_COL_COUNT; c++) {
			proc_series(sb, "vmscope_process_memory_total_bytes", &ps->p[i]);
			vms_sb_printf(sb, ",column=\"%s\"} %" PRIu64 "\n", vms_col_key(c), ps->p[i].total[c]);
		}
	family(sb, "vmscope_process_blocks", "gauge",
	       "Allocations of a process by type (VMMap's Blocks; Free: the gaps).");
	for (size_t i = 0; i < ps->n; i++)
		for (int t = 0; t < VMS_TYPE_COUNT; t++) {
			proc_series(sb, "vmscope_process_blocks", &ps->p[i]);
			vms_sb_printf(sb, ",type=\"%s\"} %" PRIu64 "\n", vms_type_key(t),
			              ps->p[i].summary[t].blocks);
		}
	family(sb, "vmscope_process_regions", "gauge",
	       "Regions (VMAs) of a process by type (types without an allocation left out).");
	for (size_t i = 0; i < ps->n; i++)
		for (int t = 0; t < VMS_TYPE_COUNT; t++) {
			if (t == VMS_TYPE_FREE || !ps->p[i].summary[t].blocks)
				continue;
			proc_series(sb, "vmscope_process_regions", &ps->p[i]);
			vms_sb_printf(sb, ",type=\"%s\"} %" PRIu64 "\n", vms_type_key(t),
			              ps->p[i].summary[t].regions);
		}

	static const struct {
		const char *name, *help;
		size_t off;
	} one[] = {
	    {"vmscope_process_largest_free_block_bytes",
	     "The largest gap in the user address space of a process, bytes.", 0},
	    {"vmscope_process_threads", "Threads of a process.", offsetof(struct vms_metrics_proc, threads)},
	    {"vmscope_process_resident_bytes", "VmRSS of a process (/proc/PID/status), bytes.",
	     offsetof(struct vms_metrics_proc, vm_rss)},
	    {"vmscope_process_swap_bytes", "VmSwap of a process (/proc/PID/status), bytes.",
	     offsetof(struct vms_metrics_proc, vm_swap)},
	};
	for (size_t k = 0; k < sizeof one / sizeof one[0]; k++) {
		family(sb, one[k].name, "gauge", one[k].help);
		for (size_t i = 0; i < ps->n; i++) {
			uint64_t v = one[k].off ? *(const uint64_t *)((const char *)&ps->p[i] + one[k].off)
			                        : ps->p[i].summary[VMS_TYPE_FREE].largest;
			proc_series(sb, one[k].name, &ps->p[i]);
			vms_sb_printf(sb, "} %" PRIu64 "\n", v);
		}
	}
	family(sb, "vmscope_process_sample_timestamp_seconds", "gauge",
	       "When the numbers of a process were taken (Unix time), and by what: a watch's sample or "
	       "a --metrics-process scan.");
	for (size_t i = 0; i < ps->n; i++) {
		proc_series(sb, "vmscope_process_sample_timestamp_seconds", &ps->p[i]);
		vms_sb_printf(sb, ",source=\"%s\"} %" PRId64 ".%03d\n", ps->p[i].source, ps->p[i].t_ms / 1000,
		              (int)(ps->p[i].t_ms % 1000));
	}
}

static void daemon_metrics(struct vms_http *h, struct vms_sb *sb, size_t n_watched)
{
	struct vms_stats st;
	vms_stats_copy(&h->stats, &st);
	family(sb, "vmscope_scans_total", "counter",
	       "Full scans by the daemon, by source (api, watch, metrics) and result.");
	for (int s = 0; s < VMS_SCAN_SOURCE_COUNT; s++)
		for (int ok = 0; ok < 2; ok++)
			vms_sb_printf(sb, "vmscope_scans_total{source=\"%s\",result=\"%s\"} %" PRIu64 "\n",
			              vms_stats_source_name(s), ok ? "error" : "ok", st.scans[s][ok]);
	family(sb, "vmscope_scan_duration_seconds", "histogram", "Duration of successful full scans.");
	uint64_t cum = 0;
	for (int b = 0; b <= VMS_STATS_SCAN_BUCKETS; b++) {
		cum += st.scan_bucket[b];
		if (b < VMS_STATS_SCAN_BUCKETS)
			vms_sb_printf(sb, "vmscope_scan_duration_seconds_bucket{le=\"%g\"} %" PRIu64 "\n",
			              vms_stats_scan_buckets[b], cum);
		else
			vms_sb_printf(sb, "vmscope_scan_duration_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n",
			              cum);
	}
	vms_sb_printf(sb, "vmscope_scan_duration_seconds_sum %.6f\n", st.scan_seconds_sum);
	vms_sb_printf(sb, "vmscope_scan_duration_seconds_count %" PRIu64 "\n", st.scan_count);

	family(sb, "vmscope_http_errors_total", "counter",
	       "Error responses by the code in their JSON body (docs/api.md); \"other\" once more than "
	       "48 codes were seen.");
	for (size_t i = 0; i < st.n_errors; i++)
		vms_sb_printf(sb, "vmscope_http_errors_total{code=\"%s\"} %" PRIu64 "\n", st.errors[i].code,
		              st.errors[i].count);
	if (st.errors_other)
		vms_sb_printf(sb, "vmscope_http_errors_total{code=\"other\"} %" PRIu64 "\n", st.errors_other);

	struct vms_store_usage u;
	if (vms_store_usage(h->store, &u) == VMS_OK) {
		family(sb, "vmscope_store_bytes", "gauge",
		       "Bytes of stored snapshots and timeline samples (what --max-bytes limits).");
		vms_sb_printf(sb, "vmscope_store_bytes %" PRIu64 "\n", u.bytes);
		family(sb, "vmscope_store_max_bytes", "gauge", "The store's byte limit (--max-bytes).");
		vms_sb_printf(sb, "vmscope_store_max_bytes %" PRIu64 "\n", u.max_bytes);
		family(sb, "vmscope_store_snapshots", "gauge", "Stored snapshots.");
		vms_sb_printf(sb, "vmscope_store_snapshots %" PRIu64 "\n", u.snapshots);
		family(sb, "vmscope_store_max_snapshots", "gauge",
		       "The store's snapshot limit (--max-snapshots).");
		vms_sb_printf(sb, "vmscope_store_max_snapshots %" PRIu64 "\n", u.max_snapshots);
	}
	family(sb, "vmscope_watched_processes", "gauge",
	       "Processes with a running watch that has a sample (shown above).");
	vms_sb_printf(sb, "vmscope_watched_processes %zu\n", n_watched);
	family(sb, "vmscope_build_info", "gauge", "The daemon's version, commit and build day (always 1).");
	vms_sb_printf(sb, "vmscope_build_info{version=\"%s\",commit=\"%s\",build_date=\"%s\"} 1\n",
	              VMSCOPE_VERSION, VMSCOPE_COMMIT, VMSCOPE_BUILD_DATE);
}

int vms_h_metrics(struct vms_req *r)
{
	struct procs ps = {0};
	struct vms_sb sb = {0};
	char *text = NULL;
	size_t len = 0;
	int st;
	if (watched(r->h, &ps) != VMS_OK)
		vms_log(r->h, VMS_LOG_WARN, "/metrics: the watches could not be read from the store");
	size_t n_watched = ps.n, n_targets = vms_metrics_targets_count(r->h->mtargets);
	int *up = n_targets ? calloc(n_targets, sizeof *up) : NULL;
	const char **spec = n_targets ? calloc(n_targets, sizeof *spec) : NULL;
	if (n_targets && (!up || !spec)) {
		st = vms_send_vms_err(r, VMS_ERR_NOMEM, 0);
		goto out;
	}
	for (size_t i = 0; i < n_targets; i++) {
		struct vms_metrics_proc p;
		up[i] = vms_metrics_target_get(r->h, i, &p, &spec[i]) == VMS_OK;
		struct vms_metrics_proc *slot = up[i] && !have_pid(&ps, p.pid) ? add_proc(&ps) : NULL;
		if (slot)
			*slot = p;
	}
	process_metrics(&sb, &ps);
	if (n_targets) {
		family(&sb, "vmscope_metrics_process_up", "gauge",
		       "1 when a --metrics-process target names one readable process, else 0.");
		for (size_t i = 0; i < n_targets; i++) {
			vms_sb_puts(&sb, "vmscope_metrics_process_up{target=\"");
			label_value(&sb, spec[i]);
			vms_sb_printf(&sb, "\"} %d\n", up[i]);
		}
	}
	daemon_metrics(r->h, &sb, n_watched);
	if (vms_sb_finish(&sb, &text, &len) != VMS_OK) {
		st = vms_send_vms_err(r, VMS_ERR_NOMEM, 0);
		goto out;
	}
	st = vms_send(r, 200, PROM_CONTENT_TYPE, text, len, NULL);
out:
	vms_sb_free(&sb);
	free(text);
	free(up);
	free(spec);
	free(ps.p);
	return st;
}
