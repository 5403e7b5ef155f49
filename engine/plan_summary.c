/*
 * engine/plan_summary.c - counting a dry run's rows (engine/plan.h).
 */
#include "engine/plan.h"
#include "engine/store.h"

#include <stdlib.h>
#include <string.h>

void
plan_summary_init(struct plan_summary *sum)
{
	memset(sum, 0, sizeof(*sum));
}

static void
counts_release(struct plan_counts *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		free(c->v[i].key);
	free(c->v);
	memset(c, 0, sizeof(*c));
}

void
plan_summary_release(struct plan_summary *sum)
{
	size_t i;

	counts_release(&sum->by_level);
	counts_release(&sum->by_channel);
	counts_release(&sum->by_role);
	counts_release(&sum->devices_by_kind);
	counts_release(&sum->no_address);
	for (i = 0; i < sum->nsamples; i++) {
		free(sum->samples[i].channel);
		free(sum->samples[i].recipient);
		free(sum->samples[i].responder_id);
		free(sum->samples[i].region);
		free(sum->samples[i].role);
	}
	plan_summary_init(sum);
}

long long
plan_counts_get(const struct plan_counts *c, const char *key)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (strcmp(c->v[i].key, key) == 0)
			return c->v[i].n;
	return 0;
}

/* Few distinct keys (levels, channels, roles): a linear search, with
 * the last hit tried first (rows come in runs of the same values). */
static int
counts_add(struct plan_counts *c, const char *key)
{
	struct plan_count *nv;
	size_t i;

	if (key == NULL || key[0] == '\0')
		key = "-";
	for (i = c->n; i-- > 0;)
		if (strcmp(c->v[i].key, key) == 0) {
			c->v[i].n++;
			return 0;
		}
	if (c->n == c->alloc) {
		size_t na = c->alloc ? c->alloc * 2 : 8;

		if ((nv = realloc(c->v, na * sizeof(*nv))) == NULL)
			return ENG_ENOMEM;
		c->v = nv;
		c->alloc = na;
	}
	if ((c->v[c->n].key = strdup(key)) == NULL)
		return ENG_ENOMEM;
	c->v[c->n++].n = 1;
	return 0;
}

static char *
dup_or_null(const char *s, int *bad)
{
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		*bad = 1;
	return d;
}

static int
keep_sample(struct plan_summary *sum, const struct plan_item *it)
{
	struct plan_sample *x;
	int dev = it->device_id != NULL, bad = 0;
	size_t i;

	for (i = 0; i < sum->nsamples; i++) {
		x = &sum->samples[i];
		if (strcmp(x->channel, it->channel) == 0 &&
		    (x->recipient[0] == 'd') == dev &&
		    strcmp(x->role ? x->role : "", it->role ? it->role : "") ==
		    0)
			return 0;
	}
	if (sum->nsamples == PLAN_MAX_SAMPLES)
		return 0;
	x = &sum->samples[sum->nsamples];
	x->channel = dup_or_null(it->channel, &bad);
	x->recipient = dup_or_null(it->recipient, &bad);
	x->responder_id = dup_or_null(it->responder_id, &bad);
	x->region = dup_or_null(it->region, &bad);
	x->role = dup_or_null(it->role, &bad);
	sum->nsamples++;	/* released whole by plan_summary_release */
	return bad || x->channel == NULL || x->recipient == NULL ?
	    ENG_ENOMEM : 0;
}

static int
item_cb(void *arg, const struct plan_item *it)
{
	struct plan_summary *sum = arg;
	const char *lvl;
	int rv;

	lvl = it->region != NULL ?
	    region_level_name(region_code_level(it->region)) : NULL;
	sum->deliveries++;
	if ((rv = counts_add(&sum->by_level, lvl)) != 0 ||
	    (rv = counts_add(&sum->by_channel, it->channel)) != 0 ||
	    (rv = counts_add(&sum->by_role, it->role)) != 0)
		return rv;
	if (it->device_id != NULL &&
	    (rv = counts_add(&sum->devices_by_kind, it->role)) != 0)
		return rv;
	return keep_sample(sum, it);
}

static int
miss_cb(void *arg, const char *channel, const struct store_person *p)
{
	struct plan_summary *sum = arg;

	(void)p;
	return counts_add(&sum->no_address, channel);
}

void
plan_summary_visitor(struct plan_summary *sum, struct plan_visitor *v)
{
	v->item = item_cb;
	v->no_address = miss_cb;
	v->arg = sum;
}
