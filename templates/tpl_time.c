/*
 * templates/tpl_time.c - times for the localtime filter: UTC
 * milliseconds or RFC 3339 text in, local time in a fixed-offset zone
 * out, with a small strftime-like format of our own (no TZ, no locale,
 * no global state: thread-safe).
 */
#include "templates/tpl_int.h"

#include <stdio.h>
#include <string.h>

static int
digits(const char *s, size_t n, int *v)
{
	size_t i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

/* Days since 1970-01-01 of a civil date (H. Hinnant's algorithm). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	*y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y += *m <= 2;
}

static int
mdays(int64_t y, int m)
{
	static const int md[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
	    31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return md[m - 1];
}

int
ttime_parse(const char *s, size_t n, int64_t *ms)
{
	int y, mo, d, h, mi, sec, oh, om, frac = 0, fd = 0, sign;
	size_t i;

	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\n'))
		n--;
	while (n > 0 && *s == ' ') {
		s++;
		n--;
	}
	if (n == 0)
		return -1;
	/* all digits (optionally signed): milliseconds since the epoch */
	for (i = (s[0] == '-'); i < n && s[i] >= '0' && s[i] <= '9'; i++)
		;
	if (i == n && n > (size_t)(s[0] == '-') && n < 17) {
		int64_t v = 0;

		for (i = (s[0] == '-'); i < n; i++)
			v = v * 10 + (s[i] - '0');
		*ms = s[0] == '-' ? -v : v;
		return 0;
	}
	/* YYYY-MM-DDTHH:MM:SS[.fff](Z|+HH:MM|-HH:MM) */
	if (n < 20 || digits(s, 4, &y) || s[4] != '-' ||
	    digits(s + 5, 2, &mo) || s[7] != '-' || digits(s + 8, 2, &d) ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) ||
	    s[16] != ':' || digits(s + 17, 2, &sec))
		return -1;
	i = 19;
	if (i < n && s[i] == '.') {
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
			if (fd < 3) {
				frac = frac * 10 + (s[i] - '0');
				fd++;
			}
		}
		if (fd == 0)
			return -1;
		while (fd < 3) {
			frac *= 10;
			fd++;
		}
	}
	if (i < n && (s[i] == 'Z' || s[i] == 'z') && i + 1 == n) {
		oh = om = 0;
		sign = 1;
	} else if (i + 6 == n && (s[i] == '+' || s[i] == '-') &&
	    !digits(s + i + 1, 2, &oh) && s[i + 3] == ':' &&
	    !digits(s + i + 4, 2, &om)) {
		sign = s[i] == '-' ? -1 : 1;
	} else
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays(y, mo) || h > 23 ||
	    mi > 59 || sec > 60 || oh > 23 || om > 59)
		return -1;
	*ms = ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec)
	    - sign * (oh * 3600 + om * 60)) * 1000 + frac;
	return 0;
}

const char *
ttime_fmt_check(const char *fmt, size_t len)
{
	size_t i;

	if (len > 256)
		return "format too long";
	for (i = 0; i < len; i++) {
		if (fmt[i] != '%')
			continue;
		if (++i < len && fmt[i] == '-')
			i++;
		if (i >= len)
			return "format ends with '%'";
		if (strchr("YymdeHMSjZzBb%", fmt[i]) == NULL ||
		    fmt[i] == '\0')
			return "unknown conversion in format (use %Y %y %m "
			    "%d %e %H %M %S %j %B %b %Z %z %%, '-' to drop "
			    "the zero padding)";
	}
	return NULL;
}

static int
num(struct tbuf *b, int64_t v, int width, int pad)
{
	char buf[32];

	(void)snprintf(buf, sizeof(buf), pad ? "%0*lld" : "%*lld",
	    pad ? width : 0, (long long)v);
	return tbuf_adds(b, buf);
}

int
ttime_format(struct tbuf *b, int64_t ms, int off_min, const char *zone,
    const char *fmt, size_t len)
{
	static const char *const mon[] = { "January", "February", "March",
	    "April", "May", "June", "July", "August", "September", "October",
	    "November", "December" };
	int64_t secs, days, sod, y;
	int m, d, rv = 0, nopad;
	size_t i;
	char c;

	secs = ms / 1000 - (ms % 1000 < 0) + (int64_t)off_min * 60;
	days = secs / 86400 - (secs % 86400 < 0);
	sod = secs - days * 86400;
	civil_from_days(days, &y, &m, &d);
	if ((rv = tbuf_add(b, "", 0)) != 0)
		return rv;
	for (i = 0; i < len && rv == 0; i++) {
		if (fmt[i] != '%') {
			rv = tbuf_add(b, fmt + i, 1);
			continue;
		}
		nopad = 0;
		if (++i < len && fmt[i] == '-') {
			nopad = 1;
			i++;
		}
		if (i >= len)
			break;
		c = fmt[i];
		switch (c) {
		case 'Y': rv = num(b, y, 4, !nopad); break;
		case 'y': rv = num(b, ((y % 100) + 100) % 100, 2, !nopad);
			break;
		case 'm': rv = num(b, m, 2, !nopad); break;
		case 'd': rv = num(b, d, 2, !nopad); break;
		case 'e': rv = nopad ? num(b, d, 0, 0) : (d < 10 ?
			    tbuf_addc(b, ' ') : 0);
			if (rv == 0 && !nopad)
				rv = num(b, d, 0, 0);
			break;
		case 'H': rv = num(b, sod / 3600, 2, !nopad); break;
		case 'M': rv = num(b, sod / 60 % 60, 2, !nopad); break;
		case 'S': rv = num(b, sod % 60, 2, !nopad); break;
		case 'j': rv = num(b, days - days_from_civil(y, 1, 1) + 1, 3,
			    !nopad);
			break;
		case 'B': rv = tbuf_adds(b, mon[m - 1]); break;
		case 'b': rv = tbuf_add(b, mon[m - 1], 3); break;
		case 'Z': rv = tbuf_adds(b, zone); break;
		case 'z':
			rv = tbuf_addc(b, off_min < 0 ? '-' : '+');
			if (rv == 0)
				rv = num(b, (off_min < 0 ? -off_min : off_min)
				    / 60 * 100 + (off_min < 0 ? -off_min :
				    off_min) % 60, 4, 1);
			break;
		case '%': rv = tbuf_addc(b, '%'); break;
		default:
			/* unchecked format (lenient): copy it */
			rv = tbuf_addc(b, '%');
			if (rv == 0)
				rv = tbuf_add(b, fmt + i, 1);
			break;
		}
	}
	return rv;
}
