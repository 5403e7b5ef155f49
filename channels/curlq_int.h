/*
 * channels/curlq_int.h - the libcurl multi queue the HTTP and SMTP
 * channel drivers share: a FIFO of queued requests, an in-flight array
 * bounded by the channel's concurrency, the poll loop (perform, the
 * completions, the wait it asks the engine for) and the shutdown that
 * reports what is still queued or under way.
 *
 * Internal to channels/ (the *_int.h rule of STYLE.md): only drivers
 * include it, never the engine, which is why it may include
 * <curl/curl.h>; channels/channel.h stays free of curl.
 *
 * A driver embeds a struct curlq in its priv and a struct curlq_req
 * first in each request, and gives a struct curlq_ops: setup sets the
 * request's own options on its easy handle, finish judges a completed
 * transfer and reports, free frees the driver's request.  curlq reports
 * itself what it ends without a transfer (refused, expired, out of
 * memory, shut down: each of the request's ids, no gateway id, no
 * retry wish).  curlq owns the easy handle: it takes one (a spare one,
 * reset, when it has one: easy handles are kept for the next requests,
 * as many as the concurrency, rather than made and freed for each),
 * sets CURLOPT_PRIVATE, ERRORBUFFER, NOSIGNAL, TIMEOUT_MS,
 * PROTOCOLS_STR and, when the request has a response buffer,
 * WRITEFUNCTION/WRITEDATA, and takes it back before calling free.
 *
 * Transfers are driven through libcurl's socket interface
 * (curl_multi_socket_action) on an epoll set of the queue's own: libcurl
 * says which sockets to watch and when its timer runs out, and only the
 * transfers whose sockets are ready are visited.  curl_multi_perform
 * visits every transfer in flight, each with a poll(2) of its socket: at
 * a gateway that answers one request at a time (Kannel), nine poll calls
 * a message.
 *
 * Errors: functions returning int return 0 or a negative enum eng_err,
 * as each says.  Ownership: curlq_push takes the request (always
 * succeeds); from then on curlq frees it (ops->free) once it is
 * reported.  Thread-safety: none, unless said; a queue is used from its
 * channel's thread only (channel.h).  Nothing blocks longer than
 * curlq_poll's 2 ms wait on its sockets.
 */
#ifndef CHANNELS_CURLQ_INT_H
#define CHANNELS_CURLQ_INT_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "channels/channel.h"

struct curlq_req {
	struct curlq_req *next;		/* curlq's */
	CURL *easy;			/* curlq's; NULL until started */
	size_t n;			/* messages it carries */
	const int64_t *ids;		/* their delivery ids (n of them) */
	int64_t deadline_ms;		/* do not start after; 0: none */
	const char *fail;		/* static: refused before sending */
	char *resp;			/* response body buffer, or NULL */
	size_t resp_size;		/* its size (one byte for the NUL) */
	size_t resp_len;
	char errbuf[CURL_ERROR_SIZE];
};

/* How a driver's poll behaves (flags). */
#define CURLQ_ONE_PASS		0x01	/* one perform and its completions,
					 * no second perform (else up to 4
					 * rounds, then a perform) */
#define CURLQ_BACK_IF_DONE	0x02	/* return 0 when some finished in
					 * the last perform */
#define CURLQ_BACK_IF_READY	0x04	/* return 0 when the 2 ms wait saw
					 * its sockets ready */
#define CURLQ_CLEAN_DETAIL	0x08	/* curlq_set_detail copies as
					 * curlq_clean_copy does */

struct curlq_ops {
	/* Sets r's own options on r->easy (URL, body, headers…) after
	 * building what they need; returns 0 or ENG_ENOMEM (r is then
	 * reported CHAN_R_RETRY "out of memory" and freed). */
	int (*setup)(struct channel *ch, struct curlq_req *r,
	    int64_t now_ms);
	/* r's transfer ended with res: report all of r's messages. */
	void (*finish)(struct channel *ch, struct curlq_req *r,
	    CURLcode res);
	/* Free the driver's request, whose first member r is (not
	 * r->easy: curlq cleans it up). */
	void (*free)(void *r);
	const char *protocols;		/* CURLOPT_PROTOCOLS_STR */
	enum chan_result expired;	/* a request past its deadline */
	unsigned flags;			/* CURLQ_* */
	long max_wait_ms;		/* the longest wait poll returns while
					 * requests are in flight */
};

struct curlq {
	const struct curlq_ops *ops;
	CURLM *multi;			/* NULL: not initialised */
	struct curlq_req *head, *tail;	/* queued, oldest first */
	size_t nqueued;			/* messages in them */
	struct curlq_req **inflight;	/* concurrency slots */
	size_t ninflight;
	CURL **spare;			/* easy handles, reset, for reuse */
	size_t nspare;			/* at most concurrency */
	size_t concurrency;
	long timeout_ms;		/* per transfer */
	int epfd;			/* the sockets libcurl watches; -1 */
	int64_t timer_at;		/* eng_mono_ms() at which libcurl's
					 * timer runs out; -1: none */
	int running;			/* transfers libcurl still runs */
	int up;				/* last contact worked */
	char detail[128];		/* last error, or "" */
};

/*
 * Makes cq an empty queue (up, no detail) of at most concurrency (>= 1)
 * transfers of timeout_ms each, with a multi handle limited to as many
 * connections and an epoll set for its sockets.  Returns 0 or ENG_ENOMEM
 * (cq is then safe to curlq_release).  ops is borrowed for cq's life.
 */
int curlq_init(struct curlq *cq, const struct curlq_ops *ops,
    size_t concurrency, long timeout_ms);

/* Appends r (taking it) and counts r->n more messages queued.  A driver
 * that later adds messages to its queued tail counts them in
 * cq->nqueued itself. */
void curlq_push(struct curlq *cq, struct curlq_req *r);

/* Puts the chain first..last (linked through next, none started) before
 * the head, in that order, taking it and counting its messages. */
void curlq_push_front(struct curlq *cq, struct curlq_req *first,
    struct curlq_req *last);

/*
 * A driver's send for messages queued one by one: ENG_EINVAL when cq is
 * not initialised (or shut down) or n > max_batch, ENG_ETEMP when n more
 * would pass max_queued; else add (the driver's: queue m, 0 or
 * ENG_ENOMEM) for each of m[0..n), and 0, or, when one fails, ENG_ETEMP
 * with everything this call pushed taken back.
 */
int curlq_send(struct curlq *cq, const struct chan_msg *m, size_t n,
    size_t max_batch, size_t max_queued,
    int (*add)(void *arg, const struct chan_msg *m), void *arg);

/* Where the queue stood before a send, to take back what it pushed. */
struct curlq_mark {
	struct curlq_req *tail;
	size_t nqueued;
};

void curlq_mark(const struct curlq *cq, struct curlq_mark *m);

/* Frees every request pushed since m (none of them started) and puts
 * tail and nqueued back as they were at m; messages the driver added to
 * m's tail itself are the driver's to take back. */
void curlq_rollback(struct curlq *cq, const struct curlq_mark *m);

/*
 * Starts queued requests while slots are free (failing the refused ones,
 * the expired ones as ops->expired), drives the transfers, hands each
 * completed one to ops->finish and frees it.  Returns the milliseconds
 * the engine may sleep: 0 to come back at once, 1000 when idle, else
 * what libcurl's timers want, 1 to ops->max_wait_ms.
 */
int64_t curlq_poll(struct curlq *cq, struct channel *ch, int64_t now_ms);

/*
 * Reports what is in flight (CHAN_R_RETRY "shut down") and what is
 * queued (CHAN_R_FAILED with its fail text when refused, else
 * CHAN_R_RETRY "shut down"), frees it all and the multi handle.
 * Idempotent; cq may be zeroed and never initialised.
 */
void curlq_release(struct curlq *cq, struct channel *ch);

/* A driver whose priv begins with its struct curlq may use these two
 * as its channel_ops poll and health. */
int64_t curlq_chan_poll(struct channel *ch, int64_t now_ms);
void curlq_chan_health(const struct channel *ch, struct chan_health *h);

/* One chan_report: delivery id, res, err, the gateway's id gw (or NULL)
 * and its retry_after_ms wish (0: none); no segments. */
void curlq_report(struct channel *ch, int64_t id, enum chan_result res,
    const char *err, const char *gw, int64_t retry_after_ms);

/* s copied into out (size >= 1 bytes; out may be s), cut at a UTF-8
 * character boundary, control bytes and DEL made spaces.  Thread-safe. */
void curlq_clean_copy(char *out, size_t size, const char *s);

/* Keeps s, cut to fit (cleaned with CURLQ_CLEAN_DETAIL), as the last
 * error for health. */
void curlq_set_detail(struct curlq *cq, const char *s);

/* Fills h (up, queued, in flight, detail). */
void curlq_health(const struct curlq *cq, struct chan_health *h);

/* r's response trimmed to one printable line (in place); returns it. */
const char *curlq_answer_text(struct curlq_req *r);

#endif /* CHANNELS_CURLQ_INT_H */
