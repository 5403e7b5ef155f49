/*
 * ops/bench/plan_bench.c - plan + persist at scale (issue 4, acceptance
 * 7): the time plan_alert takes to select every recipient of one alert
 * and write its deliveries (in chunks, one commit each), and the
 * process's peak resident memory (getrusage ru_maxrss).
 * ops/bench/bench_plan.sh drives it:
 *
 *   plan_bench setup CONFIG ROSTER_DIR DB
 *       create DB, import ROSTER_DIR/{regions,responders,devices}.csv
 *       (roster_parse_file + store_import) and store one red alert whose
 *       area is the roster's root (ingest_cap); prints
 *       "alert=ID import_s=S"
 *   plan_bench plan CONFIG DB ALERT_ID
 *       plan the alert (routing of CONFIG, a gongd config file); prints
 *       "plan_s=S write_s=W deliveries=N people=P devices=D maxrss_mb=M
 *        base_rss_mb=B" where W is the time inside the plan's write
 *       transactions (both of its threads) and B the peak before
 *       planning.
 *   plan_bench outbox CONFIG DB ALERT_ID
 *       the outbox's own writes for every delivery of a sent SMS, with
 *       nothing else running: plan the alert, then claim every delivery
 *       (claims of 256, as the dispatcher makes them, marking them
 *       sending), then record each claim's "sent" (one statement and
 *       one transaction a claim, as for one batched request), on a
 *       connection opened as the dispatcher's; prints "deliveries=N
 *       write_s=W claim_s=C sent_s=S".  Every one of these writes
 *       holds SQLite's one write lock: no schedule of threads can
 *       overlap them, so N / (W + C + S) deliveries a second is what
 *       the outbox alone allows a fan-out, before any reading,
 *       rendering or HTTP.
 *
 * One process per measure, so that ru_maxrss is the plan's own peak.
 * Channel address kinds: the channels named loudspeaker, siren, radio
 * and wecom address devices, every other one phones (as in the default
 * config, whose channels are file channels).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "channels/channel.h"
#include "config/cfg.h"
#include "engine/diag.h"
#include "engine/err.h"
#include "engine/ingest.h"
#include "engine/log.h"
#include "engine/plan.h"
#include "engine/roster.h"
#include "engine/store.h"

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long
maxrss_mb(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return -1;
	return ru.ru_maxrss / 1024;
}

static int
addr_of(void *arg, const char *channel)
{
	static const char *const dev[] = {
		"loudspeaker", "siren", "radio", "wecom", NULL
	};
	size_t i;

	(void)arg;
	for (i = 0; dev[i] != NULL; i++)
		if (strcmp(channel, dev[i]) == 0)
			return CHAN_ADDR_DEVICE;
	return CHAN_ADDR_PHONE;
}

static void
print_diags(const struct diag_list *d)
{
	size_t i;

	for (i = 0; i < d->n && i < 10; i++)
		fprintf(stderr, "plan_bench: %s:%ld: %s\n",
		    d->v[i].file ? d->v[i].file : "-", d->v[i].line,
		    d->v[i].msg);
}

static int
load_cfg(const char *path, struct cfg **cfg)
{
	struct diag_list d;
	int rv;

	diag_list_init(&d);
	if ((rv = cfg_load_file(path, cfg, &d)) != 0)
		print_diags(&d);
	diag_list_release(&d);
	return rv;
}

static int
import(struct store *s, enum roster_kind kind, const char *dir)
{
	struct store_import_result res;
	struct diag_list d;
	struct eng_errbuf eb;
	struct roster r;
	char path[4096];
	int rv;

	if (snprintf(path, sizeof(path), "%s/%s.csv", dir,
	    roster_kind_name(kind)) >= (int)sizeof(path))
		return ENG_EINVAL;
	diag_list_init(&d);
	eng_errbuf_init(&eb);
	roster_init(&r);
	rv = roster_parse_file(kind, path, ROSTER_ENC_UTF8, &r, &d);
	if (rv == 0)
		rv = store_import(s, &r, 0, &res, &d, &eb);
	if (rv != 0) {
		fprintf(stderr, "plan_bench: %s: %s\n", path, eb.msg);
		print_diags(&d);
	}
	roster_release(&r);
	diag_list_release(&d);
	return rv;
}

static int
setup(const char *config, const char *dir, const char *db)
{
	static const char *const dvn[] = { "GB/T 2260", NULL };
	struct ingest_config ic;
	struct ingest_source src;
	struct ingest_result res;
	struct ingest *ig = NULL;
	struct store *s = NULL;
	struct cfg *cfg = NULL;
	struct diag_list d;
	struct eng_errbuf eb;
	char xml[4096];
	double t0, t1;
	int n, rv;

	eng_errbuf_init(&eb);
	diag_list_init(&d);
	if ((rv = load_cfg(config, &cfg)) != 0)
		goto out;
	if ((rv = store_open(db, 0, &s, &eb)) != 0)
		goto out;
	store_set_root(s, cfg->deployment.root);
	t0 = now_s();
	if ((rv = import(s, ROSTER_REGIONS, dir)) != 0 ||
	    (rv = import(s, ROSTER_RESPONDERS, dir)) != 0 ||
	    (rv = import(s, ROSTER_DEVICES, dir)) != 0)
		goto out;
	t1 = now_s();
	store_close(s);
	s = NULL;

	memset(&ic, 0, sizeof(ic));
	ic.db_path = db;
	ic.root = cfg->deployment.root;
	ic.language = "zh-CN";
	ic.unknown_colour = 2;
	ic.division_value_names = dvn;
	if ((rv = ingest_new(&ic, &ig, &eb)) != 0)
		goto out;
	n = snprintf(xml, sizeof(xml),
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\">"
	    "<identifier>BENCH_1</identifier><sender>bench</sender>"
	    "<sent>2026-07-15T11:30:00+08:00</sent><status>Actual</status>"
	    "<msgType>Alert</msgType><scope>Public</scope>"
	    "<info><language>zh-CN</language><category>Met</category>"
	    "<event>暴雨</event><urgency>Immediate</urgency>"
	    "<severity>Extreme</severity><certainty>Observed</certainty>"
	    "<expires>2099-07-16T11:30:00+08:00</expires>"
	    "<headline>暴雨红色预警</headline>"
	    "<area><areaDesc>全市</areaDesc><geocode><valueName>GB/T 2260"
	    "</valueName><value>%s</value></geocode></area></info></alert>",
	    cfg->deployment.root);
	if (n <= 0 || n >= (int)sizeof(xml)) {
		rv = ENG_EINVAL;
		goto out;
	}
	memset(&src, 0, sizeof(src));
	src.name = "bench";
	src.via = "cli";
	if ((rv = ingest_cap(ig, &src, xml, (size_t)n, &res, &d, &eb)) != 0) {
		fprintf(stderr, "plan_bench: ingest: %s\n", eb.msg);
		print_diags(&d);
		goto out;
	}
	printf("alert=%lld import_s=%.3f\n", res.alert_id, t1 - t0);
out:
	if (rv != 0 && eb.msg[0] != '\0')
		fprintf(stderr, "plan_bench: %s\n", eb.msg);
	ingest_free(ig);
	store_close(s);
	cfg_free(cfg);
	diag_list_release(&d);
	return rv;
}

/* The alert id in id, CONFIG loaded and DB opened (flags) with its root
 * set; on failure what went wrong is said (or in eb) and the caller
 * frees what it got. */
static int
open_for(const char *config, const char *db, const char *id, int flags,
    long long *alert, struct cfg **cfg, struct store **s,
    struct eng_errbuf *eb)
{
	char *end;
	int rv;

	*alert = strtoll(id, &end, 10);
	if (*id == '\0' || *end != '\0' || *alert <= 0) {
		fprintf(stderr, "plan_bench: bad alert id '%s'\n", id);
		return ENG_EINVAL;
	}
	if ((rv = load_cfg(config, cfg)) != 0 ||
	    (rv = store_open(db, flags, s, eb)) != 0)
		return rv;
	store_set_root(*s, (*cfg)->deployment.root);
	return 0;
}

static int
plan(const char *config, const char *db, const char *id)
{
	struct plan_stats st;
	struct store *s = NULL;
	struct cfg *cfg = NULL;
	struct eng_errbuf eb;
	long long alert;
	long base;
	double t0, t1;
	int rv;

	eng_errbuf_init(&eb);
	if ((rv = open_for(config, db, id, 0, &alert, &cfg, &s, &eb)) != 0)
		goto out;
	base = maxrss_mb();
	t0 = now_s();
	rv = plan_alert(s, &cfg->routing, addr_of, NULL, NULL, NULL, alert,
	    (int64_t)time(NULL) * 1000, 0, &st, &eb);
	t1 = now_s();
	if (rv != 0)
		goto out;
	printf("plan_s=%.3f write_s=%.3f deliveries=%lld people=%lld "
	    "devices=%lld no_address=%lld maxrss_mb=%ld base_rss_mb=%ld\n",
	    t1 - t0, (double)st.write_us / 1e6, st.deliveries, st.people,
	    st.devices, st.no_address, maxrss_mb(), base);
out:
	if (rv != 0 && eb.msg[0] != '\0')
		fprintf(stderr, "plan_bench: %s\n", eb.msg);
	store_close(s);
	cfg_free(cfg);
	return rv;
}

#define OUTBOX_CLAIM	256	/* the dispatcher's CLAIM_BATCH */

struct claimed {
	long long *v;
	size_t n, cap;
};

static int
claimed_cb(void *arg, const struct store_delivery *d)
{
	struct claimed *c = arg;
	long long *nv;

	if (c->n == c->cap) {
		size_t na = c->cap ? c->cap * 2 : 4096;

		if ((nv = realloc(c->v, na * sizeof(*nv))) == NULL)
			return ENG_ENOMEM;
		c->v = nv;
		c->cap = na;
	}
	c->v[c->n++] = d->id;
	return 0;
}

static int
outbox(const char *config, const char *db, const char *id)
{
	struct claimed c = { NULL, 0, 0 };
	struct plan_stats st;
	struct store *s = NULL;
	struct cfg *cfg = NULL;
	struct eng_errbuf eb;
	unsigned char done[OUTBOX_CLAIM];
	long long alert;
	int64_t now = (int64_t)time(NULL) * 1000;
	size_t before, i, k;
	double t0, t1, t2;
	int rv;

	eng_errbuf_init(&eb);
	if ((rv = open_for(config, db, id, STORE_REPLAYABLE, &alert, &cfg, &s,
	    &eb)) != 0)
		goto out;
	if ((rv = plan_alert(s, &cfg->routing, addr_of, NULL, NULL, NULL,
	    alert, now, 0, &st, &eb)) != 0)
		goto out;
	t0 = now_s();
	do {
		before = c.n;
		if ((rv = store_deliveries_claim(s, now, 600000, OUTBOX_CLAIM,
		    claimed_cb, &c, &eb)) != 0)
			goto out;
	} while (c.n > before);
	t1 = now_s();
	for (i = 0; i < c.n; i += k) {
		k = c.n - i < OUTBOX_CLAIM ? c.n - i : OUTBOX_CLAIM;
		memset(done, 0, k);
		if ((rv = store_begin(s, &eb)) != 0)
			goto out;
		if ((rv = store_deliveries_sent(s, c.v + i, k, NULL, 1, now,
		    done, &eb)) != 0 || (rv = store_commit(s, &eb)) != 0) {
			store_rollback(s);
			goto out;
		}
		if (memchr(done, 0, k) != NULL) {
			rv = eng_error(&eb, ENG_EINVAL, "a claimed delivery "
			    "was not sending");
			goto out;
		}
	}
	t2 = now_s();
	if ((long long)c.n != st.deliveries) {
		rv = eng_error(&eb, ENG_EINVAL, "claimed %zu of %lld "
		    "deliveries", c.n, st.deliveries);
		goto out;
	}
	printf("deliveries=%zu write_s=%.3f claim_s=%.3f sent_s=%.3f\n", c.n,
	    (double)st.write_us / 1e6, t1 - t0, t2 - t1);
out:
	if (rv != 0 && eb.msg[0] != '\0')
		fprintf(stderr, "plan_bench: %s\n", eb.msg);
	free(c.v);
	store_close(s);
	cfg_free(cfg);
	return rv;
}

int
main(int argc, char **argv)
{
	log_set_level(LOG_LVL_WARN);
	if (argc == 5 && strcmp(argv[1], "setup") == 0)
		return setup(argv[2], argv[3], argv[4]) == 0 ? 0 : 1;
	if (argc == 5 && strcmp(argv[1], "plan") == 0)
		return plan(argv[2], argv[3], argv[4]) == 0 ? 0 : 1;
	if (argc == 5 && strcmp(argv[1], "outbox") == 0)
		return outbox(argv[2], argv[3], argv[4]) == 0 ? 0 : 1;
	fprintf(stderr, "usage: plan_bench setup CONFIG ROSTER_DIR DB\n"
	    "       plan_bench plan CONFIG DB ALERT_ID\n"
	    "       plan_bench outbox CONFIG DB ALERT_ID\n");
	return 2;
}
