/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the benchmark programs share: the clock, the median of the rounds,
 * and giving up.  A benchmark reports; it never judges.
 */
#ifndef _CSQ_BENCH_H
#define _CSQ_BENCH_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define NSEC_PER_SEC		1000000000LL

static inline void die(const char *what)
{
	perror(what);
	exit(1);
}

static inline long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

static inline int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The median of @n values; sorts them. */
static inline double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#endif /* _CSQ_BENCH_H */
