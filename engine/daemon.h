/*
 * engine/daemon.h - gongd's life: start, reload, stop.
 *
 * Start: create the data directory, open the store (migrating it), make
 * the admin token at first start, import the configured rosters, start
 * the HTTP server, and publish the URL it listens on.  Reload (SIGHUP):
 * a new config is checked first and, if it has any error, rejected with
 * the old one kept in force; otherwise rosters are re-imported.  Stop:
 * finish the requests in flight, close the store.
 *
 * Not thread-safe: driven by gongd's main thread only.
 */
#ifndef ENGINE_DAEMON_H
#define ENGINE_DAEMON_H

#include "engine/diag.h"
#include "engine/err.h"

struct cfg;
struct daemon;

/* How gongd was started; kept for reloads. */
struct daemon_opts {
	const char *config_path;	/* NULL: the embedded default */
	const char *data_dir;		/* --data-dir override, or NULL */
	const char *listen;		/* --listen override, or NULL */
};

/*
 * Start on cfg (with the overrides of o already applied), taking
 * ownership of cfg on success only.  The data directory is locked: a
 * second gongd on the same directory is refused.  Returns 0 and *out,
 * or an error with detail in eb (everything started is stopped again).
 */
int daemon_start(struct cfg *cfg, const struct daemon_opts *o,
    struct daemon **out, struct eng_errbuf *eb);

/*
 * Re-read the config (or the default) and re-import rosters.  An invalid
 * config changes nothing: returns ENG_EINVAL with every error in diags.
 * Settings that need a restart (listen, data_dir, http) are kept and a
 * warning is logged.
 */
int daemon_reload(struct daemon *d, struct diag_list *diags);

/* Periodic work; called about once a second by the main loop. */
void daemon_tick(struct daemon *d);

/* Stop and free; NULL is a no-op. */
void daemon_stop(struct daemon *d);

/*
 * Import every roster file the config names (regions, then responders,
 * then devices) into the store at db_path, each all or nothing.  Errors
 * (with file and line) go to diags.  Returns 0 or the first failure.
 * Used at start, on reload, and by tests.
 */
int daemon_import_rosters(const struct cfg *cfg, const char *db_path,
    struct diag_list *diags, struct eng_errbuf *eb);

/* Log every diagnostic of l as one event line each. */
void daemon_log_diags(const char *event, const struct diag_list *l);

#endif /* ENGINE_DAEMON_H */
