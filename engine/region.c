/*
 * engine/region.c - division codes.
 */
#include "engine/region.h"

#include <string.h>

/* Segment boundaries: [0,2) province, [2,4) city, [4,6) county,
 * [6,9) township, [9,12) village. */
static const int seg_end[] = { 2, 4, 6, 9, 12 };

static int
all_zero(const char *s, int from, int to)
{
	int i;

	for (i = from; i < to; i++)
		if (s[i] != '0')
			return 0;
	return 1;
}

int
region_code_norm(const char *in, size_t len, char out[REGION_CODE_SIZE],
    struct eng_errbuf *eb)
{
	size_t b = 0, e = len, n, i;
	int seg, zero_seen = 0;

	while (b < e && (in[b] == ' ' || in[b] == '\t'))
		b++;
	while (e > b && (in[e - 1] == ' ' || in[e - 1] == '\t' ||
	    in[e - 1] == '\r' || in[e - 1] == '\n'))
		e--;
	n = e - b;
	if (n == 0)
		return eng_error(eb, ENG_EINVAL, "empty division code");
	for (i = b; i < e; i++)
		if (in[i] < '0' || in[i] > '9')
			return eng_error(eb, ENG_EINVAL,
			    "division code '%.*s' has a non-digit",
			    (int)(n > 20 ? 20 : n), in + b);
	if (n != 6 && n != 9 && n != 12)
		return eng_error(eb, ENG_EINVAL,
		    "division code '%.*s' has %zu digits (want 6, 9 or 12)",
		    (int)(n > 20 ? 20 : n), in + b, n);
	memcpy(out, in + b, n);
	memset(out + n, '0', REGION_CODE_LEN - n);
	out[REGION_CODE_LEN] = '\0';
	if (all_zero(out, 0, 2))
		return eng_error(eb, ENG_EINVAL,
		    "division code '%s' has province 00", out);
	for (seg = 1; seg < 5; seg++) {
		int z = all_zero(out, seg_end[seg - 1], seg_end[seg]);

		if (z)
			zero_seen = 1;
		else if (zero_seen)
			return eng_error(eb, ENG_EINVAL,
			    "division code '%s' does not nest (a zero segment "
			    "before a non-zero one)", out);
	}
	return 0;
}

enum region_level
region_code_level(const char *code)
{
	int seg;

	if (code == NULL || strlen(code) != REGION_CODE_LEN)
		return REGION_NONE;
	for (seg = 4; seg >= 1; seg--)
		if (!all_zero(code, seg_end[seg - 1], seg_end[seg]))
			return (enum region_level)(seg + 1);
	return all_zero(code, 0, 2) ? REGION_NONE : REGION_PROVINCE;
}

int
region_code_parent(const char *code, char out[REGION_CODE_SIZE])
{
	enum region_level lvl = region_code_level(code);
	int keep;

	if (lvl <= REGION_PROVINCE)
		return ENG_ENOENT;
	keep = seg_end[lvl - 2];
	memcpy(out, code, (size_t)keep);
	memset(out + keep, '0', (size_t)(REGION_CODE_LEN - keep));
	out[REGION_CODE_LEN] = '\0';
	return 0;
}

int
region_code_within(const char *code, const char *anc)
{
	enum region_level al = region_code_level(anc);

	if (al == REGION_NONE || region_code_level(code) < al)
		return 0;
	return memcmp(code, anc, (size_t)seg_end[al - 1]) == 0;
}

static const char *const names[] = {
	NULL, "province", "city", "county", "township", "village"
};
static const char *const names_zh[] = {
	NULL, "省", "市", "县", "乡", "村"
};

const char *
region_level_name(enum region_level lvl)
{
	return lvl >= REGION_PROVINCE && lvl <= REGION_VILLAGE ?
	    names[lvl] : NULL;
}

const char *
region_level_name_zh(enum region_level lvl)
{
	return lvl >= REGION_PROVINCE && lvl <= REGION_VILLAGE ?
	    names_zh[lvl] : NULL;
}

enum region_level
region_level_parse(const char *s)
{
	int i;

	for (i = REGION_PROVINCE; i <= REGION_VILLAGE; i++)
		if (strcmp(s, names[i]) == 0)
			return (enum region_level)i;
	return REGION_NONE;
}
