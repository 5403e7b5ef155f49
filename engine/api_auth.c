/*
 * engine/api_auth.c - accounts over HTTP: who is calling, what the route
 * allows them, the audit row of every request that changes state or is
 * refused, and the routes of accounts:
 *
 *   POST   /api/v1/login         {name, password} -> cookie gong_session,
 *                                {user, role, jurisdiction, csrf, expires};
 *                                with "token_name" instead an API token
 *                                of that name, shown once, and no
 *                                session (gong login)
 *   POST   /api/v1/logout        ends the session of the cookie
 *   GET    /api/v1/me            the caller
 *   GET    /api/v1/users         admin
 *   POST   /api/v1/users         admin: {name, role, jurisdiction,
 *                                display_name?, password?} (no password:
 *                                a random one, answered once)
 *   PATCH  /api/v1/users/{name}  admin: {role?, jurisdiction?, disabled?,
 *                                password?, display_name?}; a user their
 *                                own: {password, current_password,
 *                                display_name?}
 *   GET    /api/v1/tokens        the caller's tokens (admin: ?all=1)
 *   POST   /api/v1/tokens        {name, user?} -> the token, shown once
 *   DELETE /api/v1/tokens/{id}   revoke (own; admin: any)
 *   GET    /api/v1/audit         ?since=&actor=&action=&limit= (admin: all
 *                                rows; officer: their jurisdiction's)
 *
 * Bodies are JSON objects of at most AUTH_BODY_MAX bytes (413 above), as
 * application/json (415 otherwise); unknown fields, wrong types and
 * control characters are 400 naming the field.
 */
#include "engine/api_int.h"
#include "cap/cap.h"
#include "engine/clock.h"
#include "engine/ingest.h"
#include "engine/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#define AUTH_BODY_MAX	4096
#define COOKIE_NAME	"gong_session"

static const struct eng_clock *const clk = &eng_clock_system;

int
api_auth_route(enum api_route rt)
{
	return rt >= ROUTE_LOGIN && rt <= ROUTE_AUDIT;
}

void
api_peer_addr(struct MHD_Connection *c, char *buf, size_t size)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;

	(void)snprintf(buf, size, "?");
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || (sa = ci->client_addr) == NULL)
		return;
	if (sa->sa_family == AF_INET)
		(void)inet_ntop(AF_INET,
		    &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
		    buf, (socklen_t)size);
	else if (sa->sa_family == AF_INET6)
		(void)inet_ntop(AF_INET6,
		    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
		    buf, (socklen_t)size);
}

static const char *
header(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

static int
safe_method(const char *m)
{
	return strcmp(m, MHD_HTTP_METHOD_GET) == 0 ||
	    strcmp(m, MHD_HTTP_METHOD_HEAD) == 0;
}

static const char *
bearer_of(struct MHD_Connection *c)
{
	const char *h = header(c, MHD_HTTP_HEADER_AUTHORIZATION);

	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return NULL;
	h += 7;
	while (*h == ' ')
		h++;
	return h;
}

static enum MHD_Result
unauth(struct MHD_Connection *c, struct api_req *r, const char *msg)
{
	return api_reply_error(c, r, MHD_HTTP_UNAUTHORIZED, "unauthorized",
	    msg, NULL);
}

enum MHD_Result
api_deny(struct MHD_Connection *c, struct api_req *r, const char *why)
{
	(void)snprintf(r->audit.outcome, sizeof(r->audit.outcome), "denied");
	return api_reply_error(c, r, MHD_HTTP_FORBIDDEN, "forbidden", why,
	    NULL);
}

/* The csrf field of a form body (application/x-www-form-urlencoded). */
static int
form_csrf(struct MHD_Connection *c, const struct api_req *r, char *out,
    size_t size)
{
	const char *ct = header(c, MHD_HTTP_HEADER_CONTENT_TYPE), *p, *e;
	size_t n;

	out[0] = '\0';
	if (ct == NULL || strncasecmp(ct, "application/x-www-form-urlencoded",
	    33) != 0 || r->body == NULL)
		return -1;
	for (p = r->body; p != NULL && *p != '\0'; p = e ? e + 1 : NULL) {
		e = strchr(p, '&');
		n = e ? (size_t)(e - p) : strlen(p);
		if (n > 5 && strncmp(p, "csrf=", 5) == 0 && n - 5 < size) {
			memcpy(out, p + 5, n - 5);
			out[n - 5] = '\0';
			return 0;
		}
	}
	return -1;
}

int
api_authenticate(struct MHD_Connection *c, struct api_req *r,
    const char *method, enum MHD_Result *ret)
{
	struct api *a = r->api;
	struct eng_errbuf eb;
	struct store *s;
	const char *h, *ck, *x;
	char form[AUTH_HEX_SIZE + 1];
	int rv;

	eng_errbuf_init(&eb);
	memset(&r->who, 0, sizeof(r->who));
	if ((h = bearer_of(c)) != NULL) {
		if (auth_str_eq(h, a->token)) {
			r->who.kind = AUTH_ADMIN_TOKEN;
			r->who.role = AUTH_ROLE_ADMIN;
			(void)snprintf(r->who.name, sizeof(r->who.name),
			    "admin.token");
			(void)snprintf(r->who.jurisdiction,
			    sizeof(r->who.jurisdiction), "%s", a->root);
			return 0;
		}
		if (strncmp(h, "gong_", 5) == 0) {
			s = api_store_get(a);
			rv = auth_token_lookup(s, clk, h, &r->who, &eb);
			api_store_put(a, s);
			if (rv == 0)
				return 0;
			if (rv != ENG_EAUTH) {
				*ret = api_reply_error(c, r,
				    MHD_HTTP_SERVICE_UNAVAILABLE, "try_again",
				    eb.msg, NULL);
				return 1;
			}
		}
		if (r->route == ROUTE_CAP)
			return 0;	/* perhaps a feed's: checked there */
		*ret = unauth(c, r, "the bearer token is not valid (unknown, "
		    "revoked, or its account disabled)");
		return 1;
	}
	ck = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, COOKIE_NAME);
	if (ck != NULL && ck[0] != '\0') {
		s = api_store_get(a);
		rv = auth_session_lookup(s, clk, ck, &r->who, &eb);
		api_store_put(a, s);
		if (rv == ENG_EAUTH) {
			*ret = unauth(c, r, "the session has ended or expired: "
			    "log in again (POST /api/v1/login)");
			return 1;
		}
		if (rv != 0) {
			*ret = api_reply_error(c, r,
			    MHD_HTTP_SERVICE_UNAVAILABLE, "try_again", eb.msg,
			    NULL);
			return 1;
		}
		if (safe_method(method))
			return 0;
		if (!auth_origin_ok(header(c, "Origin"), header(c, "Referer"),
		    header(c, MHD_HTTP_HEADER_HOST), a->public_url)) {
			*ret = api_deny(c, r, "a cookie-authenticated request "
			    "from another origin is refused");
			(void)snprintf(r->audit.outcome,
			    sizeof(r->audit.outcome), "denied:cross_origin");
			return 1;
		}
		x = header(c, "X-CSRF-Token");
		if (x == NULL && form_csrf(c, r, form, sizeof(form)) == 0)
			x = form;
		if (x == NULL || !auth_str_eq(x, r->who.csrf)) {
			*ret = api_deny(c, r, "the CSRF token is missing or "
			    "wrong: send the session's csrf in X-CSRF-Token "
			    "(or the form field csrf)");
			(void)snprintf(r->audit.outcome,
			    sizeof(r->audit.outcome), "denied:csrf");
			return 1;
		}
		return 0;
	}
	if (r->route == ROUTE_CAP)
		return 0;
	*ret = unauth(c, r, "log in (POST /api/v1/login) or send "
	    "Authorization: Bearer <token>");
	return 1;
}

/* An alert id of the path, or 0 when it is not one (the handler says). */
static long long
path_id(const struct api_req *r)
{
	long long id;
	char *end;

	errno = 0;
	id = strtoll(r->code, &end, 10);
	if (errno != 0 || *end != '\0' || id <= 0)
		return 0;
	return id;
}

int
api_authorize(struct MHD_Connection *c, struct api_req *r,
    enum MHD_Result *ret)
{
	struct api *a = r->api;
	const struct auth_principal *p = &r->who;
	struct eng_errbuf eb;
	char why[256], code[REGION_CODE_SIZE];
	struct store *s;
	long long id;
	int rv;

	eng_errbuf_init(&eb);
	if (p->kind == AUTH_NONE)	/* POST /api/v1/cap: a feed's */
		return 0;
	switch (r->route) {
	case ROUTE_IMPORT:
		if (auth_allow(p, AUTH_IMPORT, NULL, why, sizeof(why)))
			return 0;
		break;
	case ROUTE_BACKUP:
		if (auth_allow(p, AUTH_BACKUP, NULL, why, sizeof(why)))
			return 0;
		break;
	case ROUTE_PLAN:
		if (auth_allow(p, AUTH_ISSUE, NULL, why, sizeof(why)))
			return 0;
		break;
	case ROUTE_ALERT_ANSWER_ADD:	/* the person's region: there */
		if (auth_allow(p, AUTH_ANSWER, NULL, why, sizeof(why)))
			return 0;
		break;
	case ROUTE_ALERT:
	case ROUTE_ALERT_CHAIN:
	case ROUTE_ALERT_CAP:
	case ROUTE_ALERT_DELIVERIES:
	case ROUTE_ALERT_ANSWERS:
	case ROUTE_ALERT_REPORT:
	case ROUTE_ALERT_UNANSWERED:
		if (!auth_allow(p, AUTH_READ, NULL, why, sizeof(why)))
			break;
		if (p->role == AUTH_ROLE_ADMIN || (id = path_id(r)) == 0)
			return 0;
		s = api_store_get(a);
		rv = store_alert_touches(s, id, p->jurisdiction, &eb);
		api_store_put(a, s);
		if (rv == 1 || rv == ENG_ENOENT)
			return 0;	/* unknown: the handler's 404 */
		if (rv < 0) {
			*ret = api_reply_error(c, r,
			    MHD_HTTP_INTERNAL_SERVER_ERROR, "store_error",
			    eb.msg, NULL);
			return 1;
		}
		(void)snprintf(r->audit.target, sizeof(r->audit.target),
		    "alert:%lld", id);
		(void)snprintf(why, sizeof(why), "read of alert %lld needs a "
		    "jurisdiction over one of its regions (%s's is %s)", id,
		    p->name, p->jurisdiction);
		break;
	case ROUTE_REGION:
	case ROUTE_REGION_RESPONDERS:
	case ROUTE_REGION_DEVICES:
		if (!auth_allow(p, AUTH_READ, NULL, why, sizeof(why)))
			break;
		if (p->role == AUTH_ROLE_ADMIN || region_code_norm(r->code,
		    strlen(r->code), code, &eb) != 0)
			return 0;	/* a bad code: the handler's 400 */
		/* A region's own page also for those below it. */
		if (auth_allow(p, AUTH_READ, code, why, sizeof(why)) ||
		    (r->route == ROUTE_REGION &&
		    region_code_within(p->jurisdiction, code)))
			return 0;
		break;
	default:
		return 0;
	}
	*ret = api_deny(c, r, why);
	return 1;
}

static const char *
outcome_of(int status, char *buf, size_t size)
{
	if (status >= 200 && status < 300)
		return "ok";
	if (status == 401)
		return "unauthenticated";
	if (status == 403)
		return "denied";
	if (status == 429)
		return "throttled";
	(void)snprintf(buf, size, "%s:%d", status >= 500 ? "error" :
	    "rejected", status);
	return buf;
}

/*
 * Anonymous refusals (401 without any credentials that held) are audited
 * one row each up to REFUSED_BURST per address and minute; past that
 * they are counted, and the address's next row written says how many
 * were left out.  A flood of bad requests must not become a flood of
 * durable writes that the dispatcher's own writes wait behind.
 */
#define REFUSED_BURST		20
#define REFUSED_WINDOW_MS	60000
#define REFUSED_ADDRS		64

static struct {
	char addr[INET6_ADDRSTRLEN + 1];
	int64_t since;		/* the window's start; 0: empty */
	unsigned n;		/* rows written in the window */
	unsigned long left_out;	/* counted, not written */
	int64_t left_since;	/* the first left out */
} refused[REFUSED_ADDRS];
static pthread_mutex_t refused_mu = PTHREAD_MUTEX_INITIALIZER;

/*
 * Whether to write this refusal from addr; when the address had rows
 * left out, *left_out and *left_since say how many and since when (and
 * the count starts again).
 */
static int
refused_write(const char *addr, int64_t now, unsigned long *left_out,
    int64_t *left_since)
{
	size_t i, k = 0;
	int yes;

	*left_out = 0;
	*left_since = 0;
	pthread_mutex_lock(&refused_mu);
	for (i = 0; i < REFUSED_ADDRS; i++) {
		if (refused[i].since != 0 &&
		    strcmp(refused[i].addr, addr) == 0)
			break;
		if (refused[i].since < refused[k].since)
			k = i;		/* the oldest, or an empty one */
	}
	if (i == REFUSED_ADDRS) {	/* a new address takes the oldest */
		i = k;
		memset(&refused[i], 0, sizeof(refused[i]));
		(void)snprintf(refused[i].addr, sizeof(refused[i].addr), "%s",
		    addr);
		refused[i].since = now;
	}
	if (now - refused[i].since >= REFUSED_WINDOW_MS) {
		refused[i].since = now;
		refused[i].n = 0;
	}
	yes = refused[i].n < REFUSED_BURST;
	if (yes) {
		refused[i].n++;
		*left_out = refused[i].left_out;
		*left_since = refused[i].left_since;
		refused[i].left_out = 0;
		refused[i].left_since = 0;
	} else if (refused[i].left_out++ == 0) {
		refused[i].left_since = now;
	}
	pthread_mutex_unlock(&refused_mu);
	return yes;
}

void
api_audit_finish(struct MHD_Connection *c, struct api_req *r,
    const char *method)
{
	struct api *a = r->api;
	struct store_audit x;
	struct eng_errbuf eb;
	struct store *s;
	char actor[160], from[INET6_ADDRSTRLEN + 1], ob[32], act[64];
	char target[sizeof(r->audit.target)], more[96];
	unsigned long left_out = 0;
	int64_t left_since = 0;
	int rv;

	if (r->audit.skip || r->status == 0 || (r->audit.action == NULL &&
	    safe_method(method) && r->status != 401 && r->status != 403 &&
	    r->status != 429))
		goto out;
	eng_errbuf_init(&eb);
	memset(&x, 0, sizeof(x));
	auth_actor(&r->who, actor, sizeof(actor));
	api_peer_addr(c, from, sizeof(from));
	if (r->audit.action != NULL)
		(void)snprintf(act, sizeof(act), "%s", r->audit.action);
	else if (r->route == ROUTE_ALERT_ANSWER_ADD)
		(void)snprintf(act, sizeof(act), "answer");
	else
		(void)snprintf(act, sizeof(act), "%s%s",
		    safe_method(method) ? "read:" : "",
		    api_route_name(r->route));
	if (r->audit.target[0] == '\0' && r->code[0] != '\0')
		(void)snprintf(target, sizeof(target), "%s:%.100s",
		    api_route_name(r->route), r->code);
	else
		(void)snprintf(target, sizeof(target), "%s", r->audit.target);
	x.at_ms = eng_clock_now_ms(clk);
	if (r->status == 401 && r->who.kind == AUTH_NONE) {
		if (!refused_write(from, x.at_ms, &left_out, &left_since))
			goto out;
		if (left_out > 0) {
			(void)snprintf(more, sizeof(more), "{\"left_out\":%lu,"
			    "\"left_out_since_ms\":%lld}", left_out,
			    (long long)left_since);
			if (x.after == NULL && r->audit.after == NULL)
				x.after = more;
		}
	}
	x.actor = actor;
	x.action = act;
	x.target = target[0] ? target : NULL;
	x.jurisdiction = r->audit.jurisdiction[0] ? r->audit.jurisdiction :
	    r->who.jurisdiction[0] ? r->who.jurisdiction : NULL;
	x.from_addr = from;
	x.before = r->audit.before;
	if (r->audit.after != NULL)
		x.after = r->audit.after;
	x.outcome = r->audit.outcome[0] ? r->audit.outcome :
	    outcome_of(r->status, ob, sizeof(ob));
	s = api_store_get(a);
	rv = store_audit_add(s, &x, NULL, &eb);
	api_store_put(a, s);
	if (rv != 0)
		log_error("audit.failed", "action=%s error=\"%s\"", act,
		    eb.msg);
out:
	free(r->audit.before);
	free(r->audit.after);
	r->audit.before = r->audit.after = NULL;
	r->audit.skip = 1;
}

/* ------------------------------------------------------------------ */
/* Bodies                                                              */
/* ------------------------------------------------------------------ */

static int
json_type_ok(struct MHD_Connection *c)
{
	const char *ct = header(c, MHD_HTTP_HEADER_CONTENT_TYPE);
	size_t n = strlen("application/json");

	return ct != NULL && strncasecmp(ct, "application/json", n) == 0 &&
	    (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* The body as a JSON object with only the keys listed, or NULL with the
 * answer queued in *ret. */
static json_t *
body_object(struct MHD_Connection *c, struct api_req *r,
    const char *const *keys, enum MHD_Result *ret)
{
	json_error_t je;
	const char *k;
	char msg[256];
	json_t *o, *v;
	size_t i;

	if (r->len > AUTH_BODY_MAX) {
		(void)snprintf(msg, sizeof(msg), "request body exceeds %d "
		    "bytes", AUTH_BODY_MAX);
		*ret = api_reply_error(c, r, MHD_HTTP_CONTENT_TOO_LARGE,
		    "body_too_large", msg, NULL);
		return NULL;
	}
	if (!json_type_ok(c)) {
		*ret = api_reply_error(c, r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
		    "unsupported_media_type", "send application/json", NULL);
		return NULL;
	}
	if (r->len == 0) {
		*ret = api_reply_error(c, r, MHD_HTTP_BAD_REQUEST,
		    "empty_body", "the request body must be a JSON object",
		    NULL);
		return NULL;
	}
	if ((o = json_loadb(r->body, r->len, JSON_REJECT_DUPLICATES,
	    &je)) == NULL) {
		(void)snprintf(msg, sizeof(msg), "the body is not JSON: %s "
		    "(line %d, column %d)", je.text, je.line, je.column);
		*ret = api_reply_error(c, r, MHD_HTTP_BAD_REQUEST, "bad_json",
		    msg, NULL);
		return NULL;
	}
	if (!json_is_object(o)) {
		json_decref(o);
		*ret = api_reply_error(c, r, MHD_HTTP_BAD_REQUEST, "bad_json",
		    "the body must be a JSON object", NULL);
		return NULL;
	}
	json_object_foreach(o, k, v) {
		for (i = 0; keys[i] != NULL && strcmp(k, keys[i]) != 0; i++)
			;
		if (keys[i] == NULL) {
			char kq[48];
			size_t j;

			(void)snprintf(kq, sizeof(kq), "%s", k);
			for (j = 0; kq[j] != '\0'; j++)
				if ((unsigned char)kq[j] < 0x20)
					kq[j] = '?';
			(void)snprintf(msg, sizeof(msg), "unknown field "
			    "\"%s\"", kq);
			json_decref(o);
			*ret = api_reply_error(c, r, MHD_HTTP_BAD_REQUEST,
			    "bad_field", msg, NULL);
			return NULL;
		}
	}
	return o;
}

/*
 * A string member into out: absent or null gives "" (an error when
 * required); not a string, longer than max bytes, or with control
 * characters is an error.  0, or -1 with msg set.
 */
static int
str_member(const json_t *o, const char *key, int required, size_t max,
    char *out, size_t size, char *msg, size_t msize)
{
	const json_t *v = json_object_get(o, key);
	const char *s;
	size_t n, i;

	out[0] = '\0';
	if (v == NULL || json_is_null(v)) {
		if (!required)
			return 0;
		(void)snprintf(msg, msize, "%s is required", key);
		return -1;
	}
	if (!json_is_string(v)) {
		(void)snprintf(msg, msize, "%s must be a string", key);
		return -1;
	}
	s = json_string_value(v);
	n = json_string_length(v);
	if (n > max || n >= size) {
		(void)snprintf(msg, msize, "%s is longer than %zu bytes", key,
		    max < size - 1 ? max : size - 1);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			(void)snprintf(msg, msize, "%s has control "
			    "characters", key);
			return -1;
		}
	}
	if (required && n == 0) {
		(void)snprintf(msg, msize, "%s must not be empty", key);
		return -1;
	}
	memcpy(out, s, n + 1);
	return 0;
}

static enum MHD_Result
bad_field(struct MHD_Connection *c, struct api_req *r, const char *msg)
{
	return api_reply_error(c, r, MHD_HTTP_BAD_REQUEST, "bad_field", msg,
	    NULL);
}

static enum MHD_Result
store_failed(struct MHD_Connection *c, struct api_req *r,
    const struct eng_errbuf *eb)
{
	return api_reply_error(c, r, MHD_HTTP_INTERNAL_SERVER_ERROR,
	    "store_error", eb->msg, NULL);
}

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

static int
https_request(struct MHD_Connection *c, const struct api *a)
{
	const char *x = header(c, "X-Forwarded-Proto");

	return (x != NULL && strcasecmp(x, "https") == 0) ||
	    (a->public_url != NULL &&
	    strncasecmp(a->public_url, "https://", 8) == 0);
}

/* A jurisdiction from a request: normalised, within the root. */
static int
jurisdiction_of(const struct api *a, const char *in, char out[REGION_CODE_SIZE],
    char *msg, size_t msize)
{
	struct eng_errbuf eb;

	eng_errbuf_init(&eb);
	if (region_code_norm(in, strlen(in), out, &eb) != 0) {
		(void)snprintf(msg, msize, "jurisdiction: %.200s", eb.msg);
		return -1;
	}
	if (a->root[0] != '\0' && !region_code_within(out, a->root)) {
		(void)snprintf(msg, msize, "jurisdiction %s is outside the "
		    "deployment root %s", out, a->root);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Login, logout, me                                                   */
/* ------------------------------------------------------------------ */

struct user_copy {
	long long id;
	char name[AUTH_NAME_MAX + 1], display[256], role[16];
	char jurisdiction[REGION_CODE_SIZE];
	char hash[AUTH_HASH_SIZE];
	int disabled;
	int64_t created_ms, updated_ms;
};

static int
user_copy_cb(void *arg, const struct store_user *u)
{
	struct user_copy *x = arg;

	x->id = u->id;
	(void)snprintf(x->name, sizeof(x->name), "%s", u->name);
	(void)snprintf(x->display, sizeof(x->display), "%s",
	    u->display_name ? u->display_name : "");
	(void)snprintf(x->role, sizeof(x->role), "%s", u->role);
	(void)snprintf(x->jurisdiction, sizeof(x->jurisdiction), "%s",
	    u->jurisdiction);
	(void)snprintf(x->hash, sizeof(x->hash), "%s",
	    u->password_hash ? u->password_hash : "");
	x->disabled = u->disabled;
	x->created_ms = u->created_ms;
	x->updated_ms = u->updated_ms;
	return 0;
}

static json_t *
user_json(const struct user_copy *u)
{
	return json_pack("{s:s,s:o,s:s,s:s,s:b,s:o,s:o}", "name", u->name,
	    "display_name", u->display[0] ? json_string(u->display) :
	    json_null(), "role", u->role, "jurisdiction", u->jurisdiction,
	    "disabled", u->disabled, "created", jms(u->created_ms),
	    "updated", jms(u->updated_ms));
}

static enum MHD_Result
h_login(struct MHD_Connection *c, struct api_req *r)
{
	static const char *const keys[] = { "name", "password", "token_name",
		NULL };
	struct api *a = r->api;
	struct user_copy u;
	struct eng_errbuf eb;
	struct store *s;
	enum MHD_Result ret;
	char name[AUTH_NAME_MAX + 1], pw[AUTH_PASSWORD_MAX + 1], msg[256];
	char from[INET6_ADDRSTRLEN + 1], cookie[AUTH_HEX_SIZE];
	char csrf[AUTH_HEX_SIZE], set[256], retry[32];
	char tname[AUTH_NAME_MAX + 1], token[AUTH_TOKEN_SIZE];
	long long tid = 0;
	const char *hdr[3] = { NULL, NULL, NULL };
	long long wait;
	json_t *o;
	int rv, ok;

	eng_errbuf_init(&eb);
	r->audit.action = "login";
	/* A login form posted from another origin (login CSRF). */
	if (!auth_origin_ok(header(c, "Origin"), header(c, "Referer"),
	    header(c, MHD_HTTP_HEADER_HOST), a->public_url))
		return api_deny(c, r, "a login from another origin is "
		    "refused");
	if ((o = body_object(c, r, keys, &ret)) == NULL)
		return ret;
	if (str_member(o, "name", 1, AUTH_NAME_MAX, name, sizeof(name), msg,
	    sizeof(msg)) != 0 || str_member(o, "password", 1,
	    AUTH_PASSWORD_MAX, pw, sizeof(pw), msg, sizeof(msg)) != 0 ||
	    str_member(o, "token_name", 0, AUTH_NAME_MAX, tname,
	    sizeof(tname), msg, sizeof(msg)) != 0) {
		json_decref(o);
		sodium_memzero(pw, sizeof(pw));
		return bad_field(c, r, msg);
	}
	json_decref(o);
	if (tname[0] != '\0' && !auth_name_ok(tname)) {
		sodium_memzero(pw, sizeof(pw));
		return bad_field(c, r, "token_name is 1 to 64 of A-Z a-z 0-9 "
		    ". _ - (not first . or -)");
	}
	api_peer_addr(c, from, sizeof(from));
	(void)snprintf(r->audit.target, sizeof(r->audit.target), "user:%s",
	    name);
	if (auth_name_ok(name)) {
		r->who.kind = AUTH_USER;	/* the actor claimed */
		(void)snprintf(r->who.name, sizeof(r->who.name), "%s", name);
	}
	if ((wait = auth_limiter_check(a->limiter, name, from)) > 0) {
		(void)snprintf(retry, sizeof(retry), "%lld", wait);
		(void)snprintf(msg, sizeof(msg), "too many failed logins: try "
		    "again in %lld s", wait);
		hdr[0] = MHD_HTTP_HEADER_RETRY_AFTER;
		hdr[1] = retry;
		sodium_memzero(pw, sizeof(pw));
		log_warn("auth.throttled", "user=%s from=%s retry_after=%lld",
		    auth_name_ok(name) ? name : "?", from, wait);
		return api_reply_json_hdr(c, r, MHD_HTTP_TOO_MANY_REQUESTS,
		    json_pack("{s:{s:s,s:s},s:I}", "error", "code",
		    "too_many_logins", "message", msg, "retry_after",
		    (json_int_t)wait), hdr);
	}
	memset(&u, 0, sizeof(u));
	s = api_store_get(a);
	rv = auth_name_ok(name) ? store_user_get(s, name, user_copy_cb, &u,
	    &eb) : ENG_ENOENT;
	api_store_put(a, s);
	if (rv != 0 && rv != ENG_ENOENT) {
		sodium_memzero(pw, sizeof(pw));
		return store_failed(c, r, &eb);
	}
	ok = auth_password_verify(rv == 0 ? u.hash : NULL, pw);
	sodium_memzero(pw, sizeof(pw));
	sodium_memzero(u.hash, sizeof(u.hash));
	if (!ok || rv != 0 || u.disabled) {
		auth_limiter_fail(a->limiter, name, from);
		(void)snprintf(r->audit.outcome, sizeof(r->audit.outcome),
		    "%s", ok && rv == 0 ? "failed:disabled" : "failed");
		log_warn("auth.login_failed", "user=%s from=%s",
		    auth_name_ok(name) ? name : "?", from);
		return api_reply_error(c, r, MHD_HTTP_UNAUTHORIZED,
		    "bad_credentials", "wrong name or password (or the "
		    "account is disabled)", NULL);
	}
	auth_limiter_success(a->limiter, name, from);
	(void)snprintf(r->who.jurisdiction, sizeof(r->who.jurisdiction), "%s",
	    u.jurisdiction);
	if (tname[0] != '\0') {
		/* For a program (gong login): an API token, no session. */
		s = api_store_get(a);
		rv = auth_token_create(s, clk, u.id, tname, token, &tid, &eb);
		api_store_put(a, s);
		if (rv == ENG_EEXIST)
			return api_reply_error(c, r, MHD_HTTP_CONFLICT,
			    "exists", "the user has a live token of that "
			    "name", NULL);
		if (rv != 0)
			return store_failed(c, r, &eb);
		o = json_pack("{s:I,s:s}", "token_id", (json_int_t)tid,
		    "token_name", tname);
		r->audit.after = o ? json_dumps(o, JSON_COMPACT |
		    JSON_SORT_KEYS) : NULL;
		json_decref(o);
		log_info("auth.login", "user=%s from=%s token_id=%lld", name,
		    from, tid);
		ret = api_reply_json(c, r, MHD_HTTP_OK, json_pack("{s:s,s:s,"
		    "s:s,s:s,s:I,s:s}", "user", u.name, "role", u.role,
		    "jurisdiction", u.jurisdiction, "token", token, "token_id",
		    (json_int_t)tid, "token_name", tname));
		sodium_memzero(token, sizeof(token));
		return ret;
	}
	s = api_store_get(a);
	rv = auth_session_create(s, clk, u.id, from, cookie, csrf, &eb);
	api_store_put(a, s);
	if (rv != 0)
		return store_failed(c, r, &eb);
	(void)snprintf(set, sizeof(set), COOKIE_NAME "=%s; HttpOnly; "
	    "SameSite=Strict; Path=/; Max-Age=%lld%s", cookie,
	    AUTH_SESSION_MAX_MS / 1000, https_request(c, a) ? "; Secure" : "");
	sodium_memzero(cookie, sizeof(cookie));
	hdr[0] = MHD_HTTP_HEADER_SET_COOKIE;
	hdr[1] = set;
	log_info("auth.login", "user=%s from=%s", name, from);
	ret = api_reply_json_hdr(c, r, MHD_HTTP_OK, json_pack("{s:s,s:o,s:s,"
	    "s:s,s:s,s:o}", "user", u.name, "display_name",
	    u.display[0] ? json_string(u.display) : json_null(), "role",
	    u.role, "jurisdiction", u.jurisdiction, "csrf", csrf, "expires",
	    jms(eng_clock_now_ms(clk) + AUTH_SESSION_MAX_MS)), hdr);
	sodium_memzero(set, sizeof(set));
	return ret;
}

static enum MHD_Result
h_logout(struct MHD_Connection *c, struct api_req *r)
{
	static const char *const hdr[] = { MHD_HTTP_HEADER_SET_COOKIE,
		COOKIE_NAME "=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0",
		NULL };
	struct api *a = r->api;
	struct eng_errbuf eb;
	struct store *s;
	int rv;

	eng_errbuf_init(&eb);
	r->audit.action = "logout";
	if (r->who.kind != AUTH_USER)
		return api_reply_error(c, r, MHD_HTTP_BAD_REQUEST,
		    "not_a_session", "logout ends a console session (the "
		    "cookie); revoke an API token with DELETE "
		    "/api/v1/tokens/{id}", NULL);
	s = api_store_get(a);
	rv = auth_session_end(s, r->who.session, &eb);
	api_store_put(a, s);
	if (rv != 0)
		return store_failed(c, r, &eb);
	return api_reply_json_hdr(c, r, MHD_HTTP_OK, json_pack("{s:b}",
	    "logged_out", 1), hdr);
}

static enum MHD_Result
h_me(struct MHD_Connection *c, struct api_req *r)
{
	const struct auth_principal *p = &r->who;
	json_t *j;

	j = json_pack("{s:s,s:s,s:o,s:o}", "kind", auth_kind_name(p->kind),
	    "name", p->name, "role", jstr(auth_role_name(p->role)),
	    "jurisdiction", p->jurisdiction[0] ? json_string(p->jurisdiction) :
	    json_null());
	if (j != NULL && p->kind == AUTH_USER)
		(void)json_object_set_new(j, "csrf", json_string(p->csrf));
	return api_reply_json(c, r, MHD_HTTP_OK, j);
}

/* ------------------------------------------------------------------ */
/* Users                                                               */
/* ------------------------------------------------------------------ */

static int
users_cb(void *arg, const struct store_user *u)
{
	struct user_copy x;

	memset(&x, 0, sizeof(x));
	(void)user_copy_cb(&x, u);
	sodium_memzero(x.hash, sizeof(x.hash));
	return json_array_append_new(arg, user_json(&x)) == 0 ? 0 :
	    ENG_ENOMEM;
}

static enum MHD_Result
h_users_list(struct MHD_Connection *c, struct api_req *r)
{
	struct eng_errbuf eb;
	struct store *s;
	json_t *arr = json_array();
	int rv;

	eng_errbuf_init(&eb);
	if (arr == NULL)
		return MHD_NO;
	s = api_store_get(r->api);
	rv = store_users_list(s, users_cb, arr, &eb);
	api_store_put(r->api, s);
	if (rv != 0) {
		json_decref(arr);
		return store_failed(c, r, &eb);
	}
	return api_reply_json(c, r, MHD_HTTP_OK, json_pack("{s:o}", "users",
	    arr));
}

/* Enabled admins other than name. */
struct admins {
	const char *except;
	long long n;
};

static int
admins_cb(void *arg, const struct store_user *u)
{
	struct admins *x = arg;

	if (strcmp(u->role, "admin") == 0 && !u->disabled &&
	    strcmp(u->name, x->except) != 0)
		x->n++;
	return 0;
}

static enum MHD_Result
h_user_add(struct MHD_Connection *c, struct api_req *r)
{
	static const char *const keys[] = { "name", "display_name", "role",
		"jurisdiction", "password", NULL };
	struct api *a = r->api;
	struct store_user su;
	struct user_copy u;
	struct eng_errbuf eb;
	struct store *s;
	enum MHD_Result ret;
	char role[16], jin[32], pw[AUTH_PASSWORD_MAX + 1], msg[256];
	char hash[AUTH_HASH_SIZE];
	int generated = 0, rv;
	json_t *o, *j;

	eng_errbuf_init(&eb);
	memset(&u, 0, sizeof(u));
	r->audit.action = "user.add";
	if ((o = body_object(c, r, keys, &ret)) == NULL)
		return ret;
	rv = str_member(o, "name", 1, AUTH_NAME_MAX, u.name, sizeof(u.name),
	    msg, sizeof(msg));
	if (rv == 0)
		rv = str_member(o, "display_name", 0, 200, u.display,
		    sizeof(u.display), msg, sizeof(msg));
	if (rv == 0)
		rv = str_member(o, "role", 1, 15, role, sizeof(role), msg,
		    sizeof(msg));
	if (rv == 0)
		rv = str_member(o, "jurisdiction", 1, 24, jin, sizeof(jin), msg,
		    sizeof(msg));
	if (rv == 0)
		rv = str_member(o, "password", 0, AUTH_PASSWORD_MAX, pw,
		    sizeof(pw), msg, sizeof(msg));
	json_decref(o);
	if (rv != 0)
		return bad_field(c, r, msg);
	(void)snprintf(r->audit.target, sizeof(r->audit.target), "user:%s",
	    u.name);
	if (!auth_name_ok(u.name))
		return bad_field(c, r, "name is 1 to 64 of A-Z a-z 0-9 . _ - "
		    "(not first . or -)");
	if (auth_role_parse(role) == AUTH_ROLE_NONE)
		return bad_field(c, r, "role is admin, officer or viewer");
	(void)snprintf(u.role, sizeof(u.role), "%s", role);
	if (jurisdiction_of(a, jin, u.jurisdiction, msg, sizeof(msg)) != 0)
		return bad_field(c, r, msg);
	if (pw[0] == '\0') {
		auth_password_random(pw, 20);
		generated = 1;
	}
	if ((rv = auth_password_hash(pw, hash, &eb)) != 0) {
		sodium_memzero(pw, sizeof(pw));
		return rv == ENG_EINVAL ? bad_field(c, r, eb.msg) : MHD_NO;
	}
	memset(&su, 0, sizeof(su));
	su.name = u.name;
	su.display_name = u.display[0] ? u.display : NULL;
	su.role = u.role;
	su.jurisdiction = u.jurisdiction;
	su.password_hash = hash;
	u.created_ms = u.updated_ms = eng_clock_now_ms(clk);
	s = api_store_get(a);
	rv = store_user_add(s, &su, u.created_ms, &u.id, &eb);
	api_store_put(a, s);
	sodium_memzero(hash, sizeof(hash));
	if (rv != 0) {
		sodium_memzero(pw, sizeof(pw));
		if (rv == ENG_EEXIST)
			return api_reply_error(c, r, MHD_HTTP_CONFLICT,
			    "exists", "a user of that name exists", NULL);
		return store_failed(c, r, &eb);
	}
	(void)snprintf(r->audit.jurisdiction, sizeof(r->audit.jurisdiction),
	    "%s", u.jurisdiction);
	j = user_json(&u);
	r->audit.after = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	if (j != NULL && generated)
		(void)json_object_set_new(j, "password", json_string(pw));
	sodium_memzero(pw, sizeof(pw));
	log_info("auth.user_added", "user=%s role=%s jurisdiction=%s", u.name,
	    u.role, u.jurisdiction);
	return api_reply_json(c, r, MHD_HTTP_CREATED, j);
}

static enum MHD_Result
h_user_patch(struct MHD_Connection *c, struct api_req *r, int self)
{
	static const char *const keys[] = { "display_name", "role",
		"jurisdiction", "password", "disabled", "current_password",
		NULL };
	struct api *a = r->api;
	struct store_user su;
	struct user_copy u, old;
	struct admins ad;
	struct eng_errbuf eb;
	struct store *s;
	enum MHD_Result ret;
	char role[16], jin[32], pw[AUTH_PASSWORD_MAX + 1], msg[256];
	char display[256], hash[AUTH_HASH_SIZE], cur[AUTH_PASSWORD_MAX + 1];
	char from[INET6_ADDRSTRLEN + 1];
	const json_t *dv;
	json_t *o, *before, *after;
	long long wait;
	int rv, pw_changed = 0, had_display;

	eng_errbuf_init(&eb);
	memset(&u, 0, sizeof(u));
	r->audit.action = "user.update";
	(void)snprintf(r->audit.target, sizeof(r->audit.target), "user:%s",
	    r->code);
	if ((o = body_object(c, r, keys, &ret)) == NULL)
		return ret;
	had_display = json_object_get(o, "display_name") != NULL;
	rv = str_member(o, "display_name", 0, 200, display, sizeof(display),
	    msg, sizeof(msg));
	if (rv == 0)
		rv = str_member(o, "role", 0, 15, role, sizeof(role), msg,
		    sizeof(msg));
	if (rv == 0)
		rv = str_member(o, "jurisdiction", 0, 24, jin, sizeof(jin), msg,
		    sizeof(msg));
	if (rv == 0)
		rv = str_member(o, "password", 0, AUTH_PASSWORD_MAX, pw,
		    sizeof(pw), msg, sizeof(msg));
	if (rv == 0)
		rv = str_member(o, "current_password", 0, AUTH_PASSWORD_MAX,
		    cur, sizeof(cur), msg, sizeof(msg));
	dv = json_object_get(o, "disabled");
	if (rv == 0 && dv != NULL && !json_is_boolean(dv)) {
		(void)snprintf(msg, sizeof(msg), "disabled must be true or "
		    "false");
		rv = -1;
	}
	if (rv == 0 && self && (role[0] != '\0' || jin[0] != '\0' ||
	    dv != NULL)) {
		json_decref(o);
		sodium_memzero(pw, sizeof(pw));
		sodium_memzero(cur, sizeof(cur));
		return api_deny(c, r, "role, jurisdiction and disabled are "
		    "changed by an admin (users needs role admin)");
	}
	if (rv == 0 && self && pw[0] != '\0' && cur[0] == '\0') {
		(void)snprintf(msg, sizeof(msg), "current_password is "
		    "required to change your own password");
		rv = -1;
	}
	if (rv != 0) {
		json_decref(o);
		sodium_memzero(pw, sizeof(pw));
		sodium_memzero(cur, sizeof(cur));
		return bad_field(c, r, msg);
	}
	s = api_store_get(a);
	rv = store_user_get(s, r->code, user_copy_cb, &u, &eb);
	api_store_put(a, s);
	if (rv != 0) {
		json_decref(o);
		sodium_memzero(pw, sizeof(pw));
		sodium_memzero(cur, sizeof(cur));
		if (rv == ENG_ENOENT)
			return api_reply_error(c, r, MHD_HTTP_NOT_FOUND,
			    "not_found", "no such user", NULL);
		return store_failed(c, r, &eb);
	}
	if (self && pw[0] != '\0') {
		/* A guess at the password like a login: rate-limited. */
		api_peer_addr(c, from, sizeof(from));
		if ((wait = auth_limiter_check(a->limiter, u.name,
		    from)) > 0) {
			json_decref(o);
			sodium_memzero(pw, sizeof(pw));
			sodium_memzero(cur, sizeof(cur));
			sodium_memzero(u.hash, sizeof(u.hash));
			(void)snprintf(msg, sizeof(msg), "too many failed "
			    "attempts: try again in %lld s", wait);
			return api_reply_error(c, r,
			    MHD_HTTP_TOO_MANY_REQUESTS, "too_many_logins", msg,
			    NULL);
		}
		if (!auth_password_verify(u.hash, cur)) {
			auth_limiter_fail(a->limiter, u.name, from);
			json_decref(o);
			sodium_memzero(pw, sizeof(pw));
			sodium_memzero(cur, sizeof(cur));
			sodium_memzero(u.hash, sizeof(u.hash));
			return api_deny(c, r, "current_password is wrong");
		}
	}
	sodium_memzero(cur, sizeof(cur));
	old = u;
	if (had_display)
		(void)snprintf(u.display, sizeof(u.display), "%s", display);
	if (role[0] != '\0') {
		if (auth_role_parse(role) == AUTH_ROLE_NONE) {
			json_decref(o);
			sodium_memzero(pw, sizeof(pw));
			return bad_field(c, r, "role is admin, officer or "
			    "viewer");
		}
		(void)snprintf(u.role, sizeof(u.role), "%s", role);
	}
	if (jin[0] != '\0' && jurisdiction_of(a, jin, u.jurisdiction, msg,
	    sizeof(msg)) != 0) {
		json_decref(o);
		sodium_memzero(pw, sizeof(pw));
		return bad_field(c, r, msg);
	}
	if (dv != NULL)
		u.disabled = json_is_true(dv);
	json_decref(o);
	if (pw[0] != '\0') {
		rv = auth_password_hash(pw, hash, &eb);
		sodium_memzero(pw, sizeof(pw));
		if (rv != 0)
			return rv == ENG_EINVAL ? bad_field(c, r, eb.msg) :
			    MHD_NO;
		(void)snprintf(u.hash, sizeof(u.hash), "%s", hash);
		sodium_memzero(hash, sizeof(hash));
		pw_changed = 1;
	}
	/* Someone must stay able to manage accounts. */
	if (strcmp(old.role, "admin") == 0 && !old.disabled &&
	    (strcmp(u.role, "admin") != 0 || u.disabled)) {
		memset(&ad, 0, sizeof(ad));
		ad.except = u.name;
		s = api_store_get(a);
		rv = store_users_list(s, admins_cb, &ad, &eb);
		api_store_put(a, s);
		if (rv != 0)
			return store_failed(c, r, &eb);
		if (ad.n == 0)
			return api_reply_error(c, r, MHD_HTTP_CONFLICT,
			    "last_admin", "this is the last enabled admin: "
			    "make another admin first", NULL);
	}
	memset(&su, 0, sizeof(su));
	su.name = u.name;
	su.display_name = u.display[0] ? u.display : NULL;
	su.role = u.role;
	su.jurisdiction = u.jurisdiction;
	su.password_hash = u.hash;
	su.disabled = u.disabled;
	u.updated_ms = eng_clock_now_ms(clk);
	s = api_store_get(a);
	rv = store_user_update(s, &su, u.updated_ms, &eb);
	/* A new password or a disabled account ends its sessions. */
	if (rv == 0 && (pw_changed || u.disabled))
		rv = store_sessions_delete_user(s, u.id, &eb);
	api_store_put(a, s);
	sodium_memzero(u.hash, sizeof(u.hash));
	sodium_memzero(old.hash, sizeof(old.hash));
	if (rv != 0)
		return store_failed(c, r, &eb);
	(void)snprintf(r->audit.jurisdiction, sizeof(r->audit.jurisdiction),
	    "%s", u.jurisdiction);
	before = user_json(&old);
	after = user_json(&u);
	if (after != NULL && pw_changed)
		(void)json_object_set_new(after, "password", json_string(
		    "changed"));
	r->audit.before = before ? json_dumps(before, JSON_COMPACT |
	    JSON_SORT_KEYS) : NULL;
	r->audit.after = after ? json_dumps(after, JSON_COMPACT |
	    JSON_SORT_KEYS) : NULL;
	json_decref(before);
	log_info("auth.user_updated", "user=%s role=%s jurisdiction=%s "
	    "disabled=%d password_changed=%d", u.name, u.role,
	    u.jurisdiction, u.disabled, pw_changed);
	return api_reply_json(c, r, MHD_HTTP_OK, after);
}

/* ------------------------------------------------------------------ */
/* Tokens                                                              */
/* ------------------------------------------------------------------ */

static json_t *
token_json(const struct store_token *t)
{
	return json_pack("{s:I,s:s,s:s,s:o,s:o,s:o}", "id",
	    (json_int_t)t->id, "name", t->name, "user",
	    t->user_name ? t->user_name : "", "created", jms(t->created_ms),
	    "last_used", jms(t->last_used_ms), "revoked",
	    jms(t->revoked_ms));
}

static int
tokens_cb(void *arg, const struct store_token *t)
{
	return json_array_append_new(arg, token_json(t)) == 0 ? 0 :
	    ENG_ENOMEM;
}

static enum MHD_Result
h_tokens_list(struct MHD_Connection *c, struct api_req *r)
{
	const struct auth_principal *p = &r->who;
	struct eng_errbuf eb;
	struct store *s;
	long long all, uid;
	json_t *arr;
	int rv;

	eng_errbuf_init(&eb);
	if (api_arg_ll(c, "all", 0, 1, 0, &all) != 0)
		return api_reply_error(c, r, MHD_HTTP_BAD_REQUEST, "bad_query",
		    "all is 0 or 1", NULL);
	if (all && p->role != AUTH_ROLE_ADMIN)
		return api_deny(c, r, "everyone's tokens need role admin");
	uid = all || p->user_id == 0 ? 0 : p->user_id;
	if (uid == 0 && p->role != AUTH_ROLE_ADMIN)
		return api_deny(c, r, "everyone's tokens need role admin");
	if ((arr = json_array()) == NULL)
		return MHD_NO;
	s = api_store_get(r->api);
	rv = store_tokens_list(s, uid, tokens_cb, arr, &eb);
	api_store_put(r->api, s);
	if (rv != 0) {
		json_decref(arr);
		return store_failed(c, r, &eb);
	}
	return api_reply_json(c, r, MHD_HTTP_OK, json_pack("{s:o}", "tokens",
	    arr));
}

static enum MHD_Result
h_token_create(struct MHD_Connection *c, struct api_req *r)
{
	static const char *const keys[] = { "name", "user", NULL };
	const struct auth_principal *p = &r->who;
	struct store_token t;
	struct user_copy u;
	struct eng_errbuf eb;
	struct store *s;
	enum MHD_Result ret;
	char name[AUTH_NAME_MAX + 1], user[AUTH_NAME_MAX + 1], msg[256];
	char token[AUTH_TOKEN_SIZE];
	long long id = 0;
	json_t *o, *j;
	int rv;

	eng_errbuf_init(&eb);
	memset(&u, 0, sizeof(u));
	r->audit.action = "token.create";
	if ((o = body_object(c, r, keys, &ret)) == NULL)
		return ret;
	rv = str_member(o, "name", 1, AUTH_NAME_MAX, name, sizeof(name), msg,
	    sizeof(msg));
	if (rv == 0)
		rv = str_member(o, "user", 0, AUTH_NAME_MAX, user,
		    sizeof(user), msg, sizeof(msg));
	json_decref(o);
	if (rv != 0)
		return bad_field(c, r, msg);
	if (!auth_name_ok(name))
		return bad_field(c, r, "name is 1 to 64 of A-Z a-z 0-9 . _ - "
		    "(not first . or -)");
	if (user[0] == '\0') {
		if (p->user_id == 0)
			return bad_field(c, r, "user is required: the admin "
			    "token is no account");
		s = api_store_get(r->api);
		rv = store_user_get_id(s, p->user_id, user_copy_cb, &u, &eb);
		api_store_put(r->api, s);
	} else {
		if ((p->user_id == 0 || strcmp(user, p->kind == AUTH_USER ?
		    p->name : "") != 0) && p->role != AUTH_ROLE_ADMIN) {
			s = api_store_get(r->api);
			rv = store_user_get_id(s, p->user_id, user_copy_cb, &u,
			    &eb);
			api_store_put(r->api, s);
			if (rv != 0 || strcmp(u.name, user) != 0)
				return api_deny(c, r, "a token for another "
				    "user needs role admin");
		}
		s = api_store_get(r->api);
		rv = store_user_get(s, user, user_copy_cb, &u, &eb);
		api_store_put(r->api, s);
	}
	sodium_memzero(u.hash, sizeof(u.hash));
	(void)snprintf(r->audit.target, sizeof(r->audit.target),
	    "token:%s/%s", u.name[0] ? u.name : user, name);
	if (rv == ENG_ENOENT)
		return bad_field(c, r, "no such user");
	if (rv != 0)
		return store_failed(c, r, &eb);
	(void)snprintf(r->audit.jurisdiction, sizeof(r->audit.jurisdiction),
	    "%s", u.jurisdiction);
	s = api_store_get(r->api);
	rv = auth_token_create(s, clk, u.id, name, token, &id, &eb);
	api_store_put(r->api, s);
	if (rv == ENG_EEXIST)
		return api_reply_error(c, r, MHD_HTTP_CONFLICT, "exists",
		    "the user has a live token of that name", NULL);
	if (rv != 0)
		return store_failed(c, r, &eb);
	memset(&t, 0, sizeof(t));
	t.id = id;
	t.name = name;
	t.user_name = u.name;
	t.created_ms = eng_clock_now_ms(clk);
	j = token_json(&t);
	r->audit.after = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) :
	    NULL;
	if (j != NULL)
		(void)json_object_set_new(j, "token", json_string(token));
	sodium_memzero(token, sizeof(token));
	log_info("auth.token_created", "id=%lld user=%s name=%s", id, u.name,
	    name);
	return api_reply_json(c, r, MHD_HTTP_CREATED, j);
}

struct tok_find {
	long long id;
	json_t *j;
	long long user_id;
};

static int
tok_find_cb(void *arg, const struct store_token *t)
{
	struct tok_find *f = arg;

	if (t->id == f->id && f->j == NULL) {
		f->j = token_json(t);
		f->user_id = t->user_id;
	}
	return 0;
}

static enum MHD_Result
h_token_revoke(struct MHD_Connection *c, struct api_req *r)
{
	const struct auth_principal *p = &r->who;
	struct tok_find f;
	struct eng_errbuf eb;
	struct store *s;
	json_t *after;
	int rv;

	eng_errbuf_init(&eb);
	memset(&f, 0, sizeof(f));
	r->audit.action = "token.revoke";
	(void)snprintf(r->audit.target, sizeof(r->audit.target), "token:%s",
	    r->code);
	if ((f.id = path_id(r)) == 0)
		return api_reply_error(c, r, MHD_HTTP_BAD_REQUEST, "bad_id",
		    "a token id is a positive integer", NULL);
	s = api_store_get(r->api);
	rv = store_tokens_list(s, p->role == AUTH_ROLE_ADMIN ? 0 : p->user_id,
	    tok_find_cb, &f, &eb);
	if (rv == 0 && f.j == NULL)
		rv = ENG_ENOENT;
	if (rv == 0 && p->user_id == 0 && p->role != AUTH_ROLE_ADMIN)
		rv = ENG_ENOENT;
	if (rv == 0)
		rv = store_token_revoke(s, f.id, p->role == AUTH_ROLE_ADMIN ? 0 :
		    p->user_id, eng_clock_now_ms(clk), &eb);
	api_store_put(r->api, s);
	if (rv == ENG_ENOENT) {
		json_decref(f.j);
		return api_reply_error(c, r, MHD_HTTP_NOT_FOUND, "not_found",
		    "no live token of yours with that id", NULL);
	}
	if (rv != 0) {
		json_decref(f.j);
		return store_failed(c, r, &eb);
	}
	r->audit.before = json_dumps(f.j, JSON_COMPACT | JSON_SORT_KEYS);
	after = json_deep_copy(f.j);
	if (after != NULL)
		(void)json_object_set_new(after, "revoked",
		    jms(eng_clock_now_ms(clk)));
	r->audit.after = after ? json_dumps(after, JSON_COMPACT |
	    JSON_SORT_KEYS) : NULL;
	json_decref(f.j);
	log_info("auth.token_revoked", "id=%lld", f.id);
	return api_reply_json(c, r, MHD_HTTP_OK, after);
}

/* ------------------------------------------------------------------ */
/* Audit                                                               */
/* ------------------------------------------------------------------ */

static json_t *
jtext(const char *s)
{
	json_t *j;

	if (s == NULL)
		return json_null();
	j = json_loads(s, JSON_DECODE_ANY, NULL);
	return j != NULL ? j : json_string(s);
}

static int
audit_cb(void *arg, const struct store_audit *x)
{
	return json_array_append_new(arg, json_pack("{s:I,s:o,s:I,s:s,s:s,"
	    "s:o,s:o,s:o,s:o,s:o,s:s}", "id", (json_int_t)x->id, "at",
	    jms(x->at_ms), "at_ms", (json_int_t)x->at_ms, "actor", x->actor,
	    "action", x->action, "target", jstr(x->target), "jurisdiction",
	    jstr(x->jurisdiction), "from", jstr(x->from_addr), "before",
	    jtext(x->before), "after", jtext(x->after), "outcome",
	    x->outcome)) == 0 ? 0 : ENG_ENOMEM;
}

/* since: milliseconds since the epoch, or an RFC 3339 UTC time
 * "YYYY-MM-DDThh:mm:ssZ".  0, or -1. */
static int
parse_since(const char *v, int64_t *out)
{
	struct tm tm;
	long long x;
	char *end;

	*out = 0;
	if (v == NULL || v[0] == '\0')
		return 0;
	errno = 0;
	x = strtoll(v, &end, 10);
	if (errno == 0 && *end == '\0' && x >= 0) {
		*out = x;
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	end = strptime(v, "%Y-%m-%dT%H:%M:%S", &tm);
	if (end == NULL || strcmp(end, "Z") != 0)
		return -1;
	*out = (int64_t)timegm(&tm) * 1000;
	return 0;
}

static enum MHD_Result
h_audit(struct MHD_Connection *c, struct api_req *r)
{
	struct store_audit_filter f;
	struct eng_errbuf eb;
	struct store *s;
	char why[256];
	long long limit;
	json_t *arr;
	int rv;

	eng_errbuf_init(&eb);
	if (!auth_allow(&r->who, AUTH_AUDIT, NULL, why, sizeof(why)))
		return api_deny(c, r, why);
	memset(&f, 0, sizeof(f));
	if (api_arg_ll(c, "limit", 1, 1000, 100, &limit) != 0 ||
	    parse_since(api_arg(c, "since"), &f.since_ms) != 0)
		return api_reply_error(c, r, MHD_HTTP_BAD_REQUEST, "bad_query",
		    "limit 1..1000; since is milliseconds since the epoch or "
		    "YYYY-MM-DDThh:mm:ssZ", NULL);
	f.limit = limit;
	f.actor = api_arg(c, "actor");
	f.action = api_arg(c, "action");
	if (r->who.role != AUTH_ROLE_ADMIN)
		f.within = r->who.jurisdiction;
	if ((arr = json_array()) == NULL)
		return MHD_NO;
	s = api_store_get(r->api);
	rv = store_audit_list(s, &f, audit_cb, arr, &eb);
	api_store_put(r->api, s);
	if (rv != 0) {
		json_decref(arr);
		return store_failed(c, r, &eb);
	}
	return api_reply_json(c, r, MHD_HTTP_OK, json_pack("{s:o}", "audit",
	    arr));
}

/* ------------------------------------------------------------------ */
/* Routing                                                             */
/* ------------------------------------------------------------------ */

static enum MHD_Result
bad_method(struct MHD_Connection *c, struct api_req *r, const char *allow)
{
	const char *hdr[] = { MHD_HTTP_HEADER_ALLOW, allow, NULL };
	char msg[64];

	(void)snprintf(msg, sizeof(msg), "use %s", allow);
	return api_reply_json_hdr(c, r, MHD_HTTP_METHOD_NOT_ALLOWED,
	    json_pack("{s:{s:s,s:s}}", "error", "code", "method_not_allowed",
	    "message", msg), hdr);
}

/* Is name the account of p (a session's user or a token's)? */
static int
own_name(const struct auth_principal *p, const char *name)
{
	size_t n = strlen(name);

	if (p->kind == AUTH_USER)
		return strcmp(p->name, name) == 0;
	if (p->kind == AUTH_TOKEN)
		return strncmp(p->name, name, n) == 0 && p->name[n] == '/';
	return 0;
}

static int
is(const char *m, const char *want)
{
	return strcmp(m, want) == 0;
}

enum MHD_Result
api_h_auth(struct MHD_Connection *c, struct api_req *r, const char *method)
{
	char why[256];
	int get = is(method, MHD_HTTP_METHOD_GET) ||
	    is(method, MHD_HTTP_METHOD_HEAD);

	switch (r->route) {
	case ROUTE_LOGIN:
		return is(method, MHD_HTTP_METHOD_POST) ? h_login(c, r) :
		    bad_method(c, r, "POST");
	case ROUTE_LOGOUT:
		return is(method, MHD_HTTP_METHOD_POST) ? h_logout(c, r) :
		    bad_method(c, r, "POST");
	case ROUTE_ME:
		return get ? h_me(c, r) : bad_method(c, r, "GET");
	case ROUTE_AUDIT:
		return get ? h_audit(c, r) : bad_method(c, r, "GET");
	case ROUTE_USERS:
	case ROUTE_USER:
		if (r->route == ROUTE_USERS ? !get &&
		    !is(method, MHD_HTTP_METHOD_POST) :
		    !is(method, MHD_HTTP_METHOD_PATCH))
			return bad_method(c, r, r->route == ROUTE_USERS ?
			    "GET, POST" : "PATCH");
		/* Anyone may change their own password and display name. */
		if (r->route == ROUTE_USER && !auth_allow(&r->who, AUTH_USERS,
		    NULL, NULL, 0) && own_name(&r->who, r->code))
			return h_user_patch(c, r, 1);
		if (!auth_allow(&r->who, AUTH_USERS, NULL, why, sizeof(why)))
			return api_deny(c, r, why);
		if (r->route == ROUTE_USER)
			return h_user_patch(c, r, 0);
		return get ? h_users_list(c, r) : h_user_add(c, r);
	case ROUTE_TOKENS:
		if (get)
			return h_tokens_list(c, r);
		return is(method, MHD_HTTP_METHOD_POST) ?
		    h_token_create(c, r) : bad_method(c, r, "GET, POST");
	case ROUTE_TOKEN:
		return is(method, MHD_HTTP_METHOD_DELETE) ?
		    h_token_revoke(c, r) : bad_method(c, r, "DELETE");
	default:
		return api_reply_error(c, r, MHD_HTTP_NOT_FOUND, "not_found",
		    "no such endpoint", NULL);
	}
}

/* ------------------------------------------------------------------ */
/* CAP by an account                                                   */
/* ------------------------------------------------------------------ */

int
api_cap_refs_allowed(struct api_req *r, struct ingest *ig,
    const struct ingest_source *src, char *msg, size_t msize)
{
	struct ingest_preview pv;
	struct diag_list d;
	struct eng_errbuf eb;
	struct store *s;
	int rv, deny = 0;

	eng_errbuf_init(&eb);
	diag_list_init(&d);
	d.max = 20;
	if (ingest_preview(ig, src, r->body, r->len, &pv, &d, &eb) != 0) {
		diag_list_release(&d);
		return 0;	/* ingest_cap says why */
	}
	if (pv.ref_chain_id != 0) {
		s = api_store_get(r->api);
		rv = store_chain_within(s, pv.ref_chain_id,
		    r->who.jurisdiction, &eb);
		api_store_put(r->api, s);
		if (rv == 0) {
			(void)snprintf(msg, msize, "%s references alert chain "
			    "%lld, whose regions reach beyond %s's "
			    "jurisdiction %s", pv.msg_type ? pv.msg_type :
			    "the message", pv.ref_chain_id, r->who.name,
			    r->who.jurisdiction);
			deny = 1;
		}
	}
	ingest_preview_release(&pv);
	diag_list_release(&d);
	return deny;
}

struct cap_audit {
	json_t *after;
	json_t *regions;
	char common[REGION_CODE_SIZE];
	char msg_type[16];
	int first;
};

static int
cap_alert_cb(void *arg, const struct store_alert *x)
{
	struct cap_audit *ca = arg;

	(void)snprintf(ca->msg_type, sizeof(ca->msg_type), "%s",
	    x->msg_type ? x->msg_type : "");
	ca->after = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s}", "id",
	    (json_int_t)x->id, "identifier", x->identifier, "sender",
	    x->sender, "sent", x->sent, "status", x->status, "msg_type",
	    x->msg_type, "state", x->state);
	return ca->after != NULL ? 0 : ENG_ENOMEM;
}

static int
cap_region_cb(void *arg, const char *code, const char *name, int level,
    const char *how)
{
	struct cap_audit *ca = arg;
	char tmp[REGION_CODE_SIZE];

	(void)name;
	(void)level;
	(void)how;
	if (ca->first) {
		(void)snprintf(ca->common, sizeof(ca->common), "%s", code);
		ca->first = 0;
	} else {
		auth_region_common(ca->common, code, tmp);
		memcpy(ca->common, tmp, sizeof(tmp));
	}
	return json_array_append_new(ca->regions, json_string(code)) == 0 ?
	    0 : ENG_ENOMEM;
}

void
api_cap_audit(struct api_req *r, long long alert_id, int duplicate)
{
	struct cap_audit ca;
	struct eng_errbuf eb;
	struct store *s;
	int rv;

	eng_errbuf_init(&eb);
	memset(&ca, 0, sizeof(ca));
	ca.first = 1;
	r->audit.action = "cap";
	(void)snprintf(r->audit.target, sizeof(r->audit.target), "alert:%lld",
	    alert_id);
	(void)snprintf(r->audit.outcome, sizeof(r->audit.outcome), "%s",
	    duplicate ? "duplicate" : "ok");
	if ((ca.regions = json_array()) == NULL)
		return;
	s = api_store_get(r->api);
	rv = store_alert_get(s, alert_id, cap_alert_cb, &ca, &eb);
	if (rv == 0)
		rv = store_alert_targets(s, alert_id, cap_region_cb, &ca, &eb);
	api_store_put(r->api, s);
	if (strcmp(ca.msg_type, "Alert") == 0)
		r->audit.action = "issue";
	else if (strcmp(ca.msg_type, "Update") == 0)
		r->audit.action = "update";
	else if (strcmp(ca.msg_type, "Cancel") == 0)
		r->audit.action = "cancel";
	(void)snprintf(r->audit.jurisdiction, sizeof(r->audit.jurisdiction),
	    "%s", ca.common);
	if (rv == 0 && ca.after != NULL) {
		(void)json_object_set(ca.after, "regions", ca.regions);
		r->audit.after = json_dumps(ca.after, JSON_COMPACT |
		    JSON_SORT_KEYS);
	}
	json_decref(ca.after);
	json_decref(ca.regions);
}
