/*
 * tests/unit/test_chan_sms_http.c - the "sms_http" channel driver against
 * the local batch gateway fake (tests/integration/sms_gateway_fake.py,
 * started once for the group on 127.0.0.1 with a free port; its control
 * file switches it to 503, 429, "too fast" or slow answers).
 *
 * What reached the gateway is read back from the fake's JSONL logs.
 * Also: config errors with file:line, the Aliyun profile, hostile
 * receipts, expiry, a full queue, shutdown.  Runs from the repository
 * root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static const char RED_TEXT[] =
    "【平顺县气象台】暴雨红色预警：未来3小时降雨量将达100毫米以上，"
    "请立即转移危险区域群众。";

/* ------------------------------------------------------------------ */
/* The group: the gateway fake                                         */
/* ------------------------------------------------------------------ */

static char dir[64];
static char log_path[128], req_path[128], ctl_path[128];
static char url[96];
static pid_t fake_pid;

static int
group_setup(void **state)
{
	char port[32] = "", cmd[600];
	FILE *f;
	int fds[2];

	(void)state;
	(void)snprintf(dir, sizeof(dir), "/tmp/gong-smshttp.XXXXXX");
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
		    "tests/integration/sms_gateway_fake.py", "--log", log_path,
		    "--requests", req_path, "--control", ctl_path,
		    (char *)NULL);
		_exit(127);
	}
	(void)close(fds[1]);
	if ((f = fdopen(fds[0], "r")) == NULL ||
	    fgets(port, sizeof(port), f) == NULL ||
	    strncmp(port, "PORT ", 5) != 0) {
		(void)snprintf(cmd, sizeof(cmd), "the fake did not start (%s)",
		    port);
		fprintf(stderr, "%s\n", cmd);
		return -1;
	}
	(void)fclose(f);
	port[strcspn(port, "\n")] = '\0';
	(void)snprintf(url, sizeof(url), "http://127.0.0.1:%s/sms/send",
	    port + 5);
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
	if (strncmp(dir, "/tmp/gong-smshttp.", 18) == 0 && system(cmd) != 0)
		fprintf(stderr, "# could not remove %s\n", dir);
	curl_global_cleanup();
	return 0;
}

/* The fake's control file (JSON), or none. */
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
/* Per test: a channel and what it reported                            */
/* ------------------------------------------------------------------ */

#define MAX_REPORTS 2048

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
	g->retry_after_ms = r->retry_after_ms;
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
	f->env.callback_base = "http://127.0.0.1:1/cb/sms-batch";
	f->env.report = on_report;
	f->env.engine = f;
	f->ch.name = "sms-batch";
	f->ch.ops = &chan_sms_http_ops;
	f->ch.env = &f->env;
	f->ch.addr = chan_sms_http_ops.addr;
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

/* Parse yaml (the channel's map, or a sequence whose first item is) and
 * init; returns init's result. */
static int
open_yaml(struct fx *f, const char *yaml)
{
	assert_int_equal(cfg_doc_parse(yaml, strlen(yaml), "sms.yaml",
	    &f->doc, &f->diags), 0);
	f->ch.priv = calloc(1, f->ch.ops->priv_size);
	assert_non_null(f->ch.priv);
	f->open = 1;	/* shutdown must cope with a failed init too */
	return f->ch.ops->init(&f->ch, cfg_doc_root(f->doc), &f->diags);
}

/* A channel on the fake; extra lines appended to the config. */
static void
open_fake(struct fx *f, const char *extra)
{
	char yaml[2048];

	(void)snprintf(yaml, sizeof(yaml),
	    "name: sms-batch\ntype: sms_http\nurl: %s\n"
	    "success_field: code\nsuccess_value: OK\n"
	    "gateway_id_field: msgid\nretry_values: [TOO_FAST]\n"
	    "fail_values: [BAD_NUMBER]\n%s", url, extra != NULL ? extra : "");
	assert_int_equal(open_yaml(f, yaml), 0);
	assert_int_equal(f->diags.nerrors, 0);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Poll until nrep reports arrived (or fail after ms). */
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

static const struct got *
report_of(const struct fx *f, int64_t id)
{
	size_t i;

	for (i = 0; i < f->nrep; i++)
		if (f->rep[i].id == id)
			return &f->rep[i];
	return NULL;
}

static struct chan_msg
msg(int64_t id, const char *to, const char *text)
{
	struct chan_msg m;

	memset(&m, 0, sizeof(m));
	m.delivery_id = id;
	m.to = to;
	m.text = text;
	m.priority = 9;
	return m;
}

/* Send one message per call, as the dispatcher does. */
static void
send1(struct fx *f, int64_t id, const char *to, const char *text)
{
	struct chan_msg m = msg(id, to, text);

	assert_int_equal(f->ch.ops->send(&f->ch, &m, 1), 0);
}

/* Lines of a JSONL file, parsed (an array). */
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
dump_diags(const struct fx *f)
{
	char b[300];
	size_t i;

	for (i = 0; i < f->diags.n; i++)
		fprintf(stderr, "# %s\n", diag_format(&f->diags.v[i], b,
		    sizeof(b)));
}

static void
test_config_errors(void **state)
{
	struct fx *f = *state;
	int ok;

	assert_int_equal(open_yaml(f,
	    "name: x\n"				/* 1 */
	    "type: sms_http\n"			/* 2 */
	    "url: ftp://gw/\n"			/* 3 */
	    "methd: POST\n"			/* 4 */
	    "format: xml\n"			/* 5 */
	    "body: '{\"to\":\"{{number}}\",\"k\":\"{{api_key}}\"}'\n" /* 6 */
	    "numbers_per_request: 1001\n"	/* 7 */
	    "success_field: code\n"		/* 8 */
	    "auth_header: \"X-Key: 1\"\n"	/* 9 */
	    "concurrency: 0\n"			/* 10 */
	    "retry_values: []\n"),		/* 11 */
	    ENG_EINVAL);
	ok = has_diag(f, 3, "url must start with http:// or https://") &&
	    has_diag(f, 4, "methd") &&
	    has_diag(f, 5, "'xml' is not one of: json, form") &&
	    has_diag(f, 6, "unknown placeholder '{{number}}'") &&
	    has_diag(f, 6, "body uses {{api_key}} but no api_key is set") &&
	    has_diag(f, 7, "1001 is out of range (1 to 1000)") &&
	    has_diag(f, 8, "give success_field and success_value together") &&
	    has_diag(f, 9, "auth_header is a header name") &&
	    has_diag(f, 9, "auth_header needs api_key") &&
	    has_diag(f, 10, "0 is out of range (1 to 256)") &&
	    has_diag(f, 11, "retry_values must list 1 to 32 values");
	if (!ok)
		dump_diags(f);
	assert_true(ok);
	assert_int_equal(f->diags.nerrors, 11);
}

static void
test_config_unclosed_and_required(void **state)
{
	struct fx *f = *state;

	assert_int_equal(open_yaml(f, "name: x\ntype: sms_http\n"
	    "body: 'a={{text'\n"), ENG_EINVAL);
	assert_true(has_diag(f, 1, "missing required key 'url'"));
	assert_true(has_diag(f, 3, "body: '{{' at byte 2 is not closed"));
	assert_int_equal(f->diags.nerrors, 2);
}

/* ------------------------------------------------------------------ */
/* Sending                                                             */
/* ------------------------------------------------------------------ */

/* 250 messages handed one per call become requests of 100, 100, 50. */
static void
test_batches_across_calls(void **state)
{
	struct fx *f = *state;
	char to[32];
	json_t *acc, *req;
	size_t i;

	open_fake(f, "concurrency: 2\n");
	for (i = 0; i < 250; i++) {
		(void)snprintf(to, sizeof(to), "1380000%04zu", i);
		send1(f, (int64_t)(1000 + i), to, RED_TEXT);
	}
	poll_reports(f, 250, 10000);
	for (i = 0; i < 250; i++) {
		const struct got *g = report_of(f, (int64_t)(1000 + i));

		assert_non_null(g);
		assert_int_equal(g->result, CHAN_R_SENT);
		assert_int_equal(strncmp(g->gateway_id, "gw-", 3), 0);
	}
	req = jsonl(req_path);
	assert_int_equal(json_array_size(req), 3);
	for (i = 0; i < 3; i++)
		assert_int_equal(json_array_size(json_object_get(
		    json_array_get(req, i), "ids")), i < 2 ? 100 : 50);
	acc = jsonl(log_path);
	assert_int_equal(json_array_size(acc), 250);
	for (i = 0; i < 250; i++) {
		char id[16];

		/* Each number with its own delivery id as client id. */
		(void)snprintf(to, sizeof(to), "1380000%04d",
		    atoi(jstr(acc, i, "id")) - 1000);
		assert_string_equal(jstr(acc, i, "to"), to);
		assert_string_equal(jstr(acc, i, "text"), RED_TEXT);
		(void)snprintf(id, sizeof(id), "%s", jstr(acc, i, "id"));
		assert_true(atoi(id) >= 1000 && atoi(id) < 1250);
	}
	json_decref(acc);
	json_decref(req);
}

/* Different texts are never merged; JSON escaping survives quotes,
 * backslashes and newlines. */
static void
test_texts_kept_apart_and_escaped(void **state)
{
	struct fx *f = *state;
	static const char odd[] = "say \"撤离\"\\ now\nline 2\ttab";
	json_t *acc, *req;
	size_t i;

	open_fake(f, NULL);
	send1(f, 1, "13800000001", "A");
	send1(f, 2, "13800000002", "A");
	send1(f, 3, "13800000003", odd);
	send1(f, 4, "13800000004", "A");
	poll_reports(f, 4, 5000);
	req = jsonl(req_path);
	assert_int_equal(json_array_size(req), 3);
	acc = jsonl(log_path);
	assert_int_equal(json_array_size(acc), 4);
	/* Requests finish in any order: find id 3. */
	for (i = 0; i < 4 && strcmp(jstr(acc, i, "id"), "3") != 0; i++)
		continue;
	assert_true(i < 4);
	assert_string_equal(jstr(acc, i, "text"), odd);
	json_decref(acc);
	json_decref(req);
}

/* Form bodies: the Aliyun profile as shipped (url and key file aside). */
static void
test_aliyun_profile_form(void **state)
{
	struct fx *f = *state;
	char *yaml = NULL, *p, line[1024];
	size_t len = 0;
	FILE *in, *out;
	json_t *acc;

	in = fopen("config/sms-profiles/aliyun.yaml", "r");
	assert_non_null(in);
	out = open_memstream(&yaml, &len);
	assert_non_null(out);
	while (fgets(line, sizeof(line), in) != NULL) {
		if ((p = strstr(line, "url: ")) != NULL)
			(void)snprintf(p, sizeof(line) - (size_t)(p - line),
			    "url: %s\n", url);
		fputs(line, out);
	}
	(void)fclose(in);
	(void)fclose(out);
	(void)snprintf(line, sizeof(line), "%s/aliyun.key", dir);
	out = fopen(line, "w");
	assert_non_null(out);
	fputs("key-123\n", out);
	(void)fclose(out);

	if (cfg_doc_parse(yaml, strlen(yaml), "aliyun.yaml", &f->doc,
	    &f->diags) != 0) {
		dump_diags(f);
		fail();
	}
	free(yaml);
	f->ch.priv = calloc(1, f->ch.ops->priv_size);
	f->open = 1;
	assert_int_equal(f->ch.ops->init(&f->ch, cfg_node_at(cfg_node_get(
	    cfg_doc_root(f->doc), "channels"), 0), &f->diags), 0);
	send1(f, 77, "13900000077", "含\"引号\"的&预警+文本");
	send1(f, 78, "139000078", "x");		/* the fake refuses it */
	poll_reports(f, 2, 5000);
	assert_int_equal(report_of(f, 77)->result, CHAN_R_SENT);
	assert_int_equal(strncmp(report_of(f, 77)->gateway_id, "gw-", 3), 0);
	assert_int_equal(report_of(f, 78)->result, CHAN_R_FAILED);
	assert_non_null(strstr(report_of(f, 78)->error,
	    "isv.MOBILE_NUMBER_ILLEGAL"));
	acc = jsonl(log_path);
	assert_int_equal(json_array_size(acc), 1);
	assert_string_equal(jstr(acc, 0, "text"), "含\"引号\"的&预警+文本");
	assert_string_equal(jstr(acc, 0, "id"), "77");
	json_decref(acc);
}

/* One bad number does not fail its batch: the batch is split. */
static void
test_bad_number_splits_batch(void **state)
{
	struct fx *f = *state;
	json_t *acc, *req;

	open_fake(f, NULL);
	send1(f, 1, "13800000001", "t");
	send1(f, 2, "1380000000", "t");	/* 10 digits: the fake refuses */
	send1(f, 3, "13800000003", "t");
	send1(f, 4, "not-a-number", "t");	/* never sent */
	poll_reports(f, 4, 5000);
	assert_int_equal(report_of(f, 1)->result, CHAN_R_SENT);
	assert_int_equal(report_of(f, 3)->result, CHAN_R_SENT);
	assert_int_equal(report_of(f, 2)->result, CHAN_R_FAILED);
	assert_string_equal(report_of(f, 2)->error,
	    "HTTP 200: {\"code\": \"BAD_NUMBER\", \"msg\": \"bad_number\", "
	    "\"Code\": \"isv.MOBILE_NUMBER_ILLEGAL\", \"Message\": "
	    "\"bad_number\"}");
	assert_int_equal(report_of(f, 4)->result, CHAN_R_FAILED);
	assert_string_equal(report_of(f, 4)->error, "not a phone number");
	req = jsonl(req_path);
	/* [1,2,3] refused, then 1, 2, 3 alone. */
	assert_int_equal(json_array_size(req), 4);
	acc = jsonl(log_path);
	assert_int_equal(json_array_size(acc), 2);
	json_decref(acc);
	json_decref(req);
}

static void
test_503_retry(void **state)
{
	struct fx *f = *state;

	control("{\"down_until\": 9999999999}");
	open_fake(f, NULL);
	send1(f, 5, "13800000005", "t");
	send1(f, 6, "13800000006", "t");
	poll_reports(f, 2, 5000);
	assert_int_equal(report_of(f, 5)->result, CHAN_R_RETRY);
	assert_int_equal(report_of(f, 6)->result, CHAN_R_RETRY);
	assert_int_equal(strncmp(report_of(f, 5)->error, "HTTP 503: ", 10),
	    0);
	assert_int_equal(report_of(f, 5)->retry_after_ms, 0);
}

static void
test_429_retry_after(void **state)
{
	struct fx *f = *state;

	control("{\"busy_until\": 9999999999, \"retry_after\": 7}");
	open_fake(f, NULL);
	send1(f, 5, "13800000005", "t");
	poll_reports(f, 1, 5000);
	assert_int_equal(report_of(f, 5)->result, CHAN_R_RETRY);
	assert_int_equal(report_of(f, 5)->retry_after_ms, 7000);
}

static void
test_too_fast_retry(void **state)
{
	struct fx *f = *state;

	control("{\"too_fast_until\": 9999999999}");
	open_fake(f, NULL);
	send1(f, 5, "13800000005", "t");
	poll_reports(f, 1, 5000);
	assert_int_equal(report_of(f, 5)->result, CHAN_R_RETRY);
	assert_non_null(strstr(report_of(f, 5)->error, "TOO_FAST"));
}

/* A slow gateway beyond timeout, and a closed port: RETRY. */
static void
test_timeout_and_refused(void **state)
{
	struct fx *f = *state;
	struct fx *g;

	control("{\"delay\": 1.5}");
	open_fake(f, "timeout: 300ms\n");
	send1(f, 5, "13800000005", "t");
	poll_reports(f, 1, 5000);
	assert_int_equal(report_of(f, 5)->result, CHAN_R_RETRY);
	assert_non_null(strstr(report_of(f, 5)->error, "imed out"));
	control(NULL);

	assert_int_equal(setup((void **)&g), 0);
	assert_int_equal(open_yaml(g, "name: x\ntype: sms_http\n"
	    "url: http://127.0.0.1:1/\n"), 0);
	send1(g, 9, "13800000009", "t");
	poll_reports(g, 1, 5000);
	assert_int_equal(report_of(g, 9)->result, CHAN_R_RETRY);
	assert_int_equal(teardown((void **)&g), 0);
}

/* Past its deadline a queued message is not sent (RETRY: the engine
 * ends it dead). */
static void
test_expired_not_sent(void **state)
{
	struct fx *f = *state;
	struct chan_msg m = msg(8, "13800000008", "t");
	json_t *req;

	open_fake(f, NULL);
	m.deadline_ms = now_ms() - 1;
	assert_int_equal(f->ch.ops->send(&f->ch, &m, 1), 0);
	poll_reports(f, 1, 5000);
	assert_int_equal(report_of(f, 8)->result, CHAN_R_RETRY);
	assert_string_equal(report_of(f, 8)->error,
	    "expired before it could be sent");
	req = jsonl(req_path);
	assert_int_equal(json_array_size(req), 0);
	json_decref(req);
}

/* The queue is bounded (8 x concurrency x numbers_per_request: ETEMP
 * beyond); shutdown reports what it held. */
static void
test_queue_full_and_shutdown(void **state)
{
	struct fx *f = *state;
	struct chan_msg m;
	struct chan_health h;
	char to[32];
	int64_t i;

	open_fake(f, "concurrency: 1\nnumbers_per_request: 10\n");
	for (i = 0; i < 80; i++) {
		(void)snprintf(to, sizeof(to), "1380000%04d", (int)i);
		send1(f, i + 1, to, "t");
	}
	m = msg(999, "13800000999", "t");
	assert_int_equal(f->ch.ops->send(&f->ch, &m, 1), ENG_ETEMP);
	f->ch.ops->health(&f->ch, &h);
	assert_int_equal(h.queued, 80);
	assert_int_equal(h.up, 1);
	f->ch.ops->shutdown(&f->ch);
	f->ch.ops->shutdown(&f->ch);	/* idempotent */
	f->open = 0;
	assert_int_equal(f->nrep, 80);
	for (i = 0; i < 80; i++) {
		assert_int_equal(f->rep[i].result, CHAN_R_RETRY);
		assert_string_equal(f->rep[i].error, "shut down");
	}
}

/* ------------------------------------------------------------------ */
/* Receipts                                                            */
/* ------------------------------------------------------------------ */

#define MAX_EV 16
struct evs {
	struct chan_event ev[MAX_EV];
	char err[MAX_EV][64];
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
	(void)snprintf(e->err[e->n], sizeof(e->err[0]), "%s",
	    ev->error ? ev->error : "");
	e->ev[e->n].error = NULL;
	e->n++;
	return 0;
}

static int
inbound(struct fx *f, const char *method, const char *rest,
    const char *body, struct evs *e, struct chan_http_resp *resp)
{
	struct chan_http_req r;

	memset(&r, 0, sizeof(r));
	memset(resp, 0, sizeof(*resp));
	r.method = method;
	r.rest = rest;
	r.body = body;
	r.body_len = body != NULL ? strlen(body) : 0;
	return f->ch.ops->inbound(&f->ch, &r, emit_cb, e, resp);
}

static void
test_receipts(void **state)
{
	struct fx *f = *state;
	struct chan_http_resp resp;
	struct evs e;

	open_fake(f, "receipt_error_field: err\n");
	memset(&e, 0, sizeof(e));
	assert_int_equal(inbound(f, "POST", "/receipt",
	    "[{\"id\":\"41\",\"status\":\"DELIVERED\"},"
	    "{\"id\":42,\"status\":\"UNDELIV\",\"err\":\"MK:0001\"},"
	    "{\"id\":\"43,44\",\"status\":\"DELIVERED\"}]", &e, &resp), 0);
	assert_int_equal(resp.status, 200);
	assert_int_equal(e.n, 2);
	assert_int_equal(e.ev[0].kind, CHAN_EV_RECEIPT);
	assert_int_equal(e.ev[0].delivery_id, 41);
	assert_int_equal(e.ev[0].result, CHAN_R_DELIVERED);
	assert_int_equal(e.ev[1].delivery_id, 42);
	assert_int_equal(e.ev[1].result, CHAN_R_FAILED);
	assert_string_equal(e.err[1], "MK:0001");

	/* A single object works too. */
	memset(&e, 0, sizeof(e));
	assert_int_equal(inbound(f, "POST", "receipt",
	    "{\"id\":\"7\",\"status\":\"DELIVRD\"}", &e, &resp), 0);
	assert_int_equal(resp.status, 200);
	assert_int_equal(e.n, 1);
	assert_int_equal(e.ev[0].result, CHAN_R_DELIVERED);

	/* The store is busy: 503, so that the gateway tries again. */
	memset(&e, 0, sizeof(e));
	e.fail = 1;
	assert_int_equal(inbound(f, "POST", "/receipt",
	    "{\"id\":\"7\",\"status\":\"DELIVRD\"}", &e, &resp), ENG_EIO);
	assert_int_equal(resp.status, 503);
}

static void
test_receipts_hostile(void **state)
{
	static const struct {
		const char *method, *rest, *body;
		int status;
		const char *answer;
	} c[] = {
		{ "POST", "/dlr", "{}", 404, "not found" },
		{ "GET", "/receipt", NULL, 405, "use POST" },
		{ "POST", "/receipt", NULL, 400, "no body" },
		{ "POST", "/receipt", "{\"id\":", 400, "not JSON: " },
		{ "POST", "/receipt", "[]", 400, "1 to 1000 receipts" },
		{ "POST", "/receipt", "[1]", 400,
		    "receipt 0 is not an object" },
		{ "POST", "/receipt", "{\"status\":\"DELIVERED\"}", 400,
		    "receipt 0 has no id or status" },
		{ "POST", "/receipt", "[{\"id\":\"1\",\"status\":\"x\"},"
		    "{\"id\":\"-3\",\"status\":\"x\"}]", 400,
		    "receipt 1: bad id" },
		{ "POST", "/receipt", "{\"id\":\"1234567890123456789\","
		    "\"status\":\"x\"}", 400, "receipt 0: bad id" },
		{ "POST", "/receipt", "{\"id\":{\"a\":1},\"status\":\"x\"}",
		    400, "receipt 0 has no id or status" },
		{ "POST", "/receipt", "{\"id\":\"1\",\"id\":\"2\","
		    "\"status\":\"x\"}", 400, "not JSON: " },
	};
	struct fx *f = *state;
	struct chan_http_resp resp;
	struct evs e;
	size_t i;
	char *big;

	open_fake(f, NULL);
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		memset(&e, 0, sizeof(e));
		assert_int_equal(inbound(f, c[i].method, c[i].rest, c[i].body,
		    &e, &resp), 0);
		if (resp.status != c[i].status ||
		    strncmp(resp.body, c[i].answer, strlen(c[i].answer)) != 0)
			fail_msg("case %zu: %d %s", i, resp.status, resp.body);
		/* Nothing applied from a refused callback. */
		assert_int_equal(e.n, 0);
	}
	/* 1001 receipts. */
	{
		size_t blen = 0;
		FILE *ms = open_memstream(&big, &blen);

		assert_non_null(ms);
		for (i = 0; i < 1001; i++)
			fprintf(ms, "%c{\"id\":1,\"status\":\"x\"}",
			    i ? ',' : '[');
		fputc(']', ms);
		assert_int_equal(fclose(ms), 0);
	}
	memset(&e, 0, sizeof(e));
	assert_int_equal(inbound(f, "POST", "/receipt", big, &e, &resp), 0);
	assert_int_equal(resp.status, 400);
	assert_int_equal(e.n, 0);
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_config_errors, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_config_unclosed_and_required, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batches_across_calls,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_texts_kept_apart_and_escaped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_aliyun_profile_form,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_number_splits_batch,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_503_retry, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_429_retry_after, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_too_fast_retry, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_timeout_and_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_expired_not_sent, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_queue_full_and_shutdown,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_receipts, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_receipts_hostile, setup,
		    teardown),
	};

	return cmocka_run_group_tests_name("chan_sms_http", tests,
	    group_setup, group_teardown);
}
