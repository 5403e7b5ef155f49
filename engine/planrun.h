/*
 * engine/planrun.h - the planner thread: writes the deliveries of every
 * accepted alert (engine/plan.h) on a store connection of its own, while
 * the dispatcher (engine/dispatch.h) sends on its own.
 *
 * Alerts are planned highest colour first.  A large plan is committed in
 * chunks (a first one small, the people who act first before the rest;
 * engine/plan.h) and on_written is told after each, so the dispatcher claims the
 * first messages while the rest of the plan is written: the first SMS of
 * an alert for a million people leaves after the first chunk, not after
 * the whole plan.  An alert of a higher colour accepted meanwhile is
 * planned before that plan goes on.  An alert is marked planned once all
 * of it is written; one that failed (or was stopped or set aside) is
 * planned again later, without writing a delivery twice, and does not
 * hold up the alerts behind it.
 *
 * Thread-safety: planrun_kick may be called from any thread; start and
 * stop from one.  on_written and addr_of run on the planner's thread.
 */
#ifndef ENGINE_PLANRUN_H
#define ENGINE_PLANRUN_H

#include "engine/clock.h"
#include "engine/err.h"
#include "engine/plan.h"

struct cfg_routing;
struct planrun;

/* After each committed chunk (alerts 0) and each alert planned (1). */
typedef void (*planrun_written_fn)(void *arg, int alerts);

struct planrun_config {
	const char *db_path;		/* the store (opened replayable) */
	const struct cfg_routing *routing;	/* outlives the planner */
	plan_addr_fn addr_of;
	void *addr_arg;
	planrun_written_fn on_written;	/* may be NULL */
	void *written_arg;
	const struct eng_clock *clock;	/* NULL: the system clock */
};

/* Open the connection and start the thread; it plans what is waiting
 * at once.  Errors (the store cannot be opened ...) in eb. */
int planrun_start(const struct planrun_config *c, struct planrun **out,
    struct eng_errbuf *eb);

/* Something was accepted: look for unplanned alerts now (otherwise the
 * planner looks every PLANRUN_IDLE_MS). */
#define PLANRUN_IDLE_MS	200
void planrun_kick(struct planrun *p);

/* Stop at the next chunk (the alert is planned again at the next start)
 * and free.  NULL is a no-op. */
void planrun_stop(struct planrun *p);

#endif /* ENGINE_PLANRUN_H */
