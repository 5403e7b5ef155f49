/*
 * engine/gongd_main.c - gongd, the daemon: arguments, signals, main loop.
 */
#include "cap/cap.h"
#include "config/cfg.h"
#include "engine/clock.h"
#include "engine/daemon.h"
#include "engine/dispatch.h"
#include "engine/escalate.h"
#include "engine/diag.h"
#include "engine/log.h"
#include "engine/roster.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static void
usage(FILE *f)
{
	fprintf(f,
"usage: gongd [--config FILE] [--data-dir DIR] [--listen HOST:PORT]\n"
"             [--log-level debug|info|warn|error]\n"
"       gongd --check-config FILE   check a config (and its rosters), exit\n"
"       gongd --print-default-config\n"
"       gongd --version | --help\n"
"\n"
"Without --config gongd runs the embedded default: the demo rosters of\n"
"长治市, data under ./var/, listening on 127.0.0.1:8080.\n"
"Signals: SIGHUP reloads config and rosters (an invalid config is\n"
"rejected and the old one stays); SIGTERM/SIGINT stop cleanly.\n");
}

/*
 * Open files as the hard limit allows (up to 65536): every HTTP
 * connection (a gateway's receipts come in bursts), every gateway
 * connection and the store take one, and a soft limit of 1024 is
 * common.  A failure only leaves the limit as it was.
 */
static void
raise_nofile(void)
{
	struct rlimit rl;
	rlim_t want = 65536;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want)
		want = rl.rlim_max;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
		rl.rlim_cur = want;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void
print_diags(const struct diag_list *l)
{
	char buf[1400];
	size_t i;

	for (i = 0; i < l->n; i++)
		fprintf(stderr, "%s\n", diag_format(&l->v[i], buf,
		    sizeof(buf)));
	if (l->dropped > 0)
		fprintf(stderr, "(%zu more not shown)\n", l->dropped);
}

/* --check-config: the config, the files it names, and the rosters. */
static int
check_config(const char *path)
{
	static const enum roster_kind kinds[3] = {
		ROSTER_REGIONS, ROSTER_RESPONDERS, ROSTER_DEVICES
	};
	struct diag_list d;
	struct cfg *c = NULL;
	struct roster ro[3];
	const char *files[3];
	int i, rv, have = 0;

	diag_list_init(&d);
	rv = cfg_load_file(path, &c, &d);
	if (rv == 0)
		rv = cfg_check_files(c, &d);
	if (rv == 0)
		rv = dispatch_check_channels(c, c->data_dir, &d);
	if (rv == 0) {
		files[0] = c->rosters.regions;
		files[1] = c->rosters.responders;
		files[2] = c->rosters.devices;
		for (i = 0; i < 3; i++) {
			roster_init(&ro[i]);
			if (files[i] == NULL)
				continue;
			if (roster_parse_file(kinds[i], files[i],
			    c->rosters.encoding, &ro[i], &d) != 0)
				rv = ENG_EINVAL;
			else
				have |= 1 << i;
		}
		/* Does every escalation step reach someone? */
		if (rv == 0 && (have & 3) == 3 &&
		    escalate_check_rosters(c, &ro[0], &ro[1], &d) != 0)
			rv = ENG_EINVAL;
		for (i = 0; i < 3; i++)
			roster_release(&ro[i]);
	}
	print_diags(&d);
	if (rv == 0)
		printf("%s: ok\n", path);
	else
		fprintf(stderr, "%s: %zu error(s)\n", path,
		    d.nerrors ? d.nerrors : 1);
	diag_list_release(&d);
	cfg_free(c);
	return rv == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	const char *config = NULL, *data_dir = NULL, *listen = NULL;
	const char *tc;
	const char *level = NULL;
	struct eng_errbuf eb;
	struct diag_list d;
	struct daemon *dm = NULL;
	struct daemon_opts opts;
	struct cfg *c = NULL;
	struct timespec to = { 1, 0 };
	sigset_t set;
	enum log_level lvl;
	int i, rv, sig;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(a, "--version") == 0) {
			printf("gongd %s\n", GONG_VERSION);
			return 0;
		} else if (strcmp(a, "--print-default-config") == 0) {
			char *y = cfg_default_yaml();

			if (y == NULL)
				return 1;
			fputs(y, stdout);
			free(y);
			return 0;
		} else if (strcmp(a, "--check-config") == 0 ||
		    strcmp(a, "-n") == 0) {
			if (v == NULL) {
				usage(stderr);
				return 2;
			}
			return check_config(v);
		} else if (v != NULL && strcmp(a, "--config") == 0) {
			config = v;
			i++;
		} else if (v != NULL && strcmp(a, "--data-dir") == 0) {
			data_dir = v;
			i++;
		} else if (v != NULL && strcmp(a, "--listen") == 0) {
			listen = v;
			i++;
		} else if (v != NULL && strcmp(a, "--log-level") == 0) {
			level = v;
			i++;
		} else {
			fprintf(stderr, "gongd: unknown or incomplete option "
			    "'%s'\n", a);
			usage(stderr);
			return 2;
		}
	}

	eng_errbuf_init(&eb);
	diag_list_init(&d);
	rv = config != NULL ? cfg_load_file(config, &c, &d) :
	    cfg_default(&c, &d);
	if (rv == 0)
		rv = cfg_check_files(c, &d);
	print_diags(&d);
	diag_list_release(&d);
	if (rv != 0) {
		fprintf(stderr, "gongd: %s: invalid configuration\n",
		    config ? config : "<default>");
		cfg_free(c);
		return 1;
	}
	if ((data_dir != NULL && cfg_set_data_dir(c, data_dir, &eb) != 0) ||
	    (listen != NULL && cfg_set_listen(c, listen, &eb) != 0)) {
		fprintf(stderr, "gongd: %s\n", eb.msg);
		cfg_free(c);
		return 2;
	}
	log_set_level(c->log_level);
	if (level != NULL) {
		if (log_level_parse(level, &lvl) != 0) {
			fprintf(stderr, "gongd: bad log level '%s'\n", level);
			cfg_free(c);
			return 2;
		}
		log_set_level(lvl);
	}

	/* Signals are taken synchronously by this thread only; every
	 * thread started later inherits the mask. */
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	(void)pthread_sigmask(SIG_BLOCK, &set, NULL);
	(void)signal(SIGPIPE, SIG_IGN);
	raise_nofile();

	log_info("gongd.start", "version=%s config=%s", GONG_VERSION,
	    config ? config : "<default>");
	/* Tests drive the clock (engine/clock.h); never set in production. */
	if ((tc = getenv("GONG_TEST_CLOCK_FILE")) != NULL && tc[0] != '\0') {
		if (eng_clock_set_offset_file(tc) != 0) {
			cfg_free(c);
			return 1;
		}
		log_warn("clock.test", "file=%s msg=\"the clock runs ahead by "
		    "the offset in this file (tests only)\"", tc);
	}
	opts.config_path = config;
	opts.data_dir = data_dir;
	opts.listen = listen;
	(void)cap_global_init();
	/* Before any thread: the channels and the feed poller use curl. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		fprintf(stderr, "gongd: libcurl failed to start\n");
		cfg_free(c);
		return 1;
	}
	if ((rv = daemon_start(c, &opts, &dm, &eb)) != 0) {
		log_error("gongd.fail", "error=\"%s\"", eb.msg);
		fprintf(stderr, "gongd: %s\n", eb.msg);
		cfg_free(c);
		curl_global_cleanup();
		cap_global_cleanup();
		return 1;
	}
	c = NULL;
	for (;;) {
		sig = sigtimedwait(&set, NULL, &to);
		if (sig < 0) {
			if (errno == EAGAIN)
				daemon_tick(dm);
			continue;
		}
		if (sig == SIGHUP) {
			log_info("gongd.reload", "signal=HUP");
			diag_list_init(&d);
			(void)daemon_reload(dm, &d);
			daemon_log_diags("config.error", &d);
			diag_list_release(&d);
			continue;
		}
		log_info("gongd.stop", "signal=%s", sig == SIGTERM ? "TERM" :
		    "INT");
		break;
	}
	daemon_stop(dm);
	curl_global_cleanup();
	cap_global_cleanup();
	log_info("gongd.stopped", "msg=\"clean exit\"");
	return 0;
}
