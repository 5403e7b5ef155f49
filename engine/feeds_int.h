/*
 * engine/feeds_int.h - shared by feeds.c, feed_drop.c, feed_poll.c,
 * feed_index.c, feed_state.c (and their unit test).  Not for use
 * outside engine/feeds*.
 */
#ifndef ENGINE_FEEDS_INT_H
#define ENGINE_FEEDS_INT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/diag.h"
#include "engine/err.h"
#include "engine/ingest.h"
#include "engine/region.h"

#define FEED_INDEX_MAX_BYTES	(8u * 1024 * 1024)
#define FEED_INDEX_MAX_ENTRIES	10000	/* read from one index */
#define FEED_POLL_MAX_NEW	1000	/* new entries queued per poll */
#define FEED_INDEX_MAX_DEPTH	64
#define FEED_ID_MAX		2048	/* bytes of an entry id */
#define FEED_URL_MAX		4096	/* bytes of a resolved link */
#define FEED_STATE_MAX_IDS	20000	/* remembered entries per feed */
#define FEED_STATE_MAX_BYTES	(64u * 1024 * 1024)
#define FEED_VALIDATOR_MAX	512	/* ETag, Last-Modified */
#define FEED_ENTRY_MAX_TRIES	10	/* non-2xx answers, then give up */
#define FEED_SCAN_MS		1000	/* drop folder scan period */
#define FEED_BUDGET_MS		1000	/* entry fetches per loop turn */

/* ---- the index (feed_index.c) ---- */

enum feed_kind {
	FEED_ATOM = 1,
	FEED_RSS = 2,
};

struct feed_entry {
	char *id;	/* Atom <id>, RSS <guid>; else the link */
	char *url;	/* absolute http(s) URL of the CAP document */
	long line;	/* of the <entry>/<item> in the index */
};

struct feed_index {
	enum feed_kind kind;
	struct feed_entry *v;
	size_t n;
	size_t skipped;		/* entries without a usable link or id */
	size_t truncated;	/* entries past FEED_INDEX_MAX_ENTRIES */
};

void feed_index_init(struct feed_index *idx);
void feed_index_release(struct feed_index *idx);

/*
 * Parse an Atom or RSS (2.0 or 1.0) index of len bytes fetched from
 * base_url (against which relative links are resolved).  Entries that
 * cannot be used (no link, a link that is not http(s), an over-long id)
 * are skipped with a warning in warns (line of the entry).  Returns 0,
 * or ENG_EINVAL (not XML, a DOCTYPE or entity declaration, nesting
 * deeper than FEED_INDEX_MAX_DEPTH, neither Atom nor RSS), ENG_ETOOBIG
 * over FEED_INDEX_MAX_BYTES, ENG_ENOMEM, with detail in eb; idx is
 * empty on failure.  Not thread-safe with respect to libxml2's global
 * initialisation (call xmlInitParser() first when in doubt).
 */
int feed_index_parse(const char *buf, size_t len, const char *base_url,
    struct feed_index *idx, struct diag_list *warns, struct eng_errbuf *eb);

/* ---- the state file (feed_state.c) ---- */

struct feed_state {
	char *etag;		/* NULL: none */
	char *last_modified;	/* NULL: none */
	char **ids;		/* fetched entries, oldest first */
	size_t n;
	size_t alloc;
	size_t max;		/* oldest forgotten past this */
	size_t *slots;		/* open addressing: index + 1, 0 = free */
	size_t nslots;		/* power of two */
};

/* max: ids kept (0: FEED_STATE_MAX_IDS). */
void feed_state_init(struct feed_state *st, size_t max);
void feed_state_release(struct feed_state *st);
int feed_state_has(const struct feed_state *st, const char *id);
/* Remember id (no-op if known); forgets the oldest quarter when full.
 * 0 or ENG_ENOMEM, ENG_EINVAL for an id with control characters or over
 * FEED_ID_MAX. */
int feed_state_add(struct feed_state *st, const char *id);
/* Replace the validators (NULL clears).  0 or ENG_ENOMEM. */
int feed_state_set_validators(struct feed_state *st, const char *etag,
    const char *last_modified);
/*
 * Load path into st (which must be freshly initialised).  ENG_ENOENT if
 * there is no file (st stays empty), ENG_EINVAL for a file that is not a
 * state file (detail in eb; st stays empty), ENG_EIO, ENG_ENOMEM.
 */
int feed_state_load(const char *path, struct feed_state *st,
    struct eng_errbuf *eb);
/*
 * Write st to path atomically (path.tmp, fsync, rename).  The validators
 * are written only if with_validators is non-zero.  0 or ENG_EIO.
 */
int feed_state_save(const char *path, const struct feed_state *st,
    int with_validators, struct eng_errbuf *eb);

/*
 * Delay before the next attempt after failures consecutive failures:
 * base_ms for 0, base_ms * 2^failures after that, never over cap_ms.
 */
int64_t feed_backoff_ms(int64_t base_ms, unsigned failures, int64_t cap_ms);

/* ---- one feed, as the thread sees it (feeds.c) ---- */

struct feed_pending {
	char *id;
	char *url;
	unsigned tries;		/* failed attempts so far */
	int64_t next_ms;	/* monotonic */
	int seen;		/* in the latest index */
};

struct feed {
	char *name;
	struct ingest_source src;
	char *trusted_cert;
	char (*regions)[REGION_CODE_SIZE];
	size_t max_bytes;

	char *drop_dir;		/* NULL: no folder */
	int64_t next_scan_ms;

	char *poll_url;		/* NULL: no polling */
	int64_t interval_ms;
	int64_t timeout_ms;
	char *state_path;
	struct feed_state st;
	int state_dirty;
	int64_t next_poll_ms;
	unsigned poll_failures;
	struct feed_pending *pend;
	size_t npend;
	size_t apend;
	void *curl;		/* CURL *, made on first use */
};

/* The drop folder of f: create it and its done/ and rejected/. */
int feed_drop_prepare(const struct feed *f, struct eng_errbuf *eb);
/* One scan of f's drop folder: every ready file ingested and moved.
 * Returns the number of files handled (moved). */
size_t feed_drop_scan(struct feed *f, struct ingest *ig,
    const atomic_int *stop);

/* Poll work of f that is due at now_ms (monotonic): the index, then
 * pending entries for at most FEED_BUDGET_MS. */
void feed_poll_step(struct feed *f, struct ingest *ig, int64_t now_ms,
    const atomic_int *stop);
/* Earliest monotonic time at which f has poll work. */
int64_t feed_poll_next_ms(const struct feed *f);
/* Save f's state file if it changed. */
void feed_poll_save(struct feed *f);
void feed_poll_release(struct feed *f);

#endif /* ENGINE_FEEDS_INT_H */
