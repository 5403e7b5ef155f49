/*
 * tests/unit/test_cli_format.c - the CLI's human formats from gongd's
 * JSON documents: the region tree, the tables, import results, status,
 * error reports; terminal widths of Chinese text; hostile documents.
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
	free(fx);
	return 0;
}

static json_t *
load(struct fx *fx, const char *text)
{
	json_error_t err;

	fx->doc = json_loads(text, 0, &err);
	if (fx->doc == NULL)
		fail_msg("bad test JSON: %s", err.text);
	return fx->doc;
}

static const char *
out(struct fx *fx)
{
	fflush(fx->f);
	return fx->buf;
}

static const char tree_doc[] =
    "{\"region\":{\"code\":\"140425000000\",\"name\":\"平顺县\","
    "\"level\":3,\"level_name\":\"county\",\"level_name_zh\":\"县\","
    "\"parent\":\"140400000000\",\"lat\":36.2,\"lon\":113.4,"
    "\"counts\":{\"regions\":4,\"responders\":21,\"devices\":3}},"
    "\"parents\":[{\"code\":\"140000000000\",\"name\":\"山西省\","
    "\"level\":1},{\"code\":\"140400000000\",\"name\":\"长治市\","
    "\"level\":2}],"
    "\"children\":["
    "{\"code\":\"140425100000\",\"name\":\"青羊镇\",\"level\":4,"
    "\"counts\":{\"regions\":3,\"responders\":12,\"devices\":2},"
    "\"children\":[{\"code\":\"140425100201\",\"name\":\"东村\","
    "\"level\":5,\"counts\":{\"regions\":1,\"responders\":5,"
    "\"devices\":1},\"children\":[]},"
    "{\"code\":\"140425100202\",\"name\":\"西村\",\"level\":\"village\","
    "\"counts\":{\"regions\":1,\"responders\":5,\"devices\":1}}]},"
    "{\"code\":\"140425200000\",\"name\":\"阳高乡\",\"level\":4,"
    "\"counts\":{\"regions\":0,\"responders\":0,\"devices\":0}}]}";

static void
t_tree(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(cli_regions_print(fx->f, load(fx, tree_doc)),
	    CLI_OK);
	assert_string_equal(out(fx),
	    "140000000000 山西省 > 140400000000 长治市 > "
	    "140425000000 平顺县\n"
	    "\n"
	    "140425000000 平顺县 (county) regions=4 responders=21 devices=3\n"
	    "  140425100000 青羊镇 (township) regions=3 responders=12 "
	    "devices=2\n"
	    "    140425100201 东村 (village) regions=1 responders=5 "
	    "devices=1\n"
	    "    140425100202 西村 (village) regions=1 responders=5 "
	    "devices=1\n"
	    "  140425200000 阳高乡 (township) regions=0 responders=0 "
	    "devices=0\n");
}

static void
t_tree_root(void **state)
{
	struct fx *fx = *state;

	/* A root: no parents, no children, no counts. */
	assert_int_equal(cli_regions_print(fx->f, load(fx,
	    "{\"region\":{\"code\":\"140400000000\",\"name\":\"长治市\","
	    "\"level\":2},\"parents\":[],\"children\":[]}")), CLI_OK);
	assert_string_equal(out(fx),
	    "140400000000 长治市\n\n140400000000 长治市 (city)\n");
}

static void
t_tree_hostile(void **state)
{
	struct fx *fx = *state;
	char *text, *p;
	const char *o;
	size_t i, n = 40, lines = 0;

	/* No region at all. */
	assert_int_equal(cli_regions_print(fx->f, load(fx,
	    "{\"error\":{\"message\":\"x\"}}")), CLI_SERVER);
	json_decref(fx->doc);
	fx->doc = NULL;
	assert_int_equal(cli_regions_print(fx->f, load(fx, "[1,2]")),
	    CLI_SERVER);
	json_decref(fx->doc);
	fx->doc = NULL;

	/* Names with terminal escapes; wrong types everywhere. */
	assert_int_equal(cli_regions_print(fx->f, load(fx,
	    "{\"region\":{\"code\":140425,\"name\":\"a\\u001b[2Jb\\nc\","
	    "\"level\":99,\"counts\":{\"regions\":\"x\"}},"
	    "\"parents\":{\"not\":\"an array\"},"
	    "\"children\":[7,\"s\",null,{\"code\":\"1\"}]}")), CLI_OK);
	assert_string_equal(out(fx),
	    "140425 a?[2Jb?c\n\n"
	    "140425 a?[2Jb?c (99) regions=0 responders=0 devices=0\n"
	    "  1 \n");
	json_decref(fx->doc);
	fx->doc = NULL;
	fclose(fx->f);
	free(fx->buf);
	fx->buf = NULL;
	fx->f = open_memstream(&fx->buf, &fx->len);
	assert_non_null(fx->f);

	/* Nesting deeper than any real tree is cut at 16 levels. */
	text = malloc(n * 40 + 64);
	assert_non_null(text);
	p = text;
	p = stpcpy(p, "{\"region\":{\"code\":\"r\"");
	for (i = 0; i < n; i++)
		p = stpcpy(p, ",\"children\":[{\"code\":\"c\"");
	for (i = 0; i < n; i++)
		p = stpcpy(p, "}]");
	stpcpy(p, "}}");
	assert_int_equal(cli_regions_print(fx->f, load(fx, text)), CLI_OK);
	free(text);
	for (o = out(fx); *o != '\0'; o++)
		lines += *o == '\n';
	assert_int_equal(lines, 2 + 17);
}

static void
t_table_responders(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(cli_table_print(fx->f, load(fx,
	    "{\"region\":\"140425000000\",\"total\":57,\"responders\":["
	    "{\"id\":\"r1\",\"name\":\"张三\",\"region\":\"140425100201\","
	    "\"role\":\"village_head\",\"phone\":\"10012345678\","
	    "\"active\":true,\"exercise\":false},"
	    "{\"id\":\"r-2\",\"name\":\"欧阳娜娜\",\"region\":\"140425100202\","
	    "\"role\":\"warner\",\"phone\":\"+8613800000000\","
	    "\"active\":1,\"exercise\":true}]}"), "responders"), CLI_OK);
	assert_string_equal(out(fx),
	    "ID   NAME      REGION        ROLE          PHONE           "
	    "ACTIVE  EXERCISE\n"
	    "r1   张三      140425100201  village_head  10012345678     "
	    "yes     no\n"
	    "r-2  欧阳娜娜  140425100202  warner        +8613800000000  "
	    "1       yes\n"
	    "2 of 57 responders\n");
}

/* The PREFER column appears when some row has preferences (an array of
 * names, joined by ','); otherwise the table is as before. */
static void
t_table_responders_prefer(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(cli_table_print(fx->f, load(fx,
	    "{\"total\":2,\"responders\":["
	    "{\"id\":\"r1\",\"name\":\"张三\",\"region\":\"140425100201\","
	    "\"role\":\"warner\",\"phone\":\"13800138000\","
	    "\"active\":true,\"exercise\":false,"
	    "\"prefer\":[\"wecom\",\"phone\"]},"
	    "{\"id\":\"r2\",\"name\":\"李四\",\"region\":\"140425100201\","
	    "\"role\":\"warner\",\"phone\":null,"
	    "\"active\":true,\"exercise\":false,\"prefer\":[]}]}"),
	    "responders"), CLI_OK);
	assert_string_equal(out(fx),
	    "ID  NAME  REGION        ROLE    PHONE        ACTIVE  EXERCISE  "
	    "PREFER\n"
	    "r1  张三  140425100201  warner  13800138000  yes     no        "
	    "wecom,phone\n"
	    "r2  李四  140425100201  warner               yes     no        "
	    "\n"
	    "2 of 2 responders\n");
}

static void
t_table_devices(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(cli_table_print(fx->f, load(fx,
	    "{\"total\":1,\"devices\":[{\"id\":\"d1\",\"region\":"
	    "\"140425100201\",\"kind\":\"loudspeaker\",\"channel\":\"file\","
	    "\"address\":\"spk-1\"}]}"), "devices"), CLI_OK);
	assert_string_equal(out(fx),
	    "ID  REGION        KIND         CHANNEL  ADDRESS\n"
	    "d1  140425100201  loudspeaker  file     spk-1\n"
	    "1 of 1 devices\n");
}

static void
t_table_empty(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(cli_table_print(fx->f, load(fx,
	    "{\"total\":0,\"devices\":[]}"), "devices"), CLI_OK);
	assert_string_equal(out(fx), "0 of 0 devices\n");
	assert_int_equal(cli_table_print(fx->f, fx->doc, "responders"),
	    CLI_SERVER);
}

static void
t_error_items(void **state)
{
	struct fx *fx = *state;

	cli_print_error(fx->f, 422, load(fx,
	    "{\"error\":{\"code\":\"invalid\",\"message\":\"3 bad rows; "
	    "nothing imported\"},\"errors\":["
	    "{\"file\":\"r.csv\",\"line\":3,\"column\":\"phone\","
	    "\"message\":\"invalid phone '123'\"},"
	    "{\"file\":\"r.csv\",\"line\":5,\"column\":3,"
	    "\"message\":\"unknown region 140425999999\"},"
	    "{\"file\":\"r.csv\",\"line\":9,\"message\":\"duplicate id r1\"},"
	    "{\"message\":\"file too large\"}]}"), NULL);
	assert_string_equal(out(fx),
	    "gong: error: 3 bad rows; nothing imported\n"
	    "r.csv:3: phone: invalid phone '123'\n"
	    "r.csv:5: 3: unknown region 140425999999\n"
	    "r.csv:9: duplicate id r1\n"
	    "-: file too large\n");
}

static void
t_error_nested_and_plain(void **state)
{
	struct fx *fx = *state;

	/* errors inside the error object work too. */
	cli_print_error(fx->f, 422, load(fx,
	    "{\"error\":{\"message\":\"bad\",\"errors\":[{\"file\":\"f\","
	    "\"line\":1,\"column\":\"code\",\"message\":\"m\"}]}}"), NULL);
	/* Not JSON: the status and the first line of the body. */
	cli_print_error(fx->f, 413, NULL, "Request Entity Too Large\nmore");
	cli_print_error(fx->f, 502, NULL, NULL);
	assert_string_equal(out(fx),
	    "gong: error: bad\n"
	    "f:1: code: m\n"
	    "gong: error: gongd answered HTTP 413: Request Entity Too Large\n"
	    "gong: error: gongd answered HTTP 502\n");
	json_decref(fx->doc);
	fx->doc = NULL;
	cli_print_error(fx->f, 503, load(fx,
	    "{\"status\":\"error\",\"store\":\"error\"}"), NULL);
	assert_non_null(strstr(out(fx),
	    "gong: error: gongd reports status error\n"));
}

static void
t_import(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(cli_import_print(fx->f, load(fx,
	    "{\"kind\":\"responders\",\"file\":\"r.csv\",\"rows\":500000,"
	    "\"inserted\":499990,\"updated\":10,\"dry_run\":false}")),
	    CLI_OK);
	json_decref(fx->doc);
	fx->doc = NULL;
	assert_int_equal(cli_import_print(fx->f, load(fx,
	    "{\"kind\":\"regions\",\"file\":\"区划.csv\",\"rows\":3,"
	    "\"inserted\":3,\"updated\":0,\"dry_run\":true}")), CLI_OK);
	assert_string_equal(out(fx),
	    "imported responders from r.csv: 500000 rows, 499990 inserted, "
	    "10 updated\n"
	    "checked regions from 区划.csv: 3 rows, 3 inserted, 0 updated "
	    "(dry run: nothing changed)\n");
	json_decref(fx->doc);
	fx->doc = NULL;
	assert_int_equal(cli_import_print(fx->f, load(fx, "{}")),
	    CLI_SERVER);
}

static void
t_status(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(cli_status_print(fx->f, "http://127.0.0.1:8080",
	    load(fx, "{\"status\":\"ok\",\"version\":\"0.1-abc\","
	    "\"uptime_s\":93784,\"store\":\"ok\",\"counts\":{\"regions\":3167,"
	    "\"responders\":21347,\"devices\":3652}}")), CLI_OK);
	assert_string_equal(out(fx),
	    "gongd at http://127.0.0.1:8080\n"
	    "  status:     ok\n"
	    "  version:    0.1-abc\n"
	    "  uptime:     1d 2h 3m 4s\n"
	    "  store:      ok\n"
	    "  regions:    3167\n"
	    "  responders: 21347\n"
	    "  devices:    3652\n");
	json_decref(fx->doc);
	fx->doc = NULL;
	assert_int_equal(cli_status_print(fx->f, "u", load(fx,
	    "{\"version\":1}")), CLI_SERVER);
}

static void
t_width(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(cli_width(""), 0);
	assert_int_equal(cli_width("abc"), 3);
	assert_int_equal(cli_width("平顺县"), 6);
	assert_int_equal(cli_width("a平b"), 4);
	assert_int_equal(cli_width("ＡＢ"), 4);		/* fullwidth */
	assert_int_equal(cli_width("é"), 1);
	assert_int_equal(cli_width("\xff\xfe"), 2);	/* bad bytes */
	assert_int_equal(cli_width("\xe5\xb9"), 2);	/* cut sequence */
	/* Invalid sequences (engine/utf8.h) are a column a byte, as clip()
	 * cuts them: overlong U+4E00, a surrogate, above U+10FFFF. */
	assert_int_equal(cli_width("\xf0\x84\xb8\x80"), 4);
	assert_int_equal(cli_width("\xed\xa0\x80" "a"), 4);
	assert_int_equal(cli_width("\xf4\x90\x80\x80\xe5\xb9\xb3"), 6);
	cli_print_padded(fx->f, "平", 5);
	cli_print_padded(fx->f, "|", 0);
	/* C0, DEL and C1 (CSI as UTF-8) never reach the terminal. */
	cli_print_padded(fx->f, "a\x1b\x7f\xc2\x9b" "2J\xc2\xa0", 0);
	assert_string_equal(out(fx), "平   |a???2J\xc2\xa0");
}

static void
t_jstr(void **state)
{
	struct fx *fx = *state;
	char b[32];

	load(fx, "{\"s\":\"x\",\"i\":-42,\"r\":1.5,\"t\":true,\"n\":null}");
	assert_string_equal(cli_jstr(fx->doc, "s", b, sizeof(b)), "x");
	assert_string_equal(cli_jstr(fx->doc, "i", b, sizeof(b)), "-42");
	assert_string_equal(cli_jstr(fx->doc, "r", b, sizeof(b)), "1.5");
	assert_string_equal(cli_jstr(fx->doc, "t", b, sizeof(b)), "yes");
	assert_string_equal(cli_jstr(fx->doc, "n", b, sizeof(b)), "");
	assert_string_equal(cli_jstr(fx->doc, "none", b, sizeof(b)), "");
	assert_string_equal(cli_jstr(NULL, "s", b, sizeof(b)), "");
	assert_int_equal(cli_jint(fx->doc, "i", 7), -42);
	assert_int_equal(cli_jint(fx->doc, "s", 7), 7);
	assert_int_equal(cli_jint(fx->doc, "r", 7), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_tree, setup, teardown),
		cmocka_unit_test_setup_teardown(t_tree_root, setup, teardown),
		cmocka_unit_test_setup_teardown(t_tree_hostile, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_table_responders, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_table_responders_prefer,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(t_table_devices, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_table_empty, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_error_items, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_error_nested_and_plain,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(t_import, setup, teardown),
		cmocka_unit_test_setup_teardown(t_status, setup, teardown),
		cmocka_unit_test_setup_teardown(t_width, setup, teardown),
		cmocka_unit_test_setup_teardown(t_jstr, setup, teardown),
	};

	return cmocka_run_group_tests_name("cli_format", tests, NULL, NULL);
}
