/*
 * channels/mqtt.c - the "mqtt" driver: siren and loudspeaker controllers
 * reached through an MQTT broker (libmosquitto, MQTT 5).  Config:
 *
 *   - name: sirens
 *     type: mqtt
 *     host: 127.0.0.1           # broker address (default 127.0.0.1); a
 *                               # name is resolved at each connect
 *                               # (getaddrinfo blocks): prefer addresses
 *     port: 1883                # 1..65535 (default 1883)
 *     username: gong            # optional (anonymous without)
 *     password: secret          # or password_file: mqtt.pass (first
 *                               # line; relative to the data directory)
 *     client_id: gong-sirens    # default "gong-<channel name>"
 *     topic_prefix: gong/cmd/   # command topic = topic_prefix + address
 *                               # (default "": the address is the topic)
 *     qos: 1                    # 0, 1 or 2 (default 1)
 *     keepalive: 30s            # 5s..1h (default 30s)
 *     status_topic: gong/status/  # controllers' status topics: prefix +
 *                               # address; ends with '/' (default: none,
 *                               # then no receipts, no offline check)
 *     ack_timeout: 30s          # wait for the controller's status after
 *                               # PUBACK, 1s..1h (default 30s)
 *     connect_timeout: 10s      # TCP connect + CONNACK, 1s..5m (10s)
 *     failover: loudspeakers    # engine: partner channel for failures
 *
 * Each delivery is one PUBLISH (QoS qos, not retained) of a JSON command
 * to topic_prefix + the device's address from devices.csv: the
 * dispatcher's payload object (alert, colour, event, text, repeat …) with
 * "delivery" (the delivery id, to be echoed back) and "zone" (the address)
 * set, and "text" / "repeat" filled in from the message when absent.  A
 * delivery with a deadline carries a message expiry (MQTT 5), so that a
 * controller that comes back late never sounds a stale warning.
 *
 * Results: PUBACK -> CHAN_R_SENT (QoS 0: once written).  PUBACK reason
 * "no matching subscribers" (no controller listens on the topic) and
 * "not authorised" (the broker's ACL) -> CHAN_R_FAILED.  With
 * status_topic, the driver subscribes to status_topic + "#"; a message on
 * status_topic + ADDRESS is the status of the controller at ADDRESS:
 *   {"delivery": ID, "status": "done"}           -> CHAN_R_DELIVERED
 *   {"delivery": ID, "status": "failed", "error": "…"} -> CHAN_R_FAILED
 *   offline      (its retained last will)       -> every delivery to it
 *                                                  CHAN_R_FAILED at once
 *                                                  ("controller offline")
 *   online, or anything else                    -> it is back
 * A delivery without a status after ack_timeout is CHAN_R_FAILED, so
 * that the engine's fail-over can take it elsewhere.  Broker unreachable
 * (refused, timed out, connection lost before PUBACK) -> CHAN_R_RETRY;
 * credentials refused -> CHAN_R_FAILED.  The driver reconnects with
 * backoff (1 s doubling to 60 s) and stays connected while idle, so that
 * it learns controllers' wills before it needs them.
 *
 * Everything happens in poll, without blocking: the socket is polled with
 * a zero timeout and driven with mosquitto_loop_read/write/misc;
 * connections are opened with mosquitto_connect_bind_async, each with a
 * fresh client (the library never re-sends an old connection's
 * messages: those were reported RETRY).  libmosquitto callbacks run
 * inside poll and report from there.  The delivery id in the command is
 * the controllers' means to ignore a command they already played.
 */
#include "channels/channel.h"
#include "config/cfg.h"

#include <errno.h>
#include <jansson.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define M_MAX_BATCH	100
#define M_MAX_QUEUED	100000		/* messages not yet finished */
#define M_MAX_CTL	100000		/* controllers whose state is known */
#define M_MAX_TOPIC	1024
#define M_MAX_BODY	65536		/* bytes of a command */
#define M_BACKOFF_MIN	1000
#define M_BACKOFF_MAX	60000

enum mq_state {
	MQ_QUEUED = 0,		/* accepted, not published */
	MQ_PUBLISHED,		/* waiting for PUBACK */
	MQ_WAITING,		/* SENT; waiting for the controller */
	MQ_DONE,		/* finished, removed at the end of poll */
};

struct mmsg {
	int64_t id;
	char *addr;		/* the device's address */
	char *topic;		/* command topic */
	char *body;		/* JSON command */
	int64_t deadline_ms;	/* 0: none */
	const char *fail;	/* static: refused by send, FAILED in poll */
	enum mq_state state;
	int mid;
	int64_t ack_by;		/* MQ_WAITING: FAILED after this */
};

struct ctl {
	char *addr;
	int offline;
};

enum conn_state {
	C_DOWN = 0,
	C_CONNECTING,		/* TCP and CONNACK under way */
	C_UP,			/* CONNACK, status SUBACK pending */
	C_READY,		/* publishing */
};

struct mqtt_priv {
	/* Config (set by init). */
	char *host;
	int64_t port;
	char *user, *pass, *client_id, *topic_prefix, *status_prefix;
	int64_t qos, keepalive_ms, ack_timeout_ms, connect_timeout_ms;

	/* The connection. */
	struct mosquitto *mosq;
	int lib;		/* mosquitto_lib_init() done */
	int fresh;		/* mosq never connected */
	enum conn_state conn;
	int sub_mid;
	int64_t now;		/* poll's now_ms, for callbacks */
	int64_t connect_at;	/* next attempt (C_DOWN) */
	int64_t connect_started;
	int64_t backoff_ms;
	int up;
	char detail[128];

	struct mmsg *m;
	size_t n, a, live;	/* entries, allocated, not MQ_DONE */
	struct ctl *ctl;
	size_t nctl, actl;
	struct channel *ch;	/* for the callbacks */
};

static const char *const keys[] = {
	"name", "type", "host", "port", "username", "password",
	"password_file", "client_id", "topic_prefix", "qos", "keepalive",
	"status_topic", "ack_timeout", "connect_timeout", CHAN_ENGINE_KEYS,
	NULL
};

/* mosquitto_lib_init/cleanup are not thread-safe. */
static pthread_mutex_t lib_mu = PTHREAD_MUTEX_INITIALIZER;

/* ------------------------------------------------------------------ */
/* helpers                                                             */
/* ------------------------------------------------------------------ */

static void
set_detail(struct mqtt_priv *p, const char *s)
{
	(void)snprintf(p->detail, sizeof(p->detail), "%s", s);
}

static void
report(struct channel *ch, int64_t id, enum chan_result r, const char *err)
{
	struct chan_report rep;

	memset(&rep, 0, sizeof(rep));
	rep.delivery_id = id;
	rep.result = r;
	rep.error = err;
	chan_report(ch, &rep);
}

/* Finish entry e with result r (the entry is freed at the end of poll). */
static void
finish(struct mqtt_priv *p, struct mmsg *e, enum chan_result r,
    const char *err)
{
	report(p->ch, e->id, r, err);
	e->state = MQ_DONE;
	p->live--;
}

static void
mmsg_release(struct mmsg *e)
{
	free(e->addr);
	free(e->topic);
	free(e->body);
}

/* Drop finished entries, keeping the order of the others. */
static void
compact(struct mqtt_priv *p)
{
	size_t i, j = 0;

	for (i = 0; i < p->n; i++) {
		if (p->m[i].state == MQ_DONE) {
			mmsg_release(&p->m[i]);
			continue;
		}
		if (i != j)
			p->m[j] = p->m[i];
		j++;
	}
	p->n = j;
}

static struct ctl *
ctl_find(struct mqtt_priv *p, const char *addr, size_t len)
{
	size_t i;

	for (i = 0; i < p->nctl; i++)
		if (strlen(p->ctl[i].addr) == len &&
		    memcmp(p->ctl[i].addr, addr, len) == 0)
			return &p->ctl[i];
	return NULL;
}

static int
ctl_offline(struct mqtt_priv *p, const char *addr)
{
	struct ctl *c = ctl_find(p, addr, strlen(addr));

	return c != NULL && c->offline;
}

/* Remember the controller at addr[0..len) as offline or not. */
static void
ctl_set(struct mqtt_priv *p, const char *addr, size_t len, int offline)
{
	struct ctl *c = ctl_find(p, addr, len), *nv;
	char *s;

	if (c != NULL) {
		c->offline = offline;
		return;
	}
	if (!offline || p->nctl >= M_MAX_CTL)
		return;		/* unknown means not known to be offline */
	if (p->nctl == p->actl) {
		size_t na = p->actl ? p->actl * 2 : 16;

		if ((nv = realloc(p->ctl, na * sizeof(*nv))) == NULL)
			return;
		p->ctl = nv;
		p->actl = na;
	}
	if ((s = strndup(addr, len)) == NULL)
		return;
	p->ctl[p->nctl].addr = s;
	p->ctl[p->nctl].offline = offline;
	p->nctl++;
}

/* ------------------------------------------------------------------ */
/* init                                                                */
/* ------------------------------------------------------------------ */

/* A string key: 1..max bytes; printable ASCII without spaces if ascii. */
static int
get_text(const struct cfg_node *cfg, const char *key, size_t max, int ascii,
    char **out, struct diag_list *diags)
{
	const char *s = NULL;
	const unsigned char *u;

	if (cfg_get_str(cfg, key, &s, diags) != 0 || s == NULL)
		return 0;
	if (s[0] == '\0' || strlen(s) > max)
		return cfg_error(diags, cfg_node_get(cfg, key),
		    "%s must be 1 to %zu bytes", key, max);
	for (u = (const unsigned char *)s; ascii && *u != '\0'; u++)
		if (*u <= 0x20 || *u >= 0x7f)
			return cfg_error(diags, cfg_node_get(cfg, key),
			    "%s must be printable ASCII without spaces", key);
	free(*out);
	if ((*out = strdup(s)) == NULL)
		return ENG_ENOMEM;
	return 0;
}

/* A topic prefix: no wildcards, no NUL; empty allowed. */
static int
get_prefix(const struct cfg_node *cfg, const char *key, int need_slash,
    char **out, struct diag_list *diags)
{
	const struct cfg_node *n = cfg_node_get(cfg, key);
	const char *s = NULL;

	if (cfg_get_str(cfg, key, &s, diags) != 0 || s == NULL)
		return 0;
	if (strlen(s) > 512)
		return cfg_error(diags, n, "%s is longer than 512 bytes", key);
	if (strpbrk(s, "+#") != NULL)
		return cfg_error(diags, n, "%s must not contain the MQTT "
		    "wildcards '+' or '#'", key);
	if (need_slash && (s[0] == '\0' || s[strlen(s) - 1] != '/'))
		return cfg_error(diags, n, "%s must end with '/' (each "
		    "controller's status is on %s<address>)", key, key);
	free(*out);
	if ((*out = strdup(s)) == NULL)
		return ENG_ENOMEM;
	return 0;
}

static int
get_password(struct channel *ch, const struct cfg_node *cfg,
    struct diag_list *diags)
{
	struct mqtt_priv *p = ch->priv;
	const struct cfg_node *pw = cfg_node_get(cfg, "password"),
	    *pf = cfg_node_get(cfg, "password_file");
	char *path = NULL;
	int rv = 0;

	if (pw != NULL && pf != NULL)
		return cfg_error(diags, pf, "give password or password_file, "
		    "not both");
	if ((pw != NULL || pf != NULL) && cfg_node_get(cfg, "username") ==
	    NULL)
		return cfg_error(diags, pw != NULL ? pw : pf,
		    "a password needs a username");
	if (pf != NULL) {
		if (cfg_get_path(cfg, "password_file", ch->env->data_dir,
		    &path, diags) == 0 && path != NULL)
			rv = cfg_read_secret_file(cfg_node_get(cfg,
			    "password_file"), path, "password", 256, &p->pass,
			    diags);
		free(path);
		return rv;
	}
	return get_text(cfg, "password", 256, 0, &p->pass, diags);
}

static void
on_connect(struct mosquitto *m, void *obj, int rc, int flags,
    const mosquitto_property *props);
static void
on_disconnect(struct mosquitto *m, void *obj, int rc,
    const mosquitto_property *props);
static void
on_publish(struct mosquitto *m, void *obj, int mid, int rc,
    const mosquitto_property *props);
static void
on_subscribe(struct mosquitto *m, void *obj, int mid, int n,
    const int *granted, const mosquitto_property *props);
static void
on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg,
    const mosquitto_property *props);

/*
 * A fresh libmosquitto client (no I/O).  Each connection gets one, so
 * that nothing the last one had queued is sent again by the library
 * after a reconnection: what was not acknowledged was reported RETRY
 * and the engine offers it again.
 */
static int
new_client(struct mqtt_priv *p)
{
	struct mosquitto *m;

	if ((m = mosquitto_new(p->client_id, true, p)) == NULL)
		return ENG_ENOMEM;
	if (mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION,
	    MQTT_PROTOCOL_V5) != MOSQ_ERR_SUCCESS ||
	    (p->user != NULL && mosquitto_username_pw_set(m, p->user,
	    p->pass) != MOSQ_ERR_SUCCESS)) {
		mosquitto_destroy(m);
		return ENG_ENOMEM;
	}
	mosquitto_connect_v5_callback_set(m, on_connect);
	mosquitto_disconnect_v5_callback_set(m, on_disconnect);
	mosquitto_publish_v5_callback_set(m, on_publish);
	mosquitto_subscribe_v5_callback_set(m, on_subscribe);
	mosquitto_message_v5_callback_set(m, on_message);
	if (p->mosq != NULL)
		mosquitto_destroy(p->mosq);
	p->mosq = m;
	p->fresh = 1;
	return 0;
}

static int
mqtt_init(struct channel *ch, const struct cfg_node *cfg,
    struct diag_list *diags)
{
	struct mqtt_priv *p = ch->priv;
	size_t n0 = diags->nerrors, len;
	int rv = 0, r;

	p->ch = ch;
	p->port = 1883;
	p->qos = 1;
	p->keepalive_ms = 30000;
	p->ack_timeout_ms = 30000;
	p->connect_timeout_ms = 10000;
	p->backoff_ms = M_BACKOFF_MIN;
	(void)cfg_check_keys(cfg, keys, diags);
	r = get_text(cfg, "host", 255, 1, &p->host, diags);
	if (r == 0 && p->host == NULL && (p->host = strdup("127.0.0.1")) ==
	    NULL)
		r = ENG_ENOMEM;
	if (r == ENG_ENOMEM)
		rv = r;
	(void)cfg_get_int(cfg, "port", 1, 65535, &p->port, diags);
	(void)cfg_get_int(cfg, "qos", 0, 2, &p->qos, diags);
	(void)cfg_get_duration_ms(cfg, "keepalive", 5000, 3600000,
	    &p->keepalive_ms, diags);
	(void)cfg_get_duration_ms(cfg, "ack_timeout", 1000, 3600000,
	    &p->ack_timeout_ms, diags);
	(void)cfg_get_duration_ms(cfg, "connect_timeout", 1000, 300000,
	    &p->connect_timeout_ms, diags);
	if (get_text(cfg, "username", 256, 0, &p->user, diags) ==
	    ENG_ENOMEM || get_password(ch, cfg, diags) == ENG_ENOMEM ||
	    get_text(cfg, "client_id", 128, 1, &p->client_id, diags) ==
	    ENG_ENOMEM ||
	    get_prefix(cfg, "topic_prefix", 0, &p->topic_prefix, diags) ==
	    ENG_ENOMEM ||
	    get_prefix(cfg, "status_topic", 1, &p->status_prefix, diags) ==
	    ENG_ENOMEM)
		rv = ENG_ENOMEM;
	{
		const char *fo = NULL;

		(void)cfg_get_str(cfg, "failover", &fo, diags);
	}
	if (cfg_node_get(cfg, "status_topic") == NULL &&
	    cfg_node_get(cfg, "ack_timeout") != NULL)
		(void)cfg_warn(diags, cfg_node_get(cfg, "ack_timeout"),
		    "ack_timeout has no effect without status_topic");
	if (rv == 0 && p->client_id == NULL) {
		len = strlen(ch->name) + 6;
		if ((p->client_id = malloc(len)) == NULL)
			rv = ENG_ENOMEM;
		else
			(void)snprintf(p->client_id, len, "gong-%s", ch->name);
	}
	if (rv == 0 && p->topic_prefix == NULL &&
	    (p->topic_prefix = strdup("")) == NULL)
		rv = ENG_ENOMEM;
	if (rv == 0 && diags->nerrors > n0)
		rv = ENG_EINVAL;
	if (rv != 0)
		return rv;

	pthread_mutex_lock(&lib_mu);
	r = mosquitto_lib_init();
	pthread_mutex_unlock(&lib_mu);
	if (r != MOSQ_ERR_SUCCESS)
		return ENG_ENOMEM;
	p->lib = 1;
	if ((rv = new_client(p)) != 0)
		return rv;
	(void)snprintf(p->detail, sizeof(p->detail), "not connected yet");
	return 0;
}

/* ------------------------------------------------------------------ */
/* send                                                                */
/* ------------------------------------------------------------------ */

/* The JSON command for m (malloc'd), or NULL on ENOMEM. */
static char *
command(const struct chan_msg *m)
{
	json_t *j = NULL;
	char *s;

	if (m->payload != NULL) {
		j = json_loads(m->payload, JSON_REJECT_DUPLICATES, NULL);
		if (j != NULL && !json_is_object(j)) {
			json_decref(j);
			j = NULL;
		}
	}
	if (j == NULL && (j = json_object()) == NULL)
		return NULL;
	if (json_object_set_new(j, "delivery",
	    json_integer((json_int_t)m->delivery_id)) != 0 ||
	    json_object_set_new(j, "zone", json_string(m->to)) != 0 ||
	    (json_object_get(j, "text") == NULL && json_object_set_new(j,
	    "text", json_string(m->text != NULL ? m->text : "")) != 0) ||
	    (json_object_get(j, "repeat") == NULL && json_object_set_new(j,
	    "repeat", json_integer(1)) != 0) ||
	    json_object_set_new(j, "priority", json_integer(m->priority)) !=
	    0) {
		json_decref(j);
		return NULL;
	}
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return s;
}

/* Why the address cannot be used, or NULL. */
static const char *
bad_address(const struct mqtt_priv *p, const char *to)
{
	size_t len;

	if (to == NULL || to[0] == '\0')
		return "no device address";
	len = strlen(to);
	if (len + strlen(p->topic_prefix) > M_MAX_TOPIC ||
	    (p->status_prefix != NULL &&
	    len + strlen(p->status_prefix) > M_MAX_TOPIC))
		return "device address too long for an MQTT topic";
	if (mosquitto_validate_utf8(to, (int)len) != MOSQ_ERR_SUCCESS ||
	    strpbrk(to, "+#") != NULL)
		return "device address is not a valid MQTT topic";
	return NULL;
}

static int
add(struct mqtt_priv *p, const struct chan_msg *m)
{
	struct mmsg *e;
	const char *why;
	size_t tl;

	if (p->n == p->a) {
		size_t na = p->a ? p->a * 2 : 32;
		struct mmsg *nv = realloc(p->m, na * sizeof(*nv));

		if (nv == NULL)
			return ENG_ETEMP;
		p->m = nv;
		p->a = na;
	}
	e = &p->m[p->n];
	memset(e, 0, sizeof(*e));
	e->id = m->delivery_id;
	e->deadline_ms = m->deadline_ms;
	if ((why = bad_address(p, m->to)) != NULL) {
		e->fail = why;
	} else {
		tl = strlen(p->topic_prefix) + strlen(m->to) + 1;
		e->addr = strdup(m->to);
		e->topic = malloc(tl);
		e->body = command(m);
		if (e->addr == NULL || e->topic == NULL || e->body == NULL) {
			mmsg_release(e);
			return ENG_ETEMP;
		}
		(void)snprintf(e->topic, tl, "%s%s", p->topic_prefix, m->to);
		if (strlen(e->body) > M_MAX_BODY)
			e->fail = "command too large";
	}
	e->state = MQ_QUEUED;
	p->n++;
	p->live++;
	return 0;
}

static int
mqtt_send(struct channel *ch, const struct chan_msg *m, size_t n)
{
	struct mqtt_priv *p = ch->priv;
	size_t i, n0 = p->n;

	if (p->mosq == NULL || n > M_MAX_BATCH)
		return ENG_EINVAL;
	if (p->live + n > M_MAX_QUEUED)
		return ENG_ETEMP;
	for (i = 0; i < n; i++) {
		if (add(p, &m[i]) != 0) {
			/* Out of memory: take back this call's messages. */
			while (p->n > n0) {
				mmsg_release(&p->m[--p->n]);
				p->live--;
			}
			return ENG_ETEMP;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* the connection                                                      */
/* ------------------------------------------------------------------ */

/*
 * The connection is gone (or never came): queued and unacknowledged
 * messages are reported (RETRY, or FAILED when the broker refused us),
 * and the next attempt is scheduled with backoff.
 */
static void
conn_down(struct mqtt_priv *p, const char *why, int refused)
{
	char err[192];
	size_t i;

	p->conn = C_DOWN;
	p->up = 0;
	set_detail(p, why);
	p->connect_at = p->now + p->backoff_ms;
	p->backoff_ms *= 2;
	if (p->backoff_ms > M_BACKOFF_MAX)
		p->backoff_ms = M_BACKOFF_MAX;
	for (i = 0; i < p->n; i++) {
		struct mmsg *e = &p->m[i];

		if (e->state == MQ_QUEUED && e->fail == NULL) {
			(void)snprintf(err, sizeof(err), "%s: %s", refused ?
			    "broker refused the connection" :
			    "broker unreachable", why);
			finish(p, e, refused ? CHAN_R_FAILED : CHAN_R_RETRY,
			    err);
		} else if (e->state == MQ_PUBLISHED) {
			(void)snprintf(err, sizeof(err), "connection to the "
			    "broker lost before PUBACK: %s", why);
			finish(p, e, CHAN_R_RETRY, err);
		}
	}
}

static void
start_connect(struct mqtt_priv *p)
{
	int rc;

	if (!p->fresh)
		(void)new_client(p);	/* or reuse the old one */
	p->fresh = 0;
	errno = 0;
	rc = mosquitto_connect_bind_async(p->mosq, p->host, (int)p->port,
	    (int)(p->keepalive_ms / 1000), NULL);
	if (rc == MOSQ_ERR_SUCCESS) {
		p->conn = C_CONNECTING;
		p->connect_started = p->now;
		return;
	}
	conn_down(p, rc == MOSQ_ERR_ERRNO ? strerror(errno) :
	    mosquitto_strerror(rc), 0);
}

static void
on_connect(struct mosquitto *m, void *obj, int rc, int flags,
    const mosquitto_property *props)
{
	struct mqtt_priv *p = obj;

	(void)flags;
	(void)props;
	if (rc != 0) {
		/* The broker closes the connection after a refusal. */
		conn_down(p, mosquitto_reason_string(rc),
		    rc == MQTT_RC_BAD_USERNAME_OR_PASSWORD ||
		    rc == MQTT_RC_NOT_AUTHORIZED || rc == 4 || rc == 5);
		(void)mosquitto_disconnect(m);
		return;
	}
	p->conn = C_UP;
	p->up = 1;
	p->detail[0] = '\0';
	p->backoff_ms = M_BACKOFF_MIN;
	if (p->status_prefix == NULL) {
		p->conn = C_READY;
		return;
	}
	{
		char sub[M_MAX_TOPIC + 2];

		(void)snprintf(sub, sizeof(sub), "%s#", p->status_prefix);
		if (mosquitto_subscribe_v5(m, &p->sub_mid, sub, 1, 0, NULL) !=
		    MOSQ_ERR_SUCCESS)
			p->conn = C_READY;	/* publish anyway */
	}
}

static void
on_subscribe(struct mosquitto *m, void *obj, int mid, int n,
    const int *granted, const mosquitto_property *props)
{
	struct mqtt_priv *p = obj;

	(void)m;
	(void)props;
	if (mid != p->sub_mid || p->conn != C_UP)
		return;
	if (n < 1 || granted[0] > 2)
		(void)snprintf(p->detail, sizeof(p->detail), "the broker "
		    "refused the subscription to %s#", p->status_prefix);
	p->conn = C_READY;
}

static void
on_disconnect(struct mosquitto *m, void *obj, int rc,
    const mosquitto_property *props)
{
	struct mqtt_priv *p = obj;

	(void)m;
	(void)props;
	if (p->conn == C_DOWN)
		return;
	conn_down(p, rc == MOSQ_ERR_ERRNO && errno != 0 ? strerror(errno) :
	    rc == 0 ? "disconnected" : mosquitto_strerror(rc), 0);
}

static struct mmsg *
by_mid(struct mqtt_priv *p, int mid)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (p->m[i].state == MQ_PUBLISHED && p->m[i].mid == mid)
			return &p->m[i];
	return NULL;
}

static void
on_publish(struct mosquitto *m, void *obj, int mid, int rc,
    const mosquitto_property *props)
{
	struct mqtt_priv *p = obj;
	struct mmsg *e = by_mid(p, mid);
	char err[M_MAX_TOPIC + 64];

	(void)m;
	(void)props;
	if (e == NULL)
		return;		/* already finished (offline, lost) */
	if (rc == MQTT_RC_NO_MATCHING_SUBSCRIBERS) {
		(void)snprintf(err, sizeof(err), "no controller is subscribed "
		    "to %s", e->topic);
		finish(p, e, CHAN_R_FAILED, err);
		return;
	}
	if (rc >= 128) {
		(void)snprintf(err, sizeof(err), "broker refused the command: "
		    "%s", mosquitto_reason_string(rc));
		finish(p, e, rc == MQTT_RC_QUOTA_EXCEEDED ||
		    rc == MQTT_RC_IMPLEMENTATION_SPECIFIC ||
		    rc == MQTT_RC_UNSPECIFIED ? CHAN_R_RETRY : CHAN_R_FAILED,
		    err);
		return;
	}
	if (p->status_prefix == NULL) {
		finish(p, e, CHAN_R_SENT, NULL);
		return;
	}
	report(p->ch, e->id, CHAN_R_SENT, NULL);
	e->state = MQ_WAITING;
	e->ack_by = p->now + p->ack_timeout_ms;
}

/* Every unfinished delivery to addr[0..len) fails: its controller is
 * offline. */
static void
fail_offline(struct mqtt_priv *p, const char *addr, size_t len)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		struct mmsg *e = &p->m[i];

		if (e->state == MQ_DONE || e->addr == NULL ||
		    strlen(e->addr) != len || memcmp(e->addr, addr, len) != 0)
			continue;
		finish(p, e, CHAN_R_FAILED, "controller offline");
	}
}

/* A status message {"delivery": ID, "status": …, "error": …}. */
static void
status_json(struct mqtt_priv *p, const char *addr, size_t alen,
    const char *payload, size_t plen)
{
	json_t *j, *jd, *js, *je;
	const char *st;
	char err[160];
	int64_t id;
	size_t i;

	if ((j = json_loadb(payload, plen, JSON_REJECT_DUPLICATES,
	    NULL)) == NULL)
		return;
	jd = json_object_get(j, "delivery");
	js = json_object_get(j, "status");
	je = json_object_get(j, "error");
	if (!json_is_integer(jd) || (js != NULL && !json_is_string(js)))
		goto out;
	id = (int64_t)json_integer_value(jd);
	st = js != NULL ? json_string_value(js) : "done";
	for (i = 0; i < p->n; i++) {
		struct mmsg *e = &p->m[i];

		if (e->id != id || (e->state != MQ_PUBLISHED &&
		    e->state != MQ_WAITING) || strlen(e->addr) != alen ||
		    memcmp(e->addr, addr, alen) != 0)
			continue;
		if (strcmp(st, "failed") == 0 || strcmp(st, "error") == 0) {
			(void)snprintf(err, sizeof(err), "controller: %.120s",
			    json_is_string(je) ? json_string_value(je) :
			    st);
			finish(p, e, CHAN_R_FAILED, err);
			break;
		}
		if (e->state == MQ_PUBLISHED)
			report(p->ch, e->id, CHAN_R_SENT, NULL);
		finish(p, e, CHAN_R_DELIVERED, NULL);
		break;
	}
out:
	json_decref(j);
}

static void
on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg,
    const mosquitto_property *props)
{
	struct mqtt_priv *p = obj;
	const char *addr, *pl = msg->payload;
	size_t plen = msg->payloadlen > 0 ? (size_t)msg->payloadlen : 0;
	size_t pre, alen;

	(void)m;
	(void)props;
	if (p->status_prefix == NULL || msg->topic == NULL)
		return;
	pre = strlen(p->status_prefix);
	if (strncmp(msg->topic, p->status_prefix, pre) != 0)
		return;
	addr = msg->topic + pre;
	alen = strlen(addr);
	if (alen == 0)
		return;
	while (plen > 0 && (pl[plen - 1] == '\n' || pl[plen - 1] == '\r' ||
	    pl[plen - 1] == ' '))
		plen--;
	if (plen == 7 && memcmp(pl, "offline", 7) == 0) {
		ctl_set(p, addr, alen, 1);
		fail_offline(p, addr, alen);
		return;
	}
	ctl_set(p, addr, alen, 0);
	if (plen > 0 && pl[0] == '{')
		status_json(p, addr, alen, pl, plen);
}

/* Drive the socket without blocking. */
static void
io(struct mqtt_priv *p)
{
	struct pollfd pfd;
	int fd, i, rc = MOSQ_ERR_SUCCESS;

	if ((fd = mosquitto_socket(p->mosq)) < 0) {
		if (p->conn != C_DOWN)
			conn_down(p, "no connection", 0);
		return;
	}
	pfd.fd = fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (poll(&pfd, 1, 0) < 0)
		return;
	errno = 0;
	/* Read everything there is (a SUBACK comes with the retained
	 * statuses right behind it), a bounded number of packets. */
	for (i = 0; i < 256 && (pfd.revents & (POLLIN | POLLERR | POLLHUP));
	    i++) {
		rc = mosquitto_loop_read(p->mosq, 1);
		if (rc != MOSQ_ERR_SUCCESS || p->conn == C_DOWN ||
		    (fd = mosquitto_socket(p->mosq)) < 0)
			break;
		pfd.fd = fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, 0) < 0)
			break;
	}
	pfd.revents = 0;
	pfd.events = POLLOUT;
	if (rc == MOSQ_ERR_SUCCESS && p->conn != C_DOWN &&
	    (fd = mosquitto_socket(p->mosq)) >= 0 &&
	    (mosquitto_want_write(p->mosq) || p->conn == C_CONNECTING)) {
		pfd.fd = fd;
		(void)poll(&pfd, 1, 0);
	}
	if (rc == MOSQ_ERR_SUCCESS && p->conn != C_DOWN &&
	    (pfd.revents & POLLOUT) && mosquitto_socket(p->mosq) >= 0)
		rc = mosquitto_loop_write(p->mosq, 1);
	if (rc == MOSQ_ERR_SUCCESS && p->conn != C_DOWN &&
	    mosquitto_socket(p->mosq) >= 0)
		rc = mosquitto_loop_misc(p->mosq);
	if (rc != MOSQ_ERR_SUCCESS && p->conn != C_DOWN)
		conn_down(p, rc == MOSQ_ERR_ERRNO && errno != 0 ?
		    strerror(errno) : mosquitto_strerror(rc), 0);
}

static void
publish(struct mqtt_priv *p, struct mmsg *e)
{
	mosquitto_property *props = NULL;
	int64_t left;
	int rc;

	if (e->deadline_ms > 0) {
		left = (e->deadline_ms - p->now + 999) / 1000;
		if (left < 1)
			left = 1;
		if (left > 0x7fffffff)
			left = 0x7fffffff;
		if (mosquitto_property_add_int32(&props,
		    MQTT_PROP_MESSAGE_EXPIRY_INTERVAL, (uint32_t)left) !=
		    MOSQ_ERR_SUCCESS)
			return;		/* tried again next poll */
	}
	e->state = MQ_PUBLISHED;	/* before: QoS 0 reports at once */
	rc = mosquitto_publish_v5(p->mosq, &e->mid, e->topic,
	    (int)strlen(e->body), e->body, (int)p->qos, false, props);
	mosquitto_property_free_all(&props);
	if (rc == MOSQ_ERR_NO_CONN) {
		e->state = MQ_QUEUED;
		return;
	}
	if (rc != MOSQ_ERR_SUCCESS && e->state == MQ_PUBLISHED)
		finish(p, e, rc == MOSQ_ERR_INVAL ||
		    rc == MOSQ_ERR_PAYLOAD_SIZE ||
		    rc == MOSQ_ERR_MALFORMED_UTF8 ||
		    rc == MOSQ_ERR_OVERSIZE_PACKET ||
		    rc == MOSQ_ERR_QOS_NOT_SUPPORTED ? CHAN_R_FAILED :
		    CHAN_R_RETRY, mosquitto_strerror(rc));
}

/* ------------------------------------------------------------------ */
/* poll                                                                */
/* ------------------------------------------------------------------ */

static int64_t
mqtt_poll(struct channel *ch, int64_t now_ms)
{
	struct mqtt_priv *p = ch->priv;
	int64_t wish;
	size_t i, n;
	char err[64];

	if (p->mosq == NULL)
		return 1000;
	p->now = now_ms;
	/* Refused by send, expired, or to a controller known offline. */
	for (i = 0; i < p->n; i++) {
		struct mmsg *e = &p->m[i];

		if (e->state != MQ_QUEUED)
			continue;
		if (e->fail != NULL)
			finish(p, e, CHAN_R_FAILED, e->fail);
		else if (e->deadline_ms > 0 && now_ms > e->deadline_ms)
			finish(p, e, CHAN_R_FAILED,
			    "expired before it could be sent");
		else if (ctl_offline(p, e->addr))
			finish(p, e, CHAN_R_FAILED, "controller offline");
	}
	if (p->conn == C_DOWN && now_ms >= p->connect_at)
		start_connect(p);
	if (p->conn == C_CONNECTING &&
	    now_ms - p->connect_started > p->connect_timeout_ms) {
		(void)snprintf(err, sizeof(err), "no answer within %llds",
		    (long long)(p->connect_timeout_ms / 1000));
		conn_down(p, err, 0);
	}
	if (p->conn != C_DOWN)
		io(p);
	if (p->conn == C_READY) {
		n = p->n;
		for (i = 0; i < n && p->conn == C_READY; i++)
			if (p->m[i].state == MQ_QUEUED)
				publish(p, &p->m[i]);
		io(p);		/* write what was queued */
	}
	for (i = 0; i < p->n; i++) {
		struct mmsg *e = &p->m[i];

		if (e->state == MQ_WAITING && now_ms > e->ack_by) {
			(void)snprintf(err, sizeof(err), "controller did not "
			    "confirm within %llds",
			    (long long)(p->ack_timeout_ms / 1000));
			finish(p, e, CHAN_R_FAILED, err);
		}
	}
	compact(p);
	if (p->conn == C_DOWN) {
		wish = p->connect_at - now_ms;
		return wish < 1 ? 1 : wish > 1000 ? 1000 : wish;
	}
	if (p->conn == C_CONNECTING || p->live > 0)
		return 10;
	return 50;
}

static void
mqtt_health(const struct channel *ch, struct chan_health *h)
{
	const struct mqtt_priv *p = ch->priv;
	size_t i;

	memset(h, 0, sizeof(*h));
	h->up = p->up;
	for (i = 0; i < p->n; i++) {
		if (p->m[i].state == MQ_QUEUED)
			h->queued++;
		else if (p->m[i].state != MQ_DONE)
			h->in_flight++;
	}
	(void)snprintf(h->detail, sizeof(h->detail), "%s", p->detail);
}

static void
mqtt_shutdown(struct channel *ch)
{
	struct mqtt_priv *p = ch->priv;
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->n; i++) {
		/* Waiting ones were reported SENT: nothing more to say. */
		if (p->m[i].state == MQ_QUEUED ||
		    p->m[i].state == MQ_PUBLISHED)
			report(ch, p->m[i].id, CHAN_R_RETRY, "shut down");
		mmsg_release(&p->m[i]);
	}
	free(p->m);
	p->m = NULL;
	p->n = p->a = p->live = 0;
	for (i = 0; i < p->nctl; i++)
		free(p->ctl[i].addr);
	free(p->ctl);
	p->ctl = NULL;
	p->nctl = p->actl = 0;
	if (p->mosq != NULL) {
		if (p->conn != C_DOWN)
			(void)mosquitto_disconnect(p->mosq);
		mosquitto_destroy(p->mosq);
		p->mosq = NULL;
	}
	if (p->lib) {
		pthread_mutex_lock(&lib_mu);
		(void)mosquitto_lib_cleanup();
		pthread_mutex_unlock(&lib_mu);
		p->lib = 0;
	}
	free(p->host);
	free(p->user);
	if (p->pass != NULL)
		explicit_bzero(p->pass, strlen(p->pass));
	free(p->pass);
	free(p->client_id);
	free(p->topic_prefix);
	free(p->status_prefix);
	p->host = p->user = p->pass = p->client_id = NULL;
	p->topic_prefix = p->status_prefix = NULL;
	p->conn = C_DOWN;
}

static size_t
mqtt_offline(const struct channel *ch, char (*addr)[CHAN_OFFLINE_ADDR],
    size_t max)
{
	const struct mqtt_priv *p = ch->priv;
	size_t i, n = 0;

	for (i = 0; i < p->nctl && n < max; i++)
		if (p->ctl[i].offline)
			(void)snprintf(addr[n++], CHAN_OFFLINE_ADDR, "%s",
			    p->ctl[i].addr);
	return n;
}

const struct channel_ops chan_mqtt_ops = {
	.name = "mqtt",
	.version = CHANNEL_OPS_V1,
	.priv_size = sizeof(struct mqtt_priv),
	.caps = CHAN_CAP_AREA | CHAN_CAP_RECEIPTS,
	.max_batch = M_MAX_BATCH,
	.addr = CHAN_ADDR_DEVICE,
	.init = mqtt_init,
	.send = mqtt_send,
	.poll = mqtt_poll,
	.inbound = NULL,
	.health = mqtt_health,
	.shutdown = mqtt_shutdown,
	.offline = mqtt_offline,
};
