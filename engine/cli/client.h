/*
 * engine/cli/client.h - what every `gong` subcommand shares: the global
 * options, finding gongd (URL) and the admin token, HTTP requests to
 * gongd (libcurl easy interface) and printing its answers and errors.
 *
 * Functions return a process exit status of cli.h (CLI_OK, CLI_USAGE …)
 * and print their own message to stderr as "gong: error: …" when they
 * fail, so that a command only has to pass the status on.
 *
 * Single-threaded (getopt, one request at a time).  Internal to
 * engine/cli/; it includes jansson because every command formats JSON.
 */
#ifndef ENGINE_CLI_CLIENT_H
#define ENGINE_CLI_CLIENT_H

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#define CLI_DEFAULT_URL		"http://127.0.0.1:8080"
#define CLI_DEFAULT_DATA_DIR	"./var"
#define CLI_URL_FILE		"gongd.url"
#define CLI_TOKEN_FILE		"admin.token"
#define CLI_MAX_ANSWER		(64L * 1024 * 1024)	/* bytes in memory */
#define CLI_CONNECT_TIMEOUT_S	5
#define CLI_TIMEOUT_S		30	/* total, unless --timeout */
#define CLI_MAX_TIMEOUT_S	86400
#define CLI_URL_SIZE		1024
#define CLI_TOKEN_SIZE		512
#define CLI_WHERE_SIZE		1280

/* Option codes of the global options (beyond any short option). */
enum {
	CLI_OPT_URL = 0x100,
	CLI_OPT_TOKEN,
	CLI_OPT_TOKEN_FILE,
	CLI_OPT_DATA_DIR,
	CLI_OPT_JSON,
	CLI_OPT_TIMEOUT,
	CLI_OPT_FIRST_LOCAL	/* commands number their own options from here */
};

/* Put first in every command's struct option table. */
#define CLI_GLOBAL_LONGOPTS						\
	{ "url", required_argument, NULL, CLI_OPT_URL },		\
	{ "token", required_argument, NULL, CLI_OPT_TOKEN },		\
	{ "token-file", required_argument, NULL, CLI_OPT_TOKEN_FILE },	\
	{ "data-dir", required_argument, NULL, CLI_OPT_DATA_DIR },	\
	{ "json", no_argument, NULL, CLI_OPT_JSON },			\
	{ "timeout", required_argument, NULL, CLI_OPT_TIMEOUT },	\
	{ "help", no_argument, NULL, 'h' }

/* The short options string for getopt_long: ":" reports a missing value. */
#define CLI_SHORTOPTS ":h"

/* Help text of the global options, for every command's --help. */
extern const char cli_global_help[];

/* The global options.  Strings are borrowed from argv. */
struct cli_opts {
	const char *cmd;	/* subcommand name, for messages */
	const char *url;
	const char *token;
	const char *token_file;
	const char *data_dir;
	int json;
	long timeout_s;		/* -1: the request's default; 0: none */
};

void cli_opts_init(struct cli_opts *o, const char *cmd);

/*
 * Handle one getopt_long result c that the command did not recognise:
 * a global option is stored in o (CLI_OK); '?' or ':' (an unknown option,
 * a missing value) and bad values print a message and give CLI_USAGE.
 * Use optind/optopt of the caller's getopt_long loop.
 */
int cli_opts_handle(struct cli_opts *o, int c, const char *arg, char **argv);

/*
 * Parse a decimal long in [min, max] from s (the whole string).  On
 * failure prints "gong CMD: bad value for --NAME: S" and returns
 * CLI_USAGE.
 */
int cli_parse_long(const struct cli_opts *o, const char *name,
    const char *s, long min, long max, long *out);

/*
 * Reorder the process's argv for dispatch: global options given before
 * the subcommand are moved after its name, so that out[0] is the
 * subcommand and out[1..] are every other argument, in order.  out must
 * have room for argc entries (+ NULL).  Returns the new count, or 0 when
 * there is no subcommand (*help is set when --help/-h came first).
 * A global option's value (--url X) is never taken for the subcommand.
 */
int cli_args_reorder(int argc, char **argv, char **out, int *help);

/* Print a command's usage (text, then the global options) to f. */
void cli_usage(FILE *f, const char *text);

/*
 * Base URL of gongd into buf: --url, else $GONG_URL, else the first line
 * of DATA_DIR/gongd.url, else CLI_DEFAULT_URL.  Trailing slashes are
 * dropped.  Returns CLI_OK, or CLI_USAGE (not http:// or https://, too
 * long, control characters) after printing why.
 */
int cli_find_url(const struct cli_opts *o, char *buf, size_t size);

/* DATA_DIR: --data-dir, else $GONG_DATA_DIR, else ./var.  Borrowed. */
const char *cli_data_dir(const struct cli_opts *o);

/*
 * The admin token: --token, else $GONG_TOKEN, else the first line of
 * --token-file, else the first line of DATA_DIR/admin.token.  On
 * CLI_OK, buf holds the token ("" when none was found) and where says
 * where it came from, or where it was looked for and why it was not
 * there.  An explicit --token-file that cannot be read is CLI_LOCAL;
 * a token with control characters or too long is CLI_INVALID.
 */
int cli_find_token(const struct cli_opts *o, char *buf, size_t size,
    char *where, size_t wsize);

/*
 * Read the first line of path into buf, without the line end or
 * surrounding blanks.  Returns 0, or -errno (-ENAMETOOLONG if the line
 * does not fit).
 */
int cli_read_first_line(const char *path, char *buf, size_t size);

/* A connection to gongd: options and what was found from them. */
struct cli_client {
	struct cli_opts opts;
	char url[CLI_URL_SIZE];
	char token[CLI_TOKEN_SIZE];
	char where[CLI_WHERE_SIZE];	/* of the token, for a 401 */
};

/* Find URL and token (the functions above).  Returns a CLI status. */
int cli_client_init(struct cli_client *c, const struct cli_opts *o);

struct cli_request {
	const char *method;	/* "GET" (default when NULL) or "POST" */
	const char *path;	/* "/api/v1/…?query", already escaped */
	const char *upload;	/* POST this file as the body, or NULL */
	const char *upload_name;	/* X-Gong-Filename, or NULL */
	const char *content_type;	/* of the upload */
	FILE *download;		/* write a 2xx body here (not in memory) */
	long timeout_s;		/* default total timeout; 0: none */
};

struct cli_answer {
	long status;		/* HTTP status */
	char *body;		/* NUL-terminated, NULL when streamed */
	size_t len;
	long long streamed;	/* bytes written to download */
	json_t *json;		/* the body if it parsed as JSON, or NULL */
};

void cli_answer_release(struct cli_answer *a);

/*
 * Send one request to gongd and receive the answer into *a (zeroed
 * here; release it in every case).  /api/ paths carry the bearer token.
 * Returns CLI_OK when gongd answered with any status, else prints why
 * and returns CLI_UNREACHABLE (connect, timeout), CLI_SERVER (answer
 * over CLI_MAX_ANSWER, broken), CLI_LOCAL (file I/O) or CLI_USAGE
 * (bad URL).  Blocking, up to the timeout.
 */
int cli_request(struct cli_client *c, const struct cli_request *rq,
    struct cli_answer *a);

/* Exit status for an HTTP status (2xx: CLI_OK, 401/403: CLI_AUTH …). */
int cli_status_exit(long status);

/*
 * For a non-2xx answer: print its error (stdout JSON with --json, else
 * "gong: error: message" and every "file:line: column: message" of
 * "errors" to stderr, with where the token was looked for on 401/403)
 * and return the exit status; CLI_OK for 2xx.
 */
int cli_check(struct cli_client *c, const struct cli_answer *a);

/* cli_request then cli_check. */
int cli_call(struct cli_client *c, const struct cli_request *rq,
    struct cli_answer *a);

/* Print an error document's message and items to f (human format). */
void cli_print_error(FILE *f, long status, const json_t *doc,
    const char *body);

/* Pretty-print a JSON value to f with a final newline. */
void cli_print_json(FILE *f, const json_t *j);

/* printf to stderr as "gong: error: …"; returns rv. */
int cli_fail(int rv, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Terminal columns taken by a UTF-8 string (CJK wide = 2; a byte that
 * does not start a valid sequence, engine/utf8.h, is one column). */
size_t cli_width(const char *s);
/* Print s to f padded with spaces to width columns. */
void cli_print_padded(FILE *f, const char *s, size_t width);

/* JSON helpers: member as a string ("" if absent; numbers formatted
 * into buf), as a long long (def if absent or not a number). */
const char *cli_jstr(const json_t *obj, const char *key, char *buf,
    size_t size);
long long cli_jint(const json_t *obj, const char *key, long long def);

#endif /* ENGINE_CLI_CLIENT_H */
