/*
 * tests/unit/test_chan_webhook.c - the "webhook" channel driver against
 * the local robot fakes (tests/integration/robot_fakes.py, started once
 * for the group on 127.0.0.1 with a free port, the signing secret
 * "SECtest", robot keys k1 and k2 and the bot token 123456:TEST-token).
 *
 * A small engine stands in for the dispatcher: it offers each message
 * through send (again after ENG_ETEMP), polls, and offers a message
 * again after CHAN_R_RETRY once its retry_after_ms is over.  What the
 * fake accepted is read back from its JSONL log.  Runs from the
 * repository root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#include "channels/channel.h"
#include "config/cfg.h"

#define SECRET	"SECtest"
#define TOKEN	"123456:TEST-token"

static char dir[64];
static char log_path[128], req_path[128], ctl_path[128];
static char base[64];
static pid_t fake_pid;

/* ------------------------------------------------------------------ */
/* The group: the fake                                                 */
/* ------------------------------------------------------------------ */

static int
group_setup(void **state)
{
	char port[32] = "";
	FILE *f;
	int fds[2];

	(void)state;
	(void)snprintf(dir, sizeof(dir), "/tmp/gong-webhook.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	(void)snprintf(log_path, sizeof(log_path), "%s/accepted.jsonl", dir);
	(void)snprintf(req_path, sizeof(req_path), "%s/requests.jsonl", dir);
	(void)snprintf(ctl_path, sizeof(ctl_path), "%s/control.json", dir);
	if (pipe(fds) != 0)
		return -1;
	if ((fake_pid = fork()) < 0)
		return -1;
	if (fake_pid == 0) {
		(void)dup2(fds[1], 1);
		(void)close(fds[0]);
		(void)close(fds[1]);
		execlp("python3", "python3",
		    "tests/integration/robot_fakes.py", "--log", log_path,
		    "--requests", req_path, "--control", ctl_path,
		    "--secret", SECRET, "--keys", "k1,k2", "--bot-token",
		    TOKEN, (char *)NULL);
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
	(void)snprintf(base, sizeof(base), "http://127.0.0.1:%s", port + 5);
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

static int
group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	if (fake_pid > 0) {
		(void)kill(fake_pid, SIGTERM);
		(void)waitpid(fake_pid, NULL, 0);
	}
	(void)snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (strncmp(dir, "/tmp/gong-webhook.", 18) == 0 && system(cmd) != 0)
		fprintf(stderr, "# could not remove %s\n", dir);
	curl_global_cleanup();
	return 0;
}

static void
control(const char *json)
{
	FILE *f;

	if (json == NULL) {
		(void)unlink(ctl_path);
		return;
	}
	f = fopen(ctl_path, "w");
	assert_non_null(f);
	fputs(json, f);
	assert_int_equal(fclose(f), 0);
}

/* ------------------------------------------------------------------ */
/* Per test: a channel and a small engine                              */
/* ------------------------------------------------------------------ */

#define MAX_MSG 64
#define MAX_REPORTS 512

struct pend {
	int64_t id;
	char to[64];
	char text[160];
	int64_t deadline_ms;
	int64_t at;		/* offer again from */
	int state;		/* 0 to offer, 1 handed, 2 sent, 3 failed */
};

struct got {
	int64_t id;
	enum chan_result result;
	int64_t retry_after_ms;
	char gateway_id[64];
	char error[200];
};

struct fx {
	struct channel ch;
	struct chan_env env;
	struct cfg_doc *doc;
	struct diag_list diags;
	int open;
	struct pend m[MAX_MSG];
	size_t nm;
	struct got rep[MAX_REPORTS];
	size_t nrep;
	int etemp;		/* ENG_ETEMP answers of send */
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
on_report(void *engine, struct channel *ch, const struct chan_report *r)
{
	struct fx *f = engine;
	struct got *g;
	size_t i;

	assert_ptr_equal(ch, &f->ch);
	assert_true(f->nrep < MAX_REPORTS);
	g = &f->rep[f->nrep++];
	g->id = r->delivery_id;
	g->result = r->result;
	g->retry_after_ms = r->retry_after_ms;
	(void)snprintf(g->gateway_id, sizeof(g->gateway_id), "%s",
	    r->gateway_id != NULL ? r->gateway_id : "");
	(void)snprintf(g->error, sizeof(g->error), "%s",
	    r->error != NULL ? r->error : "");
	for (i = 0; i < f->nm; i++) {
		if (f->m[i].id != r->delivery_id)
			continue;
		/* Exactly one report per message handed over. */
		assert_int_equal(f->m[i].state, 1);
		if (r->result == CHAN_R_SENT)
			f->m[i].state = 2;
		else if (r->result == CHAN_R_FAILED)
			f->m[i].state = 3;
		else {
			f->m[i].state = 0;
			f->m[i].at = now_ms() + (r->retry_after_ms > 0 ?
			    r->retry_after_ms : 50);
		}
	}
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	diag_list_init(&f->diags);
	f->env.data_dir = dir;
	f->env.callback_base = "http://127.0.0.1:1/cb/robots";
	f->env.report = on_report;
	f->env.engine = f;
	f->ch.name = "robots";
	f->ch.ops = &chan_webhook_ops;
	f->ch.env = &f->env;
	f->ch.addr = chan_webhook_ops.addr;
	control(NULL);
	(void)unlink(log_path);
	(void)unlink(req_path);
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
	control(NULL);
	return 0;
}

static int
open_yaml(struct fx *f, const char *yaml)
{
	assert_int_equal(cfg_doc_parse(yaml, strlen(yaml), "robots.yaml",
	    &f->doc, &f->diags), 0);
	f->ch.priv = calloc(1, f->ch.ops->priv_size);
	assert_non_null(f->ch.priv);
	f->open = 1;
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

/* A channel of flavor on the fake: url is base + path; extra lines. */
static void
open_fake(struct fx *f, const char *flavor, const char *path,
    const char *extra)
{
	char yaml[2048];

	(void)snprintf(yaml, sizeof(yaml),
	    "name: robots\ntype: webhook\nflavor: %s\nurl: \"%s%s\"\n"
	    "%stoo_fast_delay: 200ms\n%s", flavor, base, path,
	    extra != NULL && strstr(extra, "rate:") != NULL ? "" :
	    "rate: 600/min\n", extra != NULL ? extra : "");
	if (open_yaml(f, yaml) != 0)
		dump_diags(f);
	assert_int_equal(f->diags.nerrors, 0);
}

static void
add(struct fx *f, int64_t id, const char *to, const char *text)
{
	struct pend *m;

	assert_true(f->nm < MAX_MSG);
	m = &f->m[f->nm++];
	memset(m, 0, sizeof(*m));
	m->id = id;
	(void)snprintf(m->to, sizeof(m->to), "%s", to);
	(void)snprintf(m->text, sizeof(m->text), "%s", text);
}

static int
settled(const struct fx *f)
{
	size_t i;

	for (i = 0; i < f->nm; i++)
		if (f->m[i].state < 2)
			return 0;
	return 1;
}

/* Offer, poll and offer again until every message is sent or failed. */
static void
pump(struct fx *f, int64_t ms)
{
	int64_t end = now_ms() + ms, w, t;
	struct chan_msg cm;
	size_t i;
	int rv;

	while (!settled(f)) {
		assert_true(now_ms() < end);
		t = now_ms();
		for (i = 0; i < f->nm; i++) {
			if (f->m[i].state != 0 || f->m[i].at > t)
				continue;
			memset(&cm, 0, sizeof(cm));
			cm.delivery_id = f->m[i].id;
			cm.to = f->m[i].to;
			cm.text = f->m[i].text;
			cm.priority = 9;
			cm.deadline_ms = f->m[i].deadline_ms;
			rv = f->ch.ops->send(&f->ch, &cm, 1);
			if (rv == 0)
				f->m[i].state = 1;
			else {
				assert_int_equal(rv, ENG_ETEMP);
				f->etemp++;
				f->m[i].at = t + 20;
			}
		}
		w = f->ch.ops->poll(&f->ch, now_ms());
		assert_true(w >= 0);
		(void)usleep((useconds_t)(w > 5 ? 5 : w) * 1000);
	}
	(void)f->ch.ops->poll(&f->ch, now_ms());
}

static const struct got *
report_of(const struct fx *f, int64_t id, enum chan_result r)
{
	size_t i;

	for (i = 0; i < f->nrep; i++)
		if (f->rep[i].id == id && f->rep[i].result == r)
			return &f->rep[i];
	return NULL;
}

static json_t *
jsonl(const char *path)
{
	json_t *a = json_array(), *o;
	char line[8192];
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

static size_t
log_lines(const char *path)
{
	json_t *a = jsonl(path);
	size_t n = json_array_size(a);

	json_decref(a);
	return n;
}

/* How many accepted messages have this text. */
static size_t
count_text(json_t *a, const char *text)
{
	size_t i, n = 0;

	for (i = 0; i < json_array_size(a); i++)
		if (jstr(a, i, "text") != NULL &&
		    strcmp(jstr(a, i, "text"), text) == 0)
			n++;
	return n;
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
	    "type: webhook\n"				/* 2 */
	    "flavor: wecom\n"				/* 3 */
	    "url: \"http://h/send?key={key}&k={key}\"\n" /* 4 */
	    "rate: 20/fortnight\n"			/* 5 */
	    "secret: abc\n"				/* 6 */
	    "token: t\n"				/* 7 */
	    "concurrency: 65\n"				/* 8 */
	    "button: OK\n"				/* 9 */
	    "mention_mobile: true\n"			/* 10 */
	    "timeout: 5ms\n"),				/* 11 */
	    ENG_EINVAL);
	ok = has_diag(f, 4, "url has {key} twice") &&
	    has_diag(f, 5, "rate must be N/min, N/s, N/h or N/<duration>") &&
	    has_diag(f, 6, "secret is for the dingtalk and feishu flavours") &&
	    has_diag(f, 7, "token is for the telegram flavour") &&
	    has_diag(f, 8, "65 is out of range (1 to 64)") &&
	    has_diag(f, 9, "button and webhook_secret are for the telegram") &&
	    has_diag(f, 10, "did you mean 'mention_mobiles'") &&
	    has_diag(f, 11, "out of range");
	if (!ok)
		dump_diags(f);
	assert_true(ok);
	assert_int_equal(f->diags.nerrors, 8);
}

static void
test_config_errors_telegram(void **state)
{
	struct fx *f = *state;
	int ok;

	assert_int_equal(open_yaml(f,
	    "name: x\n"					/* 1 */
	    "type: webhook\n"				/* 2 */
	    "flavor: telegram\n"			/* 3 */
	    "url: \"ftp://api.telegram.org\"\n"		/* 4 */
	    "addr: phone\n"				/* 5 */
	    "webhook_secret: \"no/slash\"\n"		/* 6 */
	    "rate: 0/min\n"				/* 7 */
	    "mention_mobiles: yes\n"),			/* 8 */
	    ENG_EINVAL);
	ok = has_diag(f, 1, "the telegram flavour needs token or token_file") &&
	    has_diag(f, 4, "url must start with http:// or https://") &&
	    has_diag(f, 5, "a telegram channel addresses telegram ids") &&
	    has_diag(f, 6, "webhook_secret may hold only") &&
	    has_diag(f, 7, "rate must be") &&
	    has_diag(f, 8, "mention_mobiles is for the wecom and dingtalk");
	if (!ok)
		dump_diags(f);
	assert_true(ok);
	assert_int_equal(f->diags.nerrors, 6);
}

static void
test_config_errors_addr(void **state)
{
	struct fx *f = *state;

	assert_int_equal(open_yaml(f,
	    "name: x\ntype: webhook\nflavor: dingtalk\n"
	    "url: \"http://h/robot/send?access_token={key}\"\n"	/* 4 */
	    "mention_mobiles: true\n"				/* 5 */
	    "secret_file: nonexistent.secret\n"			/* 6 */
	    "addr: device\n"),					/* 7 */
	    ENG_EINVAL);
	if (f->diags.nerrors != 3)
		dump_diags(f);
	assert_true(has_diag(f, 7, "mention_mobiles needs addr: phone"));
	assert_true(has_diag(f, 6, "cannot read /tmp/gong-webhook."));
	assert_true(has_diag(f, 4, "{key} in url takes the device's "
	    "address: the channel must address devices, not phone"));
	assert_int_equal(f->diags.nerrors, 3);
}

static void
test_config_defaults(void **state)
{
	struct fx *f = *state;
	char yaml[512], path[160];
	FILE *fp;

	(void)snprintf(path, sizeof(path), "%s/tg.token", dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(TOKEN "\n", fp);
	assert_int_equal(fclose(fp), 0);
	(void)snprintf(yaml, sizeof(yaml), "name: tg\ntype: webhook\n"
	    "flavor: telegram\nurl: \"%s/\"\ntoken_file: tg.token\n", base);
	assert_int_equal(open_yaml(f, yaml), 0);
	assert_int_equal(f->ch.addr, CHAN_ADDR_TELEGRAM);
	assert_non_null(chan_find("webhook"));
}

/* ------------------------------------------------------------------ */
/* Each flavour                                                        */
/* ------------------------------------------------------------------ */

static void
test_dingtalk_signed(void **state)
{
	struct fx *f = *state;
	json_t *a;

	open_fake(f, "dingtalk", "/dingtalk/robot/send?access_token={key}",
	    "secret: " SECRET "\n");
	assert_int_equal(f->ch.addr, CHAN_ADDR_DEVICE);
	add(f, 1, "k1", "暴雨红色预警：青羊镇");
	add(f, 2, "k2", "second group");
	add(f, 3, "../k1", "not a key");
	add(f, 4, "k3", "unknown robot");
	pump(f, 5000);
	assert_non_null(report_of(f, 1, CHAN_R_SENT));
	assert_non_null(report_of(f, 2, CHAN_R_SENT));
	assert_string_equal(report_of(f, 3, CHAN_R_FAILED)->error,
	    "the device address is not a robot key");
	assert_string_equal(report_of(f, 4, CHAN_R_FAILED)->error,
	    "dingtalk errcode 300001: token is not exist");
	a = jsonl(log_path);
	assert_int_equal(json_array_size(a), 2);
	assert_int_equal(count_text(a, "暴雨红色预警：青羊镇"), 1);
	assert_string_equal(jstr(a, 0, "flavor"), "dingtalk");
	assert_true(strcmp(jstr(a, 0, "key"), "k1") == 0 ||
	    strcmp(jstr(a, 1, "key"), "k1") == 0);
	json_decref(a);
}

static void
test_dingtalk_wrong_secret(void **state)
{
	struct fx *f = *state;
	const struct got *g;

	open_fake(f, "dingtalk", "/dingtalk/robot/send?access_token=k1",
	    "secret: SECwrong\n");
	add(f, 1, "GC-1", "hello");
	pump(f, 5000);
	g = report_of(f, 1, CHAN_R_FAILED);
	assert_non_null(g);
	assert_true(strncmp(g->error, "dingtalk errcode 310000: sign not "
	    "match", 36) == 0);
	assert_int_equal(log_lines(log_path), 0);
}

static void
test_dingtalk_mentions(void **state)
{
	struct fx *f = *state;
	json_t *a, *at;

	open_fake(f, "dingtalk", "/dingtalk/robot/send?access_token=k2",
	    "secret: " SECRET "\nmention_mobiles: true\n");
	assert_int_equal(f->ch.addr, CHAN_ADDR_PHONE);
	add(f, 5, "13800000001", "请转移");
	pump(f, 5000);
	a = jsonl(log_path);
	assert_int_equal(json_array_size(a), 1);
	assert_string_equal(jstr(a, 0, "text"), "请转移\n@13800000001");
	at = json_object_get(json_object_get(json_array_get(a, 0), "body"),
	    "at");
	assert_string_equal(json_string_value(json_array_get(
	    json_object_get(at, "atMobiles"), 0)), "13800000001");
	json_decref(a);
}

static void
write_file(const char *name, const char *text)
{
	char path[160];
	FILE *fp;

	(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

static void
test_feishu(void **state)
{
	struct fx *f = *state;
	const struct got *g;
	json_t *a, *b;

	write_file("feishu.secret", SECRET "\n");
	open_fake(f, "feishu", "/feishu/open-apis/bot/v2/hook/{key}",
	    "secret_file: feishu.secret\n");
	add(f, 1, "k1", "飞书 message");
	pump(f, 5000);
	assert_non_null(report_of(f, 1, CHAN_R_SENT));
	a = jsonl(log_path);
	assert_int_equal(json_array_size(a), 1);
	assert_string_equal(jstr(a, 0, "text"), "飞书 message");
	b = json_object_get(json_array_get(a, 0), "body");
	assert_string_equal(json_string_value(json_object_get(b, "msg_type")),
	    "text");
	assert_non_null(json_string_value(json_object_get(b, "sign")));
	json_decref(a);

	/* The wrong secret: refused for good. */
	write_file("feishu.secret", "SECwrong\n");
	teardown(state);
	setup(state);
	f = *state;
	open_fake(f, "feishu", "/feishu/open-apis/bot/v2/hook/k2",
	    "secret_file: feishu.secret\n");
	add(f, 2, "GC-2", "飞书 again");
	pump(f, 5000);
	g = report_of(f, 2, CHAN_R_FAILED);
	assert_non_null(g);
	assert_true(strncmp(g->error, "feishu code 19021: sign match fail",
	    34) == 0);
	assert_int_equal(log_lines(log_path), 0);
}

static void
test_wecom_mentions(void **state)
{
	struct fx *f = *state;
	json_t *a, *l;

	open_fake(f, "wecom", "/wecom/cgi-bin/webhook/send?key=k1",
	    "mention_mobiles: true\n");
	add(f, 1, "13800000002", "企业微信：请转移");
	add(f, 2, "wx-not-a-phone", "never sent");
	pump(f, 5000);
	assert_non_null(report_of(f, 1, CHAN_R_SENT));
	assert_string_equal(report_of(f, 2, CHAN_R_FAILED)->error,
	    "not a phone number");
	a = jsonl(log_path);
	assert_int_equal(json_array_size(a), 1);
	assert_string_equal(jstr(a, 0, "text"), "企业微信：请转移");
	l = json_object_get(json_array_get(a, 0), "to");
	assert_int_equal(json_array_size(l), 1);
	assert_string_equal(json_string_value(json_array_get(l, 0)),
	    "13800000002");
	json_decref(a);
	/* Nothing reached the fake for the bad number. */
	a = jsonl(req_path);
	assert_int_equal(json_array_size(a), 1);
	json_decref(a);
}

static void
test_wecom_bad_key(void **state)
{
	struct fx *f = *state;

	open_fake(f, "wecom", "/wecom/cgi-bin/webhook/send?key=nokey", NULL);
	add(f, 1, "GC-1", "x");
	pump(f, 5000);
	assert_true(strncmp(report_of(f, 1, CHAN_R_FAILED)->error,
	    "wecom errcode 93000: invalid webhook url", 40) == 0);
}

static void
test_telegram(void **state)
{
	struct fx *f = *state;
	const struct got *g;
	json_t *a;

	open_fake(f, "telegram", "", "token: " TOKEN "\n");
	add(f, 77, "123456789", "Telegram: 暴雨红色预警");
	add(f, 78, "-1001234567890", "to a group");
	add(f, 79, "not a chat", "never");
	pump(f, 5000);
	g = report_of(f, 77, CHAN_R_SENT);
	assert_non_null(g);
	assert_true(g->gateway_id[0] != '\0');
	assert_non_null(report_of(f, 78, CHAN_R_SENT));
	assert_string_equal(report_of(f, 79, CHAN_R_FAILED)->error,
	    "not a telegram chat id");
	a = jsonl(log_path);
	assert_int_equal(json_array_size(a), 2);
	assert_int_equal(count_text(a, "Telegram: 暴雨红色预警"), 1);
	if (strcmp(jstr(a, 0, "to"), "123456789") != 0)
		assert_int_equal(json_array_remove(a, 0), 0);
	assert_string_equal(jstr(a, 0, "to"), "123456789");
	assert_string_equal(jstr(a, 0, "callback_data"), "ack:77");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_array_get(json_object_get(json_object_get(json_object_get(
	    json_array_get(a, 0), "body"), "reply_markup"),
	    "inline_keyboard"), 0), 0), "text")), "收到 / Received");
	json_decref(a);
}

static void
test_telegram_bad_token(void **state)
{
	struct fx *f = *state;

	open_fake(f, "telegram", "", "token: \"999:wrong\"\n");
	add(f, 1, "42", "x");
	pump(f, 5000);
	assert_string_equal(report_of(f, 1, CHAN_R_FAILED)->error,
	    "telegram 401: Unauthorized");
}

static void
test_slack_and_json(void **state)
{
	struct fx *f = *state;
	json_t *a;

	open_fake(f, "slack", "/slack/services/T0/B0/{key}", NULL);
	add(f, 1, "k1", "slack text");
	add(f, 2, "nope", "no such hook");
	pump(f, 5000);
	assert_non_null(report_of(f, 1, CHAN_R_SENT));
	assert_string_equal(report_of(f, 2, CHAN_R_FAILED)->error,
	    "HTTP 404: no_service");
	teardown(state);
	setup(state);
	f = *state;
	open_fake(f, "json", "/json/hook", "addr: phone\n");
	add(f, 3, "13800000003", "json text");
	pump(f, 5000);
	assert_non_null(report_of(f, 3, CHAN_R_SENT));
	a = jsonl(log_path);
	assert_int_equal(json_array_size(a), 1);
	assert_string_equal(jstr(a, 0, "to"), "13800000003");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    json_array_get(a, 0), "body"), "delivery_id")), 3);
	json_decref(a);
}

/* ------------------------------------------------------------------ */
/* Too fast, rate, failures                                            */
/* ------------------------------------------------------------------ */

/* The fake answers "too fast" to the next 3 requests: every message is
 * accepted exactly once in the end, after RETRY with the delay. */
static void
too_fast(void **state, const char *flavor, const char *path,
    const char *extra, const char *to, int64_t delay, const char *err)
{
	struct fx *f = *state;
	char text[32];
	json_t *a;
	size_t i, retries = 0;
	int64_t t0 = now_ms();

	open_fake(f, flavor, path, extra);
	control("{\"too_fast\": 3, \"retry_after\": 1}");
	for (i = 0; i < 6; i++) {
		(void)snprintf(text, sizeof(text), "%s %zu", flavor, i);
		add(f, (int64_t)(100 + i), to, text);
	}
	pump(f, 15000);
	for (i = 0; i < f->nrep; i++) {
		assert_int_not_equal(f->rep[i].result, CHAN_R_FAILED);
		if (f->rep[i].result == CHAN_R_RETRY) {
			retries++;
			assert_true(f->rep[i].retry_after_ms > 0);
			assert_true(f->rep[i].retry_after_ms <= delay);
			if (strncmp(f->rep[i].error, "held back: ", 11) != 0)
				assert_true(strncmp(f->rep[i].error, err,
				    strlen(err)) == 0);
		}
	}
	assert_true(retries >= 3);
	a = jsonl(log_path);
	assert_int_equal(json_array_size(a), 6);
	for (i = 0; i < 6; i++) {
		(void)snprintf(text, sizeof(text), "%s %zu", flavor, i);
		assert_int_equal(count_text(a, text), 1);
	}
	json_decref(a);
	/* The delay was honoured: three too-fast answers, one after the
	 * other (each blocks the robot for the delay). */
	assert_true(now_ms() - t0 >= 3 * delay - 50);
}

static void
test_too_fast_dingtalk(void **state)
{
	too_fast(state, "dingtalk", "/dingtalk/robot/send?access_token=k1",
	    "secret: " SECRET "\n", "GC", 200,
	    "dingtalk errcode 130101: send too fast");
}

static void
test_too_fast_wecom(void **state)
{
	too_fast(state, "wecom", "/wecom/cgi-bin/webhook/send?key={key}",
	    NULL, "k2", 200, "wecom errcode 45009: api freq out of limit");
}

static void
test_too_fast_feishu(void **state)
{
	too_fast(state, "feishu", "/feishu/open-apis/bot/v2/hook/k1",
	    "secret: " SECRET "\n", "GC", 200,
	    "feishu code 9499: too many request");
}

static void
test_too_fast_telegram(void **state)
{
	too_fast(state, "telegram", "", "token: " TOKEN "\n", "4242", 1000,
	    "telegram 429: Too Many Requests: retry after 1");
}

/* rate: 5/1s - never more than 5 requests to one robot in any second;
 * the other robot is not held up by the first. */
static void
test_rate_limit(void **state)
{
	struct fx *f = *state;
	char text[32];
	json_t *a;
	double t[16];
	size_t i, n = 0, k1 = 0;
	int64_t t0 = now_ms(), took;

	open_fake(f, "wecom", "/wecom/cgi-bin/webhook/send?key={key}",
	    "rate: 5/1s\n");
	for (i = 0; i < 12; i++) {
		(void)snprintf(text, sizeof(text), "rated %zu", i);
		add(f, (int64_t)(200 + i), i < 11 ? "k1" : "k2", text);
	}
	pump(f, 10000);
	took = now_ms() - t0;
	assert_true(f->etemp > 0);	/* held back, not queued for long */
	a = jsonl(log_path);
	assert_int_equal(json_array_size(a), 12);
	for (i = 0; i < json_array_size(a); i++) {
		if (strcmp(jstr(a, i, "key"), "k1") != 0) {
			/* k2 went out at once. */
			assert_true(k1 < 5);
			continue;
		}
		k1++;
		t[n++] = json_real_value(json_object_get(json_array_get(a, i),
		    "t"));
	}
	assert_int_equal(n, 11);
	/* 11 messages at 5 a second: the 6th a second after the 1st, the
	 * 11th a second after the 6th. */
	for (i = 5; i < n; i++)
		assert_true(t[i] - t[i - 5] >= 0.95);
	assert_true(took >= 1900);
	json_decref(a);
}

static void
test_down_and_refused(void **state)
{
	struct fx *f = *state;
	const struct got *g;

	open_fake(f, "json", "/json/x", NULL);
	control("{\"down\": 1}");
	add(f, 1, "d1", "after 503");
	pump(f, 5000);
	g = report_of(f, 1, CHAN_R_RETRY);
	assert_non_null(g);
	assert_string_equal(g->error, "HTTP 503: down for a while");
	assert_non_null(report_of(f, 1, CHAN_R_SENT));
	teardown(state);
	setup(state);
	f = *state;
	assert_int_equal(open_yaml(f, "name: r\ntype: webhook\nflavor: "
	    "dingtalk\nurl: \"http://127.0.0.1:1/robot/send\"\n"), 0);
	add(f, 2, "GC", "refused");
	f->m[0].state = 0;
	{
		struct chan_msg cm;
		int64_t end = now_ms() + 5000;

		memset(&cm, 0, sizeof(cm));
		cm.delivery_id = 2;
		cm.to = "GC";
		cm.text = "refused";
		assert_int_equal(f->ch.ops->send(&f->ch, &cm, 1), 0);
		f->m[0].state = 1;
		while (f->nrep == 0) {
			assert_true(now_ms() < end);
			(void)f->ch.ops->poll(&f->ch, now_ms());
			(void)usleep(2000);
		}
	}
	assert_int_equal(f->rep[0].result, CHAN_R_RETRY);
	assert_true(f->rep[0].error[0] != '\0');
}

static void
test_expired_and_shutdown(void **state)
{
	struct fx *f = *state;
	struct chan_msg cm;

	open_fake(f, "wecom", "/wecom/cgi-bin/webhook/send?key=k1", NULL);
	memset(&cm, 0, sizeof(cm));
	cm.delivery_id = 1;
	cm.to = "GC";
	cm.text = "expired";
	cm.deadline_ms = now_ms() - 1000;
	assert_int_equal(f->ch.ops->send(&f->ch, &cm, 1), 0);
	(void)f->ch.ops->poll(&f->ch, now_ms());
	assert_int_equal(f->nrep, 1);
	assert_string_equal(f->rep[0].error, "expired before it could be "
	    "sent");
	assert_int_equal(f->rep[0].result, CHAN_R_RETRY);
	/* Queued, never polled: shutdown hands it back. */
	memset(&cm, 0, sizeof(cm));
	cm.delivery_id = 9;
	cm.to = "GC";
	cm.text = "queued";
	assert_int_equal(f->ch.ops->send(&f->ch, &cm, 1), 0);
	f->ch.ops->shutdown(&f->ch);
	assert_int_equal(f->nrep, 2);
	assert_int_equal(f->rep[1].id, 9);
	assert_int_equal(f->rep[1].result, CHAN_R_RETRY);
	assert_string_equal(f->rep[1].error, "shut down");
	f->ch.ops->shutdown(&f->ch);	/* idempotent */
	assert_int_equal(f->nrep, 2);
	assert_int_equal(log_lines(log_path), 0);
}

/* ------------------------------------------------------------------ */
/* Telegram updates                                                    */
/* ------------------------------------------------------------------ */

#define MAX_EV 8
struct evs {
	struct chan_event ev[MAX_EV];
	char from[MAX_EV][32];
	char text[MAX_EV][64];
	size_t n;
	int fail;
};

static int
emit_cb(void *arg, const struct chan_event *ev)
{
	struct evs *e = arg;

	if (e->fail)
		return ENG_EIO;
	assert_true(e->n < MAX_EV);
	e->ev[e->n] = *ev;
	(void)snprintf(e->from[e->n], sizeof(e->from[0]), "%s",
	    ev->from ? ev->from : "");
	(void)snprintf(e->text[e->n], sizeof(e->text[0]), "%s",
	    ev->text ? ev->text : "");
	e->n++;
	return 0;
}

static const char *hdr_secret;

static const char *
hdr_cb(void *ctx, const char *name)
{
	(void)ctx;
	return strcasecmp(name, "X-Telegram-Bot-Api-Secret-Token") == 0 ?
	    hdr_secret : NULL;
}

static const char *
arg_cb(void *ctx, const char *name)
{
	(void)ctx;
	(void)name;
	return NULL;
}

static int
inbound(struct fx *f, const char *secret, const char *rest,
    const char *body, struct evs *e, struct chan_http_resp *resp)
{
	struct chan_http_req r;

	memset(&r, 0, sizeof(r));
	memset(resp, 0, sizeof(*resp));
	hdr_secret = secret;
	r.method = "POST";
	r.rest = rest;
	r.body = body;
	r.body_len = body != NULL ? strlen(body) : 0;
	r.header = hdr_cb;
	r.arg = arg_cb;
	return f->ch.ops->inbound(&f->ch, &r, emit_cb, e, resp);
}

static const char CQ[] =
    "{\"update_id\":1,\"callback_query\":{\"id\":\"4382bfdwdsb323b2d9\","
    "\"from\":{\"id\":111,\"is_bot\":false,\"first_name\":\"段\"},"
    "\"message\":{\"message_id\":5,\"chat\":{\"id\":123456789,"
    "\"type\":\"private\"},\"text\":\"x\"},\"data\":\"ack:77\"}}";

static void
test_telegram_inbound(void **state)
{
	struct fx *f = *state;
	struct chan_http_resp resp;
	struct evs e;
	json_t *a;
	int64_t end;

	open_fake(f, "telegram", "", "token: " TOKEN "\n"
	    "webhook_secret: hook-Secret_1\n");
	memset(&e, 0, sizeof(e));
	assert_int_equal(inbound(f, "hook-Secret_1", "/update", CQ, &e,
	    &resp), 0);
	assert_int_equal(resp.status, 200);
	assert_int_equal(e.n, 1);
	assert_int_equal(e.ev[0].kind, CHAN_EV_REPLY);
	assert_int_equal(e.ev[0].delivery_id, 77);
	assert_string_equal(e.from[0], "123456789");
	assert_string_equal(e.text[0], "收到");

	/* A text message: a reply without a delivery. */
	assert_int_equal(inbound(f, "hook-Secret_1", "/update",
	    "{\"update_id\":2,\"message\":{\"message_id\":6,\"from\":{\"id\":"
	    "111},\"chat\":{\"id\":-100200},\"text\":\"收到了\"}}", &e,
	    &resp), 0);
	assert_int_equal(e.n, 2);
	assert_int_equal(e.ev[1].delivery_id, 0);
	assert_string_equal(e.from[1], "-100200");
	assert_string_equal(e.text[1], "收到了");

	/* The button is answered from poll. */
	end = now_ms() + 5000;
	for (;;) {
		(void)f->ch.ops->poll(&f->ch, now_ms());
		a = jsonl(log_path);
		if (json_array_size(a) == 1)
			break;
		json_decref(a);
		assert_true(now_ms() < end);
		(void)usleep(5000);
	}
	assert_string_equal(jstr(a, 0, "kind"), "answer");
	assert_string_equal(jstr(a, 0, "callback_query_id"),
	    "4382bfdwdsb323b2d9");
	json_decref(a);
	assert_int_equal(f->nrep, 0);	/* answers are not deliveries */

	/* The store is busy: 503, Telegram sends the update again. */
	e.fail = 1;
	assert_int_equal(inbound(f, "hook-Secret_1", "update", CQ, &e, &resp),
	    ENG_EIO);
	assert_int_equal(resp.status, 503);
}

static void
test_telegram_inbound_hostile(void **state)
{
	static const struct {
		const char *secret, *rest, *body;
		int status;
		const char *answer;
	} c[] = {
		{ NULL, "/update", CQ, 403, "bad or missing secret token" },
		{ "hook-Secret_", "/update", CQ, 403, "bad or missing" },
		{ "hook-Secret_12", "/update", CQ, 403, "bad or missing" },
		{ "hook-Secret_1", "/receipt", CQ, 404, "not found" },
		{ "hook-Secret_1", "/update", NULL, 400, "not JSON" },
		{ "hook-Secret_1", "/update", "{\"a\":", 400, "not JSON" },
		{ "hook-Secret_1", "/update", "[1]", 400, "not an update" },
		/* Understood but nothing to do: 200, no event. */
		{ "hook-Secret_1", "/update", "{\"callback_query\":{\"id\":"
		    "\"q\",\"data\":\"ack:x1\",\"from\":{\"id\":1}}}", 200,
		    "OK" },
		{ "hook-Secret_1", "/update", "{\"callback_query\":{\"id\":"
		    "\"q\",\"data\":\"ack:1234567890123456789\"}}", 200,
		    "OK" },
		{ "hook-Secret_1", "/update", "{\"message\":{\"chat\":{\"id\":"
		    "\"str\"},\"text\":\"t\"}}", 200, "OK" },
	};
	struct fx *f = *state;
	struct chan_http_resp resp;
	struct evs e;
	size_t i;

	open_fake(f, "telegram", "", "token: " TOKEN "\n"
	    "webhook_secret: hook-Secret_1\n");
	memset(&e, 0, sizeof(e));
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		assert_int_equal(inbound(f, c[i].secret, c[i].rest, c[i].body,
		    &e, &resp), 0);
		assert_int_equal(resp.status, c[i].status);
		assert_true(strncmp(resp.body, c[i].answer,
		    strlen(c[i].answer)) == 0);
	}
	assert_int_equal(e.n, 0);

	/* Without webhook_secret every update is refused; robots take
	 * none. */
	teardown(state);
	setup(state);
	f = *state;
	open_fake(f, "telegram", "", "token: " TOKEN "\n");
	assert_int_equal(inbound(f, "", "/update", CQ, &e, &resp), 0);
	assert_int_equal(resp.status, 403);
	teardown(state);
	setup(state);
	f = *state;
	open_fake(f, "wecom", "/wecom/cgi-bin/webhook/send?key=k1", NULL);
	assert_int_equal(inbound(f, "x", "/update", CQ, &e, &resp), 0);
	assert_int_equal(resp.status, 404);
	assert_int_equal(e.n, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_config_errors),
		T(test_config_errors_telegram),
		T(test_config_errors_addr),
		T(test_config_defaults),
		T(test_dingtalk_signed),
		T(test_dingtalk_wrong_secret),
		T(test_dingtalk_mentions),
		T(test_feishu),
		T(test_wecom_mentions),
		T(test_wecom_bad_key),
		T(test_telegram),
		T(test_telegram_bad_token),
		T(test_slack_and_json),
		T(test_too_fast_dingtalk),
		T(test_too_fast_wecom),
		T(test_too_fast_feishu),
		T(test_too_fast_telegram),
		T(test_rate_limit),
		T(test_down_and_refused),
		T(test_expired_and_shutdown),
		T(test_telegram_inbound),
		T(test_telegram_inbound_hostile),
#undef T
	};

	return cmocka_run_group_tests_name("chan_webhook", tests,
	    group_setup, group_teardown);
}
