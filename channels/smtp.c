/*
 * channels/smtp.c - the "smtp" driver: e-mail through an SMTP relay with
 * libcurl's multi interface.  Config:
 *
 *   - name: mail
 *     type: smtp
 *     url: smtp://mail.example.cn:587   # or smtps://host:465; host[:port]
 *                                       # only (no path, query, user)
 *     from: "平顺县气象台 <warn@example.cn>"  # or a bare address
 *     username: warn@example.cn         # optional; then password or
 *     password_file: smtp.pass          # password_file (first line,
 *                                       # relative to the data directory)
 *     starttls: required   # required | optional | off (default required;
 *                          # with smtps:// TLS is implicit: required only)
 *     ca_file: relay-ca.pem  # CA certificates (PEM) that sign the relay's
 *                          # certificate, for a private CA (default: the
 *                          # system's); the certificate and host name are
 *                          # always verified
 *     concurrency: 4       # messages under way at once, 1..64 (4)
 *     timeout: 30s         # per message, 1s..10m (default 30s)
 *     failover: sms-main   # the engine's (channel.h rules 9, 10, as are
 *                          # rate_limit and rate_count)
 *
 * Credentials never cross a network in clear text: with a username,
 * starttls "off" (and "optional", which sends them in clear when the
 * server offers no STARTTLS) is refused unless the host is 127.0.0.1 or
 * ::1.
 *
 * One message per recipient (a warning shows the person their own
 * greeting and To:, so no Bcc batching).  The message (RFC 5322, CRLF):
 * From (the display name RFC 2047-encoded when it is not ASCII), To,
 * Subject (chan_msg.subject, or the text's first line; always as
 * =?UTF-8?B?...?= words of at most 39 bytes of whole characters, folded,
 * so no line exceeds 76 characters), Date (poll's now_ms, UTC),
 * Message-ID <gong-DELIVERYID@FROMDOMAIN> (rule 6: a retry of a delivery
 * carries the same id, which mail systems de-duplicate), MIME-Version,
 * Content-Type text/plain; charset=UTF-8, Content-Transfer-Encoding
 * base64 (76-character lines), Auto-Submitted: auto-generated.  The body
 * is chan_msg.text with its line ends made CRLF.  Everything that goes
 * into a header has its control characters (CR and LF above all) turned
 * into blanks; a recipient that is not a plain ASCII address (no blanks,
 * controls, <>()[],;:\" or second @, a dotted domain) fails before any
 * connection, so nothing can reach the SMTP commands either.
 *
 * Results (rule 4), from the SMTP reply code (CURLINFO_RESPONSE_CODE and
 * the first reply of 400 or more, whose words become the error): sent
 * (250 after DATA) is CHAN_R_SENT, with the server's last words (its
 * queue id) as gateway id; 4xx anywhere, time-outs, refused or broken
 * connections and answers not understood are CHAN_R_RETRY; 5xx (550 no
 * such user, 553 bad address, 552, 554, a refused sender) and refused
 * authentication (535, or no common AUTH mechanism) are CHAN_R_FAILED, as
 * are a server that offers no STARTTLS when it is required and a TLS
 * certificate that does not verify (configuration, not luck: the engine
 * fails over).
 */
#include "channels/channel.h"
#include "channels/curlq_int.h"
#include "config/cfg.h"
#include "engine/strbuf.h"

#include <curl/curl.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SM_MAX_BATCH	16
#define SM_ADDR_MAX	254	/* RFC 5321 path limit */
#define SM_NAME_MAX	200	/* display name bytes */
#define SM_SUBJECT_MAX	998	/* subject bytes kept */
#define SM_WORD_BYTES	39	/* text bytes per encoded word */
#define SM_REPLY_MAX	400	/* reply bytes kept */

enum { TLS_REQUIRED, TLS_OPTIONAL, TLS_OFF };

/* A mail; cq first (one message; fail: refused before any connection;
 * no response buffer: the replies come through reply_cb). */
struct mail {
	struct curlq_req cq;
	int64_t id;
	char *to;
	char *subject;
	char *text;
	char *data;		/* the whole message */
	size_t data_len, data_off;
	struct curl_slist *rcpt;
	char line[SM_REPLY_MAX];	/* reply line being read */
	size_t line_len;
	char last[SM_REPLY_MAX];	/* the last reply line */
	char first_err[SM_REPLY_MAX];	/* the first reply >= 400 */
};

struct sm_priv {
	/* Dispatcher thread only; first (curlq_chan_poll, _health). */
	struct curlq q;

	/* Config (set by init). */
	char *url;
	char *from_addr;
	char *from_name;	/* cleaned, or NULL */
	const char *domain;	/* in from_addr, after the @ */
	char *username;
	char *password;
	char *ca_file;		/* or NULL: the system's CAs */
	int tls;
	int smtps;
	int64_t concurrency;
	int64_t timeout_ms;
	size_t max_queued;
};

static const struct curlq_ops mq_ops;

static const char *const keys[] = {
	"name", "type", "url", "from", "username", "password",
	"password_file", "starttls", "ca_file", "concurrency", "timeout",
	CHAN_ENGINE_KEYS,	/* the engine's (channel.h rules 9, 10) */
	NULL
};

static const char *const tls_names[] = {
	"required", "optional", "off", NULL
};

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

/* A heap copy of s cleaned for a header (at most max bytes), or NULL. */
static char *
header_text(const char *s, size_t max)
{
	size_t n = strlen(s);
	char *out;

	if (n > max)
		n = max;
	if ((out = malloc(n + 1)) == NULL)
		return NULL;
	curlq_clean_copy(out, n + 1, s);
	/* No blanks at the ends. */
	n = strlen(out);
	while (n > 0 && out[n - 1] == ' ')
		out[--n] = '\0';
	n = strspn(out, " ");
	memmove(out, out + n, strlen(out + n) + 1);
	return out;
}

/* A plain ASCII mailbox: local@domain, 3..254 bytes, no blanks, controls,
 * specials or second @; the domain letters, digits, '-' and dots, with a
 * dot, not at its ends. */
static int
addr_ok(const char *s)
{
	const char *at = strchr(s, '@'), *u, *d;
	size_t n = strlen(s);

	if (n < 3 || n > SM_ADDR_MAX || at == NULL || at == s ||
	    strchr(at + 1, '@') != NULL)
		return 0;
	for (u = s; u < at; u++)
		if ((unsigned char)*u <= 0x20 || (unsigned char)*u >= 0x7f ||
		    strchr("<>()[],;:\\\"", *u) != NULL)
			return 0;
	d = at + 1;
	if (*d == '\0' || *d == '.' || *d == '-' || d[strlen(d) - 1] == '.' ||
	    strchr(d, '.') == NULL || strstr(d, "..") != NULL)
		return 0;
	for (u = d; *u != '\0'; u++)
		if (!((*u >= 'a' && *u <= 'z') || (*u >= 'A' && *u <= 'Z') ||
		    (*u >= '0' && *u <= '9') || *u == '-' || *u == '.'))
			return 0;
	return 1;
}

/* A request, for curlq_ops free too (NULL: nothing). */
static void
mail_free(void *arg)
{
	struct mail *q = arg;

	if (q == NULL)
		return;
	curl_slist_free_all(q->rcpt);
	free(q->to);
	free(q->subject);
	free(q->text);
	free(q->data);
	free(q);
}

static void
free_secret(char **s)
{
	if (*s != NULL)
		explicit_bzero(*s, strlen(*s));
	free(*s);
	*s = NULL;
}

/* ------------------------------------------------------------------ */
/* init                                                                */
/* ------------------------------------------------------------------ */

/*
 * url: smtp:// or smtps://, then host (a name, IPv4 or [IPv6]) and an
 * optional :port, nothing else but an optional "/".  *loopback is set
 * when the host is 127.0.0.1 or ::1.
 */
static int
parse_url(struct sm_priv *p, const struct cfg_node *cfg, const char *s,
    int *loopback, struct diag_list *diags)
{
	const struct cfg_node *n = cfg_node_get(cfg, "url");
	const char *host, *end, *u;
	char h[CFG_HOST_SIZE], *ep;
	size_t hl;
	long v;

	if (strncmp(s, "smtp://", 7) == 0)
		host = s + 7;
	else if (strncmp(s, "smtps://", 8) == 0) {
		host = s + 8;
		p->smtps = 1;
	} else
		return cfg_error(diags, n,
		    "url must start with smtp:// or smtps://");
	if (strlen(s) > 300)
		return cfg_error(diags, n, "url is longer than 300 bytes");
	for (u = s; *u != '\0'; u++)
		if ((unsigned char)*u <= 0x20 || (unsigned char)*u >= 0x7f ||
		    *u == '?' || *u == '#' || *u == '@' || *u == '%')
			return cfg_error(diags, n, "url must not have a query, "
			    "a fragment, user info, escapes, blanks or "
			    "non-ASCII bytes");
	if (host[0] == '[') {
		if ((end = strchr(host, ']')) == NULL)
			return cfg_error(diags, n, "url: unclosed [");
		hl = (size_t)(end - host - 1);
		memcpy(h, host + 1, hl < sizeof(h) ? hl : 0);
		end++;
	} else {
		end = host + strcspn(host, ":/");
		hl = (size_t)(end - host);
		memcpy(h, host, hl < sizeof(h) ? hl : 0);
	}
	if (hl == 0 || hl >= sizeof(h))
		return cfg_error(diags, n, "url has no host");
	h[hl] = '\0';
	if (*end == ':') {
		errno = 0;
		v = strtol(end + 1, &ep, 10);
		if (ep == end + 1 || errno != 0 || v < 1 || v > 65535 ||
		    end[1] < '0' || end[1] > '9')
			return cfg_error(diags, n,
			    "url: the port must be 1 to 65535");
		end = ep;
	}
	if (*end != '\0' && strcmp(end, "/") != 0)
		return cfg_error(diags, n, "url must be smtp://host[:port] "
		    "or smtps://host[:port], without a path");
	*loopback = strcmp(h, "127.0.0.1") == 0 || strcmp(h, "::1") == 0;
	if ((p->url = strdup(s)) == NULL)
		return ENG_ENOMEM;
	return 0;
}

/* from: "Name <addr>" or "addr". */
static int
parse_from(struct sm_priv *p, const struct cfg_node *cfg, const char *s,
    struct diag_list *diags)
{
	const struct cfg_node *n = cfg_node_get(cfg, "from");
	const char *lt = strrchr(s, '<'), *u;
	size_t nl;

	for (u = s; *u != '\0'; u++)
		if ((unsigned char)*u < 0x20 || *u == 0x7f)
			return cfg_error(diags, n, "from must not contain "
			    "control characters (line breaks)");
	if (lt == NULL) {
		if (!addr_ok(s))
			return cfg_error(diags, n, "from: '%s' is not an "
			    "e-mail address", s);
		if ((p->from_addr = strdup(s)) == NULL)
			return ENG_ENOMEM;
	} else {
		nl = strlen(lt + 1);
		if (nl < 2 || lt[nl] != '>')
			return cfg_error(diags, n, "from must be an address "
			    "or 'Name <address>'");
		if ((p->from_addr = strndup(lt + 1, nl - 1)) == NULL)
			return ENG_ENOMEM;
		if (!addr_ok(p->from_addr))
			return cfg_error(diags, n, "from: '%s' is not an "
			    "e-mail address", p->from_addr);
		while (lt > s && lt[-1] == ' ')
			lt--;
		u = s;
		while (u < lt && *u == ' ')
			u++;
		nl = (size_t)(lt - u);
		/* "Name" in quotes: the quotes go (the name is encoded). */
		if (nl >= 2 && u[0] == '"' && u[nl - 1] == '"') {
			u++;
			nl -= 2;
		}
		if (nl > SM_NAME_MAX)
			return cfg_error(diags, n, "from: the name is longer "
			    "than %d bytes", SM_NAME_MAX);
		if (nl > 0 && (p->from_name = strndup(u, nl)) == NULL)
			return ENG_ENOMEM;
	}
	p->domain = strchr(p->from_addr, '@') + 1;
	return 0;
}

static int
sm_init(struct channel *ch, const struct cfg_node *cfg,
    struct diag_list *diags)
{
	struct sm_priv *p = ch->priv;
	const struct cfg_node *pw, *pwf, *tn;
	const char *url = NULL, *from = NULL, *user = NULL, *pass = NULL;
	char *path = NULL;
	size_t n0 = diags->nerrors;
	int rv = 0, loopback = 0, tls = -1;

	p->concurrency = 4;
	p->timeout_ms = 30000;
	p->q.up = 1;
	if (sodium_init() < 0)
		return ENG_ENOMEM;
	(void)cfg_check_keys(cfg, keys, diags);
	(void)cfg_require(cfg, "url", diags);
	(void)cfg_require(cfg, "from", diags);
	if (cfg_get_str(cfg, "url", &url, diags) == 0 && url != NULL &&
	    parse_url(p, cfg, url, &loopback, diags) == ENG_ENOMEM)
		rv = ENG_ENOMEM;
	if (cfg_get_str(cfg, "from", &from, diags) == 0 && from != NULL &&
	    parse_from(p, cfg, from, diags) == ENG_ENOMEM)
		rv = ENG_ENOMEM;

	/* Credentials: username with password or password_file. */
	pw = cfg_node_get(cfg, "password");
	pwf = cfg_node_get(cfg, "password_file");
	if (cfg_get_str(cfg, "username", &user, diags) == 0 && user != NULL) {
		if (user[0] == '\0' || strlen(user) > 256 ||
		    strpbrk(user, "\r\n") != NULL)
			(void)cfg_error(diags, cfg_node_get(cfg, "username"),
			    "username must be 1 to 256 bytes on one line");
		else if ((p->username = strdup(user)) == NULL)
			rv = ENG_ENOMEM;
	}
	if (pw != NULL && pwf != NULL)
		(void)cfg_error(diags, pwf, "give password or password_file, "
		    "not both");
	else if (pw != NULL) {
		if (cfg_get_str(cfg, "password", &pass, diags) == 0 &&
		    pass != NULL) {
			if (pass[0] == '\0' || strlen(pass) > 256)
				(void)cfg_error(diags, pw,
				    "password must be 1 to 256 bytes");
			else if ((p->password = strdup(pass)) == NULL)
				rv = ENG_ENOMEM;
		}
	} else if (pwf != NULL) {
		if (cfg_get_path(cfg, "password_file", ch->env->data_dir,
		    &path, diags) == 0 && path != NULL &&
		    cfg_read_secret_file(pwf, path, "password", 256,
		    &p->password, diags) == ENG_ENOMEM)
			rv = ENG_ENOMEM;
		free(path);
	}
	if (user != NULL && pw == NULL && pwf == NULL)
		(void)cfg_error(diags, cfg, "username needs password or "
		    "password_file");
	if (user == NULL && (pw != NULL || pwf != NULL))
		(void)cfg_error(diags, pw != NULL ? pw : pwf,
		    "a password needs a username");

	/* TLS. */
	tn = cfg_node_get(cfg, "starttls");
	if (cfg_get_enum(cfg, "starttls", tls_names, &tls, diags) == 0) {
		if (tls < 0)
			p->tls = TLS_REQUIRED;
		else if (p->smtps && tls != TLS_REQUIRED)
			(void)cfg_error(diags, tn, "an smtps:// url is TLS "
			    "from the start; '%s' does not apply",
			    tls_names[tls]);
		else
			p->tls = tls;
		if (tls >= 0 && !p->smtps && tls != TLS_REQUIRED &&
		    (user != NULL || pw != NULL || pwf != NULL) && !loopback)
			(void)cfg_error(diags, tn, "'%s' could send the "
			    "password in clear text; use required (or "
			    "smtps://), or a relay on 127.0.0.1 or ::1",
			    tls_names[tls]);
	}
	if (cfg_get_path(cfg, "ca_file", ch->env->data_dir, &p->ca_file,
	    diags) == ENG_ENOMEM)
		rv = ENG_ENOMEM;
	else if (p->ca_file != NULL && access(p->ca_file, R_OK) != 0)
		(void)cfg_error(diags, cfg_node_get(cfg, "ca_file"),
		    "cannot read %s: %s", p->ca_file, strerror(errno));
	(void)cfg_get_int(cfg, "concurrency", 1, 64, &p->concurrency, diags);
	(void)cfg_get_duration_ms(cfg, "timeout", 1000, 600000,
	    &p->timeout_ms, diags);
	p->max_queued = (size_t)(4 * p->concurrency);
	if (p->max_queued < 16)
		p->max_queued = 16;
	if (rv == 0 && diags->nerrors > n0)
		rv = ENG_EINVAL;
	if (rv == 0)
		rv = curlq_init(&p->q, &mq_ops, (size_t)p->concurrency,
		    (long)p->timeout_ms);
	return rv;
}

/* ------------------------------------------------------------------ */
/* send                                                                */
/* ------------------------------------------------------------------ */

/* Queue one message (curlq_send's add). */
static int
add_msg(void *arg, const struct chan_msg *m)
{
	struct sm_priv *p = arg;
	const char *text = m->text != NULL ? m->text : "";
	const char *subj = m->subject;
	struct mail *q;
	size_t nl;
	char first[SM_SUBJECT_MAX + 1];

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return ENG_ENOMEM;
	q->id = m->delivery_id;
	q->cq.n = 1;
	q->cq.ids = &q->id;
	q->cq.deadline_ms = m->deadline_ms;
	if (m->to == NULL || !addr_ok(m->to))
		q->cq.fail = "not a plain e-mail address";
	else if (text[0] == '\0')
		q->cq.fail = "empty message";
	if (q->cq.fail == NULL) {
		if (subj == NULL || subj[0] == '\0') {
			/* No subject: the text's first line. */
			nl = strcspn(text, "\r\n");
			if (nl > 78) {
				nl = 78;
				while (nl > 0 &&
				    ((unsigned char)text[nl] & 0xc0) == 0x80)
					nl--;
			}
			memcpy(first, text, nl);
			first[nl] = '\0';
			subj = first;
		}
		if ((q->to = strdup(m->to)) == NULL ||
		    (q->text = strdup(text)) == NULL ||
		    (q->subject = header_text(subj, SM_SUBJECT_MAX)) ==
		    NULL) {
			mail_free(q);
			return ENG_ENOMEM;
		}
	}
	curlq_push(&p->q, &q->cq);
	return 0;
}

static int
sm_send(struct channel *ch, const struct chan_msg *m, size_t n)
{
	struct sm_priv *p = ch->priv;

	return curlq_send(&p->q, m, n, SM_MAX_BATCH, p->max_queued, add_msg, p);
}

/* ------------------------------------------------------------------ */
/* The message                                                         */
/* ------------------------------------------------------------------ */

static void
b64(struct strbuf *b, const unsigned char *s, size_t n)
{
	char out[SM_WORD_BYTES * 2 + 8];

	(void)sodium_bin2base64(out, sizeof(out), s, n,
	    sodium_base64_VARIANT_ORIGINAL);
	strbuf_addstr(b, out);
}

/*
 * s as RFC 2047 encoded words (=?UTF-8?B?…?=), each of at most
 * SM_WORD_BYTES bytes of whole UTF-8 characters (64 columns), separated
 * by a fold (CRLF and a blank).  *col is the current line's length.
 */
static void
add_words(struct strbuf *b, const char *s, size_t *col)
{
	size_t n = strlen(s), k;
	const unsigned char *u = (const unsigned char *)s;

	while (n > 0) {
		k = n < SM_WORD_BYTES ? n : SM_WORD_BYTES;
		if (k < n) {
			while (k > 0 && (u[k] & 0xc0) == 0x80)
				k--;
			if (k == 0)	/* not UTF-8: cut anywhere */
				k = SM_WORD_BYTES;
		}
		if (*col > 1 && *col + 64 > 76) {
			strbuf_addstr(b, "\r\n ");
			*col = 1;
		} else if (*col > 0 && b->len > 0 && b->p[b->len - 1] != ' ') {
			strbuf_addstr(b, " ");
			(*col)++;
		}
		strbuf_addstr(b, "=?UTF-8?B?");
		b64(b, u, k);
		strbuf_addstr(b, "?=");
		*col += 12 + 4 * ((k + 2) / 3);
		u += k;
		n -= k;
	}
}

/* A display name: a quoted string when it is printable ASCII, else
 * encoded words. */
static void
add_name(struct strbuf *b, const char *name, size_t *col)
{
	const unsigned char *u;
	int ascii = strlen(name) <= 60;

	for (u = (const unsigned char *)name; *u != '\0'; u++)
		if (*u < 0x20 || *u >= 0x7f)
			ascii = 0;
	if (!ascii) {
		add_words(b, name, col);
		return;
	}
	strbuf_addstr(b, "\"");
	for (u = (const unsigned char *)name; *u != '\0'; u++) {
		if (*u == '"' || *u == '\\')
			strbuf_add(b, "\\", 1);
		strbuf_add(b, (const char *)u, 1);
	}
	strbuf_addstr(b, "\"");
	*col += strlen(name) + 2;
}

static const char *const wdays[] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
};
static const char *const months[] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
	"Nov", "Dec"
};

/* The text as base64 lines of 76, its line ends made CRLF first. */
static int
add_body(struct strbuf *b, const char *text)
{
	struct strbuf c = STRBUF_INIT;
	const char *s;
	char out[80];
	size_t i, k;

	for (s = text; *s != '\0'; s++) {
		if (*s == '\r' && s[1] == '\n')
			continue;
		if (*s == '\n' || *s == '\r')
			strbuf_add(&c, "\r\n", 2);
		else
			strbuf_add(&c, s, 1);
	}
	if (c.oom) {
		strbuf_release(&c);
		return ENG_ENOMEM;
	}
	/* 57 bytes make 76 base64 characters. */
	for (i = 0; i < c.len; i += 57) {
		k = c.len - i < 57 ? c.len - i : 57;
		(void)sodium_bin2base64(out, sizeof(out),
		    (const unsigned char *)c.p + i, k,
		    sodium_base64_VARIANT_ORIGINAL);
		strbuf_addstr(b, out);
		strbuf_add(b, "\r\n", 2);
	}
	strbuf_release(&c);
	return 0;
}

static char *
render(const struct sm_priv *p, const struct mail *q, int64_t now_ms)
{
	struct strbuf b = STRBUF_INIT;
	time_t t = (time_t)(now_ms / 1000);
	struct tm tm;
	size_t col;

	if (gmtime_r(&t, &tm) == NULL)
		return NULL;
	strbuf_addstr(&b, "From: ");
	col = 6;
	if (p->from_name != NULL) {
		add_name(&b, p->from_name, &col);
		if (col + 3 + strlen(p->from_addr) > 76) {
			strbuf_addstr(&b, "\r\n");
			col = 0;
		}
		strbuf_addf(&b, " <%s>\r\n", p->from_addr);
	} else
		strbuf_addf(&b, "%s\r\n", p->from_addr);
	strbuf_addf(&b, "To: %s\r\n", q->to);
	strbuf_addstr(&b, "Subject: ");
	col = 9;
	add_words(&b, q->subject, &col);
	strbuf_addf(&b, "\r\nDate: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n",
	    wdays[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	strbuf_addf(&b, "Message-ID: <gong-%lld@%s>\r\n", (long long)q->id,
	    p->domain);
	strbuf_addstr(&b, "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=UTF-8\r\n"
	    "Content-Transfer-Encoding: base64\r\n"
	    "Auto-Submitted: auto-generated\r\n\r\n");
	if (add_body(&b, q->text) != 0 || b.oom) {
		strbuf_release(&b);
		return NULL;
	}
	return b.p;
}

/* ------------------------------------------------------------------ */
/* poll                                                                */
/* ------------------------------------------------------------------ */

static size_t
read_cb(char *buf, size_t size, size_t nmemb, void *arg)
{
	struct mail *q = arg;
	size_t n = size * nmemb, left = q->data_len - q->data_off;

	if (n > left)
		n = left;
	memcpy(buf, q->data + q->data_off, n);
	q->data_off += n;
	return n;
}

/* The server's reply lines (curl passes them as "headers"). */
static size_t
reply_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct mail *q = arg;
	size_t n = size * nmemb, i, room;

	for (i = 0; i < n; i++) {
		if (data[i] != '\n') {
			room = sizeof(q->line) - 1 - q->line_len;
			if (room > 0 && data[i] != '\r')
				q->line[q->line_len++] = data[i];
			continue;
		}
		q->line[q->line_len] = '\0';
		q->line_len = 0;
		curlq_clean_copy(q->last, sizeof(q->last), q->line);
		if (q->first_err[0] == '\0' && q->line[0] >= '4' &&
		    q->line[0] <= '5' && q->line[1] >= '0' &&
		    q->line[1] <= '9' && q->line[2] >= '0' &&
		    q->line[2] <= '9')
			memcpy(q->first_err, q->last, sizeof(q->first_err));
	}
	return n;
}

static int
mq_setup(struct channel *ch, struct curlq_req *cr, int64_t now_ms)
{
	struct sm_priv *p = ch->priv;
	struct mail *q = (struct mail *)(void *)cr;
	struct curl_slist *l;
	char rcpt[SM_ADDR_MAX + 3], from[SM_ADDR_MAX + 3];
	CURL *e = cr->easy;
	long ssl;

	if ((q->data = render(p, q, now_ms)) == NULL)
		return ENG_ENOMEM;
	q->data_len = strlen(q->data);
	(void)snprintf(rcpt, sizeof(rcpt), "<%s>", q->to);
	(void)snprintf(from, sizeof(from), "<%s>", p->from_addr);
	if ((l = curl_slist_append(NULL, rcpt)) == NULL)
		return ENG_ENOMEM;
	q->rcpt = l;
	ssl = p->smtps || p->tls == TLS_REQUIRED ? (long)CURLUSESSL_ALL :
	    p->tls == TLS_OPTIONAL ? (long)CURLUSESSL_TRY :
	    (long)CURLUSESSL_NONE;
	if (curl_easy_setopt(e, CURLOPT_URL, p->url) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_USE_SSL, ssl) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_MAIL_FROM, from) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_MAIL_RCPT, q->rcpt) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_UPLOAD, 1L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_READFUNCTION, read_cb) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_READDATA, q) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE,
	    (curl_off_t)q->data_len) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, reply_cb) !=
	    CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_HEADERDATA, q) != CURLE_OK)
		return ENG_ENOMEM;
	if (p->ca_file != NULL &&
	    curl_easy_setopt(e, CURLOPT_CAINFO, p->ca_file) != CURLE_OK)
		return ENG_ENOMEM;
	if (p->username != NULL &&
	    (curl_easy_setopt(e, CURLOPT_USERNAME, p->username) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_PASSWORD, p->password) != CURLE_OK))
		return ENG_ENOMEM;
	return 0;
}

/* The reply code at the start of s, or 0. */
static long
reply_code(const char *s)
{
	if (s[0] >= '2' && s[0] <= '5' && s[1] >= '0' && s[1] <= '9' &&
	    s[2] >= '0' && s[2] <= '9' && (s[3] == ' ' || s[3] == '-' ||
	    s[3] == '\0'))
		return (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
	return 0;
}

static void
mq_finish(struct channel *ch, struct curlq_req *cr, CURLcode res)
{
	struct sm_priv *p = ch->priv;
	struct mail *q = (struct mail *)(void *)cr;
	char err[SM_REPLY_MAX + CURL_ERROR_SIZE + 8];
	const char *why;
	long code = 0;
	enum chan_result r;

	if (res == CURLE_OK) {
		p->q.up = 1;
		p->q.detail[0] = '\0';
		/* "250 2.0.0 Ok: queued as X": the server's words. */
		curlq_report(ch, q->id, CHAN_R_SENT, NULL, q->last[0] != '\0' ?
		    q->last + (reply_code(q->last) != 0 ? 4 : 0) : NULL, 0);
		return;
	}
	if (q->first_err[0] != '\0')
		code = reply_code(q->first_err);
	else
		(void)curl_easy_getinfo(cr->easy, CURLINFO_RESPONSE_CODE,
		    &code);
	why = cr->errbuf[0] != '\0' ? cr->errbuf : curl_easy_strerror(res);
	if (code >= 400 && q->first_err[0] != '\0')
		(void)snprintf(err, sizeof(err), "%s", q->first_err);
	else if (res == CURLE_USE_SSL_FAILED)
		(void)snprintf(err, sizeof(err), "%s (starttls is required)",
		    why);
	else
		(void)snprintf(err, sizeof(err), "%s", why);
	if (code >= 500 && code <= 599)
		r = CHAN_R_FAILED;
	else if (code >= 400 && code <= 499)
		r = CHAN_R_RETRY;
	else if (res == CURLE_LOGIN_DENIED || res == CURLE_USE_SSL_FAILED ||
	    res == CURLE_PEER_FAILED_VERIFICATION)
		r = CHAN_R_FAILED;	/* configuration, not luck */
	else
		r = CHAN_R_RETRY;	/* time-out, refused, broken */
	/* The server is there when it answered (even with no). */
	p->q.up = code != 0 && code != 421 && res != CURLE_OPERATION_TIMEDOUT;
	curlq_set_detail(&p->q, err);
	curlq_report(ch, q->id, r, err, NULL, 0);
}

/* Up to four rounds a poll, else a wait of at most 5 ms; expired mail
 * RETRY (the engine ends it). */
static const struct curlq_ops mq_ops = {
	.setup = mq_setup, .finish = mq_finish, .free = mail_free,
	.protocols = "smtp,smtps", .expired = CHAN_R_RETRY,
	.flags = CURLQ_CLEAN_DETAIL, .max_wait_ms = 5,
};

/* ------------------------------------------------------------------ */
/* health, shutdown                                                    */
/* ------------------------------------------------------------------ */

static void
sm_shutdown(struct channel *ch)
{
	struct sm_priv *p = ch->priv;

	if (p == NULL)
		return;
	curlq_release(&p->q, ch);
	free_secret(&p->password);
	free(p->username);
	free(p->ca_file);
	p->ca_file = NULL;
	free(p->url);
	free(p->from_addr);
	free(p->from_name);
	p->username = p->url = p->from_addr = p->from_name = NULL;
	p->domain = NULL;
}

const struct channel_ops chan_smtp_ops = {
	.name = "smtp",
	.version = CHANNEL_OPS_V1,
	.priv_size = sizeof(struct sm_priv),
	.caps = CHAN_CAP_PERSON |
	    CHAN_CAP_POLL_WAITS,
	.max_batch = SM_MAX_BATCH,
	.addr = CHAN_ADDR_EMAIL,
	.init = sm_init,
	.send = sm_send,
	.poll = curlq_chan_poll,
	.inbound = NULL,
	.health = curlq_chan_health,
	.shutdown = sm_shutdown,
};
