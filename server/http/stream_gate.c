/* The gate for snapshot bodies: at most VMS_HTTP_MAX_STREAMS are being sent at once, the others
 * wait their turn (up to STREAM_WAIT_S, then 503 busy). Sending a large snapshot is all CPU
 * (copying tens of MB to the socket); 64 readers of a 22 MB snapshot each streaming at once left
 * a writer's scan-and-store a 65th of the two CPUs (one write in 20 s took 22 s). With the gate
 * the readers queue and writes, which never pass through it, keep their share. */
#include <errno.h>
#include <semaphore.h>
#include <time.h>

#include "http_internal.h"

#define STREAM_WAIT_S 30

int vms_stream_begin(struct vms_req *r)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += STREAM_WAIT_S;
	int rc;
	while ((rc = sem_timedwait(&r->h->stream_slots, &until)) != 0 && errno == EINTR)
		;
	if (rc == 0)
		return 0;
	static const struct vms_header h[] = {{"Retry-After", "5"}, {NULL, NULL}};
	return vms_send_error_x(r, 503, "busy", h,
	                        "%d snapshot downloads have been running for %d s; retry later",
	                        VMS_HTTP_MAX_STREAMS, STREAM_WAIT_S);
}

void vms_stream_end(struct vms_req *r)
{
	sem_post(&r->h->stream_slots);
}
