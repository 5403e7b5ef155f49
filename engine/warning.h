/*
 * engine/warning.h - a warning as a duty officer fills it in (the form
 * of POST /api/v1/warnings and `gong issue`), and the CAP 1.2 message
 * made of it: Alert, Update (the fields that change, over the chain's
 * latest message) and Cancel.
 *
 * Pure: no store, no clock, no randomness of its own (the caller gives
 * the time, the identifier and the regions' names).  Every bad field is
 * one DIAG_ERROR whose path is the field's name ("headline",
 * "regions[2]", "polygon[0]") and whose line is 0.
 *
 * The colour (blue, yellow, orange, red) is written as the CAP severity
 * (Minor, Moderate, Severe, Extreme) and, for the events of the CMA
 * warning signals (暴雨, 台风, ...), as an eventCode CMA_SIGNAL "TTLL"
 * (type, level) too; ingest reads the colour back from the severity.
 * Regions are geocodes "GB/T 2260"; a polygon is a CAP polygon (closed
 * here when the form leaves it open).
 *
 * Ownership: struct warning owns its strings (warning_release).  Thread-
 * safety: every function is safe on distinct objects.  Nothing blocks.
 */
#ifndef ENGINE_WARNING_H
#define ENGINE_WARNING_H

#include <stddef.h>
#include <stdint.h>

#include "engine/region.h"

struct cap_alert;
struct diag_list;
struct eng_errbuf;

/* Limits of the form (bytes of UTF-8 unless said otherwise). */
#define WARNING_BODY_MAX	(64 * 1024)	/* the JSON body */
#define WARNING_EVENT_MAX	64
#define WARNING_HEADLINE_MAX	200
#define WARNING_DESCRIPTION_MAX	4000
#define WARNING_INSTRUCTION_MAX	2000
#define WARNING_SENDER_NAME_MAX	100
#define WARNING_REASON_MAX	500
#define WARNING_CATEGORY_MAX	16
#define WARNING_MAX_REGIONS	200
#define WARNING_MAX_POINTS	200
#define WARNING_MAX_DURATION_MS	(30LL * 24 * 3600 * 1000)

/* Fields given (struct warning.given). */
enum {
	WARNING_F_EVENT = 1u << 0,
	WARNING_F_COLOUR = 1u << 1,	/* colour, or severity */
	WARNING_F_URGENCY = 1u << 2,
	WARNING_F_CERTAINTY = 1u << 3,
	WARNING_F_HEADLINE = 1u << 4,
	WARNING_F_DESCRIPTION = 1u << 5,
	WARNING_F_INSTRUCTION = 1u << 6,
	WARNING_F_AREA = 1u << 7,	/* regions or polygon */
	WARNING_F_ONSET = 1u << 8,
	WARNING_F_EXPIRES = 1u << 9,
	WARNING_F_LANGUAGE = 1u << 10,
	WARNING_F_STATUS = 1u << 11,
	WARNING_F_CATEGORY = 1u << 12,
	WARNING_F_SENDER_NAME = 1u << 13,
	WARNING_F_REASON = 1u << 14
};

struct warning_point {
	double lat, lon;
};

struct warning {
	unsigned given;			/* WARNING_F_* */
	char *event;
	int colour;			/* enum cap_color */
	int severity;			/* enum cap_severity */
	int urgency;			/* enum cap_urgency */
	int certainty;			/* enum cap_certainty */
	char *headline, *description, *instruction;	/* or NULL */
	char (*regions)[REGION_CODE_SIZE];	/* normalised codes */
	size_t nregions;
	struct warning_point *polygon;
	size_t npoints;
	int64_t onset_ms;		/* 0: none */
	int64_t expires_ms;		/* 0: none */
	char *language;			/* "zh-CN" or "en" */
	int status;			/* enum cap_status: Actual, Exercise */
	char *category;			/* "Met", ... */
	char *sender_name;		/* or NULL */
	char *reason;			/* Cancel: why, or NULL */
	int dry_run;			/* the body's "dry_run": true */
};

void warning_init(struct warning *w);
void warning_release(struct warning *w);

/*
 * Read the JSON form of len bytes into w (initialised by the caller).
 * kind: 'A' a new warning (event, headline, colour or severity, regions
 * or polygon and expires required), 'U' an update (every field
 * optional), 'C' a cancel (only reason, dry_run).  Relative times
 * ("+6h", "+30m", "+2d", "+90s") count from now_ms.  Unknown members
 * are errors.  Returns 0, or ENG_EINVAL with every bad field in errs
 * (ENG_ENOMEM).
 */
int warning_parse(const char *buf, size_t len, int kind, int64_t now_ms,
    struct warning *w, struct diag_list *errs);

/*
 * The warning a CAP message says (its info picked for lang), as the base
 * of an update: every field given.  Returns 0, ENG_EINVAL (no info) or
 * ENG_ENOMEM.
 */
int warning_from_cap(const struct cap_alert *a, const char *lang,
    struct warning *w, struct eng_errbuf *eb);

/* Overlay the fields given in change over base.  0 or ENG_ENOMEM. */
int warning_merge(struct warning *base, const struct warning *change);

/*
 * The checks across fields of a complete warning: expires after onset
 * and after now_ms, at most WARNING_MAX_DURATION_MS after now; a colour.
 * Returns 0 or ENG_EINVAL with the errors in errs.
 */
int warning_check(const struct warning *w, int64_t now_ms,
    struct diag_list *errs);

/* How the message is made. */
struct warning_msg {
	int msg_type;			/* enum cap_msgtype */
	const char *sender;		/* required */
	const char *identifier;		/* required */
	int64_t sent_ms;		/* whole seconds are used */
	int utc_offset_min;		/* of the times written */
	const char *area_desc;		/* areaDesc; NULL: the codes */
	/* Update, Cancel: the messages referred to, "sender,identifier,
	 * sent" each (sent as in the message) */
	const char *const *refs;
	size_t nrefs;
};

/*
 * Build the CAP 1.2 model of w as m says into *out (free with
 * cap_alert_free).  Returns 0, ENG_EINVAL (with why in eb: a missing
 * sender, identifier or reference, a bad reference) or ENG_ENOMEM.
 */
int warning_build(const struct warning *w, const struct warning_msg *m,
    struct cap_alert **out, struct eng_errbuf *eb);

/* warning_build, serialised: *xml malloc'd (free()), *len bytes. */
int warning_to_xml(const struct warning *w, const struct warning_msg *m,
    char **xml, size_t *len, struct eng_errbuf *eb);

/*
 * The identifier "<root>-<yyyymmddHHMMSS>-<rand>" of a message sent at
 * now_ms (local time at utc_offset_min) into buf.  rand: [0-9a-z]+.
 * 0, or ENG_EINVAL when it does not fit.
 */
int warning_identifier(const char *root, int64_t now_ms, int utc_offset_min,
    const char *rand, char *buf, size_t size);

/* The colour word ("red") as enum cap_color, or -1. */
int warning_colour_parse(const char *s);

/* The CMA warning-signal type of an event (暴雨 2), or 0. */
int warning_cma_type(const char *event);

/* A CAP dateTime of ms at utc_offset_min into buf (size >= 26). */
char *warning_fmt_time(int64_t ms, int utc_offset_min, char *buf,
    size_t size);

#endif /* ENGINE_WARNING_H */
