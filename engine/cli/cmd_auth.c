/*
 * engine/cli/cmd_auth.c - accounts from the command line:
 *
 *   gong login [--user NAME] [--password-file FILE] [--token-name NAME]
 *   gong logout
 *   gong users list | add NAME --role R --jurisdiction CODE [...] |
 *              set NAME [...] | disable NAME
 *   gong tokens list [--all] | create NAME [--user U] | revoke ID
 *   gong audit [--since T] [--actor A] [--action X] [--limit N]
 *   gong passwd [--current-password-file F] [--password-file F]
 *
 * `gong login` asks gongd for an API token (POST /api/v1/login with
 * token_name: no session, which is for browsers) and keeps it in
 * $XDG_CONFIG_HOME/gong/token (else ~/.config/gong/token), mode 0600, its
 * directory 0700; every command then sends it, before falling back to
 * DATA_DIR/admin.token (client.c).  `gong logout` revokes it and removes
 * the file.  The password is read from --password-file (its first line)
 * or asked on the terminal without echo.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "engine/cli/cli.h"
#include "engine/cli/client.h"

enum {
	OPT_USER = CLI_OPT_FIRST_LOCAL,
	OPT_PASSWORD_FILE,
	OPT_TOKEN_NAME,
	OPT_ROLE,
	OPT_JURISDICTION,
	OPT_DISPLAY,
	OPT_ENABLE,
	OPT_ALL,
	OPT_SINCE,
	OPT_ACTOR,
	OPT_ACTION,
	OPT_LIMIT,
	OPT_PASSWORD_PROMPT,
	OPT_CURRENT_FILE
};

#define PW_MAX	1024

/* ------------------------------------------------------------------ */
/* Requests with a JSON body                                           */
/* ------------------------------------------------------------------ */

/* method path with body (may be NULL: no body) through a temporary file
 * (the client uploads files); the answer in *a. */
static int
call_json(struct cli_client *c, const char *method, const char *path,
    json_t *body, struct cli_answer *a)
{
	struct cli_request rq = { .method = method, .path = path,
	    .content_type = "application/json", .timeout_s = CLI_TIMEOUT_S };
	const char *dir = getenv("TMPDIR");
	char tmp[512], *text;
	size_t len;
	FILE *f;
	int fd, rv;

	if (body == NULL)
		return cli_request(c, &rq, a);
	if ((text = json_dumps(body, JSON_COMPACT)) == NULL)
		return cli_fail(CLI_LOCAL, "out of memory");
	len = strlen(text);
	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/gong-auth.XXXXXX", dir) >=
	    sizeof(tmp)) {
		free(text);
		return cli_fail(CLI_LOCAL, "TMPDIR is too long");
	}
	if ((fd = mkstemp(tmp)) < 0) {
		free(text);
		return cli_fail(CLI_LOCAL, "cannot create %s: %s", tmp,
		    strerror(errno));
	}
	if ((f = fdopen(fd, "w")) == NULL) {
		close(fd);
		(void)unlink(tmp);
		free(text);
		return cli_fail(CLI_LOCAL, "cannot write %s", tmp);
	}
	rv = fwrite(text, 1, len, f) == len;
	if (fclose(f) != 0)
		rv = 0;
	/* The body may hold a password: gone from memory and disk soon. */
	memset(text, 0, len);
	free(text);
	if (!rv) {
		(void)unlink(tmp);
		return cli_fail(CLI_LOCAL, "cannot write %s", tmp);
	}
	rq.upload = tmp;
	rv = cli_request(c, &rq, a);
	(void)unlink(tmp);
	return rv;
}

/* call_json then cli_check; with --json the 2xx document is printed. */
static int
call(struct cli_client *c, const char *method, const char *path,
    json_t *body, struct cli_answer *a)
{
	int rv;

	if ((rv = call_json(c, method, path, body, a)) != CLI_OK)
		return rv;
	if ((rv = cli_check(c, a)) != CLI_OK)
		return rv;
	if (a->json == NULL)
		return cli_fail(CLI_SERVER, "gongd's answer is not JSON");
	return CLI_OK;
}

/* ------------------------------------------------------------------ */
/* Passwords and the token file                                        */
/* ------------------------------------------------------------------ */

/* The first line of a password file, or asked on the terminal (no echo).
 * 0, or a CLI status after a message. */
static int
read_password(const char *file, const char *prompt, char *buf, size_t size)
{
	struct termios t, quiet;
	FILE *tty;
	size_t n;
	int rv, restore;

	if (file != NULL) {
		rv = cli_read_first_line(file, buf, size);
		if (rv == -ENAMETOOLONG)
			return cli_fail(CLI_USAGE, "the password in %s is too "
			    "long", file);
		if (rv != 0)
			return cli_fail(CLI_LOCAL, "cannot read %s: %s", file,
			    strerror(-rv));
		return CLI_OK;
	}
	if ((tty = fopen("/dev/tty", "r+")) == NULL)
		return cli_fail(CLI_USAGE, "no terminal to ask the password "
		    "on: use --password-file");
	fputs(prompt, tty);
	fflush(tty);
	restore = tcgetattr(fileno(tty), &t) == 0;
	if (restore) {
		quiet = t;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		(void)tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
	}
	rv = fgets(buf, (int)size, tty) != NULL ? CLI_OK : CLI_USAGE;
	if (restore)
		(void)tcsetattr(fileno(tty), TCSAFLUSH, &t);
	fputc('\n', tty);
	fclose(tty);
	if (rv != CLI_OK)
		return cli_fail(CLI_USAGE, "no password given");
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	return CLI_OK;
}

static int
token_path(char *buf, size_t size, int make_dir)
{
	const char *x = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	char dir[1024];

	if (x != NULL && *x == '/')
		(void)snprintf(dir, sizeof(dir), "%s/gong", x);
	else if (home != NULL && *home != '\0')
		(void)snprintf(dir, sizeof(dir), "%s/.config/gong", home);
	else
		return -1;
	if (make_dir) {
		char parent[1024], *sl;

		(void)snprintf(parent, sizeof(parent), "%s", dir);
		if ((sl = strrchr(parent, '/')) != NULL && sl != parent) {
			*sl = '\0';
			(void)mkdir(parent, 0700);
		}
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			return -1;
	}
	if ((size_t)snprintf(buf, size, "%s/token", dir) >= size)
		return -1;
	return 0;
}

/* Write the token (line 1) and gongd's URL (line 2), mode 0600. */
static int
save_token(const char *token, const char *url, char *path, size_t size)
{
	char tmp[1100];
	FILE *f;
	int fd, ok;

	if (token_path(path, size, 1) != 0)
		return cli_fail(CLI_LOCAL, "cannot make the directory of the "
		    "token file (set HOME or XDG_CONFIG_HOME)");
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.new", path) >= sizeof(tmp))
		return cli_fail(CLI_LOCAL, "path too long");
	(void)unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600)) < 0)
		return cli_fail(CLI_LOCAL, "cannot create %s: %s", tmp,
		    strerror(errno));
	if ((f = fdopen(fd, "w")) == NULL) {
		close(fd);
		return cli_fail(CLI_LOCAL, "cannot write %s", tmp);
	}
	ok = fprintf(f, "%s\n%s\n", token, url) > 0;
	if (fclose(f) != 0)
		ok = 0;
	if (!ok || rename(tmp, path) != 0) {
		(void)unlink(tmp);
		return cli_fail(CLI_LOCAL, "cannot write %s", path);
	}
	return CLI_OK;
}

/* ------------------------------------------------------------------ */
/* gong login / logout                                                 */
/* ------------------------------------------------------------------ */

static const char login_help[] =
    "usage: gong login [--user NAME] [--password-file FILE]\n"
    "                  [--token-name NAME] [options]\n"
    "\n"
    "Log in to gongd as a user and keep an API token for the next\n"
    "commands in ~/.config/gong/token (mode 0600; $XDG_CONFIG_HOME/gong\n"
    "when set).  The password is asked without echo, or read from the\n"
    "first line of --password-file.  The token is shown by gongd once and\n"
    "stored there only; `gong logout` revokes it.\n"
    "\n"
    "  --user NAME        the account (default: $USER)\n"
    "  --password-file F  read the password from F\n"
    "  --token-name NAME  the token's name (default: gong-cli-<time>)\n";

int
cli_login(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "user", required_argument, NULL, OPT_USER },
		{ "password-file", required_argument, NULL,
		    OPT_PASSWORD_FILE },
		{ "token-name", required_argument, NULL, OPT_TOKEN_NAME },
		{ NULL, 0, NULL, 0 }
	};
	struct cli_answer a = { 0 };
	struct cli_client c;
	struct cli_opts o;
	const char *user = getenv("USER"), *pwfile = NULL, *tname = NULL;
	char pw[PW_MAX + 2], tn[64], path[1024], b1[64], b2[64], b3[64];
	const char *tok;
	json_t *body;
	int ch, rv;

	cli_opts_init(&o, "login");
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, CLI_SHORTOPTS, longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'h':
			cli_usage(stdout, login_help);
			return CLI_OK;
		case OPT_USER:
			user = optarg;
			break;
		case OPT_PASSWORD_FILE:
			pwfile = optarg;
			break;
		case OPT_TOKEN_NAME:
			tname = optarg;
			break;
		default:
			if ((rv = cli_opts_handle(&o, ch, optarg, argv)) !=
			    CLI_OK)
				return rv;
			break;
		}
	}
	if (optind != argc || user == NULL || *user == '\0') {
		fprintf(stderr, "gong login: %s\nTry 'gong login --help'.\n",
		    optind != argc ? "too many arguments" : "--user is "
		    "required");
		return CLI_USAGE;
	}
	if (tname == NULL) {
		(void)snprintf(tn, sizeof(tn), "gong-cli-%lld",
		    (long long)time(NULL));
		tname = tn;
	}
	/* No token is needed (nor sent) to log in. */
	o.token = "";
	if ((rv = cli_client_init(&c, &o)) != CLI_OK)
		return rv;
	c.token[0] = '\0';
	if ((rv = read_password(pwfile, "password: ", pw, sizeof(pw))) !=
	    CLI_OK)
		return rv;
	body = json_pack("{s:s,s:s,s:s}", "name", user, "password", pw,
	    "token_name", tname);
	memset(pw, 0, sizeof(pw));
	if (body == NULL)
		return cli_fail(CLI_LOCAL, "out of memory");
	rv = call(&c, "POST", "/api/v1/login", body, &a);
	json_object_set_new(body, "password", json_string(""));
	json_decref(body);
	if (rv != CLI_OK)
		goto out;
	tok = json_string_value(json_object_get(a.json, "token"));
	if (tok == NULL) {
		rv = cli_fail(CLI_SERVER, "gongd's answer has no token");
		goto out;
	}
	if ((rv = save_token(tok, c.url, path, sizeof(path))) != CLI_OK)
		goto out;
	if (o.json) {
		json_object_del(a.json, "token");
		(void)json_object_set_new(a.json, "token_file",
		    json_string(path));
		cli_print_json(stdout, a.json);
	} else {
		printf("logged in as %s (%s, jurisdiction %s); token %s kept "
		    "in %s\n", cli_jstr(a.json, "user", b1, sizeof(b1)),
		    cli_jstr(a.json, "role", b2, sizeof(b2)),
		    cli_jstr(a.json, "jurisdiction", b3, sizeof(b3)), tname,
		    path);
	}
out:
	if (a.body != NULL)
		memset(a.body, 0, a.len);
	cli_answer_release(&a);
	return rv;
}

static const char logout_help[] =
    "usage: gong logout [options]\n"
    "\n"
    "Revoke the API token `gong login` kept and remove its file.\n";

/* The id of the token we are sending (GET /api/v1/me names it). */
int
cli_logout(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct cli_answer a = { 0 }, t = { 0 };
	struct cli_client c;
	struct cli_opts o;
	char path[1024], want[160], p[64];
	const char *name;
	json_t *v;
	size_t i;
	int ch, rv;

	cli_opts_init(&o, "logout");
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, CLI_SHORTOPTS, longopts,
	    NULL)) != -1) {
		if (ch == 'h') {
			cli_usage(stdout, logout_help);
			return CLI_OK;
		}
		if ((rv = cli_opts_handle(&o, ch, optarg, argv)) != CLI_OK)
			return rv;
	}
	if (token_path(path, sizeof(path), 0) != 0 || access(path, F_OK) != 0)
		return cli_fail(CLI_USAGE, "not logged in (no token file)");
	o.token_file = path;
	if ((rv = cli_client_init(&c, &o)) != CLI_OK)
		return rv;
	if ((rv = call(&c, "GET", "/api/v1/me", NULL, &a)) != CLI_OK)
		goto out;
	name = json_string_value(json_object_get(a.json, "name"));
	if (name == NULL || strchr(name, '/') == NULL) {
		rv = cli_fail(CLI_SERVER, "the kept token is no API token");
		goto out;
	}
	(void)snprintf(want, sizeof(want), "%s", strchr(name, '/') + 1);
	if ((rv = call(&c, "GET", "/api/v1/tokens", NULL, &t)) != CLI_OK)
		goto out;
	rv = cli_fail(CLI_SERVER, "the token was not found in the list");
	json_array_foreach(json_object_get(t.json, "tokens"), i, v) {
		const char *n = json_string_value(json_object_get(v, "name"));

		if (n == NULL || strcmp(n, want) != 0 ||
		    !json_is_null(json_object_get(v, "revoked")))
			continue;
		cli_answer_release(&a);
		(void)snprintf(p, sizeof(p), "/api/v1/tokens/%lld",
		    cli_jint(v, "id", 0));
		if ((rv = call(&c, "DELETE", p, NULL, &a)) == CLI_OK) {
			(void)unlink(path);
			printf("logged out: token %s revoked, %s removed\n",
			    want, path);
		}
		break;
	}
out:
	cli_answer_release(&a);
	cli_answer_release(&t);
	return rv;
}

/* ------------------------------------------------------------------ */
/* gong users                                                          */
/* ------------------------------------------------------------------ */

static const char users_help[] =
    "usage: gong users list [options]\n"
    "       gong users add NAME --role ROLE --jurisdiction CODE\n"
    "                      [--display-name TEXT] [--password-file FILE]\n"
    "       gong users set NAME [--role ROLE] [--jurisdiction CODE]\n"
    "                      [--display-name TEXT] [--password-file FILE |\n"
    "                      --password] [--enable]\n"
    "       gong users disable NAME\n"
    "\n"
    "Accounts (admins only).  ROLE is admin, officer or viewer; CODE a\n"
    "region code (6, 9 or 12 digits): the user acts on its subtree.\n"
    "`add` without --password-file has gongd make a random password,\n"
    "printed once.  `set --password` asks a new one without echo.  A new\n"
    "password or disabling ends the user's sessions.\n";

static void
user_row(const json_t *u)
{
	char b[4][96];

	cli_print_padded(stdout, cli_jstr(u, "name", b[0], sizeof(b[0])), 16);
	fputc(' ', stdout);
	cli_print_padded(stdout, cli_jstr(u, "role", b[1], sizeof(b[1])), 8);
	fputc(' ', stdout);
	cli_print_padded(stdout, cli_jstr(u, "jurisdiction", b[2],
	    sizeof(b[2])), 13);
	fputc(' ', stdout);
	cli_print_padded(stdout, json_is_true(json_object_get(u, "disabled")) ?
	    "disabled" : "enabled", 9);
	fputc(' ', stdout);
	cli_print_padded(stdout, cli_jstr(u, "display_name", b[3],
	    sizeof(b[3])), 0);
	fputc('\n', stdout);
}

int
cli_users(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "role", required_argument, NULL, OPT_ROLE },
		{ "jurisdiction", required_argument, NULL, OPT_JURISDICTION },
		{ "display-name", required_argument, NULL, OPT_DISPLAY },
		{ "password-file", required_argument, NULL,
		    OPT_PASSWORD_FILE },
		{ "password", no_argument, NULL, OPT_PASSWORD_PROMPT },
		{ "enable", no_argument, NULL, OPT_ENABLE },
		{ NULL, 0, NULL, 0 }
	};
	struct cli_answer a = { 0 };
	struct cli_client c;
	struct cli_opts o;
	const char *role = NULL, *jur = NULL, *display = NULL, *pwfile = NULL;
	const char *verb, *name = NULL;
	char pw[PW_MAX + 2], path[256];
	int ch, rv, ask = 0, enable = 0, n;
	json_t *body = NULL, *v;
	size_t i;

	cli_opts_init(&o, "users");
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, CLI_SHORTOPTS, longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'h':
			cli_usage(stdout, users_help);
			return CLI_OK;
		case OPT_ROLE:
			role = optarg;
			break;
		case OPT_JURISDICTION:
			jur = optarg;
			break;
		case OPT_DISPLAY:
			display = optarg;
			break;
		case OPT_PASSWORD_FILE:
			pwfile = optarg;
			break;
		case OPT_PASSWORD_PROMPT:
			ask = 1;
			break;
		case OPT_ENABLE:
			enable = 1;
			break;
		default:
			if ((rv = cli_opts_handle(&o, ch, optarg, argv)) !=
			    CLI_OK)
				return rv;
			break;
		}
	}
	n = argc - optind;
	verb = n > 0 ? argv[optind] : "list";
	if (n > 1)
		name = argv[optind + 1];
	if ((strcmp(verb, "list") == 0 && n > 1) ||
	    (strcmp(verb, "list") != 0 && n != 2) ||
	    (strcmp(verb, "list") != 0 && strcmp(verb, "add") != 0 &&
	    strcmp(verb, "set") != 0 && strcmp(verb, "disable") != 0) ||
	    (strcmp(verb, "add") == 0 && (role == NULL || jur == NULL))) {
		fprintf(stderr, "gong users: give list, add NAME --role ROLE "
		    "--jurisdiction CODE, set NAME ..., or disable NAME\n"
		    "Try 'gong users --help'.\n");
		return CLI_USAGE;
	}
	if ((rv = cli_client_init(&c, &o)) != CLI_OK)
		return rv;
	if (strcmp(verb, "list") == 0) {
		if ((rv = call(&c, "GET", "/api/v1/users", NULL, &a)) !=
		    CLI_OK)
			goto out;
		if (o.json) {
			cli_print_json(stdout, a.json);
			goto out;
		}
		printf("NAME             ROLE     JURISDICTION  STATE     "
		    "DISPLAY NAME\n");
		json_array_foreach(json_object_get(a.json, "users"), i, v)
			user_row(v);
		goto out;
	}
	if ((body = json_object()) == NULL) {
		rv = cli_fail(CLI_LOCAL, "out of memory");
		goto out;
	}
	if (role != NULL)
		(void)json_object_set_new(body, "role", json_string(role));
	if (jur != NULL)
		(void)json_object_set_new(body, "jurisdiction",
		    json_string(jur));
	if (display != NULL)
		(void)json_object_set_new(body, "display_name",
		    json_string(display));
	if (pwfile != NULL || ask) {
		if ((rv = read_password(pwfile, "new password: ", pw,
		    sizeof(pw))) != CLI_OK)
			goto out;
		(void)json_object_set_new(body, "password", json_string(pw));
		memset(pw, 0, sizeof(pw));
	}
	if (strcmp(verb, "disable") == 0)
		(void)json_object_set_new(body, "disabled", json_true());
	else if (enable)
		(void)json_object_set_new(body, "disabled", json_false());
	if (strcmp(verb, "add") == 0) {
		(void)json_object_set_new(body, "name", json_string(name));
		rv = call(&c, "POST", "/api/v1/users", body, &a);
	} else {
		if ((size_t)snprintf(path, sizeof(path), "/api/v1/users/%s",
		    name) >= sizeof(path) || strpbrk(name, "/?#%") != NULL) {
			rv = cli_fail(CLI_USAGE, "bad user name '%s'", name);
			goto out;
		}
		rv = call(&c, "PATCH", path, body, &a);
	}
	if (rv != CLI_OK)
		goto out;
	if (o.json) {
		cli_print_json(stdout, a.json);
		goto out;
	}
	user_row(a.json);
	if ((v = json_object_get(a.json, "password")) != NULL &&
	    json_is_string(v))
		printf("password (shown once): %s\n", json_string_value(v));
out:
	if (body != NULL) {
		(void)json_object_del(body, "password");
		json_decref(body);
	}
	cli_answer_release(&a);
	return rv;
}

/* ------------------------------------------------------------------ */
/* gong tokens                                                         */
/* ------------------------------------------------------------------ */

static const char tokens_help[] =
    "usage: gong tokens list [--all] [options]\n"
    "       gong tokens create NAME [--user USER]\n"
    "       gong tokens revoke ID\n"
    "\n"
    "API tokens (Authorization: Bearer TOKEN).  A token acts with its\n"
    "user's role and jurisdiction; it is shown once when created and\n"
    "stored by gongd only as a hash.  --all and --user are for admins.\n";

int
cli_tokens(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "all", no_argument, NULL, OPT_ALL },
		{ "user", required_argument, NULL, OPT_USER },
		{ NULL, 0, NULL, 0 }
	};
	struct cli_answer a = { 0 };
	struct cli_client c;
	struct cli_opts o;
	const char *verb, *arg = NULL, *user = NULL;
	char path[96], b[6][64], *end;
	long long id;
	json_t *body = NULL, *v;
	size_t i;
	int ch, rv, all = 0, n;

	cli_opts_init(&o, "tokens");
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, CLI_SHORTOPTS, longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'h':
			cli_usage(stdout, tokens_help);
			return CLI_OK;
		case OPT_ALL:
			all = 1;
			break;
		case OPT_USER:
			user = optarg;
			break;
		default:
			if ((rv = cli_opts_handle(&o, ch, optarg, argv)) !=
			    CLI_OK)
				return rv;
			break;
		}
	}
	n = argc - optind;
	verb = n > 0 ? argv[optind] : "list";
	if (n > 1)
		arg = argv[optind + 1];
	if ((strcmp(verb, "list") == 0 && n > 1) ||
	    ((strcmp(verb, "create") == 0 || strcmp(verb, "revoke") == 0) &&
	    n != 2) || (strcmp(verb, "list") != 0 &&
	    strcmp(verb, "create") != 0 && strcmp(verb, "revoke") != 0)) {
		fprintf(stderr, "gong tokens: give list, create NAME or revoke "
		    "ID\nTry 'gong tokens --help'.\n");
		return CLI_USAGE;
	}
	if ((rv = cli_client_init(&c, &o)) != CLI_OK)
		return rv;
	if (strcmp(verb, "list") == 0) {
		rv = call(&c, "GET", all ? "/api/v1/tokens?all=1" :
		    "/api/v1/tokens", NULL, &a);
		if (rv != CLI_OK)
			goto out;
		if (o.json) {
			cli_print_json(stdout, a.json);
			goto out;
		}
		printf("ID     USER             NAME                     "
		    "CREATED              LAST USED            REVOKED\n");
		json_array_foreach(json_object_get(a.json, "tokens"), i, v) {
			cli_print_padded(stdout, cli_jstr(v, "id", b[0],
			    sizeof(b[0])), 6);
			fputc(' ', stdout);
			cli_print_padded(stdout, cli_jstr(v, "user", b[1],
			    sizeof(b[1])), 16);
			fputc(' ', stdout);
			cli_print_padded(stdout, cli_jstr(v, "name", b[2],
			    sizeof(b[2])), 24);
			fputc(' ', stdout);
			cli_print_padded(stdout, cli_local_time(cli_jstr(v,
			    "created", b[5], sizeof(b[5])), b[3],
			    sizeof(b[3])), 20);
			fputc(' ', stdout);
			cli_print_padded(stdout, cli_local_time(cli_jstr(v,
			    "last_used", b[5], sizeof(b[5])), b[4],
			    sizeof(b[4])), 20);
			fputc(' ', stdout);
			cli_print_padded(stdout, cli_local_time(cli_jstr(v,
			    "revoked", b[5], sizeof(b[5])), b[3],
			    sizeof(b[3])), 0);
			fputc('\n', stdout);
		}
		goto out;
	}
	if (strcmp(verb, "create") == 0) {
		body = json_pack("{s:s}", "name", arg);
		if (body != NULL && user != NULL)
			(void)json_object_set_new(body, "user",
			    json_string(user));
		if (body == NULL) {
			rv = cli_fail(CLI_LOCAL, "out of memory");
			goto out;
		}
		if ((rv = call(&c, "POST", "/api/v1/tokens", body, &a)) !=
		    CLI_OK)
			goto out;
		if (o.json)
			cli_print_json(stdout, a.json);
		else
			printf("token %s (id %lld) for %s, shown once:\n%s\n",
			    cli_jstr(a.json, "name", b[0], sizeof(b[0])),
			    cli_jint(a.json, "id", 0), cli_jstr(a.json, "user",
			    b[1], sizeof(b[1])), json_string_value(
			    json_object_get(a.json, "token")) ?
			    json_string_value(json_object_get(a.json,
			    "token")) : "?");
		goto out;
	}
	errno = 0;
	id = strtoll(arg, &end, 10);
	if (errno != 0 || *end != '\0' || id < 1) {
		rv = cli_fail(CLI_USAGE, "bad token id '%s'", arg);
		goto out;
	}
	(void)snprintf(path, sizeof(path), "/api/v1/tokens/%lld", id);
	if ((rv = call(&c, "DELETE", path, NULL, &a)) != CLI_OK)
		goto out;
	if (o.json)
		cli_print_json(stdout, a.json);
	else
		printf("token %lld (%s of %s) revoked\n", id,
		    cli_jstr(a.json, "name", b[0], sizeof(b[0])),
		    cli_jstr(a.json, "user", b[1], sizeof(b[1])));
out:
	json_decref(body);
	cli_answer_release(&a);
	return rv;
}

/* ------------------------------------------------------------------ */
/* gong passwd                                                         */
/* ------------------------------------------------------------------ */

static const char passwd_help[] =
    "usage: gong passwd [--current-password-file FILE]\n"
    "                   [--password-file FILE] [options]\n"
    "\n"
    "Change your own password (the account of the token gong sends):\n"
    "the current one and the new one (twice) are asked without echo, or\n"
    "read from the first line of the files.  Your sessions end.\n";

int
cli_passwd(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "current-password-file", required_argument, NULL,
		    OPT_CURRENT_FILE },
		{ "password-file", required_argument, NULL,
		    OPT_PASSWORD_FILE },
		{ NULL, 0, NULL, 0 }
	};
	struct cli_answer a = { 0 };
	struct cli_client c;
	struct cli_opts o;
	const char *curfile = NULL, *newfile = NULL, *name;
	char cur[PW_MAX + 2], pw[PW_MAX + 2], again[PW_MAX + 2];
	char user[128], path[256];
	json_t *body = NULL;
	int ch, rv;

	cli_opts_init(&o, "passwd");
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, CLI_SHORTOPTS, longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'h':
			cli_usage(stdout, passwd_help);
			return CLI_OK;
		case OPT_CURRENT_FILE:
			curfile = optarg;
			break;
		case OPT_PASSWORD_FILE:
			newfile = optarg;
			break;
		default:
			if ((rv = cli_opts_handle(&o, ch, optarg, argv)) !=
			    CLI_OK)
				return rv;
			break;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "gong passwd: too many arguments\n"
		    "Try 'gong passwd --help'.\n");
		return CLI_USAGE;
	}
	if ((rv = cli_client_init(&c, &o)) != CLI_OK)
		return rv;
	if ((rv = call(&c, "GET", "/api/v1/me", NULL, &a)) != CLI_OK)
		goto out;
	name = json_string_value(json_object_get(a.json, "name"));
	if (name == NULL || strcmp(cli_jstr(a.json, "kind", user,
	    sizeof(user)), "admin_token") == 0) {
		rv = cli_fail(CLI_USAGE, "the admin token is no account: "
		    "log in first (gong login)");
		goto out;
	}
	(void)snprintf(user, sizeof(user), "%.*s", (int)strcspn(name, "/"),
	    name);
	if ((rv = read_password(curfile, "current password: ", cur,
	    sizeof(cur))) != CLI_OK ||
	    (rv = read_password(newfile, "new password: ", pw,
	    sizeof(pw))) != CLI_OK)
		goto out;
	if (newfile == NULL) {
		if ((rv = read_password(NULL, "new password again: ", again,
		    sizeof(again))) != CLI_OK)
			goto out;
		if (strcmp(pw, again) != 0) {
			rv = cli_fail(CLI_USAGE, "the new passwords differ");
			goto out;
		}
	}
	body = json_pack("{s:s,s:s}", "current_password", cur, "password",
	    pw);
	if (body == NULL) {
		rv = cli_fail(CLI_LOCAL, "out of memory");
		goto out;
	}
	(void)snprintf(path, sizeof(path), "/api/v1/users/%s", user);
	cli_answer_release(&a);
	if ((rv = call(&c, "PATCH", path, body, &a)) != CLI_OK)
		goto out;
	if (o.json)
		cli_print_json(stdout, a.json);
	else
		printf("password of %s changed\n", user);
out:
	memset(cur, 0, sizeof(cur));
	memset(pw, 0, sizeof(pw));
	memset(again, 0, sizeof(again));
	if (body != NULL) {
		(void)json_object_del(body, "password");
		(void)json_object_del(body, "current_password");
		json_decref(body);
	}
	cli_answer_release(&a);
	return rv;
}

/* ------------------------------------------------------------------ */
/* gong audit                                                          */
/* ------------------------------------------------------------------ */

static const char audit_help[] =
    "usage: gong audit [--since TIME] [--actor WHO] [--action WHAT]\n"
    "                  [--limit N] [options]\n"
    "\n"
    "The audit trail, newest first: who (a user, token:USER/NAME,\n"
    "feed:NAME, token:admin.token, anonymous) did what, to what, in which\n"
    "jurisdiction, from which address, and how it ended.  Admins see every\n"
    "row, officers their jurisdiction's.  TIME is YYYY-MM-DDThh:mm:ssZ or\n"
    "milliseconds since the epoch; N up to 1000 (default 100).\n";

/* Escape a query value: only [A-Za-z0-9:._/-] go as they are. */
static int
qarg(char *buf, size_t size, const char *name, const char *v)
{
	size_t n = strlen(buf);
	int w;

	w = snprintf(buf + n, size - n, "&%s=", name);
	if (w < 0 || (size_t)w >= size - n)
		return -1;
	n += (size_t)w;
	for (; *v != '\0'; v++) {
		unsigned char ch = (unsigned char)*v;

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || strchr(":._/-", ch) != NULL)
			w = snprintf(buf + n, size - n, "%c", ch);
		else
			w = snprintf(buf + n, size - n, "%%%02X", ch);
		if (w < 0 || (size_t)w >= size - n)
			return -1;
		n += (size_t)w;
	}
	return 0;
}

int
cli_audit(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "actor", required_argument, NULL, OPT_ACTOR },
		{ "action", required_argument, NULL, OPT_ACTION },
		{ "limit", required_argument, NULL, OPT_LIMIT },
		{ NULL, 0, NULL, 0 }
	};
	struct cli_answer a = { 0 };
	struct cli_client c;
	struct cli_opts o;
	const char *since = NULL, *actor = NULL, *action = NULL;
	const char *limit = NULL;
	char path[1024], b[7][96];
	json_t *v;
	size_t i;
	int ch, rv;

	cli_opts_init(&o, "audit");
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, CLI_SHORTOPTS, longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'h':
			cli_usage(stdout, audit_help);
			return CLI_OK;
		case OPT_SINCE:
			since = optarg;
			break;
		case OPT_ACTOR:
			actor = optarg;
			break;
		case OPT_ACTION:
			action = optarg;
			break;
		case OPT_LIMIT:
			limit = optarg;
			break;
		default:
			if ((rv = cli_opts_handle(&o, ch, optarg, argv)) !=
			    CLI_OK)
				return rv;
			break;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "gong audit: too many arguments\n"
		    "Try 'gong audit --help'.\n");
		return CLI_USAGE;
	}
	(void)snprintf(path, sizeof(path), "/api/v1/audit?x=1");
	if ((since != NULL && qarg(path, sizeof(path), "since", since)) ||
	    (actor != NULL && qarg(path, sizeof(path), "actor", actor)) ||
	    (action != NULL && qarg(path, sizeof(path), "action", action)) ||
	    (limit != NULL && qarg(path, sizeof(path), "limit", limit)))
		return cli_fail(CLI_USAGE, "arguments too long");
	if ((rv = cli_client_init(&c, &o)) != CLI_OK)
		return rv;
	if ((rv = call(&c, "GET", path, NULL, &a)) != CLI_OK)
		goto out;
	if (o.json) {
		cli_print_json(stdout, a.json);
		goto out;
	}
	printf("TIME                 ACTOR                ACTION         "
	    "OUTCOME          TARGET                   JURISDICTION  FROM\n");
	json_array_foreach(json_object_get(a.json, "audit"), i, v) {
		cli_print_padded(stdout, cli_local_time(cli_jstr(v, "at",
		    b[6], sizeof(b[6])), b[0], sizeof(b[0])), 20);
		fputc(' ', stdout);
		cli_print_padded(stdout, cli_jstr(v, "actor", b[1],
		    sizeof(b[1])), 20);
		fputc(' ', stdout);
		cli_print_padded(stdout, cli_jstr(v, "action", b[2],
		    sizeof(b[2])), 14);
		fputc(' ', stdout);
		cli_print_padded(stdout, cli_jstr(v, "outcome", b[3],
		    sizeof(b[3])), 16);
		fputc(' ', stdout);
		cli_print_padded(stdout, cli_jstr(v, "target", b[4],
		    sizeof(b[4])), 24);
		fputc(' ', stdout);
		cli_print_padded(stdout, cli_jstr(v, "jurisdiction", b[5],
		    sizeof(b[5])), 13);
		fputc(' ', stdout);
		cli_print_padded(stdout, cli_jstr(v, "from", b[6],
		    sizeof(b[6])), 0);
		fputc('\n', stdout);
	}
out:
	cli_answer_release(&a);
	return rv;
}
