/*
 * engine/feed_drop.c - a watched drop folder: CAP files renamed into it
 * are ingested and moved to done/ or rejected/ (with NAME.err beside).
 *
 * The files of one scan are stored in commits of up to DROP_BATCH
 * (engine/ingest.h ingest_batch_begin): one durable write for them all,
 * and a file moves to done/ only once the commit holding it returned —
 * a crash before that leaves it in the folder, to be taken again (a
 * duplicate then, if the commit did land).
 *
 * The files are parsed on a worker thread (engine/ingest_pipe.h) up to
 * DROP_AHEAD files ahead of the one being stored, also while a batch
 * commits; each is stored, in the order read, exactly as ingest_cap
 * would store it.  Without a pipe (no thread) the scan ingests each
 * file with ingest_cap.
 */
#include "engine/feeds_int.h"
#include "engine/ingest_pipe.h"
#include "engine/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DROP_BATCH	32	/* files per commit */
#define DROP_AHEAD	8	/* files read and parsed ahead */

/* Stored in the open batch, to move to done/ after its commit. */
struct stored {
	char *name;
	struct ingest_result res;
	size_t nwarnings;
};

struct batch {
	struct stored v[DROP_BATCH];
	size_t n;
	int open;
};

#define DIR_MODE	0750
#define MAX_SUFFIX	10000

/* mkdir -p: the missing components are made with DIR_MODE. */
static int
mkdir_p(const char *path, struct eng_errbuf *eb)
{
	char buf[4096];
	size_t i, n = strlen(path);

	if (n == 0 || n >= sizeof(buf))
		return eng_error(eb, ENG_EINVAL, "bad directory '%s'", path);
	memcpy(buf, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, DIR_MODE) != 0 && errno != EEXIST)
			return eng_error(eb, ENG_EIO, "cannot create %s: %s",
			    buf, strerror(errno));
		buf[i] = path[i];
	}
	return 0;
}

int
feed_drop_prepare(const struct feed *f, struct eng_errbuf *eb)
{
	static const char *const sub[] = { "", "/done", "/rejected" };
	char path[4096];
	struct stat sb;
	size_t i;
	int rv;

	for (i = 0; i < 3; i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s%s", f->drop_dir,
		    sub[i]) >= sizeof(path))
			return eng_error(eb, ENG_EINVAL, "drop_dir too long");
		if ((rv = mkdir_p(path, eb)) != 0)
			return rv;
		if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode))
			return eng_error(eb, ENG_EIO, "%s is not a directory",
			    path);
	}
	return 0;
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/*
 * Move name (in dfd) to sub/name, or sub/name.N when taken (for
 * rejected/ also name.err must be free).  The chosen name goes to out.
 * Returns 0 or ENG_EIO.
 */
static int
move_to(int dfd, const char *name, const char *sub, int with_err,
    char *out, size_t outsz)
{
	char err[4200];
	unsigned k;

	for (k = 0; k < MAX_SUFFIX; k++) {
		if (k == 0) {
			if ((size_t)snprintf(out, outsz, "%s/%s", sub, name)
			    >= outsz)
				return ENG_EIO;
		} else if ((size_t)snprintf(out, outsz, "%s/%s.%u", sub, name,
		    k) >= outsz)
			return ENG_EIO;
		if (with_err) {
			if ((size_t)snprintf(err, sizeof(err), "%s.err", out)
			    >= sizeof(err))
				return ENG_EIO;
			if (faccessat(dfd, err, F_OK, AT_SYMLINK_NOFOLLOW)
			    == 0)
				continue;
		}
		if (renameat2(dfd, name, dfd, out, RENAME_NOREPLACE) == 0)
			return 0;
		if (errno == EEXIST)
			continue;
		if (errno == EINVAL || errno == ENOSYS) {
			/* No RENAME_NOREPLACE here: check, then rename. */
			if (faccessat(dfd, out, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
				continue;
			if (renameat(dfd, name, dfd, out) == 0)
				return 0;
		}
		return ENG_EIO;
	}
	return ENG_EIO;
}

/* Write rejected/X.err: the verdict, then one line per diagnostic. */
static int
write_err(int dfd, const char *moved, const char *name,
    const char *verdict, const struct diag_list *diags)
{
	char path[4200], line[2048];
	struct diag d;
	FILE *fp;
	size_t i;
	int fd, ok;

	if ((size_t)snprintf(path, sizeof(path), "%s.err", moved) >=
	    sizeof(path))
		return ENG_EIO;
	fd = openat(dfd, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0640);
	if (fd < 0)
		return ENG_EIO;
	if ((fp = fdopen(fd, "w")) == NULL) {
		(void)close(fd);
		return ENG_EIO;
	}
	ok = fprintf(fp, "%s: %s\n", name, verdict) > 0;
	for (i = 0; ok && diags != NULL && i < diags->n; i++) {
		d = diags->v[i];
		d.file = (char *)name;
		ok = fprintf(fp, "%s\n", diag_format(&d, line,
		    sizeof(line))) > 0;
	}
	if (ok && diags != NULL && diags->dropped > 0)
		ok = fprintf(fp, "%s: %zu more not shown\n", name,
		    diags->dropped) > 0;
	ok = (fclose(fp) == 0) && ok;
	return ok ? 0 : ENG_EIO;
}

/*
 * Read the regular file fd (size bytes at the last fstat) into *buf, at
 * most max bytes: ENG_ETOOBIG past that, ENG_EIO, ENG_ENOMEM.
 */
static int
read_bounded(int fd, size_t size, size_t max, char **buf, size_t *len)
{
	size_t cap = size < max ? size + 1 : max + 1, n = 0;
	char *b, *nb;
	ssize_t r;

	*buf = NULL;
	*len = 0;
	if ((b = malloc(cap + 1)) == NULL)
		return ENG_ENOMEM;
	for (;;) {
		if (n == cap) {
			if (n > max)
				break;
			cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			if ((nb = realloc(b, cap + 1)) == NULL) {
				free(b);
				return ENG_ENOMEM;
			}
			b = nb;
		}
		r = read(fd, b + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(b);
			return ENG_EIO;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > max) {
		free(b);
		return ENG_ETOOBIG;
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
}

static const char *
verdict_of(int rv)
{
	switch (rv) {
	case ENG_EINVAL:
		return "rejected: invalid CAP";
	case ENG_ETOOBIG:
		return "rejected: too large";
	case ENG_EPERM:
		return "rejected: not allowed for this feed";
	default:
		return "rejected";
	}
}

/*
 * Read name (in dfd) for ingest into *buf / *len (malloc'd).  Returns 0,
 * or ENG_ETOOBIG / ENG_EIO / ENG_ENOMEM with eb; *theirs set when the
 * file is not ours to take (gone, a symlink, not regular: left alone).
 */
static int
load(struct feed *f, int dfd, const char *name, char **buf, size_t *len,
    int *theirs, struct eng_errbuf *eb)
{
	struct stat sb;
	int fd, rv;

	*buf = NULL;
	*len = 0;
	*theirs = 0;
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		if (fd >= 0)
			(void)close(fd);
		*theirs = 1;	/* gone, a symlink, unreadable: not ours */
		return 0;
	}
	if ((uint64_t)sb.st_size > f->max_bytes)
		rv = ENG_ETOOBIG;
	else
		rv = read_bounded(fd, (size_t)sb.st_size, f->max_bytes, buf,
		    len);
	(void)close(fd);
	if (rv == ENG_ETOOBIG)
		(void)eng_error(eb, rv, "%lld bytes is over the feed's "
		    "limit of %zu bytes", (long long)sb.st_size,
		    f->max_bytes);
	else if (rv == ENG_EIO)
		(void)eng_error(eb, rv, "cannot read the file: %s",
		    strerror(errno));
	return rv;
}

/*
 * What to do with name once its ingest answered rv (res, diags, eb):
 * remember it in the open batch, move it to done/ or rejected/, or leave
 * it to retry.  Returns 1 if the file was moved, 0 if left (to retry, or
 * stored in the batch: moved once it is committed).
 */
static int
finish(struct feed *f, int dfd, const char *name, int rv,
    const struct ingest_result *res, const struct diag_list *diags,
    const struct eng_errbuf *eb, struct batch *b)
{
	char moved[4200], verdict[700], q[600], qe[700];
	int done = 0;

	(void)log_q(name, q, sizeof(q));
	if (rv == 0 && b->open) {
		struct stored *st = &b->v[b->n];

		if ((st->name = strdup(name)) == NULL) {
			/* Stored, but we cannot remember it: the file stays
			 * and is a duplicate next time. */
			log_error("feed.drop.nomem", "feed=%s file=%s", f->name,
			    q);
			return 0;
		}
		st->res = *res;
		st->nwarnings = diags->nwarnings;
		b->n++;
		return 0;
	}
	if (rv == 0) {
		if (move_to(dfd, name, "done", 0, moved, sizeof(moved)) != 0) {
			log_error("feed.drop.move", "feed=%s file=%s msg=%s",
			    f->name, q, log_q(strerror(errno), qe,
			    sizeof(qe)));
			return 0;
		}
		log_info("feed.drop.stored", "feed=%s file=%s alert_id=%lld "
		    "duplicate=%d state=%s regions=%zu warnings=%zu",
		    f->name, q, res->alert_id, res->duplicate,
		    res->duplicate ? "-" : ingest_state_name(res->state),
		    res->nregions, diags->nwarnings);
		done = 1;
	} else if (rv == ENG_EINVAL || rv == ENG_ETOOBIG || rv == ENG_EPERM) {
		if (eb->msg[0] != '\0')
			(void)snprintf(verdict, sizeof(verdict), "%s: %s",
			    verdict_of(rv), eb->msg);
		else
			(void)snprintf(verdict, sizeof(verdict), "%s",
			    verdict_of(rv));
		if (move_to(dfd, name, "rejected", 1, moved,
		    sizeof(moved)) != 0) {
			log_error("feed.drop.move", "feed=%s file=%s msg=%s",
			    f->name, q, log_q(strerror(errno), qe,
			    sizeof(qe)));
			return 0;
		}
		if (write_err(dfd, moved, name, verdict, diags) != 0)
			log_error("feed.drop.err_file", "feed=%s file=%s "
			    "msg=\"cannot write the .err file\"", f->name, q);
		log_warn("feed.drop.rejected", "feed=%s file=%s errors=%zu "
		    "msg=%s", f->name, q, diags->nerrors,
		    log_q(verdict, qe, sizeof(qe)));
		done = 1;
	} else {
		log_warn("feed.drop.retry", "feed=%s file=%s err=%s msg=%s",
		    f->name, q, eng_errname(rv), log_q(eb->msg[0] ? eb->msg :
		    eng_strerror(rv), qe, sizeof(qe)));
	}
	return done;
}

/* Commit the batch, then move its files to done/ (or, when the commit
 * failed, leave them to be taken again).  Returns the files moved. */
static size_t
batch_end(struct feed *f, struct ingest *ig, int dfd, struct batch *b)
{
	struct eng_errbuf eb;
	char moved[4200], q[600], qe[700];
	size_t i, nmoved = 0;
	int ok;

	if (!b->open)
		return 0;
	eng_errbuf_init(&eb);
	ok = ingest_batch_end(ig, 1, &eb) == 0;
	b->open = 0;
	if (!ok)
		log_warn("feed.drop.retry", "feed=%s files=%zu msg=%s",
		    f->name, b->n, log_q(eb.msg, qe, sizeof(qe)));
	for (i = 0; i < b->n; i++) {
		struct stored *st = &b->v[i];

		(void)log_q(st->name, q, sizeof(q));
		if (ok && move_to(dfd, st->name, "done", 0, moved,
		    sizeof(moved)) != 0)
			log_error("feed.drop.move", "feed=%s file=%s msg=%s",
			    f->name, q, log_q(strerror(errno), qe,
			    sizeof(qe)));
		else if (ok) {
			log_info("feed.drop.stored", "feed=%s file=%s "
			    "alert_id=%lld duplicate=%d state=%s regions=%zu "
			    "warnings=%zu", f->name, q, st->res.alert_id,
			    st->res.duplicate, st->res.duplicate ? "-" :
			    ingest_state_name(st->res.state),
			    st->res.nregions, st->nwarnings);
			nmoved++;
		}
		free(st->name);
	}
	b->n = 0;
	return nmoved;
}

/* A file read and queued in the pipe, waiting to be stored. */
struct ahead {
	char *name;
	char *buf;
	struct diag_list diags;
};

/* A scan's state: the feed's source, the batch, the pipe (or NULL). */
struct scan {
	struct feed *f;
	struct ingest *ig;
	int dfd;
	struct ingest_source src;
	char actor[128];
	struct batch b;
	struct ingest_pipe *pipe;
	struct ahead ahead[DROP_AHEAD];
	size_t nput;		/* files put in the pipe */
	size_t nmoved;
};

/* Open a batch when none is: without one each file is its own commit. */
static void
batch_open(struct scan *sc)
{
	struct eng_errbuf eb;

	if (!sc->b.open) {
		eng_errbuf_init(&eb);
		sc->b.open = ingest_batch_begin(sc->ig, &eb) == 0;
	}
}

/* Store the oldest file of the pipe and act on the outcome. */
static void
take_one(struct scan *sc)
{
	struct ingest_result res;
	struct eng_errbuf eb;
	struct ahead *ah;
	void *tag;
	int rv;

	batch_open(sc);
	eng_errbuf_init(&eb);
	rv = ingest_pipe_take(sc->pipe, &res, &tag, &eb);
	if (rv == ENG_ENOENT && tag == NULL)
		return;
	ah = tag;
	sc->nmoved += (size_t)finish(sc->f, sc->dfd, ah->name, rv, &res,
	    &ah->diags, &eb, &sc->b);
	diag_list_release(&ah->diags);
	free(ah->name);
	free(ah->buf);
	ah->name = ah->buf = NULL;
	if (sc->b.n == DROP_BATCH)
		sc->nmoved += batch_end(sc->f, sc->ig, sc->dfd, &sc->b);
}

/* One file of the folder: read it, then ingest it now (no pipe) or queue
 * it in the pipe. */
static void
one_file(struct scan *sc, const char *name)
{
	struct ingest_result res;
	struct diag_list diags;
	struct eng_errbuf eb;
	struct ahead *ah;
	char *buf;
	size_t len;
	int rv, theirs;

	eng_errbuf_init(&eb);
	diag_list_init(&diags);
	memset(&res, 0, sizeof(res));
	rv = load(sc->f, sc->dfd, name, &buf, &len, &theirs, &eb);
	if (theirs)
		return;
	if (rv == 0 && sc->pipe != NULL) {
		while (ingest_pipe_queued(sc->pipe) >= DROP_AHEAD)
			take_one(sc);
		ah = &sc->ahead[sc->nput % DROP_AHEAD];
		if ((ah->name = strdup(name)) != NULL) {
			ah->buf = buf;
			diag_list_init(&ah->diags);
			if (ingest_pipe_put(sc->pipe, &sc->src, buf, len,
			    &ah->diags, ah) == 0) {
				sc->nput++;
				return;
			}
			free(ah->name);
			ah->name = ah->buf = NULL;
		}
		/* Cannot queue it: in the pipe's turn, then now. */
		while (ingest_pipe_queued(sc->pipe) > 0)
			take_one(sc);
	}
	batch_open(sc);
	if (rv == 0)
		rv = ingest_cap(sc->ig, &sc->src, buf, len, &res, &diags, &eb);
	free(buf);
	sc->nmoved += (size_t)finish(sc->f, sc->dfd, name, rv, &res, &diags,
	    &eb, &sc->b);
	diag_list_release(&diags);
	if (sc->b.n == DROP_BATCH)
		sc->nmoved += batch_end(sc->f, sc->ig, sc->dfd, &sc->b);
}

size_t
feed_drop_scan(struct feed *f, struct ingest *ig, const atomic_int *stop)
{
	struct dirent *de;
	struct eng_errbuf eb;
	struct scan *sc;
	DIR *d;
	size_t nmoved;
	int tried = 0;

	if ((sc = calloc(1, sizeof(*sc))) == NULL) {
		log_error("feed.drop.nomem", "feed=%s", f->name);
		return 0;
	}
	if ((d = opendir(f->drop_dir)) == NULL) {
		log_warn("feed.drop.open", "feed=%s dir=%s msg=\"%s\"",
		    f->name, f->drop_dir, strerror(errno));
		free(sc);
		return 0;
	}
	sc->f = f;
	sc->ig = ig;
	sc->dfd = dirfd(d);
	sc->src = f->src;
	sc->src.via = "drop";
	(void)snprintf(sc->actor, sizeof(sc->actor), "feed:%s", f->name);
	sc->src.audit_actor = sc->actor;
	while (!atomic_load(stop) && (errno = 0, de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || ends_with(de->d_name, ".tmp") ||
		    ends_with(de->d_name, ".part"))
			continue;
		if (de->d_type != DT_REG && de->d_type != DT_UNKNOWN)
			continue;
		if (!tried) {	/* the first file: start the parser */
			tried = 1;
			eng_errbuf_init(&eb);
			if (ingest_pipe_new(ig, DROP_AHEAD, &sc->pipe,
			    &eb) != 0)
				sc->pipe = NULL;
		}
		one_file(sc, de->d_name);
	}
	while (sc->pipe != NULL && ingest_pipe_queued(sc->pipe) > 0)
		take_one(sc);
	sc->nmoved += batch_end(f, ig, sc->dfd, &sc->b);
	ingest_pipe_free(sc->pipe);
	(void)closedir(d);
	nmoved = sc->nmoved;
	free(sc);
	return nmoved;
}
