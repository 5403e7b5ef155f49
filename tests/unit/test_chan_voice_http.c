/*
 * tests/unit/test_chan_voice_http.c - the "voice-http" channel driver
 * against the local Tencent Cloud VMS fake
 * (tests/integration/voice_gateway_fake.py, started once for the group on
 * 127.0.0.1 with a free port; it checks the TC3-HMAC-SHA256 signature and
 * the SendTtsVoice fields as VMS does, and its control endpoint makes it
 * answer with errors, throttling or HTTP statuses).
 *
 * What reached the gateway is read back from the fake's JSONL logs.  The
 * callbacks are the fake's own (/_fake/press, /status, /failure aimed at
 * its sink): the body it sent is handed to the driver's inbound.  Also:
 * config errors with file:line, hostile and oversize callbacks, a full
 * queue, shutdown.  Runs from the repository root.
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
#include "engine/strbuf.h"

static const char SCRIPT[] =
    "郑庆海您好。平顺县气象台七月十五日十一时三十分发布暴雨红色预警。"
    "后店村降水量已达一百毫米以上。立即转移。确认收到请按1。";

/* ------------------------------------------------------------------ */
/* The group: the VMS fake                                             */
/* ------------------------------------------------------------------ */

static char dir[64];
static char log_path[128], req_path[128], ctl_path[128];
static char base[64], url[96], sink[96];
static pid_t fake_pid;

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
group_setup(void **state)
{
	char port[32] = "", p1[128], p2[128];
	FILE *f;
	int fds[2];

	(void)state;
	(void)snprintf(dir, sizeof(dir), "/tmp/gong-voice.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	(void)snprintf(log_path, sizeof(log_path), "%s/calls.jsonl", dir);
	(void)snprintf(req_path, sizeof(req_path), "%s/requests.jsonl", dir);
	(void)snprintf(ctl_path, sizeof(ctl_path), "%s/control.json", dir);
	(void)snprintf(p1, sizeof(p1), "%s/vms.id", dir);
	(void)snprintf(p2, sizeof(p2), "%s/vms.key", dir);
	if (write_file(p1, "AKIDgongtest\n") != 0 ||
	    write_file(p2, "gong-test-secret-key\n") != 0)
		return -1;
	if (pipe(fds) != 0)
		return -1;
	if ((fake_pid = fork()) < 0)
		return -1;
	if (fake_pid == 0) {
		(void)dup2(fds[1], 1);
		(void)close(fds[0]);
		(void)close(fds[1]);
		execlp("python3", "python3",
		    "tests/integration/voice_gateway_fake.py", "--log",
		    log_path, "--requests", req_path, "--control", ctl_path,
		    "--secret-id", "AKIDgongtest", "--secret-key-file", p2,
		    "--app-id", "1400006666", "--template-id", "4356",
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
	(void)snprintf(base, sizeof(base), "http://127.0.0.1:%s", port + 5);
	(void)snprintf(url, sizeof(url), "%s/", base);
	(void)snprintf(sink, sizeof(sink), "%s/_fake/sink", base);
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
	if (strncmp(dir, "/tmp/gong-voice.", 16) == 0 && system(cmd) != 0)
		fprintf(stderr, "# could not remove %s\n", dir);
	curl_global_cleanup();
	return 0;
}

static size_t
collect(char *data, size_t size, size_t nmemb, void *arg)
{
	strbuf_add(arg, data, size * nmemb);
	return size * nmemb;
}

/* POST json to the fake's path; its answer, parsed. */
static json_t *
fake_post(const char *path, const char *json)
{
	struct strbuf b = STRBUF_INIT;
	struct curl_slist *h;
	char u[160];
	CURL *e;
	json_t *j;

	(void)snprintf(u, sizeof(u), "%s%s", base, path);
	e = curl_easy_init();
	assert_non_null(e);
	h = curl_slist_append(NULL, "Content-Type: application/json");
	(void)curl_easy_setopt(e, CURLOPT_URL, u);
	(void)curl_easy_setopt(e, CURLOPT_POSTFIELDS, json);
	(void)curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	(void)curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, collect);
	(void)curl_easy_setopt(e, CURLOPT_WRITEDATA, &b);
	(void)curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	assert_int_equal(curl_easy_perform(e), CURLE_OK);
	curl_easy_cleanup(e);
	curl_slist_free_all(h);
	assert_non_null(b.p);
	j = json_loads(b.p, 0, NULL);
	strbuf_release(&b);
	assert_non_null(j);
	return j;
}

/* The fake's control (JSON; "{}" for normal). */
static void
control(const char *json)
{
	json_decref(fake_post("/_fake/control", json));
}

/* ------------------------------------------------------------------ */
/* Per test: a channel and what it reported                            */
/* ------------------------------------------------------------------ */

#define MAX_REPORTS 64

struct got {
	int64_t id;
	enum chan_result result;
	int64_t retry_after_ms;
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
	f->env.callback_base = "http://127.0.0.1:1/cb/s3cret/voice";
	f->env.report = on_report;
	f->env.engine = f;
	f->ch.name = "voice";
	f->ch.ops = &chan_voice_http_ops;
	f->ch.env = &f->env;
	f->ch.addr = chan_voice_http_ops.addr;
	control("{}");
	(void)unlink(ctl_path);
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
	control("{}");
	return 0;
}

static int
open_yaml(struct fx *f, const char *yaml)
{
	assert_int_equal(cfg_doc_parse(yaml, strlen(yaml), "voice.yaml",
	    &f->doc, &f->diags), 0);
	f->ch.priv = calloc(1, f->ch.ops->priv_size);
	assert_non_null(f->ch.priv);
	f->open = 1;	/* shutdown must cope with a failed init too */
	return f->ch.ops->init(&f->ch, cfg_doc_root(f->doc), &f->diags);
}

/* A channel on the fake at u (NULL: the fake), key file, extra lines. */
static void
open_fake_at(struct fx *f, const char *u, const char *keyfile,
    const char *extra)
{
	char yaml[2048];

	(void)snprintf(yaml, sizeof(yaml),
	    "name: voice\ntype: voice-http\nurl: %s\n"
	    "secret_id_file: vms.id\nsecret_key_file: %s\n"
	    "app_id: \"1400006666\"\ntemplate_id: \"4356\"\n%s",
	    u != NULL ? u : url, keyfile, extra != NULL ? extra : "");
	assert_int_equal(open_yaml(f, yaml), 0);
	assert_int_equal(f->diags.nerrors, 0);
}

static void
open_fake(struct fx *f, const char *extra)
{
	open_fake_at(f, NULL, "vms.key", extra);
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
send1(struct fx *f, int64_t id, const char *to, const char *text)
{
	struct chan_msg m;

	memset(&m, 0, sizeof(m));
	m.delivery_id = id;
	m.to = to;
	m.text = text;
	m.priority = 9;
	assert_int_equal(f->ch.ops->send(&f->ch, &m, 1), 0);
}

/* One call, sent and reported; its report. */
static const struct got *
call(struct fx *f, int64_t id, const char *to, const char *text)
{
	size_t n = f->nrep;

	send1(f, id, to, text);
	poll_reports(f, n + 1, 10000);
	return &f->rep[n];
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
	    "type: voice-http\n"		/* 2 */
	    "url: http://vms/?a=1\n"		/* 3 */
	    "secret_id: AKID\n"			/* 4 */
	    "secret_key: k\n"			/* 5 */
	    "secret_key_file: vms.key\n"	/* 6 */
	    "app_id: 14000x\n"			/* 7 */
	    "template_id: \"\"\n"		/* 8 */
	    "play_times: 4\n"			/* 9 */
	    "concurrency: 65\n"			/* 10 */
	    "timeout: 10ms\n"			/* 11 */
	    "speed: fast\n"),			/* 12 */
	    ENG_EINVAL);
	ok = has_diag(f, 3, "url must not have a query") &&
	    has_diag(f, 6, "give secret_key or secret_key_file, not both") &&
	    has_diag(f, 7, "app_id must be digits") &&
	    has_diag(f, 8, "template_id must be 1 to 20 bytes") &&
	    has_diag(f, 9, "4 is out of range (1 to 3)") &&
	    has_diag(f, 10, "65 is out of range (1 to 64)") &&
	    has_diag(f, 11, "duration '10ms' is out of range "
	    "(100 ms to 300000 ms)") &&
	    has_diag(f, 12, "unknown key 'speed'");
	if (!ok)
		dump_diags(f);
	assert_true(ok);
	assert_int_equal(f->diags.nerrors, 8);
}

static void
test_config_required(void **state)
{
	struct fx *f = *state;
	int ok;

	assert_int_equal(open_yaml(f, "name: x\ntype: voice-http\n"
	    "secret_key_file: no-such.key\n"), ENG_EINVAL);
	ok = has_diag(f, 1, "missing required key 'url'") &&
	    has_diag(f, 1, "missing required key 'app_id'") &&
	    has_diag(f, 1, "missing required key 'template_id'") &&
	    has_diag(f, 1, "secret_id or secret_id_file is required") &&
	    has_diag(f, 3, "no-such.key");
	if (!ok)
		dump_diags(f);
	assert_true(ok);
	assert_int_equal(f->diags.nerrors, 5);
}

/* ------------------------------------------------------------------ */
/* Calls                                                               */
/* ------------------------------------------------------------------ */

/* The request is signed right (the fake checks) and carries the fields. */
static void
test_call_request(void **state)
{
	struct fx *f = *state;
	const struct got *g;
	json_t *calls, *req, *ps;

	open_fake(f, "play_times: 3\n");
	g = call(f, 501, "13800138000", SCRIPT);
	assert_int_equal(g->id, 501);
	if (g->result != CHAN_R_SENT)
		fprintf(stderr, "# %s\n", g->error);
	assert_int_equal(g->result, CHAN_R_SENT);
	calls = jsonl(log_path);
	assert_int_equal(json_array_size(calls), 1);
	assert_string_equal(jstr(calls, 0, "callid"), g->gateway_id);
	assert_string_equal(jstr(calls, 0, "called"), "+8613800138000");
	assert_string_equal(jstr(calls, 0, "to"), "13800138000");
	assert_string_equal(jstr(calls, 0, "text"), SCRIPT);
	assert_string_equal(jstr(calls, 0, "session"), "501");
	assert_string_equal(jstr(calls, 0, "template"), "4356");
	assert_string_equal(jstr(calls, 0, "app"), "1400006666");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(
	    calls, 0), "play_times")), 3);
	/* The script is the template's one parameter. */
	ps = json_object_get(json_array_get(calls, 0), "params");
	assert_int_equal(json_array_size(ps), 1);
	req = jsonl(req_path);
	assert_int_equal(json_array_size(req), 1);
	assert_string_equal(jstr(req, 0, "code"), "OK");
	json_decref(calls);
	json_decref(req);

	/* +86 and spaces in the address: the same number. */
	g = call(f, 502, "+86 138-0013-8001", "测试");
	assert_int_equal(g->result, CHAN_R_SENT);
	calls = jsonl(log_path);
	assert_string_equal(jstr(calls, 1, "called"), "+8613800138001");
	json_decref(calls);
}

/* A wrong key or id: the fake refuses the signature, for good. */
static void
test_bad_credentials(void **state)
{
	struct fx *f = *state;
	const struct got *g;
	char p[128];

	(void)snprintf(p, sizeof(p), "%s/wrong.key", dir);
	assert_int_equal(write_file(p, "not-the-key\n"), 0);
	open_fake_at(f, NULL, "wrong.key", NULL);
	g = call(f, 511, "13800138000", SCRIPT);
	assert_int_equal(g->result, CHAN_R_FAILED);
	assert_string_equal(g->error, "AuthFailure.SignatureFailure: The "
	    "provided credentials could not be validated.");
	assert_int_equal(strlen(g->gateway_id), 0);
}

static void
test_bad_secret_id(void **state)
{
	struct fx *f = *state;
	const struct got *g;
	char yaml[600];

	(void)snprintf(yaml, sizeof(yaml), "name: voice\ntype: voice-http\n"
	    "url: %s\nsecret_id: AKIDother\nsecret_key_file: vms.key\n"
	    "app_id: \"1400006666\"\ntemplate_id: \"4356\"\n", url);
	assert_int_equal(open_yaml(f, yaml), 0);
	g = call(f, 512, "13800138000", SCRIPT);
	assert_int_equal(g->result, CHAN_R_FAILED);
	assert_string_equal(g->error, "AuthFailure.SecretIdNotFound: The "
	    "SecretId is not found.");
}

/* The request is signed at poll's now_ms: ten minutes ahead of the
 * fake's clock is a stale signature to VMS, tried again later. */
static void
test_clock_skew(void **state)
{
	struct fx *f = *state;
	int64_t end = now_ms() + 10000, w;

	open_fake(f, NULL);
	send1(f, 521, "13800138000", SCRIPT);
	while (f->nrep < 1) {
		assert_true(now_ms() < end);
		w = f->ch.ops->poll(&f->ch, now_ms() + 600000);
		(void)usleep((useconds_t)(w > 5 ? 5 : w) * 1000);
	}
	assert_int_equal(f->rep[0].result, CHAN_R_RETRY);
	assert_string_equal(f->rep[0].error, "AuthFailure.SignatureExpire: "
	    "Signature expired.");
}

/* The gateway's error codes, HTTP statuses and local refusals. */
static void
test_error_classes(void **state)
{
	static const struct {
		const char *control;
		enum chan_result result;
		int64_t retry_after_ms;
		const char *error;
	} c[] = {
		{ "{\"error\":\"LimitExceeded.DeliveryFrequencyLimit\"}",
		  CHAN_R_RETRY, 0, "LimitExceeded.DeliveryFrequencyLimit: "
		  "下发语音消息时命中频率限制策略" },
		{ "{\"error\":\"RequestLimitExceeded\"}", CHAN_R_RETRY, 0,
		  "RequestLimitExceeded: 请求的次数超过了频率限制" },
		{ "{\"error\":\"InternalError.AccessUpstreamTimeout\"}",
		  CHAN_R_RETRY, 0, "InternalError.AccessUpstreamTimeout: "
		  "访问上游超时网络" },
		{ "{\"error\":\"AuthFailure.SignatureExpire\"}", CHAN_R_RETRY,
		  0, "AuthFailure.SignatureExpire: Signature expired." },
		{ "{\"error\":\"FailedOperation.SomethingNew\"}",
		  CHAN_R_RETRY, 0, "FailedOperation.SomethingNew: "
		  "FailedOperation.SomethingNew" },
		{ "{\"error\":\"FailedOperation."
		  "TemplateIncorrectOrUnapproved\"}", CHAN_R_FAILED, 0,
		  "FailedOperation.TemplateIncorrectOrUnapproved: "
		  "模版未审核或请求的内容与审核通过的模版内容不匹配" },
		{ "{\"error_numbers\":{\"13800138000\":"
		  "\"InvalidParameterValue.CalledNumberVerifyFail\"}}",
		  CHAN_R_FAILED, 0, "InvalidParameterValue."
		  "CalledNumberVerifyFail: 被叫手机号码格式校验失败" },
		{ "{\"status\":429,\"retry_after\":7}", CHAN_R_RETRY, 7000,
		  "HTTP 429: {\"error\": \"status 429\"}" },
		{ "{\"status\":503}", CHAN_R_RETRY, 0,
		  "HTTP 503: {\"error\": \"status 503\"}" },
		{ "{\"status\":403}", CHAN_R_FAILED, 0,
		  "HTTP 403: {\"error\": \"status 403\"}" },
	};
	struct fx *f = *state;
	const struct got *g;
	size_t i;

	open_fake(f, NULL);
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		control(c[i].control);
		g = call(f, (int64_t)(600 + i), "13800138000", SCRIPT);
		assert_int_equal(g->id, (int64_t)(600 + i));
		if (g->result != c[i].result ||
		    strcmp(g->error, c[i].error) != 0)
			fprintf(stderr, "# case %zu: %d %s\n", i, g->result,
			    g->error);
		assert_int_equal(g->result, c[i].result);
		assert_int_equal(g->retry_after_ms, c[i].retry_after_ms);
		assert_string_equal(g->error, c[i].error);
	}
	control("{}");
	g = call(f, 699, "13800138000", SCRIPT);
	assert_int_equal(g->result, CHAN_R_SENT);
}

/* Refused before any request: not a mainland mobile, a script too long
 * for VMS, no script. */
static void
test_refused_locally(void **state)
{
	struct fx *f = *state;
	char longer[1200] = "";
	const struct got *g;
	json_t *req;
	size_t i;

	for (i = 0; i < 351; i++)
		memcpy(longer + 3 * i, "雨", 3);	/* 3 bytes each */
	longer[351 * 3] = '\0';
	open_fake(f, NULL);
	g = call(f, 701, "+14155550100", SCRIPT);
	assert_int_equal(g->result, CHAN_R_FAILED);
	assert_string_equal(g->error, "not a mainland China mobile number "
	    "(VMS calls those only)");
	g = call(f, 702, "13800138000", longer);
	assert_int_equal(g->result, CHAN_R_FAILED);
	assert_string_equal(g->error, "the voice script is longer than the "
	    "350 characters VMS plays");
	g = call(f, 703, "13800138000", "");
	assert_int_equal(g->result, CHAN_R_FAILED);
	assert_string_equal(g->error, "empty voice script");
	longer[350 * 3] = '\0';		/* exactly 350: goes */
	g = call(f, 704, "13800138000", longer);
	assert_int_equal(g->result, CHAN_R_SENT);
	req = jsonl(req_path);
	assert_int_equal(json_array_size(req), 1);
	json_decref(req);
}

static void
test_refused_connection(void **state)
{
	struct fx *f = *state;
	const struct got *g;
	struct chan_health h;

	open_fake_at(f, "http://127.0.0.1:1/", "vms.key", NULL);
	g = call(f, 711, "13800138000", SCRIPT);
	assert_int_equal(g->result, CHAN_R_RETRY);
	assert_non_null(strstr(g->error, "127.0.0.1"));
	f->ch.ops->health(&f->ch, &h);
	assert_int_equal(h.up, 0);
	assert_int_equal(h.queued, 0);
	assert_int_equal(h.in_flight, 0);
}

static void
test_queue_full_and_shutdown(void **state)
{
	struct fx *f = *state;
	struct chan_msg m;
	size_t i;

	open_fake(f, "concurrency: 2\n");
	for (i = 0; i < 16; i++)
		send1(f, (int64_t)(800 + i), "13800138000", SCRIPT);
	memset(&m, 0, sizeof(m));
	m.delivery_id = 899;
	m.to = "13800138000";
	m.text = SCRIPT;
	assert_int_equal(f->ch.ops->send(&f->ch, &m, 1), ENG_ETEMP);
	assert_int_equal(f->nrep, 0);	/* rule 3: never from send */
	f->ch.ops->shutdown(&f->ch);
	f->ch.ops->shutdown(&f->ch);	/* idempotent */
	f->open = 0;
	assert_int_equal(f->nrep, 16);
	for (i = 0; i < 16; i++) {
		assert_int_equal(f->rep[i].result, CHAN_R_RETRY);
		assert_string_equal(f->rep[i].error, "shut down");
	}
}

/* ------------------------------------------------------------------ */
/* Callbacks                                                           */
/* ------------------------------------------------------------------ */

#define MAX_EV 8
struct evs {
	struct {
		enum chan_event_kind kind;
		int64_t delivery_id;
		enum chan_result result;
		char gateway_id[80], error[200], from[32], text[16];
	} ev[MAX_EV];
	size_t n;
	int fail;
};

static void
cp(char *out, size_t size, const char *s)
{
	(void)snprintf(out, size, "%s", s != NULL ? s : "");
}

static int
emit_cb(void *arg, const struct chan_event *ev)
{
	struct evs *e = arg;

	if (e->fail)
		return ENG_EIO;
	assert_true(e->n < MAX_EV);
	e->ev[e->n].kind = ev->kind;
	e->ev[e->n].delivery_id = ev->delivery_id;
	e->ev[e->n].result = ev->result;
	cp(e->ev[e->n].gateway_id, sizeof(e->ev[0].gateway_id),
	    ev->gateway_id);
	cp(e->ev[e->n].error, sizeof(e->ev[0].error), ev->error);
	cp(e->ev[e->n].from, sizeof(e->ev[0].from), ev->from);
	cp(e->ev[e->n].text, sizeof(e->ev[0].text), ev->text);
	e->n++;
	return 0;
}

static int
inbound_n(struct fx *f, const char *method, const char *rest,
    const char *body, size_t len, struct evs *e, struct chan_http_resp *resp)
{
	struct chan_http_req r;

	memset(&r, 0, sizeof(r));
	memset(resp, 0, sizeof(*resp));
	memset(e, 0, sizeof(*e));
	r.method = method;
	r.rest = rest;
	r.body = body;
	r.body_len = len;
	return f->ch.ops->inbound(&f->ch, &r, emit_cb, e, resp);
}

static int
inbound(struct fx *f, const char *method, const char *rest,
    const char *body, struct evs *e, struct chan_http_resp *resp)
{
	return inbound_n(f, method, rest, body, body != NULL ?
	    strlen(body) : 0, e, resp);
}

/* Ask the fake to call back (path, JSON args with the sink added); the
 * body it sent, handed to inbound. */
static int
fake_callback(struct fx *f, const char *path, const char *args,
    struct evs *e, struct chan_http_resp *resp)
{
	char a[400], *body;
	json_t *j;
	int rv;

	(void)snprintf(a, sizeof(a), "{%s,\"callback\":\"%s\"}", args, sink);
	j = fake_post(path, a);
	assert_int_equal(json_integer_value(json_object_get(j, "status")),
	    200);
	body = json_dumps(json_object_get(j, "sent"), JSON_COMPACT);
	assert_non_null(body);
	rv = inbound(f, "POST", "/callback", body, e, resp);
	free(body);
	json_decref(j);
	return rv;
}

static void
test_callbacks(void **state)
{
	struct fx *f = *state;
	struct chan_http_resp resp;
	struct evs e;
	const struct got *g;
	char callid[80];

	open_fake(f, NULL);
	g = call(f, 901, "13800138000", SCRIPT);
	assert_int_equal(g->result, CHAN_R_SENT);
	(void)snprintf(callid, sizeof(callid), "%s", g->gateway_id);

	/* Key 1: the person's answer, for that delivery. */
	assert_int_equal(fake_callback(f, "/_fake/press",
	    "\"to\":\"13800138000\",\"key\":\"1\"", &e, &resp), 0);
	assert_int_equal(resp.status, 200);
	assert_string_equal(resp.content_type, "application/json");
	assert_string_equal(resp.body, "{\"result\":0,\"errmsg\":\"OK\"}");
	assert_int_equal(e.n, 1);
	assert_int_equal(e.ev[0].kind, CHAN_EV_REPLY);
	assert_int_equal(e.ev[0].delivery_id, 901);
	assert_string_equal(e.ev[0].gateway_id, callid);
	assert_string_equal(e.ev[0].from, "13800138000");
	assert_string_equal(e.ev[0].text, "1");

	/* Key 2: acknowledged, nothing else. */
	assert_int_equal(fake_callback(f, "/_fake/press",
	    "\"to\":\"13800138000\",\"key\":\"2\"", &e, &resp), 0);
	assert_int_equal(resp.status, 200);
	assert_int_equal(e.n, 0);

	/* Answered: delivered. */
	assert_int_equal(fake_callback(f, "/_fake/status",
	    "\"to\":\"13800138000\",\"result\":\"0\"", &e, &resp), 0);
	assert_int_equal(resp.status, 200);
	assert_int_equal(e.n, 1);
	assert_int_equal(e.ev[0].kind, CHAN_EV_RECEIPT);
	assert_int_equal(e.ev[0].delivery_id, 901);
	assert_int_equal(e.ev[0].result, CHAN_R_DELIVERED);
	assert_string_equal(e.ev[0].gateway_id, callid);

	/* Not answered, failed, the failure reason: failed, with why. */
	assert_int_equal(fake_callback(f, "/_fake/status",
	    "\"to\":\"13800138000\",\"result\":\"1\"", &e, &resp), 0);
	assert_int_equal(e.n, 1);
	assert_int_equal(e.ev[0].result, CHAN_R_FAILED);
	assert_string_equal(e.ev[0].error, "not answered (未接听)");
	assert_int_equal(fake_callback(f, "/_fake/status",
	    "\"to\":\"13800138000\",\"result\":\"2\"", &e, &resp), 0);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.ev[0].error, "call failed (呼叫异常)");
	assert_int_equal(fake_callback(f, "/_fake/failure",
	    "\"to\":\"13800138000\",\"failure_code\":8,"
	    "\"failure_reason\":\"空号\"", &e, &resp), 0);
	assert_int_equal(e.n, 1);
	assert_int_equal(e.ev[0].kind, CHAN_EV_RECEIPT);
	assert_int_equal(e.ev[0].delivery_id, 901);
	assert_int_equal(e.ev[0].result, CHAN_R_FAILED);
	assert_string_equal(e.ev[0].error, "failure_code 8: 空号");

	/* A call this driver did not place (gongd restarted since): the
	 * CallId alone, delivery 0; any path VMS may be given works. */
	assert_int_equal(inbound(f, "POST", "", "{\"voicekey_callback\":"
	    "{\"call_from\":\"\",\"callid\":\"c0ffee-1\",\"keypress\":\"1\","
	    "\"mobile\":\"13900139000\",\"nationcode\":\"86\"}}", &e, &resp),
	    0);
	assert_int_equal(resp.status, 200);
	assert_int_equal(e.n, 1);
	assert_int_equal(e.ev[0].kind, CHAN_EV_REPLY);
	assert_int_equal(e.ev[0].delivery_id, 0);
	assert_string_equal(e.ev[0].gateway_id, "c0ffee-1");
	assert_string_equal(e.ev[0].from, "13900139000");

	/* The store is busy: 503, so that VMS calls back again. */
	memset(&e, 0, sizeof(e));
	assert_int_equal(inbound(f, "POST", "/", "{\"voiceprompt_callback\":"
	    "{\"result\":\"0\",\"callid\":\"x\",\"mobile\":\"13900139000\"}}",
	    &e, &resp), 0);
	assert_int_equal(e.n, 1);
	{
		struct chan_http_req r;

		memset(&r, 0, sizeof(r));
		memset(&e, 0, sizeof(e));
		e.fail = 1;
		r.method = "POST";
		r.rest = "/callback";
		r.body = "{\"voiceprompt_callback\":{\"result\":\"0\","
		    "\"callid\":\"x\",\"mobile\":\"13900139000\"}}";
		r.body_len = strlen(r.body);
		assert_int_equal(f->ch.ops->inbound(&f->ch, &r, emit_cb, &e,
		    &resp), ENG_EIO);
		assert_int_equal(resp.status, 503);
	}
}

static void
test_callbacks_hostile(void **state)
{
	static const struct {
		const char *method, *rest, *body;
		int status;
		const char *errmsg;
	} c[] = {
		{ "POST", "/dlr", "{}", 404, "not found" },
		{ "GET", "/callback", NULL, 405, "use POST" },
		{ "POST", "/callback", NULL, 400, "no body" },
		{ "POST", "/callback", "{\"voicekey_callback\":", 400,
		  "not JSON: " },
		{ "POST", "/callback", "[{\"voicekey_callback\":{}}]", 400,
		  "want an object with one of" },
		{ "POST", "/callback", "{\"voicekey_callback\":{},"
		  "\"voiceprompt_callback\":{}}", 400,
		  "want an object with one of" },
		{ "POST", "/callback", "{\"voicecode_callback\":{}}", 400,
		  "want one of voiceprompt_callback" },
		{ "POST", "/callback", "{\"voicekey_callback\":\"1\"}", 400,
		  "voicekey_callback is not an object" },
		{ "POST", "/callback", "{\"voicekey_callback\":{\"keypress\":"
		  "\"1\",\"mobile\":\"13800138000\"}}", 400, "no callid" },
		{ "POST", "/callback", "{\"voicekey_callback\":{\"callid\":"
		  "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaa\",\"keypress\":\"1\",\"mobile\":\"13800138000\"}}",
		  400, "no callid" },
		{ "POST", "/callback", "{\"voicekey_callback\":{\"callid\":"
		  "\"a\\nb\",\"keypress\":\"1\",\"mobile\":\"13800138000\"}}",
		  400, "bad callid" },
		{ "POST", "/callback", "{\"voicekey_callback\":{\"callid\":"
		  "\"a\\u0000b\",\"keypress\":\"1\",\"mobile\":"
		  "\"13800138000\"}}", 400, "not JSON: " },
		{ "POST", "/callback", "{\"voicekey_callback\":{\"callid\":"
		  "[\"x\"],\"keypress\":\"1\",\"mobile\":\"13800138000\"}}",
		  400, "no callid" },
		{ "POST", "/callback", "{\"voicekey_callback\":{\"callid\":"
		  "\"x\",\"keypress\":\"1\"}}", 400, "no mobile" },
		{ "POST", "/callback", "{\"voicekey_callback\":{\"callid\":"
		  "\"x\",\"keypress\":\"1\",\"mobile\":\"138;DROP\"}}", 400,
		  "not a phone number" },
		{ "POST", "/callback", "{\"voicekey_callback\":{\"callid\":"
		  "\"x\",\"mobile\":\"13800138000\"}}", 400, "no keypress" },
		{ "POST", "/callback", "{\"voicekey_callback\":{\"callid\":"
		  "\"x\",\"keypress\":1.5,\"mobile\":\"13800138000\"}}", 400,
		  "no keypress" },
		{ "POST", "/callback", "{\"voiceprompt_callback\":{\"callid\":"
		  "\"x\",\"result\":\"9\",\"mobile\":\"13800138000\"}}", 400,
		  "result must be 0, 1 or 2" },
		{ "POST", "/callback", "{\"voice_failure_callback\":{"
		  "\"callid\":\"x\",\"mobile\":\"13800138000\"}}", 400,
		  "no failure_code" },
		{ "POST", "/callback", "{\"voicekey_callback\":{\"callid\":"
		  "\"x\",\"callid\":\"y\",\"keypress\":\"1\",\"mobile\":"
		  "\"13800138000\"}}", 400, "not JSON: duplicate object key" },
	};
	static const char key1[] = "{\"voicekey_callback\":{\"callid\":"
	    "\"x\",\"keypress\":\"1\",\"mobile\":\"13800138000\"}}";
	struct fx *f = *state;
	struct chan_http_resp resp;
	struct evs e;
	char *big, *deep;
	size_t i;

	open_fake(f, NULL);
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		assert_int_equal(inbound(f, c[i].method, c[i].rest, c[i].body,
		    &e, &resp), 0);
		if (resp.status != c[i].status ||
		    strstr(resp.body, c[i].errmsg) == NULL)
			fprintf(stderr, "# case %zu: %d %s\n", i, resp.status,
			    resp.body);
		assert_int_equal(resp.status, c[i].status);
		assert_non_null(strstr(resp.body, c[i].errmsg));
		assert_int_equal(strncmp(resp.body, "{\"result\":1,", 12), 0);
		assert_int_equal(e.n, 0);
	}
	/* Oversize: 413 before any parsing. */
	big = malloc(5000);
	assert_non_null(big);
	memset(big, ' ', 4999);
	memcpy(big, key1, strlen(key1));
	big[4999] = '\0';
	assert_int_equal(inbound(f, "POST", "/callback", big, &e, &resp), 0);
	assert_int_equal(resp.status, 413);
	assert_string_equal(resp.body, "{\"result\":1,\"errmsg\":\"callback "
	    "body larger than 4096 bytes\"}");
	assert_int_equal(e.n, 0);
	/* Just within the limit, padded with blanks: taken. */
	big[4096] = '\0';
	assert_int_equal(inbound(f, "POST", "/callback", big, &e, &resp), 0);
	assert_int_equal(resp.status, 200);
	assert_int_equal(e.n, 1);
	free(big);
	/* Deep nesting and bytes after a NUL. */
	deep = malloc(4001);
	assert_non_null(deep);
	memset(deep, '[', 4000);
	deep[4000] = '\0';
	assert_int_equal(inbound(f, "POST", "/callback", deep, &e, &resp), 0);
	assert_int_equal(resp.status, 400);
	assert_int_equal(e.n, 0);
	free(deep);
	assert_int_equal(inbound_n(f, "POST", "/callback",
	    "{\"voicekey_callback\":{}}\0garbage", 32, &e, &resp), 0);
	assert_int_equal(resp.status, 400);
	assert_int_equal(e.n, 0);
	/* Other nation codes: E.164 as the roster keeps it. */
	assert_int_equal(inbound(f, "POST", "/callback",
	    "{\"voicekey_callback\":{\"callid\":\"x\",\"keypress\":\"1\","
	    "\"mobile\":\"4155550100\",\"nationcode\":\"1\"}}", &e, &resp), 0);
	assert_int_equal(resp.status, 200);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.ev[0].from, "+14155550100");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_config_errors, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_config_required, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_call_request, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bad_credentials, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bad_secret_id, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_clock_skew, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_error_classes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_refused_locally, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_refused_connection, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_queue_full_and_shutdown,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_callbacks, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_callbacks_hostile, setup,
		    teardown),
	};

	return cmocka_run_group_tests_name("chan_voice_http", tests,
	    group_setup, group_teardown);
}
