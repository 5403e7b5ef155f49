/*
 * engine/store_warning.c - warnings waiting for a second officer's
 * approval (migration 10): the CAP message as it was built and shown,
 * ingested unchanged when approved.
 */
#include "engine/store_int.h"

#include <stdio.h>
#include <string.h>

#define PENDING_COLS "id, created_ms, created_by, source, msg_type, " \
	"colour, event, headline, regions, cap, state, decided_by, " \
	"decided_ms, reason, alert_id, jurisdiction FROM warnings_pending "

static int64_t
col_ms(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? 0 :
	    sqlite3_column_int64(st, i);
}

int
store_pending_add(struct store *s, const struct store_pending *p,
    long long *id, struct eng_errbuf *eb)
{
	sqlite3_stmt *st;
	int rv;

	if ((rv = store_prepare(s, "INSERT INTO warnings_pending "
	    "(created_ms, created_by, source, msg_type, colour, event, "
	    "headline, regions, cap, state, jurisdiction) VALUES "
	    "(?,?,?,?,?,?,?,?,?,'pending',?)", &st, eb)) != 0)
		return rv;
	sqlite3_bind_int64(st, 1, p->created_ms);
	store_bind_str(st, 2, p->created_by);
	store_bind_str(st, 3, p->source);
	store_bind_str(st, 4, p->msg_type);
	sqlite3_bind_int(st, 5, p->colour);
	store_bind_str(st, 6, p->event);
	store_bind_str(st, 7, p->headline);
	store_bind_str(st, 8, p->regions ? p->regions : "");
	sqlite3_bind_blob(st, 9, p->cap, (int)p->cap_len, SQLITE_STATIC);
	store_bind_str(st, 10, p->jurisdiction);
	if ((rv = store_step_done(s, st, 0, "pending warning add", eb)) != 0)
		return rv;
	if (id != NULL)
		*id = sqlite3_last_insert_rowid(s->db);
	return 0;
}

static int
rows(struct store *s, sqlite3_stmt *st, store_pending_cb cb, void *arg,
    int one, struct eng_errbuf *eb)
{
	struct store_pending p;
	int rc, rv = 0, n = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&p, 0, sizeof(p));
		p.id = sqlite3_column_int64(st, 0);
		p.created_ms = col_ms(st, 1);
		p.created_by = store_col_text(st, 2);
		p.source = store_col_text(st, 3);
		p.msg_type = store_col_text(st, 4);
		p.colour = sqlite3_column_int(st, 5);
		p.event = store_col_text(st, 6);
		p.headline = store_col_text(st, 7);
		p.regions = store_col_text(st, 8);
		p.cap = sqlite3_column_blob(st, 9);
		p.cap_len = (size_t)sqlite3_column_bytes(st, 9);
		p.state = store_col_text(st, 10);
		p.decided_by = store_col_text(st, 11);
		p.decided_ms = col_ms(st, 12);
		p.reason = store_col_text(st, 13);
		p.alert_id = col_ms(st, 14);
		p.jurisdiction = store_col_text(st, 15);
		n++;
		if ((rv = cb(arg, &p)) != 0)
			break;
	}
	if (rv == 0 && rc != SQLITE_ROW && rc != SQLITE_DONE)
		rv = store_err(s, rc, "pending warnings", eb);
	sqlite3_finalize(st);
	if (rv == 0 && one && n == 0)
		rv = eng_error(eb, ENG_ENOENT, "no pending warning with that "
		    "id");
	return rv;
}

int
store_pending_get(struct store *s, long long id, store_pending_cb cb,
    void *arg, struct eng_errbuf *eb)
{
	sqlite3_stmt *st;
	int rv;

	if ((rv = store_prepare(s, "SELECT " PENDING_COLS "WHERE id = ?",
	    &st, eb)) != 0)
		return rv;
	sqlite3_bind_int64(st, 1, id);
	return rows(s, st, cb, arg, 1, eb);
}

int
store_pending_list(struct store *s, const char *state, long long limit,
    store_pending_cb cb, void *arg, struct eng_errbuf *eb)
{
	sqlite3_stmt *st;
	int rv;

	if ((rv = store_prepare(s, "SELECT " PENDING_COLS "WHERE (?1 IS NULL "
	    "OR state = ?1) ORDER BY id DESC LIMIT ?2", &st, eb)) != 0)
		return rv;
	store_bind_str(st, 1, state);
	sqlite3_bind_int64(st, 2, limit);
	return rows(s, st, cb, arg, 0, eb);
}

int
store_pending_decide(struct store *s, long long id, const char *state,
    const char *by, int64_t at_ms, const char *reason, long long alert_id,
    struct eng_errbuf *eb)
{
	sqlite3_stmt *st;
	int rv;

	if ((rv = store_prepare(s, "UPDATE warnings_pending SET state = ?, "
	    "decided_by = ?, decided_ms = ?, reason = ?, alert_id = ? "
	    "WHERE id = ? AND state = 'pending'", &st, eb)) != 0)
		return rv;
	store_bind_str(st, 1, state);
	store_bind_str(st, 2, by);
	sqlite3_bind_int64(st, 3, at_ms);
	store_bind_str(st, 4, reason);
	store_bind_pos(st, 5, alert_id);
	sqlite3_bind_int64(st, 6, id);
	if ((rv = store_step_done(s, st, 0, "pending warning decide",
	    eb)) != 0)
		return rv;
	if (sqlite3_changes(s->db) == 0)
		return eng_error(eb, ENG_EBUSY, "pending warning %lld is not "
		    "pending (unknown, or already decided)", id);
	return 0;
}
