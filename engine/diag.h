/*
 * engine/diag.h - a list of diagnostics (errors and warnings) about an
 * input: a config file, a roster CSV, a CAP document.
 *
 * Each diagnostic names where the problem is (file, line, a path such as
 * "/alert/info[2]/area[1]/polygon" or a config key, or a CSV column) and
 * what is wrong.  Lists are capped (max) so that hostile input cannot make
 * the report itself unbounded; the number of dropped entries is counted.
 *
 * Ownership: the list owns copies of every string; diag_list_release()
 * frees them.  Not thread-safe; one list per caller.
 */
#ifndef ENGINE_DIAG_H
#define ENGINE_DIAG_H

#include <stddef.h>

enum diag_sev {
	DIAG_ERROR = 0,
	DIAG_WARNING = 1,
};

struct diag {
	enum diag_sev sev;
	char *file;	/* may be NULL */
	long line;	/* 1-based; 0 when unknown */
	char *path;	/* element path, config key or column; may be NULL */
	char *msg;	/* never NULL */
};

struct diag_list {
	struct diag *v;
	size_t n;
	size_t alloc;
	size_t max;		/* 0: DIAG_DEFAULT_MAX */
	size_t dropped;		/* entries not kept because of max */
	size_t nerrors;		/* errors added, dropped ones included */
	size_t nwarnings;	/* warnings added, dropped ones included */
};

#define DIAG_DEFAULT_MAX 1000

/* Initialise an empty list (no allocation). */
void diag_list_init(struct diag_list *l);
/* Free every entry; the list is empty and reusable afterwards. */
void diag_list_release(struct diag_list *l);

/*
 * Append one diagnostic.  file and path may be NULL.  Returns 0, or
 * ENG_ENOMEM (the counters are still updated so that a failure to record
 * an error never turns an invalid input into a valid one).
 */
int diag_add(struct diag_list *l, enum diag_sev sev, const char *file,
    long line, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* Move every entry of src to the end of dst, demoting errors to warnings
 * when demote is non-zero (lenient sources).  src is left empty. */
int diag_list_move(struct diag_list *dst, struct diag_list *src, int demote);

/*
 * Format one diagnostic as "file:line: error: path: message" into buf
 * (truncated to fit, always NUL-terminated).  Returns buf.
 */
char *diag_format(const struct diag *d, char *buf, size_t size);

#endif /* ENGINE_DIAG_H */
