/* Timing helpers shared by the bench/ programs (header-only: each program is one .c file). */
#ifndef VMSCOPE_BENCH_TIME_H
#define VMSCOPE_BENCH_TIME_H

#include <stdlib.h>
#include <time.h>

/* CLOCK_MONOTONIC now, in milliseconds. */
static inline double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The median of v[0..n), n >= 1. Sorts v in place (so v[0] is then the minimum). */
static inline double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, bench_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#endif
