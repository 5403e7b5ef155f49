/*
 * cap/encoding.c - bring a CAP document to valid UTF-8 before libxml2
 * sees it, so that bytes invalid in the declared encoding are reported
 * (strict) or replaced with a warning (lenient) the same way for every
 * encoding.  Other encodings (GB2312/GBK/GB18030, ISO-8859-x, UTF-16 ...)
 * are converted with iconv.
 */
#include "cap/cap_int.h"
#include "engine/diag.h"
#include "engine/err.h"
#include "engine/utf8.h"

#include <errno.h>
#include <stdint.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static long
line_at(const char *buf, size_t off)
{
	long line = 1;
	size_t i;

	for (i = 0; i < off; i++)
		if (buf[i] == '\n')
			line++;
	return line;
}

/* Declared encoding from the XML declaration into enc, or "" if none. */
static void
declared_encoding(const char *buf, size_t len, char *enc, size_t size)
{
	const char *p, *end, *q;
	size_t n;
	char quote;

	enc[0] = '\0';
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
		buf += 3;
		len -= 3;
	}
	if (len < 6 || memcmp(buf, "<?xml", 5) != 0)
		return;
	end = memchr(buf, '>', len < 512 ? len : 512);
	if (end == NULL)
		return;
	for (p = buf + 5; p + 8 < end; p++)
		if (memcmp(p, "encoding", 8) == 0)
			break;
	if (p + 8 >= end)
		return;
	p += 8;
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' ||
	    *p == '\n'))
		p++;
	if (p >= end || *p != '=')
		return;
	p++;
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' ||
	    *p == '\n'))
		p++;
	if (p >= end || (*p != '"' && *p != '\''))
		return;
	quote = *p++;
	q = memchr(p, quote, (size_t)(end - p));
	if (q == NULL)
		return;
	n = (size_t)(q - p);
	if (n >= size)
		n = size - 1;
	memcpy(enc, p, n);
	enc[n] = '\0';
}

static int
is_utf8_name(const char *enc)
{
	return enc[0] == '\0' || strcasecmp(enc, "UTF-8") == 0 ||
	    strcasecmp(enc, "UTF8") == 0 || strcasecmp(enc, "US-ASCII") == 0 ||
	    strcasecmp(enc, "ASCII") == 0;
}

static int
check_utf8(const char *buf, size_t len, int lenient, const char *file,
    char **out, size_t *outlen, struct diag_list *diags)
{
	const unsigned char *p = (const unsigned char *)buf;
	size_t i = 0, k, nbad = 0, first = 0, o = 0;
	char *dst = NULL;

	while (i < len) {
		/* fast path: 8 ASCII bytes at a time (until a copy is made) */
		if (dst == NULL) {
			uint64_t w;

			while (i + 8 <= len) {
				memcpy(&w, p + i, 8);
				if ((w & UINT64_C(0x8080808080808080)) != 0)
					break;
				i += 8;
			}
			if (i >= len)
				break;
		}
		if (p[i] < 0x80) {
			if (dst != NULL)
				dst[o++] = (char)p[i];
			i++;
			continue;
		}
		k = utf8_decode(buf + i, len - i, NULL);
		if (k > 0) {
			if (dst != NULL) {
				memcpy(dst + o, p + i, k);
				o += k;
			}
			i += k;
			continue;
		}
		if (!lenient) {
			diag_add(diags, DIAG_ERROR, file, line_at(buf, i), NULL,
			    "byte 0x%02x at offset %zu is not valid UTF-8",
			    p[i], i);
			return ENG_EINVAL;
		}
		if (dst == NULL) {
			/* Each bad byte becomes 3 bytes at most. */
			if ((dst = malloc(len * 3 + 1)) == NULL)
				return ENG_ENOMEM;
			memcpy(dst, buf, i);
			o = i;
			first = i;
		}
		memcpy(dst + o, "\xef\xbf\xbd", 3);
		o += 3;
		nbad++;
		i++;
	}
	if (dst != NULL) {
		dst[o] = '\0';
		diag_add(diags, DIAG_WARNING, file, line_at(buf, first), NULL,
		    "%zu byte(s) not valid UTF-8 replaced by U+FFFD", nbad);
		*out = dst;
		*outlen = o;
	}
	return 0;
}

static int
convert(const char *buf, size_t len, const char *enc, int lenient,
    const char *file, char **out, size_t *outlen, struct diag_list *diags)
{
	const char *from = enc;
	iconv_t cd;
	char *dst = NULL, *in, *op;
	size_t cap, inleft, outleft, nbad = 0, first = 0;
	int rv = 0;

	if (strcasecmp(enc, "GB2312") == 0 || strcasecmp(enc, "GBK") == 0 ||
	    strcasecmp(enc, "CP936") == 0 || strcasecmp(enc, "EUC-CN") == 0 ||
	    strcasecmp(enc, "GB_2312-80") == 0)
		from = "GB18030";	/* a superset of both */
	if ((cd = iconv_open("UTF-8", from)) == (iconv_t)-1) {
		diag_add(diags, DIAG_ERROR, file, 1, NULL,
		    "unsupported encoding \"%s\"", enc);
		return ENG_EINVAL;
	}
	cap = len * 4 + 16;
	if ((dst = malloc(cap)) == NULL) {
		rv = ENG_ENOMEM;
		goto out;
	}
	in = (char *)(uintptr_t)buf;
	inleft = len;
	op = dst;
	outleft = cap - 1;
	while (inleft > 0) {
		if (iconv(cd, &in, &inleft, &op, &outleft) != (size_t)-1)
			break;
		if (errno == E2BIG) {	/* cannot happen with 4x, be safe */
			rv = ENG_ETOOBIG;
			diag_add(diags, DIAG_ERROR, file, 0, NULL,
			    "document grows too much when converted from %s",
			    enc);
			goto out;
		}
		/* EILSEQ or EINVAL (truncated sequence at the end) */
		if (!lenient) {
			size_t off = (size_t)(in - buf);

			diag_add(diags, DIAG_ERROR, file, line_at(buf, off),
			    NULL, "byte 0x%02x at offset %zu is not valid %s",
			    (unsigned char)*in, off, enc);
			rv = ENG_EINVAL;
			goto out;
		}
		if (nbad++ == 0)
			first = (size_t)(in - buf);
		if (outleft < 3) {
			rv = ENG_ETOOBIG;
			goto out;
		}
		memcpy(op, "\xef\xbf\xbd", 3);
		op += 3;
		outleft -= 3;
		in++;
		inleft--;
	}
	*op = '\0';
	if (nbad > 0)
		diag_add(diags, DIAG_WARNING, file, line_at(buf, first), NULL,
		    "%zu byte(s) not valid %s replaced by U+FFFD", nbad, enc);
	*out = dst;
	*outlen = (size_t)(op - dst);
	dst = NULL;
out:
	free(dst);
	iconv_close(cd);
	return rv;
}

int
cap_enc_normalise(const char *buf, size_t len, int lenient, const char *file,
    char **out, size_t *outlen, struct diag_list *diags)
{
	char enc[64];

	*out = NULL;
	*outlen = 0;
	if (len >= 2 && ((unsigned char)buf[0] == 0xff &&
	    (unsigned char)buf[1] == 0xfe))
		return convert(buf, len, "UTF-16LE", lenient, file, out, outlen,
		    diags);
	if (len >= 2 && ((unsigned char)buf[0] == 0xfe &&
	    (unsigned char)buf[1] == 0xff))
		return convert(buf, len, "UTF-16BE", lenient, file, out, outlen,
		    diags);
	declared_encoding(buf, len, enc, sizeof(enc));
	if (is_utf8_name(enc))
		return check_utf8(buf, len, lenient, file, out, outlen, diags);
	if (strncasecmp(enc, "UTF-16", 6) == 0) {
		/* declared UTF-16 but no BOM and ASCII declaration: a lie */
		diag_add(diags, DIAG_ERROR, file, 1, NULL,
		    "declared encoding \"%s\" does not match the document",
		    enc);
		return ENG_EINVAL;
	}
	return convert(buf, len, enc, lenient, file, out, outlen, diags);
}
