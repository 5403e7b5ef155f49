/*
 * engine/api_officer.c - a duty officer records an answer (叫应) on a
 * responder's behalf, e.g. after reaching them by phone:
 *
 *   POST /api/v1/alerts/{id}/answers   (admin token, application/json)
 *     {"responder_id":"140425100201-1","reason":"reached by phone 09:12",
 *      "note":"…" (optional, or null),"by":"officer's name or id"}
 *
 * Answers (201 new, 200 with "duplicate": true when the same was already
 * recorded) with the answer as stored:
 *     {"alert_id","id","responder_id","name","path":"officer","received",
 *      "late","note","recorded_by","reason","duplicate"}
 * 400 names the missing or bad field (or why the body is not JSON), 404
 * an unknown alert, 413 a body over OFFICER_BODY_MAX, 415 a body that is
 * not application/json, 422 a responder the alert was not sent to (no
 * delivery of kind alert or update to them).
 *
 * With the admin token, which says nothing about who is calling, "by" is
 * required and kept as answers.recorded_by; with an account (session or
 * API token) the account's name is recorded and "by" may be left out.
 * The caller must be allowed to answer (engine/auth.h) in the person's
 * region: 403 otherwise.
 * The row's raw input is a canonical JSON of what was recorded (keys
 * sorted, compact), so posting the same again is a duplicate.  The answer
 * is late when the alert is no longer active (cancelled, superseded,
 * expired).  Every outcome is logged as one audit.answer line (who, what,
 * when, from which address) and written as one row of the audit trail.
 */
#include "engine/answer.h"
#include "engine/api_int.h"
#include "engine/clock.h"
#include "engine/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#define OFFICER_BODY_MAX	4096	/* bytes of a request body */
#define OFFICER_ID_MAX		63	/* bytes of responder_id */
#define OFFICER_BY_MAX		64	/* bytes of by */
#define OFFICER_TEXT_MAX	(ANSWER_NOTE_MAX - 1)	/* reason, note */

/* What was posted, checked and cleaned. */
struct officer_req {
	char responder[OFFICER_ID_MAX + 1];
	char by[OFFICER_BY_MAX + 1];
	char reason[ANSWER_NOTE_MAX];
	char note[ANSWER_NOTE_MAX];
};

struct alert_state {
	char state[16];
	int64_t expires_ms;
};

static int
alert_state_cb(void *arg, const struct store_alert *x)
{
	struct alert_state *st = arg;

	(void)snprintf(st->state, sizeof(st->state), "%s",
	    x->state ? x->state : "");
	st->expires_ms = x->expires_ms;
	return 0;
}

struct sent_find {
	long long alert_id;
	int found;
};

static int
sent_cb(void *arg, const struct store_sent_alert *a)
{
	struct sent_find *f = arg;

	if (a->alert_id == f->alert_id) {
		f->found = 1;
		return 1;	/* stop */
	}
	return 0;
}

/* The stored row that matches (path officer, responder, raw). */
struct row_find {
	const char *responder, *raw;
	json_t *row;
};

static json_t *
jstr(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

static int
row_cb(void *arg, const struct store_answer *x)
{
	struct row_find *f = arg;
	char buf[40];

	if (strcmp(x->path, "officer") != 0 || x->raw == NULL ||
	    strcmp(x->responder_id, f->responder) != 0 ||
	    strcmp(x->raw, f->raw) != 0)
		return 0;
	json_decref(f->row);
	f->row = json_pack("{s:I,s:I,s:s,s:o,s:s,s:s,s:b,s:o,s:o,s:o}",
	    "alert_id", (json_int_t)x->alert_id, "id", (json_int_t)x->id,
	    "responder_id", x->responder_id, "name", jstr(x->name),
	    "path", x->path,
	    "received", eng_time_fmt_utc(x->received_ms, buf, sizeof(buf)),
	    "late", x->late, "note", jstr(x->note),
	    "recorded_by", jstr(x->recorded_by), "reason", jstr(x->reason));
	return f->row != NULL ? 0 : ENG_ENOMEM;
}

/* The client's address as text ("?" when unknown). */
static void
peer_addr(struct MHD_Connection *c, char *buf, size_t size)
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

static void
audit(struct MHD_Connection *c, long long id, const struct officer_req *q,
    const char *outcome, int late)
{
	char from[INET6_ADDRSTRLEN + 1], qby[160], qreason[600], qresp[160];

	peer_addr(c, from, sizeof(from));
	log_write(strcmp(outcome, "recorded") == 0 ||
	    strcmp(outcome, "duplicate") == 0 ? LOG_LVL_INFO : LOG_LVL_WARN,
	    "audit.answer", "alert=%lld responder=%s path=officer by=%s "
	    "reason=%s from=%s outcome=%s late=%d", id,
	    log_q(q->responder, qresp, sizeof(qresp)),
	    log_q(q->by, qby, sizeof(qby)),
	    log_q(q->reason, qreason, sizeof(qreason)), from, outcome, late);
}

static int
json_type_ok(struct MHD_Connection *c)
{
	const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_TYPE);
	size_t n = strlen("application/json");

	return ct != NULL && strncasecmp(ct, "application/json", n) == 0 &&
	    (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/*
 * One string member into out (cleaned: valid UTF-8, no control
 * characters, trimmed).  Returns 0, or writes why into msg and returns
 * -1.  required: absent, null or empty after cleaning is an error.
 */
static int
member(const json_t *o, const char *key, int required, size_t max,
    char *out, size_t size, char *msg, size_t msize)
{
	const json_t *v = json_object_get(o, key);
	size_t len;

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
	len = json_string_length(v);
	if (len > max) {
		(void)snprintf(msg, msize, "%s is longer than %zu bytes", key,
		    max);
		return -1;
	}
	answer_clean_note(json_string_value(v), len, out, size);
	if (required && out[0] == '\0') {
		(void)snprintf(msg, msize, "%s must not be empty", key);
		return -1;
	}
	return 0;
}

/* Read and check the body into q; 0, or -1 with code and msg set. */
static int
read_body(const struct api_req *r, struct officer_req *q, int by_required,
    const char **code, char *msg, size_t msize)
{
	static const char *const keys[] = {
		"responder_id", "reason", "note", "by", NULL
	};
	json_error_t je;
	const char *k;
	json_t *o, *v;
	size_t i;
	int rv = -1;

	*code = "bad_json";
	if ((o = json_loadb(r->body, r->len, JSON_REJECT_DUPLICATES,
	    &je)) == NULL) {
		(void)snprintf(msg, msize, "the body is not JSON: %s (line %d, "
		    "column %d)", je.text, je.line, je.column);
		return -1;
	}
	if (!json_is_object(o)) {
		(void)snprintf(msg, msize, "the body must be a JSON object");
		goto out;
	}
	*code = "bad_field";
	json_object_foreach(o, k, v) {
		for (i = 0; keys[i] != NULL && strcmp(k, keys[i]) != 0; i++)
			;
		if (keys[i] == NULL) {
			char kq[80];

			answer_clean_note(k, strlen(k), kq, sizeof(kq));
			(void)snprintf(msg, msize, "unknown field \"%s\" (want "
			    "responder_id, reason, note, by)", kq);
			goto out;
		}
	}
	if (member(o, "responder_id", 1, OFFICER_ID_MAX, q->responder,
	    sizeof(q->responder), msg, msize) != 0 ||
	    member(o, "reason", 1, OFFICER_TEXT_MAX, q->reason,
	    sizeof(q->reason), msg, msize) != 0 ||
	    member(o, "by", by_required, OFFICER_BY_MAX, q->by, sizeof(q->by),
	    msg, msize) != 0 ||
	    member(o, "note", 0, OFFICER_TEXT_MAX, q->note, sizeof(q->note),
	    msg, msize) != 0)
		goto out;
	/* A responder id is kept as given: cleaning must not change it. */
	v = json_object_get(o, "responder_id");
	if (strcmp(q->responder, json_string_value(v)) != 0) {
		(void)snprintf(msg, msize, "responder_id has control "
		    "characters or surrounding blanks");
		goto out;
	}
	rv = 0;
out:
	json_decref(o);
	return rv;
}

/* The canonical raw input of q: malloc'd, or NULL (ENOMEM). */
static char *
raw_of(const struct officer_req *q)
{
	json_t *j;
	char *s;

	j = json_pack("{s:s,s:s,s:s}", "responder_id", q->responder,
	    "reason", q->reason, "by", q->by);
	if (j == NULL)
		return NULL;
	if (q->note[0] != '\0' &&
	    json_object_set_new(j, "note", json_string(q->note)) != 0) {
		json_decref(j);
		return NULL;
	}
	s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	return s;
}

/* How a request ended, for the reply and the audit line. */
enum officer_outcome {
	OFF_RECORDED = 0,
	OFF_NO_ALERT,
	OFF_NO_RESPONDER,
	OFF_NOT_SENT,
	OFF_ERROR
};

/*
 * Check the responder and the alert, record the answer and read its row
 * back into rf->row.  msg says why for OFF_NO_RESPONDER / OFF_NOT_SENT,
 * eb for the others.
 */
static enum officer_outcome
record(struct store *s, long long id, const struct officer_req *q,
    const char *raw, int64_t now, int *added, struct row_find *rf,
    char *msg, size_t msize, struct eng_errbuf *eb)
{
	struct store_answer ans;
	struct alert_state st;
	struct sent_find sf;
	char name[128], role[64];
	int rv;

	memset(&st, 0, sizeof(st));
	memset(&sf, 0, sizeof(sf));
	sf.alert_id = id;
	if ((rv = store_alert_get(s, id, alert_state_cb, &st, eb)) != 0)
		return rv == ENG_ENOENT ? OFF_NO_ALERT : OFF_ERROR;
	rv = store_responder_brief(s, q->responder, name, sizeof(name), role,
	    sizeof(role), eb);
	if (rv == ENG_ENOENT) {
		(void)snprintf(msg, msize, "there is no responder \"%s\"",
		    q->responder);
		return OFF_NO_RESPONDER;
	}
	if (rv != 0)
		return OFF_ERROR;
	rv = store_alerts_sent_to(s, q->responder, now, -1, sent_cb, &sf, eb);
	if (rv != 0 && rv != 1)
		return OFF_ERROR;
	if (!sf.found) {
		(void)snprintf(msg, msize, "responder %s (%s) was not sent "
		    "alert %lld: no delivery of it to them", q->responder,
		    name, id);
		return OFF_NOT_SENT;
	}
	memset(&ans, 0, sizeof(ans));
	ans.alert_id = id;
	ans.responder_id = q->responder;
	ans.path = "officer";
	ans.received_ms = now;
	ans.raw = raw;
	ans.note = q->note[0] ? q->note : NULL;
	ans.late = !(strcmp(st.state, "active") == 0 &&
	    (st.expires_ms == 0 || st.expires_ms > now));
	ans.recorded_by = q->by;
	ans.reason = q->reason;
	if (store_answer_add(s, &ans, added, eb) != 0)
		return OFF_ERROR;
	rf->responder = q->responder;
	rf->raw = raw;
	if (store_answers_list(s, id, row_cb, rf, eb) != 0)
		return OFF_ERROR;
	if (rf->row == NULL) {
		(void)eng_error(eb, ENG_EIO, "the answer was not found after "
		    "it was recorded");
		return OFF_ERROR;
	}
	return OFF_RECORDED;
}

enum MHD_Result
api_h_answer_add(struct MHD_Connection *c, struct api_req *r)
{
	struct api *a = r->api;
	struct officer_req q;
	struct row_find rf;
	struct eng_errbuf eb;
	enum officer_outcome oc;
	enum MHD_Result ret;
	struct store *s;
	const char *code;
	char msg[512];
	char *raw, *end, region[REGION_CODE_SIZE];
	int64_t now = eng_clock_now_ms(&eng_clock_system);
	long long id;
	int added = 0, dup, account, rv;

	memset(&q, 0, sizeof(q));
	memset(&rf, 0, sizeof(rf));
	eng_errbuf_init(&eb);
	msg[0] = '\0';
	errno = 0;
	id = strtoll(r->code, &end, 10);
	if (errno != 0 || *end != '\0' || id <= 0)
		return api_reply_error(c, r, MHD_HTTP_BAD_REQUEST, "bad_id",
		    "an alert id is a positive integer", NULL);
	if (r->len > OFFICER_BODY_MAX) {
		(void)snprintf(msg, sizeof(msg), "request body exceeds %d "
		    "bytes", OFFICER_BODY_MAX);
		return api_reply_error(c, r, MHD_HTTP_CONTENT_TOO_LARGE,
		    "body_too_large", msg, NULL);
	}
	if (!json_type_ok(c))
		return api_reply_error(c, r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
		    "unsupported_media_type", "send the answer as "
		    "application/json", NULL);
	if (r->len == 0)
		return api_reply_error(c, r, MHD_HTTP_BAD_REQUEST,
		    "empty_body", "the request body must be a JSON object "
		    "with responder_id, reason and by", NULL);
	account = r->who.kind == AUTH_USER || r->who.kind == AUTH_TOKEN;
	if (read_body(r, &q, !account, &code, msg, sizeof(msg)) != 0)
		return api_reply_error(c, r, MHD_HTTP_BAD_REQUEST, code, msg,
		    NULL);
	if (account)
		(void)snprintf(q.by, sizeof(q.by), "%.64s", r->who.name);
	r->audit.action = "answer";
	(void)snprintf(r->audit.target, sizeof(r->audit.target),
	    "alert:%lld responder:%s", id, q.responder);
	s = api_store_get(a);
	rv = store_responder_region(s, q.responder, region, &eb);
	api_store_put(a, s);
	if (rv == 0) {
		(void)snprintf(r->audit.jurisdiction,
		    sizeof(r->audit.jurisdiction), "%s", region);
		if (!auth_allow(&r->who, AUTH_ANSWER, region, msg,
		    sizeof(msg))) {
			audit(c, id, &q, "denied", 0);
			return api_deny(c, r, msg);
		}
	} else if (rv != ENG_ENOENT)
		return api_reply_error(c, r, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "store_error", eb.msg, NULL);
	else if (r->who.role != AUTH_ROLE_ADMIN) {
		/* Unknown to the roster: only an admin learns so. */
		(void)snprintf(msg, sizeof(msg), "answer for responder %s "
		    "needs a jurisdiction over their region", q.responder);
		return api_deny(c, r, msg);
	}
	if ((raw = raw_of(&q)) == NULL)
		return MHD_NO;

	s = api_store_get(a);
	oc = record(s, id, &q, raw, now, &added, &rf, msg, sizeof(msg), &eb);
	api_store_put(a, s);
	switch (oc) {
	case OFF_RECORDED:
		dup = !added;
		audit(c, id, &q, dup ? "duplicate" : "recorded",
		    json_is_true(json_object_get(rf.row, "late")));
		(void)json_object_set_new(rf.row, "duplicate",
		    json_boolean(dup));
		r->audit.after = json_dumps(rf.row, JSON_COMPACT |
		    JSON_SORT_KEYS);
		(void)snprintf(r->audit.outcome, sizeof(r->audit.outcome),
		    "%s", dup ? "duplicate" : "ok");
		ret = api_reply_json(c, r, dup ? MHD_HTTP_OK : MHD_HTTP_CREATED,
		    rf.row);
		rf.row = NULL;
		break;
	case OFF_NO_ALERT:
		ret = api_reply_error(c, r, MHD_HTTP_NOT_FOUND, "not_found",
		    eb.msg, NULL);
		break;
	case OFF_NO_RESPONDER:
		audit(c, id, &q, "unknown_responder", 0);
		ret = api_reply_error(c, r, MHD_HTTP_UNPROCESSABLE_CONTENT,
		    "unknown_responder", msg, NULL);
		break;
	case OFF_NOT_SENT:
		audit(c, id, &q, "not_sent", 0);
		ret = api_reply_error(c, r, MHD_HTTP_UNPROCESSABLE_CONTENT,
		    "not_sent", msg, NULL);
		break;
	default:
		ret = api_reply_error(c, r, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "store_error", eb.msg, NULL);
		break;
	}
	json_decref(rf.row);
	free(raw);
	return ret;
}
