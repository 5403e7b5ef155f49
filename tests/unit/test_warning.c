/*
 * tests/unit/test_warning.c - the issuing form (engine/warning.h): the
 * CAP 1.2 message built from it validates strictly and parses back to the
 * same fields; every colour comes back as itself (severity and the CMA
 * signal code); Update and Cancel carry their references; the base of an
 * update read from a message and the fields changed over it; every bad
 * field, hostile input included, is refused naming the field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cap/cap.h"
#include "engine/diag.h"
#include "engine/err.h"
#include "engine/warning.h"

/* 2026-07-15T10:30:00Z */
#define NOW_MS	1784111400000LL
#define HOUR_MS	3600000LL

struct fx {
	struct warning w;
	struct diag_list d;
	struct eng_errbuf eb;
	struct cap_alert *a;
	char *xml;
	size_t len;
};

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	warning_init(&fx->w);
	diag_list_init(&fx->d);
	eng_errbuf_init(&fx->eb);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	warning_release(&fx->w);
	diag_list_release(&fx->d);
	cap_alert_free(fx->a);
	free(fx->xml);
	free(fx);
	return 0;
}

static const char form[] =
    "{\"event\": \"暴雨\", \"colour\": \"orange\","
    " \"headline\": \"平顺县气象台发布暴雨橙色预警\","
    " \"description\": \"预计未来6小时降雨量将达50毫米以上。\\n注意。\","
    " \"instruction\": \"停止户外作业。\","
    " \"regions\": [\"140425100201\", \"140425100202\", \"140425100201\"],"
    " \"onset\": \"2026-07-15T18:40:00+08:00\", \"expires\": \"+6h\","
    " \"status\": \"Exercise\", \"sender_name\": \"平顺县气象台\"}";

static void
parse_ok(struct fx *fx, const char *json, int kind)
{
	int rv = warning_parse(json, strlen(json), kind, NOW_MS, &fx->w,
	    &fx->d);

	if (rv != 0 && fx->d.n > 0)
		fail_msg("unexpected: %s", fx->d.v[0].msg);
	assert_int_equal(rv, 0);
}

/* Build w as an Alert (or m), serialise, parse back strictly. */
static void
build_parse(struct fx *fx, const struct warning_msg *m)
{
	struct warning_msg dm = {
		.msg_type = CAP_MSG_ALERT, .sender = "gong@140400000000",
		.identifier = "140400000000-20260715183000-1a2b3c4d",
		.sent_ms = NOW_MS + 123, .utc_offset_min = 480,
		.area_desc = "西沟村、东沟村",
	};
	struct diag_list d;
	int rv;

	assert_int_equal(warning_to_xml(&fx->w, m ? m : &dm, &fx->xml,
	    &fx->len, &fx->eb), 0);
	diag_list_init(&d);
	rv = cap_parse(fx->xml, fx->len, NULL, &fx->a, &d, &fx->eb);
	if (rv != 0)
		fail_msg("%s: %s\n%s", fx->eb.msg, d.n ? d.v[0].msg : "",
		    fx->xml);
	assert_int_equal(d.nerrors, 0);
	assert_int_equal(d.nwarnings, 0);
	diag_list_release(&d);
}

static void
test_alert_round_trip(void **state)
{
	struct fx *fx = *state;
	const struct cap_info *in;
	const struct cap_area *ar;
	int type;
	enum cap_color cc;

	parse_ok(fx, form, 'A');
	assert_int_equal(fx->w.nregions, 2);	/* the duplicate dropped */
	build_parse(fx, NULL);
	assert_int_equal(fx->a->version, CAP_V12);
	assert_string_equal(fx->a->identifier,
	    "140400000000-20260715183000-1a2b3c4d");
	assert_string_equal(fx->a->sender, "gong@140400000000");
	assert_string_equal(fx->a->sent.text, "2026-07-15T18:30:00+08:00");
	assert_int_equal(fx->a->sent.ms, NOW_MS);
	assert_int_equal(fx->a->status, CAP_STATUS_EXERCISE);
	assert_int_equal(fx->a->msg_type, CAP_MSG_ALERT);
	assert_int_equal(fx->a->scope, CAP_SCOPE_PUBLIC);
	assert_null(fx->a->references);
	assert_int_equal(fx->a->ninfos, 1);
	in = &fx->a->infos[0];
	assert_string_equal(in->language, "zh-CN");
	assert_int_equal(in->ncategories, 1);
	assert_string_equal(in->categories[0], "Met");
	assert_string_equal(in->event, "暴雨");
	assert_int_equal(in->severity, CAP_SEV_SEVERE);
	assert_int_equal(in->urgency, CAP_URG_EXPECTED);
	assert_int_equal(in->certainty, CAP_CERT_LIKELY);
	assert_int_equal(cap_info_cma_signal(in, "CMA_SIGNAL", &type, &cc), 0);
	assert_int_equal(type, 2);
	assert_int_equal(cc, CAP_COLOR_ORANGE);
	assert_string_equal(in->onset.text, "2026-07-15T18:40:00+08:00");
	assert_string_equal(in->expires.text, "2026-07-16T00:30:00+08:00");
	assert_int_equal(in->expires.ms, NOW_MS + 6 * HOUR_MS);
	assert_string_equal(in->sender_name, "平顺县气象台");
	assert_string_equal(in->headline, "平顺县气象台发布暴雨橙色预警");
	assert_string_equal(in->description,
	    "预计未来6小时降雨量将达50毫米以上。\n注意。");
	assert_string_equal(in->instruction, "停止户外作业。");
	assert_int_equal(in->nareas, 1);
	ar = &in->areas[0];
	assert_string_equal(ar->desc, "西沟村、东沟村");
	assert_int_equal(ar->ngeocodes, 2);
	assert_string_equal(ar->geocodes[0].name, "GB/T 2260");
	assert_string_equal(ar->geocodes[0].value, "140425100201");
	assert_string_equal(ar->geocodes[1].value, "140425100202");
	assert_int_equal(ar->npolygons, 0);
}

static void
test_colour_round_trip(void **state)
{
	static const char *const words[] = { "blue", "yellow", "orange",
	    "red" };
	struct fx *fx = *state;
	char json[512];
	int c, type;
	enum cap_color cc;

	for (c = 1; c <= 4; c++) {
		warning_release(&fx->w);
		cap_alert_free(fx->a);
		fx->a = NULL;
		free(fx->xml);
		fx->xml = NULL;
		(void)snprintf(json, sizeof(json), "{\"event\": \"%s\", "
		    "\"colour\": \"%s\", \"headline\": \"h\", \"regions\": "
		    "[\"140425\"], \"expires\": \"+1h\"}",
		    c % 2 ? "暴雨" : "山洪", words[c - 1]);
		parse_ok(fx, json, 'A');
		build_parse(fx, NULL);
		assert_int_equal(cap_severity_color(fx->a->infos[0].severity,
		    CAP_COLOR_NONE), c);
		if (c % 2) {	/* a CMA signal: the code says it too */
			assert_int_equal(cap_info_cma_signal(&fx->a->infos[0],
			    NULL, &type, &cc), 0);
			assert_int_equal(cc, c);
		} else
			assert_int_equal(fx->a->infos[0].nevent_codes, 0);
		assert_int_equal(fx->a->status, CAP_STATUS_ACTUAL);
	}
	/* Severity instead of colour; the Chinese words. */
	warning_release(&fx->w);
	parse_ok(fx, "{\"event\": \"e\", \"severity\": \"Extreme\", "
	    "\"urgency\": \"Immediate\", \"certainty\": \"Observed\", "
	    "\"headline\": \"h\", \"regions\": [\"140425\"], \"expires\": "
	    "\"+1h\"}", 'A');
	assert_int_equal(fx->w.colour, CAP_COLOR_RED);
	assert_int_equal(fx->w.urgency, CAP_URG_IMMEDIATE);
	assert_int_equal(warning_colour_parse("橙色"), CAP_COLOR_ORANGE);
	assert_int_equal(warning_colour_parse("Red"), CAP_COLOR_RED);
	assert_int_equal(warning_colour_parse("purple"), -1);
}

static void
test_update_cancel_references(void **state)
{
	struct fx *fx = *state;
	const char *refs[] = {
		"gong@140400000000,140400000000-20260715183000-aaaa,"
		"2026-07-15T18:30:00+08:00",
		"gong@140400000000,140400000000-20260715190000-bbbb,"
		"2026-07-15T19:00:00+08:00",
	};
	struct warning_msg m = {
		.msg_type = CAP_MSG_UPDATE, .sender = "gong@140400000000",
		.identifier = "140400000000-20260715193000-cccc",
		.sent_ms = NOW_MS + HOUR_MS, .utc_offset_min = 480,
		.refs = refs, .nrefs = 2,
	};
	struct cap_alert *b = NULL;

	parse_ok(fx, form, 'A');
	build_parse(fx, &m);
	assert_int_equal(fx->a->msg_type, CAP_MSG_UPDATE);
	assert_string_equal(fx->a->references, "gong@140400000000,"
	    "140400000000-20260715183000-aaaa,2026-07-15T18:30:00+08:00 "
	    "gong@140400000000,140400000000-20260715190000-bbbb,"
	    "2026-07-15T19:00:00+08:00");
	assert_int_equal(fx->a->nrefs, 2);
	assert_string_equal(fx->a->refs[1].identifier,
	    "140400000000-20260715190000-bbbb");
	assert_int_equal(fx->a->refs[0].sent.ms, NOW_MS);
	assert_string_equal(fx->a->infos[0].areas[0].desc,
	    "140425100201 140425100202");	/* no names given: codes */

	/* A Cancel: its note is the reason, urgency Past. */
	free(fx->w.reason);
	fx->w.reason = strdup("降雨减弱");
	m.msg_type = CAP_MSG_CANCEL;
	m.nrefs = 1;
	assert_int_equal(warning_build(&fx->w, &m, &b, &fx->eb), 0);
	assert_int_equal(b->msg_type, CAP_MSG_CANCEL);
	assert_string_equal(b->note, "降雨减弱");
	assert_string_equal(b->infos[0].description, "降雨减弱");
	assert_string_equal(b->infos[0].headline,
	    "平顺县气象台发布暴雨橙色预警");
	assert_int_equal(b->infos[0].urgency, CAP_URG_PAST);
	assert_int_equal(b->nrefs, 1);
	cap_alert_free(b);

	/* No references, a bad one, a bad sender. */
	m.nrefs = 0;
	assert_int_equal(warning_build(&fx->w, &m, &b, &fx->eb), ENG_EINVAL);
	assert_string_equal(fx->eb.msg, "a Cancel needs references");
	refs[0] = "only,two";
	m.nrefs = 1;
	assert_int_equal(warning_build(&fx->w, &m, &b, &fx->eb), ENG_EINVAL);
	assert_string_equal(fx->eb.msg, "reference \"only,two\" is not "
	    "sender,identifier,sent");
	assert_null(b);
	m.sender = "a sender";
	assert_int_equal(warning_build(&fx->w, &m, &b, &fx->eb), ENG_EINVAL);
	assert_string_equal(fx->eb.msg, "sender and identifier must not "
	    "contain spaces, commas, < or &");
}

static void
test_update_base_merge(void **state)
{
	static const char upd[] = "{\"colour\": \"red\", \"headline\": "
	    "\"升级为红色\", \"regions\": [\"140425100201\"], "
	    "\"description\": \"\"}";
	struct fx *fx = *state;
	struct warning base, chg;

	parse_ok(fx, form, 'A');
	build_parse(fx, NULL);
	assert_int_equal(warning_from_cap(fx->a, NULL, &base, &fx->eb), 0);
	assert_string_equal(base.event, "暴雨");
	assert_int_equal(base.colour, CAP_COLOR_ORANGE);
	assert_int_equal(base.nregions, 2);
	assert_int_equal(base.status, CAP_STATUS_EXERCISE);
	assert_int_equal(base.expires_ms, NOW_MS + 6 * HOUR_MS);

	warning_init(&chg);
	assert_int_equal(warning_parse(upd, strlen(upd), 'U', NOW_MS, &chg,
	    &fx->d), 0);
	assert_int_equal(warning_merge(&base, &chg), 0);
	assert_int_equal(base.colour, CAP_COLOR_RED);
	assert_int_equal(base.severity, CAP_SEV_EXTREME);
	assert_string_equal(base.headline, "升级为红色");
	assert_null(base.description);		/* "" clears it */
	assert_string_equal(base.instruction, "停止户外作业。");	/* kept */
	assert_int_equal(base.nregions, 1);
	assert_int_equal(base.status, CAP_STATUS_EXERCISE);
	assert_int_equal(warning_check(&base, NOW_MS, &fx->d), 0);
	warning_release(&chg);
	warning_release(&base);
}

static void
test_polygon(void **state)
{
	struct fx *fx = *state;
	const struct cap_polygon *p;

	parse_ok(fx, "{\"event\": \"e\", \"colour\": \"blue\", \"headline\": "
	    "\"h\", \"polygon\": [[36.1, 113.3], [36.2, 113.3], "
	    "[36.2, 113.5]], \"expires\": \"2026-07-15T20:00:00+08:00\", "
	    "\"language\": \"en\", \"category\": \"Geo\"}", 'A');
	assert_int_equal(fx->w.npoints, 4);	/* closed */
	build_parse(fx, NULL);
	p = &fx->a->infos[0].areas[0].polygons[0];
	assert_int_equal(p->npts, 4);
	assert_true(p->pts[3].lat == 36.1 && p->pts[3].lon == 113.3);
	assert_int_equal(fx->a->infos[0].areas[0].ngeocodes, 0);
	assert_string_equal(fx->a->infos[0].language, "en");
	assert_string_equal(fx->a->infos[0].categories[0], "Geo");
	assert_int_equal(fx->a->infos[0].expires.ms, NOW_MS + 90 * 60000);
}

/* Every bad field: (kind, body, expected messages in order). */
struct bad_case {
	int kind;
	const char *body;
	const char *msgs[4];
};

static void
test_bad_fields(void **state)
{
	static char longtext[WARNING_HEADLINE_MAX + 64];
	static char many[WARNING_MAX_REGIONS * 12 + 64];
	static char deep[4096];
	static const struct bad_case cases[] = {
		{ 'A', "{}", { "event: is required" } },
		{ 'A', "{\"event\": \"e\"}", { "headline: is required" } },
		{ 'A', "{\"event\": \"e\", \"headline\": \"h\"}",
		    { "colour: is required (blue, yellow, orange, red), or "
		    "severity" } },
		{ 'A', "{\"event\": \"e\", \"headline\": \"h\", \"colour\": "
		    "\"red\"}", { "regions: is required (division codes), or "
		    "polygon" } },
		{ 'A', "{\"event\": \"e\", \"headline\": \"h\", \"colour\": "
		    "\"red\", \"regions\": [\"140425\"]}",
		    { "expires: is required (RFC 3339 or +6h)" } },
		{ 'A', "{\"event\": \"\", \"headline\": \" \\t\", \"colour\": "
		    "\"purple\", \"regions\": [\"14\", 7], \"expires\": "
		    "\"tomorrow\", \"bogus\": 1}",
		    { "event: must not be empty",
		    "headline: must not be empty",
		    "colour: must be blue, yellow, orange or red",
		    "regions[0]: \"14\" is not a division code (6, 9 or 12 "
		    "digits)" } },
		{ 'A', "{\"event\": \"e\\u0007\"}",
		    { "event: must not contain control characters" } },
		/* The fuzzer's find: valid UTF-8, but not an XML character. */
		{ 'A', "{\"description\": \"预计\\uFFFE50毫米\"}",
		    { "description: must not contain U+FFFE or U+FFFF (not "
		    "characters in XML)" } },
		{ 'A', "{\"headline\": \"\xef\xbf\xbf\"}",
		    { "headline: must not contain U+FFFE or U+FFFF (not "
		    "characters in XML)" } },
		{ 'A', "{\"event\": \"e\\u0000x\"}", { NULL } },	/* JSON */
		{ 'A', "[1]", { "body: must be a JSON object" } },
		{ 'A', "{\"event\": 1, \"event\": 2}", { NULL } },
		{ 'U', "{\"severity\": \"Minor\", \"colour\": \"red\"}",
		    { "severity: Minor does not match the colour given" } },
		{ 'U', "{\"status\": \"Test\", \"language\": \"fr\", "
		    "\"category\": \"met\"}",
		    { "status: must be Actual or Exercise",
		    "language: must be zh-CN or en",
		    "category: must be one of Geo, Met, Safety, Security, "
		    "Rescue, Fire, Health, Env, Transport, Infra, CBRNE, "
		    "Other" } },
		{ 'U', "{\"expires\": \"+31d\", \"onset\": "
		    "\"2026-07-15T18:00:00\"}",
		    { "expires: \"+31d\" is not a duration like +6h, +30m, "
		    "+2d (at most 30 days)",
		    "onset: \"2026-07-15T18:00:00\" needs a UTC offset "
		    "(+08:00)" } },
		{ 'U', "{\"polygon\": [[1, 2], [3, 4]]}",
		    { "polygon: needs at least 3 points" } },
		{ 'U', "{\"polygon\": [[91, 2], [3, 4], \"x\"]}",
		    { "polygon[0]: is outside -90..90, -180..180",
		    "polygon[2]: must be [lat, lon]" } },
		{ 'U', "{\"polygon\": [[1, 2], [1, 2], [1, 2]]}",
		    { "polygon: needs at least 3 distinct points" } },
		{ 'U', "{\"regions\": \"140425\", \"dry_run\": 1}",
		    { "regions: must be an array of division codes",
		    "dry_run: must be true or false" } },
		{ 'C', "{\"reason\": \"r\", \"headline\": \"h\"}",
		    { "headline: is not a field of this form" } },
		{ 0, NULL, { NULL } }
	};
	struct fx *fx = *state;
	size_t i, j, n;
	int rv;

	for (i = 0; cases[i].body != NULL; i++) {
		warning_release(&fx->w);
		diag_list_release(&fx->d);
		rv = warning_parse(cases[i].body, strlen(cases[i].body),
		    cases[i].kind, NOW_MS, &fx->w, &fx->d);
		assert_int_equal(rv, ENG_EINVAL);
		if (cases[i].msgs[0] == NULL) {	/* refused as JSON */
			assert_string_equal(fx->d.v[0].path, "body");
			assert_non_null(strstr(fx->d.v[0].msg,
			    "body: is not JSON: "));
			continue;
		}
		for (n = 0; n < 4 && cases[i].msgs[n] != NULL; n++)
			;
		if (fx->d.n < n)
			fail_msg("case %zu: %zu errors, first %s", i, fx->d.n,
			    fx->d.n ? fx->d.v[0].msg : "-");
		for (j = 0; j < n; j++)
			assert_string_equal(fx->d.v[j].msg, cases[i].msgs[j]);
		/* The path is the field. */
		assert_int_equal(strncmp(fx->d.v[0].msg, fx->d.v[0].path,
		    strlen(fx->d.v[0].path)), 0);
	}

	/* Over-long text, too many regions, hostile nesting, a big body. */
	memset(longtext, 'x', sizeof(longtext) - 1);
	(void)snprintf(deep, sizeof(deep), "{\"headline\": \"%.*s\"}",
	    WARNING_HEADLINE_MAX + 1, longtext);
	warning_release(&fx->w);
	diag_list_release(&fx->d);
	assert_int_equal(warning_parse(deep, strlen(deep), 'U', NOW_MS,
	    &fx->w, &fx->d), ENG_EINVAL);
	assert_string_equal(fx->d.v[0].msg,
	    "headline: is longer than 200 bytes");
	n = (size_t)snprintf(many, sizeof(many), "{\"regions\": [");
	for (i = 0; i <= WARNING_MAX_REGIONS; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n, "%s\"%d\"",
		    i ? "," : "", 140425 + (int)i);
	(void)snprintf(many + n, sizeof(many) - n, "]}");
	diag_list_release(&fx->d);
	assert_int_equal(warning_parse(many, strlen(many), 'U', NOW_MS,
	    &fx->w, &fx->d), ENG_EINVAL);
	assert_string_equal(fx->d.v[0].msg, "regions: more than 200 regions");
	for (i = 0; i < 2000; i++)
		deep[i] = '[';
	deep[i] = '\0';
	diag_list_release(&fx->d);
	assert_int_equal(warning_parse(deep, strlen(deep), 'A', NOW_MS,
	    &fx->w, &fx->d), ENG_EINVAL);
	assert_string_equal(fx->d.v[0].path, "body");
	diag_list_release(&fx->d);
	assert_int_equal(warning_parse(deep, WARNING_BODY_MAX + 1, 'A',
	    NOW_MS, &fx->w, &fx->d), ENG_EINVAL);
	assert_string_equal(fx->d.v[0].msg,
	    "body: is larger than 65536 bytes");
}

static void
test_check(void **state)
{
	struct fx *fx = *state;

	parse_ok(fx, form, 'A');
	assert_int_equal(warning_check(&fx->w, NOW_MS, &fx->d), 0);
	fx->w.expires_ms = fx->w.onset_ms;
	assert_int_equal(warning_check(&fx->w, NOW_MS, &fx->d), ENG_EINVAL);
	assert_string_equal(fx->d.v[0].msg, "expires: is not after onset "
	    "(2026-07-15T10:40:00+00:00)");
	diag_list_release(&fx->d);
	fx->w.onset_ms = 0;
	fx->w.expires_ms = NOW_MS - 1000;
	assert_int_equal(warning_check(&fx->w, NOW_MS, &fx->d), ENG_EINVAL);
	assert_string_equal(fx->d.v[0].msg, "expires: 2026-07-15T10:29:59"
	    "+00:00 is in the past");
	diag_list_release(&fx->d);
	fx->w.expires_ms = NOW_MS + WARNING_MAX_DURATION_MS + 1000;
	assert_int_equal(warning_check(&fx->w, NOW_MS, &fx->d), ENG_EINVAL);
	assert_string_equal(fx->d.v[0].msg, "expires: 2026-08-14T10:30:01"
	    "+00:00 is more than 30 days ahead");
}

static void
test_identifier(void **state)
{
	char buf[80];

	(void)state;
	assert_int_equal(warning_identifier("140400000000", NOW_MS + 999, 480,
	    "1a2b3c4d", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "140400000000-20260715183000-1a2b3c4d");
	assert_int_equal(warning_identifier("140400000000", NOW_MS, 0,
	    "1A", buf, sizeof(buf)), ENG_EINVAL);
	assert_int_equal(warning_identifier("140400000000", NOW_MS, 0,
	    "ab", buf, 20), ENG_EINVAL);
	assert_string_equal(warning_fmt_time(NOW_MS, -150, buf, sizeof(buf)),
	    "2026-07-15T08:00:00-02:30");
	assert_int_equal(warning_cma_type("道路结冰"), 14);
	assert_int_equal(warning_cma_type("地震"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_alert_round_trip, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_colour_round_trip, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_update_cancel_references,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_base_merge, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_polygon, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bad_fields, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identifier, setup,
		    teardown),
	};
	int rv;

	cap_global_init();
	rv = cmocka_run_group_tests_name("warning", tests, NULL, NULL);
	cap_global_cleanup();
	return rv;
}
