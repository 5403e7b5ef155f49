/*
 * engine/cli/cli.h - internals of the `gong` command-line client.
 *
 * Each subcommand is `int cli_NAME(int argc, char **argv)`, argv[0] being
 * the subcommand's name, and returns a process exit status:
 */
#ifndef ENGINE_CLI_CLI_H
#define ENGINE_CLI_CLI_H

#define CLI_OK		0	/* success; for checks: everything valid */
#define CLI_INVALID	1	/* the input (a file, a request) is invalid */
#define CLI_USAGE	2	/* bad command line */
#define CLI_UNREACHABLE	3	/* gongd could not be reached */
#define CLI_SERVER	4	/* gongd answered with an error (4xx/5xx) */
#define CLI_AUTH	5	/* 401/403: token missing or refused */
#define CLI_NOTFOUND	6	/* 404 */
#define CLI_LOCAL	7	/* local failure (file I/O, memory) */

int cli_cap(int argc, char **argv);	/* cmd_cap.c: gong cap check */

#endif /* ENGINE_CLI_CLI_H */
