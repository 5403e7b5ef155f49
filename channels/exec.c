/*
 * channels/exec.c - the "exec" driver: every message handed as one JSON
 * object to a configured program, for hardware without a network API (a
 * village loudspeaker controller on a serial port driven by its vendor's
 * command-line tool, say).  Config:
 *
 *   - name: loudspeaker
 *     type: exec
 *     command: ["/usr/local/bin/speaker", "--port", "/dev/ttyUSB0"]
 *                             # argv (required); argv[0] an absolute path
 *                             # to an executable; no shell is involved
 *     timeout: 30s            # per run, 100ms..1h (default 30s); then
 *                             # SIGTERM, and SIGKILL 2 s later
 *     concurrency: 1          # programs running at once, 1..64 (default
 *                             # 1: one serial port, one at a time)
 *     env:                    # extra environment (optional); the program
 *       SPEAKER_BAUD: "9600"  # gets only PATH, LANG=C.UTF-8,
 *                             # GONG_CHANNEL, GONG_DELIVERY_ID and these
 *     workdir: /var/lib/gong  # absolute (default: gongd's)
 *     addr: device            # what "to" is: device (default), phone,
 *                             # email, wecom, dingtalk, telegram, wechat
 *     failover: outbox-file   # the engine's, as rate_limit and
 *                             # rate_count (channel.h rules 9, 10)
 *
 * One run per message: the program is started with posix_spawn (its own
 * process group, default signal dispositions, an empty signal mask, no
 * file descriptors but 0, 1 and 2), and gets on its standard input one
 * JSON object and a newline, then end of file:
 *
 *   {"delivery_id": 42, "to": "zone/140425100201", "subject": null,
 *    "text": "…", "payload": {…} or null, "priority": 9,
 *    "deadline": "2026-07-16T03:30:00Z" or null,
 *    "ack_code": "…" or null, "ack_url": "…" or null}
 *
 * (payload is the device payload as is when it is JSON, else a string).
 * What its exit says:
 *
 *   0          sent; if standard output is a JSON object, "delivered":
 *              true also reports it delivered and "id" (a string or
 *              number) is the gateway id
 *   75         EX_TEMPFAIL: try again later ("retry_after": seconds in a
 *              JSON object on standard output is honoured)
 *   a signal   or killed after timeout: try again later
 *   other      failed, with the exit code and the last 1 KiB of standard
 *              error as the reason (then failover)
 *
 * Standard output is read up to 64 KiB; a program writing more is
 * stopped and its message failed.  A program that cannot be started
 * (missing, not executable) fails its message; a lack of resources
 * (pipes, processes) retries it.
 *
 * send takes messages only while fewer than concurrency are held
 * (running or about to start), and says ENG_ETEMP otherwise: the engine
 * keeps the rest in its outbox, so that no message waits here for busy
 * hardware past the dispatcher's lease (and is then sent twice).  Keep
 * timeout well under dispatch.lease (default 60 s).
 *
 * Nothing blocks: send queues; poll starts programs up to concurrency,
 * feeds and drains them through non-blocking pipes and reaps them with
 * waitpid(WNOHANG).  Timeouts count in the engine's now_ms.  shutdown
 * stops the running programs (SIGTERM, up to 1 s, then SIGKILL), reaps
 * them and reports their messages and the queued ones RETRY.
 */
#include "channels/channel.h"
#include "config/cfg.h"
#include "engine/utf8.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define EXEC_MAX_ARGS		64
#define EXEC_MAX_ENV		64
#define EXEC_OUT_MAX		(64 * 1024)
#define EXEC_ERR_TAIL		1024
#define EXEC_KILL_GRACE_MS	2000
#define EXEC_EX_TEMPFAIL	75
#define EXEC_GWID_MAX		128

extern char **environ;

struct job {
	int64_t id;
	char *input;		/* JSON and newline; NULL: bad message */
	size_t inlen, inoff;
	pid_t pid;
	int in_fd, out_fd, err_fd;
	char *out;		/* standard output, NUL-terminated */
	size_t outlen;
	int oversize;
	char tail[EXEC_ERR_TAIL];	/* ring of stderr's last bytes */
	size_t tailpos, errtotal;
	int64_t kill_at;	/* SIGTERM at (timeout) */
	int64_t term_at;	/* when SIGTERM went; 0: not yet */
	int timed_out;
};

struct exec_priv {
	char **argv;		/* NULL-terminated, owned */
	size_t argc;
	char **envp;		/* base environment, NULL-terminated */
	size_t nenv;
	char *workdir;
	int64_t timeout_ms;
	size_t concurrency;
	struct job *pend;	/* FIFO: pend[phead .. npend) */
	size_t phead, npend, apend;
	struct job *run;	/* concurrency slots; used when pid > 0 */
	size_t nrun;
	int up;
	char err[128];
};

static const char *const keys[] = {
	"name", "type", "command", "timeout", "concurrency", "env", "workdir",
	"addr",
	CHAN_ENGINE_KEYS,	/* the engine's (channel.h rules 9, 10) */
	NULL
};
static const char *const addrs[] = {
	"phone", "email", "wecom", "dingtalk", "telegram", "wechat", "device",
	NULL
};

/* Free v[0 .. n) (some may be NULL) and v. */
static void
free_strv(char **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* s into b (bsz > 0), cut at a character boundary. */
static void
copy_utf8(char *b, size_t bsz, const char *s)
{
	size_t n = strlen(s), k;

	if (n >= bsz) {
		n = bsz - 1;
		/* drop a character cut short */
		for (k = n; k > 0 && ((unsigned char)s[k] & 0xc0) == 0x80;
		    k--)
			;
		n = k;
	}
	memcpy(b, s, n);
	b[n] = '\0';
}

static char *
str_cat3(const char *a, const char *b, const char *c)
{
	size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
	char *s = malloc(la + lb + lc + 1);

	if (s == NULL)
		return NULL;
	memcpy(s, a, la);
	memcpy(s + la, b, lb);
	memcpy(s + la + lb, c, lc);
	s[la + lb + lc] = '\0';
	return s;
}

static int
env_name_ok(const char *s)
{
	size_t i;

	if (s == NULL || s[0] == '\0' || (s[0] >= '0' && s[0] <= '9'))
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (!(s[i] == '_' || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9')))
			return 0;
	return i <= 128;
}

/* The base environment: PATH, LANG, GONG_CHANNEL, then env's entries
 * (which may replace PATH or LANG). */
static int
build_env(struct channel *ch, struct exec_priv *p,
    const struct cfg_node *env, struct diag_list *diags)
{
	const char *base[3][2] = {
		{ "PATH", "/usr/local/bin:/usr/bin:/bin" },
		{ "LANG", "C.UTF-8" },
		{ "GONG_CHANNEL", NULL },
	};
	size_t n = cfg_node_len(env), i, j, k;
	int rv = 0;

	base[2][1] = ch->name != NULL ? ch->name : "";
	if (n > EXEC_MAX_ENV)
		return cfg_error(diags, env, "env has %zu entries (at most %d)",
		    n, EXEC_MAX_ENV);
	/* + GONG_DELIVERY_ID per run, + NULL */
	if ((p->envp = calloc(n + 3 + 2, sizeof(char *))) == NULL)
		return ENG_ENOMEM;
	for (i = 0; i < 3; i++) {
		for (j = 0; j < n; j++)
			if (strcmp(cfg_node_key_at(env, j), base[i][0]) == 0)
				break;
		if (j < n)
			continue;
		if ((p->envp[p->nenv] = str_cat3(base[i][0], "=",
		    base[i][1])) == NULL)
			return ENG_ENOMEM;
		p->nenv++;
	}
	for (j = 0; j < n; j++) {
		const char *name = cfg_node_key_at(env, j);
		const struct cfg_node *kn = cfg_node_key_node_at(env, j);
		const struct cfg_node *v = cfg_node_at(env, j);
		const char *val;

		if (!env_name_ok(name)) {
			rv = cfg_error(diags, kn, "env: '%s' is not a variable "
			    "name (letters, digits, _; not a digit first)",
			    name);
			continue;
		}
		if (strcmp(name, "GONG_DELIVERY_ID") == 0) {
			rv = cfg_error(diags, kn, "env: GONG_DELIVERY_ID is "
			    "set by gongd");
			continue;
		}
		for (k = 0; k < j; k++)
			if (strcmp(cfg_node_key_at(env, k), name) == 0)
				break;
		if (k < j) {
			rv = cfg_error(diags, kn, "env: '%s' given twice",
			    name);
			continue;
		}
		if (cfg_node_kind(v) != CFG_SCALAR || cfg_node_is_null(v)) {
			rv = cfg_error(diags, v != NULL ? v : kn, "env: the "
			    "value of '%s' must be a string", name);
			continue;
		}
		if (cfg_as_str(v, &val, diags) != 0) {
			rv = ENG_EINVAL;
			continue;
		}
		if ((p->envp[p->nenv] = str_cat3(name, "=", val)) == NULL)
			return ENG_ENOMEM;
		p->nenv++;
	}
	return rv;
}

static int
check_command(struct exec_priv *p, const struct cfg_node *cmd,
    struct diag_list *diags)
{
	size_t n = cfg_node_len(cmd), i;
	const char *s;
	int rv = 0;

	if (cfg_node_kind(cmd) != CFG_SEQ)
		return cfg_error(diags, cmd, "command must be a list: the "
		    "program's absolute path, then its arguments");
	if (n == 0)
		return cfg_error(diags, cmd, "command is empty");
	if (n > EXEC_MAX_ARGS)
		return cfg_error(diags, cmd, "command has %zu words (at most "
		    "%d)", n, EXEC_MAX_ARGS);
	if ((p->argv = calloc(n + 1, sizeof(char *))) == NULL)
		return ENG_ENOMEM;
	p->argc = n;
	for (i = 0; i < n; i++) {
		const struct cfg_node *a = cfg_node_at(cmd, i);

		if (cfg_node_kind(a) != CFG_SCALAR || cfg_node_is_null(a)) {
			rv = cfg_error(diags, a, "command[%zu] must be a "
			    "string", i);
			continue;
		}
		if (cfg_as_str(a, &s, diags) != 0) {
			rv = ENG_EINVAL;
			continue;
		}
		if (i == 0 && s[0] != '/') {
			rv = cfg_error(diags, a, "command[0] must be an "
			    "absolute path, not '%s' (no PATH search, no "
			    "shell)", s);
			continue;
		}
		if (i == 0 && access(s, X_OK) != 0) {
			rv = cfg_error(diags, a, "command[0] '%s' is not an "
			    "executable file: %s", s, strerror(errno));
			continue;
		}
		if ((p->argv[i] = strdup(s)) == NULL)
			return ENG_ENOMEM;
	}
	return rv;
}

static void job_init(struct job *j);

static int
exec_init(struct channel *ch, const struct cfg_node *cfg,
    struct diag_list *diags)
{
	struct exec_priv *p = ch->priv;
	const struct cfg_node *cmd = NULL, *env = NULL;
	const char *wd = NULL;
	size_t n0 = diags->nerrors;
	int64_t conc = 1;
	struct stat st;
	size_t s;
	int a = 0, rv;

	p->timeout_ms = 30000;
	p->up = 1;
	ch->addr = CHAN_ADDR_DEVICE;
	(void)cfg_check_keys(cfg, keys, diags);
	if (cfg_get_enum(cfg, "addr", addrs, &a, diags) == 0 &&
	    cfg_node_get(cfg, "addr") != NULL)
		ch->addr = chan_addr_parse(addrs[a]);
	(void)cfg_get_duration_ms(cfg, "timeout", 100, 3600000,
	    &p->timeout_ms, diags);
	(void)cfg_get_int(cfg, "concurrency", 1, 64, &conc, diags);
	p->concurrency = (size_t)conc;
	if (cfg_require(cfg, "command", diags) == 0) {
		cmd = cfg_node_get(cfg, "command");
		if ((rv = check_command(p, cmd, diags)) == ENG_ENOMEM)
			return rv;
	}
	if (cfg_get_section(cfg, "env", CFG_MAP, &env, diags) == 0 &&
	    (rv = build_env(ch, p, env, diags)) == ENG_ENOMEM)
		return rv;
	if (cfg_get_str(cfg, "workdir", &wd, diags) == 0 && wd != NULL) {
		const struct cfg_node *wn = cfg_node_get(cfg, "workdir");

		if (wd[0] != '/')
			(void)cfg_error(diags, wn, "workdir must be an "
			    "absolute path, not '%s'", wd);
		else if (stat(wd, &st) != 0 || !S_ISDIR(st.st_mode))
			(void)cfg_error(diags, wn, "workdir '%s' is not a "
			    "directory", wd);
		else if ((p->workdir = strdup(wd)) == NULL)
			return ENG_ENOMEM;
	}
	if (diags->nerrors > n0)
		return ENG_EINVAL;
	if ((p->run = calloc(p->concurrency, sizeof(*p->run))) == NULL)
		return ENG_ENOMEM;
	for (s = 0; s < p->concurrency; s++)
		job_init(&p->run[s]);
	return 0;
}

/* "2026-07-16T03:30:00Z", or NULL for 0. */
static json_t *
rfc3339(int64_t ms)
{
	struct tm tm;
	time_t t;
	char b[32];

	if (ms <= 0)
		return json_null();
	t = (time_t)(ms / 1000);
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return json_null();
	return json_string(b);
}

static json_t *
str_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

/* The JSON line for m; NULL for a message JSON cannot carry (bad UTF-8),
 * with *nomem set when it is memory instead. */
static char *
make_input(const struct chan_msg *m, int *nomem)
{
	json_t *j, *v;
	char *s = NULL, *line = NULL;
	size_t len;
	int bad = 0;

	*nomem = 0;
	if ((j = json_object()) == NULL) {
		*nomem = 1;
		return NULL;
	}
#define SET(k, val) do {						\
	if ((v = (val)) == NULL || json_object_set_new(j, (k), v) != 0)	\
		bad = 1;						\
} while (0)
	SET("delivery_id", json_integer((json_int_t)m->delivery_id));
	SET("to", str_or_null(m->to));
	SET("subject", str_or_null(m->subject));
	SET("text", str_or_null(m->text));
	if (m->payload == NULL)
		SET("payload", json_null());
	else if ((v = json_loads(m->payload, JSON_DECODE_ANY, NULL)) != NULL)
		SET("payload", v);
	else
		SET("payload", json_string(m->payload));
	SET("priority", json_integer(m->priority));
	SET("deadline", rfc3339(m->deadline_ms));
	SET("ack_code", str_or_null(m->ack_code));
	SET("ack_url", str_or_null(m->ack_url));
#undef SET
	if (!bad && (s = json_dumps(j, JSON_COMPACT)) == NULL)
		*nomem = 1;
	json_decref(j);
	if (s == NULL)
		return NULL;
	len = strlen(s);
	if ((line = malloc(len + 2)) != NULL) {
		memcpy(line, s, len);
		line[len] = '\n';
		line[len + 1] = '\0';
	} else
		*nomem = 1;
	free(s);
	return line;
}

static void
job_init(struct job *j)
{
	memset(j, 0, sizeof(*j));
	j->pid = -1;
	j->in_fd = j->out_fd = j->err_fd = -1;
}

static void
job_release(struct job *j)
{
	if (j->in_fd >= 0)
		(void)close(j->in_fd);
	if (j->out_fd >= 0)
		(void)close(j->out_fd);
	if (j->err_fd >= 0)
		(void)close(j->err_fd);
	free(j->input);
	free(j->out);
	job_init(j);
}

static int
exec_send(struct channel *ch, const struct chan_msg *m, size_t n)
{
	struct exec_priv *p = ch->priv;
	size_t i, s, live = p->npend - p->phead, held = live;
	int nomem;

	if (n > ch->ops->max_batch)
		return ENG_EINVAL;
	for (s = 0; p->run != NULL && s < p->concurrency; s++)
		held += p->run[s].pid > 0;
	/* Only what starts at the next poll: a message waiting here for
	 * slow hardware could outlive its lease and be sent twice. */
	if (p->run == NULL || held + n > p->concurrency)
		return ENG_ETEMP;
	if (p->phead > 0 && p->npend + n > p->apend) {
		memmove(p->pend, p->pend + p->phead, live * sizeof(*p->pend));
		p->npend = live;
		p->phead = 0;
	}
	if (p->npend + n > p->apend) {
		size_t na = p->apend ? p->apend * 2 : 64;
		struct job *nv;

		while (na < p->npend + n)
			na *= 2;
		if ((nv = realloc(p->pend, na * sizeof(*nv))) == NULL)
			return ENG_ETEMP;
		p->pend = nv;
		p->apend = na;
	}
	for (i = 0; i < n; i++) {
		struct job *j = &p->pend[p->npend + i];

		job_init(j);
		j->id = m[i].delivery_id;
		j->input = make_input(&m[i], &nomem);
		if (j->input == NULL && nomem) {
			while (i-- > 0)
				free(p->pend[p->npend + i].input);
			return ENG_ETEMP;
		}
		if (j->input != NULL)
			j->inlen = strlen(j->input);
	}
	p->npend += n;
	return 0;
}

static void
report(struct channel *ch, int64_t id, enum chan_result r, const char *gw,
    const char *err, int64_t retry_after_ms)
{
	struct chan_report rep;

	memset(&rep, 0, sizeof(rep));
	rep.delivery_id = id;
	rep.result = r;
	rep.gateway_id = gw;
	rep.error = err;
	rep.retry_after_ms = retry_after_ms;
	chan_report(ch, &rep);
}

/* A pipe whose ends are both >= 3 and close-on-exec; ours (index mine)
 * non-blocking. */
static int
make_pipe(int fds[2], int mine)
{
	int i, fd;

	if (pipe2(fds, O_CLOEXEC) != 0)
		return -1;
	for (i = 0; i < 2; i++) {
		if (fds[i] > 2)
			continue;
		if ((fd = fcntl(fds[i], F_DUPFD_CLOEXEC, 3)) < 0)
			goto fail;
		(void)close(fds[i]);
		fds[i] = fd;
	}
	if (fcntl(fds[mine], F_SETFL, O_NONBLOCK) != 0)
		goto fail;
	return 0;
fail:
	(void)close(fds[0]);
	(void)close(fds[1]);
	return -1;
}

/* Start j's program.  0, or an errno (with p->err set). */
static int
spawn(struct exec_priv *p, struct job *j)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 };
	char idvar[48];
	int e = 0, fa_ok = 0, at_ok = 0;
	pid_t pid;

	if (make_pipe(in, 1) != 0 || make_pipe(out, 0) != 0 ||
	    make_pipe(err, 0) != 0) {
		e = errno;
		(void)snprintf(p->err, sizeof(p->err), "pipe: %s",
		    strerror(e));
		goto out;
	}
	(void)snprintf(idvar, sizeof(idvar), "GONG_DELIVERY_ID=%lld",
	    (long long)j->id);
	p->envp[p->nenv] = idvar;
	p->envp[p->nenv + 1] = NULL;
	(void)sigemptyset(&none);
	(void)sigfillset(&all);
	if ((e = posix_spawn_file_actions_init(&fa)) != 0)
		goto spawnerr;
	fa_ok = 1;
	if ((e = posix_spawnattr_init(&at)) != 0)
		goto spawnerr;
	at_ok = 1;
	if ((e = posix_spawn_file_actions_adddup2(&fa, in[0], 0)) != 0 ||
	    (e = posix_spawn_file_actions_adddup2(&fa, out[1], 1)) != 0 ||
	    (e = posix_spawn_file_actions_adddup2(&fa, err[1], 2)) != 0 ||
	    (e = posix_spawn_file_actions_addclosefrom_np(&fa, 3)) != 0)
		goto spawnerr;
	if (p->workdir != NULL &&
	    (e = posix_spawn_file_actions_addchdir_np(&fa, p->workdir)) != 0)
		goto spawnerr;
	if ((e = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP |
	    POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)) != 0 ||
	    (e = posix_spawnattr_setpgroup(&at, 0)) != 0 ||
	    (e = posix_spawnattr_setsigmask(&at, &none)) != 0 ||
	    (e = posix_spawnattr_setsigdefault(&at, &all)) != 0)
		goto spawnerr;
	e = posix_spawn(&pid, p->argv[0], &fa, &at, p->argv, p->envp);
spawnerr:
	p->envp[p->nenv] = NULL;
	if (e != 0) {
		(void)snprintf(p->err, sizeof(p->err), "cannot run %s: %s",
		    p->argv[0], strerror(e));
		goto out;
	}
	j->pid = pid;
	j->in_fd = in[1];
	j->out_fd = out[0];
	j->err_fd = err[0];
	in[1] = out[0] = err[0] = -1;
out:
	if (at_ok)
		(void)posix_spawnattr_destroy(&at);
	if (fa_ok)
		(void)posix_spawn_file_actions_destroy(&fa);
	if (in[0] >= 0)
		(void)close(in[0]);
	if (in[1] >= 0)
		(void)close(in[1]);
	if (out[0] >= 0)
		(void)close(out[0]);
	if (out[1] >= 0)
		(void)close(out[1]);
	if (err[0] >= 0)
		(void)close(err[0]);
	if (err[1] >= 0)
		(void)close(err[1]);
	return e;
}

static void
stop(struct job *j, int sig)
{
	/* The program leads its own group: its children go too.  Called
	 * only while it is not reaped (even a zombie holds its pid), so
	 * neither id can be someone else's; the program itself in case it
	 * left the group. */
	if (j->pid > 0 && kill(-j->pid, sig) != 0)
		(void)kill(j->pid, sig);
}

/*
 * Has j's program ended?  If so, whatever it left running in its group
 * is killed, it is reaped, *status is its wait status (-1: it was reaped
 * by someone else) and 1 is returned; else 0.  block: wait for it.
 */
static int
reap(struct job *j, int *status, int block)
{
	siginfo_t si;
	pid_t r;

	memset(&si, 0, sizeof(si));
	while (waitid(P_PID, (id_t)j->pid, &si, WEXITED | WNOWAIT |
	    (block ? 0 : WNOHANG)) != 0) {
		if (errno == EINTR)
			continue;
		*status = -1;	/* ECHILD */
		j->pid = -1;
		return 1;
	}
	if (si.si_pid == 0)
		return 0;
	stop(j, SIGKILL);
	while ((r = waitpid(j->pid, status, 0)) < 0 && errno == EINTR)
		;
	if (r < 0)
		*status = -1;
	j->pid = -1;
	return 1;
}

/* Feed stdin, drain stdout and stderr, without blocking. */
static void
pump(struct job *j)
{
	char b[8192];
	ssize_t r;
	int rounds;

	while (j->in_fd >= 0 && j->inoff < j->inlen) {
		r = write(j->in_fd, j->input + j->inoff, j->inlen - j->inoff);
		if (r > 0)
			j->inoff += (size_t)r;
		else if (r < 0 && errno == EINTR)
			continue;
		else if (r < 0 && errno == EAGAIN)
			break;
		else	/* EPIPE: it did not read it all; its exit tells */
			j->inoff = j->inlen;
	}
	if (j->in_fd >= 0 && j->inoff >= j->inlen) {
		(void)close(j->in_fd);
		j->in_fd = -1;
	}
	/* At most 64 KiB a stream a poll: a chatty program cannot hold
	 * the dispatcher. */
	for (rounds = 0; j->out_fd >= 0 && rounds < 8; rounds++) {
		r = read(j->out_fd, b, sizeof(b));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			break;
		if (r <= 0) {
			(void)close(j->out_fd);
			j->out_fd = -1;
			break;
		}
		if (j->outlen + (size_t)r > EXEC_OUT_MAX) {
			j->oversize = 1;
			(void)close(j->out_fd);
			j->out_fd = -1;
			break;
		}
		if (j->out == NULL &&
		    (j->out = malloc(EXEC_OUT_MAX + 1)) == NULL) {
			j->oversize = 1;	/* cannot keep it */
			break;
		}
		memcpy(j->out + j->outlen, b, (size_t)r);
		j->outlen += (size_t)r;
		j->out[j->outlen] = '\0';
	}
	for (rounds = 0; j->err_fd >= 0 && rounds < 8; rounds++) {
		ssize_t k;

		r = read(j->err_fd, b, sizeof(b));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			break;
		if (r <= 0) {
			(void)close(j->err_fd);
			j->err_fd = -1;
			break;
		}
		for (k = 0; k < r; k++) {
			j->tail[j->tailpos] = b[k];
			j->tailpos = (j->tailpos + 1) % EXEC_ERR_TAIL;
		}
		j->errtotal += (size_t)r;
	}
}

/* stderr's last bytes as one line of valid UTF-8 (bad bytes '?', control
 * characters ' ', blanks at the ends dropped) into b. */
static void
err_tail(const struct job *j, char *b, size_t bsz)
{
	unsigned char t[EXEC_ERR_TAIL];
	size_t n = j->errtotal < EXEC_ERR_TAIL ? j->errtotal : EXEC_ERR_TAIL;
	size_t start = j->errtotal < EXEC_ERR_TAIL ? 0 : j->tailpos;
	size_t i = 0, o = 0, k, len;

	for (k = 0; k < n; k++)
		t[k] = (unsigned char)j->tail[(start + k) % EXEC_ERR_TAIL];
	if (j->errtotal > EXEC_ERR_TAIL)	/* cut in a character */
		while (i < n && (t[i] & 0xc0) == 0x80)
			i++;
	while (i < n && o + 5 < bsz) {
		unsigned c = t[i];

		len = utf8_decode((const char *)t + i, n - i, NULL);
		if (len == 0) {
			b[o++] = '?';
			i++;
		} else if (len == 1) {
			b[o++] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
			i++;
		} else {
			memcpy(b + o, t + i, len);
			o += len;
			i += len;
		}
	}
	while (o > 0 && b[o - 1] == ' ')
		o--;
	b[o] = '\0';
	for (i = 0; b[i] == ' '; i++)
		;
	if (i > 0)
		memmove(b, b + i, o - i + 1);
}

/* j's program is gone (status from waitpid): report its message. */
static void
finish(struct channel *ch, struct job *j, int status)
{
	struct exec_priv *p = ch->priv;
	char tail[EXEC_ERR_TAIL + 8], msg[EXEC_ERR_TAIL + 160];
	char gw[EXEC_GWID_MAX + 1];
	const char *gwid = NULL;
	json_t *o = NULL, *v;
	int64_t retry_ms = 0;
	int delivered = 0;

	msg[0] = '\0';
	pump(j);	/* what is left in the pipes */
	err_tail(j, tail, sizeof(tail));
	if (j->outlen > 0 && !j->oversize)
		o = json_loadb(j->out, j->outlen, 0, NULL);
	if (o != NULL && !json_is_object(o)) {
		json_decref(o);
		o = NULL;
	}
	if (j->oversize) {
		(void)snprintf(msg, sizeof(msg), "%s wrote more than %d bytes "
		    "to standard output; stopped%s%s", p->argv[0],
		    EXEC_OUT_MAX, tail[0] ? ": " : "", tail);
		report(ch, j->id, CHAN_R_FAILED, NULL, msg, 0);
	} else if (status == -1) {
		(void)snprintf(msg, sizeof(msg), "%s: its exit status was "
		    "lost (reaped elsewhere)", p->argv[0]);
		report(ch, j->id, CHAN_R_RETRY, NULL, msg, 0);
	} else if (j->timed_out) {
		(void)snprintf(msg, sizeof(msg), "%s timed out after %lld ms"
		    "%s%s", p->argv[0], (long long)p->timeout_ms,
		    tail[0] ? ": " : "", tail);
		report(ch, j->id, CHAN_R_RETRY, NULL, msg, 0);
	} else if (WIFSIGNALED(status)) {
		(void)snprintf(msg, sizeof(msg), "%s killed by signal %d%s%s",
		    p->argv[0], WTERMSIG(status), tail[0] ? ": " : "", tail);
		report(ch, j->id, CHAN_R_RETRY, NULL, msg, 0);
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		if ((v = json_object_get(o, "id")) != NULL) {
			if (json_is_string(v) &&
			    json_string_length(v) <= EXEC_GWID_MAX &&
			    json_string_length(v) > 0)
				gwid = json_string_value(v);
			else if (json_is_integer(v)) {
				(void)snprintf(gw, sizeof(gw), "%lld",
				    (long long)json_integer_value(v));
				gwid = gw;
			}
		}
		delivered = json_is_true(json_object_get(o, "delivered"));
		report(ch, j->id, CHAN_R_SENT, gwid, NULL, 0);
		if (delivered)
			report(ch, j->id, CHAN_R_DELIVERED, gwid, NULL, 0);
	} else if (WIFEXITED(status) &&
	    WEXITSTATUS(status) == EXEC_EX_TEMPFAIL) {
		v = json_object_get(o, "retry_after");
		if (json_is_number(v) && json_number_value(v) > 0 &&
		    json_number_value(v) <= 86400)
			retry_ms = (int64_t)(json_number_value(v) * 1000);
		(void)snprintf(msg, sizeof(msg), "%s exit %d (temporary "
		    "failure)%s%s", p->argv[0], EXEC_EX_TEMPFAIL,
		    tail[0] ? ": " : "", tail);
		report(ch, j->id, CHAN_R_RETRY, NULL, msg, retry_ms);
	} else {
		(void)snprintf(msg, sizeof(msg), "%s exit %d%s%s", p->argv[0],
		    WIFEXITED(status) ? WEXITSTATUS(status) : -1,
		    tail[0] ? ": " : "", tail);
		report(ch, j->id, CHAN_R_FAILED, NULL, msg, 0);
	}
	json_decref(o);
	p->up = !j->timed_out && status != -1 &&
	    !(WIFSIGNALED(status) && !j->oversize);
	if (!p->up)
		copy_utf8(p->err, sizeof(p->err), msg);
	else
		p->err[0] = '\0';
	job_release(j);
}

/* Start queued messages in free slots. */
static void
start_some(struct channel *ch, int64_t now_ms)
{
	struct exec_priv *p = ch->priv;
	size_t s;
	int e;

	for (s = 0; s < p->concurrency && p->phead < p->npend; s++) {
		struct job *j = &p->run[s];

		if (j->pid > 0)
			continue;
		*j = p->pend[p->phead++];
		if (j->input == NULL) {
			report(ch, j->id, CHAN_R_FAILED, NULL, "the message "
			    "cannot be written as JSON (text not UTF-8)", 0);
			job_release(j);
			s--;	/* the slot is still free */
			continue;
		}
		if ((e = spawn(p, j)) != 0) {
			p->up = 0;
			report(ch, j->id, e == ENOENT || e == EACCES ||
			    e == ENOEXEC || e == ENOTDIR || e == ELOOP ?
			    CHAN_R_FAILED : CHAN_R_RETRY, NULL, p->err, 0);
			job_release(j);
			if (e == EAGAIN || e == ENOMEM || e == EMFILE ||
			    e == ENFILE)
				break;	/* not now */
			s--;
			continue;
		}
		j->kill_at = now_ms + p->timeout_ms;
		pump(j);
	}
	if (p->phead == p->npend)
		p->phead = p->npend = 0;
}

static int64_t
exec_poll(struct channel *ch, int64_t now_ms)
{
	struct exec_priv *p = ch->priv;
	int64_t wish = 1000, w;
	size_t s;
	int status;

	if (p->run == NULL)
		return wish;
	start_some(ch, now_ms);
	for (s = 0; s < p->concurrency; s++) {
		struct job *j = &p->run[s];

		if (j->pid <= 0)
			continue;
		pump(j);
		if (reap(j, &status, 0)) {
			finish(ch, j, status);
			wish = 0;	/* a slot is free */
			continue;
		}
		if (j->term_at == 0 && (j->oversize || now_ms >= j->kill_at)) {
			j->timed_out = !j->oversize;
			stop(j, SIGTERM);
			j->term_at = now_ms;
		} else if (j->term_at > 0 &&
		    now_ms >= j->term_at + EXEC_KILL_GRACE_MS)
			stop(j, SIGKILL);
		w = j->term_at > 0 ? 10 : j->kill_at - now_ms;
		if (w > 10)
			w = 10;
		if (w < wish)
			wish = w < 1 ? 1 : w;
	}
	if (p->phead < p->npend && wish > 10)
		wish = 10;
	return wish;
}

static void
exec_health(const struct channel *ch, struct chan_health *h)
{
	const struct exec_priv *p = ch->priv;
	size_t s;

	memset(h, 0, sizeof(*h));
	h->up = p->up;
	h->queued = p->npend - p->phead;
	for (s = 0; p->run != NULL && s < p->concurrency; s++)
		if (p->run[s].pid > 0)
			h->in_flight++;
	h->queued += h->in_flight;
	(void)snprintf(h->detail, sizeof(h->detail), "%s", p->err);
}

static void
exec_shutdown(struct channel *ch)
{
	struct exec_priv *p = ch->priv;
	struct timespec ts = { 0, 10 * 1000000L };
	size_t s, left;
	int i, status;

	if (p == NULL)
		return;
	for (s = 0; p->run != NULL && s < p->concurrency; s++)
		if (p->run[s].pid > 0)
			stop(&p->run[s], SIGTERM);
	for (i = 0; i < 100; i++) {	/* up to 1 s */
		for (left = 0, s = 0; p->run != NULL && s < p->concurrency;
		    s++) {
			struct job *j = &p->run[s];

			if (j->pid <= 0)
				continue;
			if (!reap(j, &status, 0))
				left++;
		}
		if (left == 0)
			break;
		(void)nanosleep(&ts, NULL);
	}
	for (s = 0; p->run != NULL && s < p->concurrency; s++) {
		struct job *j = &p->run[s];

		if (j->pid > 0) {
			stop(j, SIGKILL);
			(void)reap(j, &status, 1);
		}
		if (j->id != 0 || j->input != NULL) {
			report(ch, j->id, CHAN_R_RETRY, NULL,
			    "shut down while running", 0);
			job_release(j);
		}
	}
	for (; p->phead < p->npend; p->phead++) {
		report(ch, p->pend[p->phead].id, CHAN_R_RETRY, NULL,
		    "shut down", 0);
		job_release(&p->pend[p->phead]);
	}
	free(p->pend);
	p->pend = NULL;
	p->phead = p->npend = p->apend = 0;
	free(p->run);
	p->run = NULL;
	free_strv(p->argv, p->argc);
	p->argv = NULL;
	p->argc = 0;
	free_strv(p->envp, p->nenv);
	p->envp = NULL;
	p->nenv = 0;
	free(p->workdir);
	p->workdir = NULL;
}

const struct channel_ops chan_exec_ops = {
	.name = "exec",
	.version = CHANNEL_OPS_V1,
	.priv_size = sizeof(struct exec_priv),
	.caps = CHAN_CAP_PERSON | CHAN_CAP_AREA | CHAN_CAP_RECEIPTS,
	.max_batch = 64,
	.addr = CHAN_ADDR_DEVICE,
	.init = exec_init,
	.send = exec_send,
	.poll = exec_poll,
	.inbound = NULL,
	.health = exec_health,
	.shutdown = exec_shutdown,
};
