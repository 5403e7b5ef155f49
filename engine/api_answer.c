/*
 * engine/api_answer.c - answers (叫应) over HTTP:
 *   GET /api/v1/alerts/{id}/answers  (admin token)
 *     {"alert_id", "answers":[{"responder_id","name","path","received",
 *      "late","note"}], "answered":N, "targeted":M}
 * answered counts people (not rows), targeted the people the alert was
 * addressed to.
 */
#include "engine/api_int.h"
#include "engine/clock.h"

#include <errno.h>
#include <stdlib.h>

static json_t *
jstr_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

static int
answer_cb(void *arg, const struct store_answer *x)
{
	char buf[40];
	json_t *o;

	o = json_pack("{s:s,s:o,s:s,s:s,s:b,s:o}", "responder_id",
	    x->responder_id, "name", jstr_or_null(x->name), "path", x->path,
	    "received", eng_time_fmt_utc(x->received_ms, buf, sizeof(buf)),
	    "late", x->late, "note", jstr_or_null(x->note));
	if (o == NULL || json_array_append_new(arg, o) != 0)
		return ENG_ENOMEM;
	return 0;
}

static int
exists_cb(void *arg, const struct store_alert *x)
{
	(void)arg;
	(void)x;
	return 0;
}

enum MHD_Result
api_h_answers(struct MHD_Connection *c, struct api_req *r)
{
	struct api *a = r->api;
	struct eng_errbuf eb;
	long long id, answered = 0, targeted = 0;
	struct store *s;
	json_t *arr;
	char *end;
	int rv;

	eng_errbuf_init(&eb);
	errno = 0;
	id = strtoll(r->code, &end, 10);
	if (errno != 0 || *end != '\0' || id <= 0)
		return api_reply_error(c, r, MHD_HTTP_BAD_REQUEST, "bad_id",
		    "an alert id is a positive integer", NULL);
	if ((arr = json_array()) == NULL)
		return MHD_NO;
	s = api_store_get(a);
	rv = store_alert_get(s, id, exists_cb, NULL, &eb);
	if (rv == 0)
		rv = store_answers_list(s, id, answer_cb, arr, &eb);
	if (rv == 0)
		rv = store_answer_counts(s, id, &answered, &targeted, &eb);
	api_store_put(a, s);
	if (rv != 0) {
		json_decref(arr);
		if (rv == ENG_ENOENT)
			return api_reply_error(c, r, MHD_HTTP_NOT_FOUND,
			    "not_found", eb.msg, NULL);
		return api_reply_error(c, r, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "store_error", eb.msg, NULL);
	}
	return api_reply_json(c, r, MHD_HTTP_OK, json_pack("{s:I,s:o,s:I,s:I}",
	    "alert_id", (json_int_t)id, "answers", arr, "answered",
	    (json_int_t)answered, "targeted", (json_int_t)targeted));
}
