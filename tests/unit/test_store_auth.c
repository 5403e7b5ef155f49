/*
 * tests/unit/test_store_auth.c - engine/store_auth.c: users, tokens, the
 * audit trail (append-only: the triggers refuse UPDATE and DELETE) and
 * the jurisdiction questions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include "engine/store.h"

/* The store, and a second connection of our own for raw SQL. */
struct fx {
	char dir[64], db[96];
	struct store *s;
	sqlite3 *h;
};

static int
setup(void **state)
{
	static struct fx f;
	struct eng_errbuf eb;

	memset(&f, 0, sizeof(f));
	(void)snprintf(f.dir, sizeof(f.dir), "/tmp/gong-sa.XXXXXX");
	assert_non_null(mkdtemp(f.dir));
	(void)snprintf(f.db, sizeof(f.db), "%s/gong.db", f.dir);
	assert_int_equal(store_open(f.db, 0, &f.s, &eb), 0);
	assert_int_equal(sqlite3_open(f.db, &f.h), SQLITE_OK);
	*state = &f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char p[128];

	sqlite3_close(f->h);
	store_close(f->s);
	(void)unlink(f->db);
	(void)snprintf(p, sizeof(p), "%s-wal", f->db);
	(void)unlink(p);
	(void)snprintf(p, sizeof(p), "%s-shm", f->db);
	(void)unlink(p);
	(void)rmdir(f->dir);
	return 0;
}

static void
audit_row(struct store *s, int64_t at, const char *actor, const char *action,
    const char *jur, const char *outcome)
{
	struct store_audit a;
	struct eng_errbuf eb;
	long long id;

	memset(&a, 0, sizeof(a));
	a.at_ms = at;
	a.actor = actor;
	a.action = action;
	a.target = "alert:1";
	a.jurisdiction = jur;
	a.from_addr = "127.0.0.1";
	a.after = "{\"x\":1}";
	a.outcome = outcome;
	assert_int_equal(store_audit_add(s, &a, &id, &eb), 0);
	assert_true(id > 0);
}

static void
t_audit_append_only(void **state)
{
	struct fx *f = *state;
	char *msg = NULL;

	audit_row(f->s, 1000, "li", "issue", "140425100201", "ok");
	assert_int_equal(sqlite3_exec(f->h, "UPDATE audit SET outcome = "
	    "'denied'", NULL, NULL, &msg), SQLITE_CONSTRAINT);
	assert_string_equal(msg, "audit rows are append-only");
	sqlite3_free(msg);
	msg = NULL;
	assert_int_equal(sqlite3_exec(f->h, "DELETE FROM audit", NULL,
	    NULL, &msg), SQLITE_CONSTRAINT);
	assert_string_equal(msg, "audit rows are append-only");
	sqlite3_free(msg);
	msg = NULL;
	/* Even an UPDATE that changes nothing visible, by id. */
	assert_int_equal(sqlite3_exec(f->h, "UPDATE audit SET id = id "
	    "WHERE id = 1", NULL, NULL, &msg), SQLITE_CONSTRAINT);
	sqlite3_free(msg);
	assert_int_equal(sqlite3_exec(f->h, "SELECT 1 FROM audit WHERE "
	    "outcome = 'ok'", NULL, NULL, NULL), SQLITE_OK);
}

struct rows {
	char s[1024];
	int n;
};

static int
rows_cb(void *arg, const struct store_audit *a)
{
	struct rows *r = arg;
	size_t n = strlen(r->s);

	(void)snprintf(r->s + n, sizeof(r->s) - n, "%s %s %s %s;", a->actor,
	    a->action, a->jurisdiction ? a->jurisdiction : "-", a->outcome);
	r->n++;
	return 0;
}

static void
t_audit_list(void **state)
{
	struct fx *f = *state;
	struct store_audit_filter flt;
	struct eng_errbuf eb;
	struct rows r;

	audit_row(f->s, 1000, "li", "issue", "140425100201", "ok");
	audit_row(f->s, 2000, "wang", "cap", "140403100201", "denied");
	audit_row(f->s, 3000, "li", "login", "140425000000", "ok");
	audit_row(f->s, 4000, "anonymous", "login", NULL, "failed");
	memset(&flt, 0, sizeof(flt));
	memset(&r, 0, sizeof(r));
	assert_int_equal(store_audit_list(f->s, &flt, rows_cb, &r, &eb), 0);
	assert_string_equal(r.s, "anonymous login - failed;"
	    "li login 140425000000 ok;wang cap 140403100201 denied;"
	    "li issue 140425100201 ok;");
	memset(&r, 0, sizeof(r));
	flt.within = "140425000000";
	assert_int_equal(store_audit_list(f->s, &flt, rows_cb, &r, &eb), 0);
	assert_string_equal(r.s, "li login 140425000000 ok;"
	    "li issue 140425100201 ok;");
	memset(&r, 0, sizeof(r));
	flt.within = "140425100000";
	assert_int_equal(store_audit_list(f->s, &flt, rows_cb, &r, &eb), 0);
	assert_string_equal(r.s, "li issue 140425100201 ok;");
	memset(&r, 0, sizeof(r));
	flt.within = NULL;
	flt.actor = "li";
	flt.since_ms = 2000;
	assert_int_equal(store_audit_list(f->s, &flt, rows_cb, &r, &eb), 0);
	assert_string_equal(r.s, "li login 140425000000 ok;");
	memset(&r, 0, sizeof(r));
	memset(&flt, 0, sizeof(flt));
	flt.action = "login";
	flt.limit = 1;
	assert_int_equal(store_audit_list(f->s, &flt, rows_cb, &r, &eb), 0);
	assert_string_equal(r.s, "anonymous login - failed;");
	/* Hostile filter values are only values. */
	memset(&r, 0, sizeof(r));
	flt.action = "login' OR '1'='1";
	assert_int_equal(store_audit_list(f->s, &flt, rows_cb, &r, &eb), 0);
	assert_int_equal(r.n, 0);
}

struct ucopy {
	char role[16], jur[16];
	int disabled, n;
};

static int
user_cb(void *arg, const struct store_user *u)
{
	struct ucopy *c = arg;

	(void)snprintf(c->role, sizeof(c->role), "%s", u->role);
	(void)snprintf(c->jur, sizeof(c->jur), "%s", u->jurisdiction);
	c->disabled = u->disabled;
	c->n++;
	return 0;
}

static void
t_users(void **state)
{
	struct fx *f = *state;
	struct store_user u;
	struct eng_errbuf eb;
	struct ucopy c;
	long long id, n;

	memset(&u, 0, sizeof(u));
	u.name = "li";
	u.role = "officer";
	u.jurisdiction = "140425000000";
	u.password_hash = "$argon2id$x";
	assert_int_equal(store_user_add(f->s, &u, 5, &id, &eb), 0);
	assert_int_equal(store_user_add(f->s, &u, 5, &id, &eb), ENG_EEXIST);
	assert_string_equal(eb.msg, "user already exists");
	u.name = "wang";
	u.role = "root";
	assert_int_equal(store_user_add(f->s, &u, 5, &id, &eb), ENG_EINVAL);
	assert_int_equal(store_user_count(f->s, &n, &eb), 0);
	assert_int_equal(n, 1);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_user_get(f->s, "li", user_cb, &c, &eb), 0);
	assert_string_equal(c.role, "officer");
	assert_int_equal(store_user_get(f->s, "nobody", user_cb, &c, &eb),
	    ENG_ENOENT);
	u.name = "li";
	u.role = "viewer";
	u.disabled = 1;
	assert_int_equal(store_user_update(f->s, &u, 6, &eb), 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_user_get_id(f->s, 1, user_cb, &c, &eb), 0);
	assert_string_equal(c.role, "viewer");
	assert_int_equal(c.disabled, 1);
	u.name = "nobody";
	assert_int_equal(store_user_update(f->s, &u, 6, &eb), ENG_ENOENT);
}

static void
t_jurisdiction_questions(void **state)
{
	struct fx *f = *state;
	struct eng_errbuf eb;
	char reg[REGION_CODE_SIZE];

	assert_int_equal(sqlite3_exec(f->h,
	    "INSERT INTO regions VALUES ('140400000000','长治市',2,NULL,NULL,"
	    "NULL,'140400000000/',1),"
	    "('140425000000','平顺县',3,'140400000000',NULL,NULL,"
	    "'140400000000/140425000000/',1),"
	    "('140425100000','青羊镇',4,'140425000000',NULL,NULL,"
	    "'140400000000/140425000000/140425100000/',1),"
	    "('140403000000','潞州区',3,'140400000000',NULL,NULL,"
	    "'140400000000/140403000000/',1);"
	    "INSERT INTO responders (id,name,region,role,updated_ms) VALUES "
	    "('p1','甲','140425100000','warner',1);"
	    "INSERT INTO alerts (id, sender, identifier, sent, sent_ms, "
	    "status, msg_type, scope, colour, state, received_ms, source, "
	    "via, cap, chain_id, broadcast) VALUES "
	    "(1,'s','a','t',1,'Actual','Alert','Public',1,'active',1,'x',"
	    "'http',x'00',1,1),"
	    "(2,'s','b','t',1,'Actual','Update','Public',1,'active',1,'x',"
	    "'http',x'00',1,1);"
	    "INSERT INTO alert_regions VALUES (1,'140425100000','geocode'),"
	    "(2,'140403000000','geocode');", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(store_responder_region(f->s, "p1", reg, &eb), 0);
	assert_string_equal(reg, "140425100000");
	assert_int_equal(store_responder_region(f->s, "p2", reg, &eb),
	    ENG_ENOENT);
	/* Reading: within or above. */
	assert_int_equal(store_alert_touches(f->s, 1, "140425000000", &eb), 1);
	assert_int_equal(store_alert_touches(f->s, 1, "140425100000", &eb), 1);
	assert_int_equal(store_alert_touches(f->s, 1, "140400000000", &eb), 1);
	assert_int_equal(store_alert_touches(f->s, 2, "140425000000", &eb), 0);
	assert_int_equal(store_alert_touches(f->s, 9, "140425000000", &eb),
	    ENG_ENOENT);
	/* Acting: every region of the chain within. */
	assert_int_equal(store_chain_within(f->s, 1, "140400000000", &eb), 1);
	assert_int_equal(store_chain_within(f->s, 1, "140425000000", &eb), 0);
	assert_int_equal(sqlite3_exec(f->h, "DELETE FROM alert_regions WHERE "
	    "alert_id = 2", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(store_chain_within(f->s, 1, "140425000000", &eb), 1);
	assert_int_equal(store_chain_within(f->s, 1, "140403000000", &eb), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_audit_append_only, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_audit_list, setup, teardown),
		cmocka_unit_test_setup_teardown(t_users, setup, teardown),
		cmocka_unit_test_setup_teardown(t_jurisdiction_questions, setup,
		    teardown),
	};

	return cmocka_run_group_tests_name("store_auth", tests, NULL, NULL);
}
