/*
 * engine/clock.c - system clock.
 */
#include "engine/clock.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/err.h"

/* The test offset (eng_clock_set_offset_file): set once before threads
 * start; the offset and the time it was read are shared atomics (two
 * threads reading the file at once is harmless). */
static char *offset_path;
static _Atomic int64_t offset_ms;
static _Atomic int64_t offset_read_at = -1000000;

/* The offset in the file; 0 when there is none.  A file being written
 * (empty or cut short) is not an offset: *ok 0, the last one stays. */
static int64_t
read_offset(int *ok)
{
	char buf[32];
	FILE *f;
	size_t n;
	long long v;
	char *end;

	*ok = 1;
	if ((f = fopen(offset_path, "re")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	(void)fclose(f);
	buf[n] = '\0';
	errno = 0;
	v = strtoll(buf, &end, 10);
	if (end == buf || errno != 0 || (*end != '\0' && *end != '\n')) {
		*ok = 0;
		return 0;
	}
	return (int64_t)v;
}

static int64_t
system_now_ms(void *arg)
{
	struct timespec ts;
	int64_t now, mono;
	int ok;

	(void)arg;
	(void)clock_gettime(CLOCK_REALTIME, &ts);
	now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (offset_path == NULL)
		return now;
	mono = eng_mono_ms();
	if (mono - atomic_load(&offset_read_at) >= 20) {
		int64_t off = read_offset(&ok);

		if (ok)
			atomic_store(&offset_ms, off);
		atomic_store(&offset_read_at, mono);
	}
	return now + atomic_load(&offset_ms);
}

int
eng_clock_set_offset_file(const char *path)
{
	char *p = strdup(path);

	if (p == NULL)
		return ENG_ENOMEM;
	free(offset_path);
	offset_path = p;
	atomic_store(&offset_read_at, -1000000);
	return 0;
}

const struct eng_clock eng_clock_system = { system_now_ms, NULL };

int64_t
eng_mono_ms(void)
{
	return eng_mono_us() / 1000;
}

int64_t
eng_mono_us(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void
eng_deadline(clockid_t id, int64_t ms, struct timespec *ts)
{
	(void)clock_gettime(id, ts);
	ts->tv_sec += (time_t)(ms / 1000);
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
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
