/*
 * engine/utf8.h - the project's one strict UTF-8 decoder.
 *
 * What it accepts is exactly RFC 3629 UTF-8, the rules jansson applies
 * to a string:
 *
 *	U+0000..U+007F		00..7F
 *	U+0080..U+07FF		C2..DF 80..BF
 *	U+0800..U+FFFF		E0 A0..BF 80..BF, E1..EC 80..BF 80..BF,
 *				ED 80..9F 80..BF, EE..EF 80..BF 80..BF
 *	U+10000..U+10FFFF	F0 90..BF 80..BF 80..BF,
 *				F1..F3 80..BF 80..BF 80..BF,
 *				F4 80..8F 80..BF 80..BF
 *
 * so no overlong forms (C0, C1, E0 80..9F, F0 80..8F), no UTF-16
 * surrogates (ED A0..BF), nothing above U+10FFFF (F4 90.., F5..FF), no
 * stray continuation bytes (80..BF) and no sequence cut short by the
 * end of the buffer.  U+0000 (a 00 byte) is a valid one-byte sequence:
 * callers that work on C strings stop at it themselves.
 *
 * Pure functions: no allocation, no errors beyond their return values,
 * never block, thread-safe.
 */
#ifndef ENGINE_UTF8_H
#define ENGINE_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * Length (1-4) of the valid UTF-8 sequence at s, which has n bytes left,
 * or 0 when the bytes there are not one (see above; a sequence longer
 * than n is not one).  Reads at most min(n, 4) bytes of s, and none past
 * the first that is not a continuation byte (so a NUL ends the read).
 * On success *cp (cp may be NULL) gets the code point; on failure *cp
 * is left alone.
 * n == 0 is allowed and returns 0 without reading s.
 */
size_t utf8_decode(const char *s, size_t n, uint32_t *cp);

/*
 * Offset of the first byte of s (n bytes) that does not start a valid
 * sequence (utf8_decode() returns 0 there), or n when all n bytes are
 * UTF-8.  A 00 byte is valid: a caller that refuses NUL checks for it.
 * Reads only s[0..n-1]; fast on ASCII (eight bytes at a time).
 */
size_t utf8_check(const char *s, size_t n);

#endif /* ENGINE_UTF8_H */
