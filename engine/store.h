/*
 * engine/store.h - gong's state in SQLite (WAL, foreign keys on).
 *
 * The only module that talks to SQLite.  One struct store is one
 * connection: use it from one thread at a time (open one per thread;
 * WAL lets readers run beside the writer).  Schema created and migrated
 * by numbered migrations (PRAGMA user_version) at open.
 */
#ifndef ENGINE_STORE_H
#define ENGINE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "engine/diag.h"
#include "engine/err.h"
#include "engine/region.h"

struct store;
struct roster;

#define STORE_READONLY	0x1	/* open an existing database read-only */
#define STORE_NOMIGRATE	0x2	/* do not migrate (tests, inspection) */

/* Schema version this build creates and migrates to. */
int store_schema_version(void);

/*
 * Open (creating if needed, unless STORE_READONLY) the database at path
 * and migrate it to the current schema.  ":memory:" works.  Returns 0
 * and *out, or ENG_EIO / ENG_EINVAL (a newer schema than this build
 * knows) with detail in eb.  Blocking.
 */
int store_open(const char *path, unsigned flags, struct store **out,
    struct eng_errbuf *eb);
/* Close; NULL is a no-op. */
void store_close(struct store *s);

/*
 * Migrate an database opened with STORE_NOMIGRATE up to version (at most
 * store_schema_version()).  For tests of upgrades from older schemas.
 */
int store_migrate_to(struct store *s, int version, struct eng_errbuf *eb);

/* The schema version of the open database. */
int store_user_version(struct store *s);

struct store_counts {
	long long regions;
	long long responders;
	long long devices;
};

/* Totals of the whole store. */
int store_counts(struct store *s, struct store_counts *out,
    struct eng_errbuf *eb);

/* Cheap liveness check (a read of the schema). */
int store_ping(struct store *s, struct eng_errbuf *eb);

/*
 * Set the deployment root (region code).  Imports reject regions outside
 * its subtree.  Not persisted; set after every open.
 */
void store_set_root(struct store *s, const char *root);

struct eng_clock;
/* The clock used for timestamps (default: the system clock).  The clock
 * is borrowed and must outlive the store. */
void store_set_clock(struct store *s, const struct eng_clock *clock);

struct store_import_result {
	long long inserted;
	long long updated;
};

/*
 * Import parsed roster rows in one transaction (upsert by code / id).
 * Rows that the store rejects (unknown region, parent missing, a region
 * outside the deployment root) are each reported in diags with the row's
 * file and line; if any is rejected nothing changes and ENG_EINVAL is
 * returned.  dry_run checks everything and rolls back.
 */
int store_import(struct store *s, const struct roster *r, int dry_run,
    struct store_import_result *res, struct diag_list *diags,
    struct eng_errbuf *eb);

/*
 * Consistent online copy of the database to path (SQLite backup API),
 * while other connections keep reading and writing.  The file is
 * written beside path and renamed into place.
 */
int store_backup(struct store *s, const char *path, struct eng_errbuf *eb);


/* One region as stored.  Strings are borrowed from the store for the
 * duration of a callback, or owned when filled by store_region_get()
 * (free with store_region_release()). */
struct store_region {
	char code[REGION_CODE_SIZE];
	char *name;
	enum region_level level;
	char parent[REGION_CODE_SIZE];	/* "" for the deployment root */
	int has_centroid;
	double lat, lon;
};

void store_region_release(struct store_region *r);

/* Fetch one region.  ENG_ENOENT if it is not in the store. */
int store_region_get(struct store *s, const char *code,
    struct store_region *out, struct eng_errbuf *eb);

/* Counts of the region's whole subtree, the region itself included. */
int store_region_counts(struct store *s, const char *code,
    struct store_counts *out, struct eng_errbuf *eb);

/*
 * Callbacks get borrowed rows; returning non-zero stops the walk and is
 * returned by the walker.
 */
typedef int (*store_region_cb)(void *arg, const struct store_region *r);
struct roster_responder;
struct roster_device;
typedef int (*store_responder_cb)(void *arg,
    const struct roster_responder *r);
typedef int (*store_device_cb)(void *arg, const struct roster_device *d);

/* The chain of ancestors of code, from the deployment root down (code
 * itself excluded). */
int store_region_parents(struct store *s, const char *code,
    store_region_cb cb, void *arg, struct eng_errbuf *eb);

/* Direct children of code, ordered by code. */
int store_region_children(struct store *s, const char *code,
    store_region_cb cb, void *arg, struct eng_errbuf *eb);

/*
 * Responders (devices) of a region, or of its whole subtree when subtree
 * is non-zero, ordered by region then id; limit < 0 means no limit.
 * *total (if not NULL) gets the number of rows without limit/offset.
 */
int store_responders_list(struct store *s, const char *code, int subtree,
    long long limit, long long offset, store_responder_cb cb, void *arg,
    long long *total, struct eng_errbuf *eb);
int store_devices_list(struct store *s, const char *code, int subtree,
    long long limit, long long offset, store_device_cb cb, void *arg,
    long long *total, struct eng_errbuf *eb);

#endif /* ENGINE_STORE_H */
