/*
 * engine/report.c - reports of an alert's answers (叫应).  Definitions
 * in engine/report.h.
 *
 * The store gives one row per targeted person ordered by region path
 * and the regions in the same order (a preorder walk), so the people
 * of any region's subtree are one contiguous run: each region's counts
 * are one pass over its run, its percentiles one sort of its times.
 */
#include "engine/report.h"
#include "engine/clock.h"
#include "engine/store.h"
#include "engine/utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BOM "\xef\xbb\xbf"

/* One targeted person as the report keeps them. */
struct rperson {
	int64_t t;		/* time to answer, -1: no answer */
	size_t path;		/* index into paths */
	size_t region;		/* index into r->regions */
	unsigned char level, reached, answered, late, unreachable;
};

struct builder {
	struct report *r;
	struct rperson *p;
	size_t np, cp;
	char **paths;		/* distinct paths of the people, in order */
	size_t npaths, cpaths;
	char **rpaths;		/* paths of r->regions */
	size_t cregions;
	int oom;
};

static char *
xstrdup(const char *s)
{
	size_t n;
	char *d;

	if (s == NULL)
		return NULL;
	n = strlen(s) + 1;
	if ((d = malloc(n)) != NULL)
		memcpy(d, s, n);
	return d;
}

static int
grow(void **v, size_t *cap, size_t need, size_t size)
{
	size_t n;
	void *nv;

	if (need <= *cap)
		return 0;
	n = *cap != 0 ? *cap * 2 : 64;
	while (n < need)
		n *= 2;
	if ((nv = realloc(*v, n * size)) == NULL)
		return ENG_ENOMEM;
	*v = nv;
	*cap = n;
	return 0;
}

static int
on_alert(void *arg, const struct store_report_alert *a)
{
	struct builder *b = arg;

	b->r->escalated = a->escalated;
	if ((a->state != NULL && (b->r->state = xstrdup(a->state)) == NULL) ||
	    (a->event != NULL && (b->r->event = xstrdup(a->event)) == NULL) ||
	    (a->headline != NULL &&
	    (b->r->headline = xstrdup(a->headline)) == NULL))
		return ENG_ENOMEM;
	return 0;
}

static int
on_person(void *arg, const struct store_report_person *x)
{
	struct builder *b = arg;
	struct rperson *p;
	const char *path = x->path != NULL ? x->path : "";

	if (grow((void **)&b->p, &b->cp, b->np + 1, sizeof(*b->p)) != 0)
		return ENG_ENOMEM;
	if (b->npaths == 0 || strcmp(b->paths[b->npaths - 1], path) != 0) {
		if (grow((void **)&b->paths, &b->cpaths, b->npaths + 1,
		    sizeof(*b->paths)) != 0)
			return ENG_ENOMEM;
		if ((b->paths[b->npaths] = xstrdup(path)) == NULL)
			return ENG_ENOMEM;
		b->npaths++;
	}
	p = &b->p[b->np++];
	memset(p, 0, sizeof(*p));
	p->path = b->npaths - 1;
	p->level = x->level >= REGION_PROVINCE && x->level <= REGION_VILLAGE ?
	    (unsigned char)x->level : 0;
	p->answered = x->answered != 0;
	p->late = p->answered && x->late;
	p->reached = x->delivered || p->answered;
	p->t = -1;
	if (p->answered)
		p->t = x->first_answer_ms > x->base_ms ?
		    x->first_answer_ms - x->base_ms : 0;
	p->unreachable = !p->answered && ((x->esc_state != NULL &&
	    strcmp(x->esc_state, "unreachable") == 0) ||
	    (x->deliveries > 0 && x->failed >= x->deliveries));
	return 0;
}

static int
on_region(void *arg, const struct store_report_region *x)
{
	struct builder *b = arg;
	struct report *r = b->r;
	struct report_region *g;
	size_t c = b->cregions;

	if (grow((void **)&r->regions, &b->cregions, r->nregions + 1,
	    sizeof(*r->regions)) != 0)
		return ENG_ENOMEM;
	if (grow((void **)&b->rpaths, &c, r->nregions + 1,
	    sizeof(*b->rpaths)) != 0)
		return ENG_ENOMEM;
	g = &r->regions[r->nregions];
	memset(g, 0, sizeof(*g));
	(void)snprintf(g->code, sizeof(g->code), "%s", x->code);
	(void)snprintf(g->parent, sizeof(g->parent), "%s", x->parent);
	g->level = x->level;
	b->rpaths[r->nregions] = NULL;
	r->nregions++;
	if ((g->name = xstrdup(x->name != NULL ? x->name : "")) == NULL ||
	    (b->rpaths[r->nregions - 1] = xstrdup(x->path != NULL ? x->path :
	    "")) == NULL)
		return ENG_ENOMEM;
	return 0;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

int64_t
report_percentile(const int64_t *sorted, size_t n, unsigned p)
{
	size_t rank;

	if (n == 0)
		return -1;
	if (p > 100)
		p = 100;
	/* ceil(p * n / 100), at least 1 */
	rank = ((size_t)p * n + 99) / 100;
	if (rank < 1)
		rank = 1;
	return sorted[rank - 1];
}

/* Counts of people [lo, hi); times is scratch for hi - lo values. */
static void
count_run(const struct rperson *p, size_t lo, size_t hi, int64_t *times,
    struct report_counts *c)
{
	size_t i, n = 0;

	memset(c, 0, sizeof(*c));
	for (i = lo; i < hi; i++) {
		c->targeted++;
		c->reached += p[i].reached;
		c->answered += p[i].answered;
		c->late += p[i].late;
		c->unreachable += p[i].unreachable;
		if (p[i].answered)
			times[n++] = p[i].t;
	}
	qsort(times, n, sizeof(*times), cmp_i64);
	c->p50_ms = report_percentile(times, n, 50);
	c->p90_ms = report_percentile(times, n, 90);
}

/* First person with region >= idx (people are ordered by region). */
static size_t
lower_bound(const struct rperson *p, size_t n, size_t idx)
{
	size_t lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (p[mid].region < idx)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}


/* Counts of every person (level 0) or of the people of one level. */
static void
count_level(const struct rperson *p, size_t n, unsigned level,
    int64_t *times, struct report_counts *c)
{
	size_t i, k = 0;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < n; i++) {
		if (level != 0 && p[i].level != level)
			continue;
		c->targeted++;
		c->reached += p[i].reached;
		c->answered += p[i].answered;
		c->late += p[i].late;
		c->unreachable += p[i].unreachable;
		if (p[i].answered)
			times[k++] = p[i].t;
	}
	qsort(times, k, sizeof(*times), cmp_i64);
	c->p50_ms = report_percentile(times, k, 50);
	c->p90_ms = report_percentile(times, k, 90);
}

/* Is path within the subtree whose path is anc (a prefix)? */
static int
path_within(const char *path, const char *anc)
{
	return strncmp(path, anc, strlen(anc)) == 0;
}

static int
aggregate(struct builder *b, struct eng_errbuf *eb)
{
	struct report *r = b->r;
	int64_t *times = NULL;
	size_t *pmap = NULL, *end = NULL, *stack = NULL;
	size_t i, j, depth = 0, lo;
	unsigned lvl;
	int rv = 0;

	if ((times = malloc((b->np + 1) * sizeof(*times))) == NULL ||
	    (pmap = malloc((b->npaths + 1) * sizeof(*pmap))) == NULL ||
	    (end = malloc((r->nregions + 1) * sizeof(*end))) == NULL ||
	    (stack = malloc((r->nregions + 1) * sizeof(*stack))) == NULL) {
		rv = eng_error(eb, ENG_ENOMEM, "report: out of memory");
		goto out;
	}
	/* Each distinct path of the people to its region: both lists are
	 * in path order, so one merge. */
	for (i = 0, j = 0; i < b->npaths; i++) {
		while (j < r->nregions &&
		    strcmp(b->rpaths[j], b->paths[i]) != 0)
			j++;
		if (j == r->nregions) {
			rv = eng_error(eb, ENG_EIO, "report: the region of "
			    "path %s is missing from the tree", b->paths[i]);
			goto out;
		}
		pmap[i] = j;
	}
	for (i = 0; i < b->np; i++)
		b->p[i].region = pmap[b->p[i].path];

	count_level(b->p, b->np, 0, times, &r->total);
	for (lvl = REGION_PROVINCE; lvl <= REGION_VILLAGE; lvl++)
		count_level(b->p, b->np, lvl, times, &r->levels[lvl]);

	/* Depth and the end of each region's subtree (preorder). */
	for (i = 0; i < r->nregions; i++) {
		while (depth > 0 && !path_within(b->rpaths[i],
		    b->rpaths[stack[depth - 1]]))
			end[stack[--depth]] = i;
		r->regions[i].depth = (int)depth;
		stack[depth++] = i;
	}
	while (depth > 0)
		end[stack[--depth]] = r->nregions;

	for (i = 0; i < r->nregions; i++) {
		lo = lower_bound(b->p, b->np, i);
		count_run(b->p, lo, lower_bound(b->p, b->np, i + 1), times,
		    &r->regions[i].own);
		count_run(b->p, lo, lower_bound(b->p, b->np, end[i]), times,
		    &r->regions[i].subtree);
	}
out:
	free(times);
	free(pmap);
	free(end);
	free(stack);
	return rv;
}

static void
builder_release(struct builder *b)
{
	size_t i;

	for (i = 0; i < b->npaths; i++)
		free(b->paths[i]);
	free(b->paths);
	if (b->rpaths != NULL)
		for (i = 0; i < b->r->nregions; i++)
			free(b->rpaths[i]);
	free(b->rpaths);
	free(b->p);
}

int
report_build(struct store *s, long long alert_id, int64_t now_ms,
    struct report **out, struct eng_errbuf *eb)
{
	struct store_report_sink k;
	struct builder b;
	struct report *r;
	int rv;

	*out = NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return eng_error(eb, ENG_ENOMEM, "report: out of memory");
	r->alert_id = alert_id;
	r->generated_ms = now_ms;
	memset(&b, 0, sizeof(b));
	b.r = r;
	k.alert = on_alert;
	k.person = on_person;
	k.region = on_region;
	k.arg = &b;
	rv = store_report_read(s, alert_id, &k, eb);
	if (rv == ENG_ENOMEM)
		(void)eng_error(eb, rv, "report: out of memory");
	if (rv == 0)
		rv = aggregate(&b, eb);
	builder_release(&b);
	if (rv != 0) {
		report_free(r);
		return rv;
	}
	*out = r;
	return 0;
}

void
report_free(struct report *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nregions; i++)
		free(r->regions[i].name);
	free(r->regions);
	free(r->state);
	free(r->event);
	free(r->headline);
	free(r);
}

/* ------------------------------------------------------------------ */
/* Formats                                                             */
/* ------------------------------------------------------------------ */

void
report_rate(long long num, long long den, char *frac, size_t fsize,
    char *pct, size_t psize)
{
	long long q;

	if (den <= 0 || num < 0) {
		(void)snprintf(frac, fsize, "%s", "");
		(void)snprintf(pct, psize, "%s", "");
		return;
	}
	/* num / den in units of 1/10000, rounded half up */
	q = (num * 20000 + den) / (2 * den);
	(void)snprintf(frac, fsize, "%lld.%04lld", q / 10000, q % 10000);
	(void)snprintf(pct, psize, "%lld.%02lld%%", q / 100, q % 100);
}

const char *
report_secs(int64_t ms, char *buf, size_t size)
{
	if (ms < 0)
		(void)snprintf(buf, size, "%s", "");
	else
		(void)snprintf(buf, size, "%lld.%03lld", (long long)(ms / 1000),
		    (long long)(ms % 1000));
	return buf;
}

void
report_json_str(struct strbuf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s, *end;
	size_t n;

	if (s == NULL) {
		strbuf_addstr(b, "null");
		return;
	}
	end = p + strlen(s);
	strbuf_add(b, "\"", 1);
	while (p < end) {
		if (*p == '"' || *p == '\\') {
			strbuf_addf(b, "\\%c", *p);
			p++;
		} else if (*p < 0x20 || *p == 0x7f) {
			strbuf_addf(b, "\\u%04x", *p);
			p++;
		} else if ((n = utf8_decode((const char *)p, (size_t)(end - p),
		    NULL)) == 0) {
			strbuf_addstr(b, "\\ufffd");
			p++;
		} else {
			strbuf_add(b, (const char *)p, n);
			p += n;
		}
	}
	strbuf_add(b, "\"", 1);
}

void
report_csv_field(struct strbuf *b, const char *s)
{
	const char *p;

	if (s == NULL)
		return;
	if (strpbrk(s, ",\"\r\n") == NULL) {
		strbuf_addstr(b, s);
		return;
	}
	strbuf_add(b, "\"", 1);
	for (p = s; *p != '\0'; p++) {
		if (*p == '"')
			strbuf_add(b, "\"\"", 2);
		else
			strbuf_add(b, p, 1);
	}
	strbuf_add(b, "\"", 1);
}

/* A JSON number in seconds with ms, or null. */
static void
json_secs(struct strbuf *b, int64_t ms)
{
	char buf[32];

	if (ms < 0)
		strbuf_addstr(b, "null");
	else
		strbuf_addstr(b, report_secs(ms, buf, sizeof(buf)));
}

static void
json_ms(struct strbuf *b, int64_t ms)
{
	if (ms < 0)
		strbuf_addstr(b, "null");
	else
		strbuf_addf(b, "%lld", (long long)ms);
}

static void
counts_json(struct strbuf *b, const struct report_counts *c)
{
	char frac[32], pct[32];

	report_rate(c->answered, c->targeted, frac, sizeof(frac), pct,
	    sizeof(pct));
	strbuf_addf(b, "{\"targeted\":%lld,\"reached\":%lld,\"answered\":%lld,"
	    "\"unanswered\":%lld,\"late\":%lld,\"unreachable\":%lld,"
	    "\"rate\":", c->targeted, c->reached, c->answered,
	    c->targeted - c->answered, c->late, c->unreachable);
	if (c->targeted > 0)
		strbuf_addf(b, "%s,\"rate_pct\":\"%s\"", frac, pct);
	else
		strbuf_addstr(b, "null,\"rate_pct\":null");
	strbuf_addstr(b, ",\"p50_s\":");
	json_secs(b, c->p50_ms);
	strbuf_addstr(b, ",\"p90_s\":");
	json_secs(b, c->p90_ms);
	strbuf_addstr(b, ",\"p50_ms\":");
	json_ms(b, c->p50_ms);
	strbuf_addstr(b, ",\"p90_ms\":");
	json_ms(b, c->p90_ms);
	strbuf_addstr(b, "}");
}

void
report_json(const struct report *r, struct strbuf *b)
{
	char buf[40];
	unsigned lvl;
	size_t i;
	int first = 1;

	strbuf_addf(b, "{\"alert_id\":%lld,\"state\":", r->alert_id);
	report_json_str(b, r->state);
	strbuf_addstr(b, ",\"event\":");
	report_json_str(b, r->event);
	strbuf_addstr(b, ",\"headline\":");
	report_json_str(b, r->headline);
	strbuf_addf(b, ",\"escalated\":%s,\"generated\":\"%s\","
	    "\"percentile\":\"nearest-rank\",\"totals\":",
	    r->escalated ? "true" : "false",
	    eng_time_fmt_utc(r->generated_ms, buf, sizeof(buf)));
	counts_json(b, &r->total);
	/* city to village always; province only when someone there must
	 * answer. */
	strbuf_addstr(b, ",\"levels\":[");
	for (lvl = REGION_PROVINCE; lvl <= REGION_VILLAGE; lvl++) {
		if (lvl == REGION_PROVINCE && r->levels[lvl].targeted == 0)
			continue;
		strbuf_addf(b, "%s{\"level\":\"%s\",\"level_zh\":\"%s\","
		    "\"counts\":", first ? "" : ",",
		    region_level_name((enum region_level)lvl),
		    region_level_name_zh((enum region_level)lvl));
		counts_json(b, &r->levels[lvl]);
		strbuf_addstr(b, "}");
		first = 0;
	}
	strbuf_addstr(b, "],\"regions\":[");
	for (i = 0; i < r->nregions; i++) {
		const struct report_region *g = &r->regions[i];
		const char *ln = region_level_name(g->level);

		strbuf_addf(b, "%s{\"code\":\"%s\",\"name\":", i ? "," : "",
		    g->code);
		report_json_str(b, g->name);
		strbuf_addstr(b, ",\"level\":");
		report_json_str(b, ln);
		strbuf_addstr(b, ",\"parent\":");
		report_json_str(b, g->parent[0] != '\0' ? g->parent : NULL);
		strbuf_addf(b, ",\"depth\":%d,\"own\":", g->depth);
		counts_json(b, &g->own);
		strbuf_addstr(b, ",\"subtree\":");
		counts_json(b, &g->subtree);
		strbuf_addstr(b, "}");
	}
	strbuf_addstr(b, "]}\n");
}

static void
counts_csv(struct strbuf *b, const struct report_counts *c)
{
	char frac[32], pct[32], s50[32], s90[32];

	report_rate(c->answered, c->targeted, frac, sizeof(frac), pct,
	    sizeof(pct));
	strbuf_addf(b, ",%lld,%lld,%lld,%lld,%lld,%lld,%s,%s,%s,%s",
	    c->targeted, c->reached, c->answered, c->targeted - c->answered,
	    c->late, c->unreachable, frac, pct,
	    report_secs(c->p50_ms, s50, sizeof(s50)),
	    report_secs(c->p90_ms, s90, sizeof(s90)));
}

#define CSV_COUNTS(p) p "targeted," p "reached," p "answered," \
	p "unanswered," p "late," p "unreachable," p "rate," p "rate_pct," \
	p "p50_s," p "p90_s"

void
report_csv(const struct report *r, struct strbuf *b)
{
	size_t i;

	strbuf_addstr(b, BOM "alert_id,code,name,level,parent,depth,"
	    CSV_COUNTS("") "," CSV_COUNTS("subtree_") "\r\n");
	for (i = 0; i < r->nregions; i++) {
		const struct report_region *g = &r->regions[i];
		const char *ln = region_level_name(g->level);

		strbuf_addf(b, "%lld,%s,", r->alert_id, g->code);
		report_csv_field(b, g->name);
		strbuf_addf(b, ",%s,%s,%d", ln != NULL ? ln : "", g->parent,
		    g->depth);
		counts_csv(b, &g->own);
		counts_csv(b, &g->subtree);
		strbuf_addstr(b, "\r\n");
	}
}

/* ------------------------------------------------------------------ */
/* Unanswered                                                          */
/* ------------------------------------------------------------------ */

struct unans {
	struct strbuf *b;
	long long n;
};

static int
unans_json_cb(void *arg, const struct store_unanswered *u)
{
	struct unans *x = arg;
	struct strbuf *b = x->b;
	char buf[40];

	strbuf_addstr(b, x->n++ ? ",{\"responder_id\":" : "{\"responder_id\":");
	report_json_str(b, u->responder_id);
	strbuf_addstr(b, ",\"name\":");
	report_json_str(b, u->name);
	strbuf_addstr(b, ",\"role\":");
	report_json_str(b, u->role);
	strbuf_addstr(b, ",\"phone\":");
	report_json_str(b, u->phone);
	strbuf_addstr(b, ",\"region\":{\"code\":");
	report_json_str(b, u->region);
	strbuf_addstr(b, ",\"name\":");
	report_json_str(b, u->region_name);
	strbuf_addstr(b, ",\"level\":");
	report_json_str(b, region_level_name(u->level));
	strbuf_addstr(b, "},\"escalation\":{\"state\":");
	report_json_str(b, u->esc_state);
	strbuf_addf(b, ",\"step\":%d},\"last_attempt\":", u->step);
	if (u->channel == NULL) {
		strbuf_addstr(b, "null}");
	} else {
		strbuf_addstr(b, "{\"channel\":");
		report_json_str(b, u->channel);
		strbuf_addstr(b, ",\"state\":");
		report_json_str(b, u->state);
		strbuf_addf(b, ",\"at\":\"%s\",\"at_ms\":%lld,\"attempts\":%d,"
		    "\"error\":", eng_time_fmt_utc(u->at_ms, buf, sizeof(buf)),
		    (long long)u->at_ms, u->attempts);
		report_json_str(b, u->last_error);
		strbuf_addstr(b, "}}");
	}
	return b->oom ? ENG_ENOMEM : 0;
}

int
report_unanswered_json(struct store *s, long long alert_id, long long limit,
    long long offset, struct strbuf *b, struct eng_errbuf *eb)
{
	struct strbuf items = STRBUF_INIT;
	struct unans x = { &items, 0 };
	long long total = 0;
	int rv;

	rv = store_unanswered_list(s, alert_id, limit, offset, unans_json_cb,
	    &x, &total, eb);
	if (rv == 0) {
		strbuf_addf(b, "{\"alert_id\":%lld,\"total\":%lld,"
		    "\"offset\":%lld,\"limit\":", alert_id, total,
		    offset < 0 ? 0 : offset);
		if (limit < 0)
			strbuf_addstr(b, "null");
		else
			strbuf_addf(b, "%lld", limit);
		strbuf_addstr(b, ",\"unanswered\":[");
		if (items.p != NULL)
			strbuf_add(b, items.p, items.len);
		strbuf_addstr(b, "]}\n");
		if (b->oom)
			rv = eng_error(eb, ENG_ENOMEM, "report: out of memory");
	} else if (rv == ENG_ENOMEM || items.oom) {
		rv = eng_error(eb, ENG_ENOMEM, "report: out of memory");
	}
	strbuf_release(&items);
	return rv;
}

static int
unans_csv_cb(void *arg, const struct store_unanswered *u)
{
	struct unans *x = arg;
	struct strbuf *b = x->b;
	const char *ln = region_level_name(u->level);
	char buf[40];

	report_csv_field(b, u->responder_id);
	strbuf_add(b, ",", 1);
	report_csv_field(b, u->name);
	strbuf_add(b, ",", 1);
	report_csv_field(b, u->role);
	strbuf_add(b, ",", 1);
	report_csv_field(b, u->phone);
	strbuf_add(b, ",", 1);
	report_csv_field(b, u->region);
	strbuf_add(b, ",", 1);
	report_csv_field(b, u->region_name);
	strbuf_addf(b, ",%s,", ln != NULL ? ln : "");
	report_csv_field(b, u->esc_state);
	strbuf_addf(b, ",%d,", u->step);
	if (u->channel != NULL) {
		report_csv_field(b, u->channel);
		strbuf_add(b, ",", 1);
		report_csv_field(b, u->state);
		strbuf_addf(b, ",%s,%d,", eng_time_fmt_utc(u->at_ms, buf,
		    sizeof(buf)), u->attempts);
		report_csv_field(b, u->last_error);
	} else {
		strbuf_addstr(b, ",,,,");
	}
	strbuf_addstr(b, "\r\n");
	x->n++;
	return b->oom ? ENG_ENOMEM : 0;
}

int
report_unanswered_csv(struct store *s, long long alert_id, struct strbuf *b,
    struct eng_errbuf *eb)
{
	struct unans x = { b, 0 };
	int rv;

	strbuf_addstr(b, BOM "responder_id,name,role,phone,region,region_name,"
	    "level,escalation_state,step,last_channel,last_state,last_at,"
	    "attempts,last_error\r\n");
	rv = store_unanswered_list(s, alert_id, -1, 0, unans_csv_cb, &x, NULL,
	    eb);
	if (rv == ENG_ENOMEM || (rv == 0 && b->oom))
		rv = eng_error(eb, ENG_ENOMEM, "report: out of memory");
	return rv;
}
