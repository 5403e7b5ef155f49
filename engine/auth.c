/*
 * engine/auth.c - principals, the authorisation rule, passwords,
 * sessions, API tokens, the origin check and the login rate limiter.
 */
#include "engine/auth.h"
#include "engine/clock.h"
#include "engine/store.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const role_names[] = {
	[AUTH_ROLE_NONE] = NULL,
	[AUTH_ROLE_VIEWER] = "viewer",
	[AUTH_ROLE_OFFICER] = "officer",
	[AUTH_ROLE_ADMIN] = "admin",
};

static const char *const action_names[AUTH_ACTION_COUNT] = {
	[AUTH_READ] = "read",
	[AUTH_ISSUE] = "issue",
	[AUTH_UPDATE] = "update",
	[AUTH_CANCEL] = "cancel",
	[AUTH_ANSWER] = "answer",
	[AUTH_AUDIT] = "audit",
	[AUTH_IMPORT] = "import",
	[AUTH_BACKUP] = "backup",
	[AUTH_USERS] = "users",
};

const char *
auth_role_name(enum auth_role r)
{
	return r <= AUTH_ROLE_ADMIN ? role_names[r] : NULL;
}

enum auth_role
auth_role_parse(const char *s)
{
	int r;

	for (r = AUTH_ROLE_VIEWER; s != NULL && r <= AUTH_ROLE_ADMIN; r++)
		if (strcmp(s, role_names[r]) == 0)
			return (enum auth_role)r;
	return AUTH_ROLE_NONE;
}

const char *
auth_action_name(enum auth_action a)
{
	return a < AUTH_ACTION_COUNT ? action_names[a] : "?";
}

const char *
auth_kind_name(enum auth_kind k)
{
	switch (k) {
	case AUTH_USER:
		return "user";
	case AUTH_TOKEN:
		return "token";
	case AUTH_FEED:
		return "feed";
	case AUTH_ADMIN_TOKEN:
		return "admin_token";
	default:
		return "none";
	}
}

int
auth_allow(const struct auth_principal *p, enum auth_action a,
    const char *region, char *why, size_t wsize)
{
	const char *rn;
	int role_ok;

	if (why != NULL && wsize > 0)
		why[0] = '\0';
	if (p == NULL || p->kind == AUTH_NONE || p->kind == AUTH_FEED) {
		if (why != NULL)
			(void)snprintf(why, wsize, "%s needs an account",
			    auth_action_name(a));
		return 0;
	}
	rn = auth_role_name(p->role) ? auth_role_name(p->role) : "none";
	switch (p->role) {
	case AUTH_ROLE_ADMIN:
		return 1;
	case AUTH_ROLE_OFFICER:
		role_ok = a == AUTH_READ || a == AUTH_ISSUE ||
		    a == AUTH_UPDATE || a == AUTH_CANCEL || a == AUTH_ANSWER ||
		    a == AUTH_AUDIT;
		break;
	case AUTH_ROLE_VIEWER:
		role_ok = a == AUTH_READ;
		break;
	default:
		role_ok = 0;
		break;
	}
	if (!role_ok) {
		if (why != NULL)
			(void)snprintf(why, wsize, "%s needs role %s (%s has "
			    "role %s)", auth_action_name(a),
			    a == AUTH_IMPORT || a == AUTH_BACKUP ||
			    a == AUTH_USERS || a == AUTH_AUDIT ?
			    (a == AUTH_AUDIT ? "officer or admin" : "admin") :
			    "officer or admin", p->name, rn);
		return 0;
	}
	if (region == NULL || region[0] == '\0')
		return 1;
	if (p->jurisdiction[0] != '\0' &&
	    region_code_within(region, p->jurisdiction))
		return 1;
	if (why != NULL)
		(void)snprintf(why, wsize, "%s of region %s needs a "
		    "jurisdiction over it (%s's is %s)", auth_action_name(a),
		    region, p->name, p->jurisdiction[0] ? p->jurisdiction :
		    "none");
	return 0;
}

void
auth_actor(const struct auth_principal *p, char *buf, size_t size)
{
	switch (p != NULL ? p->kind : AUTH_NONE) {
	case AUTH_USER:
		(void)snprintf(buf, size, "%s", p->name);
		break;
	case AUTH_TOKEN:
		(void)snprintf(buf, size, "token:%s", p->name);
		break;
	case AUTH_FEED:
		(void)snprintf(buf, size, "feed:%s", p->name);
		break;
	case AUTH_ADMIN_TOKEN:
		(void)snprintf(buf, size, "token:admin.token");
		break;
	default:
		(void)snprintf(buf, size, "anonymous");
		break;
	}
}

void
auth_region_common(const char *a, const char *b, char out[REGION_CODE_SIZE])
{
	static const size_t seg[] = { 2, 4, 6, 9, 12 };
	size_t i, keep = 0;

	if (a == NULL || a[0] == '\0' || b == NULL || b[0] == '\0') {
		(void)snprintf(out, REGION_CODE_SIZE, "%s",
		    a != NULL && a[0] ? a : b != NULL ? b : "");
		return;
	}
	for (i = 0; i < sizeof(seg) / sizeof(seg[0]); i++) {
		if (strlen(a) < seg[i] || strlen(b) < seg[i] ||
		    strncmp(a, b, seg[i]) != 0)
			break;
		keep = seg[i];
	}
	memset(out, '0', REGION_CODE_LEN);
	memcpy(out, a, keep);
	out[keep == 0 ? 0 : REGION_CODE_LEN] = '\0';
}

/* ------------------------------------------------------------------ */
/* Passwords and random strings                                        */
/* ------------------------------------------------------------------ */

int
auth_password_hash(const char *pw, char out[AUTH_HASH_SIZE],
    struct eng_errbuf *eb)
{
	size_t n = strlen(pw), chars = 0, i;

	for (i = 0; i < n; i++)
		if (((unsigned char)pw[i] & 0xc0) != 0x80)
			chars++;
	if (chars < AUTH_PASSWORD_MIN)
		return eng_error(eb, ENG_EINVAL, "a password has at least %d "
		    "characters", AUTH_PASSWORD_MIN);
	if (n > AUTH_PASSWORD_MAX)
		return eng_error(eb, ENG_EINVAL, "a password has at most %d "
		    "bytes", AUTH_PASSWORD_MAX);
	if (crypto_pwhash_str(out, pw, n, crypto_pwhash_OPSLIMIT_INTERACTIVE,
	    crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		return eng_error(eb, ENG_ENOMEM, "out of memory hashing a "
		    "password");
	return 0;
}

static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static char dummy_hash[AUTH_HASH_SIZE];

static void
dummy_make(void)
{
	char pw[32];

	auth_password_random(pw, 24);
	if (crypto_pwhash_str(dummy_hash, pw, strlen(pw),
	    crypto_pwhash_OPSLIMIT_INTERACTIVE,
	    crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		dummy_hash[0] = '\0';
	sodium_memzero(pw, sizeof(pw));
}

int
auth_password_verify(const char *hash, const char *pw)
{
	size_t n = strlen(pw);

	if (n > AUTH_PASSWORD_MAX)
		return 0;
	if (hash == NULL) {
		(void)pthread_once(&dummy_once, dummy_make);
		if (dummy_hash[0] != '\0' &&
		    crypto_pwhash_str_verify(dummy_hash, pw, n) == 0)
			return 0;	/* a random password: never */
		return 0;
	}
	return crypto_pwhash_str_verify(hash, pw, n) == 0;
}

void
auth_password_random(char *buf, size_t len)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789";
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = abc[randombytes_uniform(sizeof(abc) - 1)];
	buf[len] = '\0';
}

void
auth_random_hex(char out[AUTH_HEX_SIZE])
{
	unsigned char b[32];

	randombytes_buf(b, sizeof(b));
	(void)sodium_bin2hex(out, AUTH_HEX_SIZE, b, sizeof(b));
	sodium_memzero(b, sizeof(b));
}

void
auth_sha256_hex(const char *s, char out[AUTH_HEX_SIZE])
{
	unsigned char h[crypto_hash_sha256_BYTES];

	(void)crypto_hash_sha256(h, (const unsigned char *)s, strlen(s));
	(void)sodium_bin2hex(out, AUTH_HEX_SIZE, h, sizeof(h));
}

int
auth_str_eq(const char *a, const char *b)
{
	size_t n;

	if (a == NULL || b == NULL || (n = strlen(a)) == 0 || n != strlen(b))
		return 0;
	return sodium_memcmp(a, b, n) == 0;
}

int
auth_name_ok(const char *name)
{
	size_t i, n = name != NULL ? strlen(name) : 0;

	if (n == 0 || n > AUTH_NAME_MAX || name[0] == '.' || name[0] == '-')
		return 0;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		    c == '-'))
			return 0;
	}
	return 1;
}

/* ------------------------------------------------------------------ */
/* Sessions and tokens                                                 */
/* ------------------------------------------------------------------ */

struct user_ctx {
	struct auth_principal *p;
	int disabled;
};

static int
user_cb(void *arg, const struct store_user *u)
{
	struct user_ctx *c = arg;

	c->p->user_id = u->id;
	c->p->role = auth_role_parse(u->role);
	(void)snprintf(c->p->jurisdiction, sizeof(c->p->jurisdiction), "%s",
	    u->jurisdiction ? u->jurisdiction : "");
	if (c->p->kind == AUTH_USER)
		(void)snprintf(c->p->name, sizeof(c->p->name), "%s", u->name);
	c->disabled = u->disabled;
	return 0;
}

/* Fill p from user id; ENG_EAUTH if the user is gone or disabled. */
static int
principal_of_user(struct store *s, long long id, struct auth_principal *p,
    struct eng_errbuf *eb)
{
	struct user_ctx c = { p, 0 };
	int rv;

	rv = store_user_get_id(s, id, user_cb, &c, eb);
	if (rv == ENG_ENOENT || (rv == 0 && c.disabled))
		return eng_error(eb, ENG_EAUTH, "the account is disabled or "
		    "gone");
	if (rv == 0 && p->role == AUTH_ROLE_NONE)
		return eng_error(eb, ENG_EAUTH, "the account has no role");
	return rv;
}

int
auth_session_create(struct store *s, const struct eng_clock *clk,
    long long user_id, const char *from, char cookie[AUTH_HEX_SIZE],
    char csrf[AUTH_HEX_SIZE], struct eng_errbuf *eb)
{
	struct store_session x;
	char id[AUTH_HEX_SIZE];
	int64_t now = eng_clock_now_ms(clk);
	int rv;

	auth_random_hex(cookie);
	auth_random_hex(csrf);
	auth_sha256_hex(cookie, id);
	memset(&x, 0, sizeof(x));
	x.id = id;
	x.user_id = user_id;
	x.csrf = csrf;
	x.created_ms = x.last_seen_ms = now;
	x.expires_ms = now + AUTH_SESSION_MAX_MS;
	x.from_addr = from;
	/* Now and then, the sessions that ended by themselves go. */
	(void)store_sessions_purge(s, now, now - AUTH_SESSION_IDLE_MS, NULL);
	if ((rv = store_session_add(s, &x, eb)) != 0)
		sodium_memzero(cookie, AUTH_HEX_SIZE);
	return rv;
}

struct sess_ctx {
	struct auth_principal *p;
	int64_t last_seen, expires;
};

static int
sess_cb(void *arg, const struct store_session *x)
{
	struct sess_ctx *c = arg;

	c->p->user_id = x->user_id;
	(void)snprintf(c->p->csrf, sizeof(c->p->csrf), "%s",
	    x->csrf ? x->csrf : "");
	c->last_seen = x->last_seen_ms;
	c->expires = x->expires_ms;
	return 0;
}

int
auth_session_lookup(struct store *s, const struct eng_clock *clk,
    const char *cookie, struct auth_principal *p, struct eng_errbuf *eb)
{
	struct sess_ctx c;
	int64_t now = eng_clock_now_ms(clk);
	int rv;

	memset(p, 0, sizeof(*p));
	memset(&c, 0, sizeof(c));
	c.p = p;
	if (cookie == NULL || strlen(cookie) != AUTH_HEX_SIZE - 1)
		return eng_error(eb, ENG_EAUTH, "no such session");
	auth_sha256_hex(cookie, p->session);
	rv = store_session_get(s, p->session, sess_cb, &c, eb);
	if (rv == ENG_ENOENT)
		rv = eng_error(eb, ENG_EAUTH, "no such session");
	if (rv != 0)
		goto fail;
	if (now >= c.expires || now - c.last_seen >= AUTH_SESSION_IDLE_MS) {
		(void)store_session_delete(s, p->session, NULL);
		rv = eng_error(eb, ENG_EAUTH, "the session has expired");
		goto fail;
	}
	p->kind = AUTH_USER;
	p->cookie = 1;
	if ((rv = principal_of_user(s, p->user_id, p, eb)) != 0) {
		if (rv == ENG_EAUTH)
			(void)store_session_delete(s, p->session, NULL);
		goto fail;
	}
	if (now - c.last_seen >= 15000)
		(void)store_session_touch(s, p->session, now, NULL);
	return 0;
fail:
	memset(p, 0, sizeof(*p));
	return rv;
}

int
auth_session_end(struct store *s, const char *session_id,
    struct eng_errbuf *eb)
{
	return store_session_delete(s, session_id, eb);
}

int
auth_token_create(struct store *s, const struct eng_clock *clk,
    long long user_id, const char *name, char token[AUTH_TOKEN_SIZE],
    long long *id, struct eng_errbuf *eb)
{
	struct store_token t;
	char hex[AUTH_HEX_SIZE], hash[AUTH_HEX_SIZE];
	int rv;

	if (!auth_name_ok(name))
		return eng_error(eb, ENG_EINVAL, "a token name is 1 to %d of "
		    "A-Z a-z 0-9 . _ - (not first . or -)", AUTH_NAME_MAX);
	auth_random_hex(hex);
	(void)snprintf(token, AUTH_TOKEN_SIZE, "gong_%s", hex);
	sodium_memzero(hex, sizeof(hex));
	auth_sha256_hex(token, hash);
	memset(&t, 0, sizeof(t));
	t.user_id = user_id;
	t.name = name;
	t.hash = hash;
	t.created_ms = eng_clock_now_ms(clk);
	if ((rv = store_token_add(s, &t, id, eb)) != 0)
		sodium_memzero(token, AUTH_TOKEN_SIZE);
	return rv;
}

struct tok_ctx {
	struct auth_principal *p;
	int64_t last_used;
	char name[AUTH_NAME_MAX + 1], user[AUTH_NAME_MAX + 1];
};

static int
tok_cb(void *arg, const struct store_token *t)
{
	struct tok_ctx *c = arg;

	c->p->user_id = t->user_id;
	c->p->token_id = t->id;
	c->last_used = t->last_used_ms;
	(void)snprintf(c->name, sizeof(c->name), "%s", t->name);
	(void)snprintf(c->user, sizeof(c->user), "%s",
	    t->user_name ? t->user_name : "");
	return 0;
}

int
auth_token_lookup(struct store *s, const struct eng_clock *clk,
    const char *token, struct auth_principal *p, struct eng_errbuf *eb)
{
	struct tok_ctx c;
	char hash[AUTH_HEX_SIZE];
	int64_t now = eng_clock_now_ms(clk);
	int rv;

	memset(p, 0, sizeof(*p));
	memset(&c, 0, sizeof(c));
	c.p = p;
	if (token == NULL || strncmp(token, "gong_", 5) != 0 ||
	    strlen(token) != AUTH_TOKEN_SIZE - 1)
		return eng_error(eb, ENG_EAUTH, "no such token");
	auth_sha256_hex(token, hash);
	rv = store_token_find(s, hash, tok_cb, &c, eb);
	if (rv == ENG_ENOENT)
		rv = eng_error(eb, ENG_EAUTH, "no such token");
	if (rv != 0)
		goto fail;
	p->kind = AUTH_TOKEN;
	if ((rv = principal_of_user(s, p->user_id, p, eb)) != 0)
		goto fail;
	(void)snprintf(p->name, sizeof(p->name), "%s/%s", c.user, c.name);
	if (now - c.last_used >= 60000)
		(void)store_token_touch(s, p->token_id, now, NULL);
	return 0;
fail:
	memset(p, 0, sizeof(*p));
	return rv;
}

int
auth_first_admin(struct store *s, const struct eng_clock *clk,
    const char *root, char pw[AUTH_FIRST_PASSWORD_LEN + 1], int *created,
    struct eng_errbuf *eb)
{
	struct store_user u;
	char hash[AUTH_HASH_SIZE];
	long long n;
	int rv;

	pw[0] = '\0';
	*created = 0;
	if ((rv = store_user_count(s, &n, eb)) != 0 || n > 0)
		return rv;
	auth_password_random(pw, AUTH_FIRST_PASSWORD_LEN);
	if ((rv = auth_password_hash(pw, hash, eb)) != 0)
		goto fail;
	memset(&u, 0, sizeof(u));
	u.name = "admin";
	u.display_name = "first administrator";
	u.role = "admin";
	u.jurisdiction = root != NULL ? root : "";
	u.password_hash = hash;
	rv = store_user_add(s, &u, eng_clock_now_ms(clk), NULL, eb);
	sodium_memzero(hash, sizeof(hash));
	if (rv != 0)
		goto fail;
	*created = 1;
	return 0;
fail:
	sodium_memzero(pw, AUTH_FIRST_PASSWORD_LEN + 1);
	return rv;
}

/* ------------------------------------------------------------------ */
/* Origin                                                              */
/* ------------------------------------------------------------------ */

/* The "scheme://host[:port]" of url into out; 0, or -1 if it has none. */
static int
origin_of(const char *url, char *out, size_t size)
{
	const char *p = strstr(url, "://");
	size_t n;

	if (p == NULL)
		return -1;
	p += 3;
	n = strcspn(p, "/?#");
	if (n == 0 || (size_t)(p - url) + n >= size)
		return -1;
	memcpy(out, url, (size_t)(p - url) + n);
	out[(size_t)(p - url) + n] = '\0';
	return 0;
}

/* Is origin (scheme://host[:port]) ours: its host part equals the Host
 * header, or it is public_url's origin? */
static int
same_origin(const char *origin, const char *host, const char *public_url)
{
	char pub[512];
	const char *h = strstr(origin, "://");

	if (public_url != NULL && origin_of(public_url, pub,
	    sizeof(pub)) == 0 && strcasecmp(pub, origin) == 0)
		return 1;
	if (h == NULL || host == NULL || host[0] == '\0')
		return 0;
	if (strncasecmp(origin, "http://", 7) != 0 &&
	    strncasecmp(origin, "https://", 8) != 0)
		return 0;
	return strcasecmp(h + 3, host) == 0;
}

int
auth_origin_ok(const char *origin, const char *referer, const char *host,
    const char *public_url)
{
	char o[512];

	if (origin != NULL && origin[0] != '\0')
		return strcmp(origin, "null") != 0 &&
		    same_origin(origin, host, public_url);
	if (referer != NULL && referer[0] != '\0')
		return origin_of(referer, o, sizeof(o)) == 0 &&
		    same_origin(o, host, public_url);
	return 1;
}

/* ------------------------------------------------------------------ */
/* The login rate limiter                                              */
/* ------------------------------------------------------------------ */

#define LIM_KEY_SIZE	80

struct lim_entry {
	char key[LIM_KEY_SIZE];		/* "n:<name>" or "a:<addr>" */
	unsigned fails;
	int64_t last_ms;		/* last failure */
	int64_t blocked_until_ms;
};

struct auth_limiter {
	pthread_mutex_t lock;
	const struct eng_clock *clk;
	struct lim_entry *v;
	size_t n, max;
};

int
auth_limiter_new(const struct eng_clock *clk, size_t max_entries,
    struct auth_limiter **out)
{
	struct auth_limiter *l;

	*out = NULL;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return ENG_ENOMEM;
	l->max = max_entries ? max_entries : AUTH_LIMITER_DEFAULT;
	if ((l->v = calloc(l->max, sizeof(*l->v))) == NULL) {
		free(l);
		return ENG_ENOMEM;
	}
	l->clk = clk;
	pthread_mutex_init(&l->lock, NULL);
	*out = l;
	return 0;
}

void
auth_limiter_free(struct auth_limiter *l)
{
	if (l == NULL)
		return;
	pthread_mutex_destroy(&l->lock);
	free(l->v);
	free(l);
}

size_t
auth_limiter_size(struct auth_limiter *l)
{
	size_t n;

	pthread_mutex_lock(&l->lock);
	n = l->n;
	pthread_mutex_unlock(&l->lock);
	return n;
}

static void
lim_key(char *key, char kind, const char *s)
{
	(void)snprintf(key, LIM_KEY_SIZE, "%c:%s", kind, s ? s : "");
}

/* The entry of key, or NULL; forgets it when it is stale. */
static struct lim_entry *
lim_find(struct auth_limiter *l, const char *key, int64_t now)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		struct lim_entry *e = &l->v[i];

		if (strcmp(e->key, key) != 0)
			continue;
		if (now - (e->blocked_until_ms > e->last_ms ?
		    e->blocked_until_ms : e->last_ms) >=
		    (int64_t)AUTH_FORGET_S * 1000) {
			l->v[i] = l->v[--l->n];
			return NULL;
		}
		return e;
	}
	return NULL;
}

static struct lim_entry *
lim_add(struct auth_limiter *l, const char *key, int64_t now)
{
	struct lim_entry *e;
	size_t i, victim = 0;
	int found = 0;

	if (l->n == l->max) {
		/* Forget the one seen longest ago, one not blocking if
		 * there is such. */
		for (i = 0; i < l->n; i++) {
			int free_i = now >= l->v[i].blocked_until_ms;
			int free_v = now >= l->v[victim].blocked_until_ms;

			if (!found || (free_i && !free_v) ||
			    (free_i == free_v &&
			    l->v[i].last_ms < l->v[victim].last_ms)) {
				victim = i;
				found = 1;
			}
		}
		l->v[victim] = l->v[--l->n];
	}
	e = &l->v[l->n++];
	memset(e, 0, sizeof(*e));
	(void)snprintf(e->key, sizeof(e->key), "%s", key);
	return e;
}

static long long
wait_s(const struct lim_entry *e, int64_t now)
{
	if (e == NULL || now >= e->blocked_until_ms)
		return 0;
	return (e->blocked_until_ms - now + 999) / 1000;
}

long long
auth_limiter_check(struct auth_limiter *l, const char *name,
    const char *addr)
{
	char kn[LIM_KEY_SIZE], ka[LIM_KEY_SIZE];
	int64_t now = eng_clock_now_ms(l->clk);
	long long a, b;

	lim_key(kn, 'n', name);
	lim_key(ka, 'a', addr);
	pthread_mutex_lock(&l->lock);
	a = wait_s(lim_find(l, kn, now), now);
	b = wait_s(lim_find(l, ka, now), now);
	pthread_mutex_unlock(&l->lock);
	return a > b ? a : b;
}

static void
fail_one(struct auth_limiter *l, const char *key, unsigned free_n,
    int64_t now)
{
	struct lim_entry *e = lim_find(l, key, now);
	int64_t delay_s;
	unsigned k;

	if (e == NULL)
		e = lim_add(l, key, now);
	if (e->fails < 1000000)
		e->fails++;
	e->last_ms = now;
	if (e->fails < free_n)
		return;
	k = e->fails - free_n + 1;
	delay_s = k >= 10 ? AUTH_DELAY_MAX_S : (int64_t)1 << k;
	if (delay_s > AUTH_DELAY_MAX_S)
		delay_s = AUTH_DELAY_MAX_S;
	e->blocked_until_ms = now + delay_s * 1000;
}

void
auth_limiter_fail(struct auth_limiter *l, const char *name,
    const char *addr)
{
	char kn[LIM_KEY_SIZE], ka[LIM_KEY_SIZE];
	int64_t now = eng_clock_now_ms(l->clk);

	lim_key(kn, 'n', name);
	lim_key(ka, 'a', addr);
	pthread_mutex_lock(&l->lock);
	fail_one(l, kn, AUTH_NAME_FREE, now);
	fail_one(l, ka, AUTH_ADDR_FREE, now);
	pthread_mutex_unlock(&l->lock);
}

static void
forget(struct auth_limiter *l, const char *key)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		if (strcmp(l->v[i].key, key) == 0) {
			l->v[i] = l->v[--l->n];
			return;
		}
	}
}

void
auth_limiter_success(struct auth_limiter *l, const char *name,
    const char *addr)
{
	char kn[LIM_KEY_SIZE], ka[LIM_KEY_SIZE];

	lim_key(kn, 'n', name);
	lim_key(ka, 'a', addr);
	pthread_mutex_lock(&l->lock);
	forget(l, kn);
	forget(l, ka);
	pthread_mutex_unlock(&l->lock);
}
