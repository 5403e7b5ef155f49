/*
 * engine/cli/cmd_roster.c - `gong roster generate`: the deterministic
 * roster generator (config/genroster.h) from the command line.  Local
 * work only; gongd is not involved.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config/genroster.h"
#include "engine/cli/cli.h"
#include "engine/cli/client.h"
#include "engine/region.h"

static const char roster_help[] =
    "usage: gong roster generate --out DIR [--villages N]\n"
    "           [--responders-per-village K] [--seed S] [--root CODE] "
    "[--demo]\n"
    "\n"
    "Write DIR/regions.csv, DIR/responders.csv and DIR/devices.csv: a\n"
    "plausible roster with unique test phone numbers.  The same options\n"
    "always give the same files.\n"
    "\n"
    "  --out DIR                   where to write (created if missing)\n"
    "  --villages N                villages in all (default 1000)\n"
    "  --responders-per-village K  responders per village (default 5)\n"
    "  --seed S                    random seed (default 1)\n"
    "  --root CODE                 province, city or county to fill\n"
    "                              (default 140400000000)\n"
    "  --demo                      the 长治市 demo layout (config/demo);\n"
    "                              other options still apply\n";

enum {
	OPT_OUT = CLI_OPT_FIRST_LOCAL,
	OPT_VILLAGES,
	OPT_RESPONDERS,
	OPT_SEED,
	OPT_ROOT,
	OPT_DEMO,
};

static int
parse_seed(const struct cli_opts *o, const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (*s == '\0' || *s == '-' || *end != '\0' || errno != 0) {
		fprintf(stderr, "gong %s: bad value for --seed: '%s'\n",
		    o->cmd, s);
		return CLI_USAGE;
	}
	*out = (uint64_t)v;
	return CLI_OK;
}

static void
report(const struct cli_opts *o, const char *dir,
    const struct genroster_stats *st)
{
	json_t *j;

	if (!o->json) {
		printf("wrote %s/regions.csv, responders.csv, devices.csv:\n"
		    "  regions:    %lu (%lu counties, %lu townships, "
		    "%lu villages)\n  responders: %lu\n  devices:    %lu\n",
		    dir, st->regions, st->counties, st->townships,
		    st->villages, st->responders, st->devices);
		return;
	}
	j = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "dir", dir,
	    "regions", (json_int_t)st->regions,
	    "counties", (json_int_t)st->counties,
	    "townships", (json_int_t)st->townships,
	    "villages", (json_int_t)st->villages,
	    "responders", (json_int_t)st->responders,
	    "devices", (json_int_t)st->devices);
	if (j != NULL)
		cli_print_json(stdout, j);
	json_decref(j);
}

int
cli_roster(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "out", required_argument, NULL, OPT_OUT },
		{ "villages", required_argument, NULL, OPT_VILLAGES },
		{ "responders-per-village", required_argument, NULL,
		    OPT_RESPONDERS },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "root", required_argument, NULL, OPT_ROOT },
		{ "demo", no_argument, NULL, OPT_DEMO },
		{ NULL, 0, NULL, 0 }
	};
	struct genroster_stats stats;
	struct genroster_opts g;
	struct eng_errbuf eb;
	struct cli_opts o;
	const char *out = NULL, *root = NULL;
	long villages = -1, per = -1;
	uint64_t seed = 0;
	int ch, rv, demo = 0, have_seed = 0;

	cli_opts_init(&o, "roster");
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, CLI_SHORTOPTS, longopts,
	    NULL)) != -1) {
		rv = CLI_OK;
		switch (ch) {
		case 'h':
			cli_usage(stdout, roster_help);
			return CLI_OK;
		case OPT_OUT:
			out = optarg;
			break;
		case OPT_VILLAGES:
			rv = cli_parse_long(&o, "villages", optarg, 1,
			    10000000L, &villages);
			break;
		case OPT_RESPONDERS:
			rv = cli_parse_long(&o, "responders-per-village",
			    optarg, 0, 1000, &per);
			break;
		case OPT_SEED:
			rv = parse_seed(&o, optarg, &seed);
			have_seed = 1;
			break;
		case OPT_ROOT:
			root = optarg;
			break;
		case OPT_DEMO:
			demo = 1;
			break;
		default:
			rv = cli_opts_handle(&o, ch, optarg, argv);
			break;
		}
		if (rv != CLI_OK)
			return rv;
	}
	if (argc - optind != 1 || strcmp(argv[optind], "generate") != 0) {
		fprintf(stderr, "gong roster: want 'generate'\n"
		    "Try 'gong roster --help'.\n");
		return CLI_USAGE;
	}
	if (out == NULL) {
		fprintf(stderr, "gong roster: --out DIR is required\n");
		return CLI_USAGE;
	}
	if (demo)
		genroster_opts_demo(&g);
	else
		genroster_opts_init(&g);
	if (villages > 0)
		g.villages = (unsigned long)villages;
	if (per >= 0)
		g.responders = (unsigned)per;
	if (have_seed)
		g.seed = seed;
	eng_errbuf_init(&eb);
	if (root != NULL && region_code_norm(root, strlen(root), g.root,
	    &eb) != 0) {
		fprintf(stderr, "gong roster: --root: %s\n", eb.msg);
		return CLI_USAGE;
	}
	if (mkdir(out, 0755) != 0 && errno != EEXIST)
		return cli_fail(CLI_LOCAL, "cannot create %s: %s", out,
		    strerror(errno));
	memset(&stats, 0, sizeof(stats));
	if ((rv = genroster_write_dir(&g, out, &stats, &eb)) != 0)
		return cli_fail(rv == ENG_EINVAL ? CLI_USAGE : CLI_LOCAL,
		    "%s", eb.msg);
	report(&o, out, &stats);
	return CLI_OK;
}
