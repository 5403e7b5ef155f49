/*
 * engine/auth.h - accounts and authority: who is calling (a principal),
 * what they may do (auth_allow), passwords (libsodium argon2id), console
 * sessions, API tokens, CSRF and the login rate limiter.
 *
 * Principals: a user (session cookie), a user's API token, a feed (its
 * own token, bound to its regions; engine/api_alerts.c), or the old
 * admin token (DATA_DIR/admin.token: role admin, jurisdiction the
 * deployment root).
 *
 * The rule (auth_allow): admin may do everything; officer may read,
 * issue, update, cancel and answer on behalf within the subtree of their
 * jurisdiction, and read the audit rows of it; viewer may read within
 * their jurisdiction.  Roster import, backup and user management are
 * for admins only.  Region subtrees are judged by the codes' digits
 * (region_code_within).
 *
 * Secrets: the session cookie and API tokens are 32 random bytes in hex
 * (tokens prefixed "gong_"); only their SHA-256 is stored.  The CSRF
 * token of a session is stored as it is (it is not a credential alone).
 *
 * Thread-safety: the pure functions and the store functions (one store
 * per thread) are thread-safe; a struct auth_limiter has its own lock.
 * Blocking: password hashing and verifying take tens of milliseconds
 * and 64 MiB (crypto_pwhash MEMLIMIT_INTERACTIVE); the store functions
 * block on the store.  Call sodium_init() before any of them.
 */
#ifndef ENGINE_AUTH_H
#define ENGINE_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "engine/err.h"
#include "engine/region.h"

struct store;
struct eng_clock;

#define AUTH_NAME_MAX		64	/* bytes of a user or token name */
#define AUTH_HEX_SIZE		65	/* 32 bytes in hex, NUL */
#define AUTH_TOKEN_SIZE		70	/* "gong_" + 64 hex + NUL */
#define AUTH_HASH_SIZE		128	/* crypto_pwhash_STRBYTES */
#define AUTH_PASSWORD_MIN	10	/* characters of a password */
#define AUTH_PASSWORD_MAX	1024
#define AUTH_SESSION_IDLE_MS	(30LL * 60 * 1000)
#define AUTH_SESSION_MAX_MS	(12LL * 3600 * 1000)

enum auth_kind {
	AUTH_NONE = 0,
	AUTH_USER,		/* a console session */
	AUTH_TOKEN,		/* a user's API token */
	AUTH_FEED,		/* a feed's own token */
	AUTH_ADMIN_TOKEN	/* DATA_DIR/admin.token */
};

enum auth_role {
	AUTH_ROLE_NONE = 0,
	AUTH_ROLE_VIEWER,
	AUTH_ROLE_OFFICER,
	AUTH_ROLE_ADMIN
};

enum auth_action {
	AUTH_READ = 0,		/* alerts, deliveries, answers, reports */
	AUTH_ISSUE,		/* POST a CAP Alert */
	AUTH_UPDATE,		/* a CAP Update */
	AUTH_CANCEL,		/* a CAP Cancel */
	AUTH_ANSWER,		/* record an answer on someone's behalf */
	AUTH_AUDIT,		/* read the audit trail */
	AUTH_IMPORT,		/* roster import */
	AUTH_BACKUP,
	AUTH_USERS,		/* manage users, everyone's tokens */
	AUTH_ACTION_COUNT
};

/* Who is calling. */
struct auth_principal {
	enum auth_kind kind;
	/* user name; for a token "user/token-name"; for a feed its name */
	char name[2 * AUTH_NAME_MAX + 2];
	enum auth_role role;
	char jurisdiction[REGION_CODE_SIZE];
	long long user_id;		/* 0: not a user */
	long long token_id;		/* AUTH_TOKEN */
	int cookie;			/* came with the session cookie */
	char session[AUTH_HEX_SIZE];	/* its stored id (SHA-256) */
	char csrf[AUTH_HEX_SIZE];	/* the session's CSRF token */
};

/* "admin", "officer", "viewer" (NULL for NONE); parse: NONE if unknown. */
const char *auth_role_name(enum auth_role r);
enum auth_role auth_role_parse(const char *s);
/* "read", "issue", ... */
const char *auth_action_name(enum auth_action a);
/* "user", "token", "feed", "admin_token", "none" */
const char *auth_kind_name(enum auth_kind k);

/*
 * May p do a on region (a normalised code; NULL when the action is not
 * about a region)?  1 allow, 0 deny.  When denied and why is not NULL,
 * a sentence naming what is missing is written there.
 */
int auth_allow(const struct auth_principal *p, enum auth_action a,
    const char *region, char *why, size_t wsize);

/* The audit actor of p: the user's name, "token:<name>", "feed:<name>",
 * "token:admin.token", or "anonymous". */
void auth_actor(const struct auth_principal *p, char *buf, size_t size);

/* The smallest region containing both codes, by digits, into out (the
 * other code when one is ""). */
void auth_region_common(const char *a, const char *b,
    char out[REGION_CODE_SIZE]);

/* Hash a password (argon2id, OPSLIMIT/MEMLIMIT_INTERACTIVE).  Returns 0,
 * ENG_EINVAL (shorter than AUTH_PASSWORD_MIN or longer than _MAX
 * characters) or ENG_ENOMEM, with detail in eb. */
int auth_password_hash(const char *pw, char out[AUTH_HASH_SIZE],
    struct eng_errbuf *eb);
/* 1 if pw matches hash, else 0.  hash NULL: checks against a dummy
 * hash, so that an unknown user name costs the same time. */
int auth_password_verify(const char *hash, const char *pw);
/* A random password of len (>= 20) characters [A-Za-z0-9] from a CSPRNG
 * into buf (size > len). */
void auth_password_random(char *buf, size_t len);

/* 32 random bytes in hex; SHA-256 of s in hex. */
void auth_random_hex(char out[AUTH_HEX_SIZE]);
void auth_sha256_hex(const char *s, char out[AUTH_HEX_SIZE]);
/* Constant-time equality of two NUL-terminated strings (1: equal and
 * not empty). */
int auth_str_eq(const char *a, const char *b);

/*
 * A console session for user_id (created now, expires after
 * AUTH_SESSION_MAX_MS): the cookie's value and the CSRF token into
 * cookie and csrf.  from: the client's address (may be NULL).
 */
int auth_session_create(struct store *s, const struct eng_clock *clk,
    long long user_id, const char *from, char cookie[AUTH_HEX_SIZE],
    char csrf[AUTH_HEX_SIZE], struct eng_errbuf *eb);
/*
 * The principal of a session cookie: 0 and *p, or ENG_EAUTH (no such
 * session, idle for AUTH_SESSION_IDLE_MS, past its expiry — the row is
 * deleted then — or its user is disabled), or a store error.  Touches
 * the session's last-seen time.
 */
int auth_session_lookup(struct store *s, const struct eng_clock *clk,
    const char *cookie, struct auth_principal *p, struct eng_errbuf *eb);
/* End the session with stored id (auth_principal.session). */
int auth_session_end(struct store *s, const char *session_id,
    struct eng_errbuf *eb);

/*
 * A new API token named name for user_id: the token (shown once) into
 * token, its id into *id.  ENG_EEXIST if the user has a live token of
 * that name, ENG_EINVAL for a bad name.
 */
int auth_token_create(struct store *s, const struct eng_clock *clk,
    long long user_id, const char *name, char token[AUTH_TOKEN_SIZE],
    long long *id, struct eng_errbuf *eb);
/* The principal of a bearer API token: 0 and *p, ENG_EAUTH (unknown,
 * revoked, its user disabled) or a store error.  Updates last used (at
 * most once a minute). */
int auth_token_lookup(struct store *s, const struct eng_clock *clk,
    const char *token, struct auth_principal *p, struct eng_errbuf *eb);

/*
 * At gongd's start: when there is no user at all, create "admin" (role
 * admin, jurisdiction root) with a random password of
 * AUTH_FIRST_PASSWORD_LEN characters, given back in pw for the caller to
 * show once (it is stored only as its hash) and *created = 1.  Otherwise
 * *created = 0 and pw is "".
 */
#define AUTH_FIRST_PASSWORD_LEN	24
int auth_first_admin(struct store *s, const struct eng_clock *clk,
    const char *root, char pw[AUTH_FIRST_PASSWORD_LEN + 1], int *created,
    struct eng_errbuf *eb);

/* A user or token name: 1..AUTH_NAME_MAX bytes of [A-Za-z0-9._-],
 * not starting with '.' or '-'.  1 valid. */
int auth_name_ok(const char *name);

/*
 * Is a cookie-authenticated request from our own origin?  origin and
 * referer are the request's headers (either may be NULL), host its Host
 * header, public_url the configured public URL (or NULL).  Neither
 * header present: 1 (the CSRF token decides).  "null" or another origin:
 * 0.
 */
int auth_origin_ok(const char *origin, const char *referer,
    const char *host, const char *public_url);

/*
 * The login rate limiter: failure counters per user name and per client
 * address, kept in memory (at most max_entries; when full, the entry
 * seen longest ago that is not blocking anything is forgotten first).
 * After AUTH_NAME_FREE failures for a name (AUTH_ADDR_FREE for an
 * address) each further failure blocks the key for 2^k seconds (k = 1,
 * 2, ... for each failure beyond), at most AUTH_DELAY_MAX_S.  A success
 * clears the name's and the address's counters; a counter is forgotten
 * after AUTH_FORGET_S without failures once its block has passed.
 * Time comes from the clock given (gongd's test clock in tests).
 */
#define AUTH_NAME_FREE		5
#define AUTH_ADDR_FREE		20
#define AUTH_DELAY_MAX_S	900
#define AUTH_FORGET_S		3600
#define AUTH_LIMITER_DEFAULT	10000

struct auth_limiter;

/* clk is borrowed and must outlive the limiter. */
int auth_limiter_new(const struct eng_clock *clk, size_t max_entries,
    struct auth_limiter **out);
void auth_limiter_free(struct auth_limiter *l);
/* Before a password is checked: 0 go ahead, or the seconds (>= 1) to
 * wait (answer 429 with Retry-After). */
long long auth_limiter_check(struct auth_limiter *l, const char *name,
    const char *addr);
void auth_limiter_fail(struct auth_limiter *l, const char *name,
    const char *addr);
void auth_limiter_success(struct auth_limiter *l, const char *name,
    const char *addr);
/* Entries held now (tests, metrics). */
size_t auth_limiter_size(struct auth_limiter *l);

#endif /* ENGINE_AUTH_H */
