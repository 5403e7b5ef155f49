/*
 * config/cfg.h - gong's configuration: a YAML file (or the embedded
 * default) turned into a checked, immutable struct cfg.
 *
 * Two layers:
 *
 * 1. A generic document tree.  The YAML text is parsed (libyaml, kept
 *    inside this module) into nodes: maps (keys in file order), sequences
 *    and scalars (text exactly as written; YAML's implicit typing is not
 *    applied, so "0140" stays "0140").  Every node knows its file, line
 *    and key path ("http.max_body", "channels[0].name").  Hostile input is
 *    refused: files over CFG_MAX_BYTES, nesting deeper than CFG_MAX_DEPTH,
 *    more than CFG_MAX_NODES nodes, anchors and aliases (no billion
 *    laughs), explicit tags, duplicate keys, non-scalar keys, bytes that
 *    are not UTF-8, NUL bytes and more than one document.
 *
 *    The cfg_as_* and cfg_get_* helpers read typed values (string, bool,
 *    integer with a range, duration, size, enum, division code,
 *    host:port, path) and report what is wrong into a struct diag_list
 *    with the node's file, line and key path.  cfg_check_keys() rejects
 *    unknown keys with a "did you mean".  Channel drivers receive the
 *    const struct cfg_node * of their own section and validate it with
 *    the same helpers.
 *
 * 2. struct cfg, the typed configuration gongd runs on: every field has a
 *    default, relative paths are resolved against the directory of the
 *    config file.  Loading reports EVERY error (it keeps going after the
 *    first), sorted by line, and returns nothing half-built.
 *
 * Ownership: a struct cfg_doc owns its nodes; a struct cfg owns its
 * strings and its document (cfg->root stays valid until cfg_free()).
 * Nodes and struct cfg are never modified after loading (apart from the
 * cfg_set_* overrides, which are meant for the command line before the
 * config is shared), so they may be read from several threads at once.
 * Nothing here blocks except the file reads of cfg_load_file() and
 * cfg_check_files().
 */
#ifndef CONFIG_CFG_H
#define CONFIG_CFG_H

#include <stddef.h>
#include <stdint.h>

#include "engine/diag.h"
#include "engine/err.h"
#include "engine/log.h"
#include "engine/region.h"
#include "engine/roster.h"

/* Limits on the input (hostile or broken files). */
#define CFG_MAX_BYTES	(1024u * 1024)	/* 1 MiB */
#define CFG_MAX_DEPTH	32		/* nested maps/sequences */
#define CFG_MAX_NODES	65536

/* ------------------------------------------------------------------ */
/* The document tree                                                   */
/* ------------------------------------------------------------------ */

struct cfg_node;	/* opaque, immutable */
struct cfg_doc;		/* opaque: a parsed document, owns its nodes */

enum cfg_kind {
	CFG_NONE = 0,	/* only for a NULL node */
	CFG_MAP = 1,
	CFG_SEQ = 2,
	CFG_SCALAR = 3,
};

/*
 * Parse len bytes of YAML named name (used in diagnostics; may be NULL)
 * into a document.  Returns 0 and *out, or ENG_EINVAL with every problem
 * in diags (*out is NULL), or ENG_ETOOBIG for len > CFG_MAX_BYTES,
 * or ENG_ENOMEM.  An empty document (only comments) is an empty map.
 * The root must be a map.
 */
int cfg_doc_parse(const char *buf, size_t len, const char *name,
    struct cfg_doc **out, struct diag_list *diags);
/* The root map of a document (never NULL for a parsed document). */
const struct cfg_node *cfg_doc_root(const struct cfg_doc *doc);
/* Free a document and all its nodes; NULL is a no-op. */
void cfg_doc_free(struct cfg_doc *doc);

/* CFG_NONE for NULL. */
enum cfg_kind cfg_node_kind(const struct cfg_node *n);
/* Entries of a map, items of a sequence, bytes of a scalar; 0 for NULL. */
size_t cfg_node_len(const struct cfg_node *n);
/* Value of key in a map, or NULL (absent, or n is not a map). */
const struct cfg_node *cfg_node_get(const struct cfg_node *map,
    const char *key);
/* Item i of a sequence, or value i of a map (file order); NULL if out of
 * range. */
const struct cfg_node *cfg_node_at(const struct cfg_node *n, size_t i);
/* Key i of a map (file order), or NULL. */
const char *cfg_node_key_at(const struct cfg_node *map, size_t i);
/* The key node (a scalar, with its own line) of entry i of a map. */
const struct cfg_node *cfg_node_key_node_at(const struct cfg_node *map,
    size_t i);
/* Text of a scalar (NUL-terminated; YAML allows no NUL inside), or NULL
 * for maps, sequences and NULL. */
const char *cfg_node_str(const struct cfg_node *n);
/* Non-zero for a YAML null: an empty plain value, "~" or "null". */
int cfg_node_is_null(const struct cfg_node *n);
/* 1-based line and column of the node's start; 0 for NULL. */
long cfg_node_line(const struct cfg_node *n);
long cfg_node_column(const struct cfg_node *n);
/* Name of the file the node came from (may be NULL). */
const char *cfg_node_file(const struct cfg_node *n);
/* Key path: "" for the root, "http.max_body", "channels[0].name". */
const char *cfg_node_path(const struct cfg_node *n);

/* "map", "sequence", "scalar" ("nothing" for CFG_NONE). */
const char *cfg_kind_name(enum cfg_kind k);

/* ------------------------------------------------------------------ */
/* Typed values, for anyone validating a section                       */
/* ------------------------------------------------------------------ */

/*
 * cfg_as_*(n, ..., out, diags): read node n (which must not be NULL).
 * Returns 0 and stores into *out, or ENG_EINVAL after adding one error
 * to diags naming n's file, line and key path (*out unchanged).
 * ENG_ENOMEM where they allocate.
 *
 * cfg_get_*(map, key, ..., out, diags): the same for map's value at key,
 * except that an absent key or a null value returns 0 with *out
 * unchanged, so that the caller's default stays.  If map itself is NULL
 * every key counts as absent.
 */

/* Error reporting at a node, for checks of one's own: adds a DIAG_ERROR
 * (or DIAG_WARNING) with n's file, line and path; returns ENG_EINVAL
 * (0 for a warning). */
int cfg_error(struct diag_list *diags, const struct cfg_node *n,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int cfg_warn(struct diag_list *diags, const struct cfg_node *n,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The node must be of kind k ("expected a map, found a sequence"). */
int cfg_expect_kind(const struct cfg_node *n, enum cfg_kind k,
    struct diag_list *diags);

/*
 * Reject every key of map that is not in allowed (NULL-terminated): one
 * error per unknown key, at the key's line, naming the key and either
 * the closest allowed key ("did you mean 'listen'?") or the allowed keys.
 * Returns 0 or ENG_EINVAL.  A NULL map passes.
 */
int cfg_check_keys(const struct cfg_node *map, const char *const *allowed,
    struct diag_list *diags);
/* The key must be present and not null ("missing required key 'name'",
 * reported at the map's line).  Returns 0 or ENG_EINVAL. */
int cfg_require(const struct cfg_node *map, const char *key,
    struct diag_list *diags);

/* A scalar; *out points into the node (valid as long as the tree). */
int cfg_as_str(const struct cfg_node *n, const char **out,
    struct diag_list *diags);
/* true/false, yes/no, on/off (any case) -> 1/0. */
int cfg_as_bool(const struct cfg_node *n, int *out, struct diag_list *diags);
/* A decimal integer within [min, max]. */
int cfg_as_int(const struct cfg_node *n, int64_t min, int64_t max,
    int64_t *out, struct diag_list *diags);
/* A duration: one or more number+unit groups, units ms, s, m, h, d
 * ("500ms", "30s", "1h30m"); a unit is required.  Milliseconds, within
 * [min, max]. */
int cfg_as_duration_ms(const struct cfg_node *n, int64_t min, int64_t max,
    int64_t *out, struct diag_list *diags);
/* A size in bytes: a number with an optional unit B, k/K/KB/KiB,
 * M/MB/MiB, G/GB/GiB (all powers of 1024, as in nginx), within
 * [min, max]. */
int cfg_as_size(const struct cfg_node *n, uint64_t min, uint64_t max,
    uint64_t *out, struct diag_list *diags);
/* One of names (NULL-terminated, matched exactly); *out is its index. */
int cfg_as_enum(const struct cfg_node *n, const char *const *names,
    int *out, struct diag_list *diags);
/* A division code (6, 9 or 12 digits), normalised to 12. */
int cfg_as_region(const struct cfg_node *n, char out[REGION_CODE_SIZE],
    struct diag_list *diags);

#define CFG_HOST_SIZE 256
struct cfg_hostport {
	char host[CFG_HOST_SIZE];	/* no brackets around IPv6 */
	unsigned port;			/* 0..65535; 0 = any free port */
};
/* "host:port", "[v6addr]:port"; host a name, IPv4 or IPv6 literal. */
int cfg_as_hostport(const struct cfg_node *n, struct cfg_hostport *out,
    struct diag_list *diags);
/* A file system path; a relative one is joined to base_dir (if base_dir
 * is not NULL).  *out is allocated (free()); on error it is unchanged. */
int cfg_as_path(const struct cfg_node *n, const char *base_dir, char **out,
    struct diag_list *diags);

/*
 * A secret kept in a file (password_file, api_key_file …): its first
 * line, 1 to max bytes, into *out (allocated).  Errors are reported at
 * node n: "cannot read PATH: …" or "PATH: the first line must hold the
 * WHAT (1 to MAX bytes)".  The read buffer is wiped.  Blocking (file).
 */
int cfg_read_secret_file(const struct cfg_node *n, const char *path,
    const char *what, size_t max, char **out, struct diag_list *diags);

int cfg_get_str(const struct cfg_node *map, const char *key,
    const char **out, struct diag_list *diags);
int cfg_get_bool(const struct cfg_node *map, const char *key, int *out,
    struct diag_list *diags);
int cfg_get_int(const struct cfg_node *map, const char *key, int64_t min,
    int64_t max, int64_t *out, struct diag_list *diags);
int cfg_get_duration_ms(const struct cfg_node *map, const char *key,
    int64_t min, int64_t max, int64_t *out, struct diag_list *diags);
int cfg_get_size(const struct cfg_node *map, const char *key, uint64_t min,
    uint64_t max, uint64_t *out, struct diag_list *diags);
/* Whether the NULL-terminated list v (a config's list of roles,
 * channels …; NULL: empty) holds s (NULL: never). */
int cfg_strv_has(char *const *v, const char *s);

/* A rate "N/<window>": "20/min", "500/s", "3/h", "10/2s", "N" (per
 * minute); N of 1 to max_n, the window 100 ms to 1 h.  Absent: 0 and
 * nothing set. */
int cfg_get_rate(const struct cfg_node *map, const char *key, int64_t max_n,
    int64_t *n, int64_t *window_ms, struct diag_list *diags);
int cfg_get_enum(const struct cfg_node *map, const char *key,
    const char *const *names, int *out, struct diag_list *diags);
int cfg_get_region(const struct cfg_node *map, const char *key,
    char out[REGION_CODE_SIZE], struct diag_list *diags);
int cfg_get_hostport(const struct cfg_node *map, const char *key,
    struct cfg_hostport *out, struct diag_list *diags);
/* On success with a value, the old *out is freed and replaced. */
int cfg_get_path(const struct cfg_node *map, const char *key,
    const char *base_dir, char **out, struct diag_list *diags);
/* A map or sequence section: *out is the node, or NULL when absent or
 * null; an error if it is present with another kind. */
int cfg_get_section(const struct cfg_node *map, const char *key,
    enum cfg_kind kind, const struct cfg_node **out,
    struct diag_list *diags);

/* ------------------------------------------------------------------ */
/* The typed configuration                                             */
/* ------------------------------------------------------------------ */

/* Colour levels (预警等级), lowest to highest. */
enum cfg_colour {
	CFG_COLOUR_NONE = 0,	/* no colour: not broadcast by colour */
	CFG_COLOUR_BLUE = 1,
	CFG_COLOUR_YELLOW = 2,
	CFG_COLOUR_ORANGE = 3,
	CFG_COLOUR_RED = 4,
};
/* "none", "blue", "yellow", "orange", "red". */
const char *cfg_colour_name(enum cfg_colour c);

struct cfg_deployment {
	char root[REGION_CODE_SIZE];	/* default 140400000000 */
	enum region_level root_level;	/* of root */
	int levels;			/* city 4, province 5, county 3 */
	char *name;			/* default "" */
	char *timezone;			/* default "Asia/Shanghai" */
	char *language;			/* default "zh-CN" */
	enum cfg_colour unknown_severity_colour;	/* default yellow */
};

struct cfg_http {
	uint64_t max_body;		/* bytes, default 16 MiB */
	int64_t connection_timeout_ms;	/* default 30 s */
	unsigned max_connections;	/* default 256 */
	unsigned max_connections_per_ip;	/* default 64 */
	unsigned threads;		/* default 2 */
	/* Where people's phones reach gongd: the answer links (/a/…)
	 * start with it; NULL (default): the listen address. */
	char *public_url;
	/* The web console's files (console/README.md), served at / and
	 * /console/: a directory, absolute; default cfg_console_default(). */
	char *console;
};
#define CFG_PUBLIC_URL_MAX	200

struct cfg_rosters {
	char *regions;		/* absolute path or NULL (none) */
	char *responders;
	char *devices;
	enum roster_encoding encoding;	/* default ROSTER_ENC_AUTO */
};

struct cfg_channel {
	char *name;		/* unique, [a-z0-9_-]+ */
	char *type;		/* driver name (not looked up here) */
	/* The channel's whole map (name and type included), for the driver
	 * to validate with the cfg_* helpers.  Owned by the struct cfg. */
	const struct cfg_node *node;
};

struct cfg_feed {
	char *name;		/* unique, [a-z0-9_-]+ */
	char *token_file;	/* absolute path or NULL */
	char *token_hash;	/* "sha256:<64 hex>" or NULL; not both */
	int lenient;		/* default 0 */
	int cn_profile;		/* colour words, CMA codes; default 1 */
	uint64_t max_bytes;	/* largest CAP document; default 1 MiB */
	char *drop_dir;		/* watched folder (absolute) or NULL */
	char *poll_url;		/* Atom/RSS CAP index to poll, or NULL */
	int64_t poll_interval_ms;	/* default 60 s */
	int64_t poll_timeout_ms;	/* one fetch; default 30 s */
	int require_signature;	/* default 0; needs trusted_cert */
	char *trusted_cert;	/* absolute path or NULL */
	char (*regions)[REGION_CODE_SIZE];	/* normalised, within root */
	size_t nregions;	/* 0: the whole deployment */
	const struct cfg_node *node;
};

/* A foreign geocode (valueName, value) mapped onto a roster region. */
struct cfg_geomap {
	char *value_name;
	char *value;
	char region[REGION_CODE_SIZE];
};

struct cfg_cap {
	/* geocode valueNames whose values are division codes; default
	 * "GB/T 2260", "GB2260", "ADCODE", "CN-ADCODE", "行政区划代码". */
	char **division_value_names;	/* NULL-terminated */
	struct cfg_geomap *geomap;
	size_t ngeomap;
	uint64_t max_bytes;	/* CAP posted with the admin token; 1 MiB */
};

/* Colours as a bit set: 1 << CFG_COLOUR_BLUE … */
#define CFG_COLOURS_ALL 0x1e

/*
 * How a rule uses the responders' own channel preferences (roster column
 * "prefer"): see config/gong.example.yaml's routing section.
 */
enum cfg_pref_policy {
	CFG_PREF_IGNORE = 0,	/* every channel of the rule (default) */
	CFG_PREF_NARROW,	/* only the preferred channels the person
				 * has an address for; all if none */
	CFG_PREF_FIRST,		/* only the first of those, in the
				 * person's order; all if none */
};

/* Who is reached at which level, for which colours, through what. */
struct cfg_route_people {
	unsigned levels;	/* bit set: 1 << REGION_CITY … */
	char **roles;		/* NULL-terminated; NULL: every role */
	unsigned colours;	/* bit set of cfg_colour */
	char **channels;	/* NULL-terminated channel names */
	int exercise_only_participants;	/* default 1 */
	int answer;		/* an answer (叫应) is required; default 0 */
	enum cfg_pref_policy preferences;	/* default ignore */
};

/* Which device kinds fire for which colours. */
struct cfg_route_devices {
	char **kinds;		/* NULL-terminated device kinds */
	unsigned colours;
};

struct cfg_routing {
	char **ancestor_roles;	/* informed above the targets; NULL-term. */
	char **ancestor_channels;	/* channels for them; NULL-term. */
	struct cfg_route_people *people;
	size_t npeople;
	struct cfg_route_devices *devices;
	size_t ndevices;
	int exercise_devices;	/* devices fire for exercises; default 0 */
};

/* What an escalation step does (叫应): see config/gong.example.yaml. */
enum cfg_esc_action {
	CFG_ESC_RESEND = 1,	/* the message again, same channel */
	CFG_ESC_CHANNEL,	/* the message through another channel */
	CFG_ESC_DEPUTY,		/* the message to the person's deputies */
	CFG_ESC_NOTIFY_PARENT,	/* the parent region's officers get the
				 * list of who has not answered */
	CFG_ESC_UNREACHABLE,	/* the person is marked unreachable */
};
/* "resend", "channel", "deputy", "notify_parent", "unreachable". */
const char *cfg_esc_action_name(enum cfg_esc_action a);

struct cfg_esc_step {
	int64_t after_ms;		/* from the person's first message */
	enum cfg_esc_action action;
	char *channel;		/* CHANNEL: required; DEPUTY, NOTIFY_PARENT:
				 * NULL means the person's own channel */
	char **roles;		/* DEPUTY: default deputy; NOTIFY_PARENT:
				 * default duty_officer; NULL-terminated */
};

/* The steps for people whose region's level is in levels, for alerts
 * whose colour is in colours; the first matching policy applies. */
struct cfg_esc_policy {
	unsigned levels;	/* bit set: 1 << REGION_CITY … */
	unsigned colours;	/* bit set of cfg_colour */
	/* Answers needed per region; once that many people of a region
	 * answered, the region's other people are not escalated further.
	 * 0 (default): everyone must answer. */
	int quorum;
	/* Quiet hours in deployment.timezone, minutes after midnight; a
	 * blue or yellow step due inside them waits for their end (orange
	 * and red never wait).  quiet_from == quiet_to: none. */
	int quiet_from, quiet_to;
	struct cfg_esc_step *steps;	/* after_ms non-decreasing */
	size_t nsteps;
};

struct cfg_escalation {
	struct cfg_esc_policy *policies;
	size_t npolicies;
};

/* The dispatcher's outbox handling. */
struct cfg_dispatch {
	/* A delivery handed to a channel stays "sending" this long; after
	 * a crash it is taken again once it runs out.  Default 60 s. */
	int64_t lease_ms;
	int max_attempts;	/* then failed; default 10 */
};

/* issuing: what POST /api/v1/warnings builds (engine/api_warnings.c). */
#define CFG_SENDER_MAX	128
struct cfg_issuing {
	char sender[CFG_SENDER_MAX];	/* CAP sender; "": gong@<root> */
	unsigned approval;		/* colours (bit 1 << cfg_colour) a
					 * second officer must approve */
};

struct cfg {
	char *file;		/* source name (path or "<default>") */
	char *base_dir;		/* relative paths were resolved here */
	struct cfg_deployment deployment;
	char *data_dir;		/* absolute; default ./var */
	struct cfg_hostport listen;	/* default 127.0.0.1:8080 */
	enum log_level log_level;	/* default info */
	struct cfg_http http;
	struct cfg_rosters rosters;
	/* The message template set (templates/README.md): a directory,
	 * absolute; default cfg_templates_default(). */
	char *templates;
	struct cfg_channel *channels;
	size_t nchannels;
	struct cfg_feed *feeds;
	size_t nfeeds;
	struct cfg_cap cap;
	struct cfg_routing routing;
	struct cfg_dispatch dispatch;
	struct cfg_escalation escalation;
	struct cfg_issuing issuing;
	const struct cfg_node *root;	/* the whole document */
	struct cfg_doc *doc;		/* owns root; private */
};

/*
 * Load a config from len bytes of YAML.  name labels diagnostics (e.g. the
 * file name); base_dir is where relative paths point (NULL: the current
 * directory, taken at load time).  Returns 0 and *out, or ENG_EINVAL with
 * every error in diags (sorted by line; warnings may be added on
 * success too), ENG_ETOOBIG, ENG_ENOMEM.  *out is NULL on failure.
 */
int cfg_load_buf(const char *buf, size_t len, const char *name,
    const char *base_dir, struct cfg **out, struct diag_list *diags);
/*
 * Read and load the file at path; relative paths in it are resolved
 * against the file's own directory.  ENG_EIO / ENG_ENOENT (with a
 * diagnostic) if it cannot be read, ENG_ETOOBIG over CFG_MAX_BYTES.
 * Blocking (file I/O).
 */
int cfg_load_file(const char *path, struct cfg **out,
    struct diag_list *diags);
/*
 * The embedded default (the demo deployment): a YAML text compiled into
 * the binary, loaded through cfg_load_buf() with the current directory as
 * base.  Rosters come from $GONG_DEMO_DIR if set, else GONG_DEMO_DIR as
 * built.
 */
int cfg_default(struct cfg **out, struct diag_list *diags);
/*
 * The shipped template set: $GONG_TEMPLATES_DIR if set, else
 * GONG_TEMPLATES_DIR as built (the source tree's templates/default) when
 * it exists, else the installed GONG_DATADIR/templates.  Static storage
 * or the environment's; may be relative (to the current directory).
 */
const char *cfg_templates_default(void);
/* The web console's files: $GONG_CONSOLE_DIR, else GONG_CONSOLE_DIR as
 * built (the source tree's console/) when it exists, else the installed
 * GONG_DATADIR/console; as cfg_templates_default(). */
const char *cfg_console_default(void);
/* The default's YAML text with the demo dir filled in (malloc'd), for
 * "gongd --print-default-config".  NULL on ENOMEM. */
char *cfg_default_yaml(void);
void cfg_free(struct cfg *c);

/*
 * Command-line overrides, applied before the config is shared:
 * data_dir (relative to the current directory) and listen ("host:port").
 * Return 0 or ENG_EINVAL/ENG_ENOMEM with the reason in eb.
 */
int cfg_set_data_dir(struct cfg *c, const char *dir, struct eng_errbuf *eb);
int cfg_set_listen(struct cfg *c, const char *hostport,
    struct eng_errbuf *eb);

/*
 * Checks that touch the file system, for start-up and --check-config:
 * every configured roster file, token file and trusted certificate is a
 * readable regular file.  One error per problem, at the key's line.
 * Returns 0 or ENG_EINVAL.  Blocking.
 */
int cfg_check_files(const struct cfg *c, struct diag_list *diags);

/* Index of the feed called name, or -1. */
long cfg_feed_find(const struct cfg *c, const char *name);

/* Index of the channel called name, or -1. */
long cfg_channel_find(const struct cfg *c, const char *name);

#endif /* CONFIG_CFG_H */
