/*
 * engine/store_auth.c - users, sessions, API tokens and the audit trail
 * (migration 9).  The audit table has no update or delete here; its
 * triggers refuse them in SQL too.
 */
#include "engine/store_int.h"

#include <stdio.h>
#include <string.h>

static int64_t
col_ms(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? 0 :
	    sqlite3_column_int64(st, i);
}

/* ------------------------------------------------------------------ */
/* Users                                                               */
/* ------------------------------------------------------------------ */

#define USER_COLS "id, name, display_name, role, jurisdiction, " \
	"password_hash, disabled, created_ms, updated_ms FROM users "

static int
user_rows(struct store *s, sqlite3_stmt *st, store_user_cb cb, void *arg,
    int one, struct eng_errbuf *eb)
{
	struct store_user u;
	int rc, rv = 0, n = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&u, 0, sizeof(u));
		u.id = sqlite3_column_int64(st, 0);
		u.name = store_col_text(st, 1);
		u.display_name = store_col_text(st, 2);
		u.role = store_col_text(st, 3);
		u.jurisdiction = store_col_text(st, 4);
		u.password_hash = store_col_text(st, 5);
		u.disabled = sqlite3_column_int(st, 6);
		u.created_ms = sqlite3_column_int64(st, 7);
		u.updated_ms = sqlite3_column_int64(st, 8);
		n++;
		if ((rv = cb(arg, &u)) != 0)
			goto out;
	}
	if (rc != SQLITE_DONE)
		rv = store_err(s, rc, "users", eb);
	else if (one && n == 0)
		rv = eng_error(eb, ENG_ENOENT, "no such user");
out:
	sqlite3_finalize(st);
	return rv;
}

static int
constraint_eexist(struct store *s, int rv, const char *what,
    struct eng_errbuf *eb)
{
	const char *m = sqlite3_errmsg(s->db);

	if (rv == ENG_EINVAL && m != NULL && strstr(m, "UNIQUE") != NULL)
		return eng_error(eb, ENG_EEXIST, "%s already exists", what);
	return rv;
}

int
store_user_add(struct store *s, const struct store_user *u, int64_t now_ms,
    long long *id, struct eng_errbuf *eb)
{
	sqlite3_stmt *st;
	int rv;

	if ((rv = store_prepare(s, "INSERT INTO users (name, display_name, "
	    "role, jurisdiction, password_hash, disabled, created_ms, "
	    "updated_ms) VALUES (?,?,?,?,?,?,?,?)", &st, eb)) != 0)
		return rv;
	store_bind_str(st, 1, u->name);
	store_bind_str(st, 2, u->display_name);
	store_bind_str(st, 3, u->role);
	store_bind_str(st, 4, u->jurisdiction);
	store_bind_str(st, 5, u->password_hash);
	sqlite3_bind_int(st, 6, u->disabled != 0);
	sqlite3_bind_int64(st, 7, now_ms);
	sqlite3_bind_int64(st, 8, now_ms);
	if ((rv = store_step_done(s, st, 0, "user add", eb)) != 0)
		return constraint_eexist(s, rv, "user", eb);
	if (id != NULL)
		*id = sqlite3_last_insert_rowid(s->db);
	return 0;
}

int
store_user_get(struct store *s, const char *name, store_user_cb cb,
    void *arg, struct eng_errbuf *eb)
{
	sqlite3_stmt *st;
	int rv;

	if ((rv = store_prepare(s, "SELECT " USER_COLS "WHERE name = ?", &st,
	    eb)) != 0)
		return rv;
	store_bind_str(st, 1, name);
	return user_rows(s, st, cb, arg, 1, eb);
}

int
store_user_get_id(struct store *s, long long id, store_user_cb cb,
    void *arg, struct eng_errbuf *eb)
{
	sqlite3_stmt *st;
	int rv;

	if ((rv = store_prepare(s, "SELECT " USER_COLS "WHERE id = ?", &st,
	    eb)) != 0)
		return rv;
	sqlite3_bind_int64(st, 1, id);
	return user_rows(s, st, cb, arg, 1, eb);
}

int
store_users_list(struct store *s, store_user_cb cb, void *arg,
    struct eng_errbuf *eb)
{
	sqlite3_stmt *st;
	int rv;

	if ((rv = store_prepare(s, "SELECT " USER_COLS "ORDER BY name", &st,
	    eb)) != 0)
		return rv;
	return user_rows(s, st, cb, arg, 0, eb);
}

int
store_user_count(struct store *s, long long *n, struct eng_errbuf *eb)
{
	sqlite3_stmt *st;
	int rv, rc;

	*n = 0;
	if ((rv = store_prepare(s, "SELECT count(*) FROM users", &st,
	    eb)) != 0)
		return rv;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*n = sqlite3_column_int64(st, 0);
	else
		rv = store_err(s, rc, "user count", eb);
	sqlite3_finalize(st);
	return rv;
}

int
store_user_update(struct store *s, const struct store_user *u,
    int64_t now_ms, struct eng_errbuf *eb)
{
	sqlite3_stmt *st;
	int rv;

	if ((rv = store_prepare(s, "UPDATE users SET display_name = ?, "
	    "role = ?, jurisdiction = ?, password_hash = ?, disabled = ?, "
	    "updated_ms = ? WHERE name = ?", &st, eb)) != 0)
		return rv;
	store_bind_str(st, 1, u->display_name);
	store_bind_str(st, 2, u->role);
	store_bind_str(st, 3, u->jurisdiction);
	store_bind_str(st, 4, u->password_hash);
	sqlite3_bind_int(st, 5, u->disabled != 0);
	sqlite3_bind_int64(st, 6, now_ms);
	store_bind_str(st, 7, u->name);
	if ((rv = store_step_done(s, st, 0, "user update", eb)) != 0)
		return rv;
	if (sqlite3_changes(s->db) == 0)
		return eng_error(eb, ENG_ENOENT, "no user '%s'", u->name);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Sessions                                                            */
/* ------------------------------------------------------------------ */

int
store_session_add(struct store *s, const struct store_session *x,
    struct eng_errbuf *eb)
{
	sqlite3_stmt *st;
	int rv;

	if ((rv = store_prepare(s, "INSERT INTO sessions (id, user_id, csrf, "
	    "created_ms, last_seen_ms, expires_ms, from_addr) VALUES "
	    "(?,?,?,?,?,?,?)", &st, eb)) != 0)
		return rv;
	store_bind_str(st, 1, x->id);
	sqlite3_bind_int64(st, 2, x->user_id);
	store_bind_str(st, 3, x->csrf);
	sqlite3_bind_int64(st, 4, x->created_ms);
	sqlite3_bind_int64(st, 5, x->last_seen_ms);
	sqlite3_bind_int64(st, 6, x->expires_ms);
	store_bind_str(st, 7, x->from_addr);
	return store_step_done(s, st, 0, "session add", eb);
}

int
store_session_get(struct store *s, const char *id, store_session_cb cb,
    void *arg, struct eng_errbuf *eb)
{
	struct store_session x;
	sqlite3_stmt *st;
	int rv, rc;

	if ((rv = store_prepare(s, "SELECT id, user_id, csrf, created_ms, "
	    "last_seen_ms, expires_ms, from_addr FROM sessions WHERE id = ?",
	    &st, eb)) != 0)
		return rv;
	store_bind_str(st, 1, id);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&x, 0, sizeof(x));
		x.id = store_col_text(st, 0);
		x.user_id = sqlite3_column_int64(st, 1);
		x.csrf = store_col_text(st, 2);
		x.created_ms = sqlite3_column_int64(st, 3);
		x.last_seen_ms = sqlite3_column_int64(st, 4);
		x.expires_ms = sqlite3_column_int64(st, 5);
		x.from_addr = store_col_text(st, 6);
		rv = cb(arg, &x);
	} else if (rc == SQLITE_DONE)
		rv = eng_error(eb, ENG_ENOENT, "no such session");
	else
		rv = store_err(s, rc, "session", eb);
	sqlite3_finalize(st);
	return rv;
}

static int
exec_id(struct store *s, const char *sql, const char *id, long long n,
    int64_t ms, const char *what, struct eng_errbuf *eb)
{
	sqlite3_stmt *st;
	int rv, i = 1;

	if ((rv = store_prepare(s, sql, &st, eb)) != 0)
		return rv;
	if (ms != 0)
		sqlite3_bind_int64(st, i++, ms);
	if (id != NULL)
		store_bind_str(st, i, id);
	else
		sqlite3_bind_int64(st, i, n);
	return store_step_done(s, st, 0, what, eb);
}

int
store_session_touch(struct store *s, const char *id, int64_t now_ms,
    struct eng_errbuf *eb)
{
	return exec_id(s, "UPDATE sessions SET last_seen_ms = ? WHERE id = ?",
	    id, 0, now_ms, "session touch", eb);
}

int
store_session_delete(struct store *s, const char *id,
    struct eng_errbuf *eb)
{
	return exec_id(s, "DELETE FROM sessions WHERE id = ?", id, 0, 0,
	    "session delete", eb);
}

int
store_sessions_delete_user(struct store *s, long long user_id,
    struct eng_errbuf *eb)
{
	return exec_id(s, "DELETE FROM sessions WHERE user_id = ?", NULL,
	    user_id, 0, "sessions delete", eb);
}

int
store_sessions_purge(struct store *s, int64_t now_ms, int64_t idle_before_ms,
    struct eng_errbuf *eb)
{
	sqlite3_stmt *st;
	int rv;

	if ((rv = store_prepare(s, "DELETE FROM sessions WHERE expires_ms <= ? "
	    "OR last_seen_ms < ?", &st, eb)) != 0)
		return rv;
	sqlite3_bind_int64(st, 1, now_ms);
	sqlite3_bind_int64(st, 2, idle_before_ms);
	return store_step_done(s, st, 0, "sessions purge", eb);
}

/* ------------------------------------------------------------------ */
/* API tokens                                                          */
/* ------------------------------------------------------------------ */

#define TOKEN_COLS "t.id, t.user_id, u.name, t.name, t.hash, t.created_ms, " \
	"t.last_used_ms, t.revoked_ms FROM api_tokens t JOIN users u ON " \
	"u.id = t.user_id "

static int
token_rows(struct store *s, sqlite3_stmt *st, store_token_cb cb, void *arg,
    int one, struct eng_errbuf *eb)
{
	struct store_token t;
	int rc, rv = 0, n = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&t, 0, sizeof(t));
		t.id = sqlite3_column_int64(st, 0);
		t.user_id = sqlite3_column_int64(st, 1);
		t.user_name = store_col_text(st, 2);
		t.name = store_col_text(st, 3);
		t.hash = store_col_text(st, 4);
		t.created_ms = sqlite3_column_int64(st, 5);
		t.last_used_ms = col_ms(st, 6);
		t.revoked_ms = col_ms(st, 7);
		n++;
		if ((rv = cb(arg, &t)) != 0)
			goto out;
	}
	if (rc != SQLITE_DONE)
		rv = store_err(s, rc, "tokens", eb);
	else if (one && n == 0)
		rv = eng_error(eb, ENG_ENOENT, "no such token");
out:
	sqlite3_finalize(st);
	return rv;
}

int
store_token_add(struct store *s, const struct store_token *t, long long *id,
    struct eng_errbuf *eb)
{
	sqlite3_stmt *st;
	int rv;

	if ((rv = store_prepare(s, "INSERT INTO api_tokens (user_id, name, "
	    "hash, created_ms) VALUES (?,?,?,?)", &st, eb)) != 0)
		return rv;
	sqlite3_bind_int64(st, 1, t->user_id);
	store_bind_str(st, 2, t->name);
	store_bind_str(st, 3, t->hash);
	sqlite3_bind_int64(st, 4, t->created_ms);
	if ((rv = store_step_done(s, st, 0, "token add", eb)) != 0)
		return constraint_eexist(s, rv, "a live token of that name", eb);
	if (id != NULL)
		*id = sqlite3_last_insert_rowid(s->db);
	return 0;
}

int
store_token_find(struct store *s, const char *hash, store_token_cb cb,
    void *arg, struct eng_errbuf *eb)
{
	sqlite3_stmt *st;
	int rv;

	if ((rv = store_prepare(s, "SELECT " TOKEN_COLS "WHERE t.hash = ? AND "
	    "t.revoked_ms IS NULL", &st, eb)) != 0)
		return rv;
	store_bind_str(st, 1, hash);
	return token_rows(s, st, cb, arg, 1, eb);
}

int
store_token_touch(struct store *s, long long id, int64_t now_ms,
    struct eng_errbuf *eb)
{
	return exec_id(s, "UPDATE api_tokens SET last_used_ms = ? WHERE id = ?",
	    NULL, id, now_ms, "token touch", eb);
}

int
store_token_revoke(struct store *s, long long id, long long user_id,
    int64_t now_ms, struct eng_errbuf *eb)
{
	sqlite3_stmt *st;
	int rv;

	if ((rv = store_prepare(s, "UPDATE api_tokens SET revoked_ms = ? "
	    "WHERE id = ? AND revoked_ms IS NULL AND (?3 = 0 OR user_id = ?3)",
	    &st, eb)) != 0)
		return rv;
	sqlite3_bind_int64(st, 1, now_ms);
	sqlite3_bind_int64(st, 2, id);
	sqlite3_bind_int64(st, 3, user_id);
	if ((rv = store_step_done(s, st, 0, "token revoke", eb)) != 0)
		return rv;
	if (sqlite3_changes(s->db) == 0)
		return eng_error(eb, ENG_ENOENT, "no live token %lld", id);
	return 0;
}

int
store_tokens_list(struct store *s, long long user_id, store_token_cb cb,
    void *arg, struct eng_errbuf *eb)
{
	sqlite3_stmt *st;
	int rv;

	if ((rv = store_prepare(s, "SELECT " TOKEN_COLS "WHERE ?1 = 0 OR "
	    "t.user_id = ?1 ORDER BY t.id", &st, eb)) != 0)
		return rv;
	sqlite3_bind_int64(st, 1, user_id);
	return token_rows(s, st, cb, arg, 0, eb);
}

/* ------------------------------------------------------------------ */
/* Audit                                                               */
/* ------------------------------------------------------------------ */

int
store_audit_add(struct store *s, const struct store_audit *a, long long *id,
    struct eng_errbuf *eb)
{
	sqlite3_stmt *st;
	int rv;

	if ((rv = store_prepare(s, "INSERT INTO audit (at_ms, actor, action, "
	    "target, jurisdiction, from_addr, before, after, outcome) VALUES "
	    "(?,?,?,?,?,?,?,?,?)", &st, eb)) != 0)
		return rv;
	sqlite3_bind_int64(st, 1, a->at_ms);
	store_bind_str(st, 2, a->actor);
	store_bind_str(st, 3, a->action);
	store_bind_str(st, 4, a->target);
	store_bind_str(st, 5, a->jurisdiction);
	store_bind_str(st, 6, a->from_addr);
	store_bind_str(st, 7, a->before);
	store_bind_str(st, 8, a->after);
	store_bind_str(st, 9, a->outcome);
	if ((rv = store_step_done(s, st, 0, "audit add", eb)) != 0)
		return rv;
	if (id != NULL)
		*id = sqlite3_last_insert_rowid(s->db);
	return 0;
}

/* The digits that every code of code's subtree starts with. */
static size_t
subtree_prefix(const char *code)
{
	static const size_t len[] = { 0, 2, 4, 6, 9, 12 };
	enum region_level l = region_code_level(code);

	return l == REGION_NONE ? 12 : len[l];
}

int
store_audit_list(struct store *s, const struct store_audit_filter *f,
    store_audit_cb cb, void *arg, struct eng_errbuf *eb)
{
	struct store_audit a;
	sqlite3_stmt *st;
	char pre[REGION_CODE_SIZE];
	int rv, rc;

	if ((rv = store_prepare(s, "SELECT id, at_ms, actor, action, target, "
	    "jurisdiction, from_addr, before, after, outcome FROM audit "
	    "WHERE at_ms >= ?1 AND (?2 IS NULL OR actor = ?2) AND "
	    "(?3 IS NULL OR action = ?3) AND (?4 IS NULL OR "
	    "substr(jurisdiction, 1, length(?4)) = ?4) "
	    "ORDER BY id DESC LIMIT ?5", &st, eb)) != 0)
		return rv;
	sqlite3_bind_int64(st, 1, f->since_ms);
	store_bind_str(st, 2, f->actor);
	store_bind_str(st, 3, f->action);
	if (f->within != NULL) {
		(void)snprintf(pre, sizeof(pre), "%.*s",
		    (int)subtree_prefix(f->within), f->within);
		store_bind_str(st, 4, pre);
	}
	sqlite3_bind_int64(st, 5, f->limit > 0 ? f->limit : 100);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&a, 0, sizeof(a));
		a.id = sqlite3_column_int64(st, 0);
		a.at_ms = sqlite3_column_int64(st, 1);
		a.actor = store_col_text(st, 2);
		a.action = store_col_text(st, 3);
		a.target = store_col_text(st, 4);
		a.jurisdiction = store_col_text(st, 5);
		a.from_addr = store_col_text(st, 6);
		a.before = store_col_text(st, 7);
		a.after = store_col_text(st, 8);
		a.outcome = store_col_text(st, 9);
		if ((rv = cb(arg, &a)) != 0)
			goto out;
	}
	if (rc != SQLITE_DONE)
		rv = store_err(s, rc, "audit", eb);
out:
	sqlite3_finalize(st);
	return rv;
}

/* ------------------------------------------------------------------ */
/* Jurisdiction questions                                              */
/* ------------------------------------------------------------------ */

int
store_responder_region(struct store *s, const char *id,
    char out[REGION_CODE_SIZE], struct eng_errbuf *eb)
{
	sqlite3_stmt *st;
	int rv, rc;

	out[0] = '\0';
	if ((rv = store_prepare(s, "SELECT region FROM responders WHERE "
	    "id = ?", &st, eb)) != 0)
		return rv;
	store_bind_str(st, 1, id);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		(void)snprintf(out, REGION_CODE_SIZE, "%s",
		    store_col_text(st, 0) ? store_col_text(st, 0) : "");
	else if (rc == SQLITE_DONE)
		rv = eng_error(eb, ENG_ENOENT, "there is no responder \"%s\"",
		    id);
	else
		rv = store_err(s, rc, "responder region", eb);
	sqlite3_finalize(st);
	return rv;
}

int
store_alert_touches(struct store *s, long long alert_id, const char *code,
    struct eng_errbuf *eb)
{
	sqlite3_stmt *st;
	int rv, rc;

	if ((rv = store_prepare(s, "SELECT (SELECT count(*) FROM alerts "
	    "WHERE id = ?1), EXISTS (SELECT 1 FROM alert_regions t "
	    "JOIN regions g ON g.code = t.region, regions q "
	    "WHERE t.alert_id = ?1 AND q.code = ?2 AND "
	    "(substr(g.path, 1, length(q.path)) = q.path OR "
	    "substr(q.path, 1, length(g.path)) = g.path))", &st, eb)) != 0)
		return rv;
	sqlite3_bind_int64(st, 1, alert_id);
	store_bind_str(st, 2, code);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_int64(st, 0) == 0)
			rv = eng_error(eb, ENG_ENOENT, "no alert %lld",
			    alert_id);
		else
			rv = sqlite3_column_int(st, 1) ? 1 : 0;
	} else
		rv = store_err(s, rc, "alert touches", eb);
	sqlite3_finalize(st);
	return rv;
}

int
store_chain_within(struct store *s, long long chain_id, const char *code,
    struct eng_errbuf *eb)
{
	sqlite3_stmt *st;
	int rv, rc;

	/* Regions not in the tree (or a code unknown) count as outside. */
	if ((rv = store_prepare(s, "SELECT NOT EXISTS (SELECT 1 FROM alerts a "
	    "JOIN alert_regions t ON t.alert_id = a.id "
	    "LEFT JOIN regions g ON g.code = t.region "
	    "LEFT JOIN regions q ON q.code = ?2 "
	    "WHERE a.chain_id = ?1 AND (g.path IS NULL OR q.path IS NULL OR "
	    "substr(g.path, 1, length(q.path)) <> q.path))", &st, eb)) != 0)
		return rv;
	sqlite3_bind_int64(st, 1, chain_id);
	store_bind_str(st, 2, code);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		rv = sqlite3_column_int(st, 0) ? 1 : 0;
	else
		rv = store_err(s, rc, "chain within", eb);
	sqlite3_finalize(st);
	return rv;
}
