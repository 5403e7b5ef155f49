/*
 * engine/api_warnings.c - issuing: a duty officer's form becomes a CAP
 * 1.2 message (engine/warning.h) that goes through ingest like any other
 * (source "console:<user>").
 *
 *   POST /api/v1/warnings                 a new warning (Alert)
 *   POST /api/v1/warnings/{id}/update     an Update of id's chain
 *   POST /api/v1/warnings/{id}/cancel     a Cancel of id's chain
 *   GET  /api/v1/warnings/pending         warnings awaiting approval
 *   POST /api/v1/warnings/pending/{pid}/approve, .../reject
 *
 * ?dry_run=1 (or "dry_run": true) answers POST /api/v1/plan's dry run of
 * the message built (api_plan_reply: the same counts and texts) with the
 * CAP XML, and stores nothing.  Colours listed in issuing.approval are
 * kept pending (not ingested) until an officer other than the issuer,
 * with authority over every target region, approves them.
 *
 * Authority (engine/auth.h): issue, update, cancel need auth_allow for
 * the action on every region named; an update or cancel also needs the
 * whole chain within the caller's jurisdiction (store_chain_within), and
 * ingest refuses a polygon reaching beyond it (the source's regions).
 */
#include "engine/api_int.h"
#include "cap/cap.h"
#include "engine/clock.h"
#include "engine/dispatch.h"
#include "engine/ingest.h"
#include "engine/log.h"
#include "engine/warning.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_CHAIN_REFS	64	/* references of an Update/Cancel */

static json_t *
jstr(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
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

static long long
parse_id(const char *s)
{
	long long id;
	char *end;

	errno = 0;
	id = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || id <= 0 || s[0] == '+')
		return 0;
	return id;
}

/* 400 naming every bad field. */
static enum MHD_Result
field_errors(struct MHD_Connection *c, struct api_req *r,
    const struct diag_list *d)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; arr != NULL && i < d->n; i++)
		if (d->v[i].sev == DIAG_ERROR)
			(void)json_array_append_new(arr, json_pack("{s:s,s:s}",
			    "field", d->v[i].path ? d->v[i].path : "",
			    "message", d->v[i].msg));
	return api_reply_error(c, r, MHD_HTTP_BAD_REQUEST, "invalid_field",
	    d->n > 0 ? d->v[0].msg : "invalid form", arr);
}

static enum MHD_Result
one_field(struct MHD_Connection *c, struct api_req *r, int status,
    const char *field, const char *msg)
{
	char m[400];

	(void)snprintf(m, sizeof(m), "%s: %s", field, msg);
	if (status == MHD_HTTP_FORBIDDEN)
		return api_deny(c, r, m);
	return api_reply_error(c, r, status, "invalid_field", m,
	    json_pack("[{s:s,s:s}]", "field", field, "message", m));
}

/* An ingest error as POST /api/v1/cap answers it. */
static enum MHD_Result
ingest_error(struct MHD_Connection *c, struct api_req *r, int rv,
    const struct diag_list *d, const struct eng_errbuf *eb)
{
	json_t *arr;
	size_t i;

	switch (rv) {
	case ENG_EINVAL:
		arr = json_array();
		for (i = 0; arr != NULL && i < d->n; i++)
			if (d->v[i].sev == DIAG_ERROR)
				(void)json_array_append_new(arr, json_pack(
				    "{s:s,s:s}", "path", d->v[i].path ?
				    d->v[i].path : "", "message",
				    d->v[i].msg));
		return api_reply_error(c, r, MHD_HTTP_UNPROCESSABLE_CONTENT,
		    "invalid_cap", eb->msg[0] ? eb->msg : "invalid CAP", arr);
	case ENG_ETOOBIG:
		return api_reply_error(c, r, MHD_HTTP_CONTENT_TOO_LARGE,
		    "cap_too_large", eb->msg, NULL);
	case ENG_EPERM:
		return api_deny(c, r, eb->msg);
	default:
		log_error("warning.ingest_failed", "error=\"%s\"", eb->msg);
		return api_reply_error(c, r, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "try_again", eb->msg[0] ? eb->msg : eng_strerror(rv),
		    NULL);
	}
}

/* ------------------------------------------------------------------ */
/* The chain of an alert                                               */
/* ------------------------------------------------------------------ */

struct chain {
	long long chain_id;
	char *refs[MAX_CHAIN_REFS];	/* "sender,identifier,sent" */
	size_t nrefs;
	long long latest;		/* id of the latest message */
	int cancelled;
	int overflow;
	char *cap;			/* the latest message's bytes */
	size_t cap_len;
};

static void
chain_release(struct chain *ch)
{
	size_t i;

	for (i = 0; i < ch->nrefs; i++)
		free(ch->refs[i]);
	free(ch->cap);
	memset(ch, 0, sizeof(*ch));
}

static int
chain_id_cb(void *arg, const struct store_alert *x)
{
	((struct chain *)arg)->chain_id = x->chain_id;
	return 0;
}

static int
chain_cb(void *arg, const struct store_alert *x)
{
	struct chain *ch = arg;
	size_t n;

	if (x->msg_type != NULL && strcmp(x->msg_type, "Cancel") == 0)
		ch->cancelled = 1;
	if (x->state != NULL && strcmp(x->state, "cancelled") == 0)
		ch->cancelled = 1;
	ch->latest = x->id;
	if (ch->nrefs == MAX_CHAIN_REFS) {
		ch->overflow = 1;
		return 0;
	}
	n = strlen(x->sender) + strlen(x->identifier) + strlen(x->sent) + 3;
	if ((ch->refs[ch->nrefs] = malloc(n)) == NULL)
		return ENG_ENOMEM;
	(void)snprintf(ch->refs[ch->nrefs], n, "%s,%s,%s", x->sender,
	    x->identifier, x->sent);
	ch->nrefs++;
	return 0;
}

static int
cap_cb(void *arg, const struct store_alert *x)
{
	struct chain *ch = arg;

	if ((ch->cap = malloc(x->cap_len + 1)) == NULL)
		return ENG_ENOMEM;
	memcpy(ch->cap, x->cap, x->cap_len);
	ch->cap[x->cap_len] = '\0';
	ch->cap_len = x->cap_len;
	return 0;
}

/* Every message of id's chain (references) and the latest one's bytes.
 * ENG_ENOENT for an unknown alert. */
static int
chain_load(struct store *s, long long id, struct chain *ch,
    struct eng_errbuf *eb)
{
	int rv;

	memset(ch, 0, sizeof(*ch));
	if ((rv = store_alert_get(s, id, chain_id_cb, ch, eb)) != 0)
		return rv;
	if ((rv = store_alert_chain(s, ch->chain_id, chain_cb, ch, eb)) != 0)
		return rv;
	if (ch->latest == 0)
		return eng_error(eb, ENG_ENOENT, "alert %lld has no chain", id);
	return store_alert_get(s, ch->latest, cap_cb, ch, eb);
}

/* ------------------------------------------------------------------ */
/* Issue, update, cancel                                               */
/* ------------------------------------------------------------------ */

struct names {
	char *text;
	size_t len, cap;
};

static int
names_add(struct names *n, const char *s, const char *sep)
{
	size_t need = strlen(s) + strlen(sep) + 1;
	char *p;

	if (n->len + need > n->cap) {
		size_t nc = (n->cap ? n->cap * 2 : 256) + need;

		if ((p = realloc(n->text, nc)) == NULL)
			return ENG_ENOMEM;
		n->text = p;
		n->cap = nc;
	}
	if (n->len > 0) {
		memcpy(n->text + n->len, sep, strlen(sep));
		n->len += strlen(sep);
	}
	memcpy(n->text + n->len, s, strlen(s));
	n->len += strlen(s);
	n->text[n->len] = '\0';
	return 0;
}

/* Who the caller is as a person: the user's name (also through one of
 * their API tokens, "user/token"), else the principal's name
 * ("admin.token").  Two credentials of one user are one officer. */
static void
officer_of(const struct auth_principal *p, char *buf, size_t size)
{
	size_t n = strcspn(p->name, "/");

	if (p->kind == AUTH_TOKEN && p->name[n] == '/')
		(void)snprintf(buf, size, "%.*s", (int)n, p->name);
	else
		(void)snprintf(buf, size, "%s", p->name);
}

/* The deployment's CAP sender. */
static void
sender_of(const struct api *a, char *buf, size_t size)
{
	if (a->cfg.issue_sender[0] != '\0')
		(void)snprintf(buf, size, "%s", a->cfg.issue_sender);
	else
		(void)snprintf(buf, size, "gong@%s", a->root);
}

static enum auth_action
action_of(int kind)
{
	return kind == 'A' ? AUTH_ISSUE : kind == 'U' ? AUTH_UPDATE :
	    AUTH_CANCEL;
}

/* The answer to a stored message (also an approval's). */
static json_t *
stored_json(const struct ingest_result *res, const char *sender,
    const char *identifier, const char *sent, const char *msg_type,
    const struct diag_list *d)
{
	json_t *w = json_array();
	size_t i;

	for (i = 0; w != NULL && i < d->n; i++)
		if (d->v[i].sev == DIAG_WARNING)
			(void)json_array_append_new(w, json_pack("{s:o,s:s}",
			    "path", jstr(d->v[i].path), "message",
			    d->v[i].msg));
	return json_pack("{s:I,s:b,s:s,s:s,s:s,s:s,s:s,s:b,s:I,s:I,s:b,s:s,"
	    "s:o}",
	    "id", (json_int_t)res->alert_id, "duplicate", res->duplicate,
	    "sender", sender, "identifier", identifier, "sent", sent,
	    "msg_type", msg_type,
	    "state", res->duplicate ? "duplicate" :
	    ingest_state_name(res->state),
	    "broadcast", res->broadcast,
	    "chain_id", (json_int_t)res->chain_id,
	    "regions", (json_int_t)res->nregions,
	    "area_unmatched", res->area_unmatched,
	    "colour", cap_color_name((enum cap_color)res->colour),
	    "warnings", w ? w : json_array());
}

/* Store a warning needing approval: its targets resolved by ingest's
 * preview (errors answered as ingest would). */
static enum MHD_Result
keep_pending(struct MHD_Connection *c, struct api_req *r,
    const struct ingest_source *src, const char *xml, size_t len,
    const struct warning *w, const char *msg_type, const char *identifier,
    const char *actor)
{
	struct api *a = r->api;
	struct ingest_preview p;
	struct store_pending sp;
	struct names regs = { NULL, 0, 0 };
	struct diag_list d;
	struct eng_errbuf eb;
	struct ingest *ig;
	struct store *s;
	enum MHD_Result ret;
	char common[REGION_CODE_SIZE], tmp[REGION_CODE_SIZE];
	long long pid = 0;
	size_t i;
	int rv;

	eng_errbuf_init(&eb);
	diag_list_init(&d);
	d.max = 100;
	ig = api_ingest_get(a);
	rv = ingest_preview(ig, src, xml, len, &p, &d, &eb);
	api_ingest_put(a, ig);
	if (rv != 0) {
		ret = ingest_error(c, r, rv, &d, &eb);
		diag_list_release(&d);
		return ret;
	}
	common[0] = '\0';
	for (i = 0, rv = 0; rv == 0 && i < p.res.nregions; i++) {
		rv = names_add(&regs, p.targets[i], " ");
		auth_region_common(common, p.targets[i], tmp);
		memcpy(common, tmp, sizeof(tmp));
	}
	memset(&sp, 0, sizeof(sp));
	sp.created_ms = eng_clock_now_ms(&eng_clock_system);
	sp.created_by = actor;
	sp.source = src->name;
	sp.msg_type = msg_type;
	sp.colour = w->colour;
	sp.event = w->event;
	sp.headline = w->headline;
	sp.regions = regs.text ? regs.text : "";
	sp.jurisdiction = common;
	sp.cap = xml;
	sp.cap_len = len;
	if (rv == 0) {
		s = api_store_get(a);
		rv = store_pending_add(s, &sp, &pid, &eb);
		api_store_put(a, s);
	}
	if (rv != 0) {
		ret = api_reply_error(c, r, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "try_again", eb.msg[0] ? eb.msg : eng_strerror(rv), NULL);
		goto out;
	}
	r->audit.action = "issue_pending";
	(void)snprintf(r->audit.target, sizeof(r->audit.target),
	    "pending:%lld", pid);
	(void)snprintf(r->audit.jurisdiction, sizeof(r->audit.jurisdiction),
	    "%s", common);
	(void)snprintf(r->audit.outcome, sizeof(r->audit.outcome),
	    "pending_approval");
	log_info("warning.pending", "pid=%lld by=%s colour=%s identifier=%s",
	    pid, actor, cap_color_name((enum cap_color)w->colour),
	    identifier);
	ret = api_reply_json(c, r, MHD_HTTP_ACCEPTED, json_pack(
	    "{s:I,s:s,s:s,s:s,s:s,s:I}", "pending_id", (json_int_t)pid,
	    "state", "pending_approval", "identifier", identifier,
	    "msg_type", msg_type,
	    "colour", cap_color_name((enum cap_color)w->colour),
	    "regions", (json_int_t)p.res.nregions));
out:
	free(regs.text);
	ingest_preview_release(&p);
	diag_list_release(&d);
	return ret;
}

static json_t *
refs_json(const struct chain *ch)
{
	json_t *refs = json_array();
	size_t i;

	for (i = 0; refs != NULL && i < ch->nrefs; i++)
		(void)json_array_append_new(refs, json_string(ch->refs[i]));
	return refs;
}

static enum MHD_Result
issue(struct MHD_Connection *c, struct api_req *r, int kind)
{
	struct api *a = r->api;
	struct warning chg, base, *w;
	struct warning_msg m;
	struct ingest_source src;
	struct ingest_result res;
	struct store_region reg;
	struct chain ch;
	struct names area = { NULL, 0, 0 };
	struct diag_list d;
	struct eng_errbuf eb;
	struct cap_opts co;
	struct cap_alert *prev = NULL;
	struct ingest *ig;
	struct store *s;
	enum MHD_Result ret;
	const char *q, *msg_type;
	char why[300], sender[160], ident[200], rnd[AUTH_HEX_SIZE];
	char srcname[sizeof(r->who.name) + 16], actor[160], sent[40];
	char *xml = NULL;
	size_t xlen = 0, i;
	long long id = 0;
	int64_t now;
	int rv, dry = 0, zh;

	warning_init(&chg);
	warning_init(&base);
	memset(&ch, 0, sizeof(ch));
	eng_errbuf_init(&eb);
	diag_list_init(&d);
	d.max = 100;
	w = &chg;
	if (!auth_allow(&r->who, action_of(kind), NULL, why, sizeof(why)))
		return api_deny(c, r, why);
	if (kind != 'A' && (id = parse_id(r->code)) == 0)
		return api_reply_error(c, r, MHD_HTTP_BAD_REQUEST, "bad_id",
		    "an alert id is a positive integer", NULL);
	if ((q = api_arg(c, "dry_run")) != NULL) {
		if (strcmp(q, "1") != 0 && strcmp(q, "0") != 0)
			return api_reply_error(c, r, MHD_HTTP_BAD_REQUEST,
			    "bad_query", "dry_run is 0 or 1", NULL);
		dry = q[0] == '1';
	}
	if (r->len == 0 && kind == 'C') {
		/* A cancel needs no body. */
	} else if (!json_type_ok(c)) {
		return api_reply_error(c, r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
		    "unsupported_media_type", "send the form as "
		    "application/json", NULL);
	}
	if (r->len > WARNING_BODY_MAX)
		return one_field(c, r, MHD_HTTP_CONTENT_TOO_LARGE, "body",
		    "is larger than 65536 bytes");
	now = eng_clock_now_ms(&eng_clock_system);
	now -= now % 1000;
	if ((r->len > 0 || kind != 'C') && (rv = warning_parse(r->body ?
	    r->body : "", r->len, kind, now, &chg, &d)) != 0) {
		ret = rv == ENG_ENOMEM ? MHD_NO : field_errors(c, r, &d);
		goto out;
	}
	dry = dry || chg.dry_run;
	officer_of(&r->who, actor, sizeof(actor));

	s = api_store_get(a);
	if (kind != 'A') {
		rv = chain_load(s, id, &ch, &eb);
		if (rv == 0 && r->who.role != AUTH_ROLE_ADMIN &&
		    (rv = store_chain_within(s, ch.chain_id,
		    r->who.jurisdiction, &eb)) == 0) {
			api_store_put(a, s);
			(void)snprintf(why, sizeof(why), "alert %lld's chain "
			    "reaches beyond %s's jurisdiction %s", id,
			    r->who.name, r->who.jurisdiction);
			ret = api_deny(c, r, why);
			goto out;
		}
		if (rv == 1)
			rv = 0;
		if (rv != 0) {
			api_store_put(a, s);
			ret = rv == ENG_ENOENT ? api_reply_error(c, r,
			    MHD_HTTP_NOT_FOUND, "not_found", eb.msg, NULL) :
			    api_reply_error(c, r,
			    MHD_HTTP_INTERNAL_SERVER_ERROR, "store_error",
			    eb.msg, NULL);
			goto out;
		}
		if (ch.cancelled || ch.overflow) {
			api_store_put(a, s);
			ret = api_reply_error(c, r, MHD_HTTP_CONFLICT,
			    ch.cancelled ? "cancelled" : "chain_too_long",
			    ch.cancelled ? "the warning is already cancelled" :
			    "the chain has too many messages to reference",
			    NULL);
			goto out;
		}
		cap_opts_init(&co);
		co.lenient = 1;
		co.cn_profile = 1;
		co.max_bytes = ch.cap_len + 1;
		rv = cap_parse(ch.cap, ch.cap_len, &co, &prev, &d, &eb);
		if (rv == 0)
			rv = warning_from_cap(prev, NULL, &base, &eb);
		diag_list_release(&d);
		if (rv == 0)
			rv = warning_merge(&base, &chg);
		if (rv != 0) {
			api_store_put(a, s);
			ret = api_reply_error(c, r, MHD_HTTP_CONFLICT,
			    "not_updatable", eb.msg[0] ? eb.msg : "the latest "
			    "message of the chain cannot be read", NULL);
			goto out;
		}
		w = &base;
	}
	if (kind != 'C' && warning_check(w, now, &d) != 0) {
		api_store_put(a, s);
		ret = field_errors(c, r, &d);
		goto out;
	}
	/* Regions: known, within the caller's authority; their names. */
	zh = w->language == NULL || strncmp(w->language, "zh", 2) == 0;
	for (i = 0; i < w->nregions; i++) {
		char field[32];

		(void)snprintf(field, sizeof(field), "regions[%zu]", i);
		memset(&reg, 0, sizeof(reg));
		rv = store_region_get(s, w->regions[i], &reg, &eb);
		if (rv == ENG_ENOENT) {
			api_store_put(a, s);
			(void)snprintf(why, sizeof(why), "%s is not a region "
			    "of this deployment", w->regions[i]);
			ret = one_field(c, r, MHD_HTTP_BAD_REQUEST, field, why);
			goto out;
		}
		if (rv != 0) {
			api_store_put(a, s);
			ret = api_reply_error(c, r,
			    MHD_HTTP_INTERNAL_SERVER_ERROR, "store_error",
			    eb.msg, NULL);
			goto out;
		}
		rv = names_add(&area, reg.name ? reg.name : w->regions[i],
		    zh ? "、" : ", ");
		store_region_release(&reg);
		if (rv != 0) {
			api_store_put(a, s);
			ret = MHD_NO;
			goto out;
		}
		if (kind != 'C' && !auth_allow(&r->who, action_of(kind),
		    w->regions[i], why, sizeof(why))) {
			api_store_put(a, s);
			ret = one_field(c, r, MHD_HTTP_FORBIDDEN, field, why);
			goto out;
		}
	}
	api_store_put(a, s);

	/* The message. */
	if (w->sender_name == NULL && (r->who.kind == AUTH_USER ||
	    r->who.kind == AUTH_TOKEN)) {
		if ((w->sender_name = strdup(r->who.name)) == NULL) {
			ret = MHD_NO;
			goto out;
		}
	}
	sender_of(a, sender, sizeof(sender));
	auth_random_hex(rnd);
	rnd[8] = '\0';
	if (warning_identifier(a->root, now, a->cfg.issue_utc_offset_min,
	    rnd, ident, sizeof(ident)) != 0) {
		ret = api_reply_error(c, r, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "internal", "identifier too long", NULL);
		goto out;
	}
	memset(&m, 0, sizeof(m));
	m.msg_type = kind == 'A' ? CAP_MSG_ALERT : kind == 'U' ?
	    CAP_MSG_UPDATE : CAP_MSG_CANCEL;
	m.sender = sender;
	m.identifier = ident;
	m.sent_ms = now;
	m.utc_offset_min = a->cfg.issue_utc_offset_min;
	m.area_desc = area.text;
	m.refs = (const char *const *)ch.refs;
	m.nrefs = ch.nrefs;
	msg_type = cap_msgtype_name((enum cap_msgtype)m.msg_type);
	if ((rv = warning_to_xml(w, &m, &xml, &xlen, &eb)) != 0) {
		ret = api_reply_error(c, r, rv == ENG_ENOMEM ?
		    MHD_HTTP_INTERNAL_SERVER_ERROR : MHD_HTTP_BAD_REQUEST,
		    rv == ENG_ENOMEM ? "internal" : "invalid_field", eb.msg,
		    NULL);
		goto out;
	}
	(void)warning_fmt_time(now, m.utc_offset_min, sent, sizeof(sent));

	memset(&src, 0, sizeof(src));
	(void)snprintf(srcname, sizeof(srcname), "console:%s",
	    r->who.kind == AUTH_ADMIN_TOKEN ? "admin" : r->who.name);
	src.name = srcname;
	src.via = "http";
	src.cn_profile = 1;
	src.max_bytes = a->cfg.admin_cap_max_bytes;
	if (r->who.role != AUTH_ROLE_ADMIN) {
		src.regions = (const char (*)[REGION_CODE_SIZE])
		    r->who.jurisdiction;
		src.nregions = 1;
	}

	if (dry) {
		int approval = kind != 'C' && (a->cfg.issue_approval &
		    (1u << w->colour)) != 0;

		r->audit.action = "warning_dry_run";
		ret = api_plan_reply(c, r, &src, xml, xlen, json_pack(
		    "{s:s,s:s,s:s,s:s,s:b,s:o}", "cap", xml, "identifier",
		    ident, "sender", sender, "sent", sent, "needs_approval",
		    approval, "references", refs_json(&ch)));
		goto out;
	}
	if (kind != 'C' && (a->cfg.issue_approval & (1u << w->colour))) {
		ret = keep_pending(c, r, &src, xml, xlen, w, msg_type, ident,
		    actor);
		goto out;
	}
	ig = api_ingest_get(a);
	rv = ingest_cap(ig, &src, xml, xlen, &res, &d, &eb);
	api_ingest_put(a, ig);
	if (rv != 0) {
		ret = ingest_error(c, r, rv, &d, &eb);
		goto out;
	}
	{
		json_t *j = stored_json(&res, sender, ident, sent, msg_type,
		    &d), *refs = refs_json(&ch);

		if (j != NULL)
			(void)json_object_set_new(j, "references", refs);
		else
			json_decref(refs);
		ret = api_reply_json(c, r, MHD_HTTP_CREATED, j);
	}
	api_cap_audit(r, res.alert_id, res.duplicate);
	log_info("warning.issued", "id=%lld by=%s msg_type=%s identifier=%s",
	    res.alert_id, actor, msg_type, ident);
	if (res.broadcast && !res.duplicate) {
		pthread_rwlock_rdlock(&a->disp_lock);
		if (a->dispatch != NULL)
			dispatch_kick(a->dispatch);
		pthread_rwlock_unlock(&a->disp_lock);
	}
out:
	free(xml);
	free(area.text);
	cap_alert_free(prev);
	chain_release(&ch);
	warning_release(&chg);
	warning_release(&base);
	diag_list_release(&d);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Pending approval                                                    */
/* ------------------------------------------------------------------ */

static json_t *
pending_json(const struct store_pending *p)
{
	char t1[40], t2[40];

	return json_pack("{s:I,s:s,s:s,s:s,s:s,s:o,s:o,s:s,s:o,s:s,s:o,s:o,"
	    "s:o,s:o}",
	    "id", (json_int_t)p->id,
	    "created", eng_time_fmt_utc(p->created_ms, t1, sizeof(t1)),
	    "created_by", p->created_by, "source", p->source,
	    "msg_type", p->msg_type,
	    "colour", json_string(cap_color_name((enum cap_color)p->colour)),
	    "event", jstr(p->event), "regions", p->regions ? p->regions : "",
	    "headline", jstr(p->headline), "state", p->state,
	    "decided_by", jstr(p->decided_by),
	    "decided", p->decided_ms ? json_string(eng_time_fmt_utc(
	    p->decided_ms, t2, sizeof(t2))) : json_null(),
	    "reason", jstr(p->reason),
	    "alert_id", p->alert_id ? json_integer(p->alert_id) :
	    json_null());
}

struct plist {
	json_t *arr;
	const struct auth_principal *who;
};

static int
plist_cb(void *arg, const struct store_pending *p)
{
	struct plist *l = arg;

	/* Not an admin: those within the jurisdiction. */
	if (l->who->role != AUTH_ROLE_ADMIN && (p->jurisdiction == NULL ||
	    !region_code_within(p->jurisdiction, l->who->jurisdiction)))
		return 0;
	return json_array_append_new(l->arr, pending_json(p)) == 0 ? 0 :
	    ENG_ENOMEM;
}

static enum MHD_Result
pending_list(struct MHD_Connection *c, struct api_req *r)
{
	struct plist l;
	struct eng_errbuf eb;
	struct store *s;
	const char *state = api_arg(c, "state");
	char why[256];
	int rv;

	eng_errbuf_init(&eb);
	if (!auth_allow(&r->who, AUTH_READ, NULL, why, sizeof(why)))
		return api_deny(c, r, why);
	if (state == NULL)
		state = "pending";
	if (strcmp(state, "pending") != 0 && strcmp(state, "approved") != 0 &&
	    strcmp(state, "rejected") != 0 && strcmp(state, "all") != 0)
		return api_reply_error(c, r, MHD_HTTP_BAD_REQUEST, "bad_query",
		    "state is pending, approved, rejected or all", NULL);
	if ((l.arr = json_array()) == NULL)
		return MHD_NO;
	l.who = &r->who;
	s = api_store_get(r->api);
	rv = store_pending_list(s, strcmp(state, "all") == 0 ? NULL : state,
	    500, plist_cb, &l, &eb);
	api_store_put(r->api, s);
	if (rv != 0) {
		json_decref(l.arr);
		return api_reply_error(c, r, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "store_error", eb.msg, NULL);
	}
	return api_reply_json(c, r, MHD_HTTP_OK, json_pack("{s:o}",
	    "pending", l.arr));
}

/* A pending row, copied. */
struct prow {
	char *created_by, *source, *msg_type, *regions, *state, *cap;
	char jurisdiction[REGION_CODE_SIZE];
	size_t cap_len;
	int colour;
};

static void
prow_release(struct prow *p)
{
	free(p->created_by);
	free(p->source);
	free(p->msg_type);
	free(p->regions);
	free(p->state);
	free(p->cap);
	memset(p, 0, sizeof(*p));
}

static int
prow_cb(void *arg, const struct store_pending *x)
{
	struct prow *p = arg;

	p->created_by = strdup(x->created_by ? x->created_by : "");
	p->source = strdup(x->source ? x->source : "console");
	p->msg_type = strdup(x->msg_type ? x->msg_type : "");
	p->regions = strdup(x->regions ? x->regions : "");
	p->state = strdup(x->state ? x->state : "");
	(void)snprintf(p->jurisdiction, sizeof(p->jurisdiction), "%s",
	    x->jurisdiction ? x->jurisdiction : "");
	p->colour = x->colour;
	if ((p->cap = malloc(x->cap_len + 1)) != NULL) {
		memcpy(p->cap, x->cap, x->cap_len);
		p->cap_len = x->cap_len;
	}
	return p->created_by == NULL || p->source == NULL ||
	    p->msg_type == NULL || p->regions == NULL || p->state == NULL ||
	    p->cap == NULL ? ENG_ENOMEM : 0;
}

static enum MHD_Result
decide(struct MHD_Connection *c, struct api_req *r, int approve)
{
	struct api *a = r->api;
	struct ingest_source src;
	struct ingest_result res;
	struct warning rw;
	struct diag_list d;
	struct eng_errbuf eb;
	struct prow p;
	struct ingest *ig;
	struct store *s;
	enum MHD_Result ret;
	char why[300], actor[160], *save, *tok;
	long long pid;
	int rv;

	memset(&p, 0, sizeof(p));
	warning_init(&rw);
	eng_errbuf_init(&eb);
	diag_list_init(&d);
	d.max = 100;
	if (!auth_allow(&r->who, AUTH_ISSUE, NULL, why, sizeof(why)))
		return api_deny(c, r, why);
	if ((pid = parse_id(r->code)) == 0)
		return api_reply_error(c, r, MHD_HTTP_BAD_REQUEST, "bad_id",
		    "a pending warning's id is a positive integer", NULL);
	if (!approve && r->len > 0) {
		if (!json_type_ok(c))
			return api_reply_error(c, r,
			    MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
			    "unsupported_media_type", "send the reason as "
			    "application/json", NULL);
		if (warning_parse(r->body, r->len, 'C', 0, &rw, &d) != 0) {
			ret = field_errors(c, r, &d);
			goto out;
		}
	}
	officer_of(&r->who, actor, sizeof(actor));
	(void)snprintf(r->audit.target, sizeof(r->audit.target),
	    "pending:%lld", pid);
	r->audit.action = approve ? "approve" : "reject";
	s = api_store_get(a);
	rv = store_pending_get(s, pid, prow_cb, &p, &eb);
	api_store_put(a, s);
	if (rv != 0) {
		ret = rv == ENG_ENOENT ? api_reply_error(c, r,
		    MHD_HTTP_NOT_FOUND, "not_found", eb.msg, NULL) :
		    api_reply_error(c, r, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "store_error", eb.msg, NULL);
		goto out;
	}
	(void)snprintf(r->audit.jurisdiction, sizeof(r->audit.jurisdiction),
	    "%s", p.jurisdiction);
	if (strcmp(p.state, "pending") != 0) {
		(void)snprintf(why, sizeof(why), "pending warning %lld is "
		    "already %s", pid, p.state);
		ret = api_reply_error(c, r, MHD_HTTP_CONFLICT, "decided", why,
		    NULL);
		goto out;
	}
	/* Authority over every region of it. */
	for (tok = strtok_r(p.regions, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save))
		if (!auth_allow(&r->who, AUTH_ISSUE, tok, why, sizeof(why))) {
			ret = api_deny(c, r, why);
			goto out;
		}
	if (approve && strcmp(p.created_by, actor) == 0) {
		(void)snprintf(why, sizeof(why), "a second officer must "
		    "approve: %s issued pending warning %lld", actor, pid);
		/* the same officer, whichever credential */
		ret = api_deny(c, r, why);
		goto out;
	}
	if (!approve) {
		s = api_store_get(a);
		rv = store_pending_decide(s, pid, "rejected", actor,
		    eng_clock_now_ms(&eng_clock_system), rw.reason, 0, &eb);
		api_store_put(a, s);
		if (rv != 0) {
			ret = api_reply_error(c, r, rv == ENG_EBUSY ?
			    MHD_HTTP_CONFLICT : MHD_HTTP_INTERNAL_SERVER_ERROR,
			    rv == ENG_EBUSY ? "decided" : "store_error",
			    eb.msg, NULL);
			goto out;
		}
		ret = api_reply_json(c, r, MHD_HTTP_OK, json_pack("{s:I,s:s,"
		    "s:s,s:o}", "pending_id", (json_int_t)pid, "state",
		    "rejected", "decided_by", actor, "reason",
		    jstr(rw.reason)));
		goto out;
	}
	memset(&src, 0, sizeof(src));
	src.name = p.source;
	src.via = "http";
	src.cn_profile = 1;
	src.max_bytes = a->cfg.admin_cap_max_bytes;
	if (r->who.role != AUTH_ROLE_ADMIN) {
		src.regions = (const char (*)[REGION_CODE_SIZE])
		    r->who.jurisdiction;
		src.nregions = 1;
	}
	ig = api_ingest_get(a);
	rv = ingest_cap(ig, &src, p.cap, p.cap_len, &res, &d, &eb);
	api_ingest_put(a, ig);
	if (rv != 0) {
		ret = ingest_error(c, r, rv, &d, &eb);
		goto out;
	}
	s = api_store_get(a);
	rv = store_pending_decide(s, pid, "approved", actor,
	    eng_clock_now_ms(&eng_clock_system), NULL, res.alert_id, &eb);
	api_store_put(a, s);
	if (rv != 0) {
		ret = api_reply_error(c, r, rv == ENG_EBUSY ?
		    MHD_HTTP_CONFLICT : MHD_HTTP_INTERNAL_SERVER_ERROR,
		    rv == ENG_EBUSY ? "decided" : "store_error", eb.msg, NULL);
		goto out;
	}
	{
		json_t *j = json_pack("{s:I,s:s,s:s,s:I,s:s,s:b,s:s}",
		    "pending_id", (json_int_t)pid, "state", "approved",
		    "approved_by", actor, "id", (json_int_t)res.alert_id,
		    "alert_state", res.duplicate ? "duplicate" :
		    ingest_state_name(res.state), "broadcast", res.broadcast,
		    "colour", cap_color_name((enum cap_color)res.colour));

		ret = api_reply_json(c, r, MHD_HTTP_CREATED, j);
	}
	api_cap_audit(r, res.alert_id, res.duplicate);
	r->audit.action = "approve";
	log_info("warning.approved", "pid=%lld id=%lld by=%s issued_by=%s",
	    pid, res.alert_id, actor, p.created_by);
	if (res.broadcast && !res.duplicate) {
		pthread_rwlock_rdlock(&a->disp_lock);
		if (a->dispatch != NULL)
			dispatch_kick(a->dispatch);
		pthread_rwlock_unlock(&a->disp_lock);
	}
out:
	prow_release(&p);
	warning_release(&rw);
	diag_list_release(&d);
	return ret;
}

enum MHD_Result
api_h_warnings(struct MHD_Connection *c, struct api_req *r,
    const char *method)
{
	(void)method;	/* the router checked it */
	switch (r->route) {
	case ROUTE_WARNINGS:
		return issue(c, r, 'A');
	case ROUTE_WARNING_UPDATE:
		return issue(c, r, 'U');
	case ROUTE_WARNING_CANCEL:
		return issue(c, r, 'C');
	case ROUTE_PENDING:
		return pending_list(c, r);
	case ROUTE_PENDING_APPROVE:
		return decide(c, r, 1);
	case ROUTE_PENDING_REJECT:
		return decide(c, r, 0);
	default:
		return api_reply_error(c, r, MHD_HTTP_NOT_FOUND, "not_found",
		    "no such endpoint", NULL);
	}
}
