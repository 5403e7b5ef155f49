/*
 * engine/roster.h - roster spreadsheets (CSV) into validated rows.
 *
 * Local offices keep their regions, responders and devices in
 * spreadsheets.  This module reads one CSV file (UTF-8 with or without
 * BOM, or GBK/GB18030 as Excel exports Chinese, detected or declared),
 * with CRLF or LF, quoted fields with commas and newlines, and turns it
 * into rows, each checked on its own: malformed codes, invalid phones,
 * unknown kinds or roles, duplicate ids within the file.  Checks that
 * need the store (does the region exist?) are the store's, at import.
 *
 * Every bad row is reported in a struct diag_list with file, line and
 * column; a file with any error yields no rows (all or nothing).
 *
 * Ownership: struct roster owns its rows and strings; roster_release().
 * Thread-safe (no shared state).
 */
#ifndef ENGINE_ROSTER_H
#define ENGINE_ROSTER_H

#include <stddef.h>

#include "engine/diag.h"
#include "engine/region.h"

enum roster_kind {
	ROSTER_REGIONS = 1,
	ROSTER_RESPONDERS = 2,
	ROSTER_DEVICES = 3,
};

enum roster_encoding {
	ROSTER_ENC_AUTO = 0,	/* UTF-8 if it decodes, else GB18030 */
	ROSTER_ENC_UTF8 = 1,
	ROSTER_ENC_GBK = 2,	/* GBK / GB2312 / GB18030 */
};

enum device_kind {
	DEVICE_NONE = 0,
	DEVICE_LOUDSPEAKER = 1,
	DEVICE_SIREN = 2,
	DEVICE_RADIO = 3,
	DEVICE_GROUP_CHAT = 4,
};

/* Hard limits on input (hostile or broken files). */
#define ROSTER_MAX_BYTES	(256u * 1024 * 1024)
#define ROSTER_MAX_FIELD	4096
#define ROSTER_MAX_ROWS		5000000

struct roster_region {
	long line;			/* line of the row's first field */
	char code[REGION_CODE_SIZE];
	char *name;
	char parent[REGION_CODE_SIZE];	/* "" when implied by the code */
	int has_centroid;
	double lat, lon;
};

struct roster_responder {
	long line;
	char *id;
	char *name;
	char region[REGION_CODE_SIZE];
	char *role;		/* canonical English role name */
	char *phone;		/* normalised; NULL if none */
	char *email;		/* NULL if none */
	char *wecom, *dingtalk, *telegram, *wechat; /* NULL if none */
	int active;
	int exercise;		/* exercise participant */
	char *prefer;		/* preferred address kinds, canonical names
				 * in the person's order joined by ','
				 * ("wecom,phone"); NULL if none */
};

struct roster_device {
	long line;
	char *id;
	char region[REGION_CODE_SIZE];
	enum device_kind kind;
	char *channel;		/* configured channel name */
	char *address;		/* channel-specific address (topic, mount…) */
};

struct roster {
	enum roster_kind kind;
	char *file;			/* name used in diagnostics */
	struct roster_region *regions;
	size_t nregions;
	struct roster_responder *responders;
	size_t nresponders;
	struct roster_device *devices;
	size_t ndevices;
	struct roster_mem *mem;		/* private: string storage */
};

void roster_init(struct roster *r);
void roster_release(struct roster *r);

/*
 * Parse one CSV file of the given kind from memory.  file names it in
 * diagnostics.  On success returns 0 and fills r (released first).
 * On any bad row returns ENG_EINVAL, r holds no rows, and diags has one
 * error per bad row (file, line, column, reason).  ENG_ETOOBIG for input
 * over ROSTER_MAX_BYTES, ENG_ENOMEM.
 */
int roster_parse(enum roster_kind kind, const char *buf, size_t len,
    const char *file, enum roster_encoding enc, struct roster *r,
    struct diag_list *diags);

/* Read a whole file (bounded by ROSTER_MAX_BYTES) and roster_parse() it. */
int roster_parse_file(enum roster_kind kind, const char *path,
    enum roster_encoding enc, struct roster *r, struct diag_list *diags);

/* "regions", "responders", "devices" <-> kind; 0 if unknown. */
const char *roster_kind_name(enum roster_kind k);
enum roster_kind roster_kind_parse(const char *s);
int roster_encoding_parse(const char *s, enum roster_encoding *out);

/* "loudspeaker", "siren", "radio", "group_chat" <-> kind.  The parser
 * also takes the Chinese aliases (大喇叭, 广播, 喇叭, 警报器, 预警器, 收音机,
 * 调频, 广播电台, 群, 微信群) and is case-insensitive for ASCII. */
const char *device_kind_name(enum device_kind k);
enum device_kind device_kind_parse(const char *s);

/*
 * Canonical English role name (static storage) for a role or one of its
 * aliases: duty_officer (值班员), leader (负责人, 领导), responsible
 * (责任人, 村级责任人), warner (预警员), grid_worker (网格员), info_officer
 * (灾害信息员), deputy (副职, 联络员).  NULL if unknown.
 */
const char *roster_role_parse(const char *s);

/* The Chinese name of a canonical role ("responsible" -> "责任人"), or
 * NULL if it is not one. */
const char *roster_role_zh(const char *role);

/*
 * Address kinds a responder may prefer (the "prefer" column, 偏好渠道 /
 * 首选渠道): the address kinds of channels (channels/channel.h enum
 * chan_addr), with a phone split into SMS and a voice call.
 */
enum roster_pref {
	ROSTER_PREF_NONE = 0,
	ROSTER_PREF_PHONE = 1,	/* SMS: phone, sms, 短信 */
	ROSTER_PREF_VOICE,	/* a call: voice, 电话, 语音 */
	ROSTER_PREF_WECOM,	/* wecom, 企业微信 */
	ROSTER_PREF_DINGTALK,	/* dingtalk, 钉钉 */
	ROSTER_PREF_TELEGRAM,	/* telegram */
	ROSTER_PREF_WECHAT,	/* wechat, 微信 */
	ROSTER_PREF_EMAIL,	/* email, e-mail, 邮件, 邮箱 */
};
#define ROSTER_PREF_COUNT 7	/* kinds, so at most 7 in a list */

/* The canonical name of a kind ("phone", "voice", ...), or NULL. */
const char *roster_pref_name(enum roster_pref p);
/* One word or alias (ASCII case-insensitive, no blanks) to its kind;
 * ROSTER_PREF_NONE if unknown. */
enum roster_pref roster_pref_parse(const char *s, size_t len);

/*
 * A list of preferences as written in a cell ("企业微信、短信",
 * "wecom; sms", "wecom|phone") or as stored ("wecom,phone"): words
 * separated by ',', ';', '|', '、' (and the full-width '，', '；'),
 * blanks around them ignored, empty items skipped, a repeated kind kept
 * once where it first appears.  Fills out (at most ROSTER_PREF_COUNT)
 * in the person's order and returns how many (0 for "" or NULL), or -1
 * on an unknown word, whose start and length in s go to *bad / *badlen
 * (if not NULL).
 */
int roster_prefs_parse(const char *s, enum roster_pref out[ROSTER_PREF_COUNT],
    size_t *bad, size_t *badlen);

/*
 * Normalise a phone number: Chinese mobiles to 11 digits starting with 1
 * (a +86 / 0086 / 86 prefix and blanks or dashes are dropped); anything
 * else must be E.164 ("+" and 8 to 15 digits).  0 or ENG_EINVAL + eb.
 */
int roster_phone_norm(const char *in, char *out, size_t size,
    struct eng_errbuf *eb);

#endif /* ENGINE_ROSTER_H */
