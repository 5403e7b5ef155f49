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

#endif /* ENGINE_CLI_CLI_H */
