/*
 * cap/cap_int.h - internals shared by the files of cap/.  Never included
 * from outside cap/.
 */
#ifndef CAP_CAP_INT_H
#define CAP_CAP_INT_H

#include <stddef.h>

#include "cap/cap.h"

/* Enumeration tables: names[i] is the CAP word for value i (NULL at 0). */
extern const char *const cap_status_names[];
extern const char *const cap_msgtype_names[];
extern const char *const cap_scope_names[];
extern const char *const cap_urgency_names[];
extern const char *const cap_severity_names[];
extern const char *const cap_certainty_names[];
extern const char *const cap_category_names[];
extern const char *const cap_response_names[];

/* Index of s in a NULL-terminated table starting at index first, or -1. */
int cap_enum_lookup(const char *const *names, size_t n, const char *s);

/* Free the contents of one time / pair. */
void cap_time_release(struct cap_time *t);

/*
 * Normalise the encoding of a document to UTF-8.  buf is the input; on
 * success *out is either NULL (buf is already valid UTF-8 and may be
 * used as is) or a malloc'd UTF-8 copy of *outlen bytes, with the XML
 * declaration's encoding unchanged (the parser is told to ignore it).
 * Invalid bytes: when lenient they are replaced by U+FFFD and a warning
 * is added; otherwise an error is added and ENG_EINVAL returned.
 */
int cap_enc_normalise(const char *buf, size_t len, int lenient,
    const char *file, char **out, size_t *outlen, struct diag_list *diags);

/* Write a double with the fewest digits that read back exactly. */
void cap_fmt_double(double v, char *buf, size_t size);

/* Signature check (cap/sig.c).  doc is an xmlDocPtr.  Returns 0 or
 * ENG_EPERM (ENG_ENOMEM) with the reason in eb. */
int cap_sig_verify(void *doc, const char *cert_file, struct eng_errbuf *eb);
int cap_sig_global_init(void);
void cap_sig_global_cleanup(void);

#endif /* CAP_CAP_INT_H */
