/*
 * templates/tpl_parse.c - compiling a template: the lexer that splits
 * the source into text, {{ output }}, {% tags %} and {# comments #}
 * (with whitespace control), and the recursive-descent parser of tags
 * and expressions.  Every error names the template, line and column.
 */
#include "templates/tpl_int.h"
#include "engine/utf8.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum ck_kind { CK_TEXT, CK_OUT, CK_TAG };

struct chunk {
	enum ck_kind kind;
	size_t off;		/* content start in src */
	size_t len;
	size_t open;		/* offset of the opening '{' */
};

enum tok_kind {
	T_END, T_IDENT, T_STR, T_INT, T_EQ, T_NE, T_PIPE, T_LP, T_RP,
	T_COMMA,
};

struct tok {
	enum tok_kind kind;
	size_t off;		/* in src */
	size_t len;
	int64_t i;
};

struct parser {
	struct tpl *t;
	const char *src;
	size_t len;
	struct chunk *ck;
	size_t nck, ack;
	size_t ci;		/* next chunk */
	/* the tag being tokenised */
	size_t tpos, tend;
	struct tok tok;
	/* loop scopes */
	struct {
		size_t off, len;	/* loop variable name in src */
	} loops[TPL_MAX_DEPTH];
	int nloops;
	int depth;
	int edepth;
	/* the first error */
	int err;
	size_t err_off;
	char msg[256];
};

static int
perr(struct parser *p, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
perr(struct parser *p, size_t off, const char *fmt, ...)
{
	va_list ap;

	if (p->err != 0)
		return p->err;
	va_start(ap, fmt);
	(void)vsnprintf(p->msg, sizeof(p->msg), fmt, ap);
	va_end(ap);
	p->err = ENG_EINVAL;
	p->err_off = off;
	return p->err;
}

static int
nomem(struct parser *p)
{
	if (p->err == 0) {
		(void)snprintf(p->msg, sizeof(p->msg), "out of memory");
		p->err = ENG_ENOMEM;
		p->err_off = (size_t)-1;
	}
	return p->err;
}

static void
position(const char *src, size_t len, size_t off, long *line, long *col)
{
	size_t i;

	*line = 1;
	*col = 1;
	if (off > len)
		off = len;
	for (i = 0; i < off; i++) {
		if (src[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)src[i] & 0xc0) != 0x80)
			(*col)++;
	}
}

static int
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* ---- lexer -------------------------------------------------------- */

static int
add_chunk(struct parser *p, enum ck_kind kind, size_t off, size_t len,
    size_t open)
{
	struct chunk *nc;
	size_t na;

	if (p->nck == p->ack) {
		na = p->ack ? p->ack * 2 : 32;
		if ((nc = realloc(p->ck, na * sizeof(*nc))) == NULL)
			return nomem(p);
		p->ck = nc;
		p->ack = na;
	}
	p->ck[p->nck].kind = kind;
	p->ck[p->nck].off = off;
	p->ck[p->nck].len = len;
	p->ck[p->nck].open = open;
	p->nck++;
	return 0;
}

/* "{# max_segments: N #}" */
static int
comment(struct parser *p, size_t off, size_t len)
{
	static const char key[] = "max_segments:";
	const char *s = p->src + off;
	char num[16];
	size_t i, klen = sizeof(key) - 1, b, e;
	long v;
	char *end;

	while (len > 0 && is_ws(*s)) {
		s++;
		off++;
		len--;
	}
	while (len > 0 && is_ws(s[len - 1]))
		len--;
	if (len < klen || memcmp(s, key, klen) != 0)
		return 0;
	for (b = klen; b < len && is_ws(s[b]); b++)
		;
	e = len;
	if (e - b == 0 || e - b >= sizeof(num))
		return perr(p, off + b, "bad max_segments '%.*s' "
		    "(want a number from 1 to 255)", (int)(e - b), s + b);
	for (i = b; i < e; i++)
		if (s[i] < '0' || s[i] > '9')
			return perr(p, off + b, "bad max_segments '%.*s' "
			    "(want a number from 1 to 255)", (int)(e - b),
			    s + b);
	memcpy(num, s + b, e - b);
	num[e - b] = '\0';
	errno = 0;
	v = strtol(num, &end, 10);
	if (errno != 0 || *end != '\0' || v < 1 || v > 255)
		return perr(p, off + b, "bad max_segments '%s' "
		    "(want a number from 1 to 255)", num);
	if (p->t->max_segments != 0)
		return perr(p, off, "max_segments declared twice");
	p->t->max_segments = (int)v;
	return 0;
}

/* Find the closing "}}" or "%}" from i, skipping string literals. */
static size_t
find_close(const char *s, size_t len, size_t i, char c)
{
	char q;

	while (i + 1 < len) {
		if (s[i] == '"' || s[i] == '\'') {
			q = s[i++];
			while (i < len && s[i] != q) {
				if (s[i] == '\\' && i + 1 < len)
					i++;
				i++;
			}
			if (i >= len)
				return (size_t)-1;
			i++;
			continue;
		}
		if (s[i] == c && s[i + 1] == '}')
			return i;
		i++;
	}
	return (size_t)-1;
}

static int
lex(struct parser *p)
{
	const char *s = p->src;
	size_t len = p->len, i = 0, j, text, tend, in, close, ie, ls, m, nl;
	int trim_l, trim_r, rv, standalone;
	char k;
	const char *what;

	while (i < len) {
		text = i;
		for (j = i; j + 1 < len; j++)
			if (s[j] == '{' && (s[j + 1] == '{' ||
			    s[j + 1] == '%' || s[j + 1] == '#'))
				break;
		if (j + 1 >= len) {
			if ((rv = add_chunk(p, CK_TEXT, text, len - text,
			    text)) != 0)
				return rv;
			break;
		}
		k = s[j + 1];
		in = j + 2;
		standalone = 0;
		trim_l = in < len && s[in] == '-';
		if (trim_l)
			in++;
		if (k == '#') {
			close = in;
			while (close + 1 < len &&
			    !(s[close] == '#' && s[close + 1] == '}'))
				close++;
			if (close + 1 >= len)
				close = (size_t)-1;
		} else
			close = find_close(s, len, in, k == '{' ? '}' : '%');
		if (close == (size_t)-1) {
			what = k == '{' ? "{{" : k == '%' ? "{%" : "{#";
			return perr(p, j, "unterminated '%s' (no closing "
			    "'%s')", what, k == '{' ? "}}" : k == '%' ?
			    "%}" : "#}");
		}
		ie = close;
		trim_r = ie > in && s[ie - 1] == '-';
		if (trim_r)
			ie--;
		tend = j;
		if (trim_l)
			while (tend > text && is_ws(s[tend - 1]))
				tend--;
		/* a block tag or comment alone on its line: the whole line
		 * goes (indentation and newline) */
		ls = j;
		while (ls > text && (s[ls - 1] == ' ' || s[ls - 1] == '\t'))
			ls--;
		nl = 0;
		if (k != '{' && !trim_l && !trim_r &&
		    (ls == 0 || s[ls - 1] == '\n')) {
			for (m = close + 2; m < len && (s[m] == ' ' ||
			    s[m] == '\t'); m++)
				;
			if (m == len || s[m] == '\n')
				standalone = 1;
			else if (m + 1 < len && s[m] == '\r' &&
			    s[m + 1] == '\n')
				standalone = 2;
			if (standalone) {
				nl = m - (close + 2) + (m < len ?
				    (size_t)standalone : 0);
				tend = ls;
			}
		}
		if (tend > text &&
		    (rv = add_chunk(p, CK_TEXT, text, tend - text, text)) != 0)
			return rv;
		if (k == '#') {
			if ((rv = comment(p, in, ie - in)) != 0)
				return rv;
		} else if ((rv = add_chunk(p, k == '{' ? CK_OUT : CK_TAG, in,
		    ie - in, j)) != 0)
			return rv;
		i = close + 2;
		if (trim_r) {
			while (i < len && is_ws(s[i]))
				i++;
		} else if (standalone)
			i += nl;
	}
	return 0;
}

/* ---- tokens inside a tag ------------------------------------------ */

static int
ident_start(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int
ident_char(char c)
{
	return ident_start(c) || (c >= '0' && c <= '9') || c == '.';
}

static int
next(struct parser *p)
{
	const char *s = p->src;
	size_t i = p->tpos, e = p->tend, b, n;
	char q, num[24];
	char *end;
	long long v;
	char cbuf[5];

	while (i < e && is_ws(s[i]))
		i++;
	p->tok.off = i;
	p->tok.len = 0;
	if (i >= e) {
		p->tok.kind = T_END;
		p->tpos = i;
		return 0;
	}
	b = i;
	if (ident_start(s[i])) {
		while (i < e && ident_char(s[i]))
			i++;
		p->tok.kind = T_IDENT;
		p->tok.len = i - b;
		if (!tpl_name_ok(s + b, i - b))
			return perr(p, b, "bad name '%.*s'", (int)(i - b),
			    s + b);
	} else if ((s[i] >= '0' && s[i] <= '9') || (s[i] == '-' &&
	    i + 1 < e && s[i + 1] >= '0' && s[i + 1] <= '9')) {
		i++;
		while (i < e && s[i] >= '0' && s[i] <= '9')
			i++;
		n = i - b;
		if (n >= 20)
			return perr(p, b, "number too large");
		memcpy(num, s + b, n);
		num[n] = '\0';
		errno = 0;
		v = strtoll(num, &end, 10);
		if (errno != 0 || *end != '\0')
			return perr(p, b, "number too large");
		p->tok.kind = T_INT;
		p->tok.i = v;
		p->tok.len = n;
	} else if (s[i] == '"' || s[i] == '\'') {
		q = s[i++];
		while (i < e && s[i] != q) {
			if (s[i] == '\\' && i + 1 < e)
				i++;
			i++;
		}
		if (i >= e)
			return perr(p, b, "unterminated string");
		i++;
		p->tok.kind = T_STR;
		p->tok.len = i - b;
	} else if (s[i] == '=' && i + 1 < e && s[i + 1] == '=') {
		p->tok.kind = T_EQ;
		i += 2;
	} else if (s[i] == '!' && i + 1 < e && s[i + 1] == '=') {
		p->tok.kind = T_NE;
		i += 2;
	} else if (s[i] == '|' || s[i] == '(' || s[i] == ')' || s[i] == ',') {
		p->tok.kind = s[i] == '|' ? T_PIPE : s[i] == '(' ? T_LP :
		    s[i] == ')' ? T_RP : T_COMMA;
		i++;
	} else {
		n = utf8_decode(s + i, e - i, NULL);
		if (n == 0)
			n = 1;
		memcpy(cbuf, s + i, n);
		cbuf[n] = '\0';
		if (s[i] == '=')
			return perr(p, b, "unexpected '=' (use '==' to "
			    "compare)");
		return perr(p, b, "unexpected character '%s'", cbuf);
	}
	p->tok.len = i - b;
	p->tpos = i;
	return 0;
}

static int
tok_is(struct parser *p, const char *word)
{
	size_t n = strlen(word);

	return p->tok.kind == T_IDENT && p->tok.len == n &&
	    memcmp(p->src + p->tok.off, word, n) == 0;
}

static const char *
tok_desc(struct parser *p, char *buf, size_t size)
{
	if (p->tok.kind == T_END)
		return "end of tag";
	(void)snprintf(buf, size, "'%.*s'", (int)(p->tok.len > 40 ? 40 :
	    p->tok.len), p->src + p->tok.off);
	return buf;
}

static int
expect_end(struct parser *p, const char *after)
{
	char b[64];

	if (p->tok.kind != T_END)
		return perr(p, p->tok.off, "unexpected %s after %s",
		    tok_desc(p, b, sizeof(b)), after);
	return 0;
}

/* ---- expressions -------------------------------------------------- */

static void expr_free(struct texpr *e);

static void
filters_free(struct tfilter *f, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		for (j = 0; j < f[i].nargs; j++)
			expr_free(f[i].args[j]);
		free(f[i].args);
	}
	free(f);
}

static void
expr_free(struct texpr *e)
{
	if (e == NULL)
		return;
	free(e->s);
	expr_free(e->a);
	expr_free(e->b);
	filters_free(e->filters, e->nfilters);
	free(e);
}

static struct texpr *
enew(struct parser *p, enum texpr_kind kind, size_t off)
{
	struct texpr *e;

	if ((e = calloc(1, sizeof(*e))) == NULL) {
		nomem(p);
		return NULL;
	}
	e->kind = kind;
	position(p->src, p->len, off, &e->line, &e->col);
	return e;
}

static int
unescape(struct parser *p, struct texpr *e, size_t off, size_t len)
{
	const char *s = p->src + off + 1;
	size_t n = len - 2, i;
	struct tbuf b;
	char c;
	int rv = 0;

	tbuf_init(&b, 0);
	for (i = 0; i < n && rv == 0; i++) {
		c = s[i];
		if (c == '\\') {
			i++;
			switch (s[i]) {
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case '\\': case '"': case '\'': c = s[i]; break;
			default:
				tbuf_release(&b);
				return perr(p, off + 1 + i - 1,
				    "unknown escape '\\%c' in string",
				    s[i]);
			}
		}
		rv = tbuf_addc(&b, c);
	}
	if (rv == 0 && (e->s = tbuf_detach(&b, &e->len)) == NULL)
		rv = ENG_ENOMEM;
	if (rv != 0) {
		tbuf_release(&b);
		return nomem(p);
	}
	return 0;
}

static const char *const loop_infos[] = {
	[TL_INDEX] = "index", [TL_INDEX0] = "index0", [TL_FIRST] = "first",
	[TL_LAST] = "last", [TL_LENGTH] = "length",
};

static int
is_keyword(const char *s, size_t n)
{
	static const char *const kw[] = { "not", "and", "or", "in", "if",
	    "elif", "else", "endif", "for", "endfor", "section",
	    "endsection", NULL };
	size_t i;

	for (i = 0; kw[i] != NULL; i++)
		if (strlen(kw[i]) == n && memcmp(kw[i], s, n) == 0)
			return 1;
	return 0;
}

static struct texpr *
name_expr(struct parser *p)
{
	const char *s = p->src + p->tok.off;
	size_t n = p->tok.len, off = p->tok.off, vl;
	struct texpr *e;
	int d;
	size_t k;

	if (is_keyword(s, n)) {
		perr(p, off, "unexpected '%.*s'", (int)n, s);
		return NULL;
	}
	if (n >= 5 && memcmp(s, "loop.", 5) == 0) {
		if (p->nloops == 0) {
			perr(p, off, "'%.*s' outside a for loop", (int)n, s);
			return NULL;
		}
		for (k = 0; k < sizeof(loop_infos) / sizeof(loop_infos[0]);
		    k++)
			if (strlen(loop_infos[k]) == n - 5 &&
			    memcmp(loop_infos[k], s + 5, n - 5) == 0)
				break;
		if (k == sizeof(loop_infos) / sizeof(loop_infos[0])) {
			perr(p, off, "unknown loop attribute '%.*s' (use "
			    "loop.index, loop.index0, loop.first, loop.last "
			    "or loop.length)", (int)n, s);
			return NULL;
		}
		if ((e = enew(p, TE_LOOPINFO, off)) == NULL)
			return NULL;
		e->i = p->nloops - 1;
		e->info = (int)k;
		return e;
	}
	for (d = p->nloops - 1; d >= 0; d--) {
		vl = p->loops[d].len;
		if (n >= vl && memcmp(s, p->src + p->loops[d].off, vl) == 0) {
			if (n == vl)
				break;
			if (s[vl] == '.') {
				perr(p, off, "loop item '%.*s' is text; it has "
				    "no attribute '%.*s'", (int)vl, s,
				    (int)(n - vl - 1), s + vl + 1);
				return NULL;
			}
		}
	}
	if (d >= 0) {
		if ((e = enew(p, TE_LOOPVAR, off)) == NULL)
			return NULL;
		e->i = d;
		return e;
	}
	if ((e = enew(p, TE_VAR, off)) == NULL)
		return NULL;
	if ((e->s = strndup(s, n)) == NULL) {
		nomem(p);
		expr_free(e);
		return NULL;
	}
	e->len = n;
	return e;
}

static struct texpr *parse_or(struct parser *p);

/* IDENT | STR | INT (filter arguments and pipe operands) */
static struct texpr *
parse_atom(struct parser *p)
{
	struct texpr *e = NULL;
	char b[64];

	switch (p->tok.kind) {
	case T_IDENT:
		e = name_expr(p);
		break;
	case T_STR:
		if ((e = enew(p, TE_STR, p->tok.off)) != NULL &&
		    unescape(p, e, p->tok.off, p->tok.len) != 0) {
			expr_free(e);
			e = NULL;
		}
		break;
	case T_INT:
		if ((e = enew(p, TE_INT, p->tok.off)) != NULL)
			e->i = p->tok.i;
		break;
	default:
		perr(p, p->tok.off, "expected a name, a string or a number, "
		    "got %s", tok_desc(p, b, sizeof(b)));
		return NULL;
	}
	if (e == NULL)
		return NULL;
	if (next(p) != 0) {
		expr_free(e);
		return NULL;
	}
	return e;
}

static int
parse_filter(struct parser *p, struct tfilter *f)
{
	const char *s = p->src + p->tok.off;
	size_t n = p->tok.len, off = p->tok.off;
	struct texpr **na;
	const char *msg;
	char b[64];

	memset(f, 0, sizeof(*f));
	position(p->src, p->len, off, &f->line, &f->col);
	if (p->tok.kind != T_IDENT)
		return perr(p, off, "expected a filter name after '|', got %s",
		    tok_desc(p, b, sizeof(b)));
	if ((f->def = tfilter_find(s, n)) == NULL)
		return perr(p, off, "unknown filter '%.*s'", (int)n, s);
	if (next(p) != 0)
		return p->err;
	if (p->tok.kind == T_LP) {
		if (next(p) != 0)
			return p->err;
		while (p->tok.kind != T_RP) {
			if (f->nargs > 0) {
				if (p->tok.kind != T_COMMA)
					return perr(p, p->tok.off, "expected "
					    "',' or ')' in the arguments of "
					    "'%s', got %s", f->def->name,
					    tok_desc(p, b, sizeof(b)));
				if (next(p) != 0)
					return p->err;
			}
			if (f->nargs >= 4)
				return perr(p, p->tok.off, "too many "
				    "arguments for '%s'", f->def->name);
			na = realloc(f->args, (f->nargs + 1) * sizeof(*na));
			if (na == NULL)
				return nomem(p);
			f->args = na;
			if ((f->args[f->nargs] = parse_atom(p)) == NULL)
				return p->err;
			f->nargs++;
		}
		if (next(p) != 0)
			return p->err;
	}
	if ((int)f->nargs < f->def->min_args ||
	    (int)f->nargs > f->def->max_args) {
		if (f->def->min_args == f->def->max_args)
			return perr(p, off, "filter '%s' takes %d "
			    "argument%s, got %zu", f->def->name,
			    f->def->min_args, f->def->min_args == 1 ? "" : "s",
			    f->nargs);
		return perr(p, off, "filter '%s' takes %d to %d arguments, "
		    "got %zu", f->def->name, f->def->min_args,
		    f->def->max_args, f->nargs);
	}
	if (f->def->check != NULL && (msg = f->def->check(f)) != NULL)
		return perr(p, off, "%s: %s", f->def->name, msg);
	return 0;
}

/* atom ('|' filter)* | '(' or ')' */
static struct texpr *
parse_pipe(struct parser *p)
{
	struct texpr *a, *e;
	struct tfilter *nf;
	size_t off = p->tok.off;
	char b[64];

	if (p->tok.kind == T_LP) {
		if (++p->edepth > TPL_MAX_EXPR_DEPTH) {
			perr(p, off, "expression nested too deeply (limit "
			    "%d)", TPL_MAX_EXPR_DEPTH);
			return NULL;
		}
		if (next(p) != 0 || (a = parse_or(p)) == NULL)
			return NULL;
		if (p->tok.kind != T_RP) {
			perr(p, p->tok.off, "expected ')', got %s",
			    tok_desc(p, b, sizeof(b)));
			expr_free(a);
			return NULL;
		}
		p->edepth--;
		if (next(p) != 0) {
			expr_free(a);
			return NULL;
		}
		return a;
	}
	if ((a = parse_atom(p)) == NULL)
		return NULL;
	if (p->tok.kind != T_PIPE)
		return a;
	if ((e = enew(p, TE_PIPE, off)) == NULL) {
		expr_free(a);
		return NULL;
	}
	e->a = a;
	while (p->tok.kind == T_PIPE) {
		if (e->nfilters >= TPL_MAX_FILTERS) {
			perr(p, p->tok.off, "too many filters (limit %d)",
			    TPL_MAX_FILTERS);
			goto fail;
		}
		if (next(p) != 0)
			goto fail;
		nf = realloc(e->filters, (e->nfilters + 1) * sizeof(*nf));
		if (nf == NULL) {
			nomem(p);
			goto fail;
		}
		e->filters = nf;
		e->nfilters++;
		if (parse_filter(p, &e->filters[e->nfilters - 1]) != 0)
			goto fail;
	}
	return e;
fail:
	expr_free(e);
	return NULL;
}

static struct texpr *
parse_cmp(struct parser *p)
{
	struct texpr *a, *b, *e;
	enum texpr_kind k;
	size_t off;

	if ((a = parse_pipe(p)) == NULL)
		return NULL;
	if (p->tok.kind != T_EQ && p->tok.kind != T_NE)
		return a;
	k = p->tok.kind == T_EQ ? TE_EQ : TE_NE;
	off = p->tok.off;
	if (next(p) != 0 || (b = parse_pipe(p)) == NULL) {
		expr_free(a);
		return NULL;
	}
	if ((e = enew(p, k, off)) == NULL) {
		expr_free(a);
		expr_free(b);
		return NULL;
	}
	e->a = a;
	e->b = b;
	return e;
}

static struct texpr *
parse_not(struct parser *p)
{
	struct texpr *a, *e;
	size_t off = p->tok.off;

	if (!tok_is(p, "not"))
		return parse_cmp(p);
	if (++p->edepth > TPL_MAX_EXPR_DEPTH) {
		perr(p, off, "expression nested too deeply (limit %d)",
		    TPL_MAX_EXPR_DEPTH);
		return NULL;
	}
	if (next(p) != 0 || (a = parse_not(p)) == NULL)
		return NULL;
	p->edepth--;
	if ((e = enew(p, TE_NOT, off)) == NULL) {
		expr_free(a);
		return NULL;
	}
	e->a = a;
	return e;
}

static struct texpr *
parse_bin(struct parser *p, const char *word, enum texpr_kind kind,
    struct texpr *(*sub)(struct parser *))
{
	struct texpr *a, *b, *e;
	size_t off;

	if ((a = sub(p)) == NULL)
		return NULL;
	while (tok_is(p, word)) {
		off = p->tok.off;
		if (next(p) != 0 || (b = sub(p)) == NULL) {
			expr_free(a);
			return NULL;
		}
		if ((e = enew(p, kind, off)) == NULL) {
			expr_free(a);
			expr_free(b);
			return NULL;
		}
		e->a = a;
		e->b = b;
		a = e;
	}
	return a;
}

static struct texpr *
parse_and(struct parser *p)
{
	return parse_bin(p, "and", TE_AND, parse_not);
}

static struct texpr *
parse_or(struct parser *p)
{
	return parse_bin(p, "or", TE_OR, parse_and);
}

/* ---- blocks ------------------------------------------------------- */

static void
nodes_free(struct tnode *n)
{
	struct tnode *nx;
	size_t i;

	for (; n != NULL; n = nx) {
		nx = n->next;
		expr_free(n->expr);
		for (i = 0; i < n->nbr; i++) {
			expr_free(n->br[i].cond);
			nodes_free(n->br[i].body);
		}
		free(n->br);
		nodes_free(n->body);
		nodes_free(n->else_body);
		free(n->name);
		free(n);
	}
}

static struct tnode *
nnew(struct parser *p, enum tnode_kind kind, size_t off)
{
	struct tnode *n;

	if ((n = calloc(1, sizeof(*n))) == NULL) {
		nomem(p);
		return NULL;
	}
	n->kind = kind;
	position(p->src, p->len, off, &n->line, &n->col);
	return n;
}

/* Start tokenising chunk c; the first token is read. */
static int
tag_start(struct parser *p, const struct chunk *c)
{
	p->tpos = c->off;
	p->tend = c->off + c->len;
	p->edepth = 0;
	return next(p);
}

static int parse_body(struct parser *p, const char *const *ends,
    size_t open, const char *opener, struct tnode **out, int *which);

static int
add_branch(struct parser *p, struct tnode *n, struct texpr *cond)
{
	struct tbranch *nb;

	if ((nb = realloc(n->br, (n->nbr + 1) * sizeof(*nb))) == NULL) {
		expr_free(cond);
		return nomem(p);
	}
	n->br = nb;
	n->br[n->nbr].cond = cond;
	n->br[n->nbr].body = NULL;
	n->nbr++;
	return 0;
}

static int
parse_if(struct parser *p, struct tnode *n, size_t open)
{
	static const char *const ends[] = { "elif", "else", "endif", NULL };
	static const char *const endif[] = { "endif", NULL };
	struct texpr *cond;
	int which, rv;

	for (;;) {
		/* the tag's keyword (if/elif) has been read */
		if (next(p) != 0)
			return p->err;
		if (p->tok.kind == T_END)
			return perr(p, p->tok.off, "missing condition");
		if ((cond = parse_or(p)) == NULL)
			return p->err;
		if ((rv = add_branch(p, n, cond)) != 0)
			return rv;
		if (expect_end(p, "the condition") != 0)
			return p->err;
		if ((rv = parse_body(p, ends, open, "if",
		    &n->br[n->nbr - 1].body, &which)) != 0)
			return rv;
		if (which == 0)
			continue;
		if (which == 1) {
			if (next(p) != 0 || expect_end(p, "'else'") != 0)
				return p->err;
			if ((rv = add_branch(p, n, NULL)) != 0)
				return rv;
			if ((rv = parse_body(p, endif, open, "if",
			    &n->br[n->nbr - 1].body, &which)) != 0)
				return rv;
		}
		if (next(p) != 0 || expect_end(p, "'endif'") != 0)
			return p->err;
		return 0;
	}
}

static int
parse_for(struct parser *p, struct tnode *n, size_t open)
{
	static const char *const ends[] = { "else", "endfor", NULL };
	static const char *const endfor[] = { "endfor", NULL };
	size_t voff, vlen;
	int which, rv;
	char b[64];

	if (next(p) != 0)
		return p->err;
	if (p->tok.kind != T_IDENT || memchr(p->src + p->tok.off, '.',
	    p->tok.len) != NULL || is_keyword(p->src + p->tok.off,
	    p->tok.len) || (p->tok.len == 4 &&
	    memcmp(p->src + p->tok.off, "loop", 4) == 0))
		return perr(p, p->tok.off, "expected a loop variable name "
		    "after 'for', got %s", tok_desc(p, b, sizeof(b)));
	voff = p->tok.off;
	vlen = p->tok.len;
	if (next(p) != 0)
		return p->err;
	if (!tok_is(p, "in"))
		return perr(p, p->tok.off, "expected 'in' after the loop "
		    "variable, got %s", tok_desc(p, b, sizeof(b)));
	if (next(p) != 0 || (n->expr = parse_or(p)) == NULL)
		return p->err;
	if (expect_end(p, "the list") != 0)
		return p->err;
	n->depth = p->nloops;
	p->loops[p->nloops].off = voff;
	p->loops[p->nloops].len = vlen;
	p->nloops++;
	rv = parse_body(p, ends, open, "for", &n->body, &which);
	p->nloops--;
	if (rv != 0)
		return rv;
	if (which == 0) {
		if (next(p) != 0 || expect_end(p, "'else'") != 0)
			return p->err;
		if ((rv = parse_body(p, endfor, open, "for", &n->else_body,
		    &which)) != 0)
			return rv;
	}
	if (next(p) != 0 || expect_end(p, "'endfor'") != 0)
		return p->err;
	return 0;
}

static int
parse_section(struct parser *p, struct tnode *n, size_t open)
{
	static const char *const ends[] = { "endsection", NULL };
	struct tnode *x;
	int which, rv;
	char b[64];

	if (p->depth != 1)
		return perr(p, p->tok.off, "'section' must be at the top "
		    "level, not inside another block");
	if (next(p) != 0)
		return p->err;
	if (p->tok.kind != T_IDENT || is_keyword(p->src + p->tok.off,
	    p->tok.len))
		return perr(p, p->tok.off, "expected a section name, got %s",
		    tok_desc(p, b, sizeof(b)));
	if ((n->name = strndup(p->src + p->tok.off, p->tok.len)) == NULL)
		return nomem(p);
	for (x = p->t->root; x != NULL; x = x->next)
		if (x != n && x->kind == TN_SECTION &&
		    strcmp(x->name, n->name) == 0)
			return perr(p, p->tok.off, "section '%s' defined "
			    "twice", n->name);
	if (next(p) != 0 || expect_end(p, "the section name") != 0)
		return p->err;
	if ((rv = parse_body(p, ends, open, "section", &n->body, &which))
	    != 0)
		return rv;
	if (next(p) != 0 || expect_end(p, "'endsection'") != 0)
		return p->err;
	return 0;
}

static int
word_in(struct parser *p, const char *const *ends)
{
	int i;

	for (i = 0; ends != NULL && ends[i] != NULL; i++)
		if (tok_is(p, ends[i]))
			return i;
	return -1;
}

/*
 * Parse nodes up to a tag whose keyword is one of ends (NULL: the end of
 * the template); *which is its index and the tokenizer stands on it.
 */
static int
parse_body(struct parser *p, const char *const *ends, size_t open,
    const char *opener, struct tnode **out, int *which)
{
	static const char *const stray[] = { "elif", "else", "endif",
	    "endfor", "endsection", NULL };
	struct tnode **tail = out, *n;
	const struct chunk *c;
	long line, col;
	int rv, w;
	char b[64];

	*out = NULL;
	if (++p->depth > TPL_MAX_DEPTH + 1)
		return perr(p, open, "blocks nested too deeply (limit %d)",
		    TPL_MAX_DEPTH);
	while (p->ci < p->nck) {
		c = &p->ck[p->ci++];
		if (c->kind == CK_TEXT) {
			if ((n = nnew(p, TN_TEXT, c->off)) == NULL)
				return p->err;
			n->text = p->src + c->off;
			n->len = c->len;
			*tail = n;
			tail = &n->next;
			continue;
		}
		if (tag_start(p, c) != 0)
			return p->err;
		if (c->kind == CK_OUT) {
			if (p->tok.kind == T_END)
				return perr(p, c->open, "empty '{{ }}'");
			if ((n = nnew(p, TN_OUT, c->open)) == NULL)
				return p->err;
			*tail = n;
			tail = &n->next;
			if ((n->expr = parse_or(p)) == NULL)
				return p->err;
			if (expect_end(p, "the expression") != 0)
				return p->err;
			continue;
		}
		if (p->tok.kind != T_IDENT)
			return perr(p, p->tok.off, "expected a tag name "
			    "(if, elif, else, endif, for, endfor, section, "
			    "endsection), got %s", tok_desc(p, b, sizeof(b)));
		if ((w = word_in(p, ends)) >= 0) {
			*which = w;
			p->depth--;
			return 0;
		}
		if (word_in(p, stray) >= 0) {
			if (ends == NULL)
				return perr(p, p->tok.off, "'%.*s' without "
				    "an open block", (int)p->tok.len,
				    p->src + p->tok.off);
			position(p->src, p->len, open, &line, &col);
			return perr(p, p->tok.off, "'%.*s' inside '%s' "
			    "(opened at %ld:%ld)", (int)p->tok.len,
			    p->src + p->tok.off, opener, line, col);
		}
		if (tok_is(p, "if"))
			n = nnew(p, TN_IF, c->open);
		else if (tok_is(p, "for"))
			n = nnew(p, TN_FOR, c->open);
		else if (tok_is(p, "section"))
			n = nnew(p, TN_SECTION, c->open);
		else
			return perr(p, p->tok.off, "unknown tag '%.*s'",
			    (int)p->tok.len, p->src + p->tok.off);
		if (n == NULL)
			return p->err;
		*tail = n;
		tail = &n->next;
		if (n->kind == TN_IF)
			rv = parse_if(p, n, c->open);
		else if (n->kind == TN_FOR)
			rv = parse_for(p, n, c->open);
		else
			rv = parse_section(p, n, c->open);
		if (rv != 0)
			return rv;
	}
	if (ends != NULL) {
		for (w = 0; ends[w + 1] != NULL; w++)
			;
		return perr(p, open, "unterminated '%s' (no '{%% %s %%}' "
		    "before the end)", opener, ends[w]);
	}
	p->depth--;
	return 0;
}

/* ---- compile ------------------------------------------------------ */

void
tpl_free(struct tpl *t)
{
	if (t == NULL)
		return;
	nodes_free(t->root);
	free(t->name);
	free(t->src);
	free(t);
}

int
tpl_compile_raw(const char *name, const char *src, size_t len, struct tpl **out,
    long *line, long *col, char *msg, size_t msgsize)
{
	struct parser p;
	struct tpl *t = NULL;
	size_t bad;
	int which, rv;

	memset(&p, 0, sizeof(p));
	*out = NULL;
	*line = *col = 0;
	if (len > TPL_MAX_SIZE) {
		(void)snprintf(msg, msgsize, "template too large (%zu bytes, "
		    "limit %d)", len, TPL_MAX_SIZE);
		return ENG_ETOOBIG;
	}
	if (src == NULL && len > 0) {
		(void)snprintf(msg, msgsize, "no source");
		return ENG_EINVAL;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->name = strdup(name != NULL ? name : "template")) == NULL ||
	    (t->src = malloc(len + 1)) == NULL) {
		tpl_free(t);
		(void)snprintf(msg, msgsize, "out of memory");
		return ENG_ENOMEM;
	}
	if (len > 0)
		memcpy(t->src, src, len);
	t->src[len] = '\0';
	/* a file's final newline is not part of the text */
	if (len > 0 && t->src[len - 1] == '\n')
		len--;
	if (len > 0 && t->src[len - 1] == '\r')
		len--;
	t->len = len;
	p.t = t;
	p.src = t->src;
	p.len = len;
	if ((bad = utf8_check(t->src, len)) != len)
		rv = perr(&p, bad, "invalid UTF-8");
	else if (memchr(t->src, '\0', len) != NULL)
		rv = perr(&p, (size_t)((const char *)memchr(t->src, '\0',
		    len) - t->src), "NUL byte in template");
	else if ((rv = lex(&p)) == 0)
		rv = parse_body(&p, NULL, 0, NULL, &t->root, &which);
	free(p.ck);
	if (rv != 0) {
		if (p.err_off != (size_t)-1)
			position(p.src, p.len, p.err_off, line, col);
		(void)snprintf(msg, msgsize, "%s", p.msg);
		tpl_free(t);
		return p.err != 0 ? p.err : rv;
	}
	*out = t;
	return 0;
}

int
tpl_compile_at(const char *name, const char *src, size_t len,
    struct tpl **out, long *line, long *col, struct eng_errbuf *eb)
{
	char msg[300];
	long l, c;
	int rv;

	rv = tpl_compile_raw(name, src, len, out, &l, &c, msg, sizeof(msg));
	if (line != NULL)
		*line = l;
	if (col != NULL)
		*col = c;
	if (rv == 0)
		return 0;
	if (l > 0)
		return eng_error(eb, rv, "%s:%ld:%ld: %s",
		    name != NULL ? name : "template", l, c, msg);
	return eng_error(eb, rv, "%s: %s", name != NULL ? name : "template",
	    msg);
}

int
tpl_compile(const char *name, const char *src, size_t len,
    struct tpl **out, struct eng_errbuf *eb)
{
	return tpl_compile_at(name, src, len, out, NULL, NULL, eb);
}

const char *
tpl_name(const struct tpl *t)
{
	return t->name;
}

int
tpl_max_segments(const struct tpl *t)
{
	return t->max_segments;
}

int
tpl_has_section(const struct tpl *t, const char *name)
{
	const struct tnode *n;

	for (n = t->root; n != NULL; n = n->next)
		if (n->kind == TN_SECTION && strcmp(n->name, name) == 0)
			return 1;
	return 0;
}

static int
expr_uses(const struct texpr *e, const char *prefix, size_t plen)
{
	size_t i, k;

	if (e == NULL)
		return 0;
	if (e->kind == TE_VAR && e->s != NULL &&
	    strncmp(e->s, prefix, plen) == 0)
		return 1;
	if (expr_uses(e->a, prefix, plen) || expr_uses(e->b, prefix, plen))
		return 1;
	for (i = 0; i < e->nfilters; i++)
		for (k = 0; k < e->filters[i].nargs; k++)
			if (expr_uses(e->filters[i].args[k], prefix, plen))
				return 1;
	return 0;
}

static int
nodes_use(const struct tnode *n, const char *prefix, size_t plen)
{
	size_t i;

	for (; n != NULL; n = n->next) {
		if (expr_uses(n->expr, prefix, plen) ||
		    nodes_use(n->body, prefix, plen) ||
		    nodes_use(n->else_body, prefix, plen))
			return 1;
		for (i = 0; i < n->nbr; i++)
			if (expr_uses(n->br[i].cond, prefix, plen) ||
			    nodes_use(n->br[i].body, prefix, plen))
				return 1;
	}
	return 0;
}

int
tpl_uses(const struct tpl *t, const char *prefix)
{
	return t != NULL && nodes_use(t->root, prefix, strlen(prefix));
}
