/*
 * engine/escalate.c - 叫应 escalation (engine/escalate.h).
 */
#include "engine/escalate.h"
#include "config/cfg.h"
#include "engine/answer.h"
#include "engine/clock.h"
#include "engine/dispatch.h"
#include "engine/log.h"
#include "engine/plan.h"
#include "engine/region.h"
#include "engine/render.h"
#include "engine/roster.h"
#include "engine/store.h"
#include "engine/strbuf.h"
#include "engine/worker.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define BUILD_BATCH	16	/* alerts given their rows per round */
#define FIRE_BATCH	256	/* due rows taken per transaction */
#define POLL_MS		100	/* due steps are looked for this often */
#define LIST_MAX	20	/* names in one "not answered" message */
#define REMIND_PRIORITY	9

struct escalate {
	struct escalate_config c;
	char *db_path;
	struct store *s;
	struct worker *w;	/* the thread */
	pthread_mutex_t lock;
	struct escalate_stats st;	/* under lock */
};

/* What a step needs of its alert (copied out of the store). */
struct alert_info {
	long long id;
	char state[16];
	int64_t expires_ms;
	int colour;
	char what[256];		/* headline, else event */
};

/* One round's context. */
struct run {
	const struct escalate_config *c;
	struct store *s;
	int64_t now;
	/* The thread reads the clock again for every batch (a big step
	 * takes a while); escalate_run() keeps the time it was given. */
	const struct eng_clock *clock;
	struct escalate_stats st;	/* this round's counts */
	struct alert_info alerts[8];	/* small cache, round-robin */
	size_t nalerts;
	int zh;
	int utc_off;
	struct eng_errbuf *eb;
};

/* A due row, copied (the store's strings are borrowed). */
struct due {
	long long alert_id;
	char responder[64];
	char region[REGION_CODE_SIZE];
	char channel[64];
	int64_t base_ms;
	int step;
	int64_t due_ms;
};

/* ------------------------------------------------------------------ */
/* small helpers                                                       */
/* ------------------------------------------------------------------ */

static int
addr_kind(const struct run *r, const char *channel)
{
	if (r->c->addr_of != NULL)
		return r->c->addr_of(r->c->addr_arg, channel);
	return dispatch_channel_addr(r->c->dispatch, channel);
}

static const struct cfg_esc_policy *
policy_for(const struct cfg *cfg, const char *region, int colour)
{
	const struct cfg_esc_policy *p;
	enum region_level lvl = region_code_level(region);
	size_t i;

	if (colour < 0 || colour > 30)
		return NULL;
	for (i = 0; i < cfg->escalation.npolicies; i++) {
		p = &cfg->escalation.policies[i];
		if ((p->levels & (1u << lvl)) && (p->colours & (1u << colour)))
			return p;
	}
	return NULL;
}

/* The due time of step k for a row based at base (0: no step k). */
static int64_t
due_of(const struct cfg_esc_policy *p, int k, int64_t base)
{
	if (p == NULL || k < 0 || (size_t)k >= p->nsteps)
		return 0;
	return base + p->steps[k].after_ms;
}

/* Inside the policy's quiet hours at now, for a blue or yellow alert:
 * when they end (else 0). */
static int64_t
quiet_until(const struct run *r, const struct cfg_esc_policy *p, int colour,
    int64_t now)
{
	int64_t day_min;
	int m, in;

	if (p->quiet_from == p->quiet_to || colour >= CFG_COLOUR_ORANGE)
		return 0;
	day_min = (now / 60000 + r->utc_off) % 1440;
	if (day_min < 0)
		day_min += 1440;
	m = (int)day_min;
	in = p->quiet_from < p->quiet_to ? (m >= p->quiet_from &&
	    m < p->quiet_to) : (m >= p->quiet_from || m < p->quiet_to);
	if (!in)
		return 0;
	return now - now % 60000 +
	    (int64_t)((p->quiet_to - m + 1440) % 1440) * 60000;
}

static int
alert_cb(void *arg, const struct store_alert *a)
{
	struct alert_info *ai = arg;

	ai->id = a->id;
	(void)snprintf(ai->state, sizeof(ai->state), "%s",
	    a->state ? a->state : "");
	ai->expires_ms = a->expires_ms;
	ai->colour = a->colour;
	(void)snprintf(ai->what, sizeof(ai->what), "%s",
	    a->headline != NULL && a->headline[0] ? a->headline :
	    a->event != NULL ? a->event : "");
	return 0;
}

static const struct alert_info *
alert_of(struct run *r, long long id)
{
	struct alert_info *ai;
	size_t i;

	for (i = 0; i < r->nalerts; i++)
		if (r->alerts[i].id == id)
			return &r->alerts[i];
	if (r->nalerts == sizeof(r->alerts) / sizeof(r->alerts[0]))
		r->nalerts = 0;		/* start over: a round is short */
	ai = &r->alerts[r->nalerts];
	memset(ai, 0, sizeof(*ai));
	if (store_alert_get(r->s, id, alert_cb, ai, r->eb) != 0)
		return NULL;
	r->nalerts++;
	return ai;
}

static int
alert_live(const struct alert_info *a, int64_t now)
{
	return strcmp(a->state, "active") == 0 &&
	    (a->expires_ms == 0 || a->expires_ms > now);
}

/* ------------------------------------------------------------------ */
/* rows for the people who must answer                                 */
/* ------------------------------------------------------------------ */

struct ids {
	long long v[BUILD_BATCH];
	size_t n;
};

static int
id_cb(void *arg, long long id)
{
	struct ids *x = arg;

	if (x->n < BUILD_BATCH)
		x->v[x->n++] = id;
	return 0;
}

struct build {
	struct run *r;
	const struct alert_info *a;
	long long n;
};

static int
cand_cb(void *arg, const char *responder_id, const char *region,
    const char *role, const char *channel, int64_t created_ms)
{
	struct build *b = arg;
	struct answer_for f;
	struct store_esc e;

	memset(&f, 0, sizeof(f));
	f.alert_id = b->a->id;
	f.colour = b->a->colour;
	f.kind = "alert";
	f.channel = channel;
	f.responder_id = responder_id;
	f.region = region;
	f.role = role;
	if (!answer_required(&b->r->c->cfg->routing, &f))
		return 0;
	memset(&e, 0, sizeof(e));
	e.alert_id = b->a->id;
	e.responder_id = responder_id;
	e.region = region;
	e.channel = channel;
	e.base_ms = created_ms;
	e.due_ms = due_of(policy_for(b->r->c->cfg, region, b->a->colour), 0,
	    created_ms);
	b->n++;
	return store_esc_open(b->r->s, &e, b->r->now, b->r->eb);
}

/* The rows of one planned alert, in one transaction. */
static int
build_alert(struct run *r, long long id)
{
	struct build b;
	int rv;

	memset(&b, 0, sizeof(b));
	b.r = r;
	if ((rv = store_begin(r->s, r->eb)) != 0)
		return rv;
	/* No rule asks this colour for an answer: no deliveries to read. */
	if ((b.a = alert_of(r, id)) == NULL ||
	    (answer_possible(&r->c->cfg->routing, b.a->colour) &&
	    (rv = store_esc_candidates(r->s, id, cand_cb, &b, r->eb)) != 0) ||
	    (rv = store_esc_built(r->s, id, r->eb)) != 0 ||
	    (rv = store_commit(r->s, r->eb)) != 0) {
		store_rollback(r->s);
		return rv != 0 ? rv : ENG_EIO;
	}
	r->st.built += (unsigned long long)b.n;
	if (b.n > 0)
		log_info("escalation.open", "alert=%lld people=%lld", id, b.n);
	return 0;
}

static int
build_some(struct run *r)
{
	struct ids x;
	size_t i;
	int rv;

	memset(&x, 0, sizeof(x));
	if ((rv = store_esc_unbuilt(r->s, BUILD_BATCH, id_cb, &x, r->eb)) !=
	    0)
		return rv;
	for (i = 0; i < x.n; i++)
		if ((rv = build_alert(r, x.v[i])) != 0)
			return rv;
	return 0;
}

/* ------------------------------------------------------------------ */
/* steps                                                               */
/* ------------------------------------------------------------------ */

/* The alert again to one person (kind "remind"). */
struct remind {
	struct run *r;
	const struct alert_info *a;
	const char *only;		/* this person, or NULL */
	const char *except;		/* not this person, or NULL */
	char **roles;			/* with one of these roles, or NULL */
	const char *channel;
	int step;
	int written;
};

static int
remind_cb(void *arg, const struct store_person *p)
{
	struct remind *m = arg;
	struct store_delivery d;
	const char *addr;
	char rcp[128];
	int added = 0, rv;

	if ((m->only != NULL && strcmp(p->id, m->only) != 0) ||
	    (m->except != NULL && strcmp(p->id, m->except) == 0) ||
	    (m->roles != NULL && !cfg_strv_has(m->roles, p->role)))
		return 0;
	addr = plan_address_for(p, addr_kind(m->r, m->channel));
	if (addr == NULL || addr[0] == '\0') {
		log_warn("escalation.no_address", "alert=%lld responder=%s "
		    "channel=%s step=%d", m->a->id, p->id, m->channel,
		    m->step + 1);
		return 0;
	}
	(void)snprintf(rcp, sizeof(rcp), "e%d:r:%s", m->step + 1, p->id);
	memset(&d, 0, sizeof(d));
	d.alert_id = m->a->id;
	d.kind = "remind";
	d.channel = m->channel;
	d.recipient = rcp;
	d.responder_id = p->id;
	d.region = p->region;
	d.address = addr;
	d.role = p->role;
	d.priority = REMIND_PRIORITY;
	d.deadline_ms = m->a->expires_ms;
	if ((rv = store_delivery_add(m->r->s, &d, m->r->now, &added,
	    m->r->eb)) != 0)
		return rv;
	m->written += added;
	return 0;
}

static int
remind(struct run *r, const struct alert_info *a, const struct due *x,
    const struct cfg_esc_step *step, int *written)
{
	struct remind m;
	int rv;

	memset(&m, 0, sizeof(m));
	m.r = r;
	m.a = a;
	m.step = x->step;
	m.channel = step->channel != NULL ? step->channel : x->channel;
	if (step->action == CFG_ESC_DEPUTY) {
		m.except = x->responder;
		m.roles = step->roles;
	} else {
		m.only = x->responder;
	}
	rv = store_people(r->s, x->region, 0, remind_cb, &m, r->eb);
	*written = m.written;
	if (rv == 0 && m.written == 0 && step->action == CFG_ESC_DEPUTY)
		log_warn("escalation.nobody", "alert=%lld responder=%s step=%d "
		    "action=deputy msg=\"no deputy with an address in region "
		    "%s\"", a->id, x->responder, x->step + 1, x->region);
	return rv;
}

/* The silent people of a region at one step. */
struct silent {
	struct run *r;
	struct strbuf list;
	char (*ids)[64];
	size_t n, cap;
	int nomem;
};

static int
silent_cb(void *arg, const struct store_esc *e)
{
	struct silent *s = arg;
	const char *role;

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		void *v = realloc(s->ids, cap * sizeof(*s->ids));

		if (v == NULL) {
			s->nomem = 1;
			return ENG_ENOMEM;
		}
		s->ids = v;
		s->cap = cap;
	}
	(void)snprintf(s->ids[s->n], sizeof(s->ids[0]), "%s",
	    e->responder_id);
	s->n++;
	if (s->n > LIST_MAX)
		return 0;
	role = e->role;
	if (s->r->zh && roster_role_zh(role) != NULL)
		role = roster_role_zh(role);
	if (s->n > 1)
		strbuf_addstr(&s->list, s->r->zh ? "、" : "; ");
	strbuf_addf(&s->list, s->r->zh ? "%s（%s，%s）" :
	    "%s (%s, %s)", e->name ? e->name : e->responder_id,
	    role ? role : "", e->phone && e->phone[0] ? e->phone : "-");
	return 0;
}

struct officers {
	struct run *r;
	const struct alert_info *a;
	char **roles;
	const char *channel;
	const char *region;	/* the silent people's region */
	const char *text;
	int step;
	int written;
};

static int
officer_cb(void *arg, const struct store_person *p)
{
	struct officers *o = arg;
	struct store_delivery d;
	const char *addr;
	char rcp[160];
	long long id = 0;
	int rv;

	if (!cfg_strv_has(o->roles, p->role))
		return 0;
	addr = plan_address_for(p, addr_kind(o->r, o->channel));
	if (addr == NULL || addr[0] == '\0')
		return 0;
	(void)snprintf(rcp, sizeof(rcp), "e%d:%s:r:%s", o->step + 1,
	    o->region, p->id);
	memset(&d, 0, sizeof(d));
	d.alert_id = o->a->id;
	d.kind = "unanswered";
	d.channel = o->channel;
	d.recipient = rcp;
	d.responder_id = p->id;
	d.region = p->region;
	d.address = addr;
	d.role = p->role;
	d.priority = REMIND_PRIORITY;
	d.deadline_ms = o->a->expires_ms;
	if ((rv = store_delivery_add_text(o->r->s, &d, o->text, o->r->now,
	    &id, o->r->eb)) != 0)
		return rv;
	o->written += id > 0;
	return 0;
}

/*
 * The parent region's officers get the list of the region's people
 * still silent at this step; every one of them moves past the step.
 */
static int
notify_parent(struct run *r, const struct alert_info *a, const struct due *x,
    const struct cfg_esc_policy *pol, const struct cfg_esc_step *step,
    int *written)
{
	struct silent s;
	struct officers o;
	struct store_region g;
	struct strbuf text;
	char parent[REGION_CODE_SIZE];
	size_t i;
	int rv;

	memset(&s, 0, sizeof(s));
	s.r = r;
	memset(&text, 0, sizeof(text));
	memset(&g, 0, sizeof(g));
	*written = 0;
	if ((rv = store_esc_region_open(r->s, x->alert_id, x->region, x->step,
	    silent_cb, &s, r->eb)) != 0)
		goto out;
	if (s.n == 0)
		goto out;
	if (store_region_get(r->s, x->region, &g, r->eb) != 0)
		g.name = NULL;
	if (r->zh)
		strbuf_addf(&text, "【叫应未应答】%s：%s尚有%zu人未应答："
		    "%s%s。请立即电话或上门通知。", a->what,
		    g.name ? g.name : x->region, s.n, s.list.p ? s.list.p :
		    "", s.n > LIST_MAX ? "等" : "");
	else
		strbuf_addf(&text, "[Not answered] %s: %zu people of "
		    "%s have not answered: %s%s. Call or visit them now.",
		    a->what, s.n, g.name ? g.name : x->region,
		    s.list.p ? s.list.p : "", s.n > LIST_MAX ?
		    " and others" : "");
	if (s.nomem || s.list.oom || text.oom || text.p == NULL) {
		rv = ENG_ENOMEM;
		goto out;
	}
	if (region_code_parent(x->region, parent) != 0) {
		log_error("escalation.nobody", "alert=%lld region=%s step=%d "
		    "action=notify_parent msg=\"no region above\"",
		    a->id, x->region, x->step + 1);
	} else {
		memset(&o, 0, sizeof(o));
		o.r = r;
		o.a = a;
		o.roles = step->roles;
		o.channel = step->channel != NULL ? step->channel : x->channel;
		o.region = x->region;
		o.text = text.p;
		o.step = x->step;
		if ((rv = store_people(r->s, parent, 0, officer_cb, &o,
		    r->eb)) != 0)
			goto out;
		*written = o.written;
		if (o.written == 0)
			log_error("escalation.nobody", "alert=%lld region=%s "
			    "step=%d action=notify_parent msg=\"no officer "
			    "with an address for channel %s in %s\"", a->id,
			    x->region, x->step + 1, o.channel, parent);
	}
	for (i = 0; i < s.n && rv == 0; i++)
		rv = store_esc_set(r->s, x->alert_id, s.ids[i], x->step + 1,
		    due_of(pol, x->step + 1, x->base_ms), "open", r->now,
		    r->eb);
	log_info("escalation.step", "alert=%lld region=%s step=%d "
	    "action=notify_parent silent=%zu deliveries=%d", a->id, x->region,
	    x->step + 1, s.n, *written);
out:
	store_region_release(&g);
	strbuf_release(&s.list);
	strbuf_release(&text);
	free(s.ids);
	return rv;
}

struct fresh {
	int step;
	char state[16];
	int found;
};

static int
fresh_cb(void *arg, const struct store_esc *e)
{
	struct fresh *f = arg;

	f->found = 1;
	f->step = e->step;
	(void)snprintf(f->state, sizeof(f->state), "%s", e->state);
	return 0;
}

/* One due row: stop it, hold it, or fire its step. */
static int
fire_one(struct run *r, const struct due *x)
{
	const struct cfg_esc_policy *pol;
	const struct cfg_esc_step *step;
	const struct alert_info *a;
	struct fresh f;
	long long n = 0;
	int64_t until;
	int rv, yes = 0, written = 0;

	/* An earlier row of this round (a region's list) may have moved it
	 * on already. */
	memset(&f, 0, sizeof(f));
	if ((rv = store_esc_get(r->s, x->alert_id, x->responder, fresh_cb, &f,
	    r->eb)) != 0)
		return rv == ENG_ENOENT ? 0 : rv;
	if (f.step != x->step || strcmp(f.state, "open") != 0)
		return 0;
	if ((a = alert_of(r, x->alert_id)) == NULL)
		return ENG_EIO;
	if (!alert_live(a, r->now)) {
		if ((rv = store_esc_close(r->s, a->id, NULL, "stopped", r->now,
		    &n, r->eb)) == 0) {
			r->st.stopped += (unsigned long long)n;
			log_info("escalation.stop", "alert=%lld rows=%lld "
			    "reason=%s", a->id, n, strcmp(a->state, "active") ?
			    a->state : "expired");
		}
		return rv;
	}
	if ((rv = store_esc_answered(r->s, a->id, x->responder, &yes,
	    r->eb)) != 0)
		return rv;
	if (yes) {
		r->st.answered++;
		return store_esc_set(r->s, a->id, x->responder, x->step, 0,
		    "answered", r->now, r->eb);
	}
	pol = policy_for(r->c->cfg, x->region, a->colour);
	if (pol == NULL || (size_t)x->step >= pol->nsteps)
		/* The policy changed under it: nothing left to fire. */
		return store_esc_set(r->s, a->id, x->responder, x->step, 0,
		    "open", r->now, r->eb);
	if (pol->quorum > 0) {
		if ((rv = store_esc_region_answers(r->s, a->id, x->region, &n,
		    r->eb)) != 0)
			return rv;
		if (n >= pol->quorum) {
			if ((rv = store_esc_close(r->s, a->id, x->region,
			    "quorum", r->now, &n, r->eb)) == 0) {
				r->st.quorum += (unsigned long long)n;
				log_info("escalation.quorum", "alert=%lld "
				    "region=%s rows=%lld", a->id, x->region, n);
			}
			return rv;
		}
	}
	if ((until = quiet_until(r, pol, a->colour, r->now)) > 0)
		return store_esc_set(r->s, a->id, x->responder, x->step, until,
		    "open", r->now, r->eb);
	step = &pol->steps[x->step];
	r->st.fired++;
	if (r->now - x->due_ms > r->st.max_lag_ms)
		r->st.max_lag_ms = r->now - x->due_ms;
	r->st.last_lag_ms = r->now - x->due_ms;
	switch (step->action) {
	case CFG_ESC_NOTIFY_PARENT:
		rv = notify_parent(r, a, x, pol, step, &written);
		r->st.deliveries += (unsigned long long)written;
		return rv;
	case CFG_ESC_UNREACHABLE:
		r->st.unreachable++;
		log_info("escalation.step", "alert=%lld responder=%s step=%d "
		    "action=unreachable", a->id, x->responder, x->step + 1);
		return store_esc_set(r->s, a->id, x->responder, x->step + 1, 0,
		    "unreachable", r->now, r->eb);
	default:
		if ((rv = remind(r, a, x, step, &written)) != 0)
			return rv;
		break;
	}
	r->st.deliveries += (unsigned long long)written;
	log_info("escalation.step", "alert=%lld responder=%s step=%d "
	    "action=%s channel=%s deliveries=%d", a->id, x->responder,
	    x->step + 1, cfg_esc_action_name(step->action),
	    step->channel ? step->channel : x->channel, written);
	return store_esc_set(r->s, a->id, x->responder, x->step + 1,
	    due_of(pol, x->step + 1, x->base_ms), "open", r->now, r->eb);
}

struct dues {
	struct due *v;
	size_t n;
};

static int
due_cb(void *arg, const struct store_esc *e)
{
	struct dues *d = arg;
	struct due *x = &d->v[d->n];

	if (d->n == FIRE_BATCH)
		return 0;
	memset(x, 0, sizeof(*x));
	x->alert_id = e->alert_id;
	(void)snprintf(x->responder, sizeof(x->responder), "%s",
	    e->responder_id);
	(void)snprintf(x->region, sizeof(x->region), "%s", e->region);
	(void)snprintf(x->channel, sizeof(x->channel), "%s", e->channel);
	x->base_ms = e->base_ms;
	x->step = e->step;
	x->due_ms = e->due_ms;
	d->n++;
	return 0;
}

/* Fire one batch of due rows in one transaction; *n gets how many. */
static int
fire_batch(struct run *r, size_t *n)
{
	static __thread struct due v[FIRE_BATCH];
	struct dues d = { v, 0 };
	size_t i;
	int rv;

	*n = 0;
	if ((rv = store_esc_due(r->s, r->now, FIRE_BATCH, due_cb, &d,
	    r->eb)) != 0 || d.n == 0)
		return rv;
	if ((rv = store_begin(r->s, r->eb)) != 0)
		return rv;
	r->nalerts = 0;		/* states may have changed */
	for (i = 0; i < d.n; i++)
		if ((rv = fire_one(r, &d.v[i])) != 0)
			break;
	if (rv == 0)
		rv = store_commit(r->s, r->eb);
	if (rv != 0) {
		store_rollback(r->s);
		return rv;
	}
	*n = d.n;
	return 0;
}

static void
run_init(struct run *r, const struct escalate_config *c, struct store *s,
    int64_t now, struct eng_errbuf *eb)
{
	const char *lang = c->cfg->deployment.language;

	memset(r, 0, sizeof(*r));
	r->c = c;
	r->s = s;
	r->now = now;
	r->eb = eb;
	r->zh = lang == NULL || lang[0] == '\0' ||
	    (strncasecmp(lang, "zh", 2) == 0 &&
	    (lang[2] == '\0' || lang[2] == '-'));
	(void)render_zone_offset(c->cfg->deployment.timezone, &r->utc_off);
}

static int
round_run(struct run *r, size_t *fired)
{
	size_t n;
	int rv;

	*fired = 0;
	if ((rv = build_some(r)) != 0)
		return rv;
	do {
		if (r->clock != NULL)
			r->now = eng_clock_now_ms(r->clock);
		if ((rv = fire_batch(r, &n)) != 0)
			return rv;
		*fired += n;
	} while (n == FIRE_BATCH);
	return 0;
}

int
escalate_run(const struct escalate_config *c, struct store *s, int64_t now_ms,
    size_t *fired, struct eng_errbuf *eb)
{
	struct run r;
	size_t n;
	int rv;

	run_init(&r, c, s, now_ms, eb);
	rv = round_run(&r, &n);
	if (fired != NULL)
		*fired = n;
	return rv;
}

/* ------------------------------------------------------------------ */
/* the thread                                                          */
/* ------------------------------------------------------------------ */

static void
stats_add(struct escalate *e, const struct escalate_stats *d)
{
	pthread_mutex_lock(&e->lock);
	e->st.built += d->built;
	e->st.fired += d->fired;
	e->st.deliveries += d->deliveries;
	e->st.answered += d->answered;
	e->st.quorum += d->quorum;
	e->st.stopped += d->stopped;
	e->st.unreachable += d->unreachable;
	if (d->fired > 0)
		e->st.last_lag_ms = d->last_lag_ms;
	if (d->max_lag_ms > e->st.max_lag_ms)
		e->st.max_lag_ms = d->max_lag_ms;
	pthread_mutex_unlock(&e->lock);
}

/* worker.h's round: the steps due now; then sleep POLL_MS (a kick: an
 * answer or a plan came). */
static int64_t
round_fn(void *arg)
{
	struct escalate *e = arg;
	struct eng_errbuf eb;
	struct run r;
	size_t n;
	int64_t wait = POLL_MS;

	eng_errbuf_init(&eb);
	run_init(&r, &e->c, e->s, eng_clock_now_ms(e->c.clock), &eb);
	r.clock = e->c.clock;
	if (round_run(&r, &n) != 0) {
		log_error("escalation.failed", "error=\"%s\"", eb.msg);
		wait = 1000;	/* the store is busy or failing */
	}
	stats_add(e, &r.st);
	if (r.st.deliveries > 0)
		dispatch_kick(e->c.dispatch);
	return wait;
}

int
escalate_start(const struct escalate_config *c, struct escalate **out,
    struct eng_errbuf *eb)
{
	struct escalate *e;
	int rv;

	*out = NULL;
	if ((e = calloc(1, sizeof(*e))) == NULL ||
	    (e->db_path = strdup(c->db_path)) == NULL) {
		free(e);
		return eng_error(eb, ENG_ENOMEM, "out of memory");
	}
	pthread_mutex_init(&e->lock, NULL);
	e->c = *c;
	e->c.db_path = e->db_path;
	if (e->c.clock == NULL)
		e->c.clock = &eng_clock_system;
	if ((rv = store_open(e->db_path, 0, &e->s, eb)) != 0) {
		escalate_stop(e);
		return rv;
	}
	store_set_clock(e->s, e->c.clock);
	if (worker_start("gong-escalate", round_fn, e, &e->w) != 0) {
		escalate_stop(e);
		return eng_error(eb, ENG_EIO, "cannot start the escalation "
		    "thread");
	}
	log_info("escalation.start", "policies=%zu",
	    c->cfg->escalation.npolicies);
	*out = e;
	return 0;
}

void
escalate_kick(struct escalate *e)
{
	if (e != NULL)
		worker_kick(e->w);
}

void
escalate_get_stats(struct escalate *e, struct escalate_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (e == NULL)
		return;
	pthread_mutex_lock(&e->lock);
	*st = e->st;
	pthread_mutex_unlock(&e->lock);
}

void
escalate_stop(struct escalate *e)
{
	if (e == NULL)
		return;
	worker_stop(e->w);
	store_close(e->s);
	pthread_mutex_destroy(&e->lock);
	free(e->db_path);
	free(e);
}
