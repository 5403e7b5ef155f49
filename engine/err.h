/*
 * engine/err.h - gong's error codes and the error buffer.
 *
 * Every function that can fail returns int: 0 on success or a negative
 * enum eng_err value.  Detail text goes into a caller-provided
 * struct eng_errbuf; there is no global error state.  The table is one
 * X-macro so that codes, names and messages never drift apart.
 */
#ifndef ENGINE_ERR_H
#define ENGINE_ERR_H

#include <stddef.h>

#define ENG_ERRORS(X)                                                   \
	X(ENG_ENOMEM,    -1, "out of memory")                           \
	X(ENG_EINVAL,    -2, "invalid input")                           \
	X(ENG_EIO,       -3, "input/output error")                      \
	X(ENG_ETIMEDOUT, -4, "timed out")                               \
	X(ENG_ETEMP,     -5, "temporary failure, retry later")          \
	X(ENG_EPERM,     -6, "permanent failure, do not retry")         \
	X(ENG_ENOENT,    -7, "not found")                               \
	X(ENG_EEXIST,    -8, "already exists")                          \
	X(ENG_ETOOBIG,   -9, "too large")                               \
	X(ENG_EBUSY,    -10, "busy")                                    \
	X(ENG_EAUTH,    -11, "not authorised")

enum eng_err {
	ENG_OK = 0,
#define ENG_ERR_ENUM(name, val, text) name = (val),
	ENG_ERRORS(ENG_ERR_ENUM)
#undef ENG_ERR_ENUM
};

/* Short human text for an error code; never NULL, static storage. */
const char *eng_strerror(int err);
/* Symbolic name ("ENG_EINVAL") of an error code; never NULL. */
const char *eng_errname(int err);

#define ENG_ERRBUF_SIZE 512

/* Detail text for the last failure of a call.  Zero-initialise or call
 * eng_errbuf_init(); a callee that fails fills msg. */
struct eng_errbuf {
	char msg[ENG_ERRBUF_SIZE];
};

void eng_errbuf_init(struct eng_errbuf *eb);

/*
 * Format detail into eb (if eb is not NULL) and return err, so that a
 * failure path reads  return eng_error(eb, ENG_EINVAL, "bad %s", x);
 */
int eng_error(struct eng_errbuf *eb, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif /* ENGINE_ERR_H */
