/*
 * engine/planrun.c - the planner thread (engine/planrun.h).
 */
#include "engine/planrun.h"

#include "engine/log.h"
#include "engine/store.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PLANRUN_BATCH	8	/* alerts looked up at a time */
#define PLANRUN_RETRY_MS 5000	/* after a failed plan */

struct planrun {
	struct planrun_config c;
	struct store *s;
	pthread_t thread;
	int started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int running, kicked;	/* under lock */
};

struct unplanned {
	long long ids[PLANRUN_BATCH];
	size_t n;
};

static int
unplanned_cb(void *arg, const struct store_alert *a)
{
	struct unplanned *u = arg;

	if (u->n < PLANRUN_BATCH)
		u->ids[u->n++] = a->id;
	return 0;
}

static int
is_running(struct planrun *p)
{
	int r;

	pthread_mutex_lock(&p->lock);
	r = p->running;
	pthread_mutex_unlock(&p->lock);
	return r;
}

/* plan.h's plan_chunk_fn: the dispatcher may claim what was committed;
 * a stop ends the plan here. */
static int
chunk_cb(void *arg)
{
	struct planrun *p = arg;

	if (p->c.on_written != NULL)
		p->c.on_written(p->c.written_arg, 0);
	return is_running(p) ? 0 : 1;
}

/* Plan what is waiting; the number of alerts planned, -1 on a failure. */
static int
plan_round(struct planrun *p)
{
	struct unplanned u;
	struct plan_stats st;
	struct eng_errbuf eb;
	size_t i;
	int done = 0;

	memset(&u, 0, sizeof(u));
	eng_errbuf_init(&eb);
	if (store_alerts_unplanned(p->s, PLANRUN_BATCH, unplanned_cb, &u,
	    &eb) != 0) {
		log_error("plan.failed", "error=\"%s\"", eb.msg);
		return -1;
	}
	for (i = 0; i < u.n && is_running(p); i++) {
		if (plan_alert(p->s, p->c.routing, p->c.addr_of,
		    p->c.addr_arg, chunk_cb, p, u.ids[i],
		    eng_clock_now_ms(p->c.clock), 0, &st, &eb) != 0) {
			/* Left unplanned: tried again in a few seconds. */
			if (is_running(p))
				log_error("plan.failed", "alert=%lld "
				    "error=\"%s\"", u.ids[i], eb.msg);
			return -1;
		}
		done++;
		if (p->c.on_written != NULL)
			p->c.on_written(p->c.written_arg, 1);
	}
	return done;
}

static void *
run(void *arg)
{
	struct planrun *p = arg;
	struct timespec ts;
	int n, wait_ms;

	for (;;) {
		pthread_mutex_lock(&p->lock);
		if (!p->running) {
			pthread_mutex_unlock(&p->lock);
			break;
		}
		p->kicked = 0;
		pthread_mutex_unlock(&p->lock);

		n = plan_round(p);
		if (n > 0)
			continue;	/* there may be more */
		wait_ms = n < 0 ? PLANRUN_RETRY_MS : PLANRUN_IDLE_MS;
		pthread_mutex_lock(&p->lock);
		/* After a failure, a kick from before the pause does not cut
		 * it short; one that comes during it (a new alert) does. */
		if (p->running && (n < 0 || !p->kicked)) {
			eng_deadline(CLOCK_REALTIME, wait_ms, &ts);
			(void)pthread_cond_timedwait(&p->cond, &p->lock, &ts);
		}
		pthread_mutex_unlock(&p->lock);
	}
	return NULL;
}

int
planrun_start(const struct planrun_config *c, struct planrun **out,
    struct eng_errbuf *eb)
{
	struct planrun *p;
	int rv;

	*out = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return eng_error(eb, ENG_ENOMEM, "planner: out of memory");
	p->c = *c;
	if (p->c.clock == NULL)
		p->c.clock = &eng_clock_system;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	/* Replayable: a power cut loses at worst the last chunks, and the
	 * alert, not yet marked planned, is planned again. */
	if ((rv = store_open(c->db_path, STORE_REPLAYABLE, &p->s, eb)) != 0)
		goto fail;
	store_set_clock(p->s, p->c.clock);
	p->running = 1;
	if (pthread_create(&p->thread, NULL, run, p) != 0) {
		rv = eng_error(eb, ENG_EIO, "cannot start the planner");
		goto fail;
	}
	p->started = 1;
	*out = p;
	return 0;
fail:
	planrun_stop(p);
	return rv;
}

void
planrun_kick(struct planrun *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->kicked = 1;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

void
planrun_stop(struct planrun *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->running = 0;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
	if (p->started)
		(void)pthread_join(p->thread, NULL);
	store_close(p->s);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	free(p);
}
