/*
 * channels/sms_http.c - the "sms_http" driver: a generic batch SMS
 * gateway over HTTP (one request, many numbers, one text), as Chinese SMS
 * vendors offer it.  Config:
 *
 *   - name: sms-batch
 *     type: sms_http
 *     url: https://sms.example.cn/api/send    # no query, no fragment
 *     method: POST               # POST or PUT (default POST)
 *     format: json               # json or form (default json)
 *     body: '{"mobile":"{{numbers}}","content":"{{text}}",
 *            "ids":"{{ids}}"}'   # the request body, see below
 *     numbers_per_request: 100   # 1..1000 (default 100)
 *     separator: ","             # between numbers and ids (default ",")
 *     auth_header: X-Api-Key     # a header carrying api_key (optional)
 *     api_key: secret            # or api_key_file: (first line, relative
 *                                # to the data directory)
 *     success_status: 200        # the HTTP status of success (default 200)
 *     success_field: code        # JSON field of the answer (dotted path,
 *     success_value: "OK"        # a.b.0.c) that must equal success_value
 *                                # (absent: the status alone decides)
 *     gateway_id_field: msgid    # the gateway's message id in the answer
 *     retry_values: [TOO_FAST]   # values of success_field: try again
 *     fail_values: [BAD_NUMBER]  # values of success_field: permanent
 *     concurrency: 4             # requests in flight, 1..256 (default 4)
 *     timeout: 10s               # per request, 100ms..5m (default 10s)
 *     receipt_id_field: id       # receipts: the client message id,
 *     receipt_status_field: status  # its status,
 *     receipt_error_field: error    # the gateway's words (optional),
 *     receipt_delivered_values: [DELIVERED, DELIVRD, SUCCESS, "true"]
 *
 * The body is a template with placeholders, each escaped for the format
 * (JSON string contents, or percent-encoding for form bodies): {{numbers}}
 * the numbers of the request joined by separator, {{ids}} their delivery
 * ids in the same order (the client message ids: rule 6), {{batch_id}}
 * the first of them, {{text}} the message, {{text_json}} the message
 * escaped as a JSON string's contents and then for the format (a form
 * field that holds JSON), {{api_key}}, and {{callback}} (this channel's
 * receipt URL).  Unknown placeholders are config errors.
 *
 * Batching: the dispatcher may hand messages one per send call; messages
 * with the same text are gathered into the request at the end of the
 * queue until it holds numbers_per_request numbers (requests start only
 * in poll).  The queue is bounded (8 * concurrency * numbers_per_request,
 * at least 64 messages): beyond it send answers ENG_ETEMP, so that what
 * the engine has not handed over can still be cancelled, and what a
 * crash leaves "sending" is little.
 *
 * Answers: success_status with the success rule is CHAN_R_SENT (with
 * gateway_id_field's value); 408, 429 (Retry-After honoured), 5xx,
 * time-outs, refused connections, retry_values, unreadable or unexpected
 * answers CHAN_R_RETRY (rule 4: when in doubt, retry); other 4xx and
 * fail_values are permanent: a request of several numbers is then split
 * and each number tried alone, so that one bad number does not fail the
 * others; a single number gets CHAN_R_FAILED with the gateway's words.
 * Numbers that are not phone numbers fail before any request.
 *
 * Receipts: POST <callback_base>/receipt with a JSON object or an array
 * of objects (at most 1000), each with receipt_id_field (the delivery id,
 * as a string or a number) and receipt_status_field (compared as text:
 * true is "true", 0 is "0"); a value in receipt_delivered_values is
 * CHAN_R_DELIVERED, any other CHAN_R_FAILED.  Every object is checked
 * before any is applied: a bad one refuses the whole callback (400).
 *
 * The shipped profile, config/sms-profiles/aliyun.yaml, follows the
 * documented fields of Alibaba Cloud SMS (阿里云短信服务, Dysmsapi SendSms):
 * form fields PhoneNumbers (comma-separated, up to 1000), SignName,
 * TemplateCode, TemplateParam (JSON) and OutId; the answer's Code "OK"
 * with BizId, isv.BUSINESS_LIMIT_CONTROL (flow control) to retry and
 * isv.MOBILE_NUMBER_ILLEGAL to fail; receipts as its SmsReport push
 * (phone_number, success, err_code, err_msg, biz_id, out_id).  The
 * request signature of Alibaba's RPC API (AccessKey HMAC) is not computed
 * here: the profile is meant for a signing proxy or a vendor endpoint
 * taking an API key header.  OutId is one per request, so receipts map
 * back to deliveries exactly with numbers_per_request: 1; with larger
 * batches out_id holds several ids and such receipts are acknowledged
 * and ignored (the deliveries stay "sent").
 */
#include "channels/chan_cfg_int.h"
#include "channels/channel.h"
#include "config/cfg.h"
#include "engine/strbuf.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SH_MAX_BATCH	1000	/* numbers_per_request limit */
#define SH_RESP_MAX	4096	/* answer bytes kept */
#define SH_MAX_VALUES	32	/* retry_values, fail_values, … */
#define SH_BODY_MAX	8192	/* template bytes */
#define SH_RCPT_MAX	1000	/* receipts in one callback */

enum ph {
	PH_LIT = 0, PH_NUMBERS, PH_IDS, PH_BATCH, PH_TEXT, PH_KEY, PH_CB,
	PH_TEXTJ
};

static const char *const ph_names[] = {
	"", "numbers", "ids", "batch_id", "text", "api_key", "callback",
	"text_json", NULL
};

/* One piece of the body template: literal text or a placeholder. */
struct seg {
	enum ph kind;
	char *lit;
};

struct sreq {
	struct sreq *next;
	size_t n;
	int64_t *ids;
	char **to;
	char *text;
	int64_t deadline_ms;	/* earliest; 0: none */
	const char *fail;	/* static: refused before sending */
	char *body;
	struct curl_slist *hdrs;
	CURL *easy;
	size_t resp_len;
	char resp[SH_RESP_MAX];
	char errbuf[CURL_ERROR_SIZE];
};

struct sh_priv {
	/* Config (inbound reads it from other threads; init sets it). */
	char *url;
	int put;
	int form;
	struct seg *segs;
	size_t nsegs;
	int64_t per_req;
	char *sep;
	char *auth_header;
	char *api_key;
	int64_t success_status;
	char *success_field;
	char *success_value;
	char *gw_field;
	char **retry_values;
	char **fail_values;
	int64_t concurrency;
	int64_t timeout_ms;
	char *r_id, *r_status, *r_error;
	char **r_ok;
	char *cb_url;
	size_t max_queued;

	/* Dispatcher thread only. */
	CURLM *multi;
	struct sreq *head, *tail;
	size_t nqueued;
	struct sreq **inflight;
	size_t ninflight;
	int up;
	char detail[128];
};

static const char *const keys[] = {
	"name", "type", "url", "method", "format", "body",
	"numbers_per_request", "separator", "auth_header", "api_key",
	"api_key_file", "success_status", "success_field", "success_value",
	"gateway_id_field", "retry_values", "fail_values", "concurrency",
	"timeout", "receipt_id_field", "receipt_status_field",
	"receipt_error_field", "receipt_delivered_values",
	CHAN_ENGINE_KEYS,	/* the engine's (channel.h rules 9, 10) */
	NULL
};

static const char *const default_ok[] = {
	"DELIVERED", "DELIVRD", "SUCCESS", "true", NULL
};

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

/* s escaped for the body's format. */
static void
sb_esc(struct strbuf *b, const char *s, int form)
{
	const unsigned char *u;
	char e[7];

	if (form) {
		strbuf_addurl(b, s);
		return;
	}
	for (u = (const unsigned char *)s; *u != '\0'; u++) {
		if (*u == '"' || *u == '\\') {
			e[0] = '\\';
			e[1] = (char)*u;
			strbuf_add(b, e, 2);
		} else if (*u < 0x20 || *u == 0x7f) {
			(void)snprintf(e, sizeof(e), "\\u%04x", *u);
			strbuf_add(b, e, 6);
		} else
			strbuf_add(b, (const char *)u, 1);
	}
}

/* A handset number: an optional '+' and 3 to 20 digits. */
static int
valid_phone(const char *s)
{
	size_t n = 0;

	if (s == NULL)
		return 0;
	if (*s == '+')
		s++;
	for (; *s != '\0'; s++, n++)
		if (*s < '0' || *s > '9' || n >= 20)
			return 0;
	return n >= 3;
}

static void
report(struct channel *ch, int64_t id, enum chan_result r, const char *err,
    const char *gw, int64_t retry_after_ms)
{
	struct chan_report rep;

	memset(&rep, 0, sizeof(rep));
	rep.delivery_id = id;
	rep.result = r;
	rep.error = err;
	rep.gateway_id = gw;
	rep.retry_after_ms = retry_after_ms;
	chan_report(ch, &rep);
}

static void
report_all(struct channel *ch, const struct sreq *q, enum chan_result r,
    const char *err, const char *gw, int64_t retry_after_ms)
{
	size_t i;

	for (i = 0; i < q->n; i++)
		report(ch, q->ids[i], r, err, gw, retry_after_ms);
}

static void
sreq_free(struct sreq *q)
{
	size_t i;

	if (q == NULL)
		return;
	if (q->easy != NULL)
		curl_easy_cleanup(q->easy);
	curl_slist_free_all(q->hdrs);
	for (i = 0; i < q->n; i++)
		free(q->to[i]);
	free(q->to);
	free(q->ids);
	free(q->text);
	free(q->body);
	free(q);
}

static struct sreq *
sreq_new(size_t cap)
{
	struct sreq *q;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	q->ids = calloc(cap, sizeof(*q->ids));
	q->to = calloc(cap, sizeof(*q->to));
	if (q->ids == NULL || q->to == NULL) {
		sreq_free(q);
		return NULL;
	}
	return q;
}

/* ------------------------------------------------------------------ */
/* init                                                                */
/* ------------------------------------------------------------------ */

/* A string key of 1..max bytes, copied; printable ASCII if ascii. */
static int
parse_body(struct sh_priv *p, const struct cfg_node *cfg, const char *t,
    struct diag_list *diags)
{
	const struct cfg_node *n = cfg_node_get(cfg, "body");
	const char *s = t, *o, *c;
	size_t cap = 8, k, len;
	struct seg *nv;
	int rv = 0;

	if (strlen(t) > SH_BODY_MAX)
		return cfg_error(diags, n, "body is longer than %d bytes",
		    SH_BODY_MAX);
	if ((p->segs = calloc(cap, sizeof(*p->segs))) == NULL)
		return ENG_ENOMEM;
	while (*s != '\0') {
		struct seg sg = { PH_LIT, NULL };

		o = strstr(s, "{{");
		if (o == s) {
			if ((c = strstr(o + 2, "}}")) == NULL)
				return cfg_error(diags, n, "body: '{{' at "
				    "byte %zu is not closed", (size_t)(o - t));
			len = (size_t)(c - o - 2);
			for (k = 1; ph_names[k] != NULL; k++)
				if (strlen(ph_names[k]) == len &&
				    memcmp(ph_names[k], o + 2, len) == 0)
					break;
			if (ph_names[k] == NULL) {
				rv = cfg_error(diags, n, "body: unknown "
				    "placeholder '%.*s' (known: numbers, ids, "
				    "batch_id, text, text_json, api_key, "
				    "callback)",
				    (int)(c - o) + 2 > 64 ? 64 :
				    (int)(c - o) + 2, o);
				s = c + 2;
				continue;
			}
			sg.kind = (enum ph)k;
			s = c + 2;
		} else {
			len = o != NULL ? (size_t)(o - s) : strlen(s);
			if ((sg.lit = strndup(s, len)) == NULL)
				return ENG_ENOMEM;
			s += len;
		}
		if (p->nsegs == cap) {
			cap *= 2;
			if ((nv = realloc(p->segs, cap * sizeof(*nv))) ==
			    NULL) {
				free(sg.lit);
				return ENG_ENOMEM;
			}
			p->segs = nv;
		}
		p->segs[p->nsegs++] = sg;
	}
	return rv;
}

static int
sh_init(struct channel *ch, const struct cfg_node *cfg,
    struct diag_list *diags)
{
	static const char *const methods[] = { "POST", "PUT", NULL };
	static const char *const formats[] = { "json", "form", NULL };
	struct sh_priv *p = ch->priv;
	const char *url = NULL, *body = NULL, *base = ch->env->callback_base;
	char *keyfile = NULL;
	size_t n0 = diags->nerrors, i;
	int rv = 0, e;

	p->per_req = 100;
	p->success_status = 200;
	p->concurrency = 4;
	p->timeout_ms = 10000;
	p->up = 1;
	(void)cfg_check_keys(cfg, keys, diags);
	(void)cfg_require(cfg, "url", diags);
	if (cfg_get_str(cfg, "url", &url, diags) == 0 && url != NULL &&
	    chan_cfg_url(cfg, url, CHAN_URL_NO_FRAGMENT, diags) == 0 &&
	    (p->url = strdup(url)) == NULL)
		rv = ENG_ENOMEM;
	e = 0;
	if (cfg_get_enum(cfg, "method", methods, &e, diags) == 0)
		p->put = e == 1;
	e = 0;
	if (cfg_get_enum(cfg, "format", formats, &e, diags) == 0)
		p->form = e == 1;
	(void)cfg_get_int(cfg, "numbers_per_request", 1, SH_MAX_BATCH,
	    &p->per_req, diags);
	(void)cfg_get_int(cfg, "success_status", 200, 299,
	    &p->success_status, diags);
	(void)cfg_get_int(cfg, "concurrency", 1, 256, &p->concurrency, diags);
	(void)cfg_get_duration_ms(cfg, "timeout", 100, 300000, &p->timeout_ms,
	    diags);
	if (chan_cfg_text(cfg, "separator", 8, CHAN_TEXT_ASCII, &p->sep,
	    diags) == ENG_ENOMEM ||
	    chan_cfg_text(cfg, "auth_header", 64, CHAN_TEXT_ASCII,
	    &p->auth_header, diags) == ENG_ENOMEM ||
	    chan_cfg_text(cfg, "success_field", 128, CHAN_TEXT_ANY,
	    &p->success_field, diags) == ENG_ENOMEM ||
	    chan_cfg_text(cfg, "success_value", 128, CHAN_TEXT_ANY,
	    &p->success_value, diags) == ENG_ENOMEM ||
	    chan_cfg_text(cfg, "gateway_id_field", 128, CHAN_TEXT_ANY,
	    &p->gw_field, diags) == ENG_ENOMEM ||
	    chan_cfg_text(cfg, "receipt_id_field", 64, CHAN_TEXT_ANY,
	    &p->r_id, diags) == ENG_ENOMEM ||
	    chan_cfg_text(cfg, "receipt_status_field", 64, CHAN_TEXT_ANY,
	    &p->r_status, diags) == ENG_ENOMEM ||
	    chan_cfg_text(cfg, "receipt_error_field", 64, CHAN_TEXT_ANY,
	    &p->r_error, diags) == ENG_ENOMEM ||
	    chan_cfg_strv(cfg, "retry_values", SH_MAX_VALUES, 128,
	    &p->retry_values, diags) == ENG_ENOMEM ||
	    chan_cfg_strv(cfg, "fail_values", SH_MAX_VALUES, 128,
	    &p->fail_values, diags) == ENG_ENOMEM ||
	    chan_cfg_strv(cfg, "receipt_delivered_values", SH_MAX_VALUES,
	    128, &p->r_ok, diags) == ENG_ENOMEM)
		rv = ENG_ENOMEM;
	if (p->auth_header != NULL && strchr(p->auth_header, ':') != NULL)
		(void)cfg_error(diags, cfg_node_get(cfg, "auth_header"),
		    "auth_header is a header name (without ':')");
	if ((p->success_field == NULL) != (p->success_value == NULL))
		(void)cfg_error(diags, cfg_node_get(cfg, p->success_field ?
		    "success_field" : "success_value"), "give success_field "
		    "and success_value together");
	if (cfg_node_get(cfg, "api_key") != NULL &&
	    cfg_node_get(cfg, "api_key_file") != NULL)
		(void)cfg_error(diags, cfg_node_get(cfg, "api_key_file"),
		    "give api_key or api_key_file, not both");
	else if (cfg_node_get(cfg, "api_key_file") != NULL) {
		if (cfg_get_path(cfg, "api_key_file", ch->env->data_dir,
		    &keyfile, diags) == 0 && keyfile != NULL &&
		    cfg_read_secret_file(cfg_node_get(cfg, "api_key_file"),
		    keyfile, "key", 512, &p->api_key, diags) == ENG_ENOMEM)
			rv = ENG_ENOMEM;
	} else if (chan_cfg_text(cfg, "api_key", 512, CHAN_TEXT_ASCII,
	    &p->api_key, diags) == ENG_ENOMEM)
		rv = ENG_ENOMEM;
	free(keyfile);
	if (p->auth_header != NULL && p->api_key == NULL)
		(void)cfg_error(diags, cfg_node_get(cfg, "auth_header"),
		    "auth_header needs api_key or api_key_file");

	if (cfg_get_str(cfg, "body", &body, diags) == 0 && body == NULL)
		body = p->form ?
		    "mobile={{numbers}}&content={{text}}&ids={{ids}}" :
		    "{\"mobile\":\"{{numbers}}\",\"content\":\"{{text}}\","
		    "\"ids\":\"{{ids}}\"}";
	if (body != NULL && rv == 0 && parse_body(p, cfg, body, diags) ==
	    ENG_ENOMEM)
		rv = ENG_ENOMEM;
	for (i = 0; i < p->nsegs; i++) {
		if (p->segs[i].kind == PH_KEY && p->api_key == NULL)
			(void)cfg_error(diags, cfg_node_get(cfg, "body"),
			    "body uses {{api_key}} but no api_key is set");
		if (p->segs[i].kind == PH_CB && (base == NULL ||
		    base[0] == '\0'))
			(void)cfg_error(diags, cfg_node_get(cfg, "body"),
			    "body uses {{callback}} but gongd has no "
			    "callback URL for this channel");
	}
	if (rv == 0 && p->sep == NULL && (p->sep = strdup(",")) == NULL)
		rv = ENG_ENOMEM;
	if (rv == 0 && p->r_id == NULL && (p->r_id = strdup("id")) == NULL)
		rv = ENG_ENOMEM;
	if (rv == 0 && p->r_status == NULL &&
	    (p->r_status = strdup("status")) == NULL)
		rv = ENG_ENOMEM;
	if (rv == 0 && p->r_ok == NULL) {
		if ((p->r_ok = calloc(5, sizeof(*p->r_ok))) == NULL)
			rv = ENG_ENOMEM;
		for (i = 0; rv == 0 && default_ok[i] != NULL; i++)
			if ((p->r_ok[i] = strdup(default_ok[i])) == NULL)
				rv = ENG_ENOMEM;
	}
	if (rv == 0 && base != NULL && base[0] != '\0' &&
	    asprintf(&p->cb_url, "%s/receipt", base) < 0) {
		p->cb_url = NULL;
		rv = ENG_ENOMEM;
	}
	p->max_queued = (size_t)(8 * p->concurrency * p->per_req);
	if (p->max_queued < 64)
		p->max_queued = 64;
	if (rv == 0 && diags->nerrors > n0)
		rv = ENG_EINVAL;
	if (rv == 0) {
		p->inflight = calloc((size_t)p->concurrency,
		    sizeof(*p->inflight));
		if (p->inflight == NULL ||
		    (p->multi = curl_multi_init()) == NULL)
			rv = ENG_ENOMEM;
	}
	if (rv == 0)
		(void)curl_multi_setopt(p->multi,
		    CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)p->concurrency);
	return rv;
}

/* ------------------------------------------------------------------ */
/* send                                                                */
/* ------------------------------------------------------------------ */

static void
enqueue(struct sh_priv *p, struct sreq *q)
{
	q->next = NULL;
	if (p->tail != NULL)
		p->tail->next = q;
	else
		p->head = q;
	p->tail = q;
}

/* Add one message: to the last request if it has room and the same
 * text, else to a new one. */
static int
add_msg(struct sh_priv *p, const struct chan_msg *m)
{
	const char *text = m->text != NULL ? m->text : "";
	struct sreq *q = p->tail;
	char *to;

	if (!valid_phone(m->to)) {
		if ((q = sreq_new(1)) == NULL)
			return ENG_ENOMEM;
		q->fail = "not a phone number";
		q->ids[q->n] = m->delivery_id;
		if ((q->to[q->n] = strdup("")) == NULL) {
			sreq_free(q);
			return ENG_ENOMEM;
		}
		q->n++;
		enqueue(p, q);
		p->nqueued++;
		return 0;
	}
	if ((to = strdup(m->to)) == NULL)
		return ENG_ENOMEM;
	if (q == NULL || q->fail != NULL || q->n >= (size_t)p->per_req ||
	    strcmp(q->text, text) != 0) {
		if ((q = sreq_new((size_t)p->per_req)) == NULL ||
		    (q->text = strdup(text)) == NULL) {
			sreq_free(q);
			free(to);
			return ENG_ENOMEM;
		}
		enqueue(p, q);
	}
	q->ids[q->n] = m->delivery_id;
	q->to[q->n++] = to;
	if (m->deadline_ms > 0 && (q->deadline_ms == 0 ||
	    m->deadline_ms < q->deadline_ms))
		q->deadline_ms = m->deadline_ms;
	p->nqueued++;
	return 0;
}

static int
sh_send(struct channel *ch, const struct chan_msg *m, size_t n)
{
	struct sh_priv *p = ch->priv;
	struct sreq *old_tail = p->tail, *q;
	size_t old_n = old_tail != NULL ? old_tail->n : 0, old_nq = p->nqueued;
	size_t i;

	if (p->multi == NULL || n > SH_MAX_BATCH)
		return ENG_EINVAL;
	if (p->nqueued + n > p->max_queued)
		return ENG_ETEMP;
	for (i = 0; i < n; i++)
		if (add_msg(p, &m[i]) != 0)
			break;
	if (i == n)
		return 0;
	/* Out of memory: take back what this call added. */
	q = old_tail != NULL ? old_tail->next : p->head;
	while (q != NULL) {
		struct sreq *next = q->next;

		sreq_free(q);
		q = next;
	}
	if (old_tail != NULL) {
		old_tail->next = NULL;
		while (old_tail->n > old_n)
			free(old_tail->to[--old_tail->n]);
	} else
		p->head = NULL;
	p->tail = old_tail;
	p->nqueued = old_nq;
	return ENG_ETEMP;
}

/* ------------------------------------------------------------------ */
/* poll                                                                */
/* ------------------------------------------------------------------ */

static size_t
write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct sreq *q = arg;
	size_t n = size * nmemb, room = sizeof(q->resp) - 1 - q->resp_len;

	if (n > room)
		n = room;
	memcpy(q->resp + q->resp_len, data, n);
	q->resp_len += n;
	q->resp[q->resp_len] = '\0';
	return size * nmemb;
}

static void
join(struct strbuf *b, const struct sh_priv *p, const struct sreq *q, int ids)
{
	struct strbuf t = STRBUF_INIT;
	char num[24];
	size_t i;

	for (i = 0; i < q->n; i++) {
		if (i > 0)
			strbuf_addstr(&t, p->sep);
		if (ids) {
			(void)snprintf(num, sizeof(num), "%lld",
			    (long long)q->ids[i]);
			strbuf_addstr(&t, num);
		} else
			strbuf_addstr(&t, q->to[i]);
	}
	if (t.oom)
		b->oom = 1;
	else if (t.p != NULL)
		sb_esc(b, t.p, p->form);
	free(t.p);
}

/* The request's body from the template. */
static char *
render(const struct sh_priv *p, const struct sreq *q)
{
	struct strbuf b = STRBUF_INIT, t = STRBUF_INIT;
	char num[24];
	size_t i;

	strbuf_add(&b, "", 0);
	for (i = 0; i < p->nsegs; i++) {
		switch (p->segs[i].kind) {
		case PH_LIT:
			strbuf_addstr(&b, p->segs[i].lit);
			break;
		case PH_NUMBERS:
			join(&b, p, q, 0);
			break;
		case PH_IDS:
			join(&b, p, q, 1);
			break;
		case PH_BATCH:
			(void)snprintf(num, sizeof(num), "%lld",
			    (long long)q->ids[0]);
			strbuf_addstr(&b, num);
			break;
		case PH_TEXT:
			sb_esc(&b, q->text, p->form);
			break;
		case PH_KEY:
			sb_esc(&b, p->api_key, p->form);
			break;
		case PH_CB:
			sb_esc(&b, p->cb_url, p->form);
			break;
		case PH_TEXTJ:
			/* A JSON string's contents inside the body (e.g. a
			 * form field holding JSON). */
			t.len = 0;
			strbuf_add(&t, "", 0);
			sb_esc(&t, q->text, 0);
			if (t.oom)
				b.oom = 1;
			else
				sb_esc(&b, t.p, p->form);
			break;
		}
	}
	free(t.p);
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

static int
start_request(struct sh_priv *p, struct sreq *q)
{
	char hdr[600];
	struct curl_slist *l;
	CURL *e;

	if ((q->body = render(p, q)) == NULL)
		return ENG_ENOMEM;
	l = curl_slist_append(NULL, p->form ? "Content-Type: "
	    "application/x-www-form-urlencoded; charset=utf-8" :
	    "Content-Type: application/json; charset=utf-8");
	if (l == NULL)
		return ENG_ENOMEM;
	q->hdrs = l;
	if ((l = curl_slist_append(q->hdrs, "Expect:")) == NULL)
		return ENG_ENOMEM;
	if (p->auth_header != NULL) {
		(void)snprintf(hdr, sizeof(hdr), "%s: %s", p->auth_header,
		    p->api_key);
		l = curl_slist_append(q->hdrs, hdr);
		explicit_bzero(hdr, sizeof(hdr));
		if (l == NULL)
			return ENG_ENOMEM;
	}
	if ((e = curl_easy_init()) == NULL)
		return ENG_ENOMEM;
	q->easy = e;
	if (curl_easy_setopt(e, CURLOPT_URL, p->url) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_PRIVATE, q) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_POSTFIELDS, q->body) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(q->body))
	    != CURLE_OK ||
	    (p->put && curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "PUT") !=
	    CURLE_OK) ||
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

static void
set_detail(struct sh_priv *p, const char *s)
{
	size_t n = strlen(s);

	if (n >= sizeof(p->detail))
		n = sizeof(p->detail) - 1;
	memcpy(p->detail, s, n);
	p->detail[n] = '\0';
}

/* The answer, trimmed to one printable line (for errors). */
static const char *
answer_text(struct sreq *q)
{
	size_t i;

	for (i = 0; i < q->resp_len; i++)
		if ((unsigned char)q->resp[i] < 0x20)
			q->resp[i] = ' ';
	while (q->resp_len > 0 && q->resp[q->resp_len - 1] == ' ')
		q->resp[--q->resp_len] = '\0';
	return q->resp;
}

/* The value at a dotted path (a.b.0.c) as text into out; -1 if absent or
 * not a scalar. */
static int
json_path_text(json_t *j, const char *path, char *out, size_t size)
{
	char key[130];
	const char *s = path, *dot;
	size_t len;
	char *end;
	long idx;

	while (j != NULL && *s != '\0') {
		dot = strchr(s, '.');
		len = dot != NULL ? (size_t)(dot - s) : strlen(s);
		if (len == 0 || len >= sizeof(key))
			return -1;
		memcpy(key, s, len);
		key[len] = '\0';
		if (json_is_array(j)) {
			errno = 0;
			idx = strtol(key, &end, 10);
			if (*end != '\0' || errno != 0 || idx < 0)
				return -1;
			j = json_array_get(j, (size_t)idx);
		} else
			j = json_object_get(j, key);
		s += len + (dot != NULL);
	}
	if (json_is_string(j))
		(void)snprintf(out, size, "%s", json_string_value(j));
	else if (json_is_integer(j))
		(void)snprintf(out, size, "%lld",
		    (long long)json_integer_value(j));
	else if (json_is_true(j))
		(void)snprintf(out, size, "true");
	else if (json_is_false(j))
		(void)snprintf(out, size, "false");
	else
		return -1;
	return 0;
}

/* A request refused for good: split into single numbers (tried again
 * at the head of the queue), or FAILED when it has one. */
static void
permanent(struct channel *ch, struct sreq *q, const char *err)
{
	struct sh_priv *p = ch->priv;
	struct sreq *first = NULL, *last = NULL, *s;
	size_t i;

	if (q->n == 1) {
		report_all(ch, q, CHAN_R_FAILED, err, NULL, 0);
		return;
	}
	for (i = 0; i < q->n; i++) {
		if ((s = sreq_new(1)) == NULL ||
		    (s->text = strdup(q->text)) == NULL) {
			sreq_free(s);
			/* The rest: tried again by the engine. */
			for (; i < q->n; i++)
				report(ch, q->ids[i], CHAN_R_RETRY,
				    "out of memory", NULL, 0);
			break;
		}
		s->ids[0] = q->ids[i];
		s->to[0] = q->to[i];
		q->to[i] = NULL;
		s->n = 1;
		s->deadline_ms = q->deadline_ms;
		if (last != NULL)
			last->next = s;
		else
			first = s;
		last = s;
		p->nqueued++;
	}
	if (first != NULL) {
		last->next = p->head;
		p->head = first;
		if (p->tail == NULL)
			p->tail = last;
	}
}

static void
finish(struct channel *ch, struct sreq *q, CURLcode res)
{
	struct sh_priv *p = ch->priv;
	char err[512], val[160], gw[160];
	curl_off_t ra = 0;
	json_t *j = NULL;
	long code = 0;

	if (res != CURLE_OK) {
		(void)snprintf(err, sizeof(err), "%s", q->errbuf[0] != '\0' ?
		    q->errbuf : curl_easy_strerror(res));
		p->up = 0;
		set_detail(p, err);
		report_all(ch, q, CHAN_R_RETRY, err, NULL, 0);
		return;
	}
	(void)curl_easy_getinfo(q->easy, CURLINFO_RESPONSE_CODE, &code);
	if (curl_easy_getinfo(q->easy, CURLINFO_RETRY_AFTER, &ra) !=
	    CURLE_OK || ra < 0 || ra > 86400)
		ra = 0;
	if (code == p->success_status && p->success_field == NULL) {
		p->up = 1;
		p->detail[0] = '\0';
		report_all(ch, q, CHAN_R_SENT, NULL, NULL, 0);
		return;
	}
	if (code == p->success_status)
		j = json_loadb(q->resp, q->resp_len, 0, NULL);
	(void)snprintf(err, sizeof(err), "HTTP %ld: %.400s", code,
	    answer_text(q));
	p->up = code < 500;
	if (code != p->success_status) {
		set_detail(p, err);
		if (code >= 400 && code < 500 && code != 408 && code != 429)
			permanent(ch, q, err);
		else
			report_all(ch, q, CHAN_R_RETRY, err, NULL,
			    (int64_t)ra * 1000);
		return;
	}
	if (j == NULL || json_path_text(j, p->success_field, val,
	    sizeof(val)) != 0) {
		set_detail(p, err);
		report_all(ch, q, CHAN_R_RETRY, err, NULL, (int64_t)ra * 1000);
	} else if (strcmp(val, p->success_value) == 0) {
		p->detail[0] = '\0';
		if (p->gw_field == NULL || json_path_text(j, p->gw_field, gw,
		    sizeof(gw)) != 0)
			gw[0] = '\0';
		report_all(ch, q, CHAN_R_SENT, NULL, gw[0] ? gw : NULL, 0);
	} else if (cfg_strv_has(p->fail_values, val)) {
		set_detail(p, err);
		permanent(ch, q, err);
	} else {
		/* retry_values, and any answer not understood. */
		set_detail(p, err);
		report_all(ch, q, CHAN_R_RETRY, err, NULL,
		    (int64_t)ra * 1000);
	}
	json_decref(j);
}

static void
drop_inflight(struct sh_priv *p, struct sreq *q)
{
	size_t i;

	for (i = 0; i < p->ninflight; i++)
		if (p->inflight[i] == q) {
			p->inflight[i] = p->inflight[--p->ninflight];
			break;
		}
	(void)curl_multi_remove_handle(p->multi, q->easy);
}

static void
start_queued(struct channel *ch, int64_t now_ms)
{
	struct sh_priv *p = ch->priv;
	struct sreq *q;

	while (p->head != NULL && p->ninflight < (size_t)p->concurrency) {
		q = p->head;
		p->head = q->next;
		if (p->head == NULL)
			p->tail = NULL;
		p->nqueued -= q->n;
		if (q->fail != NULL) {
			report_all(ch, q, CHAN_R_FAILED, q->fail, NULL, 0);
			sreq_free(q);
		} else if (q->deadline_ms > 0 && now_ms > q->deadline_ms) {
			/* RETRY past the deadline: the engine ends it dead. */
			report_all(ch, q, CHAN_R_RETRY,
			    "expired before it could be sent", NULL, 0);
			sreq_free(q);
		} else if (start_request(p, q) != 0) {
			report_all(ch, q, CHAN_R_RETRY, "out of memory", NULL,
			    0);
			sreq_free(q);
		}
	}
}

static int64_t
sh_poll(struct channel *ch, int64_t now_ms)
{
	struct sh_priv *p = ch->priv;
	struct sreq *q;
	CURLMsg *msg;
	CURLcode res;
	long tmo = -1;
	int running = 0, left, rounds;
	void *priv;

	if (p->multi == NULL)
		return 1000;
	for (rounds = 0; rounds < 4; rounds++) {
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
			finish(ch, q, res);
			sreq_free(q);
			left = 1;
		}
		if (!left)
			break;
	}
	start_queued(ch, now_ms);
	if (p->ninflight > 0)
		(void)curl_multi_perform(p->multi, &running);
	if (p->head != NULL && p->ninflight < (size_t)p->concurrency)
		return 0;
	if (p->ninflight == 0)
		return 1000;
	/* Some finished in the last perform: come back at once for them
	 * rather than wait on sockets they no longer have. */
	if ((size_t)running < p->ninflight)
		return 0;
	/* Wait briefly for an answer here: the engine sleeps on a timer,
	 * not on our sockets, and every millisecond between the gateway's
	 * answer and its record is a possible duplicate after a crash. */
	(void)curl_multi_poll(p->multi, NULL, 0, 2, NULL);
	(void)curl_multi_timeout(p->multi, &tmo);
	if (tmo < 0 || tmo > 5)
		tmo = 5;
	return tmo < 1 ? 1 : tmo;
}

/* ------------------------------------------------------------------ */
/* inbound                                                             */
/* ------------------------------------------------------------------ */

static int
answer(struct chan_http_resp *resp, int status, const char *body)
{
	resp->status = status;
	resp->content_type = "text/plain";
	(void)snprintf(resp->body, sizeof(resp->body), "%s", body);
	return 0;
}

/* A delivery id: 1 to 18 digits, > 0; -1 if it is not one. */
static int64_t
parse_id(const char *s)
{
	int64_t v = 0;
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 18)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v > 0 ? v : -1;
}

static int
sh_inbound(const struct channel *ch, const struct chan_http_req *req,
    int (*emit)(void *arg, const struct chan_event *ev), void *arg,
    struct chan_http_resp *resp)
{
	const struct sh_priv *p = ch->priv;
	const char *rest = req->rest != NULL ? req->rest : "";
	char id[160], st[160], er[200], msg[400];
	struct chan_event ev;
	json_error_t je;
	json_t *root, *o;
	size_t i, n;
	int pass, rv = 0;

	if (*rest == '/')
		rest++;
	if (strcmp(rest, "receipt") != 0)
		return answer(resp, 404, "not found");
	if (req->method == NULL || strcmp(req->method, "POST") != 0)
		return answer(resp, 405, "use POST");
	if (req->body == NULL || req->body_len == 0)
		return answer(resp, 400, "no body");
	if ((root = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES,
	    &je)) == NULL) {
		(void)snprintf(msg, sizeof(msg), "not JSON: %s", je.text);
		return answer(resp, 400, msg);
	}
	n = json_is_array(root) ? json_array_size(root) : 1;
	if (n == 0 || n > SH_RCPT_MAX) {
		json_decref(root);
		return answer(resp, 400, "1 to 1000 receipts per request");
	}
	/* Pass 0 checks every receipt, pass 1 applies them. */
	for (pass = 0; pass < 2 && rv == 0; pass++) {
		for (i = 0; i < n; i++) {
			int64_t did;

			o = json_is_array(root) ? json_array_get(root, i) :
			    root;
			if (!json_is_object(o)) {
				(void)snprintf(msg, sizeof(msg), "receipt %zu "
				    "is not an object", i);
				json_decref(root);
				return answer(resp, 400, msg);
			}
			if (json_path_text(o, p->r_id, id, sizeof(id)) != 0 ||
			    json_path_text(o, p->r_status, st, sizeof(st)) !=
			    0) {
				(void)snprintf(msg, sizeof(msg), "receipt %zu "
				    "has no %s or %s", i, p->r_id,
				    p->r_status);
				json_decref(root);
				return answer(resp, 400, msg);
			}
			if (strchr(id, ',') != NULL)
				continue;	/* several ids: see header */
			if ((did = parse_id(id)) < 0) {
				(void)snprintf(msg, sizeof(msg), "receipt %zu: "
				    "bad %s", i, p->r_id);
				json_decref(root);
				return answer(resp, 400, msg);
			}
			if (pass == 0)
				continue;
			memset(&ev, 0, sizeof(ev));
			ev.kind = CHAN_EV_RECEIPT;
			ev.delivery_id = did;
			if (cfg_strv_has(p->r_ok, st))
				ev.result = CHAN_R_DELIVERED;
			else {
				ev.result = CHAN_R_FAILED;
				if (p->r_error == NULL || json_path_text(o,
				    p->r_error, er, sizeof(er)) != 0)
					(void)snprintf(er, sizeof(er), "%s",
					    st);
				ev.error = er;
			}
			if ((rv = emit(arg, &ev)) != 0)
				break;
		}
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
sh_health(const struct channel *ch, struct chan_health *h)
{
	const struct sh_priv *p = ch->priv;

	memset(h, 0, sizeof(*h));
	h->up = p->up;
	h->queued = p->nqueued;
	h->in_flight = p->ninflight;
	(void)snprintf(h->detail, sizeof(h->detail), "%s", p->detail);
}

static void
sh_shutdown(struct channel *ch)
{
	struct sh_priv *p = ch->priv;
	struct sreq *q;
	size_t i;

	if (p == NULL)
		return;
	while (p->ninflight > 0) {
		q = p->inflight[p->ninflight - 1];
		drop_inflight(p, q);
		report_all(ch, q, CHAN_R_RETRY, "shut down", NULL, 0);
		sreq_free(q);
	}
	while ((q = p->head) != NULL) {
		p->head = q->next;
		if (q->fail != NULL)
			report_all(ch, q, CHAN_R_FAILED, q->fail, NULL, 0);
		else
			report_all(ch, q, CHAN_R_RETRY, "shut down", NULL, 0);
		sreq_free(q);
	}
	p->tail = NULL;
	p->nqueued = 0;
	if (p->multi != NULL)
		(void)curl_multi_cleanup(p->multi);
	p->multi = NULL;
	free(p->inflight);
	p->inflight = NULL;
	for (i = 0; i < p->nsegs; i++)
		free(p->segs[i].lit);
	free(p->segs);
	p->segs = NULL;
	p->nsegs = 0;
	if (p->api_key != NULL)
		explicit_bzero(p->api_key, strlen(p->api_key));
	free(p->api_key);
	free(p->url);
	free(p->sep);
	free(p->auth_header);
	free(p->success_field);
	free(p->success_value);
	free(p->gw_field);
	free(p->r_id);
	free(p->r_status);
	free(p->r_error);
	free(p->cb_url);
	chan_cfg_strv_free(p->retry_values);
	chan_cfg_strv_free(p->fail_values);
	chan_cfg_strv_free(p->r_ok);
	p->api_key = p->url = p->sep = p->auth_header = NULL;
	p->success_field = p->success_value = p->gw_field = NULL;
	p->r_id = p->r_status = p->r_error = p->cb_url = NULL;
	p->retry_values = p->fail_values = p->r_ok = NULL;
}

const struct channel_ops chan_sms_http_ops = {
	.name = "sms_http",
	.version = CHANNEL_OPS_V1,
	.priv_size = sizeof(struct sh_priv),
	.caps = CHAN_CAP_PERSON | CHAN_CAP_BATCH | CHAN_CAP_RECEIPTS |
	    CHAN_CAP_INBOUND |
	    CHAN_CAP_POLL_WAITS,
	.max_batch = SH_MAX_BATCH,
	.addr = CHAN_ADDR_PHONE,
	.init = sh_init,
	.send = sh_send,
	.poll = sh_poll,
	.inbound = sh_inbound,
	.health = sh_health,
	.shutdown = sh_shutdown,
};
