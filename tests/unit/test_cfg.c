/*
 * tests/unit/test_cfg.c - the configuration loader: the example file and
 * the embedded default load; every kind of error is reported with the
 * right file, line, key path and message; hostile input is refused
 * quickly.  Run from the repository root (the data files are read from
 * tests/data/cfg/).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config/cfg.h"

struct st {
	struct diag_list d;
	struct cfg *c;
	struct cfg_doc *doc;
	char line[2048];
	char tmp[PATH_MAX];	/* a temporary file to remove, or "" */
};

static int
setup(void **state)
{
	struct st *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return -1;
	diag_list_init(&s->d);
	*state = s;
	return 0;
}

static int
teardown(void **state)
{
	struct st *s = *state;

	cfg_free(s->c);
	cfg_doc_free(s->doc);
	diag_list_release(&s->d);
	if (s->tmp[0] != '\0')
		(void)unlink(s->tmp);
	free(s);
	(void)unsetenv("GONG_DEMO_DIR");
	(void)unsetenv("GONG_TEMPLATES_DIR");
	return 0;
}

/* Diagnostic i formatted as "file:line: error: path: message". */
static const char *
D(struct st *s, size_t i)
{
	assert_true(i < s->d.n);
	return diag_format(&s->d.v[i], s->line, sizeof(s->line));
}

static int
load(struct st *s, const char *yaml)
{
	return cfg_load_buf(yaml, strlen(yaml), "t.yaml", "/etc/gong", &s->c,
	    &s->d);
}

static int
parse(struct st *s, const char *yaml)
{
	return cfg_doc_parse(yaml, strlen(yaml), "t.yaml", &s->doc, &s->d);
}

static double
now_s(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- whole files ---- */

static void
test_example_loads(void **state)
{
	struct st *s = *state;
	struct cfg *c;
	char cwd[PATH_MAX], want[PATH_MAX + 64];

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(cfg_load_file("config/gong.example.yaml", &s->c,
	    &s->d), 0);
	assert_int_equal(s->d.n, 0);
	c = s->c;
	assert_string_equal(c->deployment.root, "140400000000");
	assert_int_equal(c->deployment.root_level, REGION_CITY);
	assert_int_equal(c->deployment.levels, 4);
	assert_string_equal(c->deployment.name, "长治市");
	assert_string_equal(c->deployment.timezone, "Asia/Shanghai");
	assert_string_equal(c->deployment.language, "zh-CN");
	assert_int_equal(c->deployment.unknown_severity_colour,
	    CFG_COLOUR_YELLOW);
	(void)snprintf(want, sizeof(want), "%s/config/var", cwd);
	assert_string_equal(c->data_dir, want);
	(void)snprintf(want, sizeof(want), "%s/config/demo/regions.csv", cwd);
	assert_string_equal(c->rosters.regions, want);
	assert_string_equal(c->listen.host, "127.0.0.1");
	assert_int_equal(c->listen.port, 8080);
	assert_int_equal(c->log_level, LOG_LVL_INFO);
	assert_int_equal(c->http.max_body, 16 * 1024 * 1024);
	assert_int_equal(c->http.connection_timeout_ms, 30000);
	assert_int_equal(c->http.max_connections, 1024);
	assert_int_equal(c->http.max_connections_per_ip, 256);
	assert_int_equal(c->http.threads, 2);
	assert_int_equal(c->rosters.encoding, ROSTER_ENC_AUTO);
	(void)snprintf(want, sizeof(want), "%s/config/../templates/default",
	    cwd);
	assert_string_equal(c->templates, want);
	assert_int_equal(c->nchannels, 1);
	assert_string_equal(c->channels[0].name, "outbox-file");
	assert_string_equal(c->channels[0].type, "file");
	assert_string_equal(cfg_node_str(cfg_node_get(c->channels[0].node,
	    "path")), "outbox.log");
	assert_int_equal(cfg_channel_find(c, "outbox-file"), 0);
	assert_int_equal(cfg_channel_find(c, "nope"), -1);
	assert_int_equal(c->nfeeds, 1);
	assert_string_equal(c->feeds[0].name, "cma-changzhi");
	assert_null(c->feeds[0].token_file);
	assert_non_null(c->feeds[0].token_hash);
	assert_int_equal(c->feeds[0].nregions, 2);
	assert_string_equal(c->feeds[0].regions[0], "140425000000");
	assert_string_equal(c->feeds[0].regions[1], "140426000000");
}

/* The example documents every key the loader accepts, and the embedded
 * default sets every key the example shows. */
static void
test_example_and_default_have_same_keys(void **state)
{
	struct st *s = *state;
	struct cfg *def = NULL;
	const struct cfg_node *a, *b;
	size_t i, j;

	assert_int_equal(cfg_load_file("config/gong.example.yaml", &s->c,
	    &s->d), 0);
	assert_int_equal(cfg_default(&def, &s->d), 0);
	a = s->c->root;
	b = def->root;
	assert_int_equal(cfg_node_len(a), cfg_node_len(b));
	for (i = 0; i < cfg_node_len(a); i++) {
		const char *k = cfg_node_key_at(a, i);
		const struct cfg_node *va = cfg_node_at(a, i);
		const struct cfg_node *vb = cfg_node_get(b, k);

		assert_non_null(vb);
		if (cfg_node_kind(va) != CFG_MAP)
			continue;
		assert_int_equal(cfg_node_len(va), cfg_node_len(vb));
		for (j = 0; j < cfg_node_len(va); j++)
			assert_non_null(cfg_node_get(vb,
			    cfg_node_key_at(va, j)));
	}
	cfg_free(def);
}

static void
test_default_loads(void **state)
{
	struct st *s = *state;
	struct cfg *c;
	char cwd[PATH_MAX], want[PATH_MAX + 64];

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(cfg_default(&s->c, &s->d), 0);
	assert_int_equal(s->d.n, 0);
	c = s->c;
	assert_string_equal(c->file, "<default>");
	assert_string_equal(c->deployment.root, "140400000000");
	(void)snprintf(want, sizeof(want), "%s/var", cwd);
	assert_string_equal(c->data_dir, want);
	assert_string_equal(c->rosters.regions, GONG_DEMO_DIR "/regions.csv");
	assert_string_equal(c->rosters.responders,
	    GONG_DEMO_DIR "/responders.csv");
	assert_string_equal(c->rosters.devices, GONG_DEMO_DIR "/devices.csv");
	assert_string_equal(c->templates, GONG_TEMPLATES_DIR);
	assert_int_equal(c->nchannels, 5);
	assert_true(cfg_channel_find(c, "loudspeaker") >= 0);
	assert_true(cfg_channel_find(c, "wecom") >= 0);
	assert_string_equal(c->channels[0].name, "outbox-file");
	assert_string_equal(c->channels[0].type, "file");
	assert_string_equal(cfg_node_str(cfg_node_get(c->channels[0].node,
	    "path")), "outbox.log");
	assert_int_equal(c->nfeeds, 0);
}

static void
test_default_demo_dir_from_env(void **state)
{
	struct st *s = *state;

	/* A quote and a backslash must survive the trip through YAML. */
	assert_int_equal(setenv("GONG_DEMO_DIR", "/opt/de\"m\\o", 1), 0);
	assert_int_equal(cfg_default(&s->c, &s->d), 0);
	assert_string_equal(s->c->rosters.regions, "/opt/de\"m\\o/regions.csv");
}

static void
test_empty_file_gives_defaults(void **state)
{
	struct st *s = *state;
	struct cfg *c;

	assert_int_equal(load(s, "# nothing but a comment\n"), 0);
	c = s->c;
	assert_string_equal(c->deployment.root, "140400000000");
	assert_string_equal(c->deployment.name, "");
	assert_string_equal(c->data_dir, "/etc/gong/var");
	assert_string_equal(c->listen.host, "127.0.0.1");
	assert_int_equal(c->listen.port, 8080);
	assert_null(c->rosters.regions);
	assert_int_equal(c->nchannels, 0);
	assert_int_equal(c->nfeeds, 0);
	assert_int_equal(c->http.max_body, 16 * 1024 * 1024);
}

static void
test_three_errors_three_lines(void **state)
{
	struct st *s = *state;

	assert_int_equal(cfg_load_file("tests/data/cfg/three_errors.yaml",
	    &s->c, &s->d), ENG_EINVAL);
	assert_null(s->c);
	assert_int_equal(s->d.n, 3);
	assert_int_equal(s->d.nerrors, 3);
	assert_string_equal(D(s, 0), "tests/data/cfg/three_errors.yaml:4: "
	    "error: deployment.root: division code '140400000007' does not "
	    "nest (a zero segment before a non-zero one)");
	assert_string_equal(D(s, 1), "tests/data/cfg/three_errors.yaml:9: "
	    "error: http.max_body: '16Q' is not a size (use a number of "
	    "bytes with an optional unit: 512k, 16M, 1MiB, 2G)");
	assert_string_equal(D(s, 2), "tests/data/cfg/three_errors.yaml:12: "
	    "error: log_levle: unknown key 'log_levle' (did you mean "
	    "'log_level'?)");
}

static void
test_bad_values_each_reported(void **state)
{
	struct st *s = *state;
	static const long lines[] = { 3, 4, 5, 6, 7, 8, 10, 11, 13, 14, 16 };
	size_t i;

	assert_int_equal(cfg_load_file("tests/data/cfg/values.yaml", &s->c,
	    &s->d), ENG_EINVAL);
	assert_null(s->c);
	assert_int_equal(s->d.n, sizeof(lines) / sizeof(lines[0]));
	for (i = 0; i < s->d.n; i++)
		assert_int_equal(s->d.v[i].line, lines[i]);
	assert_string_equal(D(s, 0), "tests/data/cfg/values.yaml:3: error: "
	    "deployment.root: division code '1404' has 4 digits (want 6, 9 "
	    "or 12)");
	assert_string_equal(s->d.v[1].msg, "'../etc/passwd' is not a time "
	    "zone name (e.g. Asia/Shanghai, UTC)");
	assert_string_equal(s->d.v[2].msg, "'chinese' is not a language tag "
	    "(e.g. zh-CN, en)");
	assert_string_equal(s->d.v[3].msg, "'purple' is not one of: none, "
	    "blue, yellow, orange, red");
	assert_string_equal(D(s, 4), "tests/data/cfg/values.yaml:7: error: "
	    "listen: port 70000 is out of range (0 to 65535)");
	assert_string_equal(s->d.v[5].msg, "'verbose' is not one of: debug, "
	    "info, warn, error");
	assert_string_equal(s->d.v[6].path, "http.max_body");
	assert_string_equal(s->d.v[6].msg, "size '2G' is out of range (1024 "
	    "to 1073741824 bytes)");
	assert_string_equal(s->d.v[7].path, "http.connection_timeout");
	assert_string_equal(s->d.v[7].msg, "'30' is not a duration (use a "
	    "number and a unit: 500ms, 30s, 5m, 2h, 1d, or groups like "
	    "1h30m)");
	assert_string_equal(s->d.v[8].msg, "max_connections_per_ip (64) is "
	    "more than max_connections (10)");
	assert_string_equal(s->d.v[9].msg, "'many' is not a whole number");
	assert_string_equal(s->d.v[10].path, "rosters.encoding");
	assert_string_equal(s->d.v[10].msg, "'latin1' is not one of: auto, "
	    "utf-8, gbk");
}

static void
test_unknown_keys(void **state)
{
	struct st *s = *state;

	assert_int_equal(load(s, "listn: 127.0.0.1:1\n"
	    "http:\n"
	    "  Threads: 2\n"
	    "  max_conections: 3\n"
	    "frobnicate: 1\n"), ENG_EINVAL);
	assert_int_equal(s->d.n, 4);
	assert_string_equal(D(s, 0), "t.yaml:1: error: listn: unknown key "
	    "'listn' (did you mean 'listen'?)");
	assert_string_equal(D(s, 1), "t.yaml:3: error: http.Threads: "
	    "unknown key 'Threads' (did you mean 'threads'?)");
	assert_string_equal(D(s, 2), "t.yaml:4: error: http.max_conections: "
	    "unknown key 'max_conections' (did you mean 'max_connections'?)");
	assert_string_equal(D(s, 3), "t.yaml:5: error: frobnicate: unknown "
	    "key 'frobnicate' (allowed: deployment, data_dir, listen, "
	    "log_level, http, rosters, templates, channels, feeds, cap, "
	    "routing, dispatch, escalation, issuing)");
}

static void
test_section_of_wrong_kind(void **state)
{
	struct st *s = *state;

	assert_int_equal(load(s, "http: fast\nchannels:\n  name: x\n"
	    "deployment: [1]\n"), ENG_EINVAL);
	assert_int_equal(s->d.n, 3);
	assert_string_equal(D(s, 0), "t.yaml:1: error: http: expected a map, "
	    "found a scalar");
	assert_string_equal(D(s, 1), "t.yaml:3: error: channels: expected a "
	    "sequence, found a map");
	assert_string_equal(D(s, 2), "t.yaml:4: error: deployment: expected "
	    "a map, found a sequence");
}

/* ---- hostile input ---- */

static void
test_billion_laughs_rejected(void **state)
{
	struct st *s = *state;
	double t0 = now_s();
	size_t i, aliases = 0, anchors = 0;

	assert_int_equal(cfg_load_file("tests/data/cfg/billion_laughs.yaml",
	    &s->c, &s->d), ENG_EINVAL);
	assert_true(now_s() - t0 < 1.0);
	assert_null(s->c);
	assert_string_equal(D(s, 0), "tests/data/cfg/billion_laughs.yaml:1: "
	    "error: a: anchors and aliases are not allowed (found anchor "
	    "'&a'); write the value out");
	for (i = 0; i < s->d.n; i++) {
		if (strstr(s->d.v[i].msg, "found alias") != NULL)
			aliases++;
		if (strstr(s->d.v[i].msg, "found anchor") != NULL)
			anchors++;
	}
	assert_int_equal(anchors, 9);
	assert_int_equal(aliases, 8 * 9);
}

static void
test_alias_in_valid_place_rejected(void **state)
{
	struct st *s = *state;

	assert_int_equal(load(s, "http: &h\n  threads: 2\nlisten: *h\n"),
	    ENG_EINVAL);
	assert_null(s->c);
	/* The alias stands in as a null, so nothing else is reported. */
	assert_int_equal(s->d.n, 2);
	assert_string_equal(D(s, 0), "t.yaml:1: error: http: anchors and "
	    "aliases are not allowed (found anchor '&h'); write the value "
	    "out");
	assert_string_equal(D(s, 1), "t.yaml:3: error: listen: anchors and "
	    "aliases are not allowed (found alias '*h'); write the value "
	    "out");

	/* Inside a sequence: the item's path. */
	diag_list_release(&s->d);
	assert_int_equal(load(s, "feeds:\n  - &f {name: a}\n  - *f\n"),
	    ENG_EINVAL);
	assert_int_equal(s->d.n, 3);
	assert_string_equal(D(s, 0), "t.yaml:2: error: feeds[0]: anchors and "
	    "aliases are not allowed (found anchor '&f'); write the value "
	    "out");
	assert_string_equal(D(s, 1), "t.yaml:3: error: feeds[1]: anchors and "
	    "aliases are not allowed (found alias '*f'); write the value "
	    "out");
	assert_string_equal(D(s, 2), "t.yaml:3: error: feeds[1]: expected a "
	    "map, found a scalar");
}

static void
test_oversize_rejected(void **state)
{
	struct st *s = *state;
	size_t len = CFG_MAX_BYTES + 1;
	char *big = malloc(len);
	FILE *f;
	double t0;

	assert_non_null(big);
	memset(big, '#', len);
	assert_int_equal(cfg_load_buf(big, len, "big.yaml", NULL, &s->c,
	    &s->d), ENG_ETOOBIG);
	assert_null(s->c);
	assert_string_equal(D(s, 0), "big.yaml: error: file is 1048577 "
	    "bytes, more than the limit of 1048576 bytes");
	/* Exactly at the limit is accepted (all comment). */
	diag_list_release(&s->d);
	assert_int_equal(cfg_load_buf(big, len - 1, "big.yaml", NULL, &s->c,
	    &s->d), 0);
	cfg_free(s->c);
	s->c = NULL;

	/* A file on disk over the limit: refused before parsing. */
	(void)snprintf(s->tmp, sizeof(s->tmp), "/tmp/test_cfg_big.%ld.yaml",
	    (long)getpid());
	assert_non_null(f = fopen(s->tmp, "w"));
	for (size_t i = 0; i < 50; i++)
		assert_int_equal(fwrite(big, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	free(big);
	diag_list_release(&s->d);
	t0 = now_s();
	assert_int_equal(cfg_load_file(s->tmp, &s->c, &s->d), ENG_ETOOBIG);
	assert_true(now_s() - t0 < 0.5);
	assert_int_equal(s->d.n, 1);
	assert_string_equal(s->d.v[0].msg, "file is larger than the limit of "
	    "1048576 bytes");
}

static void
test_deep_nesting_rejected(void **state)
{
	struct st *s = *state;
	size_t n = CFG_MAX_BYTES, i;
	char *deep = malloc(n + 1), *p;
	double t0;

	assert_non_null(deep);
	/* A flow sequence a million levels deep. */
	memcpy(deep, "x: ", 3);
	memset(deep + 3, '[', n - 3);
	t0 = now_s();
	assert_int_equal(cfg_load_buf(deep, n, "deep.yaml", NULL, &s->c,
	    &s->d), ENG_EINVAL);
	assert_true(now_s() - t0 < 1.0);
	assert_int_equal(s->d.n, 1);
	assert_string_equal(D(s, 0), "deep.yaml:1: error: nesting deeper "
	    "than 32 levels");

	/* Block maps: line k opens level k; level 33 is at line 33. */
	diag_list_release(&s->d);
	p = deep;
	for (i = 0; i < 40; i++)
		p += snprintf(p, (size_t)(deep + n + 1 - p), "%*sa:\n",
		    (int)i * 2, "");
	assert_int_equal(cfg_load_buf(deep, (size_t)(p - deep), "deep.yaml",
	    NULL, &s->c, &s->d), ENG_EINVAL);
	assert_int_equal(s->d.n, 1);
	assert_string_equal(D(s, 0), "deep.yaml:33: error: nesting deeper "
	    "than 32 levels");

	/* 32 levels are fine for the parser (the loader then rejects a). */
	diag_list_release(&s->d);
	p = deep;
	for (i = 0; i < 32; i++)
		p += snprintf(p, (size_t)(deep + n + 1 - p), "%*sa:\n",
		    (int)i * 2, "");
	assert_int_equal(cfg_doc_parse(deep, (size_t)(p - deep), "deep.yaml",
	    &s->doc, &s->d), 0);
	free(deep);
}

static void
test_too_many_nodes_rejected(void **state)
{
	struct st *s = *state;
	size_t n = 200000, i;
	char *buf = malloc(4 + 2 * n + 1);

	assert_non_null(buf);
	memcpy(buf, "x: [", 4);
	for (i = 0; i < n; i++)
		memcpy(buf + 4 + 2 * i, "0,", 2);
	buf[4 + 2 * n - 1] = ']';
	buf[4 + 2 * n] = '\0';
	assert_int_equal(parse(s, buf) == 0, 0);
	free(buf);
	assert_null(s->doc);
	assert_int_equal(s->d.n, 1);
	assert_string_equal(s->d.v[0].msg, "more than 65536 nodes in the "
	    "document");
}

static void
test_duplicate_keys(void **state)
{
	struct st *s = *state;

	assert_int_equal(load(s, "listen: 127.0.0.1:1\n"
	    "http:\n"
	    "  threads: 2\n"
	    "  threads: 3\n"
	    "listen: 127.0.0.1:2\n"), ENG_EINVAL);
	assert_null(s->c);
	assert_int_equal(s->d.n, 2);
	assert_string_equal(D(s, 0), "t.yaml:4: error: http.threads: "
	    "duplicate key 'threads' (first at line 3)");
	assert_string_equal(D(s, 1), "t.yaml:5: error: listen: duplicate key "
	    "'listen' (first at line 1)");
}

static void
test_duplicate_keys_many(void **state)
{
	struct st *s = *state;
	size_t n = 30000, i, off = 0;
	char *buf = malloc(n * 16 + 32);
	double t0, t1;
	int rv;

	/* A large map is checked in n log n, not n^2. */
	assert_non_null(buf);
	for (i = 0; i < n; i++)
		off += (size_t)snprintf(buf + off, n * 16 + 32 - off,
		    "k%zu: 1\n", i);
	off += (size_t)snprintf(buf + off, n * 16 + 32 - off, "k7: 2\n");
	t0 = now_s();
	rv = cfg_doc_parse(buf, off, "t.yaml", &s->doc, &s->d);
	t1 = now_s();
	free(buf);
	assert_int_equal(rv, ENG_EINVAL);
	/* Generous, for valgrind; n^2 would take far longer. */
	assert_true(t1 - t0 < 3.0);
	assert_int_equal(s->d.n, 1);
	assert_string_equal(D(s, 0), "t.yaml:30001: error: k7: duplicate key "
	    "'k7' (first at line 8)");
}

static void
test_not_utf8(void **state)
{
	struct st *s = *state;
	/* "name: 长治" in GBK. */
	static const char gbk[] = "deployment:\n  name: \xb3\xa4\xd6\xce\n";

	assert_int_equal(load(s, gbk), ENG_EINVAL);
	assert_int_equal(s->d.n, 1);
	assert_string_equal(D(s, 0), "t.yaml:2: error: invalid UTF-8 "
	    "byte at byte 20: the file must be UTF-8");

	diag_list_release(&s->d);
	assert_int_equal(cfg_load_buf("a: 1\n\0b: 2\n", 11, "t.yaml", NULL,
	    &s->c, &s->d), ENG_EINVAL);
	assert_string_equal(D(s, 0), "t.yaml:2: error: NUL byte at byte 5: "
	    "the file must be UTF-8");

	/* Overlong encoding of '/' and a UTF-16 BOM. */
	diag_list_release(&s->d);
	assert_int_equal(load(s, "a: \xc0\xaf\n"), ENG_EINVAL);
	assert_string_equal(s->d.v[0].msg, "invalid UTF-8 byte at byte 3: "
	    "the file must be UTF-8");
	diag_list_release(&s->d);
	assert_int_equal(load(s, "\xff\xfe" "a\0"), ENG_EINVAL);
	assert_int_equal(s->d.v[0].line, 1);

	/* A sequence cut by the end of the file, a surrogate, a lead byte
	 * followed by ASCII, and whichever of a NUL and a bad byte is
	 * first. */
	diag_list_release(&s->d);
	assert_int_equal(load(s, "a: 1\nb: \xe4\xb8"), ENG_EINVAL);
	assert_string_equal(D(s, 0), "t.yaml:2: error: truncated UTF-8 "
	    "sequence at byte 8: the file must be UTF-8");
	diag_list_release(&s->d);
	assert_int_equal(load(s, "a: \xed\xa0\x80\n"), ENG_EINVAL);
	assert_string_equal(D(s, 0), "t.yaml:1: error: invalid UTF-8 "
	    "sequence at byte 3: the file must be UTF-8");
	diag_list_release(&s->d);
	assert_int_equal(load(s, "a: \xe4" "b\n"), ENG_EINVAL);
	assert_string_equal(D(s, 0), "t.yaml:1: error: invalid UTF-8 "
	    "sequence at byte 3: the file must be UTF-8");
	diag_list_release(&s->d);
	assert_int_equal(cfg_load_buf("a: \xc3\xa9\0\xff\n", 7, "t.yaml",
	    NULL, &s->c, &s->d), ENG_EINVAL);
	assert_string_equal(D(s, 0), "t.yaml:1: error: NUL byte at byte 5: "
	    "the file must be UTF-8");
	diag_list_release(&s->d);
	assert_int_equal(cfg_load_buf("a:\n\x80\0\n", 6, "t.yaml", NULL,
	    &s->c, &s->d), ENG_EINVAL);
	assert_string_equal(D(s, 0), "t.yaml:2: error: invalid UTF-8 "
	    "byte at byte 3: the file must be UTF-8");
}

static void
test_multiple_documents(void **state)
{
	struct st *s = *state;

	assert_int_equal(load(s, "log_level: info\n---\nlog_level: debug\n"),
	    ENG_EINVAL);
	assert_int_equal(s->d.n, 1);
	assert_string_equal(D(s, 0), "t.yaml:2: error: more than one YAML "
	    "document ('---'); a config file holds one");
}

static void
test_syntax_error_line_column(void **state)
{
	struct st *s = *state;

	assert_int_equal(load(s, "http:\n  threads: 2\n max_body: 1M\n"),
	    ENG_EINVAL);
	assert_int_equal(s->d.n, 1);
	assert_string_equal(D(s, 0), "t.yaml:3: error: YAML syntax error at "
	    "column 2: did not find expected key (while parsing a block "
	    "mapping at line 1, column 1)");

	diag_list_release(&s->d);
	assert_int_equal(load(s, "a: [1, 2\nb: 3\n"), ENG_EINVAL);
	assert_string_equal(D(s, 0), "t.yaml:2: error: YAML syntax error at "
	    "column 2: did not find expected ',' or ']' (while parsing a flow "
	    "sequence at line 1, column 4)");

	diag_list_release(&s->d);
	assert_int_equal(load(s, "a: \"open\nb: 1\n"), ENG_EINVAL);
	assert_string_equal(D(s, 0), "t.yaml:3: error: YAML syntax error at "
	    "column 1: found unexpected end of stream (while scanning a "
	    "quoted scalar at line 1, column 4)");

	/* Tabs for indentation. */
	diag_list_release(&s->d);
	assert_int_equal(load(s, "http:\n\tthreads: 2\n"), ENG_EINVAL);
	assert_string_equal(D(s, 0), "t.yaml:2: error: YAML syntax error at "
	    "column 1: found character that cannot start any token (while "
	    "scanning for the next token at line 2, column 1); indent with "
	    "spaces, not tabs");
}

static void
test_structure_errors(void **state)
{
	struct st *s = *state;

	assert_int_equal(load(s, "- a\n- b\n"), ENG_EINVAL);
	assert_string_equal(D(s, 0), "t.yaml:1: error: the document must be a "
	    "map of keys, not a sequence");

	diag_list_release(&s->d);
	assert_int_equal(load(s, "? [a, b]\n: 1\n"), ENG_EINVAL);
	assert_string_equal(D(s, 0), "t.yaml:1: error: a key must be a plain "
	    "string, not a sequence");

	diag_list_release(&s->d);
	assert_int_equal(load(s, "listen: !include other.yaml\n"),
	    ENG_EINVAL);
	assert_string_equal(D(s, 0), "t.yaml:1: error: listen: YAML tags are "
	    "not supported (found '!include')");

	/* !!str is harmless and allowed. */
	diag_list_release(&s->d);
	assert_int_equal(load(s, "deployment:\n  name: !!str 123\n"), 0);
	assert_string_equal(s->c->deployment.name, "123");
}

/* ---- the typed values ---- */

static void
test_get_bool(void **state)
{
	struct st *s = *state;
	const struct cfg_node *r;
	static const char *const t[] = { "a", "b", "c", "d", "e", "f", "g" };
	static const int want[] = { 1, 0, 1, 0, 1, 0, 1 };
	int v;
	size_t i;

	assert_int_equal(parse(s, "a: true\nb: no\nc: On\nd: OFF\ne: yes\n"
	    "f: False\ng: \"yes\"\nh: 1\nk:\n"), 0);
	r = cfg_doc_root(s->doc);
	for (i = 0; i < 7; i++) {
		v = -1;
		assert_int_equal(cfg_get_bool(r, t[i], &v, &s->d), 0);
		assert_int_equal(v, want[i]);
	}
	v = 7;
	assert_int_equal(cfg_get_bool(r, "h", &v, &s->d), ENG_EINVAL);
	assert_int_equal(v, 7);
	assert_string_equal(D(s, 0), "t.yaml:8: error: h: '1' is not a "
	    "boolean (use true or false)");
	/* Null and absent keep the default. */
	assert_int_equal(cfg_get_bool(r, "k", &v, &s->d), 0);
	assert_int_equal(cfg_get_bool(r, "zz", &v, &s->d), 0);
	assert_int_equal(v, 7);
}

static void
test_get_int(void **state)
{
	struct st *s = *state;
	const struct cfg_node *r;
	int64_t v = 0;

	assert_int_equal(parse(s, "a: 42\nb: -5\nc: 4x\nd: 99999999999999999999"
	    "\ne: 0x10\nf: 1001\ng: ' 7'\n"), 0);
	r = cfg_doc_root(s->doc);
	assert_int_equal(cfg_get_int(r, "a", 0, 100, &v, &s->d), 0);
	assert_int_equal(v, 42);
	assert_int_equal(cfg_get_int(r, "b", -10, 100, &v, &s->d), 0);
	assert_int_equal(v, -5);
	assert_int_equal(cfg_get_int(r, "c", 0, 100, &v, &s->d), ENG_EINVAL);
	assert_int_equal(cfg_get_int(r, "d", 0, 100, &v, &s->d), ENG_EINVAL);
	assert_int_equal(cfg_get_int(r, "e", 0, 100, &v, &s->d), ENG_EINVAL);
	assert_int_equal(cfg_get_int(r, "f", 0, 1000, &v, &s->d), ENG_EINVAL);
	assert_int_equal(cfg_get_int(r, "g", 0, 1000, &v, &s->d), ENG_EINVAL);
	assert_int_equal(v, -5);
	assert_int_equal(s->d.n, 5);
	assert_string_equal(s->d.v[0].msg, "'4x' is not a whole number");
	assert_string_equal(s->d.v[1].msg, "'99999999999999999999' is not a "
	    "representable number");
	assert_string_equal(s->d.v[2].msg, "'0x10' is not a whole number");
	assert_string_equal(s->d.v[3].msg, "1001 is out of range (0 to "
	    "1000)");
	assert_string_equal(s->d.v[4].msg, "' 7' is not a whole number");
}

static void
test_get_duration(void **state)
{
	struct st *s = *state;
	static const struct {
		const char *text;
		int64_t ms;
	} good[] = {
		{ "500ms", 500 }, { "30s", 30000 }, { "5m", 300000 },
		{ "2h", 7200000 }, { "1d", 86400000 }, { "1h30m", 5400000 },
		{ "0s", 0 }, { "1m500ms", 60500 },
	};
	static const char *const bad[] = {
		"30", "1.5s", "-1s", "s", "", "5 m", "5M", "1y", "2h 30m",
		"99999999999999999d",
	};
	char yaml[64];
	int64_t v;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		(void)snprintf(yaml, sizeof(yaml), "t: '%s'\n", good[i].text);
		assert_int_equal(parse(s, yaml), 0);
		v = -1;
		assert_int_equal(cfg_get_duration_ms(cfg_doc_root(s->doc), "t",
		    0, INT64_MAX, &v, &s->d), 0);
		assert_int_equal(v, good[i].ms);
		cfg_doc_free(s->doc);
		s->doc = NULL;
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		(void)snprintf(yaml, sizeof(yaml), "t: '%s'\n", bad[i]);
		assert_int_equal(parse(s, yaml), 0);
		v = -1;
		assert_int_equal(cfg_as_duration_ms(cfg_node_get(
		    cfg_doc_root(s->doc), "t"), 0, INT64_MAX, &v, &s->d),
		    ENG_EINVAL);
		assert_int_equal(v, -1);
		cfg_doc_free(s->doc);
		s->doc = NULL;
	}
	assert_int_equal(s->d.n, sizeof(bad) / sizeof(bad[0]));
	assert_string_equal(s->d.v[9].msg, "duration '99999999999999999d' is "
	    "too long");
	/* Range. */
	assert_int_equal(parse(s, "t: 2h\n"), 0);
	assert_int_equal(cfg_get_duration_ms(cfg_doc_root(s->doc), "t", 1000,
	    3600000, &v, &s->d), ENG_EINVAL);
	assert_string_equal(s->d.v[s->d.n - 1].msg, "duration '2h' is out of "
	    "range (1000 ms to 3600000 ms)");
}

static void
test_get_size(void **state)
{
	struct st *s = *state;
	static const struct {
		const char *text;
		uint64_t bytes;
	} good[] = {
		{ "1MiB", 1048576 }, { "16M", 16777216 }, { "512k", 524288 },
		{ "512K", 524288 }, { "512KB", 524288 }, { "100", 100 },
		{ "100B", 100 }, { "2G", 2147483648u },
		{ "3 GiB", 3221225472u },
		{ "16MB", 16777216 },
	};
	static const char *const bad[] = {
		"1.5M", "-1", "0x10", "16Q", "M", "", "16 ", "16  M", "1 mib",
		"99999999999999999999", "99999999999G",
	};
	char yaml[64];
	uint64_t v;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		(void)snprintf(yaml, sizeof(yaml), "t: '%s'\n", good[i].text);
		assert_int_equal(parse(s, yaml), 0);
		v = 0;
		assert_int_equal(cfg_get_size(cfg_doc_root(s->doc), "t", 0,
		    UINT64_MAX, &v, &s->d), 0);
		assert_int_equal(v, good[i].bytes);
		cfg_doc_free(s->doc);
		s->doc = NULL;
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		(void)snprintf(yaml, sizeof(yaml), "t: '%s'\n", bad[i]);
		assert_int_equal(parse(s, yaml), 0);
		assert_int_equal(cfg_get_size(cfg_doc_root(s->doc), "t", 0,
		    UINT64_MAX, &v, &s->d), ENG_EINVAL);
		cfg_doc_free(s->doc);
		s->doc = NULL;
	}
	assert_int_equal(s->d.n, sizeof(bad) / sizeof(bad[0]));
	assert_string_equal(s->d.v[9].msg, "size '99999999999999999999' is "
	    "too large");
	assert_string_equal(s->d.v[10].msg, "size '99999999999G' is too "
	    "large");
}

static void
test_get_hostport(void **state)
{
	struct st *s = *state;
	static const struct {
		const char *text, *host;
		unsigned port;
	} good[] = {
		{ "127.0.0.1:8080", "127.0.0.1", 8080 },
		{ "localhost:0", "localhost", 0 },
		{ "[::1]:65535", "::1", 65535 },
		{ "0.0.0.0:80", "0.0.0.0", 80 },
		{ "gong.example.org:443", "gong.example.org", 443 },
	};
	static const struct {
		const char *text, *msg;
	} bad[] = {
		{ "localhost", "'localhost' has no port (use host:port, e.g. "
		    "127.0.0.1:8080)" },
		{ "::1:80", "'::1:80': write an IPv6 address in brackets, e.g. "
		    "[::1]:8080" },
		{ "127.0.0.1:65536", "port 65536 is out of range (0 to "
		    "65535)" },
		{ "127.0.0.1:-1", "'127.0.0.1:-1' is not host:port (e.g. "
		    "127.0.0.1:8080 or [::1]:8080)" },
		{ "127.0.0.1:", "'127.0.0.1:' is not host:port (e.g. "
		    "127.0.0.1:8080 or [::1]:8080)" },
		{ ":8080", "':8080' has no valid host name or address before "
		    "the port" },
		{ "a b:80", "'a b:80' has no valid host name or address before "
		    "the port" },
		{ "[zz]:80", "'zz' is not an IPv6 address" },
		{ "[::1]80", "'[::1]80' is not host:port (e.g. 127.0.0.1:8080 "
		    "or [::1]:8080)" },
		{ "h:80x", "'h:80x' is not host:port (e.g. 127.0.0.1:8080 or "
		    "[::1]:8080)" },
	};
	struct cfg_hostport hp;
	char yaml[128];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		(void)snprintf(yaml, sizeof(yaml), "t: '%s'\n", good[i].text);
		assert_int_equal(parse(s, yaml), 0);
		assert_int_equal(cfg_get_hostport(cfg_doc_root(s->doc), "t",
		    &hp, &s->d), 0);
		assert_string_equal(hp.host, good[i].host);
		assert_int_equal(hp.port, good[i].port);
		cfg_doc_free(s->doc);
		s->doc = NULL;
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		(void)snprintf(yaml, sizeof(yaml), "t: '%s'\n", bad[i].text);
		assert_int_equal(parse(s, yaml), 0);
		assert_int_equal(cfg_get_hostport(cfg_doc_root(s->doc), "t",
		    &hp, &s->d), ENG_EINVAL);
		assert_string_equal(s->d.v[s->d.n - 1].msg, bad[i].msg);
		cfg_doc_free(s->doc);
		s->doc = NULL;
	}
}

static void
test_get_region_and_enum(void **state)
{
	struct st *s = *state;
	static const char *const kinds[] = { "siren", "loudspeaker", NULL };
	const struct cfg_node *r;
	char code[REGION_CODE_SIZE] = "";
	int k = -1;

	assert_int_equal(parse(s, "a: 140425\nb: 140425100\nc: \"1404\"\n"
	    "d: 000000000000\ne: loudspeaker\nf: Siren\ng: [1]\n"), 0);
	r = cfg_doc_root(s->doc);
	assert_int_equal(cfg_get_region(r, "a", code, &s->d), 0);
	assert_string_equal(code, "140425000000");
	assert_int_equal(cfg_get_region(r, "b", code, &s->d), 0);
	assert_string_equal(code, "140425100000");
	assert_int_equal(cfg_get_region(r, "c", code, &s->d), ENG_EINVAL);
	assert_int_equal(cfg_get_region(r, "d", code, &s->d), ENG_EINVAL);
	assert_string_equal(code, "140425100000");
	assert_int_equal(cfg_get_enum(r, "e", kinds, &k, &s->d), 0);
	assert_int_equal(k, 1);
	assert_int_equal(cfg_get_enum(r, "f", kinds, &k, &s->d), ENG_EINVAL);
	assert_int_equal(cfg_get_enum(r, "g", kinds, &k, &s->d), ENG_EINVAL);
	assert_int_equal(k, 1);
	assert_int_equal(s->d.n, 4);
	assert_string_equal(D(s, 0), "t.yaml:3: error: c: division code "
	    "'1404' has 4 digits (want 6, 9 or 12)");
	assert_string_equal(D(s, 1), "t.yaml:4: error: d: division code "
	    "'000000000000' has province 00");
	assert_string_equal(D(s, 2), "t.yaml:6: error: f: 'Siren' is not one "
	    "of: siren, loudspeaker");
	assert_string_equal(D(s, 3), "t.yaml:7: error: g: expected a value, "
	    "found a sequence");
}

static void
test_relative_paths(void **state)
{
	struct st *s = *state;
	char cwd[PATH_MAX], want[PATH_MAX + 64];

	assert_int_equal(load(s, "data_dir: var\n"
	    "rosters:\n"
	    "  regions: ./r/regions.csv\n"
	    "  responders: /abs/responders.csv\n"
	    "  devices: ../devices.csv\n"
	    "feeds:\n"
	    "  - name: f\n"
	    "    token_file: .//tokens/f\n"
	    "    trusted_cert: cert.pem\n"
	    "    require_signature: true\n"), 0);
	assert_string_equal(s->c->base_dir, "/etc/gong");
	assert_string_equal(s->c->data_dir, "/etc/gong/var");
	assert_string_equal(s->c->rosters.regions, "/etc/gong/r/regions.csv");
	assert_string_equal(s->c->rosters.responders, "/abs/responders.csv");
	assert_string_equal(s->c->rosters.devices, "/etc/gong/../devices.csv");
	assert_string_equal(s->c->feeds[0].token_file, "/etc/gong/tokens/f");
	assert_string_equal(s->c->feeds[0].trusted_cert,
	    "/etc/gong/cert.pem");
	assert_int_equal(s->c->feeds[0].require_signature, 1);
	cfg_free(s->c);
	s->c = NULL;

	/* From a file: against the file's directory, made absolute. */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(cfg_load_file("tests/data/cfg/relative.yaml", &s->c,
	    &s->d), 0);
	(void)snprintf(want, sizeof(want), "%s/tests/data/cfg/var", cwd);
	assert_string_equal(s->c->data_dir, want);
	(void)snprintf(want, sizeof(want),
	    "%s/tests/data/cfg/rosters/regions.csv", cwd);
	assert_string_equal(s->c->rosters.regions, want);
	(void)snprintf(want, sizeof(want), "%s/tests/data/cfg/../devices.csv",
	    cwd);
	assert_string_equal(s->c->rosters.devices, want);
	assert_string_equal(s->c->rosters.responders, "/abs/responders.csv");
}

static void
test_channels_and_feeds(void **state)
{
	struct st *s = *state;

	assert_int_equal(cfg_load_file("tests/data/cfg/channels_feeds.yaml",
	    &s->c, &s->d), ENG_EINVAL);
	assert_null(s->c);
	assert_int_equal(s->d.n, 8);
	assert_string_equal(D(s, 0), "tests/data/cfg/channels_feeds.yaml:5: "
	    "error: channels[1].name: duplicate channel name 'sms-main' "
	    "(first at line 2)");
	assert_string_equal(D(s, 1), "tests/data/cfg/channels_feeds.yaml:7: "
	    "error: channels[2].name: channel name 'Bad Name' must be 1 to 64 "
	    "of a-z, 0-9, '_' and '-'");
	assert_string_equal(D(s, 2), "tests/data/cfg/channels_feeds.yaml:9: "
	    "error: channels[3]: missing required key 'type'");
	assert_string_equal(D(s, 3), "tests/data/cfg/channels_feeds.yaml:10: "
	    "error: channels[4]: expected a map, found a scalar");
	assert_string_equal(D(s, 4), "tests/data/cfg/channels_feeds.yaml:14: "
	    "error: feeds[0].token_hash: give token_file or token_hash, not "
	    "both");
	assert_string_equal(D(s, 5), "tests/data/cfg/channels_feeds.yaml:17: "
	    "error: feeds[1].require_signature: require_signature needs "
	    "trusted_cert");
	assert_string_equal(D(s, 6), "tests/data/cfg/channels_feeds.yaml:19: "
	    "error: feeds[2].regions[1]: region 110000000000 is outside the "
	    "deployment root 140400000000");
	assert_string_equal(D(s, 7), "tests/data/cfg/channels_feeds.yaml:20: "
	    "error: feeds[2].colour: unknown key 'colour' (allowed: name, "
	    "token_file, token_hash, lenient, require_signature, "
	    "trusted_cert, regions, cn_profile, max_bytes, drop_dir, "
	    "poll_url, poll_interval, poll_timeout)");
}

/* What a channel driver does with its section. */
static void
test_driver_validates_own_section(void **state)
{
	struct st *s = *state;
	static const char *const keys[] = { "name", "type", "url", "timeout",
	    "max_batch", NULL };
	const struct cfg_node *n;
	int64_t ms = 10000, batch = 1;

	assert_int_equal(load(s, "channels:\n"
	    "  - name: sms-main\n"
	    "    type: kannel\n"
	    "    url: http://127.0.0.1:13013/\n"
	    "    timout: 5s\n"
	    "    max_batch: 500\n"), 0);
	assert_int_equal(s->c->nchannels, 1);
	n = s->c->channels[0].node;
	assert_int_equal(cfg_check_keys(n, keys, &s->d), ENG_EINVAL);
	assert_int_equal(cfg_get_duration_ms(n, "timeout", 1, 60000, &ms,
	    &s->d), 0);
	assert_int_equal(ms, 10000);
	assert_int_equal(cfg_get_int(n, "max_batch", 1, 100, &batch, &s->d),
	    ENG_EINVAL);
	assert_int_equal(cfg_require(n, "password", &s->d), ENG_EINVAL);
	assert_int_equal(s->d.n, 3);
	assert_string_equal(D(s, 0), "t.yaml:5: error: channels[0].timout: "
	    "unknown key 'timout' (did you mean 'timeout'?)");
	assert_string_equal(D(s, 1), "t.yaml:6: error: channels[0].max_batch: "
	    "500 is out of range (1 to 100)");
	assert_string_equal(D(s, 2), "t.yaml:2: error: channels[0]: missing "
	    "required key 'password'");
}

static void
test_node_accessors(void **state)
{
	struct st *s = *state;
	const struct cfg_node *r, *ch, *it;

	assert_int_equal(parse(s, "z: 1\n"
	    "a:\n"
	    "  - x\n"
	    "  - {k: v, n: ~}\n"
	    "m: \"0140\"\n"
	    "e:\n"
	    "q: ''\n"), 0);
	r = cfg_doc_root(s->doc);
	assert_int_equal(cfg_node_kind(r), CFG_MAP);
	assert_int_equal(cfg_node_len(r), 5);
	assert_string_equal(cfg_node_key_at(r, 0), "z");
	assert_string_equal(cfg_node_key_at(r, 1), "a");
	assert_string_equal(cfg_node_key_at(r, 4), "q");
	assert_null(cfg_node_key_at(r, 5));
	assert_int_equal(cfg_node_line(cfg_node_key_node_at(r, 2)), 5);
	ch = cfg_node_get(r, "a");
	assert_int_equal(cfg_node_kind(ch), CFG_SEQ);
	assert_int_equal(cfg_node_len(ch), 2);
	assert_string_equal(cfg_node_path(cfg_node_at(ch, 0)), "a[0]");
	assert_string_equal(cfg_node_str(cfg_node_at(ch, 0)), "x");
	it = cfg_node_at(ch, 1);
	assert_int_equal(cfg_node_kind(it), CFG_MAP);
	assert_int_equal(cfg_node_line(it), 4);
	assert_int_equal(cfg_node_column(it), 5);
	assert_string_equal(cfg_node_path(cfg_node_get(it, "k")), "a[1].k");
	assert_string_equal(cfg_node_file(cfg_node_get(it, "k")), "t.yaml");
	assert_true(cfg_node_is_null(cfg_node_get(it, "n")));
	assert_null(cfg_node_at(ch, 2));
	assert_null(cfg_node_str(ch));
	/* Text as written, no implicit typing. */
	assert_string_equal(cfg_node_str(cfg_node_get(r, "m")), "0140");
	assert_false(cfg_node_is_null(cfg_node_get(r, "m")));
	assert_true(cfg_node_is_null(cfg_node_get(r, "e")));
	/* A quoted empty string is a string, not null. */
	assert_false(cfg_node_is_null(cfg_node_get(r, "q")));
	assert_int_equal(cfg_node_len(cfg_node_get(r, "q")), 0);
	assert_null(cfg_node_get(r, "nope"));
	assert_null(cfg_node_get(ch, "x"));
	assert_int_equal(cfg_node_kind(NULL), CFG_NONE);
	assert_int_equal(cfg_node_len(NULL), 0);
	assert_string_equal(cfg_node_path(r), "");
}

static void
test_check_files(void **state)
{
	struct st *s = *state;
	char yaml[512];

	(void)snprintf(yaml, sizeof(yaml), "rosters:\n"
	    "  regions: /nonexistent/regions.csv\n"
	    "  responders: /tmp\n"
	    "  devices: tests/data/cfg/relative.yaml\n");
	assert_int_equal(cfg_load_buf(yaml, strlen(yaml), "t.yaml", NULL,
	    &s->c, &s->d), 0);
	assert_int_equal(cfg_check_files(s->c, &s->d), ENG_EINVAL);
	assert_int_equal(s->d.n, 2);
	assert_string_equal(D(s, 0), "t.yaml:2: error: rosters.regions: "
	    "cannot read '/nonexistent/regions.csv': No such file or "
	    "directory");
	assert_string_equal(D(s, 1), "t.yaml:3: error: rosters.responders: "
	    "'/tmp' is not a regular file");
}

static void
test_overrides(void **state)
{
	struct st *s = *state;
	struct eng_errbuf eb;
	char cwd[PATH_MAX], want[PATH_MAX + 64];

	eng_errbuf_init(&eb);
	assert_int_equal(load(s, ""), 0);
	assert_int_equal(cfg_set_listen(s->c, "[::1]:0", &eb), 0);
	assert_string_equal(s->c->listen.host, "::1");
	assert_int_equal(s->c->listen.port, 0);
	assert_int_equal(cfg_set_listen(s->c, "localhost", &eb), ENG_EINVAL);
	assert_string_equal(eb.msg, "'localhost' has no port (use host:port, "
	    "e.g. 127.0.0.1:8080)");
	assert_int_equal(cfg_set_listen(s->c, "a'b:1", &eb), ENG_EINVAL);
	assert_string_equal(s->c->listen.host, "::1");
	assert_int_equal(cfg_set_data_dir(s->c, "/srv/gong", &eb), 0);
	assert_string_equal(s->c->data_dir, "/srv/gong");
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(cfg_set_data_dir(s->c, "./d", &eb), 0);
	(void)snprintf(want, sizeof(want), "%s/d", cwd);
	assert_string_equal(s->c->data_dir, want);
}

static void
test_load_file_errors(void **state)
{
	struct st *s = *state;

	assert_int_equal(cfg_load_file("tests/data/cfg/nope.yaml", &s->c,
	    &s->d), ENG_ENOENT);
	assert_null(s->c);
	assert_string_equal(D(s, 0), "tests/data/cfg/nope.yaml: error: "
	    "cannot read: No such file or directory");
	diag_list_release(&s->d);
	assert_int_equal(cfg_load_file("tests/data/cfg", &s->c, &s->d),
	    ENG_EIO);
	assert_string_equal(s->d.v[0].msg, "not a regular file");
}

static void
test_root_levels(void **state)
{
	struct st *s = *state;

	assert_int_equal(load(s, "deployment:\n  root: 140000\n"), 0);
	assert_string_equal(s->c->deployment.root, "140000000000");
	assert_int_equal(s->c->deployment.levels, 5);
	cfg_free(s->c);
	s->c = NULL;
	assert_int_equal(load(s, "deployment:\n  root: 140425\n"), 0);
	assert_int_equal(s->c->deployment.levels, 3);
	cfg_free(s->c);
	s->c = NULL;
	assert_int_equal(load(s, "deployment:\n  root: 140425100\n"),
	    ENG_EINVAL);
	assert_string_equal(D(s, 0), "t.yaml:2: error: deployment.root: the "
	    "root must be a province, city or county, not a township");
}

/* ---- secrets in files ---- */

static void
test_secret_file(void **state)
{
	struct st *s = *state;
	const struct cfg_node *n;
	char dir[] = "/tmp/gong-secret-XXXXXX", path[128], *out = NULL;
	FILE *f;

	assert_int_equal(parse(s, "password_file: pw\n"), 0);
	n = cfg_node_get(cfg_doc_root(s->doc), "password_file");
	assert_non_null(mkdtemp(dir));
	(void)snprintf(path, sizeof(path), "%s/pw", dir);
	/* missing */
	assert_int_equal(cfg_read_secret_file(n, path, "password", 8, &out,
	    &s->d), ENG_EINVAL);
	assert_non_null(strstr(D(s, 0), "t.yaml:1: error: password_file: "
	    "cannot read "));
	/* the first line only, CRLF dropped */
	assert_non_null(f = fopen(path, "w"));
	fputs("s3cret\r\nsecond line\n", f);
	fclose(f);
	assert_int_equal(cfg_read_secret_file(n, path, "password", 8, &out,
	    &s->d), 0);
	assert_string_equal(out, "s3cret");
	free(out);
	out = NULL;
	/* too long, and empty */
	assert_non_null(f = fopen(path, "w"));
	fputs("123456789\n", f);
	fclose(f);
	assert_int_equal(cfg_read_secret_file(n, path, "key", 8, &out,
	    &s->d), ENG_EINVAL);
	assert_non_null(strstr(D(s, 1), ": the first line must hold the key "
	    "(1 to 8 bytes)"));
	assert_non_null(f = fopen(path, "w"));
	fclose(f);
	assert_int_equal(cfg_read_secret_file(n, path, "key", 8, &out,
	    &s->d), ENG_EINVAL);
	assert_null(out);
	(void)unlink(path);
	(void)rmdir(dir);
}

/* ---- routing: responders' channel preferences ---- */

static void
test_route_preferences(void **state)
{
	struct st *s = *state;
	const struct cfg_routing *r;

	assert_int_equal(load(s, "channels:\n"
	    "  - { name: sms, type: file, path: a.log, addr: phone }\n"
	    "  - { name: wx, type: file, path: b.log, addr: wecom }\n"
	    "routing:\n"
	    "  people:\n"
	    "    - channels: [sms, wx]\n"
	    "    - channels: [sms, wx]\n"
	    "      preferences: narrow\n"
	    "    - channels: [sms, wx]\n"
	    "      colours: [blue, yellow, orange]\n"
	    "      preferences: first\n"
	    "    - channels: [sms, wx]\n"
	    "      preferences: ignore\n"
	    "      answer: true\n"
	    "    - channels: [sms, wx]\n"
	    "      colours: [orange, red]\n"
	    "      preferences: first\n"
	    "    - channels: [sms]\n"
	    "      preferences: first\n"), 0);
	r = &s->c->routing;
	assert_int_equal(r->npeople, 6);
	assert_int_equal(r->people[0].preferences, CFG_PREF_IGNORE);
	assert_int_equal(r->people[1].preferences, CFG_PREF_NARROW);
	assert_int_equal(r->people[2].preferences, CFG_PREF_FIRST);
	assert_int_equal(r->people[3].preferences, CFG_PREF_IGNORE);
	assert_int_equal(r->people[4].preferences, CFG_PREF_FIRST);
	assert_int_equal(r->people[5].preferences, CFG_PREF_FIRST);
	/* first with red (named, or by the default of every colour):
	 * warnings, the config still loads. */
	assert_int_equal(s->d.n, 2);
	assert_int_equal(s->d.nerrors, 0);
	assert_string_equal(D(s, 0), "t.yaml:17: warning: "
	    "routing.people[4].preferences: 'preferences: first' reaches a "
	    "person through one channel even for red alerts; use ignore "
	    "(every channel) or narrow, or leave red out of this rule's "
	    "colours");
	assert_string_equal(D(s, 1), "t.yaml:19: warning: "
	    "routing.people[5].preferences: 'preferences: first' reaches a "
	    "person through one channel even for red alerts; use ignore "
	    "(every channel) or narrow, or leave red out of this rule's "
	    "colours");
	cfg_free(s->c);
	s->c = NULL;
	diag_list_release(&s->d);

	/* A bad value, a wrong kind: errors with their lines. */
	assert_int_equal(load(s, "channels:\n"
	    "  - { name: sms, type: file, path: a.log, addr: phone }\n"
	    "routing:\n"
	    "  people:\n"
	    "    - channels: [sms]\n"
	    "      preferences: sometimes\n"
	    "    - channels: [sms]\n"
	    "      preferences: [narrow]\n"
	    "    - channels: [sms]\n"
	    "      preferences: Narrow\n"), ENG_EINVAL);
	assert_int_equal(s->d.nerrors, 3);
	assert_string_equal(D(s, 0), "t.yaml:6: error: "
	    "routing.people[0].preferences: 'sometimes' is not one of: "
	    "ignore, narrow, first");
	assert_non_null(strstr(D(s, 1), "t.yaml:8: error: "
	    "routing.people[1].preferences: "));
	assert_string_equal(D(s, 2), "t.yaml:10: error: "
	    "routing.people[2].preferences: 'Narrow' is not one of: "
	    "ignore, narrow, first");
}

/* ---- escalation policies ---- */

static void
test_escalation(void **state)
{
	struct st *s = *state;
	const struct cfg_esc_policy *p;

	assert_int_equal(load(s, "channels:\n"
	    "  - { name: sms, type: file, path: a.log }\n"
	    "  - { name: voice, type: file, path: b.log }\n"
	    "escalation:\n"
	    "  policies:\n"
	    "    - levels: [village, township]\n"
	    "      colours: [red]\n"
	    "      quorum: 1\n"
	    "      quiet_hours: \"22:30-07:00\"\n"
	    "      steps:\n"
	    "        - { after: 3m, do: resend }\n"
	    "        - { after: 5m, do: channel, channel: voice }\n"
	    "        - { after: 6m, do: deputy, roles: [副职] }\n"
	    "        - { after: 10m, do: notify_parent, channel: sms }\n"
	    "        - { after: 1h, do: unreachable }\n"), 0);
	assert_int_equal(s->c->escalation.npolicies, 1);
	p = &s->c->escalation.policies[0];
	assert_int_equal(p->levels, (1u << REGION_VILLAGE) |
	    (1u << REGION_TOWNSHIP));
	assert_int_equal(p->colours, 1u << CFG_COLOUR_RED);
	assert_int_equal(p->quorum, 1);
	assert_int_equal(p->quiet_from, 22 * 60 + 30);
	assert_int_equal(p->quiet_to, 7 * 60);
	assert_int_equal(p->nsteps, 5);
	assert_int_equal(p->steps[0].after_ms, 180000);
	assert_int_equal(p->steps[0].action, CFG_ESC_RESEND);
	assert_null(p->steps[0].channel);
	assert_string_equal(p->steps[1].channel, "voice");
	assert_string_equal(p->steps[2].roles[0], "deputy");
	assert_null(p->steps[2].roles[1]);
	assert_int_equal(p->steps[3].action, CFG_ESC_NOTIFY_PARENT);
	assert_string_equal(p->steps[3].roles[0], "duty_officer");
	assert_int_equal(p->steps[4].after_ms, 3600000);
	assert_string_equal(cfg_esc_action_name(p->steps[4].action),
	    "unreachable");
	cfg_free(s->c);
	s->c = NULL;

	/* Every mistake, each at its line. */
	assert_int_equal(load(s, "channels:\n"
	    "  - { name: sms, type: file, path: a.log }\n"
	    "escalation:\n"
	    "  policies:\n"
	    "    - levels: [city]\n"
	    "      quiet_hours: \"late\"\n"
	    "      steps:\n"
	    "        - { after: 5m, do: shout }\n"
	    "        - { after: 5m, do: channel }\n"
	    "        - { after: 2m, do: resend }\n"
	    "        - { after: 9m, do: channel, channel: fax }\n"
	    "        - { after: 9m, do: notify_parent }\n"
	    "        - { after: 9m, do: deputy, roles: [mayor] }\n"
	    "        - { do: resend }\n"), ENG_EINVAL);
	assert_int_equal(s->d.n, 8);
	assert_string_equal(D(s, 0), "t.yaml:6: error: "
	    "escalation.policies[0].quiet_hours: quiet_hours must be "
	    "HH:MM-HH:MM (e.g. 22:00-07:00), not 'late'");
	assert_string_equal(s->d.v[1].msg, "'shout' is not one of: none, "
	    "resend, channel, deputy, notify_parent, unreachable");
	assert_int_equal(s->d.v[1].line, 8);
	assert_string_equal(s->d.v[2].msg, "'do: channel' needs a 'channel'");
	assert_int_equal(s->d.v[2].line, 9);
	assert_string_equal(s->d.v[3].msg, "a step must not come before the "
	    "one above it");
	assert_int_equal(s->d.v[3].line, 10);
	assert_string_equal(s->d.v[4].msg, "channel 'fax' is not configured");
	assert_int_equal(s->d.v[4].line, 11);
	assert_string_equal(s->d.v[5].msg, "notify_parent reaches nobody for "
	    "people of the city level: no level above the deployment root "
	    "140400000000");
	assert_int_equal(s->d.v[5].line, 12);
	assert_string_equal(s->d.v[6].msg, "unknown role 'mayor'");
	assert_int_equal(s->d.v[6].line, 13);
	assert_int_equal(s->d.v[7].line, 14);
	assert_non_null(strstr(s->d.v[7].msg, "after"));
}

static void
test_public_url(void **state)
{
	struct st *s = *state;

	assert_int_equal(load(s, "http:\n  public_url: "
	    "\"https://gong.example.cn/pub/\"\n"), 0);
	assert_string_equal(s->c->http.public_url,
	    "https://gong.example.cn/pub");
	cfg_free(s->c);
	s->c = NULL;
	assert_int_equal(load(s, "http:\n  public_url: \"\"\n"), 0);
	assert_null(s->c->http.public_url);
	cfg_free(s->c);
	s->c = NULL;
	assert_int_equal(load(s, "http:\n  public_url: ftp://x\n"),
	    ENG_EINVAL);
	assert_string_equal(D(s, 0), "t.yaml:2: error: http.public_url: "
	    "public_url must be http:// or https:// with a host, at most 200 "
	    "characters, without query, fragment, user or blanks (e.g. "
	    "https://gong.example.cn), not 'ftp://x'");
	diag_list_release(&s->d);
	diag_list_init(&s->d);
	assert_int_equal(load(s, "http:\n  public_url: "
	    "\"https://a.cn/?x=1\"\n"), ENG_EINVAL);
	assert_int_equal(load(s, "http:\n  public_url: \"http://\"\n"),
	    ENG_EINVAL);
	assert_int_equal(load(s, "http:\n  public_url: "
	    "\"https://u@a.cn\"\n"), ENG_EINVAL);
}

/* http.console: the console's directory, relative to the config file's;
 * by default the shipped one (the source tree's as built). */
static void
test_http_console(void **state)
{
	struct st *s = *state;

	assert_int_equal(load(s, "http:\n  console: web/console\n"), 0);
	assert_string_equal(s->c->http.console, "/etc/gong/web/console");
	cfg_free(s->c);
	s->c = NULL;
	assert_int_equal(load(s, "http:\n  console: /srv/console\n"), 0);
	assert_string_equal(s->c->http.console, "/srv/console");
	cfg_free(s->c);
	s->c = NULL;
	assert_int_equal(load(s, "log_level: info\n"), 0);
	assert_string_equal(s->c->http.console, GONG_CONSOLE_DIR);
	assert_string_equal(cfg_console_default(), GONG_CONSOLE_DIR);
	cfg_free(s->c);
	s->c = NULL;
	assert_int_equal(load(s, "http:\n  console: [a]\n"), ENG_EINVAL);
	assert_string_equal(D(s, 0), "t.yaml:2: error: http.console: "
	    "expected a value, found a sequence");
}

/* issuing: the CAP sender and the colours needing a second officer. */
static void
test_issuing(void **state)
{
	struct st *s = *state;

	assert_int_equal(load(s, "issuing:\n  sender: gong@czqx.example\n"
	    "  approval: [orange, red]\n"), 0);
	assert_string_equal(s->c->issuing.sender, "gong@czqx.example");
	assert_int_equal(s->c->issuing.approval,
	    (1u << CFG_COLOUR_ORANGE) | (1u << CFG_COLOUR_RED));
	cfg_free(s->c);
	s->c = NULL;
	assert_int_equal(load(s, "deployment:\n  root: \"140400000000\"\n"),
	    0);
	assert_string_equal(s->c->issuing.sender, "");
	assert_int_equal(s->c->issuing.approval, 0);
	cfg_free(s->c);
	s->c = NULL;
	assert_int_equal(load(s, "issuing:\n  sender: a b\n"
	    "  approval: [purple]\n  who: x\n"), ENG_EINVAL);
	assert_int_equal(s->d.n, 3);
	assert_string_equal(D(s, 0), "t.yaml:2: error: issuing.sender: a CAP "
	    "sender is at most 127 bytes without spaces, commas, < or &");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_example_loads),
		T(test_example_and_default_have_same_keys),
		T(test_default_loads),
		T(test_default_demo_dir_from_env),
		T(test_empty_file_gives_defaults),
		T(test_three_errors_three_lines),
		T(test_bad_values_each_reported),
		T(test_unknown_keys),
		T(test_section_of_wrong_kind),
		T(test_billion_laughs_rejected),
		T(test_alias_in_valid_place_rejected),
		T(test_oversize_rejected),
		T(test_deep_nesting_rejected),
		T(test_too_many_nodes_rejected),
		T(test_duplicate_keys),
		T(test_duplicate_keys_many),
		T(test_not_utf8),
		T(test_multiple_documents),
		T(test_syntax_error_line_column),
		T(test_structure_errors),
		T(test_get_bool),
		T(test_get_int),
		T(test_get_duration),
		T(test_get_size),
		T(test_get_hostport),
		T(test_get_region_and_enum),
		T(test_relative_paths),
		T(test_channels_and_feeds),
		T(test_secret_file),
		T(test_driver_validates_own_section),
		T(test_node_accessors),
		T(test_check_files),
		T(test_overrides),
		T(test_load_file_errors),
		T(test_root_levels),
		T(test_route_preferences),
		T(test_escalation),
		T(test_issuing),
		T(test_public_url),
		T(test_http_console),
#undef T
	};

	return cmocka_run_group_tests_name("cfg", tests, NULL, NULL);
}
