/*
 * tests/unit/test_report.c - reports of answers (engine/report.h) on a
 * temporary store file: the roster and alerts through the store's
 * functions, deliveries and answers through store_delivery_add/set and
 * store_answer_add, the escalation rows (no store function writes them
 * yet) by direct SQL on a second connection.
 *
 * The alert's 11 targeted people (base_ms = B for all; times to answer
 * in ms after B):
 *   长治市 C-1      no delivery, no answer
 *   青羊镇 T-1      delivered, answered at 60000
 *   后店村 V1-1     delivered, answered 1000
 *          V1-2     sent, answered 2500 (and again later by link)
 *          V1-3     no delivery, answered 4000 late
 *          V1-4     delivered, no answer
 *   西沟村 V2-1     delivered, answered 7250
 *          V2-2     failed, answered 12345 (an answer proves reach)
 *          V2-3     sent, escalation state unreachable
 *   彭家口村 P-1    sms failed + mail dead: unreachable
 *          P-2      pending; a name with a comma, quotes and a newline
 * Exact counts, rates and nearest-rank percentiles follow by hand.
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

#include <jansson.h>
#include <sqlite3.h>

#include "engine/report.h"
#include "engine/roster.h"
#include "engine/store.h"

#define ROOT	"140400000000"
#define B	1800000000000LL
#define HOSTILE	"王,\"五\"\n二"

static const char regions_csv[] =
    "code,name,lat,lon,parent\n"
    "140400000000,长治市,,,\n"
    "140403000000,潞州区,,,\n"
    "140403100000,崔家坡镇,,,\n"
    "140403100201,彭家口村,,,\n"
    "140425000000,平顺县,,,\n"
    "140425100000,青羊镇,,,\n"
    "140425100201,后店村,,,\n"
    "140425100202,西沟村,,,\n"
    "140481000000,潞城区,,,\n";

static const char responders_csv[] =
    "id,name,region,role,phone,wecom,email,active,exercise\n"
    "C-1,市值班,140400000000,duty_officer,13900000001,,,yes,no\n"
    "T-1,镇长,140425100000,leader,13900000002,,,yes,no\n"
    "V1-1,张一,140425100201,responsible,13800000011,,,yes,no\n"
    "V1-2,张二,140425100201,responsible,13800000012,,,yes,no\n"
    "V1-3,张三,140425100201,responsible,13800000013,,,yes,no\n"
    "V1-4,张四,140425100201,responsible,13800000014,,,yes,no\n"
    "V2-1,李一,140425100202,responsible,13800000021,,,yes,no\n"
    "V2-2,李二,140425100202,responsible,13800000022,,,yes,no\n"
    "V2-3,李三,140425100202,responsible,13800000023,,,yes,no\n"
    "P-1,彭一,140403100201,responsible,13800000031,,p1@example.cn,"
    "yes,no\n"
    "P-2,彭二,140403100201,responsible,13800000032,,,yes,no\n"
    "Z-1,潞城,140481000000,responsible,13800000041,,,yes,no\n";

struct fx {
	char path[64];
	struct store *s;
	sqlite3 *db;
	long long alert, empty;
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
alert(struct store *s, const char *ident)
{
	struct store_alert a;
	struct eng_errbuf eb;
	long long id = 0;

	memset(&a, 0, sizeof(a));
	a.sender = "test@example.cn";
	a.identifier = ident;
	a.sent = "2027-01-15T00:00:00+08:00";
	a.sent_ms = B - 60000;
	a.status = "Actual";
	a.msg_type = "Alert";
	a.event = "暴雨";
	a.headline = "暴雨红色预警";
	a.colour = 4;
	a.received_ms = B - 60000;
	a.source = "test";
	a.via = "test";
	a.state = "active";
	a.broadcast = 1;
	a.cap = "<alert/>";
	a.cap_len = 8;
	eng_errbuf_init(&eb);
	if (store_alert_insert(s, &a, &id, &eb) != 0)
		fprintf(stderr, "alert: %s\n", eb.msg);
	return id;
}

/* A delivery of the alert to who through channel, then set to state. */
static void
delivery(struct fx *f, const char *who, const char *region,
    const char *channel, const char *state, int64_t at, const char *err)
{
	struct store_delivery d;
	struct eng_errbuf eb;
	char recipient[32];
	long long id = 0;
	int added = 0;
	sqlite3_stmt *st;

	(void)snprintf(recipient, sizeof(recipient), "r:%s", who);
	memset(&d, 0, sizeof(d));
	d.alert_id = f->alert;
	d.kind = "alert";
	d.channel = channel;
	d.recipient = recipient;
	d.responder_id = who;
	d.region = region;
	d.address = "x";
	d.role = "responsible";
	d.priority = 8;
	eng_errbuf_init(&eb);
	assert_int_equal(store_delivery_add(f->s, &d, B - 1000, &added, &eb),
	    0);
	assert_int_equal(added, 1);
	assert_int_equal(sqlite3_prepare_v2(f->db, "SELECT id FROM deliveries "
	    "WHERE alert_id = ?1 AND channel = ?2 AND recipient = ?3", -1, &st,
	    NULL), SQLITE_OK);
	sqlite3_bind_int64(st, 1, f->alert);
	sqlite3_bind_text(st, 2, channel, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, recipient, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (strcmp(state, "pending") != 0)
		assert_int_equal(store_delivery_set(f->s, id, state, 1, 0, NULL,
		    err, 0, at, &eb), 0);
}

static void
answer(struct fx *f, const char *who, const char *path, const char *raw,
    int64_t after, int late)
{
	struct store_answer a;
	struct eng_errbuf eb;
	int added = 0;

	memset(&a, 0, sizeof(a));
	a.alert_id = f->alert;
	a.responder_id = who;
	a.path = path;
	a.received_ms = B + after;
	a.raw = raw;
	a.late = late;
	eng_errbuf_init(&eb);
	assert_int_equal(store_answer_add(f->s, &a, &added, &eb), 0);
	assert_int_equal(added, 1);
}

static void
sql(struct fx *f, const char *q)
{
	char *msg = NULL;

	if (sqlite3_exec(f->db, q, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", q, msg);
}

static void
escalation(struct fx *f, const char *who, const char *region,
    const char *state)
{
	sqlite3_stmt *st;

	assert_int_equal(sqlite3_prepare_v2(f->db, "INSERT INTO escalations "
	    "(alert_id, responder_id, region, channel, base_ms, step, due_ms, "
	    "state, updated_ms) VALUES (?1, ?2, ?3, 'sms', ?4, 1, NULL, ?5, "
	    "?4)", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_int64(st, 1, f->alert);
	sqlite3_bind_text(st, 2, who, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, region, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, B);
	sqlite3_bind_text(st, 5, state, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
}

#define CITY	"140400000000"
#define LUZHOU	"140403000000"
#define CUI	"140403100000"
#define PENG	"140403100201"
#define PINGS	"140425000000"
#define QY	"140425100000"
#define HD	"140425100201"
#define XG	"140425100202"

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct eng_errbuf eb;
	int fd;

	if (f == NULL)
		return -1;
	*state = f;
	(void)snprintf(f->path, sizeof(f->path), "/tmp/test_report.XXXXXX");
	if ((fd = mkstemp(f->path)) < 0)
		return -1;
	(void)close(fd);
	eng_errbuf_init(&eb);
	if (store_open(f->path, 0, &f->s, &eb) != 0)
		return -1;
	store_set_root(f->s, ROOT);
	if (import(f->s, ROSTER_REGIONS, regions_csv, "regions.csv") != 0 ||
	    import(f->s, ROSTER_RESPONDERS, responders_csv,
	    "responders.csv") != 0)
		return -1;
	if (sqlite3_open(f->path, &f->db) != SQLITE_OK)
		return -1;
	sqlite3_busy_timeout(f->db, 5000);
	f->alert = alert(f->s, "a1");
	f->empty = alert(f->s, "a2");
	return f->alert > 0 && f->empty > 0 ? 0 : -1;
}

/* The scene of the header comment. */
static void
scene(struct fx *f)
{
	sql(f, "UPDATE responders SET name = '" "王,\"五\"\n二" "' "
	    "WHERE id = 'P-2'");
	escalation(f, "C-1", CITY, "open");
	escalation(f, "T-1", QY, "answered");
	escalation(f, "V1-1", HD, "answered");
	escalation(f, "V1-2", HD, "answered");
	escalation(f, "V1-3", HD, "answered");
	escalation(f, "V1-4", HD, "open");
	escalation(f, "V2-1", XG, "answered");
	escalation(f, "V2-2", XG, "answered");
	escalation(f, "V2-3", XG, "unreachable");
	escalation(f, "P-1", PENG, "done");
	escalation(f, "P-2", PENG, "open");
	delivery(f, "T-1", QY, "sms", "delivered", B + 500, NULL);
	delivery(f, "V1-1", HD, "sms", "delivered", B + 500, NULL);
	delivery(f, "V1-2", HD, "sms", "sent", B + 500, NULL);
	delivery(f, "V1-4", HD, "sms", "delivered", B + 500, NULL);
	delivery(f, "V2-1", XG, "sms", "delivered", B + 500, NULL);
	delivery(f, "V2-2", XG, "sms", "failed", B + 500, "no route");
	delivery(f, "V2-3", XG, "sms", "sent", B + 500, NULL);
	delivery(f, "P-1", PENG, "sms", "failed", B + 500, "absent");
	delivery(f, "P-1", PENG, "mail", "dead", B + 9000,
	    "550 mailbox \"p1\", gone");
	delivery(f, "P-2", PENG, "sms", "pending", 0, NULL);
	answer(f, "T-1", "sms", "收到", 60000, 0);
	answer(f, "V1-1", "sms", "1", 1000, 0);
	answer(f, "V1-2", "link", "link", 2500, 0);
	answer(f, "V1-2", "sms", "收到", 90000, 0);
	answer(f, "V1-3", "voice", "1", 4000, 1);
	answer(f, "V2-1", "app", "tg", 7250, 0);
	answer(f, "V2-2", "sms", "ok", 12345, 0);
	/* Someone not targeted answers: not counted anywhere. */
	answer(f, "Z-1", "sms", "收到", 500, 0);
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	if (f == NULL)
		return 0;
	if (f->db != NULL)
		sqlite3_close(f->db);
	store_close(f->s);
	if (f->path[0] != '\0') {
		char p[80];

		(void)unlink(f->path);
		(void)snprintf(p, sizeof(p), "%s-wal", f->path);
		(void)unlink(p);
		(void)snprintf(p, sizeof(p), "%s-shm", f->path);
		(void)unlink(p);
	}
	free(f);
	return 0;
}

static void
check_counts(const struct report_counts *c, long long targeted,
    long long reached, long long answered, long long late,
    long long unreachable, int64_t p50, int64_t p90)
{
	assert_int_equal(c->targeted, targeted);
	assert_int_equal(c->reached, reached);
	assert_int_equal(c->answered, answered);
	assert_int_equal(c->late, late);
	assert_int_equal(c->unreachable, unreachable);
	assert_int_equal(c->p50_ms, p50);
	assert_int_equal(c->p90_ms, p90);
}

static void
t_model(void **state)
{
	struct fx *f = *state;
	struct report *r = NULL;
	struct eng_errbuf eb;
	static const struct {
		const char *code;
		int depth;
	} order[] = {
		{ CITY, 0 }, { LUZHOU, 1 }, { CUI, 2 }, { PENG, 3 },
		{ PINGS, 1 }, { QY, 2 }, { HD, 3 }, { XG, 3 },
	};
	size_t i;

	scene(f);
	eng_errbuf_init(&eb);
	assert_int_equal(report_build(f->s, f->alert, B + 100000, &r, &eb), 0);
	assert_string_equal(r->state, "active");
	assert_string_equal(r->headline, "暴雨红色预警");
	check_counts(&r->total, 11, 7, 6, 1, 2, 4000, 60000);
	check_counts(&r->levels[REGION_CITY], 1, 0, 0, 0, 0, -1, -1);
	check_counts(&r->levels[REGION_COUNTY], 0, 0, 0, 0, 0, -1, -1);
	check_counts(&r->levels[REGION_TOWNSHIP], 1, 1, 1, 0, 0, 60000,
	    60000);
	check_counts(&r->levels[REGION_VILLAGE], 9, 6, 5, 1, 2, 4000, 12345);
	/* Tree order, ancestors included, 潞城区 (nobody targeted) not. */
	assert_int_equal(r->nregions, 8);
	for (i = 0; i < 8; i++) {
		assert_string_equal(r->regions[i].code, order[i].code);
		assert_int_equal(r->regions[i].depth, order[i].depth);
	}
	assert_string_equal(r->regions[0].name, "长治市");
	assert_string_equal(r->regions[0].parent, "");
	assert_string_equal(r->regions[3].parent, CUI);
	check_counts(&r->regions[0].own, 1, 0, 0, 0, 0, -1, -1);
	check_counts(&r->regions[0].subtree, 11, 7, 6, 1, 2, 4000, 60000);
	check_counts(&r->regions[1].own, 0, 0, 0, 0, 0, -1, -1);
	check_counts(&r->regions[1].subtree, 2, 0, 0, 0, 1, -1, -1);
	check_counts(&r->regions[3].own, 2, 0, 0, 0, 1, -1, -1);
	check_counts(&r->regions[4].subtree, 8, 7, 6, 1, 1, 4000, 60000);
	check_counts(&r->regions[5].own, 1, 1, 1, 0, 0, 60000, 60000);
	check_counts(&r->regions[5].subtree, 8, 7, 6, 1, 1, 4000, 60000);
	check_counts(&r->regions[6].own, 4, 4, 3, 1, 0, 2500, 4000);
	check_counts(&r->regions[6].subtree, 4, 4, 3, 1, 0, 2500, 4000);
	check_counts(&r->regions[7].own, 3, 2, 2, 0, 1, 7250, 12345);
	report_free(r);
}

static json_t *
jpath(json_t *j, const char *a, size_t i, const char *b)
{
	json_t *x = json_object_get(j, a);

	if (json_is_array(x))
		x = json_array_get(x, i);
	return b != NULL ? json_object_get(x, b) : x;
}

static void
t_json(void **state)
{
	struct fx *f = *state;
	struct strbuf b = STRBUF_INIT;
	struct report *r = NULL;
	struct eng_errbuf eb;
	json_error_t je;
	json_t *j, *c;

	scene(f);
	eng_errbuf_init(&eb);
	assert_int_equal(report_build(f->s, f->alert, B + 100000, &r, &eb), 0);
	report_json(r, &b);
	report_free(r);
	assert_false(b.oom);
	/* Seconds with ms, exactly as written (not 12.345000000000001). */
	assert_non_null(strstr(b.p, "\"p50_s\":7.250,\"p90_s\":12.345,"));
	j = json_loads(b.p, 0, &je);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "alert_id")),
	    f->alert);
	assert_string_equal(json_string_value(json_object_get(j,
	    "percentile")), "nearest-rank");
	c = json_object_get(j, "totals");
	assert_int_equal(json_integer_value(json_object_get(c, "targeted")),
	    11);
	assert_int_equal(json_integer_value(json_object_get(c, "unanswered")),
	    5);
	assert_true(json_real_value(json_object_get(c, "rate")) == 0.5455);
	assert_string_equal(json_string_value(json_object_get(c, "rate_pct")),
	    "54.55%");
	assert_int_equal(json_integer_value(json_object_get(c, "p90_ms")),
	    60000);
	/* levels: city, county, township, village (no province) */
	assert_int_equal(json_array_size(json_object_get(j, "levels")), 4);
	assert_string_equal(json_string_value(jpath(j, "levels", 3, "level")),
	    "village");
	assert_string_equal(json_string_value(jpath(j, "levels", 3,
	    "level_zh")), "村");
	c = jpath(j, "levels", 3, "counts");
	assert_string_equal(json_string_value(json_object_get(c, "rate_pct")),
	    "55.56%");
	assert_true(json_real_value(json_object_get(c, "p50_s")) == 4.0);
	assert_true(json_real_value(json_object_get(c, "p90_s")) == 12.345);
	c = jpath(j, "levels", 1, "counts");	/* county: nobody */
	assert_true(json_is_null(json_object_get(c, "rate")));
	assert_true(json_is_null(json_object_get(c, "rate_pct")));
	assert_true(json_is_null(json_object_get(c, "p50_s")));
	c = jpath(j, "levels", 0, "counts");	/* city: 0 of 1 */
	assert_string_equal(json_string_value(json_object_get(c, "rate_pct")),
	    "0.00%");
	assert_string_equal(json_string_value(jpath(j, "regions", 7, "name")),
	    "西沟村");
	assert_string_equal(json_string_value(jpath(j, "regions", 7,
	    "parent")), QY);
	assert_true(json_is_null(jpath(j, "regions", 0, "parent")));
	c = json_object_get(jpath(j, "regions", 7, NULL), "own");
	assert_string_equal(json_string_value(json_object_get(c, "rate_pct")),
	    "66.67%");
	json_decref(j);
	strbuf_release(&b);
}

static void
t_csv(void **state)
{
	struct fx *f = *state;
	struct strbuf b = STRBUF_INIT;
	struct report *r = NULL;
	struct eng_errbuf eb;

	scene(f);
	eng_errbuf_init(&eb);
	assert_int_equal(report_build(f->s, f->alert, B, &r, &eb), 0);
	report_csv(r, &b);
	report_free(r);
	assert_false(b.oom);
	assert_memory_equal(b.p, "\xef\xbb\xbf" "alert_id,code,name,level,"
	    "parent,depth,targeted,", 32);
	/* 后店村: own then subtree */
	assert_non_null(strstr(b.p, "\r\n1,140425100201,后店村,village,"
	    "140425100000,3,4,4,3,1,1,0,0.7500,75.00%,2.500,4.000,"
	    "4,4,3,1,1,0,0.7500,75.00%,2.500,4.000\r\n"));
	/* 潞州区: nobody of its own, so empty rate and times */
	assert_non_null(strstr(b.p, "\r\n1,140403000000,潞州区,county,"
	    "140400000000,1,0,0,0,0,0,0,,,,,2,0,0,2,0,1,0.0000,0.00%,,\r\n"));
	assert_int_equal(b.p[b.len - 1], '\n');
	assert_int_equal(b.p[b.len - 2], '\r');
	strbuf_release(&b);
}

static void
t_csv_field(void **state)
{
	struct strbuf b = STRBUF_INIT;

	(void)state;
	report_csv_field(&b, "plain 文字");
	strbuf_addstr(&b, "|");
	report_csv_field(&b, HOSTILE);
	strbuf_addstr(&b, "|");
	report_csv_field(&b, "a\rb");
	strbuf_addstr(&b, "|");
	report_csv_field(&b, "\"");
	strbuf_addstr(&b, "|");
	report_csv_field(&b, NULL);
	strbuf_addstr(&b, "|");
	report_csv_field(&b, "");
	assert_string_equal(b.p, "plain 文字|\"王,\"\"五\"\"\n二\"|\"a\rb\"|"
	    "\"\"\"\"||");
	strbuf_release(&b);
}

static void
t_json_str(void **state)
{
	struct strbuf b = STRBUF_INIT;

	(void)state;
	report_json_str(&b, "a\"b\\c\n\x01\x7f 村 \xff\xc3(\xe4\xb8");
	strbuf_addstr(&b, " ");
	report_json_str(&b, NULL);
	assert_string_equal(b.p, "\"a\\\"b\\\\c\\u000a\\u0001\\u007f 村 "
	    "\\ufffd\\ufffd(\\ufffd\\ufffd\" null");
	strbuf_release(&b);
}

static void
t_percentile(void **state)
{
	int64_t v[10] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	int64_t one[1] = { 42 };
	char frac[16], pct[16], sec[32];

	(void)state;
	assert_int_equal(report_percentile(v, 10, 50), 5);
	assert_int_equal(report_percentile(v, 10, 90), 9);
	assert_int_equal(report_percentile(v, 10, 91), 10);
	assert_int_equal(report_percentile(v, 10, 100), 10);
	assert_int_equal(report_percentile(v, 10, 1), 1);
	assert_int_equal(report_percentile(v, 9, 50), 5);
	assert_int_equal(report_percentile(v, 9, 90), 9);
	assert_int_equal(report_percentile(v, 2, 50), 1);
	assert_int_equal(report_percentile(one, 1, 50), 42);
	assert_int_equal(report_percentile(one, 1, 90), 42);
	assert_int_equal(report_percentile(NULL, 0, 50), -1);
	report_rate(2, 3, frac, sizeof(frac), pct, sizeof(pct));
	assert_string_equal(frac, "0.6667");
	assert_string_equal(pct, "66.67%");
	report_rate(1, 8, frac, sizeof(frac), pct, sizeof(pct));
	assert_string_equal(frac, "0.1250");
	assert_string_equal(pct, "12.50%");
	report_rate(1, 80000, frac, sizeof(frac), pct, sizeof(pct));
	assert_string_equal(frac, "0.0000");		/* 0.0000125 */
	report_rate(1, 20000, frac, sizeof(frac), pct, sizeof(pct));
	assert_string_equal(frac, "0.0001");		/* half up */
	report_rate(100000, 100000, frac, sizeof(frac), pct, sizeof(pct));
	assert_string_equal(frac, "1.0000");
	assert_string_equal(pct, "100.00%");
	report_rate(0, 0, frac, sizeof(frac), pct, sizeof(pct));
	assert_string_equal(frac, "");
	assert_string_equal(pct, "");
	assert_string_equal(report_secs(12345, sec, sizeof(sec)), "12.345");
	assert_string_equal(report_secs(7, sec, sizeof(sec)), "0.007");
	assert_string_equal(report_secs(-1, sec, sizeof(sec)), "");
}

static void
t_unanswered(void **state)
{
	struct fx *f = *state;
	struct strbuf b = STRBUF_INIT;
	struct eng_errbuf eb;
	json_error_t je;
	json_t *j, *u;

	scene(f);
	eng_errbuf_init(&eb);
	assert_int_equal(report_unanswered_json(f->s, f->alert, -1, 0, &b,
	    &eb), 0);
	j = json_loads(b.p, 0, &je);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "total")), 5);
	assert_true(json_is_null(json_object_get(j, "limit")));
	u = json_object_get(j, "unanswered");
	assert_int_equal(json_array_size(u), 5);
	/* tree order: 长治市, 彭家口村 (P-1, P-2), 后店村, 西沟村 */
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(u, 0), "responder_id")), "C-1");
	assert_true(json_is_null(json_object_get(json_array_get(u, 0),
	    "last_attempt")));
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(u, 1), "responder_id")), "P-1");
	/* P-1's last attempt: the mail that died last */
	assert_string_equal(json_string_value(jpath(json_array_get(u, 1),
	    "last_attempt", 0, "channel")), "mail");
	assert_string_equal(json_string_value(jpath(json_array_get(u, 1),
	    "last_attempt", 0, "state")), "dead");
	assert_int_equal(json_integer_value(jpath(json_array_get(u, 1),
	    "last_attempt", 0, "at_ms")), B + 9000);
	assert_string_equal(json_string_value(jpath(json_array_get(u, 1),
	    "last_attempt", 0, "error")), "550 mailbox \"p1\", gone");
	assert_string_equal(json_string_value(jpath(json_array_get(u, 1),
	    "escalation", 0, "state")), "done");
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(u, 2), "name")), HOSTILE);
	assert_string_equal(json_string_value(jpath(json_array_get(u, 2),
	    "region", 0, "name")), "彭家口村");
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(u, 3), "responder_id")), "V1-4");
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(u, 4), "phone")), "13800000023");
	json_decref(j);
	strbuf_release(&b);

	/* limit and offset; total stays 5, also past the end */
	assert_int_equal(report_unanswered_json(f->s, f->alert, 2, 3, &b,
	    &eb), 0);
	j = json_loads(b.p, 0, &je);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "total")), 5);
	assert_int_equal(json_array_size(json_object_get(j, "unanswered")), 2);
	json_decref(j);
	strbuf_release(&b);
	assert_int_equal(report_unanswered_json(f->s, f->alert, 2, 10, &b,
	    &eb), 0);
	assert_non_null(strstr(b.p, "\"total\":5,\"offset\":10,\"limit\":2,"
	    "\"unanswered\":[]}"));
	strbuf_release(&b);

	assert_int_equal(report_unanswered_csv(f->s, f->alert, &b, &eb), 0);
	assert_non_null(strstr(b.p, "\r\nP-1,彭一,responsible,13800000031,"
	    "140403100201,彭家口村,village,done,1,mail,dead,"
	    "2027-01-15T08:00:09Z,1,\"550 mailbox \"\"p1\"\", gone\"\r\n"));
	assert_non_null(strstr(b.p, "\r\nP-2,\"王,\"\"五\"\"\n二\","
	    "responsible,13800000032,140403100201,彭家口村,village,open,1,"
	    "sms,pending,"));
	assert_non_null(strstr(b.p, "\r\nC-1,市值班,duty_officer,13900000001,"
	    "140400000000,长治市,city,open,1,,,,,\r\n"));
	strbuf_release(&b);
}

static void
t_empty(void **state)
{
	struct fx *f = *state;
	struct strbuf b = STRBUF_INIT;
	struct report *r = NULL;
	struct eng_errbuf eb;

	scene(f);
	eng_errbuf_init(&eb);
	assert_int_equal(report_build(f->s, f->empty, B, &r, &eb), 0);
	check_counts(&r->total, 0, 0, 0, 0, 0, -1, -1);
	assert_int_equal(r->nregions, 0);
	report_json(r, &b);
	assert_non_null(strstr(b.p, ",\"totals\":{\"targeted\":0,\"reached\":0,"
	    "\"answered\":0,\"unanswered\":0,\"late\":0,\"unreachable\":0,"
	    "\"rate\":null,\"rate_pct\":null,\"p50_s\":null,\"p90_s\":null,"
	    "\"p50_ms\":null,\"p90_ms\":null},\"levels\":[{\"level\":"
	    "\"city\""));
	assert_non_null(strstr(b.p, "],\"regions\":[]}\n"));
	strbuf_release(&b);
	report_csv(r, &b);
	assert_string_equal(b.p, "\xef\xbb\xbf" "alert_id,code,name,level,"
	    "parent,depth,targeted,reached,answered,unanswered,late,"
	    "unreachable,rate,rate_pct,p50_s,p90_s,subtree_targeted,"
	    "subtree_reached,subtree_answered,subtree_unanswered,subtree_late,"
	    "subtree_unreachable,subtree_rate,subtree_rate_pct,subtree_p50_s,"
	    "subtree_p90_s\r\n");
	strbuf_release(&b);
	report_free(r);
	assert_int_equal(report_unanswered_json(f->s, f->empty, -1, 0, &b,
	    &eb), 0);
	assert_string_equal(b.p, "{\"alert_id\":2,\"total\":0,\"offset\":0,"
	    "\"limit\":null,\"unanswered\":[]}\n");
	strbuf_release(&b);
}

static void
t_unknown(void **state)
{
	struct fx *f = *state;
	struct strbuf b = STRBUF_INIT;
	struct report dummy;
	struct report *r = &dummy;	/* must come back NULL */
	struct eng_errbuf eb;

	eng_errbuf_init(&eb);
	assert_int_equal(report_build(f->s, 999, B, &r, &eb), ENG_ENOENT);
	assert_null(r);
	assert_string_equal(eb.msg, "alert 999 not found");
	eng_errbuf_init(&eb);
	assert_int_equal(report_unanswered_json(f->s, 999, -1, 0, &b, &eb),
	    ENG_ENOENT);
	assert_string_equal(eb.msg, "alert 999 not found");
	assert_null(b.p);
	assert_int_equal(report_unanswered_csv(f->s, 999, &b, &eb),
	    ENG_ENOENT);
	strbuf_release(&b);
	report_free(NULL);
}

/* The gauges of /metrics and the answers by path. */
static int
gauge_cb(void *arg, long long id, long long targeted, long long answered)
{
	char *s = arg;
	size_t n = strlen(s);

	(void)snprintf(s + n, 128 - n, "%lld:%lld/%lld;", id, targeted,
	    answered);
	return 0;
}

static int
path_cb(void *arg, const char *path, long long n)
{
	char *s = arg;
	size_t k = strlen(s);

	(void)snprintf(s + k, 128 - k, "%s=%lld;", path, n);
	return 0;
}

static void
t_gauges(void **state)
{
	struct fx *f = *state;
	struct eng_errbuf eb;
	char s[128] = "";

	scene(f);
	eng_errbuf_init(&eb);
	assert_int_equal(store_answer_gauges(f->s, B, 100, gauge_cb, s, &eb),
	    0);
	assert_string_equal(s, "1:11/6;");	/* a2 has nobody targeted */
	s[0] = '\0';
	assert_int_equal(store_answer_path_counts(f->s, path_cb, s, &eb), 0);
	assert_string_equal(s, "app=1;link=1;sms=5;voice=1;");
	sql(f, "UPDATE alerts SET state = 'cancelled' WHERE id = 1");
	s[0] = '\0';
	assert_int_equal(store_answer_gauges(f->s, B, 100, gauge_cb, s, &eb),
	    0);
	assert_string_equal(s, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_model, setup, teardown),
		cmocka_unit_test_setup_teardown(t_json, setup, teardown),
		cmocka_unit_test_setup_teardown(t_csv, setup, teardown),
		cmocka_unit_test(t_csv_field),
		cmocka_unit_test(t_json_str),
		cmocka_unit_test(t_percentile),
		cmocka_unit_test_setup_teardown(t_unanswered, setup, teardown),
		cmocka_unit_test_setup_teardown(t_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(t_unknown, setup, teardown),
		cmocka_unit_test_setup_teardown(t_gauges, setup, teardown),
	};

	return cmocka_run_group_tests_name("report", tests, NULL, NULL);
}
