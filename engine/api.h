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
 *   POST /api/v1/cap                       ingest a CAP message
 *   GET  /api/v1/alerts[?status=&active=&severity=&region=&limit=&offset=]
 *   GET  /api/v1/alerts/{id}               summary, parsed model, targets
 *   GET  /api/v1/alerts/{id}/chain         Alert -> Update -> Cancel
 *   GET  /api/v1/alerts/{id}/cap           the original XML, byte for byte
 *   GET  /, /console/{file}                the web console (static files)
 *
 *   POST /api/v1/login, /logout; GET /api/v1/me         (engine/auth.h)
 *   GET|POST /api/v1/users, PATCH /api/v1/users/{name}
 *   GET|POST /api/v1/tokens, DELETE /api/v1/tokens/{id}
 *   GET  /api/v1/audit[?since=&actor=&action=&limit=]
 *
 * Everything under /api/v1/ (but login) needs "Authorization: Bearer
 * <token>" (the admin token or an API token) or the session cookie
 * gong_session (with X-CSRF-Token on state-changing requests); what a
 * caller may do follows auth_allow() (engine/auth.h).
 * Errors are JSON {"error":{"code","message"}} with the HTTP status.
 */
#ifndef ENGINE_API_H
#define ENGINE_API_H

#include <stddef.h>
#include <stdint.h>

#include "engine/err.h"
#include "engine/ingest.h"

struct api;

/*
 * A CAP feed allowed to POST: its token (in clear, read from its token
 * file, or as a SHA-256) and what it may send (src; src.name is the
 * feed's name).
 */
struct api_feed {
	const char *token;			/* or NULL */
	const unsigned char *token_sha256;	/* 32 bytes, or NULL */
	struct ingest_source src;
};

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
	/* The URL users reach gongd at (config http.public_url), or NULL:
	 * its scheme decides the session cookie's Secure flag and its
	 * origin is accepted for cookie-authenticated requests. */
	const char *public_url;
	/* The first path segment of every gateway callback
	 * (/cb/<secret>/<channel>/…); required. */
	const char *callback_secret;
	/* The key of answer links /a/<token> (engine/anslink.h); NULL:
	 * the links are refused. */
	const char *answer_key;
	/* The web console's directory (engine/api_console.c), served at /
	 * and /console/; NULL: not served (404). */
	const char *console_dir;
	const char *version;
	/* Channel names devices may refer to (NULL-terminated), or NULL
	 * to accept any. */
	const char *const *channels;
	/* CAP ingest: the store and area settings (required). */
	const struct ingest_config *ingest;
	/* Feeds that may POST CAP with their own token. */
	const struct api_feed *feeds;
	size_t nfeeds;
	size_t admin_cap_max_bytes;	/* CAP posted with the admin token */
	/* Issuing (POST /api/v1/warnings): the CAP sender ("": gong@<root>),
	 * the UTC offset of the deployment's zone for sent/onset/expires,
	 * and the colours (bit 1 << enum cap_color) that a second officer
	 * must approve. */
	char issue_sender[128];
	int issue_utc_offset_min;
	unsigned issue_approval;
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

/*
 * Replace the feeds allowed to POST (after a reload).  Deep-copies them;
 * requests in flight finish with the old table.  Thread-safe.
 */
int api_set_feeds(struct api *a, const struct api_feed *feeds, size_t n);

struct dispatch;
/* The dispatcher that takes channel callbacks (/cb/{channel}/...) and is
 * woken when an alert is stored; NULL while there is none.  Waits for
 * callbacks in flight on the old one.  Thread-safe. */
void api_set_dispatch(struct api *a, struct dispatch *d);

struct escalate;
/* The escalation thread whose counters /metrics shows; NULL while there
 * is none.  Thread-safe. */
void api_set_escalate(struct api *a, struct escalate *e);

/* Stop accepting, finish the requests in flight, free everything.
 * NULL is a no-op. */
void api_stop(struct api *a);

#endif /* ENGINE_API_H */
