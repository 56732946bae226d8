/* SPDX-License-Identifier: MIT */
/* strv_join_shell: the one quoting of words for a remote POSIX shell
 * (ssh hands the remote side a single command line). Each line is read
 * back by real shells, dash and bash, which must see the words as sent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "process.h"
#include "strv.h"

/* What shell reads the words back as: printf '%s\0' WORDS... run by
 * SHELL -c LINE; each word followed by a NUL in *out. */
static char *read_back(const char *shell, char *const *words, size_t *len)
{
	char **v = NULL, *line, *out;
	struct spawn_result res;
	char *err = NULL;

	assert_int_equal(strv_push_many(&v, "printf", "%s\\0", NULL), 0);
	assert_int_equal(strv_extend(&v, words), 0);
	line = strv_join_shell(v);
	assert_non_null(line);
	char *argv[] = { (char *)shell, "-c", line, NULL };
	assert_int_equal(spawn_check(argv, SPAWN_CAPTURE_STDOUT | SPAWN_CAPTURE_STDERR, &res, &err), 0);
	/* printf's output holds NULs: its length is the words' */
	*len = 0;
	for (size_t i = 0; words[i]; i++)
		*len += strlen(words[i]) + 1;
	out = malloc(*len + 1);
	assert_non_null(out);
	memcpy(out, res.out, *len);
	spawn_result_clear(&res);
	strv_free(v);
	free(line);
	return out;
}

static void expect_words(const char *shell, char *const *words)
{
	size_t len, off = 0;
	char *out;

	if (access(shell, X_OK) != 0)
		return;
	out = read_back(shell, words, &len);
	for (size_t i = 0; words[i]; i++) {
		size_t n = strlen(words[i]);
		if (memcmp(out + off, words[i], n + 1) != 0)
			fail_msg("%s read word %zu back otherwise", shell, i);
		off += n + 1;
	}
	free(out);
}

static void test_every_byte(void **state)
{
	char word[2] = { 0, 0 }, all[256];
	char *one[] = { word, NULL };
	char *whole[] = { all, NULL };

	(void)state;
	for (int c = 1; c < 256; c++) {
		word[0] = (char)c;
		expect_words("/bin/sh", one);
		expect_words("/bin/bash", one);
		all[c - 1] = (char)c;
	}
	all[255] = '\0';
	expect_words("/bin/sh", whole);
	expect_words("/bin/bash", whole);
}

static void test_hostile_words(void **state)
{
	char *words[] = { "tank/vm;rm -rf /", "$(id)", "`id`", "'", "''", "'\\''", "\"", "\\", "a\nb", "-o",
			  "--", "~root", "*", "?", "[a]", "a b", "=ls", "x=$HOME", "!1", "#c", "&", "|", ">x",
			  "<x", "{a,b}", "%1", "tank/a@base", "qvm:vm=web1", "", "\t", "\xff\xfe", NULL };

	(void)state;
	expect_words("/bin/sh", words);
	expect_words("/bin/bash", words);
}

/* Plain words stay plain (readable logs); everything else is quoted. */
static void test_spelling(void **state)
{
	char *plain[] = { "zfs", "get", "-H", "tank/vm-1@base", "qvm:vm=web1", NULL };
	char *odd[] = { "=ls", "a b", "", "it's", NULL };
	char *line;

	(void)state;
	line = strv_join_shell(plain);
	assert_string_equal(line, "zfs get -H tank/vm-1@base qvm:vm=web1");
	free(line);
	line = strv_join_shell(odd);
	assert_string_equal(line, "'=ls' 'a b' '' 'it'\\''s'");
	free(line);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_byte),
		cmocka_unit_test(test_hostile_words),
		cmocka_unit_test(test_spelling),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
