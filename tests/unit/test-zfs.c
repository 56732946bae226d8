/* SPDX-License-Identifier: MIT */
/* The zfs argument vectors: exactly what qvm runs, and the words it
 * refuses to hand zfs (an option where an operand is meant, a snapshot
 * where a dataset is, a property without a value). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "strv.h"
#include "zfs.h"

/* The builder's result r is 0 and *argv, joined with spaces, expect;
 * *argv freed and NULL again. (A pointer: the call that fills it is an
 * argument of the same call.) */
static void assert_argv(int r, char ***argv, const char *expect)
{
	char *line;

	assert_int_equal(r, 0);
	line = strv_join(*argv, " ");
	assert_non_null(line);
	assert_string_equal(line, expect);
	free(line);
	strv_free(*argv);
	*argv = NULL;
}

static void test_create_and_clone(void **state)
{
	char *const marks[] = { "qvm:kind=image", "qvm:state=incomplete", NULL };
	char *const props[] = { "volblocksize=64K", "compression=zstd", NULL };
	char **argv = NULL;

	(void)state;
	/* an image: its volblocksize and refreservation fixed, then the marks */
	assert_argv(zfs_create_volume_argv("tank/images/debian", 2147483648u, marks, &argv), &argv,
		    "zfs create -V 2147483648 -o volblocksize=16K -o refreservation=none "
		    "-o qvm:kind=image -o qvm:state=incomplete tank/images/debian");
	assert_argv(zfs_create_volume_argv("tank/x", 16384, NULL, &argv), &argv,
		    "zfs create -V 16384 -o volblocksize=16K -o refreservation=none tank/x");
	/* a blank disk: every property the caller's */
	assert_argv(zfs_create_blank_argv("tank/vms/web-data", "10G", props, &argv), &argv,
		    "zfs create -V 10G -o volblocksize=64K -o compression=zstd tank/vms/web-data");
	assert_argv(zfs_create_blank_argv("tank/d", "1M", NULL, &argv), &argv, "zfs create -V 1M tank/d");
	assert_argv(zfs_clone_argv("tank/images/debian@base", "tank/vms/web", marks, &argv), &argv,
		    "zfs clone -o qvm:kind=image -o qvm:state=incomplete tank/images/debian@base tank/vms/web");
	assert_argv(zfs_clone_argv("tank/a@s", "tank/b", NULL, &argv), &argv, "zfs clone tank/a@s tank/b");
}

static void test_small_commands(void **state)
{
	char **argv = NULL;

	(void)state;
	assert_argv(zfs_snapshot_argv("tank/images/debian@base", &argv), &argv,
		    "zfs snapshot tank/images/debian@base");
	assert_argv(zfs_set_argv("tank/vms/web", "qvm:state=ready", &argv), &argv,
		    "zfs set qvm:state=ready tank/vms/web");
	assert_argv(zfs_destroy_argv("tank/vms/web", 0, &argv), &argv, "zfs destroy tank/vms/web");
	assert_argv(zfs_destroy_argv("tank/images/debian", 1, &argv), &argv, "zfs destroy -r tank/images/debian");
	assert_argv(zfs_destroy_argv("tank/images/debian@base", 0, &argv), &argv,
		    "zfs destroy tank/images/debian@base");
}

/* The builder's result r is -EINVAL and *argv untouched. */
static void refused(int r, char ***argv)
{
	assert_int_equal(r, -EINVAL);
	assert_null(*argv);
}

static void test_refusals(void **state)
{
	char *const bad_props[][2] = { { "-r", NULL }, { "novalue", NULL }, { "=x", NULL }, { "", NULL } };
	char *const good[] = { "a=b", NULL };
	char **argv = NULL;

	(void)state;
	/* an operand zfs would take for an option, or empty */
	refused(zfs_create_volume_argv("-rf", 1, NULL, &argv), &argv);
	refused(zfs_create_volume_argv("", 1, NULL, &argv), &argv);
	refused(zfs_create_blank_argv("-V", "1G", NULL, &argv), &argv);
	refused(zfs_create_blank_argv("tank/x", "-1G", NULL, &argv), &argv);
	refused(zfs_create_blank_argv("tank/x", "", NULL, &argv), &argv);
	refused(zfs_clone_argv("-p@x", "tank/b", NULL, &argv), &argv);
	refused(zfs_clone_argv("tank/a@s", "-p", NULL, &argv), &argv);
	refused(zfs_snapshot_argv("-r", &argv), &argv);
	refused(zfs_set_argv("-x", "a=b", &argv), &argv);
	refused(zfs_set_argv("tank/x", "-a=b", &argv), &argv);
	refused(zfs_destroy_argv("-r", 0, &argv), &argv);
	refused(zfs_destroy_argv("", 1, &argv), &argv);

	/* a snapshot where a dataset is meant, or no snapshot at all */
	refused(zfs_create_volume_argv("tank/x@s", 1, NULL, &argv), &argv);
	refused(zfs_create_blank_argv("tank/x@s", "1G", NULL, &argv), &argv);
	refused(zfs_clone_argv("tank/a", "tank/b", NULL, &argv), &argv);
	refused(zfs_clone_argv("tank/a@", "tank/b", NULL, &argv), &argv);
	refused(zfs_clone_argv("@s", "tank/b", NULL, &argv), &argv);
	refused(zfs_clone_argv("tank/a@s", "tank/b@t", NULL, &argv), &argv);
	refused(zfs_snapshot_argv("tank/a", &argv), &argv);

	/* a property without its value, or an option in its place */
	for (size_t i = 0; i < sizeof(bad_props) / sizeof(bad_props[0]); i++) {
		refused(zfs_create_volume_argv("tank/x", 1, bad_props[i], &argv), &argv);
		refused(zfs_create_blank_argv("tank/x", "1G", bad_props[i], &argv), &argv);
		refused(zfs_clone_argv("tank/a@s", "tank/b", bad_props[i], &argv), &argv);
		refused(zfs_set_argv("tank/x", bad_props[i][0], &argv), &argv);
	}
	assert_argv(zfs_set_argv("tank/x", good[0], &argv), &argv, "zfs set a=b tank/x");
}

/* A refused word reaches no zfs: the runner says why, with -EINVAL. */
static void test_refused_not_run(void **state)
{
	char *err = NULL;

	(void)state;
	/* no zfs on this PATH: had it run, the error would be "cannot run" */
	assert_int_equal(setenv("PATH", "/nonexistent", 1), 0);
	assert_int_equal(zfs_destroy("-r", 1, &err), -EINVAL);
	assert_non_null(err);
	assert_non_null(strstr(err, "refused"));
	free(err);
	err = NULL;
	assert_int_equal(zfs_snapshot("tank/a", &err), -EINVAL);
	free(err);
	err = NULL;
	/* and a zfs that is not there: -ECHILD, not -ENOENT (not "no dataset") */
	assert_int_equal(zfs_snapshot("tank/a@s", &err), -ECHILD);
	assert_string_equal(err, "cannot run zfs: not found on PATH or not executable");
	free(err);
	err = NULL;
	/* a destroy's "already gone" does not hide it either */
	assert_int_equal(zfs_destroy("tank/a", 0, &err), -ECHILD);
	assert_string_equal(err, "cannot run zfs: not found on PATH or not executable");
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_and_clone),
		cmocka_unit_test(test_small_commands),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_refused_not_run),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
