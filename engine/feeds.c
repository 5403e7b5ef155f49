/*
 * engine/feeds.c - the feed thread: drop folders and Atom/RSS polls of
 * every configured feed, with one struct ingest.
 */
#include "engine/feeds.h"
#include "engine/feeds_int.h"
#include "engine/clock.h"
#include "engine/ingest.h"
#include "engine/log.h"
#include "config/cfg.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <curl/curl.h>
#include <libxml/parser.h>

#define TICK_MS 200

struct feeds {
	struct feed *v;
	size_t n;
	struct ingest *ig;
	pthread_t th;
	int running;
	int curl_inited;
	atomic_int stop;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int sync_inited;
};

static char *
xstrdup(const char *s, int *nomem)
{
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		*nomem = 1;
	return d;
}

static void
feed_release(struct feed *f)
{
	feed_poll_release(f);
	free(f->name);
	free(f->trusted_cert);
	free(f->regions);
	free(f->drop_dir);
	free(f->poll_url);
	free(f->state_path);
}

static int
feed_from_cfg(struct feed *f, const struct cfg_feed *cf,
    const char *state_dir, struct eng_errbuf *eb)
{
	char path[4200];
	int nomem = 0;

	memset(f, 0, sizeof(*f));
	feed_state_init(&f->st, 0);
	f->name = xstrdup(cf->name, &nomem);
	f->trusted_cert = xstrdup(cf->trusted_cert, &nomem);
	f->drop_dir = xstrdup(cf->drop_dir, &nomem);
	f->poll_url = xstrdup(cf->poll_url, &nomem);
	if (cf->nregions > 0) {
		if ((f->regions = calloc(cf->nregions,
		    sizeof(*f->regions))) == NULL)
			nomem = 1;
		else
			memcpy(f->regions, cf->regions,
			    cf->nregions * sizeof(*f->regions));
	}
	if (nomem)
		return eng_error(eb, ENG_ENOMEM, "out of memory");
	f->max_bytes = cf->max_bytes > 0 ? (size_t)cf->max_bytes :
	    1024 * 1024;
	f->interval_ms = cf->poll_interval_ms > 0 ? cf->poll_interval_ms :
	    60000;
	f->timeout_ms = cf->poll_timeout_ms > 0 ? cf->poll_timeout_ms :
	    30000;
	f->src.name = f->name;
	f->src.via = f->drop_dir != NULL ? "drop" : "poll";
	f->src.lenient = cf->lenient;
	f->src.cn_profile = cf->cn_profile;
	f->src.require_signature = cf->require_signature;
	f->src.trusted_cert = f->trusted_cert;
	f->src.max_bytes = f->max_bytes;
	f->src.regions = (const char (*)[REGION_CODE_SIZE])f->regions;
	f->src.nregions = cf->nregions;
	if (f->poll_url != NULL) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s.state",
		    state_dir, f->name) >= sizeof(path))
			return eng_error(eb, ENG_EINVAL, "data_dir too long");
		if ((f->state_path = strdup(path)) == NULL)
			return eng_error(eb, ENG_ENOMEM, "out of memory");
	}
	return 0;
}

static void
load_state(struct feed *f)
{
	struct eng_errbuf eb;
	int rv;

	eng_errbuf_init(&eb);
	rv = feed_state_load(f->state_path, &f->st, &eb);
	if (rv == 0)
		log_info("feed.state.loaded", "feed=%s entries=%zu etag=%d",
		    f->name, f->st.n, f->st.etag != NULL);
	else if (rv != ENG_ENOENT)
		log_warn("feed.state.unreadable", "feed=%s msg=\"%s; every "
		    "entry of the index will be fetched again (duplicates are "
		    "recognised)\"", f->name, eb.msg);
}

static void
wait_ms(struct feeds *fs, int64_t ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	eng_deadline(CLOCK_MONOTONIC, ms, &ts);
	(void)pthread_mutex_lock(&fs->mu);
	if (!atomic_load(&fs->stop))
		(void)pthread_cond_timedwait(&fs->cv, &fs->mu, &ts);
	(void)pthread_mutex_unlock(&fs->mu);
}

static void *
run(void *arg)
{
	struct feeds *fs = arg;
	struct feed *f;
	int64_t now, next, t;
	size_t i;

	while (!atomic_load(&fs->stop)) {
		now = eng_mono_ms();
		next = now + TICK_MS;
		for (i = 0; i < fs->n && !atomic_load(&fs->stop); i++) {
			f = &fs->v[i];
			if (f->drop_dir == NULL || now < f->next_scan_ms)
				continue;
			/* Moved some: look again at once (a batch). */
			if (feed_drop_scan(f, fs->ig, &fs->stop) > 0)
				f->next_scan_ms = now;
			else
				f->next_scan_ms = now + FEED_SCAN_MS;
		}
		for (i = 0; i < fs->n && !atomic_load(&fs->stop); i++) {
			f = &fs->v[i];
			if (f->poll_url == NULL)
				continue;
			feed_poll_step(f, fs->ig, eng_mono_ms(), &fs->stop);
		}
		for (i = 0; i < fs->n; i++) {
			f = &fs->v[i];
			if (f->drop_dir != NULL && f->next_scan_ms < next)
				next = f->next_scan_ms;
			if (f->poll_url != NULL &&
			    (t = feed_poll_next_ms(f)) < next)
				next = t;
		}
		wait_ms(fs, next - eng_mono_ms());
	}
	for (i = 0; i < fs->n; i++)
		if (fs->v[i].poll_url != NULL)
			feed_poll_save(&fs->v[i]);
	return NULL;
}

static int
make_dir(const char *path, struct eng_errbuf *eb)
{
	struct stat sb;

	if (mkdir(path, 0750) != 0 && errno != EEXIST)
		return eng_error(eb, ENG_EIO, "cannot create %s: %s", path,
		    strerror(errno));
	if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode))
		return eng_error(eb, ENG_EIO, "%s is not a directory", path);
	return 0;
}

static void
feeds_free(struct feeds *fs)
{
	size_t i;

	for (i = 0; i < fs->n; i++)
		feed_release(&fs->v[i]);
	free(fs->v);
	ingest_free(fs->ig);
	if (fs->sync_inited) {
		(void)pthread_cond_destroy(&fs->cv);
		(void)pthread_mutex_destroy(&fs->mu);
	}
	if (fs->curl_inited)
		curl_global_cleanup();
	free(fs);
}

int
feeds_start(const struct cfg *cfg, const struct ingest_config *ic,
    struct feeds **out, struct eng_errbuf *eb)
{
	struct feeds *fs;
	pthread_condattr_t ca;
	char state_dir[4096];
	size_t i, n = 0;
	int rv = 0, npoll = 0;

	*out = NULL;
	if ((fs = calloc(1, sizeof(*fs))) == NULL)
		return eng_error(eb, ENG_ENOMEM, "out of memory");
	atomic_init(&fs->stop, 0);
	for (i = 0; i < cfg->nfeeds; i++)
		if (cfg->feeds[i].drop_dir != NULL ||
		    cfg->feeds[i].poll_url != NULL)
			n++;
	if (n == 0) {
		*out = fs;
		return 0;
	}
	if ((size_t)snprintf(state_dir, sizeof(state_dir), "%s/feeds",
	    cfg->data_dir) >= sizeof(state_dir)) {
		rv = eng_error(eb, ENG_EINVAL, "data_dir too long");
		goto fail;
	}
	if ((fs->v = calloc(n, sizeof(*fs->v))) == NULL) {
		rv = eng_error(eb, ENG_ENOMEM, "out of memory");
		goto fail;
	}
	for (i = 0; i < cfg->nfeeds; i++) {
		const struct cfg_feed *cf = &cfg->feeds[i];
		struct feed *f;

		if (cf->drop_dir == NULL && cf->poll_url == NULL)
			continue;
		f = &fs->v[fs->n++];
		if ((rv = feed_from_cfg(f, cf, state_dir, eb)) != 0)
			goto fail;
		if (f->drop_dir != NULL &&
		    (rv = feed_drop_prepare(f, eb)) != 0)
			goto fail;
		if (f->poll_url != NULL)
			npoll++;
	}
	if (npoll > 0) {
		if ((rv = make_dir(state_dir, eb)) != 0)
			goto fail;
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			rv = eng_error(eb, ENG_EIO, "libcurl failed to start");
			goto fail;
		}
		fs->curl_inited = 1;
		xmlInitParser();
		for (i = 0; i < fs->n; i++)
			if (fs->v[i].poll_url != NULL)
				load_state(&fs->v[i]);
	}
	if ((rv = ingest_new(ic, &fs->ig, eb)) != 0)
		goto fail;
	if (pthread_condattr_init(&ca) != 0) {
		rv = eng_error(eb, ENG_ENOMEM, "out of memory");
		goto fail;
	}
	(void)pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (pthread_mutex_init(&fs->mu, NULL) != 0 ||
	    pthread_cond_init(&fs->cv, &ca) != 0) {
		(void)pthread_condattr_destroy(&ca);
		rv = eng_error(eb, ENG_ENOMEM, "cannot make a condition");
		goto fail;
	}
	(void)pthread_condattr_destroy(&ca);
	fs->sync_inited = 1;
	if (pthread_create(&fs->th, NULL, run, fs) != 0) {
		rv = eng_error(eb, ENG_ENOMEM, "cannot start the feed thread");
		goto fail;
	}
	fs->running = 1;
	for (i = 0; i < fs->n; i++)
		log_info("feed.start", "feed=%s drop_dir=%s poll_url=%s "
		    "interval_ms=%lld", fs->v[i].name,
		    fs->v[i].drop_dir ? fs->v[i].drop_dir : "-",
		    fs->v[i].poll_url ? fs->v[i].poll_url : "-",
		    (long long)fs->v[i].interval_ms);
	*out = fs;
	return 0;
fail:
	feeds_free(fs);
	return rv;
}

void
feeds_stop(struct feeds *fs)
{
	if (fs == NULL)
		return;
	if (fs->running) {
		(void)pthread_mutex_lock(&fs->mu);
		atomic_store(&fs->stop, 1);
		(void)pthread_cond_signal(&fs->cv);
		(void)pthread_mutex_unlock(&fs->mu);
		(void)pthread_join(fs->th, NULL);
		log_info("feed.stop", "feeds=%zu", fs->n);
	}
	feeds_free(fs);
}

unsigned
feeds_count(const struct feeds *fs)
{
	return fs != NULL && fs->running ? (unsigned)fs->n : 0;
}
