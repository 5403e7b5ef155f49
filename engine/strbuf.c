/*
 * engine/strbuf.c - a growing string.
 */
#include "engine/strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Room for n more bytes and the NUL; 0, or -1 (oom set). */
static int
grow(struct strbuf *b, size_t n)
{
	size_t nc;
	char *np;

	if (b->oom)
		return -1;
	if (b->len + n + 1 <= b->cap)
		return 0;
	nc = b->cap ? b->cap : 256;
	while (nc < b->len + n + 1)
		nc *= 2;
	if ((np = realloc(b->p, nc)) == NULL) {
		b->oom = 1;
		return -1;
	}
	b->p = np;
	b->cap = nc;
	return 0;
}

void
strbuf_add(struct strbuf *b, const char *s, size_t n)
{
	if (grow(b, n) != 0)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
strbuf_addstr(struct strbuf *b, const char *s)
{
	strbuf_add(b, s, strlen(s));
}

void
strbuf_addf(struct strbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = 1;
		return;
	}
	if (grow(b, (size_t)n) != 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void
strbuf_addurl(struct strbuf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *u, *run;
	char e[3];

	/* Runs of unreserved characters at once: a text is mostly one. */
	for (u = run = (const unsigned char *)s; *u != '\0'; u++) {
		if ((*u >= 'A' && *u <= 'Z') || (*u >= 'a' && *u <= 'z') ||
		    (*u >= '0' && *u <= '9') || *u == '-' || *u == '.' ||
		    *u == '_' || *u == '~')
			continue;
		if (u > run)
			strbuf_add(b, (const char *)run, (size_t)(u - run));
		e[0] = '%';
		e[1] = hex[*u >> 4];
		e[2] = hex[*u & 15];
		strbuf_add(b, e, 3);
		run = u + 1;
	}
	if (u > run)
		strbuf_add(b, (const char *)run, (size_t)(u - run));
}

void
strbuf_addjson(struct strbuf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u, *run;
	char e[6];

	for (u = run = (const unsigned char *)s; *u != '\0'; u++) {
		if (*u >= 0x20 && *u != 0x7f && *u != '"' && *u != '\\')
			continue;
		if (u > run)
			strbuf_add(b, (const char *)run, (size_t)(u - run));
		if (*u == '"' || *u == '\\') {
			e[0] = '\\';
			e[1] = (char)*u;
			strbuf_add(b, e, 2);
		} else {
			memcpy(e, "\\u00", 4);
			e[4] = hex[*u >> 4];
			e[5] = hex[*u & 15];
			strbuf_add(b, e, 6);
		}
		run = u + 1;
	}
	if (u > run)
		strbuf_add(b, (const char *)run, (size_t)(u - run));
}

size_t
strbuf_keep(struct strbuf *b, const char *s)
{
	size_t off = b->len;

	if (s == NULL)
		return STRBUF_NONE;
	strbuf_add(b, s, strlen(s) + 1);
	return off;
}

const char *
strbuf_at(const struct strbuf *b, size_t off)
{
	return off == STRBUF_NONE ? NULL : b->p + off;
}

void
strbuf_release(struct strbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
	b->oom = 0;
}
