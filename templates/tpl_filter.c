/*
 * templates/tpl_filter.c - the filters: localtime, truncate, join,
 * default, upper, lower, colour_zh, len, zh_num, zh_digits, en_num,
 * digits, strip_urls.
 */
#include "templates/tpl_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ELLIPSIS	"\xe2\x80\xa6"	/* … */

static int
set_owned(struct tval *out, struct tbuf *b)
{
	memset(out, 0, sizeof(*out));
	if ((out->own = tbuf_detach(b, &out->len)) == NULL) {
		tbuf_release(b);
		return ENG_ENOMEM;
	}
	out->kind = TV_STR;
	out->s = out->own;
	return 0;
}

/* Move in to out (both views of the same string). */
static void
pass(struct tval *in, struct tval *out)
{
	*out = *in;
	memset(in, 0, sizeof(*in));
}

static int
oom(struct trender *r, const struct tfilter *f)
{
	return trender_error(r, ENG_ENOMEM, f->line, f->col, "out of memory");
}

/*
 * The text of in, as a string value s that does not depend on in: a
 * string is moved out of in (in is left empty), anything else is
 * converted.  The caller may release in afterwards.
 */
static int
text(struct trender *r, const struct tfilter *f, struct tval *in,
    struct tval *s)
{
	if (in->kind == TV_STR) {
		pass(in, s);
		return 0;
	}
	if (tval_to_str(r, in, s) != 0)
		return oom(r, f);
	return 0;
}

static int
int_arg(const struct tval *a, int64_t *v)
{
	char buf[24], *end;
	long long x;

	if (a->kind == TV_INT) {
		*v = a->i;
		return 0;
	}
	if (a->kind != TV_STR || a->len == 0 || a->len >= sizeof(buf))
		return -1;
	memcpy(buf, a->s, a->len);
	buf[a->len] = '\0';
	errno = 0;
	x = strtoll(buf, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*v = x;
	return 0;
}

/* ---- localtime ---------------------------------------------------- */

static const char *
check_localtime(const struct tfilter *f)
{
	if (f->nargs > 0 && f->args[0]->kind == TE_STR)
		return ttime_fmt_check(f->args[0]->s, f->args[0]->len);
	if (f->nargs > 0 && f->args[0]->kind == TE_INT)
		return "the format must be text";
	return NULL;
}

static int
f_localtime(struct trender *r, const struct tfilter *f, struct tval *in,
    struct tval *args, struct tval *out)
{
	static const char def[] = "%Y-%m-%d %H:%M";
	struct tval s, fs;
	struct tbuf b;
	const char *fmt = def, *msg;
	size_t flen = sizeof(def) - 1;
	int64_t ms;
	int rv;

	memset(&fs, 0, sizeof(fs));
	if (in->kind == TV_INT) {
		ms = in->i;
	} else {
		if ((rv = text(r, f, in, &s)) != 0)
			return rv;
		rv = ttime_parse(s.s, s.len, &ms);
		if (rv != 0) {
			if (r->flags & TPL_STRICT) {
				rv = trender_error(r, ENG_EINVAL, f->line,
				    f->col, "localtime: cannot read '%.*s' "
				    "as a time", (int)(s.len > 40 ? 40 :
				    s.len), s.s);
				tval_release(&s);
				return rv;
			}
			/* show the original rather than nothing */
			pass(&s, out);
			return 0;
		}
		tval_release(&s);
	}
	if (f->nargs > 0) {
		if ((rv = text(r, f, &args[0], &fs)) != 0)
			return rv;
		if ((msg = ttime_fmt_check(fs.s, fs.len)) != NULL) {
			if (r->flags & TPL_STRICT) {
				tval_release(&fs);
				return trender_error(r, ENG_EINVAL, f->line,
				    f->col, "localtime: %s", msg);
			}
		} else {
			fmt = fs.s;
			flen = fs.len;
		}
	}
	tbuf_init(&b, 0);
	rv = ttime_format(&b, ms, r->v != NULL ? r->v->utc_off : 480,
	    r->v != NULL && r->v->zone != NULL ? r->v->zone :
	    "Asia/Shanghai", fmt, flen);
	tval_release(&fs);
	if (rv != 0) {
		tbuf_release(&b);
		return oom(r, f);
	}
	return set_owned(out, &b) != 0 ? oom(r, f) : 0;
}

/* ---- truncate ----------------------------------------------------- */

static const char *
check_truncate(const struct tfilter *f)
{
	if (f->args[0]->kind == TE_STR)
		return "the length must be a number";
	if (f->args[0]->kind == TE_INT && f->args[0]->i < 0)
		return "the length must not be negative";
	return NULL;
}

static int
f_truncate(struct trender *r, const struct tfilter *f, struct tval *in,
    struct tval *args, struct tval *out)
{
	struct tval s, m;
	struct tbuf b;
	int64_t n;
	size_t chars, mchars, keep;
	int rv;

	if (int_arg(&args[0], &n) != 0 || n < 0) {
		if (r->flags & TPL_STRICT)
			return trender_error(r, ENG_EINVAL, f->line, f->col,
			    "truncate: bad length");
		n = INT32_MAX;
	}
	if ((rv = text(r, f, in, &s)) != 0)
		return rv;
	chars = tpl_utf8_count(s.s, s.len);
	if ((uint64_t)chars <= (uint64_t)n) {
		pass(&s, out);
		return 0;
	}
	memset(&m, 0, sizeof(m));
	if (f->nargs > 1) {
		if ((rv = text(r, f, &args[1], &m)) != 0) {
			tval_release(&s);
			return rv;
		}
	} else {
		m.kind = TV_STR;
		m.s = ELLIPSIS;
		m.len = sizeof(ELLIPSIS) - 1;
	}
	mchars = tpl_utf8_count(m.s, m.len);
	tbuf_init(&b, 0);
	if (mchars > (uint64_t)n) {
		keep = (size_t)n;
		m.len = 0;
	} else
		keep = (size_t)n - mchars;
	rv = tbuf_add(&b, s.s, tpl_utf8_prefix(s.s, s.len, keep));
	if (rv == 0)
		rv = tbuf_add(&b, m.s, m.len);
	tval_release(&s);
	tval_release(&m);
	if (rv != 0 || set_owned(out, &b) != 0) {
		tbuf_release(&b);
		return oom(r, f);
	}
	return 0;
}

/* ---- join, default, len, upper, lower ----------------------------- */

static int
f_join(struct trender *r, const struct tfilter *f, struct tval *in,
    struct tval *args, struct tval *out)
{
	struct tval sep;
	struct tbuf b;
	size_t i;
	int rv = 0;

	if (in->kind != TV_LIST)
		return text(r, f, in, out);
	memset(&sep, 0, sizeof(sep));
	if (f->nargs > 0) {
		if ((rv = text(r, f, &args[0], &sep)) != 0)
			return rv;
	} else {
		sep.kind = TV_STR;
		sep.s = ", ";
		sep.len = 2;
	}
	tbuf_init(&b, 0);
	rv = tbuf_add(&b, "", 0);
	for (i = 0; i < in->n && rv == 0; i++) {
		if (i > 0)
			rv = tbuf_add(&b, sep.s, sep.len);
		if (rv == 0)
			rv = tbuf_add(&b, in->items[i], in->lens[i]);
	}
	tval_release(&sep);
	if (rv != 0 || set_owned(out, &b) != 0) {
		tbuf_release(&b);
		return oom(r, f);
	}
	return 0;
}

static int
f_default(struct trender *r, const struct tfilter *f, struct tval *in,
    struct tval *args, struct tval *out)
{
	if (in->kind == TV_NONE || (in->kind == TV_STR && in->len == 0) ||
	    (in->kind == TV_LIST && in->n == 0)) {
		if (args[0].kind == TV_NONE)
			return text(r, f, &args[0], out);
		pass(&args[0], out);
		return 0;
	}
	pass(in, out);
	return 0;
}

static int
f_len(struct trender *r, const struct tfilter *f, struct tval *in,
    struct tval *args, struct tval *out)
{
	struct tval s;
	int rv;

	(void)args;
	memset(out, 0, sizeof(*out));
	out->kind = TV_INT;
	if (in->kind == TV_LIST) {
		out->i = (int64_t)in->n;
		return 0;
	}
	if ((rv = text(r, f, in, &s)) != 0)
		return rv;
	out->i = (int64_t)tpl_utf8_count(s.s, s.len);
	tval_release(&s);
	return 0;
}

static int
change_case(struct trender *r, const struct tfilter *f, struct tval *in,
    struct tval *out, int up)
{
	struct tval s;
	struct tbuf b;
	size_t i;
	int rv;

	if ((rv = text(r, f, in, &s)) != 0)
		return rv;
	tbuf_init(&b, 0);
	if (tbuf_add(&b, s.s, s.len) != 0) {
		tval_release(&s);
		return oom(r, f);
	}
	tval_release(&s);
	for (i = 0; i < b.len; i++) {
		if (up && b.p[i] >= 'a' && b.p[i] <= 'z')
			b.p[i] = (char)(b.p[i] - 'a' + 'A');
		else if (!up && b.p[i] >= 'A' && b.p[i] <= 'Z')
			b.p[i] = (char)(b.p[i] - 'A' + 'a');
	}
	return set_owned(out, &b) != 0 ? oom(r, f) : 0;
}

static int
f_upper(struct trender *r, const struct tfilter *f, struct tval *in,
    struct tval *args, struct tval *out)
{
	(void)args;
	return change_case(r, f, in, out, 1);
}

static int
f_lower(struct trender *r, const struct tfilter *f, struct tval *in,
    struct tval *args, struct tval *out)
{
	(void)args;
	return change_case(r, f, in, out, 0);
}

/* ---- colour_zh ---------------------------------------------------- */

static const struct {
	const char *en, *sev, *zh;
} colours[] = {
	{ "red", "extreme", "红色" },
	{ "orange", "severe", "橙色" },
	{ "yellow", "moderate", "黄色" },
	{ "blue", "minor", "蓝色" },
};

static int
f_colour_zh(struct trender *r, const struct tfilter *f, struct tval *in,
    struct tval *args, struct tval *out)
{
	struct tval s;
	size_t i, n;
	int rv;

	(void)args;
	if ((rv = text(r, f, in, &s)) != 0)
		return rv;
	for (i = 0; i < sizeof(colours) / sizeof(colours[0]); i++) {
		n = strlen(colours[i].en);
		if ((s.len == n && strncasecmp(s.s, colours[i].en, n) == 0) ||
		    (s.len == strlen(colours[i].sev) &&
		    strncasecmp(s.s, colours[i].sev, s.len) == 0)) {
			tval_release(&s);
			memset(out, 0, sizeof(*out));
			out->kind = TV_STR;
			out->s = colours[i].zh;
			out->len = strlen(colours[i].zh);
			return 0;
		}
	}
	/* unknown (or already Chinese): unchanged */
	pass(&s, out);
	return 0;
}

/* ---- numbers read aloud ------------------------------------------- */

static const char *const zh_digit[] = { "零", "一", "二", "三", "四", "五",
    "六", "七", "八", "九" };

/* 0 <= n <= 9999; lead: n starts the number (10..19 read 十X). */
static int
zh_small(struct tbuf *b, unsigned n, int lead)
{
	static const char *const unit[] = { "千", "百", "十", "" };
	unsigned div[] = { 1000, 100, 10, 1 }, d;
	int i, started = 0, zero = 0, rv = 0;

	if (n == 0)
		return tbuf_adds(b, zh_digit[0]);
	for (i = 0; i < 4 && rv == 0; i++) {
		d = (n / div[i]) % 10;
		if (d == 0) {
			if (started)
				zero = 1;
			continue;
		}
		if (zero)
			rv = tbuf_adds(b, zh_digit[0]);
		zero = 0;
		if (!(i == 2 && d == 1 && !started && lead))
			rv = tbuf_adds(b, zh_digit[d]);
		if (rv == 0)
			rv = tbuf_adds(b, unit[i]);
		started = 1;
	}
	return rv;
}

static int
zh_number(struct tbuf *b, unsigned long n)
{
	unsigned hi = (unsigned)(n / 10000), lo = (unsigned)(n % 10000);
	int rv;

	if (hi == 0)
		return zh_small(b, lo, 1);
	if ((rv = zh_small(b, hi, 1)) != 0 || (rv = tbuf_adds(b, "万")) != 0)
		return rv;
	if (lo == 0)
		return 0;
	if (lo < 1000 && (rv = tbuf_adds(b, zh_digit[0])) != 0)
		return rv;
	return zh_small(b, lo, 0);
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

enum numstyle {
	NUM_ZH, NUM_ZH_DIGITS, NUM_EN, NUM_EN_DIGITS, NUM_DIGITS
};

static const char *const en_ones[] = { "zero", "one", "two", "three",
    "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
    "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
    "eighteen", "nineteen" };
static const char *const en_tens[] = { "", "", "twenty", "thirty",
    "forty", "fifty", "sixty", "seventy", "eighty", "ninety" };

static int
en_number(struct tbuf *b, unsigned n)
{
	int rv = 0;

	if (n >= 1000) {
		if ((rv = en_number(b, n / 1000)) != 0 ||
		    (rv = tbuf_adds(b, " thousand")) != 0)
			return rv;
		if ((n %= 1000) == 0)
			return 0;
		rv = tbuf_adds(b, " ");
	}
	if (rv == 0 && n >= 100) {
		if ((rv = tbuf_adds(b, en_ones[n / 100])) != 0 ||
		    (rv = tbuf_adds(b, " hundred")) != 0)
			return rv;
		if ((n %= 100) == 0)
			return 0;
		rv = tbuf_adds(b, " ");
	}
	if (rv != 0)
		return rv;
	if (n < 20)
		return tbuf_adds(b, en_ones[n]);
	if ((rv = tbuf_adds(b, en_tens[n / 10])) != 0 || n % 10 == 0)
		return rv;
	if ((rv = tbuf_adds(b, "-")) != 0)
		return rv;
	return tbuf_adds(b, en_ones[n % 10]);
}

/* One run of digits s[0..n-1]; next: the text after it. */
static int
digit_run(struct tbuf *b, const char *s, size_t n, const char *next,
    size_t nlen, enum numstyle st)
{
	unsigned long v = 0;
	size_t i;
	int rv = 0, spell, year;

	for (i = 0; i < n && i < 9; i++)
		v = v * 10 + (unsigned long)(s[i] - '0');
	spell = st == NUM_ZH_DIGITS || st == NUM_DIGITS ||
	    st == NUM_EN_DIGITS ||
	    (n > 1 && s[0] == '0');
	year = st == NUM_ZH && n == 4 && nlen >= 3 &&
	    memcmp(next, "年", 3) == 0;
	if (st == NUM_ZH)
		spell = spell || n > 8 || year;
	if (st == NUM_EN)
		spell = spell || n > 4;
	if (!spell)
		return st == NUM_EN ? en_number(b, (unsigned)v) :
		    zh_number(b, v);
	for (i = 0; i < n && rv == 0; i++) {
		if (st == NUM_ZH || st == NUM_ZH_DIGITS) {
			rv = tbuf_adds(b, s[i] == '0' && year ? "〇" :
			    zh_digit[s[i] - '0']);
			continue;
		}
		if (i > 0)
			rv = tbuf_adds(b, " ");
		if (rv == 0)
			rv = st == NUM_EN || st == NUM_EN_DIGITS ?
			    tbuf_adds(b, en_ones[s[i] - '0']) :
			    tbuf_add(b, s + i, 1);
	}
	return rv;
}

static int
numbers(struct trender *r, const struct tfilter *f, struct tval *in,
    struct tval *out, enum numstyle st)
{
	struct tval s;
	struct tbuf b;
	size_t i = 0, j;
	int rv = 0;

	if ((rv = text(r, f, in, &s)) != 0)
		return rv;
	tbuf_init(&b, 0);
	rv = tbuf_add(&b, "", 0);
	while (i < s.len && rv == 0) {
		if (!is_digit(s.s[i])) {
			rv = tbuf_add(&b, s.s + i, 1);
			i++;
			continue;
		}
		for (j = i; j < s.len && is_digit(s.s[j]); j++)
			;
		rv = digit_run(&b, s.s + i, j - i, s.s + j, s.len - j, st);
		/* a decimal fraction is read digit by digit */
		if (rv == 0 && j + 1 < s.len && s.s[j] == '.' &&
		    is_digit(s.s[j + 1]) && (st == NUM_ZH || st == NUM_EN)) {
			rv = tbuf_adds(&b, st == NUM_ZH ? "点" : " point ");
			i = j + 1;
			for (j = i; j < s.len && is_digit(s.s[j]); j++)
				;
			/* "3.25": "three point two five" */
			if (rv == 0)
				rv = digit_run(&b, s.s + i, j - i, "", 0,
				    st == NUM_ZH ? NUM_ZH_DIGITS :
				    NUM_EN_DIGITS);
		}
		i = j;
	}
	tval_release(&s);
	if (rv != 0 || set_owned(out, &b) != 0) {
		tbuf_release(&b);
		return oom(r, f);
	}
	return 0;
}

static int
f_zh_num(struct trender *r, const struct tfilter *f, struct tval *in,
    struct tval *args, struct tval *out)
{
	(void)args;
	return numbers(r, f, in, out, NUM_ZH);
}

static int
f_zh_digits(struct trender *r, const struct tfilter *f, struct tval *in,
    struct tval *args, struct tval *out)
{
	(void)args;
	return numbers(r, f, in, out, NUM_ZH_DIGITS);
}

static int
f_en_num(struct trender *r, const struct tfilter *f, struct tval *in,
    struct tval *args, struct tval *out)
{
	(void)args;
	return numbers(r, f, in, out, NUM_EN);
}

static int
f_digits(struct trender *r, const struct tfilter *f, struct tval *in,
    struct tval *args, struct tval *out)
{
	(void)args;
	return numbers(r, f, in, out, NUM_DIGITS);
}

/* ---- strip_urls --------------------------------------------------- */

static int
url_at(const char *s, size_t n)
{
	return (n >= 7 && strncasecmp(s, "http://", 7) == 0) ||
	    (n >= 8 && strncasecmp(s, "https://", 8) == 0) ||
	    (n >= 4 && strncasecmp(s, "www.", 4) == 0);
}

static int
f_strip_urls(struct trender *r, const struct tfilter *f, struct tval *in,
    struct tval *args, struct tval *out)
{
	struct tval s;
	struct tbuf b;
	size_t i = 0;
	int rv = 0;

	(void)args;
	if ((rv = text(r, f, in, &s)) != 0)
		return rv;
	tbuf_init(&b, 0);
	rv = tbuf_add(&b, "", 0);
	while (i < s.len && rv == 0) {
		if (url_at(s.s + i, s.len - i)) {
			/* up to a blank or a non-ASCII character */
			while (i < s.len && (unsigned char)s.s[i] > ' ' &&
			    (unsigned char)s.s[i] < 0x80)
				i++;
			/* drop one blank before it */
			if (b.len > 0 && b.p[b.len - 1] == ' ')
				b.p[--b.len] = '\0';
			continue;
		}
		rv = tbuf_add(&b, s.s + i, 1);
		i++;
	}
	tval_release(&s);
	if (rv != 0 || set_owned(out, &b) != 0) {
		tbuf_release(&b);
		return oom(r, f);
	}
	return 0;
}

/* ---- the table ---------------------------------------------------- */

static const struct tfilter_def filters[] = {
	{ "localtime", 0, 1, check_localtime, f_localtime, 0 },
	{ "truncate", 1, 2, check_truncate, f_truncate, 0 },
	{ "join", 0, 1, NULL, f_join, 0 },
	{ "default", 1, 1, NULL, f_default, 1 },
	{ "upper", 0, 0, NULL, f_upper, 0 },
	{ "lower", 0, 0, NULL, f_lower, 0 },
	{ "colour_zh", 0, 0, NULL, f_colour_zh, 0 },
	{ "len", 0, 0, NULL, f_len, 0 },
	{ "zh_num", 0, 0, NULL, f_zh_num, 0 },
	{ "zh_digits", 0, 0, NULL, f_zh_digits, 0 },
	{ "en_num", 0, 0, NULL, f_en_num, 0 },
	{ "digits", 0, 0, NULL, f_digits, 0 },
	{ "strip_urls", 0, 0, NULL, f_strip_urls, 0 },
};

const struct tfilter_def *
tfilter_find(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(filters) / sizeof(filters[0]); i++)
		if (strlen(filters[i].name) == len &&
		    memcmp(filters[i].name, name, len) == 0)
			return &filters[i];
	return NULL;
}
