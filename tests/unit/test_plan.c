/*
 * tests/unit/test_plan.c - the planner (engine/plan.c) on a small roster:
 * CAP alerts stored through ingest_cap, planned with plan_alert under a
 * routing policy loaded from YAML, and the deliveries written read back
 * whole (channel, recipient, address, role, priority, kind, deadline).
 * Also the outbox's receipt ordering (store_delivery_set): a receipt that
 * overtakes the driver's own report.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "channels/channel.h"
#include "config/cfg.h"
#include "engine/ingest.h"
#include "engine/plan.h"
#include "engine/planrun.h"
#include "engine/roster.h"
#include "engine/store.h"

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
	/* the preferences fixture's (as engine/dispatch.c tells them) */
	if (strcmp(channel, "voice") == 0)
		return CHAN_ADDR_PHONE | PLAN_ADDR_VOICE;
	if (strcmp(channel, "wx") == 0)
		return CHAN_ADDR_WECOM;
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
setup_with(void **state, const char *resp_csv, const char *yaml)
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
	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/gong-test-plan-XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		f->dir[0] = '\0';	/* nothing to remove */
		goto fail;
	}
	(void)snprintf(f->db, sizeof(f->db), "%s/gong.db", f->dir);
	if (store_open(f->db, 0, &f->s, &eb) != 0)
		goto fail;
	store_set_root(f->s, ROOT);
	if (import(f, ROSTER_REGIONS, regions_csv, "regions.csv") != 0 ||
	    import(f, ROSTER_RESPONDERS, resp_csv,
	    "responders.csv") != 0 ||
	    import(f, ROSTER_DEVICES, devices_csv, "devices.csv") != 0)
		goto fail;
	if (cfg_load_buf(yaml, strlen(yaml), "plan.yaml",
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
setup(void **state)
{
	return setup_with(state, responders_csv, config_yaml);
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

/* ------------------------------------------------------------------ */
/* CAP in                                                              */
/* ------------------------------------------------------------------ */

/*
 * A CAP message: id names it (identifier suffix), status, msgType,
 * severity, refs (references, or ""), geocode (division code).
 */
static long long
post(struct fx *f, const char *id, const char *status, const char *type,
    const char *severity, const char *refs, const char *geocode)
{
	char xml[4096], rb[512];
	struct ingest_source src;
	struct ingest_result res;
	struct diag_list d;
	struct eng_errbuf eb;
	int n, rv;

	rb[0] = '\0';
	if (refs[0] != '\0')
		assert_true(snprintf(rb, sizeof(rb),
		    "<references>%s</references>", refs) < (int)sizeof(rb));
	n = snprintf(xml, sizeof(xml),
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\">"
	    "<identifier>T_%s</identifier><sender>14042541600000</sender>"
	    "<sent>2026-07-15T11:3%c:00+08:00</sent><status>%s</status>"
	    "<msgType>%s</msgType><scope>Public</scope>%s"
	    "<info><language>zh-CN</language><category>Met</category>"
	    "<event>暴雨</event><urgency>Immediate</urgency>"
	    "<severity>%s</severity><certainty>Observed</certainty>"
	    "<expires>2099-07-16T11:30:00+08:00</expires>"
	    "<senderName>平顺县气象台</senderName>"
	    "<headline>暴雨预警</headline>"
	    "<area><areaDesc>区域</areaDesc><geocode><valueName>GB/T 2260"
	    "</valueName><value>%s</value></geocode></area></info></alert>",
	    id, id[0], status, type, rb, severity, geocode);
	assert_true(n > 0 && n < (int)sizeof(xml));
	memset(&src, 0, sizeof(src));
	src.name = "test";
	src.via = "cli";
	src.cn_profile = 1;
	diag_list_init(&d);
	eng_errbuf_init(&eb);
	rv = ingest_cap(f->ig, &src, xml, (size_t)n, &res, &d, &eb);
	if (rv != 0)
		fprintf(stderr, "ingest: %s\n", eb.msg);
	assert_int_equal(rv, 0);
	assert_false(res.duplicate);
	diag_list_release(&d);
	return res.alert_id;
}

/* The references value for the message post() made with id. */
static void
ref_of(const char *id, char *out, size_t size)
{
	assert_true(snprintf(out, size, "14042541600000,T_%s,"
	    "2026-07-15T11:3%c:00+08:00", id, id[0]) < (int)size);
}

static int
plan(struct fx *f, long long alert, int dry, struct plan_stats *st)
{
	struct eng_errbuf eb;
	int rv;

	eng_errbuf_init(&eb);
	rv = plan_alert(f->s, &f->cfg->routing, addr_of, NULL, NULL, NULL,
	    alert, NOW, dry, st, &eb);
	if (rv != 0)
		fprintf(stderr, "plan: %s\n", eb.msg);
	return rv;
}

/* ------------------------------------------------------------------ */
/* deliveries read back                                                */
/* ------------------------------------------------------------------ */

/* Lines and delivery ids, sorted together (the id follows the text). */
struct lines {
	char v[64][160];
	size_t n;
	long long ids[64];
	int64_t deadline;
	int bad_deadline;
};

static int
line_cb(void *arg, const struct store_delivery *d)
{
	struct lines *l = arg;

	assert_true(l->n < 64);
	assert_true(snprintf(l->v[l->n], sizeof(l->v[0]),
	    "%s %s %s %s %s p%d %s %s%c%lld", d->channel, d->recipient,
	    d->address, d->role ? d->role : "-", d->region, d->priority,
	    d->kind, d->state, '\0', d->id) < (int)sizeof(l->v[0]));
	if (d->deadline_ms != l->deadline)
		l->bad_deadline = 1;
	l->n++;
	return 0;
}

static int
cmp_line(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Every delivery of alert, one line each, sorted, joined by '\n'. */
static void
deliveries(struct fx *f, long long alert, char *out, size_t size,
    struct lines *l)
{
	struct eng_errbuf eb;
	long long total = 0;
	size_t i, n = 0;

	memset(l, 0, sizeof(*l));
	l->deadline = EXPIRES_MS;
	eng_errbuf_init(&eb);
	assert_int_equal(store_deliveries_list(f->s, alert, NULL, NULL, 1000,
	    0, line_cb, l, &total, &eb), 0);
	assert_int_equal(total, (long long)l->n);
	assert_false(l->bad_deadline);
	qsort(l->v, l->n, sizeof(l->v[0]), cmp_line);
	out[0] = '\0';
	for (i = 0; i < l->n; i++) {
		/* the id was written after the text's NUL */
		l->ids[i] = strtoll(l->v[i] + strlen(l->v[i]) + 1, NULL, 10);
		int k = snprintf(out + n, size - n, "%s\n", l->v[i]);

		assert_true(k > 0 && (size_t)k < size - n);
		n += (size_t)k;
	}
}

/* ------------------------------------------------------------------ */
/* tests                                                               */
/* ------------------------------------------------------------------ */

/*
 * Red for 青羊镇: the township's and villages' active responders by SMS
 * (T-L1 has no phone: no_address), the villages' responsible persons
 * also by mail (V1-1 has no e-mail: no_address), the duty officers of
 * 平顺县 and 长治市 (X-D2 is inactive; leaders are not informed), the
 * loudspeaker, siren and group chat of the subtree; not the county's
 * radio (above the target), not another township, not another county.
 */
static const char red_want[] =
    "loudspeaker d:LS-V1 zone/v1 loudspeaker 140425100201 p8 alert "
    "pending\n"
    "mail r:V2-1 v2@example.cn responsible 140425100202 p9 alert "
    "pending\n"
    "siren d:SR-V2 siren/v2 siren 140425100202 p8 alert pending\n"
    "sms r:C-D1 10000000001 duty_officer 140400000000 p9 alert pending\n"
    "sms r:T-D1 10000000006 duty_officer 140425100000 p9 alert pending\n"
    "sms r:V1-1 10000000008 responsible 140425100201 p9 alert pending\n"
    "sms r:V1-2 10000000009 warner 140425100201 p9 alert pending\n"
    "sms r:V2-1 10000000011 responsible 140425100202 p9 alert pending\n"
    "sms r:X-D1 10000000003 duty_officer 140425000000 p9 alert pending\n"
    "wecom d:GC-T chat/t group_chat 140425100000 p8 alert pending\n";

static void
t_red_township(void **state)
{
	struct fx *f = *state;
	struct plan_stats st;
	struct lines l;
	char got[8192];
	long long a;

	a = post(f, "1red", "Actual", "Alert", "Extreme", "", "140425100");
	assert_int_equal(plan(f, a, 0, &st), 0);
	deliveries(f, a, got, sizeof(got), &l);
	assert_string_equal(got, red_want);
	assert_int_equal(st.people, 5);		/* T-D1 T-L1 V1-1 V1-2 V2-1 */
	assert_int_equal(st.ancestors, 2);	/* X-D1 C-D1 */
	assert_int_equal(st.devices, 3);
	assert_int_equal(st.deliveries, 10);
	assert_int_equal(st.no_address, 2);	/* T-L1 sms, V1-1 mail */
	assert_int_equal(st.skipped_exercise, 0);
}

/* Planning again writes nothing new (unique per alert, channel,
 * recipient); a dry run counts and writes nothing. */
static void
t_plan_twice_and_dry_run(void **state)
{
	struct fx *f = *state;
	struct plan_stats st;
	struct lines l;
	char got[8192];
	long long a, b;

	a = post(f, "1red", "Actual", "Alert", "Extreme", "", "140425100");
	assert_int_equal(plan(f, a, 0, &st), 0);
	assert_int_equal(st.deliveries, 10);
	assert_true(st.write_us > 0);	/* its one transaction, timed */
	assert_int_equal(plan(f, a, 0, &st), 0);
	assert_int_equal(st.deliveries, 0);
	assert_int_equal(st.people, 5);
	deliveries(f, a, got, sizeof(got), &l);
	assert_string_equal(got, red_want);

	b = post(f, "2red", "Actual", "Alert", "Extreme", "", "140425100202");
	assert_int_equal(plan(f, b, 1, &st), 0);
	/* V2-1 by sms and mail, SR-V2, T-D1 X-D1 C-D1 above */
	assert_int_equal(st.deliveries, 6);
	assert_int_equal(st.write_us, 0);	/* nothing written */
	assert_int_equal(st.people, 1);
	assert_int_equal(st.ancestors, 3);
	assert_int_equal(st.devices, 1);
	deliveries(f, b, got, sizeof(got), &l);
	assert_string_equal(got, "");
}

/* Yellow: people by SMS (not the red-only mail rule), the group chat,
 * no loudspeaker or siren; lower priority. */
static void
t_yellow(void **state)
{
	struct fx *f = *state;
	struct plan_stats st;
	struct lines l;
	char got[8192];
	long long a;

	a = post(f, "1yel", "Actual", "Alert", "Moderate", "", "140425100");
	assert_int_equal(plan(f, a, 0, &st), 0);
	deliveries(f, a, got, sizeof(got), &l);
	assert_string_equal(got,
	    "sms r:C-D1 10000000001 duty_officer 140400000000 p5 alert "
	    "pending\n"
	    "sms r:T-D1 10000000006 duty_officer 140425100000 p5 alert "
	    "pending\n"
	    "sms r:V1-1 10000000008 responsible 140425100201 p5 alert "
	    "pending\n"
	    "sms r:V1-2 10000000009 warner 140425100201 p5 alert pending\n"
	    "sms r:V2-1 10000000011 responsible 140425100202 p5 alert "
	    "pending\n"
	    "sms r:X-D1 10000000003 duty_officer 140425000000 p5 alert "
	    "pending\n"
	    "wecom d:GC-T chat/t group_chat 140425100000 p4 alert pending\n");
	assert_int_equal(st.no_address, 1);	/* T-L1 */
}

/* An exercise reaches exercise participants only, and no device. */
static void
t_exercise(void **state)
{
	struct fx *f = *state;
	struct plan_stats st;
	struct lines l;
	char got[8192];
	long long a;

	a = post(f, "1exe", "Exercise", "Alert", "Extreme", "", "140425100");
	assert_int_equal(plan(f, a, 0, &st), 0);
	deliveries(f, a, got, sizeof(got), &l);
	assert_string_equal(got,
	    "sms r:V1-2 10000000009 warner 140425100201 p9 alert pending\n"
	    "sms r:X-D1 10000000003 duty_officer 140425000000 p9 alert "
	    "pending\n");
	assert_int_equal(st.devices, 0);
	/* T-D1 T-L1 V1-1 V2-1 below, C-D1 above */
	assert_int_equal(st.skipped_exercise, 5);
}

static int
count_cb(void *arg, const struct store_alert *a)
{
	(void)a;
	(*(int *)arg)++;
	return 0;
}

/* An alert whose area matches nothing of the roster is not offered for
 * planning, and planning it anyway writes nothing; a planned alert is
 * not offered again. */
static void
t_unmatched_area(void **state)
{
	struct fx *f = *state;
	struct plan_stats st;
	struct eng_errbuf eb;
	struct lines l;
	char got[64];
	long long a, b;
	int count = 0;

	eng_errbuf_init(&eb);
	a = post(f, "1far", "Actual", "Alert", "Extreme", "", "110101");
	assert_int_equal(store_alerts_unplanned(f->s, 10, count_cb, &count,
	    &eb), 0);
	assert_int_equal(count, 0);
	assert_int_equal(plan(f, a, 0, &st), 0);
	assert_int_equal(st.deliveries, 0);
	assert_int_equal(st.people + st.ancestors + st.devices, 0);
	deliveries(f, a, got, sizeof(got), &l);
	assert_string_equal(got, "");

	b = post(f, "2red", "Actual", "Alert", "Extreme", "", "140425100202");
	assert_int_equal(store_alerts_unplanned(f->s, 10, count_cb, &count,
	    &eb), 0);
	assert_int_equal(count, 1);
	assert_int_equal(plan(f, b, 0, &st), 0);
	count = 0;
	assert_int_equal(store_alerts_unplanned(f->s, 10, count_cb, &count,
	    &eb), 0);
	assert_int_equal(count, 0);
}

/* Set every delivery of l to state (as the dispatcher would). */
static void
set_all(struct fx *f, const struct lines *l, const char *state)
{
	struct eng_errbuf eb;
	size_t i;

	eng_errbuf_init(&eb);
	for (i = 0; i < l->n; i++)
		assert_int_equal(store_delivery_set(f->s, l->ids[i], state, 1,
		    0, NULL, NULL, 0, NOW, &eb), 0);
}

/*
 * An Update widens the area from 后店村 to 青羊镇: those the alert reached
 * get the update, and so do the new regions' people; a Cancel goes only
 * to those the chain reached (sent or delivered), not to those whose
 * delivery was still pending or had failed.
 */
static void
t_update_then_cancel(void **state)
{
	struct fx *f = *state;
	struct plan_stats st;
	struct eng_errbuf eb;
	struct lines l;
	char got[8192], ref[160], refs[400];
	long long a, u, c;

	eng_errbuf_init(&eb);
	a = post(f, "1vil", "Actual", "Alert", "Extreme", "", "140425100201");
	assert_int_equal(plan(f, a, 0, &st), 0);
	deliveries(f, a, got, sizeof(got), &l);
	assert_string_equal(got,
	    "loudspeaker d:LS-V1 zone/v1 loudspeaker 140425100201 p8 alert "
	    "pending\n"
	    "sms r:C-D1 10000000001 duty_officer 140400000000 p9 alert "
	    "pending\n"
	    "sms r:T-D1 10000000006 duty_officer 140425100000 p9 alert "
	    "pending\n"
	    "sms r:V1-1 10000000008 responsible 140425100201 p9 alert "
	    "pending\n"
	    "sms r:V1-2 10000000009 warner 140425100201 p9 alert pending\n"
	    "sms r:X-D1 10000000003 duty_officer 140425000000 p9 alert "
	    "pending\n");
	set_all(f, &l, "sent");

	ref_of("1vil", ref, sizeof(ref));
	u = post(f, "2upd", "Actual", "Update", "Extreme", ref, "140425100");
	assert_int_equal(plan(f, u, 0, &st), 0);
	deliveries(f, u, got, sizeof(got), &l);
	{
		/* Everything of red_want, as an update. */
		char want[8192];
		const char *p;
		size_t n = 0;

		for (p = red_want; *p != '\0'; p++) {
			if (strncmp(p, " alert ", 7) == 0) {
				memcpy(want + n, " update ", 8);
				n += 8;
				p += 6;
				continue;
			}
			want[n++] = *p;
		}
		want[n] = '\0';
		assert_string_equal(got, want);
	}
	assert_int_equal(st.deliveries, 10);
	/* Some of the update's deliveries reach their people, one fails,
	 * the others are still pending when the cancel comes. */
	for (size_t i = 0; i < l.n; i++) {
		if (strstr(l.v[i], "r:V2-1") != NULL &&
		    strncmp(l.v[i], "sms", 3) == 0)
			assert_int_equal(store_delivery_set(f->s, l.ids[i],
			    "delivered", 0, 0, "gw", NULL, 0, NOW, &eb), 0);
		if (strstr(l.v[i], "d:SR-V2") != NULL)
			assert_int_equal(store_delivery_set(f->s, l.ids[i],
			    "failed", 1, 0, NULL, "offline", 0, NOW, &eb), 0);
	}

	ref_of("2upd", refs, sizeof(refs));
	(void)snprintf(refs + strlen(refs), sizeof(refs) - strlen(refs),
	    " %s", ref);
	c = post(f, "3can", "Actual", "Cancel", "Extreme", refs, "140425100");
	assert_int_equal(plan(f, c, 0, &st), 0);
	deliveries(f, c, got, sizeof(got), &l);
	assert_string_equal(got,
	    "loudspeaker d:LS-V1 zone/v1 loudspeaker 140425100201 p8 cancel "
	    "pending\n"
	    "sms r:C-D1 10000000001 duty_officer 140400000000 p9 cancel "
	    "pending\n"
	    "sms r:T-D1 10000000006 duty_officer 140425100000 p9 cancel "
	    "pending\n"
	    "sms r:V1-1 10000000008 responsible 140425100201 p9 cancel "
	    "pending\n"
	    "sms r:V1-2 10000000009 warner 140425100201 p9 cancel pending\n"
	    "sms r:V2-1 10000000011 responsible 140425100202 p9 cancel "
	    "pending\n"
	    "sms r:X-D1 10000000003 duty_officer 140425000000 p9 cancel "
	    "pending\n");
	assert_int_equal(st.people + st.ancestors + st.devices, 0);
}

/* ------------------------------------------------------------------ */
/* the outbox: receipts and reports in either order                    */
/* ------------------------------------------------------------------ */

struct one {
	char state[16];
	int attempts;
	char gw[64];
	char err[64];
};

static int
one_cb(void *arg, const struct store_delivery *d)
{
	struct one *o = arg;

	(void)snprintf(o->state, sizeof(o->state), "%s", d->state);
	o->attempts = d->attempts;
	(void)snprintf(o->gw, sizeof(o->gw), "%s",
	    d->gateway_id ? d->gateway_id : "-");
	(void)snprintf(o->err, sizeof(o->err), "%s",
	    d->last_error ? d->last_error : "-");
	return 0;
}

static void
get_one(struct fx *f, long long id, struct one *o)
{
	struct eng_errbuf eb;

	eng_errbuf_init(&eb);
	memset(o, 0, sizeof(*o));
	assert_int_equal(store_delivery_get(f->s, id, one_cb, o, &eb), 0);
}

static long long
first_sms(struct fx *f, long long alert)
{
	struct lines l;
	char got[8192];
	size_t i;

	deliveries(f, alert, got, sizeof(got), &l);
	for (i = 0; i < l.n; i++)
		if (strncmp(l.v[i], "sms r:V1-1 ", 11) == 0)
			return l.ids[i];
	fail();
	return 0;
}

static int
claimed_cb(void *arg, const struct store_delivery *d)
{
	long long *n = arg;

	assert_string_equal(d->state, "sending");
	(*n)++;
	return 0;
}

/*
 * Claimed (sending, under a lease), then the channel's "sent": the row
 * leaves the claims for good; the others are claimed again once their
 * lease ran out; the receipt moves it to delivered.
 */
static void
t_claim_then_sent(void **state)
{
	struct fx *f = *state;
	struct plan_stats st;
	struct eng_errbuf eb;
	struct one o;
	long long a, id, n = 0, again = 0;

	eng_errbuf_init(&eb);
	a = post(f, "1red", "Actual", "Alert", "Extreme", "", "140425100");
	assert_int_equal(plan(f, a, 0, &st), 0);
	id = first_sms(f, a);
	assert_int_equal(store_deliveries_claim(f->s, NOW + 1, 60000, 10000,
	    claimed_cb, &n, &eb), 0);
	assert_true(n > 1);
	get_one(f, id, &o);
	assert_string_equal(o.state, "sending");
	assert_int_equal(o.attempts, 0);
	assert_int_equal(store_delivery_set(f->s, id, "sent", 1, 0, "k-1",
	    NULL, 2, NOW + 10, &eb), 0);
	get_one(f, id, &o);
	assert_string_equal(o.state, "sent");
	assert_int_equal(o.attempts, 1);
	assert_string_equal(o.gw, "k-1");
	/* Nothing due before the leases run out; then all but the sent. */
	assert_int_equal(store_deliveries_claim(f->s, NOW + 30000, 60000,
	    10000, claimed_cb, &again, &eb), 0);
	assert_int_equal(again, 0);
	assert_int_equal(store_deliveries_claim(f->s, NOW + 60002, 60000,
	    10000, claimed_cb, &again, &eb), 0);
	assert_int_equal(again, n - 1);
	assert_int_equal(store_delivery_set(f->s, id, "delivered", 0, 0,
	    NULL, NULL, 0, NOW + 20, &eb), 0);
	get_one(f, id, &o);
	assert_string_equal(o.state, "delivered");
	assert_int_equal(o.attempts, 1);
	assert_string_equal(o.gw, "k-1");
}

/* ------------------------------------------------------------------ */
/* Large plans: pages of people, chunks                                */
/* ------------------------------------------------------------------ */

/* People added to each of 青羊镇's two villages: grid workers to the
 * first, warners (who act first) to the second. */
#define MANY	1300

static int
setup_many(void **state)
{
	size_t size = sizeof(responders_csv) + 2 * MANY * 80 + 256, n;
	char *csv = malloc(size);
	int i, rv;

	assert_non_null(csv);
	n = (size_t)snprintf(csv, size, "%s", responders_csv);
	/* Ids that begin with their region's code, as a real roster's do. */
	for (i = 0; i < 2 * MANY; i++)
		n += (size_t)snprintf(csv + n, size - n,
		    "14042510020%d-%04d,人%d,14042510020%d,%s,13%09d,,,"
		    "yes,no\n", i < MANY ? 1 : 2, i % MANY, i,
		    i < MANY ? 1 : 2, i < MANY ? "grid_worker" : "warner", i);
	n += (size_t)snprintf(csv + n, size - n,
	    "140425100000-D1,镇值班一,140425100000,duty_officer,13900000001,,,yes,no\n"
	    "140425100000-D2,镇值班二,140425100000,duty_officer,13800000001,,,yes,no\n"
	    "140425101000-D1,乡值班一,140425101000,duty_officer,13900000002,,,yes,no\n"
	    "140425101000-D2,乡值班二,140425101000,duty_officer,13800000002,,,yes,no\n");
	assert_true(n < size);
	rv = setup_with(state, csv, config_yaml);
	free(csv);
	return rv;
}

struct walk {
	long long n;
	char last[64];
	int unordered;
	char path_of_last[16];
};

static int
walk_cb(void *arg, const struct store_person *p)
{
	struct walk *w = arg;
	char key[64];

	/* (region, id) stands for (path, id) here: the regions' codes sort
	 * as their paths do in this roster. */
	(void)snprintf(key, sizeof(key), "%s/%s", p->region, p->id);
	if (w->n > 0 && strcmp(key, w->last) <= 0)
		w->unordered++;
	(void)snprintf(w->last, sizeof(w->last), "%s", key);
	w->n++;
	return 0;
}

/*
 * store_people reads pages of PAGE_ROWS (512) rows: every active person once,
 * in order, across pages whose boundaries fall inside a region; and for
 * one region alone.
 */
static void
t_people_pages(void **state)
{
	struct fx *f = *state;
	struct eng_errbuf eb;
	struct walk w;

	eng_errbuf_init(&eb);
	memset(&w, 0, sizeof(w));
	assert_int_equal(store_people(f->s, ROOT, 1, walk_cb, &w, &eb), 0);
	assert_int_equal(w.n, 15 + 2 * MANY);	/* 11 active before, 4 */
	assert_int_equal(w.unordered, 0);
	memset(&w, 0, sizeof(w));
	assert_int_equal(store_people(f->s, "140425100201", 0, walk_cb, &w,
	    &eb), 0);
	assert_int_equal(w.n, 2 + MANY);
	assert_int_equal(w.unordered, 0);
	assert_string_equal(w.last, "140425100201/V1-2");
}

struct chunks {
	struct fx *f;
	long long alert;
	int calls, stop_at;
	long long seen_first;	/* deliveries another connection saw */
	int planned_at_first;
	int own_only;		/* no other connection: count calls only */
};

static int
sum_cb(void *arg, const char *state, const char *channel, long long n)
{
	(void)state;
	(void)channel;
	*(long long *)arg += n;
	return 0;
}

static int
unplanned_id_cb(void *arg, const struct store_alert *a)
{
	struct chunks *c = arg;

	if (a->id == c->alert)
		c->planned_at_first = 0;
	return 0;
}

/* The chunks committed whole of a plan of n deliveries: a first one of
 * PLAN_FIRST_CHUNK, then PLAN_CHUNK each. */
static int
full_chunks(long long n)
{
	return n < PLAN_FIRST_CHUNK ? 0 :
	    1 + (int)((n - PLAN_FIRST_CHUNK) / PLAN_CHUNK);
}

/* plan_chunk_fn: what another connection sees after the first chunk. */
static int
chunk_cb(void *arg)
{
	struct chunks *c = arg;
	struct store *other;
	struct eng_errbuf eb;

	eng_errbuf_init(&eb);
	if (++c->calls == 1 && !c->own_only) {
		assert_int_equal(store_open(c->f->db, 0, &other, &eb), 0);
		assert_int_equal(store_delivery_counts(other, c->alert,
		    sum_cb, &c->seen_first, &eb), 0);
		c->planned_at_first = 1;
		assert_int_equal(store_alerts_unplanned(other, 100,
		    unplanned_id_cb, c, &eb), 0);
		store_close(other);
	}
	return c->stop_at > 0 && c->calls >= c->stop_at;
}

/*
 * A plan of more than PLAN_FIRST_CHUNK deliveries is committed chunk by
 * chunk: after the first, another connection (the dispatcher's) sees its
 * deliveries while the alert is not yet planned.  A plan stopped there
 * is ENG_ETEMP and leaves the alert unplanned; planned again, it ends
 * with exactly the deliveries of a plan never stopped.
 */
static void
t_chunks(void **state)
{
	struct fx *f = *state;
	struct plan_stats st, st2;
	struct eng_errbuf eb;
	struct chunks c;
	long long a, b, na = 0, nb = 0;

	eng_errbuf_init(&eb);
	a = post(f, "1red", "Actual", "Alert", "Extreme", "", "140425100");
	memset(&c, 0, sizeof(c));
	c.f = f;
	c.alert = a;
	assert_int_equal(plan_alert(f->s, &f->cfg->routing, addr_of, NULL,
	    chunk_cb, &c, a, NOW, 0, &st, &eb), 0);
	assert_true(st.deliveries > PLAN_FIRST_CHUNK + PLAN_CHUNK);
	assert_int_equal(c.calls, full_chunks(st.deliveries));
	/* The first chunk small: the first SMS waits for no more. */
	assert_int_equal(c.seen_first, PLAN_FIRST_CHUNK);
	assert_int_equal(c.planned_at_first, 0);
	assert_int_equal(store_delivery_counts(f->s, a, sum_cb, &na, &eb),
	    0);
	assert_int_equal(na, st.deliveries);

	b = post(f, "2red", "Actual", "Alert", "Extreme", "", "140425100");
	memset(&c, 0, sizeof(c));
	c.f = f;
	c.alert = b;
	c.stop_at = 1;
	assert_int_equal(plan_alert(f->s, &f->cfg->routing, addr_of, NULL,
	    chunk_cb, &c, b, NOW, 0, &st2, &eb), ENG_ETEMP);
	assert_non_null(strstr(eb.msg, "planning stopped"));
	assert_int_equal(store_delivery_counts(f->s, b, sum_cb, &nb, &eb),
	    0);
	assert_int_equal(nb, PLAN_FIRST_CHUNK);
	c.planned_at_first = 1;
	assert_int_equal(store_alerts_unplanned(f->s, 100, unplanned_id_cb,
	    &c, &eb), 0);
	assert_int_equal(c.planned_at_first, 0);
	assert_int_equal(plan_alert(f->s, &f->cfg->routing, addr_of, NULL,
	    NULL, NULL, b, NOW, 0, &st2, &eb), 0);
	nb = 0;
	assert_int_equal(store_delivery_counts(f->s, b, sum_cb, &nb, &eb),
	    0);
	assert_int_equal(nb, na);
	assert_int_equal(st2.deliveries, na - PLAN_FIRST_CHUNK);
}

/* Run sql on f's database from a connection of the test's own. */
static void
exec_sql(struct fx *f, const char *sql)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/* f's alert a: its deliveries, and whether it is still unplanned. */
static long long
count_of(struct fx *f, long long a, int *unplanned)
{
	struct eng_errbuf eb;
	struct chunks c;
	long long n = 0;

	eng_errbuf_init(&eb);
	assert_int_equal(store_delivery_counts(f->s, a, sum_cb, &n, &eb), 0);
	memset(&c, 0, sizeof(c));
	c.alert = a;
	c.planned_at_first = 1;
	assert_int_equal(store_alerts_unplanned(f->s, 100, unplanned_id_cb,
	    &c, &eb), 0);
	*unplanned = !c.planned_at_first;
	return n;
}

/*
 * A large plan's full chunks are written by a connection and thread of
 * their own while the roster is read; the last chunk by the caller's
 * connection.  A chunk that fails in either (here a trigger refuses
 * rows past a number) fails the plan with that error: the chunks
 * committed before are kept, nothing of the failed one, and the alert
 * stays unplanned.  Planned again once the rows are accepted, it has
 * every delivery, as an alert planned in one go.
 */
static void
t_chunk_writer_fails(void **state)
{
	struct fx *f = *state;
	struct plan_stats st;
	struct eng_errbuf eb;
	char sql[400];
	long long a, b, na, nb;
	int unplanned;

	eng_errbuf_init(&eb);
	a = post(f, "1red", "Actual", "Alert", "Extreme", "", "140425100");
	/* The first chunk, the writer's, fails. */
	exec_sql(f, "CREATE TRIGGER refuse BEFORE INSERT ON deliveries "
	    "WHEN (SELECT coalesce(max(id), 0) FROM deliveries) >= 5 "
	    "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END");
	assert_int_not_equal(plan_alert(f->s, &f->cfg->routing, addr_of,
	    NULL, NULL, NULL, a, NOW, 0, &st, &eb), 0);
	assert_non_null(strstr(eb.msg, "refused by the test"));
	assert_int_equal(count_of(f, a, &unplanned), 0);
	assert_true(unplanned);
	/* The last one, the caller's, after the writer's two. */
	(void)snprintf(sql, sizeof(sql), "DROP TRIGGER refuse; "
	    "CREATE TRIGGER refuse BEFORE INSERT ON deliveries "
	    "WHEN (SELECT coalesce(max(id), 0) FROM deliveries) >= %d "
	    "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
	    PLAN_FIRST_CHUNK + PLAN_CHUNK + 5);
	exec_sql(f, sql);
	eng_errbuf_init(&eb);
	assert_int_not_equal(plan_alert(f->s, &f->cfg->routing, addr_of,
	    NULL, NULL, NULL, a, NOW, 0, &st, &eb), 0);
	assert_non_null(strstr(eb.msg, "refused by the test"));
	assert_int_equal(count_of(f, a, &unplanned),
	    PLAN_FIRST_CHUNK + PLAN_CHUNK);
	assert_true(unplanned);

	exec_sql(f, "DROP TRIGGER refuse");
	assert_int_equal(plan_alert(f->s, &f->cfg->routing, addr_of, NULL,
	    NULL, NULL, a, NOW, 0, &st, &eb), 0);
	na = count_of(f, a, &unplanned);
	assert_false(unplanned);
	b = post(f, "2red", "Actual", "Alert", "Extreme", "", "140425100");
	assert_int_equal(plan_alert(f->s, &f->cfg->routing, addr_of, NULL,
	    NULL, NULL, b, NOW, 0, &st, &eb), 0);
	nb = count_of(f, b, &unplanned);
	assert_true(nb > PLAN_FIRST_CHUNK + PLAN_CHUNK);
	assert_int_equal(na, nb);
	assert_int_equal(st.deliveries, nb);
	/* Both threads' transactions timed: at least one a chunk. */
	assert_true(st.write_us >= (int64_t)full_chunks(nb));
}

/*
 * The database file moved away while gongd runs: no second connection
 * can be had on its path (a new file there would be another database),
 * so the planner's own connection writes every chunk, and the plan is
 * whole all the same.
 */
static void
t_chunks_one_connection(void **state)
{
	struct fx *f = *state;
	struct plan_stats st;
	struct eng_errbuf eb;
	struct chunks c;
	char moved[200];
	long long a, n;
	int unplanned;

	eng_errbuf_init(&eb);
	a = post(f, "1red", "Actual", "Alert", "Extreme", "", "140425100");
	(void)snprintf(moved, sizeof(moved), "%s.moved", f->db);
	assert_int_equal(rename(f->db, moved), 0);
	memset(&c, 0, sizeof(c));
	c.f = f;
	c.alert = a;
	c.own_only = 1;	/* a connection on the moved file would not
			 * find its write-ahead log */
	assert_int_equal(plan_alert(f->s, &f->cfg->routing, addr_of, NULL,
	    chunk_cb, &c, a, NOW, 0, &st, &eb), 0);
	assert_true(st.deliveries > PLAN_FIRST_CHUNK + PLAN_CHUNK);
	assert_int_equal(c.calls, full_chunks(st.deliveries));
	assert_int_not_equal(access(f->db, F_OK), 0);	/* none made */
	n = count_of(f, a, &unplanned);
	assert_int_equal(n, st.deliveries);
	assert_false(unplanned);
	assert_int_equal(rename(moved, f->db), 0);
}

struct order {
	long long n, first, last_first, first_rest;
	char rest_role[32];
};

static int
order_cb(void *arg, const struct store_delivery *d)
{
	struct order *o = arg;
	int first = d->role != NULL && (strcmp(d->role, "responsible") == 0 ||
	    strcmp(d->role, "duty_officer") == 0 ||
	    strcmp(d->role, "warner") == 0);

	o->n++;
	if (first) {
		o->first++;
		o->last_first = d->id;
	} else if (o->first_rest == 0) {
		o->first_rest = d->id;
		(void)snprintf(o->rest_role, sizeof(o->rest_role), "%s",
		    d->role != NULL ? d->role : "");
	}
	return 0;
}

/*
 * The people who act first (responsible persons, warners, duty officers,
 * here and above) are written before the rest, so a large plan's first
 * chunks reach them: the grid workers of the first village, though they
 * come first by region, and the devices are written after every warner
 * of the second village.
 */
static void
t_first_roles(void **state)
{
	struct fx *f = *state;
	struct plan_stats st;
	struct eng_errbuf eb;
	struct order o;
	long long a;

	eng_errbuf_init(&eb);
	a = post(f, "1red", "Actual", "Alert", "Extreme", "", "140425100");
	assert_int_equal(plan_alert(f->s, &f->cfg->routing, addr_of, NULL,
	    NULL, NULL, a, NOW, 0, &st, &eb), 0);
	memset(&o, 0, sizeof(o));
	assert_int_equal(store_deliveries_list(f->s, a, NULL, NULL, -1, 0,
	    order_cb, &o, NULL, &eb), 0);
	assert_int_equal(o.n, st.deliveries);
	/* The township's three duty officers, V1-1 (no e-mail address),
	 * V1-2, V2-1 (sms and mail), the warners, the two officers above
	 * (X-D1, C-D1); T-L1 has no phone. */
	assert_int_equal(o.first, 3 + 1 + 1 + 2 + MANY + 2);
	assert_true(o.last_first < o.first_rest);
	assert_string_equal(o.rest_role, "grid_worker");
	assert_int_equal(o.n - o.first, MANY + 3);	/* and 3 devices */
}

/*
 * plan_alert, wrapped (tests/unit/wrap.mk): the planner's calls fail for
 * the alert fail_id names (0: none), as a store error would.  Everything
 * else, the tests' own calls included, goes through.
 */
static long long fail_id;

int __wrap_plan_alert(struct store *s, const struct cfg_routing *r,
    plan_addr_fn af, void *addr_arg, plan_chunk_fn on_chunk,
    void *chunk_arg, long long alert_id, int64_t now_ms, int dry_run,
    struct plan_stats *st, struct eng_errbuf *eb);
int __real_plan_alert(struct store *s, const struct cfg_routing *r,
    plan_addr_fn af, void *addr_arg, plan_chunk_fn on_chunk,
    void *chunk_arg, long long alert_id, int64_t now_ms, int dry_run,
    struct plan_stats *st, struct eng_errbuf *eb);

int
__wrap_plan_alert(struct store *s, const struct cfg_routing *r,
    plan_addr_fn af, void *addr_arg, plan_chunk_fn on_chunk,
    void *chunk_arg, long long alert_id, int64_t now_ms, int dry_run,
    struct plan_stats *st, struct eng_errbuf *eb)
{
	if (alert_id == fail_id) {
		memset(st, 0, sizeof(*st));
		return eng_error(eb, ENG_EIO, "alert %lld: disk I/O error "
		    "(test)", alert_id);
	}
	return __real_plan_alert(s, r, af, addr_arg, on_chunk,
	    chunk_arg, alert_id, now_ms, dry_run, st, eb);
}

struct unplanned_ids {
	long long v[8];
	size_t n;
};

static int
unplanned_ids_cb(void *arg, const struct store_alert *a)
{
	struct unplanned_ids *u = arg;

	if (u->n < 8)
		u->v[u->n++] = a->id;
	return 0;
}

/*
 * An alert the planner cannot plan does not hold up the ones behind it:
 * the red one fails (it is looked at first), the orange one is planned
 * all the same, and the red one stays unplanned for the next try.  The
 * orange plan is large (chunks): the failing red alert, still waiting
 * with a higher colour, must not set it aside at every chunk.
 */
static void
t_planrun_failing(void **state)
{
	struct fx *f = *state;
	struct planrun_config pc;
	struct planrun *pr;
	struct unplanned_ids u;
	struct store *other;
	struct eng_errbuf eb;
	long long red, orange;
	int tries;

	eng_errbuf_init(&eb);
	red = post(f, "1red", "Actual", "Alert", "Extreme", "", "140425100");
	orange = post(f, "2ora", "Actual", "Alert", "Severe", "",
	    "140425100");
	fail_id = red;
	memset(&pc, 0, sizeof(pc));
	pc.db_path = f->db;
	pc.routing = &f->cfg->routing;
	pc.addr_of = addr_of;
	assert_int_equal(store_open(f->db, 0, &other, &eb), 0);
	assert_int_equal(planrun_start(&pc, &pr, &eb), 0);
	for (tries = 0; tries < 1000; tries++) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		memset(&u, 0, sizeof(u));
		assert_int_equal(store_alerts_unplanned(other, 8,
		    unplanned_ids_cb, &u, &eb), 0);
		if (u.n == 1)
			break;
		(void)nanosleep(&ts, NULL);
	}
	planrun_stop(pr);
	store_close(other);
	fail_id = 0;
	assert_int_equal(u.n, 1);
	assert_int_equal(u.v[0], red);
	assert_int_not_equal(u.v[0], orange);
}

struct preempt {
	struct fx *f;
	int chunks;
	long long red;
};

/* planrun_written_fn: at the orange plan's first chunk, a red alert. */
static void
preempt_written(void *arg, int alerts)
{
	struct preempt *x = arg;

	if (alerts == 0 && x->chunks++ == 0)
		x->red = post(x->f, "2red", "Actual", "Alert", "Extreme", "",
		    "140425100");
}

struct last_id {
	long long n, max;
};

static int
last_id_cb(void *arg, const struct store_delivery *d)
{
	struct last_id *l = arg;

	l->n++;
	if (d->id > l->max)
		l->max = d->id;
	return 0;
}

static int
none_cb(void *arg, const struct store_alert *a)
{
	(void)a;
	(*(int *)arg)++;
	return 0;
}

/*
 * Red before orange: a red alert accepted while the planner writes a
 * large orange plan is planned before the orange plan goes on; the
 * orange plan then ends with all its deliveries, none twice.
 */
static void
t_planrun_preempt(void **state)
{
	struct fx *f = *state;
	struct planrun_config pc;
	struct planrun *pr;
	struct preempt x;
	struct store *other;
	struct last_id lo, lr;
	struct eng_errbuf eb;
	int waiting = 1, tries;
	long long a;

	eng_errbuf_init(&eb);
	a = post(f, "1ora", "Actual", "Alert", "Severe", "", "140425100");
	memset(&x, 0, sizeof(x));
	x.f = f;
	memset(&pc, 0, sizeof(pc));
	pc.db_path = f->db;
	pc.routing = &f->cfg->routing;
	pc.addr_of = addr_of;
	pc.on_written = preempt_written;
	pc.written_arg = &x;
	assert_int_equal(store_open(f->db, 0, &other, &eb), 0);
	assert_int_equal(planrun_start(&pc, &pr, &eb), 0);
	/* f->s is the planner thread's (post) until it is stopped; none
	 * waiting: the orange is planned, so the red was posted before
	 * (x is read once the thread is joined). */
	for (tries = 0; waiting > 0 && tries < 1000; tries++) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		(void)nanosleep(&ts, NULL);
		waiting = 0;
		assert_int_equal(store_alerts_unplanned(other, 10, none_cb,
		    &waiting, &eb), 0);
	}
	planrun_stop(pr);
	store_close(other);
	assert_int_equal(waiting, 0);
	memset(&lo, 0, sizeof(lo));
	memset(&lr, 0, sizeof(lr));
	assert_int_equal(store_deliveries_list(f->s, a, NULL, NULL, -1, 0,
	    last_id_cb, &lo, NULL, &eb), 0);
	assert_int_equal(store_deliveries_list(f->s, x.red, NULL, NULL, -1,
	    0, last_id_cb, &lr, NULL, &eb), 0);
	/* orange: the township's and villages' people by sms, the officers
	 * above, the loudspeaker, the siren and the group chat; red also
	 * mails V2-1 */
	assert_int_equal(lo.n, 3 + 1 + 1 + 1 + 2 * MANY + 2 + 3);
	assert_int_equal(lr.n, lo.n + 1);
	assert_true(lr.max < lo.max);	/* orange was finished last */
	/* orange's first chunk, red's chunks, orange's again as it resumes
	 * (from its start, skipping what it wrote) */
	assert_int_equal(x.chunks, 1 + full_chunks(lr.n) +
	    full_chunks(lo.n));
}

struct all_ids {
	long long *v;
	size_t n, a;
};

static int
all_ids_cb(void *arg, const struct store_delivery *d)
{
	struct all_ids *x = arg;

	if (x->n == x->a) {
		x->a = x->a ? 2 * x->a : 1024;
		x->v = realloc(x->v, x->a * sizeof(*x->v));
		assert_non_null(x->v);
	}
	x->v[x->n++] = d->id;
	return 0;
}

/* Every delivery of the store claimed and reported sent; how many. */
static size_t
all_sent(struct fx *f, int64_t now)
{
	struct all_ids x = { NULL, 0, 0 };
	struct eng_errbuf eb;
	unsigned char *done;
	size_t n;

	eng_errbuf_init(&eb);
	assert_int_equal(store_deliveries_claim(f->s, now, 60000, 100000,
	    all_ids_cb, &x, &eb), 0);
	done = calloc(x.n + 1, 1);
	assert_non_null(done);
	assert_int_equal(store_begin(f->s, &eb), 0);
	assert_int_equal(store_deliveries_sent(f->s, x.v, x.n, "gw", 1, now,
	    done, &eb), 0);
	assert_int_equal(store_commit(f->s, &eb), 0);
	n = x.n;
	while (x.n > 0)
		assert_int_equal(done[--x.n], 1);
	free(done);
	free(x.v);
	return n;
}

/*
 * A Cancel to a chain that reached thousands is written in chunks like any
 * large plan: the first notices are visible to the dispatcher before the
 * rest are written.  Both alerts of the chain reached the same people
 * (pages of the walk end inside each alert's rows); each gets one notice.
 */
static void
t_cancel_chunks(void **state)
{
	struct fx *f = *state;
	struct plan_stats st;
	struct eng_errbuf eb;
	struct chunks c;
	char ref[256], refs[600];
	long long a, u, k, n = 0;
	size_t sent;

	eng_errbuf_init(&eb);
	a = post(f, "1red", "Actual", "Alert", "Extreme", "", "140425100");
	assert_int_equal(plan(f, a, 0, &st), 0);
	sent = all_sent(f, NOW + 1);
	assert_int_equal(sent, st.deliveries);
	ref_of("1red", ref, sizeof(ref));
	u = post(f, "2upd", "Actual", "Update", "Extreme", ref, "140425100");
	assert_int_equal(plan(f, u, 0, &st), 0);
	assert_int_equal(st.deliveries, (long long)sent);
	assert_int_equal(all_sent(f, NOW + 2), sent);

	ref_of("2upd", refs, sizeof(refs));
	(void)snprintf(refs + strlen(refs), sizeof(refs) - strlen(refs),
	    " %s", ref);
	k = post(f, "3can", "Actual", "Cancel", "Extreme", refs, "140425100");
	memset(&c, 0, sizeof(c));
	c.f = f;
	c.alert = k;
	assert_int_equal(plan_alert(f->s, &f->cfg->routing, addr_of, NULL,
	    chunk_cb, &c, k, NOW + 3, 0, &st, &eb), 0);
	/* 2 x sent rows walked, chunked as they are */
	assert_int_equal(c.calls, full_chunks(2 * (long long)sent));
	assert_int_equal(c.seen_first, PLAN_FIRST_CHUNK);
	assert_int_equal(c.planned_at_first, 0);
	assert_int_equal(st.deliveries, (long long)sent);
	assert_int_equal(store_delivery_counts(f->s, k, sum_cb, &n, &eb), 0);
	assert_int_equal(n, (long long)sent);
}

struct ids {
	long long v[64];
	size_t n;
};

static int
ids_cb(void *arg, const struct store_delivery *d)
{
	struct ids *x = arg;

	if (x->n < sizeof(x->v) / sizeof(x->v[0]))
		x->v[x->n++] = d->id;
	return 0;
}

/*
 * A round's "sent" reports in one statement: the rows still sending
 * become sent with one attempt, the gateway id and the parts; a row a
 * receipt already moved, an id given twice (once only), an unknown id
 * and a row already sent are left to the general update (done 0).
 */
static void
t_sent_many(void **state)
{
	struct fx *f = *state;
	struct plan_stats st;
	struct eng_errbuf eb;
	struct ids c = { .n = 0 };
	struct one o;
	long long a, ids[5];
	unsigned char done[5];

	eng_errbuf_init(&eb);
	a = post(f, "1red", "Actual", "Alert", "Extreme", "", "140425100");
	assert_int_equal(plan(f, a, 0, &st), 0);
	assert_int_equal(store_deliveries_claim(f->s, NOW + 1, 60000, 3,
	    ids_cb, &c, &eb), 0);
	assert_int_equal(c.n, 3);
	assert_int_equal(store_delivery_set(f->s, c.v[1], "delivered", 0, 0,
	    "r-1", NULL, 0, NOW + 5, &eb), 0);
	ids[0] = c.v[0];
	ids[1] = c.v[1];
	ids[2] = c.v[2];
	ids[3] = c.v[2];
	ids[4] = 987654321;
	memset(done, 0, sizeof(done));
	assert_int_equal(store_begin(f->s, &eb), 0);
	assert_int_equal(store_deliveries_sent(f->s, ids, 5, "b-7", 2,
	    NOW + 10, done, &eb), 0);
	assert_int_equal(store_commit(f->s, &eb), 0);
	assert_int_equal(done[0], 1);
	assert_int_equal(done[1], 0);
	assert_int_equal(done[2], 1);
	assert_int_equal(done[3], 1);
	assert_int_equal(done[4], 0);
	get_one(f, c.v[0], &o);
	assert_string_equal(o.state, "sent");
	assert_int_equal(o.attempts, 1);
	assert_string_equal(o.gw, "b-7");
	get_one(f, c.v[1], &o);
	assert_string_equal(o.state, "delivered");
	assert_int_equal(o.attempts, 0);
	assert_string_equal(o.gw, "r-1");
	get_one(f, c.v[2], &o);
	assert_string_equal(o.state, "sent");
	assert_int_equal(o.attempts, 1);
	/* Already sent: left alone; no gateway id keeps the one it has. */
	memset(done, 0, sizeof(done));
	assert_int_equal(store_deliveries_sent(f->s, ids, 1, NULL, 0,
	    NOW + 20, done, &eb), 0);
	assert_int_equal(done[0], 0);
	get_one(f, c.v[0], &o);
	assert_int_equal(o.attempts, 1);
	assert_string_equal(o.gw, "b-7");
	/* Nothing to do for no ids. */
	assert_int_equal(store_deliveries_sent(f->s, ids, 0, NULL, 0,
	    NOW + 20, done, &eb), 0);
	/* All still sending, one of them twice: every copy done, one
	 * attempt each. */
	c.n = 0;
	assert_int_equal(store_deliveries_claim(f->s, NOW + 30, 60000, 2,
	    ids_cb, &c, &eb), 0);
	assert_int_equal(c.n, 2);
	ids[0] = c.v[0];
	ids[1] = c.v[1];
	ids[2] = c.v[0];
	memset(done, 0, sizeof(done));
	assert_int_equal(store_begin(f->s, &eb), 0);
	assert_int_equal(store_deliveries_sent(f->s, ids, 3, "b-8", 1,
	    NOW + 40, done, &eb), 0);
	assert_int_equal(store_commit(f->s, &eb), 0);
	assert_int_equal(done[0] + done[1] + done[2], 3);
	get_one(f, c.v[0], &o);
	assert_string_equal(o.state, "sent");
	assert_int_equal(o.attempts, 1);
	assert_string_equal(o.gw, "b-8");
	get_one(f, c.v[1], &o);
	assert_string_equal(o.state, "sent");
	assert_int_equal(o.attempts, 1);
}

/*
 * Claimed, then refused by a full channel: back to pending, due when
 * told, no attempt counted, claimed again then (not before); one a
 * Cancel took meanwhile stays cancelled.
 */
static void
t_unclaim(void **state)
{
	struct fx *f = *state;
	struct plan_stats st;
	struct eng_errbuf eb;
	struct ids c = { .n = 0 }, again = { .n = 0 };
	struct one o;
	long long a;

	eng_errbuf_init(&eb);
	a = post(f, "1red", "Actual", "Alert", "Extreme", "", "140425100");
	assert_int_equal(plan(f, a, 0, &st), 0);
	assert_int_equal(store_deliveries_claim(f->s, NOW + 1, 60000, 3,
	    ids_cb, &c, &eb), 0);
	assert_int_equal(c.n, 3);
	assert_int_equal(store_delivery_set(f->s, c.v[2], "cancelled", 0, 0,
	    NULL, "cancelled", 0, NOW + 2, &eb), 0);
	assert_int_equal(store_begin(f->s, &eb), 0);
	assert_int_equal(store_deliveries_unclaim(f->s, c.v, 3, NOW + 500,
	    NOW + 3, &eb), 0);
	assert_int_equal(store_commit(f->s, &eb), 0);
	get_one(f, c.v[0], &o);
	assert_string_equal(o.state, "pending");
	assert_int_equal(o.attempts, 0);
	get_one(f, c.v[1], &o);
	assert_string_equal(o.state, "pending");
	get_one(f, c.v[2], &o);
	assert_string_equal(o.state, "cancelled");
	/* Not due before NOW + 500, and not taken as an expired lease
	 * either (it is gone); then those two and no other. */
	assert_int_equal(store_deliveries_claim(f->s, NOW + 499, 60000, 1000,
	    ids_cb, &again, &eb), 0);
	assert_true(again.n > 0 && again.n < 64);
	for (size_t i = 0; i < again.n; i++)
		assert_true(again.v[i] != c.v[0] && again.v[i] != c.v[1]);
	again.n = 0;
	assert_int_equal(store_deliveries_claim(f->s, NOW + 500, 60000, 1000,
	    ids_cb, &again, &eb), 0);
	assert_int_equal(again.n, 2);
	assert_true(again.v[0] == c.v[0] && again.v[1] == c.v[1]);
	/* Nothing for no ids. */
	assert_int_equal(store_deliveries_unclaim(f->s, c.v, 0, NOW, NOW,
	    &eb), 0);
}

static int
refuse_second_cb(void *arg, const struct store_delivery *d)
{
	long long *n = arg;

	(void)d;
	return ++*n == 2 ? ENG_ENOMEM : 0;
}

/* A claim whose callback fails part-way marks nothing: every row is due
 * as before, and the next claim takes them. */
static void
t_claim_refused(void **state)
{
	struct fx *f = *state;
	struct plan_stats st;
	struct eng_errbuf eb;
	struct one o;
	long long a, id, n = 0, again = 0;

	eng_errbuf_init(&eb);
	a = post(f, "1red", "Actual", "Alert", "Extreme", "", "140425100");
	assert_int_equal(plan(f, a, 0, &st), 0);
	id = first_sms(f, a);
	assert_int_equal(store_deliveries_claim(f->s, NOW + 1, 60000, 10000,
	    refuse_second_cb, &n, &eb), ENG_ENOMEM);
	assert_int_equal(n, 2);
	get_one(f, id, &o);
	assert_string_equal(o.state, "pending");
	assert_int_equal(store_deliveries_claim(f->s, NOW + 1, 60000, 10000,
	    claimed_cb, &again, &eb), 0);
	assert_true(again > 2);
	get_one(f, id, &o);
	assert_string_equal(o.state, "sending");
}

/* Rows of an alert as store_deliveries_list gives them: ids and
 * recipients. */
struct rows {
	long long id[128];
	char rcp[128][32];
	size_t n;
};

static int
rows_cb(void *arg, const struct store_delivery *d)
{
	struct rows *r = arg;

	assert_true(r->n < 128);
	r->id[r->n] = d->id;
	(void)snprintf(r->rcp[r->n], sizeof(r->rcp[0]), "%s", d->recipient);
	r->n++;
	return 0;
}

/*
 * store_deliveries_add: 70 rows are two statements of STORE_ADD_ROWS and
 * six single ones; a row that repeats an earlier one (within a statement
 * and across them) is left out and not counted; the ids follow the order
 * given.  A row that breaks any other constraint (its alert, a NULL
 * address) fails with the error, never left out quietly, and leaves the
 * rows before it to the caller's rollback.
 */
static void
t_add_rows(void **state)
{
	struct fx *f = *state;
	struct store_delivery d[70];
	char rcp[70][16];
	struct eng_errbuf eb;
	struct rows r;
	long long a, added = -1, total = 0;
	size_t i, k;

	eng_errbuf_init(&eb);
	a = post(f, "1rows", "Actual", "Alert", "Extreme", "", "140425100");
	memset(d, 0, sizeof(d));
	for (i = 0; i < 70; i++) {
		(void)snprintf(rcp[i], sizeof(rcp[i]), "r:P%03zu", i);
		d[i].alert_id = a;
		d[i].kind = "alert";
		d[i].channel = "sms";
		d[i].recipient = rcp[i];
		d[i].responder_id = rcp[i] + 2;
		d[i].region = "140425100201";
		d[i].address = "13800000000";
		d[i].role = "grid";
		d[i].priority = 8;
	}
	d[5].recipient = rcp[3];	/* in the first statement */
	d[40].recipient = rcp[1];	/* in the second, of the first */
	d[66].recipient = rcp[10];	/* a single one */
	assert_int_equal(store_begin(f->s, &eb), 0);
	assert_int_equal(store_deliveries_add(f->s, d, 70, NOW, &added, &eb),
	    0);
	assert_int_equal(store_commit(f->s, &eb), 0);
	assert_int_equal(added, 67);
	memset(&r, 0, sizeof(r));
	assert_int_equal(store_deliveries_list(f->s, a, NULL, NULL, 1000, 0,
	    rows_cb, &r, &total, &eb), 0);
	assert_int_equal(total, 67);
	assert_int_equal(r.n, 67);
	for (i = 0, k = 0; i < 70; i++) {
		if (i == 5 || i == 40 || i == 66)
			continue;
		assert_string_equal(r.rcp[k], d[i].recipient);
		if (k > 0)
			assert_true(r.id[k] > r.id[k - 1]);
		k++;
	}
	/* Again: nothing new. */
	assert_int_equal(store_begin(f->s, &eb), 0);
	assert_int_equal(store_deliveries_add(f->s, d, 70, NOW, &added, &eb),
	    0);
	assert_int_equal(added, 0);
	/* A row of an alert that is not there fails its statement; so
	 * does a row without an address (never a row quietly left out),
	 * in a statement of many rows and alone. */
	for (i = 0; i < 40; i++)
		(void)snprintf(rcp[i], sizeof(rcp[i]), "r:Q%03zu", i);
	d[5].recipient = rcp[5];
	d[33].alert_id = a + 1000;
	assert_int_not_equal(store_deliveries_add(f->s, d, 40, NOW, &added,
	    &eb), 0);
	assert_non_null(strstr(eb.msg, "delivery add"));
	store_rollback(f->s);
	d[33].alert_id = a;
	d[20].address = NULL;
	assert_int_equal(store_begin(f->s, &eb), 0);
	assert_int_not_equal(store_deliveries_add(f->s, d, 40, NOW, &added,
	    &eb), 0);
	assert_non_null(strstr(eb.msg, "NOT NULL"));
	store_rollback(f->s);
	assert_int_equal(store_begin(f->s, &eb), 0);
	assert_int_not_equal(store_delivery_add(f->s, &d[20], NOW, NULL,
	    &eb), 0);
	store_rollback(f->s);
}

/*
 * Kannel's receipt can come before the driver reads sendsms's answer:
 * delivered, then the late "sent" (attempt counted, state kept), then a
 * late "retry" (kept delivered, its error not recorded), the dispatcher
 * giving up on it (kept delivered); a later failure receipt does move it
 * to failed.
 */
static void
t_receipt_before_sent(void **state)
{
	struct fx *f = *state;
	struct plan_stats st;
	struct eng_errbuf eb;
	struct one o;
	long long a, id;

	eng_errbuf_init(&eb);
	a = post(f, "1red", "Actual", "Alert", "Extreme", "", "140425100");
	assert_int_equal(plan(f, a, 0, &st), 0);
	id = first_sms(f, a);
	assert_int_equal(store_delivery_set(f->s, id, "delivered", 0, 0,
	    "smsc-id-1", NULL, 0, NOW + 10, &eb), 0);
	get_one(f, id, &o);
	assert_string_equal(o.state, "delivered");
	assert_int_equal(o.attempts, 0);

	assert_int_equal(store_delivery_set(f->s, id, "sent", 1, 0, "k-2",
	    NULL, 3, NOW + 20, &eb), 0);
	get_one(f, id, &o);
	assert_string_equal(o.state, "delivered");
	assert_int_equal(o.attempts, 1);
	assert_string_equal(o.gw, "smsc-id-1");
	assert_string_equal(o.err, "-");

	assert_int_equal(store_delivery_set(f->s, id, "retry", 1, NOW + 5000,
	    NULL, "timed out", 0, NOW + 30, &eb), 0);
	get_one(f, id, &o);
	assert_string_equal(o.state, "delivered");
	assert_int_equal(o.attempts, 2);
	assert_string_equal(o.err, "-");

	/* The dispatcher giving up on that retry (an attempt counted) does
	 * not undo the receipt. */
	assert_int_equal(store_delivery_set(f->s, id, "failed", 1, 0, NULL,
	    "gave up after 10 attempts: timed out", 0, NOW + 35, &eb), 0);
	get_one(f, id, &o);
	assert_string_equal(o.state, "delivered");
	assert_int_equal(o.attempts, 3);
	assert_string_equal(o.err, "-");

	assert_int_equal(store_delivery_set(f->s, id, "failed", 0, 0, NULL,
	    "not delivered to the phone (Kannel DLR 2)", 0, NOW + 40, &eb), 0);
	get_one(f, id, &o);
	assert_string_equal(o.state, "failed");
	assert_int_equal(o.attempts, 3);
}

/* The usual order: sent, then the receipt; a cancelled delivery stays
 * cancelled whatever comes later. */
static void
t_sent_then_receipt_and_cancelled(void **state)
{
	struct fx *f = *state;
	struct plan_stats st;
	struct eng_errbuf eb;
	struct lines l;
	struct one o;
	char got[8192];
	long long a, id, n = 0;

	eng_errbuf_init(&eb);
	a = post(f, "1red", "Actual", "Alert", "Extreme", "", "140425100");
	assert_int_equal(plan(f, a, 0, &st), 0);
	id = first_sms(f, a);
	assert_int_equal(store_delivery_set(f->s, id, "sent", 1, 0, NULL,
	    NULL, 2, NOW, &eb), 0);
	get_one(f, id, &o);
	assert_string_equal(o.state, "sent");
	assert_int_equal(o.attempts, 1);
	assert_int_equal(store_delivery_set(f->s, id, "delivered", 0, 0,
	    "smsc-id-9", NULL, 0, NOW + 5, &eb), 0);
	get_one(f, id, &o);
	assert_string_equal(o.state, "delivered");
	assert_int_equal(o.attempts, 1);
	assert_string_equal(o.gw, "smsc-id-9");

	/* Everything else of the alert is pending: cancelled at once. */
	assert_int_equal(store_deliveries_cancel(f->s, a, &n, NOW + 6, &eb),
	    0);
	assert_int_equal(n, 9);
	deliveries(f, a, got, sizeof(got), &l);
	assert_int_equal(l.n, 10);
	id = l.ids[0] != id ? l.ids[0] : l.ids[1];
	get_one(f, id, &o);
	assert_string_equal(o.state, "cancelled");
	assert_int_equal(store_delivery_set(f->s, id, "delivered", 0, 0,
	    NULL, NULL, 0, NOW + 7, &eb), 0);
	get_one(f, id, &o);
	assert_string_equal(o.state, "cancelled");
}

/* ------------------------------------------------------------------ */
/* responders' channel preferences (routing preferences:)              */
/* ------------------------------------------------------------------ */

/*
 * One village, one rule per role over the same four channels (SMS, a
 * voice call, WeCom, e-mail): responsible ignore, warner narrow,
 * grid_worker first.
 */
static const char pref_responders_csv[] =
    "id,name,region,role,phone,wecom,email,prefer\n"
    "R-A,甲,140425100201,responsible,10000000001,wx_ra,ra@x.cn,wecom\n"
    "W-A,乙,140425100201,warner,10000000002,wx_wa,wa@x.cn,"
    "\"email、wecom\"\n"
    "W-B,丙,140425100201,warner,10000000003,wx_wb,,语音\n"
    "W-C,丁,140425100201,warner,10000000004,,,企业微信\n"
    "W-D,戊,140425100201,warner,10000000005,,,钉钉\n"
    "W-E,己,140425100201,warner,10000000006,wx_we,,\n"
    "W-F,庚,140425100201,warner,10000000007,wx_wf,,\"wecom|sms\"\n"
    "G-A,辛,140425100201,grid_worker,10000000008,wx_ga,ga@x.cn,"
    "\"email,wecom\"\n"
    "G-B,壬,140425100201,grid_worker,10000000009,,gb@x.cn,"
    "\"wecom;voice;email\"\n"
    "G-C,癸,140425100201,grid_worker,10000000010,,,微信\n"
    "G-D,子,140425100201,grid_worker,10000000011,wx_gd,,短信\n"
    "G-E,丑,140425100201,grid_worker,,wx_ge,ge@x.cn,\"voice,email\"\n";

static const char pref_yaml[] =
    "deployment:\n"
    "  root: \"" ROOT "\"\n"
    "channels:\n"
    "  - { name: sms, type: file, path: sms.log, addr: phone }\n"
    "  - { name: voice, type: file, path: voice.log, addr: phone }\n"
    "  - { name: wx, type: file, path: wx.log, addr: wecom }\n"
    "  - { name: mail, type: file, path: mail.log, addr: email }\n"
    "routing:\n"
    "  people:\n"
    "    - roles: [responsible]\n"
    "      channels: [sms, voice, wx, mail]\n"
    "    - roles: [warner]\n"
    "      channels: [sms, voice, wx, mail]\n"
    "      preferences: narrow\n"
    "    - roles: [grid_worker]\n"
    "      channels: [sms, voice, wx, mail]\n"
    "      preferences: first\n";

static int
setup_pref(void **state)
{
	return setup_with(state, pref_responders_csv, pref_yaml);
}

/*
 * R-A ignore: all four.  narrow: W-A mail and wx (the rule's order);
 * W-B voice only; W-C prefers WeCom but has no id, W-D prefers a kind
 * the rule has none of, W-E has no preferences: every channel (their
 * missing addresses counted); W-F sms and wx.  first: G-A mail (its
 * first choice); G-B voice (no WeCom id: the next choice); G-C every
 * channel (no WeChat channel); G-D sms, not the call; G-E has no phone:
 * mail.
 */
static const char pref_want[] =
    "mail r:G-A ga@x.cn grid_worker 140425100201 p8 alert pending\n"
    "mail r:G-E ge@x.cn grid_worker 140425100201 p8 alert pending\n"
    "mail r:R-A ra@x.cn responsible 140425100201 p9 alert pending\n"
    "mail r:W-A wa@x.cn warner 140425100201 p9 alert pending\n"
    "sms r:G-C 10000000010 grid_worker 140425100201 p8 alert pending\n"
    "sms r:G-D 10000000011 grid_worker 140425100201 p8 alert pending\n"
    "sms r:R-A 10000000001 responsible 140425100201 p9 alert pending\n"
    "sms r:W-C 10000000004 warner 140425100201 p9 alert pending\n"
    "sms r:W-D 10000000005 warner 140425100201 p9 alert pending\n"
    "sms r:W-E 10000000006 warner 140425100201 p9 alert pending\n"
    "sms r:W-F 10000000007 warner 140425100201 p9 alert pending\n"
    "voice r:G-B 10000000009 grid_worker 140425100201 p8 alert "
    "pending\n"
    "voice r:G-C 10000000010 grid_worker 140425100201 p8 alert "
    "pending\n"
    "voice r:R-A 10000000001 responsible 140425100201 p9 alert "
    "pending\n"
    "voice r:W-B 10000000003 warner 140425100201 p9 alert pending\n"
    "voice r:W-C 10000000004 warner 140425100201 p9 alert pending\n"
    "voice r:W-D 10000000005 warner 140425100201 p9 alert pending\n"
    "voice r:W-E 10000000006 warner 140425100201 p9 alert pending\n"
    "wx r:R-A wx_ra responsible 140425100201 p9 alert pending\n"
    "wx r:W-A wx_wa warner 140425100201 p9 alert pending\n"
    "wx r:W-E wx_we warner 140425100201 p9 alert pending\n"
    "wx r:W-F wx_wf warner 140425100201 p9 alert pending\n";

/* The preview's rows as "channel recipient" lines, and its misses. */
struct pv {
	char v[64][64];
	size_t n;
	char miss[64][64];
	size_t nmiss;
};

static int
pv_item(void *arg, const struct plan_item *it)
{
	struct pv *p = arg;

	assert_true(p->n < 64);
	(void)snprintf(p->v[p->n++], sizeof(p->v[0]), "%s %s", it->channel,
	    it->recipient);
	return 0;
}

static int
pv_miss(void *arg, const char *channel, const struct store_person *who)
{
	struct pv *p = arg;

	assert_true(p->nmiss < 64);
	(void)snprintf(p->miss[p->nmiss++], sizeof(p->miss[0]), "%s %s",
	    channel, who->id);
	return 0;
}

static void
t_preferences(void **state)
{
	struct fx *f = *state;
	static const char *const misses[] = {
		"mail G-C", "mail W-C", "mail W-D", "mail W-E", "wx G-C",
		"wx W-C", "wx W-D",
	};
	struct plan_request rq;
	struct plan_visitor v;
	struct plan_stats st, pst;
	struct eng_errbuf eb;
	struct lines l;
	struct pv *pv;
	char got[8192], row[64];
	char target[1][REGION_CODE_SIZE] = { "140425100201" };
	long long a;
	size_t i, j;

	a = post(f, "1red", "Actual", "Alert", "Extreme", "", "140425100201");
	/* The dry run counts what is then written. */
	assert_int_equal(plan(f, a, 1, &pst), 0);
	assert_int_equal(plan(f, a, 0, &st), 0);
	deliveries(f, a, got, sizeof(got), &l);
	assert_string_equal(got, pref_want);
	assert_int_equal(st.people, 12);
	assert_int_equal(st.deliveries, 22);
	assert_int_equal(st.no_address, 7);
	assert_int_equal(pst.deliveries, st.deliveries);
	assert_int_equal(pst.no_address, st.no_address);
	assert_int_equal(pst.people, st.people);

	/* plan_preview (POST /api/v1/plan) visits the same rows and the
	 * same missing addresses. */
	assert_non_null(pv = calloc(1, sizeof(*pv)));
	memset(&rq, 0, sizeof(rq));
	rq.targets = (const char (*)[REGION_CODE_SIZE])target;
	rq.ntargets = 1;
	rq.colour = 4;
	rq.status = "Actual";
	rq.msg_type = "Alert";
	rq.broadcast = 1;
	v.item = pv_item;
	v.no_address = pv_miss;
	v.arg = pv;
	eng_errbuf_init(&eb);
	assert_int_equal(plan_preview(f->s, &f->cfg->routing, addr_of, NULL,
	    &rq, &v, &pst, &eb), 0);
	assert_int_equal(pst.deliveries, 22);
	assert_int_equal(pst.no_address, 7);
	assert_int_equal(pst.people, 12);
	assert_int_equal(pv->n, l.n);
	for (i = 0; i < l.n; i++) {
		/* "channel r:ID ..." of the written rows */
		const char *sp = strchr(l.v[i], ' ');

		sp = strchr(sp + 1, ' ');
		(void)snprintf(row, sizeof(row), "%.*s", (int)(sp - l.v[i]),
		    l.v[i]);
		for (j = 0; j < pv->n && strcmp(pv->v[j], row) != 0; j++)
			;
		assert_true(j < pv->n);
	}
	assert_int_equal(pv->nmiss, sizeof(misses) / sizeof(misses[0]));
	qsort(pv->miss, pv->nmiss, sizeof(pv->miss[0]), cmp_line);
	for (i = 0; i < pv->nmiss; i++)
		assert_string_equal(pv->miss[i], misses[i]);
	free(pv);
}

/* The same roster under rules that ignore the preferences: every
 * channel for everyone (as before the column existed). */
static void
t_preferences_ignored(void **state)
{
	struct fx *f = *state;
	struct plan_stats st;
	struct routing_save {
		enum cfg_pref_policy p[3];
	} save;
	size_t i;
	long long a;

	for (i = 0; i < 3; i++) {
		save.p[i] = f->cfg->routing.people[i].preferences;
		f->cfg->routing.people[i].preferences = CFG_PREF_IGNORE;
	}
	a = post(f, "1red", "Actual", "Alert", "Extreme", "", "140425100201");
	assert_int_equal(plan(f, a, 0, &st), 0);
	/* 12 people x 4 channels = 48, less the missing addresses: wx of
	 * W-C W-D G-B G-C, mail of W-B W-C W-D W-E W-F G-C G-D, sms and
	 * voice of G-E. */
	assert_int_equal(st.people, 12);
	assert_int_equal(st.no_address, 13);
	assert_int_equal(st.deliveries, 35);
	assert_int_equal(save.p[1], CFG_PREF_NARROW);
	assert_int_equal(save.p[2], CFG_PREF_FIRST);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_red_township, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_plan_twice_and_dry_run,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(t_yellow, setup, teardown),
		cmocka_unit_test_setup_teardown(t_exercise, setup, teardown),
		cmocka_unit_test_setup_teardown(t_unmatched_area, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_update_then_cancel, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_claim_then_sent, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_claim_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_unclaim, setup, teardown),
		cmocka_unit_test_setup_teardown(t_sent_many, setup, teardown),
		cmocka_unit_test_setup_teardown(t_add_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(t_people_pages, setup_many,
		    teardown),
		cmocka_unit_test_setup_teardown(t_first_roles, setup_many,
		    teardown),
		cmocka_unit_test_setup_teardown(t_planrun_preempt,
		    setup_many, teardown),
		cmocka_unit_test_setup_teardown(t_planrun_failing,
		    setup_many, teardown),
		cmocka_unit_test_setup_teardown(t_chunks, setup_many,
		    teardown),
		cmocka_unit_test_setup_teardown(t_chunk_writer_fails,
		    setup_many, teardown),
		cmocka_unit_test_setup_teardown(t_chunks_one_connection,
		    setup_many, teardown),
		cmocka_unit_test_setup_teardown(t_cancel_chunks, setup_many,
		    teardown),
		cmocka_unit_test_setup_teardown(t_receipt_before_sent, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    t_sent_then_receipt_and_cancelled, setup, teardown),
		cmocka_unit_test_setup_teardown(t_preferences, setup_pref,
		    teardown),
		cmocka_unit_test_setup_teardown(t_preferences_ignored,
		    setup_pref, teardown),
	};

	return cmocka_run_group_tests_name("plan", tests, NULL, NULL);
}
