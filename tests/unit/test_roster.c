/*
 * tests/unit/test_roster.c - roster CSV parsing: encodings, CSV edge
 * cases, per-row checks with exact lines and messages, hostile input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/roster.h"

struct fx {
	struct roster r;
	struct diag_list d;
	char buf[1024];
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	roster_init(&f->r);
	diag_list_init(&f->d);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	roster_release(&f->r);
	diag_list_release(&f->d);
	free(f);
	return 0;
}

static int
parse(struct fx *f, enum roster_kind k, const char *s)
{
	return roster_parse(k, s, strlen(s), "t.csv", ROSTER_ENC_AUTO, &f->r,
	    &f->d);
}

/* The one diagnostic, formatted, must equal want. */
static void
one_diag(struct fx *f, const char *want)
{
	char buf[1024];

	assert_int_equal(f->d.n, 1);
	assert_string_equal(diag_format(&f->d.v[0], buf, sizeof(buf)), want);
}

static void
no_rows(struct fx *f)
{
	assert_int_equal(f->r.nregions, 0);
	assert_int_equal(f->r.nresponders, 0);
	assert_int_equal(f->r.ndevices, 0);
	assert_null(f->r.regions);
	assert_null(f->r.responders);
	assert_null(f->r.devices);
}

#define RESP_HDR "id,name,region,role,phone\n"

/* ---- happy paths ---------------------------------------------------- */

static void
t_regions_messy(void **state)
{
	struct fx *f = *state;

	/* BOM, CRLF, quoted comma, blank line, quoted CRLF inside a field,
	 * 6-digit codes, an explicit parent equal to the implied one. */
	assert_int_equal(roster_parse_file(ROSTER_REGIONS,
	    "tests/data/roster/regions-messy.csv", ROSTER_ENC_AUTO, &f->r,
	    &f->d), 0);
	assert_int_equal(f->d.n, 0);
	assert_int_equal(f->r.nregions, 4);
	assert_string_equal(f->r.regions[0].code, "140400000000");
	assert_string_equal(f->r.regions[0].name, "长治市");
	assert_int_equal(f->r.regions[0].line, 2);
	assert_true(f->r.regions[0].has_centroid);
	assert_true(f->r.regions[0].lat > 36.1949 &&
	    f->r.regions[0].lat < 36.1951);
	assert_string_equal(f->r.regions[1].code, "140425000000");
	assert_string_equal(f->r.regions[1].name, "平顺县, 东部");
	assert_int_equal(f->r.regions[1].line, 3);
	assert_string_equal(f->r.regions[2].name, "青羊镇\r\n(县城)");
	assert_int_equal(f->r.regions[2].line, 5);
	assert_false(f->r.regions[2].has_centroid);
	assert_string_equal(f->r.regions[3].code, "140471000000");
	assert_string_equal(f->r.regions[3].parent, "");
	assert_int_equal(f->r.regions[3].line, 7);
	assert_string_equal(f->r.file, "tests/data/roster/regions-messy.csv");
}

static void
t_gbk_file(void **state)
{
	struct fx *f = *state;
	struct roster_responder *p;

	assert_int_equal(roster_parse_file(ROSTER_RESPONDERS,
	    "tests/data/roster/responders-gbk.csv", ROSTER_ENC_AUTO, &f->r,
	    &f->d), 0);
	assert_int_equal(f->d.n, 0);
	assert_int_equal(f->r.nresponders, 4);
	p = f->r.responders;
	assert_string_equal(p[0].id, "R001");
	assert_string_equal(p[0].name, "王建国");
	assert_string_equal(p[0].role, "responsible");
	assert_string_equal(p[0].phone, "13800138000");
	assert_true(p[0].active);
	assert_false(p[0].exercise);
	assert_null(p[0].wecom);
	assert_null(p[0].email);
	assert_string_equal(p[1].role, "warner");
	assert_string_equal(p[1].phone, "13900139000");
	assert_string_equal(p[1].wecom, "wx_lixl");
	assert_true(p[1].exercise);
	assert_string_equal(p[2].role, "grid_worker");
	assert_null(p[2].phone);
	assert_string_equal(p[2].email, "zhangzq@example.cn");
	assert_false(p[2].active);
	assert_string_equal(p[3].name, "赵红,英");
	assert_string_equal(p[3].region, "140425100000");
	assert_string_equal(p[3].role, "duty_officer");
	assert_string_equal(p[3].phone, "13700137000");
	assert_int_equal(p[3].line, 5);
}

/* GBK made at test time with iconv, declared and auto-detected. */
static void
t_gbk_iconv(void **state)
{
	struct fx *f = *state;
	static const char utf8[] = "编号,姓名,所属区划,角色,电话\n"
	    "D1,欧阳灾害,140425,灾害信息员,13800138000\n";
	char gbk[256], *ip = (char *)(uintptr_t)utf8, *op = gbk;
	size_t il = sizeof(utf8) - 1, ol = sizeof(gbk);
	iconv_t cd = iconv_open("GBK", "UTF-8");
	size_t glen;

	assert_true(cd != (iconv_t)-1);
	assert_int_not_equal(iconv(cd, &ip, &il, &op, &ol), (size_t)-1);
	iconv_close(cd);
	glen = (size_t)(op - gbk);
	assert_int_equal(roster_parse(ROSTER_RESPONDERS, gbk, glen, "g.csv",
	    ROSTER_ENC_GBK, &f->r, &f->d), 0);
	assert_string_equal(f->r.responders[0].name, "欧阳灾害");
	assert_string_equal(f->r.responders[0].role, "info_officer");
	assert_int_equal(roster_parse(ROSTER_RESPONDERS, gbk, glen, "g.csv",
	    ROSTER_ENC_AUTO, &f->r, &f->d), 0);
	assert_string_equal(f->r.responders[0].name, "欧阳灾害");
	assert_string_equal(f->r.responders[0].region, "140425000000");
	/* Declared UTF-8 but GBK: refused with the line of the bad byte. */
	assert_int_equal(roster_parse(ROSTER_RESPONDERS, gbk, glen, "g.csv",
	    ROSTER_ENC_UTF8, &f->r, &f->d), ENG_EINVAL);
	assert_int_equal(f->d.n, 1);
	assert_int_equal(f->d.v[0].line, 1);
	assert_non_null(strstr(f->d.v[0].msg, "invalid UTF-8 (byte 0x"));
	no_rows(f);
}

static void
t_devices(void **state)
{
	struct fx *f = *state;

	assert_int_equal(parse(f, ROSTER_DEVICES,
	    "编号,区划代码,类型,通道,地址,备注\n"), ENG_EINVAL);
	one_diag(f, "t.csv:1: error: 备注: unknown column '备注' in a "
	    "devices file");
	diag_list_release(&f->d);
	assert_int_equal(parse(f, ROSTER_DEVICES,
	    "编号,区划代码,类型,通道,地址\n"
	    "LS1,140425100201,大喇叭,loudspeaker,zone/1\n"
	    "SR1,140425100201,预警器,siren,\n"
	    "FM1,140425,调频,radio,fm/98.7\n"
	    "GC1,140425100,微信群,wecom,chat/1\n"
	    "X1,140425100,Siren,siren,s\n"), 0);
	assert_int_equal(f->r.ndevices, 5);
	assert_int_equal(f->r.devices[0].kind, DEVICE_LOUDSPEAKER);
	assert_string_equal(f->r.devices[0].address, "zone/1");
	assert_int_equal(f->r.devices[1].kind, DEVICE_SIREN);
	assert_null(f->r.devices[1].address);
	assert_int_equal(f->r.devices[2].kind, DEVICE_RADIO);
	assert_string_equal(f->r.devices[2].region, "140425000000");
	assert_int_equal(f->r.devices[3].kind, DEVICE_GROUP_CHAT);
	assert_string_equal(f->r.devices[3].channel, "wecom");
	assert_int_equal(f->r.devices[4].kind, DEVICE_SIREN);
	assert_int_equal(parse(f, ROSTER_DEVICES,
	    "id,region,kind,channel\nA,140425,drum,x\n"), ENG_EINVAL);
	one_diag(f, "t.csv:2: error: kind: unknown device kind 'drum' (want "
	    "loudspeaker, siren, radio or group_chat)");
}

static void
t_blank_rows_and_trailing(void **state)
{
	struct fx *f = *state;

	/* Blank lines, ",,,," rows, blanks around fields, no final EOL,
	 * an unnamed trailing column (Excel) is ignored. */
	assert_int_equal(parse(f, ROSTER_RESPONDERS,
	    "\n\nid , name,region,role,phone,\n"
	    ",,,,,\n"
	    "  a1 ,甲,140425100201,warner, 13800138000 ,junk\n"
	    "   \n"
	    "a2,乙,140425100201,leader,13800138001"), 0);
	assert_int_equal(f->r.nresponders, 2);
	assert_string_equal(f->r.responders[0].id, "a1");
	assert_int_equal(f->r.responders[0].line, 5);
	assert_int_equal(f->r.responders[1].line, 7);
	assert_string_equal(f->r.responders[1].role, "leader");
}

/* ---- acceptance 2: three bad rows, all or nothing ------------------ */

static void
t_three_bad_rows(void **state)
{
	struct fx *f = *state;
	char buf[1024];

	assert_int_equal(roster_parse_file(ROSTER_RESPONDERS,
	    "tests/data/roster/responders-bad3.csv", ROSTER_ENC_AUTO, &f->r,
	    &f->d), ENG_EINVAL);
	no_rows(f);
	assert_int_equal(f->d.n, 3);
	assert_string_equal(diag_format(&f->d.v[0], buf, sizeof(buf)),
	    "tests/data/roster/responders-bad3.csv:3: error: region: "
	    "division code '14042510020' has 11 digits (want 6, 9 or 12)");
	assert_string_equal(diag_format(&f->d.v[1], buf, sizeof(buf)),
	    "tests/data/roster/responders-bad3.csv:4: error: phone: invalid "
	    "phone '1380013800': want an 11-digit Chinese mobile starting "
	    "with 1 or an E.164 number (+ and 8 to 15 digits)");
	assert_string_equal(diag_format(&f->d.v[2], buf, sizeof(buf)),
	    "tests/data/roster/responders-bad3.csv:6: error: id: duplicate "
	    "id 'R1' (first on line 2)");
}

/* ---- per-row checks ------------------------------------------------- */

static void
t_row_checks(void **state)
{
	struct fx *f = *state;
	static const struct {
		const char *row;
		const char *want;
	} cases[] = {
		{ ",甲,140425,warner,13800138000",
		  "t.csv:2: error: id: empty id" },
		{ "a,,140425,warner,13800138000",
		  "t.csv:2: error: name: empty name" },
		{ "a,甲,14x425,warner,13800138000",
		  "t.csv:2: error: region: division code '14x425' has a "
		  "non-digit" },
		{ "a,甲,000425,warner,13800138000",
		  "t.csv:2: error: region: division code '000425000000' has "
		  "province 00" },
		{ "a,甲,140025100000,warner,13800138000",
		  "t.csv:2: error: region: division code '140025100000' does "
		  "not nest (a zero segment before a non-zero one)" },
		{ "a,甲,140425,chief,13800138000",
		  "t.csv:2: error: role: unknown role 'chief' (want "
		  "duty_officer, leader, responsible, warner, grid_worker, "
		  "info_officer or deputy)" },
		{ "a,甲,140425,warner,",
		  "t.csv:2: error: phone: no way to reach this responder: "
		  "phone, e-mail and messaging-app ids are all empty" },
		{ "a,甲,140425,warner,1.38001E+10",
		  "t.csv:2: error: phone: invalid phone '1.38001E+10': only "
		  "digits, '+', blanks and dashes are allowed" },
		{ "a,甲,140425,warner,13800138000,extra",
		  "t.csv:2: error: row has 6 fields but the header has 5 "
		  "columns" },
	};
	char buf[512];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		diag_list_release(&f->d);
		(void)snprintf(buf, sizeof(buf), RESP_HDR "%s\n", cases[i].row);
		assert_int_equal(parse(f, ROSTER_RESPONDERS, buf), ENG_EINVAL);
		one_diag(f, cases[i].want);
		no_rows(f);
	}
}

static void
t_booleans_email(void **state)
{
	struct fx *f = *state;

	assert_int_equal(parse(f, ROSTER_RESPONDERS,
	    "id,name,region,role,phone,email,active,exercise\n"
	    "a,甲,140425,deputy,,a@b.cn,N,Y\n"
	    "b,乙,140425,联络员,13800138000,,TRUE,1\n"
	    "c,丙,140425,副职,13800138001,,false,0\n"), 0);
	assert_false(f->r.responders[0].active);
	assert_true(f->r.responders[0].exercise);
	assert_true(f->r.responders[1].active);
	assert_true(f->r.responders[1].exercise);
	assert_string_equal(f->r.responders[1].role, "deputy");
	assert_false(f->r.responders[2].active);
	assert_int_equal(parse(f, ROSTER_RESPONDERS,
	    "id,name,region,role,phone,active\n"
	    "a,甲,140425,deputy,13800138000,maybe\n"), ENG_EINVAL);
	one_diag(f, "t.csv:2: error: active: invalid active 'maybe' (want "
	    "yes/no, true/false, 1/0, 是/否)");
	diag_list_release(&f->d);
	assert_int_equal(parse(f, ROSTER_RESPONDERS,
	    "id,name,region,role,phone,邮箱\n"
	    "a,甲,140425,deputy,,not-an-address\n"), ENG_EINVAL);
	one_diag(f, "t.csv:2: error: 邮箱: invalid e-mail address "
	    "'not-an-address'");
}

/* ---- channel preferences (prefer, 偏好渠道, 首选渠道) --------------- */

static void
t_prefer(void **state)
{
	struct fx *f = *state;
	struct roster_responder *p;

	/* Every separator, aliases of every kind, case, blanks, a repeat
	 * and empty items; a quoted cell over two lines. */
	assert_int_equal(parse(f, ROSTER_RESPONDERS,
	    "id,name,region,role,phone,wecom,prefer\n"
	    "a,甲,140425,warner,13800138000,wx_a,\"企业微信、短信\"\n"
	    "b,乙,140425,warner,13800138001,,\"Voice; SMS | e-mail\"\n"
	    "c,丙,140425,warner,13800138002,,\"钉钉,telegram,微信,邮件,电话\"\n"
	    "d,丁,140425,warner,13800138003,,\n"
	    "e,戊,140425,warner,13800138004,,\"wecom,,WECOM；语音，\n"
	    " 邮箱\"\n"
	    "f,己,140425,warner,13800138005,,\" ;|、 \"\n"
	    "g,庚,140425,warner,13800138006,,sms|phone|短信\n"), 0);
	assert_int_equal(f->d.n, 0);
	assert_int_equal(f->r.nresponders, 7);
	p = f->r.responders;
	assert_string_equal(p[0].prefer, "wecom,phone");
	assert_string_equal(p[1].prefer, "voice,phone,email");
	assert_string_equal(p[2].prefer, "dingtalk,telegram,wechat,email,"
	    "voice");
	assert_null(p[3].prefer);
	assert_string_equal(p[4].prefer, "wecom,voice,email");
	assert_int_equal(p[4].line, 6);
	assert_null(p[5].prefer);	/* separators only: none */
	assert_int_equal(p[6].line, 9);
	assert_string_equal(p[6].prefer, "phone");
	/* Without the column: none. */
	assert_int_equal(parse(f, ROSTER_RESPONDERS, RESP_HDR
	    "a,甲,140425,warner,13800138000\n"), 0);
	assert_null(f->r.responders[0].prefer);
	/* The Chinese headers. */
	assert_int_equal(parse(f, ROSTER_RESPONDERS,
	    "编号,姓名,所属区划,角色,手机,偏好渠道\n"
	    "a,甲,140425,预警员,13800138000,短信\n"), 0);
	assert_string_equal(f->r.responders[0].prefer, "phone");
	assert_int_equal(parse(f, ROSTER_RESPONDERS,
	    "编号,姓名,所属区划,角色,手机,首选渠道\n"
	    "a,甲,140425,预警员,13800138000,电话|短信\n"), 0);
	assert_string_equal(f->r.responders[0].prefer, "voice,phone");
	/* Not a column of the other files. */
	assert_int_equal(parse(f, ROSTER_DEVICES,
	    "id,region,kind,channel,prefer\n"
	    "d1,140425,siren,siren,sms\n"), ENG_EINVAL);
	one_diag(f, "t.csv:1: error: prefer: unknown column 'prefer' in a "
	    "devices file");
}

static void
t_prefer_bad_word(void **state)
{
	struct fx *f = *state;

	/* One bad word: the row's line and the column as written; nothing
	 * of the file is kept. */
	assert_int_equal(parse(f, ROSTER_RESPONDERS,
	    "id,name,region,role,phone,偏好渠道\n"
	    "a,甲,140425,warner,13800138000,短信\n"
	    "b,乙,140425,warner,13800138001,\"wecom、传真、短信\"\n"
	    "c,丙,140425,warner,13800138002,sms\n"
	    "d,丁,140425,warner,13800138003,\"sms;  fax machine |x\"\n"),
	    ENG_EINVAL);
	no_rows(f);
	assert_int_equal(f->d.n, 2);
	assert_string_equal(diag_format(&f->d.v[0], f->buf, sizeof(f->buf)),
	    "t.csv:3: error: 偏好渠道: unknown channel preference '传真' "
	    "(want phone/sms/短信, voice/电话/语音, wecom/企业微信, "
	    "dingtalk/钉钉, telegram, wechat/微信 or email/邮件, separated "
	    "by ',', ';', '|' or '、')");
	assert_string_equal(diag_format(&f->d.v[1], f->buf, sizeof(f->buf)),
	    "t.csv:5: error: 偏好渠道: unknown channel preference 'fax "
	    "machine' (want phone/sms/短信, voice/电话/语音, wecom/企业微信, "
	    "dingtalk/钉钉, telegram, wechat/微信 or email/邮件, separated "
	    "by ',', ';', '|' or '、')");
	/* A long word is cut in the message. */
	diag_list_release(&f->d);
	assert_int_equal(parse(f, ROSTER_RESPONDERS,
	    "id,name,region,role,phone,prefer\n"
	    "a,甲,140425,warner,13800138000,"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n"),
	    ENG_EINVAL);
	assert_int_equal(f->d.n, 1);
	assert_non_null(strstr(diag_format(&f->d.v[0], f->buf,
	    sizeof(f->buf)), "t.csv:2: error: prefer: unknown channel "
	    "preference 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' (want"));
}

static void
t_prefs_parse(void **state)
{
	enum roster_pref v[ROSTER_PREF_COUNT];
	size_t bad = 99, badlen = 99;

	(void)state;
	assert_int_equal(roster_prefs_parse(NULL, v, NULL, NULL), 0);
	assert_int_equal(roster_prefs_parse("", v, NULL, NULL), 0);
	assert_int_equal(roster_prefs_parse("wecom,phone", v, NULL, NULL),
	    2);
	assert_int_equal(v[0], ROSTER_PREF_WECOM);
	assert_int_equal(v[1], ROSTER_PREF_PHONE);
	/* Every kind, twice: seven, in order of first appearance. */
	assert_int_equal(roster_prefs_parse("email,wechat,telegram,dingtalk,"
	    "wecom,voice,phone,phone,voice,wecom,dingtalk,telegram,wechat,"
	    "email", v, NULL, NULL), 7);
	assert_int_equal(v[0], ROSTER_PREF_EMAIL);
	assert_int_equal(v[6], ROSTER_PREF_PHONE);
	/* The bad word's place. */
	assert_int_equal(roster_prefs_parse("sms, pager ;wecom", v, &bad,
	    &badlen), -1);
	assert_int_equal(bad, 5);
	assert_int_equal(badlen, 5);
	/* A word that only starts like one is not it. */
	assert_int_equal(roster_prefs_parse("smsx", v, &bad, &badlen), -1);
	assert_int_equal(roster_prefs_parse("短", v, &bad, &badlen), -1);
	assert_int_equal(roster_pref_parse("SMS", 3), ROSTER_PREF_PHONE);
	assert_int_equal(roster_pref_parse("sms", 2), ROSTER_PREF_NONE);
	assert_string_equal(roster_pref_name(ROSTER_PREF_VOICE), "voice");
	assert_null(roster_pref_name(ROSTER_PREF_NONE));
	assert_null(roster_pref_name((enum roster_pref)8));
}

static void
t_header_errors(void **state)
{
	struct fx *f = *state;
	char buf[512];

	assert_int_equal(parse(f, ROSTER_RESPONDERS,
	    "id,name,region,role,mobile phone,fax\n"), ENG_EINVAL);
	assert_int_equal(f->d.n, 3);
	assert_string_equal(diag_format(&f->d.v[0], buf, sizeof(buf)),
	    "t.csv:1: error: mobile phone: unknown column 'mobile phone' in "
	    "a responders file");
	assert_string_equal(diag_format(&f->d.v[1], buf, sizeof(buf)),
	    "t.csv:1: error: fax: unknown column 'fax' in a responders file");
	assert_string_equal(diag_format(&f->d.v[2], buf, sizeof(buf)),
	    "t.csv:1: error: phone: missing required column 'phone'");
	diag_list_release(&f->d);
	assert_int_equal(parse(f, ROSTER_REGIONS, "code,名称,name\n"),
	    ENG_EINVAL);
	one_diag(f, "t.csv:1: error: name: column 'name' repeats column "
	    "'名称'");
	diag_list_release(&f->d);
	assert_int_equal(parse(f, ROSTER_REGIONS, "\n\r\n  \n"), ENG_EINVAL);
	one_diag(f, "t.csv:4: error: no header row (the file is empty)");
}

static void
t_region_checks(void **state)
{
	struct fx *f = *state;
	static const struct {
		const char *row;
		const char *want;
	} cases[] = {
		{ "140425,平顺县,91,113", "t.csv:2: error: lat: invalid "
		  "latitude '91' (want a number from -90 to 90)" },
		{ "140425,平顺县,36,181", "t.csv:2: error: lon: invalid "
		  "longitude '181' (want a number from -180 to 180)" },
		{ "140425,平顺县,36x,113", "t.csv:2: error: lat: invalid "
		  "latitude '36x' (want a number from -90 to 90)" },
		{ "140425,平顺县,nan,113", "t.csv:2: error: lat: invalid "
		  "latitude 'nan' (want a number from -90 to 90)" },
		{ "140425,平顺县,36,", "t.csv:2: error: lon: latitude given "
		  "without longitude" },
		{ "140425,平顺县,,,140425100000", "t.csv:2: error: parent: "
		  "parent '140425100000' is not above '140425000000' (a "
		  "county)" },
		{ "140425,,,,", "t.csv:2: error: name: empty name" },
	};
	char buf[512];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		diag_list_release(&f->d);
		(void)snprintf(buf, sizeof(buf), "code,name,lat,lon,parent\n"
		    "%s\n", cases[i].row);
		assert_int_equal(parse(f, ROSTER_REGIONS, buf), ENG_EINVAL);
		one_diag(f, cases[i].want);
	}
	diag_list_release(&f->d);
	assert_int_equal(parse(f, ROSTER_REGIONS, "code,name,parent\n"
	    "140471000000,园区,140000000000\n"
	    "140425,平顺县,\n"
	    "\"140425000000\",again,\n"), ENG_EINVAL);
	one_diag(f, "t.csv:4: error: code: duplicate code '140425000000' "
	    "(first on line 3)");
}

static void
t_multiline_lines(void **state)
{
	struct fx *f = *state;

	/* Line numbers survive quoted newlines and CRLF. */
	assert_int_equal(parse(f, ROSTER_DEVICES,
	    "id,region,kind,channel,address\r\n"
	    "a,140425,siren,s,\"line1\r\nline2\r\nline3\"\r\n"
	    "\"b\nb\",140425,siren,s,x\r\n"
	    "c,140425,bogus,s,x\r\n"), ENG_EINVAL);
	one_diag(f, "t.csv:7: error: kind: unknown device kind 'bogus' (want "
	    "loudspeaker, siren, radio or group_chat)");
}

static void
t_phone_norm(void **state)
{
	static const struct {
		const char *in, *out;
	} ok[] = {
		{ "13800138000", "13800138000" },
		{ "138 0013 8000", "13800138000" },
		{ "138-0013-8000", "13800138000" },
		{ "+86 138 0013 8000", "13800138000" },
		{ "+8613800138000", "13800138000" },
		{ "008613800138000", "13800138000" },
		{ "8613800138000", "13800138000" },
		{ "10012345678", "10012345678" },
		{ "+44 20 7946 0958", "+442079460958" },
		{ "+852 2345 6789", "+85223456789" },
		{ "0044 20 7946 0958", "+442079460958" },
		{ "+86 10 12345678", "+861012345678" },
	};
	static const char *const bad[] = {
		"", "12345", "23800138000", "+1234567", "+0123456789",
		"+1234567890123456", "0355-1234567", "138001380001",
		"+86 abc", "138 0013 800O", "++8613800138000",
	};
	struct eng_errbuf eb;
	char out[24];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		eng_errbuf_init(&eb);
		assert_int_equal(roster_phone_norm(ok[i].in, out, sizeof(out),
		    &eb), 0);
		assert_string_equal(out, ok[i].out);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		eng_errbuf_init(&eb);
		assert_int_equal(roster_phone_norm(bad[i], out, sizeof(out),
		    &eb), ENG_EINVAL);
		assert_true(strncmp(eb.msg, "invalid phone '", 15) == 0);
	}
}

static void
t_names(void **state)
{
	enum roster_encoding e;

	(void)state;
	assert_string_equal(roster_kind_name(ROSTER_DEVICES), "devices");
	assert_int_equal(roster_kind_parse("regions"), ROSTER_REGIONS);
	assert_int_equal(roster_kind_parse("bogus"), 0);
	assert_int_equal(roster_encoding_parse("GBK", &e), 0);
	assert_int_equal(e, ROSTER_ENC_GBK);
	assert_int_equal(roster_encoding_parse("utf-8", &e), 0);
	assert_int_equal(e, ROSTER_ENC_UTF8);
	assert_int_equal(roster_encoding_parse("latin1", &e), ENG_EINVAL);
	assert_string_equal(device_kind_name(DEVICE_GROUP_CHAT), "group_chat");
	assert_null(device_kind_name(DEVICE_NONE));
	assert_int_equal(device_kind_parse("广播电台"), DEVICE_RADIO);
	assert_int_equal(device_kind_parse("群"), DEVICE_GROUP_CHAT);
	assert_string_equal(roster_role_parse("领导"), "leader");
	assert_string_equal(roster_role_parse("Duty_Officer"), "duty_officer");
	assert_null(roster_role_parse("boss"));
}

/* ---- hostile input -------------------------------------------------- */

static void
t_binary_garbage(void **state)
{
	struct fx *f = *state;
	struct roster_mem;
	unsigned char g[4096];
	uint64_t s = 42;
	size_t i;

	for (i = 0; i < sizeof(g); i++) {
		s = s * 6364136223846793005ULL + 1442695040888963407ULL;
		g[i] = (unsigned char)(s >> 56);
	}
	assert_int_equal(roster_parse(ROSTER_RESPONDERS, (char *)g, sizeof(g),
	    "g.bin", ROSTER_ENC_AUTO, &f->r, &f->d), ENG_EINVAL);
	assert_int_equal(f->d.n, 1);
	no_rows(f);
}

static void
t_nul_bytes(void **state)
{
	struct fx *f = *state;
	static const char s[] = "id,name,region,role,phone\n"
	    "a,甲\0x,140425,warner,13800138000\n";

	assert_int_equal(roster_parse(ROSTER_RESPONDERS, s, sizeof(s) - 1,
	    "t.csv", ROSTER_ENC_AUTO, &f->r, &f->d), ENG_EINVAL);
	one_diag(f, "t.csv:2: error: NUL byte at offset 31: not a text file");
	no_rows(f);
}

static void
t_not_utf8_not_gbk(void **state)
{
	struct fx *f = *state;
	static const char s[] = "code,name\n140425,ok\n140426,\x80\xff\n";

	assert_int_equal(parse(f, ROSTER_REGIONS, s), ENG_EINVAL);
	one_diag(f, "t.csv:3: error: neither UTF-8 nor GBK/GB18030 text "
	    "(byte 0x80 at offset 27 is not valid UTF-8, byte 0x80 at offset "
	    "27 not valid GB18030)");
	diag_list_release(&f->d);
	assert_int_equal(parse(f, ROSTER_REGIONS, "\xff\xfe" "c\0o\0"),
	    ENG_EINVAL);
	one_diag(f, "t.csv:1: error: UTF-16 text is not supported: save the "
	    "sheet as CSV (UTF-8 or GBK)");
	diag_list_release(&f->d);
	/* A truncated GB18030 sequence at the very end. */
	assert_int_equal(roster_parse(ROSTER_REGIONS, "code,name\n1,\x81", 13,
	    "t.csv", ROSTER_ENC_GBK, &f->r, &f->d), ENG_EINVAL);
	one_diag(f, "t.csv:2: error: invalid GBK/GB18030 (byte 0x81 at "
	    "offset 12)");
}

static void
t_unterminated_quote(void **state)
{
	struct fx *f = *state;

	assert_int_equal(parse(f, ROSTER_RESPONDERS, RESP_HDR
	    "a,甲,140425,warner,13800138000\n"
	    "b,\"乙,140425,warner,13800138001\n"
	    "c,丙,140425,warner,13800138002\n"), ENG_EINVAL);
	one_diag(f, "t.csv:3: error: unterminated quoted field (a '\"' "
	    "without its closing quote)");
	no_rows(f);
	diag_list_release(&f->d);
	/* A quote closed at the very end (no final newline) is fine, and so
	 * is a stray quote inside an unquoted field. */
	assert_int_equal(parse(f, ROSTER_RESPONDERS, RESP_HDR
	    "a,5\"甲,140425,warner,13800138000\n"
	    "b,乙,140425,warner,\"13800138001\""), 0);
	assert_string_equal(f->r.responders[0].name, "5\"甲");
	assert_string_equal(f->r.responders[1].phone, "13800138001");
}

static void
t_huge_field(void **state)
{
	struct fx *f = *state;
	size_t big = 10u * 1024 * 1024, hl = strlen(RESP_HDR);
	char *s = malloc(hl + big + 64);

	assert_non_null(s);
	memcpy(s, RESP_HDR "a,", hl + 2);
	memset(s + hl + 2, 'x', big);
	memcpy(s + hl + 2 + big, ",140425,warner,13800138000\n", 28);
	assert_int_equal(parse(f, ROSTER_RESPONDERS, s), ENG_EINVAL);
	one_diag(f, "t.csv:2: error: name: field longer than 4096 bytes");
	no_rows(f);
	free(s);
	diag_list_release(&f->d);
	/* Exactly ROSTER_MAX_FIELD is fine. */
	s = malloc(hl + ROSTER_MAX_FIELD + 64);
	assert_non_null(s);
	memcpy(s, RESP_HDR "a,", hl + 2);
	memset(s + hl + 2, 'x', ROSTER_MAX_FIELD);
	memcpy(s + hl + 2 + ROSTER_MAX_FIELD, ",140425,warner,13800138000\n",
	    28);
	assert_int_equal(parse(f, ROSTER_RESPONDERS, s), 0);
	assert_int_equal(strlen(f->r.responders[0].name), ROSTER_MAX_FIELD);
	/* A huge header cell is not silently ignored. */
	memset(s, 'h', ROSTER_MAX_FIELD + 1);
	s[ROSTER_MAX_FIELD + 1] = '\0';
	assert_int_equal(parse(f, ROSTER_RESPONDERS, s), ENG_EINVAL);
	one_diag(f, "t.csv:1: error: header field longer than 4096 bytes");
	free(s);
}

static void
t_too_big(void **state)
{
	struct fx *f = *state;

	/* The size is refused before a byte is read. */
	assert_int_equal(roster_parse(ROSTER_REGIONS, "", ROSTER_MAX_BYTES + 1u,
	    "t.csv", ROSTER_ENC_AUTO, &f->r, &f->d), ENG_ETOOBIG);
	assert_int_equal(f->d.n, 1);
	assert_int_equal(roster_parse_file(ROSTER_REGIONS,
	    "tests/data/roster/does-not-exist.csv", ROSTER_ENC_AUTO, &f->r,
	    &f->d), ENG_ENOENT);
}

static void
t_reparse_releases(void **state)
{
	struct fx *f = *state;

	assert_int_equal(parse(f, ROSTER_REGIONS, "code,name\n140425,a\n"), 0);
	assert_int_equal(f->r.nregions, 1);
	/* A failed parse leaves no rows from the earlier one. */
	assert_int_equal(parse(f, ROSTER_REGIONS, "code,name\n14042,a\n"),
	    ENG_EINVAL);
	no_rows(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(t_regions_messy),
		T(t_gbk_file),
		T(t_gbk_iconv),
		T(t_devices),
		T(t_blank_rows_and_trailing),
		T(t_three_bad_rows),
		T(t_row_checks),
		T(t_booleans_email),
		T(t_prefer),
		T(t_prefer_bad_word),
		T(t_prefs_parse),
		T(t_header_errors),
		T(t_region_checks),
		T(t_multiline_lines),
		T(t_phone_norm),
		T(t_names),
		T(t_binary_garbage),
		T(t_nul_bytes),
		T(t_not_utf8_not_gbk),
		T(t_unterminated_quote),
		T(t_huge_field),
		T(t_too_big),
		T(t_reparse_releases),
#undef T
	};

	return cmocka_run_group_tests_name("roster", tests, NULL, NULL);
}
