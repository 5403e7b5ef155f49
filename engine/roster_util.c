/*
 * engine/roster_util.c - roster helpers: the string arena, phones,
 * booleans, roles, device kinds and text encodings.
 */
#include "engine/roster.h"
#include "engine/roster_int.h"

#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Strings live in 256 KiB blocks freed together (no per-field malloc). */
#define MEM_BLOCK (256u * 1024)

struct roster_mem {
	struct roster_mem *next;
	size_t used, size;
	char data[];
};

char *
roster_mem_dup(struct roster_mem **m, const char *s, size_t len)
{
	struct roster_mem *b = *m;
	size_t size;
	char *p;

	if (b == NULL || b->size - b->used < len + 1) {
		size = len + 1 > MEM_BLOCK ? len + 1 : MEM_BLOCK;
		if ((b = malloc(sizeof(*b) + size)) == NULL)
			return NULL;
		b->next = *m;
		b->used = 0;
		b->size = size;
		*m = b;
	}
	p = b->data + b->used;
	memcpy(p, s, len);
	p[len] = '\0';
	b->used += len + 1;
	return p;
}

void
roster_mem_free(struct roster_mem *m)
{
	struct roster_mem *next;

	for (; m != NULL; m = next) {
		next = m->next;
		free(m);
	}
}

int
roster_word_eq(const char *s, const char *word)
{
	unsigned char a, b;

	for (;; s++, word++) {
		a = (unsigned char)*s;
		b = (unsigned char)*word;
		if (a >= 'A' && a <= 'Z')
			a = (unsigned char)(a - 'A' + 'a');
		if (b >= 'A' && b <= 'Z')
			b = (unsigned char)(b - 'A' + 'a');
		if (a != b)
			return 0;
		if (a == '\0')
			return 1;
	}
}

int
roster_bool_parse(const char *s, int *out)
{
	static const char *const yes[] = { "yes", "true", "1", "y", "是",
	    "on", NULL };
	static const char *const no[] = { "no", "false", "0", "n", "否",
	    "off", NULL };
	int i;

	for (i = 0; yes[i] != NULL; i++)
		if (roster_word_eq(s, yes[i])) {
			*out = 1;
			return 0;
		}
	for (i = 0; no[i] != NULL; i++)
		if (roster_word_eq(s, no[i])) {
			*out = 0;
			return 0;
		}
	return -1;
}

static const struct {
	const char *alias;
	const char *canon;
} roles[] = {
	{ "duty_officer", "duty_officer" }, { "值班员", "duty_officer" },
	{ "值班人员", "duty_officer" },
	{ "leader", "leader" }, { "负责人", "leader" }, { "领导", "leader" },
	{ "responsible", "responsible" }, { "责任人", "responsible" },
	{ "村级责任人", "responsible" },
	{ "warner", "warner" }, { "预警员", "warner" },
	{ "grid_worker", "grid_worker" }, { "网格员", "grid_worker" },
	{ "info_officer", "info_officer" }, { "灾害信息员", "info_officer" },
	{ "信息员", "info_officer" },
	{ "deputy", "deputy" }, { "副职", "deputy" }, { "联络员", "deputy" },
};

const char *
roster_role_parse(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		if (roster_word_eq(s, roles[i].alias))
			return roles[i].canon;
	return NULL;
}

static const struct {
	const char *role, *zh;
} role_zh[] = {
	{ "duty_officer", "值班员" }, { "leader", "负责人" },
	{ "responsible", "责任人" }, { "warner", "预警员" },
	{ "grid_worker", "网格员" }, { "info_officer", "灾害信息员" },
	{ "deputy", "副职" },
};

const char *
roster_role_zh(const char *role)
{
	size_t i;

	for (i = 0; role != NULL && i < sizeof(role_zh) / sizeof(role_zh[0]);
	    i++)
		if (strcmp(role_zh[i].role, role) == 0)
			return role_zh[i].zh;
	return NULL;
}

static const char *const kind_names[] = {
	NULL, "loudspeaker", "siren", "radio", "group_chat"
};

static const struct {
	const char *alias;
	enum device_kind kind;
} kind_aliases[] = {
	{ "loudspeaker", DEVICE_LOUDSPEAKER }, { "大喇叭", DEVICE_LOUDSPEAKER },
	{ "广播", DEVICE_LOUDSPEAKER }, { "喇叭", DEVICE_LOUDSPEAKER },
	{ "siren", DEVICE_SIREN }, { "警报器", DEVICE_SIREN },
	{ "预警器", DEVICE_SIREN },
	{ "radio", DEVICE_RADIO }, { "收音机", DEVICE_RADIO },
	{ "调频", DEVICE_RADIO }, { "广播电台", DEVICE_RADIO },
	{ "group_chat", DEVICE_GROUP_CHAT },
	{ "group chat", DEVICE_GROUP_CHAT },
	{ "群", DEVICE_GROUP_CHAT }, { "微信群", DEVICE_GROUP_CHAT },
};

const char *
device_kind_name(enum device_kind k)
{
	return k >= DEVICE_LOUDSPEAKER && k <= DEVICE_GROUP_CHAT ?
	    kind_names[k] : NULL;
}

enum device_kind
device_kind_parse(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(kind_aliases) / sizeof(kind_aliases[0]); i++)
		if (roster_word_eq(s, kind_aliases[i].alias))
			return kind_aliases[i].kind;
	return DEVICE_NONE;
}

const char *
roster_kind_name(enum roster_kind k)
{
	switch (k) {
	case ROSTER_REGIONS:
		return "regions";
	case ROSTER_RESPONDERS:
		return "responders";
	case ROSTER_DEVICES:
		return "devices";
	}
	return NULL;
}

enum roster_kind
roster_kind_parse(const char *s)
{
	if (strcmp(s, "regions") == 0)
		return ROSTER_REGIONS;
	if (strcmp(s, "responders") == 0)
		return ROSTER_RESPONDERS;
	if (strcmp(s, "devices") == 0)
		return ROSTER_DEVICES;
	return (enum roster_kind)0;
}

int
roster_encoding_parse(const char *s, enum roster_encoding *out)
{
	if (roster_word_eq(s, "auto"))
		*out = ROSTER_ENC_AUTO;
	else if (roster_word_eq(s, "utf-8") || roster_word_eq(s, "utf8"))
		*out = ROSTER_ENC_UTF8;
	else if (roster_word_eq(s, "gbk") || roster_word_eq(s, "gb18030") ||
	    roster_word_eq(s, "gb2312"))
		*out = ROSTER_ENC_GBK;
	else
		return ENG_EINVAL;
	return 0;
}

static int
isdigitc(char c)
{
	return c >= '0' && c <= '9';
}

int
roster_phone_norm(const char *in, char *out, size_t size,
    struct eng_errbuf *eb)
{
	char d[32];
	size_t n = 0, i, skip = 0;
	int plus = 0;
	const char *p;

	for (p = in; *p != '\0'; p++) {
		if (*p == ' ' || *p == '\t' || *p == '-')
			continue;
		if (*p == '+' && n == 0 && !plus) {
			plus = 1;
			continue;
		}
		if (!isdigitc(*p))
			return eng_error(eb, ENG_EINVAL,
			    "invalid phone '%.40s': only digits, '+', blanks "
			    "and dashes are allowed", in);
		if (n + 1 >= sizeof(d))
			return eng_error(eb, ENG_EINVAL,
			    "invalid phone '%.40s': too many digits", in);
		d[n++] = *p;
	}
	d[n] = '\0';
	if (n == 0)
		return eng_error(eb, ENG_EINVAL, "invalid phone '%.40s': "
		    "no digits", in);
	/* Strip a Chinese country prefix in front of a mobile number. */
	if (plus && n == 13 && d[0] == '8' && d[1] == '6' && d[2] == '1')
		skip = 2;
	else if (!plus && n == 15 && strncmp(d, "00861", 5) == 0)
		skip = 4;
	else if (!plus && n == 13 && strncmp(d, "861", 3) == 0)
		skip = 2;
	if (skip > 0 || (!plus && n == 11 && d[0] == '1')) {
		if (size < 12)
			return eng_error(eb, ENG_ETOOBIG,
			    "phone buffer too small");
		for (i = 0; i < 11; i++)
			out[i] = d[skip + i];
		out[11] = '\0';
		return 0;
	}
	if (!plus && n > 4 && d[0] == '0' && d[1] == '0') {
		/* International 00 prefix: same as '+'. */
		memmove(d, d + 2, n - 1);
		n -= 2;
		plus = 1;
	}
	if (!plus)
		return eng_error(eb, ENG_EINVAL, "invalid phone '%.40s': want "
		    "an 11-digit Chinese mobile starting with 1 or an E.164 "
		    "number (+ and 8 to 15 digits)", in);
	if (n < 8 || n > 15 || d[0] == '0')
		return eng_error(eb, ENG_EINVAL, "invalid phone '%.40s': an "
		    "E.164 number has '+' and 8 to 15 digits, not starting "
		    "with 0", in);
	if (size < n + 2)
		return eng_error(eb, ENG_ETOOBIG, "phone buffer too small");
	out[0] = '+';
	memcpy(out + 1, d, n + 1);
	return 0;
}

int
roster_gb18030_to_utf8(const char *in, size_t len, char **out,
    size_t *outlen, size_t *bad)
{
	iconv_t cd;
	char *buf = NULL, *nb, *ip, *op;
	size_t cap, il, ol, used;
	int rv = 0;

	*out = NULL;
	*outlen = 0;
	*bad = 0;
	if ((cd = iconv_open("UTF-8", "GB18030")) == (iconv_t)-1)
		return errno == ENOMEM ? ENG_ENOMEM : ENG_EINVAL;
	/* Two GB bytes become at most three UTF-8 bytes. */
	cap = len + len / 2 + 16;
	if ((buf = malloc(cap)) == NULL) {
		rv = ENG_ENOMEM;
		goto out;
	}
	ip = (char *)(uintptr_t)in;	/* iconv's API is not const */
	il = len;
	op = buf;
	ol = cap - 1;
	while (il > 0) {
		if (iconv(cd, &ip, &il, &op, &ol) != (size_t)-1)
			break;
		if (errno == E2BIG) {
			used = (size_t)(op - buf);
			cap *= 2;
			if ((nb = realloc(buf, cap)) == NULL) {
				rv = ENG_ENOMEM;
				goto out;
			}
			buf = nb;
			op = buf + used;
			ol = cap - used - 1;
			continue;
		}
		/* EILSEQ or EINVAL (truncated sequence at the end). */
		*bad = (size_t)(ip - in);
		rv = ENG_EINVAL;
		goto out;
	}
	*op = '\0';
	*outlen = (size_t)(op - buf);
	*out = buf;
	buf = NULL;
out:
	free(buf);
	iconv_close(cd);
	return rv;
}
