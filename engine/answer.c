/*
 * engine/answer.c - SMS replies matched to a person and an alert.
 */
#include "engine/answer.h"
#include "config/cfg.h"
#include "engine/store.h"
#include "engine/utf8.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PEOPLE	4	/* responders sharing one phone */
#define MAX_CAND	64	/* alerts looked at */
#define SENT_LIMIT	32	/* newest alerts per responder */
#define ASK_LIST	5	/* alerts listed in a question */
#define ASK_PRIORITY	9
#define ASK_TTL_MS	3600000
#define LABEL_MAX	64

static const char ACK_LONG[] = "已收到";
static const char ACK_SHORT[] = "收到";

/* Byte length of a separator at p (ASCII punctuation, space, control,
 * and the CJK ones people type), or 0. */
static size_t
sep_len(const unsigned char *p)
{
	static const char *const wide[] = {
		"\xe3\x80\x80", "\xe3\x80\x81", "\xe3\x80\x82",
		"\xef\xbc\x8c", "\xef\xbc\x9a", "\xef\xbc\x9b",
		"\xef\xbc\x81", "\xef\xbc\x9f", "\xe2\x80\x9c",
		"\xe2\x80\x9d", "\xef\xbc\x88", "\xef\xbc\x89",
	};
	size_t i;

	if (*p == '\0')
		return 0;
	if (*p < 0x80)
		return ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= 'A' && *p <= 'Z')) ? 0 : 1;
	for (i = 0; i < sizeof(wide) / sizeof(wide[0]); i++)
		if (memcmp(p, wide[i], 3) == 0)
			return 3;
	return 0;
}

/* A digit at p (ASCII or fullwidth): its byte length and value, or 0. */
static size_t
digit_at(const unsigned char *p, int *v)
{
	if (*p >= '0' && *p <= '9') {
		*v = *p - '0';
		return 1;
	}
	if (p[0] == 0xef && p[1] == 0xbc && p[2] >= 0x90 && p[2] <= 0x99) {
		*v = p[2] - 0x90;
		return 3;
	}
	return 0;
}

static const unsigned char *
skip_seps(const unsigned char *p, const unsigned char *end)
{
	size_t n;

	while (p < end && (n = sep_len(p)) > 0)
		p += n;
	return p;
}

/* An ack word at p: its length, or 0. */
static size_t
ack_at(const unsigned char *p)
{
	int v;

	if (strncmp((const char *)p, ACK_LONG, sizeof(ACK_LONG) - 1) == 0)
		return sizeof(ACK_LONG) - 1;
	if (strncmp((const char *)p, ACK_SHORT, sizeof(ACK_SHORT) - 1) == 0)
		return sizeof(ACK_SHORT) - 1;
	if ((p[0] == 'o' || p[0] == 'O') && (p[1] == 'k' || p[1] == 'K') &&
	    !((p[2] >= 'a' && p[2] <= 'z') || (p[2] >= 'A' && p[2] <= 'Z')))
		return 2;
	if (p[0] == '1' && digit_at(p + 1, &v) == 0)
		return 1;
	if (p[0] == 0xef && p[1] == 0xbc && p[2] == 0x91 &&
	    digit_at(p + 3, &v) == 0)
		return 3;
	return 0;
}

/* Exactly four digits at p, not followed by another: their length. */
static size_t
code_at(const unsigned char *p, char code[8])
{
	size_t n = 0, l;
	int i, v;

	for (i = 0; i < 4; i++) {
		if ((l = digit_at(p + n, &v)) == 0)
			return 0;
		code[i] = (char)('0' + v);
		n += l;
	}
	if (digit_at(p + n, &v) != 0)
		return 0;
	code[4] = '\0';
	return n;
}

/* The note: valid UTF-8, controls as spaces, bad bytes as '?', trimmed. */
static void
clean_note(const unsigned char *p, const unsigned char *end, char *out,
    size_t size)
{
	size_t o = 0, n;
	uint32_t cp;

	while (p < end) {
		n = utf8_decode((const char *)p, (size_t)(end - p), &cp);
		if (n == 0) {
			if (o + 1 >= size)
				break;
			out[o++] = '?';
			p++;
			continue;
		}
		if (o + n >= size)
			break;
		if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0)) {
			if (o > 0 && out[o - 1] != ' ')
				out[o++] = ' ';
		} else {
			memcpy(out + o, p, n);
			o += n;
		}
		p += n;
	}
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
}

void
answer_clean_note(const char *in, size_t len, char *out, size_t size)
{
	const unsigned char *p = (const unsigned char *)in;

	if (size == 0)
		return;
	out[0] = '\0';
	if (in == NULL)
		return;
	while (len > 0 && (*p == ' ' || *p < 0x20 || *p == 0x7f)) {
		p++;
		len--;
	}
	clean_note(p, p + len, out, size);
}

int
answer_parse(const char *text, struct answer_text *out)
{
	const unsigned char *p = (const unsigned char *)text, *end;
	size_t len, n;
	char code[8];
	int i;

	memset(out, 0, sizeof(*out));
	if (text == NULL)
		return 0;
	len = strnlen(text, ANSWER_RAW_MAX);
	end = p + len;
	/* Room to look three bytes ahead: work on a padded copy. */
	{
		unsigned char buf[ANSWER_RAW_MAX + 8];

		memcpy(buf, text, len);
		memset(buf + len, 0, 8);
		p = buf;
		end = buf + len;
		for (i = 0; i < 2; i++) {
			p = skip_seps(p, end);
			if (!out->ack && (n = ack_at(p)) > 0) {
				out->ack = 1;
				p += n;
			} else if (out->code[0] == '\0' &&
			    (n = code_at(p, code)) > 0) {
				memcpy(out->code, code, sizeof(out->code));
				p += n;
			} else {
				break;
			}
		}
		if (out->ack || out->code[0] != '\0') {
			p = skip_seps(p, end);
			clean_note(p, end, out->note, sizeof(out->note));
		}
	}
	return out->ack || out->code[0] != '\0';
}

const char *
answer_outcome_name(enum answer_outcome o)
{
	switch (o) {
	case ANSWER_RECORDED:		return "recorded";
	case ANSWER_DUPLICATE:		return "duplicate";
	case ANSWER_ASKED:		return "asked";
	case ANSWER_UNKNOWN_SENDER:	return "unknown_sender";
	case ANSWER_NO_ALERT:		return "no_alert";
	case ANSWER_NOT_UNDERSTOOD:	return "not_understood";
	}
	return "?";
}

struct person {
	char id[64];
	char region[32];
};

struct cand {
	int who;		/* index in people */
	long long alert_id;
	int active;
	char code[STORE_ACK_CODE_SIZE];
	char label[LABEL_MAX];
};

struct match {
	struct person people[MAX_PEOPLE];
	int npeople;
	struct cand c[MAX_CAND];
	int n;
	int who;
};

static int
person_cb(void *arg, const char *id, const char *region)
{
	struct match *m = arg;
	struct person *p;

	if (m->npeople == MAX_PEOPLE)
		return 0;
	p = &m->people[m->npeople++];
	(void)snprintf(p->id, sizeof(p->id), "%s", id ? id : "");
	(void)snprintf(p->region, sizeof(p->region), "%s",
	    region ? region : "");
	return 0;
}

/* Copy at most size-1 bytes of s, not cutting a UTF-8 sequence. */
static void
copy_utf8(char *dst, size_t size, const char *s)
{
	size_t n = strlen(s);

	if (n >= size) {
		n = size - 1;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(dst, s, n);
	dst[n] = '\0';
}

static int
sent_cb(void *arg, const struct store_sent_alert *a)
{
	struct match *m = arg;
	struct cand *c;
	const char *l;

	if (m->n == MAX_CAND)
		return 0;
	c = &m->c[m->n++];
	c->who = m->who;
	c->alert_id = a->alert_id;
	c->active = a->active;
	(void)snprintf(c->code, sizeof(c->code), "%s", a->code ? a->code : "");
	l = a->headline && a->headline[0] ? a->headline :
	    a->event && a->event[0] ? a->event : "预警";
	copy_utf8(c->label, sizeof(c->label), l);
	return 0;
}

static int
record(struct store *s, const struct match *m, const struct cand *c,
    const char *raw, const struct answer_text *t, int64_t now,
    struct answer_result *res, struct eng_errbuf *eb)
{
	struct store_answer a;
	int rv, added = 0;

	memset(&a, 0, sizeof(a));
	a.alert_id = c->alert_id;
	a.responder_id = m->people[c->who].id;
	a.path = "sms";
	a.received_ms = now;
	a.raw = raw;
	a.note = t->note[0] ? t->note : NULL;
	a.late = !c->active;
	if ((rv = store_answer_add(s, &a, &added, eb)) != 0)
		return rv;
	res->outcome = added ? ANSWER_RECORDED : ANSWER_DUPLICATE;
	res->alert_id = c->alert_id;
	res->late = a.late;
	(void)snprintf(res->responder_id, sizeof(res->responder_id), "%s",
	    a.responder_id);
	return 0;
}

/* Several active alerts and no code: ask which, listing the codes. */
static int
ask(struct store *s, struct match *m, const char *channel, const char *from,
    int64_t now, struct answer_result *res, struct eng_errbuf *eb)
{
	struct store_delivery d;
	char text[1024], recipient[128];
	size_t o;
	int i, j, listed = 0, first = -1, rv, w;

	o = (size_t)snprintf(text, sizeof(text), "您有多条预警待确认，"
	    "请回复“收到 编号”：");
	for (i = 0; i < m->n && listed < ASK_LIST; i++) {
		struct cand *c = &m->c[i];

		if (!c->active)
			continue;
		for (j = 0; j < i; j++)
			if (m->c[j].active && m->c[j].alert_id == c->alert_id)
				break;
		if (j < i)
			continue;
		if (c->code[0] == '\0' && (rv = store_ack_code(s, c->alert_id,
		    m->people[c->who].id, c->code, eb)) != 0)
			return rv;
		if (first < 0)
			first = i;
		w = snprintf(text + o, sizeof(text) - o, "%s%s %s",
		    listed ? "；" : "", c->code, c->label);
		if (w < 0 || (size_t)w >= sizeof(text) - o)
			break;
		o += (size_t)w;
		listed++;
	}
	if (first < 0)
		return eng_error(eb, ENG_EINVAL, "no active alert to ask about");
	(void)snprintf(recipient, sizeof(recipient), "ask:%s:%lld",
	    m->people[m->c[first].who].id, (long long)now);
	memset(&d, 0, sizeof(d));
	d.alert_id = m->c[first].alert_id;
	d.kind = "ask";
	d.channel = channel;
	d.recipient = recipient;
	d.responder_id = m->people[m->c[first].who].id;
	d.region = m->people[m->c[first].who].region;
	d.address = from;
	d.priority = ASK_PRIORITY;
	d.deadline_ms = now + ASK_TTL_MS;
	if ((rv = store_delivery_add_text(s, &d, text, now, &res->ask_delivery,
	    eb)) != 0)
		return rv;
	res->outcome = ANSWER_ASKED;
	res->alert_id = d.alert_id;
	(void)snprintf(res->responder_id, sizeof(res->responder_id), "%s",
	    d.responder_id);
	return 0;
}

int
answer_sms(struct store *s, const char *channel, const char *from,
    const char *text, int64_t now_ms, struct answer_result *res,
    struct eng_errbuf *eb)
{
	struct answer_text t;
	struct match *m;
	char raw[ANSWER_RAW_MAX + 1];
	int i, nactive = 0, pick = -1, first = -1, rv = 0;

	memset(res, 0, sizeof(*res));
	copy_utf8(raw, sizeof(raw), text ? text : "");
	if (!answer_parse(raw, &t)) {
		res->outcome = ANSWER_NOT_UNDERSTOOD;
		return 0;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return eng_error(eb, ENG_ENOMEM, "out of memory");
	if ((rv = store_responders_by_phone(s, from, person_cb, m, eb)) != 0)
		goto out;
	if (m->npeople == 0) {
		res->outcome = ANSWER_UNKNOWN_SENDER;
		goto out;
	}
	for (m->who = 0; m->who < m->npeople; m->who++)
		if ((rv = store_alerts_sent_to(s, m->people[m->who].id, now_ms,
		    SENT_LIMIT, sent_cb, m, eb)) != 0)
			goto out;
	if (m->n == 0) {
		res->outcome = ANSWER_NO_ALERT;
		(void)snprintf(res->responder_id, sizeof(res->responder_id),
		    "%s", m->people[0].id);
		goto out;
	}
	for (i = 0; i < m->n && pick < 0 && t.code[0] != '\0'; i++)
		if (strcmp(m->c[i].code, t.code) == 0)
			pick = i;
	if (pick < 0) {
		/* No code, or not one of theirs: the only active alert. */
		for (i = 0; i < m->n; i++) {
			if (!m->c[i].active)
				continue;
			if (first < 0)
				first = i;
			else if (m->c[i].alert_id != m->c[first].alert_id)
				nactive = 2;
		}
		if (nactive > 1) {
			rv = ask(s, m, channel, from, now_ms, res, eb);
			goto out;
		}
		pick = first >= 0 ? first : 0;	/* none: the newest, late */
	}
	rv = record(s, m, &m->c[pick], raw, &t, now_ms, res, eb);
out:
	free(m);
	return rv;
}

int
answer_required(const struct cfg_routing *r, const struct answer_for *f)
{
	const struct cfg_route_people *p;
	enum region_level level;
	size_t i;

	if (f->responder_id == NULL || f->responder_id[0] == '\0' ||
	    f->kind == NULL || f->colour < 0 || f->colour > 30 ||
	    f->region == NULL)
		return 0;
	if (strcmp(f->kind, "remind") == 0)
		return 1;
	if (strcmp(f->kind, "alert") != 0 && strcmp(f->kind, "update") != 0)
		return 0;
	if ((level = region_code_level(f->region)) == REGION_NONE)
		return 0;	/* not a division code: no rule */
	for (i = 0; i < r->npeople; i++) {
		p = &r->people[i];
		if (p->answer && (p->colours & (1u << f->colour)) &&
		    cfg_strv_has(p->channels, f->channel) &&
		    (p->roles == NULL || cfg_strv_has(p->roles, f->role)) &&
		    (p->levels & (1u << level)))
			return 1;
	}
	return 0;
}

int
answer_possible(const struct cfg_routing *r, int colour)
{
	size_t i;

	if (colour < 0 || colour > 30)
		return 0;
	for (i = 0; i < r->npeople; i++)
		if (r->people[i].answer &&
		    (r->people[i].colours & (1u << colour)))
			return 1;
	return 0;
}

int
answer_code_for(struct store *s, const struct cfg_routing *r,
    const struct answer_for *f, char *code, struct eng_errbuf *eb)
{
	code[0] = '\0';
	if (!answer_required(r, f))
		return 0;
	return store_ack_code(s, f->alert_id, f->responder_id, code, eb);
}
