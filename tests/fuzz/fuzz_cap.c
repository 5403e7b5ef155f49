/*
 * tests/fuzz/fuzz_cap.c - libFuzzer target for the CAP parser, validator
 * and serialiser.
 *
 * Each input is parsed strictly, then leniently (and with the Chinese
 * profile); an accepted model is serialised, parsed again and must be
 * equal to the first - a difference aborts, so that the fuzzer reports
 * it as a crash.  The first input byte is not special: options come from
 * the length, to keep the corpus plain XML.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "cap/cap.h"
#include "engine/diag.h"
#include "engine/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	cap_global_init();
	return 0;
}

static void
one(const uint8_t *data, size_t size, int lenient, int cn)
{
	struct cap_opts o;
	struct diag_list dl;
	struct eng_errbuf eb;
	struct cap_alert *a = NULL, *b = NULL;
	char *xml = NULL, why[512];
	size_t len;

	cap_opts_init(&o);
	o.lenient = lenient;
	o.cn_profile = cn;
	o.max_bytes = 256 * 1024;
	diag_list_init(&dl);
	if (cap_parse(data, size, &o, &a, &dl, &eb) != 0)
		goto out;
	if (dl.nerrors != 0)
		abort();	/* accepted with errors */
	if (cap_alert_to_xml(a, &xml, &len, &eb) != 0)
		goto out;
	diag_list_release(&dl);
	o.lenient = 1;	/* CAP 1.0/1.1 models may need it */
	o.max_bytes = 16 * 1024 * 1024;
	if (cap_parse(xml, len, &o, &b, &dl, &eb) != 0) {
		fprintf(stderr, "serialised form rejected: %s\n%s\n", eb.msg,
		    xml);
		abort();
	}
	if (!cap_alert_equal(a, b, why, sizeof(why))) {
		fprintf(stderr, "round trip differs: %s\n%s\n", why, xml);
		abort();
	}
	(void)cap_alert_pick_info(a, NULL);
out:
	free(xml);
	cap_alert_free(a);
	cap_alert_free(b);
	diag_list_release(&dl);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	one(data, size, 0, 0);
	one(data, size, 1, (size & 1) != 0);
	return 0;
}
