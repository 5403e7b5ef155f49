/*
 * engine/roster_pref.c - a responder's preferred address kinds: the
 * words of the roster's "prefer" column and the lists they make.
 */
#include "engine/roster.h"
#include "engine/roster_int.h"

#include <string.h>

static const char *const pref_names[ROSTER_PREF_COUNT + 1] = {
	NULL, "phone", "voice", "wecom", "dingtalk", "telegram", "wechat",
	"email",
};

/* Every spelling (ASCII case-insensitive). */
static const struct {
	const char *word;
	enum roster_pref kind;
} pref_words[] = {
	{ "phone", ROSTER_PREF_PHONE }, { "sms", ROSTER_PREF_PHONE },
	{ "短信", ROSTER_PREF_PHONE },
	{ "voice", ROSTER_PREF_VOICE }, { "电话", ROSTER_PREF_VOICE },
	{ "语音", ROSTER_PREF_VOICE },
	{ "wecom", ROSTER_PREF_WECOM }, { "企业微信", ROSTER_PREF_WECOM },
	{ "dingtalk", ROSTER_PREF_DINGTALK }, { "钉钉", ROSTER_PREF_DINGTALK },
	{ "telegram", ROSTER_PREF_TELEGRAM },
	{ "wechat", ROSTER_PREF_WECHAT }, { "微信", ROSTER_PREF_WECHAT },
	{ "email", ROSTER_PREF_EMAIL }, { "e-mail", ROSTER_PREF_EMAIL },
	{ "邮件", ROSTER_PREF_EMAIL }, { "邮箱", ROSTER_PREF_EMAIL },
};

const char *
roster_pref_name(enum roster_pref p)
{
	return p > ROSTER_PREF_NONE && p <= ROSTER_PREF_COUNT ?
	    pref_names[p] : NULL;
}

enum roster_pref
roster_pref_parse(const char *s, size_t len)
{
	char w[32];
	size_t i;

	if (len == 0 || len >= sizeof(w))
		return ROSTER_PREF_NONE;
	memcpy(w, s, len);
	w[len] = '\0';
	for (i = 0; i < sizeof(pref_words) / sizeof(pref_words[0]); i++)
		if (roster_word_eq(w, pref_words[i].word))
			return pref_words[i].kind;
	return ROSTER_PREF_NONE;
}

/* The length of the separator at s, or 0 if there is none. */
static size_t
sep_len(const char *s)
{
	if (*s == ',' || *s == ';' || *s == '|')
		return 1;
	if (strncmp(s, "、", 3) == 0 || strncmp(s, "，", 3) == 0 ||
	    strncmp(s, "；", 3) == 0)
		return 3;
	return 0;
}

static int
blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int
roster_prefs_parse(const char *s, enum roster_pref out[ROSTER_PREF_COUNT],
    size_t *bad, size_t *badlen)
{
	const char *p, *w, *e;
	enum roster_pref k;
	size_t n = 0, j, sl;

	if (s == NULL)
		return 0;
	for (p = s; *p != '\0';) {
		if ((sl = sep_len(p)) > 0) {
			p += sl;
			continue;
		}
		for (w = p; *p != '\0' && sep_len(p) == 0; p++)
			;
		for (e = p; e > w && blank(e[-1]); e--)
			;
		while (w < e && blank(*w))
			w++;
		if (w == e)
			continue;	/* an empty item */
		if ((k = roster_pref_parse(w, (size_t)(e - w))) ==
		    ROSTER_PREF_NONE) {
			if (bad != NULL)
				*bad = (size_t)(w - s);
			if (badlen != NULL)
				*badlen = (size_t)(e - w);
			return -1;
		}
		for (j = 0; j < n && out[j] != k; j++)
			;
		if (j == n)	/* n < ROSTER_PREF_COUNT: distinct kinds */
			out[n++] = k;
	}
	return (int)n;
}
