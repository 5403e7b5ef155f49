/*
 * config/cfg_int.h - internals shared by config/cfg_*.c only.
 */
#ifndef CONFIG_CFG_INT_H
#define CONFIG_CFG_INT_H

#include <stddef.h>

#include "config/cfg.h"

struct cfg_node {
	enum cfg_kind kind;
	int plain;		/* scalar written without quotes */
	long line;		/* 1-based */
	long col;		/* 1-based */
	const char *file;	/* owned by the document */
	char *path;
	char *str;		/* scalar text */
	size_t slen;
	size_t n, alloc;
	struct cfg_node **keys;	/* map: key scalars */
	struct cfg_node **vals;	/* map values / sequence items */
};

struct cfg_doc {
	char *file;
	struct cfg_node *root;
	size_t nnodes;
};

/*
 * cfg_doc_parse(), except that errors that leave the tree whole (anchors,
 * aliases, tags, duplicate keys) still return 0 and *out, with *soft set
 * and the errors in diags, so that the caller can go on checking and
 * report everything at once.
 */
int cfg_doc_parse_soft(const char *buf, size_t len, const char *name,
    struct cfg_doc **out, int *soft, struct diag_list *diags);

/* Join base and rel into a fresh string ("./" prefixes of rel dropped);
 * rel returned copied if absolute or base is NULL.  NULL on ENOMEM. */
char *cfg_path_join(const char *base, const char *rel);

/* Levenshtein distance, capped: returns cap+1 as soon as it exceeds cap. */
size_t cfg_edit_distance(const char *a, const char *b, size_t cap);

#endif /* CONFIG_CFG_INT_H */
