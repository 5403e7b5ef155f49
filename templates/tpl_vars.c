/*
 * templates/tpl_vars.c - the variable context a caller fills for
 * rendering: a flat namespace of dotted names.
 */
#include "templates/tpl_int.h"
#include "engine/utf8.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_OFFSET	480

static int
ident_char(char c, int first)
{
	if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_')
		return 1;
	return !first && c >= '0' && c <= '9';
}

int
tpl_name_ok(const char *name, size_t len)
{
	size_t i;
	int first = 1;

	if (len == 0 || len > TPL_MAX_NAME)
		return 0;
	for (i = 0; i < len; i++) {
		if (name[i] == '.') {
			if (first)
				return 0;
			first = 1;
			continue;
		}
		if (!ident_char(name[i], first))
			return 0;
		first = 0;
	}
	return !first;
}

struct tpl_vars *
tpl_vars_new(void)
{
	struct tpl_vars *v;

	if ((v = calloc(1, sizeof(*v))) == NULL)
		return NULL;
	v->utc_off = DEFAULT_OFFSET;
	return v;
}

static void
tvar_release(struct tvar *x)
{
	size_t i;

	free(x->name);
	free(x->s);
	for (i = 0; i < x->n; i++)
		free(x->items[i]);
	free(x->items);
	free(x->lens);
	memset(x, 0, sizeof(*x));
}

void
tpl_vars_clear(struct tpl_vars *v)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		tvar_release(&v->v[i]);
	v->n = 0;
}

void
tpl_vars_free(struct tpl_vars *v)
{
	if (v == NULL)
		return;
	tpl_vars_clear(v);
	free(v->v);
	free(v->zone);
	free(v);
}

const struct tvar *
tpl_vars_get(const struct tpl_vars *v, const char *name)
{
	size_t i;

	if (v == NULL)
		return NULL;
	for (i = 0; i < v->n; i++)
		if (strcmp(v->v[i].name, name) == 0)
			return &v->v[i];
	return NULL;
}

/* Install x (whose contents are taken) under its name. */
static int
put(struct tpl_vars *v, struct tvar *x)
{
	struct tvar *nv;
	size_t i, na;

	for (i = 0; i < v->n; i++) {
		if (strcmp(v->v[i].name, x->name) == 0) {
			tvar_release(&v->v[i]);
			v->v[i] = *x;
			return 0;
		}
	}
	if (v->n == v->alloc) {
		na = v->alloc ? v->alloc * 2 : 16;
		if ((nv = realloc(v->v, na * sizeof(*nv))) == NULL) {
			tvar_release(x);
			return ENG_ENOMEM;
		}
		v->v = nv;
		v->alloc = na;
	}
	v->v[v->n++] = *x;
	return 0;
}

static int
start(struct tvar *x, const char *name, enum tval_kind kind)
{
	memset(x, 0, sizeof(*x));
	if (name == NULL || !tpl_name_ok(name, strlen(name)))
		return ENG_EINVAL;
	if ((x->name = strdup(name)) == NULL)
		return ENG_ENOMEM;
	x->kind = kind;
	return 0;
}

static int
copy_str(const char *s, size_t n, char **out, size_t *outlen)
{
	struct tbuf b;
	int rv;

	tbuf_init(&b, 0);
	if ((rv = tpl_utf8_sanitise(&b, s, n)) != 0) {
		tbuf_release(&b);
		return rv;
	}
	*out = tbuf_detach(&b, outlen);
	return 0;
}

int
tpl_vars_set_strn(struct tpl_vars *v, const char *name, const char *val,
    size_t len)
{
	struct tvar x;
	int rv;

	if (val == NULL)
		return ENG_EINVAL;
	if ((rv = start(&x, name, TV_STR)) != 0)
		goto fail;
	if ((rv = copy_str(val, len, &x.s, &x.len)) != 0)
		goto fail;
	return put(v, &x);
fail:
	tvar_release(&x);
	return rv;
}

int
tpl_vars_set_str(struct tpl_vars *v, const char *name, const char *val)
{
	if (val == NULL)
		return ENG_EINVAL;
	return tpl_vars_set_strn(v, name, val, strlen(val));
}

int
tpl_vars_set_int(struct tpl_vars *v, const char *name, int64_t val)
{
	struct tvar x;
	int rv;

	if ((rv = start(&x, name, TV_INT)) != 0) {
		tvar_release(&x);
		return rv;
	}
	x.i = val;
	return put(v, &x);
}

int
tpl_vars_set_bool(struct tpl_vars *v, const char *name, int val)
{
	struct tvar x;
	int rv;

	if ((rv = start(&x, name, TV_BOOL)) != 0) {
		tvar_release(&x);
		return rv;
	}
	x.i = val != 0;
	return put(v, &x);
}

int
tpl_vars_set_list(struct tpl_vars *v, const char *name,
    const char *const *items, size_t n)
{
	struct tvar x;
	size_t i;
	int rv;

	if ((rv = start(&x, name, TV_LIST)) != 0)
		goto fail;
	if (n > 0 && items == NULL) {
		rv = ENG_EINVAL;
		goto fail;
	}
	if (n > 0) {
		x.items = calloc(n, sizeof(*x.items));
		x.lens = calloc(n, sizeof(*x.lens));
		if (x.items == NULL || x.lens == NULL) {
			rv = ENG_ENOMEM;
			goto fail;
		}
	}
	for (i = 0; i < n; i++) {
		if (items[i] == NULL) {
			rv = ENG_EINVAL;
			goto fail;
		}
		if ((rv = copy_str(items[i], strlen(items[i]), &x.items[i],
		    &x.lens[i])) != 0)
			goto fail;
		x.n = i + 1;
	}
	return put(v, &x);
fail:
	tvar_release(&x);
	return rv;
}

int
tpl_vars_unset(struct tpl_vars *v, const char *name)
{
	size_t i;

	for (i = 0; i < v->n; i++) {
		if (strcmp(v->v[i].name, name) == 0) {
			tvar_release(&v->v[i]);
			v->v[i] = v->v[--v->n];
			return 0;
		}
	}
	return ENG_ENOENT;
}

int
tpl_vars_set_zone(struct tpl_vars *v, int utc_offset_min,
    const char *zone_name)
{
	char *z;

	if (utc_offset_min <= -1440 || utc_offset_min >= 1440 ||
	    zone_name == NULL || strlen(zone_name) > 64 ||
	    utf8_check(zone_name, strlen(zone_name)) != strlen(zone_name))
		return ENG_EINVAL;
	if ((z = strdup(zone_name)) == NULL)
		return ENG_ENOMEM;
	free(v->zone);
	v->zone = z;
	v->utc_off = utc_offset_min;
	return 0;
}
