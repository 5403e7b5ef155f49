/*
 * ops/bench/cap_bench.c - CAP throughput, in one process and one run
 * (issue 3, acceptance 7):
 *
 *   (a) libxml2 alone: xmlReadMemory + xmlFreeDoc of every sample,
 *   (b) cap_parse: parse + validate (lenient, Chinese profile),
 *   (c) ingest_cap: parse + validate + meaning + store in SQLite, every
 *       document made unique per iteration (its <identifier> text gets a
 *       suffix) so that none is a duplicate, one durable commit each
 *       (the HTTP path),
 *   (d) the same in commits of 32 (ingest_batch_begin/end), on one
 *       thread,
 *   (e) the same as (d) with the parse on a second thread (ingest_pipe.h:
 *       the drop folder's path): TWO threads, while (a) is one,
 *
 * each looped over the files of the sample directory for SECONDS (3) in
 * all, in SLICES interleaved slices (a, b, c, d, e, a, b ...), RUNS (5)
 * times; prints the rates in documents/s and their ratios to (a) for
 * every run, then the medians.  Issue 3 quotes (e)/(a), the drop
 * folder's, and (d)/(a) single-threaded (target >= 0.3).
 *
 * usage: cap_bench [SAMPLE_DIR [REGIONS_CSV]]
 *   SAMPLE_DIR   default $GONG_SHARED/cap-samples/valid ($GONG_SHARED
 *                defaults to ../shared)
 *   REGIONS_CSV  default config/demo/regions.csv; "-" for no regions
 * Environment: SECONDS, RUNS, TMPDIR (where the store is created).
 * The log level is warn (no line per stored alert).
 *
 * The store of every run is new (a temp dir), with the demo regions
 * imported first so that areas resolve as in a deployment.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <libxml/parser.h>

#include "cap/cap.h"
#include "engine/diag.h"
#include "engine/err.h"
#include "engine/ingest.h"
#include "engine/ingest_pipe.h"
#include "engine/log.h"
#include "engine/roster.h"
#include "engine/store.h"

#define MAX_FILES	4096
#define MAX_RUNS	99
#define BATCH		32	/* documents per commit in (d) */
#define SUFFIX_SIZE	48
#define SLICES		6	/* each measure in this many slices */
#define PIPE_DEPTH	8	/* messages in flight in (e) */

struct doc {
	char *name;
	char *buf;
	size_t len;
	/* <identifier> text: [id_start, id_end) of buf; 0, 0 if none. */
	size_t id_start, id_end;
};

struct bench {
	struct doc docs[MAX_FILES];
	size_t ndocs;
	size_t bytes;
	double seconds;
	const char *regions_csv;	/* NULL: none */
	struct roster roster;
	const char *tmpdir;
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
read_file(const char *path, char **out, size_t *len)
{
	struct stat st;
	FILE *f;
	char *b;

	if ((f = fopen(path, "rb")) == NULL)
		return -1;
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) ||
	    (b = malloc((size_t)st.st_size + 1)) == NULL) {
		fclose(f);
		return -1;
	}
	if (fread(b, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		free(b);
		fclose(f);
		return -1;
	}
	fclose(f);
	b[st.st_size] = '\0';
	*out = b;
	*len = (size_t)st.st_size;
	return 0;
}

/*
 * Find the text of the first <identifier> (any namespace prefix) start
 * tag.  Sets id_start/id_end, or leaves them 0 (UTF-16 documents, say).
 */
static void
find_identifier(struct doc *d)
{
	const char *p = d->buf, *end = d->buf + d->len, *lt, *q, *t;

	while (p < end && (q = memmem(p, (size_t)(end - p), "identifier>",
	    11)) != NULL) {
		/* Back to the '<': a start tag has no '/' right after it. */
		for (lt = q; lt > d->buf && lt[-1] != '<' && lt[-1] != '>' &&
		    lt[-1] != ' ' && lt[-1] != '\n'; lt--)
			;
		if (lt > d->buf && lt[-1] == '<' &&
		    (lt == q || q[-1] == ':')) {
			t = q + 11;
			while (t < end && *t != '<')
				t++;
			d->id_start = (size_t)(q + 11 - d->buf);
			d->id_end = (size_t)(t - d->buf);
			return;
		}
		p = q + 11;
	}
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(((const struct doc *)a)->name,
	    ((const struct doc *)b)->name);
}

static int
load_docs(struct bench *bn, const char *dir)
{
	char path[4096];
	struct dirent *de;
	struct stat st;
	struct doc *d;
	DIR *dp;

	if ((dp = opendir(dir)) == NULL) {
		fprintf(stderr, "cap_bench: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(dp)) != NULL && bn->ndocs < MAX_FILES) {
		if (de->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		    de->d_name) >= sizeof(path) || stat(path, &st) != 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		d = &bn->docs[bn->ndocs];
		memset(d, 0, sizeof(*d));
		if (read_file(path, &d->buf, &d->len) != 0 ||
		    (d->name = strdup(de->d_name)) == NULL) {
			fprintf(stderr, "cap_bench: cannot read %s\n", path);
			free(d->buf);
			closedir(dp);
			return -1;
		}
		find_identifier(d);
		bn->bytes += d->len;
		bn->ndocs++;
	}
	closedir(dp);
	if (bn->ndocs == 0) {
		fprintf(stderr, "cap_bench: no files in %s\n", dir);
		return -1;
	}
	qsort(bn->docs, bn->ndocs, sizeof(bn->docs[0]), cmp_names);
	return 0;
}

/* One measure: documents done, seconds taken, failures. */
struct meter {
	unsigned long n;
	double t;
	size_t failed;
};

/* (a) libxml2's own parse, as cap/ calls it minus our options. */
static void
slice_xml(const struct bench *bn, double secs, struct meter *m)
{
	double t0 = now_s(), t;
	xmlDocPtr x;
	size_t i;

	do {
		for (i = 0; i < bn->ndocs; i++) {
			x = xmlReadMemory(bn->docs[i].buf, (int)bn->docs[i].len,
			    NULL, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR |
			    XML_PARSE_NOWARNING);
			if (x == NULL)
				m->failed++;
			xmlFreeDoc(x);
			m->n++;
		}
	} while ((t = now_s() - t0) < secs);
	m->t += t;
}

/* (b) parse + validate. */
static void
slice_parse(const struct bench *bn, double secs, struct meter *m)
{
	double t0 = now_s(), t;
	struct diag_list dl;
	struct eng_errbuf eb;
	struct cap_alert *a;
	struct cap_opts o;
	size_t i;

	cap_opts_init(&o);
	o.lenient = 1;
	o.cn_profile = 1;
	do {
		for (i = 0; i < bn->ndocs; i++) {
			diag_list_init(&dl);
			eng_errbuf_init(&eb);
			a = NULL;
			if (cap_parse(bn->docs[i].buf, bn->docs[i].len, &o, &a,
			    &dl, &eb) != 0)
				m->failed++;
			cap_alert_free(a);
			diag_list_release(&dl);
			m->n++;
		}
	} while ((t = now_s() - t0) < secs);
	m->t += t;
}

/* A new store in dir with the regions imported. */
static int
make_store(struct bench *bn, const char *db, const char *root)
{
	struct store_import_result res;
	struct diag_list dl;
	struct eng_errbuf eb;
	struct store *s = NULL;
	int rv;

	eng_errbuf_init(&eb);
	diag_list_init(&dl);
	if ((rv = store_open(db, 0, &s, &eb)) != 0)
		goto out;
	if (bn->regions_csv != NULL) {
		store_set_root(s, root);
		rv = store_import(s, &bn->roster, 0, &res, &dl, &eb);
	}
out:
	if (rv != 0)
		fprintf(stderr, "cap_bench: store %s: %s%s%s\n", db, eb.msg,
		    dl.n > 0 ? " / " : "", dl.n > 0 ? dl.v[0].msg : "");
	store_close(s);
	diag_list_release(&dl);
	return rv;
}

static void
rm_store(const char *dir)
{
	static const char *const names[] = {
		"gong.db", "gong.db-wal", "gong.db-shm", "gong.db-journal",
	};
	char p[4200];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if ((size_t)snprintf(p, sizeof(p), "%s/%s", dir, names[i]) <
		    sizeof(p))
			unlink(p);
	rmdir(dir);
}

/* (c): one run's store and what its slices share. */
struct ictx {
	struct bench *bn;
	unsigned run;
	unsigned long iter;
	char dir[4096];
	char db[4200];
	char *scratch;
	char *ring[PIPE_DEPTH];	/* (e): a buffer per message in flight */
	struct ingest *ig;
	struct ingest_pipe *pipe;
	unsigned long long pipe_put, pipe_taken;	/* (e)'s messages */
	size_t pipe_doc[PIPE_DEPTH];	/* their documents, by slot */
	unsigned long pipe_iter[PIPE_DEPTH];	/* and iterations */
	size_t stored, unmatched;
};

static void
ictx_close(struct ictx *c)
{
	size_t i;

	ingest_pipe_free(c->pipe);
	c->pipe = NULL;
	free(c->scratch);
	c->scratch = NULL;
	for (i = 0; i < PIPE_DEPTH; i++) {
		free(c->ring[i]);
		c->ring[i] = NULL;
	}
	ingest_free(c->ig);
	c->ig = NULL;
	if (c->dir[0] != '\0')
		rm_store(c->dir);
	c->dir[0] = '\0';
}

/* A new store with the regions, and an ingest context on it. */
static int
ictx_open(struct ictx *c, struct bench *bn, unsigned run)
{
	static const char *const vnames[] = { "GB/T 2260", NULL };
	struct ingest_config cfg = {
		.root = "140400000000",
		.language = "zh-CN",
		.unknown_colour = CAP_COLOR_NONE,
		.division_value_names = vnames,
	};
	struct eng_errbuf eb;
	size_t i, maxlen = 0;

	memset(c, 0, sizeof(*c));
	c->bn = bn;
	c->run = run;
	snprintf(c->dir, sizeof(c->dir), "%s/cap-bench.XXXXXX", bn->tmpdir);
	if (mkdtemp(c->dir) == NULL) {
		fprintf(stderr, "cap_bench: mkdtemp %s: %s\n", c->dir,
		    strerror(errno));
		c->dir[0] = '\0';
		return -1;
	}
	snprintf(c->db, sizeof(c->db), "%s/gong.db", c->dir);
	cfg.db_path = c->db;
	eng_errbuf_init(&eb);
	if (make_store(bn, c->db, cfg.root) != 0)
		goto fail;
	if (ingest_new(&cfg, &c->ig, &eb) != 0) {
		fprintf(stderr, "cap_bench: ingest_new: %s\n", eb.msg);
		goto fail;
	}
	for (i = 0; i < bn->ndocs; i++)
		if (bn->docs[i].len > maxlen)
			maxlen = bn->docs[i].len;
	if ((c->scratch = malloc(maxlen + SUFFIX_SIZE)) == NULL)
		goto fail;
	for (i = 0; i < PIPE_DEPTH; i++)
		if ((c->ring[i] = malloc(maxlen + SUFFIX_SIZE)) == NULL)
			goto fail;
	if (ingest_pipe_new(c->ig, PIPE_DEPTH, &c->pipe, &eb) != 0) {
		fprintf(stderr, "cap_bench: ingest_pipe_new: %s\n", eb.msg);
		goto fail;
	}
	return 0;
fail:
	ictx_close(c);
	return -1;
}

/* Document i of iteration c->iter, made unique, into dst; its length. */
static size_t
make_unique(const struct ictx *c, size_t i, char *dst)
{
	const struct doc *d = &c->bn->docs[i];
	char suffix[SUFFIX_SIZE];
	size_t slen;

	/* Files may share an identifier: add the index. */
	slen = (size_t)snprintf(suffix, sizeof(suffix), "-b%u-%lu-%zu",
	    c->run, c->iter, i);
	memcpy(dst, d->buf, d->id_end);
	memcpy(dst + d->id_end, suffix, slen);
	memcpy(dst + d->id_end + slen, d->buf + d->id_end,
	    d->len - d->id_end);
	return d->len + slen;
}

/* Count the outcome of document i of iteration iter. */
static void
tally(struct ictx *c, size_t i, unsigned long iter, int rv,
    const struct ingest_result *res, const struct diag_list *dl,
    const struct eng_errbuf *eb, struct meter *m)
{
	if (rv != 0 || res->duplicate) {
		if (m->failed == 0)
			fprintf(stderr, "cap_bench: %s: %s%s%s\n",
			    c->bn->docs[i].name, rv != 0 ? eb->msg :
			    "duplicate", dl->n > 0 ? ": " : "",
			    dl->n > 0 ? dl->v[0].msg : "");
		m->failed++;
	} else {
		c->stored++;
		if (res->area_unmatched && iter == 1)
			c->unmatched++;
	}
}

/* (c) the whole ingest, every document unique, one durable commit each
 * (batch 0: the HTTP path); (d) the same in commits of batch documents
 * (ingest_batch_begin/end: the drop folder's path). */
static void
slice_ingest(struct ictx *c, double secs, size_t batch, struct meter *m)
{
	static const struct ingest_source src = {
		.name = "bench", .via = "cli", .lenient = 1, .cn_profile = 1,
	};
	const struct bench *bn = c->bn;
	struct ingest_result res;
	struct diag_list dl;
	struct eng_errbuf eb;
	const struct doc *d;
	double t0 = now_s(), t;
	size_t i, len;
	int rv;

	do {
		c->iter++;
		for (i = 0; i < bn->ndocs; i++) {
			d = &bn->docs[i];
			m->n++;
			if (d->id_end == 0) {	/* cannot be made unique */
				m->failed++;
				continue;
			}
			len = make_unique(c, i, c->scratch);
			diag_list_init(&dl);
			eng_errbuf_init(&eb);
			if (batch > 0 && i % batch == 0 &&
			    ingest_batch_begin(c->ig, &eb) != 0)
				fprintf(stderr, "cap_bench: batch: %s\n",
				    eb.msg);
			rv = ingest_cap(c->ig, &src, c->scratch, len, &res, &dl,
			    &eb);
			tally(c, i, c->iter, rv, &res, &dl, &eb, m);
			diag_list_release(&dl);
			if (batch > 0 && (i % batch == batch - 1 ||
			    i + 1 == bn->ndocs) &&
			    ingest_batch_end(c->ig, 1, &eb) != 0)
				fprintf(stderr, "cap_bench: commit: %s\n",
				    eb.msg);
		}
	} while ((t = now_s() - t0) < secs);
	m->t += t;
}

/*
 * (e) as (d), the same commits of batch documents, with the parse on the
 * pipe's worker thread: document k is parsed while the ones before it
 * are stored.  The stream runs on across iterations and is drained at
 * the end of the slice (inside the time measured).
 */
static void
take_one(struct ictx *c, size_t batch, struct diag_list *dls,
    struct meter *m)
{
	struct ingest_result res;
	struct eng_errbuf eb;
	void *tag;
	size_t k, i;
	int rv;

	/* The tag is the document's index. */
	k = (size_t)c->pipe_taken++;
	i = c->pipe_doc[k % PIPE_DEPTH];
	eng_errbuf_init(&eb);
	if (i % batch == 0 && ingest_batch_begin(c->ig, &eb) != 0)
		fprintf(stderr, "cap_bench: batch: %s\n", eb.msg);
	rv = ingest_pipe_take(c->pipe, &res, &tag, &eb);
	if ((size_t)(uintptr_t)tag != i)
		fprintf(stderr, "cap_bench: pipe order: %zu for %zu\n",
		    (size_t)(uintptr_t)tag, i);
	tally(c, i, c->pipe_iter[k % PIPE_DEPTH], rv, &res,
	    &dls[k % PIPE_DEPTH], &eb, m);
	diag_list_release(&dls[k % PIPE_DEPTH]);
	if ((i % batch == batch - 1 || i + 1 == c->bn->ndocs) &&
	    ingest_batch_end(c->ig, 1, &eb) != 0)
		fprintf(stderr, "cap_bench: commit: %s\n", eb.msg);
}

static void
slice_pipe(struct ictx *c, double secs, size_t batch, struct meter *m)
{
	static const struct ingest_source src = {
		.name = "bench", .via = "cli", .lenient = 1, .cn_profile = 1,
	};
	const struct bench *bn = c->bn;
	struct diag_list dls[PIPE_DEPTH];
	double t0 = now_s(), t;
	size_t i, k, len;

	c->pipe_taken = c->pipe_put = 0;
	do {
		c->iter++;
		for (i = 0; i < bn->ndocs; i++) {
			m->n++;
			if (bn->docs[i].id_end == 0) {
				m->failed++;
				continue;
			}
			if (ingest_pipe_queued(c->pipe) == PIPE_DEPTH)
				take_one(c, batch, dls, m);
			k = (size_t)c->pipe_put++;
			c->pipe_doc[k % PIPE_DEPTH] = i;
			c->pipe_iter[k % PIPE_DEPTH] = c->iter;
			len = make_unique(c, i, c->ring[k % PIPE_DEPTH]);
			diag_list_init(&dls[k % PIPE_DEPTH]);
			if (ingest_pipe_put(c->pipe, &src,
			    c->ring[k % PIPE_DEPTH], len, &dls[k % PIPE_DEPTH],
			    (void *)(uintptr_t)i) != 0)
				fprintf(stderr, "cap_bench: pipe full\n");
		}
	} while ((t = now_s() - t0) < secs);
	while (ingest_pipe_queued(c->pipe) > 0)
		take_one(c, batch, dls, m);
	m->t += now_s() - t0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static long
env_long(const char *name, long def, long min, long max)
{
	const char *s = getenv(name);
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return def;
	errno = 0;
	v = strtol(s, &end, 10);
	if (*end != '\0' || errno != 0 || v < min || v > max) {
		fprintf(stderr, "cap_bench: bad %s '%s', using %ld\n", name, s,
		    def);
		return def;
	}
	return v;
}

static const char *
fs_name(const char *path)
{
	struct statfs sf;

	if (statfs(path, &sf) != 0)
		return "?";
	switch ((unsigned long)sf.f_type) {
	case 0x01021994UL:
		return "tmpfs";
	case 0xef53UL:
		return "ext4";
	case 0x58465342UL:
		return "xfs";
	case 0x9123683eUL:
		return "btrfs";
	case 0x794c7630UL:
		return "overlayfs";
	default:
		return "other";
	}
}

/* The first three fields of /proc/loadavg. */
static const char *
loadavg(char *buf, size_t size)
{
	FILE *f = fopen("/proc/loadavg", "r");
	char *p;
	int sp = 0;

	snprintf(buf, size, "?");
	if (f == NULL)
		return buf;
	if (fgets(buf, (int)size, f) == NULL)
		snprintf(buf, size, "?");
	fclose(f);
	for (p = buf; *p != '\0'; p++)
		if ((*p == ' ' && ++sp == 3) || *p == '\n') {
			*p = '\0';
			break;
		}
	return buf;
}

int
main(int argc, char **argv)
{
	static struct bench bn;
	double xr[MAX_RUNS], pr[MAX_RUNS], ir[MAX_RUNS], r1[MAX_RUNS];
	double r2[MAX_RUNS], br[MAX_RUNS], r3[MAX_RUNS], er[MAX_RUNS];
	double r4[MAX_RUNS];
	char dirbuf[4096], load[64];
	const char *dir, *shared;
	struct diag_list dl;
	size_t stored, unmatched, i, nid = 0;
	long runs;
	unsigned r;
	int rc = 1;

	if (argc > 3 || (argc > 1 && strcmp(argv[1], "--help") == 0)) {
		fprintf(stderr, "usage: cap_bench [SAMPLE_DIR [REGIONS_CSV]]"
		    "\n");
		return 2;
	}
	if (argc > 1)
		dir = argv[1];
	else {
		shared = getenv("GONG_SHARED");
		if (shared == NULL || *shared == '\0')
			shared = "../shared";
		snprintf(dirbuf, sizeof(dirbuf), "%s/cap-samples/valid",
		    shared);
		dir = dirbuf;
	}
	bn.regions_csv = argc > 2 ? argv[2] : "config/demo/regions.csv";
	if (strcmp(bn.regions_csv, "-") == 0)
		bn.regions_csv = NULL;
	bn.seconds = (double)env_long("SECONDS", 3, 1, 3600);
	runs = env_long("RUNS", 5, 1, MAX_RUNS);
	bn.tmpdir = getenv("TMPDIR") != NULL && *getenv("TMPDIR") != '\0' ?
	    getenv("TMPDIR") : "/tmp";

	/* gongd logs every stored alert at info: deployments run at info,
	 * but a terminal would be the bottleneck here. */
	log_set_level(LOG_LVL_WARN);
	cap_global_init();
	roster_init(&bn.roster);
	diag_list_init(&dl);
	if (load_docs(&bn, dir) != 0)
		goto out;
	if (bn.regions_csv != NULL && roster_parse_file(ROSTER_REGIONS,
	    bn.regions_csv, ROSTER_ENC_AUTO, &bn.roster, &dl) != 0) {
		fprintf(stderr, "cap_bench: %s: %s\n", bn.regions_csv,
		    dl.n > 0 ? dl.v[0].msg : "cannot read");
		goto out;
	}
	for (i = 0; i < bn.ndocs; i++)
		if (bn.docs[i].id_end != 0)
			nid++;
	printf("cap_bench: %zu documents (%zu KB) from %s; %s; %.0f s per "
	    "measure, %ld runs; store in %s (%s); %ld cores, load average "
	    "%s\n",
	    bn.ndocs, bn.bytes / 1024, dir, bn.regions_csv != NULL ?
	    "store with the demo regions" : "store WITHOUT regions",
	    bn.seconds, runs, bn.tmpdir, fs_name(bn.tmpdir),
	    sysconf(_SC_NPROCESSORS_ONLN), loadavg(load, sizeof(load)));
	if (bn.regions_csv != NULL)
		printf("cap_bench: %zu regions from %s imported into every "
		    "run's new store\n", bn.roster.nregions, bn.regions_csv);
	if (nid < bn.ndocs)
		printf("cap_bench: %zu documents have no <identifier> to "
		    "rewrite: counted as failures in (c)\n", bn.ndocs - nid);
	fflush(stdout);
	for (r = 0; r < (unsigned)runs; r++) {
		struct meter mx = { 0 }, mp = { 0 }, mi = { 0 }, mb = { 0 };
		struct meter me = { 0 };
		struct ictx ic;
		int k;

		if (ictx_open(&ic, &bn, r + 1) != 0)
			goto out;
		/* Interleaved slices, so that a burst of other load hits
		 * the three measures alike. */
		for (k = 0; k < SLICES; k++) {
			slice_xml(&bn, bn.seconds / SLICES, &mx);
			slice_parse(&bn, bn.seconds / SLICES, &mp);
			slice_ingest(&ic, bn.seconds / SLICES, 0, &mi);
			slice_ingest(&ic, bn.seconds / SLICES, BATCH, &mb);
			slice_pipe(&ic, bn.seconds / SLICES, BATCH, &me);
		}
		stored = ic.stored;
		unmatched = ic.unmatched;
		ictx_close(&ic);
		xr[r] = (double)mx.n / mx.t;
		pr[r] = (double)mp.n / mp.t;
		ir[r] = (double)mi.n / mi.t;
		br[r] = (double)mb.n / mb.t;
		er[r] = (double)me.n / me.t;
		r1[r] = pr[r] / xr[r];
		r2[r] = ir[r] / xr[r];
		r3[r] = br[r] / xr[r];
		r4[r] = er[r] / xr[r];
		printf("run %u: (a) xmlReadMemory %.0f docs/s  (b) cap_parse "
		    "%.0f docs/s  (c) ingest_cap %.0f docs/s  (d) in commits "
		    "of %d %.0f docs/s  (e) the same, parse on a 2nd thread "
		    "%.0f docs/s  (b)/(a) %.3f  (c)/(a) %.3f  (d)/(a) %.3f  "
		    "(e)/(a) %.3f", r + 1, xr[r], pr[r], ir[r], BATCH, br[r],
		    er[r], r1[r], r2[r], r3[r], r4[r]);
		if (mx.failed + mp.failed + mi.failed + mb.failed +
		    me.failed > 0)
			printf("  [failures: xml %zu, parse %zu, ingest %zu, "
			    "batched %zu, piped %zu]", mx.failed, mp.failed,
			    mi.failed, mb.failed, me.failed);
		printf("  [%zu stored, %zu of %zu unmatched]\n", stored,
		    unmatched, bn.ndocs);
		fflush(stdout);
	}
	printf("median of %ld: (a) %.0f docs/s  (b) %.0f docs/s  (c) %.0f "
	    "docs/s  (d) %.0f docs/s  (e) %.0f docs/s  (b)/(a) %.3f  "
	    "(c)/(a) %.3f (one commit each)  (d)/(a) %.3f (commits of %d, "
	    "one thread; target >= 0.3: %s)  (e)/(a) %.3f (the drop "
	    "folder's: commits of %d, parse on a 2nd thread, so TWO "
	    "threads against (a)'s one; target >= 0.3: %s)\n", runs,
	    median(xr, (size_t)runs), median(pr, (size_t)runs),
	    median(ir, (size_t)runs), median(br, (size_t)runs),
	    median(er, (size_t)runs), median(r1, (size_t)runs),
	    median(r2, (size_t)runs), median(r3, (size_t)runs), BATCH,
	    median(r3, (size_t)runs) >= 0.3 ? "met" : "NOT MET",
	    median(r4, (size_t)runs), BATCH,
	    median(r4, (size_t)runs) >= 0.3 ? "met" : "NOT MET");
	rc = 0;
out:
	for (i = 0; i < bn.ndocs; i++) {
		free(bn.docs[i].buf);
		free(bn.docs[i].name);
	}
	roster_release(&bn.roster);
	diag_list_release(&dl);
	cap_global_cleanup();
	return rc;
}
