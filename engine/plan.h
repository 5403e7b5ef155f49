/*
 * engine/plan.h - from an alert to its deliveries.
 *
 * Who and what must be reached: every responder of the target regions'
 * subtrees that a routing rule selects (villages directly, 直达基层), the
 * officers of every level above the targets up to the deployment root
 * (四级联动), and the devices of the subtrees whose kind fires for the
 * alert's colour.  An Update also goes to everyone its chain already
 * reached; a Cancel goes only to those (the cancel notice).  Exercises
 * reach only exercise participants (and devices only if configured).
 *
 * Every delivery of an alert is written in one transaction together with
 * the alert's "planned" mark, so a crash either leaves the alert to be
 * planned again or fully planned; a delivery is unique per (alert,
 * channel, recipient), so planning twice never sends twice.
 */
#ifndef ENGINE_PLAN_H
#define ENGINE_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "engine/err.h"

struct store;
struct cfg_routing;

/* The address kind of a channel (enum chan_addr), 0 if unknown. */
typedef int (*plan_addr_fn)(void *arg, const char *channel);

struct plan_stats {
	long long people;	/* responders selected */
	long long ancestors;	/* officers above the targets */
	long long devices;	/* devices selected */
	long long deliveries;	/* rows written (new) */
	long long no_address;	/* selected, but no address for a channel */
	long long skipped_exercise;	/* not an exercise participant */
};

/*
 * Plan one alert: write its deliveries and mark it planned, in one
 * transaction on s.  r is the routing policy; addr_of tells the address
 * kind of each channel.  dry_run counts without writing.  Blocking.
 */
int plan_alert(struct store *s, const struct cfg_routing *r,
    plan_addr_fn addr_of, void *addr_arg, long long alert_id, int64_t now_ms,
    int dry_run, struct plan_stats *st, struct eng_errbuf *eb);

#endif /* ENGINE_PLAN_H */
