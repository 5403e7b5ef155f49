/*
 * engine/store_roster.c - importing roster rows, all or nothing.
 */
#include "engine/store_int.h"
#include "engine/roster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
bind_text_or_null(sqlite3_stmt *st, int i, const char *v)
{
	if (v == NULL || *v == '\0')
		return sqlite3_bind_null(st, i);
	return sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

static int
count_rows(struct store *s, const char *table, long long *out,
    struct eng_errbuf *eb)
{
	char sql[64];
	sqlite3_stmt *st;
	int rv, rc;

	(void)snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
	if ((rv = store_prepare(s, sql, &st, eb)) != 0)
		return rv;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int64(st, 0);
		rv = 0;
	} else {
		rv = store_err(s, rc, "count", eb);
	}
	sqlite3_finalize(st);
	return rv;
}

/* Path of a region in the store into buf; 1 found, 0 not, <0 error. */
static int
lookup_path(struct store *s, sqlite3_stmt *st, const char *code, char *buf,
    size_t size, struct eng_errbuf *eb)
{
	int rc, found = 0;

	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		(void)snprintf(buf, size, "%s",
		    (const char *)sqlite3_column_text(st, 0));
		found = 1;
	} else if (rc != SQLITE_DONE) {
		found = store_err(s, rc, "region lookup", eb);
	}
	sqlite3_reset(st);
	return found;
}

static int
by_level(const void *a, const void *b)
{
	const struct roster_region *x = *(const struct roster_region *const *)a;
	const struct roster_region *y = *(const struct roster_region *const *)b;
	int lx = (int)region_code_level(x->code);
	int ly = (int)region_code_level(y->code);

	if (lx != ly)
		return lx - ly;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* Upper bound of the path range of a subtree: the path with its final
 * '/' replaced by '0' (the next character). */
static void
path_hi(const char *path, char *hi, size_t size)
{
	size_t n;

	(void)snprintf(hi, size, "%s", path);
	n = strlen(hi);
	if (n > 0)
		hi[n - 1] = '0';
}

#define PATH_MAX_LEN 512
#define IMPORT_CACHE_KIB "131072"	/* 128 MiB page cache for imports */

struct region_stmts {
	sqlite3_stmt *path;	/* SELECT path FROM regions WHERE code=? */
	sqlite3_stmt *insert;	/* a new region (the common case) */
	sqlite3_stmt *upsert;
	sqlite3_stmt *move;	/* re-root descendants */
};

static int
import_one_region(struct store *s, struct region_stmts *q,
    const struct roster_region *r, const char *file, const char *pcode,
    const char *ppath, int64_t now, struct diag_list *diags,
    struct eng_errbuf *eb)
{
	char path[PATH_MAX_LEN], old[PATH_MAX_LEN], hi[PATH_MAX_LEN];
	int n, had, rc;

	n = snprintf(path, sizeof(path), "%s%s/", ppath, r->code);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		(void)diag_add(diags, DIAG_ERROR, file, r->line, "code",
		    "region %s is nested too deep", r->code);
		return 1;
	}
	/* New regions (a first import: all of them) need no look-up. */
	sqlite3_reset(q->insert);
	sqlite3_bind_text(q->insert, 1, r->code, -1, SQLITE_STATIC);
	sqlite3_bind_text(q->insert, 2, r->name, -1, SQLITE_STATIC);
	sqlite3_bind_int(q->insert, 3, (int)region_code_level(r->code));
	bind_text_or_null(q->insert, 4, pcode);
	if (r->has_centroid) {
		sqlite3_bind_double(q->insert, 5, r->lat);
		sqlite3_bind_double(q->insert, 6, r->lon);
	} else {
		sqlite3_bind_null(q->insert, 5);
		sqlite3_bind_null(q->insert, 6);
	}
	sqlite3_bind_text(q->insert, 7, path, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q->insert, 8, now);
	rc = sqlite3_step(q->insert);
	sqlite3_reset(q->insert);
	if (rc == SQLITE_DONE)
		return 0;
	/* An existing region fails the insert on its primary key or, as
	 * SQLite may check it first, on the unique path: either way, the
	 * look-up below tells whether it is there. */
	if (rc != SQLITE_CONSTRAINT_PRIMARYKEY &&
	    !(rc == SQLITE_CONSTRAINT_UNIQUE && lookup_path(s, q->path,
	    r->code, old, sizeof(old), eb) == 1)) {
		if ((rc & 0xff) == SQLITE_CONSTRAINT) {
			(void)diag_add(diags, DIAG_ERROR, file, r->line, "code",
			    "region %s rejected by the store: %s", r->code,
			    sqlite3_errmsg(s->db));
			return 1;
		}
		return store_err(s, rc, "region insert", eb);
	}
	/* It exists: update it, and move its subtree if its parent
	 * changed. */
	if ((had = lookup_path(s, q->path, r->code, old, sizeof(old),
	    eb)) < 0)
		return had;
	if (had && strcmp(old, path) != 0 &&
	    strncmp(path, old, strlen(old)) == 0) {
		(void)diag_add(diags, DIAG_ERROR, file, r->line, "parent",
		    "region %s cannot move under its own descendant %s",
		    r->code, pcode);
		return 1;
	}
	sqlite3_reset(q->upsert);
	sqlite3_bind_text(q->upsert, 1, r->code, -1, SQLITE_STATIC);
	sqlite3_bind_text(q->upsert, 2, r->name, -1, SQLITE_STATIC);
	sqlite3_bind_int(q->upsert, 3, (int)region_code_level(r->code));
	bind_text_or_null(q->upsert, 4, pcode);
	if (r->has_centroid) {
		sqlite3_bind_double(q->upsert, 5, r->lat);
		sqlite3_bind_double(q->upsert, 6, r->lon);
	} else {
		sqlite3_bind_null(q->upsert, 5);
		sqlite3_bind_null(q->upsert, 6);
	}
	sqlite3_bind_text(q->upsert, 7, path, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q->upsert, 8, now);
	rc = sqlite3_step(q->upsert);
	sqlite3_reset(q->upsert);
	if (rc != SQLITE_DONE) {
		if ((rc & 0xff) == SQLITE_CONSTRAINT) {
			(void)diag_add(diags, DIAG_ERROR, file, r->line, "code",
			    "region %s rejected by the store: %s", r->code,
			    sqlite3_errmsg(s->db));
			return 1;
		}
		return store_err(s, rc, "region upsert", eb);
	}
	if (had && strcmp(old, path) != 0) {
		/* It moved: carry its subtree along. */
		path_hi(old, hi, sizeof(hi));
		sqlite3_reset(q->move);
		sqlite3_bind_text(q->move, 1, path, -1, SQLITE_STATIC);
		sqlite3_bind_int(q->move, 2, (int)strlen(old) + 1);
		sqlite3_bind_text(q->move, 3, old, -1, SQLITE_STATIC);
		sqlite3_bind_text(q->move, 4, hi, -1, SQLITE_STATIC);
		rc = sqlite3_step(q->move);
		sqlite3_reset(q->move);
		if (rc != SQLITE_DONE)
			return store_err(s, rc, "region move", eb);
	}
	return 0;
}

static int
import_regions(struct store *s, const struct roster *ro, int64_t now,
    struct diag_list *diags, struct eng_errbuf *eb)
{
	struct region_stmts q = { NULL, NULL, NULL, NULL };
	const struct roster_region **pend = NULL;
	char pcode[REGION_CODE_SIZE], ppath[PATH_MAX_LEN];
	char last_pcode[REGION_CODE_SIZE] = "", last_ppath[PATH_MAX_LEN] = "";
	const char *file = ro->file;
	size_t i, npend, left, progress;
	int rv = 0, rc;

	if ((rv = store_prepare(s, "SELECT path FROM regions WHERE code = ?",
	    &q.path, eb)) != 0 ||
	    (rv = store_prepare(s, "INSERT INTO regions (code, name, level, "
	    "parent, lat, lon, path, updated_ms) VALUES (?,?,?,?,?,?,?,?)",
	    &q.insert, eb)) != 0 ||
	    (rv = store_prepare(s, "INSERT INTO regions (code, name, level, "
	    "parent, lat, lon, path, updated_ms) VALUES (?,?,?,?,?,?,?,?) "
	    "ON CONFLICT (code) DO UPDATE SET name = excluded.name, "
	    "level = excluded.level, parent = excluded.parent, "
	    "lat = excluded.lat, lon = excluded.lon, path = excluded.path, "
	    "updated_ms = excluded.updated_ms", &q.upsert, eb)) != 0 ||
	    (rv = store_prepare(s, "UPDATE regions SET path = ?1 || "
	    "substr(path, ?2) WHERE path > ?3 AND path < ?4", &q.move,
	    eb)) != 0)
		goto out;
	npend = ro->nregions;
	if ((pend = calloc(npend ? npend : 1, sizeof(*pend))) == NULL) {
		rv = eng_error(eb, ENG_ENOMEM, "import: out of memory");
		goto out;
	}
	for (i = 0; i < npend; i++)
		pend[i] = &ro->regions[i];
	qsort(pend, npend, sizeof(*pend), by_level);

	/* Parents before children; a row whose parent is not there yet
	 * waits for the next pass. */
	do {
		progress = 0;
		left = 0;
		for (i = 0; i < npend; i++) {
			const struct roster_region *r = pend[i];
			int is_root = s->root[0] != '\0' &&
			    strcmp(r->code, s->root) == 0;

			if (is_root || (s->root[0] == '\0' &&
			    r->parent[0] == '\0' &&
			    region_code_level(r->code) == REGION_PROVINCE)) {
				pcode[0] = '\0';
				ppath[0] = '\0';
			} else {
				if (r->parent[0] != '\0')
					(void)snprintf(pcode, sizeof(pcode),
					    "%s", r->parent);
				else if (region_code_parent(r->code,
				    pcode) != 0)
					pcode[0] = '\0';
				if (s->root[0] != '\0' && r->parent[0] == '\0' &&
				    !region_code_within(r->code, s->root)) {
					(void)diag_add(diags, DIAG_ERROR, file,
					    r->line, "code", "region %s is "
					    "outside the deployment root %s",
					    r->code, s->root);
					progress++;
					continue;
				}
				if (pcode[0] == '\0') {
					(void)diag_add(diags, DIAG_ERROR, file,
					    r->line, "code", "region %s has no "
					    "parent and is not the deployment "
					    "root", r->code);
					progress++;
					continue;
				}
				/* Rows come sorted by level, so siblings
				 * follow each other: ask the store about
				 * each parent only once in a row. */
				if (strcmp(pcode, last_pcode) == 0) {
					(void)snprintf(ppath, sizeof(ppath),
					    "%s", last_ppath);
					rc = 1;
				} else {
					rc = lookup_path(s, q.path, pcode,
					    ppath, sizeof(ppath), eb);
					if (rc == 1) {
						(void)snprintf(last_pcode,
						    sizeof(last_pcode), "%s",
						    pcode);
						(void)snprintf(last_ppath,
						    sizeof(last_ppath), "%s",
						    ppath);
					}
				}
				if (rc < 0) {
					rv = rc;
					goto out;
				}
				if (rc == 0) {
					pend[left++] = r;
					continue;
				}
				if (s->root[0] != '\0' &&
				    strncmp(ppath, s->root, REGION_CODE_LEN)
				    != 0) {
					(void)diag_add(diags, DIAG_ERROR, file,
					    r->line, "parent", "region %s "
					    "would be outside the deployment "
					    "root %s", r->code, s->root);
					progress++;
					continue;
				}
			}
			rc = import_one_region(s, &q, r, file,
			    pcode[0] ? pcode : NULL, ppath, now, diags, eb);
			if (rc < 0) {
				rv = rc;
				goto out;
			}
			progress++;
		}
		npend = left;
	} while (npend > 0 && progress > 0);

	for (i = 0; i < npend; i++) {
		const struct roster_region *r = pend[i];

		if (r->parent[0] != '\0')
			(void)snprintf(pcode, sizeof(pcode), "%s", r->parent);
		else
			(void)region_code_parent(r->code, pcode);
		(void)diag_add(diags, DIAG_ERROR, file, r->line,
		    r->parent[0] ? "parent" : "code",
		    "parent region %s of %s is neither in the store nor in "
		    "this file", pcode, r->code);
	}
out:
	free(pend);
	sqlite3_finalize(q.path);
	sqlite3_finalize(q.insert);
	sqlite3_finalize(q.upsert);
	sqlite3_finalize(q.move);
	return rv;
}

/*
 * Does region code exist?  Rows of a roster come grouped by region, so
 * the last answer is remembered.  1 yes, 0 no, <0 error.
 */
struct region_check {
	sqlite3_stmt *st;
	char last[REGION_CODE_SIZE];
	int last_found;
};

static int
region_exists(struct store *s, struct region_check *c, const char *code,
    struct eng_errbuf *eb)
{
	int rc;

	if (c->last[0] != '\0' && strcmp(c->last, code) == 0)
		return c->last_found;
	sqlite3_reset(c->st);
	sqlite3_bind_text(c->st, 1, code, -1, SQLITE_STATIC);
	rc = sqlite3_step(c->st);
	sqlite3_reset(c->st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_err(s, rc, "region lookup", eb);
	(void)snprintf(c->last, sizeof(c->last), "%s", code);
	c->last_found = rc == SQLITE_ROW;
	return c->last_found;
}

static void
unknown_region(struct diag_list *diags, const char *file, long line,
    const char *region)
{
	(void)diag_add(diags, DIAG_ERROR, file, line, "region",
	    "unknown region %s (import it in regions.csv first)", region);
}

/* A row the store refused: say why in the words of the roster. */
static void
row_refused(struct store *s, struct diag_list *diags, const char *file,
    long line, const char *region, int rc)
{
	if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
		(void)diag_add(diags, DIAG_ERROR, file, line, "region",
		    "unknown region %s (import it in regions.csv first)",
		    region);
	else
		(void)diag_add(diags, DIAG_ERROR, file, line, NULL,
		    "row rejected by the store: %s", sqlite3_errmsg(s->db));
}

static void
bind_responder(sqlite3_stmt *st, const struct roster_responder *r,
    int64_t now)
{
	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, r->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, r->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, r->region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, r->role, -1, SQLITE_STATIC);
	bind_text_or_null(st, 5, r->phone);
	bind_text_or_null(st, 6, r->email);
	bind_text_or_null(st, 7, r->wecom);
	bind_text_or_null(st, 8, r->dingtalk);
	bind_text_or_null(st, 9, r->telegram);
	bind_text_or_null(st, 10, r->wechat);
	sqlite3_bind_int(st, 11, r->active != 0);
	sqlite3_bind_int(st, 12, r->exercise != 0);
	sqlite3_bind_int64(st, 13, now);
	bind_text_or_null(st, 14, r->prefer);
}

/*
 * Rows are inserted, and updated only when the id exists: a plain INSERT
 * is much cheaper than an upsert for the first import of a large roster
 * (2.5 s against 3.9 s for 500k rows here).
 */
static int
import_responders(struct store *s, const struct roster *ro, int64_t now,
    struct diag_list *diags, struct eng_errbuf *eb)
{
	struct region_check rc_check = { NULL, "", 0 };
	sqlite3_stmt *ins = NULL, *upd = NULL;
	size_t i;
	int rv, rc;

	if ((rv = store_prepare(s, "INSERT INTO responders (id, name, "
	    "region, role, phone, email, wecom, dingtalk, telegram, wechat, "
	    "active, exercise, updated_ms, prefer) VALUES (?1,?2,?3,?4,?5,?6,"
	    "?7,?8,?9,?10,?11,?12,?13,?14)", &ins, eb)) != 0 ||
	    (rv = store_prepare(s, "UPDATE responders SET name = ?2, "
	    "region = ?3, role = ?4, phone = ?5, email = ?6, wecom = ?7, "
	    "dingtalk = ?8, telegram = ?9, wechat = ?10, active = ?11, "
	    "exercise = ?12, updated_ms = ?13, prefer = ?14 WHERE id = ?1",
	    &upd, eb)) != 0 ||
	    (rv = store_prepare(s, "SELECT 1 FROM regions WHERE code = ?",
	    &rc_check.st, eb)) != 0)
		goto out;
	for (i = 0; i < ro->nresponders; i++) {
		const struct roster_responder *r = &ro->responders[i];

		if ((rc = region_exists(s, &rc_check, r->region, eb)) < 0) {
			rv = rc;
			break;
		}
		if (rc == 0) {
			unknown_region(diags, ro->file, r->line, r->region);
			continue;
		}
		bind_responder(ins, r, now);
		rc = sqlite3_step(ins);
		if (rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
			bind_responder(upd, r, now);
			rc = sqlite3_step(upd);
		}
		if (rc == SQLITE_DONE)
			continue;
		if ((rc & 0xff) != SQLITE_CONSTRAINT) {
			rv = store_err(s, rc, "responder import", eb);
			break;
		}
		row_refused(s, diags, ro->file, r->line, r->region, rc);
	}
out:
	sqlite3_finalize(ins);
	sqlite3_finalize(upd);
	sqlite3_finalize(rc_check.st);
	return rv;
}

static void
bind_device(sqlite3_stmt *st, const struct roster_device *d, int64_t now)
{
	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, d->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, d->region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, device_kind_name(d->kind), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, d->channel, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, d->address, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, now);
}

/* As responders: insert, and update only the ids that exist. */
static int
import_devices(struct store *s, const struct roster *ro, int64_t now,
    struct diag_list *diags, struct eng_errbuf *eb)
{
	struct region_check rc_check = { NULL, "", 0 };
	sqlite3_stmt *ins = NULL, *upd = NULL;
	size_t i;
	int rv, rc;

	if ((rv = store_prepare(s, "INSERT INTO devices (id, region, kind, "
	    "channel, address, updated_ms) VALUES (?1,?2,?3,?4,?5,?6)", &ins,
	    eb)) != 0 ||
	    (rv = store_prepare(s, "UPDATE devices SET region = ?2, "
	    "kind = ?3, channel = ?4, address = ?5, updated_ms = ?6 "
	    "WHERE id = ?1", &upd, eb)) != 0 ||
	    (rv = store_prepare(s, "SELECT 1 FROM regions WHERE code = ?",
	    &rc_check.st, eb)) != 0)
		goto out;
	for (i = 0; i < ro->ndevices; i++) {
		const struct roster_device *d = &ro->devices[i];

		if ((rc = region_exists(s, &rc_check, d->region, eb)) < 0) {
			rv = rc;
			break;
		}
		if (rc == 0) {
			unknown_region(diags, ro->file, d->line, d->region);
			continue;
		}
		bind_device(ins, d, now);
		rc = sqlite3_step(ins);
		if (rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
			bind_device(upd, d, now);
			rc = sqlite3_step(upd);
		}
		if (rc == SQLITE_DONE)
			continue;
		if ((rc & 0xff) != SQLITE_CONSTRAINT) {
			rv = store_err(s, rc, "device import", eb);
			break;
		}
		row_refused(s, diags, ro->file, d->line, d->region, rc);
	}
out:
	sqlite3_finalize(ins);
	sqlite3_finalize(upd);
	sqlite3_finalize(rc_check.st);
	return rv;
}

int
store_import(struct store *s, const struct roster *r, int dry_run,
    struct store_import_result *res, struct diag_list *diags,
    struct eng_errbuf *eb)
{
	const char *table;
	long long before = 0, after = 0, rows;
	size_t errs0 = diags->nerrors;
	int64_t now = eng_clock_now_ms(s->clock);
	sqlite3_stmt *st;
	int rv;

	memset(res, 0, sizeof(*res));
	switch (r->kind) {
	case ROSTER_REGIONS:
		table = "regions";
		rows = (long long)r->nregions;
		break;
	case ROSTER_RESPONDERS:
		table = "responders";
		rows = (long long)r->nresponders;
		break;
	case ROSTER_DEVICES:
		table = "devices";
		rows = (long long)r->ndevices;
		break;
	default:
		return eng_error(eb, ENG_EINVAL, "import: unknown roster kind");
	}
	/* A large import touches many pages: keep them in memory for the
	 * transaction instead of spilling them to the WAL and reading them
	 * back (about 3x faster at 500k rows), then give the memory back. */
	(void)store_exec(s, "PRAGMA cache_size = -" IMPORT_CACHE_KIB, NULL);
	if ((rv = store_exec(s, "BEGIN IMMEDIATE", eb)) != 0)
		goto out;
	/* Foreign keys are checked at COMMIT instead of after every row
	 * (which costs a statement journal per row); the rows' regions are
	 * checked here one by one, so that each bad row gets its line. */
	if ((rv = store_exec(s, "PRAGMA defer_foreign_keys = ON", eb)) != 0)
		goto rollback;
	if ((rv = count_rows(s, table, &before, eb)) != 0)
		goto rollback;
	if (r->kind == ROSTER_REGIONS)
		rv = import_regions(s, r, now, diags, eb);
	else if (r->kind == ROSTER_RESPONDERS)
		rv = import_responders(s, r, now, diags, eb);
	else
		rv = import_devices(s, r, now, diags, eb);
	if (rv != 0)
		goto rollback;
	if (diags->nerrors > errs0) {
		rv = eng_error(eb, ENG_EINVAL, "%s: %zu row(s) rejected; "
		    "nothing imported", r->file ? r->file : table,
		    diags->nerrors - errs0);
		goto rollback;
	}
	if ((rv = count_rows(s, table, &after, eb)) != 0)
		goto rollback;
	res->inserted = after - before;
	res->updated = rows - res->inserted;
	if (dry_run) {
		rv = 0;
		goto rollback;
	}
	if ((rv = store_prepare(s, "INSERT INTO imports (kind, file, rows, "
	    "inserted, updated, at_ms) VALUES (?,?,?,?,?,?)", &st, eb)) != 0)
		goto rollback;
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	bind_text_or_null(st, 2, r->file);
	sqlite3_bind_int64(st, 3, rows);
	sqlite3_bind_int64(st, 4, res->inserted);
	sqlite3_bind_int64(st, 5, res->updated);
	sqlite3_bind_int64(st, 6, now);
	rv = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rv != SQLITE_DONE) {
		rv = store_err(s, rv, "import log", eb);
		goto rollback;
	}
	if ((rv = store_exec(s, "COMMIT", eb)) != 0)
		goto rollback;
	goto out;
rollback:
	(void)store_exec(s, "ROLLBACK", NULL);
out:
	(void)store_exec(s, "PRAGMA cache_size = -2000; PRAGMA shrink_memory",
	    NULL);
	return rv;
}
