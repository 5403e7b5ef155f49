/*
 * cap/sig.c - XML signature check of a CAP message (xmlsec1, OpenSSL).
 */
#include "cap/cap_int.h"
#include "engine/err.h"

int
cap_sig_verify(void *doc, const char *cert_file, struct eng_errbuf *eb)
{
	(void)doc;
	(void)cert_file;
	return eng_error(eb, ENG_EPERM, "signature checking is not built");
}
