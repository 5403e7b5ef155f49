/*
 * tests/fuzz/fuzz_warning.c - libFuzzer target for the issuing form
 * (engine/warning.h): the JSON body read as a new warning, an update and
 * a cancel.  A form accepted (and passing warning_check) is built into
 * CAP, which must parse back strictly without a diagnostic - otherwise
 * the target aborts, so that the fuzzer reports it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "cap/cap.h"
#include "engine/diag.h"
#include "engine/err.h"
#include "engine/warning.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define NOW_MS	1784111400000LL

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	cap_global_init();
	return 0;
}

static void
one(const uint8_t *data, size_t size, int kind)
{
	static const char *const refs[] = {
		"gong@140400000000,140400000000-20260715183000-aaaa,"
		"2026-07-15T18:30:00+08:00"
	};
	struct warning w;
	struct warning_msg m = {
		.msg_type = kind == 'A' ? CAP_MSG_ALERT : kind == 'U' ?
		    CAP_MSG_UPDATE : CAP_MSG_CANCEL,
		.sender = "gong@140400000000",
		.identifier = "140400000000-20260715183000-1a2b3c4d",
		.sent_ms = NOW_MS, .utc_offset_min = 480,
		.refs = refs, .nrefs = kind == 'A' ? 0 : 1,
	};
	struct diag_list d;
	struct eng_errbuf eb;
	struct cap_alert *a = NULL;
	char *xml = NULL;
	size_t len;
	int rv;

	warning_init(&w);
	diag_list_init(&d);
	if (warning_parse((const char *)data, size, kind, NOW_MS, &w,
	    &d) != 0)
		goto out;
	if (kind == 'A' && warning_check(&w, NOW_MS, &d) != 0)
		goto out;
	if (kind != 'A')
		goto out;	/* no base to complete it */
	if ((rv = warning_to_xml(&w, &m, &xml, &len, &eb)) != 0) {
		if (rv != ENG_ENOMEM)
			abort();
		goto out;
	}
	diag_list_release(&d);
	if (cap_parse(xml, len, NULL, &a, &d, &eb) != 0 || d.n != 0) {
		fprintf(stderr, "built CAP refused: %s\n%s\n", eb.msg, xml);
		abort();
	}
out:
	cap_alert_free(a);
	free(xml);
	warning_release(&w);
	diag_list_release(&d);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	one(data, size, 'A');
	one(data, size, 'U');
	one(data, size, 'C');
	return 0;
}
