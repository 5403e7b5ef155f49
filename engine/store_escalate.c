/*
 * engine/store_escalate.c - escalation rows (叫应 timers): who must
 * answer an alert, their next step and when.  Schema: migration 7
 * (store_migrate.c); the logic is engine/escalate.c.
 */
#include "engine/store_int.h"

#include <string.h>

int
store_esc_unbuilt(struct store *s, long long limit, store_id_cb cb,
    void *arg, struct eng_errbuf *eb)
{
	sqlite3_stmt *st = NULL;
	int rv, rc;

	/* The partial index alerts_unescalated serves this condition. */
	if ((rv = store_prepare(s, "SELECT id FROM alerts WHERE planned = 1 "
	    "AND escalated = 0 ORDER BY id LIMIT ?", &st, eb)) != 0)
		return rv;
	sqlite3_bind_int64(st, 1, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((rv = cb(arg, sqlite3_column_int64(st, 0))) != 0)
			break;
	if (rv == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
		rv = store_err(s, rc, "alerts to escalate", eb);
	sqlite3_finalize(st);
	return rv;
}

int
store_esc_candidates(struct store *s, long long alert_id,
    store_esc_cand_cb cb, void *arg, struct eng_errbuf *eb)
{
	sqlite3_stmt *st = NULL;
	int rv, rc;

	if ((rv = store_prepare(s, "SELECT responder_id, region, role, "
	    "channel, min(created_ms), min(id) AS first FROM deliveries "
	    "WHERE alert_id = ? AND responder_id IS NOT NULL AND kind IN "
	    "('alert', 'update') GROUP BY responder_id, channel "
	    "ORDER BY first", &st, eb)) != 0)
		return rv;
	sqlite3_bind_int64(st, 1, alert_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((rv = cb(arg, store_col_text(st, 0), store_col_text(st, 1),
		    store_col_text(st, 2), store_col_text(st, 3),
		    sqlite3_column_int64(st, 4))) != 0)
			break;
	if (rv == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
		rv = store_err(s, rc, "people to escalate", eb);
	sqlite3_finalize(st);
	return rv;
}

int
store_esc_open(struct store *s, const struct store_esc *e, int64_t now_ms,
    struct eng_errbuf *eb)
{
	sqlite3_stmt *st = NULL;
	int rv;

	if ((rv = store_prepare(s, "INSERT OR IGNORE INTO escalations "
	    "(alert_id, responder_id, region, channel, base_ms, step, due_ms, "
	    "state, updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?)", &st,
	    eb)) != 0)
		return rv;
	sqlite3_bind_int64(st, 1, e->alert_id);
	store_bind_str(st, 2, e->responder_id);
	store_bind_str(st, 3, e->region);
	store_bind_str(st, 4, e->channel);
	sqlite3_bind_int64(st, 5, e->base_ms);
	sqlite3_bind_int(st, 6, e->step);
	if (e->due_ms > 0)
		sqlite3_bind_int64(st, 7, e->due_ms);
	sqlite3_bind_int64(st, 8, now_ms);
	return store_step_done(s, st, 0, "escalation open", eb);
}

int
store_esc_built(struct store *s, long long alert_id, struct eng_errbuf *eb)
{
	sqlite3_stmt *st = NULL;
	int rv;

	if ((rv = store_prepare(s, "UPDATE alerts SET escalated = 1 WHERE "
	    "id = ?", &st, eb)) != 0)
		return rv;
	sqlite3_bind_int64(st, 1, alert_id);
	return store_step_done(s, st, 0, "escalation built", eb);
}

#define ESC_COLS "e.alert_id, e.responder_id, e.region, e.channel, " \
	"e.base_ms, e.step, coalesce(e.due_ms, 0), e.state"

static void
esc_row(sqlite3_stmt *st, struct store_esc *e, int people)
{
	memset(e, 0, sizeof(*e));
	e->alert_id = sqlite3_column_int64(st, 0);
	e->responder_id = store_col_text(st, 1);
	e->region = store_col_text(st, 2);
	e->channel = store_col_text(st, 3);
	e->base_ms = sqlite3_column_int64(st, 4);
	e->step = sqlite3_column_int(st, 5);
	e->due_ms = sqlite3_column_int64(st, 6);
	e->state = store_col_text(st, 7);
	if (people) {
		e->name = store_col_text(st, 8);
		e->role = store_col_text(st, 9);
		e->phone = store_col_text(st, 10);
	}
}

static int
esc_rows(struct store *s, sqlite3_stmt *st, int people, store_esc_cb cb,
    void *arg, const char *what, struct eng_errbuf *eb)
{
	struct store_esc e;
	int rv = 0, rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		esc_row(st, &e, people);
		if ((rv = cb(arg, &e)) != 0)
			break;
	}
	if (rv == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
		rv = store_err(s, rc, what, eb);
	sqlite3_finalize(st);
	return rv;
}

int
store_esc_due(struct store *s, int64_t now_ms, long long limit,
    store_esc_cb cb, void *arg, struct eng_errbuf *eb)
{
	sqlite3_stmt *st = NULL;
	int rv;

	if ((rv = store_prepare(s, "SELECT " ESC_COLS " FROM escalations e "
	    "WHERE e.state = 'open' AND e.due_ms <= ? ORDER BY e.due_ms "
	    "LIMIT ?", &st, eb)) != 0)
		return rv;
	sqlite3_bind_int64(st, 1, now_ms);
	sqlite3_bind_int64(st, 2, limit);
	return esc_rows(s, st, 0, cb, arg, "escalations due", eb);
}

struct one {
	store_esc_cb cb;
	void *arg;
	int found;
};

static int
one_cb(void *arg, const struct store_esc *e)
{
	struct one *o = arg;

	o->found = 1;
	return o->cb(o->arg, e);
}

int
store_esc_get(struct store *s, long long alert_id, const char *responder_id,
    store_esc_cb cb, void *arg, struct eng_errbuf *eb)
{
	struct one o = { cb, arg, 0 };
	sqlite3_stmt *st = NULL;
	int rv;

	if ((rv = store_prepare(s, "SELECT " ESC_COLS " FROM escalations e "
	    "WHERE e.alert_id = ? AND e.responder_id = ?", &st, eb)) != 0)
		return rv;
	sqlite3_bind_int64(st, 1, alert_id);
	store_bind_str(st, 2, responder_id);
	if ((rv = esc_rows(s, st, 0, one_cb, &o, "escalation", eb)) != 0)
		return rv;
	return o.found ? 0 : ENG_ENOENT;
}

int
store_esc_set(struct store *s, long long alert_id, const char *responder_id,
    int step, int64_t due_ms, const char *state, int64_t now_ms,
    struct eng_errbuf *eb)
{
	sqlite3_stmt *st = NULL;
	int rv;

	if ((rv = store_prepare(s, "UPDATE escalations SET step = ?, "
	    "due_ms = ?, state = ?, updated_ms = ? WHERE alert_id = ? AND "
	    "responder_id = ?", &st, eb)) != 0)
		return rv;
	sqlite3_bind_int(st, 1, step);
	if (due_ms > 0)
		sqlite3_bind_int64(st, 2, due_ms);
	store_bind_str(st, 3, state);
	sqlite3_bind_int64(st, 4, now_ms);
	sqlite3_bind_int64(st, 5, alert_id);
	store_bind_str(st, 6, responder_id);
	return store_step_done(s, st, 0, "escalation set", eb);
}

int
store_esc_region_open(struct store *s, long long alert_id, const char *region,
    int step, store_esc_cb cb, void *arg, struct eng_errbuf *eb)
{
	sqlite3_stmt *st = NULL;
	int rv;

	if ((rv = store_prepare(s, "SELECT " ESC_COLS ", r.name, r.role, "
	    "r.phone FROM escalations e LEFT JOIN responders r ON "
	    "r.id = e.responder_id WHERE e.alert_id = ? AND e.region = ? AND "
	    "e.state = 'open' AND e.step = ? ORDER BY e.responder_id", &st,
	    eb)) != 0)
		return rv;
	sqlite3_bind_int64(st, 1, alert_id);
	store_bind_str(st, 2, region);
	sqlite3_bind_int(st, 3, step);
	return esc_rows(s, st, 1, cb, arg, "region's escalations", eb);
}

static int
count(struct store *s, sqlite3_stmt *st, long long *n, const char *what,
    struct eng_errbuf *eb)
{
	int rc, rv = 0;

	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*n = sqlite3_column_int64(st, 0);
	else
		rv = store_err(s, rc, what, eb);
	sqlite3_finalize(st);
	return rv;
}

int
store_esc_region_answers(struct store *s, long long alert_id,
    const char *region, long long *n, struct eng_errbuf *eb)
{
	sqlite3_stmt *st = NULL;
	int rv;

	*n = 0;
	if ((rv = store_prepare(s, "SELECT count(DISTINCT a.responder_id) "
	    "FROM answers a JOIN responders r ON r.id = a.responder_id "
	    "WHERE a.alert_id = ? AND r.region = ?", &st, eb)) != 0)
		return rv;
	sqlite3_bind_int64(st, 1, alert_id);
	store_bind_str(st, 2, region);
	return count(s, st, n, "region's answers", eb);
}

int
store_esc_answered(struct store *s, long long alert_id,
    const char *responder_id, int *yes, struct eng_errbuf *eb)
{
	sqlite3_stmt *st = NULL;
	long long n = 0;
	int rv;

	*yes = 0;
	if ((rv = store_prepare(s, "SELECT count(*) FROM answers WHERE "
	    "responder_id = ? AND alert_id = ?", &st, eb)) != 0)
		return rv;
	store_bind_str(st, 1, responder_id);
	sqlite3_bind_int64(st, 2, alert_id);
	if ((rv = count(s, st, &n, "answered", eb)) == 0)
		*yes = n > 0;
	return rv;
}

int
store_esc_close(struct store *s, long long alert_id, const char *region,
    const char *state, int64_t now_ms, long long *n, struct eng_errbuf *eb)
{
	sqlite3_stmt *st = NULL;
	int rv;

	if ((rv = store_prepare(s, "UPDATE escalations SET state = ?1, "
	    "due_ms = NULL, updated_ms = ?2 WHERE alert_id = ?3 AND "
	    "state = 'open' AND (?4 IS NULL OR region = ?4)", &st, eb)) != 0)
		return rv;
	store_bind_str(st, 1, state);
	sqlite3_bind_int64(st, 2, now_ms);
	sqlite3_bind_int64(st, 3, alert_id);
	store_bind_str(st, 4, region);
	if ((rv = store_step_done(s, st, 0, "escalations close", eb)) == 0 &&
	    n != NULL)
		*n = sqlite3_changes(s->db);
	return rv;
}

int
store_esc_count_open(struct store *s, long long *open, long long *pending,
    struct eng_errbuf *eb)
{
	sqlite3_stmt *st = NULL;
	int rv, rc;

	*open = *pending = 0;
	if ((rv = store_prepare(s, "SELECT count(*), count(due_ms) FROM "
	    "escalations WHERE state = 'open'", &st, eb)) != 0)
		return rv;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*open = sqlite3_column_int64(st, 0);
		*pending = sqlite3_column_int64(st, 1);
	} else {
		rv = store_err(s, rc, "open escalations", eb);
	}
	sqlite3_finalize(st);
	return rv;
}
