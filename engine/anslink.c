/*
 * engine/anslink.c - signed answer-link tokens.
 */
#include "engine/anslink.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PURPOSE		"gong-answer-link-v1\n"
#define MAC_BYTES	16
#define B64		sodium_base64_VARIANT_URLSAFE_NO_PADDING
#define PAYLOAD_MAX	128

static void
mac_of(const void *key, size_t keylen, const char *payload, size_t len,
    unsigned char mac[MAC_BYTES])
{
	crypto_auth_hmacsha256_state st;
	unsigned char full[crypto_auth_hmacsha256_BYTES];

	crypto_auth_hmacsha256_init(&st, key, keylen);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)PURPOSE,
	    sizeof(PURPOSE) - 1);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)payload,
	    len);
	crypto_auth_hmacsha256_final(&st, full);
	memcpy(mac, full, MAC_BYTES);
	sodium_memzero(full, sizeof(full));
	sodium_memzero(&st, sizeof(st));
}

int
anslink_make(const void *key, size_t keylen, const char *responder_id,
    long long alert_id, int64_t expires_ms, char *out, size_t size)
{
	char payload[PAYLOAD_MAX];
	unsigned char mac[MAC_BYTES];
	size_t l, need;
	int n;

	if (key == NULL || keylen < 16 || responder_id == NULL ||
	    responder_id[0] == '\0' ||
	    strlen(responder_id) >= ANSLINK_ID_MAX || alert_id <= 0)
		return ENG_EINVAL;
	n = snprintf(payload, sizeof(payload), "%lld.%lld.%s", alert_id,
	    (long long)(expires_ms / 1000), responder_id);
	if (n < 0 || (size_t)n >= sizeof(payload))
		return ENG_EINVAL;
	need = sodium_base64_ENCODED_LEN((size_t)n, B64) +
	    sodium_base64_ENCODED_LEN(MAC_BYTES, B64);
	if (size < need)
		return ENG_EINVAL;
	mac_of(key, keylen, payload, (size_t)n, mac);
	(void)sodium_bin2base64(out, size, (const unsigned char *)payload,
	    (size_t)n, B64);
	l = strlen(out);
	out[l++] = '.';
	(void)sodium_bin2base64(out + l, size - l, mac, sizeof(mac), B64);
	return 0;
}

static int
parse_ll(const char *s, size_t len, long long *v)
{
	char buf[24], *end;

	if (len == 0 || len >= sizeof(buf) || s[0] == '-' || s[0] == '+')
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	*v = strtoll(buf, &end, 10);
	return errno != 0 || *end != '\0' ? -1 : 0;
}

int
anslink_check(const void *key, size_t keylen, const char *token,
    int64_t now_ms, struct anslink *out)
{
	unsigned char payload[PAYLOAD_MAX], mac[MAC_BYTES], want[MAC_BYTES];
	const char *dot, *p, *d1, *d2;
	size_t plen = 0, mlen = 0, tlen;
	long long exp;

	memset(out, 0, sizeof(*out));
	if (key == NULL || keylen < 16 || token == NULL ||
	    (tlen = strnlen(token, ANSLINK_TOKEN_MAX)) == ANSLINK_TOKEN_MAX ||
	    (dot = strchr(token, '.')) == NULL)
		return ENG_EPERM;
	if (sodium_base642bin(payload, sizeof(payload) - 1, token,
	    (size_t)(dot - token), NULL, &plen, NULL, B64) != 0 ||
	    sodium_base642bin(mac, sizeof(mac), dot + 1,
	    tlen - (size_t)(dot - token) - 1, NULL, &mlen, NULL, B64) != 0 ||
	    mlen != MAC_BYTES)
		return ENG_EPERM;
	mac_of(key, keylen, (const char *)payload, plen, want);
	if (sodium_memcmp(mac, want, MAC_BYTES) != 0)
		return ENG_EPERM;
	payload[plen] = '\0';
	p = (const char *)payload;
	if (memchr(p, '\0', plen) != NULL ||
	    (d1 = strchr(p, '.')) == NULL || (d2 = strchr(d1 + 1, '.')) == NULL ||
	    parse_ll(p, (size_t)(d1 - p), &out->alert_id) != 0 ||
	    parse_ll(d1 + 1, (size_t)(d2 - d1 - 1), &exp) != 0 ||
	    strlen(d2 + 1) == 0 || strlen(d2 + 1) >= ANSLINK_ID_MAX ||
	    out->alert_id <= 0) {
		memset(out, 0, sizeof(*out));
		return ENG_EPERM;
	}
	(void)snprintf(out->responder_id, sizeof(out->responder_id), "%s",
	    d2 + 1);
	out->expires_ms = (int64_t)exp * 1000;
	return now_ms >= out->expires_ms ? ENG_ETIMEDOUT : 0;
}
