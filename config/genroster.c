/*
 * config/genroster.c - deterministic roster generator (see genroster.h).
 */
#include "config/genroster.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- PRNG: splitmix64, so output never depends on libc's rand() ---- */

struct rng {
	uint64_t s;
};

static uint64_t
rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned
rng_below(struct rng *r, unsigned n)
{
	return (unsigned)(rng_next(r) % n);
}

/* Uniform in [-1, 1). */
static double
rng_sym(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * (2.0 / 9007199254740992.0) - 1.0;
}

/* ---- name pools ---------------------------------------------------- */

static const char *const surnames[] = {
	"王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐",
	"孙", "胡", "朱", "高", "林", "何", "郭", "马", "罗", "梁", "宋",
	"郑", "谢", "韩", "唐", "冯", "于", "董", "程", "曹", "袁", "邓",
	"许", "傅", "沈", "曾", "彭", "吕", "苏", "卢", "蒋", "蔡", "贾",
	"丁", "魏", "薛", "叶", "阎", "潘", "杜", "戴", "田", "任", "范",
	"石", "姚", "崔", "康", "毛", "秦", "史", "侯", "孟", "段", "雷",
	"牛", "申", "武", "常", "乔", "贺", "靳", "连", "秦", "原", "暴",
};

static const char *const given[] = {
	"建", "国", "华", "明", "强", "军", "平", "伟", "文", "红", "英",
	"芳", "丽", "秀", "兰", "霞", "玉", "春", "海", "志", "永", "德",
	"成", "林", "新", "小", "忠", "庆", "宝", "福", "生", "金", "俊",
	"晓", "丹", "敏", "静", "杰", "涛", "斌", "鹏", "辉", "刚", "勇",
	"亮", "峰", "瑞", "虎", "爱", "梅", "燕", "娟", "慧", "珍", "云",
	"利", "民", "荣", "树", "光", "东", "旭", "晨", "宇", "浩", "鑫",
};

static const char *const place1[] = {
	"东", "西", "南", "北", "上", "下", "前", "后", "大", "小", "新",
	"老", "石", "河", "山", "岭", "龙", "凤", "黄", "白", "红", "青",
	"金", "长", "安", "太", "平", "和", "兴", "柳", "杨", "桃", "枣",
	"杏", "梨", "马", "牛", "羊", "鹿", "虎", "南", "王", "李", "张",
	"赵", "高", "郭", "常", "申", "韩", "故", "古", "双", "三", "五",
};

static const char *const place2[] = {
	"庄", "沟", "坪", "峪", "河", "岭", "头", "底", "堡", "院", "寨",
	"坡", "湾", "窑", "泉", "门", "口", "源", "阳", "池", "峰", "村",
	"营", "店", "井", "桥", "庙", "洼", "垴", "掌",
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void
person_name(struct rng *r, char *out, size_t size)
{
	const char *s = surnames[rng_below(r, NELEM(surnames))];
	const char *a = given[rng_below(r, NELEM(given))];

	if (rng_below(r, 4) == 0)
		(void)snprintf(out, size, "%s%s", s, a);
	else
		(void)snprintf(out, size, "%s%s%s", s, a,
		    given[rng_below(r, NELEM(given))]);
}

static void
place_name(struct rng *r, const char *suffix, char *out, size_t size)
{
	const char *a = place1[rng_below(r, NELEM(place1))];
	const char *b = place2[rng_below(r, NELEM(place2))];

	switch (rng_below(r, 5)) {
	case 0:		/* 张家庄村 */
		(void)snprintf(out, size, "%s家%s%s",
		    surnames[rng_below(r, NELEM(surnames))], b, suffix);
		break;
	case 1:		/* 东石门村 */
		(void)snprintf(out, size, "%s%s%s%s", a,
		    place1[rng_below(r, NELEM(place1))], b, suffix);
		break;
	default:	/* 石坪村 */
		(void)snprintf(out, size, "%s%s%s", a, b, suffix);
		break;
	}
}

/* ---- the demo's fixed divisions ------------------------------------ */

struct fixed_div {
	const char *code;	/* 6 digits (county) or 9 (township) */
	const char *name;
	double lat, lon;
	double weight;		/* share of villages (counties) */
	double spread;		/* village scatter, degrees (townships) */
};

static const struct fixed_div demo_counties[] = {
	{ "140403", "潞州区", 36.203, 113.123, 1.0, 0 },
	{ "140404", "上党区", 36.053, 113.051, 1.0, 0 },
	{ "140405", "屯留区", 36.316, 112.892, 1.0, 0 },
	{ "140406", "潞城区", 36.334, 113.229, 0.8, 0 },
	{ "140423", "襄垣县", 36.535, 113.052, 1.0, 0 },
	{ "140425", "平顺县", 36.200, 113.436, 0.9, 0 },
	{ "140426", "黎城县", 36.503, 113.387, 0.8, 0 },
	{ "140427", "壶关县", 36.115, 113.207, 1.0, 0 },
	{ "140428", "长子县", 36.122, 112.877, 1.1, 0 },
	{ "140429", "武乡县", 36.837, 112.864, 1.0, 0 },
	{ "140430", "沁县", 36.757, 112.699, 0.9, 0 },
	{ "140431", "沁源县", 36.500, 112.338, 1.0, 0 },
	{ "140471", "高新技术产业园区", 36.180, 113.080, 0.15, 0 },
};

/*
 * 平顺县's townships, placed for the cap-samples: the exercise polygon
 * 36.10-36.35 N, 113.40-113.75 E (平顺县东部山区) holds the villages of
 * 石城镇, 阳高乡, 东寺头乡 and 虹梯关乡 (虹梯关乡 sits at the centre of the
 * 8.5 km circle 36.18,113.62); the others lie west or south of it.
 */
static const struct fixed_div pingshun[] = {
	{ "140425100", "青羊镇", 36.205, 113.330, 0, 0.030 },
	{ "140425101", "龙溪镇", 36.125, 113.290, 0, 0.030 },
	{ "140425102", "石城镇", 36.290, 113.640, 0, 0.030 },
	{ "140425103", "苗庄镇", 36.300, 113.300, 0, 0.030 },
	{ "140425104", "杏城镇", 36.040, 113.450, 0, 0.025 },
	{ "140425200", "北耽车乡", 36.020, 113.350, 0, 0.025 },
	{ "140425201", "东寺头乡", 36.160, 113.520, 0, 0.025 },
	{ "140425202", "虹梯关乡", 36.180, 113.620, 0, 0.035 },
	{ "140425203", "阳高乡", 36.250, 113.530, 0, 0.030 },
	{ "140425204", "西沟乡", 36.280, 113.350, 0, 0.030 },
	{ "140425205", "北社乡", 36.380, 113.440, 0, 0.025 },
};

/* ---- output -------------------------------------------------------- */

struct gen {
	const struct genroster_opts *o;
	struct rng rng;
	FILE *freg, *fresp, *fdev;
	struct genroster_stats st;
	unsigned long phone_seq;
	int ioerr;
};

static void
put(struct gen *g, FILE *f, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
put(struct gen *g, FILE *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vfprintf(f, fmt, ap) < 0)
		g->ioerr = 1;
	va_end(ap);
}

static void
region_row(struct gen *g, const char *code, const char *name, double lat,
    double lon)
{
	put(g, g->freg, "%s,%s,%.5f,%.5f,\n", code, name, lat, lon);
	g->st.regions++;
}

static void
responder_row(struct gen *g, const char *id, const char *region,
    const char *role, int active, int exercise)
{
	char name[32], phone[12], wecom[24] = "", email[64] = "";
	unsigned long n;

	person_name(&g->rng, name, sizeof(name));
	/* 100 + 8 digits: a bijection of the sequence number mod 10^8 (the
	 * multiplier is prime to 10), so phones never repeat. */
	n = (unsigned long)((g->phone_seq++ * 48271ULL +
	    g->o->seed % 100000000ULL) % 100000000ULL);
	(void)snprintf(phone, sizeof(phone), "100%08lu", n);
	if (rng_below(&g->rng, 10) < 3)
		(void)snprintf(wecom, sizeof(wecom), "wx%08lu", n);
	if (rng_below(&g->rng, 20) == 0)
		(void)snprintf(email, sizeof(email), "u%08lu@example.cn", n);
	put(g, g->fresp, "%s,%s,%s,%s,%s,%s,%s,%s,%s\n", id, name, region,
	    role, phone, wecom, email, active ? "yes" : "no",
	    exercise ? "yes" : "no");
	g->st.responders++;
}

static void
duty_officers(struct gen *g, const char *code)
{
	char id[32];
	int i;

	for (i = 1; i <= 2; i++) {
		(void)snprintf(id, sizeof(id), "%s-D%d", code, i);
		responder_row(g, id, code, "duty_officer", 1,
		    rng_below(&g->rng, 4) == 0);
	}
}

static void
device_row(struct gen *g, const char *id, const char *region,
    const char *kind, const char *channel, const char *addr)
{
	put(g, g->fdev, "%s,%s,%s,%s,%s\n", id, region, kind, channel, addr);
	g->st.devices++;
}

static const char *const village_roles[] = {
	"responsible", "warner", "grid_worker", "info_officer",
};

static void
village(struct gen *g, const char *code, double lat, double lon)
{
	char name[48], id[32], addr[48];
	unsigned k;

	place_name(&g->rng, "村", name, sizeof(name));
	region_row(g, code, name, lat, lon);
	g->st.villages++;
	for (k = 0; k < g->o->responders; k++) {
		(void)snprintf(id, sizeof(id), "%s-%u", code, k + 1);
		responder_row(g, id, code, village_roles[k % 4],
		    rng_below(&g->rng, 40) != 0, rng_below(&g->rng, 5) == 0);
	}
	(void)snprintf(id, sizeof(id), "LS-%s", code);
	(void)snprintf(addr, sizeof(addr), "zone/%s", code);
	device_row(g, id, code, "loudspeaker", "loudspeaker", addr);
	if (rng_below(&g->rng, 6) == 0) {
		(void)snprintf(id, sizeof(id), "SR-%s", code);
		(void)snprintf(addr, sizeof(addr), "siren/%s", code);
		device_row(g, id, code, "siren", "siren", addr);
	}
}

/* Split q villages into t townships of at least 2 (and at most 199). */
static void
split(struct rng *r, unsigned long q, unsigned t, unsigned *parts)
{
	unsigned i, d, base;

	base = (unsigned)(q / t);
	for (i = 0; i < t; i++)
		parts[i] = base + (i < q % t ? 1 : 0);
	for (i = 0; i + 1 < t; i++) {
		if (base < 6)
			break;
		d = rng_below(r, base / 2);
		if (rng_below(r, 2) && parts[i] > d + 2 &&
		    parts[i + 1] + d <= 199) {
			parts[i] -= d;
			parts[i + 1] += d;
		} else if (parts[i + 1] > d + 2 && parts[i] + d <= 199) {
			parts[i] += d;
			parts[i + 1] -= d;
		}
	}
}

static void
township(struct gen *g, const char *tcode, const char *name, double lat,
    double lon, double spread, unsigned nv)
{
	char vcode[REGION_CODE_SIZE], id[32], addr[48];
	unsigned j;

	region_row(g, tcode, name, lat, lon);
	g->st.townships++;
	duty_officers(g, tcode);
	(void)snprintf(id, sizeof(id), "GC-%.9s", tcode);
	(void)snprintf(addr, sizeof(addr), "chat/%.9s", tcode);
	device_row(g, id, tcode, "group_chat", "wecom", addr);
	for (j = 0; j < nv; j++) {
		(void)snprintf(vcode, sizeof(vcode), "%.9s%03u", tcode,
		    201 + j);
		village(g, vcode, lat + spread * rng_sym(&g->rng),
		    lon + spread * 1.2 * rng_sym(&g->rng));
	}
}

static int
county(struct gen *g, const char *ccode, const char *name, double lat,
    double lon, unsigned long q, struct eng_errbuf *eb)
{
	char tcode[REGION_CODE_SIZE], tname[48], id[32], addr[32];
	unsigned *parts = NULL, t, i, towns;
	int pingshun_demo = g->o->demo && strncmp(ccode, "140425", 6) == 0;
	double tlat, tlon;

	region_row(g, ccode, name, lat, lon);
	g->st.counties++;
	duty_officers(g, ccode);
	(void)snprintf(id, sizeof(id), "%s-L1", ccode);
	responder_row(g, id, ccode, "leader", 1, 0);
	(void)snprintf(id, sizeof(id), "FM-%.6s", ccode);
	(void)snprintf(addr, sizeof(addr), "fm/%.1f",
	    87.5 + (double)rng_below(&g->rng, 200) / 10.0);
	device_row(g, id, ccode, "radio", "radio", addr);
	if (q == 0)
		return 0;
	if (pingshun_demo)
		t = NELEM(pingshun);
	else
		t = (unsigned)((q + 19) / 20);
	if (t > 300)
		t = 300;
	if (q < 2ul * t)
		t = q < 2 ? 1 : (unsigned)(q / 2);
	if ((q + t - 1) / t > 199)
		return eng_error(eb, ENG_EINVAL, "%lu villages do not fit in "
		    "county %s (at most 300 x 199)", q, ccode);
	if ((parts = calloc(t, sizeof(*parts))) == NULL)
		return eng_error(eb, ENG_ENOMEM, "out of memory");
	split(&g->rng, q, t, parts);
	towns = t * 2 / 5;
	if (towns < 1)
		towns = 1;
	if (towns > 100)
		towns = 100;
	if (t - towns > 200)
		towns = t - 200;
	for (i = 0; i < t; i++) {
		if (pingshun_demo) {
			(void)snprintf(tcode, sizeof(tcode), "%s000",
			    pingshun[i].code);
			township(g, tcode, pingshun[i].name, pingshun[i].lat,
			    pingshun[i].lon, pingshun[i].spread, parts[i]);
			continue;
		}
		(void)snprintf(tcode, sizeof(tcode), "%.6s%03u000", ccode,
		    i < towns ? 100 + i : 200 + (i - towns));
		place_name(&g->rng, i < towns ? "镇" : "乡", tname,
		    sizeof(tname));
		tlat = lat + 0.10 * rng_sym(&g->rng);
		tlon = lon + 0.11 * rng_sym(&g->rng);
		township(g, tcode, tname, tlat, tlon, 0.025, parts[i]);
	}
	free(parts);
	return 0;
}

void
genroster_opts_init(struct genroster_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->villages = 1000;
	o->responders = 5;
	o->seed = 1;
	(void)snprintf(o->root, sizeof(o->root), "140400000000");
}

void
genroster_opts_demo(struct genroster_opts *o)
{
	genroster_opts_init(o);
	o->villages = GENROSTER_DEMO_VILLAGES;
	o->responders = GENROSTER_DEMO_RESPONDERS;
	o->seed = GENROSTER_DEMO_SEED;
	o->demo = 1;
}

/* Villages of county i of n by weight, exactly q in total. */
static unsigned long
share(unsigned long q, const double *w, size_t n, size_t i)
{
	double tot = 0, before = 0;
	size_t k;

	for (k = 0; k < n; k++) {
		tot += w[k];
		if (k < i)
			before += w[k];
	}
	return (unsigned long)((double)q * (before + w[i]) / tot + 0.5) -
	    (unsigned long)((double)q * before / tot + 0.5);
}

static int
gen_demo(struct gen *g, struct eng_errbuf *eb)
{
	double w[NELEM(demo_counties)];
	char code[REGION_CODE_SIZE];
	size_t i;
	int rv;

	if (g->o->villages < 200)
		return eng_error(eb, ENG_EINVAL, "the demo needs at least 200 "
		    "villages");
	region_row(g, "140400000000", "长治市", 36.195, 113.117);
	duty_officers(g, "140400000000");
	for (i = 0; i < NELEM(demo_counties); i++)
		w[i] = demo_counties[i].weight;
	for (i = 0; i < NELEM(demo_counties); i++) {
		(void)snprintf(code, sizeof(code), "%s000000",
		    demo_counties[i].code);
		if ((rv = county(g, code, demo_counties[i].name,
		    demo_counties[i].lat, demo_counties[i].lon,
		    share(g->o->villages, w, NELEM(demo_counties), i),
		    eb)) != 0)
			return rv;
	}
	return 0;
}

/* Villages per county aimed at (about 15 townships of 20). */
#define PER_COUNTY 300

static int
gen_plain(struct gen *g, struct eng_errbuf *eb)
{
	enum region_level lvl = region_code_level(g->o->root);
	const char *root = g->o->root;
	unsigned long q = g->o->villages, nc, ncity, ci, k, per, left, qc;
	char code[REGION_CODE_SIZE], name[48];
	double clat, clon;
	int rv;

	if (lvl == REGION_COUNTY) {
		place_name(&g->rng, "县", name, sizeof(name));
		return county(g, root, name, 36.2, 113.1, q, eb);
	}
	nc = (q + PER_COUNTY - 1) / PER_COUNTY;
	if (nc < 1)
		nc = 1;
	if (lvl == REGION_CITY) {
		if (nc > 99)
			nc = 99;
		ncity = 1;
		place_name(&g->rng, "市", name, sizeof(name));
		region_row(g, root, name, 36.2, 113.1);
		duty_officers(g, root);
	} else {
		if (nc > 99 * 20)
			nc = 99 * 20;
		ncity = (nc + 19) / 20;
		place_name(&g->rng, "省", name, sizeof(name));
		region_row(g, root, name, 37.0, 112.5);
		duty_officers(g, root);
	}
	left = q;
	for (ci = 0; ci < ncity; ci++) {
		clat = 37.0 + 1.5 * rng_sym(&g->rng);
		clon = 112.5 + 1.5 * rng_sym(&g->rng);
		if (lvl == REGION_PROVINCE) {
			(void)snprintf(code, sizeof(code), "%.2s%02lu00000000",
			    root, ci + 1);
			place_name(&g->rng, "市", name, sizeof(name));
			region_row(g, code, name, clat, clon);
			duty_officers(g, code);
		} else {
			clat = 36.2;
			clon = 113.1;
		}
		per = lvl == REGION_PROVINCE ? 20 : nc;
		for (k = 0; k < per && ci * 20 + k < nc; k++) {
			unsigned long idx = ci * 20 + k;

			if (lvl == REGION_PROVINCE)
				(void)snprintf(code, sizeof(code),
				    "%.2s%02u%02u000000", root,
				    (unsigned)((ci + 1) % 100),
				    (unsigned)((k + 1) % 100));
			else
				(void)snprintf(code, sizeof(code),
				    "%.4s%02u000000", root,
				    (unsigned)((k + 1) % 100));
			qc = lvl == REGION_PROVINCE ? left / (nc - idx) :
			    left / (nc - k);
			left -= qc;
			place_name(&g->rng, rng_below(&g->rng, 4) ? "县" :
			    "区", name, sizeof(name));
			if ((rv = county(g, code, name,
			    clat + 0.4 * rng_sym(&g->rng),
			    clon + 0.4 * rng_sym(&g->rng), qc, eb)) != 0)
				return rv;
		}
	}
	return 0;
}

int
genroster_write(const struct genroster_opts *o, FILE *regions,
    FILE *responders, FILE *devices, struct genroster_stats *stats,
    struct eng_errbuf *eb)
{
	struct gen g;
	enum region_level lvl = region_code_level(o->root);
	int rv;

	memset(&g, 0, sizeof(g));
	g.o = o;
	g.rng.s = o->seed;
	g.freg = regions;
	g.fresp = responders;
	g.fdev = devices;
	if (o->responders < 1 || o->responders > 50)
		return eng_error(eb, ENG_EINVAL, "responders per village must "
		    "be 1 to 50");
	if (o->villages > 5000000)
		return eng_error(eb, ENG_EINVAL, "at most 5000000 villages");
	if (o->demo) {
		if (strcmp(o->root, "140400000000") != 0)
			return eng_error(eb, ENG_EINVAL, "the demo's root is "
			    "140400000000 (长治市)");
	} else if (lvl < REGION_PROVINCE || lvl > REGION_COUNTY)
		return eng_error(eb, ENG_EINVAL, "root '%s' is not a province, "
		    "city or county code", o->root);
	put(&g, regions, "code,name,lat,lon,parent\n");
	put(&g, responders, "id,name,region,role,phone,wecom,email,active,"
	    "exercise\n");
	put(&g, devices, "id,region,kind,channel,address\n");
	rv = o->demo ? gen_demo(&g, eb) : gen_plain(&g, eb);
	if (rv != 0)
		return rv;
	if (g.ioerr || fflush(regions) != 0 || fflush(responders) != 0 ||
	    fflush(devices) != 0 || ferror(regions) || ferror(responders) ||
	    ferror(devices))
		return eng_error(eb, ENG_EIO, "write error");
	if (stats != NULL)
		*stats = g.st;
	return 0;
}

int
genroster_write_dir(const struct genroster_opts *o, const char *dir,
    struct genroster_stats *stats, struct eng_errbuf *eb)
{
	static const char *const names[3] = {
		"regions.csv", "responders.csv", "devices.csv"
	};
	FILE *f[3] = { NULL, NULL, NULL };
	char path[4096];
	int i, rv = 0;

	for (i = 0; i < 3; i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		    names[i]) >= sizeof(path)) {
			rv = eng_error(eb, ENG_EINVAL, "path too long");
			goto out;
		}
		if ((f[i] = fopen(path, "w")) == NULL) {
			rv = eng_error(eb, ENG_EIO, "cannot create %s", path);
			goto out;
		}
	}
	rv = genroster_write(o, f[0], f[1], f[2], stats, eb);
out:
	for (i = 0; i < 3; i++)
		if (f[i] != NULL && fclose(f[i]) != 0 && rv == 0)
			rv = eng_error(eb, ENG_EIO, "cannot write %s/%s", dir,
			    names[i]);
	return rv;
}
