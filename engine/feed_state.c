/*
 * engine/feed_state.c - what a polled feed remembers across restarts:
 * the index's validators (ETag, Last-Modified) and the ids of the
 * entries already fetched, in DATA_DIR/feeds/NAME.state:
 *
 *   # gong feed state 1
 *   etag "5f2-abc"
 *   last-modified Tue, 26 Nov 2026 07:30:00 GMT
 *   id urn:oid:2.49.0.1.156.0.2026.11.26.1
 *   ...
 *
 * Ids are kept oldest first and bounded (the oldest quarter is forgotten
 * when full); a hash set answers "fetched already?".
 */
#include "engine/feeds_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATE_MAGIC "# gong feed state 1"

static uint64_t
hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

void
feed_state_init(struct feed_state *st, size_t max)
{
	memset(st, 0, sizeof(*st));
	st->max = max != 0 ? max : FEED_STATE_MAX_IDS;
}

void
feed_state_release(struct feed_state *st)
{
	size_t i, max = st->max;

	for (i = 0; i < st->n; i++)
		free(st->ids[i]);
	free(st->ids);
	free(st->slots);
	free(st->etag);
	free(st->last_modified);
	feed_state_init(st, max);
}

static int
ok_text(const char *s, size_t max)
{
	size_t n = 0;

	for (; *s != '\0'; s++, n++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return n > 0 && n <= max;
}

/* Rebuild the hash table with room for at least 2 * want entries. */
static int
rehash(struct feed_state *st, size_t want)
{
	size_t ns = 64, i, j;
	size_t *slots;

	while (ns < want * 2)
		ns *= 2;
	if ((slots = calloc(ns, sizeof(*slots))) == NULL)
		return ENG_ENOMEM;
	for (i = 0; i < st->n; i++) {
		j = (size_t)hash(st->ids[i]) & (ns - 1);
		while (slots[j] != 0)
			j = (j + 1) & (ns - 1);
		slots[j] = i + 1;
	}
	free(st->slots);
	st->slots = slots;
	st->nslots = ns;
	return 0;
}

int
feed_state_has(const struct feed_state *st, const char *id)
{
	size_t j;

	if (st->nslots == 0)
		return 0;
	j = (size_t)hash(id) & (st->nslots - 1);
	while (st->slots[j] != 0) {
		if (strcmp(st->ids[st->slots[j] - 1], id) == 0)
			return 1;
		j = (j + 1) & (st->nslots - 1);
	}
	return 0;
}

/* Forget the oldest quarter. */
static int
forget_oldest(struct feed_state *st)
{
	size_t k = st->max / 4 ? st->max / 4 : 1, i;

	if (k > st->n)
		k = st->n;
	for (i = 0; i < k; i++)
		free(st->ids[i]);
	memmove(st->ids, st->ids + k, (st->n - k) * sizeof(*st->ids));
	st->n -= k;
	return rehash(st, st->n + 1);
}

int
feed_state_add(struct feed_state *st, const char *id)
{
	char **v, *dup;
	size_t na, j;
	int rv;

	if (!ok_text(id, FEED_ID_MAX))
		return ENG_EINVAL;
	if (feed_state_has(st, id))
		return 0;
	if (st->n >= st->max && (rv = forget_oldest(st)) != 0)
		return rv;
	if (st->n == st->alloc) {
		na = st->alloc ? st->alloc * 2 : 64;
		if ((v = realloc(st->ids, na * sizeof(*v))) == NULL)
			return ENG_ENOMEM;
		st->ids = v;
		st->alloc = na;
	}
	if ((st->n + 1) * 2 > st->nslots && (rv = rehash(st, st->n + 1)) != 0)
		return rv;
	if ((dup = strdup(id)) == NULL)
		return ENG_ENOMEM;
	st->ids[st->n++] = dup;
	j = (size_t)hash(dup) & (st->nslots - 1);
	while (st->slots[j] != 0)
		j = (j + 1) & (st->nslots - 1);
	st->slots[j] = st->n;
	return 0;
}

static int
set_str(char **dst, const char *v)
{
	char *d = NULL;

	if (v != NULL && ok_text(v, FEED_VALIDATOR_MAX) &&
	    (d = strdup(v)) == NULL)
		return ENG_ENOMEM;
	free(*dst);
	*dst = d;
	return 0;
}

int
feed_state_set_validators(struct feed_state *st, const char *etag,
    const char *last_modified)
{
	int rv;

	if ((rv = set_str(&st->etag, etag)) != 0)
		return rv;
	return set_str(&st->last_modified, last_modified);
}

int
feed_state_load(const char *path, struct feed_state *st,
    struct eng_errbuf *eb)
{
	FILE *fp;
	struct stat sb;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	long lineno = 0;
	int rv = 0;

	if ((fp = fopen(path, "re")) == NULL) {
		if (errno == ENOENT)
			return ENG_ENOENT;
		return eng_error(eb, ENG_EIO, "cannot open %s: %s", path,
		    strerror(errno));
	}
	if (fstat(fileno(fp), &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    (uint64_t)sb.st_size > FEED_STATE_MAX_BYTES) {
		(void)fclose(fp);
		return eng_error(eb, ENG_EINVAL, "%s: not a regular file of "
		    "at most %u bytes", path, FEED_STATE_MAX_BYTES);
	}
	while ((n = getline(&line, &cap, fp)) >= 0) {
		lineno++;
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (n > 0 && line[n - 1] == '\r')
			line[--n] = '\0';
		if ((size_t)n != strlen(line)) {
			rv = eng_error(eb, ENG_EINVAL, "%s:%ld: NUL byte", path,
			    lineno);
			break;
		}
		if (lineno == 1) {
			if (strcmp(line, STATE_MAGIC) != 0) {
				rv = eng_error(eb, ENG_EINVAL, "%s: not a feed "
				    "state file (no '%s' line)", path,
				    STATE_MAGIC);
				break;
			}
			continue;
		}
		if (strncmp(line, "id ", 3) == 0)
			rv = feed_state_add(st, line + 3);
		else if (strncmp(line, "etag ", 5) == 0)
			rv = set_str(&st->etag, line + 5);
		else if (strncmp(line, "last-modified ", 14) == 0)
			rv = set_str(&st->last_modified, line + 14);
		/* Other lines: from a later version; ignored. */
		if (rv == ENG_EINVAL)
			rv = 0;		/* a bad id: forget it */
		if (rv != 0) {
			rv = eng_error(eb, rv, "out of memory");
			break;
		}
	}
	if (rv == 0 && ferror(fp))
		rv = eng_error(eb, ENG_EIO, "cannot read %s", path);
	if (rv == 0 && lineno == 0)
		rv = eng_error(eb, ENG_EINVAL, "%s: empty state file", path);
	free(line);
	(void)fclose(fp);
	if (rv != 0)
		feed_state_release(st);
	return rv;
}

int
feed_state_save(const char *path, const struct feed_state *st,
    int with_validators, struct eng_errbuf *eb)
{
	char tmp[4200];
	FILE *fp;
	size_t i;
	int fd, ok;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return eng_error(eb, ENG_EIO, "path too long: %s", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    0640);
	if (fd < 0)
		return eng_error(eb, ENG_EIO, "cannot create %s: %s", tmp,
		    strerror(errno));
	if ((fp = fdopen(fd, "w")) == NULL) {
		(void)close(fd);
		(void)unlink(tmp);
		return eng_error(eb, ENG_EIO, "cannot write %s", tmp);
	}
	ok = fprintf(fp, "%s\n", STATE_MAGIC) > 0;
	if (ok && with_validators && st->etag != NULL)
		ok = fprintf(fp, "etag %s\n", st->etag) > 0;
	if (ok && with_validators && st->last_modified != NULL)
		ok = fprintf(fp, "last-modified %s\n", st->last_modified) > 0;
	for (i = 0; ok && i < st->n; i++)
		ok = fprintf(fp, "id %s\n", st->ids[i]) > 0;
	ok = ok && fflush(fp) == 0 && fsync(fileno(fp)) == 0;
	ok = (fclose(fp) == 0) && ok;
	if (!ok || rename(tmp, path) != 0) {
		(void)eng_error(eb, ENG_EIO, "cannot write %s: %s", path,
		    strerror(errno));
		(void)unlink(tmp);
		return ENG_EIO;
	}
	return 0;
}

int64_t
feed_backoff_ms(int64_t base_ms, unsigned failures, int64_t cap_ms)
{
	int64_t d = base_ms;
	unsigned i;

	for (i = 0; i < failures && d < cap_ms; i++)
		d *= 2;
	return d < cap_ms ? d : cap_ms;
}
