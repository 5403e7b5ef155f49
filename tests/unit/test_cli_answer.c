/*
 * tests/unit/test_cli_answer.c - `gong answer ID RESPONDER --reason TEXT
 * --by NAME [--note TEXT]`: the command line (options in any order, global
 * options kept, every missing or bad argument a usage error with its
 * message), the JSON body (escaping, no note when none), and the verdict
 * from gongd's answer (recorded, duplicate, late, refusals and their exit
 * codes, hostile documents).
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

#include "engine/cli/cli.h"
#include "engine/cli/client.h"

#define MAXARGS 16

struct fx {
	char *argv[MAXARGS + 1];
	int argc;
	struct cli_opts o;
	struct cli_answer_args aa;
	char err[2048];		/* what the parser printed on stderr */
	char *obuf, *ebuf;
	size_t olen, elen;
	FILE *out, *errf;
	json_t *doc;
};

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	if (fx == NULL)
		return -1;
	fx->out = open_memstream(&fx->obuf, &fx->olen);
	fx->errf = open_memstream(&fx->ebuf, &fx->elen);
	if (fx->out == NULL || fx->errf == NULL)
		return -1;
	cli_opts_init(&fx->o, "answer");
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;
	int i;

	for (i = 0; i < fx->argc; i++)
		free(fx->argv[i]);
	fclose(fx->out);
	fclose(fx->errf);
	free(fx->obuf);
	free(fx->ebuf);
	json_decref(fx->doc);
	free(fx);
	return 0;
}

/* Parse the NULL-terminated arguments after "answer"; stderr captured
 * into fx->err. */
static int
parse(struct fx *fx, ...)
{
	va_list ap;
	const char *s;
	FILE *tmp;
	size_t n;
	int saved, rv;

	fx->argv[fx->argc++] = strdup("answer");
	va_start(ap, fx);
	while ((s = va_arg(ap, const char *)) != NULL) {
		assert_true(fx->argc < MAXARGS);
		fx->argv[fx->argc++] = strdup(s);
	}
	va_end(ap);
	fflush(stderr);
	assert_non_null(tmp = tmpfile());
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
	rv = cli_answer_parse(fx->argc, fx->argv, &fx->o, &fx->aa);
	fflush(stderr);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	rewind(tmp);
	n = fread(fx->err, 1, sizeof(fx->err) - 1, tmp);
	fx->err[n] = '\0';
	fclose(tmp);
	return rv;
}

static void
t_parse_ok(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(parse(fx, "12", "140425100201-1", "--reason",
	    "reached by phone 09:12", "--by", "王值班", "--note", "已通知",
	    NULL), CLI_OK);
	assert_int_equal(fx->aa.alert_id, 12);
	assert_string_equal(fx->aa.responder, "140425100201-1");
	assert_string_equal(fx->aa.reason, "reached by phone 09:12");
	assert_string_equal(fx->aa.by, "王值班");
	assert_string_equal(fx->aa.note, "已通知");
	assert_string_equal(fx->err, "");
}

static void
t_parse_order_and_globals(void **state)
{
	struct fx *fx = *state;

	/* Options first, global ones mixed in, --opt=value form. */
	assert_int_equal(parse(fx, "--by=李", "--url", "http://127.0.0.1:9",
	    "--json", "--reason", "r", "7", "140425100201-3", NULL), CLI_OK);
	assert_int_equal(fx->aa.alert_id, 7);
	assert_string_equal(fx->aa.responder, "140425100201-3");
	assert_string_equal(fx->aa.by, "李");
	assert_string_equal(fx->aa.reason, "r");
	assert_null(fx->aa.note);
	assert_string_equal(fx->o.url, "http://127.0.0.1:9");
	assert_int_equal(fx->o.json, 1);
}

static void
t_parse_missing(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(parse(fx, "12", "140425100201-1", "--by", "王",
	    NULL), CLI_USAGE);
	assert_string_equal(fx->err, "gong answer: --reason is required (and "
	    "not empty)\nTry 'gong answer --help'.\n");
}

static void
t_parse_missing_by(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(parse(fx, "12", "140425100201-1", "--reason", "r",
	    "--by", "", NULL), CLI_USAGE);
	assert_string_equal(fx->err, "gong answer: --by is required (and not "
	    "empty)\nTry 'gong answer --help'.\n");
}

static void
t_parse_empty_reason(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(parse(fx, "12", "x", "--reason", "", "--by", "王",
	    NULL), CLI_USAGE);
	assert_non_null(strstr(fx->err, "--reason is required"));
}

static void
t_parse_positionals(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(parse(fx, "--reason", "r", "--by", "b", NULL),
	    CLI_USAGE);
	assert_string_equal(fx->err, "gong answer: missing alert ID and "
	    "RESPONDER\nTry 'gong answer --help'.\n");
}

static void
t_parse_no_responder(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(parse(fx, "12", "--reason", "r", "--by", "b", NULL),
	    CLI_USAGE);
	assert_string_equal(fx->err, "gong answer: missing RESPONDER\n"
	    "Try 'gong answer --help'.\n");
}

static void
t_parse_too_many(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(parse(fx, "12", "a", "b", "--reason", "r", "--by",
	    "b", NULL), CLI_USAGE);
	assert_string_equal(fx->err, "gong answer: too many arguments\n"
	    "Try 'gong answer --help'.\n");
}

static void
t_parse_empty_responder(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(parse(fx, "12", "", "--reason", "r", "--by", "b",
	    NULL), CLI_USAGE);
	assert_string_equal(fx->err, "gong answer: RESPONDER is empty\n");
}

static void
t_parse_bad_ids(void **state)
{
	static const char *const bad[] = {
		"0", "12x", "", " 12", "+12", "99999999999999999999", "0x10"
	};
	struct fx *fx = *state;
	char want[128];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		while (fx->argc > 0)
			free(fx->argv[--fx->argc]);
		assert_int_equal(parse(fx, bad[i], "x", "--reason", "r",
		    "--by", "b", NULL), CLI_USAGE);
		(void)snprintf(want, sizeof(want), "gong answer: bad alert ID "
		    "'%s' (want a number from 1)\n", bad[i]);
		assert_string_equal(fx->err, want);
	}
	/* A negative id reads as an option. */
	while (fx->argc > 0)
		free(fx->argv[--fx->argc]);
	assert_int_equal(parse(fx, "-3", "x", "--reason", "r", "--by", "b",
	    NULL), CLI_USAGE);
	assert_string_equal(fx->err, "gong answer: unknown option '-3'\n"
	    "Try 'gong answer --help'.\n");
}

static void
t_parse_unknown_option(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(parse(fx, "12", "x", "--reason", "r", "--by", "b",
	    "--force", NULL), CLI_USAGE);
	assert_non_null(strstr(fx->err, "--force"));
}

static void
t_parse_missing_value(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(parse(fx, "12", "x", "--by", "b", "--reason", NULL),
	    CLI_USAGE);
	assert_non_null(strstr(fx->err, "--reason"));
}

static void
t_parse_help(void **state)
{
	struct fx *fx = *state;
	FILE *saved = stdout;
	char *buf = NULL;
	size_t len = 0;

	assert_non_null(stdout = open_memstream(&buf, &len));
	assert_int_equal(parse(fx, "--help", NULL), -1);
	fclose(stdout);
	stdout = saved;
	assert_non_null(strstr(buf, "usage: gong answer ID RESPONDER "
	    "--reason TEXT --by NAME [--note TEXT]"));
	assert_non_null(strstr(buf, "--url URL"));
	free(buf);
}

static void
t_body(void **state)
{
	struct fx *fx = *state;
	char *b;

	fx->aa.alert_id = 3;
	fx->aa.responder = "140425100201-1";
	fx->aa.reason = "reached by \"phone\"\n09:12";
	fx->aa.by = "王值班";
	assert_non_null(b = cli_answer_body(&fx->aa));
	assert_string_equal(b, "{\"responder_id\":\"140425100201-1\","
	    "\"reason\":\"reached by \\\"phone\\\"\\n09:12\","
	    "\"by\":\"王值班\"}");
	free(b);
	fx->aa.note = "已通知";
	assert_non_null(b = cli_answer_body(&fx->aa));
	assert_string_equal(b, "{\"responder_id\":\"140425100201-1\","
	    "\"reason\":\"reached by \\\"phone\\\"\\n09:12\","
	    "\"by\":\"王值班\",\"note\":\"已通知\"}");
	free(b);
}

static void
t_body_bad_utf8(void **state)
{
	struct fx *fx = *state;

	/* jansson refuses strings that are not UTF-8: no body, no request. */
	fx->aa.responder = "x";
	fx->aa.reason = "\xff\xfe";
	fx->aa.by = "b";
	assert_null(cli_answer_body(&fx->aa));
}

static json_t *
load(struct fx *fx, const char *text)
{
	json_error_t e;

	json_decref(fx->doc);
	fx->doc = json_loads(text, 0, &e);
	if (fx->doc == NULL)
		fail_msg("bad test JSON: %s", e.text);
	return fx->doc;
}

static const char *
out(struct fx *fx)
{
	fflush(fx->out);
	return fx->obuf;
}

static const char *
err(struct fx *fx)
{
	fflush(fx->errf);
	return fx->ebuf;
}

static void
t_print_recorded(void **state)
{
	struct fx *fx = *state;

	load(fx, "{\"alert_id\":12,\"id\":4,\"responder_id\":"
	    "\"140425100201-1\",\"name\":\"郑庆海\",\"path\":\"officer\","
	    "\"received\":\"2026-11-26T09:12:00.000Z\",\"late\":false,"
	    "\"note\":null,\"recorded_by\":\"王值班\",\"reason\":"
	    "\"reached by phone 09:12\",\"duplicate\":false}");
	assert_int_equal(cli_answer_print(fx->out, fx->errf, 201, fx->doc,
	    NULL), CLI_OK);
	assert_string_equal(out(fx), "recorded: 郑庆海 (140425100201-1) "
	    "answered alert 12, recorded by 王值班: reached by phone 09:12\n");
	assert_string_equal(err(fx), "");
}

static void
t_print_duplicate_late(void **state)
{
	struct fx *fx = *state;

	load(fx, "{\"alert_id\":12,\"responder_id\":\"r-1\",\"name\":null,"
	    "\"late\":true,\"recorded_by\":\"b\",\"reason\":\"r\","
	    "\"duplicate\":true}");
	assert_int_equal(cli_answer_print(fx->out, fx->errf, 200, fx->doc,
	    NULL), CLI_OK);
	assert_string_equal(out(fx), "already recorded: r-1 answered alert "
	    "12, recorded by b: r\n  late: the alert was no longer in "
	    "force\n");
}

static void
t_print_refused(void **state)
{
	struct fx *fx = *state;

	load(fx, "{\"error\":{\"code\":\"not_sent\",\"message\":"
	    "\"responder x (y) was not sent alert 12: no delivery of it to "
	    "them\"}}");
	assert_int_equal(cli_answer_print(fx->out, fx->errf, 422, fx->doc,
	    NULL), CLI_INVALID);
	assert_string_equal(out(fx), "");
	assert_string_equal(err(fx), "gong: error: responder x (y) was not "
	    "sent alert 12: no delivery of it to them\n");
}

static void
t_print_statuses(void **state)
{
	static const struct { long status; int rv; } v[] = {
		{ 400, CLI_INVALID }, { 404, CLI_INVALID },
		{ 413, CLI_INVALID }, { 415, CLI_INVALID },
		{ 422, CLI_INVALID }, { 401, CLI_AUTH }, { 403, CLI_AUTH },
		{ 500, CLI_SERVER }, { 503, CLI_SERVER },
	};
	struct fx *fx = *state;
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		assert_int_equal(cli_answer_print(fx->out, fx->errf,
		    v[i].status, NULL, "oops"), v[i].rv);
	assert_string_equal(out(fx), "");
	assert_non_null(strstr(err(fx), "gong: error: gongd answered HTTP 404: "
	    "oops\n"));
}

static void
t_print_hostile(void **state)
{
	struct fx *fx = *state;

	/* 2xx without what a verdict needs. */
	assert_int_equal(cli_answer_print(fx->out, fx->errf, 201, NULL, "x"),
	    CLI_SERVER);
	load(fx, "[1]");
	assert_int_equal(cli_answer_print(fx->out, fx->errf, 201, fx->doc,
	    NULL), CLI_SERVER);
	load(fx, "{\"responder_id\":7}");
	assert_int_equal(cli_answer_print(fx->out, fx->errf, 200, fx->doc,
	    NULL), CLI_SERVER);
	assert_string_equal(out(fx), "");
	assert_string_equal(err(fx), "gong: error: gongd's answer (HTTP 201) "
	    "has no responder_id\ngong: error: gongd's answer (HTTP 201) has "
	    "no responder_id\ngong: error: gongd's answer (HTTP 200) has no "
	    "responder_id\n");
	/* Terminal escapes in gongd's strings are not passed on. */
	load(fx, "{\"alert_id\":\"1\\u001b[2J\",\"responder_id\":"
	    "\"a\\u001b]0;x\\u0007\",\"name\":\"\\u009b31m\","
	    "\"recorded_by\":\"b\\r\",\"reason\":\"r\\n\"}");
	assert_int_equal(cli_answer_print(fx->out, fx->errf, 201, fx->doc,
	    NULL), CLI_OK);
	assert_string_equal(out(fx), "recorded: ?31m (a?]0;x?) answered "
	    "alert 1?[2J, recorded by b?: r?\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_parse_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(t_parse_order_and_globals,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(t_parse_missing, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_parse_missing_by, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_parse_empty_reason, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_parse_positionals, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_parse_no_responder, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_parse_too_many, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_parse_empty_responder, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_parse_bad_ids, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_parse_unknown_option, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_parse_missing_value, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_parse_help, setup, teardown),
		cmocka_unit_test_setup_teardown(t_body, setup, teardown),
		cmocka_unit_test_setup_teardown(t_body_bad_utf8, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_print_recorded, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_print_duplicate_late, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_print_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_print_statuses, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_print_hostile, setup,
		    teardown),
	};

	return cmocka_run_group_tests_name("cli_answer", tests, NULL, NULL);
}
