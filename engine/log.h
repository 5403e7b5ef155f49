/*
 * engine/log.h - one line per event, key=value, to stderr.
 *
 *   log_info("http.listen", "addr=%s port=%u", host, port);
 * prints
 *   ts=2026-11-26T07:30:00.123Z level=info event=http.listen addr=... port=...
 *
 * Values that may hold spaces or quotes must go through log_q(), which
 * quotes them.  Thread-safe: each line is written with one write(2).
 */
#ifndef ENGINE_LOG_H
#define ENGINE_LOG_H

#include <stddef.h>

enum log_level {
	LOG_LVL_DEBUG = 0,
	LOG_LVL_INFO = 1,
	LOG_LVL_WARN = 2,
	LOG_LVL_ERROR = 3,
};

/* Set the lowest level written (default info). */
void log_set_level(enum log_level lvl);
/* Parse "debug", "info", "warn", "error"; returns 0 or ENG_EINVAL. */
int log_level_parse(const char *s, enum log_level *out);
int log_enabled(enum log_level lvl);

void log_write(enum log_level lvl, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(ev, ...) log_write(LOG_LVL_DEBUG, ev, __VA_ARGS__)
#define log_info(ev, ...)  log_write(LOG_LVL_INFO, ev, __VA_ARGS__)
#define log_warn(ev, ...)  log_write(LOG_LVL_WARN, ev, __VA_ARGS__)
#define log_error(ev, ...) log_write(LOG_LVL_ERROR, ev, __VA_ARGS__)

/*
 * Quote s for a log value into buf: "..." with \" \\ \n escaped, cut to
 * fit.  Returns buf.
 */
const char *log_q(const char *s, char *buf, size_t size);

#endif /* ENGINE_LOG_H */
