/*
 * engine/api_plan.c - POST /api/v1/plan: the dry run of a CAP message.
 *
 * The body is CAP, as for POST /api/v1/cap (admin token only).  It is
 * parsed, validated and understood as ingest would (ingest_preview), its
 * plan is walked with the running dispatcher's routing, channels and
 * templates (dispatch_dry_run), and the answer says who would be
 * reached: deliveries by level, channel and role, devices by kind,
 * people without an address on a channel, and one rendered text per
 * template kind.  Nothing is stored.  api_plan_reply is the same dry run
 * for the CAP that POST /api/v1/warnings?dry_run=1 builds.
 */
#include "engine/api_int.h"
#include "cap/cap.h"
#include "engine/dispatch.h"
#include "engine/ingest.h"
#include "engine/log.h"
#include "engine/plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Targets listed in the answer (all are counted). */
#define MAX_LISTED_TARGETS 200

static json_t *
jstr(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

static int
content_type_ok(struct MHD_Connection *c)
{
	const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_TYPE);
	static const char *const ok[] = {
		"application/cap+xml", "application/xml", "text/xml", NULL
	};
	size_t i, n;

	if (ct == NULL)
		return 0;
	for (i = 0; ok[i] != NULL; i++) {
		n = strlen(ok[i]);
		if (strncasecmp(ct, ok[i], n) == 0 &&
		    (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' '))
			return 1;
	}
	return 0;
}

static json_t *
diag_items(const struct diag_list *d, enum diag_sev sev)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; arr != NULL && i < d->n; i++) {
		if (d->v[i].sev != sev)
			continue;
		(void)json_array_append_new(arr, json_pack("{s:I,s:o,s:s}",
		    "line", (json_int_t)d->v[i].line, "path",
		    jstr(d->v[i].path), "message", d->v[i].msg));
	}
	return arr;
}

static json_t *
counts_json(const struct plan_counts *c)
{
	json_t *o = json_object();
	size_t i;

	for (i = 0; o != NULL && i < c->n; i++)
		(void)json_object_set_new(o, c->v[i].key,
		    json_integer((json_int_t)c->v[i].n));
	return o;
}

static json_t *
samples_json(const struct dispatch_sample *v, size_t n)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; arr != NULL && i < n; i++) {
		const struct plan_sample *x = v[i].row;

		(void)json_array_append_new(arr, json_pack(
		    "{s:s,s:s,s:s,s:o,s:o,s:o,s:s,s:s,s:o,s:i,s:b,s:b}",
		    "kind", v[i].kind, "channel", x->channel,
		    "recipient", x->recipient, "region", jstr(x->region),
		    "role", jstr(x->role), "responder_id",
		    jstr(x->responder_id), "text", v[i].text,
		    "subject", v[i].subject, "template", jstr(v[i].tpl),
		    "segments", v[i].segments, "fits", v[i].fits,
		    "fallback", v[i].fallback));
	}
	return arr;
}

static json_t *
answer(const struct ingest_preview *p, const struct plan_summary *sum,
    const struct dispatch_sample *smp, size_t nsmp,
    const struct diag_list *d)
{
	json_t *j, *tg = json_array();
	size_t i;

	for (i = 0; tg != NULL && i < p->res.nregions &&
	    i < MAX_LISTED_TARGETS; i++)
		(void)json_array_append_new(tg, json_string(p->targets[i]));
	j = json_pack("{s:b,s:o,s:s,s:b,s:s,s:s,s:s,s:I,s:o,s:b,s:I,"
	    "s:I,s:I,s:I,s:I,s:I}",
	    "dry_run", 1,
	    "stored_id", p->res.duplicate ?
	    json_integer((json_int_t)p->res.alert_id) : json_null(),
	    "state", ingest_state_name(p->res.state),
	    "broadcast", p->res.broadcast,
	    "status", p->status, "msg_type", p->msg_type,
	    "colour", cap_color_name((enum cap_color)p->res.colour),
	    "regions", (json_int_t)p->res.nregions,
	    "targets", tg,
	    "area_unmatched", p->res.area_unmatched,
	    "deliveries", (json_int_t)sum->deliveries,
	    "people", (json_int_t)sum->st.people,
	    "ancestors", (json_int_t)sum->st.ancestors,
	    "devices", (json_int_t)sum->st.devices,
	    "no_address_total", (json_int_t)sum->st.no_address,
	    "skipped_exercise", (json_int_t)sum->st.skipped_exercise);
	if (j == NULL)
		return NULL;
	(void)json_object_set_new(j, "by_level", counts_json(&sum->by_level));
	(void)json_object_set_new(j, "by_channel",
	    counts_json(&sum->by_channel));
	(void)json_object_set_new(j, "by_role", counts_json(&sum->by_role));
	(void)json_object_set_new(j, "devices_by_kind",
	    counts_json(&sum->devices_by_kind));
	(void)json_object_set_new(j, "no_address",
	    counts_json(&sum->no_address));
	(void)json_object_set_new(j, "samples", samples_json(smp, nsmp));
	(void)json_object_set_new(j, "warnings", diag_items(d, DIAG_WARNING));
	return j;
}

enum MHD_Result
api_h_plan(struct MHD_Connection *c, struct api_req *r)
{
	struct api *a = r->api;
	struct ingest_source src;
	long long lenient;

	/* The right to issue was checked by the router. */
	if (api_arg_ll(c, "lenient", 0, 1, 0, &lenient) != 0)
		return api_reply_error(c, r, MHD_HTTP_BAD_REQUEST,
		    "bad_query", "lenient is 0 or 1", NULL);
	if (!content_type_ok(c))
		return api_reply_error(c, r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
		    "unsupported_media_type", "send CAP as "
		    "application/cap+xml or application/xml", NULL);
	if (r->len == 0)
		return api_reply_error(c, r, MHD_HTTP_BAD_REQUEST,
		    "empty_body", "the request body must be a CAP document",
		    NULL);
	memset(&src, 0, sizeof(src));
	src.name = r->who.kind == AUTH_ADMIN_TOKEN ? "admin" : r->who.name;
	src.via = "http";
	src.lenient = (int)lenient;
	src.cn_profile = 1;
	src.max_bytes = a->cfg.admin_cap_max_bytes;
	/* Not an admin: only within the jurisdiction, as for issuing (the
	 * dry run shows who would be reached there: names, counts). */
	if (r->who.role != AUTH_ROLE_ADMIN) {
		src.regions = (const char (*)[REGION_CODE_SIZE])
		    r->who.jurisdiction;
		src.nregions = 1;
	}
	return api_plan_reply(c, r, &src, r->body, r->len, NULL);
}

enum MHD_Result
api_plan_reply(struct MHD_Connection *c, struct api_req *r,
    const struct ingest_source *srcp, const char *buf, size_t len,
    json_t *extra)
{
	struct api *a = r->api;
	struct ingest_source src = *srcp;
	struct ingest_preview p;
	struct plan_summary sum;
	struct plan_request rq;
	struct dispatch_sample *smp = NULL;
	struct diag_list d;
	struct eng_errbuf eb;
	struct ingest *ig;
	struct store *s;
	enum MHD_Result ret;
	size_t nsmp = 0;
	json_t *j;
	int rv;

	eng_errbuf_init(&eb);
	diag_list_init(&d);
	d.max = 200;
	plan_summary_init(&sum);

	ig = api_ingest_get(a);
	rv = ingest_preview(ig, &src, buf, len, &p, &d, &eb);
	api_ingest_put(a, ig);
	switch (rv) {
	case 0:
		break;
	case ENG_EINVAL:
		ret = api_reply_error(c, r, MHD_HTTP_UNPROCESSABLE_CONTENT,
		    "invalid_cap", eb.msg[0] ? eb.msg : "invalid CAP",
		    json_pack("o", diag_items(&d, DIAG_ERROR)));
		goto out;
	case ENG_ETOOBIG:
		ret = api_reply_error(c, r, MHD_HTTP_CONTENT_TOO_LARGE,
		    "cap_too_large", eb.msg, NULL);
		goto out;
	case ENG_EPERM:
		ret = api_reply_error(c, r, MHD_HTTP_FORBIDDEN, "forbidden",
		    eb.msg, NULL);
		goto out;
	default:
		log_error("plan.dry_run_failed", "msg=\"%s\"", eb.msg);
		ret = api_reply_error(c, r, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "internal", eb.msg, NULL);
		goto out;
	}

	memset(&rq, 0, sizeof(rq));
	rq.targets = (const char (*)[REGION_CODE_SIZE])p.targets;
	rq.ntargets = p.res.nregions;
	rq.colour = p.res.colour;
	rq.status = p.status;
	rq.msg_type = p.msg_type;
	rq.broadcast = p.store_broadcast;
	rq.chain_id = p.ref_chain_id;
	rq.deadline_ms = p.expires_ms;
	pthread_rwlock_rdlock(&a->disp_lock);
	if (a->dispatch == NULL) {
		pthread_rwlock_unlock(&a->disp_lock);
		ret = api_reply_error(c, r, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "no_dispatcher", "the dispatcher is not running (no "
		    "routing or channels to plan with)", NULL);
		goto out_p;
	}
	/* Only a message to be broadcast is planned (as the dispatcher
	 * would); the others answer with zero counts. */
	s = api_store_get(a);
	rv = p.res.broadcast ? dispatch_dry_run(a->dispatch, s, p.alert,
	    &rq, &sum, &smp, &nsmp, &eb) : 0;
	api_store_put(a, s);
	pthread_rwlock_unlock(&a->disp_lock);
	if (rv != 0) {
		log_error("plan.dry_run_failed", "msg=\"%s\"", eb.msg);
		ret = api_reply_error(c, r, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "internal", eb.msg, NULL);
		goto out_p;
	}
	if ((j = answer(&p, &sum, smp, nsmp, &d)) == NULL) {
		ret = api_reply_error(c, r, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "internal", "out of memory", NULL);
		goto out_p;
	}
	log_info("plan.dry_run", "deliveries=%lld regions=%zu",
	    sum.deliveries, p.res.nregions);
	if (extra != NULL)
		(void)json_object_update(j, extra);
	ret = api_reply_json(c, r, MHD_HTTP_OK, j);
out_p:
	ingest_preview_release(&p);
out:
	dispatch_samples_free(smp, nsmp);
	plan_summary_release(&sum);
	diag_list_release(&d);
	json_decref(extra);
	return ret;
}
