/*
 * config/genroster.h - a deterministic roster generator for demos and
 * benchmarks: regions.csv, responders.csv and devices.csv under one root.
 *
 * Codes follow the national statistical scheme: within a county, towns
 * (镇) 100-199 and townships (乡) 200-399; within a township, village
 * committees 201, 202, ...  Every level has two duty officers; every
 * village has a loudspeaker and K responders; phones are 100xxxxxxxx,
 * unique, outside every real mobile segment.  The same options always
 * give the same bytes (own PRNG, no locale, no clock).
 *
 * The demo (opts.demo) is 长治市 140400000000 with its real county-level
 * divisions, real township names for 平顺县, and villages placed so that
 * the cap-samples' polygon (平顺县东部山区) covers exactly the villages of
 * 石城镇, 阳高乡, 东寺头乡 and 虹梯关乡.
 *
 * Thread-safe (no shared state); blocking (file I/O).
 */
#ifndef CONFIG_GENROSTER_H
#define CONFIG_GENROSTER_H

#include <stdint.h>
#include <stdio.h>

#include "engine/err.h"
#include "engine/region.h"

#define GENROSTER_DEMO_VILLAGES		3000
#define GENROSTER_DEMO_RESPONDERS	7
#define GENROSTER_DEMO_SEED		20260520

struct genroster_opts {
	unsigned long villages;		/* total villages */
	unsigned responders;		/* per village */
	uint64_t seed;
	char root[REGION_CODE_SIZE];	/* province, city or county */
	int demo;			/* 长治市 demo layout */
};

struct genroster_stats {
	unsigned long regions, responders, devices;
	unsigned long counties, townships, villages;
};

/* Defaults: 1000 villages, 5 responders each, seed 1, root 140400000000. */
void genroster_opts_init(struct genroster_opts *o);
/* The committed demo (config/demo): GENROSTER_DEMO_* and demo = 1. */
void genroster_opts_demo(struct genroster_opts *o);

/*
 * Write the three CSV files (UTF-8, LF, English header) to the streams.
 * Returns 0, ENG_EINVAL (bad options: root not province/city/county,
 * too many villages for the code space, demo root other than 1404) or
 * ENG_EIO (write error), with detail in eb.  stats may be NULL.
 */
int genroster_write(const struct genroster_opts *o, FILE *regions,
    FILE *responders, FILE *devices, struct genroster_stats *stats,
    struct eng_errbuf *eb);

/* genroster_write() into dir/regions.csv, dir/responders.csv and
 * dir/devices.csv (created or truncated; dir must exist). */
int genroster_write_dir(const struct genroster_opts *o, const char *dir,
    struct genroster_stats *stats, struct eng_errbuf *eb);

#endif /* CONFIG_GENROSTER_H */
