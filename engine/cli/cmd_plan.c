/*
 * engine/cli/cmd_plan.c - gong plan FILE: the dry run of a CAP message
 * (POST /api/v1/plan): who would be reached, through which channels, and
 * what they would read.  Nothing is stored.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cli/cli.h"
#include "engine/cli/client.h"

static const char plan_help[] =
    "usage: gong plan FILE [options]\n"
    "\n"
    "Plan the CAP message in FILE without sending or storing anything:\n"
    "gongd parses and validates it as 'gong send' would, resolves its\n"
    "area, and answers how many deliveries its routing would make (by\n"
    "level, channel and role), which devices would fire, who has no\n"
    "address on a channel, and one rendered text per kind of message.\n"
    "\n"
    "Exit status: 0 planned, 1 the CAP is invalid, 3 gongd unreachable,\n"
    "4 gongd failed, 5 token refused.\n";

/* Print the members of a {"name": count} object as "  name  count". */
static void
print_counts(FILE *f, const char *title, const json_t *obj)
{
	const char *k;
	json_t *v;
	size_t w = 0;

	if (!json_is_object(obj) || json_object_size(obj) == 0)
		return;
	json_object_foreach((json_t *)obj, k, v)
		if (cli_width(k) > w)
			w = cli_width(k);
	fprintf(f, "%s:\n", title);
	json_object_foreach((json_t *)obj, k, v) {
		fputs("  ", f);
		cli_print_padded(f, k, w);
		fprintf(f, "  %lld\n", (long long)json_integer_value(v));
	}
}

int
cli_plan_print(FILE *f, const json_t *doc)
{
	const json_t *smp, *x, *w;
	char b1[64], b2[64], b3[64], b4[64];
	size_t i;

	if (!json_is_object(doc) || !json_is_integer(json_object_get(doc,
	    "deliveries"))) {
		fprintf(stderr, "gong plan: gongd's answer has no plan\n");
		return CLI_SERVER;
	}
	fprintf(f, "DRY RUN: nothing was sent or stored.\n");
	fprintf(f, "%s %s, colour %s, would be %s%s\n",
	    cli_jstr(doc, "status", b1, sizeof(b1)),
	    cli_jstr(doc, "msg_type", b2, sizeof(b2)),
	    cli_jstr(doc, "colour", b3, sizeof(b3)),
	    cli_jstr(doc, "state", b4, sizeof(b4)),
	    json_is_true(json_object_get(doc, "area_unmatched")) ?
	    " (the area matches no region)" : "");
	if (json_is_integer(json_object_get(doc, "stored_id")))
		fprintf(f, "(already stored as alert %lld)\n",
		    cli_jint(doc, "stored_id", 0));
	fprintf(f, "regions %lld, deliveries %lld, people %lld (officers "
	    "above %lld), devices %lld, without an address %lld\n",
	    cli_jint(doc, "regions", 0), cli_jint(doc, "deliveries", 0),
	    cli_jint(doc, "people", 0), cli_jint(doc, "ancestors", 0),
	    cli_jint(doc, "devices", 0), cli_jint(doc, "no_address_total", 0));
	if (cli_jint(doc, "skipped_exercise", 0) > 0)
		fprintf(f, "not exercise participants: %lld\n",
		    cli_jint(doc, "skipped_exercise", 0));
	print_counts(f, "by level", json_object_get(doc, "by_level"));
	print_counts(f, "by channel", json_object_get(doc, "by_channel"));
	print_counts(f, "by role", json_object_get(doc, "by_role"));
	print_counts(f, "devices by kind",
	    json_object_get(doc, "devices_by_kind"));
	print_counts(f, "no address on channel",
	    json_object_get(doc, "no_address"));
	smp = json_object_get(doc, "samples");
	for (i = 0; json_is_array(smp) && i < json_array_size(smp); i++) {
		x = json_array_get(smp, i);
		fprintf(f, "--- %s via %s to %s (%s)", cli_jstr(x, "kind", b1,
		    sizeof(b1)), cli_jstr(x, "channel", b2, sizeof(b2)),
		    cli_jstr(x, "recipient", b3, sizeof(b3)),
		    json_is_string(json_object_get(x, "template")) ?
		    json_string_value(json_object_get(x, "template")) :
		    "built-in wording");
		if (cli_jint(x, "segments", 0) > 0)
			fprintf(f, ", %lld SMS part%s%s",
			    cli_jint(x, "segments", 0),
			    cli_jint(x, "segments", 0) > 1 ? "s" : "",
			    json_is_false(json_object_get(x, "fits")) ?
			    ", OVER BUDGET" : "");
		fprintf(f, "\n");
		if (strcmp(cli_jstr(x, "kind", b1, sizeof(b1)), "email") == 0)
			fprintf(f, "Subject: %s\n", json_string_value(
			    json_object_get(x, "subject")) ?
			    json_string_value(json_object_get(x, "subject")) :
			    "");
		fprintf(f, "%s\n", json_string_value(json_object_get(x,
		    "text")) ? json_string_value(json_object_get(x, "text")) :
		    "");
	}
	w = json_object_get(doc, "warnings");
	for (i = 0; json_is_array(w) && i < json_array_size(w); i++) {
		x = json_array_get(w, i);
		fprintf(f, "warning: %s: %s\n", cli_jstr(x, "path", b1,
		    sizeof(b1)), json_string_value(json_object_get(x,
		    "message")) ? json_string_value(json_object_get(x,
		    "message")) : "");
	}
	return CLI_OK;
}

int
cli_plan(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct cli_request rq = { .method = "POST", .path = "/api/v1/plan",
	    .content_type = "application/cap+xml",
	    .timeout_s = CLI_TIMEOUT_S };
	struct cli_answer a = { 0 };
	struct cli_client c;
	struct cli_opts o;
	int ch, rv;

	cli_opts_init(&o, "plan");
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, CLI_SHORTOPTS, longopts,
	    NULL)) != -1) {
		if (ch == 'h') {
			cli_usage(stdout, plan_help);
			return CLI_OK;
		}
		if ((rv = cli_opts_handle(&o, ch, optarg, argv)) != CLI_OK)
			return rv;
	}
	if (optind != argc - 1) {
		fprintf(stderr, "gong plan: %s\nTry 'gong plan --help'.\n",
		    optind >= argc ? "missing FILE" : "one FILE only");
		return CLI_USAGE;
	}
	if ((rv = cli_client_init(&c, &o)) != CLI_OK)
		return rv;
	rq.upload = argv[optind];
	if ((rv = cli_request(&c, &rq, &a)) != CLI_OK)
		goto out;
	if (a.status == 422 || a.status == 400 || a.status == 413 ||
	    a.status == 415) {
		/* About the file: say why, exit 1. */
		if (o.json && a.json != NULL)
			cli_print_json(stdout, a.json);
		else
			cli_print_error(stderr, a.status, a.json, a.body);
		rv = CLI_INVALID;
		goto out;
	}
	if ((rv = cli_check(&c, &a)) != CLI_OK)
		goto out;
	if (o.json) {
		if (a.json == NULL) {
			rv = cli_fail(CLI_SERVER, "gongd's answer is not JSON");
			goto out;
		}
		cli_print_json(stdout, a.json);
	} else
		rv = cli_plan_print(stdout, a.json);
out:
	cli_answer_release(&a);
	return rv;
}
