/*
 * engine/api_report.c - reports of answers (叫应, engine/report.h) over
 * HTTP, admin token:
 *   GET /api/v1/alerts/{id}/report       the report as JSON (report_json)
 *       ?format=csv                       its per-region rows as CSV
 *   GET /api/v1/alerts/{id}/unanswered   who has not answered, JSON
 *       ?limit=N&offset=M                 (JSON only; default all)
 *       ?format=csv                       every one of them as CSV
 * 400 bad_id / bad_format / bad_limit, 404 for an unknown alert.  CSV
 * comes as an attachment (Content-Disposition) named
 * gong-alert-{id}-report.csv / gong-alert-{id}-unanswered.csv.
 * And the /metrics lines of the answers (api_report_metrics).
 */
#include "engine/api_int.h"
#include "engine/clock.h"
#include "engine/report.h"
#include "engine/strbuf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GAUGE_ALERTS	100	/* active alerts in the metrics, at most */

enum fmt { FMT_JSON, FMT_CSV };

static int
alert_id(struct api_req *r, long long *id)
{
	char *end;

	errno = 0;
	*id = strtoll(r->code, &end, 10);
	return errno == 0 && *end == '\0' && r->code[0] != '\0' && *id > 0 ?
	    0 : -1;
}

static int
format_of(struct MHD_Connection *c, enum fmt *f)
{
	const char *v = api_arg(c, "format");

	if (v == NULL || strcmp(v, "json") == 0)
		*f = FMT_JSON;
	else if (strcmp(v, "csv") == 0)
		*f = FMT_CSV;
	else
		return -1;
	return 0;
}

/* Queue text (taken) as a download; headers as every other reply. */
static enum MHD_Result
reply_csv(struct MHD_Connection *c, struct api_req *r, char *text,
    size_t len, long long id, const char *what)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char cd[128];

	(void)snprintf(cd, sizeof(cd), "attachment; filename=\"gong-alert-"
	    "%lld-%s.csv\"", id, what);
	resp = MHD_create_response_from_buffer(len, text,
	    MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(text);
		return MHD_NO;
	}
	(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/csv; charset=utf-8");
	(void)MHD_add_response_header(resp, "Content-Disposition", cd);
	(void)MHD_add_response_header(resp, "Cache-Control", "no-store");
	(void)MHD_add_response_header(resp, "X-Content-Type-Options",
	    "nosniff");
	ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	if (ret == MHD_YES)
		r->status = MHD_HTTP_OK;
	return ret;
}

static enum MHD_Result
store_failure(struct MHD_Connection *c, struct api_req *r, int rv,
    const struct eng_errbuf *eb)
{
	if (rv == ENG_ENOENT)
		return api_reply_error(c, r, MHD_HTTP_NOT_FOUND, "not_found",
		    eb->msg, NULL);
	if (rv == ENG_ENOMEM)
		return MHD_NO;
	return api_reply_error(c, r, MHD_HTTP_INTERNAL_SERVER_ERROR,
	    "store_error", eb->msg, NULL);
}

static enum MHD_Result
bad_request(struct MHD_Connection *c, struct api_req *r, int which)
{
	if (which == 0)
		return api_reply_error(c, r, MHD_HTTP_BAD_REQUEST, "bad_id",
		    "an alert id is a positive integer", NULL);
	return api_reply_error(c, r, MHD_HTTP_BAD_REQUEST, "bad_format",
	    "format is json or csv", NULL);
}

enum MHD_Result
api_h_report(struct MHD_Connection *c, struct api_req *r)
{
	struct api *a = r->api;
	struct strbuf b = STRBUF_INIT;
	struct report *rep = NULL;
	struct eng_errbuf eb;
	struct store *s;
	long long id;
	enum fmt f;
	int rv;

	eng_errbuf_init(&eb);
	if (alert_id(r, &id) != 0)
		return bad_request(c, r, 0);
	if (format_of(c, &f) != 0)
		return bad_request(c, r, 1);
	s = api_store_get(a);
	rv = report_build(s, id, eng_clock_now_ms(&eng_clock_system), &rep,
	    &eb);
	api_store_put(a, s);
	if (rv != 0)
		return store_failure(c, r, rv, &eb);
	if (f == FMT_CSV)
		report_csv(rep, &b);
	else
		report_json(rep, &b);
	report_free(rep);
	if (b.oom || b.p == NULL) {
		strbuf_release(&b);
		return MHD_NO;
	}
	if (f == FMT_CSV)
		return reply_csv(c, r, b.p, b.len, id, "report");
	return api_reply_text(c, r, MHD_HTTP_OK,
	    "application/json; charset=utf-8", b.p, b.len);
}

enum MHD_Result
api_h_unanswered(struct MHD_Connection *c, struct api_req *r)
{
	struct api *a = r->api;
	struct strbuf b = STRBUF_INIT;
	struct eng_errbuf eb;
	struct store *s;
	long long id, limit, offset;
	enum fmt f;
	int rv;

	eng_errbuf_init(&eb);
	if (alert_id(r, &id) != 0)
		return bad_request(c, r, 0);
	if (format_of(c, &f) != 0)
		return bad_request(c, r, 1);
	if (api_arg_ll(c, "limit", 0, 10000000, -1, &limit) != 0 ||
	    api_arg_ll(c, "offset", 0, 10000000, 0, &offset) != 0)
		return api_reply_error(c, r, MHD_HTTP_BAD_REQUEST, "bad_limit",
		    "limit and offset are integers from 0 to 10000000", NULL);
	s = api_store_get(a);
	if (f == FMT_CSV)
		rv = report_unanswered_csv(s, id, &b, &eb);
	else
		rv = report_unanswered_json(s, id, limit, offset, &b, &eb);
	api_store_put(a, s);
	if (rv != 0) {
		strbuf_release(&b);
		return store_failure(c, r, rv, &eb);
	}
	if (b.oom || b.p == NULL) {
		strbuf_release(&b);
		return MHD_NO;
	}
	if (f == FMT_CSV)
		return reply_csv(c, r, b.p, b.len, id, "unanswered");
	return api_reply_text(c, r, MHD_HTTP_OK,
	    "application/json; charset=utf-8", b.p, b.len);
}

/* ------------------------------------------------------------------ */
/* /metrics                                                            */
/* ------------------------------------------------------------------ */

struct gauges {
	struct strbuf tb, ab;	/* the targeted and answered lines */
};

static int
gauge_cb(void *arg, long long id, long long targeted, long long answered)
{
	struct gauges *g = arg;

	strbuf_addf(&g->tb, "gong_answer_targeted{alert=\"%lld\"} %lld\n", id,
	    targeted);
	strbuf_addf(&g->ab, "gong_answer_answered{alert=\"%lld\"} %lld\n", id,
	    answered);
	return 0;
}

static int
path_cb(void *arg, const char *path, long long n)
{
	strbuf_addf(arg, "gong_answers_total{path=\"%s\"} %lld\n", path, n);
	return 0;
}

void
api_report_metrics(struct api *a, struct strbuf *b)
{
	struct gauges g = { STRBUF_INIT, STRBUF_INIT };
	struct strbuf pb = STRBUF_INIT;
	struct eng_errbuf eb;
	struct store *s;
	int rv;

	eng_errbuf_init(&eb);
	s = api_store_get(a);
	rv = store_answer_gauges(s, eng_clock_now_ms(&eng_clock_system),
	    GAUGE_ALERTS, gauge_cb, &g, &eb);
	if (rv == 0)
		rv = store_answer_path_counts(s, path_cb, &pb, &eb);
	api_store_put(a, s);
	if (rv == 0) {
		strbuf_addstr(b, "# HELP gong_answer_targeted People who must "
		    "answer an active alert (newest 100 alerts).\n"
		    "# TYPE gong_answer_targeted gauge\n");
		if (g.tb.p != NULL)
			strbuf_add(b, g.tb.p, g.tb.len);
		strbuf_addstr(b, "# HELP gong_answer_answered Of them, those "
		    "who answered.\n# TYPE gong_answer_answered gauge\n");
		if (g.ab.p != NULL)
			strbuf_add(b, g.ab.p, g.ab.len);
		strbuf_addstr(b, "# HELP gong_answers_total Answers recorded, "
		    "by path.\n# TYPE gong_answers_total counter\n");
		if (pb.p != NULL)
			strbuf_add(b, pb.p, pb.len);
	}
	strbuf_release(&g.tb);
	strbuf_release(&g.ab);
	strbuf_release(&pb);
}
