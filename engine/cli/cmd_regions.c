/*
 * engine/cli/cmd_regions.c - `gong regions CODE`: a region's parents and
 * its subtree with counts; `gong responders CODE` and `gong devices CODE`:
 * the tables of what is attached to it.
 */
#include <stdio.h>
#include <string.h>

#include "engine/cli/cli.h"
#include "engine/cli/client.h"
#include "engine/region.h"

#define TREE_MAX_DEPTH	16	/* deeper nesting in an answer is ignored */

static const char regions_help[] =
    "usage: gong regions CODE [--depth N] [options]\n"
    "\n"
    "Show the region CODE (12 digits, or 6 for a county), its parent\n"
    "chain and its subtree down to N levels (0-5, default 1), each with\n"
    "the counts of regions, responders and devices of its whole subtree.\n"
    "\n"
    "  --depth N          levels of the subtree to show (default 1)\n";

static const char responders_help[] =
    "usage: gong responders CODE [--subtree] [--limit N] [--offset M] "
    "[options]\n"
    "\n"
    "List the responders of the region CODE (with --subtree: of every\n"
    "region below it too).\n"
    "\n"
    "  --subtree          include the regions below CODE\n"
    "  --limit N          at most N rows (default: gongd's)\n"
    "  --offset M         skip the first M rows\n";

static const char devices_help[] =
    "usage: gong devices CODE [--subtree] [--limit N] [--offset M] "
    "[options]\n"
    "\n"
    "List the devices (loudspeakers, sirens, radios, group chats) of the\n"
    "region CODE (with --subtree: of every region below it too).\n"
    "\n"
    "  --subtree          include the regions below CODE\n"
    "  --limit N          at most N rows (default: gongd's)\n"
    "  --offset M         skip the first M rows\n";

enum {
	OPT_DEPTH = CLI_OPT_FIRST_LOCAL,
	OPT_SUBTREE,
	OPT_LIMIT,
	OPT_OFFSET,
};

/* A level given as a number (1-5) or a name. */
static const char *
level_text(const json_t *node, char *buf, size_t size)
{
	const json_t *lv = json_object_get(node, "level_name");
	const char *s;

	if (json_is_string(lv))
		return json_string_value(lv);
	lv = json_object_get(node, "level");
	if (json_is_integer(lv)) {
		s = region_level_name((enum region_level)
		    json_integer_value(lv));
		if (s != NULL)
			return s;
	}
	return cli_jstr(node, "level", buf, size);
}

static void
print_counts(FILE *f, const json_t *node)
{
	const json_t *c = json_object_get(node, "counts");

	if (!json_is_object(c))
		return;
	fprintf(f, " regions=%lld responders=%lld devices=%lld",
	    cli_jint(c, "regions", 0), cli_jint(c, "responders", 0),
	    cli_jint(c, "devices", 0));
}

static void
print_node(FILE *f, const json_t *node, int depth)
{
	const json_t *kids, *kid;
	char b[64], lb[64];
	const char *lvl;
	size_t i;
	int j;

	for (j = 0; j < depth; j++)
		fputs("  ", f);
	cli_print_padded(f, cli_jstr(node, "code", b, sizeof(b)), 0);
	fputc(' ', f);
	cli_print_padded(f, cli_jstr(node, "name", b, sizeof(b)), 0);
	lvl = level_text(node, lb, sizeof(lb));
	if (*lvl != '\0') {
		fputs(" (", f);
		cli_print_padded(f, lvl, 0);
		fputc(')', f);
	}
	print_counts(f, node);
	fputc('\n', f);
	if (depth >= TREE_MAX_DEPTH)
		return;
	kids = json_object_get(node, "children");
	json_array_foreach(kids, i, kid)
		if (json_is_object(kid))
			print_node(f, kid, depth + 1);
}

int
cli_regions_print(FILE *f, const struct json_t *doc)
{
	const json_t *region = json_object_get(doc, "region");
	const json_t *parents = json_object_get(doc, "parents"), *p, *kid;
	const json_t *kids = json_object_get(doc, "children");
	char b[64];
	size_t i;

	if (!json_is_object(region))
		return cli_fail(CLI_SERVER, "gongd's answer has no region");
	json_array_foreach(parents, i, p) {
		cli_print_padded(f, cli_jstr(p, "code", b, sizeof(b)), 0);
		fputc(' ', f);
		cli_print_padded(f, cli_jstr(p, "name", b, sizeof(b)), 0);
		fputs(" > ", f);
	}
	cli_print_padded(f, cli_jstr(region, "code", b, sizeof(b)), 0);
	fputc(' ', f);
	cli_print_padded(f, cli_jstr(region, "name", b, sizeof(b)), 0);
	fputs("\n\n", f);
	/* The subtree: the region itself, then its children indented. */
	print_node(f, region, 0);
	if (json_object_get(region, "children") == NULL)
		json_array_foreach(kids, i, kid)
			if (json_is_object(kid))
				print_node(f, kid, 1);
	return CLI_OK;
}

struct column {
	const char *head;
	const char *key;
	int optional;		/* shown only if some row has a value */
};

static const struct column responder_cols[] = {
	{ "ID", "id", 0 }, { "NAME", "name", 0 }, { "REGION", "region", 0 },
	{ "ROLE", "role", 0 }, { "PHONE", "phone", 0 },
	{ "ACTIVE", "active", 0 }, { "EXERCISE", "exercise", 0 },
	{ "PREFER", "prefer", 1 }, { NULL, NULL, 0 }
};

static const struct column device_cols[] = {
	{ "ID", "id", 0 }, { "REGION", "region", 0 }, { "KIND", "kind", 0 },
	{ "CHANNEL", "channel", 0 }, { "ADDRESS", "address", 0 },
	{ NULL, NULL, 0 }
};

#define MAX_COLS 8

/* A cell's text: cli_jstr's, or an array's strings joined by ','. */
static const char *
cell(const json_t *row, const char *key, char *buf, size_t size)
{
	const json_t *v = json_object_get(row, key), *x;
	size_t i, n = 0;
	int k;

	if (!json_is_array(v))
		return cli_jstr(row, key, buf, size);
	buf[0] = '\0';
	json_array_foreach(v, i, x) {
		if (!json_is_string(x))
			continue;
		k = snprintf(buf + n, size - n, "%s%s", n > 0 ? "," : "",
		    json_string_value(x));
		if (k < 0 || (size_t)k >= size - n)
			break;	/* truncated: what fits */
		n += (size_t)k;
	}
	return buf;
}

int
cli_table_print(FILE *f, const struct json_t *doc, const char *what)
{
	const struct column *cols = strcmp(what, "devices") == 0 ?
	    device_cols : responder_cols;
	const json_t *rows = json_object_get(doc, what), *row;
	size_t w[MAX_COLS], i, k, cw, last = 0;
	int shown[MAX_COLS];
	char b[64];

	if (!json_is_array(rows))
		return cli_fail(CLI_SERVER, "gongd's answer has no %s", what);
	for (k = 0; cols[k].head != NULL; k++) {
		w[k] = strlen(cols[k].head);
		shown[k] = !cols[k].optional;
	}
	json_array_foreach(rows, i, row)
		for (k = 0; cols[k].head != NULL; k++) {
			cw = cli_width(cell(row, cols[k].key, b, sizeof(b)));
			if (cw > 0)
				shown[k] = 1;
			if (cw > w[k])
				w[k] = cw;
		}
	for (k = 0; cols[k].head != NULL; k++)
		if (shown[k])
			last = k;
	if (json_array_size(rows) > 0) {
		for (k = 0; cols[k].head != NULL; k++)
			if (shown[k])
				cli_print_padded(f, cols[k].head,
				    k != last ? w[k] + 2 : 0);
		fputc('\n', f);
	}
	json_array_foreach(rows, i, row) {
		for (k = 0; cols[k].head != NULL; k++)
			if (shown[k])
				cli_print_padded(f, cell(row, cols[k].key, b,
				    sizeof(b)), k != last ? w[k] + 2 : 0);
		fputc('\n', f);
	}
	fprintf(f, "%zu of %lld %s\n", json_array_size(rows),
	    cli_jint(doc, "total", (long long)json_array_size(rows)), what);
	return CLI_OK;
}

static int
region_arg(const struct cli_opts *o, int argc, char **argv,
    char code[REGION_CODE_SIZE])
{
	struct eng_errbuf eb;

	if (argc - optind != 1) {
		fprintf(stderr, "gong %s: %s\nTry 'gong %s --help'.\n", o->cmd,
		    argc - optind < 1 ? "missing region CODE" :
		    "too many arguments", o->cmd);
		return CLI_USAGE;
	}
	eng_errbuf_init(&eb);
	if (region_code_norm(argv[optind], strlen(argv[optind]), code,
	    &eb) != 0) {
		fprintf(stderr, "gong %s: %s\n", o->cmd, eb.msg);
		return CLI_USAGE;
	}
	return CLI_OK;
}

static int
get_and_print(const struct cli_opts *o, const char *path,
    int (*print)(FILE *, const struct json_t *, const char *),
    const char *what)
{
	struct cli_request rq = { .path = path, .timeout_s = CLI_TIMEOUT_S };
	struct cli_answer a = { 0 };
	struct cli_client c;
	int rv;

	if ((rv = cli_client_init(&c, o)) != CLI_OK)
		return rv;
	if ((rv = cli_call(&c, &rq, &a)) != CLI_OK)
		goto out;
	if (a.json == NULL)
		rv = cli_fail(CLI_SERVER, "gongd's answer is not JSON");
	else if (o->json)
		cli_print_json(stdout, a.json);
	else
		rv = print(stdout, a.json, what);
out:
	cli_answer_release(&a);
	return rv;
}

static int
print_tree(FILE *f, const struct json_t *doc, const char *what)
{
	(void)what;
	return cli_regions_print(f, doc);
}

int
cli_regions(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "depth", required_argument, NULL, OPT_DEPTH },
		{ NULL, 0, NULL, 0 }
	};
	char code[REGION_CODE_SIZE], path[128];
	struct cli_opts o;
	long depth = 1;
	int ch, rv;

	cli_opts_init(&o, "regions");
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, CLI_SHORTOPTS, longopts,
	    NULL)) != -1) {
		if (ch == 'h') {
			cli_usage(stdout, regions_help);
			return CLI_OK;
		}
		if (ch == OPT_DEPTH)
			rv = cli_parse_long(&o, "depth", optarg, 0, 5, &depth);
		else
			rv = cli_opts_handle(&o, ch, optarg, argv);
		if (rv != CLI_OK)
			return rv;
	}
	if ((rv = region_arg(&o, argc, argv, code)) != CLI_OK)
		return rv;
	snprintf(path, sizeof(path), "/api/v1/regions/%s?depth=%ld", code,
	    depth);
	return get_and_print(&o, path, print_tree, "regions");
}

static int
list(int argc, char **argv, const char *what, const char *help)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "subtree", no_argument, NULL, OPT_SUBTREE },
		{ "limit", required_argument, NULL, OPT_LIMIT },
		{ "offset", required_argument, NULL, OPT_OFFSET },
		{ NULL, 0, NULL, 0 }
	};
	char code[REGION_CODE_SIZE], path[256], extra[64];
	long limit = -1, offset = 0;
	struct cli_opts o;
	int ch, rv, subtree = 0;

	cli_opts_init(&o, what);
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, CLI_SHORTOPTS, longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'h':
			cli_usage(stdout, help);
			return CLI_OK;
		case OPT_SUBTREE:
			subtree = 1;
			rv = CLI_OK;
			break;
		case OPT_LIMIT:
			rv = cli_parse_long(&o, "limit", optarg, 0, 1000000000L,
			    &limit);
			break;
		case OPT_OFFSET:
			rv = cli_parse_long(&o, "offset", optarg, 0,
			    1000000000L, &offset);
			break;
		default:
			rv = cli_opts_handle(&o, ch, optarg, argv);
			break;
		}
		if (rv != CLI_OK)
			return rv;
	}
	if ((rv = region_arg(&o, argc, argv, code)) != CLI_OK)
		return rv;
	extra[0] = '\0';
	if (limit >= 0)
		snprintf(extra, sizeof(extra), "&limit=%ld", limit);
	snprintf(path, sizeof(path), "/api/v1/regions/%s/%s?subtree=%d%s"
	    "&offset=%ld", code, what, subtree, extra, offset);
	return get_and_print(&o, path, cli_table_print, what);
}

int
cli_responders(int argc, char **argv)
{
	return list(argc, argv, "responders", responders_help);
}

int
cli_devices(int argc, char **argv)
{
	return list(argc, argv, "devices", devices_help);
}
