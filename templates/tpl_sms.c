/*
 * templates/tpl_sms.c - SMS length: GSM 03.38 / UCS-2 segment counting
 * and rendering an SMS template within its segment budget.
 */
#include "templates/tpl_int.h"
#include "engine/utf8.h"

#include <stdlib.h>
#include <string.h>

#define GSM_SINGLE	160
#define GSM_PART	153
#define UCS_SINGLE	70
#define UCS_PART	67

/* Septets of cp in GSM 03.38 (basic set 1, extension table 2), or 0. */
static int
gsm_width(uint32_t cp)
{
	static const uint32_t basic[] = {
		0x00a1, 0x00a3, 0x00a4, 0x00a5, 0x00a7, 0x00bf, 0x00c4, 0x00c5,
		0x00c6, 0x00c7, 0x00c9, 0x00d1, 0x00d6, 0x00d8, 0x00dc, 0x00df,
		0x00e0, 0x00e4, 0x00e5, 0x00e6, 0x00e8, 0x00e9, 0x00ec, 0x00f1,
		0x00f2, 0x00f6, 0x00f8, 0x00f9, 0x00fc, 0x0393, 0x0394, 0x0398,
		0x039b, 0x039e, 0x03a0, 0x03a3, 0x03a6, 0x03a8, 0x03a9,
	};
	size_t lo = 0, hi = sizeof(basic) / sizeof(basic[0]), mid;

	if (cp == '\n' || cp == '\r')
		return 1;
	if (cp == '\f' || cp == 0x20ac)
		return 2;
	if (cp >= 0x20 && cp < 0x7f) {
		if (strchr("^{}\\[~]|", (int)cp) != NULL)
			return 2;
		return cp == '`' ? 0 : 1;
	}
	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (basic[mid] == cp)
			return 1;
		if (basic[mid] < cp)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

int
tpl_sms_count(const char *text, size_t len, struct tpl_sms_count *c)
{
	size_t i, k, units = 0, chars = 0, cur = 0, part;
	int gsm = 1, segs = 1, w;
	uint32_t cp;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < len; i += k) {
		if ((k = utf8_decode(text + i, len - i, &cp)) == 0)
			return ENG_EINVAL;
		if (gsm && gsm_width(cp) == 0)
			gsm = 0;
	}
	part = gsm ? GSM_PART : UCS_PART;
	for (i = 0; i < len; i += k) {
		k = utf8_decode(text + i, len - i, &cp);
		w = gsm ? gsm_width(cp) : cp > 0xffff ? 2 : 1;
		chars++;
		units += (size_t)w;
		/* parts are filled without splitting a pair */
		if (cur + (size_t)w > part) {
			segs++;
			cur = 0;
		}
		cur += (size_t)w;
	}
	c->enc = gsm ? TPL_SMS_GSM7 : TPL_SMS_UCS2;
	c->units = units;
	c->chars = chars;
	c->segments = units <= (gsm ? GSM_SINGLE : UCS_SINGLE) ? 1 : segs;
	return 0;
}

int
tpl_sms_segments(const char *text, enum tpl_sms_enc *enc)
{
	struct tpl_sms_count c;
	int rv;

	if (text == NULL)
		return ENG_EINVAL;
	if ((rv = tpl_sms_count(text, strlen(text), &c)) != 0)
		return rv;
	if (enc != NULL)
		*enc = c.enc;
	return c.segments;
}

/* Render with shorten_var cut to k characters (k == n: whole). */
static int
attempt(const struct tpl *t, const struct tpl_vars *v,
    const struct tpl_render_opts *opts, const char *name, const char *s,
    size_t slen, size_t n, size_t k, const char *mark, char **out,
    size_t *outlen, struct tpl_sms_count *c, struct eng_errbuf *eb)
{
	struct tbuf b;
	int rv;

	*out = NULL;
	tbuf_init(&b, 0);
	if ((rv = tbuf_add(&b, s, tpl_utf8_prefix(s, slen, k))) == 0 && k < n &&
	    k > 0)
		rv = tbuf_adds(&b, mark);
	if (rv == 0 && b.p == NULL)
		rv = tbuf_add(&b, "", 0);
	if (rv != 0) {
		tbuf_release(&b);
		return eng_error(eb, ENG_ENOMEM, "out of memory");
	}
	rv = tpl_render_ovr(t, NULL, v, opts, name, b.p, b.len, out, outlen,
	    eb);
	tbuf_release(&b);
	if (rv == 0 && (rv = tpl_sms_count(*out, *outlen, c)) != 0) {
		free(*out);
		*out = NULL;
		rv = eng_error(eb, rv, "%s: invalid UTF-8", tpl_name(t));
	}
	return rv;
}

int
tpl_render_sms(const struct tpl *t, const struct tpl_vars *v,
    const struct tpl_render_opts *opts, int max_segments,
    const char *shorten_var, struct tpl_sms_result *res,
    struct eng_errbuf *eb)
{
	const struct tvar *sv;
	const char *name = shorten_var != NULL ? shorten_var :
	    "alert.description", *mark;
	struct tpl_sms_count c;
	size_t n, lo, hi, mid, len;
	char *text;
	int rv;

	memset(res, 0, sizeof(*res));
	res->max_segments = max_segments > 0 ? max_segments :
	    tpl_max_segments(t);
	if ((rv = tpl_render(t, v, opts, &res->text, &res->len, eb)) != 0)
		return rv;
	if ((rv = tpl_sms_count(res->text, res->len, &res->count)) != 0) {
		free(res->text);
		memset(res, 0, sizeof(*res));
		return eng_error(eb, rv, "%s: invalid UTF-8", tpl_name(t));
	}
	res->fits = res->max_segments == 0 ||
	    res->count.segments <= res->max_segments;
	sv = tpl_vars_get(v, name);
	if (res->fits || sv == NULL || sv->kind != TV_STR || sv->len == 0)
		return 0;
	n = tpl_utf8_count(sv->s, sv->len);
	mark = res->count.enc == TPL_SMS_GSM7 ? "..." : "\xe2\x80\xa6";
	/* does it fit with the variable emptied? */
	if ((rv = attempt(t, v, opts, name, sv->s, sv->len, n, 0, mark, &text,
	    &len, &c, eb)) != 0)
		goto fail;
	free(res->text);
	res->text = text;
	res->len = len;
	res->count = c;
	res->cut = n;
	if (c.segments > res->max_segments)
		return 0;
	res->fits = 1;
	/* the longest cut that fits: fits(lo) holds, fits(hi) does not */
	lo = 0;
	hi = n;
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if ((rv = attempt(t, v, opts, name, sv->s, sv->len, n, mid,
		    mark, &text, &len, &c, eb)) != 0)
			goto fail;
		if (c.segments <= res->max_segments) {
			lo = mid;
			free(res->text);
			res->text = text;
			res->len = len;
			res->count = c;
			res->cut = n - mid;
		} else {
			hi = mid;
			free(text);
		}
	}
	return 0;
fail:
	free(res->text);
	memset(res, 0, sizeof(*res));
	return rv;
}
