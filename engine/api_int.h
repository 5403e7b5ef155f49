/*
 * engine/api_int.h - shared between the HTTP server's own files only.
 */
#ifndef ENGINE_API_INT_H
#define ENGINE_API_INT_H

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdint.h>

#include "engine/api.h"
#include "engine/auth.h"
#include "engine/store.h"

enum api_route {
	ROUTE_NONE = 0,
	ROUTE_HEALTHZ,
	ROUTE_METRICS,
	ROUTE_REGION,
	ROUTE_REGION_RESPONDERS,
	ROUTE_REGION_DEVICES,
	ROUTE_IMPORT,
	ROUTE_BACKUP,
	ROUTE_CAP,
	ROUTE_ALERTS,
	ROUTE_ALERT,
	ROUTE_ALERT_CHAIN,
	ROUTE_ALERT_CAP,
	ROUTE_ALERT_DELIVERIES,
	ROUTE_ALERT_ANSWERS,
	ROUTE_ALERT_REPORT,	/* GET .../report (api_report.c) */
	ROUTE_ALERT_UNANSWERED,	/* GET .../unanswered (api_report.c) */
	ROUTE_ALERT_ANSWER_ADD,	/* POST .../answers (api_officer.c) */
	ROUTE_ANSWER_LINK,
	ROUTE_CALLBACK,
	ROUTE_PLAN,
	ROUTE_LOGIN,		/* accounts (api_auth.c) */
	ROUTE_LOGOUT,
	ROUTE_ME,
	ROUTE_USERS,
	ROUTE_USER,		/* /users/{name} */
	ROUTE_TOKENS,
	ROUTE_TOKEN,		/* /tokens/{id} */
	ROUTE_AUDIT,
	ROUTE_CONSOLE,		/* / and /console/... (api_console.c) */
	ROUTE_WARNINGS,		/* issuing (api_warnings.c) */
	ROUTE_WARNING_UPDATE,	/* /warnings/{id}/update */
	ROUTE_WARNING_CANCEL,	/* /warnings/{id}/cancel */
	ROUTE_PENDING,		/* GET /warnings/pending */
	ROUTE_PENDING_APPROVE,	/* /warnings/pending/{pid}/approve */
	ROUTE_PENDING_REJECT,	/* /warnings/pending/{pid}/reject */
	ROUTE_NOT_FOUND,
	ROUTE_COUNT
};

#define API_STATUS_SLOTS 16

/* A feed as the server keeps it (deep copy of struct api_feed). */
struct api_feedc {
	char *token;
	unsigned char sha[32];
	int has_sha;
	struct ingest_source src;	/* strings below */
	char *name, *trusted_cert;
	char (*regions)[REGION_CODE_SIZE];
};

struct api_feeds {
	struct api_feedc *v;
	size_t n;
};

struct api {
	struct MHD_Daemon *mhd;
	struct api_config cfg;		/* strings below are owned copies */
	char *host, *db_path, *data_dir, *root, *token, *version;
	char *cb_secret;
	char *public_url;		/* NULL: none configured */
	struct auth_limiter *limiter;	/* logins (thread-safe) */
	char *answer_key;		/* NULL: answer links refused */
	char *console_dir;		/* NULL: no console */
	unsigned port;
	int64_t started_mono_ms;

	pthread_mutex_t lock;		/* pool and channels */
	pthread_cond_t cond;
	struct store **pool;
	size_t npool, nfree;
	char **channels;		/* NULL: any */
	struct ingest **ingests;	/* pool, as the stores */
	size_t ningest_free;
	pthread_rwlock_t feeds_lock;	/* readers: requests using feeds */
	pthread_rwlock_t disp_lock;	/* readers: requests using dispatch */
	struct dispatch *dispatch;
	struct escalate *escalate;	/* under disp_lock too */
	struct api_feeds feeds;

	/* requests by route and status (metrics) */
	unsigned long long hits[ROUTE_COUNT][API_STATUS_SLOTS];
	unsigned long long backups;
};

/*
 * The audit row of a request, written after its handler by
 * api_audit_finish(): when action is set, or the request changes state
 * (any method but GET/HEAD), or it was refused (401, 403).  Handlers set
 * what they know; outcome defaults to one from the status.
 */
struct api_audit {
	const char *action;		/* NULL: the route's name */
	char target[160];
	char jurisdiction[REGION_CODE_SIZE];
	char *before, *after;		/* JSON text (malloc'd) or NULL */
	char outcome[40];		/* "": from the status */
	int skip;			/* nothing to write */
};

/* One request in flight. */
struct api_req {
	struct api *api;
	enum api_route route;
	char code[24];			/* region code, import kind, id */
	char cbsecret[80];		/* ROUTE_CALLBACK: the secret given */
	char chan[64];			/* ROUTE_CALLBACK: channel name */
	char rest[256];			/* ROUTE_CALLBACK: path after it */
	char *body;
	size_t len, cap;
	int too_big;
	int status;			/* answered with */
	struct auth_principal who;	/* the caller (api_authenticate) */
	struct api_audit audit;		/* its audit row, if any */
};

/*
 * Accounts (api_auth.c).  api_authenticate finds who is calling (bearer
 * admin token or API token, or the session cookie with its CSRF token
 * and origin checked on state-changing methods) into r->who; returns 0
 * to go on, or 1 when it has answered (*ret: 401, 403).  A bearer that
 * is neither is left to POST /api/v1/cap (a feed's token).
 * api_authorize applies the per-route rules that need no handler (import
 * and backup admin only, reads of an alert or region within the
 * jurisdiction); same return convention.  api_audit_finish writes the
 * request's audit row and frees r->audit's strings.
 */
int api_authenticate(struct MHD_Connection *c, struct api_req *r,
    const char *method, enum MHD_Result *ret);
int api_authorize(struct MHD_Connection *c, struct api_req *r,
    enum MHD_Result *ret);
void api_audit_finish(struct MHD_Connection *c, struct api_req *r,
    const char *method);
/* 403 naming what is missing (why), audited as denied. */
enum MHD_Result api_deny(struct MHD_Connection *c, struct api_req *r,
    const char *why);
/* The client's address as text ("?" when unknown). */
void api_peer_addr(struct MHD_Connection *c, char *buf, size_t size);
/* Route handlers of the accounts' routes (their own method checks). */
enum MHD_Result api_h_auth(struct MHD_Connection *c, struct api_req *r,
    const char *method);
/* Does the route belong to api_auth.c? */
int api_auth_route(enum api_route rt);
/*
 * POST /api/v1/cap by an account that is not an admin: an Update or
 * Cancel must reference only chains whose regions all lie within the
 * caller's jurisdiction.  0 allowed (or not decidable here: ingest then
 * says why), 1 denied with why in msg.  api_cap_audit fills r->audit for
 * a stored CAP message (its type, identifier and regions).
 */
struct ingest;
int api_cap_refs_allowed(struct api_req *r, struct ingest *ig,
    const struct ingest_source *src, char *msg, size_t msize);
void api_cap_audit(struct api_req *r, long long alert_id, int duplicate);

/* Route names for metrics labels. */
const char *api_route_name(enum api_route r);
/* Map an HTTP status to its metrics slot and back. */
int api_status_slot(int status);
int api_slot_status(int slot);

/* Borrow / return an ingest context (blocks while all are in use). */
struct ingest *api_ingest_get(struct api *a);
void api_ingest_put(struct api *a, struct ingest *ig);

/*
 * Who is calling: 1 the admin token, 2 a feed's token (with feeds_lock
 * held for reading and *feed set: call api_feed_release() when done),
 * 0 nobody.
 */
int api_who(struct api *a, struct MHD_Connection *c,
    const struct api_feedc **feed);
void api_feed_release(struct api *a);

/* Borrow / return a store connection (blocks while all are in use). */
struct store *api_store_get(struct api *a);
void api_store_put(struct api *a, struct store *s);

/* Queue a JSON response (takes the reference to j). */
enum MHD_Result api_reply_json(struct MHD_Connection *c, struct api_req *r,
    int status, json_t *j);
/* Queue {"error":{"code","message"}} (plus "errors" if not NULL, whose
 * reference is taken). */
enum MHD_Result api_reply_error(struct MHD_Connection *c, struct api_req *r,
    int status, const char *code, const char *msg, json_t *errors);
/* Queue a JSON response with extra headers: name, value, ..., NULL. */
enum MHD_Result api_reply_json_hdr(struct MHD_Connection *c,
    struct api_req *r, int status, json_t *j, const char *const *hdr);
/* Queue a text response with a content type. */
enum MHD_Result api_reply_text(struct MHD_Connection *c, struct api_req *r,
    int status, const char *ctype, char *text, size_t len);

/* Query argument, or NULL. */
const char *api_arg(struct MHD_Connection *c, const char *name);
/* Integer query argument within [lo,hi]; def if absent; -1 on error. */
int api_arg_ll(struct MHD_Connection *c, const char *name, long long lo,
    long long hi, long long def, long long *out);

/* Route handlers. */
enum MHD_Result api_h_healthz(struct MHD_Connection *c, struct api_req *r);
enum MHD_Result api_h_metrics(struct MHD_Connection *c, struct api_req *r);
enum MHD_Result api_h_region(struct MHD_Connection *c, struct api_req *r);
enum MHD_Result api_h_region_list(struct MHD_Connection *c,
    struct api_req *r);
enum MHD_Result api_h_import(struct MHD_Connection *c, struct api_req *r);
enum MHD_Result api_h_backup(struct MHD_Connection *c, struct api_req *r);
enum MHD_Result api_h_cap_post(struct MHD_Connection *c, struct api_req *r);
enum MHD_Result api_h_plan(struct MHD_Connection *c, struct api_req *r);
enum MHD_Result api_h_alerts(struct MHD_Connection *c, struct api_req *r);
enum MHD_Result api_h_alert(struct MHD_Connection *c, struct api_req *r);
enum MHD_Result api_h_deliveries(struct MHD_Connection *c,
    struct api_req *r);
/* GET /api/v1/alerts/{id}/answers; GET and POST /a/{token} (the token
 * in r->rest) (api_answer.c). */
enum MHD_Result api_h_answers(struct MHD_Connection *c, struct api_req *r);
enum MHD_Result api_h_answer_link(struct MHD_Connection *c,
    struct api_req *r, const char *method);
/* POST /api/v1/alerts/{id}/answers: an officer records an answer on
 * a responder's behalf (api_officer.c). */
enum MHD_Result api_h_answer_add(struct MHD_Connection *c,
    struct api_req *r);
enum MHD_Result api_h_callback(struct MHD_Connection *c, struct api_req *r,
    const char *method);

/* GET /api/v1/alerts/{id}/report and .../unanswered, JSON or CSV; the
 * answers' lines of /metrics (api_report.c). */
enum MHD_Result api_h_report(struct MHD_Connection *c, struct api_req *r);
enum MHD_Result api_h_unanswered(struct MHD_Connection *c,
    struct api_req *r);
struct strbuf;
void api_report_metrics(struct api *a, struct strbuf *b);

/* GET|HEAD / and /console/{file}: the console's static files, the file
 * in r->rest ("" for the index); public, no authentication
 * (api_console.c). */
enum MHD_Result api_h_console(struct MHD_Connection *c, struct api_req *r,
    const char *method);

/*
 * The dry run of the CAP message buf (len bytes) from src, answered as
 * POST /api/v1/plan answers; the members of extra (its reference taken,
 * may be NULL) are added to the answer (api_plan.c).
 */
struct ingest_source;
enum MHD_Result api_plan_reply(struct MHD_Connection *c, struct api_req *r,
    const struct ingest_source *src, const char *buf, size_t len,
    json_t *extra);

/* Issuing (api_warnings.c): POST /api/v1/warnings, .../{id}/update,
 * .../{id}/cancel, GET .../pending, POST .../pending/{pid}/approve and
 * .../reject. */
enum MHD_Result api_h_warnings(struct MHD_Connection *c, struct api_req *r,
    const char *method);

/* The parsed CAP model as JSON (api_capjson.c); NULL on ENOMEM. */
struct cap_alert;
json_t *api_cap_json(const struct cap_alert *a);

#endif /* ENGINE_API_INT_H */
