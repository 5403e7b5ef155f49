/*
 * engine/feed_index.c - read an Atom or RSS index of CAP messages.
 *
 * libxml2 with NONET, no DTD loading, no entity substitution, and SAX
 * hooks that stop at once on a DOCTYPE, an entity declaration or nesting
 * past FEED_INDEX_MAX_DEPTH (as cap/parse.c does).
 *
 * Atom: <entry> with <id> and <link href>; the link chosen is, in order,
 * rel="alternate" (or no rel) with a CAP type (a type containing
 * "cap+xml"), any link with a CAP type, the first rel="alternate" link,
 * the first link.  RSS 2.0 / 1.0: <item> with <guid> (else the link as
 * id) and an <enclosure> of a CAP type, else <link>, else a permalink
 * <guid>.  Links are resolved against the index URL and must be
 * http(s).
 */
#include "engine/feeds_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/SAX2.h>
#include <libxml/tree.h>
#include <libxml/uri.h>

#define NS_ATOM	"http://www.w3.org/2005/Atom"
#define NS_RSS1	"http://purl.org/rss/1.0/"

enum stop_reason {
	STOP_NONE = 0,
	STOP_DOCTYPE,
	STOP_ENTITY,
	STOP_DEPTH,
};

struct ist {
	int depth;
	enum stop_reason stop;
	long stop_line;
};

void
feed_index_init(struct feed_index *idx)
{
	memset(idx, 0, sizeof(*idx));
}

void
feed_index_release(struct feed_index *idx)
{
	size_t i;

	for (i = 0; i < idx->n; i++) {
		free(idx->v[i].id);
		free(idx->v[i].url);
	}
	free(idx->v);
	feed_index_init(idx);
}

/* ---- hostile-XML guards ---- */

static void
stop(xmlParserCtxtPtr ctxt, enum stop_reason why)
{
	struct ist *s = ctxt->_private;

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
	struct ist *s = ctxt->_private;

	if (++s->depth > FEED_INDEX_MAX_DEPTH) {
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
	struct ist *s = ctxt->_private;

	s->depth--;
	xmlSAX2EndElementNs(ctx, localname, prefix, uri);
}

/* ---- tree helpers ---- */

/* Element named name in namespace ns (NULL: no namespace). */
static int
is_el(const xmlNode *n, const char *name, const char *ns)
{
	if (n->type != XML_ELEMENT_NODE ||
	    strcmp((const char *)n->name, name) != 0)
		return 0;
	if (n->ns == NULL || n->ns->href == NULL)
		return ns == NULL;
	return ns != NULL && strcmp((const char *)n->ns->href, ns) == 0;
}

static int
is_ws(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Trimmed text content of n (malloc'd), or NULL (none, or ENOMEM). */
static char *
text_of(const xmlNode *n)
{
	xmlChar *c = xmlNodeGetContent(n);
	const char *b, *e;
	char *out = NULL;

	if (c == NULL)
		return NULL;
	b = (const char *)c;
	while (is_ws((unsigned char)*b))
		b++;
	e = b + strlen(b);
	while (e > b && is_ws((unsigned char)e[-1]))
		e--;
	if (e > b && (out = malloc((size_t)(e - b) + 1)) != NULL) {
		memcpy(out, b, (size_t)(e - b));
		out[e - b] = '\0';
	}
	xmlFree(c);
	return out;
}

/* Trimmed attribute (malloc'd), or NULL. */
static char *
attr_of(const xmlNode *n, const char *name)
{
	xmlChar *a = xmlGetNoNsProp(n, (const xmlChar *)name);
	const char *b, *e;
	char *out = NULL;

	if (a == NULL)
		return NULL;
	b = (const char *)a;
	while (is_ws((unsigned char)*b))
		b++;
	e = b + strlen(b);
	while (e > b && is_ws((unsigned char)e[-1]))
		e--;
	if (e > b && (out = malloc((size_t)(e - b) + 1)) != NULL) {
		memcpy(out, b, (size_t)(e - b));
		out[e - b] = '\0';
	}
	xmlFree(a);
	return out;
}

static int
is_cap_type(const char *type)
{
	size_t i, n;

	if (type == NULL)
		return 0;
	n = strlen(type);
	for (i = 0; i + 7 <= n; i++)
		if (strncasecmp(type + i, "cap+xml", 7) == 0)
			return 1;
	return 0;
}

static int
has_ctl(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

/*
 * Resolve href against base into *out (malloc'd).  Returns 0, or
 * ENG_EINVAL with a reason in why, ENG_ENOMEM.
 */
static int
resolve(const char *href, const char *base, char **out, const char **why)
{
	xmlChar *u;
	size_t n;

	*out = NULL;
	u = xmlBuildURI((const xmlChar *)href, (const xmlChar *)base);
	if (u == NULL) {
		*why = "the link is not a valid URL";
		return ENG_EINVAL;
	}
	n = strlen((const char *)u);
	if (strncasecmp((const char *)u, "http://", 7) != 0 &&
	    strncasecmp((const char *)u, "https://", 8) != 0) {
		*why = "the link is not an http(s) URL";
		xmlFree(u);
		return ENG_EINVAL;
	}
	if (n > FEED_URL_MAX || has_ctl((const char *)u)) {
		*why = n > FEED_URL_MAX ? "the link is too long" :
		    "the link holds control characters";
		xmlFree(u);
		return ENG_EINVAL;
	}
	if ((*out = strdup((const char *)u)) == NULL) {
		xmlFree(u);
		return ENG_ENOMEM;
	}
	xmlFree(u);
	return 0;
}

/* The href of the best Atom link of entry e (malloc'd) or NULL. */
static char *
atom_link(const xmlNode *e, const char *ns)
{
	const xmlNode *c;
	char *best = NULL, *href, *rel, *type;
	int score, best_score = 0, alt;

	for (c = e->children; c != NULL; c = c->next) {
		if (!is_el(c, "link", ns))
			continue;
		if ((href = attr_of(c, "href")) == NULL)
			continue;
		rel = attr_of(c, "rel");
		type = attr_of(c, "type");
		alt = rel == NULL || strcmp(rel, "alternate") == 0;
		if (is_cap_type(type))
			score = alt ? 4 : 3;
		else
			score = alt ? 2 : 1;
		free(rel);
		free(type);
		if (score > best_score) {
			free(best);
			best = href;
			best_score = score;
		} else
			free(href);
	}
	return best;
}

/* RSS: an enclosure of a CAP type, else <link>, else a permalink guid. */
static char *
rss_link(const xmlNode *it, const char *ns, const char *guid,
    int guid_perma)
{
	const xmlNode *c;
	char *link = NULL, *enc = NULL, *type;

	for (c = it->children; c != NULL; c = c->next) {
		if (enc == NULL && is_el(c, "enclosure", ns)) {
			type = attr_of(c, "type");
			if (is_cap_type(type))
				enc = attr_of(c, "url");
			free(type);
		} else if (link == NULL && is_el(c, "link", ns))
			link = text_of(c);
	}
	if (enc != NULL) {
		free(link);
		return enc;
	}
	if (link == NULL && guid != NULL && guid_perma)
		link = strdup(guid);
	return link;
}

struct walk {
	struct feed_index *idx;
	struct diag_list *warns;
	const char *base;
	size_t alloc;
	int nomem;
};

static void
skip(struct walk *w, const xmlNode *n, const char *why)
{
	w->idx->skipped++;
	if (w->warns != NULL)
		(void)diag_add(w->warns, DIAG_WARNING, NULL,
		    (long)xmlGetLineNo(n), w->idx->kind == FEED_ATOM ?
		    "entry" : "item", "entry skipped: %s", why);
}

/* Takes id and href (frees them in every case). */
static void
add_entry(struct walk *w, const xmlNode *n, char *id, char *href)
{
	struct feed_index *idx = w->idx;
	struct feed_entry *v;
	const char *why = NULL;
	char *url = NULL;
	int rv;

	if (href == NULL) {
		skip(w, n, "no link");
		goto out;
	}
	if (idx->n >= FEED_INDEX_MAX_ENTRIES) {
		idx->truncated++;
		goto out;
	}
	if ((rv = resolve(href, w->base, &url, &why)) != 0) {
		if (rv == ENG_ENOMEM)
			w->nomem = 1;
		else
			skip(w, n, why);
		goto out;
	}
	if (id == NULL && (id = strdup(url)) == NULL) {
		w->nomem = 1;
		goto out;
	}
	if (strlen(id) > FEED_ID_MAX || has_ctl(id)) {
		skip(w, n, strlen(id) > FEED_ID_MAX ? "the id is too long" :
		    "the id holds control characters");
		goto out;
	}
	if (idx->n == w->alloc) {
		w->alloc = w->alloc ? w->alloc * 2 : 64;
		if ((v = realloc(idx->v, w->alloc * sizeof(*v))) == NULL) {
			w->nomem = 1;
			goto out;
		}
		idx->v = v;
	}
	idx->v[idx->n].id = id;
	idx->v[idx->n].url = url;
	idx->v[idx->n].line = (long)xmlGetLineNo(n);
	idx->n++;
	free(href);
	return;
out:
	free(id);
	free(href);
	free(url);
}

static void
walk_atom(struct walk *w, const xmlNode *root, const char *ns)
{
	const xmlNode *e, *c;
	char *id, *href;

	for (e = root->children; e != NULL && !w->nomem; e = e->next) {
		if (!is_el(e, "entry", ns))
			continue;
		id = NULL;
		for (c = e->children; c != NULL; c = c->next)
			if (is_el(c, "id", ns)) {
				id = text_of(c);
				break;
			}
		href = atom_link(e, ns);
		add_entry(w, e, id, href);
	}
}

static void
walk_rss_items(struct walk *w, const xmlNode *parent, const char *ns)
{
	const xmlNode *it, *c;
	char *guid, *href, *perma;
	int is_perma;

	for (it = parent->children; it != NULL && !w->nomem; it = it->next) {
		if (!is_el(it, "item", ns))
			continue;
		guid = NULL;
		is_perma = 1;
		for (c = it->children; c != NULL; c = c->next)
			if (is_el(c, "guid", ns)) {
				guid = text_of(c);
				perma = attr_of(c, "isPermaLink");
				if (perma != NULL &&
				    strcasecmp(perma, "false") == 0)
					is_perma = 0;
				free(perma);
				break;
			}
		href = rss_link(it, ns, guid, is_perma);
		add_entry(w, it, guid, href);
	}
}

int
feed_index_parse(const char *buf, size_t len, const char *base_url,
    struct feed_index *idx, struct diag_list *warns, struct eng_errbuf *eb)
{
	xmlParserCtxtPtr ctxt = NULL;
	xmlDocPtr doc = NULL;
	const xmlNode *root, *c;
	const char *ns;
	struct ist s;
	struct walk w;
	int rv = 0;

	feed_index_init(idx);
	memset(&s, 0, sizeof(s));
	memset(&w, 0, sizeof(w));
	if (len > FEED_INDEX_MAX_BYTES)
		return eng_error(eb, ENG_ETOOBIG, "index of %zu bytes is over "
		    "the limit of %u", len, FEED_INDEX_MAX_BYTES);
	if (len == 0)
		return eng_error(eb, ENG_EINVAL, "the index is empty");
	if ((ctxt = xmlNewParserCtxt()) == NULL)
		return eng_error(eb, ENG_ENOMEM, "out of memory");
	ctxt->_private = &s;
	ctxt->sax->internalSubset = on_doctype;
	ctxt->sax->externalSubset = on_doctype;
	ctxt->sax->entityDecl = on_entity;
	ctxt->sax->startElementNs = on_start;
	ctxt->sax->endElementNs = on_end;
	doc = xmlCtxtReadMemory(ctxt, buf, (int)len, base_url, NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
	    XML_PARSE_BIG_LINES);
	switch (s.stop) {
	case STOP_DOCTYPE:
		rv = eng_error(eb, ENG_EINVAL, "line %ld: a DOCTYPE is not "
		    "allowed in an index (DTDs and entities are refused)",
		    s.stop_line);
		goto out;
	case STOP_ENTITY:
		rv = eng_error(eb, ENG_EINVAL, "line %ld: entity declarations "
		    "are not allowed", s.stop_line);
		goto out;
	case STOP_DEPTH:
		rv = eng_error(eb, ENG_EINVAL, "line %ld: elements are nested "
		    "deeper than %d levels", s.stop_line,
		    FEED_INDEX_MAX_DEPTH);
		goto out;
	case STOP_NONE:
		break;
	}
	if (doc == NULL || !ctxt->wellFormed) {
		const xmlError *e = xmlCtxtGetLastError(ctxt);

		if (e != NULL && e->code == XML_ERR_NO_MEMORY) {
			rv = eng_error(eb, ENG_ENOMEM, "out of memory");
			goto out;
		}
		rv = eng_error(eb, ENG_EINVAL, "line %d: not well-formed XML: "
		    "%.*s", e != NULL ? e->line : 0,
		    e != NULL && e->message != NULL ?
		    (int)strcspn(e->message, "\n") : 7,
		    e != NULL && e->message != NULL ? e->message : "unknown");
		goto out;
	}
	if (doc->intSubset != NULL || doc->extSubset != NULL) {
		rv = eng_error(eb, ENG_EINVAL, "a DOCTYPE is not allowed in "
		    "an index");
		goto out;
	}
	root = xmlDocGetRootElement(doc);
	w.idx = idx;
	w.warns = warns;
	w.base = base_url;
	ns = root->ns != NULL ? (const char *)root->ns->href : NULL;
	if (is_el(root, "feed", NS_ATOM) || is_el(root, "feed", NULL)) {
		idx->kind = FEED_ATOM;
		walk_atom(&w, root, ns);
	} else if (is_el(root, "rss", NULL)) {
		idx->kind = FEED_RSS;
		for (c = root->children; c != NULL; c = c->next)
			if (is_el(c, "channel", NULL))
				walk_rss_items(&w, c, NULL);
	} else if (strcmp((const char *)root->name, "RDF") == 0) {
		idx->kind = FEED_RSS;
		walk_rss_items(&w, root, NS_RSS1);
	} else {
		rv = eng_error(eb, ENG_EINVAL, "line %ld: neither an Atom feed "
		    "nor RSS (the root element is <%.64s>)",
		    (long)xmlGetLineNo(root), (const char *)root->name);
		goto out;
	}
	if (w.nomem)
		rv = eng_error(eb, ENG_ENOMEM, "out of memory");
out:
	if (rv != 0)
		feed_index_release(idx);
	xmlFreeDoc(doc);
	xmlFreeParserCtxt(ctxt);
	return rv;
}
