/*
 * engine/err.c - error code table and the error buffer.
 */
#include "engine/err.h"

#include <stdarg.h>
#include <stdio.h>

const char *
eng_strerror(int err)
{
	switch (err) {
	case ENG_OK:
		return "success";
#define ENG_ERR_CASE(name, val, text) case name: return text;
	ENG_ERRORS(ENG_ERR_CASE)
#undef ENG_ERR_CASE
	}
	return "unknown error";
}

const char *
eng_errname(int err)
{
	switch (err) {
	case ENG_OK:
		return "ENG_OK";
#define ENG_ERR_NAME(name, val, text) case name: return #name;
	ENG_ERRORS(ENG_ERR_NAME)
#undef ENG_ERR_NAME
	}
	return "ENG_EUNKNOWN";
}

void
eng_errbuf_init(struct eng_errbuf *eb)
{
	eb->msg[0] = '\0';
}

int
eng_error(struct eng_errbuf *eb, int err, const char *fmt, ...)
{
	va_list ap;

	if (eb != NULL) {
		va_start(ap, fmt);
		(void)vsnprintf(eb->msg, sizeof(eb->msg), fmt, ap);
		va_end(ap);
	}
	return err;
}
