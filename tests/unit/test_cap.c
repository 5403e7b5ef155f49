/*
 * tests/unit/test_cap.c - CAP parse/validate rules, hostile XML,
 * encodings, Chinese-profile helpers, serialiser round trip.
 *
 * Every rule test edits one line of a known-good document (BASE) and
 * asserts the exact path, line and message of the diagnostic.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <glob.h>
#include <iconv.h>
#include <cmocka.h>

#include "cap/cap.h"
#include "engine/diag.h"
#include "engine/err.h"

static const char BASE[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"			/* 1 */
    "<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\">\n"	/* 2 */
    "<identifier>TEST-1</identifier>\n"					/* 3 */
    "<sender>test@example.org</sender>\n"				/* 4 */
    "<sent>2026-07-15T11:30:00+08:00</sent>\n"				/* 5 */
    "<status>Actual</status>\n"						/* 6 */
    "<msgType>Alert</msgType>\n"					/* 7 */
    "<scope>Public</scope>\n"						/* 8 */
    "<info>\n"								/* 9 */
    "<language>zh-CN</language>\n"					/* 10 */
    "<category>Met</category>\n"					/* 11 */
    "<event>暴雨</event>\n"					/* 12 */
    "<urgency>Immediate</urgency>\n"					/* 13 */
    "<severity>Extreme</severity>\n"					/* 14 */
    "<certainty>Observed</certainty>\n"					/* 15 */
    "<eventCode><valueName>CMA_SIGNAL</valueName><value>0204</value>"
    "</eventCode>\n"							/* 16 */
    "<effective>2026-07-15T11:30:00+08:00</effective>\n"		/* 17 */
    "<expires>2026-07-16T11:30:00+08:00</expires>\n"			/* 18 */
    "<headline>红色预警 &amp; &lt;test&gt;</headline>\n"		/* 19 */
    "<area>\n"								/* 20 */
    "<areaDesc>平顺县</areaDesc>\n"				/* 21 */
    "<polygon>36.10,113.40 36.10,113.75 36.35,113.75 36.10,113.40"
    "</polygon>\n"							/* 22 */
    "<circle>36.18,113.62 8.5</circle>\n"				/* 23 */
    "<geocode><valueName>GB/T 2260</valueName><value>140425</value>"
    "</geocode>\n"							/* 24 */
    "</area>\n"								/* 25 */
    "</info>\n"								/* 26 */
    "</alert>\n";							/* 27 */

struct fx {
	struct cap_opts o;
	struct diag_list dl;
	struct eng_errbuf eb;
	struct cap_alert *a;
	char *doc;
	int rv;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	cap_opts_init(&f->o);
	diag_list_init(&f->dl);
	eng_errbuf_init(&f->eb);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	cap_alert_free(f->a);
	diag_list_release(&f->dl);
	free(f->doc);
	free(f);
	return 0;
}

/* BASE with the first occurrence of from replaced by to. */
static char *
edit(const char *base, const char *from, const char *to)
{
	const char *p = strstr(base, from);
	size_t bl = strlen(base), fl = strlen(from), tl = strlen(to);
	char *r;

	assert_non_null(p);
	r = malloc(bl - fl + tl + 1);
	assert_non_null(r);
	memcpy(r, base, (size_t)(p - base));
	memcpy(r + (p - base), to, tl);
	memcpy(r + (p - base) + tl, p + fl, bl - (size_t)(p - base) - fl + 1);
	return r;
}

static void
run(struct fx *f, const char *doc, size_t len)
{
	cap_alert_free(f->a);
	f->a = NULL;
	diag_list_release(&f->dl);
	f->rv = cap_parse(doc, len, &f->o, &f->a, &f->dl, &f->eb);
}

static void
run_edit(struct fx *f, const char *from, const char *to)
{
	free(f->doc);
	f->doc = edit(BASE, from, to);
	run(f, f->doc, strlen(f->doc));
}

static void
dump(const struct fx *f)
{
	char buf[1024];
	size_t i;

	for (i = 0; i < f->dl.n; i++)
		print_message("  %s\n", diag_format(&f->dl.v[i], buf,
		    sizeof(buf)));
}

/* Assert a diagnostic with exactly this severity, line, path, message. */
static void
has(const struct fx *f, enum diag_sev sev, long line, const char *path,
    const char *msg)
{
	size_t i;

	for (i = 0; i < f->dl.n; i++) {
		const struct diag *d = &f->dl.v[i];

		if (d->sev == sev && d->line == line &&
		    ((path == NULL && d->path == NULL) || (path != NULL &&
		    d->path != NULL && strcmp(path, d->path) == 0)) &&
		    strcmp(d->msg, msg) == 0)
			return;
	}
	dump(f);
	fail_msg("no %s at line %ld path %s: %s",
	    sev == DIAG_ERROR ? "error" : "warning", line,
	    path ? path : "(none)", msg);
}

static void
rejected(struct fx *f, long line, const char *path, const char *msg)
{
	if (f->rv != ENG_EINVAL)
		dump(f);
	assert_int_equal(f->rv, ENG_EINVAL);
	assert_null(f->a);
	has(f, DIAG_ERROR, line, path, msg);
}

static void
accepted(struct fx *f)
{
	if (f->rv != 0)
		dump(f);
	assert_int_equal(f->rv, 0);
	assert_non_null(f->a);
	assert_int_equal(f->dl.nerrors, 0);
}

/* An error when strict; the same text as a warning when lenient. */
static void
rule(struct fx *f, const char *from, const char *to, long line,
    const char *path, const char *msg)
{
	f->o.lenient = 0;
	run_edit(f, from, to);
	rejected(f, line, path, msg);
	f->o.lenient = 1;
	run_edit(f, from, to);
	accepted(f);
	has(f, DIAG_WARNING, line, path, msg);
	f->o.lenient = 0;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- the model ---- */

static void
t_base_model(void **state)
{
	struct fx *f = *state;
	const struct cap_info *in;
	const struct cap_area *ar;

	run(f, BASE, strlen(BASE));
	accepted(f);
	assert_int_equal(f->dl.n, 0);
	assert_int_equal(f->a->version, CAP_V12);
	assert_string_equal(f->a->identifier, "TEST-1");
	assert_string_equal(f->a->sender, "test@example.org");
	assert_string_equal(f->a->sent.text, "2026-07-15T11:30:00+08:00");
	assert_true(f->a->sent.ms == INT64_C(1784086200000));
	assert_int_equal(f->a->sent.offset_min, 480);
	assert_int_equal(f->a->status, CAP_STATUS_ACTUAL);
	assert_int_equal(f->a->msg_type, CAP_MSG_ALERT);
	assert_int_equal(f->a->scope, CAP_SCOPE_PUBLIC);
	assert_int_equal(f->a->ninfos, 1);
	in = &f->a->infos[0];
	assert_string_equal(in->language, "zh-CN");
	assert_int_equal(in->ncategories, 1);
	assert_string_equal(in->categories[0], "Met");
	assert_string_equal(in->event, "暴雨");
	assert_int_equal(in->urgency, CAP_URG_IMMEDIATE);
	assert_int_equal(in->severity, CAP_SEV_EXTREME);
	assert_int_equal(in->certainty, CAP_CERT_OBSERVED);
	assert_string_equal(in->headline, "红色预警 & <test>");
	assert_int_equal(in->nevent_codes, 1);
	assert_string_equal(in->event_codes[0].name, "CMA_SIGNAL");
	assert_string_equal(in->event_codes[0].value, "0204");
	assert_true(in->expires.ms == INT64_C(1784086200000) + 86400000);
	assert_int_equal(in->nareas, 1);
	ar = &in->areas[0];
	assert_string_equal(ar->desc, "平顺县");
	assert_int_equal(ar->npolygons, 1);
	assert_int_equal(ar->polygons[0].npts, 4);
	assert_true(ar->polygons[0].pts[1].lat == 36.10);
	assert_true(ar->polygons[0].pts[1].lon == 113.75);
	assert_int_equal(ar->ncircles, 1);
	assert_true(ar->circles[0].center.lat == 36.18);
	assert_true(ar->circles[0].radius_km == 8.5);
	assert_int_equal(ar->ngeocodes, 1);
	assert_string_equal(ar->geocodes[0].name, "GB/T 2260");
	assert_string_equal(ar->geocodes[0].value, "140425");
}

static void
t_references_parsed(void **state)
{
	struct fx *f = *state;

	run_edit(f, "<msgType>Alert</msgType>\n<scope>Public</scope>\n",
	    "<msgType>Update</msgType>\n<scope>Public</scope>\n"
	    "<references>a@b,ID-1,2026-07-15T08:30:00+08:00\n"
	    "  a@b,ID-2,2026-07-15T09:00:00-00:00</references>\n");
	accepted(f);
	assert_int_equal(f->a->nrefs, 2);
	assert_string_equal(f->a->refs[0].sender, "a@b");
	assert_string_equal(f->a->refs[0].identifier, "ID-1");
	assert_string_equal(f->a->refs[0].sent.text,
	    "2026-07-15T08:30:00+08:00");
	assert_true(f->a->refs[0].sent.ms == INT64_C(1784075400000));
	assert_string_equal(f->a->refs[1].identifier, "ID-2");
	assert_true(f->a->refs[1].sent.ms == INT64_C(1784106000000));
}

/* ---- alert rules ---- */

static void
t_required(void **state)
{
	struct fx *f = *state;

	rule(f, "<status>Actual</status>\n", "", 2, "/alert/status",
	    "<alert> has no <status>");
	rule(f, "<scope>Public</scope>\n", "", 2, "/alert/scope",
	    "<alert> has no <scope>");
	/* identity can never be relaxed */
	f->o.lenient = 1;
	run_edit(f, "<identifier>TEST-1</identifier>\n", "");
	rejected(f, 2, "/alert/identifier", "<alert> has no <identifier>, "
	    "so the message cannot be identified");
	run_edit(f, "<sent>2026-07-15T11:30:00+08:00</sent>\n", "");
	rejected(f, 2, "/alert/sent", "<alert> has no <sent>, so the "
	    "message cannot be identified");
}

static void
t_enums(void **state)
{
	struct fx *f = *state;

	rule(f, "Actual", "Real", 6, "/alert/status",
	    "\"Real\" is not a valid status");
	rule(f, "<msgType>Alert", "<msgType>Warning", 7, "/alert/msgType",
	    "\"Warning\" is not a valid msgType");
	rule(f, "Public", "public", 8, "/alert/scope",
	    "\"public\" is not a valid scope");
	rule(f, "Immediate", "", 13, "/alert/info[1]/urgency",
	    "<urgency> is empty");
	rule(f, "<certainty>Observed", "<certainty>Sure", 15,
	    "/alert/info[1]/certainty", "\"Sure\" is not a valid certainty");
	rule(f, "<category>Met", "<category>Weather", 11,
	    "/alert/info[1]/category", "\"Weather\" is not a valid category");
	rule(f, "<category>Met</category>\n",
	    "<category>Met</category>\n<responseType>Run</responseType>\n", 12,
	    "/alert/info[1]/responseType",
	    "\"Run\" is not a valid responseType");
}

static void
t_times(void **state)
{
	struct fx *f = *state;

	rule(f, "<sent>2026-07-15T11:30:00+08:00", "<sent>2026-07-15T11:30:00",
	    5, "/alert/sent", "\"2026-07-15T11:30:00\": the time has no "
	    "time-zone offset (read as UTC)");
	assert_true(f->a->sent.ms == INT64_C(1784086200000) + 8 * 3600000);
	rule(f, "<sent>2026-07-15T11:30:00+08:00", "<sent>2026-07-15T03:30:00Z",
	    5, "/alert/sent", "\"2026-07-15T03:30:00Z\": the time zone must "
	    "be given as +hh:mm or -hh:mm, not \"Z\"");
	rule(f, "<expires>2026-07-16T11:30:00+08:00",
	    "<expires>2026-02-30T11:30:00+08:00", 18, "/alert/info[1]/expires",
	    "\"2026-02-30T11:30:00+08:00\": not a dateTime of the form "
	    "YYYY-MM-DDThh:mm:ss+hh:mm");
	/* an unreadable sent is fatal even for a lenient source */
	f->o.lenient = 1;
	run_edit(f, "<sent>2026-07-15T11:30:00+08:00", "<sent>yesterday");
	rejected(f, 5, "/alert/sent", "<sent> cannot be read as a time, so "
	    "the message cannot be identified");
}

static void
t_identifier_chars(void **state)
{
	struct fx *f = *state;

	rule(f, "TEST-1", "TEST 1", 3, "/alert/identifier", "<identifier> "
	    "contains a forbidden character ' ' (no spaces, commas, '<' or "
	    "'&')");
	rule(f, "test@example.org", "test,example", 4, "/alert/sender",
	    "<sender> contains a forbidden character ',' (no spaces, commas, "
	    "'<' or '&')");
	rule(f, "TEST-1", "TEST&amp;1", 3, "/alert/identifier",
	    "<identifier> contains a forbidden character '&' (no spaces, "
	    "commas, '<' or '&')");
}

static void
t_references_rules(void **state)
{
	struct fx *f = *state;

	rule(f, "<msgType>Alert", "<msgType>Cancel", 7, "/alert/references",
	    "msgType is Cancel but <references> is missing");
	rule(f, "<scope>Public</scope>\n", "<scope>Public</scope>\n"
	    "<references>a@b,ID-1</references>\n", 9, "/alert/references",
	    "reference \"a@b,ID-1\" is not sender,identifier,sent");
	rule(f, "<scope>Public</scope>\n", "<scope>Public</scope>\n"
	    "<references></references>\n", 9, "/alert/references",
	    "<references> is empty (give sender,identifier,sent of each "
	    "earlier message)");
	rule(f, "<scope>Public</scope>\n", "<scope>Public</scope>\n"
	    "<references>a@b,ID-1,2026-07-15T08:30:00</references>\n", 9,
	    "/alert/references", "reference 1 (a@b,ID-1): sent "
	    "\"2026-07-15T08:30:00\": the time has no time-zone offset "
	    "(read as UTC)");
}

static void
t_scope(void **state)
{
	struct fx *f = *state;

	rule(f, "<scope>Public", "<scope>Private", 8, "/alert/addresses",
	    "scope is Private but <addresses> is missing");
	run_edit(f, "<scope>Public</scope>", "<scope>Private</scope>\n"
	    "<addresses>duty@x \"County Duty Office\"  140425</addresses>");
	accepted(f);
	assert_int_equal(f->a->naddresses, 3);
	assert_string_equal(f->a->address_list[0], "duty@x");
	assert_string_equal(f->a->address_list[1], "County Duty Office");
	assert_string_equal(f->a->address_list[2], "140425");
	rule(f, "<scope>Public</scope>", "<scope>Public</scope>\n"
	    "<incidents>a \"b c</incidents>", 9, "/alert/incidents",
	    "unbalanced double quote in <incidents>");
	assert_int_equal(f->a->nincidents, 2);
	assert_string_equal(f->a->incident_list[1], "b c");
	run_edit(f, "<scope>Public", "<scope>Restricted");
	accepted(f);
	has(f, DIAG_WARNING, 8, "/alert/restriction", "scope is Restricted "
	    "but <restriction> does not say how");
}

static void
t_structure(void **state)
{
	struct fx *f = *state;

	rule(f, "<identifier>TEST-1</identifier>\n<sender>test@example.org"
	    "</sender>\n", "<sender>test@example.org</sender>\n"
	    "<identifier>TEST-1</identifier>\n", 4, "/alert/identifier",
	    "<identifier> is out of order: it must come before <sender>");
	rule(f, "<status>Actual</status>\n",
	    "<status>Actual</status>\n<status>Test</status>\n", 7,
	    "/alert/status", "<status> appears more than once");
	rule(f, "<scope>Public</scope>\n", "<scope>Public</scope>\n"
	    "<urgent>yes</urgent>\n", 9, "/alert/urgent",
	    "unknown element <urgent> in <alert>");
	/* other namespaces are extensions and ignored */
	run_edit(f, "<scope>Public</scope>\n", "<scope>Public</scope>\n"
	    "<x:ext xmlns:x=\"urn:example\">1</x:ext>\n");
	accepted(f);
	assert_int_equal(f->dl.n, 0);
}

static void
t_namespace(void **state)
{
	struct fx *f = *state;
	char *d1;

	rule(f, "urn:oasis:names:tc:emergency:cap:1.2",
	    "urn:oasis:names:tc:emergency:CAP:1.2", 2, "/alert",
	    "namespace \"urn:oasis:names:tc:emergency:CAP:1.2\" is not spelt "
	    "exactly as in the CAP standard (case differs)");
	rule(f, " xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\"", "", 2,
	    "/alert", "<alert> has no namespace; expected "
	    "xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\"");
	assert_string_equal(f->a->identifier, "TEST-1");
	/* a prefixed root whose children lost the namespace */
	d1 = edit(BASE, "<alert xmlns=", "<cap:alert xmlns:cap=");
	free(f->doc);
	f->doc = edit(d1, "</alert>", "</cap:alert>");
	free(d1);
	run(f, f->doc, strlen(f->doc));
	rejected(f, 3, "/alert/identifier", "<identifier> has no namespace "
	    "(the <alert> is in urn:oasis:names:tc:emergency:cap:1.2)");
	f->o.lenient = 1;
	run(f, f->doc, strlen(f->doc));
	accepted(f);
	assert_string_equal(f->a->identifier, "TEST-1");
	assert_int_equal(f->a->infos[0].nareas, 1);
	assert_int_equal(f->dl.n, 1);
	f->o.lenient = 1;
	run_edit(f, "urn:oasis:names:tc:emergency:cap:1.2", "urn:example:x");
	rejected(f, 2, "/alert", "not a CAP message: unknown namespace "
	    "\"urn:example:x\"");
	run_edit(f, "<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\">",
	    "<feed xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\">");
	assert_int_equal(f->rv, ENG_EINVAL);
}

/* ---- info rules ---- */

static void
t_info_rules(void **state)
{
	struct fx *f = *state;
	char *d1;

	rule(f, "<event>暴雨</event>\n", "", 9, "/alert/info[1]/event",
	    "<info> has no <event>");
	rule(f, "<category>Met</category>\n", "", 9, "/alert/info[1]/category",
	    "<info> has no <category>");
	rule(f, "zh-CN", "zh_CN", 10, "/alert/info[1]/language",
	    "\"zh_CN\" is not a language tag (RFC 3066, e.g. zh-CN)");
	run_edit(f, "<expires>2026-07-16", "<expires>2026-07-14");
	accepted(f);
	has(f, DIAG_WARNING, 9, "/alert/info[1]/expires", "expires "
	    "(2026-07-14T11:30:00+08:00) is before effective "
	    "(2026-07-15T11:30:00+08:00)");
	run_edit(f, "<info>", "<info>\n<language>en</language>\n"
	    "<category>Met</category>\n<event>x</event>\n<urgency>Past"
	    "</urgency>\n<severity>Minor</severity>\n<certainty>Unknown"
	    "</certainty>\n</info>\n<info>");
	accepted(f);
	has(f, DIAG_WARNING, 9, "/alert/info[1]", "<info> has no <area>: it "
	    "targets nowhere");
	assert_int_equal(f->a->ninfos, 2);
	/* the BASE info is now the second one: paths follow */
	d1 = edit(f->doc, "<areaDesc>平顺县</areaDesc>\n", "");
	run(f, d1, strlen(d1));
	free(d1);
	rejected(f, 28, "/alert/info[2]/area[1]/areaDesc",
	    "<area> has no <areaDesc>");
}

static void
t_severity_color(void **state)
{
	struct fx *f = *state;

	rule(f, "<severity>Extreme", "<severity>Red", 14,
	    "/alert/info[1]/severity", "\"Red\" is a colour word, not a CAP "
	    "severity (accepted only from Chinese-profile sources)");
	f->o.cn_profile = 1;
	run_edit(f, "<severity>Extreme", "<severity>Orange");
	accepted(f);
	assert_int_equal(f->dl.n, 0);
	assert_int_equal(f->a->infos[0].severity, CAP_SEV_SEVERE);
	assert_int_equal(f->a->infos[0].severity_from_color, 1);
	run_edit(f, "<severity>Extreme", "<severity>Bad");
	rejected(f, 14, "/alert/info[1]/severity",
	    "\"Bad\" is not a valid severity");
}

/* ---- area rules ---- */

static void
t_polygon_rules(void **state)
{
	struct fx *f = *state;
	const char *pg = "36.10,113.40 36.10,113.75 36.35,113.75 36.10,113.40";

	rule(f, pg, "36.10,113.40 36.10,113.75 36.35,113.75 36.35,113.40", 22,
	    "/alert/info[1]/area[1]/polygon",
	    "the polygon is not closed: the last point must equal the first");
	rule(f, pg, "36.10,113.40 36.10,113.75 36.10,113.40", 22,
	    "/alert/info[1]/area[1]/polygon",
	    "a polygon needs at least 4 points, this one has 3");
	rule(f, pg, "96.10,113.40 36.10,113.75 36.35,113.75 96.10,113.40", 22,
	    "/alert/info[1]/area[1]/polygon", "point 96.1,113.4 is out of "
	    "range (latitude -90..90, longitude -180..180)");
	rule(f, pg, "36.10 113.40", 22, "/alert/info[1]/area[1]/polygon",
	    "\"36.10\" is not a point \"latitude,longitude\"");
	/* two polygons: the path names which */
	rule(f, "<circle>", "<polygon>1,2 3,4 5,6 1,3</polygon>\n<circle>", 23,
	    "/alert/info[1]/area[1]/polygon[2]",
	    "the polygon is not closed: the last point must equal the first");
}

static void
t_circle_rules(void **state)
{
	struct fx *f = *state;

	rule(f, "36.18,113.62 8.5", "36.18,113.62", 23,
	    "/alert/info[1]/area[1]/circle", "\"36.18,113.62\" is not a "
	    "circle \"latitude,longitude radius\"");
	rule(f, "36.18,113.62 8.5", "36.18,113.62 -1", 23,
	    "/alert/info[1]/area[1]/circle", "the radius -1 is negative");
	rule(f, "36.18,113.62 8.5", "36.18,213.62 1", 23,
	    "/alert/info[1]/area[1]/circle", "centre 36.18,213.62 is out of "
	    "range (latitude -90..90, longitude -180..180)");
}

static void
t_area_rules(void **state)
{
	struct fx *f = *state;

	rule(f, "<areaDesc>平顺县</areaDesc>\n", "", 20,
	    "/alert/info[1]/area[1]/areaDesc", "<area> has no <areaDesc>");
	rule(f, "</geocode>\n</area>", "</geocode>\n<ceiling>10</ceiling>\n"
	    "</area>", 20, "/alert/info[1]/area[1]/ceiling",
	    "<ceiling> is given without <altitude>");
	rule(f, "</geocode>\n</area>", "</geocode>\n<altitude>high</altitude>"
	    "\n</area>", 25, "/alert/info[1]/area[1]/altitude",
	    "\"high\" is not a number");
	rule(f, "<geocode><valueName>GB/T 2260</valueName>", "<geocode>", 24,
	    "/alert/info[1]/area[1]/geocode/valueName",
	    "<geocode> has no <valueName>");
	run_edit(f, "</geocode>\n</area>", "</geocode>\n<altitude>100"
	    "</altitude>\n<ceiling>2000.5</ceiling>\n</area>");
	accepted(f);
	assert_true(f->a->infos[0].areas[0].has_altitude);
	assert_true(f->a->infos[0].areas[0].ceiling == 2000.5);
}

static void
t_resource_rules(void **state)
{
	struct fx *f = *state;

	rule(f, "<area>", "<resource><resourceDesc>map</resourceDesc>"
	    "</resource>\n<area>", 20, "/alert/info[1]/resource[1]/mimeType",
	    "<resource> has no <mimeType>");
	rule(f, "<area>", "<resource><resourceDesc>map</resourceDesc>"
	    "<mimeType>image/png</mimeType><size>big</size></resource>\n"
	    "<area>", 20, "/alert/info[1]/resource[1]/size",
	    "\"big\" is not a size in bytes");
	run_edit(f, "<area>", "<resource><resourceDesc>map</resourceDesc>"
	    "<mimeType>image/png</mimeType><size>1234</size>"
	    "<uri>http://example.org/m.png</uri></resource>\n<area>");
	accepted(f);
	assert_int_equal(f->a->infos[0].nresources, 1);
	assert_true(f->a->infos[0].resources[0].size == 1234);
}

static void
t_cap10_pairs(void **state)
{
	struct fx *f = *state;
	char *d1;

	d1 = edit(BASE, "urn:oasis:names:tc:emergency:cap:1.2",
	    "http://www.incident.com/cap/1.0");
	free(f->doc);
	f->doc = edit(d1, "<geocode><valueName>GB/T 2260</valueName><value>"
	    "140425</value></geocode>", "<geocode>fips6=006109</geocode>");
	free(d1);
	run(f, f->doc, strlen(f->doc));
	accepted(f);
	assert_int_equal(f->a->version, CAP_V10);
	assert_string_equal(f->a->infos[0].areas[0].geocodes[0].name, "fips6");
	assert_string_equal(f->a->infos[0].areas[0].geocodes[0].value,
	    "006109");
}

/* ---- hostile input ---- */

static char *
slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *b;
	long n;

	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	assert_true(n >= 0);
	rewind(fp);
	b = malloc((size_t)n + 1);
	assert_non_null(b);
	assert_int_equal(fread(b, 1, (size_t)n, fp), (size_t)n);
	b[n] = '\0';
	fclose(fp);
	*len = (size_t)n;
	return b;
}

static void
hostile_file(struct fx *f, const char *path, long line, const char *msg)
{
	size_t len;
	double t0;
	char *b = slurp(path, &len);

	f->o.lenient = 1;	/* security limits never relax */
	t0 = now_s();
	run(f, b, len);
	assert_true(now_s() - t0 < 0.5);
	free(b);
	rejected(f, line, NULL, msg);
}

static void
t_billion_laughs(void **state)
{
	hostile_file(*state, "tests/data/cap/billion-laughs.xml", 2,
	    "a DOCTYPE is not allowed in CAP (DTDs and entities are refused)");
}

static void
t_xxe(void **state)
{
	struct fx *f = *state;

	hostile_file(f, "tests/data/cap/xxe-passwd.xml", 2,
	    "a DOCTYPE is not allowed in CAP (DTDs and entities are refused)");
	assert_int_equal(f->dl.n, 1);
	hostile_file(f, "tests/data/cap/external-dtd.xml", 2,
	    "a DOCTYPE is not allowed in CAP (DTDs and entities are refused)");
	{
		/* The shared samples: $GONG_SHARED, default ../shared (as
		 * test_cap_samples.c finds them). */
		const char *shared = getenv("GONG_SHARED");
		char path[PATH_MAX];

		(void)snprintf(path, sizeof(path), "%s/cap-samples/invalid/"
		    "synthetic__gcl-xxe-attack.xml",
		    shared != NULL ? shared : "../shared");
		hostile_file(f, path, 3, "a DOCTYPE is not allowed in CAP "
		    "(DTDs and entities are refused)");
	}
}

static void
t_not_xml(void **state)
{
	struct fx *f = *state;
	static const char bin[] = "\x00\x01\x02garbage";

	hostile_file(f, "tests/data/cap/not-xml.txt", 0,
	    "not an XML document (it does not start with '<')");
	run(f, "", 0);
	rejected(f, 0, NULL, "the document is empty");
	run(f, bin, sizeof(bin) - 1);
	rejected(f, 0, NULL, "not an XML document (it does not start with "
	    "'<')");
	run(f, "<alert><identifier>x", 20);
	assert_int_equal(f->rv, ENG_EINVAL);
	assert_int_equal(f->dl.nerrors, 1);
	assert_non_null(strstr(f->dl.v[0].msg, "not well-formed XML: "));
}

static void
t_deep_nesting(void **state)
{
	struct fx *f = *state;
	size_t n = 10000, i, len = 0;
	double t0;
	char *b = malloc(n * 7 + 200);

	assert_non_null(b);
	len = (size_t)snprintf(b, 200, "<alert xmlns=\"urn:oasis:names:tc:"
	    "emergency:cap:1.2\">\n");
	for (i = 0; i < n; i++) {
		memcpy(b + len, "<a>", 3);
		len += 3;
	}
	for (i = 0; i < n; i++) {
		memcpy(b + len, "</a>", 4);
		len += 4;
	}
	memcpy(b + len, "</alert>", 8);
	len += 8;
	f->o.lenient = 1;
	t0 = now_s();
	run(f, b, len);
	assert_true(now_s() - t0 < 0.5);
	free(b);
	rejected(f, 2, NULL, "elements are nested deeper than 32 levels");
}

static void
t_oversized(void **state)
{
	struct fx *f = *state;
	size_t len = 50u * 1024 * 1024, hl = strlen(BASE) - 9;
	double t0;
	char *b = malloc(len);

	assert_non_null(b);
	/* a well-formed CAP document padded to 50 MB inside <note> */
	memset(b, 'x', len);
	memcpy(b, BASE, hl);
	memcpy(b + len - 9, "</alert>\n", 9);
	f->o.lenient = 1;
	t0 = now_s();
	run(f, b, len);
	assert_true(now_s() - t0 < 0.5);
	free(b);
	assert_int_equal(f->rv, ENG_ETOOBIG);
	assert_null(f->a);
	has(f, DIAG_ERROR, 0, NULL, "the document is 52428800 bytes, over "
	    "the limit of 1048576");
	/* the limit is configurable */
	f->o.max_bytes = 100;
	run(f, BASE, strlen(BASE));
	assert_int_equal(f->rv, ENG_ETOOBIG);
}

static void
t_invalid_utf8(void **state)
{
	struct fx *f = *state;
	size_t len;
	char *b = slurp("tests/data/cap/invalid-utf8.xml", &len);

	run(f, b, len);
	rejected(f, 9, NULL, "byte 0xe9 at offset 293 is not valid UTF-8");
	f->o.lenient = 1;
	run(f, b, len);
	accepted(f);
	has(f, DIAG_WARNING, 9, NULL,
	    "3 byte(s) not valid UTF-8 replaced by U+FFFD");
	assert_string_equal(f->a->note, "caf\xef\xbf\xbd \xef\xbf\xbd"
	    "\xef\xbf\xbd end");
	free(b);
}

static void
t_gb18030(void **state)
{
	struct fx *f = *state;
	size_t len;
	char *b;
	int type;
	enum cap_color c;

	f->o.cn_profile = 1;
	b = slurp("tests/data/cap/gb18030-orange.xml", &len);
	run(f, b, len);
	free(b);
	accepted(f);
	assert_string_equal(f->a->infos[0].headline,
	    "长治市气象台发布暴雨橙色预警信号");
	assert_string_equal(f->a->infos[0].sender_name, "长治市气象台");
	assert_int_equal(f->a->infos[0].severity, CAP_SEV_SEVERE);
	assert_int_equal(cap_info_cma_signal(&f->a->infos[0], "CMA_SIGNAL",
	    &type, &c), 0);
	assert_int_equal(type, 2);
	assert_int_equal(c, CAP_COLOR_ORANGE);
	b = slurp("tests/data/cap/gb2312-orange.xml", &len);
	run(f, b, len);
	free(b);
	accepted(f);
	assert_string_equal(f->a->infos[0].areas[0].desc, "壶关县、平顺县");
	b = slurp("tests/data/cap/invalid-gb18030.xml", &len);
	run(f, b, len);
	rejected(f, 9, NULL, "byte 0x81 at offset 312 is not valid GB2312");
	f->o.lenient = 1;
	run(f, b, len);
	free(b);
	accepted(f);
	has(f, DIAG_WARNING, 9, NULL,
	    "1 byte(s) not valid GB2312 replaced by U+FFFD");
	assert_string_equal(f->a->note, "\xef\xbf\xbd bad");
}

static void
t_utf16_and_others(void **state)
{
	struct fx *f = *state;
	char *d1, *in, *out, *u16;
	size_t inl, outl, cap;
	iconv_t cd;

	/* UTF-16LE with a BOM, declared as such */
	d1 = edit(BASE, "encoding=\"UTF-8\"", "encoding=\"UTF-16\"");
	cap = strlen(d1) * 2 + 4;
	u16 = malloc(cap);
	assert_non_null(u16);
	memcpy(u16, "\xff\xfe", 2);
	cd = iconv_open("UTF-16LE", "UTF-8");
	assert_true(cd != (iconv_t)-1);
	in = d1;
	inl = strlen(d1);
	out = u16 + 2;
	outl = cap - 2;
	assert_true(iconv(cd, &in, &inl, &out, &outl) != (size_t)-1);
	iconv_close(cd);
	run(f, u16, (size_t)(out - u16));
	accepted(f);
	assert_string_equal(f->a->infos[0].event, "暴雨");
	free(u16);
	free(d1);
	/* an encoding iconv does not know */
	run_edit(f, "encoding=\"UTF-8\"", "encoding=\"X-NO-SUCH\"");
	rejected(f, 1, NULL, "unsupported encoding \"X-NO-SUCH\"");
	/* CDATA and character references are text like any other */
	run_edit(f, "<headline>红色预警 &amp; &lt;test&gt;</headline>",
	    "<headline><![CDATA[a & <b>]]>&#x7EA2;</headline>");
	accepted(f);
	assert_string_equal(f->a->infos[0].headline, "a & <b>红");
	/* an undeclared entity is not well-formed */
	run_edit(f, "&amp;", "&nbsp;");
	rejected(f, 19, NULL, "not well-formed XML: Entity 'nbsp' not "
	    "defined");
}

static void
t_cap10_very_likely(void **state)
{
	struct fx *f = *state;
	char *d1;

	rule(f, "<certainty>Observed", "<certainty>Very Likely", 15,
	    "/alert/info[1]/certainty",
	    "\"Very Likely\" is CAP 1.0 only; use \"Likely\"");
	d1 = edit(BASE, "urn:oasis:names:tc:emergency:cap:1.2",
	    "http://www.incident.com/cap/1.0");
	free(f->doc);
	f->doc = edit(d1, "<certainty>Observed", "<certainty>Very Likely");
	free(d1);
	run(f, f->doc, strlen(f->doc));
	accepted(f);
	assert_int_equal(f->a->infos[0].certainty, CAP_CERT_LIKELY);
}

/* The inputs the fuzzer once crashed on: parse, write, parse again. */
static void
t_fuzz_regressions(void **state)
{
	struct fx *f = *state;
	struct cap_alert *first;
	char why[512], *b, *xml;
	size_t len, xlen, i;
	glob_t g;
	int lenient;

	if (glob("tests/fuzz/corpus/cap/crash-*", 0, NULL, &g) != 0)
		return;		/* none kept */
	for (i = 0; i < g.gl_pathc; i++) {
		b = slurp(g.gl_pathv[i], &len);
		for (lenient = 0; lenient <= 1; lenient++) {
			f->o.lenient = lenient;
			run(f, b, len);
			if (f->rv != 0)
				continue;
			first = f->a;
			f->a = NULL;
			assert_int_equal(cap_alert_to_xml(first, &xml, &xlen,
			    NULL), 0);
			f->o.lenient = 1;
			run(f, xml, xlen);
			assert_int_equal(f->rv, 0);
			if (!cap_alert_equal(first, f->a, why, sizeof(why)))
				fail_msg("%s: %s", g.gl_pathv[i], why);
			cap_alert_free(first);
			free(xml);
		}
		free(b);
	}
	globfree(&g);
}

/* ---- signature ---- */

static void
t_require_signature(void **state)
{
	struct fx *f = *state;

	f->o.require_signature = 1;
	f->o.lenient = 1;
	run(f, BASE, strlen(BASE));
	assert_int_equal(f->rv, ENG_EPERM);
	assert_null(f->a);
	has(f, DIAG_ERROR, 2, "/alert", "the message is not signed and this "
	    "source requires a signature");
}

static void
t_signature(void **state)
{
	struct fx *f = *state;
	size_t len;
	char *b = slurp("tests/data/cap/signed-alert.xml", &len), *p;

	f->o.require_signature = 1;
	f->o.trusted_cert = "tests/data/cap/signer-cert.pem";
	run(f, b, len);
	accepted(f);
	assert_true(f->a->has_signature);
	assert_true(f->a->signature_verified);
	assert_string_equal(f->a->infos[0].headline,
	    "长治市气象台发布高温黄色预警信号");
	/* without require_signature the signature is noticed, not checked */
	f->o.require_signature = 0;
	run(f, b, len);
	accepted(f);
	assert_true(f->a->has_signature);
	assert_false(f->a->signature_verified);
	/* signed by someone else */
	f->o.require_signature = 1;
	f->o.trusted_cert = "tests/data/cap/other-cert.pem";
	run(f, b, len);
	assert_int_equal(f->rv, ENG_EPERM);
	has(f, DIAG_ERROR, 2, "/alert/Signature", "the signature does not "
	    "verify with the trusted certificate (tampered or signed by "
	    "someone else)");
	/* tampered: yellow (黄色) becomes red (红色) */
	f->o.trusted_cert = "tests/data/cap/signer-cert.pem";
	p = strstr(b, "黄色预警");
	assert_non_null(p);
	memcpy(p, "红色", strlen("红色"));
	run(f, b, len);
	assert_int_equal(f->rv, ENG_EPERM);
	assert_null(f->a);
	has(f, DIAG_ERROR, 2, "/alert/Signature", "the signature does not "
	    "verify with the trusted certificate (tampered or signed by "
	    "someone else)");
	free(b);
}

/* ---- helpers ---- */

static void
t_time_parse(void **state)
{
	struct cap_time t;
	const char *why;

	(void)state;
	memset(&t, 0, sizeof(t));
	assert_int_equal(cap_time_parse("2026-07-15T11:30:00+08:00", &t,
	    &why), 0);
	assert_true(t.ms == INT64_C(1784086200000));
	assert_int_equal(cap_time_parse("2016-03-11T08:00:00-00:00", &t,
	    &why), 0);
	assert_int_equal(t.offset_min, 0);
	assert_int_equal(cap_time_parse("2016-03-10T22:12:03.740", &t, &why),
	    1);
	assert_true(t.ms == INT64_C(1457647923740));
	assert_int_equal(t.has_offset, 0);
	assert_int_equal(cap_time_parse("2024-02-29T00:00:00+00:00", &t,
	    &why), 0);
	assert_int_equal(cap_time_parse("2023-02-29T00:00:00+00:00", &t,
	    &why), ENG_EINVAL);
	assert_int_equal(cap_time_parse("2026-07-15T24:00:00+08:00", &t,
	    &why), ENG_EINVAL);
	assert_int_equal(cap_time_parse("2026-07-15T11:30:00+08:00x", &t,
	    &why), ENG_EINVAL);
	assert_int_equal(cap_time_parse("1969-12-31T23:59:59+00:00", &t,
	    &why), 0);
	assert_true(t.ms == -1000);
}

static void
t_colors(void **state)
{
	int type;
	enum cap_color c;

	(void)state;
	assert_int_equal(cap_severity_color(CAP_SEV_EXTREME, CAP_COLOR_NONE),
	    CAP_COLOR_RED);
	assert_int_equal(cap_severity_color(CAP_SEV_SEVERE, CAP_COLOR_NONE),
	    CAP_COLOR_ORANGE);
	assert_int_equal(cap_severity_color(CAP_SEV_MODERATE, CAP_COLOR_NONE),
	    CAP_COLOR_YELLOW);
	assert_int_equal(cap_severity_color(CAP_SEV_MINOR, CAP_COLOR_NONE),
	    CAP_COLOR_BLUE);
	assert_int_equal(cap_severity_color(CAP_SEV_UNKNOWN, CAP_COLOR_BLUE),
	    CAP_COLOR_BLUE);
	assert_int_equal(cap_severity_color(CAP_SEV_UNKNOWN, CAP_COLOR_NONE),
	    CAP_COLOR_NONE);
	assert_int_equal(cap_severity_from_color_word("red"), CAP_SEV_EXTREME);
	assert_int_equal(cap_severity_from_color_word("Blue"), CAP_SEV_MINOR);
	assert_int_equal(cap_severity_from_color_word("黄色"),
	    CAP_SEV_MODERATE);
	assert_int_equal(cap_severity_from_color_word("Green"),
	    CAP_SEV_INVALID);
	assert_string_equal(cap_color_name_zh(CAP_COLOR_RED), "红色");
	assert_string_equal(cap_color_name(CAP_COLOR_ORANGE), "orange");
	assert_int_equal(cap_cma_signal_parse("0204", &type, &c), 0);
	assert_int_equal(type, 2);
	assert_int_equal(c, CAP_COLOR_RED);
	assert_int_equal(cap_cma_signal_parse("1101", &type, &c), 0);
	assert_int_equal(type, 11);
	assert_int_equal(c, CAP_COLOR_BLUE);
	assert_int_equal(cap_cma_signal_parse("0205", &type, &c), ENG_EINVAL);
	assert_int_equal(cap_cma_signal_parse("0000", &type, &c), ENG_EINVAL);
	assert_int_equal(cap_cma_signal_parse("204", &type, &c), ENG_EINVAL);
	assert_int_equal(cap_cma_signal_parse("SVR", &type, &c), ENG_EINVAL);
}

static void
t_pick_info(void **state)
{
	struct cap_info in[4];
	struct cap_alert a;
	char l0[] = "en-US", l1[] = "zh-TW", l2[] = "zh-CN", l3[] = "my";

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(in, 0, sizeof(in));
	a.infos = in;
	assert_null(cap_alert_pick_info(&a, NULL));
	in[0].language = l0;
	in[1].language = l1;
	in[2].language = l2;
	in[3].language = l3;
	a.ninfos = 4;
	assert_ptr_equal(cap_alert_pick_info(&a, NULL), &in[2]);
	assert_ptr_equal(cap_alert_pick_info(&a, "ZH-cn"), &in[2]);
	assert_ptr_equal(cap_alert_pick_info(&a, "my-MM"), &in[3]);
	a.ninfos = 2;		/* zh-CN wanted, zh-TW there: same primary */
	assert_ptr_equal(cap_alert_pick_info(&a, NULL), &in[1]);
	in[1].language = NULL;	/* absent language is CAP's en-US */
	assert_ptr_equal(cap_alert_pick_info(&a, "fr"), &in[0]);
	in[0].language = l3;
	assert_ptr_equal(cap_alert_pick_info(&a, "fr"), &in[1]);
	in[1].language = l3;
	assert_ptr_equal(cap_alert_pick_info(&a, "fr"), &in[0]);
	assert_string_equal(cap_info_language(&in[0]), "my");
}

static void
t_round_trip_base(void **state)
{
	struct fx *f = *state;
	struct cap_alert *first;
	char *xml, why[256];
	size_t len;

	run_edit(f, "<scope>Public</scope>\n", "<scope>Public</scope>\n"
	    "<code>a&lt;b</code><note>line1\r\nline2</note>\n");
	accepted(f);
	first = f->a;
	f->a = NULL;
	assert_int_equal(cap_alert_to_xml(first, &xml, &len, &f->eb), 0);
	assert_int_equal(strlen(xml), len);
	assert_non_null(strstr(xml, "<headline>红色预警 &amp; &lt;test&gt;"
	    "</headline>"));
	assert_non_null(strstr(xml, "<sent>2026-07-15T11:30:00+08:00</sent>"));
	assert_non_null(strstr(xml, "<polygon>36.1,113.4 36.1,113.75 "
	    "36.35,113.75 36.1,113.4</polygon>"));
	run(f, xml, len);
	accepted(f);
	if (!cap_alert_equal(first, f->a, why, sizeof(why)))
		fail_msg("round trip differs: %s", why);
	/* XML reads a literal CR LF as LF */
	assert_string_equal(f->a->note, "line1\nline2");
	f->a->infos[0].areas[0].polygons[0].pts[2].lat = 1;
	assert_false(cap_alert_equal(first, f->a, why, sizeof(why)));
	assert_string_equal(why, "polygon lat: 36.350000000000001 != 1");
	cap_alert_free(first);
	free(xml);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(t_base_model),
		T(t_references_parsed),
		T(t_required),
		T(t_enums),
		T(t_times),
		T(t_identifier_chars),
		T(t_references_rules),
		T(t_scope),
		T(t_structure),
		T(t_namespace),
		T(t_info_rules),
		T(t_severity_color),
		T(t_polygon_rules),
		T(t_circle_rules),
		T(t_area_rules),
		T(t_resource_rules),
		T(t_cap10_pairs),
		T(t_billion_laughs),
		T(t_xxe),
		T(t_not_xml),
		T(t_deep_nesting),
		T(t_oversized),
		T(t_invalid_utf8),
		T(t_gb18030),
		T(t_utf16_and_others),
		T(t_cap10_very_likely),
		T(t_fuzz_regressions),
		T(t_require_signature),
		T(t_signature),
		T(t_time_parse),
		T(t_colors),
		T(t_pick_info),
		T(t_round_trip_base),
#undef T
	};
	int rv;

	cap_global_init();
	rv = cmocka_run_group_tests_name("cap", tests, NULL, NULL);
	cap_global_cleanup();
	return rv;
}
