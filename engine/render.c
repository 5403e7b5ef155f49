/*
 * engine/render.c - the text of each delivery, from the templates.
 */
#include "engine/render.h"
#include "cap/cap.h"
#include "channels/channel.h"
#include "config/cfg.h"
#include "engine/log.h"
#include "engine/region.h"
#include "engine/roster.h"
#include "engine/store.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* uthash (Debian's uthash-dev): an allocation that fails leaves the entry
 * out (its hh.tbl is NULL) instead of ending the process. */
#define HASH_NONFATAL_OOM	1
#include <uthash.h>

#define MAX_CHAIN	8	/* village … province, and then some */
#define MAP_KEY		(REGION_CODE_SIZE + 8)

struct render {
	struct tpl_set *set;
	char *lang;
	int zh;			/* the language is Chinese */
	int utc_off;		/* minutes */
	char *zone;
};

struct chain {
	char v[MAX_CHAIN][REGION_CODE_SIZE];
	size_t n;
};

/* A string key -> index map (uthash). */
struct smap_ent {
	char key[MAP_KEY];
	size_t idx;
	UT_hash_handle hh;
};

struct smap {
	struct smap_ent *head;	/* NULL: empty */
};

static void smap_release(struct smap *m);

/* A region as the store had it when this alert first needed it, and
 * the template of each kind found for it. */
struct region_slot {
	char *name;			/* NULL: not found */
	int level;
	struct chain c;			/* the region, then its ancestors */
	const struct tpl *t[TPL_NKINDS];
	unsigned char found[TPL_NKINDS];	/* t[k] looked up */
};

/* A rendered message that depends on nothing per person: its template
 * reads no responder.* variable, and no ack.* one or none is set. */
struct memo_slot {
	const struct tpl *t;
	struct render_msg m;
};

struct render_alert {
	long long id;
	struct tpl_vars *v;
	char *event;		/* template lookup key, or NULL */
	char *text, *subject;	/* the built-in wording */
	int ack_set;		/* an ack.* variable is set */
	/* Regions read for this alert, and texts by (kind, region). */
	struct smap region_map, memo_map;
	struct region_slot *regions;
	size_t nregions, aregions;
	struct memo_slot *memo;
	size_t nmemo, amemo;
	/* What the last template looked at reads. */
	const struct tpl *uses_t;
	int uses_responder, uses_ack, uses_region;
	/* The region whose variables are set ("": none), and whether the
	 * responder's are. */
	char vars_region[REGION_CODE_SIZE];
	int vars_responder;
};

/* ------------------------------------------------------------------ */
/* loading                                                             */
/* ------------------------------------------------------------------ */

/*
 * Zones with a fixed offset (the template module needs one; see
 * templates/README.md): China's, and UTC.
 */
static const struct {
	const char *name;
	int off;
} zones[] = {
	{ "Asia/Shanghai", 480 }, { "Asia/Chongqing", 480 },
	{ "Asia/Chungking", 480 }, { "Asia/Harbin", 480 },
	{ "Asia/Hong_Kong", 480 }, { "Asia/Macau", 480 },
	{ "Asia/Taipei", 480 }, { "PRC", 480 }, { "UTC", 0 },
	{ "Etc/UTC", 0 }, { "GMT", 0 }, { "Etc/GMT", 0 },
};

int
render_zone_offset(const char *tz, int *off_min)
{
	size_t i;

	for (i = 0; tz != NULL && i < sizeof(zones) / sizeof(zones[0]); i++)
		if (strcmp(zones[i].name, tz) == 0) {
			*off_min = zones[i].off;
			return 0;
		}
	*off_min = 480;
	return ENG_ENOENT;
}

int
render_load(const struct cfg *cfg, struct render **out,
    struct diag_list *diags)
{
	struct render *r;
	const char *tz = cfg->deployment.timezone;
	const char *lang = cfg->deployment.language;
	int rv;

	*out = NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return ENG_ENOMEM;
	r->utc_off = 480;
	if (lang == NULL || lang[0] == '\0')
		lang = "zh-CN";
	r->zh = strncasecmp(lang, "zh", 2) == 0 &&
	    (lang[2] == '\0' || lang[2] == '-');
	if (tz == NULL || tz[0] == '\0')
		tz = "Asia/Shanghai";
	if (render_zone_offset(tz, &r->utc_off) != 0) {
		(void)cfg_warn(diags, cfg_node_get(cfg_node_get(cfg->root,
		    "deployment"), "timezone"), "messages show times in "
		    "UTC+08:00 (Asia/Shanghai): the templates know no "
		    "offset for '%s'", tz);
		tz = "Asia/Shanghai";
	}
	r->lang = strdup(lang);
	r->zone = strdup(tz);
	if (r->lang == NULL || r->zone == NULL) {
		rv = ENG_ENOMEM;
		goto fail;
	}
	if (cfg->templates == NULL) {
		rv = diag_add(diags, DIAG_ERROR, cfg->file, 0, "templates",
		    "no template directory") == 0 ? ENG_EINVAL : ENG_ENOMEM;
		goto fail;
	}
	if ((rv = tpl_set_load(cfg->templates, &r->set, diags)) != 0) {
		const struct cfg_node *n = cfg_node_get(cfg->root,
		    "templates");
		const char *what = rv == ENG_EIO ? "cannot be read" :
		    "have errors; none is used";

		if (rv == ENG_ENOMEM)
			goto fail;
		if (n != NULL)
			(void)cfg_error(diags, n, "the templates in '%s' %s",
			    cfg->templates, what);
		else	/* the default set */
			(void)diag_add(diags, DIAG_ERROR, cfg->file, 0,
			    "templates", "the templates in '%s' %s",
			    cfg->templates, what);
		goto fail;
	}
	*out = r;
	return 0;
fail:
	render_free(r);
	return rv;
}

void
render_free(struct render *r)
{
	if (r == NULL)
		return;
	tpl_set_free(r->set);
	free(r->lang);
	free(r->zone);
	free(r);
}

size_t
render_count(const struct render *r)
{
	return r != NULL && r->set != NULL ? tpl_set_count(r->set) : 0;
}

/* ------------------------------------------------------------------ */
/* kinds                                                               */
/* ------------------------------------------------------------------ */

enum tpl_kind
render_kind(const struct channel *ch, const char *recipient,
    const char *role)
{
	if (recipient != NULL && strncmp(recipient, "d:", 2) == 0) {
		switch (device_kind_parse(role)) {
		case DEVICE_LOUDSPEAKER:
		case DEVICE_SIREN:
		case DEVICE_RADIO:
			return TPL_LOUDSPEAKER;
		case DEVICE_GROUP_CHAT:
			return TPL_APP;
		default:
			break;	/* by the channel, as for people */
		}
	}
	switch (ch != NULL ? ch->addr : (enum chan_addr)0) {
	case CHAN_ADDR_EMAIL:
		return TPL_EMAIL;
	case CHAN_ADDR_WECOM:
	case CHAN_ADDR_DINGTALK:
	case CHAN_ADDR_TELEGRAM:
	case CHAN_ADDR_WECHAT:
		return TPL_APP;
	case CHAN_ADDR_DEVICE:
		return TPL_LOUDSPEAKER;
	case CHAN_ADDR_PHONE:
	default:
		if (ch != NULL && ch->ops != NULL && ch->ops->name != NULL &&
		    strstr(ch->ops->name, "voice") != NULL)
			return TPL_VOICE;
		return TPL_SMS;
	}
}

/* ------------------------------------------------------------------ */
/* the alert                                                           */
/* ------------------------------------------------------------------ */

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

/* Set name to s when s is not empty; 0 or ENG_ENOMEM. */
static int
set_str(struct tpl_vars *v, const char *name, const char *s)
{
	int rv;

	if (s == NULL || s[0] == '\0')
		return 0;
	rv = tpl_vars_set_str(v, name, s);
	return rv == ENG_EINVAL ? 0 : rv;
}

static int
set_time(struct tpl_vars *v, const char *name, int64_t ms)
{
	return ms != 0 ? tpl_vars_set_int(v, name, ms) : 0;
}

/* An info explicitly in English (not CAP's default). */
static const struct cap_info *
english_info(const struct cap_alert *ca)
{
	size_t i;

	for (i = 0; ca != NULL && i < ca->ninfos; i++) {
		const char *l = ca->infos[i].language;

		if (l != NULL && strncasecmp(l, "en", 2) == 0 &&
		    (l[2] == '\0' || l[2] == '-'))
			return &ca->infos[i];
	}
	return NULL;
}

static int
alert_vars(struct render_alert *ra, const struct store_alert *a,
    const struct cap_alert *ca, const struct cap_info *in)
{
	struct tpl_vars *v = ra->v;
	const struct cap_info *en = english_info(ca);
	const char **areas = NULL;
	size_t i, n = 0;
	int rv = 0;

	if ((rv = tpl_vars_set_bool(v, "exercise",
	    strcmp(a->status, "Exercise") == 0)) != 0 ||
	    (rv = set_str(v, "alert.msg_type", a->msg_type)) != 0 ||
	    (rv = set_str(v, "alert.sender_name", in && in->sender_name &&
	    in->sender_name[0] ? in->sender_name : a->sender)) != 0 ||
	    (rv = set_str(v, "alert.event", ra->event)) != 0 ||
	    (rv = set_str(v, "alert.headline", in ? in->headline :
	    a->headline)) != 0 ||
	    (rv = set_str(v, "alert.description", in ? in->description :
	    NULL)) != 0 ||
	    (rv = set_str(v, "alert.instruction", in ? in->instruction :
	    NULL)) != 0 ||
	    (rv = set_time(v, "alert.sent", a->sent_ms)) != 0 ||
	    (rv = set_time(v, "alert.effective", a->effective_ms)) != 0 ||
	    (rv = set_time(v, "alert.onset", a->onset_ms)) != 0 ||
	    (rv = set_time(v, "alert.expires", a->expires_ms)) != 0)
		return rv;
	if (en != NULL && en != in &&
	    (rv = set_str(v, "alert.event_en", en->event)) != 0)
		return rv;
	if (a->colour > CAP_COLOR_NONE && a->colour <= CAP_COLOR_RED &&
	    ((rv = set_str(v, "alert.colour",
	    cap_color_name((enum cap_color)a->colour))) != 0 ||
	    (rv = set_str(v, "alert.colour_zh",
	    cap_color_name_zh((enum cap_color)a->colour))) != 0))
		return rv;
	if (in != NULL) {
		if ((rv = set_str(v, "alert.severity",
		    cap_severity_name(in->severity))) != 0 ||
		    (rv = set_str(v, "alert.urgency",
		    cap_urgency_name(in->urgency))) != 0 ||
		    (rv = set_str(v, "alert.certainty",
		    cap_certainty_name(in->certainty))) != 0)
			return rv;
		if (in->nareas > 0 &&
		    (areas = calloc(in->nareas, sizeof(*areas))) == NULL)
			return ENG_ENOMEM;
		for (i = 0; i < in->nareas; i++)
			if (in->areas[i].desc != NULL &&
			    in->areas[i].desc[0] != '\0')
				areas[n++] = in->areas[i].desc;
		if (n > 0)
			rv = tpl_vars_set_list(v, "alert.areas", areas, n);
		free(areas);
	} else {
		if ((rv = set_str(v, "alert.severity", a->severity)) != 0 ||
		    (rv = set_str(v, "alert.urgency", a->urgency)) != 0 ||
		    (rv = set_str(v, "alert.certainty", a->certainty)) != 0)
			return rv;
	}
	return rv;
}

/*
 * The built-in wording (the dispatcher's before the templates): the
 * sender in 【】 as Chinese warning SMS have it, 【演练】 for exercises,
 * the headline and the instruction.
 */
static int
builtin(struct render_alert *ra, const struct store_alert *a,
    const struct cap_info *in)
{
	const char *sender, *headline, *instr, *what;
	int exercise = strcmp(a->status, "Exercise") == 0;

	sender = in && in->sender_name ? in->sender_name : a->sender;
	headline = in && in->headline ? in->headline : ra->event ?
	    ra->event : "";
	instr = in && in->instruction ? in->instruction : "";
	what = strcmp(a->msg_type, "Cancel") == 0 ? "解除：" :
	    strcmp(a->msg_type, "Update") == 0 ? "更新：" : "";
	if (headline[0] == '\0' && what[0] == '\0' && instr[0] == '\0')
		headline = "预警";
	ra->text = xasprintf("【%s】%s%s%s%s%s", sender ? sender : "",
	    exercise ? "【演练】" : "", what, headline, instr[0] ? "。" : "",
	    instr);
	ra->subject = xasprintf("%s%s%s", exercise ? "【演练】" : "", what,
	    headline);
	return ra->text && ra->subject ? 0 : ENG_ENOMEM;
}

int
render_alert_new(const struct render *r, const struct store_alert *a,
    struct render_alert **out, struct eng_errbuf *eb)
{
	struct render_alert *ra;
	const struct cap_info *in = NULL;
	struct cap_alert *ca = NULL;
	struct cap_opts o;
	struct diag_list dl;
	const char *ev;
	int rv;

	*out = NULL;
	if ((ra = calloc(1, sizeof(*ra))) == NULL ||
	    (ra->v = tpl_vars_new()) == NULL) {
		rv = ENG_ENOMEM;
		goto fail;
	}
	ra->id = a->id;
	if ((rv = tpl_vars_set_zone(ra->v, r->utc_off, r->zone)) != 0)
		goto fail;
	cap_opts_init(&o);
	o.lenient = 1;
	o.cn_profile = 1;
	o.max_bytes = a->cap_len + 1;
	diag_list_init(&dl);
	if (a->cap != NULL && cap_parse(a->cap, a->cap_len, &o, &ca, &dl,
	    NULL) == 0)
		in = cap_alert_pick_info(ca, r->lang);
	diag_list_release(&dl);
	ev = in && in->event && in->event[0] ? in->event : a->event;
	if (ev != NULL && ev[0] != '\0' && (ra->event = strdup(ev)) == NULL) {
		rv = ENG_ENOMEM;
		goto fail;
	}
	if ((rv = alert_vars(ra, a, ca, in)) != 0 ||
	    (rv = builtin(ra, a, in)) != 0)
		goto fail;
	cap_alert_free(ca);
	*out = ra;
	return 0;
fail:
	cap_alert_free(ca);
	render_alert_free(ra);
	return eng_error(eb, rv, "out of memory");
}

void
render_alert_free(struct render_alert *ra)
{
	size_t i;

	if (ra == NULL)
		return;
	for (i = 0; i < ra->nregions; i++)
		free(ra->regions[i].name);
	for (i = 0; i < ra->nmemo; i++)
		render_msg_release(&ra->memo[i].m);
	free(ra->regions);
	free(ra->memo);
	smap_release(&ra->region_map);
	smap_release(&ra->memo_map);
	tpl_vars_free(ra->v);
	free(ra->event);
	free(ra->text);
	free(ra->subject);
	free(ra);
}

const char *
render_alert_text(const struct render_alert *ra)
{
	return ra->text;
}

const char *
render_alert_subject(const struct render_alert *ra)
{
	return ra->subject;
}

/* ------------------------------------------------------------------ */
/* one delivery                                                        */
/* ------------------------------------------------------------------ */

struct person {
	const char *id;
	char name[200];
	char role[64];
	int found;
};

/* The role as the message's reader says it. */
static void
role_words(const struct render *r, const char *role, char *buf,
    size_t size)
{
	const char *zh;
	size_t i;

	(void)snprintf(buf, size, "%s", role);
	if (r->zh) {
		if ((zh = roster_role_zh(role)) != NULL)
			(void)snprintf(buf, size, "%s", zh);
		return;
	}
	for (i = 0; buf[i] != '\0'; i++)
		if (buf[i] == '_')
			buf[i] = ' ';
}

static int
parent_cb(void *arg, const char *code)
{
	struct chain *c = arg;

	/* From the root down: keep the nearest MAX_CHAIN - 1. */
	if (c->n == MAX_CHAIN) {
		memmove(c->v[1], c->v[2], (MAX_CHAIN - 2) * sizeof(c->v[0]));
		c->n--;
	}
	(void)snprintf(c->v[c->n++], REGION_CODE_SIZE, "%s", code);
	return 0;
}

/* 1 and *idx when key is there, else 0. */
static int
smap_get(const struct smap *m, const char *key, size_t *idx)
{
	struct smap_ent *e = NULL;

	HASH_FIND_STR(m->head, key, e);
	if (e == NULL)
		return 0;
	*idx = e->idx;
	return 1;
}

/* Add key (not there yet, shorter than MAP_KEY, not empty). */
static int
smap_put(struct smap *m, const char *key, size_t idx)
{
	struct smap_ent *e;

	if ((e = calloc(1, sizeof(*e))) == NULL)
		return ENG_ENOMEM;
	(void)snprintf(e->key, sizeof(e->key), "%s", key);
	e->idx = idx;
	HASH_ADD_STR(m->head, key, e);
	if (e->hh.tbl == NULL) {	/* the table could not grow */
		free(e);
		return ENG_ENOMEM;
	}
	return 0;
}

static void
smap_release(struct smap *m)
{
	struct smap_ent *e, *tmp;

	HASH_ITER(hh, m->head, e, tmp) {
		HASH_DEL(m->head, e);
		free(e);
	}
}

/* Room for one more element of size sz in *v (*n used, *a allocated). */
static int
grow(void **v, size_t *n, size_t *a, size_t sz)
{
	void *nv;
	size_t na;

	if (*n < *a)
		return 0;
	na = *a ? *a * 2 : 64;
	if ((nv = realloc(*v, na * sz)) == NULL)
		return ENG_ENOMEM;
	*v = nv;
	*a = na;
	return 0;
}

/*
 * The region's slot, read from the store the first time this alert
 * needs it (its name, level and ancestors).  NULL only when out of
 * memory.
 */
static struct region_slot *
region_slot(struct render_alert *ra, struct store *s, const char *code)
{
	struct region_slot *x;
	struct store_region g;
	struct eng_errbuf eb;
	struct chain *c;
	size_t i, k;

	if (smap_get(&ra->region_map, code, &i))
		return &ra->regions[i];
	if (strlen(code) >= MAP_KEY ||
	    grow((void **)&ra->regions, &ra->nregions, &ra->aregions,
	    sizeof(*x)) != 0)
		return NULL;
	x = &ra->regions[ra->nregions];
	memset(x, 0, sizeof(*x));
	eng_errbuf_init(&eb);
	c = &x->c;
	(void)snprintf(c->v[0], REGION_CODE_SIZE, "%s", code);
	c->n = 1;
	/* The region and its ancestors' codes in one read. */
	if (store_region_chain(s, code, &g, parent_cb, c, &eb) == 0) {
		x->name = strdup(g.name != NULL ? g.name : "");
		x->level = g.level;
		store_region_release(&g);
		if (x->name == NULL)
			return NULL;
	} else {
		c->n = 1;
	}
	/* parents came root first after the region: reverse them */
	for (i = 1, k = c->n - 1; i < k; i++, k--) {
		char t[REGION_CODE_SIZE];

		memcpy(t, c->v[i], sizeof(t));
		memcpy(c->v[i], c->v[k], sizeof(t));
		memcpy(c->v[k], t, sizeof(t));
	}
	if (smap_put(&ra->region_map, code, ra->nregions) != 0) {
		free(x->name);
		return NULL;
	}
	return &ra->regions[ra->nregions++];
}

/*
 * Set the delivery's region variables (or unset them), unset the
 * responder's, and find the template of to->kind for the region chain.
 * Store failures leave variables unset; only ENG_ENOMEM is returned.
 */
static int
region_vars(const struct render *r, struct store *s,
    struct render_alert *ra, const struct render_to *to,
    const struct tpl **t)
{
	static const char *const names[] = {
		"region.code", "region.name", "region.level"
	};
	const char *chain[MAX_CHAIN];
	struct region_slot *x = NULL;
	const char *code = to->region != NULL ? to->region : "";
	size_t i;
	int rv;

	*t = NULL;
	if (ra->vars_responder) {
		(void)tpl_vars_unset(ra->v, "responder.name");
		(void)tpl_vars_unset(ra->v, "responder.role");
		ra->vars_responder = 0;
	}
	if (code[0] != '\0' && (x = region_slot(ra, s, code)) == NULL)
		return ENG_ENOMEM;
	/* The same region as the last delivery: its variables are set. */
	if (strcmp(ra->vars_region, code) != 0) {
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			(void)tpl_vars_unset(ra->v, names[i]);
		ra->vars_region[0] = '\0';
		if (x != NULL) {
			if ((rv = set_str(ra->v, "region.code", code)) != 0)
				return rv;
			if (x->name != NULL &&
			    ((rv = set_str(ra->v, "region.name", x->name)) !=
			    0 || (rv = set_str(ra->v, "region.level",
			    region_level_name(x->level))) != 0))
				return rv;
			(void)snprintf(ra->vars_region,
			    sizeof(ra->vars_region), "%s", code);
		}
	}
	if (r->set == NULL || (unsigned)to->kind >= TPL_NKINDS)
		return 0;
	if (x != NULL && x->found[to->kind]) {
		*t = x->t[to->kind];
		return 0;
	}
	for (i = 0; x != NULL && i < x->c.n; i++)
		chain[i] = x->c.v[i];
	*t = tpl_set_find(r->set, to->kind, r->lang, ra->event, chain,
	    x != NULL ? x->c.n : 0);
	if (x != NULL) {
		x->t[to->kind] = *t;
		x->found[to->kind] = 1;
	}
	return 0;
}

/* The responder's variables (name, role), when the store has them. */
static int
responder_vars(const struct render *r, struct store *s,
    struct render_alert *ra, const struct render_to *to)
{
	struct eng_errbuf eb;
	struct person p;
	char role[64];
	int rv;

	if (to->responder_id == NULL)
		return 0;
	memset(&p, 0, sizeof(p));
	p.id = to->responder_id;
	eng_errbuf_init(&eb);
	p.found = store_responder_brief(s, to->responder_id, p.name,
	    sizeof(p.name), p.role, sizeof(p.role), &eb) == 0;
	if (!p.found)
		return 0;
	role_words(r, p.role, role, sizeof(role));
	ra->vars_responder = 1;
	if ((rv = set_str(ra->v, "responder.name", p.name)) != 0 ||
	    (rv = set_str(ra->v, "responder.role", role)) != 0)
		return rv;
	return 0;
}

/* The memo key of a delivery: its kind, and its region when the
 * template reads the region's variables. */
static void
memo_key(const struct render_alert *ra, const struct render_to *to,
    char *key)
{
	(void)snprintf(key, MAP_KEY, "%d:%s", (int)to->kind,
	    ra->uses_region && to->region != NULL ? to->region : "");
}

/* What t reads that differs from one person to the next. */
static void
uses(struct render_alert *ra, const struct tpl *t)
{
	if (ra->uses_t == t)
		return;
	ra->uses_t = t;
	ra->uses_responder = tpl_uses(t, "responder.");
	ra->uses_ack = tpl_uses(t, "ack.");
	ra->uses_region = tpl_uses(t, "region.");
}

static int
msg_copy(struct render_msg *d, const struct render_msg *m)
{
	*d = *m;
	d->text = strdup(m->text);
	d->subject = strdup(m->subject);
	if (d->text == NULL || d->subject == NULL) {
		render_msg_release(d);
		return ENG_ENOMEM;
	}
	return 0;
}

static int
blank(const char *s)
{
	if (s == NULL)
		return 1;
	for (; *s != '\0'; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
			return 0;
	return 1;
}

int
render_delivery(const struct render *r, struct store *s,
    struct render_alert *ra, const struct render_to *to,
    struct render_msg *msg)
{
	const struct tpl *t = NULL;
	struct tpl_sms_result res;
	struct eng_errbuf eb;
	const char *why = NULL;
	char q[300], key[MAP_KEY];
	size_t i;
	int rv, memo = 0;

	memset(msg, 0, sizeof(*msg));
	memset(&res, 0, sizeof(res));
	eng_errbuf_init(&eb);
	if ((rv = region_vars(r, s, ra, to, &t)) != 0)
		return rv;
	/* The same region's text again, when nothing in it is personal. */
	if (t != NULL) {
		uses(ra, t);
		memo = !ra->uses_responder && !(ra->uses_ack && ra->ack_set);
	}
	if (memo) {
		memo_key(ra, to, key);
		if (smap_get(&ra->memo_map, key, &i) && ra->memo[i].t == t)
			return msg_copy(msg, &ra->memo[i].m);
	}
	if (t != NULL && ra->uses_responder &&
	    (rv = responder_vars(r, s, ra, to)) != 0)
		return rv;
	if (t == NULL) {
		why = "no template";
	} else if (to->kind == TPL_SMS) {
		if ((rv = tpl_render_sms(t, ra->v, NULL, 0, NULL, &res,
		    &eb)) == 0) {
			msg->text = res.text;
			msg->segments = res.count.segments;
			msg->fits = res.fits;
			if (!res.fits)
				log_warn("render.sms_long", "alert=%lld "
				    "template=%s segments=%d budget=%d "
				    "msg=\"sent whole: too long even without "
				    "the description\"", ra->id, tpl_name(t),
				    res.count.segments, res.max_segments);
		}
	} else {
		rv = tpl_render(t, ra->v, NULL, &msg->text, NULL, &eb);
	}
	if (t != NULL && rv == ENG_ENOMEM)
		return ENG_ENOMEM;
	if (t != NULL && rv != 0)
		why = eb.msg;
	else if (t != NULL && blank(msg->text))
		why = "the template gave no text";
	if (why == NULL && tpl_has_section(t, "subject")) {
		rv = tpl_render_section(t, "subject", ra->v, NULL,
		    &msg->subject, NULL, &eb);
		if (rv == ENG_ENOMEM)
			goto nomem;
		if (rv != 0 || blank(msg->subject)) {
			log_warn("render.subject", "alert=%lld template=%s "
			    "error=%s", ra->id, tpl_name(t), log_q(rv != 0 ?
			    eb.msg : "empty subject", q, sizeof(q)));
			free(msg->subject);
			msg->subject = NULL;
		}
	}
	if (why != NULL) {
		log_warn("render.fallback", "alert=%lld kind=%s region=%s "
		    "template=%s error=%s", ra->id, tpl_kind_name(to->kind),
		    to->region ? to->region : "-", t ? tpl_name(t) : "-",
		    log_q(why, q, sizeof(q)));
		free(msg->text);
		msg->text = strdup(ra->text);
		msg->segments = 0;
		msg->fits = 1;
		msg->fallback = 1;
		if (to->kind == TPL_SMS && msg->text != NULL &&
		    (rv = tpl_sms_segments(msg->text, NULL)) > 0)
			msg->segments = rv;
	} else {
		msg->tpl = tpl_name(t);
	}
	if (msg->subject == NULL)
		msg->subject = strdup(ra->subject);
	if (msg->text == NULL || msg->subject == NULL)
		goto nomem;
	/* Remembered (a failure here only costs the next render). */
	if (memo && !smap_get(&ra->memo_map, key, &i) &&
	    grow((void **)&ra->memo, &ra->nmemo, &ra->amemo,
	    sizeof(*ra->memo)) == 0 &&
	    msg_copy(&ra->memo[ra->nmemo].m, msg) == 0) {
		ra->memo[ra->nmemo].t = t;
		if (smap_put(&ra->memo_map, key, ra->nmemo) == 0)
			ra->nmemo++;
		else
			render_msg_release(&ra->memo[ra->nmemo].m);
	}
	return 0;
nomem:
	render_msg_release(msg);
	return ENG_ENOMEM;
}

int
render_set_ack(struct render_alert *ra, const char *code, const char *link,
    int reminder)
{
	int rv;

	/* Nothing set, nothing to set (no answer asked): as it is. */
	if (!ra->ack_set && !reminder && (code == NULL || code[0] == '\0') &&
	    (link == NULL || link[0] == '\0'))
		return 0;
	(void)tpl_vars_unset(ra->v, "ack.required");
	(void)tpl_vars_unset(ra->v, "ack.code");
	(void)tpl_vars_unset(ra->v, "ack.link");
	(void)tpl_vars_unset(ra->v, "ack.reminder");
	/* Set below, or left set by a failure half way: not memoised. */
	ra->ack_set = 1;
	if (reminder && (rv = tpl_vars_set_bool(ra->v, "ack.reminder", 1)) !=
	    0)
		return rv;
	if (!reminder && (code == NULL || code[0] == '\0') &&
	    (link == NULL || link[0] == '\0')) {
		ra->ack_set = 0;
		return 0;
	}
	if ((code == NULL || code[0] == '\0') &&
	    (link == NULL || link[0] == '\0'))
		return 0;
	if ((rv = tpl_vars_set_bool(ra->v, "ack.required", 1)) != 0 ||
	    (rv = set_str(ra->v, "ack.code", code)) != 0 ||
	    (rv = set_str(ra->v, "ack.link", link)) != 0)
		return rv;
	return 0;
}

void
render_msg_release(struct render_msg *msg)
{
	free(msg->text);
	free(msg->subject);
	memset(msg, 0, sizeof(*msg));
}
