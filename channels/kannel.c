/*
 * channels/kannel.c - the "kannel" driver: SMS through Kannel's sendsms
 * HTTP interface (smsbox), delivery receipts through Kannel's dlr-url and
 * handset replies (MO) through an sms-service get-url.  Config:
 *
 *   - name: sms-main
 *     type: kannel
 *     url: http://127.0.0.1:13013/cgi-bin/sendsms
 *     username: gong
 *     password: secret        # or password_file: kannel.pass (first
 *                             # line; relative to the data directory)
 *     from: "12379"           # sender id (default: Kannel's own)
 *     smsc: operator-a        # smsc-id to route through (optional)
 *     concurrency: 8          # requests in flight, 1..256 (default 8)
 *     timeout: 10s            # per request, 100ms..5m (default 10s)
 *     max_recipients: 1       # numbers per request (to=A+B), 1..100
 *     dlr: true               # ask for receipts (default true)
 *
 * The queue is bounded (8 * concurrency * max_recipients messages, at
 * least two full batches): beyond it send answers ENG_ETEMP, so that what
 * the engine has not handed over waits in the outbox, where a Cancel
 * finds it, and what a crash leaves "sending" is little.
 *
 * Every request is a GET (Kannel refuses form-encoded POSTs) with
 * charset=UTF-8, and coding=2 (UCS-2) unless the text is plain GSM-7
 * ASCII: Kannel splits long texts into concatenated parts itself (its
 * sendsms-user needs max-messages > 1 and concatenation = true).
 * Answers: 2xx "0: Accepted…" / "3: Queued…" are CHAN_R_SENT; 403 (refused
 * credentials) and other 4xx (bad number, bad charset) CHAN_R_FAILED with
 * Kannel's words; 408, 429, 5xx, time-outs, refused connections and
 * anything unexpected CHAN_R_RETRY.  SENT reports carry the number of SMS
 * parts (UCS-2: 70 alone, 67 per part; GSM-7: 160 / 153).
 *
 * With dlr, each request carries dlr-mask=31 and
 *   dlr-url = <callback_base>/dlr?id=<delivery_id>&type=%d&smsc=%F&ts=%T
 *             &to=%p
 * or, for a request with several numbers,
 *   <callback_base>/dlr?id=<id1>,<id2>,…&n=<digits1>,<digits2>,…&type=…
 * so that the handset number (%p) picks the delivery without any state.
 * Kannel calls it with type 8 (reached the SMSC) and 4 (buffered), which
 * are answered 200 and otherwise ignored, then 1 (CHAN_R_DELIVERED), 2 or
 * 16 (CHAN_R_FAILED).
 *
 * Replies: a Kannel sms-service with
 *   get-url = "<callback_base>/mo?from=%p&to=%P&text=%a"
 *   max-messages = 0, catch-all = true, keyword = default
 * and mo-recode = true in the smsbox group (Chinese arrives as UTF-8)
 * becomes CHAN_EV_REPLY events.
 *
 * inbound: the request's arg() must return query values already
 * URL-decoded with '+' as space (what libmicrohttpd does).  It returns 0
 * whenever resp says what to answer (200, or 400/404/405 for requests it
 * refuses), and emit's error (with a 503 in resp) when emit fails.
 */
#include "channels/chan_cfg_int.h"
#include "channels/channel.h"
#include "channels/curlq_int.h"
#include "config/cfg.h"
#include "engine/strbuf.h"
#include "engine/utf8.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define K_MAX_BATCH	100	/* ops max_batch and max_recipients limit */
#define K_RESP_MAX	256	/* answer text kept */
#define K_PHONE_MAX	24	/* +, then 3..20 digits */
#define K_MO_TEXT_MAX	1600	/* bytes of a reply */
/* Kannel's text keys: printable ASCII without spaces, "characters". */
#define KTEXT		(CHAN_TEXT_NOSPACE | CHAN_TEXT_CHARS)

/* A request; cq first (n messages, deadline: the earliest of theirs). */
struct kreq {
	struct curlq_req cq;
	int64_t ids[K_MAX_BATCH];
	int segments;
	char *url;
	char resp[K_RESP_MAX];
};

struct kannel_priv {
	/* Dispatcher thread only; first (curlq_chan_poll, _health). */
	struct curlq q;

	/* Config (read by inbound from other threads; set only by init). */
	char *url;
	char *user;
	char *pass;
	char *from;
	char *smsc;
	int64_t concurrency;
	int64_t timeout_ms;
	int64_t max_recipients;
	int dlr;
	size_t max_queued;	/* messages accepted, not yet reported */
};

static const struct curlq_ops kq_ops;

static const char *const keys[] = {
	"name", "type", "url", "username", "password", "password_file",
	"from", "smsc", "concurrency", "timeout", "max_recipients", "dlr",
	CHAN_ENGINE_KEYS,	/* the engine's (channel.h rules 9, 10) */
	NULL
};

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

static void
kb_param(struct strbuf *b, const char *name, const char *val)
{
	strbuf_add(b, "&", 1);
	strbuf_addstr(b, name);
	strbuf_add(b, "=", 1);
	strbuf_addurl(b, val);
}

/*
 * SMS parts needed for text: GSM-7 when every character is printable
 * ASCII in the GSM 03.38 alphabet (^{}\[~]| cost two septets; ` is not
 * there), else UCS-2 (UTF-16 units: characters beyond the BMP cost two).
 * Sets *ucs2.  Returns -1 if text is not UTF-8.
 */
static int
sms_segments(const char *text, int *ucs2)
{
	unsigned long septets = 0, units = 0;
	size_t len = strlen(text), i, n;
	uint32_t cp;
	int gsm = 1;

	for (i = 0; i < len; i += n) {
		if ((n = utf8_decode(text + i, len - i, &cp)) == 0)
			return -1;
		units += cp >= 0x10000 ? 2 : 1;
		if (cp == '\n' || cp == '\r' ||
		    (cp >= 0x20 && cp < 0x7f && cp != '`'))
			septets += strchr("^{}\\[~]|", (int)cp) != NULL ?
			    2 : 1;
		else
			gsm = 0;
	}
	*ucs2 = !gsm;
	if (gsm)
		return septets <= 160 ? 1 : (int)((septets + 152) / 153);
	return units <= 70 ? 1 : (int)((units + 66) / 67);
}

static void
report(struct channel *ch, int64_t id, enum chan_result r, const char *err,
    int segments, int64_t retry_after_ms)
{
	struct chan_report rep;

	memset(&rep, 0, sizeof(rep));
	rep.delivery_id = id;
	rep.result = r;
	rep.error = err;
	rep.segments = segments;
	rep.retry_after_ms = retry_after_ms;
	chan_report(ch, &rep);
}

static void
report_all(struct channel *ch, const struct kreq *q, enum chan_result r,
    const char *err, int64_t retry_after_ms)
{
	size_t i;

	for (i = 0; i < q->cq.n; i++)
		report(ch, q->ids[i], r, err,
		    r == CHAN_R_SENT ? q->segments : 0, retry_after_ms);
}

/* A request, for curlq_ops free too (NULL: nothing). */
static void
kreq_free(void *arg)
{
	struct kreq *q = arg;

	if (q == NULL)
		return;
	free(q->url);
	free(q);
}

/* ------------------------------------------------------------------ */
/* init                                                                */
/* ------------------------------------------------------------------ */

static int
kannel_init(struct channel *ch, const struct cfg_node *cfg,
    struct diag_list *diags)
{
	struct kannel_priv *p = ch->priv;
	const char *url = NULL, *base = ch->env->callback_base;
	char *pwfile = NULL;
	size_t n0 = diags->nerrors;
	int rv = 0;

	p->concurrency = 8;
	p->timeout_ms = 10000;
	p->max_recipients = 1;
	p->dlr = 1;
	p->q.up = 1;
	(void)cfg_check_keys(cfg, keys, diags);
	(void)cfg_require(cfg, "url", diags);
	(void)cfg_require(cfg, "username", diags);
	if (cfg_get_str(cfg, "url", &url, diags) == 0 && url != NULL &&
	    chan_cfg_url(cfg, url, CHAN_URL_NO_QUERY, diags) == 0 &&
	    (p->url = strdup(url)) == NULL)
		rv = ENG_ENOMEM;
	if (chan_cfg_text(cfg, "username", 64, KTEXT, &p->user, diags) ==
	    ENG_ENOMEM ||
	    chan_cfg_text(cfg, "from", 20, KTEXT, &p->from, diags) ==
	    ENG_ENOMEM ||
	    chan_cfg_text(cfg, "smsc", 64, KTEXT, &p->smsc, diags) ==
	    ENG_ENOMEM)
		rv = ENG_ENOMEM;
	(void)cfg_get_int(cfg, "concurrency", 1, 256, &p->concurrency, diags);
	(void)cfg_get_duration_ms(cfg, "timeout", 100, 300000, &p->timeout_ms,
	    diags);
	(void)cfg_get_int(cfg, "max_recipients", 1, K_MAX_BATCH,
	    &p->max_recipients, diags);
	(void)cfg_get_bool(cfg, "dlr", &p->dlr, diags);

	if (cfg_node_get(cfg, "password") != NULL &&
	    cfg_node_get(cfg, "password_file") != NULL)
		(void)cfg_error(diags, cfg_node_get(cfg, "password_file"),
		    "give password or password_file, not both");
	else if (cfg_node_get(cfg, "password_file") != NULL) {
		if (cfg_get_path(cfg, "password_file", ch->env->data_dir,
		    &pwfile, diags) == 0 && pwfile != NULL &&
		    cfg_read_secret_file(cfg_node_get(cfg, "password_file"),
		    pwfile, "password", 256, &p->pass, diags) == ENG_ENOMEM)
			rv = ENG_ENOMEM;
	} else if (cfg_node_get(cfg, "password") != NULL) {
		const char *s = NULL;

		if (cfg_get_str(cfg, "password", &s, diags) == 0 &&
		    s != NULL) {
			if (s[0] == '\0' || strlen(s) > 256)
				(void)cfg_error(diags,
				    cfg_node_get(cfg, "password"),
				    "password must be 1 to 256 bytes");
			else if ((p->pass = strdup(s)) == NULL)
				rv = ENG_ENOMEM;
		}
	} else
		(void)cfg_error(diags, cfg,
		    "missing required key 'password' (or 'password_file')");
	free(pwfile);

	if (p->dlr && (base == NULL || base[0] == '\0'))
		(void)cfg_error(diags, cfg, "dlr needs gongd's callback URL "
		    "(none is set for this channel); set dlr: false");
	else if (p->dlr && (strchr(base, '%') != NULL ||
	    strchr(base, '?') != NULL || strlen(base) > 512))
		(void)cfg_error(diags, cfg, "callback URL '%.100s' cannot "
		    "carry receipts (it has '%%' or '?', or is too long)",
		    base);
	p->max_queued = (size_t)(8 * p->concurrency * p->max_recipients);
	if (p->max_queued < 2 * K_MAX_BATCH)
		p->max_queued = 2 * K_MAX_BATCH;
	if (rv == 0 && diags->nerrors > n0)
		rv = ENG_EINVAL;
	if (rv == 0)
		rv = curlq_init(&p->q, &kq_ops, (size_t)p->concurrency,
		    (long)p->timeout_ms);
	return rv;
}

/* ------------------------------------------------------------------ */
/* send                                                                */
/* ------------------------------------------------------------------ */

/* A request refused before sending: reported FAILED by poll. */
static int
enqueue_failed(struct kannel_priv *p, int64_t id, const char *why)
{
	struct kreq *q;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return ENG_ETEMP;
	q->cq.n = 1;
	q->cq.ids = q->ids;
	q->ids[0] = id;
	q->cq.fail = why;
	curlq_push(&p->q, &q->cq);
	return 0;
}

/* The dlr-url for messages m[0..n) (digits only for the numbers). */
static void
dlr_url(const struct channel *ch, const struct chan_msg *m, size_t n,
    struct strbuf *b)
{
	char num[32];
	size_t i;

	strbuf_addstr(b, ch->env->callback_base);
	strbuf_addstr(b, "/dlr?id=");
	for (i = 0; i < n; i++) {
		(void)snprintf(num, sizeof(num), "%s%lld", i ? "," : "",
		    (long long)m[i].delivery_id);
		strbuf_addstr(b, num);
	}
	if (n > 1) {
		strbuf_addstr(b, "&n=");
		for (i = 0; i < n; i++) {
			if (i > 0)
				strbuf_add(b, ",", 1);
			strbuf_addstr(b, m[i].to[0] == '+' ? m[i].to + 1 : m[i].to);
		}
	}
	strbuf_addstr(b, "&type=%d&smsc=%F&ts=%T&to=%p");
}

/* One request for m[0..n): all valid numbers, all saying text. */
static int
enqueue_request(struct channel *ch, const struct chan_msg *m, size_t n,
    const char *text, int segments, int ucs2)
{
	struct kannel_priv *p = ch->priv;
	struct strbuf b = STRBUF_INIT, d = STRBUF_INIT;
	struct kreq *q;
	size_t i;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return ENG_ETEMP;
	q->cq.n = n;
	q->cq.ids = q->ids;
	q->cq.resp = q->resp;
	q->cq.resp_size = sizeof(q->resp);
	q->segments = segments;
	strbuf_addstr(&b, p->url);
	strbuf_addstr(&b, "?username=");
	strbuf_addurl(&b, p->user);
	kb_param(&b, "password", p->pass);
	if (p->from != NULL)
		kb_param(&b, "from", p->from);
	if (p->smsc != NULL)
		kb_param(&b, "smsc", p->smsc);
	strbuf_addstr(&b, "&to=");
	for (i = 0; i < n; i++) {
		if (i > 0)
			strbuf_add(&b, "+", 1);	/* a space: the next number */
		strbuf_addurl(&b, m[i].to);
		q->ids[i] = m[i].delivery_id;
		if (m[i].deadline_ms > 0 && (q->cq.deadline_ms == 0 ||
		    m[i].deadline_ms < q->cq.deadline_ms))
			q->cq.deadline_ms = m[i].deadline_ms;
	}
	kb_param(&b, "text", text);
	strbuf_addstr(&b, ucs2 ? "&coding=2&charset=UTF-8" : "&charset=UTF-8");
	if (p->dlr) {
		dlr_url(ch, m, n, &d);
		if (d.oom)
			b.oom = 1;
		else {
			strbuf_addstr(&b, "&dlr-mask=31");
			kb_param(&b, "dlr-url", d.p);
		}
		free(d.p);
	}
	if (b.oom) {
		free(b.p);
		free(q);
		return ENG_ETEMP;
	}
	q->url = b.p;
	curlq_push(&p->q, &q->cq);
	return 0;
}

static int
kannel_send(struct channel *ch, const struct chan_msg *m, size_t n)
{
	struct kannel_priv *p = ch->priv;
	struct curlq_mark mark;
	size_t i, j;
	int seg, ucs2, rv = 0;

	if (n > K_MAX_BATCH)
		return ENG_EINVAL;
	if (p->q.multi == NULL)
		return ENG_EINVAL;	/* not initialised */
	if (p->q.nqueued + n > p->max_queued)
		return ENG_ETEMP;
	curlq_mark(&p->q, &mark);
	for (i = 0; i < n && rv == 0; i = j) {
		const char *text = m[i].text != NULL ? m[i].text : "";

		j = i + 1;
		if (!chan_phone_ok(m[i].to))
			rv = enqueue_failed(p, m[i].delivery_id,
			    "not a phone number");
		else if ((seg = sms_segments(text, &ucs2)) < 0)
			rv = enqueue_failed(p, m[i].delivery_id,
			    "text is not UTF-8");
		else {
			/* The longest run of valid numbers, same text. */
			while (j < n && j - i < (size_t)p->max_recipients &&
			    chan_phone_ok(m[j].to) && strcmp(text,
			    m[j].text != NULL ? m[j].text : "") == 0)
				j++;
			rv = enqueue_request(ch, m + i, j - i, text, seg, ucs2);
		}
	}
	if (rv != 0)	/* Out of memory: take back what this call queued. */
		curlq_rollback(&p->q, &mark);
	return rv;
}

/* ------------------------------------------------------------------ */
/* poll                                                                */
/* ------------------------------------------------------------------ */

/* The request's own options: its URL (curlq sets the rest). */
static int
kq_setup(struct channel *ch, struct curlq_req *r, int64_t now_ms)
{
	struct kreq *q = (struct kreq *)(void *)r;

	(void)ch;
	(void)now_ms;
	if (curl_easy_setopt(r->easy, CURLOPT_URL, q->url) != CURLE_OK ||
	    curl_easy_setopt(r->easy, CURLOPT_USERAGENT, "gong") != CURLE_OK)
		return ENG_ENOMEM;
	return 0;
}

static void
kq_finish(struct channel *ch, struct curlq_req *r, CURLcode res)
{
	struct kannel_priv *p = ch->priv;
	struct kreq *q = (struct kreq *)(void *)r;
	char err[K_RESP_MAX + 64];
	curl_off_t ra = 0;
	long code = 0;
	const char *txt;

	if (res != CURLE_OK) {
		(void)snprintf(err, sizeof(err), "%s",
		    r->errbuf[0] != '\0' ? r->errbuf :
		    curl_easy_strerror(res));
		p->q.up = 0;
		curlq_set_detail(&p->q, err);
		report_all(ch, q, CHAN_R_RETRY, err, 0);
		return;
	}
	(void)curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
	txt = curlq_answer_text(r);
	(void)snprintf(err, sizeof(err), "HTTP %ld: %s", code, txt);
	p->q.up = code < 500;
	if (code >= 200 && code < 300 &&
	    (strncmp(txt, "0:", 2) == 0 || strncmp(txt, "3:", 2) == 0)) {
		p->q.detail[0] = '\0';
		report_all(ch, q, CHAN_R_SENT, NULL, 0);
		return;
	}
	curlq_set_detail(&p->q, err);
	if (code >= 400 && code < 500 && code != 408 && code != 429) {
		report_all(ch, q, CHAN_R_FAILED, err, 0);
		return;
	}
	if (curl_easy_getinfo(r->easy, CURLINFO_RETRY_AFTER, &ra) !=
	    CURLE_OK || ra < 0 || ra > 86400)
		ra = 0;
	report_all(ch, q, CHAN_R_RETRY, err, (int64_t)ra * 1000);
}

/* One pass a poll, back at once when answers are there, else a wait of
 * at most 20 ms; expired requests FAILED. */
static const struct curlq_ops kq_ops = {
	.setup = kq_setup, .finish = kq_finish, .free = kreq_free,
	.protocols = "http,https", .expired = CHAN_R_FAILED,
	.flags = CURLQ_ONE_PASS | CURLQ_BACK_IF_DONE | CURLQ_BACK_IF_READY,
	.max_wait_ms = 20,
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

/* A delivery id: 1 to 18 digits, > 0. */
static int
parse_id(const char *s, size_t len, int64_t *out)
{
	int64_t v = 0;
	size_t i;

	if (len == 0 || len > 18)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v <= 0)
		return -1;
	*out = v;
	return 0;
}

/* Only digits, 1..max of them (NULL fails). */
static int
all_digits(const char *s, size_t max)
{
	size_t n;

	if (s == NULL)
		return 0;
	for (n = 0; s[n] != '\0'; n++)
		if (s[n] < '0' || s[n] > '9' || n >= max)
			return 0;
	return n > 0;
}

/* Printable ASCII (no space) of at most max bytes. */
static int
printable(const char *s, size_t max)
{
	size_t n;

	for (n = 0; s[n] != '\0'; n++)
		if ((unsigned char)s[n] <= 0x20 ||
		    (unsigned char)s[n] >= 0x7f || n >= max)
			return 0;
	return 1;
}

/*
 * The delivery of a dlr callback: id alone, or id=a,b,c with n=x,y,z and
 * to (the handset, digits compared without '+').
 */
static int
dlr_delivery(const char *ids, const char *nums, const char *to,
    int64_t *out)
{
	const char *ip = ids, *np = nums, *ie, *ne;
	size_t count = 0, tl;

	if (strchr(ids, ',') == NULL)
		return nums != NULL ? -1 : parse_id(ids, strlen(ids), out);
	if (nums == NULL || to == NULL)
		return -1;
	if (*to == '+')
		to++;
	tl = strlen(to);
	for (;;) {
		int64_t id;

		if (++count > K_MAX_BATCH)
			return -1;
		ie = strchr(ip, ',');
		ne = strchr(np, ',');
		if ((ie == NULL) != (ne == NULL))
			return -1;	/* lists of different lengths */
		if (ie == NULL)
			ie = ip + strlen(ip);
		if (ne == NULL)
			ne = np + strlen(np);
		if (parse_id(ip, (size_t)(ie - ip), &id) != 0 || ne == np ||
		    ne - np > 20)
			return -1;
		for (const char *c = np; c < ne; c++)
			if (*c < '0' || *c > '9')
				return -1;
		if ((size_t)(ne - np) == tl && memcmp(np, to, tl) == 0) {
			*out = id;
			return 0;
		}
		if (*ie == '\0')
			return -1;	/* no such number in the request */
		ip = ie + 1;
		np = ne + 1;
	}
}

static int
inbound_dlr(const struct channel *ch, const struct chan_http_req *req,
    int (*emit)(void *arg, const struct chan_event *ev), void *arg,
    struct chan_http_resp *resp)
{
	const char *ids = req->arg(req->ctx, "id");
	const char *type = req->arg(req->ctx, "type");
	const char *smsc = req->arg(req->ctx, "smsc");
	const char *ts = req->arg(req->ctx, "ts");
	const char *to = req->arg(req->ctx, "to");
	const char *nums = req->arg(req->ctx, "n");
	struct chan_event ev;
	int64_t id;
	long t;
	int rv;

	(void)ch;
	if (ids == NULL || strlen(ids) > K_MAX_BATCH * 20 ||
	    (nums != NULL && strlen(nums) > K_MAX_BATCH * 22))
		return answer(resp, 400, "bad id");
	if (!all_digits(type, 2))
		return answer(resp, 400, "bad type");
	t = strtol(type, NULL, 10);
	if (t != 1 && t != 2 && t != 4 && t != 8 && t != 16)
		return answer(resp, 400, "bad type");
	if (to != NULL && to[0] != '\0' && !chan_phone_ok(to))
		return answer(resp, 400, "bad to");
	if (ts != NULL && ts[0] != '\0' && !all_digits(ts, 20))
		return answer(resp, 400, "bad ts");
	if (smsc != NULL && !printable(smsc, 64))
		return answer(resp, 400, "bad smsc");
	if (dlr_delivery(ids, nums, to, &id) != 0)
		return answer(resp, 400, "bad id");
	if (t == 4 || t == 8)
		return answer(resp, 200, "");	/* buffered / at the SMSC */
	memset(&ev, 0, sizeof(ev));
	ev.kind = CHAN_EV_RECEIPT;
	ev.delivery_id = id;
	ev.gateway_id = smsc != NULL && smsc[0] != '\0' ? smsc : NULL;
	if (t == 1)
		ev.result = CHAN_R_DELIVERED;
	else {
		ev.result = CHAN_R_FAILED;
		ev.error = t == 2 ?
		    "not delivered to the phone (Kannel DLR 2)" :
		    "rejected by the SMSC (Kannel DLR 16)";
	}
	if ((rv = emit(arg, &ev)) != 0) {
		(void)answer(resp, 503, "try again");
		return rv < 0 ? rv : ENG_ETEMP;
	}
	return answer(resp, 200, "");
}

/* Valid UTF-8 without control characters but tab, CR and LF. */
static int
reply_text_ok(const char *s)
{
	size_t len = strlen(s), i, n;
	uint32_t cp;

	if (len > K_MO_TEXT_MAX)
		return 0;
	for (i = 0; i < len; i += n) {
		if ((n = utf8_decode(s + i, len - i, &cp)) == 0)
			return 0;
		if ((cp < 0x20 && cp != '\t' && cp != '\r' && cp != '\n') ||
		    cp == 0x7f)
			return 0;
	}
	return 1;
}

static int
inbound_mo(const struct channel *ch, const struct chan_http_req *req,
    int (*emit)(void *arg, const struct chan_event *ev), void *arg,
    struct chan_http_resp *resp)
{
	const char *from = req->arg(req->ctx, "from");
	const char *to = req->arg(req->ctx, "to");
	const char *text = req->arg(req->ctx, "text");
	struct chan_event ev;
	int rv;

	(void)ch;
	if (!chan_phone_ok(from))
		return answer(resp, 400, "bad from");
	if (to != NULL && to[0] != '\0' && !printable(to, 32))
		return answer(resp, 400, "bad to");
	if (text == NULL || !reply_text_ok(text))
		return answer(resp, 400, "bad text");
	memset(&ev, 0, sizeof(ev));
	ev.kind = CHAN_EV_REPLY;
	ev.from = from;
	ev.text = text;
	if ((rv = emit(arg, &ev)) != 0) {
		(void)answer(resp, 503, "try again");
		return rv < 0 ? rv : ENG_ETEMP;
	}
	return answer(resp, 200, "");	/* empty: nothing texted back */
}

static int
kannel_inbound(const struct channel *ch, const struct chan_http_req *req,
    int (*emit)(void *arg, const struct chan_event *ev), void *arg,
    struct chan_http_resp *resp)
{
	const char *rest = req->rest != NULL ? req->rest : "";

	if (*rest == '/')
		rest++;
	if (strcmp(rest, "dlr") != 0 && strcmp(rest, "mo") != 0)
		return answer(resp, 404, "not found");
	if (req->method == NULL || strcmp(req->method, "GET") != 0)
		return answer(resp, 405, "use GET");
	if (req->arg == NULL)
		return answer(resp, 400, "no arguments");
	if (rest[0] == 'd')
		return inbound_dlr(ch, req, emit, arg, resp);
	return inbound_mo(ch, req, emit, arg, resp);
}

/* ------------------------------------------------------------------ */
/* health, shutdown                                                    */
/* ------------------------------------------------------------------ */

static void
kannel_shutdown(struct channel *ch)
{
	struct kannel_priv *p = ch->priv;

	if (p == NULL)
		return;
	curlq_release(&p->q, ch);
	free(p->url);
	free(p->user);
	if (p->pass != NULL)
		explicit_bzero(p->pass, strlen(p->pass));
	free(p->pass);
	free(p->from);
	free(p->smsc);
	p->url = p->user = p->pass = p->from = p->smsc = NULL;
}

const struct channel_ops chan_kannel_ops = {
	.name = "kannel",
	.version = CHANNEL_OPS_V1,
	.priv_size = sizeof(struct kannel_priv),
	.caps = CHAN_CAP_PERSON | CHAN_CAP_BATCH | CHAN_CAP_RECEIPTS |
	    CHAN_CAP_INBOUND |
	    CHAN_CAP_POLL_WAITS,
	.max_batch = K_MAX_BATCH,
	.addr = CHAN_ADDR_PHONE,
	.init = kannel_init,
	.send = kannel_send,
	.poll = curlq_chan_poll,
	.inbound = kannel_inbound,
	.health = curlq_chan_health,
	.shutdown = kannel_shutdown,
};
