/*
 * engine/api_alerts.c - CAP in over HTTP, and the alerts as stored.
 */
#include "engine/api_int.h"
#include "cap/cap.h"
#include "channels/channel.h"
#include "engine/dispatch.h"
#include "engine/clock.h"
#include "engine/log.h"
#include "engine/region.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static json_t *
jstr(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

static json_t *
jms(int64_t ms)
{
	char buf[40];

	if (ms == 0)
		return json_null();
	return json_string(eng_time_fmt_utc(ms, buf, sizeof(buf)));
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

enum MHD_Result
api_h_cap_post(struct MHD_Connection *c, struct api_req *r)
{
	struct api *a = r->api;
	const struct api_feedc *feed = NULL;
	struct ingest_source admin;
	const struct ingest_source *src;
	struct ingest_result res;
	struct diag_list d;
	struct eng_errbuf eb;
	struct ingest *ig;
	enum MHD_Result ret;
	long long lenient;
	json_t *j;
	char msg[256];
	int who, rv;

	/* An account (admin token, API token, session: r->who), or a
	 * feed's own token bound to its regions. */
	who = r->who.kind != AUTH_NONE ? 1 : api_who(a, c, &feed);
	switch (who) {
	case 1:
		if (!auth_allow(&r->who, AUTH_ISSUE, NULL, msg, sizeof(msg)))
			return api_deny(c, r, msg);
		if (api_arg_ll(c, "lenient", 0, 1, 0, &lenient) != 0)
			return api_reply_error(c, r, MHD_HTTP_BAD_REQUEST,
			    "bad_query", "lenient is 0 or 1", NULL);
		memset(&admin, 0, sizeof(admin));
		admin.name = r->who.kind == AUTH_ADMIN_TOKEN ? "admin" :
		    r->who.name;
		admin.via = "http";
		admin.lenient = (int)lenient;
		admin.cn_profile = 1;
		admin.max_bytes = a->cfg.admin_cap_max_bytes;
		/* Not an admin: only within the jurisdiction, checked by
		 * ingest after parsing, before storing. */
		if (r->who.role != AUTH_ROLE_ADMIN) {
			admin.regions = (const char (*)[REGION_CODE_SIZE])
			    r->who.jurisdiction;
			admin.nregions = 1;
		}
		src = &admin;
		break;
	case 2:
		src = &feed->src;
		r->who.kind = AUTH_FEED;
		(void)snprintf(r->who.name, sizeof(r->who.name), "%s",
		    feed->name);
		break;
	default:
		return api_reply_error(c, r, MHD_HTTP_UNAUTHORIZED,
		    "unauthorized", "a valid bearer token (admin or feed) is "
		    "required", NULL);
	}
	if (!content_type_ok(c)) {
		ret = api_reply_error(c, r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
		    "unsupported_media_type", "send CAP as "
		    "application/cap+xml or application/xml", NULL);
		goto out_feed;
	}
	if (r->len == 0) {
		ret = api_reply_error(c, r, MHD_HTTP_BAD_REQUEST, "empty_body",
		    "the request body must be a CAP document", NULL);
		goto out_feed;
	}
	eng_errbuf_init(&eb);
	diag_list_init(&d);
	d.max = 200;
	ig = api_ingest_get(a);
	rv = 0;
	if (who == 1 && r->who.role != AUTH_ROLE_ADMIN)
		rv = api_cap_refs_allowed(r, ig, src, msg, sizeof(msg));
	if (rv == 0)
		rv = ingest_cap(ig, src, r->body, r->len, &res, &d, &eb);
	api_ingest_put(a, ig);
	if (rv == 1) {
		diag_list_release(&d);
		ret = api_deny(c, r, msg);
		goto out_feed;
	}
	switch (rv) {
	case 0:
		j = json_pack("{s:I,s:b,s:s,s:b,s:I,s:I,s:b,s:I,s:s,s:o}",
		    "id", (json_int_t)res.alert_id, "duplicate", res.duplicate,
		    "state", res.duplicate ? "duplicate" :
		    ingest_state_name(res.state),
		    "broadcast", res.broadcast,
		    "chain_id", (json_int_t)res.chain_id,
		    "regions", (json_int_t)res.nregions,
		    "area_unmatched", res.area_unmatched,
		    "unknown_references", (json_int_t)res.unknown_refs,
		    "colour", cap_color_name((enum cap_color)res.colour),
		    "warnings", diag_items(&d, DIAG_WARNING));
		ret = api_reply_json(c, r, res.duplicate ? MHD_HTTP_OK :
		    MHD_HTTP_CREATED, j);
		api_cap_audit(r, res.alert_id, res.duplicate);
		if (res.broadcast && !res.duplicate) {
			pthread_rwlock_rdlock(&a->disp_lock);
			dispatch_kick(a->dispatch);
			pthread_rwlock_unlock(&a->disp_lock);
		}
		break;
	case ENG_EINVAL:
		log_warn("cap.rejected", "source=%s errors=%zu first=\"%s\"",
		    src->name, d.nerrors, eb.msg);
		ret = api_reply_error(c, r, MHD_HTTP_UNPROCESSABLE_CONTENT,
		    "invalid_cap", eb.msg[0] ? eb.msg : "invalid CAP",
		    json_pack("o", diag_items(&d, DIAG_ERROR)));
		break;
	case ENG_ETOOBIG:
		ret = api_reply_error(c, r, MHD_HTTP_CONTENT_TOO_LARGE,
		    "cap_too_large", eb.msg, NULL);
		break;
	case ENG_EPERM:
		log_warn("cap.refused", "source=%s msg=\"%s\"", src->name,
		    eb.msg);
		ret = api_reply_error(c, r, MHD_HTTP_FORBIDDEN, "forbidden",
		    eb.msg, NULL);
		break;
	default:
		/* Ours, not the sender's: tell it to try again. */
		log_error("cap.failed", "source=%s error=\"%s\"", src->name,
		    eb.msg);
		ret = api_reply_error(c, r, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "try_again", eb.msg[0] ? eb.msg : eng_strerror(rv), NULL);
		break;
	}
	diag_list_release(&d);
out_feed:
	if (who == 2)
		api_feed_release(a);
	return ret;
}

/* An alert's summary; its state as of now (an active alert past its
 * expiry reads "expired"). */
static json_t *
summary(const struct store_alert *x, int64_t now)
{
	const char *state = x->state;

	if (strcmp(state, "active") == 0 && x->expires_ms != 0 &&
	    x->expires_ms <= now)
		state = "expired";
	return json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:s,s:s,s:b,"
	    "s:o,s:o,s:o,s:I,s:b,s:I,s:s,s:s,s:o}",
	    "id", (json_int_t)x->id, "sender", x->sender,
	    "identifier", x->identifier, "sent", x->sent,
	    "status", x->status, "msg_type", x->msg_type,
	    "event", jstr(x->event), "headline", jstr(x->headline),
	    "severity", jstr(x->severity),
	    "colour", cap_color_name((enum cap_color)x->colour),
	    "state", state, "broadcast", x->broadcast,
	    "received", jms(x->received_ms), "expires", jms(x->expires_ms),
	    "onset", jms(x->onset_ms),
	    "regions", (json_int_t)x->nregions,
	    "area_unmatched", x->area_unmatched,
	    "chain_id", (json_int_t)x->chain_id,
	    "source", x->source, "via", x->via,
	    "superseded_by", x->superseded_by ?
	    json_integer(x->superseded_by) : json_null());
}

struct list_ctx {
	json_t *arr;
	int64_t now;
};

static int
list_cb(void *arg, const struct store_alert *x)
{
	struct list_ctx *l = arg;

	return json_array_append_new(l->arr, summary(x, l->now)) == 0 ? 0 :
	    ENG_ENOMEM;
}

enum MHD_Result
api_h_alerts(struct MHD_Connection *c, struct api_req *r)
{
	struct api *a = r->api;
	struct store_alert_filter f;
	struct list_ctx l;
	struct eng_errbuf eb;
	char code[REGION_CODE_SIZE];
	long long limit, offset, active, total = 0;
	const char *reg;
	struct store *s;
	int rv;

	eng_errbuf_init(&eb);
	memset(&f, 0, sizeof(f));
	if (api_arg_ll(c, "limit", 0, 1000, 100, &limit) != 0 ||
	    api_arg_ll(c, "offset", 0, 1LL << 40, 0, &offset) != 0 ||
	    api_arg_ll(c, "active", 0, 1, 0, &active) != 0)
		return api_reply_error(c, r, MHD_HTTP_BAD_REQUEST, "bad_query",
		    "limit 0..1000, offset >= 0, active 0 or 1", NULL);
	f.status = api_arg(c, "status");
	f.severity = api_arg(c, "severity");
	f.active_only = (int)active;
	l.now = f.now_ms = eng_clock_now_ms(&eng_clock_system);
	if ((reg = api_arg(c, "region")) != NULL) {
		if (region_code_norm(reg, strlen(reg), code, &eb) != 0)
			return api_reply_error(c, r, MHD_HTTP_BAD_REQUEST,
			    "bad_region_code", eb.msg, NULL);
		f.region = code;
	}
	/* Not an admin: the alerts touching the jurisdiction only. */
	if (r->who.role != AUTH_ROLE_ADMIN) {
		char why[256];

		if (f.region != NULL && !auth_allow(&r->who, AUTH_READ,
		    f.region, why, sizeof(why)))
			return api_deny(c, r, why);
		if (f.region == NULL)
			f.region = r->who.jurisdiction;
	}
	if ((l.arr = json_array()) == NULL)
		return MHD_NO;
	s = api_store_get(a);
	rv = store_alerts_list(s, &f, limit, offset, list_cb, &l, &total,
	    &eb);
	api_store_put(a, s);
	if (rv != 0) {
		json_decref(l.arr);
		return api_reply_error(c, r, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "store_error", eb.msg, NULL);
	}
	return api_reply_json(c, r, MHD_HTTP_OK, json_pack("{s:I,s:I,s:I,"
	    "s:o}", "total", (json_int_t)total, "limit", (json_int_t)limit,
	    "offset", (json_int_t)offset, "alerts", l.arr));
}

/* One alert, fully. */
struct one {
	struct store *s;
	int64_t now;
	int route;
	json_t *out;		/* the answer */
	char *cap;		/* ROUTE_ALERT_CAP: a copy of the bytes */
	size_t cap_len;
	long long chain_id;
	struct eng_errbuf *eb;
};

static int
ref_cb(void *arg, const char *sender, const char *identifier,
    const char *sent, long long target)
{
	json_t *arr = arg;

	return json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:o}",
	    "sender", sender, "identifier", identifier, "sent", sent,
	    "alert_id", target ? json_integer(target) : json_null())) == 0 ?
	    0 : ENG_ENOMEM;
}

static int
target_cb(void *arg, const char *code, const char *name, int level,
    const char *how)
{
	json_t *arr = arg;
	const char *ln = region_level_name((enum region_level)level);

	return json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s}",
	    "code", code, "name", name ? name : "", "level", ln ? ln : "",
	    "how", how)) == 0 ? 0 : ENG_ENOMEM;
}

static int
one_cb(void *arg, const struct store_alert *x)
{
	struct one *o = arg;
	struct cap_opts opts;
	struct cap_alert *ca = NULL;
	struct diag_list d;
	json_t *j, *refs, *targets, *w;
	int rv;

	o->chain_id = x->chain_id;
	if (o->route == ROUTE_ALERT_CHAIN)
		return 0;
	if (o->route == ROUTE_ALERT_CAP) {
		if ((o->cap = malloc(x->cap_len ? x->cap_len : 1)) == NULL)
			return ENG_ENOMEM;
		memcpy(o->cap, x->cap, x->cap_len);
		o->cap_len = x->cap_len;
		return 0;
	}
	if ((j = summary(x, o->now)) == NULL)
		return ENG_ENOMEM;
	(void)json_object_set_new(j, "language", jstr(x->language));
	(void)json_object_set_new(j, "urgency", jstr(x->urgency));
	(void)json_object_set_new(j, "certainty", jstr(x->certainty));
	w = x->warnings != NULL ? json_loads(x->warnings, 0, NULL) : NULL;
	(void)json_object_set_new(j, "warnings", w ? w : json_array());
	refs = json_array();
	targets = json_array();
	(void)json_object_set_new(j, "references", refs);
	(void)json_object_set_new(j, "target_regions", targets);
	o->out = json_pack("{s:o}", "alert", j);
	if (o->out == NULL || refs == NULL || targets == NULL)
		return ENG_ENOMEM;
	/* The model as parsed again from the stored bytes: what we keep is
	 * the message as received, so this can never drift from it. */
	cap_opts_init(&opts);
	opts.lenient = 1;
	opts.cn_profile = 1;
	opts.max_bytes = x->cap_len + 1;
	diag_list_init(&d);
	if (cap_parse(x->cap, x->cap_len, &opts, &ca, &d, NULL) == 0) {
		(void)json_object_set_new(j, "cap", api_cap_json(ca));
		cap_alert_free(ca);
	}
	diag_list_release(&d);
	(void)o->s;
	rv = 0;
	return rv;
}

static int
chain_cb(void *arg, const struct store_alert *x)
{
	struct list_ctx *l = arg;

	return json_array_append_new(l->arr, summary(x, l->now)) == 0 ? 0 :
	    ENG_ENOMEM;
}

enum MHD_Result
api_h_alert(struct MHD_Connection *c, struct api_req *r)
{
	struct api *a = r->api;
	struct list_ctx l;
	struct eng_errbuf eb;
	struct one o;
	struct store *s;
	json_t *alert;
	long long id;
	char *end;
	int rv;

	eng_errbuf_init(&eb);
	errno = 0;
	id = strtoll(r->code, &end, 10);
	if (errno != 0 || *end != '\0' || id <= 0)
		return api_reply_error(c, r, MHD_HTTP_BAD_REQUEST, "bad_id",
		    "an alert id is a positive integer", NULL);
	memset(&o, 0, sizeof(o));
	o.now = eng_clock_now_ms(&eng_clock_system);
	o.route = r->route;
	o.eb = &eb;
	s = api_store_get(a);
	o.s = s;
	rv = store_alert_get(s, id, one_cb, &o, &eb);
	if (rv == 0 && r->route == ROUTE_ALERT) {
		alert = json_object_get(o.out, "alert");
		rv = store_alert_refs(s, id, ref_cb,
		    json_object_get(alert, "references"), &eb);
		if (rv == 0)
			rv = store_alert_targets(s, id, target_cb,
			    json_object_get(alert, "target_regions"), &eb);
	}
	if (rv == 0 && r->route == ROUTE_ALERT_CHAIN) {
		l.now = o.now;
		if ((l.arr = json_array()) == NULL)
			rv = ENG_ENOMEM;
		else if ((rv = store_alert_chain(s, o.chain_id, chain_cb, &l,
		    &eb)) != 0)
			json_decref(l.arr);
		else
			o.out = json_pack("{s:I,s:o}", "chain_id",
			    (json_int_t)o.chain_id, "alerts", l.arr);
	}
	api_store_put(a, s);
	if (rv != 0) {
		json_decref(o.out);
		free(o.cap);
		if (rv == ENG_ENOENT)
			return api_reply_error(c, r, MHD_HTTP_NOT_FOUND,
			    "not_found", eb.msg, NULL);
		if (rv == ENG_ENOMEM)
			return MHD_NO;
		return api_reply_error(c, r, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "store_error", eb.msg, NULL);
	}
	if (r->route == ROUTE_ALERT_CAP)
		return api_reply_text(c, r, MHD_HTTP_OK, "application/cap+xml",
		    o.cap, o.cap_len);
	return api_reply_json(c, r, MHD_HTTP_OK, o.out);
}

static json_t *
jstr_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

static int
count_cb(void *arg, const char *state, const char *channel, long long n)
{
	json_t *o = arg, *by;

	by = json_object_get(json_object_get(o, "by_channel"), channel);
	if (by == NULL) {
		by = json_object();
		(void)json_object_set_new(json_object_get(o, "by_channel"),
		    channel, by);
	}
	(void)json_object_set_new(by, state, json_integer(n));
	{
		json_t *st = json_object_get(o, "by_state");
		json_int_t cur = json_integer_value(json_object_get(st, state));

		(void)json_object_set_new(st, state, json_integer(cur + n));
	}
	return 0;
}

static int
delivery_cb(void *arg, const struct store_delivery *x)
{
	json_t *arr = arg;

	return json_array_append_new(arr, json_pack("{s:I,s:s,s:s,s:s,s:o,"
	    "s:o,s:s,s:s,s:o,s:i,s:s,s:i,s:o,s:o,s:o}",
	    "id", (json_int_t)x->id, "kind", x->kind, "channel", x->channel,
	    "recipient", x->recipient,
	    "responder_id", jstr_or_null(x->responder_id),
	    "device_id", jstr_or_null(x->device_id),
	    "region", x->region, "address", x->address,
	    "role", jstr_or_null(x->role), "priority", x->priority,
	    "state", x->state, "attempts", x->attempts,
	    "next_at", jms(x->next_at_ms),
	    "gateway_id", jstr_or_null(x->gateway_id),
	    "last_error", jstr_or_null(x->last_error))) == 0 ? 0 : ENG_ENOMEM;
}

static int
exists_cb(void *arg, const struct store_alert *x)
{
	(void)arg;
	(void)x;
	return 0;
}

enum MHD_Result
api_h_deliveries(struct MHD_Connection *c, struct api_req *r)
{
	struct api *a = r->api;
	struct eng_errbuf eb;
	long long id, limit, offset, total = 0;
	json_t *counts, *arr;
	struct store *s;
	char *end;
	int rv;

	eng_errbuf_init(&eb);
	errno = 0;
	id = strtoll(r->code, &end, 10);
	if (errno != 0 || *end != '\0' || id <= 0)
		return api_reply_error(c, r, MHD_HTTP_BAD_REQUEST, "bad_id",
		    "an alert id is a positive integer", NULL);
	if (api_arg_ll(c, "limit", 0, 10000, 100, &limit) != 0 ||
	    api_arg_ll(c, "offset", 0, 1LL << 40, 0, &offset) != 0)
		return api_reply_error(c, r, MHD_HTTP_BAD_REQUEST, "bad_query",
		    "limit 0..10000, offset >= 0", NULL);
	counts = json_pack("{s:{},s:{}}", "by_state", "by_channel");
	arr = json_array();
	if (counts == NULL || arr == NULL) {
		json_decref(counts);
		json_decref(arr);
		return MHD_NO;
	}
	s = api_store_get(a);
	rv = store_alert_get(s, id, exists_cb, NULL, &eb);
	if (rv == 0)
		rv = store_delivery_counts(s, id, count_cb, counts, &eb);
	if (rv == 0)
		rv = store_deliveries_list(s, id, api_arg(c, "state"),
		    api_arg(c, "channel"), limit, offset, delivery_cb, arr,
		    &total, &eb);
	api_store_put(a, s);
	if (rv != 0) {
		json_decref(counts);
		json_decref(arr);
		if (rv == ENG_ENOENT)
			return api_reply_error(c, r, MHD_HTTP_NOT_FOUND,
			    "not_found", eb.msg, NULL);
		return api_reply_error(c, r, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "store_error", eb.msg, NULL);
	}
	return api_reply_json(c, r, MHD_HTTP_OK, json_pack("{s:I,s:o,s:I,"
	    "s:o}", "alert_id", (json_int_t)id, "counts", counts, "total",
	    (json_int_t)total, "deliveries", arr));
}

struct cb_ctx {
	struct MHD_Connection *c;
};

static const char *
cb_arg(void *ctx, const char *name)
{
	return MHD_lookup_connection_value(((struct cb_ctx *)ctx)->c,
	    MHD_GET_ARGUMENT_KIND, name);
}

static const char *
cb_header(void *ctx, const char *name)
{
	return MHD_lookup_connection_value(((struct cb_ctx *)ctx)->c,
	    MHD_HEADER_KIND, name);
}

enum MHD_Result
api_h_callback(struct MHD_Connection *c, struct api_req *r,
    const char *method)
{
	struct api *a = r->api;
	struct chan_http_req req;
	struct chan_http_resp resp;
	struct cb_ctx ctx = { c };
	struct store *s;
	int rv = ENG_ENOENT;
	char *body;

	memset(&req, 0, sizeof(req));
	memset(&resp, 0, sizeof(resp));
	resp.status = 200;
	req.method = method;
	req.rest = r->rest;
	req.body = r->body;
	req.body_len = r->len;
	req.arg = cb_arg;
	req.header = cb_header;
	req.ctx = &ctx;
	pthread_rwlock_rdlock(&a->disp_lock);
	if (a->dispatch != NULL) {
		s = api_store_get(a);
		rv = dispatch_inbound(a->dispatch, s, r->chan, &req, &resp);
		api_store_put(a, s);
	}
	pthread_rwlock_unlock(&a->disp_lock);
	if (rv == ENG_ENOENT)
		return api_reply_error(c, r, MHD_HTTP_NOT_FOUND, "not_found",
		    "no channel takes callbacks here", NULL);
	if (rv != 0 && resp.status < 400) {
		/* Ours (the store): the gateway should call again. */
		return api_reply_error(c, r, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "try_again", eng_strerror(rv), NULL);
	}
	if ((body = strdup(resp.body)) == NULL)
		return MHD_NO;
	return api_reply_text(c, r, resp.status ? resp.status : 200,
	    resp.content_type ? resp.content_type : "text/plain", body,
	    strlen(body));
}
