/*
 * tests/unit/test_render.c - the text of each delivery from the
 * templates (engine/render.h): a temporary store with a small roster, an
 * alert ingested through engine/ingest.h, and the shipped templates or
 * a template set of the test's own.  Run from the repository root
 * (reads templates/default).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <unistd.h>
#include <cmocka.h>

#include "channels/channel.h"
#include "config/cfg.h"
#include "engine/ingest.h"
#include "engine/render.h"
#include "engine/roster.h"
#include "engine/store.h"

#define VILLAGE		"140425100201"	/* 东坡村, in 青羊镇 */
#define TOWNSHIP	"140425100000"	/* 青羊镇 */
#define OTHER_VILLAGE	"140425101201"	/* 北沟村, in 西沟乡 */

static const char regions_csv[] =
    "code,name,lat,lon,parent\n"
    "140400000000,长治市,36.195,113.117,\n"
    "140425000000,平顺县,36.200,113.436,\n"
    "140425100000,青羊镇,36.210,113.400,\n"
    "140425100201,东坡村,36.211,113.401,\n"
    "140425100202,西坡村,36.212,113.402,\n"
    "140425101000,西沟乡,36.300,113.500,\n"
    "140425101201,北沟村,36.301,113.501,\n";

static const char responders_csv[] =
    "id,name,region,role,phone,wecom,email,active,exercise\n"
    "V1,张三,140425100201,responsible,13800000001,zs01,"
    "zhangsan@example.org,yes,yes\n"
    "V2,李四,140425101201,warner,13800000002,,,yes,no\n"
    "T1,王五,140425100000,duty_officer,13800000003,,,yes,no\n";

static const char cap_fmt[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\">\n"
    "  <identifier>%s</identifier>\n"
    "  <sender>14040041600000</sender>\n"
    "  <sent>2026-07-15T08:30:00+08:00</sent>\n"
    "  <status>%s</status>\n"
    "  <msgType>Alert</msgType>\n"
    "  <scope>Public</scope>\n"
    "  <info>\n"
    "    <language>zh-CN</language>\n"
    "    <category>Met</category>\n"
    "    <event>暴雨</event>\n"
    "    <urgency>Expected</urgency>\n"
    "    <severity>Severe</severity>\n"
    "    <certainty>Likely</certainty>\n"
    "    <onset>2026-07-15T11:00:00+08:00</onset>\n"
    "    <expires>2036-07-16T08:30:00+08:00</expires>\n"
    "    <senderName>长治市气象台</senderName>\n"
    "    <headline>长治市气象台发布暴雨橙色预警信号</headline>\n"
    "    <description>%s</description>\n"
    "    <instruction>注意防范山洪、滑坡。</instruction>\n"
    "    <area>\n"
    "      <areaDesc>平顺县青羊镇</areaDesc>\n"
    "      <geocode><valueName>GB/T 2260</valueName>"
    "<value>140425100000</value></geocode>\n"
    "    </area>\n"
    "  </info>\n"
    "</alert>\n";

#define DESC "预计未来6小时内平顺县将出现50毫米以上降水。"

struct fx {
	char dir[64];		/* temporary: the store, template sets */
	char db[128];
	struct store *s;
	struct ingest *ig;
	struct cfg *cfg;
	struct render *r;
	struct render_alert *ra;
	struct diag_list dl;
	struct eng_errbuf eb;
	struct render_msg m;
};

static void
put_file(const char *dir, const char *rel, const char *text)
{
	char path[512], cmd[700];
	FILE *fp;

	(void)snprintf(path, sizeof(path), "%s/%s", dir, rel);
	(void)snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", path);
	assert_int_equal(system(cmd), 0);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static void
import(struct fx *f, enum roster_kind k, const char *csv)
{
	struct store_import_result res;
	struct roster ro;

	roster_init(&ro);
	assert_int_equal(roster_parse(k, csv, strlen(csv), "t.csv",
	    ROSTER_ENC_UTF8, &ro, &f->dl), 0);
	assert_int_equal(store_import(f->s, &ro, 0, &res, &f->dl, &f->eb),
	    0);
	roster_release(&ro);
}

static int
setup(void **state)
{
	static const char *const names[] = { "GB/T 2260", NULL };
	struct ingest_config ic;
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	diag_list_init(&f->dl);
	eng_errbuf_init(&f->eb);
	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/gong-render.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	(void)snprintf(f->db, sizeof(f->db), "%s/gong.db", f->dir);
	assert_int_equal(store_open(f->db, 0, &f->s, &f->eb), 0);
	store_set_root(f->s, "140400000000");
	import(f, ROSTER_REGIONS, regions_csv);
	import(f, ROSTER_RESPONDERS, responders_csv);
	memset(&ic, 0, sizeof(ic));
	ic.db_path = f->db;
	ic.root = "140400000000";
	ic.language = "zh-CN";
	ic.unknown_colour = 2;
	ic.division_value_names = names;
	assert_int_equal(ingest_new(&ic, &f->ig, &f->eb), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	render_msg_release(&f->m);
	render_alert_free(f->ra);
	render_free(f->r);
	cfg_free(f->cfg);
	ingest_free(f->ig);
	store_close(f->s);
	diag_list_release(&f->dl);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* Load the templates of dir (NULL: the shipped set) through the config
 * key; returns render_load's result. */
static int
load(struct fx *f, const char *dir)
{
	char y[600], cwd[PATH_MAX];

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	(void)snprintf(y, sizeof(y), "templates: \"%s\"\n", dir ? dir :
	    "templates/default");
	assert_int_equal(cfg_load_buf(y, strlen(y), "t.yaml", cwd, &f->cfg,
	    &f->dl), 0);
	return render_load(f->cfg, &f->r, &f->dl);
}

struct get {
	struct fx *f;
	int rv;
};

static int
alert_cb(void *arg, const struct store_alert *a)
{
	struct get *g = arg;

	g->rv = render_alert_new(g->f->r, a, &g->f->ra, &g->f->eb);
	return 0;
}

/* Ingest a CAP alert (status, identifier, description) and make its
 * render context. */
static void
alert(struct fx *f, const char *status, const char *id, const char *desc)
{
	struct ingest_source src;
	struct ingest_result res;
	struct get g = { f, -1 };
	size_t n = sizeof(cap_fmt) + strlen(desc) + 200;
	char *x = malloc(n);

	assert_non_null(x);
	(void)snprintf(x, n, cap_fmt, id, status, desc);
	memset(&src, 0, sizeof(src));
	src.name = "test";
	src.via = "cli";
	src.cn_profile = 1;
	assert_int_equal(ingest_cap(f->ig, &src, x, strlen(x), &res, &f->dl,
	    &f->eb), 0);
	free(x);
	assert_int_equal(store_alert_get(f->s, res.alert_id, alert_cb, &g,
	    &f->eb), 0);
	assert_int_equal(g.rv, 0);
}

static void
deliver(struct fx *f, enum tpl_kind kind, const char *region,
    const char *responder)
{
	struct render_to to;

	render_msg_release(&f->m);
	to.kind = kind;
	to.region = region;
	to.responder_id = responder;
	assert_int_equal(render_delivery(f->r, f->s, f->ra, &to, &f->m), 0);
	assert_non_null(f->m.text);
	assert_non_null(f->m.subject);
}

#define SMS_WANT "【长治市气象台】长治市气象台7月15日8时30分发布暴雨橙色预警：" \
    DESC "防御指南：注意防范山洪、滑坡。有效至7月16日8时30分。"

/* The shipped zh-CN SMS for the village's responsible person. */
static void
t_sms_zh(void **state)
{
	struct fx *f = *state;

	assert_int_equal(load(f, NULL), 0);
	assert_int_equal(f->dl.nerrors, 0);
	alert(f, "Actual", "rain-1", DESC);
	deliver(f, TPL_SMS, VILLAGE, "V1");
	assert_string_equal(f->m.text, SMS_WANT);
	assert_string_equal(f->m.tpl, "sms/zh-CN/default.tpl");
	assert_int_equal(f->m.fallback, 0);
	assert_int_equal(f->m.segments, 2);
	assert_int_equal(f->m.fits, 1);
	/* No subject section: the built-in subject. */
	assert_string_equal(f->m.subject, "长治市气象台发布暴雨橙色预警信号");
}

/* An exercise starts with 【演练】 on every channel kind. */
static void
t_exercise(void **state)
{
	struct fx *f = *state;

	assert_int_equal(load(f, NULL), 0);
	alert(f, "Exercise", "drill-1", DESC);
	deliver(f, TPL_SMS, VILLAGE, "V1");
	assert_string_equal(f->m.text, "【演练】" SMS_WANT);
	deliver(f, TPL_EMAIL, VILLAGE, "V1");
	assert_string_equal(f->m.subject,
	    "【演练】【长治市气象台】暴雨橙色预警");
	assert_true(strncmp(f->m.text, "【演练】本邮件为演练，非真实预警。\n\n"
	    "张三（责任人）：\n\n", strlen("【演练】本邮件为演练，非真实预警。"
	    "\n\n张三（责任人）：\n\n")) == 0);
	assert_non_null(strstr(f->m.text, "请在东坡村立即传达，做好防范。"));
	deliver(f, TPL_LOUDSPEAKER, VILLAGE, NULL);
	assert_true(strncmp(f->m.text, "【演练】演练广播，不是真实预警。\n",
	    strlen("【演练】演练广播，不是真实预警。\n")) == 0);
	deliver(f, TPL_APP, VILLAGE, "V1");
	assert_true(strncmp(f->m.text, "【演练】", strlen("【演练】")) == 0);
	assert_non_null(strstr(f->m.text, "影响区域：平顺县青羊镇\n"));
	assert_non_null(strstr(f->m.text,
	    "张三（责任人），请立即在东坡村传达落实。"));
	assert_int_equal(f->m.fallback, 0);
}

/* A township's template serves its villages (一乡镇一方案); another
 * township's village gets the default; the region and responder
 * variables come from the store. */
static void
t_township_override(void **state)
{
	struct fx *f = *state;
	char tdir[128];

	(void)snprintf(tdir, sizeof(tdir), "%s/tpl", f->dir);
	put_file(tdir, "sms/zh-CN/default.tpl",
	    "默认：{{ region.name }}{{ alert.event }}\n");
	put_file(tdir, "sms/zh-CN/暴雨.tpl",
	    "默认暴雨：{{ region.name }}\n");
	put_file(tdir, "regions/" TOWNSHIP "/sms/zh-CN/default.tpl",
	    "青羊镇方案：{{ region.name }}（{{ region.level }}，"
	    "{{ region.code }}）{{ responder.name }}{{ responder.role }}"
	    "{{ alert.colour }}{{ alert.colour_zh }}"
	    "{{ alert.onset | localtime(\"%H:%M\") }}\n");
	assert_int_equal(load(f, tdir), 0);
	alert(f, "Actual", "rain-2", DESC);
	deliver(f, TPL_SMS, VILLAGE, "V1");
	assert_string_equal(f->m.text, "青羊镇方案：东坡村（village，"
	    VILLAGE "）张三责任人orange橙色11:00");
	assert_string_equal(f->m.tpl,
	    "regions/" TOWNSHIP "/sms/zh-CN/default.tpl");
	/* The township itself. */
	deliver(f, TPL_SMS, TOWNSHIP, "T1");
	assert_string_equal(f->m.text, "青羊镇方案：青羊镇（township，"
	    TOWNSHIP "）王五值班员orange橙色11:00");
	/* Elsewhere: the event's default template. */
	deliver(f, TPL_SMS, OTHER_VILLAGE, "V2");
	assert_string_equal(f->m.text, "默认暴雨：北沟村");
	/* A responder id the store does not know: no name. */
	deliver(f, TPL_SMS, VILLAGE, "V9-unknown");
	assert_string_equal(f->m.text, "青羊镇方案：东坡村（village，"
	    VILLAGE "）orange橙色11:00");
	/* A region the store does not know: only its code. */
	deliver(f, TPL_SMS, "140425100299", NULL);
	assert_string_equal(f->m.text, "默认暴雨：");
}

/* Texts that depend only on the region are rendered once per region
 * and alert; anything personal (responder, answer code, reminder) never
 * comes from another delivery's text. */
static void
t_memo(void **state)
{
	struct fx *f = *state;
	char tdir[128];

	(void)snprintf(tdir, sizeof(tdir), "%s/tpl", f->dir);
	put_file(tdir, "sms/zh-CN/default.tpl",
	    "{{ region.name }}{% if ack.reminder %}再次{% endif %}"
	    "{% if ack.required %}回复{{ ack.code }}{% endif %}\n");
	put_file(tdir, "email/zh-CN/default.tpl",
	    "{{ region.name }}：{{ responder.name }}\n");
	assert_int_equal(load(f, tdir), 0);
	alert(f, "Actual", "rain-memo", DESC);
	assert_int_equal(render_set_ack(f->ra, "A1", NULL, 0), 0);
	deliver(f, TPL_SMS, VILLAGE, "V1");
	assert_string_equal(f->m.text, "东坡村回复A1");
	assert_int_equal(render_set_ack(f->ra, NULL, NULL, 0), 0);
	deliver(f, TPL_SMS, VILLAGE, "V1");
	assert_string_equal(f->m.text, "东坡村");
	deliver(f, TPL_SMS, VILLAGE, NULL);
	assert_string_equal(f->m.text, "东坡村");
	assert_int_equal(render_set_ack(f->ra, "B2", NULL, 0), 0);
	deliver(f, TPL_SMS, VILLAGE, "V1");
	assert_string_equal(f->m.text, "东坡村回复B2");
	assert_int_equal(render_set_ack(f->ra, NULL, NULL, 1), 0);
	deliver(f, TPL_SMS, VILLAGE, "V1");
	assert_string_equal(f->m.text, "东坡村再次");
	assert_int_equal(render_set_ack(f->ra, NULL, NULL, 0), 0);
	deliver(f, TPL_SMS, VILLAGE, "V1");
	assert_string_equal(f->m.text, "东坡村");
	deliver(f, TPL_SMS, OTHER_VILLAGE, NULL);
	assert_string_equal(f->m.text, "北沟村");
	deliver(f, TPL_SMS, "140425100202", NULL);
	assert_string_equal(f->m.text, "西坡村");
	/* Personal: each responder's own name, same region. */
	deliver(f, TPL_EMAIL, VILLAGE, "V1");
	assert_string_equal(f->m.text, "东坡村：张三");
	deliver(f, TPL_EMAIL, VILLAGE, "V2");
	assert_string_equal(f->m.text, "东坡村：李四");
	deliver(f, TPL_EMAIL, VILLAGE, NULL);
	assert_string_equal(f->m.text, "东坡村：");
}

#define BUILTIN "【长治市气象台】长治市气象台发布暴雨橙色预警信号。" \
    "注意防范山洪、滑坡。"

/* A template that fails when rendered, renders nothing, or is missing:
 * the built-in wording, never an empty text. */
static void
t_fallback(void **state)
{
	struct fx *f = *state;
	char tdir[128], *big, *desc;
	size_t i, n = 200;

	(void)snprintf(tdir, sizeof(tdir), "%s/tpl", f->dir);
	/* 200 copies of a 6000-byte description: over the 256 KiB output
	 * limit. */
	big = calloc(n, sizeof("{{ alert.description }}"));
	desc = calloc(2001, 3);
	assert_non_null(big);
	assert_non_null(desc);
	for (i = 0; i < n; i++)
		strcat(big, "{{ alert.description }}");
	for (i = 0; i < 2000; i++)
		memcpy(desc + 3 * i, "雨", 3);
	put_file(tdir, "sms/zh-CN/default.tpl", big);
	put_file(tdir, "app/zh-CN/default.tpl",
	    "{% if alert.nothing %}x{% endif %}\n  \n");
	put_file(tdir, "email/zh-CN/default.tpl",
	    "{% section subject %}{% endsection %}正文{{ alert.event }}");
	free(big);
	assert_int_equal(load(f, tdir), 0);
	alert(f, "Actual", "rain-3", desc);
	free(desc);

	deliver(f, TPL_SMS, VILLAGE, "V1");		/* output limit */
	assert_string_equal(f->m.text, BUILTIN);
	assert_int_equal(f->m.fallback, 1);
	assert_null(f->m.tpl);
	assert_int_equal(f->m.segments, 1);
	deliver(f, TPL_APP, VILLAGE, "V1");		/* blank */
	assert_string_equal(f->m.text, BUILTIN);
	assert_int_equal(f->m.fallback, 1);
	deliver(f, TPL_VOICE, VILLAGE, "V1");		/* none at all */
	assert_string_equal(f->m.text, BUILTIN);
	assert_int_equal(f->m.fallback, 1);
	/* An empty subject section: the built-in subject, the body kept. */
	deliver(f, TPL_EMAIL, VILLAGE, "V1");
	assert_string_equal(f->m.text, "正文暴雨");
	assert_string_equal(f->m.subject, "长治市气象台发布暴雨橙色预警信号");
	assert_int_equal(f->m.fallback, 0);
}

/* A broken template is a config error: file:line, column, and the
 * config's key; nothing is loaded. */
static void
t_load_error(void **state)
{
	struct fx *f = *state;
	char tdir[128], want[400];

	(void)snprintf(tdir, sizeof(tdir), "%s/tpl", f->dir);
	put_file(tdir, "sms/zh-CN/default.tpl", "好的\n{{ alert.event | "
	    "trunc }}\n");
	put_file(tdir, "regions/" TOWNSHIP "/sms/zh-CN/default.tpl",
	    "{% if exercise %}x\n");
	assert_int_equal(load(f, tdir), ENG_EINVAL);
	assert_null(f->r);
	assert_int_equal(f->dl.nerrors, 3);
	(void)snprintf(want, sizeof(want), "%s/sms/zh-CN/default.tpl:2: "
	    "error: column 18: unknown filter 'trunc'", tdir);
	assert_non_null(strstr(f->dl.v[0].file, "/tpl/"));
	{
		char buf[600];
		size_t i;
		int seen = 0;

		for (i = 0; i < f->dl.n; i++)
			if (strcmp(diag_format(&f->dl.v[i], buf, sizeof(buf)),
			    want) == 0)
				seen = 1;
		assert_true(seen);
		(void)snprintf(want, sizeof(want), "t.yaml:1: error: "
		    "templates: the templates in '%s' have errors; none is "
		    "used", tdir);
		assert_string_equal(diag_format(&f->dl.v[f->dl.n - 1], buf,
		    sizeof(buf)), want);
	}
	/* A directory that is not there. */
	diag_list_release(&f->dl);
	cfg_free(f->cfg);
	f->cfg = NULL;
	(void)snprintf(tdir, sizeof(tdir), "%s/none", f->dir);
	assert_int_equal(load(f, tdir), ENG_EIO);
	assert_int_equal(f->dl.nerrors, 2);
}

/* Channel -> template kind. */
static void
t_kind(void **state)
{
	static const struct channel_ops voice = { .name = "voice_sip" };
	struct channel ch;

	(void)state;
	memset(&ch, 0, sizeof(ch));
	ch.ops = &chan_kannel_ops;
	ch.addr = CHAN_ADDR_PHONE;
	assert_int_equal(render_kind(&ch, "r:V1", "responsible"), TPL_SMS);
	ch.ops = &voice;
	assert_int_equal(render_kind(&ch, "r:V1", "responsible"), TPL_VOICE);
	ch.ops = &chan_file_ops;
	ch.addr = CHAN_ADDR_EMAIL;
	assert_int_equal(render_kind(&ch, "r:V1", "responsible"), TPL_EMAIL);
	ch.addr = CHAN_ADDR_WECOM;
	assert_int_equal(render_kind(&ch, "r:V1", "warner"), TPL_APP);
	ch.addr = CHAN_ADDR_TELEGRAM;
	assert_int_equal(render_kind(&ch, "r:V1", "warner"), TPL_APP);
	/* Devices by their kind, whatever the channel. */
	ch.addr = CHAN_ADDR_PHONE;
	assert_int_equal(render_kind(&ch, "d:LS-1", "loudspeaker"),
	    TPL_LOUDSPEAKER);
	assert_int_equal(render_kind(&ch, "d:S-1", "siren"), TPL_LOUDSPEAKER);
	assert_int_equal(render_kind(&ch, "d:FM-1", "radio"),
	    TPL_LOUDSPEAKER);
	assert_int_equal(render_kind(&ch, "d:GC-1", "group_chat"), TPL_APP);
	ch.addr = CHAN_ADDR_DEVICE;
	assert_int_equal(render_kind(&ch, "d:X-1", "unknown"),
	    TPL_LOUDSPEAKER);
	assert_int_equal(render_kind(NULL, "r:V1", NULL), TPL_SMS);
}

/* English deployment: the en templates, English role words. */
static void
t_english(void **state)
{
	struct fx *f = *state;
	char y[300], cwd[PATH_MAX];

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	(void)snprintf(y, sizeof(y), "deployment:\n  language: en\n"
	    "  timezone: Europe/Paris\ntemplates: templates/default\n");
	assert_int_equal(cfg_load_buf(y, strlen(y), "t.yaml", cwd, &f->cfg,
	    &f->dl), 0);
	assert_int_equal(render_load(f->cfg, &f->r, &f->dl), 0);
	/* An unknown zone: a warning, times in UTC+8. */
	assert_int_equal(f->dl.nwarnings, 1);
	assert_int_equal(f->dl.nerrors, 0);
	alert(f, "Actual", "rain-4", DESC);
	deliver(f, TPL_VOICE, TOWNSHIP, "T1");
	assert_true(strncmp(f->m.text, "Hello 王五.\n", 13) == 0);
	deliver(f, TPL_APP, TOWNSHIP, "T1");
	assert_non_null(strstr(f->m.text, "王五 (duty officer), please pass "
	    "this on in 青羊镇."));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_sms_zh, setup, teardown),
		cmocka_unit_test_setup_teardown(t_exercise, setup, teardown),
		cmocka_unit_test_setup_teardown(t_township_override, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_fallback, setup, teardown),
		cmocka_unit_test_setup_teardown(t_memo, setup, teardown),
		cmocka_unit_test_setup_teardown(t_load_error, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_kind, setup, teardown),
		cmocka_unit_test_setup_teardown(t_english, setup, teardown),
	};

	return cmocka_run_group_tests_name("render", tests, NULL, NULL);
}
