/*
 * engine/clock.c - system clock.
 */
#include "engine/clock.h"

#include <stdio.h>
#include <time.h>

static int64_t
system_now_ms(void *arg)
{
	struct timespec ts;

	(void)arg;
	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const struct eng_clock eng_clock_system = { system_now_ms, NULL };

int64_t
eng_mono_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *
eng_time_fmt_utc(int64_t ms, char *buf, unsigned size)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	(void)gmtime_r(&t, &tm);
	(void)snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec);
	return buf;
}
