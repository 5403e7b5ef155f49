/*
 * engine/store.c - opening, migrating and copying the SQLite store.
 */
#include "engine/store_int.h"

#include <errno.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BUSY_POLL_US	1000	/* a waiter tries again every 1 ms */
#define TURN_WINDOW_MS	3	/* "still waiting": a waiter polls every 1 ms */
#define TURN_PAUSE_US	3000	/* what a committer leaves them */

/*
 * Fair turns at the write lock.  The writers that begin with store_begin
 * queue for their turn in this process (store_turn.c) and hand it on at
 * once.  The others (an autocommit statement such as an audit row, a
 * transaction begun by hand, another process) meet SQLite's lock.
 * SQLite's own busy handler sleeps longer and longer (up to 100 ms), so
 * writers that commit and begin again at once (the planner writing chunk
 * after chunk of a large fan-out, the dispatcher, the escalation thread)
 * could keep such a request waiting until it times out.  Here a waiter
 * polls every millisecond and says so; after a commit that follows a
 * recent wait, the next store_begin, whoever's turn it is, begins no
 * sooner than a few milliseconds later, which leaves the lock free for
 * the waiter.
 */
static _Atomic int64_t last_wait_ms = -1000000;
static _Atomic int64_t pause_until_us;

static int
busy_cb(void *arg, int n)
{
	struct store *s = arg;
	int64_t now = eng_mono_ms();

	if (n == 0)
		s->busy_since = now;
	atomic_store(&last_wait_ms, now);
	if (now - s->busy_since >= STORE_WAIT_MS)
		return 0;
	(void)usleep(BUSY_POLL_US);
	return 1;
}

void
store_after_commit(struct store *s)
{
	(void)s;
	/* Not a sleep here: what the thread does before its next
	 * transaction (the dispatcher's rendering and hand-over, the
	 * planner's reading) overlaps the waiter's turn. */
	if (eng_mono_ms() - atomic_load(&last_wait_ms) < TURN_WINDOW_MS)
		atomic_store(&pause_until_us, eng_mono_us() + TURN_PAUSE_US);
}

void
store_before_begin(struct store *s)
{
	int64_t left = atomic_load(&pause_until_us) - eng_mono_us();
	sqlite3_stmt *st;

	if (left <= 0)
		return;
	/* A reader still open on this connection keeps its snapshot: had
	 * another writer gone in between, its BEGIN would fail.  It goes
	 * on without a pause. */
	for (st = sqlite3_next_stmt(s->db, NULL); st != NULL;
	    st = sqlite3_next_stmt(s->db, st))
		if (sqlite3_stmt_busy(st))
			return;
	(void)usleep((useconds_t)left);
}

int
store_schema_version(void)
{
	return store_migration_count();
}

int
store_err(struct store *s, int rc, const char *what, struct eng_errbuf *eb)
{
	int err;

	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		err = ENG_EBUSY;
		break;
	case SQLITE_NOMEM:
		err = ENG_ENOMEM;
		break;
	case SQLITE_CONSTRAINT:
	case SQLITE_MISMATCH:
	case SQLITE_TOOBIG:
	case SQLITE_RANGE:
		err = ENG_EINVAL;
		break;
	default:
		err = ENG_EIO;
		break;
	}
	return eng_error(eb, err, "store: %s: %s", what,
	    s != NULL && s->db != NULL ? sqlite3_errmsg(s->db) :
	    sqlite3_errstr(rc));
}

int
store_exec(struct store *s, const char *sql, struct eng_errbuf *eb)
{
	char *msg = NULL;
	int rc;

	rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		int err = store_err(s, rc, "exec", NULL);

		(void)eng_error(eb, err, "store: %s", msg != NULL ? msg :
		    sqlite3_errstr(rc));
		sqlite3_free(msg);
		return err;
	}
	return 0;
}

int
store_prepare(struct store *s, const char *sql, sqlite3_stmt **st,
    struct eng_errbuf *eb)
{
	int rc;

	rc = sqlite3_prepare_v2(s->db, sql, -1, st, NULL);
	if (rc != SQLITE_OK) {
		*st = NULL;
		return store_err(s, rc, "prepare", eb);
	}
	return 0;
}

int
store_cached(struct store *s, int slot, const char *sql, sqlite3_stmt **st,
    struct eng_errbuf *eb)
{
	int rv;

	if (s->cache[slot] == NULL &&
	    (rv = store_prepare(s, sql, &s->cache[slot], eb)) != 0)
		return rv;
	(void)sqlite3_reset(s->cache[slot]);
	(void)sqlite3_clear_bindings(s->cache[slot]);
	*st = s->cache[slot];
	return 0;
}

int
store_user_version(struct store *s)
{
	sqlite3_stmt *st;
	int v = -1;

	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st,
	    NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Note which file s opened (none for :memory: or a temporary one). */
static void
file_identity(struct store *s)
{
	const char *file = sqlite3_db_filename(s->db, "main");
	struct stat sb;

	s->has_file = 0;
	if (file != NULL && file[0] != '\0' && stat(file, &sb) == 0) {
		s->has_file = 1;
		s->dev = sb.st_dev;
		s->ino = sb.st_ino;
	}
}

int
store_open(const char *path, unsigned flags, struct store **out,
    struct eng_errbuf *eb)
{
	struct store *s;
	int oflags, rc, rv;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return eng_error(eb, ENG_ENOMEM, "store: out of memory");
	s->flags = flags;
	s->clock = &eng_clock_system;
	if ((s->path = strdup(path)) == NULL) {
		free(s);
		return eng_error(eb, ENG_ENOMEM, "store: out of memory");
	}
	oflags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_PRIVATECACHE;
	if (flags & STORE_READONLY)
		oflags |= SQLITE_OPEN_READONLY;
	else if (flags & STORE_EXISTING)
		oflags |= SQLITE_OPEN_READWRITE;
	else
		oflags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	rc = sqlite3_open_v2(path, &s->db, oflags, NULL);
	if (rc != SQLITE_OK) {
		rv = eng_error(eb, ENG_EIO, "store: cannot open %s: %s", path,
		    s->db != NULL ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		goto fail;
	}
	(void)sqlite3_extended_result_codes(s->db, 1);
	(void)sqlite3_busy_handler(s->db, busy_cb, s);
	/* Read one page so that a file that is not a database fails here. */
	if ((rv = store_exec(s, "PRAGMA foreign_keys = ON;"
	    "SELECT count(*) FROM sqlite_schema", eb)) != 0) {
		(void)eng_error(eb, rv, "store: %s is not a usable database: "
		    "%s", path, sqlite3_errmsg(s->db));
		goto fail;
	}
	file_identity(s);
	if (!(flags & STORE_READONLY)) {
		/*
		 * synchronous = FULL: a commit is on disk before the caller
		 * hears of it, so an accepted warning survives a power cut
		 * (三断: power outages are what gong is for).  NORMAL would
		 * be about a third faster for CAP ingest here, and lose the
		 * last commits on power loss.  The WAL is checkpointed every
		 * 8192 pages rather than 1000: fewer, larger checkpoints.
		 */
		if ((rv = store_exec(s, "PRAGMA journal_mode = WAL;"
		    "PRAGMA synchronous = FULL;"
		    "PRAGMA wal_autocheckpoint = 8192;"
		    "PRAGMA temp_store = MEMORY;", eb)) != 0)
			goto fail;
		if ((flags & STORE_REPLAYABLE) && (rv = store_exec(s,
		    "PRAGMA synchronous = NORMAL;", eb)) != 0)
			goto fail;
		if (!(flags & STORE_NOMIGRATE) &&
		    (rv = store_migrate(s, eb)) != 0)
			goto fail;
		if ((rv = store_turn_open(s)) != 0) {
			(void)eng_error(eb, rv, "store: out of memory");
			goto fail;
		}
	}
	*out = s;
	return 0;
fail:
	store_close(s);
	return rv;
}

void
store_close(struct store *s)
{
	int i;

	if (s == NULL)
		return;
	for (i = 0; i < STORE_CACHE_N; i++)
		sqlite3_finalize(s->cache[i]);
	store_turn_close(s);
	if (s->db != NULL) {
		if (!(s->flags & STORE_READONLY))
			(void)sqlite3_exec(s->db, "PRAGMA optimize", NULL,
			    NULL, NULL);
		(void)sqlite3_close_v2(s->db);
	}
	free(s->path);
	free(s);
}

int
store_open_like(struct store *s, struct store **out, struct eng_errbuf *eb)
{
	int rv;

	*out = NULL;
	if (!s->has_file)
		return eng_error(eb, ENG_EINVAL, "store: an in-memory "
		    "database has no second connection");
	/* Never a new file: the path must still name the file s has open
	 * (a database moved or replaced meanwhile would take the rows
	 * written on the new connection away from everyone else). */
	if ((rv = store_open(s->path, s->flags | STORE_NOMIGRATE |
	    STORE_EXISTING, out, eb)) != 0)
		return rv;
	if (!(*out)->has_file || (*out)->dev != s->dev ||
	    (*out)->ino != s->ino) {
		store_close(*out);
		*out = NULL;
		return eng_error(eb, ENG_EIO, "store: %s is no longer the "
		    "database this process opened (moved or replaced)",
		    s->path);
	}
	(*out)->clock = s->clock;
	memcpy((*out)->root, s->root, sizeof(s->root));
	return 0;
}

void
store_set_root(struct store *s, const char *root)
{
	(void)snprintf(s->root, sizeof(s->root), "%s", root ? root : "");
}

void
store_set_clock(struct store *s, const struct eng_clock *clock)
{
	s->clock = clock != NULL ? clock : &eng_clock_system;
}

int
store_ping(struct store *s, struct eng_errbuf *eb)
{
	return store_exec(s, "SELECT count(*) FROM sqlite_schema", eb);
}

static int
count_table(struct store *s, const char *sql, long long *out,
    struct eng_errbuf *eb)
{
	sqlite3_stmt *st;
	int rc, rv;

	if ((rv = store_prepare(s, sql, &st, eb)) != 0)
		return rv;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int64(st, 0);
		rv = 0;
	} else {
		rv = store_err(s, rc, "count", eb);
	}
	sqlite3_finalize(st);
	return rv;
}

int
store_counts(struct store *s, struct store_counts *out,
    struct eng_errbuf *eb)
{
	int rv;

	memset(out, 0, sizeof(*out));
	if ((rv = count_table(s, "SELECT count(*) FROM regions",
	    &out->regions, eb)) != 0 ||
	    (rv = count_table(s, "SELECT count(*) FROM responders",
	    &out->responders, eb)) != 0 ||
	    (rv = count_table(s, "SELECT count(*) FROM devices",
	    &out->devices, eb)) != 0)
		return rv;
	return 0;
}

int
store_backup(struct store *s, const char *path, struct eng_errbuf *eb)
{
	char tmp[4096];
	sqlite3 *dst = NULL;
	sqlite3_backup *bk;
	int n, rc, rv = 0, fd;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return eng_error(eb, ENG_EINVAL, "backup: path too long");
	(void)unlink(tmp);
	rc = sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK) {
		rv = eng_error(eb, ENG_EIO, "backup: cannot create %s: %s",
		    tmp, dst ? sqlite3_errmsg(dst) : sqlite3_errstr(rc));
		goto out;
	}
	/* One step over all pages: a single read transaction, so the copy
	 * is consistent; writers on other connections go on (WAL). */
	if ((bk = sqlite3_backup_init(dst, "main", s->db, "main")) == NULL) {
		rv = eng_error(eb, ENG_EIO, "backup: %s", sqlite3_errmsg(dst));
		goto out;
	}
	do {
		rc = sqlite3_backup_step(bk, -1);
		if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
			sqlite3_sleep(20);
	} while (rc == SQLITE_OK || rc == SQLITE_BUSY ||
	    rc == SQLITE_LOCKED);
	(void)sqlite3_backup_finish(bk);
	if (rc != SQLITE_DONE) {
		rv = eng_error(eb, ENG_EIO, "backup: copy failed: %s",
		    sqlite3_errstr(rc));
		goto out;
	}
	/* A standalone file: no WAL beside it. */
	(void)sqlite3_exec(dst, "PRAGMA journal_mode = DELETE", NULL, NULL,
	    NULL);
	(void)sqlite3_close_v2(dst);
	dst = NULL;
	if ((fd = open(tmp, O_RDONLY)) >= 0) {
		(void)fsync(fd);
		(void)close(fd);
	}
	if (rename(tmp, path) != 0) {
		rv = eng_error(eb, ENG_EIO, "backup: rename to %s: %s", path,
		    strerror(errno));
		goto out;
	}
out:
	if (dst != NULL)
		(void)sqlite3_close_v2(dst);
	if (rv != 0)
		(void)unlink(tmp);
	return rv;
}

void
store_bind_str(sqlite3_stmt *st, int i, const char *v)
{
	if (v == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

void
store_bind_pos(sqlite3_stmt *st, int i, int64_t v)
{
	if (v > 0)
		sqlite3_bind_int64(st, i, v);
	else
		sqlite3_bind_null(st, i);
}

const char *
store_col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

int
store_step_done(struct store *s, sqlite3_stmt *st, int cached,
    const char *what, struct eng_errbuf *eb)
{
	int rc = sqlite3_step(st), rv = 0;

	if (rc != SQLITE_DONE)
		rv = store_err(s, rc, what, eb);
	if (cached)
		sqlite3_reset(st);
	else
		sqlite3_finalize(st);
	return rv;
}

int
store_subtree_range(struct store *s, const char *code, char *lo, char *hi,
    size_t size, struct eng_errbuf *eb)
{
	sqlite3_stmt *st;
	int rv, rc;
	size_t n;

	if ((rv = store_cached(s, STORE_ST_SUBTREE, "SELECT path FROM regions "
	    "WHERE code = ?", &st, eb)) != 0)
		return rv;
	store_bind_str(st, 1, code);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		n = (size_t)snprintf(lo, size, "%s", store_col_text(st, 0));
		if (n >= size) {
			rv = eng_error(eb, ENG_EIO, "region path too long");
		} else {
			/* The subtree's paths start with lo: they sort below
			 * lo with its final '/' turned into '0'. */
			memcpy(hi, lo, n + 1);
			if (n > 0)
				hi[n - 1] = '0';
		}
	} else if (rc == SQLITE_DONE) {
		rv = eng_error(eb, ENG_ENOENT, "region %s not found", code);
	} else {
		rv = store_err(s, rc, "region path", eb);
	}
	sqlite3_reset(st);
	return rv;
}
