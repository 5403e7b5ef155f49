/*
 * tests/fuzz/fuzz_auth.c - libFuzzer target for the pure parts of
 * engine/auth.h that see request input: the origin check (Origin,
 * Referer, Host, public URL), names, the region arithmetic and the
 * authorisation rule.  The input is up to five fields separated by NUL.
 * Invariants abort: an admin is always allowed; an officer or viewer is
 * allowed a region only within their jurisdiction (by digits).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/auth.h"
#include "engine/region.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NF	5

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *f[NF], common[REGION_CODE_SIZE], why[256];
	struct auth_principal p;
	size_t i, k = 0;
	int a;

	if ((buf = malloc(size + 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	f[k++] = buf;
	for (i = 0; i < size && k < NF; i++)
		if (buf[i] == '\0')
			f[k++] = buf + i + 1;
	for (; k < NF; k++)
		f[k] = buf + size;
	(void)auth_origin_ok(f[0][0] ? f[0] : NULL, f[1][0] ? f[1] : NULL,
	    f[2], f[3][0] ? f[3] : NULL);
	(void)auth_name_ok(f[4]);
	auth_region_common(f[3], f[4], common);
	if (strlen(common) > REGION_CODE_LEN)
		abort();
	for (a = AUTH_ROLE_VIEWER; a <= AUTH_ROLE_ADMIN; a++) {
		enum auth_action act;

		memset(&p, 0, sizeof(p));
		p.kind = AUTH_USER;
		p.role = (enum auth_role)a;
		(void)snprintf(p.name, sizeof(p.name), "%.60s", f[0]);
		(void)snprintf(p.jurisdiction, sizeof(p.jurisdiction), "%s",
		    f[3]);
		for (act = AUTH_READ; act < AUTH_ACTION_COUNT; act++) {
			int ok = auth_allow(&p, act, f[4][0] ? f[4] : NULL,
			    why, sizeof(why));

			if (a == AUTH_ROLE_ADMIN && !ok)
				abort();
			if (ok && a != AUTH_ROLE_ADMIN && f[4][0] &&
			    !region_code_within(f[4], p.jurisdiction))
				abort();
		}
	}
	free(buf);
	return 0;
}
