/*
 * engine/store_alert.c - alerts as stored: identity, lineage, targets.
 */
#include "engine/store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
run_cached(struct store *s, int slot, const char *sql, struct eng_errbuf *eb)
{
	sqlite3_stmt *st;
	int rv, rc;

	if ((rv = store_cached(s, slot, sql, &st, eb)) != 0)
		return rv;
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : store_err(s, rc, sql, eb);
}

int
store_begin(struct store *s, struct eng_errbuf *eb)
{
	int rv;

	if ((rv = store_turn_take(s, STORE_WAIT_MS)) != 0)
		return eng_error(eb, rv, "%s: waited %d s for the write lock",
		    s->path, STORE_WAIT_MS / 1000);
	store_before_begin(s);
	rv = run_cached(s, STORE_ST_BEGIN, "BEGIN IMMEDIATE", eb);
	store_turn_settle(s);	/* a BEGIN that failed: the next one's */
	return rv;
}

int
store_commit(struct store *s, struct eng_errbuf *eb)
{
	int rv = run_cached(s, STORE_ST_COMMIT, "COMMIT", eb);

	store_turn_settle(s);
	if (rv == 0)
		store_after_commit(s);
	return rv;
}

void
store_rollback(struct store *s)
{
	(void)store_exec(s, "ROLLBACK", NULL);
	store_turn_settle(s);
}

int
store_savepoint(struct store *s, struct eng_errbuf *eb)
{
	return run_cached(s, STORE_ST_SAVEPOINT, "SAVEPOINT part", eb);
}

int
store_release(struct store *s, struct eng_errbuf *eb)
{
	return run_cached(s, STORE_ST_RELEASE, "RELEASE part", eb);
}

void
store_rollback_savepoint(struct store *s)
{
	(void)store_exec(s, "ROLLBACK TO part; RELEASE part", NULL);
}

static void
bind_ms(sqlite3_stmt *st, int i, int64_t v)
{
	if (v == 0)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_int64(st, i, v);
}

int
store_alert_find(struct store *s, const char *sender, const char *identifier,
    int64_t sent_ms, long long *id, long long *chain_id, char *state,
    size_t state_size, struct eng_errbuf *eb)
{
	sqlite3_stmt *st;
	int rv, rc;

	if ((rv = store_cached(s, STORE_ST_ALERT_FIND, "SELECT id, chain_id, state FROM alerts "
	    "WHERE sender = ? AND identifier = ? AND sent_ms = ?", &st,
	    eb)) != 0)
		return rv;
	store_bind_str(st, 1, sender);
	store_bind_str(st, 2, identifier);
	sqlite3_bind_int64(st, 3, sent_ms);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		if (chain_id != NULL)
			*chain_id = sqlite3_column_int64(st, 1);
		if (state != NULL)
			(void)snprintf(state, state_size, "%s",
			    (const char *)sqlite3_column_text(st, 2));
	} else if (rc == SQLITE_DONE) {
		rv = ENG_ENOENT;
	} else {
		rv = store_err(s, rc, "alert find", eb);
	}
	sqlite3_reset(st);
	return rv;
}

int
store_alert_insert(struct store *s, const struct store_alert *a,
    long long *id, struct eng_errbuf *eb)
{
	sqlite3_stmt *st;
	int rv, rc;

	if ((rv = store_cached(s, STORE_ST_ALERT_INSERT, "INSERT INTO alerts (sender, identifier, "
	    "sent, sent_ms, status, msg_type, scope, event, headline, "
	    "severity, urgency, certainty, language, colour, effective_ms, "
	    "onset_ms, expires_ms, received_ms, source, via, state, "
	    "broadcast, superseded_by, chain_id, area_unmatched, nregions, "
	    "warnings, cap) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,"
	    "?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,NULL,"
	    "coalesce(?23, (SELECT coalesce(max(id), 0) + 1 FROM alerts)),"
	    "?24,?25,?26,?27)", &st, eb)) != 0)
		return rv;
	store_bind_str(st, 1, a->sender);
	store_bind_str(st, 2, a->identifier);
	store_bind_str(st, 3, a->sent);
	sqlite3_bind_int64(st, 4, a->sent_ms);
	store_bind_str(st, 5, a->status);
	store_bind_str(st, 6, a->msg_type);
	store_bind_str(st, 7, a->scope);
	store_bind_str(st, 8, a->event);
	store_bind_str(st, 9, a->headline);
	store_bind_str(st, 10, a->severity);
	store_bind_str(st, 11, a->urgency);
	store_bind_str(st, 12, a->certainty);
	store_bind_str(st, 13, a->language);
	sqlite3_bind_int(st, 14, a->colour);
	bind_ms(st, 15, a->effective_ms);
	bind_ms(st, 16, a->onset_ms);
	bind_ms(st, 17, a->expires_ms);
	sqlite3_bind_int64(st, 18, a->received_ms);
	store_bind_str(st, 19, a->source);
	store_bind_str(st, 20, a->via);
	store_bind_str(st, 21, a->state);
	sqlite3_bind_int(st, 22, a->broadcast != 0);
	/* Its own chain (the id it is about to get: ids are max + 1, and
	 * the caller holds the write transaction) unless told otherwise. */
	if (a->chain_id > 0)
		sqlite3_bind_int64(st, 23, a->chain_id);
	else
		sqlite3_bind_null(st, 23);
	sqlite3_bind_int(st, 24, a->area_unmatched != 0);
	sqlite3_bind_int64(st, 25, a->nregions);
	store_bind_str(st, 26, a->warnings);
	sqlite3_bind_blob(st, 27, a->cap, (int)a->cap_len, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_CONSTRAINT_UNIQUE)
		return eng_error(eb, ENG_EEXIST, "alert %s/%s/%s exists",
		    a->sender, a->identifier, a->sent);
	if (rc != SQLITE_DONE)
		return store_err(s, rc, "alert insert", eb);
	*id = sqlite3_last_insert_rowid(s->db);
	return 0;
}

int
store_alert_add_ref(struct store *s, long long id, const char *sender,
    const char *identifier, const char *sent, int64_t sent_ms,
    long long target, struct eng_errbuf *eb)
{
	sqlite3_stmt *st;
	int rv;

	if ((rv = store_cached(s, STORE_ST_ALERT_ADD_REF, "INSERT OR IGNORE INTO alert_refs "
	    "(alert_id, ref_sender, ref_identifier, ref_sent, ref_sent_ms, "
	    "ref_alert_id) VALUES (?,?,?,?,?,?)", &st, eb)) != 0)
		return rv;
	sqlite3_bind_int64(st, 1, id);
	store_bind_str(st, 2, sender);
	store_bind_str(st, 3, identifier);
	store_bind_str(st, 4, sent);
	sqlite3_bind_int64(st, 5, sent_ms);
	store_bind_pos(st, 6, target);
	return store_step_done(s, st, 1, "alert reference", eb);
}

int
store_alert_link_referrers(struct store *s, const char *sender,
    const char *identifier, int64_t sent_ms, long long target,
    store_referrer_cb cb, void *arg, struct eng_errbuf *eb)
{
	sqlite3_stmt *st;
	int rv, rc, found = 0;

	if ((rv = store_cached(s, STORE_ST_REFERRERS, "SELECT a.id, a.msg_type, a.chain_id "
	    "FROM alert_refs r JOIN alerts a ON a.id = r.alert_id "
	    "WHERE r.ref_sender = ? AND r.ref_identifier = ? AND "
	    "r.ref_sent_ms = ? AND r.ref_alert_id IS NULL AND a.id != ? "
	    "ORDER BY a.id", &st, eb)) != 0)
		return rv;
	store_bind_str(st, 1, sender);
	store_bind_str(st, 2, identifier);
	sqlite3_bind_int64(st, 3, sent_ms);
	sqlite3_bind_int64(st, 4, target);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		found++;
		if ((rv = cb(arg, sqlite3_column_int64(st, 0),
		    (const char *)sqlite3_column_text(st, 1),
		    sqlite3_column_int64(st, 2))) != 0)
			break;
	}
	if (rv == 0 && rc != SQLITE_DONE)
		rv = store_err(s, rc, "referrers", eb);
	sqlite3_reset(st);
	if (rv != 0 || found == 0)
		return rv;
	if ((rv = store_cached(s, STORE_ST_REFERRERS_LINK, "UPDATE alert_refs "
	    "SET ref_alert_id = ? "
	    "WHERE ref_sender = ? AND ref_identifier = ? AND ref_sent_ms = ? "
	    "AND ref_alert_id IS NULL AND alert_id != ?", &st, eb)) != 0)
		return rv;
	sqlite3_bind_int64(st, 1, target);
	store_bind_str(st, 2, sender);
	store_bind_str(st, 3, identifier);
	sqlite3_bind_int64(st, 4, sent_ms);
	sqlite3_bind_int64(st, 5, target);
	return store_step_done(s, st, 1, "link referrers", eb);
}

int
store_alert_set_state(struct store *s, long long id, const char *state,
    int broadcast, long long superseded_by, struct eng_errbuf *eb)
{
	sqlite3_stmt *st;
	int rv;

	if ((rv = store_cached(s, STORE_ST_ALERT_STATE, "UPDATE alerts SET state = ?, "
	    "broadcast = ?, superseded_by = coalesce(?, superseded_by) "
	    "WHERE id = ?", &st, eb)) != 0)
		return rv;
	store_bind_str(st, 1, state);
	sqlite3_bind_int(st, 2, broadcast != 0);
	store_bind_pos(st, 3, superseded_by);
	sqlite3_bind_int64(st, 4, id);
	return store_step_done(s, st, 1, "alert state", eb);
}

int
store_alert_merge_chain(struct store *s, long long from, long long to,
    struct eng_errbuf *eb)
{
	sqlite3_stmt *st;
	int rv;

	if (from == to)
		return 0;
	if ((rv = store_cached(s, STORE_ST_CHAIN_MERGE, "UPDATE alerts SET chain_id = ? "
	    "WHERE chain_id = ?", &st, eb)) != 0)
		return rv;
	sqlite3_bind_int64(st, 1, to);
	sqlite3_bind_int64(st, 2, from);
	return store_step_done(s, st, 1, "chain merge", eb);
}

int
store_alert_add_region(struct store *s, long long id, const char *code,
    const char *how, struct eng_errbuf *eb)
{
	sqlite3_stmt *st;
	int rv;

	if ((rv = store_cached(s, STORE_ST_ALERT_REGION, "INSERT OR IGNORE INTO alert_regions "
	    "(alert_id, region, how) VALUES (?,?,?)", &st, eb)) != 0)
		return rv;
	sqlite3_bind_int64(st, 1, id);
	store_bind_str(st, 2, code);
	store_bind_str(st, 3, how);
	return store_step_done(s, st, 1, "alert region", eb);
}

int
store_leaf_regions_in_box(struct store *s, double lat_min, double lat_max,
    double lon_min, double lon_max, store_point_cb cb, void *arg,
    struct eng_errbuf *eb)
{
	sqlite3_stmt *st;
	int rv, rc;

	if ((rv = store_cached(s, STORE_ST_LEAVES_IN_BOX, "SELECT g.code, g.lat, g.lon FROM "
	    "regions g WHERE g.lat BETWEEN ? AND ? AND g.lon BETWEEN ? AND ? "
	    "AND NOT EXISTS (SELECT 1 FROM regions c WHERE c.parent = g.code) "
	    "ORDER BY g.code", &st, eb)) != 0)
		return rv;
	sqlite3_bind_double(st, 1, lat_min);
	sqlite3_bind_double(st, 2, lat_max);
	sqlite3_bind_double(st, 3, lon_min);
	sqlite3_bind_double(st, 4, lon_max);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((rv = cb(arg, (const char *)sqlite3_column_text(st, 0),
		    sqlite3_column_double(st, 1),
		    sqlite3_column_double(st, 2))) != 0)
			break;
	if (rv == 0 && rc != SQLITE_DONE)
		rv = store_err(s, rc, "regions in box", eb);
	sqlite3_reset(st);
	return rv;
}

int
store_regions_box(struct store *s, double *lat_min, double *lat_max,
    double *lon_min, double *lon_max, struct eng_errbuf *eb)
{
	sqlite3_stmt *st;
	int rv, rc;

	if ((rv = store_prepare(s, "SELECT min(lat), max(lat), min(lon), "
	    "max(lon) FROM regions WHERE lat IS NOT NULL AND lon IS NOT NULL",
	    &st, eb)) != 0)
		return rv;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		*lat_min = sqlite3_column_double(st, 0);
		*lat_max = sqlite3_column_double(st, 1);
		*lon_min = sqlite3_column_double(st, 2);
		*lon_max = sqlite3_column_double(st, 3);
	} else if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
		rv = ENG_ENOENT;
	} else {
		rv = store_err(s, rc, "regions box", eb);
	}
	sqlite3_finalize(st);
	return rv;
}

int
store_region_within(struct store *s, const char *code, const char *anc,
    struct eng_errbuf *eb)
{
	sqlite3_stmt *st;
	int rv, rc;

	if ((rv = store_cached(s, STORE_ST_REGION_WITHIN, "SELECT substr(c.path, 1, length(a.path)) "
	    "= a.path FROM regions c, regions a WHERE c.code = ? AND "
	    "a.code = ?", &st, eb)) != 0)
		return rv;
	store_bind_str(st, 1, code);
	store_bind_str(st, 2, anc);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		rv = sqlite3_column_int(st, 0) ? 1 : 0;
	else if (rc == SQLITE_DONE)
		rv = 0;
	else
		rv = store_err(s, rc, "region within", eb);
	sqlite3_reset(st);
	return rv;
}

#define ALERT_COLS "a.id, a.sender, a.identifier, a.sent, a.sent_ms, " \
	"a.status, a.msg_type, a.scope, a.event, a.headline, a.severity, " \
	"a.urgency, a.certainty, a.language, a.colour, a.effective_ms, " \
	"a.onset_ms, a.expires_ms, a.received_ms, a.source, a.via, " \
	"a.state, a.broadcast, a.superseded_by, a.chain_id, " \
	"a.area_unmatched, a.nregions, a.warnings"

static void
alert_from_row(sqlite3_stmt *st, struct store_alert *a, int with_cap)
{
	memset(a, 0, sizeof(*a));
	a->id = sqlite3_column_int64(st, 0);
	a->sender = store_col_text(st, 1);
	a->identifier = store_col_text(st, 2);
	a->sent = store_col_text(st, 3);
	a->sent_ms = sqlite3_column_int64(st, 4);
	a->status = store_col_text(st, 5);
	a->msg_type = store_col_text(st, 6);
	a->scope = store_col_text(st, 7);
	a->event = store_col_text(st, 8);
	a->headline = store_col_text(st, 9);
	a->severity = store_col_text(st, 10);
	a->urgency = store_col_text(st, 11);
	a->certainty = store_col_text(st, 12);
	a->language = store_col_text(st, 13);
	a->colour = sqlite3_column_int(st, 14);
	a->effective_ms = sqlite3_column_int64(st, 15);
	a->onset_ms = sqlite3_column_int64(st, 16);
	a->expires_ms = sqlite3_column_int64(st, 17);
	a->received_ms = sqlite3_column_int64(st, 18);
	a->source = store_col_text(st, 19);
	a->via = store_col_text(st, 20);
	a->state = store_col_text(st, 21);
	a->broadcast = sqlite3_column_int(st, 22);
	a->superseded_by = sqlite3_column_int64(st, 23);
	a->chain_id = sqlite3_column_int64(st, 24);
	a->area_unmatched = sqlite3_column_int(st, 25);
	a->nregions = sqlite3_column_int64(st, 26);
	a->warnings = store_col_text(st, 27);
	if (with_cap) {
		a->cap = sqlite3_column_blob(st, 28);
		a->cap_len = (size_t)sqlite3_column_bytes(st, 28);
	}
}

static int
walk_alerts(struct store *s, sqlite3_stmt *st, int with_cap,
    store_alert_cb cb, void *arg, long long *n, struct eng_errbuf *eb)
{
	struct store_alert a;
	int rc, rv = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		alert_from_row(st, &a, with_cap);
		if (n != NULL)
			(*n)++;
		if ((rv = cb(arg, &a)) != 0)
			return rv;
	}
	if (rc != SQLITE_DONE)
		return store_err(s, rc, "alerts", eb);
	return 0;
}

int
store_alerts_list(struct store *s, const struct store_alert_filter *f,
    long long limit, long long offset, store_alert_cb cb, void *arg,
    long long *total, struct eng_errbuf *eb)
{
	static const char where[] =
	    " WHERE (?1 IS NULL OR a.status = ?1)"
	    " AND (?2 IS NULL OR a.severity = ?2)"
	    " AND (?3 = 0 OR (a.state = 'active' AND (a.expires_ms IS NULL"
	    "  OR a.expires_ms > ?4)))"
	    " AND (?5 IS NULL OR EXISTS (SELECT 1 FROM alert_regions t"
	    "  JOIN regions g ON g.code = t.region, regions q"
	    "  WHERE t.alert_id = a.id AND q.code = ?5 AND"
	    "  (substr(g.path, 1, length(q.path)) = q.path OR"
	    "   substr(q.path, 1, length(g.path)) = g.path)))";
	char sql[1024];
	sqlite3_stmt *st;
	int rv, rc, pass;

	for (pass = 0; pass < 2; pass++) {
		if (pass == 0 && total == NULL)
			continue;
		if (pass == 0)
			(void)snprintf(sql, sizeof(sql), "SELECT count(*) FROM "
			    "alerts a%s", where);
		else
			(void)snprintf(sql, sizeof(sql), "SELECT " ALERT_COLS
			    " FROM alerts a%s ORDER BY a.id DESC "
			    "LIMIT ?6 OFFSET ?7", where);
		if ((rv = store_prepare(s, sql, &st, eb)) != 0)
			return rv;
		store_bind_str(st, 1, f->status);
		store_bind_str(st, 2, f->severity);
		sqlite3_bind_int(st, 3, f->active_only != 0);
		sqlite3_bind_int64(st, 4, f->now_ms);
		store_bind_str(st, 5, f->region);
		if (pass == 0) {
			rc = sqlite3_step(st);
			if (rc == SQLITE_ROW)
				*total = sqlite3_column_int64(st, 0);
			else
				rv = store_err(s, rc, "alerts count", eb);
		} else {
			sqlite3_bind_int64(st, 6, limit < 0 ? -1 : limit);
			sqlite3_bind_int64(st, 7, offset < 0 ? 0 : offset);
			rv = walk_alerts(s, st, 0, cb, arg, NULL, eb);
		}
		sqlite3_finalize(st);
		if (rv != 0)
			return rv;
	}
	return 0;
}

int
store_alert_get(struct store *s, long long id, store_alert_cb cb, void *arg,
    struct eng_errbuf *eb)
{
	sqlite3_stmt *st;
	long long n = 0;
	int rv;

	if ((rv = store_prepare(s, "SELECT " ALERT_COLS ", a.cap FROM "
	    "alerts a WHERE a.id = ?", &st, eb)) != 0)
		return rv;
	sqlite3_bind_int64(st, 1, id);
	rv = walk_alerts(s, st, 1, cb, arg, &n, eb);
	sqlite3_finalize(st);
	if (rv == 0 && n == 0)
		rv = eng_error(eb, ENG_ENOENT, "alert %lld not found", id);
	return rv;
}

int
store_alert_state(struct store *s, long long id, char *state, size_t size,
    struct eng_errbuf *eb)
{
	sqlite3_stmt *st;
	int rv, rc;

	/* Cached: the dispatcher asks in every round that has reports. */
	if ((rv = store_cached(s, STORE_ST_ALERT_STATE_GET, "SELECT state "
	    "FROM alerts WHERE id = ?", &st, eb)) != 0)
		return rv;
	sqlite3_bind_int64(st, 1, id);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		(void)snprintf(state, size, "%s", store_col_text(st, 0) ?
		    store_col_text(st, 0) : "");
	else if (rc == SQLITE_DONE)
		rv = eng_error(eb, ENG_ENOENT, "alert %lld not found", id);
	else
		rv = store_err(s, rc, "alert state", eb);
	sqlite3_reset(st);
	return rv;
}

int
store_alert_chain(struct store *s, long long chain_id, store_alert_cb cb,
    void *arg, struct eng_errbuf *eb)
{
	sqlite3_stmt *st;
	int rv;

	/* Cached: every Update and Cancel stored walks its chain.  (Not
	 * re-entrant: a callback must not walk a chain itself.) */
	if ((rv = store_cached(s, STORE_ST_ALERT_CHAIN, "SELECT " ALERT_COLS
	    " FROM alerts a WHERE a.chain_id = ? ORDER BY a.sent_ms, a.id",
	    &st, eb)) != 0)
		return rv;
	sqlite3_bind_int64(st, 1, chain_id);
	rv = walk_alerts(s, st, 0, cb, arg, NULL, eb);
	sqlite3_reset(st);
	return rv;
}

int
store_alert_refs(struct store *s, long long id, store_ref_cb cb, void *arg,
    struct eng_errbuf *eb)
{
	sqlite3_stmt *st;
	int rv = 0, rc;

	if ((rv = store_prepare(s, "SELECT ref_sender, ref_identifier, "
	    "ref_sent, coalesce(ref_alert_id, 0) FROM alert_refs WHERE "
	    "alert_id = ? ORDER BY ref_sent_ms, ref_alert_id IS NULL, "
	    "ref_alert_id, ref_identifier", &st, eb)) != 0)
		return rv;
	sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((rv = cb(arg, store_col_text(st, 0), store_col_text(st, 1), store_col_text(st, 2),
		    sqlite3_column_int64(st, 3))) != 0)
			break;
	if (rv == 0 && rc != SQLITE_DONE)
		rv = store_err(s, rc, "alert refs", eb);
	sqlite3_finalize(st);
	return rv;
}

int
store_alert_targets(struct store *s, long long id, store_target_cb cb,
    void *arg, struct eng_errbuf *eb)
{
	sqlite3_stmt *st;
	int rv = 0, rc;

	if ((rv = store_prepare(s, "SELECT t.region, g.name, g.level, t.how "
	    "FROM alert_regions t JOIN regions g ON g.code = t.region "
	    "WHERE t.alert_id = ? ORDER BY g.path", &st, eb)) != 0)
		return rv;
	sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((rv = cb(arg, store_col_text(st, 0), store_col_text(st, 1),
		    sqlite3_column_int(st, 2), store_col_text(st, 3))) != 0)
			break;
	if (rv == 0 && rc != SQLITE_DONE)
		rv = store_err(s, rc, "alert targets", eb);
	sqlite3_finalize(st);
	return rv;
}
