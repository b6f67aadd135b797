/* What the C zoo programs share: worker threads that report ready and then stay alive,
 * blocked in pause(), so a snapshot sees their stacks and arenas. Header only (the tests
 * compile each program from this directory with one compiler call). */
#ifndef VMSCOPE_ZOO_H
#define VMSCOPE_ZOO_H

#include <pthread.h>
#include <unistd.h>

static pthread_mutex_t zoo_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t zoo_cv = PTHREAD_COND_INITIALIZER;
static int zoo_ready;

/* A worker: count itself ready, wake zoo_wait_ready, and block in pause() for good. */
static void zoo_ready_and_park(void)
{
	pthread_mutex_lock(&zoo_mu);
	zoo_ready++;
	pthread_cond_broadcast(&zoo_cv);
	pthread_mutex_unlock(&zoo_mu);
	for (;;)
		pause();
}

/* Wait until n workers have called zoo_ready_and_park. */
static void zoo_wait_ready(int n)
{
	pthread_mutex_lock(&zoo_mu);
	while (zoo_ready < n)
		pthread_cond_wait(&zoo_cv, &zoo_mu);
	pthread_mutex_unlock(&zoo_mu);
}

#endif
