/*
 * engine/escalate.h - 叫应 escalation: whoever must answer and has not is
 * reached again, harder, on time, and the level above is told.
 *
 * Once an alert's plan is complete, every person a routing rule with
 * `answer: true` reached (engine/answer.h answer_required) gets a row in
 * the store (table escalations): their region, the channel of their
 * first message and when it was written (the base of the step delays).
 * The policy that applies to them is the first of cfg->escalation whose
 * levels hold their region's level and whose colours hold the alert's
 * colour; its steps fire at base + after, in order, once each:
 *
 *   resend         the alert again (kind "remind") on the first channel
 *   channel        the alert (kind "remind") through step.channel, to
 *                  the person's address for that channel (a voice call)
 *   deputy         the alert (kind "remind") to the people of the same
 *                  region with step.roles (default deputy)
 *   notify_parent  the officers (step.roles, default duty_officer) of
 *                  the parent region get the list of that region's
 *                  people still silent at this step: name, role, phone
 *                  (kind "unanswered"; one message per officer)
 *   unreachable    the person is marked unreachable (reports show it)
 *
 * A step never fires for someone who answered (their row ends at once:
 * store_answer_add), for a region whose quorum is reached (policy
 * quorum > 0: that many of the region's people answered), or after the
 * alert was cancelled, superseded or expired.  Quiet hours hold back
 * blue and yellow steps to their end, never orange or red.
 *
 * Timers are rows: firing a step writes its deliveries and moves the
 * row to its next step in one transaction, so a restart neither loses a
 * step nor fires one twice (deliveries are also unique per step).
 *
 * The work runs in its own thread with its own store connection; time
 * comes from the clock given (tests drive it).  Deliveries go to the
 * outbox and the dispatcher is woken.
 */
#ifndef ENGINE_ESCALATE_H
#define ENGINE_ESCALATE_H

#include <stddef.h>
#include <stdint.h>

#include "engine/err.h"

struct cfg;
struct dispatch;
struct eng_clock;
struct escalate;
struct store;

struct escalate_config {
	const struct cfg *cfg;		/* borrowed: must outlive it */
	const char *db_path;
	const struct eng_clock *clock;	/* NULL: system */
	/* The channels' address kinds and the thread to wake when
	 * deliveries were written (may be NULL in tests: then the address
	 * kind comes from addr_of). */
	struct dispatch *dispatch;
	int (*addr_of)(void *arg, const char *channel);
	void *addr_arg;
};

struct escalate_stats {
	unsigned long long built;	/* people given a row */
	unsigned long long fired;	/* steps fired */
	unsigned long long deliveries;	/* messages written by steps */
	unsigned long long answered, quorum, stopped, unreachable;
	int64_t max_lag_ms;		/* longest due -> fired seen */
	int64_t last_lag_ms;
};

/* Start the thread.  0, or ENG_EIO / ENG_ENOMEM with detail in eb. */
int escalate_start(const struct escalate_config *c, struct escalate **out,
    struct eng_errbuf *eb);

/* Stop and free; NULL is a no-op. */
void escalate_stop(struct escalate *e);

/* Wake the thread now (an alert was planned).  Thread-safe. */
void escalate_kick(struct escalate *e);

/* Counters so far.  Thread-safe. */
void escalate_get_stats(struct escalate *e, struct escalate_stats *st);

/*
 * Without a thread (tests, benchmarks): write the rows of planned
 * alerts and fire what is due at now_ms, through store s.  *fired (if
 * not NULL) gets the number of steps fired.  0 or an error with eb.
 */
int escalate_run(const struct escalate_config *c, struct store *s,
    int64_t now_ms, size_t *fired, struct eng_errbuf *eb);

struct diag_list;
struct roster;

/*
 * For gongd --check-config, with the rosters: every notify_parent step
 * must reach someone for every region of its policy's levels — an
 * active responder of the parent region with one of the step's roles
 * and an address for the step's channel (or, without one, for a channel
 * of the answer rules of that level); else an error at the step naming
 * the regions without anyone (the first few).  A deputy step that finds
 * no deputy in some regions is a warning (deputies are optional).  A
 * policy with no routing rule `answer: true` is a warning.  Returns 0,
 * ENG_EINVAL (errors in d) or ENG_ENOMEM.
 */
int escalate_check_rosters(const struct cfg *c, const struct roster *regions,
    const struct roster *responders, struct diag_list *d);

#endif /* ENGINE_ESCALATE_H */
