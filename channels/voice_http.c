/*
 * channels/voice_http.c - the "voice-http" driver: text-to-speech voice
 * notification calls through a voice gateway's HTTP API, in the
 * documented shape of Tencent Cloud VMS (语音消息, API 3.0, action
 * SendTtsVoice, version 2020-09-02, TC3-HMAC-SHA256 signing), and its
 * HTTP callbacks: the call's status, the key the person pressed, and
 * why a call could not be put through.  Config:
 *
 *   - name: voice
 *     type: voice-http
 *     url: https://vms.tencentcloudapi.com/   # no query, no fragment
 *     secret_id_file: vms.id     # or secret_id: (the API key's id)
 *     secret_key_file: vms.key   # or secret_key: (first line, relative
 *                                # to the data directory)
 *     app_id: "1400006666"       # VoiceSdkAppid (digits)
 *     template_id: "4356"        # TemplateId of the approved TTS template
 *     region: ap-guangzhou       # X-TC-Region (default ap-guangzhou)
 *     play_times: 2              # 1..3 (default 2)
 *     concurrency: 4             # calls requested at once, 1..64 (4)
 *     timeout: 10s               # per request, 100ms..5m (default 10s)
 *     failover: sms              # the engine's (channel.h rule 9)
 *
 * The account's TTS template is one whole-message parameter (a template
 * like "{1}"): the rendered voice script (chan_msg.text, from the voice
 * template, which may already speak the answer code) goes as the only
 * element of TemplateParamSet.  VMS plays at most 350 characters: a
 * longer script fails (CHAN_R_FAILED, so the engine fails it over)
 * rather than being cut before its "press 1".  One request per call:
 * CalledNumber is +86 and the 11-digit mobile (VMS calls mainland China
 * mobiles only; other numbers fail before any request), SessionContext
 * the delivery id (rule 6), PlayTimes play_times.  The request is signed
 * with TC3-HMAC-SHA256 over content-type, host and x-tc-action; its
 * timestamp is poll's now_ms (rule 5), so the engine's clock must be
 * within VMS's five minutes of real time.
 *
 * Answers: HTTP 200 with Response.SendStatus.CallId is CHAN_R_SENT with
 * the CallId as gateway id.  Response.Error.Code decides the rest (rule
 * 4): RequestLimitExceeded*, LimitExceeded.*, InternalError.*,
 * FailedOperation.AccessUpstreamTimeout, AuthFailure.SignatureExpire and
 * any code not listed below are CHAN_R_RETRY; AuthFailure.* (bad id,
 * key or signature), InvalidParameter*, MissingParameter,
 * UnauthorizedOperation.*, UnsupportedOperation, InvalidAction and the
 * FailedOperation codes of a bad template, script, number or account
 * are CHAN_R_FAILED with the gateway's words.  Time-outs, refused
 * connections, 408, 429 and 5xx are CHAN_R_RETRY (Retry-After honoured);
 * other HTTP statuses CHAN_R_FAILED; an answer not understood
 * CHAN_R_RETRY.
 *
 * Callbacks (VMS's 事件回调, configured in the VMS console as
 * <callback_base> or <callback_base>/callback): POST, a JSON object of
 * at most 4096 bytes with exactly one of
 *
 *   {"voiceprompt_callback": {"result": "0", "callid": "...",
 *       "mobile": "13xxxxxxxxx", "nationcode": "86", "accept_time": ..,
 *       "start_calltime": .., "end_calltime": .., "fee": .., "call_from":
 *       ..}}                       result 0 answered, 1 not answered,
 *                                  2 the call failed
 *   {"voicekey_callback": {"callid": "...", "keypress": "1", "mobile":
 *       "13xxxxxxxxx", "nationcode": "86", "call_from": ""}}
 *   {"voice_failure_callback": {"callid": "...", "failure_code": 8,
 *       "failure_reason": "空号", "mobile": .., "nationcode": ..}}
 *
 * answered with 200 {"result":0,"errmsg":"OK"}.  Status 0 is a receipt
 * CHAN_R_DELIVERED; 1, 2 and failure callbacks CHAN_R_FAILED with the
 * reason.  Key "1" (the script says "press 1 to confirm") is a
 * CHAN_EV_REPLY with text "1" and from = the called number as the
 * roster stores it (engine/roster.h: 11 digits without +86); other keys
 * are logged and ignored.  Malformed, oversize (413), non-object or
 * unknown callbacks are refused with 4xx and a JSON errmsg.
 *
 * The delivery: VMS's callbacks carry only its CallId, not our
 * SessionContext.  The driver remembers the CallId of each call it
 * placed (the last VH_CALLS_KEPT, in memory, under a mutex: the one
 * thing inbound reads that init did not set, written by poll) and puts
 * the delivery id in the event; a CallId it does not know (gongd was
 * restarted since the call, or it fell out of the table) gives an event
 * with delivery_id 0 and gateway_id the CallId, which the engine has to
 * resolve through the deliveries' stored gateway ids.
 */
#include "channels/chan_cfg_int.h"
#include "channels/channel.h"
#include "channels/curlq_int.h"
#include "config/cfg.h"
#include "engine/log.h"
#include "engine/roster.h"
#include "engine/strbuf.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define VH_RESP_MAX	4096	/* answer bytes kept */
#define VH_TEXT_MAX	350	/* characters VMS plays */
#define VH_CB_MAX	4096	/* callback body bytes */
#define VH_CALLID_MAX	64	/* CallId bytes kept */
#define VH_CALLS_KEPT	4096	/* CallId -> delivery id, most recent */
#define VH_MAX_BATCH	16

#define VH_ACTION	"SendTtsVoice"
#define VH_VERSION	"2020-09-02"
#define VH_SERVICE	"vms"
#define VH_CTYPE	"application/json; charset=utf-8"

/* A call; cq first (one message; fail: refused before any request). */
struct vcall {
	struct curlq_req cq;
	int64_t id;
	char *to;		/* +86 and 11 digits */
	char *text;
	char *body;
	struct curl_slist *hdrs;
	char resp[VH_RESP_MAX];
};

struct callid_ent {
	int64_t id;
	char callid[VH_CALLID_MAX + 1];
};

struct vh_priv {
	/* Dispatcher thread only; first (curlq_chan_poll, _health). */
	struct curlq q;

	/* Config (set by init). */
	char *url;
	char *host;		/* the URL's authority, for Host */
	char *path;		/* the URL's path, "/" if none */
	char *secret_id;
	char *secret_key;
	char *app_id;
	char *template_id;
	char *region;
	int64_t play_times;
	int64_t concurrency;
	int64_t timeout_ms;
	size_t max_queued;

	/* CallId -> delivery id: poll writes, inbound reads, under lock. */
	pthread_mutex_t lock;
	int lock_ok;
	struct callid_ent *calls;
	size_t calls_next;
};

static const struct curlq_ops vq_ops;

static const char *const keys[] = {
	"name", "type", "url", "secret_id", "secret_id_file", "secret_key",
	"secret_key_file", "app_id", "template_id", "region", "play_times",
	"concurrency", "timeout",
	CHAN_ENGINE_KEYS,	/* the engine's (channel.h rules 9, 10) */
	NULL
};

/* Error codes of a request that will not succeed if repeated. */
static const char *const fail_prefixes[] = {
	"AuthFailure.", "InvalidParameter", "MissingParameter",
	"UnauthorizedOperation", "UnsupportedOperation", "InvalidAction",
	"UnknownParameter", NULL
};
static const char *const fail_codes[] = {
	"AuthFailure", "FailedOperation.ContainSensitiveWord",
	"FailedOperation.TemplateIncorrectOrUnapproved",
	"FailedOperation.InsufficientBalanceInVoicePackage",
	"FailedOperation.PhonenumberUnappliedOrExpired",
	"FailedOperation.InvalidParameters",
	"FailedOperation.InvalidJsonParameters",
	"FailedOperation.JsonParseFail", "FailedOperation.FailResolvePacket",
	NULL
};

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

/* UTF-8 characters in s (bytes that do not continue one). */
static size_t
utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* A request, for curlq_ops free too (NULL: nothing). */
static void
vcall_free(void *arg)
{
	struct vcall *q = arg;

	if (q == NULL)
		return;
	curl_slist_free_all(q->hdrs);
	free(q->to);
	free(q->text);
	free(q->body);
	free(q);
}

/* ------------------------------------------------------------------ */
/* CallId -> delivery id                                               */
/* ------------------------------------------------------------------ */

static void
remember(struct vh_priv *p, const char *callid, int64_t id)
{
	struct callid_ent *e;

	if (!p->lock_ok || p->calls == NULL || strlen(callid) > VH_CALLID_MAX)
		return;
	pthread_mutex_lock(&p->lock);
	e = &p->calls[p->calls_next];
	e->id = id;
	(void)snprintf(e->callid, sizeof(e->callid), "%s", callid);
	p->calls_next = (p->calls_next + 1) % VH_CALLS_KEPT;
	pthread_mutex_unlock(&p->lock);
}

/* The delivery id of a CallId, or 0 if not known. */
static int64_t
recall(struct vh_priv *p, const char *callid)
{
	int64_t id = 0;
	size_t i, k;

	if (!p->lock_ok || p->calls == NULL || callid[0] == '\0')
		return 0;
	pthread_mutex_lock(&p->lock);
	/* Newest first: a CallId is unique, but be exact about reuse. */
	for (i = 0; i < VH_CALLS_KEPT; i++) {
		k = (p->calls_next + VH_CALLS_KEPT - 1 - i) % VH_CALLS_KEPT;
		if (p->calls[k].id == 0)
			break;
		if (strcmp(p->calls[k].callid, callid) == 0) {
			id = p->calls[k].id;
			break;
		}
	}
	pthread_mutex_unlock(&p->lock);
	return id;
}

/* ------------------------------------------------------------------ */
/* TC3-HMAC-SHA256                                                     */
/* ------------------------------------------------------------------ */

static void
hmac256(const unsigned char *key, size_t klen, const char *msg,
    unsigned char out[32])
{
	crypto_auth_hmacsha256_state st;

	(void)crypto_auth_hmacsha256_init(&st, key, klen);
	(void)crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg,
	    strlen(msg));
	(void)crypto_auth_hmacsha256_final(&st, out);
	sodium_memzero(&st, sizeof(st));
}

static void
hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static void
sha256_hex(const char *s, char out[65])
{
	unsigned char h[32];

	(void)crypto_hash_sha256(h, (const unsigned char *)s, strlen(s));
	hex(h, 32, out);
}

/*
 * The Authorization header's value for body at Unix time ts, into a
 * (size bytes).  0, or -1 if it does not fit or memory ran out.
 */
static int
tc3_authorization(const struct vh_priv *p, const char *body, long long ts,
    char *a, size_t size)
{
	struct strbuf c = STRBUF_INIT;
	unsigned char k[32], k2[32];
	char date[16], bodyhash[65], creqhash[65], sig[65], sts[256];
	struct tm tm;
	time_t t = (time_t)ts;
	struct strbuf kk = STRBUF_INIT;
	int n, rv = -1;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(date, sizeof(date), "%Y-%m-%d", &tm) == 0)
		return -1;
	sha256_hex(body, bodyhash);
	strbuf_addf(&c, "POST\n%s\n\ncontent-type:%s\nhost:%s\n"
	    "x-tc-action:%s\n\ncontent-type;host;x-tc-action\n%s", p->path,
	    VH_CTYPE, p->host, "sendttsvoice", bodyhash);
	if (c.oom || c.p == NULL)
		goto out;
	sha256_hex(c.p, creqhash);
	n = snprintf(sts, sizeof(sts), "TC3-HMAC-SHA256\n%lld\n%s/%s/"
	    "tc3_request\n%s", ts, date, VH_SERVICE, creqhash);
	if (n < 0 || (size_t)n >= sizeof(sts))
		goto out;
	strbuf_addf(&kk, "TC3%s", p->secret_key);
	if (kk.oom || kk.p == NULL)
		goto out;
	hmac256((const unsigned char *)kk.p, kk.len, date, k);
	hmac256(k, sizeof(k), VH_SERVICE, k2);
	hmac256(k2, sizeof(k2), "tc3_request", k);
	hmac256(k, sizeof(k), sts, k2);
	hex(k2, sizeof(k2), sig);
	n = snprintf(a, size, "TC3-HMAC-SHA256 Credential=%s/%s/%s/"
	    "tc3_request, SignedHeaders=content-type;host;x-tc-action, "
	    "Signature=%s", p->secret_id, date, VH_SERVICE, sig);
	if (n >= 0 && (size_t)n < size)
		rv = 0;
out:
	sodium_memzero(k, sizeof(k));
	sodium_memzero(k2, sizeof(k2));
	if (kk.p != NULL)
		sodium_memzero(kk.p, kk.len);
	strbuf_release(&kk);
	strbuf_release(&c);
	return rv;
}

/* ------------------------------------------------------------------ */
/* init                                                                */
/* ------------------------------------------------------------------ */

/* key or key_file (first line, relative to the data directory): one of
 * them, required. */
static int
get_secret(struct channel *ch, const struct cfg_node *cfg, const char *key,
    char **out, struct diag_list *diags)
{
	const struct cfg_node *plain, *file;
	char fkey[40], *path = NULL;
	int rv = 0;

	(void)snprintf(fkey, sizeof(fkey), "%s_file", key);
	plain = cfg_node_get(cfg, key);
	file = cfg_node_get(cfg, fkey);
	if (plain != NULL && file != NULL)
		return cfg_error(diags, file, "give %s or %s, not both", key,
		    fkey);
	if (plain == NULL && file == NULL)
		return cfg_error(diags, cfg, "%s or %s is required", key,
		    fkey);
	if (plain != NULL)
		return chan_cfg_text(cfg, key, 256, CHAN_TEXT_NOBLANK, out,
		    diags);
	if (cfg_get_path(cfg, fkey, ch->env->data_dir, &path, diags) == 0 &&
	    path != NULL && cfg_read_secret_file(file, path, key, 256, out,
	    diags) == ENG_ENOMEM)
		rv = ENG_ENOMEM;
	free(path);
	return rv;
}

/* url: http(s)://host[:port][/path], no query, fragment or blanks;
 * host and path kept for signing. */
static int
parse_url(struct vh_priv *p, const struct cfg_node *cfg, const char *s,
    struct diag_list *diags)
{
	const struct cfg_node *n = cfg_node_get(cfg, "url");
	const char *host, *slash;
	const unsigned char *u;
	char *h;

	if (chan_cfg_url(cfg, s, 0, diags) != 0)
		return ENG_EINVAL;
	host = s + (s[4] == 's' ? 8 : 7);	/* https:// or http:// */
	for (u = (const unsigned char *)s; *u != '\0'; u++)
		if (*u <= 0x20 || *u >= 0x7f || *u == '?' || *u == '#' ||
		    *u == '@')
			return cfg_error(diags, n, "url must not have a query, "
			    "a fragment, user info, blanks or non-ASCII "
			    "bytes");
	slash = strchr(host, '/');
	if ((p->url = strdup(s)) == NULL ||
	    (p->host = strndup(host, slash != NULL ? (size_t)(slash - host) :
	    strlen(host))) == NULL ||
	    (p->path = strdup(slash != NULL ? slash : "/")) == NULL)
		return ENG_ENOMEM;
	/* Signed in lower case (TC3 canonical headers), and sent so. */
	for (h = p->host; *h != '\0'; h++)
		if (*h >= 'A' && *h <= 'Z')
			*h = (char)(*h - 'A' + 'a');
	return 0;
}

static int
vh_init(struct channel *ch, const struct cfg_node *cfg,
    struct diag_list *diags)
{
	struct vh_priv *p = ch->priv;
	const char *url = NULL;
	size_t n0 = diags->nerrors;
	int rv = 0;

	p->play_times = 2;
	p->concurrency = 4;
	p->timeout_ms = 10000;
	p->q.up = 1;
	if (sodium_init() < 0)
		return ENG_ENOMEM;
	(void)cfg_check_keys(cfg, keys, diags);
	(void)cfg_require(cfg, "url", diags);
	(void)cfg_require(cfg, "app_id", diags);
	(void)cfg_require(cfg, "template_id", diags);
	if (cfg_get_str(cfg, "url", &url, diags) == 0 && url != NULL &&
	    parse_url(p, cfg, url, diags) == ENG_ENOMEM)
		rv = ENG_ENOMEM;
	if (get_secret(ch, cfg, "secret_id", &p->secret_id, diags) ==
	    ENG_ENOMEM ||
	    get_secret(ch, cfg, "secret_key", &p->secret_key, diags) ==
	    ENG_ENOMEM ||
	    chan_cfg_text(cfg, "app_id", 20, CHAN_TEXT_DIGITS, &p->app_id,
	    diags) == ENG_ENOMEM ||
	    chan_cfg_text(cfg, "template_id", 20, CHAN_TEXT_DIGITS,
	    &p->template_id, diags) == ENG_ENOMEM ||
	    chan_cfg_text(cfg, "region", 32, CHAN_TEXT_NOBLANK, &p->region,
	    diags) == ENG_ENOMEM)
		rv = ENG_ENOMEM;
	(void)cfg_get_int(cfg, "play_times", 1, 3, &p->play_times, diags);
	(void)cfg_get_int(cfg, "concurrency", 1, 64, &p->concurrency, diags);
	(void)cfg_get_duration_ms(cfg, "timeout", 100, 300000, &p->timeout_ms,
	    diags);
	if (rv == 0 && p->region == NULL &&
	    (p->region = strdup("ap-guangzhou")) == NULL)
		rv = ENG_ENOMEM;
	p->max_queued = (size_t)(4 * p->concurrency);
	if (p->max_queued < 16)
		p->max_queued = 16;
	if (rv == 0 && diags->nerrors > n0)
		rv = ENG_EINVAL;
	if (rv == 0) {
		p->calls = calloc(VH_CALLS_KEPT, sizeof(*p->calls));
		if (p->calls == NULL)
			rv = ENG_ENOMEM;
		else
			rv = curlq_init(&p->q, &vq_ops,
			    (size_t)p->concurrency, (long)p->timeout_ms);
	}
	if (rv == 0) {
		if (pthread_mutex_init(&p->lock, NULL) != 0)
			rv = ENG_ENOMEM;
		else
			p->lock_ok = 1;
	}
	return rv;
}

/* ------------------------------------------------------------------ */
/* send                                                                */
/* ------------------------------------------------------------------ */

/* Queue one message (curlq_send's add). */
static int
add_msg(void *arg, const struct chan_msg *m)
{
	struct vh_priv *p = arg;
	struct eng_errbuf eb;
	struct vcall *q;
	char num[32];
	const char *text = m->text != NULL ? m->text : "";

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return ENG_ENOMEM;
	q->id = m->delivery_id;
	q->cq.n = 1;
	q->cq.ids = &q->id;
	q->cq.deadline_ms = m->deadline_ms;
	q->cq.resp = q->resp;
	q->cq.resp_size = sizeof(q->resp);
	eng_errbuf_init(&eb);
	if (m->to == NULL || roster_phone_norm(m->to, num, sizeof(num),
	    &eb) != 0 || strlen(num) != 11 || num[0] != '1')
		q->cq.fail = "not a mainland China mobile number (VMS calls "
		    "those only)";
	else if (text[0] == '\0')
		q->cq.fail = "empty voice script";
	else if (utf8_chars(text) > VH_TEXT_MAX)
		q->cq.fail = "the voice script is longer than the 350 "
		    "characters VMS plays";
	if (q->cq.fail == NULL) {
		struct strbuf b = STRBUF_INIT;

		strbuf_addf(&b, "+86%s", num);
		q->to = b.p;
		if (b.oom || (q->text = strdup(text)) == NULL) {
			vcall_free(q);
			return ENG_ENOMEM;
		}
	}
	curlq_push(&p->q, &q->cq);
	return 0;
}

static int
vh_send(struct channel *ch, const struct chan_msg *m, size_t n)
{
	struct vh_priv *p = ch->priv;

	return curlq_send(&p->q, m, n, VH_MAX_BATCH, p->max_queued, add_msg, p);
}

/* ------------------------------------------------------------------ */
/* poll                                                                */
/* ------------------------------------------------------------------ */

/* The SendTtsVoice body. */
static char *
render(const struct vh_priv *p, const struct vcall *q)
{
	struct strbuf b = STRBUF_INIT;

	strbuf_addstr(&b, "{\"TemplateId\":\"");
	strbuf_addjson(&b, p->template_id);
	strbuf_addstr(&b, "\",\"CalledNumber\":\"");
	strbuf_addjson(&b, q->to);
	strbuf_addstr(&b, "\",\"VoiceSdkAppid\":\"");
	strbuf_addjson(&b, p->app_id);
	strbuf_addstr(&b, "\",\"TemplateParamSet\":[\"");
	strbuf_addjson(&b, q->text);
	strbuf_addf(&b, "\"],\"PlayTimes\":%lld,\"SessionContext\":\"%lld\"}",
	    (long long)p->play_times, (long long)q->id);
	if (b.oom) {
		strbuf_release(&b);
		return NULL;
	}
	return b.p;
}

static int
add_hdr(struct vcall *q, const char *name, const char *v)
{
	char h[1400];
	struct curl_slist *l;
	int n;

	n = snprintf(h, sizeof(h), "%s:%s%s", name, v[0] != '\0' ? " " : "",
	    v);
	if (n < 0 || (size_t)n >= sizeof(h))
		return ENG_ENOMEM;
	l = curl_slist_append(q->hdrs, h);
	explicit_bzero(h, sizeof(h));
	if (l == NULL)
		return ENG_ENOMEM;
	q->hdrs = l;
	return 0;
}

static int
vq_setup(struct channel *ch, struct curlq_req *cr, int64_t now_ms)
{
	struct vh_priv *p = ch->priv;
	struct vcall *q = (struct vcall *)(void *)cr;
	char auth[700], ts[24];
	long long t = (long long)(now_ms / 1000);
	CURL *e = cr->easy;
	int rv;

	if ((q->body = render(p, q)) == NULL)
		return ENG_ENOMEM;
	if (tc3_authorization(p, q->body, t, auth, sizeof(auth)) != 0)
		return ENG_ENOMEM;
	(void)snprintf(ts, sizeof(ts), "%lld", t);
	rv = add_hdr(q, "Content-Type", VH_CTYPE);
	if (rv == 0)
		rv = add_hdr(q, "Host", p->host);
	if (rv == 0)
		rv = add_hdr(q, "X-TC-Action", VH_ACTION);
	if (rv == 0)
		rv = add_hdr(q, "X-TC-Version", VH_VERSION);
	if (rv == 0)
		rv = add_hdr(q, "X-TC-Timestamp", ts);
	if (rv == 0)
		rv = add_hdr(q, "X-TC-Region", p->region);
	if (rv == 0)
		rv = add_hdr(q, "Authorization", auth);
	if (rv == 0)
		rv = add_hdr(q, "Expect", "");
	explicit_bzero(auth, sizeof(auth));
	if (rv != 0)
		return rv;
	if (curl_easy_setopt(e, CURLOPT_URL, p->url) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_POSTFIELDS, q->body) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(q->body))
	    != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_HTTPHEADER, q->hdrs) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_USERAGENT, "gong") != CURLE_OK)
		return ENG_ENOMEM;
	return 0;
}

static int
permanent_code(const char *code)
{
	size_t i;

	if (strcmp(code, "AuthFailure.SignatureExpire") == 0)
		return 0;	/* our clock: a later try may pass */
	for (i = 0; fail_codes[i] != NULL; i++)
		if (strcmp(code, fail_codes[i]) == 0)
			return 1;
	for (i = 0; fail_prefixes[i] != NULL; i++)
		if (strncmp(code, fail_prefixes[i],
		    strlen(fail_prefixes[i])) == 0)
			return 1;
	return 0;
}

static void
vq_finish(struct channel *ch, struct curlq_req *cr, CURLcode res)
{
	struct vh_priv *p = ch->priv;
	struct vcall *q = (struct vcall *)(void *)cr;
	json_t *j = NULL, *r, *e;
	const char *code, *msg, *callid;
	char err[512], resp[420];
	curl_off_t ra = 0;
	long status = 0;

	if (res != CURLE_OK) {
		(void)snprintf(err, sizeof(err), "%s", cr->errbuf[0] != '\0' ?
		    cr->errbuf : curl_easy_strerror(res));
		p->q.up = 0;
		curlq_set_detail(&p->q, err);
		curlq_report(ch, q->id, CHAN_R_RETRY, err, NULL, 0);
		return;
	}
	(void)curl_easy_getinfo(cr->easy, CURLINFO_RESPONSE_CODE, &status);
	if (curl_easy_getinfo(cr->easy, CURLINFO_RETRY_AFTER, &ra) !=
	    CURLE_OK || ra < 0 || ra > 86400)
		ra = 0;
	curlq_clean_copy(resp, sizeof(resp), q->resp);
	p->q.up = status < 500;
	if (status != 200) {
		(void)snprintf(err, sizeof(err), "HTTP %ld: %s", status, resp);
		curlq_set_detail(&p->q, err);
		curlq_report(ch, q->id, status == 408 || status == 429 ||
		    status >= 500 || status < 200 ? CHAN_R_RETRY :
		    CHAN_R_FAILED, err, NULL, (int64_t)ra * 1000);
		return;
	}
	j = json_loadb(q->resp, cr->resp_len, 0, NULL);
	r = json_object_get(j, "Response");
	e = json_object_get(r, "Error");
	callid = json_string_value(json_object_get(json_object_get(r,
	    "SendStatus"), "CallId"));
	if (json_is_object(e) && (code = json_string_value(json_object_get(e,
	    "Code"))) != NULL) {
		msg = json_string_value(json_object_get(e, "Message"));
		(void)snprintf(err, sizeof(err), "%.100s: %.300s", code,
		    msg != NULL ? msg : "");
		curlq_clean_copy(err, sizeof(err), err);
		curlq_set_detail(&p->q, err);
		curlq_report(ch, q->id, permanent_code(code) ? CHAN_R_FAILED :
		    CHAN_R_RETRY, err, NULL, 0);
	} else if (callid != NULL && callid[0] != '\0' &&
	    strlen(callid) <= VH_CALLID_MAX) {
		p->q.detail[0] = '\0';
		remember(p, callid, q->id);
		curlq_report(ch, q->id, CHAN_R_SENT, NULL, callid, 0);
	} else {
		(void)snprintf(err, sizeof(err), "unexpected answer: %s", resp);
		curlq_set_detail(&p->q, err);
		curlq_report(ch, q->id, CHAN_R_RETRY, err, NULL, 0);
	}
	json_decref(j);
}

/* Up to four rounds a poll, else a wait of at most 5 ms; expired calls
 * RETRY (the engine ends them). */
static const struct curlq_ops vq_ops = {
	.setup = vq_setup, .finish = vq_finish, .free = vcall_free,
	.protocols = "http,https", .expired = CHAN_R_RETRY,
	.flags = CURLQ_CLEAN_DETAIL, .max_wait_ms = 5,
};

/* ------------------------------------------------------------------ */
/* inbound                                                             */
/* ------------------------------------------------------------------ */

/* A JSON answer in VMS's callback-answer shape. */
static int
answer(struct chan_http_resp *resp, int status, const char *errmsg)
{
	struct strbuf b = STRBUF_INIT;

	resp->status = status;
	resp->content_type = "application/json";
	strbuf_addf(&b, "{\"result\":%d,\"errmsg\":\"", status == 200 ? 0 :
	    1);
	strbuf_addjson(&b, errmsg);
	strbuf_addstr(&b, "\"}");
	if (b.oom || b.len >= sizeof(resp->body))
		(void)snprintf(resp->body, sizeof(resp->body),
		    "{\"result\":1,\"errmsg\":\"refused\"}");
	else
		memcpy(resp->body, b.p, b.len + 1);
	strbuf_release(&b);
	return 0;
}

/* A field as short text (a string, or an integer as digits) into out;
 * -1 if absent, of another kind, empty or too long. */
static int
field(json_t *o, const char *name, char *out, size_t size)
{
	json_t *v = json_object_get(o, name);
	int n;

	if (json_is_string(v)) {
		if (json_string_length(v) == 0 ||
		    json_string_length(v) >= size ||
		    strlen(json_string_value(v)) != json_string_length(v))
			return -1;
		memcpy(out, json_string_value(v), json_string_length(v) + 1);
		return 0;
	}
	if (json_is_integer(v)) {
		n = snprintf(out, size, "%lld",
		    (long long)json_integer_value(v));
		return n > 0 && (size_t)n < size ? 0 : -1;
	}
	return -1;
}

/* The called number, as the roster stores it. */
static int
called(json_t *o, char *out, size_t size)
{
	struct eng_errbuf eb;
	char mobile[40], nc[8], full[56];

	if (field(o, "mobile", mobile, sizeof(mobile)) != 0)
		return -1;
	if (field(o, "nationcode", nc, sizeof(nc)) != 0 ||
	    strcmp(nc, "86") == 0)
		(void)snprintf(full, sizeof(full), "%s", mobile);
	else
		(void)snprintf(full, sizeof(full), "+%s%s", nc, mobile);
	eng_errbuf_init(&eb);
	return roster_phone_norm(full, out, size, &eb) == 0 ? 0 : -1;
}

static int
vh_inbound(const struct channel *ch, const struct chan_http_req *req,
    int (*emit)(void *arg, const struct chan_event *ev), void *arg,
    struct chan_http_resp *resp)
{
	struct vh_priv *p = ch->priv;
	const char *rest = req->rest != NULL ? req->rest : "";
	const char *kind;
	char callid[VH_CALLID_MAX + 1], from[24], val[24], reason[200];
	char msg[300];
	struct chan_event ev;
	json_error_t je;
	json_t *root = NULL, *o;
	size_t i;
	int rv = 0;

	if (strcmp(rest, "") != 0 && strcmp(rest, "/") != 0 &&
	    strcmp(rest, "/callback") != 0)
		return answer(resp, 404, "not found");
	if (req->method == NULL || strcmp(req->method, "POST") != 0)
		return answer(resp, 405, "use POST");
	if (req->body == NULL || req->body_len == 0)
		return answer(resp, 400, "no body");
	if (req->body_len > VH_CB_MAX)
		return answer(resp, 413, "callback body larger than 4096 "
		    "bytes");
	if ((root = json_loadb(req->body, req->body_len,
	    JSON_REJECT_DUPLICATES, &je)) == NULL) {
		(void)snprintf(msg, sizeof(msg), "not JSON: %s", je.text);
		return answer(resp, 400, msg);
	}
	if (!json_is_object(root) || json_object_size(root) != 1) {
		json_decref(root);
		return answer(resp, 400, "want an object with one of "
		    "voiceprompt_callback, voicekey_callback, "
		    "voice_failure_callback");
	}
	kind = json_object_iter_key(json_object_iter(root));
	o = json_object_get(root, kind);
	if (strcmp(kind, "voiceprompt_callback") != 0 &&
	    strcmp(kind, "voicekey_callback") != 0 &&
	    strcmp(kind, "voice_failure_callback") != 0) {
		json_decref(root);
		return answer(resp, 400, "want one of voiceprompt_callback, "
		    "voicekey_callback, voice_failure_callback");
	}
	if (!json_is_object(o)) {
		(void)snprintf(msg, sizeof(msg), "%s is not an object", kind);
		json_decref(root);
		return answer(resp, 400, msg);
	}
	if (field(o, "callid", callid, sizeof(callid)) != 0) {
		json_decref(root);
		return answer(resp, 400, "no callid (a string of 1 to 64 "
		    "bytes)");
	}
	for (i = 0; callid[i] != '\0'; i++)
		if ((unsigned char)callid[i] <= 0x20 ||
		    (unsigned char)callid[i] >= 0x7f) {
			json_decref(root);
			return answer(resp, 400, "bad callid");
		}
	if (called(o, from, sizeof(from)) != 0) {
		json_decref(root);
		return answer(resp, 400, "no mobile, or not a phone number");
	}
	memset(&ev, 0, sizeof(ev));
	ev.delivery_id = recall(p, callid);
	ev.gateway_id = callid;
	if (strcmp(kind, "voicekey_callback") == 0) {
		if (field(o, "keypress", val, sizeof(val)) != 0) {
			json_decref(root);
			return answer(resp, 400, "no keypress");
		}
		if (strcmp(val, "1") != 0) {
			curlq_clean_copy(reason, sizeof(reason), val);
			log_info("voice.key", "channel=%s callid=%s "
			    "delivery=%lld key=%s outcome=ignored", ch->name,
			    callid, (long long)ev.delivery_id, reason);
			json_decref(root);
			return answer(resp, 200, "OK");
		}
		ev.kind = CHAN_EV_REPLY;
		ev.from = from;
		ev.text = "1";
	} else if (strcmp(kind, "voiceprompt_callback") == 0) {
		if (field(o, "result", val, sizeof(val)) != 0 ||
		    (strcmp(val, "0") != 0 && strcmp(val, "1") != 0 &&
		    strcmp(val, "2") != 0)) {
			json_decref(root);
			return answer(resp, 400, "result must be 0, 1 or 2");
		}
		ev.kind = CHAN_EV_RECEIPT;
		if (strcmp(val, "0") == 0)
			ev.result = CHAN_R_DELIVERED;
		else {
			ev.result = CHAN_R_FAILED;
			ev.error = strcmp(val, "1") == 0 ?
			    "not answered (未接听)" : "call failed (呼叫异常)";
		}
	} else {
		const char *fr = json_string_value(json_object_get(o,
		    "failure_reason"));

		if (field(o, "failure_code", val, sizeof(val)) != 0) {
			json_decref(root);
			return answer(resp, 400, "no failure_code");
		}
		curlq_clean_copy(msg, sizeof(msg), fr != NULL ? fr : "");
		(void)snprintf(reason, sizeof(reason),
		    "failure_code %s: %.150s", val, msg);
		ev.kind = CHAN_EV_RECEIPT;
		ev.result = CHAN_R_FAILED;
		ev.error = reason;
	}
	rv = emit(arg, &ev);
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
free_secret(char **s)
{
	if (*s != NULL)
		explicit_bzero(*s, strlen(*s));
	free(*s);
	*s = NULL;
}

static void
vh_shutdown(struct channel *ch)
{
	struct vh_priv *p = ch->priv;

	if (p == NULL)
		return;
	curlq_release(&p->q, ch);
	if (p->lock_ok)
		(void)pthread_mutex_destroy(&p->lock);
	p->lock_ok = 0;
	free(p->calls);
	p->calls = NULL;
	free_secret(&p->secret_key);
	free_secret(&p->secret_id);
	free(p->url);
	free(p->host);
	free(p->path);
	free(p->app_id);
	free(p->template_id);
	free(p->region);
	p->url = p->host = p->path = NULL;
	p->app_id = p->template_id = p->region = NULL;
}

const struct channel_ops chan_voice_http_ops = {
	.name = "voice-http",
	.version = CHANNEL_OPS_V1,
	.priv_size = sizeof(struct vh_priv),
	.caps = CHAN_CAP_PERSON | CHAN_CAP_RECEIPTS | CHAN_CAP_INBOUND |
	    CHAN_CAP_POLL_WAITS,
	.max_batch = VH_MAX_BATCH,
	.addr = CHAN_ADDR_PHONE,
	.init = vh_init,
	.send = vh_send,
	.poll = curlq_chan_poll,
	.inbound = vh_inbound,
	.health = curlq_chan_health,
	.shutdown = vh_shutdown,
};
