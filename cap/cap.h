/*
 * cap/cap.h - CAP (Common Alerting Protocol) 1.0, 1.1 and 1.2: parse,
 * validate, serialise, and the Chinese-profile helpers the engine uses.
 *
 * The model is a tree of plain structs that the engine reads directly.
 * Every string is a NUL-terminated UTF-8 copy owned by the model; an
 * optional element that was absent is NULL (a present but empty element
 * is "").  Lists are (pointer, count) pairs.  Times are kept both as the
 * original text and as UTC milliseconds.
 *
 * Parsing never loads DTDs, external entities or anything from the
 * network; a DOCTYPE or entity declaration, a document over the size
 * limit, nesting deeper than the depth limit and non-XML input are
 * rejected in every mode (struct cap_opts.lenient never relaxes them).
 *
 * Thread-safety: call cap_global_init() once from the main thread before
 * any other cap_ function runs on another thread; after that every
 * function is safe to call concurrently on distinct objects.  Nothing
 * here blocks except on memory allocation (and, for signature checks, on
 * reading the trusted certificate file).
 */
#ifndef CAP_CAP_H
#define CAP_CAP_H

#include <stddef.h>
#include <stdint.h>

struct diag_list;
struct eng_errbuf;

enum cap_version {
	CAP_V_UNKNOWN = 0,	/* no / unrecognised namespace (lenient) */
	CAP_V10 = 10,
	CAP_V11 = 11,
	CAP_V12 = 12,
};

enum cap_status {
	CAP_STATUS_INVALID = 0,
	CAP_STATUS_ACTUAL,
	CAP_STATUS_EXERCISE,
	CAP_STATUS_SYSTEM,
	CAP_STATUS_TEST,
	CAP_STATUS_DRAFT,
};

enum cap_msgtype {
	CAP_MSG_INVALID = 0,
	CAP_MSG_ALERT,
	CAP_MSG_UPDATE,
	CAP_MSG_CANCEL,
	CAP_MSG_ACK,
	CAP_MSG_ERROR,
};

enum cap_scope {
	CAP_SCOPE_INVALID = 0,
	CAP_SCOPE_PUBLIC,
	CAP_SCOPE_RESTRICTED,
	CAP_SCOPE_PRIVATE,
};

enum cap_urgency {
	CAP_URG_INVALID = 0,
	CAP_URG_IMMEDIATE,
	CAP_URG_EXPECTED,
	CAP_URG_FUTURE,
	CAP_URG_PAST,
	CAP_URG_UNKNOWN,
};

enum cap_severity {
	CAP_SEV_INVALID = 0,
	CAP_SEV_EXTREME,
	CAP_SEV_SEVERE,
	CAP_SEV_MODERATE,
	CAP_SEV_MINOR,
	CAP_SEV_UNKNOWN,
};

enum cap_certainty {
	CAP_CERT_INVALID = 0,
	CAP_CERT_OBSERVED,
	CAP_CERT_LIKELY,	/* CAP 1.0 "Very Likely" maps here */
	CAP_CERT_POSSIBLE,
	CAP_CERT_UNLIKELY,
	CAP_CERT_UNKNOWN,
};

/* Chinese warning colour levels (预警等级), ordered by gravity. */
enum cap_color {
	CAP_COLOR_NONE = 0,
	CAP_COLOR_BLUE = 1,	/* 蓝 Minor */
	CAP_COLOR_YELLOW = 2,	/* 黄 Moderate */
	CAP_COLOR_ORANGE = 3,	/* 橙 Severe */
	CAP_COLOR_RED = 4,	/* 红 Extreme */
};

/*
 * A CAP dateTime.  text is the element's text as received (NULL when the
 * element is absent).  ms is UTC milliseconds since the epoch and valid
 * says whether text could be read as a time at all.  A time without an
 * offset (accepted only by lenient sources) is read as UTC and has
 * has_offset == 0; offset_min is the offset given (+08:00 -> 480).
 */
struct cap_time {
	char *text;
	int64_t ms;
	int valid;
	int has_offset;
	int offset_min;
};

/* valueName/value pairs: eventCode, parameter, geocode. */
struct cap_pair {
	char *name;
	char *value;
};

/* One entry of <references>: "sender,identifier,sent". */
struct cap_ref {
	char *sender;
	char *identifier;
	struct cap_time sent;
};

struct cap_point {
	double lat;
	double lon;
};

struct cap_polygon {
	struct cap_point *pts;
	size_t npts;
};

struct cap_circle {
	struct cap_point center;
	double radius_km;
};

struct cap_resource {
	char *desc;		/* resourceDesc */
	char *mime_type;
	int has_size;
	long long size;
	char *uri;
	char *deref_uri;	/* base64 as received */
	char *digest;
};

struct cap_area {
	char *desc;		/* areaDesc */
	struct cap_polygon *polygons;
	size_t npolygons;
	struct cap_circle *circles;
	size_t ncircles;
	struct cap_pair *geocodes;
	size_t ngeocodes;
	int has_altitude;
	double altitude;	/* feet above mean sea level, as in CAP */
	int has_ceiling;
	double ceiling;
};

struct cap_info {
	char *language;		/* NULL when absent: CAP's default "en-US" */
	char **categories;
	size_t ncategories;
	char *event;
	char **response_types;
	size_t nresponse_types;
	enum cap_urgency urgency;
	enum cap_severity severity;
	enum cap_certainty certainty;
	int severity_from_color;	/* severity was a colour word */
	char *audience;
	struct cap_pair *event_codes;
	size_t nevent_codes;
	struct cap_time effective;
	struct cap_time onset;
	struct cap_time expires;
	char *sender_name;
	char *headline;
	char *description;
	char *instruction;
	char *web;
	char *contact;
	struct cap_pair *parameters;
	size_t nparameters;
	struct cap_resource *resources;
	size_t nresources;
	struct cap_area *areas;
	size_t nareas;
};

struct cap_alert {
	enum cap_version version;
	char *identifier;
	char *sender;
	struct cap_time sent;
	enum cap_status status;
	enum cap_msgtype msg_type;
	char *source;
	enum cap_scope scope;
	char *restriction;
	char *addresses;	/* as received: space-separated, quoted */
	char **address_list;	/* addresses split, quotes removed */
	size_t naddresses;
	char **codes;
	size_t ncodes;
	char *note;
	char *references;	/* as received */
	struct cap_ref *refs;	/* references parsed */
	size_t nrefs;
	char *incidents;	/* as received */
	char **incident_list;	/* incidents split, quotes removed */
	size_t nincidents;
	struct cap_info *infos;
	size_t ninfos;
	int has_signature;	/* carries a ds:Signature */
	int signature_verified;	/* and it was checked against the cert */
};

/* Options of one parse; cap_opts_init() sets the defaults. */
struct cap_opts {
	int lenient;		/* rule errors become warnings */
	int cn_profile;		/* accept colour words in <severity> */
	size_t max_bytes;	/* default CAP_DEFAULT_MAX_BYTES */
	int max_depth;		/* element nesting (CAP_DEFAULT_MAX_DEPTH) */
	int require_signature;	/* reject unless signed by trusted_cert */
	const char *trusted_cert;	/* PEM file; borrowed */
	const char *source_name;	/* file name put in every diagnostic */
};

#define CAP_DEFAULT_MAX_BYTES	(1024 * 1024)
#define CAP_DEFAULT_MAX_DEPTH	32

void cap_opts_init(struct cap_opts *o);

/* Initialise / release libxml2 (and xmlsec if used).  Not thread-safe:
 * call from the main thread.  cap_parse() works without them but is then
 * not safe to call from several threads at once. */
int cap_global_init(void);
void cap_global_cleanup(void);

/*
 * Parse and validate one CAP document of len bytes (it need not be
 * NUL-terminated).  Every problem is appended to diags (which must be
 * initialised) as DIAG_ERROR or DIAG_WARNING with its line and element
 * path.  opts may be NULL (defaults, strict).
 *
 * Returns 0 when the document is accepted: no errors (a lenient source
 * gets rule errors as warnings).  *out then owns a new model; free it
 * with cap_alert_free().  Otherwise *out is NULL and the return is
 * ENG_ETOOBIG (over max_bytes), ENG_EPERM (signature required but
 * missing, untrusted or tampered), ENG_EINVAL (any other rejection; the
 * errors are in diags) or ENG_ENOMEM.  eb gets a one-line summary.
 */
int cap_parse(const void *buf, size_t len, const struct cap_opts *opts,
    struct cap_alert **out, struct diag_list *diags, struct eng_errbuf *eb);

/* Free a model and everything it owns; NULL is a no-op. */
void cap_alert_free(struct cap_alert *a);

/*
 * Compare two models field by field (times by UTC ms and offset, not by
 * text nor by whether the offset was explicit; references by their
 * parsed triples; signature flags ignored).
 * Returns 1 when equal, 0 otherwise; when they differ and why is not
 * NULL, a description of the first difference is written there.
 */
int cap_alert_equal(const struct cap_alert *a, const struct cap_alert *b,
    char *why, size_t whysize);

/*
 * Serialise a model as a CAP 1.2 document (UTF-8, with XML declaration).
 * Times are written with their offset (+00:00 when the source gave
 * none).  The result is strictly valid CAP 1.2 when the model came from
 * a strictly valid 1.2 document; what a lenient parse let through (an
 * unclosed polygon, fractional seconds, an enumeration left INVALID,
 * which is omitted) and what CAP 1.0/1.1 allowed (a resource without
 * mimeType) is written as it is, so that parsing it again as the same
 * kind of source gives an equal model.
 * *out gets a malloc'd NUL-terminated buffer of *outlen bytes; the caller
 * frees it with free().  Returns 0, ENG_ENOMEM or ENG_EINVAL (no
 * identifier, sender or sent).
 */
int cap_alert_to_xml(const struct cap_alert *a, char **out, size_t *outlen,
    struct eng_errbuf *eb);

/* Canonical CAP names of the enumerations ("Actual", "Extreme", ...);
 * NULL for the INVALID values.  Static storage. */
const char *cap_status_name(enum cap_status v);
const char *cap_msgtype_name(enum cap_msgtype v);
const char *cap_scope_name(enum cap_scope v);
const char *cap_urgency_name(enum cap_urgency v);
const char *cap_severity_name(enum cap_severity v);
const char *cap_certainty_name(enum cap_certainty v);

/* "blue", "yellow", "orange", "red" or "none"; static storage. */
const char *cap_color_name(enum cap_color c);
/* The Chinese word (蓝色 ...; "" for NONE); static storage, UTF-8. */
const char *cap_color_name_zh(enum cap_color c);

/*
 * Chinese profile: severity -> colour level.  Extreme red, Severe
 * orange, Moderate yellow, Minor blue; Unknown (and INVALID) map to
 * unknown_as, which a deployment configures (CAP_COLOR_NONE: no colour).
 */
enum cap_color cap_severity_color(enum cap_severity s,
    enum cap_color unknown_as);

/*
 * Read a colour word used in <severity> by some Chinese feeds: "Red",
 * "Orange", "Yellow", "Blue" (ASCII case-insensitive) and the Chinese
 * 红色/橙色/黄色/蓝色 (with or without 色).  Returns the severity it
 * stands for, or CAP_SEV_INVALID.
 */
enum cap_severity cap_severity_from_color_word(const char *s);

/*
 * CMA warning-signal code as found in an eventCode value: four digits,
 * two for the hazard type and two for the level, 01 blue .. 04 red.
 * Returns 0 and fills *type (1..99) and *color, or ENG_EINVAL.
 */
int cap_cma_signal_parse(const char *value, int *type, enum cap_color *color);

/*
 * Find the first eventCode of info whose value is a CMA signal code.
 * value_name restricts the search to eventCodes of that valueName
 * (ASCII case-insensitive); NULL accepts any valueName.  Returns 0 and
 * fills *type / *color, or ENG_ENOENT.
 */
int cap_info_cma_signal(const struct cap_info *info, const char *value_name,
    int *type, enum cap_color *color);

/*
 * Pick the info block for a deployment language (NULL: "zh-CN").  The
 * fallback order, first match wins:
 *   1. an info whose language equals lang (case-insensitive);
 *   2. one whose primary subtag equals lang's ("zh" for "zh-CN", so
 *      "zh", "zh-Hans", "zh-TW" all match "zh-CN");
 *   3. one in CAP's default language: language absent, "en-US" or "en";
 *   4. the first info of the alert.
 * Returns the info (borrowed from a) or NULL when the alert has none.
 */
const struct cap_info *cap_alert_pick_info(const struct cap_alert *a,
    const char *lang);

/* Language of an info, with CAP's default "en-US" when absent. */
const char *cap_info_language(const struct cap_info *info);

/*
 * Parse a CAP dateTime ("2026-07-15T11:30:00+08:00").  Fills t (text is
 * left alone).  Returns 0 for a fully valid CAP 1.2 time, 1 for one that
 * is readable but not CAP 1.2 (no offset, "Z", fractional seconds: see
 * *problem), ENG_EINVAL for text that is not a time.  problem may be
 * NULL; it is set to a static message on a non-zero return.
 */
int cap_time_parse(const char *s, struct cap_time *t, const char **problem);

#endif /* CAP_CAP_H */
