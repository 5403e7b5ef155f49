/*
 * tests/unit/test_dispatch.c - what the dispatcher gives its channels:
 * each channel's callback base is the engine's /cb base followed by the
 * channel's name (channels/channel.h, struct chan_env), so that a
 * gateway's callbacks (Kannel's dlr-url) come back to /cb/{name}/...
 * A fake driver (type "fake", through a wrapped chan_find) records what
 * init was given.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "channels/channel.h"
#include "config/cfg.h"
#include "engine/dispatch.h"

const struct channel_ops *__wrap_chan_find(const char *type);
const struct channel_ops *__real_chan_find(const char *type);

static char seen[4][200];	/* name=callback_base, per init */
static size_t nseen;

static int
fake_init(struct channel *ch, const struct cfg_node *cfg,
    struct diag_list *diags)
{
	(void)cfg;
	(void)diags;
	assert_true(nseen < 4);
	assert_true(snprintf(seen[nseen], sizeof(seen[0]), "%s=%s", ch->name,
	    ch->env->callback_base) < (int)sizeof(seen[0]));
	nseen++;
	return 0;
}

static int
fake_send(struct channel *ch, const struct chan_msg *m, size_t n)
{
	(void)ch;
	(void)m;
	(void)n;
	return ENG_ETEMP;
}

static int64_t
fake_poll(struct channel *ch, int64_t now_ms)
{
	(void)ch;
	(void)now_ms;
	return 1000;
}

static void
fake_health(const struct channel *ch, struct chan_health *h)
{
	(void)ch;
	memset(h, 0, sizeof(*h));
	h->up = 1;
}

static void
fake_shutdown(struct channel *ch)
{
	(void)ch;
}

static const struct channel_ops fake_ops = {
	.name = "fake",
	.version = CHANNEL_OPS_V1,
	.priv_size = 8,
	.caps = CHAN_CAP_PERSON | CHAN_CAP_INBOUND,
	.max_batch = 1,
	.addr = CHAN_ADDR_PHONE,
	.init = fake_init,
	.send = fake_send,
	.poll = fake_poll,
	.health = fake_health,
	.shutdown = fake_shutdown,
};

const struct channel_ops *
__wrap_chan_find(const char *type)
{
	if (type != NULL && strcmp(type, "fake") == 0)
		return &fake_ops;
	return __real_chan_find(type);
}

static const char yaml[] =
    "deployment:\n"
    "  root: \"140400000000\"\n"
    "channels:\n"
    "  - { name: sms-main, type: fake }\n"
    "  - { name: out, type: file, path: out.log }\n"
    "  - { name: b_2, type: fake }\n";

struct fx {
	struct cfg *cfg;
	char dir[64];
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct diag_list d;

	if (f == NULL)
		return -1;
	*state = f;
	nseen = 0;
	memset(seen, 0, sizeof(seen));
	diag_list_init(&d);
	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/gong-test-disp-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	if (cfg_load_buf(yaml, strlen(yaml), "d.yaml", f->dir, &f->cfg,
	    &d) != 0) {
		fprintf(stderr, "config: %s\n", d.n > 0 ? d.v[0].msg : "?");
		diag_list_release(&d);
		return -1;
	}
	diag_list_release(&d);
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[200];
	int rv = 0;

	cfg_free(f->cfg);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		rv = -1;
	free(f);
	return rv;
}

/* gongd --check-config: the channels are initialised (not started). */
static void
t_check_channels_bases(void **state)
{
	struct fx *f = *state;
	struct diag_list d;

	diag_list_init(&d);
	assert_int_equal(dispatch_check_channels(f->cfg, f->dir, &d), 0);
	assert_int_equal(d.nerrors, 0);
	assert_int_equal(nseen, 2);
	assert_string_equal(seen[0], "sms-main=http://127.0.0.1/cb/sms-main");
	assert_string_equal(seen[1], "b_2=http://127.0.0.1/cb/b_2");
	diag_list_release(&d);
}

/* The running dispatcher: the daemon's base plus the name. */
static void
t_start_bases(void **state)
{
	struct fx *f = *state;
	struct dispatch_config c;
	struct dispatch *d = NULL;
	struct diag_list dl;
	struct eng_errbuf eb;
	char db[128];

	diag_list_init(&dl);
	eng_errbuf_init(&eb);
	(void)snprintf(db, sizeof(db), "%s/gong.db", f->dir);
	memset(&c, 0, sizeof(c));
	c.cfg = f->cfg;
	c.db_path = db;
	c.data_dir = f->dir;
	c.callback_base = "http://127.0.0.1:8080/cb";
	if (dispatch_start(&c, &d, &dl, &eb) != 0)
		fprintf(stderr, "%s\n", eb.msg);
	assert_non_null(d);
	dispatch_stop(d);
	assert_int_equal(nseen, 2);
	assert_string_equal(seen[0],
	    "sms-main=http://127.0.0.1:8080/cb/sms-main");
	assert_string_equal(seen[1], "b_2=http://127.0.0.1:8080/cb/b_2");
	diag_list_release(&dl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_check_channels_bases, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_start_bases, setup,
		    teardown),
	};

	return cmocka_run_group_tests_name("dispatch", tests, NULL, NULL);
}
