/*
 * tests/unit/test_chan_exec.c - the "exec" channel driver with small
 * shell and Python programs the test writes to a temporary directory:
 * the JSON on standard input field by field, standard output's
 * "delivered" and "id", exit codes 0, 75 and others, timeouts (SIGTERM,
 * then SIGKILL) with nothing left behind, oversize output, concurrency,
 * shutdown with running programs, no inherited file descriptors, a
 * minimal environment, a program that does not read its input, and
 * config errors with file:line.  Runs from the repository root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "channels/channel.h"
#include "config/cfg.h"

static const char TEXT[] =
    "【暴雨红色预警】平顺县气象台7月15日11时30分发布：后店村降水量已达"
    "100毫米以上，请立即转移山洪危险区群众。\"引号\" \\ 反斜杠\n第二行";

static char dir[64];

/* ------------------------------------------------------------------ */
/* Files                                                               */
/* ------------------------------------------------------------------ */

static void
write_file(const char *path, const char *s, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(s, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* The program name (in dir) with body; returns its path (static). */
static const char *
script(const char *name, const char *body)
{
	static char path[4][160];
	static int k;
	char *p = path[k++ % 4];

	(void)snprintf(p, sizeof(path[0]), "%s/%s", dir, name);
	write_file(p, body, 0755);
	return p;
}

/* The contents of dir/name, or NULL (free()). */
static char *
slurp(const char *name)
{
	char path[160], *b;
	FILE *f;
	long n;

	(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	(void)fseek(f, 0, SEEK_END);
	n = ftell(f);
	(void)fseek(f, 0, SEEK_SET);
	b = calloc(1, (size_t)n + 1);
	assert_non_null(b);
	assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
	(void)fclose(f);
	return b;
}

static long
read_pid(const char *name)
{
	char *s = slurp(name);
	long pid;

	if (s == NULL || s[0] == '\0') {
		free(s);
		return 0;
	}
	pid = strtol(s, NULL, 10);
	free(s);
	return pid;
}

/* Neither running nor a zombie of ours. */
static int
gone(long pid)
{
	char path[64], st[512], *rp;
	FILE *f;

	(void)snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return 1;
	rp = fgets(st, sizeof(st), f);
	(void)fclose(f);
	/* pid (comm) S ...: a zombie reparented to init is gone enough */
	return rp != NULL && (rp = strrchr(st, ')')) != NULL &&
	    rp[1] == ' ' && rp[2] == 'Z' && getppid() != pid &&
	    waitpid((pid_t)pid, NULL, WNOHANG) < 0;
}

static int
no_children(void)
{
	return waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD;
}

static int
group_setup(void **state)
{
	(void)state;
	(void)snprintf(dir, sizeof(dir), "/tmp/gong-exec.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	/* As gongd does. */
	(void)signal(SIGPIPE, SIG_IGN);
	return 0;
}

static int
group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	(void)snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (strncmp(dir, "/tmp/gong-exec.", 15) == 0 && system(cmd) != 0)
		fprintf(stderr, "# could not remove %s\n", dir);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Per test: a channel and what it reported                            */
/* ------------------------------------------------------------------ */

#define MAX_REPORTS 64

struct got {
	int64_t id;
	enum chan_result result;
	int64_t retry_after_ms;
	char gateway_id[160];
	char error[1400];
};

struct fx {
	struct channel ch;
	struct chan_env env;
	struct cfg_doc *doc;
	struct diag_list diags;
	int open;
	struct got rep[MAX_REPORTS];
	size_t nrep;
};

static void
on_report(void *engine, struct channel *ch, const struct chan_report *r)
{
	struct fx *f = engine;
	struct got *g;

	assert_ptr_equal(ch, &f->ch);
	if (f->nrep >= MAX_REPORTS) {	/* counted only */
		f->nrep++;
		return;
	}
	g = &f->rep[f->nrep++];
	g->id = r->delivery_id;
	g->result = r->result;
	g->retry_after_ms = r->retry_after_ms;
	(void)snprintf(g->gateway_id, sizeof(g->gateway_id), "%s",
	    r->gateway_id != NULL ? r->gateway_id : "");
	(void)snprintf(g->error, sizeof(g->error), "%s",
	    r->error != NULL ? r->error : "");
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char cmd[128];

	if (f == NULL)
		return -1;
	diag_list_init(&f->diags);
	f->env.data_dir = dir;
	f->env.callback_base = "http://127.0.0.1:1/cb/s3cret/spk";
	f->env.report = on_report;
	f->env.engine = f;
	f->ch.name = "loudspeaker";
	f->ch.ops = &chan_exec_ops;
	f->ch.env = &f->env;
	f->ch.addr = chan_exec_ops.addr;
	(void)snprintf(cmd, sizeof(cmd), "rm -f %s/*", dir);
	if (system(cmd) != 0)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	if (f->open)
		f->ch.ops->shutdown(&f->ch);
	free(f->ch.priv);
	cfg_doc_free(f->doc);
	diag_list_release(&f->diags);
	free(f);
	return 0;
}

static int
open_yaml(struct fx *f, const char *yaml)
{
	assert_int_equal(cfg_doc_parse(yaml, strlen(yaml), "exec.yaml",
	    &f->doc, &f->diags), 0);
	f->ch.priv = calloc(1, f->ch.ops->priv_size);
	assert_non_null(f->ch.priv);
	f->open = 1;	/* shutdown must cope with a failed init too */
	return f->ch.ops->init(&f->ch, cfg_doc_root(f->doc), &f->diags);
}

/* Shut the channel down and forget it and its diagnostics. */
static void
reopen(struct fx *f)
{
	f->ch.ops->shutdown(&f->ch);
	free(f->ch.priv);
	f->ch.priv = NULL;
	cfg_doc_free(f->doc);
	f->doc = NULL;
	diag_list_release(&f->diags);
	diag_list_init(&f->diags);
	f->nrep = 0;
	f->open = 0;
}

static void
dump_diags(const struct fx *f)
{
	char b[400];
	size_t i;

	for (i = 0; i < f->diags.n; i++)
		fprintf(stderr, "# %s\n", diag_format(&f->diags.v[i], b,
		    sizeof(b)));
}

/* A channel running prog, with OUT=dir in its environment. */
static void
open_prog(struct fx *f, const char *prog, const char *extra)
{
	char yaml[2048];

	(void)snprintf(yaml, sizeof(yaml),
	    "name: loudspeaker\ntype: exec\ncommand: [\"%s\"]\n"
	    "env:\n  OUT: \"%s\"\n%s", prog, dir,
	    extra != NULL ? extra : "");
	if (open_yaml(f, yaml) != 0)
		dump_diags(f);
	assert_int_equal(f->diags.nerrors, 0);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Poll (real time) until nrep reports; at most ms. */
static void
poll_reports(struct fx *f, size_t nrep, int64_t ms)
{
	int64_t end = now_ms() + ms, w, t0;

	while (f->nrep < nrep) {
		assert_true(now_ms() < end);
		t0 = now_ms();
		w = f->ch.ops->poll(&f->ch, now_ms());
		assert_true(w >= 0);
		/* poll never blocks for long */
		assert_true(now_ms() - t0 < 100);
		(void)usleep((useconds_t)(w > 5 ? 5 : w) * 1000);
	}
	(void)f->ch.ops->poll(&f->ch, now_ms());
	assert_int_equal(f->nrep, nrep);
}

static void
msg_init(struct chan_msg *m, int64_t id)
{
	memset(m, 0, sizeof(*m));
	m->delivery_id = id;
	m->to = "zone/140425100201";
	m->text = TEXT;
	m->priority = 9;
}

static void
send1(struct fx *f, int64_t id)
{
	struct chan_msg m;

	msg_init(&m, id);
	assert_int_equal(f->ch.ops->send(&f->ch, &m, 1), 0);
}

static const struct got *
run1(struct fx *f, int64_t id, size_t nrep)
{
	size_t n = f->nrep;

	send1(f, id);
	poll_reports(f, n + nrep, 10000);
	return &f->rep[n];
}

static int
has_diag(const struct fx *f, long line, const char *needle)
{
	size_t i;

	for (i = 0; i < f->diags.n; i++)
		if (f->diags.v[i].line == line &&
		    strstr(f->diags.v[i].msg, needle) != NULL)
			return 1;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Config                                                              */
/* ------------------------------------------------------------------ */

static void
test_config_errors(void **state)
{
	struct fx *f = *state;
	int ok;

	assert_int_equal(open_yaml(f,
	    "name: x\n"					/* 1 */
	    "type: exec\n"				/* 2 */
	    "command: [speaker, --port, /dev/ttyUSB0]\n"	/* 3 */
	    "timeout: 10ms\n"				/* 4 */
	    "concurrency: 0\n"				/* 5 */
	    "env:\n"					/* 6 */
	    "  1BAD: x\n"				/* 7 */
	    "  GONG_DELIVERY_ID: \"1\"\n"		/* 8 */
	    "  OK: [a]\n"				/* 9 */
	    "workdir: var\n"				/* 10 */
	    "addr: pager\n"				/* 11 */
	    "shell: /bin/sh\n"),			/* 12 */
	    ENG_EINVAL);
	ok = has_diag(f, 3, "command[0] must be an absolute path, not "
	    "'speaker' (no PATH search, no shell)") &&
	    has_diag(f, 4, "duration '10ms' is out of range") &&
	    has_diag(f, 5, "0 is out of range (1 to 64)") &&
	    has_diag(f, 7, "env: '1BAD' is not a variable name") &&
	    has_diag(f, 8, "env: GONG_DELIVERY_ID is set by gongd") &&
	    has_diag(f, 9, "env: the value of 'OK' must be a string") &&
	    has_diag(f, 10, "workdir must be an absolute path, not 'var'") &&
	    has_diag(f, 11, "'pager' is not one of") &&
	    has_diag(f, 12, "unknown key 'shell'");
	if (!ok)
		dump_diags(f);
	assert_true(ok);
	assert_int_equal(f->diags.nerrors, 9);
	assert_string_equal(f->diags.v[0].file, "exec.yaml");
}

static void
test_config_command(void **state)
{
	struct fx *f = *state;
	char yaml[512];
	const char *noexec;
	int ok;

	assert_int_equal(open_yaml(f, "name: x\ntype: exec\n"), ENG_EINVAL);
	assert_true(has_diag(f, 1, "missing required key 'command'"));
	assert_int_equal(f->diags.nerrors, 1);
	reopen(f);

	assert_int_equal(open_yaml(f, "name: x\ntype: exec\ncommand: []\n"),
	    ENG_EINVAL);
	assert_true(has_diag(f, 3, "command is empty"));
	reopen(f);

	noexec = script("noexec", "#!/bin/sh\n");
	assert_int_equal(chmod(noexec, 0644), 0);
	assert_int_equal(open_yaml(f, "name: x\ntype: exec\n"
	    "command: /usr/bin/speaker --port x\n"), ENG_EINVAL);
	assert_true(has_diag(f, 3, "command must be a list"));
	reopen(f);

	(void)snprintf(yaml, sizeof(yaml), "name: x\ntype: exec\n"
	    "command:\n"			/* 3 */
	    "  - %s\n"				/* 4 */
	    "  - {a: b}\n"			/* 5 */
	    "  - /no/such\n"			/* 6 */
	    "workdir: /no/such/dir\n",		/* 7 */
	    noexec);
	assert_int_equal(open_yaml(f, yaml), ENG_EINVAL);
	ok = has_diag(f, 4, "is not an executable file: Permission denied") &&
	    has_diag(f, 5, "command[1] must be a string") &&
	    has_diag(f, 7, "workdir '/no/such/dir' is not a directory");
	if (!ok)
		dump_diags(f);
	assert_true(ok);
	assert_int_equal(f->diags.nerrors, 3);
}

/* addr: as the file driver; device by default. */
static void
test_config_addr(void **state)
{
	struct fx *f = *state;
	const char *p = script("ok.sh", "#!/bin/sh\ncat >/dev/null\n");

	open_prog(f, p, NULL);
	assert_int_equal(f->ch.addr, CHAN_ADDR_DEVICE);
	reopen(f);
	open_prog(f, p, "addr: phone\ntimeout: 5s\nconcurrency: 64\n");
	assert_int_equal(f->ch.addr, CHAN_ADDR_PHONE);
}

/* ------------------------------------------------------------------ */
/* Runs                                                                */
/* ------------------------------------------------------------------ */

/* Exactly the message, as JSON, on standard input; the environment is
 * the minimal one; workdir; the arguments as given. */
static void
test_input(void **state)
{
	struct fx *f = *state;
	const char *p;
	char yaml[512], *in, *env, *pwd, *args;
	struct chan_msg m;
	json_t *j, *pl;
	json_error_t je;

	p = script("rec.sh", "#!/bin/sh\n"
	    "cat > \"$OUT/in.$GONG_DELIVERY_ID\"\n"
	    "env | sort > \"$OUT/env\"\n"
	    "pwd > \"$OUT/pwd\"\n"
	    "for a in \"$@\"; do echo \"[$a]\"; done > \"$OUT/args\"\n");
	(void)snprintf(yaml, sizeof(yaml),
	    "name: loudspeaker\ntype: exec\n"
	    "command: [\"%s\", \"--port\", \"/dev/ttyUSB0\", \"a b;$(x)\"]\n"
	    "env:\n  OUT: \"%s\"\n  SPEAKER_BAUD: \"9600\"\n"
	    "  LANG: zh_CN.UTF-8\n"
	    "workdir: /tmp\n", p, dir);
	assert_int_equal(open_yaml(f, yaml), 0);
	assert_true(setenv("GONG_TEST_SECRET", "leak", 1) == 0);

	msg_init(&m, 4242);
	m.subject = "暴雨红色预警";
	m.payload = "{\"zone\":\"140425100201\",\"repeat\":3,\"voice\":"
	    "\"女声\"}";
	m.deadline_ms = 1784172600123LL;	/* 2026-07-16T03:30:00.123Z */
	m.ack_code = "A7";
	m.ack_url = "http://gong.example/a/tok";
	assert_int_equal(f->ch.ops->send(&f->ch, &m, 1), 0);
	assert_int_equal(f->nrep, 0);	/* never from send */
	poll_reports(f, 1, 10000);
	assert_int_equal(f->rep[0].id, 4242);
	assert_int_equal(f->rep[0].result, CHAN_R_SENT);
	assert_string_equal(f->rep[0].error, "");
	assert_string_equal(f->rep[0].gateway_id, "");

	in = slurp("in.4242");
	assert_non_null(in);
	/* one line, one object */
	assert_int_equal(strchr(in, '\n') - in, (long)strlen(in) - 1);
	j = json_loads(in, 0, &je);
	assert_non_null(j);
	assert_int_equal(json_object_size(j), 9);
	assert_int_equal(json_integer_value(json_object_get(j,
	    "delivery_id")), 4242);
	assert_string_equal(json_string_value(json_object_get(j, "to")),
	    "zone/140425100201");
	assert_string_equal(json_string_value(json_object_get(j, "subject")),
	    "暴雨红色预警");
	assert_string_equal(json_string_value(json_object_get(j, "text")),
	    TEXT);
	pl = json_object_get(j, "payload");
	assert_true(json_is_object(pl));
	assert_int_equal(json_object_size(pl), 3);
	assert_string_equal(json_string_value(json_object_get(pl, "zone")),
	    "140425100201");
	assert_int_equal(json_integer_value(json_object_get(pl, "repeat")),
	    3);
	assert_string_equal(json_string_value(json_object_get(pl, "voice")),
	    "女声");
	assert_int_equal(json_integer_value(json_object_get(j, "priority")),
	    9);
	assert_string_equal(json_string_value(json_object_get(j,
	    "deadline")), "2026-07-16T03:30:00Z");
	assert_string_equal(json_string_value(json_object_get(j,
	    "ack_code")), "A7");
	assert_string_equal(json_string_value(json_object_get(j,
	    "ack_url")), "http://gong.example/a/tok");
	/* The Chinese is there as UTF-8, not \u escapes. */
	assert_non_null(strstr(in, "后店村降水量"));
	json_decref(j);
	free(in);

	env = slurp("env");
	assert_non_null(env);
	assert_non_null(strstr(env, "GONG_CHANNEL=loudspeaker\n"));
	assert_non_null(strstr(env, "GONG_DELIVERY_ID=4242\n"));
	assert_non_null(strstr(env, "LANG=zh_CN.UTF-8\n"));
	assert_non_null(strstr(env, "PATH=/usr/local/bin:/usr/bin:/bin\n"));
	assert_non_null(strstr(env, "SPEAKER_BAUD=9600\n"));
	assert_null(strstr(env, "GONG_TEST_SECRET"));
	assert_null(strstr(env, "HOME="));
	free(env);
	pwd = slurp("pwd");
	assert_string_equal(pwd, "/tmp\n");
	free(pwd);
	args = slurp("args");
	assert_string_equal(args, "[--port]\n[/dev/ttyUSB0]\n[a b;$(x)]\n");
	free(args);
	(void)unsetenv("GONG_TEST_SECRET");
}

/* Nulls where the message has nothing; a payload that is not JSON goes
 * as a string. */
static void
test_input_nulls(void **state)
{
	struct fx *f = *state;
	struct chan_msg m;
	char *in;
	json_t *j;

	open_prog(f, script("rec.sh", "#!/bin/sh\n"
	    "cat > \"$OUT/in.$GONG_DELIVERY_ID\"\n"), NULL);
	msg_init(&m, 7);
	m.payload = "zone=3 repeat";
	assert_int_equal(f->ch.ops->send(&f->ch, &m, 1), 0);
	poll_reports(f, 1, 10000);
	assert_int_equal(f->rep[0].result, CHAN_R_SENT);
	in = slurp("in.7");
	j = json_loads(in, 0, NULL);
	assert_non_null(j);
	assert_true(json_is_null(json_object_get(j, "subject")));
	assert_true(json_is_null(json_object_get(j, "deadline")));
	assert_true(json_is_null(json_object_get(j, "ack_code")));
	assert_true(json_is_null(json_object_get(j, "ack_url")));
	assert_string_equal(json_string_value(json_object_get(j, "payload")),
	    "zone=3 repeat");
	json_decref(j);
	free(in);
}

static void
test_delivered(void **state)
{
	struct fx *f = *state;
	const struct got *g;

	open_prog(f, script("ok.sh", "#!/bin/sh\ncat >/dev/null\n"
	    "echo '{\"delivered\": true, \"id\": \"LS-'$GONG_DELIVERY_ID'\"}'\n"
	    "echo progress >&2\n"), NULL);
	g = run1(f, 11, 2);
	assert_int_equal(g[0].id, 11);
	assert_int_equal(g[0].result, CHAN_R_SENT);
	assert_string_equal(g[0].gateway_id, "LS-11");
	assert_int_equal(g[1].id, 11);
	assert_int_equal(g[1].result, CHAN_R_DELIVERED);
	assert_string_equal(g[1].gateway_id, "LS-11");
	reopen(f);

	/* A number as id, delivered false; text on stdout is no JSON. */
	open_prog(f, script("ok2.sh", "#!/bin/sh\ncat >/dev/null\n"
	    "[ $GONG_DELIVERY_ID = 12 ] && "
	    "echo '{\"delivered\": false, \"id\": 981}' || echo OK\n"), NULL);
	g = run1(f, 12, 1);
	assert_int_equal(g->result, CHAN_R_SENT);
	assert_string_equal(g->gateway_id, "981");
	g = run1(f, 13, 1);
	assert_int_equal(g->result, CHAN_R_SENT);
	assert_string_equal(g->gateway_id, "");
	assert_int_equal(f->nrep, 2);	/* no DELIVERED */
}

static void
test_tempfail(void **state)
{
	struct fx *f = *state;
	const struct got *g;

	open_prog(f, script("busy.sh", "#!/bin/sh\ncat >/dev/null\n"
	    "echo 'line busy' >&2\n"
	    "[ $GONG_DELIVERY_ID = 22 ] && echo '{\"retry_after\": 5}'\n"
	    "exit 75\n"), NULL);
	g = run1(f, 21, 1);
	assert_int_equal(g->result, CHAN_R_RETRY);
	assert_int_equal(g->retry_after_ms, 0);
	assert_non_null(strstr(g->error, "/busy.sh exit 75 (temporary "
	    "failure): line busy"));
	g = run1(f, 22, 1);
	assert_int_equal(g->result, CHAN_R_RETRY);
	assert_int_equal(g->retry_after_ms, 5000);
}

static void
test_failed(void **state)
{
	struct fx *f = *state;
	const struct got *g;
	char want[300];
	const char *p;

	p = script("fail.sh", "#!/bin/sh\ncat >/dev/null\n"
	    "i=0; while [ $i -lt 100 ]; do "
	    "echo \"noise $i: 0123456789012345678901234567890123456789\" >&2; "
	    "i=$((i+1)); done\n"
	    "printf '串口 /dev/ttyUSB0 无应答\\n\\n' >&2\nexit 3\n");
	open_prog(f, p, NULL);
	g = run1(f, 31, 1);
	assert_int_equal(g->id, 31);
	assert_int_equal(g->result, CHAN_R_FAILED);
	(void)snprintf(want, sizeof(want), "%s exit 3: ", p);
	assert_memory_equal(g->error, want, strlen(want));
	/* The tail: the last words, whole, newlines as blanks, at most
	 * 1 KiB of stderr. */
	assert_non_null(strstr(g->error, "noise 99: 0123"));
	assert_null(strstr(g->error, "noise 1:"));
	assert_int_equal(strcmp(g->error + strlen(g->error) -
	    strlen("串口 /dev/ttyUSB0 无应答"), "串口 /dev/ttyUSB0 无应答"), 0);
	assert_true(strlen(g->error) <= strlen(want) + 1024);
	assert_null(strchr(g->error, '\n'));

	/* A signal of its own: retry. */
	reopen(f);
	p = script("abrt.sh", "#!/bin/sh\ncat >/dev/null\nkill -KILL $$\n");
	open_prog(f, p, NULL);
	g = run1(f, 32, 1);
	assert_int_equal(g->result, CHAN_R_RETRY);
	assert_non_null(strstr(g->error, "killed by signal 9"));
}

/* Bytes that are not UTF-8 on stderr end up as '?'. */
static void
test_stderr_bad_utf8(void **state)
{
	struct fx *f = *state;
	const struct got *g;
	json_t *j;

	open_prog(f, script("bad.sh", "#!/bin/sh\ncat >/dev/null\n"
	    "printf 'bad \\377\\300\\200 \\344\\275 end\\t\\n' >&2\nexit 2\n"),
	    NULL);
	g = run1(f, 33, 1);
	assert_int_equal(g->result, CHAN_R_FAILED);
	if (strstr(g->error, "exit 2: bad ??? ?? end") == NULL)
		fprintf(stderr, "# %s\n", g->error);
	assert_non_null(strstr(g->error, "exit 2: bad ??? ?? end"));
	j = json_string(g->error);	/* valid UTF-8 */
	assert_non_null(j);
	json_decref(j);
}

/* A sleeper past its timeout: SIGTERM, RETRY, nothing left. */
static void
test_timeout(void **state)
{
	struct fx *f = *state;
	const struct got *g;
	long pid, gpid;
	int64_t t0 = now_ms();

	open_prog(f, script("sleep.sh", "#!/bin/sh\ncat >/dev/null\n"
	    "echo $$ > \"$OUT/pid\"\n"
	    "sleep 30 &\necho $! > \"$OUT/gpid\"\nwait\n"),
	    "timeout: 300ms\n");
	g = run1(f, 41, 1);
	assert_int_equal(g->result, CHAN_R_RETRY);
	assert_non_null(strstr(g->error, "/sleep.sh timed out after 300 ms"));
	assert_true(now_ms() - t0 < 3000);
	pid = read_pid("pid");
	gpid = read_pid("gpid");
	assert_true(pid > 0 && gpid > 0);
	assert_true(no_children());
	assert_true(gone(pid));
	(void)usleep(50000);
	assert_true(gone(gpid));	/* its group went too */
}

/* A program that ignores SIGTERM gets SIGKILL 2 s (of now_ms) later. */
static void
test_timeout_kill(void **state)
{
	struct fx *f = *state;
	int64_t t = 1000000;
	long pid = 0;
	int i;

	open_prog(f, script("stubborn.sh", "#!/bin/sh\ntrap '' TERM\n"
	    "cat >/dev/null\necho $$ > \"$OUT/pid\"\nsleep 30\n"),
	    "timeout: 1s\n");
	send1(f, 51);
	(void)f->ch.ops->poll(&f->ch, t);
	for (i = 0; i < 500 && (pid = read_pid("pid")) == 0; i++) {
		(void)f->ch.ops->poll(&f->ch, t);
		(void)usleep(10000);
	}
	assert_true(pid > 0);
	(void)f->ch.ops->poll(&f->ch, t + 999);
	(void)usleep(100000);
	(void)f->ch.ops->poll(&f->ch, t + 999);
	assert_false(gone(pid));
	(void)f->ch.ops->poll(&f->ch, t + 1000);	/* SIGTERM */
	(void)usleep(200000);
	(void)f->ch.ops->poll(&f->ch, t + 2999);
	assert_int_equal(f->nrep, 0);			/* ignored it */
	assert_false(gone(pid));
	(void)f->ch.ops->poll(&f->ch, t + 3000);	/* SIGKILL */
	for (i = 0; i < 500 && f->nrep == 0; i++) {
		(void)usleep(10000);
		(void)f->ch.ops->poll(&f->ch, t + 3000);
	}
	assert_int_equal(f->nrep, 1);
	assert_int_equal(f->rep[0].result, CHAN_R_RETRY);
	assert_non_null(strstr(f->rep[0].error, "timed out after 1000 ms"));
	assert_true(gone(pid));
	assert_true(no_children());
}

static void
test_oversize(void **state)
{
	struct fx *f = *state;
	const struct got *g;

	open_prog(f, script("chatty.sh", "#!/bin/sh\ncat >/dev/null\n"
	    "head -c 70000 /dev/zero | tr '\\0' a\nexit 0\n"), NULL);
	g = run1(f, 61, 1);
	assert_int_equal(g->result, CHAN_R_FAILED);
	assert_non_null(strstr(g->error, "/chatty.sh wrote more than 65536 "
	    "bytes to standard output; stopped"));
	assert_true(no_children());
	/* A program that never stops writing is stopped all the same. */
	reopen(f);
	open_prog(f, script("yes.sh", "#!/bin/sh\nexec yes gong\n"), NULL);
	g = run1(f, 62, 1);
	assert_int_equal(g->result, CHAN_R_FAILED);
	assert_non_null(strstr(g->error, "more than 65536 bytes"));
	assert_true(no_children());
}

/* At most concurrency programs at once (and that many indeed). */
static void
test_concurrency(void **state)
{
	struct fx *f = *state;
	struct chan_msg m[6];
	long s[6], e[6], most = 0, n;
	char name[32], *b;
	int i, k;

	open_prog(f, script("slow.sh", "#!/bin/sh\ncat >/dev/null\n"
	    "date +%s%N > \"$OUT/s.$GONG_DELIVERY_ID\"\nsleep 0.3\n"
	    "date +%s%N > \"$OUT/e.$GONG_DELIVERY_ID\"\n"),
	    "concurrency: 2\n");
	for (i = 0; i < 6; i++)
		msg_init(&m[i], 100 + i);
	/* As the engine does: what is refused is offered again later. */
	assert_int_equal(f->ch.ops->send(&f->ch, m, 3), ENG_ETEMP);
	assert_int_equal(f->ch.ops->send(&f->ch, m, 2), 0);
	assert_int_equal(f->ch.ops->send(&f->ch, &m[2], 1), ENG_ETEMP);
	for (i = 2, k = 0; i < 6 && k < 2000; k++) {
		if (f->ch.ops->send(&f->ch, &m[i], 1) == 0)
			i++;
		(void)f->ch.ops->poll(&f->ch, now_ms());
		(void)usleep(5000);
	}
	assert_int_equal(i, 6);
	poll_reports(f, 6, 20000);
	for (i = 0; i < 6; i++) {
		assert_int_equal(f->rep[i].result, CHAN_R_SENT);
		(void)snprintf(name, sizeof(name), "s.%d", 100 + i);
		b = slurp(name);
		assert_non_null(b);
		s[i] = strtol(b, NULL, 10) / 1000000;
		free(b);
		(void)snprintf(name, sizeof(name), "e.%d", 100 + i);
		b = slurp(name);
		assert_non_null(b);
		e[i] = strtol(b, NULL, 10) / 1000000;
		free(b);
	}
	for (i = 0; i < 6; i++) {
		for (n = 0, k = 0; k < 6; k++)
			if (s[k] <= s[i] && s[i] <= e[k])
				n++;
		if (n > most)
			most = n;
	}
	assert_int_equal(most, 2);
}

/* shutdown: the running programs are stopped and reaped, their messages
 * and the queued ones RETRY. */
static void
test_shutdown(void **state)
{
	struct fx *f = *state;
	struct chan_msg m[3];
	struct chan_health h;
	long p1 = 0, p2 = 0;
	size_t i;
	int k, retry = 0, running = 0;

	open_prog(f, script("long.sh", "#!/bin/sh\ncat >/dev/null\n"
	    "echo $$ > \"$OUT/pid.$GONG_DELIVERY_ID\"\nsleep 30\n"),
	    "concurrency: 3\n");
	for (i = 0; i < 3; i++)
		msg_init(&m[i], 200 + (int64_t)i);
	assert_int_equal(f->ch.ops->send(&f->ch, m, 2), 0);
	for (k = 0; k < 500 && (p1 == 0 || p2 == 0); k++) {
		(void)f->ch.ops->poll(&f->ch, now_ms());
		(void)usleep(10000);
		p1 = read_pid("pid.200");
		p2 = read_pid("pid.201");
	}
	assert_true(p1 > 0 && p2 > 0);
	/* One more, queued (no poll starts it). */
	assert_int_equal(f->ch.ops->send(&f->ch, &m[2], 1), 0);
	f->ch.ops->health(&f->ch, &h);
	assert_int_equal(h.in_flight, 2);
	assert_int_equal(h.queued, 3);
	assert_int_equal(f->nrep, 0);
	f->ch.ops->shutdown(&f->ch);
	assert_int_equal(f->nrep, 3);
	for (i = 0; i < 3; i++) {
		retry += f->rep[i].result == CHAN_R_RETRY;
		running += strcmp(f->rep[i].error, "shut down while running")
		    == 0;
	}
	assert_int_equal(retry, 3);
	assert_int_equal(running, 2);
	assert_int_equal(f->rep[2].id, 202);
	assert_string_equal(f->rep[2].error, "shut down");
	assert_true(gone(p1));
	assert_true(gone(p2));
	assert_true(no_children());
	f->ch.ops->shutdown(&f->ch);	/* idempotent */
	assert_int_equal(f->nrep, 3);
	f->open = 0;
}

/* The program has 0, 1 and 2 open, nothing of ours. */
static void
test_no_fds(void **state)
{
	struct fx *f = *state;
	int leak1, leak2[2];
	const struct got *g;
	char *fds;

	leak1 = open("/dev/null", O_RDONLY);	/* no O_CLOEXEC */
	assert_true(leak1 >= 0);
	assert_int_equal(pipe(leak2), 0);
	open_prog(f, script("fds.py", "#!/usr/bin/python3\n"
	    "import os, sys\n"
	    "sys.stdin.read()\n"
	    "fds = []\n"
	    "for n in sorted(os.listdir('/proc/self/fd'), key=int):\n"
	    "    try:\n"
	    "        fds.append(n + ' ' + os.readlink('/proc/self/fd/' + n))\n"
	    "    except OSError:\n"
	    "        pass\n"
	    "fds = [x for x in fds if '/proc/' not in x]\n"
	    "open(os.environ['OUT'] + '/fds', 'w').write("
	    "' '.join(x.split()[0] for x in fds))\n"), NULL);
	g = run1(f, 71, 1);
	assert_int_equal(g->result, CHAN_R_SENT);
	fds = slurp("fds");
	assert_non_null(fds);
	assert_string_equal(fds, "0 1 2");
	free(fds);
	(void)close(leak1);
	(void)close(leak2[0]);
	(void)close(leak2[1]);
}

/* A program that exits without reading a large input (EPIPE for us). */
static void
test_no_read(void **state)
{
	struct fx *f = *state;
	struct chan_msg m;
	size_t n = 300000, i;
	char *big;

	open_prog(f, script("deaf.sh", "#!/bin/sh\nexit 0\n"), NULL);
	big = malloc(n + 1);
	assert_non_null(big);
	for (i = 0; i < n; i++)
		big[i] = (char)('a' + (char)(i % 26));
	big[n] = '\0';
	msg_init(&m, 81);
	m.text = big;
	assert_int_equal(f->ch.ops->send(&f->ch, &m, 1), 0);
	free(big);	/* the driver keeps its own copy */
	poll_reports(f, 1, 10000);
	assert_int_equal(f->rep[0].result, CHAN_R_SENT);
	/* and again, a program that fails that way */
	reopen(f);
	open_prog(f, script("deaf2.sh", "#!/bin/sh\necho no >&2\nexit 4\n"),
	    NULL);
	big = calloc(1, n + 1);
	assert_non_null(big);
	memset(big, 'x', n);
	m.text = big;
	m.delivery_id = 82;
	assert_int_equal(f->ch.ops->send(&f->ch, &m, 1), 0);
	free(big);
	poll_reports(f, 1, 10000);
	assert_int_equal(f->rep[0].result, CHAN_R_FAILED);
	assert_non_null(strstr(f->rep[0].error, "/deaf2.sh exit 4: no"));
}

/* The program vanished after init: FAILED (failover); a message JSON
 * cannot carry: FAILED. */
static void
test_cannot_run(void **state)
{
	struct fx *f = *state;
	const char *p = script("gone.sh", "#!/bin/sh\nexit 0\n");
	struct chan_msg m;
	struct chan_health h;
	const struct got *a, *b;
	char want[300], want127[300];

	open_prog(f, p, "concurrency: 2\n");
	assert_int_equal(unlink(p), 0);
	send1(f, 91);
	msg_init(&m, 92);
	m.text = "bad \xff utf-8";
	assert_int_equal(f->ch.ops->send(&f->ch, &m, 1), 0);
	poll_reports(f, 2, 5000);
	/* in either order (under valgrind the spawn is a fork) */
	a = f->rep[0].id == 91 ? &f->rep[0] : &f->rep[1];
	b = f->rep[0].id == 91 ? &f->rep[1] : &f->rep[0];
	assert_int_equal(a->id, 91);
	assert_int_equal(a->result, CHAN_R_FAILED);
	(void)snprintf(want, sizeof(want), "cannot run %s: No such file or "
	    "directory", p);
	(void)snprintf(want127, sizeof(want127), "%s exit 127", p);
	/* glibc's posix_spawn reports the exec's error; under valgrind
	 * it is a fork whose exec fails: exit 127 */
	if (strcmp(a->error, want127) != 0)
		assert_string_equal(a->error, want);
	assert_int_equal(b->id, 92);
	assert_int_equal(b->result, CHAN_R_FAILED);
	assert_string_equal(b->error, "the message cannot be written "
	    "as JSON (text not UTF-8)");
	f->ch.ops->health(&f->ch, &h);
	if (strcmp(a->error, want127) != 0) {
		assert_int_equal(h.up, 0);
		assert_string_equal(h.detail, want);
	}
}

/* send holds no more than concurrency messages (running or about to):
 * more is ENG_ETEMP; a batch over max_batch is EINVAL. */
static void
test_queue_full(void **state)
{
	struct fx *f = *state;
	struct chan_msg m[65];
	struct chan_health h;
	size_t i;

	open_prog(f, script("q.sh", "#!/bin/sh\nexit 0\n"),
	    "concurrency: 3\n");
	for (i = 0; i < 65; i++)
		msg_init(&m[i], 1000 + (int64_t)i);
	assert_int_equal(f->ch.ops->send(&f->ch, m, 65), ENG_EINVAL);
	assert_int_equal(f->ch.ops->send(&f->ch, m, 4), ENG_ETEMP);
	assert_int_equal(f->ch.ops->send(&f->ch, m, 2), 0);
	assert_int_equal(f->ch.ops->send(&f->ch, &m[2], 2), ENG_ETEMP);
	assert_int_equal(f->ch.ops->send(&f->ch, &m[2], 1), 0);
	assert_int_equal(f->ch.ops->send(&f->ch, &m[3], 1), ENG_ETEMP);
	f->ch.ops->health(&f->ch, &h);
	assert_int_equal(h.queued, 3);
	assert_int_equal(h.in_flight, 0);
	assert_int_equal(f->nrep, 0);
	f->ch.ops->shutdown(&f->ch);
	assert_int_equal(f->nrep, 3);
	for (i = 0; i < 3; i++) {
		assert_int_equal(f->rep[i].id, 1000 + (int64_t)i);
		assert_int_equal(f->rep[i].result, CHAN_R_RETRY);
		assert_string_equal(f->rep[i].error, "shut down");
	}
	f->open = 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_config_errors, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_config_command, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_config_addr, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_input_nulls, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_delivered, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_tempfail, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_failed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stderr_bad_utf8, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_timeout, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_timeout_kill, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_oversize, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_concurrency, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_shutdown, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_no_fds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_read, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_cannot_run, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_queue_full, setup,
		    teardown),
	};

	return cmocka_run_group_tests_name("chan_exec", tests, group_setup,
	    group_teardown);
}
