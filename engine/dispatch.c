/*
 * engine/dispatch.c - the dispatcher thread.
 */
#include "engine/dispatch.h"
#include "cap/cap.h"
#include "channels/channel.h"
#include "config/cfg.h"
#include "engine/anslink.h"
#include "engine/answer.h"
#include "engine/chanrun.h"
#include "engine/clock.h"
#include "engine/log.h"
#include "engine/plan.h"
#include "engine/planrun.h"
#include "engine/render.h"
#include "engine/store.h"
#include "engine/worker.h"

#include <errno.h>
#include <stdarg.h>
#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* uthash (Debian's uthash-dev): an allocation that fails leaves the entry
 * out (its hh.tbl is NULL) instead of ending the process. */
#define HASH_NONFATAL_OOM	1
#include <uthash.h>

#define CLAIM_BATCH	256
#define IDLE_WAIT_MS	200
#define BACKOFF_BASE_MS	2000
#define BACKOFF_MAX_MS	300000
#define ALERT_CACHE	32
#define CLAIM_HOLD_MS	100
#define CLAIM_MIN	16
/* After a claim that took every due row: the next only once new work is
 * signalled (kick) or after this (retries and leases falling due). */
#define DRAIN_RECHECK_MS	100
#define LINK_GRACE_MS	86400000LL
#define LINK_NO_EXPIRY_MS	(7 * 86400000LL)
/* Messages a channel's runner holds that its driver has not taken. */
#define INBOX_MAX	1024
#define STATUS_EVERY_MS	100

struct slot {
	struct channel ch;
	struct chan_env env;
	struct chanrun *run;	/* the channel's thread; NULL before start */
	char *cb_base;		/* <callback_base>/<channel name> */
	/* The channel's "failover:" partner: a delivery that fails here
	 * is written again for the partner (same recipient and address). */
	struct slot *failover;
	int full;		/* refused a message this round (ETEMP) */
	long long claimed;	/* rows of the last claim for this channel */
	/* Circuit breaker, for a channel with a fail-over partner:
	 * BREAKER_FAILS temporary failures in a row open it for
	 * BREAKER_OPEN_MS, during which deliveries go to the partner at
	 * once instead of waiting out their backoff here; then a round is
	 * tried again.  (Without a partner, each delivery's own backoff
	 * already spares the gateway, and waiting is all there is.) */
	int fails_in_row;
	int64_t open_until;	/* 0: closed */
	/* rate_limit (channel.h rule 10): a token bucket of rate_n tokens
	 * refilled over rate_window ms; a message costs one token, or its
	 * SMS parts with rate_count: segments.  The bucket may go into
	 * debt by one message's parts; nothing is handed over while it is
	 * below one token. */
	int64_t rate_n, rate_window;
	int rate_segments;
	double tokens;
	int64_t refilled_at;
	/* Metrics, under d->st_lock (read by the HTTP threads). */
	struct chan_metrics m;
};

#define BREAKER_FAILS	5
#define BREAKER_OPEN_MS	30000

/* What is in flight, to decide about retries: one entry per delivery a
 * channel holds, by id (uthash). */
struct inflight {
	int64_t id;
	long long alert_id;
	int notice;		/* a cancel notice: never withdrawn */
	int attempts;
	int64_t deadline;
	int64_t handed_at;	/* when send took it (latency) */
	UT_hash_handle hh;
};

struct report {
	int64_t id;
	struct slot *sl;	/* who reported */
	enum chan_result result;
	char *gateway_id, *error;
	int64_t retry_after;
	int segments;
};

/* One alert, ready for rendering its deliveries' texts. */
struct alert_text {
	long long id;
	char state[16];
	int exercise, cancel;
	int colour;
	int64_t expires_ms;		/* 0: none */
	char *event;
	struct render_alert *ra;	/* variables, built-in wording */
};

struct dispatch {
	const struct cfg *cfg;
	struct store *s;
	struct render *render;		/* the message templates */
	const struct eng_clock *clock;
	char *db_path, *data_dir, *callback_base;
	char *answer_key, *link_base;	/* NULL: no answer links */
	int64_t lease_ms;
	int max_attempts;
	struct slot *slots;
	size_t nslots;
	struct worker *w;	/* the thread; NULL once stopped (under lock) */
	pthread_mutex_t lock;
	struct inflight *fl;	/* the in-flight map's head, or NULL */
	struct planrun *planner;	/* writes the plans (its own thread) */
	int withdraw_due;	/* a cached alert became withdrawn: withdraw() */
	/* Reports from the channels' threads, under lock; apply_reports
	 * swaps them with the spare array and works on that. */
	struct report *rep, *rep2;
	size_t nrep, arep, arep2;
	/* apply_reports: which reports were recorded in runs (sent_runs) */
	unsigned char *done;
	long long *done_ids;
	size_t adone;
	int64_t wake_at;	/* a rate-limited channel has a token then */
	int64_t status_at;	/* channel status copied into metrics next */
	struct alert_text cache[ALERT_CACHE];
	size_t ncache;
	int64_t claim_hold_until;	/* a channel was full */
	long long claim_limit;		/* deliveries per claim */
	long long last_claimed;		/* rows of the last claim */
	int64_t probe_at;		/* claim_size: next claim while full */
	struct dispatch_stats st;
	pthread_mutex_t st_lock;
	int64_t round_now;	/* the claim round's time */
	struct work *work;	/* CLAIM_BATCH, one claim's rows */
	long long *back;	/* CLAIM_BATCH: those a full channel refused */
	int work_kicked;	/* under lock: kick() since the last claim */
	int drained;		/* the last claim took every due row */
	int64_t drained_until;	/* ... and the next is not before then */
};

/* ------------------------------------------------------------------ */
/* in-flight map                                                       */
/* ------------------------------------------------------------------ */

static struct inflight *
fl_get(struct dispatch *d, int64_t id)
{
	struct inflight *f = NULL;

	HASH_FIND(hh, d->fl, &id, sizeof(id), f);
	return f;
}

static int
fl_put(struct dispatch *d, int64_t id, long long alert_id, int notice,
    int attempts, int64_t deadline)
{
	struct inflight *f = fl_get(d, id);

	if (f == NULL) {
		if ((f = calloc(1, sizeof(*f))) == NULL)
			return ENG_ENOMEM;
		f->id = id;
		f->handed_at = d->round_now;
		HASH_ADD(hh, d->fl, id, sizeof(f->id), f);
		if (f->hh.tbl == NULL) {	/* the table could not grow */
			free(f);
			return ENG_ENOMEM;
		}
	}
	f->alert_id = alert_id;
	f->notice = notice;
	f->attempts = attempts;
	f->deadline = deadline;
	return 0;
}

static void
fl_del(struct dispatch *d, struct inflight *f)
{
	HASH_DEL(d->fl, f);
	free(f);
}

static void
fl_clear(struct dispatch *d)
{
	struct inflight *f, *tmp;

	HASH_ITER(hh, d->fl, f, tmp) {
		HASH_DEL(d->fl, f);
		free(f);
	}
}

static char *
xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p = NULL;

	va_start(ap, fmt);
	if (vasprintf(&p, fmt, ap) < 0)
		p = NULL;
	va_end(ap);
	return p;
}

/* ------------------------------------------------------------------ */
/* channels                                                            */
/* ------------------------------------------------------------------ */

static struct slot *
find_slot(struct dispatch *d, const char *name)
{
	size_t i;

	for (i = 0; i < d->nslots; i++)
		if (strcmp(d->slots[i].ch.name, name) == 0)
			return &d->slots[i];
	return NULL;
}

static void
on_report(void *engine, struct channel *ch, const struct chan_report *r)
{
	struct dispatch *d = engine;
	struct report *nv, x;

	/* From a channel's thread: copied before taking the lock. */
	x.id = r->delivery_id;
	x.sl = (struct slot *)(void *)ch;	/* ch is a slot's first member */
	x.result = r->result;
	x.gateway_id = r->gateway_id ? strdup(r->gateway_id) : NULL;
	x.error = r->error ? strdup(r->error) : NULL;
	x.retry_after = r->retry_after_ms;
	x.segments = r->segments;
	pthread_mutex_lock(&d->lock);
	if (d->nrep == d->arep) {
		size_t na = d->arep ? d->arep * 2 : 256;

		if ((nv = realloc(d->rep, na * sizeof(*nv))) == NULL) {
			pthread_mutex_unlock(&d->lock);
			/* The delivery stays "sending" and is taken again
			 * when its lease runs out: late, never lost. */
			log_error("dispatch.report_lost", "delivery=%lld "
			    "msg=\"out of memory\"", (long long)r->delivery_id);
			free(x.gateway_id);
			free(x.error);
			return;
		}
		d->rep = nv;
		d->arep = na;
	}
	d->rep[d->nrep++] = x;
	/* The first report since the dispatcher last looked wakes it (a
	 * channel stopping after the dispatcher finds no thread to wake:
	 * dispatch_stop applies what it reported). */
	if (d->nrep == 1)
		worker_kick(d->w);
	pthread_mutex_unlock(&d->lock);
}

static void
shutdown_slots(struct dispatch *d)
{
	size_t i;

	for (i = 0; i < d->nslots; i++) {
		struct slot *sl = &d->slots[i];

		/* The runner reports what it holds and shuts the driver
		 * down; without one, the driver is shut down here. */
		if (sl->run != NULL)
			chanrun_stop(sl->run);
		else if (sl->ch.ops != NULL && sl->ch.priv != NULL)
			sl->ch.ops->shutdown(&sl->ch);
		sl->run = NULL;
		free(sl->ch.priv);
		sl->ch.priv = NULL;
		free(sl->cb_base);
		sl->cb_base = NULL;
	}
}

/*
 * The engine's own channel key "failover: NAME": another configured
 * channel that addresses the same kind of recipient (a device channel's
 * partner must address devices too).  Drivers accept the key and leave
 * it to the engine.
 */
static int
link_failover(struct dispatch *d, const struct cfg *cfg,
    struct diag_list *diags)
{
	const struct cfg_node *n;
	const char *name;
	size_t i, n0 = diags->nerrors;
	struct slot *sl, *to;

	for (i = 0; i < d->nslots; i++) {
		sl = &d->slots[i];
		name = NULL;
		if (cfg_node_get(cfg->channels[i].node, "failover") == NULL ||
		    cfg_get_str(cfg->channels[i].node, "failover", &name,
		    diags) != 0 || name == NULL)
			continue;
		n = cfg_node_get(cfg->channels[i].node, "failover");
		if ((to = find_slot(d, name)) == NULL)
			(void)cfg_error(diags, n, "failover channel '%s' is not "
			    "configured", name);
		else if (to == sl)
			(void)cfg_error(diags, n, "a channel cannot fail over "
			    "to itself");
		else if (to->ch.addr != sl->ch.addr)
			(void)cfg_error(diags, n, "failover channel '%s' "
			    "addresses %s, '%s' addresses %s", name,
			    chan_addr_name(to->ch.addr), sl->ch.name,
			    chan_addr_name(sl->ch.addr));
		else
			sl->failover = to;
	}
	return diags->nerrors > n0 ? ENG_EINVAL : 0;
}

/* The engine's rate_limit / rate_count keys of a channel. */
static int
init_rate(struct slot *sl, const struct cfg_node *node,
    struct diag_list *diags)
{
	static const char *const counts[] = { "messages", "segments", NULL };
	int c = 0;

	if (cfg_get_rate(node, "rate_limit", 1000000, &sl->rate_n,
	    &sl->rate_window, diags) != 0 ||
	    cfg_get_enum(node, "rate_count", counts, &c, diags) != 0)
		return ENG_EINVAL;
	sl->rate_segments = c == 1;
	sl->tokens = (double)sl->rate_n;
	if (sl->rate_segments && sl->rate_n == 0)
		return cfg_error(diags, cfg_node_get(node, "rate_count"),
		    "rate_count needs a rate_limit");
	return 0;
}

/* Refill the bucket; 0 when a message may go now, else the ms until
 * one token is there. */
static int64_t
rate_wait(struct slot *sl, int64_t now)
{
	if (sl->rate_n == 0)
		return 0;
	if (sl->refilled_at == 0)
		sl->refilled_at = now;
	if (now > sl->refilled_at) {
		sl->tokens += (double)(now - sl->refilled_at) *
		    (double)sl->rate_n / (double)sl->rate_window;
		if (sl->tokens > (double)sl->rate_n)
			sl->tokens = (double)sl->rate_n;
		sl->refilled_at = now;
	}
	if (sl->tokens >= 1.0)
		return 0;
	return 1 + (int64_t)((1.0 - sl->tokens) * (double)sl->rate_window /
	    (double)sl->rate_n);
}

static int
init_slots(struct dispatch *d, const struct cfg *cfg, struct diag_list *diags)
{
	size_t i;
	int rv = 0;

	if ((d->slots = calloc(cfg->nchannels + 1, sizeof(*d->slots))) == NULL)
		return ENG_ENOMEM;
	for (i = 0; i < cfg->nchannels; i++) {
		const struct cfg_channel *cc = &cfg->channels[i];
		const struct channel_ops *ops = chan_find(cc->type);
		struct slot *sl = &d->slots[d->nslots];

		if (ops == NULL) {
			(void)cfg_error(diags, cfg_node_get(cc->node, "type"),
			    "unknown channel type '%s'", cc->type);
			rv = ENG_EINVAL;
			continue;
		}
		sl->env.data_dir = d->data_dir;
		sl->env.clock = d->clock;
		sl->env.report = on_report;
		sl->env.engine = d;
		sl->ch.name = cc->name;
		sl->ch.ops = ops;
		sl->ch.env = &sl->env;
		sl->ch.addr = ops->addr;
		if ((sl->ch.priv = calloc(1, ops->priv_size ? ops->priv_size :
		    1)) == NULL)
			return ENG_ENOMEM;
		d->nslots++;
		/* Each channel's callbacks come to <callback_base>/{name}
		 * (the HTTP server's /cb/{name}/{rest}). */
		if ((sl->cb_base = xasprintf("%s/%s", d->callback_base,
		    cc->name)) == NULL)
			return ENG_ENOMEM;
		sl->env.callback_base = sl->cb_base;
		if (ops->init(&sl->ch, cc->node, diags) != 0 ||
		    init_rate(sl, cc->node, diags) != 0) {
			rv = ENG_EINVAL;
			continue;
		}
	}
	if (rv == 0)
		rv = link_failover(d, cfg, diags);
	return rv;
}

int
dispatch_check_channels(const struct cfg *cfg, const char *data_dir,
    struct diag_list *diags)
{
	struct dispatch d;
	struct render *r = NULL;
	int rv, trv;

	memset(&d, 0, sizeof(d));
	d.data_dir = (char *)data_dir;
	d.callback_base = (char *)"http://127.0.0.1/cb";
	d.clock = &eng_clock_system;
	rv = init_slots(&d, cfg, diags);
	shutdown_slots(&d);
	free(d.slots);
	free(d.rep);
	free(d.rep2);
	/* The templates are the dispatcher's config too. */
	if ((trv = render_load(cfg, &r, diags)) != 0 && rv == 0)
		rv = trv;
	render_free(r);
	return rv;
}

/* ------------------------------------------------------------------ */
/* texts                                                               */
/* ------------------------------------------------------------------ */

static int withdrawn_state(const char *state);

static void
text_release(struct alert_text *t)
{
	render_alert_free(t->ra);
	free(t->event);
	memset(t, 0, sizeof(*t));
}

struct load_ctx {
	struct dispatch *d;
	struct alert_text *t;
};

/* The stored CAP is parsed once per alert, by the render module. */
static int
load_cb(void *arg, const struct store_alert *a)
{
	struct load_ctx *l = arg;
	struct alert_text *t = l->t;
	struct eng_errbuf eb;

	t->id = a->id;
	(void)snprintf(t->state, sizeof(t->state), "%s", a->state);
	t->exercise = strcmp(a->status, "Exercise") == 0;
	t->cancel = strcmp(a->msg_type, "Cancel") == 0;
	t->colour = a->colour;
	t->expires_ms = a->expires_ms;
	t->event = strdup(a->event ? a->event : "");
	eng_errbuf_init(&eb);
	if (t->event == NULL ||
	    render_alert_new(l->d->render, a, &t->ra, &eb) != 0)
		return ENG_ENOMEM;
	return 0;
}

/* The command of a device: the alert's facts and its rendered text. */
static char *
device_payload(const struct alert_text *t, const char *text)
{
	json_t *j;
	char *p;

	j = json_pack("{s:I,s:s,s:s,s:b,s:b,s:s,s:i}", "alert",
	    (json_int_t)t->id, "colour",
	    cap_color_name((enum cap_color)t->colour), "event", t->event,
	    "exercise", t->exercise, "cancel", t->cancel, "text", text,
	    "repeat", t->cancel ? 1 : 3);
	p = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	return p;
}

static struct alert_text *
alert_text(struct dispatch *d, long long id, struct eng_errbuf *eb)
{
	struct load_ctx l;
	size_t i;

	for (i = 0; i < d->ncache; i++)
		if (d->cache[i].id == id)
			return &d->cache[i];
	if (d->ncache == ALERT_CACHE) {
		text_release(&d->cache[0]);
		memmove(&d->cache[0], &d->cache[1],
		    (ALERT_CACHE - 1) * sizeof(d->cache[0]));
		memset(&d->cache[ALERT_CACHE - 1], 0, sizeof(d->cache[0]));
		d->ncache--;
	}
	l.d = d;
	l.t = &d->cache[d->ncache];
	if (store_alert_get(d->s, id, load_cb, &l, eb) != 0) {
		text_release(l.t);
		return NULL;
	}
	/* Withdrawn while out of the cache: a channel may hold some of its
	 * messages (the next round's withdraw() takes them back). */
	if (withdrawn_state(l.t->state))
		d->withdraw_due = 1;
	d->ncache++;
	return l.t;
}

/* The cached alerts' states read again (a Cancel or an Update may have
 * come since): their parsed texts stay, which is most of the cost. */
static void
cache_refresh(struct dispatch *d)
{
	struct eng_errbuf eb;
	size_t i = 0;

	while (i < d->ncache) {
		int was = withdrawn_state(d->cache[i].state);

		eng_errbuf_init(&eb);
		if (store_alert_state(d->s, d->cache[i].id, d->cache[i].state,
		    sizeof(d->cache[i].state), &eb) == 0) {
			if (!was && withdrawn_state(d->cache[i].state))
				d->withdraw_due = 1;
			i++;
			continue;
		}
		/* Unreadable: dropped, loaded again when needed. */
		text_release(&d->cache[i]);
		memmove(&d->cache[i], &d->cache[i + 1],
		    (d->ncache - i - 1) * sizeof(d->cache[0]));
		d->ncache--;
		memset(&d->cache[d->ncache], 0, sizeof(d->cache[0]));
	}
}

static void
cache_clear(struct dispatch *d)
{
	size_t i;

	for (i = 0; i < d->ncache; i++)
		text_release(&d->cache[i]);
	d->ncache = 0;
}

/* ------------------------------------------------------------------ */
/* the loop                                                            */
/* ------------------------------------------------------------------ */

/* plan.h's plan_addr_fn: a voice channel (render_kind's rule: a driver
 * named "...voice...") carries PLAN_ADDR_VOICE. */
static int
addr_of(void *arg, const char *channel)
{
	struct slot *sl = find_slot(arg, channel);

	if (sl == NULL)
		return 0;
	return (int)sl->ch.addr | (sl->ch.ops != NULL &&
	    sl->ch.ops->name != NULL && strstr(sl->ch.ops->name, "voice") !=
	    NULL ? PLAN_ADDR_VOICE : 0);
}

int
dispatch_channel_addr(struct dispatch *d, const char *channel)
{
	return d != NULL ? addr_of(d, channel) & ~PLAN_ADDR_VOICE : 0;
}

static void
stat_add(struct dispatch *d, unsigned long long *f, unsigned long long n)
{
	pthread_mutex_lock(&d->st_lock);
	*f += n;
	pthread_mutex_unlock(&d->st_lock);
}

struct work {
	int64_t id;
	long long alert_id;
	char kind[16];		/* alert update cancel ask remind unanswered */
	char channel[64];
	char address[256];
	char recipient[200];
	char responder[200];
	char region[REGION_CODE_SIZE];
	char role[32];		/* responder's role or device kind */
	int priority, attempts;
	int64_t deadline;
};

struct claim_ctx {
	struct work *w;
	size_t n;
};

/* s (NULL: "") into dst[size], cut to fit: a claim's strings, once a
 * row (snprintf's formatting was a tenth of a claim's time). */
static void
put_str(char *dst, size_t size, const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;

	if (n >= size)
		n = size - 1;
	memcpy(dst, s != NULL ? s : "", n);
	dst[n] = '\0';
}

static int
claim_cb(void *arg, const struct store_delivery *x)
{
	struct claim_ctx *c = arg;
	struct work *w = &c->w[c->n++];

	w->id = x->id;
	w->alert_id = x->alert_id;
	put_str(w->kind, sizeof(w->kind), x->kind);
	put_str(w->channel, sizeof(w->channel), x->channel);
	put_str(w->address, sizeof(w->address), x->address);
	put_str(w->recipient, sizeof(w->recipient), x->recipient);
	put_str(w->responder, sizeof(w->responder), x->responder_id);
	put_str(w->region, sizeof(w->region), x->region);
	put_str(w->role, sizeof(w->role), x->role);
	w->priority = x->priority;
	w->attempts = x->attempts;
	w->deadline = x->deadline_ms;
	return 0;
}

static void
set(struct dispatch *d, int64_t id, const char *state, int attempt,
    int64_t next, const char *gw, const char *err, int seg, int64_t now)
{
	struct eng_errbuf eb;

	eng_errbuf_init(&eb);
	if (store_delivery_set(d->s, id, state, attempt, next, gw, err, seg,
	    now, &eb) != 0)
		log_error("delivery.update_failed", "delivery=%lld state=%s "
		    "error=\"%s\"", (long long)id, state, eb.msg);
}

static void fail_over(struct dispatch *d, struct store *s,
    const struct slot *sl, int64_t id, int64_t now);
static void kick(struct dispatch *d);

/* A one-off delivery's own text (the question back to an ambiguous
 * answer: engine/answer.h), instead of a rendered one. */
static int
given_text(struct dispatch *d, int64_t id, struct render_msg *rm)
{
	struct eng_errbuf eb;

	memset(rm, 0, sizeof(*rm));
	eng_errbuf_init(&eb);
	if (store_delivery_text(d->s, id, &rm->text, &eb) != 0 ||
	    (rm->subject = strdup("")) == NULL)
		return ENG_ENOMEM;
	return 0;
}

/*
 * The answer variables of a delivery (ack.code when its routing rule
 * wants an answer: engine/answer.h), set or cleared on the alert's
 * render variables.  A store failure only leaves the code out.
 */
static int
ack_vars(struct dispatch *d, struct alert_text *t, const struct work *x)
{
	struct answer_for f;
	struct eng_errbuf eb;
	char code[STORE_ACK_CODE_SIZE], tok[ANSLINK_TOKEN_MAX], link[600];
	int64_t until;

	memset(&f, 0, sizeof(f));
	f.alert_id = x->alert_id;
	f.colour = t->colour;
	f.kind = x->kind;
	f.channel = x->channel;
	f.responder_id = x->responder;
	f.region = x->region;
	f.role = x->role;
	eng_errbuf_init(&eb);
	if (answer_code_for(d->s, &d->cfg->routing, &f, code, &eb) != 0) {
		log_error("answer.code_failed", "delivery=%lld error=\"%s\"",
		    (long long)x->id, eb.msg);
		code[0] = '\0';
	}
	link[0] = '\0';
	/* The link lasts as long as the alert and a day more (late answers
	 * are still worth having), a week without an expiry. */
	until = (t->expires_ms > d->round_now ? t->expires_ms :
	    d->round_now + LINK_NO_EXPIRY_MS) + LINK_GRACE_MS;
	if (code[0] != '\0' && d->answer_key != NULL &&
	    anslink_make(d->answer_key, strlen(d->answer_key), x->responder,
	    x->alert_id, until, tok, sizeof(tok)) == 0)
		(void)snprintf(link, sizeof(link), "%s/a/%s", d->link_base,
		    tok);
	return render_set_ack(t->ra, code[0] ? code : NULL,
	    link[0] ? link : NULL, strcmp(x->kind, "remind") == 0);
}

static int
withdrawn_state(const char *state)
{
	return strcmp(state, "cancelled") == 0 ||
	    strcmp(state, "superseded") == 0;
}

/* chanrun_withdraw's want: a message of an alert withdrawn since. */
static int
withdraw_want(void *arg, int64_t id)
{
	struct dispatch *d = arg;
	struct inflight *f = fl_get(d, id);
	size_t i;

	if (f == NULL || f->notice)
		return 0;
	for (i = 0; i < d->ncache; i++)
		if (d->cache[i].id == f->alert_id)
			return withdrawn_state(d->cache[i].state);
	return 0;
}

/* chanrun_withdraw's gone: the message never reached the channel. */
static void
withdraw_gone(void *arg, int64_t id)
{
	struct dispatch *d = arg;
	struct inflight *f = fl_get(d, id);

	set(d, id, "cancelled", 0, 0, NULL, "withdrawn before the channel "
	    "took it", 0, d->round_now);
	d->st.cancelled++;	/* under st_lock: see withdraw() */
	if (f != NULL)
		fl_del(d, f);
}

/*
 * The messages of alerts withdrawn since they were handed to a channel
 * and that its driver has not taken yet come back, cancelled: a Cancel
 * stops what is still waiting in gong, not only what is in the store.
 * Inside the round's transaction; only in a round after a cached alert
 * became withdrawn (cache_refresh, alert_text).
 */
static void
withdraw(struct dispatch *d)
{
	size_t i;

	/* Once for each alert that became withdrawn: after that, none of
	 * its messages is offered again (claim_and_send cancels them). */
	if (!d->withdraw_due)
		return;
	d->withdraw_due = 0;
	pthread_mutex_lock(&d->st_lock);
	for (i = 0; i < d->nslots; i++)
		if (d->slots[i].run != NULL)
			(void)chanrun_withdraw(d->slots[i].run, withdraw_want,
			    withdraw_gone, d);
	pthread_mutex_unlock(&d->st_lock);
}

/*
 * How many rows to claim: the claim limit (below), and no more than the
 * channels have room for, if the next claim splits between them as the
 * last one did (a channel that had a share k of it and room r takes
 * r / k): a row claimed and handed back costs two writes for nothing.
 * When they have no room at all, nothing (0), except one claim of
 * CLAIM_MIN every CLAIM_HOLD_MS: a full channel (a gateway that hangs)
 * must not hold up the others' deliveries.
 */
static long long
claim_size(struct dispatch *d, int64_t now)
{
	long long n = d->claim_limit, fit;
	size_t i;

	for (i = 0; d->last_claimed > 0 && i < d->nslots; i++) {
		struct slot *sl = &d->slots[i];

		if (sl->claimed == 0 || sl->run == NULL)
			continue;
		fit = (long long)chanrun_room(sl->run) * d->last_claimed /
		    sl->claimed;
		if (fit < n)
			n = fit;
	}
	if (n > 0)
		return n < CLAIM_MIN ? CLAIM_MIN : n;
	if (now < d->probe_at)
		return 0;
	d->probe_at = now + CLAIM_HOLD_MS;
	return CLAIM_MIN;
}

static size_t
claim_and_send(struct dispatch *d, int64_t now)
{
	struct work *w = d->work;
	struct claim_ctx c = { w, 0 };
	struct eng_errbuf eb;
	struct alert_text *t;
	struct render_msg rm;
	struct render_to to;
	struct chan_msg m;
	struct slot *sl;
	char *payload;
	size_t i, refused = 0, nback = 0;
	long long limit;
	int64_t wait;
	int rv;

	if (now < d->claim_hold_until)
		return 0;
	eng_errbuf_init(&eb);
	if (d->claim_limit == 0)
		d->claim_limit = CLAIM_BATCH;
	/*
	 * The last claim took every due row: until new work is signalled
	 * (a plan's chunk, an answer, an escalation: kick) or a while has
	 * passed, another would find nothing and still cost a write
	 * transaction, once a report (every message of a fan-out whose
	 * rows are all in a channel's hands).  A clock set back does not
	 * hold the claims up longer.
	 */
	pthread_mutex_lock(&d->lock);
	if (d->work_kicked || !d->drained || now >= d->drained_until ||
	    d->drained_until - now > DRAIN_RECHECK_MS) {
		d->work_kicked = 0;
		d->drained = 0;
	}
	pthread_mutex_unlock(&d->lock);
	if (d->drained)
		return 0;
	if ((limit = claim_size(d, now)) == 0)
		return 0;
	if (store_deliveries_claim(d->s, now, d->lease_ms, limit,
	    claim_cb, &c, &eb) != 0) {
		log_error("dispatch.claim_failed", "error=\"%s\"", eb.msg);
		return 0;
	}
	if ((long long)c.n < limit) {
		d->drained = 1;
		d->drained_until = now + DRAIN_RECHECK_MS;
	}
	if (c.n == 0)
		return 0;
	for (i = 0; i < d->nslots; i++) {
		d->slots[i].full = 0;
		d->slots[i].claimed = 0;
	}
	d->last_claimed = (long long)c.n;
	stat_add(d, &d->st.claimed, c.n);
	d->round_now = now;
	cache_refresh(d);	/* states may have changed since */
	(void)store_begin(d->s, NULL);
	withdraw(d);
	for (i = 0; i < c.n; i++) {
		struct work *x = &w[i];

		/* Its lease ran out while a channel of this process still
		 * holds it (a slow gateway's queue): the claim renewed the
		 * lease; sending it again would only send it twice. */
		if (fl_get(d, x->id) != NULL) {
			refused++;
			continue;
		}
		if ((t = alert_text(d, x->alert_id, &eb)) == NULL) {
			set(d, x->id, "retry", 0, now + 5000, NULL,
			    "alert unreadable", 0, now);
			continue;
		}
		if (strcmp(x->kind, "cancel") != 0 &&
		    (strcmp(t->state, "cancelled") == 0 ||
		    strcmp(t->state, "superseded") == 0)) {
			set(d, x->id, "cancelled", 0, 0, NULL, t->state, 0,
			    now);
			stat_add(d, &d->st.cancelled, 1);
			continue;
		}
		if (x->deadline > 0 && now > x->deadline &&
		    strcmp(x->kind, "cancel") != 0) {
			set(d, x->id, "dead", 0, 0, NULL, "the alert expired "
			    "before it could be delivered", 0, now);
			stat_add(d, &d->st.dead, 1);
			continue;
		}
		if ((sl = find_slot(d, x->channel)) != NULL)
			sl->claimed++;
		if (sl == NULL) {
			set(d, x->id, "failed", 0, 0, NULL, "channel not "
			    "configured", 0, now);
			stat_add(d, &d->st.failed, 1);
			continue;
		}
		if (sl->open_until > now) {
			/* The channel is down: the partner takes over. */
			set(d, x->id, "failed", 0, 0, NULL, "channel down "
			    "(circuit open): failed over", 0, now);
			stat_add(d, &d->st.failed, 1);
			fail_over(d, d->s, sl, x->id, now);
			continue;
		}
		if (sl->full) {
			/* It refused one already: offered again once it has
			 * room (the claim waits for its reports), no attempt
			 * counted, nothing rendered. */
			d->back[nback++] = x->id;
			refused++;
			continue;
		}
		if ((wait = rate_wait(sl, now)) > 0) {
			/* Over the channel's rate: offered again when the
			 * bucket has a token, no attempt counted. */
			set(d, x->id, "pending", 0, now + wait, NULL, NULL, 0,
			    now);
			if (d->wake_at == 0 || now + wait < d->wake_at)
				d->wake_at = now + wait;
			d->drained = 0;
			sl->full = 1;
			refused++;
			continue;
		}
		to.kind = render_kind(&sl->ch, x->recipient, x->role);
		to.region = x->region[0] ? x->region : NULL;
		to.responder_id = x->responder[0] ? x->responder : NULL;
		payload = NULL;
		if ((strcmp(x->kind, "ask") == 0 ||
		    strcmp(x->kind, "unanswered") == 0 ?
		    given_text(d, x->id, &rm) :
		    (ack_vars(d, t, x) != 0 ? ENG_ENOMEM :
		    render_delivery(d->render, d->s, t->ra, &to, &rm))) != 0 ||
		    (strncmp(x->recipient, "d:", 2) == 0 &&
		    (payload = device_payload(t, rm.text)) == NULL)) {
			render_msg_release(&rm);
			set(d, x->id, "retry", 0, now + 5000, NULL,
			    "out of memory", 0, now);
			continue;
		}
		memset(&m, 0, sizeof(m));
		m.delivery_id = x->id;
		m.to = x->address;
		m.subject = rm.subject;
		m.text = rm.text;
		m.payload = payload;
		m.priority = x->priority;
		m.deadline_ms = x->deadline;
		rv = sl->run != NULL ? chanrun_offer(sl->run, &m) : ENG_ETEMP;
		if (rv == 0 && sl->rate_n > 0)
			sl->tokens -= sl->rate_segments && rm.segments > 1 ?
			    (double)rm.segments : 1.0;
		render_msg_release(&rm);
		free(payload);
		if (rv == 0) {
			if (fl_put(d, x->id, x->alert_id,
			    strcmp(x->kind, "cancel") == 0, x->attempts,
			    x->deadline) != 0)
				log_error("dispatch.nomem", "delivery=%lld",
				    (long long)x->id);
		} else {
			/* The channel is full: offered again once it has
			 * room, no attempt counted. */
			d->back[nback++] = x->id;
			sl->full = 1;
			refused++;
		}
	}
	if (nback > 0)
		d->drained = 0;
	/* Left sending, they would wait for their lease: late, not lost. */
	if (store_deliveries_unclaim(d->s, d->back, nback, now, now, &eb) != 0)
		log_error("delivery.update_failed", "deliveries=%zu "
		    "state=pending error=\"%s\"", nback, eb.msg);
	if (store_commit(d->s, &eb) != 0)
		log_error("dispatch.commit_failed", "error=\"%s\"", eb.msg);
	/* The round reaches each channel together (and only once its
	 * states are committed). */
	for (i = 0; i < d->nslots; i++)
		if (d->slots[i].run != NULL)
			chanrun_publish(d->slots[i].run);
	/* A full channel: claim again once reports came back (or after
	 * CLAIM_HOLD_MS), not at once, or the loop would spin claiming
	 * deliveries only to hand them back. */
	/* And claim what the channels took last time, a quarter more
	 * again while nothing is refused: every row claimed and handed
	 * back costs two writes for nothing. */
	if (refused > 0) {
		d->claim_hold_until = now + CLAIM_HOLD_MS;
		d->claim_limit = (long long)(c.n - refused);
	} else {
		d->claim_limit += d->claim_limit / 4;
	}
	if (d->claim_limit < CLAIM_MIN)
		d->claim_limit = CLAIM_MIN;
	if (d->claim_limit > CLAIM_BATCH)
		d->claim_limit = CLAIM_BATCH;
	return c.n - refused;
}

/*
 * Reached after its alert was withdrawn (it was in a channel's hands when
 * the Cancel or Update was planned): the recipient gets that notice too.
 */
static void
follow_up(struct dispatch *d, int64_t id, int64_t now)
{
	struct eng_errbuf eb;
	int added = 0;

	eng_errbuf_init(&eb);
	if (store_delivery_follow_up(d->s, id, now, &added, &eb) != 0)
		log_error("delivery.follow_up_failed", "delivery=%lld "
		    "error=\"%s\"", (long long)id, eb.msg);
	else if (added) {
		log_info("delivery.follow_up", "delivery=%lld", (long long)id);
		kick(d);	/* new work, as any writer's */
	}
}

/* Alerts seen by one apply_reports round, and whether each has been
 * withdrawn (cancelled or superseded) by now. */
#define WITHDRAWN_SEEN	16

struct withdrawn {
	long long id[WITHDRAWN_SEEN];
	int yes[WITHDRAWN_SEEN];
	size_t n;
};

/*
 * Whether a delivery that reached its recipient needs the follow-up
 * check: only when its alert has been withdrawn meanwhile (read inside
 * the round's transaction, so a Cancel committed later finds the
 * delivery already reached and covers it itself).  Unknown: check.
 */
static int
needs_follow_up(struct dispatch *d, struct withdrawn *w,
    const struct inflight *f)
{
	struct eng_errbuf eb;
	char state[16];
	size_t i;
	int yes;

	if (f == NULL)
		return 1;
	for (i = 0; i < w->n; i++)
		if (w->id[i] == f->alert_id)
			return w->yes[i];
	eng_errbuf_init(&eb);
	if (store_alert_state(d->s, f->alert_id, state, sizeof(state),
	    &eb) != 0)
		return 1;
	yes = strcmp(state, "cancelled") == 0 ||
	    strcmp(state, "superseded") == 0;
	if (w->n < WITHDRAWN_SEEN) {
		w->id[w->n] = f->alert_id;
		w->yes[w->n++] = yes;
	}
	return yes;
}

static int64_t
backoff_ms(int attempts)
{
	int64_t b = BACKOFF_BASE_MS;
	int i;

	for (i = 1; i < attempts && b < BACKOFF_MAX_MS; i++)
		b *= 2;
	if (b > BACKOFF_MAX_MS)
		b = BACKOFF_MAX_MS;
	/* ±25 % jitter, so that a recovering gateway is not hit by every
	 * retry at the same instant. */
	return b * (750 + (int64_t)randombytes_uniform(501)) / 1000;
}

struct failover_ctx {
	struct store *s;
	const struct slot *from, *to;
	int64_t now;
	int added;
	struct eng_errbuf *eb;
};

static int
failover_cb(void *arg, const struct store_delivery *x)
{
	struct failover_ctx *c = arg;
	struct store_delivery n;

	if (strcmp(x->state, "failed") != 0 ||
	    strcmp(x->channel, c->from->ch.name) != 0)
		return 0;	/* delivered meanwhile; not this channel's */
	n = *x;
	n.id = 0;
	n.channel = c->to->ch.name;
	n.state = NULL;
	n.attempts = 0;
	n.next_at_ms = 0;
	n.gateway_id = NULL;
	n.last_error = NULL;
	return store_delivery_add(c->s, &n, c->now, &c->added, c->eb);
}

/*
 * Delivery id failed for good on sl: if sl has a failover partner, the
 * same recipient gets a new delivery there (once: the outbox keeps one
 * per alert, channel and recipient).  Called inside a transaction.
 */
static void
fail_over(struct dispatch *d, struct store *s, const struct slot *sl,
    int64_t id, int64_t now)
{
	struct failover_ctx c;
	struct eng_errbuf eb;

	if (sl == NULL || sl->failover == NULL)
		return;
	eng_errbuf_init(&eb);
	c.s = s;
	c.from = sl;
	c.to = sl->failover;
	c.now = now;
	c.added = 0;
	c.eb = &eb;
	if (store_delivery_get(s, id, failover_cb, &c, &eb) != 0) {
		log_error("delivery.failover_failed", "delivery=%lld from=%s "
		    "to=%s error=\"%s\"", (long long)id, sl->ch.name,
		    sl->failover->ch.name, eb.msg);
		return;
	}
	if (c.added) {
		stat_add(d, &d->st.failover, 1);
		log_info("delivery.failover", "delivery=%lld from=%s to=%s",
		    (long long)id, sl->ch.name, sl->failover->ch.name);
		kick(d);	/* new work, as any writer's */
	}
}

static void
metric_add(struct dispatch *d, struct slot *sl, unsigned long long *f)
{
	if (sl == NULL)
		return;
	pthread_mutex_lock(&d->st_lock);
	(*f)++;
	pthread_mutex_unlock(&d->st_lock);
}

/* Upper bounds (ms) of the hand-over-to-sent latency buckets. */
static const int64_t lat_bounds[CHAN_LAT_BUCKETS] = {
	50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000
};

static void
metric_sent(struct dispatch *d, struct slot *sl, int64_t ms)
{
	int i;

	if (sl == NULL)
		return;
	pthread_mutex_lock(&d->st_lock);
	sl->m.sent++;
	if (ms >= 0) {
		for (i = 0; i < CHAN_LAT_BUCKETS && ms > lat_bounds[i]; i++)
			;
		sl->m.latency[i]++;
		sl->m.latency_sum_ms += (unsigned long long)ms;
		sl->m.latency_n++;
	}
	pthread_mutex_unlock(&d->st_lock);
}

static void
breaker_ok(struct dispatch *d, struct slot *sl, int64_t now)
{
	(void)now;
	if (sl == NULL)
		return;
	if (sl->open_until != 0)
		log_info("channel.breaker_closed", "channel=%s", sl->ch.name);
	sl->fails_in_row = 0;
	sl->open_until = 0;
	pthread_mutex_lock(&d->st_lock);
	sl->m.breaker_open = 0;
	pthread_mutex_unlock(&d->st_lock);
}

static void
breaker_fail(struct dispatch *d, struct slot *sl, int64_t now,
    const char *error)
{
	char q[200];

	if (sl == NULL || sl->failover == NULL)
		return;
	if (++sl->fails_in_row < BREAKER_FAILS || sl->open_until > now)
		return;
	sl->open_until = now + BREAKER_OPEN_MS;
	log_warn("channel.breaker_open", "channel=%s failures=%d "
	    "for_ms=%d last_error=%s", sl->ch.name, sl->fails_in_row,
	    BREAKER_OPEN_MS, log_q(error, q, sizeof(q)));
	pthread_mutex_lock(&d->st_lock);
	sl->m.breaker_open = 1;
	sl->m.breaker_trips++;
	pthread_mutex_unlock(&d->st_lock);
}

/*
 * The plain "sent" reports of a round first, one statement for each run
 * of them with the same gateway id and parts (a batch request's numbers
 * share both): done[i] says which were recorded; the others (a receipt
 * overtook one, a Cancel ...) go through the general update.
 */
static void
sent_runs(struct dispatch *d, struct report *rep, size_t n, int64_t now,
    unsigned char *done, long long *ids)
{
	struct eng_errbuf eb;
	size_t i, j, k, m;

	for (i = 0; i < n; i = j) {
		if (rep[i].result != CHAN_R_SENT) {
			j = i + 1;
			continue;
		}
		for (j = i, m = 0; j < n && rep[j].result == CHAN_R_SENT &&
		    rep[j].segments == rep[i].segments &&
		    (rep[j].gateway_id == NULL) == (rep[i].gateway_id == NULL) &&
		    (rep[j].gateway_id == NULL ||
		    strcmp(rep[j].gateway_id, rep[i].gateway_id) == 0); j++)
			ids[m++] = rep[j].id;
		eng_errbuf_init(&eb);
		if (store_deliveries_sent(d->s, ids, m, rep[i].gateway_id,
		    rep[i].segments, now, done + i, &eb) != 0) {
			log_error("delivery.update_failed", "deliveries=%zu "
			    "state=sent error=\"%s\"", m, eb.msg);
			for (k = i; k < j; k++)
				done[k] = 0;
		}
	}
}

static size_t
apply_reports(struct dispatch *d, int64_t now)
{
	struct eng_errbuf eb;
	struct withdrawn wd;
	struct report *rep;
	size_t i, n, a;

	/* Take what the channels reported, leaving them the spare. */
	pthread_mutex_lock(&d->lock);
	rep = d->rep;
	n = d->nrep;
	a = d->arep;
	if (n > 0) {
		d->rep = d->rep2;
		d->arep = d->arep2;
		d->nrep = 0;
		d->rep2 = rep;
		d->arep2 = a;
	}
	pthread_mutex_unlock(&d->lock);
	if (n == 0)
		return 0;
	eng_errbuf_init(&eb);
	wd.n = 0;
	if (n > d->adone) {
		free(d->done);
		free(d->done_ids);
		d->adone = 0;
		d->done = malloc(n);
		d->done_ids = calloc(n, sizeof(*d->done_ids));
		if (d->done != NULL && d->done_ids != NULL)
			d->adone = n;
	}
	(void)store_begin(d->s, NULL);
	if (d->adone >= n) {
		memset(d->done, 0, n);
		sent_runs(d, rep, n, now, d->done, d->done_ids);
	}
	for (i = 0; i < n; i++) {
		struct report *r = &rep[i];
		struct inflight *f = fl_get(d, r->id);
		int attempts = f ? f->attempts + 1 : 1;
		int64_t deadline = f ? f->deadline : 0, next;
		char why[256];

		switch (r->result) {
		case CHAN_R_SENT:
			if (d->adone < n || !d->done[i])
				set(d, r->id, "sent", 1, 0, r->gateway_id,
				    NULL, r->segments, now);
			stat_add(d, &d->st.sent, 1);
			breaker_ok(d, r->sl, now);
			metric_sent(d, r->sl, f != NULL ? now - f->handed_at :
			    -1);
			if (needs_follow_up(d, &wd, f))
				follow_up(d, r->id, now);
			if (f != NULL)
				fl_del(d, f);
			break;
		case CHAN_R_DELIVERED:
			set(d, r->id, "delivered", 0, 0, r->gateway_id, NULL,
			    0, now);
			stat_add(d, &d->st.delivered, 1);
			metric_add(d, r->sl, &r->sl->m.delivered);
			if (needs_follow_up(d, &wd, f))
				follow_up(d, r->id, now);
			if (f != NULL)
				fl_del(d, f);
			break;
		case CHAN_R_RETRY:
			breaker_fail(d, r->sl, now, r->error);
			metric_add(d, r->sl, &r->sl->m.retried);
			next = now + backoff_ms(attempts);
			if (r->retry_after > 0 && now + r->retry_after > next)
				next = now + r->retry_after;
			if (attempts >= d->max_attempts) {
				(void)snprintf(why, sizeof(why), "gave up after "
				    "%d attempts: %s", attempts,
				    r->error ? r->error : "");
				set(d, r->id, "failed", 1, 0, NULL, why, 0,
				    now);
				stat_add(d, &d->st.failed, 1);
				fail_over(d, d->s, r->sl, r->id, now);
			} else if (deadline > 0 && next > deadline) {
				set(d, r->id, "dead", 1, 0, NULL, "the alert "
				    "expires before the next attempt", 0, now);
				stat_add(d, &d->st.dead, 1);
			} else {
				set(d, r->id, "retry", 1, next, NULL, r->error,
				    0, now);
				stat_add(d, &d->st.retried, 1);
			}
			if (f != NULL)
				fl_del(d, f);
			break;
		case CHAN_R_FAILED:
			set(d, r->id, "failed", 1, 0, NULL, r->error, 0, now);
			stat_add(d, &d->st.failed, 1);
			metric_add(d, r->sl, &r->sl->m.failed);
			fail_over(d, d->s, r->sl, r->id, now);
			if (f != NULL)
				fl_del(d, f);
			break;
		}
		free(r->gateway_id);
		free(r->error);
	}
	if (store_commit(d->s, &eb) != 0)
		log_error("dispatch.commit_failed", "error=\"%s\"", eb.msg);
	return n;
}

/* The channels' health and offline devices, as their threads last read
 * them, into the metrics. */
static void
copy_status(struct dispatch *d)
{
	static char off[CHAN_METRICS_OFFLINE][CHAN_OFFLINE_ADDR];
	struct chan_health h;
	size_t i, k, n;

	for (i = 0; i < d->nslots; i++) {
		struct slot *sl = &d->slots[i];

		if (sl->run == NULL)
			continue;
		chanrun_status(sl->run, &h, off, CHAN_METRICS_OFFLINE, &n);
		pthread_mutex_lock(&d->st_lock);
		sl->m.health.up = h.up;
		sl->m.health.queued = h.queued;
		sl->m.health.in_flight = h.in_flight;
		memcpy(sl->m.health.detail, h.detail, sizeof(h.detail));
		sl->m.noffline = sl->ch.ops->offline != NULL ? n : 0;
		for (k = 0; k < sl->m.noffline; k++)
			memcpy(sl->m.offline[k], off[k], sizeof(off[k]));
		pthread_mutex_unlock(&d->st_lock);
	}
}

/* worker.h's round: claim and send, apply what the channels reported;
 * then sleep until a report or new work comes (a kick), a rate-limited
 * channel has a token again, or a while. */
static int64_t
round_fn(void *arg)
{
	struct dispatch *d = arg;
	int64_t now, wish, w;
	size_t work;

	now = eng_clock_now_ms(d->clock);
	work = claim_and_send(d, now);
	if (now >= d->status_at) {
		copy_status(d);
		d->status_at = now + STATUS_EVERY_MS;
	}
	if ((w = (int64_t)apply_reports(d, eng_clock_now_ms(d->clock))) > 0) {
		d->claim_hold_until = 0;  /* room in the channels */
		work += (size_t)w;
	}
	if (work > 0)
		return 0;
	wish = IDLE_WAIT_MS;
	if (d->wake_at > 0) {
		w = d->wake_at - now;
		d->wake_at = 0;
		if (w < wish)
			wish = w < 1 ? 1 : w;
	}
	if (d->claim_hold_until > now && d->claim_hold_until - now < wish)
		wish = d->claim_hold_until - now;
	return wish;
}

static void
kick(struct dispatch *d)
{
	pthread_mutex_lock(&d->lock);
	d->work_kicked = 1;
	worker_kick(d->w);
	pthread_mutex_unlock(&d->lock);
}

/* planrun.h's on_written: deliveries were committed, claim them. */
static void
plan_written(void *arg, int alerts)
{
	struct dispatch *d = arg;

	if (alerts > 0)
		stat_add(d, &d->st.planned, (unsigned long long)alerts);
	kick(d);
}

int
dispatch_start(const struct dispatch_config *c, struct dispatch **out,
    struct diag_list *diags, struct eng_errbuf *eb)
{
	struct dispatch *d;
	size_t i;
	int rv;

	*out = NULL;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return eng_error(eb, ENG_ENOMEM, "out of memory");
	pthread_mutex_init(&d->lock, NULL);
	pthread_mutex_init(&d->st_lock, NULL);
	d->cfg = c->cfg;
	d->clock = c->clock ? c->clock : &eng_clock_system;
	d->lease_ms = c->lease_ms > 0 ? c->lease_ms : 60000;
	d->max_attempts = c->max_attempts > 0 ? c->max_attempts : 10;
	d->db_path = strdup(c->db_path);
	d->data_dir = strdup(c->data_dir);
	d->callback_base = strdup(c->callback_base ? c->callback_base : "");
	if (c->answer_key != NULL && c->link_base != NULL) {
		d->answer_key = strdup(c->answer_key);
		d->link_base = strdup(c->link_base);
	}
	if (d->db_path == NULL || d->data_dir == NULL ||
	    d->callback_base == NULL || (c->answer_key != NULL &&
	    c->link_base != NULL && (d->answer_key == NULL ||
	    d->link_base == NULL))) {
		rv = eng_error(eb, ENG_ENOMEM, "out of memory");
		goto fail;
	}
	/* Its commits are replayable (store.h): a power cut at worst
	 * sends again what was sent; a warning is never lost. */
	if ((d->work = calloc(CLAIM_BATCH, sizeof(*d->work))) == NULL ||
	    (d->back = calloc(CLAIM_BATCH, sizeof(*d->back))) == NULL) {
		rv = eng_error(eb, ENG_ENOMEM, "out of memory");
		goto fail;
	}
	if ((rv = store_open(d->db_path, STORE_REPLAYABLE, &d->s, eb)) != 0)
		goto fail;
	store_set_clock(d->s, d->clock);
	if ((rv = render_load(c->cfg, &d->render, diags)) != 0) {
		rv = eng_error(eb, rv, "the message templates were refused");
		goto fail;
	}
	if ((rv = init_slots(d, c->cfg, diags)) != 0) {
		rv = eng_error(eb, rv, "a channel's configuration was "
		    "refused");
		goto fail;
	}
	for (i = 0; i < d->nslots; i++)
		if ((rv = chanrun_start(&d->slots[i].ch, INBOX_MAX,
		    &d->slots[i].run)) != 0) {
			rv = eng_error(eb, rv, "cannot start channel %s",
			    d->slots[i].ch.name);
			goto fail;
		}
	if (worker_start("gong-dispatch", round_fn, d, &d->w) != 0) {
		rv = eng_error(eb, ENG_EIO, "cannot start the dispatcher");
		goto fail;
	}
	{
		struct planrun_config pc;

		memset(&pc, 0, sizeof(pc));
		pc.db_path = d->db_path;
		pc.routing = &c->cfg->routing;
		pc.addr_of = addr_of;
		pc.addr_arg = d;
		pc.on_written = plan_written;
		pc.written_arg = d;
		pc.clock = d->clock;
		if ((rv = planrun_start(&pc, &d->planner, eb)) != 0)
			goto fail;
	}
	log_info("dispatch.start", "channels=%zu templates=%zu", d->nslots,
	    render_count(d->render));
	*out = d;
	return 0;
fail:
	dispatch_stop(d);
	return rv;
}

void
dispatch_kick(struct dispatch *d)
{
	if (d == NULL)
		return;
	planrun_kick(d->planner);
	kick(d);
}

void
dispatch_stop(struct dispatch *d)
{
	struct worker *w;

	if (d == NULL)
		return;
	/* The planner first: it kicks the dispatcher. */
	planrun_stop(d->planner);
	d->planner = NULL;
	pthread_mutex_lock(&d->lock);
	w = d->w;
	d->w = NULL;
	pthread_mutex_unlock(&d->lock);
	worker_stop(w);
	/* What the channels still hold comes back as retry. */
	shutdown_slots(d);
	if (d->s != NULL)
		(void)apply_reports(d, eng_clock_now_ms(d->clock));
	cache_clear(d);
	render_free(d->render);
	free(d->slots);
	free(d->rep);
	free(d->rep2);
	free(d->done);
	free(d->done_ids);
	fl_clear(d);
	free(d->work);
	free(d->back);
	store_close(d->s);
	free(d->db_path);
	free(d->data_dir);
	free(d->callback_base);
	if (d->answer_key != NULL)
		sodium_memzero(d->answer_key, strlen(d->answer_key));
	free(d->answer_key);
	free(d->link_base);
	pthread_mutex_destroy(&d->lock);
	pthread_mutex_destroy(&d->st_lock);
	free(d);
}

struct inbound_ctx {
	struct dispatch *d;
	struct store *s;
	const struct slot *sl;
	int64_t now;
};

/* The delivery an app button answers (copied out of the store's row). */
struct app_target {
	long long alert_id;
	char responder[64];
	char address[128];
	char state[16];
	int64_t expires;
};

static int
app_delivery_cb(void *arg, const struct store_delivery *d)
{
	struct app_target *t = arg;

	t->alert_id = d->alert_id;
	(void)snprintf(t->responder, sizeof(t->responder), "%s",
	    d->responder_id ? d->responder_id : "");
	(void)snprintf(t->address, sizeof(t->address), "%s",
	    d->address ? d->address : "");
	return 0;
}

static int
app_alert_cb(void *arg, const struct store_alert *a)
{
	struct app_target *t = arg;

	(void)snprintf(t->state, sizeof(t->state), "%s", a->state);
	t->expires = a->expires_ms;
	return 0;
}

/*
 * A messaging app's button (Telegram's 收到) names the delivery it
 * answers: the answer is that delivery's person and alert, path "app" —
 * provided the press came from the chat the message went to (a button's
 * data is not proof enough on its own).
 */
static int
app_answer(struct inbound_ctx *x, const struct chan_event *ev)
{
	struct app_target t;
	struct store_answer a;
	struct eng_errbuf eb;
	int rv, added = 0;

	memset(&t, 0, sizeof(t));
	eng_errbuf_init(&eb);
	rv = store_delivery_get(x->s, ev->delivery_id, app_delivery_cb, &t,
	    &eb);
	if (rv == ENG_ENOENT || (rv == 0 && t.responder[0] == '\0')) {
		log_warn("answer.app", "delivery=%lld outcome=unknown_delivery",
		    (long long)ev->delivery_id);
		return 0;
	}
	if (rv != 0)
		return rv;
	if (ev->from == NULL || strcmp(ev->from, t.address) != 0) {
		log_warn("answer.app", "delivery=%lld from=%s outcome=wrong_chat",
		    (long long)ev->delivery_id, ev->from ? ev->from : "?");
		return 0;
	}
	if ((rv = store_alert_get(x->s, t.alert_id, app_alert_cb, &t,
	    &eb)) != 0)
		return rv;
	memset(&a, 0, sizeof(a));
	a.alert_id = t.alert_id;
	a.responder_id = t.responder;
	/* A key pressed during a voice call, or a messaging app's button. */
	a.path = strstr(x->sl->ch.ops->name, "voice") != NULL ? "voice" :
	    "app";
	a.received_ms = x->now;
	a.raw = ev->text ? ev->text : "";
	a.late = !(strcmp(t.state, "active") == 0 &&
	    (t.expires == 0 || t.expires > x->now));
	if ((rv = store_answer_add(x->s, &a, &added, &eb)) != 0)
		return rv;
	log_info("answer.app", "delivery=%lld responder=%s alert=%lld "
	    "outcome=%s late=%d", (long long)ev->delivery_id, t.responder,
	    t.alert_id, added ? "recorded" : "duplicate", a.late);
	return 0;
}

static int
emit(void *arg, const struct chan_event *ev)
{
	struct inbound_ctx *x = arg;
	struct eng_errbuf eb;
	struct chan_event named;
	long long id;

	eng_errbuf_init(&eb);
	/* Only the gateway's id (a driver that lost its own map, say after
	 * a restart): the store knows which delivery it was. */
	if (ev->delivery_id == 0 && ev->gateway_id != NULL &&
	    ev->gateway_id[0] != '\0') {
		int rv = store_delivery_by_gateway(x->s, x->sl->ch.name,
		    ev->gateway_id, &id, &eb);

		if (rv == ENG_ENOENT) {
			log_warn("callback.unknown", "channel=%s gateway_id=%s",
			    x->sl->ch.name, ev->gateway_id);
			return 0;
		}
		if (rv != 0)
			return rv;
		named = *ev;
		named.delivery_id = id;
		ev = &named;
	}
	if (ev->kind == CHAN_EV_RECEIPT && ev->delivery_id > 0) {
		const char *st = ev->result == CHAN_R_DELIVERED ? "delivered" :
		    "failed";

		int rv;

		stat_add(x->d, ev->result == CHAN_R_DELIVERED ?
		    &x->d->st.delivered : &x->d->st.failed, 1);
		if ((rv = store_delivery_set(x->s, ev->delivery_id, st, 0, 0,
		    ev->gateway_id, ev->error, 0, x->now, &eb)) != 0 ||
		    ev->result == CHAN_R_DELIVERED)
			return rv;
		fail_over(x->d, x->s, x->sl, ev->delivery_id, x->now);
		dispatch_kick(x->d);
		return 0;
	}
	if (ev->kind == CHAN_EV_REPLY && ev->delivery_id > 0) {
		char q[300];

		stat_add(x->d, &x->d->st.replies, 1);
		log_info("reply.received", "from=%s delivery=%lld text=%s",
		    ev->from ? ev->from : "?", (long long)ev->delivery_id,
		    log_q(ev->text, q, sizeof(q)));
		return app_answer(x, ev);
	}
	if (ev->kind == CHAN_EV_REPLY) {
		struct answer_result res;
		char q[300];
		int rv;

		stat_add(x->d, &x->d->st.replies, 1);
		log_info("reply.received", "from=%s text=%s",
		    ev->from ? ev->from : "?",
		    log_q(ev->text, q, sizeof(q)));
		if ((rv = answer_sms(x->s, x->sl->ch.name, ev->from, ev->text,
		    x->now, &res, &eb)) != 0) {
			log_error("answer.failed", "from=%s error=\"%s\"",
			    ev->from ? ev->from : "?", eb.msg);
			return rv;
		}
		log_info("answer.sms", "from=%s outcome=%s responder=%s "
		    "alert=%lld late=%d", ev->from ? ev->from : "?",
		    answer_outcome_name(res.outcome), res.responder_id,
		    res.alert_id, res.late);
		if (res.outcome == ANSWER_ASKED)
			dispatch_kick(x->d);
	}
	return 0;
}

int
dispatch_inbound(struct dispatch *d, struct store *s, const char *name,
    const struct chan_http_req *req, struct chan_http_resp *resp)
{
	struct inbound_ctx x;
	struct slot *sl = find_slot(d, name);

	if (sl == NULL || sl->ch.ops->inbound == NULL || sl->ch.priv == NULL)
		return ENG_ENOENT;
	x.d = d;
	x.s = s;
	x.sl = sl;
	x.now = eng_clock_now_ms(d->clock);
	return sl->ch.ops->inbound(&sl->ch, req, emit, &x, resp);
}

void
dispatch_get_stats(struct dispatch *d, struct dispatch_stats *st)
{
	pthread_mutex_lock(&d->st_lock);
	*st = d->st;
	pthread_mutex_unlock(&d->st_lock);
}

/* ------------------------------------------------------------------ */
/* dry run (POST /api/v1/plan), from an HTTP thread                    */
/* ------------------------------------------------------------------ */

void
dispatch_samples_free(struct dispatch_sample *v, size_t n)
{
	size_t i;

	for (i = 0; v != NULL && i < n; i++) {
		free(v[i].text);
		free(v[i].subject);
		free(v[i].tpl);
	}
	free(v);
}

int
dispatch_dry_run(struct dispatch *d, struct store *s,
    const struct store_alert *a, const struct plan_request *rq,
    struct plan_summary *sum, struct dispatch_sample **samples,
    size_t *nsamples, struct eng_errbuf *eb)
{
	struct dispatch_sample *out = NULL;
	struct render_alert *ra = NULL;
	struct plan_visitor v;
	struct plan_stats st;
	struct render_msg rm;
	struct render_to to;
	const struct slot *sl;
	int seen[TPL_NKINDS], rv;
	size_t i, n = 0;
	enum tpl_kind k;

	*samples = NULL;
	*nsamples = 0;
	memset(seen, 0, sizeof(seen));
	/* Channels, routing and templates are not changed after start:
	 * reading them from this thread is safe. */
	plan_summary_visitor(sum, &v);
	if ((rv = plan_preview(s, &d->cfg->routing, addr_of, d, rq, &v, &st,
	    eb)) != 0)
		return rv;
	sum->st = st;
	if (sum->nsamples == 0)
		return 0;
	if ((out = calloc(TPL_NKINDS, sizeof(*out))) == NULL ||
	    (rv = render_alert_new(d->render, a, &ra, eb)) != 0) {
		free(out);
		return rv != 0 ? rv : eng_error(eb, ENG_ENOMEM,
		    "out of memory");
	}
	for (i = 0; i < sum->nsamples; i++) {
		const struct plan_sample *x = &sum->samples[i];

		if ((sl = find_slot(d, x->channel)) == NULL)
			continue;
		k = render_kind(&sl->ch, x->recipient, x->role);
		if ((unsigned)k >= TPL_NKINDS || seen[k])
			continue;
		seen[k] = 1;
		to.kind = k;
		to.region = x->region;
		to.responder_id = x->responder_id;
		if (render_delivery(d->render, s, ra, &to, &rm) != 0) {
			rv = eng_error(eb, ENG_ENOMEM, "out of memory");
			break;
		}
		out[n].kind = tpl_kind_name(k);
		out[n].row = x;
		out[n].text = rm.text;
		out[n].subject = rm.subject;
		rm.text = rm.subject = NULL;
		out[n].tpl = rm.tpl != NULL ? strdup(rm.tpl) : NULL;
		out[n].segments = rm.segments;
		out[n].fits = rm.fits;
		out[n].fallback = rm.fallback;
		render_msg_release(&rm);
		n++;
	}
	render_alert_free(ra);
	if (rv != 0) {
		dispatch_samples_free(out, n);
		return rv;
	}
	*samples = out;
	*nsamples = n;
	return 0;
}

int
dispatch_channel_metrics(struct dispatch *d, size_t i, const char **name,
    const char **type, struct chan_metrics *m)
{
	if (d == NULL || i >= d->nslots)
		return ENG_ENOENT;
	*name = d->slots[i].ch.name;
	*type = d->slots[i].ch.ops->name;
	pthread_mutex_lock(&d->st_lock);
	*m = d->slots[i].m;
	pthread_mutex_unlock(&d->st_lock);
	return 0;
}

const int64_t *
dispatch_latency_bounds(void)
{
	return lat_bounds;
}
