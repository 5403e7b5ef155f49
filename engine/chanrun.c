/*
 * engine/chanrun.c - one channel driven by a thread of its own.
 */
#include "engine/chanrun.h"
#include "engine/clock.h"
#include "engine/err.h"
#include "engine/log.h"
#include "engine/worker.h"

#include <pthread.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STATUS_EVERY_MS	100
/* A poll that asks to be called again within this (a driver that waits
 * on its own sockets: CHAN_CAP_POLL_WAITS) is called again at once. */
#define BUSY_WISH_MS	50
#define MAX_WAIT_MS	1000

/* One queued message and the bytes its strings point into. */
struct rmsg {
	struct chan_msg m;
	char *mem;
};

struct chanrun {
	struct channel *ch;
	struct worker *w;	/* the channel's thread */
	int64_t status_at;	/* the driver's status is read again then */
	pthread_mutex_t lock;	/* the inbox */
	/* The inbox, a ring: the runner takes the n from head; offers
	 * append staged ones after them, which chanrun_publish adds to n. */
	struct rmsg *ring;
	size_t cap, head, n, staged;
	/* The driver refused the inbox's head (its queue is full): no
	 * offers until it took everything, so that messages wait in the
	 * store (where a Cancel finds them), not here. */
	int full;
	/* hand_over is giving the driver the first `handing` of the inbox
	 * (outside the lock): chanrun_withdraw leaves those alone. */
	size_t handing;
	/* The driver's status, as last read. */
	struct chan_health health;
	char (*off)[CHAN_OFFLINE_ADDR];
	size_t noff;
};

static char *
put(char **at, const char *s)
{
	size_t n;
	char *p = *at;

	if (s == NULL)
		return NULL;
	n = strlen(s) + 1;
	memcpy(p, s, n);
	*at += n;
	return p;
}

static int
copy_msg(struct rmsg *d, const struct chan_msg *m)
{
	const char *v[] = { m->to, m->subject, m->text, m->payload,
	    m->ack_code, m->ack_url };
	size_t i, len = 0;
	char *at;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (v[i] != NULL)
			len += strlen(v[i]) + 1;
	if ((d->mem = malloc(len ? len : 1)) == NULL)
		return ENG_ENOMEM;
	at = d->mem;
	d->m = *m;
	d->m.to = put(&at, m->to);
	d->m.subject = put(&at, m->subject);
	d->m.text = put(&at, m->text);
	d->m.payload = put(&at, m->payload);
	d->m.ack_code = put(&at, m->ack_code);
	d->m.ack_url = put(&at, m->ack_url);
	return 0;
}

static void
status_read(struct chanrun *r)
{
	struct chan_health h;
	static const size_t max = CHANRUN_OFFLINE;
	char (*off)[CHAN_OFFLINE_ADDR] = NULL;
	size_t noff = 0;

	memset(&h, 0, sizeof(h));
	if (r->ch->ops->health != NULL)
		r->ch->ops->health(r->ch, &h);
	if (r->ch->ops->offline != NULL &&
	    (off = calloc(max, sizeof(*off))) != NULL)
		noff = r->ch->ops->offline(r->ch, off, max);
	pthread_mutex_lock(&r->lock);
	r->health = h;
	if (off != NULL) {
		memcpy(r->off, off, noff * sizeof(*off));
		r->noff = noff;
	}
	pthread_mutex_unlock(&r->lock);
	free(off);
}

/* Hand the inbox to the driver, in order, until it is full. */
static size_t
hand_over(struct chanrun *r)
{
	struct chan_report rep;
	struct rmsg *x;
	size_t i, take, done = 0;
	int rv;

	pthread_mutex_lock(&r->lock);
	take = r->handing = r->n;
	pthread_mutex_unlock(&r->lock);
	/* Offers only write past head + n, and withdrawals past head +
	 * handing: the first take are ours. */
	for (i = 0; i < take; i++) {
		x = &r->ring[(r->head + i) % r->cap];
		rv = r->ch->ops->send(r->ch, &x->m, 1);
		if (rv == ENG_ETEMP)
			break;
		if (rv != 0) {
			/* Rule 2's programming error: taken again later. */
			memset(&rep, 0, sizeof(rep));
			rep.delivery_id = x->m.delivery_id;
			rep.result = CHAN_R_RETRY;
			rep.error = "the driver refused the message";
			chan_report(r->ch, &rep);
		}
		free(x->mem);
		x->mem = NULL;
		done++;
	}
	pthread_mutex_lock(&r->lock);
	r->head = (r->head + done) % r->cap;
	r->n -= done;
	r->full = r->n > 0;
	r->handing = 0;
	pthread_mutex_unlock(&r->lock);
	return done;
}

size_t
chanrun_withdraw(struct chanrun *r, int (*want)(void *, int64_t),
    void (*gone)(void *, int64_t), void *arg)
{
	struct rmsg *x;
	size_t i, k, from, held, published, n = 0;

	pthread_mutex_lock(&r->lock);
	published = r->n;
	held = r->n + r->staged;
	from = r->handing;
	for (i = k = from; i < held; i++) {
		x = &r->ring[(r->head + i) % r->cap];
		if (want(arg, x->m.delivery_id)) {
			gone(arg, x->m.delivery_id);
			free(x->mem);
			x->mem = NULL;
			if (i < published)
				r->n--;
			else
				r->staged--;
			n++;
			continue;
		}
		if (k != i)
			r->ring[(r->head + k) % r->cap] = *x;
		k++;
	}
	r->full = r->full && r->n > 0;
	pthread_mutex_unlock(&r->lock);
	return n;
}

/* worker.h's round: the inbox to the driver, the driver's poll; sleep
 * as long as the driver wishes (a publish cuts it short). */
static int64_t
round_fn(void *arg)
{
	struct chanrun *r = arg;
	int64_t now, wish;
	size_t moved;
	int waits = (r->ch->ops->caps & CHAN_CAP_POLL_WAITS) != 0;

	moved = hand_over(r);
	now = eng_clock_now_ms(r->ch->env->clock);
	wish = r->ch->ops->poll(r->ch, now);
	if (now >= r->status_at) {
		status_read(r);
		r->status_at = now + STATUS_EVERY_MS;
	}
	if (moved > 0 || wish <= 0 || (waits && wish < BUSY_WISH_MS))
		return 0;
	if (r->status_at - now < wish)
		wish = r->status_at - now < 1 ? 1 : r->status_at - now;
	return wish > MAX_WAIT_MS ? MAX_WAIT_MS : wish;
}

int
chanrun_start(struct channel *ch, size_t inbox_max, struct chanrun **out)
{
	char name[WORKER_NAME_MAX + 1];
	struct chanrun *r;

	*out = NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return ENG_ENOMEM;
	r->ch = ch;
	r->cap = inbox_max > 0 ? inbox_max : 1;
	if ((r->ring = calloc(r->cap, sizeof(*r->ring))) == NULL ||
	    (r->off = calloc(CHANRUN_OFFLINE, sizeof(*r->off))) == NULL) {
		free(r->ring);
		free(r);
		return ENG_ENOMEM;
	}
	pthread_mutex_init(&r->lock, NULL);
	/* "ch:" and the channel's name, as far as it fits */
	(void)snprintf(name, sizeof(name), "ch:%s", ch->name);
	if (worker_start(name, round_fn, r, &r->w) != 0) {
		pthread_mutex_destroy(&r->lock);
		free(r->off);
		free(r->ring);
		free(r);
		return ENG_EIO;
	}
	*out = r;
	return 0;
}

int
chanrun_offer(struct chanrun *r, const struct chan_msg *m)
{
	struct rmsg x;

	if (copy_msg(&x, m) != 0)
		return ENG_ENOMEM;
	pthread_mutex_lock(&r->lock);
	if (r->full || r->n + r->staged == r->cap) {
		pthread_mutex_unlock(&r->lock);
		free(x.mem);
		return ENG_ETEMP;
	}
	r->ring[(r->head + r->n + r->staged) % r->cap] = x;
	r->staged++;
	pthread_mutex_unlock(&r->lock);
	return 0;
}

size_t
chanrun_room(struct chanrun *r)
{
	size_t room;

	pthread_mutex_lock(&r->lock);
	room = r->full ? 0 : r->cap - r->n - r->staged;
	pthread_mutex_unlock(&r->lock);
	return room;
}

void
chanrun_publish(struct chanrun *r)
{
	size_t staged;

	pthread_mutex_lock(&r->lock);
	staged = r->staged;
	r->n += r->staged;
	r->staged = 0;
	pthread_mutex_unlock(&r->lock);
	if (staged > 0)
		worker_kick(r->w);
}

void
chanrun_status(struct chanrun *r, struct chan_health *h,
    char (*off)[CHAN_OFFLINE_ADDR], size_t max, size_t *noff)
{
	size_t n;

	pthread_mutex_lock(&r->lock);
	if (h != NULL)
		*h = r->health;
	n = r->noff < max ? r->noff : max;
	if (off != NULL && n > 0)
		memcpy(off, r->off, n * sizeof(*off));
	if (noff != NULL)
		*noff = off != NULL ? n : 0;
	pthread_mutex_unlock(&r->lock);
}

void
chanrun_stop(struct chanrun *r)
{
	struct chan_report rep;
	struct rmsg *x;
	size_t i;

	if (r == NULL)
		return;
	worker_stop(r->w);
	/* Never handed over: back to the engine, to be taken again. */
	for (i = 0; i < r->n + r->staged; i++) {
		x = &r->ring[(r->head + i) % r->cap];
		memset(&rep, 0, sizeof(rep));
		rep.delivery_id = x->m.delivery_id;
		rep.result = CHAN_R_RETRY;
		rep.error = "gong stopped before the channel took it";
		chan_report(r->ch, &rep);
		free(x->mem);
	}
	r->ch->ops->shutdown(r->ch);
	pthread_mutex_destroy(&r->lock);
	free(r->off);
	free(r->ring);
	free(r);
}
