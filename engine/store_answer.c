/*
 * engine/store_answer.c - answers (叫应), answer codes, and one-off
 * deliveries with a given text (the question back to an ambiguous
 * reply).  Schema: migration 6 (store_migrate.c).
 */
#include "engine/store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CODE_TRIES	64

static const char *const paths[] = {
	"sms", "link", "app", "voice", "officer"
};

/* Is code already the code of another active alert of the responder? */
static int
code_taken(struct store *s, const char *responder_id, const char *code,
    int64_t now, int *taken, struct eng_errbuf *eb)
{
	sqlite3_stmt *st = NULL;
	int rv, rc;

	if ((rv = store_prepare(s, "SELECT 1 FROM ack_codes c JOIN alerts a "
	    "ON a.id = c.alert_id WHERE c.responder_id = ?1 AND c.code = ?2 "
	    "AND a.state = 'active' AND (a.expires_ms IS NULL OR "
	    "a.expires_ms = 0 OR a.expires_ms > ?3) LIMIT 1", &st, eb)) != 0)
		return rv;
	store_bind_str(st, 1, responder_id);
	store_bind_str(st, 2, code);
	sqlite3_bind_int64(st, 3, now);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*taken = 1;
	else if (rc == SQLITE_DONE)
		*taken = 0;
	else
		rv = store_err(s, rc, "answer code", eb);
	sqlite3_finalize(st);
	return rv;
}

static int
code_get(struct store *s, long long alert_id, const char *responder_id,
    char *code, int *found, struct eng_errbuf *eb)
{
	sqlite3_stmt *st = NULL;
	int rv, rc;

	*found = 0;
	if ((rv = store_prepare(s, "SELECT code FROM ack_codes WHERE "
	    "alert_id = ?1 AND responder_id = ?2", &st, eb)) != 0)
		return rv;
	sqlite3_bind_int64(st, 1, alert_id);
	store_bind_str(st, 2, responder_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		(void)snprintf(code, STORE_ACK_CODE_SIZE, "%s",
		    store_col_text(st, 0) ? store_col_text(st, 0) : "");
		*found = 1;
	} else if (rc != SQLITE_DONE) {
		rv = store_err(s, rc, "answer code", eb);
	}
	sqlite3_finalize(st);
	return rv;
}

static int
code_make(struct store *s, long long alert_id, const char *responder_id,
    char *code, struct eng_errbuf *eb)
{
	sqlite3_stmt *st = NULL;
	int64_t now = eng_clock_now_ms(s->clock);
	int rv, rc, found, taken = 1, i;
	char c[STORE_ACK_CODE_SIZE];

	if ((rv = code_get(s, alert_id, responder_id, code, &found, eb)) != 0 ||
	    found)
		return rv;
	for (i = 0; i < CODE_TRIES && taken; i++) {
		unsigned short r;

		sqlite3_randomness(sizeof(r), &r);
		(void)snprintf(c, sizeof(c), "%04u", 1000u + r % 9000u);
		if ((rv = code_taken(s, responder_id, c, now, &taken, eb)) != 0)
			return rv;
	}
	if (taken)
		return eng_error(eb, ENG_EIO, "no free answer code for %s",
		    responder_id);
	if ((rv = store_prepare(s, "INSERT INTO ack_codes (alert_id, "
	    "responder_id, code, created_ms) VALUES (?1, ?2, ?3, ?4)", &st,
	    eb)) != 0)
		return rv;
	sqlite3_bind_int64(st, 1, alert_id);
	store_bind_str(st, 2, responder_id);
	store_bind_str(st, 3, c);
	sqlite3_bind_int64(st, 4, now);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		rv = store_err(s, rc, "answer code", eb);
	sqlite3_finalize(st);
	if (rv == 0)
		(void)snprintf(code, STORE_ACK_CODE_SIZE, "%s", c);
	return rv;
}

int
store_ack_code(struct store *s, long long alert_id, const char *responder_id,
    char *code, struct eng_errbuf *eb)
{
	int own = sqlite3_get_autocommit(s->db);
	int rv;

	code[0] = '\0';
	if (own && (rv = store_exec(s, "BEGIN IMMEDIATE", eb)) != 0)
		return rv;
	rv = code_make(s, alert_id, responder_id, code, eb);
	if (own) {
		if (rv == 0)
			rv = store_exec(s, "COMMIT", eb);
		if (rv != 0)
			(void)store_exec(s, "ROLLBACK", NULL);
	}
	if (rv != 0)
		code[0] = '\0';
	return rv;
}

static int
by_phone(struct store *s, const char *phone, store_phone_cb cb, void *arg,
    int *n, struct eng_errbuf *eb)
{
	sqlite3_stmt *st = NULL;
	int rv, rc;

	if ((rv = store_prepare(s, "SELECT id, region FROM responders WHERE "
	    "phone = ? AND active = 1 ORDER BY id", &st, eb)) != 0)
		return rv;
	store_bind_str(st, 1, phone);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		(*n)++;
		if ((rv = cb(arg, store_col_text(st, 0),
		    store_col_text(st, 1))) != 0)
			break;
	}
	if (rv == 0 && rc != SQLITE_DONE)
		rv = store_err(s, rc, "responders by phone", eb);
	sqlite3_finalize(st);
	return rv;
}

int
store_responders_by_phone(struct store *s, const char *phone,
    store_phone_cb cb, void *arg, struct eng_errbuf *eb)
{
	static const char *const prefixes[] = { "+86", "0086", "86" };
	size_t i, l;
	int rv, n = 0;

	if (phone == NULL || phone[0] == '\0')
		return 0;
	if ((rv = by_phone(s, phone, cb, arg, &n, eb)) != 0 || n > 0)
		return rv;
	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		l = strlen(prefixes[i]);
		if (strncmp(phone, prefixes[i], l) == 0 && phone[l] != '\0')
			return by_phone(s, phone + l, cb, arg, &n, eb);
	}
	return 0;
}

int
store_alerts_sent_to(struct store *s, const char *responder_id,
    int64_t now_ms, long long limit, store_sent_alert_cb cb, void *arg,
    struct eng_errbuf *eb)
{
	struct store_sent_alert a;
	sqlite3_stmt *st = NULL;
	int rv, rc;

	if ((rv = store_prepare(s, "SELECT a.id, a.state, "
	    "coalesce(a.expires_ms, 0), coalesce(c.code, ''), a.event, "
	    "a.headline FROM alerts a LEFT JOIN ack_codes c ON "
	    "c.alert_id = a.id AND c.responder_id = ?1 WHERE a.id IN "
	    "(SELECT alert_id FROM deliveries WHERE responder_id = ?1 AND "
	    "kind IN ('alert', 'update', 'remind')) ORDER BY a.received_ms DESC, "
	    "a.id DESC LIMIT ?2", &st, eb)) != 0)
		return rv;
	store_bind_str(st, 1, responder_id);
	sqlite3_bind_int64(st, 2, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&a, 0, sizeof(a));
		a.alert_id = sqlite3_column_int64(st, 0);
		a.state = store_col_text(st, 1);
		a.expires_ms = sqlite3_column_int64(st, 2);
		a.code = store_col_text(st, 3);
		a.event = store_col_text(st, 4);
		a.headline = store_col_text(st, 5);
		a.active = a.state != NULL && strcmp(a.state, "active") == 0 &&
		    (a.expires_ms == 0 || a.expires_ms > now_ms);
		if ((rv = cb(arg, &a)) != 0)
			break;
	}
	if (rv == 0 && rc != SQLITE_DONE)
		rv = store_err(s, rc, "alerts sent to", eb);
	sqlite3_finalize(st);
	return rv;
}

int
store_answer_add(struct store *s, const struct store_answer *a, int *added,
    struct eng_errbuf *eb)
{
	sqlite3_stmt *st = NULL;
	size_t i;
	int rv, rc, ok = 0, new = 0;

	if (added != NULL)
		*added = 0;
	for (i = 0; a->path != NULL && i < sizeof(paths) / sizeof(paths[0]);
	    i++)
		if (strcmp(a->path, paths[i]) == 0)
			ok = 1;
	if (!ok || a->responder_id == NULL || a->raw == NULL)
		return eng_error(eb, ENG_EINVAL, "answer: bad path or fields");
	if ((rv = store_prepare(s, "INSERT OR IGNORE INTO answers (alert_id, "
	    "responder_id, path, received_ms, raw, note, late, recorded_by, "
	    "reason) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9 WHERE EXISTS "
	    "(SELECT 1 FROM alerts WHERE id = ?1)", &st, eb)) != 0)
		return rv;
	sqlite3_bind_int64(st, 1, a->alert_id);
	store_bind_str(st, 2, a->responder_id);
	store_bind_str(st, 3, a->path);
	sqlite3_bind_int64(st, 4, a->received_ms);
	store_bind_str(st, 5, a->raw);
	store_bind_str(st, 6, a->note);
	sqlite3_bind_int(st, 7, a->late ? 1 : 0);
	store_bind_str(st, 8, a->recorded_by);
	store_bind_str(st, 9, a->reason);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		new = sqlite3_changes(s->db) > 0;
		if (added != NULL)
			*added = new;
	} else {
		rv = store_err(s, rc, "answer add", eb);
	}
	sqlite3_finalize(st);
	st = NULL;
	if (rv != 0 || !new)
		return rv;
	if ((rv = store_prepare(s, "UPDATE escalations SET state = "
	    "'answered', due_ms = NULL, updated_ms = ?3 WHERE alert_id = ?1 "
	    "AND responder_id = ?2 AND state = 'open'", &st, eb)) != 0)
		return rv;
	sqlite3_bind_int64(st, 1, a->alert_id);
	store_bind_str(st, 2, a->responder_id);
	sqlite3_bind_int64(st, 3, a->received_ms);
	if ((rc = sqlite3_step(st)) != SQLITE_DONE)
		rv = store_err(s, rc, "answer ends escalation", eb);
	sqlite3_finalize(st);
	return rv;
}

int
store_answers_list(struct store *s, long long alert_id, store_answer_cb cb,
    void *arg, struct eng_errbuf *eb)
{
	struct store_answer a;
	sqlite3_stmt *st = NULL;
	int rv, rc;

	if ((rv = store_prepare(s, "SELECT x.id, x.alert_id, x.responder_id, "
	    "x.path, x.received_ms, x.raw, x.note, x.late, r.name, "
	    "x.recorded_by, x.reason FROM "
	    "answers x LEFT JOIN responders r ON r.id = x.responder_id "
	    "WHERE x.alert_id = ? ORDER BY x.received_ms, x.id", &st,
	    eb)) != 0)
		return rv;
	sqlite3_bind_int64(st, 1, alert_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&a, 0, sizeof(a));
		a.id = sqlite3_column_int64(st, 0);
		a.alert_id = sqlite3_column_int64(st, 1);
		a.responder_id = store_col_text(st, 2);
		a.path = store_col_text(st, 3);
		a.received_ms = sqlite3_column_int64(st, 4);
		a.raw = store_col_text(st, 5);
		a.note = store_col_text(st, 6);
		a.late = sqlite3_column_int(st, 7);
		a.name = store_col_text(st, 8);
		a.recorded_by = store_col_text(st, 9);
		a.reason = store_col_text(st, 10);
		if ((rv = cb(arg, &a)) != 0)
			break;
	}
	if (rv == 0 && rc != SQLITE_DONE)
		rv = store_err(s, rc, "answers", eb);
	sqlite3_finalize(st);
	return rv;
}

int
store_answer_counts(struct store *s, long long alert_id, long long *answered,
    long long *targeted, struct eng_errbuf *eb)
{
	sqlite3_stmt *st = NULL;
	int rv, rc;

	*answered = *targeted = 0;
	if ((rv = store_prepare(s, "SELECT (SELECT count(DISTINCT "
	    "responder_id) FROM answers WHERE alert_id = ?1), (SELECT "
	    "count(DISTINCT responder_id) FROM deliveries WHERE alert_id = ?1 "
	    "AND responder_id IS NOT NULL AND kind IN ('alert', 'update'))",
	    &st, eb)) != 0)
		return rv;
	sqlite3_bind_int64(st, 1, alert_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*answered = sqlite3_column_int64(st, 0);
		*targeted = sqlite3_column_int64(st, 1);
	} else {
		rv = store_err(s, rc, "answer counts", eb);
	}
	sqlite3_finalize(st);
	return rv;
}

int
store_delivery_add_text(struct store *s, const struct store_delivery *d,
    const char *text, int64_t now_ms, long long *id, struct eng_errbuf *eb)
{
	sqlite3_stmt *st = NULL;
	int own = sqlite3_get_autocommit(s->db);
	int rv, rc, added = 0;

	*id = 0;
	if (own && (rv = store_exec(s, "BEGIN IMMEDIATE", eb)) != 0)
		return rv;
	if ((rv = store_delivery_add(s, d, now_ms, &added, eb)) != 0 ||
	    !added)
		goto out;
	*id = sqlite3_last_insert_rowid(s->db);
	if ((rv = store_prepare(s, "INSERT INTO delivery_texts (delivery_id, "
	    "text) VALUES (?, ?)", &st, eb)) != 0)
		goto out;
	sqlite3_bind_int64(st, 1, *id);
	store_bind_str(st, 2, text);
	if ((rc = sqlite3_step(st)) != SQLITE_DONE)
		rv = store_err(s, rc, "delivery text", eb);
	sqlite3_finalize(st);
out:
	if (own) {
		if (rv == 0)
			rv = store_exec(s, "COMMIT", eb);
		if (rv != 0)
			(void)store_exec(s, "ROLLBACK", NULL);
	}
	if (rv != 0)
		*id = 0;
	return rv;
}

int
store_delivery_text(struct store *s, long long id, char **text,
    struct eng_errbuf *eb)
{
	sqlite3_stmt *st = NULL;
	int rv, rc;

	*text = NULL;
	/* Its own text, or that of the delivery it is a fail-over copy of
	 * (same alert and recipient, another channel). */
	if ((rv = store_prepare(s, "SELECT t.text FROM deliveries d JOIN "
	    "deliveries o ON o.alert_id = d.alert_id AND o.recipient = "
	    "d.recipient JOIN delivery_texts t ON t.delivery_id = o.id "
	    "WHERE d.id = ? ORDER BY o.id = d.id DESC LIMIT 1", &st,
	    eb)) != 0)
		return rv;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if ((*text = strdup(store_col_text(st, 0) ?
		    store_col_text(st, 0) : "")) == NULL)
			rv = eng_error(eb, ENG_ENOMEM, "out of memory");
	} else if (rc == SQLITE_DONE) {
		rv = eng_error(eb, ENG_ENOENT, "delivery %lld has no text",
		    id);
	} else {
		rv = store_err(s, rc, "delivery text", eb);
	}
	sqlite3_finalize(st);
	return rv;
}
