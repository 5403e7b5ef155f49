/*
 * engine/api_answer.c - answers (叫应) over HTTP:
 *   GET /api/v1/alerts/{id}/answers  (admin token)
 *     {"alert_id", "answers":[{"responder_id","name","path","received",
 *      "late","note"}], "answered":N, "targeted":M}; an answer a duty
 *      officer recorded (path "officer") also has "recorded_by" and
 *      "reason".
 *   POST /api/v1/alerts/{id}/answers is api_officer.c's.
 *   GET /a/{token}   the answer page (records nothing: link scanners)
 *   POST /a/{token}  the 收到 button: records an answer (path link)
 * A forged or altered token gets 403, an expired one 410.
 * answered counts people (not rows), targeted the people the alert was
 * addressed to.
 */
#include "engine/anslink.h"
#include "engine/answer.h"
#include "engine/api_int.h"
#include "engine/clock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static json_t *
jstr_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

static int
answer_cb(void *arg, const struct store_answer *x)
{
	char buf[40];
	json_t *o;

	o = json_pack("{s:s,s:o,s:s,s:s,s:b,s:o}", "responder_id",
	    x->responder_id, "name", jstr_or_null(x->name), "path", x->path,
	    "received", eng_time_fmt_utc(x->received_ms, buf, sizeof(buf)),
	    "late", x->late, "note", jstr_or_null(x->note));
	if (o == NULL)
		return ENG_ENOMEM;
	/* Recorded by a duty officer on the person's behalf: who and why. */
	if (strcmp(x->path, "officer") == 0 &&
	    (json_object_set_new(o, "recorded_by",
	    jstr_or_null(x->recorded_by)) != 0 ||
	    json_object_set_new(o, "reason", jstr_or_null(x->reason)) != 0)) {
		json_decref(o);
		return ENG_ENOMEM;
	}
	if (json_array_append_new(arg, o) != 0)
		return ENG_ENOMEM;
	return 0;
}

static int
exists_cb(void *arg, const struct store_alert *x)
{
	(void)arg;
	(void)x;
	return 0;
}

enum MHD_Result
api_h_answers(struct MHD_Connection *c, struct api_req *r)
{
	struct api *a = r->api;
	struct eng_errbuf eb;
	long long id, answered = 0, targeted = 0;
	struct store *s;
	json_t *arr;
	char *end;
	int rv;

	eng_errbuf_init(&eb);
	errno = 0;
	id = strtoll(r->code, &end, 10);
	if (errno != 0 || *end != '\0' || id <= 0)
		return api_reply_error(c, r, MHD_HTTP_BAD_REQUEST, "bad_id",
		    "an alert id is a positive integer", NULL);
	if ((arr = json_array()) == NULL)
		return MHD_NO;
	s = api_store_get(a);
	rv = store_alert_get(s, id, exists_cb, NULL, &eb);
	if (rv == 0)
		rv = store_answers_list(s, id, answer_cb, arr, &eb);
	if (rv == 0)
		rv = store_answer_counts(s, id, &answered, &targeted, &eb);
	api_store_put(a, s);
	if (rv != 0) {
		json_decref(arr);
		if (rv == ENG_ENOENT)
			return api_reply_error(c, r, MHD_HTTP_NOT_FOUND,
			    "not_found", eb.msg, NULL);
		return api_reply_error(c, r, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "store_error", eb.msg, NULL);
	}
	return api_reply_json(c, r, MHD_HTTP_OK, json_pack("{s:I,s:o,s:I,s:I}",
	    "alert_id", (json_int_t)id, "answers", arr, "answered",
	    (json_int_t)answered, "targeted", (json_int_t)targeted));
}

/* ------------------------------------------------------------------ */
/* The answer link /a/{token}                                          */
/* ------------------------------------------------------------------ */

#define PAGE_HEAD "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head>" \
	"<meta charset=\"utf-8\">" \
	"<meta name=\"viewport\" content=\"width=device-width," \
	"initial-scale=1\"><meta name=\"robots\" content=\"noindex\">" \
	"<title>叫应确认</title><style>body{font-family:sans-serif;" \
	"margin:1em auto;max-width:36em;padding:0 1em;font-size:18px}" \
	"h1{font-size:22px}button{width:100%;padding:.8em;font-size:28px;" \
	"background:#c00;color:#fff;border:0;border-radius:8px}" \
	"textarea{width:100%;box-sizing:border-box;font-size:18px}" \
	"</style></head><body>"
#define PAGE_TAIL "</body></html>\n"

struct link_alert {
	int found;
	char title[400];
	char state[16];
	int64_t expires_ms;
};

static int
link_alert_cb(void *arg, const struct store_alert *x)
{
	struct link_alert *l = arg;
	const char *t = x->headline && x->headline[0] ? x->headline :
	    x->event && x->event[0] ? x->event : "预警";

	l->found = 1;
	answer_clean_note(t, strlen(t), l->title, sizeof(l->title));
	(void)snprintf(l->state, sizeof(l->state), "%s", x->state);
	l->expires_ms = x->expires_ms;
	return 0;
}

/* HTML-escaped copy of s appended to b (at most size). */
static void
html_add(char *b, size_t size, const char *s)
{
	size_t o = strlen(b);
	const char *e;

	for (; *s != '\0' && o + 7 < size; s++) {
		switch (*s) {
		case '<': e = "&lt;"; break;
		case '>': e = "&gt;"; break;
		case '&': e = "&amp;"; break;
		case '"': e = "&quot;"; break;
		case '\'': e = "&#39;"; break;
		default: e = NULL; break;
		}
		if (e != NULL) {
			memcpy(b + o, e, strlen(e));
			o += strlen(e);
		} else {
			b[o++] = *s;
		}
	}
	b[o] = '\0';
}

static enum MHD_Result
page(struct MHD_Connection *c, struct api_req *r, int status,
    const char *title, const char *body_html)
{
	size_t size = strlen(PAGE_HEAD) + strlen(PAGE_TAIL) + 3 * 1024 +
	    strlen(body_html);
	char *b = malloc(size);

	if (b == NULL)
		return MHD_NO;
	(void)snprintf(b, size, "%s<h1>", PAGE_HEAD);
	html_add(b, size, title);
	(void)snprintf(b + strlen(b), size - strlen(b), "</h1>%s%s",
	    body_html, PAGE_TAIL);
	return api_reply_text(c, r, status, "text/html; charset=utf-8", b,
	    strlen(b));
}

/* The value of "note" in a form body (x-www-form-urlencoded), decoded
 * into out (at most size - 1 bytes, raw). */
static void
form_note(const char *body, size_t len, char *out, size_t size)
{
	const char *p = body, *end = body + len, *amp;
	size_t o = 0;
	int hi, lo;

	out[0] = '\0';
	while (p != NULL && p < end) {
		amp = memchr(p, '&', (size_t)(end - p));
		if ((size_t)(end - p) >= 5 && memcmp(p, "note=", 5) == 0) {
			const char *q = p + 5, *qe = amp ? amp : end;

			for (; q < qe && o + 1 < size; q++) {
				if (*q == '+') {
					out[o++] = ' ';
				} else if (*q == '%' && qe - q >= 3 &&
				    (hi = hexval(q[1])) >= 0 &&
				    (lo = hexval(q[2])) >= 0) {
					out[o++] = (char)(hi * 16 + lo);
					q += 2;
				} else {
					out[o++] = *q;
				}
			}
			out[o] = '\0';
			return;
		}
		p = amp ? amp + 1 : NULL;
	}
}

enum MHD_Result
api_h_answer_link(struct MHD_Connection *c, struct api_req *r,
    const char *method)
{
	struct api *a = r->api;
	struct link_alert la;
	struct store_answer ans;
	struct anslink l;
	struct eng_errbuf eb;
	struct store *s;
	char name[128], role[64], html[2048], raw[ANSWER_RAW_MAX + 1];
	char rawnote[ANSWER_NOTE_MAX * 3], note[ANSWER_NOTE_MAX];
	int64_t now = eng_clock_now_ms(&eng_clock_system);
	int post, rv, added = 0, late;

	post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
	if (!post && strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return page(c, r, MHD_HTTP_METHOD_NOT_ALLOWED, "不支持的请求",
		    "<p>请用浏览器打开短信中的链接。</p>");
	if (a->answer_key == NULL)
		return page(c, r, MHD_HTTP_NOT_FOUND, "链接无效",
		    "<p>本系统未启用确认链接。</p>");
	rv = anslink_check(a->answer_key, strlen(a->answer_key), r->rest, now,
	    &l);
	if (rv == ENG_ETIMEDOUT)
		return page(c, r, MHD_HTTP_GONE, "链接已过期",
		    "<p>此确认链接已过期。如需确认，请回复短信或致电值班室。"
		    "</p>");
	if (rv != 0)
		return page(c, r, MHD_HTTP_FORBIDDEN, "链接无效",
		    "<p>此链接无效，请核对短信中的链接。</p>");
	memset(&la, 0, sizeof(la));
	eng_errbuf_init(&eb);
	name[0] = role[0] = '\0';
	s = api_store_get(a);
	rv = store_alert_get(s, l.alert_id, link_alert_cb, &la, &eb);
	if (rv == 0)
		(void)store_responder_brief(s, l.responder_id, name,
		    sizeof(name), role, sizeof(role), &eb);
	late = !(strcmp(la.state, "active") == 0 &&
	    (la.expires_ms == 0 || la.expires_ms > now));
	if (rv == 0 && post) {
		(void)snprintf(raw, sizeof(raw), "%.*s",
		    (int)(r->len < ANSWER_RAW_MAX ? r->len : ANSWER_RAW_MAX),
		    r->body ? r->body : "");
		form_note(r->body ? r->body : "", r->len, rawnote,
		    sizeof(rawnote));
		answer_clean_note(rawnote, strlen(rawnote), note,
		    sizeof(note));
		memset(&ans, 0, sizeof(ans));
		ans.alert_id = l.alert_id;
		ans.responder_id = l.responder_id;
		ans.path = "link";
		ans.received_ms = now;
		ans.raw = raw;
		ans.note = note[0] ? note : NULL;
		ans.late = late;
		rv = store_answer_add(s, &ans, &added, &eb);
	}
	api_store_put(a, s);
	if (rv == ENG_ENOENT)
		return page(c, r, MHD_HTTP_GONE, "预警已不存在",
		    "<p>此预警已不在系统中。</p>");
	if (rv != 0)
		return page(c, r, MHD_HTTP_INTERNAL_SERVER_ERROR, "暂时无法确认",
		    "<p>系统暂时无法记录，请稍后再试，或回复短信确认。</p>");
	if (post) {
		(void)snprintf(html, sizeof(html), "<p>已记录您的确认%s。"
		    "谢谢！</p>", late ? "（此预警已解除或过期）" : "");
		return page(c, r, MHD_HTTP_OK, "已收到您的确认", html);
	}
	/* GET: the page only; opening it records nothing. */
	(void)snprintf(html, sizeof(html), "<p>");
	html_add(html, sizeof(html), name[0] ? name : l.responder_id);
	(void)snprintf(html + strlen(html), sizeof(html) - strlen(html),
	    "，请确认您已收到此预警%s。</p><form method=\"post\">"
	    "<p><label>情况说明（可不填）<br><textarea name=\"note\" rows=\"3\" "
	    "maxlength=\"200\"></textarea></label></p>"
	    "<p><button type=\"submit\">收到</button></p></form>",
	    late ? "（此预警已解除或过期）" : "");
	return page(c, r, MHD_HTTP_OK, la.title, html);
}
