/*
 * templates/tpl_render.c - rendering a compiled template with a
 * variable context.  Reads only; any number of renders may run at once.
 */
#include "templates/tpl_int.h"
#include "engine/utf8.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
trender_error(struct trender *r, int err, long line, long col,
    const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return eng_error(r->eb, err, "%s:%ld:%ld: %s", r->t->name, line, col,
	    msg);
}

void
tval_release(struct tval *x)
{
	free(x->own);
	memset(x, 0, sizeof(*x));
}

int
tval_truthy(const struct tval *x)
{
	switch (x->kind) {
	case TV_STR:
		return x->len > 0;
	case TV_INT:
	case TV_BOOL:
		return x->i != 0;
	case TV_LIST:
		return x->n > 0;
	default:
		return 0;
	}
}

static void
borrow(struct tval *out, const char *s, size_t len)
{
	memset(out, 0, sizeof(*out));
	out->kind = TV_STR;
	out->s = s;
	out->len = len;
}

int
tval_to_str(struct trender *r, const struct tval *x, struct tval *out)
{
	struct tbuf b;
	char num[32];
	size_t i;
	int rv;

	(void)r;
	switch (x->kind) {
	case TV_STR:
		borrow(out, x->s, x->len);
		return 0;
	case TV_BOOL:
		borrow(out, x->i ? "true" : "false", x->i ? 4 : 5);
		return 0;
	case TV_NONE:
		borrow(out, "", 0);
		return 0;
	default:
		break;
	}
	tbuf_init(&b, 0);
	if (x->kind == TV_INT) {
		(void)snprintf(num, sizeof(num), "%" PRId64, x->i);
		rv = tbuf_adds(&b, num);
	} else {
		rv = tbuf_add(&b, "", 0);
		for (i = 0; i < x->n && rv == 0; i++) {
			if (i > 0)
				rv = tbuf_add(&b, ", ", 2);
			if (rv == 0)
				rv = tbuf_add(&b, x->items[i], x->lens[i]);
		}
	}
	if (rv != 0) {
		tbuf_release(&b);
		return rv;
	}
	memset(out, 0, sizeof(*out));
	out->kind = TV_STR;
	out->own = tbuf_detach(&b, &out->len);
	out->s = out->own;
	return 0;
}

static const char *
expr_name(const struct texpr *e)
{
	while (e != NULL && e->kind == TE_PIPE)
		e = e->a;
	return e != NULL && e->kind == TE_VAR ? e->s : "?";
}

static int
undefined(struct trender *r, const struct texpr *e)
{
	return trender_error(r, ENG_EINVAL, e->line, e->col,
	    "undefined variable '%s'", expr_name(e));
}

static int eval(struct trender *r, const struct texpr *e, struct tval *out);

static int
eval_pipe(struct trender *r, const struct texpr *e, struct tval *out)
{
	struct tval in, args[4], res;
	const struct tfilter *f;
	size_t i, j;
	int rv;

	if ((rv = eval(r, e->a, &in)) != 0)
		return rv;
	for (i = 0; i < e->nfilters; i++) {
		f = &e->filters[i];
		if (in.kind == TV_NONE && !f->def->takes_unset) {
			if (r->flags & TPL_STRICT) {
				rv = undefined(r, e->a);
				break;
			}
			borrow(&in, "", 0);
		}
		memset(args, 0, sizeof(args));
		for (j = 0; j < f->nargs && rv == 0; j++)
			rv = eval(r, f->args[j], &args[j]);
		memset(&res, 0, sizeof(res));
		if (rv == 0)
			rv = f->def->fn(r, f, &in, args, &res);
		for (j = 0; j < f->nargs; j++)
			tval_release(&args[j]);
		tval_release(&in);
		if (rv != 0)
			return rv;
		in = res;
	}
	if (rv != 0) {
		tval_release(&in);
		return rv;
	}
	*out = in;
	return 0;
}

static int
eval_var(struct trender *r, const struct texpr *e, struct tval *out)
{
	const struct tvar *v;

	memset(out, 0, sizeof(*out));
	if (r->ovr_name != NULL && strcmp(r->ovr_name, e->s) == 0) {
		borrow(out, r->ovr_s, r->ovr_len);
		return 0;
	}
	if ((v = tpl_vars_get(r->v, e->s)) == NULL)
		return 0;
	out->kind = v->kind;
	out->s = v->s;
	out->len = v->len;
	out->i = v->i;
	out->items = v->items;
	out->lens = v->lens;
	out->n = v->n;
	return 0;
}

static int
eval_cmp(struct trender *r, const struct texpr *e, struct tval *out)
{
	struct tval a, b, sa, sb;
	int rv, eq;

	memset(&sa, 0, sizeof(sa));
	memset(&sb, 0, sizeof(sb));
	if ((rv = eval(r, e->a, &a)) != 0)
		return rv;
	if ((rv = eval(r, e->b, &b)) != 0) {
		tval_release(&a);
		return rv;
	}
	if (r->flags & TPL_STRICT) {
		if (a.kind == TV_NONE)
			rv = undefined(r, e->a);
		else if (b.kind == TV_NONE)
			rv = undefined(r, e->b);
	}
	if (rv == 0 && (rv = tval_to_str(r, &a, &sa)) == 0)
		rv = tval_to_str(r, &b, &sb);
	if (rv == 0) {
		eq = sa.len == sb.len && memcmp(sa.s, sb.s, sa.len) == 0;
		memset(out, 0, sizeof(*out));
		out->kind = TV_BOOL;
		out->i = e->kind == TE_EQ ? eq : !eq;
	}
	tval_release(&sa);
	tval_release(&sb);
	tval_release(&a);
	tval_release(&b);
	return rv;
}

static int
eval(struct trender *r, const struct texpr *e, struct tval *out)
{
	const struct tval *l;
	struct tval a;
	size_t idx;
	int rv;

	memset(out, 0, sizeof(*out));
	switch (e->kind) {
	case TE_VAR:
		return eval_var(r, e, out);
	case TE_LOOPVAR:
		l = r->loop[e->i].list;
		idx = r->loop[e->i].idx;
		if (l->kind == TV_LIST)
			borrow(out, l->items[idx], l->lens[idx]);
		else
			borrow(out, l->s, l->len);
		return 0;
	case TE_LOOPINFO:
		l = r->loop[e->i].list;
		idx = r->loop[e->i].idx;
		out->kind = TV_INT;
		switch (e->info) {
		case TL_INDEX:
			out->i = (int64_t)idx + 1;
			break;
		case TL_INDEX0:
			out->i = (int64_t)idx;
			break;
		case TL_FIRST:
			out->kind = TV_BOOL;
			out->i = idx == 0;
			break;
		case TL_LAST:
			out->kind = TV_BOOL;
			out->i = idx + 1 == (l->kind == TV_LIST ? l->n : 1);
			break;
		default:
			out->i = (int64_t)(l->kind == TV_LIST ? l->n : 1);
			break;
		}
		return 0;
	case TE_STR:
		borrow(out, e->s, e->len);
		return 0;
	case TE_INT:
		out->kind = TV_INT;
		out->i = e->i;
		return 0;
	case TE_NOT:
		if ((rv = eval(r, e->a, &a)) != 0)
			return rv;
		out->kind = TV_BOOL;
		out->i = !tval_truthy(&a);
		tval_release(&a);
		return 0;
	case TE_AND:
	case TE_OR:
		if ((rv = eval(r, e->a, &a)) != 0)
			return rv;
		out->kind = TV_BOOL;
		out->i = tval_truthy(&a);
		tval_release(&a);
		if ((e->kind == TE_AND) != (out->i != 0))
			return 0;
		if ((rv = eval(r, e->b, &a)) != 0)
			return rv;
		out->i = tval_truthy(&a);
		tval_release(&a);
		return 0;
	case TE_EQ:
	case TE_NE:
		return eval_cmp(r, e, out);
	case TE_PIPE:
		return eval_pipe(r, e, out);
	}
	return ENG_EINVAL;
}

static int
emit(struct trender *r, struct tbuf *out, const char *s, size_t n, long line,
    long col)
{
	int rv;

	if ((rv = tbuf_add(out, s, n)) == ENG_ETOOBIG)
		return trender_error(r, rv, line, col, "output exceeds %zu "
		    "bytes", out->max);
	if (rv != 0)
		return eng_error(r->eb, rv, "%s: out of memory", r->t->name);
	return 0;
}

static int
render_nodes(struct trender *r, const struct tnode *n, struct tbuf *out)
{
	struct tval v, s;
	size_t i, cnt;
	int rv = 0;

	for (; n != NULL && rv == 0; n = n->next) {
		switch (n->kind) {
		case TN_TEXT:
			rv = emit(r, out, n->text, n->len, n->line, n->col);
			break;
		case TN_OUT:
			if ((rv = eval(r, n->expr, &v)) != 0)
				break;
			if (v.kind == TV_NONE && (r->flags & TPL_STRICT))
				rv = undefined(r, n->expr);
			else if ((rv = tval_to_str(r, &v, &s)) == 0) {
				rv = emit(r, out, s.s, s.len, n->line,
				    n->col);
				tval_release(&s);
			}
			tval_release(&v);
			break;
		case TN_IF:
			for (i = 0; i < n->nbr && rv == 0; i++) {
				if (n->br[i].cond != NULL) {
					if ((rv = eval(r, n->br[i].cond,
					    &v)) != 0)
						break;
					cnt = (size_t)tval_truthy(&v);
					tval_release(&v);
					if (!cnt)
						continue;
				}
				rv = render_nodes(r, n->br[i].body, out);
				break;
			}
			break;
		case TN_FOR:
			if ((rv = eval(r, n->expr, &v)) != 0)
				break;
			if (v.kind == TV_NONE && (r->flags & TPL_STRICT)) {
				rv = undefined(r, n->expr);
				tval_release(&v);
				break;
			}
			if (v.kind == TV_LIST) {
				cnt = v.n;
			} else {
				if ((rv = tval_to_str(r, &v, &s)) != 0) {
					tval_release(&v);
					break;
				}
				tval_release(&v);
				v = s;
				cnt = v.len > 0;
			}
			r->loop[n->depth].list = &v;
			for (i = 0; i < cnt && rv == 0; i++) {
				if (++r->iter > r->max_iter) {
					rv = trender_error(r, ENG_ETOOBIG,
					    n->line, n->col, "more than %zu "
					    "loop iterations", r->max_iter);
					break;
				}
				r->loop[n->depth].idx = i;
				rv = render_nodes(r, n->body, out);
			}
			if (rv == 0 && cnt == 0)
				rv = render_nodes(r, n->else_body, out);
			r->loop[n->depth].list = NULL;
			tval_release(&v);
			break;
		case TN_SECTION:
			break;
		}
	}
	return rv;
}

int
tpl_render_ovr(const struct tpl *t, const char *section,
    const struct tpl_vars *v, const struct tpl_render_opts *opts,
    const char *ovr_name, const char *ovr_s, size_t ovr_len,
    char **out, size_t *outlen, struct eng_errbuf *eb)
{
	struct trender r;
	struct tbuf b;
	const struct tnode *root = t->root;
	int rv;

	*out = NULL;
	if (outlen != NULL)
		*outlen = 0;
	if (section != NULL) {
		for (root = t->root; root != NULL; root = root->next)
			if (root->kind == TN_SECTION &&
			    strcmp(root->name, section) == 0)
				break;
		if (root == NULL)
			return eng_error(eb, ENG_ENOENT, "%s: no section '%s'",
			    t->name, section);
		root = root->body;
	}
	memset(&r, 0, sizeof(r));
	r.t = t;
	r.v = v;
	r.eb = eb;
	r.flags = opts != NULL ? opts->flags : 0;
	r.max_iter = opts != NULL && opts->max_iter > 0 ? opts->max_iter :
	    TPL_MAX_ITER;
	r.ovr_name = ovr_name;
	r.ovr_s = ovr_s;
	r.ovr_len = ovr_len;
	tbuf_init(&b, opts != NULL && opts->max_output > 0 ?
	    opts->max_output : TPL_MAX_OUTPUT);
	if ((rv = render_nodes(&r, root, &b)) != 0) {
		tbuf_release(&b);
		return rv;
	}
	/* every piece is valid UTF-8; check the invariant anyway */
	if (b.len > 0 && utf8_check(b.p, b.len) != b.len) {
		tbuf_release(&b);
		return eng_error(eb, ENG_EINVAL, "%s: internal error: invalid "
		    "UTF-8 in output", t->name);
	}
	if ((*out = tbuf_detach(&b, outlen)) == NULL) {
		tbuf_release(&b);
		return eng_error(eb, ENG_ENOMEM, "%s: out of memory", t->name);
	}
	return 0;
}

int
tpl_render(const struct tpl *t, const struct tpl_vars *v,
    const struct tpl_render_opts *opts, char **out, size_t *outlen,
    struct eng_errbuf *eb)
{
	return tpl_render_ovr(t, NULL, v, opts, NULL, NULL, 0, out, outlen,
	    eb);
}

int
tpl_render_section(const struct tpl *t, const char *section,
    const struct tpl_vars *v, const struct tpl_render_opts *opts,
    char **out, size_t *outlen, struct eng_errbuf *eb)
{
	if (section == NULL)
		return eng_error(eb, ENG_EINVAL, "no section name");
	return tpl_render_ovr(t, section, v, opts, NULL, NULL, 0, out, outlen,
	    eb);
}
