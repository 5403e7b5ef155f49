/*
 * engine/roster_int.h - internals shared by engine/roster*.c only.
 */
#ifndef ENGINE_ROSTER_INT_H
#define ENGINE_ROSTER_INT_H

#include <stddef.h>

struct roster_mem;

/* Copy len bytes of s plus a NUL into the arena *m (created on first
 * use).  NULL on allocation failure. */
char *roster_mem_dup(struct roster_mem **m, const char *s, size_t len);
void roster_mem_free(struct roster_mem *m);

/* yes/no/true/false/1/0/是/否/y/n (ASCII case-insensitive): 0 and *out,
 * or -1 if s is none of them. */
int roster_bool_parse(const char *s, int *out);

/* ASCII case-insensitive comparison with a NUL-terminated word. */
int roster_word_eq(const char *s, const char *word);

/* Convert GB18030 (GBK, GB2312) to UTF-8 into a malloc'd buffer (*out,
 * *outlen, NUL-terminated).  0, ENG_ENOMEM, or ENG_EINVAL with *bad the
 * offset of the first undecodable byte. */
int roster_gb18030_to_utf8(const char *in, size_t len, char **out,
    size_t *outlen, size_t *bad);

#endif /* ENGINE_ROSTER_INT_H */
