/*
 * engine/strbuf.h - a growing NUL-terminated string, for building
 * request URLs and bodies, metrics pages and the like.
 *
 * A failed allocation sets oom and makes every later call a no-op, so a
 * builder checks once at the end (oom, or p == NULL for nothing added).
 * p is malloc'd; strbuf_release() frees it.  Not thread-safe (one owner).
 */
#ifndef ENGINE_STRBUF_H
#define ENGINE_STRBUF_H

#include <stddef.h>

struct strbuf {
	char *p;		/* NULL until something is added */
	size_t len, cap;
	int oom;
};

#define STRBUF_INIT { NULL, 0, 0, 0 }

void strbuf_add(struct strbuf *b, const char *s, size_t n);
void strbuf_addstr(struct strbuf *b, const char *s);
void strbuf_addf(struct strbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* s percent-encoded: everything but RFC 3986's unreserved characters. */
void strbuf_addurl(struct strbuf *b, const char *s);
/* s as a JSON string's contents (no quotes): '"' and '\\' escaped with a
 * backslash, control characters and DEL as \u00XX, other bytes as they
 * are (s is taken to be UTF-8). */
void strbuf_addjson(struct strbuf *b, const char *s);
/*
 * Texts kept one after another, each with its NUL, and found again by
 * offset (the buffer moves as it grows: keep offsets, not pointers).
 * strbuf_keep adds s and returns its offset, or STRBUF_NONE for NULL;
 * strbuf_at gives the text at off back (NULL for STRBUF_NONE).  Check
 * oom once before reading them back.
 */
#define STRBUF_NONE	((size_t)-1)
size_t strbuf_keep(struct strbuf *b, const char *s);
const char *strbuf_at(const struct strbuf *b, size_t off);
/* Free the contents; the buffer is empty and reusable afterwards. */
void strbuf_release(struct strbuf *b);

#endif /* ENGINE_STRBUF_H */
