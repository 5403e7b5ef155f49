/*
 * cap/write.c - serialise the model as a CAP 1.2 document.
 *
 * Written by hand into a growing buffer (no libxml2 tree): the model is
 * flat and the escaping rules for element content are short.  Enumerated
 * fields left INVALID by a lenient parse are omitted.
 */
#include "cap/cap.h"
#include "cap/cap_int.h"
#include "engine/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sb {
	char *p;
	size_t n;
	size_t cap;
	int err;
};

static void
sb_add(struct sb *b, const char *s, size_t n)
{
	size_t nc;
	char *np;

	if (b->err)
		return;
	if (b->n + n + 1 > b->cap) {
		nc = b->cap ? b->cap : 4096;
		while (nc < b->n + n + 1)
			nc *= 2;
		if ((np = realloc(b->p, nc)) == NULL) {
			b->err = 1;
			return;
		}
		b->p = np;
		b->cap = nc;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static void
sb_str(struct sb *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static void
sb_esc(struct sb *b, const char *s)
{
	const char *p, *r;

	for (p = s; *p != '\0'; p++) {
		switch (*p) {
		case '&':
			r = "&amp;";
			break;
		case '<':
			r = "&lt;";
			break;
		case '>':
			r = "&gt;";
			break;
		case '\r':
			r = "&#13;";
			break;
		default:
			continue;
		}
		sb_add(b, s, (size_t)(p - s));
		sb_str(b, r);
		s = p + 1;
	}
	sb_add(b, s, (size_t)(p - s));
}

static void
indent(struct sb *b, int depth)
{
	static const char tabs[] = "\n\t\t\t\t\t\t\t\t";

	sb_add(b, tabs, (size_t)depth + 1 > sizeof(tabs) - 1 ?
	    sizeof(tabs) - 1 : (size_t)depth + 1);
}

static void
elem(struct sb *b, int depth, const char *name, const char *text)
{
	if (text == NULL)
		return;
	indent(b, depth);
	sb_str(b, "<");
	sb_str(b, name);
	sb_str(b, ">");
	sb_esc(b, text);
	sb_str(b, "</");
	sb_str(b, name);
	sb_str(b, ">");
}

static void
open_tag(struct sb *b, int depth, const char *name)
{
	indent(b, depth);
	sb_str(b, "<");
	sb_str(b, name);
	sb_str(b, ">");
}

static void
close_tag(struct sb *b, int depth, const char *name)
{
	indent(b, depth);
	sb_str(b, "</");
	sb_str(b, name);
	sb_str(b, ">");
}

/* The time as text: t->text when it was not readable, else buf. */
static const char *
fmt_time(const struct cap_time *t, char *buf, size_t size)
{
	int64_t local, days, secs;
	int64_t y, m, d, era, doe, yoe, doy, mp;
	int off, ms;
	char frac[8];

	if (!t->valid)
		return t->text;
	off = t->offset_min;
	local = t->ms + (int64_t)off * 60000;
	ms = (int)(((local % 1000) + 1000) % 1000);
	local -= ms;
	secs = local / 1000;
	days = secs / 86400;
	secs %= 86400;
	if (secs < 0) {
		secs += 86400;
		days--;
	}
	/* civil_from_days (H. Hinnant) */
	days += 719468;
	era = (days >= 0 ? days : days - 146096) / 146097;
	doe = days - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	/* CAP 1.2 has no fractional seconds; they are kept only when the
	 * source sent them (lenient), so that the time stays the same. */
	if (ms != 0)
		(void)snprintf(frac, sizeof(frac), ".%03d", ms);
	else
		frac[0] = '\0';
	(void)snprintf(buf, size, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld"
	    "%s%c%02d:%02d", (long long)y, (long long)m, (long long)d,
	    (long long)(secs / 3600), (long long)(secs / 60 % 60),
	    (long long)(secs % 60), frac, off < 0 ? '-' : '+',
	    (off < 0 ? -off : off) / 60, (off < 0 ? -off : off) % 60);
	return buf;
}

static void
time_elem(struct sb *b, int depth, const char *name, const struct cap_time *t)
{
	char buf[64];

	if (t->text == NULL)
		return;
	elem(b, depth, name, fmt_time(t, buf, sizeof(buf)));
}

static void
pairs(struct sb *b, int depth, const char *name, const struct cap_pair *p,
    size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		open_tag(b, depth, name);
		elem(b, depth + 1, "valueName", p[i].name);
		elem(b, depth + 1, "value", p[i].value);
		close_tag(b, depth, name);
	}
}

static void
point(struct sb *b, const struct cap_point *pt)
{
	char buf[64];

	cap_fmt_double(pt->lat, buf, sizeof(buf));
	sb_str(b, buf);
	sb_str(b, ",");
	cap_fmt_double(pt->lon, buf, sizeof(buf));
	sb_str(b, buf);
}

static void
area(struct sb *b, const struct cap_area *ar)
{
	char buf[64];
	size_t i, j;

	open_tag(b, 2, "area");
	elem(b, 3, "areaDesc", ar->desc);
	for (i = 0; i < ar->npolygons; i++) {
		open_tag(b, 3, "polygon");
		for (j = 0; j < ar->polygons[i].npts; j++) {
			if (j > 0)
				sb_str(b, " ");
			point(b, &ar->polygons[i].pts[j]);
		}
		sb_str(b, "</polygon>");
	}
	for (i = 0; i < ar->ncircles; i++) {
		open_tag(b, 3, "circle");
		point(b, &ar->circles[i].center);
		sb_str(b, " ");
		cap_fmt_double(ar->circles[i].radius_km, buf, sizeof(buf));
		sb_str(b, buf);
		sb_str(b, "</circle>");
	}
	pairs(b, 3, "geocode", ar->geocodes, ar->ngeocodes);
	if (ar->has_altitude) {
		cap_fmt_double(ar->altitude, buf, sizeof(buf));
		elem(b, 3, "altitude", buf);
	}
	if (ar->has_ceiling) {
		cap_fmt_double(ar->ceiling, buf, sizeof(buf));
		elem(b, 3, "ceiling", buf);
	}
	close_tag(b, 2, "area");
}

static void
info(struct sb *b, const struct cap_info *in)
{
	char buf[32];
	size_t i;

	open_tag(b, 1, "info");
	elem(b, 2, "language", in->language);
	for (i = 0; i < in->ncategories; i++)
		elem(b, 2, "category", in->categories[i]);
	elem(b, 2, "event", in->event);
	for (i = 0; i < in->nresponse_types; i++)
		elem(b, 2, "responseType", in->response_types[i]);
	elem(b, 2, "urgency", cap_urgency_name(in->urgency));
	elem(b, 2, "severity", cap_severity_name(in->severity));
	elem(b, 2, "certainty", cap_certainty_name(in->certainty));
	elem(b, 2, "audience", in->audience);
	pairs(b, 2, "eventCode", in->event_codes, in->nevent_codes);
	time_elem(b, 2, "effective", &in->effective);
	time_elem(b, 2, "onset", &in->onset);
	time_elem(b, 2, "expires", &in->expires);
	elem(b, 2, "senderName", in->sender_name);
	elem(b, 2, "headline", in->headline);
	elem(b, 2, "description", in->description);
	elem(b, 2, "instruction", in->instruction);
	elem(b, 2, "web", in->web);
	elem(b, 2, "contact", in->contact);
	pairs(b, 2, "parameter", in->parameters, in->nparameters);
	for (i = 0; i < in->nresources; i++) {
		const struct cap_resource *r = &in->resources[i];

		open_tag(b, 2, "resource");
		elem(b, 3, "resourceDesc", r->desc);
		elem(b, 3, "mimeType", r->mime_type);
		if (r->has_size) {
			(void)snprintf(buf, sizeof(buf), "%lld", r->size);
			elem(b, 3, "size", buf);
		}
		elem(b, 3, "uri", r->uri);
		elem(b, 3, "derefUri", r->deref_uri);
		elem(b, 3, "digest", r->digest);
		close_tag(b, 2, "resource");
	}
	for (i = 0; i < in->nareas; i++)
		area(b, &in->areas[i]);
	close_tag(b, 1, "info");
}

static void
references(struct sb *b, const struct cap_alert *a)
{
	char buf[64];
	size_t i;

	if (a->references == NULL)
		return;
	open_tag(b, 1, "references");
	for (i = 0; i < a->nrefs; i++) {
		if (i > 0)
			sb_str(b, " ");
		sb_esc(b, a->refs[i].sender);
		sb_str(b, ",");
		sb_esc(b, a->refs[i].identifier);
		sb_str(b, ",");
		sb_esc(b, fmt_time(&a->refs[i].sent, buf, sizeof(buf)));
	}
	sb_str(b, "</references>");
}

int
cap_alert_to_xml(const struct cap_alert *a, char **out, size_t *outlen,
    struct eng_errbuf *eb)
{
	struct sb b = { NULL, 0, 0, 0 };
	size_t i;

	*out = NULL;
	*outlen = 0;
	if (a->identifier == NULL || a->sender == NULL || a->sent.text == NULL)
		return eng_error(eb, ENG_EINVAL, "alert without identity");
	sb_str(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\">");
	elem(&b, 1, "identifier", a->identifier);
	elem(&b, 1, "sender", a->sender);
	time_elem(&b, 1, "sent", &a->sent);
	elem(&b, 1, "status", cap_status_name(a->status));
	elem(&b, 1, "msgType", cap_msgtype_name(a->msg_type));
	elem(&b, 1, "source", a->source);
	elem(&b, 1, "scope", cap_scope_name(a->scope));
	elem(&b, 1, "restriction", a->restriction);
	elem(&b, 1, "addresses", a->addresses);
	for (i = 0; i < a->ncodes; i++)
		elem(&b, 1, "code", a->codes[i]);
	elem(&b, 1, "note", a->note);
	references(&b, a);
	elem(&b, 1, "incidents", a->incidents);
	for (i = 0; i < a->ninfos; i++)
		info(&b, &a->infos[i]);
	sb_str(&b, "\n</alert>\n");
	if (b.err) {
		free(b.p);
		return eng_error(eb, ENG_ENOMEM, "out of memory writing CAP");
	}
	*out = b.p;
	*outlen = b.n;
	return 0;
}
