/*
 * templates/tpl_util.c - byte buffers and UTF-8 helpers.
 */
#include "templates/tpl_int.h"
#include "engine/utf8.h"

#include <stdlib.h>
#include <string.h>

void
tbuf_init(struct tbuf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void
tbuf_release(struct tbuf *b)
{
	size_t max = b->max;

	free(b->p);
	tbuf_init(b, max);
}

int
tbuf_add(struct tbuf *b, const char *s, size_t n)
{
	size_t na;
	char *np;

	if (b->max != 0 && (n > b->max || b->len > b->max - n)) {
		b->over = 1;
		return ENG_ETOOBIG;
	}
	if (b->len + n + 1 > b->alloc) {
		na = b->alloc ? b->alloc : 64;
		while (na < b->len + n + 1)
			na *= 2;
		if ((np = realloc(b->p, na)) == NULL)
			return ENG_ENOMEM;
		b->p = np;
		b->alloc = na;
	}
	if (n > 0)
		memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

int
tbuf_adds(struct tbuf *b, const char *s)
{
	return tbuf_add(b, s, strlen(s));
}

int
tbuf_addc(struct tbuf *b, char c)
{
	return tbuf_add(b, &c, 1);
}

char *
tbuf_detach(struct tbuf *b, size_t *len)
{
	char *p;

	if (b->p == NULL && tbuf_add(b, "", 0) != 0)
		return NULL;
	p = b->p;
	if (len != NULL)
		*len = b->len;
	b->p = NULL;
	b->len = b->alloc = 0;
	return p;
}

size_t
tpl_utf8_count(const char *s, size_t n)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			c++;
	return c;
}

size_t
tpl_utf8_prefix(const char *s, size_t n, size_t k)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++) {
		if (((unsigned char)s[i] & 0xc0) != 0x80) {
			if (c == k)
				return i;
			c++;
		}
	}
	return n;
}

int
tpl_utf8_sanitise(struct tbuf *b, const char *s, size_t n)
{
	size_t i = 0, j, k;
	int rv;

	while (i < n) {
		j = i + utf8_check(s + i, n - i);
		if ((rv = tbuf_add(b, s + i, j - i)) != 0)
			return rv;
		if (j == n)
			break;
		if ((rv = tbuf_add(b, "\xef\xbf\xbd", 3)) != 0)
			return rv;
		/* skip the bad lead byte and its stray continuations */
		k = j + 1;
		while (k < n && ((unsigned char)s[k] & 0xc0) == 0x80 &&
		    utf8_decode(s + k, n - k, NULL) == 0)
			k++;
		i = k;
	}
	return b->p == NULL ? tbuf_add(b, "", 0) : 0;
}
