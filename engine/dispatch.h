/*
 * engine/dispatch.h - the dispatcher: takes due deliveries from the
 * outbox, hands them to the channels, and records what the channels
 * report — retries with backoff and jitter, expiry, cancel.  It starts
 * and owns the planner (engine/planrun.h), which writes the alerts'
 * plans on a thread and connection of its own and tells the dispatcher
 * after each committed chunk, so that a large plan is sent while it is
 * written.
 *
 * It runs in its own thread with its own store connection and owns every
 * channel; each channel's driver runs in a thread of its own
 * (engine/chanrun.h), to which the dispatcher hands the messages it
 * claimed and rendered, and whose reports it records.  Nothing is kept
 * only in memory: a delivery handed to a channel is "sending" with a
 * lease in the store, so after a crash it is taken again once the lease
 * runs out (at least once); within one process a delivery a channel
 * still holds is never handed over twice, and the messages of a
 * withdrawn alert that a driver has not taken yet are taken back.
 */
#ifndef ENGINE_DISPATCH_H
#define ENGINE_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

#include "engine/diag.h"
#include "engine/err.h"

struct cfg;
struct dispatch;
struct eng_clock;
struct store;
struct chan_http_req;
struct chan_http_resp;
struct plan_request;
struct plan_summary;
struct store_alert;

struct dispatch_config {
	const struct cfg *cfg;		/* borrowed: must outlive the dispatcher */
	const char *db_path;
	const char *data_dir;
	const char *callback_base;	/* "http://127.0.0.1:8080/cb"; channel
					 * X gets <this>/X */
	const struct eng_clock *clock;	/* NULL: system */
	int64_t lease_ms;		/* default 60 s */
	int max_attempts;		/* default 10 */
	/* Answer links (engine/anslink.h): the key, and the URL the
	 * links start with ("http://host:port"; /a/<token> follows).
	 * NULL: messages carry no link. */
	const char *answer_key;
	const char *link_base;
};

/*
 * Check the channels of cfg: every type known, every driver's init
 * accepts its section (no I/O); and the message templates of
 * cfg->templates compile (engine/render.h; file reads).  Errors into
 * diags.  For --check-config and before a reload.
 */
int dispatch_check_channels(const struct cfg *cfg, const char *data_dir,
    struct diag_list *diags);

/* Load the message templates (a bad one is an error, in diags),
 * initialise the channels and start the thread. */
int dispatch_start(const struct dispatch_config *c, struct dispatch **out,
    struct diag_list *diags, struct eng_errbuf *eb);

/* Stop the thread (channels report what they still hold as retry, which
 * the store keeps), shut the channels down, free.  NULL is a no-op. */
void dispatch_stop(struct dispatch *d);

/* The address kind (enum chan_addr) of a configured channel, 0 if there
 * is no such channel.  Thread-safe (channels are fixed at start). */
int dispatch_channel_addr(struct dispatch *d, const char *channel);

/* Wake the planner and the dispatcher now (a new alert was stored, or
 * deliveries were written).  Thread-safe. */
void dispatch_kick(struct dispatch *d);

/*
 * An HTTP callback for channel name (receipts, replies), from an HTTP
 * thread: the driver turns it into events, which are applied to the
 * store through s (the caller's connection).  Returns 0, or ENG_ENOENT
 * for an unknown channel or one without callbacks.  Thread-safe.
 */
int dispatch_inbound(struct dispatch *d, struct store *s, const char *name,
    const struct chan_http_req *req, struct chan_http_resp *resp);

struct dispatch_stats {
	unsigned long long planned, claimed, sent, delivered, retried,
	    failed, dead, cancelled, replies;
	unsigned long long failover;	/* written again on a partner */
};
void dispatch_get_stats(struct dispatch *d, struct dispatch_stats *st);

#define CHAN_LAT_BUCKETS 10

/* One channel's figures for /metrics. */
#define CHAN_METRICS_OFFLINE	64	/* offline devices shown per channel */

struct chan_metrics {
	unsigned long long sent, delivered, failed, retried;
	/* hand-over to "sent" latency: counts per bucket (the last one is
	 * +Inf), their sum and number */
	unsigned long long latency[CHAN_LAT_BUCKETS + 1];
	unsigned long long latency_sum_ms, latency_n;
	int breaker_open;
	unsigned long long breaker_trips;
	struct chan_health_snapshot {
		int up;
		size_t queued, in_flight;
		char detail[128];
	} health;
	/* Devices the driver knows to be offline (channel.h offline). */
	size_t noffline;
	char offline[CHAN_METRICS_OFFLINE][96];
};

/*
 * Channel i's name, driver type and figures (a copy).  ENG_ENOENT past
 * the last channel.  Thread-safe; names live as long as d.
 */
int dispatch_channel_metrics(struct dispatch *d, size_t i, const char **name,
    const char **type, struct chan_metrics *m);
/* The upper bounds (ms) of the latency buckets (CHAN_LAT_BUCKETS). */
const int64_t *dispatch_latency_bounds(void);

/* One rendered sample of a dry run: the first planned row of its
 * template kind. */
struct dispatch_sample {
	const char *kind;	/* "sms", "app", "email", "voice",
				 * "loudspeaker" (static) */
	const struct plan_sample *row;	/* borrowed from the summary */
	char *text, *subject;	/* owned */
	char *tpl;		/* template name, NULL: built-in wording */
	int segments;		/* sms: parts */
	int fits;		/* sms: within the template's budget */
	int fallback;		/* the built-in wording was used */
};

/*
 * A dry run with this dispatcher's routing, channels (their address
 * kinds) and templates, from another thread: rq is planned against the
 * roster through s (the caller's connection; nothing is written) into
 * sum (plan_summary_init'ed by the caller), and for each template kind
 * among the rows the first one is rendered from a (the alert as
 * ingest_preview made it) into *samples (*nsamples of them; free with
 * dispatch_samples_free).  Returns 0, or an error with detail in eb.
 * Thread-safe while the dispatcher runs (channels, routing and
 * templates are only read); the caller keeps d alive (the API's
 * disp_lock).  Blocking (store reads).
 */
int dispatch_dry_run(struct dispatch *d, struct store *s,
    const struct store_alert *a, const struct plan_request *rq,
    struct plan_summary *sum, struct dispatch_sample **samples,
    size_t *nsamples, struct eng_errbuf *eb);
void dispatch_samples_free(struct dispatch_sample *v, size_t n);

#endif /* ENGINE_DISPATCH_H */
