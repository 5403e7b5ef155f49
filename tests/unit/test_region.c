/*
 * tests/unit/test_region.c - division codes: normalisation, level, parent.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "engine/region.h"

static void
norm_ok(const char *in, const char *want)
{
	char out[REGION_CODE_SIZE];
	struct eng_errbuf eb;

	eng_errbuf_init(&eb);
	assert_int_equal(region_code_norm(in, strlen(in), out, &eb), 0);
	assert_string_equal(out, want);
}

static void
norm_bad(const char *in, const char *msg_part)
{
	char out[REGION_CODE_SIZE];
	struct eng_errbuf eb;

	eng_errbuf_init(&eb);
	assert_int_equal(region_code_norm(in, strlen(in), out, &eb),
	    ENG_EINVAL);
	if (strstr(eb.msg, msg_part) == NULL)
		fail_msg("'%s': message '%s' lacks '%s'", in, eb.msg,
		    msg_part);
}

static void
t_norm(void **state)
{
	(void)state;
	norm_ok("140400000000", "140400000000");
	norm_ok("140425", "140425000000");
	norm_ok(" 140425100 ", "140425100000");
	norm_ok("140425100201\r\n", "140425100201");
	norm_bad("", "empty");
	norm_bad("14042", "5 digits");
	norm_bad("1404251002011", "13 digits");
	norm_bad("14o425", "non-digit");
	norm_bad("000000", "province 00");
	norm_bad("140400000001", "does not nest");
	norm_bad("140025000000", "does not nest");
}

static void
t_level(void **state)
{
	(void)state;
	assert_int_equal(region_code_level("140000000000"), REGION_PROVINCE);
	assert_int_equal(region_code_level("140400000000"), REGION_CITY);
	assert_int_equal(region_code_level("140425000000"), REGION_COUNTY);
	assert_int_equal(region_code_level("140425100000"), REGION_TOWNSHIP);
	assert_int_equal(region_code_level("140425100201"), REGION_VILLAGE);
	assert_int_equal(region_code_level("000000000000"), REGION_NONE);
	assert_int_equal(region_code_level("1404"), REGION_NONE);
	assert_int_equal(region_code_level(NULL), REGION_NONE);
}

static void
t_parent(void **state)
{
	char p[REGION_CODE_SIZE];

	(void)state;
	assert_int_equal(region_code_parent("140425100201", p), 0);
	assert_string_equal(p, "140425100000");
	assert_int_equal(region_code_parent("140425100000", p), 0);
	assert_string_equal(p, "140425000000");
	assert_int_equal(region_code_parent("140425000000", p), 0);
	assert_string_equal(p, "140400000000");
	assert_int_equal(region_code_parent("140400000000", p), 0);
	assert_string_equal(p, "140000000000");
	assert_int_equal(region_code_parent("140000000000", p), ENG_ENOENT);
}

static void
t_within(void **state)
{
	(void)state;
	assert_true(region_code_within("140425100201", "140400000000"));
	assert_true(region_code_within("140425100201", "140425100201"));
	assert_true(region_code_within("140425100201", "140000000000"));
	assert_false(region_code_within("140525100201", "140400000000"));
	assert_false(region_code_within("140400000000", "140425000000"));
}

static void
t_names(void **state)
{
	(void)state;
	assert_string_equal(region_level_name(REGION_TOWNSHIP), "township");
	assert_string_equal(region_level_name_zh(REGION_VILLAGE), "村");
	assert_null(region_level_name(REGION_NONE));
	assert_int_equal(region_level_parse("county"), REGION_COUNTY);
	assert_int_equal(region_level_parse("shire"), REGION_NONE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_norm),
		cmocka_unit_test(t_level),
		cmocka_unit_test(t_parent),
		cmocka_unit_test(t_within),
		cmocka_unit_test(t_names),
	};

	return cmocka_run_group_tests_name("region", tests, NULL, NULL);
}
