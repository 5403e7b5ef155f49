/*
 * engine/clock.h - the one source of time.
 *
 * Code that needs the time takes a struct eng_clock and calls
 * eng_clock_now_ms(); tests pass a clock they drive.  Times are UTC
 * milliseconds since the epoch.
 */
#ifndef ENGINE_CLOCK_H
#define ENGINE_CLOCK_H

#include <stdint.h>
#include <time.h>

struct eng_clock {
	int64_t (*now_ms)(void *arg);
	void *arg;
};

/* The system's real-time clock. */
extern const struct eng_clock eng_clock_system;

static inline int64_t
eng_clock_now_ms(const struct eng_clock *c)
{
	return c->now_ms(c->arg);
}

/*
 * Tests only: from now on the system clock runs ahead by the number of
 * milliseconds written in the file at path (a decimal integer, e.g.
 * "300000" for five minutes ahead; absent, empty or bad: 0).  The file
 * is read again at most every 20 ms, so a test moves every part of a
 * running gongd forward in time at once by rewriting it.  gongd sets it
 * from the environment variable GONG_TEST_CLOCK_FILE and says so in its
 * log.  path is copied.  Returns 0, or ENG_ENOMEM.  Call before threads
 * start.
 */
int eng_clock_set_offset_file(const char *path);

/* Monotonic milliseconds, for timeouts and durations (not wall time). */
int64_t eng_mono_ms(void);
/* The same in microseconds. */
int64_t eng_mono_us(void);

/* The absolute time ms (>= 0) from now on clock id (CLOCK_REALTIME for
 * a default condition variable's pthread_cond_timedwait), into *ts. */
void eng_deadline(clockid_t id, int64_t ms, struct timespec *ts);

/* Format UTC ms as RFC 3339 "2026-11-26T07:30:00Z" into buf (>= 32). */
char *eng_time_fmt_utc(int64_t ms, char *buf, unsigned size);

#endif /* ENGINE_CLOCK_H */
