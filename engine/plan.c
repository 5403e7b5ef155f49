/*
 * engine/plan.c - from an alert to its deliveries.
 */
#include "engine/plan.h"
#include "channels/channel.h"
#include "config/cfg.h"
#include "engine/clock.h"
#include "engine/log.h"
#include "engine/roster.h"
#include "engine/store.h"
#include "engine/strbuf.h"
#include "engine/worker.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * A set of strings (open addressing, FNV-1a), for the preview's "each
 * (channel, recipient) once".  Keys are copied.
 */
struct keyset {
	char **v;
	size_t n, cap;
};

static uint64_t
fnv1a(const char *a, const char *b)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *a != '\0'; a++)
		h = (h ^ (unsigned char)*a) * 1099511628211ULL;
	h = (h ^ 0xff) * 1099511628211ULL;
	for (; *b != '\0'; b++)
		h = (h ^ (unsigned char)*b) * 1099511628211ULL;
	return h;
}

static void
keyset_release(struct keyset *k)
{
	size_t i;

	for (i = 0; i < k->cap; i++)
		free(k->v[i]);
	free(k->v);
	memset(k, 0, sizeof(*k));
}

/* The key is a, a 0xff byte, b.  1 if added, 0 if present, or
 * ENG_ENOMEM. */
static int
keyset_add(struct keyset *k, const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	uint64_t h;
	char *key;

	if ((k->n + 1) * 4 > k->cap * 3) {	/* keep it under 3/4 full */
		size_t nc = k->cap ? k->cap * 2 : 1024;
		char **nv = calloc(nc, sizeof(*nv));

		if (nv == NULL)
			return ENG_ENOMEM;
		for (i = 0; i < k->cap; i++) {
			const char *x = k->v[i], *sep;

			if (x == NULL)
				continue;
			/* rehash: the parts are split at the 0xff byte */
			sep = strchr(x, '\xff');
			h = 1469598103934665603ULL;
			for (; x < sep; x++)
				h = (h ^ (unsigned char)*x) * 1099511628211ULL;
			h = (h ^ 0xff) * 1099511628211ULL;
			for (x = sep + 1; *x != '\0'; x++)
				h = (h ^ (unsigned char)*x) * 1099511628211ULL;
			for (j = h & (nc - 1); nv[j] != NULL; j = (j + 1) &
			    (nc - 1))
				;
			nv[j] = k->v[i];
		}
		free(k->v);
		k->v = nv;
		k->cap = nc;
	}
	h = fnv1a(a, b);
	for (j = h & (k->cap - 1); k->v[j] != NULL; j = (j + 1) &
	    (k->cap - 1)) {
		const char *x = k->v[j];

		if (strncmp(x, a, la) == 0 && x[la] == '\xff' &&
		    strcmp(x + la + 1, b) == 0)
			return 0;
	}
	if ((key = malloc(la + lb + 2)) == NULL)
		return ENG_ENOMEM;
	memcpy(key, a, la);
	key[la] = '\xff';
	memcpy(key + la + 1, b, lb + 1);
	k->v[j] = key;
	k->n++;
	return 1;
}

/*
 * The rows of the chunk being planned, written when it is whole
 * (write_chunk): the roster is read with no transaction open, and the
 * write lock, which the dispatcher, the escalation thread and the HTTP
 * threads also need, is held only while the rows are written (the
 * reading had been about two fifths of the time it held it).  Their
 * texts are copied into text: what the readers hand the callbacks lasts
 * only for the callback.  off: each text's offset, or STRBUF_NONE for NULL
 * (kind is the plan's own).
 */
enum { T_CHANNEL, T_RECIPIENT, T_RESPONDER, T_DEVICE, T_REGION, T_ADDRESS,
	T_ROLE, T_N };

struct pending {
	struct store_delivery *d;
	size_t (*off)[T_N];
	size_t n, a;
	struct strbuf text;
};

static void
pending_release(struct pending *w)
{
	free(w->d);
	free(w->off);
	strbuf_release(&w->text);
}

/*
 * The chunk writer: a large plan's full chunks are written by a thread
 * of their own, on a connection of their own (store_open_like), while
 * the walk reads the roster on.  Reading and writing are each about half
 * of a large plan's time; on two cores they now overlap.  One chunk at a
 * time: the walk hands the next one over only once the one before is
 * committed, so chunks are committed in the walk's order (people who act
 * first first) and on_chunk still follows a commit.  A plan that fits
 * one chunk is written by the caller's connection alone, as is every
 * plan of a store in memory (which a second connection would not see).
 */
struct chunk_writer {
	struct worker *w;
	struct store *s;	/* its connection */
	pthread_mutex_t lock;
	pthread_cond_t done;
	struct pending rows;	/* the chunk handed over (swapped in) */
	int busy;		/* rows handed over, not yet written */
	int handed;		/* some chunk was handed over */
	int rv;			/* 0, or the first failure */
	long long added;	/* new rows not yet counted by the walk */
	int64_t write_us;	/* its transactions' time, not yet counted */
	long long alert_id;
	int64_t now;
	struct eng_errbuf eb;
};

struct plan {
	size_t uncommitted;	/* deliveries since the last commit */
	struct pending rows;
	struct chunk_writer *cw;	/* NULL until a first chunk is full */
	int cw_tried;			/* cw_start was called */
	struct store *s;
	const struct cfg_routing *r;
	plan_addr_fn addr_of;
	void *addr_arg;
	plan_chunk_fn on_chunk;
	void *chunk_arg;
	/* > 0: inside a walk whose statement stays open (the levels
	 * above): no chunk is written there */
	int no_commit;
	int64_t now;
	int dry_run;
	struct plan_stats *st;
	struct eng_errbuf *eb;
	/* the alert */
	long long alert_id, chain_id;
	const char *kind;	/* alert, update, cancel */
	int colour;
	int exercise;
	int64_t deadline;
	/* ancestors seen, to inform each once */
	char (*seen)[REGION_CODE_SIZE];
	size_t nseen, aseen;
	/* the target being walked (callbacks) */
	const char *target;
	/* the walk's pass: the people of first_roles, or the rest */
	enum store_roles_sel pass;
	/* preview (plan_preview): rows go to the visitor, each (channel,
	 * recipient) once, as the outbox's unique key would keep them */
	const struct plan_visitor *v;
	struct keyset seen_rows;
	int last_added;		/* preview: add() visited a new row */
};

/* A rule's list: absent means every value. */
static int
in_strv(char **v, const char *s)
{
	return v == NULL || cfg_strv_has(v, s);
}

const char *
plan_address_for(const struct store_person *p, int addr)
{
	switch (addr & ~PLAN_ADDR_VOICE) {
	case CHAN_ADDR_PHONE:
		return p->phone;
	case CHAN_ADDR_EMAIL:
		return p->email;
	case CHAN_ADDR_WECOM:
		return p->wecom;
	case CHAN_ADDR_DINGTALK:
		return p->dingtalk;
	case CHAN_ADDR_TELEGRAM:
		return p->telegram;
	case CHAN_ADDR_WECHAT:
		return p->wechat;
	default:
		return NULL;
	}
}

/* The roles of the people who must act first: written and sent before
 * the rest of an alert's people. */
static const char *const first_roles[] = {
	"responsible", "duty_officer", "warner", NULL
};

/* Priority: red before orange …, and people who must act first. */
static int
priority_of(int colour, const char *role)
{
	int p = colour * 2;
	size_t i;

	for (i = 0; role != NULL && first_roles[i] != NULL; i++)
		if (strcmp(role, first_roles[i]) == 0) {
			p++;
			break;
		}
	return p > 9 ? 9 : p;
}

/* Write w's rows on s (in the caller's transaction), counting the new
 * ones in *added; w is empty after. */
static int
write_rows(struct store *s, struct pending *w, long long alert_id,
    int64_t now, long long *added, struct eng_errbuf *eb)
{
	size_t i;
	int rv;

	if (w->n == 0)
		return 0;
	if (w->text.oom) {
		rv = eng_error(eb, ENG_ENOMEM, "alert %lld: out of memory",
		    alert_id);
		goto out;
	}
	for (i = 0; i < w->n; i++) {
		struct store_delivery *d = &w->d[i];

		d->channel = strbuf_at(&w->text, w->off[i][T_CHANNEL]);
		d->recipient = strbuf_at(&w->text, w->off[i][T_RECIPIENT]);
		d->responder_id = strbuf_at(&w->text, w->off[i][T_RESPONDER]);
		d->device_id = strbuf_at(&w->text, w->off[i][T_DEVICE]);
		d->region = strbuf_at(&w->text, w->off[i][T_REGION]);
		d->address = strbuf_at(&w->text, w->off[i][T_ADDRESS]);
		d->role = strbuf_at(&w->text, w->off[i][T_ROLE]);
	}
	rv = store_deliveries_add(s, w->d, w->n, now, added, eb);
out:
	w->n = 0;
	w->text.len = 0;
	return rv;
}

/* Write the waiting rows (in the caller's transaction). */
static int
flush_rows(struct plan *pl)
{
	long long added = 0;
	int rv;

	rv = write_rows(pl->s, &pl->rows, pl->alert_id, pl->now, &added,
	    pl->eb);
	pl->st->deliveries += added;
	return rv;
}

/* Write the waiting rows in a transaction of their own; last: with the
 * alert marked planned. */
static int
write_chunk(struct plan *pl, int last)
{
	int64_t t0 = eng_mono_us();
	int rv;

	if ((rv = store_begin(pl->s, pl->eb)) == 0 &&
	    ((rv = flush_rows(pl)) != 0 || (last &&
	    (rv = store_alert_set_planned(pl->s, pl->alert_id, pl->eb)) != 0) ||
	    (rv = store_commit(pl->s, pl->eb)) != 0))
		store_rollback(pl->s);
	pl->st->write_us += eng_mono_us() - t0;
	return rv;
}

/* worker_round_fn of the chunk writer: writes a chunk handed over. */
static int64_t
cw_round(void *arg)
{
	struct chunk_writer *cw = arg;
	long long added = 0;
	int64_t t0;
	int busy, rv;

	pthread_mutex_lock(&cw->lock);
	busy = cw->busy && cw->rv == 0;
	pthread_mutex_unlock(&cw->lock);
	if (!busy)
		return 1000;	/* until kicked */
	t0 = eng_mono_us();
	if ((rv = store_begin(cw->s, &cw->eb)) == 0 &&
	    ((rv = write_rows(cw->s, &cw->rows, cw->alert_id, cw->now,
	    &added, &cw->eb)) != 0 ||
	    (rv = store_commit(cw->s, &cw->eb)) != 0))
		store_rollback(cw->s);
	cw->rows.n = 0;
	cw->rows.text.len = 0;
	pthread_mutex_lock(&cw->lock);
	cw->busy = 0;
	cw->rv = rv;
	if (rv == 0)
		cw->added += added;
	cw->write_us += eng_mono_us() - t0;
	pthread_cond_signal(&cw->done);
	pthread_mutex_unlock(&cw->lock);
	return 1000;
}

/* Start pl's chunk writer: 0 with pl->cw set, or 0 with none (pl's own
 * connection writes every chunk) when no second connection or thread
 * can be had; ENG_ENOMEM. */
static int
cw_start(struct plan *pl)
{
	struct chunk_writer *cw;
	struct eng_errbuf eb;
	int rv;

	eng_errbuf_init(&eb);
	if ((cw = calloc(1, sizeof(*cw))) == NULL)
		return eng_error(pl->eb, ENG_ENOMEM, "alert %lld: out of "
		    "memory", pl->alert_id);
	if ((rv = store_open_like(pl->s, &cw->s, &eb)) != 0) {
		if (rv != ENG_EINVAL)
			log_warn("plan.writer", "alert=%lld error=\"%s\" "
			    "(the plan is written by one connection)",
			    pl->alert_id, eb.msg);
		free(cw);
		return 0;
	}
	eng_errbuf_init(&cw->eb);
	cw->alert_id = pl->alert_id;
	cw->now = pl->now;
	pthread_mutex_init(&cw->lock, NULL);
	pthread_cond_init(&cw->done, NULL);
	if (worker_start("gong-plan-write", cw_round, cw, &cw->w) != 0) {
		log_warn("plan.writer", "alert=%lld error=\"no thread\" "
		    "(the plan is written by one connection)", pl->alert_id);
		pthread_cond_destroy(&cw->done);
		pthread_mutex_destroy(&cw->lock);
		store_close(cw->s);
		free(cw);
		return 0;
	}
	pl->cw = cw;
	return 0;
}

/* Wait until the chunk writer has written what it was handed; its new
 * rows counted, its result (its failure in pl->eb). */
static int
cw_wait(struct plan *pl)
{
	struct chunk_writer *cw = pl->cw;
	int rv;

	pthread_mutex_lock(&cw->lock);
	while (cw->busy && cw->rv == 0)
		pthread_cond_wait(&cw->done, &cw->lock);
	rv = cw->rv;
	pl->st->deliveries += cw->added;
	pl->st->write_us += cw->write_us;
	cw->added = 0;
	cw->write_us = 0;
	pthread_mutex_unlock(&cw->lock);
	if (rv != 0)
		return eng_error(pl->eb, rv, "%s", cw->eb.msg);
	return 0;
}

/* Stop and free pl's chunk writer (a chunk it is writing is finished
 * first).  No writer: a no-op. */
static void
cw_stop(struct plan *pl)
{
	struct chunk_writer *cw = pl->cw;

	if (cw == NULL)
		return;
	worker_stop(cw->w);
	store_close(cw->s);
	pthread_cond_destroy(&cw->done);
	pthread_mutex_destroy(&cw->lock);
	pending_release(&cw->rows);
	free(cw);
	pl->cw = NULL;
}

/* A chunk was committed: the caller's on_chunk may stop the plan. */
static int
chunk_done(struct plan *pl)
{
	if (pl->on_chunk != NULL && pl->on_chunk(pl->chunk_arg) != 0)
		return eng_error(pl->eb, ENG_ETEMP, "alert %lld: planning "
		    "stopped after %lld deliveries", pl->alert_id,
		    pl->st->deliveries);
	return 0;
}

/* The waiting rows are a whole chunk: hand them to the chunk writer
 * once it has committed the one before, or write them here. */
static int
chunk_full(struct plan *pl)
{
	struct chunk_writer *cw;
	struct pending t;
	int rv;

	if (!pl->cw_tried) {
		pl->cw_tried = 1;	/* once: a failure is not retried */
		if ((rv = cw_start(pl)) != 0)
			return rv;
	}
	if ((cw = pl->cw) == NULL) {
		if ((rv = write_chunk(pl, 0)) != 0)
			return rv;
		return chunk_done(pl);
	}
	if ((rv = cw_wait(pl)) != 0 ||
	    (cw->handed && (rv = chunk_done(pl)) != 0))
		return rv;
	t = cw->rows;		/* empty: written */
	cw->rows = pl->rows;
	pl->rows = t;
	pthread_mutex_lock(&cw->lock);
	cw->busy = 1;
	cw->handed = 1;
	pthread_mutex_unlock(&cw->lock);
	worker_kick(cw->w);
	return 0;
}

static int
add(struct plan *pl, const char *channel, const char *recipient,
    const char *responder, const char *device, const char *region,
    const char *address, const char *role)
{
	struct store_delivery *d;
	struct pending *w;
	struct plan_item it;
	int rv;

	pl->last_added = 0;
	if (pl->v != NULL) {
		if ((rv = keyset_add(&pl->seen_rows, channel, recipient)) <= 0)
			return rv;	/* planned already (or ENOMEM) */
		pl->last_added = 1;
		memset(&it, 0, sizeof(it));
		it.kind = pl->kind;
		it.channel = channel;
		it.recipient = recipient;
		it.responder_id = responder;
		it.device_id = device;
		it.region = region;
		it.address = address;
		it.role = role;
		it.priority = priority_of(pl->colour, role);
		it.deadline_ms = pl->deadline;
		pl->st->deliveries++;
		return pl->v->item != NULL ? pl->v->item(pl->v->arg, &it) : 0;
	}
	if (pl->dry_run) {
		pl->st->deliveries++;
		return 0;
	}
	w = &pl->rows;
	if (w->n == w->a) {
		size_t na = w->a ? w->a * 2 : 256;
		struct store_delivery *nd = realloc(w->d, na * sizeof(*nd));
		size_t (*no)[T_N];

		if (nd == NULL)
			return ENG_ENOMEM;
		w->d = nd;
		if ((no = realloc(w->off, na * sizeof(*no))) == NULL)
			return ENG_ENOMEM;
		w->off = no;
		w->a = na;
	}
	d = &w->d[w->n];
	memset(d, 0, sizeof(*d));
	d->alert_id = pl->alert_id;
	d->kind = pl->kind;
	d->priority = priority_of(pl->colour, role);
	d->deadline_ms = pl->deadline;
	w->off[w->n][T_CHANNEL] = strbuf_keep(&w->text, channel);
	w->off[w->n][T_RECIPIENT] = strbuf_keep(&w->text, recipient);
	w->off[w->n][T_RESPONDER] = strbuf_keep(&w->text, responder);
	w->off[w->n][T_DEVICE] = strbuf_keep(&w->text, device);
	w->off[w->n][T_REGION] = strbuf_keep(&w->text, region);
	w->off[w->n][T_ADDRESS] = strbuf_keep(&w->text, address);
	w->off[w->n][T_ROLE] = strbuf_keep(&w->text, role);
	w->n++;
	/*
	 * A large plan is committed in chunks: the first deliveries can go
	 * out while the rest is written, and a CAP message arriving
	 * meanwhile does not wait for the whole plan.  Planning stays
	 * idempotent (a delivery is unique per alert, channel and
	 * recipient, and the alert is marked planned only at the end), so a
	 * crash between chunks is resumed by planning again.
	 */
	if (++pl->uncommitted >= (pl->cw_tried ? PLAN_CHUNK :
	    PLAN_FIRST_CHUNK) && pl->no_commit == 0) {
		if ((rv = chunk_full(pl)) != 0)
			return rv;
		pl->uncommitted = 0;
	}
	return 0;
}

static int
add_person(struct plan *pl, const struct store_person *p, char **channels)
{
	char rcp[256];
	size_t i;
	int rv;

	(void)snprintf(rcp, sizeof(rcp), "r:%s", p->id);
	for (i = 0; channels != NULL && channels[i] != NULL; i++) {
		const char *a = plan_address_for(p, pl->addr_of(pl->addr_arg,
		    channels[i]));

		if (a == NULL || a[0] == '\0') {
			if (pl->v != NULL) {
				/* "!r:<id>": apart from the rows' keys */
				char miss[260];

				(void)snprintf(miss, sizeof(miss), "!%s", rcp);
				if ((rv = keyset_add(&pl->seen_rows, miss,
				    channels[i])) < 0)
					return rv;
				if (rv == 0)
					continue;	/* counted already */
				if (pl->v->no_address != NULL &&
				    (rv = pl->v->no_address(pl->v->arg,
				    channels[i], p)) != 0)
					return rv;
			}
			pl->st->no_address++;
			continue;
		}
		if ((rv = add(pl, channels[i], rcp, p->id, NULL, p->region, a,
		    p->role)) != 0)
			return rv;
	}
	return 0;
}

/* The preference a channel of address kind addr (plan_addr_fn) answers
 * to. */
static enum roster_pref
channel_pref(int addr)
{
	switch (addr & ~PLAN_ADDR_VOICE) {
	case CHAN_ADDR_PHONE:
		return addr & PLAN_ADDR_VOICE ? ROSTER_PREF_VOICE :
		    ROSTER_PREF_PHONE;
	case CHAN_ADDR_EMAIL:
		return ROSTER_PREF_EMAIL;
	case CHAN_ADDR_WECOM:
		return ROSTER_PREF_WECOM;
	case CHAN_ADDR_DINGTALK:
		return ROSTER_PREF_DINGTALK;
	case CHAN_ADDR_TELEGRAM:
		return ROSTER_PREF_TELEGRAM;
	case CHAN_ADDR_WECHAT:
		return ROSTER_PREF_WECHAT;
	default:
		return ROSTER_PREF_NONE;
	}
}

/* p prefers channel's kind (one of pref[0..np)) and has an address for
 * it. */
static int
preferred(struct plan *pl, const struct store_person *p,
    const char *channel, const enum roster_pref *pref, size_t np)
{
	int addr = pl->addr_of(pl->addr_arg, channel);
	enum roster_pref cp = channel_pref(addr);
	const char *a;
	size_t j;

	if (cp == ROSTER_PREF_NONE)
		return 0;
	for (j = 0; j < np && pref[j] != cp; j++)
		;
	if (j == np)
		return 0;
	a = plan_address_for(p, addr);
	return a != NULL && a[0] != '\0';
}

/*
 * p by rule's channels, as its preferences policy allows (enum
 * cfg_pref_policy): narrow, the channels p prefers and has an address
 * for, in the rule's order; first, the first of those in p's order of
 * preference (the rule's order among channels of one kind).  A person
 * with no such channel (no preferences, none for the rule's channels,
 * or no address for them) gets every channel, as with ignore.  The
 * same for plan_alert and plan_preview (both come here).
 */
static int
add_person_rule(struct plan *pl, const struct store_person *p,
    const struct cfg_route_people *rule)
{
	enum roster_pref pref[ROSTER_PREF_COUNT];
	char *small[16], **sel = small, **ch = rule->channels;
	size_t n = 0, m = 0, i, k, np;
	int rv;

	if (rule->preferences == CFG_PREF_IGNORE || ch == NULL ||
	    p->prefer == NULL || (rv = roster_prefs_parse(p->prefer, pref,
	    NULL, NULL)) <= 0)
		return add_person(pl, p, ch);
	np = (size_t)rv;
	while (ch[n] != NULL)
		n++;
	if (n >= sizeof(small) / sizeof(small[0]) &&
	    (sel = malloc((n + 1) * sizeof(*sel))) == NULL)
		return ENG_ENOMEM;
	if (rule->preferences == CFG_PREF_NARROW) {
		for (i = 0; i < n; i++)
			if (preferred(pl, p, ch[i], pref, np))
				sel[m++] = ch[i];
	} else {
		for (k = 0; k < np && m == 0; k++)
			for (i = 0; i < n && m == 0; i++)
				if (preferred(pl, p, ch[i], &pref[k], 1))
					sel[m++] = ch[i];
	}
	sel[m] = NULL;
	rv = add_person(pl, p, m > 0 ? sel : ch);
	if (sel != small)
		free(sel);
	return rv;
}

static int
person_cb(void *arg, const struct store_person *p)
{
	struct plan *pl = arg;
	size_t i;
	int rv, chosen = 0;

	if (pl->exercise && !p->exercise) {
		pl->st->skipped_exercise++;
		return 0;
	}
	for (i = 0; i < pl->r->npeople; i++) {
		const struct cfg_route_people *rule = &pl->r->people[i];

		if (!(rule->levels & (1u << p->level)) ||
		    !(rule->colours & (1u << pl->colour)) ||
		    !in_strv(rule->roles, p->role))
			continue;
		chosen = 1;
		if ((rv = add_person_rule(pl, p, rule)) != 0)
			return rv;
	}
	if (chosen && pl->v != NULL &&
	    (chosen = keyset_add(&pl->seen_rows, "#", p->id)) < 0)
		return chosen;	/* preview: each person counted once */
	pl->st->people += chosen;
	return 0;
}

static int
ancestor_person_cb(void *arg, const struct store_person *p)
{
	struct plan *pl = arg;

	if (pl->r->ancestor_roles == NULL ||
	    !in_strv(pl->r->ancestor_roles, p->role))
		return 0;
	if (pl->exercise && !p->exercise) {
		pl->st->skipped_exercise++;
		return 0;
	}
	pl->st->ancestors++;
	return add_person(pl, p, pl->r->ancestor_channels);
}

static int
ancestor_cb(void *arg, const struct store_region *g)
{
	struct plan *pl = arg;
	size_t i;

	for (i = 0; i < pl->nseen; i++)
		if (strcmp(pl->seen[i], g->code) == 0)
			return 0;
	if (pl->nseen == pl->aseen) {
		size_t na = pl->aseen ? pl->aseen * 2 : 16;
		char (*nv)[REGION_CODE_SIZE] = realloc(pl->seen,
		    na * sizeof(*nv));

		if (nv == NULL)
			return ENG_ENOMEM;
		pl->seen = nv;
		pl->aseen = na;
	}
	memcpy(pl->seen[pl->nseen++], g->code, REGION_CODE_SIZE);
	return store_people_roles(pl->s, g->code, 0, first_roles, pl->pass,
	    ancestor_person_cb, pl, pl->eb);
}

static int
device_cb(void *arg, const char *id, const char *region, const char *kind,
    const char *channel, const char *address)
{
	struct plan *pl = arg;
	char rcp[256];
	size_t i;
	int rv;

	for (i = 0; i < pl->r->ndevices; i++) {
		const struct cfg_route_devices *rule = &pl->r->devices[i];

		if (!(rule->colours & (1u << pl->colour)) ||
		    !in_strv(rule->kinds, kind))
			continue;
		(void)snprintf(rcp, sizeof(rcp), "d:%s", id);
		if ((rv = add(pl, channel, rcp, NULL, id, region, address,
		    kind)) != 0)
			return rv;
		/* preview: a device of overlapping targets counts once */
		if (pl->v == NULL || pl->last_added)
			pl->st->devices++;
		return 0;
	}
	return 0;
}

static int
reached_cb(void *arg, const struct store_delivery *d)
{
	struct plan *pl = arg;

	return add(pl, d->channel, d->recipient, d->responder_id,
	    d->device_id, d->region, d->address, d->role);
}

struct targets {
	char (*v)[REGION_CODE_SIZE];
	size_t n, a;
};

static int
target_cb(void *arg, const char *code, const char *name, int level,
    const char *how)
{
	struct targets *t = arg;

	(void)name;
	(void)level;
	(void)how;
	if (t->n == t->a) {
		size_t na = t->a ? t->a * 2 : 16;
		char (*nv)[REGION_CODE_SIZE] = realloc(t->v, na * sizeof(*nv));

		if (nv == NULL)
			return ENG_ENOMEM;
		t->v = nv;
		t->a = na;
	}
	(void)snprintf(t->v[t->n++], REGION_CODE_SIZE, "%s", code);
	return 0;
}

struct alert_info {
	long long chain_id;
	char msg_type[16], status[16], state[16];
	int colour;
	int64_t expires;
	int broadcast;
};

static int
alert_cb(void *arg, const struct store_alert *a)
{
	struct alert_info *ai = arg;

	ai->chain_id = a->chain_id;
	(void)snprintf(ai->msg_type, sizeof(ai->msg_type), "%s", a->msg_type);
	(void)snprintf(ai->status, sizeof(ai->status), "%s", a->status);
	(void)snprintf(ai->state, sizeof(ai->state), "%s", a->state);
	ai->colour = a->colour;
	ai->expires = a->expires_ms;
	ai->broadcast = a->broadcast;
	return 0;
}

/* Set the alert's own fields of pl. */
static void
plan_setup(struct plan *pl, int colour, const char *status,
    const char *msg_type, int64_t deadline)
{
	pl->colour = colour >= 1 && colour <= 4 ? colour : 0;
	pl->exercise = status != NULL && strcmp(status, "Exercise") == 0;
	pl->deadline = deadline;
	pl->kind = msg_type == NULL ? "alert" :
	    strcmp(msg_type, "Cancel") == 0 ? "cancel" :
	    strcmp(msg_type, "Update") == 0 ? "update" : "alert";
}

/*
 * Who: whoever the chain reached (update, cancel), then for each target
 * its subtree's people, the officers above it and its devices.  In two
 * passes: first the people who must act first (first_roles) of every
 * target and above, then the rest and the devices, so that a large plan's
 * first chunks, which go out while the rest is written, reach them.  The
 * one walk of plan_alert and plan_preview.
 */
static int
plan_walk(struct plan *pl, const char (*targets)[REGION_CODE_SIZE],
    size_t ntargets, int broadcast, long long chain_id, long long except)
{
	static const enum store_roles_sel passes[] =
	    { STORE_ROLES_IN, STORE_ROLES_OUT };
	size_t i, k;
	int rv;

	if (strcmp(pl->kind, "alert") != 0 && chain_id != 0) {
		/* Whoever the chain reached hears of the update / cancel
		 * (in chunks: the first notices go out while the rest are
		 * written). */
		if ((rv = store_chain_reached(pl->s, chain_id, except,
		    reached_cb, pl, pl->eb)) != 0)
			return rv;
	}
	if (strcmp(pl->kind, "cancel") == 0 || !broadcast)
		return 0;
	for (k = 0; k < sizeof(passes) / sizeof(passes[0]); k++) {
		pl->pass = passes[k];
		pl->nseen = 0;	/* each pass informs each level above */
		for (i = 0; i < ntargets; i++) {
			pl->target = targets[i];
			if ((rv = store_people_roles(pl->s, targets[i], 1,
			    first_roles, pl->pass, person_cb, pl,
			    pl->eb)) != 0)
				return rv;
			pl->no_commit++;
			rv = store_region_parents(pl->s, targets[i],
			    ancestor_cb, pl, pl->eb);
			pl->no_commit--;
			if (rv == 0 && pl->pass == STORE_ROLES_OUT &&
			    (!pl->exercise || pl->r->exercise_devices))
				rv = store_devices_of(pl->s, targets[i],
				    device_cb, pl, pl->eb);
			if (rv != 0)
				return rv;
		}
	}
	return 0;
}

int
plan_alert(struct store *s, const struct cfg_routing *r,
    plan_addr_fn addr_of, void *addr_arg, plan_chunk_fn on_chunk,
    void *chunk_arg, long long alert_id, int64_t now_ms,
    int dry_run, struct plan_stats *st, struct eng_errbuf *eb)
{
	struct alert_info ai;
	struct targets t = { NULL, 0, 0 };
	struct plan pl;
	int rv;

	memset(st, 0, sizeof(*st));
	memset(&ai, 0, sizeof(ai));
	memset(&pl, 0, sizeof(pl));
	if ((rv = store_alert_get(s, alert_id, alert_cb, &ai, eb)) != 0)
		return rv;
	pl.s = s;
	pl.r = r;
	pl.addr_of = addr_of;
	pl.addr_arg = addr_arg;
	pl.on_chunk = on_chunk;
	pl.chunk_arg = chunk_arg;
	pl.now = now_ms;
	pl.dry_run = dry_run;
	pl.st = st;
	pl.eb = eb;
	pl.alert_id = alert_id;
	pl.chain_id = ai.chain_id;
	plan_setup(&pl, ai.colour, ai.status, ai.msg_type, ai.expires);

	if ((rv = store_alert_targets(s, alert_id, target_cb, &t, eb)) != 0)
		goto out;
	if ((rv = plan_walk(&pl, (const char (*)[REGION_CODE_SIZE])t.v, t.n,
	    ai.broadcast, ai.chain_id, alert_id)) != 0)
		goto out;
	if (!dry_run) {
		/* The last chunk after the writer's: the alert is planned
		 * once every delivery is committed. */
		if (pl.cw != NULL && ((rv = cw_wait(&pl)) != 0 ||
		    (rv = chunk_done(&pl)) != 0))
			goto out;
		if ((rv = write_chunk(&pl, 1)) != 0)
			goto out;
		log_info("plan.written", "alert=%lld kind=%s colour=%d "
		    "exercise=%d targets=%zu people=%lld ancestors=%lld "
		    "devices=%lld deliveries=%lld no_address=%lld "
		    "write_ms=%lld", alert_id, pl.kind, pl.colour,
		    pl.exercise, t.n, st->people, st->ancestors, st->devices,
		    st->deliveries, st->no_address,
		    (long long)(st->write_us / 1000));
	}
out:
	cw_stop(&pl);
	free(t.v);
	free(pl.seen);
	pending_release(&pl.rows);
	return rv;
}

int
plan_preview(struct store *s, const struct cfg_routing *r,
    plan_addr_fn addr_of, void *addr_arg, const struct plan_request *rq,
    const struct plan_visitor *v, struct plan_stats *st,
    struct eng_errbuf *eb)
{
	struct plan pl;
	int rv;

	memset(st, 0, sizeof(*st));
	memset(&pl, 0, sizeof(pl));
	pl.s = s;
	pl.r = r;
	pl.addr_of = addr_of;
	pl.addr_arg = addr_arg;
	pl.dry_run = 1;
	pl.st = st;
	pl.eb = eb;
	pl.chain_id = rq->chain_id;
	pl.v = v;
	plan_setup(&pl, rq->colour, rq->status, rq->msg_type,
	    rq->deadline_ms);
	/* Reads only: no transaction (BEGIN IMMEDIATE would take the
	 * write lock from the dispatcher for as long as the walk). */
	rv = plan_walk(&pl, rq->targets, rq->ntargets, rq->broadcast,
	    rq->chain_id, 0);
	keyset_release(&pl.seen_rows);
	free(pl.seen);
	return rv;
}
