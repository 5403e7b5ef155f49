/*
 * engine/answer.h - an SMS reply matched to the person and the alert it
 * answers (叫应).
 *
 * A reply's text is read as an acknowledgement word ("1", "收到",
 * "已收到", "ok" in any case), an answer code (4 digits, as sent with
 * the alert), or both in either order, then an optional note: "收到",
 * "1 4821", "4821 路已封", "收到，已转移".  The sender is found by phone;
 * the alert is the one whose code the reply carries, or else the only
 * active alert the person was sent.  Several active alerts and no code:
 * nothing is recorded and a question listing the codes is queued back
 * to the phone (a delivery of kind "ask" on the reply's channel).  An
 * answer to an alert no longer active (cancelled, superseded, expired)
 * is recorded as late.  A repeated reply is recorded once.
 */
#ifndef ENGINE_ANSWER_H
#define ENGINE_ANSWER_H

#include <stddef.h>
#include <stdint.h>

#include "engine/err.h"

struct store;

#define ANSWER_NOTE_MAX	256	/* bytes of note kept (valid UTF-8) */
#define ANSWER_RAW_MAX	1024	/* bytes of the raw input kept */

/* A reply's text as read. */
struct answer_text {
	int ack;		/* an acknowledgement word was there */
	char code[8];		/* a 4-digit code, or "" */
	char note[ANSWER_NOTE_MAX];	/* the rest, cleaned, or "" */
};

/*
 * Read a reply (any bytes, NUL-terminated; only its first ANSWER_RAW_MAX
 * bytes are looked at).  Returns 1 if it says something we understand
 * (ack word or code), 0 if not.  The note is valid UTF-8 without control
 * characters (anything else becomes '?').  Never fails; thread-safe.
 */
int answer_parse(const char *text, struct answer_text *out);

/* A note as it is kept: len bytes of in made valid UTF-8 (bad bytes as
 * '?'), control characters as single spaces, trimmed, cut at a
 * character boundary to fit size (ANSWER_NOTE_MAX).  Thread-safe. */
void answer_clean_note(const char *in, size_t len, char *out, size_t size);

enum answer_outcome {
	ANSWER_RECORDED = 0,	/* a new answer row */
	ANSWER_DUPLICATE,	/* the same answer was already recorded */
	ANSWER_ASKED,		/* ambiguous: a question was queued */
	ANSWER_UNKNOWN_SENDER,	/* no responder has that phone */
	ANSWER_NO_ALERT,	/* the responder was sent no alert */
	ANSWER_NOT_UNDERSTOOD	/* neither ack word nor code */
};

struct answer_result {
	enum answer_outcome outcome;
	long long alert_id;		/* RECORDED, DUPLICATE, ASKED */
	char responder_id[64];
	int late;
	long long ask_delivery;		/* ASKED: the question's id */
};

/*
 * Match and record an SMS reply from phone `from` that came in through
 * channel `channel` at now_ms.  Returns 0 with the outcome in *res (not
 * understood, unknown sender and so on are outcomes, not errors), or
 * ENG_EIO / ENG_ENOMEM with detail in eb.  Blocking (database); use the
 * calling thread's own store connection.
 */
int answer_sms(struct store *s, const char *channel, const char *from,
    const char *text, int64_t now_ms, struct answer_result *res,
    struct eng_errbuf *eb);

struct cfg_routing;

/* What a delivery is, for answer_code_for(). */
struct answer_for {
	long long alert_id;
	int colour;			/* the alert's enum cap_color */
	const char *kind;		/* "alert", "update", "remind" ... */
	const char *channel;
	const char *responder_id;	/* NULL or "": a device */
	const char *region;		/* the responder's region */
	const char *role;
};

/*
 * Whether a delivery requires an answer: a routing rule with `answer:
 * true` reaches that responder (the level of their region, their role,
 * the alert's colour, the channel) and the delivery is an alert or an
 * update; or it is a reminder (kind "remind": an escalation step, which
 * only people who must answer get).  Pure; thread-safe.
 */
int answer_required(const struct cfg_routing *r, const struct answer_for *f);

/* Whether any delivery of an alert of this colour can require an answer
 * (some rule with `answer: true` covers the colour): when not, there is
 * nobody to wait for.  Pure; thread-safe. */
int answer_possible(const struct cfg_routing *r, int colour);

/*
 * The answer code a delivery carries: when answer_required(), the
 * (alert, responder) code, made if needed (store_ack_code); else code is
 * "".  code has STORE_ACK_CODE_SIZE bytes.  Returns 0, or ENG_EIO with
 * detail in eb.  Blocking (database).
 */
int answer_code_for(struct store *s, const struct cfg_routing *r,
    const struct answer_for *f, char *code, struct eng_errbuf *eb);

/* The outcome's name ("recorded", "asked", ...), for logs. */
const char *answer_outcome_name(enum answer_outcome o);

#endif /* ENGINE_ANSWER_H */
