/*
 * tests/unit/test_cli_alerts.c - the human formats of `gong send`,
 * `gong alerts`, `gong show` and `gong chain` from fixed gongd JSON
 * documents: verdict lines and exit codes per HTTP status, the alerts
 * table (China Standard Time, clipped CJK headlines, unmatched areas),
 * an alert's details and chain position, the chain; hostile documents
 * (wrong types, terminal escapes, missing members).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "engine/cli/cli.h"
#include "engine/cli/client.h"

struct fx {
	char *buf;
	size_t len;
	FILE *f;
	json_t *doc;
	json_t *doc2;
};

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	if (fx == NULL)
		return -1;
	if ((fx->f = open_memstream(&fx->buf, &fx->len)) == NULL) {
		free(fx);
		return -1;
	}
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	fclose(fx->f);
	free(fx->buf);
	json_decref(fx->doc);
	json_decref(fx->doc2);
	free(fx);
	return 0;
}

static json_t *
parse(const char *text)
{
	json_error_t err;
	json_t *j = json_loads(text, JSON_DECODE_ANY, &err);

	if (j == NULL)
		fail_msg("bad test JSON: %s", err.text);
	return j;
}

/* Load text as the fixture's document (the previous one is freed). */
static json_t *
load(struct fx *fx, const char *text)
{
	json_decref(fx->doc);
	fx->doc = parse(text);
	return fx->doc;
}

/* What was printed since the last call. */
static const char *
out(struct fx *fx)
{
	fflush(fx->f);
	return fx->buf;
}

/* Forget what was printed: a new stream. */
static void
reset(struct fx *fx)
{
	fclose(fx->f);
	free(fx->buf);
	fx->buf = NULL;
	fx->len = 0;
	fx->f = open_memstream(&fx->buf, &fx->len);
	assert_non_null(fx->f);
}

/* ---- gong send ---------------------------------------------------- */

static void
t_send_stored(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(cli_send_print(fx->f, "dir/a.xml", 201, load(fx,
	    "{\"id\":12,\"duplicate\":false,\"state\":\"active\","
	    "\"broadcast\":true,\"chain_id\":10,\"regions\":3,"
	    "\"area_unmatched\":false,\"unknown_references\":0,"
	    "\"colour\":\"orange\",\"warnings\":[{\"line\":12,\"path\":"
	    "\"/alert/info[1]/expires\",\"message\":\"expires before "
	    "effective\"}]}"), NULL), CLI_OK);
	assert_string_equal(out(fx),
	    "dir/a.xml: stored as alert 12 (active, orange, 3 regions, "
	    "chain 10)\n"
	    "dir/a.xml:12: warning: /alert/info[1]/expires: expires before "
	    "effective\n");
	reset(fx);

	/* The first of its chain, one region: nothing else to say. */
	assert_int_equal(cli_send_print(fx->f, "b.xml", 201, load(fx,
	    "{\"id\":7,\"duplicate\":false,\"state\":\"active\","
	    "\"broadcast\":true,\"chain_id\":7,\"regions\":1,"
	    "\"colour\":\"red\",\"warnings\":[]}"), NULL), CLI_OK);
	assert_string_equal(out(fx),
	    "b.xml: stored as alert 7 (active, red, 1 region)\n");
}

static void
t_send_flags(void **state)
{
	struct fx *fx = *state;

	/* Recorded, unmatched, unknown references: all said. */
	assert_int_equal(cli_send_print(fx->f, "c.xml", 201, load(fx,
	    "{\"id\":14,\"duplicate\":false,\"state\":\"recorded\","
	    "\"broadcast\":false,\"chain_id\":14,\"regions\":0,"
	    "\"area_unmatched\":true,\"unknown_references\":2,"
	    "\"colour\":\"none\"}"), NULL), CLI_OK);
	assert_string_equal(out(fx),
	    "c.xml: stored as alert 14 (recorded, none, 0 regions, area "
	    "matched no region, not broadcast, 2 unknown references)\n");
	reset(fx);

	assert_int_equal(cli_send_print(fx->f, "c.xml", 201, load(fx,
	    "{\"id\":15,\"state\":\"active\",\"broadcast\":true,"
	    "\"regions\":2,\"unknown_references\":1}"), NULL), CLI_OK);
	assert_string_equal(out(fx),
	    "c.xml: stored as alert 15 (active, no colour, 2 regions, "
	    "1 unknown reference)\n");
}

static void
t_send_duplicate(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(cli_send_print(fx->f, "a.xml", 200, load(fx,
	    "{\"id\":12,\"duplicate\":true,\"state\":\"active\","
	    "\"broadcast\":true,\"chain_id\":10,\"regions\":3,"
	    "\"colour\":\"orange\",\"warnings\":[]}"), NULL), CLI_OK);
	assert_string_equal(out(fx), "a.xml: duplicate of alert 12\n");
}

static void
t_send_rejected(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(cli_send_print(fx->f, "bad.xml", 422, load(fx,
	    "{\"error\":{\"code\":\"invalid_cap\",\"message\":\"invalid "
	    "CAP: 2 errors\"},\"errors\":[{\"line\":7,\"path\":"
	    "\"/alert/status\",\"message\":\"'Real' is not a status\"},"
	    "{\"line\":0,\"path\":\"/alert/info[1]/area[1]/polygon\","
	    "\"message\":\"not closed\"}],\"warnings\":[{\"line\":3,"
	    "\"path\":null,\"message\":\"no namespace\"}]}"), NULL),
	    CLI_INVALID);
	assert_string_equal(out(fx),
	    "bad.xml: rejected: invalid CAP: 2 errors\n"
	    "bad.xml:7: error: /alert/status: 'Real' is not a status\n"
	    "bad.xml: error: /alert/info[1]/area[1]/polygon: not closed\n"
	    "bad.xml:3: warning: no namespace\n");
	reset(fx);

	/* Errors inside "error", as other endpoints put them. */
	assert_int_equal(cli_send_print(fx->f, "x", 400, load(fx,
	    "{\"error\":{\"code\":\"not_xml\",\"message\":\"not XML\","
	    "\"errors\":[{\"line\":1,\"message\":\"Start tag "
	    "expected\"}]}}"), NULL), CLI_INVALID);
	assert_string_equal(out(fx),
	    "x: rejected: not XML\nx:1: error: Start tag expected\n");
}

static void
t_send_statuses(void **state)
{
	struct fx *fx = *state;
	static const struct {
		long status;
		int rv;
	} cases[] = {
		{ 400, CLI_INVALID }, { 413, CLI_INVALID },
		{ 415, CLI_INVALID }, { 422, CLI_INVALID },
		{ 403, CLI_AUTH }, { 401, CLI_AUTH }, { 404, CLI_NOTFOUND },
		{ 500, CLI_SERVER }, { 503, CLI_SERVER },
	};
	char want[64];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		reset(fx);
		assert_int_equal(cli_send_print(fx->f, "f", cases[i].status,
		    NULL, NULL), cases[i].rv);
		snprintf(want, sizeof(want), "f: rejected (HTTP %ld)\n",
		    cases[i].status);
		assert_string_equal(out(fx), want);
	}
	/* A short plain-text body is shown, safely. */
	reset(fx);
	assert_int_equal(cli_send_print(fx->f, "f", 413, NULL,
	    "too \x1b[31mlarge"), CLI_INVALID);
	assert_string_equal(out(fx),
	    "f: rejected (HTTP 413: too ?[31mlarge)\n");
	/* 403 with its message. */
	reset(fx);
	assert_int_equal(cli_send_print(fx->f, "f", 403, load(fx,
	    "{\"error\":{\"code\":\"forbidden\",\"message\":\"feed cma "
	    "may not send for 140500000000\"}}"), NULL), CLI_AUTH);
	assert_string_equal(out(fx),
	    "f: rejected: feed cma may not send for 140500000000\n");
}

static void
t_send_hostile(void **state)
{
	struct fx *fx = *state;

	/* 2xx without an id is gongd's fault, not the file's. */
	assert_int_equal(cli_send_print(fx->f, "f", 201, load(fx,
	    "{\"id\":\"12\"}"), NULL), CLI_SERVER);
	assert_string_equal(out(fx),
	    "f: gongd's answer (HTTP 201) has no alert id\n");
	reset(fx);
	assert_int_equal(cli_send_print(fx->f, "f", 200, load(fx, "[1]"),
	    NULL), CLI_SERVER);
	reset(fx);
	assert_int_equal(cli_send_print(fx->f, "f", 201, NULL, "{"),
	    CLI_SERVER);
	reset(fx);

	/* Escapes in every string, wrong types, absurd line numbers. */
	assert_int_equal(cli_send_print(fx->f, "f\x1b]0;x\a", 201, load(fx,
	    "{\"id\":3,\"state\":\"act\\u001b[2Jive\",\"colour\":7,"
	    "\"regions\":\"many\",\"warnings\":[5,null,{\"line\":"
	    "99999999999999,\"path\":\"/a\\u0007\",\"message\":"
	    "\"m\\u009b1m\"},{\"line\":-4,\"path\":[],\"message\":{}}]}"),
	    NULL), CLI_OK);
	assert_string_equal(out(fx),
	    "f?]0;x?: stored as alert 3 (act?[2Jive, no colour, 0 regions)\n"
	    "f?]0;x?: warning: /a?: m?1m\n"
	    "f?]0;x?: warning: \n");
	reset(fx);
	assert_int_equal(cli_send_print(fx->f, "f", 422, load(fx,
	    "{\"error\":\"flat\",\"errors\":{\"not\":\"an array\"},"
	    "\"warnings\":\"no\"}"), NULL), CLI_INVALID);
	assert_string_equal(out(fx), "f: rejected (HTTP 422)\n");
}

/* ---- gong alerts ---------------------------------------------------- */

static const char list_doc[] =
    "{\"total\":5,\"alerts\":["
    "{\"id\":13,\"sender\":\"sx-changzhi@cma.gov.cn\",\"identifier\":"
    "\"CN-3\",\"sent\":\"2024-07-10T20:00:00+08:00\",\"status\":\"Actual\","
    "\"msg_type\":\"Cancel\",\"event\":\"暴雨\",\"headline\":"
    "\"长治市气象台解除暴雨预警\",\"severity\":\"Severe\",\"colour\":"
    "\"orange\",\"state\":\"recorded\",\"broadcast\":false,\"received\":"
    "\"2024-07-10T12:00:01Z\",\"expires\":null,\"regions\":3,"
    "\"area_unmatched\":false,\"chain_id\":10,\"source\":\"api\"},"
    "{\"id\":12,\"sent\":\"2024-07-10T06:30:00Z\",\"msg_type\":\"Update\","
    "\"event\":\"暴雨\",\"headline\":\"长治市气象台将暴雨橙色预警升级为"
    "红色预警信号，请各部门做好防御工作\",\"severity\":\"Extreme\","
    "\"colour\":\"red\",\"state\":\"cancelled\",\"broadcast\":true,"
    "\"regions\":3,\"area_unmatched\":false,\"chain_id\":10},"
    "{\"id\":9,\"sent\":\"2003-06-17T14:57:00-07:00\",\"msg_type\":"
    "\"Alert\",\"event\":\"SEVERE THUNDERSTORM\",\"headline\":"
    "\"SEVERE THUNDERSTORM WARNING\",\"severity\":\"Severe\",\"colour\":"
    "\"orange\",\"state\":\"expired\",\"broadcast\":false,\"regions\":0,"
    "\"area_unmatched\":true,\"chain_id\":9,\"source\":\"feed-nws\"}]}";

static void
t_alerts_table(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(cli_alerts_print(fx->f, load(fx, list_doc)), CLI_OK);
	assert_string_equal(out(fx),
	    "ID  SENT (UTC+8)         COLOUR  STATE      EVENT              "
	    "  HEADLINE                                         REGIONS\n"
	    "13  2024-07-10 20:00:00  orange  recorded   暴雨               "
	    "  长治市气象台解除暴雨预警                         3\n"
	    "12  2024-07-10 14:30:00  red     cancelled  暴雨               "
	    "  长治市气象台将暴雨橙色预警升级为红色预警信号...  3\n"
	    "9   2003-06-18 05:57:00  orange  expired    SEVERE THUNDERSTORM"
	    "  SEVERE THUNDERSTORM WARNING                      0 unmatched\n"
	    "3 of 5 alerts\n");
}

static void
t_alerts_empty(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(cli_alerts_print(fx->f, load(fx,
	    "{\"total\":0,\"alerts\":[]}")), CLI_OK);
	assert_string_equal(out(fx), "0 of 0 alerts\n");
	reset(fx);
	assert_int_equal(cli_alerts_print(fx->f, load(fx,
	    "{\"alerts\":{}}")), CLI_SERVER);
	assert_int_equal(cli_alerts_print(fx->f, load(fx, "[]")),
	    CLI_SERVER);
	assert_string_equal(out(fx), "");
}

static void
t_alerts_hostile(void **state)
{
	struct fx *fx = *state;

	/* Missing members are "-", bad times shown as received, an
	 * over-long ASCII event clipped, escapes neutralised. */
	assert_int_equal(cli_alerts_print(fx->f, load(fx,
	    "{\"alerts\":[7,{\"id\":\"x\\u001b[H\",\"sent\":\"yesterday\","
	    "\"event\":\"abcdefghijklmnopqrstuvwxyz0123\",\"headline\":\"\","
	    "\"regions\":null}]}")), CLI_OK);
	assert_string_equal(out(fx),
	    "ID    SENT (UTC+8)  COLOUR  STATE  EVENT                     "
	    "HEADLINE  REGIONS\n"
	    "-     -             -       -      -                         "
	    "-         -\n"
	    "x?[H  yesterday     -       -      abcdefghijklmnopqrstu...  "
	    "-         -\n"
	    "2 of 2 alerts\n");
}

static void
t_local_time(void **state)
{
	static const char *const cases[][2] = {
		{ "2024-07-10T06:30:00Z", "2024-07-10 14:30:00" },
		{ "2024-07-10T14:30:00+08:00", "2024-07-10 14:30:00" },
		{ "2024-02-29T23:30:00-01:00", "2024-03-01 08:30:00" },
		{ "2024-12-31T16:00:00Z", "2025-01-01 00:00:00" },
		{ "1969-12-31T23:59:59Z", "1970-01-01 07:59:59" },
		{ "2024-07-10T06:30:00.5Z", "2024-07-10 14:30:00" },
		{ "2003-06-17T14:57:00-07:00", "2003-06-18 05:57:00" },
		{ "garbage", "garbage" },
		{ "2024-13-01T00:00:00Z", "2024-13-01T00:00:00Z" },
		{ "", "-" },
	};
	char b[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(cli_local_time(cases[i][0], b, sizeof(b)),
		    cases[i][1]);
	assert_string_equal(cli_local_time(NULL, b, sizeof(b)), "-");
	/* Truncated, never overflowing. */
	assert_string_equal(cli_local_time("2024-07-10T06:30:00Z", b, 11),
	    "2024-07-10");
}

/* ---- gong show ------------------------------------------------------ */

static const char alert_doc[] =
    "{\"alert\":{\"id\":12,\"sender\":\"sx-changzhi@cma.gov.cn\","
    "\"identifier\":\"CN-2\",\"sent\":\"2024-07-10T14:30:00+08:00\","
    "\"status\":\"Actual\",\"msg_type\":\"Update\",\"event\":\"暴雨\","
    "\"headline\":\"暴雨红色预警\",\"severity\":\"Extreme\",\"colour\":"
    "\"red\",\"state\":\"superseded\",\"broadcast\":true,\"received\":"
    "\"2024-07-10T06:30:02Z\",\"expires\":\"2024-07-11T14:30:00+08:00\","
    "\"regions\":2,\"area_unmatched\":false,\"chain_id\":10,\"source\":"
    "\"api\",\"language\":\"zh-CN\","
    "\"warnings\":[{\"line\":31,\"path\":\"/alert/info[1]/expires\","
    "\"message\":\"expires before effective\"},{\"line\":0,\"path\":null,"
    "\"message\":\"no language\"}],"
    "\"references\":[{\"sender\":\"sx-changzhi@cma.gov.cn\","
    "\"identifier\":\"CN-1\",\"sent\":\"2024-07-10T10:00:00+08:00\","
    "\"alert_id\":10},{\"sender\":\"x@y\",\"identifier\":\"GONE\","
    "\"sent\":\"2024-07-09T10:00:00+08:00\",\"alert_id\":null}],"
    "\"target_regions\":[{\"code\":\"140425100201\",\"name\":\"东村\","
    "\"level\":5,\"how\":\"geocode\"},{\"code\":\"140425000000\","
    "\"name\":\"平顺县\",\"level\":\"county\",\"how\":\"polygon\"}],"
    "\"cap\":{\"identifier\":\"CN-2\"}}}";

static const char chain_doc[] =
    "{\"chain_id\":10,\"alerts\":["
    "{\"id\":10,\"sent\":\"2024-07-10T10:00:00+08:00\",\"msg_type\":"
    "\"Alert\",\"state\":\"superseded\",\"colour\":\"orange\","
    "\"headline\":\"暴雨橙色预警\"},"
    "{\"id\":12,\"sent\":\"2024-07-10T14:30:00+08:00\",\"msg_type\":"
    "\"Update\",\"state\":\"superseded\",\"colour\":\"red\","
    "\"headline\":\"暴雨红色预警\"},"
    "{\"id\":13,\"sent\":\"2024-07-10T20:00:00+08:00\",\"msg_type\":"
    "\"Cancel\",\"state\":\"recorded\",\"colour\":\"red\","
    "\"headline\":\"解除\\u001b[2J预警\"}]}";

static const char show_head[] =
    "alert 12: 暴雨红色预警\n"
    "  state       superseded (broadcast)\n"
    "  colour      red 红\n"
    "  severity    Extreme\n"
    "  event       暴雨\n"
    "  status      Actual Update\n"
    "  sender      sx-changzhi@cma.gov.cn\n"
    "  identifier  CN-2\n"
    "  sent        2024-07-10 14:30:00 (2024-07-10T14:30:00+08:00)\n"
    "  received    2024-07-10 14:30:02 (2024-07-10T06:30:02Z)\n"
    "  expires     2024-07-11 14:30:00 (2024-07-11T14:30:00+08:00)\n"
    "  language    zh-CN\n"
    "  source      api\n"
    "  regions     2\n";

static const char show_tail[] =
    "warnings (2):\n"
    "  line 31: /alert/info[1]/expires: expires before effective\n"
    "  no language\n"
    "references (2):\n"
    "  sx-changzhi@cma.gov.cn,CN-1,2024-07-10T10:00:00+08:00  -> alert 10\n"
    "  x@y,GONE,2024-07-09T10:00:00+08:00  (not received)\n"
    "target regions (2):\n"
    "  140425100201  东村    village  geocode\n"
    "  140425000000  平顺县  county   polygon\n";

static void
t_show(void **state)
{
	struct fx *fx = *state;
	char want[4096];

	fx->doc2 = parse(chain_doc);
	assert_int_equal(cli_alert_print(fx->f, load(fx, alert_doc),
	    fx->doc2), CLI_OK);
	snprintf(want, sizeof(want), "%s  chain       2 of 3 (chain 10)\n%s",
	    show_head, show_tail);
	assert_string_equal(out(fx), want);
	reset(fx);

	/* Without the chain: only its id. */
	assert_int_equal(cli_alert_print(fx->f, fx->doc, NULL), CLI_OK);
	snprintf(want, sizeof(want), "%s  chain       10\n%s", show_head,
	    show_tail);
	assert_string_equal(out(fx), want);
}

static void
t_show_minimal(void **state)
{
	struct fx *fx = *state;

	/* An unmatched Test message: no lists, no times but sent. */
	assert_int_equal(cli_alert_print(fx->f, load(fx,
	    "{\"alert\":{\"id\":4,\"event\":\"Test\",\"status\":\"Test\","
	    "\"msg_type\":\"Alert\",\"state\":\"recorded\",\"broadcast\":"
	    "false,\"colour\":\"none\",\"sent\":\"2024-01-01T00:00:00Z\","
	    "\"regions\":0,\"area_unmatched\":true,\"warnings\":[],"
	    "\"references\":[],\"target_regions\":[]}}"), NULL), CLI_OK);
	assert_string_equal(out(fx),
	    "alert 4: Test\n"
	    "  state       recorded (not broadcast)\n"
	    "  colour      none\n"
	    "  severity    -\n"
	    "  event       Test\n"
	    "  status      Test Alert\n"
	    "  sender      -\n"
	    "  identifier  -\n"
	    "  sent        2024-01-01 08:00:00 (2024-01-01T00:00:00Z)\n"
	    "  source      -\n"
	    "  regions     0 (the area matched no region)\n");
}

static void
t_show_hostile(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(cli_alert_print(fx->f, load(fx, "{\"alert\":[]}"),
	    NULL), CLI_SERVER);
	assert_int_equal(cli_alert_print(fx->f, load(fx,
	    "{\"alert\":{\"id\":\"1\"}}"), NULL), CLI_SERVER);
	assert_int_equal(cli_alert_print(fx->f, load(fx, "null"), NULL),
	    CLI_SERVER);
	assert_string_equal(out(fx), "");

	/* Wrong types in every list; escapes; a chain without the alert. */
	fx->doc2 = parse("{\"chain_id\":3,\"alerts\":[{\"id\":1},{}]}");
	assert_int_equal(cli_alert_print(fx->f, load(fx,
	    "{\"alert\":{\"id\":2,\"headline\":\"h\\u001b[1m\",\"chain_id\":"
	    "3,\"sent\":5,\"warnings\":[1,{\"message\":\"w\\r\"}],"
	    "\"references\":[{\"alert_id\":\"9\"}],\"target_regions\":"
	    "[{\"code\":1,\"level\":77}]}}"), fx->doc2), CLI_OK);
	assert_string_equal(out(fx),
	    "alert 2: h?[1m\n"
	    "  state       ? (not broadcast)\n"
	    "  colour      none\n"
	    "  severity    -\n"
	    "  event       -\n"
	    "  status      ? ?\n"
	    "  sender      -\n"
	    "  identifier  -\n"
	    "  source      -\n"
	    "  regions     \n"
	    "  chain       3\n"
	    "warnings (2):\n"
	    "  \n"
	    "  w?\n"
	    "references (1):\n"
	    "  ,,  (not received)\n"
	    "target regions (1):\n"
	    "  1    77  \n");
}

/* ---- gong chain ----------------------------------------------------- */

static void
t_chain(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(cli_chain_print(fx->f, load(fx, chain_doc), 12),
	    CLI_OK);
	assert_string_equal(out(fx),
	    "chain 10: 3 messages\n"
	    "  alert 10  2024-07-10 10:00:00  Alert   superseded  orange  "
	    "暴雨橙色预警\n"
	    "* alert 12  2024-07-10 14:30:00  Update  superseded  red     "
	    "暴雨红色预警\n"
	    "  alert 13  2024-07-10 20:00:00  Cancel  recorded    red     "
	    "解除?[2J预警\n");
}

static void
t_chain_hostile(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(cli_chain_print(fx->f, load(fx, "{\"chain_id\":1}"),
	    1), CLI_SERVER);
	assert_int_equal(cli_chain_print(fx->f, load(fx, "\"x\""), 1),
	    CLI_SERVER);
	assert_string_equal(out(fx), "");
	assert_int_equal(cli_chain_print(fx->f, load(fx,
	    "{\"chain_id\":5,\"alerts\":[{\"id\":5,\"msg_type\":\"Alert\"},"
	    "3]}"), 5), CLI_OK);
	assert_string_equal(out(fx),
	    "chain 5: 2 messages\n"
	    "* alert 5  -  Alert  -  -  -\n"
	    "  alert 0  -  -      -  -  -\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_send_stored, setup, teardown),
		cmocka_unit_test_setup_teardown(t_send_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(t_send_duplicate, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_send_rejected, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_send_statuses, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_send_hostile, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_alerts_table, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_alerts_empty, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_alerts_hostile, setup,
		    teardown),
		cmocka_unit_test(t_local_time),
		cmocka_unit_test_setup_teardown(t_show, setup, teardown),
		cmocka_unit_test_setup_teardown(t_show_minimal, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_show_hostile, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(t_chain_hostile, setup,
		    teardown),
	};

	return cmocka_run_group_tests_name("cli_alerts", tests, NULL, NULL);
}
