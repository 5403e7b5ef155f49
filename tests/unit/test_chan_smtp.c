/*
 * tests/unit/test_chan_smtp.c - the "smtp" channel driver against the
 * local SMTP fake (tests/integration/smtp_fake.py), two of them started
 * once for the group on 127.0.0.1 with free ports: one open relay, one
 * that requires AUTH (PLAIN or LOGIN) as warn@example.cn / s3cret.
 *
 * What the fake accepted is read back from its JSONL log (envelope and
 * raw message); the message is taken apart here (headers unfolded,
 * RFC 2047 words and the base64 body decoded) and compared exactly with
 * the Chinese subject and text.  The fake's control file makes it answer
 * 450, 550, 553, 535, 421 or wait.  Also: config errors with file:line
 * (clear-text credentials refused off loopback), hostile subjects and
 * addresses, a dead server, a time-out, a full queue, shutdown.  Runs
 * from the repository root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>

#include "channels/channel.h"
#include "config/cfg.h"
#include "engine/strbuf.h"

static const char SUBJECT[] = "【平顺县气象台】暴雨红色预警";
static const char TEXT[] =
    "何光志（responsible）：\n\n"
    "平顺县气象台于2026年7月15日11时30分发布暴雨红色预警。\n\n"
    "后店村降水量已达100毫米以上。\n"
    ".\n"
    "防御指南：立即转移。\n\n"
    "—— 平顺县气象台\n";

/* ------------------------------------------------------------------ */
/* The group: two SMTP fakes                                           */
/* ------------------------------------------------------------------ */

struct fake {
	pid_t pid;
	char log[128], req[128], ctl[128];
	char url[64];
};

static char dir[64];
static struct fake open_fk, auth_fk, tls_fk;
static char cert_path[128], key_path[128];

static int
write_file(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -1;
	fputs(s, f);
	return fclose(f);
}

static int
start_fake(struct fake *k, const char *name, const char *auth, int tls)
{
	char port[32] = "";
	FILE *f;
	int fds[2];

	(void)snprintf(k->log, sizeof(k->log), "%s/%s.jsonl", dir, name);
	(void)snprintf(k->req, sizeof(k->req), "%s/%s.req.jsonl", dir, name);
	(void)snprintf(k->ctl, sizeof(k->ctl), "%s/%s.ctl.json", dir, name);
	if (pipe(fds) != 0)
		return -1;
	if ((k->pid = fork()) < 0)
		return -1;
	if (k->pid == 0) {
		(void)dup2(fds[1], 1);
		(void)close(fds[0]);
		(void)close(fds[1]);
		if (tls)
			execlp("python3", "python3",
			    "tests/integration/smtp_fake.py", "--log", k->log,
			    "--requests", k->req, "--control", k->ctl,
			    "--auth", auth, "--tls-cert", cert_path,
			    "--tls-key", key_path,
			    (char *)NULL);
		else if (auth != NULL)
			execlp("python3", "python3",
			    "tests/integration/smtp_fake.py", "--log", k->log,
			    "--requests", k->req, "--control", k->ctl,
			    "--auth", auth, (char *)NULL);
		else
			execlp("python3", "python3",
			    "tests/integration/smtp_fake.py", "--log", k->log,
			    "--requests", k->req, "--control", k->ctl,
			    (char *)NULL);
		_exit(127);
	}
	(void)close(fds[1]);
	if ((f = fdopen(fds[0], "r")) == NULL ||
	    fgets(port, sizeof(port), f) == NULL ||
	    strncmp(port, "PORT ", 5) != 0) {
		fprintf(stderr, "the fake did not start (%s)\n", port);
		return -1;
	}
	(void)fclose(f);
	port[strcspn(port, "\n")] = '\0';
	(void)snprintf(k->url, sizeof(k->url), "smtp://127.0.0.1:%s",
	    port + 5);
	return 0;
}

static int
group_setup(void **state)
{
	char p[400];

	(void)state;
	(void)snprintf(dir, sizeof(dir), "/tmp/gong-smtp.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	(void)snprintf(p, sizeof(p), "%s/smtp.pass", dir);
	if (write_file(p, "s3cret\n") != 0)
		return -1;
	(void)snprintf(p, sizeof(p), "%s/wrong.pass", dir);
	if (write_file(p, "wrong\n") != 0)
		return -1;
	/* A self-signed certificate for 127.0.0.1 (its own CA). */
	(void)snprintf(cert_path, sizeof(cert_path), "%s/relay.pem", dir);
	(void)snprintf(key_path, sizeof(key_path), "%s/relay.key", dir);
	(void)snprintf(p, sizeof(p), "openssl req -x509 -newkey rsa:2048 "
	    "-nodes -days 2 -subj /CN=127.0.0.1 -addext subjectAltName="
	    "IP:127.0.0.1 -keyout %s -out %s 2>/dev/null", key_path,
	    cert_path);
	if (system(p) != 0)
		return -1;
	if (start_fake(&open_fk, "open", NULL, 0) != 0 ||
	    start_fake(&auth_fk, "auth", "warn@example.cn:s3cret", 0) != 0 ||
	    start_fake(&tls_fk, "tls", "warn@example.cn:s3cret", 1) != 0)
		return -1;
	if (sodium_init() < 0)
		return -1;
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

static void
stop_fake(struct fake *k)
{
	if (k->pid > 0) {
		(void)kill(k->pid, SIGTERM);
		(void)waitpid(k->pid, NULL, 0);
	}
}

static int
group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	stop_fake(&open_fk);
	stop_fake(&auth_fk);
	stop_fake(&tls_fk);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (strncmp(dir, "/tmp/gong-smtp.", 15) == 0 && system(cmd) != 0)
		fprintf(stderr, "# could not remove %s\n", dir);
	curl_global_cleanup();
	return 0;
}

/* The fake's control (JSON; NULL for normal). */
static void
control(const struct fake *k, const char *json)
{
	if (json == NULL)
		(void)unlink(k->ctl);
	else
		assert_int_equal(write_file(k->ctl, json), 0);
}

/* ------------------------------------------------------------------ */
/* Per test: a channel and what it reported                            */
/* ------------------------------------------------------------------ */

#define MAX_REPORTS 64

struct got {
	int64_t id;
	enum chan_result result;
	char gateway_id[80];
	char error[300];
};

struct fx {
	struct channel ch;
	struct chan_env env;
	struct cfg_doc *doc;
	struct diag_list diags;
	int open;
	struct got rep[MAX_REPORTS];
	size_t nrep;
};

static void
on_report(void *engine, struct channel *ch, const struct chan_report *r)
{
	struct fx *f = engine;
	struct got *g;

	assert_ptr_equal(ch, &f->ch);
	assert_true(f->nrep < MAX_REPORTS);
	g = &f->rep[f->nrep++];
	g->id = r->delivery_id;
	g->result = r->result;
	(void)snprintf(g->gateway_id, sizeof(g->gateway_id), "%s",
	    r->gateway_id != NULL ? r->gateway_id : "");
	(void)snprintf(g->error, sizeof(g->error), "%s",
	    r->error != NULL ? r->error : "");
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	diag_list_init(&f->diags);
	f->env.data_dir = dir;
	f->env.callback_base = "http://127.0.0.1:1/cb/s3cret/mail";
	f->env.report = on_report;
	f->env.engine = f;
	f->ch.name = "mail";
	f->ch.ops = &chan_smtp_ops;
	f->ch.env = &f->env;
	f->ch.addr = chan_smtp_ops.addr;
	control(&open_fk, NULL);
	control(&auth_fk, NULL);
	(void)unlink(open_fk.log);
	(void)unlink(open_fk.req);
	(void)unlink(auth_fk.log);
	(void)unlink(auth_fk.req);
	(void)unlink(tls_fk.log);
	(void)unlink(tls_fk.req);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	if (f->open)
		f->ch.ops->shutdown(&f->ch);
	free(f->ch.priv);
	cfg_doc_free(f->doc);
	diag_list_release(&f->diags);
	free(f);
	control(&open_fk, NULL);
	control(&auth_fk, NULL);
	return 0;
}

static int
open_yaml(struct fx *f, const char *yaml)
{
	assert_int_equal(cfg_doc_parse(yaml, strlen(yaml), "mail.yaml",
	    &f->doc, &f->diags), 0);
	f->ch.priv = calloc(1, f->ch.ops->priv_size);
	assert_non_null(f->ch.priv);
	f->open = 1;	/* shutdown must cope with a failed init too */
	return f->ch.ops->init(&f->ch, cfg_doc_root(f->doc), &f->diags);
}

static void
dump_diags(const struct fx *f)
{
	char b[300];
	size_t i;

	for (i = 0; i < f->diags.n; i++)
		fprintf(stderr, "# %s\n", diag_format(&f->diags.v[i], b,
		    sizeof(b)));
}

/* A channel on url with extra lines (starttls off: the fakes are
 * plain). */
static void
open_at(struct fx *f, const char *u, const char *extra)
{
	char yaml[2048];

	(void)snprintf(yaml, sizeof(yaml),
	    "name: mail\ntype: smtp\nurl: %s\n"
	    "from: \"平顺县气象台 <warn@example.cn>\"\nstarttls: off\n%s",
	    u, extra != NULL ? extra : "");
	if (open_yaml(f, yaml) != 0)
		dump_diags(f);
	assert_int_equal(f->diags.nerrors, 0);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
poll_reports(struct fx *f, size_t nrep, int64_t ms)
{
	int64_t end = now_ms() + ms, w;

	while (f->nrep < nrep) {
		assert_true(now_ms() < end);
		w = f->ch.ops->poll(&f->ch, now_ms());
		assert_true(w >= 0);
		(void)usleep((useconds_t)(w > 5 ? 5 : w) * 1000);
	}
	(void)f->ch.ops->poll(&f->ch, now_ms());
	assert_int_equal(f->nrep, nrep);
}

static void
send1(struct fx *f, int64_t id, const char *to, const char *subject,
    const char *text)
{
	struct chan_msg m;

	memset(&m, 0, sizeof(m));
	m.delivery_id = id;
	m.to = to;
	m.subject = subject;
	m.text = text;
	m.priority = 9;
	assert_int_equal(f->ch.ops->send(&f->ch, &m, 1), 0);
}

/* One message, sent and reported; its report. */
static const struct got *
mail(struct fx *f, int64_t id, const char *to, const char *subject,
    const char *text)
{
	size_t n = f->nrep;

	send1(f, id, to, subject, text);
	poll_reports(f, n + 1, 15000);
	return &f->rep[n];
}

static json_t *
jsonl(const char *path)
{
	json_t *a = json_array(), *o;
	char line[65536];
	FILE *fp;

	if ((fp = fopen(path, "r")) == NULL)
		return a;
	while (fgets(line, sizeof(line), fp) != NULL) {
		o = json_loads(line, 0, NULL);
		assert_non_null(o);
		json_array_append_new(a, o);
	}
	(void)fclose(fp);
	return a;
}

static const char *
jstr(json_t *a, size_t i, const char *key)
{
	return json_string_value(json_object_get(json_array_get(a, i), key));
}

/* ------------------------------------------------------------------ */
/* Taking a message apart                                              */
/* ------------------------------------------------------------------ */

struct hdr {
	char name[64];
	char *value;	/* unfolded (CRLF before a blank removed) */
};

struct parsed {
	struct hdr h[32];
	size_t nh;
	size_t max_line;	/* longest header or body line */
	int bare_lf;		/* a LF without CR */
	char *body;		/* raw body */
};

static void
parsed_release(struct parsed *m)
{
	size_t i;

	for (i = 0; i < m->nh; i++)
		free(m->h[i].value);
	free(m->body);
}

static void
parse_msg(const char *raw, struct parsed *m)
{
	const char *s = raw, *eol, *colon, *end;
	size_t i, len;

	memset(m, 0, sizeof(*m));
	for (i = 0; raw[i] != '\0'; i++)
		if (raw[i] == '\n' && (i == 0 || raw[i - 1] != '\r'))
			m->bare_lf = 1;
	for (s = raw; *s != '\0'; s = eol + 2) {
		eol = strstr(s, "\r\n");
		assert_non_null(eol);
		len = (size_t)(eol - s);
		if (len > m->max_line)
			m->max_line = len;
	}
	s = raw;
	while (strncmp(s, "\r\n", 2) != 0) {
		struct strbuf v = STRBUF_INIT;

		assert_true(m->nh < 32);
		colon = strchr(s, ':');
		assert_non_null(colon);
		eol = strstr(s, "\r\n");
		assert_true(colon < eol);
		(void)snprintf(m->h[m->nh].name, sizeof(m->h[m->nh].name),
		    "%.*s", (int)(colon - s), s);
		s = colon + 1;
		while (*s == ' ')
			s++;
		for (;;) {
			end = strstr(s, "\r\n");
			strbuf_add(&v, s, (size_t)(end - s));
			s = end + 2;
			if (*s != ' ' && *s != '\t')
				break;
		}
		if (v.p == NULL)
			strbuf_addstr(&v, "");
		m->h[m->nh++].value = v.p;
	}
	m->body = strdup(s + 2);
}

static const char *
header(const struct parsed *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->nh; i++)
		if (strcasecmp(m->h[i].name, name) == 0)
			return m->h[i].value;
	return NULL;
}

/* A header value with its =?UTF-8?B?…?= words decoded (blanks between
 * adjacent words dropped, as RFC 2047 says); each word must decode to
 * whole UTF-8 characters.  Allocated. */
static char *
decode_words(const char *s)
{
	struct strbuf b = STRBUF_INIT;
	unsigned char bin[256];
	const char *q, *e, *blank = NULL;
	size_t n, i;
	int prev_word = 0;

	while (*s != '\0') {
		if (strncmp(s, "=?UTF-8?B?", 10) == 0 &&
		    (e = strstr(s + 10, "?=")) != NULL) {
			q = s + 10;
			assert_int_equal(sodium_base642bin(bin, sizeof(bin), q,
			    (size_t)(e - q), NULL, &n, NULL,
			    sodium_base64_VARIANT_ORIGINAL), 0);
			/* Whole characters: no continuation at the start,
			 * the last character complete. */
			assert_true(n == 0 || (bin[0] & 0xc0) != 0x80);
			for (i = n; i > 0 && (bin[i - 1] & 0xc0) == 0x80; i--)
				;
			if (i > 0 && bin[i - 1] >= 0xc0) {
				size_t want = bin[i - 1] >= 0xf0 ? 4 :
				    bin[i - 1] >= 0xe0 ? 3 : 2;

				assert_int_equal(n - (i - 1), want);
			}
			strbuf_add(&b, (const char *)bin, n);
			s = e + 2;
			prev_word = 1;
			blank = NULL;
			continue;
		}
		if (*s == ' ' && prev_word) {
			if (blank == NULL)
				blank = s;
			s++;
			continue;
		}
		if (blank != NULL)
			strbuf_add(&b, blank, (size_t)(s - blank));
		blank = NULL;
		prev_word = 0;
		strbuf_add(&b, s, 1);
		s++;
	}
	if (b.p == NULL)
		strbuf_addstr(&b, "");
	return b.p;
}

/* The base64 body decoded; every line at most 76. */
static char *
decode_body(const char *body)
{
	size_t len = strlen(body), n;
	unsigned char *bin = malloc(len + 1);

	assert_non_null(bin);
	assert_int_equal(sodium_base642bin(bin, len, body, len, "\r\n", &n,
	    NULL, sodium_base64_VARIANT_ORIGINAL), 0);
	bin[n] = '\0';
	return (char *)bin;
}

/* text with its LFs made CRLF. */
static char *
crlf(const char *text)
{
	struct strbuf b = STRBUF_INIT;

	for (; *text != '\0'; text++) {
		if (*text == '\n')
			strbuf_add(&b, "\r", 1);
		strbuf_add(&b, text, 1);
	}
	return b.p;
}

/* The one message the fake k accepted, taken apart. */
static void
accepted(const struct fake *k, size_t want, size_t i, struct parsed *m,
    json_t **log)
{
	*log = jsonl(k->log);
	assert_int_equal(json_array_size(*log), want);
	parse_msg(jstr(*log, i, "data"), m);
}

/* ------------------------------------------------------------------ */
/* Config                                                              */
/* ------------------------------------------------------------------ */

static int
has_diag(const struct fx *f, long line, const char *needle)
{
	size_t i;

	for (i = 0; i < f->diags.n; i++)
		if (f->diags.v[i].line == line &&
		    strstr(f->diags.v[i].msg, needle) != NULL)
			return 1;
	return 0;
}

static void
test_config_errors(void **state)
{
	struct fx *f = *state;
	int ok;

	assert_int_equal(open_yaml(f,
	    "name: x\n"					/* 1 */
	    "type: smtp\n"				/* 2 */
	    "url: http://mail.example.cn/\n"		/* 3 */
	    "from: \"气象台 <warn@example>\"\n"		/* 4 */
	    "username: warn\n"				/* 5 */
	    "password: a\n"				/* 6 */
	    "password_file: smtp.pass\n"		/* 7 */
	    "starttls: sometimes\n"			/* 8 */
	    "concurrency: 0\n"				/* 9 */
	    "timeout: 500ms\n"				/* 10 */
	    "bcc: all\n"),				/* 11 */
	    ENG_EINVAL);
	ok = has_diag(f, 3, "url must start with smtp:// or smtps://") &&
	    has_diag(f, 4, "from: 'warn@example' is not an e-mail address") &&
	    has_diag(f, 7, "give password or password_file, not both") &&
	    has_diag(f, 8, "'sometimes' is not one of") &&
	    has_diag(f, 9, "0 is out of range (1 to 64)") &&
	    has_diag(f, 10, "duration '500ms' is out of range") &&
	    has_diag(f, 11, "unknown key 'bcc'");
	if (!ok)
		dump_diags(f);
	assert_true(ok);
	assert_int_equal(f->diags.nerrors, 7);
}

static void
test_config_required(void **state)
{
	struct fx *f = *state;
	int ok;

	assert_int_equal(open_yaml(f, "name: x\ntype: smtp\n"
	    "password_file: no-such.pass\n"
	    "url: \"smtp://a@mail.example.cn:25\"\n"), ENG_EINVAL);
	ok = has_diag(f, 1, "missing required key 'from'") &&
	    has_diag(f, 3, "no-such.pass") &&
	    has_diag(f, 3, "a password needs a username") &&
	    has_diag(f, 4, "url must not have a query, a fragment, user "
	    "info");
	if (!ok)
		dump_diags(f);
	assert_true(ok);
	assert_int_equal(f->diags.nerrors, 4);
}

static void
test_config_bad_urls(void **state)
{
	struct fx *f = *state;
	static const char *const bad[] = {
		"smtp://", "smtp://mail.example.cn:0", "smtp://host:99999",
		"smtp://host:25/helo.example", "smtp://[::1", "smtp://h:x",
		"smtp://mail.example.cn?x", "smtp://mail example.cn",
	};
	char yaml[300];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct fx g;

		memset(&g, 0, sizeof(g));
		diag_list_init(&g.diags);
		g.env = f->env;
		g.env.engine = &g;
		g.ch = f->ch;
		g.ch.env = &g.env;
		(void)snprintf(yaml, sizeof(yaml), "name: m\ntype: smtp\n"
		    "url: \"%s\"\nfrom: warn@example.cn\n", bad[i]);
		assert_int_equal(open_yaml(&g, yaml), ENG_EINVAL);
		if (g.diags.nerrors != 1 || g.diags.v[0].line != 3) {
			fprintf(stderr, "# %s:\n", bad[i]);
			dump_diags(&g);
		}
		assert_int_equal(g.diags.nerrors, 1);
		assert_int_equal(g.diags.v[0].line, 3);
		g.ch.ops->shutdown(&g.ch);
		free(g.ch.priv);
		cfg_doc_free(g.doc);
		diag_list_release(&g.diags);
	}
}

/* Credentials never cross a network in clear text. */
static void
test_config_cleartext(void **state)
{
	struct fx *f = *state;

	assert_int_equal(open_yaml(f, "name: m\ntype: smtp\n"
	    "url: smtp://mail.example.cn:25\n"
	    "from: warn@example.cn\n"
	    "username: warn@example.cn\n"
	    "password_file: smtp.pass\n"
	    "starttls: off\n"), ENG_EINVAL);
	assert_int_equal(f->diags.nerrors, 1);
	assert_int_equal(f->diags.v[0].line, 7);
	assert_string_equal(f->diags.v[0].msg, "'off' could send the "
	    "password in clear text; use required (or smtps://), or a relay "
	    "on 127.0.0.1 or ::1");
}

static void
test_config_cleartext_optional(void **state)
{
	struct fx *f = *state;

	assert_int_equal(open_yaml(f, "name: m\ntype: smtp\n"
	    "url: smtp://192.0.2.7\n"
	    "from: warn@example.cn\n"
	    "username: warn@example.cn\n"
	    "password: s3cret\n"
	    "starttls: optional\n"), ENG_EINVAL);
	assert_true(has_diag(f, 7, "'optional' could send the password in "
	    "clear text"));
	assert_int_equal(f->diags.nerrors, 1);
}

static void
test_config_smtps_no_starttls(void **state)
{
	struct fx *f = *state;

	assert_int_equal(open_yaml(f, "name: m\ntype: smtp\n"
	    "url: smtps://mail.example.cn:465\n"
	    "from: warn@example.cn\n"
	    "starttls: off\n"), ENG_EINVAL);
	assert_true(has_diag(f, 5, "an smtps:// url is TLS from the start; "
	    "'off' does not apply"));
	assert_int_equal(f->diags.nerrors, 1);
}

/* Clear text to a relay on loopback is allowed, as is TLS anywhere. */
static void
test_config_ok(void **state)
{
	struct fx *f = *state;
	struct chan_health h;

	assert_int_equal(open_yaml(f, "name: m\ntype: smtp\n"
	    "url: \"smtp://[::1]:2525\"\n"
	    "from: warn@example.cn\n"
	    "username: warn@example.cn\n"
	    "password_file: smtp.pass\n"
	    "starttls: off\n"
	    "concurrency: 2\ntimeout: 5s\nfailover: sms\n"), 0);
	assert_int_equal(f->diags.n, 0);
	f->ch.ops->health(&f->ch, &h);
	assert_int_equal(h.up, 1);
	assert_int_equal(h.queued, 0);
	f->ch.ops->shutdown(&f->ch);
	f->ch.ops->shutdown(&f->ch);	/* idempotent */
}

static void
test_config_ok_tls(void **state)
{
	struct fx *f = *state;

	assert_int_equal(open_yaml(f, "name: m\ntype: smtp\n"
	    "url: smtps://mail.example.cn:465\n"
	    "from: 气象台 <warn@example.cn>\n"
	    "username: warn@example.cn\n"
	    "password: s3cret\n"), 0);
	assert_int_equal(f->diags.n, 0);
}

/* ------------------------------------------------------------------ */
/* Messages                                                            */
/* ------------------------------------------------------------------ */

static void
test_message(void **state)
{
	struct fx *f = *state;
	const struct got *g;
	struct parsed m;
	json_t *log;
	char *s, *want;
	const char *date;
	struct tm tm;

	open_at(f, open_fk.url, NULL);
	g = mail(f, 4242, "u45238404@example.cn", SUBJECT, TEXT);
	if (g->result != CHAN_R_SENT)
		fprintf(stderr, "# %s\n", g->error);
	assert_int_equal(g->id, 4242);
	assert_int_equal(g->result, CHAN_R_SENT);
	assert_string_equal(g->gateway_id, "2.0.0 Ok: queued as FAKE0001");
	accepted(&open_fk, 1, 0, &m, &log);
	assert_string_equal(jstr(log, 0, "mail_from"), "warn@example.cn");
	assert_int_equal(json_array_size(json_object_get(json_array_get(log,
	    0), "rcpt_to")), 1);
	assert_string_equal(json_string_value(json_array_get(json_object_get(
	    json_array_get(log, 0), "rcpt_to"), 0)), "u45238404@example.cn");

	assert_false(m.bare_lf);
	assert_true(m.max_line <= 76);
	s = decode_words(header(&m, "From"));
	assert_string_equal(s, "平顺县气象台 <warn@example.cn>");
	free(s);
	assert_string_equal(header(&m, "To"), "u45238404@example.cn");
	assert_non_null(strstr(header(&m, "Subject"), "=?UTF-8?B?"));
	s = decode_words(header(&m, "Subject"));
	assert_string_equal(s, SUBJECT);
	free(s);
	assert_string_equal(header(&m, "Message-ID"),
	    "<gong-4242@example.cn>");
	assert_string_equal(header(&m, "MIME-Version"), "1.0");
	assert_string_equal(header(&m, "Content-Type"),
	    "text/plain; charset=UTF-8");
	assert_string_equal(header(&m, "Content-Transfer-Encoding"),
	    "base64");
	assert_string_equal(header(&m, "Auto-Submitted"), "auto-generated");
	date = header(&m, "Date");
	memset(&tm, 0, sizeof(tm));
	assert_non_null(date);
	s = strptime(date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
	assert_non_null(s);
	assert_int_equal(*s, '\0');
	assert_true(llabs((long long)timegm(&tm) - now_ms() / 1000) < 60);
	assert_int_equal(m.nh, 9);

	/* The body: the text exactly, its lines ending CRLF. */
	s = decode_body(m.body);
	want = crlf(TEXT);
	assert_string_equal(s, want);
	free(s);
	free(want);
	parsed_release(&m);
	json_decref(log);
}

/* A long subject: words of whole characters, folded within 76. */
static void
test_long_subject(void **state)
{
	struct fx *f = *state;
	struct strbuf subj = STRBUF_INIT;
	struct parsed m;
	json_t *log;
	char *s;
	int i;

	for (i = 0; i < 12; i++)
		strbuf_addstr(&subj, "平顺县气象台发布暴雨红色预警 ");
	strbuf_addstr(&subj, "a😀b");
	open_at(f, open_fk.url, NULL);
	assert_int_equal(mail(f, 7, "u45238404@example.cn", subj.p,
	    "正文")->result, CHAN_R_SENT);
	accepted(&open_fk, 1, 0, &m, &log);
	assert_true(m.max_line <= 76);
	s = decode_words(header(&m, "Subject"));
	assert_string_equal(s, subj.p);
	free(s);
	parsed_release(&m);
	json_decref(log);
	strbuf_release(&subj);
}

/* CR and LF cannot make headers: not in the subject, not through the
 * address, not through the body (dots and all). */
static void
test_hostile_subject(void **state)
{
	struct fx *f = *state;
	struct parsed m;
	json_t *log;
	size_t i;
	char *s;

	open_at(f, open_fk.url, NULL);
	assert_int_equal(mail(f, 8, "u45238404@example.cn",
	    "暴雨\r\nBcc: evil@example.com\r\n\r\nfree text\n.\r\nQUIT",
	    "a\r\n.\r\nMAIL FROM:<evil@example.com>\r\n")->result,
	    CHAN_R_SENT);
	accepted(&open_fk, 1, 0, &m, &log);
	for (i = 0; i < m.nh; i++)
		assert_true(strcasecmp(m.h[i].name, "Bcc") != 0);
	assert_int_equal(m.nh, 9);
	assert_null(strchr(header(&m, "Subject"), '\n'));
	s = decode_words(header(&m, "Subject"));
	assert_string_equal(s, "暴雨  Bcc: evil@example.com    free text .  "
	    "QUIT");
	free(s);
	s = decode_body(m.body);
	assert_string_equal(s, "a\r\n.\r\nMAIL FROM:<evil@example.com>\r\n");
	free(s);
	assert_int_equal(json_array_size(json_object_get(json_array_get(log,
	    0), "rcpt_to")), 1);
	parsed_release(&m);
	json_decref(log);
}

static void
test_hostile_address(void **state)
{
	struct fx *f = *state;
	static const char *const bad[] = {
		"u@example.cn>\r\nRCPT TO:<evil@example.com",
		"u@example.cn\r\n", "u @example.cn", "u@example",
		"<u@example.cn>",
		"u@@example.cn", "何@example.cn", "u@exa_mple.cn", "",
	};
	size_t i;
	json_t *log;

	open_at(f, open_fk.url, NULL);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		send1(f, (int64_t)(100 + i), bad[i], "s", "t");
	poll_reports(f, sizeof(bad) / sizeof(bad[0]), 5000);
	for (i = 0; i < f->nrep; i++) {
		assert_int_equal(f->rep[i].id, (int64_t)(100 + i));
		assert_int_equal(f->rep[i].result, CHAN_R_FAILED);
		assert_string_equal(f->rep[i].error,
		    "not a plain e-mail address");
	}
	log = jsonl(open_fk.log);
	assert_int_equal(json_array_size(log), 0);
	json_decref(log);
}

/* No subject: the text's first line. */
static void
test_no_subject(void **state)
{
	struct fx *f = *state;
	struct parsed m;
	json_t *log;
	char *s;

	open_at(f, open_fk.url, NULL);
	assert_int_equal(mail(f, 9, "u45238404@example.cn", NULL,
	    "第一行\n第二行")->result, CHAN_R_SENT);
	accepted(&open_fk, 1, 0, &m, &log);
	s = decode_words(header(&m, "Subject"));
	assert_string_equal(s, "第一行");
	free(s);
	parsed_release(&m);
	json_decref(log);
}

/* ------------------------------------------------------------------ */
/* Error classes                                                       */
/* ------------------------------------------------------------------ */

static void
test_450_retry(void **state)
{
	struct fx *f = *state;
	const struct got *g;

	control(&open_fk, "{\"rcpt\": {\"u45238404@example.cn\": [450, "
	    "\"4.2.1 <u45238404@example.cn>: mailbox busy\"]}}");
	open_at(f, open_fk.url, NULL);
	g = mail(f, 11, "u45238404@example.cn", SUBJECT, TEXT);
	assert_int_equal(g->result, CHAN_R_RETRY);
	assert_string_equal(g->error,
	    "450 4.2.1 <u45238404@example.cn>: mailbox busy");
	/* Another recipient on the same server goes through. */
	g = mail(f, 12, "u00000001@example.cn", SUBJECT, TEXT);
	assert_int_equal(g->result, CHAN_R_SENT);
}

static void
test_550_failed(void **state)
{
	struct fx *f = *state;
	const struct got *g;
	json_t *log;

	control(&open_fk, "{\"rcpt\": {\"nobody@example.cn\": [550, "
	    "\"5.1.1 <nobody@example.cn>: Recipient address rejected: "
	    "User unknown\"], \"bad@example.cn\": [553, \"5.1.3 bad "
	    "address\"]}}");
	open_at(f, open_fk.url, NULL);
	g = mail(f, 21, "nobody@example.cn", SUBJECT, TEXT);
	assert_int_equal(g->result, CHAN_R_FAILED);
	assert_string_equal(g->error, "550 5.1.1 <nobody@example.cn>: "
	    "Recipient address rejected: User unknown");
	g = mail(f, 22, "bad@example.cn", SUBJECT, TEXT);
	assert_int_equal(g->result, CHAN_R_FAILED);
	assert_string_equal(g->error, "553 5.1.3 bad address");
	/* The connection after a refusal still carries the next one. */
	g = mail(f, 23, "u45238404@example.cn", SUBJECT, TEXT);
	assert_int_equal(g->result, CHAN_R_SENT);
	log = jsonl(open_fk.log);
	assert_int_equal(json_array_size(log), 1);
	json_decref(log);
}

static void
test_other_replies(void **state)
{
	struct fx *f = *state;
	const struct got *g;

	open_at(f, open_fk.url, NULL);
	control(&open_fk, "{\"mail\": [451, \"4.3.0 try later\"]}");
	g = mail(f, 31, "u45238404@example.cn", SUBJECT, TEXT);
	assert_int_equal(g->result, CHAN_R_RETRY);
	assert_string_equal(g->error, "451 4.3.0 try later");
	control(&open_fk, "{\"data\": [554, \"5.7.1 message refused as "
	    "spam\"]}");
	g = mail(f, 32, "u45238404@example.cn", SUBJECT, TEXT);
	assert_int_equal(g->result, CHAN_R_FAILED);
	assert_string_equal(g->error, "554 5.7.1 message refused as spam");
	control(&open_fk, "{\"rcpt\": {\"*\": [452, \"4.5.3 too many\"]}}");
	g = mail(f, 34, "u45238404@example.cn", SUBJECT, TEXT);
	assert_int_equal(g->result, CHAN_R_RETRY);
	assert_string_equal(g->error, "452 4.5.3 too many");
}

/* A server too busy to greet (a fresh channel: a new connection). */
static void
test_greeting_421(void **state)
{
	struct fx *f = *state;
	const struct got *g;

	control(&open_fk, "{\"greeting\": [421, \"4.3.2 too busy\"]}");
	open_at(f, open_fk.url, NULL);
	g = mail(f, 33, "u45238404@example.cn", SUBJECT, TEXT);
	assert_int_equal(g->result, CHAN_R_RETRY);
	assert_string_equal(g->error, "421 4.3.2 too busy");
}

/* starttls required: a server that offers no STARTTLS gets nothing;
 * optional: it gets the message in clear (no credentials). */
static void
test_starttls_required(void **state)
{
	struct fx *f = *state;
	const struct got *g;
	char yaml[600];
	json_t *log;

	(void)snprintf(yaml, sizeof(yaml), "name: mail\ntype: smtp\n"
	    "url: %s\nfrom: warn@example.cn\n", open_fk.url);
	assert_int_equal(open_yaml(f, yaml), 0);
	g = mail(f, 35, "u45238404@example.cn", SUBJECT, TEXT);
	assert_int_equal(g->result, CHAN_R_FAILED);
	assert_string_equal(g->error, "STARTTLS not supported. (starttls is "
	    "required)");
	log = jsonl(open_fk.log);
	assert_int_equal(json_array_size(log), 0);
	json_decref(log);
}

static void
test_starttls_optional(void **state)
{
	struct fx *f = *state;
	char yaml[600];
	json_t *log;

	(void)snprintf(yaml, sizeof(yaml), "name: mail\ntype: smtp\n"
	    "url: %s\nfrom: warn@example.cn\nstarttls: optional\n",
	    open_fk.url);
	assert_int_equal(open_yaml(f, yaml), 0);
	assert_int_equal(mail(f, 36, "u45238404@example.cn", SUBJECT,
	    TEXT)->result, CHAN_R_SENT);
	log = jsonl(open_fk.log);
	assert_int_equal(json_array_size(log), 1);
	json_decref(log);
}

/* STARTTLS with the relay's certificate verified against ca_file, then
 * AUTH inside TLS. */
static void
test_starttls_verified(void **state)
{
	struct fx *f = *state;
	const struct got *g;
	char yaml[600];
	json_t *log;

	(void)snprintf(yaml, sizeof(yaml), "name: mail\ntype: smtp\n"
	    "url: %s\nfrom: warn@example.cn\nstarttls: required\n"
	    "ca_file: relay.pem\nusername: warn@example.cn\n"
	    "password_file: smtp.pass\n", tls_fk.url);
	assert_int_equal(open_yaml(f, yaml), 0);
	g = mail(f, 37, "u45238404@example.cn", SUBJECT, TEXT);
	if (g->result != CHAN_R_SENT)
		fprintf(stderr, "# %s\n", g->error);
	assert_int_equal(g->result, CHAN_R_SENT);
	log = jsonl(tls_fk.log);
	assert_int_equal(json_array_size(log), 1);
	assert_true(json_is_true(json_object_get(json_array_get(log, 0),
	    "tls")));
	assert_string_equal(jstr(log, 0, "auth"), "warn@example.cn");
	json_decref(log);
	log = jsonl(tls_fk.req);
	assert_int_equal(json_array_size(log), 0);	/* nothing refused */
	json_decref(log);
}

/* A certificate that does not verify (no ca_file: the system's CAs do
 * not know it): nothing is sent, credentials least of all; FAILED. */
static void
test_starttls_unverified(void **state)
{
	struct fx *f = *state;
	const struct got *g;
	char yaml[600];
	json_t *log;

	(void)snprintf(yaml, sizeof(yaml), "name: mail\ntype: smtp\n"
	    "url: %s\nfrom: warn@example.cn\nusername: warn@example.cn\n"
	    "password_file: smtp.pass\n", tls_fk.url);
	assert_int_equal(open_yaml(f, yaml), 0);
	g = mail(f, 38, "u45238404@example.cn", SUBJECT, TEXT);
	assert_int_equal(g->result, CHAN_R_FAILED);
	assert_non_null(strstr(g->error, "certificate"));
	log = jsonl(tls_fk.log);
	assert_int_equal(json_array_size(log), 0);
	json_decref(log);
	log = jsonl(tls_fk.req);
	assert_int_equal(json_array_size(log), 0);	/* no AUTH in clear */
	json_decref(log);
}

static void
test_ca_file_missing(void **state)
{
	struct fx *f = *state;
	char yaml[600], want[200];

	(void)snprintf(yaml, sizeof(yaml), "name: mail\ntype: smtp\n"
	    "url: %s\nfrom: warn@example.cn\nca_file: nope.pem\n",
	    tls_fk.url);
	assert_int_equal(open_yaml(f, yaml), ENG_EINVAL);
	assert_int_equal(f->diags.nerrors, 1);
	assert_int_equal(f->diags.v[0].line, 5);
	(void)snprintf(want, sizeof(want), "cannot read %s/nope.pem: No such "
	    "file or directory", dir);
	assert_string_equal(f->diags.v[0].msg, want);
}

static void
test_auth(void **state)
{
	struct fx *f = *state;
	const struct got *g;
	json_t *log;

	open_at(f, auth_fk.url, "username: warn@example.cn\n"
	    "password_file: smtp.pass\n");
	g = mail(f, 41, "u45238404@example.cn", SUBJECT, TEXT);
	if (g->result != CHAN_R_SENT)
		fprintf(stderr, "# %s\n", g->error);
	assert_int_equal(g->result, CHAN_R_SENT);
	log = jsonl(auth_fk.log);
	assert_int_equal(json_array_size(log), 1);
	assert_string_equal(jstr(log, 0, "auth"), "warn@example.cn");
	json_decref(log);
}

static void
test_auth_535(void **state)
{
	struct fx *f = *state;
	const struct got *g;
	json_t *log;

	open_at(f, auth_fk.url, "username: warn@example.cn\n"
	    "password_file: wrong.pass\n");
	g = mail(f, 42, "u45238404@example.cn", SUBJECT, TEXT);
	assert_int_equal(g->result, CHAN_R_FAILED);
	assert_string_equal(g->error,
	    "535 5.7.8 Authentication credentials invalid");
	log = jsonl(auth_fk.log);
	assert_int_equal(json_array_size(log), 0);
	json_decref(log);
}

/* A temporary AUTH failure (454) is tried again. */
static void
test_auth_454(void **state)
{
	struct fx *f = *state;
	const struct got *g;

	control(&auth_fk, "{\"auth\": [454, \"4.7.0 Temporary "
	    "authentication failure\"]}");
	open_at(f, auth_fk.url, "username: warn@example.cn\n"
	    "password: s3cret\n");
	g = mail(f, 43, "u45238404@example.cn", SUBJECT, TEXT);
	assert_int_equal(g->result, CHAN_R_RETRY);
	assert_string_equal(g->error,
	    "454 4.7.0 Temporary authentication failure");
}

/* No credentials for a server that wants them: 530, refused. */
static void
test_auth_missing(void **state)
{
	struct fx *f = *state;
	const struct got *g;

	open_at(f, auth_fk.url, NULL);
	g = mail(f, 44, "u45238404@example.cn", SUBJECT, TEXT);
	assert_int_equal(g->result, CHAN_R_FAILED);
	assert_string_equal(g->error, "530 5.7.0 Authentication required");
}

static void
test_server_down(void **state)
{
	struct fx *f = *state;
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	struct chan_health h;
	const struct got *g;
	char u[64];
	int s;

	/* A port that nobody listens on. */
	s = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &al), 0);
	(void)close(s);
	(void)snprintf(u, sizeof(u), "smtp://127.0.0.1:%u",
	    (unsigned)ntohs(a.sin_port));
	open_at(f, u, NULL);
	g = mail(f, 51, "u45238404@example.cn", SUBJECT, TEXT);
	assert_int_equal(g->result, CHAN_R_RETRY);
	assert_non_null(strstr(g->error, "onnect"));
	f->ch.ops->health(&f->ch, &h);
	assert_int_equal(h.up, 0);
	assert_string_equal(h.detail, g->error);
}

static void
test_timeout(void **state)
{
	struct fx *f = *state;
	const struct got *g;
	int64_t t0;

	control(&open_fk, "{\"delay\": 3}");
	open_at(f, open_fk.url, "timeout: 1s\n");
	t0 = now_ms();
	g = mail(f, 61, "u45238404@example.cn", SUBJECT, TEXT);
	assert_int_equal(g->result, CHAN_R_RETRY);
	assert_non_null(strstr(g->error, "imeout"));
	assert_true(now_ms() - t0 < 2500);
}

/* ------------------------------------------------------------------ */
/* Queue                                                               */
/* ------------------------------------------------------------------ */

static void
test_queue_and_shutdown(void **state)
{
	struct fx *f = *state;
	struct chan_msg m[16];
	struct chan_health h;
	size_t i;

	open_at(f, open_fk.url, NULL);
	memset(m, 0, sizeof(m));
	for (i = 0; i < 16; i++) {
		m[i].delivery_id = (int64_t)(200 + i);
		m[i].to = "u45238404@example.cn";
		m[i].subject = SUBJECT;
		m[i].text = TEXT;
	}
	assert_int_equal(f->ch.ops->send(&f->ch, m, 16), 0);
	assert_int_equal(f->ch.ops->send(&f->ch, m, 1), ENG_ETEMP);
	f->ch.ops->health(&f->ch, &h);
	assert_int_equal(h.queued, 16);
	assert_int_equal(f->nrep, 0);	/* never from send */
	f->ch.ops->shutdown(&f->ch);
	assert_int_equal(f->nrep, 16);
	for (i = 0; i < 16; i++) {
		assert_int_equal(f->rep[i].id, (int64_t)(200 + i));
		assert_int_equal(f->rep[i].result, CHAN_R_RETRY);
		assert_string_equal(f->rep[i].error, "shut down");
	}
}

/* Several at once, each to its own recipient, each with its own
 * Message-ID; one past its deadline is not sent. */
static void
test_many(void **state)
{
	struct fx *f = *state;
	struct chan_msg m[6];
	char to[6][32];
	size_t i, sent = 0;
	json_t *log;
	struct parsed p;

	open_at(f, open_fk.url, "concurrency: 3\n");
	memset(m, 0, sizeof(m));
	for (i = 0; i < 6; i++) {
		(void)snprintf(to[i], sizeof(to[i]), "u%zu@example.cn", i);
		m[i].delivery_id = (int64_t)(300 + i);
		m[i].to = to[i];
		m[i].subject = SUBJECT;
		m[i].text = TEXT;
	}
	m[5].deadline_ms = now_ms() - 1000;
	assert_int_equal(f->ch.ops->send(&f->ch, m, 6), 0);
	poll_reports(f, 6, 15000);
	for (i = 0; i < 6; i++) {
		if (f->rep[i].id == 305) {
			assert_int_equal(f->rep[i].result, CHAN_R_RETRY);
			assert_string_equal(f->rep[i].error,
			    "expired before it could be sent");
		} else {
			assert_int_equal(f->rep[i].result, CHAN_R_SENT);
			sent++;
		}
	}
	assert_int_equal(sent, 5);
	log = jsonl(open_fk.log);
	assert_int_equal(json_array_size(log), 5);
	for (i = 0; i < 5; i++) {
		char want[64];
		const char *rcpt = json_string_value(json_array_get(
		    json_object_get(json_array_get(log, i), "rcpt_to"), 0));

		parse_msg(jstr(log, i, "data"), &p);
		assert_string_equal(header(&p, "To"), rcpt);
		(void)snprintf(want, sizeof(want), "<gong-30%c@example.cn>",
		    rcpt[1]);
		assert_string_equal(header(&p, "Message-ID"), want);
		parsed_release(&p);
	}
	json_decref(log);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_config_errors, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_config_required, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_config_bad_urls, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_config_cleartext, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_config_cleartext_optional,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_smtps_no_starttls,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_ok, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_config_ok_tls, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_message, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_subject, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_hostile_subject, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_hostile_address, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_no_subject, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_450_retry, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_550_failed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_other_replies, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_greeting_421, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_starttls_required, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_starttls_optional, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_starttls_verified, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_starttls_unverified,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_ca_file_missing, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_auth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auth_535, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_auth_454, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_auth_missing, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_server_down, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_timeout, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_queue_and_shutdown, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_many, setup, teardown),
	};

	return cmocka_run_group_tests_name("chan_smtp", tests, group_setup,
	    group_teardown);
}
