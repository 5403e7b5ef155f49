/*
 * templates/tpl_int.h - internals shared by the files of templates/.
 * Never included from outside this directory.
 */
#ifndef TEMPLATES_TPL_INT_H
#define TEMPLATES_TPL_INT_H

#include <stddef.h>
#include <stdint.h>

#include "templates/tpl.h"

/* ---- growable byte buffer with a limit ---------------------------- */

struct tbuf {
	char *p;
	size_t len;
	size_t alloc;
	size_t max;		/* 0: unlimited */
	int over;		/* a write was refused because of max */
};

void tbuf_init(struct tbuf *b, size_t max);
void tbuf_release(struct tbuf *b);
/* 0, ENG_ETOOBIG (sets over) or ENG_ENOMEM. */
int tbuf_add(struct tbuf *b, const char *s, size_t n);
int tbuf_adds(struct tbuf *b, const char *s);
int tbuf_addc(struct tbuf *b, char c);
/* NUL-terminate and hand the buffer over (never NULL unless ENOMEM). */
char *tbuf_detach(struct tbuf *b, size_t *len);

/* ---- UTF-8 -------------------------------------------------------- */

/* Decoding one code point is utf8_decode() of engine/utf8.h, finding
 * the first invalid sequence utf8_check(). */

/* Number of code points of valid UTF-8. */
size_t tpl_utf8_count(const char *s, size_t n);
/* Byte length of the first k code points of valid UTF-8. */
size_t tpl_utf8_prefix(const char *s, size_t n, size_t k);
/* Copy s, replacing invalid sequences by U+FFFD. */
int tpl_utf8_sanitise(struct tbuf *b, const char *s, size_t n);

/* ---- values and variables ----------------------------------------- */

enum tval_kind {
	TV_NONE = 0,		/* unset */
	TV_STR,
	TV_INT,
	TV_BOOL,
	TV_LIST,
};

/* A value during rendering.  s/items are borrowed (from the variables,
 * the template or a loop) unless own is set (then s == own). */
struct tval {
	enum tval_kind kind;
	const char *s;
	size_t len;
	int64_t i;
	char *const *items;
	const size_t *lens;
	size_t n;
	char *own;
};

struct tvar {
	char *name;
	enum tval_kind kind;
	char *s;
	size_t len;
	int64_t i;
	char **items;
	size_t *lens;
	size_t n;
};

struct tpl_vars {
	struct tvar *v;
	size_t n;
	size_t alloc;
	int utc_off;		/* minutes */
	char *zone;
};

const struct tvar *tpl_vars_get(const struct tpl_vars *v, const char *name);
int tpl_name_ok(const char *name, size_t len);

/* ---- the compiled template ---------------------------------------- */

enum texpr_kind {
	TE_VAR,			/* context variable: name */
	TE_LOOPVAR,		/* the item of loop `depth` */
	TE_LOOPINFO,		/* loop.<info> of loop `depth` */
	TE_STR,			/* literal: s/len */
	TE_INT,			/* literal: i */
	TE_NOT,
	TE_AND,
	TE_OR,
	TE_EQ,
	TE_NE,
	TE_PIPE,		/* a (operand) | filters */
};

enum tloop_info {
	TL_INDEX,		/* 1-based */
	TL_INDEX0,
	TL_FIRST,
	TL_LAST,
	TL_LENGTH,
};

struct tfilter_def;

struct tfilter {
	const struct tfilter_def *def;
	struct texpr **args;
	size_t nargs;
	long line, col;
};

struct texpr {
	enum texpr_kind kind;
	long line, col;
	char *s;		/* TE_VAR name, TE_STR text */
	size_t len;
	int64_t i;		/* TE_INT; TE_LOOPVAR/INFO: depth, info */
	int info;
	struct texpr *a, *b;
	struct tfilter *filters;	/* TE_PIPE */
	size_t nfilters;
};

enum tnode_kind {
	TN_TEXT,
	TN_OUT,
	TN_IF,
	TN_FOR,
	TN_SECTION,
};

struct tnode;

struct tbranch {
	struct texpr *cond;	/* NULL: else */
	struct tnode *body;
};

struct tnode {
	enum tnode_kind kind;
	struct tnode *next;
	long line, col;
	const char *text;	/* TN_TEXT: slice of tpl->src */
	size_t len;
	struct texpr *expr;	/* TN_OUT; TN_FOR: the list */
	struct tbranch *br;	/* TN_IF */
	size_t nbr;
	struct tnode *body;	/* TN_FOR, TN_SECTION */
	struct tnode *else_body; /* TN_FOR: {% else %} when empty */
	int depth;		/* TN_FOR: loop depth (0 outermost) */
	char *name;		/* TN_SECTION */
};

struct tpl {
	char *name;
	char *src;
	size_t len;
	struct tnode *root;
	int max_segments;
};

/* Compile; on failure the bare message (no name or position) in msg and
 * the position in *line and *col (0 when not positional). */
int tpl_compile_raw(const char *name, const char *src, size_t len,
    struct tpl **out, long *line, long *col, char *msg, size_t msgsize);

/* ---- filters ------------------------------------------------------ */

struct trender;

typedef int (*tfilter_fn)(struct trender *r, const struct tfilter *f,
    struct tval *in, struct tval *args, struct tval *out);

struct tfilter_def {
	const char *name;
	int min_args, max_args;
	/* Check literal arguments at compile time (NULL: none); returns
	 * NULL or a static message. */
	const char *(*check)(const struct tfilter *f);
	tfilter_fn fn;
	int takes_unset;	/* applies to an unset value (default) */
};

const struct tfilter_def *tfilter_find(const char *name, size_t len);

/* Rendering state (tpl_render.c). */
struct trender {
	const struct tpl *t;
	const struct tpl_vars *v;
	unsigned flags;
	size_t max_iter;
	size_t iter;
	struct eng_errbuf *eb;
	/* loops */
	struct {
		const struct tval *list;
		size_t idx;
	} loop[TPL_MAX_DEPTH];
	/* an override of one variable (SMS shortening) */
	const char *ovr_name;
	const char *ovr_s;
	size_t ovr_len;
};

void tval_release(struct tval *x);
/* The text form of x (ints in decimal, bools "true"/"false", lists
 * joined by ", ") into out (an owned or borrowed string value). */
int tval_to_str(struct trender *r, const struct tval *x, struct tval *out);
int tval_truthy(const struct tval *x);
int trender_error(struct trender *r, int err, long line, long col,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

int tpl_render_ovr(const struct tpl *t, const char *section,
    const struct tpl_vars *v, const struct tpl_render_opts *opts,
    const char *ovr_name, const char *ovr_s, size_t ovr_len,
    char **out, size_t *outlen, struct eng_errbuf *eb);

/* Time: parse UTC ms or RFC 3339 text to ms since the epoch. */
int ttime_parse(const char *s, size_t len, int64_t *ms);
/* Check a localtime format; NULL or a static message. */
const char *ttime_fmt_check(const char *fmt, size_t len);
int ttime_format(struct tbuf *b, int64_t ms, int off_min, const char *zone,
    const char *fmt, size_t len);

#endif /* TEMPLATES_TPL_INT_H */
