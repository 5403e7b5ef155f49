/*
 * channels/chan_cfg.c - config readers the channel drivers share (see
 * chan_cfg_int.h).
 */
#include "channels/chan_cfg_int.h"
#include "config/cfg.h"
#include "engine/err.h"

#include <stdlib.h>
#include <string.h>

/* The error for byte u of a value under flags, or NULL if it is fine. */
static const char *
bad_byte(unsigned char u, unsigned flags)
{
	if (flags & CHAN_TEXT_DIGITS)
		return u < '0' || u > '9' ? "digits" : NULL;
	if (flags & CHAN_TEXT_ASCII)
		return u < 0x20 || u >= 0x7f ? "printable ASCII" : NULL;
	if (flags & CHAN_TEXT_NOSPACE)
		return u <= 0x20 || u >= 0x7f ?
		    "printable ASCII without spaces" : NULL;
	if (flags & CHAN_TEXT_NOBLANK)
		return u <= 0x20 || u >= 0x7f ?
		    "printable ASCII without blanks" : NULL;
	return NULL;
}

int
chan_cfg_text(const struct cfg_node *cfg, const char *key, size_t max,
    unsigned flags, char **out, struct diag_list *diags)
{
	const char *s = NULL, *why;
	const unsigned char *u;
	char *copy;

	if (cfg_get_str(cfg, key, &s, diags) != 0 || s == NULL)
		return 0;
	if (s[0] == '\0' || strlen(s) > max)
		return cfg_error(diags, cfg_node_get(cfg, key),
		    "%s must be 1 to %zu %s", key, max,
		    (flags & CHAN_TEXT_CHARS) ? "characters" : "bytes");
	for (u = (const unsigned char *)s; *u != '\0'; u++)
		if ((why = bad_byte(*u, flags)) != NULL)
			return cfg_error(diags, cfg_node_get(cfg, key),
			    "%s must be %s", key, why);
	if ((copy = strdup(s)) == NULL)
		return ENG_ENOMEM;
	free(*out);
	*out = copy;
	return 0;
}

int
chan_cfg_url(const struct cfg_node *cfg, const char *s, unsigned flags,
    struct diag_list *diags)
{
	const struct cfg_node *n = cfg_node_get(cfg, "url");
	const char *host, *spaces;

	if (strncmp(s, "http://", 7) == 0)
		host = s + 7;
	else if (strncmp(s, "https://", 8) == 0)
		host = s + 8;
	else
		return cfg_error(diags, n,
		    "url must start with http:// or https://");
	if (host[0] == '\0' || host[0] == '/' ||
	    ((flags & CHAN_URL_QHOST) && host[0] == '?'))
		return cfg_error(diags, n, "url has no host");
	if ((flags & CHAN_URL_NO_QUERY) &&
	    (strchr(s, '?') != NULL || strchr(s, '#') != NULL))
		return cfg_error(diags, n, "url must not have a query or "
		    "fragment (the driver adds the parameters)");
	spaces = (flags & CHAN_URL_NO_WS) ? "# \t\r\n" : "# ";
	if ((flags & CHAN_URL_NO_FRAGMENT) && strpbrk(s, spaces) != NULL)
		return cfg_error(diags, n, "url must not have a fragment or "
		    "spaces");
	if (strlen(s) > 1024)
		return cfg_error(diags, n, "url is longer than 1024 bytes");
	return 0;
}

void
chan_cfg_strv_free(char **v)
{
	size_t i;

	for (i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

int
chan_cfg_strv(const struct cfg_node *cfg, const char *key, size_t max_n,
    size_t max_len, char ***out, struct diag_list *diags)
{
	const struct cfg_node *seq = NULL, *it;
	const char *s;
	char **v;
	size_t i, n;

	if (cfg_get_section(cfg, key, CFG_SEQ, &seq, diags) != 0 ||
	    seq == NULL)
		return 0;
	n = cfg_node_len(seq);
	if (n == 0 || n > max_n)
		return cfg_error(diags, seq, "%s must list 1 to %zu values",
		    key, max_n);
	if ((v = calloc(n + 1, sizeof(*v))) == NULL)
		return ENG_ENOMEM;
	for (i = 0; i < n; i++) {
		it = cfg_node_at(seq, i);
		if (cfg_as_str(it, &s, diags) != 0)
			continue;
		if (s[0] == '\0' || strlen(s) > max_len) {
			(void)cfg_error(diags, it, "values of %s must be 1 to "
			    "%zu bytes", key, max_len);
			continue;
		}
		if ((v[i] = strdup(s)) == NULL) {
			/* Holes before i: free what is there, one by one. */
			while (n-- > 0)
				free(v[n]);
			free(v);
			return ENG_ENOMEM;
		}
	}
	/* Skipped (bad) items leave holes: close the list up. */
	for (i = n = 0; i < cfg_node_len(seq); i++)
		if (v[i] != NULL)
			v[n++] = v[i];
	v[n] = NULL;
	chan_cfg_strv_free(*out);
	*out = v;
	return 0;
}
