/*
 * engine/cli/cmd_report.c - `gong report ID` (an alert's 叫应 report:
 * per level, then per region as a tree) and `gong unanswered ID` (who
 * has not answered, with the last attempt), from
 * GET /api/v1/alerts/{id}/report and .../unanswered.  --json prints
 * gongd's JSON, --csv its CSV (UTF-8 with a BOM, for a spreadsheet).
 * Definitions of the numbers: engine/report.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cli/cli.h"
#include "engine/cli/client.h"

enum { OPT_CSV = CLI_OPT_FIRST_LOCAL };

static const char report_help[] =
    "usage: gong report ID [--json | --csv] [options]\n"
    "\n"
    "The answers (叫应) to the alert ID: for the whole alert, per level\n"
    "(city, county, township, village) and per region (each with the\n"
    "regions below it): people who must answer (targeted), reached\n"
    "(a delivery receipt, or an answer), answered, 叫应率 = answered /\n"
    "targeted, the median and 90th percentile of the time to answer\n"
    "(nearest rank, seconds from the first message) and unreachable.\n"
    "\n"
    "  --csv              print the per-region rows as CSV (UTF-8 with a\n"
    "                     byte order mark, for Excel)\n";

static const char unanswered_help[] =
    "usage: gong unanswered ID [--json | --csv] [options]\n"
    "\n"
    "Who has not answered the alert ID: name, role, phone, region, and the\n"
    "last attempt to reach them (channel, state, time, error).\n"
    "\n"
    "  --csv              print the list as CSV (UTF-8 with a byte order\n"
    "                     mark, for Excel)\n";

static int
parse(int argc, char **argv, struct cli_opts *o, const char *help, int *csv,
    long long *id)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "csv", no_argument, NULL, OPT_CSV },
		{ NULL, 0, NULL, 0 }
	};
	char *end;
	int ch, rv;

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, CLI_SHORTOPTS, longopts,
	    NULL)) != -1) {
		if (ch == 'h') {
			cli_usage(stdout, help);
			return -1;
		}
		if (ch == OPT_CSV) {
			*csv = 1;
			continue;
		}
		if ((rv = cli_opts_handle(o, ch, optarg, argv)) != CLI_OK)
			return rv;
	}
	if (*csv && o->json) {
		fprintf(stderr, "gong %s: --csv and --json exclude each other\n"
		    "Try 'gong %s --help'.\n", o->cmd, o->cmd);
		return CLI_USAGE;
	}
	if (argc - optind != 1) {
		fprintf(stderr, "gong %s: %s\nTry 'gong %s --help'.\n", o->cmd,
		    argc - optind < 1 ? "missing alert ID" :
		    "too many arguments", o->cmd);
		return CLI_USAGE;
	}
	errno = 0;
	*id = strtoll(argv[optind], &end, 10);
	if (argv[optind][0] == '\0' || *end != '\0' || errno != 0 || *id < 1) {
		fprintf(stderr, "gong %s: bad alert ID '%s' (want a number "
		    "from 1)\n", o->cmd, argv[optind]);
		return CLI_USAGE;
	}
	return CLI_OK;
}

/* ms as "12.345", or "-" for none. */
static const char *
secs(const json_t *counts, const char *key, char *buf, size_t size)
{
	const json_t *v = json_object_get(counts, key);
	long long ms;

	if (!json_is_integer(v))
		return "-";
	ms = (long long)json_integer_value(v);
	snprintf(buf, size, "%lld.%03lld", ms / 1000, ms % 1000);
	return buf;
}

static void
counts_row(FILE *f, const char *label, size_t width, const json_t *c)
{
	char b1[32], b2[32];
	const char *pct = json_string_value(json_object_get(c, "rate_pct"));

	cli_print_padded(f, label, width + 2);
	fprintf(f, "%9lld %8lld %9lld %8s %9s %9s %12lld\n",
	    cli_jint(c, "targeted", 0), cli_jint(c, "reached", 0),
	    cli_jint(c, "answered", 0), pct != NULL ? pct : "-",
	    secs(c, "p50_ms", b1, sizeof(b1)),
	    secs(c, "p90_ms", b2, sizeof(b2)),
	    cli_jint(c, "unreachable", 0));
}

static void
head_row(FILE *f, const char *first, size_t width)
{
	cli_print_padded(f, first, width + 2);
	fprintf(f, "%9s %8s %9s ", "TARGETED", "REACHED", "ANSWERED");
	/* 叫应率 is 6 columns wide in 9 bytes: pad by hand */
	fputs("  叫应率", f);
	fprintf(f, " %9s %9s %12s\n", "P50(s)", "P90(s)", "UNREACHABLE");
}

/* Label of a region row: indented by depth, "name code". */
static void
region_label(const json_t *g, char *buf, size_t size)
{
	long long d = cli_jint(g, "depth", 0);
	const char *name = json_string_value(json_object_get(g, "name"));
	const char *code = json_string_value(json_object_get(g, "code"));
	size_t n = 0;

	if (d < 0)
		d = 0;
	if (d > 10)
		d = 10;
	for (; d > 0 && n + 2 < size; d--) {
		buf[n++] = ' ';
		buf[n++] = ' ';
	}
	snprintf(buf + n, size - n, "%s %s", name != NULL ? name : "",
	    code != NULL ? code : "");
}

int
cli_report_print(FILE *f, const json_t *doc)
{
	const json_t *tot, *levels, *regions, *x;
	char label[256], b1[32], b2[32];
	const char *pct, *s;
	size_t i, w, width = 12;

	tot = json_object_get(doc, "totals");
	levels = json_object_get(doc, "levels");
	regions = json_object_get(doc, "regions");
	if (!json_is_object(tot) || !json_is_array(levels) ||
	    !json_is_array(regions))
		return cli_fail(CLI_SERVER, "gongd's report lacks totals, "
		    "levels or regions");
	fprintf(f, "Alert %lld", cli_jint(doc, "alert_id", 0));
	if ((s = json_string_value(json_object_get(doc, "state"))) != NULL)
		fprintf(f, " (%s)", s);
	if ((s = json_string_value(json_object_get(doc, "headline"))) != NULL)
		fprintf(f, " %s", s);
	fputc('\n', f);
	pct = json_string_value(json_object_get(tot, "rate_pct"));
	fprintf(f, "叫应率 %s (%lld of %lld answered), reached %lld, "
	    "unreachable %lld, late %lld, p50 %s s, p90 %s s\n",
	    pct != NULL ? pct : "-", cli_jint(tot, "answered", 0),
	    cli_jint(tot, "targeted", 0), cli_jint(tot, "reached", 0),
	    cli_jint(tot, "unreachable", 0), cli_jint(tot, "late", 0),
	    secs(tot, "p50_ms", b1, sizeof(b1)),
	    secs(tot, "p90_ms", b2, sizeof(b2)));
	if (cli_jint(tot, "targeted", 0) == 0)
		fputs("Nobody must answer this alert (yet): its people are "
		    "listed once its plan is complete.\n", f);

	for (i = 0; i < json_array_size(regions); i++) {
		region_label(json_array_get(regions, i), label, sizeof(label));
		if ((w = cli_width(label)) > width)
			width = w;
	}
	fputs("\nBy level\n", f);
	head_row(f, "LEVEL", width);
	for (i = 0; i < json_array_size(levels); i++) {
		x = json_array_get(levels, i);
		snprintf(label, sizeof(label), "%s (%s)",
		    cli_jstr(x, "level", b1, sizeof(b1)),
		    cli_jstr(x, "level_zh", b2, sizeof(b2)));
		counts_row(f, label, width, json_object_get(x, "counts"));
	}
	if (json_array_size(regions) == 0)
		return CLI_OK;
	fputs("\nBy region (each with the regions below it)\n", f);
	head_row(f, "REGION", width);
	for (i = 0; i < json_array_size(regions); i++) {
		x = json_array_get(regions, i);
		region_label(x, label, sizeof(label));
		counts_row(f, label, width, json_object_get(x, "subtree"));
	}
	return CLI_OK;
}

int
cli_unanswered_print(FILE *f, const json_t *doc)
{
	static const char *const heads[] = {
		"NAME", "ROLE", "PHONE", "REGION", "LAST ATTEMPT"
	};
	const json_t *list, *u, *la;
	char cells[5][320], b1[64], b2[64], b3[64];
	size_t widths[5], i, k, w;
	const char *s;

	list = json_object_get(doc, "unanswered");
	if (!json_is_array(list))
		return cli_fail(CLI_SERVER, "gongd's answer lacks unanswered");
	fprintf(f, "Alert %lld: %lld not answered\n",
	    cli_jint(doc, "alert_id", 0), cli_jint(doc, "total", 0));
	if (json_array_size(list) == 0)
		return CLI_OK;
	for (k = 0; k < 5; k++)
		widths[k] = cli_width(heads[k]);
	/* Two passes: widths, then the rows. */
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			for (k = 0; k < 5; k++)
				cli_print_padded(f, heads[k], k < 4 ?
				    widths[k] + 2 : 0);
			fputc('\n', f);
		}
		for (i = 0; i < json_array_size(list); i++) {
			u = json_array_get(list, i);
			snprintf(cells[0], sizeof(cells[0]), "%s",
			    cli_jstr(u, "name", b1, sizeof(b1)));
			snprintf(cells[1], sizeof(cells[1]), "%s",
			    cli_jstr(u, "role", b1, sizeof(b1)));
			snprintf(cells[2], sizeof(cells[2]), "%s",
			    cli_jstr(u, "phone", b1, sizeof(b1)));
			snprintf(cells[3], sizeof(cells[3]), "%s %s",
			    cli_jstr(json_object_get(u, "region"), "name", b1,
			    sizeof(b1)), cli_jstr(json_object_get(u, "region"),
			    "code", b2, sizeof(b2)));
			la = json_object_get(u, "last_attempt");
			if (!json_is_object(la)) {
				snprintf(cells[4], sizeof(cells[4]), "%s",
				    "none");
			} else {
				s = json_string_value(json_object_get(la,
				    "error"));
				snprintf(cells[4], sizeof(cells[4]),
				    "%s %s %s%s%s",
				    cli_jstr(la, "channel", b1, sizeof(b1)),
				    cli_jstr(la, "state", b2, sizeof(b2)),
				    cli_local_time(json_string_value(
				    json_object_get(la, "at")), b3, sizeof(b3)),
				    s != NULL ? ": " : "", s != NULL ? s : "");
			}
			/* one line a person: no newline from the data */
			for (k = 0; k < 5; k++) {
				char *p;

				for (p = cells[k]; *p != '\0'; p++)
					if (*p == '\n' || *p == '\r' ||
					    *p == '\t')
						*p = ' ';
				if (pass == 0) {
					if ((w = cli_width(cells[k])) >
					    widths[k])
						widths[k] = w;
				} else {
					cli_print_padded(f, cells[k], k < 4 ?
					    widths[k] + 2 : 0);
				}
			}
			if (pass == 1)
				fputc('\n', f);
		}
	}
	return CLI_OK;
}

static int
run(int argc, char **argv, const char *cmd, const char *help,
    const char *what, int (*print)(FILE *, const json_t *))
{
	struct cli_request rq = { .timeout_s = CLI_TIMEOUT_S };
	struct cli_answer a = { 0 };
	struct cli_client c;
	struct cli_opts o;
	char path[128];
	long long id;
	int rv, csv = 0;

	cli_opts_init(&o, cmd);
	if ((rv = parse(argc, argv, &o, help, &csv, &id)) != CLI_OK)
		return rv < 0 ? CLI_OK : rv;
	if ((rv = cli_client_init(&c, &o)) != CLI_OK)
		return rv;
	snprintf(path, sizeof(path), "/api/v1/alerts/%lld/%s%s", id, what,
	    csv ? "?format=csv" : "");
	rq.path = path;
	if (csv) {
		rq.download = stdout;
		rv = cli_call(&c, &rq, &a);
		fflush(stdout);
		goto out;
	}
	if ((rv = cli_call(&c, &rq, &a)) != CLI_OK)
		goto out;
	if (a.json == NULL) {
		rv = cli_fail(CLI_SERVER, "gongd's answer is not JSON");
		goto out;
	}
	if (o.json)
		cli_print_json(stdout, a.json);
	else
		rv = print(stdout, a.json);
out:
	cli_answer_release(&a);
	return rv;
}

int
cli_report(int argc, char **argv)
{
	return run(argc, argv, "report", report_help, "report",
	    cli_report_print);
}

int
cli_unanswered(int argc, char **argv)
{
	return run(argc, argv, "unanswered", unanswered_help, "unanswered",
	    cli_unanswered_print);
}
