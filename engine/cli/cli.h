/*
 * engine/cli/cli.h - internals of the `gong` command-line client.
 *
 * Each subcommand is `int cli_NAME(int argc, char **argv)`, argv[0] being
 * the subcommand's name, and returns a process exit status:
 */
#ifndef ENGINE_CLI_CLI_H
#define ENGINE_CLI_CLI_H

#include <stdio.h>

#define CLI_OK		0	/* success; for checks: everything valid */
#define CLI_INVALID	1	/* the input (a file, a request) is invalid */
#define CLI_USAGE	2	/* bad command line */
#define CLI_UNREACHABLE	3	/* gongd could not be reached */
#define CLI_SERVER	4	/* gongd answered with an error (4xx/5xx) */
#define CLI_AUTH	5	/* 401/403: token missing or refused */
#define CLI_NOTFOUND	6	/* 404 */
#define CLI_LOCAL	7	/* local failure (file I/O, memory) */

int cli_cap(int argc, char **argv);	/* cmd_cap.c: gong cap check */

int cli_status(int argc, char **argv);		/* cmd_status.c */
int cli_regions(int argc, char **argv);		/* cmd_regions.c */
int cli_responders(int argc, char **argv);	/* cmd_regions.c */
int cli_devices(int argc, char **argv);		/* cmd_regions.c */
int cli_import(int argc, char **argv);		/* cmd_import.c */
int cli_backup(int argc, char **argv);		/* cmd_backup.c */
int cli_roster(int argc, char **argv);		/* cmd_roster.c */
int cli_send(int argc, char **argv);		/* cmd_alerts.c */
int cli_alerts(int argc, char **argv);		/* cmd_alerts.c */
int cli_show(int argc, char **argv);		/* cmd_alerts.c */
int cli_chain(int argc, char **argv);		/* cmd_alerts.c */
int cli_plan(int argc, char **argv);		/* cmd_plan.c */

/*
 * The human formats, from gongd's JSON documents (pure; for tests).
 * Each returns CLI_OK, or CLI_SERVER when the document lacks what it
 * needs (a message is printed to stderr).
 */
struct json_t;
int cli_status_print(FILE *f, const char *url, const struct json_t *doc);
int cli_regions_print(FILE *f, const struct json_t *doc);
int cli_table_print(FILE *f, const struct json_t *doc, const char *what);
int cli_import_print(FILE *f, const struct json_t *doc);

/*
 * CAP alerts (cmd_alerts.c).  cli_send_print prints the verdict on one
 * file from the answer to POST /api/v1/cap (status, its JSON doc or NULL,
 * the raw body) and returns CLI_OK for stored or duplicate, else the
 * status's exit code (CLI_INVALID for 400/413/415/422, CLI_AUTH for 403).
 * cli_alert_print takes GET /api/v1/alerts/{id} and, for the position in
 * the chain, that alert's chain document (may be NULL).  cli_chain_print
 * marks the alert mark with '*'.  cli_local_time formats an RFC 3339 time
 * in China Standard Time (UTC+08:00) as "YYYY-MM-DD hh:mm:ss" into buf;
 * text that is not a time is copied as it is, NULL or "" gives "-".
 */
int cli_send_print(FILE *f, const char *file, long status,
    const struct json_t *doc, const char *body);
int cli_alerts_print(FILE *f, const struct json_t *doc);
int cli_alert_print(FILE *f, const struct json_t *doc,
    const struct json_t *chain);
int cli_chain_print(FILE *f, const struct json_t *doc, long long mark);
const char *cli_local_time(const char *rfc3339, char *buf, size_t size);

/* The dry run's summary from the answer to POST /api/v1/plan
 * (cmd_plan.c). */
int cli_plan_print(FILE *f, const struct json_t *doc);

/*
 * gong report ID, gong unanswered ID (cmd_report.c): the tables from
 * GET /api/v1/alerts/{id}/report and .../unanswered (pure; for tests).
 * CLI_OK, or CLI_SERVER when the document lacks what they need.
 */
int cli_report(int argc, char **argv);
int cli_unanswered(int argc, char **argv);
int cli_report_print(FILE *f, const struct json_t *doc);
int cli_unanswered_print(FILE *f, const struct json_t *doc);

/*
 * gong answer ID RESPONDER --reason TEXT --by NAME [--note TEXT]
 * (cmd_answer.c): a duty officer records an answer on a responder's
 * behalf.  cli_answer_parse reads the command line (strings borrowed from
 * argv) and returns CLI_OK, CLI_USAGE (after a message on stderr) or -1
 * after --help (printed on stdout); cli_answer_body is the JSON body
 * (malloc'd, NULL on ENOMEM); cli_answer_print prints the verdict from
 * gongd's answer (status, its JSON doc or NULL, the raw body) on out, or
 * its error on err, and returns CLI_OK for recorded or duplicate,
 * CLI_INVALID for 400/404/413/415/422, else cli_status_exit(status).
 */
struct cli_opts;
struct cli_answer_args {
	long long alert_id;
	const char *responder, *reason, *note, *by;	/* note: or NULL */
};
int cli_answer(int argc, char **argv);
int cli_answer_parse(int argc, char **argv, struct cli_opts *o,
    struct cli_answer_args *aa);
char *cli_answer_body(const struct cli_answer_args *aa);
int cli_answer_print(FILE *out, FILE *err, long status,
    const struct json_t *doc, const char *body);

/*
 * Accounts (cmd_auth.c): gong login (keeps an API token in
 * ~/.config/gong/token, mode 0600), gong logout, gong users
 * list|add|set|disable, gong tokens list|create|revoke, gong audit,
 * gong passwd.
 */
int cli_login(int argc, char **argv);
int cli_logout(int argc, char **argv);
int cli_users(int argc, char **argv);
int cli_tokens(int argc, char **argv);
int cli_audit(int argc, char **argv);
int cli_passwd(int argc, char **argv);	/* change your own password */

/*
 * Issuing (cmd_issue.c): gong issue, gong update ID, gong cancel ID
 * (POST /api/v1/warnings[/{id}/update|cancel], --dry-run for the dry
 * run), gong pending, gong approve PID, gong reject PID.  Exit status:
 * 0 done, 1 refused (400, 409, 413, 415, 422), 2 usage, 6 not found,
 * else cli_status_exit().
 */
int cli_issue(int argc, char **argv);
int cli_update(int argc, char **argv);
int cli_cancel(int argc, char **argv);
int cli_pending(int argc, char **argv);
int cli_approve(int argc, char **argv);
int cli_reject(int argc, char **argv);

#endif /* ENGINE_CLI_CLI_H */
