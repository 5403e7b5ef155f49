/*
 * engine/diag.c - diagnostics lists.
 */
#include "engine/diag.h"
#include "engine/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
diag_list_init(struct diag_list *l)
{
	memset(l, 0, sizeof(*l));
}

static void
diag_free_one(struct diag *d)
{
	free(d->file);
	free(d->path);
	free(d->msg);
}

void
diag_list_release(struct diag_list *l)
{
	size_t i, max;

	for (i = 0; i < l->n; i++)
		diag_free_one(&l->v[i]);
	free(l->v);
	max = l->max;
	diag_list_init(l);
	l->max = max;
}

static char *
dupornull(const char *s)
{
	return s == NULL ? NULL : strdup(s);
}

static int
push(struct diag_list *l, struct diag *d)
{
	size_t max = l->max ? l->max : DIAG_DEFAULT_MAX;
	struct diag *nv;
	size_t na;

	if (l->n >= max) {
		l->dropped++;
		diag_free_one(d);
		return 0;
	}
	if (l->n == l->alloc) {
		na = l->alloc ? l->alloc * 2 : 8;
		if ((nv = realloc(l->v, na * sizeof(*nv))) == NULL) {
			diag_free_one(d);
			l->dropped++;
			return ENG_ENOMEM;
		}
		l->v = nv;
		l->alloc = na;
	}
	l->v[l->n++] = *d;
	return 0;
}

int
diag_add(struct diag_list *l, enum diag_sev sev, const char *file, long line,
    const char *path, const char *fmt, ...)
{
	struct diag d;
	char buf[1024];
	va_list ap;

	if (sev == DIAG_ERROR)
		l->nerrors++;
	else
		l->nwarnings++;
	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	d.sev = sev;
	d.line = line;
	d.file = dupornull(file);
	d.path = dupornull(path);
	d.msg = strdup(buf);
	if (d.msg == NULL || (file != NULL && d.file == NULL) ||
	    (path != NULL && d.path == NULL)) {
		diag_free_one(&d);
		l->dropped++;
		return ENG_ENOMEM;
	}
	return push(l, &d);
}

int
diag_list_move(struct diag_list *dst, struct diag_list *src, int demote)
{
	size_t i, kept_err = 0, kept_warn = 0, lost_err, lost_warn;
	int rv = 0;

	for (i = 0; i < src->n; i++) {
		struct diag d = src->v[i];

		if (d.sev == DIAG_ERROR)
			kept_err++;
		else
			kept_warn++;
		if (demote && d.sev == DIAG_ERROR)
			d.sev = DIAG_WARNING;
		if (d.sev == DIAG_ERROR)
			dst->nerrors++;
		else
			dst->nwarnings++;
		if (push(dst, &d) != 0)
			rv = ENG_ENOMEM;
	}
	/* Entries src could not keep still count. */
	lost_err = src->nerrors > kept_err ? src->nerrors - kept_err : 0;
	lost_warn = src->nwarnings > kept_warn ? src->nwarnings - kept_warn : 0;
	if (demote) {
		dst->nwarnings += lost_err + lost_warn;
	} else {
		dst->nerrors += lost_err;
		dst->nwarnings += lost_warn;
	}
	dst->dropped += src->dropped;
	free(src->v);
	src->v = NULL;
	src->n = src->alloc = 0;
	src->nerrors = src->nwarnings = src->dropped = 0;
	return rv;
}

char *
diag_format(const struct diag *d, char *buf, size_t size)
{
	char where[512];
	int n = 0;

	where[0] = '\0';
	if (d->file != NULL && d->line > 0)
		n = snprintf(where, sizeof(where), "%s:%ld: ", d->file,
		    d->line);
	else if (d->file != NULL)
		n = snprintf(where, sizeof(where), "%s: ", d->file);
	else if (d->line > 0)
		n = snprintf(where, sizeof(where), "line %ld: ", d->line);
	(void)n;
	(void)snprintf(buf, size, "%s%s: %s%s%s", where,
	    d->sev == DIAG_ERROR ? "error" : "warning",
	    d->path != NULL ? d->path : "", d->path != NULL ? ": " : "",
	    d->msg);
	return buf;
}
