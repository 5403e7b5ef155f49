/*
 * channels/curlq.c - the libcurl multi queue of the HTTP and SMTP
 * channel drivers (see curlq_int.h).
 */
#include "channels/curlq_int.h"
#include "engine/clock.h"
#include "engine/err.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/epoll.h>

#define CURLQ_EVENTS	64	/* ready sockets taken a wait */
#define CURLQ_WAIT_MS	2	/* poll's wait on its sockets */

/* CURLMOPT_SOCKETFUNCTION: watch fd for what libcurl asks, or no more. */
static int
sock_cb(CURL *e, curl_socket_t fd, int what, void *arg, void *sockp)
{
	struct curlq *cq = arg;
	struct epoll_event ev;

	(void)e;
	if (what == CURL_POLL_REMOVE) {
		/* Gone already when libcurl closed it first.  libcurl
		 * forgets the socket's pointer with it. */
		(void)epoll_ctl(cq->epfd, EPOLL_CTL_DEL, fd, NULL);
		return 0;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0) |
	    ((what & CURL_POLL_OUT) ? EPOLLOUT : 0);
	ev.data.fd = fd;
	/* The socket's pointer (curl_multi_assign) says it is in the set
	 * already: one call, not a failing MOD before each ADD. */
	if (sockp != NULL ? epoll_ctl(cq->epfd, EPOLL_CTL_MOD, fd, &ev) == 0 ||
	    (errno == ENOENT &&
	    epoll_ctl(cq->epfd, EPOLL_CTL_ADD, fd, &ev) == 0) :
	    epoll_ctl(cq->epfd, EPOLL_CTL_ADD, fd, &ev) == 0 ||
	    (errno == EEXIST &&
	    epoll_ctl(cq->epfd, EPOLL_CTL_MOD, fd, &ev) == 0)) {
		if (sockp == NULL)
			(void)curl_multi_assign(cq->multi, fd, cq);
		return 0;
	}
	/* Not watched, the transfers fail now (reported, tried again)
	 * rather than hang until their time-out. */
	curlq_set_detail(cq, "cannot watch a socket");
	return -1;
}

/* CURLMOPT_TIMERFUNCTION: when libcurl's timer runs out (-1: never). */
static int
timer_cb(CURLM *m, long ms, void *arg)
{
	struct curlq *cq = arg;

	(void)m;
	cq->timer_at = ms < 0 ? -1 : eng_mono_ms() + ms;
	return 0;
}

int
curlq_init(struct curlq *cq, const struct curlq_ops *ops,
    size_t concurrency, long timeout_ms)
{
	memset(cq, 0, sizeof(*cq));
	cq->ops = ops;
	cq->concurrency = concurrency;
	cq->timeout_ms = timeout_ms;
	cq->up = 1;
	cq->timer_at = -1;
	if ((cq->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    (cq->inflight = calloc(concurrency, sizeof(*cq->inflight))) ==
	    NULL || (cq->spare = calloc(concurrency, sizeof(*cq->spare))) ==
	    NULL || (cq->multi = curl_multi_init()) == NULL)
		return ENG_ENOMEM;
	(void)curl_multi_setopt(cq->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
	    (long)concurrency);
	if (curl_multi_setopt(cq->multi, CURLMOPT_SOCKETFUNCTION, sock_cb) !=
	    CURLM_OK ||
	    curl_multi_setopt(cq->multi, CURLMOPT_SOCKETDATA, cq) != CURLM_OK ||
	    curl_multi_setopt(cq->multi, CURLMOPT_TIMERFUNCTION, timer_cb) !=
	    CURLM_OK ||
	    curl_multi_setopt(cq->multi, CURLMOPT_TIMERDATA, cq) != CURLM_OK)
		return ENG_ENOMEM;
	return 0;
}

void
curlq_push(struct curlq *cq, struct curlq_req *r)
{
	r->next = NULL;
	if (cq->tail != NULL)
		cq->tail->next = r;
	else
		cq->head = r;
	cq->tail = r;
	cq->nqueued += r->n;
}

void
curlq_push_front(struct curlq *cq, struct curlq_req *first,
    struct curlq_req *last)
{
	struct curlq_req *r;

	for (r = first; r != last->next; r = r->next)
		cq->nqueued += r->n;
	last->next = cq->head;
	cq->head = first;
	if (cq->tail == NULL)
		cq->tail = last;
}

void
curlq_report(struct channel *ch, int64_t id, enum chan_result res,
    const char *err, const char *gw, int64_t retry_after_ms)
{
	struct chan_report rep;

	memset(&rep, 0, sizeof(rep));
	rep.delivery_id = id;
	rep.result = res;
	rep.error = err;
	rep.gateway_id = gw;
	rep.retry_after_ms = retry_after_ms;
	chan_report(ch, &rep);
}

/* Reports every message of r as res with err. */
static void
report_all(struct channel *ch, const struct curlq_req *r,
    enum chan_result res, const char *err)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		curlq_report(ch, r->ids[i], res, err, NULL, 0);
}

/* r's easy handle back (out of the multi handle): kept, its options
 * reset, for a later request while there is room, else cleaned up. */
static void
req_free(struct curlq *cq, struct curlq_req *r)
{
	if (r->easy != NULL) {
		if (cq->spare != NULL && cq->nspare < cq->concurrency) {
			curl_easy_reset(r->easy);
			cq->spare[cq->nspare++] = r->easy;
		} else {
			curl_easy_cleanup(r->easy);
		}
	}
	r->easy = NULL;
	cq->ops->free(r);
}

static size_t
write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct curlq_req *r = arg;
	size_t n = size * nmemb, room = r->resp_size - 1 - r->resp_len;

	if (n > room)
		n = room;
	memcpy(r->resp + r->resp_len, data, n);
	r->resp_len += n;
	r->resp[r->resp_len] = '\0';
	return size * nmemb;
}

void
curlq_mark(const struct curlq *cq, struct curlq_mark *m)
{
	m->tail = cq->tail;
	m->nqueued = cq->nqueued;
}

void
curlq_rollback(struct curlq *cq, const struct curlq_mark *m)
{
	struct curlq_req *r, *next;

	for (r = m->tail != NULL ? m->tail->next : cq->head; r != NULL;
	    r = next) {
		next = r->next;
		req_free(cq, r);
	}
	if (m->tail != NULL)
		m->tail->next = NULL;
	else
		cq->head = NULL;
	cq->tail = m->tail;
	cq->nqueued = m->nqueued;
}

int
curlq_send(struct curlq *cq, const struct chan_msg *m, size_t n,
    size_t max_batch, size_t max_queued,
    int (*add)(void *arg, const struct chan_msg *m), void *arg)
{
	struct curlq_mark mark;
	size_t i;

	if (cq->multi == NULL || n > max_batch)
		return ENG_EINVAL;
	if (cq->nqueued + n > max_queued)
		return ENG_ETEMP;
	curlq_mark(cq, &mark);
	for (i = 0; i < n; i++)
		if (add(arg, &m[i]) != 0)
			break;
	if (i == n)
		return 0;
	/* Out of memory: take back what this call added. */
	curlq_rollback(cq, &mark);
	return ENG_ETEMP;
}

static int
start(struct curlq *cq, struct channel *ch, struct curlq_req *r,
    int64_t now_ms)
{
	CURL *e;

	if (cq->nspare > 0)
		e = cq->spare[--cq->nspare];
	else if ((e = curl_easy_init()) == NULL)
		return ENG_ENOMEM;
	r->easy = e;
	if (curl_easy_setopt(e, CURLOPT_PRIVATE, r) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, cq->timeout_ms) !=
	    CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, cq->ops->protocols) !=
	    CURLE_OK)
		return ENG_ENOMEM;
	if (r->resp != NULL && r->resp_size > 0 &&
	    (curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb) !=
	    CURLE_OK || curl_easy_setopt(e, CURLOPT_WRITEDATA, r) !=
	    CURLE_OK))
		return ENG_ENOMEM;
	if (cq->ops->setup(ch, r, now_ms) != 0)
		return ENG_ENOMEM;
	if (curl_multi_add_handle(cq->multi, e) != CURLM_OK)
		return ENG_ENOMEM;
	cq->inflight[cq->ninflight++] = r;
	return 0;
}

static void
drop_inflight(struct curlq *cq, struct curlq_req *r)
{
	size_t i;

	for (i = 0; i < cq->ninflight; i++)
		if (cq->inflight[i] == r) {
			cq->inflight[i] = cq->inflight[--cq->ninflight];
			break;
		}
	(void)curl_multi_remove_handle(cq->multi, r->easy);
}

/* Start queued requests while there are free slots. */
static void
start_queued(struct curlq *cq, struct channel *ch, int64_t now_ms)
{
	const struct curlq_ops *ops = cq->ops;
	struct curlq_req *r;

	while (cq->head != NULL && cq->ninflight < cq->concurrency) {
		r = cq->head;
		cq->head = r->next;
		if (cq->head == NULL)
			cq->tail = NULL;
		cq->nqueued -= r->n;
		if (r->fail != NULL) {
			report_all(ch, r, CHAN_R_FAILED, r->fail);
			req_free(cq, r);
		} else if (r->deadline_ms > 0 && now_ms > r->deadline_ms) {
			/* RETRY past the deadline: the engine ends it dead;
			 * kannel says FAILED (ops->expired). */
			report_all(ch, r, ops->expired,
			    "expired before it could be sent");
			req_free(cq, r);
		} else if (start(cq, ch, r, now_ms) != 0) {
			/* Not in flight: start adds it last. */
			report_all(ch, r, CHAN_R_RETRY, "out of memory");
			req_free(cq, r);
		}
	}
}

/* Hands every completed transfer to finish; returns whether any was. */
static int
completions(struct curlq *cq, struct channel *ch)
{
	struct curlq_req *r;
	CURLMsg *msg;
	CURLcode res;
	int left, any = 0;
	void *priv;

	while ((msg = curl_multi_info_read(cq->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		priv = NULL;
		(void)curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
		    &priv);
		r = priv;
		/* msg is invalid once the handle is removed: copy first. */
		res = msg->data.result;
		drop_inflight(cq, r);
		cq->ops->finish(ch, r, res);
		req_free(cq, r);
		any = 1;
	}
	return any;
}

/* libcurl's timer, if it ran out. */
static void
timer_due(struct curlq *cq)
{
	if (cq->timer_at >= 0 && cq->timer_at <= eng_mono_ms()) {
		cq->timer_at = -1;
		(void)curl_multi_socket_action(cq->multi, CURL_SOCKET_TIMEOUT,
		    0, &cq->running);
	}
}

/*
 * What libcurl has to do now (curl_multi_perform's part): its timer if
 * it ran out, then each socket that is ready, waiting up to wait_ms for
 * one (no longer than libcurl's timer).  Returns how many were ready.
 */
static int
drive(struct curlq *cq, int wait_ms)
{
	struct epoll_event ev[CURLQ_EVENTS];
	int64_t left;
	int i, n, fl;

	timer_due(cq);
	if (wait_ms > 0 && cq->timer_at >= 0) {
		left = cq->timer_at - eng_mono_ms();
		if (left < wait_ms)
			wait_ms = left < 0 ? 0 : (int)left;
	}
	n = epoll_wait(cq->epfd, ev, CURLQ_EVENTS, wait_ms);
	for (i = 0; i < n; i++) {
		fl = 0;
		if (ev[i].events & (EPOLLIN | EPOLLHUP))
			fl |= CURL_CSELECT_IN;
		if (ev[i].events & EPOLLOUT)
			fl |= CURL_CSELECT_OUT;
		if (ev[i].events & EPOLLERR)
			fl |= CURL_CSELECT_ERR;
		/* A socket an earlier one's action closed: libcurl knows it
		 * no more and says so, harmlessly. */
		(void)curl_multi_socket_action(cq->multi, ev[i].data.fd, fl,
		    &cq->running);
	}
	timer_due(cq);
	return n > 0 ? n : 0;
}

int64_t
curlq_poll(struct curlq *cq, struct channel *ch, int64_t now_ms)
{
	unsigned flags = cq->ops->flags;
	int64_t tmo;
	int rounds, ready;

	if (cq->multi == NULL)
		return 1000;
	for (rounds = 0; rounds < ((flags & CURLQ_ONE_PASS) ? 1 : 4);
	    rounds++) {
		start_queued(cq, ch, now_ms);
		if (cq->ninflight > 0)
			(void)drive(cq, 0);
		if (!completions(cq, ch))
			break;
	}
	start_queued(cq, ch, now_ms);
	if (!(flags & CURLQ_ONE_PASS) && cq->ninflight > 0)
		(void)drive(cq, 0);
	if (cq->head != NULL && cq->ninflight < cq->concurrency)
		return 0;
	if (cq->ninflight == 0)
		return 1000;
	/* Some finished in the last drive: come back at once for them
	 * rather than wait on sockets they no longer have. */
	if ((flags & CURLQ_BACK_IF_DONE) && (size_t)cq->running < cq->ninflight)
		return 0;
	/* Wait briefly for an answer here (rule 5: a few ms at most): the
	 * engine sleeps on a timer, not on our sockets, and every
	 * millisecond between the gateway's answer and its record is a
	 * possible duplicate after a crash. */
	ready = drive(cq, CURLQ_WAIT_MS);
	if (ready > 0 && ((flags & CURLQ_BACK_IF_READY) ||
	    (size_t)cq->running < cq->ninflight))
		return 0;
	tmo = cq->timer_at < 0 ? cq->ops->max_wait_ms :
	    cq->timer_at - eng_mono_ms();
	if (tmo > cq->ops->max_wait_ms)
		tmo = cq->ops->max_wait_ms;
	return tmo < 1 ? 1 : tmo;
}

int64_t
curlq_chan_poll(struct channel *ch, int64_t now_ms)
{
	return curlq_poll(ch->priv, ch, now_ms);
}

void
curlq_chan_health(const struct channel *ch, struct chan_health *h)
{
	curlq_health(ch->priv, h);
}

void
curlq_release(struct curlq *cq, struct channel *ch)
{
	struct curlq_req *r;

	while (cq->ninflight > 0) {
		r = cq->inflight[cq->ninflight - 1];
		drop_inflight(cq, r);
		report_all(ch, r, CHAN_R_RETRY, "shut down");
		req_free(cq, r);
	}
	while ((r = cq->head) != NULL) {
		cq->head = r->next;
		if (r->fail != NULL)
			report_all(ch, r, CHAN_R_FAILED, r->fail);
		else
			report_all(ch, r, CHAN_R_RETRY, "shut down");
		req_free(cq, r);
	}
	cq->tail = NULL;
	cq->nqueued = 0;
	if (cq->multi != NULL)
		(void)curl_multi_cleanup(cq->multi);
	cq->multi = NULL;
	/* A queue zeroed and never initialised has no set (and fd 0 is
	 * not its). */
	if (cq->ops != NULL && cq->epfd >= 0)
		(void)close(cq->epfd);
	cq->epfd = -1;
	while (cq->nspare > 0)
		curl_easy_cleanup(cq->spare[--cq->nspare]);
	free(cq->spare);
	cq->spare = NULL;
	free(cq->inflight);
	cq->inflight = NULL;
}

void
curlq_clean_copy(char *out, size_t size, const char *s)
{
	size_t n = strlen(s), i;

	if (n >= size) {
		n = size - 1;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	memmove(out, s, n);
	out[n] = '\0';
	for (i = 0; out[i] != '\0'; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			out[i] = ' ';
}

void
curlq_set_detail(struct curlq *cq, const char *s)
{
	size_t n = strlen(s);

	if (cq->ops != NULL && (cq->ops->flags & CURLQ_CLEAN_DETAIL)) {
		curlq_clean_copy(cq->detail, sizeof(cq->detail), s);
		return;
	}
	if (n >= sizeof(cq->detail))
		n = sizeof(cq->detail) - 1;
	memcpy(cq->detail, s, n);
	cq->detail[n] = '\0';
}

void
curlq_health(const struct curlq *cq, struct chan_health *h)
{
	memset(h, 0, sizeof(*h));
	h->up = cq->up;
	h->queued = cq->nqueued;
	h->in_flight = cq->ninflight;
	(void)snprintf(h->detail, sizeof(h->detail), "%s", cq->detail);
}

const char *
curlq_answer_text(struct curlq_req *r)
{
	size_t i;

	if (r->resp == NULL)
		return "";
	for (i = 0; i < r->resp_len; i++)
		if ((unsigned char)r->resp[i] < 0x20)
			r->resp[i] = ' ';
	while (r->resp_len > 0 && r->resp[r->resp_len - 1] == ' ')
		r->resp[--r->resp_len] = '\0';
	return r->resp;
}
