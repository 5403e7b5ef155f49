/*
 * engine/ingest.c - CAP in: parse, validate, give meaning, store once.
 */
#include "engine/ingest.h"
#include "cap/cap.h"
#include "engine/clock.h"
#include "engine/log.h"
#include "engine/store.h"
#include "engine/strbuf.h"
#include "engine/utf8.h"

#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* More target regions than this from one alert is refused as a mistake
 * (a polygon round the whole province still stays far below it). */
#define MAX_TARGETS 200000

struct geomap {
	char *value_name;
	char *value;
	char region[REGION_CODE_SIZE];
};

struct ingest {
	struct store *s;
	char root[REGION_CODE_SIZE];
	char *language;
	int unknown_colour;
	char **division_names;
	struct geomap *geomap;
	size_t ngeomap;
	const struct eng_clock *clock;
	/* The box round the roster's centroids: a shape outside it cannot
	 * match any region (re-read every BOX_TTL_MS; rosters change). */
	int has_box;
	double box[4];		/* lat min, lat max, lon min, lon max */
	int64_t box_at;
	int batch;		/* inside ingest_batch_begin/end */
};

#define BOX_TTL_MS 10000

static const char *const state_names[] = {
	NULL, "active", "superseded", "cancelled", "expired", "recorded",
	"draft"
};

const char *
ingest_state_name(enum ingest_state st)
{
	return st >= INGEST_ACTIVE && st <= INGEST_DRAFT ? state_names[st] :
	    "unknown";
}

void
ingest_free(struct ingest *ig)
{
	size_t i;

	if (ig == NULL)
		return;
	store_close(ig->s);
	free(ig->language);
	for (i = 0; ig->division_names != NULL &&
	    ig->division_names[i] != NULL; i++)
		free(ig->division_names[i]);
	free(ig->division_names);
	for (i = 0; i < ig->ngeomap; i++) {
		free(ig->geomap[i].value_name);
		free(ig->geomap[i].value);
	}
	free(ig->geomap);
	free(ig);
}

int
ingest_new(const struct ingest_config *c, struct ingest **out,
    struct eng_errbuf *eb)
{
	struct ingest *ig;
	size_t i, n = 0;
	int rv;

	*out = NULL;
	if ((ig = calloc(1, sizeof(*ig))) == NULL)
		return eng_error(eb, ENG_ENOMEM, "out of memory");
	ig->clock = c->clock != NULL ? c->clock : &eng_clock_system;
	ig->unknown_colour = c->unknown_colour;
	(void)snprintf(ig->root, sizeof(ig->root), "%s",
	    c->root ? c->root : "");
	ig->language = strdup(c->language ? c->language : "zh-CN");
	while (c->division_value_names != NULL &&
	    c->division_value_names[n] != NULL)
		n++;
	ig->division_names = calloc(n + 1, sizeof(char *));
	if (c->ngeomap > 0)
		ig->geomap = calloc(c->ngeomap, sizeof(*ig->geomap));
	if (ig->language == NULL || ig->division_names == NULL ||
	    (c->ngeomap > 0 && ig->geomap == NULL))
		goto nomem;
	for (i = 0; i < n; i++)
		if ((ig->division_names[i] =
		    strdup(c->division_value_names[i])) == NULL)
			goto nomem;
	for (i = 0; i < c->ngeomap; i++) {
		ig->geomap[i].value_name = strdup(c->geomap[i].value_name);
		ig->geomap[i].value = strdup(c->geomap[i].value);
		memcpy(ig->geomap[i].region, c->geomap[i].region,
		    REGION_CODE_SIZE);
		ig->ngeomap++;
		if (ig->geomap[i].value_name == NULL ||
		    ig->geomap[i].value == NULL)
			goto nomem;
	}
	(void)store_vfs_install();	/* fewer writes per commit */
	if ((rv = store_open(c->db_path, 0, &ig->s, eb)) != 0) {
		ingest_free(ig);
		return rv;
	}
	store_set_root(ig->s, ig->root);
	store_set_clock(ig->s, ig->clock);
	*out = ig;
	return 0;
nomem:
	ingest_free(ig);
	return eng_error(eb, ENG_ENOMEM, "out of memory");
}

/* ------------------------------------------------------------------ */
/* Area -> regions                                                     */
/* ------------------------------------------------------------------ */

struct target {
	char code[REGION_CODE_SIZE];
	const char *how;
};

struct targets {
	struct target *v;
	size_t n, alloc;
	int overflow;
};

static int
targets_add(struct targets *t, const char *code, const char *how)
{
	struct target *nv;

	if (t->n >= MAX_TARGETS) {
		t->overflow = 1;
		return 0;
	}
	if (t->n == t->alloc) {
		size_t na = t->alloc ? t->alloc * 2 : 32;

		if ((nv = realloc(t->v, na * sizeof(*nv))) == NULL)
			return ENG_ENOMEM;
		t->v = nv;
		t->alloc = na;
	}
	(void)snprintf(t->v[t->n].code, REGION_CODE_SIZE, "%s", code);
	t->v[t->n].how = how;
	t->n++;
	return 0;
}

static int
by_code(const void *a, const void *b)
{
	return strcmp(((const struct target *)a)->code,
	    ((const struct target *)b)->code);
}

static void
targets_unique(struct targets *t)
{
	size_t i, o = 0;

	if (t->n == 0)
		return;
	qsort(t->v, t->n, sizeof(*t->v), by_code);
	for (i = 1; i < t->n; i++)
		if (strcmp(t->v[i].code, t->v[o].code) != 0)
			t->v[++o] = t->v[i];
	t->n = o + 1;
}

static int
is_division_name(const struct ingest *ig, const char *name)
{
	size_t i;

	if (name == NULL)
		return 0;
	for (i = 0; ig->division_names[i] != NULL; i++)
		if (strcasecmp(ig->division_names[i], name) == 0)
			return 1;
	return 0;
}

/* Ray casting on (lon, lat) as plane coordinates: fine for areas of a
 * few hundred kilometres away from the poles and the antimeridian. */
static int
in_polygon(const struct cap_polygon *p, double lat, double lon)
{
	size_t i, j;
	int in = 0;

	if (p->npts < 3)
		return 0;
	for (i = 0, j = p->npts - 1; i < p->npts; j = i++) {
		double yi = p->pts[i].lat, xi = p->pts[i].lon;
		double yj = p->pts[j].lat, xj = p->pts[j].lon;

		if (((yi > lat) != (yj > lat)) &&
		    lon < (xj - xi) * (lat - yi) / (yj - yi) + xi)
			in = !in;
	}
	return in;
}

static double
distance_km(double lat1, double lon1, double lat2, double lon2)
{
	const double r = 6371.0088, d2r = M_PI / 180.0;
	double dlat = (lat2 - lat1) * d2r, dlon = (lon2 - lon1) * d2r;
	double h = sin(dlat / 2) * sin(dlat / 2) + cos(lat1 * d2r) *
	    cos(lat2 * d2r) * sin(dlon / 2) * sin(dlon / 2);

	return 2 * r * asin(sqrt(h < 1 ? h : 1));
}

struct shape_walk {
	struct targets *t;
	const struct cap_polygon *poly;
	const struct cap_circle *circle;
	size_t hits;
};

static int
shape_cb(void *arg, const char *code, double lat, double lon)
{
	struct shape_walk *w = arg;
	int in;

	if (w->poly != NULL)
		in = in_polygon(w->poly, lat, lon);
	else
		in = distance_km(w->circle->center.lat, w->circle->center.lon,
		    lat, lon) <= w->circle->radius_km;
	if (!in)
		return 0;
	w->hits++;
	return targets_add(w->t, code, w->poly != NULL ? "polygon" :
	    "circle");
}

static int
box_overlaps(struct ingest *ig, double la0, double la1, double lo0,
    double lo1)
{
	int64_t now = eng_clock_now_ms(ig->clock);

	if (ig->box_at == 0 || now - ig->box_at > BOX_TTL_MS) {
		ig->has_box = store_regions_box(ig->s, &ig->box[0], &ig->box[1],
		    &ig->box[2], &ig->box[3], NULL) == 0;
		ig->box_at = now;
	}
	if (!ig->has_box)
		return 0;
	return !(la1 < ig->box[0] || la0 > ig->box[1] || lo1 < ig->box[2] ||
	    lo0 > ig->box[3]);
}

static int
resolve_area(struct ingest *ig, const struct cap_area *ar, const char *path,
    struct targets *t, struct diag_list *diags, struct eng_errbuf *eb)
{
	struct shape_walk w;
	struct store_region g;
	char code[REGION_CODE_SIZE];
	struct eng_errbuf e2;
	size_t i, k, matched = 0;
	int rv;

	for (i = 0; i < ar->ngeocodes; i++) {
		const struct cap_pair *gc = &ar->geocodes[i];

		if (gc->value == NULL)
			continue;
		if (is_division_name(ig, gc->name)) {
			eng_errbuf_init(&e2);
			if (region_code_norm(gc->value, strlen(gc->value), code,
			    &e2) != 0) {
				(void)diag_add(diags, DIAG_WARNING, NULL, 0,
				    path, "geocode %s: %s", gc->name, e2.msg);
				continue;
			}
			rv = store_region_get(ig->s, code, &g, &e2);
			if (rv == ENG_ENOENT) {
				(void)diag_add(diags, DIAG_WARNING, NULL, 0,
				    path, "geocode %s=%s is not a region of "
				    "this deployment", gc->name, gc->value);
				continue;
			}
			if (rv != 0)
				return eng_error(eb, rv, "%s", e2.msg);
			store_region_release(&g);
			if ((rv = targets_add(t, code, "geocode")) != 0)
				return rv;
			matched++;
			continue;
		}
		for (k = 0; k < ig->ngeomap; k++) {
			if (gc->name != NULL && strcasecmp(gc->name,
			    ig->geomap[k].value_name) == 0 &&
			    strcmp(gc->value, ig->geomap[k].value) == 0) {
				if ((rv = targets_add(t, ig->geomap[k].region,
				    "geocode-map")) != 0)
					return rv;
				matched++;
			}
		}
	}
	if (matched > 0)
		return 0;	/* geocodes say it exactly; shapes only add noise */

	for (i = 0; i < ar->npolygons; i++) {
		const struct cap_polygon *p = &ar->polygons[i];
		double la0 = 90, la1 = -90, lo0 = 180, lo1 = -180;

		for (k = 0; k < p->npts; k++) {
			la0 = fmin(la0, p->pts[k].lat);
			la1 = fmax(la1, p->pts[k].lat);
			lo0 = fmin(lo0, p->pts[k].lon);
			lo1 = fmax(lo1, p->pts[k].lon);
		}
		memset(&w, 0, sizeof(w));
		w.t = t;
		w.poly = p;
		if (p->npts >= 3 && box_overlaps(ig, la0, la1, lo0, lo1) &&
		    (rv = store_leaf_regions_in_box(ig->s, la0, la1, lo0, lo1,
		    shape_cb, &w, eb)) != 0)
			return rv;
	}
	for (i = 0; i < ar->ncircles; i++) {
		const struct cap_circle *c = &ar->circles[i];
		double dlat = c->radius_km / 111.32;
		double cl = cos(c->center.lat * M_PI / 180.0);
		double dlon = c->radius_km / (111.32 * (cl > 0.01 ? cl : 0.01));

		memset(&w, 0, sizeof(w));
		w.t = t;
		w.circle = c;
		if (box_overlaps(ig, c->center.lat - dlat, c->center.lat + dlat,
		    c->center.lon - dlon, c->center.lon + dlon) &&
		    (rv = store_leaf_regions_in_box(ig->s, c->center.lat - dlat,
		    c->center.lat + dlat, c->center.lon - dlon,
		    c->center.lon + dlon, shape_cb, &w, eb)) != 0)
			return rv;
	}
	return 0;
}

static int
resolve_targets(struct ingest *ig, const struct cap_alert *a,
    struct targets *t, struct diag_list *diags, struct eng_errbuf *eb)
{
	char path[64];
	size_t i, j;
	int rv;

	for (i = 0; i < a->ninfos; i++) {
		for (j = 0; j < a->infos[i].nareas; j++) {
			(void)snprintf(path, sizeof(path),
			    "/alert/info[%zu]/area[%zu]", i + 1, j + 1);
			if ((rv = resolve_area(ig, &a->infos[i].areas[j], path,
			    t, diags, eb)) != 0)
				return rv;
		}
	}
	targets_unique(t);
	return 0;
}

/* Every target within one of the source's regions? */
static int
check_source_regions(struct ingest *ig, const struct ingest_source *src,
    const struct targets *t, struct eng_errbuf *eb)
{
	size_t i, k;
	int rv;

	if (src->nregions == 0)
		return 0;
	for (i = 0; i < t->n; i++) {
		int ok = 0;

		for (k = 0; k < src->nregions && !ok; k++) {
			if (region_code_within(t->v[i].code, src->regions[k])) {
				ok = 1;
				break;
			}
			if ((rv = store_region_within(ig->s, t->v[i].code,
			    src->regions[k], eb)) < 0)
				return rv;
			ok = rv;
		}
		if (!ok)
			return eng_error(eb, ENG_EPERM, "region %s is outside "
			    "the regions source '%s' may warn", t->v[i].code,
			    src->name ? src->name : "?");
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Lineage                                                             */
/* ------------------------------------------------------------------ */

#define MAX_CHAINS 64

struct lineage {
	long long chains[MAX_CHAINS];
	size_t nchains;
	long long cancelled_by, superseded_by;
};

static void
add_chain(struct lineage *l, long long c)
{
	size_t i;

	for (i = 0; i < l->nchains; i++)
		if (l->chains[i] == c)
			return;
	if (l->nchains < MAX_CHAINS)
		l->chains[l->nchains++] = c;
}

static int
referrer_cb(void *arg, long long referrer, const char *msg_type,
    long long chain_id)
{
	struct lineage *l = arg;

	add_chain(l, chain_id);
	if (msg_type != NULL && strcmp(msg_type, "Cancel") == 0) {
		if (l->cancelled_by == 0)
			l->cancelled_by = referrer;
	} else if (msg_type != NULL && strcmp(msg_type, "Update") == 0) {
		if (l->superseded_by == 0)
			l->superseded_by = referrer;
	}
	return 0;
}

struct chain_walk {
	long long *ids;
	size_t n, alloc;
	long long self;
};

static int
chain_cb(void *arg, const struct store_alert *a)
{
	struct chain_walk *w = arg;
	long long *nv;

	if (a->id == w->self || strcmp(a->state, "active") != 0)
		return 0;
	if (w->n == w->alloc) {
		size_t na = w->alloc ? w->alloc * 2 : 8;

		if ((nv = realloc(w->ids, na * sizeof(*nv))) == NULL)
			return ENG_ENOMEM;
		w->ids = nv;
		w->alloc = na;
	}
	w->ids[w->n++] = a->id;
	return 0;
}

/* ------------------------------------------------------------------ */
/* The whole thing                                                     */
/* ------------------------------------------------------------------ */

/* s as a JSON string, escaped as jansson's json_dumps escapes it; -1
 * (b unchanged but for what was added) when s is not valid UTF-8. */
static int
json_str(struct strbuf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)s, *run = p;
	size_t n = strlen(s), k;
	char esc[7];

	strbuf_add(b, "\"", 1);
	while (n > 0) {
		if (*p >= 0x20 && *p != '"' && *p != '\\') {
			k = *p < 0x80 ? 1 :
			    utf8_decode((const char *)p, n, NULL);
			if (k == 0)
				return -1;
			p += k;
			n -= k;
			continue;
		}
		strbuf_add(b, (const char *)run, (size_t)(p - run));
		esc[0] = '\\';
		switch (*p) {
		case '"':
		case '\\':
			esc[1] = (char)*p;
			break;
		case '\b':
			esc[1] = 'b';
			break;
		case '\f':
			esc[1] = 'f';
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		case '\t':
			esc[1] = 't';
			break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[*p >> 4];
			esc[5] = hex[*p & 15];
			strbuf_add(b, esc, 6);
			goto next;
		}
		strbuf_add(b, esc, 2);
next:
		p++;
		n--;
		run = p;
	}
	strbuf_add(b, (const char *)run, (size_t)(p - run));
	strbuf_add(b, "\"", 1);
	return 0;
}

/*
 * The warnings from d->v[from] on as a JSON array of {line,path,message}
 * into *out (malloc'd), or *out = NULL when there is none (the column is
 * NULL then: readers take that as []).  Written here rather than with
 * jansson (a tree of objects per message, then dumped): the same text,
 * compact, keys in that order; a warning whose text is not valid UTF-8
 * is left out, as jansson leaves it out.  0 or ENG_ENOMEM.
 */
static int
warnings_json(const struct diag_list *d, size_t from, char **out)
{
	struct strbuf b = STRBUF_INIT;
	char num[48];
	size_t i, mark;
	int n = 0, k;

	*out = NULL;
	for (i = from; i < d->n; i++)
		if (d->v[i].sev == DIAG_WARNING)
			break;
	if (i == d->n)
		return 0;
	strbuf_add(&b, "[", 1);
	for (; i < d->n; i++) {
		if (d->v[i].sev != DIAG_WARNING)
			continue;
		mark = b.len;
		k = snprintf(num, sizeof(num), "%s{\"line\":%ld,\"path\":",
		    n > 0 ? "," : "", d->v[i].line);
		strbuf_add(&b, num, (size_t)k);
		if (d->v[i].path == NULL)
			strbuf_add(&b, "null", 4);
		else if (json_str(&b, d->v[i].path) != 0)
			goto drop;
		strbuf_add(&b, ",\"message\":", 11);
		if (json_str(&b, d->v[i].msg) != 0)
			goto drop;
		strbuf_add(&b, "}", 1);
		n++;
		continue;
drop:
		if (!b.oom) {
			b.len = mark;
			b.p[mark] = '\0';
		}
	}
	strbuf_add(&b, "]", 1);
	if (b.oom) {
		strbuf_release(&b);
		return ENG_ENOMEM;
	}
	*out = b.p;
	return 0;
}

static int
is_expired(const struct cap_alert *a, int64_t now, int64_t *latest)
{
	size_t i;
	int all = a->ninfos > 0;

	*latest = 0;
	for (i = 0; i < a->ninfos; i++) {
		const struct cap_time *e = &a->infos[i].expires;

		if (e->text == NULL || !e->valid) {
			all = 0;
			*latest = -1;	/* one info never expires */
			continue;
		}
		if (*latest >= 0 && e->ms > *latest)
			*latest = e->ms;
		if (e->ms > now)
			all = 0;
	}
	if (*latest < 0)
		*latest = 0;
	return all;
}

/*
 * What a message means, the same for ingest_cap and ingest_preview: the
 * info in the deployment language, its colour, the state it arrives in,
 * its expiry and its target regions (checked against what the source
 * may warn).  Fills m (m->t owned by the caller), may add warnings.
 */
struct meaning {
	const struct cap_info *info;
	enum cap_color cc;
	enum ingest_state state;
	int64_t expires;
	struct targets t;
	int area_unmatched;
};

static int
understand(struct ingest *ig, const struct ingest_source *src,
    const struct cap_alert *a, int64_t now, struct meaning *m,
    struct diag_list *diags, struct eng_errbuf *eb)
{
	int rv, type;

	m->info = cap_alert_pick_info(a, ig->language);
	m->cc = CAP_COLOR_NONE;
	if (m->info != NULL) {
		m->cc = cap_severity_color(m->info->severity,
		    (enum cap_color)ig->unknown_colour);
		if (src->cn_profile && (m->info->severity == CAP_SEV_UNKNOWN ||
		    m->info->severity == CAP_SEV_INVALID) &&
		    cap_info_cma_signal(m->info, NULL, &type, &m->cc) != 0)
			m->cc = cap_severity_color(m->info->severity,
			    (enum cap_color)ig->unknown_colour);
	}
	switch (a->status) {
	case CAP_STATUS_ACTUAL:
	case CAP_STATUS_EXERCISE:
		m->state = INGEST_ACTIVE;
		break;
	case CAP_STATUS_DRAFT:
		m->state = INGEST_DRAFT;
		break;
	default:
		m->state = INGEST_RECORDED;
		break;
	}
	if (a->msg_type == CAP_MSG_ACK || a->msg_type == CAP_MSG_ERROR)
		m->state = INGEST_RECORDED;
	if (is_expired(a, now, &m->expires) && m->state == INGEST_ACTIVE &&
	    a->msg_type != CAP_MSG_CANCEL) {
		m->state = INGEST_EXPIRED;
		(void)diag_add(diags, DIAG_WARNING, NULL, 0, "/alert/info",
		    "every info has expired: stored, not broadcast");
	}

	if ((rv = resolve_targets(ig, a, &m->t, diags, eb)) != 0)
		return rv;
	if (m->t.overflow)
		return eng_error(eb, ENG_EINVAL, "the area covers more than %d "
		    "regions", MAX_TARGETS);
	if ((rv = check_source_regions(ig, src, &m->t, eb)) != 0)
		return rv;
	if (m->t.n == 0 && a->msg_type != CAP_MSG_CANCEL && a->ninfos > 0) {
		m->area_unmatched = 1;
		(void)diag_add(diags, DIAG_WARNING, NULL, 0, "/alert/info/area",
		    "the area matches no region of this deployment: stored "
		    "and flagged for the duty officers");
	}
	return 0;
}

/* The row of a as it is stored (strings borrowed from a, m, buf). */
static void
alert_row(const struct cap_alert *a, const struct meaning *m,
    const struct ingest_source *src, int64_t now, const void *buf,
    size_t len, struct store_alert *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sender = a->sender;
	sa->identifier = a->identifier;
	sa->sent = a->sent.text;
	sa->sent_ms = a->sent.ms;
	sa->status = cap_status_name(a->status);
	sa->msg_type = cap_msgtype_name(a->msg_type);
	sa->scope = cap_scope_name(a->scope);
	if (sa->status == NULL)
		sa->status = "Unknown";
	if (sa->msg_type == NULL)
		sa->msg_type = "Unknown";
	if (m->info != NULL) {
		sa->event = m->info->event;
		sa->headline = m->info->headline;
		sa->severity = cap_severity_name(m->info->severity);
		sa->urgency = cap_urgency_name(m->info->urgency);
		sa->certainty = cap_certainty_name(m->info->certainty);
		sa->language = cap_info_language(m->info);
		sa->effective_ms = m->info->effective.valid ?
		    m->info->effective.ms : 0;
		sa->onset_ms = m->info->onset.valid ? m->info->onset.ms : 0;
	}
	sa->colour = (int)m->cc;
	sa->expires_ms = m->expires;
	sa->received_ms = now;
	sa->source = src->name ? src->name : "unknown";
	sa->via = src->via ? src->via : "unknown";
	sa->state = ingest_state_name(m->state);
	sa->broadcast = m->state == INGEST_ACTIVE && m->t.n > 0;
	sa->area_unmatched = m->area_unmatched;
	sa->nregions = (long long)m->t.n;
	sa->cap = buf;
	sa->cap_len = len;
}

/* The audit row of a message a feed stored (src->audit_actor). */
static int
audit_stored(struct ingest *ig, const struct ingest_source *src,
    const struct cap_alert *a, long long id, int64_t now,
    struct eng_errbuf *eb)
{
	struct store_audit x;
	json_t *j;
	char target[40], *after;
	int rv;

	j = json_pack("{s:s,s:s,s:s,s:s}", "sender", a->sender,
	    "identifier", a->identifier, "msg_type",
	    cap_msgtype_name(a->msg_type), "status",
	    cap_status_name(a->status));
	after = j != NULL ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) :
	    NULL;
	json_decref(j);
	if (after == NULL)
		return eng_error(eb, ENG_ENOMEM, "out of memory");
	(void)snprintf(target, sizeof(target), "alert:%lld", id);
	memset(&x, 0, sizeof(x));
	x.at_ms = now;
	x.actor = src->audit_actor;
	x.action = a->msg_type == CAP_MSG_CANCEL ? "cancel" :
	    a->msg_type == CAP_MSG_UPDATE ? "update" : "issue";
	x.target = target;
	x.from_addr = src->via;
	x.after = after;
	x.outcome = "ok";
	rv = store_audit_add(ig->s, &x, NULL, eb);
	free(after);
	return rv;
}

/* The message as parsed, waiting to be stored (ingest.h). */
struct ingest_parsed {
	const struct ingest_source *src;
	const void *buf;
	size_t len;
	struct cap_alert *a;
	size_t d0;		/* the first of its diagnostics */
};

static void
source_opts(const struct ingest_source *src, struct cap_opts *o)
{
	cap_opts_init(o);
	o->lenient = src->lenient;
	o->cn_profile = src->cn_profile;
	if (src->max_bytes > 0)
		o->max_bytes = src->max_bytes;
	o->require_signature = src->require_signature;
	o->trusted_cert = src->trusted_cert;
}

void
ingest_parsed_free(struct ingest_parsed *p)
{
	if (p == NULL)
		return;
	cap_alert_free(p->a);
	free(p);
}

int
ingest_parse(const struct ingest_source *src, const void *buf, size_t len,
    struct ingest_parsed **out, struct diag_list *diags,
    struct eng_errbuf *eb)
{
	struct ingest_parsed *p;
	struct cap_opts o;
	size_t d0 = diags->n;
	int rv;

	*out = NULL;
	source_opts(src, &o);
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return eng_error(eb, ENG_ENOMEM, "out of memory");
	if ((rv = cap_parse(buf, len, &o, &p->a, diags, eb)) != 0) {
		free(p);
		return rv;
	}
	p->src = src;
	p->buf = buf;
	p->len = len;
	p->d0 = d0;
	*out = p;
	return 0;
}

int
ingest_cap(struct ingest *ig, const struct ingest_source *src,
    const void *buf, size_t len, struct ingest_result *res,
    struct diag_list *diags, struct eng_errbuf *eb)
{
	struct ingest_parsed *p;
	int rv;

	memset(res, 0, sizeof(*res));
	if ((rv = ingest_parse(src, buf, len, &p, diags, eb)) != 0)
		return rv;
	return ingest_store(ig, p, res, diags, eb);
}

int
ingest_store(struct ingest *ig, struct ingest_parsed *p,
    struct ingest_result *res, struct diag_list *diags,
    struct eng_errbuf *eb)
{
	int rv = ingest_store_keep(ig, p, res, diags, eb);

	ingest_parsed_free(p);
	return rv;
}

int
ingest_store_keep(struct ingest *ig, struct ingest_parsed *p,
    struct ingest_result *res, struct diag_list *diags,
    struct eng_errbuf *eb)
{
	const struct ingest_source *src = p->src;
	const void *buf = p->buf;
	size_t len = p->len;
	struct cap_alert *a = p->a;
	struct meaning m;
	struct lineage lin;
	struct chain_walk cw = { NULL, 0, 0, 0 };
	struct store_alert sa;
	enum ingest_state state;
	char *warn = NULL, tstate[16];
	size_t d0 = p->d0, i;
	int64_t now;
	long long id = 0, tid, tchain, final_chain, *tids = NULL;
	int rv, in_tx = 0;

	memset(res, 0, sizeof(*res));
	memset(&lin, 0, sizeof(lin));
	memset(&m, 0, sizeof(m));
	now = eng_clock_now_ms(ig->clock);

	/* Identity first: the same message again changes nothing. */
	rv = store_alert_find(ig->s, a->sender, a->identifier, a->sent.ms,
	    &id, &res->chain_id, tstate, sizeof(tstate), eb);
	if (rv == 0) {
		res->alert_id = id;
		res->duplicate = 1;
		goto out;
	}
	if (rv != ENG_ENOENT)
		goto out;

	/* Meaning. */
	if ((rv = understand(ig, src, a, now, &m, diags, eb)) != 0)
		goto out;
	res->colour = (int)m.cc;
	res->area_unmatched = m.area_unmatched;
	state = m.state;

	/* Store, with its lineage, in one transaction (a part of the
	 * batch's, when in one). */
	if ((rv = (ig->batch ? store_savepoint(ig->s, eb) :
	    store_begin(ig->s, eb))) != 0)
		goto out;
	in_tx = 1;
	/* Another thread may have been faster since the look-up above;
	 * not inside a batch, whose transaction that look-up was in. */
	if (!ig->batch) {
		rv = store_alert_find(ig->s, a->sender, a->identifier,
		    a->sent.ms, &id, &res->chain_id, tstate, sizeof(tstate),
		    eb);
		if (rv == 0) {
			res->alert_id = id;
			res->duplicate = 1;
			goto out;
		}
		if (rv != ENG_ENOENT)
			goto out;
	}
	if (a->nrefs > 0 && (tids = calloc(a->nrefs, sizeof(*tids))) ==
	    NULL) {
		rv = eng_error(eb, ENG_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < a->nrefs; i++) {
		if (store_alert_find(ig->s, a->refs[i].sender,
		    a->refs[i].identifier, a->refs[i].sent.ms, &tids[i],
		    &tchain, tstate, sizeof(tstate), NULL) == 0)
			add_chain(&lin, tchain);
		else {
			tids[i] = 0;
			res->unknown_refs++;
		}
	}
	alert_row(a, &m, src, now, buf, len, &sa);
	if (warnings_json(diags, d0, &warn) != 0) {
		rv = eng_error(eb, ENG_ENOMEM, "out of memory");
		goto out;
	}
	sa.warnings = warn;
	if ((rv = store_alert_insert(ig->s, &sa, &id, eb)) != 0)
		goto out;
	add_chain(&lin, id);
	for (i = 0; i < a->nrefs; i++) {
		/* Found above, or (only a reference to itself can be) now. */
		tid = tids[i];
		if (tid == 0)
			(void)store_alert_find(ig->s, a->refs[i].sender,
			    a->refs[i].identifier, a->refs[i].sent.ms, &tid,
			    NULL, NULL, 0, NULL);
		if ((rv = store_alert_add_ref(ig->s, id, a->refs[i].sender,
		    a->refs[i].identifier, a->refs[i].sent.text,
		    a->refs[i].sent.ms, tid, eb)) != 0)
			goto out;
		if (tid == 0)
			(void)diag_add(diags, DIAG_WARNING, NULL, 0,
			    "/alert/references", "references %s,%s,%s, which "
			    "is not (yet) stored: kept, and linked when it "
			    "arrives", a->refs[i].sender, a->refs[i].identifier,
			    a->refs[i].sent.text ? a->refs[i].sent.text : "");
	}
	/* Messages stored before this one that reference it (a Cancel that
	 * overtook its Alert): this one arrives already withdrawn. */
	if ((rv = store_alert_link_referrers(ig->s, a->sender, a->identifier,
	    a->sent.ms, id, referrer_cb, &lin, eb)) != 0)
		goto out;
	final_chain = lin.chains[0];
	for (i = 1; i < lin.nchains; i++)
		if (lin.chains[i] < final_chain)
			final_chain = lin.chains[i];
	for (i = 0; i < lin.nchains; i++)
		if ((rv = store_alert_merge_chain(ig->s, lin.chains[i],
		    final_chain, eb)) != 0)
			goto out;
	if (lin.cancelled_by != 0 || lin.superseded_by != 0) {
		state = lin.cancelled_by != 0 ? INGEST_CANCELLED :
		    INGEST_SUPERSEDED;
		if ((rv = store_alert_set_state(ig->s, id,
		    ingest_state_name(state), 0, lin.cancelled_by != 0 ?
		    lin.cancelled_by : lin.superseded_by, eb)) != 0)
			goto out;
		(void)diag_add(diags, DIAG_WARNING, NULL, 0, "/alert",
		    "arrived after a message that %s it: stored as %s, not "
		    "broadcast", lin.cancelled_by ? "cancels" : "updates",
		    ingest_state_name(state));
	}
	/* An Update or Cancel takes over from every message of its chain
	 * still in force (a Cancel of the first warning also withdraws the
	 * updates that followed it). */
	if ((a->msg_type == CAP_MSG_UPDATE || a->msg_type == CAP_MSG_CANCEL) &&
	    a->nrefs > 0 && (a->status == CAP_STATUS_ACTUAL ||
	    a->status == CAP_STATUS_EXERCISE)) {
		cw.self = id;
		if ((rv = store_alert_chain(ig->s, final_chain, chain_cb, &cw,
		    eb)) != 0)
			goto out;
		for (i = 0; i < cw.n; i++) {
			long long dropped = 0;

			if ((rv = store_alert_set_state(ig->s, cw.ids[i],
			    a->msg_type == CAP_MSG_CANCEL ? "cancelled" :
			    "superseded", 0, id, eb)) != 0)
				goto out;
			/* What it has not sent yet is not sent any more: the
			 * update or the cancel notice replaces it. */
			if ((rv = store_deliveries_cancel(ig->s, cw.ids[i],
			    &dropped, now, eb)) != 0)
				goto out;
			if (dropped > 0)
				log_info("deliveries.cancelled", "alert=%lld "
				    "by=%lld n=%lld", cw.ids[i], id, dropped);
		}
	}
	for (i = 0; i < m.t.n; i++)
		if ((rv = store_alert_add_region(ig->s, id, m.t.v[i].code,
		    m.t.v[i].how, eb)) != 0)
			goto out;
	if (src->audit_actor != NULL &&
	    (rv = audit_stored(ig, src, a, id, now, eb)) != 0)
		goto out;
	if ((rv = (ig->batch ? store_release(ig->s, eb) :
	    store_commit(ig->s, eb))) != 0)
		goto out;
	in_tx = 0;

	res->alert_id = id;
	res->state = state;
	res->broadcast = state == INGEST_ACTIVE && (m.t.n > 0 ||
	    a->msg_type == CAP_MSG_CANCEL);
	res->chain_id = final_chain;
	res->nregions = m.t.n;
	log_info("alert.stored", "id=%lld source=%s via=%s status=%s "
	    "msg_type=%s state=%s colour=%s regions=%zu chain=%lld "
	    "unknown_refs=%zu", id, sa.source, sa.via, sa.status, sa.msg_type,
	    ingest_state_name(state), cap_color_name(m.cc), m.t.n, final_chain,
	    res->unknown_refs);
out:
	if (in_tx && ig->batch)
		store_rollback_savepoint(ig->s);
	else if (in_tx)
		store_rollback(ig->s);
	if (res->duplicate) {
		rv = 0;
		log_info("alert.duplicate", "id=%lld source=%s", res->alert_id,
		    src->name ? src->name : "?");
	}
	free(cw.ids);
	free(tids);
	free(m.t.v);
	free(warn);
	return rv;
}

int
ingest_batch_begin(struct ingest *ig, struct eng_errbuf *eb)
{
	int rv;

	if (ig == NULL || ig->batch)
		return eng_error(eb, ENG_EINVAL, "no ingest, or a batch is "
		    "already open");
	if ((rv = store_begin(ig->s, eb)) == 0)
		ig->batch = 1;
	return rv;
}

int
ingest_batch_end(struct ingest *ig, int commit, struct eng_errbuf *eb)
{
	int rv = 0;

	if (ig == NULL || !ig->batch)
		return 0;
	ig->batch = 0;
	if (commit && (rv = store_commit(ig->s, eb)) == 0)
		return 0;
	store_rollback(ig->s);
	return rv;
}

void
ingest_preview_release(struct ingest_preview *out)
{
	free(out->targets);
	free(out->alert);
	cap_alert_free(out->cap_);
	memset(out, 0, sizeof(*out));
}

int
ingest_preview(struct ingest *ig, const struct ingest_source *src,
    const void *buf, size_t len, struct ingest_preview *out,
    struct diag_list *diags, struct eng_errbuf *eb)
{
	struct cap_opts o;
	struct cap_alert *a = NULL;
	struct meaning m;
	char tstate[16];
	size_t i;
	int64_t now;
	long long tid, tchain;
	int rv;

	memset(out, 0, sizeof(*out));
	memset(&m, 0, sizeof(m));
	source_opts(src, &o);
	if ((rv = cap_parse(buf, len, &o, &a, diags, eb)) != 0)
		return rv;
	now = eng_clock_now_ms(ig->clock);
	rv = store_alert_find(ig->s, a->sender, a->identifier, a->sent.ms,
	    &out->res.alert_id, &out->res.chain_id, tstate, sizeof(tstate),
	    eb);
	if (rv == 0)
		out->res.duplicate = 1;
	else if (rv != ENG_ENOENT)
		goto out;
	if ((rv = understand(ig, src, a, now, &m, diags, eb)) != 0)
		goto out;
	for (i = 0; i < a->nrefs; i++) {
		if (store_alert_find(ig->s, a->refs[i].sender,
		    a->refs[i].identifier, a->refs[i].sent.ms, &tid, &tchain,
		    tstate, sizeof(tstate), NULL) != 0)
			out->res.unknown_refs++;
		else if (out->ref_chain_id == 0)
			out->ref_chain_id = tchain;
	}
	if ((out->alert = calloc(1, sizeof(*out->alert))) == NULL) {
		rv = eng_error(eb, ENG_ENOMEM, "out of memory");
		goto out;
	}
	alert_row(a, &m, src, now, buf, len, out->alert);
	out->alert->warnings = NULL;
	out->res.state = m.state;
	out->res.colour = (int)m.cc;
	out->res.area_unmatched = m.area_unmatched;
	out->res.nregions = m.t.n;
	out->res.broadcast = m.state == INGEST_ACTIVE && (m.t.n > 0 ||
	    a->msg_type == CAP_MSG_CANCEL);
	out->status = out->alert->status;
	out->msg_type = out->alert->msg_type;
	out->expires_ms = m.expires;
	out->store_broadcast = out->alert->broadcast;
	if (m.t.n > 0 && (out->targets = calloc(m.t.n,
	    sizeof(*out->targets))) == NULL) {
		rv = eng_error(eb, ENG_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < m.t.n; i++)
		memcpy(out->targets[i], m.t.v[i].code, REGION_CODE_SIZE);
	out->cap_ = a;
	a = NULL;
out:
	free(m.t.v);
	cap_alert_free(a);
	if (rv != 0)
		ingest_preview_release(out);
	return rv;
}
