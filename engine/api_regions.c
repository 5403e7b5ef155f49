/*
 * engine/api_regions.c - the administrative tree over HTTP: regions,
 * their responders and devices, and roster import.
 */
#include "engine/api_int.h"
#include "engine/clock.h"
#include "engine/log.h"
#include "engine/region.h"
#include "engine/roster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A subtree answer larger than this is refused (ask a smaller depth). */
#define MAX_TREE_NODES 20000
#define MAX_DEPTH 5
#define MAX_LIST 10000

static json_t *
counts_json(const struct store_counts *n)
{
	return json_pack("{s:I,s:I,s:I}", "regions", (json_int_t)n->regions,
	    "responders", (json_int_t)n->responders,
	    "devices", (json_int_t)n->devices);
}

static json_t *
region_json(const struct store_region *g)
{
	json_t *j;

	j = json_pack("{s:s,s:s,s:i,s:s,s:s}", "code", g->code,
	    "name", g->name ? g->name : "", "level", (int)g->level,
	    "level_name", region_level_name(g->level) ?
	    region_level_name(g->level) : "",
	    "level_name_zh", region_level_name_zh(g->level) ?
	    region_level_name_zh(g->level) : "");
	if (j == NULL)
		return NULL;
	(void)json_object_set_new(j, "parent", g->parent[0] ?
	    json_string(g->parent) : json_null());
	if (g->has_centroid) {
		(void)json_object_set_new(j, "lat", json_real(g->lat));
		(void)json_object_set_new(j, "lon", json_real(g->lon));
	} else {
		(void)json_object_set_new(j, "lat", json_null());
		(void)json_object_set_new(j, "lon", json_null());
	}
	return j;
}

struct tree_walk {
	struct store *s;
	json_t *arr;
	int depth;		/* levels still to expand below this one */
	size_t *nodes;
	int err;		/* ENG_ETOOBIG, ENG_ENOMEM, store error */
	struct eng_errbuf *eb;
};

static int children_of(struct store *s, const char *code, int depth,
    json_t *arr, size_t *nodes, struct eng_errbuf *eb);

static int
child_cb(void *arg, const struct store_region *g)
{
	struct tree_walk *w = arg;
	struct store_counts n;
	json_t *j, *kids;
	int rv;

	if (++*w->nodes > MAX_TREE_NODES)
		return ENG_ETOOBIG;
	if ((j = region_json(g)) == NULL)
		return ENG_ENOMEM;
	if ((rv = store_region_counts(w->s, g->code, &n, w->eb)) != 0) {
		json_decref(j);
		return rv;
	}
	(void)json_object_set_new(j, "counts", counts_json(&n));
	if (w->depth > 1) {
		if ((kids = json_array()) == NULL) {
			json_decref(j);
			return ENG_ENOMEM;
		}
		(void)json_object_set_new(j, "children", kids);
		/* The walk's statement is still open; a nested walk uses
		 * statements of its own on the same connection. */
		if ((rv = children_of(w->s, g->code, w->depth - 1, kids,
		    w->nodes, w->eb)) != 0) {
			json_decref(j);
			return rv;
		}
	}
	return json_array_append_new(w->arr, j) == 0 ? 0 : ENG_ENOMEM;
}

static int
children_of(struct store *s, const char *code, int depth, json_t *arr,
    size_t *nodes, struct eng_errbuf *eb)
{
	struct tree_walk w = { s, arr, depth, nodes, 0, eb };

	return store_region_children(s, code, child_cb, &w, eb);
}

static int
parent_cb(void *arg, const struct store_region *g)
{
	json_t *arr = arg;

	const char *ln = region_level_name(g->level);

	return json_array_append_new(arr, json_pack("{s:s,s:s,s:i,s:s}",
	    "code", g->code, "name", g->name ? g->name : "", "level",
	    (int)g->level, "level_name", ln ? ln : "")) == 0 ? 0 : ENG_ENOMEM;
}

static enum MHD_Result
bad_code(struct MHD_Connection *c, struct api_req *r, const char *why)
{
	return api_reply_error(c, r, MHD_HTTP_BAD_REQUEST, "bad_region_code",
	    why, NULL);
}

static enum MHD_Result
store_failure(struct MHD_Connection *c, struct api_req *r, int rv,
    const struct eng_errbuf *eb)
{
	if (rv == ENG_ENOENT)
		return api_reply_error(c, r, MHD_HTTP_NOT_FOUND, "not_found",
		    eb->msg, NULL);
	log_error("api.store", "route=%s error=\"%s\"",
	    api_route_name(r->route), eb->msg);
	return api_reply_error(c, r, MHD_HTTP_INTERNAL_SERVER_ERROR,
	    "store_error", eb->msg, NULL);
}

enum MHD_Result
api_h_region(struct MHD_Connection *c, struct api_req *r)
{
	struct api *a = r->api;
	char code[REGION_CODE_SIZE];
	struct store_region g;
	struct store_counts n;
	struct eng_errbuf eb;
	json_t *j = NULL, *reg, *parents, *kids;
	struct store *s;
	long long depth;
	size_t nodes = 0;
	int rv;

	eng_errbuf_init(&eb);
	if (region_code_norm(r->code, strlen(r->code), code, &eb) != 0)
		return bad_code(c, r, eb.msg);
	if (api_arg_ll(c, "depth", 0, MAX_DEPTH, 1, &depth) != 0)
		return api_reply_error(c, r, MHD_HTTP_BAD_REQUEST, "bad_depth",
		    "depth must be an integer from 0 to 5", NULL);
	s = api_store_get(a);
	if ((rv = store_region_get(s, code, &g, &eb)) != 0) {
		api_store_put(a, s);
		return store_failure(c, r, rv, &eb);
	}
	reg = region_json(&g);
	store_region_release(&g);
	parents = json_array();
	kids = json_array();
	if (reg == NULL || parents == NULL || kids == NULL) {
		rv = ENG_ENOMEM;
		goto out;
	}
	if ((rv = store_region_counts(s, code, &n, &eb)) != 0)
		goto out;
	(void)json_object_set_new(reg, "counts", counts_json(&n));
	if ((rv = store_region_parents(s, code, parent_cb, parents,
	    &eb)) != 0)
		goto out;
	if (depth > 0 && (rv = children_of(s, code, (int)depth, kids, &nodes,
	    &eb)) != 0)
		goto out;
	j = json_pack("{s:o,s:o,s:o}", "region", reg, "parents", parents,
	    "children", kids);
	reg = parents = kids = NULL;
out:
	api_store_put(a, s);
	json_decref(reg);
	json_decref(parents);
	json_decref(kids);
	if (rv == ENG_ETOOBIG)
		return api_reply_error(c, r, MHD_HTTP_BAD_REQUEST,
		    "subtree_too_large", "the subtree at this depth has more "
		    "than 20000 regions; ask for a smaller depth", NULL);
	if (rv == ENG_ENOMEM || (rv == 0 && j == NULL))
		return MHD_NO;
	if (rv != 0)
		return store_failure(c, r, rv, &eb);
	return api_reply_json(c, r, MHD_HTTP_OK, j);
}

static json_t *
str_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

/* The stored preference list ("wecom,phone") as an array of its names
 * in order; [] if none. */
static json_t *
prefer_json(const char *s)
{
	enum roster_pref v[ROSTER_PREF_COUNT];
	json_t *arr = json_array();
	int i, n;

	if (arr == NULL)
		return NULL;
	n = roster_prefs_parse(s, v, NULL, NULL);
	for (i = 0; i < n; i++)
		(void)json_array_append_new(arr,
		    json_string(roster_pref_name(v[i])));
	return arr;
}

static int
responder_cb(void *arg, const struct roster_responder *p)
{
	json_t *arr = arg, *j;

	j = json_pack("{s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:b,s:b,s:o}",
	    "id", p->id, "name", p->name ? p->name : "", "region", p->region,
	    "role", p->role ? p->role : "",
	    "phone", str_or_null(p->phone), "email", str_or_null(p->email),
	    "wecom", str_or_null(p->wecom),
	    "dingtalk", str_or_null(p->dingtalk),
	    "telegram", str_or_null(p->telegram),
	    "wechat", str_or_null(p->wechat),
	    "active", p->active, "exercise", p->exercise,
	    "prefer", prefer_json(p->prefer));
	return json_array_append_new(arr, j) == 0 ? 0 : ENG_ENOMEM;
}

static int
device_cb(void *arg, const struct roster_device *d)
{
	json_t *arr = arg, *j;
	const char *kind = device_kind_name(d->kind);

	j = json_pack("{s:s,s:s,s:s,s:s,s:s}", "id", d->id, "region",
	    d->region, "kind", kind ? kind : "", "channel",
	    d->channel ? d->channel : "", "address",
	    d->address ? d->address : "");
	return json_array_append_new(arr, j) == 0 ? 0 : ENG_ENOMEM;
}

enum MHD_Result
api_h_region_list(struct MHD_Connection *c, struct api_req *r)
{
	struct api *a = r->api;
	char code[REGION_CODE_SIZE];
	struct eng_errbuf eb;
	long long subtree, limit, offset, total = 0;
	struct store *s;
	json_t *arr, *j;
	int rv, resp = r->route == ROUTE_REGION_RESPONDERS;

	eng_errbuf_init(&eb);
	if (region_code_norm(r->code, strlen(r->code), code, &eb) != 0)
		return bad_code(c, r, eb.msg);
	if (api_arg_ll(c, "subtree", 0, 1, 0, &subtree) != 0 ||
	    api_arg_ll(c, "limit", 0, MAX_LIST, 1000, &limit) != 0 ||
	    api_arg_ll(c, "offset", 0, 1LL << 40, 0, &offset) != 0)
		return api_reply_error(c, r, MHD_HTTP_BAD_REQUEST, "bad_query",
		    "subtree is 0 or 1; limit 0..10000; offset >= 0", NULL);
	if ((arr = json_array()) == NULL)
		return MHD_NO;
	s = api_store_get(a);
	if (resp)
		rv = store_responders_list(s, code, (int)subtree, limit,
		    offset, responder_cb, arr, &total, &eb);
	else
		rv = store_devices_list(s, code, (int)subtree, limit, offset,
		    device_cb, arr, &total, &eb);
	api_store_put(a, s);
	if (rv != 0) {
		json_decref(arr);
		if (rv == ENG_ENOMEM)
			return MHD_NO;
		return store_failure(c, r, rv, &eb);
	}
	j = json_pack("{s:s,s:I,s:I,s:I,s:o}", "region", code,
	    "total", (json_int_t)total, "limit", (json_int_t)limit,
	    "offset", (json_int_t)offset,
	    resp ? "responders" : "devices", arr);
	return api_reply_json(c, r, MHD_HTTP_OK, j);
}

static json_t *
diags_json(const struct diag_list *d)
{
	json_t *arr = json_array();
	size_t i;

	if (arr == NULL)
		return NULL;
	for (i = 0; i < d->n; i++) {
		const struct diag *x = &d->v[i];

		(void)json_array_append_new(arr, json_pack(
		    "{s:o,s:I,s:o,s:s,s:s}",
		    "file", str_or_null(x->file), "line", (json_int_t)x->line,
		    "column", str_or_null(x->path),
		    "severity", x->sev == DIAG_ERROR ? "error" : "warning",
		    "message", x->msg));
	}
	return arr;
}

/* Device rows must name a configured channel. */
static void
check_device_channels(struct api *a, const struct roster *ro,
    struct diag_list *d)
{
	size_t i, k;

	pthread_mutex_lock(&a->lock);
	if (a->channels != NULL) {
		for (i = 0; i < ro->ndevices; i++) {
			const struct roster_device *dv = &ro->devices[i];
			int found = 0;

			for (k = 0; a->channels[k] != NULL; k++)
				if (strcmp(a->channels[k], dv->channel) == 0)
					found = 1;
			if (!found)
				(void)diag_add(d, DIAG_ERROR, ro->file,
				    dv->line, "channel", "channel '%s' is not "
				    "configured", dv->channel);
		}
	}
	pthread_mutex_unlock(&a->lock);
}

enum MHD_Result
api_h_import(struct MHD_Connection *c, struct api_req *r)
{
	struct api *a = r->api;
	struct store_import_result res;
	enum roster_encoding enc = ROSTER_ENC_AUTO;
	struct diag_list d;
	struct eng_errbuf eb;
	struct roster ro;
	struct store *s;
	enum roster_kind kind;
	const char *file, *e;
	long long dry;
	enum MHD_Result ret;
	int64_t t0, t1, t2;
	int rv;
	char fname[256];

	eng_errbuf_init(&eb);
	if ((kind = roster_kind_parse(r->code)) == 0)
		return api_reply_error(c, r, MHD_HTTP_NOT_FOUND, "not_found",
		    "import kinds are regions, responders and devices", NULL);
	if ((e = api_arg(c, "encoding")) != NULL &&
	    roster_encoding_parse(e, &enc) != 0)
		return api_reply_error(c, r, MHD_HTTP_BAD_REQUEST,
		    "bad_encoding", "encoding is auto, utf-8 or gbk", NULL);
	if (api_arg_ll(c, "dry_run", 0, 1, 0, &dry) != 0)
		return api_reply_error(c, r, MHD_HTTP_BAD_REQUEST, "bad_query",
		    "dry_run is 0 or 1", NULL);
	file = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    "X-Gong-Filename");
	(void)snprintf(fname, sizeof(fname), "%s", file && *file ? file :
	    roster_kind_name(kind));
	if (r->len == 0)
		return api_reply_error(c, r, MHD_HTTP_BAD_REQUEST, "empty_body",
		    "the request body must be the CSV file", NULL);

	diag_list_init(&d);
	d.max = 1000;
	roster_init(&ro);
	t0 = eng_mono_ms();
	rv = roster_parse(kind, r->body, r->len, fname, enc, &ro, &d);
	t1 = eng_mono_ms();
	if (rv == 0 && kind == ROSTER_DEVICES) {
		check_device_channels(a, &ro, &d);
		if (d.nerrors > 0)
			rv = ENG_EINVAL;
	}
	if (rv == 0) {
		s = api_store_get(a);
		rv = store_import(s, &ro, (int)dry, &res, &d, &eb);
		api_store_put(a, s);
	}
	t2 = eng_mono_ms();
	if (rv == ENG_EINVAL) {
		char msg[400];

		(void)snprintf(msg, sizeof(msg), "%s: %zu error(s); nothing "
		    "imported", fname, d.nerrors);
		log_warn("roster.rejected", "kind=%s file=\"%s\" errors=%zu",
		    roster_kind_name(kind), fname, d.nerrors);
		ret = api_reply_error(c, r, MHD_HTTP_UNPROCESSABLE_CONTENT,
		    "invalid_roster", msg, diags_json(&d));
	} else if (rv == ENG_ETOOBIG) {
		ret = api_reply_error(c, r, MHD_HTTP_CONTENT_TOO_LARGE,
		    "body_too_large", "roster file too large", NULL);
	} else if (rv != 0) {
		ret = api_reply_error(c, r, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "import_failed", eb.msg[0] ? eb.msg : eng_strerror(rv),
		    NULL);
	} else {
		size_t rows = kind == ROSTER_REGIONS ? ro.nregions :
		    kind == ROSTER_RESPONDERS ? ro.nresponders : ro.ndevices;

		log_info("roster.imported", "kind=%s file=\"%s\" rows=%zu "
		    "inserted=%lld updated=%lld dry_run=%d parse_ms=%lld "
		    "store_ms=%lld", roster_kind_name(kind), fname, rows,
		    res.inserted, res.updated, (int)dry, (long long)(t1 - t0),
		    (long long)(t2 - t1));
		ret = api_reply_json(c, r, MHD_HTTP_OK, json_pack(
		    "{s:s,s:s,s:I,s:I,s:I,s:b}", "kind", roster_kind_name(kind),
		    "file", fname, "rows", (json_int_t)rows,
		    "inserted", (json_int_t)res.inserted,
		    "updated", (json_int_t)res.updated, "dry_run", (int)dry));
	}
	roster_release(&ro);
	diag_list_release(&d);
	return ret;
}
