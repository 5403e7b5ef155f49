/*
 * tests/unit/test_store_vfs.c - the VFS that gathers write-ahead log
 * writes (engine/store_vfs.c): what it writes is what SQLite wrote,
 * read back by connections on the plain unix VFS; a commit is in the
 * file before any other connection hears of it, also without a sync
 * (synchronous = NORMAL); pages spilled in a transaction are read back;
 * rollbacks, checkpoints and the log's restart; a database in
 * rollback-journal mode (its writes gathered too); a process that dies in a
 * transaction (killed) leaves the last commit whole, one killed right
 * after its commit leaves that commit.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <sqlite3.h>

#include "engine/store.h"

#define BLOB	(300 * 1024)	/* ~75 pages: many frames per commit */

struct fx {
	char dir[64];
	char db[128];
};

static int
setup(void **state)
{
	struct fx *x = calloc(1, sizeof(*x));

	if (x == NULL)
		return -1;
	(void)snprintf(x->dir, sizeof(x->dir), "/tmp/gong-test-vfs-XXXXXX");
	if (mkdtemp(x->dir) == NULL) {
		free(x);
		return -1;
	}
	(void)snprintf(x->db, sizeof(x->db), "%s/t.db", x->dir);
	*state = x;
	return store_vfs_install() == 0 ? 0 : -1;
}

static int
teardown(void **state)
{
	struct fx *x = *state;
	char cmd[160];
	int rv;

	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", x->dir);
	rv = system(cmd) == 0 ? 0 : -1;
	free(x);
	return rv;
}

static sqlite3 *
open_db(const char *path, const char *vfs, const char *pragmas)
{
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, vfs), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA journal_mode = WAL;"
	    "PRAGMA busy_timeout = 5000;", NULL, NULL, NULL), SQLITE_OK);
	if (pragmas != NULL)
		assert_int_equal(sqlite3_exec(db, pragmas, NULL, NULL, NULL),
		    SQLITE_OK);
	return db;
}

static void
exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg != NULL ? msg : "?");
}

/* The blob of row k: every byte a function of k and its offset. */
static void
fill(unsigned char *b, size_t n, int k)
{
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = (unsigned char)((i * 31u + (unsigned)k * 7u) ^
		    (i >> 9));
}

static void
insert(sqlite3 *db, int k)
{
	static unsigned char b[BLOB];
	sqlite3_stmt *st;

	fill(b, sizeof(b), k);
	assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO t(k, b) "
	    "VALUES (?, ?)", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_int(st, 1, k);
	sqlite3_bind_blob(st, 2, b, (int)sizeof(b), SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
}

/* Rows of db: their count, each blob checked byte for byte. */
static int
check_rows(sqlite3 *db)
{
	static unsigned char want[BLOB];
	sqlite3_stmt *st;
	int n = 0, rc;

	assert_int_equal(sqlite3_prepare_v2(db, "SELECT k, b FROM t ORDER "
	    "BY k", -1, &st, NULL), SQLITE_OK);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int k = sqlite3_column_int(st, 0);

		fill(want, sizeof(want), k);
		assert_int_equal(sqlite3_column_bytes(st, 1), BLOB);
		assert_memory_equal(sqlite3_column_blob(st, 1), want, BLOB);
		n++;
	}
	assert_int_equal(rc, SQLITE_DONE);
	sqlite3_finalize(st);
	return n;
}

static void
integrity(sqlite3 *db)
{
	sqlite3_stmt *st;

	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1,
	    &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
	sqlite3_finalize(st);
}

static const char *
vfs_name(sqlite3 *db)
{
	static char name[64];
	char *v = NULL;

	assert_int_equal(sqlite3_file_control(db, "main", SQLITE_FCNTL_VFSNAME,
	    &v), SQLITE_OK);
	(void)snprintf(name, sizeof(name), "%s", v != NULL ? v : "");
	sqlite3_free(v);
	return name;
}

/* Committed through the VFS, read through plain unix at each commit,
 * with and without a sync at the commit. */
static void
t_commits_seen(void **state)
{
	static const char *const modes[] = {
		"PRAGMA synchronous = FULL;", "PRAGMA synchronous = NORMAL;",
	};
	struct fx *x = *state;
	sqlite3 *w, *r;
	size_t m;
	int k, n = 0;

	for (m = 0; m < 2; m++) {
		w = open_db(x->db, NULL, modes[m]);
		assert_string_equal(vfs_name(w), "gong-gather/unix");
		if (m == 0)
			exec(w, "CREATE TABLE t (k INTEGER PRIMARY KEY, "
			    "b BLOB)");
		r = open_db(x->db, "unix", NULL);
		for (k = 0; k < 12; k++) {
			exec(w, "BEGIN IMMEDIATE");
			insert(w, n + k);
			if (k % 3 == 0)
				insert(w, 1000 + n + k);
			exec(w, "COMMIT");
			/* The other connection sees it all at once. */
			assert_int_equal(check_rows(r), n + k + 1 +
			    (k / 3) + 1 + (int)m * 4);
		}
		n += 12;
		integrity(r);
		assert_int_equal(sqlite3_close(r), SQLITE_OK);
		assert_int_equal(sqlite3_close(w), SQLITE_OK);
	}
	r = open_db(x->db, "unix", NULL);
	assert_int_equal(check_rows(r), 24 + 8);
	integrity(r);
	assert_int_equal(sqlite3_close(r), SQLITE_OK);
}

/* A transaction bigger than the page cache: its pages spill into the
 * log mid-transaction and are read back; then one rolled back; then
 * checkpoints and the log's restart at its start. */
static void
t_spill_rollback_restart(void **state)
{
	struct fx *x = *state;
	sqlite3 *w, *r;
	int k;

	w = open_db(x->db, NULL, "PRAGMA cache_size = 20;"
	    "PRAGMA wal_autocheckpoint = 0;");
	exec(w, "CREATE TABLE t (k INTEGER PRIMARY KEY, b BLOB)");
	exec(w, "BEGIN IMMEDIATE");
	for (k = 0; k < 10; k++)
		insert(w, k);
	assert_int_equal(check_rows(w), 10);	/* read back in the txn */
	exec(w, "COMMIT");
	exec(w, "BEGIN IMMEDIATE");
	for (k = 10; k < 16; k++)
		insert(w, k);
	exec(w, "ROLLBACK");
	assert_int_equal(check_rows(w), 10);
	r = open_db(x->db, "unix", NULL);
	assert_int_equal(check_rows(r), 10);
	/* Checkpoint everything, then the log starts over at its start. */
	exec(w, "PRAGMA wal_checkpoint(TRUNCATE)");
	for (k = 20; k < 24; k++) {
		exec(w, "BEGIN IMMEDIATE");
		insert(w, k);
		exec(w, "COMMIT");
		if (k == 21)
			exec(w, "PRAGMA wal_checkpoint(RESTART)");
	}
	assert_int_equal(check_rows(r), 14);
	integrity(r);
	assert_int_equal(sqlite3_close(r), SQLITE_OK);
	assert_int_equal(sqlite3_close(w), SQLITE_OK);
	r = open_db(x->db, "unix", NULL);
	assert_int_equal(check_rows(r), 14);
	integrity(r);
	assert_int_equal(sqlite3_close(r), SQLITE_OK);
}

/* A child process writes and dies (no close, no exit handlers): in the
 * middle of a transaction, or right after its commit. */
static void
t_crash(void **state)
{
	struct fx *x = *state;
	sqlite3 *w, *r;
	pid_t pid;
	int st, k, how;

	w = open_db(x->db, NULL, NULL);
	exec(w, "CREATE TABLE t (k INTEGER PRIMARY KEY, b BLOB)");
	exec(w, "BEGIN IMMEDIATE");
	insert(w, 0);
	exec(w, "COMMIT");
	assert_int_equal(sqlite3_close(w), SQLITE_OK);
	for (how = 0; how < 2; how++) {
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			w = open_db(x->db, NULL, "PRAGMA synchronous = "
			    "NORMAL;");
			exec(w, "BEGIN IMMEDIATE");
			for (k = 1; k < 4; k++)
				insert(w, how * 10 + k);
			if (how == 1)
				exec(w, "COMMIT");
			/* Dies with whatever is gathered, as in a crash. */
			(void)kill(getpid(), SIGKILL);
			_exit(1);
		}
		assert_int_equal(waitpid(pid, &st, 0), pid);
		assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
		r = open_db(x->db, "unix", NULL);
		integrity(r);
		/* Died in the transaction: only row 0; after the commit:
		 * its three rows too. */
		assert_int_equal(check_rows(r), how == 0 ? 1 : 4);
		assert_int_equal(sqlite3_close(r), SQLITE_OK);
	}
}

/* Killed right after a checkpoint that copied big pages into the
 * database (gathered writes): every row there, whole. */
static void
t_crash_checkpoint(void **state)
{
	struct fx *x = *state;
	sqlite3 *w, *r;
	pid_t pid;
	int st, k;

	w = open_db(x->db, NULL, NULL);
	exec(w, "CREATE TABLE t (k INTEGER PRIMARY KEY, b BLOB)");
	assert_int_equal(sqlite3_close(w), SQLITE_OK);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		w = open_db(x->db, NULL, "PRAGMA wal_autocheckpoint = 0;");
		for (k = 0; k < 6; k++) {
			exec(w, "BEGIN IMMEDIATE");
			insert(w, k);
			exec(w, "COMMIT");
		}
		exec(w, "PRAGMA wal_checkpoint(PASSIVE)");
		exec(w, "BEGIN IMMEDIATE");
		insert(w, 99);		/* in the log, not committed */
		(void)kill(getpid(), SIGKILL);
		_exit(1);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	r = open_db(x->db, "unix", NULL);
	integrity(r);
	assert_int_equal(check_rows(r), 6);
	exec(r, "PRAGMA wal_checkpoint(TRUNCATE)");
	assert_int_equal(check_rows(r), 6);
	integrity(r);
	assert_int_equal(sqlite3_close(r), SQLITE_OK);
}

/* Rollback-journal mode (as a backup copy is written): the database's
 * writes gathered, seen whole by a plain reader after each commit; a
 * writer killed in a transaction is rolled back from its journal. */
static void
t_rollback_journal(void **state)
{
	struct fx *x = *state;
	sqlite3 *w, *r;
	pid_t pid;
	int st, k;

	assert_int_equal(sqlite3_open_v2(x->db, &w, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, NULL), SQLITE_OK);
	exec(w, "PRAGMA journal_mode = DELETE; PRAGMA busy_timeout = 5000;"
	    "PRAGMA cache_size = 20;");
	exec(w, "CREATE TABLE t (k INTEGER PRIMARY KEY, b BLOB)");
	assert_int_equal(sqlite3_open_v2(x->db, &r, SQLITE_OPEN_READWRITE,
	    "unix"), SQLITE_OK);
	exec(r, "PRAGMA busy_timeout = 5000;");
	for (k = 0; k < 5; k++) {
		exec(w, "BEGIN IMMEDIATE");
		insert(w, 2 * k);
		insert(w, 2 * k + 1);
		exec(w, "COMMIT");
		assert_int_equal(check_rows(r), 2 * k + 2);
	}
	assert_int_equal(sqlite3_close(w), SQLITE_OK);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		assert_int_equal(sqlite3_close(r), SQLITE_OK);
		assert_int_equal(sqlite3_open_v2(x->db, &w,
		    SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
		exec(w, "PRAGMA cache_size = 20; BEGIN IMMEDIATE;"
		    "DELETE FROM t WHERE k < 4;");
		for (k = 50; k < 56; k++)
			insert(w, k);	/* spills into the database */
		(void)kill(getpid(), SIGKILL);
		_exit(1);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	assert_int_equal(check_rows(r), 10);
	integrity(r);
	assert_int_equal(sqlite3_close(r), SQLITE_OK);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_commits_seen, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_spill_rollback_restart,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(t_crash, setup, teardown),
		cmocka_unit_test_setup_teardown(t_crash_checkpoint, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_rollback_journal, setup,
		    teardown),
	};

	return cmocka_run_group_tests_name("store_vfs", tests, NULL, NULL);
}
