/*
 * engine/planrun.c - the planner thread (engine/planrun.h).
 */
#include "engine/planrun.h"

#include "engine/log.h"
#include "engine/store.h"
#include "engine/worker.h"

#include <stdlib.h>
#include <string.h>

#define PLANRUN_BATCH	8	/* alerts looked up at a time */
#define PLANRUN_RETRY_MS 5000	/* after a failed plan */

struct planrun {
	struct planrun_config c;
	struct store *s;
	struct worker *w;	/* the thread */
	/* the alert being planned (planner's thread only) */
	long long alert;
	int colour;
	long long preempted_by;	/* an alert of a higher colour waits */
	/* the alerts that failed this round: they set nothing aside (one
	 * that keeps failing would stop every plan behind it, over and
	 * over) */
	long long failed[PLANRUN_BATCH];
	size_t nfailed;
};

struct unplanned {
	long long ids[PLANRUN_BATCH];
	int colours[PLANRUN_BATCH];
	size_t n;
};

static int
unplanned_cb(void *arg, const struct store_alert *a)
{
	struct unplanned *u = arg;

	if (u->n < PLANRUN_BATCH) {
		u->colours[u->n] = a->colour;
		u->ids[u->n++] = a->id;
	}
	return 0;
}

/* plan.h's plan_chunk_fn: the dispatcher may claim what was committed;
 * a stop ends the plan here. */
static int
chunk_cb(void *arg)
{
	struct planrun *p = arg;
	struct unplanned u;
	struct eng_errbuf eb;
	size_t i, k;

	if (p->c.on_written != NULL)
		p->c.on_written(p->c.written_arg, 0);
	if (!worker_running(p->w))
		return 1;
	/*
	 * Red before orange: an alert of a higher colour accepted while a
	 * large plan is written is planned first (the waiting are listed
	 * highest colour first).  The plan stopped here is resumed after it
	 * from where it was, the chunks written so far kept.  Failing to
	 * look is no reason to stop.
	 */
	memset(&u, 0, sizeof(u));
	eng_errbuf_init(&eb);
	if (store_alerts_unplanned(p->s, PLANRUN_BATCH, unplanned_cb, &u,
	    &eb) != 0)
		return 0;
	for (i = 0; i < u.n && u.colours[i] > p->colour; i++) {
		for (k = 0; k < p->nfailed && p->failed[k] != u.ids[i]; k++)
			;
		if (k == p->nfailed && u.ids[i] != p->alert) {
			p->preempted_by = u.ids[i];
			return 1;
		}
	}
	return 0;
}

/*
 * Plan what is waiting, highest colour first; the number of alerts
 * planned (or 1 when one was set aside for a higher colour's), -1 if
 * any failed.  An alert that fails does not hold up those behind it.
 */
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
	p->nfailed = 0;
	if (store_alerts_unplanned(p->s, PLANRUN_BATCH, unplanned_cb, &u,
	    &eb) != 0) {
		log_error("plan.failed", "error=\"%s\"", eb.msg);
		return -1;
	}
	for (i = 0; i < u.n && worker_running(p->w); i++) {
		p->alert = u.ids[i];
		p->colour = u.colours[i];
		p->preempted_by = 0;
		if (plan_alert(p->s, p->c.routing, p->c.addr_of,
		    p->c.addr_arg, chunk_cb, p, u.ids[i],
		    eng_clock_now_ms(p->c.clock), 0, &st, &eb) == 0) {
			done++;
			if (p->c.on_written != NULL)
				p->c.on_written(p->c.written_arg, 1);
			continue;
		}
		if (!worker_running(p->w))
			break;	/* stopped: planned again at the next start */
		if (p->preempted_by != 0) {
			log_info("plan.preempted", "alert=%lld colour=%d "
			    "deliveries=%lld by=%lld", u.ids[i], u.colours[i],
			    st.deliveries, p->preempted_by);
			return done > 0 ? done : 1;	/* the round again */
		}
		/* Left unplanned: tried again in a few seconds. */
		log_error("plan.failed", "alert=%lld error=\"%s\"", u.ids[i],
		    eb.msg);
		p->failed[p->nfailed++] = u.ids[i];
	}
	return p->nfailed > 0 ? -1 : done;
}

/* worker.h's round: plan what waits; then sleep until kicked. */
static int64_t
round_fn(void *arg)
{
	int n = plan_round(arg);

	if (n > 0)
		return 0;	/* there may be more */
	/* After a failure, a kick from before the pause does not cut it
	 * short; one that comes during it (a new alert) does. */
	return n < 0 ? WORKER_PAUSE(PLANRUN_RETRY_MS) : PLANRUN_IDLE_MS;
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
	/* Replayable: a power cut loses at worst the last chunks, and the
	 * alert, not yet marked planned, is planned again. */
	if ((rv = store_open(c->db_path, STORE_REPLAYABLE, &p->s, eb)) != 0)
		goto fail;
	store_set_clock(p->s, p->c.clock);
	if (worker_start("gong-plan", round_fn, p, &p->w) != 0) {
		rv = eng_error(eb, ENG_EIO, "cannot start the planner");
		goto fail;
	}
	*out = p;
	return 0;
fail:
	planrun_stop(p);
	return rv;
}

void
planrun_kick(struct planrun *p)
{
	if (p != NULL)
		worker_kick(p->w);
}

void
planrun_stop(struct planrun *p)
{
	if (p == NULL)
		return;
	worker_stop(p->w);	/* a plan in progress stops at its chunk */
	store_close(p->s);
	free(p);
}
