/* SPDX-License-Identifier: MIT */
/* The decisions of the VM jobs in src/vm: the rows of qvm list, what qvm
 * cleanup counts as a leftover and how it removes one, what qvm destroy
 * refuses and removes. libvirt is its test driver (test:///default, in
 * this process: LIBVIRT_DEFAULT_URI). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "destroy.h"
#include "domain.h"
#include "inventory.h"
#include "leftovers.h"
#include "listing.h"
#include "marks.h"
#include "recorder.h"

#define DEAD_RUN "1-00"      /* pid 1 is no qvm: that run is over */

static char state_dir[] = "/tmp/qvm-test-vm-XXXXXX";

static struct volume disk(const char *name, const char *vm, const char *disk_index, const char *state)
{
	return (struct volume){ .name = (char *)name, .kind = (char *)"vm-disk", .vm = (char *)vm,
				.disk = (char *)disk_index, .state = (char *)state, .run = (char *)DEAD_RUN,
				.used = 10, .connect = (char *)"test:///default" };
}

/* STATE_DIR/rel */
static char *path_in_state(const char *rel)
{
	char *path;

	assert_true(asprintf(&path, "%s/%s", state_dir, rel) > 0);
	return path;
}

/* A seed directory NAME, with seed.iso and, when run, .qvm-creating. */
static char *seed_dir(const char *name, const char *run)
{
	char *dir = path_in_state(name), *file;
	FILE *f;

	assert_int_equal(mkdir(dir, 0700), 0);
	for (int i = 0; i < (run ? 2 : 1); i++) {
		assert_true(asprintf(&file, "%s/%s", dir, i ? SEED_CREATING_FILE : "seed.iso") > 0);
		f = fopen(file, "w");
		assert_non_null(f);
		fputs(i ? run : "", f);
		fclose(f);
		free(file);
	}
	return dir;
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static void test_list_rows(void **state)
{
	(void)state;
	struct volume v[] = {
		disk("tank/b-data", "b", "1", "ready"),
		disk("tank/b", "b", NULL, "ready"),
		disk("tank/a", "a", NULL, "creating"),
		disk("tank/bad", "x\x1b[31m", NULL, "ready"),   /* not a name qvm gives */
		{ .name = (char *)"tank/img", .kind = (char *)"image" },
	};
	struct inventory inv = { .v = v, .n = sizeof(v) / sizeof(v[0]) };
	struct vm_row *rows;
	size_t n;

	assert_int_equal(vm_rows_collect(&inv, &rows, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(rows[0].name, "a");
	assert_string_equal(rows[1].name, "b");
	/* the boot disk first, whatever order zfs lists them in */
	assert_ptr_equal(rows[1].boot, &v[1]);
	assert_lines(rows[1].disks, "tank/b", "tank/b-data");
	assert_int_equal(rows[1].used, 20);
	/* no domain: a disk still being made says so */
	assert_string_equal(vm_row_state(&rows[0]), "creating");
	/* libvirt not to be asked: unknown, no error to show */
	vm_rows_ask(rows, n, NULL);
	assert_string_equal(vm_row_state(&rows[1]), "unknown");
	assert_null(rows[1].error);
	vm_rows_free(rows, n);
}

static void test_list_foreign_domain(void **state)
{
	(void)state;
	/* the test driver's domain "test" uses none of VM test's disks */
	struct volume v[] = { disk("tank/test", "test", NULL, "ready") };
	struct inventory inv = { .v = v, .n = 1 };
	struct domains *d = domains_new(true);
	struct vm_row *rows;
	size_t n;

	assert_non_null(d);
	assert_int_equal(vm_rows_collect(&inv, &rows, &n), 0);
	vm_rows_ask(rows, n, d);
	assert_string_equal(vm_row_state(&rows[0]), "undefined");
	assert_string_equal(rows[0].error, "the domain test on test:///default uses none of its disks: not shown");
	vm_rows_free(rows, n);
	domains_free(d);
}

static void test_leftovers(void **state)
{
	(void)state;
	struct volume v[] = {
		disk("tank/w1", "w1", NULL, "creating"),       /* its run is over */
		disk("tank/w2", "w2", NULL, "ready"),          /* complete */
		{ .name = (char *)"tank/img", .kind = (char *)"image", .state = (char *)"creating",
		  .run = (char *)DEAD_RUN },
		{ .name = (char *)"tank/inherited", .state = (char *)"creating" },
	};
	struct inventory inv = { .v = v, .n = sizeof(v) / sizeof(v[0]) };
	char *w1 = seed_dir("w1", DEAD_RUN), *w2 = seed_dir("w2", DEAD_RUN), *w3 = seed_dir("w3", DEAD_RUN);
	char *done = seed_dir("done", NULL), *err = NULL, **lines = NULL, *w2_marker;
	struct report rep = recorder(&lines);
	struct leftovers l;
	size_t i_w2 = 0, i_w3 = 0;

	assert_int_equal(leftovers_find(&l, &inv, state_dir, &err), 0);
	assert_null(err);
	/* the disks, w1's seed joined to its disk; seeds alone after them */
	assert_int_equal(l.n, 4);
	assert_string_equal(l.items[0].dataset, "tank/w1");
	assert_string_equal(l.items[0].seed_dir, w1);
	assert_string_equal(l.items[1].dataset, "tank/img");
	assert_null(l.items[1].seed_dir);
	for (size_t i = 2; i < 4; i++) {
		assert_null(l.items[i].dataset);
		*(strcmp(l.items[i].vm, "w2") == 0 ? &i_w2 : &i_w3) = i;
	}
	assert_string_equal(l.items[i_w2].seed_dir, w2);
	assert_string_equal(l.items[i_w3].seed_dir, w3);
	assert_lines(l.ready_vms, "w2");

	/* the seed of a VM whose disk is complete only loses its marker */
	assert_int_equal(leftover_remove(&l, &l.items[i_w2], NULL, &rep, &err), 0);
	w2_marker = path_in_state("w2/" SEED_CREATING_FILE);
	assert_false(exists(w2_marker));
	assert_true(exists(w2));
	/* a seed alone goes, through the journal */
	assert_int_equal(leftover_remove(&l, &l.items[i_w3], NULL, &rep, &err), 0);
	assert_false(exists(w3));
	char *kept, *rolling, *removed;
	assert_true(asprintf(&kept, "STEP Kept seed directory %s of VM w2 (its disk is complete)", w2) > 0);
	assert_true(asprintf(&rolling, "BEGIN Removing seed directory %s", w3) > 0);
	assert_true(asprintf(&removed, "STEP Removed %s", w3) > 0);
	assert_lines(lines, kept, rolling, "DONE done", removed);
	strv_free(lines);
	lines = NULL;

	leftovers_show(&l, &rep);
	assert_non_null(lines);
	assert_string_equal(lines[0], "STEP Leftovers of interrupted qvm runs:");
	assert_non_null(strstr(lines[1], "STEP   zvol tank/w1 (vm-disk of VM w1) with seed directory "));
	assert_string_equal(lines[2], "STEP     and its domain, if one on test:///default uses it");
	assert_string_equal(lines[3], "STEP   zvol tank/img (image)");
	leftovers_clear(&l);
	strv_free(lines);
	lines = NULL;

	struct inventory none = { 0 };
	assert_int_equal(leftovers_find(&l, &none, "/nonexistent/qvm-state", &err), 0);
	leftovers_show(&l, &rep);
	assert_lines(lines, "STEP No leftovers of interrupted qvm runs found");
	leftovers_clear(&l);
	strv_free(lines);

	char *w1_files[] = { w1, w2, done };
	for (size_t i = 0; i < 3; i++) {
		char *iso, *marker;
		assert_true(asprintf(&iso, "%s/seed.iso", w1_files[i]) > 0);
		assert_true(asprintf(&marker, "%s/" SEED_CREATING_FILE, w1_files[i]) > 0);
		unlink(iso);
		unlink(marker);
		rmdir(w1_files[i]);
		free(iso);
		free(marker);
	}
	free(kept);
	free(rolling);
	free(removed);
	free(w2_marker);
	free(w1);
	free(w2);
	free(w3);
	free(done);
}

static void expect_refusal(const struct inventory *inv, const char *name, int want, const char *text)
{
	struct domains *d = domains_new(false);
	struct destroy_plan p;
	char *err = NULL;

	assert_non_null(d);
	assert_int_equal(destroy_plan_make(&p, name, inv, d, &err), want);
	assert_non_null(err);
	if (!strstr(err, text))
		fail_msg("\"%s\" does not say \"%s\"", err, text);
	destroy_plan_clear(&p);
	domains_free(d);
	free(err);
}

static void test_destroy_refusals(void **state)
{
	(void)state;
	struct volume two[] = { disk("tank/k", "k", NULL, "ready"), disk("tank/k-data", "k", "1", "ready") };
	struct volume theirs[] = { disk("tank/test", "test", NULL, "ready") };
	struct inventory inv_two = { .v = two, .n = 2 }, inv_theirs = { .v = theirs, .n = 1 }, none = { 0 };

	two[1].uuid = (char *)"8f6a0b2e-0000-4000-8000-000000000001";
	expect_refusal(&none, "a/b", -EINVAL, "invalid VM name 'a/b'");
	expect_refusal(&none, "ghost", -ENOENT, "ghost: no VM of that name was made by qvm");
	expect_refusal(&inv_two, "k", -EPERM, "k: its disks belong to more than one domain: tank/k (UUID not "
		       "recorded on test:///default) and tank/k-data (UUID 8f6a0b2e-0000-4000-8000-000000000001 on ");
	expect_refusal(&inv_theirs, "test", -EPERM, "test: domain test on test:///default uses none of qvm's disks");
}

static void test_destroy_seed_alone(void **state)
{
	(void)state;
	char *dir = seed_dir("s1", NULL), *err = NULL, **lines = NULL, *seed_line, *removing;
	struct report rep = recorder(&lines);
	struct domains *d = domains_new(false);
	struct inventory none = { 0 };
	struct destroy_plan p;

	assert_int_equal(destroy_plan_make(&p, "s1", &none, d, &err), 0);
	assert_null(err);
	assert_string_equal(p.seed_dir, dir);
	assert_false(p.domain.defined);
	destroy_plan_show(&p, false, &rep);
	assert_true(asprintf(&seed_line, "STEP   seed directory %s", dir) > 0);
	assert_lines(lines, "STEP VM s1:", seed_line);
	strv_free(lines);
	lines = NULL;
	assert_int_equal(destroy_plan_run(&p, d, false, &rep, &err), 0);
	assert_false(exists(dir));
	assert_true(asprintf(&removing, "BEGIN Removing seed directory %s", dir) > 0);
	assert_lines(lines, removing, "DONE done", "STEP VM s1 destroyed");
	destroy_plan_clear(&p);
	domains_free(d);
	strv_free(lines);
	free(seed_line);
	free(removing);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_rows),
		cmocka_unit_test(test_list_foreign_domain),
		cmocka_unit_test(test_leftovers),
		cmocka_unit_test(test_destroy_refusals),
		cmocka_unit_test(test_destroy_seed_alone),
	};
	int r;

	assert_non_null(mkdtemp(state_dir));
	setenv("QVM_STATE_DIR", state_dir, 1);
	r = cmocka_run_group_tests(tests, NULL, NULL);
	rmdir(state_dir);
	return r;
}
