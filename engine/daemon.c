/*
 * engine/daemon.c - gongd's life: start, reload, stop.
 */
#include "engine/daemon.h"
#include "engine/api.h"
#include "engine/auth.h"
#include "engine/dispatch.h"
#include "engine/escalate.h"
#include "engine/feeds.h"
#include "engine/clock.h"
#include "engine/log.h"
#include "engine/render.h"
#include "engine/roster.h"
#include "engine/store.h"
#include "cap/cap.h"
#include "config/cfg.h"
#include "engine/ingest.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define TOKEN_BYTES 32

struct daemon {
	struct cfg *cfg;
	char *config_path;
	char *data_dir_override;
	char *listen_override;
	int lock_fd;			/* holds the data dir's lock */
	char *db_path;
	char *url_path;
	char token[TOKEN_BYTES * 2 + 1];
	struct api *api;
	struct feeds *feeds;		/* drop folders and polls */
	struct dispatch *dispatch;	/* plans (its planner) and sends */
	struct escalate *escalate;	/* 叫应 steps, beside the dispatcher */
	char callback_base[600];
	/* Gateways call back to /cb/<secret>/<channel>/…: only those given
	 * a URL by gongd can report receipts and replies. */
	char cb_secret[TOKEN_BYTES * 2 + 1];
	/* The key of answer links /a/<token> (engine/anslink.h). */
	char answer_key[TOKEN_BYTES * 2 + 1];
	char link_base[512];		/* gongd's URL */
	const char **channel_names;	/* point into cfg */
};

void
daemon_log_diags(const char *event, const struct diag_list *l)
{
	char buf[1400], q[1500];
	size_t i, shown = l->n < 50 ? l->n : 50;

	/* The first fifty tell the operator what is wrong; the rest would
	 * only bury the log (the API answer lists them all). */
	for (i = 0; i < shown; i++) {
		(void)diag_format(&l->v[i], buf, sizeof(buf));
		log_write(l->v[i].sev == DIAG_ERROR ? LOG_LVL_ERROR :
		    LOG_LVL_WARN, event, "msg=%s", log_q(buf, q, sizeof(q)));
	}
	if (l->n - shown + l->dropped > 0)
		log_write(LOG_LVL_ERROR, event, "msg=\"%zu more not shown\"",
		    l->n - shown + l->dropped);
}

static char *
join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);

	if (p != NULL)
		(void)snprintf(p, n, "%s/%s", dir, name);
	return p;
}

/* mkdir -p with mode 0700 for the last component. */
static int
make_dir(const char *path, struct eng_errbuf *eb)
{
	char buf[4096];
	size_t i, n = strlen(path);

	if (n == 0 || n >= sizeof(buf))
		return eng_error(eb, ENG_EINVAL, "bad data directory '%s'",
		    path);
	memcpy(buf, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, i == n ? 0700 : 0755) != 0 && errno != EEXIST)
			return eng_error(eb, ENG_EIO, "cannot create %s: %s",
			    buf, strerror(errno));
		buf[i] = path[i];
	}
	return 0;
}

/* Read a secret (the admin token, the callback secret), or make one at
 * first start (mode 0600). */
static int
secret_file(const char *dir, const char *name, char *tok, size_t size,
    int *created, struct eng_errbuf *eb)
{
	unsigned char raw[TOKEN_BYTES];
	char *path = join(dir, name);
	struct stat sb;
	ssize_t n;
	int fd, rv = 0;

	*created = 0;
	if (path == NULL)
		return eng_error(eb, ENG_ENOMEM, "out of memory");
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0) {
		if (fstat(fd, &sb) == 0 && (sb.st_mode & 077) != 0)
			log_warn("token.mode", "file=%s msg=\"admin token is "
			    "readable by others; chmod 600 it\"", path);
		n = read(fd, tok, size - 1);
		(void)close(fd);
		if (n <= 0) {
			rv = eng_error(eb, ENG_EIO, "cannot read %s", path);
			goto out;
		}
		tok[n] = '\0';
		tok[strcspn(tok, "\r\n \t")] = '\0';
		if (strlen(tok) < 32)
			rv = eng_error(eb, ENG_EINVAL, "%s: token too short "
			    "(32 characters at least); delete the file to "
			    "make a new one", path);
		goto out;
	}
	if (errno != ENOENT) {
		rv = eng_error(eb, ENG_EIO, "cannot open %s: %s", path,
		    strerror(errno));
		goto out;
	}
	randombytes_buf(raw, sizeof(raw));
	(void)sodium_bin2hex(tok, size, raw, sizeof(raw));
	sodium_memzero(raw, sizeof(raw));
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		rv = eng_error(eb, ENG_EIO, "cannot create %s: %s", path,
		    strerror(errno));
		goto out;
	}
	n = (ssize_t)strlen(tok);
	if (write(fd, tok, (size_t)n) != n || write(fd, "\n", 1) != 1 ||
	    fsync(fd) != 0)
		rv = eng_error(eb, ENG_EIO, "cannot write %s: %s", path,
		    strerror(errno));
	(void)close(fd);
	if (rv == 0)
		*created = 1;
	else
		(void)unlink(path);
out:
	free(path);
	return rv;
}

/* Write text to path atomically (tmp + rename). */
static int
write_file(const char *path, const char *text, mode_t mode)
{
	char tmp[4200];
	int fd, ok;
	size_t n = strlen(text);

	(void)snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    mode)) < 0)
		return ENG_EIO;
	ok = write(fd, text, n) == (ssize_t)n;
	(void)close(fd);
	if (!ok || rename(tmp, path) != 0) {
		(void)unlink(tmp);
		return ENG_EIO;
	}
	return 0;
}

/* The audit row of a roster import from the config (actor "system"). */
static void
audit_import(struct store *s, const char *root, const char *kind,
    const char *file, int rv, const struct store_import_result *res)
{
	struct store_audit x;
	char target[1100], after[96];

	memset(&x, 0, sizeof(x));
	(void)snprintf(target, sizeof(target), "import:%s %s", kind, file);
	(void)snprintf(after, sizeof(after), "{\"inserted\":%lld,"
	    "\"updated\":%lld}", rv == 0 ? res->inserted : 0,
	    rv == 0 ? res->updated : 0);
	x.at_ms = eng_clock_now_ms(&eng_clock_system);
	x.actor = "system";
	x.action = "import";
	x.target = target;
	x.jurisdiction = root;
	x.after = rv == 0 ? after : NULL;
	x.outcome = rv == 0 ? "ok" : "rejected";
	if (store_audit_add(s, &x, NULL, NULL) != 0)
		log_error("audit.failed", "action=import kind=%s", kind);
}

int
daemon_import_rosters(const struct cfg *cfg, const char *db_path,
    struct diag_list *diags, struct eng_errbuf *eb)
{
	const char *files[3];
	static const enum roster_kind kinds[3] = {
		ROSTER_REGIONS, ROSTER_RESPONDERS, ROSTER_DEVICES
	};
	struct store_import_result res;
	struct store *s = NULL;
	struct roster ro;
	int i, rv, first = 0;
	size_t k, e0;

	files[0] = cfg->rosters.regions;
	files[1] = cfg->rosters.responders;
	files[2] = cfg->rosters.devices;
	if ((rv = store_open(db_path, 0, &s, eb)) != 0)
		return rv;
	store_set_root(s, cfg->deployment.root);
	for (i = 0; i < 3; i++) {
		if (files[i] == NULL)
			continue;
		roster_init(&ro);
		e0 = diags->nerrors;
		rv = roster_parse_file(kinds[i], files[i],
		    cfg->rosters.encoding, &ro, diags);
		if (rv == 0 && kinds[i] == ROSTER_DEVICES) {
			for (k = 0; k < ro.ndevices; k++)
				if (cfg_channel_find(cfg,
				    ro.devices[k].channel) < 0)
					(void)diag_add(diags, DIAG_ERROR,
					    ro.file, ro.devices[k].line,
					    "channel", "channel '%s' is not "
					    "configured",
					    ro.devices[k].channel);
			if (diags->nerrors > e0)
				rv = ENG_EINVAL;
		}
		if (rv == 0)
			rv = store_import(s, &ro, 0, &res, diags, eb);
		audit_import(s, cfg->deployment.root,
		    roster_kind_name(kinds[i]), files[i], rv, &res);
		if (rv == 0)
			log_info("roster.imported", "kind=%s file=%s "
			    "inserted=%lld updated=%lld",
			    roster_kind_name(kinds[i]), files[i],
			    res.inserted, res.updated);
		else if (first == 0)
			first = rv;
		if (rv != 0 && diags->nerrors == e0)
			(void)diag_add(diags, DIAG_ERROR, files[i], 0, NULL,
			    "%s", eb->msg[0] ? eb->msg : eng_strerror(rv));
		roster_release(&ro);
	}
	store_close(s);
	if (first != 0)
		(void)eng_error(eb, first, "roster import failed; the store "
		    "keeps what it had");
	return first;
}

/* The ingest settings of a config; points into c (and *geo, freed by
 * the caller). */
static int
ingest_config_of(const struct cfg *c, const char *db_path,
    struct ingest_config *ic, struct ingest_geomap **geo)
{
	size_t i;

	memset(ic, 0, sizeof(*ic));
	ic->db_path = db_path;
	ic->root = c->deployment.root;
	ic->language = c->deployment.language;
	ic->unknown_colour = (int)c->deployment.unknown_severity_colour;
	ic->division_value_names =
	    (const char *const *)c->cap.division_value_names;
	*geo = NULL;
	if (c->cap.ngeomap > 0 &&
	    (*geo = calloc(c->cap.ngeomap, sizeof(**geo))) == NULL)
		return ENG_ENOMEM;
	for (i = 0; i < c->cap.ngeomap; i++) {
		(*geo)[i].value_name = c->cap.geomap[i].value_name;
		(*geo)[i].value = c->cap.geomap[i].value;
		memcpy((*geo)[i].region, c->cap.geomap[i].region,
		    REGION_CODE_SIZE);
	}
	ic->geomap = *geo;
	ic->ngeomap = c->cap.ngeomap;
	return 0;
}

/* Read a token file's first line (kept in clear in memory only). */
static char *
read_token_file(const char *path, struct eng_errbuf *eb)
{
	char buf[512];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		(void)eng_error(eb, ENG_EIO, "cannot open token file %s: %s",
		    path, strerror(errno));
		return NULL;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	(void)close(fd);
	if (n <= 0) {
		(void)eng_error(eb, ENG_EIO, "cannot read token file %s",
		    path);
		return NULL;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (strlen(buf) < 16) {
		(void)eng_error(eb, ENG_EINVAL, "token in %s is shorter than 16 "
		    "characters", path);
		return NULL;
	}
	return strdup(buf);
}

struct feed_table {
	struct api_feed *v;
	unsigned char (*sha)[32];
	char **tokens;
	size_t n;
};

static void
feed_table_release(struct feed_table *t)
{
	size_t i;

	for (i = 0; t->tokens != NULL && i < t->n; i++) {
		if (t->tokens[i] != NULL)
			sodium_memzero(t->tokens[i], strlen(t->tokens[i]));
		free(t->tokens[i]);
	}
	free(t->tokens);
	free(t->sha);
	free(t->v);
	memset(t, 0, sizeof(*t));
}

/* The feeds that may POST CAP (those with a token or token hash). */
static int
feed_table_of(const struct cfg *c, struct feed_table *t,
    struct eng_errbuf *eb)
{
	size_t i;
	int rv = 0;

	memset(t, 0, sizeof(*t));
	t->v = calloc(c->nfeeds + 1, sizeof(*t->v));
	t->sha = calloc(c->nfeeds + 1, sizeof(*t->sha));
	t->tokens = calloc(c->nfeeds + 1, sizeof(*t->tokens));
	if (t->v == NULL || t->sha == NULL || t->tokens == NULL) {
		feed_table_release(t);
		return eng_error(eb, ENG_ENOMEM, "out of memory");
	}
	for (i = 0; i < c->nfeeds; i++) {
		const struct cfg_feed *f = &c->feeds[i];
		struct api_feed *af = &t->v[t->n];

		if (f->token_file == NULL && f->token_hash == NULL)
			continue;
		if (f->token_file != NULL) {
			if ((t->tokens[t->n] = read_token_file(f->token_file,
			    eb)) == NULL) {
				rv = ENG_EINVAL;
				break;
			}
			af->token = t->tokens[t->n];
		} else {
			size_t bl;

			if (sodium_hex2bin(t->sha[t->n], 32, f->token_hash + 7,
			    64, NULL, &bl, NULL) != 0 || bl != 32) {
				rv = eng_error(eb, ENG_EINVAL, "feed %s: bad "
				    "token_hash", f->name);
				break;
			}
			af->token_sha256 = t->sha[t->n];
		}
		af->src.name = f->name;
		af->src.via = "http";
		af->src.lenient = f->lenient;
		af->src.cn_profile = f->cn_profile;
		af->src.require_signature = f->require_signature;
		af->src.trusted_cert = f->trusted_cert;
		af->src.max_bytes = (size_t)f->max_bytes;
		af->src.regions = (const char (*)[REGION_CODE_SIZE])f->regions;
		af->src.nregions = f->nregions;
		t->n++;
	}
	if (rv != 0)
		feed_table_release(t);
	return rv;
}

static const char **
channel_names(const struct cfg *c)
{
	const char **v;
	size_t i;

	if ((v = calloc(c->nchannels + 1, sizeof(*v))) == NULL)
		return NULL;
	for (i = 0; i < c->nchannels; i++)
		v[i] = c->channels[i].name;
	return v;
}

/*
 * One gongd per data directory: an exclusive lock on gongd.pid, held
 * until exit (the kernel drops it if the process dies).
 */
static int
lock_data_dir(const char *dir, int *fdp, struct eng_errbuf *eb)
{
	char *path = join(dir, "gongd.pid"), buf[32], other[32];
	ssize_t n;
	int fd;

	*fdp = -1;
	if (path == NULL)
		return eng_error(eb, ENG_ENOMEM, "out of memory");
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		(void)eng_error(eb, ENG_EIO, "cannot open %s: %s", path,
		    strerror(errno));
		free(path);
		return ENG_EIO;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		n = read(fd, other, sizeof(other) - 1);
		other[n > 0 ? n : 0] = '\0';
		other[strcspn(other, "\n")] = '\0';
		(void)eng_error(eb, ENG_EBUSY, "data directory %s is in use by "
		    "another gongd (pid %s)", dir, other[0] ? other : "?");
		(void)close(fd);
		free(path);
		return ENG_EBUSY;
	}
	(void)snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 ||
	    pwrite(fd, buf, strlen(buf), 0) != (ssize_t)strlen(buf))
		log_warn("pidfile.write", "file=%s", path);
	free(path);
	*fdp = fd;
	return 0;
}

/* The dispatcher on cfg (which must outlive it), made known to the API. */
static int
start_dispatch(struct daemon *d, const struct cfg *cfg, struct eng_errbuf *eb)
{
	struct dispatch_config dc;
	struct escalate_config ec;
	struct diag_list diags;
	int rv;

	memset(&dc, 0, sizeof(dc));
	dc.cfg = cfg;
	dc.db_path = d->db_path;
	dc.data_dir = cfg->data_dir;
	dc.callback_base = d->callback_base;
	dc.answer_key = d->answer_key;
	/* A reload may change it. */
	dc.link_base = cfg->http.public_url != NULL ? cfg->http.public_url :
	    d->link_base;
	dc.lease_ms = cfg->dispatch.lease_ms;
	dc.max_attempts = cfg->dispatch.max_attempts;
	diag_list_init(&diags);
	rv = dispatch_start(&dc, &d->dispatch, &diags, eb);
	daemon_log_diags("channel.error", &diags);
	diag_list_release(&diags);
	if (rv != 0)
		return rv;
	memset(&ec, 0, sizeof(ec));
	ec.cfg = cfg;
	ec.db_path = d->db_path;
	ec.dispatch = d->dispatch;
	if ((rv = escalate_start(&ec, &d->escalate, eb)) != 0) {
		dispatch_stop(d->dispatch);
		d->dispatch = NULL;
		return rv;
	}
	api_set_dispatch(d->api, d->dispatch);
	api_set_escalate(d->api, d->escalate);
	return 0;
}

static void
stop_dispatch(struct daemon *d)
{
	if (d->api != NULL)
		api_set_dispatch(d->api, NULL);
	if (d->api != NULL)
		api_set_escalate(d->api, NULL);
	escalate_stop(d->escalate);
	d->escalate = NULL;
	dispatch_stop(d->dispatch);
	d->dispatch = NULL;
}

int
daemon_start(struct cfg *cfg, const struct daemon_opts *o,
    struct daemon **out, struct eng_errbuf *eb)
{
	struct api_config ac;
	struct ingest_config ic;
	struct ingest_geomap *geo = NULL;
	struct feed_table ft;
	struct diag_list diags;
	struct store *s = NULL;
	struct daemon *d;
	char url[512], first_pw[AUTH_FIRST_PASSWORD_LEN + 1];
	int rv, created, cb_created;

	*out = NULL;
	if (sodium_init() < 0)
		return eng_error(eb, ENG_EIO, "libsodium failed to start");
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return eng_error(eb, ENG_ENOMEM, "out of memory");
	d->lock_fd = -1;
	diag_list_init(&diags);
	if ((o->config_path != NULL &&
	    (d->config_path = strdup(o->config_path)) == NULL) ||
	    (o->data_dir != NULL &&
	    (d->data_dir_override = strdup(o->data_dir)) == NULL) ||
	    (o->listen != NULL &&
	    (d->listen_override = strdup(o->listen)) == NULL)) {
		rv = eng_error(eb, ENG_ENOMEM, "out of memory");
		goto fail;
	}
	if ((rv = make_dir(cfg->data_dir, eb)) != 0)
		goto fail;
	if ((rv = lock_data_dir(cfg->data_dir, &d->lock_fd, eb)) != 0)
		goto fail;
	d->db_path = join(cfg->data_dir, "gong.db");
	d->url_path = join(cfg->data_dir, "gongd.url");
	d->channel_names = channel_names(cfg);
	if (d->db_path == NULL || d->url_path == NULL ||
	    d->channel_names == NULL) {
		rv = eng_error(eb, ENG_ENOMEM, "out of memory");
		goto fail;
	}
	/* Open once here so that migration happens before any thread. */
	if ((rv = store_open(d->db_path, 0, &s, eb)) != 0)
		goto fail;
	log_info("store.open", "path=%s schema=%d", d->db_path,
	    store_schema_version());
	/* The first admin's password: shown once, here, never written. */
	if (sodium_init() < 0 || (rv = auth_first_admin(s,
	    &eng_clock_system, cfg->deployment.root, first_pw, &created,
	    eb)) != 0) {
		store_close(s);
		rv = rv != 0 ? rv : eng_error(eb, ENG_EIO, "libsodium failed "
		    "to start");
		goto fail;
	}
	store_close(s);
	if (created) {
		fprintf(stderr, "gongd: first admin account created: user "
		    "\"admin\", password \"%s\"\n"
		    "gongd: it is shown this once and stored only as a hash; "
		    "log in (gong login --user admin) and change it (gong "
		    "users set admin --password)\n", first_pw);
		fflush(stderr);
		sodium_memzero(first_pw, sizeof(first_pw));
		log_warn("auth.first_admin", "user=admin jurisdiction=%s "
		    "msg=\"first admin created; its password was printed "
		    "once on stderr above this line\"",
		    cfg->deployment.root);
	}
	if ((rv = secret_file(cfg->data_dir, "callback.secret", d->cb_secret,
	    sizeof(d->cb_secret), &cb_created, eb)) != 0)
		goto fail;
	if ((rv = secret_file(cfg->data_dir, "answer.key", d->answer_key,
	    sizeof(d->answer_key), &cb_created, eb)) != 0)
		goto fail;
	if ((rv = secret_file(cfg->data_dir, "admin.token", d->token,
	    sizeof(d->token),
	    &created, eb)) != 0)
		goto fail;

	if (daemon_import_rosters(cfg, d->db_path, &diags, eb) != 0) {
		daemon_log_diags("roster.error", &diags);
		log_error("roster.rejected", "msg=\"%s\"", eb->msg);
	}
	diag_list_release(&diags);

	if (ingest_config_of(cfg, d->db_path, &ic, &geo) != 0) {
		rv = eng_error(eb, ENG_ENOMEM, "out of memory");
		goto fail;
	}
	if ((rv = feed_table_of(cfg, &ft, eb)) != 0) {
		free(geo);
		goto fail;
	}
	memset(&ac, 0, sizeof(ac));
	ac.ingest = &ic;
	ac.feeds = ft.v;
	ac.nfeeds = ft.n;
	ac.admin_cap_max_bytes = (size_t)cfg->cap.max_bytes;
	ac.host = cfg->listen.host;
	ac.port = cfg->listen.port;
	ac.max_body = (size_t)cfg->http.max_body;
	ac.conn_timeout_s = (unsigned)((cfg->http.connection_timeout_ms +
	    999) / 1000);
	ac.max_conns = cfg->http.max_connections;
	ac.max_conns_per_ip = cfg->http.max_connections_per_ip;
	ac.threads = cfg->http.threads;
	ac.db_path = d->db_path;
	ac.data_dir = cfg->data_dir;
	ac.root = cfg->deployment.root;
	ac.admin_token = d->token;
	ac.public_url = cfg->http.public_url;
	ac.callback_secret = d->cb_secret;
	ac.answer_key = d->answer_key;
	ac.console_dir = cfg->http.console;
	ac.version = GONG_VERSION;
	ac.channels = d->channel_names;
	(void)snprintf(ac.issue_sender, sizeof(ac.issue_sender), "%s",
	    cfg->issuing.sender);
	(void)render_zone_offset(cfg->deployment.timezone,
	    &ac.issue_utc_offset_min);
	ac.issue_approval = cfg->issuing.approval;
	rv = api_start(&ac, &d->api, eb);
	feed_table_release(&ft);
	/* The feed thread, once the API is up (ic is copied). */
	if (rv == 0)
		rv = feeds_start(cfg, &ic, &d->feeds, eb);
	free(geo);
	if (rv != 0)
		goto fail;
	if (strchr(cfg->listen.host, ':') != NULL)
		(void)snprintf(url, sizeof(url), "http://[%s]:%u\n",
		    cfg->listen.host, api_port(d->api));
	else
		(void)snprintf(url, sizeof(url), "http://%s:%u\n",
		    cfg->listen.host, api_port(d->api));
	url[strcspn(url, "\n")] = '\0';
	(void)snprintf(d->callback_base, sizeof(d->callback_base), "%s/cb/%s",
	    url, d->cb_secret);
	(void)snprintf(d->link_base, sizeof(d->link_base), "%s", url);
	if ((rv = start_dispatch(d, cfg, eb)) != 0)
		goto fail;
	/* Published last: whoever reads the URL file finds gongd ready. */
	(void)snprintf(url + strlen(url), sizeof(url) - strlen(url), "\n");
	if (write_file(d->url_path, url, 0644) != 0)
		log_warn("url.write", "file=%s msg=\"cannot write\"",
		    d->url_path);
	url[strcspn(url, "\n")] = '\0';
	log_info("http.listen", "url=%s data_dir=%s", url, cfg->data_dir);
	log_info("auth.token", "file=%s/admin.token created=%d msg=\"send "
	    "Authorization: Bearer <token>; gong reads it from there\"",
	    cfg->data_dir, created);
	d->cfg = cfg;
	*out = d;
	return 0;
fail:
	diag_list_release(&diags);
	d->cfg = NULL;		/* the caller still owns cfg */
	daemon_stop(d);
	return rv;
}

/*
 * Drop folders and polls on the new config nc: the old thread is stopped
 * first (two threads never share a folder); if the new one cannot
 * start, the old config's feeds are started again.
 */
static void
restart_feeds(struct daemon *d, const struct cfg *nc)
{
	struct ingest_config ic;
	struct ingest_geomap *geo = NULL;
	struct eng_errbuf eb;

	eng_errbuf_init(&eb);
	feeds_stop(d->feeds);
	d->feeds = NULL;
	if (ingest_config_of(nc, d->db_path, &ic, &geo) == 0 &&
	    feeds_start(nc, &ic, &d->feeds, &eb) == 0) {
		free(geo);
		return;
	}
	free(geo);
	log_error("feed.restart", "msg=\"%s; the feeds of the old config "
	    "run on\"", eb.msg[0] ? eb.msg : "out of memory");
	geo = NULL;
	eng_errbuf_init(&eb);
	if (ingest_config_of(d->cfg, d->db_path, &ic, &geo) != 0 ||
	    feeds_start(d->cfg, &ic, &d->feeds, &eb) != 0)
		log_error("feed.restart", "msg=\"%s; no feed is polled\"",
		    eb.msg[0] ? eb.msg : "out of memory");
	free(geo);
}

int
daemon_reload(struct daemon *d, struct diag_list *diags)
{
	struct eng_errbuf eb;
	struct cfg *nc = NULL, *old;
	const char **names;
	int rv;

	eng_errbuf_init(&eb);
	if (d->config_path != NULL)
		rv = cfg_load_file(d->config_path, &nc, diags);
	else
		rv = cfg_default(&nc, diags);
	/* The command line's overrides hold across reloads. */
	if (rv == 0 && ((d->data_dir_override != NULL &&
	    cfg_set_data_dir(nc, d->data_dir_override, &eb) != 0) ||
	    (d->listen_override != NULL &&
	    cfg_set_listen(nc, d->listen_override, &eb) != 0))) {
		(void)diag_add(diags, DIAG_ERROR, NULL, 0, NULL, "%s", eb.msg);
		rv = ENG_EINVAL;
	}
	if (rv == 0)
		rv = cfg_check_files(nc, diags);
	if (rv == 0)
		rv = dispatch_check_channels(nc, nc->data_dir, diags);
	if (rv != 0) {
		cfg_free(nc);
		nc = NULL;
	}
	if (rv != 0) {
		log_error("config.rejected", "file=%s msg=\"the new config "
		    "has errors; the old one stays in force\"",
		    d->config_path ? d->config_path : "<default>");
		return rv;
	}
	/* Settings bound at start stay until a restart. */
	if (strcmp(nc->data_dir, d->cfg->data_dir) != 0 ||
	    strcmp(nc->listen.host, d->cfg->listen.host) != 0 ||
	    nc->listen.port != d->cfg->listen.port)
		log_warn("config.restart_needed", "msg=\"data_dir and listen "
		    "take effect at the next start\"");
	if (strcmp(nc->deployment.root, d->cfg->deployment.root) != 0)
		log_warn("config.restart_needed", "msg=\"deployment.root "
		    "takes effect at the next start\"");
	if ((names = channel_names(nc)) == NULL ||
	    api_set_channels(d->api, names) != 0) {
		free(names);
		cfg_free(nc);
		return ENG_ENOMEM;
	}
	{
		struct feed_table ft;

		if (feed_table_of(nc, &ft, &eb) != 0 ||
		    api_set_feeds(d->api, ft.v, ft.n) != 0) {
			(void)diag_add(diags, DIAG_ERROR, NULL, 0, "feeds",
			    "%s", eb.msg[0] ? eb.msg : "out of memory");
			feed_table_release(&ft);
			free(names);
			cfg_free(nc);
			return ENG_EINVAL;
		}
		feed_table_release(&ft);
	}
	log_set_level(nc->log_level);
	restart_feeds(d, nc);
	/* The dispatcher borrows its config: the old one stops before the
	 * old config goes; what its channels held comes back as retry. */
	stop_dispatch(d);
	if (start_dispatch(d, nc, &eb) != 0) {
		log_error("dispatch.restart", "msg=\"%s; the old config stays "
		    "in force\"", eb.msg);
		eng_errbuf_init(&eb);
		if (start_dispatch(d, d->cfg, &eb) != 0)
			log_error("dispatch.restart", "msg=\"%s; NOTHING IS "
			    "SENT until a good config is loaded\"", eb.msg);
		free(names);
		cfg_free(nc);	/* feeds and the API keep copies */
		return ENG_EIO;
	}
	rv = daemon_import_rosters(nc, d->db_path, diags, &eb);
	if (rv != 0)
		log_error("roster.rejected", "msg=\"%s\"", eb.msg);
	free(d->channel_names);
	d->channel_names = names;
	old = d->cfg;
	d->cfg = nc;
	cfg_free(old);
	log_info("config.reloaded", "file=%s", d->config_path ?
	    d->config_path : "<default>");
	return rv == ENG_EINVAL ? 0 : rv;
}

void
daemon_tick(struct daemon *d)
{
	(void)d;
}

void
daemon_stop(struct daemon *d)
{
	if (d == NULL)
		return;
	feeds_stop(d->feeds);
	stop_dispatch(d);
	api_stop(d->api);
	/* Only the owner of the data directory removes its URL file. */
	if (d->url_path != NULL && d->lock_fd >= 0)
		(void)unlink(d->url_path);
	sodium_memzero(d->token, sizeof(d->token));
	sodium_memzero(d->cb_secret, sizeof(d->cb_secret));
	sodium_memzero(d->answer_key, sizeof(d->answer_key));
	free(d->channel_names);
	free(d->db_path);
	free(d->url_path);
	free(d->config_path);
	free(d->data_dir_override);
	free(d->listen_override);
	cfg_free(d->cfg);
	if (d->lock_fd >= 0)
		(void)close(d->lock_fd);	/* drops the lock */
	free(d);
}
