/*
 * engine/cli/client.c - global options, finding gongd and its token,
 * HTTP requests (libcurl easy interface), printing answers and errors.
 */
#include "engine/cli/client.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "engine/cli/cli.h"
#include "engine/utf8.h"

#ifndef GONG_VERSION
#define GONG_VERSION "0"
#endif

const char cli_global_help[] =
    "Global options (before or after the command):\n"
    "  --url URL          gongd's base URL (else $GONG_URL, else the first\n"
    "                     line of DATA_DIR/gongd.url, else "
    CLI_DEFAULT_URL ")\n"
    "  --token TOKEN      API or admin token (else $GONG_TOKEN, else\n"
    "                     --token-file, else the one `gong login` kept in\n"
    "                     ~/.config/gong/token, else the first line of\n"
    "                     DATA_DIR/admin.token)\n"
    "  --token-file FILE  read the token from FILE\n"
    "  --data-dir DIR     gongd's data dir (else $GONG_DATA_DIR, else "
    CLI_DEFAULT_DATA_DIR ")\n"
    "  --json             print gongd's JSON instead of text\n"
    "  --timeout SECONDS  give up after SECONDS (0: never)\n"
    "  -h, --help         this help\n";

void
cli_opts_init(struct cli_opts *o, const char *cmd)
{
	memset(o, 0, sizeof(*o));
	o->cmd = cmd;
	o->timeout_s = -1;
}

int
cli_fail(int rv, const char *fmt, ...)
{
	va_list ap;

	fputs("gong: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return rv;
}

int
cli_parse_long(const struct cli_opts *o, const char *name, const char *s,
    long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < min || v > max) {
		fprintf(stderr, "gong %s: bad value for --%s: '%s' (want %ld "
		    "to %ld)\n", o->cmd, name, s, min, max);
		return CLI_USAGE;
	}
	*out = v;
	return CLI_OK;
}

int
cli_opts_handle(struct cli_opts *o, int c, const char *arg, char **argv)
{
	switch (c) {
	case CLI_OPT_URL:
		o->url = arg;
		return CLI_OK;
	case CLI_OPT_TOKEN:
		o->token = arg;
		return CLI_OK;
	case CLI_OPT_TOKEN_FILE:
		o->token_file = arg;
		return CLI_OK;
	case CLI_OPT_DATA_DIR:
		o->data_dir = arg;
		return CLI_OK;
	case CLI_OPT_JSON:
		o->json = 1;
		return CLI_OK;
	case CLI_OPT_TIMEOUT:
		return cli_parse_long(o, "timeout", arg, 0, CLI_MAX_TIMEOUT_S,
		    &o->timeout_s);
	case ':':
		fprintf(stderr, "gong %s: option '%s' needs a value\n", o->cmd,
		    argv[optind - 1]);
		return CLI_USAGE;
	default:
		if (optopt != 0 && optopt < 0x100)
			fprintf(stderr, "gong %s: unknown option '-%c'\n",
			    o->cmd, optopt);
		else
			fprintf(stderr, "gong %s: unknown option '%s'\n",
			    o->cmd, argv[optind - 1]);
		fprintf(stderr, "Try 'gong %s --help'.\n", o->cmd);
		return CLI_USAGE;
	}
}

/* Global options that take a value as the next argument. */
static int
takes_value(const char *a)
{
	static const char *const names[] = {
		"--url", "--token", "--token-file", "--data-dir", "--timeout",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(a, names[i]) == 0)
			return 1;
	return 0;
}

int
cli_args_reorder(int argc, char **argv, char **out, int *help)
{
	int i, npre = 0, n = 0, sub = -1;

	*help = 0;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0 || argv[i][0] != '-' ||
		    argv[i][1] == '\0') {
			if (strcmp(argv[i], "--") == 0)
				i++;
			sub = i < argc ? i : -1;
			break;
		}
		if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0)
			*help = 1;
		if (takes_value(argv[i]) && i + 1 < argc)
			i++;
	}
	if (sub < 0)
		return 0;
	npre = sub;	/* argv[1 .. sub-1], maybe with a "--" at the end */
	out[n++] = argv[sub];
	for (i = 1; i < npre; i++)
		if (!(i == npre - 1 && strcmp(argv[i], "--") == 0))
			out[n++] = argv[i];
	for (i = sub + 1; i < argc; i++)
		out[n++] = argv[i];
	out[n] = NULL;
	return n;
}

void
cli_usage(FILE *f, const char *text)
{
	fputs(text, f);
	fputc('\n', f);
	fputs(cli_global_help, f);
}

const char *
cli_data_dir(const struct cli_opts *o)
{
	const char *d;

	if (o->data_dir != NULL && *o->data_dir != '\0')
		return o->data_dir;
	if ((d = getenv("GONG_DATA_DIR")) != NULL && *d != '\0')
		return d;
	return CLI_DEFAULT_DATA_DIR;
}

static int
is_blank(int ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/* Copy s without surrounding blanks into buf; 0 or -ENAMETOOLONG. */
static int
copy_trimmed(const char *s, size_t len, char *buf, size_t size)
{
	while (len > 0 && is_blank((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len > 0 && is_blank((unsigned char)s[len - 1]))
		len--;
	if (len >= size)
		return -ENAMETOOLONG;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return 0;
}

int
cli_read_first_line(const char *path, char *buf, size_t size)
{
	FILE *f;
	char line[4096];
	size_t n;
	int rv = 0;

	if ((f = fopen(path, "r")) == NULL)
		return -errno;
	if (fgets(line, sizeof(line), f) == NULL) {
		rv = ferror(f) ? -EIO : 0;
		line[0] = '\0';
	}
	n = strlen(line);
	if (rv == 0 && n == sizeof(line) - 1 && line[n - 1] != '\n')
		rv = -ENAMETOOLONG;
	fclose(f);
	if (rv == 0)
		rv = copy_trimmed(line, n, buf, size);
	return rv;
}

static int
has_ctl(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

int
cli_find_url(const struct cli_opts *o, char *buf, size_t size)
{
	char path[CLI_WHERE_SIZE];
	const char *src, *u;
	size_t n;
	int rv;

	if (o->url != NULL) {
		src = "--url";
		rv = copy_trimmed(o->url, strlen(o->url), buf, size);
	} else if ((u = getenv("GONG_URL")) != NULL && *u != '\0') {
		src = "$GONG_URL";
		rv = copy_trimmed(u, strlen(u), buf, size);
	} else {
		src = path;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s",
		    cli_data_dir(o), CLI_URL_FILE) >= sizeof(path))
			return cli_fail(CLI_USAGE, "data dir path too long");
		rv = cli_read_first_line(path, buf, size);
		if (rv == -ENOENT || (rv == 0 && buf[0] == '\0')) {
			src = "default";
			rv = copy_trimmed(CLI_DEFAULT_URL,
			    strlen(CLI_DEFAULT_URL), buf, size);
		} else if (rv != 0 && rv != -ENAMETOOLONG)
			return cli_fail(CLI_LOCAL, "cannot read %s: %s", path,
			    strerror(-rv));
	}
	if (rv != 0)
		return cli_fail(CLI_USAGE, "URL from %s is too long", src);
	if (has_ctl(buf) || (strncmp(buf, "http://", 7) != 0 &&
	    strncmp(buf, "https://", 8) != 0))
		return cli_fail(CLI_USAGE, "URL from %s is not an http:// or "
		    "https:// URL", src);
	n = strlen(buf);
	while (n > 0 && buf[n - 1] == '/')
		buf[--n] = '\0';
	return CLI_OK;
}

/* Where `gong login` keeps its token (engine/cli/cmd_auth.c). */
static int
login_token_file(char *buf, size_t size)
{
	const char *x = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	int n;

	if (x != NULL && *x == '/')
		n = snprintf(buf, size, "%s/gong/token", x);
	else if (home != NULL && *home != '\0')
		n = snprintf(buf, size, "%s/.config/gong/token", home);
	else
		return -1;
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

int
cli_find_token(const struct cli_opts *o, char *buf, size_t size,
    char *where, size_t wsize)
{
	char path[CLI_WHERE_SIZE];
	const char *t;
	int rv;

	buf[0] = '\0';
	if (o->token != NULL) {
		snprintf(where, wsize, "--token");
		rv = copy_trimmed(o->token, strlen(o->token), buf, size);
	} else if ((t = getenv("GONG_TOKEN")) != NULL && *t != '\0') {
		snprintf(where, wsize, "$GONG_TOKEN");
		rv = copy_trimmed(t, strlen(t), buf, size);
	} else if (o->token_file != NULL) {
		snprintf(where, wsize, "--token-file %s", o->token_file);
		rv = cli_read_first_line(o->token_file, buf, size);
		if (rv != 0 && rv != -ENAMETOOLONG)
			return cli_fail(CLI_LOCAL, "cannot read token file %s: "
			    "%s", o->token_file, strerror(-rv));
	} else if (login_token_file(path, sizeof(path)) == 0 &&
	    access(path, F_OK) == 0) {
		/* `gong login` kept an API token. */
		snprintf(where, wsize, "%s (gong login)", path);
		rv = cli_read_first_line(path, buf, size);
		if (rv != 0 && rv != -ENAMETOOLONG)
			return cli_fail(CLI_LOCAL, "cannot read token file %s: "
			    "%s", path, strerror(-rv));
	} else {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s",
		    cli_data_dir(o), CLI_TOKEN_FILE) >= sizeof(path))
			return cli_fail(CLI_USAGE, "data dir path too long");
		snprintf(where, wsize, "%s", path);
		rv = cli_read_first_line(path, buf, size);
		if (rv != 0 && rv != -ENAMETOOLONG) {
			buf[0] = '\0';
			snprintf(where, wsize, "no token: looked at --token, "
			    "$GONG_TOKEN, --token-file and %s (%s)", path,
			    strerror(-rv));
			return CLI_OK;
		}
	}
	if (rv != 0)
		return cli_fail(CLI_INVALID, "token from %s is too long", where);
	if (has_ctl(buf) || strchr(buf, ' ') != NULL) {
		buf[0] = '\0';
		return cli_fail(CLI_INVALID, "token from %s has blanks or "
		    "control characters", where);
	}
	if (buf[0] == '\0') {
		snprintf(path, sizeof(path), "%s", where);
		snprintf(where, wsize, "no token: %s is empty", path);
	}
	return CLI_OK;
}

int
cli_client_init(struct cli_client *c, const struct cli_opts *o)
{
	int rv;

	memset(c, 0, sizeof(*c));
	c->opts = *o;
	if ((rv = cli_find_url(o, c->url, sizeof(c->url))) != CLI_OK)
		return rv;
	return cli_find_token(o, c->token, sizeof(c->token), c->where,
	    sizeof(c->where));
}

void
cli_answer_release(struct cli_answer *a)
{
	free(a->body);
	json_decref(a->json);
	memset(a, 0, sizeof(*a));
}

struct xfer {
	struct cli_answer *a;
	CURL *h;
	FILE *download;
	size_t alloc;
	int overflow;
	int write_errno;
};

static size_t
on_write(char *p, size_t sz, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	struct cli_answer *a = x->a;
	size_t len = sz * nmemb, want;
	long st = 0;
	char *nb;

	if (x->download != NULL) {
		curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &st);
		if (st >= 200 && st < 300) {
			if (fwrite(p, 1, len, x->download) != len) {
				x->write_errno = errno != 0 ? errno : EIO;
				return 0;
			}
			a->streamed += (long long)len;
			return len;
		}
	}
	if (len > (size_t)CLI_MAX_ANSWER - a->len) {
		x->overflow = 1;
		return 0;
	}
	if (a->len + len + 1 > x->alloc) {
		want = x->alloc == 0 ? 16384 : x->alloc;
		while (want < a->len + len + 1)
			want *= 2;
		if ((nb = realloc(a->body, want)) == NULL) {
			x->write_errno = ENOMEM;
			return 0;
		}
		a->body = nb;
		x->alloc = want;
	}
	memcpy(a->body + a->len, p, len);
	a->len += len;
	a->body[a->len] = '\0';
	return len;
}

/* Keep only printable bytes of a header value (file names). */
static void
header_safe(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '_';
}

static int
transport_error(struct cli_client *c, CURLcode rc, const struct xfer *x,
    const char *errbuf, long timeout, const char *upload)
{
	const char *why = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc);

	switch (rc) {
	case CURLE_WRITE_ERROR:
		if (x->overflow)
			return cli_fail(CLI_SERVER, "gongd's answer is larger "
			    "than %ld MiB", CLI_MAX_ANSWER / (1024 * 1024));
		return cli_fail(CLI_LOCAL, "cannot write the answer: %s",
		    strerror(x->write_errno));
	case CURLE_READ_ERROR:
	case CURLE_ABORTED_BY_CALLBACK:
		return cli_fail(CLI_LOCAL, "cannot read %s: %s",
		    upload != NULL ? upload : "the body", why);
	case CURLE_OUT_OF_MEMORY:
		return cli_fail(CLI_LOCAL, "out of memory");
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		return cli_fail(CLI_USAGE, "bad URL %s: %s", c->url, why);
	case CURLE_OPERATION_TIMEDOUT:
		return cli_fail(CLI_UNREACHABLE, "gongd at %s did not answer "
		    "within %ld s: %s", c->url, timeout, why);
	default:
		return cli_fail(CLI_UNREACHABLE, "cannot reach gongd at %s: "
		    "%s", c->url, why);
	}
}

int
cli_request(struct cli_client *c, const struct cli_request *rq,
    struct cli_answer *a)
{
	char url[CLI_URL_SIZE + 2048], hdr[CLI_TOKEN_SIZE + 1024];
	char errbuf[CURL_ERROR_SIZE];
	struct curl_slist *hdrs = NULL, *nh;
	struct xfer x;
	struct stat st;
	const char *method = rq->method != NULL ? rq->method : "GET";
	FILE *up = NULL;
	CURL *h = NULL;
	CURLcode rc;
	long timeout;
	int rv = CLI_LOCAL;

	memset(a, 0, sizeof(*a));
	memset(&x, 0, sizeof(x));
	errbuf[0] = '\0';
	timeout = c->opts.timeout_s >= 0 ? c->opts.timeout_s : rq->timeout_s;
	if ((size_t)snprintf(url, sizeof(url), "%s%s", c->url, rq->path) >=
	    sizeof(url))
		return cli_fail(CLI_USAGE, "URL too long");
	if ((h = curl_easy_init()) == NULL)
		return cli_fail(CLI_LOCAL, "cannot initialise libcurl");
	x.a = a;
	x.h = h;
	x.download = rq->download;

	curl_easy_setopt(h, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)CLI_CONNECT_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout);
	if (timeout == 0) {
		/* No total limit: give up only on a stalled transfer. */
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 120L);
	}
	curl_easy_setopt(h, CURLOPT_USERAGENT, "gong/" GONG_VERSION);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);

	if (strncmp(rq->path, "/api/", 5) == 0 && c->token[0] != '\0') {
		snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s",
		    c->token);
		if ((nh = curl_slist_append(hdrs, hdr)) == NULL)
			goto nomem;
		hdrs = nh;
	}
	if (rq->upload != NULL) {
		if ((up = fopen(rq->upload, "rb")) == NULL ||
		    fstat(fileno(up), &st) != 0) {
			rv = cli_fail(CLI_LOCAL, "cannot open %s: %s",
			    rq->upload, strerror(errno));
			goto out;
		}
		if (!S_ISREG(st.st_mode)) {
			rv = cli_fail(CLI_LOCAL, "%s is not a regular file",
			    rq->upload);
			goto out;
		}
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		if (strcmp(method, "POST") != 0)	/* PATCH */
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
		curl_easy_setopt(h, CURLOPT_READDATA, up);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)st.st_size);
		snprintf(hdr, sizeof(hdr), "Content-Type: %s",
		    rq->content_type != NULL ? rq->content_type :
		    "application/octet-stream");
		if ((nh = curl_slist_append(hdrs, hdr)) == NULL)
			goto nomem;
		hdrs = nh;
		if (rq->upload_name != NULL) {
			snprintf(hdr, sizeof(hdr), "X-Gong-Filename: %s",
			    rq->upload_name);
			header_safe(hdr);
			if ((nh = curl_slist_append(hdrs, hdr)) == NULL)
				goto nomem;
			hdrs = nh;
		}
	} else if (strcmp(method, "GET") != 0) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);

	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &a->status);
	/* gongd may refuse an upload (413) before reading all of it. */
	if (rc != CURLE_OK && !(a->status >= 400 && rq->upload != NULL &&
	    (rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR))) {
		rv = transport_error(c, rc, &x, errbuf, timeout, rq->upload);
		goto out;
	}
	if (a->body != NULL && a->len > 0)
		a->json = json_loadb(a->body, a->len, 0, NULL);
	rv = CLI_OK;
	goto out;
nomem:
	rv = cli_fail(CLI_LOCAL, "out of memory");
out:
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	if (up != NULL)
		fclose(up);
	return rv;
}

int
cli_status_exit(long status)
{
	if (status >= 200 && status < 300)
		return CLI_OK;
	switch (status) {
	case 400:
	case 413:
	case 422:
		return CLI_INVALID;
	case 401:
	case 403:
		return CLI_AUTH;
	case 404:
		return CLI_NOTFOUND;
	default:
		return CLI_SERVER;
	}
}

/* Print s with control characters (C0, DEL and C1 as UTF-8 U+0080 to
 * U+009F, which some terminals obey) shown as '?'. */
static void
put_safe(FILE *f, const char *s, size_t max)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i < max; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == 0xc2 && (unsigned char)s[i + 1] >= 0x80 &&
		    (unsigned char)s[i + 1] <= 0x9f) {
			fputc('?', f);
			i++;
		} else
			fputc(ch < 0x20 || ch == 0x7f ? '?' : ch, f);
	}
}

void
cli_print_error(FILE *f, long status, const json_t *doc, const char *body)
{
	const json_t *err = json_object_get(doc, "error"), *items, *it;
	const char *msg = json_string_value(json_object_get(err, "message"));
	const char *st = json_string_value(json_object_get(doc, "status"));
	char b1[64], b2[64];
	const char *file, *col;
	long long line;
	size_t i;

	fputs("gong: error: ", f);
	if (msg != NULL)
		put_safe(f, msg, 4096);
	else if (st != NULL) {
		fputs("gongd reports status ", f);
		put_safe(f, st, 64);
	} else {
		fprintf(f, "gongd answered HTTP %ld", status);
		if (body != NULL && *body != '\0') {
			fputs(": ", f);
			put_safe(f, body, strcspn(body, "\r\n") < 200 ?
			    strcspn(body, "\r\n") : 200);
		}
	}
	fputc('\n', f);
	if ((items = json_object_get(doc, "errors")) == NULL)
		items = json_object_get(err, "errors");
	json_array_foreach(items, i, it) {
		file = cli_jstr(it, "file", b1, sizeof(b1));
		line = cli_jint(it, "line", 0);
		col = cli_jstr(it, "column", b2, sizeof(b2));
		put_safe(f, *file != '\0' ? file : "-", 1024);
		if (line > 0)
			fprintf(f, ":%lld", line);
		if (*col != '\0') {
			fputs(": ", f);
			put_safe(f, col, 256);
		}
		fputs(": ", f);
		put_safe(f, cli_jstr(it, "message", b1, sizeof(b1)), 4096);
		fputc('\n', f);
	}
}

int
cli_check(struct cli_client *c, const struct cli_answer *a)
{
	int rv = cli_status_exit(a->status);

	if (rv == CLI_OK)
		return CLI_OK;
	if (c->opts.json && a->json != NULL)
		cli_print_json(stdout, a->json);
	else
		cli_print_error(stderr, a->status, a->json, a->body);
	if (rv == CLI_AUTH) {
		if (c->token[0] == '\0')
			fprintf(stderr, "gong: %s\n", c->where);
		else
			fprintf(stderr, "gong: the token was taken from %s\n",
			    c->where);
	}
	return rv;
}

int
cli_call(struct cli_client *c, const struct cli_request *rq,
    struct cli_answer *a)
{
	int rv;

	if ((rv = cli_request(c, rq, a)) != CLI_OK)
		return rv;
	return cli_check(c, a);
}

void
cli_print_json(FILE *f, const json_t *j)
{
	json_dumpf(j, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', f);
}

static int
is_wide(uint32_t cp)
{
	return (cp >= 0x1100 && cp <= 0x115f) ||
	    (cp >= 0x2e80 && cp <= 0x303e) ||
	    (cp >= 0x3041 && cp <= 0x33ff) ||
	    (cp >= 0x3400 && cp <= 0x4dbf) ||
	    (cp >= 0x4e00 && cp <= 0x9fff) ||
	    (cp >= 0xa000 && cp <= 0xa4cf) ||
	    (cp >= 0xac00 && cp <= 0xd7a3) ||
	    (cp >= 0xf900 && cp <= 0xfaff) ||
	    (cp >= 0xfe30 && cp <= 0xfe4f) ||
	    (cp >= 0xff00 && cp <= 0xff60) ||
	    (cp >= 0xffe0 && cp <= 0xffe6) ||
	    (cp >= 0x20000 && cp <= 0x3fffd);
}

size_t
cli_width(const char *s)
{
	size_t left = strlen(s), w = 0, k;
	uint32_t cp;

	while (left > 0) {
		if ((k = utf8_decode(s, left, &cp)) == 0) {
			k = 1;		/* a bad byte: one column, as U+FFFD */
			cp = 0xfffd;
		}
		w += is_wide(cp) ? 2 : 1;
		s += k;
		left -= k;
	}
	return w;
}

void
cli_print_padded(FILE *f, const char *s, size_t width)
{
	size_t w = cli_width(s);

	put_safe(f, s, (size_t)-1);
	for (; w < width; w++)
		fputc(' ', f);
}

const char *
cli_jstr(const json_t *obj, const char *key, char *buf, size_t size)
{
	const json_t *v = json_object_get(obj, key);

	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v))
		snprintf(buf, size, "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, size, "%.6g", json_real_value(v));
	else if (json_is_boolean(v))
		snprintf(buf, size, "%s", json_is_true(v) ? "yes" : "no");
	else
		snprintf(buf, size, "%s", "");
	return buf;
}

long long
cli_jint(const json_t *obj, const char *key, long long def)
{
	const json_t *v = json_object_get(obj, key);

	if (json_is_integer(v))
		return (long long)json_integer_value(v);
	if (json_is_real(v))
		return (long long)json_real_value(v);
	return def;
}
