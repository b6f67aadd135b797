/* A token bucket for full scans (daemon-wide: every client shares the one machine it loads). */
#include <time.h>

#include "http_internal.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void vms_ratelimit_init(struct vms_ratelimit *rl, double rate, double burst)
{
	pthread_mutex_init(&rl->lock, NULL);
	rl->rate = rate;
	rl->burst = burst < 1 ? 1 : burst;
	rl->tokens = rl->burst;
	rl->last = now_s();
}

void vms_ratelimit_destroy(struct vms_ratelimit *rl)
{
	pthread_mutex_destroy(&rl->lock);
}

unsigned vms_ratelimit_take(struct vms_ratelimit *rl)
{
	unsigned wait = 0;
	pthread_mutex_lock(&rl->lock);
	double t = now_s();
	rl->tokens += (t - rl->last) * rl->rate;
	if (rl->tokens > rl->burst)
		rl->tokens = rl->burst;
	rl->last = t;
	if (rl->tokens >= 1.0) {
		rl->tokens -= 1.0;
	} else {
		double s = (1.0 - rl->tokens) / rl->rate;
		wait = (unsigned)s;
		if ((double)wait < s)
			wait++;
		if (wait < 1)
			wait = 1;
	}
	pthread_mutex_unlock(&rl->lock);
	return wait;
}
