/*
 * config/cfg_tree.c - YAML text into an immutable node tree (libyaml's
 * event parser), with the hostile-input limits of cfg.h.
 */
#include "config/cfg_int.h"
#include "engine/utf8.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define TAG_PREFIX "tag:yaml.org,2002:"

struct frame {
	struct cfg_node *node;
	struct cfg_node *pkey;	/* map: key waiting for its value */
};

struct builder {
	struct cfg_doc *doc;
	struct diag_list *diags;
	struct frame stack[CFG_MAX_DEPTH + 1];
	size_t depth;
	int failed;		/* an error was reported */
	int hard;		/* one that leaves the tree unusable */
	int nomem;
	int fatal;		/* stop reading events */
};

static void
node_free(struct cfg_node *n)
{
	size_t i;

	if (n == NULL)
		return;
	for (i = 0; i < n->n; i++) {
		if (n->keys != NULL)
			node_free(n->keys[i]);
		node_free(n->vals[i]);
	}
	free(n->keys);
	free(n->vals);
	free(n->path);
	free(n->str);
	free(n);
}

void
cfg_doc_free(struct cfg_doc *doc)
{
	if (doc == NULL)
		return;
	node_free(doc->root);
	free(doc->file);
	free(doc);
}

const struct cfg_node *
cfg_doc_root(const struct cfg_doc *doc)
{
	return doc == NULL ? NULL : doc->root;
}

/* 1-based line of byte offset off in buf. */
static long
line_of(const char *buf, size_t len, size_t off)
{
	long line = 1;
	size_t i;

	for (i = 0; i < off && i < len; i++)
		if (buf[i] == '\n')
			line++;
	return line;
}

/*
 * Check that buf is UTF-8 (engine/utf8.h: no overlong forms, surrogates
 * or code points over U+10FFFF) without NUL bytes.  Returns the offset
 * of the first bad byte, or len if all is well; *what says what is
 * wrong there.
 */
static size_t
check_text(const char *s, size_t len, const char **what)
{
	const char *nul;
	size_t bad = utf8_check(s, len), need;
	unsigned char c;

	if (bad > 0 && (nul = memchr(s, '\0', bad)) != NULL) {
		*what = "NUL byte";
		return (size_t)(nul - s);
	}
	if (bad == len)
		return len;
	c = (unsigned char)s[bad];
	need = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
	if (c < 0xc2 || c > 0xf4)
		*what = "invalid UTF-8 byte";
	else if (len - bad < need)
		*what = "truncated UTF-8 sequence";
	else
		*what = "invalid UTF-8 sequence";
	return bad;
}

static void report(struct builder *, long, const char *, const char *, ...)
    __attribute__((format(printf, 4, 5)));

static void
report(struct builder *b, long line, const char *path, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	b->failed = 1;
	if (diag_add(b->diags, DIAG_ERROR, b->doc->file, line, path, "%s",
	    msg) != 0)
		b->nomem = 1;
}

static char *
child_path(const char *parent, const char *key, size_t idx, int is_seq)
{
	char *p;
	size_t sz;
	int r;

	if (is_seq) {
		sz = strlen(parent) + 24;
		if ((p = malloc(sz)) == NULL)
			return NULL;
		r = snprintf(p, sz, "%s[%zu]", parent, idx);
	} else {
		sz = strlen(parent) + strlen(key) + 2;
		if ((p = malloc(sz)) == NULL)
			return NULL;
		r = snprintf(p, sz, "%s%s%s", parent, *parent ? "." : "",
		    key);
	}
	if (r < 0 || (size_t)r >= sz) {
		free(p);
		return NULL;
	}
	return p;
}

static struct cfg_node *
node_new(struct builder *b, enum cfg_kind kind, const yaml_mark_t *m)
{
	struct cfg_node *n;

	if (b->doc->nnodes >= CFG_MAX_NODES) {
		report(b, (long)m->line + 1, NULL,
		    "more than %d nodes in the document", CFG_MAX_NODES);
		b->hard = 1;
		b->fatal = 1;
		return NULL;
	}
	if ((n = calloc(1, sizeof(*n))) == NULL) {
		b->nomem = b->fatal = 1;
		return NULL;
	}
	b->doc->nnodes++;
	n->kind = kind;
	n->line = (long)m->line + 1;
	n->col = (long)m->column + 1;
	n->file = b->doc->file;
	return n;
}

static int
grow(struct cfg_node *n, int with_keys)
{
	struct cfg_node **nv, **nk;
	size_t na;

	if (n->n < n->alloc)
		return 0;
	na = n->alloc ? n->alloc * 2 : 4;
	if ((nv = realloc(n->vals, na * sizeof(*nv))) == NULL)
		return ENG_ENOMEM;
	n->vals = nv;
	if (with_keys) {
		if ((nk = realloc(n->keys, na * sizeof(*nk))) == NULL)
			return ENG_ENOMEM;
		n->keys = nk;
	}
	n->alloc = na;
	return 0;
}

/*
 * Give n its path and hang it under the innermost open container (or make
 * it the root).  Takes n in every case (frees it on failure).
 */
static int
attach(struct builder *b, struct cfg_node *n)
{
	struct frame *f;
	struct cfg_node *p;

	if (b->depth == 0) {
		if (b->doc->root != NULL) {	/* not in one document */
			node_free(n);
			return ENG_EINVAL;
		}
		if ((n->path = strdup("")) == NULL)
			goto nomem;
		b->doc->root = n;
		return 0;
	}
	f = &b->stack[b->depth - 1];
	p = f->node;
	if (p->kind == CFG_SEQ) {
		if ((n->path = child_path(p->path, NULL, p->n, 1)) == NULL ||
		    grow(p, 0) != 0)
			goto nomem;
		p->vals[p->n++] = n;
		return 0;
	}
	if (f->pkey == NULL) {
		/* n is a key. */
		if (n->kind != CFG_SCALAR) {
			report(b, n->line, p->path[0] ? p->path : NULL,
			    "a key must be a plain string, not a %s",
			    cfg_kind_name(n->kind));
			b->hard = 1;
		}
		if ((n->path = child_path(p->path, n->kind == CFG_SCALAR ?
		    n->str : "?", 0, 0)) == NULL)
			goto nomem;
		f->pkey = n;
		return 0;
	}
	if ((n->path = strdup(f->pkey->path)) == NULL || grow(p, 1) != 0)
		goto nomem;
	p->keys[p->n] = f->pkey;
	p->vals[p->n++] = n;
	f->pkey = NULL;
	return 0;
nomem:
	node_free(n);
	b->nomem = b->fatal = 1;
	return ENG_ENOMEM;
}

static int
key_cmp(const void *a, const void *b)
{
	const struct cfg_node *x = *(const struct cfg_node *const *)a;
	const struct cfg_node *y = *(const struct cfg_node *const *)b;
	int c;

	if (x->kind != CFG_SCALAR || y->kind != CFG_SCALAR)
		return (int)x->kind - (int)y->kind;
	if ((c = strcmp(x->str, y->str)) != 0)
		return c;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->col < y->col ? -1 : (x->col > y->col);
}

/* Report every key of map m that repeats an earlier one. */
static void
check_dups(struct builder *b, struct cfg_node *m)
{
	struct cfg_node **v;
	char msg[64];
	size_t i, first = 0;

	if (m->n < 2)
		return;
	if ((v = malloc(m->n * sizeof(*v))) == NULL) {
		b->nomem = b->fatal = 1;
		return;
	}
	memcpy(v, m->keys, m->n * sizeof(*v));
	qsort(v, m->n, sizeof(*v), key_cmp);
	for (i = 1; i < m->n; i++) {
		if (v[i]->kind != CFG_SCALAR ||
		    v[first]->kind != CFG_SCALAR ||
		    strcmp(v[i]->str, v[first]->str) != 0) {
			first = i;
			continue;
		}
		(void)snprintf(msg, sizeof(msg), "%ld", v[first]->line);
		b->failed = 1;
		if (diag_add(b->diags, DIAG_ERROR, b->doc->file, v[i]->line,
		    v[i]->path, "duplicate key '%s' (first at line %s)",
		    v[i]->str, msg) != 0)
			b->nomem = 1;
	}
	free(v);
}

static int
scalar_null(const struct cfg_node *n)
{
	return n->plain && (n->slen == 0 || strcmp(n->str, "~") == 0 ||
	    strcmp(n->str, "null") == 0 || strcmp(n->str, "Null") == 0 ||
	    strcmp(n->str, "NULL") == 0);
}

/*
 * The key path the next node will get (malloc'd; NULL for the root or on
 * ENOMEM), for errors reported before the node exists.  text: the
 * scalar's text, used if the node is a key.
 */
static char *
peek_path(struct builder *b, const char *text)
{
	const struct frame *f;

	if (b->depth == 0)
		return NULL;
	f = &b->stack[b->depth - 1];
	if (f->node->kind == CFG_SEQ)
		return child_path(f->node->path, NULL, f->node->n, 1);
	if (f->pkey != NULL)
		return strdup(f->pkey->path);
	return child_path(f->node->path, text != NULL ? text : "?", 0, 0);
}

/* Anchors and unsupported tags on a node event. */
static void
check_props(struct builder *b, const yaml_mark_t *m, const yaml_char_t *anchor,
    const yaml_char_t *tag, const char *allowed_tag, const char *text)
{
	long line = (long)m->line + 1;
	char *path;

	if (anchor == NULL && (tag == NULL ||
	    strcmp((const char *)tag, allowed_tag) == 0 ||
	    strcmp((const char *)tag, "!") == 0))
		return;
	path = peek_path(b, text);
	if (path != NULL && path[0] == '\0') {
		free(path);
		path = NULL;
	}
	if (anchor != NULL)
		report(b, line, path, "anchors and aliases are not allowed "
		    "(found anchor '&%s'); write the value out",
		    (const char *)anchor);
	if (tag != NULL && strcmp((const char *)tag, allowed_tag) != 0 &&
	    strcmp((const char *)tag, "!") != 0)
		report(b, line, path, "YAML tags are not supported (found "
		    "'%s')", (const char *)tag);
	free(path);
}

static void
syntax_error(struct builder *b, yaml_parser_t *p, const char *buf, size_t len)
{
	char msg[512];
	long line;
	int r;

	if (p->error == YAML_MEMORY_ERROR) {
		b->nomem = 1;
		return;
	}
	if (p->error == YAML_READER_ERROR) {
		line = line_of(buf, len, p->problem_offset);
		r = snprintf(msg, sizeof(msg), "%s",
		    p->problem ? p->problem : "unreadable input");
	} else {
		line = (long)p->problem_mark.line + 1;
		if (p->context != NULL)
			r = snprintf(msg, sizeof(msg),
			    "column %zu: %s (%s at line %zu, column %zu)",
			    p->problem_mark.column + 1,
			    p->problem ? p->problem : "error", p->context,
			    p->context_mark.line + 1,
			    p->context_mark.column + 1);
		else
			r = snprintf(msg, sizeof(msg), "column %zu: %s",
			    p->problem_mark.column + 1,
			    p->problem ? p->problem : "error");
	}
	(void)r;	/* truncation is harmless here */
	if (p->error != YAML_READER_ERROR && p->problem_mark.index < len &&
	    buf[p->problem_mark.index] == '\t')
		report(b, line, NULL, "YAML syntax error at %s; indent with "
		    "spaces, not tabs", msg);
	else
		report(b, line, NULL, "YAML syntax error at %s", msg);
	b->hard = 1;
}

/* Handle one event; sets b->fatal to stop.  *done at the stream end. */
static void
on_event(struct builder *b, yaml_event_t *ev, int *ndocs, int *done)
{
	const yaml_mark_t *m = &ev->start_mark;
	struct cfg_node *n;
	enum cfg_kind kind;
	char *path;

	switch (ev->type) {
	case YAML_STREAM_END_EVENT:
		*done = 1;
		return;
	case YAML_DOCUMENT_START_EVENT:
		if (++*ndocs > 1) {
			report(b, (long)m->line + 1, NULL, "%s", "more than "
			    "one YAML document ('---'); a config file holds "
			    "one");
			b->fatal = b->hard = 1;
		}
		return;
	case YAML_ALIAS_EVENT:
		path = peek_path(b, NULL);
		report(b, (long)m->line + 1, path, "anchors and aliases are "
		    "not allowed (found alias '*%s'); write the value out",
		    (const char *)ev->data.alias.anchor);
		free(path);
		/* Stand in a null so that the structure stays whole. */
		if ((n = node_new(b, CFG_SCALAR, m)) == NULL)
			return;
		n->plain = 1;
		if ((n->str = strdup("")) == NULL) {
			node_free(n);
			b->nomem = b->fatal = 1;
			return;
		}
		(void)attach(b, n);
		return;
	case YAML_SCALAR_EVENT:
		check_props(b, m, ev->data.scalar.anchor, ev->data.scalar.tag,
		    TAG_PREFIX "str", (const char *)ev->data.scalar.value);
		if ((n = node_new(b, CFG_SCALAR, m)) == NULL)
			return;
		n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		n->slen = ev->data.scalar.length;
		if ((n->str = malloc(n->slen + 1)) == NULL) {
			node_free(n);
			b->nomem = b->fatal = 1;
			return;
		}
		memcpy(n->str, ev->data.scalar.value, n->slen);
		n->str[n->slen] = '\0';
		(void)attach(b, n);
		return;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (ev->type == YAML_SEQUENCE_START_EVENT) {
			kind = CFG_SEQ;
			check_props(b, m, ev->data.sequence_start.anchor,
			    ev->data.sequence_start.tag, TAG_PREFIX "seq",
			    NULL);
		} else {
			kind = CFG_MAP;
			check_props(b, m, ev->data.mapping_start.anchor,
			    ev->data.mapping_start.tag, TAG_PREFIX "map",
			    NULL);
		}
		if (b->depth >= CFG_MAX_DEPTH) {
			report(b, (long)m->line + 1, NULL, "nesting deeper "
			    "than %d levels", CFG_MAX_DEPTH);
			b->fatal = b->hard = 1;
			return;
		}
		if ((n = node_new(b, kind, m)) == NULL)
			return;
		if (attach(b, n) != 0)
			return;
		b->stack[b->depth].node = n;
		b->stack[b->depth].pkey = NULL;
		b->depth++;
		return;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		if (b->depth == 0)
			return;
		n = b->stack[--b->depth].node;
		if (n->kind == CFG_MAP)
			check_dups(b, n);
		return;
	default:
		return;
	}
}

const char *
cfg_kind_name(enum cfg_kind k)
{
	switch (k) {
	case CFG_MAP:
		return "map";
	case CFG_SEQ:
		return "sequence";
	case CFG_SCALAR:
		return "scalar";
	default:
		return "nothing";
	}
}

int
cfg_doc_parse(const char *buf, size_t len, const char *name,
    struct cfg_doc **out, struct diag_list *diags)
{
	int soft = 0, rv;

	rv = cfg_doc_parse_soft(buf, len, name, out, &soft, diags);
	if (rv == 0 && soft) {
		cfg_doc_free(*out);
		*out = NULL;
		rv = ENG_EINVAL;
	}
	return rv;
}

int
cfg_doc_parse_soft(const char *buf, size_t len, const char *name,
    struct cfg_doc **out, int *soft, struct diag_list *diags)
{
	struct builder b;
	yaml_parser_t p;
	yaml_event_t ev;
	const char *what = NULL;
	size_t bad, i, start = diags->n;
	int ndocs = 0, done = 0, rv = 0, parser_ok = 0;
	yaml_mark_t zero;

	*out = NULL;
	*soft = 0;
	memset(&b, 0, sizeof(b));
	memset(&zero, 0, sizeof(zero));
	b.diags = diags;
	if ((b.doc = calloc(1, sizeof(*b.doc))) == NULL)
		return ENG_ENOMEM;
	if (name != NULL && (b.doc->file = strdup(name)) == NULL) {
		rv = ENG_ENOMEM;
		goto out;
	}
	if (len > CFG_MAX_BYTES) {
		(void)diag_add(diags, DIAG_ERROR, b.doc->file, 0, NULL,
		    "file is %zu bytes, more than the limit of %u bytes", len,
		    CFG_MAX_BYTES);
		rv = ENG_ETOOBIG;
		goto out;
	}
	if ((bad = check_text(buf, len, &what)) != len) {
		(void)diag_add(diags, DIAG_ERROR, b.doc->file,
		    line_of(buf, len, bad), NULL, "%s at byte %zu: the file "
		    "must be UTF-8", what, bad);
		rv = ENG_EINVAL;
		goto out;
	}
	if (!yaml_parser_initialize(&p)) {
		rv = ENG_ENOMEM;
		goto out;
	}
	parser_ok = 1;
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	yaml_parser_set_encoding(&p, YAML_UTF8_ENCODING);
	while (!done && !b.fatal) {
		if (!yaml_parser_parse(&p, &ev)) {
			syntax_error(&b, &p, buf, len);
			break;
		}
		on_event(&b, &ev, &ndocs, &done);
		yaml_event_delete(&ev);
	}
	if (b.nomem) {
		rv = ENG_ENOMEM;
		goto out;
	}
	if (!b.hard) {
		if (b.doc->root == NULL) {
			/* Empty document: an empty map. */
			struct cfg_node *n = node_new(&b, CFG_MAP, &zero);

			if (n == NULL || attach(&b, n) != 0) {
				rv = ENG_ENOMEM;
				goto out;
			}
			n->line = 1;
		} else if (b.doc->root->kind != CFG_MAP) {
			report(&b, b.doc->root->line, NULL, "the document must "
			    "be a map of keys, not a %s",
			    cfg_kind_name(b.doc->root->kind));
			b.hard = 1;
		}
	}
	rv = b.hard ? ENG_EINVAL : 0;
	*soft = b.failed;
out:
	if (parser_ok)
		yaml_parser_delete(&p);
	for (i = 0; i < b.depth; i++)
		node_free(b.stack[i].pkey);
	if (rv == 0) {
		*out = b.doc;
	} else {
		cfg_doc_free(b.doc);
		if (rv == ENG_ENOMEM && diags->n == start)
			(void)diag_add(diags, DIAG_ERROR, name, 0, NULL, "%s",
			    "out of memory");
	}
	return rv;
}

/* ---- accessors ---- */

enum cfg_kind
cfg_node_kind(const struct cfg_node *n)
{
	return n == NULL ? CFG_NONE : n->kind;
}

size_t
cfg_node_len(const struct cfg_node *n)
{
	if (n == NULL)
		return 0;
	return n->kind == CFG_SCALAR ? n->slen : n->n;
}

const struct cfg_node *
cfg_node_get(const struct cfg_node *map, const char *key)
{
	size_t i;

	if (map == NULL || map->kind != CFG_MAP || key == NULL)
		return NULL;
	for (i = 0; i < map->n; i++)
		if (map->keys[i]->kind == CFG_SCALAR &&
		    strcmp(map->keys[i]->str, key) == 0)
			return map->vals[i];
	return NULL;
}

const struct cfg_node *
cfg_node_at(const struct cfg_node *n, size_t i)
{
	if (n == NULL || n->kind == CFG_SCALAR || i >= n->n)
		return NULL;
	return n->vals[i];
}

const char *
cfg_node_key_at(const struct cfg_node *map, size_t i)
{
	if (map == NULL || map->kind != CFG_MAP || i >= map->n)
		return NULL;
	return map->keys[i]->kind == CFG_SCALAR ? map->keys[i]->str : NULL;
}

const struct cfg_node *
cfg_node_key_node_at(const struct cfg_node *map, size_t i)
{
	if (map == NULL || map->kind != CFG_MAP || i >= map->n)
		return NULL;
	return map->keys[i];
}

const char *
cfg_node_str(const struct cfg_node *n)
{
	return n != NULL && n->kind == CFG_SCALAR ? n->str : NULL;
}

int
cfg_node_is_null(const struct cfg_node *n)
{
	return n != NULL && n->kind == CFG_SCALAR && scalar_null(n);
}

long
cfg_node_line(const struct cfg_node *n)
{
	return n == NULL ? 0 : n->line;
}

long
cfg_node_column(const struct cfg_node *n)
{
	return n == NULL ? 0 : n->col;
}

const char *
cfg_node_file(const struct cfg_node *n)
{
	return n == NULL ? NULL : n->file;
}

const char *
cfg_node_path(const struct cfg_node *n)
{
	return n == NULL ? "" : n->path;
}
