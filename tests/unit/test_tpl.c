/*
 * tests/unit/test_tpl.c - the template language: every construct,
 * filters, compile errors with line and column, hostile templates,
 * UTF-8 safety.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "templates/tpl.h"

struct fx {
	struct tpl_vars *v;
	struct eng_errbuf eb;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->v = tpl_vars_new();
	assert_non_null(f->v);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	tpl_vars_free(f->v);
	free(f);
	return 0;
}

/* Compile and render src; the output must be want. */
static void
render_is(struct fx *f, const char *src, const char *want)
{
	struct tpl *t = NULL;
	char *out = NULL;
	size_t len;

	eng_errbuf_init(&f->eb);
	if (tpl_compile("t.tpl", src, strlen(src), &t, &f->eb) != 0)
		fail_msg("compile '%s': %s", src, f->eb.msg);
	if (tpl_render(t, f->v, NULL, &out, &len, &f->eb) != 0)
		fail_msg("render '%s': %s", src, f->eb.msg);
	if (strcmp(out, want) != 0)
		fail_msg("'%s'\n got  [%s]\n want [%s]", src, out, want);
	assert_int_equal(len, strlen(want));
	free(out);
	tpl_free(t);
}

/* Compiling src must fail with exactly msg. */
static void
compile_err(const char *src, int err, const char *msg)
{
	struct eng_errbuf eb;
	struct tpl *t = NULL;

	eng_errbuf_init(&eb);
	assert_int_equal(tpl_compile("t.tpl", src, strlen(src), &t, &eb), err);
	assert_null(t);
	if (strcmp(eb.msg, msg) != 0)
		fail_msg("'%s'\n got  [%s]\n want [%s]", src, eb.msg, msg);
}

static void
t_vars(void **state)
{
	struct fx *f = *state;

	assert_int_equal(tpl_vars_set_str(f->v, "alert.event", "暴雨"), 0);
	assert_int_equal(tpl_vars_set_int(f->v, "n", -42), 0);
	assert_int_equal(tpl_vars_set_bool(f->v, "yes", 1), 0);
	render_is(f, "[{{ alert.event }}][{{n}}][{{ yes }}][{{ missing }}]",
	    "[暴雨][-42][true][]");
	/* replaced, unset */
	assert_int_equal(tpl_vars_set_str(f->v, "alert.event", "山洪"), 0);
	render_is(f, "{{ alert.event }}", "山洪");
	assert_int_equal(tpl_vars_unset(f->v, "alert.event"), 0);
	assert_int_equal(tpl_vars_unset(f->v, "alert.event"), ENG_ENOENT);
	render_is(f, "[{{ alert.event }}]", "[]");
	/* bad names */
	assert_int_equal(tpl_vars_set_str(f->v, "", "x"), ENG_EINVAL);
	assert_int_equal(tpl_vars_set_str(f->v, "a..b", "x"), ENG_EINVAL);
	assert_int_equal(tpl_vars_set_str(f->v, ".a", "x"), ENG_EINVAL);
	assert_int_equal(tpl_vars_set_str(f->v, "a.", "x"), ENG_EINVAL);
	assert_int_equal(tpl_vars_set_str(f->v, "1a", "x"), ENG_EINVAL);
	assert_int_equal(tpl_vars_set_str(f->v, "a-b", "x"), ENG_EINVAL);
	assert_int_equal(tpl_vars_set_str(f->v, "a", NULL), ENG_EINVAL);
	/* invalid UTF-8 is replaced */
	assert_int_equal(tpl_vars_set_str(f->v, "bad", "a\xff" "b\xe6\x9a"),
	    0);
	render_is(f, "{{ bad }}", "a\xef\xbf\xbd" "b\xef\xbf\xbd");
	/* literals */
	render_is(f, "{{ \"a\\\"b\\n\" }}{{ 'c' }}{{ 7 }}", "a\"b\nc7");
	render_is(f, "{{ \"{{\" }}", "{{");
	/* clear keeps nothing */
	tpl_vars_clear(f->v);
	render_is(f, "[{{ n }}]", "[]");
}

static void
t_strict(void **state)
{
	struct fx *f = *state;
	struct tpl_render_opts o = { .flags = TPL_STRICT };
	struct tpl *t = NULL;
	char *out = NULL;
	const char *src = "ok\n  {{ region.name }}";

	assert_int_equal(tpl_compile("s.tpl", src, strlen(src), &t, &f->eb),
	    0);
	assert_int_equal(tpl_render(t, f->v, &o, &out, NULL, &f->eb),
	    ENG_EINVAL);
	assert_null(out);
	assert_string_equal(f->eb.msg,
	    "s.tpl:2:6: undefined variable 'region.name'");
	tpl_free(t);
	/* a condition or default() may test an unset variable */
	src = "{% if not x %}none{% endif %}|{{ x | default(\"-\") }}";
	assert_int_equal(tpl_compile("s.tpl", src, strlen(src), &t, &f->eb),
	    0);
	assert_int_equal(tpl_render(t, f->v, &o, &out, NULL, &f->eb), 0);
	assert_string_equal(out, "none|-");
	free(out);
	tpl_free(t);
	src = "{{ x | upper }}";
	assert_int_equal(tpl_compile("s.tpl", src, strlen(src), &t, &f->eb),
	    0);
	assert_int_equal(tpl_render(t, f->v, &o, &out, NULL, &f->eb),
	    ENG_EINVAL);
	assert_string_equal(f->eb.msg, "s.tpl:1:4: undefined variable 'x'");
	tpl_free(t);
}

static void
t_if(void **state)
{
	struct fx *f = *state;
	const char *src = "{% if c == \"red\" %}R{% elif c == 'orange' %}O"
	    "{% elif c %}?{% else %}-{% endif %}";

	render_is(f, src, "-");
	assert_int_equal(tpl_vars_set_str(f->v, "c", "orange"), 0);
	render_is(f, src, "O");
	assert_int_equal(tpl_vars_set_str(f->v, "c", "red"), 0);
	render_is(f, src, "R");
	assert_int_equal(tpl_vars_set_str(f->v, "c", "blue"), 0);
	render_is(f, src, "?");
	assert_int_equal(tpl_vars_set_bool(f->v, "t", 1), 0);
	assert_int_equal(tpl_vars_set_bool(f->v, "fa", 0), 0);
	assert_int_equal(tpl_vars_set_int(f->v, "zero", 0), 0);
	assert_int_equal(tpl_vars_set_str(f->v, "empty", ""), 0);
	assert_int_equal(tpl_vars_set_list(f->v, "nolist", NULL, 0), 0);
	render_is(f, "{% if t and not fa %}1{% endif %}"
	    "{% if fa or zero or empty or nolist or unset %}2{% endif %}"
	    "{% if not (fa or t) %}3{% endif %}"
	    "{% if c != \"red\" and (t or fa) %}4{% endif %}"
	    "{% if not not t %}5{% endif %}"
	    "{% if zero == 0 %}6{% endif %}"
	    "{% if c | upper == \"BLUE\" %}7{% endif %}"
	    "{% if unset == \"\" %}8{% endif %}", "145678");
	/* nested */
	render_is(f, "{% if t %}a{% if fa %}b{% else %}c{% if c %}d{% endif %}"
	    "{% endif %}{% endif %}", "acd");
}

static void
t_for(void **state)
{
	struct fx *f = *state;
	const char *areas[] = { "潞州区", "上党区", "屯留区" };
	const char *ab[] = { "a", "b" };

	assert_int_equal(tpl_vars_set_list(f->v, "areas", areas, 3), 0);
	assert_int_equal(tpl_vars_set_list(f->v, "ab", ab, 2), 0);
	render_is(f, "{% for a in areas %}{{ loop.index }}.{{ a }}"
	    "{% if loop.first %}(first){% endif %}"
	    "{% if not loop.last %}、{% endif %}{% endfor %}",
	    "1.潞州区(first)、2.上党区、3.屯留区");
	render_is(f, "{% for a in areas %}{{ loop.index0 }}/{{ loop.length }}"
	    " {% endfor %}", "0/3 1/3 2/3 ");
	/* nested loops: loop is the innermost */
	render_is(f, "{% for x in ab %}{% for y in ab %}{{ x }}{{ y }}"
	    "{{ loop.index }} {% endfor %}{{ loop.index }}|{% endfor %}",
	    "aa1 ab2 1|ba1 bb2 2|");
	/* empty, unset: else */
	render_is(f, "{% for x in none %}{{ x }}{% else %}empty{% endfor %}",
	    "empty");
	/* a string iterates as one item */
	assert_int_equal(tpl_vars_set_str(f->v, "one", "only"), 0);
	render_is(f, "{% for x in one %}[{{ x }}{{ loop.last }}]{% endfor %}",
	    "[onlytrue]");
	/* a list renders joined by ", " */
	render_is(f, "{{ ab }}", "a, b");
}

static void
t_whitespace(void **state)
{
	struct fx *f = *state;

	assert_int_equal(tpl_vars_set_bool(f->v, "t", 1), 0);
	/* comments vanish; a tag alone on its line takes the line */
	render_is(f, "a{# note #}b\n{# whole line #}\nc\n", "ab\nc");
	render_is(f, "x\n  {% if t %}\n  y\n  {% endif %}\nz", "x\n  y\nz");
	/* tags inside text keep the newline */
	render_is(f, "a{% if t %}b{% endif %}\nc", "ab\nc");
	/* explicit trimming */
	render_is(f, "a  \n {{- \" b \" -}} \n  c", "a b c");
	render_is(f, "a\n\n{%- if t -%}\n\n b \n\n{%- endif -%}\n\nc",
	    "abc");
	/* CRLF */
	render_is(f, "a\r\n{% if t %}\r\nb\r\n{% endif %}\r\n", "a\r\nb\r\n");
	/* only one final newline is dropped */
	render_is(f, "a\n\n", "a\n");
}

static void
t_filters(void **state)
{
	struct fx *f = *state;
	const char *l[] = { "潞州区", "上党区" };

	/* localtime: ms, RFC 3339, formats, zone */
	assert_int_equal(tpl_vars_set_int(f->v, "ms", 1721543400000LL), 0);
	assert_int_equal(tpl_vars_set_str(f->v, "rfc",
	    "2024-07-21T06:30:00Z"), 0);
	assert_int_equal(tpl_vars_set_str(f->v, "rfc8",
	    "2024-12-31T23:59:59.5-01:00"), 0);
	render_is(f, "{{ ms | localtime }}|{{ rfc | localtime(\"%-m月%-d日"
	    "%-H时%M分\") }}|{{ rfc8 | localtime(\"%Y-%m-%dT%H:%M:%S%z %Z\") }}",
	    "2024-07-21 14:30|7月21日14时30分|2025-01-01T08:59:59+0800 "
	    "Asia/Shanghai");
	assert_int_equal(tpl_vars_set_zone(f->v, -300, "EST"), 0);
	render_is(f, "{{ ms | localtime(\"%e %b %B %j %y %% %H\") }}",
	    "21 Jul July 203 24 % 01");
	assert_int_equal(tpl_vars_set_zone(f->v, 1440, "x"), ENG_EINVAL);
	assert_int_equal(tpl_vars_set_zone(f->v, 480, "Asia/Shanghai"), 0);
	/* a numeric string is ms; unreadable text passes unchanged */
	assert_int_equal(tpl_vars_set_str(f->v, "s", "1721543400000"), 0);
	assert_int_equal(tpl_vars_set_str(f->v, "bad", "tomorrow"), 0);
	render_is(f, "{{ s | localtime(\"%H:%M\") }}|{{ bad | localtime }}",
	    "14:30|tomorrow");
	/* truncate counts characters */
	assert_int_equal(tpl_vars_set_str(f->v, "zh", "预计未来三小时"), 0);
	render_is(f, "{{ zh | truncate(4) }}|{{ zh | truncate(7) }}|"
	    "{{ zh | truncate(0) }}|{{ zh | truncate(3, \"...\") }}|"
	    "{{ zh | truncate(5, \"...\") }}|{{ \"abc\" | truncate(2) }}",
	    "预计未…|预计未来三小时||...|预计...|a…");
	/* join, default, upper, lower, len */
	assert_int_equal(tpl_vars_set_list(f->v, "l", l, 2), 0);
	assert_int_equal(tpl_vars_set_str(f->v, "e", ""), 0);
	render_is(f, "{{ l | join(\"、\") }}|{{ l | join }}|{{ l | len }}|"
	    "{{ zh | len }}|{{ e | default(\"无\") }}|{{ u | default(zh) }}|"
	    "{{ zh | default(\"x\") }}|{{ \"Red é\" | upper }}|"
	    "{{ \"RED É\" | lower }}|{{ \"x\" | join(\"-\") }}",
	    "潞州区、上党区|潞州区, 上党区|2|7|无|预计未来三小时|"
	    "预计未来三小时|RED é|red É|x");
	/* colour_zh */
	render_is(f, "{{ \"red\" | colour_zh }}{{ \"Orange\" | colour_zh }}"
	    "{{ \"yellow\" | colour_zh }}{{ \"BLUE\" | colour_zh }}"
	    "{{ \"Extreme\" | colour_zh }}{{ \"红色\" | colour_zh }}"
	    "{{ \"pink\" | colour_zh }}", "红色橙色黄色蓝色红色红色pink");
	/* numbers read aloud */
	render_is(f, "{{ \"7月21日14时5分，3小时50毫米，10分，110，"
	    "1005，20000，105000，2024年，3.5米，0351\" | zh_num }}",
	    "七月二十一日十四时五分，三小时五十毫米，十分，一百一十，"
	    "一千零五，二万，十万五千，二〇二四年，三点五米，零三五一");
	render_is(f, "{{ \"4821\" | zh_digits }}|{{ \"4821\" | digits }}|"
	    "{{ \"at 14:05, 3 hours, 115 mm, 2.5 m, 123456\" | en_num }}",
	    "四八二一|4 8 2 1|at fourteen:zero five, three hours, "
	    "one hundred fifteen mm, two point five m, "
	    "one two three four five six");
	render_is(f, "{{ \"详见 https://x.cn/a?b=1 网站，或www.y.cn。\" | "
	    "strip_urls }}", "详见 网站，或。");
	/* filter chains */
	render_is(f, "{{ l | join(\"\") | truncate(4) | len }}", "4");
}

struct errcase {
	const char *src;
	int err;
	const char *msg;
};

static void
t_errors(void **state)
{
	static const struct errcase cases[] = {
		{ "line one\nline two\nSMS: {{ alert.description | trunc(3) }}",
		  ENG_EINVAL, "t.tpl:3:29: unknown filter 'trunc'" },
		{ "{{ x", ENG_EINVAL,
		  "t.tpl:1:1: unterminated '{{' (no closing '}}')" },
		{ "ab\n {% if x %}", ENG_EINVAL,
		  "t.tpl:2:2: unterminated 'if' (no '{% endif %}' before "
		  "the end)" },
		{ "{% for a in b %}{% if a %}{% endfor %}", ENG_EINVAL,
		  "t.tpl:1:30: 'endfor' inside 'if' (opened at 1:17)" },
		{ "{% endif %}", ENG_EINVAL,
		  "t.tpl:1:4: 'endif' without an open block" },
		{ "{# never closed", ENG_EINVAL,
		  "t.tpl:1:1: unterminated '{#' (no closing '#}')" },
		{ "{% iff x %}{% endif %}", ENG_EINVAL,
		  "t.tpl:1:4: unknown tag 'iff'" },
		{ "{{ }}", ENG_EINVAL, "t.tpl:1:1: empty '{{ }}'" },
		{ "{% if a = \"b\" %}{% endif %}", ENG_EINVAL,
		  "t.tpl:1:9: unexpected '=' (use '==' to compare)" },
		{ "{% if %}{% endif %}", ENG_EINVAL,
		  "t.tpl:1:7: missing condition" },
		{ "{{ a b }}", ENG_EINVAL,
		  "t.tpl:1:6: unexpected 'b' after the expression" },
		{ "{{ \"abc }}", ENG_EINVAL,
		  "t.tpl:1:1: unterminated '{{' (no closing '}}')" },
		{ "{{ a | truncate }}", ENG_EINVAL,
		  "t.tpl:1:8: filter 'truncate' takes 1 to 2 arguments, "
		  "got 0" },
		{ "{{ a | truncate(\"x\") }}", ENG_EINVAL,
		  "t.tpl:1:8: truncate: the length must be a number" },
		{ "{{ a | upper(1) }}", ENG_EINVAL,
		  "t.tpl:1:8: filter 'upper' takes 0 arguments, got 1" },
		{ "{{ a | localtime(\"%Q\") }}", ENG_EINVAL,
		  "t.tpl:1:8: localtime: unknown conversion in format (use "
		  "%Y %y %m %d %e %H %M %S %j %B %b %Z %z %%, '-' to drop the "
		  "zero padding)" },
		{ "{{ loop.index }}", ENG_EINVAL,
		  "t.tpl:1:4: 'loop.index' outside a for loop" },
		{ "{% for a in b %}{{ loop.idx }}{% endfor %}", ENG_EINVAL,
		  "t.tpl:1:20: unknown loop attribute 'loop.idx' (use "
		  "loop.index, loop.index0, loop.first, loop.last or "
		  "loop.length)" },
		{ "{% for a in b %}{{ a.name }}{% endfor %}", ENG_EINVAL,
		  "t.tpl:1:20: loop item 'a' is text; it has no attribute "
		  "'name'" },
		{ "{% for in b %}{% endfor %}", ENG_EINVAL,
		  "t.tpl:1:8: expected a loop variable name after 'for', got "
		  "'in'" },
		{ "{{ \"\\q\" }}", ENG_EINVAL,
		  "t.tpl:1:5: unknown escape '\\q' in string" },
		{ "{# max_segments: 0 #}", ENG_EINVAL,
		  "t.tpl:1:18: bad max_segments '0' (want a number from 1 to "
		  "255)" },
		{ "{# max_segments: 2 #}{# max_segments: 3 #}", ENG_EINVAL,
		  "t.tpl:1:25: max_segments declared twice" },
		{ "好\n好好\xff", ENG_EINVAL, "t.tpl:2:3: invalid UTF-8" },
		{ "{% if a %}{% section s %}{% endsection %}{% endif %}",
		  ENG_EINVAL, "t.tpl:1:14: 'section' must be at the top level, "
		  "not inside another block" },
		{ "{% section s %}{% endsection %}{% section s %}"
		  "{% endsection %}", ENG_EINVAL,
		  "t.tpl:1:43: section 's' defined twice" },
		{ "{{ a ! b }}", ENG_EINVAL,
		  "t.tpl:1:6: unexpected character '!'" },
		{ "{{ 99999999999999999999 }}", ENG_EINVAL,
		  "t.tpl:1:4: number too large" },
		{ "{{ a | }}", ENG_EINVAL,
		  "t.tpl:1:8: expected a filter name after '|', got end of "
		  "tag" },
		{ "{{ and }}", ENG_EINVAL, "t.tpl:1:4: unexpected 'and'" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		compile_err(cases[i].src, cases[i].err, cases[i].msg);
}

/* append to the 64 KiB buffer src at p */
#define ADD(...) (p += snprintf(p, (size_t)(src + 65536 - p), __VA_ARGS__))

static void
t_hostile(void **state)
{
	struct fx *f = *state;
	struct tpl_render_opts o = { 0 };
	struct tpl *t = NULL;
	char *src, *out = NULL, *p;
	const char *items[200];
	size_t i, n;

	/* TPL_MAX_DEPTH nested blocks compile, one more does not */
	src = malloc(65536);
	assert_non_null(src);
	for (n = TPL_MAX_DEPTH; n <= TPL_MAX_DEPTH + 1; n++) {
		p = src;
		for (i = 0; i < n; i++)
			ADD("{%% if a %%}");
		for (i = 0; i < n; i++)
			ADD("{%% endif %%}");
		eng_errbuf_init(&f->eb);
		if (n == TPL_MAX_DEPTH) {
			assert_int_equal(tpl_compile("d.tpl", src, strlen(src),
			    &t, &f->eb), 0);
			tpl_free(t);
		} else {
			assert_int_equal(tpl_compile("d.tpl", src, strlen(src),
			    &t, &f->eb), ENG_EINVAL);
			assert_string_equal(f->eb.msg, "d.tpl:1:321: blocks "
			    "nested too deeply (limit 32)");
		}
	}
	/* deep expressions */
	p = src;
	ADD("{{ ");
	for (i = 0; i < 40; i++)
		ADD("(");
	ADD("a");
	for (i = 0; i < 40; i++)
		ADD(")");
	ADD(" }}");
	assert_int_equal(tpl_compile("e.tpl", src, strlen(src), &t, &f->eb),
	    ENG_EINVAL);
	assert_string_equal(f->eb.msg, "e.tpl:1:36: expression nested too "
	    "deeply (limit 32)");
	p = src;
	ADD("{%% if ");
	for (i = 0; i < 40; i++)
		ADD("not ");
	ADD("a %%}{%% endif %%}");
	assert_int_equal(tpl_compile("e.tpl", src, strlen(src), &t, &f->eb),
	    ENG_EINVAL);
	/* too many filters */
	p = src;
	ADD("{{ a");
	for (i = 0; i < 17; i++)
		ADD(" | upper");
	ADD(" }}");
	assert_int_equal(tpl_compile("e.tpl", src, strlen(src), &t, &f->eb),
	    ENG_EINVAL);
	assert_string_equal(f->eb.msg, "e.tpl:1:134: too many filters "
	    "(limit 16)");
	/* too large */
	memset(src, 'x', 65536);
	assert_int_equal(tpl_compile("big.tpl", src, 65537 - 1, &t, &f->eb),
	    0);
	tpl_free(t);
	free(src);
	src = calloc(1, 65537);
	assert_non_null(src);
	memset(src, 'x', 65537);
	assert_int_equal(tpl_compile("big.tpl", src, 65537, &t, &f->eb),
	    ENG_ETOOBIG);
	assert_string_equal(f->eb.msg, "big.tpl: template too large (65537 "
	    "bytes, limit 65536)");
	free(src);
	/* a loop bomb: 200^3 iterations stop at the limit */
	for (i = 0; i < 200; i++)
		items[i] = "x";
	assert_int_equal(tpl_vars_set_list(f->v, "l", items, 200), 0);
	src = "{% for a in l %}{% for b in l %}\n {% for c in l %}{{ c }}"
	    "{% endfor %}{% endfor %}{% endfor %}";
	assert_int_equal(tpl_compile("bomb.tpl", src, strlen(src), &t,
	    &f->eb), 0);
	assert_int_equal(tpl_render(t, f->v, NULL, &out, NULL, &f->eb),
	    ENG_ETOOBIG);
	assert_null(out);
	assert_string_equal(f->eb.msg, "bomb.tpl:2:2: more than 10000 loop "
	    "iterations");
	o.max_iter = 100000;
	o.max_output = 1000;
	assert_int_equal(tpl_render(t, f->v, &o, &out, NULL, &f->eb),
	    ENG_ETOOBIG);
	assert_string_equal(f->eb.msg, "bomb.tpl:2:18: output exceeds 1000 "
	    "bytes");
	tpl_free(t);
	/* unterminated everything, stray closers */
	compile_err("{%", ENG_EINVAL,
	    "t.tpl:1:1: unterminated '{%' (no closing '%}')");
	compile_err("{{-", ENG_EINVAL,
	    "t.tpl:1:1: unterminated '{{' (no closing '}}')");
	compile_err("{%-%}", ENG_EINVAL, "t.tpl:1:4: expected a tag name "
	    "(if, elif, else, endif, for, endfor, section, endsection), got "
	    "end of tag");
	compile_err("{% for a in b %}{% else %}{% else %}{% endfor %}",
	    ENG_EINVAL, "t.tpl:1:30: 'else' inside 'for' (opened at 1:1)");
	assert_int_equal(tpl_compile("n.tpl", "a\nb\0c", 5, &t, &f->eb),
	    ENG_EINVAL);
	assert_string_equal(f->eb.msg, "n.tpl:2:2: NUL byte in template");
}

static void
t_utf8_output(void **state)
{
	struct fx *f = *state;
	struct tpl *t = NULL;
	char *out = NULL;
	const char *src = "{{ s | truncate(3) }}";

	/* 4-byte characters are never split */
	assert_int_equal(tpl_vars_set_str(f->v, "s",
	    "\xf0\x9f\x8c\xa7\xf0\x9f\x8c\xa7\xf0\x9f\x8c\xa7\xf0\x9f\x8c\xa7"),
	    0);
	assert_int_equal(tpl_compile("u.tpl", src, strlen(src), &t, &f->eb),
	    0);
	assert_int_equal(tpl_render(t, f->v, NULL, &out, NULL, &f->eb), 0);
	assert_string_equal(out,
	    "\xf0\x9f\x8c\xa7\xf0\x9f\x8c\xa7\xe2\x80\xa6");
	free(out);
	tpl_free(t);
}

static void
t_sections(void **state)
{
	struct fx *f = *state;
	struct tpl *t = NULL;
	char *out = NULL;
	const char *src = "{% section subject %}\n[{{ a }}] subject\n"
	    "{%- endsection -%}\nbody {{ a }}";

	assert_int_equal(tpl_vars_set_str(f->v, "a", "x"), 0);
	assert_int_equal(tpl_compile("m.tpl", src, strlen(src), &t, &f->eb),
	    0);
	assert_true(tpl_has_section(t, "subject"));
	assert_false(tpl_has_section(t, "body"));
	assert_int_equal(tpl_render(t, f->v, NULL, &out, NULL, &f->eb), 0);
	assert_string_equal(out, "body x");
	free(out);
	assert_int_equal(tpl_render_section(t, "subject", f->v, NULL, &out,
	    NULL, &f->eb), 0);
	assert_string_equal(out, "[x] subject");
	free(out);
	assert_int_equal(tpl_render_section(t, "nope", f->v, NULL, &out,
	    NULL, &f->eb), ENG_ENOENT);
	assert_string_equal(f->eb.msg, "m.tpl: no section 'nope'");
	assert_string_equal(tpl_name(t), "m.tpl");
	assert_int_equal(tpl_max_segments(t), 0);
	tpl_free(t);
	tpl_free(NULL);
}

/* Which variables a template reads, wherever it reads them. */
static void
t_uses(void **state)
{
	static const struct {
		const char *src;
		int responder, ack;
	} v[] = {
		{ "{{ region.name }}", 0, 0 },
		{ "{{ responder.name }}", 1, 0 },
		{ "{% if ack.required %}x{% endif %}", 0, 1 },
		{ "{% if a %}{% elif b %}{% else %}{{ ack.code }}{% endif %}",
		    0, 1 },
		{ "{% for x in areas %}{{ x }}{% else %}"
		    "{{ responder.role }}{% endfor %}", 1, 0 },
		{ "{{ a | default(responder.name) }}", 1, 0 },
		{ "{% if not (ack.reminder or b) %}{% endif %}", 0, 1 },
		{ "{% section subject %}{{ responder.name }}{% endsection %}",
		    1, 0 },
		{ "responder.name ack.code", 0, 0 },
	};
	struct eng_errbuf eb;
	struct tpl *t;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		eng_errbuf_init(&eb);
		if (tpl_compile("u.tpl", v[i].src, strlen(v[i].src), &t,
		    &eb) != 0)
			fail_msg("%s: %s", v[i].src, eb.msg);
		assert_int_equal(tpl_uses(t, "responder."), v[i].responder);
		assert_int_equal(tpl_uses(t, "ack."), v[i].ack);
		tpl_free(t);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_vars, setup, teardown),
		cmocka_unit_test_setup_teardown(t_uses, setup, teardown),
		cmocka_unit_test_setup_teardown(t_strict, setup, teardown),
		cmocka_unit_test_setup_teardown(t_if, setup, teardown),
		cmocka_unit_test_setup_teardown(t_for, setup, teardown),
		cmocka_unit_test_setup_teardown(t_whitespace, setup, teardown),
		cmocka_unit_test_setup_teardown(t_filters, setup, teardown),
		cmocka_unit_test_setup_teardown(t_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(t_hostile, setup, teardown),
		cmocka_unit_test_setup_teardown(t_utf8_output, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_sections, setup, teardown),
	};

	return cmocka_run_group_tests_name("tpl", tests, NULL, NULL);
}
