/*
 * tests/unit/test_cap_samples.c - the shared real-world CAP samples.
 *
 * Reads $GONG_SHARED/cap-samples (default ../shared, relative to the repo
 * root, the tests' working directory):
 *   - every file of valid/ is accepted; strictly, unless MANIFEST.tsv's
 *     extended-schema column notes a deviation (EXT-INVALID), then as a
 *     lenient source;
 *   - every file of invalid/ is rejected with the specific error;
 *   - parse -> serialise -> parse gives an equal model for every valid
 *     file, and the serialised form of a strictly valid file is itself
 *     strictly valid CAP 1.2;
 *   - throughput: parse+validate vs a plain xmlReadMemory loop (printed,
 *     not asserted).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <libxml/parser.h>

#include "cap/cap.h"
#include "engine/diag.h"
#include "engine/err.h"

struct sample {
	char name[256];
	char *buf;
	size_t len;
	int lenient;
};

static struct sample samples[128];
static size_t nsamples;
static char dir[512];

static char *
slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *b;
	long n;

	if (fp == NULL)
		return NULL;
	if (fseek(fp, 0, SEEK_END) != 0 || (n = ftell(fp)) < 0) {
		fclose(fp);
		return NULL;
	}
	rewind(fp);
	if ((b = malloc((size_t)n + 1)) == NULL ||
	    fread(b, 1, (size_t)n, fp) != (size_t)n) {
		free(b);
		fclose(fp);
		return NULL;
	}
	b[n] = '\0';
	fclose(fp);
	*len = (size_t)n;
	return b;
}

/* Is valid/NAME noted in MANIFEST.tsv as deviating from the schema? */
static int
manifest_lenient(const char *manifest, const char *name)
{
	char key[300];
	const char *p, *eol;

	snprintf(key, sizeof(key), "valid/%s\t", name);
	if (manifest == NULL || (p = strstr(manifest, key)) == NULL)
		return 0;
	eol = strchr(p, '\n');
	if (eol == NULL)
		eol = p + strlen(p);
	/* the last column: the extended schema's verdict */
	while (eol > p && eol[-1] != '\t')
		eol--;
	return strncmp(eol, "EXT-INVALID", 11) == 0;
}

static int
cmp_sample(const void *a, const void *b)
{
	return strcmp(((const struct sample *)a)->name,
	    ((const struct sample *)b)->name);
}

static int
load(void **state)
{
	const char *shared = getenv("GONG_SHARED");
	char path[1024], *manifest;
	struct dirent *de;
	size_t mlen, n;
	DIR *d;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/cap-samples",
	    shared != NULL ? shared : "../shared");
	snprintf(path, sizeof(path), "%s/MANIFEST.tsv", dir);
	manifest = slurp(path, &mlen);
	snprintf(path, sizeof(path), "%s/valid", dir);
	if ((d = opendir(path)) == NULL) {
		fprintf(stderr, "cannot open %s\n", path);
		free(manifest);
		return -1;
	}
	while ((de = readdir(d)) != NULL && nsamples < 128) {
		struct sample *s = &samples[nsamples];

		n = strlen(de->d_name);
		if (n < 5 || strcmp(de->d_name + n - 4, ".xml") != 0)
			continue;
		snprintf(s->name, sizeof(s->name), "%s", de->d_name);
		snprintf(path, sizeof(path), "%s/valid/%s", dir, de->d_name);
		if ((s->buf = slurp(path, &s->len)) == NULL)
			continue;
		s->lenient = manifest_lenient(manifest, s->name);
		nsamples++;
	}
	closedir(d);
	free(manifest);
	qsort(samples, nsamples, sizeof(samples[0]), cmp_sample);
	return nsamples >= 40 ? 0 : -1;
}

static int
unload(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < nsamples; i++)
		free(samples[i].buf);
	return 0;
}

static void
dump(const struct diag_list *dl)
{
	char buf[1024];
	size_t i;

	for (i = 0; i < dl->n; i++)
		print_message("  %s\n", diag_format(&dl->v[i], buf,
		    sizeof(buf)));
}

static void
t_valid(void **state)
{
	struct cap_opts o;
	struct diag_list dl;
	struct cap_alert *a;
	size_t i, nlenient = 0;
	int rv, bad = 0;

	(void)state;
	for (i = 0; i < nsamples; i++) {
		cap_opts_init(&o);
		o.lenient = samples[i].lenient;
		o.source_name = samples[i].name;
		nlenient += (size_t)o.lenient;
		diag_list_init(&dl);
		rv = cap_parse(samples[i].buf, samples[i].len, &o, &a, &dl,
		    NULL);
		if (rv != 0 || a == NULL) {
			print_message("%s rejected (%s):\n", samples[i].name,
			    o.lenient ? "lenient" : "strict");
			dump(&dl);
			bad++;
		}
		cap_alert_free(a);
		diag_list_release(&dl);
	}
	assert_int_equal(bad, 0);
	/* the fah load-test messages and the NWS one with <references/> */
	assert_int_equal(nlenient, 6);
}

/* The deviating samples really deviate: strict rejects them, and why. */
static void
t_deviations_named(void **state)
{
	static const struct {
		const char *name;
		long line;
		const char *path;
		const char *msg;
	} want[] = {
		{ "us-nws__nwscp-IL-severe-thunderstorm-warning.xml", 25,
		  "/alert/references", "<references> is empty (give "
		  "sender,identifier,sent of each earlier message)" },
		{ "redcross-fah__fah-msg_test-public_en_of_nohp.xml", 5,
		  "/alert/sent", "\"2016-03-10T22:12:03.740\": the time has "
		  "no time-zone offset (read as UTC)" },
	};
	struct diag_list dl;
	struct cap_alert *a;
	size_t i, j, k;
	int found;

	(void)state;
	for (k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
		for (i = 0; i < nsamples; i++)
			if (strcmp(samples[i].name, want[k].name) == 0)
				break;
		assert_true(i < nsamples);
		assert_true(samples[i].lenient);
		diag_list_init(&dl);
		assert_int_equal(cap_parse(samples[i].buf, samples[i].len,
		    NULL, &a, &dl, NULL), ENG_EINVAL);
		found = 0;
		for (j = 0; j < dl.n; j++)
			if (dl.v[j].sev == DIAG_ERROR &&
			    dl.v[j].line == want[k].line &&
			    dl.v[j].path != NULL &&
			    strcmp(dl.v[j].path, want[k].path) == 0 &&
			    strcmp(dl.v[j].msg, want[k].msg) == 0)
				found = 1;
		if (!found)
			dump(&dl);
		assert_true(found);
		diag_list_release(&dl);
	}
}

static void
t_invalid(void **state)
{
	static const struct {
		const char *file;
		long line;
		const char *path;
		const char *msg;
	} want[] = {
		{ "synthetic__gcl-xxe-attack.xml", 3, NULL, "a DOCTYPE is "
		  "not allowed in CAP (DTDs and entities are refused)" },
		{ "us-nws__gcl-noaa-empty-references.xml", 13,
		  "/alert/references", "<references> is empty (give "
		  "sender,identifier,sent of each earlier message)" },
		{ "us-nws__gcl-noaa-empty-references.xml", 17,
		  "/alert/info[1]/urgency", "<urgency> is empty" },
		{ "us-nws__gcl-noaa-empty-references.xml", 18,
		  "/alert/info[1]/severity", "<severity> is empty" },
		{ "us-nws__gcl-noaa-empty-references.xml", 19,
		  "/alert/info[1]/certainty", "<certainty> is empty" },
		{ "us-nws__gcl-noaa-empty-references.xml", 66,
		  "/alert/info[1]/area[1]/polygon[1]", "\"+40.85,-118.09,\" "
		  "is not a point \"latitude,longitude\"" },
	};
	char path[1024], *buf;
	struct diag_list dl;
	struct cap_alert *a;
	size_t k, j, len;
	int found;

	(void)state;
	for (k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
		snprintf(path, sizeof(path), "%s/invalid/%s", dir,
		    want[k].file);
		buf = slurp(path, &len);
		assert_non_null(buf);
		diag_list_init(&dl);
		assert_int_equal(cap_parse(buf, len, NULL, &a, &dl, NULL),
		    ENG_EINVAL);
		assert_null(a);
		found = 0;
		for (j = 0; j < dl.n; j++)
			if (dl.v[j].sev == DIAG_ERROR &&
			    dl.v[j].line == want[k].line &&
			    ((want[k].path == NULL && dl.v[j].path == NULL) ||
			    (want[k].path != NULL && dl.v[j].path != NULL &&
			    strcmp(dl.v[j].path, want[k].path) == 0)) &&
			    strcmp(dl.v[j].msg, want[k].msg) == 0)
				found = 1;
		if (!found) {
			print_message("%s: want line %ld %s\n", want[k].file,
			    want[k].line, want[k].msg);
			dump(&dl);
		}
		assert_true(found);
		diag_list_release(&dl);
		free(buf);
	}
}

static void
t_round_trip(void **state)
{
	struct cap_opts o;
	struct diag_list dl;
	struct cap_alert *a, *b;
	char *xml, why[512];
	size_t i, len;
	int bad = 0;

	(void)state;
	for (i = 0; i < nsamples; i++) {
		cap_opts_init(&o);
		o.lenient = samples[i].lenient;
		diag_list_init(&dl);
		assert_int_equal(cap_parse(samples[i].buf, samples[i].len, &o,
		    &a, &dl, NULL), 0);
		diag_list_release(&dl);
		assert_int_equal(cap_alert_to_xml(a, &xml, &len, NULL), 0);
		/* what we write is CAP 1.2, strictly valid when the input
		 * was strictly valid 1.2 (1.0/1.1 may lack a mimeType) */
		if (a->version != CAP_V12)
			o.lenient = 1;
		b = NULL;
		if (cap_parse(xml, len, &o, &b, &dl, NULL) != 0) {
			print_message("%s: serialised form rejected:\n",
			    samples[i].name);
			dump(&dl);
			bad++;
		} else if (!cap_alert_equal(a, b, why, sizeof(why))) {
			print_message("%s: round trip differs: %s\n",
			    samples[i].name, why);
			bad++;
		} else
			assert_int_equal(b->version, CAP_V12);
		diag_list_release(&dl);
		cap_alert_free(a);
		cap_alert_free(b);
		free(xml);
	}
	assert_int_equal(bad, 0);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Not a pass/fail test: prints messages/s for both loops. */
static void
t_throughput(void **state)
{
	struct cap_opts o;
	struct diag_list dl;
	struct cap_alert *a;
	double t0, tcap, txml;
	size_t i, rounds = getenv("CAP_BENCH_ROUNDS") ?
	    (size_t)strtoul(getenv("CAP_BENCH_ROUNDS"), NULL, 10) : 20, r, n;
	xmlDocPtr doc;

	(void)state;
	n = rounds * nsamples;
	t0 = now_s();
	for (r = 0; r < rounds; r++)
		for (i = 0; i < nsamples; i++) {
			doc = xmlReadMemory(samples[i].buf,
			    (int)samples[i].len, NULL, NULL, XML_PARSE_NONET);
			assert_non_null(doc);
			xmlFreeDoc(doc);
		}
	txml = now_s() - t0;
	t0 = now_s();
	for (r = 0; r < rounds; r++)
		for (i = 0; i < nsamples; i++) {
			cap_opts_init(&o);
			o.lenient = samples[i].lenient;
			diag_list_init(&dl);
			assert_int_equal(cap_parse(samples[i].buf,
			    samples[i].len, &o, &a, &dl, NULL), 0);
			cap_alert_free(a);
			diag_list_release(&dl);
		}
	tcap = now_s() - t0;
	print_message("throughput over %zu messages: cap_parse %.0f msg/s, "
	    "xmlReadMemory %.0f msg/s, ratio %.2f\n", n, n / tcap, n / txml,
	    txml / tcap);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_valid),
		cmocka_unit_test(t_deviations_named),
		cmocka_unit_test(t_invalid),
		cmocka_unit_test(t_round_trip),
		cmocka_unit_test(t_throughput),
	};
	int rv;

	cap_global_init();
	rv = cmocka_run_group_tests_name("cap_samples", tests, load, unload);
	cap_global_cleanup();
	return rv;
}
