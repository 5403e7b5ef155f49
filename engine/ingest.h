/*
 * engine/ingest.h - CAP in: parse, validate, give meaning, store once.
 *
 * One entry point for every way a CAP message arrives (HTTP POST, drop
 * folder, Atom/RSS poll, CLI): the bytes and the source they came from.
 * The message is parsed and validated (cap/), checked against what the
 * source may do, its status and expiry decide whether it is to be
 * broadcast, its area is resolved to regions of the roster, and it is
 * stored whole together with its lineage (Alert -> Update -> Cancel).
 *
 * Identity: (sender, identifier, sent) is unique.  The same message
 * again is answered as a duplicate with the stored alert's id.
 *
 * Thread-safety: one struct ingest per thread (each has its own store
 * connection); ingest_parse, the first half of ingest_cap, needs none
 * and runs on any thread (engine/ingest_pipe.h parses on a worker).
 * Blocking: yes (store writes).
 *
 * ingest_new makes the store's VFS the one that gathers writes
 * (store_vfs_install) for the connections opened from then on.
 */
#ifndef ENGINE_INGEST_H
#define ENGINE_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "engine/diag.h"
#include "engine/err.h"
#include "engine/region.h"

struct ingest;
struct eng_clock;
struct cap_alert;
struct store_alert;

/* A foreign geocode mapped onto a region of the roster. */
struct ingest_geomap {
	const char *value_name;		/* e.g. "UGC", "SAME", "EMMA_ID" */
	const char *value;
	char region[REGION_CODE_SIZE];
};

struct ingest_config {
	const char *db_path;
	const char *root;		/* deployment root region */
	const char *language;		/* "zh-CN" */
	int unknown_colour;		/* enum cap_color for Unknown */
	/* geocode valueNames whose values are division codes (6/9/12
	 * digits), matched case-insensitively; NULL-terminated. */
	const char *const *division_value_names;
	const struct ingest_geomap *geomap;
	size_t ngeomap;
	const struct eng_clock *clock;	/* NULL: system clock */
};

/* Where a message came from, and what that source may do. */
struct ingest_source {
	const char *name;		/* feed name, "api", "cli", ... */
	const char *via;		/* "http", "drop", "poll", "cli" */
	int lenient;			/* rule errors become warnings */
	int cn_profile;			/* colour words, CMA signal codes */
	int require_signature;
	const char *trusted_cert;	/* PEM path, for require_signature */
	size_t max_bytes;		/* 0: CAP default (1 MiB) */
	/* Regions the source may warn (their subtrees); none: any. */
	const char (*regions)[REGION_CODE_SIZE];
	size_t nregions;
	/* Who to name in the audit trail for a message stored (e.g.
	 * "feed:cma"), written in the message's own transaction; NULL: the
	 * caller audits (the HTTP API does, per request). */
	const char *audit_actor;
};

enum ingest_state {
	INGEST_ACTIVE = 1,	/* Actual/Exercise, in force: broadcast */
	INGEST_SUPERSEDED,	/* an Update replaced it */
	INGEST_CANCELLED,	/* a Cancel withdrew it */
	INGEST_EXPIRED,		/* every info expired on arrival */
	INGEST_RECORDED,	/* Test / System / Ack / Error: kept only */
	INGEST_DRAFT,		/* Draft: refused for broadcast, kept */
};

struct ingest_result {
	long long alert_id;
	int duplicate;		/* already stored; nothing else was done */
	enum ingest_state state;
	int broadcast;		/* to be fanned out */
	long long chain_id;	/* id of the first alert of its chain */
	size_t nregions;	/* target regions resolved */
	int area_unmatched;	/* the area matched no region: flagged */
	size_t unknown_refs;	/* references to messages not seen (yet) */
	int colour;		/* enum cap_color of the chosen info */
};

/* "active", "superseded", ... */
const char *ingest_state_name(enum ingest_state s);

/*
 * Open an ingest context on the store at c->db_path.  Copies what it
 * keeps from c.  Returns 0 and *out, or an error with detail in eb.
 */
int ingest_new(const struct ingest_config *c, struct ingest **out,
    struct eng_errbuf *eb);
void ingest_free(struct ingest *ig);

/*
 * Ingest one CAP document of len bytes from src.  Diagnostics (errors,
 * and warnings also on success) go to diags with line and element path.
 *
 * Returns 0 when the message is stored or was already stored
 * (res->duplicate); ENG_EINVAL when it is rejected as invalid;
 * ENG_ETOOBIG over the source's size limit; ENG_EPERM when the source
 * may not send it (signature missing or bad, a region outside the
 * source's regions); ENG_EIO / ENG_ENOMEM on failures of our own (the
 * message is not lost: the caller answers so that the sender retries).
 * eb gets a one-line summary on failure.
 */
int ingest_cap(struct ingest *ig, const struct ingest_source *src,
    const void *buf, size_t len, struct ingest_result *res,
    struct diag_list *diags, struct eng_errbuf *eb);

/*
 * ingest_cap in its two halves, for a caller that parses messages on one
 * thread while it stores others on the ingest's (engine/ingest_pipe.h):
 * ingest_cap(ig, src, buf, len, res, diags, eb) is exactly
 * ingest_parse(src, buf, len, &p, diags, eb) and, when that returned 0,
 * ingest_store(ig, p, res, diags, eb).
 *
 * ingest_parse: parse and validate (cap/), nothing else; needs no
 * struct ingest and no store, so any thread may call it at any time.
 * src, buf and diags are borrowed until ingest_store returns (or
 * ingest_parsed_free).  Returns 0 and *out (owned by the caller), or
 * what ingest_cap returns for a message rejected by its parse (*out
 * NULL).  Blocking: no (CPU only; a signature check reads the trusted
 * certificate file).
 *
 * ingest_store: the rest, on ig's thread, with the same diags list as
 * the parse (its warnings are stored with the message).  Always takes p
 * over (frees it).  Returns as ingest_cap.  ingest_store_keep: the same,
 * but p stays the caller's, for ingest_parsed_free on any thread (the
 * pipe frees on its worker, off the storing thread).
 */
struct ingest_parsed;
int ingest_parse(const struct ingest_source *src, const void *buf,
    size_t len, struct ingest_parsed **out, struct diag_list *diags,
    struct eng_errbuf *eb);
int ingest_store(struct ingest *ig, struct ingest_parsed *p,
    struct ingest_result *res, struct diag_list *diags,
    struct eng_errbuf *eb);
int ingest_store_keep(struct ingest *ig, struct ingest_parsed *p,
    struct ingest_result *res, struct diag_list *diags,
    struct eng_errbuf *eb);
void ingest_parsed_free(struct ingest_parsed *p);

/*
 * Several messages in one durable commit (a drop folder's files, a
 * benchmark): between ingest_batch_begin and ingest_batch_end every
 * ingest_cap is a part of one transaction — a message that fails is
 * undone alone, the others stay — and nothing is durable, nor may be
 * acknowledged to anyone, until ingest_batch_end(commit = 1) returns 0;
 * commit = 0 (or a failed commit) undoes the whole batch.  The store is
 * held for writing meanwhile: keep batches short (tens of messages, no
 * waiting on the network inside).  0 or an error with eb.
 */
int ingest_batch_begin(struct ingest *ig, struct eng_errbuf *eb);
int ingest_batch_end(struct ingest *ig, int commit, struct eng_errbuf *eb);

/*
 * What ingest_cap would make of a message, nothing stored (the dry run
 * of POST /api/v1/plan).  Owned by the caller: ingest_preview_release.
 */
struct ingest_preview {
	/* as ingest_cap would answer; alert_id and duplicate tell that the
	 * message is stored already (it is previewed all the same) */
	struct ingest_result res;
	const char *status, *msg_type;	/* "Actual", "Alert", ... */
	char (*targets)[REGION_CODE_SIZE];	/* resolved, sorted */
	int64_t expires_ms;		/* 0: never */
	int store_broadcast;		/* the stored row's broadcast flag:
					 * active and some region matched */
	/* Update/Cancel: the chain of the first referenced message that
	 * is stored (its reached recipients hear of it), else 0 */
	long long ref_chain_id;
	/* the alert as it would be stored: sender, event, headline, times,
	 * the CAP bytes (borrowed from the buffer given) ... for rendering;
	 * strings are borrowed from the preview; id 0 */
	struct store_alert *alert;
	struct cap_alert *cap_;		/* private: owns alert's strings */
};

/*
 * Parse, validate and understand buf exactly as ingest_cap does (same
 * diagnostics and errors, the same area resolution and source checks),
 * and store nothing.  Lineage is only looked up: a message that a
 * stored Update or Cancel already overtook is not detected here.  buf
 * must outlive out (out->alert->cap points into it).  Returns 0 and
 * fills out, or what ingest_cap returns; out is zeroed on failure.
 * Blocking (store reads).
 */
int ingest_preview(struct ingest *ig, const struct ingest_source *src,
    const void *buf, size_t len, struct ingest_preview *out,
    struct diag_list *diags, struct eng_errbuf *eb);
/* Free what out holds and zero it. */
void ingest_preview_release(struct ingest_preview *out);

#endif /* ENGINE_INGEST_H */
