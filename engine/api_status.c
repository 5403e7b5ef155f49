/*
 * engine/api_status.c - /healthz, /metrics and /api/v1/backup.
 */
#include "engine/api_int.h"
#include "channels/channel.h"
#include "engine/dispatch.h"
#include "engine/escalate.h"
#include "engine/clock.h"
#include "engine/log.h"
#include "engine/strbuf.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum MHD_Result
api_h_healthz(struct MHD_Connection *c, struct api_req *r)
{
	struct api *a = r->api;
	struct store_counts n;
	struct eng_errbuf eb;
	struct store *s;
	int rv;
	json_t *j;

	eng_errbuf_init(&eb);
	s = api_store_get(a);
	rv = store_ping(s, &eb);
	if (rv == 0)
		rv = store_counts(s, &n, &eb);
	api_store_put(a, s);
	j = json_pack("{s:s,s:s,s:I,s:s}",
	    "status", rv == 0 ? "ok" : "error",
	    "version", a->version,
	    "uptime_s", (json_int_t)((eng_mono_ms() - a->started_mono_ms) /
	    1000),
	    "store", rv == 0 ? "ok" : eb.msg);
	if (j == NULL)
		return MHD_NO;
	if (rv == 0)
		(void)json_object_set_new(j, "counts", json_pack("{s:I,s:I,s:I}",
		    "regions", (json_int_t)n.regions,
		    "responders", (json_int_t)n.responders,
		    "devices", (json_int_t)n.devices));
	return api_reply_json(c, r, rv == 0 ? MHD_HTTP_OK :
	    MHD_HTTP_SERVICE_UNAVAILABLE, j);
}

/* A Prometheus label value: backslash, double quote and newline
 * escaped. */
static void
label_value(struct strbuf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			strbuf_add(b, "\\", 1);
		if (*s == '\n')
			strbuf_addstr(b, "\\n");
		else
			strbuf_add(b, s, 1);
	}
}

/* Per channel: counters, the hand-over-to-sent latency histogram, queue
 * depth, health and the circuit breaker; and the dispatcher's totals. */
static void
channel_metrics(struct api *a, struct strbuf *b)
{
	static const struct {
		const char *name, *help;
	} ctr[] = {
		{ "sent", "Messages the gateway accepted." },
		{ "delivered", "Receipts: reached the person or device." },
		{ "failed", "Permanent failures." },
		{ "retries", "Temporary failures (tried again)." },
	};
	struct dispatch_stats ds;
	struct chan_metrics m;
	const char *name, *type;
	const int64_t *lb = dispatch_latency_bounds();
	size_t i, k;
	int j;

	pthread_rwlock_rdlock(&a->disp_lock);
	if (a->dispatch == NULL) {
		pthread_rwlock_unlock(&a->disp_lock);
		return;
	}
	for (k = 0; k < sizeof(ctr) / sizeof(ctr[0]); k++) {
		strbuf_addf(b, "# HELP gong_channel_%s_total %s\n# TYPE "
		    "gong_channel_%s_total counter\n", ctr[k].name, ctr[k].help,
		    ctr[k].name);
		for (i = 0; dispatch_channel_metrics(a->dispatch, i, &name,
		    &type, &m) == 0; i++) {
			unsigned long long v = k == 0 ? m.sent : k == 1 ?
			    m.delivered : k == 2 ? m.failed : m.retried;

			strbuf_addf(b, "gong_channel_%s_total{channel=\"%s\","
			    "type=\"%s\"} %llu\n", ctr[k].name, name, type, v);
		}
	}
	strbuf_addf(b, "# HELP gong_channel_send_latency_seconds From hand-over "
	    "to the channel to the gateway's acceptance.\n# TYPE "
	    "gong_channel_send_latency_seconds histogram\n");
	for (i = 0; dispatch_channel_metrics(a->dispatch, i, &name, &type,
	    &m) == 0; i++) {
		unsigned long long cum = 0;

		for (j = 0; j <= CHAN_LAT_BUCKETS; j++) {
			cum += m.latency[j];
			if (j < CHAN_LAT_BUCKETS)
				strbuf_addf(b, "gong_channel_send_latency_seconds_"
				    "bucket{channel=\"%s\",le=\"%g\"} %llu\n",
				    name, (double)lb[j] / 1000.0, cum);
			else
				strbuf_addf(b, "gong_channel_send_latency_seconds_"
				    "bucket{channel=\"%s\",le=\"+Inf\"} %llu\n",
				    name, cum);
		}
		strbuf_addf(b, "gong_channel_send_latency_seconds_sum{channel="
		    "\"%s\"} %g\ngong_channel_send_latency_seconds_count{"
		    "channel=\"%s\"} %llu\n", name,
		    (double)m.latency_sum_ms / 1000.0, name, m.latency_n);
	}
	strbuf_addf(b, "# HELP gong_channel_queue_depth Messages a channel holds "
	    "not yet reported.\n# TYPE gong_channel_queue_depth gauge\n");
	for (i = 0; dispatch_channel_metrics(a->dispatch, i, &name, &type,
	    &m) == 0; i++)
		strbuf_addf(b, "gong_channel_queue_depth{channel=\"%s\"} %zu\n",
		    name, m.health.queued);
	strbuf_addf(b, "# HELP gong_channel_in_flight Requests under way.\n"
	    "# TYPE gong_channel_in_flight gauge\n");
	for (i = 0; dispatch_channel_metrics(a->dispatch, i, &name, &type,
	    &m) == 0; i++)
		strbuf_addf(b, "gong_channel_in_flight{channel=\"%s\"} %zu\n",
		    name, m.health.in_flight);
	strbuf_addf(b, "# HELP gong_channel_up Whether the last contact with "
	    "the gateway worked.\n# TYPE gong_channel_up gauge\n");
	for (i = 0; dispatch_channel_metrics(a->dispatch, i, &name, &type,
	    &m) == 0; i++)
		strbuf_addf(b, "gong_channel_up{channel=\"%s\"} %d\n", name,
		    m.health.up);
	strbuf_addf(b, "# HELP gong_channel_breaker_open Whether the channel's "
	    "circuit breaker is open.\n# TYPE gong_channel_breaker_open "
	    "gauge\n");
	for (i = 0; dispatch_channel_metrics(a->dispatch, i, &name, &type,
	    &m) == 0; i++)
		strbuf_addf(b, "gong_channel_breaker_open{channel=\"%s\"} %d\n"
		    "gong_channel_breaker_trips_total{channel=\"%s\"} %llu\n",
		    name, m.breaker_open, name, m.breaker_trips);
	strbuf_addf(b, "# HELP gong_device_offline A device the channel knows "
	    "to be offline (a siren or loudspeaker controller's last will).\n"
	    "# TYPE gong_device_offline gauge\n");
	for (i = 0; dispatch_channel_metrics(a->dispatch, i, &name, &type,
	    &m) == 0; i++)
		for (k = 0; k < m.noffline; k++) {
			strbuf_addf(b, "gong_device_offline{channel=\"%s\","
			    "address=\"", name);
			label_value(b, m.offline[k]);
			strbuf_addstr(b, "\"} 1\n");
		}
	dispatch_get_stats(a->dispatch, &ds);
	pthread_rwlock_unlock(&a->disp_lock);
	strbuf_addf(b, "# HELP gong_dispatch_total Outbox events.\n"
	    "# TYPE gong_dispatch_total counter\n"
	    "gong_dispatch_total{event=\"planned_alerts\"} %llu\n"
	    "gong_dispatch_total{event=\"claimed\"} %llu\n"
	    "gong_dispatch_total{event=\"sent\"} %llu\n"
	    "gong_dispatch_total{event=\"delivered\"} %llu\n"
	    "gong_dispatch_total{event=\"retried\"} %llu\n"
	    "gong_dispatch_total{event=\"failed\"} %llu\n"
	    "gong_dispatch_total{event=\"dead\"} %llu\n"
	    "gong_dispatch_total{event=\"cancelled\"} %llu\n"
	    "gong_dispatch_total{event=\"replies\"} %llu\n",
	    ds.planned, ds.claimed, ds.sent, ds.delivered, ds.retried,
	    ds.failed, ds.dead, ds.cancelled, ds.replies);
}

/* 叫应 escalation: rows open, steps fired, the lag of the last and the
 * worst step behind its due time. */
static void
escalation_metrics(struct api *a, struct store *s, struct strbuf *b)
{
	struct escalate_stats es;
	struct eng_errbuf eb;
	long long open = 0, pending = 0;

	pthread_rwlock_rdlock(&a->disp_lock);
	escalate_get_stats(a->escalate, &es);
	pthread_rwlock_unlock(&a->disp_lock);
	eng_errbuf_init(&eb);
	if (store_esc_count_open(s, &open, &pending, &eb) == 0)
		strbuf_addf(b, "# HELP gong_escalation_open People who must "
		    "answer and have not (all alerts).\n"
		    "# TYPE gong_escalation_open gauge\n"
		    "gong_escalation_open %lld\n"
		    "# HELP gong_escalation_pending Of them, those with a step "
		    "still to come.\n# TYPE gong_escalation_pending gauge\n"
		    "gong_escalation_pending %lld\n", open, pending);
	strbuf_addf(b, "# HELP gong_escalation_total Escalation events since "
	    "start.\n# TYPE gong_escalation_total counter\n"
	    "gong_escalation_total{event=\"opened\"} %llu\n"
	    "gong_escalation_total{event=\"step\"} %llu\n"
	    "gong_escalation_total{event=\"message\"} %llu\n"
	    "gong_escalation_total{event=\"answered\"} %llu\n"
	    "gong_escalation_total{event=\"quorum\"} %llu\n"
	    "gong_escalation_total{event=\"stopped\"} %llu\n"
	    "gong_escalation_total{event=\"unreachable\"} %llu\n"
	    "# HELP gong_escalation_lag_seconds How late a step fired after "
	    "its due time: the last one, and the worst since start.\n"
	    "# TYPE gong_escalation_lag_seconds gauge\n"
	    "gong_escalation_lag_seconds{which=\"last\"} %.3f\n"
	    "gong_escalation_lag_seconds{which=\"max\"} %.3f\n",
	    es.built, es.fired, es.deliveries, es.answered, es.quorum,
	    es.stopped, es.unreachable, (double)es.last_lag_ms / 1000.0,
	    (double)es.max_lag_ms / 1000.0);
}

enum MHD_Result
api_h_metrics(struct MHD_Connection *c, struct api_req *r)
{
	struct api *a = r->api;
	struct store_counts n;
	struct strbuf b = STRBUF_INIT;
	struct eng_errbuf eb;
	struct store *s;
	int rv, rt, sl;

	eng_errbuf_init(&eb);
	s = api_store_get(a);
	rv = store_counts(s, &n, &eb);
	api_store_put(a, s);

	strbuf_addf(&b, "# HELP gong_build_info Build of gongd.\n"
	    "# TYPE gong_build_info gauge\n"
	    "gong_build_info{version=\"%s\"} 1\n", a->version);
	strbuf_addf(&b, "# HELP gong_uptime_seconds Seconds since gongd "
	    "started.\n# TYPE gong_uptime_seconds gauge\n"
	    "gong_uptime_seconds %lld\n",
	    (long long)((eng_mono_ms() - a->started_mono_ms) / 1000));
	strbuf_addf(&b, "# HELP gong_store_up Whether the store answers.\n"
	    "# TYPE gong_store_up gauge\ngong_store_up %d\n", rv == 0);
	if (rv == 0) {
		strbuf_addf(&b, "# HELP gong_regions Regions in the roster.\n"
		    "# TYPE gong_regions gauge\ngong_regions %lld\n",
		    n.regions);
		strbuf_addf(&b, "# HELP gong_responders Responders in the "
		    "roster.\n# TYPE gong_responders gauge\n"
		    "gong_responders %lld\n", n.responders);
		strbuf_addf(&b, "# HELP gong_devices Devices in the roster.\n"
		    "# TYPE gong_devices gauge\ngong_devices %lld\n",
		    n.devices);
	}
	strbuf_addf(&b, "# HELP gong_http_requests_total HTTP requests by "
	    "route and status.\n# TYPE gong_http_requests_total counter\n");
	for (rt = 1; rt < ROUTE_COUNT; rt++) {
		for (sl = 0; sl < API_STATUS_SLOTS; sl++) {
			unsigned long long v = __atomic_load_n(
			    &a->hits[rt][sl], __ATOMIC_RELAXED);
			int st = api_slot_status(sl);

			if (v == 0)
				continue;
			if (st != 0)
				strbuf_addf(&b, "gong_http_requests_total{"
				    "route=\"%s\",status=\"%d\"} %llu\n",
				    api_route_name((enum api_route)rt), st, v);
			else
				strbuf_addf(&b, "gong_http_requests_total{"
				    "route=\"%s\",status=\"other\"} %llu\n",
				    api_route_name((enum api_route)rt), v);
		}
	}
	channel_metrics(a, &b);
	s = api_store_get(a);
	escalation_metrics(a, s, &b);
	api_store_put(a, s);
	api_report_metrics(a, &b);
	strbuf_addf(&b, "# HELP gong_backups_total Backups served.\n"
	    "# TYPE gong_backups_total counter\ngong_backups_total %llu\n",
	    __atomic_load_n(&a->backups, __ATOMIC_RELAXED));
	if (b.oom || b.p == NULL) {
		free(b.p);
		return MHD_NO;
	}
	return api_reply_text(c, r, MHD_HTTP_OK,
	    "text/plain; version=0.0.4; charset=utf-8", b.p, b.len);
}

enum MHD_Result
api_h_backup(struct MHD_Connection *c, struct api_req *r)
{
	struct api *a = r->api;
	struct MHD_Response *resp;
	struct eng_errbuf eb;
	struct store *s;
	struct stat sb;
	char path[4096];
	static unsigned long seq;
	int n, rv, fd;

	eng_errbuf_init(&eb);
	n = snprintf(path, sizeof(path), "%s/.backup-%ld-%lu.db", a->data_dir,
	    (long)getpid(), __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED));
	if (n < 0 || (size_t)n >= sizeof(path))
		return api_reply_error(c, r, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "internal", "data directory path too long", NULL);
	s = api_store_get(a);
	rv = store_backup(s, path, &eb);
	api_store_put(a, s);
	if (rv != 0) {
		log_error("backup.failed", "error=\"%s\"", eb.msg);
		return api_reply_error(c, r, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "backup_failed", eb.msg, NULL);
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	/* The open descriptor keeps the data; the name can go now. */
	(void)unlink(path);
	if (fd < 0 || fstat(fd, &sb) != 0) {
		if (fd >= 0)
			(void)close(fd);
		return api_reply_error(c, r, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "backup_failed", strerror(errno), NULL);
	}
	resp = MHD_create_response_from_fd((uint64_t)sb.st_size, fd);
	if (resp == NULL) {
		(void)close(fd);
		return MHD_NO;
	}
	(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "application/octet-stream");
	(void)MHD_add_response_header(resp, "Content-Disposition",
	    "attachment; filename=\"gong-backup.db\"");
	(void)MHD_add_response_header(resp, "Cache-Control", "no-store");
	__atomic_fetch_add(&a->backups, 1, __ATOMIC_RELAXED);
	log_info("backup.served", "bytes=%lld", (long long)sb.st_size);
	if (MHD_queue_response(c, MHD_HTTP_OK, resp) == MHD_YES)
		r->status = MHD_HTTP_OK;
	MHD_destroy_response(resp);
	return r->status == MHD_HTTP_OK ? MHD_YES : MHD_NO;
}
