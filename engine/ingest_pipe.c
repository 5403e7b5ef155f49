/*
 * engine/ingest_pipe.c - CAP ingest on two threads: parse on a worker
 * while the caller stores (ingest_pipe.h).
 *
 * A ring of depth slots and three counters: messages put, parsed (or in
 * parse) and taken; a message's slot is its number modulo depth.  Only
 * the caller's thread puts and takes, so a slot is written by put, read
 * by the worker between put and its done flag, and read again by take
 * after that flag, each under the mutex's happens-before.
 */
#include "engine/ingest_pipe.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

struct slot {
	const struct ingest_source *src;
	const void *buf;
	size_t len;
	struct diag_list *diags;
	void *tag;
	int done;			/* parsed: rv, parsed, eb are set */
	int rv;
	struct ingest_parsed *parsed;
	struct eng_errbuf eb;
};

/* Stored messages the worker frees when it has nothing to parse (their
 * model's many small frees are a sizeable part of storing). */
#define TRASH_MAX	(2 * INGEST_PIPE_MAX_DEPTH)

struct ingest_pipe {
	struct ingest *ig;
	struct ingest_parsed *trash[TRASH_MAX];
	size_t ntrash;
	struct slot *v;
	size_t depth;
	size_t nput, nparse, ntaken;	/* message counts */
	int stop;
	int started;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t work;		/* for the worker: queued, stop */
	pthread_cond_t ready;		/* for take: a message parsed */
};

static void *
worker(void *arg)
{
	struct ingest_pipe *p = arg;
	struct ingest_parsed *t[TRASH_MAX];
	struct slot *sl;
	size_t i, n;

	(void)pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->stop && p->nparse == p->nput && p->ntrash == 0)
			(void)pthread_cond_wait(&p->work, &p->mu);
		if (p->stop)
			break;
		if (p->nparse == p->nput) {	/* idle: free the stored */
			n = p->ntrash;
			memcpy(t, p->trash, n * sizeof(t[0]));
			p->ntrash = 0;
			(void)pthread_mutex_unlock(&p->mu);
			for (i = 0; i < n; i++)
				ingest_parsed_free(t[i]);
			(void)pthread_mutex_lock(&p->mu);
			continue;
		}
		sl = &p->v[p->nparse % p->depth];
		p->nparse++;
		(void)pthread_mutex_unlock(&p->mu);
		eng_errbuf_init(&sl->eb);
		sl->parsed = NULL;
		sl->rv = ingest_parse(sl->src, sl->buf, sl->len, &sl->parsed,
		    sl->diags, &sl->eb);
		(void)pthread_mutex_lock(&p->mu);
		sl->done = 1;
		(void)pthread_cond_signal(&p->ready);
	}
	(void)pthread_mutex_unlock(&p->mu);
	return NULL;
}

int
ingest_pipe_new(struct ingest *ig, size_t depth, struct ingest_pipe **out,
    struct eng_errbuf *eb)
{
	struct ingest_pipe *p;
	sigset_t all, old;
	int rc;

	*out = NULL;
	if (ig == NULL || depth == 0 || depth > INGEST_PIPE_MAX_DEPTH)
		return eng_error(eb, ENG_EINVAL, "ingest pipe: depth %zu is "
		    "not 1 to %d", depth, INGEST_PIPE_MAX_DEPTH);
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->v = calloc(depth, sizeof(*p->v))) == NULL) {
		free(p);
		return eng_error(eb, ENG_ENOMEM, "out of memory");
	}
	p->ig = ig;
	p->depth = depth;
	if (pthread_mutex_init(&p->mu, NULL) != 0) {
		free(p->v);
		free(p);
		return eng_error(eb, ENG_EIO, "ingest pipe: no mutex");
	}
	if (pthread_cond_init(&p->work, NULL) != 0) {
		(void)pthread_mutex_destroy(&p->mu);
		free(p->v);
		free(p);
		return eng_error(eb, ENG_EIO, "ingest pipe: no condition");
	}
	if (pthread_cond_init(&p->ready, NULL) != 0) {
		(void)pthread_cond_destroy(&p->work);
		(void)pthread_mutex_destroy(&p->mu);
		free(p->v);
		free(p);
		return eng_error(eb, ENG_EIO, "ingest pipe: no condition");
	}
	/* The worker takes no signals: they stay with the daemon's own
	 * threads. */
	(void)sigfillset(&all);
	(void)pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&p->th, NULL, worker, p);
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		ingest_pipe_free(p);
		return eng_error(eb, ENG_EIO, "ingest pipe: cannot start a "
		    "thread: %s", strerror(rc));
	}
	p->started = 1;
	*out = p;
	return 0;
}

void
ingest_pipe_free(struct ingest_pipe *p)
{
	size_t n;
	struct slot *sl;

	if (p == NULL)
		return;
	if (p->started) {
		(void)pthread_mutex_lock(&p->mu);
		p->stop = 1;
		(void)pthread_cond_signal(&p->work);
		(void)pthread_mutex_unlock(&p->mu);
		(void)pthread_join(p->th, NULL);
	}
	for (n = p->ntaken; n < p->nput; n++) {
		sl = &p->v[n % p->depth];
		if (sl->done)
			ingest_parsed_free(sl->parsed);
	}
	for (n = 0; n < p->ntrash; n++)
		ingest_parsed_free(p->trash[n]);
	(void)pthread_cond_destroy(&p->ready);
	(void)pthread_cond_destroy(&p->work);
	(void)pthread_mutex_destroy(&p->mu);
	free(p->v);
	free(p);
}

size_t
ingest_pipe_queued(const struct ingest_pipe *p)
{
	/* Both counters change on the caller's thread only. */
	return p->nput - p->ntaken;
}

int
ingest_pipe_put(struct ingest_pipe *p, const struct ingest_source *src,
    const void *buf, size_t len, struct diag_list *diags, void *tag)
{
	struct slot *sl;

	if (p->nput - p->ntaken >= p->depth)
		return ENG_EBUSY;
	sl = &p->v[p->nput % p->depth];
	(void)pthread_mutex_lock(&p->mu);
	memset(sl, 0, sizeof(*sl));
	sl->src = src;
	sl->buf = buf;
	sl->len = len;
	sl->diags = diags;
	sl->tag = tag;
	p->nput++;
	(void)pthread_cond_signal(&p->work);
	(void)pthread_mutex_unlock(&p->mu);
	return 0;
}

int
ingest_pipe_take(struct ingest_pipe *p, struct ingest_result *res,
    void **tag, struct eng_errbuf *eb)
{
	struct slot *sl;
	int rv;

	memset(res, 0, sizeof(*res));
	*tag = NULL;
	if (p->ntaken == p->nput)
		return ENG_ENOENT;
	sl = &p->v[p->ntaken % p->depth];
	(void)pthread_mutex_lock(&p->mu);
	while (!sl->done)
		(void)pthread_cond_wait(&p->ready, &p->mu);
	(void)pthread_mutex_unlock(&p->mu);
	*tag = sl->tag;
	if ((rv = sl->rv) != 0) {
		if (eb != NULL)
			*eb = sl->eb;
	} else {
		rv = ingest_store_keep(p->ig, sl->parsed, res, sl->diags, eb);
		/* Freed by the worker when it is idle (inline if its list
		 * is full). */
		(void)pthread_mutex_lock(&p->mu);
		if (p->ntrash < TRASH_MAX) {
			p->trash[p->ntrash++] = sl->parsed;
			sl->parsed = NULL;
			(void)pthread_cond_signal(&p->work);
		}
		(void)pthread_mutex_unlock(&p->mu);
		ingest_parsed_free(sl->parsed);
	}
	sl->parsed = NULL;
	p->ntaken++;
	return rv;
}
