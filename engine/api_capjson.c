/*
 * engine/api_capjson.c - the parsed CAP model as JSON, for the API.
 */
#include "engine/api_int.h"
#include "cap/cap.h"

#include <string.h>

static json_t *
jstr(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

static json_t *
jtime(const struct cap_time *t)
{
	return t->text != NULL ? json_string(t->text) : json_null();
}

static json_t *
jstrs(char **v, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < n; i++)
		(void)json_array_append_new(a, jstr(v[i]));
	return a;
}

static json_t *
jpairs(const struct cap_pair *v, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < n; i++)
		(void)json_array_append_new(a, json_pack("{s:o,s:o}",
		    "valueName", jstr(v[i].name), "value", jstr(v[i].value)));
	return a;
}

static json_t *
jenum(const char *name)
{
	return jstr(name);
}

static json_t *
jarea(const struct cap_area *ar)
{
	json_t *polys = json_array(), *circles = json_array(), *j;
	size_t i, k;

	for (i = 0; polys != NULL && i < ar->npolygons; i++) {
		json_t *pts = json_array();

		for (k = 0; pts != NULL && k < ar->polygons[i].npts; k++)
			(void)json_array_append_new(pts, json_pack("[f,f]",
			    ar->polygons[i].pts[k].lat,
			    ar->polygons[i].pts[k].lon));
		(void)json_array_append_new(polys, pts);
	}
	for (i = 0; circles != NULL && i < ar->ncircles; i++)
		(void)json_array_append_new(circles, json_pack("{s:f,s:f,s:f}",
		    "lat", ar->circles[i].center.lat,
		    "lon", ar->circles[i].center.lon,
		    "radius_km", ar->circles[i].radius_km));
	j = json_pack("{s:o,s:o,s:o,s:o}", "areaDesc", jstr(ar->desc),
	    "polygons", polys, "circles", circles, "geocodes",
	    jpairs(ar->geocodes, ar->ngeocodes));
	if (j != NULL && ar->has_altitude)
		(void)json_object_set_new(j, "altitude",
		    json_real(ar->altitude));
	if (j != NULL && ar->has_ceiling)
		(void)json_object_set_new(j, "ceiling", json_real(ar->ceiling));
	return j;
}

static json_t *
jresource(const struct cap_resource *r)
{
	json_t *j = json_pack("{s:o,s:o,s:o,s:o}", "resourceDesc",
	    jstr(r->desc), "mimeType", jstr(r->mime_type), "uri", jstr(r->uri),
	    "digest", jstr(r->digest));

	if (j != NULL && r->has_size)
		(void)json_object_set_new(j, "size", json_integer(r->size));
	if (j != NULL && r->deref_uri != NULL)
		(void)json_object_set_new(j, "derefUri_bytes",
		    json_integer((json_int_t)strlen(r->deref_uri)));
	return j;
}

static json_t *
jinfo(const struct cap_info *in)
{
	json_t *areas = json_array(), *res = json_array(), *j;
	size_t i;

	for (i = 0; areas != NULL && i < in->nareas; i++)
		(void)json_array_append_new(areas, jarea(&in->areas[i]));
	for (i = 0; res != NULL && i < in->nresources; i++)
		(void)json_array_append_new(res, jresource(&in->resources[i]));
	j = json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,"
	    "s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}",
	    "language", jstr(cap_info_language(in)),
	    "category", jstrs(in->categories, in->ncategories),
	    "event", jstr(in->event),
	    "responseType", jstrs(in->response_types, in->nresponse_types),
	    "urgency", jenum(cap_urgency_name(in->urgency)),
	    "severity", jenum(cap_severity_name(in->severity)),
	    "certainty", jenum(cap_certainty_name(in->certainty)),
	    "audience", jstr(in->audience),
	    "eventCode", jpairs(in->event_codes, in->nevent_codes),
	    "effective", jtime(&in->effective),
	    "onset", jtime(&in->onset),
	    "expires", jtime(&in->expires),
	    "senderName", jstr(in->sender_name),
	    "headline", jstr(in->headline),
	    "description", jstr(in->description),
	    "instruction", jstr(in->instruction),
	    "web", jstr(in->web),
	    "contact", jstr(in->contact),
	    "parameter", jpairs(in->parameters, in->nparameters),
	    "resource", res,
	    "area", areas,
	    "colour", jstr(cap_color_name(cap_severity_color(in->severity,
	    CAP_COLOR_NONE))));
	return j;
}

json_t *
api_cap_json(const struct cap_alert *a)
{
	json_t *infos = json_array(), *refs = json_array();
	size_t i;

	for (i = 0; infos != NULL && i < a->ninfos; i++)
		(void)json_array_append_new(infos, jinfo(&a->infos[i]));
	for (i = 0; refs != NULL && i < a->nrefs; i++)
		(void)json_array_append_new(refs, json_pack("{s:o,s:o,s:o}",
		    "sender", jstr(a->refs[i].sender), "identifier",
		    jstr(a->refs[i].identifier), "sent",
		    jtime(&a->refs[i].sent)));
	return json_pack("{s:i,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,"
	    "s:o,s:o,s:o,s:o,s:b}",
	    "version", (int)a->version,
	    "identifier", jstr(a->identifier),
	    "sender", jstr(a->sender),
	    "sent", jtime(&a->sent),
	    "status", jenum(cap_status_name(a->status)),
	    "msgType", jenum(cap_msgtype_name(a->msg_type)),
	    "source", jstr(a->source),
	    "scope", jenum(cap_scope_name(a->scope)),
	    "restriction", jstr(a->restriction),
	    "addresses", jstrs(a->address_list, a->naddresses),
	    "code", jstrs(a->codes, a->ncodes),
	    "note", jstr(a->note),
	    "references", refs,
	    "incidents", jstrs(a->incident_list, a->nincidents),
	    "info", infos,
	    "signed", a->has_signature);
}
