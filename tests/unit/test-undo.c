/* SPDX-License-Identifier: MIT */
/* The undo journal (undo.c): newest first, unarmed steps skipped, a failing
 * step reported with its remedy while the rest still run, a third signal
 * abandoning what is left; and the seed directory removal it shares with
 * qvm destroy (undo-steps.c). */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "marks.h"
#include "recorder.h"
#include "signals.h"
#include "undo-steps.h"
#include "undo.h"

static char **ran;                  /* the steps run, in order */
static int freed;                   /* data released with free_data */

/* A step's data is its name; a name starting with "fail" fails. */
static int step_run(void *data, char **err)
{
	const char *name = data;

	assert_int_equal(strv_push(&ran, name), 0);
	if (strncmp(name, "fail", 4) == 0) {
		*err = strdup("it refused");
		return -EIO;
	}
	return 0;
}

static void data_free(void *data)
{
	freed++;
	free(data);
}

static void add(struct undo *u, const char *name, int armed)
{
	char *what, *remedy;

	assert_true(asprintf(&what, "thing %s", name) > 0);
	assert_true(asprintf(&remedy, "rm %s", name) > 0);
	assert_int_equal(undo_prepare_free(u, step_run, strdup(name), data_free, what, remedy), 0);
	if (armed)
		undo_arm(u);
}

/* A journal and what its rollback reports, for each test. */
struct fixture {
	struct undo u;
	char **lines;
	struct report rep;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->rep = recorder(&f->lines);
	strv_free(ran);
	ran = NULL;
	freed = 0;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	undo_commit(&f->u);
	strv_free(f->lines);
	free(f);
	return 0;
}

static void test_newest_first_unarmed_skipped(void **state)
{
	struct fixture *f = *state;

	add(&f->u, "a", 1);
	add(&f->u, "b", 1);
	add(&f->u, "c", 0);    /* prepared, its change never made */
	assert_int_equal(undo_rollback(&f->u, &f->rep), 0);
	assert_lines(ran, "b", "a");
	assert_lines(f->lines, "BEGIN Rolling back: removing thing b", "DONE done",
		     "BEGIN Rolling back: removing thing a", "DONE done");
	assert_int_equal(freed, 3);
	assert_int_equal(f->u.n, 0);
	assert_null(f->u.steps);
}

static void test_failure_reported_rest_runs(void **state)
{
	struct fixture *f = *state;

	add(&f->u, "a", 1);
	add(&f->u, "fail", 1);
	add(&f->u, "c", 1);
	assert_int_equal(undo_rollback(&f->u, &f->rep), 1);
	assert_lines(ran, "c", "fail", "a");
	assert_lines(f->lines, "BEGIN Rolling back: removing thing c", "DONE done",
		     "BEGIN Rolling back: removing thing fail",
		     "ERROR rolling back: cannot remove thing fail: it refused",
		     "ERROR rolling back: left behind: thing fail; remove it with: rm fail",
		     "BEGIN Rolling back: removing thing a", "DONE done");
}

/* a failed step that keeps the older ones: they are not run, and said
 * to be left for qvm cleanup; one that succeeds keeps nothing */
static void test_failure_keeps_older(void **state)
{
	struct fixture *f = *state;

	add(&f->u, "a", 1);
	add(&f->u, "b", 1);
	add(&f->u, "fail", 1);
	undo_keep_older(&f->u);
	add(&f->u, "d", 1);
	assert_int_equal(undo_rollback(&f->u, &f->rep), 3);
	assert_lines(ran, "d", "fail");
	assert_lines(f->lines, "BEGIN Rolling back: removing thing d", "DONE done",
		     "BEGIN Rolling back: removing thing fail",
		     "ERROR rolling back: cannot remove thing fail: it refused",
		     "ERROR rolling back: left behind: thing fail; remove it with: rm fail",
		     "ERROR rolling back: left behind: thing b, kept: qvm cleanup finds thing fail through it; "
		     "remove them with: qvm cleanup --yes",
		     "ERROR rolling back: left behind: thing a, kept: qvm cleanup finds thing fail through it; "
		     "remove them with: qvm cleanup --yes");
	strv_free(ran);
	ran = NULL;
	add(&f->u, "a", 1);
	add(&f->u, "b", 1);
	undo_keep_older(&f->u);
	assert_int_equal(undo_rollback(&f->u, &f->rep), 0);
	assert_lines(ran, "b", "a");
}

static void test_commit_runs_nothing(void **state)
{
	struct fixture *f = *state;

	add(&f->u, "a", 1);
	undo_commit(&f->u);
	assert_null(ran);
	assert_int_equal(freed, 1);
}

static void test_prepare_failure_frees_data(void **state)
{
	struct fixture *f = *state;

	/* what could not be allocated: the step is not recorded, its data freed */
	assert_int_equal(undo_prepare_free(&f->u, step_run, strdup("x"), data_free, NULL, strdup("rm x")), -ENOMEM);
	assert_int_equal(freed, 1);
	assert_int_equal(f->u.n, 0);
	/* nor is one whose data could not be */
	assert_int_equal(undo_prepare(&f->u, step_run, NULL, strdup("thing"), strdup("rm")), -ENOMEM);
	assert_int_equal(f->u.n, 0);
}

static char *temp_dir(void)
{
	char *dir = strdup("/tmp/qvm-test-undo-XXXXXX");

	assert_non_null(dir);
	assert_non_null(mkdtemp(dir));
	return dir;
}

static void touch(const char *dir, const char *name)
{
	char *path;
	FILE *f;

	assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	free(path);
}

static void test_seed_dir_remove(void **state)
{
	(void)state;
	char *dir = temp_dir(), *err = NULL, *want;
	struct stat st;

	touch(dir, "seed.iso");
	touch(dir, SEED_CREATING_FILE);
	/* libvirt's console log, virtlogd's rotated ones, qvm ssh's known hosts */
	touch(dir, "console.log");
	touch(dir, "console.log.1");
	touch(dir, "console.log.12");
	touch(dir, "known_hosts");
	assert_int_equal(seed_dir_remove(dir, &err), 0);
	assert_null(err);
	assert_int_equal(lstat(dir, &st), -1);
	/* already gone is fine */
	assert_int_equal(seed_dir_remove(dir, &err), 0);
	/* a file qvm did not put there stays, and so does the directory */
	assert_int_equal(mkdir(dir, 0700), 0);
	touch(dir, "other");
	touch(dir, "console.log.x");
	touch(dir, "console.log");
	assert_int_equal(seed_dir_remove(dir, &err), -ENOTEMPTY);
	assert_true(asprintf(&want, "%s: %s (it holds console.log.x, other)", dir, strerror(ENOTEMPTY)) > 0);
	assert_string_equal(err, want);
	free(want);
	free(err);
	char *other;
	assert_true(asprintf(&other, "%s/console.log", dir) > 0);
	assert_int_equal(access(other, F_OK), -1);
	free(other);
	assert_true(asprintf(&other, "%s/console.log.x", dir) > 0);
	unlink(other);
	free(other);
	assert_true(asprintf(&other, "%s/other", dir) > 0);
	unlink(other);
	rmdir(dir);
	free(other);
	free(dir);
}

static void test_seed_dir_step(void **state)
{
	struct fixture *f = *state;
	char *dir = temp_dir(), *want;
	struct stat st;

	touch(dir, "seed.iso");
	assert_int_equal(undo_prepare_seed_dir(&f->u, dir), 0);
	undo_arm(&f->u);
	assert_int_equal(undo_rollback(&f->u, &f->rep), 0);
	assert_int_equal(lstat(dir, &st), -1);
	assert_true(asprintf(&want, "BEGIN Rolling back: removing seed directory %s", dir) > 0);
	assert_lines(f->lines, want, "DONE done");
	free(want);
	free(dir);
}

/* Last: the signals it raises stay pending for the rest of the process. */
static void test_third_signal_abandons(void **state)
{
	struct fixture *f = *state;

	add(&f->u, "a", 1);
	add(&f->u, "b", 1);
	signals_install();
	for (int i = 0; i < 3; i++)
		raise(SIGINT);
	assert_int_equal(signal_pending(), SIGINT);
	assert_int_equal(undo_rollback(&f->u, &f->rep), 2);
	assert_null(ran);
	assert_lines(f->lines, "ERROR rolling back: stopped by a third signal; left behind: thing b; remove it with: rm b",
		     "ERROR rolling back: stopped by a third signal; left behind: thing a; remove it with: rm a");
	assert_int_equal(freed, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_newest_first_unarmed_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_reported_rest_runs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_keeps_older, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_runs_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prepare_failure_frees_data, setup, teardown),
		cmocka_unit_test(test_seed_dir_remove),
		cmocka_unit_test_setup_teardown(test_seed_dir_step, setup, teardown),
		cmocka_unit_test_setup_teardown(test_third_signal_abandons, setup, teardown),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);

	strv_free(ran);
	return r;
}
