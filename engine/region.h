/*
 * engine/region.h - administrative division codes (GB/T 2260 and the
 * statistical 12-digit extension) and the levels that follow from them.
 *
 *   province  PP0000000000      city      PPCC00000000
 *   county    PPCCDD000000      township  PPCCDDTTT000
 *   village   PPCCDDTTTVVV
 *
 * Pure functions on strings; no allocation, thread-safe.
 */
#ifndef ENGINE_REGION_H
#define ENGINE_REGION_H

#include <stddef.h>

#include "engine/err.h"

#define REGION_CODE_LEN 12
#define REGION_CODE_SIZE (REGION_CODE_LEN + 1)

enum region_level {
	REGION_NONE = 0,
	REGION_PROVINCE = 1,
	REGION_CITY = 2,
	REGION_COUNTY = 3,
	REGION_TOWNSHIP = 4,
	REGION_VILLAGE = 5,
};

/*
 * Normalise a division code: leading/trailing blanks dropped, 6-digit
 * county-style codes (and 9-digit township codes) padded with zeros to 12
 * digits.  The code must nest: once a segment is zero, every later one
 * is zero too, and the province segment is not zero.  Returns 0 and the
 * code in out, or ENG_EINVAL with the reason in eb.
 */
int region_code_norm(const char *in, size_t len, char out[REGION_CODE_SIZE],
    struct eng_errbuf *eb);

/* Level of a normalised code (REGION_NONE if it is not one). */
enum region_level region_code_level(const char *code);

/*
 * The code of the enclosing region implied by the code itself, into out.
 * Returns 0, or ENG_ENOENT for a province (it has none).
 */
int region_code_parent(const char *code, char out[REGION_CODE_SIZE]);

/* Non-zero if code lies in the subtree of anc by its digits (itself
 * included).  Regions with an explicit non-nesting parent are judged by
 * the tree in the store, not here. */
int region_code_within(const char *code, const char *anc);

/* "province", "city", "county", "township", "village" (NULL for NONE). */
const char *region_level_name(enum region_level lvl);
/* 省, 市, 县, 乡, 村 */
const char *region_level_name_zh(enum region_level lvl);
/* Parse a level name (English); REGION_NONE if unknown. */
enum region_level region_level_parse(const char *s);

#endif /* ENGINE_REGION_H */
