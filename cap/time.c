/*
 * cap/time.c - CAP dateTime values.
 */
#include "cap/cap.h"
#include "cap/cap_int.h"
#include "engine/err.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int
digits(const char *s, int n, int *v)
{
	int i, x = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		x = x * 10 + (s[i] - '0');
	}
	*v = x;
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
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

static int
mdays(int y, int m)
{
	static const int md[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
	    31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return md[m - 1];
}

int
cap_time_parse(const char *s, struct cap_time *t, const char **problem)
{
	int y, mo, d, h, mi, sec, oh, om, ms = 0, sign, rv = 0;
	const char *p, *why = NULL;

	t->valid = 0;
	t->has_offset = 0;
	t->offset_min = 0;
	t->ms = 0;
	if (problem != NULL)
		*problem = NULL;
	if (s == NULL || strlen(s) < 19)
		goto bad;
	if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) ||
	    s[7] != '-' || digits(s + 8, 2, &d) || s[10] != 'T' ||
	    digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) ||
	    s[16] != ':' || digits(s + 17, 2, &sec))
		goto bad;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays(y, mo) || h > 23 ||
	    mi > 59 || sec > 59)
		goto bad;
	p = s + 19;
	if (*p == '.') {
		int nd = 0, scale = 100;

		p++;
		while (*p >= '0' && *p <= '9') {
			if (nd < 3) {
				ms += (*p - '0') * scale;
				scale /= 10;
			}
			nd++;
			p++;
		}
		if (nd == 0)
			goto bad;
		why = "fractional seconds are not allowed in CAP 1.2";
		rv = 1;
	}
	if (*p == 'Z') {
		t->has_offset = 1;
		p++;
		why = "the time zone must be given as +hh:mm or -hh:mm, "
		    "not \"Z\"";
		rv = 1;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		if (digits(p + 1, 2, &oh) || p[3] != ':' ||
		    digits(p + 4, 2, &om) || oh > 14 || om > 59)
			goto bad;
		t->has_offset = 1;
		t->offset_min = sign * (oh * 60 + om);
		p += 6;
	} else if (*p == '\0') {
		why = "the time has no time-zone offset (read as UTC)";
		rv = 1;
	}
	if (*p != '\0')
		goto bad;
	t->ms = ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 +
	    sec) - (int64_t)t->offset_min * 60) * 1000 + ms;
	t->valid = 1;
	if (problem != NULL)
		*problem = why;
	return rv;
bad:
	t->has_offset = 0;
	t->offset_min = 0;
	if (problem != NULL)
		*problem = "not a dateTime of the form "
		    "YYYY-MM-DDThh:mm:ss+hh:mm";
	return ENG_EINVAL;
}

void
cap_time_release(struct cap_time *t)
{
	free(t->text);
	memset(t, 0, sizeof(*t));
}
