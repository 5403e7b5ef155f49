/*
 * templates/tpl.h - gong's message templates: a small template language,
 * a variable context the planner fills, template sets loaded from a
 * directory tree (per channel kind x language x event, with per-region
 * overrides) and the SMS length budget.
 *
 * The language is documented in templates/README.md.  In short:
 *
 *   {{ alert.event | default("预警") }}    {{ onset | localtime("%-H时") }}
 *   {% if exercise %}【演练】{% elif x == "y" %}…{% else %}…{% endif %}
 *   {% for a in alert.areas %}{{ a }}{% if not loop.last %}、{% endif %}
 *   {% endfor %}   {# comment #}   {%- trims whitespace before, -%} after
 *
 * Compile once (tpl_compile), render many times (tpl_render).  A compiled
 * struct tpl is immutable: any number of threads may render it at once,
 * each with its own struct tpl_vars (or sharing one that nobody modifies
 * meanwhile).  Output is always valid UTF-8.
 *
 * Ownership: the caller owns everything it passes in (borrowed for the
 * call) and everything returned through out-pointers (free rendered text
 * with free(), the rest with its *_free()).  Nothing here blocks except
 * tpl_set_load (file I/O).
 */
#ifndef TEMPLATES_TPL_H
#define TEMPLATES_TPL_H

#include <stddef.h>
#include <stdint.h>

#include "engine/diag.h"
#include "engine/err.h"

struct tpl;
struct tpl_vars;
struct tpl_set;

/* Hard limits; hostile templates get a clear error, never a crash. */
#define TPL_MAX_SIZE	(64 * 1024)	/* template source, bytes */
#define TPL_MAX_DEPTH	32		/* nested if/for/section blocks */
#define TPL_MAX_EXPR_DEPTH 32		/* nested not/and/or/() */
#define TPL_MAX_FILTERS	16		/* filters in one pipe */
#define TPL_MAX_OUTPUT	(256 * 1024)	/* default output limit, bytes */
#define TPL_MAX_ITER	10000		/* default loop iterations/render */
#define TPL_MAX_NAME	128		/* variable name, bytes */

/* ---- compiling ---------------------------------------------------- */

/*
 * Compile src (len bytes, UTF-8, at most TPL_MAX_SIZE) into *out.  name
 * (e.g. "sms/zh-CN/default.tpl") is used in error messages, which look
 * like "sms.zh-CN.tpl:3:12: unknown filter 'trunc'" (line and column
 * 1-based, the column counted in characters).  Returns 0, or ENG_EINVAL
 * (syntax, limits, invalid UTF-8), ENG_ETOOBIG (source too large) or
 * ENG_ENOMEM, with the message in eb.  Thread-safe.
 */
int tpl_compile(const char *name, const char *src, size_t len,
    struct tpl **out, struct eng_errbuf *eb);

/*
 * Like tpl_compile, but also returns the position of a compile error
 * (*line, *col; 0 when not positional) for callers that collect
 * diagnostics.  line and col may be NULL.
 */
int tpl_compile_at(const char *name, const char *src, size_t len,
    struct tpl **out, long *line, long *col, struct eng_errbuf *eb);

/* Free a compiled template; NULL is a no-op. */
void tpl_free(struct tpl *t);

/* The name given at compile time. */
const char *tpl_name(const struct tpl *t);

/* Maximum SMS segments declared by "{# max_segments: N #}", 0 if none. */
int tpl_max_segments(const struct tpl *t);

/* Non-zero if the template defines {% section name %}. */
int tpl_has_section(const struct tpl *t, const char *name);

/*
 * Whether the template reads a variable whose name starts with prefix
 * (e.g. "responder." or "ack."), anywhere: output, conditions, loops,
 * filter arguments.  What it renders depends on nothing else than the
 * variables it reads.  Pure.
 */
int tpl_uses(const struct tpl *t, const char *prefix);

/* ---- variables ---------------------------------------------------- */

/*
 * A variable context: a flat namespace of names such as "exercise",
 * "alert.event" or "region.name" (the dots are part of the name; names
 * are [A-Za-z_][A-Za-z0-9_]* segments joined by dots, at most
 * TPL_MAX_NAME bytes).  Values are strings, integers, booleans or lists
 * of strings.  Setting a name again replaces its value.  Strings are
 * copied; invalid UTF-8 in them is replaced by U+FFFD.
 *
 * The context also carries the display time zone for the localtime
 * filter: a fixed UTC offset in minutes and its name (default +480,
 * "Asia/Shanghai"; China has no daylight saving time).
 *
 * Not thread-safe for writing; rendering only reads it.
 */
struct tpl_vars *tpl_vars_new(void);
void tpl_vars_free(struct tpl_vars *v);
/* Remove every variable (the zone is kept); reuse for the next message. */
void tpl_vars_clear(struct tpl_vars *v);

/* Each returns 0, ENG_EINVAL (bad name, NULL value) or ENG_ENOMEM. */
int tpl_vars_set_str(struct tpl_vars *v, const char *name, const char *val);
int tpl_vars_set_strn(struct tpl_vars *v, const char *name, const char *val,
    size_t len);
int tpl_vars_set_int(struct tpl_vars *v, const char *name, int64_t val);
int tpl_vars_set_bool(struct tpl_vars *v, const char *name, int val);
int tpl_vars_set_list(struct tpl_vars *v, const char *name,
    const char *const *items, size_t n);
/* Remove one variable; 0 or ENG_ENOENT. */
int tpl_vars_unset(struct tpl_vars *v, const char *name);
/* Display zone: UTC offset in minutes (-1440 < off < 1440) and a name
 * (copied; shown by %Z).  0 or ENG_EINVAL / ENG_ENOMEM. */
int tpl_vars_set_zone(struct tpl_vars *v, int utc_offset_min,
    const char *zone_name);

/* ---- rendering ---------------------------------------------------- */

#define TPL_STRICT	0x1	/* unset variables are errors */

struct tpl_render_opts {
	unsigned flags;		/* TPL_STRICT */
	size_t max_output;	/* bytes; 0: TPL_MAX_OUTPUT */
	size_t max_iter;	/* loop iterations; 0: TPL_MAX_ITER */
};

/*
 * Render t with the variables v (NULL: none) into *out (NUL-terminated,
 * malloc'd, free with free(); *outlen its length, may be NULL).  opts
 * may be NULL (defaults).  Sections ({% section %}) are not part of the
 * main text.  An unset variable renders as "" unless TPL_STRICT.
 * Returns 0, or ENG_EINVAL (strict mode), ENG_ETOOBIG (output or loop
 * limit) or ENG_ENOMEM with "name:line:col: message" in eb; *out is
 * NULL on failure.  Thread-safe (t and v are only read).
 */
int tpl_render(const struct tpl *t, const struct tpl_vars *v,
    const struct tpl_render_opts *opts, char **out, size_t *outlen,
    struct eng_errbuf *eb);

/* Render only the body of {% section name %} (e.g. an e-mail's
 * "subject").  As tpl_render; ENG_ENOENT if there is no such section. */
int tpl_render_section(const struct tpl *t, const char *section,
    const struct tpl_vars *v, const struct tpl_render_opts *opts,
    char **out, size_t *outlen, struct eng_errbuf *eb);

/* ---- SMS length --------------------------------------------------- */

enum tpl_sms_enc {
	TPL_SMS_GSM7 = 0,	/* GSM 03.38: 160 single, 153 per part */
	TPL_SMS_UCS2 = 1,	/* UTF-16 units: 70 single, 67 per part */
};

struct tpl_sms_count {
	enum tpl_sms_enc enc;
	size_t units;		/* septets (GSM-7) or UTF-16 code units */
	size_t chars;		/* code points */
	int segments;		/* >= 1; an empty text is one segment */
};

/*
 * Measure text (len bytes of UTF-8) as an SMS.  GSM-7 when every
 * character is in the GSM 03.38 basic set or its extension table (the
 * extension characters ^{}\[~]|€ count two septets), else UCS-2 (a
 * character outside the BMP counts two units).  A long text is split
 * into parts without splitting an escape pair or a surrogate pair.
 * Returns 0, or ENG_EINVAL for invalid UTF-8.  Pure; thread-safe.
 */
int tpl_sms_count(const char *text, size_t len, struct tpl_sms_count *c);

/*
 * The number of segments of the NUL-terminated text, and its encoding
 * in *enc (may be NULL).  Returns >= 1, or ENG_EINVAL (invalid UTF-8).
 */
int tpl_sms_segments(const char *text, enum tpl_sms_enc *enc);

struct tpl_sms_result {
	char *text;		/* malloc'd; free() it */
	size_t len;
	struct tpl_sms_count count;
	int max_segments;	/* the budget used (0: none) */
	int fits;		/* count.segments <= max_segments (or none) */
	size_t cut;		/* characters removed from the shortened var */
};

/*
 * Render an SMS template within its segment budget.  max_segments
 * overrides the template's declaration when > 0.  When the text is too
 * long, the variable shorten_var (NULL: "alert.description") is cut,
 * on a character boundary with "…" (or "..." for a GSM-7 text) at the
 * end, to the longest length that fits; nothing else is ever shortened
 * (the instruction, the colour and the ack code stay whole).  If even
 * an empty shorten_var does not fit, res holds that shortest text and
 * res->fits is 0: the caller decides.  Returns 0 (res filled; free
 * res->text), or a tpl_render error.  Thread-safe.
 */
int tpl_render_sms(const struct tpl *t, const struct tpl_vars *v,
    const struct tpl_render_opts *opts, int max_segments,
    const char *shorten_var, struct tpl_sms_result *res,
    struct eng_errbuf *eb);

/* ---- template sets ------------------------------------------------ */

enum tpl_kind {
	TPL_SMS = 0,
	TPL_APP,		/* messaging apps (robots, chats) */
	TPL_EMAIL,		/* sections "subject"; main text = body */
	TPL_VOICE,		/* voice call script (TTS) */
	TPL_LOUDSPEAKER,	/* loudspeaker script: read aloud */
	TPL_NKINDS
};

/* "sms", "app", "email", "voice", "loudspeaker"; NULL if out of range. */
const char *tpl_kind_name(enum tpl_kind k);
/* Parse a kind name; 0 and *k, or ENG_EINVAL. */
int tpl_kind_parse(const char *s, enum tpl_kind *k);

/*
 * Load every template under dir:
 *
 *   <dir>/<kind>/<lang>/<event>.tpl                   defaults
 *   <dir>/regions/<code>/<kind>/<lang>/<event>.tpl    region overrides
 *
 * <kind> as tpl_kind_name, <lang> a tag such as zh-CN or en, <event> the
 * event key (CAP event text such as 暴雨, or "default" for the generic
 * template), <code> a 12-digit division code.  Every bad template is
 * reported in dl (file, line, "column N: message"); unknown entries are
 * warnings.  Returns 0 and *out (possibly with warnings), ENG_EINVAL if
 * any template failed (nothing loaded), ENG_EIO (dir unreadable) or
 * ENG_ENOMEM.  Blocking (file I/O).  The set is immutable afterwards
 * and thread-safe to read.
 */
int tpl_set_load(const char *dir, struct tpl_set **out,
    struct diag_list *dl);

/* An empty set, for tests and for callers that add templates by hand. */
struct tpl_set *tpl_set_new(void);
/*
 * Compile src and add it as (region or NULL, kind, lang, event).
 * Replaces an existing entry.  0, ENG_EINVAL (bad key or template, the
 * message in eb) or ENG_ENOMEM.  Not thread-safe.
 */
int tpl_set_add(struct tpl_set *s, const char *region, enum tpl_kind kind,
    const char *lang, const char *event, const char *src, size_t len,
    struct eng_errbuf *eb);
void tpl_set_free(struct tpl_set *s);
/* Number of templates in the set. */
size_t tpl_set_count(const struct tpl_set *s);

/*
 * Find the template for (kind, lang, event) for a recipient in the
 * region chain[0..n-1] (most specific first: village, township, county,
 * …; chain may be NULL when n is 0; event NULL means "default").  Order:
 *
 *   for each language: lang, its primary subtag ("en" for "en-US"),
 *                      then "zh-CN"
 *     for each region: chain[0], chain[1], …, then the defaults
 *       for each event: event, then "default"
 *
 * i.e. a recipient's language wins over everything, then the most
 * specific region (一乡镇一方案: a township's template serves the
 * township and its villages), then the specific event.  Returns the
 * template (owned by the set) or NULL.
 */
const struct tpl *tpl_set_find(const struct tpl_set *s, enum tpl_kind kind,
    const char *lang, const char *event, const char *const *chain,
    size_t n);

#endif /* TEMPLATES_TPL_H */
