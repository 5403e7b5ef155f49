/*
 * tests/unit/test_auth.c - engine/auth: passwords, sessions on a driven
 * clock, CSRF and origins, API tokens, the login rate limiter on a driven
 * clock, and the auth_allow matrix.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "engine/auth.h"
#include "engine/clock.h"
#include "engine/store.h"

static int64_t now_ms;

static int64_t
driven(void *arg)
{
	(void)arg;
	return now_ms;
}

static const struct eng_clock clk = { driven, NULL };

struct fx {
	struct store *s;
	long long uid;
};

static int
setup(void **state)
{
	static struct fx f;
	struct store_user u;
	struct eng_errbuf eb;
	char hash[AUTH_HASH_SIZE];

	assert_true(sodium_init() >= 0);
	memset(&f, 0, sizeof(f));
	now_ms = 1800000000000LL;
	assert_int_equal(store_open(":memory:", 0, &f.s, &eb), 0);
	assert_int_equal(auth_password_hash("correct horse battery", hash,
	    &eb), 0);
	memset(&u, 0, sizeof(u));
	u.name = "li";
	u.role = "officer";
	u.jurisdiction = "140425000000";
	u.password_hash = hash;
	assert_int_equal(store_user_add(f.s, &u, now_ms, &f.uid, &eb), 0);
	*state = &f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	store_close(f->s);
	return 0;
}

static void
t_password(void **state)
{
	struct eng_errbuf eb;
	char h1[AUTH_HASH_SIZE], h2[AUTH_HASH_SIZE];

	(void)state;
	assert_int_equal(auth_password_hash("correct horse battery", h1, &eb),
	    0);
	assert_int_equal(strncmp(h1, "$argon2id$", 10), 0);
	assert_int_equal(auth_password_hash("correct horse battery", h2, &eb),
	    0);
	assert_string_not_equal(h1, h2);	/* salted */
	assert_int_equal(auth_password_verify(h1, "correct horse battery"),
	    1);
	assert_int_equal(auth_password_verify(h1, "correct horse batterY"),
	    0);
	assert_int_equal(auth_password_verify(h1, ""), 0);
	assert_int_equal(auth_password_verify(NULL, "anything at all"), 0);
	assert_int_equal(auth_password_verify("not a hash", "x"), 0);
	assert_int_equal(auth_password_hash("short", h1, &eb), ENG_EINVAL);
	assert_string_equal(eb.msg, "a password has at least 10 characters");
	/* 10 characters of 3 bytes each: counted as characters. */
	assert_int_equal(auth_password_hash("一二三四五六七八九十", h1, &eb),
	    0);
	assert_int_equal(auth_password_hash("一二三四五六七八九", h1, &eb),
	    ENG_EINVAL);
}

static void
t_random(void **state)
{
	char a[32], b[32], hx[AUTH_HEX_SIZE], sh[AUTH_HEX_SIZE];
	size_t i;

	(void)state;
	auth_password_random(a, 24);
	auth_password_random(b, 24);
	assert_int_equal(strlen(a), 24);
	assert_string_not_equal(a, b);
	for (i = 0; i < 24; i++)
		assert_true((a[i] >= 'A' && a[i] <= 'Z') ||
		    (a[i] >= 'a' && a[i] <= 'z') || (a[i] >= '0' && a[i] <= '9'));
	auth_random_hex(hx);
	assert_int_equal(strlen(hx), 64);
	auth_sha256_hex("abc", sh);
	assert_string_equal(sh, "ba7816bf8f01cfea414140de5dae2223b00361a396"
	    "177a9cb410ff61f20015ad");
	assert_int_equal(auth_str_eq("abc", "abc"), 1);
	assert_int_equal(auth_str_eq("abc", "abd"), 0);
	assert_int_equal(auth_str_eq("abc", "abcd"), 0);
	assert_int_equal(auth_str_eq("", ""), 0);
	assert_int_equal(auth_str_eq(NULL, "a"), 0);
}

static void
t_session(void **state)
{
	struct fx *f = *state;
	struct auth_principal p;
	struct eng_errbuf eb;
	char cookie[AUTH_HEX_SIZE], csrf[AUTH_HEX_SIZE];
	char cookie2[AUTH_HEX_SIZE], csrf2[AUTH_HEX_SIZE];
	int64_t t0 = now_ms;

	assert_int_equal(auth_session_create(f->s, &clk, f->uid, "10.0.0.1",
	    cookie, csrf, &eb), 0);
	assert_int_equal(strlen(cookie), 64);
	assert_string_not_equal(cookie, csrf);
	assert_int_equal(auth_session_lookup(f->s, &clk, cookie, &p, &eb), 0);
	assert_int_equal(p.kind, AUTH_USER);
	assert_string_equal(p.name, "li");
	assert_int_equal(p.role, AUTH_ROLE_OFFICER);
	assert_string_equal(p.jurisdiction, "140425000000");
	assert_int_equal(p.cookie, 1);
	assert_string_equal(p.csrf, csrf);	/* CSRF token per session */
	/* Stored hashed: the cookie itself is no session id. */
	assert_int_equal(store_session_get(f->s, cookie, NULL, NULL, &eb),
	    ENG_ENOENT);
	/* Idle 29 min: alive (and touched); then 29 more: alive. */
	now_ms = t0 + 29 * 60000;
	assert_int_equal(auth_session_lookup(f->s, &clk, cookie, &p, &eb), 0);
	now_ms = t0 + 58 * 60000;
	assert_int_equal(auth_session_lookup(f->s, &clk, cookie, &p, &eb), 0);
	/* 30 min idle: gone, and stays gone. */
	now_ms = t0 + 88 * 60000;
	assert_int_equal(auth_session_lookup(f->s, &clk, cookie, &p, &eb),
	    ENG_EAUTH);
	assert_string_equal(eb.msg, "the session has expired");
	assert_int_equal(p.kind, AUTH_NONE);
	now_ms = t0 + 89 * 60000;
	assert_int_equal(auth_session_lookup(f->s, &clk, cookie, &p, &eb),
	    ENG_EAUTH);
	assert_string_equal(eb.msg, "no such session");

	/* Absolute: 12 h even when used every 20 minutes. */
	t0 = now_ms;
	assert_int_equal(auth_session_create(f->s, &clk, f->uid, NULL,
	    cookie2, csrf2, &eb), 0);
	assert_string_not_equal(csrf2, csrf);
	for (now_ms = t0; now_ms < t0 + AUTH_SESSION_MAX_MS;
	    now_ms += 20 * 60000)
		assert_int_equal(auth_session_lookup(f->s, &clk, cookie2, &p,
		    &eb), 0);
	now_ms = t0 + AUTH_SESSION_MAX_MS;
	assert_int_equal(auth_session_lookup(f->s, &clk, cookie2, &p, &eb),
	    ENG_EAUTH);

	/* Logout ends it at once; bad cookies are refused. */
	assert_int_equal(auth_session_create(f->s, &clk, f->uid, NULL,
	    cookie, csrf, &eb), 0);
	assert_int_equal(auth_session_lookup(f->s, &clk, cookie, &p, &eb), 0);
	assert_int_equal(auth_session_end(f->s, p.session, &eb), 0);
	assert_int_equal(auth_session_lookup(f->s, &clk, cookie, &p, &eb),
	    ENG_EAUTH);
	assert_int_equal(auth_session_lookup(f->s, &clk, "", &p, &eb),
	    ENG_EAUTH);
	assert_int_equal(auth_session_lookup(f->s, &clk, "' OR 1=1 --", &p,
	    &eb), ENG_EAUTH);
}

static void
t_session_disabled(void **state)
{
	struct fx *f = *state;
	struct auth_principal p;
	struct store_user u;
	struct eng_errbuf eb;
	char cookie[AUTH_HEX_SIZE], csrf[AUTH_HEX_SIZE];

	assert_int_equal(auth_session_create(f->s, &clk, f->uid, NULL,
	    cookie, csrf, &eb), 0);
	memset(&u, 0, sizeof(u));
	u.name = "li";
	u.role = "viewer";
	u.jurisdiction = "140425100000";
	u.password_hash = "x";
	assert_int_equal(store_user_update(f->s, &u, now_ms, &eb), 0);
	/* Role and jurisdiction are read at every request. */
	assert_int_equal(auth_session_lookup(f->s, &clk, cookie, &p, &eb), 0);
	assert_int_equal(p.role, AUTH_ROLE_VIEWER);
	assert_string_equal(p.jurisdiction, "140425100000");
	u.disabled = 1;
	assert_int_equal(store_user_update(f->s, &u, now_ms, &eb), 0);
	assert_int_equal(auth_session_lookup(f->s, &clk, cookie, &p, &eb),
	    ENG_EAUTH);
	assert_string_equal(eb.msg, "the account is disabled or gone");
}

static void
t_token(void **state)
{
	struct fx *f = *state;
	struct auth_principal p;
	struct eng_errbuf eb;
	char tok[AUTH_TOKEN_SIZE], tok2[AUTH_TOKEN_SIZE];
	long long id, id2;

	assert_int_equal(auth_token_create(f->s, &clk, f->uid, "cli", tok,
	    &id, &eb), 0);
	assert_int_equal(strlen(tok), 69);
	assert_int_equal(strncmp(tok, "gong_", 5), 0);
	assert_int_equal(auth_token_create(f->s, &clk, f->uid, "cli", tok2,
	    &id2, &eb), ENG_EEXIST);
	assert_int_equal(auth_token_create(f->s, &clk, f->uid, "a b", tok2,
	    &id2, &eb), ENG_EINVAL);
	assert_int_equal(auth_token_lookup(f->s, &clk, tok, &p, &eb), 0);
	assert_int_equal(p.kind, AUTH_TOKEN);
	assert_string_equal(p.name, "li/cli");
	assert_int_equal(p.role, AUTH_ROLE_OFFICER);
	assert_int_equal(p.token_id, id);
	tok[10] = tok[10] == 'a' ? 'b' : 'a';
	assert_int_equal(auth_token_lookup(f->s, &clk, tok, &p, &eb),
	    ENG_EAUTH);
	tok[10] = tok[10] == 'a' ? 'b' : 'a';
	assert_int_equal(store_token_revoke(f->s, id, f->uid, now_ms, &eb), 0);
	assert_int_equal(store_token_revoke(f->s, id, f->uid, now_ms, &eb),
	    ENG_ENOENT);
	assert_int_equal(auth_token_lookup(f->s, &clk, tok, &p, &eb),
	    ENG_EAUTH);
	/* The name is free again once revoked. */
	assert_int_equal(auth_token_create(f->s, &clk, f->uid, "cli", tok2,
	    &id2, &eb), 0);
	assert_true(id2 != id);
}

static void
t_origin(void **state)
{
	(void)state;
	/* Neither header: the CSRF token decides. */
	assert_int_equal(auth_origin_ok(NULL, NULL, "127.0.0.1:8080", NULL),
	    1);
	assert_int_equal(auth_origin_ok("http://127.0.0.1:8080", NULL,
	    "127.0.0.1:8080", NULL), 1);
	assert_int_equal(auth_origin_ok("https://127.0.0.1:8080", NULL,
	    "127.0.0.1:8080", NULL), 1);
	assert_int_equal(auth_origin_ok("http://evil.example", NULL,
	    "127.0.0.1:8080", NULL), 0);
	assert_int_equal(auth_origin_ok("http://127.0.0.1:8081", NULL,
	    "127.0.0.1:8080", NULL), 0);
	assert_int_equal(auth_origin_ok("null", NULL, "127.0.0.1:8080",
	    NULL), 0);
	assert_int_equal(auth_origin_ok("ftp://127.0.0.1:8080", NULL,
	    "127.0.0.1:8080", NULL), 0);
	/* Behind a proxy: the public URL's origin. */
	assert_int_equal(auth_origin_ok("https://gong.example.cn", NULL,
	    "127.0.0.1:8080", "https://gong.example.cn/console/"), 1);
	assert_int_equal(auth_origin_ok("https://gong.example.cn.evil.cn",
	    NULL, "127.0.0.1:8080", "https://gong.example.cn"), 0);
	/* Referer when there is no Origin. */
	assert_int_equal(auth_origin_ok(NULL, "http://127.0.0.1:8080/x?y",
	    "127.0.0.1:8080", NULL), 1);
	assert_int_equal(auth_origin_ok(NULL, "http://evil.example/x",
	    "127.0.0.1:8080", NULL), 0);
	assert_int_equal(auth_origin_ok(NULL, "garbage", "127.0.0.1:8080",
	    NULL), 0);
	assert_int_equal(auth_origin_ok("http://127.0.0.1:8080", NULL, NULL,
	    NULL), 0);
}

static void
t_limiter(void **state)
{
	struct auth_limiter *l;
	int i;

	(void)state;
	now_ms = 1800000000000LL;
	assert_int_equal(auth_limiter_new(&clk, 0, &l), 0);
	for (i = 0; i < 4; i++) {
		assert_int_equal(auth_limiter_check(l, "li", "10.0.0.1"), 0);
		auth_limiter_fail(l, "li", "10.0.0.1");
	}
	assert_int_equal(auth_limiter_check(l, "li", "10.0.0.1"), 0);
	auth_limiter_fail(l, "li", "10.0.0.1");	/* 5th: 2 s */
	assert_int_equal(auth_limiter_check(l, "li", "10.0.0.1"), 2);
	/* Another address trying the same name waits too. */
	assert_int_equal(auth_limiter_check(l, "li", "10.0.0.2"), 2);
	/* Another name from the address does not (yet). */
	assert_int_equal(auth_limiter_check(l, "wang", "10.0.0.1"), 0);
	now_ms += 1500;
	assert_int_equal(auth_limiter_check(l, "li", "10.0.0.1"), 1);
	now_ms += 500;
	assert_int_equal(auth_limiter_check(l, "li", "10.0.0.1"), 0);
	/* Each further failure doubles: 4, 8, ... then 900 s at most. */
	auth_limiter_fail(l, "li", "10.0.0.1");
	assert_int_equal(auth_limiter_check(l, "li", "10.0.0.1"), 4);
	now_ms += 4000;
	auth_limiter_fail(l, "li", "10.0.0.1");
	assert_int_equal(auth_limiter_check(l, "li", "10.0.0.1"), 8);
	for (i = 0; i < 40; i++) {
		now_ms += 900000;
		auth_limiter_fail(l, "li", "10.0.0.9");
	}
	assert_int_equal(auth_limiter_check(l, "li", "10.0.0.3"), 900);
	/* The real user, once the delay has passed, gets in and the
	 * counters are cleared. */
	now_ms += 900000;
	assert_int_equal(auth_limiter_check(l, "li", "10.0.0.1"), 0);
	auth_limiter_success(l, "li", "10.0.0.1");
	auth_limiter_fail(l, "li", "10.0.0.1");
	assert_int_equal(auth_limiter_check(l, "li", "10.0.0.1"), 0);
	/* An address failing with 20 names is slowed down as a whole. */
	for (i = 0; i < 20; i++) {
		char n[16];

		(void)snprintf(n, sizeof(n), "u%d", i);
		auth_limiter_fail(l, n, "10.0.0.7");
	}
	assert_int_equal(auth_limiter_check(l, "nobody", "10.0.0.7"), 2);
	/* Forgotten an hour after the block passed. */
	now_ms += 3600 * 1000 + 2000;
	assert_int_equal(auth_limiter_check(l, "nobody", "10.0.0.7"), 0);
	auth_limiter_free(l);
}

static void
t_limiter_bound(void **state)
{
	struct auth_limiter *l;
	char n[16];
	int i;

	(void)state;
	now_ms = 1800000000000LL;
	assert_int_equal(auth_limiter_new(&clk, 8, &l), 0);
	for (i = 0; i < 5; i++)
		auth_limiter_fail(l, "victim", "10.0.0.1");
	assert_int_equal(auth_limiter_check(l, "victim", "10.0.0.2"), 2);
	/* A flood of other names never holds more than 8 entries, and
	 * forgets the entries that block nothing before the blocking
	 * one. */
	for (i = 0; i < 100; i++) {
		(void)snprintf(n, sizeof(n), "x%d", i);
		now_ms += 1;
		auth_limiter_fail(l, n, "10.0.0.3");
		assert_true(auth_limiter_size(l) <= 8);
	}
	assert_int_equal(auth_limiter_size(l), 8);
	assert_true(auth_limiter_check(l, "victim", "10.0.0.2") >= 1);
	auth_limiter_free(l);
}

static void
p_init(struct auth_principal *p, enum auth_kind k, enum auth_role r,
    const char *name, const char *jur)
{
	memset(p, 0, sizeof(*p));
	p->kind = k;
	p->role = r;
	(void)snprintf(p->name, sizeof(p->name), "%s", name);
	(void)snprintf(p->jurisdiction, sizeof(p->jurisdiction), "%s", jur);
}

static void
t_allow(void **state)
{
	static const enum auth_action acts[] = { AUTH_READ, AUTH_ISSUE,
		AUTH_UPDATE, AUTH_CANCEL, AUTH_ANSWER };
	struct auth_principal admin, county, town, viewer, feed, none;
	const char *own = "140425100201", *other = "140403100201";
	char why[256];
	size_t i;

	(void)state;
	p_init(&admin, AUTH_USER, AUTH_ROLE_ADMIN, "root", "140400000000");
	p_init(&county, AUTH_USER, AUTH_ROLE_OFFICER, "c", "140425000000");
	p_init(&town, AUTH_TOKEN, AUTH_ROLE_OFFICER, "t/cli", "140425100000");
	p_init(&viewer, AUTH_USER, AUTH_ROLE_VIEWER, "v", "140425000000");
	p_init(&feed, AUTH_FEED, AUTH_ROLE_NONE, "cma", "");
	p_init(&none, AUTH_NONE, AUTH_ROLE_NONE, "", "");
	for (i = 0; i < sizeof(acts) / sizeof(acts[0]); i++) {
		enum auth_action a = acts[i];

		/* admin: everywhere */
		assert_int_equal(auth_allow(&admin, a, own, NULL, 0), 1);
		assert_int_equal(auth_allow(&admin, a, other, NULL, 0), 1);
		assert_int_equal(auth_allow(&admin, a, "110000000000", NULL,
		    0), 1);
		/* officers: own subtree only, not the parent */
		assert_int_equal(auth_allow(&county, a, own, NULL, 0), 1);
		assert_int_equal(auth_allow(&county, a, "140425000000", NULL,
		    0), 1);
		assert_int_equal(auth_allow(&county, a, other, NULL, 0), 0);
		assert_int_equal(auth_allow(&county, a, "140400000000", NULL,
		    0), 0);
		assert_int_equal(auth_allow(&town, a, own, NULL, 0), 1);
		assert_int_equal(auth_allow(&town, a, "140425000000", NULL,
		    0), 0);
		assert_int_equal(auth_allow(&town, a, "140425200000", NULL,
		    0), 0);
		/* viewer: read only, within */
		assert_int_equal(auth_allow(&viewer, a, own, NULL, 0),
		    a == AUTH_READ);
		assert_int_equal(auth_allow(&viewer, a, other, NULL, 0), 0);
		/* no account: nothing */
		assert_int_equal(auth_allow(&feed, a, own, NULL, 0), 0);
		assert_int_equal(auth_allow(&none, a, own, NULL, 0), 0);
	}
	for (i = AUTH_IMPORT; i <= AUTH_USERS; i++) {
		assert_int_equal(auth_allow(&admin, (enum auth_action)i, NULL,
		    NULL, 0), 1);
		assert_int_equal(auth_allow(&county, (enum auth_action)i, NULL,
		    NULL, 0), 0);
		assert_int_equal(auth_allow(&viewer, (enum auth_action)i, NULL,
		    NULL, 0), 0);
	}
	assert_int_equal(auth_allow(&county, AUTH_AUDIT, NULL, NULL, 0), 1);
	assert_int_equal(auth_allow(&viewer, AUTH_AUDIT, NULL, NULL, 0), 0);
	/* What is missing, in words. */
	assert_int_equal(auth_allow(&county, AUTH_ISSUE, other, why,
	    sizeof(why)), 0);
	assert_string_equal(why, "issue of region 140403100201 needs a "
	    "jurisdiction over it (c's is 140425000000)");
	assert_int_equal(auth_allow(&viewer, AUTH_CANCEL, own, why,
	    sizeof(why)), 0);
	assert_string_equal(why, "cancel needs role officer or admin (v has "
	    "role viewer)");
	assert_int_equal(auth_allow(&town, AUTH_IMPORT, NULL, why,
	    sizeof(why)), 0);
	assert_string_equal(why, "import needs role admin (t/cli has role "
	    "officer)");
	assert_int_equal(auth_allow(&none, AUTH_READ, NULL, why,
	    sizeof(why)), 0);
	assert_string_equal(why, "read needs an account");
}

static void
t_names(void **state)
{
	struct auth_principal p;
	char buf[200], c[REGION_CODE_SIZE];

	(void)state;
	assert_int_equal(auth_role_parse("officer"), AUTH_ROLE_OFFICER);
	assert_int_equal(auth_role_parse("Officer"), AUTH_ROLE_NONE);
	assert_int_equal(auth_role_parse(NULL), AUTH_ROLE_NONE);
	assert_string_equal(auth_role_name(AUTH_ROLE_VIEWER), "viewer");
	assert_int_equal(auth_name_ok("li.wei_2-x"), 1);
	assert_int_equal(auth_name_ok(".hidden"), 0);
	assert_int_equal(auth_name_ok("a/b"), 0);
	assert_int_equal(auth_name_ok(""), 0);
	assert_int_equal(auth_name_ok("李"), 0);
	p_init(&p, AUTH_TOKEN, AUTH_ROLE_ADMIN, "li/cli", "");
	auth_actor(&p, buf, sizeof(buf));
	assert_string_equal(buf, "token:li/cli");
	p_init(&p, AUTH_FEED, AUTH_ROLE_NONE, "cma", "");
	auth_actor(&p, buf, sizeof(buf));
	assert_string_equal(buf, "feed:cma");
	p_init(&p, AUTH_ADMIN_TOKEN, AUTH_ROLE_ADMIN, "admin.token", "");
	auth_actor(&p, buf, sizeof(buf));
	assert_string_equal(buf, "token:admin.token");
	auth_actor(NULL, buf, sizeof(buf));
	assert_string_equal(buf, "anonymous");
	auth_region_common("140425100201", "140425100202", c);
	assert_string_equal(c, "140425100000");
	auth_region_common("140425100201", "140403100201", c);
	assert_string_equal(c, "140400000000");
	auth_region_common("140425100201", "110000000000", c);
	assert_string_equal(c, "");
	auth_region_common("", "140425100201", c);
	assert_string_equal(c, "140425100201");
}

static void
t_first_admin(void **state)
{
	struct fx *f = *state;
	struct store *s;
	struct eng_errbuf eb;
	char pw[AUTH_FIRST_PASSWORD_LEN + 1];
	int created;

	/* A store with a user already: nothing. */
	assert_int_equal(auth_first_admin(f->s, &clk, "140400000000", pw,
	    &created, &eb), 0);
	assert_int_equal(created, 0);
	assert_string_equal(pw, "");
	assert_int_equal(store_open(":memory:", 0, &s, &eb), 0);
	assert_int_equal(auth_first_admin(s, &clk, "140400000000", pw,
	    &created, &eb), 0);
	assert_int_equal(created, 1);
	assert_int_equal(strlen(pw), AUTH_FIRST_PASSWORD_LEN);
	assert_int_equal(auth_first_admin(s, &clk, "140400000000", pw,
	    &created, &eb), 0);
	assert_int_equal(created, 0);
	store_close(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_password, setup, teardown),
		cmocka_unit_test_setup_teardown(t_random, setup, teardown),
		cmocka_unit_test_setup_teardown(t_session, setup, teardown),
		cmocka_unit_test_setup_teardown(t_session_disabled, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_token, setup, teardown),
		cmocka_unit_test_setup_teardown(t_origin, setup, teardown),
		cmocka_unit_test_setup_teardown(t_limiter, setup, teardown),
		cmocka_unit_test_setup_teardown(t_limiter_bound, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_allow, setup, teardown),
		cmocka_unit_test_setup_teardown(t_names, setup, teardown),
		cmocka_unit_test_setup_teardown(t_first_admin, setup,
		    teardown),
	};

	return cmocka_run_group_tests_name("auth", tests, NULL, NULL);
}
