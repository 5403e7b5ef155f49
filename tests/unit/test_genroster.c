/*
 * tests/unit/test_genroster.c - the roster generator: valid under
 * roster_parse, deterministic, the committed demo is what the generator
 * makes, cap-sample codes exist, the exercise polygon covers the right
 * villages, duty officers at every level.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/genroster.h"
#include "engine/roster.h"

struct out {
	char *buf[3];
	size_t len[3];
	struct genroster_stats st;
	struct roster r[3];
	struct diag_list d;
};

static int
setup(void **state)
{
	struct out *o = calloc(1, sizeof(*o));
	int i;

	assert_non_null(o);
	for (i = 0; i < 3; i++)
		roster_init(&o->r[i]);
	diag_list_init(&o->d);
	*state = o;
	return 0;
}

static int
teardown(void **state)
{
	struct out *o = *state;
	int i;

	for (i = 0; i < 3; i++) {
		free(o->buf[i]);
		roster_release(&o->r[i]);
	}
	diag_list_release(&o->d);
	free(o);
	return 0;
}

static int
gen(struct out *o, const struct genroster_opts *opts)
{
	FILE *f[3];
	struct eng_errbuf eb;
	int i, rv;

	for (i = 0; i < 3; i++) {
		free(o->buf[i]);
		o->buf[i] = NULL;
		f[i] = open_memstream(&o->buf[i], &o->len[i]);
		assert_non_null(f[i]);
	}
	eng_errbuf_init(&eb);
	rv = genroster_write(opts, f[0], f[1], f[2], &o->st, &eb);
	for (i = 0; i < 3; i++)
		assert_int_equal(fclose(f[i]), 0);
	return rv;
}

/* Generate and parse all three files; every one must be clean. */
static void
gen_parse(struct out *o, const struct genroster_opts *opts)
{
	static const enum roster_kind k[3] = {
		ROSTER_REGIONS, ROSTER_RESPONDERS, ROSTER_DEVICES
	};
	int i;

	assert_int_equal(gen(o, opts), 0);
	for (i = 0; i < 3; i++) {
		assert_int_equal(roster_parse(k[i], o->buf[i], o->len[i],
		    roster_kind_name(k[i]), ROSTER_ENC_UTF8, &o->r[i], &o->d),
		    0);
		assert_int_equal(o->d.n, 0);
	}
	assert_int_equal(o->r[0].nregions, o->st.regions);
	assert_int_equal(o->r[1].nresponders, o->st.responders);
	assert_int_equal(o->r[2].ndevices, o->st.devices);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static const struct roster_region *
find_region(const struct roster *r, const char *code)
{
	size_t i;

	for (i = 0; i < r->nregions; i++)
		if (strcmp(r->regions[i].code, code) == 0)
			return &r->regions[i];
	return NULL;
}

static void
t_small_valid(void **state)
{
	struct out *o = *state;
	struct genroster_opts opts;
	char **ph;
	size_t i, n, nv = 0, nloud = 0;

	genroster_opts_init(&opts);
	opts.villages = 450;
	opts.responders = 5;
	opts.seed = 99;
	gen_parse(o, &opts);
	assert_int_equal(o->st.villages, 450);
	assert_int_equal(o->st.counties, 2);	/* 300 per county */
	for (i = 0; i < o->r[0].nregions; i++) {
		const struct roster_region *g = &o->r[0].regions[i];

		assert_true(g->has_centroid);
		if (region_code_level(g->code) == REGION_VILLAGE) {
			nv++;
			/* village committees 201..399 */
			assert_true(strcmp(g->code + 9, "201") >= 0 &&
			    strcmp(g->code + 9, "399") <= 0);
			assert_non_null(strstr(g->name, "村"));
		}
		if (region_code_level(g->code) == REGION_TOWNSHIP) {
			long t = strtol(g->code + 6, NULL, 10) / 1000;

			assert_true((t >= 100 && t <= 199) ||
			    (t >= 200 && t <= 399));
		}
	}
	assert_int_equal(nv, 450);
	/* Phones: unique, 100 + 8 digits. */
	n = o->r[1].nresponders;
	ph = calloc(n, sizeof(*ph));
	assert_non_null(ph);
	for (i = 0; i < n; i++) {
		ph[i] = o->r[1].responders[i].phone;
		assert_non_null(ph[i]);
		assert_int_equal(strlen(ph[i]), 11);
		assert_memory_equal(ph[i], "100", 3);
	}
	qsort(ph, n, sizeof(*ph), cmp_str);
	for (i = 1; i < n; i++)
		assert_string_not_equal(ph[i - 1], ph[i]);
	free(ph);
	for (i = 0; i < o->r[2].ndevices; i++)
		if (o->r[2].devices[i].kind == DEVICE_LOUDSPEAKER)
			nloud++;
	assert_int_equal(nloud, 450);	/* one per village */
}

/* Two duty officers at city, county and township level; every village
 * has K responders; some exercise participants, some inactive. */
static void
t_duty_officers(void **state)
{
	struct out *o = *state;
	struct genroster_opts opts;
	size_t i, j, nduty, nresp, nex = 0, ninact = 0;
	enum region_level lvl;

	genroster_opts_init(&opts);
	opts.villages = 200;
	opts.responders = 3;
	gen_parse(o, &opts);
	for (i = 0; i < o->r[0].nregions; i++) {
		const char *code = o->r[0].regions[i].code;

		lvl = region_code_level(code);
		nduty = nresp = 0;
		for (j = 0; j < o->r[1].nresponders; j++) {
			const struct roster_responder *p =
			    &o->r[1].responders[j];

			if (strcmp(p->region, code) != 0)
				continue;
			nresp++;
			if (strcmp(p->role, "duty_officer") == 0)
				nduty++;
		}
		if (lvl == REGION_VILLAGE)
			assert_int_equal(nresp, 3);
		else
			assert_int_equal(nduty, 2);
	}
	for (j = 0; j < o->r[1].nresponders; j++) {
		nex += o->r[1].responders[j].exercise;
		ninact += !o->r[1].responders[j].active;
	}
	assert_true(nex > 0);
	assert_true(ninact > 0);
	assert_true(ninact < o->r[1].nresponders / 10);
}

static void
t_deterministic(void **state)
{
	struct out *o = *state;
	struct genroster_opts opts;
	char *first[3];
	size_t len[3];
	int i;

	genroster_opts_init(&opts);
	opts.villages = 300;
	opts.seed = 5;
	assert_int_equal(gen(o, &opts), 0);
	for (i = 0; i < 3; i++) {
		first[i] = o->buf[i];
		len[i] = o->len[i];
		o->buf[i] = NULL;
	}
	assert_int_equal(gen(o, &opts), 0);
	for (i = 0; i < 3; i++) {
		assert_int_equal(len[i], o->len[i]);
		assert_memory_equal(first[i], o->buf[i], len[i]);
	}
	opts.seed = 6;
	assert_int_equal(gen(o, &opts), 0);
	assert_true(len[1] != o->len[1] ||
	    memcmp(first[1], o->buf[1], len[1]) != 0);
	for (i = 0; i < 3; i++)
		free(first[i]);
}

static void
t_roots(void **state)
{
	struct out *o = *state;
	struct genroster_opts opts;

	genroster_opts_init(&opts);
	opts.villages = 700;
	(void)snprintf(opts.root, sizeof(opts.root), "140425000000");
	gen_parse(o, &opts);
	assert_int_equal(o->st.counties, 1);
	assert_int_equal(o->r[0].nregions, 1 + o->st.townships + 700);
	roster_release(&o->r[0]);
	(void)snprintf(opts.root, sizeof(opts.root), "990000000000");
	opts.villages = 9000;
	gen_parse(o, &opts);
	assert_int_equal(o->st.counties, 30);
	assert_int_equal(o->st.villages, 9000);
	assert_int_equal(o->r[0].nregions, 1 + 2 + 30 + o->st.townships +
	    9000);
	(void)snprintf(opts.root, sizeof(opts.root), "140425100000");
	assert_int_equal(gen(o, &opts), ENG_EINVAL);
	genroster_opts_init(&opts);
	opts.responders = 0;
	assert_int_equal(gen(o, &opts), ENG_EINVAL);
	genroster_opts_demo(&opts);
	(void)snprintf(opts.root, sizeof(opts.root), "140500000000");
	assert_int_equal(gen(o, &opts), ENG_EINVAL);
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* config/demo is exactly what ops/make-demo.sh would write now. */
static void
t_demo_committed(void **state)
{
	static const char *const paths[3] = {
		"config/demo/regions.csv", "config/demo/responders.csv",
		"config/demo/devices.csv"
	};
	struct out *o = *state;
	struct genroster_opts opts;
	char *disk;
	size_t len;
	int i;

	genroster_opts_demo(&opts);
	gen_parse(o, &opts);
	for (i = 0; i < 3; i++) {
		disk = slurp(paths[i], &len);
		if (len != o->len[i] || memcmp(disk, o->buf[i], len) != 0)
			fail_msg("%s differs from the generator's output: run "
			    "ops/make-demo.sh bin/gong-genroster", paths[i]);
		free(disk);
	}
	/* Thousands of villages, tens of thousands of responders. */
	assert_int_equal(o->st.villages, GENROSTER_DEMO_VILLAGES);
	assert_true(o->st.responders > 20000);
}

static void
t_demo_codes(void **state)
{
	static const struct {
		const char *code, *name;
	} want[] = {
		{ "140400000000", "长治市" }, { "140403000000", "潞州区" },
		{ "140404000000", "上党区" }, { "140405000000", "屯留区" },
		{ "140406000000", "潞城区" }, { "140423000000", "襄垣县" },
		{ "140425000000", "平顺县" }, { "140426000000", "黎城县" },
		{ "140427000000", "壶关县" }, { "140428000000", "长子县" },
		{ "140429000000", "武乡县" }, { "140430000000", "沁县" },
		{ "140431000000", "沁源县" },
		{ "140471000000", "高新技术产业园区" },
		{ "140425100000", "青羊镇" }, { "140425202000", "虹梯关乡" },
		/* cn-changzhi__village-flash-flood-12digit.xml */
		{ "140425100201", NULL }, { "140425100202", NULL },
	};
	struct out *o = *state;
	struct genroster_opts opts;
	const struct roster_region *g;
	size_t i, ncounty = 0;

	genroster_opts_demo(&opts);
	gen_parse(o, &opts);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		g = find_region(&o->r[0], want[i].code);
		if (g == NULL)
			fail_msg("demo lacks %s", want[i].code);
		if (want[i].name != NULL)
			assert_string_equal(g->name, want[i].name);
	}
	for (i = 0; i < o->r[0].nregions; i++)
		if (region_code_level(o->r[0].regions[i].code) ==
		    REGION_COUNTY)
			ncounty++;
	assert_int_equal(ncounty, 13);
}

/* Ray casting; vertices as lat,lon pairs. */
static int
in_polygon(const double (*v)[2], size_t n, double lat, double lon)
{
	size_t i, j;
	int in = 0;

	for (i = 0, j = n - 1; i < n; j = i++)
		if ((v[i][0] > lat) != (v[j][0] > lat) &&
		    lon < (v[j][1] - v[i][1]) * (lat - v[i][0]) /
		    (v[j][0] - v[i][0]) + v[i][1])
			in = !in;
	return in;
}

static double
km(double lat1, double lon1, double lat2, double lon2)
{
	double r = 6371.0, d2r = M_PI / 180.0;
	double dlat = (lat2 - lat1) * d2r, dlon = (lon2 - lon1) * d2r;
	double a = sin(dlat / 2) * sin(dlat / 2) + cos(lat1 * d2r) *
	    cos(lat2 * d2r) * sin(dlon / 2) * sin(dlon / 2);

	return 2 * r * asin(sqrt(a));
}

/*
 * cn-changzhi__geohazard-polygon-exercise.xml: polygon 平顺县东部山区
 * 36.10,113.40 36.10,113.75 36.35,113.75 36.35,113.40, and a circle
 * 虹梯关乡周边 36.18,113.62 8.5 km.
 */
static void
t_demo_polygon(void **state)
{
	static const double poly[][2] = {
		{ 36.10, 113.40 }, { 36.10, 113.75 }, { 36.35, 113.75 },
		{ 36.35, 113.40 }, { 36.10, 113.40 },
	};
	static const char *const east[] = {
		"140425102", "140425201", "140425202", "140425203",
	};
	struct out *o = *state;
	struct genroster_opts opts;
	size_t i, k, nin = 0, nhong = 0, neast = 0;
	int is_east, inside;

	genroster_opts_demo(&opts);
	gen_parse(o, &opts);
	for (i = 0; i < o->r[0].nregions; i++) {
		const struct roster_region *g = &o->r[0].regions[i];

		if (region_code_level(g->code) != REGION_VILLAGE)
			continue;
		is_east = 0;
		for (k = 0; k < 4; k++)
			if (strncmp(g->code, east[k], 9) == 0)
				is_east = 1;
		inside = in_polygon(poly, 5, g->lat, g->lon);
		if (inside != is_east)
			fail_msg("village %s (%s) at %.5f,%.5f is %s the "
			    "polygon", g->code, g->name, g->lat, g->lon,
			    inside ? "inside" : "outside");
		nin += (size_t)inside;
		neast += (size_t)is_east;
		if (strncmp(g->code, "140425202", 9) == 0) {
			nhong++;
			assert_true(km(36.18, 113.62, g->lat, g->lon) < 8.5);
		}
	}
	assert_int_equal(nin, neast);
	assert_true(nin >= 40);
	assert_true(nhong >= 10);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(t_small_valid),
		T(t_duty_officers),
		T(t_deterministic),
		T(t_roots),
		T(t_demo_committed),
		T(t_demo_codes),
		T(t_demo_polygon),
#undef T
	};

	return cmocka_run_group_tests_name("genroster", tests, NULL, NULL);
}
