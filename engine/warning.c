/*
 * engine/warning.c - the issuing form and the CAP 1.2 message made of it
 * (see warning.h).
 */
#include "engine/warning.h"
#include "cap/cap.h"
#include "engine/diag.h"
#include "engine/err.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

static const char *const categories[] = {
	"Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health",
	"Env", "Transport", "Infra", "CBRNE", "Other", NULL
};

/* The CMA warning signals (气象灾害预警信号) by event name. */
static const struct {
	const char *event;
	int type;
} cma_types[] = {
	{ "台风", 1 }, { "暴雨", 2 }, { "暴雪", 3 }, { "寒潮", 4 },
	{ "大风", 5 }, { "沙尘暴", 6 }, { "高温", 7 }, { "干旱", 8 },
	{ "雷电", 9 }, { "冰雹", 10 }, { "霜冻", 11 }, { "大雾", 12 },
	{ "霾", 13 }, { "道路结冰", 14 },
};

void
warning_init(struct warning *w)
{
	memset(w, 0, sizeof(*w));
}

void
warning_release(struct warning *w)
{
	if (w == NULL)
		return;
	free(w->event);
	free(w->headline);
	free(w->description);
	free(w->instruction);
	free(w->regions);
	free(w->polygon);
	free(w->language);
	free(w->category);
	free(w->sender_name);
	free(w->reason);
	warning_init(w);
}

int
warning_colour_parse(const char *s)
{
	static const char *const en[] = { "blue", "yellow", "orange", "red" };
	enum cap_severity sev;
	int i;

	if (s == NULL)
		return -1;
	for (i = 0; i < 4; i++)
		if (strcasecmp(s, en[i]) == 0)
			return i + 1;
	sev = cap_severity_from_color_word(s);
	if (sev == CAP_SEV_INVALID)
		return -1;
	return (int)cap_severity_color(sev, CAP_COLOR_NONE);
}

int
warning_cma_type(const char *event)
{
	size_t i;

	if (event == NULL)
		return 0;
	for (i = 0; i < sizeof(cma_types) / sizeof(cma_types[0]); i++)
		if (strcmp(event, cma_types[i].event) == 0)
			return cma_types[i].type;
	return 0;
}

char *
warning_fmt_time(int64_t ms, int off, char *buf, size_t size)
{
	struct tm tm;
	time_t t;
	int n;

	t = (time_t)((ms - (((ms % 1000) + 1000) % 1000)) / 1000 +
	    (int64_t)off * 60);
	if (gmtime_r(&t, &tm) == NULL) {
		(void)snprintf(buf, size, "?");
		return buf;
	}
	n = snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, off < 0 ? '-' : '+', abs(off) / 60,
	    abs(off) % 60);
	if (n < 0 || (size_t)n >= size)
		(void)snprintf(buf, size, "?");
	return buf;
}

int
warning_identifier(const char *root, int64_t now_ms, int off,
    const char *rand, char *buf, size_t size)
{
	struct tm tm;
	time_t t;
	int n;

	t = (time_t)(now_ms / 1000 + (int64_t)off * 60);
	if (gmtime_r(&t, &tm) == NULL)
		return ENG_EINVAL;
	if (rand == NULL || rand[0] == '\0' ||
	    strspn(rand, "0123456789abcdefghijklmnopqrstuvwxyz") !=
	    strlen(rand))
		return ENG_EINVAL;
	n = snprintf(buf, size, "%s-%04d%02d%02d%02d%02d%02d-%s", root,
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, rand);
	return n < 0 || (size_t)n >= size ? ENG_EINVAL : 0;
}

/* ------------------------------------------------------------------ */
/* The form                                                            */
/* ------------------------------------------------------------------ */

static int bad(struct diag_list *e, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* One error about field: "field: message", path field. */
static int
bad(struct diag_list *e, const char *field, const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	(void)diag_add(e, DIAG_ERROR, NULL, 0, field, "%s: %s", field, msg);
	return ENG_EINVAL;
}

/*
 * What a text must not contain, or NULL: control characters other than
 * \n, \t and \r (multiline), and the two code points XML 1.0 cannot carry
 * at all, U+FFFE and U+FFFF (the text goes into CAP XML, whose parser
 * would refuse the whole message).  s is valid UTF-8 (jansson's), so
 * their bytes EF BF BE / EF BF BF are found as they are.
 */
static const char *
text_bad(const char *s, int multiline)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == 0x7f)
			return "must not contain control characters";
		if (*p < 0x20 && !(multiline && (*p == '\n' || *p == '\t' ||
		    *p == '\r')))
			return "must not contain control characters";
		if (p[0] == 0xef && p[1] == 0xbf &&
		    (p[2] == 0xbe || p[2] == 0xbf))
			return "must not contain U+FFFE or U+FFFF (not "
			    "characters in XML)";
	}
	return NULL;
}

static int
blank(const char *s)
{
	return s[strspn(s, " \t\r\n")] == '\0';
}

/* A string member into *out (replacing it).  max bytes; required: not
 * blank.  Returns 0 or ENG_EINVAL (reported) or ENG_ENOMEM. */
static int
get_text(json_t *v, const char *field, size_t max, int multiline,
    int required, char **out, struct diag_list *e)
{
	const char *s, *why;
	char lim[32];

	if (!json_is_string(v))
		return bad(e, field, "must be a string");
	s = json_string_value(v);
	if (json_string_length(v) != strlen(s))
		return bad(e, field, "must not contain NUL characters");
	if (strlen(s) > max) {
		(void)snprintf(lim, sizeof(lim), "%zu", max);
		return bad(e, field, "is longer than %s bytes", lim);
	}
	if (required && blank(s))
		return bad(e, field, "must not be empty");
	if ((why = text_bad(s, multiline)) != NULL)
		return bad(e, field, "%s", why);
	free(*out);
	*out = NULL;
	if (blank(s) && !required)
		return 0;		/* "" clears an optional text */
	if ((*out = strdup(s)) == NULL)
		return ENG_ENOMEM;
	return 0;
}

static int
enum_of(const char *s, const char *(*name)(int), int lo, int hi)
{
	int i;

	for (i = lo; i <= hi; i++)
		if (name(i) != NULL && strcmp(s, name(i)) == 0)
			return i;
	return 0;
}

static const char *
sev_name(int v)
{
	return cap_severity_name((enum cap_severity)v);
}

static const char *
urg_name(int v)
{
	return cap_urgency_name((enum cap_urgency)v);
}

static const char *
cert_name(int v)
{
	return cap_certainty_name((enum cap_certainty)v);
}

/* "+6h" (s, m, h, d) from now, or a CAP/RFC 3339 time. */
static int
get_time(json_t *v, const char *field, int64_t now, int64_t *out,
    struct diag_list *e)
{
	struct cap_time t;
	const char *s, *problem = NULL;
	long long n, unit;
	char *end;

	if (!json_is_string(v))
		return bad(e, field, "must be a string (RFC 3339 time or +6h)");
	s = json_string_value(v);
	if (s[0] == '+') {
		if (s[1] < '0' || s[1] > '9')
			return bad(e, field, "\"%s\" is not a duration like "
			    "+6h, +30m, +2d", s);
		errno = 0;
		n = strtoll(s + 1, &end, 10);
		switch (*end) {
		case 's':
			unit = 1000;
			break;
		case 'm':
			unit = 60 * 1000;
			break;
		case 'h':
			unit = 3600 * 1000;
			break;
		case 'd':
			unit = 24 * 3600 * 1000;
			break;
		default:
			unit = 0;
		}
		if (errno != 0 || unit == 0 || end[1] != '\0' ||
		    n > WARNING_MAX_DURATION_MS / unit)
			return bad(e, field, "\"%.40s\" is not a duration like "
			    "+6h, +30m, +2d (at most 30 days)", s);
		*out = now + n * unit;
		return 0;
	}
	memset(&t, 0, sizeof(t));
	if (strlen(s) > 40 || cap_time_parse(s, &t, &problem) < 0 ||
	    !t.valid)
		return bad(e, field, "\"%.40s\" is not a time like "
		    "2026-07-15T18:00:00+08:00 or +6h", s);
	if (!t.has_offset)
		return bad(e, field, "\"%.40s\" needs a UTC offset "
		    "(+08:00)", s);
	*out = t.ms;
	return 0;
}

static int
get_regions(json_t *v, struct warning *w, struct diag_list *e)
{
	char field[32], code[REGION_CODE_SIZE];
	struct eng_errbuf eb;
	const char *s;
	size_t i, j, n;
	int rv = 0;

	if (!json_is_array(v))
		return bad(e, "regions", "must be an array of division "
		    "codes");
	n = json_array_size(v);
	if (n > WARNING_MAX_REGIONS)
		return bad(e, "regions", "more than 200 regions");
	free(w->regions);
	w->nregions = 0;
	if ((w->regions = calloc(n ? n : 1, sizeof(*w->regions))) == NULL)
		return ENG_ENOMEM;
	for (i = 0; i < n; i++) {
		json_t *x = json_array_get(v, i);

		(void)snprintf(field, sizeof(field), "regions[%zu]", i);
		eng_errbuf_init(&eb);
		if (!json_is_string(x)) {
			rv = bad(e, field, "must be a string");
			continue;
		}
		s = json_string_value(x);
		if (strlen(s) > 20 || region_code_norm(s, strlen(s), code,
		    &eb) != 0) {
			rv = bad(e, field, "\"%.20s\" is not a division code "
			    "(6, 9 or 12 digits)", s);
			continue;
		}
		for (j = 0; j < w->nregions; j++)
			if (strcmp(w->regions[j], code) == 0)
				break;
		if (j == w->nregions)
			memcpy(w->regions[w->nregions++], code, sizeof(code));
	}
	return rv;
}

static int
get_polygon(json_t *v, struct warning *w, struct diag_list *e)
{
	char field[32];
	size_t i, n;
	int rv = 0;

	if (!json_is_array(v))
		return bad(e, "polygon", "must be an array of [lat, lon]");
	n = json_array_size(v);
	if (n > WARNING_MAX_POINTS)
		return bad(e, "polygon", "more than 200 points");
	if (n < 3)
		return bad(e, "polygon", "needs at least 3 points");
	free(w->polygon);
	w->npoints = 0;
	if ((w->polygon = calloc(n + 1, sizeof(*w->polygon))) == NULL)
		return ENG_ENOMEM;
	for (i = 0; i < n; i++) {
		json_t *x = json_array_get(v, i);
		double lat, lon;

		(void)snprintf(field, sizeof(field), "polygon[%zu]", i);
		if (!json_is_array(x) || json_array_size(x) != 2 ||
		    !json_is_number(json_array_get(x, 0)) ||
		    !json_is_number(json_array_get(x, 1))) {
			rv = bad(e, field, "must be [lat, lon]");
			continue;
		}
		lat = json_number_value(json_array_get(x, 0));
		lon = json_number_value(json_array_get(x, 1));
		if (!isfinite(lat) || !isfinite(lon) || lat < -90 ||
		    lat > 90 || lon < -180 || lon > 180) {
			rv = bad(e, field, "is outside -90..90, -180..180");
			continue;
		}
		w->polygon[w->npoints].lat = lat;
		w->polygon[w->npoints].lon = lon;
		w->npoints++;
	}
	if (rv == 0 && (w->polygon[0].lat != w->polygon[n - 1].lat ||
	    w->polygon[0].lon != w->polygon[n - 1].lon))
		w->polygon[w->npoints++] = w->polygon[0];	/* close it */
	if (rv == 0 && w->npoints < 4)
		return bad(e, "polygon", "needs at least 3 distinct "
		    "points");
	return rv;
}

static int
is_key(const char *k, const char *const *keys)
{
	size_t i;

	for (i = 0; keys[i] != NULL; i++)
		if (strcmp(k, keys[i]) == 0)
			return 1;
	return 0;
}

int
warning_parse(const char *buf, size_t len, int kind, int64_t now,
    struct warning *w, struct diag_list *e)
{
	static const char *const form_keys[] = {
		"event", "colour", "color", "severity", "urgency",
		"certainty", "headline", "description", "instruction",
		"regions", "polygon", "onset", "expires", "language",
		"status", "category", "sender_name", "dry_run", NULL
	};
	static const char *const cancel_keys[] = {
		"reason", "dry_run", NULL
	};
	json_error_t je;
	json_t *o, *v;
	const char *k, *s;
	size_t e0 = e->nerrors;
	int rv, c, sev = 0, colour = 0, i;

	if (len > WARNING_BODY_MAX)
		return bad(e, "body", "is larger than 65536 bytes");
	o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (o == NULL) {
		char msg[200];

		(void)snprintf(msg, sizeof(msg), "is not JSON: %s (line %d)",
		    je.text, je.line);
		return bad(e, "body", "%s", msg);
	}
	if (!json_is_object(o)) {
		json_decref(o);
		return bad(e, "body", "must be a JSON object");
	}
	rv = 0;
	json_object_foreach(o, k, v) {
		if (!is_key(k, kind == 'C' ? cancel_keys : form_keys)) {
			char f[40];

			(void)snprintf(f, sizeof(f), "%.32s", k);
			bad(e, f, "is not a field of this form");
			continue;
		}
		if (strcmp(k, "dry_run") == 0) {
			if (!json_is_boolean(v))
				bad(e, k, "must be true or false");
			else
				w->dry_run = json_is_true(v);
		} else if (strcmp(k, "reason") == 0) {
			if ((rv = get_text(v, k, WARNING_REASON_MAX, 1, 0,
			    &w->reason, e)) == 0)
				w->given |= WARNING_F_REASON;
		} else if (strcmp(k, "event") == 0) {
			if ((rv = get_text(v, k, WARNING_EVENT_MAX, 0, 1,
			    &w->event, e)) == 0)
				w->given |= WARNING_F_EVENT;
		} else if (strcmp(k, "colour") == 0 ||
		    strcmp(k, "color") == 0) {
			if (!json_is_string(v) || (c = warning_colour_parse(
			    json_string_value(v))) <= 0)
				bad(e, "colour", "must be blue, yellow, orange "
				    "or red");
			else
				colour = c;
		} else if (strcmp(k, "severity") == 0) {
			if (!json_is_string(v) || (sev = enum_of(
			    json_string_value(v), sev_name, CAP_SEV_EXTREME,
			    CAP_SEV_UNKNOWN)) == 0)
				bad(e, k, "must be Extreme, Severe, Moderate, "
				    "Minor or Unknown");
		} else if (strcmp(k, "urgency") == 0) {
			if (!json_is_string(v) || (i = enum_of(
			    json_string_value(v), urg_name, CAP_URG_IMMEDIATE,
			    CAP_URG_UNKNOWN)) == 0)
				bad(e, k, "must be Immediate, Expected, Future, "
				    "Past or Unknown");
			else {
				w->urgency = i;
				w->given |= WARNING_F_URGENCY;
			}
		} else if (strcmp(k, "certainty") == 0) {
			if (!json_is_string(v) || (i = enum_of(
			    json_string_value(v), cert_name, CAP_CERT_OBSERVED,
			    CAP_CERT_UNKNOWN)) == 0)
				bad(e, k, "must be Observed, Likely, Possible, "
				    "Unlikely or Unknown");
			else {
				w->certainty = i;
				w->given |= WARNING_F_CERTAINTY;
			}
		} else if (strcmp(k, "headline") == 0) {
			if ((rv = get_text(v, k, WARNING_HEADLINE_MAX, 0, 1,
			    &w->headline, e)) == 0)
				w->given |= WARNING_F_HEADLINE;
		} else if (strcmp(k, "description") == 0) {
			if ((rv = get_text(v, k, WARNING_DESCRIPTION_MAX, 1, 0,
			    &w->description, e)) == 0)
				w->given |= WARNING_F_DESCRIPTION;
		} else if (strcmp(k, "instruction") == 0) {
			if ((rv = get_text(v, k, WARNING_INSTRUCTION_MAX, 1, 0,
			    &w->instruction, e)) == 0)
				w->given |= WARNING_F_INSTRUCTION;
		} else if (strcmp(k, "sender_name") == 0) {
			if ((rv = get_text(v, k, WARNING_SENDER_NAME_MAX, 0, 0,
			    &w->sender_name, e)) == 0)
				w->given |= WARNING_F_SENDER_NAME;
		} else if (strcmp(k, "regions") == 0) {
			if ((rv = get_regions(v, w, e)) == 0)
				w->given |= WARNING_F_AREA;
		} else if (strcmp(k, "polygon") == 0) {
			if ((rv = get_polygon(v, w, e)) == 0)
				w->given |= WARNING_F_AREA;
		} else if (strcmp(k, "onset") == 0) {
			if ((rv = get_time(v, k, now, &w->onset_ms, e)) == 0)
				w->given |= WARNING_F_ONSET;
		} else if (strcmp(k, "expires") == 0) {
			if ((rv = get_time(v, k, now, &w->expires_ms, e)) == 0)
				w->given |= WARNING_F_EXPIRES;
		} else if (strcmp(k, "language") == 0) {
			s = json_string_value(v);
			if (s == NULL || (strcmp(s, "zh-CN") != 0 &&
			    strcmp(s, "en") != 0))
				bad(e, k, "must be zh-CN or en");
			else {
				free(w->language);
				if ((w->language = strdup(s)) == NULL)
					rv = ENG_ENOMEM;
				w->given |= WARNING_F_LANGUAGE;
			}
		} else if (strcmp(k, "status") == 0) {
			s = json_string_value(v);
			if (s != NULL && strcmp(s, "Actual") == 0)
				w->status = CAP_STATUS_ACTUAL;
			else if (s != NULL && strcmp(s, "Exercise") == 0)
				w->status = CAP_STATUS_EXERCISE;
			else {
				bad(e, k, "must be Actual or Exercise");
				continue;
			}
			w->given |= WARNING_F_STATUS;
		} else if (strcmp(k, "category") == 0) {
			s = json_string_value(v);
			if (s == NULL || !is_key(s, categories))
				bad(e, k, "must be one of Geo, Met, Safety, "
				    "Security, Rescue, Fire, Health, Env, "
				    "Transport, Infra, CBRNE, Other");
			else {
				free(w->category);
				if ((w->category = strdup(s)) == NULL)
					rv = ENG_ENOMEM;
				w->given |= WARNING_F_CATEGORY;
			}
		}
		if (rv == ENG_ENOMEM)
			break;
		rv = 0;
	}
	json_decref(o);
	if (rv == ENG_ENOMEM)
		return rv;

	/* Colour and severity: one says the other; both must agree. */
	if (colour != 0 && sev != 0 && cap_severity_color(
	    (enum cap_severity)sev, CAP_COLOR_NONE) != (enum cap_color)colour)
		bad(e, "severity", "%s does not match the colour given",
		    sev_name(sev));
	else if (colour != 0 || sev != 0) {
		w->colour = colour ? colour : (int)cap_severity_color(
		    (enum cap_severity)sev, CAP_COLOR_NONE);
		w->severity = sev ? sev : (int)(CAP_SEV_MINOR - colour + 1);
		w->given |= WARNING_F_COLOUR;
	}

	if (kind == 'A') {
		if (!(w->given & WARNING_F_EVENT) && e->nerrors == e0)
			bad(e, "event", "is required");
		if (!(w->given & WARNING_F_HEADLINE) && e->nerrors == e0)
			bad(e, "headline", "is required");
		if (colour == 0 && sev == 0 && e->nerrors == e0)
			bad(e, "colour", "is required (blue, yellow, orange, "
			    "red), or severity");
		if (!(w->given & WARNING_F_AREA) && e->nerrors == e0)
			bad(e, "regions", "is required (division codes), or "
			    "polygon");
		if (!(w->given & WARNING_F_EXPIRES) && e->nerrors == e0)
			bad(e, "expires", "is required (RFC 3339 or +6h)");
		/* The defaults of a new warning. */
		if (!(w->given & WARNING_F_URGENCY))
			w->urgency = CAP_URG_EXPECTED;
		if (!(w->given & WARNING_F_CERTAINTY))
			w->certainty = CAP_CERT_LIKELY;
		if (!(w->given & WARNING_F_STATUS))
			w->status = CAP_STATUS_ACTUAL;
		if (w->language == NULL &&
		    (w->language = strdup("zh-CN")) == NULL)
			return ENG_ENOMEM;
		if (w->category == NULL &&
		    (w->category = strdup("Met")) == NULL)
			return ENG_ENOMEM;
	}
	return e->nerrors > e0 ? ENG_EINVAL : 0;
}

static int
dup_or_null(const char *s, char **out)
{
	*out = NULL;
	if (s == NULL)
		return 0;
	return (*out = strdup(s)) == NULL ? ENG_ENOMEM : 0;
}

int
warning_from_cap(const struct cap_alert *a, const char *lang,
    struct warning *w, struct eng_errbuf *eb)
{
	const struct cap_info *in = cap_alert_pick_info(a, lang);
	char code[REGION_CODE_SIZE];
	struct eng_errbuf tmp;
	size_t i, j, n = 0;
	int rv = 0;

	warning_init(w);
	if (in == NULL)
		return eng_error(eb, ENG_EINVAL, "the message has no info to "
		    "update");
	w->given = ~0u & ~(unsigned)WARNING_F_REASON;
	w->status = (int)a->status;
	w->severity = (int)in->severity;
	w->colour = (int)cap_severity_color(in->severity, CAP_COLOR_NONE);
	if (w->colour == CAP_COLOR_NONE) {
		int type;
		enum cap_color cc;

		if (cap_info_cma_signal(in, NULL, &type, &cc) == 0)
			w->colour = (int)cc;
	}
	w->urgency = (int)in->urgency;
	w->certainty = (int)in->certainty;
	w->onset_ms = in->onset.valid ? in->onset.ms : 0;
	w->expires_ms = in->expires.valid ? in->expires.ms : 0;
	if (dup_or_null(in->event, &w->event) != 0 ||
	    dup_or_null(in->headline, &w->headline) != 0 ||
	    dup_or_null(in->description, &w->description) != 0 ||
	    dup_or_null(in->instruction, &w->instruction) != 0 ||
	    dup_or_null(in->sender_name, &w->sender_name) != 0 ||
	    dup_or_null(cap_info_language(in), &w->language) != 0 ||
	    dup_or_null(in->ncategories ? in->categories[0] : "Met",
	    &w->category) != 0)
		goto nomem;
	for (i = 0; i < in->nareas; i++)
		n += in->areas[i].ngeocodes;
	if ((w->regions = calloc(n ? n : 1, sizeof(*w->regions))) == NULL)
		goto nomem;
	for (i = 0; i < in->nareas; i++) {
		const struct cap_area *ar = &in->areas[i];

		for (j = 0; j < ar->ngeocodes; j++) {
			const char *v = ar->geocodes[j].value;

			eng_errbuf_init(&tmp);
			if (ar->geocodes[j].name == NULL || v == NULL ||
			    strcmp(ar->geocodes[j].name, "GB/T 2260") != 0 ||
			    region_code_norm(v, strlen(v), code, &tmp) != 0)
				continue;
			memcpy(w->regions[w->nregions++], code, sizeof(code));
		}
		if (w->polygon == NULL && ar->npolygons > 0) {
			const struct cap_polygon *p = &ar->polygons[0];

			if ((w->polygon = calloc(p->npts + 1,
			    sizeof(*w->polygon))) == NULL)
				goto nomem;
			for (j = 0; j < p->npts; j++) {
				w->polygon[j].lat = p->pts[j].lat;
				w->polygon[j].lon = p->pts[j].lon;
			}
			w->npoints = p->npts;
		}
	}
	return rv;
nomem:
	warning_release(w);
	return eng_error(eb, ENG_ENOMEM, "out of memory");
}

static int
replace_str(char **dst, const char *src)
{
	char *c = NULL;

	if (src != NULL && (c = strdup(src)) == NULL)
		return ENG_ENOMEM;
	free(*dst);
	*dst = c;
	return 0;
}

int
warning_merge(struct warning *b, const struct warning *c)
{
	unsigned g = c->given;

	if (((g & WARNING_F_EVENT) && replace_str(&b->event, c->event)) ||
	    ((g & WARNING_F_HEADLINE) &&
	    replace_str(&b->headline, c->headline)) ||
	    ((g & WARNING_F_DESCRIPTION) &&
	    replace_str(&b->description, c->description)) ||
	    ((g & WARNING_F_INSTRUCTION) &&
	    replace_str(&b->instruction, c->instruction)) ||
	    ((g & WARNING_F_SENDER_NAME) &&
	    replace_str(&b->sender_name, c->sender_name)) ||
	    ((g & WARNING_F_LANGUAGE) &&
	    replace_str(&b->language, c->language)) ||
	    ((g & WARNING_F_CATEGORY) &&
	    replace_str(&b->category, c->category)) ||
	    ((g & WARNING_F_REASON) && replace_str(&b->reason, c->reason)))
		return ENG_ENOMEM;
	if (g & WARNING_F_COLOUR) {
		b->colour = c->colour;
		b->severity = c->severity;
	}
	if (g & WARNING_F_URGENCY)
		b->urgency = c->urgency;
	if (g & WARNING_F_CERTAINTY)
		b->certainty = c->certainty;
	if (g & WARNING_F_ONSET)
		b->onset_ms = c->onset_ms;
	if (g & WARNING_F_EXPIRES)
		b->expires_ms = c->expires_ms;
	if (g & WARNING_F_STATUS)
		b->status = c->status;
	if (g & WARNING_F_AREA) {
		/* The area is replaced whole: regions and polygon. */
		free(b->regions);
		free(b->polygon);
		b->regions = NULL;
		b->polygon = NULL;
		b->nregions = b->npoints = 0;
		if (c->nregions > 0) {
			if ((b->regions = calloc(c->nregions,
			    sizeof(*b->regions))) == NULL)
				return ENG_ENOMEM;
			memcpy(b->regions, c->regions,
			    c->nregions * sizeof(*b->regions));
			b->nregions = c->nregions;
		}
		if (c->npoints > 0) {
			if ((b->polygon = calloc(c->npoints,
			    sizeof(*b->polygon))) == NULL)
				return ENG_ENOMEM;
			memcpy(b->polygon, c->polygon,
			    c->npoints * sizeof(*b->polygon));
			b->npoints = c->npoints;
		}
	}
	b->given |= g;
	b->dry_run = c->dry_run;
	return 0;
}

int
warning_check(const struct warning *w, int64_t now, struct diag_list *e)
{
	size_t e0 = e->nerrors;
	char t1[40];

	if (w->colour < CAP_COLOR_BLUE || w->colour > CAP_COLOR_RED)
		bad(e, "colour", "is required (blue, yellow, orange, red)");
	if (w->event == NULL)
		bad(e, "event", "is required");
	if (w->headline == NULL)
		bad(e, "headline", "is required");
	if (w->nregions == 0 && w->npoints == 0)
		bad(e, "regions", "is required (division codes), or "
		    "polygon");
	if (w->expires_ms == 0)
		bad(e, "expires", "is required (RFC 3339 or +6h)");
	else if (w->expires_ms <= now)
		bad(e, "expires", "%s is in the past", warning_fmt_time(
		    w->expires_ms, 0, t1, sizeof(t1)));
	else if (w->expires_ms - now > WARNING_MAX_DURATION_MS)
		bad(e, "expires", "%s is more than 30 days ahead",
		    warning_fmt_time(w->expires_ms, 0, t1, sizeof(t1)));
	if (w->onset_ms != 0 && w->expires_ms != 0 &&
	    w->expires_ms <= w->onset_ms)
		bad(e, "expires", "is not after onset (%s)", warning_fmt_time(
		    w->onset_ms, 0, t1, sizeof(t1)));
	return e->nerrors > e0 ? ENG_EINVAL : 0;
}

/* ------------------------------------------------------------------ */
/* The CAP message                                                     */
/* ------------------------------------------------------------------ */

static int
set_time(struct cap_time *t, int64_t ms, int off)
{
	char buf[40];

	t->ms = ms - (((ms % 1000) + 1000) % 1000);
	t->valid = 1;
	t->has_offset = 1;
	t->offset_min = off;
	return (t->text = strdup(warning_fmt_time(ms, off, buf,
	    sizeof(buf)))) == NULL ? ENG_ENOMEM : 0;
}

static int
add_pair(struct cap_pair **v, size_t *n, const char *name,
    const char *value)
{
	struct cap_pair *nv;

	if ((nv = realloc(*v, (*n + 1) * sizeof(**v))) == NULL)
		return ENG_ENOMEM;
	*v = nv;
	nv[*n].name = strdup(name);
	nv[*n].value = strdup(value);
	(*n)++;
	return nv[*n - 1].name == NULL || nv[*n - 1].value == NULL ?
	    ENG_ENOMEM : 0;
}

static int
sdup(char **dst, const char *s)
{
	return dup_or_null(s, dst);
}

/* One "sender,identifier,sent" into r; ENG_EINVAL if malformed. */
static int
parse_ref(const char *s, struct cap_ref *r)
{
	const char *c1, *c2, *problem;
	size_t n1, n2;

	c1 = strchr(s, ',');
	c2 = c1 ? strchr(c1 + 1, ',') : NULL;
	if (c1 == NULL || c2 == NULL || strchr(c2 + 1, ',') != NULL ||
	    strchr(s, ' ') != NULL || c1 == s || c2 == c1 + 1)
		return ENG_EINVAL;
	n1 = (size_t)(c1 - s);
	n2 = (size_t)(c2 - c1 - 1);
	if ((r->sender = strndup(s, n1)) == NULL ||
	    (r->identifier = strndup(c1 + 1, n2)) == NULL ||
	    (r->sent.text = strdup(c2 + 1)) == NULL)
		return ENG_ENOMEM;
	if (cap_time_parse(r->sent.text, &r->sent, &problem) < 0)
		return ENG_EINVAL;
	return 0;
}

int
warning_build(const struct warning *w, const struct warning_msg *m,
    struct cap_alert **out, struct eng_errbuf *eb)
{
	struct cap_alert *a;
	struct cap_info *in;
	struct cap_area *ar;
	size_t i, len;
	char code[24], *p;
	int rv = ENG_ENOMEM, type, cancel;

	*out = NULL;
	if (m->sender == NULL || m->sender[0] == '\0' ||
	    m->identifier == NULL || m->identifier[0] == '\0')
		return eng_error(eb, ENG_EINVAL, "a message needs a sender "
		    "and an identifier");
	if (strpbrk(m->sender, " ,<&") != NULL ||
	    strpbrk(m->identifier, " ,<&") != NULL)
		return eng_error(eb, ENG_EINVAL, "sender and identifier must "
		    "not contain spaces, commas, < or &");
	if (m->msg_type != CAP_MSG_ALERT && m->nrefs == 0)
		return eng_error(eb, ENG_EINVAL, "%s needs references",
		    m->msg_type == CAP_MSG_UPDATE ? "an Update" :
		    m->msg_type == CAP_MSG_CANCEL ? "a Cancel" :
		    "this message type");
	cancel = m->msg_type == CAP_MSG_CANCEL;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return eng_error(eb, ENG_ENOMEM, "out of memory");
	a->version = CAP_V12;
	a->status = (enum cap_status)(w->status ? w->status :
	    CAP_STATUS_ACTUAL);
	a->msg_type = (enum cap_msgtype)m->msg_type;
	a->scope = CAP_SCOPE_PUBLIC;
	if (sdup(&a->identifier, m->identifier) || sdup(&a->sender,
	    m->sender) || set_time(&a->sent, m->sent_ms, m->utc_offset_min))
		goto fail;
	if (cancel && w->reason != NULL && sdup(&a->note, w->reason))
		goto fail;
	if (m->nrefs > 0) {
		if ((a->refs = calloc(m->nrefs, sizeof(*a->refs))) == NULL)
			goto fail;
		for (i = 0, len = 1; i < m->nrefs; i++) {
			a->nrefs++;
			if ((rv = parse_ref(m->refs[i], &a->refs[i])) != 0) {
				if (rv == ENG_EINVAL)
					(void)eng_error(eb, rv, "reference "
					    "\"%.200s\" is not sender,"
					    "identifier,sent", m->refs[i]);
				goto fail;
			}
			len += strlen(m->refs[i]) + 1;
		}
		rv = ENG_ENOMEM;
		if ((a->references = malloc(len)) == NULL)
			goto fail;
		for (i = 0, p = a->references; i < m->nrefs; i++) {
			len = strlen(m->refs[i]);
			if (i > 0)
				*p++ = ' ';
			memcpy(p, m->refs[i], len);
			p += len;
		}
		*p = '\0';
	}

	if ((a->infos = calloc(1, sizeof(*a->infos))) == NULL)
		goto fail;
	a->ninfos = 1;
	in = &a->infos[0];
	in->urgency = (enum cap_urgency)(w->urgency ? w->urgency :
	    CAP_URG_EXPECTED);
	in->certainty = (enum cap_certainty)(w->certainty ? w->certainty :
	    CAP_CERT_LIKELY);
	in->severity = (enum cap_severity)(w->severity ? w->severity :
	    (w->colour ? CAP_SEV_MINOR - w->colour + 1 : CAP_SEV_UNKNOWN));
	if (cancel)
		in->urgency = CAP_URG_PAST;
	if (sdup(&in->language, w->language ? w->language : "zh-CN") ||
	    sdup(&in->event, w->event))
		goto fail;
	if ((in->categories = calloc(1, sizeof(char *))) == NULL)
		goto fail;
	in->ncategories = 1;
	if (sdup(&in->categories[0], w->category ? w->category : "Met"))
		goto fail;
	type = warning_cma_type(w->event);
	if (type > 0 && w->colour >= CAP_COLOR_BLUE &&
	    w->colour <= CAP_COLOR_RED) {
		(void)snprintf(code, sizeof(code), "%02d%02d", type,
		    w->colour);
		if (add_pair(&in->event_codes, &in->nevent_codes,
		    "CMA_SIGNAL", code))
			goto fail;
	}
	if (w->onset_ms != 0 && set_time(&in->onset, w->onset_ms,
	    m->utc_offset_min))
		goto fail;
	if (w->expires_ms != 0 && set_time(&in->expires, w->expires_ms,
	    m->utc_offset_min))
		goto fail;
	if (sdup(&in->sender_name, w->sender_name))
		goto fail;
	if (cancel) {
		/* The headline as it was (the templates say 解除); the
		 * reason, or a plain sentence, as the description. */
		int zh = w->language == NULL || strncmp(w->language, "zh",
		    2) == 0;

		if (sdup(&in->headline, w->headline) ||
		    sdup(&in->description, w->reason ? w->reason : zh ?
		    "预警解除。" : "The warning is cancelled."))
			goto fail;
	} else if (sdup(&in->headline, w->headline) ||
	    sdup(&in->description, w->description) ||
	    sdup(&in->instruction, w->instruction))
		goto fail;

	if ((in->areas = calloc(1, sizeof(*in->areas))) == NULL)
		goto fail;
	in->nareas = 1;
	ar = &in->areas[0];
	if (m->area_desc != NULL && m->area_desc[0] != '\0') {
		if (sdup(&ar->desc, m->area_desc))
			goto fail;
	} else {
		size_t dl = w->nregions * (REGION_CODE_SIZE + 1) + 16, o = 0;

		if ((ar->desc = malloc(dl)) == NULL)
			goto fail;
		for (i = 0; i < w->nregions; i++) {
			if (i > 0)
				ar->desc[o++] = ' ';
			len = strlen(w->regions[i]);
			memcpy(ar->desc + o, w->regions[i], len);
			o += len;
		}
		ar->desc[o] = '\0';
		if (w->nregions == 0)
			(void)snprintf(ar->desc, dl, "polygon");
	}
	if (w->npoints > 0) {
		if ((ar->polygons = calloc(1, sizeof(*ar->polygons))) == NULL)
			goto fail;
		ar->npolygons = 1;
		if ((ar->polygons[0].pts = calloc(w->npoints,
		    sizeof(struct cap_point))) == NULL)
			goto fail;
		for (i = 0; i < w->npoints; i++) {
			ar->polygons[0].pts[i].lat = w->polygon[i].lat;
			ar->polygons[0].pts[i].lon = w->polygon[i].lon;
		}
		ar->polygons[0].npts = w->npoints;
	}
	for (i = 0; i < w->nregions; i++)
		if (add_pair(&ar->geocodes, &ar->ngeocodes, "GB/T 2260",
		    w->regions[i]))
			goto fail;
	*out = a;
	return 0;
fail:
	cap_alert_free(a);
	if (rv == ENG_ENOMEM)
		return eng_error(eb, ENG_ENOMEM, "out of memory");
	return rv;
}

int
warning_to_xml(const struct warning *w, const struct warning_msg *m,
    char **xml, size_t *len, struct eng_errbuf *eb)
{
	struct cap_alert *a;
	int rv;

	*xml = NULL;
	*len = 0;
	if ((rv = warning_build(w, m, &a, eb)) != 0)
		return rv;
	rv = cap_alert_to_xml(a, xml, len, eb);
	cap_alert_free(a);
	return rv;
}
