/*
 * channels/webhook.c - the "webhook" driver: messaging-app robots and
 * bots over HTTPS (one message, one request).  Config:
 *
 *   - name: township-groups
 *     type: webhook
 *     flavor: dingtalk          # dingtalk, wecom, feishu, telegram,
 *                               # slack (also Mattermost) or json
 *     url: https://oapi.dingtalk.com/robot/send?access_token={key}
 *     secret_file: dingtalk.secret   # or secret: (DingTalk, Feishu "加签")
 *     rate: 20/min               # per endpoint (see below)
 *     concurrency: 2             # requests in flight, 1..64 (default 2)
 *     timeout: 10s               # per request, 100ms..5m (default 10s)
 *     too_fast_delay: 60s        # wait after a "too fast" answer that
 *                                # names no time, 100ms..1h (default 60s)
 *     mention_mobiles: false     # wecom, dingtalk: see Addresses
 *     addr: device               # what "to" is (default: device; for
 *                                # telegram: telegram)
 *
 *   - name: telegram
 *     type: webhook
 *     flavor: telegram
 *     url: https://api.telegram.org       # the Bot API base URL
 *     token_file: telegram.token          # or token: (the bot's token)
 *     webhook_secret_file: tg-hook.secret # or webhook_secret: (updates)
 *     button: "收到 / Received"           # the inline button (default)
 *
 * Files (secret_file, token_file, webhook_secret_file) hold the value on
 * their first line and are relative to the data directory.
 *
 * Addresses.  Group robots (dingtalk, wecom, feishu, slack) post into one
 * group each: they are area-addressed (addr: device), reached as
 * group_chat devices of devices.csv.  If url contains "{key}", the
 * device's address is the robot's key and replaces it (DingTalk's
 * access_token, WeCom's key, the last part of a Feishu or Slack hook
 * path); a key is 1 to 256 of A-Z a-z 0-9 . _ ~ - / (no "..").  Without
 * "{key}" every message goes to url and the device address is only a
 * label.  Robots that sign share the channel's secret.  With
 * mention_mobiles (wecom, dingtalk) the channel addresses people by
 * phone instead (addr: phone): each message goes to url and mentions the
 * recipient's mobile (WeCom's mentioned_mobile_list, DingTalk's
 * at.atMobiles and "@mobile" in the text).  Telegram addresses a chat:
 * the responder's telegram id (addr: telegram) or, with addr: device, a
 * group chat's id from devices.csv; a chat id is an integer or
 * @channelname.  The json flavour posts {"channel", "delivery_id", "to",
 * "subject", "text", "priority", "ack_code", "ack_url", "payload"} to url
 * (or to url with {key} replaced), whatever addr says.
 *
 * What is sent.  DingTalk: {"msgtype":"text","text":{"content"}} (and
 * "at"), with "timestamp" (ms) and "sign" (base64 of HMAC-SHA256, key the
 * secret, over "timestamp\nsecret", URL-encoded) added to the query when
 * a secret is set.  WeCom: {"msgtype":"text","text":{"content",
 * "mentioned_mobile_list"}}.  Feishu: {"msg_type":"text","content":
 * {"text"}} with "timestamp" (s) and "sign" (base64 of HMAC-SHA256, key
 * "timestamp\nsecret", over nothing) when a secret is set.  Slack:
 * {"text"}.  Telegram: POST <url>/bot<token>/sendMessage {"chat_id",
 * "text", "reply_markup":{"inline_keyboard":[[{"text": button,
 * "callback_data":"ack:<delivery id>"}]]}}.
 *
 * Rate.  "N/min", "N/s", "N/h" or "N/<duration>" ("10/500ms"), N of
 * 1..10000 (a bare N is per minute); default 20/min, what the robots
 * allow.  It is a sliding window per endpoint (one robot URL or key, one
 * Telegram chat): never more than N requests started in any window.  One
 * request per endpoint is under way at a time, so that a group reads its
 * messages in order.  Messages wait in the driver (rule 3: nothing is
 * reported before it was tried); so that none waits longer than about
 * half a window, send answers ENG_ETEMP when an endpoint already holds
 * N / 2 (at least 1) messages, or is blocked, or the driver holds 1000.
 *
 * Answers (rule 4).  DingTalk errcode 0, WeCom errcode 0, Feishu code 0,
 * Telegram "ok": true (gateway id: its message_id), Slack and json any
 * 2xx: CHAN_R_SENT.  "Too fast" (DingTalk 130101, WeCom 45009, Feishu
 * 9499 and 11232, HTTP 429 with Retry-After or Telegram's
 * parameters.retry_after): CHAN_R_RETRY after Retry-After /
 * retry_after, else too_fast_delay, and the endpoint is blocked as long:
 * what waits for it is handed back as CHAN_R_RETRY with the same delay.
 * Time-outs, refused connections, 408, 5xx and answers not understood:
 * CHAN_R_RETRY.  Permanent (CHAN_R_FAILED, with the service's words): bad
 * signature, token or keywords (DingTalk 310000, 300001, 300005, 400101,
 * 400102; WeCom 93000; Feishu 19021, 19022, 19024), bad messages
 * (DingTalk 40035, WeCom 40008, 44004, 45002, Feishu 19001) and other
 * 4xx (Telegram 400 "chat not found", 401 bad token, 403 blocked by the
 * user); any other error code: CHAN_R_RETRY.  Addresses that cannot be
 * sent to fail before any request.
 *
 * Telegram updates (the button's answer; issue 5 does the rest): point
 * the bot's setWebhook at <callback_base>/update with secret_token set to
 * webhook_secret.  An update whose X-Telegram-Bot-Api-Secret-Token does
 * not match (or any, without webhook_secret) is refused with 403.  A
 * callback_query whose data is "ack:<id>" becomes a CHAN_EV_REPLY with
 * that delivery id, from the message's chat id (the id gong sent to;
 * the pressing user's id when Telegram gives no message) and text "收到";
 * a text message becomes a CHAN_EV_REPLY without a delivery id.  The
 * button is answered (answerCallbackQuery) from poll: inbound only queues
 * the query's id, under a mutex (the one thing inbound writes).
 */
#include "channels/chan_cfg_int.h"
#include "channels/channel.h"
#include "channels/curlq_int.h"
#include "config/cfg.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WH_RESP_MAX	4096	/* answer bytes kept */
#define WH_MAX_RATE	10000	/* N of rate */
#define WH_MAX_QUEUED	1000	/* messages held by the driver */
#define WH_ANS_MAX	128	/* callback queries waiting for an answer */
#define WH_ANS_ID	72	/* bytes of a callback query id */
#define WH_KEY_MAX	256	/* bytes of a robot key */
#define WH_DEF_BUTTON	"收到 / Received"
#define WH_ANS_TEXT	"已收到 / Received"

enum flavor {
	FL_DINGTALK = 0, FL_WECOM, FL_FEISHU, FL_TELEGRAM, FL_SLACK, FL_JSON
};

static const char *const flavors[] = {
	"dingtalk", "wecom", "feishu", "telegram", "slack", "json", NULL
};

/* An endpoint: one robot (URL or key) or one Telegram chat. */
struct ep {
	char *key;
	int64_t *ts;		/* ring of start times, rate_n slots */
	size_t head, count;	/* oldest slot, slots used */
	int64_t blocked_until;
	size_t queued;		/* messages waiting for it */
	int busy;		/* a request under way */
};

struct wreq {
	struct wreq *next;
	int answer;		/* answerCallbackQuery, not a delivery */
	int64_t id;
	char *to;
	char *text;		/* answer: the callback query id */
	char *subject;
	char *payload;
	char *ack_code;
	char *ack_url;
	int priority;
	int64_t deadline_ms;
	char *ep;		/* endpoint key */
	const char *fail;	/* static: refused before sending */
	char *url;
	char *body;
	struct curl_slist *hdrs;
	CURL *easy;
	size_t resp_len;
	char resp[WH_RESP_MAX];
	char errbuf[CURL_ERROR_SIZE];
};

struct wh_priv {
	/* Config (inbound reads it from other threads; init sets it). */
	enum flavor fl;
	char *url;		/* telegram: the base, no trailing '/' */
	int has_key;		/* url holds {key} */
	char *secret;
	char *token;
	char *hook_secret;
	char *button;
	int mention;
	int64_t rate_n, window_ms;
	int64_t concurrency, timeout_ms, too_fast_ms;
	size_t hold;		/* messages one endpoint may hold */

	/* Callback queries to answer: inbound adds, poll takes. */
	pthread_mutex_t ans_lock;
	int ans_init;
	size_t ans_n;
	char ans[WH_ANS_MAX][WH_ANS_ID];

	/* Dispatcher thread only. */
	CURLM *multi;
	struct wreq *head, *tail;
	size_t nqueued;
	struct wreq **inflight;
	size_t ninflight;
	struct ep **eps;
	size_t neps, aeps;
	int64_t now;		/* of the last poll */
	int up;
	char detail[128];
};

static const char *const keys[] = {
	"name", "type", "flavor", "url", "token", "token_file", "secret",
	"secret_file", "webhook_secret", "webhook_secret_file", "button",
	"rate", "concurrency", "timeout", "too_fast_delay",
	"mention_mobiles", "addr",
	CHAN_ENGINE_KEYS,	/* the engine's (channel.h rules 9, 10) */
	NULL
};

static const char *const addrs[] = {
	"phone", "email", "wecom", "dingtalk", "telegram", "wechat", "device",
	NULL
};

/* Error codes of the robots' JSON answers. */
static const long long dt_fast[] = { 130101, 0 };
static const long long dt_perm[] = {
	310000, 300001, 300005, 400101, 400102, 40035, 0
};
static const long long wc_fast[] = { 45009, 0 };
static const long long wc_perm[] = { 93000, 40008, 44004, 45002, 0 };
static const long long fs_fast[] = { 9499, 11232, 0 };
static const long long fs_perm[] = { 19021, 19022, 19024, 19001, 0 };

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

static int
in_codes(const long long *v, long long c)
{
	for (; *v != 0; v++)
		if (*v == c)
			return 1;
	return 0;
}

static void
set_detail(struct wh_priv *p, const char *s)
{
	size_t n = strlen(s);

	if (n >= sizeof(p->detail))
		n = sizeof(p->detail) - 1;
	memcpy(p->detail, s, n);
	p->detail[n] = '\0';
}

static void
wreq_free(struct wreq *q)
{
	if (q == NULL)
		return;
	if (q->easy != NULL)
		curl_easy_cleanup(q->easy);
	curl_slist_free_all(q->hdrs);
	free(q->to);
	free(q->text);
	free(q->subject);
	free(q->payload);
	free(q->ack_code);
	free(q->ack_url);
	free(q->ep);
	if (q->url != NULL)
		explicit_bzero(q->url, strlen(q->url));	/* bot token */
	free(q->url);
	free(q->body);
	free(q);
}

/* strdup of NULL is NULL; *bad is set when a copy failed. */
static char *
dup_or_null(const char *s, int *bad)
{
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		*bad = 1;
	return d;
}

/* A Telegram chat id: an integer, or @name (5 to 32 of A-Z a-z 0-9 _). */
static int
valid_chat(const char *s)
{
	size_t n = 0;

	if (s == NULL || *s == '\0')
		return 0;
	if (*s == '@') {
		for (s++; *s != '\0'; s++, n++)
			if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' &&
			    *s <= 'z') || (*s >= '0' && *s <= '9') ||
			    *s == '_'))
				return 0;
		return n >= 5 && n <= 32;
	}
	if (*s == '-')
		s++;
	for (; *s != '\0'; s++, n++)
		if (*s < '0' || *s > '9' || n >= 20)
			return 0;
	return n >= 1;
}

/* A robot key put into url: see the header. */
static int
valid_key(const char *s)
{
	size_t n = 0;
	const char *c;

	if (s == NULL || *s == '\0' || *s == '/' || strstr(s, "..") != NULL)
		return 0;
	for (c = s; *c != '\0'; c++, n++)
		if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
		    (*c >= '0' && *c <= '9') || *c == '.' || *c == '_' ||
		    *c == '~' || *c == '-' || *c == '/') || n >= WH_KEY_MAX)
			return 0;
	return 1;
}

/* base64(HMAC-SHA256(key, msg)) into out (>= 45 bytes). */
static void
hmac_b64(const char *key, size_t klen, const char *msg, size_t mlen,
    char *out, size_t size)
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st;

	(void)crypto_auth_hmacsha256_init(&st, (const unsigned char *)key,
	    klen);
	(void)crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg,
	    mlen);
	(void)crypto_auth_hmacsha256_final(&st, mac);
	(void)sodium_bin2base64(out, size, mac, sizeof(mac),
	    sodium_base64_VARIANT_ORIGINAL);
	sodium_memzero(&st, sizeof(st));
	sodium_memzero(mac, sizeof(mac));
}

/* Percent-encoding of s into out (3 * strlen + 1 bytes). */
static void
url_esc(const char *s, char *out)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *u;

	for (u = (const unsigned char *)s; *u != '\0'; u++) {
		if ((*u >= 'A' && *u <= 'Z') || (*u >= 'a' && *u <= 'z') ||
		    (*u >= '0' && *u <= '9') || *u == '-' || *u == '.' ||
		    *u == '_' || *u == '~') {
			*out++ = (char)*u;
			continue;
		}
		*out++ = '%';
		*out++ = hex[*u >> 4];
		*out++ = hex[*u & 15];
	}
	*out = '\0';
}

/* ------------------------------------------------------------------ */
/* Endpoints and their windows                                         */
/* ------------------------------------------------------------------ */

static struct ep *
ep_find(const struct wh_priv *p, const char *key)
{
	size_t i;

	for (i = 0; i < p->neps; i++)
		if (strcmp(p->eps[i]->key, key) == 0)
			return p->eps[i];
	return NULL;
}

static struct ep *
ep_get(struct wh_priv *p, const char *key)
{
	struct ep *e, **nv;
	size_t na;

	if ((e = ep_find(p, key)) != NULL)
		return e;
	if (p->neps == p->aeps) {
		na = p->aeps ? p->aeps * 2 : 16;
		if ((nv = realloc(p->eps, na * sizeof(*nv))) == NULL)
			return NULL;
		p->eps = nv;
		p->aeps = na;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	e->key = strdup(key);
	e->ts = calloc((size_t)p->rate_n, sizeof(*e->ts));
	if (e->key == NULL || e->ts == NULL) {
		free(e->key);
		free(e->ts);
		free(e);
		return NULL;
	}
	p->eps[p->neps++] = e;
	return e;
}

static void
ep_free(struct ep *e)
{
	free(e->key);
	free(e->ts);
	free(e);
}

/* Forget starts older than the window. */
static void
ep_age(const struct wh_priv *p, struct ep *e, int64_t now)
{
	while (e->count > 0 && e->ts[e->head] <= now - p->window_ms) {
		e->head = (e->head + 1) % (size_t)p->rate_n;
		e->count--;
	}
}

/* Milliseconds before e may start a request (0: now). */
static int64_t
ep_wait(const struct wh_priv *p, struct ep *e, int64_t now)
{
	int64_t w = 0;

	if (now < e->blocked_until)
		w = e->blocked_until - now;
	ep_age(p, e, now);
	if (e->count >= (size_t)p->rate_n &&
	    e->ts[e->head] + p->window_ms - now + 1 > w)
		w = e->ts[e->head] + p->window_ms - now + 1;
	return w;
}

static void
ep_start(const struct wh_priv *p, struct ep *e, int64_t now)
{
	e->ts[(e->head + e->count) % (size_t)p->rate_n] = now;
	e->count++;
	e->busy = 1;
}

/* Drop endpoints that remember nothing. */
static void
ep_prune(struct wh_priv *p, int64_t now)
{
	struct ep *e;
	size_t i;

	for (i = 0; i < p->neps; ) {
		e = p->eps[i];
		ep_age(p, e, now);
		if (e->queued == 0 && !e->busy && e->count == 0 &&
		    e->blocked_until <= now) {
			ep_free(e);
			p->eps[i] = p->eps[--p->neps];
		} else
			i++;
	}
}

/* ------------------------------------------------------------------ */
/* init                                                                */
/* ------------------------------------------------------------------ */

/* The secret of key or key_file (first line of a file relative to the
 * data directory), 1..max bytes of printable ASCII. */
static int
get_secret(struct channel *ch, const struct cfg_node *cfg, const char *key,
    size_t max, char **out, struct diag_list *diags)
{
	char fkey[48], line[600], *path = NULL;
	const struct cfg_node *n;
	const char *s = NULL;
	const unsigned char *u;
	size_t len;
	FILE *f;
	int rv = 0;

	(void)snprintf(fkey, sizeof(fkey), "%s_file", key);
	if (cfg_node_get(cfg, key) != NULL &&
	    cfg_node_get(cfg, fkey) != NULL)
		return cfg_error(diags, cfg_node_get(cfg, fkey),
		    "give %s or %s, not both", key, fkey);
	line[0] = '\0';
	if (cfg_node_get(cfg, fkey) != NULL) {
		n = cfg_node_get(cfg, fkey);
		if (cfg_get_path(cfg, fkey, ch->env->data_dir, &path,
		    diags) != 0 || path == NULL)
			return ENG_EINVAL;
		if ((f = fopen(path, "re")) == NULL) {
			rv = cfg_error(diags, n, "cannot read %s: %s", path,
			    strerror(errno));
			free(path);
			return rv;
		}
		if (fgets(line, sizeof(line), f) == NULL)
			line[0] = '\0';
		(void)fclose(f);
		line[strcspn(line, "\r\n")] = '\0';
		s = line;
	} else {
		n = cfg_node_get(cfg, key);
		if (cfg_get_str(cfg, key, &s, diags) != 0 || s == NULL)
			return 0;
	}
	len = strlen(s);
	if (len == 0 || len > max)
		rv = cfg_error(diags, n, "%s%s must be 1 to %zu bytes",
		    path != NULL ? "the first line of " : "", path != NULL ?
		    fkey : key, max);
	for (u = (const unsigned char *)s; rv == 0 && *u != '\0'; u++)
		if (*u <= 0x20 || *u >= 0x7f)
			rv = cfg_error(diags, n, "%s must be printable ASCII "
			    "without spaces", key);
	if (rv == 0 && (*out = strdup(s)) == NULL)
		rv = ENG_ENOMEM;
	explicit_bzero(line, sizeof(line));
	free(path);
	return rv;
}

static int
check_url(struct wh_priv *p, const struct cfg_node *cfg, const char *s,
    struct diag_list *diags)
{
	const struct cfg_node *n = cfg_node_get(cfg, "url");
	const char *host, *k;

	if (chan_cfg_url(cfg, s, CHAN_URL_NO_FRAGMENT | CHAN_URL_NO_WS |
	    CHAN_URL_QHOST, diags) != 0)
		return ENG_EINVAL;
	host = s + (s[4] == 's' ? 8 : 7);	/* https:// or http:// */
	if ((k = strstr(s, "{key}")) != NULL) {
		if (strstr(k + 5, "{key}") != NULL)
			return cfg_error(diags, n, "url has {key} twice");
		if (memchr(host, '/', (size_t)(k - host)) == NULL &&
		    memchr(host, '?', (size_t)(k - host)) == NULL)
			return cfg_error(diags, n, "{key} must not be in the "
			    "url's host");
		p->has_key = 1;
	}
	if (p->fl == FL_TELEGRAM && (p->has_key || strchr(s, '?') != NULL))
		return cfg_error(diags, n, "a telegram url is the Bot API's "
		    "base URL, without {key} or query");
	return 0;
}

/* rate: "N", "N/min", "N/s", "N/h", "N/<number><ms|s|m|h>". */
static int
parse_rate(struct wh_priv *p, const struct cfg_node *cfg,
    struct diag_list *diags)
{
	return cfg_get_rate(cfg, "rate", WH_MAX_RATE, &p->rate_n,
	    &p->window_ms, diags);
}

static int
wh_init(struct channel *ch, const struct cfg_node *cfg,
    struct diag_list *diags)
{
	struct wh_priv *p = ch->priv;
	const char *url = NULL, *button = NULL;
	size_t n0 = diags->nerrors, len;
	int rv = 0, e = 0, robot, fl_ok = 0;

	p->rate_n = 20;
	p->window_ms = 60000;
	p->concurrency = 2;
	p->timeout_ms = 10000;
	p->too_fast_ms = 60000;
	p->up = 1;
	if (pthread_mutex_init(&p->ans_lock, NULL) != 0)
		return ENG_ENOMEM;
	p->ans_init = 1;
	if (sodium_init() < 0)
		return ENG_EIO;
	(void)cfg_check_keys(cfg, keys, diags);
	(void)cfg_require(cfg, "flavor", diags);
	(void)cfg_require(cfg, "url", diags);
	if (cfg_get_enum(cfg, "flavor", flavors, &e, diags) == 0 &&
	    cfg_node_get(cfg, "flavor") != NULL) {
		p->fl = (enum flavor)e;
		fl_ok = 1;
	} else
		p->fl = FL_JSON;	/* the generic keys are still checked */
	robot = p->fl != FL_TELEGRAM && p->fl != FL_JSON;
	if (cfg_get_str(cfg, "url", &url, diags) == 0 && url != NULL &&
	    check_url(p, cfg, url, diags) == 0) {
		if ((p->url = strdup(url)) == NULL)
			return ENG_ENOMEM;
		len = strlen(p->url);
		while (p->fl == FL_TELEGRAM && len > 0 &&
		    p->url[len - 1] == '/')
			p->url[--len] = '\0';
	}
	(void)parse_rate(p, cfg, diags);
	(void)cfg_get_int(cfg, "concurrency", 1, 64, &p->concurrency, diags);
	(void)cfg_get_duration_ms(cfg, "timeout", 100, 300000, &p->timeout_ms,
	    diags);
	(void)cfg_get_duration_ms(cfg, "too_fast_delay", 100, 3600000,
	    &p->too_fast_ms, diags);
	(void)cfg_get_bool(cfg, "mention_mobiles", &p->mention, diags);
	if (p->mention && p->fl != FL_WECOM && p->fl != FL_DINGTALK)
		(void)cfg_error(diags, cfg_node_get(cfg, "mention_mobiles"),
		    "mention_mobiles is for the wecom and dingtalk flavours");

	if (!fl_ok)
		return ENG_EINVAL;	/* the rest depends on the flavour */

	/* Secrets, each only where its flavour uses it. */
	if (get_secret(ch, cfg, "token", 256, &p->token, diags) ==
	    ENG_ENOMEM ||
	    get_secret(ch, cfg, "secret", 256, &p->secret, diags) ==
	    ENG_ENOMEM ||
	    get_secret(ch, cfg, "webhook_secret", 256, &p->hook_secret,
	    diags) == ENG_ENOMEM)
		return ENG_ENOMEM;
	if (p->fl == FL_TELEGRAM) {
		if (p->token == NULL && cfg_node_get(cfg, "token") == NULL &&
		    cfg_node_get(cfg, "token_file") == NULL)
			(void)cfg_error(diags, cfg, "the telegram flavour needs "
			    "token or token_file");
		if (p->token != NULL && strspn(p->token, "0123456789"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    ":_-") != strlen(p->token))
			(void)cfg_error(diags, cfg_node_get(cfg,
			    cfg_node_get(cfg, "token") ? "token" :
			    "token_file"), "the bot token may hold only "
			    "A-Z a-z 0-9 : _ -");
		if (p->hook_secret != NULL && strspn(p->hook_secret,
		    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz_-") != strlen(p->hook_secret))
			(void)cfg_error(diags, cfg_node_get(cfg,
			    cfg_node_get(cfg, "webhook_secret") ?
			    "webhook_secret" : "webhook_secret_file"),
			    "webhook_secret may hold only A-Z a-z 0-9 _ - "
			    "(Telegram's secret_token)");
	} else {
		if (cfg_node_get(cfg, "token") != NULL ||
		    cfg_node_get(cfg, "token_file") != NULL)
			(void)cfg_error(diags, cfg_node_get(cfg,
			    cfg_node_get(cfg, "token") ? "token" :
			    "token_file"), "token is for the telegram "
			    "flavour (robots take their key in url)");
		if (cfg_node_get(cfg, "webhook_secret") != NULL ||
		    cfg_node_get(cfg, "webhook_secret_file") != NULL ||
		    cfg_node_get(cfg, "button") != NULL)
			(void)cfg_error(diags, cfg_node_get(cfg,
			    cfg_node_get(cfg, "button") ? "button" :
			    cfg_node_get(cfg, "webhook_secret") ?
			    "webhook_secret" : "webhook_secret_file"),
			    "button and webhook_secret are for the telegram "
			    "flavour");
	}
	if ((cfg_node_get(cfg, "secret") != NULL ||
	    cfg_node_get(cfg, "secret_file") != NULL) &&
	    p->fl != FL_DINGTALK && p->fl != FL_FEISHU)
		(void)cfg_error(diags, cfg_node_get(cfg,
		    cfg_node_get(cfg, "secret") ? "secret" : "secret_file"),
		    "secret is for the dingtalk and feishu flavours");
	if (cfg_get_str(cfg, "button", &button, diags) == 0 &&
	    button != NULL && (button[0] == '\0' || strlen(button) > 64))
		(void)cfg_error(diags, cfg_node_get(cfg, "button"),
		    "button must be 1 to 64 bytes");
	else if (p->fl == FL_TELEGRAM && (p->button = strdup(button != NULL ?
	    button : WH_DEF_BUTTON)) == NULL)
		return ENG_ENOMEM;

	/* What "to" is. */
	ch->addr = p->fl == FL_TELEGRAM ? CHAN_ADDR_TELEGRAM :
	    p->mention ? CHAN_ADDR_PHONE : CHAN_ADDR_DEVICE;
	e = 0;
	if (cfg_get_enum(cfg, "addr", addrs, &e, diags) == 0 &&
	    cfg_node_get(cfg, "addr") != NULL) {
		enum chan_addr a = chan_addr_parse(addrs[e]);
		const struct cfg_node *an = cfg_node_get(cfg, "addr");

		if (p->fl == FL_TELEGRAM && a != CHAN_ADDR_TELEGRAM &&
		    a != CHAN_ADDR_DEVICE)
			(void)cfg_error(diags, an, "a telegram channel "
			    "addresses telegram ids or (device) group chats");
		else if (robot && p->mention && a != CHAN_ADDR_PHONE)
			(void)cfg_error(diags, an, "mention_mobiles needs "
			    "addr: phone");
		else if (robot && !p->mention && a != CHAN_ADDR_DEVICE)
			(void)cfg_error(diags, an, "a group robot addresses "
			    "its group: addr must be device (or phone, with "
			    "mention_mobiles)");
		else
			ch->addr = a;
	}
	if (p->has_key && ch->addr != CHAN_ADDR_DEVICE)
		(void)cfg_error(diags, cfg_node_get(cfg, "url"), "{key} in "
		    "url takes the device's address: the channel must "
		    "address devices, not %s", chan_addr_name(ch->addr));

	p->hold = (size_t)p->rate_n / 2;
	if (p->hold < 1)
		p->hold = 1;
	if (diags->nerrors > n0)
		return ENG_EINVAL;
	p->inflight = calloc((size_t)p->concurrency, sizeof(*p->inflight));
	if (p->inflight == NULL || (p->multi = curl_multi_init()) == NULL)
		return ENG_ENOMEM;
	(void)curl_multi_setopt(p->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
	    (long)p->concurrency);
	return rv;
}

/* ------------------------------------------------------------------ */
/* send                                                                */
/* ------------------------------------------------------------------ */

static void
enqueue(struct wh_priv *p, struct wreq *q)
{
	q->next = NULL;
	if (p->tail != NULL)
		p->tail->next = q;
	else
		p->head = q;
	p->tail = q;
}

/* The endpoint key of a message, or the reason it cannot be sent. */
static const char *
endpoint_of(const struct channel *ch, const char *to, const char **fail)
{
	const struct wh_priv *p = ch->priv;

	*fail = NULL;
	if (p->fl == FL_TELEGRAM) {
		if (!valid_chat(to))
			*fail = "not a telegram chat id";
		return to;
	}
	if (p->has_key) {
		if (!valid_key(to))
			*fail = "the device address is not a robot key";
		return to;
	}
	if (p->mention && !chan_phone_ok(to))
		*fail = "not a phone number";
	return "";
}

static int
wh_send(struct channel *ch, const struct chan_msg *m, size_t n)
{
	struct wh_priv *p = ch->priv;
	const char *key, *fail;
	struct wreq *q;
	struct ep *e = NULL;
	int bad = 0;

	if (p->multi == NULL || n > 1)
		return ENG_EINVAL;
	if (n == 0)
		return 0;
	if (p->nqueued >= WH_MAX_QUEUED)
		return ENG_ETEMP;
	key = endpoint_of(ch, m->to, &fail);
	if (fail == NULL) {
		if ((e = ep_get(p, key)) == NULL)
			return ENG_ETEMP;
		if (e->queued >= p->hold || p->now < e->blocked_until)
			return ENG_ETEMP;
	}
	if ((q = calloc(1, sizeof(*q))) == NULL)
		return ENG_ETEMP;
	q->id = m->delivery_id;
	q->fail = fail;
	q->priority = m->priority;
	q->deadline_ms = m->deadline_ms;
	q->to = dup_or_null(m->to != NULL ? m->to : "", &bad);
	q->text = dup_or_null(m->text != NULL ? m->text : "", &bad);
	q->subject = dup_or_null(m->subject, &bad);
	q->payload = dup_or_null(m->payload, &bad);
	q->ack_code = dup_or_null(m->ack_code, &bad);
	q->ack_url = dup_or_null(m->ack_url, &bad);
	q->ep = dup_or_null(fail == NULL ? key : NULL, &bad);
	if (bad) {
		wreq_free(q);
		return ENG_ETEMP;
	}
	enqueue(p, q);
	p->nqueued++;
	if (e != NULL)
		e->queued++;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Requests                                                            */
/* ------------------------------------------------------------------ */

static size_t
write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct wreq *q = arg;
	size_t n = size * nmemb, room = sizeof(q->resp) - 1 - q->resp_len;

	if (n > room)
		n = room;
	memcpy(q->resp + q->resp_len, data, n);
	q->resp_len += n;
	q->resp[q->resp_len] = '\0';
	return size * nmemb;
}

/* url with {key} replaced by key (or url itself). */
static char *
robot_url(const struct wh_priv *p, const char *key)
{
	const char *k = p->has_key ? strstr(p->url, "{key}") : NULL;
	char *u;

	if (k == NULL)
		return strdup(p->url);
	if (asprintf(&u, "%.*s%s%s", (int)(k - p->url), p->url, key, k + 5) <
	    0)
		return NULL;
	return u;
}

/* The text as the robot shows it: DingTalk mentions need "@mobile". */
static json_t *
text_body(const struct wh_priv *p, const struct wreq *q)
{
	json_t *j = NULL, *t, *mob;
	char *txt = NULL;

	switch (p->fl) {
	case FL_DINGTALK:
		if (p->mention && asprintf(&txt, "%s\n@%s", q->text, q->to) <
		    0)
			return NULL;
		j = json_pack("{s:s,s:{s:s}}", "msgtype", "text", "text",
		    "content", txt != NULL ? txt : q->text);
		free(txt);
		if (j != NULL && p->mention)
			(void)json_object_set_new(j, "at", json_pack(
			    "{s:[s],s:b}", "atMobiles", q->to, "isAtAll", 0));
		return j;
	case FL_WECOM:
		j = json_pack("{s:s,s:{s:s}}", "msgtype", "text", "text",
		    "content", q->text);
		t = json_object_get(j, "text");
		if (t != NULL && p->mention) {
			mob = json_pack("[s]", q->to);
			(void)json_object_set_new(t, "mentioned_mobile_list",
			    mob);
		}
		return j;
	case FL_FEISHU:
		return json_pack("{s:s,s:{s:s}}", "msg_type", "text",
		    "content", "text", q->text);
	case FL_SLACK:
		return json_pack("{s:s}", "text", q->text);
	case FL_TELEGRAM:
		if (asprintf(&txt, "ack:%lld", (long long)q->id) < 0)
			return NULL;
		j = json_pack("{s:s,s:s,s:{s:[[{s:s,s:s}]]}}", "chat_id",
		    q->to, "text", q->text, "reply_markup", "inline_keyboard",
		    "text", p->button, "callback_data", txt);
		free(txt);
		return j;
	case FL_JSON:
		j = json_pack("{s:I,s:s,s:s?,s:s,s:i,s:s?,s:s?}",
		    "delivery_id", (json_int_t)q->id, "to", q->to,
		    "subject", q->subject, "text", q->text, "priority",
		    q->priority, "ack_code", q->ack_code, "ack_url",
		    q->ack_url);
		if (j != NULL && q->payload != NULL)
			(void)json_object_set_new(j, "payload",
			    json_loads(q->payload, 0, NULL));
		return j;
	}
	return NULL;
}

/* URL and body of a request, signed at now. */
static int
build(const struct channel *ch, struct wreq *q, int64_t now)
{
	const struct wh_priv *p = ch->priv;
	char ts[24], sig[64], esig[200], *tosign = NULL, *u = NULL;
	json_t *j;
	int rv = ENG_ENOMEM;

	if (q->answer) {
		if (asprintf(&q->url, "%s/bot%s/answerCallbackQuery", p->url,
		    p->token) < 0) {
			q->url = NULL;
			return ENG_ENOMEM;
		}
		j = json_pack("{s:s,s:s}", "callback_query_id", q->text,
		    "text", WH_ANS_TEXT);
	} else if (p->fl == FL_TELEGRAM) {
		if (asprintf(&q->url, "%s/bot%s/sendMessage", p->url,
		    p->token) < 0) {
			q->url = NULL;
			return ENG_ENOMEM;
		}
		j = text_body(p, q);
	} else {
		if ((q->url = robot_url(p, q->ep)) == NULL)
			return ENG_ENOMEM;
		j = text_body(p, q);
	}
	if (j == NULL)
		return ENG_ENOMEM;
	if (!q->answer && p->secret != NULL && p->fl == FL_DINGTALK) {
		(void)snprintf(ts, sizeof(ts), "%lld", (long long)now);
		if (asprintf(&tosign, "%s\n%s", ts, p->secret) < 0) {
			tosign = NULL;
			goto out;
		}
		hmac_b64(p->secret, strlen(p->secret), tosign, strlen(tosign),
		    sig, sizeof(sig));
		url_esc(sig, esig);
		if (asprintf(&u, "%s%ctimestamp=%s&sign=%s", q->url,
		    strchr(q->url, '?') != NULL ? '&' : '?', ts, esig) < 0) {
			u = NULL;
			goto out;
		}
		free(q->url);
		q->url = u;
	} else if (!q->answer && p->secret != NULL && p->fl == FL_FEISHU) {
		(void)snprintf(ts, sizeof(ts), "%lld", (long long)(now / 1000));
		if (asprintf(&tosign, "%s\n%s", ts, p->secret) < 0) {
			tosign = NULL;
			goto out;
		}
		hmac_b64(tosign, strlen(tosign), "", 0, sig, sizeof(sig));
		if (json_object_set_new(j, "timestamp", json_string(ts)) != 0 ||
		    json_object_set_new(j, "sign", json_string(sig)) != 0)
			goto out;
	}
	if ((q->body = json_dumps(j, JSON_COMPACT)) != NULL)
		rv = 0;
out:
	if (tosign != NULL) {
		explicit_bzero(tosign, strlen(tosign));
		free(tosign);
	}
	json_decref(j);
	return rv;
}

static int
start_request(struct channel *ch, struct wreq *q, int64_t now)
{
	struct wh_priv *p = ch->priv;
	struct curl_slist *l;
	CURL *e;

	if (build(ch, q, now) != 0)
		return ENG_ENOMEM;
	if ((l = curl_slist_append(NULL, "Content-Type: application/json; "
	    "charset=utf-8")) == NULL)
		return ENG_ENOMEM;
	q->hdrs = l;
	if ((l = curl_slist_append(q->hdrs, "Expect:")) == NULL)
		return ENG_ENOMEM;
	if ((e = curl_easy_init()) == NULL)
		return ENG_ENOMEM;
	q->easy = e;
	if (curl_easy_setopt(e, CURLOPT_URL, q->url) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_PRIVATE, q) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_POSTFIELDS, q->body) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(q->body))
	    != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_HTTPHEADER, q->hdrs) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb) !=
	    CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_WRITEDATA, q) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, q->errbuf) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)p->timeout_ms) !=
	    CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") !=
	    CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_USERAGENT, "gong") != CURLE_OK)
		return ENG_ENOMEM;
	if (curl_multi_add_handle(p->multi, e) != CURLM_OK)
		return ENG_ENOMEM;
	p->inflight[p->ninflight++] = q;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Answers                                                             */
/* ------------------------------------------------------------------ */

/* The answer, trimmed to one printable line (for errors). */
static const char *
answer_text(struct wreq *q)
{
	size_t i;

	for (i = 0; i < q->resp_len; i++)
		if ((unsigned char)q->resp[i] < 0x20)
			q->resp[i] = ' ';
	while (q->resp_len > 0 && q->resp[q->resp_len - 1] == ' ')
		q->resp[--q->resp_len] = '\0';
	return q->resp;
}

static int
json_int(json_t *o, const char *key, long long *out)
{
	json_t *v = json_object_get(o, key);

	if (json_is_integer(v)) {
		*out = (long long)json_integer_value(v);
		return 1;
	}
	return 0;
}

static const char *
json_text(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

enum verdict { V_SENT, V_RETRY, V_FAST, V_FAILED };

struct outcome {
	enum verdict v;
	int64_t retry_after_ms;
	char err[400];
	char gw[40];
};

/* What an answer of the robots (DingTalk, WeCom, Feishu) means. */
static void
judge_robot(const struct wh_priv *p, long code, json_t *j, struct wreq *q,
    struct outcome *o)
{
	static const char *const names[] = {
		"dingtalk", "wecom", "feishu"
	};
	const long long *fast, *perm;
	const char *msgkey = "errmsg", *codekey = "errcode";
	long long c;

	if (p->fl == FL_DINGTALK) {
		fast = dt_fast;
		perm = dt_perm;
	} else if (p->fl == FL_WECOM) {
		fast = wc_fast;
		perm = wc_perm;
	} else {
		fast = fs_fast;
		perm = fs_perm;
		codekey = "code";
		msgkey = "msg";
	}
	if (!json_int(j, codekey, &c) && !(p->fl == FL_FEISHU &&
	    json_int(j, "StatusCode", &c))) {
		(void)snprintf(o->err, sizeof(o->err), "HTTP %ld: %.300s",
		    code, answer_text(q));
		o->v = code >= 400 && code < 500 && code != 408 &&
		    code != 429 ? V_FAILED : code == 429 ? V_FAST : V_RETRY;
		return;
	}
	(void)snprintf(o->err, sizeof(o->err), "%s %s %lld: %.300s",
	    names[p->fl], codekey, c, json_text(j, msgkey)[0] != '\0' ?
	    json_text(j, msgkey) : json_text(j, "StatusMessage"));
	if (c == 0 && code >= 200 && code < 300)
		o->v = V_SENT;
	else if (in_codes(fast, c))
		o->v = V_FAST;
	else if (in_codes(perm, c))
		o->v = V_FAILED;
	else
		o->v = V_RETRY;
}

static void
judge_telegram(long code, json_t *j, struct wreq *q, struct outcome *o)
{
	json_t *r = json_object_get(j, "result");
	long long c = code, ra = 0, mid;

	if (json_is_true(json_object_get(j, "ok")) && code >= 200 &&
	    code < 300) {
		o->v = V_SENT;
		if (json_int(r, "message_id", &mid))
			(void)snprintf(o->gw, sizeof(o->gw), "%lld", mid);
		return;
	}
	if (j == NULL) {
		(void)snprintf(o->err, sizeof(o->err), "HTTP %ld: %.300s",
		    code, answer_text(q));
	} else {
		(void)json_int(j, "error_code", &c);
		(void)snprintf(o->err, sizeof(o->err), "telegram %lld: %.300s",
		    c, json_text(j, "description"));
	}
	if (json_int(json_object_get(j, "parameters"), "retry_after", &ra) &&
	    ra > 0 && ra <= 86400)
		o->retry_after_ms = ra * 1000;
	if (c == 429)
		o->v = V_FAST;
	else if (c >= 400 && c < 500 && c != 408)
		o->v = V_FAILED;
	else
		o->v = V_RETRY;
}

static void
judge(const struct wh_priv *p, struct wreq *q, struct outcome *o)
{
	curl_off_t ra = 0;
	long code = 0;
	json_t *j;

	(void)curl_easy_getinfo(q->easy, CURLINFO_RESPONSE_CODE, &code);
	if (curl_easy_getinfo(q->easy, CURLINFO_RETRY_AFTER, &ra) !=
	    CURLE_OK || ra < 0 || ra > 86400)
		ra = 0;
	o->retry_after_ms = (int64_t)ra * 1000;
	if (code >= 500) {
		(void)snprintf(o->err, sizeof(o->err), "HTTP %ld: %.300s",
		    code, answer_text(q));
		o->v = V_RETRY;
		return;
	}
	j = json_loadb(q->resp, q->resp_len, 0, NULL);
	if (!json_is_object(j)) {
		json_decref(j);
		j = NULL;
	}
	switch (p->fl) {
	case FL_DINGTALK:
	case FL_WECOM:
	case FL_FEISHU:
		judge_robot(p, code, j, q, o);
		break;
	case FL_TELEGRAM:
		judge_telegram(code, j, q, o);
		break;
	case FL_SLACK:
	case FL_JSON:
		(void)snprintf(o->err, sizeof(o->err), "HTTP %ld: %.300s",
		    code, answer_text(q));
		if (code >= 200 && code < 300)
			o->v = V_SENT;
		else if (code == 429)
			o->v = V_FAST;
		else if (code >= 400 && code < 500 && code != 408)
			o->v = V_FAILED;
		else
			o->v = V_RETRY;
		break;
	}
	json_decref(j);
}

/* Unlink q (after prev, or the head) from the queue. */
static void
unlink_q(struct wh_priv *p, struct wreq *prev, struct wreq *q)
{
	if (prev != NULL)
		prev->next = q->next;
	else
		p->head = q->next;
	if (p->tail == q)
		p->tail = prev;
	q->next = NULL;
	p->nqueued--;
}

/* Hand back what waits for a blocked endpoint. */
static void
give_back(struct channel *ch, struct ep *e, const char *err, int64_t now)
{
	struct wh_priv *p = ch->priv;
	struct wreq *q, *prev = NULL, *next;

	for (q = p->head; q != NULL; q = next) {
		next = q->next;
		if (q->ep == NULL || strcmp(q->ep, e->key) != 0) {
			prev = q;
			continue;
		}
		unlink_q(p, prev, q);
		e->queued--;
		curlq_report(ch, q->id, CHAN_R_RETRY, err, NULL,
		    e->blocked_until - now);
		wreq_free(q);
	}
}

static void
finish(struct channel *ch, struct wreq *q, CURLcode res, int64_t now)
{
	struct wh_priv *p = ch->priv;
	struct outcome o;
	struct ep *e = q->answer ? NULL : ep_find(p, q->ep);
	char err[460];

	memset(&o, 0, sizeof(o));
	if (e != NULL)
		e->busy = 0;
	if (res != CURLE_OK) {
		(void)snprintf(o.err, sizeof(o.err), "%s", q->errbuf[0] !=
		    '\0' ? q->errbuf : curl_easy_strerror(res));
		o.v = V_RETRY;
		p->up = 0;
	} else {
		judge(p, q, &o);
		p->up = o.v != V_RETRY;
	}
	if (o.v != V_SENT)
		set_detail(p, o.err);
	else
		p->detail[0] = '\0';
	if (q->answer)
		return;
	switch (o.v) {
	case V_SENT:
		curlq_report(ch, q->id, CHAN_R_SENT, NULL,
		    o.gw[0] ? o.gw : NULL, 0);
		break;
	case V_FAILED:
		curlq_report(ch, q->id, CHAN_R_FAILED, o.err, NULL, 0);
		break;
	case V_RETRY:
		curlq_report(ch, q->id, CHAN_R_RETRY, o.err, NULL,
		    o.retry_after_ms);
		break;
	case V_FAST:
		if (o.retry_after_ms <= 0)
			o.retry_after_ms = p->too_fast_ms;
		curlq_report(ch, q->id, CHAN_R_RETRY, o.err, NULL,
		    o.retry_after_ms);
		if (e != NULL) {
			if (now + o.retry_after_ms > e->blocked_until)
				e->blocked_until = now + o.retry_after_ms;
			(void)snprintf(err, sizeof(err), "held back: %s",
			    o.err);
			give_back(ch, e, err, now);
		}
		break;
	}
}

static void
drop_inflight(struct wh_priv *p, struct wreq *q)
{
	size_t i;

	for (i = 0; i < p->ninflight; i++)
		if (p->inflight[i] == q) {
			p->inflight[i] = p->inflight[--p->ninflight];
			break;
		}
	(void)curl_multi_remove_handle(p->multi, q->easy);
}

/* Answer the callback queries inbound queued. */
static void
start_answers(struct channel *ch, int64_t now)
{
	struct wh_priv *p = ch->priv;
	char id[WH_ANS_ID];
	struct wreq *q;

	while (p->ninflight < (size_t)p->concurrency) {
		(void)pthread_mutex_lock(&p->ans_lock);
		if (p->ans_n == 0) {
			(void)pthread_mutex_unlock(&p->ans_lock);
			break;
		}
		memcpy(id, p->ans[--p->ans_n], sizeof(id));
		(void)pthread_mutex_unlock(&p->ans_lock);
		if ((q = calloc(1, sizeof(*q))) == NULL ||
		    (q->text = strdup(id)) == NULL) {
			wreq_free(q);
			break;
		}
		q->answer = 1;
		if (start_request(ch, q, now) != 0)
			wreq_free(q);
	}
}

static void
start_queued(struct channel *ch, int64_t now)
{
	struct wh_priv *p = ch->priv;
	struct wreq *q, *prev = NULL, *next;
	struct ep *e;

	for (q = p->head; q != NULL; q = next) {
		next = q->next;
		e = q->ep != NULL ? ep_find(p, q->ep) : NULL;
		if (q->fail != NULL) {
			unlink_q(p, prev, q);
			curlq_report(ch, q->id, CHAN_R_FAILED, q->fail, NULL,
			    0);
			wreq_free(q);
			continue;
		}
		if (q->deadline_ms > 0 && now > q->deadline_ms) {
			/* RETRY past the deadline: the engine ends it dead. */
			unlink_q(p, prev, q);
			if (e != NULL)
				e->queued--;
			curlq_report(ch, q->id, CHAN_R_RETRY,
			    "expired before it could be sent", NULL, 0);
			wreq_free(q);
			continue;
		}
		if (p->ninflight >= (size_t)p->concurrency)
			break;
		if (e == NULL && (e = ep_get(p, q->ep)) != NULL)
			e->queued++;	/* (only after out of memory) */
		if (e == NULL || e->busy || ep_wait(p, e, now) > 0) {
			prev = q;
			continue;
		}
		unlink_q(p, prev, q);
		e->queued--;
		ep_start(p, e, now);
		if (start_request(ch, q, now) != 0) {
			e->busy = 0;
			curlq_report(ch, q->id, CHAN_R_RETRY, "out of memory",
			    NULL, 0);
			wreq_free(q);
		}
	}
}

/* Milliseconds until the queue's first endpoint may start. */
static int64_t
queue_wait(struct wh_priv *p, int64_t now)
{
	struct wreq *q;
	struct ep *e;
	int64_t best = 1000, w;

	for (q = p->head; q != NULL; q = q->next) {
		if (q->ep == NULL || (e = ep_find(p, q->ep)) == NULL)
			return 0;
		if (e->busy)
			continue;
		if ((w = ep_wait(p, e, now)) < best)
			best = w;
	}
	return best;
}

static int64_t
wh_poll(struct channel *ch, int64_t now_ms)
{
	struct wh_priv *p = ch->priv;
	struct wreq *q;
	CURLMsg *msg;
	CURLcode res;
	long tmo = -1;
	int running = 0, left, rounds;
	int64_t w;
	void *priv;

	if (p->multi == NULL)
		return 1000;
	p->now = now_ms;
	for (rounds = 0; rounds < 4; rounds++) {
		start_answers(ch, now_ms);
		start_queued(ch, now_ms);
		if (p->ninflight > 0)
			(void)curl_multi_perform(p->multi, &running);
		left = 0;
		while ((msg = curl_multi_info_read(p->multi, &left)) != NULL) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			priv = NULL;
			(void)curl_easy_getinfo(msg->easy_handle,
			    CURLINFO_PRIVATE, &priv);
			q = priv;
			res = msg->data.result;
			drop_inflight(p, q);
			finish(ch, q, res, now_ms);
			wreq_free(q);
			left = 1;
		}
		if (!left)
			break;
	}
	start_answers(ch, now_ms);
	start_queued(ch, now_ms);
	if (p->ninflight > 0)
		(void)curl_multi_perform(p->multi, &running);
	ep_prune(p, now_ms);
	w = p->head != NULL ? queue_wait(p, now_ms) : 1000;
	if (p->ninflight == 0)
		return w;
	/* Wait briefly for an answer here (as sms_http.c does). */
	(void)curl_multi_poll(p->multi, NULL, 0, 2, NULL);
	(void)curl_multi_timeout(p->multi, &tmo);
	if (tmo < 0 || tmo > 5)
		tmo = 5;
	if (tmo < 1)
		tmo = 1;
	return w < tmo ? w : tmo;
}

/* ------------------------------------------------------------------ */
/* inbound (Telegram updates)                                          */
/* ------------------------------------------------------------------ */

static int
answer(struct chan_http_resp *resp, int status, const char *body)
{
	resp->status = status;
	resp->content_type = "text/plain";
	(void)snprintf(resp->body, sizeof(resp->body), "%s", body);
	return 0;
}

/* "ack:<id>" -> id, or 0. */
static int64_t
ack_id(const char *s)
{
	int64_t v = 0;
	size_t i;

	if (s == NULL || strncmp(s, "ack:", 4) != 0)
		return 0;
	for (i = 4; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 4 + 18)
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* A Telegram id (integer) as text. */
static int
tg_id(json_t *v, char *out, size_t size)
{
	if (!json_is_integer(v))
		return 0;
	(void)snprintf(out, size, "%lld", (long long)json_integer_value(v));
	return 1;
}

static int
wh_inbound(const struct channel *ch, const struct chan_http_req *req,
    int (*emit)(void *arg, const struct chan_event *ev), void *arg,
    struct chan_http_resp *resp)
{
	struct wh_priv *p = ch->priv;
	const char *rest = req->rest != NULL ? req->rest : "", *got, *qid;
	char from[32];
	struct chan_event ev;
	json_t *root, *cq, *m;
	int rv = 0;

	if (*rest == '/')
		rest++;
	if (p->fl != FL_TELEGRAM || strcmp(rest, "update") != 0)
		return answer(resp, 404, "not found");
	if (req->method == NULL || strcmp(req->method, "POST") != 0)
		return answer(resp, 405, "use POST");
	got = req->header != NULL ? req->header(req->ctx,
	    "X-Telegram-Bot-Api-Secret-Token") : NULL;
	if (p->hook_secret == NULL || got == NULL ||
	    strlen(got) != strlen(p->hook_secret) ||
	    sodium_memcmp(got, p->hook_secret, strlen(got)) != 0)
		return answer(resp, 403, "bad or missing secret token");
	if (req->body == NULL || req->body_len == 0 ||
	    (root = json_loadb(req->body, req->body_len, 0, NULL)) == NULL)
		return answer(resp, 400, "not JSON");
	if (!json_is_object(root)) {
		json_decref(root);
		return answer(resp, 400, "not an update");
	}
	memset(&ev, 0, sizeof(ev));
	ev.kind = CHAN_EV_REPLY;
	from[0] = '\0';
	if (json_is_object(cq = json_object_get(root, "callback_query"))) {
		m = json_object_get(cq, "message");
		if (!tg_id(json_object_get(json_object_get(m, "chat"), "id"),
		    from, sizeof(from)))
			(void)tg_id(json_object_get(json_object_get(cq,
			    "from"), "id"), from, sizeof(from));
		ev.delivery_id = ack_id(json_string_value(json_object_get(cq,
		    "data")));
		ev.text = "收到";
		qid = json_string_value(json_object_get(cq, "id"));
		if (qid != NULL && (qid[0] == '\0' ||
		    strlen(qid) >= WH_ANS_ID))
			qid = NULL;
		if (ev.delivery_id > 0 && from[0] != '\0') {
			ev.from = from;
			rv = emit(arg, &ev);
		}
		if (rv == 0 && qid != NULL) {
			(void)pthread_mutex_lock(&p->ans_lock);
			if (p->ans_n < WH_ANS_MAX)
				(void)snprintf(p->ans[p->ans_n++], WH_ANS_ID,
				    "%s", qid);
			(void)pthread_mutex_unlock(&p->ans_lock);
		}
	} else if (json_is_object(m = json_object_get(root, "message")) &&
	    json_is_string(json_object_get(m, "text")) &&
	    tg_id(json_object_get(json_object_get(m, "chat"), "id"), from,
	    sizeof(from))) {
		ev.from = from;
		ev.text = json_string_value(json_object_get(m, "text"));
		rv = emit(arg, &ev);
	}
	json_decref(root);
	if (rv != 0) {
		(void)answer(resp, 503, "try again");
		return rv < 0 ? rv : ENG_ETEMP;
	}
	return answer(resp, 200, "OK");
}

/* ------------------------------------------------------------------ */
/* health, shutdown                                                    */
/* ------------------------------------------------------------------ */

static void
wh_health(const struct channel *ch, struct chan_health *h)
{
	const struct wh_priv *p = ch->priv;

	memset(h, 0, sizeof(*h));
	h->up = p->up;
	h->queued = p->nqueued;
	h->in_flight = p->ninflight;
	(void)snprintf(h->detail, sizeof(h->detail), "%s", p->detail);
}

static void
zfree(char *s)
{
	if (s != NULL)
		explicit_bzero(s, strlen(s));
	free(s);
}

static void
wh_shutdown(struct channel *ch)
{
	struct wh_priv *p = ch->priv;
	struct wreq *q;
	size_t i;

	if (p == NULL)
		return;
	while (p->ninflight > 0) {
		q = p->inflight[p->ninflight - 1];
		drop_inflight(p, q);
		if (!q->answer)
			curlq_report(ch, q->id, CHAN_R_RETRY, "shut down", NULL,
			    0);
		wreq_free(q);
	}
	while ((q = p->head) != NULL) {
		p->head = q->next;
		if (q->fail != NULL)
			curlq_report(ch, q->id, CHAN_R_FAILED, q->fail, NULL,
			    0);
		else
			curlq_report(ch, q->id, CHAN_R_RETRY, "shut down", NULL,
			    0);
		wreq_free(q);
	}
	p->tail = NULL;
	p->nqueued = 0;
	if (p->multi != NULL)
		(void)curl_multi_cleanup(p->multi);
	p->multi = NULL;
	free(p->inflight);
	p->inflight = NULL;
	for (i = 0; i < p->neps; i++)
		ep_free(p->eps[i]);
	free(p->eps);
	p->eps = NULL;
	p->neps = p->aeps = 0;
	if (p->ans_init) {
		(void)pthread_mutex_destroy(&p->ans_lock);
		p->ans_init = 0;
	}
	zfree(p->secret);
	zfree(p->token);
	zfree(p->hook_secret);
	free(p->url);
	free(p->button);
	p->secret = p->token = p->hook_secret = p->url = p->button = NULL;
}

const struct channel_ops chan_webhook_ops = {
	.name = "webhook",
	.version = CHANNEL_OPS_V1,
	.priv_size = sizeof(struct wh_priv),
	.caps = CHAN_CAP_PERSON | CHAN_CAP_AREA | CHAN_CAP_INBOUND |
	    CHAN_CAP_POLL_WAITS,
	.max_batch = 1,
	.addr = CHAN_ADDR_DEVICE,
	.init = wh_init,
	.send = wh_send,
	.poll = wh_poll,
	.inbound = wh_inbound,
	.health = wh_health,
	.shutdown = wh_shutdown,
};
