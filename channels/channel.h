/*
 * channels/channel.h - the channel driver contract.
 *
 * A channel is a configured instance of a driver ("sms-main" of type
 * "kannel").  The engine's dispatcher owns every channel and drives each
 * from one thread of its own (engine/chanrun.h): init, send, poll,
 * health, offline and shutdown are never called concurrently for one
 * channel, and env->report is called from that thread.  inbound (HTTP
 * callbacks: receipts, replies) runs on an HTTP server thread and
 * therefore only reads what init set up.
 *
 * The rules, in the manner of Kannel's smscconn_p.h:
 *
 *  1. init MUST validate its whole config section (reject unknown keys,
 *     report every error with file:line through diags) and MUST NOT do
 *     network I/O.  It fills ch->priv (allocated and zeroed by the engine,
 *     priv_size bytes).
 *  2. send MUST NOT block.  It copies what it keeps from the messages
 *     (they are borrowed for the call) and queues them.  It returns 0, or
 *     ENG_ETEMP when its queue is full (the engine offers them again
 *     later; no attempt is counted), or ENG_EINVAL for a batch it cannot
 *     take at all (programming error).  A batch holds at most max_batch
 *     messages, all with the same text, subject and payload.
 *  3. For every message accepted by send, the driver MUST report exactly
 *     one of CHAN_R_SENT, CHAN_R_RETRY or CHAN_R_FAILED through
 *     env->report, from poll (never from send), even when it is shut down
 *     before it could try (then CHAN_R_RETRY).  Later receipts (through
 *     poll or inbound) MAY add CHAN_R_DELIVERED or CHAN_R_FAILED.
 *  4. Temporary failures (timeouts, connection refused, 5xx, 429, a
 *     gateway's "too fast" code) are CHAN_R_RETRY, with retry_after_ms
 *     when the gateway says how long; permanent ones (bad number, bad
 *     signature, refused credentials) CHAN_R_FAILED, with the gateway's
 *     words in error.  When in doubt, RETRY: a warning must not be lost.
 *  5. poll does the I/O (libcurl multi, libmosquitto, …) without blocking
 *     for long (at most a few milliseconds), and returns how many
 *     milliseconds it would like to sleep before the next poll (the
 *     engine may call it sooner).  Time comes only from now_ms.
 *  6. The message's delivery_id is its idempotency key: a driver SHOULD
 *     pass it to gateways that de-duplicate (as a client message id) and
 *     MUST put it where receipts will bring it back (Kannel's dlr-url).
 *  7. shutdown is idempotent, reports what is still queued as
 *     CHAN_R_RETRY, releases priv's contents, and never frees ch.
 *  8. The ops table only grows at its end (version); a driver sets
 *     version to CHANNEL_OPS_V1.
 *  9. The key "failover" (another channel's name) belongs to the engine:
 *     a delivery that ends failed on this channel is written again for
 *     the partner (engine/dispatch.c).  A driver that may fail over
 *     lists it among its keys and otherwise ignores it.
 * 10. So do "rate_limit" ("N/<window>", e.g. "500/s": a token bucket the
 *     engine applies before send) and "rate_count" (messages, or
 *     segments: SMS parts as rendered).  Every driver lists
 *     CHAN_ENGINE_KEYS among its keys.
 */
#ifndef CHANNELS_CHANNEL_H
#define CHANNELS_CHANNEL_H

#include <stddef.h>
#include <stdint.h>

#include "engine/diag.h"
#include "engine/err.h"

struct cfg_node;
struct eng_clock;
struct channel;

#define CHANNEL_OPS_V1 1

#define CHAN_OFFLINE_ADDR	96	/* bytes of an offline device address */

/* The config keys of a channel that belong to the engine (rules 9, 10). */
#define CHAN_ENGINE_KEYS "failover", "rate_limit", "rate_count"

/* Capabilities a driver declares. */
#define CHAN_CAP_PERSON		0x01	/* addresses people */
#define CHAN_CAP_AREA		0x02	/* addresses devices / area groups */
#define CHAN_CAP_BATCH		0x04	/* one request, many recipients */
#define CHAN_CAP_RECEIPTS	0x08	/* reports delivery to the device */
#define CHAN_CAP_INBOUND	0x10	/* takes HTTP callbacks */
/* poll waits on the driver's own sockets (a few ms at most) while it has
 * requests in flight, so the engine may call it again at once instead of
 * sleeping the wish it returned (libcurl drivers). */
#define CHAN_CAP_POLL_WAITS	0x20

/* What a recipient's address is, for person-addressed channels. */
enum chan_addr {
	CHAN_ADDR_PHONE = 1,	/* Chinese mobile or E.164 */
	CHAN_ADDR_EMAIL,
	CHAN_ADDR_WECOM,
	CHAN_ADDR_DINGTALK,
	CHAN_ADDR_TELEGRAM,
	CHAN_ADDR_WECHAT,
	CHAN_ADDR_DEVICE,	/* a device's address from devices.csv */
};

struct chan_msg {
	int64_t delivery_id;	/* unique; idempotency key */
	const char *to;		/* address, of the channel's addr kind */
	const char *subject;	/* e-mail subject, card title; may be NULL */
	const char *text;	/* UTF-8 body */
	const char *payload;	/* JSON for devices (zone, repeat); or NULL */
	int priority;		/* 0 (blue) … 9 (red, answer required) */
	int64_t deadline_ms;	/* do not deliver after (expiry); 0: none */
	const char *ack_code;	/* answer code, or NULL */
	const char *ack_url;	/* answer link, or NULL */
};

enum chan_result {
	CHAN_R_SENT = 1,	/* the gateway accepted it */
	CHAN_R_DELIVERED,	/* receipt: it reached the person / device */
	CHAN_R_RETRY,		/* temporary failure: try again */
	CHAN_R_FAILED,		/* permanent failure for this recipient */
};

struct chan_report {
	int64_t delivery_id;
	enum chan_result result;
	const char *gateway_id;	/* the gateway's message id, or NULL */
	const char *error;	/* what went wrong, or NULL */
	int64_t retry_after_ms;	/* the gateway's wish; 0: engine backoff */
	int segments;		/* SMS parts sent; 0 unknown */
};

/* What the engine gives a channel; borrowed, valid until shutdown. */
struct chan_env {
	const char *data_dir;
	/* Base URL of this channel's HTTP callbacks, e.g.
	 * "http://127.0.0.1:8080/cb/sms-main" (no trailing slash). */
	const char *callback_base;
	const struct eng_clock *clock;
	void (*report)(void *engine, struct channel *ch,
	    const struct chan_report *r);
	void *engine;
};

struct channel {
	const char *name;		/* the config's name */
	const struct channel_ops *ops;
	void *priv;			/* priv_size bytes, zeroed */
	const struct chan_env *env;
	/* What "to" is for this channel: ops->addr, which init may change
	 * (a file channel standing in for e-mail, say). */
	enum chan_addr addr;
};

/* An HTTP callback into a channel (/cb/{name}/{rest}). */
struct chan_http_req {
	const char *method;
	const char *rest;		/* path after /cb/{name}, may be "" */
	const char *body;		/* may be NULL */
	size_t body_len;
	/* Query argument or header by name (NULL if absent). */
	const char *(*arg)(void *ctx, const char *name);
	const char *(*header)(void *ctx, const char *name);
	void *ctx;
};

enum chan_event_kind {
	CHAN_EV_RECEIPT = 1,	/* delivery_id reached / failed */
	CHAN_EV_REPLY,		/* a person answered (SMS MO, button) */
};

struct chan_event {
	enum chan_event_kind kind;
	int64_t delivery_id;	/* RECEIPT (and REPLY when known), or 0 */
	enum chan_result result;	/* RECEIPT: DELIVERED or FAILED */
	const char *gateway_id;
	const char *error;
	const char *from;	/* REPLY: the sender's address */
	const char *text;	/* REPLY: what they said */
};

struct chan_http_resp {
	int status;			/* default 200 */
	const char *content_type;	/* default text/plain */
	char body[512];
};

struct chan_health {
	int up;			/* last contact with the gateway worked */
	size_t queued;		/* accepted by send, not yet reported */
	size_t in_flight;	/* requests under way */
	char detail[128];	/* last error, or "" */
};

struct channel_ops {
	const char *name;	/* config "type", e.g. "kannel" */
	unsigned version;	/* CHANNEL_OPS_V1 */
	size_t priv_size;
	unsigned caps;		/* CHAN_CAP_* */
	unsigned max_batch;	/* >= 1 */
	enum chan_addr addr;	/* what "to" is */

	int (*init)(struct channel *ch, const struct cfg_node *cfg,
	    struct diag_list *diags);
	int (*send)(struct channel *ch, const struct chan_msg *msgs,
	    size_t n);
	int64_t (*poll)(struct channel *ch, int64_t now_ms);
	/* May be NULL (no CHAN_CAP_INBOUND).  Turns one HTTP callback into
	 * events through emit; fills resp.  Thread-safe: reads only what
	 * init set up. */
	int (*inbound)(const struct channel *ch,
	    const struct chan_http_req *req,
	    int (*emit)(void *arg, const struct chan_event *ev), void *arg,
	    struct chan_http_resp *resp);
	void (*health)(const struct channel *ch, struct chan_health *h);
	void (*shutdown)(struct channel *ch);
	/* May be NULL.  The device addresses the driver knows to be
	 * unreachable right now (an MQTT controller whose last will said
	 * offline), at most max, each cut to CHAN_OFFLINE_ADDR - 1 bytes;
	 * returns how many it wrote.  Called from the channel's thread,
	 * like health. */
	size_t (*offline)(const struct channel *ch,
	    char (*addr)[CHAN_OFFLINE_ADDR], size_t max);
};

/* The drivers (one file each in channels/). */
extern const struct channel_ops chan_exec_ops;
extern const struct channel_ops chan_file_ops;
extern const struct channel_ops chan_kannel_ops;
extern const struct channel_ops chan_mqtt_ops;
extern const struct channel_ops chan_sms_http_ops;
extern const struct channel_ops chan_smtp_ops;
extern const struct channel_ops chan_voice_http_ops;
extern const struct channel_ops chan_webhook_ops;

/* "phone", "email", … <-> enum chan_addr (0 if unknown). */
const char *chan_addr_name(enum chan_addr a);
enum chan_addr chan_addr_parse(const char *s);

/* A handset number as the SMS and robot drivers send to it: an optional
 * '+' and 3 to 20 digits (NULL: no).  Pure. */
int chan_phone_ok(const char *s);

/* The driver of a config "type", or NULL (channels/registry.c). */
const struct channel_ops *chan_find(const char *type);
/* Every registered driver, NULL-terminated. */
const struct channel_ops *const *chan_drivers(void);

/* Report from a driver (calls env->report). */
static inline void
chan_report(struct channel *ch, const struct chan_report *r)
{
	ch->env->report(ch->env->engine, ch, r);
}

#endif /* CHANNELS_CHANNEL_H */
