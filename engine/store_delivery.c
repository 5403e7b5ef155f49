/*
 * engine/store_delivery.c - the outbox: deliveries and what the planner
 * reads to write them.
 */
#include "engine/store_int.h"
#include "engine/strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
store_alerts_unplanned(struct store *s, long long limit, store_alert_cb cb,
    void *arg, struct eng_errbuf *eb)
{
	struct store_alert a;
	sqlite3_stmt *st;
	int rv = 0, rc;

	if ((rv = store_prepare(s, "SELECT id, chain_id, msg_type, status, "
	    "colour, expires_ms, state FROM alerts WHERE planned = 0 AND "
	    "broadcast = 1 ORDER BY colour DESC, id LIMIT ?", &st, eb)) != 0)
		return rv;
	sqlite3_bind_int64(st, 1, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&a, 0, sizeof(a));
		a.id = sqlite3_column_int64(st, 0);
		a.chain_id = sqlite3_column_int64(st, 1);
		a.msg_type = store_col_text(st, 2);
		a.status = store_col_text(st, 3);
		a.colour = sqlite3_column_int(st, 4);
		a.expires_ms = sqlite3_column_int64(st, 5);
		a.state = store_col_text(st, 6);
		if ((rv = cb(arg, &a)) != 0)
			break;
	}
	if (rv == 0 && rc != SQLITE_DONE)
		rv = store_err(s, rc, "unplanned alerts", eb);
	sqlite3_finalize(st);
	return rv;
}

int
store_alert_set_planned(struct store *s, long long id, struct eng_errbuf *eb)
{
	sqlite3_stmt *st;
	int rv;

	if ((rv = store_prepare(s, "UPDATE alerts SET planned = 1 WHERE "
	    "id = ?", &st, eb)) != 0)
		return rv;
	sqlite3_bind_int64(st, 1, id);
	return store_step_done(s, st, 0, "alert planned", eb);
}

/* A row's values, one group of ADD_PARAMS parameters from ?(base + 1). */
#define ADD_PARAMS	12
#define ADD_COLS "INSERT INTO deliveries (alert_id, kind, " \
	"channel, recipient, responder_id, device_id, region, address, role, " \
	"priority, state, attempts, next_at_ms, deadline_ms, created_ms, " \
	"updated_ms) VALUES "
/*
 * A row already there (the same alert, channel and recipient) is left
 * as it is; every other failed constraint (a NULL where a value must be,
 * an alert that is not there) is an error, never a row quietly left out
 * as OR IGNORE would.
 */
#define ADD_END " ON CONFLICT (alert_id, channel, recipient) DO NOTHING"

static void
add_values(struct strbuf *b, int base)
{
	strbuf_addf(b, "(?%d,?%d,?%d,?%d,?%d,?%d,?%d,?%d,?%d,?%d,'pending',0,"
	    "?%d,?%d,?%d,?%d)", base + 1, base + 2, base + 3, base + 4,
	    base + 5, base + 6, base + 7, base + 8, base + 9, base + 10,
	    base + 11, base + 12, base + 11, base + 11);
}

static void
add_bind(sqlite3_stmt *st, int base, const struct store_delivery *d,
    int64_t now_ms)
{
	sqlite3_bind_int64(st, base + 1, d->alert_id);
	store_bind_str(st, base + 2, d->kind);
	store_bind_str(st, base + 3, d->channel);
	store_bind_str(st, base + 4, d->recipient);
	store_bind_str(st, base + 5, d->responder_id);
	store_bind_str(st, base + 6, d->device_id);
	store_bind_str(st, base + 7, d->region);
	store_bind_str(st, base + 8, d->address);
	store_bind_str(st, base + 9, d->role);
	sqlite3_bind_int(st, base + 10, d->priority);
	sqlite3_bind_int64(st, base + 11, now_ms);
	if (d->deadline_ms > 0)
		sqlite3_bind_int64(st, base + 12, d->deadline_ms);
	else
		sqlite3_bind_null(st, base + 12);
}

/* The cached statement of rows rows (1 or STORE_ADD_ROWS). */
static int
add_statement(struct store *s, int rows, sqlite3_stmt **st,
    struct eng_errbuf *eb)
{
	struct strbuf b = STRBUF_INIT;
	int slot = rows == 1 ? STORE_ST_DELIVERY_ADD :
	    STORE_ST_DELIVERY_ADD_ROWS;
	int i, rv;

	if (s->cache[slot] == NULL) {
		strbuf_add(&b, ADD_COLS, strlen(ADD_COLS));
		for (i = 0; i < rows; i++) {
			if (i > 0)
				strbuf_add(&b, ",", 1);
			add_values(&b, i * ADD_PARAMS);
		}
		strbuf_add(&b, ADD_END, strlen(ADD_END));
		if (b.oom) {
			strbuf_release(&b);
			return eng_error(eb, ENG_ENOMEM,
			    "delivery add: out of memory");
		}
	}
	rv = store_cached(s, slot, b.p, st, eb);
	strbuf_release(&b);
	return rv;
}

int
store_delivery_add(struct store *s, const struct store_delivery *d,
    int64_t now_ms, int *added, struct eng_errbuf *eb)
{
	sqlite3_stmt *st = NULL;
	int rv, rc;

	if ((rv = add_statement(s, 1, &st, eb)) != 0)
		return rv;
	add_bind(st, 0, d, now_ms);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		if (added != NULL)
			*added = sqlite3_changes(s->db) > 0;
	} else {
		rv = store_err(s, rc, "delivery add", eb);
	}
	sqlite3_reset(st);
	return rv;
}

int
store_deliveries_add(struct store *s, const struct store_delivery *d,
    size_t n, int64_t now_ms, long long *added, struct eng_errbuf *eb)
{
	sqlite3_stmt *st = NULL;
	size_t i = 0;
	int k, one, rv, rc;

	*added = 0;
	for (; n - i >= STORE_ADD_ROWS; i += STORE_ADD_ROWS) {
		if ((rv = add_statement(s, STORE_ADD_ROWS, &st, eb)) != 0)
			return rv;
		for (k = 0; k < STORE_ADD_ROWS; k++)
			add_bind(st, k * ADD_PARAMS, &d[i + k], now_ms);
		rc = sqlite3_step(st);
		if (rc == SQLITE_DONE)
			*added += sqlite3_changes(s->db);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return store_err(s, rc, "delivery add", eb);
	}
	for (; i < n; i++) {
		if ((rv = store_delivery_add(s, &d[i], now_ms, &one, eb)) != 0)
			return rv;
		*added += one;
	}
	return 0;
}

#define DELIVERY_COLS "id, alert_id, kind, channel, recipient, " \
	"responder_id, device_id, region, address, role, priority, state, " \
	"attempts, next_at_ms, coalesce(deadline_ms, 0), gateway_id, " \
	"last_error"

static void
delivery_from_row(sqlite3_stmt *st, struct store_delivery *d)
{
	memset(d, 0, sizeof(*d));
	d->id = sqlite3_column_int64(st, 0);
	d->alert_id = sqlite3_column_int64(st, 1);
	d->kind = store_col_text(st, 2);
	d->channel = store_col_text(st, 3);
	d->recipient = store_col_text(st, 4);
	d->responder_id = store_col_text(st, 5);
	d->device_id = store_col_text(st, 6);
	d->region = store_col_text(st, 7);
	d->address = store_col_text(st, 8);
	d->role = store_col_text(st, 9);
	d->priority = sqlite3_column_int(st, 10);
	d->state = store_col_text(st, 11);
	d->attempts = sqlite3_column_int(st, 12);
	d->next_at_ms = sqlite3_column_int64(st, 13);
	d->deadline_ms = sqlite3_column_int64(st, 14);
	d->gateway_id = store_col_text(st, 15);
	d->last_error = store_col_text(st, 16);
}

/*
 * The conditions of the partial indexes deliveries_due and
 * deliveries_lease, word for word (store_migrate.c migrations 5 and 11):
 * SQLite uses a partial index only for a query whose WHERE contains its
 * condition.
 */
#define DUE_STATES	"(state = 'pending' OR state = 'retry')"
#define LEASED		"state = 'sending'"

/*
 * Ids as a JSON array, for json_each (one statement whatever their
 * number): id_json_add for each, then "]"; b->oom says when it could
 * not.
 */
static void
id_json_add(struct strbuf *b, long long id)
{
	strbuf_addf(b, b->len > 0 ? ",%lld" : "[%lld", id);
}

static void
ids_json(struct strbuf *b, const long long *ids, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		id_json_add(b, ids[i]);
	strbuf_add(b, "]", 1);
}

/* One UPDATE of rows by id: ?1 the ids as a JSON array, ?2 and ?3 x and
 * y.  what names it in an error. */
static int
ids_update(struct store *s, int which, const char *sql,
    const struct strbuf *ids, int64_t x, int64_t y, const char *what,
    struct eng_errbuf *eb)
{
	sqlite3_stmt *st;
	int rv, rc;

	if ((rv = store_cached(s, which, sql, &st, eb)) != 0)
		return rv;
	sqlite3_bind_text(st, 1, ids->p, (int)ids->len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, x);
	sqlite3_bind_int64(st, 3, y);
	if ((rc = sqlite3_step(st)) != SQLITE_DONE)
		rv = store_err(s, rc, what, eb);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rv;
}

/*
 * One claim: the rows sel (a SELECT of DELIVERY_COLS, ?1 now, ?3 limit)
 * finds are handed to cb as they are read, then marked by one UPDATE of
 * them all (upd: ?1 their ids as a JSON array, ?2 now, ?3 lease_ms).
 * Cheaper than an UPDATE ... RETURNING of the same rows, which SQLite
 * buffers in a table of its own before it returns the first: about a
 * fifth of a claim's time.  cb sees each row as the update leaves it
 * (state sending).  *n counts.
 */
static int
claim_run(struct store *s, int which_sel, const char *sel, int which_upd,
    const char *upd, int64_t now_ms, int64_t lease_ms, long long limit,
    store_delivery_cb cb, void *arg, long long *n, struct eng_errbuf *eb)
{
	struct store_delivery d;
	struct strbuf ids = STRBUF_INIT;
	sqlite3_stmt *st;
	long long found = 0;
	int rv, rc;

	if ((rv = store_cached(s, which_sel, sel, &st, eb)) != 0)
		return rv;
	sqlite3_bind_int64(st, 1, now_ms);
	sqlite3_bind_int64(st, 3, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		delivery_from_row(st, &d);
		d.state = "sending";
		id_json_add(&ids, d.id);
		found++;
		if ((rv = cb(arg, &d)) != 0)
			break;
	}
	if (rv == 0 && rc != SQLITE_DONE)
		rv = store_err(s, rc, "claim", eb);
	sqlite3_reset(st);
	strbuf_add(&ids, "]", 1);
	if (rv == 0 && ids.oom)
		rv = eng_error(eb, ENG_ENOMEM, "claim: out of memory");
	if (rv == 0 && found > 0)
		rv = ids_update(s, which_upd, upd, &ids, now_ms, lease_ms,
		    "claim", eb);
	strbuf_release(&ids);
	*n += found;
	return rv;
}

int
store_deliveries_claim(struct store *s, int64_t now_ms, int64_t lease_ms,
    long long limit, store_delivery_cb cb, void *arg, struct eng_errbuf *eb)
{
	long long n = 0;
	int rv;

	if ((rv = store_begin(s, eb)) != 0)
		return rv;
	/* Leases run out first (a crash, a stuck gateway), then what is
	 * due, by priority. */
	rv = claim_run(s, STORE_ST_CLAIM_LEASE, "SELECT " DELIVERY_COLS
	    " FROM deliveries WHERE " LEASED " AND lease_until_ms < ?1 "
	    "LIMIT ?3", STORE_ST_CLAIM_LEASE_MARK, "UPDATE deliveries SET "
	    "lease_until_ms = ?2 + ?3, updated_ms = ?2 WHERE id IN "
	    "(SELECT value FROM json_each(?1))", now_ms, lease_ms, limit, cb,
	    arg, &n, eb);
	if (rv == 0 && n < limit)
		rv = claim_run(s, STORE_ST_CLAIM, "SELECT " DELIVERY_COLS
		    " FROM deliveries WHERE " DUE_STATES " AND "
		    "next_at_ms <= ?1 ORDER BY priority DESC, id LIMIT ?3",
		    STORE_ST_CLAIM_MARK, "UPDATE deliveries SET "
		    "state = 'sending', lease_until_ms = ?2 + ?3, "
		    "updated_ms = ?2 WHERE id IN "
		    "(SELECT value FROM json_each(?1))", now_ms, lease_ms,
		    limit - n, cb, arg, &n, eb);
	if (rv != 0) {
		store_rollback(s);
		return rv;
	}
	return store_commit(s, eb);
}

struct sent_ix {
	long long id;
	size_t i;
};

static int
sent_ix_cmp(const void *a, const void *b)
{
	const struct sent_ix *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* What a "sent" report sets (?1 the ids as a JSON array, ?2 gateway_id,
 * ?3 segments, ?4 now): the two statements below say it alike. */
#define SENT_SET "UPDATE deliveries SET state = 'sent', " \
	"attempts = attempts + 1, gateway_id = coalesce(?2, gateway_id), " \
	"segments = coalesce(?3, segments), updated_ms = ?4, " \
	"lease_until_ms = NULL, sent_ms = coalesce(sent_ms, ?4) " \
	"WHERE id IN (SELECT value FROM json_each(?1)) AND state = 'sending'"

static void
sent_bind(sqlite3_stmt *st, const struct strbuf *b, const char *gateway_id,
    int segments, int64_t now_ms)
{
	sqlite3_bind_text(st, 1, b->p, (int)b->len, SQLITE_STATIC);
	store_bind_str(st, 2, gateway_id);
	store_bind_pos(st, 3, segments);
	sqlite3_bind_int64(st, 4, now_ms);
}

/*
 * All of them still sending (the common case): one UPDATE, whose count
 * of changed rows says so.  Otherwise it is undone and *all is 0.  A
 * third cheaper than the same UPDATE with RETURNING, which SQLite buffers
 * in a table of its own.
 */
static int
sent_all(struct store *s, const struct strbuf *b, size_t distinct,
    const char *gateway_id, int segments, int64_t now_ms, int *all,
    struct eng_errbuf *eb)
{
	sqlite3_stmt *st;
	int rv, rc;

	*all = 0;
	if ((rv = store_savepoint(s, eb)) != 0)
		return rv;
	if ((rv = store_cached(s, STORE_ST_DELIVERIES_SENT_ALL, SENT_SET, &st,
	    eb)) != 0) {
		store_rollback_savepoint(s);
		return rv;
	}
	sent_bind(st, b, gateway_id, segments, now_ms);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		*all = (size_t)sqlite3_changes(s->db) == distinct;
	else
		rv = store_err(s, rc, "deliveries sent", eb);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rv == 0 && *all)
		return store_release(s, eb);
	*all = 0;
	store_rollback_savepoint(s);
	return rv;
}

int
store_deliveries_sent(struct store *s, const long long *ids, size_t n,
    const char *gateway_id, int segments, int64_t now_ms,
    unsigned char *done, struct eng_errbuf *eb)
{
	struct strbuf b = STRBUF_INIT;
	struct sent_ix *ix = NULL, key, *hit;
	sqlite3_stmt *st;
	size_t i, distinct;
	int rv, rc, all;

	if (n == 0)
		return 0;
	ids_json(&b, ids, n);
	if (b.oom || (ix = calloc(n, sizeof(*ix))) == NULL) {
		rv = eng_error(eb, ENG_ENOMEM, "deliveries sent: out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		ix[i].id = ids[i];
		ix[i].i = i;
	}
	qsort(ix, n, sizeof(*ix), sent_ix_cmp);
	for (i = distinct = 0; i < n; i++)
		distinct += i == 0 || ix[i].id != ix[i - 1].id;
	if ((rv = sent_all(s, &b, distinct, gateway_id, segments, now_ms, &all,
	    eb)) != 0)
		goto out;
	if (all) {
		memset(done, 1, n);
		goto out;
	}
	/* Some were not sending (a receipt overtook the report, a Cancel
	 * ...): which, RETURNING says. */
	if ((rv = store_cached(s, STORE_ST_DELIVERIES_SENT, SENT_SET
	    " RETURNING id", &st, eb)) != 0)
		goto out;
	sent_bind(st, &b, gateway_id, segments, now_ms);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		key.id = sqlite3_column_int64(st, 0);
		hit = bsearch(&key, ix, n, sizeof(*ix), sent_ix_cmp);
		/* The same id twice in ids: every copy is done. */
		for (; hit != NULL && hit > ix && hit[-1].id == key.id; hit--)
			;
		for (; hit != NULL && hit < ix + n && hit->id == key.id; hit++)
			done[hit->i] = 1;
	}
	if (rc != SQLITE_DONE)
		rv = store_err(s, rc, "deliveries sent", eb);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
out:
	free(ix);
	strbuf_release(&b);
	return rv;
}

int
store_deliveries_unclaim(struct store *s, const long long *ids, size_t n,
    int64_t next_at_ms, int64_t now_ms, struct eng_errbuf *eb)
{
	struct strbuf b = STRBUF_INIT;
	int rv;

	if (n == 0)
		return 0;
	ids_json(&b, ids, n);
	if (b.oom)
		rv = eng_error(eb, ENG_ENOMEM, "unclaim: out of memory");
	else
		rv = ids_update(s, STORE_ST_UNCLAIM, "UPDATE deliveries SET "
		    "state = 'pending', next_at_ms = ?2, "
		    "lease_until_ms = NULL, updated_ms = ?3 WHERE id IN "
		    "(SELECT value FROM json_each(?1)) AND state = 'sending'",
		    &b, next_at_ms, now_ms, "unclaim", eb);
	strbuf_release(&b);
	return rv;
}

int
store_delivery_set(struct store *s, long long id, const char *state,
    int count_attempt, int64_t next_at_ms, const char *gateway_id,
    const char *error, int segments, int64_t now_ms, struct eng_errbuf *eb)
{
	sqlite3_stmt *st;
	long long one = id;
	unsigned char done = 0;
	int rv;

	/* The common case, a delivery still in the channel's hands: the
	 * plainer statement (no receipt can have overtaken it). */
	if (count_attempt && strcmp(state, "sent") == 0 && error == NULL &&
	    next_at_ms <= 0) {
		if ((rv = store_deliveries_sent(s, &one, 1, gateway_id,
		    segments, now_ms, &done, eb)) != 0 || done)
			return rv;
	}

	/*
	 * A receipt can overtake the driver's own report (Kannel's dlr-url
	 * may call before the sendsms answer is read): a late "sent" or
	 * "retry" never moves "delivered" back, but still counts its
	 * attempt, its parts and its send time.
	 */
	/* A "failed" that counts an attempt is the dispatcher giving up on
	 * retries the receipt already made moot: it keeps "delivered" too;
	 * only a failure receipt (no attempt) moves it. */
#define LATE "(state = 'delivered' AND (?2 NOT IN ('delivered', 'failed') " \
	"OR (?2 = 'failed' AND ?3 = 1)))"
	if ((rv = store_cached(s, STORE_ST_DELIVERY_SET, "UPDATE deliveries "
	    "SET state = CASE WHEN " LATE " THEN state ELSE ?2 END, "
	    "attempts = attempts + ?3, "
	    "next_at_ms = CASE WHEN " LATE " THEN next_at_ms "
	    "  ELSE coalesce(?4, next_at_ms) END, "
	    "gateway_id = CASE WHEN " LATE " THEN coalesce(gateway_id, ?5) "
	    "  ELSE coalesce(?5, gateway_id) END, "
	    "last_error = CASE WHEN " LATE " THEN last_error "
	    "  ELSE coalesce(?6, last_error) END, "
	    "segments = coalesce(?7, segments), updated_ms = ?8, "
	    "lease_until_ms = NULL, "
	    "sent_ms = CASE WHEN ?2 = 'sent' AND sent_ms IS NULL THEN ?8 "
	    "  ELSE sent_ms END, "
	    "delivered_ms = CASE WHEN ?2 = 'delivered' THEN ?8 "
	    "  ELSE delivered_ms END "
	    "WHERE id = ?1 AND state != 'cancelled'", &st, eb)) != 0)
		return rv;
#undef LATE
	sqlite3_bind_int64(st, 1, id);
	store_bind_str(st, 2, state);
	sqlite3_bind_int(st, 3, count_attempt ? 1 : 0);
	store_bind_pos(st, 4, next_at_ms);
	store_bind_str(st, 5, gateway_id);
	store_bind_str(st, 6, error);
	store_bind_pos(st, 7, segments);
	sqlite3_bind_int64(st, 8, now_ms);
	rv = sqlite3_step(st);
	sqlite3_reset(st);
	return rv == SQLITE_DONE ? 0 : store_err(s, rv, "delivery set", eb);
}

int
store_delivery_follow_up(struct store *s, long long id, int64_t now_ms,
    int *added, struct eng_errbuf *eb)
{
	sqlite3_stmt *st = NULL;
	int rv, rc;

	if (added != NULL)
		*added = 0;
	if ((rv = store_cached(s, STORE_ST_DELIVERY_FOLLOW, "INSERT "
	    "INTO deliveries "
	    "(alert_id, kind, channel, recipient, responder_id, device_id, "
	    "region, address, role, priority, state, attempts, next_at_ms, "
	    "deadline_ms, created_ms, updated_ms) "
	    "SELECT f.id, CASE f.msg_type WHEN 'Cancel' THEN 'cancel' "
	    "  ELSE 'update' END, d.channel, d.recipient, d.responder_id, "
	    "  d.device_id, d.region, d.address, d.role, d.priority, "
	    "  'pending', 0, ?2, nullif(f.expires_ms, 0), ?2, ?2 "
	    "FROM deliveries d JOIN alerts a ON a.id = d.alert_id "
	    "JOIN alerts f ON f.id = a.superseded_by "
	    "WHERE d.id = ?1 AND d.state IN ('sent', 'delivered') AND "
	    "a.state IN ('cancelled', 'superseded') AND f.planned = 1 AND "
	    "f.broadcast = 1" ADD_END, &st, eb)) != 0)
		return rv;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, now_ms);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		if (added != NULL)
			*added = sqlite3_changes(s->db) > 0;
	} else
		rv = store_err(s, rc, "delivery follow-up", eb);
	sqlite3_reset(st);
	return rv;
}

int
store_deliveries_cancel(struct store *s, long long alert_id, long long *n,
    int64_t now_ms, struct eng_errbuf *eb)
{
	sqlite3_stmt *st;
	int rv, rc;

	if ((rv = store_prepare(s, "UPDATE deliveries SET state = "
	    "'cancelled', updated_ms = ?2, lease_until_ms = NULL WHERE "
	    "alert_id = ?1 AND state IN ('pending', 'retry')", &st, eb)) != 0)
		return rv;
	sqlite3_bind_int64(st, 1, alert_id);
	sqlite3_bind_int64(st, 2, now_ms);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		rv = store_err(s, rc, "cancel deliveries", eb);
	else if (n != NULL)
		*n = sqlite3_changes(s->db);
	sqlite3_finalize(st);
	return rv;
}

int
store_delivery_counts(struct store *s, long long alert_id, store_count_cb cb,
    void *arg, struct eng_errbuf *eb)
{
	sqlite3_stmt *st;
	int rv = 0, rc;

	if ((rv = store_prepare(s, "SELECT state, channel, count(*) FROM "
	    "deliveries WHERE alert_id = ? GROUP BY state, channel ORDER BY "
	    "channel, state", &st, eb)) != 0)
		return rv;
	sqlite3_bind_int64(st, 1, alert_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((rv = cb(arg, store_col_text(st, 0), store_col_text(st, 1),
		    sqlite3_column_int64(st, 2))) != 0)
			break;
	if (rv == 0 && rc != SQLITE_DONE)
		rv = store_err(s, rc, "delivery counts", eb);
	sqlite3_finalize(st);
	return rv;
}

int
store_deliveries_list(struct store *s, long long alert_id, const char *state,
    const char *channel, long long limit, long long offset,
    store_delivery_cb cb, void *arg, long long *total, struct eng_errbuf *eb)
{
	struct store_delivery d;
	sqlite3_stmt *st;
	int rv = 0, rc;

	if (total != NULL) {
		if ((rv = store_prepare(s, "SELECT count(*) FROM deliveries "
		    "WHERE alert_id = ?1 AND (?2 IS NULL OR state = ?2) AND "
		    "(?3 IS NULL OR channel = ?3)", &st, eb)) != 0)
			return rv;
		sqlite3_bind_int64(st, 1, alert_id);
		store_bind_str(st, 2, state);
		store_bind_str(st, 3, channel);
		if ((rc = sqlite3_step(st)) == SQLITE_ROW)
			*total = sqlite3_column_int64(st, 0);
		else
			rv = store_err(s, rc, "deliveries count", eb);
		sqlite3_finalize(st);
		if (rv != 0)
			return rv;
	}
	if ((rv = store_prepare(s, "SELECT " DELIVERY_COLS " FROM deliveries "
	    "WHERE alert_id = ?1 AND (?2 IS NULL OR state = ?2) AND "
	    "(?3 IS NULL OR channel = ?3) ORDER BY id LIMIT ?4 OFFSET ?5",
	    &st, eb)) != 0)
		return rv;
	sqlite3_bind_int64(st, 1, alert_id);
	store_bind_str(st, 2, state);
	store_bind_str(st, 3, channel);
	sqlite3_bind_int64(st, 4, limit < 0 ? -1 : limit);
	sqlite3_bind_int64(st, 5, offset < 0 ? 0 : offset);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		delivery_from_row(st, &d);
		if ((rv = cb(arg, &d)) != 0)
			break;
	}
	if (rv == 0 && rc != SQLITE_DONE)
		rv = store_err(s, rc, "deliveries", eb);
	sqlite3_finalize(st);
	return rv;
}

int
store_delivery_get(struct store *s, long long id, store_delivery_cb cb,
    void *arg, struct eng_errbuf *eb)
{
	struct store_delivery d;
	sqlite3_stmt *st;
	int rv, rc;

	if ((rv = store_prepare(s, "SELECT " DELIVERY_COLS " FROM deliveries "
	    "WHERE id = ?", &st, eb)) != 0)
		return rv;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		delivery_from_row(st, &d);
		rv = cb(arg, &d);
	} else if (rc == SQLITE_DONE) {
		rv = eng_error(eb, ENG_ENOENT, "delivery %lld not found", id);
	} else {
		rv = store_err(s, rc, "delivery get", eb);
	}
	sqlite3_finalize(st);
	return rv;
}

/*
 * store_people reads a page of rows into memory and closes its statement
 * before it calls back: the callback may commit (the planner writes a
 * large plan in chunks, store.h), and a statement left open would keep
 * this connection's read snapshot, on which a later BEGIN fails as soon
 * as another connection has committed (SQLITE_BUSY_SNAPSHOT).
 */
#define PAGE_ROWS	512	/* rows read at a time */
#define PAGE_TEXTS	11	/* text columns of a row at most */
#define PEOPLE_TEXT	11	/* text columns: id ... wechat, prefer */
/* ?7: the roles (JSON), NULL for all; ?8: 1 for those in it, 0 for the
 * others (a non-correlated IN: the list is read once per page) */
#define PEOPLE_ROLES	"(?7 IS NULL OR coalesce(r.role IN (SELECT value " \
	"FROM json_each(?7)), 0) = ?8) "

/* A page's texts, copied out of its rows into one buffer (the rows'
 * own are gone once the statement moves on). */
struct page_texts {
	struct strbuf b;	/* the texts, each NUL-terminated */
	size_t off[PAGE_ROWS][PAGE_TEXTS];	/* STRBUF_NONE: NULL */
};

/* Keep t as text k of row i (pointers are taken once the page is read:
 * the buffer may move while it grows). */
static void
page_keep(struct page_texts *pt, size_t i, size_t k, const char *t)
{
	pt->off[i][k] = strbuf_keep(&pt->b, t);
}

static const char *
page_str(const struct page_texts *pt, size_t i, size_t k)
{
	return strbuf_at(&pt->b, pt->off[i][k]);
}

_Static_assert(PEOPLE_TEXT <= PAGE_TEXTS, "a person's texts fit a page");

/* Where the next page starts: after the region path and id of the row
 * just read (PAGE_KEY bytes each). */
#define PAGE_KEY	512

static void
page_last(sqlite3_stmt *st, int path_col, int id_col, char *path, char *id)
{
	const char *t = store_col_text(st, path_col);

	(void)snprintf(path, PAGE_KEY, "%s", t != NULL ? t : "");
	t = store_col_text(st, id_col);
	(void)snprintf(id, PAGE_KEY, "%s", t != NULL ? t : "");
}

struct people_page {
	struct page_texts t;
	int exercise[PAGE_ROWS], level[PAGE_ROWS];
	size_t n;
	char last_path[PAGE_KEY], last_id[PAGE_KEY];
};

int
store_people(struct store *s, const char *code, int subtree,
    store_person_cb cb, void *arg, struct eng_errbuf *eb)
{
	return store_people_roles(s, code, subtree, NULL, STORE_ROLES_IN, cb,
	    arg, eb);
}

/* roles as a JSON array of strings (a role is a plain word, roster.h;
 * quotes and backslashes are escaped all the same). */
static void
roles_json(struct strbuf *b, const char *const *roles)
{
	const char *c;
	size_t i;

	strbuf_add(b, "[", 1);
	for (i = 0; roles[i] != NULL; i++) {
		strbuf_add(b, i > 0 ? ",\"" : "\"", i > 0 ? 2 : 1);
		for (c = roles[i]; *c != '\0'; c++) {
			if (*c == '"' || *c == '\\')
				strbuf_add(b, "\\", 1);
			strbuf_add(b, c, 1);
		}
		strbuf_add(b, "\"", 1);
	}
	strbuf_add(b, "]", 1);
}

int
store_people_roles(struct store *s, const char *code, int subtree,
    const char *const *roles, enum store_roles_sel sel, store_person_cb cb,
    void *arg, struct eng_errbuf *eb)
{
	struct strbuf rj = STRBUF_INIT;
	static const int text_col[PEOPLE_TEXT] =
	    { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12 };
	char lo[512], hi[512];
	struct people_page *pg;
	struct store_person p;
	sqlite3_stmt *st = NULL;
	size_t i, k;
	int rv, rc, more = 1;

	if ((rv = store_subtree_range(s, code, lo, hi, sizeof(lo), eb)) != 0)
		return rv;
	if (roles != NULL)
		roles_json(&rj, roles);
	if (rj.oom || (pg = calloc(1, sizeof(*pg))) == NULL) {
		strbuf_release(&rj);
		return eng_error(eb, ENG_ENOMEM, "people: out of memory");
	}
	if ((rv = store_prepare(s, subtree ?
	    "SELECT r.id, r.name, r.region, r.role, r.phone, r.email, "
	    "r.wecom, r.dingtalk, r.telegram, r.wechat, r.exercise, g.level, "
	    "r.prefer, g.path FROM regions g JOIN responders r ON "
	    "r.region = g.code WHERE g.path >= ?1 AND g.path < ?2 AND "
	    "r.active = 1 AND (g.path, r.id) > (?4, ?5) AND " PEOPLE_ROLES
	    "ORDER BY g.path, r.id LIMIT ?6" :
	    "SELECT r.id, r.name, r.region, r.role, r.phone, r.email, "
	    "r.wecom, r.dingtalk, r.telegram, r.wechat, r.exercise, g.level, "
	    "r.prefer, g.path FROM regions g JOIN responders r ON "
	    "r.region = g.code WHERE g.code = ?3 AND r.active = 1 AND "
	    "r.id > ?5 AND " PEOPLE_ROLES "ORDER BY r.id LIMIT ?6", &st,
	    eb)) != 0)
		goto out;
	/* The first page starts before the subtree's first row: a
	 * responder's id is never empty (roster.h).  Each later one after
	 * the last row of the one before (a seek in the indexes, not an
	 * OR, which would make every page scan from the start). */
	(void)snprintf(pg->last_path, sizeof(pg->last_path), "%s", lo);
	pg->last_id[0] = '\0';
	while (more && rv == 0) {
		sqlite3_reset(st);
		if (subtree) {
			store_bind_str(st, 1, lo);
			store_bind_str(st, 2, hi);
			/* Copied: the rows overwrite last_* as they come. */
			sqlite3_bind_text(st, 4, pg->last_path, -1,
			    SQLITE_TRANSIENT);
		} else
			store_bind_str(st, 3, code);
		sqlite3_bind_text(st, 5, pg->last_id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(st, 6, PAGE_ROWS);
		if (roles != NULL) {
			sqlite3_bind_text(st, 7, rj.p, (int)rj.len,
			    SQLITE_STATIC);
			sqlite3_bind_int(st, 8, sel == STORE_ROLES_IN);
		}
		pg->t.b.len = 0;
		pg->n = 0;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			i = pg->n++;
			for (k = 0; k < PEOPLE_TEXT; k++)
				page_keep(&pg->t, i, k,
				    store_col_text(st, text_col[k]));
			pg->exercise[i] = sqlite3_column_int(st, 10);
			pg->level[i] = sqlite3_column_int(st, 11);
			page_last(st, 13, 0, pg->last_path, pg->last_id);
		}
		if (rc != SQLITE_DONE) {
			rv = store_err(s, rc, "people", eb);
			break;
		}
		sqlite3_reset(st);	/* no statement open in the callbacks */
		if (pg->t.b.oom) {
			rv = eng_error(eb, ENG_ENOMEM, "people: out of memory");
			break;
		}
		more = pg->n == PAGE_ROWS;
		for (i = 0; i < pg->n && rv == 0; i++) {
			p.id = page_str(&pg->t, i, 0);
			p.name = page_str(&pg->t, i, 1);
			p.region = page_str(&pg->t, i, 2);
			p.role = page_str(&pg->t, i, 3);
			p.phone = page_str(&pg->t, i, 4);
			p.email = page_str(&pg->t, i, 5);
			p.wecom = page_str(&pg->t, i, 6);
			p.dingtalk = page_str(&pg->t, i, 7);
			p.telegram = page_str(&pg->t, i, 8);
			p.wechat = page_str(&pg->t, i, 9);
			p.prefer = page_str(&pg->t, i, 10);
			p.exercise = pg->exercise[i];
			p.level = (enum region_level)pg->level[i];
			rv = cb(arg, &p);
		}
	}
out:
	sqlite3_finalize(st);
	strbuf_release(&pg->t.b);
	strbuf_release(&rj);
	free(pg);
	return rv;
}

struct device_page {
	struct page_texts t;	/* id, region, kind, channel, address */
	size_t n;
	char last_path[PAGE_KEY], last_id[PAGE_KEY];
};

/* A page at a time, as store_people: the callback may commit. */
int
store_devices_of(struct store *s, const char *code, store_device_row_cb cb,
    void *arg, struct eng_errbuf *eb)
{
	char lo[512], hi[512];
	struct device_page *pg;
	sqlite3_stmt *st = NULL;
	size_t i, k;
	int rv, rc, more = 1;

	if ((rv = store_subtree_range(s, code, lo, hi, sizeof(lo), eb)) != 0)
		return rv;
	if ((pg = calloc(1, sizeof(*pg))) == NULL)
		return eng_error(eb, ENG_ENOMEM, "devices: out of memory");
	if ((rv = store_prepare(s, "SELECT d.id, d.region, d.kind, d.channel, "
	    "d.address, g.path FROM regions g JOIN devices d ON "
	    "d.region = g.code WHERE g.path >= ?1 AND g.path < ?2 AND "
	    "(g.path, d.id) > (?3, ?4) ORDER BY g.path, d.id LIMIT ?5", &st,
	    eb)) != 0)
		goto out;
	/* Before the subtree's first row: a device's id is never empty. */
	(void)snprintf(pg->last_path, sizeof(pg->last_path), "%s", lo);
	while (more && rv == 0) {
		sqlite3_reset(st);
		store_bind_str(st, 1, lo);
		store_bind_str(st, 2, hi);
		sqlite3_bind_text(st, 3, pg->last_path, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 4, pg->last_id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(st, 5, PAGE_ROWS);
		pg->t.b.len = 0;
		pg->n = 0;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			i = pg->n++;
			for (k = 0; k < 5; k++)
				page_keep(&pg->t, i, k,
				    store_col_text(st, (int)k));
			page_last(st, 5, 0, pg->last_path, pg->last_id);
		}
		if (rc != SQLITE_DONE) {
			rv = store_err(s, rc, "devices", eb);
			break;
		}
		sqlite3_reset(st);	/* no statement open in the callbacks */
		if (pg->t.b.oom) {
			rv = eng_error(eb, ENG_ENOMEM, "devices: out of memory");
			break;
		}
		more = pg->n == PAGE_ROWS;
		for (i = 0; i < pg->n && rv == 0; i++)
			rv = cb(arg, page_str(&pg->t, i, 0),
			    page_str(&pg->t, i, 1), page_str(&pg->t, i, 2),
			    page_str(&pg->t, i, 3), page_str(&pg->t, i, 4));
	}
out:
	sqlite3_finalize(st);
	strbuf_release(&pg->t.b);
	free(pg);
	return rv;
}

/*
 * store_chain_reached reads a page of rows at a time, as store_people
 * does (the plan commits in chunks while it walks them).
 */
struct delivery_page {
	struct page_texts t;	/* kind ... role, state, gateway_id, error */
	struct store_delivery d[PAGE_ROWS];	/* texts set once read */
	size_t n;
};

/* The reached rows of one alert, by id, a page at a time. */
static int
alert_reached(struct store *s, long long alert_id, struct delivery_page *pg,
    store_delivery_cb cb, void *arg, struct eng_errbuf *eb)
{
	struct store_delivery *d;
	sqlite3_stmt *st = NULL;
	long long last = -1;
	size_t i;
	int rv, rc, more = 1;

	/* From the alert's first row (its ids need not be contiguous:
	 * plans of several alerts interleave). */
	if ((rv = store_prepare(s, "SELECT min(id) - 1 FROM deliveries WHERE "
	    "alert_id = ?", &st, eb)) != 0)
		return rv;
	sqlite3_bind_int64(st, 1, alert_id);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) != SQLITE_NULL)
		last = sqlite3_column_int64(st, 0);
	else if (rc != SQLITE_ROW)
		rv = store_err(s, rc, "chain reached", eb);
	sqlite3_finalize(st);
	st = NULL;
	if (rv != 0 || last < 0)
		return rv;	/* nothing written for it */
	/* "+alert_id": along the ids from last (a seek), not through the
	 * alert's index entries and a sort on every page. */
	if ((rv = store_prepare(s, "SELECT " DELIVERY_COLS " FROM deliveries "
	    "WHERE id > ?1 AND +alert_id = ?2 AND state IN ('sent', "
	    "'delivered') ORDER BY id LIMIT ?3", &st, eb)) != 0)
		return rv;
	while (more && rv == 0) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, last);
		sqlite3_bind_int64(st, 2, alert_id);
		sqlite3_bind_int(st, 3, PAGE_ROWS);
		pg->t.b.len = 0;
		pg->n = 0;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			i = pg->n++;
			d = &pg->d[i];
			delivery_from_row(st, d);
			page_keep(&pg->t, i, 0, d->kind);
			page_keep(&pg->t, i, 1, d->channel);
			page_keep(&pg->t, i, 2, d->recipient);
			page_keep(&pg->t, i, 3, d->responder_id);
			page_keep(&pg->t, i, 4, d->device_id);
			page_keep(&pg->t, i, 5, d->region);
			page_keep(&pg->t, i, 6, d->address);
			page_keep(&pg->t, i, 7, d->role);
			page_keep(&pg->t, i, 8, d->state);
			page_keep(&pg->t, i, 9, d->gateway_id);
			page_keep(&pg->t, i, 10, d->last_error);
			last = d->id;
		}
		if (rc != SQLITE_DONE) {
			rv = store_err(s, rc, "chain reached", eb);
			break;
		}
		sqlite3_reset(st);	/* no statement open in the callbacks */
		if (pg->t.b.oom) {
			rv = eng_error(eb, ENG_ENOMEM, "chain reached: out "
			    "of memory");
			break;
		}
		more = pg->n == PAGE_ROWS;
		for (i = 0; i < pg->n && rv == 0; i++) {
			d = &pg->d[i];
			d->kind = page_str(&pg->t, i, 0);
			d->channel = page_str(&pg->t, i, 1);
			d->recipient = page_str(&pg->t, i, 2);
			d->responder_id = page_str(&pg->t, i, 3);
			d->device_id = page_str(&pg->t, i, 4);
			d->region = page_str(&pg->t, i, 5);
			d->address = page_str(&pg->t, i, 6);
			d->role = page_str(&pg->t, i, 7);
			d->state = page_str(&pg->t, i, 8);
			d->gateway_id = page_str(&pg->t, i, 9);
			d->last_error = page_str(&pg->t, i, 10);
			rv = cb(arg, d);
		}
	}
	sqlite3_finalize(st);
	return rv;
}

int
store_chain_reached(struct store *s, long long chain_id, long long except,
    store_delivery_cb cb, void *arg, struct eng_errbuf *eb)
{
	struct delivery_page *pg = NULL;
	long long *ids = NULL, *nids;
	size_t n = 0, a = 0, i;
	sqlite3_stmt *st;
	int rv, rc;

	/* The chain's other alerts first (a handful): no statement stays
	 * open while their rows are walked. */
	if ((rv = store_prepare(s, "SELECT id FROM alerts WHERE chain_id = ?1 "
	    "AND id != ?2 ORDER BY id", &st, eb)) != 0)
		return rv;
	sqlite3_bind_int64(st, 1, chain_id);
	sqlite3_bind_int64(st, 2, except);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == a) {
			a = a ? 2 * a : 8;
			if ((nids = realloc(ids, a * sizeof(*ids))) == NULL) {
				rv = eng_error(eb, ENG_ENOMEM, "chain "
				    "reached: out of memory");
				break;
			}
			ids = nids;
		}
		ids[n++] = sqlite3_column_int64(st, 0);
	}
	if (rv == 0 && rc != SQLITE_DONE)
		rv = store_err(s, rc, "chain reached", eb);
	sqlite3_finalize(st);
	if (rv == 0 && n > 0 && (pg = calloc(1, sizeof(*pg))) == NULL)
		rv = eng_error(eb, ENG_ENOMEM, "chain reached: out of memory");
	for (i = 0; i < n && rv == 0; i++)
		rv = alert_reached(s, ids[i], pg, cb, arg, eb);
	if (pg != NULL)
		strbuf_release(&pg->t.b);
	free(pg);
	free(ids);
	return rv;
}

int
store_delivery_by_gateway(struct store *s, const char *channel,
    const char *gateway_id, long long *id, struct eng_errbuf *eb)
{
	sqlite3_stmt *st = NULL;
	int rv, rc;

	*id = 0;
	if ((rv = store_prepare(s, "SELECT id FROM deliveries WHERE "
	    "gateway_id = ? AND channel = ? ORDER BY id DESC LIMIT 1", &st,
	    eb)) != 0)
		return rv;
	store_bind_str(st, 1, gateway_id);
	store_bind_str(st, 2, channel);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*id = sqlite3_column_int64(st, 0);
	else if (rc == SQLITE_DONE)
		rv = ENG_ENOENT;
	else
		rv = store_err(s, rc, "delivery by gateway id", eb);
	sqlite3_finalize(st);
	return rv;
}
