/*
 * engine/feed_poll.c - poll an Atom/RSS index of CAP messages with
 * libcurl (easy interface, in the feed thread) and fetch each new
 * entry's CAP once.
 *
 * Index: conditional GET (If-None-Match, If-Modified-Since), at most
 * FEED_INDEX_MAX_BYTES; a failure backs the feed off exponentially, up
 * to ten times the interval.  Entries not fetched yet are queued
 * (pending, at most FEED_POLL_MAX_NEW new ones per poll) and fetched for
 * at most FEED_BUDGET_MS per loop turn, so that drop folders and other
 * feeds are not held up.  An entry is "done" -- remembered in the state
 * file, never fetched again -- once its CAP was stored, found a
 * duplicate, or rejected (invalid, too large, not allowed); also after
 * FEED_ENTRY_MAX_TRIES 4xx answers.  Time-outs, refused connections,
 * 5xx and failures of our own store are retried with back-off for as
 * long as the entry is in the index.
 *
 * The validators are saved only while nothing is pending, so that after
 * a restart the index is read again and pending entries are found.
 */
#include "engine/feeds_int.h"
#include "engine/clock.h"
#include "engine/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#define MAX_LOGGED_DIAGS 20

struct xfer {
	char *buf;
	size_t len;
	size_t cap;
	size_t max;
	int too_big;
	const atomic_int *stop;
	char etag[FEED_VALIDATOR_MAX + 1];
	char last_modified[FEED_VALIDATOR_MAX + 1];
};

static size_t
on_data(char *p, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t n = size * nmemb, nc;
	char *nb;

	if (n > x->max - x->len) {
		x->too_big = 1;
		return 0;		/* aborts the transfer */
	}
	if (x->len + n + 1 > x->cap) {
		nc = x->cap ? x->cap : 16384;
		while (nc < x->len + n + 1)
			nc *= 2;
		if (nc > x->max + 1)
			nc = x->max + 1;
		if ((nb = realloc(x->buf, nc)) == NULL)
			return 0;
		x->buf = nb;
		x->cap = nc;
	}
	memcpy(x->buf + x->len, p, n);
	x->len += n;
	x->buf[x->len] = '\0';
	return n;
}

/* Keep "Name: value" into dst if the header is name. */
static void
header_value(const char *h, size_t n, const char *name, char *dst)
{
	size_t k = strlen(name), e;

	if (n <= k || strncasecmp(h, name, k) != 0 || h[k] != ':')
		return;
	h += k + 1;
	n -= k + 1;
	while (n > 0 && (*h == ' ' || *h == '\t')) {
		h++;
		n--;
	}
	e = n;
	while (e > 0 && (h[e - 1] == '\r' || h[e - 1] == '\n' ||
	    h[e - 1] == ' ' || h[e - 1] == '\t'))
		e--;
	if (e == 0 || e > FEED_VALIDATOR_MAX)
		return;
	memcpy(dst, h, e);
	dst[e] = '\0';
}

static size_t
on_header(char *p, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t n = size * nmemb;

	if (n >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		/* A new response (after a redirect): forget the last. */
		x->etag[0] = '\0';
		x->last_modified[0] = '\0';
		return n;
	}
	header_value(p, n, "ETag", x->etag);
	header_value(p, n, "Last-Modified", x->last_modified);
	return n;
}

static int
on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut,
    curl_off_t un)
{
	struct xfer *x = arg;

	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	return atomic_load(x->stop) ? 1 : 0;
}

/*
 * GET url into x.  Returns 0 and the HTTP status in *status (any), or
 * ENG_ETOOBIG (over x->max), ENG_ETIMEDOUT, ENG_ETEMP (connection and
 * other transfer failures), ENG_ENOMEM, with detail in eb.  base (at
 * least FEED_URL_MAX + 1 bytes, or NULL) gets the final URL.
 */
static int
fetch(CURL *c, const char *url, int64_t timeout_ms, const char *accept,
    const struct feed_state *cond, struct xfer *x, long *status,
    char *base, struct eng_errbuf *eb)
{
	char errbuf[CURL_ERROR_SIZE], h[FEED_VALIDATOR_MAX + 64];
	struct curl_slist *hdrs = NULL, *t;
	char *eff = NULL;
	CURLcode cc;
	int rv = 0;

	*status = 0;
	errbuf[0] = '\0';
	curl_easy_reset(c);
	(void)snprintf(h, sizeof(h), "Accept: %s", accept);
	if ((hdrs = curl_slist_append(NULL, h)) == NULL)
		return eng_error(eb, ENG_ENOMEM, "out of memory");
	if (cond != NULL && cond->etag != NULL) {
		(void)snprintf(h, sizeof(h), "If-None-Match: %s", cond->etag);
		if ((t = curl_slist_append(hdrs, h)) == NULL)
			goto nomem;
		hdrs = t;
	}
	if (cond != NULL && cond->last_modified != NULL) {
		(void)snprintf(h, sizeof(h), "If-Modified-Since: %s",
		    cond->last_modified);
		if ((t = curl_slist_append(hdrs, h)) == NULL)
			goto nomem;
		hdrs = t;
	}
	(void)curl_easy_setopt(c, CURLOPT_URL, url);
	(void)curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	(void)curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	(void)curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	(void)curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)(timeout_ms < 10000 ? timeout_ms : 10000));
	(void)curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	(void)curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	(void)curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	(void)curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	(void)curl_easy_setopt(c, CURLOPT_USERAGENT, "gong/" GONG_VERSION);
	(void)curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	(void)curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)x->max);
	(void)curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	(void)curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
	(void)curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	(void)curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
	(void)curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	(void)curl_easy_setopt(c, CURLOPT_XFERINFODATA, x);
	(void)curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	(void)curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	cc = curl_easy_perform(c);
	if (cc == CURLE_OK) {
		(void)curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
		if (base != NULL && curl_easy_getinfo(c,
		    CURLINFO_EFFECTIVE_URL, &eff) == CURLE_OK && eff != NULL &&
		    strlen(eff) <= FEED_URL_MAX)
			(void)snprintf(base, FEED_URL_MAX + 1, "%s", eff);
	} else if (x->too_big || cc == CURLE_FILESIZE_EXCEEDED)
		rv = eng_error(eb, ENG_ETOOBIG, "larger than %zu bytes",
		    x->max);
	else if (cc == CURLE_OPERATION_TIMEDOUT)
		rv = eng_error(eb, ENG_ETIMEDOUT, "timed out after %lld ms",
		    (long long)timeout_ms);
	else if (cc == CURLE_OUT_OF_MEMORY)
		rv = eng_error(eb, ENG_ENOMEM, "out of memory");
	else
		rv = eng_error(eb, ENG_ETEMP, "%s", errbuf[0] ? errbuf :
		    curl_easy_strerror(cc));
	curl_slist_free_all(hdrs);
	(void)curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
	(void)curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	return rv;
nomem:
	curl_slist_free_all(hdrs);
	return eng_error(eb, ENG_ENOMEM, "out of memory");
}

static void
xfer_init(struct xfer *x, size_t max, const atomic_int *stop)
{
	memset(x, 0, sizeof(*x));
	x->max = max;
	x->stop = stop;
}

static void
xfer_release(struct xfer *x)
{
	free(x->buf);
	x->buf = NULL;
}

static CURL *
handle_of(struct feed *f)
{
	if (f->curl == NULL)
		f->curl = curl_easy_init();
	return f->curl;
}

/* ---- pending entries ---- */

static void
pend_free(struct feed_pending *p)
{
	free(p->id);
	free(p->url);
}

static struct feed_pending *
pend_find(struct feed *f, const char *id)
{
	size_t i;

	for (i = 0; i < f->npend; i++)
		if (strcmp(f->pend[i].id, id) == 0)
			return &f->pend[i];
	return NULL;
}

static int
pend_add(struct feed *f, const struct feed_entry *e, int64_t now)
{
	struct feed_pending *v, *p;
	size_t na;

	if (f->npend == f->apend) {
		na = f->apend ? f->apend * 2 : 32;
		if ((v = realloc(f->pend, na * sizeof(*v))) == NULL)
			return ENG_ENOMEM;
		f->pend = v;
		f->apend = na;
	}
	p = &f->pend[f->npend];
	memset(p, 0, sizeof(*p));
	if ((p->id = strdup(e->id)) == NULL ||
	    (p->url = strdup(e->url)) == NULL) {
		pend_free(p);
		return ENG_ENOMEM;
	}
	p->next_ms = now;
	p->seen = 1;
	f->npend++;
	return 0;
}

/* Remove the entries marked in gone, keeping the order of the rest. */
static void
pend_compact(struct feed *f, const unsigned char *gone)
{
	size_t i, j = 0;

	for (i = 0; i < f->npend; i++) {
		if (gone[i]) {
			pend_free(&f->pend[i]);
			continue;
		}
		f->pend[j++] = f->pend[i];
	}
	f->npend = j;
}

/* ---- the index ---- */

static void
log_warns(const struct feed *f, const char *event, const char *id,
    const struct diag_list *l)
{
	char buf[1400], q[1500], qi[FEED_ID_MAX + 64];
	size_t i, shown = l->n < MAX_LOGGED_DIAGS ? l->n : MAX_LOGGED_DIAGS;

	for (i = 0; i < shown; i++) {
		(void)diag_format(&l->v[i], buf, sizeof(buf));
		log_write(l->v[i].sev == DIAG_ERROR ? LOG_LVL_WARN :
		    LOG_LVL_INFO, event, "feed=%s id=%s msg=%s", f->name,
		    log_q(id, qi, sizeof(qi)), log_q(buf, q, sizeof(q)));
	}
	if (l->n - shown + l->dropped > 0)
		log_write(LOG_LVL_WARN, event, "feed=%s msg=\"%zu more not "
		    "shown\"", f->name, l->n - shown + l->dropped);
}

static void
index_failed(struct feed *f, int64_t now, const char *what)
{
	char q[700];
	int64_t d;

	f->poll_failures++;
	d = feed_backoff_ms(f->interval_ms, f->poll_failures,
	    10 * f->interval_ms);
	f->next_poll_ms = now + d;
	log_warn("feed.poll.failed", "feed=%s url=%s failures=%u "
	    "retry_in_ms=%lld msg=%s", f->name, f->poll_url, f->poll_failures,
	    (long long)d, log_q(what, q, sizeof(q)));
}

static void
poll_index(struct feed *f, int64_t now, const atomic_int *stop)
{
	char base[FEED_URL_MAX + 1], msg[700];
	struct feed_index idx;
	struct diag_list warns;
	struct eng_errbuf eb;
	struct feed_pending *p;
	struct xfer x;
	size_t i, nnew = 0, nknown = 0, nwithdrawn = 0, nlater = 0;
	unsigned char *gone = NULL;
	long status;
	CURL *c;
	int rv;

	eng_errbuf_init(&eb);
	feed_index_init(&idx);
	diag_list_init(&warns);
	xfer_init(&x, FEED_INDEX_MAX_BYTES, stop);
	(void)snprintf(base, sizeof(base), "%s", f->poll_url);
	if ((c = handle_of(f)) == NULL) {
		index_failed(f, now, "cannot make a curl handle");
		goto out;
	}
	rv = fetch(c, f->poll_url, f->timeout_ms, "application/atom+xml, "
	    "application/rss+xml, application/xml;q=0.9, */*;q=0.1", &f->st,
	    &x, &status, base, &eb);
	if (atomic_load(stop))
		goto out;
	if (rv != 0) {
		index_failed(f, now, eb.msg);
		goto out;
	}
	if (status == 304) {
		f->poll_failures = 0;
		f->next_poll_ms = now + f->interval_ms;
		log_debug("feed.poll.not_modified", "feed=%s", f->name);
		goto out;
	}
	if (status != 200) {
		(void)snprintf(msg, sizeof(msg), "HTTP status %ld", status);
		index_failed(f, now, msg);
		goto out;
	}
	rv = feed_index_parse(x.buf != NULL ? x.buf : "", x.len, base, &idx,
	    &warns, &eb);
	if (rv != 0) {
		(void)snprintf(msg, sizeof(msg), "bad index: %s", eb.msg);
		index_failed(f, now, msg);
		goto out;
	}
	f->poll_failures = 0;
	f->next_poll_ms = now + f->interval_ms;
	if (feed_state_set_validators(&f->st, x.etag[0] ? x.etag : NULL,
	    x.last_modified[0] ? x.last_modified : NULL) != 0)
		(void)feed_state_set_validators(&f->st, NULL, NULL);
	f->state_dirty = 1;
	log_warns(f, "feed.poll.index_warning", f->poll_url, &warns);
	for (i = 0; i < f->npend; i++)
		f->pend[i].seen = 0;
	for (i = 0; i < idx.n; i++) {
		if (feed_state_has(&f->st, idx.v[i].id)) {
			nknown++;
			continue;
		}
		if ((p = pend_find(f, idx.v[i].id)) != NULL) {
			p->seen = 1;
			continue;
		}
		if (nnew >= FEED_POLL_MAX_NEW) {
			nlater++;	/* next poll */
			continue;
		}
		if (pend_add(f, &idx.v[i], now) != 0) {
			log_error("feed.poll.nomem", "feed=%s", f->name);
			break;
		}
		nnew++;
	}
	/* Entries left for later: the next poll must not get a 304. */
	if (nlater > 0)
		(void)feed_state_set_validators(&f->st, NULL, NULL);
	/* Entries no longer in the index were withdrawn by the publisher. */
	if (f->npend > 0 && (gone = calloc(f->npend, 1)) != NULL) {
		for (i = 0; i < f->npend; i++)
			if (!f->pend[i].seen) {
				gone[i] = 1;
				nwithdrawn++;
				log_info("feed.poll.withdrawn", "feed=%s "
				    "id=%s", f->name, log_q(f->pend[i].id,
				    msg, sizeof(msg)));
			}
		pend_compact(f, gone);
	}
	log_info("feed.poll.index", "feed=%s entries=%zu known=%zu new=%zu "
	    "later=%zu pending=%zu skipped=%zu withdrawn=%zu", f->name, idx.n,
	    nknown, nnew, nlater, f->npend, idx.skipped, nwithdrawn);
out:
	free(gone);
	xfer_release(&x);
	feed_index_release(&idx);
	diag_list_release(&warns);
}

/* ---- entries ---- */

static void
entry_retry(struct feed *f, struct feed_pending *p, int64_t now,
    const char *what, long status)
{
	char qi[FEED_ID_MAX + 64], qm[700];
	int64_t d;

	p->tries++;
	d = feed_backoff_ms(f->interval_ms / 2, p->tries, 10 * f->interval_ms);
	p->next_ms = now + d;
	log_warn("feed.poll.entry_failed", "feed=%s id=%s url=%s status=%ld "
	    "tries=%u retry_in_ms=%lld msg=%s", f->name,
	    log_q(p->id, qi, sizeof(qi)), p->url, status, p->tries,
	    (long long)d, log_q(what, qm, sizeof(qm)));
}

/* Returns 1 when the entry is done (to be remembered), 0 to retry. */
static int
fetch_entry(struct feed *f, struct ingest *ig, struct feed_pending *p,
    int64_t now, const atomic_int *stop)
{
	struct ingest_source src = f->src;
	char actor[128];
	struct ingest_result res;
	struct diag_list diags;
	struct eng_errbuf eb;
	char qi[FEED_ID_MAX + 64], qm[700], msg[700];
	struct xfer x;
	long status = 0;
	CURL *c;
	int rv, done = 0;

	eng_errbuf_init(&eb);
	diag_list_init(&diags);
	memset(&res, 0, sizeof(res));
	xfer_init(&x, f->max_bytes, stop);
	(void)log_q(p->id, qi, sizeof(qi));
	if ((c = handle_of(f)) == NULL) {
		entry_retry(f, p, now, "cannot make a curl handle", 0);
		goto out;
	}
	rv = fetch(c, p->url, f->timeout_ms, "application/cap+xml, "
	    "application/xml;q=0.9, */*;q=0.1", NULL, &x, &status, NULL, &eb);
	if (atomic_load(stop))
		goto out;
	if (rv == ENG_ETOOBIG) {
		log_warn("feed.poll.entry_rejected", "feed=%s id=%s url=%s "
		    "msg=%s", f->name, qi, p->url, log_q("too large: the CAP "
		    "document is over the feed's max_bytes", qm, sizeof(qm)));
		done = 1;
		goto out;
	}
	if (rv != 0) {
		entry_retry(f, p, now, eb.msg, 0);
		goto out;
	}
	if (status < 200 || status > 299) {
		(void)snprintf(msg, sizeof(msg), "HTTP status %ld", status);
		entry_retry(f, p, now, msg, status);
		if (status >= 400 && status <= 499 &&
		    p->tries >= FEED_ENTRY_MAX_TRIES) {
			log_error("feed.poll.entry_gave_up", "feed=%s id=%s "
			    "url=%s status=%ld tries=%u", f->name, qi,
			    p->url, status, p->tries);
			done = 1;
		}
		goto out;
	}
	src.via = "poll";
	(void)snprintf(actor, sizeof(actor), "feed:%s", f->name);
	src.audit_actor = actor;
	rv = ingest_cap(ig, &src, x.buf != NULL ? x.buf : "", x.len, &res,
	    &diags, &eb);
	if (rv == 0) {
		log_info("feed.poll.stored", "feed=%s id=%s alert_id=%lld "
		    "duplicate=%d state=%s regions=%zu warnings=%zu", f->name,
		    qi, res.alert_id, res.duplicate, res.duplicate ? "-" :
		    ingest_state_name(res.state), res.nregions,
		    diags.nwarnings);
		done = 1;
	} else if (rv == ENG_EINVAL || rv == ENG_ETOOBIG || rv == ENG_EPERM) {
		log_warn("feed.poll.entry_rejected", "feed=%s id=%s url=%s "
		    "err=%s errors=%zu msg=%s", f->name, qi, p->url,
		    eng_errname(rv), diags.nerrors, log_q(eb.msg[0] ? eb.msg :
		    eng_strerror(rv), qm, sizeof(qm)));
		log_warns(f, "feed.poll.entry_error", p->id, &diags);
		done = 1;
	} else {
		/* Ours: keep trying, never count it against the entry. */
		entry_retry(f, p, now, eb.msg[0] ? eb.msg : eng_strerror(rv),
		    status);
		p->tries--;
	}
out:
	xfer_release(&x);
	diag_list_release(&diags);
	return done;
}

static void
fetch_pending(struct feed *f, struct ingest *ig, int64_t now,
    const atomic_int *stop)
{
	int64_t t0 = eng_mono_ms();
	unsigned char *gone;
	size_t i, ndone = 0;

	if (f->npend == 0)
		return;
	if ((gone = calloc(f->npend, 1)) == NULL)
		return;
	for (i = 0; i < f->npend && !atomic_load(stop); i++) {
		if (eng_mono_ms() - t0 >= FEED_BUDGET_MS)
			break;
		if (f->pend[i].next_ms > now)
			continue;
		if (!fetch_entry(f, ig, &f->pend[i], eng_mono_ms(), stop))
			continue;
		if (feed_state_add(&f->st, f->pend[i].id) == ENG_ENOMEM) {
			log_error("feed.poll.nomem", "feed=%s", f->name);
			continue;	/* still pending: tried again */
		}
		gone[i] = 1;
		ndone++;
	}
	if (ndone > 0) {
		pend_compact(f, gone);
		f->state_dirty = 1;
	}
	free(gone);
}

void
feed_poll_step(struct feed *f, struct ingest *ig, int64_t now_ms,
    const atomic_int *stop)
{
	if (now_ms >= f->next_poll_ms)
		poll_index(f, now_ms, stop);
	if (!atomic_load(stop))
		fetch_pending(f, ig, now_ms, stop);
	feed_poll_save(f);
}

int64_t
feed_poll_next_ms(const struct feed *f)
{
	int64_t t = f->next_poll_ms;
	size_t i;

	for (i = 0; i < f->npend; i++)
		if (f->pend[i].next_ms < t)
			t = f->pend[i].next_ms;
	return t;
}

void
feed_poll_save(struct feed *f)
{
	struct eng_errbuf eb;

	if (!f->state_dirty || f->state_path == NULL)
		return;
	eng_errbuf_init(&eb);
	if (feed_state_save(f->state_path, &f->st, f->npend == 0, &eb) != 0) {
		log_error("feed.state.write", "feed=%s msg=\"%s\"", f->name,
		    eb.msg);
		return;
	}
	f->state_dirty = 0;
}

void
feed_poll_release(struct feed *f)
{
	size_t i;

	for (i = 0; i < f->npend; i++)
		pend_free(&f->pend[i]);
	free(f->pend);
	f->pend = NULL;
	f->npend = f->apend = 0;
	if (f->curl != NULL)
		curl_easy_cleanup(f->curl);
	f->curl = NULL;
	feed_state_release(&f->st);
}
