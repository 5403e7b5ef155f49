/*
 * engine/escalate_check.c - does every escalation step reach someone?
 * (engine/escalate.h escalate_check_rosters; gongd --check-config).
 */
#include "engine/escalate.h"
#include "channels/channel.h"
#include "config/cfg.h"
#include "engine/region.h"
#include "engine/roster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHOW_MAX	5	/* regions named in one message */

/* The address kind of a configured channel (0 if unknown). */
static int
channel_addr(const struct cfg *c, const char *name)
{
	const struct channel_ops *ops;
	const struct cfg_node *v;
	const char *s;
	long i;

	if ((i = cfg_channel_find(c, name)) < 0 ||
	    (ops = chan_find(c->channels[i].type)) == NULL)
		return 0;
	/* A driver that stands in for another kind says so with "addr"
	 * (channels/file.c). */
	v = cfg_node_get(c->channels[i].node, "addr");
	if (v != NULL && cfg_node_kind(v) == CFG_SCALAR &&
	    (s = cfg_node_str(v)) != NULL && chan_addr_parse(s) != 0)
		return (int)chan_addr_parse(s);
	return (int)ops->addr;
}

static const char *
address_for(const struct roster_responder *p, int addr)
{
	switch (addr) {
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

/* The channels a step may use for people of level lvl: its own, or
 * those of the answer rules that reach that level. */
static size_t
step_channels(const struct cfg *c, const struct cfg_esc_step *st,
    enum region_level lvl, const char **out, size_t max)
{
	const struct cfg_route_people *p;
	size_t i, j, n = 0, k;

	if (st->channel != NULL) {
		out[0] = st->channel;
		return 1;
	}
	for (i = 0; i < c->routing.npeople; i++) {
		p = &c->routing.people[i];
		if (!p->answer || !(p->levels & (1u << lvl)))
			continue;
		for (j = 0; p->channels != NULL && p->channels[j] != NULL;
		    j++) {
			for (k = 0; k < n; k++)
				if (strcmp(out[k], p->channels[j]) == 0)
					break;
			if (k == n && n < max)
				out[n++] = p->channels[j];
		}
	}
	return n;
}

static int
by_region(const void *a, const void *b)
{
	const struct roster_responder *const *x = a, *const *y = b;

	return strcmp((*x)->region, (*y)->region);
}

/* Someone of region with one of roles, active, with an address for one
 * of the channels. */
static int
reachable(const struct cfg *c, struct roster_responder **sorted, size_t n,
    const char *region, char **roles, const char **chans, size_t nchans)
{
	size_t lo = 0, hi = n, mid, i, k;

	while (lo < hi) {	/* first of region */
		mid = (lo + hi) / 2;
		if (strcmp(sorted[mid]->region, region) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (i = lo; i < n && strcmp(sorted[i]->region, region) == 0; i++) {
		const struct roster_responder *p = sorted[i];

		if (!p->active || !cfg_strv_has(roles, p->role))
			continue;
		for (k = 0; k < nchans; k++) {
			const char *a = address_for(p, channel_addr(c,
			    chans[k]));

			if (a != NULL && a[0] != '\0')
				return 1;
		}
	}
	return 0;
}

static const struct cfg_node *
step_node(const struct cfg *c, size_t pi, size_t si)
{
	const struct cfg_node *n = cfg_node_get(c->root, "escalation");

	n = cfg_node_get(n, "policies");
	n = n != NULL ? cfg_node_at(n, pi) : NULL;
	n = cfg_node_get(n, "steps");
	return n != NULL ? cfg_node_at(n, si) : NULL;
}

static const char *
name_of(const struct roster *regions, const char *code)
{
	size_t i;

	for (i = 0; i < regions->nregions; i++)
		if (strcmp(regions->regions[i].code, code) == 0)
			return regions->regions[i].name;
	return "";
}

static int
by_code(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* One notify_parent or deputy step for people of level lvl. */
static int
check_step(const struct cfg *c, const struct roster *regions,
    struct roster_responder **sorted, size_t n, size_t pi, size_t si,
    const struct cfg_esc_step *st, enum region_level lvl,
    struct diag_list *d)
{
	const char *chans[16];
	char shown[SHOW_MAX * 96];
	char (*where)[REGION_CODE_SIZE];
	size_t nchans, i, j, nw = 0, bad = 0, total = 0, len = 0;

	/* No channel: no answer rule reaches that level, so nobody there
	 * must answer and the step never fires (warned once above). */
	if ((nchans = step_channels(c, st, lvl, chans, 16)) == 0)
		return 0;
	if ((where = calloc(regions->nregions + 1, sizeof(*where))) == NULL)
		return ENG_ENOMEM;
	/* The regions whose people the step reaches: the parents of the
	 * level's regions, or those regions themselves. */
	for (i = 0; i < regions->nregions; i++) {
		const struct roster_region *g = &regions->regions[i];

		if (region_code_level(g->code) != lvl)
			continue;
		if (st->action != CFG_ESC_NOTIFY_PARENT)
			(void)snprintf(where[nw], sizeof(where[0]), "%s",
			    g->code);
		else if (g->parent[0] != '\0')
			(void)snprintf(where[nw], sizeof(where[0]), "%s",
			    g->parent);
		else if (region_code_parent(g->code, where[nw]) != 0)
			continue;
		nw++;
	}
	qsort(where, nw, sizeof(where[0]), by_code);
	shown[0] = '\0';
	for (i = 0; i < nw; i++) {
		if (i > 0 && strcmp(where[i], where[i - 1]) == 0)
			continue;
		total++;
		if (reachable(c, sorted, n, where[i], st->roles, chans,
		    nchans))
			continue;
		if (bad++ < SHOW_MAX && len < sizeof(shown))
			len += (size_t)snprintf(shown + len, sizeof(shown) - len,
			    "%s%s (%s)", bad > 1 ? ", " : "",
			    name_of(regions, where[i]), where[i]);
	}
	free(where);
	if (bad == 0)
		return 0;
	{
		const struct cfg_node *node = step_node(c, pi, si);
		char roles[128];
		size_t rl = 0;

		roles[0] = '\0';
		for (j = 0; st->roles != NULL && st->roles[j] != NULL &&
		    rl < sizeof(roles); j++)
			rl += (size_t)snprintf(roles + rl, sizeof(roles) - rl,
			    "%s%s", j ? "/" : "", st->roles[j]);
		if (st->action != CFG_ESC_NOTIFY_PARENT) {
			(void)cfg_warn(d, node, "deputy reaches nobody in %zu "
			    "of %zu %s regions (no active %s with an "
			    "address): %s%s", bad, total,
			    region_level_name(lvl), roles, shown,
			    bad > SHOW_MAX ? ", …" : "");
			return 0;
		}
		(void)cfg_error(d, node, "notify_parent reaches nobody for "
		    "people of %s level in %zu of %zu regions above them: no "
		    "active %s with an address for its channel in %s%s",
		    region_level_name(lvl), bad, total, roles, shown,
		    bad > SHOW_MAX ? ", …" : "");
		return ENG_EINVAL;
	}
}

int
escalate_check_rosters(const struct cfg *c, const struct roster *regions,
    const struct roster *responders, struct diag_list *d)
{
	const struct cfg_esc_policy *p;
	struct roster_responder **sorted;
	size_t i, j, n = responders->nresponders;
	unsigned lvl;
	int rv = 0, r, any_answer = 0;

	for (i = 0; i < c->routing.npeople; i++)
		any_answer |= c->routing.people[i].answer;
	if (c->escalation.npolicies > 0 && !any_answer)
		(void)cfg_warn(d, cfg_node_get(c->root, "escalation"),
		    "no routing rule has 'answer: true': these policies "
		    "never apply");
	if ((sorted = calloc(n + 1, sizeof(*sorted))) == NULL)
		return ENG_ENOMEM;
	for (i = 0; i < n; i++)
		sorted[i] = &responders->responders[i];
	qsort(sorted, n, sizeof(*sorted), by_region);
	for (i = 0; i < c->escalation.npolicies; i++) {
		p = &c->escalation.policies[i];
		for (j = 0; j < p->nsteps; j++) {
			if (p->steps[j].action != CFG_ESC_NOTIFY_PARENT &&
			    p->steps[j].action != CFG_ESC_DEPUTY)
				continue;
			for (lvl = REGION_PROVINCE; lvl <= REGION_VILLAGE;
			    lvl++) {
				if (!(p->levels & (1u << lvl)))
					continue;
				r = check_step(c, regions, sorted, n, i, j,
				    &p->steps[j], (enum region_level)lvl, d);
				if (r == ENG_ENOMEM) {
					free(sorted);
					return r;
				}
				if (r != 0)
					rv = r;
			}
		}
	}
	free(sorted);
	return rv;
}
