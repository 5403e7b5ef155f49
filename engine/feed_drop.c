/*
 * engine/feed_drop.c - a watched drop folder: CAP files renamed into it
 * are ingested and moved to done/ or rejected/ (with NAME.err beside).
 *
 * The files of one scan are stored in commits of up to DROP_BATCH
 * (engine/ingest.h ingest_batch_begin): one durable write for them all,
 * and a file moves to done/ only once the commit holding it returned —
 * a crash before that leaves it in the folder, to be taken again (a
 * duplicate then, if the commit did land).
 */
#include "engine/feeds_int.h"
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

/* Returns 1 if the file was moved, 0 if left (ignored, to retry, or
 * stored in the batch: moved once it is committed). */
static int
handle(struct feed *f, struct ingest *ig, int dfd, const char *name,
    struct batch *b)
{
	struct ingest_source src = f->src;
	char actor[128];
	struct ingest_result res;
	struct diag_list diags;
	struct eng_errbuf eb;
	char moved[4200], verdict[700], q[600], qe[700];
	struct stat sb;
	char *buf = NULL;
	size_t len = 0;
	int fd, rv, done = 0;

	diag_list_init(&diags);
	eng_errbuf_init(&eb);
	memset(&res, 0, sizeof(res));
	(void)log_q(name, q, sizeof(q));
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC);
	if (fd < 0)
		return 0;	/* gone, a symlink, unreadable: not ours */
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		(void)close(fd);
		return 0;
	}
	if ((uint64_t)sb.st_size > f->max_bytes)
		rv = ENG_ETOOBIG;
	else
		rv = read_bounded(fd, (size_t)sb.st_size, f->max_bytes, &buf,
		    &len);
	(void)close(fd);
	if (rv == ENG_ETOOBIG)
		(void)eng_error(&eb, rv, "%lld bytes is over the feed's "
		    "limit of %zu bytes", (long long)sb.st_size,
		    f->max_bytes);
	else if (rv == ENG_EIO)
		(void)eng_error(&eb, rv, "cannot read the file: %s",
		    strerror(errno));
	src.via = "drop";
	(void)snprintf(actor, sizeof(actor), "feed:%s", f->name);
	src.audit_actor = actor;
	if (rv == 0)
		rv = ingest_cap(ig, &src, buf, len, &res, &diags, &eb);
	free(buf);

	if (rv == 0 && b->open) {
		struct stored *st = &b->v[b->n];

		if ((st->name = strdup(name)) == NULL) {
			/* Stored, but we cannot remember it: the file stays
			 * and is a duplicate next time. */
			log_error("feed.drop.nomem", "feed=%s file=%s", f->name,
			    q);
			goto out;
		}
		st->res = res;
		st->nwarnings = diags.nwarnings;
		b->n++;
		goto out;
	}
	if (rv == 0) {
		if (move_to(dfd, name, "done", 0, moved, sizeof(moved)) != 0) {
			log_error("feed.drop.move", "feed=%s file=%s msg=%s",
			    f->name, q, log_q(strerror(errno), qe,
			    sizeof(qe)));
			goto out;
		}
		log_info("feed.drop.stored", "feed=%s file=%s alert_id=%lld "
		    "duplicate=%d state=%s regions=%zu warnings=%zu",
		    f->name, q, res.alert_id, res.duplicate,
		    res.duplicate ? "-" : ingest_state_name(res.state),
		    res.nregions, diags.nwarnings);
		done = 1;
	} else if (rv == ENG_EINVAL || rv == ENG_ETOOBIG || rv == ENG_EPERM) {
		if (eb.msg[0] != '\0')
			(void)snprintf(verdict, sizeof(verdict), "%s: %s",
			    verdict_of(rv), eb.msg);
		else
			(void)snprintf(verdict, sizeof(verdict), "%s",
			    verdict_of(rv));
		if (move_to(dfd, name, "rejected", 1, moved,
		    sizeof(moved)) != 0) {
			log_error("feed.drop.move", "feed=%s file=%s msg=%s",
			    f->name, q, log_q(strerror(errno), qe,
			    sizeof(qe)));
			goto out;
		}
		if (write_err(dfd, moved, name, verdict, &diags) != 0)
			log_error("feed.drop.err_file", "feed=%s file=%s "
			    "msg=\"cannot write the .err file\"", f->name, q);
		log_warn("feed.drop.rejected", "feed=%s file=%s errors=%zu "
		    "msg=%s", f->name, q, diags.nerrors,
		    log_q(verdict, qe, sizeof(qe)));
		done = 1;
	} else {
		log_warn("feed.drop.retry", "feed=%s file=%s err=%s msg=%s",
		    f->name, q, eng_errname(rv), log_q(eb.msg[0] ? eb.msg :
		    eng_strerror(rv), qe, sizeof(qe)));
	}
out:
	diag_list_release(&diags);
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

size_t
feed_drop_scan(struct feed *f, struct ingest *ig, const atomic_int *stop)
{
	struct dirent *de;
	struct batch b;
	struct eng_errbuf eb;
	DIR *d;
	size_t nmoved = 0;
	int dfd;

	memset(&b, 0, sizeof(b));
	if ((d = opendir(f->drop_dir)) == NULL) {
		log_warn("feed.drop.open", "feed=%s dir=%s msg=\"%s\"",
		    f->name, f->drop_dir, strerror(errno));
		return 0;
	}
	dfd = dirfd(d);
	while (!atomic_load(stop) && (errno = 0, de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || ends_with(de->d_name, ".tmp") ||
		    ends_with(de->d_name, ".part"))
			continue;
		if (de->d_type != DT_REG && de->d_type != DT_UNKNOWN)
			continue;
		if (!b.open) {
			eng_errbuf_init(&eb);
			/* Without a batch each file is its own commit. */
			b.open = ingest_batch_begin(ig, &eb) == 0;
		}
		nmoved += (size_t)handle(f, ig, dfd, de->d_name, &b);
		if (b.n == DROP_BATCH)
			nmoved += batch_end(f, ig, dfd, &b);
	}
	nmoved += batch_end(f, ig, dfd, &b);
	(void)closedir(d);
	return nmoved;
}
