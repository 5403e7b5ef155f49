/*
 * tests/unit/test_chan_curlq.c - the libcurl multi queue the HTTP and
 * SMTP drivers share (channels/curlq.c), driven directly with a small
 * driver of the test's own against a libmicrohttpd server on 127.0.0.1
 * and a listening socket that never answers: the FIFO order and the
 * in-flight bound, the answer kept and trimmed, requests refused before
 * sending, expired ones (each driver's result), out of memory in setup,
 * a refused connection, handles kept for reuse and reset, what the poll
 * asks to wait, a send taken back (rollback), requests put back at the
 * head, shutdown with requests in flight and queued, health and its
 * detail.
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
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <microhttpd.h>

#include "channels/curlq_int.h"
#include "engine/err.h"

/* ------------------------------------------------------------------ */
/* The server: GET "/ok" is 200 "fine\r\n  ", anything else 404; it   */
/* counts the requests.                                               */
/* ------------------------------------------------------------------ */

static struct MHD_Daemon *mhd;
static unsigned short port;
static int silent_fd = -1;		/* listens, never accepts */
static unsigned short silent_port;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int nrequests;

static enum MHD_Result
handler(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	static const char body[] = "fine\r\n  ";
	int ok = strcmp(method, "GET") == 0 && strcmp(url, "/ok") == 0;
	struct MHD_Response *r;
	enum MHD_Result ret;

	(void)cls, (void)version, (void)upload, (void)upload_size;
	(void)con_cls;
	pthread_mutex_lock(&mu);
	nrequests++;
	pthread_mutex_unlock(&mu);
	r = MHD_create_response_from_buffer(ok ? sizeof(body) - 1 : 0,
	    (void *)(uintptr_t)body, MHD_RESPMEM_PERSISTENT);
	if (r == NULL)
		return MHD_NO;
	ret = MHD_queue_response(c, ok ? 200 : 404, r);
	MHD_destroy_response(r);
	return ret;
}

static int
group_setup(void **state)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	const union MHD_DaemonInfo *di;

	(void)state;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL,
	    NULL, handler, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_END);
	if (mhd == NULL ||
	    (di = MHD_get_daemon_info(mhd, MHD_DAEMON_INFO_BIND_PORT)) ==
	    NULL)
		return -1;
	port = di->port;
	if ((silent_fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    bind(silent_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(silent_fd, 16) != 0 ||
	    getsockname(silent_fd, (struct sockaddr *)&sa, &len) != 0)
		return -1;
	silent_port = ntohs(sa.sin_port);
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	if (mhd != NULL)
		MHD_stop_daemon(mhd);
	if (silent_fd >= 0)
		(void)close(silent_fd);
	curl_global_cleanup();
	return 0;
}

/* ------------------------------------------------------------------ */
/* The test's driver                                                   */
/* ------------------------------------------------------------------ */

#define MAX_SEEN 32

struct treq {
	struct curlq_req cq;
	int64_t id;
	int oom;		/* setup fails */
	int post;		/* a POST (which the server refuses) */
	char url[96];
	char resp[8];		/* small: "fine" and a bit */
};

struct seen {
	int64_t id;
	enum chan_result res;	/* 0: finished (see code) */
	CURLcode code;
	char text[64];
};

struct fx {
	struct curlq q;		/* first: curlq_chan_poll, _health */
	struct channel ch;
	struct chan_env env;
	struct seen seen[MAX_SEEN];
	size_t nseen;
	size_t most_inflight;
	int nfreed;
	CURL *easy[MAX_SEEN];	/* the easy handle of request id */
};

static struct fx *cur;		/* for free, which has no channel */

static int
t_setup(struct channel *ch, struct curlq_req *r, int64_t now_ms)
{
	struct treq *t = (struct treq *)(void *)r;

	struct fx *f = (struct fx *)ch->priv;

	(void)now_ms;
	if (t->oom)
		return ENG_ENOMEM;
	if (t->id >= 0 && t->id < MAX_SEEN)
		f->easy[t->id] = r->easy;
	if (t->post && curl_easy_setopt(r->easy, CURLOPT_POSTFIELDS, "x") !=
	    CURLE_OK)
		return ENG_ENOMEM;
	return curl_easy_setopt(r->easy, CURLOPT_URL, t->url) == CURLE_OK ?
	    0 : ENG_ENOMEM;
}

static void
t_finish(struct channel *ch, struct curlq_req *r, CURLcode res)
{
	struct fx *f = (struct fx *)ch->priv;
	struct seen *s = &f->seen[f->nseen++];

	s->id = ((struct treq *)(void *)r)->id;
	s->code = res;
	(void)snprintf(s->text, sizeof(s->text), "%s",
	    res == CURLE_OK ? curlq_answer_text(r) : "");
}

/* What curlq reports itself (env->report). */
static void
t_report(void *engine, struct channel *ch, const struct chan_report *r)
{
	struct fx *f = engine;
	struct seen *s = &f->seen[f->nseen++];

	assert_ptr_equal(ch, &f->ch);
	assert_null(r->gateway_id);
	assert_int_equal(r->retry_after_ms, 0);
	assert_int_equal(r->segments, 0);
	s->id = r->delivery_id;
	s->res = r->result;
	(void)snprintf(s->text, sizeof(s->text), "%s", r->error);
}

static void
t_free(void *r)
{
	cur->nfreed++;
	free(r);
}

static const struct curlq_ops ops_retry = {
	.setup = t_setup, .finish = t_finish, .free = t_free,
	.protocols = "http,https",
	.expired = CHAN_R_RETRY, .flags = CURLQ_BACK_IF_DONE,
	.max_wait_ms = 5,
};

static const struct curlq_ops ops_kannel = {
	.setup = t_setup, .finish = t_finish, .free = t_free,
	.protocols = "http,https",
	.expired = CHAN_R_FAILED,
	.flags = CURLQ_ONE_PASS | CURLQ_BACK_IF_DONE | CURLQ_BACK_IF_READY,
	.max_wait_ms = 20,
};

static const struct curlq_ops ops_clean = {
	.setup = t_setup, .finish = t_finish, .free = t_free,
	.protocols = "smtp,smtps",
	.expired = CHAN_R_RETRY, .flags = CURLQ_CLEAN_DETAIL,
	.max_wait_ms = 5,
};

static struct treq *
mk(int id, const char *path, unsigned short p)
{
	struct treq *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	t->id = id;
	t->cq.n = 1;
	t->cq.ids = &t->id;
	t->cq.resp = t->resp;
	t->cq.resp_size = sizeof(t->resp);
	(void)snprintf(t->url, sizeof(t->url), "http://127.0.0.1:%u%s",
	    (unsigned)p, path);
	return t;
}

static int
setup_with(void **state, const struct curlq_ops *ops, size_t conc)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL || curlq_init(&f->q, ops, conc, 2000) != 0)
		return -1;
	f->env.report = t_report;
	f->env.engine = f;
	f->ch.name = "t";
	f->ch.priv = f;
	f->ch.env = &f->env;
	cur = f;
	pthread_mutex_lock(&mu);
	nrequests = 0;
	pthread_mutex_unlock(&mu);
	*state = f;
	return 0;
}

static int
setup(void **state)
{
	return setup_with(state, &ops_retry, 2);
}

static int
setup_kannel(void **state)
{
	return setup_with(state, &ops_kannel, 1);
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	curlq_release(&f->q, &f->ch);
	free(f);
	cur = NULL;
	return 0;
}

/* Poll until n are seen (at most 5 s), keeping the most in flight. */
static void
poll_until(struct fx *f, size_t n)
{
	time_t end = time(NULL) + 5;

	while (f->nseen < n && time(NULL) <= end) {
		(void)curlq_chan_poll(&f->ch, 100);
		if (f->q.ninflight > f->most_inflight)
			f->most_inflight = f->q.ninflight;
	}
	assert_int_equal(f->nseen, n);
}

/* ------------------------------------------------------------------ */
/* Tests                                                               */
/* ------------------------------------------------------------------ */

static void
test_fifo_bound_and_answer(void **state)
{
	struct fx *f = *state;
	struct chan_health h;
	int i;

	for (i = 1; i <= 5; i++)
		curlq_push(&f->q, &mk(i, "/ok", port)->cq);
	assert_int_equal(f->q.nqueued, 5);
	curlq_chan_health(&f->ch, &h);
	assert_int_equal(h.queued, 5);
	assert_int_equal(h.in_flight, 0);
	assert_int_equal(h.up, 1);
	assert_string_equal(h.detail, "");
	poll_until(f, 5);
	assert_int_equal(f->most_inflight, 2);	/* the bound, reached */
	for (i = 0; i < 5; i++) {
		assert_int_equal(f->seen[i].res, 0);
		assert_int_equal(f->seen[i].code, CURLE_OK);
		/* "fine\r\n  " cut to 7 bytes, then trimmed */
		assert_string_equal(f->seen[i].text, "fine");
	}
	/* The first two started first. */
	assert_true(f->seen[0].id <= 2 && f->seen[1].id <= 2);
	assert_int_equal(f->q.nqueued, 0);
	assert_int_equal(f->q.ninflight, 0);
	assert_int_equal(f->nfreed, 5);
	assert_int_equal(nrequests, 5);
	/* Idle: the engine may sleep a second. */
	assert_int_equal(curlq_chan_poll(&f->ch, 100), 1000);
}

/*
 * Easy handles are kept for the next requests (as many as the
 * concurrency), reset: a POST's body does not follow its handle into
 * the GET after it.
 */
static void
test_handles_reused(void **state)
{
	struct fx *f = *state;
	struct treq *t;

	t = mk(1, "/ok", port);
	t->post = 1;
	curlq_push(&f->q, &t->cq);
	poll_until(f, 1);
	assert_string_equal(f->seen[0].text, "");	/* 404: a POST */
	assert_int_equal(f->q.nspare, 1);
	curlq_push(&f->q, &mk(2, "/ok", port)->cq);
	poll_until(f, 2);
	assert_ptr_equal(f->easy[2], f->easy[1]);	/* the same handle */
	assert_string_equal(f->seen[1].text, "fine");	/* a GET again */
	/* Five at once on two slots: two handles, never more kept. */
	curlq_push(&f->q, &mk(3, "/ok", port)->cq);
	curlq_push(&f->q, &mk(4, "/ok", port)->cq);
	curlq_push(&f->q, &mk(5, "/ok", port)->cq);
	poll_until(f, 5);
	assert_true(f->q.nspare <= f->q.concurrency);
	assert_int_equal(f->q.nspare, 2);
	assert_int_equal(nrequests, 5);
}

static void
test_refused_expired_oom(void **state)
{
	struct fx *f = *state;
	struct treq *a = mk(1, "/ok", port), *b = mk(2, "/ok", port);
	struct treq *c = mk(3, "/ok", port);

	a->cq.fail = "not a phone number";
	b->cq.deadline_ms = 99;
	c->oom = 1;
	curlq_push(&f->q, &a->cq);
	curlq_push(&f->q, &b->cq);
	curlq_push(&f->q, &c->cq);
	assert_int_equal(curlq_chan_poll(&f->ch, 100), 1000);
	assert_int_equal(f->nseen, 3);
	assert_int_equal(f->seen[0].id, 1);
	assert_int_equal(f->seen[0].res, CHAN_R_FAILED);
	assert_string_equal(f->seen[0].text, "not a phone number");
	assert_int_equal(f->seen[1].id, 2);
	assert_int_equal(f->seen[1].res, CHAN_R_RETRY);
	assert_string_equal(f->seen[1].text,
	    "expired before it could be sent");
	assert_int_equal(f->seen[2].id, 3);
	assert_int_equal(f->seen[2].res, CHAN_R_RETRY);
	assert_string_equal(f->seen[2].text, "out of memory");
	assert_int_equal(f->nfreed, 3);
	assert_int_equal(nrequests, 0);
	assert_int_equal(f->q.nqueued, 0);
}

static void
test_kannel_expired_failed_and_wait(void **state)
{
	struct fx *f = *state;
	struct treq *b = mk(2, "/ok", port);
	int64_t w;
	int i;

	b->cq.deadline_ms = 99;
	curlq_push(&f->q, &b->cq);
	curlq_push(&f->q, &mk(3, "/", silent_port)->cq);
	curlq_push(&f->q, &mk(4, "/", silent_port)->cq);
	w = curlq_chan_poll(&f->ch, 100);
	assert_int_equal(f->nseen, 1);
	assert_int_equal(f->seen[0].res, CHAN_R_FAILED);
	assert_string_equal(f->seen[0].text,
	    "expired before it could be sent");
	/* One in flight (concurrency 1), one waiting behind it.  While its
	 * socket is ready (connecting, sending) poll asks to come back at
	 * once; then, waiting for an answer that does not come, 1 to 20 ms
	 * (the request's own time-out is 2 s away). */
	for (i = 0; i < 20 && w == 0; i++)
		w = curlq_chan_poll(&f->ch, 100);
	assert_int_equal(f->q.ninflight, 1);
	assert_int_equal(f->q.nqueued, 1);
	assert_true(w >= 1 && w <= 20);
	assert_int_equal(f->nseen, 1);
}

static void
test_refused_connection(void **state)
{
	struct fx *f = *state;
	int fd;
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	unsigned short closed;

	/* A port that was just free: nothing listens there. */
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	closed = ntohs(sa.sin_port);
	(void)close(fd);
	curlq_push(&f->q, &mk(7, "/", closed)->cq);
	poll_until(f, 1);
	assert_int_equal(f->seen[0].id, 7);
	assert_int_equal(f->seen[0].code, CURLE_COULDNT_CONNECT);
	assert_int_equal(f->nfreed, 1);
}

static void
test_rollback_and_push_front(void **state)
{
	struct fx *f = *state;
	struct treq *b, *c;
	struct curlq_mark m;

	curlq_push(&f->q, &mk(1, "/", silent_port)->cq);
	curlq_mark(&f->q, &m);
	curlq_push(&f->q, &mk(8, "/", silent_port)->cq);
	curlq_push(&f->q, &mk(9, "/", silent_port)->cq);
	assert_int_equal(f->q.nqueued, 3);
	curlq_rollback(&f->q, &m);
	assert_int_equal(f->nfreed, 2);
	assert_int_equal(f->q.nqueued, 1);
	assert_ptr_equal(f->q.tail, f->q.head);
	/* Taking back from an empty queue. */
	b = mk(2, "/", silent_port);
	c = mk(3, "/", silent_port);
	b->cq.next = &c->cq;
	curlq_push_front(&f->q, &b->cq, &c->cq);
	assert_int_equal(f->q.nqueued, 3);
	curlq_push(&f->q, &mk(4, "/", silent_port)->cq);
	/* Shutdown reports the queue from its head: 2, 3, 1, 4. */
	curlq_release(&f->q, &f->ch);
	assert_int_equal(f->nseen, 4);
	assert_int_equal(f->seen[0].id, 2);
	assert_int_equal(f->seen[1].id, 3);
	assert_int_equal(f->seen[2].id, 1);
	assert_int_equal(f->seen[3].id, 4);
	assert_int_equal(f->seen[3].res, CHAN_R_RETRY);
	assert_string_equal(f->seen[3].text, "shut down");
	assert_int_equal(f->nfreed, 6);
	/* Idempotent. */
	curlq_release(&f->q, &f->ch);
	assert_int_equal(f->nseen, 4);
}

/* curlq_send's add: queues m unless its id is 13 (out of memory). */
static int
t_add(void *arg, const struct chan_msg *m)
{
	struct fx *f = arg;

	if (m->delivery_id == 13)
		return ENG_ENOMEM;
	curlq_push(&f->q, &mk((int)m->delivery_id, "/", silent_port)->cq);
	return 0;
}

static void
test_send(void **state)
{
	struct fx *f = *state;
	struct chan_msg m[4];
	size_t i;

	memset(m, 0, sizeof(m));
	for (i = 0; i < 4; i++)
		m[i].delivery_id = (int64_t)i + 10;	/* 10, 11, 12, 13 */
	assert_int_equal(curlq_send(&f->q, m, 4, 3, 100, t_add, f),
	    ENG_EINVAL);			/* more than max_batch */
	assert_int_equal(curlq_send(&f->q, m, 3, 3, 2, t_add, f),
	    ENG_ETEMP);			/* more than max_queued */
	assert_int_equal(f->q.nqueued, 0);
	assert_int_equal(curlq_send(&f->q, m, 2, 3, 100, t_add, f), 0);
	assert_int_equal(f->q.nqueued, 2);
	/* 12 goes in, 13 fails: 12 is taken back, 10 and 11 stay. */
	assert_int_equal(curlq_send(&f->q, m + 2, 2, 3, 100, t_add, f),
	    ENG_ETEMP);
	assert_int_equal(f->nfreed, 1);
	assert_int_equal(f->q.nqueued, 2);
	assert_int_equal(((struct treq *)(void *)f->q.tail)->id, 11);
	curlq_release(&f->q, &f->ch);
	assert_int_equal(f->nseen, 2);
	assert_int_equal(f->seen[0].id, 10);
	assert_int_equal(f->seen[1].id, 11);
	/* Shut down: no more. */
	assert_int_equal(curlq_send(&f->q, m, 1, 3, 100, t_add, f),
	    ENG_EINVAL);
	assert_int_equal(f->nfreed, 3);
}

static void
test_shutdown_in_flight(void **state)
{
	struct fx *f = *state;
	struct treq *bad = mk(5, "/", silent_port);
	struct chan_health h;
	time_t end = time(NULL) + 3;

	bad->cq.fail = "empty message";
	curlq_push(&f->q, &mk(1, "/", silent_port)->cq);
	curlq_push(&f->q, &mk(2, "/", silent_port)->cq);
	curlq_push(&f->q, &mk(3, "/", silent_port)->cq);
	while (f->q.ninflight < 2 && time(NULL) <= end)
		(void)curlq_chan_poll(&f->ch, 100);
	curlq_push(&f->q, &bad->cq);
	curlq_chan_health(&f->ch, &h);
	assert_int_equal(h.in_flight, 2);
	assert_int_equal(h.queued, 2);
	curlq_release(&f->q, &f->ch);
	assert_int_equal(f->nseen, 4);
	/* In flight first (RETRY), then the queue: 3, then 5 FAILED. */
	assert_int_equal(f->seen[0].res, CHAN_R_RETRY);
	assert_string_equal(f->seen[0].text, "shut down");
	assert_int_equal(f->seen[1].res, CHAN_R_RETRY);
	assert_int_equal(f->seen[0].id + f->seen[1].id, 3);
	assert_int_equal(f->seen[2].id, 3);
	assert_int_equal(f->seen[2].res, CHAN_R_RETRY);
	assert_int_equal(f->seen[3].id, 5);
	assert_int_equal(f->seen[3].res, CHAN_R_FAILED);
	assert_string_equal(f->seen[3].text, "empty message");
	assert_int_equal(f->nfreed, 4);
	assert_null(f->q.multi);
	/* A poll after shutdown does nothing. */
	assert_int_equal(curlq_chan_poll(&f->ch, 100), 1000);
}

static void
test_detail_and_answer_text(void **state)
{
	struct fx *f = *state;
	struct chan_health h;
	struct curlq_req r;
	struct curlq cl;
	char buf[300], resp[16] = "a\tb\x01 \r\n";
	size_t i;

	memset(buf, 'x', sizeof(buf) - 1);
	buf[sizeof(buf) - 1] = '\0';
	curlq_set_detail(&f->q, buf);
	f->q.up = 0;
	curlq_chan_health(&f->ch, &h);
	assert_int_equal(strlen(f->q.detail), 127);
	assert_int_equal(strlen(h.detail), 127);
	assert_int_equal(h.up, 0);
	curlq_set_detail(&f->q, "HTTP 503: busy");
	assert_string_equal(f->q.detail, "HTTP 503: busy");

	/* CURLQ_CLEAN_DETAIL (voice_http, smtp): control bytes become
	 * spaces, the cut falls between UTF-8 characters. */
	memset(&cl, 0, sizeof(cl));
	cl.ops = &ops_clean;
	curlq_set_detail(&cl, "550 5.1.1\r\nno such user\x7f");
	assert_string_equal(cl.detail, "550 5.1.1  no such user ");
	for (i = 0; i < 50; i++)
		memcpy(buf + 3 * i, "预", 3);	/* 3 bytes each: 150 */
	buf[150] = '\0';
	curlq_set_detail(&cl, buf);
	assert_int_equal(strlen(cl.detail), 126);	/* 42 characters */
	curlq_clean_copy(buf, 5, buf);			/* in place */
	assert_string_equal(buf, "预");

	memset(&r, 0, sizeof(r));
	assert_string_equal(curlq_answer_text(&r), "");
	r.resp = resp;
	r.resp_size = sizeof(resp);
	r.resp_len = strlen(resp);
	assert_string_equal(curlq_answer_text(&r), "a b");
	assert_int_equal(r.resp_len, 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fifo_bound_and_answer,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_handles_reused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_refused_expired_oom,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_kannel_expired_failed_and_wait, setup_kannel,
		    teardown),
		cmocka_unit_test_setup_teardown(test_refused_connection,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollback_and_push_front,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_send, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shutdown_in_flight,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_detail_and_answer_text,
		    setup, teardown),
	};

	return cmocka_run_group_tests_name("chan_curlq", tests, group_setup,
	    group_teardown);
}
