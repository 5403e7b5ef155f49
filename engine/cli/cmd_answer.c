/*
 * engine/cli/cmd_answer.c - `gong answer ID RESPONDER --reason TEXT
 * --by NAME [--note TEXT]`: a duty officer records, on a responder's
 * behalf (reached by phone, in person), that they answered an alert:
 * POST /api/v1/alerts/ID/answers with {"responder_id","reason","note",
 * "by"} (engine/api_officer.c).
 *
 * Exit status: 0 recorded, or already recorded (duplicate); 1 refused
 * (unknown alert or responder, the responder was not sent the alert, a
 * bad field); 2 usage; 3-5 as every command (unreachable, server error,
 * token).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/cli/cli.h"
#include "engine/cli/client.h"

enum {
	OPT_REASON = CLI_OPT_FIRST_LOCAL,
	OPT_NOTE,
	OPT_BY
};

static const char answer_help[] =
    "usage: gong answer ID RESPONDER --reason TEXT --by NAME [--note TEXT]\n"
    "                   [options]\n"
    "\n"
    "Record that RESPONDER (a responder id, e.g. 140425100201-1) answered\n"
    "alert ID, on their behalf: the duty officer reached them another way\n"
    "(by phone, in person).  The answer is kept with path \"officer\", who\n"
    "recorded it and why; it stops that person's escalation like any\n"
    "answer.  Recording the same again is harmless (a duplicate).\n"
    "\n"
    "  --reason TEXT      why, e.g. \"reached by phone 09:12\" (required)\n"
    "  --by NAME          who records it: the officer's name or id\n"
    "                     (required; gongd has no accounts yet)\n"
    "  --note TEXT        what the person said, if anything\n"
    "\n"
    "Exit status 0 recorded or already recorded; 1 refused (unknown alert,\n"
    "the person was not sent this alert, a bad field); 2 usage.\n";

int
cli_answer_parse(int argc, char **argv, struct cli_opts *o,
    struct cli_answer_args *aa)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "reason", required_argument, NULL, OPT_REASON },
		{ "note", required_argument, NULL, OPT_NOTE },
		{ "by", required_argument, NULL, OPT_BY },
		{ NULL, 0, NULL, 0 }
	};
	const char *missing = NULL;
	char *end;
	int ch, rv;

	memset(aa, 0, sizeof(*aa));
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, CLI_SHORTOPTS, longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'h':
			cli_usage(stdout, answer_help);
			return -1;
		case OPT_REASON:
			aa->reason = optarg;
			break;
		case OPT_NOTE:
			aa->note = optarg;
			break;
		case OPT_BY:
			aa->by = optarg;
			break;
		default:
			if ((rv = cli_opts_handle(o, ch, optarg, argv)) !=
			    CLI_OK)
				return rv;
			break;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, "gong answer: %s\nTry 'gong answer --help'.\n",
		    argc - optind < 1 ? "missing alert ID and RESPONDER" :
		    argc - optind < 2 ? "missing RESPONDER" :
		    "too many arguments");
		return CLI_USAGE;
	}
	errno = 0;
	aa->alert_id = strtoll(argv[optind], &end, 10);
	if (argv[optind][0] < '0' || argv[optind][0] > '9' || *end != '\0' ||
	    errno != 0 ||
	    aa->alert_id < 1) {
		fprintf(stderr, "gong answer: bad alert ID '%s' (want a number "
		    "from 1)\n", argv[optind]);
		return CLI_USAGE;
	}
	aa->responder = argv[optind + 1];
	if (aa->responder[0] == '\0') {
		fprintf(stderr, "gong answer: RESPONDER is empty\n");
		return CLI_USAGE;
	}
	if (aa->reason == NULL || aa->reason[0] == '\0')
		missing = "--reason";
	else if (aa->by == NULL || aa->by[0] == '\0')
		missing = "--by";
	if (missing != NULL) {
		fprintf(stderr, "gong answer: %s is required (and not empty)\n"
		    "Try 'gong answer --help'.\n", missing);
		return CLI_USAGE;
	}
	return CLI_OK;
}

char *
cli_answer_body(const struct cli_answer_args *aa)
{
	json_t *j;
	char *s;

	j = json_pack("{s:s,s:s,s:s}", "responder_id", aa->responder,
	    "reason", aa->reason, "by", aa->by);
	if (j == NULL)
		return NULL;
	if (aa->note != NULL &&
	    json_object_set_new(j, "note", json_string(aa->note)) != 0) {
		json_decref(j);
		return NULL;
	}
	s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	return s;
}

/* Statuses whose answer is about this request (the verdict says why). */
static int
about_request(long status)
{
	return (status >= 200 && status < 300) || status == 400 ||
	    status == 404 || status == 413 || status == 415 || status == 422;
}

int
cli_answer_print(FILE *out, FILE *err, long status, const struct json_t *doc,
    const char *body)
{
	char b1[32], b2[32];
	const char *name;

	if (status < 200 || status >= 300) {
		cli_print_error(err, status, doc, body);
		return about_request(status) ? CLI_INVALID :
		    cli_status_exit(status);
	}
	if (!json_is_object(doc) ||
	    !json_is_string(json_object_get(doc, "responder_id"))) {
		fprintf(err, "gong: error: gongd's answer (HTTP %ld) has no "
		    "responder_id\n", status);
		return CLI_SERVER;
	}
	fputs(json_is_true(json_object_get(doc, "duplicate")) ?
	    "already recorded: " : "recorded: ", out);
	name = cli_jstr(doc, "name", b1, sizeof(b1));
	if (*name != '\0') {
		cli_print_padded(out, name, 0);
		fputs(" (", out);
	}
	cli_print_padded(out, cli_jstr(doc, "responder_id", b1, sizeof(b1)),
	    0);
	fprintf(out, "%s answered alert ", *name != '\0' ? ")" : "");
	cli_print_padded(out, cli_jstr(doc, "alert_id", b2, sizeof(b2)), 0);
	fputs(", recorded by ", out);
	cli_print_padded(out, cli_jstr(doc, "recorded_by", b1, sizeof(b1)),
	    0);
	fputs(": ", out);
	cli_print_padded(out, cli_jstr(doc, "reason", b1, sizeof(b1)), 0);
	fputc('\n', out);
	if (json_is_true(json_object_get(doc, "late")))
		fputs("  late: the alert was no longer in force\n", out);
	return CLI_OK;
}

/* POST body (JSON) to path: the client uploads files, so through a
 * temporary file that is removed at once. */
static int
post_json(struct cli_client *c, const char *path, const char *body,
    struct cli_answer *a)
{
	struct cli_request rq = { .method = "POST", .path = path,
	    .content_type = "application/json", .timeout_s = CLI_TIMEOUT_S };
	const char *dir = getenv("TMPDIR");
	char tmp[512];
	size_t len = strlen(body);
	FILE *f;
	int fd, rv;

	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/gong-answer.XXXXXX",
	    dir) >= sizeof(tmp))
		return cli_fail(CLI_LOCAL, "TMPDIR is too long");
	if ((fd = mkstemp(tmp)) < 0)
		return cli_fail(CLI_LOCAL, "cannot create %s: %s", tmp,
		    strerror(errno));
	if ((f = fdopen(fd, "w")) == NULL) {
		rv = cli_fail(CLI_LOCAL, "cannot open %s: %s", tmp,
		    strerror(errno));
		close(fd);
		(void)unlink(tmp);
		return rv;
	}
	if (fwrite(body, 1, len, f) != len || fclose(f) != 0) {
		(void)unlink(tmp);
		return cli_fail(CLI_LOCAL, "cannot write %s", tmp);
	}
	rq.upload = tmp;
	rv = cli_request(c, &rq, a);
	(void)unlink(tmp);
	return rv;
}

int
cli_answer(int argc, char **argv)
{
	struct cli_answer_args aa;
	struct cli_answer a = { 0 };
	struct cli_client c;
	struct cli_opts o;
	char path[96], *body;
	int rv;

	cli_opts_init(&o, "answer");
	if ((rv = cli_answer_parse(argc, argv, &o, &aa)) != CLI_OK)
		return rv < 0 ? CLI_OK : rv;
	if ((rv = cli_client_init(&c, &o)) != CLI_OK)
		return rv;
	if ((body = cli_answer_body(&aa)) == NULL)
		return cli_fail(CLI_LOCAL, "out of memory");
	(void)snprintf(path, sizeof(path), "/api/v1/alerts/%lld/answers",
	    aa.alert_id);
	rv = post_json(&c, path, body, &a);
	free(body);
	if (rv != CLI_OK)
		goto out;
	if (!about_request(a.status)) {
		rv = cli_check(&c, &a);
	} else if (o.json && a.json != NULL) {
		cli_print_json(stdout, a.json);
		rv = a.status >= 200 && a.status < 300 ? CLI_OK : CLI_INVALID;
	} else {
		rv = cli_answer_print(stdout, stderr, a.status, a.json, a.body);
	}
out:
	cli_answer_release(&a);
	return rv;
}
