/*
 * tests/unit/test_plan_dry.c - the dry run of a CAP message that is not
 * stored: ingest_preview (parse, validate, resolve the area, store
 * nothing) and plan_preview with the plan_summary visitor, on the small
 * roster of test_plan.c.  The rows a preview visits are compared line by
 * line with what ingest_cap + plan_alert then write for the same CAP;
 * overlapping targets give each row once; the summary's counts are
 * exact; an Update previews to whom its chain reached; bad CAP is
 * refused as ingest_cap refuses it, with nothing stored.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "channels/channel.h"
#include "config/cfg.h"
#include "engine/ingest.h"
#include "engine/plan.h"
#include "engine/roster.h"
#include "engine/store.h"
#include "engine/region.h"

#define ROOT	"140400000000"
#define NOW	1800000000000LL		/* 2027-01-15, before the expiry */
/* 2099-07-16T11:30:00+08:00 */
#define EXPIRES_MS	4087855800000LL

struct fx {
	struct store *s;
	struct ingest *ig;
	struct cfg *cfg;
	char dir[64];
	char db[128];
};

static const char regions_csv[] =
    "code,name,lat,lon,parent\n"
    "140400000000,长治市,,,\n"
    "140425000000,平顺县,,,\n"
    "140425100000,青羊镇,,,\n"
    "140425100201,后店村,,,\n"
    "140425100202,小李桥村,,,\n"
    "140425101000,北耽车乡,,,\n"
    "140425101201,北耽车村,,,\n"
    "140426000000,黎城县,,,\n";

/* Who is reached by a red alert for 青羊镇 and who is not (see t_red). */
static const char responders_csv[] =
    "id,name,region,role,phone,wecom,email,active,exercise\n"
    "C-D1,市值班,140400000000,duty_officer,10000000001,,,yes,no\n"
    "C-L1,市领导,140400000000,leader,10000000002,,,yes,no\n"
    "X-D1,县值班,140425000000,duty_officer,10000000003,,,yes,yes\n"
    "X-D2,县值班二,140425000000,duty_officer,10000000004,,,no,no\n"
    "X-L1,县领导,140425000000,leader,10000000005,,,yes,no\n"
    "T-D1,镇值班,140425100000,duty_officer,10000000006,,,yes,no\n"
    "T-L1,镇领导,140425100000,leader,,,tl@example.cn,yes,no\n"
    "V1-1,村责任人,140425100201,responsible,10000000008,,,yes,no\n"
    "V1-2,村预警员,140425100201,warner,10000000009,,,yes,yes\n"
    "V1-3,村网格员,140425100201,grid_worker,10000000010,,,no,no\n"
    "V2-1,村责任人二,140425100202,responsible,10000000011,,"
    "v2@example.cn,yes,no\n"
    "O-1,别乡责任人,140425101201,responsible,10000000012,,,yes,no\n"
    "Y-D1,黎城值班,140426000000,duty_officer,10000000013,,,yes,no\n";

static const char devices_csv[] =
    "id,region,kind,channel,address\n"
    "LS-V1,140425100201,loudspeaker,loudspeaker,zone/v1\n"
    "SR-V2,140425100202,siren,siren,siren/v2\n"
    "GC-T,140425100000,group_chat,wecom,chat/t\n"
    "FM-X,140425000000,radio,radio,fm/x\n"
    "LS-O,140425101201,loudspeaker,loudspeaker,zone/o\n";

static const char config_yaml[] =
    "deployment:\n"
    "  root: \"" ROOT "\"\n"
    "channels:\n"
    "  - { name: sms, type: file, path: sms.log, addr: phone }\n"
    "  - { name: mail, type: file, path: mail.log, addr: email }\n"
    "  - { name: loudspeaker, type: file, path: o.log, addr: device }\n"
    "  - { name: siren, type: file, path: o.log, addr: device }\n"
    "  - { name: radio, type: file, path: o.log, addr: device }\n"
    "  - { name: wecom, type: file, path: o.log, addr: device }\n"
    "routing:\n"
    "  ancestor_roles: [duty_officer]\n"
    "  ancestor_channels: [sms]\n"
    "  people:\n"
    "    - levels: [township, village]\n"
    "      channels: [sms]\n"
    "    - levels: [village]\n"
    "      roles: [responsible]\n"
    "      colours: [red]\n"
    "      channels: [mail]\n"
    "  devices:\n"
    "    - kinds: [loudspeaker, siren]\n"
    "      colours: [orange, red]\n"
    "    - kinds: [group_chat]\n"
    "      colours: [yellow, orange, red]\n";

static int
addr_of(void *arg, const char *channel)
{
	(void)arg;
	if (strcmp(channel, "sms") == 0)
		return CHAN_ADDR_PHONE;
	if (strcmp(channel, "mail") == 0)
		return CHAN_ADDR_EMAIL;
	return CHAN_ADDR_DEVICE;
}

static int
import(struct fx *f, enum roster_kind kind, const char *csv,
    const char *name)
{
	struct store_import_result res;
	struct diag_list d;
	struct eng_errbuf eb;
	struct roster r;
	int rv;

	diag_list_init(&d);
	eng_errbuf_init(&eb);
	roster_init(&r);
	rv = roster_parse(kind, csv, strlen(csv), name, ROSTER_ENC_UTF8, &r,
	    &d);
	if (rv == 0)
		rv = store_import(f->s, &r, 0, &res, &d, &eb);
	if (rv != 0)
		fprintf(stderr, "%s: %s %s\n", name, eb.msg,
		    d.n > 0 ? d.v[0].msg : "");
	roster_release(&r);
	diag_list_release(&d);
	return rv;
}

static int teardown(void **state);

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	static const char *const dvn[] = { "GB/T 2260", NULL };
	struct ingest_config ic;
	struct diag_list d;
	struct eng_errbuf eb;

	if (f == NULL)
		return -1;
	*state = f;
	eng_errbuf_init(&eb);
	diag_list_init(&d);
	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/gong-test-plandry-XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		f->dir[0] = '\0';	/* nothing to remove */
		goto fail;
	}
	(void)snprintf(f->db, sizeof(f->db), "%s/gong.db", f->dir);
	if (store_open(f->db, 0, &f->s, &eb) != 0)
		goto fail;
	store_set_root(f->s, ROOT);
	if (import(f, ROSTER_REGIONS, regions_csv, "regions.csv") != 0 ||
	    import(f, ROSTER_RESPONDERS, responders_csv,
	    "responders.csv") != 0 ||
	    import(f, ROSTER_DEVICES, devices_csv, "devices.csv") != 0)
		goto fail;
	if (cfg_load_buf(config_yaml, strlen(config_yaml), "plan.yaml",
	    f->dir, &f->cfg, &d) != 0) {
		(void)snprintf(eb.msg, sizeof(eb.msg), "config: %s",
		    d.n > 0 ? d.v[0].msg : "refused");
		goto fail;
	}
	memset(&ic, 0, sizeof(ic));
	ic.db_path = f->db;
	ic.root = ROOT;
	ic.language = "zh-CN";
	ic.unknown_colour = 2;
	ic.division_value_names = dvn;
	if (ingest_new(&ic, &f->ig, &eb) != 0)
		goto fail;
	diag_list_release(&d);
	return 0;
fail:
	fprintf(stderr, "setup: %s\n", eb.msg);
	diag_list_release(&d);
	(void)teardown(state);
	return -1;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[200];
	int rv = 0;

	if (f->ig != NULL)
		ingest_free(f->ig);
	if (f->s != NULL)
		store_close(f->s);
	if (f->cfg != NULL)
		cfg_free(f->cfg);
	if (f->dir[0] != '\0') {
		(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
		if (system(cmd) != 0)
			rv = -1;
	}
	free(f);
	return rv;
}


/* A CAP message: id (identifier suffix), msgType, severity, references
 * ("" none) and the geocodes' <geocode> elements (codes separated by
 * spaces). */
static int
cap_xml(char *xml, size_t size, const char *id, const char *type,
    const char *severity, const char *refs, const char *codes)
{
	char rb[512], gc[1024], code[64];
	const char *p = codes;
	size_t n = 0;
	int k;

	rb[0] = gc[0] = '\0';
	if (refs[0] != '\0')
		assert_true(snprintf(rb, sizeof(rb),
		    "<references>%s</references>", refs) < (int)sizeof(rb));
	while (*p != '\0') {
		size_t l = strcspn(p, " ");

		assert_true(l < sizeof(code));
		memcpy(code, p, l);
		code[l] = '\0';
		k = snprintf(gc + n, sizeof(gc) - n, "<geocode><valueName>"
		    "GB/T 2260</valueName><value>%s</value></geocode>", code);
		assert_true(k > 0 && (size_t)k < sizeof(gc) - n);
		n += (size_t)k;
		p += l;
		p += strspn(p, " ");
	}
	k = snprintf(xml, size,
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\">"
	    "<identifier>T_%s</identifier><sender>14042541600000</sender>"
	    "<sent>2026-07-15T11:3%c:00+08:00</sent><status>Actual</status>"
	    "<msgType>%s</msgType><scope>Public</scope>%s"
	    "<info><language>zh-CN</language><category>Met</category>"
	    "<event>暴雨</event><urgency>Immediate</urgency>"
	    "<severity>%s</severity><certainty>Observed</certainty>"
	    "<expires>2099-07-16T11:30:00+08:00</expires>"
	    "<senderName>平顺县气象台</senderName>"
	    "<headline>暴雨预警</headline>"
	    "<area><areaDesc>区域</areaDesc>%s</area></info></alert>",
	    id, id[0], type, rb, severity, gc);
	assert_true(k > 0 && (size_t)k < size);
	return k;
}

static void
source(struct ingest_source *src)
{
	memset(src, 0, sizeof(*src));
	src->name = "test";
	src->via = "cli";
	src->cn_profile = 1;
}

/* Store and plan for real; the alert's id. */
static long long
store_and_plan(struct fx *f, const char *xml, size_t len,
    struct plan_stats *st)
{
	struct ingest_source src;
	struct ingest_result res;
	struct diag_list d;
	struct eng_errbuf eb;

	source(&src);
	diag_list_init(&d);
	eng_errbuf_init(&eb);
	assert_int_equal(ingest_cap(f->ig, &src, xml, len, &res, &d, &eb), 0);
	diag_list_release(&d);
	assert_int_equal(plan_alert(f->s, &f->cfg->routing, addr_of, NULL,
	    NULL, NULL, res.alert_id, NOW, 0, st, &eb), 0);
	return res.alert_id;
}

/* Lines, sorted, joined by '\n'. */
struct lines {
	char v[64][160];
	size_t n;
};

static int
cmp_line(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void
lines_join(struct lines *l, char *out, size_t size)
{
	size_t i, n = 0;
	int k;

	qsort(l->v, l->n, sizeof(l->v[0]), cmp_line);
	out[0] = '\0';
	for (i = 0; i < l->n; i++) {
		k = snprintf(out + n, size - n, "%s\n", l->v[i]);
		assert_true(k > 0 && (size_t)k < size - n);
		n += (size_t)k;
	}
}

static int
item_line(void *arg, const struct plan_item *it)
{
	struct lines *l = arg;

	assert_true(l->n < 64);
	assert_int_equal(it->deadline_ms, EXPIRES_MS);
	assert_true(snprintf(l->v[l->n++], sizeof(l->v[0]),
	    "%s %s %s %s %s p%d %s", it->channel, it->recipient, it->address,
	    it->role ? it->role : "-", it->region, it->priority, it->kind) <
	    (int)sizeof(l->v[0]));
	return 0;
}

static int
miss_line(void *arg, const char *channel, const struct store_person *p)
{
	struct lines *l = arg;

	assert_true(l->n < 64);
	assert_true(snprintf(l->v[l->n++], sizeof(l->v[0]), "no %s for %s",
	    channel, p->id) < (int)sizeof(l->v[0]));
	return 0;
}

static int
written_line(void *arg, const struct store_delivery *d)
{
	struct lines *l = arg;

	assert_true(l->n < 64);
	assert_true(snprintf(l->v[l->n++], sizeof(l->v[0]),
	    "%s %s %s %s %s p%d %s", d->channel, d->recipient, d->address,
	    d->role ? d->role : "-", d->region, d->priority, d->kind) <
	    (int)sizeof(l->v[0]));
	return 0;
}

/* The request for a preview. */
static void
request_of(const struct ingest_preview *p, struct plan_request *rq)
{
	memset(rq, 0, sizeof(*rq));
	rq->targets = (const char (*)[REGION_CODE_SIZE])p->targets;
	rq->ntargets = p->res.nregions;
	rq->colour = p->res.colour;
	rq->status = p->status;
	rq->msg_type = p->msg_type;
	rq->broadcast = p->store_broadcast;
	rq->chain_id = p->ref_chain_id;
	rq->deadline_ms = p->expires_ms;
}

/* Preview xml: rows and misses into *rows / *misses (joined). */
static void
preview(struct fx *f, const char *xml, size_t len, struct ingest_preview *p,
    struct plan_stats *st, char *rows, char *misses, size_t size)
{
	struct ingest_source src;
	struct plan_request rq;
	struct plan_visitor v;
	struct lines lr, lm;
	struct diag_list d;
	struct eng_errbuf eb;

	source(&src);
	diag_list_init(&d);
	eng_errbuf_init(&eb);
	assert_int_equal(ingest_preview(f->ig, &src, xml, len, p, &d, &eb),
	    0);
	diag_list_release(&d);
	request_of(p, &rq);
	memset(&lr, 0, sizeof(lr));
	memset(&lm, 0, sizeof(lm));
	/* misses go to their own list through a second visitor arg */
	v.item = item_line;
	v.no_address = NULL;
	v.arg = &lr;
	assert_int_equal(plan_preview(f->s, &f->cfg->routing, addr_of, NULL,
	    &rq, &v, st, &eb), 0);
	v.item = NULL;
	v.no_address = miss_line;
	v.arg = &lm;
	assert_int_equal(plan_preview(f->s, &f->cfg->routing, addr_of, NULL,
	    &rq, &v, st, &eb), 0);
	lines_join(&lr, rows, size);
	lines_join(&lm, misses, size);
}

static long long
alerts_stored(struct fx *f)
{
	struct store_alert_filter flt;
	struct eng_errbuf eb;
	long long total = -1;

	memset(&flt, 0, sizeof(flt));
	eng_errbuf_init(&eb);
	assert_int_equal(store_alerts_list(f->s, &flt, 0, 0, NULL, NULL,
	    &total, &eb), 0);
	return total;
}

/* ------------------------------------------------------------------ */
/* tests                                                               */
/* ------------------------------------------------------------------ */

/* Red for 青羊镇 (see test_plan.c's t_red_township for who and why). */
static const char red_rows[] =
    "loudspeaker d:LS-V1 zone/v1 loudspeaker 140425100201 p8 alert\n"
    "mail r:V2-1 v2@example.cn responsible 140425100202 p9 alert\n"
    "siren d:SR-V2 siren/v2 siren 140425100202 p8 alert\n"
    "sms r:C-D1 10000000001 duty_officer 140400000000 p9 alert\n"
    "sms r:T-D1 10000000006 duty_officer 140425100000 p9 alert\n"
    "sms r:V1-1 10000000008 responsible 140425100201 p9 alert\n"
    "sms r:V1-2 10000000009 warner 140425100201 p9 alert\n"
    "sms r:V2-1 10000000011 responsible 140425100202 p9 alert\n"
    "sms r:X-D1 10000000003 duty_officer 140425000000 p9 alert\n"
    "wecom d:GC-T chat/t group_chat 140425100000 p8 alert\n";

/* The preview visits exactly the rows plan_alert then writes, and
 * stores nothing. */
static void
t_preview_equals_written(void **state)
{
	struct fx *f = *state;
	struct ingest_preview p;
	struct plan_stats st, real;
	struct eng_errbuf eb;
	struct lines l;
	char xml[4096], rows[8192], misses[8192], got[8192];
	long long total = 0, a;
	int n;

	n = cap_xml(xml, sizeof(xml), "1red", "Alert", "Extreme", "",
	    "140425100");
	preview(f, xml, (size_t)n, &p, &st, rows, misses, sizeof(rows));
	assert_false(p.res.duplicate);
	assert_int_equal(p.res.alert_id, 0);
	assert_int_equal(p.res.state, INGEST_ACTIVE);
	assert_int_equal(p.res.colour, 4);		/* red */
	assert_int_equal(p.res.nregions, 1);
	assert_string_equal(p.targets[0], "140425100000");
	assert_string_equal(p.msg_type, "Alert");
	assert_string_equal(p.status, "Actual");
	assert_int_equal(p.expires_ms, EXPIRES_MS);
	assert_string_equal(p.alert->headline, "暴雨预警");
	assert_ptr_equal(p.alert->cap, xml);
	assert_string_equal(rows, red_rows);
	assert_string_equal(misses, "no mail for V1-1\nno sms for T-L1\n");
	assert_int_equal(st.people, 5);
	assert_int_equal(st.ancestors, 2);
	assert_int_equal(st.devices, 3);
	assert_int_equal(st.deliveries, 10);
	assert_int_equal(st.no_address, 2);
	ingest_preview_release(&p);
	assert_null(p.targets);
	assert_int_equal(alerts_stored(f), 0);

	/* For real now: the same rows, the same totals. */
	a = store_and_plan(f, xml, (size_t)n, &real);
	memset(&l, 0, sizeof(l));
	eng_errbuf_init(&eb);
	assert_int_equal(store_deliveries_list(f->s, a, NULL, NULL, 100, 0,
	    written_line, &l, &total, &eb), 0);
	lines_join(&l, got, sizeof(got));
	assert_string_equal(got, rows);
	assert_int_equal(real.deliveries, st.deliveries);
	assert_int_equal(real.people, st.people);
	assert_int_equal(real.ancestors, st.ancestors);
	assert_int_equal(real.devices, st.devices);
	assert_int_equal(real.no_address, st.no_address);

	/* The stored message previewed again: named, nothing added. */
	preview(f, xml, (size_t)n, &p, &st, rows, misses, sizeof(rows));
	assert_true(p.res.duplicate);
	assert_int_equal(p.res.alert_id, a);
	assert_string_equal(rows, red_rows);
	ingest_preview_release(&p);
	assert_int_equal(alerts_stored(f), 1);
}

/* The county, its township and a village all named: the village's
 * people are in three subtrees, the township's in two; each (channel,
 * recipient) is visited once, as the outbox keeps it once, and the rows
 * are what plan_alert writes.  (The county's duty officer is reached as
 * an officer above the township: no rule selects county people.) */
static void
t_overlapping_targets(void **state)
{
	struct fx *f = *state;
	struct ingest_preview p;
	struct plan_stats st, real;
	struct eng_errbuf eb;
	struct lines l;
	char xml[4096], rows[8192], misses[8192], got[8192];
	long long a, total = 0;
	int n;

	n = cap_xml(xml, sizeof(xml), "2both", "Alert", "Extreme", "",
	    "140425100 140425 140425100201");
	preview(f, xml, (size_t)n, &p, &st, rows, misses, sizeof(rows));
	assert_int_equal(p.res.nregions, 3);
	assert_string_equal(p.targets[0], "140425000000");	/* sorted */
	assert_string_equal(p.targets[2], "140425100201");
	assert_string_equal(rows,
	    "loudspeaker d:LS-O zone/o loudspeaker 140425101201 p8 alert\n"
	    "loudspeaker d:LS-V1 zone/v1 loudspeaker 140425100201 p8 alert\n"
	    "mail r:V2-1 v2@example.cn responsible 140425100202 p9 alert\n"
	    "siren d:SR-V2 siren/v2 siren 140425100202 p8 alert\n"
	    "sms r:C-D1 10000000001 duty_officer 140400000000 p9 alert\n"
	    "sms r:O-1 10000000012 responsible 140425101201 p9 alert\n"
	    "sms r:T-D1 10000000006 duty_officer 140425100000 p9 alert\n"
	    "sms r:V1-1 10000000008 responsible 140425100201 p9 alert\n"
	    "sms r:V1-2 10000000009 warner 140425100201 p9 alert\n"
	    "sms r:V2-1 10000000011 responsible 140425100202 p9 alert\n"
	    "sms r:X-D1 10000000003 duty_officer 140425000000 p9 alert\n"
	    "wecom d:GC-T chat/t group_chat 140425100000 p8 alert\n");
	assert_string_equal(misses,
	    "no mail for O-1\nno mail for V1-1\nno sms for T-L1\n");
	assert_int_equal(st.deliveries, 12);
	assert_int_equal(st.people, 6);		/* + O-1 */
	assert_int_equal(st.devices, 4);	/* + LS-O */
	assert_int_equal(st.no_address, 3);	/* each (person, channel)
						 * once */
	ingest_preview_release(&p);

	a = store_and_plan(f, xml, (size_t)n, &real);
	assert_int_equal(real.deliveries, 12);
	memset(&l, 0, sizeof(l));
	eng_errbuf_init(&eb);
	assert_int_equal(store_deliveries_list(f->s, a, NULL, NULL, 100, 0,
	    written_line, &l, &total, &eb), 0);
	lines_join(&l, got, sizeof(got));
	assert_string_equal(got, rows);
}

/* The summary visitor: counts by level, channel, role, devices by kind,
 * misses by channel, and the first row of each (channel, role). */
static void
t_summary(void **state)
{
	struct fx *f = *state;
	struct ingest_source src;
	struct ingest_preview p;
	struct plan_summary sum;
	struct plan_request rq;
	struct plan_visitor v;
	struct plan_stats st;
	struct diag_list d;
	struct eng_errbuf eb;
	char xml[4096];
	size_t i;
	int n;

	n = cap_xml(xml, sizeof(xml), "1red", "Alert", "Extreme", "",
	    "140425100");
	source(&src);
	diag_list_init(&d);
	eng_errbuf_init(&eb);
	assert_int_equal(ingest_preview(f->ig, &src, xml, (size_t)n, &p, &d,
	    &eb), 0);
	request_of(&p, &rq);
	plan_summary_init(&sum);
	plan_summary_visitor(&sum, &v);
	assert_int_equal(plan_preview(f->s, &f->cfg->routing, addr_of, NULL,
	    &rq, &v, &st, &eb), 0);
	assert_int_equal(sum.deliveries, 10);
	assert_int_equal(plan_counts_get(&sum.by_level, "city"), 1);
	assert_int_equal(plan_counts_get(&sum.by_level, "county"), 1);
	assert_int_equal(plan_counts_get(&sum.by_level, "township"), 2);
	assert_int_equal(plan_counts_get(&sum.by_level, "village"), 6);
	assert_int_equal(sum.by_level.n, 4);
	assert_int_equal(plan_counts_get(&sum.by_channel, "sms"), 6);
	assert_int_equal(plan_counts_get(&sum.by_channel, "mail"), 1);
	assert_int_equal(plan_counts_get(&sum.by_channel, "loudspeaker"), 1);
	assert_int_equal(plan_counts_get(&sum.by_channel, "siren"), 1);
	assert_int_equal(plan_counts_get(&sum.by_channel, "wecom"), 1);
	assert_int_equal(sum.by_channel.n, 5);
	assert_int_equal(plan_counts_get(&sum.by_role, "duty_officer"), 3);
	assert_int_equal(plan_counts_get(&sum.by_role, "responsible"), 3);
	assert_int_equal(plan_counts_get(&sum.by_role, "warner"), 1);
	assert_int_equal(plan_counts_get(&sum.by_role, "group_chat"), 1);
	assert_int_equal(plan_counts_get(&sum.devices_by_kind, "loudspeaker"),
	    1);
	assert_int_equal(plan_counts_get(&sum.devices_by_kind, "siren"), 1);
	assert_int_equal(plan_counts_get(&sum.devices_by_kind, "group_chat"),
	    1);
	assert_int_equal(sum.devices_by_kind.n, 3);
	assert_int_equal(plan_counts_get(&sum.no_address, "sms"), 1);
	assert_int_equal(plan_counts_get(&sum.no_address, "mail"), 1);
	assert_int_equal(plan_counts_get(&sum.no_address, "nothing"), 0);
	/* samples: sms x {responsible, warner, duty_officer}, mail, and the
	 * three devices */
	assert_int_equal(sum.nsamples, 7);
	for (i = 0; i < sum.nsamples; i++)
		assert_non_null(sum.samples[i].region);
	plan_summary_release(&sum);
	assert_int_equal(sum.nsamples, 0);
	ingest_preview_release(&p);
	diag_list_release(&d);
}

static int
id_of(void *arg, const struct store_delivery *d)
{
	*(long long *)arg = d->id;
	return 0;
}

/* An Update previews to those its chain reached (sent or delivered),
 * as kind "update", plus the subtree; a Cancel only to those. */
static void
t_update_and_cancel(void **state)
{
	struct fx *f = *state;
	struct ingest_preview p;
	struct plan_stats st, real;
	struct eng_errbuf eb;
	char xml[4096], rows[8192], misses[8192], ref[256];
	long long a, sid = 0;
	int n;

	n = cap_xml(xml, sizeof(xml), "1red", "Alert", "Extreme", "",
	    "140425100202");
	a = store_and_plan(f, xml, (size_t)n, &real);
	assert_int_equal(real.deliveries, 6);
	assert_true(snprintf(ref, sizeof(ref), "14042541600000,T_1red,"
	    "2026-07-15T11:31:00+08:00") < (int)sizeof(ref));
	n = cap_xml(xml, sizeof(xml), "3can", "Cancel", "Extreme", ref,
	    "140425100202");
	preview(f, xml, (size_t)n, &p, &st, rows, misses, sizeof(rows));
	assert_int_equal(p.ref_chain_id, a);
	assert_string_equal(rows, "");	/* nobody reached yet */
	ingest_preview_release(&p);

	/* The siren was reached. */
	eng_errbuf_init(&eb);
	assert_int_equal(store_deliveries_list(f->s, a, NULL, "siren", 1, 0,
	    id_of, &sid, NULL, &eb), 0);
	assert_true(sid > 0);
	assert_int_equal(store_delivery_set(f->s, sid, "sent", 1, 0, NULL,
	    NULL, 0, NOW, &eb), 0);
	preview(f, xml, (size_t)n, &p, &st, rows, misses, sizeof(rows));
	assert_string_equal(rows,
	    "siren d:SR-V2 siren/v2 siren 140425100202 p8 cancel\n");
	ingest_preview_release(&p);

	n = cap_xml(xml, sizeof(xml), "2upd", "Update", "Extreme", ref,
	    "140425100202");
	preview(f, xml, (size_t)n, &p, &st, rows, misses, sizeof(rows));
	assert_int_equal(st.deliveries, 6);	/* the siren once */
	assert_non_null(strstr(rows,
	    "siren d:SR-V2 siren/v2 siren 140425100202 p8 update\n"));
	ingest_preview_release(&p);
	assert_int_equal(alerts_stored(f), 1);
}

/* Bad CAP: refused as ingest_cap refuses it, the preview zeroed. */
static void
t_invalid(void **state)
{
	struct fx *f = *state;
	struct ingest_source src;
	struct ingest_preview p;
	struct diag_list d;
	struct eng_errbuf eb;
	static const char bad[] = "<?xml version=\"1.0\"?>\n<alert xmlns="
	    "\"urn:oasis:names:tc:emergency:cap:1.2\">\n<identifier>x"
	    "</identifier>\n</alert>\n";
	static const char hostile[] = "<?xml version=\"1.0\"?>\n"
	    "<!DOCTYPE a [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>\n"
	    "<alert>&e;</alert>\n";

	source(&src);
	diag_list_init(&d);
	eng_errbuf_init(&eb);
	memset(&p, 0xff, sizeof(p));
	assert_int_equal(ingest_preview(f->ig, &src, bad, sizeof(bad) - 1,
	    &p, &d, &eb), ENG_EINVAL);
	assert_null(p.targets);
	assert_null(p.alert);
	assert_true(d.nerrors > 0);
	assert_int_equal(d.v[0].line, 2);
	diag_list_release(&d);
	diag_list_init(&d);
	assert_int_equal(ingest_preview(f->ig, &src, hostile,
	    sizeof(hostile) - 1, &p, &d, &eb), ENG_EINVAL);
	assert_null(p.alert);
	diag_list_release(&d);
	assert_int_equal(alerts_stored(f), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_preview_equals_written,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(t_overlapping_targets, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_summary, setup, teardown),
		cmocka_unit_test_setup_teardown(t_update_and_cancel, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_invalid, setup, teardown),
	};

	return cmocka_run_group_tests_name("plan_dry", tests, NULL, NULL);
}
