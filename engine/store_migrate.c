/*
 * engine/store_migrate.c - numbered schema migrations.
 *
 * Migration N takes a database at user_version N-1 to N, inside one
 * transaction together with the version bump.  Migrations are never
 * edited once released; new ones are appended.
 */
#include "engine/store_int.h"

#include <stddef.h>
#include <stdio.h>

static const char *const migrations[] = {
	/* 1: the administrative tree and who and what is in it. */
	"CREATE TABLE regions ("
	"  code TEXT PRIMARY KEY,"
	"  name TEXT NOT NULL,"
	"  level INTEGER NOT NULL CHECK (level BETWEEN 1 AND 5),"
	"  parent TEXT REFERENCES regions(code),"
	"  lat REAL, lon REAL,"
	"  path TEXT NOT NULL,"		/* root/…/code/ : subtree = prefix */
	"  updated_ms INTEGER NOT NULL"
	") WITHOUT ROWID;"
	"CREATE INDEX regions_parent ON regions(parent);"
	"CREATE UNIQUE INDEX regions_path ON regions(path);"
	"CREATE TABLE responders ("
	"  id TEXT PRIMARY KEY,"
	"  name TEXT NOT NULL,"
	"  region TEXT NOT NULL REFERENCES regions(code),"
	"  role TEXT NOT NULL,"
	"  phone TEXT, email TEXT,"
	"  wecom TEXT, dingtalk TEXT, telegram TEXT, wechat TEXT,"
	"  active INTEGER NOT NULL DEFAULT 1,"
	"  exercise INTEGER NOT NULL DEFAULT 0,"
	"  updated_ms INTEGER NOT NULL"
	") WITHOUT ROWID;"
	"CREATE INDEX responders_region ON responders(region);"
	"CREATE TABLE devices ("
	"  id TEXT PRIMARY KEY,"
	"  region TEXT NOT NULL REFERENCES regions(code),"
	"  kind TEXT NOT NULL,"
	"  channel TEXT NOT NULL,"
	"  address TEXT NOT NULL,"
	"  updated_ms INTEGER NOT NULL"
	") WITHOUT ROWID;"
	"CREATE INDEX devices_region ON devices(region);",

	/* 2: import history; responders found by phone (SMS replies). */
	"CREATE TABLE imports ("
	"  id INTEGER PRIMARY KEY,"
	"  kind TEXT NOT NULL,"
	"  file TEXT,"
	"  rows INTEGER NOT NULL,"
	"  inserted INTEGER NOT NULL,"
	"  updated INTEGER NOT NULL,"
	"  at_ms INTEGER NOT NULL"
	");"
	"CREATE INDEX responders_phone ON responders(phone);",

	/* 3: alerts, stored whole, with their lineage and target regions. */
	"CREATE TABLE alerts ("
	"  id INTEGER PRIMARY KEY,"
	"  sender TEXT NOT NULL,"
	"  identifier TEXT NOT NULL,"
	"  sent TEXT NOT NULL,"
	"  sent_ms INTEGER NOT NULL,"
	"  status TEXT NOT NULL,"
	"  msg_type TEXT NOT NULL,"
	"  scope TEXT,"
	"  event TEXT, headline TEXT, severity TEXT, urgency TEXT,"
	"  certainty TEXT, language TEXT,"
	"  colour INTEGER NOT NULL DEFAULT 0,"
	"  effective_ms INTEGER, onset_ms INTEGER, expires_ms INTEGER,"
	"  received_ms INTEGER NOT NULL,"
	"  source TEXT NOT NULL,"
	"  via TEXT NOT NULL,"
	"  state TEXT NOT NULL,"
	"  broadcast INTEGER NOT NULL,"
	"  superseded_by INTEGER REFERENCES alerts(id),"
	"  chain_id INTEGER NOT NULL,"
	"  area_unmatched INTEGER NOT NULL DEFAULT 0,"
	"  nregions INTEGER NOT NULL DEFAULT 0,"
	"  warnings TEXT,"		/* JSON array of {line,path,message} */
	"  cap BLOB NOT NULL,"		/* the message as received */
	"  UNIQUE (sender, identifier, sent_ms)"
	");"
	"CREATE INDEX alerts_chain ON alerts(chain_id, sent_ms);"
	"CREATE TABLE alert_refs ("
	"  alert_id INTEGER NOT NULL REFERENCES alerts(id),"
	"  ref_sender TEXT NOT NULL,"
	"  ref_identifier TEXT NOT NULL,"
	"  ref_sent TEXT NOT NULL,"
	"  ref_sent_ms INTEGER NOT NULL,"
	"  ref_alert_id INTEGER REFERENCES alerts(id),"
	"  PRIMARY KEY (alert_id, ref_sender, ref_identifier, ref_sent_ms)"
	") WITHOUT ROWID;"
	"CREATE INDEX alert_refs_target ON alert_refs(ref_sender,"
	"  ref_identifier, ref_sent_ms);"
	"CREATE TABLE alert_regions ("
	"  alert_id INTEGER NOT NULL REFERENCES alerts(id),"
	"  region TEXT NOT NULL REFERENCES regions(code),"
	"  how TEXT NOT NULL,"
	"  PRIMARY KEY (alert_id, region)"
	") WITHOUT ROWID;"
	"CREATE INDEX alert_regions_region ON alert_regions(region);"
	"CREATE INDEX regions_latlon ON regions(lat, lon);",

	/* 4: the outbox.  One row per message to one endpoint through one
	 * channel; the text is rendered when it is sent. */
	"ALTER TABLE alerts ADD COLUMN planned INTEGER NOT NULL DEFAULT 0;"
	"CREATE INDEX alerts_unplanned ON alerts(planned, broadcast) "
	"  WHERE planned = 0 AND broadcast = 1;"
	"CREATE TABLE deliveries ("
	"  id INTEGER PRIMARY KEY,"
	"  alert_id INTEGER NOT NULL REFERENCES alerts(id),"
	"  kind TEXT NOT NULL,"		/* alert, update, cancel */
	"  channel TEXT NOT NULL,"
	"  recipient TEXT NOT NULL,"	/* r:<responder> or d:<device> */
	"  responder_id TEXT,"
	"  device_id TEXT,"
	"  region TEXT NOT NULL,"
	"  address TEXT NOT NULL,"
	"  role TEXT,"
	"  priority INTEGER NOT NULL,"
	/* pending sending sent delivered retry failed dead cancelled */
	"  state TEXT NOT NULL,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  next_at_ms INTEGER NOT NULL,"
	"  lease_until_ms INTEGER,"
	"  deadline_ms INTEGER,"
	"  gateway_id TEXT,"
	"  last_error TEXT,"
	"  segments INTEGER,"
	"  created_ms INTEGER NOT NULL,"
	"  sent_ms INTEGER,"
	"  delivered_ms INTEGER,"
	"  updated_ms INTEGER NOT NULL,"
	"  UNIQUE (alert_id, channel, recipient)"
	");"
	"CREATE INDEX deliveries_due ON deliveries(priority DESC, id) "
	"  WHERE state IN ('pending', 'retry', 'sending');"
	"CREATE INDEX deliveries_alert ON deliveries(alert_id, state);"
	"CREATE INDEX deliveries_gateway ON deliveries(gateway_id) "
	"  WHERE gateway_id IS NOT NULL;",

	/* 5: the due index's condition as ORs of equalities.  SQLite
	 * (3.40) evaluates "state IN ('pending', 'retry', 'sending')" of a
	 * partial index by building an ephemeral table (a temporary B-tree
	 * opened and closed) for every row inserted or updated: about 2 us a
	 * row, a quarter of planning 1M deliveries.  The claim query names
	 * the same expression (store_delivery.c DUE_STATES) so that the
	 * index still serves it. */
	"DROP INDEX deliveries_due;"
	"CREATE INDEX deliveries_due ON deliveries(priority DESC, id) "
	"  WHERE (state = 'pending' OR state = 'retry' OR "
	"state = 'sending');",

	/* 6: answers (叫应).  One row per answer: who, which alert, by
	 * which path, when, the input as received; a duplicate (same
	 * alert, person, path and input) is ignored.  late: the alert was
	 * no longer active when it came.  ack_codes: the short code a
	 * person types to say which alert they answer (one per alert and
	 * person; unique among the person's active alerts, which the
	 * store checks when it makes one).  delivery_texts: the text of a
	 * one-off delivery written by the engine (kind "ask"), sent as is
	 * instead of being rendered from its alert. */
	"CREATE TABLE answers ("
	"  id INTEGER PRIMARY KEY,"
	"  alert_id INTEGER NOT NULL REFERENCES alerts(id),"
	"  responder_id TEXT NOT NULL,"
	"  path TEXT NOT NULL CHECK (path IN ('sms', 'link', 'app', "
	"'voice', 'officer')),"
	"  received_ms INTEGER NOT NULL,"
	"  raw TEXT NOT NULL,"
	"  note TEXT,"
	"  late INTEGER NOT NULL DEFAULT 0 CHECK (late IN (0, 1)),"
	"  UNIQUE (alert_id, responder_id, path, raw)"
	");"
	"CREATE INDEX answers_responder ON answers(responder_id, alert_id);"
	"CREATE TABLE ack_codes ("
	"  alert_id INTEGER NOT NULL REFERENCES alerts(id),"
	"  responder_id TEXT NOT NULL,"
	"  code TEXT NOT NULL,"
	"  created_ms INTEGER NOT NULL,"
	"  PRIMARY KEY (alert_id, responder_id)"
	") WITHOUT ROWID;"
	"CREATE INDEX ack_codes_code ON ack_codes(responder_id, code);"
	"CREATE INDEX deliveries_responder ON deliveries(responder_id) "
	"  WHERE responder_id IS NOT NULL;"
	"CREATE TABLE delivery_texts ("
	"  delivery_id INTEGER PRIMARY KEY REFERENCES deliveries(id),"
	"  text TEXT NOT NULL"
	");",

	/* 7: who must answer (叫应) and their escalation timers.  One row
	 * per (alert, person who must answer): the person's region (for
	 * quorum and reports), when the first message went out (base_ms;
	 * the policy's step delays count from it), the next step to fire
	 * and when (due_ms; NULL once nothing is left to fire), and the
	 * state: open (steps pending), answered (the person answered),
	 * quorum (enough of the region answered), stopped (the alert was
	 * cancelled, superseded or expired), done (every step fired),
	 * unreachable (a step marked them so).  alerts.escalated: the rows
	 * of an alert were written (once, when its plan was complete).
	 * answers.recorded_by / reason: an answer a duty officer recorded
	 * on someone's behalf. */
	"CREATE TABLE escalations ("
	"  alert_id INTEGER NOT NULL REFERENCES alerts(id),"
	"  responder_id TEXT NOT NULL,"
	"  region TEXT NOT NULL,"
	"  channel TEXT NOT NULL,"
	"  base_ms INTEGER NOT NULL,"
	"  step INTEGER NOT NULL DEFAULT 0,"
	"  due_ms INTEGER,"
	"  state TEXT NOT NULL CHECK (state IN ('open', 'answered', "
	"'quorum', 'stopped', 'done', 'unreachable')),"
	"  updated_ms INTEGER NOT NULL,"
	"  PRIMARY KEY (alert_id, responder_id)"
	") WITHOUT ROWID;"
	"CREATE INDEX escalations_due ON escalations(due_ms) "
	"  WHERE state = 'open';"
	"CREATE INDEX escalations_region ON escalations(alert_id, region);"
	"ALTER TABLE alerts ADD COLUMN escalated INTEGER NOT NULL DEFAULT 0;"
	"CREATE INDEX alerts_unescalated ON alerts(id) "
	"  WHERE planned = 1 AND escalated = 0;"
	"ALTER TABLE answers ADD COLUMN recorded_by TEXT;"
	"ALTER TABLE answers ADD COLUMN reason TEXT;",

	/* 8: a responder's preferred address kinds (roster column
	 * "prefer"): canonical names in the person's order joined by ','
	 * ("wecom,phone"), NULL if none. */
	"ALTER TABLE responders ADD COLUMN prefer TEXT;",

	/* 9: accounts and authority (engine/auth.h, store_auth.c).
	 * sessions.id is the SHA-256 (hex) of the cookie's value, never the
	 * value; api_tokens.hash likewise.  audit is append-only: the
	 * triggers refuse UPDATE and DELETE. */
	"CREATE TABLE users ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  display_name TEXT,"
	"  role TEXT NOT NULL CHECK (role IN ('admin', 'officer', "
	"'viewer')),"
	"  jurisdiction TEXT NOT NULL,"
	"  password_hash TEXT NOT NULL,"
	"  disabled INTEGER NOT NULL DEFAULT 0,"
	"  created_ms INTEGER NOT NULL,"
	"  updated_ms INTEGER NOT NULL"
	");"
	"CREATE TABLE sessions ("
	"  id TEXT PRIMARY KEY,"
	"  user_id INTEGER NOT NULL REFERENCES users(id),"
	"  csrf TEXT NOT NULL,"
	"  created_ms INTEGER NOT NULL,"
	"  last_seen_ms INTEGER NOT NULL,"
	"  expires_ms INTEGER NOT NULL,"
	"  from_addr TEXT"
	") WITHOUT ROWID;"
	"CREATE INDEX sessions_user ON sessions(user_id);"
	"CREATE TABLE api_tokens ("
	"  id INTEGER PRIMARY KEY,"
	"  user_id INTEGER NOT NULL REFERENCES users(id),"
	"  name TEXT NOT NULL,"
	"  hash TEXT NOT NULL UNIQUE,"
	"  created_ms INTEGER NOT NULL,"
	"  last_used_ms INTEGER,"
	"  revoked_ms INTEGER"
	");"
	"CREATE UNIQUE INDEX api_tokens_live ON api_tokens(user_id, name) "
	"  WHERE revoked_ms IS NULL;"
	"CREATE TABLE audit ("
	"  id INTEGER PRIMARY KEY,"
	"  at_ms INTEGER NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  action TEXT NOT NULL,"
	"  target TEXT,"
	"  jurisdiction TEXT,"
	"  from_addr TEXT,"
	"  before TEXT,"
	"  after TEXT,"
	"  outcome TEXT NOT NULL"
	");"
	"CREATE INDEX audit_at ON audit(at_ms);"
	"CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit "
	"BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;"
	"CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit "
	"BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;",

	/* 10: warnings waiting for a second officer's approval
	 * (engine/api_warnings.c, store_warning.c): the CAP message as it
	 * was built, ingested unchanged when approved.  regions: the
	 * target codes, space-separated; jurisdiction: the smallest region
	 * holding them all. */
	"CREATE TABLE warnings_pending ("
	"  id INTEGER PRIMARY KEY,"
	"  created_ms INTEGER NOT NULL,"
	"  created_by TEXT NOT NULL,"
	"  source TEXT NOT NULL,"
	"  msg_type TEXT NOT NULL,"
	"  colour INTEGER NOT NULL,"
	"  event TEXT,"
	"  headline TEXT,"
	"  regions TEXT NOT NULL,"
	"  jurisdiction TEXT,"
	"  cap BLOB NOT NULL,"
	"  state TEXT NOT NULL CHECK (state IN ('pending', 'approved', "
	"'rejected')),"
	"  decided_by TEXT,"
	"  decided_ms INTEGER,"
	"  reason TEXT,"
	"  alert_id INTEGER REFERENCES alerts(id)"
	");"
	"CREATE INDEX warnings_pending_state ON warnings_pending(state);",

	/* 11: in-flight deliveries leave the due index.  With "sending"
	 * in it, every claim walked past all the rows in the channels'
	 * hands (they have the lowest ids of their priority) before it
	 * reached one to send: thousands of rows a claim during a big
	 * fan-out.  Leases have an index of their own, by expiry. */
	"DROP INDEX deliveries_due;"
	"CREATE INDEX deliveries_due ON deliveries(priority DESC, id) "
	"  WHERE (state = 'pending' OR state = 'retry');"
	"CREATE INDEX deliveries_lease ON deliveries(lease_until_ms) "
	"  WHERE state = 'sending';",

	/* 12: no index on (alert_id, state).  Every change of a delivery's
	 * state moved its entry (two B-tree writes of the four a claim and
	 * a report make), and a plan's insert wrote one more.  What looked
	 * a delivery up by alert and state (a Cancel, the counts, the
	 * lists) walks the alert's rows by the unique index's alert_id
	 * prefix instead: the whole alert once, at a Cancel or a report. */
	"DROP INDEX deliveries_alert;",
};

int
store_migration_count(void)
{
	return (int)(sizeof(migrations) / sizeof(migrations[0]));
}

int
store_migrate(struct store *s, struct eng_errbuf *eb)
{
	return store_migrate_to(s, store_migration_count(), eb);
}

int
store_migrate_to(struct store *s, int n, struct eng_errbuf *eb)
{
	char sql[64];
	int v, rv;

	if (n > store_migration_count())
		n = store_migration_count();
	v = store_user_version(s);
	if (v < 0)
		return eng_error(eb, ENG_EIO, "%s: cannot read schema version",
		    s->path);
	if (v > store_migration_count())
		return eng_error(eb, ENG_EINVAL,
		    "%s: schema version %d is newer than this build knows (%d)",
		    s->path, v, store_migration_count());
	for (; v < n; v++) {
		if ((rv = store_exec(s, "BEGIN IMMEDIATE", eb)) != 0)
			return rv;
		if ((rv = store_exec(s, migrations[v], eb)) != 0) {
			(void)store_exec(s, "ROLLBACK", NULL);
			return eng_error(eb, rv, "%s: migration %d failed: %s",
			    s->path, v + 1, eb != NULL ? eb->msg : "");
		}
		(void)snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
		    v + 1);
		if ((rv = store_exec(s, sql, eb)) != 0 ||
		    (rv = store_exec(s, "COMMIT", eb)) != 0) {
			(void)store_exec(s, "ROLLBACK", NULL);
			return rv;
		}
	}
	return 0;
}
