/*
 * engine/cli/cmd_backup.c - `gong backup FILE`: download gongd's online
 * copy of the store to FILE.tmp, check that it opens as a gong database
 * (engine/store.h) and count what it holds, fsync, and move it to FILE.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/cli/cli.h"
#include "engine/cli/client.h"
#include "engine/store.h"

static const char backup_help[] =
    "usage: gong backup FILE [--force] [options]\n"
    "\n"
    "Download a consistent copy of gongd's database (taken while gongd\n"
    "keeps running) to FILE.  The copy is written to FILE.tmp, opened to\n"
    "check that it is a readable gong database, synced to disk and then\n"
    "moved to FILE.  To restore, stop gongd and put FILE in place of\n"
    "DATA_DIR/gong.db (removing gong.db-wal and gong.db-shm).\n"
    "\n"
    "  --force            overwrite FILE if it exists\n";

enum {
	OPT_FORCE = CLI_OPT_FIRST_LOCAL,
};

/* Check the copy; fills counts.  Removes SQLite's side files. */
static int
verify(const char *tmp, struct store_counts *counts)
{
	struct eng_errbuf eb;
	struct store *s = NULL;
	char side[PATH_MAX + 8];	/* tmp is shorter than PATH_MAX */
	int rv = CLI_OK;

	eng_errbuf_init(&eb);
	if (store_open(tmp, STORE_READONLY | STORE_NOMIGRATE, &s, &eb) != 0 ||
	    store_counts(s, counts, &eb) != 0)
		rv = cli_fail(CLI_SERVER, "the backup is not a readable gong "
		    "database: %s", eb.msg);
	store_close(s);
	snprintf(side, sizeof(side), "%s-wal", tmp);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", tmp);
	unlink(side);
	return rv;
}

static int
sync_dir(const char *file)
{
	char dir[PATH_MAX];
	char *slash;
	int fd, rv = 0;

	snprintf(dir, sizeof(dir), "%s", file);
	if ((slash = strrchr(dir, '/')) == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -errno;
	if (fsync(fd) != 0)
		rv = -errno;
	close(fd);
	return rv;
}

static int
download(struct cli_client *c, const char *tmp, long long *bytes)
{
	struct cli_request rq = { .path = "/api/v1/backup", .timeout_s = 0 };
	struct cli_answer a = { 0 };
	FILE *f = NULL;
	int fd, rv;

	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) < 0)
		return cli_fail(CLI_LOCAL, "cannot create %s: %s", tmp,
		    strerror(errno));
	if ((f = fdopen(fd, "wb")) == NULL) {
		rv = cli_fail(CLI_LOCAL, "cannot open %s: %s", tmp,
		    strerror(errno));
		close(fd);
		return rv;
	}
	rq.download = f;
	rv = cli_call(c, &rq, &a);
	*bytes = a.streamed;
	cli_answer_release(&a);
	if (rv == CLI_OK && (fflush(f) != 0 || fsync(fileno(f)) != 0))
		rv = cli_fail(CLI_LOCAL, "cannot write %s: %s", tmp,
		    strerror(errno));
	if (fclose(f) != 0 && rv == CLI_OK)
		rv = cli_fail(CLI_LOCAL, "cannot write %s: %s", tmp,
		    strerror(errno));
	if (rv == CLI_OK && *bytes == 0)
		rv = cli_fail(CLI_SERVER, "gongd sent an empty backup");
	return rv;
}

/* Move tmp to file; without force, never replace an existing file. */
static int
install(const char *tmp, const char *file, int force)
{
	int rv;

	if (force) {
		if (rename(tmp, file) != 0)
			return cli_fail(CLI_LOCAL, "cannot rename %s to %s: %s",
			    tmp, file, strerror(errno));
	} else {
		if (link(tmp, file) != 0)
			return cli_fail(CLI_LOCAL, "cannot create %s: %s%s",
			    file, strerror(errno), errno == EEXIST ?
			    " (use --force to overwrite)" : "");
		unlink(tmp);
	}
	if ((rv = sync_dir(file)) != 0)
		return cli_fail(CLI_LOCAL, "cannot sync the directory of %s: "
		    "%s", file, strerror(-rv));
	return CLI_OK;
}

static void
report(const struct cli_opts *o, const char *url, const char *file,
    long long bytes, const struct store_counts *n)
{
	json_t *j;

	if (!o->json) {
		printf("backup of gongd at %s written to %s (%lld bytes)\n"
		    "  regions:    %lld\n  responders: %lld\n"
		    "  devices:    %lld\n", url, file, bytes, n->regions,
		    n->responders, n->devices);
		return;
	}
	j = json_pack("{s:s, s:s, s:I, s:{s:I, s:I, s:I}}", "url", url,
	    "file", file, "bytes", (json_int_t)bytes, "counts",
	    "regions", (json_int_t)n->regions,
	    "responders", (json_int_t)n->responders,
	    "devices", (json_int_t)n->devices);
	if (j != NULL)
		cli_print_json(stdout, j);
	json_decref(j);
}

int
cli_backup(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "force", no_argument, NULL, OPT_FORCE },
		{ NULL, 0, NULL, 0 }
	};
	struct store_counts counts = { 0 };
	struct cli_client c;
	struct cli_opts o;
	struct stat st;
	char tmp[PATH_MAX];
	const char *file;
	long long bytes = 0;
	int ch, rv, force = 0;

	cli_opts_init(&o, "backup");
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, CLI_SHORTOPTS, longopts,
	    NULL)) != -1) {
		if (ch == 'h') {
			cli_usage(stdout, backup_help);
			return CLI_OK;
		}
		if (ch == OPT_FORCE)
			force = 1;
		else if ((rv = cli_opts_handle(&o, ch, optarg, argv)) !=
		    CLI_OK)
			return rv;
	}
	if (argc - optind != 1) {
		fprintf(stderr, "gong backup: want one FILE\n"
		    "Try 'gong backup --help'.\n");
		return CLI_USAGE;
	}
	file = argv[optind];
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", file) >= sizeof(tmp))
		return cli_fail(CLI_USAGE, "file name too long");
	if (lstat(file, &st) == 0) {
		if (!force)
			return cli_fail(CLI_LOCAL, "%s exists (use --force to "
			    "overwrite)", file);
		if (!S_ISREG(st.st_mode))
			return cli_fail(CLI_LOCAL, "%s is not a regular file",
			    file);
	}
	if ((rv = cli_client_init(&c, &o)) != CLI_OK)
		return rv;
	if ((rv = download(&c, tmp, &bytes)) == CLI_OK &&
	    (rv = verify(tmp, &counts)) == CLI_OK &&
	    (rv = install(tmp, file, force)) == CLI_OK)
		report(&o, c.url, file, bytes, &counts);
	if (rv != CLI_OK)
		unlink(tmp);
	return rv;
}
