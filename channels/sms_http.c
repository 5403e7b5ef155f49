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
#include "channels/curlq_int.h"
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

/* A request; cq first (n numbers, deadline: the earliest of theirs). */
struct sreq {
	struct curlq_req cq;
	int64_t *ids;
	char **to;
	char *text;
	char *body;
	struct curl_slist *hdrs;
	char resp[SH_RESP_MAX];
};

struct sh_priv {
	/* Dispatcher thread only; first (curlq_chan_poll, _health). */
	struct curlq q;

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
};

static const struct curlq_ops sq_ops;

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
	if (form)
		strbuf_addurl(b, s);
	else
		strbuf_addjson(b, s);
}

static void
report_all(struct channel *ch, const struct sreq *q, enum chan_result r,
    const char *err, const char *gw, int64_t retry_after_ms)
{
	size_t i;

	for (i = 0; i < q->cq.n; i++)
		curlq_report(ch, q->ids[i], r, err, gw, retry_after_ms);
}

/* A request, for curlq_ops free too (NULL: nothing). */
static void
sreq_free(void *arg)
{
	struct sreq *q = arg;
	size_t i;

	if (q == NULL)
		return;
	curl_slist_free_all(q->hdrs);
	for (i = 0; i < q->cq.n; i++)
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
	q->cq.resp = q->resp;
	q->cq.resp_size = sizeof(q->resp);
	q->cq.ids = q->ids = calloc(cap, sizeof(*q->ids));
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

/* Split the body template into literal pieces and placeholders. */
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
	/* The text and list keys, in the order they are read. */
	const struct {
		const char *key;
		size_t max;
		unsigned flags;
		char **out;
	} tk[] = {
		{ "separator", 8, CHAN_TEXT_ASCII, &p->sep },
		{ "auth_header", 64, CHAN_TEXT_ASCII, &p->auth_header },
		{ "success_field", 128, CHAN_TEXT_ANY, &p->success_field },
		{ "success_value", 128, CHAN_TEXT_ANY, &p->success_value },
		{ "gateway_id_field", 128, CHAN_TEXT_ANY, &p->gw_field },
		{ "receipt_id_field", 64, CHAN_TEXT_ANY, &p->r_id },
		{ "receipt_status_field", 64, CHAN_TEXT_ANY, &p->r_status },
		{ "receipt_error_field", 64, CHAN_TEXT_ANY, &p->r_error },
	};
	const struct {
		const char *key;
		char ***out;
	} vk[] = {
		{ "retry_values", &p->retry_values },
		{ "fail_values", &p->fail_values },
		{ "receipt_delivered_values", &p->r_ok },
	};
	char *keyfile = NULL;
	size_t n0 = diags->nerrors, i;
	int rv = 0, e, oom = 0;

	p->per_req = 100;
	p->success_status = 200;
	p->concurrency = 4;
	p->timeout_ms = 10000;
	p->q.up = 1;
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
	/* Out of memory stops the reading (rv may be set already). */
	for (i = 0; !oom && i < sizeof(tk) / sizeof(tk[0]); i++)
		oom = chan_cfg_text(cfg, tk[i].key, tk[i].max, tk[i].flags,
		    tk[i].out, diags) == ENG_ENOMEM;
	for (i = 0; !oom && i < sizeof(vk) / sizeof(vk[0]); i++)
		oom = chan_cfg_strv(cfg, vk[i].key, SH_MAX_VALUES, 128,
		    vk[i].out, diags) == ENG_ENOMEM;
	if (oom)
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
	if (rv == 0)
		rv = curlq_init(&p->q, &sq_ops, (size_t)p->concurrency,
		    (long)p->timeout_ms);
	return rv;
}

/* ------------------------------------------------------------------ */
/* send                                                                */
/* ------------------------------------------------------------------ */

/* Add one message: to the last request if it has room and the same
 * text, else to a new one. */
static int
add_msg(struct sh_priv *p, const struct chan_msg *m)
{
	const char *text = m->text != NULL ? m->text : "";
	struct sreq *q = (struct sreq *)(void *)p->q.tail;
	char *to;

	if (!chan_phone_ok(m->to)) {
		if ((q = sreq_new(1)) == NULL)
			return ENG_ENOMEM;
		q->cq.fail = "not a phone number";
		q->ids[0] = m->delivery_id;
		if ((q->to[0] = strdup("")) == NULL) {
			sreq_free(q);
			return ENG_ENOMEM;
		}
		q->cq.n = 1;
		curlq_push(&p->q, &q->cq);	/* counts it queued */
		return 0;
	}
	if ((to = strdup(m->to)) == NULL)
		return ENG_ENOMEM;
	if (q == NULL || q->cq.fail != NULL || q->cq.n >= (size_t)p->per_req ||
	    strcmp(q->text, text) != 0) {
		if ((q = sreq_new((size_t)p->per_req)) == NULL ||
		    (q->text = strdup(text)) == NULL) {
			sreq_free(q);
			free(to);
			return ENG_ENOMEM;
		}
		curlq_push(&p->q, &q->cq);	/* no numbers yet */
	}
	q->ids[q->cq.n] = m->delivery_id;
	q->to[q->cq.n++] = to;
	if (m->deadline_ms > 0 && (q->cq.deadline_ms == 0 ||
	    m->deadline_ms < q->cq.deadline_ms))
		q->cq.deadline_ms = m->deadline_ms;
	p->q.nqueued++;
	return 0;
}

static int
sh_send(struct channel *ch, const struct chan_msg *m, size_t n)
{
	struct sh_priv *p = ch->priv;
	struct sreq *old_tail = (struct sreq *)(void *)p->q.tail;
	size_t old_n = old_tail != NULL ? old_tail->cq.n : 0, i;
	struct curlq_mark mark;

	if (p->q.multi == NULL || n > SH_MAX_BATCH)
		return ENG_EINVAL;
	if (p->q.nqueued + n > p->max_queued)
		return ENG_ETEMP;
	curlq_mark(&p->q, &mark);
	for (i = 0; i < n; i++)
		if (add_msg(p, &m[i]) != 0)
			break;
	if (i == n)
		return 0;
	/* Out of memory: take back what this call added. */
	curlq_rollback(&p->q, &mark);
	while (old_tail != NULL && old_tail->cq.n > old_n)
		free(old_tail->to[--old_tail->cq.n]);
	return ENG_ETEMP;
}

/* ------------------------------------------------------------------ */
/* poll                                                                */
/* ------------------------------------------------------------------ */

static void
join(struct strbuf *b, const struct sh_priv *p, const struct sreq *q, int ids)
{
	struct strbuf t = STRBUF_INIT;
	char num[24];
	size_t i;

	for (i = 0; i < q->cq.n; i++) {
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

/* The request's own options: body, headers, method (curlq sets the
 * rest). */
static int
sq_setup(struct channel *ch, struct curlq_req *r, int64_t now_ms)
{
	struct sh_priv *p = ch->priv;
	struct sreq *q = (struct sreq *)(void *)r;
	char hdr[600];
	struct curl_slist *l;
	CURL *e = r->easy;

	(void)now_ms;
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
	if (curl_easy_setopt(e, CURLOPT_URL, p->url) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_POSTFIELDS, q->body) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(q->body))
	    != CURLE_OK ||
	    (p->put && curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "PUT") !=
	    CURLE_OK) ||
	    curl_easy_setopt(e, CURLOPT_HTTPHEADER, q->hdrs) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_USERAGENT, "gong") != CURLE_OK)
		return ENG_ENOMEM;
	return 0;
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

	if (q->cq.n == 1) {
		report_all(ch, q, CHAN_R_FAILED, err, NULL, 0);
		return;
	}
	for (i = 0; i < q->cq.n; i++) {
		if ((s = sreq_new(1)) == NULL ||
		    (s->text = strdup(q->text)) == NULL) {
			sreq_free(s);
			/* The rest: tried again by the engine. */
			for (; i < q->cq.n; i++)
				curlq_report(ch, q->ids[i], CHAN_R_RETRY,
				    "out of memory", NULL, 0);
			break;
		}
		s->ids[0] = q->ids[i];
		s->to[0] = q->to[i];
		q->to[i] = NULL;
		s->cq.n = 1;
		s->cq.deadline_ms = q->cq.deadline_ms;
		if (last != NULL)
			last->cq.next = &s->cq;
		else
			first = s;
		last = s;
	}
	if (first != NULL)
		curlq_push_front(&p->q, &first->cq, &last->cq);
}

static void
sq_finish(struct channel *ch, struct curlq_req *r, CURLcode res)
{
	struct sh_priv *p = ch->priv;
	struct sreq *q = (struct sreq *)(void *)r;
	char err[512], val[160], gw[160];
	curl_off_t ra = 0;
	json_t *j = NULL;
	long code = 0;

	if (res != CURLE_OK) {
		(void)snprintf(err, sizeof(err), "%s", r->errbuf[0] != '\0' ?
		    r->errbuf : curl_easy_strerror(res));
		p->q.up = 0;
		curlq_set_detail(&p->q, err);
		report_all(ch, q, CHAN_R_RETRY, err, NULL, 0);
		return;
	}
	(void)curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
	if (curl_easy_getinfo(r->easy, CURLINFO_RETRY_AFTER, &ra) !=
	    CURLE_OK || ra < 0 || ra > 86400)
		ra = 0;
	if (code == p->success_status && p->success_field == NULL) {
		p->q.up = 1;
		p->q.detail[0] = '\0';
		report_all(ch, q, CHAN_R_SENT, NULL, NULL, 0);
		return;
	}
	if (code == p->success_status)
		j = json_loadb(q->resp, r->resp_len, 0, NULL);
	(void)snprintf(err, sizeof(err), "HTTP %ld: %.400s", code,
	    curlq_answer_text(r));
	p->q.up = code < 500;
	if (code != p->success_status) {
		curlq_set_detail(&p->q, err);
		if (code >= 400 && code < 500 && code != 408 && code != 429)
			permanent(ch, q, err);
		else
			report_all(ch, q, CHAN_R_RETRY, err, NULL,
			    (int64_t)ra * 1000);
		return;
	}
	if (j == NULL || json_path_text(j, p->success_field, val,
	    sizeof(val)) != 0) {
		curlq_set_detail(&p->q, err);
		report_all(ch, q, CHAN_R_RETRY, err, NULL, (int64_t)ra * 1000);
	} else if (strcmp(val, p->success_value) == 0) {
		p->q.detail[0] = '\0';
		if (p->gw_field == NULL || json_path_text(j, p->gw_field, gw,
		    sizeof(gw)) != 0)
			gw[0] = '\0';
		report_all(ch, q, CHAN_R_SENT, NULL, gw[0] ? gw : NULL, 0);
	} else if (cfg_strv_has(p->fail_values, val)) {
		curlq_set_detail(&p->q, err);
		permanent(ch, q, err);
	} else {
		/* retry_values, and any answer not understood. */
		curlq_set_detail(&p->q, err);
		report_all(ch, q, CHAN_R_RETRY, err, NULL,
		    (int64_t)ra * 1000);
	}
	json_decref(j);
}

/* Up to four rounds a poll, back at once when some finished, else a
 * wait of at most 5 ms; expired requests RETRY (the engine ends them). */
static const struct curlq_ops sq_ops = {
	.setup = sq_setup, .finish = sq_finish, .free = sreq_free,
	.protocols = "http,https", .expired = CHAN_R_RETRY,
	.flags = CURLQ_BACK_IF_DONE, .max_wait_ms = 5,
};

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
sh_shutdown(struct channel *ch)
{
	struct sh_priv *p = ch->priv;
	size_t i;

	if (p == NULL)
		return;
	curlq_release(&p->q, ch);
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
	.poll = curlq_chan_poll,
	.inbound = sh_inbound,
	.health = curlq_chan_health,
	.shutdown = sh_shutdown,
};
