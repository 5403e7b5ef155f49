/*
 * engine/api_console.c - the web console's static files (console/):
 *
 *   GET|HEAD /                 index.html
 *   GET|HEAD /console/         index.html
 *   GET|HEAD /console/{path}   a file of the console's directory
 *
 * from the directory of config http.console (api_config.console_dir).
 * Public: the files hold no data; everything they show comes from
 * /api/v1/, which checks who is calling.
 *
 * What is served: a path of 1..CONSOLE_DEPTH segments of
 * [A-Za-z0-9_.-], none empty or starting with '.' (so no "..", no
 * hidden files), whose extension is one of the known types below;
 * each segment opened with openat(O_NOFOLLOW) from the directory, so a
 * symbolic link anywhere (in or out of the directory) is not followed;
 * a regular file of at most CONSOLE_FILE_MAX bytes.  Anything else is
 * 404 (400 for a name with characters outside the set), 405 for other
 * methods.  The URL has been percent-decoded by libmicrohttpd, so
 * "%2e%2e" arrives as ".." and is refused like it.
 *
 * Every answer carries the console's security headers (a Content-
 * Security-Policy allowing only the server's own scripts, styles,
 * images and requests, no framing; nosniff; no referrer).  Files carry
 * an ETag (size and modification time) and Last-Modified, are answered
 * 304 to a matching If-None-Match, and are revalidated on each use
 * (Cache-Control: no-cache).
 *
 * Blocking: reads one small file per request.  Thread-safe.
 */
#include "engine/api_int.h"
#include "engine/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CONSOLE_FILE_MAX	(1024 * 1024)
#define CONSOLE_DEPTH		4

static const char csp[] =
    "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'";

static const struct {
	const char *ext;
	const char *type;
} types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".json", "application/json; charset=utf-8" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".ico", "image/x-icon" },
	{ ".txt", "text/plain; charset=utf-8" },
};

static const char *
type_of(const char *name)
{
	const char *dot = strrchr(name, '.');
	size_t i;

	if (dot == NULL)
		return NULL;
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].type;
	return NULL;
}

static enum MHD_Result
reply(struct MHD_Connection *c, struct api_req *r, int status,
    struct MHD_Response *resp)
{
	enum MHD_Result ret;

	if (resp == NULL)
		return MHD_NO;
	(void)MHD_add_response_header(resp, "Content-Security-Policy", csp);
	(void)MHD_add_response_header(resp, "X-Content-Type-Options",
	    "nosniff");
	(void)MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	(void)MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	(void)MHD_add_response_header(resp, "Cross-Origin-Opener-Policy",
	    "same-origin");
	ret = MHD_queue_response(c, (unsigned)status, resp);
	MHD_destroy_response(resp);
	if (ret == MHD_YES)
		r->status = status;
	return ret;
}

/* A short text answer (status line's reason in a sentence). */
static enum MHD_Result
refuse(struct MHD_Connection *c, struct api_req *r, int status,
    const char *msg, const char *allow)
{
	struct MHD_Response *resp;

	resp = MHD_create_response_from_buffer(strlen(msg), (void *)msg,
	    MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return MHD_NO;
	(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/plain; charset=utf-8");
	(void)MHD_add_response_header(resp, "Cache-Control", "no-store");
	if (allow != NULL)
		(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW,
		    allow);
	return reply(c, r, status, resp);
}

/*
 * Is path a name we serve?  0 yes, 1 a character outside the set (400),
 * 2 a bad shape (404).
 */
static int
path_ok(const char *path)
{
	const char *p, *seg = path;
	int n = 0;

	for (p = path; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' ||
		    *p == '.' || *p == '/'))
			return 1;
	for (p = path;; p++) {
		if (*p == '/' || *p == '\0') {
			if (p == seg || *seg == '.' || ++n > CONSOLE_DEPTH)
				return 2;
			if (*p == '\0')
				break;
			seg = p + 1;
		}
	}
	return 0;
}

/*
 * Open path below the directory dir, following no symbolic link: the
 * file's descriptor, or -1 with errno.
 */
static int
open_below(const char *dir, const char *path)
{
	char seg[256];
	const char *p = path, *slash;
	int dfd, fd, e;
	size_t n;

	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	while ((slash = strchr(p, '/')) != NULL) {
		n = (size_t)(slash - p);
		if (n >= sizeof(seg)) {
			(void)close(dfd);
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(seg, p, n);
		seg[n] = '\0';
		fd = openat(dfd, seg, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		e = errno;
		(void)close(dfd);
		if (fd < 0) {
			errno = e;
			return -1;
		}
		dfd = fd;
		p = slash + 1;
	}
	/* O_NONBLOCK: a FIFO put there must not hang the thread. */
	fd = openat(dfd, p, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	e = errno;
	(void)close(dfd);
	errno = e;
	return fd;
}

/* The file's bytes (malloc'd) into *out; 0, or -1 (short read, error). */
static int
read_all(int fd, size_t size, char **out)
{
	char *buf;
	size_t got = 0;
	ssize_t n;

	*out = NULL;
	if ((buf = malloc(size ? size : 1)) == NULL)
		return -1;
	while (got < size) {
		n = read(fd, buf + got, size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buf);
			return -1;
		}
		got += (size_t)n;
	}
	*out = buf;
	return 0;
}

enum MHD_Result
api_h_console(struct MHD_Connection *c, struct api_req *r,
    const char *method)
{
	const char *dir = r->api->console_dir, *path, *type, *inm;
	char etag[64], lastmod[64], *buf = NULL;
	struct MHD_Response *resp;
	struct stat sb;
	struct tm tm;
	int fd, bad;

	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return refuse(c, r, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "method not allowed: use GET\n", "GET, HEAD");
	path = r->rest[0] != '\0' ? r->rest : "index.html";
	if ((bad = path_ok(path)) != 0)
		return bad == 1 ? refuse(c, r, MHD_HTTP_BAD_REQUEST,
		    "bad file name\n", NULL) : refuse(c, r,
		    MHD_HTTP_NOT_FOUND, "not found\n", NULL);
	if (dir == NULL || (type = type_of(path)) == NULL)
		return refuse(c, r, MHD_HTTP_NOT_FOUND, "not found\n", NULL);
	if ((fd = open_below(dir, path)) < 0) {
		if (errno != ENOENT && errno != ENOTDIR)
			log_debug("http.console", "file=%s refused: %s", path,
			    strerror(errno));
		return refuse(c, r, MHD_HTTP_NOT_FOUND, "not found\n", NULL);
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    sb.st_size > CONSOLE_FILE_MAX) {
		if (S_ISREG(sb.st_mode) && sb.st_size > CONSOLE_FILE_MAX)
			log_warn("http.console", "file=%s size=%lld over "
			    "the limit of %d bytes: not served", path,
			    (long long)sb.st_size, CONSOLE_FILE_MAX);
		(void)close(fd);
		return refuse(c, r, MHD_HTTP_NOT_FOUND, "not found\n", NULL);
	}
	(void)snprintf(etag, sizeof(etag), "\"%llx-%llx-%lx\"",
	    (unsigned long long)sb.st_size,
	    (unsigned long long)sb.st_mtim.tv_sec,
	    (unsigned long)sb.st_mtim.tv_nsec);
	lastmod[0] = '\0';
	if (gmtime_r(&sb.st_mtim.tv_sec, &tm) != NULL)
		(void)strftime(lastmod, sizeof(lastmod),
		    "%a, %d %b %Y %H:%M:%S GMT", &tm);
	inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_IF_NONE_MATCH);
	if (inm != NULL && (strstr(inm, etag) != NULL ||
	    strcmp(inm, "*") == 0)) {
		(void)close(fd);
		resp = MHD_create_response_from_buffer(0, NULL,
		    MHD_RESPMEM_PERSISTENT);
	} else {
		if (read_all(fd, (size_t)sb.st_size, &buf) != 0) {
			(void)close(fd);
			return refuse(c, r, MHD_HTTP_INTERNAL_SERVER_ERROR,
			    "cannot read the file\n", NULL);
		}
		(void)close(fd);
		resp = MHD_create_response_from_buffer((size_t)sb.st_size,
		    buf, MHD_RESPMEM_MUST_FREE);
		if (resp == NULL) {
			free(buf);
			return MHD_NO;
		}
		(void)MHD_add_response_header(resp,
		    MHD_HTTP_HEADER_CONTENT_TYPE, type);
	}
	if (resp == NULL)
		return MHD_NO;
	(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
	if (lastmod[0] != '\0')
		(void)MHD_add_response_header(resp,
		    MHD_HTTP_HEADER_LAST_MODIFIED, lastmod);
	(void)MHD_add_response_header(resp, "Cache-Control", "no-cache");
	return reply(c, r, inm != NULL && buf == NULL ?
	    MHD_HTTP_NOT_MODIFIED : MHD_HTTP_OK, resp);
}
