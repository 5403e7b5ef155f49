/*
 * engine/store_report.c - the reads behind the reports of answers
 * (叫应率, engine/report.h): the targeted people of an alert with what
 * happened to them, the regions above them, the unanswered list with
 * the last attempt, and the gauges of /metrics.
 *
 * Targeted people are the rows of table escalations (migration 7).
 * Each read is one statement (plus the alert's row), whatever the
 * number of people: answers and deliveries are grouped per person in
 * subqueries joined once, never looked up person by person.
 */
#include "engine/store_int.h"

#include <stdio.h>
#include <string.h>

/* The alert's row; ENG_ENOENT if unknown. */
static int
read_alert(struct store *s, long long id, const struct store_report_sink *k,
    struct eng_errbuf *eb)
{
	struct store_report_alert a;
	sqlite3_stmt *st = NULL;
	int rv, rc;

	if ((rv = store_prepare(s, "SELECT state, event, headline, escalated "
	    "FROM alerts WHERE id = ?1", &st, eb)) != 0)
		return rv;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (k != NULL && k->alert != NULL) {
			memset(&a, 0, sizeof(a));
			a.id = id;
			a.state = store_col_text(st, 0);
			a.event = store_col_text(st, 1);
			a.headline = store_col_text(st, 2);
			a.escalated = sqlite3_column_int(st, 3);
			rv = k->alert(k->arg, &a);
		}
	} else if (rc == SQLITE_DONE) {
		rv = eng_error(eb, ENG_ENOENT, "alert %lld not found", id);
	} else {
		rv = store_err(s, rc, "report alert", eb);
	}
	sqlite3_finalize(st);
	return rv;
}

static int
read_people(struct store *s, long long id, const struct store_report_sink *k,
    struct eng_errbuf *eb)
{
	struct store_report_person p;
	sqlite3_stmt *st = NULL;
	int rv, rc;

	if ((rv = store_prepare(s,
	    "SELECT e.responder_id, e.region, g.path, g.level, e.state, "
	    "e.base_ms, x.first_ms, x.all_late, d.delivered, d.n, d.failed "
	    "FROM escalations e JOIN regions g ON g.code = e.region "
	    "LEFT JOIN (SELECT responder_id, min(received_ms) AS first_ms, "
	    "min(late) AS all_late FROM answers WHERE alert_id = ?1 "
	    "GROUP BY responder_id) x ON x.responder_id = e.responder_id "
	    "LEFT JOIN (SELECT responder_id, max(state = 'delivered') AS "
	    "delivered, count(*) AS n, sum(state IN ('failed', 'dead', "
	    "'cancelled')) AS failed FROM deliveries WHERE alert_id = ?1 AND "
	    "responder_id IS NOT NULL GROUP BY responder_id) d "
	    "ON d.responder_id = e.responder_id "
	    "WHERE e.alert_id = ?1 ORDER BY g.path, e.responder_id",
	    &st, eb)) != 0)
		return rv;
	sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&p, 0, sizeof(p));
		p.responder_id = store_col_text(st, 0);
		p.region = store_col_text(st, 1);
		p.path = store_col_text(st, 2);
		p.level = (enum region_level)sqlite3_column_int(st, 3);
		p.esc_state = store_col_text(st, 4);
		p.base_ms = sqlite3_column_int64(st, 5);
		if (sqlite3_column_type(st, 6) != SQLITE_NULL) {
			p.answered = 1;
			p.first_answer_ms = sqlite3_column_int64(st, 6);
			p.late = sqlite3_column_int(st, 7) != 0;
		}
		p.delivered = sqlite3_column_int(st, 8) != 0;
		p.deliveries = sqlite3_column_int64(st, 9);
		p.failed = sqlite3_column_int64(st, 10);
		if ((rv = k->person(k->arg, &p)) != 0)
			break;
	}
	if (rv == 0 && rc != SQLITE_DONE)
		rv = store_err(s, rc, "report people", eb);
	sqlite3_finalize(st);
	return rv;
}

static int
read_regions(struct store *s, long long id, const struct store_report_sink *k,
    struct eng_errbuf *eb)
{
	struct store_report_region r;
	sqlite3_stmt *st = NULL;
	const char *p;
	int rv, rc;

	/* UNION (not UNION ALL) walks each ancestor once however many
	 * people are under it; the walk stops at the deployment root. */
	if ((rv = store_prepare(s,
	    "WITH RECURSIVE anc(code) AS (SELECT DISTINCT region FROM "
	    "escalations WHERE alert_id = ?1 UNION SELECT g.parent FROM "
	    "regions g JOIN anc ON g.code = anc.code WHERE g.parent IS NOT "
	    "NULL AND g.parent <> '' AND anc.code <> ?2) "
	    "SELECT g.code, g.name, g.level, g.parent, g.path FROM anc "
	    "JOIN regions g ON g.code = anc.code ORDER BY g.path",
	    &st, eb)) != 0)
		return rv;
	sqlite3_bind_int64(st, 1, id);
	store_bind_str(st, 2, s->root);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&r, 0, sizeof(r));
		r.code = store_col_text(st, 0);
		r.name = store_col_text(st, 1);
		r.level = (enum region_level)sqlite3_column_int(st, 2);
		p = store_col_text(st, 3);
		r.parent = p != NULL ? p : "";
		r.path = store_col_text(st, 4);
		if ((rv = k->region(k->arg, &r)) != 0)
			break;
	}
	if (rv == 0 && rc != SQLITE_DONE)
		rv = store_err(s, rc, "report regions", eb);
	sqlite3_finalize(st);
	return rv;
}

int
store_report_read(struct store *s, long long alert_id,
    const struct store_report_sink *k, struct eng_errbuf *eb)
{
	int rv, txn = 0;

	/* One snapshot for the three reads (a deferred transaction takes
	 * no write lock). */
	if (sqlite3_get_autocommit(s->db)) {
		if ((rv = store_exec(s, "BEGIN", eb)) != 0)
			return rv;
		txn = 1;
	}
	if ((rv = read_alert(s, alert_id, k, eb)) != 0)
		goto out;
	if (k != NULL && k->person != NULL &&
	    (rv = read_people(s, alert_id, k, eb)) != 0)
		goto out;
	if (k != NULL && k->region != NULL)
		rv = read_regions(s, alert_id, k, eb);
out:
	if (txn && store_exec(s, rv == 0 ? "COMMIT" : "ROLLBACK",
	    rv == 0 ? eb : NULL) != 0 && rv == 0)
		rv = ENG_EIO;
	return rv;
}

int
store_unanswered_list(struct store *s, long long alert_id, long long limit,
    long long offset, store_unanswered_cb cb, void *arg, long long *total,
    struct eng_errbuf *eb)
{
	struct store_unanswered u;
	sqlite3_stmt *st = NULL;
	long long n = 0;
	int rv, rc, txn = 0;

	if (total != NULL)
		*total = 0;
	if (sqlite3_get_autocommit(s->db)) {
		if ((rv = store_exec(s, "BEGIN", eb)) != 0)
			return rv;
		txn = 1;
	}
	if ((rv = read_alert(s, alert_id, NULL, eb)) != 0)
		goto out;
	/* The last attempt: the person's delivery of the alert updated
	 * last (then the highest id), grouped once over the alert's
	 * deliveries, not looked up per person; SQLite takes the bare
	 * columns of a max() aggregate from the row with the max.  (A
	 * window function here left the join without an automatic index
	 * and scanned the whole subquery per person: minutes at 100,000
	 * people.) */
	if ((rv = store_prepare(s,
	    "SELECT e.responder_id, r.name, r.role, r.phone, e.region, "
	    "g.name, g.level, e.state, e.step, d.channel, d.state, "
	    "d.updated_ms, d.last_error, d.attempts, count(*) OVER () "
	    "FROM escalations e "
	    "LEFT JOIN responders r ON r.id = e.responder_id "
	    "LEFT JOIN regions g ON g.code = e.region "
	    "LEFT JOIN (SELECT responder_id, channel, state, updated_ms, "
	    "last_error, attempts, max(printf('%016x%016x', updated_ms, id)) "
	    "FROM deliveries WHERE alert_id = ?1 AND responder_id IS NOT NULL "
	    "GROUP BY responder_id) d ON d.responder_id = e.responder_id "
	    "WHERE e.alert_id = ?1 AND NOT EXISTS (SELECT 1 FROM answers a "
	    "WHERE a.alert_id = ?1 AND a.responder_id = e.responder_id) "
	    "ORDER BY g.path, e.responder_id LIMIT ?2 OFFSET ?3",
	    &st, eb)) != 0)
		goto out;
	sqlite3_bind_int64(st, 1, alert_id);
	sqlite3_bind_int64(st, 2, limit < 0 ? -1 : limit);
	sqlite3_bind_int64(st, 3, offset < 0 ? 0 : offset);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&u, 0, sizeof(u));
		u.responder_id = store_col_text(st, 0);
		u.name = store_col_text(st, 1);
		u.role = store_col_text(st, 2);
		u.phone = store_col_text(st, 3);
		u.region = store_col_text(st, 4);
		u.region_name = store_col_text(st, 5);
		u.level = (enum region_level)sqlite3_column_int(st, 6);
		u.esc_state = store_col_text(st, 7);
		u.step = sqlite3_column_int(st, 8);
		u.channel = store_col_text(st, 9);
		u.state = store_col_text(st, 10);
		u.at_ms = sqlite3_column_int64(st, 11);
		u.last_error = store_col_text(st, 12);
		u.attempts = sqlite3_column_int(st, 13);
		n = sqlite3_column_int64(st, 14);
		if (cb != NULL && (rv = cb(arg, &u)) != 0)
			break;
	}
	if (rv == 0 && rc != SQLITE_DONE)
		rv = store_err(s, rc, "unanswered", eb);
	sqlite3_finalize(st);
	st = NULL;
	if (rv != 0 || total == NULL)
		goto out;
	if (n == 0 && offset > 0) {
		/* Past the end: the window saw no row; count apart. */
		if ((rv = store_prepare(s, "SELECT count(*) FROM escalations e "
		    "WHERE e.alert_id = ?1 AND NOT EXISTS (SELECT 1 FROM "
		    "answers a WHERE a.alert_id = ?1 AND a.responder_id = "
		    "e.responder_id)", &st, eb)) != 0)
			goto out;
		sqlite3_bind_int64(st, 1, alert_id);
		if ((rc = sqlite3_step(st)) == SQLITE_ROW)
			n = sqlite3_column_int64(st, 0);
		else
			rv = store_err(s, rc, "unanswered count", eb);
		sqlite3_finalize(st);
	}
	*total = n;
out:
	if (txn && store_exec(s, rv == 0 ? "COMMIT" : "ROLLBACK",
	    rv == 0 ? eb : NULL) != 0 && rv == 0)
		rv = ENG_EIO;
	return rv;
}

int
store_answer_gauges(struct store *s, int64_t now_ms, long long limit,
    store_answer_gauge_cb cb, void *arg, struct eng_errbuf *eb)
{
	sqlite3_stmt *st = NULL;
	int rv, rc;

	if ((rv = store_prepare(s,
	    "SELECT a.id, (SELECT count(*) FROM escalations e WHERE "
	    "e.alert_id = a.id), (SELECT count(*) FROM escalations e WHERE "
	    "e.alert_id = a.id AND EXISTS (SELECT 1 FROM answers x WHERE "
	    "x.alert_id = a.id AND x.responder_id = e.responder_id)) "
	    "FROM alerts a WHERE a.state = 'active' AND (a.expires_ms IS "
	    "NULL OR a.expires_ms = 0 OR a.expires_ms > ?1) AND EXISTS "
	    "(SELECT 1 FROM escalations e WHERE e.alert_id = a.id) "
	    "ORDER BY a.id DESC LIMIT ?2", &st, eb)) != 0)
		return rv;
	sqlite3_bind_int64(st, 1, now_ms);
	sqlite3_bind_int64(st, 2, limit < 0 ? -1 : limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((rv = cb(arg, sqlite3_column_int64(st, 0),
		    sqlite3_column_int64(st, 1),
		    sqlite3_column_int64(st, 2))) != 0)
			break;
	}
	if (rv == 0 && rc != SQLITE_DONE)
		rv = store_err(s, rc, "answer gauges", eb);
	sqlite3_finalize(st);
	return rv;
}

int
store_answer_path_counts(struct store *s, store_path_count_cb cb, void *arg,
    struct eng_errbuf *eb)
{
	sqlite3_stmt *st = NULL;
	int rv, rc;

	if ((rv = store_prepare(s, "SELECT path, count(*) FROM answers "
	    "GROUP BY path ORDER BY path", &st, eb)) != 0)
		return rv;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((rv = cb(arg, store_col_text(st, 0),
		    sqlite3_column_int64(st, 1))) != 0)
			break;
	}
	if (rv == 0 && rc != SQLITE_DONE)
		rv = store_err(s, rc, "answer paths", eb);
	sqlite3_finalize(st);
	return rv;
}
