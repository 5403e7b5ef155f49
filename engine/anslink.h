/*
 * engine/anslink.h - the answer link /a/{token} (叫应): a token that
 * names one responder and one alert until an expiry, signed with
 * HMAC-SHA256 under a key of the deployment (DATA_DIR/answer.key), so
 * that it cannot be forged or turned to another person or alert, and
 * serves for nothing but answering (the MAC input starts with its own
 * purpose string).
 *
 * Token: base64url(payload) "." base64url(first 16 bytes of the MAC),
 * payload "<alert_id>.<expires, unix seconds>.<responder_id>".
 * Pure functions; thread-safe.
 */
#ifndef ENGINE_ANSLINK_H
#define ENGINE_ANSLINK_H

#include <stddef.h>
#include <stdint.h>

#include "engine/err.h"

#define ANSLINK_TOKEN_MAX	256	/* with the NUL */
#define ANSLINK_ID_MAX		64	/* responder id, with the NUL */

struct anslink {
	long long alert_id;
	int64_t expires_ms;		/* whole seconds */
	char responder_id[ANSLINK_ID_MAX];
};

/*
 * Make the token of (responder, alert, expiry) under key (keylen bytes,
 * 16 at least) into out (size bytes).  Returns 0, or ENG_EINVAL (a
 * responder id empty or too long, a short key, out too small).
 */
int anslink_make(const void *key, size_t keylen, const char *responder_id,
    long long alert_id, int64_t expires_ms, char *out, size_t size);

/*
 * Check a token at now_ms.  Returns 0 and *out, ENG_EPERM (malformed or
 * not signed with key: forged, altered), or ENG_ETIMEDOUT (genuine but
 * expired; *out filled).
 */
int anslink_check(const void *key, size_t keylen, const char *token,
    int64_t now_ms, struct anslink *out);

#endif /* ENGINE_ANSLINK_H */
