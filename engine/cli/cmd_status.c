/*
 * engine/cli/cmd_status.c - `gong status`: GET /healthz.
 */
#include <stdio.h>
#include <string.h>

#include "engine/cli/cli.h"
#include "engine/cli/client.h"

static const char status_help[] =
    "usage: gong status [options]\n"
    "\n"
    "Show gongd's version, uptime, store state and roster counts.\n"
    "Exit status 0 when gongd is healthy, 3 when it cannot be reached,\n"
    "4 when it answers with an error (store unreachable).\n";

static void
print_uptime(FILE *f, long long s)
{
	if (s < 0)
		s = 0;
	if (s >= 86400)
		fprintf(f, "%lldd ", s / 86400);
	if (s >= 3600)
		fprintf(f, "%lldh ", s / 3600 % 24);
	if (s >= 60)
		fprintf(f, "%lldm ", s / 60 % 60);
	fprintf(f, "%llds", s % 60);
}

int
cli_status_print(FILE *f, const char *url, const struct json_t *doc)
{
	const json_t *counts = json_object_get(doc, "counts");
	char b[64];

	if (!json_is_object(doc) || !json_is_string(json_object_get(doc,
	    "status")))
		return cli_fail(CLI_SERVER, "gongd's /healthz answer has no "
		    "status");
	fprintf(f, "gongd at %s\n", url);
	fputs("  status:     ", f);
	cli_print_padded(f, cli_jstr(doc, "status", b, sizeof(b)), 0);
	fputs("\n  version:    ", f);
	cli_print_padded(f, cli_jstr(doc, "version", b, sizeof(b)), 0);
	fputs("\n  uptime:     ", f);
	print_uptime(f, cli_jint(doc, "uptime_s", 0));
	fputs("\n  store:      ", f);
	cli_print_padded(f, cli_jstr(doc, "store", b, sizeof(b)), 0);
	fputc('\n', f);
	if (json_is_object(counts))
		fprintf(f, "  regions:    %lld\n  responders: %lld\n"
		    "  devices:    %lld\n", cli_jint(counts, "regions", 0),
		    cli_jint(counts, "responders", 0),
		    cli_jint(counts, "devices", 0));
	return CLI_OK;
}

int
cli_status(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct cli_request rq = { .path = "/healthz",
	    .timeout_s = CLI_TIMEOUT_S };
	struct cli_answer a = { 0 };
	struct cli_client c;
	struct cli_opts o;
	const char *st;
	int ch, rv;

	cli_opts_init(&o, "status");
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, CLI_SHORTOPTS, longopts,
	    NULL)) != -1) {
		if (ch == 'h') {
			cli_usage(stdout, status_help);
			return CLI_OK;
		}
		if ((rv = cli_opts_handle(&o, ch, optarg, argv)) != CLI_OK)
			return rv;
	}
	if (optind < argc) {
		fprintf(stderr, "gong status: unexpected argument '%s'\n",
		    argv[optind]);
		return CLI_USAGE;
	}
	if ((rv = cli_client_init(&c, &o)) != CLI_OK)
		return rv;
	if ((rv = cli_request(&c, &rq, &a)) != CLI_OK)
		goto out;
	/* A sick gongd answers 503 with the same document. */
	st = json_string_value(json_object_get(a.json, "status"));
	if (st == NULL) {
		rv = cli_check(&c, &a);
		if (rv == CLI_OK)
			rv = cli_fail(CLI_SERVER, "gongd's /healthz answer "
			    "has no status");
		goto out;
	}
	if (o.json)
		cli_print_json(stdout, a.json);
	else if ((rv = cli_status_print(stdout, c.url, a.json)) != CLI_OK)
		goto out;
	rv = a.status == 200 && strcmp(st, "ok") == 0 ? CLI_OK : CLI_SERVER;
out:
	cli_answer_release(&a);
	return rv;
}
