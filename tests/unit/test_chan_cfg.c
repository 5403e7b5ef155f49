/*
 * tests/unit/test_chan_cfg.c - the config readers the channel drivers
 * share (channels/chan_cfg.c): the exact words and lines of every error,
 * each driver's wording kept by its flags, hostile values (control
 * bytes, UTF-8 where ASCII is asked, tabs in URLs, empty and overlong
 * values, lists with bad items and wrong kinds) and the ownership of
 * what is copied out.  Also the drivers' shared phone check
 * (chan_phone_ok, channels/channel.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "channels/chan_cfg_int.h"
#include "channels/channel.h"
#include "config/cfg.h"
#include "engine/err.h"

struct fx {
	struct cfg_doc *doc;
	struct diag_list diags;
};

static struct fx fixture;

static int
setup(void **state)
{
	memset(&fixture, 0, sizeof(fixture));
	diag_list_init(&fixture.diags);
	*state = &fixture;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	cfg_doc_free(fixture.doc);
	fixture.doc = NULL;
	diag_list_release(&fixture.diags);
	return 0;
}

static const struct cfg_node *
load(struct fx *f, const char *yaml)
{
	assert_int_equal(cfg_doc_parse(yaml, strlen(yaml), "ch.yaml",
	    &f->doc, &f->diags), 0);
	assert_int_equal(f->diags.n, 0);
	return cfg_doc_root(f->doc);
}

/* Every diagnostic as "file:line: error: path: message", a line each,
 * against want (the same lines, joined). */
static void
assert_diags(struct fx *f, const char *const *want, size_t n)
{
	char all[4096], one[512], exp[4096];
	size_t i, len = 0, elen = 0;

	all[0] = exp[0] = '\0';
	for (i = 0; i < f->diags.n; i++)
		len += (size_t)snprintf(all + len, sizeof(all) - len, "%s\n",
		    diag_format(&f->diags.v[i], one, sizeof(one)));
	for (i = 0; i < n; i++)
		elen += (size_t)snprintf(exp + elen, sizeof(exp) - elen,
		    "%s\n", want[i]);
	assert_true(len < sizeof(all) && elen < sizeof(exp));
	assert_string_equal(all, exp);
}

/* Each read replaces (and frees) what out held; an absent key leaves it. */
static void
test_text_good(void **state)
{
	struct fx *f = *state;
	const struct cfg_node *c = load(f, "user: gong\nsep: \", \"\n"
	    "field: \"结果.代码\"\napp: \"1400123456\"\n");
	static const struct {
		const char *key;
		size_t max;
		unsigned flags;
		const char *out;	/* out after the read */
	} keys[] = {
		{ "user", 64, CHAN_TEXT_NOSPACE | CHAN_TEXT_CHARS, "gong" },
		{ "sep", 8, CHAN_TEXT_ASCII, ", " },
		{ "field", 128, CHAN_TEXT_ANY, "结果.代码" },
		{ "app", 10, CHAN_TEXT_DIGITS, "1400123456" },
		{ "user", 4, CHAN_TEXT_NOBLANK, "gong" },
		{ "smsc", 64, CHAN_TEXT_NOSPACE, "gong" },	/* absent */
	};
	char *out = NULL;
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		assert_int_equal(chan_cfg_text(c, keys[i].key, keys[i].max,
		    keys[i].flags, &out, &f->diags), 0);
		assert_string_equal(out, keys[i].out);
	}
	assert_int_equal(f->diags.n, 0);
	free(out);
}

static void
test_text_errors(void **state)
{
	struct fx *f = *state;
	const struct cfg_node *c = load(f,
	    "a: \"\"\n"
	    "b: \"12345\"\n"
	    "c: \"has space\"\n"
	    "d: \"tab\\there\"\n"
	    "e: \"12a\"\n"
	    "f: \"中文\"\n"
	    "g: \"blank here\"\n"
	    "h: [1, 2]\n");
	static const char *const want[] = {
		"ch.yaml:1: error: a: a must be 1 to 10 characters",
		"ch.yaml:2: error: b: b must be 1 to 4 bytes",
		"ch.yaml:3: error: c: c must be printable ASCII without "
		"spaces",
		"ch.yaml:4: error: d: d must be printable ASCII",
		"ch.yaml:5: error: e: e must be digits",
		"ch.yaml:6: error: f: f must be printable ASCII without "
		"blanks",
		"ch.yaml:7: error: g: g must be printable ASCII without "
		"blanks",
	};
	static const struct {
		const char *key;
		size_t max;
		unsigned flags;
	} keys[] = {
		{ "a", 10, CHAN_TEXT_NOSPACE | CHAN_TEXT_CHARS },
		{ "b", 4, CHAN_TEXT_ANY },
		{ "c", 64, CHAN_TEXT_NOSPACE },
		{ "d", 64, CHAN_TEXT_ASCII },
		{ "e", 64, CHAN_TEXT_DIGITS },
		{ "f", 64, CHAN_TEXT_NOBLANK },
		{ "g", 64, CHAN_TEXT_NOBLANK },
	};
	char *out = NULL;
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		assert_int_equal(chan_cfg_text(c, keys[i].key, keys[i].max,
		    keys[i].flags, &out, &f->diags), ENG_EINVAL);
	assert_null(out);
	assert_diags(f, want, sizeof(want) / sizeof(want[0]));
	/* Not a string: cfg_get_str's own error, nothing stored. */
	assert_int_equal(chan_cfg_text(c, "h", 64, CHAN_TEXT_ANY, &out,
	    &f->diags), 0);
	assert_null(out);
	assert_int_equal(f->diags.nerrors, 8);
}

static void
test_url(void **state)
{
	struct fx *f = *state;
	const struct cfg_node *c = load(f, "url: x\n");
	static const char *const want[] = {
		"ch.yaml:1: error: url: url must start with http:// or "
		"https://",
		"ch.yaml:1: error: url: url has no host",
		"ch.yaml:1: error: url: url has no host",
		"ch.yaml:1: error: url: url has no host",
		"ch.yaml:1: error: url: url must not have a query or "
		"fragment (the driver adds the parameters)",
		"ch.yaml:1: error: url: url must not have a query or "
		"fragment (the driver adds the parameters)",
		"ch.yaml:1: error: url: url must not have a fragment or "
		"spaces",
		"ch.yaml:1: error: url: url must not have a fragment or "
		"spaces",
		"ch.yaml:1: error: url: url must not have a fragment or "
		"spaces",
		"ch.yaml:1: error: url: url is longer than 1024 bytes",
	};
	char big[1100];
	struct diag_list *d = &f->diags;

	assert_int_equal(chan_cfg_url(c, "http://127.0.0.1:13013/cgi-bin/"
	    "sendsms", CHAN_URL_NO_QUERY, d), 0);
	assert_int_equal(chan_cfg_url(c, "https://sms.example.cn/send?a=1",
	    CHAN_URL_NO_FRAGMENT, d), 0);
	/* A query right after the scheme is a host for all but QHOST. */
	assert_int_equal(chan_cfg_url(c, "http://?a=1", CHAN_URL_NO_FRAGMENT,
	    d), 0);
	/* A tab is a space only with NO_WS. */
	assert_int_equal(chan_cfg_url(c, "http://h/a\tb",
	    CHAN_URL_NO_FRAGMENT, d), 0);
	assert_int_equal(chan_cfg_url(c, "http://h/#x", 0, d), 0);
	assert_int_equal(d->n, 0);

	assert_int_equal(chan_cfg_url(c, "ftp://h/", 0, d), ENG_EINVAL);
	assert_int_equal(chan_cfg_url(c, "http://", 0, d), ENG_EINVAL);
	assert_int_equal(chan_cfg_url(c, "https:///x", 0, d), ENG_EINVAL);
	assert_int_equal(chan_cfg_url(c, "http://?a=1", CHAN_URL_QHOST, d),
	    ENG_EINVAL);
	assert_int_equal(chan_cfg_url(c, "http://h/?a", CHAN_URL_NO_QUERY,
	    d), ENG_EINVAL);
	assert_int_equal(chan_cfg_url(c, "http://h/#a", CHAN_URL_NO_QUERY,
	    d), ENG_EINVAL);
	assert_int_equal(chan_cfg_url(c, "http://h/a b",
	    CHAN_URL_NO_FRAGMENT, d), ENG_EINVAL);
	assert_int_equal(chan_cfg_url(c, "http://h/a\tb",
	    CHAN_URL_NO_FRAGMENT | CHAN_URL_NO_WS, d), ENG_EINVAL);
	assert_int_equal(chan_cfg_url(c, "http://h/a\r\n",
	    CHAN_URL_NO_FRAGMENT | CHAN_URL_NO_WS, d), ENG_EINVAL);
	memcpy(big, "http://h/", 9);
	memset(big + 9, 'a', 1016);
	big[1025] = '\0';
	assert_int_equal(chan_cfg_url(c, big, CHAN_URL_NO_QUERY, d),
	    ENG_EINVAL);
	big[1024] = '\0';	/* 1024 bytes: fine */
	assert_int_equal(chan_cfg_url(c, big, CHAN_URL_NO_QUERY, d), 0);
	assert_diags(f, want, sizeof(want) / sizeof(want[0]));
}

static void
test_strv(void **state)
{
	struct fx *f = *state;
	const struct cfg_node *c = load(f,
	    "retry: [\"E1\", \"\", \"E3\", [x], \"E5\"]\n"
	    "fail:\n"
	    "  - \"F1\"\n"
	    "empty: []\n"
	    "many: [1, 2, 3, 4]\n"
	    "scalar: E1\n");
	char **retry = NULL, **fail = NULL, **v = NULL;
	char buf[512];

	assert_int_equal(chan_cfg_strv(c, "retry", 8, 2, &retry, &f->diags),
	    0);
	assert_non_null(retry);
	assert_string_equal(retry[0], "E1");
	assert_string_equal(retry[1], "E3");
	assert_string_equal(retry[2], "E5");
	assert_null(retry[3]);
	assert_int_equal(f->diags.n, 2);
	assert_string_equal(diag_format(&f->diags.v[0], buf, sizeof(buf)),
	    "ch.yaml:1: error: retry[1]: values of retry must be 1 to 2 "
	    "bytes");
	assert_int_equal(f->diags.v[1].line, 1);

	assert_int_equal(chan_cfg_strv(c, "fail", 8, 128, &fail, &f->diags),
	    0);
	assert_string_equal(fail[0], "F1");
	assert_null(fail[1]);
	/* Read again into the same list: the old one is freed. */
	assert_int_equal(chan_cfg_strv(c, "fail", 8, 128, &fail, &f->diags),
	    0);
	assert_string_equal(fail[0], "F1");

	assert_int_equal(chan_cfg_strv(c, "empty", 8, 128, &v, &f->diags),
	    ENG_EINVAL);
	assert_int_equal(chan_cfg_strv(c, "many", 3, 128, &v, &f->diags),
	    ENG_EINVAL);
	assert_null(v);
	assert_string_equal(diag_format(&f->diags.v[2], buf, sizeof(buf)),
	    "ch.yaml:4: error: empty: empty must list 1 to 8 values");
	assert_string_equal(diag_format(&f->diags.v[3], buf, sizeof(buf)),
	    "ch.yaml:5: error: many: many must list 1 to 3 values");
	/* Not a sequence: cfg's own error; absent: nothing. */
	assert_int_equal(chan_cfg_strv(c, "scalar", 8, 128, &v, &f->diags),
	    0);
	assert_int_equal(chan_cfg_strv(c, "nope", 8, 128, &v, &f->diags), 0);
	assert_null(v);
	assert_int_equal(f->diags.n, 5);
	chan_cfg_strv_free(retry);
	chan_cfg_strv_free(fail);
	chan_cfg_strv_free(NULL);
}

/* chan_phone_ok (channels/channel.h): '+' and 3 to 20 digits. */
static void
test_phone(void **state)
{
	static const char *const good[] = {
		"123", "+123", "13800000001", "+8613800000001",
		"12345678901234567890", "+12345678901234567890",
	};
	static const char *const bad[] = {
		"", "+", "12", "+12", "123456789012345678901", "138-0000-0001",
		"138 0000 0001", "++123", "123+", "12a", "\xef\xbc\x91\xef"
		"\xbc\x92\xef\xbc\x93",	/* full-width digits */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(chan_phone_ok(good[i]));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(chan_phone_ok(bad[i]));
	assert_false(chan_phone_ok(NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_text_good, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_text_errors, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_url, setup, teardown),
		cmocka_unit_test_setup_teardown(test_strv, setup, teardown),
		cmocka_unit_test(test_phone),
	};

	return cmocka_run_group_tests_name("chan_cfg", tests, NULL, NULL);
}
