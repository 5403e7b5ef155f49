/*
 * engine/worker.c - a thread of rounds and sleeps (engine/worker.h).
 */
#include "engine/worker.h"

#include "engine/clock.h"
#include "engine/err.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct worker {
	worker_round_fn round;
	void *arg;
	char name[WORKER_NAME_MAX + 1];
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;	/* on CLOCK_MONOTONIC */
	int running, kicked;	/* under lock */
};

static void *
run(void *p)
{
	struct worker *w = p;
	struct timespec ts;
	int64_t ms;
	int pause;

	(void)pthread_setname_np(pthread_self(), w->name);
	for (;;) {
		pthread_mutex_lock(&w->lock);
		if (!w->running) {
			pthread_mutex_unlock(&w->lock);
			break;
		}
		w->kicked = 0;
		pthread_mutex_unlock(&w->lock);

		if ((ms = w->round(w->arg)) == 0)
			continue;
		if ((pause = ms < 0))
			ms = -ms;
		pthread_mutex_lock(&w->lock);
		if (pause)
			w->kicked = 0;	/* only a kick from now on counts */
		if (w->running && !w->kicked) {
			eng_deadline(CLOCK_MONOTONIC, ms, &ts);
			(void)pthread_cond_timedwait(&w->cond, &w->lock, &ts);
		}
		pthread_mutex_unlock(&w->lock);
	}
	return NULL;
}

int
worker_start(const char *name, worker_round_fn round, void *arg,
    struct worker **out)
{
	pthread_condattr_t ca;
	struct worker *w;

	*out = NULL;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return ENG_ENOMEM;
	w->round = round;
	w->arg = arg;
	(void)snprintf(w->name, sizeof(w->name), "%s", name);
	w->running = 1;
	pthread_mutex_init(&w->lock, NULL);
	pthread_condattr_init(&ca);
	(void)pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cond, &ca);
	pthread_condattr_destroy(&ca);
	*out = w;	/* before the first round, which may read it */
	if (pthread_create(&w->thread, NULL, run, w) != 0) {
		*out = NULL;
		pthread_cond_destroy(&w->cond);
		pthread_mutex_destroy(&w->lock);
		free(w);
		return ENG_EIO;
	}
	return 0;
}

void
worker_kick(struct worker *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	w->kicked = 1;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

int
worker_running(struct worker *w)
{
	int r;

	pthread_mutex_lock(&w->lock);
	r = w->running;
	pthread_mutex_unlock(&w->lock);
	return r;
}

void
worker_stop(struct worker *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	w->running = 0;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	(void)pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	free(w);
}
