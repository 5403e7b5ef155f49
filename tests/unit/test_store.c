/*
 * tests/unit/test_store.c - the SQLite store: migrations, roster import
 * (all or nothing), tree queries, online backup.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <sqlite3.h>

#include "engine/roster.h"
#include "engine/store.h"

struct fx {
	struct store *s;
	char dir[64];
	char db[128];
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct eng_errbuf eb;

	eng_errbuf_init(&eb);
	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/gong-test-store-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	(void)snprintf(f->db, sizeof(f->db), "%s/gong.db", f->dir);
	if (store_open(f->db, 0, &f->s, &eb) != 0) {
		fprintf(stderr, "%s\n", eb.msg);
		return -1;
	}
	store_set_root(f->s, "140400000000");
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[200];

	store_close(f->s);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

#define R(l, c, n, p) { (l), c, (char *)(n), p, 0, 0, 0 }

static struct roster_region tree[] = {
	R(2, "140400000000", "长治市", ""),
	R(3, "140425000000", "平顺县", ""),
	R(4, "140425100000", "青羊镇", ""),
	R(5, "140425100201", "东寺头村", ""),
	R(6, "140425100202", "西寺头村", ""),
	R(7, "140426000000", "黎城县", ""),
};

static void
roster_of_regions(struct roster *r, struct roster_region *v, size_t n)
{
	roster_init(r);
	r->kind = ROSTER_REGIONS;
	r->file = (char *)"regions.csv";
	r->regions = v;
	r->nregions = n;
}

static void
load_tree(struct fx *f)
{
	struct store_import_result res;
	struct diag_list d;
	struct eng_errbuf eb;
	struct roster r;

	diag_list_init(&d);
	eng_errbuf_init(&eb);
	roster_of_regions(&r, tree, sizeof(tree) / sizeof(tree[0]));
	assert_int_equal(store_import(f->s, &r, 0, &res, &d, &eb), 0);
	assert_int_equal(res.inserted, 6);
	assert_int_equal(res.updated, 0);
	diag_list_release(&d);
}

static struct roster_responder people[] = {
	{ 2, (char *)"p1", (char *)"张三", "140425100201",
	    (char *)"responsible", (char *)"10000000001", NULL, NULL, NULL,
	    NULL, NULL, 1, 0, NULL },
	{ 3, (char *)"p2", (char *)"李四", "140425100202",
	    (char *)"warner", (char *)"10000000002", NULL, NULL, NULL, NULL,
	    NULL, 1, 1, NULL },
	{ 4, (char *)"p3", (char *)"王五", "140425000000",
	    (char *)"duty_officer", (char *)"10000000003", NULL, NULL, NULL,
	    NULL, NULL, 1, 0, NULL },
	{ 5, (char *)"p4", (char *)"赵六", "140426000000",
	    (char *)"duty_officer", (char *)"10000000004", NULL, NULL, NULL,
	    NULL, NULL, 0, 0, NULL },
};

static int
load_people(struct fx *f, struct roster_responder *v, size_t n,
    struct diag_list *d, struct store_import_result *res)
{
	struct eng_errbuf eb;
	struct roster r;

	eng_errbuf_init(&eb);
	roster_init(&r);
	r.kind = ROSTER_RESPONDERS;
	r.file = (char *)"responders.csv";
	r.responders = v;
	r.nresponders = n;
	return store_import(f->s, &r, 0, res, d, &eb);
}

static void
t_fresh_schema(void **state)
{
	struct fx *f = *state;
	struct store_counts n;
	struct eng_errbuf eb;

	assert_int_equal(store_user_version(f->s), store_schema_version());
	assert_int_equal(store_counts(f->s, &n, &eb), 0);
	assert_int_equal(n.regions, 0);
	assert_int_equal(n.responders, 0);
	assert_int_equal(n.devices, 0);
}

static void
t_migrate_from_v1(void **state)
{
	struct fx *f = *state;
	struct store *s;
	struct store_counts n;
	struct eng_errbuf eb;
	char db[160];
	sqlite3 *h;
	sqlite3_stmt *st;

	(void)snprintf(db, sizeof(db), "%s/old.db", f->dir);
	assert_int_equal(store_open(db, STORE_NOMIGRATE, &s, &eb), 0);
	assert_int_equal(store_user_version(s), 0);
	assert_int_equal(store_migrate_to(s, 1, &eb), 0);
	assert_int_equal(store_user_version(s), 1);
	store_close(s);
	/* Data written by a version-1 build. */
	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, "INSERT INTO regions VALUES "
	    "('140400000000','长治市',2,NULL,NULL,NULL,'140400000000/',1);"
	    "INSERT INTO responders (id,name,region,role,phone,updated_ms) "
	    "VALUES ('a','甲','140400000000','duty_officer','10000000009',1);",
	    NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, "SELECT count(*) FROM "
	    "sqlite_schema WHERE name = 'imports'", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 0);
	sqlite3_finalize(st);
	sqlite3_close(h);

	assert_int_equal(store_open(db, 0, &s, &eb), 0);
	assert_int_equal(store_user_version(s), store_schema_version());
	assert_int_equal(store_counts(s, &n, &eb), 0);
	assert_int_equal(n.regions, 1);
	assert_int_equal(n.responders, 1);
	store_close(s);
	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, "SELECT count(*) FROM "
	    "sqlite_schema WHERE name IN ('imports', 'responders_phone')", -1,
	    &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 2);
	sqlite3_finalize(st);
	sqlite3_close(h);
}

/* A person's id and preferences, from store_people or the list. */
struct prefs {
	char v[4][64];
	int n;
};

static int
person_pref_cb(void *arg, const struct store_person *p)
{
	struct prefs *c = arg;

	if (c->n < 4)
		(void)snprintf(c->v[c->n++], sizeof(c->v[0]), "%s=%s", p->id,
		    p->prefer != NULL ? p->prefer : "(null)");
	return 0;
}

static int
listed_pref_cb(void *arg, const struct roster_responder *r)
{
	struct prefs *c = arg;

	if (c->n < 4)
		(void)snprintf(c->v[c->n++], sizeof(c->v[0]), "%s=%s", r->id,
		    r->prefer != NULL ? r->prefer : "(null)");
	return 0;
}

/* Migration 8 (responders.prefer) on a version-7 database keeps its
 * rows; the new column is NULL until an import fills it, and an import
 * without it empties it again (the file is the truth). */
static void
t_migrate_8_from_7(void **state)
{
	struct fx *f = *state;
	struct roster_responder v[2];
	struct store_import_result res;
	struct store_counts n;
	struct diag_list d;
	struct eng_errbuf eb;
	struct prefs c;
	struct roster r;
	struct store *s;
	char db[160];
	sqlite3 *h;

	assert_int_equal(store_schema_version(), 12);
	(void)snprintf(db, sizeof(db), "%s/v7.db", f->dir);
	assert_int_equal(store_open(db, STORE_NOMIGRATE, &s, &eb), 0);
	assert_int_equal(store_migrate_to(s, 7, &eb), 0);
	assert_int_equal(store_user_version(s), 7);
	store_close(s);
	/* Data written by a version-7 build: no prefer column. */
	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, "INSERT INTO regions VALUES "
	    "('140400000000','长治市',2,NULL,NULL,NULL,'140400000000/',1);"
	    "INSERT INTO responders (id,name,region,role,phone,wecom,"
	    "updated_ms) VALUES ('a','甲','140400000000','duty_officer',"
	    "'10000000009','wx_a',1),('b','乙','140400000000','leader',"
	    "'10000000008',NULL,1);", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, "SELECT prefer FROM responders",
	    NULL, NULL, NULL), SQLITE_ERROR);
	sqlite3_close(h);

	assert_int_equal(store_open(db, 0, &s, &eb), 0);
	assert_int_equal(store_user_version(s), store_schema_version());
	assert_int_equal(store_counts(s, &n, &eb), 0);
	assert_int_equal(n.regions, 1);
	assert_int_equal(n.responders, 2);
	store_set_root(s, "140400000000");
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_people(s, "140400000000", 0, person_pref_cb,
	    &c, &eb), 0);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.v[0], "a=(null)");
	assert_string_equal(c.v[1], "b=(null)");

	/* An import with preferences: stored, listed, planned from. */
	memset(v, 0, sizeof(v));
	v[0].line = 2;
	v[0].id = (char *)"a";
	v[0].name = (char *)"甲";
	(void)snprintf(v[0].region, sizeof(v[0].region), "140400000000");
	v[0].role = (char *)"duty_officer";
	v[0].phone = (char *)"10000000009";
	v[0].wecom = (char *)"wx_a";
	v[0].active = 1;
	v[0].prefer = (char *)"wecom,phone";
	v[1] = v[0];
	v[1].line = 3;
	v[1].id = (char *)"c";
	v[1].prefer = NULL;
	roster_init(&r);
	r.kind = ROSTER_RESPONDERS;
	r.file = (char *)"responders.csv";
	r.responders = v;
	r.nresponders = 2;
	diag_list_init(&d);
	assert_int_equal(store_import(s, &r, 0, &res, &d, &eb), 0);
	assert_int_equal(res.inserted, 1);
	assert_int_equal(res.updated, 1);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_people(s, "140400000000", 0, person_pref_cb,
	    &c, &eb), 0);
	assert_int_equal(c.n, 3);
	assert_string_equal(c.v[0], "a=wecom,phone");
	assert_string_equal(c.v[1], "b=(null)");
	assert_string_equal(c.v[2], "c=(null)");
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_responders_list(s, "140400000000", 0, -1, 0,
	    listed_pref_cb, &c, NULL, &eb), 0);
	assert_int_equal(c.n, 3);
	assert_string_equal(c.v[0], "a=wecom,phone");
	/* Imported again without preferences: gone. */
	v[0].prefer = NULL;
	assert_int_equal(store_import(s, &r, 0, &res, &d, &eb), 0);
	assert_int_equal(res.updated, 2);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_people(s, "140400000000", 1, person_pref_cb,
	    &c, &eb), 0);
	assert_string_equal(c.v[0], "a=(null)");
	diag_list_release(&d);
	store_close(s);
}

static void
t_newer_schema_refused(void **state)
{
	struct fx *f = *state;
	struct store *s = NULL;
	struct eng_errbuf eb;
	char db[160];
	sqlite3 *h;

	(void)snprintf(db, sizeof(db), "%s/new.db", f->dir);
	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, "PRAGMA user_version = 99", NULL,
	    NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	eng_errbuf_init(&eb);
	assert_int_equal(store_open(db, 0, &s, &eb), ENG_EINVAL);
	assert_null(s);
	assert_non_null(strstr(eb.msg, "schema version 99 is newer"));
}

static void
t_not_a_database(void **state)
{
	struct fx *f = *state;
	struct store *s = NULL;
	struct eng_errbuf eb;
	char db[160];
	FILE *fp;

	(void)snprintf(db, sizeof(db), "%s/junk.db", f->dir);
	fp = fopen(db, "w");
	assert_non_null(fp);
	fputs("this is not a database, just text that is long enough to "
	    "look like a header of something else entirely..........\n", fp);
	fclose(fp);
	eng_errbuf_init(&eb);
	assert_int_not_equal(store_open(db, 0, &s, &eb), 0);
	assert_null(s);
	assert_non_null(strstr(eb.msg, "not a usable database"));
}

static void
t_import_tree_and_query(void **state)
{
	struct fx *f = *state;
	struct store_counts n;
	struct store_region g;
	struct eng_errbuf eb;

	load_tree(f);
	assert_int_equal(store_region_get(f->s, "140425100000", &g, &eb), 0);
	assert_string_equal(g.name, "青羊镇");
	assert_int_equal(g.level, REGION_TOWNSHIP);
	assert_string_equal(g.parent, "140425000000");
	store_region_release(&g);
	assert_int_equal(store_region_get(f->s, "140425100299", &g, &eb),
	    ENG_ENOENT);
	assert_int_equal(store_region_counts(f->s, "140425000000", &n, &eb),
	    0);
	assert_int_equal(n.regions, 4);
	assert_int_equal(store_region_counts(f->s, "140400000000", &n, &eb),
	    0);
	assert_int_equal(n.regions, 6);
}

struct collect {
	char codes[8][REGION_CODE_SIZE];
	int n;
};

static int
collect_code_cb(void *arg, const char *code)
{
	struct collect *c = arg;

	if (c->n < 8)
		(void)snprintf(c->codes[c->n++], REGION_CODE_SIZE, "%s", code);
	return 0;
}

static int
collect_cb(void *arg, const struct store_region *g)
{
	return collect_code_cb(arg, g->code);
}


/* The same regions again (a restart re-imports the configured rosters):
 * every row an update, nothing rejected. */
static void
t_regions_reimport(void **state)
{
	struct fx *f = *state;
	struct store_import_result res;
	struct store_counts n;
	struct diag_list d;
	struct eng_errbuf eb;
	struct roster r;

	load_tree(f);
	diag_list_init(&d);
	eng_errbuf_init(&eb);
	roster_of_regions(&r, tree, sizeof(tree) / sizeof(tree[0]));
	assert_int_equal(store_import(f->s, &r, 0, &res, &d, &eb), 0);
	assert_int_equal(d.nerrors, 0);
	assert_int_equal(res.inserted, 0);
	assert_int_equal(res.updated, 6);
	assert_int_equal(store_counts(f->s, &n, &eb), 0);
	assert_int_equal(n.regions, 6);
	diag_list_release(&d);
}


static int
stop_cb(void *arg, const char *code)
{
	(void)arg;
	(void)code;
	return 42;
}

/*
 * A second connection to the same database (the planner's chunk
 * writer's): it sees what the first wrote.  None for a database in
 * memory, none once the path is gone, and none when the path names
 * another database than the one the first connection has open.
 */
static void
t_open_like(void **state)
{
	struct fx *f = *state;
	struct store *o = NULL, *m = NULL, *other = NULL;
	struct store_counts n;
	struct eng_errbuf eb;
	char moved[160];

	load_tree(f);
	eng_errbuf_init(&eb);
	assert_int_equal(store_open_like(f->s, &o, &eb), 0);
	assert_int_equal(store_counts(o, &n, &eb), 0);
	assert_int_equal(n.regions, 6);
	store_close(o);

	assert_int_equal(store_open(":memory:", 0, &m, &eb), 0);
	assert_int_equal(store_open_like(m, &o, &eb), ENG_EINVAL);
	assert_null(o);
	store_close(m);

	(void)snprintf(moved, sizeof(moved), "%s.moved", f->db);
	assert_int_equal(rename(f->db, moved), 0);
	assert_int_equal(store_open_like(f->s, &o, &eb), ENG_EIO);
	assert_null(o);
	assert_int_not_equal(access(f->db, F_OK), 0);	/* not created */

	assert_int_equal(store_open(f->db, 0, &other, &eb), 0);
	assert_int_equal(store_open_like(f->s, &o, &eb), ENG_EIO);
	assert_null(o);
	assert_non_null(strstr(eb.msg, "moved or replaced"));
	store_close(other);
	assert_int_equal(rename(moved, f->db), 0);
}

static void
t_parents_children(void **state)
{
	struct fx *f = *state;
	struct store_region g;
	struct collect c;
	struct eng_errbuf eb;

	load_tree(f);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_region_parents(f->s, "140425100201",
	    collect_cb, &c, &eb), 0);
	assert_int_equal(c.n, 3);
	assert_string_equal(c.codes[0], "140400000000");
	assert_string_equal(c.codes[1], "140425000000");
	assert_string_equal(c.codes[2], "140425100000");
	/* The region and the same codes in one read. */
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_region_chain(f->s, "140425100201", &g,
	    collect_code_cb, &c, &eb), 0);
	assert_string_equal(g.code, "140425100201");
	assert_int_equal(g.level, REGION_VILLAGE);
	assert_non_null(g.name);
	assert_true(g.name[0] != '\0');
	store_region_release(&g);
	assert_int_equal(c.n, 3);
	assert_string_equal(c.codes[0], "140400000000");
	assert_string_equal(c.codes[1], "140425000000");
	assert_string_equal(c.codes[2], "140425100000");
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_region_chain(f->s, "140400000000", &g,
	    collect_code_cb, &c, &eb), 0);
	assert_int_equal(c.n, 0);	/* the top has none */
	store_region_release(&g);
	assert_int_equal(store_region_chain(f->s, "140425100201", &g,
	    stop_cb, NULL, &eb), 42);
	assert_null(g.name);		/* released on failure */
	assert_int_equal(store_region_chain(f->s, "140425999999", &g,
	    collect_code_cb, &c, &eb), ENG_ENOENT);
	assert_non_null(strstr(eb.msg, "140425999999"));
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_region_children(f->s, "140400000000",
	    collect_cb, &c, &eb), 0);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.codes[0], "140425000000");
	assert_string_equal(c.codes[1], "140426000000");
}

static void
t_regions_outside_root_and_orphans(void **state)
{
	struct fx *f = *state;
	struct roster_region bad[] = {
		R(2, "140525000000", "晋城某县", ""),	/* other city */
		R(3, "140427100000", "无县之镇", ""),	/* parent missing */
		R(4, "140427100201", "无县之村", ""),	/* chain missing */
		R(5, "140428000000", "长子县", ""),	/* fine */
	};
	struct store_import_result res;
	struct store_counts n;
	struct diag_list d;
	struct eng_errbuf eb;
	struct roster r;
	char buf[512];

	load_tree(f);
	diag_list_init(&d);
	roster_of_regions(&r, bad, 4);
	assert_int_equal(store_import(f->s, &r, 0, &res, &d, &eb),
	    ENG_EINVAL);
	assert_int_equal(d.nerrors, 3);
	assert_string_equal(diag_format(&d.v[0], buf, sizeof(buf)),
	    "regions.csv:2: error: code: region 140525000000 is outside the "
	    "deployment root 140400000000");
	assert_int_equal(d.v[1].line, 3);
	assert_non_null(strstr(d.v[1].msg, "parent region 140427000000 of "
	    "140427100000 is neither in the store nor in this file"));
	assert_int_equal(d.v[2].line, 4);
	/* All or nothing: the good row is not there either. */
	assert_int_equal(store_counts(f->s, &n, &eb), 0);
	assert_int_equal(n.regions, 6);
	diag_list_release(&d);
}

static void
t_children_before_parents_in_file(void **state)
{
	struct fx *f = *state;
	struct roster_region v[] = {
		R(2, "140425100201", "东寺头村", ""),
		R(3, "140425100000", "青羊镇", ""),
		R(4, "140425000000", "平顺县", ""),
		R(5, "140400000000", "长治市", ""),
	};
	struct store_import_result res;
	struct diag_list d;
	struct eng_errbuf eb;
	struct roster r;

	diag_list_init(&d);
	roster_of_regions(&r, v, 4);
	assert_int_equal(store_import(f->s, &r, 0, &res, &d, &eb), 0);
	assert_int_equal(res.inserted, 4);
	diag_list_release(&d);
}

static void
t_explicit_parent_and_move(void **state)
{
	struct fx *f = *state;
	/* A development zone attached to 平顺县 by an explicit parent, then
	 * moved under 黎城县 with its village. */
	struct roster_region v1[] = {
		R(2, "140471000000", "高新区", "140425000000"),
		R(3, "140471100000", "高新镇", ""),
	};
	struct roster_region v2[] = {
		R(2, "140471000000", "高新区", "140426000000"),
	};
	struct store_import_result res;
	struct store_counts n;
	struct collect c;
	struct diag_list d;
	struct eng_errbuf eb;
	struct roster r;

	load_tree(f);
	diag_list_init(&d);
	roster_of_regions(&r, v1, 2);
	assert_int_equal(store_import(f->s, &r, 0, &res, &d, &eb), 0);
	assert_int_equal(store_region_counts(f->s, "140425000000", &n, &eb),
	    0);
	assert_int_equal(n.regions, 6);
	roster_of_regions(&r, v2, 1);
	assert_int_equal(store_import(f->s, &r, 0, &res, &d, &eb), 0);
	assert_int_equal(res.updated, 1);
	assert_int_equal(store_region_counts(f->s, "140425000000", &n, &eb),
	    0);
	assert_int_equal(n.regions, 4);
	assert_int_equal(store_region_counts(f->s, "140426000000", &n, &eb),
	    0);
	assert_int_equal(n.regions, 3);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_region_parents(f->s, "140471100000",
	    collect_cb, &c, &eb), 0);
	assert_int_equal(c.n, 3);
	assert_string_equal(c.codes[1], "140426000000");
	assert_int_equal(d.nerrors, 0);
	diag_list_release(&d);
}

static void
t_responders_all_or_nothing(void **state)
{
	struct fx *f = *state;
	struct roster_responder bad[] = {
		people[0],
		{ 7, (char *)"p9", (char *)"孙八", "140425100299",
		    (char *)"responsible", (char *)"10000000009", NULL, NULL,
		    NULL, NULL, NULL, 1, 0, NULL },
	};
	struct store_import_result res;
	struct store_counts n;
	struct diag_list d;
	struct eng_errbuf eb;
	char buf[512];

	load_tree(f);
	diag_list_init(&d);
	assert_int_equal(load_people(f, bad, 2, &d, &res), ENG_EINVAL);
	assert_int_equal(d.nerrors, 1);
	assert_string_equal(diag_format(&d.v[0], buf, sizeof(buf)),
	    "responders.csv:7: error: region: unknown region 140425100299 "
	    "(import it in regions.csv first)");
	assert_int_equal(store_counts(f->s, &n, &eb), 0);
	assert_int_equal(n.responders, 0);
	diag_list_release(&d);
}

struct names {
	char ids[8][8];
	int exercise[8];
	int n;
};

static int
name_cb(void *arg, const struct roster_responder *r)
{
	struct names *c = arg;

	if (c->n < 8) {
		(void)snprintf(c->ids[c->n], sizeof(c->ids[0]), "%s", r->id);
		c->exercise[c->n] = r->exercise;
		c->n++;
	}
	return 0;
}

static void
t_responders_upsert_and_lists(void **state)
{
	struct fx *f = *state;
	struct store_import_result res;
	struct store_counts n;
	struct diag_list d;
	struct eng_errbuf eb;
	struct names c;
	long long total;

	load_tree(f);
	diag_list_init(&d);
	assert_int_equal(load_people(f, people, 4, &d, &res), 0);
	assert_int_equal(res.inserted, 4);
	assert_int_equal(load_people(f, people, 2, &d, &res), 0);
	assert_int_equal(res.inserted, 0);
	assert_int_equal(res.updated, 2);
	assert_int_equal(store_region_counts(f->s, "140425000000", &n, &eb),
	    0);
	assert_int_equal(n.responders, 3);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_responders_list(f->s, "140425000000", 0, -1, 0,
	    name_cb, &c, &total, &eb), 0);
	assert_int_equal(total, 1);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.ids[0], "p3");
	diag_list_release(&d);
}

static void
t_list_subtree_paging(void **state)
{
	struct fx *f = *state;
	struct store_import_result res;
	struct diag_list d;
	struct eng_errbuf eb;
	struct names c;
	long long total;

	load_tree(f);
	diag_list_init(&d);
	assert_int_equal(load_people(f, people, 4, &d, &res), 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_responders_list(f->s, "140425000000", 1, 2, 1,
	    name_cb, &c, &total, &eb), 0);
	assert_int_equal(total, 3);
	/* Ordered by tree path then id: p3 (county), p1, p2 (villages). */
	assert_int_equal(c.n, 2);
	assert_string_equal(c.ids[0], "p1");
	assert_string_equal(c.ids[1], "p2");
	assert_int_equal(c.exercise[1], 1);
	diag_list_release(&d);
}

static void
t_devices(void **state)
{
	struct fx *f = *state;
	struct roster_device dv[] = {
		{ 2, (char *)"d1", "140425100201", DEVICE_LOUDSPEAKER,
		    (char *)"sirens-mqtt", (char *)"village/140425100201/spk" },
		{ 3, (char *)"d2", "140425100201", DEVICE_SIREN,
		    (char *)"sirens-mqtt", (char *)"village/140425100201/siren" },
	};
	struct store_import_result res;
	struct store_counts n;
	struct diag_list d;
	struct eng_errbuf eb;
	struct roster r;

	load_tree(f);
	diag_list_init(&d);
	roster_init(&r);
	r.kind = ROSTER_DEVICES;
	r.file = (char *)"devices.csv";
	r.devices = dv;
	r.ndevices = 2;
	assert_int_equal(store_import(f->s, &r, 1, &res, &d, &eb), 0);
	assert_int_equal(res.inserted, 2);
	assert_int_equal(store_counts(f->s, &n, &eb), 0);
	assert_int_equal(n.devices, 0);		/* dry run */
	assert_int_equal(store_import(f->s, &r, 0, &res, &d, &eb), 0);
	assert_int_equal(store_region_counts(f->s, "140425100000", &n, &eb),
	    0);
	assert_int_equal(n.devices, 2);
	diag_list_release(&d);
}

static void
t_backup(void **state)
{
	struct fx *f = *state;
	struct store_import_result res;
	struct store_counts a, b;
	struct diag_list d;
	struct eng_errbuf eb;
	struct store *s;
	char path[200];

	load_tree(f);
	diag_list_init(&d);
	assert_int_equal(load_people(f, people, 4, &d, &res), 0);
	(void)snprintf(path, sizeof(path), "%s/copy.db", f->dir);
	assert_int_equal(store_backup(f->s, path, &eb), 0);
	assert_int_equal(store_open(path, STORE_READONLY, &s, &eb), 0);
	assert_int_equal(store_counts(s, &b, &eb), 0);
	assert_int_equal(store_counts(f->s, &a, &eb), 0);
	assert_int_equal(a.regions, b.regions);
	assert_int_equal(a.responders, b.responders);
	assert_int_equal(b.responders, 4);
	assert_int_equal(store_user_version(s), store_schema_version());
	store_close(s);
	diag_list_release(&d);
}

/* Turns at the write lock (store_turn.c): a thread's store_begin on its
 * own connection to the same file. */
struct turn_try {
	struct store *s;
	atomic_int *first_done;	/* set by the first holder before it ends */
	atomic_int returned;
	int rv, saw_done;
};

static void *
turn_thread(void *p)
{
	struct turn_try *t = p;
	struct eng_errbuf eb;

	eng_errbuf_init(&eb);
	t->rv = store_begin(t->s, &eb);
	t->saw_done = atomic_load(t->first_done);
	atomic_store(&t->returned, 1);
	if (t->rv == 0)
		t->rv = store_commit(t->s, &eb);
	return NULL;
}

static void
nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	(void)nanosleep(&ts, NULL);
}

/*
 * A writer that finds the turn taken waits for it, and gets it when the
 * holder commits; a BEGIN that fails inside the holder's transaction
 * does not give it away; another database file, and :memory:, have turns
 * of their own; a connection closed in its transaction gives the turn
 * back.  ("Not yet" is checked over 200 ms, which a slow machine can only
 * make easier to pass.)
 */
static void
t_write_turns(void **state)
{
	struct fx *f = *state;
	struct store *s2 = NULL, *s3 = NULL, *m1 = NULL, *m2 = NULL;
	struct turn_try b, c;
	struct eng_errbuf eb;
	atomic_int done = 0;
	char other[160];
	pthread_t tb, tc;

	eng_errbuf_init(&eb);
	(void)snprintf(other, sizeof(other), "%s/other.db", f->dir);
	assert_int_equal(store_open(f->db, 0, &s2, &eb), 0);
	assert_int_equal(store_open(other, 0, &s3, &eb), 0);

	assert_int_equal(store_begin(f->s, &eb), 0);
	memset(&b, 0, sizeof(b));
	b.s = s2;
	b.first_done = &done;
	assert_int_equal(pthread_create(&tb, NULL, turn_thread, &b), 0);
	nap_ms(200);
	assert_int_equal(atomic_load(&b.returned), 0);
	/* a BEGIN inside the transaction fails and keeps the turn */
	assert_int_not_equal(store_begin(f->s, &eb), 0);
	nap_ms(200);
	assert_int_equal(atomic_load(&b.returned), 0);
	/* another file: at once, from the thread that holds this one's */
	assert_int_equal(store_begin(s3, &eb), 0);
	assert_int_equal(store_commit(s3, &eb), 0);
	atomic_store(&done, 1);
	assert_int_equal(store_commit(f->s, &eb), 0);
	assert_int_equal(pthread_join(tb, NULL), 0);
	assert_int_equal(b.rv, 0);
	assert_int_equal(b.saw_done, 1);

	/* closed in its transaction: the turn goes on */
	assert_int_equal(store_begin(s2, &eb), 0);
	memset(&c, 0, sizeof(c));
	c.s = f->s;
	c.first_done = &done;
	assert_int_equal(pthread_create(&tc, NULL, turn_thread, &c), 0);
	nap_ms(200);
	assert_int_equal(atomic_load(&c.returned), 0);
	store_close(s2);
	assert_int_equal(pthread_join(tc, NULL), 0);
	assert_int_equal(c.rv, 0);

	/* two :memory: databases, one thread: no turn to wait for */
	assert_int_equal(store_open(":memory:", 0, &m1, &eb), 0);
	assert_int_equal(store_open(":memory:", 0, &m2, &eb), 0);
	assert_int_equal(store_begin(m1, &eb), 0);
	assert_int_equal(store_begin(m2, &eb), 0);
	assert_int_equal(store_commit(m2, &eb), 0);
	assert_int_equal(store_commit(m1, &eb), 0);
	store_close(m1);
	store_close(m2);
	store_close(s3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_fresh_schema, setup, teardown),
		cmocka_unit_test_setup_teardown(t_migrate_8_from_7, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_migrate_from_v1, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_newer_schema_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_not_a_database, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_import_tree_and_query, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_open_like, setup, teardown),
		cmocka_unit_test_setup_teardown(t_parents_children, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_regions_reimport, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    t_regions_outside_root_and_orphans, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    t_children_before_parents_in_file, setup, teardown),
		cmocka_unit_test_setup_teardown(t_explicit_parent_and_move,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(t_responders_all_or_nothing,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(t_responders_upsert_and_lists,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(t_list_subtree_paging, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_devices, setup, teardown),
		cmocka_unit_test_setup_teardown(t_backup, setup, teardown),
		cmocka_unit_test_setup_teardown(t_write_turns, setup,
		    teardown),
	};

	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
