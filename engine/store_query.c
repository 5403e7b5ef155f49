/*
 * engine/store_query.c - reading the administrative tree and its people.
 */
#include "engine/store_int.h"
#include "engine/roster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REGION_COLS "code, name, level, parent, lat, lon"

/* Fill r from a row of REGION_COLS; strings borrowed from st. */
static void
region_from_row(sqlite3_stmt *st, struct store_region *r)
{
	const char *p;

	memset(r, 0, sizeof(*r));
	(void)snprintf(r->code, sizeof(r->code), "%s", store_col_text(st, 0));
	r->name = (char *)store_col_text(st, 1);
	r->level = (enum region_level)sqlite3_column_int(st, 2);
	p = store_col_text(st, 3);
	(void)snprintf(r->parent, sizeof(r->parent), "%s", p ? p : "");
	if (sqlite3_column_type(st, 4) != SQLITE_NULL &&
	    sqlite3_column_type(st, 5) != SQLITE_NULL) {
		r->has_centroid = 1;
		r->lat = sqlite3_column_double(st, 4);
		r->lon = sqlite3_column_double(st, 5);
	}
}

void
store_region_release(struct store_region *r)
{
	if (r == NULL)
		return;
	free(r->name);
	r->name = NULL;
}

/*
 * Step st (REGION_COLS, then the path when path != NULL, bound to code
 * as ?1 here) into out, its name copied; the path into path (size).
 * ENG_ENOENT when there is no such region.  The caller resets st.
 */
static int
region_fetch(struct store *s, sqlite3_stmt *st, const char *code,
    struct store_region *out, char *path, size_t size,
    struct eng_errbuf *eb)
{
	const char *p;
	int rc;

	sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return eng_error(eb, ENG_ENOENT, "region %s not found", code);
	if (rc != SQLITE_ROW)
		return store_err(s, rc, "region get", eb);
	region_from_row(st, out);
	if ((out->name = strdup(out->name ? out->name : "")) == NULL)
		return eng_error(eb, ENG_ENOMEM, "out of memory");
	if (path == NULL)
		return 0;
	p = store_col_text(st, 6);
	if ((size_t)snprintf(path, size, "%s", p ? p : "") >= size) {
		store_region_release(out);
		return eng_error(eb, ENG_EIO, "region path too long");
	}
	return 0;
}

int
store_region_get(struct store *s, const char *code, struct store_region *out,
    struct eng_errbuf *eb)
{
	sqlite3_stmt *st;
	int rv;

	memset(out, 0, sizeof(*out));
	if ((rv = store_cached(s, STORE_ST_REGION_GET, "SELECT " REGION_COLS
	    " FROM regions WHERE code = ?", &st, eb)) != 0)
		return rv;
	rv = region_fetch(s, st, code, out, NULL, 0, eb);
	sqlite3_reset(st);
	return rv;
}

int
store_region_counts(struct store *s, const char *code,
    struct store_counts *out, struct eng_errbuf *eb)
{
	char path[512], hi[512];
	sqlite3_stmt *st;
	int rv, rc;

	memset(out, 0, sizeof(*out));
	if ((rv = store_subtree_range(s, code, path, hi, sizeof(path),
	    eb)) != 0)
		return rv;
	if ((rv = store_prepare(s,
	    "SELECT (SELECT count(*) FROM regions WHERE path >= ?1 AND "
	    "  path < ?2),"
	    " (SELECT count(*) FROM regions g JOIN responders r ON "
	    "  r.region = g.code WHERE g.path >= ?1 AND g.path < ?2),"
	    " (SELECT count(*) FROM regions g JOIN devices d ON "
	    "  d.region = g.code WHERE g.path >= ?1 AND g.path < ?2)",
	    &st, eb)) != 0)
		return rv;
	store_bind_str(st, 1, path);
	store_bind_str(st, 2, hi);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->regions = sqlite3_column_int64(st, 0);
		out->responders = sqlite3_column_int64(st, 1);
		out->devices = sqlite3_column_int64(st, 2);
	} else {
		rv = store_err(s, rc, "region counts", eb);
	}
	sqlite3_finalize(st);
	return rv;
}

static int
walk_regions(struct store *s, sqlite3_stmt *st, store_region_cb cb,
    void *arg, struct eng_errbuf *eb)
{
	struct store_region r;
	int rc, rv = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		region_from_row(st, &r);
		if ((rv = cb(arg, &r)) != 0)
			return rv;
	}
	if (rc != SQLITE_DONE)
		return store_err(s, rc, "region walk", eb);
	return 0;
}

/*
 * Ancestors are exactly the regions whose path is a proper prefix of
 * this one; the path lists their codes in order, each followed by '/'.
 * cb(arg, c) for each code of path before code's own.
 */
static int
path_codes(const char *path, const char *code, store_code_cb cb, void *arg)
{
	const char *p = path, *slash;
	char c[REGION_CODE_SIZE];
	size_t n;
	int rv;

	while ((slash = strchr(p, '/')) != NULL) {
		if ((n = (size_t)(slash - p)) != REGION_CODE_LEN)
			break;
		memcpy(c, p, n);
		c[n] = '\0';
		p = slash + 1;
		if (strcmp(c, code) == 0)
			break;
		if ((rv = cb(arg, c)) != 0)
			return rv;
	}
	return 0;
}

struct parent_walk {
	struct store *s;
	sqlite3_stmt *st;
	store_region_cb cb;
	void *arg;
	struct eng_errbuf *eb;
};

static int
parent_row(void *arg, const char *c)
{
	struct parent_walk *w = arg;

	sqlite3_reset(w->st);
	sqlite3_bind_text(w->st, 1, c, -1, SQLITE_TRANSIENT);
	return walk_regions(w->s, w->st, w->cb, w->arg, w->eb);
}

int
store_region_parents(struct store *s, const char *code, store_region_cb cb,
    void *arg, struct eng_errbuf *eb)
{
	struct parent_walk w = { s, NULL, cb, arg, eb };
	char path[512], hi[512];
	int rv;

	if ((rv = store_subtree_range(s, code, path, hi, sizeof(path),
	    eb)) != 0)
		return rv;
	if ((rv = store_cached(s, STORE_ST_PARENT_ROW, "SELECT " REGION_COLS
	    " FROM regions WHERE code = ?", &w.st, eb)) != 0)
		return rv;
	rv = path_codes(path, code, parent_row, &w);
	sqlite3_reset(w.st);
	return rv;
}

int
store_region_chain(struct store *s, const char *code,
    struct store_region *out, store_code_cb cb, void *arg,
    struct eng_errbuf *eb)
{
	char path[512];
	sqlite3_stmt *st;
	int rv;

	memset(out, 0, sizeof(*out));
	if ((rv = store_cached(s, STORE_ST_REGION_CHAIN, "SELECT " REGION_COLS
	    ", path FROM regions WHERE code = ?", &st, eb)) != 0)
		return rv;
	rv = region_fetch(s, st, code, out, path, sizeof(path), eb);
	sqlite3_reset(st);	/* no statement open in the callbacks */
	if (rv == 0)
		rv = path_codes(path, code, cb, arg);
	if (rv != 0)
		store_region_release(out);
	return rv;
}

int
store_responder_brief(struct store *s, const char *id, char *name,
    size_t nsize, char *role, size_t rsize, struct eng_errbuf *eb)
{
	sqlite3_stmt *st;
	int rv, rc;

	if ((rv = store_cached(s, STORE_ST_RESPONDER_BRIEF, "SELECT name, "
	    "role FROM responders WHERE id = ?", &st, eb)) != 0)
		return rv;
	store_bind_str(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		(void)snprintf(name, nsize, "%s", store_col_text(st, 0) ?
		    store_col_text(st, 0) : "");
		(void)snprintf(role, rsize, "%s", store_col_text(st, 1) ?
		    store_col_text(st, 1) : "");
	} else if (rc == SQLITE_DONE) {
		rv = eng_error(eb, ENG_ENOENT, "responder %s not found", id);
	} else {
		rv = store_err(s, rc, "responder", eb);
	}
	sqlite3_reset(st);
	return rv;
}

int
store_region_children(struct store *s, const char *code, store_region_cb cb,
    void *arg, struct eng_errbuf *eb)
{
	sqlite3_stmt *st;
	int rv;

	if ((rv = store_prepare(s, "SELECT " REGION_COLS " FROM regions "
	    "WHERE parent = ? ORDER BY code", &st, eb)) != 0)
		return rv;
	sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
	rv = walk_regions(s, st, cb, arg, eb);
	sqlite3_finalize(st);
	return rv;
}

/*
 * List helper: count, then page.  sel is the column list, from the FROM
 * clause on; the rows of table t joined with regions g.
 */
struct list_cb {
	store_responder_cb responder;
	store_device_cb device;
	void *arg;
};

static int
list_rows(struct store *s, const char *code, int subtree, long long limit,
    long long offset, const char *cols, const char *table,
    int (*row)(sqlite3_stmt *, const struct list_cb *),
    const struct list_cb *cb, long long *total, struct eng_errbuf *eb)
{
	char path[512], hi[512], sql[1024];
	const char *where;
	sqlite3_stmt *st = NULL;
	int rv, rc;

	if ((rv = store_subtree_range(s, code, path, hi, sizeof(path),
	    eb)) != 0)
		return rv;
	where = subtree ? "g.path >= ?1 AND g.path < ?2" : "g.code = ?3";
	if (total != NULL) {
		(void)snprintf(sql, sizeof(sql), "SELECT count(*) FROM regions "
		    "g JOIN %s t ON t.region = g.code WHERE %s", table, where);
		if ((rv = store_prepare(s, sql, &st, eb)) != 0)
			return rv;
		if (subtree) {
			store_bind_str(st, 1, path);
			store_bind_str(st, 2, hi);
		} else {
			store_bind_str(st, 3, code);
		}
		rc = sqlite3_step(st);
		if (rc != SQLITE_ROW) {
			rv = store_err(s, rc, "list count", eb);
			goto out;
		}
		*total = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		st = NULL;
	}
	(void)snprintf(sql, sizeof(sql), "SELECT %s FROM regions g JOIN %s t "
	    "ON t.region = g.code WHERE %s ORDER BY g.path, t.id "
	    "LIMIT ?4 OFFSET ?5", cols, table, where);
	if ((rv = store_prepare(s, sql, &st, eb)) != 0)
		return rv;
	if (subtree) {
		store_bind_str(st, 1, path);
		store_bind_str(st, 2, hi);
	} else {
		store_bind_str(st, 3, code);
	}
	sqlite3_bind_int64(st, 4, limit < 0 ? -1 : limit);
	sqlite3_bind_int64(st, 5, offset < 0 ? 0 : offset);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((rv = row(st, cb)) != 0)
			goto out;
	if (rc != SQLITE_DONE)
		rv = store_err(s, rc, "list", eb);
out:
	sqlite3_finalize(st);
	return rv;
}

static char *
mtext(sqlite3_stmt *st, int i)
{
	return (char *)store_col_text(st, i);
}

static int
responder_row(sqlite3_stmt *st, const struct list_cb *cb)
{
	struct roster_responder r;

	memset(&r, 0, sizeof(r));
	r.id = mtext(st, 0);
	r.name = mtext(st, 1);
	(void)snprintf(r.region, sizeof(r.region), "%s", store_col_text(st, 2));
	r.role = mtext(st, 3);
	r.phone = mtext(st, 4);
	r.email = mtext(st, 5);
	r.wecom = mtext(st, 6);
	r.dingtalk = mtext(st, 7);
	r.telegram = mtext(st, 8);
	r.wechat = mtext(st, 9);
	r.active = sqlite3_column_int(st, 10);
	r.exercise = sqlite3_column_int(st, 11);
	r.prefer = mtext(st, 12);
	return cb->responder(cb->arg, &r);
}

static int
device_row(sqlite3_stmt *st, const struct list_cb *cb)
{
	struct roster_device d;

	memset(&d, 0, sizeof(d));
	d.id = mtext(st, 0);
	(void)snprintf(d.region, sizeof(d.region), "%s", store_col_text(st, 1));
	d.kind = device_kind_parse(store_col_text(st, 2));
	d.channel = mtext(st, 3);
	d.address = mtext(st, 4);
	return cb->device(cb->arg, &d);
}

int
store_responders_list(struct store *s, const char *code, int subtree,
    long long limit, long long offset, store_responder_cb cb, void *arg,
    long long *total, struct eng_errbuf *eb)
{
	struct list_cb c = { cb, NULL, arg };

	return list_rows(s, code, subtree, limit, offset,
	    "t.id, t.name, t.region, t.role, t.phone, t.email, t.wecom, "
	    "t.dingtalk, t.telegram, t.wechat, t.active, t.exercise, "
	    "t.prefer",
	    "responders", responder_row, &c, total, eb);
}

int
store_devices_list(struct store *s, const char *code, int subtree,
    long long limit, long long offset, store_device_cb cb, void *arg,
    long long *total, struct eng_errbuf *eb)
{
	struct list_cb c = { NULL, cb, arg };

	return list_rows(s, code, subtree, limit, offset,
	    "t.id, t.region, t.kind, t.channel, t.address",
	    "devices", device_row, &c, total, eb);
}
