/*
 * engine/cli/cmd_issue.c - issuing from the command line: gong issue,
 * gong update ID, gong cancel ID (POST /api/v1/warnings, .../{id}/update,
 * .../{id}/cancel; --dry-run asks for the dry run, the console preview's
 * counts and texts), and the second officer's gong pending, gong approve
 * PID, gong reject PID.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/cli/cli.h"
#include "engine/cli/client.h"

static const char issue_help[] =
    "usage: gong issue --event EVENT --colour COLOUR --region CODE\n"
    "                  [--region CODE ...] --headline TEXT --expires TIME\n"
    "                  [--description TEXT] [--instruction TEXT]\n"
    "                  [--onset TIME] [--polygon 'LAT,LON LAT,LON ...']\n"
    "                  [--severity S --urgency U --certainty C]\n"
    "                  [--language zh-CN|en] [--category Met]\n"
    "                  [--sender-name NAME] [--exercise] [--dry-run]\n"
    "       gong update ID [the same fields, only those that change]\n"
    "                  [--actual|--exercise] [--dry-run]\n"
    "       gong cancel ID [--reason TEXT] [--dry-run]\n"
    "\n"
    "Issue a warning: gongd builds a CAP 1.2 message from the fields\n"
    "(colour blue, yellow, orange or red; TIME is RFC 3339 or +6h, +30m,\n"
    "+2d from now) and takes it in like any CAP message.  update and\n"
    "cancel refer to the chain of alert ID.  --dry-run stores nothing and\n"
    "prints who would be reached per level, channel and role and one\n"
    "rendered text per kind of message (the console's preview).  A colour\n"
    "that needs a second officer's approval is kept pending: gong approve\n"
    "PID by another officer.\n"
    "\n"
    "Exit status: 0 done (or pending approval), 1 refused (a bad field,\n"
    "already cancelled), 2 usage, 3 gongd unreachable, 4 gongd failed,\n"
    "5 not allowed, 6 no such alert.\n";

static const char approve_help[] =
    "usage: gong pending [--state pending|approved|rejected|all]\n"
    "       gong approve PID\n"
    "       gong reject PID [--reason TEXT]\n"
    "\n"
    "Warnings waiting for a second officer's approval (issuing.approval):\n"
    "list them, approve one (it is then taken in and sent) or reject it.\n"
    "The officer who issued it cannot approve it.\n"
    "\n"
    "Exit status: 0 done, 1 refused (already decided), 2 usage,\n"
    "3 gongd unreachable, 4 gongd failed, 5 not allowed, 6 no such PID.\n";

enum {
	O_EVENT = CLI_OPT_FIRST_LOCAL, O_COLOUR, O_REGION, O_POLYGON,
	O_HEADLINE, O_DESCRIPTION, O_INSTRUCTION, O_ONSET, O_EXPIRES,
	O_SEVERITY, O_URGENCY, O_CERTAINTY, O_LANGUAGE, O_CATEGORY,
	O_SENDER_NAME, O_EXERCISE, O_ACTUAL, O_DRY_RUN, O_REASON, O_STATE
};

/* POST (or GET) body (JSON) to path: the client uploads files, so
 * through a temporary file that is removed at once. */
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
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/gong-issue.XXXXXX",
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

/* "36.1,113.3 36.2,113.3 ..." as [[lat, lon], ...]; NULL if bad. */
static json_t *
polygon_of(const char *s)
{
	json_t *arr = json_array();
	const char *p = s;
	double lat, lon;
	char *end;

	while (arr != NULL && *p != '\0') {
		while (*p == ' ' || *p == ';')
			p++;
		if (*p == '\0')
			break;
		errno = 0;
		lat = strtod(p, &end);
		if (end == p || *end != ',' || errno != 0)
			goto bad;
		p = end + 1;
		lon = strtod(p, &end);
		if (end == p || errno != 0 || (*end != ' ' && *end != ';' &&
		    *end != '\0') || !isfinite(lat) || !isfinite(lon))
			goto bad;
		p = end;
		(void)json_array_append_new(arr, json_pack("[f,f]", lat,
		    lon));
	}
	return arr;
bad:
	json_decref(arr);
	return NULL;
}

static long long
id_arg(const char *cmd, const char *s)
{
	long long id;
	char *end;

	errno = 0;
	id = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || id <= 0 || s[0] == '+') {
		fprintf(stderr, "gong %s: '%s' is not an id (a positive "
		    "integer)\nTry 'gong %s --help'.\n", cmd, s, cmd);
		return 0;
	}
	return id;
}

/* The exit status of a refusal. */
static int
refusal_exit(long status)
{
	switch (status) {
	case 400:
	case 409:
	case 413:
	case 415:
	case 422:
		return CLI_INVALID;
	case 404:
		return CLI_NOTFOUND;
	default:
		return cli_status_exit(status);
	}
}

/* gongd's answer to an issue, update or cancel (not a dry run). */
static int
print_stored(FILE *f, const json_t *doc)
{
	char b1[80], b2[80], b3[80], b4[200];
	const json_t *refs = json_object_get(doc, "references");
	size_t i;

	if (json_is_integer(json_object_get(doc, "pending_id"))) {
		fprintf(f, "pending approval: %s %s, pending id %lld "
		    "(identifier %s)\n"
		    "another officer approves it with 'gong approve %lld'\n",
		    cli_jstr(doc, "colour", b1, sizeof(b1)),
		    cli_jstr(doc, "msg_type", b2, sizeof(b2)),
		    cli_jint(doc, "pending_id", 0),
		    cli_jstr(doc, "identifier", b4, sizeof(b4)),
		    cli_jint(doc, "pending_id", 0));
		return CLI_OK;
	}
	if (!json_is_integer(json_object_get(doc, "id")))
		return cli_fail(CLI_SERVER, "gongd's answer has no alert id");
	fprintf(f, "alert %lld: %s %s, %s%s, regions %lld\n",
	    cli_jint(doc, "id", 0), cli_jstr(doc, "colour", b1, sizeof(b1)),
	    cli_jstr(doc, "msg_type", b2, sizeof(b2)),
	    cli_jstr(doc, "state", b3, sizeof(b3)),
	    json_is_true(json_object_get(doc, "broadcast")) ?
	    ", being sent" : "", cli_jint(doc, "regions", 0));
	fprintf(f, "identifier %s\n", cli_jstr(doc, "identifier", b4,
	    sizeof(b4)));
	for (i = 0; json_is_array(refs) && i < json_array_size(refs); i++)
		fprintf(f, "references %s\n",
		    json_string_value(json_array_get(refs, i)) ?
		    json_string_value(json_array_get(refs, i)) : "");
	return CLI_OK;
}

static int
finish(struct cli_client *c, struct cli_answer *a, int dry)
{
	const json_t *x;
	int rv;

	if (a->status >= 400 && a->status != 401 && a->status != 403 &&
	    a->status < 500) {
		if (c->opts.json && a->json != NULL)
			cli_print_json(stdout, a->json);
		else
			cli_print_error(stderr, a->status, a->json, a->body);
		return refusal_exit(a->status);
	}
	if ((rv = cli_check(c, a)) != CLI_OK)
		return rv;
	if (a->json == NULL)
		return cli_fail(CLI_SERVER, "gongd's answer is not JSON");
	if (c->opts.json) {
		cli_print_json(stdout, a->json);
		return CLI_OK;
	}
	if (!dry)
		return print_stored(stdout, a->json);
	if ((rv = cli_plan_print(stdout, a->json)) != CLI_OK)
		return rv;
	if (json_is_true(json_object_get(a->json, "needs_approval")))
		printf("needs a second officer's approval (issuing.approval)"
		    "\n");
	x = json_object_get(a->json, "identifier");
	if (json_is_string(x))
		printf("identifier (if issued now) %s\n", json_string_value(x));
	return CLI_OK;
}

/* kind: 'A' issue, 'U' update, 'C' cancel. */
static int
issue_cmd(int argc, char **argv, int kind)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "event", required_argument, NULL, O_EVENT },
		{ "colour", required_argument, NULL, O_COLOUR },
		{ "color", required_argument, NULL, O_COLOUR },
		{ "region", required_argument, NULL, O_REGION },
		{ "polygon", required_argument, NULL, O_POLYGON },
		{ "headline", required_argument, NULL, O_HEADLINE },
		{ "description", required_argument, NULL, O_DESCRIPTION },
		{ "instruction", required_argument, NULL, O_INSTRUCTION },
		{ "onset", required_argument, NULL, O_ONSET },
		{ "expires", required_argument, NULL, O_EXPIRES },
		{ "severity", required_argument, NULL, O_SEVERITY },
		{ "urgency", required_argument, NULL, O_URGENCY },
		{ "certainty", required_argument, NULL, O_CERTAINTY },
		{ "language", required_argument, NULL, O_LANGUAGE },
		{ "category", required_argument, NULL, O_CATEGORY },
		{ "sender-name", required_argument, NULL, O_SENDER_NAME },
		{ "exercise", no_argument, NULL, O_EXERCISE },
		{ "actual", no_argument, NULL, O_ACTUAL },
		{ "dry-run", no_argument, NULL, O_DRY_RUN },
		{ "reason", required_argument, NULL, O_REASON },
		{ NULL, 0, NULL, 0 }
	};
	static const char *const keys[] = {
		[O_EVENT - O_EVENT] = "event",
		[O_COLOUR - O_EVENT] = "colour",
		[O_HEADLINE - O_EVENT] = "headline",
		[O_DESCRIPTION - O_EVENT] = "description",
		[O_INSTRUCTION - O_EVENT] = "instruction",
		[O_ONSET - O_EVENT] = "onset",
		[O_EXPIRES - O_EVENT] = "expires",
		[O_SEVERITY - O_EVENT] = "severity",
		[O_URGENCY - O_EVENT] = "urgency",
		[O_CERTAINTY - O_EVENT] = "certainty",
		[O_LANGUAGE - O_EVENT] = "language",
		[O_CATEGORY - O_EVENT] = "category",
		[O_SENDER_NAME - O_EVENT] = "sender_name",
		[O_REASON - O_EVENT] = "reason",
	};
	const char *cmd = kind == 'A' ? "issue" : kind == 'U' ? "update" :
	    "cancel";
	struct cli_answer a = { 0 };
	struct cli_client c;
	struct cli_opts o;
	json_t *body = json_object(), *regions = NULL, *poly;
	char path[128], *text = NULL;
	long long id = 0;
	int ch, rv = CLI_USAGE, dry = 0;

	if (body == NULL)
		return cli_fail(CLI_LOCAL, "out of memory");
	cli_opts_init(&o, cmd);
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, CLI_SHORTOPTS, longopts,
	    NULL)) != -1) {
		if (ch == 'h') {
			cli_usage(stdout, issue_help);
			rv = CLI_OK;
			goto out;
		}
		if (ch >= CLI_OPT_FIRST_LOCAL && ch != O_REGION &&
		    ch != O_POLYGON && ch != O_EXERCISE && ch != O_ACTUAL &&
		    ch != O_DRY_RUN && (kind == 'C') != (ch == O_REASON)) {
			fprintf(stderr, "gong %s: %s is not an option of "
			    "gong %s\nTry 'gong %s --help'.\n", cmd,
			    argv[optind - 1], cmd, cmd);
			goto out;
		}
		if (kind == 'C' && (ch == O_REGION || ch == O_POLYGON ||
		    ch == O_EXERCISE || ch == O_ACTUAL)) {
			fprintf(stderr, "gong cancel: only --reason and "
			    "--dry-run\nTry 'gong cancel --help'.\n");
			goto out;
		}
		switch (ch) {
		case O_REGION:
			if (regions == NULL) {
				regions = json_array();
				(void)json_object_set_new(body, "regions",
				    regions);
			}
			(void)json_array_append_new(regions,
			    json_string(optarg));
			continue;
		case O_POLYGON:
			if ((poly = polygon_of(optarg)) == NULL) {
				fprintf(stderr, "gong %s: --polygon takes "
				    "'LAT,LON LAT,LON ...'\n", cmd);
				goto out;
			}
			(void)json_object_set_new(body, "polygon", poly);
			continue;
		case O_EXERCISE:
		case O_ACTUAL:
			(void)json_object_set_new(body, "status", json_string(
			    ch == O_EXERCISE ? "Exercise" : "Actual"));
			continue;
		case O_DRY_RUN:
			dry = 1;
			continue;
		default:
			break;
		}
		if (ch >= CLI_OPT_FIRST_LOCAL) {
			if (json_object_set_new(body, keys[ch - O_EVENT],
			    json_string(optarg)) != 0) {
				fprintf(stderr, "gong %s: %s is not UTF-8 text"
				    "\n", cmd, argv[optind - 1]);
				goto out;
			}
			continue;
		}
		if ((rv = cli_opts_handle(&o, ch, optarg, argv)) != CLI_OK)
			goto out;
		rv = CLI_USAGE;
	}
	if (kind == 'A' ? optind != argc : optind != argc - 1) {
		fprintf(stderr, "gong %s: %s\nTry 'gong %s --help'.\n", cmd,
		    kind == 'A' ? "no arguments besides the options" :
		    optind >= argc ? "missing ID" : "one ID only", cmd);
		goto out;
	}
	if (kind != 'A' && (id = id_arg(cmd, argv[optind])) == 0)
		goto out;
	if (kind == 'A')
		(void)snprintf(path, sizeof(path), "/api/v1/warnings%s",
		    dry ? "?dry_run=1" : "");
	else
		(void)snprintf(path, sizeof(path), "/api/v1/warnings/%lld/%s%s",
		    id, cmd, dry ? "?dry_run=1" : "");
	if ((text = json_dumps(body, JSON_COMPACT)) == NULL) {
		rv = cli_fail(CLI_LOCAL, "out of memory");
		goto out;
	}
	if ((rv = cli_client_init(&c, &o)) != CLI_OK)
		goto out;
	if ((rv = post_json(&c, path, text, &a)) != CLI_OK)
		goto out;
	rv = finish(&c, &a, dry);
out:
	free(text);
	json_decref(body);
	cli_answer_release(&a);
	return rv;
}

int
cli_issue(int argc, char **argv)
{
	return issue_cmd(argc, argv, 'A');
}

int
cli_update(int argc, char **argv)
{
	return issue_cmd(argc, argv, 'U');
}

int
cli_cancel(int argc, char **argv)
{
	return issue_cmd(argc, argv, 'C');
}

static void
print_pending(FILE *f, const json_t *doc)
{
	const json_t *arr = json_object_get(doc, "pending"), *x;
	char b[6][200];
	size_t i;

	if (!json_is_array(arr) || json_array_size(arr) == 0) {
		fprintf(f, "no warnings pending approval\n");
		return;
	}
	fprintf(f, "%-5s %-8s %-7s %-8s %-20s %-22s %s\n", "PID", "STATE",
	    "COLOUR", "TYPE", "BY", "CREATED", "HEADLINE");
	for (i = 0; i < json_array_size(arr); i++) {
		x = json_array_get(arr, i);
		fprintf(f, "%-5lld %-8s %-7s %-8s %-20s %-22s %s\n",
		    cli_jint(x, "id", 0), cli_jstr(x, "state", b[0], 200),
		    cli_jstr(x, "colour", b[1], 200),
		    cli_jstr(x, "msg_type", b[2], 200),
		    cli_jstr(x, "created_by", b[3], 200),
		    cli_local_time(cli_jstr(x, "created", b[4], 200),
		    b[5], 200), json_string_value(json_object_get(x,
		    "headline")) ? json_string_value(json_object_get(x,
		    "headline")) : "");
	}
}

/* what: 'L' pending, 'A' approve, 'R' reject. */
static int
approve_cmd(int argc, char **argv, int what)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "reason", required_argument, NULL, O_REASON },
		{ "state", required_argument, NULL, O_STATE },
		{ NULL, 0, NULL, 0 }
	};
	const char *cmd = what == 'L' ? "pending" : what == 'A' ? "approve" :
	    "reject";
	struct cli_request rq = { .path = NULL, .timeout_s = CLI_TIMEOUT_S };
	struct cli_answer a = { 0 };
	struct cli_client c;
	struct cli_opts o;
	const char *reason = NULL, *state = NULL;
	char path[128], *text = NULL, b1[80];
	long long pid = 0;
	int ch, rv;

	cli_opts_init(&o, cmd);
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, CLI_SHORTOPTS, longopts,
	    NULL)) != -1) {
		if (ch == 'h') {
			cli_usage(stdout, approve_help);
			return CLI_OK;
		}
		if ((ch == O_REASON && what != 'R') ||
		    (ch == O_STATE && what != 'L')) {
			fprintf(stderr, "gong %s: %s is not an option of "
			    "gong %s\nTry 'gong %s --help'.\n", cmd,
			    argv[optind - 1], cmd, cmd);
			return CLI_USAGE;
		}
		if (ch == O_REASON) {
			reason = optarg;
			continue;
		}
		if (ch == O_STATE) {
			state = optarg;
			continue;
		}
		if ((rv = cli_opts_handle(&o, ch, optarg, argv)) != CLI_OK)
			return rv;
	}
	if (what == 'L' ? optind != argc : optind != argc - 1) {
		fprintf(stderr, "gong %s: %s\nTry 'gong %s --help'.\n", cmd,
		    what == 'L' ? "no arguments besides the options" :
		    optind >= argc ? "missing PID" : "one PID only", cmd);
		return CLI_USAGE;
	}
	if (what != 'L' && (pid = id_arg(cmd, argv[optind])) == 0)
		return CLI_USAGE;
	if (state != NULL && strcmp(state, "pending") != 0 &&
	    strcmp(state, "approved") != 0 && strcmp(state, "rejected") != 0 &&
	    strcmp(state, "all") != 0) {
		fprintf(stderr, "gong pending: --state is pending, approved, "
		    "rejected or all\n");
		return CLI_USAGE;
	}
	if ((rv = cli_client_init(&c, &o)) != CLI_OK)
		return rv;
	if (what == 'L') {
		(void)snprintf(path, sizeof(path),
		    "/api/v1/warnings/pending?state=%s", state ? state :
		    "pending");
		rq.path = path;
		if ((rv = cli_call(&c, &rq, &a)) != CLI_OK)
			goto out;
		if (o.json)
			cli_print_json(stdout, a.json);
		else
			print_pending(stdout, a.json);
		goto out;
	}
	(void)snprintf(path, sizeof(path), "/api/v1/warnings/pending/%lld/%s",
	    pid, cmd);
	if (reason != NULL) {
		json_t *j = json_pack("{s:s}", "reason", reason);

		text = j ? json_dumps(j, JSON_COMPACT) : NULL;
		json_decref(j);
		if (text == NULL) {
			rv = cli_fail(CLI_USAGE, "--reason is not UTF-8 text");
			goto out;
		}
	}
	if ((rv = post_json(&c, path, text ? text : "", &a)) != CLI_OK)
		goto out;
	if (a.status >= 400 && a.status != 401 && a.status != 403 &&
	    a.status < 500) {
		if (o.json && a.json != NULL)
			cli_print_json(stdout, a.json);
		else
			cli_print_error(stderr, a.status, a.json, a.body);
		rv = refusal_exit(a.status);
		goto out;
	}
	if ((rv = cli_check(&c, &a)) != CLI_OK)
		goto out;
	if (o.json)
		cli_print_json(stdout, a.json);
	else if (what == 'A')
		printf("approved: pending %lld is alert %lld (%s, %s)\n", pid,
		    cli_jint(a.json, "id", 0), cli_jstr(a.json, "colour", b1,
		    sizeof(b1)), json_is_true(json_object_get(a.json,
		    "broadcast")) ? "being sent" : "not broadcast");
	else
		printf("rejected: pending %lld\n", pid);
out:
	free(text);
	cli_answer_release(&a);
	return rv;
}

int
cli_pending(int argc, char **argv)
{
	return approve_cmd(argc, argv, 'L');
}

int
cli_approve(int argc, char **argv)
{
	return approve_cmd(argc, argv, 'A');
}

int
cli_reject(int argc, char **argv)
{
	return approve_cmd(argc, argv, 'R');
}
