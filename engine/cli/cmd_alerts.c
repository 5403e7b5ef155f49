/*
 * engine/cli/cmd_alerts.c - CAP alerts through gongd's API:
 *
 *   gong send FILE...    POST each file to /api/v1/cap
 *   gong alerts          the table of stored alerts, newest first
 *   gong show ID         one alert: summary, warnings, references,
 *                        target regions, its place in its chain;
 *                        --cap: the original XML, byte for byte
 *   gong chain ID        the chain Alert -> Update -> Cancel
 *
 * Times are shown in China Standard Time (Asia/Shanghai, UTC+08:00, no
 * daylight saving since 1991), computed from gongd's RFC 3339 strings;
 * a time that cannot be read is shown as received.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cap/cap.h"
#include "engine/cli/cli.h"
#include "engine/cli/client.h"
#include "engine/diag.h"
#include "engine/region.h"
#include "engine/utf8.h"

#define LOCAL_OFFSET_S	(8 * 3600)	/* Asia/Shanghai */
#define EVENT_WIDTH	24	/* columns of the event in the table */
#define HEADLINE_WIDTH	48	/* columns of the headline in tables */
#define LINE_SIZE	4096	/* one diagnostic line */

static const char send_help[] =
    "usage: gong send FILE... [options]\n"
    "\n"
    "Send CAP documents to gongd (POST /api/v1/cap), one request per file,\n"
    "with the admin token or a feed's token.  Prints for each file:\n"
    "  FILE: stored as alert N (state, colour, K regions)\n"
    "  FILE: duplicate of alert N\n"
    "  FILE: rejected: reason\n"
    "followed by its errors and warnings as FILE:LINE: error: PATH: message.\n"
    "\n"
    "Exit status 0 only if every file was stored or was a duplicate;\n"
    "1 if one was rejected as invalid (400, 413, 415, 422); 5 if the token\n"
    "is refused (401) or may not send a message (403).\n";

static const char alerts_help[] =
    "usage: gong alerts [--status S] [--active] [--severity S] "
    "[--region CODE]\n"
    "                   [--limit N] [--offset M] [options]\n"
    "\n"
    "List the stored alerts, newest first, with their sending time in\n"
    "China Standard Time (UTC+08:00).\n"
    "\n"
    "  --status S         Actual, Exercise, System, Test or Draft\n"
    "  --active           only alerts in force\n"
    "  --severity S       Extreme, Severe, Moderate, Minor or Unknown\n"
    "  --region CODE      only alerts targeting CODE or its subtree\n"
    "  --limit N          at most N rows (default: gongd's)\n"
    "  --offset M         skip the first M rows\n";

static const char show_help[] =
    "usage: gong show ID [--cap] [options]\n"
    "\n"
    "Show the alert ID: its summary, the warnings it arrived with, the\n"
    "messages it references, the regions it targets and its place in its\n"
    "chain.\n"
    "\n"
    "  --cap              print the original CAP XML, byte for byte\n";

static const char chain_help[] =
    "usage: gong chain ID [options]\n"
    "\n"
    "Show the chain (Alert -> Update -> Cancel) of the alert ID, one line\n"
    "per message in the order they were sent; ID is marked with '*'.\n";

enum {
	OPT_STATUS = CLI_OPT_FIRST_LOCAL,
	OPT_ACTIVE,
	OPT_SEVERITY,
	OPT_REGION,
	OPT_LIMIT,
	OPT_OFFSET,
	OPT_CAP,
};

const char *
cli_local_time(const char *rfc3339, char *buf, size_t size)
{
	struct cap_time t;
	long long s, days, sod, y, doe, yoe, doy, mp, d, m;

	if (rfc3339 == NULL || *rfc3339 == '\0') {
		snprintf(buf, size, "-");
		return buf;
	}
	memset(&t, 0, sizeof(t));
	if (cap_time_parse(rfc3339, &t, NULL) < 0 || !t.valid) {
		snprintf(buf, size, "%s", rfc3339);
		return buf;
	}
	/* Floor division: times before 1970 have negative ms. */
	s = t.ms >= 0 ? t.ms / 1000 : -((-t.ms + 999) / 1000);
	s += LOCAL_OFFSET_S;
	days = s >= 0 ? s / 86400 : -((-s + 86399) / 86400);
	sod = s - days * 86400;
	/* civil_from_days (H. Hinnant). */
	days += 719468;
	y = (days >= 0 ? days : days - 146096) / 146097;
	doe = days - y * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + y * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	snprintf(buf, size, "%04lld-%02lld-%02lld %02lld:%02lld:%02lld", y, m,
	    d, sod / 3600, sod / 60 % 60, sod % 60);
	return buf;
}

/*
 * Copy s into buf cut to at most width terminal columns, ending in "..."
 * when cut; whole UTF-8 characters only (a byte that does not start one
 * counts as a character of its own).  Returns buf.
 */
static const char *
clip(const char *s, size_t width, char *buf, size_t size)
{
	char ch[8];
	size_t left = strlen(s), n = 0, w = 0, k, cw;

	if (cli_width(s) <= width && left < size) {
		memcpy(buf, s, left + 1);
		return buf;
	}
	while (left > 0) {
		if ((k = utf8_decode(s, left, NULL)) == 0)
			k = 1;
		memcpy(ch, s, k);
		ch[k] = '\0';
		cw = cli_width(ch);
		if (w + cw + 3 > width || n + k + 4 > size)
			break;
		memcpy(buf + n, s, k);
		n += k;
		w += cw;
		s += k;
		left -= k;
	}
	memcpy(buf + n, "...", 4);
	return buf;
}

static const char *
colour_zh(const char *c)
{
	static const char *const map[][2] = {
		{ "red", "红" }, { "orange", "橙" }, { "yellow", "黄" },
		{ "blue", "蓝" },
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(c, map[i][0]) == 0)
			return map[i][1];
	return NULL;
}

/* A JSON string member or def. */
static const char *
jstr_or(const json_t *obj, const char *key, const char *def)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s != NULL && *s != '\0' ? s : def;
}

/* Print one {"line","path","message"} as FILE:LINE: SEV: PATH: message. */
static void
print_item(FILE *f, const char *file, enum diag_sev sev, const json_t *it)
{
	char line[LINE_SIZE], pb[64], mb[64];
	struct diag d;
	long long ln = cli_jint(it, "line", 0);

	if (!json_is_object(it))
		return;
	memset(&d, 0, sizeof(d));
	d.sev = sev;
	d.file = (char *)(uintptr_t)file;
	d.line = ln > 0 && ln < 1000000000L ? (long)ln : 0;
	d.path = (char *)(uintptr_t)cli_jstr(it, "path", pb, sizeof(pb));
	if (*d.path == '\0')
		d.path = NULL;
	d.msg = (char *)(uintptr_t)cli_jstr(it, "message", mb, sizeof(mb));
	cli_print_padded(f, diag_format(&d, line, sizeof(line)), 0);
	fputc('\n', f);
}

static void
print_items(FILE *f, const char *file, enum diag_sev sev, const json_t *v)
{
	const json_t *it;
	size_t i;

	json_array_foreach(v, i, it)
		print_item(f, file, sev, it);
}

/* Exit status of an answer about one file sent. */
static int
send_exit(long status)
{
	if (status == 400 || status == 413 || status == 415 || status == 422)
		return CLI_INVALID;
	return cli_status_exit(status);
}

int
cli_send_print(FILE *f, const char *file, long status,
    const struct json_t *doc, const char *body)
{
	const json_t *err = json_object_get(doc, "error");
	const char *msg = json_string_value(json_object_get(err, "message"));
	long long unknown;
	int rv;

	if (status >= 200 && status < 300) {
		if (!json_is_object(doc) || !json_is_integer(json_object_get(
		    doc, "id"))) {
			cli_print_padded(f, file, 0);
			fprintf(f, ": gongd's answer (HTTP %ld) has no alert "
			    "id\n", status);
			return CLI_SERVER;
		}
		cli_print_padded(f, file, 0);
		if (json_is_true(json_object_get(doc, "duplicate"))) {
			fprintf(f, ": duplicate of alert %lld\n",
			    cli_jint(doc, "id", 0));
			print_items(f, file, DIAG_WARNING,
			    json_object_get(doc, "warnings"));
			return CLI_OK;
		}
		fprintf(f, ": stored as alert %lld (", cli_jint(doc, "id", 0));
		cli_print_padded(f, jstr_or(doc, "state", "?"), 0);
		fputs(", ", f);
		cli_print_padded(f, jstr_or(doc, "colour", "no colour"), 0);
		fprintf(f, ", %lld region%s", cli_jint(doc, "regions", 0),
		    cli_jint(doc, "regions", 0) == 1 ? "" : "s");
		if (json_is_true(json_object_get(doc, "area_unmatched")))
			fputs(", area matched no region", f);
		if (json_is_false(json_object_get(doc, "broadcast")))
			fputs(", not broadcast", f);
		unknown = cli_jint(doc, "unknown_references", 0);
		if (unknown > 0)
			fprintf(f, ", %lld unknown reference%s", unknown,
			    unknown == 1 ? "" : "s");
		if (cli_jint(doc, "chain_id", 0) > 0 &&
		    cli_jint(doc, "chain_id", 0) != cli_jint(doc, "id", 0))
			fprintf(f, ", chain %lld",
			    cli_jint(doc, "chain_id", 0));
		fputs(")\n", f);
		print_items(f, file, DIAG_WARNING,
		    json_object_get(doc, "warnings"));
		return CLI_OK;
	}
	rv = send_exit(status);
	cli_print_padded(f, file, 0);
	fputs(": rejected", f);
	if (msg != NULL) {
		fputs(": ", f);
		cli_print_padded(f, msg, 0);
	} else {
		fprintf(f, " (HTTP %ld", status);
		if (doc == NULL && body != NULL && *body != '\0' &&
		    strcspn(body, "\r\n") < 200 && strlen(body) < 200) {
			fputs(": ", f);
			cli_print_padded(f, body, 0);
		}
		fputc(')', f);
	}
	fputc('\n', f);
	print_items(f, file, DIAG_ERROR, json_object_get(doc, "errors"));
	if (json_object_get(doc, "errors") == NULL)
		print_items(f, file, DIAG_ERROR,
		    json_object_get(err, "errors"));
	print_items(f, file, DIAG_WARNING, json_object_get(doc, "warnings"));
	return rv == CLI_OK ? CLI_SERVER : rv;
}

struct column {
	const char *head;
	const char *key;
	size_t max;		/* clip to this many columns; 0: no limit */
};

static const struct column alert_cols[] = {
	{ "ID", "id", 0 }, { "SENT (UTC+8)", "sent", 0 },
	{ "COLOUR", "colour", 0 }, { "STATE", "state", 0 },
	{ "EVENT", "event", EVENT_WIDTH },
	{ "HEADLINE", "headline", HEADLINE_WIDTH },
	{ "REGIONS", "regions", 0 }, { NULL, NULL, 0 }
};

#define NALERT_COLS	7
#define CELL_SIZE	512

/* The text of one cell of the alerts table. */
static const char *
alert_cell(const json_t *row, const struct column *col, char *buf,
    size_t size)
{
	char b[CELL_SIZE];
	const char *s;

	if (strcmp(col->key, "sent") == 0)
		return cli_local_time(json_string_value(json_object_get(row,
		    "sent")), buf, size);
	if (strcmp(col->key, "regions") == 0 &&
	    json_is_true(json_object_get(row, "area_unmatched"))) {
		snprintf(buf, size, "%lld unmatched",
		    cli_jint(row, "regions", 0));
		return buf;
	}
	s = cli_jstr(row, col->key, b, sizeof(b));
	if (*s == '\0')
		s = "-";
	if (col->max > 0)
		return clip(s, col->max, buf, size);
	snprintf(buf, size, "%s", s);
	return buf;
}

int
cli_alerts_print(FILE *f, const struct json_t *doc)
{
	const json_t *rows = json_object_get(doc, "alerts"), *row;
	size_t w[NALERT_COLS], i, k, cw;
	char b[CELL_SIZE];

	if (!json_is_array(rows))
		return cli_fail(CLI_SERVER, "gongd's answer has no alerts");
	for (k = 0; alert_cols[k].head != NULL; k++)
		w[k] = cli_width(alert_cols[k].head);
	json_array_foreach(rows, i, row)
		for (k = 0; alert_cols[k].head != NULL; k++) {
			cw = cli_width(alert_cell(row, &alert_cols[k], b,
			    sizeof(b)));
			if (cw > w[k])
				w[k] = cw;
		}
	if (json_array_size(rows) > 0) {
		for (k = 0; alert_cols[k].head != NULL; k++)
			cli_print_padded(f, alert_cols[k].head,
			    alert_cols[k + 1].head != NULL ? w[k] + 2 : 0);
		fputc('\n', f);
	}
	json_array_foreach(rows, i, row) {
		for (k = 0; alert_cols[k].head != NULL; k++)
			cli_print_padded(f, alert_cell(row, &alert_cols[k], b,
			    sizeof(b)), alert_cols[k + 1].head != NULL ?
			    w[k] + 2 : 0);
		fputc('\n', f);
	}
	fprintf(f, "%zu of %lld alerts\n", json_array_size(rows),
	    cli_jint(doc, "total", (long long)json_array_size(rows)));
	return CLI_OK;
}

/* "label       value\n" with the value made safe. */
static void
field(FILE *f, const char *label, const char *value)
{
	fprintf(f, "  %-12s", label);
	cli_print_padded(f, value, 0);
	fputc('\n', f);
}

static void
time_field(FILE *f, const json_t *a, const char *key)
{
	const char *s = json_string_value(json_object_get(a, key));
	char b[64], line[256];

	if (s == NULL || *s == '\0')
		return;
	cli_local_time(s, b, sizeof(b));
	if (strcmp(b, s) == 0)
		snprintf(line, sizeof(line), "%s", s);
	else
		snprintf(line, sizeof(line), "%s (%s)", b, s);
	field(f, key, line);
}

/* Position of id in the chain document's alerts: "2 of 3". */
static void
chain_field(FILE *f, const json_t *a, const json_t *chain)
{
	const json_t *list = json_object_get(chain, "alerts"), *it;
	long long id = cli_jint(a, "id", 0), cid = cli_jint(a, "chain_id", 0);
	char line[128];
	size_t i, pos = 0;

	if (cid <= 0 && !json_is_array(list))
		return;
	json_array_foreach(list, i, it)
		if (cli_jint(it, "id", -1) == id)
			pos = i + 1;
	if (cid <= 0)
		cid = cli_jint(chain, "chain_id", 0);
	if (pos > 0)
		snprintf(line, sizeof(line), "%zu of %zu (chain %lld)", pos,
		    json_array_size(list), cid);
	else
		snprintf(line, sizeof(line), "%lld", cid);
	field(f, "chain", line);
}

static void
level_cell(const json_t *r, char *buf, size_t size)
{
	const json_t *lv = json_object_get(r, "level");
	const char *s;

	if (json_is_integer(lv) && (s = region_level_name((enum region_level)
	    json_integer_value(lv))) != NULL) {
		snprintf(buf, size, "%s", s);
		return;
	}
	s = cli_jstr(r, "level", buf, size);
	if (s != buf)
		snprintf(buf, size, "%s", s);
}

static void
print_targets(FILE *f, const json_t *v)
{
	static const char *const keys[] = { "code", "name", "level", "how" };
	char b[CELL_SIZE];
	size_t w[4] = { 0 }, i, k, cw;
	const json_t *r;

	json_array_foreach(v, i, r)
		for (k = 0; k < 4; k++) {
			if (k == 2)
				level_cell(r, b, sizeof(b));
			cw = cli_width(k == 2 ? b : cli_jstr(r, keys[k], b,
			    sizeof(b)));
			if (cw > w[k])
				w[k] = cw;
		}
	json_array_foreach(v, i, r) {
		fputs("  ", f);
		for (k = 0; k < 4; k++) {
			if (k == 2)
				level_cell(r, b, sizeof(b));
			cli_print_padded(f, k == 2 ? b : cli_jstr(r, keys[k],
			    b, sizeof(b)), k < 3 ? w[k] + 2 : 0);
		}
		fputc('\n', f);
	}
}

static void
print_refs(FILE *f, const json_t *v)
{
	const json_t *r, *id;
	char b[CELL_SIZE];
	size_t i;

	json_array_foreach(v, i, r) {
		fputs("  ", f);
		cli_print_padded(f, cli_jstr(r, "sender", b, sizeof(b)), 0);
		fputc(',', f);
		cli_print_padded(f, cli_jstr(r, "identifier", b, sizeof(b)), 0);
		fputc(',', f);
		cli_print_padded(f, cli_jstr(r, "sent", b, sizeof(b)), 0);
		id = json_object_get(r, "alert_id");
		if (json_is_integer(id))
			fprintf(f, "  -> alert %" JSON_INTEGER_FORMAT "\n",
			    json_integer_value(id));
		else
			fputs("  (not received)\n", f);
	}
}

static void
print_warnings(FILE *f, const json_t *v)
{
	char line[LINE_SIZE], pb[64], mb[64];
	const json_t *it;
	long long ln;
	size_t i;

	json_array_foreach(v, i, it) {
		ln = cli_jint(it, "line", 0);
		if (ln > 0)
			snprintf(line, sizeof(line), "line %lld: ", ln);
		else
			line[0] = '\0';
		fputs("  ", f);
		cli_print_padded(f, line, 0);
		if (*cli_jstr(it, "path", pb, sizeof(pb)) != '\0') {
			cli_print_padded(f, cli_jstr(it, "path", pb,
			    sizeof(pb)), 0);
			fputs(": ", f);
		}
		cli_print_padded(f, cli_jstr(it, "message", mb, sizeof(mb)),
		    0);
		fputc('\n', f);
	}
}

int
cli_alert_print(FILE *f, const struct json_t *doc,
    const struct json_t *chain)
{
	const json_t *a = json_object_get(doc, "alert"), *v;
	const char *colour, *zh;
	char b[CELL_SIZE], line[CELL_SIZE * 2];

	if (!json_is_object(a) || !json_is_integer(json_object_get(a, "id")))
		return cli_fail(CLI_SERVER, "gongd's answer has no alert");
	fprintf(f, "alert %lld: ", cli_jint(a, "id", 0));
	cli_print_padded(f, jstr_or(a, "headline", jstr_or(a, "event",
	    "(no headline)")), 0);
	fputc('\n', f);
	snprintf(line, sizeof(line), "%s (%s)", jstr_or(a, "state", "?"),
	    json_is_true(json_object_get(a, "broadcast")) ? "broadcast" :
	    "not broadcast");
	field(f, "state", line);
	colour = jstr_or(a, "colour", "none");
	zh = colour_zh(colour);
	snprintf(line, sizeof(line), "%s%s%s", colour, zh != NULL ? " " : "",
	    zh != NULL ? zh : "");
	field(f, "colour", line);
	field(f, "severity", jstr_or(a, "severity", "-"));
	field(f, "event", jstr_or(a, "event", "-"));
	snprintf(line, sizeof(line), "%s %s", jstr_or(a, "status", "?"),
	    jstr_or(a, "msg_type", "?"));
	field(f, "status", line);
	field(f, "sender", jstr_or(a, "sender", "-"));
	field(f, "identifier", jstr_or(a, "identifier", "-"));
	time_field(f, a, "sent");
	time_field(f, a, "received");
	time_field(f, a, "expires");
	if ((v = json_object_get(a, "language")) != NULL)
		field(f, "language", jstr_or(a, "language", "-"));
	field(f, "source", jstr_or(a, "source", "-"));
	if (json_is_true(json_object_get(a, "area_unmatched")))
		snprintf(line, sizeof(line), "%lld (the area matched no "
		    "region)", cli_jint(a, "regions", 0));
	else
		snprintf(line, sizeof(line), "%s", cli_jstr(a, "regions", b,
		    sizeof(b)));
	field(f, "regions", line);
	chain_field(f, a, chain);
	v = json_object_get(a, "warnings");
	if (json_array_size(v) > 0) {
		fprintf(f, "warnings (%zu):\n", json_array_size(v));
		print_warnings(f, v);
	}
	v = json_object_get(a, "references");
	if (json_array_size(v) > 0) {
		fprintf(f, "references (%zu):\n", json_array_size(v));
		print_refs(f, v);
	}
	v = json_object_get(a, "target_regions");
	if (json_array_size(v) > 0) {
		fprintf(f, "target regions (%zu):\n", json_array_size(v));
		print_targets(f, v);
	}
	return CLI_OK;
}

static const struct column chain_cols[] = {
	{ "", "id", 0 }, { "", "sent", 0 }, { "", "msg_type", 0 },
	{ "", "state", 0 }, { "", "colour", 0 },
	{ "", "headline", HEADLINE_WIDTH }, { NULL, NULL, 0 }
};

#define NCHAIN_COLS	6

static const char *
chain_cell(const json_t *row, const struct column *col, char *buf,
    size_t size)
{
	if (strcmp(col->key, "id") == 0) {
		snprintf(buf, size, "alert %lld", cli_jint(row, "id", 0));
		return buf;
	}
	return alert_cell(row, col, buf, size);
}

int
cli_chain_print(FILE *f, const struct json_t *doc, long long mark)
{
	const json_t *rows = json_object_get(doc, "alerts"), *row;
	size_t w[NCHAIN_COLS] = { 0 }, i, k, cw;
	char b[CELL_SIZE];

	if (!json_is_array(rows))
		return cli_fail(CLI_SERVER, "gongd's answer has no chain");
	fprintf(f, "chain %lld: %zu message%s\n", cli_jint(doc, "chain_id", 0),
	    json_array_size(rows), json_array_size(rows) == 1 ? "" : "s");
	json_array_foreach(rows, i, row)
		for (k = 0; chain_cols[k].key != NULL; k++) {
			cw = cli_width(chain_cell(row, &chain_cols[k], b,
			    sizeof(b)));
			if (cw > w[k])
				w[k] = cw;
		}
	json_array_foreach(rows, i, row) {
		fputs(cli_jint(row, "id", 0) == mark ? "* " : "  ", f);
		for (k = 0; chain_cols[k].key != NULL; k++)
			cli_print_padded(f, chain_cell(row, &chain_cols[k], b,
			    sizeof(b)), chain_cols[k + 1].key != NULL ?
			    w[k] + 2 : 0);
		fputc('\n', f);
	}
	return CLI_OK;
}

/* The usual option loop for commands with only global options and local
 * flags handled by fn; returns CLI_OK, CLI_USAGE, or -1 after --help. */
typedef int (*opt_fn)(struct cli_opts *, int, const char *, void *);

static int
parse_opts(int argc, char **argv, struct cli_opts *o,
    const struct option *longopts, const char *help, opt_fn fn, void *arg)
{
	int ch, rv;

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, CLI_SHORTOPTS, longopts,
	    NULL)) != -1) {
		if (ch == 'h') {
			cli_usage(stdout, help);
			return -1;
		}
		if (ch >= CLI_OPT_FIRST_LOCAL && fn != NULL)
			rv = fn(o, ch, optarg, arg);
		else
			rv = cli_opts_handle(o, ch, optarg, argv);
		if (rv != CLI_OK)
			return rv;
	}
	return CLI_OK;
}

/* HTTP statuses that are about the file sent, not about gongd or the
 * token: the per-file verdict says why. */
static int
about_file(long status)
{
	return (status >= 200 && status < 300) || status == 400 ||
	    status == 403 || status == 413 || status == 415 || status == 422;
}

/* One answer to POST /api/v1/cap: print it (or add it to arr). */
static int
send_one(struct cli_client *c, const char *file,
    const struct cli_answer *a, json_t *arr)
{
	json_t *obj;
	int rv;

	if (arr != NULL) {
		obj = json_pack("{s:s,s:I}", "file", file, "http_status",
		    (json_int_t)a->status);
		if (obj == NULL)
			return cli_fail(CLI_LOCAL, "out of memory");
		if (json_is_object(a->json))
			json_object_update(obj, a->json);
		json_array_append_new(arr, obj);
		rv = send_exit(a->status);
		if (rv == CLI_OK && !json_is_integer(json_object_get(a->json,
		    "id")))
			rv = CLI_SERVER;
		return rv;
	}
	if (about_file(a->status))
		return cli_send_print(stdout, file, a->status, a->json,
		    a->body);
	return cli_check(c, a);
}

int
cli_send(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct cli_request rq = { .method = "POST", .path = "/api/v1/cap",
	    .content_type = "application/cap+xml",
	    .timeout_s = CLI_TIMEOUT_S };
	struct cli_answer a = { 0 };
	struct cli_client c;
	struct cli_opts o;
	json_t *arr = NULL;
	const char *file, *base;
	int rv, one, worst = CLI_OK, i;
	long status;

	cli_opts_init(&o, "send");
	if ((rv = parse_opts(argc, argv, &o, longopts, send_help, NULL,
	    NULL)) != CLI_OK)
		return rv < 0 ? CLI_OK : rv;
	if (optind >= argc) {
		fprintf(stderr, "gong send: missing FILE\n"
		    "Try 'gong send --help'.\n");
		return CLI_USAGE;
	}
	if ((rv = cli_client_init(&c, &o)) != CLI_OK)
		return rv;
	if (o.json && (arr = json_array()) == NULL)
		return cli_fail(CLI_LOCAL, "out of memory");
	for (i = optind; i < argc; i++) {
		file = argv[i];
		base = strrchr(file, '/') != NULL ? strrchr(file, '/') + 1 :
		    file;
		rq.upload = file;
		rq.upload_name = *base != '\0' ? base : file;
		if ((one = cli_request(&c, &rq, &a)) == CLI_OK)
			one = send_one(&c, file, &a, arr);
		status = a.status;
		cli_answer_release(&a);
		/* A rejected file gives 1 unless something worse happened. */
		if (one != CLI_OK && (worst == CLI_OK ||
		    (worst == CLI_INVALID && one != CLI_INVALID)))
			worst = one;
		/* What would fail the same way for every other file. */
		if (one == CLI_UNREACHABLE || one == CLI_USAGE ||
		    status == 401 || status == 404)
			break;
	}
	if (arr != NULL) {
		cli_print_json(stdout, arr);
		json_decref(arr);
	}
	return worst;
}

struct alerts_args {
	const char *status;
	const char *severity;
	char region[REGION_CODE_SIZE];
	int active;
	long limit;
	long offset;
};

/* s as one of the CAP names in v (any case); NULL if it is none. */
static const char *
cap_name(const char *s, const char *const *v)
{
	for (; *v != NULL; v++)
		if (strcasecmp(s, *v) == 0)
			return *v;
	return NULL;
}

static int
alerts_opt(struct cli_opts *o, int ch, const char *arg, void *p)
{
	static const char *const statuses[] = {
		"Actual", "Exercise", "System", "Test", "Draft", NULL
	};
	static const char *const severities[] = {
		"Extreme", "Severe", "Moderate", "Minor", "Unknown", NULL
	};
	struct alerts_args *aa = p;
	struct eng_errbuf eb;

	switch (ch) {
	case OPT_STATUS:
		if ((aa->status = cap_name(arg, statuses)) == NULL) {
			fprintf(stderr, "gong alerts: bad value for --status: "
			    "'%s' (want Actual, Exercise, System, Test or "
			    "Draft)\n", arg);
			return CLI_USAGE;
		}
		return CLI_OK;
	case OPT_SEVERITY:
		if ((aa->severity = cap_name(arg, severities)) == NULL) {
			fprintf(stderr, "gong alerts: bad value for "
			    "--severity: '%s' (want Extreme, Severe, Moderate, "
			    "Minor or Unknown)\n", arg);
			return CLI_USAGE;
		}
		return CLI_OK;
	case OPT_ACTIVE:
		aa->active = 1;
		return CLI_OK;
	case OPT_REGION:
		eng_errbuf_init(&eb);
		if (region_code_norm(arg, strlen(arg), aa->region, &eb) != 0) {
			fprintf(stderr, "gong alerts: %s\n", eb.msg);
			return CLI_USAGE;
		}
		return CLI_OK;
	case OPT_LIMIT:
		return cli_parse_long(o, "limit", arg, 0, 1000000000L,
		    &aa->limit);
	case OPT_OFFSET:
		return cli_parse_long(o, "offset", arg, 0, 1000000000L,
		    &aa->offset);
	default:
		return CLI_USAGE;
	}
}

/* GET path; on CLI_OK a->json is a JSON document. */
static int
get_json(struct cli_client *c, const char *path, struct cli_answer *a)
{
	struct cli_request rq = { .path = path, .timeout_s = CLI_TIMEOUT_S };
	int rv;

	if ((rv = cli_call(c, &rq, a)) != CLI_OK)
		return rv;
	if (a->json == NULL)
		return cli_fail(CLI_SERVER, "gongd's answer is not JSON");
	return CLI_OK;
}

/* Append "&key=value" to buf (value already URL-safe). */
static void
add_param(char *buf, size_t size, const char *key, const char *value)
{
	size_t n = strlen(buf);

	snprintf(buf + n, size - n, "%s%s=%s", strchr(buf, '?') != NULL ?
	    "&" : "?", key, value);
}

int
cli_alerts(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "status", required_argument, NULL, OPT_STATUS },
		{ "active", no_argument, NULL, OPT_ACTIVE },
		{ "severity", required_argument, NULL, OPT_SEVERITY },
		{ "region", required_argument, NULL, OPT_REGION },
		{ "limit", required_argument, NULL, OPT_LIMIT },
		{ "offset", required_argument, NULL, OPT_OFFSET },
		{ NULL, 0, NULL, 0 }
	};
	struct alerts_args aa = { .limit = -1 };
	struct cli_answer a = { 0 };
	struct cli_client c;
	struct cli_opts o;
	char path[256], num[32];
	int rv;

	cli_opts_init(&o, "alerts");
	if ((rv = parse_opts(argc, argv, &o, longopts, alerts_help,
	    alerts_opt, &aa)) != CLI_OK)
		return rv < 0 ? CLI_OK : rv;
	if (optind < argc) {
		fprintf(stderr, "gong alerts: unexpected argument '%s'\n"
		    "Try 'gong alerts --help'.\n", argv[optind]);
		return CLI_USAGE;
	}
	snprintf(path, sizeof(path), "/api/v1/alerts");
	if (aa.status != NULL)
		add_param(path, sizeof(path), "status", aa.status);
	if (aa.active)
		add_param(path, sizeof(path), "active", "1");
	if (aa.severity != NULL)
		add_param(path, sizeof(path), "severity", aa.severity);
	if (aa.region[0] != '\0')
		add_param(path, sizeof(path), "region", aa.region);
	if (aa.limit >= 0) {
		snprintf(num, sizeof(num), "%ld", aa.limit);
		add_param(path, sizeof(path), "limit", num);
	}
	if (aa.offset > 0) {
		snprintf(num, sizeof(num), "%ld", aa.offset);
		add_param(path, sizeof(path), "offset", num);
	}
	if ((rv = cli_client_init(&c, &o)) != CLI_OK)
		return rv;
	if ((rv = get_json(&c, path, &a)) == CLI_OK) {
		if (o.json)
			cli_print_json(stdout, a.json);
		else
			rv = cli_alerts_print(stdout, a.json);
	}
	cli_answer_release(&a);
	return rv;
}

static int
show_opt(struct cli_opts *o, int ch, const char *arg, void *p)
{
	(void)o;
	(void)arg;
	if (ch != OPT_CAP)
		return CLI_USAGE;
	*(int *)p = 1;
	return CLI_OK;
}

/* The one ID argument. */
static int
id_arg(const struct cli_opts *o, int argc, char **argv, long long *id)
{
	long long v;
	char *end;

	if (argc - optind != 1) {
		fprintf(stderr, "gong %s: %s\nTry 'gong %s --help'.\n", o->cmd,
		    argc - optind < 1 ? "missing alert ID" :
		    "too many arguments", o->cmd);
		return CLI_USAGE;
	}
	errno = 0;
	v = strtoll(argv[optind], &end, 10);
	if (argv[optind][0] == '\0' || *end != '\0' || errno != 0 || v < 1) {
		fprintf(stderr, "gong %s: bad alert ID '%s' (want a number "
		    "from 1)\n", o->cmd, argv[optind]);
		return CLI_USAGE;
	}
	*id = v;
	return CLI_OK;
}

int
cli_show(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "cap", no_argument, NULL, OPT_CAP },
		{ NULL, 0, NULL, 0 }
	};
	struct cli_answer a = { 0 }, ch = { 0 };
	struct cli_request rq = { .timeout_s = CLI_TIMEOUT_S };
	struct cli_client c;
	struct cli_opts o;
	char path[96];
	long long id;
	int rv, cap = 0;

	cli_opts_init(&o, "show");
	if ((rv = parse_opts(argc, argv, &o, longopts, show_help, show_opt,
	    &cap)) != CLI_OK)
		return rv < 0 ? CLI_OK : rv;
	if ((rv = id_arg(&o, argc, argv, &id)) != CLI_OK)
		return rv;
	if ((rv = cli_client_init(&c, &o)) != CLI_OK)
		return rv;
	if (cap) {
		snprintf(path, sizeof(path), "/api/v1/alerts/%lld/cap", id);
		rq.path = path;
		rq.download = stdout;
		rv = cli_call(&c, &rq, &a);
		fflush(stdout);
		goto out;
	}
	snprintf(path, sizeof(path), "/api/v1/alerts/%lld", id);
	if ((rv = get_json(&c, path, &a)) != CLI_OK)
		goto out;
	if (o.json) {
		cli_print_json(stdout, a.json);
		goto out;
	}
	/* The chain only adds the position: its failure is not fatal. */
	snprintf(path, sizeof(path), "/api/v1/alerts/%lld/chain", id);
	rq.path = path;
	if (cli_request(&c, &rq, &ch) != CLI_OK || ch.status != 200) {
		cli_answer_release(&ch);
		memset(&ch, 0, sizeof(ch));
	}
	rv = cli_alert_print(stdout, a.json, ch.json);
out:
	cli_answer_release(&ch);
	cli_answer_release(&a);
	return rv;
}

int
cli_chain(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct cli_answer a = { 0 };
	struct cli_client c;
	struct cli_opts o;
	char path[96];
	long long id;
	int rv;

	cli_opts_init(&o, "chain");
	if ((rv = parse_opts(argc, argv, &o, longopts, chain_help, NULL,
	    NULL)) != CLI_OK)
		return rv < 0 ? CLI_OK : rv;
	if ((rv = id_arg(&o, argc, argv, &id)) != CLI_OK)
		return rv;
	if ((rv = cli_client_init(&c, &o)) != CLI_OK)
		return rv;
	snprintf(path, sizeof(path), "/api/v1/alerts/%lld/chain", id);
	if ((rv = get_json(&c, path, &a)) == CLI_OK) {
		if (o.json)
			cli_print_json(stdout, a.json);
		else
			rv = cli_chain_print(stdout, a.json, id);
	}
	cli_answer_release(&a);
	return rv;
}
