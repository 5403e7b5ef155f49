/*
 * engine/feeds.h - CAP that arrives without a human: watched drop folders
 * and Atom/RSS index polling, one thread for all feeds.
 *
 * For every configured feed with a drop_dir or a poll_url, one background
 * thread (with its own struct ingest) does, in a loop:
 *
 * Drop folder.  drop_dir, drop_dir/done and drop_dir/rejected are created
 * (0750) if missing.  About once a second the folder is scanned: regular
 * files whose name does not start with '.' and does not end in .tmp or
 * .part (files are expected to appear by rename) are read (a file over
 * the feed's max_bytes is rejected as too large without being read),
 * ingested, and moved to done/ (stored or duplicate) or rejected/ with
 * NAME.err beside it: a verdict line, then one line per diagnostic
 * ("NAME:LINE: error: PATH: MESSAGE").  On our own failures (ENG_EIO,
 * ENG_ENOMEM) the file stays where it is and is tried again on the next
 * scan.  A clash in done/ or rejected/ gets a ".N" suffix.
 *
 * Polling.  Every poll_interval the index at poll_url is fetched (libcurl,
 * poll_timeout per transfer, at most FEED_INDEX_MAX_BYTES) with
 * If-None-Match / If-Modified-Since from the last 200; 304 means nothing
 * new.  Atom <entry> (id, link) and RSS <item> (guid, link, enclosure)
 * are read (no DTD, no entities, no network, relative links resolved
 * against the index URL) and each entry's CAP is fetched once (at most
 * max_bytes).  Fetched entries -- stored, duplicate or rejected as
 * invalid -- are remembered in DATA_DIR/feeds/NAME.state (written
 * atomically), so that a restart fetches nothing twice.  A failed fetch
 * (time-out, 5xx, 404, refused connection) or a failure of our own store
 * is retried with exponential back-off per entry; a broken entry never
 * holds up the others.  A failed index fetch backs the whole feed off
 * exponentially, up to ten times the interval.
 *
 * Every file and entry is logged (events feed.drop.*, feed.poll.*).
 */
#ifndef ENGINE_FEEDS_H
#define ENGINE_FEEDS_H

#include "engine/err.h"

struct cfg;
struct feeds;
struct ingest_config;

/*
 * Start the feed thread for every feed of cfg that has a drop_dir or a
 * poll_url; with none, *out is a valid handle that runs no thread.
 * Creates the drop folders and DATA_DIR/feeds, loads each poll feed's
 * state file and opens an ingest context on ic (ic->clock, if any, must
 * outlive the feeds).  Copies everything it keeps from cfg and ic.
 * Returns 0 and *out, or ENG_EIO (a folder cannot be created, the store
 * cannot be opened), ENG_ENOMEM, with detail in eb; nothing is left
 * running on failure.  Blocking (file system, store open); call from one
 * thread at a time.
 */
int feeds_start(const struct cfg *cfg, const struct ingest_config *ic,
    struct feeds **out, struct eng_errbuf *eb);

/*
 * Stop the thread (a transfer in progress is aborted within a fraction
 * of a second; a file being ingested is finished), save the poll state
 * and free everything.  NULL is a no-op.  Blocking: joins the thread.
 * For a reload, stop the old feeds and start new ones on the new config:
 * the state files carry over.
 */
void feeds_stop(struct feeds *f);

/* Number of feeds the thread serves (0 when there is no thread). */
unsigned feeds_count(const struct feeds *f);

#endif /* ENGINE_FEEDS_H */
