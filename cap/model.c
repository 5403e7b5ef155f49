/*
 * cap/model.c - the CAP model: enumeration names, freeing, comparison.
 */
#include "cap/cap.h"
#include "cap/cap_int.h"
#include "engine/err.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *const cap_status_names[] = { NULL, "Actual", "Exercise",
    "System", "Test", "Draft", NULL };
const char *const cap_msgtype_names[] = { NULL, "Alert", "Update", "Cancel",
    "Ack", "Error", NULL };
const char *const cap_scope_names[] = { NULL, "Public", "Restricted",
    "Private", NULL };
const char *const cap_urgency_names[] = { NULL, "Immediate", "Expected",
    "Future", "Past", "Unknown", NULL };
const char *const cap_severity_names[] = { NULL, "Extreme", "Severe",
    "Moderate", "Minor", "Unknown", NULL };
const char *const cap_certainty_names[] = { NULL, "Observed", "Likely",
    "Possible", "Unlikely", "Unknown", NULL };
const char *const cap_category_names[] = { NULL, "Geo", "Met", "Safety",
    "Security", "Rescue", "Fire", "Health", "Env", "Transport", "Infra",
    "CBRNE", "Other", NULL };
const char *const cap_response_names[] = { NULL, "Shelter", "Evacuate",
    "Prepare", "Execute", "Avoid", "Monitor", "Assess", "AllClear", "None",
    NULL };

int
cap_enum_lookup(const char *const *names, size_t n, const char *s)
{
	size_t i;

	(void)n;
	if (s == NULL)
		return -1;
	for (i = 1; names[i] != NULL; i++)
		if (strcmp(names[i], s) == 0)
			return (int)i;
	return -1;
}

#define NAMEFN(fn, type, tab)						\
const char *								\
fn(type v)								\
{									\
	size_t i, n = sizeof(tab) / sizeof(tab[0]) - 1;			\
									\
	i = (size_t)v;							\
	return i < n ? tab[i] : NULL;					\
}

NAMEFN(cap_status_name, enum cap_status, cap_status_names)
NAMEFN(cap_msgtype_name, enum cap_msgtype, cap_msgtype_names)
NAMEFN(cap_scope_name, enum cap_scope, cap_scope_names)
NAMEFN(cap_urgency_name, enum cap_urgency, cap_urgency_names)
NAMEFN(cap_severity_name, enum cap_severity, cap_severity_names)
NAMEFN(cap_certainty_name, enum cap_certainty, cap_certainty_names)

void
cap_fmt_double(double v, char *buf, size_t size)
{
	int prec;

	for (prec = 6; prec <= 17; prec++) {
		(void)snprintf(buf, size, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

static void
free_strv(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void
free_pairs(struct cap_pair *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(p[i].name);
		free(p[i].value);
	}
	free(p);
}

static void
free_area(struct cap_area *ar)
{
	size_t i;

	free(ar->desc);
	for (i = 0; i < ar->npolygons; i++)
		free(ar->polygons[i].pts);
	free(ar->polygons);
	free(ar->circles);
	free_pairs(ar->geocodes, ar->ngeocodes);
}

static void
free_resource(struct cap_resource *r)
{
	free(r->desc);
	free(r->mime_type);
	free(r->uri);
	free(r->deref_uri);
	free(r->digest);
}

static void
free_info(struct cap_info *in)
{
	size_t i;

	free(in->language);
	free_strv(in->categories, in->ncategories);
	free(in->event);
	free_strv(in->response_types, in->nresponse_types);
	free(in->audience);
	free_pairs(in->event_codes, in->nevent_codes);
	cap_time_release(&in->effective);
	cap_time_release(&in->onset);
	cap_time_release(&in->expires);
	free(in->sender_name);
	free(in->headline);
	free(in->description);
	free(in->instruction);
	free(in->web);
	free(in->contact);
	free_pairs(in->parameters, in->nparameters);
	for (i = 0; i < in->nresources; i++)
		free_resource(&in->resources[i]);
	free(in->resources);
	for (i = 0; i < in->nareas; i++)
		free_area(&in->areas[i]);
	free(in->areas);
}

void
cap_alert_free(struct cap_alert *a)
{
	size_t i;

	if (a == NULL)
		return;
	free(a->identifier);
	free(a->sender);
	cap_time_release(&a->sent);
	free(a->source);
	free(a->restriction);
	free(a->addresses);
	free_strv(a->address_list, a->naddresses);
	free_strv(a->codes, a->ncodes);
	free(a->note);
	free(a->references);
	for (i = 0; i < a->nrefs; i++) {
		free(a->refs[i].sender);
		free(a->refs[i].identifier);
		cap_time_release(&a->refs[i].sent);
	}
	free(a->refs);
	free(a->incidents);
	free_strv(a->incident_list, a->nincidents);
	for (i = 0; i < a->ninfos; i++)
		free_info(&a->infos[i]);
	free(a->infos);
	free(a);
}

/* ---- comparison ---- */

struct cmp {
	char *why;
	size_t size;
	int diff;
};

static int
differ(struct cmp *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
differ(struct cmp *c, const char *fmt, ...)
{
	va_list ap;

	if (!c->diff && c->why != NULL && c->size > 0) {
		va_start(ap, fmt);
		(void)vsnprintf(c->why, c->size, fmt, ap);
		va_end(ap);
	}
	c->diff = 1;
	return 0;
}

static int
str_eq(struct cmp *c, const char *what, const char *a, const char *b)
{
	if (a == NULL && b == NULL)
		return 1;
	if (a == NULL || b == NULL || strcmp(a, b) != 0)
		return differ(c, "%s: \"%s\" != \"%s\"", what,
		    a ? a : "(absent)", b ? b : "(absent)");
	return 1;
}

static int
int_eq(struct cmp *c, const char *what, long long a, long long b)
{
	if (a != b)
		return differ(c, "%s: %lld != %lld", what, a, b);
	return 1;
}

static int
dbl_eq(struct cmp *c, const char *what, double a, double b)
{
	if (a != b && !(isnan(a) && isnan(b)))
		return differ(c, "%s: %.17g != %.17g", what, a, b);
	return 1;
}

static int
time_eq(struct cmp *c, const char *what, const struct cap_time *a,
    const struct cap_time *b)
{
	if ((a->text == NULL) != (b->text == NULL))
		return differ(c, "%s: present in one only", what);
	if (a->text == NULL)
		return 1;
	/* has_offset is not compared: writing adds the offset */
	if (a->valid != b->valid || a->ms != b->ms ||
	    a->offset_min != b->offset_min)
		return differ(c, "%s: \"%s\" != \"%s\"", what, a->text,
		    b->text);
	if (!a->valid)
		return str_eq(c, what, a->text, b->text);
	return 1;
}

static int
strv_eq(struct cmp *c, const char *what, char **a, size_t na, char **b,
    size_t nb)
{
	size_t i;

	if (!int_eq(c, what, (long long)na, (long long)nb))
		return 0;
	for (i = 0; i < na; i++)
		if (!str_eq(c, what, a[i], b[i]))
			return 0;
	return 1;
}

static int
pairs_eq(struct cmp *c, const char *what, const struct cap_pair *a,
    size_t na, const struct cap_pair *b, size_t nb)
{
	size_t i;

	if (!int_eq(c, what, (long long)na, (long long)nb))
		return 0;
	for (i = 0; i < na; i++)
		if (!str_eq(c, what, a[i].name, b[i].name) ||
		    !str_eq(c, what, a[i].value, b[i].value))
			return 0;
	return 1;
}

static int
area_eq(struct cmp *c, const struct cap_area *a, const struct cap_area *b)
{
	size_t i, j;

	if (!str_eq(c, "areaDesc", a->desc, b->desc) ||
	    !int_eq(c, "polygons", (long long)a->npolygons,
	    (long long)b->npolygons) ||
	    !int_eq(c, "circles", (long long)a->ncircles,
	    (long long)b->ncircles) ||
	    !pairs_eq(c, "geocode", a->geocodes, a->ngeocodes, b->geocodes,
	    b->ngeocodes) ||
	    !int_eq(c, "has altitude", a->has_altitude, b->has_altitude) ||
	    !dbl_eq(c, "altitude", a->altitude, b->altitude) ||
	    !int_eq(c, "has ceiling", a->has_ceiling, b->has_ceiling) ||
	    !dbl_eq(c, "ceiling", a->ceiling, b->ceiling))
		return 0;
	for (i = 0; i < a->npolygons; i++) {
		if (!int_eq(c, "polygon points", (long long)a->polygons[i].npts,
		    (long long)b->polygons[i].npts))
			return 0;
		for (j = 0; j < a->polygons[i].npts; j++)
			if (!dbl_eq(c, "polygon lat", a->polygons[i].pts[j].lat,
			    b->polygons[i].pts[j].lat) ||
			    !dbl_eq(c, "polygon lon", a->polygons[i].pts[j].lon,
			    b->polygons[i].pts[j].lon))
				return 0;
	}
	for (i = 0; i < a->ncircles; i++)
		if (!dbl_eq(c, "circle lat", a->circles[i].center.lat,
		    b->circles[i].center.lat) ||
		    !dbl_eq(c, "circle lon", a->circles[i].center.lon,
		    b->circles[i].center.lon) ||
		    !dbl_eq(c, "circle radius", a->circles[i].radius_km,
		    b->circles[i].radius_km))
			return 0;
	return 1;
}

static int
resource_eq(struct cmp *c, const struct cap_resource *a,
    const struct cap_resource *b)
{
	return str_eq(c, "resourceDesc", a->desc, b->desc) &&
	    str_eq(c, "mimeType", a->mime_type, b->mime_type) &&
	    int_eq(c, "has size", a->has_size, b->has_size) &&
	    int_eq(c, "size", a->size, b->size) &&
	    str_eq(c, "uri", a->uri, b->uri) &&
	    str_eq(c, "derefUri", a->deref_uri, b->deref_uri) &&
	    str_eq(c, "digest", a->digest, b->digest);
}

static int
info_eq(struct cmp *c, const struct cap_info *a, const struct cap_info *b)
{
	size_t i;

	if (!str_eq(c, "language", a->language, b->language) ||
	    !strv_eq(c, "category", a->categories, a->ncategories,
	    b->categories, b->ncategories) ||
	    !str_eq(c, "event", a->event, b->event) ||
	    !strv_eq(c, "responseType", a->response_types,
	    a->nresponse_types, b->response_types, b->nresponse_types) ||
	    !int_eq(c, "urgency", a->urgency, b->urgency) ||
	    !int_eq(c, "severity", a->severity, b->severity) ||
	    !int_eq(c, "certainty", a->certainty, b->certainty) ||
	    !str_eq(c, "audience", a->audience, b->audience) ||
	    !pairs_eq(c, "eventCode", a->event_codes, a->nevent_codes,
	    b->event_codes, b->nevent_codes) ||
	    !time_eq(c, "effective", &a->effective, &b->effective) ||
	    !time_eq(c, "onset", &a->onset, &b->onset) ||
	    !time_eq(c, "expires", &a->expires, &b->expires) ||
	    !str_eq(c, "senderName", a->sender_name, b->sender_name) ||
	    !str_eq(c, "headline", a->headline, b->headline) ||
	    !str_eq(c, "description", a->description, b->description) ||
	    !str_eq(c, "instruction", a->instruction, b->instruction) ||
	    !str_eq(c, "web", a->web, b->web) ||
	    !str_eq(c, "contact", a->contact, b->contact) ||
	    !pairs_eq(c, "parameter", a->parameters, a->nparameters,
	    b->parameters, b->nparameters) ||
	    !int_eq(c, "resources", (long long)a->nresources,
	    (long long)b->nresources) ||
	    !int_eq(c, "areas", (long long)a->nareas, (long long)b->nareas))
		return 0;
	for (i = 0; i < a->nresources; i++)
		if (!resource_eq(c, &a->resources[i], &b->resources[i]))
			return 0;
	for (i = 0; i < a->nareas; i++)
		if (!area_eq(c, &a->areas[i], &b->areas[i]))
			return 0;
	return 1;
}

int
cap_alert_equal(const struct cap_alert *a, const struct cap_alert *b,
    char *why, size_t whysize)
{
	struct cmp c = { why, whysize, 0 };
	size_t i;

	if (why != NULL && whysize > 0)
		why[0] = '\0';
	if (a == NULL || b == NULL)
		return a == b;
	if (!str_eq(&c, "identifier", a->identifier, b->identifier) ||
	    !str_eq(&c, "sender", a->sender, b->sender) ||
	    !time_eq(&c, "sent", &a->sent, &b->sent) ||
	    !int_eq(&c, "status", a->status, b->status) ||
	    !int_eq(&c, "msgType", a->msg_type, b->msg_type) ||
	    !str_eq(&c, "source", a->source, b->source) ||
	    !int_eq(&c, "scope", a->scope, b->scope) ||
	    !str_eq(&c, "restriction", a->restriction, b->restriction) ||
	    !str_eq(&c, "addresses", a->addresses, b->addresses) ||
	    !strv_eq(&c, "code", a->codes, a->ncodes, b->codes, b->ncodes) ||
	    !str_eq(&c, "note", a->note, b->note) ||
	    !int_eq(&c, "references", (long long)a->nrefs,
	    (long long)b->nrefs) ||
	    !str_eq(&c, "incidents", a->incidents, b->incidents) ||
	    !int_eq(&c, "infos", (long long)a->ninfos, (long long)b->ninfos))
		return 0;
	for (i = 0; i < a->nrefs; i++)
		if (!str_eq(&c, "reference sender", a->refs[i].sender,
		    b->refs[i].sender) ||
		    !str_eq(&c, "reference identifier", a->refs[i].identifier,
		    b->refs[i].identifier) ||
		    !time_eq(&c, "reference sent", &a->refs[i].sent,
		    &b->refs[i].sent))
			return 0;
	for (i = 0; i < a->ninfos; i++)
		if (!info_eq(&c, &a->infos[i], &b->infos[i]))
			return 0;
	return 1;
}
