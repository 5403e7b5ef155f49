/*
 * engine/render.h - the text of each delivery, from the message templates
 * (templates/tpl.h, templates/README.md).
 *
 *   render_load(cfg)                       once, at dispatcher start
 *   render_alert_new(r, stored alert)      once per alert: the CAP is
 *                                          parsed, the alert's variables
 *                                          and the built-in wording kept
 *   render_delivery(r, s, ra, &to, &msg)   per delivery: region and
 *                                          responder from the store, the
 *                                          template of the channel kind
 *                                          for the region chain
 *
 * The template set is loaded from cfg->templates; an error in any
 * template is a configuration error.  At render time nothing is allowed
 * to stop a warning: when a template is missing, fails or renders to
 * nothing, the built-in wording (【sender】headline。instruction) is used
 * and the fact is logged.
 *
 * Variables filled (templates/README.md): exercise, alert.msg_type,
 * alert.sender_name, alert.event, alert.event_en (from an English info,
 * if any), alert.headline, alert.colour (blue/yellow/orange/red, unset
 * when none), alert.colour_zh (蓝色…), alert.severity, alert.urgency,
 * alert.certainty, alert.description, alert.instruction, alert.sent,
 * alert.effective, alert.onset, alert.expires (UTC ms; unset when
 * absent), alert.areas, region.code, region.name, region.level
 * (city/county/township/village), responder.name, responder.role (the
 * role's Chinese name for a Chinese deployment language, else the English
 * words).  The info is chosen in deployment.language, which is also the
 * template language.  Times are shown in deployment.timezone.
 *
 * Threads: a struct render is read-only after render_load, but
 * render_delivery changes the struct render_alert it is given: use a
 * render_alert from one thread at a time (the dispatcher's).
 */
#ifndef ENGINE_RENDER_H
#define ENGINE_RENDER_H

#include <stddef.h>

#include "engine/diag.h"
#include "engine/err.h"
#include "templates/tpl.h"

struct cfg;
struct channel;
struct render;
struct render_alert;
struct store;
struct store_alert;

/*
 * Load the template set of cfg->templates (with deployment.language and
 * deployment.timezone).  Every bad template goes into diags as
 * "file:line: error: column N: message", followed by an error at the
 * config's templates key; warnings (unknown entries, a kind without
 * zh-CN/default.tpl, an unknown time zone) are added on success too.
 * Returns 0 and *out, or ENG_EINVAL (a template is bad: nothing is
 * loaded), ENG_EIO (the directory cannot be read), ENG_ENOMEM.  cfg is
 * only read during the call.  Blocking (file I/O).
 */
int render_load(const struct cfg *cfg, struct render **out,
    struct diag_list *diags);
/* NULL is a no-op. */
void render_free(struct render *r);

/* The fixed UTC offset in minutes of a zone the messages know (China's
 * and UTC): 0, or ENG_ENOENT with *off_min 480 (Asia/Shanghai). */
int render_zone_offset(const char *tz, int *off_min);
/* Number of templates loaded. */
size_t render_count(const struct render *r);

/*
 * The template kind of a delivery through channel ch to recipient
 * ("r:<responder>" or "d:<device>") whose role is role (a responder's
 * role, or a device's kind).  Devices: loudspeaker, siren, radio ->
 * TPL_LOUDSPEAKER, group_chat -> TPL_APP.  People, by the channel's
 * address kind: phone -> TPL_SMS (TPL_VOICE when the driver's name
 * contains "voice"), email -> TPL_EMAIL, wecom / dingtalk / telegram /
 * wechat -> TPL_APP, device -> TPL_LOUDSPEAKER.  Pure.
 */
enum tpl_kind render_kind(const struct channel *ch, const char *recipient,
    const char *role);

/*
 * The per-alert context: a's CAP document is parsed once (leniently;
 * when it cannot be parsed, what the store row holds is used), its info
 * in the deployment language chosen, the variables set, the built-in
 * wording made.  a is only read during the call.  Returns 0 and *out,
 * or ENG_ENOMEM.
 */
int render_alert_new(const struct render *r, const struct store_alert *a,
    struct render_alert **out, struct eng_errbuf *eb);
/* NULL is a no-op. */
void render_alert_free(struct render_alert *ra);
/* The built-in wording of the alert (borrowed from ra). */
const char *render_alert_text(const struct render_alert *ra);
const char *render_alert_subject(const struct render_alert *ra);

/* One delivery to render. */
struct render_to {
	enum tpl_kind kind;		/* render_kind() */
	const char *region;		/* delivery's region code, or NULL */
	const char *responder_id;	/* or NULL (devices) */
};

struct render_msg {
	char *text;		/* never empty; free with render_msg_release */
	char *subject;		/* never NULL */
	const char *tpl;	/* the template's name, NULL: built-in */
	int segments;		/* TPL_SMS: SMS parts; else 0 */
	int fits;		/* TPL_SMS: within the template's budget */
	int fallback;		/* the built-in wording was used */
};

/*
 * Render one delivery: region (name, level) and the region chain
 * (region, then its ancestors by store_region_parents) and the responder
 * (name, role) are read through s, the template of to->kind found for
 * the chain, rendered (TPL_SMS within its segment budget; the subject
 * from the template's "subject" section, else the built-in subject).
 * Any failure of a template, or an empty text, gives the built-in
 * wording (msg->fallback, logged).  Store read failures only leave the
 * region or responder variables unset.  Returns 0 (msg filled), or
 * ENG_ENOMEM (msg empty).  Blocking (store reads).
 */
int render_delivery(const struct render *r, struct store *s,
    struct render_alert *ra, const struct render_to *to,
    struct render_msg *msg);
/* Free msg's strings; msg is zeroed. */
void render_msg_release(struct render_msg *msg);

/*
 * The answer (叫应) variables for the next render_delivery() calls with
 * ra: ack.required true and ack.code / ack.link set when code or link is
 * given (non-NULL, non-empty); all three unset when both are NULL.
 * ack.reminder true when reminder is non-zero (the message is an
 * escalation step: the person has not answered yet).  They stay until
 * changed: a caller that sets them for one delivery must clear them for
 * the next.  Returns 0 or ENG_ENOMEM.
 */
int render_set_ack(struct render_alert *ra, const char *code,
    const char *link, int reminder);

#endif /* ENGINE_RENDER_H */
