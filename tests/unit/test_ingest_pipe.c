/*
 * tests/unit/test_ingest_pipe.c - CAP ingest on two threads
 * (engine/ingest_pipe.h) against ingest_cap on one: every sample of
 * ../shared/cap-samples stored through the pipe gives the results,
 * diagnostics, chains and stored bytes ingest_cap gives; duplicates stay
 * duplicates; the chain Alert -> Update -> Cancel of the Changzhi
 * rainstorm, sent in any order; the pipe's limits (full, empty, freed
 * with messages in it); and the drop folder (engine/feed_drop.c), which
 * parses on the pipe's thread, on a real store.  Also the warnings
 * stored with an alert: the same JSON text jansson made of them before
 * ingest wrote it itself.
 *
 * GONG_SHARED (default ../shared) locates cap-samples/; the demo regions
 * come from config/demo/regions.csv (run from the repository root).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>

#include "cap/cap.h"
#include "engine/clock.h"
#include "engine/feeds_int.h"
#include "engine/ingest.h"
#include "engine/ingest_pipe.h"
#include "engine/log.h"
#include "engine/roster.h"
#include "engine/store.h"

#define ROOT		"140400000000"
#define MAX_DOCS	128
#define CZ		"cn-changzhi__rainstorm-"
/* 2026-07-15T12:00:00+08:00: the Changzhi rainstorm warnings in force */
#define NOW_MS		1784088000000LL

struct doc {
	char name[160];
	char *buf;
	size_t len;
};

/* Two stores with the demo regions: a for ingest_cap, b for the pipe. */
struct fx {
	char dir[64];
	int made;		/* dir was made: remove it */
	char db_a[128], db_b[128];
	struct ingest *a, *b;
	struct doc docs[MAX_DOCS];
	size_t ndocs;
	char drop[128];
	struct feed f;
	atomic_int stop;
};

static const struct ingest_source src = {
	.name = "test", .via = "cli", .lenient = 1, .cn_profile = 1,
};

static const char *
shared(void)
{
	const char *s = getenv("GONG_SHARED");

	return s != NULL && *s != '\0' ? s : "../shared";
}

static int
read_file(const char *path, char **buf, size_t *len)
{
	struct stat sb;
	FILE *fp;
	char *b;

	if ((fp = fopen(path, "rb")) == NULL)
		return -1;
	if (fstat(fileno(fp), &sb) != 0 || (b = malloc((size_t)sb.st_size +
	    1)) == NULL) {
		(void)fclose(fp);
		return -1;
	}
	if (fread(b, 1, (size_t)sb.st_size, fp) != (size_t)sb.st_size) {
		free(b);
		(void)fclose(fp);
		return -1;
	}
	(void)fclose(fp);
	b[sb.st_size] = '\0';
	*buf = b;
	*len = (size_t)sb.st_size;
	return 0;
}

static int
by_name(const void *x, const void *y)
{
	return strcmp(((const struct doc *)x)->name,
	    ((const struct doc *)y)->name);
}

/* The valid samples, sorted by name. */
static int
load_samples(struct fx *x)
{
	char dir[512], path[1024];
	struct dirent *de;
	DIR *d;

	(void)snprintf(dir, sizeof(dir), "%s/cap-samples/valid", shared());
	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL && x->ndocs < MAX_DOCS) {
		struct doc *o = &x->docs[x->ndocs];

		size_t nl = strlen(de->d_name);

		if (de->d_name[0] == '.' || nl >= sizeof(o->name))
			continue;
		(void)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (read_file(path, &o->buf, &o->len) != 0)
			continue;
		memcpy(o->name, de->d_name, nl + 1);
		x->ndocs++;
	}
	(void)closedir(d);
	qsort(x->docs, x->ndocs, sizeof(x->docs[0]), by_name);
	return x->ndocs > 0 ? 0 : -1;
}

static const struct doc *
doc_named(struct fx *x, const char *name)
{
	size_t i;

	for (i = 0; i < x->ndocs; i++)
		if (strcmp(x->docs[i].name, name) == 0)
			return &x->docs[i];
	fail_msg("no sample %s", name);
	return NULL;
}

static int64_t
fixed_now(void *arg)
{
	(void)arg;
	return NOW_MS;
}

static const struct eng_clock fixed_clock = { fixed_now, NULL };

static int
new_store(const char *db, const struct roster *r, struct ingest **ig)
{
	static const char *const vnames[] = { "GB/T 2260", NULL };
	struct ingest_config cfg = {
		.root = ROOT, .language = "zh-CN",
		.unknown_colour = CAP_COLOR_NONE,
		.division_value_names = vnames, .clock = &fixed_clock,
	};
	struct store_import_result res;
	struct diag_list dl;
	struct eng_errbuf eb;
	struct store *s = NULL;
	int rv;

	eng_errbuf_init(&eb);
	diag_list_init(&dl);
	if ((rv = store_open(db, 0, &s, &eb)) == 0) {
		store_set_root(s, ROOT);
		rv = store_import(s, r, 0, &res, &dl, &eb);
	}
	store_close(s);
	diag_list_release(&dl);
	cfg.db_path = db;
	if (rv == 0)
		rv = ingest_new(&cfg, ig, &eb);
	if (rv != 0)
		fprintf(stderr, "store %s: %s\n", db, eb.msg);
	return rv;
}

static int
teardown(void **state)
{
	struct fx *x = *state;
	char cmd[200];
	size_t i;
	int rv = 0;

	ingest_free(x->a);
	ingest_free(x->b);
	for (i = 0; i < x->ndocs; i++)
		free(x->docs[i].buf);
	free(x->f.drop_dir);
	if (x->made) {
		(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", x->dir);
		if (system(cmd) != 0)
			rv = -1;
	}
	free(x);
	return rv;
}

static int
setup(void **state)
{
	struct fx *x = calloc(1, sizeof(*x));
	struct roster r;
	struct diag_list dl;
	int rv = -1;

	if (x == NULL)
		return -1;
	*state = x;
	atomic_init(&x->stop, 0);
	roster_init(&r);
	diag_list_init(&dl);
	(void)snprintf(x->dir, sizeof(x->dir), "/tmp/gong-test-pipe-XXXXXX");
	if (mkdtemp(x->dir) == NULL)
		goto out;
	x->made = 1;
	if (load_samples(x) != 0)
		goto out;
	(void)snprintf(x->db_a, sizeof(x->db_a), "%s/a.db", x->dir);
	(void)snprintf(x->db_b, sizeof(x->db_b), "%s/b.db", x->dir);
	if (roster_parse_file(ROSTER_REGIONS, "config/demo/regions.csv",
	    ROSTER_ENC_AUTO, &r, &dl) != 0)
		goto out;
	if (new_store(x->db_a, &r, &x->a) != 0 ||
	    new_store(x->db_b, &r, &x->b) != 0)
		goto out;
	rv = 0;
out:
	roster_release(&r);
	diag_list_release(&dl);
	if (rv != 0) {
		fprintf(stderr, "setup failed (samples in %s/cap-samples, "
		    "regions in config/demo)\n", shared());
		(void)teardown(state);
	}
	return rv;
}

/* One outcome, to compare. */
struct outcome {
	int rv;
	struct ingest_result res;
	struct diag_list dl;
	struct eng_errbuf eb;
};

static void
same_outcome(const char *name, const struct outcome *p,
    const struct outcome *q)
{
	size_t i;

	if (p->rv != q->rv)
		fail_msg("%s: rv %d vs %d", name, p->rv, q->rv);
	assert_string_equal(p->eb.msg, q->eb.msg);
	assert_int_equal(p->res.alert_id, q->res.alert_id);
	assert_int_equal(p->res.duplicate, q->res.duplicate);
	assert_int_equal(p->res.state, q->res.state);
	assert_int_equal(p->res.broadcast, q->res.broadcast);
	assert_int_equal(p->res.chain_id, q->res.chain_id);
	assert_int_equal(p->res.nregions, q->res.nregions);
	assert_int_equal(p->res.area_unmatched, q->res.area_unmatched);
	assert_int_equal(p->res.unknown_refs, q->res.unknown_refs);
	assert_int_equal(p->res.colour, q->res.colour);
	if (p->dl.n != q->dl.n)
		fail_msg("%s: %zu vs %zu diagnostics", name, p->dl.n, q->dl.n);
	for (i = 0; i < p->dl.n; i++) {
		assert_int_equal(p->dl.v[i].sev, q->dl.v[i].sev);
		assert_int_equal(p->dl.v[i].line, q->dl.v[i].line);
		assert_string_equal(p->dl.v[i].msg, q->dl.v[i].msg);
		if (p->dl.v[i].path != NULL || q->dl.v[i].path != NULL)
			assert_string_equal(p->dl.v[i].path, q->dl.v[i].path);
	}
}

/* Every sample in commits of batch: ingest_cap into a, the pipe (depth)
 * into b; the outcomes equal. */
static void
both_ways(struct fx *x, size_t batch, size_t depth, int expect_dup)
{
	struct outcome *oa, *ob;
	struct ingest_pipe *p = NULL;
	struct eng_errbuf eb;
	size_t i, put = 0, taken = 0, ndup = 0;
	void *tag;

	oa = calloc(x->ndocs, sizeof(*oa));
	ob = calloc(x->ndocs, sizeof(*ob));
	assert_non_null(oa);
	assert_non_null(ob);
	for (i = 0; i < x->ndocs; i++) {
		diag_list_init(&oa[i].dl);
		diag_list_init(&ob[i].dl);
		eng_errbuf_init(&oa[i].eb);
		eng_errbuf_init(&ob[i].eb);
	}
	eng_errbuf_init(&eb);
	for (i = 0; i < x->ndocs; i++) {
		if (i % batch == 0)
			assert_int_equal(ingest_batch_begin(x->a, &eb), 0);
		oa[i].rv = ingest_cap(x->a, &src, x->docs[i].buf,
		    x->docs[i].len, &oa[i].res, &oa[i].dl, &oa[i].eb);
		if (i % batch == batch - 1 || i + 1 == x->ndocs)
			assert_int_equal(ingest_batch_end(x->a, 1, &eb), 0);
	}
	assert_int_equal(ingest_pipe_new(x->b, depth, &p, &eb), 0);
	while (taken < x->ndocs) {
		while (put < x->ndocs && ingest_pipe_queued(p) < depth) {
			assert_int_equal(ingest_pipe_put(p, &src,
			    x->docs[put].buf, x->docs[put].len, &ob[put].dl,
			    &ob[put]), 0);
			put++;
		}
		if (taken % batch == 0)
			assert_int_equal(ingest_batch_begin(x->b, &eb), 0);
		ob[taken].rv = ingest_pipe_take(p, &ob[taken].res, &tag,
		    &ob[taken].eb);
		assert_ptr_equal(tag, &ob[taken]);
		if (taken % batch == batch - 1 || taken + 1 == x->ndocs)
			assert_int_equal(ingest_batch_end(x->b, 1, &eb), 0);
		taken++;
	}
	assert_int_equal(ingest_pipe_queued(p), 0);
	ingest_pipe_free(p);
	for (i = 0; i < x->ndocs; i++) {
		same_outcome(x->docs[i].name, &oa[i], &ob[i]);
		if (oa[i].rv != 0)
			fail_msg("%s: %s", x->docs[i].name, oa[i].eb.msg);
		ndup += (size_t)oa[i].res.duplicate;
		diag_list_release(&oa[i].dl);
		diag_list_release(&ob[i].dl);
	}
	if (expect_dup)
		assert_int_equal(ndup, x->ndocs);
	else
		assert_true(ndup < x->ndocs);
	free(oa);
	free(ob);
}

static int
cap_cb(void *arg, const struct store_alert *a)
{
	const struct doc *d = arg;

	assert_int_equal(a->cap_len, d->len);
	assert_memory_equal(a->cap, d->buf, d->len);
	return 0;
}

static void
t_samples_as_ingest_cap(void **state)
{
	struct fx *x = *state;
	const struct doc *big;
	struct ingest_result res;
	struct diag_list dl;
	struct eng_errbuf eb;
	struct ingest_pipe *p;
	struct store *s;
	void *tag;

	both_ways(x, 32, 8, 0);
	/* Again, in other batches and a shallower pipe: all duplicates. */
	both_ways(x, 7, 1, 1);

	/* The biggest sample (embedded files) is kept byte for byte. */
	big = doc_named(x, "ca-pelmorex-naads__naads-sample3-capcp-with-"
	    "multiple-embedded-files.xml");
	assert_true(big->len > 500000);
	{
		/* Its id: the pipe answers a duplicate with it. */
		eng_errbuf_init(&eb);
		diag_list_init(&dl);
		assert_int_equal(ingest_pipe_new(x->b, 2, &p, &eb), 0);
		assert_int_equal(ingest_pipe_put(p, &src, big->buf, big->len,
		    &dl, NULL), 0);
		assert_int_equal(ingest_pipe_take(p, &res, &tag, &eb), 0);
		assert_true(res.duplicate);
		assert_true(res.alert_id > 0);
		ingest_pipe_free(p);
		diag_list_release(&dl);
	}
	assert_int_equal(store_open(x->db_b, STORE_READONLY, &s, &eb), 0);
	assert_int_equal(store_alert_get(s, res.alert_id, cap_cb,
	    (void *)big, &eb), 0);
	store_close(s);
}

/* The chain's members in order: states and ids. */
struct chain_seen {
	char states[3][16];
	long long ids[3];
	long long chain;
	int n;
};

static int
chain_cb(void *arg, const struct store_alert *a)
{
	struct chain_seen *c = arg;

	assert_true(c->n < 3);
	(void)snprintf(c->states[c->n], sizeof(c->states[0]), "%s",
	    a->state);
	c->ids[c->n] = a->id;
	assert_int_equal(a->chain_id, c->chain);
	c->n++;
	return 0;
}

/* The three Changzhi rainstorm messages in the order of names, in one
 * batch: with ingest_cap into ig a (db_a), through the pipe into b;
 * the chain read back from each. */
static void
chain_both(struct fx *x, const char *const names[3], struct chain_seen *ca,
    struct chain_seen *cb)
{
	struct ingest_result ra[3], rb[3];
	struct diag_list da[3], db[3];
	struct eng_errbuf eb;
	struct ingest_pipe *p;
	struct store *s;
	void *tag;
	int i;

	eng_errbuf_init(&eb);
	assert_int_equal(ingest_pipe_new(x->b, 3, &p, &eb), 0);
	assert_int_equal(ingest_batch_begin(x->a, &eb), 0);
	for (i = 0; i < 3; i++) {
		const struct doc *d = doc_named(x, names[i]);

		diag_list_init(&da[i]);
		diag_list_init(&db[i]);
		assert_int_equal(ingest_cap(x->a, &src, d->buf, d->len, &ra[i],
		    &da[i], &eb), 0);
		assert_int_equal(ingest_pipe_put(p, &src, d->buf, d->len,
		    &db[i], NULL), 0);
	}
	assert_int_equal(ingest_batch_end(x->a, 1, &eb), 0);
	assert_int_equal(ingest_batch_begin(x->b, &eb), 0);
	for (i = 0; i < 3; i++) {
		assert_int_equal(ingest_pipe_take(p, &rb[i], &tag, &eb), 0);
		assert_false(rb[i].duplicate);
		assert_int_equal(rb[i].alert_id, ra[i].alert_id);
		assert_int_equal(rb[i].chain_id, ra[i].chain_id);
		assert_int_equal(rb[i].state, ra[i].state);
		assert_int_equal(rb[i].unknown_refs, ra[i].unknown_refs);
		assert_int_equal(db[i].nwarnings, da[i].nwarnings);
	}
	assert_int_equal(ingest_batch_end(x->b, 1, &eb), 0);
	ingest_pipe_free(p);
	for (i = 0; i < 3; i++) {
		diag_list_release(&da[i]);
		diag_list_release(&db[i]);
	}
	memset(ca, 0, sizeof(*ca));
	memset(cb, 0, sizeof(*cb));
	ca->chain = ra[2].chain_id;
	cb->chain = rb[2].chain_id;
	assert_int_equal(store_open(x->db_a, STORE_READONLY, &s, &eb), 0);
	assert_int_equal(store_alert_chain(s, ca->chain, chain_cb, ca, &eb),
	    0);
	store_close(s);
	assert_int_equal(store_open(x->db_b, STORE_READONLY, &s, &eb), 0);
	assert_int_equal(store_alert_chain(s, cb->chain, chain_cb, cb, &eb),
	    0);
	store_close(s);
	assert_int_equal(ca->n, 3);
	assert_int_equal(cb->n, 3);
	for (i = 0; i < 3; i++) {
		assert_int_equal(ca->ids[i], cb->ids[i]);
		assert_string_equal(ca->states[i], cb->states[i]);
	}
}

static void
t_chain(void **state)
{
	static const char *const in_order[3] = {
		CZ "orange-alert.xml", CZ "red-update.xml", CZ "cancel.xml",
	};
	struct fx *x = *state;
	struct chain_seen ca, cb;

	/* In order: the Update supersedes the Alert, the Cancel withdraws
	 * the Update; a chain of three (by sent time). */
	chain_both(x, in_order, &ca, &cb);
	assert_int_equal(cb.chain, cb.ids[0]);
	assert_string_equal(cb.states[0], "superseded");
	assert_string_equal(cb.states[1], "cancelled");
	assert_string_equal(cb.states[2], "active");
}

static void
t_chain_cancel_first(void **state)
{
	static const char *const cancel_first[3] = {
		CZ "cancel.xml", CZ "orange-alert.xml", CZ "red-update.xml",
	};
	struct fx *x = *state;
	struct chain_seen ca, cb;

	/* The Cancel overtook both: they arrive withdrawn, one chain.  (The
	 * Cancel's own state is what ingest_cap makes of it, checked equal
	 * in chain_both, not asserted here: the Update arriving last takes
	 * over from it as from any message of its chain still active.) */
	chain_both(x, cancel_first, &ca, &cb);
	/* The Cancel came first: its id is the chain's. */
	assert_int_equal(cb.chain, cb.ids[2]);
	assert_string_equal(cb.states[0], "cancelled");
	assert_string_equal(cb.states[1], "cancelled");
}

static void
t_limits(void **state)
{
	struct fx *x = *state;
	const struct doc *d = &x->docs[0], *e = &x->docs[1];
	struct ingest_result res;
	struct diag_list dl[3];
	struct eng_errbuf eb;
	struct ingest_pipe *p = NULL;
	long long id;
	void *tag = &id;
	int i;

	eng_errbuf_init(&eb);
	assert_int_equal(ingest_pipe_new(x->b, 0, &p, &eb), ENG_EINVAL);
	assert_null(p);
	assert_string_equal(eb.msg, "ingest pipe: depth 0 is not 1 to 64");
	assert_int_equal(ingest_pipe_new(x->b, INGEST_PIPE_MAX_DEPTH + 1, &p,
	    &eb), ENG_EINVAL);
	assert_int_equal(ingest_pipe_new(NULL, 4, &p, &eb), ENG_EINVAL);
	ingest_pipe_free(NULL);

	assert_int_equal(ingest_pipe_new(x->b, 2, &p, &eb), 0);
	assert_int_equal(ingest_pipe_take(p, &res, &tag, &eb), ENG_ENOENT);
	assert_null(tag);
	for (i = 0; i < 3; i++)
		diag_list_init(&dl[i]);
	assert_int_equal(ingest_pipe_put(p, &src, d->buf, d->len, &dl[0],
	    NULL), 0);
	assert_int_equal(ingest_pipe_put(p, &src, e->buf, e->len, &dl[1],
	    NULL), 0);
	assert_int_equal(ingest_pipe_put(p, &src, d->buf, d->len, &dl[2],
	    NULL), ENG_EBUSY);
	assert_int_equal(ingest_pipe_queued(p), 2);
	/* Freed with both in it (parsed or not): neither is stored. */
	ingest_pipe_free(p);
	for (i = 0; i < 3; i++)
		diag_list_release(&dl[i]);
	diag_list_init(&dl[0]);
	assert_int_equal(ingest_cap(x->b, &src, d->buf, d->len, &res, &dl[0],
	    &eb), 0);
	assert_false(res.duplicate);
	diag_list_release(&dl[0]);
}

/* A broken message: the same verdict and errors either way. */
static void
t_invalid(void **state)
{
	static const char *const bad[] = {
		"not xml at all",
		"<?xml version=\"1.0\"?><alert xmlns=\"urn:oasis:names:tc:"
		    "emergency:cap:1.2\"><identifier>a b</identifier></alert>",
		"<?xml version=\"1.0\"?>\n<!DOCTYPE alert [<!ENTITY x SYSTEM "
		    "\"file:///etc/passwd\">]>\n<alert>&x;</alert>",
	};
	struct fx *x = *state;
	struct outcome oa, ob;
	struct ingest_pipe *p;
	struct eng_errbuf eb;
	struct ingest_source strict = src;
	void *tag;
	size_t i;

	strict.lenient = 0;
	eng_errbuf_init(&eb);
	assert_int_equal(ingest_pipe_new(x->b, 1, &p, &eb), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&oa, 0, sizeof(oa));
		memset(&ob, 0, sizeof(ob));
		diag_list_init(&oa.dl);
		diag_list_init(&ob.dl);
		oa.rv = ingest_cap(x->a, &strict, bad[i], strlen(bad[i]),
		    &oa.res, &oa.dl, &oa.eb);
		assert_int_equal(ingest_pipe_put(p, &strict, bad[i],
		    strlen(bad[i]), &ob.dl, NULL), 0);
		ob.rv = ingest_pipe_take(p, &ob.res, &tag, &ob.eb);
		assert_int_equal(ob.rv, ENG_EINVAL);
		assert_true(ob.dl.nerrors > 0);
		same_outcome(bad[i], &oa, &ob);
		diag_list_release(&oa.dl);
		diag_list_release(&ob.dl);
	}
	ingest_pipe_free(p);
}

static int
count_in(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	(void)closedir(d);
	return n;
}

static int
count_cb(void *arg, const struct store_alert *a)
{
	(void)a;
	(*(long long *)arg)++;
	return 0;
}

/* The drop folder on a real store: every sample, twice over (70 files,
 * three batches), and a broken one. */
static void
t_drop_folder(void **state)
{
	struct fx *x = *state;
	struct store_alert_filter flt;
	struct eng_errbuf eb;
	char path[512], sub[300], *err;
	size_t i, nfiles = 0, moved;
	long long total = 0, n = 0, before = 0;
	struct store *s;
	FILE *fp;

	eng_errbuf_init(&eb);
	(void)snprintf(x->drop, sizeof(x->drop), "%s/drop", x->dir);
	memset(&x->f, 0, sizeof(x->f));
	x->f.drop_dir = strdup(x->drop);
	x->f.name = (char *)"samples";
	x->f.max_bytes = 1 << 20;
	x->f.src = src;
	x->f.src.name = "samples";
	assert_int_equal(feed_drop_prepare(&x->f, &eb), 0);
	for (i = 0; i < x->ndocs + 20 && i < 2 * x->ndocs; i++) {
		(void)snprintf(path, sizeof(path), "%s/%03zu-%s", x->drop, i,
		    x->docs[i % x->ndocs].name);
		assert_non_null(fp = fopen(path, "wb"));
		assert_int_equal(fwrite(x->docs[i % x->ndocs].buf, 1,
		    x->docs[i % x->ndocs].len, fp), x->docs[i % x->ndocs].len);
		assert_int_equal(fclose(fp), 0);
		nfiles++;
	}
	(void)snprintf(path, sizeof(path), "%s/zz-broken.xml", x->drop);
	assert_non_null(fp = fopen(path, "wb"));
	assert_true(fputs("<alert>no</alert", fp) >= 0);
	assert_int_equal(fclose(fp), 0);

	memset(&flt, 0, sizeof(flt));
	assert_int_equal(store_open(x->db_b, STORE_READONLY, &s, &eb), 0);
	assert_int_equal(store_alerts_list(s, &flt, -1, 0, count_cb, &n,
	    &before, &eb), 0);
	store_close(s);
	assert_int_equal(before, 0);

	moved = feed_drop_scan(&x->f, x->b, &x->stop);
	assert_int_equal(moved, nfiles + 1);
	assert_int_equal(count_in(x->drop), 2);	/* done/ and rejected/ */
	(void)snprintf(sub, sizeof(sub), "%s/done", x->drop);
	assert_int_equal(count_in(sub), (int)nfiles);
	(void)snprintf(sub, sizeof(sub), "%s/rejected", x->drop);
	assert_int_equal(count_in(sub), 2);
	(void)snprintf(path, sizeof(path), "%s/zz-broken.xml.err", sub);
	{
		size_t len;

		assert_int_equal(read_file(path, &err, &len), 0);
	}
	assert_non_null(strstr(err, "zz-broken.xml: rejected: invalid CAP: "
	    "not well-formed XML\n"));
	free(err);

	/* Every sample is in b now (a duplicate there), and b holds as
	 * many alerts as ingest_cap stores from the samples in a. */
	for (i = 0; i < x->ndocs; i++) {
		struct ingest_result ra, rb;
		struct diag_list d1, d2;

		diag_list_init(&d1);
		diag_list_init(&d2);
		assert_int_equal(ingest_cap(x->a, &src, x->docs[i].buf,
		    x->docs[i].len, &ra, &d1, &eb), 0);
		assert_int_equal(ingest_cap(x->b, &src, x->docs[i].buf,
		    x->docs[i].len, &rb, &d2, &eb), 0);
		assert_true(rb.duplicate);
		diag_list_release(&d1);
		diag_list_release(&d2);
	}
	n = 0;
	assert_int_equal(store_open(x->db_b, STORE_READONLY, &s, &eb), 0);
	assert_int_equal(store_alerts_list(s, &flt, -1, 0, count_cb, &n,
	    &total, &eb), 0);
	store_close(s);
	assert_int_equal(total, n);
	assert_true(total > 0 && total <= (long long)x->ndocs);
	n = 0;
	assert_int_equal(store_open(x->db_a, STORE_READONLY, &s, &eb), 0);
	assert_int_equal(store_alerts_list(s, &flt, -1, 0, count_cb, &n,
	    &before, &eb), 0);
	store_close(s);
	assert_int_equal(total, before);
}

/* The warnings JSON as ingest made it with jansson before, of the first
 * max warnings (those added after the alert's row are not stored). */
static char *
jansson_warnings(const struct diag_list *d, size_t max)
{
	json_t *arr = json_array();
	char *s;
	size_t i;

	for (i = 0; i < d->n && json_array_size(arr) < max; i++) {
		if (d->v[i].sev != DIAG_WARNING)
			continue;
		(void)json_array_append_new(arr, json_pack("{s:I,s:s?,s:s}",
		    "line", (json_int_t)d->v[i].line, "path", d->v[i].path,
		    "message", d->v[i].msg));
	}
	s = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	return s;
}

static int
warnings_cb(void *arg, const struct store_alert *a)
{
	char **w = arg;

	*w = a->warnings != NULL ? strdup(a->warnings) : NULL;
	return 0;
}

/* Every sample, and one whose warnings quote hostile text. */
static void
t_warnings_json(void **state)
{
	static const char odd[] =
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\">\n"
	    "<identifier>ODD-1</identifier><sender>odd@example.org</sender>\n"
	    "<sent>2026-07-15T11:30:00+08:00</sent><status>Actual</status>\n"
	    "<msgType>Alert</msgType><scope>Public</scope>\n"
	    "<info><category>Met</category><event>e</event>\n"
	    "<urgency>\"q\" \\b\\ /s\t\xe6\x9a\xb4\xe9\x9b\xa8 &#13;!"
	    "</urgency>\n"
	    "<severity>Minor</severity><certainty>Likely</certainty>\n"
	    "<area><areaDesc>nowhere</areaDesc></area></info></alert>\n";
	struct fx *x = *state;
	struct ingest_result res;
	struct diag_list dl;
	struct eng_errbuf eb;
	struct store *s;
	char *mine, *theirs;
	size_t i;
	int with = 0;

	for (i = 0; i <= x->ndocs; i++) {
		const char *buf = i < x->ndocs ? x->docs[i].buf : odd;
		size_t len = i < x->ndocs ? x->docs[i].len : strlen(odd);

		diag_list_init(&dl);
		eng_errbuf_init(&eb);
		assert_int_equal(ingest_cap(x->b, &src, buf, len, &res, &dl,
		    &eb), 0);
		if (res.duplicate) {
			diag_list_release(&dl);
			continue;
		}
		mine = theirs = NULL;
		assert_int_equal(store_open(x->db_b, STORE_READONLY, &s, &eb),
		    0);
		assert_int_equal(store_alert_get(s, res.alert_id, warnings_cb,
		    &mine, &eb), 0);
		store_close(s);
		if (mine == NULL) {
			/* None, or only those added after the row (about
			 * the references and the lineage): not stored. */
			size_t k;

			for (k = 0; k < dl.n; k++)
				if (dl.v[k].sev == DIAG_WARNING)
					assert_true(strcmp(dl.v[k].path,
					    "/alert/references") == 0 ||
					    strcmp(dl.v[k].path, "/alert") ==
					    0);
		} else {
			json_t *j;

			assert_non_null(mine);
			j = json_loads(mine, 0, NULL);
			assert_non_null(j);
			theirs = jansson_warnings(&dl, json_array_size(j));
			json_decref(j);
			assert_string_equal(mine, theirs);
			with++;
		}
		if (i == x->ndocs) {
			/* The text came through, escaped. */
			assert_non_null(mine);
			assert_non_null(strstr(mine, "\\\"q\\\" \\\\b\\\\ /s\\t"
			    "\xe6\x9a\xb4\xe9\x9b\xa8 \\r!"));
		}
		free(mine);
		free(theirs);
		diag_list_release(&dl);
	}
	assert_true(with > 10);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_samples_as_ingest_cap, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(t_chain_cancel_first, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(t_invalid, setup, teardown),
		cmocka_unit_test_setup_teardown(t_drop_folder, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_warnings_json, setup,
		    teardown),
	};

	log_set_level(LOG_LVL_ERROR);
	cap_global_init();
	return cmocka_run_group_tests_name("ingest_pipe", tests, NULL, NULL);
}
