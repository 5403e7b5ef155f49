/*
 * tests/unit/test_cli_http.c - the CLI's commands against a fake gongd
 * (libmicrohttpd on 127.0.0.1, a free port) that answers what each test
 * sets and records what it was sent: exit codes for every kind of
 * answer, the request (auth header, file name, body, query), backup's
 * checks and file handling, the answer size cap and the timeout.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <microhttpd.h>

#include "engine/cli/cli.h"
#include "engine/cli/client.h"
#include "engine/store.h"

#define ARGC(v) ((int)(sizeof(v) / sizeof((v)[0])) - 1)
#define HUGE_ANSWER (CLI_MAX_ANSWER + 1024)

struct fx {
	struct MHD_Daemon *d;
	char url[64];
	char dir[64];
	/* what to answer */
	unsigned status;
	const char *answer;	/* body, or NULL */
	const char *answer_file;	/* body from this file */
	int huge;		/* an answer over CLI_MAX_ANSWER */
	int delay_s;
	/* what was asked */
	char path[256];
	char auth[256];
	char fname[256];
	char ctype[64];
	char dry_run[8], encoding[16], depth[8];
	char query[512];	/* every GET argument, "k=v&k=v" */
	char *body;
	size_t body_len;
	int requests;
	/* stdout capture */
	int saved_stdout;
	char outpath[128];
};

static void
copy_hdr(struct MHD_Connection *c, enum MHD_ValueKind kind,
    const char *key, char *buf, size_t size)
{
	const char *v = MHD_lookup_connection_value(c, kind, key);

	snprintf(buf, size, "%s", v != NULL ? v : "(none)");
}

static enum MHD_Result
add_arg(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct fx *fx = cls;
	size_t n = strlen(fx->query);

	(void)kind;
	snprintf(fx->query + n, sizeof(fx->query) - n, "%s%s=%s",
	    n > 0 ? "&" : "", key, value != NULL ? value : "");
	return MHD_YES;
}

static ssize_t
huge_cb(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)cls;
	(void)pos;
	memset(buf, 'x', max);
	return (ssize_t)max;
}

static enum MHD_Result
handler(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct fx *fx = cls;
	struct MHD_Response *r;
	enum MHD_Result ret;
	FILE *f;
	char *data;
	long n;

	(void)method;
	(void)version;
	if (*con_cls == NULL) {
		*con_cls = fx;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		data = realloc(fx->body, fx->body_len + *upload_size);
		if (data == NULL)
			return MHD_NO;
		memcpy(data + fx->body_len, upload, *upload_size);
		fx->body = data;
		fx->body_len += *upload_size;
		*upload_size = 0;
		return MHD_YES;
	}
	fx->requests++;
	snprintf(fx->path, sizeof(fx->path), "%s", url);
	copy_hdr(c, MHD_HEADER_KIND, "Authorization", fx->auth,
	    sizeof(fx->auth));
	copy_hdr(c, MHD_HEADER_KIND, "X-Gong-Filename", fx->fname,
	    sizeof(fx->fname));
	copy_hdr(c, MHD_HEADER_KIND, "Content-Type", fx->ctype,
	    sizeof(fx->ctype));
	copy_hdr(c, MHD_GET_ARGUMENT_KIND, "dry_run", fx->dry_run,
	    sizeof(fx->dry_run));
	copy_hdr(c, MHD_GET_ARGUMENT_KIND, "encoding", fx->encoding,
	    sizeof(fx->encoding));
	copy_hdr(c, MHD_GET_ARGUMENT_KIND, "depth", fx->depth,
	    sizeof(fx->depth));
	fx->query[0] = '\0';
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, add_arg, fx);
	if (fx->delay_s > 0)
		sleep((unsigned)fx->delay_s);
	if (fx->huge)
		r = MHD_create_response_from_callback(HUGE_ANSWER, 65536,
		    huge_cb, NULL, NULL);
	else if (fx->answer_file != NULL) {
		if ((f = fopen(fx->answer_file, "rb")) == NULL)
			return MHD_NO;
		fseek(f, 0, SEEK_END);
		n = ftell(f);
		fseek(f, 0, SEEK_SET);
		data = malloc((size_t)n);
		if (data == NULL || fread(data, 1, (size_t)n, f) != (size_t)n) {
			free(data);
			fclose(f);
			return MHD_NO;
		}
		fclose(f);
		r = MHD_create_response_from_buffer((size_t)n, data,
		    MHD_RESPMEM_MUST_FREE);
	} else
		r = MHD_create_response_from_buffer(fx->answer != NULL ?
		    strlen(fx->answer) : 0, (void *)(uintptr_t)fx->answer,
		    MHD_RESPMEM_PERSISTENT);
	if (r == NULL)
		return MHD_NO;
	ret = MHD_queue_response(c, fx->status, r);
	MHD_destroy_response(r);
	return ret;
}

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	const union MHD_DaemonInfo *di;
	struct sockaddr_in sa;

	if (fx == NULL)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fx->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL,
	    NULL, handler, fx, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_END);
	if (fx->d == NULL ||
	    (di = MHD_get_daemon_info(fx->d, MHD_DAEMON_INFO_BIND_PORT)) ==
	    NULL) {
		free(fx);
		return -1;
	}
	snprintf(fx->url, sizeof(fx->url), "http://127.0.0.1:%u",
	    (unsigned)di->port);
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/test_cli_http_XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	snprintf(fx->outpath, sizeof(fx->outpath), "%s/stdout", fx->dir);
	fx->status = 200;
	fx->saved_stdout = -1;
	unsetenv("GONG_URL");
	unsetenv("GONG_TOKEN");
	unsetenv("GONG_DATA_DIR");
	*state = fx;
	return 0;
}

static void
rm(const struct fx *fx, const char *name)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", fx->dir, name);
	unlink(p);
}

static int
teardown(void **state)
{
	struct fx *fx = *state;
	static const char *const names[] = {
		"stdout", "r.csv", "src.db", "src.db-wal", "src.db-shm",
		"bk.db", "bk.db.tmp", "bk.db.tmp-wal", "bk.db.tmp-shm",
		"a.xml", "b.xml",
	};
	size_t i;

	if (fx->d != NULL)
		MHD_stop_daemon(fx->d);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		rm(fx, names[i]);
	rmdir(fx->dir);
	free(fx->body);
	free(fx);
	return 0;
}

/* Send stdout to a file until captured(). */
static void
capture(struct fx *fx)
{
	FILE *f;

	fflush(stdout);
	fx->saved_stdout = dup(1);
	f = fopen(fx->outpath, "w");
	assert_non_null(f);
	dup2(fileno(f), 1);
	fclose(f);
}

/* Restore stdout; returns what was printed (caller frees). */
static char *
captured(struct fx *fx)
{
	char *buf = calloc(1, 1 << 16);
	FILE *f;

	fflush(stdout);
	dup2(fx->saved_stdout, 1);
	close(fx->saved_stdout);
	assert_non_null(buf);
	f = fopen(fx->outpath, "r");
	assert_non_null(f);
	if (fread(buf, 1, (1 << 16) - 1, f) == 0)
		buf[0] = '\0';
	fclose(f);
	return buf;
}

static void
t_regions(void **state)
{
	struct fx *fx = *state;
	char *argv[] = { "regions", "140425", "--depth", "2", "--url",
	    fx->url, "--token", "tok-1", NULL };
	char *o;

	fx->answer = "{\"region\":{\"code\":\"140425000000\",\"name\":"
	    "\"平顺县\",\"level\":3,\"counts\":{\"regions\":1,"
	    "\"responders\":2,\"devices\":3}},\"parents\":[{\"code\":"
	    "\"140400000000\",\"name\":\"长治市\",\"level\":2}],"
	    "\"children\":[]}";
	capture(fx);
	assert_int_equal(cli_regions(ARGC(argv), argv), CLI_OK);
	o = captured(fx);
	assert_string_equal(o, "140400000000 长治市 > 140425000000 平顺县\n\n"
	    "140425000000 平顺县 (county) regions=1 responders=2 "
	    "devices=3\n");
	free(o);
	assert_string_equal(fx->path, "/api/v1/regions/140425000000");
	assert_string_equal(fx->depth, "2");
	assert_string_equal(fx->auth, "Bearer tok-1");
}

static void
t_json(void **state)
{
	struct fx *fx = *state;
	char *argv[] = { "devices", "140425100201", "--json", "--url",
	    fx->url, NULL };
	char *o;

	fx->answer = "{\"region\":\"140425100201\",\"total\":0,"
	    "\"devices\":[]}";
	capture(fx);
	assert_int_equal(cli_devices(ARGC(argv), argv), CLI_OK);
	o = captured(fx);
	assert_string_equal(o, "{\n  \"region\": \"140425100201\",\n"
	    "  \"total\": 0,\n  \"devices\": []\n}\n");
	free(o);
	assert_string_equal(fx->path,
	    "/api/v1/regions/140425100201/devices");
}

static void
t_status_codes(void **state)
{
	struct fx *fx = *state;
	char *argv[] = { "responders", "140425", "--url", fx->url,
	    "--data-dir", fx->dir, NULL };
	static const struct {
		unsigned status;
		int rv;
	} cases[] = {
		{ 401, CLI_AUTH }, { 403, CLI_AUTH }, { 404, CLI_NOTFOUND },
		{ 400, CLI_INVALID }, { 500, CLI_SERVER },
		{ 503, CLI_SERVER }, { 302, CLI_SERVER },
	};
	size_t i;

	fx->answer = "{\"error\":{\"code\":\"x\",\"message\":\"refused\"}}";
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fx->status = cases[i].status;
		assert_int_equal(cli_responders(ARGC(argv), argv),
		    cases[i].rv);
	}
	/* No token anywhere: none is sent. */
	assert_string_equal(fx->auth, "(none)");
	/* 200 but not JSON. */
	fx->status = 200;
	fx->answer = "<html>proxy</html>";
	assert_int_equal(cli_responders(ARGC(argv), argv), CLI_SERVER);
	fx->answer = "";
	assert_int_equal(cli_responders(ARGC(argv), argv), CLI_SERVER);
}

static void
t_status_cmd(void **state)
{
	struct fx *fx = *state;
	char *argv[] = { "status", "--url", fx->url, "--token", "t", NULL };

	fx->answer = "{\"status\":\"ok\",\"version\":\"1\",\"uptime_s\":5,"
	    "\"store\":\"ok\",\"counts\":{\"regions\":1,\"responders\":0,"
	    "\"devices\":0}}";
	capture(fx);
	assert_int_equal(cli_status(ARGC(argv), argv), CLI_OK);
	free(captured(fx));
	assert_string_equal(fx->path, "/healthz");
	assert_string_equal(fx->auth, "(none)");	/* not an /api/ path */
	fx->status = 503;
	fx->answer = "{\"status\":\"error\",\"version\":\"1\",\"uptime_s\":5,"
	    "\"store\":\"error\"}";
	capture(fx);
	assert_int_equal(cli_status(ARGC(argv), argv), CLI_SERVER);
	free(captured(fx));
	fx->status = 200;
	fx->answer = "{\"status\":\"degraded\"}";
	capture(fx);
	assert_int_equal(cli_status(ARGC(argv), argv), CLI_SERVER);
	free(captured(fx));
}

static void
t_import(void **state)
{
	struct fx *fx = *state;
	char csv[128];
	char *argv[] = { "import", "responders", csv, "--dry-run",
	    "--encoding", "gbk", "--url", fx->url, "--token", "tk", NULL };
	static const char text[] = "id,name\r\n\"r1\",\"a,\nb\"\r\n";
	FILE *f;

	snprintf(csv, sizeof(csv), "%s/r.csv", fx->dir);
	f = fopen(csv, "wb");
	assert_non_null(f);
	fwrite(text, 1, sizeof(text) - 1, f);
	fclose(f);
	fx->answer = "{\"kind\":\"responders\",\"file\":\"r.csv\",\"rows\":1,"
	    "\"inserted\":1,\"updated\":0,\"dry_run\":true}";
	capture(fx);
	assert_int_equal(cli_import(ARGC(argv), argv), CLI_OK);
	free(captured(fx));
	assert_string_equal(fx->path, "/api/v1/import/responders");
	assert_string_equal(fx->fname, "r.csv");
	assert_string_equal(fx->ctype, "text/csv");
	assert_string_equal(fx->dry_run, "1");
	assert_string_equal(fx->encoding, "gbk");
	assert_string_equal(fx->auth, "Bearer tk");
	assert_int_equal(fx->body_len, sizeof(text) - 1);
	assert_memory_equal(fx->body, text, sizeof(text) - 1);

	fx->status = 422;
	fx->answer = "{\"error\":{\"code\":\"invalid\",\"message\":\"bad\"},"
	    "\"errors\":[{\"file\":\"r.csv\",\"line\":2,\"column\":\"phone\","
	    "\"message\":\"invalid phone\"}]}";
	assert_int_equal(cli_import(ARGC(argv), argv), CLI_INVALID);
	fx->status = 413;
	fx->answer = "{\"error\":{\"code\":\"too_big\",\"message\":\"too "
	    "large\"}}";
	assert_int_equal(cli_import(ARGC(argv), argv), CLI_INVALID);
}

static void
t_huge(void **state)
{
	struct fx *fx = *state;
	char *argv[] = { "regions", "140425", "--url", fx->url, NULL };

	fx->huge = 1;
	assert_int_equal(cli_regions(ARGC(argv), argv), CLI_SERVER);
}

static void
t_timeout(void **state)
{
	struct fx *fx = *state;
	char *argv[] = { "regions", "140425", "--url", fx->url,
	    "--timeout", "1", NULL };

	fx->delay_s = 2;
	fx->answer = "{}";
	assert_int_equal(cli_regions(ARGC(argv), argv), CLI_UNREACHABLE);
}

static void
make_db(struct fx *fx, char *path, size_t size)
{
	struct store *s = NULL;
	struct eng_errbuf eb;

	eng_errbuf_init(&eb);
	snprintf(path, size, "%s/src.db", fx->dir);
	if (store_open(path, 0, &s, &eb) != 0)
		fail_msg("store_open: %s", eb.msg);
	store_close(s);
}

static void
t_backup(void **state)
{
	struct fx *fx = *state;
	char src[128], bk[128], side[160];
	char *argv[] = { "backup", bk, "--url", fx->url, "--token", "b",
	    NULL };
	char *argv_force[] = { "backup", "--force", bk, "--url", fx->url,
	    NULL };
	struct stat st;

	make_db(fx, src, sizeof(src));
	snprintf(bk, sizeof(bk), "%s/bk.db", fx->dir);
	fx->answer_file = src;
	capture(fx);
	assert_int_equal(cli_backup(ARGC(argv), argv), CLI_OK);
	free(captured(fx));
	assert_string_equal(fx->path, "/api/v1/backup");
	assert_string_equal(fx->auth, "Bearer b");
	assert_int_equal(stat(bk, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(side, sizeof(side), "%s.tmp", bk);
	assert_int_equal(access(side, F_OK), -1);
	snprintf(side, sizeof(side), "%s.tmp-wal", bk);
	assert_int_equal(access(side, F_OK), -1);
	snprintf(side, sizeof(side), "%s.tmp-shm", bk);
	assert_int_equal(access(side, F_OK), -1);

	/* It exists now: refused without --force, gongd not asked. */
	fx->requests = 0;
	assert_int_equal(cli_backup(ARGC(argv), argv), CLI_LOCAL);
	assert_int_equal(fx->requests, 0);
	capture(fx);
	assert_int_equal(cli_backup(ARGC(argv_force), argv_force), CLI_OK);
	free(captured(fx));
	assert_int_equal(fx->requests, 1);
}

static void
t_backup_bad(void **state)
{
	struct fx *fx = *state;
	char bk[128], tmp[160];
	char *argv[] = { "backup", bk, "--url", fx->url, NULL };

	snprintf(bk, sizeof(bk), "%s/bk.db", fx->dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", bk);
	/* Not a database: nothing is left behind. */
	fx->answer = "this is not an SQLite database, just some text....."
	    "..................................................";
	assert_int_equal(cli_backup(ARGC(argv), argv), CLI_SERVER);
	assert_int_equal(access(bk, F_OK), -1);
	assert_int_equal(access(tmp, F_OK), -1);
	/* Empty. */
	fx->answer = "";
	assert_int_equal(cli_backup(ARGC(argv), argv), CLI_SERVER);
	assert_int_equal(access(bk, F_OK), -1);
	/* An error answer is not written into the file. */
	fx->status = 401;
	fx->answer = "{\"error\":{\"code\":\"unauthorized\",\"message\":"
	    "\"no\"}}";
	assert_int_equal(cli_backup(ARGC(argv), argv), CLI_AUTH);
	assert_int_equal(access(bk, F_OK), -1);
	assert_int_equal(access(tmp, F_OK), -1);
}

/* Write a small file into the fixture's dir; path gets its name. */
static void
put_file(struct fx *fx, const char *name, const char *text, char *path,
    size_t size)
{
	FILE *f;

	snprintf(path, size, "%s/%s", fx->dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static const char cap_text[] = "<alert xmlns=\"urn:oasis:names:tc:"
    "emergency:cap:1.2\"><identifier>x</identifier></alert>\n";

static void
t_send(void **state)
{
	struct fx *fx = *state;
	char a[128], b[128], want[512];
	char *argv[] = { "send", a, b, "--url", fx->url, "--token", "feed-1",
	    NULL };
	char *o;

	put_file(fx, "a.xml", cap_text, a, sizeof(a));
	put_file(fx, "b.xml", cap_text, b, sizeof(b));
	fx->status = 201;
	fx->answer = "{\"id\":4,\"duplicate\":false,\"state\":\"active\","
	    "\"broadcast\":true,\"chain_id\":4,\"regions\":2,"
	    "\"area_unmatched\":false,\"unknown_references\":0,"
	    "\"colour\":\"red\",\"warnings\":[]}";
	capture(fx);
	assert_int_equal(cli_send(ARGC(argv), argv), CLI_OK);
	o = captured(fx);
	snprintf(want, sizeof(want), "%s: stored as alert 4 (active, red, "
	    "2 regions)\n%s: stored as alert 4 (active, red, 2 regions)\n",
	    a, b);
	assert_string_equal(o, want);
	free(o);
	assert_int_equal(fx->requests, 2);
	assert_string_equal(fx->path, "/api/v1/cap");
	assert_string_equal(fx->ctype, "application/cap+xml");
	assert_string_equal(fx->fname, "b.xml");
	assert_string_equal(fx->auth, "Bearer feed-1");
	assert_int_equal(fx->body_len, 2 * (sizeof(cap_text) - 1));
	assert_memory_equal(fx->body, cap_text, sizeof(cap_text) - 1);

	/* Rejected: every file is still tried; exit 1. */
	fx->requests = 0;
	fx->status = 422;
	fx->answer = "{\"error\":{\"code\":\"invalid_cap\",\"message\":"
	    "\"invalid\"},\"errors\":[{\"line\":1,\"path\":\"/alert\","
	    "\"message\":\"no sender\"}],\"warnings\":[]}";
	capture(fx);
	assert_int_equal(cli_send(ARGC(argv), argv), CLI_INVALID);
	o = captured(fx);
	snprintf(want, sizeof(want), "%s: rejected: invalid\n"
	    "%s:1: error: /alert: no sender\n", b, b);
	assert_non_null(strstr(o, want));
	free(o);
	assert_int_equal(fx->requests, 2);

	/* 415 and 413 are the file's fault too; 403 is the token's. */
	fx->status = 415;
	fx->answer = "{\"error\":{\"code\":\"type\",\"message\":\"no\"}}";
	capture(fx);
	assert_int_equal(cli_send(ARGC(argv), argv), CLI_INVALID);
	free(captured(fx));
	fx->status = 403;
	capture(fx);
	assert_int_equal(cli_send(ARGC(argv), argv), CLI_AUTH);
	free(captured(fx));

	/* 401 and 404 would repeat for every file: stop after the first. */
	fx->requests = 0;
	fx->status = 401;
	assert_int_equal(cli_send(ARGC(argv), argv), CLI_AUTH);
	assert_int_equal(fx->requests, 1);
	fx->requests = 0;
	fx->status = 404;
	assert_int_equal(cli_send(ARGC(argv), argv), CLI_NOTFOUND);
	assert_int_equal(fx->requests, 1);
	/* A 500 on one file: the others are still sent. */
	fx->requests = 0;
	fx->status = 500;
	assert_int_equal(cli_send(ARGC(argv), argv), CLI_SERVER);
	assert_int_equal(fx->requests, 2);
}

static void
t_send_more(void **state)
{
	struct fx *fx = *state;
	char a[128], missing[128];
	char *argv[] = { "send", missing, a, "--url", fx->url, NULL };
	char *argv_json[] = { "send", "--json", a, "--url", fx->url, NULL };
	char *argv_none[] = { "send", "--url", fx->url, NULL };
	char *o;

	put_file(fx, "a.xml", cap_text, a, sizeof(a));
	snprintf(missing, sizeof(missing), "%s/nope.xml", fx->dir);
	fx->status = 200;
	fx->answer = "{\"id\":9,\"duplicate\":true}";
	/* An unreadable file is a local failure; the next is sent. */
	capture(fx);
	assert_int_equal(cli_send(ARGC(argv), argv), CLI_LOCAL);
	o = captured(fx);
	assert_non_null(strstr(o, "a.xml: duplicate of alert 9\n"));
	free(o);
	assert_int_equal(fx->requests, 1);

	capture(fx);
	assert_int_equal(cli_send(ARGC(argv_json), argv_json), CLI_OK);
	o = captured(fx);
	assert_non_null(strstr(o, "\"http_status\": 200,\n"
	    "    \"id\": 9,\n    \"duplicate\": true\n"));
	assert_int_equal(o[0], '[');
	free(o);

	fx->requests = 0;
	assert_int_equal(cli_send(ARGC(argv_none), argv_none), CLI_USAGE);
	assert_int_equal(fx->requests, 0);
	/* gongd gone: stop at once. */
	MHD_stop_daemon(fx->d);
	fx->d = NULL;
	capture(fx);
	assert_int_equal(cli_send(ARGC(argv_json), argv_json),
	    CLI_UNREACHABLE);
	o = captured(fx);
	assert_string_equal(o, "[]\n");	/* still valid JSON */
	free(o);
}

static void
t_alerts_query(void **state)
{
	struct fx *fx = *state;
	char *argv[] = { "alerts", "--status", "actual", "--active",
	    "--severity", "SEVERE", "--region", "140425", "--limit", "5",
	    "--offset", "10", "--url", fx->url, NULL };
	char *argv_plain[] = { "alerts", "--url", fx->url, NULL };
	char *argv_bad[] = { "alerts", "--severity", "orange", "--url",
	    fx->url, NULL };
	char *argv_badr[] = { "alerts", "--region", "14x", "--url", fx->url,
	    NULL };
	char *o;

	fx->answer = "{\"total\":0,\"alerts\":[]}";
	capture(fx);
	assert_int_equal(cli_alerts(ARGC(argv), argv), CLI_OK);
	o = captured(fx);
	assert_string_equal(o, "0 of 0 alerts\n");
	free(o);
	assert_string_equal(fx->path, "/api/v1/alerts");
	assert_string_equal(fx->query, "status=Actual&active=1&"
	    "severity=Severe&region=140425000000&limit=5&offset=10");
	capture(fx);
	assert_int_equal(cli_alerts(ARGC(argv_plain), argv_plain), CLI_OK);
	free(captured(fx));
	assert_string_equal(fx->query, "");

	fx->requests = 0;
	assert_int_equal(cli_alerts(ARGC(argv_bad), argv_bad), CLI_USAGE);
	assert_int_equal(cli_alerts(ARGC(argv_badr), argv_badr), CLI_USAGE);
	assert_int_equal(fx->requests, 0);
	fx->answer = "{\"total\":0}";
	assert_int_equal(cli_alerts(ARGC(argv_plain), argv_plain),
	    CLI_SERVER);
}

static void
t_show_chain(void **state)
{
	struct fx *fx = *state;
	char *argv[] = { "show", "12", "--url", fx->url, NULL };
	char *argv_cap[] = { "show", "--cap", "12", "--url", fx->url, NULL };
	char *argv_chain[] = { "chain", "12", "--url", fx->url, NULL };
	char *argv_bad[] = { "show", "0", "--url", fx->url, NULL };
	char *argv_two[] = { "chain", "1", "2", "--url", fx->url, NULL };
	char *o;

	/* One document serves as both the alert and its chain. */
	fx->answer = "{\"alert\":{\"id\":12,\"headline\":\"h\","
	    "\"chain_id\":10},\"chain_id\":10,\"alerts\":[{\"id\":10},"
	    "{\"id\":12}]}";
	capture(fx);
	assert_int_equal(cli_show(ARGC(argv), argv), CLI_OK);
	o = captured(fx);
	assert_non_null(strstr(o, "  chain       2 of 2 (chain 10)\n"));
	free(o);
	assert_int_equal(fx->requests, 2);
	assert_string_equal(fx->path, "/api/v1/alerts/12/chain");

	capture(fx);
	assert_int_equal(cli_chain(ARGC(argv_chain), argv_chain), CLI_OK);
	o = captured(fx);
	assert_string_equal(o, "chain 10: 2 messages\n"
	    "  alert 10  -  -  -  -  -\n* alert 12  -  -  -  -  -\n");
	free(o);

	/* --cap: the bytes as they come. */
	fx->answer = cap_text;
	capture(fx);
	assert_int_equal(cli_show(ARGC(argv_cap), argv_cap), CLI_OK);
	o = captured(fx);
	assert_string_equal(o, cap_text);
	free(o);
	assert_string_equal(fx->path, "/api/v1/alerts/12/cap");
	fx->status = 404;
	fx->answer = "{\"error\":{\"code\":\"not_found\",\"message\":"
	    "\"alert 12 not found\"}}";
	capture(fx);
	assert_int_equal(cli_show(ARGC(argv_cap), argv_cap), CLI_NOTFOUND);
	o = captured(fx);
	assert_string_equal(o, "");
	free(o);
	assert_int_equal(cli_show(ARGC(argv), argv), CLI_NOTFOUND);
	assert_int_equal(cli_chain(ARGC(argv_chain), argv_chain),
	    CLI_NOTFOUND);

	fx->requests = 0;
	assert_int_equal(cli_show(ARGC(argv_bad), argv_bad), CLI_USAGE);
	assert_int_equal(cli_chain(ARGC(argv_two), argv_two), CLI_USAGE);
	assert_int_equal(fx->requests, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_regions, setup, teardown),
		cmocka_unit_test_setup_teardown(t_json, setup, teardown),
		cmocka_unit_test_setup_teardown(t_status_codes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_status_cmd, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_import, setup, teardown),
		cmocka_unit_test_setup_teardown(t_huge, setup, teardown),
		cmocka_unit_test_setup_teardown(t_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(t_backup, setup, teardown),
		cmocka_unit_test_setup_teardown(t_backup_bad, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_send, setup, teardown),
		cmocka_unit_test_setup_teardown(t_send_more, setup, teardown),
		cmocka_unit_test_setup_teardown(t_alerts_query, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_show_chain, setup,
		    teardown),
	};
	int rv;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rv = cmocka_run_group_tests_name("cli_http", tests, NULL, NULL);
	curl_global_cleanup();
	return rv;
}
