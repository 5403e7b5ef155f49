/*
 * cap/parse.c - parse and validate a CAP document into the model.
 *
 * Order of work: size limit, "is it XML at all", encoding (encoding.c),
 * libxml2 with NONET, no DTD loading, no entity substitution and SAX
 * hooks that stop at once on a DOCTYPE, an entity declaration or nesting
 * past the depth limit; then one walk over the tree that fills the model
 * and checks the CAP 1.2 rules.  Rule errors are demoted to warnings for
 * lenient sources; fatal errors (security limits, not XML, not CAP, no
 * identity) never are.
 */
#include "cap/cap.h"
#include "cap/cap_int.h"
#include "engine/diag.h"
#include "engine/err.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/SAX2.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#define NS_CAP12	"urn:oasis:names:tc:emergency:cap:1.2"
#define NS_CAP11	"urn:oasis:names:tc:emergency:cap:1.1"
#define NS_CAP10	"http://www.incident.com/cap/1.0"
#define NS_DSIG		"http://www.w3.org/2000/09/xmldsig#"

#define PATHMAX		160

enum stop_reason {
	STOP_NONE = 0,
	STOP_DOCTYPE,
	STOP_ENTITY,
	STOP_DEPTH,
};

struct pst {
	const struct cap_opts *o;
	struct diag_list *diags;
	const char *file;
	int lenient;
	int nomem;
	int nfatal;
	int depth;
	enum stop_reason stop;
	long stop_line;
	xmlParserCtxtPtr ctxt;
	const xmlChar *ns;	/* the CAP namespace of the root, or NULL */
	enum cap_version version;
	int nons_reported;
};

static void
note(struct pst *s, enum diag_sev sev, xmlNodePtr n, const char *path,
    const char *fmt, va_list ap)
{
	char msg[768];
	long line = n != NULL ? xmlGetLineNo(n) : 0;

	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	if (diag_add(s->diags, sev, s->file, line < 0 ? 0 : line, path, "%s",
	    msg) != 0)
		s->nomem = 1;
}

/* An error that can never be relaxed. */
static void
ferr(struct pst *s, xmlNodePtr n, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void
ferr(struct pst *s, xmlNodePtr n, const char *path, const char *fmt, ...)
{
	va_list ap;

	s->nfatal++;
	va_start(ap, fmt);
	note(s, DIAG_ERROR, n, path, fmt, ap);
	va_end(ap);
}

/* A fatal error at a known line (no node). */
static void
ferr_line(struct pst *s, long line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
ferr_line(struct pst *s, long line, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	s->nfatal++;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (diag_add(s->diags, DIAG_ERROR, s->file, line, NULL, "%s", msg) != 0)
		s->nomem = 1;
}

/* A rule of the CAP specification: a warning for lenient sources. */
static void
rerr(struct pst *s, xmlNodePtr n, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void
rerr(struct pst *s, xmlNodePtr n, const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	note(s, s->lenient ? DIAG_WARNING : DIAG_ERROR, n, path, fmt, ap);
	va_end(ap);
}

static void
warn(struct pst *s, xmlNodePtr n, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void
warn(struct pst *s, xmlNodePtr n, const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	note(s, DIAG_WARNING, n, path, fmt, ap);
	va_end(ap);
}

/* ---- hostile-XML guards (SAX hooks) ---- */

static void
stop(xmlParserCtxtPtr ctxt, enum stop_reason why)
{
	struct pst *s = ctxt->_private;

	if (s->stop == STOP_NONE) {
		s->stop = why;
		s->stop_line = ctxt->input != NULL ? ctxt->input->line : 0;
	}
	xmlStopParser(ctxt);
}

static void
on_doctype(void *ctx, const xmlChar *name, const xmlChar *eid,
    const xmlChar *sid)
{
	(void)name;
	(void)eid;
	(void)sid;
	stop(ctx, STOP_DOCTYPE);
}

static void
on_entity(void *ctx, const xmlChar *name, int type, const xmlChar *pid,
    const xmlChar *sid, xmlChar *content)
{
	(void)name;
	(void)type;
	(void)pid;
	(void)sid;
	(void)content;
	stop(ctx, STOP_ENTITY);
}

static void
on_start(void *ctx, const xmlChar *localname, const xmlChar *prefix,
    const xmlChar *uri, int nns, const xmlChar **nss, int nattr,
    int ndefaulted, const xmlChar **attrs)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct pst *s = ctxt->_private;

	if (++s->depth > s->o->max_depth) {
		stop(ctxt, STOP_DEPTH);
		return;
	}
	xmlSAX2StartElementNs(ctx, localname, prefix, uri, nns, nss, nattr,
	    ndefaulted, attrs);
}

static void
on_end(void *ctx, const xmlChar *localname, const xmlChar *prefix,
    const xmlChar *uri)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct pst *s = ctxt->_private;

	s->depth--;
	xmlSAX2EndElementNs(ctx, localname, prefix, uri);
}

/* ---- small helpers ---- */

static void *
push(void *vp, size_t *n, size_t size)
{
	void **v = vp;
	void *nv;
	size_t cap;

	/* capacity is the next power of two >= n (4 at least) */
	if (*n == 0 || (*n >= 4 && (*n & (*n - 1)) == 0)) {
		cap = *n == 0 ? 4 : *n * 2;
		if ((nv = realloc(*v, cap * size)) == NULL)
			return NULL;
		*v = nv;
	}
	nv = (char *)*v + *n * size;
	memset(nv, 0, size);
	(*n)++;
	return nv;
}

/* dst = parent "/" leaf, or parent "/" leaf "[idx]" when idx > 0;
 * truncated to PATHMAX (paths are short; a cut path is still useful). */
static void
subpath(char *dst, const char *parent, const char *leaf, int idx)
{
	size_t pl = strlen(parent), ll = strlen(leaf), n = 0;
	char num[16];
	int k = 0;

	if (pl > PATHMAX - 1)
		pl = PATHMAX - 1;
	memcpy(dst, parent, pl);
	n = pl;
	if (n + 1 + ll < PATHMAX) {
		dst[n++] = '/';
		memcpy(dst + n, leaf, ll);
		n += ll;
	}
	if (idx > 0) {
		num[k++] = ']';
		while (idx > 0 && k < 14) {
			num[k++] = (char)('0' + idx % 10);
			idx /= 10;
		}
		num[k++] = '[';
		if (n + (size_t)k < PATHMAX)
			while (k > 0)
				dst[n++] = num[--k];
	}
	dst[n] = '\0';
}

static int
is_ws(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* A copy of s[0..n) without leading and trailing white space. */
static char *
trimdup(const char *s, size_t n)
{
	while (n > 0 && is_ws(*s)) {
		s++;
		n--;
	}
	while (n > 0 && is_ws(s[n - 1]))
		n--;
	return strndup(s, n);
}

/*
 * The text node c's content, taken over from the tree (c->content set
 * to NULL, so xmlFreeDoc leaves it) when it is a string of its own that
 * free() may release: not interned in the document's dictionary, not
 * kept inside the node (XML_PARSE_COMPACT), and libxml2 allocating with
 * the C library's malloc (no xmlMemSetup).  NULL when it cannot be
 * taken; the caller copies then.  Saves a copy of every text, which for
 * an embedded file (<derefUri>) is most of the document.
 */
static char *
take_content(xmlNodePtr c)
{
	char *t = (char *)c->content;

	if (t == NULL || xmlFree != (xmlFreeFunc)free ||
	    xmlMalloc != (xmlMallocFunc)malloc ||
	    xmlRealloc != (xmlReallocFunc)realloc ||
	    t == (char *)&c->properties ||
	    (c->doc != NULL && c->doc->dict != NULL &&
	    xmlDictOwns(c->doc->dict, c->content)))
		return NULL;
	c->content = NULL;
	return t;
}

/* The text of a leaf element as a malloc'd string; trimmed if trim. */
static char *
text_of(struct pst *s, xmlNodePtr n, int trim)
{
	xmlNodePtr c, only = NULL;
	size_t len = 0, b, e;
	int ntext = 0;
	char *t = NULL, *p;

	for (c = n->children; c != NULL; c = c->next)
		if ((c->type == XML_TEXT_NODE ||
		    c->type == XML_CDATA_SECTION_NODE) && c->content != NULL) {
			only = c;
			ntext++;
		}
	if (ntext == 1 && (t = take_content(only)) != NULL)
		len = strlen(t);
	else {
		for (c = n->children; c != NULL; c = c->next)
			if ((c->type == XML_TEXT_NODE ||
			    c->type == XML_CDATA_SECTION_NODE) &&
			    c->content != NULL)
				len += strlen((const char *)c->content);
		if ((t = malloc(len + 1)) == NULL) {
			s->nomem = 1;
			return NULL;
		}
		p = t;
		for (c = n->children; c != NULL; c = c->next)
			if ((c->type == XML_TEXT_NODE ||
			    c->type == XML_CDATA_SECTION_NODE) &&
			    c->content != NULL) {
				b = strlen((const char *)c->content);
				memcpy(p, c->content, b);
				p += b;
			}
		*p = '\0';
	}
	if (trim) {
		for (b = 0; b < len && is_ws(t[b]); b++)
			;
		for (e = len; e > b && is_ws(t[e - 1]); e--)
			;
		memmove(t, t + b, e - b);
		t[e - b] = '\0';
	}
	return t;
}

static int
is_cap(struct pst *s, xmlNodePtr n)
{
	if (n->type != XML_ELEMENT_NODE)
		return 0;
	if (s->ns == NULL)
		return n->ns == NULL;
	if (n->ns == NULL)
		return 2;	/* CAP root, child without namespace */
	return n->ns->href != NULL &&
	    strcmp((const char *)n->ns->href, (const char *)s->ns) == 0;
}

static int
order_index(const char *const *order, const char *name)
{
	int i;

	for (i = 0; order[i] != NULL; i++)
		if (strcmp(order[i] + (order[i][0] == '*'), name) == 0)
			return i;
	return -1;
}

/*
 * The walk over the children of one element.  order lists the children
 * in schema order; a name starting with '*' may repeat.  For every child
 * in the CAP namespace fn(ctx, index, node, path) is called; unknown,
 * repeated and out-of-order children are reported here.
 */
typedef void (*child_fn)(struct pst *, void *, int, xmlNodePtr,
    const char *);

static void
walk(struct pst *s, xmlNodePtr parent, const char *ppath,
    const char *const *order, int *seen, child_fn fn, void *ctx)
{
	xmlNodePtr c;
	int idx, last = -1, count[24], nth[24], i, n, k;
	char path[PATHMAX];
	const char *name;

	for (n = 0; order[n] != NULL; n++)
		count[n] = nth[n] = 0;
	for (c = parent->children; c != NULL; c = c->next)
		if (is_cap(s, c) && (idx = order_index(order,
		    (const char *)c->name)) >= 0)
			count[idx]++;
	for (c = parent->children; c != NULL; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		name = (const char *)c->name;
		if ((k = is_cap(s, c)) == 2) {
			if (!s->nons_reported) {	/* once is enough */
				subpath(path, ppath, name, 0);
				rerr(s, c, path, "<%s> has no namespace (the "
				    "<alert> is in %s)", name,
				    (const char *)s->ns);
			}
			s->nons_reported = 1;
		} else if (k == 0) {
			if (c->ns != NULL && strcmp(name, "Signature") == 0 &&
			    strcmp((const char *)c->ns->href, NS_DSIG) == 0)
				fn(s, ctx, -1, c, ppath);
			continue;
		}
		for (i = 0; order[i] != NULL; i++) {
			const char *o = order[i] + (order[i][0] == '*');

			if (strcmp(o, name) == 0)
				break;
		}
		idx = order[i] != NULL ? i : -1;
		if (idx < 0) {
			subpath(path, ppath, name, 0);
			rerr(s, c, path, "unknown element <%s> in <%s>", name,
			    (const char *)parent->name);
			continue;
		}
		nth[idx]++;
		if (count[idx] > 1 && order[idx][0] == '*')
			subpath(path, ppath, name, nth[idx]);
		else
			subpath(path, ppath, name, 0);
		if (order[idx][0] != '*' && nth[idx] > 1) {
			rerr(s, c, path, "<%s> appears more than once", name);
			continue;
		}
		if (idx < last)
			rerr(s, c, path, "<%s> is out of order: it must come "
			    "before <%s>", name, order[last] +
			    (order[last][0] == '*'));
		else
			last = idx;
		seen[idx]++;
		fn(s, ctx, idx, c, path);
	}
}

static int
enum_value(struct pst *s, xmlNodePtr n, const char *path,
    const char *const *names, const char *what)
{
	char *t = text_of(s, n, 1);
	int v;

	if (t == NULL)
		return 0;
	v = cap_enum_lookup(names, 0, t);
	if (v < 0) {
		if (t[0] == '\0')
			rerr(s, n, path, "<%s> is empty", what);
		else
			rerr(s, n, path, "\"%s\" is not a valid %s", t, what);
		v = 0;
	}
	free(t);
	return v;
}

static void
time_value(struct pst *s, xmlNodePtr n, const char *path,
    struct cap_time *t)
{
	const char *why;
	int rv;

	if ((t->text = text_of(s, n, 1)) == NULL)
		return;
	rv = cap_time_parse(t->text, t, &why);
	if (rv != 0)
		rerr(s, n, path, "\"%s\": %s", t->text, why);
}

/* Check a sender/identifier: no spaces, commas, '<' or '&'. */
static void
check_token(struct pst *s, xmlNodePtr n, const char *path, const char *what,
    const char *v)
{
	const char *p;

	if (v[0] == '\0') {
		ferr(s, n, path, "<%s> is empty", what);
		return;
	}
	for (p = v; *p != '\0'; p++)
		if (is_ws(*p) || *p == ',' || *p == '<' || *p == '&') {
			rerr(s, n, path, "<%s> contains a forbidden character "
			    "'%c' (no spaces, commas, '<' or '&')", what,
			    *p == '\n' || *p == '\r' || *p == '\t' ? ' ' : *p);
			return;
		}
}

static int
parse_double(const char *p, const char **end, double *v)
{
	char *e;

	errno = 0;
	*v = strtod(p, &e);
	if (e == p || errno != 0 || !isfinite(*v))
		return -1;
	*end = e;
	return 0;
}

/* "lat,lon" at p; *end after it. */
static int
parse_point(const char *p, const char **end, struct cap_point *pt)
{
	const char *e;

	if (parse_double(p, &e, &pt->lat) != 0 || *e != ',')
		return -1;
	if (parse_double(e + 1, &e, &pt->lon) != 0)
		return -1;
	if (*e != '\0' && !is_ws(*e))
		return -1;
	*end = e;
	return 0;
}

static int
point_ok(const struct cap_point *pt)
{
	return pt->lat >= -90 && pt->lat <= 90 && pt->lon >= -180 &&
	    pt->lon <= 180;
}

/* ---- area ---- */

static const char *const area_order[] = { "areaDesc", "*polygon", "*circle",
    "*geocode", "altitude", "ceiling", NULL };
static const char *const pair_order[] = { "valueName", "value", NULL };

struct pairctx {
	struct cap_pair *p;
	xmlNodePtr vn, v;
};

static void
pair_child(struct pst *s, void *ctx, int idx, xmlNodePtr n, const char *path)
{
	struct pairctx *pc = ctx;

	(void)path;
	if (idx == 0) {
		pc->vn = n;
		pc->p->name = text_of(s, n, 1);
	} else if (idx == 1) {
		pc->v = n;
		pc->p->value = text_of(s, n, 1);
	}
}

static void
parse_pair(struct pst *s, xmlNodePtr n, const char *path, struct cap_pair *p)
{
	struct pairctx pc = { p, NULL, NULL };
	int seen[2] = { 0, 0 };
	char sub[PATHMAX], *t, *eq;
	xmlNodePtr c;

	if (s->version == CAP_V10) {
		/* CAP 1.0: <eventCode>name=value</eventCode> */
		for (c = n->children; c != NULL; c = c->next)
			if (c->type == XML_ELEMENT_NODE)
				break;
		if (c == NULL) {
			if ((t = text_of(s, n, 1)) == NULL)
				return;
			if ((eq = strchr(t, '=')) == NULL) {
				rerr(s, n, path, "\"%s\" is not "
				    "valueName=value (CAP 1.0 form)", t);
				free(t);
				return;
			}
			p->name = trimdup(t, (size_t)(eq - t));
			p->value = trimdup(eq + 1, strlen(eq + 1));
			if (p->name == NULL || p->value == NULL)
				s->nomem = 1;
			free(t);
			return;
		}
	}
	walk(s, n, path, pair_order, seen, pair_child, &pc);
	if (p->name == NULL) {
		subpath(sub, path, "valueName", 0);
		rerr(s, n, sub, "<%s> has no <valueName>",
		    (const char *)n->name);
	} else if (p->name[0] == '\0')
		warn(s, pc.vn, path, "<valueName> is empty");
	if (p->value == NULL) {
		subpath(sub, path, "value", 0);
		rerr(s, n, sub, "<%s> has no <value>", (const char *)n->name);
	}
}

static void
parse_polygon(struct pst *s, xmlNodePtr n, const char *path,
    struct cap_area *ar)
{
	struct cap_polygon pg = { NULL, 0 };
	struct cap_point pt, *slot;
	const char *p, *e;
	char *t;
	int bad = 0;

	if ((t = text_of(s, n, 1)) == NULL)
		return;
	if (t[0] == '\0') {
		warn(s, n, path, "empty <polygon> ignored");
		goto out;
	}
	for (p = t; *p != '\0';) {
		while (is_ws(*p))
			p++;
		if (*p == '\0')
			break;
		if (parse_point(p, &e, &pt) != 0) {
			size_t l = strcspn(p, " \t\r\n");

			rerr(s, n, path, "\"%.*s\" is not a point "
			    "\"latitude,longitude\"", (int)(l > 40 ? 40 : l),
			    p);
			bad = 1;
			break;
		}
		p = e;
		if (!point_ok(&pt)) {
			rerr(s, n, path, "point %g,%g is out of range "
			    "(latitude -90..90, longitude -180..180)",
			    pt.lat, pt.lon);
			bad = 1;
			break;
		}
		if ((slot = push(&pg.pts, &pg.npts, sizeof(*slot))) == NULL) {
			s->nomem = 1;
			goto out;
		}
		*slot = pt;
	}
	if (bad)
		goto out;
	if (pg.npts < 4)
		rerr(s, n, path, "a polygon needs at least 4 points, this "
		    "one has %zu", pg.npts);
	if (pg.npts > 0 && (pg.pts[0].lat != pg.pts[pg.npts - 1].lat ||
	    pg.pts[0].lon != pg.pts[pg.npts - 1].lon))
		rerr(s, n, path, "the polygon is not closed: the last point "
		    "must equal the first");
	if (pg.npts == 0)
		goto out;
	slot = push(&ar->polygons, &ar->npolygons, sizeof(*ar->polygons));
	if (slot == NULL) {
		s->nomem = 1;
		goto out;
	}
	*(struct cap_polygon *)(void *)slot = pg;
	pg.pts = NULL;
out:
	free(pg.pts);
	free(t);
}

static void
parse_circle(struct pst *s, xmlNodePtr n, const char *path,
    struct cap_area *ar)
{
	struct cap_circle c, *slot;
	const char *p, *e;
	char *t;

	if ((t = text_of(s, n, 1)) == NULL)
		return;
	if (t[0] == '\0') {
		warn(s, n, path, "empty <circle> ignored");
		goto out;
	}
	if (parse_point(t, &e, &c.center) != 0 || !is_ws(*e)) {
		rerr(s, n, path, "\"%s\" is not a circle \"latitude,longitude "
		    "radius\"", t);
		goto out;
	}
	for (p = e; is_ws(*p); p++)
		;
	if (parse_double(p, &e, &c.radius_km) != 0 || *e != '\0') {
		rerr(s, n, path, "\"%s\" is not a circle \"latitude,longitude "
		    "radius\"", t);
		goto out;
	}
	if (!point_ok(&c.center)) {
		rerr(s, n, path, "centre %g,%g is out of range (latitude "
		    "-90..90, longitude -180..180)", c.center.lat,
		    c.center.lon);
		goto out;
	}
	if (c.radius_km < 0) {
		rerr(s, n, path, "the radius %g is negative", c.radius_km);
		goto out;
	}
	if ((slot = push(&ar->circles, &ar->ncircles, sizeof(*slot))) == NULL) {
		s->nomem = 1;
		goto out;
	}
	*slot = c;
out:
	free(t);
}

static void
parse_number(struct pst *s, xmlNodePtr n, const char *path, double *v,
    int *has)
{
	const char *e;
	double d;
	char *t;

	if ((t = text_of(s, n, 1)) == NULL)
		return;
	if (parse_double(t, &e, &d) != 0 || *e != '\0')
		rerr(s, n, path, "\"%s\" is not a number", t);
	else {
		*v = d;
		*has = 1;
	}
	free(t);
}

static void
area_child(struct pst *s, void *ctx, int idx, xmlNodePtr n, const char *path)
{
	struct cap_area *ar = ctx;
	struct cap_pair *p;

	switch (idx) {
	case 0:
		ar->desc = text_of(s, n, 1);
		break;
	case 1:
		parse_polygon(s, n, path, ar);
		break;
	case 2:
		parse_circle(s, n, path, ar);
		break;
	case 3:
		if ((p = push(&ar->geocodes, &ar->ngeocodes,
		    sizeof(*p))) == NULL) {
			s->nomem = 1;
			return;
		}
		parse_pair(s, n, path, p);
		break;
	case 4:
		parse_number(s, n, path, &ar->altitude, &ar->has_altitude);
		break;
	case 5:
		parse_number(s, n, path, &ar->ceiling, &ar->has_ceiling);
		break;
	}
}

static void
parse_area(struct pst *s, xmlNodePtr n, const char *path, struct cap_area *ar)
{
	int seen[6] = { 0 };
	char sub[PATHMAX];

	walk(s, n, path, area_order, seen, area_child, ar);
	if (ar->desc == NULL) {
		subpath(sub, path, "areaDesc", 0);
		rerr(s, n, sub, "<area> has no <areaDesc>");
	}
	if (seen[5] && !seen[4]) {
		subpath(sub, path, "ceiling", 0);
		rerr(s, n, sub, "<ceiling> is given without <altitude>");
	}
	if (ar->has_altitude && ar->has_ceiling && ar->ceiling < ar->altitude) {
		subpath(sub, path, "ceiling", 0);
		warn(s, n, sub, "<ceiling> is below <altitude>");
	}
}

/* ---- resource ---- */

static const char *const resource_order[] = { "resourceDesc", "mimeType",
    "size", "uri", "derefUri", "digest", NULL };

static void
resource_child(struct pst *s, void *ctx, int idx, xmlNodePtr n,
    const char *path)
{
	struct cap_resource *r = ctx;
	char *t, *e;

	switch (idx) {
	case 0:
		r->desc = text_of(s, n, 1);
		break;
	case 1:
		r->mime_type = text_of(s, n, 1);
		break;
	case 2:
		if ((t = text_of(s, n, 1)) == NULL)
			return;
		errno = 0;
		r->size = strtoll(t, &e, 10);
		if (t[0] == '\0' || *e != '\0' || errno != 0 || r->size < 0) {
			rerr(s, n, path, "\"%s\" is not a size in bytes", t);
			r->size = 0;
		} else
			r->has_size = 1;
		free(t);
		break;
	case 3:
		r->uri = text_of(s, n, 1);
		break;
	case 4:
		r->deref_uri = text_of(s, n, 1);
		break;
	case 5:
		r->digest = text_of(s, n, 1);
		break;
	}
}

static void
parse_resource(struct pst *s, xmlNodePtr n, const char *path,
    struct cap_resource *r)
{
	int seen[6] = { 0 };
	char sub[PATHMAX];

	walk(s, n, path, resource_order, seen, resource_child, r);
	if (r->desc == NULL) {
		subpath(sub, path, "resourceDesc", 0);
		rerr(s, n, sub, "<resource> has no <resourceDesc>");
	}
	if (r->mime_type == NULL && (s->version == CAP_V12 ||
	    s->version == CAP_V_UNKNOWN)) {
		subpath(sub, path, "mimeType", 0);
		rerr(s, n, sub, "<resource> has no <mimeType>");
	}
}

/* ---- info ---- */

static const char *const info_order[] = { "language", "*category", "event",
    "*responseType", "urgency", "severity", "certainty", "audience",
    "*eventCode", "effective", "onset", "expires", "senderName", "headline",
    "description", "instruction", "web", "contact", "*parameter",
    "*resource", "*area", NULL };

enum {
	I_LANGUAGE, I_CATEGORY, I_EVENT, I_RESPONSE, I_URGENCY, I_SEVERITY,
	I_CERTAINTY, I_AUDIENCE, I_EVENTCODE, I_EFFECTIVE, I_ONSET, I_EXPIRES,
	I_SENDERNAME, I_HEADLINE, I_DESCRIPTION, I_INSTRUCTION, I_WEB,
	I_CONTACT, I_PARAMETER, I_RESOURCE, I_AREA, I_N
};

struct infoctx {
	struct cap_info *in;
	int nres, narea;
	char ipath[PATHMAX];
};

static int
language_ok(const char *l)
{
	size_t n;

	for (;;) {
		n = 0;
		while ((*l >= 'a' && *l <= 'z') || (*l >= 'A' && *l <= 'Z') ||
		    (*l >= '0' && *l <= '9')) {
			l++;
			n++;
		}
		if (n < 1 || n > 8)
			return 0;
		if (*l == '\0')
			return 1;
		if (*l != '-')
			return 0;
		l++;
	}
}

static void
severity_value(struct pst *s, xmlNodePtr n, const char *path,
    struct cap_info *in)
{
	char *t = text_of(s, n, 1);
	enum cap_severity cs;
	int v;

	if (t == NULL)
		return;
	v = cap_enum_lookup(cap_severity_names, 0, t);
	if (v > 0) {
		in->severity = (enum cap_severity)v;
	} else if ((cs = cap_severity_from_color_word(t)) != CAP_SEV_INVALID) {
		if (s->o->cn_profile) {
			in->severity = cs;
			in->severity_from_color = 1;
		} else {
			rerr(s, n, path, "\"%s\" is a colour word, not a CAP "
			    "severity (accepted only from Chinese-profile "
			    "sources)", t);
			if (s->lenient) {
				in->severity = cs;
				in->severity_from_color = 1;
			}
		}
	} else if (t[0] == '\0')
		rerr(s, n, path, "<severity> is empty");
	else
		rerr(s, n, path, "\"%s\" is not a valid severity", t);
	free(t);
}

static void
certainty_value(struct pst *s, xmlNodePtr n, const char *path,
    struct cap_info *in)
{
	char *t = text_of(s, n, 1);
	int v;

	if (t == NULL)
		return;
	v = cap_enum_lookup(cap_certainty_names, 0, t);
	if (v > 0)
		in->certainty = (enum cap_certainty)v;
	else if (strcmp(t, "Very Likely") == 0) {
		in->certainty = CAP_CERT_LIKELY;
		if (s->version != CAP_V10)
			rerr(s, n, path, "\"Very Likely\" is CAP 1.0 only; "
			    "use \"Likely\"");
	} else if (t[0] == '\0')
		rerr(s, n, path, "<certainty> is empty");
	else
		rerr(s, n, path, "\"%s\" is not a valid certainty", t);
	free(t);
}

static void
info_child(struct pst *s, void *ctx, int idx, xmlNodePtr n, const char *path)
{
	struct infoctx *ic = ctx;
	struct cap_info *in = ic->in;
	char **sv, sub[PATHMAX];
	struct cap_pair *p;
	int v;

	switch (idx) {
	case I_LANGUAGE:
		if ((in->language = text_of(s, n, 1)) != NULL &&
		    !language_ok(in->language))
			rerr(s, n, path, "\"%s\" is not a language tag (RFC "
			    "3066, e.g. zh-CN)", in->language);
		break;
	case I_CATEGORY:
	case I_RESPONSE:
		if (idx == I_CATEGORY)
			sv = push(&in->categories, &in->ncategories,
			    sizeof(*sv));
		else
			sv = push(&in->response_types, &in->nresponse_types,
			    sizeof(*sv));
		if (sv == NULL || (*sv = text_of(s, n, 1)) == NULL) {
			s->nomem = 1;
			return;
		}
		v = cap_enum_lookup(idx == I_CATEGORY ? cap_category_names :
		    cap_response_names, 0, *sv);
		if (v < 0 && !(idx == I_CATEGORY && s->version == CAP_V10 &&
		    strcmp(*sv, "Transport") == 0))
			rerr(s, n, path, "\"%s\" is not a valid %s", *sv,
			    idx == I_CATEGORY ? "category" : "responseType");
		break;
	case I_EVENT:
		in->event = text_of(s, n, 1);
		break;
	case I_URGENCY:
		in->urgency = (enum cap_urgency)enum_value(s, n, path,
		    cap_urgency_names, "urgency");
		break;
	case I_SEVERITY:
		severity_value(s, n, path, in);
		break;
	case I_CERTAINTY:
		certainty_value(s, n, path, in);
		break;
	case I_AUDIENCE:
		in->audience = text_of(s, n, 1);
		break;
	case I_EVENTCODE:
	case I_PARAMETER:
		if (idx == I_EVENTCODE)
			p = push(&in->event_codes, &in->nevent_codes,
			    sizeof(*p));
		else
			p = push(&in->parameters, &in->nparameters,
			    sizeof(*p));
		if (p == NULL) {
			s->nomem = 1;
			return;
		}
		parse_pair(s, n, path, p);
		break;
	case I_EFFECTIVE:
		time_value(s, n, path, &in->effective);
		break;
	case I_ONSET:
		time_value(s, n, path, &in->onset);
		break;
	case I_EXPIRES:
		time_value(s, n, path, &in->expires);
		break;
	case I_SENDERNAME:
		in->sender_name = text_of(s, n, 1);
		break;
	case I_HEADLINE:
		in->headline = text_of(s, n, 1);
		break;
	case I_DESCRIPTION:
		in->description = text_of(s, n, 0);
		break;
	case I_INSTRUCTION:
		in->instruction = text_of(s, n, 0);
		break;
	case I_WEB:
		in->web = text_of(s, n, 1);
		break;
	case I_CONTACT:
		in->contact = text_of(s, n, 1);
		break;
	case I_RESOURCE: {
		struct cap_resource *r;

		ic->nres++;
		subpath(sub, ic->ipath, "resource", ic->nres);
		if ((r = push(&in->resources, &in->nresources,
		    sizeof(*r))) == NULL) {
			s->nomem = 1;
			return;
		}
		parse_resource(s, n, sub, r);
		break;
	}
	case I_AREA: {
		struct cap_area *ar;

		ic->narea++;
		subpath(sub, ic->ipath, "area", ic->narea);
		if ((ar = push(&in->areas, &in->nareas, sizeof(*ar))) == NULL) {
			s->nomem = 1;
			return;
		}
		parse_area(s, n, sub, ar);
		break;
	}
	}
}

static void
parse_info(struct pst *s, xmlNodePtr n, const char *path, struct cap_info *in,
    const struct cap_alert *a)
{
	static const struct {
		int idx;
		const char *name;
	} req[] = {
		{ I_CATEGORY, "category" }, { I_EVENT, "event" },
		{ I_URGENCY, "urgency" }, { I_SEVERITY, "severity" },
		{ I_CERTAINTY, "certainty" },
	};
	struct infoctx ic;
	int seen[I_N] = { 0 };
	const struct cap_time *start;
	char sub[PATHMAX];
	size_t i;

	memset(&ic, 0, sizeof(ic));
	ic.in = in;
	snprintf(ic.ipath, sizeof(ic.ipath), "%s", path);
	walk(s, n, path, info_order, seen, info_child, &ic);
	for (i = 0; i < sizeof(req) / sizeof(req[0]); i++)
		if (!seen[req[i].idx]) {
			subpath(sub, path, req[i].name, 0);
			rerr(s, n, sub, "<info> has no <%s>", req[i].name);
		}
	start = in->effective.valid ? &in->effective : &a->sent;
	if (in->expires.valid && start->valid && in->expires.ms < start->ms) {
		subpath(sub, path, "expires", 0);
		warn(s, n, sub, "expires (%s) is before %s (%s)",
		    in->expires.text, start == &a->sent ? "sent" : "effective",
		    start->text);
	}
	if (in->onset.valid && in->expires.valid &&
	    in->expires.ms < in->onset.ms) {
		subpath(sub, path, "onset", 0);
		warn(s, n, sub, "onset (%s) is after expires (%s)",
		    in->onset.text, in->expires.text);
	}
	if (in->headline != NULL && strlen(in->headline) > 160 * 3)
		warn(s, n, path, "<headline> is very long (CAP suggests 160 "
		    "characters at most)");
	if (in->nareas == 0)
		warn(s, n, path, "<info> has no <area>: it targets nowhere");
	if (in->headline == NULL && in->description == NULL &&
	    in->instruction == NULL)
		warn(s, n, path, "<info> has no headline, description or "
		    "instruction");
}

/* ---- alert ---- */

static const char *const alert_order[] = { "identifier", "sender", "sent",
    "status", "msgType", "source", "scope", "restriction", "addresses",
    "*code", "note", "references", "incidents", "*info", NULL };

enum {
	A_IDENTIFIER, A_SENDER, A_SENT, A_STATUS, A_MSGTYPE, A_SOURCE, A_SCOPE,
	A_RESTRICTION, A_ADDRESSES, A_CODE, A_NOTE, A_REFERENCES, A_INCIDENTS,
	A_INFO, A_N
};

struct alertctx {
	struct cap_alert *a;
	int ninfo;
	xmlNodePtr nodes[A_N];
	char paths[A_N][PATHMAX];
};

static void
parse_references(struct pst *s, xmlNodePtr n, const char *path,
    struct cap_alert *a)
{
	const char *p, *c1, *c2, *end;
	struct cap_ref *r;
	const char *why;
	char *tok;
	size_t l;
	int rv;

	if (a->references == NULL)
		return;
	if (a->references[0] == '\0') {
		rerr(s, n, path, "<references> is empty (give "
		    "sender,identifier,sent of each earlier message)");
		return;
	}
	for (p = a->references; *p != '\0';) {
		while (is_ws(*p))
			p++;
		if (*p == '\0')
			break;
		l = strcspn(p, " \t\r\n");
		end = p + l;
		c1 = memchr(p, ',', l);
		c2 = c1 != NULL ? memchr(c1 + 1, ',', (size_t)(end - c1 - 1)) :
		    NULL;
		if (c1 == NULL || c2 == NULL || c1 == p || c2 == c1 + 1 ||
		    c2 + 1 == end || memchr(c2 + 1, ',', (size_t)(end - c2 -
		    1)) != NULL) {
			rerr(s, n, path, "reference \"%.*s\" is not "
			    "sender,identifier,sent", (int)(l > 80 ? 80 : l),
			    p);
			p = end;
			continue;
		}
		if ((r = push(&a->refs, &a->nrefs, sizeof(*r))) == NULL) {
			s->nomem = 1;
			return;
		}
		r->sender = strndup(p, (size_t)(c1 - p));
		r->identifier = strndup(c1 + 1, (size_t)(c2 - c1 - 1));
		r->sent.text = strndup(c2 + 1, (size_t)(end - c2 - 1));
		if (r->sender == NULL || r->identifier == NULL ||
		    r->sent.text == NULL) {
			s->nomem = 1;
			return;
		}
		tok = r->sent.text;
		rv = cap_time_parse(tok, &r->sent, &why);
		if (rv != 0)
			rerr(s, n, path, "reference %zu (%.*s): sent \"%s\": "
			    "%s", a->nrefs, (int)(c2 - p > 60 ? 60 : c2 - p),
			    p, tok, why);
		p = end;
	}
}

/*
 * Split a CAP group list ("a b \"c d\"": space-delimited, entries with
 * white space in double quotes) into *v / *n.
 */
static void
split_list(struct pst *s, xmlNodePtr n, const char *path, const char *text,
    char ***v, size_t *nv)
{
	const char *p = text, *e;
	char **slot;

	while (*p != '\0') {
		while (is_ws(*p))
			p++;
		if (*p == '\0')
			break;
		if (*p == '"') {
			if ((e = strchr(p + 1, '"')) == NULL) {
				rerr(s, n, path, "unbalanced double quote in "
				    "<%s>", (const char *)n->name);
				e = p + strlen(p);
			}
			p++;
		} else {
			for (e = p; *e != '\0' && !is_ws(*e); e++)
				;
		}
		if ((slot = push(v, nv, sizeof(*slot))) == NULL ||
		    (*slot = strndup(p, (size_t)(e - p))) == NULL) {
			s->nomem = 1;
			return;
		}
		p = *e == '"' ? e + 1 : e;
	}
}

static void
alert_child(struct pst *s, void *ctx, int idx, xmlNodePtr n, const char *path)
{
	struct alertctx *ac = ctx;
	struct cap_alert *a = ac->a;
	struct cap_info *in;
	char **sv, sub[PATHMAX];

	if (idx < 0) {		/* ds:Signature */
		a->has_signature = 1;
		return;
	}
	ac->nodes[idx] = n;
	snprintf(ac->paths[idx], PATHMAX, "%s", path);
	switch (idx) {
	case A_IDENTIFIER:
		if ((a->identifier = text_of(s, n, 1)) != NULL)
			check_token(s, n, path, "identifier", a->identifier);
		break;
	case A_SENDER:
		if ((a->sender = text_of(s, n, 1)) != NULL)
			check_token(s, n, path, "sender", a->sender);
		break;
	case A_SENT:
		time_value(s, n, path, &a->sent);
		if (a->sent.text != NULL && !a->sent.valid)
			ferr(s, n, path, "<sent> cannot be read as a time, so "
			    "the message cannot be identified");
		break;
	case A_STATUS:
		a->status = (enum cap_status)enum_value(s, n, path,
		    cap_status_names, "status");
		break;
	case A_MSGTYPE:
		a->msg_type = (enum cap_msgtype)enum_value(s, n, path,
		    cap_msgtype_names, "msgType");
		break;
	case A_SOURCE:
		a->source = text_of(s, n, 1);
		break;
	case A_SCOPE:
		a->scope = (enum cap_scope)enum_value(s, n, path,
		    cap_scope_names, "scope");
		break;
	case A_RESTRICTION:
		a->restriction = text_of(s, n, 1);
		break;
	case A_ADDRESSES:
		if ((a->addresses = text_of(s, n, 1)) != NULL)
			split_list(s, n, path, a->addresses, &a->address_list,
			    &a->naddresses);
		break;
	case A_CODE:
		if ((sv = push(&a->codes, &a->ncodes, sizeof(*sv))) == NULL ||
		    (*sv = text_of(s, n, 1)) == NULL)
			s->nomem = 1;
		break;
	case A_NOTE:
		a->note = text_of(s, n, 0);
		break;
	case A_REFERENCES:
		a->references = text_of(s, n, 1);
		parse_references(s, n, path, a);
		break;
	case A_INCIDENTS:
		if ((a->incidents = text_of(s, n, 1)) != NULL)
			split_list(s, n, path, a->incidents, &a->incident_list,
			    &a->nincidents);
		break;
	case A_INFO:
		ac->ninfo++;
		snprintf(sub, sizeof(sub), "/alert/info[%d]", ac->ninfo);
		if ((in = push(&a->infos, &a->ninfos, sizeof(*in))) == NULL) {
			s->nomem = 1;
			return;
		}
		parse_info(s, n, sub, in, a);
		break;
	}
}

static void
parse_alert(struct pst *s, xmlNodePtr root, struct cap_alert *a)
{
	static const struct {
		int idx;
		const char *name;
		int fatal;
	} req[] = {
		{ A_IDENTIFIER, "identifier", 1 }, { A_SENDER, "sender", 1 },
		{ A_SENT, "sent", 1 }, { A_STATUS, "status", 0 },
		{ A_MSGTYPE, "msgType", 0 }, { A_SCOPE, "scope", 0 },
	};
	struct alertctx *ac;
	int seen[A_N] = { 0 };
	char sub[PATHMAX];
	size_t i;

	if ((ac = calloc(1, sizeof(*ac))) == NULL) {
		s->nomem = 1;
		return;
	}
	ac->a = a;
	walk(s, root, "/alert", alert_order, seen, alert_child, ac);
	for (i = 0; i < sizeof(req) / sizeof(req[0]); i++) {
		if (seen[req[i].idx])
			continue;
		snprintf(sub, sizeof(sub), "/alert/%s", req[i].name);
		if (req[i].fatal)
			ferr(s, root, sub, "<alert> has no <%s>, so the "
			    "message cannot be identified", req[i].name);
		else
			rerr(s, root, sub, "<alert> has no <%s>", req[i].name);
	}
	if (a->scope == CAP_SCOPE_RESTRICTED && a->restriction == NULL)
		warn(s, ac->nodes[A_SCOPE], "/alert/restriction",
		    "scope is Restricted but <restriction> does not say "
		    "how");
	if (a->scope == CAP_SCOPE_PRIVATE && a->addresses == NULL)
		rerr(s, ac->nodes[A_SCOPE], "/alert/addresses",
		    "scope is Private but <addresses> is missing");
	if ((a->msg_type == CAP_MSG_UPDATE || a->msg_type == CAP_MSG_CANCEL ||
	    a->msg_type == CAP_MSG_ACK || a->msg_type == CAP_MSG_ERROR) &&
	    a->references == NULL)
		rerr(s, ac->nodes[A_MSGTYPE], "/alert/references",
		    "msgType is %s but <references> is missing",
		    cap_msgtype_name(a->msg_type));
	if (a->ninfos == 0 && (a->msg_type == CAP_MSG_ALERT ||
	    a->msg_type == CAP_MSG_UPDATE))
		warn(s, root, "/alert", "the %s has no <info>: there is "
		    "nothing to tell anyone", cap_msgtype_name(a->msg_type));
	for (i = 0; i < a->nrefs; i++)
		if (a->sender != NULL && a->identifier != NULL &&
		    a->refs[i].identifier != NULL &&
		    strcmp(a->refs[i].sender, a->sender) == 0 &&
		    strcmp(a->refs[i].identifier, a->identifier) == 0)
			warn(s, ac->nodes[A_REFERENCES], "/alert/references",
			    "the message references itself");
	free(ac);
}

/* ---- entry ---- */

static const char *
libxml_msg(xmlParserCtxtPtr ctxt, long *line)
{
	xmlErrorPtr e = xmlCtxtGetLastError(ctxt);
	static const char unknown[] = "unknown error";

	*line = 0;
	if (e == NULL || e->message == NULL)
		return unknown;
	*line = e->line;
	return e->message;
}

void
cap_opts_init(struct cap_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->max_bytes = CAP_DEFAULT_MAX_BYTES;
	o->max_depth = CAP_DEFAULT_MAX_DEPTH;
}

int
cap_global_init(void)
{
	xmlInitParser();
	return cap_sig_global_init();
}

void
cap_global_cleanup(void)
{
	cap_sig_global_cleanup();
	xmlCleanupParser();
}

static int
has_signature(xmlNodePtr root)
{
	xmlNodePtr c;

	for (c = root->children; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE && c->ns != NULL &&
		    strcmp((const char *)c->name, "Signature") == 0 &&
		    strcmp((const char *)c->ns->href, NS_DSIG) == 0)
			return 1;
	return 0;
}

static int
check_root(struct pst *s, xmlNodePtr root)
{
	const char *href;

	if (root == NULL || strcmp((const char *)root->name, "alert") != 0) {
		ferr(s, root, "/", "not a CAP message: the root element is "
		    "<%s>, not <alert>", root != NULL ?
		    (const char *)root->name : "");
		return -1;
	}
	if (root->ns == NULL || root->ns->href == NULL) {
		rerr(s, root, "/alert", "<alert> has no namespace; expected "
		    "xmlns=\"%s\"", NS_CAP12);
		s->ns = NULL;
		s->version = CAP_V_UNKNOWN;
		return 0;
	}
	href = (const char *)root->ns->href;
	s->ns = root->ns->href;
	if (strcmp(href, NS_CAP12) == 0)
		s->version = CAP_V12;
	else if (strcmp(href, NS_CAP11) == 0)
		s->version = CAP_V11;
	else if (strcmp(href, NS_CAP10) == 0)
		s->version = CAP_V10;
	else if (strcasecmp(href, NS_CAP12) == 0 ||
	    strcasecmp(href, NS_CAP11) == 0 ||
	    strcasecmp(href, NS_CAP10) == 0) {
		rerr(s, root, "/alert", "namespace \"%s\" is not spelt "
		    "exactly as in the CAP standard (case differs)", href);
		s->version = strcasestr(href, "1.0") ? CAP_V10 :
		    strcasestr(href, "1.1") ? CAP_V11 : CAP_V12;
	} else {
		ferr(s, root, "/alert", "not a CAP message: unknown "
		    "namespace \"%s\"", href);
		return -1;
	}
	return 0;
}

int
cap_parse(const void *vbuf, size_t len, const struct cap_opts *opts,
    struct cap_alert **out, struct diag_list *diags, struct eng_errbuf *eb)
{
	const char *buf = vbuf;
	struct cap_opts defopts;
	struct eng_errbuf seb;
	struct pst s;
	struct cap_alert *a = NULL;
	xmlParserCtxtPtr ctxt = NULL;
	xmlDocPtr doc = NULL;
	char *conv = NULL;
	size_t convlen, i;
	long line;
	const char *m;
	int rv = ENG_EINVAL;
	size_t err0 = diags->nerrors;

	*out = NULL;
	if (opts == NULL) {
		cap_opts_init(&defopts);
		opts = &defopts;
	}
	memset(&s, 0, sizeof(s));
	s.o = opts;
	s.diags = diags;
	s.file = opts->source_name;
	s.lenient = opts->lenient;
	if (opts->max_depth <= 0) {
		defopts = *opts;
		defopts.max_depth = CAP_DEFAULT_MAX_DEPTH;
		s.o = opts = &defopts;
	}
	if (len > (opts->max_bytes ? opts->max_bytes : CAP_DEFAULT_MAX_BYTES)) {
		ferr(&s, NULL, NULL, "the document is %zu bytes, over the "
		    "limit of %zu", len, opts->max_bytes ? opts->max_bytes :
		    (size_t)CAP_DEFAULT_MAX_BYTES);
		rv = eng_error(eb, ENG_ETOOBIG, "document too large (%zu "
		    "bytes)", len);
		goto out;
	}
	/* Is it XML at all?  The first character must be '<' (after a BOM
	 * and white space); UTF-16 goes to the encoding check. */
	i = 0;
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < len && is_ws((unsigned char)buf[i]))
		i++;
	if (!(len >= 2 && ((unsigned char)buf[0] == 0xff ||
	    (unsigned char)buf[0] == 0xfe)) && (i >= len || buf[i] != '<')) {
		ferr(&s, NULL, NULL, i >= len ? "the document is empty" :
		    "not an XML document (it does not start with '<')");
		rv = eng_error(eb, ENG_EINVAL, "not XML");
		goto out;
	}
	if ((rv = cap_enc_normalise(buf, len, s.lenient, s.file, &conv,
	    &convlen, diags)) != 0) {
		s.nfatal++;
		if (rv == ENG_ENOMEM)
			goto nomem;
		rv = eng_error(eb, ENG_EINVAL, "invalid encoding");
		goto out;
	}
	if (conv != NULL) {
		buf = conv;
		len = convlen;
	}
	if ((ctxt = xmlNewParserCtxt()) == NULL)
		goto nomem;
	ctxt->_private = &s;
	s.ctxt = ctxt;
	ctxt->sax->internalSubset = on_doctype;
	ctxt->sax->externalSubset = on_doctype;
	ctxt->sax->entityDecl = on_entity;
	ctxt->sax->startElementNs = on_start;
	ctxt->sax->endElementNs = on_end;
	if (len > INT32_MAX) {	/* libxml2 takes an int */
		ferr(&s, NULL, NULL, "the document is %zu bytes, over the "
		    "limit of %d", len, INT32_MAX);
		rv = eng_error(eb, ENG_ETOOBIG, "document too large");
		goto out;
	}
	/*
	 * buf is UTF-8 now (cap_enc_normalise).  No encoding is named: the
	 * parser takes UTF-8 as is (named, libxml2 2.9 would run every byte
	 * through a UTF-8 to UTF-8 converter), and IGNORE_ENC makes it
	 * ignore the declaration's, which may name the original encoding.
	 * COMPACT keeps short texts inside their nodes (fewer mallocs).
	 */
	doc = xmlCtxtReadMemory(ctxt, buf, (int)len, NULL, NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
	    XML_PARSE_IGNORE_ENC | XML_PARSE_BIG_LINES | XML_PARSE_NOCDATA |
	    XML_PARSE_COMPACT);
	switch (s.stop) {
	case STOP_DOCTYPE:
		ferr_line(&s, s.stop_line, "a DOCTYPE is not allowed in CAP "
		    "(DTDs and entities are refused)");
		rv = eng_error(eb, ENG_EINVAL, "DOCTYPE refused");
		goto out;
	case STOP_ENTITY:
		ferr_line(&s, s.stop_line,
		    "entity declarations are not allowed");
		rv = eng_error(eb, ENG_EINVAL, "entity declaration refused");
		goto out;
	case STOP_DEPTH:
		ferr_line(&s, s.stop_line, "elements are nested deeper "
		    "than %d levels", opts->max_depth);
		rv = eng_error(eb, ENG_EINVAL, "nesting too deep");
		goto out;
	case STOP_NONE:
		break;
	}
	if (doc == NULL || !ctxt->wellFormed) {
		m = libxml_msg(ctxt, &line);
		s.nfatal++;
		if (diag_add(diags, DIAG_ERROR, s.file, line, NULL,
		    "not well-formed XML: %.*s", (int)strcspn(m, "\n"), m) != 0)
			goto nomem;
		rv = eng_error(eb, ENG_EINVAL, "not well-formed XML");
		goto out;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL)
		goto nomem;
	if (check_root(&s, xmlDocGetRootElement(doc)) != 0) {
		rv = eng_error(eb, ENG_EINVAL, "not a CAP message");
		goto out;
	}
	a->version = s.version;
	/* The signature first, on the tree exactly as received. */
	if (opts->require_signature) {
		if (!has_signature(xmlDocGetRootElement(doc))) {
			ferr(&s, xmlDocGetRootElement(doc), "/alert",
			    "the message is not signed and this source "
			    "requires a signature");
			rv = eng_error(eb, ENG_EPERM, "unsigned message");
			goto out;
		}
		eng_errbuf_init(&seb);
		if ((rv = cap_sig_verify(doc, opts->trusted_cert, &seb)) != 0) {
			ferr(&s, xmlDocGetRootElement(doc), "/alert/Signature",
			    "%s", seb.msg);
			rv = eng_error(eb, rv, "%s", seb.msg);
			goto out;
		}
		a->signature_verified = 1;
	}
	parse_alert(&s, xmlDocGetRootElement(doc), a);
	if (s.nomem)
		goto nomem;
	if (s.nfatal > 0 || diags->nerrors > err0) {
		rv = eng_error(eb, ENG_EINVAL, "invalid CAP message (%zu "
		    "error(s))", diags->nerrors - err0);
		goto out;
	}
	*out = a;
	a = NULL;
	rv = 0;
	goto out;
nomem:
	rv = eng_error(eb, ENG_ENOMEM, "out of memory parsing CAP");
out:
	cap_alert_free(a);
	if (doc != NULL)
		xmlFreeDoc(doc);
	if (ctxt != NULL)
		xmlFreeParserCtxt(ctxt);
	free(conv);
	return rv;
}
