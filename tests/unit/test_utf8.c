/*
 * tests/unit/test_utf8.c - the one strict UTF-8 decoder (engine/utf8.h).
 *
 * Every sequence is copied into a heap block of exactly the bytes the
 * decoder may read, so that ASan (make SAN=1) and valgrind catch a read
 * past n.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "engine/utf8.h"

#define SENTINEL	UINT32_C(0xdeadbeef)

struct fx {
	char *buf;		/* the heap copy of the last sequence */
	uint32_t cp;
};

static int
setup(void **state)
{
	struct fx *f;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return -1;
	f->cp = SENTINEL;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	free(f->buf);
	free(f);
	return 0;
}

/*
 * Decode the first n of the size bytes at s from a heap copy holding
 * exactly size bytes; f->cp is reset to SENTINEL first.
 */
static size_t
dec_in(struct fx *f, const char *s, size_t size, size_t n)
{
	free(f->buf);
	f->buf = malloc(size > 0 ? size : 1);
	assert_non_null(f->buf);
	memcpy(f->buf, s, size);
	f->cp = SENTINEL;
	return utf8_decode(f->buf, n, &f->cp);
}

/* Decode all of the n bytes at s. */
static size_t
dec(struct fx *f, const char *s, size_t n)
{
	return dec_in(f, s, n, n);
}

/* The reference encoder the round trip checks against. */
static size_t
enc(uint32_t cp, unsigned char *o)
{
	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (unsigned char)(0xc0 | (cp >> 6));
		o[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (unsigned char)(0xe0 | (cp >> 12));
		o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (unsigned char)(0xf0 | (cp >> 18));
	o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

#define VALID(f, lit, len, want) do {					\
	assert_int_equal(dec((f), (lit), sizeof(lit) - 1), (len));	\
	assert_int_equal((f)->cp, (want));				\
} while (0)

#define INVALID(f, lit) do {						\
	assert_int_equal(dec((f), (lit), sizeof(lit) - 1), 0);		\
	assert_int_equal((f)->cp, SENTINEL);				\
} while (0)

static void
t_one_byte(void **state)
{
	struct fx *f = *state;

	VALID(f, "\x00", 1, 0x00);
	VALID(f, "A", 1, 0x41);
	VALID(f, "\x7f", 1, 0x7f);
	/* only the first byte counts, whatever follows */
	assert_int_equal(dec(f, "A\xff\x80", 3), 1);
	assert_int_equal(f->cp, 0x41);
	assert_int_equal(dec(f, "z\xe4\xb8\xad", 4), 1);
	assert_int_equal(f->cp, 0x7a);
}

static void
t_two_bytes(void **state)
{
	struct fx *f = *state;

	VALID(f, "\xc2\x80", 2, 0x80);
	VALID(f, "\xc3\xa9", 2, 0xe9);		/* é */
	VALID(f, "\xd0\x96", 2, 0x416);		/* Ж */
	VALID(f, "\xdf\xbf", 2, 0x7ff);
	/* followed by more: still 2 */
	assert_int_equal(dec(f, "\xc3\xa9\xc3\xa9", 4), 2);
	assert_int_equal(f->cp, 0xe9);
}

static void
t_three_bytes(void **state)
{
	struct fx *f = *state;

	VALID(f, "\xe0\xa0\x80", 3, 0x800);
	VALID(f, "\xe0\xbf\xbf", 3, 0xfff);
	VALID(f, "\xe1\x80\x80", 3, 0x1000);
	VALID(f, "\xe4\xb8\xad", 3, 0x4e2d);	/* 中 */
	VALID(f, "\xe7\xba\xa2", 3, 0x7ea2);	/* 红 */
	VALID(f, "\xec\xbf\xbf", 3, 0xcfff);
	VALID(f, "\xed\x80\x80", 3, 0xd000);
	VALID(f, "\xed\x9f\xbf", 3, 0xd7ff);	/* last before surrogates */
	VALID(f, "\xee\x80\x80", 3, 0xe000);	/* first after them */
	VALID(f, "\xef\xbb\xbf", 3, 0xfeff);	/* BOM */
	VALID(f, "\xef\xbf\xbd", 3, 0xfffd);
	VALID(f, "\xef\xbf\xbf", 3, 0xffff);
}

static void
t_four_bytes(void **state)
{
	struct fx *f = *state;

	VALID(f, "\xf0\x90\x80\x80", 4, 0x10000);
	VALID(f, "\xf0\x9f\x93\xa2", 4, 0x1f4e2);	/* loudspeaker */
	VALID(f, "\xf0\xbf\xbf\xbf", 4, 0x3ffff);
	VALID(f, "\xf1\x80\x80\x80", 4, 0x40000);
	VALID(f, "\xf3\xbf\xbf\xbf", 4, 0xfffff);
	VALID(f, "\xf4\x80\x80\x80", 4, 0x100000);
	VALID(f, "\xf4\x8f\xbf\xbf", 4, 0x10ffff);
}

static void
t_null_cp(void **state)
{
	struct fx *f = *state;

	(void)f;
	assert_int_equal(utf8_decode("A", 1, NULL), 1);
	assert_int_equal(utf8_decode("\xc3\xa9", 2, NULL), 2);
	assert_int_equal(utf8_decode("\xe4\xb8\xad", 3, NULL), 3);
	assert_int_equal(utf8_decode("\xf4\x8f\xbf\xbf", 4, NULL), 4);
	assert_int_equal(utf8_decode("\xed\xa0\x80", 3, NULL), 0);
	assert_int_equal(utf8_decode("\xc3", 1, NULL), 0);
}

static void
t_stray_and_bad_leads(void **state)
{
	struct fx *f = *state;

	/* continuation bytes with nothing to continue */
	INVALID(f, "\x80");
	INVALID(f, "\x80\x80");
	INVALID(f, "\xbf\x80\x80\x80");
	/* C0, C1: every sequence they start is overlong */
	INVALID(f, "\xc0\x80");			/* U+0000 overlong */
	INVALID(f, "\xc0\xaf");			/* '/' overlong */
	INVALID(f, "\xc1\xbf");			/* U+007F overlong */
	/* F5..F7 would be above U+10FFFF, F8..FF are not UTF-8 at all */
	INVALID(f, "\xf5\x80\x80\x80");
	INVALID(f, "\xf7\xbf\xbf\xbf");
	INVALID(f, "\xf8\x88\x80\x80\x80");
	INVALID(f, "\xfc\x84\x80\x80\x80\x80");
	INVALID(f, "\xfe");
	INVALID(f, "\xff");
}

static void
t_overlong(void **state)
{
	struct fx *f = *state;

	INVALID(f, "\xe0\x80\x80");		/* U+0000 */
	INVALID(f, "\xe0\x80\xaf");		/* '/' */
	INVALID(f, "\xe0\x9f\xbf");		/* U+07FF */
	INVALID(f, "\xf0\x80\x80\x80");		/* U+0000 */
	INVALID(f, "\xf0\x80\x80\xaf");		/* '/' */
	INVALID(f, "\xf0\x8f\xbf\xbf");		/* U+FFFF */
}

static void
t_surrogates(void **state)
{
	struct fx *f = *state;

	INVALID(f, "\xed\xa0\x80");		/* U+D800 */
	INVALID(f, "\xed\xad\xbf");		/* U+DB7F */
	INVALID(f, "\xed\xb0\x80");		/* U+DC00 */
	INVALID(f, "\xed\xbf\xbf");		/* U+DFFF */
	/* a CESU-8 pair for U+1F4E2 */
	INVALID(f, "\xed\xa0\xbd\xed\xb3\xa2");
}

static void
t_above_max(void **state)
{
	struct fx *f = *state;

	INVALID(f, "\xf4\x90\x80\x80");		/* U+110000 */
	INVALID(f, "\xf4\xbf\xbf\xbf");		/* U+13FFFF */
}

static void
t_bad_continuation(void **state)
{
	struct fx *f = *state;

	INVALID(f, "\xc2\x41");
	INVALID(f, "\xc2\xc2\x80");
	INVALID(f, "\xc2\xff");
	INVALID(f, "\xe1\x41\x80");
	INVALID(f, "\xe1\x80\x41");
	INVALID(f, "\xe1\x80\xc0");
	INVALID(f, "\xf1\x41\x80\x80");
	INVALID(f, "\xf1\x80\x41\x80");
	INVALID(f, "\xf1\x80\x80\x41");
	INVALID(f, "\xf1\x80\x80\xf1");
	/* a NUL where a continuation belongs (C strings) */
	INVALID(f, "\xc3\x00");
	INVALID(f, "\xe4\xb8\x00");
	INVALID(f, "\xf0\x9f\x93\x00");
}

static void
t_truncated(void **state)
{
	struct fx *f = *state;

	/* the buffer ends inside the sequence */
	INVALID(f, "\xc3");
	INVALID(f, "\xe4");
	INVALID(f, "\xe4\xb8");
	INVALID(f, "\xf0");
	INVALID(f, "\xf0\x9f");
	INVALID(f, "\xf0\x9f\x93");
	INVALID(f, "\xf4\x8f\xbf");
	/*
	 * n ends inside a sequence the memory goes on with: still 0, and
	 * nothing read past n (the block holds only n bytes).
	 */
	assert_int_equal(dec_in(f, "\xc3\xa9", 1, 1), 0);
	assert_int_equal(dec_in(f, "\xe4\xb8\xad", 2, 2), 0);
	assert_int_equal(dec_in(f, "\xf0\x9f\x93\xa2", 3, 3), 0);
	assert_int_equal(f->cp, SENTINEL);
	/* n smaller than what the memory holds */
	assert_int_equal(dec_in(f, "\xf0\x9f\x93\xa2", 4, 3), 0);
	assert_int_equal(dec_in(f, "\xf0\x9f\x93\xa2", 4, 1), 0);
	assert_int_equal(dec_in(f, "\xe4\xb8\xad", 3, 2), 0);
	assert_int_equal(f->cp, SENTINEL);
}

static void
t_n_zero_and_early_stop(void **state)
{
	struct fx *f = *state;

	/* n == 0: 0, and s is not read (it points past the block) */
	assert_int_equal(dec_in(f, "A", 1, 1), 1);
	f->cp = SENTINEL;
	assert_int_equal(utf8_decode(f->buf + 1, 0, &f->cp), 0);
	assert_int_equal(f->cp, SENTINEL);
	/*
	 * n larger than the block (a caller that knows a NUL ends its
	 * string): nothing is read past the first byte that is not a
	 * continuation byte, as the header promises.
	 */
	free(f->buf);
	f->buf = malloc(2);
	assert_non_null(f->buf);
	memcpy(f->buf, "\xe4\x00", 2);
	assert_int_equal(utf8_decode(f->buf, 4, &f->cp), 0);
	memcpy(f->buf, "\xf0\x41", 2);
	assert_int_equal(utf8_decode(f->buf, 4, &f->cp), 0);
	assert_int_equal(f->cp, SENTINEL);
}

/* Every code point encoded: the right length and value, or 0 for U+D8xx. */
static void
t_round_trip(void **state)
{
	struct fx *f = *state;
	unsigned char b[4];
	uint32_t c, cp;
	size_t k, got;
	unsigned long ok = 0;

	(void)f;
	for (c = 0; c <= 0x10ffff; c++) {
		k = enc(c, b);
		cp = SENTINEL;
		got = utf8_decode((const char *)b, k, &cp);
		if (c >= 0xd800 && c <= 0xdfff) {
			assert_int_equal(got, 0);
			assert_int_equal(cp, SENTINEL);
			continue;
		}
		assert_int_equal(got, k);
		assert_int_equal(cp, c);
		/* one byte short is never a sequence */
		if (k > 1)
			assert_int_equal(utf8_decode((const char *)b, k - 1,
			    NULL), 0);
		ok++;
	}
	assert_int_equal(ok, 0x110000 - 0x800);
}

/*
 * Every two- and three-byte string with a multi-byte lead, and every
 * four-byte one built of a lead F0..FF and continuation bytes: exactly
 * the encodings of the round trip are accepted.
 */
static void
t_exhaustive(void **state)
{
	struct fx *f = *state;
	unsigned char b[4];
	unsigned a, x, y, z;
	unsigned long n2 = 0, n3 = 0, n4 = 0;
	uint32_t cp;

	(void)f;
	for (a = 0x80; a <= 0xff; a++)
		for (x = 0; x <= 0xff; x++) {
			b[0] = (unsigned char)a;
			b[1] = (unsigned char)x;
			if (utf8_decode((const char *)b, 2, &cp) == 2) {
				assert_true(cp >= 0x80 && cp <= 0x7ff);
				n2++;
			}
		}
	assert_int_equal(n2, 0x800 - 0x80);
	for (a = 0xe0; a <= 0xef; a++)
		for (x = 0; x <= 0xff; x++)
			for (y = 0; y <= 0xff; y++) {
				b[0] = (unsigned char)a;
				b[1] = (unsigned char)x;
				b[2] = (unsigned char)y;
				if (utf8_decode((const char *)b, 3, &cp) == 3) {
					assert_true(cp >= 0x800 &&
					    cp <= 0xffff &&
					    (cp < 0xd800 || cp > 0xdfff));
					n3++;
				}
			}
	assert_int_equal(n3, 0x10000 - 0x800 - 0x800);
	for (a = 0xf0; a <= 0xff; a++)
		for (x = 0x80; x <= 0xbf; x++)
			for (y = 0x80; y <= 0xbf; y++)
				for (z = 0x80; z <= 0xbf; z++) {
					b[0] = (unsigned char)a;
					b[1] = (unsigned char)x;
					b[2] = (unsigned char)y;
					b[3] = (unsigned char)z;
					if (utf8_decode((const char *)b, 4,
					    &cp) == 4) {
						assert_true(cp >= 0x10000 &&
						    cp <= 0x10ffff);
						n4++;
					}
				}
	assert_int_equal(n4, 0x110000 - 0x10000);
}

/* utf8_check() on an exact-size heap copy of the size bytes at s. */
static size_t
check_in(struct fx *f, const char *s, size_t size)
{
	free(f->buf);
	f->buf = malloc(size > 0 ? size : 1);
	assert_non_null(f->buf);
	memcpy(f->buf, s, size);
	return utf8_check(f->buf, size);
}

#define CHECK(f, lit, want)						\
	assert_int_equal(check_in((f), (lit), sizeof(lit) - 1), (want))

static void
t_check_valid(void **state)
{
	struct fx *f = *state;
	char a[40];
	size_t n;

	CHECK(f, "", 0);
	assert_int_equal(utf8_check(f->buf, 0), 0);
	/* ASCII of every length around the eight-byte steps */
	memset(a, 'a', sizeof(a));
	for (n = 0; n <= sizeof(a); n++)
		assert_int_equal(check_in(f, a, n), n);
	/* NUL and DEL are valid; so is every length at its limits */
	CHECK(f, "ab\0cdefghij\0\x7f", 13);
	CHECK(f, "\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf"
	    "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf", 18);
	CHECK(f, "0123456\xe4\xb8\xad\xe6\x96\x87" "abcdefgh"
	    "\xf0\x9f\x98\x80", 25);
}

static void
t_check_first_bad(void **state)
{
	static const char *const bad[] = {
		"\x80", "\xbf", "\xc0\x80", "\xc1\xbf", "\xe0\x9f\xbf",
		"\xed\xa0\x80", "\xf0\x8f\xbf\xbf", "\xf4\x90\x80\x80",
		"\xf5\x80\x80\x80", "\xff", "\xe4\x41\x80", "\xc3(",
	};
	struct fx *f = *state;
	char a[48];
	size_t i, pos, len, k;

	/* each bad sequence at every offset of ASCII text, then more of it
	 * and a second bad byte: the offset of the first one */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		k = strlen(bad[i]);
		for (pos = 0; pos <= 20; pos++) {
			len = pos + k + 9;
			memset(a, 'x', sizeof(a));
			memcpy(a + pos, bad[i], k);
			a[len - 1] = '\xfe';
			assert_int_equal(check_in(f, a, len), pos);
		}
	}
	/* after valid multi-byte text */
	CHECK(f, "\xe4\xb8\xad\xc3\xa9\xf0\x9f\x98\x80"
	    "\xed\x9f\xbf\xed\xa0\x80", 12);
}

static void
t_check_truncated(void **state)
{
	struct fx *f = *state;

	/* a sequence cut short by the end of the buffer is invalid */
	CHECK(f, "\xc3", 0);
	CHECK(f, "\xe4\xb8", 0);
	CHECK(f, "\xf0\x9f\x98", 0);
	CHECK(f, "abcdefgh\xe4\xb8", 8);
	CHECK(f, "abcdefghijklmno\xf0\x9f\x98", 15);
	/* n cuts a sequence that the bytes after n would complete */
	assert_int_equal(check_in(f, "ab\xe4\xb8\xad", 5), 5);
	assert_int_equal(utf8_check(f->buf, 4), 2);
	assert_int_equal(utf8_check(f->buf, 3), 2);
	assert_int_equal(utf8_check(f->buf, 2), 2);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(t_one_byte),
		T(t_two_bytes),
		T(t_three_bytes),
		T(t_four_bytes),
		T(t_null_cp),
		T(t_stray_and_bad_leads),
		T(t_overlong),
		T(t_surrogates),
		T(t_above_max),
		T(t_bad_continuation),
		T(t_truncated),
		T(t_n_zero_and_early_stop),
		T(t_round_trip),
		T(t_exhaustive),
		T(t_check_valid),
		T(t_check_first_bad),
		T(t_check_truncated),
	};

	return cmocka_run_group_tests_name("utf8", tests, NULL, NULL);
}
