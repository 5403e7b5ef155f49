/*
 * tests/unit/test_cli_report.c - the tables of `gong report` and
 * `gong unanswered` (cli_report_print, cli_unanswered_print) from
 * documents shaped as gongd's: exact lines, wide characters padded,
 * missing parts refused, a newline in a name kept on one line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "engine/cli/cli.h"

static const char report_doc[] =
    "{\"alert_id\":7,\"state\":\"active\",\"headline\":\"暴雨红色预警\","
    "\"totals\":{\"targeted\":3,\"reached\":2,\"answered\":2,\"late\":0,"
    "\"unreachable\":1,\"rate_pct\":\"66.67%\",\"p50_ms\":1500,"
    "\"p90_ms\":12345},"
    "\"levels\":[{\"level\":\"village\",\"level_zh\":\"村\",\"counts\":"
    "{\"targeted\":3,\"reached\":2,\"answered\":2,\"unreachable\":1,"
    "\"rate_pct\":\"66.67%\",\"p50_ms\":1500,\"p90_ms\":12345}},"
    "{\"level\":\"county\",\"level_zh\":\"县\",\"counts\":{\"targeted\":0,"
    "\"reached\":0,\"answered\":0,\"unreachable\":0,\"rate_pct\":null,"
    "\"p50_ms\":null,\"p90_ms\":null}}],"
    "\"regions\":[{\"code\":\"140400000000\",\"name\":\"长治市\","
    "\"depth\":0,\"subtree\":{\"targeted\":3,\"reached\":2,\"answered\":2,"
    "\"unreachable\":1,\"rate_pct\":\"66.67%\",\"p50_ms\":1500,"
    "\"p90_ms\":12345}},{\"code\":\"140425100201\",\"name\":\"后店村\","
    "\"depth\":1,\"subtree\":{\"targeted\":3,\"reached\":2,\"answered\":2,"
    "\"unreachable\":1,\"rate_pct\":\"66.67%\",\"p50_ms\":1500,"
    "\"p90_ms\":12345}}]}";

static char *
print(int (*fn)(FILE *, const struct json_t *), const char *doc, int *rv)
{
	json_error_t je;
	json_t *j = json_loads(doc, 0, &je);
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	assert_non_null(j);
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	*rv = fn(f, j);
	fclose(f);
	json_decref(j);
	return buf;
}

static void
t_report(void **state)
{
	char *out;
	int rv;

	(void)state;
	out = print(cli_report_print, report_doc, &rv);
	assert_int_equal(rv, CLI_OK);
	assert_string_equal(out,
	    "Alert 7 (active) 暴雨红色预警\n"
	    "叫应率 66.67% (2 of 3 answered), reached 2, unreachable 1, "
	    "late 0, p50 1.500 s, p90 12.345 s\n"
	    "\n"
	    "By level\n"
	    "LEVEL                   TARGETED  REACHED  ANSWERED   叫应率    "
	    "P50(s)    P90(s)  UNREACHABLE\n"
	    "village (村)                   3        2         2   66.67%     "
	    "1.500    12.345            1\n"
	    "county (县)                    0        0         0        -     "
	    "    -         -            0\n"
	    "\n"
	    "By region (each with the regions below it)\n"
	    "REGION                  TARGETED  REACHED  ANSWERED   叫应率    "
	    "P50(s)    P90(s)  UNREACHABLE\n"
	    "长治市 140400000000            3        2         2   66.67%     "
	    "1.500    12.345            1\n"
	    "  后店村 140425100201          3        2         2   66.67%     "
	    "1.500    12.345            1\n");
	free(out);
}

static void
t_report_bad(void **state)
{
	char *out;
	int rv;

	(void)state;
	out = print(cli_report_print, "{\"alert_id\":7}", &rv);
	assert_int_equal(rv, CLI_SERVER);
	assert_string_equal(out, "");
	free(out);
	out = print(cli_unanswered_print, "{\"alert_id\":7}", &rv);
	assert_int_equal(rv, CLI_SERVER);
	free(out);
}

static void
t_unanswered(void **state)
{
	char *out;
	int rv;

	(void)state;
	out = print(cli_unanswered_print, "{\"alert_id\":7,\"total\":2,"
	    "\"unanswered\":[{\"responder_id\":\"V-1\",\"name\":\"王\\n五\","
	    "\"role\":\"responsible\",\"phone\":\"13800000001\",\"region\":"
	    "{\"code\":\"140425100201\",\"name\":\"后店村\"},"
	    "\"last_attempt\":{\"channel\":\"sms\",\"state\":\"failed\","
	    "\"at\":\"2027-01-15T00:00:09Z\",\"error\":\"no route\"}},"
	    "{\"responder_id\":\"C-1\",\"name\":\"赵六\",\"role\":"
	    "\"duty_officer\",\"phone\":null,\"region\":{\"code\":"
	    "\"140400000000\",\"name\":\"长治市\"},\"last_attempt\":null}]}",
	    &rv);
	assert_int_equal(rv, CLI_OK);
	assert_string_equal(out,
	    "Alert 7: 2 not answered\n"
	    "NAME   ROLE          PHONE        REGION               "
	    "LAST ATTEMPT\n"
	    "王 五  responsible   13800000001  后店村 140425100201  "
	    "sms failed 2027-01-15 08:00:09: no route\n"
	    "赵六   duty_officer               长治市 140400000000  none\n");
	free(out);
	out = print(cli_unanswered_print, "{\"alert_id\":7,\"total\":0,"
	    "\"unanswered\":[]}", &rv);
	assert_int_equal(rv, CLI_OK);
	assert_string_equal(out, "Alert 7: 0 not answered\n");
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_report),
		cmocka_unit_test(t_report_bad),
		cmocka_unit_test(t_unanswered),
	};

	return cmocka_run_group_tests_name("cli_report", tests, NULL, NULL);
}
