/*
 * cap/profile.c - the Chinese profile: colour levels, CMA signal codes,
 * and picking the info block of a language.
 */
#include "cap/cap.h"
#include "engine/err.h"

#include <string.h>
#include <strings.h>

const char *
cap_color_name(enum cap_color c)
{
	switch (c) {
	case CAP_COLOR_BLUE:
		return "blue";
	case CAP_COLOR_YELLOW:
		return "yellow";
	case CAP_COLOR_ORANGE:
		return "orange";
	case CAP_COLOR_RED:
		return "red";
	default:
		return "none";
	}
}

const char *
cap_color_name_zh(enum cap_color c)
{
	switch (c) {
	case CAP_COLOR_BLUE:
		return "蓝色";
	case CAP_COLOR_YELLOW:
		return "黄色";
	case CAP_COLOR_ORANGE:
		return "橙色";
	case CAP_COLOR_RED:
		return "红色";
	default:
		return "";
	}
}

enum cap_color
cap_severity_color(enum cap_severity s, enum cap_color unknown_as)
{
	switch (s) {
	case CAP_SEV_EXTREME:
		return CAP_COLOR_RED;
	case CAP_SEV_SEVERE:
		return CAP_COLOR_ORANGE;
	case CAP_SEV_MODERATE:
		return CAP_COLOR_YELLOW;
	case CAP_SEV_MINOR:
		return CAP_COLOR_BLUE;
	default:
		return unknown_as;
	}
}

enum cap_severity
cap_severity_from_color_word(const char *s)
{
	static const struct {
		const char *word;
		enum cap_severity sev;
	} tab[] = {
		{ "Red", CAP_SEV_EXTREME }, { "Orange", CAP_SEV_SEVERE },
		{ "Yellow", CAP_SEV_MODERATE }, { "Blue", CAP_SEV_MINOR },
		{ "红色", CAP_SEV_EXTREME }, { "橙色", CAP_SEV_SEVERE },
		{ "黄色", CAP_SEV_MODERATE }, { "蓝色", CAP_SEV_MINOR },
		{ "红", CAP_SEV_EXTREME }, { "橙", CAP_SEV_SEVERE },
		{ "黄", CAP_SEV_MODERATE }, { "蓝", CAP_SEV_MINOR },
	};
	size_t i;

	if (s == NULL)
		return CAP_SEV_INVALID;
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strcasecmp(s, tab[i].word) == 0)
			return tab[i].sev;
	return CAP_SEV_INVALID;
}

int
cap_cma_signal_parse(const char *v, int *type, enum cap_color *color)
{
	int t, l;

	if (v == NULL || strlen(v) != 4 ||
	    strspn(v, "0123456789") != 4)
		return ENG_EINVAL;
	t = (v[0] - '0') * 10 + (v[1] - '0');
	l = (v[2] - '0') * 10 + (v[3] - '0');
	if (t < 1 || l < 1 || l > 4)
		return ENG_EINVAL;
	*type = t;
	*color = (enum cap_color)l;
	return 0;
}

int
cap_info_cma_signal(const struct cap_info *info, const char *value_name,
    int *type, enum cap_color *color)
{
	size_t i;

	for (i = 0; i < info->nevent_codes; i++) {
		const struct cap_pair *p = &info->event_codes[i];

		if (value_name != NULL && (p->name == NULL ||
		    strcasecmp(p->name, value_name) != 0))
			continue;
		if (cap_cma_signal_parse(p->value, type, color) == 0)
			return 0;
	}
	return ENG_ENOENT;
}

const char *
cap_info_language(const struct cap_info *info)
{
	return info->language != NULL && info->language[0] != '\0' ?
	    info->language : "en-US";
}

static size_t
primary_len(const char *tag)
{
	return strcspn(tag, "-_");
}

const struct cap_info *
cap_alert_pick_info(const struct cap_alert *a, const char *lang)
{
	size_t i, pl;

	if (a == NULL || a->ninfos == 0)
		return NULL;
	if (lang == NULL || lang[0] == '\0')
		lang = "zh-CN";
	for (i = 0; i < a->ninfos; i++)
		if (strcasecmp(cap_info_language(&a->infos[i]), lang) == 0)
			return &a->infos[i];
	pl = primary_len(lang);
	for (i = 0; i < a->ninfos; i++) {
		const char *l = cap_info_language(&a->infos[i]);

		if (primary_len(l) == pl && strncasecmp(l, lang, pl) == 0)
			return &a->infos[i];
	}
	for (i = 0; i < a->ninfos; i++) {
		const char *l = cap_info_language(&a->infos[i]);

		if (strcasecmp(l, "en-US") == 0 || strcasecmp(l, "en") == 0)
			return &a->infos[i];
	}
	return &a->infos[0];
}
