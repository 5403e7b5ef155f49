/*
 * engine/utf8.c - the project's one strict UTF-8 decoder (RFC 3629).
 */
#include "engine/utf8.h"

#include <string.h>

size_t
utf8_decode(const char *s, size_t n, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	uint32_t c;
	size_t len, i;

	if (n == 0)
		return 0;
	if (u[0] < 0x80) {
		if (cp != NULL)
			*cp = u[0];
		return 1;
	}
	if (u[0] < 0xc2)	/* continuation, or C0/C1: overlong */
		return 0;
	if (u[0] < 0xe0) {
		len = 2;
		c = u[0] & 0x1f;
	} else if (u[0] < 0xf0) {
		len = 3;
		c = u[0] & 0x0f;
	} else if (u[0] < 0xf5) {
		len = 4;
		c = u[0] & 0x07;
	} else			/* F5..FF: above U+10FFFF or never used */
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((u[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (u[i] & 0x3f);
	}
	if (len == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff)))
		return 0;	/* E0 80..9F overlong, ED A0..BF surrogate */
	if (len == 4 && (c < 0x10000 || c > 0x10ffff))
		return 0;	/* F0 80..8F overlong, F4 90.. too big */
	if (cp != NULL)
		*cp = c;
	return len;
}

size_t
utf8_check(const char *s, size_t n)
{
	size_t i = 0, k;
	uint64_t w;

	while (i < n) {
		if (n - i >= 8) {	/* eight ASCII bytes at a time */
			memcpy(&w, s + i, 8);
			if ((w & UINT64_C(0x8080808080808080)) == 0) {
				i += 8;
				continue;
			}
		}
		if ((unsigned char)s[i] < 0x80) {
			i++;
			continue;
		}
		if ((k = utf8_decode(s + i, n - i, NULL)) == 0)
			return i;
		i += k;
	}
	return n;
}
