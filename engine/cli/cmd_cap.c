/*
 * engine/cli/cmd_cap.c - `gong cap check [--json] [--lenient] [--cn]
 * FILE...`: validate CAP files offline.
 *
 * Prints one verdict line per file ("FILE: valid" / "FILE: INVALID")
 * followed by its diagnostics as "file:line: error: path: message", or
 * with --json one array of {"file","valid","errors","warnings"}.  Exit
 * status CLI_OK only if every file is valid, CLI_INVALID if one is not,
 * CLI_USAGE for a bad command line, CLI_LOCAL when a file cannot be read.
 */
#include "cap/cap.h"
#include "engine/cli/cli.h"
#include "engine/diag.h"
#include "engine/err.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

static void
usage(void)
{
	fprintf(stderr, "usage: gong cap check [--json] [--lenient] [--cn] "
	    "[--max-bytes N] FILE...\n");
}

/* Read at most limit + 1 bytes of path (enough to know it is too big). */
static int
read_file(const char *path, size_t limit, char **out, size_t *outlen)
{
	FILE *f;
	char *buf;
	size_t n;

	if ((f = fopen(path, "rb")) == NULL)
		return -1;
	if ((buf = malloc(limit + 2)) == NULL) {
		fclose(f);
		return -1;
	}
	n = fread(buf, 1, limit + 1, f);
	if (ferror(f)) {
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	buf[n] = '\0';
	*out = buf;
	*outlen = n;
	return 0;
}

static json_t *
diag_json(const struct diag *d)
{
	return json_pack("{s:I,s:s?,s:s}", "line", (json_int_t)d->line,
	    "path", d->path, "message", d->msg);
}

int
cli_cap(int argc, char **argv)
{
	struct cap_opts o;
	struct diag_list dl;
	struct eng_errbuf eb;
	struct cap_alert *a;
	json_t *arr = NULL, *obj, *errs, *warns;
	int json = 0, i, rc = CLI_OK, r;
	char *buf, line[2048], *end;
	size_t len, k;
	long long v;

	cap_opts_init(&o);
	if (argc < 2 || strcmp(argv[1], "check") != 0) {
		usage();
		return CLI_USAGE;
	}
	for (i = 2; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (strcmp(argv[i], "--lenient") == 0)
			o.lenient = 1;
		else if (strcmp(argv[i], "--cn") == 0)
			o.cn_profile = 1;
		else if (strcmp(argv[i], "--max-bytes") == 0 && i + 1 < argc) {
			errno = 0;
			v = strtoll(argv[++i], &end, 10);
			if (errno != 0 || *end != '\0' || v <= 0) {
				usage();
				return CLI_USAGE;
			}
			o.max_bytes = (size_t)v;
		} else {
			usage();
			return CLI_USAGE;
		}
	}
	if (i >= argc) {
		usage();
		return CLI_USAGE;
	}
	if (json && (arr = json_array()) == NULL)
		return CLI_LOCAL;
	cap_global_init();
	for (; i < argc; i++) {
		diag_list_init(&dl);
		eng_errbuf_init(&eb);
		a = NULL;
		if (read_file(argv[i], o.max_bytes, &buf, &len) != 0) {
			fprintf(stderr, "gong: %s: %s\n", argv[i],
			    strerror(errno));
			rc = CLI_LOCAL;
			continue;
		}
		o.source_name = argv[i];
		r = cap_parse(buf, len, &o, &a, &dl, &eb);
		free(buf);
		if (r == ENG_ENOMEM) {
			fprintf(stderr, "gong: %s: out of memory\n", argv[i]);
			rc = CLI_LOCAL;
		} else if (r != 0 && rc == CLI_OK)
			rc = CLI_INVALID;
		if (json) {
			errs = json_array();
			warns = json_array();
			for (k = 0; k < dl.n; k++)
				json_array_append_new(dl.v[k].sev ==
				    DIAG_ERROR ? errs : warns,
				    diag_json(&dl.v[k]));
			obj = json_pack("{s:s,s:b,s:o,s:o}", "file", argv[i],
			    "valid", r == 0, "errors", errs, "warnings",
			    warns);
			json_array_append_new(arr, obj);
		} else {
			printf("%s: %s\n", argv[i], r == 0 ? "valid" :
			    "INVALID");
			for (k = 0; k < dl.n; k++)
				printf("%s\n", diag_format(&dl.v[k], line,
				    sizeof(line)));
			if (dl.dropped > 0)
				printf("%s: ... %zu more not shown\n", argv[i],
				    dl.dropped);
		}
		cap_alert_free(a);
		diag_list_release(&dl);
	}
	if (json) {
		char *s = json_dumps(arr, JSON_INDENT(2));

		if (s != NULL) {
			printf("%s\n", s);
			free(s);
		} else
			rc = CLI_LOCAL;
		json_decref(arr);
	}
	cap_global_cleanup();
	return rc;
}
