/*
 * tests/unit/test_chan_kannel.c - the "kannel" channel driver against a
 * real Kannel (bearerbox + smsbox + Kannel's fakesmsc handset), started
 * once for the group by ops/peers/kannel/start.sh in a temporary
 * directory and stopped by ops/peers/kannel/stop.sh in the teardown.
 *
 * gongd's callback server is stood in for by a libmicrohttpd daemon on
 * 127.0.0.1 that hands /cb/sms-main/... to the driver's inbound and keeps
 * the events, so that receipts (dlr-url) and handset replies (the
 * sms-service get-url) really travel through Kannel.  What reached the
 * handset is read back from fakesmsc's log (UCS-2, concatenated parts
 * reassembled by their UDH).
 *
 * Also: config errors with file:line, hostile inbound requests, a closed
 * port and a silent one (RETRY), wrong credentials (FAILED), expiry and
 * shutdown.  Runs from the repository root (ops/peers/kannel/).
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

#include "channels/channel.h"
#include "config/cfg.h"

#define CB_PREFIX "/cb/sms-main"

/* A red rainstorm warning, as a township responder would get it. */
static const char RED_TEXT[] =
    "【暴雨红色预警】阳城县气象台发布暴雨"
    "红色预警：未来3小时降雨量将达100毫米"
    "以上，请立即转移危险区域群众。"
    "回复1确认。";

/* ------------------------------------------------------------------ */
/* The group: Kannel and the callback server                          */
/* ------------------------------------------------------------------ */

struct kannel_env {
	char dir[64];
	char sendsms_url[128];
	char user[32];
	char pass[64];
	char fakesmsc_log[128];
	char mo_fifo[128];
	int up;
};

static struct kannel_env K;
static struct MHD_Daemon *mhd;
static unsigned short cb_port;
static char cb_base[64];

/* What the callback server saw, under lock. */
#define MAX_SEEN 256
struct seen_ev {
	enum chan_event_kind kind;
	int64_t id;
	enum chan_result result;
	char from[32];
	char text[256];
	char gateway_id[80];
};
static pthread_mutex_t seen_mu = PTHREAD_MUTEX_INITIALIZER;
static struct seen_ev seen[MAX_SEEN];
static size_t nseen;
static char dlr_log[MAX_SEEN][96];	/* "id type" of every /dlr call */
static size_t ndlr;
static const struct channel *cb_channel;	/* who answers /cb/sms-main */

static int
mhd_emit(void *arg, const struct chan_event *ev)
{
	struct seen_ev *s;

	(void)arg;
	if (nseen == MAX_SEEN)
		return ENG_ENOMEM;
	s = &seen[nseen++];
	memset(s, 0, sizeof(*s));
	s->kind = ev->kind;
	s->id = ev->delivery_id;
	s->result = ev->result;
	(void)snprintf(s->from, sizeof(s->from), "%s",
	    ev->from != NULL ? ev->from : "");
	(void)snprintf(s->text, sizeof(s->text), "%s",
	    ev->text != NULL ? ev->text : "");
	(void)snprintf(s->gateway_id, sizeof(s->gateway_id), "%s",
	    ev->gateway_id != NULL ? ev->gateway_id : "");
	return 0;
}

static const char *
mhd_arg(void *ctx, const char *name)
{
	return MHD_lookup_connection_value(ctx, MHD_GET_ARGUMENT_KIND, name);
}

static const char *
mhd_header(void *ctx, const char *name)
{
	return MHD_lookup_connection_value(ctx, MHD_HEADER_KIND, name);
}

static enum MHD_Result
mhd_handler(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct chan_http_resp resp;
	struct chan_http_req req;
	struct MHD_Response *r;
	enum MHD_Result ret;
	size_t plen = strlen(CB_PREFIX);

	(void)cls;
	(void)version;
	(void)upload;
	(void)upload_size;
	(void)con_cls;
	memset(&resp, 0, sizeof(resp));
	resp.status = 200;
	pthread_mutex_lock(&seen_mu);
	if (strncmp(url, CB_PREFIX, plen) != 0 || cb_channel == NULL) {
		resp.status = 404;
	} else {
		memset(&req, 0, sizeof(req));
		req.method = method;
		req.rest = url + plen;
		req.arg = mhd_arg;
		req.header = mhd_header;
		req.ctx = c;
		if (strcmp(req.rest, "/dlr") == 0 && ndlr < MAX_SEEN) {
			const char *id = mhd_arg(c, "id");
			const char *ty = mhd_arg(c, "type");

			(void)snprintf(dlr_log[ndlr++], sizeof(dlr_log[0]),
			    "%.60s %.4s", id ? id : "-", ty ? ty : "-");
		}
		(void)cb_channel->ops->inbound(cb_channel, &req, mhd_emit,
		    NULL, &resp);
	}
	pthread_mutex_unlock(&seen_mu);
	r = MHD_create_response_from_buffer(strlen(resp.body), resp.body,
	    MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	ret = MHD_queue_response(c, (unsigned)resp.status, r);
	MHD_destroy_response(r);
	return ret;
}

static void
set_cb_channel(const struct channel *ch)
{
	pthread_mutex_lock(&seen_mu);
	cb_channel = ch;
	pthread_mutex_unlock(&seen_mu);
}

/* Read KEY=VALUE from DIR/env. */
static int
env_get(const char *file, const char *key, char *out, size_t size)
{
	char line[512];
	size_t kl = strlen(key);
	FILE *f;
	int found = 0;

	if ((f = fopen(file, "r")) == NULL)
		return -1;
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, key, kl) == 0 && line[kl] == '=') {
			line[strcspn(line, "\n")] = '\0';
			found = snprintf(out, size, "%s", line + kl + 1) <
			    (int)size;
		}
	}
	(void)fclose(f);
	return found ? 0 : -1;
}

static int group_teardown(void **state);

/* Callback server, then Kannel (see the top of the file). */
static int
start_peers(void)
{
	struct sockaddr_in sa;
	const union MHD_DaemonInfo *di;
	char cmd[512], envf[128];

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_ERROR_LOG, 0, NULL, NULL, mhd_handler, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_END);
	if (mhd == NULL)
		return -1;
	di = MHD_get_daemon_info(mhd, MHD_DAEMON_INFO_BIND_PORT);
	if (di == NULL || di->port == 0)
		return -1;
	cb_port = di->port;
	(void)snprintf(cb_base, sizeof(cb_base), "http://127.0.0.1:%u"
	    CB_PREFIX, (unsigned)cb_port);

	(void)snprintf(K.dir, sizeof(K.dir), "/tmp/gong-kannel-XXXXXX");
	if (mkdtemp(K.dir) == NULL)
		return -1;
	/* KANNEL_OWNER_PID: Kannel goes away with us, even on kill -9. */
	(void)snprintf(cmd, sizeof(cmd), "KANNEL_OWNER_PID=%ld "
	    "ops/peers/kannel/start.sh %s http://127.0.0.1:%u" CB_PREFIX
	    " >%s/start.out 2>&1", (long)getpid(), K.dir, (unsigned)cb_port,
	    K.dir);
	K.up = 1;	/* stop.sh even if start failed half-way */
	if (system(cmd) != 0) {
		(void)snprintf(cmd, sizeof(cmd), "cat %s/start.out >&2",
		    K.dir);
		if (system(cmd) != 0)
			print_error("cannot show %s/start.out\n", K.dir);
		return -1;
	}
	(void)snprintf(envf, sizeof(envf), "%s/env", K.dir);
	if (env_get(envf, "SENDSMS_URL", K.sendsms_url,
	    sizeof(K.sendsms_url)) != 0 ||
	    env_get(envf, "USER", K.user, sizeof(K.user)) != 0 ||
	    env_get(envf, "PASS", K.pass, sizeof(K.pass)) != 0 ||
	    env_get(envf, "FAKESMSC_LOG", K.fakesmsc_log,
	    sizeof(K.fakesmsc_log)) != 0 ||
	    env_get(envf, "MO_FIFO", K.mo_fifo, sizeof(K.mo_fifo)) != 0)
		return -1;
	return 0;
}

/* cmocka skips the group teardown when the setup fails: stop here. */
static int
group_setup(void **state)
{
	if (start_peers() == 0)
		return 0;
	(void)group_teardown(state);
	return -1;
}

static int
group_teardown(void **state)
{
	char cmd[256];
	int rv = 0;

	(void)state;
	if (K.up) {
		(void)snprintf(cmd, sizeof(cmd), "ops/peers/kannel/stop.sh %s",
		    K.dir);
		if (system(cmd) != 0)
			rv = -1;
		if (getenv("KEEP_KANNEL_DIR") == NULL) {
			(void)snprintf(cmd, sizeof(cmd), "rm -rf %s", K.dir);
			if (system(cmd) != 0)
				rv = -1;
		}
		K.up = 0;
	}
	if (mhd != NULL)
		MHD_stop_daemon(mhd);
	mhd = NULL;
	curl_global_cleanup();
	return rv;
}

/* ------------------------------------------------------------------ */
/* One channel per test                                                */
/* ------------------------------------------------------------------ */

#define MAX_REPORTS 256
struct got {
	int64_t id;
	enum chan_result result;
	int segments;
	int64_t retry_after_ms;
	char error[160];
};

struct fx {
	struct channel ch;
	struct chan_env env;
	struct cfg_doc *doc;
	struct diag_list diags;
	int open;
	struct got rep[MAX_REPORTS];
	size_t nrep;
};

static void
on_report(void *engine, struct channel *ch, const struct chan_report *r)
{
	struct fx *f = engine;
	struct got *g;

	assert_ptr_equal(ch, &f->ch);
	assert_true(f->nrep < MAX_REPORTS);
	g = &f->rep[f->nrep++];
	g->id = r->delivery_id;
	g->result = r->result;
	g->segments = r->segments;
	g->retry_after_ms = r->retry_after_ms;
	(void)snprintf(g->error, sizeof(g->error), "%s",
	    r->error != NULL ? r->error : "");
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	diag_list_init(&f->diags);
	f->env.callback_base = cb_base;
	f->env.report = on_report;
	f->env.engine = f;
	f->ch.name = "sms-main";
	f->ch.ops = &chan_kannel_ops;
	f->ch.env = &f->env;
	f->ch.addr = chan_kannel_ops.addr;
	pthread_mutex_lock(&seen_mu);
	nseen = ndlr = 0;
	pthread_mutex_unlock(&seen_mu);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	set_cb_channel(NULL);
	if (f->open)
		f->ch.ops->shutdown(&f->ch);
	free(f->ch.priv);
	cfg_doc_free(f->doc);
	diag_list_release(&f->diags);
	free(f);
	return 0;
}

/* Parse yaml (a channel's map) and init; returns init's result. */
static int
open_yaml(struct fx *f, const char *yaml)
{
	int rv;

	rv = cfg_doc_parse(yaml, strlen(yaml), "kannel.yaml", &f->doc,
	    &f->diags);
	assert_int_equal(rv, 0);
	f->ch.priv = calloc(1, f->ch.ops->priv_size);
	assert_non_null(f->ch.priv);
	rv = f->ch.ops->init(&f->ch, cfg_doc_root(f->doc), &f->diags);
	f->open = 1;	/* shutdown must cope with a failed init too */
	return rv;
}

/* A channel on the test's Kannel; extra lines appended to the config. */
static void
open_kannel(struct fx *f, const char *extra)
{
	char yaml[1024];

	(void)snprintf(yaml, sizeof(yaml),
	    "name: sms-main\ntype: kannel\nurl: %s\nusername: %s\n"
	    "password: \"%s\"\nfrom: \"12379\"\nsmsc: fake\n%s",
	    K.sendsms_url, K.user, K.pass, extra != NULL ? extra : "");
	assert_int_equal(open_yaml(f, yaml), 0);
	assert_int_equal(f->diags.nerrors, 0);
	set_cb_channel(&f->ch);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Poll until nrep reports arrived (or fail after ms). */
static void
poll_reports(struct fx *f, size_t nrep, int64_t ms)
{
	int64_t end = now_ms() + ms, w;

	while (f->nrep < nrep) {
		assert_true(now_ms() < end);
		w = f->ch.ops->poll(&f->ch, now_ms());
		assert_true(w >= 0);
		(void)usleep((useconds_t)(w > 10 ? 10 : w) * 1000);
	}
	/* Nothing more than asked for. */
	(void)f->ch.ops->poll(&f->ch, now_ms());
	assert_int_equal(f->nrep, nrep);
}

static const struct got *
report_of(const struct fx *f, int64_t id, enum chan_result r)
{
	size_t i;

	for (i = 0; i < f->nrep; i++)
		if (f->rep[i].id == id && f->rep[i].result == r)
			return &f->rep[i];
	return NULL;
}

static struct chan_msg
msg(int64_t id, const char *to, const char *text)
{
	struct chan_msg m;

	memset(&m, 0, sizeof(m));
	m.delivery_id = id;
	m.to = to;
	m.text = text;
	m.priority = 9;
	return m;
}

/* ------------------------------------------------------------------ */
/* fakesmsc's log                                                      */
/* ------------------------------------------------------------------ */

/* URL-decode (Kannel's octstr_url_encode: %XX, '+' for space). */
static size_t
url_decode(const char *s, size_t len, unsigned char *out, size_t size)
{
	size_t i, n = 0;
	unsigned v;

	for (i = 0; i < len && n < size; i++) {
		if (s[i] == '+')
			out[n++] = ' ';
		else if (s[i] == '%' && i + 2 < len &&
		    sscanf(s + i + 1, "%2x", &v) == 1) {
			out[n++] = (unsigned char)v;
			i += 2;
		} else
			out[n++] = (unsigned char)s[i];
	}
	return n;
}

static void
put_utf8(char *out, size_t size, size_t *n, unsigned long c)
{
	unsigned char b[4];
	size_t k, l;

	if (c < 0x80) {
		b[0] = (unsigned char)c;
		l = 1;
	} else if (c < 0x800) {
		b[0] = (unsigned char)(0xc0 | (c >> 6));
		b[1] = (unsigned char)(0x80 | (c & 0x3f));
		l = 2;
	} else if (c < 0x10000) {
		b[0] = (unsigned char)(0xe0 | (c >> 12));
		b[1] = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
		b[2] = (unsigned char)(0x80 | (c & 0x3f));
		l = 3;
	} else {
		b[0] = (unsigned char)(0xf0 | (c >> 18));
		b[1] = (unsigned char)(0x80 | ((c >> 12) & 0x3f));
		b[2] = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
		b[3] = (unsigned char)(0x80 | (c & 0x3f));
		l = 4;
	}
	for (k = 0; k < l && *n + 1 < size; k++)
		out[(*n)++] = (char)b[k];
	out[*n] = '\0';
}

/* UCS-2 / UTF-16BE bytes appended to out as UTF-8. */
static void
ucs2_to_utf8(const unsigned char *u, size_t len, char *out, size_t size,
    size_t *n)
{
	size_t i;
	unsigned long c, lo;

	for (i = 0; i + 1 < len; i += 2) {
		c = ((unsigned long)u[i] << 8) | u[i + 1];
		if (c >= 0xd800 && c < 0xdc00 && i + 3 < len) {
			lo = ((unsigned long)u[i + 2] << 8) | u[i + 3];
			c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
			i += 2;
		}
		put_utf8(out, size, n, c);
	}
}

/*
 * What the handset `to` received: every message fakesmsc logged for it,
 * decoded (ucs2: UCS-2, else bytes), concatenated parts put in the order
 * of their UDH sequence numbers.  *parts counts the SMS, *sender is the
 * last sender seen.  Returns 0 if anything was found.
 */
static int
handset_text(const char *to, int ucs2, char *out, size_t size, int *parts,
    char *sender, size_t ssize)
{
	char line[4096], *lt, *gt, *f[6];
	unsigned char dec[1024], udh[16];
	size_t n = 0, dl, k;
	FILE *fp;
	int seq, maxseq = 0, found = 0;
	struct {
		int seq;
		char text[1024];
	} part[16];
	int np = 0, i, j;

	out[0] = '\0';
	*parts = 0;
	if ((fp = fopen(K.fakesmsc_log, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (strstr(line, "Got message") == NULL ||
		    (lt = strchr(line, '<')) == NULL ||
		    (gt = strrchr(line, '>')) == NULL)
			continue;
		*gt = '\0';
		/* sender receiver type rest; rest is "UDH data DATA" for
		 * udh, the bare text for text */
		f[0] = lt + 1;
		for (k = 1; k < 4; k++) {
			if ((f[k] = strchr(f[k - 1], ' ')) == NULL)
				break;
			*f[k]++ = '\0';
		}
		if (k < 4 || strcmp(f[1], to) != 0)
			continue;
		if (strcmp(f[2], "udh") == 0) {
			for (k = 4; k < 6; k++) {
				if ((f[k] = strchr(f[k - 1], ' ')) == NULL)
					break;
				*f[k]++ = '\0';
			}
		}
		(void)snprintf(sender, ssize, "%s", f[0]);
		found = 1;
		(*parts)++;
		if (strcmp(f[2], "udh") == 0 && k >= 5) {
			size_t ul = url_decode(f[3], strlen(f[3]), udh,
			    sizeof(udh));

			assert_true(ul == 6 && udh[0] == 5 && udh[1] == 0 &&
			    udh[2] == 3);
			seq = udh[5];
			if (udh[4] > maxseq)
				maxseq = udh[4];
			dl = url_decode(f[5], strlen(f[5]), dec, sizeof(dec));
			assert_true(np < 16);
			part[np].seq = seq;
			k = 0;
			part[np].text[0] = '\0';
			if (ucs2)
				ucs2_to_utf8(dec, dl, part[np].text,
				    sizeof(part[np].text), &k);
			else {
				memcpy(part[np].text, dec, dl);
				part[np].text[dl] = '\0';
			}
			np++;
			continue;
		}
		if (strcmp(f[2], "text") == 0) {
			k = strlen(f[3]);
			assert_true(n + k < size);
			memcpy(out + n, f[3], k + 1);
			n += k;
			continue;
		}
		dl = url_decode(f[3], strlen(f[3]), dec, sizeof(dec));
		if (strcmp(f[2], "ucs-2") == 0)
			ucs2_to_utf8(dec, dl, out, size, &n);
		else {
			for (k = 0; k < dl && n + 1 < size; k++)
				out[n++] = (char)dec[k];
			out[n] = '\0';
		}
	}
	(void)fclose(fp);
	for (i = 1; i <= maxseq; i++)
		for (j = 0; j < np; j++)
			if (part[j].seq == i) {
				k = strlen(part[j].text);
				assert_true(n + k < size);
				memcpy(out + n, part[j].text, k + 1);
				n += k;
			}
	return found ? 0 : -1;
}

/* Wait until fakesmsc logged `parts` messages for to. */
static void
wait_handset(const char *to, int ucs2, int parts, char *out, size_t size)
{
	char sender[32];
	int64_t end = now_ms() + 5000;
	int got = 0;

	while (now_ms() < end) {
		if (handset_text(to, ucs2, out, size, &got, sender,
		    sizeof(sender)) == 0 && got >= parts)
			break;
		(void)usleep(20000);
	}
	assert_int_equal(got, parts);
	assert_string_equal(sender, "12379");
}

static size_t
count_events(enum chan_event_kind kind)
{
	size_t i, n = 0;

	pthread_mutex_lock(&seen_mu);
	for (i = 0; i < nseen; i++)
		n += seen[i].kind == kind;
	pthread_mutex_unlock(&seen_mu);
	return n;
}

static void
wait_events(enum chan_event_kind kind, size_t n)
{
	int64_t end = now_ms() + 5000;

	while (count_events(kind) < n && now_ms() < end)
		(void)usleep(20000);
	assert_int_equal(count_events(kind), n);
}

static const struct seen_ev *
event_of(int64_t id)
{
	const struct seen_ev *e = NULL;
	size_t i;

	pthread_mutex_lock(&seen_mu);
	for (i = 0; i < nseen; i++)
		if (seen[i].kind == CHAN_EV_RECEIPT && seen[i].id == id)
			e = &seen[i];
	pthread_mutex_unlock(&seen_mu);
	return e;
}

/* ------------------------------------------------------------------ */
/* Tests against Kannel                                                */
/* ------------------------------------------------------------------ */

static void
test_red_warning_three_numbers(void **state)
{
	struct fx *f = *state;
	static const char *const to[3] = {
		"13800000101", "13800000102", "13800000103"
	};
	struct chan_msg m[3];
	struct chan_health h;
	char got[1024];
	size_t i;

	open_kannel(f, NULL);
	for (i = 0; i < 3; i++)
		m[i] = msg(101 + (int64_t)i, to[i], RED_TEXT);
	assert_int_equal(f->ch.ops->send(&f->ch, m, 3), 0);
	f->ch.ops->health(&f->ch, &h);
	assert_int_equal(h.queued, 3);
	assert_int_equal(f->nrep, 0);	/* never reported from send */
	poll_reports(f, 3, 5000);
	for (i = 0; i < 3; i++) {
		const struct got *g = report_of(f, 101 + (int64_t)i,
		    CHAN_R_SENT);

		assert_non_null(g);
		assert_int_equal(g->segments, 1);	/* 59 characters */
		assert_string_equal(g->error, "");
		wait_handset(to[i], 1, 1, got, sizeof(got));
		assert_string_equal(got, RED_TEXT);
	}
	f->ch.ops->health(&f->ch, &h);
	assert_int_equal(h.up, 1);
	assert_int_equal(h.queued, 0);
	assert_int_equal(h.in_flight, 0);
}

static void
test_long_text_concatenated(void **state)
{
	struct fx *f = *state;
	struct chan_msg m;
	char text[1024], got[2048];
	size_t i, n = 0;

	/* 300 Chinese characters: 5 UCS-2 parts of 67. */
	for (i = 0; i < 30; i++) {
		memcpy(text + n, "一二三四五六七八九十", 30);
		n += 30;
	}
	text[n] = '\0';
	open_kannel(f, "concurrency: 2\ntimeout: 5s\n");
	m = msg(201, "13800000201", text);
	assert_int_equal(f->ch.ops->send(&f->ch, &m, 1), 0);
	poll_reports(f, 1, 5000);
	assert_int_equal(f->rep[0].result, CHAN_R_SENT);
	assert_int_equal(f->rep[0].segments, 5);
	wait_handset("13800000201", 1, 5, got, sizeof(got));
	assert_string_equal(got, text);
}

static void
test_ascii_text_gsm7(void **state)
{
	struct fx *f = *state;
	struct chan_msg m[2];
	char text[201], got[512];

	memset(text, 'a', 200);
	text[200] = '\0';
	memcpy(text, "Red warning: ", 13);
	open_kannel(f, NULL);
	m[0] = msg(301, "13800000301", "Rainstorm RED: move to the school. "
	    "Reply 1.");
	m[1] = msg(302, "+8613800000302", text);
	assert_int_equal(f->ch.ops->send(&f->ch, m, 2), 0);
	poll_reports(f, 2, 5000);
	assert_int_equal(report_of(f, 301, CHAN_R_SENT)->segments, 1);
	assert_int_equal(report_of(f, 302, CHAN_R_SENT)->segments, 2);
	wait_handset("13800000301", 0, 1, got, sizeof(got));
	assert_string_equal(got, "Rainstorm RED: move to the school. "
	    "Reply 1.");
	wait_handset("+8613800000302", 0, 2, got, sizeof(got));
	assert_string_equal(got, text);
}

static void
test_receipts_delivered(void **state)
{
	struct fx *f = *state;
	struct chan_msg m[2];
	const struct seen_ev *e;
	size_t i;
	int first8, first1;

	open_kannel(f, NULL);
	m[0] = msg(401, "13800000401", "测试回执一");
	m[1] = msg(402, "13800000402", "测试回执二");
	assert_int_equal(f->ch.ops->send(&f->ch, m, 2), 0);
	poll_reports(f, 2, 5000);
	wait_events(CHAN_EV_RECEIPT, 2);
	for (i = 0; i < 2; i++) {
		e = event_of(401 + (int64_t)i);
		assert_non_null(e);
		assert_int_equal(e->result, CHAN_R_DELIVERED);
		assert_true(strlen(e->gateway_id) > 0);	/* Kannel's id */
	}
	/* Kannel called the dlr-url with type 8 first, then 1. */
	pthread_mutex_lock(&seen_mu);
	first8 = first1 = -1;
	for (i = 0; i < ndlr; i++) {
		if (strcmp(dlr_log[i], "401 8") == 0 && first8 < 0)
			first8 = (int)i;
		if (strcmp(dlr_log[i], "401 1") == 0 && first1 < 0)
			first1 = (int)i;
	}
	pthread_mutex_unlock(&seen_mu);
	assert_true(first8 >= 0 && first1 > first8);
}

static void
test_batch_receipts_map_to_each_delivery(void **state)
{
	struct fx *f = *state;
	static const char *const to[3] = {
		"13800000501", "+8613800000502", "13800000503"
	};
	struct chan_msg m[3];
	char got[512];
	size_t i;

	open_kannel(f, "max_recipients: 3\n");
	for (i = 0; i < 3; i++)
		m[i] = msg(501 + (int64_t)i, to[i], "蓝色预警：大风。");
	assert_int_equal(f->ch.ops->send(&f->ch, m, 3), 0);
	poll_reports(f, 3, 5000);
	for (i = 0; i < 3; i++) {
		assert_non_null(report_of(f, 501 + (int64_t)i, CHAN_R_SENT));
		wait_handset(to[i], 1, 1, got, sizeof(got));
		assert_string_equal(got, "蓝色预警：大风。");
	}
	wait_events(CHAN_EV_RECEIPT, 3);
	for (i = 0; i < 3; i++) {
		assert_non_null(event_of(501 + (int64_t)i));
		assert_int_equal(event_of(501 + (int64_t)i)->result,
		    CHAN_R_DELIVERED);
	}
	/* One request: the dlr-url lists all three. */
	pthread_mutex_lock(&seen_mu);
	assert_true(ndlr >= 1);
	assert_string_equal(dlr_log[0] + strlen(dlr_log[0]) - 2, " 8");
	assert_memory_equal(dlr_log[0], "501,502,503 ", 12);
	pthread_mutex_unlock(&seen_mu);
}

static void
test_wrong_password_failed(void **state)
{
	struct fx *f = *state;
	struct chan_msg m;
	char yaml[512];

	(void)snprintf(yaml, sizeof(yaml), "name: sms-main\ntype: kannel\n"
	    "url: %s\nusername: %s\npassword: wrong\n", K.sendsms_url,
	    K.user);
	assert_int_equal(open_yaml(f, yaml), 0);
	m = msg(601, "13800000601", RED_TEXT);
	assert_int_equal(f->ch.ops->send(&f->ch, &m, 1), 0);
	poll_reports(f, 1, 5000);
	assert_int_equal(f->rep[0].id, 601);
	assert_int_equal(f->rep[0].result, CHAN_R_FAILED);
	assert_string_equal(f->rep[0].error,
	    "HTTP 403: Authorization failed for sendsms");
}

/* A TCP socket bound to a free port of 127.0.0.1 (in *port). */
static int
bound_socket(unsigned *port)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int s = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(s >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&sa, &sl), 0);
	*port = ntohs(sa.sin_port);
	return s;
}

/* A port on 127.0.0.1 where nothing listens. */
static unsigned
closed_port(void)
{
	unsigned port;

	(void)close(bound_socket(&port));
	return port;
}

/* A socket listening on 127.0.0.1 that never answers; its port in
 * *port. */
static int
silent_listener(unsigned *port)
{
	int s = bound_socket(port);

	assert_int_equal(listen(s, 4), 0);
	return s;
}

static void
test_gateway_down_retry(void **state)
{
	struct fx *f = *state;
	struct chan_msg m[2];
	struct chan_health h;
	char yaml[512];

	(void)snprintf(yaml, sizeof(yaml), "name: sms-main\ntype: kannel\n"
	    "url: http://127.0.0.1:%u/cgi-bin/sendsms\nusername: gong\n"
	    "password: x\n", closed_port());
	assert_int_equal(open_yaml(f, yaml), 0);
	m[0] = msg(701, "13800000701", RED_TEXT);
	m[1] = msg(702, "13800000702", RED_TEXT);
	assert_int_equal(f->ch.ops->send(&f->ch, m, 2), 0);
	poll_reports(f, 2, 5000);
	assert_non_null(report_of(f, 701, CHAN_R_RETRY));
	assert_non_null(report_of(f, 702, CHAN_R_RETRY));
	assert_non_null(strstr(f->rep[0].error, "onnect"));
	f->ch.ops->health(&f->ch, &h);
	assert_int_equal(h.up, 0);
	assert_string_equal(h.detail, f->rep[1].error);
}

static void
test_silent_gateway_timeout_retry(void **state)
{
	struct fx *f = *state;
	struct chan_msg m;
	char yaml[512];
	unsigned port;
	int s = silent_listener(&port);
	int64_t t0;

	(void)snprintf(yaml, sizeof(yaml), "name: sms-main\ntype: kannel\n"
	    "url: http://127.0.0.1:%u/cgi-bin/sendsms\nusername: gong\n"
	    "password: x\ntimeout: 300ms\n", port);
	assert_int_equal(open_yaml(f, yaml), 0);
	m = msg(801, "13800000801", RED_TEXT);
	assert_int_equal(f->ch.ops->send(&f->ch, &m, 1), 0);
	t0 = now_ms();
	poll_reports(f, 1, 3000);
	(void)close(s);
	assert_true(now_ms() - t0 >= 290);
	assert_int_equal(f->rep[0].result, CHAN_R_RETRY);
	assert_non_null(strstr(f->rep[0].error, "timed out"));
}

static void
test_mo_reply(void **state)
{
	struct fx *f = *state;
	FILE *fifo;
	size_t i;
	int found = 0, found2 = 0;

	open_kannel(f, NULL);
	/* A handset answers; fakesmsc wants lines at least 0.5 s apart. */
	fifo = fopen(K.mo_fifo, "w");
	assert_non_null(fifo);
	assert_true(fputs("13900000009 12379 text 收到\n", fifo) >= 0);
	assert_int_equal(fflush(fifo), 0);
	wait_events(CHAN_EV_REPLY, 1);
	(void)usleep(600000);
	assert_true(fputs("+8613900000008 12379 text 已 收到 1\n", fifo) >=
	    0);
	assert_int_equal(fclose(fifo), 0);
	wait_events(CHAN_EV_REPLY, 2);
	pthread_mutex_lock(&seen_mu);
	for (i = 0; i < nseen; i++) {
		if (seen[i].kind != CHAN_EV_REPLY)
			continue;
		assert_int_equal(seen[i].id, 0);
		if (strcmp(seen[i].from, "13900000009") == 0) {
			assert_string_equal(seen[i].text, "收到");
			found = 1;
		} else {
			assert_string_equal(seen[i].from, "+8613900000008");
			assert_string_equal(seen[i].text, "已 收到 1");
			found2 = 1;
		}
	}
	pthread_mutex_unlock(&seen_mu);
	assert_true(found && found2);
}

/* ------------------------------------------------------------------ */
/* Tests without Kannel                                                */
/* ------------------------------------------------------------------ */

/*
 * A scripted gateway (libmicrohttpd on 127.0.0.1): answers every request
 * with gw_status / gw_body (and Retry-After: gw_retry_after if set) and
 * keeps the query arguments of the last request, decoded.
 */
static struct MHD_Daemon *gw;
static unsigned gw_port;
static int gw_status;
static const char *gw_body;
static const char *gw_retry_after;
static int gw_requests;
static char gw_last[10][512];
static const char *const gw_names[10] = {
	"username", "password", "from", "smsc", "to", "text", "coding",
	"charset", "dlr-mask", "dlr-url"
};

static enum MHD_Result
gw_handler(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	const char *v;
	size_t i;

	(void)cls;
	(void)url;
	(void)method;
	(void)version;
	(void)upload;
	(void)upload_size;
	(void)con_cls;
	pthread_mutex_lock(&seen_mu);
	gw_requests++;
	for (i = 0; i < 10; i++) {
		v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
		    gw_names[i]);
		(void)snprintf(gw_last[i], sizeof(gw_last[i]), "%s",
		    v != NULL ? v : "(none)");
	}
	pthread_mutex_unlock(&seen_mu);
	r = MHD_create_response_from_buffer(strlen(gw_body),
	    (void *)(uintptr_t)gw_body, MHD_RESPMEM_PERSISTENT);
	if (r == NULL)
		return MHD_NO;
	if (gw_retry_after != NULL)
		(void)MHD_add_response_header(r, "Retry-After",
		    gw_retry_after);
	ret = MHD_queue_response(c, (unsigned)gw_status, r);
	MHD_destroy_response(r);
	return ret;
}

static int
gw_setup(void **state)
{
	struct sockaddr_in sa;
	const union MHD_DaemonInfo *di;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	gw = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL,
	    gw_handler, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_END);
	if (gw == NULL ||
	    (di = MHD_get_daemon_info(gw, MHD_DAEMON_INFO_BIND_PORT)) == NULL)
		return -1;
	gw_port = di->port;
	gw_status = 202;
	gw_body = "0: Accepted for delivery";
	gw_retry_after = NULL;
	gw_requests = 0;
	return setup(state);
}

static int
gw_teardown(void **state)
{
	int rv = teardown(state);

	MHD_stop_daemon(gw);
	gw = NULL;
	return rv;
}

static void
open_gw(struct fx *f, const char *extra)
{
	char yaml[512];

	(void)snprintf(yaml, sizeof(yaml), "name: sms-main\ntype: kannel\n"
	    "url: http://127.0.0.1:%u/cgi-bin/sendsms\nusername: gong\n"
	    "password: \"p&s s+\"\n%s", gw_port, extra);
	assert_int_equal(open_yaml(f, yaml), 0);
}

/* One message through the scripted gateway; its single report. */
static const struct got *
gw_one(struct fx *f, const char *to, const char *text)
{
	struct chan_msg m = msg(77, to, text);

	assert_int_equal(f->ch.ops->send(&f->ch, &m, 1), 0);
	poll_reports(f, f->nrep + 1, 5000);
	return &f->rep[f->nrep - 1];
}

static void
test_request_parameters(void **state)
{
	struct fx *f = *state;
	struct chan_msg m[3];
	char want[256];

	open_gw(f, "from: \"12379\"\nsmsc: op-a\nmax_recipients: 2\n");
	m[0] = msg(31, "13800000031", "红色预警 & 撤离");
	m[1] = msg(32, "+8613800000032", "红色预警 & 撤离");
	m[2] = msg(33, "13800000033", "红色预警 & 撤离");
	assert_int_equal(f->ch.ops->send(&f->ch, m, 3), 0);
	poll_reports(f, 3, 5000);
	assert_int_equal(gw_requests, 2);	/* 2 + 1 numbers */
	assert_int_equal(report_of(f, 31, CHAN_R_SENT)->segments, 1);
	assert_non_null(report_of(f, 32, CHAN_R_SENT));
	assert_non_null(report_of(f, 33, CHAN_R_SENT));
	pthread_mutex_lock(&seen_mu);
	assert_string_equal(gw_last[0], "gong");
	assert_string_equal(gw_last[1], "p&s s+");
	assert_string_equal(gw_last[2], "12379");
	assert_string_equal(gw_last[3], "op-a");
	assert_string_equal(gw_last[4], "13800000033");
	assert_string_equal(gw_last[5], "红色预警 & 撤离");
	assert_string_equal(gw_last[6], "2");
	assert_string_equal(gw_last[7], "UTF-8");
	assert_string_equal(gw_last[8], "31");
	(void)snprintf(want, sizeof(want), "%s/dlr?id=33&type=%%d&smsc=%%F"
	    "&ts=%%T&to=%%p", cb_base);
	assert_string_equal(gw_last[9], want);
	pthread_mutex_unlock(&seen_mu);

	/* The pair went out as one request: to=A+B, both ids listed. */
	gw_requests = 0;
	f->nrep = 0;
	assert_int_equal(f->ch.ops->send(&f->ch, m, 2), 0);
	poll_reports(f, 2, 5000);
	pthread_mutex_lock(&seen_mu);
	assert_int_equal(gw_requests, 1);
	assert_string_equal(gw_last[4], "13800000031 +8613800000032");
	(void)snprintf(want, sizeof(want), "%s/dlr?id=31,32&n=13800000031,"
	    "8613800000032&type=%%d&smsc=%%F&ts=%%T&to=%%p", cb_base);
	assert_string_equal(gw_last[9], want);
	pthread_mutex_unlock(&seen_mu);
}

static void
test_gateway_answers(void **state)
{
	struct fx *f = *state;
	const struct got *g;
	struct chan_health h;

	open_gw(f, "dlr: false\n");
	g = gw_one(f, "13800000077", "plain ASCII");
	assert_int_equal(g->result, CHAN_R_SENT);
	pthread_mutex_lock(&seen_mu);
	assert_string_equal(gw_last[6], "(none)");	/* GSM-7 */
	assert_string_equal(gw_last[7], "UTF-8");
	assert_string_equal(gw_last[8], "(none)");
	assert_string_equal(gw_last[9], "(none)");
	pthread_mutex_unlock(&seen_mu);

	gw_body = "3: Queued for later delivery";
	assert_int_equal(gw_one(f, "13800000077", "x")->result, CHAN_R_SENT);

	gw_status = 400;
	gw_body = "Number(s) has/have been denied by white- and/or "
	    "black-lists.";
	g = gw_one(f, "13800000077", "x");
	assert_int_equal(g->result, CHAN_R_FAILED);
	assert_string_equal(g->error, "HTTP 400: Number(s) has/have been "
	    "denied by white- and/or black-lists.");

	gw_status = 503;
	gw_body = "Sending failed.\n";
	gw_retry_after = "7";
	g = gw_one(f, "13800000077", "x");
	assert_int_equal(g->result, CHAN_R_RETRY);
	assert_string_equal(g->error, "HTTP 503: Sending failed.");
	assert_int_equal(g->retry_after_ms, 7000);
	f->ch.ops->health(&f->ch, &h);
	assert_int_equal(h.up, 0);
	assert_string_equal(h.detail, "HTTP 503: Sending failed.");

	gw_status = 429;
	gw_body = "slow down";
	gw_retry_after = NULL;
	g = gw_one(f, "13800000077", "x");
	assert_int_equal(g->result, CHAN_R_RETRY);
	assert_int_equal(g->retry_after_ms, 0);

	/* A 2xx that is not Kannel's "accepted": when in doubt, retry. */
	gw_status = 200;
	gw_body = "<html>captive portal</html>";
	assert_int_equal(gw_one(f, "13800000077", "x")->result,
	    CHAN_R_RETRY);
	f->ch.ops->health(&f->ch, &h);
	assert_int_equal(h.up, 1);
}

static void
test_concurrency_bound(void **state)
{
	struct fx *f = *state;
	struct chan_msg m[5];
	struct chan_health h;
	size_t i;

	open_gw(f, "concurrency: 2\ndlr: false\n");
	for (i = 0; i < 5; i++)
		m[i] = msg((int64_t)i + 1, "13800000077", "x");
	assert_int_equal(f->ch.ops->send(&f->ch, m, 5), 0);
	assert_int_equal(f->ch.ops->poll(&f->ch, now_ms()) >= 0, 1);
	f->ch.ops->health(&f->ch, &h);
	assert_true(h.in_flight <= 2);
	assert_int_equal(h.queued + h.in_flight + f->nrep, 5);
	poll_reports(f, 5, 5000);
	assert_int_equal(gw_requests, 5);
}


static void
test_bad_numbers_and_text_failed(void **state)
{
	struct fx *f = *state;
	struct chan_msg m[3];
	char yaml[256];

	(void)snprintf(yaml, sizeof(yaml), "name: sms-main\ntype: kannel\n"
	    "url: http://127.0.0.1:%u/x\nusername: u\npassword: p\n",
	    closed_port());
	assert_int_equal(open_yaml(f, yaml), 0);
	m[0] = msg(1, "138-0000-0001", "x");
	m[1] = msg(2, "13800000002", "\xff\xfe");
	m[2] = msg(3, "", "x");
	assert_int_equal(f->ch.ops->send(&f->ch, m, 3), 0);
	assert_int_equal(f->nrep, 0);
	poll_reports(f, 3, 2000);
	assert_string_equal(report_of(f, 1, CHAN_R_FAILED)->error,
	    "not a phone number");
	assert_string_equal(report_of(f, 2, CHAN_R_FAILED)->error,
	    "text is not UTF-8");
	assert_string_equal(report_of(f, 3, CHAN_R_FAILED)->error,
	    "not a phone number");
}

static void
test_expired_and_shutdown(void **state)
{
	struct fx *f = *state;
	struct chan_msg m[3];
	char yaml[256];
	unsigned port;
	int s = silent_listener(&port);	/* 12 stays in flight */

	(void)snprintf(yaml, sizeof(yaml), "name: sms-main\ntype: kannel\n"
	    "url: http://127.0.0.1:%u/x\nusername: u\npassword: p\n"
	    "concurrency: 1\n", port);
	assert_int_equal(open_yaml(f, yaml), 0);
	m[0] = msg(11, "13800000011", "x");
	m[0].deadline_ms = 1;	/* long past */
	m[1] = msg(12, "13800000012", "y");
	m[2] = msg(13, "bad", "y");
	assert_int_equal(f->ch.ops->send(&f->ch, m, 3), 0);
	/* One poll: 11 expires, 12 goes in flight (concurrency 1). */
	(void)f->ch.ops->poll(&f->ch, now_ms());
	assert_string_equal(report_of(f, 11, CHAN_R_FAILED)->error,
	    "expired before it could be sent");
	f->ch.ops->shutdown(&f->ch);
	f->ch.ops->shutdown(&f->ch);	/* idempotent */
	f->open = 0;
	assert_int_equal(f->nrep, 3);
	assert_string_equal(report_of(f, 12, CHAN_R_RETRY)->error,
	    "shut down");
	assert_non_null(report_of(f, 13, CHAN_R_FAILED));
	(void)close(s);
}

static void
test_send_limits(void **state)
{
	struct fx *f = *state;
	struct chan_msg m[101];
	char yaml[256];
	size_t i;

	(void)snprintf(yaml, sizeof(yaml), "name: sms-main\ntype: kannel\n"
	    "url: http://127.0.0.1:%u/x\nusername: u\npassword: p\n"
	    "dlr: false\n", closed_port());
	assert_int_equal(open_yaml(f, yaml), 0);
	for (i = 0; i < 101; i++)
		m[i] = msg((int64_t)i + 1, "13800000000", "x");
	assert_int_equal(chan_kannel_ops.max_batch, 100);
	assert_int_equal(f->ch.ops->send(&f->ch, m, 101), ENG_EINVAL);
	assert_int_equal(f->ch.ops->send(&f->ch, m, 100), 0);
	/* The queue holds 8 * concurrency (8) * max_recipients (1) = 64,
	 * at least two full batches: 200. */
	assert_int_equal(f->ch.ops->send(&f->ch, m, 100), 0);
	assert_int_equal(f->ch.ops->send(&f->ch, m, 1), ENG_ETEMP);
	f->ch.ops->shutdown(&f->ch);
	f->open = 0;
	assert_int_equal(f->nrep, 200);
	assert_ptr_equal(chan_find("kannel"), &chan_kannel_ops);
}

/* Diagnostics as "file:line: error: path: message", one string each. */
static void
assert_diags(struct fx *f, const char *const *want, size_t n)
{
	char buf[512];
	size_t i;

	for (i = 0; i < f->diags.n && i < n; i++)
		assert_string_equal(diag_format(&f->diags.v[i], buf,
		    sizeof(buf)), want[i]);
	assert_int_equal(f->diags.n, n);
}

static void
test_config_errors(void **state)
{
	struct fx *f = *state;
	static const char yaml[] =
	    "name: sms-main\n"
	    "type: kannel\n"
	    "url: ftp://127.0.0.1/sendsms\n"
	    "username: gong\n"
	    "passwrd: x\n"
	    "concurrency: 0\n"
	    "timeout: 10\n"
	    "from: \"12 379\"\n"
	    "max_recipients: 101\n";
	static const char *const want[] = {
		"kannel.yaml:5: error: passwrd: unknown key 'passwrd' "
		    "(did you mean 'password'?)",
		"kannel.yaml:3: error: url: url must start with http:// or "
		    "https://",
		"kannel.yaml:8: error: from: from must be printable ASCII "
		    "without spaces",
		"kannel.yaml:6: error: concurrency: 0 is out of range (1 to "
		    "256)",
		"kannel.yaml:7: error: timeout: '10' is not a duration (use a "
		    "number and a unit: 500ms, 30s, 5m, 2h, 1d, or groups like "
		    "1h30m)",
		"kannel.yaml:9: error: max_recipients: 101 is out of range (1 "
		    "to 100)",
		"kannel.yaml:1: error: missing required key 'password' (or "
		    "'password_file')",
	};

	assert_int_equal(open_yaml(f, yaml), ENG_EINVAL);
	assert_diags(f, want, sizeof(want) / sizeof(want[0]));
}

static void
test_config_password_file_and_dlr(void **state)
{
	struct fx *f = *state;
	char yaml[512], path[] = "/tmp/gong-kpw-XXXXXX";
	int fd = mkstemp(path);
	static const char *const want[] = {
		"kannel.yaml:4: error: password_file: give password or "
		    "password_file, not both",
		"kannel.yaml:1: error: dlr needs gongd's callback URL (none is "
		    "set for this channel); set dlr: false",
	};

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "s3cret\nignored\n", 15), 15);
	(void)close(fd);
	(void)snprintf(yaml, sizeof(yaml), "name: sms-main\ntype: kannel\n"
	    "url: http://127.0.0.1:1/x\npassword_file: %s\nusername: u\n"
	    "password: p\n", path);
	f->env.callback_base = NULL;
	assert_int_equal(open_yaml(f, yaml), ENG_EINVAL);
	assert_diags(f, want, 2);

	/* Alone, with dlr off: fine. */
	f->ch.ops->shutdown(&f->ch);
	free(f->ch.priv);
	cfg_doc_free(f->doc);
	f->doc = NULL;
	diag_list_release(&f->diags);
	(void)snprintf(yaml, sizeof(yaml), "name: sms-main\ntype: kannel\n"
	    "url: https://sms.example/cgi-bin/sendsms\n"
	    "password_file: %s\nusername: u\ndlr: false\n", path);
	assert_int_equal(open_yaml(f, yaml), 0);
	assert_int_equal(f->diags.n, 0);
	(void)unlink(path);
}

/* ---- hostile inbound, straight into the driver ---- */

struct fake_req {
	const char *kv[16];	/* name, value, name, value, ..., NULL */
};

static const char *
fake_arg(void *ctx, const char *name)
{
	struct fake_req *r = ctx;
	size_t i;

	for (i = 0; r->kv[i] != NULL; i += 2)
		if (strcmp(r->kv[i], name) == 0)
			return r->kv[i + 1];
	return NULL;
}

static int emit_rv;

static int
direct_emit(void *arg, const struct chan_event *ev)
{
	(void)arg;
	if (emit_rv != 0)
		return emit_rv;
	return mhd_emit(NULL, ev);
}

/* Call inbound; returns the HTTP status, *nev the events emitted. */
static int
call_inbound(struct fx *f, const char *method, const char *rest,
    struct fake_req *fr, size_t *nev)
{
	struct chan_http_req req;
	struct chan_http_resp resp;
	size_t n0;
	int rv;

	memset(&req, 0, sizeof(req));
	memset(&resp, 0, sizeof(resp));
	resp.status = 200;
	req.method = method;
	req.rest = rest;
	req.arg = fake_arg;
	req.ctx = fr;
	pthread_mutex_lock(&seen_mu);
	n0 = nseen;
	rv = f->ch.ops->inbound(&f->ch, &req, direct_emit, NULL, &resp);
	*nev = nseen - n0;
	pthread_mutex_unlock(&seen_mu);
	if (resp.status == 503)
		assert_true(rv < 0);
	else
		assert_int_equal(rv, 0);
	return resp.status;
}

static void
test_inbound_receipts(void **state)
{
	struct fx *f = *state;
	struct fake_req r1 = { { "id", "42", "type", "1", "smsc", "abc-1",
	    "ts", "1795679133", "to", "13800000001", NULL } };
	struct fake_req r2 = { { "id", "43", "type", "2", NULL } };
	struct fake_req r16 = { { "id", "44", "type", "16", "smsc", "",
	    NULL } };
	struct fake_req r8 = { { "id", "45", "type", "8", NULL } };
	struct fake_req r4 = { { "id", "45", "type", "4", NULL } };
	struct fake_req rb = { { "id", "7,8,9", "n",
	    "8613800000001,13800000002,13800000003", "type", "1", "to",
	    "+8613800000001", NULL } };
	struct fake_req rb2 = { { "id", "7,8,9", "n",
	    "8613800000001,13800000002,13800000003", "type", "1", "to",
	    "13800000003", NULL } };
	size_t nev;

	open_kannel(f, NULL);
	assert_int_equal(call_inbound(f, "GET", "/dlr", &r1, &nev), 200);
	assert_int_equal(nev, 1);
	assert_int_equal(seen[0].kind, CHAN_EV_RECEIPT);
	assert_int_equal(seen[0].id, 42);
	assert_int_equal(seen[0].result, CHAN_R_DELIVERED);
	assert_string_equal(seen[0].gateway_id, "abc-1");
	assert_int_equal(call_inbound(f, "GET", "/dlr", &r2, &nev), 200);
	assert_int_equal(seen[1].id, 43);
	assert_int_equal(seen[1].result, CHAN_R_FAILED);
	assert_int_equal(call_inbound(f, "GET", "/dlr", &r16, &nev), 200);
	assert_int_equal(seen[2].id, 44);
	assert_int_equal(seen[2].result, CHAN_R_FAILED);
	assert_string_equal(seen[2].gateway_id, "");
	assert_int_equal(call_inbound(f, "GET", "/dlr", &r8, &nev), 200);
	assert_int_equal(nev, 0);
	assert_int_equal(call_inbound(f, "GET", "/dlr", &r4, &nev), 200);
	assert_int_equal(nev, 0);
	assert_int_equal(call_inbound(f, "GET", "/dlr", &rb, &nev), 200);
	assert_int_equal(seen[3].id, 7);
	assert_int_equal(call_inbound(f, "GET", "dlr", &rb2, &nev), 200);
	assert_int_equal(seen[4].id, 9);
	/* The engine could not take it: 503, so that it is not lost. */
	emit_rv = ENG_EIO;
	assert_int_equal(call_inbound(f, "GET", "/dlr", &r1, &nev), 503);
	emit_rv = 0;
}

static void
test_inbound_hostile(void **state)
{
	struct fx *f = *state;
	static char longid[4000], longtext[1700], many_ids[4000],
	    many_n[4000];
	static const struct {
		const char *method, *rest;
		const char *kv[12];
		int status;
	} c[] = {
		{ "GET", "/dlr", { "type", "1", NULL }, 400 },
		{ "GET", "/dlr", { "id", "", "type", "1", NULL }, 400 },
		{ "GET", "/dlr", { "id", "abc", "type", "1", NULL }, 400 },
		{ "GET", "/dlr", { "id", "-5", "type", "1", NULL }, 400 },
		{ "GET", "/dlr", { "id", "0", "type", "1", NULL }, 400 },
		{ "GET", "/dlr", { "id", "12 ", "type", "1", NULL }, 400 },
		{ "GET", "/dlr", { "id", "9999999999999999999", "type", "1",
		    NULL }, 400 },
		{ "GET", "/dlr", { "id", "1", NULL }, 400 },
		{ "GET", "/dlr", { "id", "1", "type", "3", NULL }, 400 },
		{ "GET", "/dlr", { "id", "1", "type", "01x", NULL }, 400 },
		{ "GET", "/dlr", { "id", "1", "type", "", NULL }, 400 },
		{ "GET", "/dlr", { "id", "1", "type", "100", NULL }, 400 },
		{ "GET", "/dlr", { "id", "1", "type", "1", "to", "x<", NULL },
		    400 },
		{ "GET", "/dlr", { "id", "1", "type", "1", "smsc", "a b",
		    NULL }, 400 },
		{ "GET", "/dlr", { "id", "1", "type", "1", "ts", "-1", NULL },
		    400 },
		{ "GET", "/dlr", { "id", "1,2", "type", "1", "to",
		    "13800000001", NULL }, 400 },
		{ "GET", "/dlr", { "id", "1,2", "n", "13800000001", "type",
		    "1", "to", "13800000001", NULL }, 400 },
		{ "GET", "/dlr", { "id", "1,2", "n", "1,2", "type", "1", "to",
		    "13800000001", NULL }, 400 },
		{ "GET", "/dlr", { "id", "1,,2", "n", "1,2,3", "type", "1",
		    "to", "13800000001", NULL }, 400 },
		{ "GET", "/dlr", { "id", "1", "n", "1", "type", "1", NULL },
		    400 },
		{ "GET", "/mo", { "text", "收到", NULL }, 400 },
		{ "GET", "/mo", { "from", "alice", "text", "收到", NULL },
		    400 },
		{ "GET", "/mo", { "from", "13900000009", NULL }, 400 },
		{ "GET", "/mo", { "from", "13900000009", "text", "\xe6\x94",
		    NULL }, 400 },
		{ "GET", "/mo", { "from", "13900000009", "text", "a\x01",
		    NULL }, 400 },
		{ "GET", "/mo", { "from", "13900000009", "text", "ok", "to",
		    "12 379", NULL }, 400 },
		{ "POST", "/mo", { "from", "13900000009", "text", "ok", NULL },
		    405 },
		{ "GET", "/", { NULL }, 404 },
		{ "GET", "", { NULL }, 404 },
		{ "GET", "/dlr/x", { NULL }, 404 },
		{ "GET", "/../dlr", { NULL }, 404 },
	};
	struct fake_req fr;
	size_t i, nev;

	open_kannel(f, NULL);
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		memset(&fr, 0, sizeof(fr));
		memcpy(fr.kv, c[i].kv, sizeof(c[i].kv));
		assert_int_equal(call_inbound(f, c[i].method, c[i].rest, &fr,
		    &nev), c[i].status);
		assert_int_equal(nev, 0);
	}
	/* Oversized values. */
	memset(longid, '1', sizeof(longid) - 1);
	memset(longtext, 'a', sizeof(longtext) - 1);
	for (i = 0; i < 101; i++) {
		(void)snprintf(many_ids + strlen(many_ids),
		    sizeof(many_ids) - strlen(many_ids), "%s%zu",
		    i ? "," : "", i + 1);
		(void)snprintf(many_n + strlen(many_n),
		    sizeof(many_n) - strlen(many_n), "%s%zu",
		    i ? "," : "", 13800000000 + i);
	}
	{
		struct fake_req a = { { "id", longid, "type", "1", NULL } };
		struct fake_req b = { { "from", "13900000009", "text",
		    longtext, NULL } };
		struct fake_req d = { { "id", many_ids, "n", many_n, "type",
		    "1", "to", "13800000100", NULL } };

		assert_int_equal(call_inbound(f, "GET", "/dlr", &a, &nev),
		    400);
		assert_int_equal(call_inbound(f, "GET", "/mo", &b, &nev),
		    400);
		assert_int_equal(call_inbound(f, "GET", "/dlr", &d, &nev),
		    400);
		assert_int_equal(nev, 0);
	}
	{
		struct fake_req ok = { { "from", "13900000009", "text",
		    "收到\n", "to", "12379", NULL } };

		assert_int_equal(call_inbound(f, "HEAD", "/mo", &ok, &nev),
		    405);
		assert_int_equal(nev, 0);
		assert_int_equal(call_inbound(f, "GET", "/mo", &ok, &nev),
		    200);
		assert_int_equal(nev, 1);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_config_errors, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_config_password_file_and_dlr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inbound_receipts, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_inbound_hostile, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_bad_numbers_and_text_failed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expired_and_shutdown,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_limits, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_request_parameters,
		    gw_setup, gw_teardown),
		cmocka_unit_test_setup_teardown(test_gateway_answers,
		    gw_setup, gw_teardown),
		cmocka_unit_test_setup_teardown(test_concurrency_bound,
		    gw_setup, gw_teardown),
		cmocka_unit_test_setup_teardown(test_gateway_down_retry, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_silent_gateway_timeout_retry, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_red_warning_three_numbers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_text_concatenated,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_ascii_text_gsm7, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_receipts_delivered, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_batch_receipts_map_to_each_delivery, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_password_failed,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_mo_reply, setup,
		    teardown),
	};

	return cmocka_run_group_tests_name("chan_kannel", tests, group_setup,
	    group_teardown);
}
