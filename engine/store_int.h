/*
 * engine/store_int.h - shared between the store's own files only.
 */
#ifndef ENGINE_STORE_INT_H
#define ENGINE_STORE_INT_H

#include <sys/types.h>

#include <sqlite3.h>

#include "engine/clock.h"
#include "engine/store.h"

/* Slots of the statement cache. */
enum {
	STORE_ST_DELIVERY_ADD = 0,
	STORE_ST_DELIVERY_SET,
	STORE_ST_BEGIN,
	STORE_ST_COMMIT,
	STORE_ST_ALERT_FIND,
	STORE_ST_ALERT_INSERT,
	STORE_ST_ALERT_CHAIN_SELF,
	STORE_ST_ALERT_ADD_REF,
	STORE_ST_REFERRERS,
	STORE_ST_REFERRERS_LINK,
	STORE_ST_ALERT_STATE,
	STORE_ST_CHAIN_MERGE,
	STORE_ST_ALERT_REGION,
	STORE_ST_LEAVES_IN_BOX,
	STORE_ST_REGION_WITHIN,
	STORE_ST_REGION_GET,
	STORE_ST_DELIVERY_FOLLOW,
	STORE_ST_SUBTREE,
	STORE_ST_PARENT_ROW,
	STORE_ST_RESPONDER_BRIEF,
	STORE_ST_CLAIM,
	STORE_ST_SAVEPOINT,
	STORE_ST_RELEASE,
	STORE_ST_ALERT_CHAIN,
	STORE_ST_CLAIM_LEASE,
	STORE_ST_DELIVERIES_SENT,
	STORE_ST_ALERT_STATE_GET,
	STORE_ST_DELIVERY_ADD_ROWS,
	STORE_ST_REGION_CHAIN,
	STORE_ST_CLAIM_MARK,
	STORE_ST_CLAIM_LEASE_MARK,
	STORE_ST_DELIVERIES_SENT_ALL,
	STORE_ST_UNCLAIM,
	STORE_CACHE_N
};

/* store_open: the file must exist already (store_open_like's). */
#define STORE_EXISTING	0x100

struct store {
	sqlite3 *db;
	char *path;
	unsigned flags;
	/* the database file this connection opened (has_file: a file, not
	 * :memory:), to know it again in store_open_like */
	int has_file;
	dev_t dev;
	ino_t ino;
	char root[REGION_CODE_SIZE];	/* "" when not set */
	const struct eng_clock *clock;
	sqlite3_stmt *cache[STORE_CACHE_N];	/* hot statements */
	int64_t busy_since;	/* mono ms of this wait's first retry */
	struct store_turn *turn;	/* the database's queue (store_turn.c) */
	int has_turn;		/* this connection has it */
};

/* How long a writer waits for the write lock, or for its turn, before
 * it gives up with ENG_EBUSY. */
#define STORE_WAIT_MS	30000

/*
 * Turns at the write lock among this process's connections to one
 * database (store_turn.c): store_begin takes one (first come, first
 * served; 0, or ENG_EBUSY after timeout_ms), and once the connection's
 * transaction is over (COMMIT, ROLLBACK, a BEGIN that failed) settle
 * hands it to the next.  open: 0 or ENG_ENOMEM; close gives back a turn
 * still held.
 */
int store_turn_open(struct store *s);
void store_turn_close(struct store *s);
int store_turn_take(struct store *s, int64_t timeout_ms);
void store_turn_settle(struct store *s);

/* After a commit: when a connection waited for the write lock a moment
 * ago, it gets its turn: the next store_begin, on any connection of the
 * process, waits until a few ms after the commit (store.c). */
void store_after_commit(struct store *s);
/* Before BEGIN: what is left of that pause. */
void store_before_begin(struct store *s);

/* Run SQL without results; detail in eb.  Returns 0 or ENG_EIO. */
int store_exec(struct store *s, const char *sql, struct eng_errbuf *eb);
/* Prepare, with the error in eb.  Returns 0 or ENG_EIO. */
int store_prepare(struct store *s, const char *sql, sqlite3_stmt **st,
    struct eng_errbuf *eb);
/*
 * A statement prepared once per connection and kept (reset, bindings
 * cleared) in slot; never finalize it.  Returns 0 or ENG_EIO.
 */
int store_cached(struct store *s, int slot, const char *sql,
    sqlite3_stmt **st, struct eng_errbuf *eb);

/* Bind text, or NULL for a NULL pointer. */
void store_bind_str(sqlite3_stmt *st, int i, const char *v);
/* v as an integer when it is > 0, else NULL (not set: no id, no time). */
void store_bind_pos(sqlite3_stmt *st, int i, int64_t v);
/* A text column (NULL for SQL NULL), borrowed until the next step. */
const char *store_col_text(sqlite3_stmt *st, int i);
/* Step a statement that returns no row; finalize it (or reset it when
 * cached is non-zero).  0 or the mapped error with detail in eb. */
int store_step_done(struct store *s, sqlite3_stmt *st, int cached,
    const char *what, struct eng_errbuf *eb);
/* The [lo, hi) range of tree paths of code's subtree (ENG_ENOENT if
 * code is unknown). */
int store_subtree_range(struct store *s, const char *code, char *lo,
    char *hi, size_t size, struct eng_errbuf *eb);

/* Map a SQLite result code to an eng_err, filling eb from the db. */
int store_err(struct store *s, int rc, const char *what,
    struct eng_errbuf *eb);

/* Migrations (store_migrate.c). */
int store_migrate(struct store *s, struct eng_errbuf *eb);
int store_migration_count(void);

#endif /* ENGINE_STORE_INT_H */
