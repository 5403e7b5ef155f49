/*
 * config/genroster_main.c - bin/gong-genroster: write generated rosters.
 *
 *   gong-genroster [--villages N] [--responders-per-village K] [--seed S]
 *                  [--root CODE] [--demo] --out DIR
 */
#include "config/genroster.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: gong-genroster [--villages N] [--responders-per-village K]"
	    "\n                      [--seed S] [--root CODE] [--demo] "
	    "--out DIR\n"
	    "\n"
	    "Writes DIR/regions.csv, DIR/responders.csv and DIR/devices.csv,\n"
	    "the same bytes for the same options.  --demo lays out 长治市\n"
	    "(140400000000) with its real counties; its defaults are\n"
	    "--villages %d --responders-per-village %d --seed %d.\n"
	    "Otherwise the defaults are 1000 villages, 5 responders, seed 1,\n"
	    "root 140400000000 (a province, city or county code).\n",
	    GENROSTER_DEMO_VILLAGES, GENROSTER_DEMO_RESPONDERS,
	    GENROSTER_DEMO_SEED);
}

static int
num(const char *opt, const char *s, unsigned long long max,
    unsigned long long *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (*s == '-' || *s == '\0')
		goto bad;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		goto bad;
	*out = v;
	return 0;
bad:
	fprintf(stderr, "gong-genroster: %s: invalid number '%s'\n", opt, s);
	return -1;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "villages", required_argument, NULL, 'n' },
		{ "responders-per-village", required_argument, NULL, 'k' },
		{ "seed", required_argument, NULL, 's' },
		{ "root", required_argument, NULL, 'r' },
		{ "demo", no_argument, NULL, 'd' },
		{ "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct genroster_opts o;
	struct genroster_stats st;
	struct eng_errbuf eb;
	unsigned long long v, nv = 0, nk = 0, ns = 0;
	int have_n = 0, have_k = 0, have_s = 0, demo = 0, ch, rv;
	const char *out = NULL, *root = NULL;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			if (num("--villages", optarg, 5000000, &v) != 0)
				return 2;
			nv = v;
			have_n = 1;
			break;
		case 'k':
			if (num("--responders-per-village", optarg, 50,
			    &v) != 0)
				return 2;
			nk = v;
			have_k = 1;
			break;
		case 's':
			if (num("--seed", optarg, UINT64_MAX, &v) != 0)
				return 2;
			ns = v;
			have_s = 1;
			break;
		case 'r':
			root = optarg;
			break;
		case 'd':
			demo = 1;
			break;
		case 'o':
			out = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || out == NULL) {
		usage(stderr);
		return 2;
	}
	if (demo)
		genroster_opts_demo(&o);
	else
		genroster_opts_init(&o);
	if (have_n)
		o.villages = (unsigned long)nv;
	if (have_k)
		o.responders = (unsigned)nk;
	if (have_s)
		o.seed = ns;
	eng_errbuf_init(&eb);
	if (root != NULL && region_code_norm(root, strlen(root), o.root,
	    &eb) != 0) {
		fprintf(stderr, "gong-genroster: --root: %s\n", eb.msg);
		return 2;
	}
	if ((rv = genroster_write_dir(&o, out, &st, &eb)) != 0) {
		fprintf(stderr, "gong-genroster: %s\n", eb.msg);
		return rv == ENG_EINVAL ? 2 : 1;
	}
	fprintf(stderr, "gong-genroster: %s: %lu regions (%lu counties, "
	    "%lu townships, %lu villages), %lu responders, %lu devices\n",
	    out, st.regions, st.counties, st.townships, st.villages,
	    st.responders, st.devices);
	return 0;
}
