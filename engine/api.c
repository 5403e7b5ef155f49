/*
 * engine/api.c - the HTTP server: start, stop, routing, replies.
 *
 * libmicrohttpd's two-phase idiom: the first call for a request only
 * sets up its context; the body arrives in later calls; the answer is
 * queued on the last call, so connections are kept alive.
 */
#include "engine/api_int.h"
#include "engine/clock.h"
#include "engine/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define API_PREFIX "/api/v1/"

static enum MHD_Result too_large_now(struct MHD_Connection *c,
    struct api_req *r);
static enum MHD_Result handle(struct MHD_Connection *c, struct api_req *r,
    const char *method);

static const char *const route_names[ROUTE_COUNT] = {
	[ROUTE_NONE] = "none",
	[ROUTE_HEALTHZ] = "healthz",
	[ROUTE_METRICS] = "metrics",
	[ROUTE_REGION] = "region",
	[ROUTE_REGION_RESPONDERS] = "region_responders",
	[ROUTE_REGION_DEVICES] = "region_devices",
	[ROUTE_IMPORT] = "import",
	[ROUTE_BACKUP] = "backup",
	[ROUTE_CAP] = "cap",
	[ROUTE_PLAN] = "plan",
	[ROUTE_ALERTS] = "alerts",
	[ROUTE_ALERT] = "alert",
	[ROUTE_ALERT_CHAIN] = "alert_chain",
	[ROUTE_ALERT_CAP] = "alert_cap",
	[ROUTE_ALERT_DELIVERIES] = "alert_deliveries",
	[ROUTE_ALERT_ANSWERS] = "alert_answers",
	[ROUTE_ALERT_REPORT] = "alert_report",
	[ROUTE_ALERT_UNANSWERED] = "alert_unanswered",
	[ROUTE_ALERT_ANSWER_ADD] = "alert_answer_add",
	[ROUTE_ANSWER_LINK] = "answer_link",
	[ROUTE_CALLBACK] = "callback",
	[ROUTE_LOGIN] = "login",
	[ROUTE_LOGOUT] = "logout",
	[ROUTE_ME] = "me",
	[ROUTE_USERS] = "users",
	[ROUTE_USER] = "user",
	[ROUTE_TOKENS] = "tokens",
	[ROUTE_TOKEN] = "token",
	[ROUTE_AUDIT] = "audit",
	[ROUTE_WARNINGS] = "warnings",
	[ROUTE_WARNING_UPDATE] = "warning_update",
	[ROUTE_WARNING_CANCEL] = "warning_cancel",
	[ROUTE_PENDING] = "warnings_pending",
	[ROUTE_PENDING_APPROVE] = "warning_approve",
	[ROUTE_PENDING_REJECT] = "warning_reject",
	[ROUTE_CONSOLE] = "console",
	[ROUTE_NOT_FOUND] = "not_found",
};

static const int status_slots[API_STATUS_SLOTS] = {
	200, 201, 204, 400, 401, 403, 404, 405, 409, 413, 415, 422, 429,
	500, 503, 0 /* other */
};

const char *
api_route_name(enum api_route r)
{
	return r < ROUTE_COUNT ? route_names[r] : "none";
}

int
api_status_slot(int status)
{
	int i;

	for (i = 0; i < API_STATUS_SLOTS - 1; i++)
		if (status_slots[i] == status)
			return i;
	return API_STATUS_SLOTS - 1;
}

int
api_slot_status(int slot)
{
	return status_slots[slot];
}

struct store *
api_store_get(struct api *a)
{
	struct store *s;

	pthread_mutex_lock(&a->lock);
	while (a->nfree == 0)
		pthread_cond_wait(&a->cond, &a->lock);
	s = a->pool[--a->nfree];
	pthread_mutex_unlock(&a->lock);
	return s;
}

void
api_store_put(struct api *a, struct store *s)
{
	pthread_mutex_lock(&a->lock);
	a->pool[a->nfree++] = s;
	pthread_cond_broadcast(&a->cond);
	pthread_mutex_unlock(&a->lock);
}

const char *
api_arg(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
}

int
api_arg_ll(struct MHD_Connection *c, const char *name, long long lo,
    long long hi, long long def, long long *out)
{
	const char *v = api_arg(c, name);
	char *end;
	long long x;

	if (v == NULL || *v == '\0') {
		*out = def;
		return 0;
	}
	errno = 0;
	x = strtoll(v, &end, 10);
	if (errno != 0 || *end != '\0' || x < lo || x > hi)
		return -1;
	*out = x;
	return 0;
}

static enum MHD_Result
queue(struct MHD_Connection *c, struct api_req *r, int status,
    struct MHD_Response *resp)
{
	enum MHD_Result ret;

	if (resp == NULL)
		return MHD_NO;
	(void)MHD_add_response_header(resp, "Cache-Control", "no-store");
	(void)MHD_add_response_header(resp, "X-Content-Type-Options",
	    "nosniff");
	if (status == MHD_HTTP_UNAUTHORIZED)
		(void)MHD_add_response_header(resp,
		    MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"gong\"");
	ret = MHD_queue_response(c, (unsigned)status, resp);
	MHD_destroy_response(resp);
	if (ret == MHD_YES)
		r->status = status;
	return ret;
}

enum MHD_Result
api_reply_text(struct MHD_Connection *c, struct api_req *r, int status,
    const char *ctype, char *text, size_t len)
{
	struct MHD_Response *resp;

	resp = MHD_create_response_from_buffer(len, text,
	    MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(text);
		return MHD_NO;
	}
	(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    ctype);
	return queue(c, r, status, resp);
}

enum MHD_Result
api_reply_json(struct MHD_Connection *c, struct api_req *r, int status,
    json_t *j)
{
	char *text;

	if (j == NULL)
		return MHD_NO;
	text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (text == NULL)
		return MHD_NO;
	return api_reply_text(c, r, status, "application/json; charset=utf-8",
	    text, strlen(text));
}

enum MHD_Result
api_reply_error(struct MHD_Connection *c, struct api_req *r, int status,
    const char *code, const char *msg, json_t *errors)
{
	json_t *j;

	j = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg);
	if (j != NULL && errors != NULL)
		(void)json_object_set_new(j, "errors", errors);
	else if (errors != NULL)
		json_decref(errors);
	return api_reply_json(c, r, status, j);
}

enum MHD_Result
api_reply_json_hdr(struct MHD_Connection *c, struct api_req *r, int status,
    json_t *j, const char *const *hdr)
{
	struct MHD_Response *resp;
	char *text;
	size_t i;

	if (j == NULL)
		return MHD_NO;
	text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (text == NULL)
		return MHD_NO;
	resp = MHD_create_response_from_buffer(strlen(text), text,
	    MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(text);
		return MHD_NO;
	}
	(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "application/json; charset=utf-8");
	for (i = 0; hdr != NULL && hdr[i] != NULL && hdr[i + 1] != NULL;
	    i += 2)
		(void)MHD_add_response_header(resp, hdr[i], hdr[i + 1]);
	return queue(c, r, status, resp);
}

/* Map the path to a route; fills r->code. */
static enum api_route
route_of(const char *url, struct api_req *r)
{
	const char *p, *slash;
	size_t n;

	if (strcmp(url, "/healthz") == 0)
		return ROUTE_HEALTHZ;
	if (strcmp(url, "/metrics") == 0)
		return ROUTE_METRICS;
	if (strncmp(url, "/cb/", 4) == 0) {
		/* /cb/{secret}/{channel}[/{rest}] : a gateway calling back
		 * to the URL gongd gave it.  The secret is checked in
		 * dispatch(); a wrong one is answered as not found. */
		p = url + 4;
		slash = strchr(p, '/');
		n = slash ? (size_t)(slash - p) : strlen(p);
		if (slash == NULL || n == 0 || n >= sizeof(r->cbsecret))
			return ROUTE_NOT_FOUND;
		memcpy(r->cbsecret, p, n);
		r->cbsecret[n] = '\0';
		p = slash + 1;
		slash = strchr(p, '/');
		n = slash ? (size_t)(slash - p) : strlen(p);
		if (n == 0 || n >= sizeof(r->chan) ||
		    (slash && strlen(slash) >= sizeof(r->rest)))
			return ROUTE_NOT_FOUND;
		memcpy(r->chan, p, n);
		r->chan[n] = '\0';
		(void)snprintf(r->rest, sizeof(r->rest), "%s",
		    slash ? slash : "");
		return ROUTE_CALLBACK;
	}
	if (strncmp(url, "/a/", 3) == 0) {
		/* /a/{token}: an answer link; the token is its own
		 * credential (checked in api_h_answer_link). */
		n = strlen(url + 3);
		if (n == 0 || n >= sizeof(r->rest) || strchr(url + 3, '/'))
			return ROUTE_NOT_FOUND;
		memcpy(r->rest, url + 3, n + 1);
		return ROUTE_ANSWER_LINK;
	}
	if (strcmp(url, "/") == 0 || strcmp(url, "/console/") == 0 ||
	    strncmp(url, "/console/", 9) == 0) {
		/* The console's files; the handler checks the name. */
		p = url[1] == '\0' ? "" : url + 9;
		if (strlen(p) >= sizeof(r->rest))
			return ROUTE_NOT_FOUND;
		(void)snprintf(r->rest, sizeof(r->rest), "%s", p);
		return ROUTE_CONSOLE;
	}
	if (strncmp(url, API_PREFIX, strlen(API_PREFIX)) != 0)
		return ROUTE_NOT_FOUND;
	p = url + strlen(API_PREFIX);
	if (strcmp(p, "backup") == 0)
		return ROUTE_BACKUP;
	if (strcmp(p, "cap") == 0)
		return ROUTE_CAP;
	if (strcmp(p, "plan") == 0)
		return ROUTE_PLAN;
	if (strcmp(p, "alerts") == 0)
		return ROUTE_ALERTS;
	if (strcmp(p, "login") == 0)
		return ROUTE_LOGIN;
	if (strcmp(p, "logout") == 0)
		return ROUTE_LOGOUT;
	if (strcmp(p, "me") == 0)
		return ROUTE_ME;
	if (strcmp(p, "users") == 0)
		return ROUTE_USERS;
	if (strcmp(p, "tokens") == 0)
		return ROUTE_TOKENS;
	if (strcmp(p, "audit") == 0)
		return ROUTE_AUDIT;
	if (strcmp(p, "warnings") == 0)
		return ROUTE_WARNINGS;
	if (strcmp(p, "warnings/pending") == 0)
		return ROUTE_PENDING;
	if (strncmp(p, "warnings/", 9) == 0) {
		int pend = strncmp(p + 9, "pending/", 8) == 0;

		p += pend ? 17 : 9;
		slash = strchr(p, '/');
		n = slash ? (size_t)(slash - p) : 0;
		if (slash == NULL || n == 0 || n >= sizeof(r->code))
			return ROUTE_NOT_FOUND;
		memcpy(r->code, p, n);
		r->code[n] = '\0';
		if (pend && strcmp(slash, "/approve") == 0)
			return ROUTE_PENDING_APPROVE;
		if (pend && strcmp(slash, "/reject") == 0)
			return ROUTE_PENDING_REJECT;
		if (!pend && strcmp(slash, "/update") == 0)
			return ROUTE_WARNING_UPDATE;
		if (!pend && strcmp(slash, "/cancel") == 0)
			return ROUTE_WARNING_CANCEL;
		return ROUTE_NOT_FOUND;
	}
	if (strncmp(p, "users/", 6) == 0 || strncmp(p, "tokens/", 7) == 0) {
		int u = p[0] == 'u';

		p += u ? 6 : 7;
		n = strlen(p);
		if (n == 0 || n >= sizeof(r->code) || strchr(p, '/') != NULL)
			return ROUTE_NOT_FOUND;
		memcpy(r->code, p, n + 1);
		return u ? ROUTE_USER : ROUTE_TOKEN;
	}
	if (strncmp(p, "alerts/", 7) == 0) {
		p += 7;
		slash = strchr(p, '/');
		n = slash ? (size_t)(slash - p) : strlen(p);
		if (n == 0 || n >= sizeof(r->code))
			return ROUTE_NOT_FOUND;
		memcpy(r->code, p, n);
		r->code[n] = '\0';
		if (slash == NULL)
			return ROUTE_ALERT;
		if (strcmp(slash, "/chain") == 0)
			return ROUTE_ALERT_CHAIN;
		if (strcmp(slash, "/cap") == 0)
			return ROUTE_ALERT_CAP;
		if (strcmp(slash, "/deliveries") == 0)
			return ROUTE_ALERT_DELIVERIES;
		if (strcmp(slash, "/answers") == 0)
			return ROUTE_ALERT_ANSWERS;
		if (strcmp(slash, "/report") == 0)
			return ROUTE_ALERT_REPORT;
		if (strcmp(slash, "/unanswered") == 0)
			return ROUTE_ALERT_UNANSWERED;
		return ROUTE_NOT_FOUND;
	}
	if (strncmp(p, "import/", 7) == 0) {
		p += 7;
		n = strlen(p);
		if (n == 0 || n >= sizeof(r->code) || strchr(p, '/') != NULL)
			return ROUTE_NOT_FOUND;
		memcpy(r->code, p, n + 1);
		return ROUTE_IMPORT;
	}
	if (strncmp(p, "regions/", 8) == 0) {
		p += 8;
		slash = strchr(p, '/');
		n = slash ? (size_t)(slash - p) : strlen(p);
		if (n == 0 || n >= sizeof(r->code))
			return ROUTE_NOT_FOUND;
		memcpy(r->code, p, n);
		r->code[n] = '\0';
		if (slash == NULL)
			return ROUTE_REGION;
		if (strcmp(slash, "/responders") == 0)
			return ROUTE_REGION_RESPONDERS;
		if (strcmp(slash, "/devices") == 0)
			return ROUTE_REGION_DEVICES;
	}
	return ROUTE_NOT_FOUND;
}

static const char *
bearer(struct MHD_Connection *c)
{
	const char *h;

	h = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return NULL;
	h += 7;
	while (*h == ' ')
		h++;
	return h;
}

static int
token_eq(const char *given, const char *want)
{
	size_t n = strlen(given), tn = strlen(want);

	return n == tn && tn > 0 && sodium_memcmp(given, want, tn) == 0;
}

int
api_who(struct api *a, struct MHD_Connection *c,
    const struct api_feedc **feed)
{
	unsigned char sha[crypto_hash_sha256_BYTES];
	const char *h = bearer(c);
	size_t i;

	*feed = NULL;
	if (h == NULL)
		return 0;
	if (token_eq(h, a->token))
		return 1;
	(void)crypto_hash_sha256(sha, (const unsigned char *)h, strlen(h));
	pthread_rwlock_rdlock(&a->feeds_lock);
	for (i = 0; i < a->feeds.n; i++) {
		const struct api_feedc *f = &a->feeds.v[i];

		if ((f->token != NULL && token_eq(h, f->token)) ||
		    (f->has_sha && sodium_memcmp(sha, f->sha,
		    sizeof(sha)) == 0)) {
			*feed = f;
			return 2;
		}
	}
	pthread_rwlock_unlock(&a->feeds_lock);
	return 0;
}

void
api_feed_release(struct api *a)
{
	pthread_rwlock_unlock(&a->feeds_lock);
}

struct ingest *
api_ingest_get(struct api *a)
{
	struct ingest *ig;

	pthread_mutex_lock(&a->lock);
	while (a->ningest_free == 0)
		pthread_cond_wait(&a->cond, &a->lock);
	ig = a->ingests[--a->ningest_free];
	pthread_mutex_unlock(&a->lock);
	return ig;
}

void
api_ingest_put(struct api *a, struct ingest *ig)
{
	pthread_mutex_lock(&a->lock);
	a->ingests[a->ningest_free++] = ig;
	pthread_cond_broadcast(&a->cond);
	pthread_mutex_unlock(&a->lock);
}

static const char *
route_method(enum api_route rt)
{
	return rt == ROUTE_IMPORT || rt == ROUTE_CAP || rt == ROUTE_PLAN ||
	    rt == ROUTE_ALERT_ANSWER_ADD || rt == ROUTE_WARNINGS ||
	    rt == ROUTE_WARNING_UPDATE || rt == ROUTE_WARNING_CANCEL ||
	    rt == ROUTE_PENDING_APPROVE || rt == ROUTE_PENDING_REJECT ?
	    MHD_HTTP_METHOD_POST :
	    MHD_HTTP_METHOD_GET;
}

static enum MHD_Result
dispatch(struct MHD_Connection *c, struct api_req *r, const char *method)
{
	struct api *a = r->api;
	enum MHD_Result ret;
	char msg[128];

	if (r->route == ROUTE_NOT_FOUND)
		return api_reply_error(c, r, MHD_HTTP_NOT_FOUND, "not_found",
		    "no such endpoint", NULL);
	/* Gateways call back with GET or POST; the channel's driver checks
	 * what it needs (its own signature or secret). */
	if (r->route == ROUTE_CALLBACK) {
		if (!token_eq(r->cbsecret, a->cb_secret))
			return api_reply_error(c, r, MHD_HTTP_NOT_FOUND,
			    "not_found", "no such endpoint", NULL);
		if (r->too_big)
			return too_large_now(c, r);
		return api_h_callback(c, r, method);
	}
	/* GET lists an alert's answers, POST records one (officer). */
	if (r->route == ROUTE_ALERT_ANSWERS &&
	    strcmp(method, MHD_HTTP_METHOD_POST) == 0)
		r->route = ROUTE_ALERT_ANSWER_ADD;
	if (r->route == ROUTE_ANSWER_LINK) {
		if (r->too_big)
			return too_large_now(c, r);
		return api_h_answer_link(c, r, method);
	}
	if (r->route == ROUTE_CONSOLE)
		return api_h_console(c, r, method);
	if (!api_auth_route(r->route) &&
	    strcmp(method, route_method(r->route)) != 0 &&
	    !(strcmp(method, MHD_HTTP_METHOD_HEAD) == 0 &&
	    strcmp(route_method(r->route), MHD_HTTP_METHOD_GET) == 0)) {
		struct MHD_Response *resp;
		char *text;

		(void)snprintf(msg, sizeof(msg), "use %s",
		    route_method(r->route));
		json_t *j = json_pack("{s:{s:s,s:s}}", "error", "code",
		    "method_not_allowed", "message", msg);

		text = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
		json_decref(j);
		if (text == NULL)
			return MHD_NO;
		resp = MHD_create_response_from_buffer(strlen(text), text,
		    MHD_RESPMEM_MUST_FREE);
		if (resp == NULL) {
			free(text);
			return MHD_NO;
		}
		(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW,
		    route_method(r->route));
		(void)MHD_add_response_header(resp,
		    MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
		return queue(c, r, MHD_HTTP_METHOD_NOT_ALLOWED, resp);
	}
	/* Who is calling, and what the route allows them (api_auth.c);
	 * POST /api/v1/cap also takes feed tokens: checked there. */
	if (r->route != ROUTE_HEALTHZ && r->route != ROUTE_METRICS &&
	    r->route != ROUTE_LOGIN) {
		if (api_authenticate(c, r, method, &ret) != 0 ||
		    api_authorize(c, r, &ret) != 0) {
			api_audit_finish(c, r, method);
			return ret;
		}
	}
	if (r->too_big && r->route == ROUTE_CAP &&
	    r->who.kind == AUTH_NONE) {
		const struct api_feedc *f;

		/* Who it was decides what the client is told. */
		switch (api_who(a, c, &f)) {
		case 2:
			api_feed_release(a);
			break;
		default:
			return api_reply_error(c, r, MHD_HTTP_UNAUTHORIZED,
			    "unauthorized", "a valid bearer token is required",
			    NULL);
		}
	}
	if (r->too_big) {
		(void)snprintf(msg, sizeof(msg), "request body exceeds %zu "
		    "bytes", a->cfg.max_body);
		ret = api_reply_error(c, r, MHD_HTTP_CONTENT_TOO_LARGE,
		    "body_too_large", msg, NULL);
		api_audit_finish(c, r, method);	/* a refused change */
		return ret;
	}
	ret = handle(c, r, method);
	api_audit_finish(c, r, method);
	return ret;
}

static enum MHD_Result
handle(struct MHD_Connection *c, struct api_req *r, const char *method)
{
	if (api_auth_route(r->route))
		return api_h_auth(c, r, method);
	switch (r->route) {
	case ROUTE_HEALTHZ:
		return api_h_healthz(c, r);
	case ROUTE_METRICS:
		return api_h_metrics(c, r);
	case ROUTE_REGION:
		return api_h_region(c, r);
	case ROUTE_REGION_RESPONDERS:
	case ROUTE_REGION_DEVICES:
		return api_h_region_list(c, r);
	case ROUTE_IMPORT:
		return api_h_import(c, r);
	case ROUTE_BACKUP:
		return api_h_backup(c, r);
	case ROUTE_CAP:
		return api_h_cap_post(c, r);
	case ROUTE_PLAN:
		return api_h_plan(c, r);
	case ROUTE_ALERTS:
		return api_h_alerts(c, r);
	case ROUTE_ALERT:
	case ROUTE_ALERT_CHAIN:
	case ROUTE_ALERT_CAP:
		return api_h_alert(c, r);
	case ROUTE_ALERT_DELIVERIES:
		return api_h_deliveries(c, r);
	case ROUTE_ALERT_ANSWERS:
		return api_h_answers(c, r);
	case ROUTE_ALERT_REPORT:
		return api_h_report(c, r);
	case ROUTE_ALERT_UNANSWERED:
		return api_h_unanswered(c, r);
	case ROUTE_ALERT_ANSWER_ADD:
		return api_h_answer_add(c, r);
	case ROUTE_WARNINGS:
	case ROUTE_WARNING_UPDATE:
	case ROUTE_WARNING_CANCEL:
	case ROUTE_PENDING:
	case ROUTE_PENDING_APPROVE:
	case ROUTE_PENDING_REJECT:
		return api_h_warnings(c, r, method);
	default:
		return api_reply_error(c, r, MHD_HTTP_NOT_FOUND, "not_found",
		    "no such endpoint", NULL);
	}
}

static enum MHD_Result
too_large_now(struct MHD_Connection *c, struct api_req *r)
{
	char msg[128];

	(void)snprintf(msg, sizeof(msg), "request body exceeds %zu bytes",
	    r->api->cfg.max_body);
	return api_reply_error(c, r, MHD_HTTP_CONTENT_TOO_LARGE,
	    "body_too_large", msg, NULL);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct api *a = cls;
	struct api_req *r = *con_cls;

	(void)version;
	if (r == NULL) {
		const char *cl;

		if ((r = calloc(1, sizeof(*r))) == NULL)
			return MHD_NO;
		r->api = a;
		r->route = route_of(url, r);
		*con_cls = r;
		cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl != NULL) {
			char *end;
			unsigned long long n;

			errno = 0;
			n = strtoull(cl, &end, 10);
			if (errno == 0 && *end == '\0' && n > a->cfg.max_body) {
				/* Refuse before reading the body. */
				r->too_big = 1;
				return too_large_now(c, r);
			}
		}
		return MHD_YES;
	}
	if (*upload_data_size != 0) {
		size_t n = *upload_data_size;

		*upload_data_size = 0;
		if (r->too_big)
			return MHD_YES;
		if (r->len + n > a->cfg.max_body) {
			r->too_big = 1;
			free(r->body);
			r->body = NULL;
			r->len = r->cap = 0;
			return MHD_YES;
		}
		if (r->len + n + 1 > r->cap) {
			size_t nc = r->cap ? r->cap : 65536;
			char *nb;

			while (nc < r->len + n + 1)
				nc *= 2;
			if (nc > a->cfg.max_body + 1)
				nc = a->cfg.max_body + 1;
			if ((nb = realloc(r->body, nc)) == NULL)
				return MHD_NO;
			r->body = nb;
			r->cap = nc;
		}
		memcpy(r->body + r->len, upload_data, n);
		r->len += n;
		r->body[r->len] = '\0';
		return MHD_YES;
	}
	if (r->status != 0)
		return MHD_YES;	/* already answered (early 413) */
	return dispatch(c, r, method);
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct api *a = cls;
	struct api_req *r = *con_cls;

	(void)c;
	(void)toe;
	if (r == NULL)
		return;
	if (r->status != 0)
		__atomic_fetch_add(&a->hits[r->route][api_status_slot(
		    r->status)], 1, __ATOMIC_RELAXED);
	if (r->status >= 500 || (log_enabled(LOG_LVL_DEBUG) && r->status))
		log_write(r->status >= 500 ? LOG_LVL_WARN : LOG_LVL_DEBUG,
		    "http.request", "route=%s status=%d",
		    api_route_name(r->route), r->status);
	free(r->body);
	free(r);
	*con_cls = NULL;
}

static char *
xstrdup(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

static void
free_channels(char **v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

static char **
copy_channels(const char *const *src)
{
	char **v;
	size_t n = 0, i;

	if (src == NULL)
		return NULL;
	while (src[n] != NULL)
		n++;
	if ((v = calloc(n + 1, sizeof(*v))) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if ((v[i] = strdup(src[i])) == NULL) {
			free_channels(v);
			return NULL;
		}
	}
	return v;
}

static void
feeds_release(struct api_feeds *fs)
{
	size_t i;

	for (i = 0; i < fs->n; i++) {
		if (fs->v[i].token != NULL)
			sodium_memzero(fs->v[i].token,
			    strlen(fs->v[i].token));
		free(fs->v[i].token);
		free(fs->v[i].name);
		free(fs->v[i].trusted_cert);
		free(fs->v[i].regions);
	}
	free(fs->v);
	fs->v = NULL;
	fs->n = 0;
}

static int
feeds_copy(struct api_feeds *dst, const struct api_feed *src, size_t n)
{
	size_t i;

	dst->n = 0;
	if ((dst->v = calloc(n ? n : 1, sizeof(*dst->v))) == NULL)
		return ENG_ENOMEM;
	for (i = 0; i < n; i++) {
		struct api_feedc *f = &dst->v[dst->n++];
		const struct api_feed *s = &src[i];

		f->src = s->src;
		f->name = xstrdup(s->src.name ? s->src.name : "feed");
		f->token = xstrdup(s->token);
		f->trusted_cert = xstrdup(s->src.trusted_cert);
		if (s->token_sha256 != NULL) {
			memcpy(f->sha, s->token_sha256, sizeof(f->sha));
			f->has_sha = 1;
		}
		if (s->src.nregions > 0 && (f->regions = calloc(
		    s->src.nregions, sizeof(*f->regions))) != NULL)
			memcpy(f->regions, s->src.regions,
			    s->src.nregions * sizeof(*f->regions));
		if (f->name == NULL || (s->token != NULL && f->token == NULL) ||
		    (s->src.trusted_cert != NULL && f->trusted_cert == NULL) ||
		    (s->src.nregions > 0 && f->regions == NULL)) {
			feeds_release(dst);
			return ENG_ENOMEM;
		}
		f->src.name = f->name;
		f->src.via = "http";
		f->src.trusted_cert = f->trusted_cert;
		f->src.regions = (const char (*)[REGION_CODE_SIZE])f->regions;
	}
	return 0;
}

int
api_set_feeds(struct api *a, const struct api_feed *feeds, size_t n)
{
	struct api_feeds nf, old;

	if (feeds_copy(&nf, feeds, n) != 0)
		return ENG_ENOMEM;
	pthread_rwlock_wrlock(&a->feeds_lock);
	old = a->feeds;
	a->feeds = nf;
	pthread_rwlock_unlock(&a->feeds_lock);
	feeds_release(&old);
	return 0;
}

void
api_set_dispatch(struct api *a, struct dispatch *d)
{
	pthread_rwlock_wrlock(&a->disp_lock);
	a->dispatch = d;
	pthread_rwlock_unlock(&a->disp_lock);
}

void
api_set_escalate(struct api *a, struct escalate *e)
{
	pthread_rwlock_wrlock(&a->disp_lock);
	a->escalate = e;
	pthread_rwlock_unlock(&a->disp_lock);
}

int
api_set_channels(struct api *a, const char *const *channels)
{
	char **v = copy_channels(channels), **old;

	if (channels != NULL && v == NULL)
		return ENG_ENOMEM;
	pthread_mutex_lock(&a->lock);
	old = a->channels;
	a->channels = v;
	pthread_mutex_unlock(&a->lock);
	free_channels(old);
	return 0;
}

int
api_start(const struct api_config *c, struct api **out,
    struct eng_errbuf *eb)
{
	struct sockaddr_in6 sin6;
	struct sockaddr_in sin;
	struct sockaddr *sa;
	const union MHD_DaemonInfo *info;
	unsigned flags;
	struct api *a;
	size_t i;
	int rv;

	*out = NULL;
	if (sodium_init() < 0)
		return eng_error(eb, ENG_EIO, "libsodium failed to start");
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return eng_error(eb, ENG_ENOMEM, "out of memory");
	a->cfg = *c;
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->cond, NULL);
	pthread_rwlock_init(&a->feeds_lock, NULL);
	pthread_rwlock_init(&a->disp_lock, NULL);
	if (c->ingest == NULL) {
		rv = eng_error(eb, ENG_EINVAL, "api: no ingest config");
		goto fail;
	}
	if (feeds_copy(&a->feeds, c->feeds, c->nfeeds) != 0) {
		rv = eng_error(eb, ENG_ENOMEM, "out of memory");
		goto fail;
	}
	a->host = xstrdup(c->host);
	a->db_path = xstrdup(c->db_path);
	a->data_dir = xstrdup(c->data_dir);
	a->root = xstrdup(c->root ? c->root : "");
	a->token = xstrdup(c->admin_token ? c->admin_token : "");
	a->cb_secret = xstrdup(c->callback_secret ? c->callback_secret : "");
	if ((c->public_url != NULL &&
	    (a->public_url = xstrdup(c->public_url)) == NULL) ||
	    auth_limiter_new(&eng_clock_system, AUTH_LIMITER_DEFAULT,
	    &a->limiter) != 0) {
		rv = eng_error(eb, ENG_ENOMEM, "out of memory");
		goto fail;
	}
	if (c->answer_key != NULL &&
	    (a->answer_key = xstrdup(c->answer_key)) == NULL) {
		rv = eng_error(eb, ENG_ENOMEM, "out of memory");
		goto fail;
	}
	if (c->console_dir != NULL &&
	    (a->console_dir = xstrdup(c->console_dir)) == NULL) {
		rv = eng_error(eb, ENG_ENOMEM, "out of memory");
		goto fail;
	}
	a->version = xstrdup(c->version ? c->version : "unknown");
	a->channels = copy_channels(c->channels);
	if (a->host == NULL || a->db_path == NULL || a->data_dir == NULL ||
	    a->root == NULL || a->token == NULL || a->version == NULL ||
	    a->cb_secret == NULL ||
	    (c->channels != NULL && a->channels == NULL)) {
		rv = eng_error(eb, ENG_ENOMEM, "out of memory");
		goto fail;
	}
	a->cfg.host = a->host;
	a->cfg.db_path = a->db_path;
	a->cfg.data_dir = a->data_dir;
	a->cfg.root = a->root;
	a->cfg.admin_token = a->token;
	a->cfg.public_url = a->public_url;
	a->cfg.console_dir = a->console_dir;
	a->cfg.version = a->version;
	a->cfg.channels = NULL;
	a->cfg.ingest = NULL;
	a->cfg.feeds = NULL;
	a->cfg.nfeeds = 0;
	if (a->cfg.admin_cap_max_bytes == 0)
		a->cfg.admin_cap_max_bytes = 1024 * 1024;
	if (a->cfg.threads == 0)
		a->cfg.threads = 2;
	a->npool = a->cfg.threads + 1;
	if ((a->pool = calloc(a->npool, sizeof(*a->pool))) == NULL) {
		rv = eng_error(eb, ENG_ENOMEM, "out of memory");
		goto fail;
	}
	if ((a->ingests = calloc(a->npool, sizeof(*a->ingests))) == NULL) {
		rv = eng_error(eb, ENG_ENOMEM, "out of memory");
		goto fail;
	}
	for (i = 0; i < a->npool; i++) {
		if ((rv = store_open(a->db_path, 0, &a->pool[i], eb)) != 0)
			goto fail;
		store_set_root(a->pool[i], a->root);
		a->nfree++;
		if ((rv = ingest_new(c->ingest, &a->ingests[i], eb)) != 0)
			goto fail;
		a->ningest_free++;
	}

	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	    MHD_USE_ERROR_LOG;
	if (inet_pton(AF_INET, a->host, &sin.sin_addr) == 1) {
		sin.sin_family = AF_INET;
		sin.sin_port = htons((uint16_t)c->port);
		sa = (struct sockaddr *)&sin;
	} else if (inet_pton(AF_INET6, a->host, &sin6.sin6_addr) == 1) {
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons((uint16_t)c->port);
		sa = (struct sockaddr *)&sin6;
		flags |= MHD_USE_IPv6;
	} else {
		rv = eng_error(eb, ENG_EINVAL, "listen address '%s' is not an "
		    "IPv4 or IPv6 address", a->host);
		goto fail;
	}
	a->started_mono_ms = eng_mono_ms();
	a->mhd = MHD_start_daemon(flags, (uint16_t)c->port, NULL, NULL,
	    on_request, a,
	    MHD_OPTION_SOCK_ADDR, sa,
	    MHD_OPTION_THREAD_POOL_SIZE, a->cfg.threads,
	    MHD_OPTION_CONNECTION_TIMEOUT, a->cfg.conn_timeout_s,
	    MHD_OPTION_CONNECTION_LIMIT, a->cfg.max_conns,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, a->cfg.max_conns_per_ip,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)65536,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, a,
	    MHD_OPTION_END);
	if (a->mhd == NULL) {
		rv = eng_error(eb, ENG_EIO, "cannot listen on %s port %u "
		    "(in use, or not an address of this machine)", a->host,
		    c->port);
		goto fail;
	}
	info = MHD_get_daemon_info(a->mhd, MHD_DAEMON_INFO_BIND_PORT);
	a->port = info != NULL ? info->port : c->port;
	*out = a;
	return 0;
fail:
	api_stop(a);
	return rv;
}

unsigned
api_port(const struct api *a)
{
	return a->port;
}

void
api_stop(struct api *a)
{
	size_t i;

	if (a == NULL)
		return;
	if (a->mhd != NULL)
		MHD_stop_daemon(a->mhd);
	for (i = 0; a->pool != NULL && i < a->npool; i++)
		store_close(a->pool[i]);
	free(a->pool);
	for (i = 0; a->ingests != NULL && i < a->npool; i++)
		ingest_free(a->ingests[i]);
	free(a->ingests);
	feeds_release(&a->feeds);
	pthread_rwlock_destroy(&a->feeds_lock);
	pthread_rwlock_destroy(&a->disp_lock);
	free_channels(a->channels);
	pthread_mutex_destroy(&a->lock);
	pthread_cond_destroy(&a->cond);
	free(a->host);
	free(a->db_path);
	free(a->data_dir);
	free(a->root);
	if (a->token != NULL)
		sodium_memzero(a->token, strlen(a->token));
	free(a->token);
	if (a->cb_secret != NULL)
		sodium_memzero(a->cb_secret, strlen(a->cb_secret));
	free(a->cb_secret);
	if (a->answer_key != NULL)
		sodium_memzero(a->answer_key, strlen(a->answer_key));
	free(a->answer_key);
	free(a->console_dir);
	free(a->version);
	free(a->public_url);
	auth_limiter_free(a->limiter);
	free(a);
}
