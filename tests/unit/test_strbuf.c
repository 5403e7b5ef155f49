/*
 * tests/unit/test_strbuf.c - the growing string.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "engine/strbuf.h"

static void
t_add_and_grow(void **state)
{
	struct strbuf b = STRBUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < 1000; i++)
		strbuf_addstr(&b, "abc");
	strbuf_add(&b, "xyz", 2);
	assert_false(b.oom);
	assert_int_equal(b.len, 3002);
	assert_int_equal(strlen(b.p), 3002);
	assert_memory_equal(b.p + 2997, "abcxy", 5);
	strbuf_release(&b);
	assert_null(b.p);
	assert_int_equal(b.len, 0);
}

static void
t_addf(void **state)
{
	struct strbuf b = STRBUF_INIT;
	char big[5000];

	(void)state;
	strbuf_addf(&b, "gong_x{channel=\"%s\"} %llu\n", "sms", 42ULL);
	assert_string_equal(b.p, "gong_x{channel=\"sms\"} 42\n");
	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	strbuf_addf(&b, "%s|%d", big, 7);
	assert_int_equal(b.len, strlen("gong_x{channel=\"sms\"} 42\n") + 4999 +
	    2);
	assert_string_equal(b.p + b.len - 3, "q|7");
	strbuf_release(&b);
}

static void
t_addurl(void **state)
{
	struct strbuf b = STRBUF_INIT;

	(void)state;
	strbuf_addurl(&b, "a-Z_0.9~ +&=/收");
	assert_string_equal(b.p, "a-Z_0.9~%20%2B%26%3D%2F%E6%94%B6");
	strbuf_release(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_add_and_grow),
		cmocka_unit_test(t_addf),
		cmocka_unit_test(t_addurl),
	};

	return cmocka_run_group_tests_name("strbuf", tests, NULL, NULL);
}
