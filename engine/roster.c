/*
 * engine/roster.c - parse one roster CSV (regions, responders, devices)
 * into validated rows.
 *
 * Pipeline: decode (BOM, UTF-8 or GB18030 through iconv) -> libcsv, fed
 * one physical line at a time so that every row knows the line it starts
 * on -> header mapping -> one check per row -> rows.  Field text is
 * gathered in a per-row scratch buffer and only the kept strings are
 * copied into the roster's arena.
 */
#include "engine/roster.h"
#include "engine/roster_int.h"
#include "engine/utf8.h"

#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum col {
	COL_CODE, COL_NAME, COL_PARENT, COL_LAT, COL_LON,
	COL_ID, COL_REGION, COL_ROLE, COL_PHONE, COL_EMAIL,
	COL_WECOM, COL_DINGTALK, COL_TELEGRAM, COL_WECHAT,
	COL_ACTIVE, COL_EXERCISE,
	COL_KIND, COL_CHANNEL, COL_ADDRESS,
	COL_PREFER,
	COL_COUNT
};

static const char *const col_names[COL_COUNT] = {
	"code", "name", "parent", "lat", "lon",
	"id", "region", "role", "phone", "email",
	"wecom", "dingtalk", "telegram", "wechat",
	"active", "exercise",
	"kind", "channel", "address",
	"prefer",
};

/* Header spellings (ASCII case-insensitive). */
static const struct {
	const char *name;
	enum col col;
} col_aliases[] = {
	{ "code", COL_CODE }, { "区划代码", COL_CODE }, { "代码", COL_CODE },
	{ "编码", COL_CODE }, { "行政区划代码", COL_CODE },
	{ "name", COL_NAME }, { "名称", COL_NAME }, { "姓名", COL_NAME },
	{ "parent", COL_PARENT }, { "上级", COL_PARENT },
	{ "上级区划", COL_PARENT }, { "上级代码", COL_PARENT },
	{ "lat", COL_LAT }, { "latitude", COL_LAT }, { "纬度", COL_LAT },
	{ "lon", COL_LON }, { "lng", COL_LON }, { "longitude", COL_LON },
	{ "经度", COL_LON },
	{ "id", COL_ID }, { "编号", COL_ID },
	{ "region", COL_REGION }, { "region_code", COL_REGION },
	{ "所属区划", COL_REGION }, { "区划", COL_REGION },
	{ "role", COL_ROLE }, { "角色", COL_ROLE }, { "职务", COL_ROLE },
	{ "phone", COL_PHONE }, { "mobile", COL_PHONE }, { "手机", COL_PHONE },
	{ "电话", COL_PHONE }, { "手机号", COL_PHONE },
	{ "手机号码", COL_PHONE }, { "联系电话", COL_PHONE },
	{ "email", COL_EMAIL }, { "e-mail", COL_EMAIL }, { "邮箱", COL_EMAIL },
	{ "电子邮箱", COL_EMAIL },
	{ "wecom", COL_WECOM }, { "企业微信", COL_WECOM },
	{ "dingtalk", COL_DINGTALK }, { "钉钉", COL_DINGTALK },
	{ "telegram", COL_TELEGRAM },
	{ "wechat", COL_WECHAT }, { "微信", COL_WECHAT },
	{ "active", COL_ACTIVE }, { "在岗", COL_ACTIVE },
	{ "启用", COL_ACTIVE },
	{ "exercise", COL_EXERCISE }, { "演练", COL_EXERCISE },
	{ "kind", COL_KIND }, { "类型", COL_KIND },
	{ "channel", COL_CHANNEL }, { "通道", COL_CHANNEL },
	{ "address", COL_ADDRESS }, { "地址", COL_ADDRESS },
	{ "prefer", COL_PREFER }, { "偏好渠道", COL_PREFER },
	{ "首选渠道", COL_PREFER },
};

#define C(x) (1u << (x))
/* Columns each kind accepts, and those it requires. */
static const unsigned kind_cols[4] = {
	0,
	C(COL_CODE) | C(COL_NAME) | C(COL_PARENT) | C(COL_LAT) | C(COL_LON),
	C(COL_ID) | C(COL_NAME) | C(COL_REGION) | C(COL_ROLE) | C(COL_PHONE) |
	    C(COL_EMAIL) | C(COL_WECOM) | C(COL_DINGTALK) | C(COL_TELEGRAM) |
	    C(COL_WECHAT) | C(COL_ACTIVE) | C(COL_EXERCISE) | C(COL_PREFER),
	C(COL_ID) | C(COL_REGION) | C(COL_KIND) | C(COL_CHANNEL) |
	    C(COL_ADDRESS),
};
static const unsigned kind_req[4] = {
	0,
	C(COL_CODE) | C(COL_NAME),
	C(COL_ID) | C(COL_NAME) | C(COL_REGION) | C(COL_ROLE) | C(COL_PHONE),
	C(COL_ID) | C(COL_REGION) | C(COL_KIND) | C(COL_CHANNEL),
};

#define MAX_COLS 64

struct slot {
	uint32_t hash;
	uint32_t idx1;		/* row index + 1; 0 = empty */
};

struct pctx {
	enum roster_kind kind;
	const char *file;
	struct roster *r;
	struct diag_list *diags;
	size_t nerr;
	int stop;		/* fatal: stop feeding */
	int rv;			/* fatal error code (ENOMEM) */

	long line;		/* physical line being fed */
	long row_line;		/* line the current row starts on */

	int header_done;
	int ncols;
	int col_of[MAX_COLS];	/* header column -> enum col, -1 ignored */
	char *col_text[MAX_COLS]; /* header text as written */
	int idx_of[COL_COUNT];	/* enum col -> header column, -1 absent */

	/* Current row. */
	int nf;
	size_t foff[MAX_COLS], flen[MAX_COLS];
	char *buf;
	size_t blen, bcap;
	int toolong;		/* first header column with a long field */
	int nonempty;		/* some field is not blank */
	int extra;		/* non-empty fields beyond the header */
	size_t nrows;		/* data rows seen */

	size_t alloc;		/* rows allocated in r */
	struct slot *tab;	/* duplicate detection */
	size_t tabcap, tabn;
	char *roles[8];		/* interned canonical role strings */
	const char *last_role;	/* role of the last spelling seen */
	char last_spelling[32];
	const char *role_key[8];
};

static void
perr(struct pctx *c, long line, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
perr(struct pctx *c, long line, const char *path, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->nerr++;
	if (c->diags != NULL)
		(void)diag_add(c->diags, DIAG_ERROR, c->file, line, path,
		    "%s", msg);
}

void
roster_init(struct roster *r)
{
	memset(r, 0, sizeof(*r));
}

void
roster_release(struct roster *r)
{
	free(r->file);
	free(r->regions);
	free(r->responders);
	free(r->devices);
	roster_mem_free(r->mem);
	roster_init(r);
}

static int
isblankc(unsigned char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/* ---- per-row field access ---------------------------------------- */

/* The trimmed text of column col in the current row ("" if absent). */
static const char *
fld(struct pctx *c, enum col col, size_t *lenp)
{
	int i = c->idx_of[col];

	if (i < 0 || i >= c->nf) {
		if (lenp != NULL)
			*lenp = 0;
		return "";
	}
	if (lenp != NULL)
		*lenp = c->flen[i];
	return c->buf + c->foff[i];
}

static const char *
cname(struct pctx *c, enum col col)
{
	int i = c->idx_of[col];

	return i >= 0 ? c->col_text[i] : col_names[col];
}

static char *
keep(struct pctx *c, enum col col)
{
	size_t len;
	const char *s = fld(c, col, &len);
	char *p;

	if (len == 0)
		return NULL;
	if ((p = roster_mem_dup(&c->r->mem, s, len)) == NULL) {
		c->rv = ENG_ENOMEM;
		c->stop = 1;
	}
	return p;
}

/* ---- duplicate detection ------------------------------------------ */

static uint32_t
hash_str(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static const char *
row_key(struct pctx *c, size_t i)
{
	switch (c->kind) {
	case ROSTER_REGIONS:
		return c->r->regions[i].code;
	case ROSTER_RESPONDERS:
		return c->r->responders[i].id;
	case ROSTER_DEVICES:
		return c->r->devices[i].id;
	}
	return "";
}

static long
row_line_of(struct pctx *c, size_t i)
{
	switch (c->kind) {
	case ROSTER_REGIONS:
		return c->r->regions[i].line;
	case ROSTER_RESPONDERS:
		return c->r->responders[i].line;
	case ROSTER_DEVICES:
		return c->r->devices[i].line;
	}
	return 0;
}

static int
tab_grow(struct pctx *c)
{
	size_t ncap = c->tabcap ? c->tabcap * 2 : 1024, i, j;
	struct slot *nt;

	if ((nt = calloc(ncap, sizeof(*nt))) == NULL)
		return ENG_ENOMEM;
	for (i = 0; i < c->tabcap; i++) {
		if (c->tab[i].idx1 == 0)
			continue;
		for (j = c->tab[i].hash & (ncap - 1); nt[j].idx1 != 0;
		    j = (j + 1) & (ncap - 1))
			;
		nt[j] = c->tab[i];
	}
	free(c->tab);
	c->tab = nt;
	c->tabcap = ncap;
	return 0;
}

/* The line of an earlier row with this key, or 0 if there is none (the
 * key is then recorded as row idx). */
static long
dup_check(struct pctx *c, const char *key, size_t idx)
{
	uint32_t h = hash_str(key);
	size_t j;

	if ((c->tabn + 1) * 2 > c->tabcap && tab_grow(c) != 0) {
		c->rv = ENG_ENOMEM;
		c->stop = 1;
		return 0;
	}
	for (j = h & (c->tabcap - 1); c->tab[j].idx1 != 0;
	    j = (j + 1) & (c->tabcap - 1))
		if (c->tab[j].hash == h &&
		    strcmp(row_key(c, c->tab[j].idx1 - 1), key) == 0)
			return row_line_of(c, c->tab[j].idx1 - 1);
	c->tab[j].hash = h;
	c->tab[j].idx1 = (uint32_t)(idx + 1);
	c->tabn++;
	return 0;
}

/* ---- rows ---------------------------------------------------------- */

static int
grow_rows(struct pctx *c, void **v, size_t n, size_t elsize)
{
	size_t na;
	void *nv;

	if (n < c->alloc)
		return 0;
	na = c->alloc ? c->alloc * 2 : 256;
	if ((nv = realloc(*v, na * elsize)) == NULL) {
		c->rv = ENG_ENOMEM;
		c->stop = 1;
		return -1;
	}
	*v = nv;
	c->alloc = na;
	return 0;
}

static int
need(struct pctx *c, enum col col)
{
	if (fld(c, col, NULL)[0] != '\0')
		return 0;
	perr(c, c->row_line, cname(c, col), "empty %s", col_names[col]);
	return -1;
}

static int
get_code(struct pctx *c, enum col col, char out[REGION_CODE_SIZE])
{
	struct eng_errbuf eb;
	size_t len;
	const char *s = fld(c, col, &len);

	eng_errbuf_init(&eb);
	if (region_code_norm(s, len, out, &eb) != 0) {
		perr(c, c->row_line, cname(c, col), "%s", eb.msg);
		return -1;
	}
	return 0;
}

static int
get_coord(struct pctx *c, enum col col, double lim, double *out)
{
	const char *s = fld(c, col, NULL);
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end != '\0' || errno != 0 || isnan(v) ||
	    v < -lim || v > lim) {
		perr(c, c->row_line, cname(c, col), "invalid %s '%.40s' "
		    "(want a number from %g to %g)",
		    col == COL_LAT ? "latitude" : "longitude", s, -lim, lim);
		return -1;
	}
	*out = v;
	return 0;
}

static int
get_bool(struct pctx *c, enum col col, int def, int *out)
{
	const char *s = fld(c, col, NULL);

	if (*s == '\0') {
		*out = def;
		return 0;
	}
	if (roster_bool_parse(s, out) != 0) {
		perr(c, c->row_line, cname(c, col), "invalid %s '%.40s' "
		    "(want yes/no, true/false, 1/0, 是/否)", col_names[col], s);
		return -1;
	}
	return 0;
}

static void
dup_report(struct pctx *c, enum col col, const char *key, long first)
{
	perr(c, c->row_line, cname(c, col), "duplicate %s '%s' (first on "
	    "line %ld)", col_names[col], key, first);
}

static void
row_region(struct pctx *c)
{
	struct roster_region *g;
	char implied[REGION_CODE_SIZE];
	int hlat, hlon;
	long first;

	if (grow_rows(c, (void **)&c->r->regions, c->r->nregions,
	    sizeof(*g)) != 0)
		return;
	g = &c->r->regions[c->r->nregions];
	memset(g, 0, sizeof(*g));
	g->line = c->row_line;
	if (get_code(c, COL_CODE, g->code) != 0 || need(c, COL_NAME) != 0)
		return;
	if (fld(c, COL_PARENT, NULL)[0] != '\0') {
		if (get_code(c, COL_PARENT, g->parent) != 0)
			return;
		if (region_code_level(g->parent) >=
		    region_code_level(g->code)) {
			perr(c, c->row_line, cname(c, COL_PARENT),
			    "parent '%s' is not above '%s' (a %s)", g->parent, g->code,
			    region_level_name(region_code_level(g->code)));
			return;
		}
		if (region_code_parent(g->code, implied) == 0 &&
		    strcmp(implied, g->parent) == 0)
			g->parent[0] = '\0';
	}
	hlat = fld(c, COL_LAT, NULL)[0] != '\0';
	hlon = fld(c, COL_LON, NULL)[0] != '\0';
	if (hlat != hlon) {
		perr(c, c->row_line, cname(c, hlat ? COL_LON : COL_LAT),
		    "%s given without %s", hlat ? "latitude" : "longitude",
		    hlat ? "longitude" : "latitude");
		return;
	}
	if (hlat) {
		if (get_coord(c, COL_LAT, 90, &g->lat) != 0 ||
		    get_coord(c, COL_LON, 180, &g->lon) != 0)
			return;
		g->has_centroid = 1;
	}
	if ((first = dup_check(c, g->code, c->r->nregions)) != 0) {
		dup_report(c, COL_CODE, g->code, first);
		return;
	}
	if (c->stop || (g->name = keep(c, COL_NAME)) == NULL)
		return;
	c->r->nregions++;
}

static char *
intern_role(struct pctx *c, const char *canon)
{
	size_t i;

	for (i = 0; i < 8 && c->role_key[i] != NULL; i++)
		if (c->role_key[i] == canon)
			return c->roles[i];
	if (i == 8)
		return NULL;
	c->roles[i] = roster_mem_dup(&c->r->mem, canon, strlen(canon));
	if (c->roles[i] == NULL) {
		c->rv = ENG_ENOMEM;
		c->stop = 1;
		return NULL;
	}
	c->role_key[i] = canon;
	return c->roles[i];
}

static int
email_ok(const char *s)
{
	const char *at = strchr(s, '@');

	if (at == NULL || at == s || at[1] == '\0' || strchr(at + 1, '@'))
		return 0;
	for (; *s != '\0'; s++)
		if (isblankc((unsigned char)*s) || *s == ',' || *s == ';')
			return 0;
	return strchr(at + 1, '.') != NULL;
}

/*
 * The prefer column into out: the canonical names in the person's order
 * joined by ',' ("" if the cell is empty).  0, or -1 after reporting an
 * unknown word.
 */
static int
get_prefer(struct pctx *c, char *out, size_t size)
{
	enum roster_pref v[ROSTER_PREF_COUNT];
	const char *s = fld(c, COL_PREFER, NULL);
	size_t bad = 0, badlen = 0, len = 0;
	int i, n;

	out[0] = '\0';
	if ((n = roster_prefs_parse(s, v, &bad, &badlen)) < 0) {
		perr(c, c->row_line, cname(c, COL_PREFER), "unknown channel "
		    "preference '%.*s' (want phone/sms/短信, voice/电话/语音, "
		    "wecom/企业微信, dingtalk/钉钉, telegram, wechat/微信 or "
		    "email/邮件, separated by ',', ';', '|' or '、')",
		    (int)(badlen > 40 ? 40 : badlen), s + bad);
		return -1;
	}
	for (i = 0; i < n; i++) {
		int k = snprintf(out + len, size - len, "%s%s",
		    i > 0 ? "," : "", roster_pref_name(v[i]));

		if (k < 0 || (size_t)k >= size - len)
			return -1;	/* cannot happen: 7 names fit */
		len += (size_t)k;
	}
	return 0;
}

static void
row_responder(struct pctx *c)
{
	struct roster_responder *p;
	struct eng_errbuf eb;
	char phone[24], prefer[ROSTER_PREF_COUNT * 10];
	const char *role, *s;
	long first;
	int has_phone, has_app;

	if (grow_rows(c, (void **)&c->r->responders, c->r->nresponders,
	    sizeof(*p)) != 0)
		return;
	p = &c->r->responders[c->r->nresponders];
	memset(p, 0, sizeof(*p));
	p->line = c->row_line;
	if (need(c, COL_ID) != 0 || need(c, COL_NAME) != 0 ||
	    get_code(c, COL_REGION, p->region) != 0 || need(c, COL_ROLE) != 0)
		return;
	s = fld(c, COL_ROLE, NULL);
	/* Rows of one role come in runs: try the last spelling first. */
	if (c->last_role != NULL && strcmp(s, c->last_spelling) == 0)
		role = c->last_role;
	else if ((role = roster_role_parse(s)) != NULL &&
	    strlen(s) < sizeof(c->last_spelling)) {
		memcpy(c->last_spelling, s, strlen(s) + 1);
		c->last_role = role;
	}
	if (role == NULL) {
		perr(c, c->row_line, cname(c, COL_ROLE), "unknown role '%.40s' "
		    "(want duty_officer, leader, responsible, warner, "
		    "grid_worker, info_officer or deputy)", s);
		return;
	}
	s = fld(c, COL_PHONE, NULL);
	has_phone = *s != '\0';
	if (has_phone) {
		eng_errbuf_init(&eb);
		if (roster_phone_norm(s, phone, sizeof(phone), &eb) != 0) {
			perr(c, c->row_line, cname(c, COL_PHONE), "%s", eb.msg);
			return;
		}
	}
	s = fld(c, COL_EMAIL, NULL);
	if (*s != '\0' && !email_ok(s)) {
		perr(c, c->row_line, cname(c, COL_EMAIL), "invalid e-mail "
		    "address '%.60s'", s);
		return;
	}
	has_app = fld(c, COL_WECOM, NULL)[0] != '\0' ||
	    fld(c, COL_DINGTALK, NULL)[0] != '\0' ||
	    fld(c, COL_TELEGRAM, NULL)[0] != '\0' ||
	    fld(c, COL_WECHAT, NULL)[0] != '\0';
	if (!has_phone && *s == '\0' && !has_app) {
		perr(c, c->row_line, cname(c, COL_PHONE), "no way to reach "
		    "this responder: phone, e-mail and messaging-app ids are "
		    "all empty");
		return;
	}
	if (get_bool(c, COL_ACTIVE, 1, &p->active) != 0 ||
	    get_bool(c, COL_EXERCISE, 0, &p->exercise) != 0 ||
	    get_prefer(c, prefer, sizeof(prefer)) != 0)
		return;
	/* Keep the id first: the duplicate table reads it. */
	if ((p->id = keep(c, COL_ID)) == NULL)
		return;
	if ((first = dup_check(c, p->id, c->r->nresponders)) != 0) {
		dup_report(c, COL_ID, p->id, first);
		return;
	}
	if (c->stop)
		return;
	p->name = keep(c, COL_NAME);
	p->role = intern_role(c, role);
	if (has_phone)
		p->phone = roster_mem_dup(&c->r->mem, phone, strlen(phone));
	p->email = keep(c, COL_EMAIL);
	p->wecom = keep(c, COL_WECOM);
	p->dingtalk = keep(c, COL_DINGTALK);
	p->telegram = keep(c, COL_TELEGRAM);
	p->wechat = keep(c, COL_WECHAT);
	if (prefer[0] != '\0')
		p->prefer = roster_mem_dup(&c->r->mem, prefer, strlen(prefer));
	if (p->name == NULL || p->role == NULL ||
	    (has_phone && p->phone == NULL) ||
	    (prefer[0] != '\0' && p->prefer == NULL)) {
		c->rv = ENG_ENOMEM;
		c->stop = 1;
	}
	if (c->stop)
		return;
	c->r->nresponders++;
}

static void
row_device(struct pctx *c)
{
	struct roster_device *d;
	const char *s;
	long first;

	if (grow_rows(c, (void **)&c->r->devices, c->r->ndevices,
	    sizeof(*d)) != 0)
		return;
	d = &c->r->devices[c->r->ndevices];
	memset(d, 0, sizeof(*d));
	d->line = c->row_line;
	if (need(c, COL_ID) != 0 || get_code(c, COL_REGION, d->region) != 0 ||
	    need(c, COL_KIND) != 0)
		return;
	s = fld(c, COL_KIND, NULL);
	if ((d->kind = device_kind_parse(s)) == DEVICE_NONE) {
		perr(c, c->row_line, cname(c, COL_KIND), "unknown device kind "
		    "'%.40s' (want loudspeaker, siren, radio or group_chat)",
		    s);
		return;
	}
	if (need(c, COL_CHANNEL) != 0)
		return;
	if ((d->id = keep(c, COL_ID)) == NULL)
		return;
	if ((first = dup_check(c, d->id, c->r->ndevices)) != 0) {
		dup_report(c, COL_ID, d->id, first);
		return;
	}
	if (c->stop)
		return;
	d->channel = keep(c, COL_CHANNEL);
	d->address = keep(c, COL_ADDRESS);
	if (c->stop || d->channel == NULL)
		return;
	c->r->ndevices++;
}

/* ---- header -------------------------------------------------------- */

static void
header(struct pctx *c)
{
	unsigned seen = 0, allowed = kind_cols[c->kind];
	unsigned req = kind_req[c->kind];
	const char *s;
	size_t k;
	int i, col;

	if (c->nf > MAX_COLS) {
		perr(c, c->row_line, NULL, "header has %d columns (at most %d)",
		    c->nf, MAX_COLS);
		c->stop = 1;
		return;
	}
	c->ncols = c->nf;
	for (i = 0; i < c->nf; i++) {
		s = c->buf + c->foff[i];
		c->col_of[i] = -1;
		if ((c->col_text[i] = strdup(s)) == NULL) {
			c->rv = ENG_ENOMEM;
			c->stop = 1;
			return;
		}
		if (*s == '\0')
			continue;	/* unnamed column: ignored */
		col = -1;
		for (k = 0; k < sizeof(col_aliases) / sizeof(col_aliases[0]);
		    k++)
			if (roster_word_eq(s, col_aliases[k].name)) {
				col = (int)col_aliases[k].col;
				break;
			}
		/* 区划代码 in a responders or devices sheet is the region. */
		if (col == COL_CODE && c->kind != ROSTER_REGIONS)
			col = COL_REGION;
		if (col < 0 || !(allowed & C(col))) {
			perr(c, c->row_line, s, "unknown column '%.60s' in "
			    "a %s file", s, roster_kind_name(c->kind));
			continue;
		}
		if (seen & C(col)) {
			perr(c, c->row_line, s, "column '%.60s' repeats column "
			    "'%s'", s, c->col_text[c->idx_of[col]]);
			continue;
		}
		seen |= C(col);
		c->col_of[i] = col;
		c->idx_of[col] = i;
	}
	for (col = 0; col < COL_COUNT; col++)
		if ((req & C(col)) && !(seen & C(col)))
			perr(c, c->row_line, col_names[col], "missing required "
			    "column '%s'", col_names[col]);
	if (c->nerr > 0)
		c->stop = 1;
	c->header_done = 1;
}

/* ---- libcsv callbacks ---------------------------------------------- */

static void
row_reset(struct pctx *c)
{
	c->nf = 0;
	c->blen = 0;
	c->toolong = -1;
	c->nonempty = 0;
	c->extra = 0;
}

static void
on_field(void *data, size_t len, void *arg)
{
	struct pctx *c = arg;
	const char *s = data;
	int i = c->nf++;
	size_t need_cap, k;
	char *nb, *dst;

	if (c->stop)
		return;
	while (len > 0 && isblankc((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len > 0 && isblankc((unsigned char)s[len - 1]))
		len--;
	if (len > 0)
		c->nonempty = 1;
	if (c->header_done && i >= c->ncols) {
		if (len > 0)
			c->extra = 1;
		return;
	}
	if (i >= MAX_COLS)
		return;
	if (len > ROSTER_MAX_FIELD) {
		if (c->toolong < 0)
			c->toolong = i;
		len = 0;
	}
	need_cap = c->blen + len + 1;
	if (need_cap > c->bcap) {
		size_t nc = c->bcap ? c->bcap : 1024;

		while (nc < need_cap)
			nc *= 2;
		if ((nb = realloc(c->buf, nc)) == NULL) {
			c->rv = ENG_ENOMEM;
			c->stop = 1;
			return;
		}
		c->buf = nb;
		c->bcap = nc;
	}
	/* Most fields are short: a plain loop beats the inlined rep movs
	 * the compiler emits for memcpy here. */
	dst = c->buf + c->blen;
	if (len <= 32) {
		for (k = 0; k < len; k++)
			dst[k] = s[k];
	} else
		memcpy(dst, s, len);
	dst[len] = '\0';
	c->foff[i] = c->blen;
	c->flen[i] = len;
	c->blen += len + 1;
}

static void
on_row(int term, void *arg)
{
	struct pctx *c = arg;

	(void)term;
	if (c->stop)
		goto out;
	if (!c->nonempty && c->toolong < 0)
		goto out;		/* blank row (",,,," too) */
	if (!c->header_done) {
		if (c->toolong >= 0) {
			perr(c, c->row_line, NULL, "header field longer than "
			    "%d bytes", ROSTER_MAX_FIELD);
			c->stop = 1;
			goto out;
		}
		if (c->nf > MAX_COLS) {
			perr(c, c->row_line, NULL, "header has %d columns (at "
			    "most %d)", c->nf, MAX_COLS);
			c->stop = 1;
			goto out;
		}
		header(c);
		goto out;
	}
	if (++c->nrows > ROSTER_MAX_ROWS) {
		perr(c, c->row_line, NULL, "more than %d rows",
		    ROSTER_MAX_ROWS);
		c->stop = 1;
		goto out;
	}
	if (c->toolong >= 0) {
		perr(c, c->row_line, c->col_text[c->toolong], "field longer "
		    "than %d bytes", ROSTER_MAX_FIELD);
		goto out;
	}
	if (c->extra) {
		perr(c, c->row_line, NULL, "row has %d fields but the header "
		    "has %d columns", c->nf, c->ncols);
		goto out;
	}
	switch (c->kind) {
	case ROSTER_REGIONS:
		row_region(c);
		break;
	case ROSTER_RESPONDERS:
		row_responder(c);
		break;
	case ROSTER_DEVICES:
		row_device(c);
		break;
	}
out:
	row_reset(c);
}

/* ---- driver -------------------------------------------------------- */

static long
line_at(const char *buf, size_t off)
{
	long line = 1;
	const char *p = buf, *end = buf + off;

	while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		line++;
		p++;
	}
	return line;
}

/* Decode into UTF-8: *text points into buf or at *owned (malloc'd). */
static int
decode(struct pctx *c, const char *buf, size_t len,
    enum roster_encoding enc, const char **text, size_t *tlen, char **owned)
{
	size_t bad, gbad;
	int rv;

	*owned = NULL;
	if (len >= 2 && (((unsigned char)buf[0] == 0xff &&
	    (unsigned char)buf[1] == 0xfe) || ((unsigned char)buf[0] == 0xfe &&
	    (unsigned char)buf[1] == 0xff))) {
		perr(c, 1, NULL, "UTF-16 text is not supported: save the sheet "
		    "as CSV (UTF-8 or GBK)");
		return ENG_EINVAL;
	}
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
		buf += 3;
		len -= 3;
		if (enc == ROSTER_ENC_AUTO)
			enc = ROSTER_ENC_UTF8;
	}
	if (enc != ROSTER_ENC_GBK) {
		bad = utf8_check(buf, len);
		if (bad == len) {
			*text = buf;
			*tlen = len;
			return 0;
		}
		if (enc == ROSTER_ENC_UTF8) {
			perr(c, line_at(buf, bad), NULL, "invalid UTF-8 (byte "
			    "0x%02x at offset %zu); if the file is GBK, say so",
			    (unsigned char)buf[bad], bad);
			return ENG_EINVAL;
		}
	}
	rv = roster_gb18030_to_utf8(buf, len, owned, tlen, &gbad);
	if (rv == ENG_EINVAL) {
		if (enc == ROSTER_ENC_GBK)
			perr(c, line_at(buf, gbad), NULL, "invalid GBK/GB18030 "
			    "(byte 0x%02x at offset %zu)",
			    (unsigned char)buf[gbad], gbad);
		else
			perr(c, line_at(buf, bad), NULL, "neither UTF-8 nor "
			    "GBK/GB18030 text (byte 0x%02x at offset %zu is "
			    "not valid UTF-8, byte 0x%02x at offset %zu not valid "
			    "GB18030)", (unsigned char)buf[bad], bad,
			    (unsigned char)buf[gbad], gbad);
		return ENG_EINVAL;
	}
	if (rv != 0)
		return rv;
	*text = *owned;
	return 0;
}

/* libcsv's parser states (libcsv.c: ROW_NOT_BEGUN, FIELD_BEGUN); the
 * state and the quoted flag are public members of struct csv_parser. */
#define CSV_ROW_NOT_BEGUN 0
#define CSV_FIELD_BEGUN 2

int
roster_parse(enum roster_kind kind, const char *buf, size_t len,
    const char *file, enum roster_encoding enc, struct roster *r,
    struct diag_list *diags)
{
	struct csv_parser p;
	struct pctx c;
	const char *text, *nl, *pos, *end, *nul;
	char *owned = NULL;
	size_t tlen, n;
	int rv = 0, i, csv_ok = 0;

	roster_release(r);
	memset(&c, 0, sizeof(c));
	c.kind = kind;
	c.file = file != NULL ? file : "<input>";
	c.r = r;
	c.diags = diags;
	c.line = 1;
	for (i = 0; i < COL_COUNT; i++)
		c.idx_of[i] = -1;
	row_reset(&c);
	if (kind < ROSTER_REGIONS || kind > ROSTER_DEVICES)
		return ENG_EINVAL;
	if (len > ROSTER_MAX_BYTES) {
		perr(&c, 0, NULL, "file is %zu bytes (at most %u)", len,
		    ROSTER_MAX_BYTES);
		return ENG_ETOOBIG;
	}
	if ((r->file = strdup(c.file)) == NULL)
		return ENG_ENOMEM;
	r->kind = kind;
	if ((rv = decode(&c, buf, len, enc, &text, &tlen, &owned)) != 0)
		goto out;
	if ((nul = memchr(text, '\0', tlen)) != NULL) {
		perr(&c, line_at(text, (size_t)(nul - text)), NULL, "NUL byte "
		    "at offset %zu: not a text file", (size_t)(nul - text));
		rv = ENG_EINVAL;
		goto out;
	}
	if (csv_init(&p, 0) != 0) {
		rv = ENG_ENOMEM;
		goto out;
	}
	csv_ok = 1;
	csv_set_blk_size(&p, 64 * 1024);
	/* Feed one physical line at a time: a row begins on the line being
	 * fed when the parser is between rows at its start. */
	pos = text;
	end = text + tlen;
	while (pos < end && !c.stop) {
		nl = memchr(pos, '\n', (size_t)(end - pos));
		n = nl != NULL ? (size_t)(nl - pos) + 1 : (size_t)(end - pos);
		if (p.pstate == CSV_ROW_NOT_BEGUN)
			c.row_line = c.line;
		if (csv_parse(&p, pos, n, on_field, on_row, &c) != n) {
			rv = csv_error(&p) == CSV_ENOMEM ? ENG_ENOMEM :
			    ENG_EINVAL;
			perr(&c, c.row_line, NULL, "CSV error: %s",
			    csv_strerror(csv_error(&p)));
			goto out;
		}
		pos += n;
		if (nl != NULL)
			c.line++;
	}
	/* csv_fini() only reports an open quote in strict mode, which would
	 * also refuse stray quotes inside fields: check it here. */
	if (!c.stop && p.quoted && p.pstate == CSV_FIELD_BEGUN)
		perr(&c, c.row_line, NULL, "unterminated quoted field (a '\"' "
		    "without its closing quote)");
	else if (!c.stop)
		(void)csv_fini(&p, on_field, on_row, &c);
	if (c.rv != 0) {
		rv = c.rv;
		goto out;
	}
	if (!c.header_done && c.nerr == 0)
		perr(&c, c.line, NULL, "no header row (the file is empty)");
	if (c.nerr > 0)
		rv = ENG_EINVAL;
out:
	if (csv_ok)
		csv_free(&p);
	free(owned);
	free(c.buf);
	free(c.tab);
	for (i = 0; i < MAX_COLS; i++)
		free(c.col_text[i]);
	if (rv != 0) {
		roster_release(r);
		r->kind = kind;
	}
	return rv;
}

int
roster_parse_file(enum roster_kind kind, const char *path,
    enum roster_encoding enc, struct roster *r, struct diag_list *diags)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	ssize_t k;
	struct diag_list local;
	int fd, rv;

	diag_list_init(&local);
	if (diags == NULL)
		diags = &local;
	roster_release(r);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		rv = errno == ENOENT ? ENG_ENOENT : ENG_EIO;
		(void)diag_add(diags, DIAG_ERROR, path, 0, NULL,
		    "cannot open: %s", strerror(errno));
		diag_list_release(&local);
		return rv;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		(void)diag_add(diags, DIAG_ERROR, path, 0, NULL,
		    "not a regular file");
		rv = ENG_EIO;
		goto out;
	}
	if ((uintmax_t)st.st_size > ROSTER_MAX_BYTES) {
		(void)diag_add(diags, DIAG_ERROR, path, 0, NULL, "file is %jd "
		    "bytes (at most %u)", (intmax_t)st.st_size,
		    ROSTER_MAX_BYTES);
		rv = ENG_ETOOBIG;
		goto out;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		rv = ENG_ENOMEM;
		goto out;
	}
	while (got < (size_t)st.st_size) {
		k = read(fd, buf + got, (size_t)st.st_size - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			(void)diag_add(diags, DIAG_ERROR, path, 0, NULL,
			    "read: %s", strerror(errno));
			rv = ENG_EIO;
			goto out;
		}
		if (k == 0)
			break;
		got += (size_t)k;
	}
	rv = roster_parse(kind, buf, got, path, enc, r, diags);
out:
	free(buf);
	close(fd);
	diag_list_release(&local);
	return rv;
}
