/* SPDX-License-Identifier: MIT */
/* msg_text: untrusted text escaped for the terminal - C0, DEL, C1 in both
 * encodings, bytes that are not UTF-8, bidirectional controls - valid
 * UTF-8 kept, cut whole. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "msgtext.h"

static void shown(const char *in, size_t len, const char *want)
{
	char buf[256];
	char *dup;

	msg_text(buf, sizeof(buf), in, len);
	assert_string_equal(buf, want);
	dup = msg_text_dup(in, len, false);
	assert_non_null(dup);
	assert_string_equal(dup, want);
	free(dup);
}

#define SHOWN(in, want) shown(in, sizeof(in) - 1, want)

static void test_kept(void **state)
{
	(void)state;
	SHOWN("tank/images/web1", "tank/images/web1");
	/* a backslash is text: one stays one */
	SHOWN("a\\b\\x1b", "a\\b\\x1b");
	SHOWN("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xa7", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xa7");
	/* U+00A0, the first character past C1, and U+10FFFF */
	SHOWN("\xc2\xa0|\xf4\x8f\xbf\xbf", "\xc2\xa0|\xf4\x8f\xbf\xbf");
	/* 0x9b inside a valid character (U+201B) is no CSI */
	SHOWN("\xe2\x80\x9b", "\xe2\x80\x9b");
	SHOWN("", "");
}

static void test_c0(void **state)
{
	(void)state;
	SHOWN("tank/images/\033]0;PWNED\a\033[31mweb1", "tank/images/\\x1b]0;PWNED\\x07\\x1b[31mweb1");
	SHOWN("a\nb\tc\rd\x7f", "a\\nb\\tc\\x0dd\\x7f");
	SHOWN("a\0b", "a\\x00b");
}

static void test_c1(void **state)
{
	(void)state;
	/* U+009B CSI, U+009D OSC, U+009C ST as UTF-8 */
	SHOWN("\xc2\x9b" "2J\xc2\x9d" "0;PWN\xc2\x9cweb1", "\\xc2\\x9b2J\\xc2\\x9d0;PWN\\xc2\\x9cweb1");
	SHOWN("\xc2\x80\xc2\x85\xc2\x9f", "\\xc2\\x80\\xc2\\x85\\xc2\\x9f");
	/* raw 8-bit C1: what a terminal not in UTF-8 reads as CSI */
	SHOWN("\x9b" "2J\x80x\x9f", "\\x9b2J\\x80x\\x9f");
}

static void test_bidi(void **state)
{
	(void)state;
	/* U+202E (RLO) makes "web1" read as "1bew" */
	SHOWN("a\xe2\x80\xae" "1bew", "a\\xe2\\x80\\xae1bew");
	SHOWN("\xd8\x9c|\xe2\x80\x8e|\xe2\x80\x8f|\xe2\x80\xaa|\xe2\x81\xa6|\xe2\x81\xa9",
	      "\\xd8\\x9c|\\xe2\\x80\\x8e|\\xe2\\x80\\x8f|\\xe2\\x80\\xaa|\\xe2\\x81\\xa6|\\xe2\\x81\\xa9");
	/* their neighbours are text: U+202F, U+2065 (unassigned), U+206A, U+200D */
	SHOWN("\xe2\x80\xaf|\xe2\x81\xa5|\xe2\x81\xaa|\xe2\x80\x8d", "\xe2\x80\xaf|\xe2\x81\xa5|\xe2\x81\xaa|\xe2\x80\x8d");
}

static void test_not_utf8(void **state)
{
	(void)state;
	/* Latin-1, a lone lead byte, a sequence cut short */
	SHOWN("caf\xe9", "caf\\xe9");
	SHOWN("\xc2", "\\xc2");
	SHOWN("\xc2" "A", "\\xc2A");
	SHOWN("\xe2\x82", "\\xe2\\x82");
	SHOWN("\xe2\x9b" "x", "\\xe2\\x9bx");
	/* overlong forms of CSI and ESC, a surrogate, past U+10FFFF */
	SHOWN("\xc1\x9b", "\\xc1\\x9b");
	SHOWN("\xe0\x82\x9b", "\\xe0\\x82\\x9b");
	SHOWN("\xc0\x9b", "\\xc0\\x9b");
	SHOWN("\xed\xa0\x80", "\\xed\\xa0\\x80");
	SHOWN("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80");
	SHOWN("\xf5\xff\xfe", "\\xf5\\xff\\xfe");
}

static void test_cut(void **state)
{
	char buf[16];

	(void)state;
	/* room for "..." and the NUL kept; a character goes whole */
	msg_text(buf, 8, "\xc3\xa9\xc3\xa9\xc3\xa9", 6);
	assert_string_equal(buf, "\xc3\xa9\xc3\xa9...");
	/* an escape goes whole */
	msg_text(buf, 8, "\033\033", 2);
	assert_string_equal(buf, "\\x1b...");
	msg_text(buf, 10, "\xc2\x9b", 2);
	assert_string_equal(buf, "...");
	msg_text(buf, 3, "abc", 3);
	assert_string_equal(buf, "");
	memset(buf, 'x', sizeof(buf));
	msg_text(buf, 0, "abc", 3);
	assert_int_equal(buf[0], 'x');
	msg_text(buf, 16, "short", 5);
	assert_string_equal(buf, "short");
}

static void test_lines(void **state)
{
	char *s;

	(void)state;
	s = msg_text_dup("one\n  two\033[2J\r", 14, true);
	assert_non_null(s);
	assert_string_equal(s, "one\n  two\\x1b[2J\\x0d");
	free(s);
	s = msg_text_dup("one\ntwo", 7, false);
	assert_non_null(s);
	assert_string_equal(s, "one\\ntwo");
	free(s);
}

static void test_has_control(void **state)
{
	(void)state;
	assert_false(msg_has_control("/var/lib/qvm", 12));
	assert_false(msg_has_control("caf\xc3\xa9 \xc2\xa0 \xe2\x80\x9b", 12));
	/* not UTF-8 but no control: a Latin-1 letter */
	assert_false(msg_has_control("caf\xe9", 4));
	assert_true(msg_has_control("a\033b", 3));
	assert_true(msg_has_control("a\nb", 3));
	assert_true(msg_has_control("a\x7f", 2));
	assert_true(msg_has_control("a\0b", 3));
	assert_true(msg_has_control("/srv/\xc2\x85", 7));
	assert_true(msg_has_control("/srv/\x9b", 6));
	assert_true(msg_has_control("\xe2\x9b" "x", 3));
	assert_true(msg_has_control("a\xe2\x80\xae", 4));
}

/* Every byte value, and random strings: what comes out holds no control
 * and no byte that is not UTF-8, and is its own escape (escaping it
 * again changes nothing: no backslash doubled). */
static void check_clean(const char *in, size_t len)
{
	char *once = msg_text_dup(in, len, false), *twice;

	assert_non_null(once);
	assert_false(msg_has_control(once, strlen(once)));
	twice = msg_text_dup(once, strlen(once), false);
	assert_non_null(twice);
	assert_string_equal(once, twice);
	free(once);
	free(twice);
}

static void test_every_byte(void **state)
{
	uint32_t seed = 12345;

	(void)state;
	for (int b = 0; b < 256; b++) {
		char one[3] = { (char)b, 'x', (char)0xc2 };
		check_clean(one, 1);
		check_clean(one, 3);
		for (int c = 0; c < 256; c++) {
			char two[2] = { (char)b, (char)c };
			check_clean(two, 2);
		}
	}
	for (int n = 0; n < 20000; n++) {
		char s[12];
		size_t len = (size_t)(n % (int)sizeof(s));
		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			/* mostly the bytes UTF-8 is made of */
			s[i] = (char)((seed >> 16) & 1 ? 0x80 | ((seed >> 8) & 0x7f) : (seed >> 8) & 0xff);
		}
		check_clean(s, len);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kept),
		cmocka_unit_test(test_c0),
		cmocka_unit_test(test_c1),
		cmocka_unit_test(test_bidi),
		cmocka_unit_test(test_not_utf8),
		cmocka_unit_test(test_cut),
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_has_control),
		cmocka_unit_test(test_every_byte),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
