/*
 * tests/fuzz/fuzz_tpl.c - libFuzzer target for the template engine:
 * compile any input, then render it (lenient and strict, the sections,
 * the SMS budget) with a realistic context.  Output must always be
 * valid UTF-8 (checked with tpl_sms_count, which rejects invalid text).
 * Seeds: tests/fuzz/corpus/tpl/ and templates/default/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "templates/tpl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct tpl_vars *vars;

static void
fill(struct tpl_vars *v)
{
	static const char *const areas[] = { "潞州区", "上党区", "屯留区" };
	static const char *const many[] = { "a", "b", "c", "d", "e", "f",
	    "g", "h", "i", "j" };

	(void)tpl_vars_set_bool(v, "exercise", 1);
	(void)tpl_vars_set_str(v, "alert.msg_type", "Alert");
	(void)tpl_vars_set_str(v, "alert.sender_name", "长治市气象台");
	(void)tpl_vars_set_str(v, "alert.event", "暴雨");
	(void)tpl_vars_set_str(v, "alert.colour", "orange");
	(void)tpl_vars_set_str(v, "alert.sent", "2024-07-21T14:30:00+08:00");
	(void)tpl_vars_set_int(v, "alert.expires", 1721629800000LL);
	(void)tpl_vars_set_str(v, "alert.description", "预计未来3小时内，潞州区"
	    "将出现50毫米以上降雨，详见 http://x.cn/a 。");
	(void)tpl_vars_set_str(v, "alert.instruction", "危险地带人员及时转移。");
	(void)tpl_vars_set_list(v, "alert.areas", areas, 3);
	(void)tpl_vars_set_list(v, "l", many, 10);
	(void)tpl_vars_set_str(v, "ack.code", "4821");
	(void)tpl_vars_set_bool(v, "ack.required", 1);
	(void)tpl_vars_set_str(v, "s", "\xf0\x9f\x8c\xa7 emoji {[]}");
}

static void
check(const char *out, size_t len)
{
	struct tpl_sms_count c;

	if (out == NULL || strlen(out) != len ||
	    tpl_sms_count(out, len, &c) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tpl_render_opts o = { 0, 64 * 1024, 5000 };
	struct tpl_sms_result r;
	struct eng_errbuf eb;
	struct tpl *t = NULL;
	char *out;
	size_t len;

	if (vars == NULL) {
		if ((vars = tpl_vars_new()) == NULL)
			abort();
		fill(vars);
	}
	eng_errbuf_init(&eb);
	if (tpl_compile("fuzz.tpl", (const char *)data, size, &t, &eb) != 0) {
		if (t != NULL || eb.msg[0] == '\0')
			abort();
		return 0;
	}
	if (tpl_render(t, vars, &o, &out, &len, &eb) == 0) {
		check(out, len);
		free(out);
	}
	o.flags = TPL_STRICT;
	if (tpl_render(t, vars, &o, &out, &len, &eb) == 0) {
		check(out, len);
		free(out);
	}
	o.flags = 0;
	if (tpl_has_section(t, "subject") && tpl_render_section(t, "subject",
	    vars, &o, &out, &len, &eb) == 0) {
		check(out, len);
		free(out);
	}
	if (tpl_render_sms(t, vars, &o, 2, NULL, &r, &eb) == 0) {
		check(r.text, r.len);
		free(r.text);
	}
	tpl_free(t);
	return 0;
}
