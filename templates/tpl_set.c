/*
 * templates/tpl_set.c - sets of templates keyed by (region, kind,
 * language, event), loaded from a directory tree, and the fallback
 * lookup.
 */
#include "templates/tpl_int.h"
#include "engine/utf8.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define KEY_MAX		256
#define EVENT_MAX	64
#define LANG_MAX	35
#define DEFAULT_LANG	"zh-CN"
#define DEFAULT_EVENT	"default"

static const char *const kind_names[TPL_NKINDS] = {
	[TPL_SMS] = "sms", [TPL_APP] = "app", [TPL_EMAIL] = "email",
	[TPL_VOICE] = "voice", [TPL_LOUDSPEAKER] = "loudspeaker",
};

struct tent {
	char *key;		/* region \x1f kind \x1f lang \x1f event */
	struct tpl *t;
};

struct tpl_set {
	struct tent *v;
	size_t n, alloc;
};

const char *
tpl_kind_name(enum tpl_kind k)
{
	if ((int)k < 0 || k >= TPL_NKINDS)
		return NULL;
	return kind_names[k];
}

int
tpl_kind_parse(const char *s, enum tpl_kind *k)
{
	int i;

	for (i = 0; s != NULL && i < TPL_NKINDS; i++) {
		if (strcmp(s, kind_names[i]) == 0) {
			*k = (enum tpl_kind)i;
			return 0;
		}
	}
	return ENG_EINVAL;
}

/* Language tags: a 2-8 letter primary subtag, then -alnum{1,8}. */
static int
lang_ok(const char *s)
{
	size_t i, run = 0, n = strlen(s);
	int first = 1;

	if (n == 0 || n > LANG_MAX)
		return 0;
	for (i = 0; i <= n; i++) {
		if (s[i] == '-' || s[i] == '\0') {
			if (run == 0 || run > 8 || (first && run < 2))
				return 0;
			first = 0;
			run = 0;
			continue;
		}
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (!first && s[i] >= '0' && s[i] <= '9')))
			return 0;
		run++;
	}
	return 1;
}

/* Event keys: any UTF-8 text without '/', control characters or a
 * leading dot, at most EVENT_MAX bytes. */
static int
event_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > EVENT_MAX || s[0] == '.' ||
	    utf8_check(s, n) != n)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] == '/' || (unsigned char)s[i] < 0x20 ||
		    s[i] == 0x7f)
			return 0;
	return 1;
}

static int
region_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return i == 12;
}

static int
make_key(char *buf, size_t size, const char *region, enum tpl_kind kind,
    const char *lang, const char *event, size_t elen)
{
	int n;

	n = snprintf(buf, size, "%s\x1f%s\x1f%s\x1f%.*s",
	    region != NULL ? region : "", kind_names[kind], lang, (int)elen,
	    event);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

static int
tent_cmp(const void *a, const void *b)
{
	return strcmp(((const struct tent *)a)->key,
	    ((const struct tent *)b)->key);
}

static struct tent *
lookup(const struct tpl_set *s, const char *key)
{
	struct tent k;

	k.key = (char *)(uintptr_t)key;
	k.t = NULL;
	if (s->n == 0)
		return NULL;
	return bsearch(&k, s->v, s->n, sizeof(*s->v), tent_cmp);
}

struct tpl_set *
tpl_set_new(void)
{
	return calloc(1, sizeof(struct tpl_set));
}

void
tpl_set_free(struct tpl_set *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++) {
		free(s->v[i].key);
		tpl_free(s->v[i].t);
	}
	free(s->v);
	free(s);
}

size_t
tpl_set_count(const struct tpl_set *s)
{
	return s->n;
}

/* Insert (taking t and key on success), keeping the array sorted. */
static int
insert(struct tpl_set *s, char *key, struct tpl *t)
{
	struct tent *e, *nv;
	size_t lo = 0, hi = s->n, mid, na;
	int c;

	if ((e = lookup(s, key)) != NULL) {
		free(key);
		tpl_free(e->t);
		e->t = t;
		return 0;
	}
	if (s->n == s->alloc) {
		na = s->alloc ? s->alloc * 2 : 16;
		if ((nv = realloc(s->v, na * sizeof(*nv))) == NULL)
			return ENG_ENOMEM;
		s->v = nv;
		s->alloc = na;
	}
	while (lo < hi) {
		mid = (lo + hi) / 2;
		c = strcmp(s->v[mid].key, key);
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	memmove(&s->v[lo + 1], &s->v[lo], (s->n - lo) * sizeof(*s->v));
	s->v[lo].key = key;
	s->v[lo].t = t;
	s->n++;
	return 0;
}

static int
check_key(const char *region, enum tpl_kind kind, const char *lang,
    const char *event, struct eng_errbuf *eb)
{
	if (tpl_kind_name(kind) == NULL)
		return eng_error(eb, ENG_EINVAL, "bad template kind %d",
		    (int)kind);
	if (region != NULL && !region_ok(region))
		return eng_error(eb, ENG_EINVAL, "bad region code '%s' (want "
		    "12 digits)", region);
	if (lang == NULL || !lang_ok(lang))
		return eng_error(eb, ENG_EINVAL, "bad language tag '%s'",
		    lang != NULL ? lang : "(null)");
	if (event == NULL || !event_ok(event, strlen(event)))
		return eng_error(eb, ENG_EINVAL, "bad event key '%s'",
		    event != NULL ? event : "(null)");
	return 0;
}

static int
add_compiled(struct tpl_set *s, const char *region, enum tpl_kind kind,
    const char *lang, const char *event, struct tpl *t,
    struct eng_errbuf *eb)
{
	char key[KEY_MAX], *k;
	int rv;

	if (make_key(key, sizeof(key), region, kind, lang, event,
	    strlen(event)) != 0)
		return eng_error(eb, ENG_EINVAL, "template key too long");
	if ((k = strdup(key)) == NULL)
		return eng_error(eb, ENG_ENOMEM, "out of memory");
	if ((rv = insert(s, k, t)) != 0) {
		free(k);
		return eng_error(eb, rv, "out of memory");
	}
	return 0;
}

int
tpl_set_add(struct tpl_set *s, const char *region, enum tpl_kind kind,
    const char *lang, const char *event, const char *src, size_t len,
    struct eng_errbuf *eb)
{
	char name[KEY_MAX];
	struct tpl *t;
	int rv;

	if ((rv = check_key(region, kind, lang, event, eb)) != 0)
		return rv;
	if (region != NULL)
		(void)snprintf(name, sizeof(name), "regions/%s/%s/%s/%s.tpl",
		    region, kind_names[kind], lang, event);
	else
		(void)snprintf(name, sizeof(name), "%s/%s/%s.tpl",
		    kind_names[kind], lang, event);
	if ((rv = tpl_compile(name, src, len, &t, eb)) != 0)
		return rv;
	if ((rv = add_compiled(s, region, kind, lang, event, t, eb)) != 0)
		tpl_free(t);
	return rv;
}

/* ---- lookup ------------------------------------------------------- */

const struct tpl *
tpl_set_find(const struct tpl_set *s, enum tpl_kind kind, const char *lang,
    const char *event, const char *const *chain, size_t n)
{
	const char *langs[3], *events[2];
	char primary[LANG_MAX + 1], key[KEY_MAX];
	const char *dash;
	struct tent *e;
	size_t nl = 0, ne = 0, li, ri, ei;

	if (s == NULL || tpl_kind_name(kind) == NULL)
		return NULL;
	if (lang != NULL && lang_ok(lang)) {
		langs[nl++] = lang;
		if ((dash = strchr(lang, '-')) != NULL) {
			(void)snprintf(primary, sizeof(primary), "%.*s",
			    (int)(dash - lang), lang);
			langs[nl++] = primary;
		}
	}
	if (nl == 0 || strcmp(langs[0], DEFAULT_LANG) != 0)
		langs[nl++] = DEFAULT_LANG;
	if (event != NULL && event_ok(event, strlen(event)) &&
	    strcmp(event, DEFAULT_EVENT) != 0)
		events[ne++] = event;
	events[ne++] = DEFAULT_EVENT;
	for (li = 0; li < nl; li++) {
		for (ri = 0; ri <= n; ri++) {
			if (ri < n && (chain == NULL || chain[ri] == NULL ||
			    !region_ok(chain[ri])))
				continue;
			for (ei = 0; ei < ne; ei++) {
				if (make_key(key, sizeof(key), ri < n ?
				    chain[ri] : NULL, kind, langs[li],
				    events[ei], strlen(events[ei])) != 0)
					continue;
				if ((e = lookup(s, key)) != NULL)
					return e->t;
			}
		}
	}
	return NULL;
}

/* ---- loading ------------------------------------------------------ */

/* snprintf for paths; -1 (and an empty buf) if it does not fit */
static int
pjoin(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
pjoin(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size) {
		buf[0] = '\0';
		return -1;
	}
	return 0;
}

struct loader {
	struct tpl_set *s;
	struct diag_list *dl;
	const char *root;
	int failed;
	int nomem;
};

static int
has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);

	return n >= m && strcmp(s + n - m, suf) == 0;
}

static int
read_file(const char *path, char **out, size_t *len, char *err,
    size_t esize)
{
	FILE *f;
	char *buf;
	size_t n;

	*out = NULL;
	if ((f = fopen(path, "rb")) == NULL) {
		(void)pjoin(err, esize, "cannot open: %s", strerror(errno));
		return ENG_EIO;
	}
	if ((buf = malloc(TPL_MAX_SIZE + 1)) == NULL) {
		fclose(f);
		(void)pjoin(err, esize, "out of memory");
		return ENG_ENOMEM;
	}
	n = fread(buf, 1, TPL_MAX_SIZE + 1, f);
	if (ferror(f)) {
		(void)pjoin(err, esize, "read error");
		fclose(f);
		free(buf);
		return ENG_EIO;
	}
	fclose(f);
	if (n > TPL_MAX_SIZE) {
		(void)pjoin(err, esize, "template too large (more than %d "
		    "bytes)", TPL_MAX_SIZE);
		free(buf);
		return ENG_ETOOBIG;
	}
	*out = buf;
	*len = n;
	return 0;
}

static int
is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void
load_file(struct loader *L, const char *rel, const char *region,
    enum tpl_kind kind, const char *lang, const char *event)
{
	char path[4096], err[300];
	struct eng_errbuf eb;
	struct tpl *t;
	char *src;
	size_t len;
	long line, col;
	int rv;

	(void)pjoin(path, sizeof(path), "%s/%s", L->root, rel);
	if ((rv = read_file(path, &src, &len, err, sizeof(err))) != 0) {
		L->failed = 1;
		(void)diag_add(L->dl, DIAG_ERROR, path, 0, NULL, "%s", err);
		return;
	}
	rv = tpl_compile_raw(rel, src, len, &t, &line, &col, err,
	    sizeof(err));
	free(src);
	if (rv != 0) {
		L->failed = 1;
		L->nomem |= rv == ENG_ENOMEM;
		if (line > 0)
			(void)diag_add(L->dl, DIAG_ERROR, path, line, NULL,
			    "column %ld: %s", col, err);
		else
			(void)diag_add(L->dl, DIAG_ERROR, path, 0, NULL, "%s",
			    err);
		return;
	}
	eng_errbuf_init(&eb);
	if (add_compiled(L->s, region, kind, lang, event, t, &eb) != 0) {
		tpl_free(t);
		L->failed = L->nomem = 1;
		(void)diag_add(L->dl, DIAG_ERROR, path, 0, NULL, "%s",
		    eb.msg);
	}
}

/* <base>/<kind>/<lang>/<event>.tpl below rel ("" or regions/<code>) */
static void
load_tree(struct loader *L, const char *rel, const char *region)
{
	char p[4096], r2[4096], r3[4096], event[EVENT_MAX + 8];
	DIR *d1 = NULL, *d2 = NULL;
	struct dirent *e1, *e2;
	enum tpl_kind kind;
	size_t n;

	for (kind = 0; kind < TPL_NKINDS; kind++) {
		(void)pjoin(r2, sizeof(r2), "%s%s%s", rel, *rel ? "/" : "",
		    kind_names[kind]);
		(void)pjoin(p, sizeof(p), "%s/%s", L->root, r2);
		if ((d1 = opendir(p)) == NULL)
			continue;
		while ((e1 = readdir(d1)) != NULL) {
			if (e1->d_name[0] == '.')
				continue;
			(void)pjoin(r3, sizeof(r3), "%s/%s", r2,
			    e1->d_name);
			(void)pjoin(p, sizeof(p), "%s/%s", L->root, r3);
			if (!lang_ok(e1->d_name) || !is_dir(p)) {
				(void)diag_add(L->dl, DIAG_WARNING, p, 0, NULL,
				    "ignored: not a language directory (such "
				    "as zh-CN or en)");
				continue;
			}
			if ((d2 = opendir(p)) == NULL) {
				L->failed = 1;
				(void)diag_add(L->dl, DIAG_ERROR, p, 0, NULL,
				    "cannot open: %s", strerror(errno));
				continue;
			}
			while ((e2 = readdir(d2)) != NULL) {
				if (e2->d_name[0] == '.')
					continue;
				n = strlen(e2->d_name);
				if (!has_suffix(e2->d_name, ".tpl") ||
				    !event_ok(e2->d_name, n - 4)) {
					(void)pjoin(p, sizeof(p),
					    "%s/%s/%s", L->root, r3,
					    e2->d_name);
					(void)diag_add(L->dl, DIAG_WARNING, p,
					    0, NULL, "ignored: not "
					    "<event>.tpl");
					continue;
				}
				(void)pjoin(event, sizeof(event), "%.*s",
				    (int)(n - 4), e2->d_name);
				(void)pjoin(p, sizeof(p), "%s/%s", r3,
				    e2->d_name);
				load_file(L, p, region, kind, e1->d_name,
				    event);
			}
			closedir(d2);
		}
		closedir(d1);
	}
}

int
tpl_set_load(const char *dir, struct tpl_set **out, struct diag_list *dl)
{
	struct loader L;
	char p[4096], rel[64];
	DIR *d, *rd;
	struct dirent *e;
	enum tpl_kind k;
	int rv = 0;

	*out = NULL;
	memset(&L, 0, sizeof(L));
	L.dl = dl;
	L.root = dir;
	if ((d = opendir(dir)) == NULL) {
		(void)diag_add(dl, DIAG_ERROR, dir, 0, NULL, "cannot open "
		    "template directory: %s", strerror(errno));
		return ENG_EIO;
	}
	if ((L.s = tpl_set_new()) == NULL) {
		closedir(d);
		return ENG_ENOMEM;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || strcmp(e->d_name, "regions") == 0 ||
		    tpl_kind_parse(e->d_name, &k) == 0)
			continue;
		(void)pjoin(p, sizeof(p), "%s/%s", dir, e->d_name);
		(void)diag_add(dl, DIAG_WARNING, p, 0, NULL, "ignored: not a "
		    "channel kind (sms, app, email, voice, loudspeaker) or "
		    "regions/");
	}
	closedir(d);
	load_tree(&L, "", NULL);
	(void)pjoin(p, sizeof(p), "%s/regions", dir);
	if ((rd = opendir(p)) != NULL) {
		while ((e = readdir(rd)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			if (!region_ok(e->d_name)) {
				(void)pjoin(p, sizeof(p), "%s/regions/%s",
				    dir, e->d_name);
				(void)diag_add(dl, DIAG_WARNING, p, 0, NULL,
				    "ignored: not a 12-digit division code");
				continue;
			}
			(void)pjoin(rel, sizeof(rel), "regions/%s",
			    e->d_name);
			load_tree(&L, rel, e->d_name);
		}
		closedir(rd);
	}
	for (k = 0; k < TPL_NKINDS; k++) {
		if (tpl_set_find(L.s, k, DEFAULT_LANG, NULL, NULL, 0) == NULL)
			(void)diag_add(dl, DIAG_WARNING, dir, 0, NULL, "no "
			    "%s/%s/%s.tpl: %s messages have no fallback "
			    "template", kind_names[k], DEFAULT_LANG,
			    DEFAULT_EVENT, kind_names[k]);
	}
	if (L.failed) {
		rv = L.nomem ? ENG_ENOMEM : ENG_EINVAL;
		tpl_set_free(L.s);
		return rv;
	}
	*out = L.s;
	return 0;
}
