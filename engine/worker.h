/*
 * engine/worker.h - a thread that does rounds of one job and sleeps in
 * between until kicked: the shape of the dispatcher, the channel runners,
 * the planner and the escalation thread.
 *
 * The thread calls round(arg) over and over.  What round returns says
 * how long the thread may then sleep:
 *	0 (or less)	round again at once;
 *	ms > 0		sleep up to ms, cut short by a kick, and not at all if
 *			a kick came while round ran;
 *	WORKER_PAUSE(ms) sleep up to ms, cut short only by a kick that comes
 *			during the sleep (after a failure: a kick from before
 *			does not turn the pause into a busy retry).
 * Sleeps are measured on the monotonic clock (a step of the wall clock
 * does not lengthen or shorten them).
 *
 * Thread-safety: worker_kick and worker_running may be called from any
 * thread (round included); worker_start and worker_stop from one thread,
 * not from round.
 */
#ifndef ENGINE_WORKER_H
#define ENGINE_WORKER_H

#include <stdint.h>

struct worker;

typedef int64_t (*worker_round_fn)(void *arg);

/* A pause that earlier kicks do not cut short (see above); ms > 0. */
#define WORKER_PAUSE(ms)	(-(int64_t)(ms))

/* Start the thread; its first round begins at once.  *out is set before
 * it begins (a round may pass it to worker_running).  name: the thread's
 * name as ps -L, top -H and a debugger show it (its first
 * WORKER_NAME_MAX bytes).  0, ENG_ENOMEM, or ENG_EIO (no thread; *out
 * NULL).  arg is the caller's and must outlive the worker. */
#define WORKER_NAME_MAX	15	/* the kernel's limit */
int worker_start(const char *name, worker_round_fn round, void *arg,
    struct worker **out);

/* Something to do: the next sleep is cut short (or skipped). */
void worker_kick(struct worker *w);

/* 1 until worker_stop was called: a long round checks it to end early. */
int worker_running(struct worker *w);

/* Ask the thread to stop, wait for the round in progress to end, join
 * and free.  NULL is a no-op. */
void worker_stop(struct worker *w);

#endif /* ENGINE_WORKER_H */
