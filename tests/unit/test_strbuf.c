/*
 * tests/unit/test_strbuf.c - the growing string.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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

/* Texts kept by offset survive the buffer's moves; NULL is kept as
 * STRBUF_NONE and an empty text as itself. */
/* Runs and escapes, at the start, in the middle and at the end. */
static void
t_addurl_runs(void **state)
{
	struct strbuf b = STRBUF_INIT;

	(void)state;
	strbuf_addurl(&b, "");
	assert_null(b.p);
	strbuf_addurl(&b, " ab cd ");
	strbuf_addurl(&b, "%");
	assert_string_equal(b.p, "%20ab%20cd%20%25");
	strbuf_release(&b);
}

static void
t_addjson(void **state)
{
	struct strbuf b = STRBUF_INIT;

	(void)state;
	strbuf_addjson(&b, "");
	assert_null(b.p);
	strbuf_addjson(&b, "\"暴雨\\红色\"\n\t\x01\x1f\x7f 预警 end");
	assert_string_equal(b.p, "\\\"暴雨\\\\红色\\\"\\u000a\\u0009"
	    "\\u0001\\u001f\\u007f 预警 end");
	assert_int_equal(b.len, strlen(b.p));
	strbuf_release(&b);
	strbuf_addjson(&b, "plain");
	assert_string_equal(b.p, "plain");
	strbuf_release(&b);
}

static void
t_keep(void **state)
{
	struct strbuf b = STRBUF_INIT;
	size_t off[300], none, empty;
	char t[16];
	int i;

	(void)state;
	none = strbuf_keep(&b, NULL);
	empty = strbuf_keep(&b, "");
	for (i = 0; i < 300; i++) {
		(void)snprintf(t, sizeof(t), "r:%d", i);
		off[i] = strbuf_keep(&b, t);
	}
	assert_false(b.oom);
	assert_int_equal(none, STRBUF_NONE);
	assert_null(strbuf_at(&b, none));
	assert_string_equal(strbuf_at(&b, empty), "");
	assert_string_equal(strbuf_at(&b, off[0]), "r:0");
	assert_string_equal(strbuf_at(&b, off[299]), "r:299");
	b.len = 0;	/* reused: offsets start again */
	assert_int_equal(strbuf_keep(&b, "x"), 0);
	assert_string_equal(strbuf_at(&b, 0), "x");
	strbuf_release(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_add_and_grow),
		cmocka_unit_test(t_addf),
		cmocka_unit_test(t_addurl),
		cmocka_unit_test(t_addurl_runs),
		cmocka_unit_test(t_addjson),
		cmocka_unit_test(t_keep),
	};

	return cmocka_run_group_tests_name("strbuf", tests, NULL, NULL);
}
