/* The daemon's own counters for /metrics (docs/api.md, "Metrics"): scans by source and result,
 * a histogram of scan durations, and error responses by code. One mutex; every update is a few
 * additions, so the threads that count never wait long. */
#include <string.h>
#include <time.h>

#include "http_internal.h"

/* Upper bounds (seconds) of the scan duration histogram's buckets; +Inf is implicit. A small
 * process scans in ~1 ms, a browser in ~50 ms, 60 000 regions in about a second. */
const double vms_stats_scan_buckets[VMS_STATS_SCAN_BUCKETS] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                               0.1,   0.25,   0.5,   1,    2.5,   5};

static const char *const source_names[VMS_SCAN_SOURCE_COUNT] = {"api", "watch", "metrics"};

const char *vms_stats_source_name(enum vms_scan_source s)
{
	return (unsigned)s < VMS_SCAN_SOURCE_COUNT ? source_names[s] : "?";
}

double vms_stats_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void vms_stats_init(struct vms_stats *st)
{
	memset(st, 0, sizeof *st);
	pthread_mutex_init(&st->lock, NULL);
}

void vms_stats_destroy(struct vms_stats *st)
{
	pthread_mutex_destroy(&st->lock);
}

void vms_stats_scan(struct vms_stats *st, enum vms_scan_source src, int ok, double seconds)
{
	if ((unsigned)src >= VMS_SCAN_SOURCE_COUNT)
		return;
	pthread_mutex_lock(&st->lock);
	st->scans[src][ok ? 0 : 1]++;
	if (ok) {
		size_t b = 0;
		while (b < VMS_STATS_SCAN_BUCKETS && seconds > vms_stats_scan_buckets[b])
			b++;
		st->scan_bucket[b]++; /* b == VMS_STATS_SCAN_BUCKETS: only +Inf */
		st->scan_seconds_sum += seconds;
		st->scan_count++;
	}
	pthread_mutex_unlock(&st->lock);
}

void vms_stats_error(struct vms_stats *st, const char *code)
{
	size_t n = strlen(code);
	if (n >= sizeof st->errors[0].code)
		n = sizeof st->errors[0].code - 1;
	pthread_mutex_lock(&st->lock);
	size_t i = 0;
	while (i < st->n_errors && (strncmp(st->errors[i].code, code, n) || st->errors[i].code[n]))
		i++;
	if (i == st->n_errors && i < VMS_STATS_MAX_CODES) {
		memcpy(st->errors[i].code, code, n);
		st->errors[i].code[n] = '\0';
		st->n_errors++;
	}
	if (i < st->n_errors)
		st->errors[i].count++;
	else
		st->errors_other++;
	pthread_mutex_unlock(&st->lock);
}

void vms_stats_copy(struct vms_stats *st, struct vms_stats *out)
{
	pthread_mutex_lock(&st->lock);
	memcpy((char *)out + sizeof out->lock, (char *)st + sizeof st->lock, sizeof *st - sizeof st->lock);
	pthread_mutex_unlock(&st->lock);
}
