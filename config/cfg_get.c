/*
 * config/cfg_get.c - typed values out of config nodes, with diagnostics
 * that name file, line and key path.
 */
#include "config/cfg_int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Longest scalar quoted back in a message. */
#define SHOW_MAX 60

static int
vreport(struct diag_list *diags, enum diag_sev sev, const struct cfg_node *n,
    const char *fmt, va_list ap)
{
	char msg[1024];
	const char *path;

	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	path = n != NULL && n->path != NULL && n->path[0] != '\0' ?
	    n->path : NULL;
	(void)diag_add(diags, sev, cfg_node_file(n), cfg_node_line(n), path,
	    "%s", msg);
	return sev == DIAG_ERROR ? ENG_EINVAL : 0;
}

int
cfg_error(struct diag_list *diags, const struct cfg_node *n,
    const char *fmt, ...)
{
	va_list ap;
	int rv;

	va_start(ap, fmt);
	rv = vreport(diags, DIAG_ERROR, n, fmt, ap);
	va_end(ap);
	return rv;
}

int
cfg_warn(struct diag_list *diags, const struct cfg_node *n,
    const char *fmt, ...)
{
	va_list ap;
	int rv;

	va_start(ap, fmt);
	rv = vreport(diags, DIAG_WARNING, n, fmt, ap);
	va_end(ap);
	return rv;
}

/* Length to show of a scalar in messages (whole UTF-8 characters). */
static int
show_len(const struct cfg_node *n)
{
	size_t k = n->slen;

	if (k <= SHOW_MAX)
		return (int)k;
	k = SHOW_MAX;
	while (k > 0 && ((unsigned char)n->str[k] & 0xc0) == 0x80)
		k--;
	return (int)k;
}

int
cfg_expect_kind(const struct cfg_node *n, enum cfg_kind k,
    struct diag_list *diags)
{
	if (n == NULL)
		return ENG_EINVAL;
	if (n->kind == k)
		return 0;
	return cfg_error(diags, n, "expected a %s, found a %s",
	    cfg_kind_name(k), cfg_kind_name(n->kind));
}

size_t
cfg_edit_distance(const char *a, const char *b, size_t cap)
{
	size_t la = strlen(a), lb = strlen(b), i, j, best;
	size_t row[65], prev, tmp;

	if (la > 64 || lb > 64)
		return cap + 1;
	if ((la > lb ? la - lb : lb - la) > cap)
		return cap + 1;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		best = row[0];
		for (j = 1; j <= lb; j++) {
			size_t sub = prev + (a[i - 1] != b[j - 1]);
			size_t del = row[j] + 1, ins = row[j - 1] + 1;

			tmp = row[j];
			row[j] = sub < del ? sub : del;
			if (ins < row[j])
				row[j] = ins;
			prev = tmp;
			if (row[j] < best)
				best = row[j];
		}
		if (best > cap)
			return cap + 1;
	}
	return row[lb];
}

int
cfg_check_keys(const struct cfg_node *map, const char *const *allowed,
    struct diag_list *diags)
{
	const struct cfg_node *k;
	const char *best;
	char list[512];
	size_t i, j, d, bestd, off;
	int rv = 0, r;

	if (map == NULL || map->kind != CFG_MAP)
		return 0;
	for (i = 0; i < map->n; i++) {
		k = map->keys[i];
		if (k->kind != CFG_SCALAR)
			continue;	/* reported by the parser */
		for (j = 0; allowed[j] != NULL; j++)
			if (strcmp(k->str, allowed[j]) == 0)
				break;
		if (allowed[j] != NULL)
			continue;
		best = NULL;
		bestd = 3;
		for (j = 0; allowed[j] != NULL; j++) {
			size_t cap = strlen(allowed[j]) / 3;

			if (cap > 2)
				cap = 2;
			if (cap < 1)
				cap = 1;
			d = cfg_edit_distance(k->str, allowed[j], cap);
			if (d <= cap && d < bestd) {
				bestd = d;
				best = allowed[j];
			}
			/* A case slip ("Listen") counts as close too. */
			if (best == NULL && strcasecmp(k->str, allowed[j]) ==
			    0)
				best = allowed[j];
		}
		if (best != NULL) {
			rv = cfg_error(diags, k, "unknown key '%.*s' (did you "
			    "mean '%s'?)", show_len(k), k->str, best);
			continue;
		}
		off = 0;
		list[0] = '\0';
		for (j = 0; allowed[j] != NULL && off < sizeof(list); j++) {
			r = snprintf(list + off, sizeof(list) - off, "%s%s",
			    j ? ", " : "", allowed[j]);
			if (r < 0 || (size_t)r >= sizeof(list) - off)
				break;	/* truncated list: still useful */
			off += (size_t)r;
		}
		rv = cfg_error(diags, k, "unknown key '%.*s' (allowed: %s)",
		    show_len(k), k->str, list);
	}
	return rv;
}

int
cfg_require(const struct cfg_node *map, const char *key,
    struct diag_list *diags)
{
	const struct cfg_node *v = cfg_node_get(map, key);

	if (v != NULL && !cfg_node_is_null(v))
		return 0;
	return cfg_error(diags, v != NULL ? v : map,
	    "missing required key '%s'", key);
}

static int
need_scalar(const struct cfg_node *n, struct diag_list *diags)
{
	if (n->kind == CFG_SCALAR)
		return 0;
	return cfg_error(diags, n, "expected a value, found a %s",
	    cfg_kind_name(n->kind));
}

int
cfg_as_str(const struct cfg_node *n, const char **out,
    struct diag_list *diags)
{
	if (need_scalar(n, diags) != 0)
		return ENG_EINVAL;
	*out = n->str;
	return 0;
}

int
cfg_as_bool(const struct cfg_node *n, int *out, struct diag_list *diags)
{
	static const char *const yes[] = { "true", "yes", "on", NULL };
	static const char *const no[] = { "false", "no", "off", NULL };
	size_t i;

	if (need_scalar(n, diags) != 0)
		return ENG_EINVAL;
	for (i = 0; yes[i] != NULL; i++) {
		if (strcasecmp(n->str, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(n->str, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return cfg_error(diags, n, "'%.*s' is not a boolean (use true or "
	    "false)", show_len(n), n->str);
}

/* Parse a decimal integer at s; *end past it.  0, or ENG_EINVAL/ERANGE. */
static int
parse_i64(const char *s, int64_t *out, const char **end)
{
	char *e;
	long long v;

	if (!(isdigit((unsigned char)s[0]) || ((s[0] == '-' || s[0] == '+') &&
	    isdigit((unsigned char)s[1]))))
		return ENG_EINVAL;
	errno = 0;
	v = strtoll(s, &e, 10);
	if (errno == ERANGE)
		return ENG_ETOOBIG;
	*out = (int64_t)v;
	*end = e;
	return 0;
}

int
cfg_as_int(const struct cfg_node *n, int64_t min, int64_t max,
    int64_t *out, struct diag_list *diags)
{
	const char *end;
	int64_t v;
	int r;

	if (need_scalar(n, diags) != 0)
		return ENG_EINVAL;
	if ((r = parse_i64(n->str, &v, &end)) != 0 || *end != '\0')
		return cfg_error(diags, n, "'%.*s' is not %s", show_len(n),
		    n->str, r == ENG_ETOOBIG ? "a representable number" :
		    "a whole number");
	if (v < min || v > max)
		return cfg_error(diags, n, "%lld is out of range (%lld to "
		    "%lld)", (long long)v, (long long)min, (long long)max);
	*out = v;
	return 0;
}

int
cfg_as_duration_ms(const struct cfg_node *n, int64_t min, int64_t max,
    int64_t *out, struct diag_list *diags)
{
	static const struct {
		const char *u;
		int64_t ms;
	} units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 },
		{ "h", 3600000 }, { "d", 86400000 },
	};
	const char *s, *e;
	int64_t total = 0, v;
	size_t i, ul;
	int groups = 0;

	if (need_scalar(n, diags) != 0)
		return ENG_EINVAL;
	s = n->str;
	while (*s != '\0') {
		if (!isdigit((unsigned char)*s) ||
		    parse_i64(s, &v, &e) != 0)
			goto bad;
		for (ul = 0; isalpha((unsigned char)e[ul]); ul++)
			;
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (strlen(units[i].u) == ul &&
			    strncmp(e, units[i].u, ul) == 0)
				break;
		if (i == sizeof(units) / sizeof(units[0]))
			goto bad;
		if (v > (INT64_MAX - total) / units[i].ms)
			return cfg_error(diags, n, "duration '%.*s' is too "
			    "long", show_len(n), n->str);
		total += v * units[i].ms;
		groups++;
		s = e + ul;
	}
	if (groups == 0)
		goto bad;
	if (total < min || total > max)
		return cfg_error(diags, n, "duration '%.*s' is out of range "
		    "(%lld ms to %lld ms)", show_len(n), n->str,
		    (long long)min, (long long)max);
	*out = total;
	return 0;
bad:
	return cfg_error(diags, n, "'%.*s' is not a duration (use a number "
	    "and a unit: 500ms, 30s, 5m, 2h, 1d, or groups like 1h30m)",
	    show_len(n), n->str);
}

int
cfg_as_size(const struct cfg_node *n, uint64_t min, uint64_t max,
    uint64_t *out, struct diag_list *diags)
{
	static const struct {
		const char *u;
		unsigned shift;
	} units[] = {
		{ "", 0 }, { "B", 0 },
		{ "k", 10 }, { "K", 10 }, { "KB", 10 }, { "KiB", 10 },
		{ "M", 20 }, { "MB", 20 }, { "MiB", 20 },
		{ "G", 30 }, { "GB", 30 }, { "GiB", 30 },
	};
	const char *s, *u;
	unsigned long long v;
	char *e;
	size_t i;

	if (need_scalar(n, diags) != 0)
		return ENG_EINVAL;
	s = n->str;
	if (!isdigit((unsigned char)s[0]))
		goto bad;
	errno = 0;
	v = strtoull(s, &e, 10);
	if (errno == ERANGE)
		goto big;
	u = e;
	if (*u == ' ')
		u++;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(u, units[i].u) == 0)
			break;
	if (i == sizeof(units) / sizeof(units[0]) || (u != e && *u == '\0'))
		goto bad;
	if (units[i].shift > 0 && v > (UINT64_MAX >> units[i].shift))
		goto big;
	v <<= units[i].shift;
	if (v < min || v > max)
		return cfg_error(diags, n, "size '%.*s' is out of range (%llu "
		    "to %llu bytes)", show_len(n), n->str,
		    (unsigned long long)min, (unsigned long long)max);
	*out = v;
	return 0;
big:
	return cfg_error(diags, n, "size '%.*s' is too large", show_len(n),
	    n->str);
bad:
	return cfg_error(diags, n, "'%.*s' is not a size (use a number of "
	    "bytes with an optional unit: 512k, 16M, 1MiB, 2G)",
	    show_len(n), n->str);
}

int
cfg_as_enum(const struct cfg_node *n, const char *const *names, int *out,
    struct diag_list *diags)
{
	char list[512];
	size_t j, off = 0;
	int r;

	if (need_scalar(n, diags) != 0)
		return ENG_EINVAL;
	for (j = 0; names[j] != NULL; j++) {
		if (strcmp(n->str, names[j]) == 0) {
			*out = (int)j;
			return 0;
		}
	}
	list[0] = '\0';
	for (j = 0; names[j] != NULL; j++) {
		r = snprintf(list + off, sizeof(list) - off, "%s%s",
		    j ? ", " : "", names[j]);
		if (r < 0 || (size_t)r >= sizeof(list) - off)
			break;
		off += (size_t)r;
	}
	return cfg_error(diags, n, "'%.*s' is not one of: %s", show_len(n),
	    n->str, list);
}

int
cfg_as_region(const struct cfg_node *n, char out[REGION_CODE_SIZE],
    struct diag_list *diags)
{
	struct eng_errbuf eb;
	char code[REGION_CODE_SIZE];

	if (need_scalar(n, diags) != 0)
		return ENG_EINVAL;
	eng_errbuf_init(&eb);
	if (region_code_norm(n->str, n->slen, code, &eb) != 0)
		return cfg_error(diags, n, "%s", eb.msg);
	memcpy(out, code, REGION_CODE_SIZE);
	return 0;
}

/* A host name: labels of [A-Za-z0-9-], dots between. */
static int
valid_hostname(const char *h, size_t len)
{
	size_t i, lab = 0;

	if (len == 0 || len >= CFG_HOST_SIZE)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)h[i];

		if (c == '.') {
			if (lab == 0)
				return 0;
			lab = 0;
		} else if (isalnum(c) || c == '-' || c == '_') {
			if (++lab > 63)
				return 0;
		} else {
			return 0;
		}
	}
	return lab > 0;
}

int
cfg_as_hostport(const struct cfg_node *n, struct cfg_hostport *out,
    struct diag_list *diags)
{
	struct in6_addr a6;
	const char *s, *colon, *h;
	char host[CFG_HOST_SIZE];
	size_t hl;
	int64_t port;
	const char *end;

	if (need_scalar(n, diags) != 0)
		return ENG_EINVAL;
	s = n->str;
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (rb == NULL || rb[1] != ':')
			goto bad;
		h = s + 1;
		hl = (size_t)(rb - h);
		colon = rb + 1;
		if (hl == 0 || hl >= sizeof(host))
			goto bad;
		memcpy(host, h, hl);
		host[hl] = '\0';
		if (inet_pton(AF_INET6, host, &a6) != 1)
			return cfg_error(diags, n, "'%s' is not an IPv6 "
			    "address", host);
	} else {
		if ((colon = strrchr(s, ':')) == NULL)
			return cfg_error(diags, n, "'%.*s' has no port (use "
			    "host:port, e.g. 127.0.0.1:8080)", show_len(n),
			    n->str);
		if (memchr(s, ':', (size_t)(colon - s)) != NULL)
			return cfg_error(diags, n, "'%.*s': write an IPv6 "
			    "address in brackets, e.g. [::1]:8080",
			    show_len(n), n->str);
		h = s;
		hl = (size_t)(colon - s);
		if (!valid_hostname(h, hl))
			return cfg_error(diags, n, "'%.*s' has no valid host "
			    "name or address before the port", show_len(n),
			    n->str);
		memcpy(host, h, hl);
		host[hl] = '\0';
	}
	if (!isdigit((unsigned char)colon[1]) ||
	    parse_i64(colon + 1, &port, &end) != 0 || *end != '\0')
		goto bad;
	if (port < 0 || port > 65535)
		return cfg_error(diags, n, "port %lld is out of range (0 to "
		    "65535)", (long long)port);
	memcpy(out->host, host, hl + 1);
	out->port = (unsigned)port;
	return 0;
bad:
	return cfg_error(diags, n, "'%.*s' is not host:port (e.g. "
	    "127.0.0.1:8080 or [::1]:8080)", show_len(n), n->str);
}

char *
cfg_path_join(const char *base, const char *rel)
{
	size_t bl, rl;
	char *p;

	while (rel[0] == '.' && rel[1] == '/') {
		rel += 2;
		while (*rel == '/')
			rel++;
	}
	if (strcmp(rel, ".") == 0)
		rel = "";
	if (base == NULL || base[0] == '\0' || rel[0] == '/')
		return strdup(rel[0] != '\0' || base == NULL ? rel : base);
	bl = strlen(base);
	while (bl > 1 && base[bl - 1] == '/')
		bl--;
	rl = strlen(rel);
	if ((p = malloc(bl + rl + 2)) == NULL)
		return NULL;
	memcpy(p, base, bl);
	if (rl > 0) {
		if (!(bl == 1 && base[0] == '/'))
			p[bl++] = '/';
		memcpy(p + bl, rel, rl);
	}
	p[bl + rl] = '\0';
	return p;
}

int
cfg_as_path(const struct cfg_node *n, const char *base_dir, char **out,
    struct diag_list *diags)
{
	char *p;

	if (need_scalar(n, diags) != 0)
		return ENG_EINVAL;
	if (n->slen == 0)
		return cfg_error(diags, n, "empty path");
	if (n->slen >= 4096)
		return cfg_error(diags, n, "path longer than 4095 bytes");
	if ((p = cfg_path_join(base_dir, n->str)) == NULL) {
		(void)diag_add(diags, DIAG_ERROR, n->file, n->line, n->path,
		    "out of memory");
		return ENG_ENOMEM;
	}
	*out = p;
	return 0;
}

/* ---- by key ---- */

/* The value at key, or NULL when absent or null. */
static const struct cfg_node *
value(const struct cfg_node *map, const char *key)
{
	const struct cfg_node *v = cfg_node_get(map, key);

	return cfg_node_is_null(v) ? NULL : v;
}

int
cfg_get_str(const struct cfg_node *map, const char *key, const char **out,
    struct diag_list *diags)
{
	const struct cfg_node *v = value(map, key);

	return v == NULL ? 0 : cfg_as_str(v, out, diags);
}

int
cfg_get_bool(const struct cfg_node *map, const char *key, int *out,
    struct diag_list *diags)
{
	const struct cfg_node *v = value(map, key);

	return v == NULL ? 0 : cfg_as_bool(v, out, diags);
}

int
cfg_get_int(const struct cfg_node *map, const char *key, int64_t min,
    int64_t max, int64_t *out, struct diag_list *diags)
{
	const struct cfg_node *v = value(map, key);

	return v == NULL ? 0 : cfg_as_int(v, min, max, out, diags);
}

int
cfg_get_duration_ms(const struct cfg_node *map, const char *key,
    int64_t min, int64_t max, int64_t *out, struct diag_list *diags)
{
	const struct cfg_node *v = value(map, key);

	return v == NULL ? 0 : cfg_as_duration_ms(v, min, max, out, diags);
}

int
cfg_strv_has(char *const *v, const char *s)
{
	for (; s != NULL && v != NULL && *v != NULL; v++)
		if (strcmp(*v, s) == 0)
			return 1;
	return 0;
}

int
cfg_get_rate(const struct cfg_node *map, const char *key, int64_t max_n,
    int64_t *n, int64_t *window_ms, struct diag_list *diags)
{
	const struct cfg_node *v = value(map, key);
	const char *s = NULL, *u;
	long long num, per = 1, unit;
	char *end;

	if (v == NULL)
		return 0;
	if (cfg_as_str(v, &s, diags) != 0)
		return ENG_EINVAL;
	errno = 0;
	num = strtoll(s, &end, 10);
	if (end == s || errno != 0 || num < 1 || num > max_n)
		goto bad;
	if (*end == '\0') {
		*n = num;
		*window_ms = 60000;
		return 0;
	}
	if (*end != '/')
		goto bad;
	u = end + 1;
	if (*u >= '0' && *u <= '9') {
		errno = 0;
		per = strtoll(u, &end, 10);
		if (errno != 0 || per < 1 || per > 3600000)
			goto bad;
		u = end;
	}
	if (strcmp(u, "ms") == 0)
		unit = 1;
	else if (strcmp(u, "s") == 0 || strcmp(u, "sec") == 0)
		unit = 1000;
	else if (strcmp(u, "m") == 0 || strcmp(u, "min") == 0)
		unit = 60000;
	else if (strcmp(u, "h") == 0)
		unit = 3600000;
	else
		goto bad;
	if (per * unit < 100 || per * unit > 3600000)
		return cfg_error(diags, v, "the rate's window must be 100ms "
		    "to 1h");
	*n = num;
	*window_ms = per * unit;
	return 0;
bad:
	return cfg_error(diags, v, "%s must be N/min, N/s, N/h or "
	    "N/<duration> with N of 1 to %lld (e.g. 20/min)", key,
	    (long long)max_n);
}

int
cfg_get_size(const struct cfg_node *map, const char *key, uint64_t min,
    uint64_t max, uint64_t *out, struct diag_list *diags)
{
	const struct cfg_node *v = value(map, key);

	return v == NULL ? 0 : cfg_as_size(v, min, max, out, diags);
}

int
cfg_get_enum(const struct cfg_node *map, const char *key,
    const char *const *names, int *out, struct diag_list *diags)
{
	const struct cfg_node *v = value(map, key);

	return v == NULL ? 0 : cfg_as_enum(v, names, out, diags);
}

int
cfg_get_region(const struct cfg_node *map, const char *key,
    char out[REGION_CODE_SIZE], struct diag_list *diags)
{
	const struct cfg_node *v = value(map, key);

	return v == NULL ? 0 : cfg_as_region(v, out, diags);
}

int
cfg_get_hostport(const struct cfg_node *map, const char *key,
    struct cfg_hostport *out, struct diag_list *diags)
{
	const struct cfg_node *v = value(map, key);

	return v == NULL ? 0 : cfg_as_hostport(v, out, diags);
}

int
cfg_get_path(const struct cfg_node *map, const char *key,
    const char *base_dir, char **out, struct diag_list *diags)
{
	const struct cfg_node *v = value(map, key);
	char *p = NULL;
	int rv;

	if (v == NULL)
		return 0;
	if ((rv = cfg_as_path(v, base_dir, &p, diags)) != 0)
		return rv;
	free(*out);
	*out = p;
	return 0;
}

int
cfg_get_section(const struct cfg_node *map, const char *key,
    enum cfg_kind kind, const struct cfg_node **out,
    struct diag_list *diags)
{
	const struct cfg_node *v = value(map, key);

	*out = NULL;
	if (v == NULL)
		return 0;
	if (cfg_expect_kind(v, kind, diags) != 0)
		return ENG_EINVAL;
	*out = v;
	return 0;
}

int
cfg_read_secret_file(const struct cfg_node *n, const char *path,
    const char *what, size_t max, char **out, struct diag_list *diags)
{
	size_t size = max + 8, len;
	char *line;
	FILE *f;
	int rv = 0;

	if ((line = calloc(1, size)) == NULL)
		return ENG_ENOMEM;
	if ((f = fopen(path, "re")) == NULL) {
		rv = cfg_error(diags, n, "cannot read %s: %s", path,
		    strerror(errno));
		free(line);
		return rv;
	}
	if (fgets(line, (int)size, f) == NULL)
		line[0] = '\0';
	(void)fclose(f);
	len = strcspn(line, "\r\n");
	line[len] = '\0';
	if (len == 0 || len > max)
		rv = cfg_error(diags, n, "%s: the first line must hold the "
		    "%s (1 to %zu bytes)", path, what, max);
	else if ((*out = strdup(line)) == NULL)
		rv = ENG_ENOMEM;
	explicit_bzero(line, size);
	free(line);
	return rv;
}
