/*
 * engine/store_turn.c - turns at a database's write lock among the
 * threads of this process (store_int.h).
 *
 * SQLite has one write lock per database and no queue: a connection that
 * finds it taken sleeps and tries again (store.c's busy handler, every
 * millisecond).  Between the engine's own writers (the planner writing a
 * large plan chunk after chunk, the dispatcher, the escalation thread,
 * CAP ingest) that wasted up to a millisecond at every hand-over and,
 * with the pause that keeps a waiter from being starved, a few more:
 * a fifth of the batched dispatch rate.  Here a writer that calls
 * store_begin first queues for its database's turn, first come first
 * served, and the one that ends its transaction hands the turn straight
 * to the next.  Writers that do not come through store_begin (an
 * autocommit statement, another process) still meet SQLite's lock and
 * the busy handler, and the pause after a commit still leaves them room.
 *
 * One queue per database file (by its real path), shared by every
 * connection of the process to it; ":memory:" and temporary databases,
 * one connection each, have none.  A waiter gives up after the same time
 * as the busy handler (ENG_EBUSY).
 */
#include "engine/store_int.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct turn_waiter {
	pthread_cond_t cond;	/* on CLOCK_MONOTONIC */
	int granted;
	struct turn_waiter *next;
};

struct store_turn {
	char *path;
	int refs;		/* connections using it (under list_lock) */
	pthread_mutex_t lock;
	int held;		/* someone has the turn */
	struct turn_waiter *head, *tail;	/* in order of arrival */
	struct store_turn *next;
};

static pthread_mutex_t list_lock = PTHREAD_MUTEX_INITIALIZER;
static struct store_turn *turns;

int
store_turn_open(struct store *s)
{
	struct store_turn *t;
	const char *file;
	char *real;

	s->turn = NULL;
	file = sqlite3_db_filename(s->db, "main");
	if (file == NULL || file[0] == '\0')
		return 0;	/* :memory: or temporary: no one to queue */
	if ((real = realpath(file, NULL)) == NULL)
		return errno == ENOMEM ? ENG_ENOMEM : 0;
	pthread_mutex_lock(&list_lock);
	for (t = turns; t != NULL; t = t->next)
		if (strcmp(t->path, real) == 0)
			break;
	if (t == NULL && (t = calloc(1, sizeof(*t))) != NULL) {
		t->path = real;
		real = NULL;
		pthread_mutex_init(&t->lock, NULL);
		t->next = turns;
		turns = t;
	}
	if (t != NULL)
		t->refs++;
	pthread_mutex_unlock(&list_lock);
	free(real);
	if (t == NULL)
		return ENG_ENOMEM;
	s->turn = t;
	return 0;
}

static void
give(struct store_turn *t)
{
	struct turn_waiter *w;

	pthread_mutex_lock(&t->lock);
	if ((w = t->head) != NULL) {
		/* Straight to the next: held stays set. */
		if ((t->head = w->next) == NULL)
			t->tail = NULL;
		w->granted = 1;
		pthread_cond_signal(&w->cond);
	} else {
		t->held = 0;
	}
	pthread_mutex_unlock(&t->lock);
}

void
store_turn_close(struct store *s)
{
	struct store_turn *t = s->turn, **pp;

	if (t == NULL)
		return;
	if (s->has_turn) {
		s->has_turn = 0;
		give(t);
	}
	s->turn = NULL;
	pthread_mutex_lock(&list_lock);
	if (--t->refs == 0) {
		for (pp = &turns; *pp != NULL; pp = &(*pp)->next)
			if (*pp == t) {
				*pp = t->next;
				break;
			}
	} else {
		t = NULL;
	}
	pthread_mutex_unlock(&list_lock);
	if (t != NULL) {
		pthread_mutex_destroy(&t->lock);
		free(t->path);
		free(t);
	}
}

/* Remove w from the queue (it gave up). */
static void
unqueue(struct store_turn *t, struct turn_waiter *w)
{
	struct turn_waiter **pp, *prev = NULL;

	for (pp = &t->head; *pp != NULL; prev = *pp, pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			if (t->tail == w)
				t->tail = prev;
			return;
		}
}

int
store_turn_take(struct store *s, int64_t timeout_ms)
{
	struct store_turn *t = s->turn;
	struct turn_waiter w;
	pthread_condattr_t ca;
	struct timespec ts;
	int rv = 0;

	if (t == NULL || s->has_turn)
		return 0;
	pthread_mutex_lock(&t->lock);
	if (!t->held) {
		t->held = 1;
		pthread_mutex_unlock(&t->lock);
		s->has_turn = 1;
		return 0;
	}
	memset(&w, 0, sizeof(w));
	pthread_condattr_init(&ca);
	(void)pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w.cond, &ca);
	pthread_condattr_destroy(&ca);
	if (t->tail != NULL)
		t->tail->next = &w;
	else
		t->head = &w;
	t->tail = &w;
	eng_deadline(CLOCK_MONOTONIC, timeout_ms, &ts);
	while (!w.granted)
		if (pthread_cond_timedwait(&w.cond, &t->lock, &ts) ==
		    ETIMEDOUT && !w.granted) {
			unqueue(t, &w);
			rv = ENG_EBUSY;
			break;
		}
	pthread_mutex_unlock(&t->lock);
	pthread_cond_destroy(&w.cond);
	if (rv == 0)
		s->has_turn = 1;
	return rv;
}

void
store_turn_settle(struct store *s)
{
	if (s->turn != NULL && s->has_turn &&
	    sqlite3_get_autocommit(s->db)) {
		s->has_turn = 0;
		give(s->turn);
	}
}
