/*
 * tests/unit/test_chanrun.c - a channel driven by a thread of its own
 * (engine/chanrun.h), with a driver of the test's own: messages reach the
 * driver in the order offered, only once published; a full driver stops
 * the offers; what the driver never took comes back as a retry when the
 * runner stops, so nothing offered is ever lost without a report.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <time.h>
#include <cmocka.h>

#include "channels/channel.h"
#include "engine/chanrun.h"
#include "engine/clock.h"

#define MAXIDS	4096

/* The driver's and the engine's view, under one lock. */
struct fake {
	pthread_mutex_t mu;
	int64_t sent[MAXIDS];		/* what send took, in order */
	char texts[MAXIDS][32];
	size_t nsent;
	size_t room;			/* send refuses past this many */
	int64_t reported[MAXIDS];	/* reports, in order */
	enum chan_result result[MAXIDS];
	size_t nrep;
	int shut;
	int polls;
	size_t report_from;		/* poll reports sent[from..] */
};

static struct fake F;

static int
f_send(struct channel *ch, const struct chan_msg *m, size_t n)
{
	(void)ch;
	assert_int_equal(n, 1);
	pthread_mutex_lock(&F.mu);
	if (F.nsent >= F.room) {
		pthread_mutex_unlock(&F.mu);
		return ENG_ETEMP;
	}
	F.sent[F.nsent] = m->delivery_id;
	(void)snprintf(F.texts[F.nsent], sizeof(F.texts[0]), "%s %s",
	    m->to, m->text);
	F.nsent++;
	pthread_mutex_unlock(&F.mu);
	return 0;
}

/* Reports what send took as sent. */
static int64_t
f_poll(struct channel *ch, int64_t now_ms)
{
	struct chan_report r;
	size_t i, to;

	(void)now_ms;
	pthread_mutex_lock(&F.mu);
	F.polls++;
	to = F.nsent;
	i = F.report_from;
	F.report_from = to;
	pthread_mutex_unlock(&F.mu);
	for (; i < to; i++) {
		memset(&r, 0, sizeof(r));
		r.delivery_id = F.sent[i];
		r.result = CHAN_R_SENT;
		chan_report(ch, &r);
	}
	return 20;
}

static void
f_health(const struct channel *ch, struct chan_health *h)
{
	(void)ch;
	pthread_mutex_lock(&F.mu);
	h->up = 1;
	h->queued = F.nsent;
	(void)snprintf(h->detail, sizeof(h->detail), "fine");
	pthread_mutex_unlock(&F.mu);
}

static size_t
f_offline(const struct channel *ch, char (*addr)[CHAN_OFFLINE_ADDR],
    size_t max)
{
	(void)ch;
	if (max < 1)
		return 0;
	(void)snprintf(addr[0], CHAN_OFFLINE_ADDR, "siren-7");
	return 1;
}

static void
f_shutdown(struct channel *ch)
{
	(void)ch;
	pthread_mutex_lock(&F.mu);
	F.shut++;
	pthread_mutex_unlock(&F.mu);
}

static const struct channel_ops fake_ops = {
	.name = "fake",
	.version = CHANNEL_OPS_V1,
	.caps = CHAN_CAP_PERSON,
	.max_batch = 1,
	.addr = CHAN_ADDR_PHONE,
	.send = f_send,
	.poll = f_poll,
	.health = f_health,
	.shutdown = f_shutdown,
	.offline = f_offline,
};

static void
on_report(void *engine, struct channel *ch, const struct chan_report *r)
{
	(void)engine;
	(void)ch;
	pthread_mutex_lock(&F.mu);
	assert_true(F.nrep < MAXIDS);
	F.reported[F.nrep] = r->delivery_id;
	F.result[F.nrep++] = r->result;
	pthread_mutex_unlock(&F.mu);
}

static struct chan_env env;
static struct channel ch;

static int
setup(void **state)
{
	(void)state;
	memset(&F, 0, sizeof(F));
	pthread_mutex_init(&F.mu, NULL);
	F.room = MAXIDS;
	memset(&env, 0, sizeof(env));
	env.clock = &eng_clock_system;
	env.report = on_report;
	memset(&ch, 0, sizeof(ch));
	ch.name = "fake-1";
	ch.ops = &fake_ops;
	ch.env = &env;
	ch.addr = CHAN_ADDR_PHONE;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	pthread_mutex_destroy(&F.mu);
	return 0;
}

static void
offer(struct chanrun *r, int64_t id, int want)
{
	struct chan_msg m;
	char to[32], text[32];

	memset(&m, 0, sizeof(m));
	(void)snprintf(to, sizeof(to), "1380000%04d", (int)id);
	(void)snprintf(text, sizeof(text), "msg%d", (int)id);
	m.delivery_id = id;
	m.to = to;
	m.text = text;
	assert_int_equal(chanrun_offer(r, &m), want);
}

/* Until cond holds (polling F under its lock), at most 5 s. */
#define WAIT_FOR(cond) do {						\
	int _i;								\
	for (_i = 0; _i < 500; _i++) {					\
		int _ok;						\
		pthread_mutex_lock(&F.mu);				\
		_ok = (cond);						\
		pthread_mutex_unlock(&F.mu);				\
		if (_ok)						\
			break;						\
		nanosleep(&(struct timespec){ 0, 10000000L }, NULL);	\
	}								\
} while (0)

/* In order, copied (the caller's strings are gone), only once published,
 * every one reported once. */
static void
t_order(void **state)
{
	struct chanrun *r;
	int64_t i;

	(void)state;
	assert_int_equal(chanrun_start(&ch, 64, &r), 0);
	for (i = 1; i <= 50; i++)
		offer(r, i, 0);
	nanosleep(&(struct timespec){ 0, 50000000L }, NULL);
	pthread_mutex_lock(&F.mu);
	assert_int_equal(F.nsent, 0);		/* staged, not published */
	pthread_mutex_unlock(&F.mu);
	chanrun_publish(r);
	WAIT_FOR(F.nrep == 50);
	pthread_mutex_lock(&F.mu);
	assert_int_equal(F.nsent, 50);
	for (i = 0; i < 50; i++) {
		char want[32];

		(void)snprintf(want, sizeof(want), "1380000%04d msg%d",
		    (int)i + 1, (int)i + 1);
		assert_int_equal(F.sent[i], i + 1);
		assert_string_equal(F.texts[i], want);
		assert_int_equal(F.reported[i], i + 1);
		assert_int_equal(F.result[i], CHAN_R_SENT);
	}
	pthread_mutex_unlock(&F.mu);
	chanrun_stop(r);
	assert_int_equal(F.shut, 1);
	assert_int_equal(F.nrep, 50);
}

/* The inbox holds at most its size; a driver that refuses stops the
 * offers until it took everything it was given. */
static void
t_full(void **state)
{
	struct chanrun *r;
	int64_t i;

	(void)state;
	F.room = 5;
	assert_int_equal(chanrun_start(&ch, 8, &r), 0);
	for (i = 1; i <= 8; i++)
		offer(r, i, 0);
	offer(r, 9, ENG_ETEMP);			/* the inbox is full */
	chanrun_publish(r);
	WAIT_FOR(F.nrep == 5);
	nanosleep(&(struct timespec){ 0, 50000000L }, NULL);
	/* The driver took 5 and refuses: 3 wait, nothing more taken. */
	offer(r, 10, ENG_ETEMP);
	pthread_mutex_lock(&F.mu);
	F.room = MAXIDS;			/* it has room again */
	pthread_mutex_unlock(&F.mu);
	WAIT_FOR(F.nsent == 8);
	WAIT_FOR(F.nrep == 8);
	offer(r, 10, 0);			/* and offers are taken */
	chanrun_publish(r);
	WAIT_FOR(F.nrep == 9);
	chanrun_stop(r);
	assert_int_equal(F.nsent, 9);
	for (i = 0; i < 9; i++)
		assert_int_equal(F.sent[i], i + 1 + (i == 8));
}

/* Stopped with messages the driver never took: each comes back as a
 * retry, and the driver is shut down once. */
static void
t_stop_reports(void **state)
{
	struct chanrun *r;
	int64_t i;
	size_t k, sent = 0, retry = 0;

	(void)state;
	F.room = 3;
	assert_int_equal(chanrun_start(&ch, 16, &r), 0);
	for (i = 1; i <= 10; i++)
		offer(r, i, 0);
	chanrun_publish(r);
	WAIT_FOR(F.nrep == 3);
	for (i = 11; i <= 12; i++)		/* staged, never published */
		offer(r, i, ENG_ETEMP);
	chanrun_stop(r);
	assert_int_equal(F.shut, 1);
	assert_int_equal(F.nrep, 10);
	for (k = 0; k < F.nrep; k++) {
		if (F.result[k] == CHAN_R_SENT) {
			assert_true(F.reported[k] <= 3);
			sent++;
		} else {
			assert_int_equal(F.result[k], CHAN_R_RETRY);
			assert_int_equal(F.reported[k], (int64_t)(k + 1));
			retry++;
		}
	}
	assert_int_equal(sent, 3);
	assert_int_equal(retry, 7);
}

static int
want_even(void *arg, int64_t id)
{
	(void)arg;
	return id % 2 == 0;
}

static void
gone_note(void *arg, int64_t id)
{
	int64_t *v = arg;

	v[++v[0]] = id;
}

/* Withdrawn: what the driver has not been given, published or staged;
 * the rest keeps its order. */
static void
t_withdraw(void **state)
{
	struct chanrun *r;
	int64_t gone[32] = { 0 }, i;

	(void)state;
	F.room = 2;
	assert_int_equal(chanrun_start(&ch, 16, &r), 0);
	for (i = 1; i <= 6; i++)
		offer(r, i, 0);
	chanrun_publish(r);
	WAIT_FOR(F.nrep == 2);			/* 1, 2 taken; 3-6 wait */
	nanosleep(&(struct timespec){ 0, 50000000L }, NULL);
	assert_int_equal(chanrun_withdraw(r, want_even, gone_note, gone), 2);
	assert_int_equal(gone[0], 2);
	assert_int_equal(gone[1], 4);
	assert_int_equal(gone[2], 6);
	/* Room again: 3 and 5 go, then what is offered next. */
	for (i = 7; i <= 8; i++)
		offer(r, i, ENG_ETEMP);		/* still refusing */
	pthread_mutex_lock(&F.mu);
	F.room = MAXIDS;
	pthread_mutex_unlock(&F.mu);
	WAIT_FOR(F.nsent == 4);
	offer(r, 8, 0);
	offer(r, 10, 0);
	assert_int_equal(chanrun_withdraw(r, want_even, gone_note, gone), 2);
	offer(r, 9, 0);
	chanrun_publish(r);
	WAIT_FOR(F.nsent == 5);
	chanrun_stop(r);
	assert_int_equal(F.nsent, 5);
	assert_int_equal(F.sent[0], 1);
	assert_int_equal(F.sent[1], 2);
	assert_int_equal(F.sent[2], 3);
	assert_int_equal(F.sent[3], 5);
	assert_int_equal(F.sent[4], 9);
	assert_int_equal(gone[0], 4);
	assert_int_equal(gone[3], 8);
	assert_int_equal(gone[4], 10);
	assert_int_equal(F.nrep, 5);		/* nothing left to retry */
}

/* What the engine shows on /metrics comes from the runner's thread. */
static void
t_status(void **state)
{
	struct chanrun *r;
	struct chan_health h;
	char off[4][CHAN_OFFLINE_ADDR];
	size_t n = 0;
	int i;

	(void)state;
	assert_int_equal(chanrun_start(&ch, 4, &r), 0);
	for (i = 0; i < 100; i++) {
		chanrun_status(r, &h, off, 4, &n);
		if (n == 1)
			break;
		nanosleep(&(struct timespec){ 0, 10000000L }, NULL);
	}
	assert_int_equal(n, 1);
	assert_string_equal(off[0], "siren-7");
	assert_int_equal(h.up, 1);
	assert_string_equal(h.detail, "fine");
	chanrun_stop(r);
	chanrun_stop(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_order, setup, teardown),
		cmocka_unit_test_setup_teardown(t_full, setup, teardown),
		cmocka_unit_test_setup_teardown(t_stop_reports, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_withdraw, setup, teardown),
		cmocka_unit_test_setup_teardown(t_status, setup, teardown),
	};

	return cmocka_run_group_tests_name("chanrun", tests, NULL, NULL);
}
