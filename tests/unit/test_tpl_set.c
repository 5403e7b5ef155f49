/*
 * tests/unit/test_tpl_set.c - template sets (loading, fallbacks), the
 * shipped default templates, SMS segment counting and the SMS budget.
 * Run from the repository root (reads templates/default).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "templates/tpl.h"

#define DEFAULTS "templates/default"

struct fx {
	struct tpl_vars *v;
	struct tpl_set *s;
	struct diag_list dl;
	struct eng_errbuf eb;
	char dir[64];
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->v = tpl_vars_new();
	assert_non_null(f->v);
	diag_list_init(&f->dl);
	*state = f;
	return 0;
}

static void
rm_rf(const char *dir)
{
	char cmd[128];

	if (dir[0] == '\0')
		return;
	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	tpl_vars_free(f->v);
	tpl_set_free(f->s);
	diag_list_release(&f->dl);
	rm_rf(f->dir);
	free(f);
	return 0;
}

static void
put_file(const char *dir, const char *rel, const char *text)
{
	char path[512], cmd[600];
	FILE *fp;

	(void)snprintf(path, sizeof(path), "%s/%s", dir, rel);
	(void)snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", path);
	assert_int_equal(system(cmd), 0);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

/* The realistic alert: an orange rainstorm warning from Changzhi. */
static void
rainstorm(struct tpl_vars *v, int exercise)
{
	static const char *const areas[] = { "潞州区", "上党区", "屯留区" };

	assert_int_equal(tpl_vars_set_bool(v, "exercise", exercise), 0);
	assert_int_equal(tpl_vars_set_str(v, "alert.msg_type", "Alert"), 0);
	assert_int_equal(tpl_vars_set_str(v, "alert.sender_name",
	    "长治市气象台"), 0);
	assert_int_equal(tpl_vars_set_str(v, "alert.event", "暴雨"), 0);
	assert_int_equal(tpl_vars_set_str(v, "alert.event_en", "rainstorm"),
	    0);
	assert_int_equal(tpl_vars_set_str(v, "alert.headline",
	    "长治市气象台发布暴雨橙色预警"), 0);
	assert_int_equal(tpl_vars_set_str(v, "alert.colour", "orange"), 0);
	assert_int_equal(tpl_vars_set_str(v, "alert.severity", "Severe"), 0);
	assert_int_equal(tpl_vars_set_str(v, "alert.urgency", "Immediate"),
	    0);
	assert_int_equal(tpl_vars_set_str(v, "alert.sent",
	    "2024-07-21T14:30:00+08:00"), 0);
	assert_int_equal(tpl_vars_set_str(v, "alert.onset",
	    "2024-07-21T06:30:00Z"), 0);
	assert_int_equal(tpl_vars_set_int(v, "alert.expires",
	    1721629800000LL), 0);
	assert_int_equal(tpl_vars_set_str(v, "alert.description",
	    "预计未来3小时内，潞州区、上党区、屯留区将出现50毫米以上降雨，"
	    "局地伴有雷电、短时强降水。"), 0);
	assert_int_equal(tpl_vars_set_str(v, "alert.instruction",
	    "注意防范城乡积涝和山洪、地质灾害，危险地带人员及时转移。"), 0);
	assert_int_equal(tpl_vars_set_list(v, "alert.areas", areas, 3), 0);
	assert_int_equal(tpl_vars_set_str(v, "region.name", "西白兔乡"), 0);
	assert_int_equal(tpl_vars_set_str(v, "region.level", "township"), 0);
	assert_int_equal(tpl_vars_set_str(v, "region.code", "140403100000"),
	    0);
	assert_int_equal(tpl_vars_set_str(v, "responder.name", "张三"), 0);
	assert_int_equal(tpl_vars_set_str(v, "responder.role", "村级责任人"),
	    0);
	assert_int_equal(tpl_vars_set_bool(v, "ack.required", 1), 0);
	assert_int_equal(tpl_vars_set_str(v, "ack.code", "4821"), 0);
	assert_int_equal(tpl_vars_set_str(v, "ack.link",
	    "https://gong.example.cn/a/Xy12"), 0);
}

/* ---- segment counting --------------------------------------------- */

static char *
repeat(const char *unit, size_t n)
{
	size_t ul = strlen(unit), i;
	char *s = malloc(ul * n + 1);

	assert_non_null(s);
	for (i = 0; i < n; i++)
		memcpy(s + i * ul, unit, ul);
	s[ul * n] = '\0';
	return s;
}

static void
segs_is(const char *unit, size_t n, enum tpl_sms_enc want_enc, int want)
{
	enum tpl_sms_enc enc;
	char *s = repeat(unit, n);
	int got = tpl_sms_segments(s, &enc);

	if (got != want || enc != want_enc)
		fail_msg("%zu x '%s': %d segments (enc %d), want %d (enc %d)",
		    n, unit, got, (int)enc, want, (int)want_enc);
	free(s);
}

static void
t_segments(void **state)
{
	struct tpl_sms_count c;

	(void)state;
	segs_is("a", 160, TPL_SMS_GSM7, 1);
	segs_is("a", 161, TPL_SMS_GSM7, 2);
	segs_is("a", 306, TPL_SMS_GSM7, 2);
	segs_is("a", 307, TPL_SMS_GSM7, 3);
	segs_is("雨", 70, TPL_SMS_UCS2, 1);
	segs_is("雨", 71, TPL_SMS_UCS2, 2);
	segs_is("雨", 134, TPL_SMS_UCS2, 2);
	segs_is("雨", 135, TPL_SMS_UCS2, 3);
	/* an emoji is two UTF-16 units: 35 fit one SMS, 36 do not */
	segs_is("\xf0\x9f\x8c\xa7", 35, TPL_SMS_UCS2, 1);
	segs_is("\xf0\x9f\x8c\xa7", 36, TPL_SMS_UCS2, 2);
	assert_int_equal(tpl_sms_count("a\xf0\x9f\x8c\xa7", 5, &c), 0);
	assert_int_equal(c.units, 3);
	assert_int_equal(c.chars, 2);
	/* GSM-7 extension characters count two septets */
	segs_is("{", 80, TPL_SMS_GSM7, 1);
	segs_is("{", 81, TPL_SMS_GSM7, 2);
	segs_is("\xe2\x82\xac", 80, TPL_SMS_GSM7, 1);	/* € */
	assert_int_equal(tpl_sms_count("é@£\n", 6, &c), 0);
	assert_int_equal(c.enc, TPL_SMS_GSM7);
	assert_int_equal(c.units, 4);
	/* a pair is never split: 152 'a' then '{' needs a third part */
	{
		char *s = repeat("a", 305), *t;

		t = malloc(400);
		assert_non_null(t);
		memcpy(t, s, 152);
		memcpy(t + 152, "{", 1);
		memcpy(t + 153, s, 152);
		t[305] = '\0';
		/* 152 + 2 + 152 = 306 septets, but '{' cannot split */
		assert_int_equal(tpl_sms_segments(t, NULL), 3);
		free(s);
		free(t);
	}
	/* a character outside GSM 03.38 makes the text UCS-2 */
	assert_int_equal(tpl_sms_count("abc`", 4, &c), 0);
	assert_int_equal(c.enc, TPL_SMS_UCS2);
	assert_int_equal(tpl_sms_segments("", NULL), 1);
	assert_int_equal(tpl_sms_segments("a\xff", NULL), ENG_EINVAL);
	assert_int_equal(tpl_sms_segments(NULL, NULL), ENG_EINVAL);
}

/* ---- the SMS budget ----------------------------------------------- */

static void
t_budget(void **state)
{
	struct fx *f = *state;
	struct tpl_sms_result r;
	struct tpl *t = NULL;
	const char *src = "{# max_segments: 2 #}\n【长治市气象台】暴雨"
	    "{{ alert.colour | colour_zh }}预警：{{ alert.description }}"
	    "防御指南：{{ alert.instruction }}请回复{{ ack.code }}确认。\n";
	char *desc = repeat("预计未来三小时内有强降雨。", 20), *want;

	assert_int_equal(tpl_compile("b.tpl", src, strlen(src), &t, &f->eb),
	    0);
	assert_int_equal(tpl_max_segments(t), 2);
	assert_int_equal(tpl_vars_set_str(f->v, "alert.colour", "red"), 0);
	assert_int_equal(tpl_vars_set_str(f->v, "alert.description", desc),
	    0);
	assert_int_equal(tpl_vars_set_str(f->v, "alert.instruction",
	    "立即转移到安全地带。"), 0);
	assert_int_equal(tpl_vars_set_str(f->v, "ack.code", "4821"), 0);
	assert_int_equal(tpl_render_sms(t, f->v, NULL, 0, NULL, &r, &f->eb),
	    0);
	/* exactly two full UCS-2 parts */
	assert_true(r.fits);
	assert_int_equal(r.max_segments, 2);
	assert_int_equal(r.count.enc, TPL_SMS_UCS2);
	assert_int_equal(r.count.segments, 2);
	assert_int_equal(r.count.units, 134);
	/* fixed text: 8+2+2+3 + 5+10 + 3+4+3 = 40 characters; the marker 1;
	 * 93 of the description's 260 characters are kept */
	assert_int_equal(r.cut, 260 - (134 - 40 - 1));
	want = malloc(1024);
	assert_non_null(want);
	(void)snprintf(want, 1024, "【长治市气象台】暴雨红色预警：%.*s…防御指南："
	    "立即转移到安全地带。请回复4821确认。", 93 * 3, desc);
	assert_string_equal(r.text, want);
	free(r.text);
	/* a budget given by the caller wins; 3 parts need no cut */
	assert_int_equal(tpl_render_sms(t, f->v, NULL, 5, NULL, &r, &f->eb),
	    0);
	assert_true(r.fits);
	assert_int_equal(r.cut, 0);
	assert_int_equal(r.count.segments, 5);
	free(r.text);
	/* an instruction too long on its own: reported, not cut */
	free(desc);
	desc = repeat("转移", 70);
	assert_int_equal(tpl_vars_set_str(f->v, "alert.instruction", desc),
	    0);
	assert_int_equal(tpl_render_sms(t, f->v, NULL, 0, NULL, &r, &f->eb),
	    0);
	assert_false(r.fits);
	assert_int_equal(r.cut, 260);
	assert_int_equal(r.count.segments, 3);
	assert_non_null(strstr(r.text, desc));
	assert_non_null(strstr(r.text, "预警：防御指南："));
	free(r.text);
	tpl_free(t);
	free(desc);
	free(want);
}

static void
t_budget_gsm(void **state)
{
	struct fx *f = *state;
	struct tpl_sms_result r;
	struct tpl *t = NULL;
	const char *src = "{# max_segments: 2 #}[Met Office] RED {{ event }} "
	    "warning: {{ alert.description }} Advice: {{ alert.instruction }}"
	    " Reply {{ ack.code }}.";
	char *desc = repeat("Heavy rain expected. ", 30);
	size_t n;

	assert_int_equal(tpl_compile("g.tpl", src, strlen(src), &t, &f->eb),
	    0);
	assert_int_equal(tpl_vars_set_str(f->v, "event", "rainstorm"), 0);
	assert_int_equal(tpl_vars_set_str(f->v, "alert.description", desc),
	    0);
	assert_int_equal(tpl_vars_set_str(f->v, "alert.instruction",
	    "Move to high ground."), 0);
	assert_int_equal(tpl_vars_set_str(f->v, "ack.code", "77"), 0);
	assert_int_equal(tpl_render_sms(t, f->v, NULL, 0, NULL, &r, &f->eb),
	    0);
	assert_true(r.fits);
	assert_int_equal(r.count.enc, TPL_SMS_GSM7);
	assert_int_equal(r.count.segments, 2);
	assert_int_equal(r.count.units, 306);
	/* '[' and ']' are extension characters: 2 septets, 1 byte */
	n = strlen(r.text);
	assert_int_equal(n, 304);
	assert_non_null(strstr(r.text, "... Advice: Move to high ground. "
	    "Reply 77."));
	free(r.text);
	tpl_free(t);
	free(desc);
}

/* ---- sets and fallbacks ------------------------------------------- */

static void
add(struct fx *f, const char *region, enum tpl_kind k, const char *lang,
    const char *event, const char *text)
{
	eng_errbuf_init(&f->eb);
	if (tpl_set_add(f->s, region, k, lang, event, text, strlen(text),
	    &f->eb) != 0)
		fail_msg("add: %s", f->eb.msg);
}

static const char *
find(struct fx *f, enum tpl_kind k, const char *lang, const char *event,
    const char *const *chain, size_t n)
{
	const struct tpl *t = tpl_set_find(f->s, k, lang, event, chain, n);
	static char buf[64];
	char *out;

	if (t == NULL)
		return "(none)";
	assert_int_equal(tpl_render(t, NULL, NULL, &out, NULL, &f->eb), 0);
	(void)snprintf(buf, sizeof(buf), "%s", out);
	free(out);
	return buf;
}

static void
t_fallbacks(void **state)
{
	struct fx *f = *state;
	const char *const village[] = { "140403100201", "140403100000",
	    "140403000000", "140400000000" };
	const char *const other[] = { "140403200201", "140403200000",
	    "140403000000", "140400000000" };
	const char *const bad[] = { NULL, "14040", "140403100000" };

	f->s = tpl_set_new();
	assert_non_null(f->s);
	add(f, NULL, TPL_SMS, "zh-CN", "default", "D");
	add(f, NULL, TPL_SMS, "zh-CN", "暴雨", "D-rain");
	add(f, NULL, TPL_SMS, "en", "default", "E");
	add(f, "140403000000", TPL_SMS, "zh-CN", "default", "County");
	add(f, "140403100000", TPL_SMS, "zh-CN", "暴雨", "Town-rain");
	add(f, NULL, TPL_APP, "zh-CN", "default", "A");
	assert_int_equal(tpl_set_count(f->s), 6);
	/* the township's own template for its villages */
	assert_string_equal(find(f, TPL_SMS, "zh-CN", "暴雨", village, 4),
	    "Town-rain");
	assert_string_equal(find(f, TPL_SMS, "zh-CN", "暴雨", village + 1, 3),
	    "Town-rain");
	/* another event: the county's generic template */
	assert_string_equal(find(f, TPL_SMS, "zh-CN", "山洪", village, 4),
	    "County");
	/* another township of the county: county generic beats the
	 * default's event template */
	assert_string_equal(find(f, TPL_SMS, "zh-CN", "暴雨", other, 4),
	    "County");
	/* no region: event-specific, then generic */
	assert_string_equal(find(f, TPL_SMS, "zh-CN", "暴雨", NULL, 0),
	    "D-rain");
	assert_string_equal(find(f, TPL_SMS, "zh-CN", "山洪", NULL, 0), "D");
	assert_string_equal(find(f, TPL_SMS, "zh-CN", NULL, NULL, 0), "D");
	/* language first: en readers get en, even in the township */
	assert_string_equal(find(f, TPL_SMS, "en", "暴雨", village, 4), "E");
	assert_string_equal(find(f, TPL_SMS, "en-GB", "暴雨", village, 4),
	    "E");
	/* unknown language: zh-CN */
	assert_string_equal(find(f, TPL_SMS, "fr", "暴雨", village, 4),
	    "Town-rain");
	assert_string_equal(find(f, TPL_SMS, NULL, "暴雨", village, 4),
	    "Town-rain");
	assert_string_equal(find(f, TPL_APP, "en", "暴雨", village, 4), "A");
	/* nothing for the kind at all */
	assert_string_equal(find(f, TPL_VOICE, "zh-CN", "暴雨", village, 4),
	    "(none)");
	/* bad chain entries are skipped */
	assert_string_equal(find(f, TPL_SMS, "zh-CN", "暴雨", bad, 3),
	    "Town-rain");
	/* replacement */
	add(f, NULL, TPL_SMS, "zh-CN", "default", "D2");
	assert_int_equal(tpl_set_count(f->s), 6);
	assert_string_equal(find(f, TPL_SMS, "zh-CN", "x", NULL, 0), "D2");
	/* bad keys and templates */
	assert_int_equal(tpl_set_add(f->s, "14040", TPL_SMS, "zh-CN", "x",
	    "a", 1, &f->eb), ENG_EINVAL);
	assert_string_equal(f->eb.msg, "bad region code '14040' (want 12 "
	    "digits)");
	assert_int_equal(tpl_set_add(f->s, NULL, TPL_SMS, "z", "x", "a", 1,
	    &f->eb), ENG_EINVAL);
	assert_int_equal(tpl_set_add(f->s, NULL, TPL_SMS, "zh-CN", "a/b",
	    "a", 1, &f->eb), ENG_EINVAL);
	assert_int_equal(tpl_set_add(f->s, NULL, TPL_NKINDS, "zh-CN", "a",
	    "a", 1, &f->eb), ENG_EINVAL);
	assert_int_equal(tpl_set_add(f->s, "140403100000", TPL_SMS, "zh-CN",
	    "暴雨", "{{ a | trunc }}", 15, &f->eb), ENG_EINVAL);
	assert_string_equal(f->eb.msg, "regions/140403100000/sms/zh-CN/"
	    "暴雨.tpl:1:8: unknown filter 'trunc'");
	assert_int_equal(tpl_set_count(f->s), 6);
}

static void
t_kinds(void **state)
{
	enum tpl_kind k;

	(void)state;
	assert_string_equal(tpl_kind_name(TPL_LOUDSPEAKER), "loudspeaker");
	assert_null(tpl_kind_name(TPL_NKINDS));
	assert_int_equal(tpl_kind_parse("email", &k), 0);
	assert_int_equal(k, TPL_EMAIL);
	assert_int_equal(tpl_kind_parse("fax", &k), ENG_EINVAL);
}

static void
t_load(void **state)
{
	struct fx *f = *state;
	const char *const chain[] = { "140403100201", "140403100000" };
	char buf[512], *out;
	const struct tpl *t;
	size_t i;

	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/test_tpl_set.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	put_file(f->dir, "sms/zh-CN/default.tpl", "默认{{ a }}\n");
	put_file(f->dir, "sms/zh-CN/bad.tpl", "第一行\n短信 {{ x | trunc }}\n");
	put_file(f->dir, "regions/140403100000/sms/zh-CN/default.tpl",
	    "乡镇方案\n");
	put_file(f->dir, "regions/140403100000/app/en/default.tpl",
	    "ok\n{% if %}{% endif %}");
	put_file(f->dir, "regions/1404/sms/zh-CN/default.tpl", "x");
	put_file(f->dir, "fax/zh-CN/default.tpl", "x");
	put_file(f->dir, "sms/zh-CN/notes.txt", "x");
	assert_int_equal(tpl_set_load(f->dir, &f->s, &f->dl), ENG_EINVAL);
	assert_null(f->s);
	assert_int_equal(f->dl.nerrors, 2);
	for (i = 0; i < f->dl.n; i++) {
		const struct diag *d = &f->dl.v[i];

		if (d->sev != DIAG_ERROR)
			continue;
		if (strstr(d->file, "bad.tpl") != NULL) {
			(void)snprintf(buf, sizeof(buf), "%s/sms/zh-CN/bad.tpl",
			    f->dir);
			assert_string_equal(d->file, buf);
			assert_int_equal(d->line, 2);
			assert_string_equal(d->msg,
			    "column 11: unknown filter 'trunc'");
		} else {
			(void)snprintf(buf, sizeof(buf), "%s/regions/"
			    "140403100000/app/en/default.tpl", f->dir);
			assert_string_equal(d->file, buf);
			assert_int_equal(d->line, 2);
			assert_string_equal(d->msg,
			    "column 7: missing condition");
		}
	}
	/* warnings: regions/1404, fax/, notes.txt, and 4 kinds without a
	 * zh-CN default */
	assert_int_equal(f->dl.nwarnings, 7);
	diag_list_release(&f->dl);
	/* fixed: loads, and the township's file wins for its village */
	put_file(f->dir, "sms/zh-CN/bad.tpl", "{{ x | truncate(2) }}");
	put_file(f->dir, "regions/140403100000/app/en/default.tpl", "ok");
	assert_int_equal(tpl_set_load(f->dir, &f->s, &f->dl), 0);
	assert_int_equal(f->dl.nerrors, 0);
	assert_int_equal(tpl_set_count(f->s), 4);
	t = tpl_set_find(f->s, TPL_SMS, "zh-CN", "暴雨", chain, 2);
	assert_non_null(t);
	assert_string_equal(tpl_name(t),
	    "regions/140403100000/sms/zh-CN/default.tpl");
	assert_int_equal(tpl_render(t, NULL, NULL, &out, NULL, &f->eb), 0);
	assert_string_equal(out, "乡镇方案");
	free(out);
	t = tpl_set_find(f->s, TPL_SMS, "zh-CN", "暴雨", NULL, 0);
	assert_string_equal(tpl_name(t), "sms/zh-CN/default.tpl");
	/* a missing directory */
	tpl_set_free(f->s);
	f->s = NULL;
	diag_list_release(&f->dl);
	assert_int_equal(tpl_set_load("/nonexistent/tpl", &f->s, &f->dl),
	    ENG_EIO);
	assert_int_equal(f->dl.nerrors, 1);
}

/* ---- the shipped defaults ----------------------------------------- */

static void
load_defaults(struct fx *f)
{
	char buf[512];
	size_t i;
	int rv = tpl_set_load(DEFAULTS, &f->s, &f->dl);

	for (i = 0; i < f->dl.n; i++)
		print_message("%s\n", diag_format(&f->dl.v[i], buf,
		    sizeof(buf)));
	assert_int_equal(rv, 0);
	assert_int_equal(f->dl.nerrors, 0);
	assert_int_equal(f->dl.nwarnings, 0);
}

static void
t_default_sms_zh(void **state)
{
	struct fx *f = *state;
	const struct tpl *t;
	struct tpl_sms_result r;

	load_defaults(f);
	assert_int_equal(tpl_set_count(f->s), 11);
	rainstorm(f->v, 0);
	t = tpl_set_find(f->s, TPL_SMS, "zh-CN", "暴雨", NULL, 0);
	assert_non_null(t);
	assert_int_equal(tpl_render_sms(t, f->v, NULL, 0, NULL, &r, &f->eb),
	    0);
	assert_string_equal(r.text,
	    "【长治市气象台】长治市气象台7月21日14时30分发布暴雨橙色预警："
	    "预计未来3小时内，潞州区、上党区、屯留区将出现50毫米以上降雨，"
	    "局地伴有雷电、短时强降水。防御指南：注意防范城乡积涝和山洪、"
	    "地质灾害，危险地带人员及时转移。有效至7月22日14时30分。"
	    "请回复4821确认收到。");
	assert_true(r.fits);
	assert_int_equal(r.cut, 0);
	assert_int_equal(r.count.chars, 139);
	assert_int_equal(r.count.segments, 3);
	free(r.text);
	/* an update, an exercise and a cancel */
	assert_int_equal(tpl_vars_set_str(f->v, "alert.msg_type", "Update"),
	    0);
	assert_int_equal(tpl_vars_set_bool(f->v, "exercise", 1), 0);
	assert_int_equal(tpl_vars_set_bool(f->v, "ack.required", 0), 0);
	assert_int_equal(tpl_vars_unset(f->v, "alert.expires"), 0);
	assert_int_equal(tpl_render_sms(t, f->v, NULL, 0, NULL, &r, &f->eb),
	    0);
	assert_string_equal(r.text,
	    "【演练】【长治市气象台】长治市气象台7月21日14时30分更新暴雨橙色"
	    "预警：预计未来3小时内，潞州区、上党区、屯留区将出现50毫米以上"
	    "降雨，局地伴有雷电、短时强降水。防御指南：注意防范城乡积涝和"
	    "山洪、地质灾害，危险地带人员及时转移。");
	free(r.text);
	assert_int_equal(tpl_vars_set_str(f->v, "alert.msg_type", "Cancel"),
	    0);
	assert_int_equal(tpl_vars_set_str(f->v, "alert.sent",
	    "2024-07-21T20:05:00+08:00"), 0);
	assert_int_equal(tpl_render_sms(t, f->v, NULL, 0, NULL, &r, &f->eb),
	    0);
	assert_string_equal(r.text, "【演练】【长治市气象台】长治市气象台"
	    "7月21日20时05分解除暴雨橙色预警。");
	free(r.text);
}

static void
t_default_budget(void **state)
{
	struct fx *f = *state;
	const struct tpl *t;
	struct tpl_sms_result r;
	char *desc = repeat("预计未来三小时内，长治市大部将出现强降雨。", 12);

	load_defaults(f);
	rainstorm(f->v, 1);
	assert_int_equal(tpl_vars_set_str(f->v, "alert.description", desc),
	    0);
	t = tpl_set_find(f->s, TPL_SMS, "zh-CN", "暴雨", NULL, 0);
	assert_int_equal(tpl_render_sms(t, f->v, NULL, 0, NULL, &r, &f->eb),
	    0);
	assert_true(r.fits);
	assert_int_equal(r.max_segments, 3);
	assert_int_equal(r.count.segments, 3);
	assert_int_equal(r.count.units, 201);
	assert_true(strncmp(r.text, "【演练】", strlen("【演练】")) == 0);
	assert_non_null(strstr(r.text, "…防御指南：注意防范城乡积涝和山洪、"
	    "地质灾害，危险地带人员及时转移。有效至7月22日14时30分。"
	    "请回复4821确认收到。"));
	assert_non_null(strstr(r.text, "橙色预警"));
	free(r.text);
	free(desc);
}

static void
t_default_all(void **state)
{
	struct fx *f = *state;
	struct tpl_render_opts strict = { .flags = TPL_STRICT };
	static const char *const langs[] = { "zh-CN", "en" };
	static const char *const mark[] = { "【演练】", "[EXERCISE]" };
	const struct tpl *t;
	char *out;
	int k, l, ex;

	load_defaults(f);
	for (ex = 0; ex <= 1; ex++) {
		rainstorm(f->v, ex);
		for (k = 0; k < TPL_NKINDS; k++) {
			for (l = 0; l < 2; l++) {
				t = tpl_set_find(f->s, (enum tpl_kind)k,
				    langs[l], "暴雨", NULL, 0);
				assert_non_null(t);
				/* every variable they use is documented and
				 * set: strict mode passes */
				if (tpl_render(t, f->v, &strict, &out, NULL,
				    &f->eb) != 0)
					fail_msg("%s", f->eb.msg);
				if (ex && strncmp(out, mark[l],
				    strlen(mark[l])) != 0)
					fail_msg("%s: no exercise mark: %s",
					    tpl_name(t), out);
				if (!ex && strstr(out, mark[l]) != NULL)
					fail_msg("%s: exercise mark in a real "
					    "alert", tpl_name(t));
				/* read aloud: no links */
				if ((k == TPL_VOICE || k == TPL_LOUDSPEAKER) &&
				    strstr(out, "http") != NULL)
					fail_msg("%s: a link", tpl_name(t));
				free(out);
				if (k != TPL_EMAIL)
					continue;
				assert_int_equal(tpl_render_section(t,
				    "subject", f->v, &strict, &out, NULL,
				    &f->eb), 0);
				assert_null(strchr(out, '\n'));
				if (ex && strncmp(out, mark[l],
				    strlen(mark[l])) != 0)
					fail_msg("%s: subject: %s",
					    tpl_name(t), out);
				free(out);
			}
		}
	}
	/* the loudspeaker script reads numbers as words */
	rainstorm(f->v, 0);
	t = tpl_set_find(f->s, TPL_LOUDSPEAKER, "zh-CN", "暴雨", NULL, 0);
	assert_int_equal(tpl_render(t, f->v, NULL, &out, NULL, &f->eb), 0);
	assert_string_equal(out, "各位村民请注意，各位村民请注意：长治市气象台"
	    "七月二十一日十四时三十分发布暴雨橙色预警。\n"
	    "预计未来三小时内，潞州区、上党区、屯留区将出现五十毫米以上降雨，"
	    "局地伴有雷电、短时强降水。\n"
	    "注意防范城乡积涝和山洪、地质灾害，危险地带人员及时转移。\n"
	    "请大家相互转告，做好防范。\n");
	free(out);
	/* the flash-flood script is event-specific */
	t = tpl_set_find(f->s, TPL_LOUDSPEAKER, "zh-CN", "山洪", NULL, 0);
	assert_string_equal(tpl_name(t), "loudspeaker/zh-CN/山洪.tpl");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_segments, setup, teardown),
		cmocka_unit_test_setup_teardown(t_budget, setup, teardown),
		cmocka_unit_test_setup_teardown(t_budget_gsm, setup, teardown),
		cmocka_unit_test_setup_teardown(t_fallbacks, setup, teardown),
		cmocka_unit_test_setup_teardown(t_kinds, setup, teardown),
		cmocka_unit_test_setup_teardown(t_load, setup, teardown),
		cmocka_unit_test_setup_teardown(t_default_sms_zh, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_default_budget, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_default_all, setup,
		    teardown),
	};

	return cmocka_run_group_tests_name("tpl_set", tests, NULL, NULL);
}
