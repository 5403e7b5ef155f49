/*
 * cap/sig.c - XML signature check of a CAP message (xmlsec1, OpenSSL).
 *
 * The trusted certificate is the signer's: its public key must verify
 * the enveloped ds:Signature directly under <alert>.  References may only
 * point into the same document (URI="" or "#id"): xmlsec never fetches
 * anything.  Certificates carried in the message's KeyInfo are ignored,
 * so a message signed by anyone else fails.
 */
#include "cap/cap_int.h"
#include "engine/err.h"

#include <libxml/tree.h>
#include <xmlsec/xmlsec.h>
#include <xmlsec/xmltree.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/crypto.h>
#include <xmlsec/errors.h>

static int sig_ready;

static void
quiet(const char *file, int line, const char *func, const char *obj,
    const char *subj, int reason, const char *msg)
{
	(void)file;
	(void)line;
	(void)func;
	(void)obj;
	(void)subj;
	(void)reason;
	(void)msg;
}

int
cap_sig_global_init(void)
{
	if (sig_ready)
		return 0;
	if (xmlSecInit() < 0)
		return ENG_EIO;
	if (xmlSecCheckVersion() != 1 || xmlSecCryptoAppInit(NULL) < 0 ||
	    xmlSecCryptoInit() < 0) {
		xmlSecShutdown();
		return ENG_EIO;
	}
	xmlSecErrorsSetCallback(quiet);
	sig_ready = 1;
	return 0;
}

void
cap_sig_global_cleanup(void)
{
	if (!sig_ready)
		return;
	xmlSecCryptoShutdown();
	xmlSecCryptoAppShutdown();
	xmlSecShutdown();
	sig_ready = 0;
}

int
cap_sig_verify(void *vdoc, const char *cert_file, struct eng_errbuf *eb)
{
	xmlDocPtr doc = vdoc;
	xmlNodePtr root, node = NULL, c;
	xmlSecDSigCtxPtr ctx = NULL;
	xmlSecKeyPtr key = NULL;
	int rv;

	if (cert_file == NULL)
		return eng_error(eb, ENG_EPERM, "no trusted certificate is "
		    "configured for this source");
	if ((rv = cap_sig_global_init()) != 0)
		return eng_error(eb, ENG_EPERM, "cannot initialise xmlsec");
	root = xmlDocGetRootElement(doc);
	for (c = root != NULL ? root->children : NULL; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE && c->ns != NULL &&
		    xmlStrEqual(c->name, xmlSecNodeSignature) &&
		    xmlStrEqual(c->ns->href, xmlSecDSigNs)) {
			node = c;
			break;
		}
	if (node == NULL)
		return eng_error(eb, ENG_EPERM, "the message is not signed");
	key = xmlSecCryptoAppKeyLoad(cert_file, xmlSecKeyDataFormatCertPem,
	    NULL, NULL, NULL);
	if (key == NULL) {
		rv = eng_error(eb, ENG_EPERM, "cannot load the trusted "
		    "certificate %s", cert_file);
		goto out;
	}
	if ((ctx = xmlSecDSigCtxCreate(NULL)) == NULL) {
		rv = eng_error(eb, ENG_ENOMEM, "out of memory (xmlsec)");
		goto out;
	}
	ctx->signKey = key;
	key = NULL;
	ctx->enabledReferenceUris = xmlSecTransformUriTypeEmpty |
	    xmlSecTransformUriTypeSameDocument;
	if (xmlSecDSigCtxVerify(ctx, node) < 0) {
		rv = eng_error(eb, ENG_EPERM, "the signature cannot be "
		    "checked (malformed ds:Signature)");
		goto out;
	}
	if (ctx->status != xmlSecDSigStatusSucceeded) {
		rv = eng_error(eb, ENG_EPERM, "the signature does not verify "
		    "with the trusted certificate (tampered or signed by "
		    "someone else)");
		goto out;
	}
	rv = 0;
out:
	if (key != NULL)
		xmlSecKeyDestroy(key);
	if (ctx != NULL)
		xmlSecDSigCtxDestroy(ctx);
	return rv;
}
