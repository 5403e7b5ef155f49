/*
 * engine/cli/cmd_import.c - `gong import KIND FILE`: POST a roster CSV to
 * /api/v1/import/KIND.  gongd checks every row; a file with any bad row
 * changes nothing and every error is printed as file:line: column: why.
 */
#include <stdio.h>
#include <string.h>

#include "engine/cli/cli.h"
#include "engine/cli/client.h"

static const char import_help[] =
    "usage: gong import regions|responders|devices FILE [--encoding E] "
    "[--dry-run]\n"
    "\n"
    "Import a roster CSV into gongd, all or nothing: if any row is bad,\n"
    "nothing changes and every bad row is printed as file:line: column:\n"
    "reason (exit status 1).\n"
    "\n"
    "  --encoding E       auto (default), utf-8 or gbk\n"
    "  --dry-run          check everything, change nothing\n";

enum {
	OPT_ENCODING = CLI_OPT_FIRST_LOCAL,
	OPT_DRY_RUN,
};

static int
one_of(const char *s, const char *const *v)
{
	for (; *v != NULL; v++)
		if (strcmp(s, *v) == 0)
			return 1;
	return 0;
}

int
cli_import_print(FILE *f, const struct json_t *doc)
{
	const json_t *dry = json_object_get(doc, "dry_run");
	char b1[64], b2[64];

	if (!json_is_object(doc) || json_object_get(doc, "rows") == NULL)
		return cli_fail(CLI_SERVER, "gongd's answer has no row count");
	fprintf(f, "%s ", json_is_true(dry) ? "checked" : "imported");
	cli_print_padded(f, cli_jstr(doc, "kind", b1, sizeof(b1)), 0);
	fputs(" from ", f);
	cli_print_padded(f, cli_jstr(doc, "file", b2, sizeof(b2)), 0);
	fprintf(f, ": %lld rows, %lld inserted, %lld updated%s\n",
	    cli_jint(doc, "rows", 0), cli_jint(doc, "inserted", 0),
	    cli_jint(doc, "updated", 0),
	    json_is_true(dry) ? " (dry run: nothing changed)" : "");
	return CLI_OK;
}

int
cli_import(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "encoding", required_argument, NULL, OPT_ENCODING },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ NULL, 0, NULL, 0 }
	};
	static const char *const kinds[] = {
		"regions", "responders", "devices", NULL
	};
	static const char *const encodings[] = {
		"auto", "utf-8", "gbk", NULL
	};
	struct cli_request rq = { .method = "POST",
	    .content_type = "text/csv", .timeout_s = 0 };
	struct cli_answer a = { 0 };
	struct cli_client c;
	struct cli_opts o;
	const char *enc = "auto", *kind, *file, *base;
	char path[128];
	int ch, rv, dry = 0;

	cli_opts_init(&o, "import");
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, CLI_SHORTOPTS, longopts,
	    NULL)) != -1) {
		rv = CLI_OK;
		if (ch == 'h') {
			cli_usage(stdout, import_help);
			return CLI_OK;
		} else if (ch == OPT_ENCODING)
			enc = optarg;
		else if (ch == OPT_DRY_RUN)
			dry = 1;
		else
			rv = cli_opts_handle(&o, ch, optarg, argv);
		if (rv != CLI_OK)
			return rv;
	}
	if (argc - optind != 2) {
		fprintf(stderr, "gong import: want KIND and FILE\n"
		    "Try 'gong import --help'.\n");
		return CLI_USAGE;
	}
	kind = argv[optind];
	file = argv[optind + 1];
	if (!one_of(kind, kinds)) {
		fprintf(stderr, "gong import: unknown kind '%s' (want regions, "
		    "responders or devices)\n", kind);
		return CLI_USAGE;
	}
	if (strcmp(enc, "utf8") == 0)
		enc = "utf-8";
	if (!one_of(enc, encodings)) {
		fprintf(stderr, "gong import: unknown encoding '%s' (want "
		    "auto, utf-8 or gbk)\n", enc);
		return CLI_USAGE;
	}
	base = strrchr(file, '/') != NULL ? strrchr(file, '/') + 1 : file;
	snprintf(path, sizeof(path), "/api/v1/import/%s?encoding=%s"
	    "&dry_run=%d", kind, enc, dry);
	rq.path = path;
	rq.upload = file;
	rq.upload_name = *base != '\0' ? base : file;
	if ((rv = cli_client_init(&c, &o)) != CLI_OK)
		return rv;
	if ((rv = cli_call(&c, &rq, &a)) != CLI_OK)
		goto out;
	if (a.json == NULL)
		rv = cli_fail(CLI_SERVER, "gongd's answer is not JSON");
	else if (o.json)
		cli_print_json(stdout, a.json);
	else
		rv = cli_import_print(stdout, a.json);
out:
	cli_answer_release(&a);
	return rv;
}
