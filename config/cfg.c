/*
 * config/cfg.c - the typed configuration: defaults, the checks of every
 * top-level section, loading from a buffer or a file, the embedded
 * default, overrides.
 */
#include "config/cfg_int.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef GONG_DEMO_DIR
#define GONG_DEMO_DIR "config/demo"
#endif
#ifndef GONG_TEMPLATES_DIR
#define GONG_TEMPLATES_DIR "templates/default"
#endif
#ifndef GONG_CONSOLE_DIR
#define GONG_CONSOLE_DIR "console"
#endif

#define DEMO_MARK "@DEMO_DIR@"
#define TEMPLATES_MARK "@TEMPLATES_DIR@"

/*
 * The embedded default: the demo deployment.  Parsed by the same code as
 * any file; DEMO_MARK is replaced by the demo directory and TEMPLATES_MARK
 * by the shipped template set (both YAML-escaped).
 */
static const char default_yaml[] =
"# gong's embedded default configuration: the demo deployment over\n"
"# 长治市.  config/gong.example.yaml documents every key.\n"
"deployment:\n"
"  root: \"140400000000\"\n"
"  name: 长治市\n"
"  timezone: Asia/Shanghai\n"
"  language: zh-CN\n"
"  unknown_severity_colour: yellow\n"
"data_dir: ./var\n"
"listen: 127.0.0.1:8080\n"
"log_level: info\n"
"http:\n"
"  max_body: 16MiB\n"
"  connection_timeout: 30s\n"
"  max_connections: 1024\n"
"  max_connections_per_ip: 256\n"
"  threads: 2\n"
"  public_url: \"\"\n"
"rosters:\n"
"  regions: \"" DEMO_MARK "/regions.csv\"\n"
"  responders: \"" DEMO_MARK "/responders.csv\"\n"
"  devices: \"" DEMO_MARK "/devices.csv\"\n"
"  encoding: auto\n"
"# The message templates: the shipped set.\n"
"templates: \"" TEMPLATES_MARK "\"\n"
"# Until the real drivers are configured, every channel of the demo is\n"
"# simulated by the file driver: what would be sent is written to\n"
"# outbox.log in the data directory.  The names are the ones the demo\n"
"# devices.csv refers to.\n"
"channels:\n"
"  - name: outbox-file\n"
"    type: file\n"
"    path: outbox.log\n"
"  - name: loudspeaker\n"
"    type: file\n"
"    path: outbox.log\n"
"  - name: siren\n"
"    type: file\n"
"    path: outbox.log\n"
"  - name: radio\n"
"    type: file\n"
"    path: outbox.log\n"
"  - name: wecom\n"
"    type: file\n"
"    path: outbox.log\n"
"feeds: []\n"
"cap:\n"
"  division_value_names: [\"GB/T 2260\", GB2260, ADCODE, CN-ADCODE, "
"行政区划代码]\n"
"  geocode_map: []\n"
"  max_bytes: 1MiB\n"
"# Who is reached: every responder of the target regions' subtrees\n"
"# (villages directly), the duty officers of every level above, and the\n"
"# loudspeakers and sirens of the villages for orange and red.\n"
"routing:\n"
"  ancestor_roles: [duty_officer]\n"
"  ancestor_channels: [outbox-file]\n"
"  exercise_devices: false\n"
"  people:\n"
"    - levels: [city, county, township, village]\n"
"      roles: [duty_officer, leader, responsible, warner, grid_worker, "
"info_officer, deputy]\n"
"      colours: [blue, yellow, orange, red]\n"
"      channels: [outbox-file]\n"
"      answer: false\n"
"    # 叫应: the villages' responsible persons answer orange and red.\n"
"    - levels: [village]\n"
"      roles: [responsible]\n"
"      colours: [orange, red]\n"
"      channels: [outbox-file]\n"
"      answer: true\n"
"  devices:\n"
"    - kinds: [loudspeaker, siren]\n"
"      colours: [orange, red]\n"
"    - kinds: [radio, group_chat]\n"
"      colours: [yellow, orange, red]\n"
"dispatch:\n"
"  lease: 60s\n"
"  max_attempts: 10\n"
"# Whoever must answer and has not: reminded after 3 minutes, called\n"
"# again after 5 (the demo has no voice gateway: the same file), the\n"
"# township's duty officers get the list after 10, unreachable after 30.\n"
"escalation:\n"
"  policies:\n"
"    - levels: [village]\n"
"      colours: [orange, red]\n"
"      quorum: 0\n"
"      quiet_hours: \"00:00-00:00\"\n"
"      steps:\n"
"        - { after: 3m, do: resend }\n"
"        - { after: 5m, do: channel, channel: outbox-file }\n"
"        - { after: 10m, do: notify_parent }\n"
"        - { after: 30m, do: unreachable }\n"
"# Issuing (POST /api/v1/warnings): sender \"\" is gong@<root>; no colour\n"
"# needs a second officer's approval.\n"
"issuing:\n"
"  sender: \"\"\n"
"  approval: []\n";

static const char *const top_keys[] = {
	"deployment", "data_dir", "listen", "log_level", "http", "rosters",
	"templates", "channels", "feeds", "cap", "routing", "dispatch",
	"escalation", "issuing", NULL
};
static const char *const issuing_keys[] = { "sender", "approval", NULL };
static const char *const esc_keys[] = { "policies", NULL };
static const char *const esc_policy_keys[] = {
	"levels", "colours", "quorum", "quiet_hours", "steps", NULL
};
static const char *const esc_step_keys[] = {
	"after", "do", "channel", "roles", NULL
};
/* Same order as enum cfg_esc_action (from 1). */
static const char *const esc_action_names[] = {
	"none", "resend", "channel", "deputy", "notify_parent", "unreachable",
	NULL
};
static const char *const dispatch_keys[] = {
	"lease", "max_attempts", NULL
};
static const char *const routing_keys[] = {
	"ancestor_roles", "ancestor_channels", "people", "devices",
	"exercise_devices", NULL
};
static const char *const route_people_keys[] = {
	"levels", "roles", "colours", "channels", "answer", "preferences",
	NULL
};
static const char *const route_device_keys[] = {
	"kinds", "colours", NULL
};
static const char *const level_names[] = {
	"none", "province", "city", "county", "township", "village", NULL
};
static const char *const colour_word_names[] = {
	"none", "blue", "yellow", "orange", "red", NULL
};
static const char *const cap_keys[] = {
	"division_value_names", "geocode_map", "max_bytes", NULL
};
static const char *const geomap_keys[] = {
	"value_name", "value", "region", NULL
};
static const char *const default_division_names[] = {
	"GB/T 2260", "GB2260", "ADCODE", "CN-ADCODE", "行政区划代码", NULL
};
static const char *const deployment_keys[] = {
	"root", "name", "timezone", "language", "unknown_severity_colour",
	NULL
};
static const char *const http_keys[] = {
	"max_body", "connection_timeout", "max_connections",
	"max_connections_per_ip", "threads", "public_url", "console", NULL
};
static const char *const roster_keys[] = {
	"regions", "responders", "devices", "encoding", NULL
};
static const char *const feed_keys[] = {
	"name", "token_file", "token_hash", "lenient", "require_signature",
	"trusted_cert", "regions", "cn_profile", "max_bytes", "drop_dir",
	"poll_url", "poll_interval", "poll_timeout", NULL
};
/* Same order as enum cfg_colour. */
static const char *const colour_names[] = {
	"none", "blue", "yellow", "orange", "red", NULL
};
/* Same order as enum log_level. */
static const char *const log_level_names[] = {
	"debug", "info", "warn", "error", NULL
};
/* Same order as enum roster_encoding. */
static const char *const encoding_names[] = {
	"auto", "utf-8", "gbk", NULL
};

const char *
cfg_colour_name(enum cfg_colour c)
{
	if ((int)c < 0 || c > CFG_COLOUR_RED)
		return "none";
	return colour_names[c];
}

const char *
cfg_esc_action_name(enum cfg_esc_action a)
{
	if ((int)a < CFG_ESC_RESEND || a > CFG_ESC_UNREACHABLE)
		return "none";
	return esc_action_names[a];
}

/* State of one load. */
struct loader {
	struct cfg *c;
	const char *base;
	struct diag_list *diags;
	int nomem;
};

static char *
xstrdup(struct loader *L, const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		L->nomem = 1;
	return p;
}

/* Replace *dst with a copy of s. */
static void
set_str(struct loader *L, char **dst, const char *s)
{
	char *p = xstrdup(L, s);

	if (p != NULL) {
		free(*dst);
		*dst = p;
	}
}

/* [a-z0-9_-]{1,64} */
static int
valid_name(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!(islower((unsigned char)s[i]) ||
		    isdigit((unsigned char)s[i]) || s[i] == '_' ||
		    s[i] == '-'))
			return 0;
	return i > 0 && i <= 64;
}

/* An IANA zone name: Area/Location, characters [A-Za-z0-9_+-/]. */
static int
valid_timezone(const char *s)
{
	size_t i;

	if (s[0] == '\0' || s[0] == '/' || strstr(s, "..") != NULL ||
	    strstr(s, "//") != NULL || strlen(s) > 64)
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_' ||
		    s[i] == '+' || s[i] == '-' || s[i] == '/'))
			return 0;
	return s[i - 1] != '/';
}

/* A BCP 47 tag, loosely: 2-3 letters, then -subtags of 1-8 alnum. */
static int
valid_language(const char *s)
{
	size_t i = 0, k;

	while (isalpha((unsigned char)s[i]))
		i++;
	if (i < 2 || i > 3)
		return 0;
	while (s[i] == '-') {
		i++;
		for (k = 0; isalnum((unsigned char)s[i]); k++)
			i++;
		if (k < 1 || k > 8)
			return 0;
	}
	return s[i] == '\0';
}

static void
load_deployment(struct loader *L, const struct cfg_node *root)
{
	struct cfg_deployment *d = &L->c->deployment;
	const struct cfg_node *sec, *v;
	const char *s;
	char code[REGION_CODE_SIZE];
	enum region_level lvl;
	int e;

	if (cfg_get_section(root, "deployment", CFG_MAP, &sec, L->diags) !=
	    0 || sec == NULL)
		return;
	(void)cfg_check_keys(sec, deployment_keys, L->diags);
	if ((v = cfg_node_get(sec, "root")) != NULL && !cfg_node_is_null(v) &&
	    cfg_as_region(v, code, L->diags) == 0) {
		lvl = region_code_level(code);
		if (lvl < REGION_PROVINCE || lvl > REGION_COUNTY) {
			(void)cfg_error(L->diags, v, "the root must be a "
			    "province, city or county, not a %s",
			    region_level_name(lvl));
		} else {
			memcpy(d->root, code, sizeof(code));
			d->root_level = lvl;
			d->levels = REGION_VILLAGE - (int)lvl + 1;
		}
	}
	s = NULL;
	v = cfg_node_get(sec, "name");
	if (cfg_get_str(sec, "name", &s, L->diags) == 0 && s != NULL) {
		if (strlen(s) > 200)
			(void)cfg_error(L->diags, v, "name is longer than 200 "
			    "bytes");
		else
			set_str(L, &d->name, s);
	}
	s = NULL;
	v = cfg_node_get(sec, "timezone");
	if (cfg_get_str(sec, "timezone", &s, L->diags) == 0 && s != NULL) {
		if (!valid_timezone(s))
			(void)cfg_error(L->diags, v, "'%.60s' is not a time "
			    "zone name (e.g. Asia/Shanghai, UTC)", s);
		else
			set_str(L, &d->timezone, s);
	}
	s = NULL;
	v = cfg_node_get(sec, "language");
	if (cfg_get_str(sec, "language", &s, L->diags) == 0 && s != NULL) {
		if (!valid_language(s))
			(void)cfg_error(L->diags, v, "'%.60s' is not a "
			    "language tag (e.g. zh-CN, en)", s);
		else
			set_str(L, &d->language, s);
	}
	e = (int)d->unknown_severity_colour;
	if (cfg_get_enum(sec, "unknown_severity_colour", colour_names, &e,
	    L->diags) == 0)
		d->unknown_severity_colour = (enum cfg_colour)e;
}

/* http.public_url: "" or http(s)://host[:port][/path], no query,
 * fragment, user or blank; the trailing '/' dropped. */
static void
load_public_url(struct loader *L, const struct cfg_node *sec)
{
	const char *u = NULL, *rest;
	size_t n, i;

	if (cfg_get_str(sec, "public_url", &u, L->diags) != 0 || u == NULL ||
	    u[0] == '\0')
		return;
	n = strlen(u);
	rest = strncmp(u, "https://", 8) == 0 ? u + 8 :
	    strncmp(u, "http://", 7) == 0 ? u + 7 : NULL;
	for (i = 0; rest != NULL && u[i] != '\0'; i++)
		if ((unsigned char)u[i] <= ' ' || u[i] == '?' || u[i] == '#' ||
		    u[i] == '@' || u[i] == '"' || u[i] == '<' || u[i] == '>' ||
		    u[i] == '\\' || (unsigned char)u[i] >= 0x7f)
			rest = NULL;
	if (rest == NULL || rest[0] == '\0' || rest[0] == '/' ||
	    n > CFG_PUBLIC_URL_MAX) {
		(void)cfg_error(L->diags, cfg_node_get(sec, "public_url"),
		    "public_url must be http:// or https:// with a host, "
		    "at most %d characters, without query, fragment, user "
		    "or blanks (e.g. https://gong.example.cn), not '%.80s'",
		    CFG_PUBLIC_URL_MAX, u);
		return;
	}
	free(L->c->http.public_url);
	L->c->http.public_url = xstrdup(L, u);
	if (L->c->http.public_url != NULL && n > 0 &&
	    L->c->http.public_url[n - 1] == '/')
		L->c->http.public_url[n - 1] = '\0';
}

static void
load_http(struct loader *L, const struct cfg_node *root)
{
	struct cfg_http *h = &L->c->http;
	const struct cfg_node *sec;
	int64_t v;

	if (cfg_get_section(root, "http", CFG_MAP, &sec, L->diags) != 0 ||
	    sec == NULL)
		return;
	(void)cfg_check_keys(sec, http_keys, L->diags);
	(void)cfg_get_size(sec, "max_body", 1024, 1024u * 1024 * 1024,
	    &h->max_body, L->diags);
	(void)cfg_get_duration_ms(sec, "connection_timeout", 1000,
	    3600 * 1000, &h->connection_timeout_ms, L->diags);
	v = h->max_connections;
	if (cfg_get_int(sec, "max_connections", 1, 65536, &v, L->diags) == 0)
		h->max_connections = (unsigned)v;
	v = h->max_connections_per_ip;
	if (cfg_get_int(sec, "max_connections_per_ip", 1, 65536, &v,
	    L->diags) == 0)
		h->max_connections_per_ip = (unsigned)v;
	v = h->threads;
	if (cfg_get_int(sec, "threads", 1, 256, &v, L->diags) == 0)
		h->threads = (unsigned)v;
	load_public_url(L, sec);
	(void)cfg_get_path(sec, "console", L->base, &h->console, L->diags);
	if (h->max_connections_per_ip > h->max_connections)
		(void)cfg_error(L->diags, cfg_node_get(sec,
		    "max_connections_per_ip") != NULL ? cfg_node_get(sec,
		    "max_connections_per_ip") : cfg_node_get(sec,
		    "max_connections"), "max_connections_per_ip (%u) is "
		    "more than max_connections (%u)",
		    h->max_connections_per_ip, h->max_connections);
}

static void
load_dispatch(struct loader *L, const struct cfg_node *root)
{
	struct cfg_dispatch *d = &L->c->dispatch;
	const struct cfg_node *sec;
	int64_t v;

	if (cfg_get_section(root, "dispatch", CFG_MAP, &sec, L->diags) != 0 ||
	    sec == NULL)
		return;
	(void)cfg_check_keys(sec, dispatch_keys, L->diags);
	(void)cfg_get_duration_ms(sec, "lease", 1000, 3600 * 1000,
	    &d->lease_ms, L->diags);
	v = d->max_attempts;
	if (cfg_get_int(sec, "max_attempts", 1, 100, &v, L->diags) == 0)
		d->max_attempts = (int)v;
}

static void
load_rosters(struct loader *L, const struct cfg_node *root)
{
	struct cfg_rosters *r = &L->c->rosters;
	const struct cfg_node *sec;
	int e;

	if (cfg_get_section(root, "rosters", CFG_MAP, &sec, L->diags) != 0 ||
	    sec == NULL)
		return;
	(void)cfg_check_keys(sec, roster_keys, L->diags);
	(void)cfg_get_path(sec, "regions", L->base, &r->regions, L->diags);
	(void)cfg_get_path(sec, "responders", L->base, &r->responders,
	    L->diags);
	(void)cfg_get_path(sec, "devices", L->base, &r->devices, L->diags);
	e = (int)r->encoding;
	if (cfg_get_enum(sec, "encoding", encoding_names, &e, L->diags) == 0)
		r->encoding = (enum roster_encoding)e;
}

/*
 * name of item it (a map) of a channels/feeds list: required, valid,
 * unique among the first i items.  Returns the name or NULL.
 */
static const char *
item_name(struct loader *L, const struct cfg_node *seq, size_t i,
    const char *what)
{
	const struct cfg_node *it = cfg_node_at(seq, i), *v, *o;
	const char *s = NULL;
	size_t j;

	if (cfg_require(it, "name", L->diags) != 0)
		return NULL;
	v = cfg_node_get(it, "name");
	if (cfg_as_str(v, &s, L->diags) != 0)
		return NULL;
	if (!valid_name(s)) {
		(void)cfg_error(L->diags, v, "%s name '%.60s' must be 1 to 64 "
		    "of a-z, 0-9, '_' and '-'", what, s);
		return NULL;
	}
	for (j = 0; j < i; j++) {
		o = cfg_node_get(cfg_node_at(seq, j), "name");
		if (o != NULL && cfg_node_str(o) != NULL &&
		    strcmp(cfg_node_str(o), s) == 0) {
			(void)cfg_error(L->diags, v, "duplicate %s name '%s' "
			    "(first at line %ld)", what, s, cfg_node_line(o));
			return NULL;
		}
	}
	return s;
}

static void
load_channels(struct loader *L, const struct cfg_node *root)
{
	const struct cfg_node *seq, *it, *v;
	struct cfg_channel *ch;
	const char *name, *type;
	size_t i, n;

	if (cfg_get_section(root, "channels", CFG_SEQ, &seq, L->diags) != 0 ||
	    seq == NULL || (n = cfg_node_len(seq)) == 0)
		return;
	if ((L->c->channels = calloc(n, sizeof(*ch))) == NULL) {
		L->nomem = 1;
		return;
	}
	for (i = 0; i < n; i++) {
		it = cfg_node_at(seq, i);
		if (cfg_expect_kind(it, CFG_MAP, L->diags) != 0)
			continue;
		name = item_name(L, seq, i, "channel");
		type = NULL;
		if (cfg_require(it, "type", L->diags) == 0) {
			v = cfg_node_get(it, "type");
			if (cfg_as_str(v, &type, L->diags) == 0 &&
			    !valid_name(type)) {
				(void)cfg_error(L->diags, v, "channel type "
				    "'%.60s' must be 1 to 64 of a-z, 0-9, "
				    "'_' and '-'", type);
				type = NULL;
			}
		}
		if (name == NULL || type == NULL)
			continue;
		ch = &L->c->channels[L->c->nchannels++];
		ch->name = xstrdup(L, name);
		ch->type = xstrdup(L, type);
		ch->node = it;
	}
}

static void
load_feed_regions(struct loader *L, struct cfg_feed *f,
    const struct cfg_node *it)
{
	const struct cfg_node *seq, *v;
	const char *root = L->c->deployment.root;
	char code[REGION_CODE_SIZE];
	size_t i, n;

	if (cfg_get_section(it, "regions", CFG_SEQ, &seq, L->diags) != 0 ||
	    seq == NULL || (n = cfg_node_len(seq)) == 0)
		return;
	if ((f->regions = calloc(n, sizeof(*f->regions))) == NULL) {
		L->nomem = 1;
		return;
	}
	for (i = 0; i < n; i++) {
		v = cfg_node_at(seq, i);
		if (cfg_as_region(v, code, L->diags) != 0)
			continue;
		if (root[0] != '\0' && !region_code_within(code, root)) {
			(void)cfg_error(L->diags, v, "region %s is outside "
			    "the deployment root %s", code, root);
			continue;
		}
		memcpy(f->regions[f->nregions++], code, sizeof(code));
	}
}

static void
free_strv(char **v)
{
	size_t i;

	for (i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* A sequence of strings into a NULL-terminated vector (NULL if absent). */
static char **
load_strv(struct loader *L, const struct cfg_node *map, const char *key,
    const char *const *allowed)
{
	const struct cfg_node *seq;
	const char *str;
	char **v;
	size_t i, n;
	int e;

	if (cfg_get_section(map, key, CFG_SEQ, &seq, L->diags) != 0 ||
	    seq == NULL)
		return NULL;
	n = cfg_node_len(seq);
	if ((v = calloc(n + 1, sizeof(*v))) == NULL) {
		L->nomem = 1;
		return NULL;
	}
	for (i = 0; i < n; i++) {
		const struct cfg_node *it = cfg_node_at(seq, i);

		str = NULL;
		if (allowed != NULL) {
			if (cfg_as_enum(it, allowed, &e, L->diags) == 0)
				str = allowed[e];
		} else {
			(void)cfg_as_str(it, &str, L->diags);
		}
		v[i] = xstrdup(L, str != NULL ? str : "");
	}
	return v;
}

/* A sequence of enum words into a bit set (all when absent). */
static unsigned
load_bits(struct loader *L, const struct cfg_node *map, const char *key,
    const char *const *names, unsigned all)
{
	const struct cfg_node *seq;
	unsigned bits = 0;
	size_t i;
	int e;

	if (cfg_get_section(map, key, CFG_SEQ, &seq, L->diags) != 0 ||
	    seq == NULL)
		return all;
	for (i = 0; i < cfg_node_len(seq); i++)
		if (cfg_as_enum(cfg_node_at(seq, i), names, &e, L->diags) == 0)
			bits |= 1u << e;
	return bits;
}

static void
check_channels_named(struct loader *L, const struct cfg_node *map,
    const char *key, char **v)
{
	size_t i;

	for (i = 0; v != NULL && v[i] != NULL; i++)
		if (v[i][0] != '\0' && cfg_channel_find(L->c, v[i]) < 0)
			(void)cfg_error(L->diags, cfg_node_at(cfg_node_get(map,
			    key), i), "channel '%s' is not configured", v[i]);
}

/* issuing: { sender, approval: [red] } (engine/api_warnings.c). */
static void
load_issuing(struct loader *L, const struct cfg_node *root)
{
	const struct cfg_node *sec;
	struct cfg_issuing *is = &L->c->issuing;
	const char *s = NULL;

	if (cfg_get_section(root, "issuing", CFG_MAP, &sec, L->diags) != 0 ||
	    sec == NULL)
		return;
	(void)cfg_check_keys(sec, issuing_keys, L->diags);
	if (cfg_get_str(sec, "sender", &s, L->diags) == 0 && s != NULL &&
	    s[0] != '\0') {
		if (strlen(s) >= CFG_SENDER_MAX ||
		    strpbrk(s, " ,<&\t\r\n") != NULL)
			(void)cfg_error(L->diags, cfg_node_get(sec, "sender"),
			    "a CAP sender is at most %d bytes without spaces, "
			    "commas, < or &", CFG_SENDER_MAX - 1);
		else
			(void)snprintf(is->sender, sizeof(is->sender), "%s",
			    s);
	}
	is->approval = load_bits(L, sec, "approval", colour_word_names, 0) &
	    CFG_COLOURS_ALL;
}

static void
load_routing(struct loader *L, const struct cfg_node *root)
{
	const struct cfg_node *sec, *seq, *it;
	struct cfg_routing *r = &L->c->routing;
	static const char *const kinds[] = {
		"loudspeaker", "siren", "radio", "group_chat", NULL
	};
	/* Same order as enum cfg_pref_policy. */
	static const char *const pref_names[] = {
		"ignore", "narrow", "first", NULL
	};
	size_t i, n;
	int e;

	if (cfg_get_section(root, "routing", CFG_MAP, &sec, L->diags) != 0 ||
	    sec == NULL)
		return;
	(void)cfg_check_keys(sec, routing_keys, L->diags);
	free_strv(r->ancestor_roles);
	r->ancestor_roles = load_strv(L, sec, "ancestor_roles", NULL);
	r->ancestor_channels = load_strv(L, sec, "ancestor_channels", NULL);
	check_channels_named(L, sec, "ancestor_channels",
	    r->ancestor_channels);
	(void)cfg_get_bool(sec, "exercise_devices", &r->exercise_devices,
	    L->diags);
	if (cfg_get_section(sec, "people", CFG_SEQ, &seq, L->diags) == 0 &&
	    seq != NULL && (n = cfg_node_len(seq)) > 0) {
		if ((r->people = calloc(n, sizeof(*r->people))) == NULL) {
			L->nomem = 1;
			return;
		}
		for (i = 0; i < n; i++) {
			struct cfg_route_people *p = &r->people[r->npeople];

			it = cfg_node_at(seq, i);
			if (cfg_expect_kind(it, CFG_MAP, L->diags) != 0)
				continue;
			(void)cfg_check_keys(it, route_people_keys, L->diags);
			(void)cfg_require(it, "channels", L->diags);
			p->levels = load_bits(L, it, "levels", level_names,
			    0x3e);
			p->roles = load_strv(L, it, "roles", NULL);
			p->colours = load_bits(L, it, "colours",
			    colour_word_names, CFG_COLOURS_ALL);
			p->channels = load_strv(L, it, "channels", NULL);
			check_channels_named(L, it, "channels", p->channels);
			p->exercise_only_participants = 1;
			(void)cfg_get_bool(it, "answer", &p->answer, L->diags);
			e = CFG_PREF_IGNORE;
			if (cfg_get_enum(it, "preferences", pref_names, &e,
			    L->diags) == 0)
				p->preferences = (enum cfg_pref_policy)e;
			/* One channel of a person's choice for a red alert:
			 * allowed, but perhaps not meant. */
			if (p->preferences == CFG_PREF_FIRST &&
			    (p->colours & (1u << CFG_COLOUR_RED)))
				(void)cfg_warn(L->diags, cfg_node_get(it,
				    "preferences"), "'preferences: first' "
				    "reaches a person through one channel "
				    "even for red alerts; use ignore (every "
				    "channel) or narrow, or leave red out of "
				    "this rule's colours");
			r->npeople++;
		}
	}
	if (cfg_get_section(sec, "devices", CFG_SEQ, &seq, L->diags) == 0 &&
	    seq != NULL && (n = cfg_node_len(seq)) > 0) {
		if ((r->devices = calloc(n, sizeof(*r->devices))) == NULL) {
			L->nomem = 1;
			return;
		}
		for (i = 0; i < n; i++) {
			struct cfg_route_devices *d = &r->devices[r->ndevices];

			it = cfg_node_at(seq, i);
			if (cfg_expect_kind(it, CFG_MAP, L->diags) != 0)
				continue;
			(void)cfg_check_keys(it, route_device_keys, L->diags);
			d->kinds = load_strv(L, it, "kinds", kinds);
			d->colours = load_bits(L, it, "colours",
			    colour_word_names, CFG_COLOURS_ALL);
			r->ndevices++;
		}
	}
}

/* "22:00-07:00" into minutes after midnight; 0 or -1. */
static int
parse_quiet(const char *s, int *from, int *to)
{
	unsigned h1, m1, h2, m2;
	char tail;

	if (sscanf(s, "%2u:%2u-%2u:%2u%c", &h1, &m1, &h2, &m2, &tail) != 4 ||
	    h1 > 23 || h2 > 23 || m1 > 59 || m2 > 59)
		return -1;
	*from = (int)(h1 * 60 + m1);
	*to = (int)(h2 * 60 + m2);
	return 0;
}

static void
load_esc_roles(struct loader *L, const struct cfg_node *it,
    struct cfg_esc_step *st, const char *dflt)
{
	const struct cfg_node *seq;
	size_t i;

	st->roles = load_strv(L, it, "roles", NULL);
	if (st->roles == NULL && !L->nomem) {
		if ((st->roles = calloc(2, sizeof(char *))) == NULL) {
			L->nomem = 1;
			return;
		}
		st->roles[0] = xstrdup(L, dflt);
		return;
	}
	seq = cfg_node_get(it, "roles");
	for (i = 0; st->roles != NULL && st->roles[i] != NULL; i++) {
		const char *canon = roster_role_parse(st->roles[i]);

		if (canon == NULL) {
			(void)cfg_error(L->diags, cfg_node_at(seq, i),
			    "unknown role '%.60s'", st->roles[i]);
			continue;
		}
		free(st->roles[i]);
		st->roles[i] = xstrdup(L, canon);
	}
}

static void
load_esc_step(struct loader *L, struct cfg_esc_policy *p,
    const struct cfg_node *it, int64_t prev_after)
{
	struct cfg_esc_step *st = &p->steps[p->nsteps];
	const char *ch = NULL;
	int e;

	if (cfg_expect_kind(it, CFG_MAP, L->diags) != 0)
		return;
	(void)cfg_check_keys(it, esc_step_keys, L->diags);
	if (cfg_require(it, "after", L->diags) != 0 ||
	    cfg_require(it, "do", L->diags) != 0)
		return;
	if (cfg_get_duration_ms(it, "after", 0, 7 * 86400000LL,
	    &st->after_ms, L->diags) != 0 ||
	    cfg_get_enum(it, "do", esc_action_names, &e, L->diags) != 0)
		return;
	if (e == 0) {
		(void)cfg_error(L->diags, cfg_node_get(it, "do"), "'none' is "
		    "not an action (resend, channel, deputy, notify_parent, "
		    "unreachable)");
		return;
	}
	st->action = (enum cfg_esc_action)e;
	if (st->after_ms < prev_after)
		(void)cfg_error(L->diags, cfg_node_get(it, "after"), "a step "
		    "must not come before the one above it");
	(void)cfg_get_str(it, "channel", &ch, L->diags);
	if (ch != NULL) {
		if (cfg_channel_find(L->c, ch) < 0)
			(void)cfg_error(L->diags, cfg_node_get(it, "channel"),
			    "channel '%.60s' is not configured", ch);
		st->channel = xstrdup(L, ch);
	}
	switch (st->action) {
	case CFG_ESC_CHANNEL:
		if (ch == NULL)
			(void)cfg_error(L->diags, it, "'do: channel' needs a "
			    "'channel'");
		break;
	case CFG_ESC_DEPUTY:
		load_esc_roles(L, it, st, "deputy");
		break;
	case CFG_ESC_NOTIFY_PARENT:
		load_esc_roles(L, it, st, "duty_officer");
		/* Nobody is above the deployment's root. */
		if (p->levels & (1u << L->c->deployment.root_level))
			(void)cfg_error(L->diags, cfg_node_get(it, "do"),
			    "notify_parent reaches nobody for people of the "
			    "%s level: no level above the deployment root "
			    "%s", region_level_name(
			    L->c->deployment.root_level),
			    L->c->deployment.root);
		break;
	default:
		if (cfg_node_get(it, "roles") != NULL)
			(void)cfg_error(L->diags, cfg_node_get(it, "roles"),
			    "'roles' belongs to deputy and notify_parent "
			    "steps");
		break;
	}
	p->nsteps++;
}

static void
load_escalation(struct loader *L, const struct cfg_node *root)
{
	const struct cfg_node *sec, *seq, *it, *steps;
	struct cfg_escalation *x = &L->c->escalation;
	const char *q;
	size_t i, j, n, ns;
	int64_t v, prev;

	if (cfg_get_section(root, "escalation", CFG_MAP, &sec, L->diags) != 0 ||
	    sec == NULL)
		return;
	(void)cfg_check_keys(sec, esc_keys, L->diags);
	if (cfg_get_section(sec, "policies", CFG_SEQ, &seq, L->diags) != 0 ||
	    seq == NULL || (n = cfg_node_len(seq)) == 0)
		return;
	if ((x->policies = calloc(n, sizeof(*x->policies))) == NULL) {
		L->nomem = 1;
		return;
	}
	for (i = 0; i < n; i++) {
		struct cfg_esc_policy *p = &x->policies[x->npolicies];

		it = cfg_node_at(seq, i);
		if (cfg_expect_kind(it, CFG_MAP, L->diags) != 0)
			continue;
		(void)cfg_check_keys(it, esc_policy_keys, L->diags);
		p->levels = load_bits(L, it, "levels", level_names, 0x3e);
		p->colours = load_bits(L, it, "colours", colour_word_names,
		    CFG_COLOURS_ALL);
		v = 0;
		(void)cfg_get_int(it, "quorum", 0, 1000, &v, L->diags);
		p->quorum = (int)v;
		q = NULL;
		if (cfg_get_str(it, "quiet_hours", &q, L->diags) == 0 &&
		    q != NULL && parse_quiet(q, &p->quiet_from,
		    &p->quiet_to) != 0)
			(void)cfg_error(L->diags, cfg_node_get(it,
			    "quiet_hours"), "quiet_hours must be HH:MM-HH:MM "
			    "(e.g. 22:00-07:00), not '%.40s'", q);
		x->npolicies++;
		if (cfg_get_section(it, "steps", CFG_SEQ, &steps, L->diags) !=
		    0 || steps == NULL || (ns = cfg_node_len(steps)) == 0)
			continue;
		if ((p->steps = calloc(ns, sizeof(*p->steps))) == NULL) {
			L->nomem = 1;
			return;
		}
		prev = 0;
		for (j = 0; j < ns; j++) {
			load_esc_step(L, p, cfg_node_at(steps, j), prev);
			if (p->nsteps > 0)
				prev = p->steps[p->nsteps - 1].after_ms;
		}
	}
}

static int
token_hash_ok(const char *s)
{
	size_t i;

	if (strncmp(s, "sha256:", 7) != 0 || strlen(s) != 7 + 64)
		return 0;
	for (i = 7; s[i] != '\0'; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f') ||
		    (s[i] >= 'A' && s[i] <= 'F')))
			return 0;
	return 1;
}

static void
load_cap(struct loader *L, const struct cfg_node *root)
{
	const struct cfg_node *sec, *seq, *it;
	struct cfg_cap *cc = &L->c->cap;
	const char *s;
	size_t i, n;

	if (cfg_get_section(root, "cap", CFG_MAP, &sec, L->diags) != 0)
		return;
	(void)cfg_check_keys(sec, cap_keys, L->diags);
	(void)cfg_get_size(sec, "max_bytes", 1024, 64u * 1024 * 1024,
	    &cc->max_bytes, L->diags);
	if (cfg_get_section(sec, "division_value_names", CFG_SEQ, &seq,
	    L->diags) == 0 && seq != NULL) {
		n = cfg_node_len(seq);
		for (i = 0; cc->division_value_names != NULL &&
		    cc->division_value_names[i] != NULL; i++)
			free(cc->division_value_names[i]);
		free(cc->division_value_names);
		if ((cc->division_value_names = calloc(n + 1,
		    sizeof(char *))) == NULL) {
			L->nomem = 1;
			return;
		}
		for (i = 0; i < n; i++) {
			s = NULL;
			if (cfg_as_str(cfg_node_at(seq, i), &s, L->diags) == 0)
				cc->division_value_names[i] = xstrdup(L, s);
			else
				cc->division_value_names[i] = xstrdup(L, "");
		}
	}
	if (cfg_get_section(sec, "geocode_map", CFG_SEQ, &seq, L->diags) != 0 ||
	    seq == NULL || (n = cfg_node_len(seq)) == 0)
		return;
	if ((cc->geomap = calloc(n, sizeof(*cc->geomap))) == NULL) {
		L->nomem = 1;
		return;
	}
	for (i = 0; i < n; i++) {
		struct cfg_geomap *g = &cc->geomap[cc->ngeomap];
		const char *vn = NULL, *v = NULL;

		it = cfg_node_at(seq, i);
		if (cfg_expect_kind(it, CFG_MAP, L->diags) != 0)
			continue;
		(void)cfg_check_keys(it, geomap_keys, L->diags);
		if (cfg_require(it, "value_name", L->diags) != 0 ||
		    cfg_require(it, "value", L->diags) != 0 ||
		    cfg_require(it, "region", L->diags) != 0 ||
		    cfg_get_str(it, "value_name", &vn, L->diags) != 0 ||
		    cfg_get_str(it, "value", &v, L->diags) != 0 ||
		    cfg_get_region(it, "region", g->region, L->diags) != 0)
			continue;
		g->value_name = xstrdup(L, vn);
		g->value = xstrdup(L, v);
		cc->ngeomap++;
	}
}

static void
load_feeds(struct loader *L, const struct cfg_node *root)
{
	const struct cfg_node *seq, *it;
	struct cfg_feed *f;
	const char *name, *s;
	size_t i, n;

	if (cfg_get_section(root, "feeds", CFG_SEQ, &seq, L->diags) != 0 ||
	    seq == NULL || (n = cfg_node_len(seq)) == 0)
		return;
	if ((L->c->feeds = calloc(n, sizeof(*f))) == NULL) {
		L->nomem = 1;
		return;
	}
	for (i = 0; i < n; i++) {
		it = cfg_node_at(seq, i);
		if (cfg_expect_kind(it, CFG_MAP, L->diags) != 0)
			continue;
		(void)cfg_check_keys(it, feed_keys, L->diags);
		f = &L->c->feeds[L->c->nfeeds++];
		f->node = it;
		if ((name = item_name(L, seq, i, "feed")) != NULL)
			f->name = xstrdup(L, name);
		(void)cfg_get_path(it, "token_file", L->base, &f->token_file,
		    L->diags);
		s = NULL;
		if (cfg_get_str(it, "token_hash", &s, L->diags) == 0 &&
		    s != NULL) {
			if (f->token_file != NULL)
				(void)cfg_error(L->diags, cfg_node_get(it,
				    "token_hash"), "give token_file or "
				    "token_hash, not both");
			else if (!token_hash_ok(s))
				(void)cfg_error(L->diags, cfg_node_get(it,
				    "token_hash"), "token_hash must be "
				    "\"sha256:\" and 64 hex digits (the SHA-256 "
				    "of the token: printf %%s TOKEN | sha256sum)");
			else
				f->token_hash = xstrdup(L, s);
		}
		(void)cfg_get_bool(it, "lenient", &f->lenient, L->diags);
		f->cn_profile = 1;
		(void)cfg_get_bool(it, "cn_profile", &f->cn_profile, L->diags);
		f->max_bytes = 1024 * 1024;
		(void)cfg_get_size(it, "max_bytes", 1024, 64u * 1024 * 1024,
		    &f->max_bytes, L->diags);
		(void)cfg_get_path(it, "drop_dir", L->base, &f->drop_dir,
		    L->diags);
		s = NULL;
		if (cfg_get_str(it, "poll_url", &s, L->diags) == 0 &&
		    s != NULL) {
			if (strncmp(s, "http://", 7) != 0 &&
			    strncmp(s, "https://", 8) != 0)
				(void)cfg_error(L->diags, cfg_node_get(it,
				    "poll_url"), "poll_url must be an http:// "
				    "or https:// URL");
			else
				f->poll_url = xstrdup(L, s);
		}
		f->poll_interval_ms = 60000;
		(void)cfg_get_duration_ms(it, "poll_interval", 1000,
		    24LL * 3600 * 1000, &f->poll_interval_ms, L->diags);
		f->poll_timeout_ms = 30000;
		(void)cfg_get_duration_ms(it, "poll_timeout", 1000, 600000,
		    &f->poll_timeout_ms, L->diags);
		(void)cfg_get_path(it, "trusted_cert", L->base,
		    &f->trusted_cert, L->diags);
		if (cfg_get_bool(it, "require_signature",
		    &f->require_signature, L->diags) == 0 &&
		    f->require_signature && f->trusted_cert == NULL &&
		    cfg_node_get(it, "trusted_cert") == NULL)
			(void)cfg_error(L->diags, cfg_node_get(it,
			    "require_signature"), "require_signature needs "
			    "trusted_cert");
		load_feed_regions(L, f, it);
	}
}

static void
set_defaults(struct loader *L)
{
	struct cfg *c = L->c;

	memcpy(c->deployment.root, "140400000000", REGION_CODE_SIZE);
	c->deployment.root_level = REGION_CITY;
	c->deployment.levels = 4;
	c->deployment.name = xstrdup(L, "");
	c->deployment.timezone = xstrdup(L, "Asia/Shanghai");
	c->deployment.language = xstrdup(L, "zh-CN");
	c->deployment.unknown_severity_colour = CFG_COLOUR_YELLOW;
	c->data_dir = cfg_path_join(L->base, "./var");
	if (c->data_dir == NULL)
		L->nomem = 1;
	memcpy(c->listen.host, "127.0.0.1", sizeof("127.0.0.1"));
	c->listen.port = 8080;
	c->log_level = LOG_LVL_INFO;
	c->http.max_body = 16u * 1024 * 1024;
	c->http.connection_timeout_ms = 30000;
	c->http.max_connections = 1024;
	c->http.max_connections_per_ip = 256;
	c->http.threads = 2;
	c->dispatch.lease_ms = 60000;
	c->dispatch.max_attempts = 10;
	c->rosters.encoding = ROSTER_ENC_AUTO;
	{
		/* The default is relative to where gongd runs, not to the
		 * config file. */
		char cwd[PATH_MAX];

		if ((c->templates = cfg_path_join(getcwd(cwd, sizeof(cwd)) ?
		    cwd : NULL, cfg_templates_default())) == NULL)
			L->nomem = 1;
		if ((c->http.console = cfg_path_join(getcwd(cwd, sizeof(cwd)) ?
		    cwd : NULL, cfg_console_default())) == NULL)
			L->nomem = 1;
	}
	c->cap.max_bytes = 1024 * 1024;
	{
		size_t i, n = sizeof(default_division_names) /
		    sizeof(default_division_names[0]);

		if ((c->cap.division_value_names = calloc(n,
		    sizeof(char *))) == NULL) {
			L->nomem = 1;
			return;
		}
		for (i = 0; default_division_names[i] != NULL; i++)
			c->cap.division_value_names[i] = xstrdup(L,
			    default_division_names[i]);
	}
}

/* Stable sort of diags->v[start..] by line. */
static void
sort_diags(struct diag_list *diags, size_t start)
{
	size_t i, j;
	struct diag t;

	for (i = start + 1; i < diags->n; i++) {
		t = diags->v[i];
		for (j = i; j > start && diags->v[j - 1].line > t.line; j--)
			diags->v[j] = diags->v[j - 1];
		diags->v[j] = t;
	}
}

void
cfg_free(struct cfg *c)
{
	size_t i;

	if (c == NULL)
		return;
	free(c->file);
	free(c->base_dir);
	free(c->deployment.name);
	free(c->deployment.timezone);
	free(c->deployment.language);
	free(c->data_dir);
	free(c->rosters.regions);
	free(c->rosters.responders);
	free(c->rosters.devices);
	free(c->templates);
	for (i = 0; i < c->nchannels; i++) {
		free(c->channels[i].name);
		free(c->channels[i].type);
	}
	free(c->channels);
	for (i = 0; i < c->nfeeds; i++) {
		free(c->feeds[i].name);
		free(c->feeds[i].token_file);
		free(c->feeds[i].token_hash);
		free(c->feeds[i].trusted_cert);
		free(c->feeds[i].regions);
		free(c->feeds[i].drop_dir);
		free(c->feeds[i].poll_url);
	}
	free(c->feeds);
	for (i = 0; c->cap.division_value_names != NULL &&
	    c->cap.division_value_names[i] != NULL; i++)
		free(c->cap.division_value_names[i]);
	free(c->cap.division_value_names);
	for (i = 0; i < c->cap.ngeomap; i++) {
		free(c->cap.geomap[i].value_name);
		free(c->cap.geomap[i].value);
	}
	free(c->cap.geomap);
	free_strv(c->routing.ancestor_roles);
	free_strv(c->routing.ancestor_channels);
	for (i = 0; i < c->routing.npeople; i++) {
		free_strv(c->routing.people[i].roles);
		free_strv(c->routing.people[i].channels);
	}
	free(c->routing.people);
	for (i = 0; i < c->routing.ndevices; i++)
		free_strv(c->routing.devices[i].kinds);
	free(c->routing.devices);
	free(c->http.public_url);
	free(c->http.console);
	for (i = 0; i < c->escalation.npolicies; i++) {
		size_t j;

		for (j = 0; j < c->escalation.policies[i].nsteps; j++) {
			free(c->escalation.policies[i].steps[j].channel);
			free_strv(c->escalation.policies[i].steps[j].roles);
		}
		free(c->escalation.policies[i].steps);
	}
	free(c->escalation.policies);
	cfg_doc_free(c->doc);
	free(c);
}

int
cfg_load_buf(const char *buf, size_t len, const char *name,
    const char *base_dir, struct cfg **out, struct diag_list *diags)
{
	struct loader L;
	struct cfg *c = NULL;
	struct cfg_doc *doc = NULL;
	const struct cfg_node *root;
	char cwd[PATH_MAX];
	size_t start = diags->n, nerr0 = diags->nerrors;
	int rv, e, soft = 0;

	*out = NULL;
	if ((rv = cfg_doc_parse_soft(buf, len, name, &doc, &soft, diags)) !=
	    0)
		goto out;
	if (base_dir == NULL)
		base_dir = getcwd(cwd, sizeof(cwd)) != NULL ? cwd : ".";
	memset(&L, 0, sizeof(L));
	L.diags = diags;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		rv = ENG_ENOMEM;
		goto out;
	}
	c->doc = doc;
	doc = NULL;
	c->root = root = cfg_doc_root(c->doc);
	L.c = c;
	c->file = xstrdup(&L, name != NULL ? name : "<config>");
	c->base_dir = xstrdup(&L, base_dir);
	L.base = c->base_dir;
	set_defaults(&L);
	if (L.nomem) {
		rv = ENG_ENOMEM;
		goto out;
	}

	(void)cfg_check_keys(root, top_keys, diags);
	load_deployment(&L, root);
	(void)cfg_get_path(root, "data_dir", L.base, &c->data_dir, diags);
	(void)cfg_get_hostport(root, "listen", &c->listen, diags);
	e = (int)c->log_level;
	if (cfg_get_enum(root, "log_level", log_level_names, &e, diags) == 0)
		c->log_level = (enum log_level)e;
	load_http(&L, root);
	load_rosters(&L, root);
	(void)cfg_get_path(root, "templates", L.base, &c->templates, diags);
	load_channels(&L, root);
	load_feeds(&L, root);
	load_cap(&L, root);
	load_routing(&L, root);
	load_dispatch(&L, root);
	load_escalation(&L, root);
	load_issuing(&L, root);

	if (L.nomem)
		rv = ENG_ENOMEM;
	else if (soft || diags->nerrors > nerr0)
		rv = ENG_EINVAL;
out:
	sort_diags(diags, start);
	cfg_doc_free(doc);
	if (rv != 0) {
		cfg_free(c);
		return rv;
	}
	*out = c;
	return 0;
}

int
cfg_load_file(const char *path, struct cfg **out, struct diag_list *diags)
{
	char *buf = NULL, *dir = NULL, *slash, *real = NULL;
	struct stat st;
	size_t len = 0;
	ssize_t r;
	int fd = -1, rv;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 ||
	    fstat(fd, &st) != 0) {
		rv = errno == ENOENT ? ENG_ENOENT : ENG_EIO;
		(void)diag_add(diags, DIAG_ERROR, path, 0, NULL, "cannot "
		    "read: %s", strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rv = ENG_EIO;
		(void)diag_add(diags, DIAG_ERROR, path, 0, NULL, "%s",
		    "not a regular file");
		goto out;
	}
	if (st.st_size > (off_t)CFG_MAX_BYTES)
		goto toobig;
	if ((buf = malloc(CFG_MAX_BYTES + 1)) == NULL) {
		rv = ENG_ENOMEM;
		goto out;
	}
	/* Read up to one byte over the limit: the file may have grown. */
	while (len <= CFG_MAX_BYTES) {
		r = read(fd, buf + len, CFG_MAX_BYTES + 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rv = ENG_EIO;
			(void)diag_add(diags, DIAG_ERROR, path, 0, NULL,
			    "cannot read: %s", strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (len > CFG_MAX_BYTES)
		goto toobig;
	/* Relative paths in the file point from the file's directory. */
	if ((dir = strdup(path)) == NULL) {
		rv = ENG_ENOMEM;
		goto out;
	}
	if ((slash = strrchr(dir, '/')) == NULL)
		memcpy(dir, ".", 2);
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if ((real = realpath(dir, NULL)) == NULL) {
		rv = ENG_EIO;
		(void)diag_add(diags, DIAG_ERROR, path, 0, NULL, "cannot "
		    "resolve the directory: %s", strerror(errno));
		goto out;
	}
	rv = cfg_load_buf(buf, len, path, real, out, diags);
	goto out;
toobig:
	rv = ENG_ETOOBIG;
	(void)diag_add(diags, DIAG_ERROR, path, 0, NULL, "file is larger "
	    "than the limit of %u bytes", CFG_MAX_BYTES);
out:
	if (fd >= 0)
		(void)close(fd);
	free(buf);
	free(dir);
	free(real);
	return rv;
}

/*
 * A shipped directory: $env if set, else the source tree's copy (built
 * in) when it exists, else the installed one, else the built-in name.
 */
static const char *
shipped_dir(const char *env, const char *built, const char *installed)
{
	const char *v = getenv(env);
	struct stat sb;

	if (v != NULL && v[0] != '\0')
		return v;
	if (stat(built, &sb) != 0 && installed != NULL &&
	    stat(installed, &sb) == 0)
		return installed;
	return built;
}

static const char *
demo_dir(void)
{
#ifdef GONG_DATADIR
	return shipped_dir("GONG_DEMO_DIR", GONG_DEMO_DIR,
	    GONG_DATADIR "/demo");
#else
	return shipped_dir("GONG_DEMO_DIR", GONG_DEMO_DIR, NULL);
#endif
}

const char *
cfg_templates_default(void)
{
#ifdef GONG_DATADIR
	return shipped_dir("GONG_TEMPLATES_DIR", GONG_TEMPLATES_DIR,
	    GONG_DATADIR "/templates");
#else
	return shipped_dir("GONG_TEMPLATES_DIR", GONG_TEMPLATES_DIR, NULL);
#endif
}

const char *
cfg_console_default(void)
{
#ifdef GONG_DATADIR
	return shipped_dir("GONG_CONSOLE_DIR", GONG_CONSOLE_DIR,
	    GONG_DATADIR "/console");
#else
	return shipped_dir("GONG_CONSOLE_DIR", GONG_CONSOLE_DIR, NULL);
#endif
}

/* Escape s for a YAML double-quoted string into esc (truncated). */
static size_t
yaml_escape(const char *s, char *esc, size_t size)
{
	size_t i, k;

	for (i = 0, k = 0; s[i] != '\0' && k + 5 < size; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '"' || ch == '\\') {
			esc[k++] = '\\';
			esc[k++] = (char)ch;
		} else if (ch < 0x20) {
			(void)snprintf(esc + k, 5, "\\x%02x", ch);
			k += 4;
		} else {
			esc[k++] = (char)ch;
		}
	}
	esc[k] = '\0';
	return k;
}

char *
cfg_default_yaml(void)
{
	char demo[8192], tpl[8192];
	size_t cap, n = 0, dl, tl, vl;
	const char *p, *m, *t, *mark, *val;
	char *out;

	dl = yaml_escape(demo_dir(), demo, sizeof(demo));
	tl = yaml_escape(cfg_templates_default(), tpl, sizeof(tpl));
	/* Each mark is used at most four times. */
	cap = sizeof(default_yaml) + 4 * (dl + tl) + 1;
	if ((out = malloc(cap)) == NULL)
		return NULL;
	for (p = default_yaml; ; p = m + strlen(mark)) {
		m = strstr(p, DEMO_MARK);
		t = strstr(p, TEMPLATES_MARK);
		if (t != NULL && (m == NULL || t < m)) {
			m = t;
			mark = TEMPLATES_MARK;
			val = tpl;
			vl = tl;
		} else if (m != NULL) {
			mark = DEMO_MARK;
			val = demo;
			vl = dl;
		} else {
			break;
		}
		memcpy(out + n, p, (size_t)(m - p));
		n += (size_t)(m - p);
		memcpy(out + n, val, vl);
		n += vl;
	}
	memcpy(out + n, p, strlen(p) + 1);
	return out;
}

int
cfg_default(struct cfg **out, struct diag_list *diags)
{
	char *y;
	int rv;

	*out = NULL;
	if ((y = cfg_default_yaml()) == NULL)
		return ENG_ENOMEM;
	rv = cfg_load_buf(y, strlen(y), "<default>", NULL, out, diags);
	free(y);
	return rv;
}

int
cfg_set_data_dir(struct cfg *c, const char *dir, struct eng_errbuf *eb)
{
	char cwd[PATH_MAX];
	char *p;

	if (dir == NULL || dir[0] == '\0')
		return eng_error(eb, ENG_EINVAL, "empty data directory");
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return eng_error(eb, ENG_EIO, "cannot get the current "
		    "directory: %s", strerror(errno));
	if ((p = cfg_path_join(cwd, dir)) == NULL)
		return eng_error(eb, ENG_ENOMEM, "out of memory");
	free(c->data_dir);
	c->data_dir = p;
	return 0;
}

int
cfg_set_listen(struct cfg *c, const char *hostport, struct eng_errbuf *eb)
{
	struct diag_list dl;
	struct cfg_doc *doc = NULL;
	struct cfg_hostport hp;
	char *y;
	size_t n, i, k;
	int rv;

	/* Parse "listen: '<hostport>'" with the same checks as the file. */
	n = strlen(hostport);
	if (n > 300)
		return eng_error(eb, ENG_EINVAL, "listen address too long");
	if ((y = malloc(2 * n + 16)) == NULL)
		return eng_error(eb, ENG_ENOMEM, "out of memory");
	memcpy(y, "listen: '", 9);
	for (i = 0, k = 9; i < n; i++) {
		if (hostport[i] == '\'')
			y[k++] = '\'';
		y[k++] = hostport[i];
	}
	memcpy(y + k, "'\n", 3);
	diag_list_init(&dl);
	rv = cfg_doc_parse(y, k + 2, "--listen", &doc, &dl);
	if (rv == 0)
		rv = cfg_get_hostport(cfg_doc_root(doc), "listen", &hp, &dl);
	if (rv != 0)
		rv = eng_error(eb, rv == ENG_ENOMEM ? ENG_ENOMEM : ENG_EINVAL,
		    "%s", dl.n > 0 ? dl.v[0].msg : "invalid host:port");
	else
		c->listen = hp;
	diag_list_release(&dl);
	cfg_doc_free(doc);
	free(y);
	return rv;
}

static void
check_file(const char *path, const struct cfg_node *n,
    struct diag_list *diags, int *rv)
{
	struct stat st;

	if (path == NULL)
		return;
	if (stat(path, &st) != 0 || access(path, R_OK) != 0) {
		*rv = cfg_error(diags, n, "cannot read '%s': %s", path,
		    strerror(errno));
		return;
	}
	if (!S_ISREG(st.st_mode))
		*rv = cfg_error(diags, n, "'%s' is not a regular file", path);
}

int
cfg_check_files(const struct cfg *c, struct diag_list *diags)
{
	const struct cfg_node *r = cfg_node_get(c->root, "rosters");
	size_t start = diags->n, i;
	int rv = 0;

	check_file(c->rosters.regions, cfg_node_get(r, "regions"), diags,
	    &rv);
	check_file(c->rosters.responders, cfg_node_get(r, "responders"),
	    diags, &rv);
	check_file(c->rosters.devices, cfg_node_get(r, "devices"), diags,
	    &rv);
	for (i = 0; i < c->nfeeds; i++) {
		check_file(c->feeds[i].token_file,
		    cfg_node_get(c->feeds[i].node, "token_file"), diags, &rv);
		check_file(c->feeds[i].trusted_cert,
		    cfg_node_get(c->feeds[i].node, "trusted_cert"), diags,
		    &rv);
	}
	sort_diags(diags, start);
	return rv;
}

long
cfg_feed_find(const struct cfg *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nfeeds; i++)
		if (c->feeds[i].name != NULL &&
		    strcmp(c->feeds[i].name, name) == 0)
			return (long)i;
	return -1;
}

long
cfg_channel_find(const struct cfg *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nchannels; i++)
		if (strcmp(c->channels[i].name, name) == 0)
			return (long)i;
	return -1;
}
