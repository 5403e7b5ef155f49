/*
 * ops/bench/loadgen.c - a fixed list of HTTP/1.1 requests, each sent
 * once, over CONNS keep-alive connections to 127.0.0.1:PORT (one thread,
 * epoll).  For the answer benchmark (ops/bench/bench_answers.sh): every
 * request names a different person, so the list is consumed exactly once
 * instead of being replayed for a duration as wrk does.
 *
 * usage: loadgen PORT CONNS FILE
 *   FILE  one request a line: "GET /path?query" or "POST /path BODY"
 *         (BODY is sent as application/x-www-form-urlencoded; no spaces
 *         in path or body)
 *
 * Prints one line: "requests N ok N2xx other NOTHER errors NERR seconds S
 * rate R p50_ms P p99_ms P max_ms M" (rate = responses per second of
 * wall time, first request to last response; P, M: each request's time
 * from its first byte sent to its whole response).  A connection the server closes is opened again and
 * its request counted as an error (not sent again).  Exit 0, or 1 on a
 * usage or setup error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RBUF	65536

struct conn {
	int fd;
	char *req;		/* the request being sent (owned) */
	size_t reqlen, sent;
	char rbuf[RBUF + 1];
	size_t rlen;
	int busy;
	double t;		/* when the request was started */
};

static char **lines;
static size_t nlines, next, done, ok, other, errs;
static int port;
static double *lat;		/* seconds, one per response */
static size_t nlat;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest rank of the p-th percentile in lat[0..nlat). */
static size_t
rank(int p)
{
	size_t r = (nlat * (size_t)p + 99) / 100;

	return r > 0 ? r - 1 : 0;
}

static int
open_conn(int ep, struct conn *c)
{
	struct sockaddr_in sa;
	struct epoll_event ev;
	int one = 1;

	if ((c->fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return -1;
	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		(void)close(c->fd);
		c->fd = -1;
		return -1;
	}
	(void)fcntl(c->fd, F_SETFL, O_NONBLOCK);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = c;
	return epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
}

/* Build the next request of the list into c; 0 when the list is done. */
static int
take(struct conn *c)
{
	const char *l, *sp, *body;
	size_t plen, blen, cap;
	int n;

	free(c->req);
	c->req = NULL;
	c->busy = 0;
	if (next == nlines)
		return 0;
	l = lines[next++];
	if ((sp = strchr(l, ' ')) == NULL)
		return -1;
	body = strchr(sp + 1, ' ');
	plen = body != NULL ? (size_t)(body - sp - 1) : strlen(sp + 1);
	blen = body != NULL ? strlen(body + 1) : 0;
	cap = plen + blen + 256;
	if ((c->req = malloc(cap)) == NULL)
		return -1;
	if (body != NULL)
		n = snprintf(c->req, cap, "%.*s %.*s HTTP/1.1\r\n"
		    "Host: 127.0.0.1\r\n"
		    "Content-Type: application/x-www-form-urlencoded\r\n"
		    "Content-Length: %zu\r\n\r\n%s", (int)(sp - l), l,
		    (int)plen, sp + 1, blen, body + 1);
	else
		n = snprintf(c->req, cap, "%.*s %.*s HTTP/1.1\r\n"
		    "Host: 127.0.0.1\r\n\r\n", (int)(sp - l), l, (int)plen,
		    sp + 1);
	if (n < 0 || (size_t)n >= cap)
		return -1;
	c->reqlen = (size_t)n;
	c->sent = 0;
	c->rlen = 0;
	c->busy = 1;
	return 1;
}

static int
send_some(struct conn *c)
{
	ssize_t w;

	while (c->sent < c->reqlen) {
		w = send(c->fd, c->req + c->sent, c->reqlen - c->sent,
		    MSG_NOSIGNAL);
		if (w < 0 && errno == EAGAIN)
			return 0;	/* small requests: rare; poll reads */
		if (w <= 0)
			return -1;
		c->sent += (size_t)w;
	}
	return 0;
}

/* A whole response in rbuf?  Returns its length, 0 if not yet, -1 bad. */
static long
complete(struct conn *c, int *status)
{
	char *end, *p;
	long clen = 0;

	if (c->rlen == RBUF)
		return -1;
	c->rbuf[c->rlen] = '\0';
	if ((end = strstr(c->rbuf, "\r\n\r\n")) == NULL)
		return 0;
	if (strncmp(c->rbuf, "HTTP/1.", 7) != 0 || c->rlen < 12)
		return -1;
	*status = (int)strtol(c->rbuf + 9, NULL, 10);
	for (p = c->rbuf; p < end; p++) {
		if (*p == '\n' && strncasecmp(p + 1, "content-length:", 15) ==
		    0) {
			clen = strtol(p + 16, NULL, 10);
			break;
		}
	}
	if ((size_t)(end + 4 - c->rbuf) + (size_t)clen > c->rlen)
		return 0;
	return (long)(end + 4 - c->rbuf) + clen;
}

static int
start_next(int ep, struct conn *c)
{
	int r;

	if ((r = take(c)) <= 0)
		return r;
	if (c->fd < 0 && open_conn(ep, c) != 0)
		return -1;
	c->t = now();
	return send_some(c);
}

int
main(int argc, char **argv)
{
	struct epoll_event evs[64];
	struct conn *cs;
	FILE *f;
	char *line = NULL, *end;
	size_t cap = 0, lcap = 0;
	ssize_t len;
	double t0, t1;
	long conns, pl;
	int ep, i, n, status;

	if (argc != 4) {
		fprintf(stderr, "usage: loadgen PORT CONNS FILE\n");
		return 1;
	}
	pl = strtol(argv[1], &end, 10);
	if (*end != '\0' || pl < 1 || pl > 65535)
		return 1;
	port = (int)pl;
	conns = strtol(argv[2], &end, 10);
	if (*end != '\0' || conns < 1 || conns > 1024)
		return 1;
	if ((f = fopen(argv[3], "r")) == NULL) {
		perror(argv[3]);
		return 1;
	}
	while ((len = getline(&line, &cap, f)) > 0) {
		while (len > 0 && (line[len - 1] == '\n' ||
		    line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0)
			continue;
		if (nlines == lcap) {
			lcap = lcap ? lcap * 2 : 1024;
			if ((lines = realloc(lines, lcap * sizeof(*lines))) ==
			    NULL)
				return 1;
		}
		if ((lines[nlines++] = strdup(line)) == NULL)
			return 1;
	}
	free(line);
	(void)fclose(f);
	if ((lat = calloc(nlines + 1, sizeof(*lat))) == NULL ||
	    (cs = calloc((size_t)conns, sizeof(*cs))) == NULL ||
	    (ep = epoll_create1(0)) < 0)
		return 1;
	for (i = 0; i < conns; i++) {
		cs[i].fd = -1;
		if (open_conn(ep, &cs[i]) != 0) {
			perror("connect");
			return 1;
		}
	}
	t0 = now();
	for (i = 0; i < conns; i++)
		if (start_next(ep, &cs[i]) < 0)
			return 1;
	while (done < nlines) {
		n = epoll_wait(ep, evs, 64, 30000);
		if (n <= 0) {
			fprintf(stderr, "loadgen: no answer for 30 s\n");
			break;
		}
		for (i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			ssize_t r;
			long whole;

			r = recv(c->fd, c->rbuf + c->rlen, RBUF - c->rlen, 0);
			if (r < 0 && errno == EAGAIN)
				continue;
			if (r <= 0) {	/* closed: the request is lost */
				(void)epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
				(void)close(c->fd);
				c->fd = -1;
				if (c->busy) {
					errs++;
					done++;
				}
				if (start_next(ep, c) < 0)
					return 1;
				continue;
			}
			c->rlen += (size_t)r;
			whole = complete(c, &status);
			if (whole == 0)
				continue;
			done++;
			lat[nlat++] = now() - c->t;
			if (whole < 0)
				errs++;
			else if (status >= 200 && status < 300)
				ok++;
			else
				other++;
			if (start_next(ep, c) < 0)
				return 1;
		}
	}
	t1 = now();
	qsort(lat, nlat, sizeof(*lat), cmp_double);
	printf("requests %zu ok %zu other %zu errors %zu seconds %.3f "
	    "rate %.0f p50_ms %.2f p99_ms %.2f max_ms %.2f\n", nlines, ok,
	    other, errs, t1 - t0, (double)done / (t1 - t0),
	    nlat ? lat[rank(50)] * 1e3 : 0, nlat ? lat[rank(99)] * 1e3 : 0,
	    nlat ? lat[nlat - 1] * 1e3 : 0);
	return 0;
}
