/*
 * tests/unit/test_escalate.c - 叫应 escalation (engine/escalate.h) on a
 * :memory: store with a clock the test sets: rows are written once the
 * plan is complete, only for people who must answer; the steps fire at
 * their times, in order, once each (running again at the same time
 * writes nothing); the parent township's duty officer gets the list of
 * who is silent; an answer stops that person's steps, a region's quorum
 * stops the region's, a cancel or expiry stops everything; quiet hours
 * hold blue steps and never red ones; a changed policy is followed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "channels/channel.h"
#include "config/cfg.h"
#include "engine/answer.h"
#include "engine/diag.h"
#include "engine/escalate.h"
#include "engine/roster.h"
#include "engine/store.h"

#define ROOT	"140400000000"
/* 2027-01-15T08:00:00Z = 16:00 in Asia/Shanghai: not quiet. */
#define T0	1800000000000LL
#define MIN	60000LL

static const char regions_csv[] =
    "code,name,lat,lon,parent\n"
    "140400000000,长治市,,,\n"
    "140425000000,平顺县,,,\n"
    "140425100000,青羊镇,,,\n"
    "140425100201,后店村,,,\n"
    "140425100202,前店村,,,\n";

static const char responders_csv[] =
    "id,name,region,role,phone,wecom,email,active,exercise\n"
    "T-D1,周值班,140425100000,duty_officer,13900000001,,,yes,no\n"
    "T-L1,吴领导,140425100000,leader,13900000002,,,yes,no\n"
    "V-1,张三,140425100201,responsible,13800000001,,,yes,no\n"
    "V-2,李四,140425100201,responsible,13800000002,,,yes,no\n"
    "V-3,王五,140425100201,warner,13800000003,,,yes,no\n"
    "V-4,赵六,140425100201,deputy,13800000004,,,yes,no\n"
    "W-1,孙八,140425100202,responsible,13800000011,,,yes,no\n";

static const char config_yaml[] =
    "deployment: { root: \"140400000000\", timezone: Asia/Shanghai }\n"
    "channels:\n"
    "  - { name: sms, type: file, path: a.log }\n"
    "  - { name: voice, type: file, path: b.log }\n"
    "routing:\n"
    "  people:\n"
    "    - levels: [village]\n"
    "      roles: [responsible]\n"
    "      channels: [sms]\n"
    "      answer: true\n"
    "    - levels: [village]\n"
    "      roles: [warner]\n"
    "      channels: [sms]\n"
    "escalation:\n"
    "  policies:\n"
    "    - levels: [village]\n"
    "      colours: [orange, red]\n"
    "      steps:\n"
    "        - { after: 3m, do: resend }\n"
    "        - { after: 5m, do: channel, channel: voice }\n"
    "        - { after: 6m, do: deputy }\n"
    "        - { after: 8m, do: notify_parent }\n"
    "        - { after: 30m, do: unreachable }\n"
    "    - levels: [village]\n"
    "      colours: [blue, yellow]\n"
    "      quorum: 1\n"
    "      quiet_hours: \"22:00-07:00\"\n"
    "      steps:\n"
    "        - { after: 10m, do: resend }\n";

struct fx {
	struct store *s;
	struct cfg *cfg;
	struct escalate_config ec;
};

static int
addr_of(void *arg, const char *channel)
{
	(void)arg;
	return strcmp(channel, "sms") == 0 || strcmp(channel, "voice") == 0 ?
	    CHAN_ADDR_PHONE : 0;
}

static int
import(struct store *s, enum roster_kind kind, const char *csv,
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
		rv = store_import(s, &r, 0, &res, &d, &eb);
	roster_release(&r);
	diag_list_release(&d);
	return rv;
}

/* An alert of colour (4 red, 1 blue) planned at t: one SMS to each
 * village person (the warner must not answer), then planned = 1. */
static long long
planned_alert(struct fx *f, const char *ident, int colour, int64_t t,
    int64_t expires)
{
	static const struct {
		const char *id, *region, *role, *phone;
	} people[] = {
		{ "V-1", "140425100201", "responsible", "13800000001" },
		{ "V-2", "140425100201", "responsible", "13800000002" },
		{ "V-3", "140425100201", "warner", "13800000003" },
		{ "W-1", "140425100202", "responsible", "13800000011" },
	};
	struct store_alert a;
	struct store_delivery d;
	struct eng_errbuf eb;
	char rcp[32];
	long long id = 0;
	size_t i;
	int added;

	memset(&a, 0, sizeof(a));
	a.sender = "test@example.cn";
	a.identifier = ident;
	a.sent = "2027-01-15T10:00:00+08:00";
	a.sent_ms = t;
	a.status = "Actual";
	a.msg_type = "Alert";
	a.event = "暴雨";
	a.headline = "后店村暴雨预警";
	a.colour = colour;
	a.expires_ms = expires;
	a.received_ms = t;
	a.source = "test";
	a.via = "test";
	a.state = "active";
	a.broadcast = 1;
	a.cap = "<alert/>";
	a.cap_len = 8;
	eng_errbuf_init(&eb);
	assert_int_equal(store_alert_insert(f->s, &a, &id, &eb), 0);
	for (i = 0; i < sizeof(people) / sizeof(people[0]); i++) {
		(void)snprintf(rcp, sizeof(rcp), "r:%s", people[i].id);
		memset(&d, 0, sizeof(d));
		d.alert_id = id;
		d.kind = "alert";
		d.channel = "sms";
		d.recipient = rcp;
		d.responder_id = people[i].id;
		d.region = people[i].region;
		d.address = people[i].phone;
		d.role = people[i].role;
		d.priority = 8;
		assert_int_equal(store_delivery_add(f->s, &d, t, &added, &eb),
		    0);
	}
	assert_int_equal(store_alert_set_planned(f->s, id, &eb), 0);
	return id;
}

static size_t
run(struct fx *f, int64_t now)
{
	struct eng_errbuf eb;
	size_t n = 0;

	eng_errbuf_init(&eb);
	assert_int_equal(escalate_run(&f->ec, f->s, now, &n, &eb), 0);
	return n;
}

/* The escalation deliveries of an alert, "kind channel recipient" lines
 * in id order (the plan's own kind "alert" left out). */
struct lines {
	char buf[4096];
};

static int
line_cb(void *arg, const struct store_delivery *d)
{
	struct lines *l = arg;
	size_t n = strlen(l->buf);

	if (strcmp(d->kind, "alert") == 0)
		return 0;
	(void)snprintf(l->buf + n, sizeof(l->buf) - n, "%s %s %s %s\n",
	    d->kind, d->channel, d->recipient, d->address);
	return 0;
}

static const char *
steps_of(struct fx *f, long long alert, struct lines *l)
{
	struct eng_errbuf eb;
	long long total = 0;

	memset(l, 0, sizeof(*l));
	eng_errbuf_init(&eb);
	assert_int_equal(store_deliveries_list(f->s, alert, NULL, NULL, 1000,
	    0, line_cb, l, &total, &eb), 0);
	return l->buf;
}

struct row {
	char state[16];
	int step;
	int64_t due;
};

static int
row_cb(void *arg, const struct store_esc *e)
{
	struct row *r = arg;

	(void)snprintf(r->state, sizeof(r->state), "%s", e->state);
	r->step = e->step;
	r->due = e->due_ms;
	return 0;
}

static struct row
row_of(struct fx *f, long long alert, const char *who)
{
	struct eng_errbuf eb;
	struct row r;

	memset(&r, 0, sizeof(r));
	eng_errbuf_init(&eb);
	(void)snprintf(r.state, sizeof(r.state), "none");
	(void)store_esc_get(f->s, alert, who, row_cb, &r, &eb);
	return r;
}

static void
answer(struct fx *f, long long alert, const char *who, int64_t t)
{
	struct store_answer a;
	struct eng_errbuf eb;

	memset(&a, 0, sizeof(a));
	a.alert_id = alert;
	a.responder_id = who;
	a.path = "sms";
	a.received_ms = t;
	a.raw = "收到";
	eng_errbuf_init(&eb);
	assert_int_equal(store_answer_add(f->s, &a, NULL, &eb), 0);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct diag_list d;
	struct eng_errbuf eb;

	if (f == NULL)
		return -1;
	*state = f;
	eng_errbuf_init(&eb);
	diag_list_init(&d);
	if (store_open(":memory:", 0, &f->s, &eb) != 0)
		return -1;
	store_set_root(f->s, ROOT);
	if (import(f->s, ROSTER_REGIONS, regions_csv, "regions.csv") != 0 ||
	    import(f->s, ROSTER_RESPONDERS, responders_csv,
	    "responders.csv") != 0)
		return -1;
	if (cfg_load_buf(config_yaml, strlen(config_yaml), "t.yaml", "/tmp",
	    &f->cfg, &d) != 0) {
		diag_list_release(&d);
		return -1;
	}
	diag_list_release(&d);
	f->ec.cfg = f->cfg;
	f->ec.db_path = ":memory:";
	f->ec.addr_of = addr_of;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	store_close(f->s);
	cfg_free(f->cfg);
	free(f);
	return 0;
}

static void
t_steps_in_order_once(void **state)
{
	struct fx *f = *state;
	struct lines l;
	long long a = planned_alert(f, "red-1", 4, T0, 0);
	struct row r;

	/* The rows: the three responsible persons, not the warner. */
	assert_int_equal(run(f, T0 + 1000), 0);
	r = row_of(f, a, "V-1");
	assert_string_equal(r.state, "open");
	assert_int_equal(r.step, 0);
	assert_int_equal(r.due, T0 + 3 * MIN);
	assert_string_equal(row_of(f, a, "V-3").state, "none");
	assert_string_equal(row_of(f, a, "W-1").state, "open");
	assert_string_equal(steps_of(f, a, &l), "");

	/* Nothing before its time. */
	assert_int_equal(run(f, T0 + 3 * MIN - 1), 0);
	assert_string_equal(steps_of(f, a, &l), "");
	/* Step 1: the same SMS again, for each of them. */
	assert_int_equal(run(f, T0 + 3 * MIN), 3);
	assert_string_equal(steps_of(f, a, &l),
	    "remind sms e1:r:V-1 13800000001\n"
	    "remind sms e1:r:V-2 13800000002\n"
	    "remind sms e1:r:W-1 13800000011\n");
	/* Once: again at the same time, or a bit later, writes nothing. */
	assert_int_equal(run(f, T0 + 3 * MIN), 0);
	assert_int_equal(run(f, T0 + 4 * MIN), 0);
	/* V-2 answers between the steps: no more steps for V-2. */
	answer(f, a, "V-2", T0 + 4 * MIN);
	assert_string_equal(row_of(f, a, "V-2").state, "answered");
	/* Step 2: the voice call. */
	assert_int_equal(run(f, T0 + 5 * MIN), 2);
	/* Step 3: the village's deputy (V-4), once for the village. */
	assert_int_equal(run(f, T0 + 6 * MIN), 2);
	/* Step 4: the township's duty officer gets the list, one message
	 * per village; every silent person moves on. */
	assert_int_equal(run(f, T0 + 8 * MIN), 2);
	assert_string_equal(steps_of(f, a, &l),
	    "remind sms e1:r:V-1 13800000001\n"
	    "remind sms e1:r:V-2 13800000002\n"
	    "remind sms e1:r:W-1 13800000011\n"
	    "remind voice e2:r:V-1 13800000001\n"
	    "remind voice e2:r:W-1 13800000011\n"
	    "remind sms e3:r:V-4 13800000004\n"
	    "unanswered sms e4:140425100201:r:T-D1 13900000001\n"
	    "unanswered sms e4:140425100202:r:T-D1 13900000001\n");
	r = row_of(f, a, "V-1");
	assert_int_equal(r.step, 4);
	assert_int_equal(r.due, T0 + 30 * MIN);
	/* Step 5: unreachable, and nothing after it. */
	assert_int_equal(run(f, T0 + 30 * MIN), 2);
	r = row_of(f, a, "V-1");
	assert_string_equal(r.state, "unreachable");
	assert_int_equal(r.due, 0);
	assert_int_equal(run(f, T0 + 600 * MIN), 0);
	assert_string_equal(row_of(f, a, "V-2").state, "answered");
}

static int
unanswered_cb(void *arg, const struct store_delivery *d)
{
	long long *ids = arg;

	if (strcmp(d->kind, "unanswered") == 0 && ids[0] < 4)
		ids[1 + ids[0]++] = d->id;
	return 0;
}

static void
t_parent_list(void **state)
{
	struct fx *f = *state;
	struct lines l;
	struct eng_errbuf eb;
	long long a = planned_alert(f, "red-2", 4, T0, 0), id = 0, total;
	long long ids[5] = { 0 };
	char *text = NULL;

	answer(f, a, "W-1", T0 + MIN);
	/* Late: every step overdue; one step per round, in order. */
	/* Rows written, and the 3 min step (W-1: found answered). */
	assert_int_equal(run(f, T0 + 8 * MIN), 3);
	assert_string_equal(row_of(f, a, "W-1").state, "answered");
	assert_int_equal(run(f, T0 + 8 * MIN), 2);	/* 5 min */
	assert_int_equal(run(f, T0 + 8 * MIN), 2);	/* 6 min */
	assert_int_equal(run(f, T0 + 8 * MIN), 2);	/* 8 min: one list */
	assert_int_equal(run(f, T0 + 8 * MIN), 0);
	assert_non_null(strstr(steps_of(f, a, &l),
	    "unanswered sms e4:140425100201:r:T-D1 13900000001\n"));
	assert_null(strstr(l.buf, "e4:140425100202"));	/* W-1 answered */
	assert_null(strstr(l.buf, "T-L1"));		/* not an officer */
	eng_errbuf_init(&eb);
	assert_int_equal(store_deliveries_list(f->s, a, NULL, NULL, 1000, 0,
	    unanswered_cb, ids, &total, &eb), 0);
	assert_int_equal(ids[0], 1);
	assert_int_equal(store_delivery_text(f->s, ids[1], &text, &eb), 0);
	assert_string_equal(text, "【叫应未应答】后店村暴雨预警：后店村尚有2人"
	    "未应答：张三（责任人，13800000001）、李四（责任人，13800000002）。"
	    "请立即电话或上门通知。");
	free(text);
	/* A gateway id the store does not know names no delivery. */
	assert_int_equal(store_delivery_by_gateway(f->s, "sms", "none", &id,
	    &eb), ENG_ENOENT);
}

static void
t_quorum_cancel_expiry(void **state)
{
	struct fx *f = *state;
	struct lines l;
	struct eng_errbuf eb;
	long long blue, red, n = 0;
	int64_t exp = T0 + 4 * MIN;

	/* Blue: quorum 1 per village.  V-1 answers: V-2 is not reminded. */
	blue = planned_alert(f, "blue-1", 1, T0, 0);
	assert_int_equal(run(f, T0), 0);
	answer(f, blue, "V-1", T0 + MIN);
	assert_int_equal(run(f, T0 + 10 * MIN), 2);	/* V-2, W-1 */
	assert_string_equal(row_of(f, blue, "V-2").state, "quorum");
	assert_string_equal(steps_of(f, blue, &l),
	    "remind sms e1:r:W-1 13800000011\n");

	/* Red that expires after 4 minutes: step 1 fires, then it stops. */
	red = planned_alert(f, "red-3", 4, T0, exp);
	assert_int_equal(run(f, T0 + 3 * MIN), 3);
	assert_int_equal(run(f, T0 + 5 * MIN), 3);	/* looked at, stopped */
	assert_string_equal(row_of(f, red, "V-1").state, "stopped");
	assert_string_equal(row_of(f, red, "W-1").state, "stopped");
	(void)n;
	eng_errbuf_init(&eb);
	assert_int_equal(strlen(steps_of(f, red, &l)) > 0, 1);
	assert_null(strstr(l.buf, "e2:"));
}

static void
t_cancel_stops(void **state)
{
	struct fx *f = *state;
	struct lines l;
	struct eng_errbuf eb;
	long long a = planned_alert(f, "red-4", 4, T0, 0);

	assert_int_equal(run(f, T0), 0);
	eng_errbuf_init(&eb);
	assert_int_equal(store_alert_set_state(f->s, a, "cancelled", 1, 0,
	    &eb),
	    0);
	assert_int_equal(run(f, T0 + 3 * MIN), 3);
	assert_string_equal(steps_of(f, a, &l), "");
	assert_string_equal(row_of(f, a, "V-1").state, "stopped");
	assert_int_equal(run(f, T0 + 60 * MIN), 0);
}

static void
t_quiet_hours(void **state)
{
	struct fx *f = *state;
	struct lines l;
	/* 2027-01-15T21:00Z = 05:00 in Shanghai: inside 22:00-07:00. */
	int64_t night = T0 + 13 * 60 * MIN;
	long long blue = planned_alert(f, "blue-2", 1, night, 0);
	long long red = planned_alert(f, "red-5", 4, night, 0);
	struct row r;

	assert_int_equal(run(f, night), 0);
	/* Rows looked at: the red ones fire, the blue ones wait. */
	assert_int_equal(run(f, night + 10 * MIN), 3 + 3);
	/* Blue waits for 07:00 (2 hours after 05:00)... */
	assert_string_equal(steps_of(f, blue, &l), "");
	r = row_of(f, blue, "V-1");
	assert_int_equal(r.step, 0);
	assert_int_equal(r.due, night + 2 * 60 * MIN);
	/* ... red does not wait. */
	assert_non_null(strstr(steps_of(f, red, &l), "e1:r:V-1"));
	(void)run(f, night + 2 * 60 * MIN - 1);	/* red goes on */
	assert_string_equal(steps_of(f, blue, &l), "");
	(void)run(f, night + 2 * 60 * MIN);
	assert_non_null(strstr(steps_of(f, blue, &l), "e1:r:V-1"));
}

/*
 * answer_possible: some rule asks the colour for an answer (the fixture's
 * asks every colour); not for a colour no answering rule covers, nor
 * when no rule asks at all, nor for a colour out of range.
 */
static void
t_answer_possible(void **state)
{
	struct fx *f = *state;
	struct cfg_route_people rules[2];
	struct cfg_routing r;

	assert_int_equal(answer_possible(&f->cfg->routing, 4), 1);
	assert_int_equal(answer_possible(&f->cfg->routing, 1), 1);
	memset(rules, 0, sizeof(rules));
	memset(&r, 0, sizeof(r));
	rules[0].colours = ~0u;			/* answer: false */
	rules[1].colours = 1u << 4;		/* red only */
	rules[1].answer = 1;
	r.people = rules;
	r.npeople = 2;
	assert_int_equal(answer_possible(&r, 4), 1);
	assert_int_equal(answer_possible(&r, 3), 0);
	assert_int_equal(answer_possible(&r, -1), 0);
	assert_int_equal(answer_possible(&r, 31), 0);
	r.npeople = 1;
	assert_int_equal(answer_possible(&r, 4), 0);
}

/* gongd --check-config: a notify_parent step that reaches nobody. */
static void
t_check_rosters(void **state)
{
	struct fx *f = *state;
	struct roster rg, rs;
	struct diag_list d;
	char line[600];
	/* 北村's township has no duty officer; 后店村's has. */
	static const char regions2[] =
	    "code,name,lat,lon,parent\n"
	    "140400000000,长治市,,,\n"
	    "140425000000,平顺县,,,\n"
	    "140425100000,青羊镇,,,\n"
	    "140425100201,后店村,,,\n"
	    "140425101000,北耽车乡,,,\n"
	    "140425101201,北村,,,\n";

	diag_list_init(&d);
	roster_init(&rg);
	roster_init(&rs);
	assert_int_equal(roster_parse(ROSTER_REGIONS, regions_csv,
	    strlen(regions_csv), "r.csv", ROSTER_ENC_UTF8, &rg, &d), 0);
	assert_int_equal(roster_parse(ROSTER_RESPONDERS, responders_csv,
	    strlen(responders_csv), "p.csv", ROSTER_ENC_UTF8, &rs, &d), 0);
	/* Everyone reachable; 前店村 has no deputy: a warning only. */
	assert_int_equal(escalate_check_rosters(f->cfg, &rg, &rs, &d), 0);
	assert_int_equal(d.nerrors, 0);
	assert_int_equal(d.n, 1);
	assert_non_null(strstr(diag_format(&d.v[0], line, sizeof(line)),
	    "deputy reaches nobody in 1 of 2 village regions (no active "
	    "deputy with an address): 前店村 (140425100202)"));
	roster_release(&rg);
	diag_list_release(&d);
	diag_list_init(&d);
	assert_int_equal(roster_parse(ROSTER_REGIONS, regions2,
	    strlen(regions2), "r.csv", ROSTER_ENC_UTF8, &rg, &d), 0);
	assert_int_equal(escalate_check_rosters(f->cfg, &rg, &rs, &d),
	    ENG_EINVAL);
	assert_int_equal(d.nerrors, 1);
	assert_string_equal(diag_format(&d.v[d.n - 1], line, sizeof(line)),
	    "t.yaml:22: error: escalation.policies[0].steps[3]: "
	    "notify_parent reaches nobody for people of village level in 1 "
	    "of 2 regions above them: no active duty_officer with an "
	    "address for its channel in 北耽车乡 (140425101000)");
	roster_release(&rg);
	roster_release(&rs);
	diag_list_release(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_steps_in_order_once, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_parent_list, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_quorum_cancel_expiry, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_cancel_stops, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_quiet_hours, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_answer_possible, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_check_rosters, setup,
		    teardown),
	};

	return cmocka_run_group_tests_name("escalate", tests, NULL, NULL);
}
