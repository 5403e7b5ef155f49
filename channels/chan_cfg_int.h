/*
 * channels/chan_cfg_int.h - config readers the channel drivers share.
 *
 * Internal to channels/ (the *_int.h rule of STYLE.md): only the drivers
 * in this directory include it; the engine never does.  Each reader
 * reports what is wrong with the key through diags (cfg_error, with the
 * key's file:line), in the words the drivers always used: where drivers
 * word the same fault differently the caller picks its wording with a
 * flag, so that no operator-visible message changes.
 *
 * Ownership: strings and lists stored through out are heap copies the
 * caller owns (free / chan_cfg_strv_free); a previous *out is freed
 * when a new value replaces it, so *out must be NULL or a heap string.
 * Nothing here blocks or keeps state; all functions are thread-safe.
 */
#ifndef CHANNELS_CHAN_CFG_INT_H
#define CHANNELS_CHAN_CFG_INT_H

#include <stddef.h>

#include "engine/diag.h"

struct cfg_node;

/* What chan_cfg_text accepts in a value (one of the first five), and how
 * it words the length error. */
#define CHAN_TEXT_ANY		0x00	/* any bytes (UTF-8 allowed) */
#define CHAN_TEXT_ASCII		0x01	/* 0x20..0x7e: "printable ASCII" */
#define CHAN_TEXT_NOSPACE	0x02	/* 0x21..0x7e: "printable ASCII
					 * without spaces" */
#define CHAN_TEXT_NOBLANK	0x04	/* 0x21..0x7e: "printable ASCII
					 * without blanks" */
#define CHAN_TEXT_DIGITS	0x08	/* '0'..'9': "must be digits" */
#define CHAN_TEXT_CHARS		0x10	/* "1 to N characters", not "bytes" */

/*
 * The string key "key" of map cfg, 1 to max bytes, with what flags
 * allows.  Absent: returns 0 and leaves *out alone.  Present and good:
 * *out (freed first) becomes a copy.  Returns 0, ENG_EINVAL (the value
 * is bad: reported in diags, *out untouched), or ENG_ENOMEM.
 */
int chan_cfg_text(const struct cfg_node *cfg, const char *key, size_t max,
    unsigned flags, char **out, struct diag_list *diags);

/* What chan_cfg_url refuses besides a bad scheme, a missing host and
 * more than 1024 bytes. */
#define CHAN_URL_NO_QUERY	0x01	/* '?' or '#': "must not have a query
					 * or fragment (the driver adds the
					 * parameters)" */
#define CHAN_URL_NO_FRAGMENT	0x02	/* '#' or ' ': "must not have a
					 * fragment or spaces" */
#define CHAN_URL_NO_WS		0x04	/* with NO_FRAGMENT: tabs, CR and LF
					 * count as spaces */
#define CHAN_URL_QHOST		0x08	/* "http://?…" has no host */

/*
 * Checks the value s of cfg's key "url": http:// or https://, a host
 * (not "" nor starting with '/'), then what flags refuses, then at most
 * 1024 bytes; the first fault found is reported on the "url" node.
 * Returns 0, or ENG_EINVAL (reported in diags).  Copies nothing.
 */
int chan_cfg_url(const struct cfg_node *cfg, const char *s, unsigned flags,
    struct diag_list *diags);

/*
 * The sequence key "key" of cfg as a NULL-terminated list of 1 to max_n
 * strings of 1 to max_len bytes.  Bad items are reported and left out.
 * Absent: returns 0 and leaves *out alone.  Otherwise *out (freed with
 * chan_cfg_strv_free first) becomes the new list.  Returns 0, or
 * ENG_EINVAL (bad length of the list; *out untouched), or ENG_ENOMEM.
 */
int chan_cfg_strv(const struct cfg_node *cfg, const char *key, size_t max_n,
    size_t max_len, char ***out, struct diag_list *diags);

/* Frees a list from chan_cfg_strv and its strings; NULL is a no-op. */
void chan_cfg_strv_free(char **v);

#endif /* CHANNELS_CHAN_CFG_INT_H */
