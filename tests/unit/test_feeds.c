/*
 * tests/unit/test_feeds.c - the pure parts of engine/feeds: Atom and RSS
 * index parsing (ids, links, relative URLs, hostile indexes), the state
 * file, the back-off schedule, and the drop folder with ingest_cap
 * wrapped (-Wl,--wrap=ingest_cap: no store needed).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <libxml/parser.h>

#include "config/cfg.h"
#include "engine/feeds.h"
#include "engine/feeds_int.h"
#include "engine/ingest_pipe.h"

/* ---- the wrapped ingest ---- */

static int ingest_calls;
static char last_via[16];

int __wrap_ingest_cap(struct ingest *ig, const struct ingest_source *src,
    const void *buf, size_t len, struct ingest_result *res,
    struct diag_list *diags, struct eng_errbuf *eb);

int __wrap_ingest_new(const struct ingest_config *c, struct ingest **out,
    struct eng_errbuf *eb);
void __wrap_ingest_free(struct ingest *ig);
int __wrap_ingest_batch_begin(struct ingest *ig, struct eng_errbuf *eb);
int __wrap_ingest_batch_end(struct ingest *ig, int commit,
    struct eng_errbuf *eb);

/* No parser thread here (engine/ingest_pipe.h): the drop folder then
 * ingests each file with ingest_cap, which these tests fake. */
int __wrap_ingest_pipe_new(struct ingest *ig, size_t depth,
    struct ingest_pipe **out, struct eng_errbuf *eb);

int
__wrap_ingest_pipe_new(struct ingest *ig, size_t depth,
    struct ingest_pipe **out, struct eng_errbuf *eb)
{
	(void)ig;
	(void)depth;
	*out = NULL;
	return eng_error(eb, ENG_EIO, "no thread in this test");
}

/* The drop folder stores in batches: a file moves to done/ only after
 * its batch's commit; the fake commit counts them. */
static int batches_committed;

int
__wrap_ingest_batch_begin(struct ingest *ig, struct eng_errbuf *eb)
{
	(void)ig;
	(void)eb;
	return 0;
}

int
__wrap_ingest_batch_end(struct ingest *ig, int commit,
    struct eng_errbuf *eb)
{
	(void)ig;
	(void)eb;
	batches_committed += commit;
	return 0;
}

static int fake_ingest;
static int ingest_new_rv;

int
__wrap_ingest_new(const struct ingest_config *c, struct ingest **out,
    struct eng_errbuf *eb)
{
	(void)c;
	*out = NULL;
	if (ingest_new_rv != 0)
		return eng_error(eb, ingest_new_rv, "cannot open the store");
	*out = (struct ingest *)&fake_ingest;
	return 0;
}

void
__wrap_ingest_free(struct ingest *ig)
{
	assert_true(ig == NULL || ig == (struct ingest *)&fake_ingest);
}

/* Content decides: "GOOD", "DUP", "BAD" (two errors), "DENY", "EIO". */
int
__wrap_ingest_cap(struct ingest *ig, const struct ingest_source *src,
    const void *buf, size_t len, struct ingest_result *res,
    struct diag_list *diags, struct eng_errbuf *eb)
{
	(void)ig;
	ingest_calls++;
	(void)snprintf(last_via, sizeof(last_via), "%s", src->via);
	memset(res, 0, sizeof(*res));
	if (len >= 4 && memcmp(buf, "GOOD", 4) == 0) {
		res->alert_id = 7;
		res->state = INGEST_ACTIVE;
		return 0;
	}
	if (len >= 3 && memcmp(buf, "DUP", 3) == 0) {
		res->alert_id = 7;
		res->duplicate = 1;
		return 0;
	}
	if (len >= 3 && memcmp(buf, "BAD", 3) == 0) {
		(void)diag_add(diags, DIAG_ERROR, NULL, 12, "/alert/sent",
		    "'yesterday' is not a CAP dateTime");
		(void)diag_add(diags, DIAG_ERROR, NULL, 30,
		    "/alert/info[1]/urgency", "missing required element");
		return eng_error(eb, ENG_EINVAL, "2 errors");
	}
	if (len >= 4 && memcmp(buf, "DENY", 4) == 0)
		return eng_error(eb, ENG_EPERM, "area outside the feed's "
		    "regions");
	return eng_error(eb, ENG_EIO, "database is locked");
}

/* ---- fixture ---- */

struct fx {
	char dir[64];
	struct feed f;
	atomic_int stop;
};

static int
setup(void **state)
{
	struct fx *x = calloc(1, sizeof(*x));

	if (x == NULL)
		return -1;
	(void)snprintf(x->dir, sizeof(x->dir), "/tmp/gong-test-feeds-XXXXXX");
	if (mkdtemp(x->dir) == NULL)
		return -1;
	atomic_init(&x->stop, 0);
	ingest_calls = 0;
	ingest_new_rv = 0;
	last_via[0] = '\0';
	*state = x;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *x = *state;
	char cmd[200];

	free(x->f.drop_dir);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", x->dir);
	if (system(cmd) != 0)
		return -1;
	free(x);
	return 0;
}

static char *
slurp(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *buf;
	size_t n;

	if (fp == NULL)
		return NULL;
	buf = calloc(1, 1 << 16);
	n = fread(buf, 1, (1 << 16) - 1, fp);
	buf[n] = '\0';
	(void)fclose(fp);
	return buf;
}

static void
put(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *fp;

	(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

static int
exists(const char *dir, const char *name)
{
	char path[512];
	struct stat sb;

	(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &sb) == 0;
}

/* ---- index parsing ---- */

#define ATOM_HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" \
	"<feed xmlns=\"http://www.w3.org/2005/Atom\">\n" \
	"<title>CAP</title><id>urn:feed</id>\n"

static void
t_atom(void **state)
{
	static const char doc[] = ATOM_HEAD
	    "<entry>\n"
	    " <id> urn:oid:1 </id>\n"
	    " <link rel=\"self\" href=\"self/1\"/>\n"
	    " <link href=\"html/1.html\" type=\"text/html\"/>\n"
	    " <link rel=\"alternate\" type=\"application/cap+xml\""
	    " href=\"cap/1.xml\"/>\n"
	    "</entry>\n"
	    "<entry><id>urn:oid:2</id>"
	    "<link rel=\"related\" href=\"/abs/2.xml\"/>"
	    "<link rel=\"enclosure\" href=\"https://other.example/2.xml\"/>"
	    "</entry>\n"
	    "<entry><id>urn:oid:3</id><title>no link</title></entry>\n"
	    "<entry><link href=\"../up/4.xml\"/></entry>\n"
	    "<entry><id>urn:oid:5</id><link href=\"ftp://x/5.xml\"/></entry>\n"
	    "<entry><id>urn:oid:6</id>"
	    "<link rel=\"related\" type=\"application/cap+xml\""
	    " href=\"6.cap\"/>"
	    "<link href=\"6.html\"/></entry>\n"
	    "</feed>\n";
	struct feed_index idx;
	struct diag_list w;
	struct eng_errbuf eb;

	(void)state;
	eng_errbuf_init(&eb);
	diag_list_init(&w);
	assert_int_equal(feed_index_parse(doc, sizeof(doc) - 1,
	    "http://127.0.0.1:8000/feeds/index.atom", &idx, &w, &eb), 0);
	assert_int_equal(idx.kind, FEED_ATOM);
	assert_int_equal(idx.n, 4);
	assert_string_equal(idx.v[0].id, "urn:oid:1");
	assert_string_equal(idx.v[0].url,
	    "http://127.0.0.1:8000/feeds/cap/1.xml");
	assert_int_equal(idx.v[0].line, 4);
	/* Neither CAP-typed nor alternate: the first link. */
	assert_string_equal(idx.v[1].id, "urn:oid:2");
	assert_string_equal(idx.v[1].url, "http://127.0.0.1:8000/abs/2.xml");
	/* No id: the resolved link stands for it. */
	assert_string_equal(idx.v[2].id, "http://127.0.0.1:8000/up/4.xml");
	assert_string_equal(idx.v[2].url, "http://127.0.0.1:8000/up/4.xml");
	/* A CAP type beats an alternate link without one. */
	assert_string_equal(idx.v[3].url,
	    "http://127.0.0.1:8000/feeds/6.cap");
	assert_int_equal(idx.skipped, 2);
	assert_int_equal(w.n, 2);
	assert_int_equal(w.v[0].line, 11);
	assert_string_equal(w.v[0].msg, "entry skipped: no link");
	assert_int_equal(w.v[1].line, 13);
	assert_string_equal(w.v[1].msg,
	    "entry skipped: the link is not an http(s) URL");
	feed_index_release(&idx);
	diag_list_release(&w);
}

static void
t_rss(void **state)
{
	static const char rss2[] =
	    "<rss version=\"2.0\"><channel><title>t</title>\n"
	    "<item><title>a</title><link>http://h.example/a.xml</link>"
	    "<guid isPermaLink=\"false\">A-1</guid></item>\n"
	    "<item><guid>https://h.example/b.xml</guid></item>\n"
	    "<item><guid isPermaLink=\"false\">C</guid>"
	    "<link>c.html</link>"
	    "<enclosure url=\"c.xml\" type=\"application/cap+xml\""
	    " length=\"1\"/></item>\n"
	    "<item><guid isPermaLink=\"false\">D</guid></item>\n"
	    "</channel></rss>\n";
	static const char rss1[] =
	    "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\""
	    " xmlns=\"http://purl.org/rss/1.0/\">\n"
	    "<channel><title>t</title></channel>\n"
	    "<item><link>http://h.example/r1.xml</link></item>\n"
	    "</rdf:RDF>\n";
	struct feed_index idx;
	struct diag_list w;
	struct eng_errbuf eb;

	(void)state;
	eng_errbuf_init(&eb);
	diag_list_init(&w);
	assert_int_equal(feed_index_parse(rss2, sizeof(rss2) - 1,
	    "http://h.example/dir/rss.xml", &idx, &w, &eb), 0);
	assert_int_equal(idx.kind, FEED_RSS);
	assert_int_equal(idx.n, 3);
	assert_string_equal(idx.v[0].id, "A-1");
	assert_string_equal(idx.v[0].url, "http://h.example/a.xml");
	assert_string_equal(idx.v[1].id, "https://h.example/b.xml");
	assert_string_equal(idx.v[1].url, "https://h.example/b.xml");
	assert_string_equal(idx.v[2].id, "C");
	assert_string_equal(idx.v[2].url, "http://h.example/dir/c.xml");
	assert_int_equal(idx.skipped, 1);
	assert_int_equal(w.v[0].line, 5);
	feed_index_release(&idx);
	diag_list_release(&w);

	assert_int_equal(feed_index_parse(rss1, sizeof(rss1) - 1,
	    "http://h.example/", &idx, NULL, &eb), 0);
	assert_int_equal(idx.n, 1);
	assert_string_equal(idx.v[0].url, "http://h.example/r1.xml");
	feed_index_release(&idx);
}

static void
bad_index(const char *doc, size_t len, int want, const char *msg)
{
	struct feed_index idx;
	struct eng_errbuf eb;

	eng_errbuf_init(&eb);
	assert_int_equal(feed_index_parse(doc, len, "http://h.example/",
	    &idx, NULL, &eb), want);
	assert_int_equal(idx.n, 0);
	assert_null(idx.v);
	if (strstr(eb.msg, msg) == NULL)
		fail_msg("message '%s' lacks '%s'", eb.msg, msg);
}

static void
t_hostile(void **state)
{
	static const char doctype[] = "<?xml version=\"1.0\"?>\n"
	    "<!DOCTYPE feed SYSTEM \"http://evil.example/x.dtd\">\n"
	    "<feed xmlns=\"http://www.w3.org/2005/Atom\"/>\n";
	static const char xxe[] = "<?xml version=\"1.0\"?>\n"
	    "<!DOCTYPE feed [\n"
	    "<!ENTITY x SYSTEM \"file:///etc/passwd\">\n]>\n"
	    "<feed xmlns=\"http://www.w3.org/2005/Atom\"><entry><id>&x;</id>"
	    "<link href=\"a\"/></entry></feed>\n";
	static const char lol[] = "<?xml version=\"1.0\"?>\n"
	    "<!DOCTYPE lolz [<!ENTITY lol \"lol\">"
	    "<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">]>\n"
	    "<rss><channel><item><guid>&lol2;</guid></item></channel></rss>";
	static const char undeclared[] = "<feed xmlns=\"http://www.w3.org/"
	    "2005/Atom\"><entry><id>&x;</id></entry></feed>";
	char *deep, *huge;
	size_t i, n;

	(void)state;
	bad_index(doctype, sizeof(doctype) - 1, ENG_EINVAL,
	    "line 2: a DOCTYPE is not allowed");
	bad_index(xxe, sizeof(xxe) - 1, ENG_EINVAL, "DOCTYPE is not allowed");
	bad_index(lol, sizeof(lol) - 1, ENG_EINVAL, "DOCTYPE is not allowed");
	bad_index(undeclared, sizeof(undeclared) - 1, ENG_EINVAL,
	    "not well-formed XML");
	bad_index("garbage", 7, ENG_EINVAL, "line 1: not well-formed XML");
	bad_index("", 0, ENG_EINVAL, "the index is empty");
	bad_index("<html><body/></html>", 20, ENG_EINVAL,
	    "neither an Atom feed nor RSS (the root element is <html>)");
	bad_index("<feed xmlns=\"urn:other\"/>", 25, ENG_EINVAL,
	    "neither an Atom feed nor RSS");

	/* 10,000 nested elements: stopped at the depth limit. */
	n = 10000;
	deep = malloc(n * 3 + 16);
	assert_non_null(deep);
	memcpy(deep, "<rss>", 5);
	for (i = 0; i < n; i++)
		memcpy(deep + 5 + i * 3, "<a>", 3);
	deep[5 + n * 3] = '\0';
	bad_index(deep, strlen(deep), ENG_EINVAL,
	    "elements are nested deeper than 64 levels");
	free(deep);

	/* Over 8 MiB: refused before parsing. */
	n = FEED_INDEX_MAX_BYTES + 1;
	huge = malloc(n);
	assert_non_null(huge);
	memset(huge, ' ', n);
	memcpy(huge, "<rss>", 5);
	bad_index(huge, n, ENG_ETOOBIG, "over the limit of 8388608");
	free(huge);
}

static void
t_many_entries(void **state)
{
	size_t i, cap = 64u * (FEED_INDEX_MAX_ENTRIES + 10) + 64, n = 0;
	struct feed_index idx;
	struct eng_errbuf eb;
	char *doc = malloc(cap);

	(void)state;
	assert_non_null(doc);
	eng_errbuf_init(&eb);
	n += (size_t)snprintf(doc + n, cap - n, "<rss><channel>");
	for (i = 0; i < FEED_INDEX_MAX_ENTRIES + 5; i++)
		n += (size_t)snprintf(doc + n, cap - n,
		    "<item><link>/c/%zu.xml</link></item>", i);
	n += (size_t)snprintf(doc + n, cap - n, "</channel></rss>");
	assert_int_equal(feed_index_parse(doc, n, "http://h.example/x",
	    &idx, NULL, &eb), 0);
	assert_int_equal(idx.n, FEED_INDEX_MAX_ENTRIES);
	assert_int_equal(idx.truncated, 5);
	assert_string_equal(idx.v[9999].url, "http://h.example/c/9999.xml");
	feed_index_release(&idx);
	free(doc);
}

/* ---- state ---- */

static void
t_state_roundtrip(void **state)
{
	struct fx *x = *state;
	struct feed_state st, st2;
	struct eng_errbuf eb;
	char path[128], id[32], *text;
	int i;

	eng_errbuf_init(&eb);
	(void)snprintf(path, sizeof(path), "%s/f.state", x->dir);
	feed_state_init(&st, 0);
	for (i = 0; i < 1000; i++) {
		(void)snprintf(id, sizeof(id), "urn:oid:%d", i);
		assert_int_equal(feed_state_add(&st, id), 0);
	}
	assert_int_equal(feed_state_add(&st, "urn:oid:5"), 0);	/* again */
	assert_int_equal(st.n, 1000);
	assert_int_equal(feed_state_add(&st, "bad\nid"), ENG_EINVAL);
	assert_int_equal(feed_state_add(&st, ""), ENG_EINVAL);
	assert_int_equal(feed_state_set_validators(&st, "\"abc-1\"",
	    "Tue, 26 Nov 2026 07:30:00 GMT"), 0);
	assert_int_equal(feed_state_save(path, &st, 1, &eb), 0);
	assert_int_equal(exists(x->dir, "f.state.tmp"), 0);

	feed_state_init(&st2, 0);
	assert_int_equal(feed_state_load(path, &st2, &eb), 0);
	assert_int_equal(st2.n, 1000);
	assert_string_equal(st2.ids[0], "urn:oid:0");
	assert_string_equal(st2.ids[999], "urn:oid:999");
	assert_true(feed_state_has(&st2, "urn:oid:517"));
	assert_false(feed_state_has(&st2, "urn:oid:1000"));
	assert_string_equal(st2.etag, "\"abc-1\"");
	assert_string_equal(st2.last_modified,
	    "Tue, 26 Nov 2026 07:30:00 GMT");
	feed_state_release(&st2);

	/* Without validators (entries still pending). */
	assert_int_equal(feed_state_save(path, &st, 0, &eb), 0);
	text = slurp(path);
	assert_non_null(text);
	assert_null(strstr(text, "etag"));
	assert_int_equal(strncmp(text, "# gong feed state 1\nid urn:oid:0\n",
	    33), 0);
	free(text);
	feed_state_init(&st2, 0);
	assert_int_equal(feed_state_load(path, &st2, &eb), 0);
	assert_null(st2.etag);
	assert_null(st2.last_modified);
	assert_int_equal(st2.n, 1000);
	feed_state_release(&st2);
	feed_state_release(&st);
}

static void
t_state_bad(void **state)
{
	struct fx *x = *state;
	struct feed_state st;
	struct eng_errbuf eb;
	char path[128];

	eng_errbuf_init(&eb);
	(void)snprintf(path, sizeof(path), "%s/none.state", x->dir);
	feed_state_init(&st, 0);
	assert_int_equal(feed_state_load(path, &st, &eb), ENG_ENOENT);
	assert_int_equal(st.n, 0);

	put(x->dir, "x.state", "id a\nid b\n");
	(void)snprintf(path, sizeof(path), "%s/x.state", x->dir);
	assert_int_equal(feed_state_load(path, &st, &eb), ENG_EINVAL);
	assert_non_null(strstr(eb.msg, "not a feed state file"));
	assert_int_equal(st.n, 0);

	/* Unknown lines (a later version) and bad ids are skipped. */
	put(x->dir, "y.state", "# gong feed state 1\nid a\nfuture 1\n"
	    "id b\x01x\nid c\r\n");
	(void)snprintf(path, sizeof(path), "%s/y.state", x->dir);
	assert_int_equal(feed_state_load(path, &st, &eb), 0);
	assert_int_equal(st.n, 2);
	assert_string_equal(st.ids[1], "c");
	feed_state_release(&st);
}

static void
t_state_bounded(void **state)
{
	struct feed_state st;
	char id[32];
	int i;

	(void)state;
	feed_state_init(&st, 100);
	for (i = 0; i < 101; i++) {
		(void)snprintf(id, sizeof(id), "e%d", i);
		assert_int_equal(feed_state_add(&st, id), 0);
	}
	/* Full at 100: the oldest 25 forgotten, then e100 added. */
	assert_int_equal(st.n, 76);
	assert_false(feed_state_has(&st, "e0"));
	assert_false(feed_state_has(&st, "e24"));
	assert_true(feed_state_has(&st, "e25"));
	assert_true(feed_state_has(&st, "e100"));
	assert_string_equal(st.ids[0], "e25");
	feed_state_release(&st);
}

static void
t_backoff(void **state)
{
	(void)state;
	assert_int_equal(feed_backoff_ms(1000, 0, 10000), 1000);
	assert_int_equal(feed_backoff_ms(1000, 1, 10000), 2000);
	assert_int_equal(feed_backoff_ms(1000, 2, 10000), 4000);
	assert_int_equal(feed_backoff_ms(1000, 3, 10000), 8000);
	assert_int_equal(feed_backoff_ms(1000, 4, 10000), 10000);
	assert_int_equal(feed_backoff_ms(1000, 4000000000u, 10000), 10000);
	assert_int_equal(feed_backoff_ms(60000, 2, 600000), 240000);
	assert_int_equal(feed_backoff_ms(500, 1, 10000), 1000);
}

/* ---- drop folder ---- */

static void
drop_feed(struct fx *x, size_t max)
{
	char path[256];
	struct eng_errbuf eb;

	eng_errbuf_init(&eb);
	memset(&x->f, 0, sizeof(x->f));
	(void)snprintf(path, sizeof(path), "%s/in/drop", x->dir);
	x->f.drop_dir = strdup(path);
	x->f.name = (char *)"cma";
	x->f.max_bytes = max;
	x->f.src.name = "cma";
	x->f.src.via = "poll";		/* the scan says "drop" itself */
	x->f.src.max_bytes = max;
	assert_int_equal(feed_drop_prepare(&x->f, &eb), 0);
}

static void
t_drop_prepare(void **state)
{
	struct fx *x = *state;
	char path[256];
	struct stat sb;

	drop_feed(x, 1024);
	(void)snprintf(path, sizeof(path), "%s/in/drop/rejected", x->dir);
	assert_int_equal(stat(path, &sb), 0);
	assert_true(S_ISDIR(sb.st_mode));
	assert_int_equal(sb.st_mode & 0777 & ~0750, 0);
	(void)snprintf(path, sizeof(path), "%s/in/drop/done", x->dir);
	assert_int_equal(stat(path, &sb), 0);
}

static void
t_drop(void **state)
{
	struct fx *x = *state;
	const char *d;
	char *err;
	char big[3000];

	drop_feed(x, 2048);
	d = x->f.drop_dir;
	put(d, "a.xml", "GOOD");
	put(d, "b.xml", "BAD");
	put(d, "c.xml", "DUP");
	put(d, "d.xml", "DENY");
	put(d, "e.xml.tmp", "GOOD");
	put(d, "f.part", "GOOD");
	put(d, ".g.xml", "GOOD");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	put(d, "h.xml", big);
	batches_committed = 0;
	assert_int_equal(feed_drop_scan(&x->f, NULL, &x->stop), 5);
	assert_int_equal(ingest_calls, 4);	/* not the big one */
	assert_int_equal(batches_committed, 1);	/* one commit for all */
	assert_string_equal(last_via, "drop");
	assert_true(exists(d, "done/a.xml"));
	assert_true(exists(d, "done/c.xml"));
	assert_true(exists(d, "rejected/b.xml"));
	assert_true(exists(d, "rejected/d.xml"));
	assert_true(exists(d, "rejected/h.xml"));
	assert_false(exists(d, "a.xml"));
	/* Not ready, or hidden: left alone. */
	assert_true(exists(d, "e.xml.tmp"));
	assert_true(exists(d, "f.part"));
	assert_true(exists(d, ".g.xml"));

	{
		char p[300];

		(void)snprintf(p, sizeof(p), "%s/rejected/b.xml.err", d);
		err = slurp(p);
	}
	assert_non_null(err);
	assert_string_equal(err,
	    "b.xml: rejected: invalid CAP: 2 errors\n"
	    "b.xml:12: error: /alert/sent: 'yesterday' is not a CAP "
	    "dateTime\n"
	    "b.xml:30: error: /alert/info[1]/urgency: missing required "
	    "element\n");
	free(err);
	{
		char p[300];

		(void)snprintf(p, sizeof(p), "%s/rejected/h.xml.err", d);
		err = slurp(p);
	}
	assert_non_null(err);
	assert_string_equal(err, "h.xml: rejected: too large: 2999 bytes is "
	    "over the feed's limit of 2048 bytes\n");
	free(err);
	{
		char p[300];

		(void)snprintf(p, sizeof(p), "%s/rejected/d.xml.err", d);
		err = slurp(p);
	}
	assert_non_null(err);
	assert_string_equal(err, "d.xml: rejected: not allowed for this "
	    "feed: area outside the feed's regions\n");
	free(err);
}

static void
t_drop_retry_and_clash(void **state)
{
	struct fx *x = *state;
	const char *d;

	drop_feed(x, 2048);
	d = x->f.drop_dir;
	put(d, "a.xml", "EIO");
	assert_int_equal(feed_drop_scan(&x->f, NULL, &x->stop), 0);
	assert_true(exists(d, "a.xml"));	/* kept for the next round */
	assert_int_equal(feed_drop_scan(&x->f, NULL, &x->stop), 0);
	assert_int_equal(ingest_calls, 2);
	put(d, "a.xml", "GOOD");
	assert_int_equal(feed_drop_scan(&x->f, NULL, &x->stop), 1);
	put(d, "a.xml", "GOOD");
	assert_int_equal(feed_drop_scan(&x->f, NULL, &x->stop), 1);
	put(d, "a.xml", "DUP");
	assert_int_equal(feed_drop_scan(&x->f, NULL, &x->stop), 1);
	assert_true(exists(d, "done/a.xml"));
	assert_true(exists(d, "done/a.xml.1"));
	assert_true(exists(d, "done/a.xml.2"));
	/* rejected/: the name and its .err must both be free. */
	put(d, "rejected/b.xml.err", "old");
	put(d, "b.xml", "BAD");
	assert_int_equal(feed_drop_scan(&x->f, NULL, &x->stop), 1);
	assert_false(exists(d, "rejected/b.xml"));
	assert_true(exists(d, "rejected/b.xml.1"));
	assert_true(exists(d, "rejected/b.xml.1.err"));
	/* A directory or a symlink in the folder is not a drop. */
	{
		char p[300], t[300];

		(void)snprintf(p, sizeof(p), "%s/sub", d);
		assert_int_equal(mkdir(p, 0700), 0);
		(void)snprintf(p, sizeof(p), "%s/link.xml", d);
		(void)snprintf(t, sizeof(t), "%s/done/a.xml", d);
		assert_int_equal(symlink(t, p), 0);
	}
	assert_int_equal(feed_drop_scan(&x->f, NULL, &x->stop), 0);
	assert_true(exists(d, "sub"));
}

/* ---- the thread ---- */

static struct cfg *
load_cfg(const char *yaml)
{
	struct diag_list d;
	struct cfg *c = NULL;
	size_t i;

	diag_list_init(&d);
	if (cfg_load_buf(yaml, strlen(yaml), "t.yaml", "/", &c, &d) != 0)
		for (i = 0; i < d.n; i++)
			fprintf(stderr, "%s\n", d.v[i].msg);
	diag_list_release(&d);
	assert_non_null(c);
	return c;
}

static void
t_thread(void **state)
{
	struct fx *x = *state;
	struct ingest_config ic;
	struct eng_errbuf eb;
	struct feeds *fs = NULL;
	struct cfg *c;
	char yaml[1024], drop[256], path[300];
	int i;

	eng_errbuf_init(&eb);
	memset(&ic, 0, sizeof(ic));
	ic.db_path = "/nonexistent/gong.db";

	/* No feed with a folder or a URL: no thread. */
	(void)snprintf(yaml, sizeof(yaml), "data_dir: %s/data\n"
	    "feeds:\n  - { name: push, token_hash: \"sha256:%064d\" }\n",
	    x->dir, 0);
	c = load_cfg(yaml);
	assert_int_equal(feeds_start(c, &ic, &fs, &eb), 0);
	assert_int_equal(feeds_count(fs), 0);
	feeds_stop(fs);
	cfg_free(c);
	feeds_stop(NULL);

	/* A drop folder served by the thread. */
	(void)snprintf(drop, sizeof(drop), "%s/drop", x->dir);
	(void)snprintf(yaml, sizeof(yaml), "data_dir: %s/data\n"
	    "feeds:\n  - { name: cma, drop_dir: %s, max_bytes: 4KiB }\n",
	    x->dir, drop);
	c = load_cfg(yaml);
	assert_int_equal(feeds_start(c, &ic, &fs, &eb), 0);
	cfg_free(c);		/* feeds copied what they keep */
	assert_int_equal(feeds_count(fs), 1);
	put(drop, "a.xml.tmp", "GOOD");
	(void)snprintf(path, sizeof(path), "%s/a.xml", drop);
	{
		char from[300];

		(void)snprintf(from, sizeof(from), "%s/a.xml.tmp", drop);
		assert_int_equal(rename(from, path), 0);
	}
	for (i = 0; i < 100 && !exists(drop, "done/a.xml"); i++)
		usleep(50000);
	assert_true(exists(drop, "done/a.xml"));
	assert_string_equal(last_via, "drop");
	feeds_stop(fs);

	/* The store cannot be opened: nothing runs, the reason is given. */
	ingest_new_rv = ENG_EIO;
	c = load_cfg(yaml);
	assert_int_equal(feeds_start(c, &ic, &fs, &eb), ENG_EIO);
	assert_null(fs);
	assert_string_equal(eb.msg, "cannot open the store");
	cfg_free(c);
	ingest_new_rv = 0;

	/* A drop folder that cannot be made (a file is in the way). */
	put(x->dir, "file", "x");
	(void)snprintf(yaml, sizeof(yaml), "data_dir: %s/data\n"
	    "feeds:\n  - { name: cma, drop_dir: %s/file/drop }\n",
	    x->dir, x->dir);
	c = load_cfg(yaml);
	assert_int_equal(feeds_start(c, &ic, &fs, &eb), ENG_EIO);
	assert_null(fs);
	if (strstr(eb.msg, "/file/drop: Not a directory") == NULL)
		fail_msg("message: %s", eb.msg);
	cfg_free(c);
}

static int
group_teardown(void **state)
{
	(void)state;
	xmlCleanupParser();
	return 0;
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(t_atom),
		T(t_rss),
		T(t_hostile),
		T(t_many_entries),
		T(t_state_roundtrip),
		T(t_state_bad),
		T(t_state_bounded),
		T(t_backoff),
		T(t_drop_prepare),
		T(t_drop),
		T(t_drop_retry_and_clash),
		T(t_thread),
	};

	return cmocka_run_group_tests_name("feeds", tests, NULL,
	    group_teardown);
}
