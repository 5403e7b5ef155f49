/*
 * tests/unit/test_cli_client.c - the CLI's shared parts: argument
 * reordering and parsing, URL and token discovery (temp data dir), exit
 * codes, and the command-line checks each command makes before it talks
 * to gongd.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <curl/curl.h>

#include "engine/cli/cli.h"
#include "engine/cli/client.h"

#define ARGC(v) ((int)(sizeof(v) / sizeof((v)[0])) - 1)

struct fx {
	char dir[64];
};

static void
write_file(const char *dir, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void
rm_file(const char *dir, const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
}

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	if (fx == NULL)
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/test_cli_XXXXXX");
	if (mkdtemp(fx->dir) == NULL) {
		free(fx);
		return -1;
	}
	unsetenv("GONG_URL");
	unsetenv("GONG_TOKEN");
	unsetenv("GONG_DATA_DIR");
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;
	static const char *const names[] = {
		"gongd.url", "admin.token", "tok", "exists.db",
		"exists.db.tmp", "x.csv",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		rm_file(fx->dir, names[i]);
	rmdir(fx->dir);
	free(fx);
	unsetenv("GONG_URL");
	unsetenv("GONG_TOKEN");
	unsetenv("GONG_DATA_DIR");
	return 0;
}

static void
t_reorder(void **state)
{
	char *a1[] = { "gong", "--url", "http://x", "--json", "regions",
	    "140425", "--depth", "2", NULL };
	char *a2[] = { "gong", "--token", "status", "status", NULL };
	char *a3[] = { "gong", "--json", NULL };
	char *a4[] = { "gong", "--help", NULL };
	char *a5[] = { "gong", "--timeout=3", "--", "import", "--x", NULL };
	char *a6[] = { "gong", "--help", "regions", NULL };
	char *out[16];
	int help;

	(void)state;
	assert_int_equal(cli_args_reorder(ARGC(a1), a1, out, &help), 7);
	assert_string_equal(out[0], "regions");
	assert_string_equal(out[1], "--url");
	assert_string_equal(out[2], "http://x");
	assert_string_equal(out[3], "--json");
	assert_string_equal(out[4], "140425");
	assert_string_equal(out[5], "--depth");
	assert_string_equal(out[6], "2");
	assert_null(out[7]);
	assert_int_equal(help, 0);

	/* A global option's value is never the subcommand. */
	assert_int_equal(cli_args_reorder(ARGC(a2), a2, out, &help), 3);
	assert_string_equal(out[0], "status");
	assert_string_equal(out[1], "--token");
	assert_string_equal(out[2], "status");

	assert_int_equal(cli_args_reorder(ARGC(a3), a3, out, &help), 0);
	assert_int_equal(help, 0);
	assert_int_equal(cli_args_reorder(ARGC(a4), a4, out, &help), 0);
	assert_int_equal(help, 1);

	/* "--" ends the global options and is dropped. */
	assert_int_equal(cli_args_reorder(ARGC(a5), a5, out, &help), 3);
	assert_string_equal(out[0], "import");
	assert_string_equal(out[1], "--timeout=3");
	assert_string_equal(out[2], "--x");

	assert_int_equal(cli_args_reorder(ARGC(a6), a6, out, &help), 2);
	assert_string_equal(out[0], "regions");
	assert_string_equal(out[1], "--help");
}

/* The loop every command runs, with only the global options. */
static int
parse(int argc, char **argv, struct cli_opts *o)
{
	static const struct option lo[] = {
		CLI_GLOBAL_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	int ch, rv;

	cli_opts_init(o, "test");
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, CLI_SHORTOPTS, lo, NULL)) != -1)
		if (ch == 'h' ||
		    (rv = cli_opts_handle(o, ch, optarg, argv)) != CLI_OK)
			return ch == 'h' ? -1 : rv;
	return optind;
}

static void
t_global_options(void **state)
{
	char *a1[] = { "test", "pos", "--url=http://h:1", "--json",
	    "--timeout", "7", "--token-file", "f", "--data-dir", "d", NULL };
	char *a2[] = { "test", "--timeout", "-1", NULL };
	char *a3[] = { "test", "--timeout", "86401", NULL };
	char *a4[] = { "test", "--bogus", NULL };
	char *a5[] = { "test", "--url", NULL };
	char *a6[] = { "test", "-x", NULL };
	char *a7[] = { "test", "--timeout", "5s", NULL };
	struct cli_opts o;

	(void)state;
	/* Options after the positional argument too (permutation). */
	assert_int_equal(parse(ARGC(a1), a1, &o), ARGC(a1) - 1);
	assert_string_equal(a1[ARGC(a1) - 1], "pos");
	assert_string_equal(o.url, "http://h:1");
	assert_int_equal(o.json, 1);
	assert_int_equal(o.timeout_s, 7);
	assert_string_equal(o.token_file, "f");
	assert_string_equal(o.data_dir, "d");
	assert_null(o.token);

	assert_int_equal(parse(ARGC(a2), a2, &o), CLI_USAGE);
	assert_int_equal(parse(ARGC(a3), a3, &o), CLI_USAGE);
	assert_int_equal(parse(ARGC(a4), a4, &o), CLI_USAGE);
	assert_int_equal(parse(ARGC(a5), a5, &o), CLI_USAGE);
	assert_int_equal(parse(ARGC(a6), a6, &o), CLI_USAGE);
	assert_int_equal(parse(ARGC(a7), a7, &o), CLI_USAGE);
	cli_opts_init(&o, "test");
	assert_int_equal(o.timeout_s, -1);
}

static void
t_url(void **state)
{
	struct fx *fx = *state;
	struct cli_opts o;
	char buf[CLI_URL_SIZE];

	cli_opts_init(&o, "test");
	o.data_dir = fx->dir;
	/* Nothing anywhere: the default. */
	assert_int_equal(cli_find_url(&o, buf, sizeof(buf)), CLI_OK);
	assert_string_equal(buf, "http://127.0.0.1:8080");
	/* An empty url file is ignored. */
	write_file(fx->dir, "gongd.url", "\n");
	assert_int_equal(cli_find_url(&o, buf, sizeof(buf)), CLI_OK);
	assert_string_equal(buf, "http://127.0.0.1:8080");
	/* gongd's file: first line only, CRLF and slash dropped. */
	write_file(fx->dir, "gongd.url",
	    "  http://127.0.0.1:43125/\r\nhttp://other\n");
	assert_int_equal(cli_find_url(&o, buf, sizeof(buf)), CLI_OK);
	assert_string_equal(buf, "http://127.0.0.1:43125");
	/* GONG_DATA_DIR is used when --data-dir is not given. */
	o.data_dir = NULL;
	setenv("GONG_DATA_DIR", fx->dir, 1);
	assert_int_equal(cli_find_url(&o, buf, sizeof(buf)), CLI_OK);
	assert_string_equal(buf, "http://127.0.0.1:43125");
	/* $GONG_URL beats the file, --url beats both. */
	setenv("GONG_URL", "https://gong.example:9/", 1);
	assert_int_equal(cli_find_url(&o, buf, sizeof(buf)), CLI_OK);
	assert_string_equal(buf, "https://gong.example:9");
	o.url = "http://[::1]:8080";
	assert_int_equal(cli_find_url(&o, buf, sizeof(buf)), CLI_OK);
	assert_string_equal(buf, "http://[::1]:8080");
	/* Hostile or wrong. */
	o.url = "ftp://127.0.0.1/";
	assert_int_equal(cli_find_url(&o, buf, sizeof(buf)), CLI_USAGE);
	o.url = "http://a\nb";
	assert_int_equal(cli_find_url(&o, buf, sizeof(buf)), CLI_USAGE);
	o.url = "http://toolong";
	assert_int_equal(cli_find_url(&o, buf, 8), CLI_USAGE);
}

static void
t_token(void **state)
{
	struct fx *fx = *state;
	char buf[CLI_TOKEN_SIZE], where[CLI_WHERE_SIZE], want[512], tf[128];
	struct cli_opts o;

	cli_opts_init(&o, "test");
	o.data_dir = fx->dir;
	/* None: an empty token and a message naming every place. */
	assert_int_equal(cli_find_token(&o, buf, sizeof(buf), where,
	    sizeof(where)), CLI_OK);
	assert_string_equal(buf, "");
	snprintf(want, sizeof(want), "no token: looked at --token, "
	    "$GONG_TOKEN, --token-file and %s/admin.token (No such file or "
	    "directory)", fx->dir);
	assert_string_equal(where, want);

	write_file(fx->dir, "admin.token", "s3cr3t-admin\n");
	assert_int_equal(cli_find_token(&o, buf, sizeof(buf), where,
	    sizeof(where)), CLI_OK);
	assert_string_equal(buf, "s3cr3t-admin");
	snprintf(want, sizeof(want), "%s/admin.token", fx->dir);
	assert_string_equal(where, want);

	write_file(fx->dir, "tok", "from-file\r\n");
	snprintf(tf, sizeof(tf), "%s/tok", fx->dir);
	o.token_file = tf;
	assert_int_equal(cli_find_token(&o, buf, sizeof(buf), where,
	    sizeof(where)), CLI_OK);
	assert_string_equal(buf, "from-file");
	snprintf(want, sizeof(want), "--token-file %s", tf);
	assert_string_equal(where, want);

	setenv("GONG_TOKEN", "from-env", 1);
	assert_int_equal(cli_find_token(&o, buf, sizeof(buf), where,
	    sizeof(where)), CLI_OK);
	assert_string_equal(buf, "from-env");
	assert_string_equal(where, "$GONG_TOKEN");

	o.token = "from-arg";
	assert_int_equal(cli_find_token(&o, buf, sizeof(buf), where,
	    sizeof(where)), CLI_OK);
	assert_string_equal(buf, "from-arg");
	assert_string_equal(where, "--token");

	/* A token that would smuggle a header. */
	o.token = "abc\r\nX-Evil: 1";
	assert_int_equal(cli_find_token(&o, buf, sizeof(buf), where,
	    sizeof(where)), CLI_INVALID);
	assert_string_equal(buf, "");

	/* An explicit token file that is missing is an error. */
	o.token = NULL;
	unsetenv("GONG_TOKEN");
	o.token_file = "/nonexistent/tok";
	assert_int_equal(cli_find_token(&o, buf, sizeof(buf), where,
	    sizeof(where)), CLI_LOCAL);

	/* An empty admin.token says so. */
	o.token_file = NULL;
	write_file(fx->dir, "admin.token", "\n");
	assert_int_equal(cli_find_token(&o, buf, sizeof(buf), where,
	    sizeof(where)), CLI_OK);
	assert_string_equal(buf, "");
	snprintf(want, sizeof(want), "no token: %s/admin.token is empty",
	    fx->dir);
	assert_string_equal(where, want);
}

static void
t_first_line(void **state)
{
	struct fx *fx = *state;
	char path[128], buf[8];

	snprintf(path, sizeof(path), "%s/tok", fx->dir);
	write_file(fx->dir, "tok", "0123456789\n");
	assert_int_equal(cli_read_first_line(path, buf, sizeof(buf)),
	    -ENAMETOOLONG);
	write_file(fx->dir, "tok", "");
	assert_int_equal(cli_read_first_line(path, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	write_file(fx->dir, "tok", "\tab c \n");
	assert_int_equal(cli_read_first_line(path, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "ab c");
	assert_int_equal(cli_read_first_line("/nonexistent/x", buf,
	    sizeof(buf)), -ENOENT);
}

static void
t_status_exit(void **state)
{
	(void)state;
	assert_int_equal(cli_status_exit(200), CLI_OK);
	assert_int_equal(cli_status_exit(204), CLI_OK);
	assert_int_equal(cli_status_exit(400), CLI_INVALID);
	assert_int_equal(cli_status_exit(413), CLI_INVALID);
	assert_int_equal(cli_status_exit(422), CLI_INVALID);
	assert_int_equal(cli_status_exit(401), CLI_AUTH);
	assert_int_equal(cli_status_exit(403), CLI_AUTH);
	assert_int_equal(cli_status_exit(404), CLI_NOTFOUND);
	assert_int_equal(cli_status_exit(500), CLI_SERVER);
	assert_int_equal(cli_status_exit(503), CLI_SERVER);
	assert_int_equal(cli_status_exit(302), CLI_SERVER);
}

/* Command-line checks made before any request. */
static void
t_command_usage(void **state)
{
	struct fx *fx = *state;
	char db[128], tmp[160], csv[128];
	char *r1[] = { "regions", NULL };
	char *r2[] = { "regions", "14o425", NULL };
	char *r3[] = { "regions", "140425", "--depth", "6", NULL };
	char *r4[] = { "regions", "140425", "140426", NULL };
	char *p1[] = { "responders", "140425", "--limit", "-3", NULL };
	char *i1[] = { "import", "people", "x.csv", NULL };
	char *i2[] = { "import", "responders", "x.csv", "--encoding",
	    "latin1", NULL };
	char *i3[] = { "import", "responders", NULL };
	char *i4[] = { "import", "responders", "/nonexistent/x.csv",
	    "--url", "http://127.0.0.1:1", "--token", "t", NULL };
	char *i5[] = { "import", "responders", csv, "--url",
	    "http://127.0.0.1:1", "--timeout", "2", NULL };
	char *b1[] = { "backup", db, "--url", "http://127.0.0.1:1", NULL };
	char *b2[] = { "backup", NULL };
	char *s1[] = { "status", "--url", "http://127.0.0.1:1", NULL };
	char *s2[] = { "status", "--url", "gopher://x", NULL };
	char *s3[] = { "status", "extra", NULL };
	char *s4[] = { "status", "--help", NULL };
	char *g1[] = { "roster", "generate", NULL };
	char *g2[] = { "roster", "make", "--out", "x", NULL };

	snprintf(db, sizeof(db), "%s/exists.db", fx->dir);
	snprintf(tmp, sizeof(tmp), "%s/exists.db.tmp", fx->dir);
	snprintf(csv, sizeof(csv), "%s/x.csv", fx->dir);
	assert_int_equal(cli_regions(ARGC(r1), r1), CLI_USAGE);
	assert_int_equal(cli_regions(ARGC(r2), r2), CLI_USAGE);
	assert_int_equal(cli_regions(ARGC(r3), r3), CLI_USAGE);
	assert_int_equal(cli_regions(ARGC(r4), r4), CLI_USAGE);
	assert_int_equal(cli_responders(ARGC(p1), p1), CLI_USAGE);
	assert_int_equal(cli_import(ARGC(i1), i1), CLI_USAGE);
	assert_int_equal(cli_import(ARGC(i2), i2), CLI_USAGE);
	assert_int_equal(cli_import(ARGC(i3), i3), CLI_USAGE);
	/* The file is opened before gongd is reached. */
	assert_int_equal(cli_import(ARGC(i4), i4), CLI_LOCAL);
	write_file(fx->dir, "x.csv", "id,name\n");
	assert_int_equal(cli_import(ARGC(i5), i5), CLI_UNREACHABLE);
	/* backup never overwrites without --force, and leaves no .tmp. */
	write_file(fx->dir, "exists.db", "keep me");
	assert_int_equal(cli_backup(ARGC(b1), b1), CLI_LOCAL);
	assert_int_equal(access(tmp, F_OK), -1);
	assert_int_equal(cli_backup(ARGC(b2), b2), CLI_USAGE);
	/* An unreachable gongd: nothing listens on port 1. */
	rm_file(fx->dir, "exists.db");
	assert_int_equal(cli_backup(ARGC(b1), b1), CLI_UNREACHABLE);
	assert_int_equal(access(tmp, F_OK), -1);
	assert_int_equal(access(db, F_OK), -1);
	assert_int_equal(cli_status(ARGC(s1), s1), CLI_UNREACHABLE);
	assert_int_equal(cli_status(ARGC(s2), s2), CLI_USAGE);
	assert_int_equal(cli_status(ARGC(s3), s3), CLI_USAGE);
	assert_int_equal(cli_status(ARGC(s4), s4), CLI_OK);
	assert_int_equal(cli_roster(ARGC(g1), g1), CLI_USAGE);
	assert_int_equal(cli_roster(ARGC(g2), g2), CLI_USAGE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_reorder, setup, teardown),
		cmocka_unit_test_setup_teardown(t_global_options, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_url, setup, teardown),
		cmocka_unit_test_setup_teardown(t_token, setup, teardown),
		cmocka_unit_test_setup_teardown(t_first_line, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_status_exit, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_command_usage, setup,
		    teardown),
	};
	int rv;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rv = cmocka_run_group_tests_name("cli_client", tests, NULL, NULL);
	curl_global_cleanup();
	return rv;
}
