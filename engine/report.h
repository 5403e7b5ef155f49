/*
 * engine/report.h - reports of an alert's answers (叫应): per alert, per
 * level and per region, and the list of who has not answered; as JSON
 * (the API, `gong report --json`) and CSV (exports for a spreadsheet).
 *
 * Definitions (issue 5, "Reports"):
 *   targeted     the people who must answer: the rows of table
 *                escalations of the alert (one per alert and person,
 *                written by the escalation thread when the alert's plan
 *                is complete; base_ms = the first send to them).
 *   reached      targeted people with at least one delivery of the
 *                alert in state delivered, or who answered (an answer
 *                proves they were reached).
 *   answered     targeted people with at least one answer row; late
 *                answers count as answered and the person is also
 *                counted as late when every answer of theirs is late.
 *   unanswered   targeted - answered.
 *   unreachable  targeted people without an answer whose escalation
 *                state is unreachable, or who had deliveries of the alert
 *                and every one ended failed, dead or cancelled.  (An
 *                answer proves reach, so it is never both.)
 *   叫应率 (rate)  answered / targeted, rounded half up to 4 decimals
 *                ("0.6667") and as a percentage with 2 ("66.67%"); null
 *                (JSON) or empty (CSV) when nobody is targeted.
 *   time to answer  the first answer's received_ms - base_ms (0 if the
 *                answer is older than base_ms).
 *   p50, p90     nearest-rank percentiles of the times to answer of the
 *                answered people: the value at rank ceil(p/100 * n) of
 *                the n times sorted ascending; in seconds with ms
 *                precision ("12.345"), null/empty when nobody answered.
 * A region's "own" counts are the people of that region; its "subtree"
 * counts those of it and every region below.  Regions are those that
 * have targeted people and all their ancestors down from the deployment
 * root, in tree order (parent before children, codes ascending).
 *
 * CSV: RFC 4180 (fields with comma, quote, CR or LF quoted, quotes
 * doubled; CRLF line ends), UTF-8 with a byte order mark first: Excel
 * as used in China reads UTF-8 CSV as GBK unless it starts with a BOM.
 *
 * Thread-safety: a struct report is used by one thread at a time; the
 * functions keep no state.  Blocking: report_build and report_unanswered_*
 * read the store.
 */
#ifndef ENGINE_REPORT_H
#define ENGINE_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "engine/err.h"
#include "engine/region.h"
#include "engine/strbuf.h"

struct store;

struct report_counts {
	long long targeted, reached, answered, late, unreachable;
	int64_t p50_ms, p90_ms;		/* -1: nobody answered */
};

struct report_region {
	char code[REGION_CODE_SIZE];
	char parent[REGION_CODE_SIZE];	/* "" for none */
	char *name;
	enum region_level level;
	int depth;			/* 0: a top region of the report */
	struct report_counts own, subtree;
};

struct report {
	long long alert_id;
	char *state, *event, *headline;	/* NULL when absent */
	int escalated;
	int64_t generated_ms;
	struct report_counts total;
	struct report_counts levels[REGION_VILLAGE + 1];  /* by level */
	struct report_region *regions;	/* tree order */
	size_t nregions;
};

/*
 * Build the report of alert_id from the store (one read transaction)
 * as of now_ms.  Returns 0 and *out (free with report_free), ENG_ENOENT
 * for an unknown alert, ENG_ENOMEM, ENG_EIO; detail in eb.
 */
int report_build(struct store *s, long long alert_id, int64_t now_ms,
    struct report **out, struct eng_errbuf *eb);
/* NULL is a no-op. */
void report_free(struct report *r);

/* Append the report as one JSON object / as CSV (BOM, header, one row
 * per region with own and subtree counts).  Check b->oom after. */
void report_json(const struct report *r, struct strbuf *b);
void report_csv(const struct report *r, struct strbuf *b);

/*
 * Append the unanswered people of alert_id (limit < 0: all) as JSON
 * {"alert_id","total","offset","limit","unanswered":[...]} or as CSV
 * (BOM, header, one row a person).  ENG_ENOENT for an unknown alert,
 * ENG_ENOMEM (b->oom), ENG_EIO.
 */
int report_unanswered_json(struct store *s, long long alert_id,
    long long limit, long long offset, struct strbuf *b,
    struct eng_errbuf *eb);
int report_unanswered_csv(struct store *s, long long alert_id,
    struct strbuf *b, struct eng_errbuf *eb);

/* Helpers, public for tests and the CLI. */

/* Nearest-rank percentile p (1..100) of n sorted values; -1 if n is 0. */
int64_t report_percentile(const int64_t *sorted, size_t n, unsigned p);
/* The rate num/den as "0.6667" and "66.67%" (both "" when den is 0);
 * buffers of at least 16 bytes. */
void report_rate(long long num, long long den, char *frac, size_t fsize,
    char *pct, size_t psize);
/* ms as seconds "12.345" ("" when ms < 0); a buffer of 32 bytes. */
const char *report_secs(int64_t ms, char *buf, size_t size);
/* One CSV field, quoted when it must be (NULL: empty). */
void report_csv_field(struct strbuf *b, const char *s);
/* A JSON string (NULL: null); invalid UTF-8 becomes U+FFFD. */
void report_json_str(struct strbuf *b, const char *s);

#endif /* ENGINE_REPORT_H */
