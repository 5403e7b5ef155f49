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
 * An alert's deliveries are written in chunks, each in a transaction of
 * its own (the roster is read between them, with none open), the last
 * together with the alert's "planned" mark, so a crash leaves the alert
 * either to be planned again or fully planned; a delivery is unique per
 * (alert, channel, recipient), so planning twice never sends twice.
 */
#ifndef ENGINE_PLAN_H
#define ENGINE_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "engine/err.h"
#include "engine/region.h"

struct store;
struct store_person;
struct cfg_routing;

/*
 * The address kind of a channel (enum chan_addr), 0 if unknown, with
 * PLAN_ADDR_VOICE or'ed in for a voice channel (a phone channel that
 * calls: a responder's "voice" preference, not "phone").
 */
typedef int (*plan_addr_fn)(void *arg, const char *channel);
#define PLAN_ADDR_VOICE	0x100

struct store_person;
/* A person's address for an address kind (enum chan_addr, a
 * PLAN_ADDR_VOICE flag ignored): their phone, e-mail, app id …, or NULL
 * (none, or a kind people do not have). */
const char *plan_address_for(const struct store_person *p, int addr);

struct plan_stats {
	long long people;	/* responders selected */
	long long ancestors;	/* officers above the targets */
	long long devices;	/* devices selected */
	long long deliveries;	/* rows written (new) */
	long long no_address;	/* selected, but no address for a channel */
	long long skipped_exercise;	/* not an exercise participant */
	int64_t write_us;	/* inside the write transactions, summed
				 * over the threads that wrote */
};

/* Told after each chunk of a plan is committed (plan_alert); non-zero
 * stops the plan there (ENG_ETEMP: planned again later, as after a
 * crash). */
typedef int (*plan_chunk_fn)(void *arg);

/*
 * Plan one alert: write its deliveries and mark it planned on s.  A
 * large plan is committed in chunks, the people who act first
 * (responsible persons, duty officers, warners, here and above) before
 * the rest and the devices, so that its first deliveries go out to them
 * while the rest is written: a first chunk of PLAN_FIRST_CHUNK (a claim
 * of the dispatcher's: the first SMS waits for no more to be read and
 * written), then chunks of PLAN_CHUNK.  on_chunk (may be NULL) is
 * told after each, on the caller's thread.  Each delivery carries its
 * priority, by which the dispatcher claims.  A crash between chunks is
 * resumed by planning again (a delivery is unique per alert, channel
 * and recipient; the alert is marked planned last).  A plan of more
 * than one chunk starts a thread with a connection of its own to s's
 * database (store_open_like) that writes the full chunks, in order,
 * while this one reads the roster on; it is gone when plan_alert
 * returns.  r is the routing policy; addr_of tells the address kind of
 * each channel.  dry_run counts without writing.  Blocking.
 */
#define PLAN_FIRST_CHUNK 256
#define PLAN_CHUNK 2000

int plan_alert(struct store *s, const struct cfg_routing *r,
    plan_addr_fn addr_of, void *addr_arg, plan_chunk_fn on_chunk,
    void *chunk_arg, long long alert_id, int64_t now_ms,
    int dry_run, struct plan_stats *st, struct eng_errbuf *eb);

/* ------------------------------------------------------------------ */
/* Dry run of an alert that is not stored (POST /api/v1/plan)          */
/* ------------------------------------------------------------------ */

/* What the planner needs of an alert (engine/ingest.h's ingest_preview
 * makes it from CAP).  Borrowed for the call. */
struct plan_request {
	const char (*targets)[REGION_CODE_SIZE];	/* resolved area */
	size_t ntargets;
	int colour;		/* enum cap_color */
	const char *status;	/* "Actual", "Exercise", ... */
	const char *msg_type;	/* "Alert", "Update", "Cancel" */
	int broadcast;		/* the subtrees are to be reached */
	long long chain_id;	/* Update/Cancel: the chain whose reached
				 * recipients hear of it; 0 none */
	int64_t deadline_ms;	/* expiry, 0 none */
};

/* One delivery the planner would write (strings borrowed for the
 * callback). */
struct plan_item {
	const char *kind;	/* "alert", "update", "cancel" */
	const char *channel, *recipient;	/* "r:<id>" / "d:<id>" */
	const char *responder_id, *device_id;	/* one of them, or NULL */
	const char *region, *address;
	const char *role;	/* responder's role, or device kind */
	int priority;
	int64_t deadline_ms;
};

/* Callbacks return 0, or an error that stops the walk and is returned. */
struct plan_visitor {
	int (*item)(void *arg, const struct plan_item *it);
	/* A selected person without an address for channel. */
	int (*no_address)(void *arg, const char *channel,
	    const struct store_person *p);
	void *arg;
};

/*
 * The plan of rq against the roster in s, visited and not written:
 * exactly the rows plan_alert would write for the same alert, each
 * (channel, recipient) once (the outbox's unique key), and each missing
 * (person, channel) address once.  st gets the totals (people and
 * devices counted once each).  Reads only (no transaction: the
 * dispatcher's writes go on).  Returns 0 or an error (detail in eb).
 * Blocking; memory grows with the number of rows (a set of their keys).
 */
int plan_preview(struct store *s, const struct cfg_routing *r,
    plan_addr_fn addr_of, void *addr_arg, const struct plan_request *rq,
    const struct plan_visitor *v, struct plan_stats *st,
    struct eng_errbuf *eb);

/* A count by name. */
struct plan_count {
	char *key;
	long long n;
};

struct plan_counts {
	struct plan_count *v;	/* in order of first appearance */
	size_t n, alloc;
};

/* A first row of a kind, kept as a sample (owned strings). */
struct plan_sample {
	char *channel, *recipient, *responder_id, *region, *role;
};

/*
 * A dry run's summary, filled by plan_summary_visitor(): deliveries by
 * the level of their region (village, township, ...), by channel and by
 * role (a device's kind for devices); devices by kind; selected people
 * without an address, by channel; and the first row of each (channel,
 * role) pair as a sample to render (at most PLAN_MAX_SAMPLES).
 */
#define PLAN_MAX_SAMPLES 64

struct plan_summary {
	struct plan_stats st;	/* plan_preview's totals (the caller's) */
	long long deliveries;
	struct plan_counts by_level, by_channel, by_role;
	struct plan_counts devices_by_kind, no_address;
	struct plan_sample samples[PLAN_MAX_SAMPLES];
	size_t nsamples;
};

void plan_summary_init(struct plan_summary *sum);
void plan_summary_release(struct plan_summary *sum);
/* A visitor that adds to sum (which must outlive its use). */
void plan_summary_visitor(struct plan_summary *sum, struct plan_visitor *v);
/* The count of key in c (0 if absent). */
long long plan_counts_get(const struct plan_counts *c, const char *key);

#endif /* ENGINE_PLAN_H */
