/*
 * tests/unit/test_cli_cap.c - `gong cap check`: verdict lines, exit
 * status, --lenient, --json.  cli_cap() runs in-process with its stdout
 * sent to a temporary file.
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

#include "engine/cli/cli.h"

#define SAMPLES "../shared/cap-samples"

struct fx {
	char out[8192 * 4];
	char shared[512];
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	const char *s = getenv("GONG_SHARED");

	if (f == NULL)
		return -1;
	snprintf(f->shared, sizeof(f->shared), "%s/cap-samples",
	    s != NULL ? s : "../shared");
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	free(*state);
	return 0;
}

/* Run cli_cap(argv) and keep what it printed on stdout in f->out. */
static int
run(struct fx *f, int argc, char **argv)
{
	FILE *tmp = tmpfile();
	int saved, rc;
	size_t n;

	assert_non_null(tmp);
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(tmp), STDOUT_FILENO) >= 0);
	rc = cli_cap(argc, argv);
	fflush(stdout);
	assert_true(dup2(saved, STDOUT_FILENO) >= 0);
	close(saved);
	rewind(tmp);
	n = fread(f->out, 1, sizeof(f->out) - 1, tmp);
	f->out[n] = '\0';
	fclose(tmp);
	return rc;
}

static void
contains(const struct fx *f, const char *want)
{
	if (strstr(f->out, want) == NULL)
		fail_msg("output lacks \"%s\":\n%s", want, f->out);
}

static void
t_valid(void **state)
{
	struct fx *f = *state;
	char file[600];
	char *argv[] = { "cap", "check", file };

	snprintf(file, sizeof(file), "%s/valid/cn-changzhi__rainstorm-red-"
	    "update.xml", f->shared);
	assert_int_equal(run(f, 3, argv), CLI_OK);
	assert_int_equal(strncmp(f->out, file, strlen(file)), 0);
	contains(f, ": valid\n");
}

static void
t_invalid_mixed(void **state)
{
	struct fx *f = *state;
	char file[600];
	char *argv[] = { "cap", "check", file,
	    "tests/data/cap/xxe-passwd.xml" };

	snprintf(file, sizeof(file), "%s/valid/cn-changzhi__rainstorm-red-"
	    "update.xml", f->shared);
	assert_int_equal(run(f, 4, argv), CLI_INVALID);
	contains(f, "tests/data/cap/xxe-passwd.xml: INVALID\n"
	    "tests/data/cap/xxe-passwd.xml:2: error: a DOCTYPE is not allowed "
	    "in CAP (DTDs and entities are refused)\n");
	contains(f, "update.xml: valid\n");
}

static void
t_lenient(void **state)
{
	struct fx *f = *state;
	char file[600];
	char *strict[] = { "cap", "check", file };
	char *lenient[] = { "cap", "check", "--lenient", file };

	snprintf(file, sizeof(file), "%s/valid/us-nws__nwscp-IL-severe-"
	    "thunderstorm-warning.xml", f->shared);
	assert_int_equal(run(f, 3, strict), CLI_INVALID);
	contains(f, "-warning.xml:25: error: /alert/references: <references> "
	    "is empty (give sender,identifier,sent of each earlier message)");
	assert_int_equal(run(f, 4, lenient), CLI_OK);
	contains(f, "-warning.xml: valid\n");
	contains(f, "-warning.xml:25: warning: /alert/references: "
	    "<references> is empty");
}

static void
t_json(void **state)
{
	struct fx *f = *state;
	char file[600];
	char *argv[] = { "cap", "check", "--json", file,
	    "tests/data/cap/invalid-utf8.xml" };
	json_error_t jerr;
	json_t *doc, *o, *e;

	snprintf(file, sizeof(file), "%s/invalid/us-nws__gcl-noaa-empty-"
	    "references.xml", f->shared);
	assert_int_equal(run(f, 5, argv), CLI_INVALID);
	doc = json_loads(f->out, 0, &jerr);
	if (doc == NULL)
		fail_msg("not JSON (%s):\n%s", jerr.text, f->out);
	assert_true(json_is_array(doc));
	assert_int_equal(json_array_size(doc), 2);
	o = json_array_get(doc, 0);
	assert_string_equal(json_string_value(json_object_get(o, "file")),
	    file);
	assert_true(json_is_false(json_object_get(o, "valid")));
	e = json_array_get(json_object_get(o, "errors"), 0);
	assert_int_equal(json_integer_value(json_object_get(e, "line")), 13);
	assert_string_equal(json_string_value(json_object_get(e, "path")),
	    "/alert/references");
	assert_string_equal(json_string_value(json_object_get(e, "message")),
	    "<references> is empty (give sender,identifier,sent of each "
	    "earlier message)");
	assert_int_equal(json_array_size(json_object_get(o, "warnings")), 1);
	o = json_array_get(doc, 1);
	e = json_array_get(json_object_get(o, "errors"), 0);
	assert_int_equal(json_integer_value(json_object_get(e, "line")), 9);
	assert_true(json_is_null(json_object_get(e, "path")));
	assert_string_equal(json_string_value(json_object_get(e, "message")),
	    "byte 0xe9 at offset 293 is not valid UTF-8");
	json_decref(doc);
}

static void
t_usage(void **state)
{
	struct fx *f = *state;
	char *none[] = { "cap" };
	char *nofile[] = { "cap", "check", "--json" };
	char *badopt[] = { "cap", "check", "--strict", "x.xml" };
	char *verb[] = { "cap", "lint", "x.xml" };
	char *missing[] = { "cap", "check", "tests/data/cap/no-such.xml" };

	assert_int_equal(run(f, 1, none), CLI_USAGE);
	assert_int_equal(run(f, 3, nofile), CLI_USAGE);
	assert_int_equal(run(f, 4, badopt), CLI_USAGE);
	assert_int_equal(run(f, 3, verb), CLI_USAGE);
	assert_int_equal(run(f, 3, missing), CLI_LOCAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_valid, setup, teardown),
		cmocka_unit_test_setup_teardown(t_invalid_mixed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_lenient, setup, teardown),
		cmocka_unit_test_setup_teardown(t_json, setup, teardown),
		cmocka_unit_test_setup_teardown(t_usage, setup, teardown),
	};

	return cmocka_run_group_tests_name("cli_cap", tests, NULL, NULL);
}
