/*
 * tests/unit/test_worker.c - the thread of rounds and sleeps
 * (engine/worker.h).
 *
 * Rounds are counted under a lock; the test waits for a count with a
 * generous limit (seconds) against sleeps of a minute, so a slow machine
 * cannot turn a pass into a failure.  "Does not happen" is checked over
 * 300 ms, which a slow machine can only make easier to pass.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <time.h>
#include <cmocka.h>

#include "engine/clock.h"
#include "engine/worker.h"

#define LONG_MS		60000	/* a sleep no test waits out */
#define PATIENCE_MS	10000	/* how long a test waits for a round */

struct fx {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int rounds;
	int64_t (*plan)(struct fx *f, int round);	/* what round n returns */
	struct worker *w;
	int saw_running;	/* worker_running() inside the last round */
	char name[32];		/* the thread's name, read in a round */
	int stop_seen;		/* a round saw the stop */
};

static int64_t
round_fn(void *arg)
{
	struct fx *f = arg;
	int n, running = worker_running(f->w);

	pthread_mutex_lock(&f->lock);
	n = ++f->rounds;
	f->saw_running = running;
	(void)pthread_getname_np(pthread_self(), f->name, sizeof(f->name));
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
	return f->plan(f, n);
}

/* Wait until at least n rounds ran (PATIENCE_MS at most); the count. */
static int
wait_rounds(struct fx *f, int n)
{
	struct timespec ts;
	int got;

	eng_deadline(CLOCK_REALTIME, PATIENCE_MS, &ts);
	pthread_mutex_lock(&f->lock);
	while (f->rounds < n &&
	    pthread_cond_timedwait(&f->cond, &f->lock, &ts) == 0)
		;
	got = f->rounds;
	pthread_mutex_unlock(&f->lock);
	return got;
}

static int
rounds_now(struct fx *f)
{
	int n;

	pthread_mutex_lock(&f->lock);
	n = f->rounds;
	pthread_mutex_unlock(&f->lock);
	return n;
}

static void
nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	(void)nanosleep(&ts, NULL);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->cond, NULL);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	worker_stop(f->w);
	pthread_cond_destroy(&f->cond);
	pthread_mutex_destroy(&f->lock);
	free(f);
	return 0;
}

/* Rounds that return 0 follow each other at once, until 50. */
static int64_t
plan_busy(struct fx *f, int n)
{
	(void)f;
	return n < 50 ? 0 : LONG_MS;
}

static void
t_again_at_once(void **state)
{
	struct fx *f = *state;

	f->plan = plan_busy;
	assert_int_equal(worker_start("test-worker", round_fn, f, &f->w), 0);
	assert_int_equal(wait_rounds(f, 50), 50);
	nap_ms(300);
	assert_int_equal(rounds_now(f), 50);	/* then it sleeps */
	assert_int_equal(f->saw_running, 1);
}

/* The thread has the name it was given, cut to the kernel's 15 bytes. */
static void
t_name(void **state)
{
	struct fx *f = *state;

	f->plan = plan_busy;
	assert_int_equal(worker_start("gong-a-long-name-cut", round_fn, f,
	    &f->w), 0);
	assert_int_equal(wait_rounds(f, 50), 50);
	assert_string_equal(f->name, "gong-a-long-nam");
}

/* A sleep of a minute is cut short by a kick; a kick during a round
 * skips the sleep after it. */
static int64_t
plan_sleep(struct fx *f, int n)
{
	if (n == 2)
		worker_kick(f->w);	/* comes while round 2 runs */
	return LONG_MS;
}

static void
t_kick(void **state)
{
	struct fx *f = *state;

	f->plan = plan_sleep;
	assert_int_equal(worker_start("test-worker", round_fn, f, &f->w), 0);
	assert_int_equal(wait_rounds(f, 1), 1);
	nap_ms(300);
	assert_int_equal(rounds_now(f), 1);
	worker_kick(f->w);
	assert_int_equal(wait_rounds(f, 3), 3);	/* 2, and 3 at once */
	nap_ms(300);
	assert_int_equal(rounds_now(f), 3);
}

/* WORKER_PAUSE: a kick that came during the round does not cut the
 * pause short; one during the pause does. */
static int64_t
plan_pause(struct fx *f, int n)
{
	if (n == 1) {
		worker_kick(f->w);
		return WORKER_PAUSE(LONG_MS);
	}
	return LONG_MS;
}

static void
t_pause(void **state)
{
	struct fx *f = *state;

	f->plan = plan_pause;
	assert_int_equal(worker_start("test-worker", round_fn, f, &f->w), 0);
	assert_int_equal(wait_rounds(f, 1), 1);
	nap_ms(300);
	assert_int_equal(rounds_now(f), 1);
	worker_kick(f->w);
	assert_int_equal(wait_rounds(f, 2), 2);
}

/* A long round sees the stop through worker_running and ends early;
 * worker_stop waits for it. */
static int64_t
plan_long(struct fx *f, int n)
{
	int i;

	(void)n;
	for (i = 0; i < PATIENCE_MS / 10; i++) {
		if (!worker_running(f->w)) {
			f->stop_seen = 1;
			break;
		}
		nap_ms(10);
	}
	return 0;
}

static void
t_stop_in_round(void **state)
{
	struct fx *f = *state;

	f->plan = plan_long;
	assert_int_equal(worker_start("test-worker", round_fn, f, &f->w), 0);
	assert_int_equal(wait_rounds(f, 1), 1);
	worker_stop(f->w);
	f->w = NULL;
	assert_int_equal(f->stop_seen, 1);
	assert_int_equal(rounds_now(f), 1);	/* no round after the stop */
	worker_stop(NULL);			/* a no-op */
	worker_kick(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_again_at_once, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_name, setup, teardown),
		cmocka_unit_test_setup_teardown(t_kick, setup, teardown),
		cmocka_unit_test_setup_teardown(t_pause, setup, teardown),
		cmocka_unit_test_setup_teardown(t_stop_in_round, setup,
		    teardown),
	};

	return cmocka_run_group_tests_name("worker", tests, NULL, NULL);
}
