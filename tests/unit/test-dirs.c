/* SPDX-License-Identifier: MIT */
/* mkdir_p: qvm's state and cache directories, made with their parents. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "dirs.h"

static char *tmp_dir(void)
{
	char tmpl[] = "/tmp/qvm-test-dirs-XXXXXX";
	char *d = mkdtemp(tmpl);

	assert_non_null(d);
	return strdup(d);
}

static void remove_tree(const char *dir)
{
	char *cmd;

	assert_true(asprintf(&cmd, "rm -rf '%s'", dir) > 0);
	assert_int_equal(system(cmd), 0);
	free(cmd);
}

static void test_parents(void **state)
{
	char *top = tmp_dir(), *deep, *slash;
	struct stat st;

	(void)state;
	umask(022);
	assert_true(asprintf(&deep, "%s/a/b/c", top) > 0);
	assert_int_equal(mkdir_p(deep, 0755), 0);
	assert_int_equal(stat(deep, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0755);
	/* there already: nothing to do */
	assert_int_equal(mkdir_p(deep, 0755), 0);
	/* a trailing slash names the same directory */
	assert_true(asprintf(&slash, "%s/a/b/d/", top) > 0);
	assert_int_equal(mkdir_p(slash, 0755), 0);
	slash[strlen(slash) - 1] = '\0';
	assert_int_equal(stat(slash, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	remove_tree(top);
	free(slash);
	free(deep);
	free(top);
}

static void test_not_a_directory(void **state)
{
	char *top = tmp_dir(), *file, *below;
	FILE *f;

	(void)state;
	assert_true(asprintf(&file, "%s/file", top) > 0);
	f = fopen(file, "w");
	assert_non_null(f);
	fclose(f);
	/* the name is taken by a file: not the directory asked for */
	assert_int_equal(mkdir_p(file, 0755), -ENOTDIR);
	/* nor can a directory be made below it */
	assert_true(asprintf(&below, "%s/x", file) > 0);
	assert_int_equal(mkdir_p(below, 0755), -ENOTDIR);
	assert_int_equal(mkdir_p("", 0755), -ENOENT);
	remove_tree(top);
	free(below);
	free(file);
	free(top);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parents),
		cmocka_unit_test(test_not_a_directory),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
