/*
 * engine/api.h - gongd's HTTP server: the API, health and metrics.
 *
 * Served by libmicrohttpd with its own threads; every handler gets a
 * store connection of its own from a small pool.  Routes:
 *
 *   GET  /healthz                          store reachable, uptime, version
 *   GET  /metrics                          Prometheus text format
 *   GET  /api/v1/regions/{code}[?depth=N]  region, parents, subtree counts
 *   GET  /api/v1/regions/{code}/responders [?subtree=1&limit=&offset=]
 *   GET  /api/v1/regions/{code}/devices    [same]
 *   POST /api/v1/import/{regions|responders|devices}[?encoding=&dry_run=]
 *   GET  /api/v1/backup                    consistent copy of the store
 *
 * Everything under /api/v1/ needs "Authorization: Bearer <token>".
 * Errors are JSON {"error":{"code","message"}} with the HTTP status.
 */
#ifndef ENGINE_API_H
#define ENGINE_API_H

#include <stddef.h>
#include <stdint.h>

#include "engine/err.h"

struct api;

struct api_config {
	const char *host;		/* "127.0.0.1", "::1", "0.0.0.0" */
	unsigned port;			/* 0: pick a free port */
	size_t max_body;		/* request body cap (413 above) */
	unsigned conn_timeout_s;	/* idle connection timeout */
	unsigned max_conns;
	unsigned max_conns_per_ip;
	unsigned threads;
	const char *db_path;		/* the store; one connection/thread */
	const char *data_dir;		/* for temporary backup files */
	const char *root;		/* deployment root region code */
	const char *admin_token;	/* bearer token for /api/v1/ */
	const char *version;
	/* Channel names devices may refer to (NULL-terminated), or NULL
	 * to accept any. */
	const char *const *channels;
};

/*
 * Open the store pool and start serving.  Copies everything it keeps
 * from c.  Returns 0 and *out, or ENG_EIO (cannot bind, cannot open the
 * store) / ENG_EINVAL with detail in eb.
 */
int api_start(const struct api_config *c, struct api **out,
    struct eng_errbuf *eb);

/* The port actually bound (useful with port 0). */
unsigned api_port(const struct api *a);

/*
 * Replace the list of configured channel names (after a reload).
 * Thread-safe.  Copies names.
 */
int api_set_channels(struct api *a, const char *const *channels);

/* Stop accepting, finish the requests in flight, free everything.
 * NULL is a no-op. */
void api_stop(struct api *a);

#endif /* ENGINE_API_H */
