/*
 * engine/store.h - gong's state in SQLite (WAL, foreign keys on).
 *
 * The only module that talks to SQLite.  One struct store is one
 * connection: use it from one thread at a time (open one per thread;
 * WAL lets readers run beside the writer).  Schema created and migrated
 * by numbered migrations (PRAGMA user_version) at open.
 */
#ifndef ENGINE_STORE_H
#define ENGINE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "engine/diag.h"
#include "engine/err.h"
#include "engine/region.h"

struct store;
struct roster;

#define STORE_READONLY	0x1	/* open an existing database read-only */
#define STORE_NOMIGRATE	0x2	/* do not migrate (tests, inspection) */
/* This connection's commits may be lost to a power cut (synchronous =
 * NORMAL; a process crash loses nothing): for writers whose work is
 * found again and redone when it is missing — the dispatcher, whose
 * delivery states at worst go back to "sending" and are sent again
 * (at least once), and whose plans are idempotent.  Never for what
 * must not be lost once acknowledged (accepted alerts, answers). */
#define STORE_REPLAYABLE	0x4

/* Schema version this build creates and migrates to. */
int store_schema_version(void);

/*
 * Open (creating if needed, unless STORE_READONLY) the database at path
 * and migrate it to the current schema.  ":memory:" works.  Returns 0
 * and *out, or ENG_EIO / ENG_EINVAL (a newer schema than this build
 * knows) with detail in eb.  Blocking.
 */
int store_open(const char *path, unsigned flags, struct store **out,
    struct eng_errbuf *eb);
/* Close; NULL is a no-op. */
void store_close(struct store *s);

/*
 * Another connection to s's database, opened as s was (its flags, root
 * and clock; not migrated again), for another thread.  ENG_EINVAL for
 * an in-memory database, which a second connection would not share;
 * else as store_open.
 */
int store_open_like(struct store *s, struct store **out,
    struct eng_errbuf *eb);

/*
 * Migrate an database opened with STORE_NOMIGRATE up to version (at most
 * store_schema_version()).  For tests of upgrades from older schemas.
 */
int store_migrate_to(struct store *s, int version, struct eng_errbuf *eb);

/* The schema version of the open database. */
int store_user_version(struct store *s);

struct store_counts {
	long long regions;
	long long responders;
	long long devices;
};

/* Totals of the whole store. */
int store_counts(struct store *s, struct store_counts *out,
    struct eng_errbuf *eb);

/* Cheap liveness check (a read of the schema). */
int store_ping(struct store *s, struct eng_errbuf *eb);

/*
 * Set the deployment root (region code).  Imports reject regions outside
 * its subtree.  Not persisted; set after every open.
 */
void store_set_root(struct store *s, const char *root);

struct eng_clock;
/* The clock used for timestamps (default: the system clock).  The clock
 * is borrowed and must outlive the store. */
void store_set_clock(struct store *s, const struct eng_clock *clock);

struct store_import_result {
	long long inserted;
	long long updated;
};

/*
 * Import parsed roster rows in one transaction (upsert by code / id).
 * Rows that the store rejects (unknown region, parent missing, a region
 * outside the deployment root) are each reported in diags with the row's
 * file and line; if any is rejected nothing changes and ENG_EINVAL is
 * returned.  dry_run checks everything and rolls back.
 */
int store_import(struct store *s, const struct roster *r, int dry_run,
    struct store_import_result *res, struct diag_list *diags,
    struct eng_errbuf *eb);

/*
 * Consistent online copy of the database to path (SQLite backup API),
 * while other connections keep reading and writing.  The file is
 * written beside path and renamed into place.
 */
int store_backup(struct store *s, const char *path, struct eng_errbuf *eb);


/* One region as stored.  Strings are borrowed from the store for the
 * duration of a callback, or owned when filled by store_region_get()
 * (free with store_region_release()). */
struct store_region {
	char code[REGION_CODE_SIZE];
	char *name;
	enum region_level level;
	char parent[REGION_CODE_SIZE];	/* "" for the deployment root */
	int has_centroid;
	double lat, lon;
};

void store_region_release(struct store_region *r);

/* A responder's name and role (copied into the buffers); ENG_ENOENT if
 * there is none with that id. */
int store_responder_brief(struct store *s, const char *id, char *name,
    size_t nsize, char *role, size_t rsize, struct eng_errbuf *eb);

/* Fetch one region.  ENG_ENOENT if it is not in the store. */
int store_region_get(struct store *s, const char *code,
    struct store_region *out, struct eng_errbuf *eb);

/* Counts of the region's whole subtree, the region itself included. */
int store_region_counts(struct store *s, const char *code,
    struct store_counts *out, struct eng_errbuf *eb);

/*
 * Callbacks get borrowed rows; returning non-zero stops the walk and is
 * returned by the walker.
 */
typedef int (*store_region_cb)(void *arg, const struct store_region *r);
struct roster_responder;
struct roster_device;
typedef int (*store_responder_cb)(void *arg,
    const struct roster_responder *r);
typedef int (*store_device_cb)(void *arg, const struct roster_device *d);

/* The chain of ancestors of code, from the deployment root down (code
 * itself excluded). */
int store_region_parents(struct store *s, const char *code,
    store_region_cb cb, void *arg, struct eng_errbuf *eb);

/*
 * One region, as store_region_get fetches it (out), and the codes of its
 * ancestors in the order store_region_parents walks them, in one read:
 * cb(arg, code) for each (borrowed for the call; non-zero stops and is
 * returned).  For a caller that needs their codes only.
 */
typedef int (*store_code_cb)(void *arg, const char *code);
int store_region_chain(struct store *s, const char *code,
    struct store_region *out, store_code_cb cb, void *arg,
    struct eng_errbuf *eb);

/* Direct children of code, ordered by code. */
int store_region_children(struct store *s, const char *code,
    store_region_cb cb, void *arg, struct eng_errbuf *eb);

/*
 * Responders (devices) of a region, or of its whole subtree when subtree
 * is non-zero, ordered by region then id; limit < 0 means no limit.
 * *total (if not NULL) gets the number of rows without limit/offset.
 */
int store_responders_list(struct store *s, const char *code, int subtree,
    long long limit, long long offset, store_responder_cb cb, void *arg,
    long long *total, struct eng_errbuf *eb);
int store_devices_list(struct store *s, const char *code, int subtree,
    long long limit, long long offset, store_device_cb cb, void *arg,
    long long *total, struct eng_errbuf *eb);


/* ------------------------------------------------------------------ */
/* Transactions                                                        */
/* ------------------------------------------------------------------ */

/*
 * Make SQLite's default VFS, for the connections opened from now on, the
 * system's default with the writes to write-ahead logs and databases
 * gathered into large writes (engine/store_vfs.c): the same bytes, the
 * same durability, some 400 fewer system calls per megabyte committed
 * and checkpointed.  Idempotent
 * and thread-safe.  0, or ENG_EIO when it could not be registered (the
 * default VFS stays).
 */
int store_vfs_install(void);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK on this connection. */
int store_begin(struct store *s, struct eng_errbuf *eb);
int store_commit(struct store *s, struct eng_errbuf *eb);
void store_rollback(struct store *s);
/* A part of an open transaction that can be undone alone (SAVEPOINT /
 * RELEASE / ROLLBACK TO and RELEASE); one level. */
int store_savepoint(struct store *s, struct eng_errbuf *eb);
int store_release(struct store *s, struct eng_errbuf *eb);
void store_rollback_savepoint(struct store *s);

/* ------------------------------------------------------------------ */
/* Alerts                                                              */
/* ------------------------------------------------------------------ */

/*
 * One stored alert.  For store_alert_insert() the caller fills it (its
 * strings are borrowed for the call); from the readers the strings are
 * borrowed from the store for the duration of the callback.  Times are
 * UTC ms; 0 means absent.
 */
struct store_alert {
	long long id;
	const char *sender, *identifier, *sent;
	int64_t sent_ms;
	const char *status, *msg_type, *scope;
	const char *event, *headline, *severity, *urgency, *certainty;
	const char *language;
	int colour;			/* enum cap_color */
	int64_t effective_ms, onset_ms, expires_ms, received_ms;
	const char *source, *via;
	const char *state;		/* see engine/ingest.h */
	int broadcast;
	long long superseded_by;	/* 0: none */
	long long chain_id;
	int area_unmatched;
	long long nregions;
	const char *warnings;		/* JSON array text or NULL */
	const void *cap;		/* the document as received */
	size_t cap_len;
};

/* Look up by identity.  0 and *id (and *chain_id, *state copied into a
 * 16-byte buffer, if not NULL), or ENG_ENOENT. */
int store_alert_find(struct store *s, const char *sender,
    const char *identifier, int64_t sent_ms, long long *id,
    long long *chain_id, char *state, size_t state_size,
    struct eng_errbuf *eb);

/* Insert a new alert (a->id ignored).  chain_id 0 means "its own id".
 * ENG_EEXIST if its identity is already stored. */
int store_alert_insert(struct store *s, const struct store_alert *a,
    long long *id, struct eng_errbuf *eb);

/* Record a reference of alert id to (sender, identifier, sent); target
 * is the referenced alert's id or 0 when it is not (yet) stored. */
int store_alert_add_ref(struct store *s, long long id, const char *sender,
    const char *identifier, const char *sent, int64_t sent_ms,
    long long target, struct eng_errbuf *eb);

/*
 * Earlier alerts whose references name (sender, identifier, sent_ms) but
 * were stored before it: link them to target and report each referrer
 * (its id, msg_type and chain) through cb.
 */
typedef int (*store_referrer_cb)(void *arg, long long referrer,
    const char *msg_type, long long chain_id);
int store_alert_link_referrers(struct store *s, const char *sender,
    const char *identifier, int64_t sent_ms, long long target,
    store_referrer_cb cb, void *arg, struct eng_errbuf *eb);

/* Set state and broadcast; superseded_by 0 leaves it unchanged. */
int store_alert_set_state(struct store *s, long long id, const char *state,
    int broadcast, long long superseded_by, struct eng_errbuf *eb);

/* Every alert of chain from joins chain to. */
int store_alert_merge_chain(struct store *s, long long from, long long to,
    struct eng_errbuf *eb);

/* A target region of an alert; how is "geocode", "polygon", ...
 * (the alert's nregions is the caller's to set at insert). */
int store_alert_add_region(struct store *s, long long id, const char *code,
    const char *how, struct eng_errbuf *eb);

/* Regions without children whose centroid lies in the box. */
typedef int (*store_point_cb)(void *arg, const char *code, double lat,
    double lon);
int store_leaf_regions_in_box(struct store *s, double lat_min,
    double lat_max, double lon_min, double lon_max, store_point_cb cb,
    void *arg, struct eng_errbuf *eb);

/* The box round every region centroid; ENG_ENOENT if none has one. */
int store_regions_box(struct store *s, double *lat_min, double *lat_max,
    double *lon_min, double *lon_max, struct eng_errbuf *eb);

/* Does code lie in the subtree of anc, by the tree in the store? */
int store_region_within(struct store *s, const char *code, const char *anc,
    struct eng_errbuf *eb);

typedef int (*store_alert_cb)(void *arg, const struct store_alert *a);

struct store_alert_filter {
	const char *status;	/* "Actual", ... or NULL */
	const char *severity;	/* "Severe", ... or NULL */
	const char *region;	/* touching this region's subtree or above */
	int active_only;	/* state active and not expired at now_ms */
	int64_t now_ms;
};

/* Alerts, newest first (cap bytes not loaded). */
int store_alerts_list(struct store *s, const struct store_alert_filter *f,
    long long limit, long long offset, store_alert_cb cb, void *arg,
    long long *total, struct eng_errbuf *eb);

/* One alert, with its cap bytes.  ENG_ENOENT if unknown. */
int store_alert_get(struct store *s, long long id, store_alert_cb cb,
    void *arg, struct eng_errbuf *eb);
/* Only an alert's state ("active", "cancelled" …) into state (size
 * bytes); ENG_ENOENT if there is no such alert. */
int store_alert_state(struct store *s, long long id, char *state,
    size_t size, struct eng_errbuf *eb);

/* The alerts of a chain, by sent time (cap bytes not loaded). */
int store_alert_chain(struct store *s, long long chain_id,
    store_alert_cb cb, void *arg, struct eng_errbuf *eb);

/* References of an alert: (sender, identifier, sent, target or 0). */
typedef int (*store_ref_cb)(void *arg, const char *sender,
    const char *identifier, const char *sent, long long target);
int store_alert_refs(struct store *s, long long id, store_ref_cb cb,
    void *arg, struct eng_errbuf *eb);

/* Target regions of an alert (with each region's name and level). */
typedef int (*store_target_cb)(void *arg, const char *code,
    const char *name, int level, const char *how);
int store_alert_targets(struct store *s, long long id, store_target_cb cb,
    void *arg, struct eng_errbuf *eb);


/* ------------------------------------------------------------------ */
/* Outbox: deliveries                                                  */
/* ------------------------------------------------------------------ */

/*
 * One message to one endpoint through one channel.  For
 * store_delivery_add() the caller fills it (strings borrowed for the
 * call); from the readers strings are borrowed for the callback.
 */
struct store_delivery {
	long long id;
	long long alert_id;
	const char *kind;		/* "alert", "update", "cancel" */
	const char *channel;
	const char *recipient;		/* "r:<responder>" or "d:<device>" */
	const char *responder_id;	/* or NULL */
	const char *device_id;		/* or NULL */
	const char *region;
	const char *address;
	const char *role;		/* responder's role, device kind */
	int priority;
	const char *state;
	int attempts;
	int64_t next_at_ms;
	int64_t deadline_ms;		/* 0: none */
	const char *gateway_id;
	const char *last_error;
};

/* Alerts to be broadcast that have no deliveries written yet. */
int store_alerts_unplanned(struct store *s, long long limit,
    store_alert_cb cb, void *arg, struct eng_errbuf *eb);
int store_alert_set_planned(struct store *s, long long id,
    struct eng_errbuf *eb);

/* Insert (once: alert, channel and recipient are unique; a second add
 * is ignored and *added is 0).  A NULL where a value must be is an
 * error, not a row left out. */
int store_delivery_add(struct store *s, const struct store_delivery *d,
    int64_t now_ms, int *added, struct eng_errbuf *eb);

/*
 * The same for n deliveries d[0..n), in that order (the ids follow it),
 * STORE_ADD_ROWS to a statement: a statement's own work (its start, its
 * end, the foreign-key check's set-up) was a third of writing a row one
 * at a time.  *added: how many were new.  As with store_delivery_add, a
 * row that repeats one already there is skipped; any other failed
 * constraint (a NULL kind, channel, recipient, region or address; an
 * alert that is not there) fails its statement, and the caller's
 * transaction is to be rolled back.
 */
#define STORE_ADD_ROWS	32
int store_deliveries_add(struct store *s, const struct store_delivery *d,
    size_t n, int64_t now_ms, long long *added, struct eng_errbuf *eb);

typedef int (*store_delivery_cb)(void *arg, const struct store_delivery *d);

/*
 * Take up to limit deliveries that are due (pending or retry with
 * next_at <= now, or sending with an expired lease: a crash left them),
 * highest priority first, and mark them sending until now + lease_ms.
 * One transaction.
 */
int store_deliveries_claim(struct store *s, int64_t now_ms,
    int64_t lease_ms, long long limit, store_delivery_cb cb, void *arg,
    struct eng_errbuf *eb);

/*
 * The common "sent" report for many deliveries at once: those of ids[0..n)
 * still in "sending" move to sent (one attempt more; gateway_id and
 * segments when not NULL / 0, the same for all: one request's numbers),
 * in one statement.  done[i] is set to 1 for each id moved and left as
 * it was for the others (a receipt overtook the report, a Cancel ...),
 * which need store_delivery_set.  Inside the caller's transaction.
 */
int store_deliveries_sent(struct store *s, const long long *ids, size_t n,
    const char *gateway_id, int segments, int64_t now_ms,
    unsigned char *done, struct eng_errbuf *eb);

/*
 * Claimed but not handed to their channel (it was full): those of
 * ids[0..n) still sending are pending again, due at next_at_ms, their
 * lease dropped, no attempt counted; the others (a Cancel took them) are
 * left as they are.  One statement, inside the caller's transaction.
 */
int store_deliveries_unclaim(struct store *s, const long long *ids,
    size_t n, int64_t next_at_ms, int64_t now_ms, struct eng_errbuf *eb);

/*
 * Record what happened to a delivery: new state (sent, delivered,
 * retry, failed, dead, cancelled, pending), next attempt time (retry,
 * pending), gateway id / error / segments when not NULL / 0.
 * count_attempt adds one to attempts.  A receipt never moves a
 * delivered delivery back.
 */
int store_delivery_set(struct store *s, long long id, const char *state,
    int count_attempt, int64_t next_at_ms, const char *gateway_id,
    const char *error, int segments, int64_t now_ms, struct eng_errbuf *eb);

/*
 * A delivery that reached its recipient (sent or delivered) after its
 * alert was cancelled or superseded by a message whose deliveries are
 * already planned: that recipient was not among "those reached" when the
 * cancel / update was planned, so it gets the cancel notice or the
 * update now (a pending delivery of the superseding alert, same channel
 * and recipient; once only).  *added is 1 when a delivery was written.
 */
int store_delivery_follow_up(struct store *s, long long id, int64_t now_ms,
    int *added, struct eng_errbuf *eb);

/* Pending and retrying deliveries of an alert become cancelled;
 * *n gets how many. */
int store_deliveries_cancel(struct store *s, long long alert_id,
    long long *n, int64_t now_ms, struct eng_errbuf *eb);

/* Deliveries of an alert by state: cb(arg, state, channel, count). */
typedef int (*store_count_cb)(void *arg, const char *state,
    const char *channel, long long n);
int store_delivery_counts(struct store *s, long long alert_id,
    store_count_cb cb, void *arg, struct eng_errbuf *eb);

/* Deliveries of an alert, optionally of one state and channel. */
int store_deliveries_list(struct store *s, long long alert_id,
    const char *state, const char *channel, long long limit,
    long long offset, store_delivery_cb cb, void *arg, long long *total,
    struct eng_errbuf *eb);

/* The delivery a gateway's message id names on channel (a receipt or a
 * key press that carries only the gateway's id): 0 and *id, or
 * ENG_ENOENT. */
int store_delivery_by_gateway(struct store *s, const char *channel,
    const char *gateway_id, long long *id, struct eng_errbuf *eb);

/* One delivery (ENG_ENOENT if unknown). */
int store_delivery_get(struct store *s, long long id, store_delivery_cb cb,
    void *arg, struct eng_errbuf *eb);

/*
 * Planning reads.  A responder as the planner needs it (borrowed).
 */
struct store_person {
	const char *id, *name, *region, *role;
	const char *phone, *email, *wecom, *dingtalk, *telegram, *wechat;
	int exercise;
	enum region_level level;	/* of the responder's region */
	const char *prefer;	/* preferred address kinds ("wecom,phone",
				 * engine/roster.h roster_prefs_parse), or
				 * NULL */
};
typedef int (*store_person_cb)(void *arg, const struct store_person *p);

/*
 * Active responders of code's subtree (subtree != 0) or of code alone,
 * by region path and id.  Read a page at a time: no statement of this
 * call is open while cb runs, so cb may commit (and begin again) on s.
 */
int store_people(struct store *s, const char *code, int subtree,
    store_person_cb cb, void *arg, struct eng_errbuf *eb);

/*
 * The same, only those whose role is one of roles (STORE_ROLES_IN) or
 * only those whose role is none of them (STORE_ROLES_OUT); roles is a
 * NULL-terminated list, or NULL for everyone.  The planner writes the
 * people who must act first before the rest.
 */
enum store_roles_sel { STORE_ROLES_IN, STORE_ROLES_OUT };
int store_people_roles(struct store *s, const char *code, int subtree,
    const char *const *roles, enum store_roles_sel sel, store_person_cb cb,
    void *arg, struct eng_errbuf *eb);

/* Devices of code's subtree: cb(arg, id, region, kind, channel, addr),
 * by region path and id.  Read a page at a time with no statement open
 * in the callback, which may commit (as store_people). */
typedef int (*store_device_row_cb)(void *arg, const char *id,
    const char *region, const char *kind, const char *channel,
    const char *address);
int store_devices_of(struct store *s, const char *code,
    store_device_row_cb cb, void *arg, struct eng_errbuf *eb);

/*
 * Deliveries of the chain's other alerts that reached their recipient
 * (sent or delivered), by alert and id: a (channel, recipient) that more
 * than one of them reached comes once for each (the outbox's unique key
 * keeps one).  Read a page at a time, as store_people: cb may commit.
 */
int store_chain_reached(struct store *s, long long chain_id,
    long long except_alert, store_delivery_cb cb, void *arg,
    struct eng_errbuf *eb);

/* ------------------------------------------------------------------ */
/* Answers (叫应)                                                      */
/* ------------------------------------------------------------------ */

#define STORE_ACK_CODE_SIZE	8	/* "4821" and its NUL, with room */

/*
 * The answer code of (alert, responder): the existing one, or a new
 * random 4-digit code (1000-9999) that no other active alert of that
 * responder carries.  Copied into code (STORE_ACK_CODE_SIZE bytes).
 * ENG_EIO on a database error.  Writes (one transaction of its own
 * unless one is open on this connection).
 */
int store_ack_code(struct store *s, long long alert_id,
    const char *responder_id, char *code, struct eng_errbuf *eb);

/*
 * Active responders whose phone is phone (as stored, or with a leading
 * +86, 0086 or 86 taken off): cb(arg, id, region) for each, ordered by
 * id, borrowed strings.
 */
typedef int (*store_phone_cb)(void *arg, const char *id,
    const char *region);
int store_responders_by_phone(struct store *s, const char *phone,
    store_phone_cb cb, void *arg, struct eng_errbuf *eb);

/*
 * An alert a responder was sent (a delivery of kind alert or update
 * addressed to them), newest first: its state and expiry, its answer
 * code ("" when none was made), event and headline.  Borrowed for the
 * callback.  active: state "active" and not expired at now_ms.
 */
struct store_sent_alert {
	long long alert_id;
	const char *state;
	int64_t expires_ms;	/* 0: none */
	int active;
	const char *code;
	const char *event, *headline;
};
typedef int (*store_sent_alert_cb)(void *arg,
    const struct store_sent_alert *a);
/* At most limit of them (limit < 0: all). */
int store_alerts_sent_to(struct store *s, const char *responder_id,
    int64_t now_ms, long long limit, store_sent_alert_cb cb, void *arg,
    struct eng_errbuf *eb);

/*
 * One answer.  For store_answer_add() the caller fills it (borrowed for
 * the call); from store_answers_list() it is borrowed for the callback,
 * with name the responder's name (or NULL if unknown).
 */
struct store_answer {
	long long id;
	long long alert_id;
	const char *responder_id;
	const char *path;	/* sms link app voice officer */
	int64_t received_ms;
	const char *raw;	/* the input as received */
	const char *note;	/* or NULL */
	int late;
	const char *name;
	const char *recorded_by;	/* path officer: who recorded it */
	const char *reason;		/* path officer: why (reached by …) */
};

/* Record an answer; a duplicate (same alert, responder, path and raw)
 * is ignored and *added (if not NULL) is 0.  ENG_EINVAL for an unknown
 * path or alert.  A new answer also ends the person's open escalation
 * for that alert (state "answered": no further step fires). */
int store_answer_add(struct store *s, const struct store_answer *a,
    int *added, struct eng_errbuf *eb);

typedef int (*store_answer_cb)(void *arg, const struct store_answer *a);
/* The answers of an alert, oldest first. */
int store_answers_list(struct store *s, long long alert_id,
    store_answer_cb cb, void *arg, struct eng_errbuf *eb);

/* How many distinct responders answered the alert, and how many it
 * was addressed to (deliveries of kind alert or update). */
int store_answer_counts(struct store *s, long long alert_id,
    long long *answered, long long *targeted, struct eng_errbuf *eb);

/*
 * A one-off delivery whose text is given (d->kind e.g. "ask": the
 * engine's question back to someone whose answer was ambiguous): the
 * dispatcher sends text as is.  d->recipient must be unique for the
 * alert and channel.  *id gets the delivery's id (0 if it existed).
 */
int store_delivery_add_text(struct store *s, const struct store_delivery *d,
    const char *text, int64_t now_ms, long long *id, struct eng_errbuf *eb);

/* The given text of a one-off delivery, or of the delivery it is a
 * fail-over copy of (same alert and recipient): malloc'd into *text (the
 * caller frees), or ENG_ENOENT if it has none. */
int store_delivery_text(struct store *s, long long id, char **text,
    struct eng_errbuf *eb);

/* ------------------------------------------------------------------ */
/* Reports of answers (叫应率): engine/store_report.c                  */
/* ------------------------------------------------------------------ */

/*
 * What a report of an alert's answers reads (the definitions are
 * applied by engine/report.c).  Every pointer is borrowed for the
 * callback.  Targeted people are the rows of table escalations of the
 * alert (one per person who must answer).
 */
struct store_report_alert {
	long long id;
	const char *state, *event, *headline;
	int escalated;			/* alerts.escalated */
};

struct store_report_person {
	const char *responder_id;
	const char *region;		/* the escalation row's region */
	const char *path;		/* that region's tree path */
	enum region_level level;	/* that region's level */
	const char *esc_state;		/* open answered quorum stopped done
					 * unreachable */
	int64_t base_ms;		/* first send */
	int answered;			/* has at least one answer row */
	int64_t first_answer_ms;	/* received_ms of the first (answered) */
	int late;			/* every answer of theirs is late */
	int delivered;			/* a delivery of the alert to them is
					 * in state delivered */
	long long deliveries;		/* deliveries of the alert to them */
	long long failed;		/* of which failed, dead or cancelled */
};

struct store_report_region {
	const char *code, *name, *parent;	/* parent "" for none */
	const char *path;
	enum region_level level;
};

struct store_report_sink {
	int (*alert)(void *arg, const struct store_report_alert *a);
	int (*person)(void *arg, const struct store_report_person *p);
	int (*region)(void *arg, const struct store_report_region *r);
	void *arg;
};

/*
 * Read what the report of alert_id needs, in one read transaction
 * (unless one is open on this connection), three statements: the alert
 * (once), its targeted people ordered by region path then responder id,
 * then the regions of those people and every ancestor of them down from
 * the deployment root (store_set_root; the whole chain when unset),
 * ordered by path (a preorder walk of the tree).  Any NULL callback is
 * skipped; a callback's non-zero return stops the read and is returned.
 * ENG_ENOENT (detail in eb) for an unknown alert, ENG_EIO.  Blocking.
 */
int store_report_read(struct store *s, long long alert_id,
    const struct store_report_sink *k, struct eng_errbuf *eb);

/*
 * One targeted person of an alert who has not answered, with the last
 * attempt to reach them: the delivery of the alert to them updated last
 * (channel NULL when there is none).  Borrowed for the callback.
 */
struct store_unanswered {
	const char *responder_id, *name, *role, *phone;	/* NULL if unknown */
	const char *region, *region_name;
	enum region_level level;
	const char *esc_state;
	int step;
	const char *channel, *state, *last_error;	/* last attempt */
	int64_t at_ms;			/* its updated_ms */
	int attempts;
};
typedef int (*store_unanswered_cb)(void *arg,
    const struct store_unanswered *u);

/*
 * The unanswered targeted people of alert_id ordered by region path then
 * responder id; limit < 0 means all.  *total (if not NULL) gets their
 * number without limit/offset.  One statement.  ENG_ENOENT for an
 * unknown alert.
 */
int store_unanswered_list(struct store *s, long long alert_id,
    long long limit, long long offset, store_unanswered_cb cb, void *arg,
    long long *total, struct eng_errbuf *eb);

/*
 * For metrics: the active alerts (state active, not expired at now_ms)
 * that have targeted people, newest first, at most limit:
 * cb(arg, alert id, targeted, answered).  One statement.
 */
typedef int (*store_answer_gauge_cb)(void *arg, long long alert_id,
    long long targeted, long long answered);
int store_answer_gauges(struct store *s, int64_t now_ms, long long limit,
    store_answer_gauge_cb cb, void *arg, struct eng_errbuf *eb);

/* Answer rows by path, over every alert: cb(arg, path, n). */
typedef int (*store_path_count_cb)(void *arg, const char *path,
    long long n);
int store_answer_path_counts(struct store *s, store_path_count_cb cb,
    void *arg, struct eng_errbuf *eb);

/* ------------------------------------------------------------------ */
/* Escalations (叫应 timers): engine/escalate.h; table of migration 7    */
/* ------------------------------------------------------------------ */

/* One person who must answer an alert, and their next step.  Filled by
 * the caller for store_esc_open() (borrowed); from the readers borrowed
 * for the callback. */
struct store_esc {
	long long alert_id;
	const char *responder_id;
	const char *region;
	const char *channel;	/* of their first message */
	int64_t base_ms;	/* their first message was written */
	int step;		/* the next step's index */
	int64_t due_ms;		/* when it fires; 0: nothing left to fire */
	const char *state;	/* open answered quorum stopped unreachable */
	/* Readers that say so also fill these (else NULL). */
	const char *name, *role, *phone;
};
typedef int (*store_esc_cb)(void *arg, const struct store_esc *e);

/* Broadcast alerts whose plan is complete and whose escalation rows are
 * not written yet: cb(arg, alert_id), oldest first, at most limit. */
typedef int (*store_id_cb)(void *arg, long long id);
int store_esc_unbuilt(struct store *s, long long limit, store_id_cb cb,
    void *arg, struct eng_errbuf *eb);

/* The people an alert's plan reached with an alert or update, one call
 * per (person, channel) in the order written: cb(arg, responder_id,
 * region, role, channel, created_ms). */
typedef int (*store_esc_cand_cb)(void *arg, const char *responder_id,
    const char *region, const char *role, const char *channel,
    int64_t created_ms);
int store_esc_candidates(struct store *s, long long alert_id,
    store_esc_cand_cb cb, void *arg, struct eng_errbuf *eb);

/* Write a row (once: a second one for the same alert and person is
 * ignored); mark an alert's rows written. */
int store_esc_open(struct store *s, const struct store_esc *e,
    int64_t now_ms, struct eng_errbuf *eb);
int store_esc_built(struct store *s, long long alert_id,
    struct eng_errbuf *eb);

/* Open rows whose step is due (due_ms <= now_ms), earliest first. */
int store_esc_due(struct store *s, int64_t now_ms, long long limit,
    store_esc_cb cb, void *arg, struct eng_errbuf *eb);

/* One row as it is now (ENG_ENOENT if there is none). */
int store_esc_get(struct store *s, long long alert_id,
    const char *responder_id, store_esc_cb cb, void *arg,
    struct eng_errbuf *eb);

/* Set a row's next step, its due time (0: none) and state. */
int store_esc_set(struct store *s, long long alert_id,
    const char *responder_id, int step, int64_t due_ms, const char *state,
    int64_t now_ms, struct eng_errbuf *eb);

/* The open rows of (alert, region) at step, with name, role and phone,
 * in responder order. */
int store_esc_region_open(struct store *s, long long alert_id,
    const char *region, int step, store_esc_cb cb, void *arg,
    struct eng_errbuf *eb);

/* How many people of region answered the alert (anyone of the region's
 * roster, a deputy too). */
int store_esc_region_answers(struct store *s, long long alert_id,
    const char *region, long long *n, struct eng_errbuf *eb);

/* Whether the person answered the alert. */
int store_esc_answered(struct store *s, long long alert_id,
    const char *responder_id, int *yes, struct eng_errbuf *eb);

/* Every open row of (alert, region) — or of the alert, region NULL —
 * ends in state (quorum, stopped); *n gets how many (may be NULL). */
int store_esc_close(struct store *s, long long alert_id, const char *region,
    const char *state, int64_t now_ms, long long *n, struct eng_errbuf *eb);

/* Rows still open (awaiting an answer) and of them those with a step
 * still to fire. */
int store_esc_count_open(struct store *s, long long *open,
    long long *pending, struct eng_errbuf *eb);

/* ------------------------------------------------------------------ */
/* Accounts and authority (engine/auth.h); tables of migration 9       */
/* ------------------------------------------------------------------ */

/*
 * A user.  For store_user_add / store_user_update the caller fills it
 * (strings borrowed for the call); from the readers strings are borrowed
 * for the callback.  role: "admin", "officer", "viewer"; jurisdiction: a
 * region code; password_hash: libsodium's crypto_pwhash_str string.
 */
struct store_user {
	long long id;
	const char *name, *display_name, *role, *jurisdiction;
	const char *password_hash;
	int disabled;
	int64_t created_ms, updated_ms;
};
typedef int (*store_user_cb)(void *arg, const struct store_user *u);

/* Add a user (created and updated at now_ms); *id its id (may be NULL).
 * ENG_EEXIST if the name is taken, ENG_EINVAL for a bad role. */
int store_user_add(struct store *s, const struct store_user *u,
    int64_t now_ms, long long *id, struct eng_errbuf *eb);
/* One user by name / by id (ENG_ENOENT if none). */
int store_user_get(struct store *s, const char *name, store_user_cb cb,
    void *arg, struct eng_errbuf *eb);
int store_user_get_id(struct store *s, long long id, store_user_cb cb,
    void *arg, struct eng_errbuf *eb);
/* Every user, by name. */
int store_users_list(struct store *s, store_user_cb cb, void *arg,
    struct eng_errbuf *eb);
/* How many users there are. */
int store_user_count(struct store *s, long long *n, struct eng_errbuf *eb);
/* Overwrite the user u->name's display name, role, jurisdiction,
 * password hash and disabled flag (updated at now_ms).  ENG_ENOENT if
 * there is no such user. */
int store_user_update(struct store *s, const struct store_user *u,
    int64_t now_ms, struct eng_errbuf *eb);

/* A console session; id is the SHA-256 (hex) of the cookie's value. */
struct store_session {
	const char *id;
	long long user_id;
	const char *csrf;
	int64_t created_ms, last_seen_ms, expires_ms;
	const char *from_addr;
};
typedef int (*store_session_cb)(void *arg, const struct store_session *x);

int store_session_add(struct store *s, const struct store_session *x,
    struct eng_errbuf *eb);
/* ENG_ENOENT if there is none. */
int store_session_get(struct store *s, const char *id, store_session_cb cb,
    void *arg, struct eng_errbuf *eb);
int store_session_touch(struct store *s, const char *id, int64_t now_ms,
    struct eng_errbuf *eb);
/* Delete one session (no error if it is gone), or every session of a
 * user, or those idle since idle_before_ms or past their expiry. */
int store_session_delete(struct store *s, const char *id,
    struct eng_errbuf *eb);
int store_sessions_delete_user(struct store *s, long long user_id,
    struct eng_errbuf *eb);
int store_sessions_purge(struct store *s, int64_t now_ms,
    int64_t idle_before_ms, struct eng_errbuf *eb);

/* An API token; hash is the SHA-256 (hex) of the token. */
struct store_token {
	long long id, user_id;
	const char *user_name;		/* readers only */
	const char *name, *hash;
	int64_t created_ms, last_used_ms, revoked_ms;	/* 0: never */
};
typedef int (*store_token_cb)(void *arg, const struct store_token *t);

/* ENG_EEXIST if the user has a live token of that name. */
int store_token_add(struct store *s, const struct store_token *t,
    long long *id, struct eng_errbuf *eb);
/* The live (not revoked) token with this hash; ENG_ENOENT if none. */
int store_token_find(struct store *s, const char *hash, store_token_cb cb,
    void *arg, struct eng_errbuf *eb);
int store_token_touch(struct store *s, long long id, int64_t now_ms,
    struct eng_errbuf *eb);
/* Revoke token id (of user_id, or of anyone when user_id is 0); once:
 * ENG_ENOENT if there is no such live token. */
int store_token_revoke(struct store *s, long long id, long long user_id,
    int64_t now_ms, struct eng_errbuf *eb);
/* Tokens of user_id (0: everyone's), revoked ones too, by id. */
int store_tokens_list(struct store *s, long long user_id, store_token_cb cb,
    void *arg, struct eng_errbuf *eb);

/*
 * The audit trail: append-only (there is no update or delete here, and
 * triggers refuse them in SQL).  actor: a user name, "token:<name>",
 * "feed:<name>" or "system"; before/after: JSON text or NULL.
 */
struct store_audit {
	long long id;
	int64_t at_ms;
	const char *actor, *action, *target, *jurisdiction, *from_addr;
	const char *before, *after, *outcome;
};
typedef int (*store_audit_cb)(void *arg, const struct store_audit *a);

int store_audit_add(struct store *s, const struct store_audit *a,
    long long *id, struct eng_errbuf *eb);

struct store_audit_filter {
	int64_t since_ms;	/* at_ms >= since_ms */
	const char *actor;	/* or NULL */
	const char *action;	/* or NULL */
	/* Only rows whose jurisdiction lies within this region (by its
	 * digits); NULL: every row. */
	const char *within;
	long long limit;	/* <= 0: 100 */
};
/* Rows, newest first. */
int store_audit_list(struct store *s, const struct store_audit_filter *f,
    store_audit_cb cb, void *arg, struct eng_errbuf *eb);

/* A responder's region (ENG_ENOENT if unknown). */
int store_responder_region(struct store *s, const char *id,
    char out[REGION_CODE_SIZE], struct eng_errbuf *eb);
/*
 * Reading rule: 1 if some target region of the alert lies in code's
 * subtree or above it (the alerts list's region filter), else 0;
 * ENG_ENOENT for an unknown alert.
 */
int store_alert_touches(struct store *s, long long alert_id,
    const char *code, struct eng_errbuf *eb);
/*
 * Acting rule: 1 if every target region of every alert of the chain
 * lies in code's subtree (by the tree), else 0.
 */
int store_chain_within(struct store *s, long long chain_id,
    const char *code, struct eng_errbuf *eb);

/* ------------------------------------------------------------------ */
/* Warnings pending approval (store_warning.c)                         */
/* ------------------------------------------------------------------ */

/*
 * A warning built by one officer that a second must approve.  For
 * store_pending_add the caller fills it (borrowed for the call; state,
 * decided_* and alert_id are ignored); from the readers everything is
 * borrowed for the duration of the callback.
 */
struct store_pending {
	long long id;
	int64_t created_ms;
	const char *created_by;		/* the officer (audit actor) */
	const char *source;		/* "console:<user>" */
	const char *msg_type;		/* "Alert", "Update" */
	int colour;			/* enum cap_color */
	const char *event, *headline;
	const char *regions;		/* target codes, space-separated */
	const char *jurisdiction;	/* smallest region holding them */
	const void *cap;		/* the CAP message as built */
	size_t cap_len;
	const char *state;		/* pending, approved, rejected */
	const char *decided_by;
	int64_t decided_ms;		/* 0: not decided */
	const char *reason;		/* of a rejection, or NULL */
	long long alert_id;		/* approved: the alert stored */
};

typedef int (*store_pending_cb)(void *arg, const struct store_pending *p);

int store_pending_add(struct store *s, const struct store_pending *p,
    long long *id, struct eng_errbuf *eb);
/* One (ENG_ENOENT if unknown), or the newest limit in state (NULL:
 * any). */
int store_pending_get(struct store *s, long long id, store_pending_cb cb,
    void *arg, struct eng_errbuf *eb);
int store_pending_list(struct store *s, const char *state, long long limit,
    store_pending_cb cb, void *arg, struct eng_errbuf *eb);
/* Decide a pending one: state "approved" (alert_id the alert stored) or
 * "rejected".  ENG_EBUSY when it is unknown or no longer pending. */
int store_pending_decide(struct store *s, long long id, const char *state,
    const char *by, int64_t at_ms, const char *reason, long long alert_id,
    struct eng_errbuf *eb);

#endif /* ENGINE_STORE_H */
