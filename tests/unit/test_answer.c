/*
 * tests/unit/test_answer.c - SMS replies read (answer_parse) and matched
 * to a person and an alert (answer_sms) on a :memory: store: the only
 * active alert, the alert a code picks, several active alerts and no
 * code (nothing recorded, a question with the codes queued), late
 * answers (cancelled, expired), duplicates, unknown senders and hostile
 * text (long, control characters, GBK bytes).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config/cfg.h"
#include "engine/anslink.h"
#include "engine/answer.h"
#include "engine/roster.h"
#include "engine/store.h"

#define ROOT	"140400000000"
#define NOW	1800000000000LL

static const char regions_csv[] =
    "code,name,lat,lon,parent\n"
    "140400000000,长治市,,,\n"
    "140425000000,平顺县,,,\n"
    "140425100000,青羊镇,,,\n"
    "140425100201,后店村,,,\n";

static const char responders_csv[] =
    "id,name,region,role,phone,wecom,email,active,exercise\n"
    "V-1,张三,140425100201,responsible,13800000001,,,yes,no\n"
    "V-2,李四,140425100201,warner,13800000002,,,yes,no\n"
    "V-3,王五,140425100201,grid_worker,13800000003,,,yes,no\n"
    "V-4,赵六,140425100201,grid_worker,13800000004,,,yes,no\n"
    "V-5,钱七,140425100201,grid_worker,13800000005,,,yes,no\n";

struct fx {
	struct store *s;
	long long a1, a2, cancelled, expired;
};

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

static long long
alert(struct store *s, const char *ident, const char *state,
    int64_t expires, const char *headline)
{
	struct store_alert a;
	struct eng_errbuf eb;
	long long id = 0;

	memset(&a, 0, sizeof(a));
	a.sender = "test@example.cn";
	a.identifier = ident;
	a.sent = "2027-01-15T00:00:00+08:00";
	a.sent_ms = NOW - 60000;
	a.status = "Actual";
	a.msg_type = "Alert";
	a.event = "暴雨";
	a.headline = headline;
	a.colour = 4;
	a.expires_ms = expires;
	a.received_ms = NOW - 60000 + (int64_t)strlen(ident);
	a.source = "test";
	a.via = "test";
	a.state = state;
	a.broadcast = 1;
	a.cap = "<alert/>";
	a.cap_len = 8;
	eng_errbuf_init(&eb);
	if (store_alert_insert(s, &a, &id, &eb) != 0)
		fprintf(stderr, "alert: %s\n", eb.msg);
	return id;
}

static void
sent(struct store *s, long long alert_id, const char *who, const char *phone)
{
	struct store_delivery d;
	struct eng_errbuf eb;
	char recipient[32];
	int added = 0;

	(void)snprintf(recipient, sizeof(recipient), "r:%s", who);
	memset(&d, 0, sizeof(d));
	d.alert_id = alert_id;
	d.kind = "alert";
	d.channel = "sms";
	d.recipient = recipient;
	d.responder_id = who;
	d.region = "140425100201";
	d.address = phone;
	d.role = "responsible";
	d.priority = 8;
	eng_errbuf_init(&eb);
	assert_int_equal(store_delivery_add(s, &d, NOW - 50000, &added, &eb),
	    0);
	assert_int_equal(added, 1);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct eng_errbuf eb;

	if (f == NULL)
		return -1;
	*state = f;
	eng_errbuf_init(&eb);
	if (store_open(":memory:", 0, &f->s, &eb) != 0)
		return -1;
	store_set_root(f->s, ROOT);
	if (import(f->s, ROSTER_REGIONS, regions_csv, "regions.csv") != 0 ||
	    import(f->s, ROSTER_RESPONDERS, responders_csv,
	    "responders.csv") != 0)
		return -1;
	f->a1 = alert(f->s, "a1", "active", 0, "山洪红色预警");
	f->a2 = alert(f->s, "a2", "active", NOW + 3600000, "暴雨橙色预警");
	f->cancelled = alert(f->s, "a3", "cancelled", 0, "已撤销的预警");
	f->expired = alert(f->s, "a4", "active", NOW - 1000, "过期的预警");
	if (f->a1 <= 0 || f->a2 <= 0 || f->cancelled <= 0 || f->expired <= 0)
		return -1;
	sent(f->s, f->a1, "V-1", "13800000001");	/* only a1 */
	sent(f->s, f->a1, "V-2", "13800000002");	/* a1 and a2 */
	sent(f->s, f->a2, "V-2", "13800000002");
	sent(f->s, f->cancelled, "V-3", "13800000003");	/* cancelled */
	sent(f->s, f->expired, "V-4", "13800000004");	/* expired */
	return 0;				/* V-5: nothing sent */
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	store_close(f->s);
	free(f);
	return 0;
}

/* ------------------------------------------------------------------ */

static void
parse_is(const char *text, int ok, int ack, const char *code,
    const char *note)
{
	struct answer_text t;

	assert_int_equal(answer_parse(text, &t), ok);
	assert_int_equal(t.ack, ack);
	assert_string_equal(t.code, code);
	assert_string_equal(t.note, note);
}

static void
t_parse(void **state)
{
	(void)state;
	parse_is("收到", 1, 1, "", "");
	parse_is("已收到", 1, 1, "", "");
	parse_is("  OK ", 1, 1, "", "");
	parse_is("ok，路已封", 1, 1, "", "路已封");
	parse_is("Ok!", 1, 1, "", "");
	parse_is("1", 1, 1, "", "");
	parse_is("1 4821", 1, 1, "4821", "");
	parse_is("收到4821", 1, 1, "4821", "");
	parse_is("4821 已转移群众12人", 1, 0, "4821", "已转移群众12人");
	parse_is("4821收到，已转移", 1, 1, "4821", "已转移");
	/* Fullwidth digits and space, as Chinese input methods type. */
	parse_is("\xef\xbc\x91\xe3\x80\x80\xef\xbc\x94\xef\xbc\x98"
	    "\xef\xbc\x92\xef\xbc\x91", 1, 1, "4821", "");
	parse_is("12345", 0, 0, "", "");
	parse_is("482", 0, 0, "", "");
	parse_is("okay", 0, 0, "", "");
	parse_is("hello", 0, 0, "", "");
	parse_is("", 0, 0, "", "");
	parse_is(NULL, 0, 0, "", "");
	/* Control characters: skipped before, a space inside the note. */
	parse_is("\x01\x02收到\x1b[31m路\n\t断\x7f", 1, 1, "", "31m路 断");
	/* GBK bytes of 路已封 after the ack: never invalid UTF-8 out. */
	parse_is("收到 \xc2\xb7\xd2\xd1\xb7\xe2", 1, 1, "",
	    "\xc2\xb7?\xd1\xb7?");
}

static void
t_parse_long(void **state)
{
	struct answer_text t;
	char *big = malloc(100000);
	size_t i;

	(void)state;
	assert_non_null(big);
	memcpy(big, "收到 ", 7);
	for (i = 7; i < 99999; i += 3)
		memcpy(big + i, "路", 3);
	big[99999 - (99999 - 7) % 3] = '\0';
	assert_int_equal(answer_parse(big, &t), 1);
	/* As many whole characters as fit, never half of one. */
	assert_int_equal(strlen(t.note), 255);
	assert_int_equal(memcmp(t.note, "路路路", 9), 0);
	free(big);
}

struct rows {
	int n;
	char text[8][300];
	size_t rawlen[8];
};

static int
row_cb(void *arg, const struct store_answer *a)
{
	struct rows *r = arg;

	if (r->n < 8)
		r->rawlen[r->n] = strlen(a->raw);
	if (r->n < 8)
		(void)snprintf(r->text[r->n], sizeof(r->text[0]),
		    "%s|%s|%s|%lld|%s|%s|%d", a->responder_id,
		    a->name ? a->name : "-", a->path,
		    (long long)a->received_ms, a->raw,
		    a->note ? a->note : "-", a->late);
	r->n++;
	return 0;
}

static void
rows_of(struct store *s, long long alert_id, struct rows *r)
{
	struct eng_errbuf eb;

	memset(r, 0, sizeof(*r));
	eng_errbuf_init(&eb);
	assert_int_equal(store_answers_list(s, alert_id, row_cb, r, &eb), 0);
}

static void
reply(struct fx *f, const char *from, const char *text, int64_t now,
    struct answer_result *res)
{
	struct eng_errbuf eb;

	eng_errbuf_init(&eb);
	assert_int_equal(answer_sms(f->s, "sms", from, text, now, res, &eb),
	    0);
}

static void
t_single(void **state)
{
	struct fx *f = *state;
	struct answer_result res;
	struct rows r;
	long long answered, targeted;
	struct eng_errbuf eb;

	reply(f, "13800000001", "收到", NOW, &res);
	assert_int_equal(res.outcome, ANSWER_RECORDED);
	assert_int_equal(res.alert_id, f->a1);
	assert_string_equal(res.responder_id, "V-1");
	assert_int_equal(res.late, 0);
	rows_of(f->s, f->a1, &r);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.text[0],
	    "V-1|张三|sms|1800000000000|收到|-|0");
	/* The same reply again (a gateway retry): recorded once. */
	reply(f, "13800000001", "收到", NOW + 5000, &res);
	assert_int_equal(res.outcome, ANSWER_DUPLICATE);
	rows_of(f->s, f->a1, &r);
	assert_int_equal(r.n, 1);
	/* Another wording from +86: a second row, same person. */
	reply(f, "+8613800000001", "ok 路已封", NOW + 6000, &res);
	assert_int_equal(res.outcome, ANSWER_RECORDED);
	rows_of(f->s, f->a1, &r);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.text[1],
	    "V-1|张三|sms|1800000006000|ok 路已封|路已封|0");
	eng_errbuf_init(&eb);
	assert_int_equal(store_answer_counts(f->s, f->a1, &answered,
	    &targeted, &eb), 0);
	assert_int_equal(answered, 1);
	assert_int_equal(targeted, 2);
}

struct ask_row {
	int n;
	long long id;
	char kind[16], channel[16], address[32], recipient[64], state[16];
	int priority;
};

static int
ask_cb(void *arg, const struct store_delivery *d)
{
	struct ask_row *a = arg;

	if (strcmp(d->kind, "ask") != 0)
		return 0;
	a->n++;
	a->id = d->id;
	(void)snprintf(a->kind, sizeof(a->kind), "%s", d->kind);
	(void)snprintf(a->channel, sizeof(a->channel), "%s", d->channel);
	(void)snprintf(a->address, sizeof(a->address), "%s", d->address);
	(void)snprintf(a->recipient, sizeof(a->recipient), "%s",
	    d->recipient);
	(void)snprintf(a->state, sizeof(a->state), "%s", d->state);
	a->priority = d->priority;
	return 0;
}

static void
t_ambiguous(void **state)
{
	struct fx *f = *state;
	struct answer_result res;
	struct ask_row a;
	struct eng_errbuf eb;
	struct rows r;
	char c1[STORE_ACK_CODE_SIZE], c2[STORE_ACK_CODE_SIZE];
	char want[512], msg[32], *text = NULL;

	reply(f, "13800000002", "1", NOW, &res);
	assert_int_equal(res.outcome, ANSWER_ASKED);
	assert_string_equal(res.responder_id, "V-2");
	rows_of(f->s, f->a1, &r);
	assert_int_equal(r.n, 0);
	rows_of(f->s, f->a2, &r);
	assert_int_equal(r.n, 0);
	/* The question: one delivery back to that phone on that channel,
	 * listing both codes (newest alert first). */
	eng_errbuf_init(&eb);
	memset(&a, 0, sizeof(a));
	assert_int_equal(store_deliveries_list(f->s, res.alert_id, NULL, NULL,
	    -1, 0, ask_cb, &a, NULL, &eb), 0);
	assert_int_equal(a.n, 1);
	assert_int_equal(a.id, res.ask_delivery);
	assert_string_equal(a.channel, "sms");
	assert_string_equal(a.address, "13800000002");
	assert_string_equal(a.recipient, "ask:V-2:1800000000000");
	assert_string_equal(a.state, "pending");
	assert_int_equal(a.priority, 9);
	assert_int_equal(store_ack_code(f->s, f->a1, "V-2", c1, &eb), 0);
	assert_int_equal(store_ack_code(f->s, f->a2, "V-2", c2, &eb), 0);
	assert_int_equal(strlen(c1), 4);
	assert_string_not_equal(c1, c2);
	assert_int_equal(store_delivery_text(f->s, a.id, &text, &eb), 0);
	(void)snprintf(want, sizeof(want), "您有多条预警待确认，请回复“收到 "
	    "编号”：%s 暴雨橙色预警；%s 山洪红色预警", c2, c1);
	assert_string_equal(text, want);
	free(text);
	/* A fail-over copy (another channel, same recipient) has it too. */
	{
		struct store_delivery d;
		int added = 0;

		memset(&d, 0, sizeof(d));
		d.alert_id = res.alert_id;
		d.kind = "ask";
		d.channel = "sms2";
		d.recipient = "ask:V-2:1800000000000";
		d.responder_id = "V-2";
		d.region = "140425100201";
		d.address = "13800000002";
		d.priority = 9;
		assert_int_equal(store_delivery_add(f->s, &d, NOW, &added,
		    &eb), 0);
		assert_int_equal(added, 1);
		memset(&a, 0, sizeof(a));
		assert_int_equal(store_deliveries_list(f->s, res.alert_id,
		    NULL, "sms2", -1, 0, ask_cb, &a, NULL, &eb), 0);
		assert_int_equal(a.n, 1);
		assert_int_equal(store_delivery_text(f->s, a.id, &text, &eb),
		    0);
		assert_string_equal(text, want);
		free(text);
	}
	/* "1 <code>" answers that one. */
	(void)snprintf(msg, sizeof(msg), "1 %s", c1);
	reply(f, "13800000002", msg, NOW + 1000, &res);
	assert_int_equal(res.outcome, ANSWER_RECORDED);
	assert_int_equal(res.alert_id, f->a1);
	(void)snprintf(msg, sizeof(msg), "%s 已转移", c2);
	reply(f, "13800000002", msg, NOW + 2000, &res);
	assert_int_equal(res.outcome, ANSWER_RECORDED);
	assert_int_equal(res.alert_id, f->a2);
	rows_of(f->s, f->a2, &r);
	assert_int_equal(r.n, 1);
	assert_non_null(strstr(r.text[0], "|已转移|0"));
	/* A code that is none of theirs is no choice: asked again. */
	reply(f, "13800000002", strcmp(c1, "9999") && strcmp(c2, "9999") ?
	    "1 9999" : "1 1000", NOW + 3000, &res);
	assert_int_equal(res.outcome, ANSWER_ASKED);
	/* Codes are made once per (alert, person). */
	assert_int_equal(store_ack_code(f->s, f->a1, "V-2", want, &eb), 0);
	assert_string_equal(want, c1);
}

static void
t_late(void **state)
{
	struct fx *f = *state;
	struct answer_result res;
	struct rows r;

	reply(f, "13800000003", "已收到", NOW, &res);
	assert_int_equal(res.outcome, ANSWER_RECORDED);
	assert_int_equal(res.alert_id, f->cancelled);
	assert_int_equal(res.late, 1);
	rows_of(f->s, f->cancelled, &r);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.text[0],
	    "V-3|王五|sms|1800000000000|已收到|-|1");
	reply(f, "13800000004", "收到", NOW, &res);
	assert_int_equal(res.outcome, ANSWER_RECORDED);
	assert_int_equal(res.alert_id, f->expired);
	assert_int_equal(res.late, 1);
}

static void
t_nobody(void **state)
{
	struct fx *f = *state;
	struct answer_result res;
	struct rows r;

	reply(f, "13900000000", "收到", NOW, &res);
	assert_int_equal(res.outcome, ANSWER_UNKNOWN_SENDER);
	reply(f, "13800000005", "收到", NOW, &res);
	assert_int_equal(res.outcome, ANSWER_NO_ALERT);
	assert_string_equal(res.responder_id, "V-5");
	reply(f, "13800000001", "谁啊", NOW, &res);
	assert_int_equal(res.outcome, ANSWER_NOT_UNDERSTOOD);
	reply(f, "", "收到", NOW, &res);
	assert_int_equal(res.outcome, ANSWER_UNKNOWN_SENDER);
	reply(f, NULL, NULL, NOW, &res);
	assert_int_equal(res.outcome, ANSWER_NOT_UNDERSTOOD);
	rows_of(f->s, f->a1, &r);
	assert_int_equal(r.n, 0);
}

static void
t_hostile(void **state)
{
	struct fx *f = *state;
	struct answer_result res;
	struct rows r;
	char *big = malloc(20000);

	assert_non_null(big);
	memcpy(big, "收到", 6);
	memset(big + 6, 'x', 20000 - 7);
	big[19999] = '\0';
	reply(f, "13800000001", big, NOW, &res);
	assert_int_equal(res.outcome, ANSWER_RECORDED);
	free(big);
	reply(f, "13800000001", "收到\xd2\xd1\xb7\xe2\x01\x02'; DROP TABLE "
	    "answers; --", NOW + 1, &res);
	assert_int_equal(res.outcome, ANSWER_RECORDED);
	rows_of(f->s, f->a1, &r);
	assert_int_equal(r.n, 2);
	/* The raw input kept to ANSWER_RAW_MAX bytes. */
	assert_int_equal(r.rawlen[0], ANSWER_RAW_MAX);
	assert_non_null(strstr(r.text[1],
	    "|?\xd1\xb7? '; DROP TABLE answers; --|0"));
}

static void
t_answer_add(void **state)
{
	struct fx *f = *state;
	struct store_answer a;
	struct eng_errbuf eb;
	char *text = NULL;
	int added = -1;

	memset(&a, 0, sizeof(a));
	a.alert_id = f->a1;
	a.responder_id = "V-1";
	a.path = "fax";
	a.raw = "x";
	eng_errbuf_init(&eb);
	assert_int_equal(store_answer_add(f->s, &a, &added, &eb), ENG_EINVAL);
	a.path = "link";
	a.alert_id = 999999;
	assert_int_equal(store_answer_add(f->s, &a, &added, &eb), 0);
	assert_int_equal(added, 0);	/* no such alert: nothing */
	a.alert_id = f->a1;
	assert_int_equal(store_answer_add(f->s, &a, &added, &eb), 0);
	assert_int_equal(added, 1);
	assert_int_equal(store_answer_add(f->s, &a, &added, &eb), 0);
	assert_int_equal(added, 0);
	assert_int_equal(store_delivery_text(f->s, 12345, &text, &eb),
	    ENG_ENOENT);
	assert_null(text);
}

static void
t_code_for(void **state)
{
	struct fx *f = *state;
	static char *sms[] = { "sms", NULL };
	static char *warner[] = { "warner", NULL };
	struct cfg_route_people rules[2];
	struct cfg_routing r;
	struct answer_for a;
	struct eng_errbuf eb;
	char code[STORE_ACK_CODE_SIZE], again[STORE_ACK_CODE_SIZE];

	memset(rules, 0, sizeof(rules));
	memset(&r, 0, sizeof(r));
	/* Villages, orange and red, by sms, answer; warners, no answer. */
	rules[0].levels = 1u << REGION_VILLAGE;
	rules[0].colours = (1u << CFG_COLOUR_ORANGE) | (1u << CFG_COLOUR_RED);
	rules[0].channels = sms;
	rules[0].answer = 1;
	rules[1].levels = 1u << REGION_VILLAGE;
	rules[1].colours = 1u << CFG_COLOUR_BLUE;
	rules[1].channels = sms;
	rules[1].roles = warner;
	r.people = rules;
	r.npeople = 2;
	memset(&a, 0, sizeof(a));
	a.alert_id = f->a1;
	a.colour = CFG_COLOUR_RED;
	a.kind = "alert";
	a.channel = "sms";
	a.responder_id = "V-1";
	a.region = "140425100201";
	a.role = "responsible";
	eng_errbuf_init(&eb);
	assert_int_equal(answer_code_for(f->s, &r, &a, code, &eb), 0);
	assert_int_equal(strlen(code), 4);
	assert_true(code[0] >= '1' && code[0] <= '9');
	assert_int_equal(answer_code_for(f->s, &r, &a, again, &eb), 0);
	assert_string_equal(again, code);
	/* The code a reply then carries picks that alert. */
	{
		struct answer_result res;
		char msg[16];

		(void)snprintf(msg, sizeof(msg), "%s", code);
		reply(f, "13800000001", msg, NOW, &res);
		assert_int_equal(res.outcome, ANSWER_RECORDED);
		assert_int_equal(res.alert_id, f->a1);
	}
	a.colour = CFG_COLOUR_BLUE;		/* rule 1: no answer */
	a.role = "warner";
	assert_int_equal(answer_code_for(f->s, &r, &a, code, &eb), 0);
	assert_string_equal(code, "");
	a.colour = CFG_COLOUR_RED;
	a.channel = "mail";			/* not the rule's channel */
	assert_int_equal(answer_code_for(f->s, &r, &a, code, &eb), 0);
	assert_string_equal(code, "");
	a.channel = "sms";
	a.kind = "cancel";			/* a cancel wants no answer */
	assert_int_equal(answer_code_for(f->s, &r, &a, code, &eb), 0);
	assert_string_equal(code, "");
	a.kind = "alert";
	a.region = "140425000000";		/* a county: not the level */
	assert_int_equal(answer_code_for(f->s, &r, &a, code, &eb), 0);
	assert_string_equal(code, "");
	a.region = "14042510020";		/* not a division code */
	assert_int_equal(answer_code_for(f->s, &r, &a, code, &eb), 0);
	assert_string_equal(code, "");
	a.region = "140425100201";
	a.responder_id = NULL;			/* a device */
	assert_int_equal(answer_code_for(f->s, &r, &a, code, &eb), 0);
	assert_string_equal(code, "");
	/* A reminder (an escalation step) always carries the code. */
	a.responder_id = "V-1";
	a.kind = "remind";
	a.channel = "voice";
	assert_int_equal(answer_code_for(f->s, &r, &a, code, &eb), 0);
	assert_string_equal(code, again);
}

static void
t_clean(void **state)
{
	char out[ANSWER_NOTE_MAX], small[8];

	(void)state;
	answer_clean_note("  已通知 <b>\r\n全村 ", 24, out, sizeof(out));
	assert_string_equal(out, "已通知 <b> 全村");
	answer_clean_note("a\0b", 3, out, sizeof(out));
	assert_string_equal(out, "a b");
	answer_clean_note("\xe5\xb7", 2, out, sizeof(out));
	assert_string_equal(out, "??");
	/* Cut at a character boundary: 收 is 3 bytes, 2 fit in 7. */
	answer_clean_note("收收收", 9, small, sizeof(small));
	assert_string_equal(small, "收收");
	answer_clean_note(NULL, 5, out, sizeof(out));
	assert_string_equal(out, "");
}

static const char KEY[] = "0123456789abcdef0123456789abcdef";

static void
t_link(void **state)
{
	struct anslink l;
	char tok[ANSLINK_TOKEN_MAX], bad[ANSLINK_TOKEN_MAX], other[80];
	char *dot;

	(void)state;
	assert_int_equal(anslink_make(KEY, 32, "140425100201-1", 42,
	    NOW + 3600000, tok, sizeof(tok)), 0);
	assert_non_null(strchr(tok, '.'));
	assert_null(strpbrk(tok, "+/=?&# "));	/* URL-safe as is */
	assert_int_equal(anslink_check(KEY, 32, tok, NOW, &l), 0);
	assert_int_equal(l.alert_id, 42);
	assert_int_equal(l.expires_ms, NOW + 3600000);
	assert_string_equal(l.responder_id, "140425100201-1");
	/* Expired: genuine, but refused as such. */
	assert_int_equal(anslink_check(KEY, 32, tok, NOW + 3600000, &l),
	    ENG_ETIMEDOUT);
	assert_int_equal(l.alert_id, 42);
	/* Another key: forged. */
	assert_int_equal(anslink_check("fedcba9876543210fedcba9876543210", 32,
	    tok, NOW, &l), ENG_EPERM);
	/* Another alert (or person) with the old MAC: forged. */
	assert_int_equal(anslink_make(KEY, 32, "140425100201-1", 43,
	    NOW + 3600000, other, sizeof(other)), 0);
	(void)snprintf(bad, sizeof(bad), "%.*s%s",
	    (int)(strchr(other, '.') - other), other, strchr(tok, '.'));
	assert_int_equal(anslink_check(KEY, 32, bad, NOW, &l), ENG_EPERM);
	/* A flipped character of the MAC, truncations, garbage. */
	(void)snprintf(bad, sizeof(bad), "%s", tok);
	dot = strchr(bad, '.');
	dot[1] = dot[1] == 'A' ? 'B' : 'A';
	assert_int_equal(anslink_check(KEY, 32, bad, NOW, &l), ENG_EPERM);
	bad[strlen(bad) - 3] = '\0';
	assert_int_equal(anslink_check(KEY, 32, bad, NOW, &l), ENG_EPERM);
	assert_int_equal(anslink_check(KEY, 32, "", NOW, &l), ENG_EPERM);
	assert_int_equal(anslink_check(KEY, 32, ".", NOW, &l), ENG_EPERM);
	assert_int_equal(anslink_check(KEY, 32, "a.b.c", NOW, &l), ENG_EPERM);
	assert_int_equal(anslink_check(KEY, 32, NULL, NOW, &l), ENG_EPERM);
	assert_int_equal(anslink_check(KEY, 32, "\xff\xfe.\x01", NOW, &l),
	    ENG_EPERM);
	assert_string_equal(l.responder_id, "");
	/* Bad arguments. */
	assert_int_equal(anslink_make(KEY, 8, "x", 1, NOW, tok, sizeof(tok)),
	    ENG_EINVAL);
	assert_int_equal(anslink_make(KEY, 32, "", 1, NOW, tok, sizeof(tok)),
	    ENG_EINVAL);
	assert_int_equal(anslink_make(KEY, 32, "x", 1, NOW, tok, 10),
	    ENG_EINVAL);
	memset(other, 'x', sizeof(other) - 1);
	other[sizeof(other) - 1] = '\0';
	assert_int_equal(anslink_make(KEY, 32, other, 1, NOW, tok,
	    sizeof(tok)), ENG_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_parse),
		cmocka_unit_test(t_parse_long),
		cmocka_unit_test(t_link),
		cmocka_unit_test(t_clean),
		cmocka_unit_test_setup_teardown(t_single, setup, teardown),
		cmocka_unit_test_setup_teardown(t_ambiguous, setup, teardown),
		cmocka_unit_test_setup_teardown(t_late, setup, teardown),
		cmocka_unit_test_setup_teardown(t_nobody, setup, teardown),
		cmocka_unit_test_setup_teardown(t_hostile, setup, teardown),
		cmocka_unit_test_setup_teardown(t_answer_add, setup, teardown),
		cmocka_unit_test_setup_teardown(t_code_for, setup, teardown),
	};

	return cmocka_run_group_tests_name("answer", tests, NULL, NULL);
}
