/*
 * tests/unit/test_chan_mqtt.c - the "mqtt" channel driver against a real
 * Mosquitto broker, started once for the group by
 * ops/peers/mosquitto/start.sh in a temporary directory and stopped by
 * ops/peers/mosquitto/stop.sh in the teardown.  Fake controllers
 * (ops/peers/mosquitto/controller.sh: mosquitto_sub with a last will,
 * answering on their status topic) stand for sirens; what they received
 * is read back from their logs.
 *
 * Covered: the JSON command a controller receives; PUBACK -> SENT; the
 * controller's status -> DELIVERED or FAILED; a controller whose will
 * says offline -> FAILED at once, also while a delivery waits for it; no
 * answer within ack_timeout -> FAILED; nobody subscribed and the ACL's
 * refusal -> FAILED; broker down -> RETRY; refused credentials ->
 * FAILED; bad addresses, expiry and shutdown; the broker restarted
 * (RETRY meanwhile, reconnection with backoff); config errors with
 * file:line.  Runs from the repository root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "channels/channel.h"
#include "config/cfg.h"

#define PEER "ops/peers/mosquitto"

/* A red rainstorm warning, as the dispatcher's device payload has it. */
static const char RED_PAYLOAD[] =
    "{\"alert\":7,\"colour\":\"red\",\"event\":\"暴雨\",\"exercise\":false,"
    "\"cancel\":false,\"text\":\"【长治市气象台】暴雨红色预警。"
    "请立即转移。\",\"repeat\":3}";

static struct {
	char dir[64];
	char port[16];
	char user[32], pass[64];
	int up;
} B;

static int
run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
run(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(cmd))
		return -1;
	return system(cmd);
}

/* Value of NAME=value in DIR/env. */
static int
env_get(const char *name, char *out, size_t size)
{
	char path[128], line[256];
	size_t len = strlen(name);
	FILE *f;
	int found = 0;

	(void)snprintf(path, sizeof(path), "%s/env", B.dir);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, name, len) == 0 && line[len] == '=') {
			line[strcspn(line, "\n")] = '\0';
			(void)snprintf(out, size, "%s", line + len + 1);
			found = 1;
		}
	}
	(void)fclose(f);
	return found ? 0 : -1;
}

static int
group_setup(void **state)
{
	(void)state;
	(void)snprintf(B.dir, sizeof(B.dir), "/tmp/gong-mqtt.XXXXXX");
	if (mkdtemp(B.dir) == NULL)
		return -1;
	if (run("MOSQUITTO_OWNER_PID=%ld " PEER "/start.sh %s",
	    (long)getpid(), B.dir) != 0) {
		fprintf(stderr, "test_chan_mqtt: Mosquitto did not start\n");
		return -1;
	}
	if (env_get("PORT", B.port, sizeof(B.port)) != 0 ||
	    env_get("GONG_USER", B.user, sizeof(B.user)) != 0 ||
	    env_get("GONG_PASS", B.pass, sizeof(B.pass)) != 0)
		return -1;
	B.up = 1;
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	if (B.dir[0] != '\0') {
		(void)run(PEER "/stop.sh %s", B.dir);
		(void)run("rm -rf %s", B.dir);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* One channel per test                                                */
/* ------------------------------------------------------------------ */

#define MAX_REPORTS 64
struct got {
	int64_t id;
	enum chan_result result;
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
	f->env.data_dir = B.dir;
	f->env.callback_base = "http://127.0.0.1:9/cb/sirens";
	f->env.report = on_report;
	f->env.engine = f;
	f->ch.name = "sirens";
	f->ch.ops = &chan_mqtt_ops;
	f->ch.env = &f->env;
	f->ch.addr = chan_mqtt_ops.addr;
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
	return 0;
}

static int
open_yaml(struct fx *f, const char *yaml)
{
	int rv;

	rv = cfg_doc_parse(yaml, strlen(yaml), "mqtt.yaml", &f->doc,
	    &f->diags);
	assert_int_equal(rv, 0);
	f->ch.priv = calloc(1, f->ch.ops->priv_size);
	assert_non_null(f->ch.priv);
	rv = f->ch.ops->init(&f->ch, cfg_doc_root(f->doc), &f->diags);
	f->open = 1;	/* shutdown must cope with a failed init too */
	return rv;
}

/* A channel on the test's broker; extra lines appended to the config. */
static void
open_mqtt(struct fx *f, const char *extra)
{
	char yaml[1024];

	(void)snprintf(yaml, sizeof(yaml),
	    "name: sirens\ntype: mqtt\nhost: 127.0.0.1\nport: %s\n"
	    "username: %s\npassword: \"%s\"\n%s", B.port, B.user, B.pass,
	    extra != NULL ? extra : "");
	assert_int_equal(open_yaml(f, yaml), 0);
	assert_int_equal(f->diags.nerrors, 0);
}

#define STATUS "topic_prefix: gong/cmd/\nstatus_topic: gong/status/\n"

static int64_t
now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Poll until n reports arrived or ms passed; returns the time taken. */
static int64_t
pump(struct fx *f, size_t n, int64_t ms)
{
	int64_t t0 = now_ms(), w;

	while (f->nrep < n && now_ms() - t0 < ms) {
		w = f->ch.ops->poll(&f->ch, now_ms());
		if (w > 10)
			w = 10;
		if (w > 0)
			(void)usleep((useconds_t)w * 1000);
	}
	return now_ms() - t0;
}

/* Poll for ms whatever happens. */
static void
pump_for(struct fx *f, int64_t ms)
{
	(void)pump(f, (size_t)-1, ms);
}

static void
send1(struct fx *f, int64_t id, const char *to, const char *payload,
    int64_t deadline)
{
	struct chan_msg m;

	memset(&m, 0, sizeof(m));
	m.delivery_id = id;
	m.to = to;
	m.text = "【长治市气象台】暴雨红色预警";
	m.payload = payload;
	m.priority = 9;
	m.deadline_ms = deadline;
	assert_int_equal(f->ch.ops->send(&f->ch, &m, 1), 0);
}

static void
assert_report(const struct fx *f, size_t i, int64_t id, enum chan_result r,
    const char *error)
{
	assert_true(i < f->nrep);
	assert_int_equal(f->rep[i].id, id);
	assert_int_equal(f->rep[i].result, r);
	assert_string_equal(f->rep[i].error, error);
}

static void
controller(const char *name, const char *addr, const char *mode)
{
	assert_int_equal(run(PEER "/controller.sh %s %s %s %s", B.dir, name,
	    addr, mode), 0);
}

static void
crash(const char *name)
{
	assert_int_equal(run(PEER "/controller.sh --crash %s %s", B.dir,
	    name), 0);
}

/* The commands controller name received, one JSON text per line. */
static size_t
received(const char *name, char lines[][1024], size_t max)
{
	char path[128];
	size_t n = 0;
	FILE *fp;

	(void)snprintf(path, sizeof(path), "%s/ctl-%s.log", B.dir, name);
	if ((fp = fopen(path, "r")) == NULL)
		return 0;
	while (n < max && fgets(lines[n], 1024, fp) != NULL) {
		lines[n][strcspn(lines[n], "\n")] = '\0';
		n++;
	}
	(void)fclose(fp);
	return n;
}

/* ------------------------------------------------------------------ */
/* Tests                                                               */
/* ------------------------------------------------------------------ */

static void
assert_diags(struct fx *f, const char *const *want, size_t n)
{
	char buf[512];
	size_t i;

	for (i = 0; i < f->diags.n && i < n; i++)
		assert_string_equal(diag_format(&f->diags.v[i], buf,
		    sizeof(buf)), want[i]);
	assert_int_equal(f->diags.n, n);
}

static void
test_config_errors(void **state)
{
	struct fx *f = *state;
	static const char yaml[] =
	    "name: sirens\n"
	    "type: mqtt\n"
	    "hsot: 127.0.0.1\n"
	    "port: 0\n"
	    "qos: 3\n"
	    "keepalive: 1s\n"
	    "ack_timeout: 10\n"
	    "password: x\n"
	    "client_id: gong sirens\n"
	    "topic_prefix: gong/+/cmd/\n"
	    "status_topic: gong/status\n"
	    "failover: [a, b]\n";
	static const char *const want[] = {
		"mqtt.yaml:3: error: hsot: unknown key 'hsot' (allowed: "
		    "name, type, host, port, username, password, "
		    "password_file, client_id, topic_prefix, qos, keepalive, "
		    "status_topic, ack_timeout, connect_timeout, failover, "
		    "rate_limit, rate_count)",
		"mqtt.yaml:4: error: port: 0 is out of range (1 to 65535)",
		"mqtt.yaml:5: error: qos: 3 is out of range (0 to 2)",
		"mqtt.yaml:6: error: keepalive: duration '1s' is out of "
		    "range (5000 ms to 3600000 ms)",
		"mqtt.yaml:7: error: ack_timeout: '10' is not a duration "
		    "(use a number and a unit: 500ms, 30s, 5m, 2h, 1d, or "
		    "groups like 1h30m)",
		"mqtt.yaml:8: error: password: a password needs a username",
		"mqtt.yaml:9: error: client_id: client_id must be printable "
		    "ASCII without spaces",
		"mqtt.yaml:10: error: topic_prefix: topic_prefix must not "
		    "contain the MQTT wildcards '+' or '#'",
		"mqtt.yaml:11: error: status_topic: status_topic must end "
		    "with '/' (each controller's status is on "
		    "status_topic<address>)",
		"mqtt.yaml:12: error: failover: expected a value, found a "
		    "sequence",
	};

	assert_int_equal(open_yaml(f, yaml), ENG_EINVAL);
	assert_diags(f, want, sizeof(want) / sizeof(want[0]));
}

static void
test_config_password_file(void **state)
{
	struct fx *f = *state;
	char path[128];
	FILE *fp;

	assert_int_equal(open_yaml(f, "name: sirens\ntype: mqtt\n"
	    "username: gong\npassword: x\npassword_file: nowhere\n"),
	    ENG_EINVAL);
	{
		static const char *const want[] = {
			"mqtt.yaml:5: error: password_file: give password "
			    "or password_file, not both",
		};
		assert_diags(f, want, 1);
	}
	f->ch.ops->shutdown(&f->ch);
	free(f->ch.priv);
	cfg_doc_free(f->doc);
	f->doc = NULL;
	diag_list_release(&f->diags);

	assert_int_equal(open_yaml(f, "name: sirens\ntype: mqtt\n"
	    "username: gong\npassword_file: no-such.pass\n"), ENG_EINVAL);
	assert_int_equal(f->diags.n, 1);
	assert_non_null(strstr(f->diags.v[0].msg, "no-such.pass: No such "
	    "file or directory"));
	assert_int_equal(f->diags.v[0].line, 4);
	f->ch.ops->shutdown(&f->ch);
	free(f->ch.priv);
	cfg_doc_free(f->doc);
	f->doc = NULL;
	diag_list_release(&f->diags);

	/* The broker's real password, read from a file in the data dir;
	 * ack_timeout without status_topic is only a warning. */
	(void)snprintf(path, sizeof(path), "%s/mqtt.pass", B.dir);
	assert_non_null(fp = fopen(path, "w"));
	fprintf(fp, "%s\n", B.pass);
	(void)fclose(fp);
	{
		char yaml[256];

		(void)snprintf(yaml, sizeof(yaml), "name: sirens\ntype: mqtt\n"
		    "port: %s\nusername: gong\npassword_file: mqtt.pass\n"
		    "topic_prefix: gong/cmd/\nack_timeout: 5s\n", B.port);
		assert_int_equal(open_yaml(f, yaml), 0);
	}
	assert_int_equal(f->diags.nerrors, 0);
	assert_int_equal(f->diags.nwarnings, 1);
	assert_string_equal(f->diags.v[0].msg,
	    "ack_timeout has no effect without status_topic");
	controller("pf", "siren/pf", "ack");
	send1(f, 77, "siren/pf", NULL, 0);
	pump(f, 1, 5000);
	assert_int_equal(f->nrep, 1);
	assert_report(f, 0, 77, CHAN_R_SENT, "");
}

static void
test_publish_json_sent_delivered(void **state)
{
	struct fx *f = *state;
	char lines[4][1024];
	json_t *j;
	json_error_t je;

	controller("c1", "siren/140425100203", "ack");
	open_mqtt(f, STATUS);
	send1(f, 1001, "siren/140425100203", RED_PAYLOAD, 0);
	send1(f, 1002, "siren/140425100203", NULL, 0);
	pump(f, 4, 5000);
	assert_int_equal(f->nrep, 4);
	/* Each: PUBACK (SENT) first, then the controller's status. */
	{
		size_t i, s1 = 9, d1 = 9, s2 = 9, d2 = 9;

		for (i = 0; i < 4; i++) {
			assert_string_equal(f->rep[i].error, "");
			if (f->rep[i].id == 1001)
				*(f->rep[i].result == CHAN_R_SENT ? &s1 :
				    &d1) = i;
			else
				*(f->rep[i].result == CHAN_R_SENT ? &s2 :
				    &d2) = i;
		}
		assert_true(s1 < d1 && d1 < 4 && s2 < d2 && d2 < 4);
		assert_int_equal(f->rep[d1].result, CHAN_R_DELIVERED);
		assert_int_equal(f->rep[d2].result, CHAN_R_DELIVERED);
	}
	assert_int_equal(received("c1", lines, 4), 2);
	j = json_loads(lines[0], 0, &je);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "delivery")),
	    1001);
	assert_string_equal(json_string_value(json_object_get(j, "zone")),
	    "siren/140425100203");
	assert_string_equal(json_string_value(json_object_get(j, "text")),
	    "【长治市气象台】暴雨红色预警。请立即转移。");
	assert_int_equal(json_integer_value(json_object_get(j, "repeat")), 3);
	assert_string_equal(json_string_value(json_object_get(j, "colour")),
	    "red");
	assert_int_equal(json_integer_value(json_object_get(j, "alert")), 7);
	assert_int_equal(json_integer_value(json_object_get(j, "priority")),
	    9);
	json_decref(j);
	/* Without a payload: the message's text, played once. */
	assert_string_equal(lines[1], "{\"delivery\":1002,\"zone\":"
	    "\"siren/140425100203\",\"text\":\"【长治市气象台】暴雨红色预警\","
	    "\"repeat\":1,\"priority\":9}");
}

static void
test_sent_without_status_topic(void **state)
{
	struct fx *f = *state;
	char lines[2][1024];

	controller("c2", "siren/u2", "ack");
	open_mqtt(f, "topic_prefix: gong/cmd/\nqos: 2\n");
	send1(f, 2001, "siren/u2", RED_PAYLOAD, 0);
	pump(f, 1, 5000);
	assert_int_equal(f->nrep, 1);
	assert_report(f, 0, 2001, CHAN_R_SENT, "");
	pump_for(f, 300);	/* the controller's answer is not looked at */
	assert_int_equal(f->nrep, 1);
	assert_int_equal(received("c2", lines, 2), 1);
}

static void
test_controller_reports_failure(void **state)
{
	struct fx *f = *state;

	controller("c3", "siren/u3", "fail");
	open_mqtt(f, STATUS);
	send1(f, 3001, "siren/u3", RED_PAYLOAD, 0);
	pump(f, 2, 5000);
	assert_int_equal(f->nrep, 2);
	assert_report(f, 0, 3001, CHAN_R_SENT, "");
	assert_report(f, 1, 3001, CHAN_R_FAILED,
	    "controller: amplifier fault");
}

static void
test_silent_controller_times_out(void **state)
{
	struct fx *f = *state;
	int64_t took;

	controller("c4", "siren/u4", "silent");
	open_mqtt(f, STATUS "ack_timeout: 1s\n");
	send1(f, 4001, "siren/u4", RED_PAYLOAD, 0);
	took = pump(f, 2, 5000);
	assert_int_equal(f->nrep, 2);
	assert_report(f, 0, 4001, CHAN_R_SENT, "");
	assert_report(f, 1, 4001, CHAN_R_FAILED,
	    "controller did not confirm within 1s");
	assert_true(took >= 1000 && took < 3000);
}

static void
test_offline_controller_fails_fast(void **state)
{
	struct fx *f = *state;
	char lines[2][1024];
	int64_t took;

	/* Its will ("offline", retained) is on its status topic. */
	controller("c5", "siren/u5", "ack");
	crash("c5");
	open_mqtt(f, STATUS);
	pump_for(f, 300);	/* connected; the retained will is known */
	send1(f, 5001, "siren/u5", RED_PAYLOAD, 0);
	took = pump(f, 1, 5000);
	assert_int_equal(f->nrep, 1);
	assert_report(f, 0, 5001, CHAN_R_FAILED, "controller offline");
	assert_true(took < 1000);	/* at the first poll, in fact */
	assert_int_equal(received("c5", lines, 2), 0);
}

static void
test_offline_before_connect(void **state)
{
	struct fx *f = *state;
	int64_t took;

	/* Sent before the channel ever connected: the retained will comes
	 * with the subscription and fails it without waiting. */
	controller("c6", "siren/u6", "ack");
	crash("c6");
	open_mqtt(f, STATUS);
	send1(f, 6001, "siren/u6", RED_PAYLOAD, 0);
	took = pump(f, 1, 5000);
	assert_int_equal(f->nrep, 1);
	assert_int_equal(f->rep[0].id, 6001);
	assert_true(f->rep[0].result == CHAN_R_FAILED);
	assert_string_equal(f->rep[0].error, "controller offline");
	assert_true(took < 1000);
}

static void
test_controller_dies_while_waiting(void **state)
{
	struct fx *f = *state;
	int64_t took;

	controller("c7", "siren/u7", "silent");
	open_mqtt(f, STATUS "ack_timeout: 30s\n");
	send1(f, 7001, "siren/u7", RED_PAYLOAD, 0);
	pump(f, 1, 5000);
	assert_report(f, 0, 7001, CHAN_R_SENT, "");
	crash("c7");
	took = pump(f, 2, 5000);
	assert_int_equal(f->nrep, 2);
	assert_report(f, 1, 7001, CHAN_R_FAILED, "controller offline");
	assert_true(took < 2000);	/* not the 30 s of ack_timeout */
}

static void
test_nobody_subscribed_and_acl(void **state)
{
	struct fx *f = *state;

	open_mqtt(f, STATUS);
	send1(f, 8001, "siren/nobody", RED_PAYLOAD, 0);
	pump(f, 1, 5000);
	assert_int_equal(f->nrep, 1);
	assert_report(f, 0, 8001, CHAN_R_FAILED,
	    "no controller is subscribed to gong/cmd/siren/nobody");
	f->ch.ops->shutdown(&f->ch);
	free(f->ch.priv);
	cfg_doc_free(f->doc);
	f->doc = NULL;
	f->nrep = 0;

	/* The broker's ACL does not let gong write there (MQTT 5 says so
	 * in the PUBACK; 3.1.1 would drop it silently). */
	open_mqtt(f, "topic_prefix: forbidden/\n");
	send1(f, 8002, "siren/x", RED_PAYLOAD, 0);
	pump(f, 1, 5000);
	assert_int_equal(f->nrep, 1);
	assert_report(f, 0, 8002, CHAN_R_FAILED,
	    "broker refused the command: Not authorized");
}

/* A port on 127.0.0.1 where nothing listens. */
static int
closed_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0), port;

	assert_true(s >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	(void)close(s);
	return port;
}

static void
test_broker_down_retry(void **state)
{
	struct fx *f = *state;
	char yaml[256];
	struct chan_health h;
	int64_t took;

	(void)snprintf(yaml, sizeof(yaml), "name: sirens\ntype: mqtt\n"
	    "port: %d\nusername: gong\npassword: x\n" STATUS, closed_port());
	assert_int_equal(open_yaml(f, yaml), 0);
	send1(f, 9001, "siren/u9", RED_PAYLOAD, 0);
	send1(f, 9002, "siren/u9", RED_PAYLOAD, 0);
	took = pump(f, 2, 5000);
	assert_int_equal(f->nrep, 2);
	assert_report(f, 0, 9001, CHAN_R_RETRY,
	    "broker unreachable: Connection refused");
	assert_report(f, 1, 9002, CHAN_R_RETRY,
	    "broker unreachable: Connection refused");
	assert_true(took < 1000);
	f->ch.ops->health(&f->ch, &h);
	assert_int_equal(h.up, 0);
	assert_string_equal(h.detail, "Connection refused");
	/* Offered again while the driver waits to reconnect (1 s): kept
	 * until the next attempt, which fails again. */
	send1(f, 9003, "siren/u9", RED_PAYLOAD, 0);
	pump_for(f, 200);
	assert_int_equal(f->nrep, 2);
	took = pump(f, 3, 5000);
	assert_int_equal(f->nrep, 3);
	assert_report(f, 2, 9003, CHAN_R_RETRY,
	    "broker unreachable: Connection refused");
}

static void
test_wrong_password_failed(void **state)
{
	struct fx *f = *state;
	char yaml[256];

	(void)snprintf(yaml, sizeof(yaml), "name: sirens\ntype: mqtt\n"
	    "port: %s\nusername: gong\npassword: wrong\n" STATUS, B.port);
	assert_int_equal(open_yaml(f, yaml), 0);
	send1(f, 10001, "siren/u10", RED_PAYLOAD, 0);
	pump(f, 1, 5000);
	assert_int_equal(f->nrep, 1);
	assert_report(f, 0, 10001, CHAN_R_FAILED, "broker refused the "
	    "connection: Not authorized");
}

static void
test_bad_addresses_expiry_shutdown(void **state)
{
	struct fx *f = *state;
	struct chan_msg m[3];
	size_t i;

	open_mqtt(f, STATUS);
	send1(f, 11001, "siren/+/x", NULL, 0);
	send1(f, 11002, "", NULL, 0);
	send1(f, 11003, "siren/u11", NULL, 1);	/* expired long ago */
	pump(f, 3, 2000);
	assert_int_equal(f->nrep, 3);
	assert_report(f, 0, 11001, CHAN_R_FAILED,
	    "device address is not a valid MQTT topic");
	assert_report(f, 1, 11002, CHAN_R_FAILED, "no device address");
	assert_report(f, 2, 11003, CHAN_R_FAILED,
	    "expired before it could be sent");
	/* Too many at once is a programming error. */
	memset(m, 0, sizeof(m));
	assert_int_equal(f->ch.ops->send(&f->ch, m, 101), ENG_EINVAL);
	/* Accepted but never polled: shutdown reports them RETRY. */
	f->nrep = 0;
	for (i = 0; i < 3; i++)
		send1(f, 11010 + (int64_t)i, "siren/u11", NULL, 0);
	f->ch.ops->shutdown(&f->ch);
	assert_int_equal(f->nrep, 3);
	for (i = 0; i < 3; i++)
		assert_report(f, i, 11010 + (int64_t)i, CHAN_R_RETRY,
		    "shut down");
	f->ch.ops->shutdown(&f->ch);	/* idempotent */
	assert_int_equal(f->nrep, 3);
}

static void
test_broker_restart_reconnects(void **state)
{
	struct fx *f = *state;
	struct chan_health h;
	size_t i;

	controller("r1", "siren/r1", "ack");
	open_mqtt(f, STATUS);
	send1(f, 12001, "siren/r1", NULL, 0);
	pump(f, 2, 5000);
	assert_int_equal(f->nrep, 2);
	assert_report(f, 1, 12001, CHAN_R_DELIVERED, "");

	/* The broker goes away: what is offered meanwhile comes back as
	 * RETRY from the reconnection attempts. */
	assert_int_equal(run(PEER "/stop.sh %s", B.dir), 0);
	pump_for(f, 200);
	assert_int_equal(f->nrep, 2);
	f->ch.ops->health(&f->ch, &h);
	assert_int_equal(h.up, 0);
	send1(f, 12002, "siren/r1", NULL, 0);
	pump(f, 3, 5000);
	assert_int_equal(f->nrep, 3);
	assert_report(f, 2, 12002, CHAN_R_RETRY,
	    "broker unreachable: Connection refused");

	/* Back on the same port: the driver reconnects by itself (backoff)
	 * and the next command goes through. */
	assert_int_equal(run("MOSQUITTO_PORT=%s MOSQUITTO_OWNER_PID=%ld "
	    PEER "/start.sh %s", B.port, (long)getpid(), B.dir), 0);
	controller("r1", "siren/r1", "ack");
	send1(f, 12003, "siren/r1", NULL, 0);
	pump(f, 5, 20000);
	assert_int_equal(f->nrep, 5);
	for (i = 3; i < 5; i++)
		assert_int_equal(f->rep[i].id, 12003);
	assert_int_equal(f->rep[3].result, CHAN_R_SENT);
	assert_int_equal(f->rep[4].result, CHAN_R_DELIVERED);
	f->ch.ops->health(&f->ch, &h);
	assert_int_equal(h.up, 1);
	assert_string_equal(h.detail, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_config_errors, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_config_password_file,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_publish_json_sent_delivered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sent_without_status_topic,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_controller_reports_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_silent_controller_times_out, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_offline_controller_fails_fast, setup, teardown),
		cmocka_unit_test_setup_teardown(test_offline_before_connect,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_controller_dies_while_waiting, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_nobody_subscribed_and_acl, setup, teardown),
		cmocka_unit_test_setup_teardown(test_broker_down_retry, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_wrong_password_failed,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_bad_addresses_expiry_shutdown, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_broker_restart_reconnects, setup, teardown),
	};

	return cmocka_run_group_tests_name("chan_mqtt", tests, group_setup,
	    group_teardown);
}
